// The database fails mid-ingest (a writer call throws after its statements ran; PostgreSQL: the
// backend is terminated inside the transaction; or the database is closed): nothing partial is
// kept, the delivery fails so GitHub can redeliver it, and a redelivery (or the same content in a
// new delivery) records the upload exactly once.
import { describe, it, expect, beforeAll, beforeEach, afterEach, afterAll } from "@jest/globals";
import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import nock from "nock";
import pg from "pg";
import type { Probot } from "probot";
import { licenseSync, type AppOptions } from "../../src/index.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { LedgerService } from "../../src/ledger/service.js";
import { DEFAULT_MATCH_OPTIONS } from "../../src/domain/types.js";
import type { KyselyLedgerStore } from "../../src/storage/kysely-store.js";
import type { LedgerWriter } from "../../src/storage/ledger-store.js";
import type { Database } from "../../src/storage/schema.js";
import { PG_URL, type Adapter, type Location } from "../storage/support.js";
import { API, createTestProbot, nockInstallationToken } from "../helpers/probot.js";
import { FULL_NAME, REPO_ID, pushPayload } from "../helpers/payloads.js";
import { exportJson, users } from "../helpers/exports.js";
import { testSettings } from "../helpers/ledger.js";
import { nockPush, noReplies, type PushedFile } from "../helpers/push-flow.js";
import { adapterCases } from "../helpers/stores.js";
import { FaultyStore, InjectedFault, type WriterMethod } from "../helpers/faulty-store.js";

const LEDGER = { repoId: REPO_ID, fullName: FULL_NAME };
const sha = (c: string) => c.repeat(40);
const contentSha = (f: PushedFile) => createHash("sha256").update(f.bytes).digest("hex");
const A1: PushedFile = { path: "license-usage/a.json", blobSha: "a1", bytes: exportJson("srv-a", "ghes-a.corp.example", users(1, 40)) };
const B1: PushedFile = { path: "license-usage/b.json", blobSha: "b1", bytes: exportJson("srv-b", "ghes-b.corp.example", users(30, 45)) };
const A2: PushedFile = { path: "license-usage/a.json", blobSha: "a2", bytes: exportJson("srv-a", "ghes-a.corp.example", users(11, 60)) };
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const cases = await adapterCases();

/** The error a handler threw (Probot's receive rejects with an AggregateError of them). */
async function handlerError(p: Promise<unknown>): Promise<unknown> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AggregateError);
  return (err as AggregateError).errors[0];
}

