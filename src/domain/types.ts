// The domain's vocabulary. Plain data only: no Octokit, no HTTP, no SQL anywhere under src/domain.
import type { CloudFetchState } from "./cloud-fetch.js";
import type { EnterpriseFigures } from "./enterprise.js";

/** One problem found in an export file, located by its JSON path (e.g. `users[12].emails[0].email`). */
export interface Finding {
  /** The file's name as the user knows it (path in the repo, attachment name, or CLI argument). */
  file: string;
  /** JSON path of the offending value; "" for the whole document. */
  path: string;
  /** Plain words, never a stack trace, never an e-mail address or other file content. */
  message: string;
}

/** A GHES server instance, as described by an export's `instance` object. */
export interface InstanceInfo {
  serverId: string;
  hostName: string;
  /** GHES version (`instance.version`), shown only. */
  ghesVersion?: string;
  httpOnly?: boolean;
}

export interface AccountEmail {
  email: string;
  primary: boolean;
}

/** One user record of one instance: an account. */
export interface Account {
  userId: number;
  login: string;
  emails: AccountEmail[];
  /** `suspended: true` or a non-null `suspended_at`: consumes no seat. */
  suspended: boolean;
}

/** A file that passed validation. `accounts` holds each user_id once (duplicates merged). */
export interface ValidExport {
  file: string;
  instance: InstanceInfo;
  accounts: Account[];
  warnings: Finding[];
}

export type ValidationResult =
  | { ok: true; export: ValidExport }
  | { ok: false; file: string; errors: Finding[]; warnings: Finding[] };

/** A valid export reduced to its accounts' identities (suspended accounts dropped): what counting needs. */
export interface IdentifiedExport {
  file: string;
  instance: InstanceInfo;
  accounts: IdentifiedAccount[];
  warnings: Finding[];
}

export type IdentifiedResult =
  | { ok: true; export: IdentifiedExport }
  | { ok: false; file: string; errors: Finding[]; warnings: Finding[] };

/** Matching options of the contract (both off by default). */
export interface MatchOptions {
  /** Every address in `emails[]` is an identity, not only the primary. */
  allEmails: boolean;
  /** The lower-cased login is an identity too. */
  logins: boolean;
}

export const DEFAULT_MATCH_OPTIONS: MatchOptions = Object.freeze({ allEmails: false, logins: false });

/**
 * An account reduced to what counting needs. `primary` and `secondary` are identity keys: the
 * normalized e-mail (offline CLI) or its keyed hash (the app's ledger). Counting never needs to
 * know which. Suspended accounts never become an IdentifiedAccount.
 */
export interface IdentifiedAccount {
  userId: number;
  login: string;
  /** Keys of the primary e-mail(s). Empty: the account cannot be matched by e-mail. */
  primary: string[];
  /** Keys of the other e-mails; used only with `allEmails`. */
  secondary: string[];
}

/** One instance's seat-consuming accounts, the unit the counting engine takes. */
export interface InstanceAccounts {
  instance: InstanceInfo;
  accounts: IdentifiedAccount[];
}

export interface InstanceUsage {
  serverId: string;
  hostName: string;
  ghesVersion?: string;
  /** Seat-consuming accounts on this instance. */
  accounts: number;
  /** Persons whose accounts are all on this instance. */
  exclusive: number;
  /** Accounts with no identity under the options in force (each is a person of its own). */
  unmatched: number;
}

export interface Overlap {
  /** The pair's server ids, sorted. */
  serverIds: [string, string];
  /** Persons with at least one account on each. */
  people: number;
}

/** Accounts that probably are one person but were not matched: one login, several persons. */
export interface PossibleSaving {
  login: string;
  /** Distinct persons carrying this login, on different instances. */
  persons: number;
  /** Seats that matching them would save (persons - 1). */
  seats: number;
}

export interface UsageReport {
  seats: number;
  accounts: number;
  /** accounts - seats */
  deduplicated: number;
  /** Sorted by hostName, then serverId. */
  instances: InstanceUsage[];
  /** Every pair with people > 0, sorted by the pair. */
  overlaps: Overlap[];
  /** Persons spanning k instances, for k >= 2, ascending k; only k with people > 0. */
  spans: { instances: number; people: number }[];
  /** Accounts that could not be matched (no identity), over all instances. */
  unmatched: number;
  /** Same login on several instances, different persons. Sorted by seats desc, then login. */
  possibleSavings: PossibleSaving[];
  options: MatchOptions;
  /** GHES and GHEC together, when a cloud report is given; the fields above never depend on it. */
  enterprise?: EnterpriseFigures;
}

