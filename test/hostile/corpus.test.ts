// The hostile corpus through both readers and through LedgerService on a real (in-memory SQLite)
// ledger: a refusal names the file and the JSON path in plain words, and records nothing but the
// refusal itself.
import { afterAll, afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { readExport } from "../../src/domain/validate.js";
import { readExportFast } from "../../src/domain/fast-read.js";
import { DEFAULT_MATCH_OPTIONS, type ValidationResult } from "../../src/domain/types.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { UploadContext } from "../../src/ledger/types.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { exportJson, users } from "../helpers/exports.js";
import { memoryLedger } from "../helpers/ledger.js";
import { CORPUS, DUPLICATE_KEYS, HOST_NAME, SERVER_ID, OVER_CAP_BOMB_MIB, gzipBomb, millionUsers, paddedExport, repeatedUserId } from "./corpus.js";
import { collectGarbage } from "../helpers/gc.js";
import { expectCleanFindings, expectRefusedOnly, snapshot } from "./support.js";

const MB = 1024 * 1024;
const LIMITS = { maxBytes: 100 * MB };
const FILE = "license-usage/hostile.json";
const ledgerKey = { repoId: 9, fullName: "acme/license-usage" };
const ctx: UploadContext = { ledger: ledgerKey, uploader: "mona", deliveryId: "d-hostile", options: DEFAULT_MATCH_OPTIONS };
const source = { kind: "commit", sha: "abc", path: FILE } as const;

const READERS = [
  ["readExport", readExport],
  ["readExportFast", readExportFast],
] as const;

function expectVerdict(r: ValidationResult, item: (typeof CORPUS)[number]): void {
  const e = item.expect;
  if (e.verdict === "accepted") {
    expect(r.ok ? r.export.accounts.length : r.errors).toBe(e.accounts);
    if (r.ok) expectCleanFindings(r.export.warnings, FILE);
    if (r.ok && e.warnings) {
      expect(r.export.warnings.map((w) => w.path)).toEqual(e.warnings);
      expect(r.export.instance).toEqual({ serverId: SERVER_ID, hostName: HOST_NAME });
    }
    return;
  }
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.file).toBe(FILE);
  expect({ path: r.errors[0]!.path }).toEqual({ path: e.path });
  expect(r.errors[0]!.message).toMatch(e.message);
  expectCleanFindings([...r.errors, ...r.warnings], FILE);
}

afterAll(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty("polluted");
  expect(Array.prototype).not.toHaveProperty("polluted");
});