describe.each(cases)("database failure mid-ingest: $name", ({ name, make }) => {
  let adapter: Adapter;
  let location: Location;
  let faulty: FaultyStore;
  let deps: AppOptions;
  let probot: Probot;

  const serviceOver = (store: FaultyStore | KyselyLedgerStore) =>
    new LedgerService(store, createIdentityHasher("test-identity-key"), { maxBytes: 10 * 1024 * 1024 });
  const ledger = () => deps.ledger;

  beforeAll(() => {
    adapter = make();
  });
  afterAll(async () => {
    await adapter.cleanup();
  });

  beforeEach(async () => {
    nock.disableNetConnect();
    location = adapter.fresh();
    faulty = new FaultyStore(await adapter.open(location));
    deps = { ledger: serviceOver(faulty), settings: testSettings() };
    probot = createTestProbot();
    await probot.load(licenseSync(deps));
    const replies = noReplies();
    nockPush({ after: sha("1"), files: [A1, B1], token: true }, replies);
    await push("d-0", sha("1"));
    expect(replies.created[0]).toContain("## 45 seats consumed");
  });

  afterEach(async () => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  const push = (id: string, after: string) => probot.receive({ id, name: "push", payload: pushPayload({ after }) } as never);

  /** The ledger exactly as d-0 left it: srv-a's first accounts and content, two history rows. */
  async function expectUntouched() {
    const inner = faulty.inner;
    const { accounts, instance } = await inner.read(LEDGER, async (tx) => ({ accounts: await tx.accounts("srv-a"), instance: await tx.instance("srv-a") }));
    expect(accounts.get("srv-a")?.map((a) => a.userId)).toEqual(range(1, 40));
    expect(instance).toMatchObject({ accountCount: 40, contentSha256: contentSha(A1) });
    const history = await inner.read(LEDGER, (tx) => tx.history(100));
    expect(history.map((h) => [h.outcome, h.serverId, h.deliveryId])).toEqual([
      ["recorded", "srv-b", "d-0"],
      ["recorded", "srv-a", "d-0"],
    ]);
    expect((await ledger().summary(LEDGER, DEFAULT_MATCH_OPTIONS)).totals.seats).toBe(45);
  }

  /** A2 recorded exactly once, whatever delivered it, and the ledger counts it. */
  async function expectRecordedOnce() {
    const history = await ledger().history(LEDGER, 100);
    expect(history.filter((h) => h.contentSha256 === contentSha(A2))).toHaveLength(1);
    expect(history.filter((h) => h.outcome === "recorded")).toHaveLength(3);
    expect((await ledger().summary(LEDGER, DEFAULT_MATCH_OPTIONS)).totals).toEqual({ seats: 50, accounts: 66, deduplicated: 16, instances: 2 });
  }

  async function deliverA2(id: string, after: string) {
    const replies = noReplies();
    nockPush({ after, files: [A2] }, replies);
    await push(id, after);
    expect(replies.created).toHaveLength(1);
    return replies.created[0]!;
  }

  // sendAccounts: the pushed set, sent while the ledger is counted (replaceAccounts where it is not a set)
  const METHODS: WriterMethod[] = ["sendAccounts", "upsertInstance", "appendUpload"];

  it.each(METHODS)("%s fails: nothing kept, the delivery fails, its redelivery records once, a new delivery of the same content does not", async (method) => {
    faulty.failNext({ method });
    nockPush({ after: sha("2"), files: [A2], reply: "none" }, noReplies());
    expect(await handlerError(push("d-1", sha("2")))).toBeInstanceOf(InjectedFault);
    expect(faulty.fired).toBe(1);
    await expectUntouched();

    expect(await deliverA2("d-1", sha("2"))).toContain("`license-usage/a.json`: **recorded**: ghes-a.corp.example, 50 accounts (+20 / −10 accounts since its previous upload)");
    expect(await deliverA2("d-2", sha("3"))).toContain("`license-usage/a.json`: **already recorded**");
    await expectRecordedOnce();
  });

  it("appendUpload fails: the same content in a new delivery records it once; the late redelivery of the failed one then says already recorded", async () => {
    faulty.failNext({ method: "appendUpload" });
    nockPush({ after: sha("2"), files: [A2], reply: "none" }, noReplies());
    expect(await handlerError(push("d-1", sha("2")))).toBeInstanceOf(InjectedFault);
    await expectUntouched();

    expect(await deliverA2("d-2", sha("3"))).toContain("`license-usage/a.json`: **recorded**");
    expect(await deliverA2("d-1", sha("2"))).toContain("`license-usage/a.json`: **already recorded**");
    await expectRecordedOnce();
  });

  it("the database is closed: the delivery fails; after a restart its redelivery records once", async () => {
    await faulty.inner.close();
    nockPush({ after: sha("2"), files: [A2], reply: "none" }, noReplies());
    await expect(push("d-1", sha("2"))).rejects.toThrow();

    // "Restart": the same database opened again, a new service.
    faulty = new FaultyStore(await adapter.open(location));
    deps = { ...deps, ledger: serviceOver(faulty) };
    probot = createTestProbot();
    await probot.load(licenseSync(deps));
    nockInstallationToken(nock(API));
    await expectUntouched();
    expect(await deliverA2("d-1", sha("2"))).toContain("**recorded**: ghes-a.corp.example, 50 accounts");
    await expectRecordedOnce();
  });

  if (name === "postgres") {
    it("the backend is terminated inside the transaction: rolled back, the delivery fails, the pool recovers and the redelivery records once", async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        faulty.failNext({
          method: "sendAccounts",
          throws: false,
          action: async (tx: LedgerWriter) => {
            // The writer's own connection (test-only peek at the kysely transaction it wraps).
            const conn = (tx as unknown as { tx: Kysely<Database> }).tx;
            const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn);
            // Waits (up to 5 s) until the backend is gone.
            await admin.query("select pg_terminate_backend($1, 5000)", [rows[0]!.pid]);
          },
        });
        nockPush({ after: sha("2"), files: [A2], reply: "none" }, noReplies());
        const err = await handlerError(push("d-1", sha("2")));
        expect(err).not.toBeInstanceOf(InjectedFault);
        expect(String(err)).toMatch(/terminat|not queryable|Connection/i);
        expect(faulty.fired).toBe(1);
        await expectUntouched();

        expect(await deliverA2("d-1", sha("2"))).toContain("**recorded**: ghes-a.corp.example, 50 accounts");
        await expectRecordedOnce();
      } finally {
        await admin.end();
      }
    });
  }
});
