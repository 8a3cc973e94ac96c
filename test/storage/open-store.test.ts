import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { sql } from "kysely";
import { DatabaseUrlError, openStore, parseDatabaseUrl } from "../../src/storage/open-store.js";

describe("parseDatabaseUrl", () => {
  it("defaults to SQLite under ./data", () => {
    expect(parseDatabaseUrl()).toEqual({ dialect: "sqlite", path: resolve("data/license-sync.db") });
  });

  it("reads sqlite: paths, :memory: and postgres URLs", () => {
    expect(parseDatabaseUrl("sqlite:/var/lib/ls.db")).toEqual({ dialect: "sqlite", path: "/var/lib/ls.db" });
    expect(parseDatabaseUrl("sqlite:///var/lib/ls.db")).toEqual({ dialect: "sqlite", path: "/var/lib/ls.db" });
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ dialect: "sqlite", path: ":memory:" });
    expect(parseDatabaseUrl("postgres://u@h/db")).toEqual({ dialect: "postgres", url: "postgres://u@h/db" });
    expect(parseDatabaseUrl("postgresql://u@h/db").dialect).toBe("postgres");
  });

  it("refuses other schemes without echoing the URL (it may hold a password)", () => {
    expect(() => parseDatabaseUrl("mysql://root:hunter2@db/x")).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl("mysql://root:hunter2@db/x")).not.toThrow(/hunter2/);
    expect(() => parseDatabaseUrl("sqlite:")).toThrow(/needs a file path/);
  });
});

describe("openStore (SQLite)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ls-open-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the file's directory, uses WAL and migrates", async () => {
    const path = join(dir, "nested", "deeper", "ledger.db");
    const store = await openStore(`sqlite:${path}`);
    try {
      expect(existsSync(path)).toBe(true);
      expect(store.dialect).toBe("sqlite");
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(mode.rows[0]!.journal_mode).toBe("wal");
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(store.db);
      expect(tables.rows.map((r) => r.name)).toEqual(
        expect.arrayContaining(["account_sets", "instances", "ledgers", "meta", "uploads", "kysely_migration"]),
      );
    } finally {
      await store.close();
    }
  });

  it("opens an in-memory database for tests", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      expect(await store.read({ repoId: 1, fullName: "a/b" }, (tx) => tx.instances())).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
