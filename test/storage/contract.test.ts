// One contract suite, run against both adapters: SQLite always, PostgreSQL when reachable (and
// always when REQUIRE_POSTGRES=1, as in CI).
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { sql } from "kysely";
import { AccountSet } from "../../src/domain/account-set.js";
import { KeyInterner } from "../../src/domain/key-ids.js";
import { decodeLedgerIds } from "../../src/domain/ledger-ids.js";
import { encodeAccountSet } from "../../src/storage/account-set-codec.js";
import { DEFAULT_MATCH_OPTIONS, type IdentifiedAccount } from "../../src/domain/types.js";
import { createIdentityHasher, keyFingerprint } from "../../src/ledger/identity-key.js";
import { LedgerService } from "../../src/ledger/service.js";
import type { UploadContext, UploadInput } from "../../src/ledger/types.js";
import { IdentityKeyMismatchError, type CloudMember, type CloudReportRecord, type InstanceRecord, type LedgerKey } from "../../src/storage/ledger-store.js";
import { cloudCsv } from "../helpers/exports.js";
import {
  exportJson,
  people,
  postgresAdapter,
  postgresReachable,
  REQUIRE_POSTGRES,
  scanTextColumns,
  sqliteAdapter,
  type Adapter,
} from "./support.js";

const pgUp = await postgresReachable();
const KEY = "test identity key";
const hasher = createIdentityHasher(KEY);
const LIMITS = { maxBytes: 10 * 1024 * 1024 };

let nextRepo = 1000;
const newLedger = (): LedgerKey => {
  const repoId = ++nextRepo;
  return { repoId, fullName: `acme/ledger-${repoId}` };
};
const ctxFor = (ledger: LedgerKey, deliveryId: string | null = null): UploadContext => ({
  ledger,
  uploader: "mona",
  deliveryId,
  options: DEFAULT_MATCH_OPTIONS,
});
const commit = (file: string, bytes: Uint8Array, sha = "c0ffee"): UploadInput => ({
  file,
  bytes,
  source: { kind: "commit", sha, path: file },
});

function account(userId: number, key?: string): IdentifiedAccount {
  return { userId, login: `u${userId}`, primary: key ? [key] : [], secondary: [] };
}

function instanceRecord(serverId: string, hostName: string, count: number, sha = "s1"): InstanceRecord {
  const at = new Date("2025-01-02T03:04:05.000Z");
  return { serverId, hostName, ghesVersion: "3.17.4", firstUploadAt: at, lastUploadAt: at, accountCount: count, contentSha256: sha };
}

const adapters: { name: string; make: () => Adapter; enabled: boolean }[] = [
  { name: "sqlite", make: sqliteAdapter, enabled: true },
  { name: "postgres", make: postgresAdapter, enabled: pgUp },
];

if (!pgUp && REQUIRE_POSTGRES) {
  describe("postgres", () => {
    it("is reachable (REQUIRE_POSTGRES=1)", () => {
      throw new Error(`PostgreSQL is not reachable at TEST_DATABASE_URL; it is required here`);
    });
  });
}

