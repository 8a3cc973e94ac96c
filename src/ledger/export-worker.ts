// A worker thread of the app: reads one pushed export the usual way's single pass (readPlainExportSet)
// while the main thread loads a cold ledger (after a restart) from the database, and posts the
// account set's arrays back, transferred; null for anything else (the main thread reads it then).
// Then, if asked, zeroed arrays for the main thread's count, paged in here (see ReadElsewhere).
import { parentPort, workerData } from "node:worker_threads";
import { readPlainExportSet } from "../domain/fast-read.js";
import { createIdentityHasher } from "./identity-key.js";
import type { ExportReadRequest, SetMessage } from "./export-reads.js";

const hasher = createIdentityHasher((workerData as { key: string }).key);
const port = parentPort;
port?.on("message", ({ bytes, file, maxBytes, room, roomPort }: ExportReadRequest) => {
  let out: SetMessage | null = null;
  try {
    const read = readPlainExportSet(bytes, file, { maxBytes }, hasher);
    const set = read?.accounts;
    if (read && set?.keyWords) {
      const { userIds, loginText, loginStart, primaryStart, secondaryStart, keyWords } = set;
      out = { instance: read.instance, warnings: read.warnings, userIds, loginText, loginStart, primaryStart, secondaryStart, keyWords };
    }
  } catch {
    out = null;
  }
  port.postMessage(out, out ? [out.userIds, out.loginStart, out.primaryStart, out.secondaryStart, out.keyWords].map((a) => a.buffer as ArrayBuffer) : []);
  // the arrays asked for, a write per page (4 KB) so that each is paged in here, not where it is used
  if (out && room && roomPort) {
    const made = room.map((length) => new Int32Array(length));
    for (const a of made) for (let i = 0; i < a.length; i += 1024) a[i] = 0;
    roomPort.postMessage(made, made.map((a) => a.buffer));
  }
  roomPort?.close();
  // one read per worker: it ends here, whether or not the main thread stops it
  port.close();
});
