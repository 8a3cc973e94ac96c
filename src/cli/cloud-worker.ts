// A worker thread of `license-sync report`: reads cloud CSV reports (readCsvUpload) while the main
// thread reads the exports, and posts each read back with its columns' buffers transferred.
import { parentPort } from "node:worker_threads";
import { cloudReadToMessage, readCsvUpload } from "../domain/cloud-report.js";

export interface CloudWorkRequest {
  bytes: Uint8Array;
  file: string;
  maxBytes: number;
}

const port = parentPort;
port?.on("message", ({ bytes, file, maxBytes }: CloudWorkRequest) => {
  const { read, transfer } = cloudReadToMessage(readCsvUpload(bytes, file, { maxBytes }));
  port.postMessage(read, transfer);
});
