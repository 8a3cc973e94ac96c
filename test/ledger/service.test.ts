// LedgerService behaviour that does not depend on the adapter (the contract suite in test/storage
// covers both adapters); run on in-memory SQLite.
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { gzipSync } from "node:zlib";
import { countRoom } from "../../src/domain/count.js";
import { KeyInterner } from "../../src/domain/key-ids.js";
import { decodeLedgerIds, encodeLedgerIds } from "../../src/domain/ledger-ids.js";
import { DEFAULT_MATCH_OPTIONS } from "../../src/domain/types.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { LedgerService } from "../../src/ledger/service.js";
import type { ReadElsewhere } from "../../src/ledger/export-reads.js";
import { readPlainExportSet } from "../../src/domain/fast-read.js";
import type { LedgerSummary, RecordOutcome, UploadContext } from "../../src/ledger/types.js";
import type { KyselyLedgerStore } from "../../src/storage/kysely-store.js";
import type { LedgerKey, LedgerReader, LedgerStore, LedgerWriter } from "../../src/storage/ledger-store.js";
import { openStore } from "../../src/storage/open-store.js";
import { exportJson, people } from "../storage/support.js";
import { cloudCsv } from "../helpers/exports.js";

const ledger = { repoId: 42, fullName: "acme/licenses" };
const ctx = (options = DEFAULT_MATCH_OPTIONS): UploadContext => ({ ledger, uploader: "mona", deliveryId: "d1", options });
const source = { kind: "commit", sha: "abc", path: "u.json" } as const;

let store: KyselyLedgerStore;
let service: LedgerService;
beforeEach(async () => {
  store = await openStore("sqlite::memory:");
  service = new LedgerService(store, createIdentityHasher("k"), { maxBytes: 64 * 1024 });
});
afterEach(async () => {
  await store.close();
});

