// SQLite adapter: one embedded file (WAL), one connection. kysely serialises everything on that
// connection; writes additionally start with BEGIN IMMEDIATE so that a second process on the same
// file waits (busy_timeout) instead of interleaving: a single writer.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Sqlite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { encodeCloudMember, type DialectOps } from "./kysely-store.js";
import type { Database } from "./schema.js";
import { checkpointsElsewhere, type Checkpoints } from "./sqlite-checkpoints.js";

/** Rows per prepared multi-row INSERT: 6 bound values each, well under SQLite's 32,766 variables. */
const ROWS_PER_INSERT = 500;

/**
 * The dialect's operations over one better-sqlite3 handle. Bulk inserts use that handle's prepared
 * statements directly: kysely runs on the same single connection, so they are part of the open
 * transaction, and they skip compiling a fresh 2,500-parameter query for every chunk.
 */
export function sqliteOpsFor(database: Sqlite.Database, checkpoints: Checkpoints | null = null): DialectOps {
  const memberStatements = new Map<number, Sqlite.Statement>();
  const insertMembers = (rows: number) => {
    let stmt = memberStatements.get(rows);
    if (!stmt) {
      const values = Array.from({ length: rows }, () => "(?, ?, ?, ?, ?, ?)").join(", ");
      stmt = database.prepare(`insert into cloud_members (ledger_id, ordinal, login, keys, links, visual_studio) values ${values}`);
      memberStatements.set(rows, stmt);
    }
    return stmt;
  };
  return {
    name: "sqlite",
    async transaction(db, mode, fn) {
      return db.connection().execute(async (conn) => {
        await sql.raw(mode === "write" ? "begin immediate" : "begin").execute(conn);
        try {
          const result = await fn(conn);
          await sql.raw("commit").execute(conn);
          if (mode === "write") checkpoints?.written();
          return result;
        } catch (err) {
          // SQLite may already have rolled back on its own (e.g. disk full); keep the original error.
          await sql.raw("rollback").execute(conn).catch(() => undefined);
          throw err;
        }
      });
    },
    async lockLedger() {
      // BEGIN IMMEDIATE already holds the database's write lock.
    },
    async close() {
      await checkpoints?.close();
    },
    async insertCloudMembers(_tx, repoId, members) {
      const params: (number | string)[] = [];
      for (let i = 0; i < members.length; i += ROWS_PER_INSERT) {
        const end = Math.min(members.length, i + ROWS_PER_INSERT);
        params.length = 0;
        for (let j = i; j < end; j++) {
          const m = encodeCloudMember(members[j]!);
          params.push(repoId, j, m.login, m.keys, m.links, m.visual_studio);
        }
        insertMembers(end - i).run(params);
      }
    },
  };
}

/** `path` is a file path or ":memory:". The file's directory is created if missing. */
export function createSqlite(path: string): { db: Kysely<Database>; ops: DialectOps } {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new Sqlite(path);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 10000");
  database.pragma("foreign_keys = ON");
  // a file's log checkpointed by a thread of its own, not by the commits (see sqlite-checkpoints.ts)
  const checkpoints = path === ":memory:" ? null : checkpointsElsewhere(database, path);
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), ops: sqliteOpsFor(database, checkpoints) };
}