describe.each(adapters.filter((a) => a.enabled))("ledger store contract: $name", ({ make }) => {
  let adapter: Adapter;
  beforeAll(() => {
    adapter = make();
  });
  afterAll(async () => {
    await adapter.cleanup();
  });

  const freshStore = async () => adapter.open(adapter.fresh());

  it("migrates on open, and opening again is a no-op", async () => {
    const loc = adapter.fresh();
    const a = await adapter.open(loc);
    const b = await adapter.open(loc);
    const ledger = newLedger();
    await a.write(ledger, (tx) => tx.upsertInstance(instanceRecord("srv-1", "ghes.a", 0)));
    expect((await b.read(ledger, (tx) => tx.instances())).map((i) => i.serverId)).toEqual(["srv-1"]);
  });

  it("reads from one snapshot: a write committed between two queries of a read is not seen by it", async () => {
    const loc = adapter.fresh();
    const reader = await adapter.open(loc);
    const writer = await adapter.open(loc);
    const ledger = newLedger();
    await writer.write(ledger, (tx) => tx.upsertInstance(instanceRecord("srv-1", "ghes.a", 1)));
    const seen = await reader.read(ledger, async (tx) => {
      const first = (await tx.instances()).map((i) => i.serverId);
      // Another connection (a replica) replaces srv-1 by srv-2 and commits, mid-read.
      await writer.write(ledger, async (w) => {
        await w.upsertInstance(instanceRecord("srv-2", "ghes.b", 1));
        await w.removeInstance("srv-1");
      });
      const second = (await tx.instances()).map((i) => i.serverId);
      const removed = await tx.instance("srv-1");
      return { first, second, removed: removed?.serverId };
    });
    expect(seen).toEqual({ first: ["srv-1"], second: ["srv-1"], removed: "srv-1" });
    expect((await reader.read(ledger, (tx) => tx.instances())).map((i) => i.serverId)).toEqual(["srv-2"]);
  });

  it("round-trips instances, accounts and history", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const rec = { ...instanceRecord("srv-1", "ghes.a", 2), httpOnly: true };
    const id = await store.write(ledger, async (tx) => {
      await tx.replaceAccounts("srv-1", [account(2, "k2"), { ...account(1, "k1"), secondary: ["s1", "s2"] }]);
      await tx.upsertInstance(rec);
      return tx.appendUpload({
        outcome: "recorded",
        serverId: "srv-1",
        hostName: "ghes.a",
        source: { kind: "issue", issueNumber: 7, commentId: 9_000_000_001, file: "usage.json.gz" },
        uploader: "mona",
        deliveryId: "d-1",
        contentSha256: "s1",
        accountCount: 2,
        added: null,
        removed: null,
        totals: { seats: 2, accounts: 2, deduplicated: 0, instances: 1 },
        errorSummary: null,
      });
    });
    const got = await store.read(ledger, async (tx) => ({
      instances: await tx.instances(),
      one: await tx.instance("srv-1"),
      missing: await tx.instance("nope"),
      accounts: await tx.accounts(),
      history: await tx.history(),
      byDelivery: await tx.findRecorded({ deliveryId: "d-1" }),
      bySha: await tx.findRecorded({ serverId: "srv-1", contentSha256: "s1" }),
      noSha: await tx.findRecorded({ contentSha256: "other" }),
    }));
    expect(got.instances).toEqual([rec]);
    expect(got.one).toEqual(rec);
    expect(got.missing).toBeUndefined();
    expect(got.accounts.get("srv-1")).toEqual([
      { userId: 1, login: "u1", primary: ["k1"], secondary: ["s1", "s2"] },
      { userId: 2, login: "u2", primary: ["k2"], secondary: [] },
    ]);
    expect(got.history).toHaveLength(1);
    expect(got.history[0]).toMatchObject({
      id,
      outcome: "recorded",
      source: { kind: "issue", issueNumber: 7, commentId: 9_000_000_001, file: "usage.json.gz" },
      totals: { seats: 2, accounts: 2, deduplicated: 0, instances: 1 },
      deliveryId: "d-1",
    });
    expect(got.history[0]!.at).toBeInstanceOf(Date);
    expect(got.byDelivery?.id).toBe(id);
    expect(got.bySha?.id).toBe(id);
    expect(got.noSha).toBeUndefined();
  });

  it("replaces accounts atomically: a failure after replaceAccounts leaves the previous accounts intact", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const before = Array.from({ length: 3000 }, (_, i) => account(i + 1, `old${i}`));
    await store.write(ledger, async (tx) => {
      await tx.replaceAccounts("srv-1", before);
      await tx.upsertInstance(instanceRecord("srv-1", "ghes.a", before.length, "old"));
    });
    await expect(
      store.write(ledger, async (tx) => {
        await tx.replaceAccounts("srv-1", [account(1, "new")]);
        await tx.upsertInstance(instanceRecord("srv-1", "ghes.a", 1, "new"));
        throw new Error("injected failure");
      }),
    ).rejects.toThrow("injected failure");
    // A failure inside replaceAccounts itself (a duplicate user id, after the old set is deleted) rolls back too.
    const dup = Array.from({ length: 60_001 }, (_, i) => account(i < 60_000 ? i + 1 : 1, "dup"));
    await expect(store.write(ledger, (tx) => tx.replaceAccounts("srv-1", dup))).rejects.toMatchObject({
      message: expect.stringMatching(/duplicate user_id/),
    });
    const after = await store.read(ledger, async (tx) => ({ accounts: await tx.accounts("srv-1"), inst: await tx.instance("srv-1") }));
    expect(after.accounts.get("srv-1")).toHaveLength(3000);
    expect(after.accounts.get("srv-1")![0]).toEqual(account(1, "old0"));
    expect(after.inst?.contentSha256).toBe("old");
  });

  it("writes 100,000 accounts in one write and reads them back", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const many = Array.from({ length: 100_000 }, (_, i) => ({ ...account(i + 1, `k${i}`), secondary: [`s${i}`] }));
    await store.write(ledger, (tx) => tx.replaceAccounts("big", many));
    const got = (await store.read(ledger, (tx) => tx.accounts("big"))).get("big")!;
    expect(got).toHaveLength(100_000);
    expect(got[99_999]).toEqual(many[99_999]);
  });

  it("stores hashed keys as 16 bytes each and reads the set back the same, compact or as objects", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const many = Array.from({ length: 20_000 }, (_, i) => ({
      userId: 3 * i + 1,
      login: i % 7 === 0 ? "" : `Üser-${i}`,
      primary: i % 5 === 0 ? [] : [hasher(`p${i}@x`)],
      secondary: i % 3 === 0 ? [hasher(`s${i}@x`), hasher(`p${i}@x`)] : [],
    }));
    await store.write(ledger, (tx) => tx.replaceAccounts("srv-h", AccountSet.fromAccounts([...many].reverse())));
    const sets = await store.read(ledger, (tx) => tx.accountSets("srv-h"));
    const set = sets.get("srv-h")!;
    expect(set.keyWords).not.toBeNull();
    expect(set.toAccounts()).toEqual(many);
    expect((await store.read(ledger, (tx) => tx.accounts("srv-h"))).get("srv-h")).toEqual(many);
    const size = await sql<{ n: number | string }>`select ${sql.raw(store.dialect === "sqlite" ? "length(data)" : "octet_length(data)")} as n from account_sets`.execute(store.db);
    const keys = many.reduce((s, a) => s + a.primary.length + a.secondary.length, 0);
    expect(Number(size.rows[0]!.n)).toBe(24 + 8 * many.length + 12 * (many.length + 1) + 16 * keys);
  });

  it("reads every set back byte for byte, all at once or one by one, small, odd-sized or of several MB", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const accounts = (n: number, keyed: boolean): IdentifiedAccount[] =>
      Array.from({ length: n }, (_, i) => ({ userId: i + 1, login: `Ü${i}`, primary: keyed ? (i % 2 ? [] : [hasher(`p${i}@x`)]) : [`p${i}`], secondary: [] }));
    const sets = new Map([
      ["srv-two", AccountSet.fromAccounts(accounts(2, true))],
      ["srv-'quoted'", AccountSet.fromAccounts(accounts(2, false))],
      ["srv-big", AccountSet.fromAccounts(accounts(150_001, true))],
      ["srv-texts", AccountSet.fromAccounts(accounts(70_001, false))],
    ]);
    const stored = new Map([...sets].map(([id, set]) => [id, encodeAccountSet(set).data]));
    // Sizes that are and are not a multiple of 3 (a whole number of base64 groups), and 4 MB and more.
    expect([...stored.values()].map((d) => d.length % 3)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(stored.get("srv-big")!.length).toBeGreaterThan(4 * 2 ** 20);
    await store.write(ledger, async (tx) => {
      for (const [id, set] of sets) await tx.replaceAccounts(id, set);
      await tx.upsertInstance(instanceRecord("srv-empty", "ghes.e", 0));
    });
    const same = (got: Map<string, AccountSet>, ids = [...stored.keys()]) => {
      for (const id of ids) {
        const set = got.get(id)!;
        expect(Buffer.compare(encodeAccountSet(set).data, stored.get(id)!)).toBe(0);
        expect(set.loginText).toBe(sets.get(id)!.loginText);
      }
    };
    const all = await store.read(ledger, (tx) => tx.accountSets());
    expect([...all.keys()].sort()).toEqual([...sets.keys(), "srv-empty"].sort());
    same(all);
    expect(all.get("srv-empty")!.count).toBe(0);
    for (const id of stored.keys()) same(await store.write(ledger, (tx) => tx.accountSets(id)), [id]);
    expect([...(await store.read(ledger, (tx) => tx.accountSets("srv-none"))).keys()]).toEqual([]);
  });

  it("keeps a ledger's interned ids as bytes, replaced by the next save, per ledger, not seen by a write rolled back", async () => {
    const store = await freshStore();
    const a = newLedger();
    const b = newLedger();
    const big = Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) & 255);
    expect(await store.read(a, (tx) => tx.ledgerIds())).toBeNull();
    await store.write(a, (tx) => tx.saveLedgerIds(big));
    await store.write(b, (tx) => tx.saveLedgerIds(Uint8Array.of(1, 2, 3, 4)));
    expect(Buffer.from((await store.read(a, (tx) => tx.ledgerIds()))!).equals(Buffer.from(big))).toBe(true);
    // a view into a larger buffer is stored as its own bytes
    const other = new Uint8Array(16).fill(9);
    await store.write(a, (tx) => tx.saveLedgerIds(other.subarray(4, 12)));
    expect([...(await store.read(a, (tx) => tx.ledgerIds()))!]).toEqual([9, 9, 9, 9, 9, 9, 9, 9]);
    await expect(
      store.write(a, async (tx) => {
        await tx.saveLedgerIds(Uint8Array.of(5));
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect([...(await store.read(a, (tx) => tx.ledgerIds()))!]).toEqual([9, 9, 9, 9, 9, 9, 9, 9]);
    expect([...(await store.read(b, (tx) => tx.ledgerIds()))!]).toEqual([1, 2, 3, 4]);
    // PostgreSQL reads them in parts of 1 MiB: a whole number of parts, and one byte more, read back whole
    for (const length of [2 * 1024 * 1024, 2 * 1024 * 1024 + 1]) {
      const even = Uint8Array.from({ length }, (_, i) => (i * 31 + (i >> 20)) & 255);
      await store.write(b, (tx) => tx.saveLedgerIds(even));
      const back = (await store.read(b, (tx) => tx.ledgerIds()))!;
      expect([back.length, back.byteOffset, back.buffer.byteLength]).toEqual([length, 0, length]);
      expect(Buffer.from(back).equals(Buffer.from(even))).toBe(true);
    }
  });

  it("keeps ledgers isolated, and a rename keeps the ledger", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const a = newLedger();
    const b = newLedger();
    await service.recordUploads(ctxFor(a), [commit("a.json", exportJson("srv-1", "ghes.shared", people(0, 10)))]);
    await service.recordUploads(ctxFor(b), [commit("b.json", exportJson("srv-1", "ghes.shared", people(0, 3)))]);
    const renamed = { repoId: a.repoId, fullName: "acme/renamed" };
    const sa = await service.summary(renamed, DEFAULT_MATCH_OPTIONS);
    const sb = await service.summary(b, DEFAULT_MATCH_OPTIONS);
    expect(sa.totals).toMatchObject({ seats: 10, instances: 1 });
    expect(sb.totals).toMatchObject({ seats: 3, instances: 1 });
    await service.forget(ctxFor(b), "ghes.shared", { kind: "command", issueNumber: 1 });
    expect((await service.summary(a, DEFAULT_MATCH_OPTIONS)).totals.seats).toBe(10);
    expect((await service.history(b)).map((h) => h.outcome)).toEqual(["removed", "recorded"]);
    expect((await service.history(a)).map((h) => h.outcome)).toEqual(["recorded"]);
  });

  it("keeps one live-fetch state per ledger, replaced by the next attempt", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const a = newLedger();
    const b = newLedger();
    expect(await service.cloudFetch(a)).toBeUndefined();
    const refused = {
      enterprise: "acme",
      attemptedAt: new Date("2026-11-30T08:00:00.000Z"),
      outcome: "refused" as const,
      attempts: [
        { credential: "installation" as const, outcome: "absent" as const },
        { credential: "token" as const, outcome: "refused" as const, status: 403, step: "consumed-licenses" as const },
      ],
      sync: null,
    };
    await service.saveCloudFetch(a, refused);
    expect(await service.cloudFetch(a)).toEqual(refused);
    const fetched = {
      ...refused,
      attemptedAt: new Date("2026-11-30T09:00:00.000Z"),
      outcome: "fetched" as const,
      attempts: [{ credential: "token" as const, outcome: "used" as const }],
      sync: { ok: true as const, servers: [{ serverId: "s-1", hostName: "ghes.a", lastSyncAt: new Date("2026-11-29T00:00:00.000Z"), status: "success", error: null }] },
    };
    await service.saveCloudFetch(a, fetched);
    expect(await service.cloudFetch(a)).toEqual(fetched);
    expect(await service.cloudFetch(b)).toBeUndefined();
  });

  it("records uploads: totals, added/removed, seat delta, as worked out by hand", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    const a1 = exportJson("srv-a", "ghes-a.corp", people(0, 100));
    const b1 = exportJson("srv-b", "ghes-b.corp", people(50, 100, 5000)); // 50 people shared
    const first = await service.recordUploads(ctxFor(ledger), [commit("a.json", a1), commit("b.json", b1)]);
    expect(first.results.map((r) => r.status)).toEqual(["recorded", "recorded"]);
    expect(first.results[0]).toMatchObject({ added: null, removed: null, seatDelta: 100, accounts: 100 });
    expect(first.results[1]).toMatchObject({ seatDelta: 50 });
    expect(first.summary.totals).toEqual({ seats: 150, accounts: 200, deduplicated: 50, instances: 2 });

    // srv-a again: 10 left (ids 1..10), 5 joined (new ids).
    const a2 = exportJson("srv-a", "ghes-a.corp", [...people(10, 90, 11), ...people(1000, 5, 9000)]);
    const second = await service.recordUploads(ctxFor(ledger), [commit("a.json", a2)]);
    expect(second.results[0]).toMatchObject({ status: "recorded", added: 5, removed: 10, seatDelta: -5 });
    // People 10..99 and 1000..1004 on srv-a, 50..149 on srv-b: 140 + 5 people, 50 of them on both.
    expect(second.summary.totals).toEqual({ seats: 145, accounts: 195, deduplicated: 50, instances: 2 });
    expect(second.summary.instances.map((i) => i.serverId)).toEqual(["srv-a", "srv-b"]);
    const hist = await service.history(ledger);
    expect(hist[0]).toMatchObject({ outcome: "recorded", added: 5, removed: 10, totals: second.summary.totals });
    const srvA = second.summary.instances[0]!;
    expect(srvA.firstUploadAt.getTime()).toBeLessThanOrEqual(srvA.lastUploadAt.getTime());
  });

  it("recognises an identical re-upload and a redelivery: unchanged, no new recorded row", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    const v1 = exportJson("srv-1", "ghes.a", people(0, 5));
    const v2 = exportJson("srv-1", "ghes.a", people(0, 6));
    await service.recordUploads(ctxFor(ledger, "delivery-1"), [commit("u.json", v1)]);
    const again = await service.recordUploads(ctxFor(ledger, "delivery-2"), [commit("u.json", v1)]);
    expect(again.results[0]).toMatchObject({ status: "unchanged", accounts: 5 });
    await service.recordUploads(ctxFor(ledger, "delivery-3"), [commit("u.json", v2)]);
    // A late redelivery of delivery-1 must not roll srv-1 back to v1.
    const redelivered = await service.recordUploads(ctxFor(ledger, "delivery-1"), [commit("u.json", v1)]);
    expect(redelivered.results[0]!.status).toBe("unchanged");
    expect(redelivered.summary.totals.seats).toBe(6);
    expect((await service.history(ledger)).filter((h) => h.outcome === "recorded")).toHaveLength(2);
  });

  it("keeps refused uploads in the history with an error summary and no file content", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    const bad = new TextEncoder().encode(
      JSON.stringify({ version: 1, instance: { server_id: "x", host_name: "h" }, users: [{ user_id: 1, login: "a", emails: [{ email: 5 }] }, { user_id: -1, login: "secret@corp.example" }] }),
    );
    const out = await service.recordUploads(ctxFor(ledger, "d9"), [
      { file: "bad.json", bytes: bad, source: { kind: "issue", issueNumber: 3, file: "bad.json" } },
    ]);
    expect(out.results[0]!.status).toBe("refused");
    const [row] = await service.history(ledger);
    expect(row).toMatchObject({ outcome: "refused", serverId: null, totals: null, deliveryId: "d9" });
    expect(row!.errorSummary).toMatch(/^bad\.json: users\[0\]/);
    expect(row!.errorSummary).not.toContain("@");
    expect(out.summary.totals.instances).toBe(0);
  });

  it("recognises a redelivered refusal, and the same refused file read again: same reply, no second history row", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    const bad = (n: number) => new TextEncoder().encode(JSON.stringify({ version: 1, instance: { server_id: "x", host_name: "h" }, users: [{ user_id: n, login: "a", emails: [{ email: 5 }] }] }));
    const pasted = (bytes: Uint8Array, commentId?: number): UploadInput => ({
      file: "bad.json",
      bytes,
      source: { kind: "issue", issueNumber: 3, file: "bad.json", ...(commentId === undefined ? {} : { commentId }) },
    });
    const refusedRows = async () => (await service.history(ledger)).filter((h) => h.outcome === "refused").map((h) => h.deliveryId);

    const first = await service.recordUploads(ctxFor(ledger, "d-1"), [pasted(bad(1))]);
    expect(first.results[0]!.status).toBe("refused");
    // GitHub redelivers d-1; then the issue is edited elsewhere and the same file read again.
    const redelivered = await service.recordUploads(ctxFor(ledger, "d-1"), [pasted(bad(1))]);
    const reread = await service.recordUploads(ctxFor(ledger, "d-2"), [pasted(bad(1))]);
    expect(redelivered.results).toEqual(first.results);
    expect(reread.results).toEqual(first.results);
    expect(await refusedRows()).toEqual(["d-1"]);

    // Anything new is a new attempt: other content from that source, the first content back after
    // it, the same content from another comment.
    await service.recordUploads(ctxFor(ledger, "d-3"), [pasted(bad(2))]);
    await service.recordUploads(ctxFor(ledger, "d-4"), [pasted(bad(1))]);
    await service.recordUploads(ctxFor(ledger, "d-5"), [pasted(bad(1), 9_000_000_001)]);
    await service.recordUploads(ctxFor(ledger, "d-5"), [pasted(bad(1), 9_000_000_001)]);
    expect(await refusedRows()).toEqual(["d-5", "d-4", "d-3", "d-1"]);

    // A valid export refused because the ledger is full: its redelivery is recognised too.
    const capped = new LedgerService(store, hasher, { ...LIMITS, maxInstances: 1 });
    const full = newLedger();
    await capped.recordUploads(ctxFor(full, "c-1"), [commit("a.json", exportJson("srv-a", "ghes.a", people(0, 2)))]);
    const over = commit("b.json", exportJson("srv-b", "ghes.b", people(5, 2)), "beef");
    const refusal = await capped.recordUploads(ctxFor(full, "c-2"), [over]);
    expect(refusal.results[0]!.status).toBe("refused");
    expect((await capped.recordUploads(ctxFor(full, "c-2"), [over])).results).toEqual(refusal.results);
    expect((await capped.history(full)).map((h) => `${h.outcome} ${h.deliveryId}`)).toEqual(["refused c-2", "recorded c-1"]);
  });

  it("forgets an instance by server id or host name; ambiguous host names list the candidates", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    await service.recordUploads(ctxFor(ledger), [
      commit("1.json", exportJson("srv-1", "ghes.twin", people(0, 4))),
      commit("2.json", exportJson("srv-2", "ghes.twin", people(10, 4))),
      commit("3.json", exportJson("srv-3", "ghes.solo", people(20, 4))),
    ]);
    const cmd = { kind: "command", issueNumber: 5, commentId: 77 } as const;
    const ambiguous = await service.forget(ctxFor(ledger), "GHES.twin", cmd);
    expect(ambiguous.status).toBe("ambiguous");
    if (ambiguous.status === "ambiguous") expect(ambiguous.candidates.map((c) => c.serverId)).toEqual(["srv-1", "srv-2"]);
    const missing = await service.forget(ctxFor(ledger), "ghes.nowhere", cmd);
    expect(missing).toMatchObject({ status: "not-found", summary: { totals: { instances: 3, seats: 12 } } });

    const byHost = await service.forget(ctxFor(ledger), "ghes.solo", cmd);
    expect(byHost).toMatchObject({ status: "removed", instance: { serverId: "srv-3" }, summary: { totals: { instances: 2, seats: 8 } } });
    const byId = await service.forget(ctxFor(ledger), "srv-1", cmd);
    expect(byId).toMatchObject({ status: "removed", summary: { totals: { instances: 1, seats: 4 } } });
    const hist = await service.history(ledger);
    expect(hist.slice(0, 2)).toMatchObject([
      { outcome: "removed", serverId: "srv-1", accountCount: 4, totals: { seats: 4, instances: 1 }, source: cmd },
      { outcome: "removed", serverId: "srv-3", totals: { seats: 8, instances: 2 } },
    ]);
    expect(hist).toHaveLength(5);
    const accounts = await store.read(ledger, (tx) => tx.accounts());
    expect([...accounts.keys()]).toEqual(["srv-2"]);
  });

  it("round-trips the cloud report and its members; a later one replaces it whole; removal leaves nothing", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const record: CloudReportRecord = {
      file: "license-usage/ghec.csv",
      format: "csv",
      memberCount: 2,
      reportedSeats: 47,
      linkedHosts: ["ghes-a.corp", "odd host"],
      contentSha256: "c1",
      recordedAt: new Date("2025-02-03T04:05:06.000Z"),
      uploader: "mona",
      source: { kind: "commit", sha: "abc", path: "license-usage/ghec.csv" },
    };
    const members: CloudMember[] = [
      { login: "mona-acme", keys: ["k1", "k2"], links: [{ host: "ghes-a.corp", userId: 9_000_000_001 }, { host: "odd host", userId: 2 }], visualStudio: false },
      { login: "hubot", keys: [], links: [], visualStudio: true },
    ];
    await store.write(ledger, (tx) => tx.replaceCloudReport(record, members));
    const got = await store.read(ledger, async (tx) => ({ report: await tx.cloudReport(), members: await tx.cloudMembers() }));
    expect(got).toEqual({ report: record, members });

    const api: CloudReportRecord = { ...record, file: "consumed-licenses API", format: "json", memberCount: 1, reportedSeats: null, linkedHosts: [], contentSha256: "c2", source: { kind: "api", enterprise: "acme" } };
    await store.write(ledger, async (tx) => {
      await tx.replaceCloudReport(api, [members[1]!]);
      await tx.appendUpload({
        subject: "cloud",
        outcome: "recorded",
        serverId: null,
        hostName: null,
        source: api.source,
        uploader: "mona",
        deliveryId: null,
        contentSha256: "c2",
        accountCount: 1,
        added: 0,
        removed: 1,
        totals: { seats: 0, accounts: 0, deduplicated: 0, instances: 0, enterpriseSeats: 1 },
        errorSummary: null,
      });
    });
    const replaced = await store.read(ledger, async (tx) => ({
      report: await tx.cloudReport(),
      members: await tx.cloudMembers(),
      history: await tx.history(),
      found: await tx.findRecorded({ contentSha256: "c2", subject: "cloud" }),
      notExport: await tx.findRecorded({ contentSha256: "c2", subject: "export" }),
    }));
    expect(replaced.report).toEqual(api);
    expect(replaced.members).toEqual([members[1]]);
    expect(replaced.history[0]).toMatchObject({ subject: "cloud", source: { kind: "api", enterprise: "acme" }, totals: { enterpriseSeats: 1 } });
    expect(replaced.found?.id).toBe(replaced.history[0]!.id);
    expect(replaced.notExport).toBeUndefined();

    await store.write(ledger, (tx) => tx.removeCloudReport());
    expect(await store.read(ledger, async (tx) => [await tx.cloudReport(), await tx.cloudMembers()])).toEqual([undefined, []]);
  });

  it("writes 100,000 cloud members in one write and reads them back", async () => {
    const store = await freshStore();
    const ledger = newLedger();
    const many: CloudMember[] = Array.from({ length: 100_000 }, (_, i) => ({
      login: `m${i}`,
      keys: [`k${i}`],
      links: [{ host: "ghes.corp", userId: i + 1 }],
      visualStudio: i % 7 === 0,
    }));
    const record: CloudReportRecord = {
      file: "big.csv", format: "csv", memberCount: many.length, reportedSeats: null, linkedHosts: ["ghes.corp"],
      contentSha256: "big", recordedAt: new Date(), uploader: "mona", source: { kind: "issue", issueNumber: 1, file: "big.csv" },
    };
    await store.write(ledger, (tx) => tx.replaceCloudReport(record, many));
    const got = await store.read(ledger, (tx) => tx.cloudMembers());
    expect(got).toHaveLength(100_000);
    expect(got[99_999]).toEqual(many[99_999]);
    expect(got[7]).toEqual(many[7]);
  });

  it("records a cloud report: enterprise figures in the summary and history, replaced, recognised, forgotten; no '@' stored", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    // GHES: person 0..9 on ghes-a (ids 1..10). GHEC: persons 5..14 by verified e-mail, one more by a link.
    await service.recordUploads(ctxFor(ledger), [commit("a.json", exportJson("srv-a", "ghes-a.corp", people(0, 10)))]);
    const v1 = cloudCsv([
      ...Array.from({ length: 10 }, (_, i) => ({ login: `cloud${5 + i}`, emails: [`person.${5 + i}@corp.example`] })),
      { login: "linked", links: ["GHES-A.corp.:1"] },
      { login: "vs", license: "Visual Studio Enterprise" },
    ]);
    const first = await service.recordUploads(ctxFor(ledger, "d1"), [commit("license-usage/ghec.csv", new TextEncoder().encode(v1))]);
    expect(first.results[0]).toMatchObject({ status: "recorded", cloud: { format: "csv", members: 12, replaces: null } });
    // persons: 10 GHES, of whom 6 joined a member (5..9 by e-mail, 0 by link); 5 + 1 cloud-only.
    expect(first.summary.enterprise?.figures).toMatchObject({ persons: 16, both: 6, serverOnly: 4, cloudOnly: 6, cloudMembers: 12, visualStudio: 1, seats: 15 });
    expect(first.summary.totals).toEqual({ seats: 10, accounts: 10, deduplicated: 0, instances: 1, enterpriseSeats: 15 });
    expect(first.summary.enterprise?.report).toMatchObject({ file: "license-usage/ghec.csv", memberCount: 12, reportedSeats: 11, linkedHosts: ["ghes-a.corp"] });

    // A GHES upload afterwards recounts the enterprise figures with the stored report.
    const again = await service.recordUploads(ctxFor(ledger, "d2"), [commit("b.json", exportJson("srv-b", "ghes-b.corp", people(100, 3)))]);
    expect(again.summary.totals).toMatchObject({ seats: 13, enterpriseSeats: 18 });
    expect((await service.summary(ledger, DEFAULT_MATCH_OPTIONS)).enterprise?.figures.seats).toBe(18);

    const same = await service.recordUploads(ctxFor(ledger, "d3"), [commit("copy.csv", new TextEncoder().encode(v1))]);
    expect(same.results[0]).toMatchObject({ status: "unchanged", cloud: { members: 12 } });

    const v2 = cloudCsv([{ login: "cloud5", emails: ["person.5@corp.example"] }, { login: "new" }]);
    const second = await service.recordUploads(ctxFor(ledger, "d4"), [commit("license-usage/ghec.csv", new TextEncoder().encode(v2))]);
    expect(second.results[0]).toMatchObject({ status: "recorded", cloud: { members: 2, replaces: first.summary.enterprise!.report.recordedAt } });
    expect(second.summary.enterprise?.figures).toMatchObject({ both: 1, cloudOnly: 1, serverOnly: 12, seats: 14 });

    const refused = await service.recordUploads(ctxFor(ledger, "d5"), [commit("bad.csv", new TextEncoder().encode("github_com_login,github_com_user,github_com_saml_name_id\nx,true\n"))]);
    expect(refused.results[0]).toMatchObject({ status: "refused", errors: [{ path: "line 2" }] });
    expect(refused.summary.totals.enterpriseSeats).toBe(14);

    const cmd = { kind: "command", issueNumber: 5, commentId: 77 } as const;
    const forgotten = await service.forgetCloud(ctxFor(ledger), cmd);
    expect(forgotten).toMatchObject({ status: "removed-cloud", report: { memberCount: 2 }, summary: { totals: { seats: 13 } } });
    expect(forgotten.status === "removed-cloud" && forgotten.summary.totals.enterpriseSeats).toBeUndefined();
    expect(await service.forgetCloud(ctxFor(ledger), cmd)).toMatchObject({ status: "no-cloud-report" });

    const hist = await service.history(ledger);
    expect(hist.map((h) => [h.subject ?? "export", h.outcome])).toEqual([
      ["cloud", "removed"],
      ["cloud", "refused"],
      ["cloud", "recorded"],
      ["export", "recorded"],
      ["cloud", "recorded"],
      ["export", "recorded"],
    ]);
    expect(hist[2]).toMatchObject({ accountCount: 2, added: 1, removed: 11, totals: { enterpriseSeats: 14 } });
    expect((await scanTextColumns(store, "@")).filter((s) => s.hits > 0)).toEqual([]);
  });

  it("stores the identity key's fingerprint and refuses another key", async () => {
    const loc = adapter.fresh();
    const store = await adapter.open(loc);
    await store.checkKeyFingerprint(keyFingerprint(KEY));
    await store.checkKeyFingerprint(keyFingerprint(KEY));
    const again = await adapter.open(loc);
    await expect(again.checkKeyFingerprint(keyFingerprint("another key"))).rejects.toBeInstanceOf(IdentityKeyMismatchError);
  });

  it("never stores an e-mail address: no '@' in any text column after an ingest", async () => {
    const store = await freshStore();
    const service = new LedgerService(store, hasher, LIMITS);
    const ledger = newLedger();
    const bad = new TextEncoder().encode('{"version":1,"instance":{"server_id":"x","host_name":"h"},"users":[{"user_id":"a@b.example","login":"x"}]}');
    await service.recordUploads(ctxFor(ledger), [
      commit("a.json", exportJson("srv-1", "ghes.a", people(0, 50))),
      commit("b.json", exportJson("srv-2", "ghes.b", people(25, 50))),
      commit("bad.json", bad),
      // A hand-made file with an address for a login: stored as its keyed hash.
      commit("c.json", exportJson("srv-3", "ghes.c", [{ id: 1, login: "Mona@Corp.Example", email: "mona@corp.example", others: [] }])),
    ]);
    const srv3 = (await store.read(ledger, (tx) => tx.accounts("srv-3"))).get("srv-3")!;
    expect(srv3[0]!.login).toMatch(/^~[\w-]{22}$/);
    await service.forget(ctxFor(ledger), "srv-2", { kind: "command", issueNumber: 1 });
    const scan = await scanTextColumns(store, "@");
    expect(scan.map((s) => s.column)).toEqual(expect.arrayContaining(["account_sets.logins", "uploads.error_summary"]));
    expect(scan.filter((s) => s.hits > 0)).toEqual([]);
    // The scan itself can see an '@' when there is one.
    await store.write(ledger, (tx) => tx.replaceAccounts("srv-9", [{ userId: 1, login: "probe@x", primary: [], secondary: [] }]));
    expect((await scanTextColumns(store, "@")).filter((s) => s.hits > 0).map((s) => s.column)).toEqual(["account_sets.logins"]);
  });

  it("a ledger's interned ids, saved by two replicas' pushes, read back after a restart: restored, counted as without them", async () => {
    const loc = adapter.fresh();
    const storeA = await adapter.open(loc);
    const storeB = adapter.name === "postgres" ? await adapter.open(loc) : storeA;
    const opts = { ...LIMITS, idsMinAccounts: 1 };
    const replicas = [new LedgerService(storeA, hasher, opts), new LedgerService(storeB, hasher, opts)];
    const ledger = newLedger();
    // instance i: people 300i..300i+1999, plus one linked to the next instance's by a secondary address
    const file = (i: number, from = i * 300) =>
      commit(`f${i}.json`, exportJson(`srv-${i}`, `ghes-${i}.corp`, [...people(from, 2000), { id: 9000, login: `Chain${i}`, email: `c${i}@corp.example`, others: [`c${i + 1}@corp.example`] }]));
    for (let i = 0; i < 8; i++) await replicas[i % 2]!.recordUploads(ctxFor(ledger, `d${i}`), [file(i)]);
    // replaced since (their stored ids stale), by either replica
    await replicas[1]!.recordUploads(ctxFor(ledger, "r1"), [file(2, 10_000)]);
    await replicas[0]!.recordUploads(ctxFor(ledger, "r2"), [file(5, 20_000)]);
    const stored = decodeLedgerIds((await storeA.read(ledger, (tx) => tx.ledgerIds()))!)!;
    expect(stored.entries.length).toBeGreaterThanOrEqual(7);
    const restore = jest.spyOn(KeyInterner, "restore");
    try {
      const all = { allEmails: true, logins: true };
      const restored = [];
      for (const options of [DEFAULT_MATCH_OPTIONS, all]) {
        restore.mockClear();
        restored.push(await new LedgerService(storeA, hasher, opts).summary(ledger, options));
        expect(restore.mock.results.map((r) => r.value instanceof KeyInterner)).toEqual([true]);
      }
      await sql`delete from ledger_ids`.execute(storeA.db);
      expect(await storeA.read(ledger, (tx) => tx.ledgerIds())).toBeNull();
      for (const [k, options] of [DEFAULT_MATCH_OPTIONS, all].entries()) {
        const fresh = await new LedgerService(storeA, hasher, opts).summary(ledger, options);
        expect({ ...restored[k]!, generatedAt: 0 }).toEqual({ ...fresh, generatedAt: 0 });
      }
      // the chain of 8 (a secondary address each) counted once with all_emails
      expect(restored[0]!.totals.accounts).toBe(8 * 2001);
      expect(restored[1]!.totals.seats).toBe(restored[0]!.totals.seats - 7);
    } finally {
      restore.mockRestore();
    }
  });

  it("serialises concurrent uploads to one ledger: totals as worked out by hand", async () => {
    const loc = adapter.fresh();
    // Two stores on one database stand for two replicas (PostgreSQL). SQLite is one file per
    // process: there, both services share the store, whose single writer must serialise them.
    const storeA = await adapter.open(loc);
    const storeB = adapter.name === "postgres" ? await adapter.open(loc) : storeA;
    const replicas = [new LedgerService(storeA, hasher, LIMITS), new LedgerService(storeB, hasher, LIMITS)];
    const ledger = newLedger();
    const files = Array.from({ length: 8 }, (_, i) => exportJson(`srv-${i}`, `ghes-${i}.corp`, people(i * 300, 1000)));
    await Promise.all(
      files.map((bytes, i) => replicas[i % 2]!.recordUploads(ctxFor(ledger, `d${i}`), [commit(`f${i}.json`, bytes)])),
    );
    const summary = await replicas[0]!.summary(ledger, DEFAULT_MATCH_OPTIONS);
    // Instance i holds people 300i..300i+999: together people 0..3099, 3,100 seats of 8,000 accounts.
    expect(summary.totals).toEqual({ seats: 3100, accounts: 8000, deduplicated: 4900, instances: 8 });
    // Each upload saw every earlier one: the history's instance counts go 1, 2, …, 8.
    const hist = (await replicas[1]!.history(ledger)).reverse();
    expect(hist.map((h) => h.totals?.instances)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(hist.at(-1)!.totals).toEqual(summary.totals);

    // Both replicas racing on the same instance: one wins whole, and the totals agree with it.
    const x1 = exportJson("srv-x", "ghes-x.corp", people(5000, 700));
    const x2 = exportJson("srv-x", "ghes-x.corp", people(100, 400, 20_000));
    await Promise.all([
      replicas[0]!.recordUploads(ctxFor(ledger, "x1"), [commit("x.json", x1)]),
      replicas[1]!.recordUploads(ctxFor(ledger, "x2"), [commit("x.json", x2)]),
    ]);
    const final = await replicas[0]!.summary(ledger, DEFAULT_MATCH_OPTIONS);
    const winner = final.instances.find((i) => i.serverId === "srv-x")!;
    // x1 brings 700 new people (5000..5699); x2's 400 (100..499) are all counted already.
    expect(final.totals).toEqual(
      winner.accountCount === 700
        ? { seats: 3800, accounts: 8700, deduplicated: 4900, instances: 9 }
        : { seats: 3100, accounts: 8400, deduplicated: 5300, instances: 9 },
    );
    expect((await replicas[0]!.history(ledger, 1))[0]!.totals).toEqual(final.totals);
  });
});
