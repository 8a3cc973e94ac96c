// openStore: DATABASE_URL -> a migrated LedgerStore. sqlite:<path> (default ./data/license-sync.db),
// sqlite::memory: (tests), postgres://… or postgresql://….
import { resolve } from "node:path";
import { DEFAULT_DATABASE_URL } from "../settings.js";
import { KyselyLedgerStore } from "./kysely-store.js";
import { migrateToLatest } from "./migrations.js";
import { createPostgres, type PostgresOptions } from "./postgres.js";
import { createSqlite } from "./sqlite.js";

export class DatabaseUrlError extends Error {
  override name = "DatabaseUrlError";
}

export type StoreLocation = { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string };

export function parseDatabaseUrl(url: string = DEFAULT_DATABASE_URL): StoreLocation {
  const u = url.trim();
  if (/^postgres(ql)?:\/\//i.test(u)) return { dialect: "postgres", url: u };
  const m = /^sqlite:(.*)$/i.exec(u);
  if (m) {
    let path = m[1]!;
    if (path.startsWith("//")) path = path.slice(2); // sqlite:///abs/path.db
    if (!path) throw new DatabaseUrlError("DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/license-sync.db");
    return { dialect: "sqlite", path: path === ":memory:" ? path : resolve(path) };
  }
  // Never echo the URL: it may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(u)?.[1];
  throw new DatabaseUrlError(
    `DATABASE_URL: unsupported ${scheme ? `scheme "${scheme}:"` : "value"}; use sqlite:<path> or postgres://user@host/db`,
  );
}

export interface OpenStoreOptions {
  postgres?: PostgresOptions;
  /** Stop at this migration (tests of a later migration); the latest when absent. */
  migrateUpTo?: string;
}

/** Opens the database and brings its schema up to date. */
export async function openStore(url?: string, options: OpenStoreOptions = {}): Promise<KyselyLedgerStore> {
  const loc = parseDatabaseUrl(url);
  let store: KyselyLedgerStore;
  if (loc.dialect === "sqlite") {
    const { db, ops } = createSqlite(loc.path);
    store = new KyselyLedgerStore(db, ops);
  } else {
    const { db, ops } = await createPostgres(loc.url, options.postgres);
    store = new KyselyLedgerStore(db, ops);
  }
  try {
    await migrateToLatest(store.db, loc.dialect, options.migrateUpTo);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
