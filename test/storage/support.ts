// Shared by the storage and ledger tests: made-up exports built in code, and the two adapters
// (SQLite in a temp file; PostgreSQL in a throw-away schema, skipped when unreachable unless
// REQUIRE_POSTGRES=1).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { openStore, type OpenStoreOptions } from "../../src/storage/open-store.js";
import type { KyselyLedgerStore } from "../../src/storage/kysely-store.js";

export interface User {
  id: number;
  login: string;
  /** Primary e-mail; omitted: no e-mail at all. */
  email?: string;
  others?: string[];
  suspended?: boolean;
}

export function exportJson(serverId: string, hostName: string, users: User[], version = "3.17.4"): Uint8Array {
  const doc = {
    version: 1,
    instance: { server_id: serverId, host_name: hostName, version, http_only: false },
    users: users.map((u) => ({
      user_id: u.id,
      login: u.login,
      site_admin: false,
      ...(u.suspended ? { suspended: true } : {}),
      emails: [
        ...(u.email !== undefined ? [{ email: u.email, primary: true }] : []),
        ...(u.others ?? []).map((email) => ({ email })),
      ],
    })),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** n people p<from>..p<from+n-1> with addresses at corp.example; user ids start at idBase. */
export function people(from: number, n: number, idBase = 1): User[] {
  return Array.from({ length: n }, (_, i) => ({
    id: idBase + i,
    login: `user${from + i}`,
    email: `Person.${from + i}@Corp.Example`,
    others: [`p${from + i}@users.noreply.corp.example`],
  }));
}

export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REQUIRE_POSTGRES = process.env.REQUIRE_POSTGRES === "1";

export async function postgresReachable(url = PG_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A place a store can be opened (possibly several times: two "replicas" on one database). */
export interface Location {
  url: string;
  options: OpenStoreOptions;
}

export interface Adapter {
  name: "sqlite" | "postgres";
  /** A fresh, empty database location. */
  fresh(): Location;
  open(loc: Location): Promise<KyselyLedgerStore>;
  /** Closes every store opened and removes every location. */
  cleanup(): Promise<void>;
}

function tracking(name: Adapter["name"], fresh: () => Location, drop: (locs: Location[]) => Promise<void>): Adapter {
  const stores: KyselyLedgerStore[] = [];
  const locations: Location[] = [];
  return {
    name,
    fresh() {
      const loc = fresh();
      locations.push(loc);
      return loc;
    },
    async open(loc) {
      const store = await openStore(loc.url, loc.options);
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
      await drop(locations.splice(0));
    },
  };
}

export function sqliteAdapter(): Adapter {
  const dir = mkdtempSync(join(tmpdir(), "ls-test-"));
  let n = 0;
  return tracking(
    "sqlite",
    () => ({ url: `sqlite:${join(dir, `db${++n}`, "ledger.db")}`, options: {} }),
    async () => rmSync(dir, { recursive: true, force: true }),
  );
}

export function postgresAdapter(url = PG_URL): Adapter {
  const run = `ls_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let n = 0;
  return tracking(
    "postgres",
    () => ({ url, options: { postgres: { schema: `${run}_${++n}`, max: 4 } } }),
    async (locs) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const l of locs) await client.query(`drop schema if exists ${l.options.postgres!.schema!} cascade`);
      } finally {
        await client.end();
      }
    },
  );
}

/** Every text column of every table, with the number of values containing `needle`. */
export async function scanTextColumns(store: KyselyLedgerStore, needle: string): Promise<{ column: string; hits: number }[]> {
  const cols: { table: string; column: string }[] = [];
  if (store.dialect === "sqlite") {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db);
    for (const { name } of tables.rows) {
      const info = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${name})`.execute(store.db);
      for (const c of info.rows) if (/text|char|clob/i.test(c.type)) cols.push({ table: name, column: c.name });
    }
  } else {
    const info = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and data_type in ('text', 'character varying', 'character')`.execute(store.db);
    for (const c of info.rows) cols.push({ table: c.table_name, column: c.column_name });
  }
  const out: { column: string; hits: number }[] = [];
  for (const { table, column } of cols) {
    const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} like ${"%" + needle + "%"}`.execute(store.db);
    out.push({ column: `${table}.${column}`, hits: Number(r.rows[0]!.n) });
  }
  return out;
}