describe("LedgerService", () => {
  it("refuses a new instance past the ledger's cap, with a reply saying what to do; known instances still update", async () => {
    const capped = new LedgerService(store, createIdentityHasher("k"), { maxBytes: 64 * 1024, maxInstances: 3 });
    const upload = (id: string, from: number) => ({ file: `${id}.json`, bytes: exportJson(id, `${id}.example`, people(from, 2)), source });
    await capped.recordUploads(ctx(), [upload("srv-1", 0), upload("srv-2", 0), upload("srv-3", 0)]);
    const out = await capped.recordUploads(ctx(), [upload("srv-4", 0), upload("srv-2", 5)]);
    expect(out.results.map((r) => r.status)).toEqual(["refused", "recorded"]);
    const refused = out.results[0] as Extract<(typeof out.results)[number], { status: "refused" }>;
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]!.message).toMatch(/already records 3 instances, the most it takes.*srv-4.*\/license-sync forget.*MAX_INSTANCES_PER_LEDGER/);
    expect(out.summary.totals.instances).toBe(3);
    expect((await capped.history(ledger))[1]).toMatchObject({ outcome: "refused", serverId: "srv-4", totals: null });
    // room again once one is forgotten
    await capped.forget(ctx(), "srv-1", { kind: "command", issueNumber: 1 });
    const again = await capped.recordUploads(ctx(), [upload("srv-4", 0)]);
    expect(again.results[0]!.status).toBe("recorded");
  });

  it("takes a push's seats before from the state they were counted for: after a restart, another replica's write, other match options", async () => {
    const upload = (id: string, users: Parameters<typeof exportJson>[2]) => ({ file: `${id}.json`, bytes: exportJson(id, `${id}.example`, users), source });
    const mona = (id: number, email: string) => ({ id, login: "mona", email, others: [] });
    // srv-1 and srv-2: 10 people each, 5 shared; mona on both under two addresses (two seats by e-mail, one by login).
    await service.recordUploads(ctx(), [upload("srv-1", [...people(0, 10), mona(100, "mona@a.example")]), upload("srv-2", [...people(5, 10), mona(101, "mona@b.example")])]);
    expect((await service.summary(ledger, DEFAULT_MATCH_OPTIONS)).totals.seats).toBe(17);

    // A restart: a new service, nothing remembered in memory.
    const restarted = new LedgerService(store, createIdentityHasher("k"), { maxBytes: 64 * 1024 });
    const grown = await restarted.recordUploads(ctx(), [upload("srv-2", [...people(5, 15), mona(101, "mona@b.example")])]);
    expect(grown.results[0]).toMatchObject({ status: "recorded", seatDelta: 5 });
    expect(grown.summary.totals.seats).toBe(22);

    // Another replica changes the ledger; the first service's memory of the old state must not be used.
    await restarted.recordUploads(ctx(), [upload("srv-3", people(100, 3))]);
    const back = await service.recordUploads(ctx(), [upload("srv-3", people(100, 4))]);
    expect(back.results[0]).toMatchObject({ status: "recorded", seatDelta: 1 });

    // Matching logins too: mona is one person, so the seats before are 25 - 1, not the 25 stored.
    const byLogin = { ...DEFAULT_MATCH_OPTIONS, logins: true };
    const third = await restarted.recordUploads(ctx(byLogin), [upload("srv-4", people(200, 2))]);
    expect(third.results[0]).toMatchObject({ status: "recorded", seatDelta: 2 });
    expect(third.summary.totals.seats).toBe(27);
  });

  it("counts many ledgers in turn the same as a service that never counted them (interned keys let go and made again)", async () => {
    const ledgers = Array.from({ length: 11 }, (_, i) => ({ repoId: 1000 + i, fullName: `acme/l${i}` }));
    for (const [i, l] of ledgers.entries()) {
      await service.recordUploads({ ...ctx(), ledger: l }, [
        { file: "a.json", bytes: exportJson("srv-a", "a.example", people(i, 6)), source },
        { file: "b.json", bytes: exportJson("srv-b", "b.example", people(i + 3, 6)), source },
      ]);
    }
    const fresh = new LedgerService(store, createIdentityHasher("k"), { maxBytes: 64 * 1024 });
    for (const l of [...ledgers, ...ledgers.slice(0, 3)]) {
      const got = await service.summary(l, DEFAULT_MATCH_OPTIONS);
      expect(got.totals).toEqual({ seats: 9, accounts: 12, deduplicated: 3, instances: 2 });
      expect(got.report).toEqual((await fresh.summary(l, DEFAULT_MATCH_OPTIONS)).report);
    }
  });

  it("counts ledgers of other sizes in turn, with its working arrays kept between counts, as a service that never counted (#13)", async () => {
    // Logins carried by many persons on several instances (possible savings, past eight persons too), sizes up and down.
    const users = (server: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: i + 1, login: `l${i % (3 + server)}`, email: `p${(i * (server + 1)) % (n + 5)}@corp.example`, others: [] }));
    const sizes = [[40, 30, 25], [6, 3], [55, 12, 60, 8], [2, 9]];
    const ledgers = sizes.map((_, i) => ({ repoId: 2000 + i, fullName: `acme/s${i}` }));
    const read = (summary: LedgerSummary) => ({ totals: summary.totals, report: JSON.parse(JSON.stringify(summary.report)) });
    for (const round of [0, 1]) {
      for (const [k, l] of ledgers.entries()) {
        const files = sizes[k]!.map((n, server) => ({ file: `s${server}.json`, bytes: exportJson(`srv-${server}`, `h${server}.example`, users(server, n + round)), source }));
        const got = await service.recordUploads({ ...ctx(), ledger: l }, files);
        const fresh = await new LedgerService(store, createIdentityHasher("k"), { maxBytes: 64 * 1024 }).summary(l, DEFAULT_MATCH_OPTIONS);
        expect(read(got.summary)).toEqual(read(fresh));
        expect(got.summary.report.possibleSavings.length).toBeGreaterThan(0);
      }
    }
    // the first ledger's report, read after the others' counts
    const first = await service.summary(ledgers[0]!, DEFAULT_MATCH_OPTIONS);
    for (const l of ledgers.slice(1)) await service.summary(l, DEFAULT_MATCH_OPTIONS);
    expect(read(first)).toEqual(read(await new LedgerService(store, createIdentityHasher("k"), { maxBytes: 64 * 1024 }).summary(ledgers[0]!, DEFAULT_MATCH_OPTIONS)));
  });

  it("records an export read straight to its account set as it records the same export read as account objects", async () => {
    // A hasher without textInto/lowerAsciiInto takes the objects' path (as every export did before).
    const hasher = createIdentityHasher("k");
    const plainStore = await openStore("sqlite::memory:");
    const plain = new LedgerService(plainStore, (e) => hasher(e), { maxBytes: 64 * 1024 });
    const odd = [
      { id: 1, login: "Mona", email: " MONA@Corp.Example ", others: ["mona@corp.example", "m\u00f6na@x.example", "M\u00d6NA@x.example"] },
      { id: 2, login: "hubot@corp.example", email: "hubot@corp.example" }, // an '@' in a login: stored hashed
      { id: 3, login: "Zoë", email: "zoë@x.example", others: ["", "   "] },
      { id: 4, login: "gone", email: "gone@x.example", suspended: true },
    ];
    const uploads = [
      { file: "a.json", bytes: exportJson("srv-1", "a.example", [...people(0, 5), ...odd.slice(0, 1), ...odd.slice(2).map((u) => ({ ...u, id: u.id + 10 }))].map((u, i) => ({ ...u, id: i + 1 }))), source },
      { file: "b.json", bytes: exportJson("srv-2", "b.example", [...people(3, 5), ...odd].map((u, i) => ({ ...u, id: i + 1 }))), source },
    ];
    try {
      const fast = await service.recordUploads(ctx(), uploads);
      const slow = await plain.recordUploads(ctx(), uploads);
      expect(fast.results).toStrictEqual(slow.results);
      const untimed = (summary: typeof fast.summary) => ({
        ...summary,
        generatedAt: 0,
        instances: summary.instances.map((r) => ({ ...r, firstUploadAt: 0, lastUploadAt: 0 })),
      });
      expect(untimed(fast.summary)).toStrictEqual(untimed(slow.summary));
      expect(fast.summary.report.accounts).toBe(15);
      const sets = (s: KyselyLedgerStore) => s.read(ledger, (tx) => tx.accountSets());
      expect(await sets(store)).toStrictEqual(await sets(plainStore));
    } finally {
      await plainStore.close();
    }
  });

  it("checkUploads validates without recording anything", async () => {
    const results = await service.checkUploads([
      { file: "ok.json", bytes: exportJson("srv-1", "ghes.a", [...people(0, 3), { id: 99, login: "gone", suspended: true }]), source },
      { file: "bad.json", bytes: new TextEncoder().encode("[]"), source },
    ]);
    expect(results[0]).toMatchObject({ status: "recorded", accounts: 3, added: null, removed: null, seatDelta: 0 });
    expect(results[1]).toMatchObject({ status: "refused", file: "bad.json" });
    expect(await service.history(ledger)).toEqual([]);
    expect((await service.summary(ledger, DEFAULT_MATCH_OPTIONS)).totals.instances).toBe(0);
  });

  it("reads gzip exports and refuses ones over the size limit", async () => {
    const big = exportJson("srv-1", "ghes.a", people(0, 2000));
    const out = await service.recordUploads(ctx(), [
      { file: "small.json.gz", bytes: gzipSync(exportJson("srv-2", "ghes.b", people(0, 5))), source },
      { file: "big.json.gz", bytes: gzipSync(big), source },
    ]);
    expect(big.length).toBeGreaterThan(64 * 1024);
    expect(out.results.map((r) => r.status)).toEqual(["recorded", "refused"]);
    expect(out.summary.totals.seats).toBe(5);
    expect((await service.history(ledger))[0]).toMatchObject({ outcome: "refused" });
  });

  it("takes the matching options per call", async () => {
    // Same logins, different e-mails: one person only when logins match.
    await service.recordUploads(ctx(), [
      { file: "a.json", bytes: exportJson("srv-a", "ghes.a", [{ id: 1, login: "Mona", email: "m@a.example" }]), source },
      { file: "b.json", bytes: exportJson("srv-b", "ghes.b", [{ id: 1, login: "mona", email: "m@b.example" }]), source },
    ]);
    expect((await service.summary(ledger, DEFAULT_MATCH_OPTIONS)).totals.seats).toBe(2);
    expect((await service.summary(ledger, { allEmails: false, logins: true })).totals.seats).toBe(1);
  });

  it("processes files in order: a later file of the same server_id wins", async () => {
    const out = await service.recordUploads(ctx(), [
      { file: "old.json", bytes: exportJson("srv-1", "ghes.a", people(0, 10)), source },
      { file: "new.json", bytes: exportJson("srv-1", "ghes.a", people(0, 4)), source },
    ]);
    expect(out.results[1]).toMatchObject({ status: "recorded", added: 0, removed: 6, seatDelta: -6 });
    expect(out.summary.totals).toEqual({ seats: 4, accounts: 4, deduplicated: 0, instances: 1 });
  });

  it("redacts anything address-like from a refusal's summary and the file's name", async () => {
    const file = "from-jane@corp.example.json";
    await service.recordUploads(ctx(), [
      { file, bytes: new TextEncoder().encode("{}"), source: { kind: "issue", issueNumber: 1, file } },
      { file, bytes: exportJson("srv-1", "ghes.a", people(0, 1)), source: { kind: "commit", sha: "a", path: `exports/${file}` } },
    ]);
    const [recorded, refused] = await service.history(ledger);
    expect(refused!.errorSummary).toContain("<redacted>");
    expect(refused!.errorSummary).not.toContain("@");
    expect(refused!.source).toEqual({ kind: "issue", issueNumber: 1, file: "<redacted>" });
    expect(recorded!.source).toEqual({ kind: "commit", sha: "a", path: "exports/<redacted>" });
  });
});