describe.each(READERS)("%s on the corpus", (_name, read) => {
  for (const item of CORPUS) {
    it(`${item.name}: ${item.expect.verdict}`, () => {
      const r = read(item.bytes(), FILE, LIMITS);
      expectVerdict(r, item);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});

describe("__proto__ keys", () => {
  it.each(READERS)("%s: a __proto__ user record does not become an account, and accounts are plain objects", (_name, read) => {
    const item = CORPUS.find((i) => i.name.startsWith("__proto__, constructor"))!;
    const r = read(item.bytes(), FILE, LIMITS);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.export.accounts.map((a) => [a.userId, a.login])).toEqual([[1, "alice"]]);
    expect(Object.getPrototypeOf(r.export.accounts[0])).toBe(Object.prototype);
    expect(Object.getPrototypeOf(r.export.instance)).toBe(Object.prototype);
    expect(r.export.instance).toEqual({ serverId: SERVER_ID, hostName: HOST_NAME });
  });
});

describe("duplicate keys", () => {
  it("readExport (the reference, no longer in the pipeline) keeps the last of two user_id keys silently, as JSON.parse does", () => {
    const r = readExport(DUPLICATE_KEYS, FILE, LIMITS);
    expect(r.ok && r.export.accounts.map((a) => a.userId)).toEqual([2]);
  });
  it("readExportFast refuses a repeated key that validation reads, naming its record and the key", () => {
    const r = readExportFast(DUPLICATE_KEYS, FILE, LIMITS);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toEqual({ file: FILE, path: "users[0]", message: 'has the key "user_id" twice' });
    expectCleanFindings(r.errors, FILE);
  });
});

describe("LedgerService on the corpus (in-memory SQLite)", () => {
  let ledger: LedgerService;
  let store: LedgerStore;
  beforeEach(async () => {
    ({ ledger, store } = await memoryLedger());
    // A ledger that already holds an instance, so "nothing changed" means something.
    const seed = await ledger.recordUploads(ctx, [{ file: "seed.json", bytes: Buffer.from(exportJson("srv-seed", "seed.example", users(1, 3))), source }]);
    expect(seed.results[0]!.status).toBe("recorded");
  });
  afterEach(async () => {
    await store.close();
  });

  for (const item of CORPUS) {
    const e = item.expect;
    if (e.verdict === "refused") {
      it(`${item.name}: refused at ${e.path || "the whole file"}, nothing recorded`, async () => {
        const before = await snapshot(store, ledgerKey);
        const out = await ledger.recordUploads(ctx, [{ file: FILE, bytes: item.bytes(), source }]);
        const r = out.results[0]!;
        expect(r.status).toBe("refused");
        if (r.status !== "refused") return;
        expect(r.errors[0]!.path).toBe(e.path);
        expectCleanFindings([...r.errors, ...r.warnings], FILE);
        expect(out.summary.totals).toEqual({ seats: 3, accounts: 3, deduplicated: 0, instances: 1 });
        await expectRefusedOnly(ledger, store, ledgerKey, before, 1, e.path);
      });
    } else {
      it(`${item.name}: recorded with ${e.accounts} accounts`, async () => {
        const out = await ledger.recordUploads(ctx, [{ file: FILE, bytes: item.bytes(), source }]);
        expect(out.results[0]).toMatchObject({ status: "recorded", accounts: e.accounts, instance: { serverId: SERVER_ID } });
        expect(out.summary.totals.instances).toBe(2);
        if (e.warnings && out.results[0]!.status === "recorded") {
          expect(out.results[0]!.warnings.map((w) => w.path)).toEqual(e.warnings);
          expectCleanFindings(out.results[0]!.warnings, FILE);
          // Read as absent: nothing of the odd values reaches the ledger.
          const [inst] = (await ledger.summary(ledgerKey, DEFAULT_MATCH_OPTIONS)).instances.filter((i) => i.serverId === SERVER_ID);
          expect(inst).not.toHaveProperty("ghesVersion");
          expect(inst).not.toHaveProperty("httpOnly");
        }
      });
    }
  }

  it("a duplicate user_id key is refused (the pipeline reads with readExportFast), nothing recorded", async () => {
    const before = await snapshot(store, ledgerKey);
    const out = await ledger.recordUploads(ctx, [{ file: FILE, bytes: DUPLICATE_KEYS, source }]);
    expect(out.results[0]).toMatchObject({ status: "refused", errors: [{ file: FILE, path: "users[0]", message: 'has the key "user_id" twice' }] });
    await expectRefusedOnly(ledger, store, ledgerKey, before, 1, "users[0]");
  });
});

/** Resident and heap growth across `fn`, in MB, after a GC when one is exposed. */
async function growth<T>(fn: () => Promise<T> | T): Promise<{ value: T; rss: number; heap: number; ms: number }> {
  collectGarbage();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const m1 = process.memoryUsage();
  return { value, rss: (m1.rss - m0.rss) / MB, heap: (m1.heapUsed - m0.heapUsed) / MB, ms };
}

describe("big inputs: refused early, time and memory bounded", () => {
  let ledger: LedgerService;
  let store: LedgerStore;
  beforeEach(async () => {
    ({ ledger, store } = await memoryLedger(LIMITS.maxBytes));
  });
  afterEach(async () => {
    await store.close();
  });

  it("a 200 MB file (valid but for its size) is refused before parsing: no parse, little memory", async () => {
    const bytes = paddedExport(200 * MB);
    for (const [, read] of READERS) {
      const g = await growth(() => read(bytes, FILE, LIMITS));
      expect(!g.value.ok && g.value.errors.map((f) => f.message)).toEqual(["is 200 MB, over the size limit of 100 MB; it was not read"]);
      // A parse would need a 200 MB string (400 MB of heap) and seconds; a refusal needs neither.
      expect(g.heap).toBeLessThan(32);
      expect(g.rss).toBeLessThan(64);
      expect(g.ms).toBeLessThan(2_000);
    }
    const before = await snapshot(store, ledgerKey);
    const g = await growth(() => ledger.recordUploads(ctx, [{ file: FILE, bytes, source }]));
    expect(g.value.results[0]).toMatchObject({ status: "refused", errors: [{ path: "", message: expect.stringMatching(/over the size limit/) }] });
    expect(g.heap).toBeLessThan(64);
    expect(g.rss).toBeLessThan(128);
    await expectRefusedOnly(ledger, store, ledgerKey, before, 0, "");
  }, 60_000);

  it("a 2 MB gzip bomb inflating to 2 GB stops at the 100 MB cap, for both readers and the ledger", async () => {
    const refusal = "is gzip-compressed and inflates to more than 100 MB, the size limit; it was not read";
    // First a bomb just over the cap: a broken cap fails here in a second, not 2 GB in (inflating is
    // synchronous, no time-out would stop it).
    const small = gzipBomb(OVER_CAP_BOMB_MIB);
    for (const [, read] of READERS) {
      const r = read(small, "hostile.json.gz", LIMITS);
      expect(!r.ok && r.errors.map((f) => f.message)).toEqual([refusal]);
    }
    const elsewhere = { ...ctx, ledger: { repoId: ledgerKey.repoId + 1, fullName: "acme/elsewhere" } };
    const first = await ledger.recordUploads(elsewhere, [{ file: "hostile.json.gz", bytes: small, source }]);
    expect(first.results[0]!.status).toBe("refused");
    const bomb = gzipBomb(2048);
    expect(bomb.length).toBeLessThan(4 * MB);
    for (const [, read] of READERS) {
      const g = await growth(() => read(bomb, "hostile.json.gz", LIMITS));
      expect(!g.value.ok && g.value.errors.map((f) => f.message)).toEqual([refusal]);
      // Inflating stops at the cap: at most the cap (plus zlib's chunks) is ever held, never 2 GB.
      expect(g.rss).toBeLessThan(400);
      expect(g.ms).toBeLessThan(15_000);
    }
    const before = await snapshot(store, ledgerKey);
    const out = await ledger.recordUploads(ctx, [{ file: "hostile.json.gz", bytes: bomb, source }]);
    expect(out.results[0]!.status).toBe("refused");
    await expectRefusedOnly(ledger, store, ledgerKey, before, 0, "");
  }, 60_000);

  it("one user_id repeated 40,000 times (3 MB): merged into one account in linear time by both readers and the ledger", async () => {
    const bytes = repeatedUserId(40_000);
    for (const [, read] of READERS) {
      const g = await growth(() => read(bytes, FILE, LIMITS));
      expect(g.value.ok && g.value.export.accounts.map((a) => [a.userId, a.emails.length, a.emails.filter((e) => e.primary).length])).toEqual([
        [7, 40_000, 1],
      ]);
      // Quadratic merging took over 40 s per reader (10.8 s at 20,000); linear merging costs what
      // 40,000 distinct ids cost (0.2 s, 2.4 s with the machine's two cores shared eleven ways).
      expect(g.ms).toBeLessThan(15_000);
    }
    const g = await growth(() => ledger.recordUploads(ctx, [{ file: FILE, bytes, source }]));
    expect(g.value.results[0]).toMatchObject({ status: "recorded", accounts: 1 });
    expect(g.ms).toBeLessThan(30_000);
  }, 120_000);

  it("1,000,000 users with one wrong field at the end: refused at users[999999].login, no address shown", async () => {
    const bytes = millionUsers();
    const expected = [{ file: FILE, path: "users[999999].login", message: "expected a string, got a number" }];
    for (const [, read] of READERS) {
      const g = await growth(() => read(bytes, FILE, LIMITS));
      expect(!g.value.ok && g.value.errors).toEqual(expected);
      if (!g.value.ok) expectCleanFindings([...g.value.errors, ...g.value.warnings], FILE);
      expect(g.ms).toBeLessThan(30_000);
    }
    const before = await snapshot(store, ledgerKey);
    const out = await ledger.recordUploads(ctx, [{ file: FILE, bytes, source }]);
    expect(out.results[0]).toMatchObject({ status: "refused", errors: expected });
    await expectRefusedOnly(ledger, store, ledgerKey, before, 0, "users[999999].login");
  }, 120_000);
});
