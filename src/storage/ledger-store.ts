// The one interface between the app and its database. Two adapters implement it:
// SQLite (default, embedded) and PostgreSQL (shared by replicas). Nothing here knows about GitHub.
import type { CloudFetchState } from "../domain/cloud-fetch.js";
import type { AccountSet } from "../domain/account-set.js";
import type { CloudMember } from "../domain/cloud-report.js";
import type { CloudReportRecord, IdentifiedAccount, InstanceRecord, UploadRow, UploadSource } from "../domain/types.js";

// The record types live in the domain (the renderers show them); re-exported for storage callers.
export type { CloudReportRecord, InstanceRecord, Totals, UploadOutcome, UploadRow, UploadSource } from "../domain/types.js";
export type { CloudMember } from "../domain/cloud-report.js";

/** A ledger: the records of one designated repository, keyed by the repository's id (renames keep it). */
export interface LedgerKey {
  repoId: number;
  /** owner/name at the time of the event; informational, updated on each write. */
  fullName: string;
}

export type NewUploadRow = Omit<UploadRow, "id" | "at"> & { at?: Date };

/** Read access to one ledger. */
export interface LedgerReader {
  instances(): Promise<InstanceRecord[]>;
  instance(serverId: string): Promise<InstanceRecord | undefined>;
  /** Current accounts of every instance of the ledger (or of one instance). */
  accounts(serverId?: string): Promise<Map<string, IdentifiedAccount[]>>;
  /** The same, in the compact form the ledger service counts (no object per account). */
  accountSets(serverId?: string): Promise<Map<string, AccountSet>>;
  /** Newest first. */
  history(limit?: number): Promise<UploadRow[]>;
  /** The newest upload row (any outcome) from this source: one commit's file, one issue's file. */
  lastFromSource(source: UploadSource): Promise<UploadRow | undefined>;
  /** The newest recorded upload with this delivery id or content hash (of this subject, when given), if any. */
  findRecorded(query: {
    deliveryId?: string;
    serverId?: string;
    contentSha256?: string;
    subject?: "export" | "cloud";
  }): Promise<UploadRow | undefined>;
  /** The ledger's GHEC license report, if one is recorded. */
  cloudReport(): Promise<CloudReportRecord | undefined>;
  /** Its members (keys already keyed hashes), in report order; [] when none. */
  cloudMembers(): Promise<CloudMember[]>;
  /** The last live fetch of the ledger's cloud report, if one was tried. */
  cloudFetch(): Promise<CloudFetchState | undefined>;
  /** The GHES seats stored with the state they were counted for (an opaque digest), if any. */
  countedSeats(): Promise<{ state: string; seats: number } | undefined>;
  /** The ledger's interned ids as last saved (domain/ledger-ids.ts), if any: derived data, checked before use. */
  ledgerIds(): Promise<Uint8Array | null>;
}

/** Write access, only inside `LedgerStore.write`, which holds the ledger's lock. */
export interface LedgerWriter extends LedgerReader {
  /** Insert or update the instance row (host name, version, last upload, count, sha). */
  upsertInstance(record: InstanceRecord): Promise<void>;
  /** Replace every current account of the instance, in batches, inside the caller's transaction. */
  replaceAccounts(serverId: string, accounts: IdentifiedAccount[] | AccountSet): Promise<void>;
  /**
   * replaceAccounts of a set, resolved once the set is on its way: a database server stores it while
   * the caller goes on (`stored` settles then; it must be awaited before the transaction's next
   * statement). A database written in the call (SQLite) has stored it by then.
   */
  sendAccounts(serverId: string, accounts: AccountSet): Promise<{ stored: Promise<void> }>;
  /** Delete the instance and its accounts. */
  removeInstance(serverId: string): Promise<void>;
  /** Replaces the ledger's cloud report and all its members. */
  replaceCloudReport(record: CloudReportRecord, members: CloudMember[]): Promise<void>;
  removeCloudReport(): Promise<void>;
  appendUpload(row: NewUploadRow): Promise<number>;
  /** Replaces the ledger's last live-fetch state. */
  saveCloudFetch(state: CloudFetchState): Promise<void>;
  /** Remembers the GHES seats of the ledger's state after this write. */
  saveCountedSeats(state: string, seats: number): Promise<void>;
  /** Replaces the ledger's interned ids. */
  saveLedgerIds(data: Uint8Array): Promise<void>;
}

/**
 * Leases on reply targets, shared by every replica on the database: whoever holds a target's lease
 * is the only one writing that reply. Times are ms since the epoch, from the caller's clock.
 */
export interface ReplyTargetStore {
  /** Takes the lease when it is free, expired or already `holder`'s: the reply id stored with it; null when another holds it. */
  claimReplyTarget(target: string, holder: string, leaseUntil: number, now: number): Promise<{ replyId: number | null } | null>;
  /** Extends `holder`'s lease; false when it is no longer theirs. */
  renewReplyTarget(target: string, holder: string, leaseUntil: number): Promise<boolean>;
  /** Frees the lease, storing the reply's id when one is given. */
  releaseReplyTarget(target: string, holder: string, replyId: number | null): Promise<void>;
}

export interface LedgerStore extends ReplyTargetStore {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction holding the ledger's write lock; all or nothing. */
  write<T>(ledger: LedgerKey, fn: (tx: LedgerWriter) => Promise<T>): Promise<T>;
  read<T>(ledger: LedgerKey, fn: (tx: LedgerReader) => Promise<T>): Promise<T>;
  /**
   * Stores the identity key's fingerprint on first use; throws IdentityKeyMismatchError when the
   * database was written with another key (its hashes would silently stop matching).
   */
  checkKeyFingerprint(fingerprint: string): Promise<void>;
  close(): Promise<void>;
}

export class IdentityKeyMismatchError extends Error {
  constructor() {
    super(
      "IDENTITY_KEY does not match the key this database was written with: stored identities would no longer match. " +
        "Restore the previous IDENTITY_KEY (or WEBHOOK_SECRET, if it was derived from it), or start with an empty database.",
    );
    this.name = "IdentityKeyMismatchError";
  }
}
