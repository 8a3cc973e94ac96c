// The worker thread of sqlite-checkpoints.ts: a connection of its own to the SQLite file, which
// checkpoints its write-ahead log when asked (PASSIVE) and answers when done; "close" ends it.
import { access } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import Sqlite from "better-sqlite3";
import { lowerThreadPriority } from "../background.js";

const port = parentPort;
const { path } = workerData as { path: string };
// asynchronously first: the libuv thread pool then runs at its usual priority before this thread's is lowered
await access(path).catch(() => undefined);
lowerThreadPriority();
const db = new Sqlite(path);
db.pragma("busy_timeout = 10000");
port?.on("message", (message: string) => {
  if (message === "close") {
    db.close();
    port.close();
    return;
  }
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // busy or failing: the next write asks again (and the file's last connection checkpoints as it closes)
  }
  port.postMessage("done");
});
