// The one LedgerStore implementation, over kysely. Everything dialect-specific (how a write
// transaction starts and locks, how cloud members are bulk-inserted) sits behind DialectOps; sqlite.ts
// and postgres.ts provide them.
import { sql, type Insertable, type Kysely, type Selectable } from "kysely";
import { decodeCloudFetch, encodeCloudFetch, type CloudFetchState } from "../domain/cloud-fetch.js";
import { AccountSet } from "../domain/account-set.js";
import type { IdentifiedAccount } from "../domain/types.js";
import { decodeAccountSet, encodeAccountSet } from "./account-set-codec.js";
import {
  IdentityKeyMismatchError,
  type CloudMember,
  type CloudReportRecord,
  type InstanceRecord,
  type LedgerKey,
  type LedgerReader,
  type LedgerStore,
  type LedgerWriter,
  type NewUploadRow,
  type UploadOutcome,
  type UploadRow,
  type UploadSource,
} from "./ledger-store.js";
import type { AccountSetsTable, CloudMembersTable, CloudReportsTable, Database, InstancesTable, UploadsTable } from "./schema.js";

export interface DialectOps {
  readonly name: "sqlite" | "postgres";
  /** Runs fn in a transaction; "write" takes the database's (SQLite) or the ledger's (PostgreSQL) write lock. */
  transaction<T>(
    db: Kysely<Database>,
    mode: "read" | "write",
    fn: (tx: Kysely<Database>) => Promise<T>,
  ): Promise<T>;
  /** Called inside a write transaction after the ledger row exists: blocks until this ledger is ours. */
  lockLedger(tx: Kysely<Database>, repoId: number): Promise<void>;
  /** Multi-row insert of a cloud report's members (ordinal = position), likewise. */
  insertCloudMembers(tx: Kysely<Database>, repoId: number, members: CloudMember[]): Promise<void>;
  /** The ledger's stored account sets (only serverId's, if given), by server id; a plain select when absent. */
  accountSets?(tx: Kysely<Database>, repoId: number, serverId?: string): Promise<StoredAccountSet[]>;
  /** The ledger's stored interned ids, likewise. */
  ledgerIds?(tx: Kysely<Database>, repoId: number): Promise<Uint8Array | null>;
  /** Inserts an encoded account set, resolved once it is on its way to the server (see LedgerWriter.sendAccounts). */
  sendAccountSet?(tx: Kysely<Database>, row: Insertable<AccountSetsTable>): Promise<{ stored: Promise<void> }>;
  /** What the dialect runs beside the database (SQLite's checkpoints), stopped before it closes. */
  close?(): Promise<void>;
}

export type StoredAccountSet = Pick<AccountSetsTable, "server_id" | "logins" | "data">;

const FINGERPRINT_KEY = "identity_key_fingerprint";

/** A cloud member's columns: keys are base64url hashes (no spaces); hosts come from a file, so JSON. */
export function encodeCloudMember(m: CloudMember): Pick<CloudMembersTable, "login" | "keys" | "links" | "visual_studio"> {
  return {
    login: m.login,
    keys: m.keys.join(" "),
    links: JSON.stringify(m.links.map((l) => [l.host, l.userId])),
    visual_studio: m.visualStudio ? 1 : 0,
  };
}

function decodeCloudMember(r: Pick<Selectable<CloudMembersTable>, "login" | "keys" | "links" | "visual_studio">): CloudMember {
  const links = JSON.parse(r.links) as [string, number][];
  return {
    login: r.login,
    keys: r.keys === "" ? [] : r.keys.split(" "),
    links: links.map(([host, userId]) => ({ host, userId })),
    visualStudio: Number(r.visual_studio) === 1,
  };
}

const EMPTY_SET = AccountSet.fromAccounts([]);

const iso = (d: Date) => d.toISOString();
const toDate = (v: string | Date) => (v instanceof Date ? v : new Date(v));
const num = (v: number | string | bigint) => Number(v);
const numOrNull = (v: number | string | bigint | null) => (v === null ? null : Number(v));

function toInstance(r: Selectable<InstancesTable>): InstanceRecord {
  const rec: InstanceRecord = {
    serverId: r.server_id,
    hostName: r.host_name,
    firstUploadAt: toDate(r.first_upload_at),
    lastUploadAt: toDate(r.last_upload_at),
    accountCount: num(r.account_count),
    contentSha256: r.content_sha256,
  };
  if (r.ghes_version !== null) rec.ghesVersion = r.ghes_version;
  if (r.http_only !== null) rec.httpOnly = num(r.http_only) === 1;
  return rec;
}

