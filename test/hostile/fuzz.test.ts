// Property-based fuzzing of both readers (and the ledger behind them): for arbitrary bytes, arbitrary
// JSON, and valid exports mutated with byte flips, truncations and hostile tokens, they return a
// ValidationResult (never throw), every finding is plain words naming the file, no address from the
// input ever appears in one, a refusal records nothing, and memory does not grow with the runs.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { readExport } from "../../src/domain/validate.js";
import { readExportFast } from "../../src/domain/fast-read.js";
import { DEFAULT_MATCH_OPTIONS, type ValidationResult } from "../../src/domain/types.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { memoryLedger } from "../helpers/ledger.js";
import { heapInUseMB } from "../helpers/gc.js";
import { expectCleanFindings } from "./support.js";

const LIMITS = { maxBytes: 1024 * 1024 };
const FILE = "fuzz/export.json";
const READERS = [
  ["readExport", readExport],
  ["readExportFast", readExportFast],
] as const;

/** What any result must look like, whatever the input. */
function expectWellFormed(r: ValidationResult, addresses: readonly string[] = []): void {
  expect(typeof r.ok).toBe("boolean");
  const findings = r.ok ? r.export.warnings : [...r.errors, ...r.warnings];
  if (!r.ok) {
    expect(r.file).toBe(FILE);
    expect(r.errors.length).toBeGreaterThan(0);
  } else {
    for (const a of r.export.accounts) {
      expect(Number.isSafeInteger(a.userId) && a.userId > 0).toBe(true);
      expect(typeof a.login === "string" && a.login.trim() !== "").toBe(true);
      for (const e of a.emails) expect(typeof e.email === "string" && typeof e.primary === "boolean").toBe(true);
    }
  }
  expectCleanFindings(findings, FILE);
  const text = JSON.stringify(findings);
  for (const address of addresses) expect(text).not.toContain(address);
}

function readBoth(bytes: Uint8Array, addresses: readonly string[] = []): void {
  for (const [, read] of READERS) expectWellFormed(read(bytes, FILE, LIMITS), addresses);
}

// ---- generators ----

const address = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9.+_-]{2,15}$/), fc.constantFrom("corp.example", "users.noreply.corp.example", "b.example"))
  .map(([local, domain]) => `${local}@${domain}`);

const emailEntry = fc.record({ email: address, primary: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: ["email"] });

const userRecord = fc.record(
  {
    user_id: fc.integer({ min: 1, max: 2 ** 40 }),
    login: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/),
    profile_name: fc.string({ maxLength: 12 }),
    site_admin: fc.boolean(),
    emails: fc.array(emailEntry, { maxLength: 3 }),
    suspended: fc.option(fc.boolean(), { nil: undefined }),
  },
  { requiredKeys: ["user_id", "login", "emails"] },
);

const validExport = fc.record({
  version: fc.constantFrom(1, "1"),
  instance: fc.record({ server_id: fc.uuid(), host_name: fc.domain(), version: fc.constantFrom("3.17.4", "3.12.0") }),
  users: fc.array(userRecord, { minLength: 1, maxLength: 8 }),
});

type Doc = { users: { emails: { email: string }[] }[] };
const addressesOf = (doc: Doc): string[] => doc.users.flatMap((u) => u.emails.map((e) => e.email));

const HOSTILE_TOKENS: (string | number[])[] = [
  '"__proto__":',
  '{"__proto__":{"user_id":1,"login":"x"}}',
  '"constructor":{"prototype":{"polluted":true}},',
  "1e400",
  "-0",
  "9007199254740993",
  '"\\ud800"',
  "[".repeat(2_000),
  "]".repeat(50),
  '{"a":'.repeat(500),
  "\u0000",
  "\\",
  '"',
  ",",
  "null",
  '"user_id":2,',
  '"emails":[{"email":',
  `"${"z".repeat(400)}@corp.example"`,
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xef, 0xbb, 0xbf],
  [0x1f, 0x8b],
];

type Mutation =
  | { kind: "flip"; at: number; byte: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; token: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "repeat"; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), token: fc.nat({ max: HOSTILE_TOKENS.length - 1 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("repeat" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 80 }) }),
);

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
  switch (m.kind) {
    case "flip": {
      if (bytes.length === 0) return bytes;
      const out = Buffer.from(bytes);
      out[at % bytes.length] = m.byte;
      return out;
    }
    case "truncate":
      return bytes.subarray(0, at);
    case "insert": {
      const t = HOSTILE_TOKENS[m.token]!;
      return Buffer.concat([bytes.subarray(0, at), typeof t === "string" ? Buffer.from(t) : Buffer.from(t), bytes.subarray(at)]);
    }
    case "delete":
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case "repeat":
      return Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
  }
}

