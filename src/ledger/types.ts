// What webhook handlers call to record uploads and read a ledger. Implemented by LedgerService
// (service.ts), which runs parse -> validate -> identify (keyed hash) -> record -> count.
import type { CloudFetchState } from "../domain/cloud-fetch.js";
import type { CloudReport } from "../domain/cloud-report.js";
import type { FileResult, ForgetOutcome, LedgerSummary, MatchOptions, UploadRow, UploadSource } from "../domain/types.js";
import type { LedgerKey } from "../storage/ledger-store.js";
import type { ReplyClaims } from "./reply-claims.js";

// Result types live in the domain (the renderers show them); re-exported for the app's callers.
export type { FileResult, ForgetOutcome, LedgerSummary } from "../domain/types.js";

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

export interface RecordOutcome {
  results: FileResult[];
  summary: LedgerSummary;
}

export interface Ledger {
  /** Who writes each reply right now, across replicas on this ledger's database. */
  readonly replies: ReplyClaims;
  /**
   * Validates and records each file in order (a later file of the same server_id wins). GHEC
   * license reports among them become the ledger's one cloud report (a later one replaces it).
   */
  recordUploads(ctx: UploadContext, inputs: UploadInput[]): Promise<RecordOutcome>;
  /**
   * Records a GHEC license report already read (e.g. fetched from the API) as the ledger's cloud
   * report. Identical content (same members, figures and hosts) is "unchanged".
   */
  recordCloudReport(ctx: UploadContext, report: CloudReport, source: UploadSource): Promise<RecordOutcome>;
  /** Validates only, records nothing (pull requests). */
  checkUploads(inputs: UploadInput[]): Promise<FileResult[]>;
  summary(ledger: LedgerKey, options: MatchOptions): Promise<LedgerSummary>;
  /** Removes a decommissioned instance by server_id or host name; audited in the history. */
  forget(
    ctx: UploadContext,
    target: string,
    source: UploadSource,
  ): Promise<ForgetOutcome>;
  /** Removes the ledger's GHEC license report (`/license-sync forget cloud`); audited in the history. */
  forgetCloud(ctx: UploadContext, source: UploadSource): Promise<ForgetOutcome>;
  history(ledger: LedgerKey, limit?: number): Promise<UploadRow[]>;
  /** The last live fetch of the ledger's cloud report, if one was tried. */
  cloudFetch(ledger: LedgerKey): Promise<CloudFetchState | undefined>;
  /** Remembers a live-fetch attempt (the previous one is replaced). */
  saveCloudFetch(ledger: LedgerKey, state: CloudFetchState): Promise<void>;
}