function sourceColumns(s: UploadSource) {
  switch (s.kind) {
    case "commit":
      return { source_kind: s.kind, source_sha: s.sha, source_path: s.path, source_issue: null, source_comment: null };
    case "issue":
      return {
        source_kind: s.kind,
        source_sha: null,
        source_path: s.file,
        source_issue: s.issueNumber,
        source_comment: s.commentId ?? null,
      };
    case "command":
      return {
        source_kind: s.kind,
        source_sha: null,
        source_path: null,
        source_issue: s.issueNumber,
        source_comment: s.commentId ?? null,
      };
    case "api":
      return { source_kind: s.kind, source_sha: null, source_path: s.enterprise, source_issue: null, source_comment: null };
  }
}

type SourceRow = Pick<Selectable<UploadsTable>, "source_kind" | "source_sha" | "source_path" | "source_issue" | "source_comment">;

function toSource(r: SourceRow): UploadSource {
  const commentId = numOrNull(r.source_comment);
  switch (r.source_kind) {
    case "commit":
      return { kind: "commit", sha: r.source_sha ?? "", path: r.source_path ?? "" };
    case "issue":
      return {
        kind: "issue",
        issueNumber: num(r.source_issue ?? 0),
        file: r.source_path ?? "",
        ...(commentId !== null ? { commentId } : {}),
      };
    case "api":
      return { kind: "api", enterprise: r.source_path ?? "" };
    default:
      return { kind: "command", issueNumber: num(r.source_issue ?? 0), ...(commentId !== null ? { commentId } : {}) };
  }
}

function toUpload(r: Selectable<UploadsTable>): UploadRow {
  const hasTotals = r.seats !== null;
  return {
    id: num(r.id),
    outcome: r.outcome as UploadOutcome,
    ...(r.subject === "cloud" ? { subject: "cloud" as const } : {}),
    serverId: r.server_id,
    hostName: r.host_name,
    source: toSource(r),
    uploader: r.uploader,
    deliveryId: r.delivery_id,
    contentSha256: r.content_sha256,
    at: toDate(r.at),
    accountCount: numOrNull(r.account_count),
    added: numOrNull(r.added),
    removed: numOrNull(r.removed),
    totals: hasTotals
      ? {
          seats: num(r.seats ?? 0),
          accounts: num(r.accounts ?? 0),
          deduplicated: num(r.deduplicated ?? 0),
          instances: num(r.instance_count ?? 0),
          ...(r.enterprise_seats !== null ? { enterpriseSeats: num(r.enterprise_seats) } : {}),
        }
      : null,
    errorSummary: r.error_summary,
  };
}

function toCloudReport(r: Selectable<CloudReportsTable>): CloudReportRecord {
  return {
    file: r.file,
    format: r.format === "json" ? "json" : "csv",
    memberCount: num(r.member_count),
    reportedSeats: numOrNull(r.reported_seats),
    linkedHosts: JSON.parse(r.linked_hosts) as string[],
    contentSha256: r.content_sha256,
    recordedAt: toDate(r.recorded_at),
    uploader: r.uploader,
    source: toSource(r),
  };
}

class Reader implements LedgerReader {
  constructor(
    protected readonly tx: Kysely<Database>,
    protected readonly repoId: number,
    protected readonly ops: DialectOps,
  ) {}

  async instances(): Promise<InstanceRecord[]> {
    const rows = await this.tx
      .selectFrom("instances")
      .selectAll()
      .where("ledger_id", "=", this.repoId)
      .orderBy("host_name")
      .orderBy("server_id")
      .execute();
    return rows.map(toInstance);
  }

  async instance(serverId: string): Promise<InstanceRecord | undefined> {
    const row = await this.tx
      .selectFrom("instances")
      .selectAll()
      .where("ledger_id", "=", this.repoId)
      .where("server_id", "=", serverId)
      .executeTakeFirst();
    return row && toInstance(row);
  }

