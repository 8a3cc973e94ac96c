// The PostgreSQL adapter's own transactions (a checked-out pg client, kysely over it, COPY on it):
// failures inside them end them cleanly and give the connection back, or close it; nothing leaks
// from one transaction into the next on the same connection. PostgreSQL when reachable; always
// when REQUIRE_POSTGRES=1.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { sql, type Kysely } from "kysely";
import { Socket } from "node:net";
import pg from "pg";
import { AccountSet } from "../../src/domain/account-set.js";
import type { KyselyLedgerStore } from "../../src/storage/kysely-store.js";
import { clientSocket } from "../../src/storage/postgres-socket.js";
import type { Database } from "../../src/storage/schema.js";
import type { InstanceRecord, LedgerKey } from "../../src/storage/ledger-store.js";
import { PG_URL, postgresAdapter, postgresReachable, REQUIRE_POSTGRES, type Adapter } from "./support.js";

const pgUp = await postgresReachable();

if (!pgUp && REQUIRE_POSTGRES) {
  describe("postgres", () => {
    it("is reachable (REQUIRE_POSTGRES=1)", () => {
      throw new Error("PostgreSQL is not reachable at TEST_DATABASE_URL; it is required here");
    });
  });
}

let nextRepo = 5000;
const newLedger = (): LedgerKey => {
  const repoId = ++nextRepo;
  return { repoId, fullName: `acme/tx-${repoId}` };
};
const record = (serverId: string, count: number, sha = "s1"): InstanceRecord => {
  const at = new Date("2025-01-02T03:04:05.000Z");
  return { serverId, hostName: `h-${serverId}`, ghesVersion: "3.17.4", firstUploadAt: at, lastUploadAt: at, accountCount: count, contentSha256: sha };
};
const set = (n: number, from = 0) => AccountSet.fromAccounts(Array.from({ length: n }, (_, i) => ({ userId: i + 1, login: `u${from + i}`, primary: [`k${from + i}`], secondary: [] })));

/** The reader's or writer's own connection (test-only peek at the kysely it wraps). */
const conn = (tx: object) => (tx as { tx: Kysely<Database> }).tx;

/** Fails the test instead of hanging when a connection was never given back (the tests' pools hold 4). */
const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms: a connection not given back?`)), ms).unref())]);

describe.each(pgUp ? [0] : [])("postgres transactions", () => {
  let adapter: Adapter;
  let store: KyselyLedgerStore;
  beforeAll(async () => {
    adapter = postgresAdapter();
    store = await adapter.open(adapter.fresh());
  });
  afterAll(async () => {
    await adapter.cleanup();
  });

  it("a failed statement that fn catches and goes past: the write throws and nothing of it is committed", async () => {
    const ledger = newLedger();
    await store.write(ledger, (tx) => tx.upsertInstance(record("srv-1", 1)));
    await expect(
      store.write(ledger, async (tx) => {
        await tx.upsertInstance(record("srv-2", 1));
        // a statement the server refuses: the transaction is aborted, whatever fn does next
        await sql`select 1/0`.execute(conn(tx)).catch(() => undefined);
        return "went on";
      }),
    ).rejects.toThrow();
    expect((await store.read(ledger, (tx) => tx.instances())).map((r) => r.serverId)).toEqual(["srv-1"]);
  });

  it("gives every connection back: many more failed transactions (thrown, refused, aborted, COPY of a ledger) than the pool holds, then concurrent ones answer", async () => {
    const ledger = newLedger();
    await store.write(ledger, async (tx) => {
      await tx.replaceAccounts("srv-a", set(3));
      await tx.upsertInstance(record("srv-a", 3));
    });
    const failures: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      failures.push(store.write(ledger, async () => Promise.reject(new Error(`thrown ${i}`))));
      failures.push(store.read(ledger, async (tx) => {
        await tx.accountSets();
        throw new Error(`thrown after a COPY ${i}`);
      }));
      // a write statement in a read-only transaction: refused by the server
      failures.push(store.read(ledger, async (tx) => tx.ledgerIds().then(() => sql`create table nope (x int)`.execute(conn(tx)))));
    }
    const settled = await within(20_000, Promise.allSettled(failures));
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
    const answers = await within(
      20_000,
      Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? store.read(ledger, (tx) => tx.accountSets()) : store.write(ledger, (tx) => tx.accountSets("srv-a"))))),
    );
    for (const a of answers) expect(a.get("srv-a")!.count).toBe(3);
    await within(5_000, store.ping());
  });

  it("a connection broken inside a transaction: the read fails and the next transactions answer", async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const ledger = newLedger();
      for (let i = 0; i < 6; i++) {
        await expect(
          store.read(ledger, async (tx) => {
            const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn(tx));
            await admin.query("select pg_terminate_backend($1, 5000)", [rows[0]!.pid]);
            return tx.accountSets();
          }),
        ).rejects.toThrow();
      }
      expect(await within(10_000, store.read(ledger, (tx) => tx.instances()))).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it("sends a set and goes on while the server stores it: `stored` settles once the insert is done", async () => {
    const ledger = newLedger();
    await store.write(ledger, (tx) => tx.upsertInstance(record("srv-a", 0)));
    // every insert into the sets' table held up 300 ms by the server (a trigger of this test's schema)
    const slow = sql`create or replace function slow_insert() returns trigger language plpgsql as $$ begin perform pg_sleep(0.3); return new; end $$`;
    await slow.execute(store.db);
    await sql`create trigger slow_insert before insert on account_sets for each row execute function slow_insert()`.execute(store.db);
    try {
      const seen = await within(10_000, store.write(ledger, async (tx) => {
        const sent = await tx.sendAccounts("srv-a", set(20_000));
        // on its way, not stored: the server is still in the trigger (a settled `stored` would win the race)
        const before = await Promise.race([sent.stored.then(() => "stored"), new Promise((resolve) => setImmediate(() => resolve("on its way")))]);
        await sent.stored;
        return before;
      }));
      expect(seen).toBe("on its way");
      expect((await store.read(ledger, (tx) => tx.accountSets("srv-a"))).get("srv-a")!.count).toBe(20_000);
    } finally {
      await sql`drop trigger slow_insert on account_sets`.execute(store.db);
    }
  });

  it("finds pg's socket where sendAccountSet waits on it to drain (pg keeps it out of its public API)", async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      expect(clientSocket(client)).toBeInstanceOf(Socket);
    } finally {
      await client.end();
    }
  });

  it("reads only the server id asked for, whatever its characters (COPY takes it as a literal)", async () => {
    const ledger = newLedger();
    const ids = ["srv-'q'", "a\\' or true --", "b\\", "'; drop table account_sets; --", "ü'\\\\'"];
    await store.write(ledger, async (tx) => {
      for (const [i, id] of ids.entries()) {
        await tx.replaceAccounts(id, set(i + 1, 100 * i));
        await tx.upsertInstance(record(id, i + 1));
      }
    });
    for (const [i, id] of ids.entries()) {
      const got = await store.read(ledger, (tx) => tx.accountSets(id));
      expect([...got.keys()]).toEqual([id]);
      expect(got.get(id)!.count).toBe(i + 1);
    }
    expect((await store.read(ledger, (tx) => tx.accountSets("x' or '1'='1"))).size).toBe(0);
    expect((await store.read(ledger, (tx) => tx.accountSets())).size).toBe(ids.length);
  });
});
