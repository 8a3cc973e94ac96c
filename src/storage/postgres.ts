// PostgreSQL adapter: a pg Pool shared by the app; several replicas may use one database. A write
// locks its ledger's row (SELECT … FOR UPDATE) for the whole transaction, so uploads to one ledger
// serialise across replicas while other ledgers proceed.
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { encodeCloudMember, type DialectOps } from "./kysely-store.js";
import type { Database } from "./schema.js";

/** Rows per INSERT … SELECT FROM unnest(): a few array parameters whatever the size; chunked to bound memory. */
const ROWS_PER_INSERT = 50_000;

export const postgresOps: DialectOps = {
  name: "postgres",
  async transaction(db, mode, fn) {
    if (mode === "read") {
      // One snapshot for the whole read, so a summary never mixes two uploads.
      return db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(fn);
    }
    return db.transaction().execute(fn);
  },
  async lockLedger(tx, repoId) {
    await tx.selectFrom("ledgers").select("repo_id").where("repo_id", "=", repoId).forUpdate().execute();
  },
  async insertCloudMembers(tx, repoId, members) {
    for (let i = 0; i < members.length; i += ROWS_PER_INSERT) {
      const chunk = members.slice(i, i + ROWS_PER_INSERT).map(encodeCloudMember);
      await sql`
        insert into cloud_members (ledger_id, ordinal, login, keys, links, visual_studio)
        select ${repoId}, t.ordinal, t.login, t.keys, t.links, t.visual_studio
        from unnest(${sql.val(chunk.map((_, j) => i + j))}::integer[],
                    ${sql.val(chunk.map((m) => m.login))}::text[],
                    ${sql.val(chunk.map((m) => m.keys))}::text[],
                    ${sql.val(chunk.map((m) => m.links))}::text[],
                    ${sql.val(chunk.map((m) => m.visual_studio))}::integer[]) as t(ordinal, login, keys, links, visual_studio)
      `.execute(tx);
    }
  },
};

export interface PostgresOptions {
  /** Schema to use (created if missing) instead of the connection's default search_path. */
  schema?: string;
  max?: number;
  onPoolError?: (err: Error) => void;
}

export async function createPostgresDb(url: string, options: PostgresOptions = {}): Promise<Kysely<Database>> {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  if (schema) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", options.onPoolError ?? (() => undefined));
  // Nor a checked-out one: a backend killed between two statements of a transaction (failover,
  // admin, idle timeout) emits 'error' on the client, which the pool only listens to while idle.
  // The transaction's next statement fails and the write is rolled back and thrown instead.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
