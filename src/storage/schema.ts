// Table types for kysely. Times are written as ISO-8601 strings (text on SQLite, timestamptz on
// PostgreSQL, which returns Date); bigint columns come back as strings from pg. Read through the
// helpers in kysely-store.ts, never directly.
import type { Generated } from "kysely";

type Time = string | Date;
type Int = number | string | bigint;

export interface LedgersTable {
  repo_id: Int;
  full_name: string;
  created_at: Time;
  updated_at: Time;
  /** A digest of the state (instances' contents, match options) counted_seats belongs to. */
  counted_state: string | null;
  counted_seats: number | null;
}

export interface InstancesTable {
  ledger_id: Int;
  server_id: string;
  host_name: string;
  ghes_version: string | null;
  /** 1 / 0 / null: integer on both dialects to keep one code path. */
  http_only: number | null;
  first_upload_at: Time;
  last_upload_at: Time;
  account_count: number;
  content_sha256: string;
}

/** One instance's current accounts, as one row (see account-set-codec.ts; migration 0007). */
export interface AccountSetsTable {
  ledger_id: Int;
  server_id: string;
  account_count: number;
  /** The accounts' logins, in user-id order, run together as one JSON string. */
  logins: string;
  /** User ids, offsets and keys (keyed hashes, never e-mails), binary: SQLite BLOB, PostgreSQL bytea. */
  data: Uint8Array;
}

/** A ledger's interned ids (see domain/ledger-ids.ts; migration 0010): derived data, checked before use. */
export interface LedgerIdsTable {
  ledger_id: Int;
  /** SQLite BLOB, PostgreSQL bytea. */
  data: Uint8Array;
}

export interface UploadsTable {
  id: Generated<Int>;
  ledger_id: Int;
  outcome: string;
  server_id: string | null;
  host_name: string | null;
  source_kind: string;
  source_sha: string | null;
  /** Commit path, or the issue's file name. */
  source_path: string | null;
  source_issue: number | null;
  source_comment: Int | null;
  uploader: string;
  delivery_id: string | null;
  content_sha256: string | null;
  at: Time;
  account_count: number | null;
  added: number | null;
  removed: number | null;
  seats: number | null;
  accounts: number | null;
  deduplicated: number | null;
  instance_count: number | null;
  error_summary: string | null;
  /** "export" (a GHES export) or "cloud" (the ledger's GHEC license report). */
  subject: Generated<string>;
  enterprise_seats: number | null;
}

/** The ledger's one GHEC license report (its metadata); its members are in cloud_members. */
export interface CloudReportsTable {
  ledger_id: Int;
  file: string;
  format: string;
  member_count: number;
  reported_seats: number | null;
  /** JSON array of normalized host names. */
  linked_hosts: string;
  content_sha256: string;
  recorded_at: Time;
  uploader: string;
  source_kind: string;
  source_sha: string | null;
  /** Commit path, the issue's file name, or the enterprise slug (api). */
  source_path: string | null;
  source_issue: number | null;
  source_comment: Int | null;
}

export interface CloudMembersTable {
  ledger_id: Int;
  /** Position in the report: logins need not be unique in a hand-made file. */
  ordinal: number;
  login: string;
  /** Identity keys (keyed hashes, never e-mails or NameIDs), space-separated; "" when none. */
  keys: string;
  /** JSON array of [host, user_id] pairs: GitHub's own links to GHES accounts. */
  links: string;
  visual_studio: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** The last live fetch of a ledger's cloud report; `state` is encodeCloudFetch's JSON (no personal data). */
export interface CloudFetchesTable {
  ledger_id: Int;
  enterprise: string;
  attempted_at: Time;
  state: string;
}

/** One reply target's lease (ms since the epoch; 0 when free) and the reply written there last. */
export interface ReplyTargetsTable {
  target: string;
  reply_id: Int | null;
  holder: string | null;
  lease_until: Int;
}

export interface Database {
  ledgers: LedgersTable;
  instances: InstancesTable;
  account_sets: AccountSetsTable;
  ledger_ids: LedgerIdsTable;
  uploads: UploadsTable;
  meta: MetaTable;
  cloud_fetches: CloudFetchesTable;
  cloud_reports: CloudReportsTable;
  cloud_members: CloudMembersTable;
  reply_targets: ReplyTargetsTable;
}