const mutatedExport = fc
  .tuple(validExport, fc.constantFrom(0, 2), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([doc, indent, mutations, gzip]) => {
    let bytes: Buffer = Buffer.from(JSON.stringify(doc, null, indent));
    for (const m of mutations) bytes = mutate(bytes, m);
    return { bytes: gzip ? gzipSync(bytes) : bytes, addresses: addressesOf(doc) };
  });

// ---- properties ----

let heapBefore = 0;
beforeAll(() => {
  heapBefore = heapInUseMB();
});
afterAll(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  // Thousands of runs leave no trace once garbage is collected (measured: ~7 MB, jest's own).
  expect(heapInUseMB() - heapBefore).toBeLessThan(64);
});

describe("readExport and readExportFast never throw and answer in plain words", () => {
  it("on arbitrary bytes, bare or behind a gzip header or a BOM", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom([], [0x1f, 0x8b], [0x1f, 0x8b, 0x08, 0x00], [0xef, 0xbb, 0xbf]), (bytes, prefix) => {
        readBoth(Uint8Array.from([...prefix, ...bytes]));
      }),
      { numRuns: 400 },
    );
  });

  it("on arbitrary JSON values, compact and indented", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(0, 2), (value, indent) => {
        readBoth(Buffer.from(JSON.stringify(value, null, indent) ?? "null"));
      }),
      { numRuns: 400 },
    );
  });

  it("on valid exports (all accepted, no address in their warnings)", () => {
    fc.assert(
      fc.property(validExport, (doc) => {
        for (const [, read] of READERS) {
          const r = read(Buffer.from(JSON.stringify(doc)), FILE, LIMITS);
          expect(r.ok).toBe(true);
          expectWellFormed(r, addressesOf(doc));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("on valid exports mutated by byte flips, truncations, deletions, repeats and hostile tokens: no input address in any finding", () => {
    let refused = 0;
    fc.assert(
      fc.property(mutatedExport, ({ bytes, addresses }) => {
        readBoth(bytes, addresses);
        if (!readExport(bytes, FILE, LIMITS).ok) refused++;
      }),
      { numRuns: 1_000 },
    );
    expect(refused).toBeGreaterThan(300); // the mutations do reach the refusal paths
  });
});

describe("the ledger under fuzzed uploads (in-memory SQLite)", () => {
  let ledger: LedgerService;
  let store: LedgerStore;
  const key = { repoId: 1, fullName: "acme/license-usage" };
  beforeAll(async () => {
    ({ ledger, store } = await memoryLedger(LIMITS.maxBytes));
  });
  afterAll(async () => {
    await store.close();
  });

  it("records a file only when readExportFast (the pipeline's reader) accepts it; a refusal adds one refused row and changes nothing else", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutatedExport, async ({ bytes, addresses }) => {
        n++;
        // A commit of its own each time: the same refused content from the same source is a
        // redelivery, answered without a second row (fast-check may well generate it twice).
        const ctx = { ledger: key, uploader: "fuzz", deliveryId: `d-${n}`, options: DEFAULT_MATCH_OPTIONS };
        const expected = readExportFast(bytes, FILE, LIMITS);
        const before = await store.read(key, async (tx) => ({ instances: await tx.instances(), rows: (await tx.history(10_000)).length }));
        const out = await ledger.recordUploads(ctx, [{ file: FILE, bytes, source: { kind: "commit", sha: `f${n}`, path: FILE } }]);
        const r = out.results[0]!;
        const after = await store.read(key, async (tx) => ({ instances: await tx.instances(), rows: (await tx.history(10_000)).length }));
        if (!expected.ok) {
          expect(r.status).toBe("refused");
          expect(after).toEqual({ ...before, rows: before.rows + 1 });
          const row = (await ledger.history(key, 1))[0]!;
          expect(row.outcome).toBe("refused");
          expect(row.errorSummary).not.toContain("@");
          for (const a of addresses) expect(row.errorSummary).not.toContain(a);
        } else {
          expect(r.status === "recorded" || r.status === "unchanged").toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
