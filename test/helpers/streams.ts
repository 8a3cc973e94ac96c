// Bodies that never end, for the tests of streaming size caps. A reader whose cap is broken would
// read one forever: pull() answers within microtasks, so not even jest's time-out fires while the
// worker's memory grows (one reached 7.4 GB). These bodies give the event loop a turn before each
// chunk and fail the read once far past any cap under test, so a broken cap fails fast instead.
import { setImmediate as turn } from "node:timers/promises";

export interface EndlessBody {
  stream: ReadableStream<Uint8Array>;
  /** Bytes handed out so far. */
  readonly pulled: number;
  readonly cancelled: boolean;
}

/** Chunks past this many bytes error the stream: "the reader did not stop at its cap". */
export const ENDLESS_BUDGET = 8 * 1024 * 1024;

export class ReadPastCapError extends Error {
  constructor(budget: number) {
    super(`read ${budget} bytes of an endless body without stopping: the size cap is broken`);
    this.name = "ReadPastCapError";
  }
}

/** An endless body of `chunk`-byte chunks that errors once `budget` bytes were read. */
export function endlessBody(chunk = 300, budget = ENDLESS_BUDGET): EndlessBody {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      await turn();
      if (state.pulled >= budget) {
        c.error(new ReadPastCapError(budget));
        return;
      }
      state.pulled += chunk;
      c.enqueue(new Uint8Array(chunk));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return {
    stream,
    get pulled() {
      return state.pulled;
    },
    get cancelled() {
      return state.cancelled;
    },
  };
}