describe("the ledger's interner", () => {
  it("is kept between counts of a ledger whose accounts hold many addresses (all_emails), not rebuilt each time", async () => {
    const many = new LedgerService(store, createIdentityHasher("k"), { maxBytes: 8 * 1024 * 1024 });
    // 12,000 accounts of 6 addresses: more distinct keys than 3 per account, none of them garbage
    const users = Array.from({ length: 12_000 }, (_, i) => ({
      id: i + 1,
      login: `u${i}`,
      email: `u${i}@corp.example`,
      others: [1, 2, 3, 4, 5].map((k) => `u${i}.${k}@other.example`),
    }));
    const allEmails = { ...DEFAULT_MATCH_OPTIONS, allEmails: true };
    await many.recordUploads(ctx(allEmails), [{ file: "a.json", bytes: exportJson("srv-a", "a.example", users), source }]);
    const interners = (many as unknown as { interners: Map<number, KeyInterner> }).interners;
    const first = interners.get(ledger.repoId);
    expect(first?.emailCount).toBeGreaterThan(3 * users.length + 10_000);
    const summary = await many.summary(ledger, allEmails);
    expect(summary.totals.seats).toBe(12_000);
    expect(interners.get(ledger.repoId)).toBe(first);
  });
});

describe("seat deltas when the ledger is counted once per push", () => {
  // Two replicas on one database, each remembering the seats of states it counted; a fresh service
  // (nothing remembered) says what the seats really were before and after every push.
  it("every push's seatDelta is the fresh count's after minus before, whichever replica pushes, whatever the options", async () => {
    const fc = (await import("fast-check")).default;
    const op = fc.record({
      replica: fc.integer({ min: 0, max: 1 }),
      server: fc.integer({ min: 1, max: 3 }),
      // mostly pushes
      forgetRoll: fc.integer({ min: 0, max: 5 }),
      from: fc.integer({ min: 0, max: 6 }),
      count: fc.integer({ min: 0, max: 4 }),
      logins: fc.boolean(),
    }).map(({ forgetRoll, ...o }) => ({ ...o, forget: forgetRoll === 0 }));
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        const db = await openStore("sqlite::memory:");
        try {
          const replicas = [0, 1].map(() => new LedgerService(db, createIdentityHasher("k"), { maxBytes: 64 * 1024 }));
          const fresh = () => new LedgerService(db, createIdentityHasher("k"), { maxBytes: 64 * 1024 });
          let n = 0;
          for (const o of ops) {
            const options = { allEmails: false, logins: o.logins };
            const service = replicas[o.replica]!;
            if (o.forget) {
              await service.forget(ctx(options), `srv-${o.server}`, { kind: "command", issueNumber: 1 }).catch(() => undefined);
              continue;
            }
            const before = (await fresh().summary(ledger, options)).totals.seats;
            // the same logins on every server, e-mails differing by server: logins decide the overlap
            const users = people(o.from, o.count).map((u) => ({ ...u, email: `${u.login}@srv-${o.server}.example` }));
            const out = await service.recordUploads({ ...ctx(options), deliveryId: `d${++n}` }, [
              { file: "u.json", bytes: exportJson(`srv-${o.server}`, `ghes-${o.server}.example`, users), source },
            ]);
            const after = (await fresh().summary(ledger, options)).totals.seats;
            const result = out.results[0]!;
            if (result.status === "recorded" && "seatDelta" in result) expect(result.seatDelta).toBe(after - before);
          }
        } finally {
          await db.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("a big ledger's interned ids, stored with it", () => {
  const hasher = createIdentityHasher("k");
  const upload = (id: string, users: Parameters<typeof exportJson>[2]) => ({ file: `${id}.json`, bytes: exportJson(id, `${id}.example`, users), source });
  // instances sharing people and logins (non-ASCII, cased) under other addresses
  const usersOf = (k: number, shift = 0) => [
    ...people(10 * k + shift, 30),
    { id: 900, login: k % 2 ? "Zoë" : "ZOË", email: `zoe${k % 3}@x.example`, others: [`zoe@${k}.example`] },
    { id: 901, login: "Straße", email: "strasse@x.example" },
    { id: 902, login: k % 2 ? "İlker" : "i̇lker", email: `ilker${k}@x.example` },
  ];
  const untimed = (summary: LedgerSummary) => ({
    ...summary,
    generatedAt: 0,
    instances: summary.instances.map((r) => ({ ...r, firstUploadAt: 0, lastUploadAt: 0 })),
  });
  const untimedResults = (out: RecordOutcome) => ({ results: out.results, summary: untimed(out.summary) });

  /** The store, its transactions' ledgerIds and saveLedgerIds counted; `hide`: as if none were stored. */
  function watched(inner: LedgerStore, hide = false) {
    // sets: each accountSets call's server id ("*": every set)
    const seen = { reads: 0, saves: 0, sets: [] as string[] };
    const wrap = <T extends LedgerReader>(tx: T): T =>
      new Proxy(tx, {
        get(target, p) {
          if (p === "ledgerIds") {
            return async () => {
              seen.reads++;
              return hide ? null : target.ledgerIds();
            };
          }
          if (p === "accountSets") {
            return async (serverId?: string) => {
              seen.sets.push(serverId ?? "*");
              return target.accountSets(serverId);
            };
          }
          if (p === "saveLedgerIds") {
            return async (data: Uint8Array) => {
              seen.saves++;
              return (target as unknown as LedgerWriter).saveLedgerIds(data);
            };
          }
          const v = Reflect.get(target, p) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    const store = new Proxy(inner, {
      get(target, p) {
        if (p === "read") return <R>(l: LedgerKey, fn: (tx: LedgerReader) => Promise<R>) => target.read(l, (tx) => fn(wrap(tx)));
        if (p === "write") return <R>(l: LedgerKey, fn: (tx: LedgerWriter) => Promise<R>) => target.write(l, (tx) => fn(wrap(tx)));
        const v = Reflect.get(target, p) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { store, seen };
  }

  it.each([DEFAULT_MATCH_OPTIONS, { allEmails: true, logins: true }])("after a restart counts from them as a service without them does: summary and a push (%j)", async (options) => {
    const other = await openStore("sqlite::memory:");
    const restore = jest.spyOn(KeyInterner, "restore");
    try {
      const a = watched(store);
      const b = watched(other);
      const withIds = (s: LedgerStore) => new LedgerService(s, hasher, { maxBytes: 64 * 1024, idsMinAccounts: 1 });
      const without = (s: LedgerStore) => new LedgerService(s, hasher, { maxBytes: 64 * 1024, idsMinAccounts: Infinity });
      const seedA = withIds(a.store);
      const seedB = without(b.store);
      for (let k = 0; k < 5; k++) {
        const files = [upload(`srv-${k}`, usersOf(k))];
        await seedA.recordUploads(ctx(options), files);
        await seedB.recordUploads(ctx(options), files);
      }
      expect(a.seen.saves).toBeGreaterThan(0);
      expect(b.seen.saves).toBe(0);

      // restarts: nothing in memory; the stored ids (with their dictionary) stand in for every set
      restore.mockClear();
      a.seen.sets.length = 0;
      const summaryA = await withIds(a.store).summary(ledger, options);
      expect(restore.mock.results.map((r) => r.value instanceof KeyInterner)).toEqual([true]);
      expect(a.seen.sets).toEqual([]);
      expect(untimed(summaryA)).toStrictEqual(untimed(await without(b.store).summary(ledger, options)));

      restore.mockClear();
      const reads = a.seen.reads;
      const push = [upload("srv-1", usersOf(1, 7))];
      const pushedA = await withIds(a.store).recordUploads(ctx(options), push);
      expect(a.seen.reads).toBe(reads + 1);
      // only the replaced set, for what the push added and removed
      expect(a.seen.sets).toEqual(["srv-1"]);
      expect(restore.mock.results.map((r) => r.value instanceof KeyInterner)).toEqual([true]);
      const pushedB = await without(b.store).recordUploads(ctx(options), push);
      expect(pushedA.results[0]).toMatchObject({ status: "recorded" });
      expect(untimedResults(pushedA)).toStrictEqual(untimedResults(pushedB));
      // and the restored interner's next counts, against a fresh service's
      const again = [upload("srv-5", usersOf(5)), upload("srv-0", usersOf(0, 3))];
      expect(untimedResults(await withIds(a.store).recordUploads(ctx(options), again))).toStrictEqual(untimedResults(await without(b.store).recordUploads(ctx(options), again)));
    } finally {
      restore.mockRestore();
      await other.close();
    }
  });

  it("are saved only for a big ledger, and again only when they cover less than 3/4 of its accounts", async () => {
    const small = watched(store);
    const defaults = new LedgerService(small.store, hasher, { maxBytes: 64 * 1024 });
    for (let k = 0; k < 4; k++) await defaults.recordUploads(ctx(), [upload(`srv-${k}`, people(10 * k, 40))]);
    expect(small.seen.saves).toBe(0);
    expect(await store.read(ledger, (tx) => tx.ledgerIds())).toBeNull();

    const big = { repoId: 43, fullName: "acme/big" };
    const service = new LedgerService(small.store, hasher, { maxBytes: 64 * 1024, idsMinAccounts: 100 });
    const saves: number[] = [];
    const push = async (server: number, from: number, s = service) => {
      const before = small.seen.saves;
      await s.recordUploads({ ...ctx(), ledger: big }, [upload(`srv-${server}`, people(from, 40))]);
      saves.push(small.seen.saves - before);
    };
    await push(0, 0); // 40 accounts: not yet big
    await push(1, 10); // 80
    await push(2, 20); // 120, none covered: saved (srv-0..2)
    await push(3, 30); // 160, 120 covered (3/4)
    await push(0, 100); // 80 of 160 covered: saved (srv-0..3)
    await push(1, 110); // 120 of 160
    expect(saves).toEqual([0, 0, 1, 0, 1, 0]);
    // a restart: what the stored ids cover is what was restored (srv-1 is stale there)
    const restarted = new LedgerService(small.store, hasher, { maxBytes: 64 * 1024, idsMinAccounts: 100 });
    await push(2, 120, restarted); // 80 of 160 covered: saved
    await push(3, 130, restarted); // 120 of 160
    expect(saves.slice(6)).toEqual([1, 0]);
    expect(decodeLedgerIds((await store.read(big, (tx) => tx.ledgerIds()))!)!.entries.map((e) => e.contentSha256)).toHaveLength(4);
  });

  it("damaged or stale, are not used: counted as before, and saved again at the next push", async () => {
    const w = watched(store);
    const opts = { maxBytes: 64 * 1024, idsMinAccounts: 1 };
    const seed = new LedgerService(w.store, hasher, opts);
    for (let k = 0; k < 3; k++) await seed.recordUploads(ctx(), [upload(`srv-${k}`, usersOf(k))]);
    const expected = untimed(await new LedgerService(store, hasher, { maxBytes: 64 * 1024 }).summary(ledger, DEFAULT_MATCH_OPTIONS));
    const stored = (await store.read(ledger, (tx) => tx.ledgerIds()))!;
    const restore = jest.spyOn(KeyInterner, "restore");
    try {
      // a login id moved to another login, by a writer of version 2 (no dictionary: the sets are read
      // and a sample of them checked; a checksummed dictionary is trusted where it stands in for sets)
      const ids = decodeLedgerIds(stored)!;
      const login = ids.entries[1]!.login;
      [login[0], login[1]] = [login[1]!, login[0]!];
      const { dictionary: _, ...withoutDictionary } = ids;
      await store.write(ledger, (tx) => tx.saveLedgerIds(encodeLedgerIds(withoutDictionary)));
      expect(untimed(await new LedgerService(w.store, hasher, opts).summary(ledger, DEFAULT_MATCH_OPTIONS))).toStrictEqual(expected);
      expect(restore.mock.results.map((r) => r.value)).toEqual([null]);
      // one bit flipped in the ids: the checksum fails, not even decoded
      const flipped = stored.slice();
      flipped[stored.length - 5]! ^= 4;
      await store.write(ledger, (tx) => tx.saveLedgerIds(flipped));
      expect(untimed(await new LedgerService(w.store, hasher, opts).summary(ledger, DEFAULT_MATCH_OPTIONS))).toStrictEqual(expected);
      expect(restore).toHaveBeenCalledTimes(1);
      // cut short: not even decoded
      await store.write(ledger, (tx) => tx.saveLedgerIds(stored.subarray(0, stored.length - 8)));
      const restarted = new LedgerService(w.store, hasher, opts);
      expect(untimed(await restarted.summary(ledger, DEFAULT_MATCH_OPTIONS))).toStrictEqual(expected);
      expect(restore).toHaveBeenCalledTimes(1);
      const saves = w.seen.saves;
      await restarted.recordUploads(ctx(), [upload("srv-3", usersOf(3))]);
      expect(w.seen.saves).toBe(saves + 1);
      expect(decodeLedgerIds((await store.read(ledger, (tx) => tx.ledgerIds()))!)!.entries.map((e) => e.serverId).sort()).toEqual(["srv-0", "srv-1", "srv-2", "srv-3"]);
    } finally {
      restore.mockRestore();
    }
  });

  it("saved by an earlier version (no dictionary): restored with the sets read, and saved with it at the next push", async () => {
    const w = watched(store);
    const opts = { maxBytes: 64 * 1024, idsMinAccounts: 1 };
    const seed = new LedgerService(w.store, hasher, opts);
    for (let k = 0; k < 4; k++) await seed.recordUploads(ctx(), [upload(`srv-${k}`, usersOf(k))]);
    const { dictionary: _, ...earlier } = decodeLedgerIds((await store.read(ledger, (tx) => tx.ledgerIds()))!)!;
    await store.write(ledger, (tx) => tx.saveLedgerIds(encodeLedgerIds(earlier)));
    const expected = untimed(await new LedgerService(store, hasher, { maxBytes: 64 * 1024 }).summary(ledger, DEFAULT_MATCH_OPTIONS));
    const restore = jest.spyOn(KeyInterner, "restore");
    try {
      const restarted = new LedgerService(w.store, hasher, opts);
      w.seen.sets.length = 0;
      expect(untimed(await restarted.summary(ledger, DEFAULT_MATCH_OPTIONS))).toStrictEqual(expected);
      expect(restore.mock.results.map((r) => r.value instanceof KeyInterner)).toEqual([true]);
      expect(w.seen.sets).toEqual(["*"]);
      // one instance of four replaced: the ids saved again, now with their dictionary
      const saves = w.seen.saves;
      await restarted.recordUploads(ctx(), [upload("srv-2", usersOf(2, 5))]);
      expect(w.seen.saves).toBe(saves + 1);
      expect(decodeLedgerIds((await store.read(ledger, (tx) => tx.ledgerIds()))!)!.dictionary).toBeDefined();
    } finally {
      restore.mockRestore();
    }
  });

  it("restored, count as a service without them across other match options: saved without secondary keys, counted with all_emails, and the other way", async () => {
    const restore = jest.spyOn(KeyInterner, "restore");
    const all = { allEmails: true, logins: true };
    // a person on each instance whose secondary address is the next instance's person's primary: one seat with all_emails, several without
    const linked = (k: number, shift = 0) => [...usersOf(k, shift), { id: 903, login: `chain${k}`, email: `chain${k}@x.example`, others: [`chain${k + 1}@x.example`] }];
    try {
      for (const [saved, counted] of [[DEFAULT_MATCH_OPTIONS, all], [all, DEFAULT_MATCH_OPTIONS], [DEFAULT_MATCH_OPTIONS, DEFAULT_MATCH_OPTIONS]] as const) {
        const a = await openStore("sqlite::memory:");
        const b = await openStore("sqlite::memory:");
        try {
          const withIds = () => new LedgerService(a, hasher, { maxBytes: 64 * 1024, idsMinAccounts: 1 });
          const without = () => new LedgerService(b, hasher, { maxBytes: 64 * 1024, idsMinAccounts: Infinity });
          const seedA = withIds();
          const seedB = without();
          for (let k = 0; k < 4; k++) {
            const files = [upload(`srv-${k}`, linked(k))];
            await seedA.recordUploads(ctx(saved), files);
            await seedB.recordUploads(ctx(saved), files);
          }
          expect(decodeLedgerIds((await a.read(ledger, (tx) => tx.ledgerIds()))!)!.withSecondary).toBe(saved === all);
          restore.mockClear();
          const restartedA = withIds();
          const restartedB = without();
          expect(untimed(await restartedA.summary(ledger, counted))).toStrictEqual(untimed(await restartedB.summary(ledger, counted)));
          expect(restore.mock.results.map((r) => r.value instanceof KeyInterner)).toEqual([true]);
          // and the restored interner's next counts, with either options (stand-ins without secondary keys, then all_emails: their sets read)
          for (const [i, options] of [counted, all, saved].entries()) {
            const push = [upload("srv-1", linked(1, 5 + i)), upload(`srv-${4 + i}`, linked(4 + i))];
            expect(untimedResults(await restartedA.recordUploads(ctx(options), push))).toStrictEqual(untimedResults(await restartedB.recordUploads(ctx(options), push)));
          }
        } finally {
          await a.close();
          await b.close();
        }
      }
    } finally {
      restore.mockRestore();
    }
  });

  it("stand in for sets after a restart only where a GHES count is all that is asked: a cloud report's enterprise count reads every set", async () => {
    const other = await openStore("sqlite::memory:");
    try {
      const a = watched(store);
      const withIds = () => new LedgerService(a.store, hasher, { maxBytes: 64 * 1024, idsMinAccounts: 1 });
      const without = () => new LedgerService(other, hasher, { maxBytes: 64 * 1024, idsMinAccounts: Infinity });
      const seedA = withIds();
      const seedB = without();
      for (let k = 0; k < 3; k++) {
        const files = [upload(`srv-${k}`, usersOf(k))];
        await seedA.recordUploads(ctx(), files);
        await seedB.recordUploads(ctx(), files);
      }
      // a restart, then a cloud report recorded: its count reads the sets, its answer as a service without stored ids gives
      const restarted = withIds();
      a.seen.sets.length = 0;
      expect((await restarted.summary(ledger, DEFAULT_MATCH_OPTIONS)).totals.instances).toBe(3);
      expect(a.seen.sets).toEqual([]);
      const csv = { file: "ghec.csv", bytes: Buffer.from(cloudCsv([{ login: "zoe", emails: ["zoe1@x.example"] }, { login: "c2", emails: ["p7@example.com"] }, { login: "c3" }])), source };
      const cloudA = await restarted.recordUploads(ctx(), [csv]);
      expect(a.seen.sets).toEqual(["*"]);
      const cloudB = await without().recordUploads(ctx(), [csv]);
      expect(cloudA.summary.enterprise).toBeDefined();
      const undated = (out: RecordOutcome) => {
        const u = untimedResults(out);
        return { ...u, summary: { ...u.summary, enterprise: { ...u.summary.enterprise!, report: { ...u.summary.enterprise!.report, recordedAt: 0 } } } };
      };
      expect(undated(cloudA)).toStrictEqual(undated(cloudB));
      expect(cloudA.summary.enterprise!.figures.seats).toBeGreaterThan(0);
      // another restart with the report recorded: every set read, the same answers
      a.seen.sets.length = 0;
      const push = [upload("srv-1", usersOf(1, 4))];
      expect(undated(await withIds().recordUploads(ctx(), push))).toStrictEqual(undated(await without().recordUploads(ctx(), push)));
      expect(a.seen.sets).toEqual(["*"]);
    } finally {
      await other.close();
    }
  });

  it("restored after instances were forgotten (the first numbered among them) or pushed by a service that did not save: counts as a service without them", async () => {
    const restore = jest.spyOn(KeyInterner, "restore");
    try {
      const opts = { maxBytes: 64 * 1024, idsMinAccounts: 1 };
      const seed = new LedgerService(store, hasher, opts);
      for (let k = 0; k < 5; k++) await seed.recordUploads(ctx(), [upload(`srv-${k}`, usersOf(k))]);
      const how = { kind: "command", issueNumber: 1 } as const;
      await seed.forget(ctx(), "srv-0", how);
      await seed.forget(ctx(), "srv-3", how);
      // pushed by a replica that saves nothing (its ids are not in the stored ones)
      await new LedgerService(store, hasher, { maxBytes: 64 * 1024, idsMinAccounts: Infinity }).recordUploads(ctx(), [upload("srv-7", usersOf(7, 2)), upload("srv-2", usersOf(2, 4))]);
      for (const options of [DEFAULT_MATCH_OPTIONS, { allEmails: true, logins: true }]) {
        restore.mockClear();
        const restarted = new LedgerService(store, hasher, opts);
        const got = untimed(await restarted.summary(ledger, options));
        expect(restore.mock.results.map((r) => r.value instanceof KeyInterner)).toEqual([true]);
        expect(got).toStrictEqual(untimed(await new LedgerService(watched(store, true).store, hasher, opts).summary(ledger, options)));
        expect(got.totals.instances).toBe(4);
      }
    } finally {
      restore.mockRestore();
    }
  });

  describe("a push into a cold big ledger, its file read elsewhere meanwhile", () => {
    type Read = Awaited<ReturnType<ReadElsewhere>>;
    /** Reads as the worker would (on this thread), once the ledger's stored ids have been read: a read awaited before the loading never ends. */
    function readAfterLoading(w: { seen: { reads: number } }, answer: (bytes: Uint8Array, file: string, maxBytes: number) => Promise<Read> | Read) {
      const calls: { file: string; loadedMeanwhile: boolean }[] = [];
      const fn: ReadElsewhere = async (bytes, file, maxBytes) => {
        const reads = w.seen.reads;
        let ticks = 0;
        while (w.seen.reads === reads && ticks++ < 1000) await new Promise((r) => setImmediate(r));
        calls.push({ file, loadedMeanwhile: w.seen.reads > reads });
        return answer(bytes, file, maxBytes);
      };
      return { fn, calls };
    }
    const asWorker = (bytes: Uint8Array, file: string, maxBytes: number): Read => readPlainExportSet(bytes, file, { maxBytes }, hasher);
    const opts = { maxBytes: 64 * 1024, idsMinAccounts: 1 };
    /** The same big ledger (stored ids saved) in both stores. */
    async function seedBoth(one: LedgerStore, two: LedgerStore, instances: number): Promise<void> {
      for (let k = 0; k < instances; k++) {
        const files = [upload(`srv-${k}`, usersOf(k))];
        await new LedgerService(one, hasher, opts).recordUploads(ctx(), files);
        await new LedgerService(two, hasher, opts).recordUploads(ctx(), files);
      }
    }

    it("loads the ledger while the file is read, with the answers of a service reading in turn; only when cold and big", async () => {
      const other = await openStore("sqlite::memory:");
      const restore = jest.spyOn(KeyInterner, "restore");
      try {
        const a = watched(store);
        await seedBoth(a.store, other, 5);
        const elsewhere = readAfterLoading(a, asWorker);
        const restarted = new LedgerService(a.store, hasher, { ...opts, readElsewhere: elsewhere.fn });
        const inTurn = new LedgerService(other, hasher, opts);
        restore.mockClear();
        const push = [upload("srv-1", usersOf(1, 7))];
        const pushed = await restarted.recordUploads(ctx(), push);
        expect(pushed.results[0]).toMatchObject({ status: "recorded" });
        expect(untimedResults(pushed)).toStrictEqual(untimedResults(await inTurn.recordUploads(ctx(), push)));
        expect(elsewhere.calls).toEqual([{ file: "srv-1.json", loadedMeanwhile: true }]);
        // restored once by each service: this one while loading (its write found the interner kept), the other in its write
        expect(restore.mock.results.filter((r) => r.value instanceof KeyInterner)).toHaveLength(2);

        // warm now: read in turn
        const next = [upload("srv-2", usersOf(2, 3))];
        expect(untimedResults(await restarted.recordUploads(ctx(), next))).toStrictEqual(untimedResults(await inTurn.recordUploads(ctx(), next)));
        expect(elsewhere.calls).toHaveLength(1);

        // cold but small (below idsMinAccounts): read in turn
        const small = readAfterLoading(a, asWorker);
        const smallService = new LedgerService(a.store, hasher, { maxBytes: 64 * 1024, idsMinAccounts: 10_000, readElsewhere: small.fn });
        const last = [upload("srv-3", usersOf(3, 5))];
        expect(untimedResults(await smallService.recordUploads(ctx(), last))).toStrictEqual(untimedResults(await inTurn.recordUploads(ctx(), last)));
        expect(small.calls).toHaveLength(0);
      } finally {
        restore.mockRestore();
        await other.close();
      }
    });

    it("takes the count's arrays made there (countRoom's, any content) when they are ready: the same answers", async () => {
      const other = await openStore("sqlite::memory:");
      try {
        const a = watched(store);
        await seedBoth(a.store, other, 4);
        const asked: (readonly number[] | undefined)[] = [];
        let made: Int32Array[] = [];
        const elsewhere: ReadElsewhere = async (bytes, file, maxBytes, room) => {
          asked.push(room);
          const read = asWorker(bytes, file, maxBytes);
          // garbage in them, as a count must not rely on what an array it takes holds
          made = (room ?? []).map((length) => new Int32Array(length).fill(-7));
          return read && { ...read, takeRoom: () => made };
        };
        const push = [upload("srv-1", usersOf(1, 7))];
        const got = await new LedgerService(a.store, hasher, { ...opts, readElsewhere: elsewhere }).recordUploads(ctx(), push);
        expect(untimedResults(got)).toStrictEqual(untimedResults(await new LedgerService(other, hasher, opts).recordUploads(ctx(), push)));
        const accounts = got.summary.report.accounts;
        // room for the ledger with a set as large as its largest added, over one more instance
        expect(asked).toHaveLength(1);
        const each = usersOf(0).length;
        expect(accounts).toBe(4 * each);
        expect(asked[0]).toEqual(countRoom(4 * each + each, 4 + 1, ctx().options).map((r) => r.length));
        // the count took them: its persons' parents (the first array) written over the garbage
        expect(made[0]!.subarray(0, accounts).every((p, x) => p >= 0 && p <= x)).toBe(true);
      } finally {
        await other.close();
      }
    });

    it.each([
      ["nothing (not the usual export, or no worker)", () => null],
      ["a failure", () => Promise.reject(new Error("worker gone"))],
    ])("reads the file in turn when the read elsewhere gives %s: the same answers, refusals too", async (_, answer) => {
      const other = await openStore("sqlite::memory:");
      try {
        const a = watched(store);
        await seedBoth(a.store, other, 3);
        const elsewhere = readAfterLoading(a, answer);
        const pushes = [
          upload("srv-0", usersOf(0, 4)),
          // invalid: refused with the path of what is wrong, as in turn
          { file: "bad.json", bytes: new TextEncoder().encode('{"version":1,"instance":{"server_id":"srv-9","host_name":"h"},"users":[{"user_id":"x"}]}'), source },
        ];
        for (const push of pushes) {
          const got = await new LedgerService(a.store, hasher, { ...opts, readElsewhere: elsewhere.fn }).recordUploads(ctx(), [push]);
          expect(untimedResults(got)).toStrictEqual(untimedResults(await new LedgerService(other, hasher, opts).recordUploads(ctx(), [push])));
        }
        expect(elsewhere.calls.map((c) => c.file)).toEqual(["srv-0.json", "bad.json"]);
      } finally {
        await other.close();
      }
    });
  });
});
