// Reading a pushed export on a worker thread (export-worker.ts), for the push into a cold big ledger:
// the main thread reads the ledger's sets and restores its ids meanwhile (about 0.5 s at 20 x 100,000
// accounts, the read about 0.3 s), instead of one after the other.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { types } from "node:util";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type TransferListItem } from "node:worker_threads";
import { AccountSet } from "../domain/account-set.js";
import type { SetExport } from "../domain/fast-read.js";
import type { Finding, InstanceInfo } from "../domain/types.js";

/**
 * readPlainExportSet of the bytes done elsewhere: its answer, or null (read them here, the usual way).
 * `room`: lengths of zeroed Int32Arrays to make there too, once the read is done, their memory paged
 * in there (after a restart a first touch of fresh memory costs up to ~12 µs a page on some VMs: a
 * count's arrays at 20 x 100,000, some 0.2 s of this thread's time).
 */
export type ReadElsewhere = (bytes: Uint8Array, file: string, maxBytes: number, room?: readonly number[]) => Promise<ReadThere | null>;

export interface ReadThere extends Omit<SetExport, "file"> {
  /** With room asked for: room's arrays, in its order, if they are made by now; else null (asked once). */
  takeRoom?: () => Int32Array[] | null;
}

export interface ExportReadRequest {
  bytes: Uint8Array;
  file: string;
  maxBytes: number;
  /** Lengths of arrays to make after the read, posted on `roomPort`. */
  room?: readonly number[];
  roomPort?: MessagePort;
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
  return (bytes, file, maxBytes, room) =>
    new Promise((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(script, { workerData: { key: identityKey } });
      } catch {
        resolve(null);
        return;
      }
      const channel = room?.length ? new MessageChannel() : null;
      const stop = (): void => {
        channel?.port1.close();
        void worker.terminate();
      };
      let settled = false;
      const done = (read: ReadThere | null): void => {
        // the first answer only (the worker's exit follows its room)
        if (settled) return;
        settled = true;
        resolve(read);
        // with room asked for, the worker goes on making it: stopped when it is taken (or given up)
        if (!read?.takeRoom) stop();
      };
      worker.once("message", (m: SetMessage | null) => {
        if (!m) return done(null);
        try {
          const accounts = new AccountSet(m.userIds, m.loginText, m.loginStart, m.primaryStart, m.secondaryStart, m.keyWords, null);
          done({ instance: m.instance, warnings: m.warnings, accounts, ...(channel ? { takeRoom: roomTaker(channel.port1, room!, stop) } : {}) });
        } catch {
          // an inconsistent set (never from the worker's own reader): read here
          done(null);
        }
      });
      worker.once("error", () => done(null));
      worker.once("exit", () => done(null));
      // Shared memory (a pushed blob, see readBlobWithin) is read there where it is; anything else is
      // copied and the copy moved there. Either way the caller keeps its bytes (the main thread reads
      // them should the worker not).
      const shared = bytes.buffer instanceof SharedArrayBuffer;
      const sent = shared ? bytes : bytes.slice();
      const request: ExportReadRequest = { bytes: sent, file, maxBytes, ...(channel ? { room, roomPort: channel.port2 } : {}) };
      const moved: TransferListItem[] = shared ? [] : [sent.buffer as ArrayBuffer];
      worker.postMessage(request, channel ? [...moved, channel.port2] : moved);
    });
}

/** Takes the room from `port` without waiting (no turn of the event loop needed), once; then stops the worker. */
function roomTaker(port: MessagePort, room: readonly number[], stop: () => void): () => Int32Array[] | null {
  let taken = false;
  return () => {
    if (taken) return null;
    taken = true;
    const got = receiveMessageOnPort(port)?.message as unknown;
    stop();
    // as asked for, or nothing
    const fits = Array.isArray(got) && got.length === room.length && got.every((a, i) => types.isInt32Array(a) && a.length === room[i]);
    return fits ? (got as Int32Array[]) : null;
  };
}