  /** Every instance of the ledger (or the one asked for, if it exists) has an entry, possibly []. */
  async accounts(serverId?: string): Promise<Map<string, IdentifiedAccount[]>> {
    const sets = await this.accountSets(serverId);
    return new Map([...sets].map(([id, set]) => [id, set.toAccounts()]));
  }

  async accountSets(serverId?: string): Promise<Map<string, AccountSet>> {
    const map = new Map<string, AccountSet>();
    let instances = this.tx.selectFrom("instances").select("server_id").where("ledger_id", "=", this.repoId);
    if (serverId !== undefined) instances = instances.where("server_id", "=", serverId);
    for (const r of await instances.orderBy("server_id").execute()) map.set(r.server_id, EMPTY_SET);
    for (const r of await this.storedSets(serverId)) map.set(r.server_id, decodeAccountSet(r.logins, r.data, `instance ${r.server_id}`));
    return map;
  }

  private async storedSets(serverId?: string): Promise<StoredAccountSet[]> {
    if (this.ops.accountSets) return this.ops.accountSets(this.tx, this.repoId, serverId);
    let sets = this.tx.selectFrom("account_sets").select(["server_id", "logins", "data"]).where("ledger_id", "=", this.repoId);
    if (serverId !== undefined) sets = sets.where("server_id", "=", serverId);
    return sets.orderBy("server_id").execute();
  }

  async history(limit = 50): Promise<UploadRow[]> {
    const rows = await this.tx
      .selectFrom("uploads")
      .selectAll()
      .where("ledger_id", "=", this.repoId)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toUpload);
  }

  async lastFromSource(source: UploadSource): Promise<UploadRow | undefined> {
    let q = this.tx.selectFrom("uploads").selectAll().where("ledger_id", "=", this.repoId);
    for (const [column, value] of Object.entries(sourceColumns(source)) as [keyof SourceRow, string | number | null][]) {
      q = value === null ? q.where(column, "is", null) : q.where(column, "=", value);
    }
    const row = await q.orderBy("id", "desc").limit(1).executeTakeFirst();
    return row && toUpload(row);
  }

  async findRecorded(query: {
    deliveryId?: string;
    serverId?: string;
    contentSha256?: string;
    subject?: "export" | "cloud";
  }): Promise<UploadRow | undefined> {
    let q = this.tx
      .selectFrom("uploads")
      .selectAll()
      .where("ledger_id", "=", this.repoId)
      .where("outcome", "=", "recorded");
    if (query.subject !== undefined) q = q.where("subject", "=", query.subject);
    if (query.deliveryId !== undefined) q = q.where("delivery_id", "=", query.deliveryId);
    if (query.serverId !== undefined) q = q.where("server_id", "=", query.serverId);
    if (query.contentSha256 !== undefined) q = q.where("content_sha256", "=", query.contentSha256);
    const row = await q.orderBy("id", "desc").limit(1).executeTakeFirst();
    return row && toUpload(row);
  }

  async countedSeats(): Promise<{ state: string; seats: number } | undefined> {
    const row = await this.tx
      .selectFrom("ledgers")
      .select(["counted_state", "counted_seats"])
      .where("repo_id", "=", this.repoId)
      .executeTakeFirst();
    return row?.counted_state != null && row.counted_seats != null ? { state: row.counted_state, seats: Number(row.counted_seats) } : undefined;
  }

  async ledgerIds(): Promise<Uint8Array | null> {
    if (this.ops.ledgerIds) return this.ops.ledgerIds(this.tx, this.repoId);
    const row = await this.tx.selectFrom("ledger_ids").select("data").where("ledger_id", "=", this.repoId).executeTakeFirst();
    return row ? row.data : null;
  }

  async cloudFetch(): Promise<CloudFetchState | undefined> {
    const row = await this.tx.selectFrom("cloud_fetches").select("state").where("ledger_id", "=", this.repoId).executeTakeFirst();
    return row && decodeCloudFetch(row.state);
  }

  async cloudReport(): Promise<CloudReportRecord | undefined> {
    const row = await this.tx.selectFrom("cloud_reports").selectAll().where("ledger_id", "=", this.repoId).executeTakeFirst();
    return row && toCloudReport(row);
  }

  async cloudMembers(): Promise<CloudMember[]> {
    const rows = await this.tx
      .selectFrom("cloud_members")
      .select(["login", "keys", "links", "visual_studio"])
      .where("ledger_id", "=", this.repoId)
      .orderBy("ordinal")
      .execute();
    return rows.map(decodeCloudMember);
  }
}

