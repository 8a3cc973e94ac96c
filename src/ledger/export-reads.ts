// Reading a pushed export on a worker thread (export-worker.ts), for the push into a cold big ledger:
// the main thread reads the ledger's sets and restores its ids meanwhile (about 0.5 s at 20 x 100,000
// accounts, the read about 0.3 s), instead of one after the other.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { AccountSet } from "../domain/account-set.js";
import type { SetExport } from "../domain/fast-read.js";
import type { Finding, InstanceInfo } from "../domain/types.js";

/** readPlainExportSet of the bytes done elsewhere: its answer, or null (read them here, the usual way). */
export type ReadElsewhere = (bytes: Uint8Array, file: string, maxBytes: number) => Promise<Omit<SetExport, "file"> | null>;

export interface ExportReadRequest {
  bytes: Uint8Array;
  file: string;
  maxBytes: number;
}

/** An account set read by the worker, as posted back (its arrays' buffers transferred). */
export interface SetMessage {
  instance: InstanceInfo;
  warnings: Finding[];
  userIds: Float64Array;
  loginText: string;
  loginStart: Int32Array;
  primaryStart: Int32Array;
  secondaryStart: Int32Array;
  keyWords: Int32Array;
}

/**
 * Reads on a worker thread started for the read and stopped after it (a cold ledger is rare: an
 * idle worker would hold its heap between restarts). The identity key goes to the worker, which
 * hashes as the app does. Null where the worker's script is not there (the sources run uncompiled, as
 * under test). A worker that fails, exits or answers null leaves the file to the main thread.
 */
export function workerReads(identityKey: string, script: URL = new URL("./export-worker.js", import.meta.url)): ReadElsewhere | null {
  if (!existsSync(fileURLToPath(script))) return null;
  return (bytes, file, maxBytes) =>
    new Promise((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(script, { workerData: { key: identityKey } });
      } catch {
        resolve(null);
        return;
      }
      const done = (read: Omit<SetExport, "file"> | null): void => {
        resolve(read);
        void worker.terminate();
      };
      worker.once("message", (m: SetMessage | null) => {
        try {
          done(m && { instance: m.instance, warnings: m.warnings, accounts: new AccountSet(m.userIds, m.loginText, m.loginStart, m.primaryStart, m.secondaryStart, m.keyWords, null) });
        } catch {
          // an inconsistent set (never from the worker's own reader): read here
          done(null);
        }
      });
      worker.once("error", () => done(null));
      worker.once("exit", () => done(null));
      // a copy: the caller keeps its bytes (the main thread reads them should the worker not)
      const copy = Uint8Array.from(bytes);
      const request: ExportReadRequest = { bytes: copy, file, maxBytes };
      worker.postMessage(request, [copy.buffer]);
    });
}
