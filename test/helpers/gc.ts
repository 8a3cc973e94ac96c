// A real garbage collection for heap checks, also under `npm test` (no --expose-gc, where
// `globalThis.gc` is undefined and `gc?.()` silently measured garbage instead of the heap in use).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | undefined;

/** Runs a full GC. V8 exposes `gc` to contexts made after the flag is set, so one is made for it. */
export function collectGarbage(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    }
  }
  collect();
}

/** Heap in use after a full GC, in MB. */
export function heapInUseMB(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed / (1024 * 1024);
}