class Writer extends Reader implements LedgerWriter {
  async upsertInstance(r: InstanceRecord): Promise<void> {
    const values = {
      ledger_id: this.repoId,
      server_id: r.serverId,
      host_name: r.hostName,
      ghes_version: r.ghesVersion ?? null,
      http_only: r.httpOnly === undefined ? null : r.httpOnly ? 1 : 0,
      first_upload_at: iso(r.firstUploadAt),
      last_upload_at: iso(r.lastUploadAt),
      account_count: r.accountCount,
      content_sha256: r.contentSha256,
    };
    await this.tx
      .insertInto("instances")
      .values(values)
      .onConflict((oc) =>
        oc.columns(["ledger_id", "server_id"]).doUpdateSet({
          host_name: values.host_name,
          ghes_version: values.ghes_version,
          http_only: values.http_only,
          first_upload_at: values.first_upload_at,
          last_upload_at: values.last_upload_at,
          account_count: values.account_count,
          content_sha256: values.content_sha256,
        }),
      )
      .execute();
  }

  async replaceAccounts(serverId: string, accounts: IdentifiedAccount[] | AccountSet): Promise<void> {
    await (await this.sendAccounts(serverId, accounts instanceof AccountSet ? accounts : AccountSet.fromAccounts(accounts))).stored;
  }

