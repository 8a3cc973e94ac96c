// What webhook handlers call to record uploads and read a ledger. Implemented by LedgerService
// (service.ts), which runs parse -> validate -> identify (keyed hash) -> record -> count.
import type { Finding, InstanceInfo, MatchOptions, UsageReport } from "../domain/types.js";
import type { InstanceRecord, LedgerKey, Totals, UploadRow, UploadSource } from "../storage/ledger-store.js";

export interface UploadInput {
  /** The file's name as the user knows it (repo path, attachment name, "issue body block 1"). */
  file: string;
  /** Raw bytes, possibly gzip-compressed; decoded, size-capped and validated by the service. */
  bytes: Uint8Array;
  source: UploadSource;
}

export interface UploadContext {
  ledger: LedgerKey;
  /** GitHub login of the person who pushed / posted. */
  uploader: string;
  /** X-GitHub-Delivery, so a redelivery is recognised. */
  deliveryId: string | null;
  options: MatchOptions;
}

export type FileResult =
  | {
      file: string;
      status: "recorded";
      instance: InstanceInfo;
      accounts: number;
      /** Against the instance's previous upload; null on its first upload. */
      added: number | null;
      removed: number | null;
      /** Ledger seats after minus before this file. */
      seatDelta: number;
      warnings: Finding[];
    }
  | {
      /** Same content (sha256) as the instance's current upload: nothing changed. */
      file: string;
      status: "unchanged";
      instance: InstanceInfo;
      accounts: number;
      warnings: Finding[];
    }
  | { file: string; status: "refused"; errors: Finding[]; warnings: Finding[] };

export interface LedgerSummary {
  report: UsageReport;
  /** The ledger's instances with upload times (same set as report.instances). */
  instances: InstanceRecord[];
  totals: Totals;
  generatedAt: Date;
}

export interface RecordOutcome {
  results: FileResult[];
  summary: LedgerSummary;
}

export type ForgetOutcome =
  | { status: "removed"; instance: InstanceRecord; summary: LedgerSummary }
  | { status: "not-found"; summary: LedgerSummary }
  /** A host name that several instances share: the caller must name the server_id. */
  | { status: "ambiguous"; candidates: InstanceRecord[] };

export interface Ledger {
  /** Validates and records each file in order (a later file of the same server_id wins). */
  recordUploads(ctx: UploadContext, inputs: UploadInput[]): Promise<RecordOutcome>;
  /** Validates only, records nothing (pull requests). */
  checkUploads(inputs: UploadInput[]): Promise<FileResult[]>;
  summary(ledger: LedgerKey, options: MatchOptions): Promise<LedgerSummary>;
  /** Removes a decommissioned instance by server_id or host name; audited in the history. */
  forget(
    ctx: UploadContext,
    target: string,
    source: UploadSource,
  ): Promise<ForgetOutcome>;
  history(ledger: LedgerKey, limit?: number): Promise<UploadRow[]>;
}
