// The SQLite file's write-ahead log checkpointed on a thread of its own. By default SQLite
// checkpoints in the commit that takes the log past 1,000 pages: with a ledger's 6 MB account set in
// most writes, nearly every push's commit copied its pages into the database file on the event
// loop (~9 ms of a push's ~0.23 s at 100,000 accounts). Here the commit only appends to the log and
// a worker thread with a connection of its own checkpoints after it (PASSIVE: never waiting on, nor
// blocking, readers and the writer), as SQLite's documentation suggests for this.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type Sqlite from "better-sqlite3";

/** SQLite's own default, set again should the thread fail. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface Checkpoints {
  /** After a write's commit: a checkpoint is asked for (one runs at a time; asks meanwhile make one more). */
  written(): void;
  /** Resolves once no checkpoint is running or asked for. */
  idle(): Promise<void>;
  /** Stops the thread (its connection closed); the file's own connection then checkpoints as it closes. */
  close(): Promise<void>;
}

/**
 * Checkpoints for `database` (the file `path`) on a worker thread; null where its script is missing
 * (the sources run uncompiled, as under test): SQLite then checkpoints in commits, as by default.
 */
export function checkpointsElsewhere(database: Sqlite.Database, path: string, script = new URL("./sqlite-checkpoint-worker.js", import.meta.url)): Checkpoints | null {
  if (!existsSync(fileURLToPath(script))) return null;
  const worker = new Worker(script, { workerData: { path } });
  // never what keeps the process alive
  worker.unref();
  database.pragma("wal_autocheckpoint = 0");
  let running = false;
  let again = false;
  let stopped = false;
  const waiting: (() => void)[] = [];
  const settle = () => {
    running = false;
    again = false;
    for (const resolve of waiting.splice(0)) resolve();
  };
  const ask = () => {
    running = true;
    worker.postMessage("checkpoint");
  };
  // a thread that fails leaves the checkpoints to the commits again
  const fallBack = () => {
    if (stopped) return;
    stopped = true;
    try {
      database.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the connection is closed: nothing to checkpoint
    }
    settle();
  };
  worker.on("message", () => {
    if (again && !stopped) {
      again = false;
      ask();
    } else settle();
  });
  worker.on("error", fallBack);
  worker.on("exit", fallBack);
  return {
    written() {
      if (stopped) return;
      if (running) again = true;
      else ask();
    },
    idle() {
      return !running ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.postMessage("close");
      // a checkpoint under way ends first; a thread that does not end in time is stopped
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timer);
      settle();
    },
  };
}