  async sendAccounts(serverId: string, set: AccountSet): Promise<{ stored: Promise<void> }> {
    await this.tx
      .deleteFrom("account_sets")
      .where("ledger_id", "=", this.repoId)
      .where("server_id", "=", serverId)
      .execute();
    if (!set.count) return { stored: Promise.resolve() };
    const { logins, data } = encodeAccountSet(set);
    const row = { ledger_id: this.repoId, server_id: serverId, account_count: set.count, logins, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
    if (this.ops.sendAccountSet) return this.ops.sendAccountSet(this.tx, row);
    await this.tx.insertInto("account_sets").values(row).execute();
    return { stored: Promise.resolve() };
  }

  async removeInstance(serverId: string): Promise<void> {
    await this.tx
      .deleteFrom("account_sets")
      .where("ledger_id", "=", this.repoId)
      .where("server_id", "=", serverId)
      .execute();
    await this.tx
      .deleteFrom("instances")
      .where("ledger_id", "=", this.repoId)
      .where("server_id", "=", serverId)
      .execute();
  }

  async replaceCloudReport(record: CloudReportRecord, members: CloudMember[]): Promise<void> {
    await this.removeCloudReport();
    await this.tx
      .insertInto("cloud_reports")
      .values({
        ledger_id: this.repoId,
        file: record.file,
        format: record.format,
        member_count: record.memberCount,
        reported_seats: record.reportedSeats,
        linked_hosts: JSON.stringify(record.linkedHosts),
        content_sha256: record.contentSha256,
        recorded_at: iso(record.recordedAt),
        uploader: record.uploader,
        ...sourceColumns(record.source),
      })
      .execute();
    if (members.length) await this.ops.insertCloudMembers(this.tx, this.repoId, members);
  }

  async removeCloudReport(): Promise<void> {
    await this.tx.deleteFrom("cloud_members").where("ledger_id", "=", this.repoId).execute();
    await this.tx.deleteFrom("cloud_reports").where("ledger_id", "=", this.repoId).execute();
  }

  async appendUpload(row: NewUploadRow): Promise<number> {
    const inserted = await this.tx
      .insertInto("uploads")
      .values({
        ledger_id: this.repoId,
        outcome: row.outcome,
        server_id: row.serverId,
        host_name: row.hostName,
        ...sourceColumns(row.source),
        uploader: row.uploader,
        delivery_id: row.deliveryId,
        content_sha256: row.contentSha256,
        at: iso(row.at ?? new Date()),
        account_count: row.accountCount,
        added: row.added,
        removed: row.removed,
        seats: row.totals?.seats ?? null,
        accounts: row.totals?.accounts ?? null,
        deduplicated: row.totals?.deduplicated ?? null,
        instance_count: row.totals?.instances ?? null,
        enterprise_seats: row.totals?.enterpriseSeats ?? null,
        error_summary: row.errorSummary,
        subject: row.subject ?? "export",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return num(inserted.id);
  }

  async saveCountedSeats(state: string, seats: number): Promise<void> {
    await this.tx.updateTable("ledgers").set({ counted_state: state, counted_seats: seats }).where("repo_id", "=", this.repoId).execute();
  }

  async saveLedgerIds(data: Uint8Array): Promise<void> {
    const value = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // the value sent once (tens of MB), the update taking it from the row that conflicted
    await this.tx
      .insertInto("ledger_ids")
      .values({ ledger_id: this.repoId, data: value })
      .onConflict((oc) => oc.column("ledger_id").doUpdateSet({ data: (eb) => eb.ref("excluded.data") }))
      .execute();
  }

  async saveCloudFetch(state: CloudFetchState): Promise<void> {
    const values = {
      ledger_id: this.repoId,
      enterprise: state.enterprise,
      attempted_at: iso(state.attemptedAt),
      state: encodeCloudFetch(state),
    };
    await this.tx
      .insertInto("cloud_fetches")
      .values(values)
      .onConflict((oc) => oc.column("ledger_id").doUpdateSet({ enterprise: values.enterprise, attempted_at: values.attempted_at, state: values.state }))
      .execute();
  }
}

export class KyselyLedgerStore implements LedgerStore {
  readonly dialect: "sqlite" | "postgres";

  constructor(
    readonly db: Kysely<Database>,
    private readonly ops: DialectOps,
  ) {
    this.dialect = ops.name;
  }

  write<T>(ledger: LedgerKey, fn: (tx: LedgerWriter) => Promise<T>): Promise<T> {
    return this.ops.transaction(this.db, "write", async (tx) => {
      const now = iso(new Date());
      // The ledger row must exist before it can be locked; the upsert also records a rename.
      await tx
        .insertInto("ledgers")
        .values({ repo_id: ledger.repoId, full_name: ledger.fullName, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column("repo_id").doUpdateSet({ full_name: ledger.fullName, updated_at: now }))
        .execute();
      await this.ops.lockLedger(tx, ledger.repoId);
      return fn(new Writer(tx, ledger.repoId, this.ops));
    });
  }

  read<T>(ledger: LedgerKey, fn: (tx: LedgerReader) => Promise<T>): Promise<T> {
    return this.ops.transaction(this.db, "read", (tx) => fn(new Reader(tx, ledger.repoId, this.ops)));
  }

  async checkKeyFingerprint(fingerprint: string): Promise<void> {
    const stored = await this.db
      .insertInto("meta")
      .values({ key: FINGERPRINT_KEY, value: fingerprint })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute()
      .then(() =>
        this.db.selectFrom("meta").select("value").where("key", "=", FINGERPRINT_KEY).executeTakeFirstOrThrow(),
      );
    if (stored.value !== fingerprint) throw new IdentityKeyMismatchError();
  }

  async claimReplyTarget(target: string, holder: string, leaseUntil: number, now: number): Promise<{ replyId: number | null } | null> {
    // One statement, atomic on both dialects: insert, or take over a free or expired lease.
    const row = await this.db
      .insertInto("reply_targets")
      .values({ target, reply_id: null, holder, lease_until: leaseUntil })
      .onConflict((oc) =>
        oc
          .column("target")
          .doUpdateSet({ holder, lease_until: leaseUntil })
          .where((eb) => eb.or([eb("reply_targets.lease_until", "<", now), eb("reply_targets.holder", "=", holder)])),
      )
      .returning(["reply_id"])
      .executeTakeFirst();
    return row ? { replyId: numOrNull(row.reply_id) } : null;
  }

  async renewReplyTarget(target: string, holder: string, leaseUntil: number): Promise<boolean> {
    const r = await this.db
      .updateTable("reply_targets")
      .set({ lease_until: leaseUntil })
      .where("target", "=", target)
      .where("holder", "=", holder)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async releaseReplyTarget(target: string, holder: string, replyId: number | null): Promise<void> {
    await this.db
      .updateTable("reply_targets")
      .set(replyId === null ? { holder: null, lease_until: 0 } : { holder: null, lease_until: 0, reply_id: replyId })
      .where("target", "=", target)
      .where("holder", "=", holder)
      .execute();
  }

  /** Health check: the database answers. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.ops.close?.();
    await this.db.destroy();
  }
}
