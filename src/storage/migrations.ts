// Versioned schema migrations, run at start-up by openStore. In code (no files to ship), and the
// few dialect differences (auto-increment ids, time and big-integer types) are chosen here.
import { sql, type Kysely } from "kysely";
import { Migrator, type Migration, type MigrationProvider } from "kysely/migration";
import { AccountSet } from "../domain/account-set.js";
import { decodeLegacyAccountSet, encodeAccountSet } from "./account-set-codec.js";
import type { Database } from "./schema.js";

export type Dialect = "sqlite" | "postgres";

function migrations(dialect: Dialect): Record<string, Migration> {
  const pg = dialect === "postgres";
  const time = pg ? sql`timestamptz` : sql`text`;
  const big = pg ? sql`bigint` : sql`integer`;
  return {
    "0001_ledger": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("ledgers")
          .addColumn("repo_id", big, (c) => c.primaryKey())
          .addColumn("full_name", "text", (c) => c.notNull())
          .addColumn("created_at", time, (c) => c.notNull())
          .addColumn("updated_at", time, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("instances")
          .addColumn("ledger_id", big, (c) => c.notNull().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("server_id", "text", (c) => c.notNull())
          .addColumn("host_name", "text", (c) => c.notNull())
          .addColumn("ghes_version", "text")
          .addColumn("http_only", "integer")
          .addColumn("first_upload_at", time, (c) => c.notNull())
          .addColumn("last_upload_at", time, (c) => c.notNull())
          .addColumn("account_count", "integer", (c) => c.notNull())
          .addColumn("content_sha256", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("instances_pk", ["ledger_id", "server_id"])
          .execute();
        await db.schema
          .createTable("accounts")
          .addColumn("ledger_id", big, (c) => c.notNull())
          .addColumn("server_id", "text", (c) => c.notNull())
          .addColumn("user_id", big, (c) => c.notNull())
          .addColumn("login", "text", (c) => c.notNull())
          .addColumn("identities", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("accounts_pk", ["ledger_id", "server_id", "user_id"])
          .execute();
        await db.schema
          .createTable("uploads")
          .addColumn("id", pg ? sql`bigserial` : sql`integer`, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn("ledger_id", big, (c) => c.notNull().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("server_id", "text")
          .addColumn("host_name", "text")
          .addColumn("source_kind", "text", (c) => c.notNull())
          .addColumn("source_sha", "text")
          .addColumn("source_path", "text")
          .addColumn("source_issue", "integer")
          .addColumn("source_comment", big)
          .addColumn("uploader", "text", (c) => c.notNull())
          .addColumn("delivery_id", "text")
          .addColumn("content_sha256", "text")
          .addColumn("at", time, (c) => c.notNull())
          .addColumn("account_count", "integer")
          .addColumn("added", "integer")
          .addColumn("removed", "integer")
          .addColumn("seats", "integer")
          .addColumn("accounts", "integer")
          .addColumn("deduplicated", "integer")
          .addColumn("instance_count", "integer")
          .addColumn("error_summary", "text")
          .execute();
        await db.schema.createIndex("uploads_ledger_id").on("uploads").columns(["ledger_id", "id"]).execute();
        await db.schema.createIndex("uploads_delivery").on("uploads").columns(["ledger_id", "delivery_id"]).execute();
        await db.schema
          .createIndex("uploads_content")
          .on("uploads")
          .columns(["ledger_id", "server_id", "content_sha256"])
          .execute();
        await db.schema
          .createTable("meta")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .execute();
      },
    },
    // The live cloud report's last attempt per ledger (credential outcomes, GitHub's sync status).
    "0002_cloud_fetch": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("cloud_fetches")
          .addColumn("ledger_id", big, (c) => c.primaryKey().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("enterprise", "text", (c) => c.notNull())
          .addColumn("attempted_at", time, (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .execute();
      },
    },
    // The GHEC license report: one per ledger, its members' keys as keyed hashes only.
    "0003_cloud_report": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("uploads")
          .addColumn("subject", "text", (c) => c.notNull().defaultTo("export"))
          .execute();
        await db.schema.alterTable("uploads").addColumn("enterprise_seats", "integer").execute();
        await db.schema
          .createTable("cloud_reports")
          .addColumn("ledger_id", big, (c) => c.primaryKey().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("file", "text", (c) => c.notNull())
          .addColumn("format", "text", (c) => c.notNull())
          .addColumn("member_count", "integer", (c) => c.notNull())
          .addColumn("reported_seats", "integer")
          .addColumn("linked_hosts", "text", (c) => c.notNull())
          .addColumn("content_sha256", "text", (c) => c.notNull())
          .addColumn("recorded_at", time, (c) => c.notNull())
          .addColumn("uploader", "text", (c) => c.notNull())
          .addColumn("source_kind", "text", (c) => c.notNull())
          .addColumn("source_sha", "text")
          .addColumn("source_path", "text")
          .addColumn("source_issue", "integer")
          .addColumn("source_comment", big)
          .execute();
        await db.schema
          .createTable("cloud_members")
          .addColumn("ledger_id", big, (c) => c.notNull())
          .addColumn("ordinal", "integer", (c) => c.notNull())
          .addColumn("login", "text", (c) => c.notNull())
          .addColumn("keys", "text", (c) => c.notNull())
          .addColumn("links", "text", (c) => c.notNull())
          .addColumn("visual_studio", "integer", (c) => c.notNull())
          .addPrimaryKeyConstraint("cloud_members_pk", ["ledger_id", "ordinal"])
          .execute();
      },
    },
    // Who writes each reply (commit comment, issue comment, dashboard issue) right now: a lease, so
    // two replicas never both create one; and the reply's id, should GitHub's lists lag behind.
    "0004_reply_targets": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("reply_targets")
          .addColumn("target", "text", (c) => c.primaryKey())
          .addColumn("reply_id", big)
          .addColumn("holder", "text")
          .addColumn("lease_until", big, (c) => c.notNull())
          .execute();
      },
    },
    // One row per instance instead of one per account: a ledger of 20 instances × 100,000
    // accounts is 20 rows to read after a restart, and a push writes one row, not 100,000.
    "0005_account_sets": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("account_sets")
          .addColumn("ledger_id", big, (c) => c.notNull().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("server_id", "text", (c) => c.notNull())
          .addColumn("account_count", "integer", (c) => c.notNull())
          .addColumn("data", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("account_sets_pk", ["ledger_id", "server_id"])
          .execute();
        const sets = await sql<{ ledger_id: number | string; server_id: string }>`select distinct ledger_id, server_id from accounts`.execute(db);
        for (const set of sets.rows) {
          const rows = await sql<{ user_id: number | string; login: string; identities: string }>`
            select user_id, login, identities from accounts
            where ledger_id = ${set.ledger_id} and server_id = ${set.server_id} order by user_id`.execute(db);
          const data = JSON.stringify([rows.rows.map((r) => Number(r.user_id)), rows.rows.map((r) => r.login), rows.rows.map((r) => r.identities)]);
          await sql`insert into account_sets (ledger_id, server_id, account_count, data)
            values (${set.ledger_id}, ${set.server_id}, ${rows.rows.length}, ${data})`.execute(db);
        }
        await db.schema.dropTable("accounts").execute();
      },
    },
    // The GHES seats of the ledger's state after its last write, and which state that was: the next
    // push's "before", so a push right after a restart counts the ledger once, not twice.
    "0006_counted_seats": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("ledgers").addColumn("counted_state", "text").execute();
        await db.schema.alterTable("ledgers").addColumn("counted_seats", "integer").execute();
      },
    },
    // Account sets binary (see account-set-codec.ts): read back after a restart with no JSON and no
    // string per key, 16 bytes per key instead of a 22-character string. Rows converted one at a time.
    "0007_account_sets_binary": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("account_sets_binary")
          .addColumn("ledger_id", big, (c) => c.notNull().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("server_id", "text", (c) => c.notNull())
          .addColumn("account_count", "integer", (c) => c.notNull())
          .addColumn("logins", "text", (c) => c.notNull())
          .addColumn("data", pg ? sql`bytea` : sql`blob`, (c) => c.notNull())
          .addPrimaryKeyConstraint("account_sets_binary_pk", ["ledger_id", "server_id"])
          .execute();
        const sets = await sql<{ ledger_id: number | string; server_id: string }>`select ledger_id, server_id from account_sets order by ledger_id, server_id`.execute(db);
        for (const set of sets.rows) {
          const row = await sql<{ account_count: number | string; data: string }>`
            select account_count, data from account_sets where ledger_id = ${set.ledger_id} and server_id = ${set.server_id}`.execute(db);
          const old = row.rows[0]!;
          const { logins, data } = encodeAccountSet(AccountSet.fromAccounts(decodeLegacyAccountSet(old.data)));
          await sql`insert into account_sets_binary (ledger_id, server_id, account_count, logins, data)
            values (${set.ledger_id}, ${set.server_id}, ${old.account_count}, ${logins}, ${Buffer.from(data.buffer, data.byteOffset, data.byteLength)})`.execute(db);
        }
        await db.schema.dropTable("account_sets").execute();
        await db.schema.alterTable("account_sets_binary").renameTo("account_sets").execute();
      },
    },
    // PostgreSQL compresses (pglz) a large value before it is stored out of line: ~0.25 s per 100k-account
    // set on every push, for binary data that barely shrinks. Stored as is from now on (EXTERNAL); rows
    // already stored keep their compressed form and are read back the same. Nothing to do on SQLite.
    "0008_account_sets_data_uncompressed": {
      async up(db: Kysely<unknown>) {
        if (pg) await sql`alter table account_sets alter column data set storage external`.execute(db);
      },
    },
    // The same for the logins' text (~1 MB per 100k-account set): compressing it cost ~12 ms of every
    // push on PostgreSQL (the push path's budget is about twice a bare parse, ~0.15 s), and reading it
    // back a decompression after each restart; it shrinks to about a third, so a ledger's sets take
    // ~1.5x the disk. Rows already stored keep their form. Nothing to do on SQLite.
    "0009_account_sets_logins_uncompressed": {
      async up(db: Kysely<unknown>) {
        if (pg) await sql`alter table account_sets alter column logins set storage external`.execute(db);
      },
    },
    // A ledger's interned ids (domain/ledger-ids.ts), written by a push of a big ledger so that a
    // restart need not intern every key and login again. Derived data: checked before use, never
    // needed. Stored uncompressed on PostgreSQL (EXTERNAL), as the account sets: ~16 MB at 20 x 100,000
    // written inside a push, where compressing it would cost more than it saves.
    "0010_ledger_ids": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("ledger_ids")
          .addColumn("ledger_id", big, (c) => c.primaryKey().references("ledgers.repo_id").onDelete("cascade"))
          .addColumn("data", pg ? sql`bytea` : sql`blob`, (c) => c.notNull())
          .execute();
        if (pg) await sql`alter table ledger_ids alter column data set storage external`.execute(db);
      },
    },
  };
}

class InCodeProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/**
 * Brings the schema to the latest version (or up to the migration `upTo`: for tests of a migration);
 * safe to run on every start (and by several replicas).
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect, upTo?: string): Promise<string[]> {
  // kysely looks for its own tables in any schema unless told which: name the current one, so a
  // database with several schemas (other apps, test runs) is migrated on its own.
  const migrationTableSchema =
    dialect === "postgres"
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(dialect),
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const migrate = () => (upTo === undefined ? migrator.migrateToLatest() : migrator.migrateTo(upTo));
  let { error, results } = await migrate();
  // kysely first lists the tables of every schema in the database; a schema dropped meanwhile by
  // someone else (another app, a test run) fails that look with invalid_schema_name. Nothing was
  // migrated then: look again.
  for (let retry = 1; error && (error as { code?: string }).code === "3F000" && !results?.length && retry <= 8; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 25 * retry));
    ({ error, results } = await migrate());
  }
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new MigrationError(
      `database migration ${failed ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
