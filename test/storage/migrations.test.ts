// Migrations that move data: a database written at an older schema version, opened by this one.
import { afterAll, describe, expect, it } from "@jest/globals";
import { sql } from "kysely";
import { openStore } from "../../src/storage/open-store.js";
import { adapterCases } from "../helpers/stores.js";

const cases = await adapterCases();

describe.each(cases)("migrations on $name", ({ make }) => {
  const adapter = make();
  afterAll(() => adapter.cleanup());

  it("0005 moves each instance's account rows into one account set, read back the same (by user id)", async () => {
    const loc = adapter.fresh();
    const old = await adapter.open({ ...loc, options: { ...loc.options, migrateUpTo: "0004_reply_targets" } });
    const now = new Date().toISOString();
    await sql`insert into ledgers (repo_id, full_name, created_at, updated_at) values (7, 'acme/usage', ${now}, ${now})`.execute(old.db);
    for (const [server, count] of [["srv-a", 3], ["srv-b", 1]] as const) {
      await sql`insert into instances (ledger_id, server_id, host_name, ghes_version, http_only, first_upload_at, last_upload_at, account_count, content_sha256)
        values (7, ${server}, ${`${server}.corp`}, '3.17.0', 0, ${now}, ${now}, ${count}, 'ab')`.execute(old.db);
    }
    // Inserted out of user-id order; one account with no keys at all.
    const rows: [string, number, string, string][] = [
      ["srv-a", 30, "carol", "p:kc s:kc2"],
      ["srv-a", 10, "alice", "p:ka"],
      ["srv-a", 20, "bob", ""],
      ["srv-b", 5, "alice", "p:ka s:kz"],
    ];
    for (const [server, id, login, identities] of rows) {
      await sql`insert into accounts (ledger_id, server_id, user_id, login, identities) values (7, ${server}, ${id}, ${login}, ${identities})`.execute(old.db);
    }
    await old.close();

    const store = await adapter.open(loc);
    const accounts = await store.read({ repoId: 7, fullName: "acme/usage" }, (tx) => tx.accounts());
    expect(Object.fromEntries(accounts)).toEqual({
      "srv-a": [
        { userId: 10, login: "alice", primary: ["ka"], secondary: [] },
        { userId: 20, login: "bob", primary: [], secondary: [] },
        { userId: 30, login: "carol", primary: ["kc"], secondary: ["kc2"] },
      ],
      "srv-b": [{ userId: 5, login: "alice", primary: ["ka"], secondary: ["kz"] }],
    });
    const tables = store.dialect === "sqlite"
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(store.db)).rows.map((r) => r.name);
    expect(tables).toContain("account_sets");
    expect(tables).not.toContain("accounts");
  });

  it("0007 turns each JSON account set (either form) into the binary one, read back the same", async () => {
    const loc = adapter.fresh();
    const old = await adapter.open({ ...loc, options: { ...loc.options, migrateUpTo: "0006_counted_seats" } });
    const now = new Date().toISOString();
    await sql`insert into ledgers (repo_id, full_name, created_at, updated_at) values (8, 'acme/usage', ${now}, ${now})`.execute(old.db);
    const k1 = "q83vEjRWeJCrze8SNFZ4kA";
    const k2 = "_____________________w";
    const sets: [string, unknown[]][] = [
      // as 0006 writes it, hashed keys; a login with an escape, one with a lone surrogate
      ["srv-a", [[3, 7, 12], ["ann", "b\u0000b", "c\ud800"], [[k1], [], [k2, k1]], [[k2], [], []]]],
      // made-up keys (and an empty one) are kept as written
      ["srv-b", [[1, 2], ["x", "y"], [["p1", ""], []], [[], ["s2"]]]],
      // as 0005 first wrote it: tagged identities
      ["srv-c", [[5, 6], ["ann", "zed"], [`p:${k1} s:${k2}`, ""]]],
    ];
    for (const [server, data] of sets) {
      await sql`insert into instances (ledger_id, server_id, host_name, ghes_version, http_only, first_upload_at, last_upload_at, account_count, content_sha256)
        values (8, ${server}, ${`${server}.corp`}, '3.17.0', 0, ${now}, ${now}, ${(data[0] as number[]).length}, 'ab')`.execute(old.db);
      const json = JSON.stringify(data);
      await sql`insert into account_sets (ledger_id, server_id, account_count, data) values (8, ${server}, ${(data[0] as number[]).length}, ${json})`.execute(old.db);
    }
    await old.close();

    const store = await adapter.open(loc);
    const ledger = { repoId: 8, fullName: "acme/usage" };
    const accounts = await store.read(ledger, (tx) => tx.accounts());
    expect(Object.fromEntries(accounts)).toEqual({
      "srv-a": [
        { userId: 3, login: "ann", primary: [k1], secondary: [k2] },
        { userId: 7, login: "b\u0000b", primary: [], secondary: [] },
        { userId: 12, login: "c\ud800", primary: [k2, k1], secondary: [] },
      ],
      "srv-b": [
        { userId: 1, login: "x", primary: ["p1", ""], secondary: [] },
        { userId: 2, login: "y", primary: [], secondary: ["s2"] },
      ],
      "srv-c": [
        { userId: 5, login: "ann", primary: [k1], secondary: [k2] },
        { userId: 6, login: "zed", primary: [], secondary: [] },
      ],
    });
    const compact = await store.read(ledger, (tx) => tx.accountSets());
    expect(compact.get("srv-a")!.keyWords).not.toBeNull();
    expect(compact.get("srv-b")!.keyTexts).not.toBeNull();
    const type = store.dialect === "sqlite"
      ? (await sql<{ type: string }>`select type from pragma_table_info('account_sets') where name = 'data'`.execute(store.db)).rows[0]?.type
      : (await sql<{ type: string }>`select data_type as type from information_schema.columns where table_schema = current_schema() and table_name = 'account_sets' and column_name = 'data'`.execute(store.db)).rows[0]?.type;
    expect(type?.toLowerCase()).toBe(store.dialect === "sqlite" ? "blob" : "bytea");
    // written again by the app, read the same
    await store.write(ledger, (tx) => tx.replaceAccounts("srv-a", accounts.get("srv-a")!));
    expect((await store.read(ledger, (tx) => tx.accounts("srv-a"))).get("srv-a")).toEqual(accounts.get("srv-a"));
    await store.close();
  });

  it("0010 adds the ledgers' interned ids (none at first), kept as written, and keeps what was there", async () => {
    const loc = adapter.fresh();
    const old = await adapter.open({ ...loc, options: { ...loc.options, migrateUpTo: "0009_account_sets_logins_uncompressed" } });
    const ledger = { repoId: 11, fullName: "acme/usage" };
    const accounts = [{ userId: 1, login: "mona", primary: ["q83vEjRWeJCrze8SNFZ4kA"], secondary: [] }];
    await old.write(ledger, (tx) => tx.replaceAccounts("srv-a", accounts));
    await old.close();

    const store = await adapter.open(loc);
    expect(await store.read(ledger, (tx) => tx.ledgerIds())).toBeNull();
    // compressible, as a ledger's ids are somewhat: stored as written on PostgreSQL all the same
    const ids = new Uint8Array(400_000).map((_, i) => i & 3);
    await store.write(ledger, (tx) => tx.saveLedgerIds(ids));
    expect(Buffer.from((await store.read(ledger, (tx) => tx.ledgerIds()))!).equals(Buffer.from(ids))).toBe(true);
    expect((await store.read(ledger, (tx) => tx.accounts("srv-a"))).get("srv-a")).toEqual(accounts);
    if (store.dialect === "postgres") {
      const size = await sql<{ stored: number; length: number }>`select pg_column_size(data) as stored, octet_length(data) as length from ledger_ids where ledger_id = 11`.execute(store.db);
      expect(size.rows[0]!.stored).toBe(size.rows[0]!.length);
    }
    await store.close();
  });

  // 0008 and 0009: a column PostgreSQL compressed by default stores new values as they are
  it.each([
    { migration: "0008", before: "0007_account_sets_binary", column: "data", primary: ["q83vEjRWeJCrze8SNFZ4kA"] },
    { migration: "0009", before: "0008_account_sets_data_uncompressed", column: "logins", primary: [] },
  ])("$migration keeps rows written before it (compressed on PostgreSQL) and stores new $column uncompressed", async ({ before, column, primary }) => {
    const loc = adapter.fresh();
    const old = await adapter.open({ ...loc, options: { ...loc.options, migrateUpTo: before } });
    const ledger = { repoId: 9, fullName: "acme/usage" };
    // compressible enough that PostgreSQL's default storage compresses it
    const many = Array.from({ length: 2000 }, (_, i) => ({ userId: i + 1, login: `user${i}`, primary, secondary: [] }));
    await old.write(ledger, (tx) => tx.replaceAccounts("srv-a", many));
    await old.close();

    const store = await adapter.open(loc);
    expect((await store.read(ledger, (tx) => tx.accounts("srv-a"))).get("srv-a")).toEqual(many);
    await store.write(ledger, (tx) => tx.replaceAccounts("srv-b", many));
    expect((await store.read(ledger, (tx) => tx.accounts("srv-b"))).get("srv-b")).toEqual(many);
    if (store.dialect === "postgres") {
      const sizes = await sql<{ server_id: string; stored: number; length: number }>`
        select server_id, pg_column_size(${sql.ref(column)}) as stored, octet_length(${sql.ref(column)}) as length
        from account_sets where ledger_id = 9 order by server_id`.execute(store.db);
      const [a, b] = sizes.rows;
      expect(a!.stored).toBeLessThan(a!.length);
      expect(b!.stored).toBe(b!.length);
    }
    await store.close();
  });
});

