// A worker thread of `license-sync report`: reads cloud CSV reports (the file, then readCsvUpload)
// while the main thread reads the exports, and posts each read back with its columns' buffers
// transferred; null when the file cannot be read here (the main thread then reads it and says why).
import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { parentPort } from "node:worker_threads";
import { cloudReadToMessage, prepareLookups, readCsvUpload, type LookupSeeds } from "../domain/cloud-report.js";
import { lowerThreadPriority } from "../background.js";

export interface CloudWorkRequest {
  /** Checked by the main thread too (meanwhile): a regular file within maxBytes. */
  file: string;
  maxBytes: number;
  /** The report's key tables' seeds: the members' keys and logins are hashed here for them. */
  seeds?: LookupSeeds;
}

const port = parentPort;
let lowered = false;
port?.on("message", (request: CloudWorkRequest) => {
  void read(request).then(
    (answer) => port.postMessage(answer.read, answer.transfer),
    () => port.postMessage(null),
  );
});

async function read({ file, maxBytes, seeds }: CloudWorkRequest): Promise<{ read: unknown; transfer: ArrayBuffer[] }> {
  let bytes: Buffer | null = null;
  try {
    // asked before the main thread's own check: nothing but a regular file within the limit is read
    // (asynchronously: the libuv thread pool then runs, started at its usual priority, before this thread's is lowered)
    const s = await stat(file);
    if (!lowered) lowered = lowerThreadPriority();
    if (s.isFile() && s.size <= maxBytes) bytes = readFileSync(file);
  } catch {
    // null: read (and worded) by the main thread
  }
  if (bytes === null || bytes.length > maxBytes) return { read: null, transfer: [] };
  const result = readCsvUpload(bytes, file, { maxBytes });
  // which keys are equal, and their hashes, worked out here (this thread waits for the exports anyway), not on the main thread
  const columns = result.ok ? result.report.columns : undefined;
  if (columns) prepareLookups(columns, seeds);
  return cloudReadToMessage(result);
}
