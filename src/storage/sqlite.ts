// SQLite adapter: one embedded file (WAL), one connection. kysely serialises everything on that
// connection; writes additionally start with BEGIN IMMEDIATE so that a second process on the same
// file waits (busy_timeout) instead of interleaving: a single writer.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Sqlite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { AccountRow, DialectOps } from "./kysely-store.js";
import type { Database } from "./schema.js";

/** 5 bound values per row; SQLite allows 32,766 variables per statement. */
const ROWS_PER_INSERT = 2000;

export const sqliteOps: DialectOps = {
  name: "sqlite",
  async transaction(db, mode, fn) {
    return db.connection().execute(async (conn) => {
      await sql.raw(mode === "write" ? "begin immediate" : "begin").execute(conn);
      try {
        const result = await fn(conn);
        await sql.raw("commit").execute(conn);
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
  async insertAccounts(tx, repoId, serverId, rows: AccountRow[]) {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT).map((r) => ({ ledger_id: repoId, server_id: serverId, ...r }));
      await tx.insertInto("accounts").values(chunk).execute();
    }
  },
};

/** `path` is a file path or ":memory:". The file's directory is created if missing. */
export function createSqliteDb(path: string): Kysely<Database> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new Sqlite(path);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 10000");
  database.pragma("foreign_keys = ON");
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}