// ---- The ledger's records, as the app shows them (stored by src/storage, produced by src/ledger) ----

/** Where an upload came from. */
export type UploadSource =
  | { kind: "commit"; sha: string; path: string }
  | { kind: "issue"; issueNumber: number; commentId?: number; file: string }
  | { kind: "command"; issueNumber: number; commentId?: number }
  /** Fetched from GitHub's REST API for this enterprise (slug). */
  | { kind: "api"; enterprise: string };

export interface InstanceRecord extends InstanceInfo {
  firstUploadAt: Date;
  lastUploadAt: Date;
  accountCount: number;
  /** sha256 (hex) of the content of the instance's current upload. */
  contentSha256: string;
}

/** Seat totals of a ledger after an upload (or removal), as stored in the history. */
export interface Totals {
  seats: number;
  accounts: number;
  deduplicated: number;
  instances: number;
  /** Enterprise seats (GHEC and GHES together) when the ledger holds a cloud report. */
  enterpriseSeats?: number;
}

export type UploadOutcome = "recorded" | "refused" | "removed";

export interface UploadRow {
  id: number;
  outcome: UploadOutcome;
  /** "cloud": the row is about the ledger's GHEC license report; absent: a GHES export. */
  subject?: "cloud";
  /** null for a refused file whose instance could not be read. */
  serverId: string | null;
  hostName: string | null;
  source: UploadSource;
  uploader: string;
  /** GitHub delivery id, when the upload came from a webhook; used to recognise redeliveries. */
  deliveryId: string | null;
  contentSha256: string | null;
  at: Date;
  /** Accounts in this upload (recorded), or left by the removal. */
  accountCount: number | null;
  /** Accounts added / removed against the instance's previous upload (recorded only). */
  added: number | null;
  removed: number | null;
  /** Totals of the ledger right after this row (recorded / removed). */
  totals: Totals | null;
  /** One-line error summary (refused). Never file content. */
  errorSummary: string | null;
}

/**
 * The ledger's GHEC license report, as recorded. Its members are stored apart, their verified
 * e-mails and SAML NameIDs as keyed hashes only.
 */
export interface CloudReportRecord {
  /** The file's name as the user knows it (repo path, attachment name, or "consumed-licenses API"). */
  file: string;
  format: "csv" | "json";
  /** Rows counted as cloud members. */
  memberCount: number;
  /** GitHub's own figure (see ghec-license-report.md), null when the report has none. */
  reportedSeats: number | null;
  /** Normalized GHES host names the report links accounts on, sorted. */
  linkedHosts: string[];
  contentSha256: string;
  recordedAt: Date;
  uploader: string;
  source: UploadSource;
}

/** What a cloud report upload was, for the per-file results. */
export interface CloudUploadInfo {
  format: "csv" | "json";
  members: number;
  reportedSeats: number | null;
  /** When the report it replaced had been recorded; null when the ledger had none. */
  replaces: Date | null;
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
  /** A GHEC license report (recorded, or the same content as the ledger's current one). */
  | { file: string; status: "recorded" | "unchanged"; cloud: CloudUploadInfo; warnings: Finding[] }
  | { file: string; status: "refused"; errors: Finding[]; warnings: Finding[] };

export interface LedgerSummary {
  report: UsageReport;
  /** The ledger's instances with upload times (same set as report.instances). */
  instances: InstanceRecord[];
  totals: Totals;
  generatedAt: Date;
  /** The last live fetch of the cloud report, when the ledger's config names an enterprise. */
  cloudFetch?: CloudFetchState;
  /** GHEC and GHES together, when the ledger holds a GHEC license report. */
  enterprise?: LedgerEnterprise;
}

export interface LedgerEnterprise {
  figures: EnterpriseFigures;
  report: CloudReportRecord;
}

export type ForgetOutcome =
  | { status: "removed"; instance: InstanceRecord; summary: LedgerSummary }
  | { status: "not-found"; summary: LedgerSummary }
  /** `forget cloud`: the ledger's GHEC license report was removed, or there was none. */
  | { status: "removed-cloud"; report: CloudReportRecord; summary: LedgerSummary }
  | { status: "no-cloud-report"; summary: LedgerSummary }
  /** A host name that several instances share: the caller must name the server_id. */
  | { status: "ambiguous"; candidates: InstanceRecord[] };