// kysely lists the tables of every schema before migrating: a schema someone else drops meanwhile
// must not fail the start-up (seen with parallel test runs dropping their schemas). In a database
// of its own, so the churn disturbs no other test.
(cases.some((c) => c.name === "postgres") ? describe : describe.skip)("migrations on a busy PostgreSQL database", () => {
  it("opens while other schemas are being created and dropped", async () => {
    const { default: pg } = await import("pg");
    const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
    const database = `ls_churn_${process.pid}`;
    const server = new pg.Client({ connectionString: url.toString() });
    await server.connect();
    await server.query(`drop database if exists ${database}`);
    await server.query(`create database ${database}`);
    url.pathname = `/${database}`;
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        await admin.query(`create schema other_${i}; create table other_${i}.t (x int)`);
        await admin.query(`drop schema other_${i} cascade`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const stores = [];
    try {
      for (let i = 0; i < 12; i++) {
        const store = await openStore(url.toString(), { postgres: { schema: `ledger_${i}`, max: 2 } });
        stores.push(store);
        expect(store.dialect).toBe("postgres");
      }
    } finally {
      churning = false;
      await churn;
      await admin.end();
      for (const s of stores) await s.close();
      await server.query(`drop database if exists ${database}`);
      await server.end();
    }
  });
});
