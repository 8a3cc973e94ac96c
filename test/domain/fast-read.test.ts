import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { ReportKeys } from "../../src/domain/byte-keys.js";
import { readExportFast, readExportIdentified, readExportInterned, readExportSet, readPlainExportSet } from "../../src/domain/fast-read.js";
import { readUpload } from "../../src/domain/cloud-report.js";
import { AccountSet } from "../../src/domain/account-set.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { createHmacSha256 } from "../../src/ledger/hmac.js";
import { accountsOf, resolveInterned } from "../../src/domain/interned-report.js";
import { identifyAccounts } from "../../src/domain/identity.js";
import { MAX_ERRORS, readExport } from "../../src/domain/validate.js";
import type { ValidationResult } from "../../src/domain/types.js";
import { SAMPLES } from "../helpers/samples.js";

const LIMITS = { maxBytes: 1024 * 1024 };
const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

/**
 * readExport may hand out the export's own e-mail entries, extra keys included (validate.ts shares
 * them for speed); the contract of an AccountEmail is its two fields, so compare those.
 */
function norm(r: ValidationResult): unknown {
  if (!r.ok) return r;
  return {
    ok: true,
    export: {
      ...r.export,
      accounts: r.export.accounts.map((a) => ({
        userId: a.userId,
        login: a.login,
        suspended: a.suspended,
        emails: a.emails.map((e) => ({ email: e.email, primary: e.primary })),
      })),
    },
  };
}

const REPEATED_KEY = /^has the key "[a-z_]+" twice$|^… and \d+ more duplicate keys?$/;

/**
 * The oracle: the fast reader's answer deep-equals the reference's. The one documented divergence:
 * a key read by validation, repeated in its object, is refused (listed before the reference's own
 * problems, if any) where JSON.parse would silently keep the last one.
 */
function same(bytes: Uint8Array, file = "t.json", limits = LIMITS): ValidationResult {
  const ref = readExport(bytes, file, limits);
  const fast = readExportFast(bytes, file, limits);
  sameIdentified(bytes, file, limits, fast);
  if (!fast.ok && REPEATED_KEY.test(fast.errors[0]?.message ?? "")) {
    const repeated = fast.errors.findIndex((e) => !REPEATED_KEY.test(e.message));
    const rest = repeated < 0 ? [] : fast.errors.slice(repeated);
    // only well-formed JSON gets this refusal; everything else reads as the reference says
    expect(ref.ok || !ref.errors[0].message.startsWith("is not valid JSON")).toBe(true);
    expect(rest).toStrictEqual(ref.ok ? [] : ref.errors);
    expect(fast.warnings).toStrictEqual(ref.ok ? [] : ref.warnings);
    return fast;
  }
  expect(norm(fast)).toStrictEqual(norm(ref));
  return fast;
}
const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");

/** Identifying while reading gives readExportFast's answer with identifyAccounts applied. */
const keyOf = (e: string) => `key(${e})`;
let identifiedInOnePass = 0;
function sameIdentified(bytes: Uint8Array, file: string, limits: typeof LIMITS, fast: ValidationResult): void {
  const identified = readExportIdentified(bytes, file, limits, keyOf);
  if (!fast.ok) {
    expect(identified).toStrictEqual(fast);
    return;
  }
  const { instance, accounts, warnings } = fast.export;
  expect(identified).toStrictEqual({ ok: true, export: { file, instance, accounts: identifyAccounts(accounts, keyOf), warnings } });
  // Read straight to ids (the report's path), in tables already holding other keys: the same accounts, keyed by the normalized e-mail.
  // Deferred (the CLI's): keys only recorded while read, interned by resolveInterned after.
  for (const [withSecondary, deferred] of [[true, false], [false, false], [true, true], [false, true]]) {
    const keys = new ReportKeys(4);
    keys.emails.idOf("a@x");
    keys.logins.idOf("ann");
    if (deferred) keys.defer();
    const interned = readExportInterned(bytes, file, limits, keys, withSecondary);
    if (!interned.ok) throw new Error("the report's reader refused what readExportFast accepts");
    if (deferred) resolveInterned([interned.export], keys);
    const expected = identifyAccounts(accounts, (e) => e).map((a) => (withSecondary ? a : { ...a, secondary: [] }));
    expect({ ...interned.export, accounts: accountsOf(interned.export, keys) }).toMatchObject({ file, instance, warnings, count: expected.length, accounts: expected });
  }
  sameSet(bytes, file, limits, fast);
  // the one-pass path, not the fallback: ascending ids and no repeated key
  if (accounts.every((a, k) => k === 0 || a.userId > accounts[k - 1]!.userId)) identifiedInOnePass++;
}

/** Read straight to an account set (the ledger's path), keys by the identity hasher: the set of readExportIdentified's accounts. */
const hmac = createIdentityHasher("test identity key");
let setInOnePass = 0;
function sameSet(bytes: Uint8Array, file: string, limits: typeof LIMITS, fast: ValidationResult): void {
  const read = readExportSet(bytes, file, limits, hmac, hmac);
  // The push's first try: the same set, and only for a file readUpload takes for an export.
  const plain = readPlainExportSet(bytes, file, limits, hmac);
  if (plain !== null) {
    expect(read).toStrictEqual({ ok: true, export: plain });
    expect(readUpload(bytes, file, limits).kind).toBe("export");
  }
  if (!fast.ok) {
    expect(read).toStrictEqual(fast);
    return;
  }
  const { instance, accounts, warnings } = fast.export;
  const identified = identifyAccounts(accounts, hmac);
  if (read.ok && read.export.accounts instanceof AccountSet) {
    setInOnePass++;
    expect(read.export).toStrictEqual({ file, instance, warnings, accounts: AccountSet.fromAccounts(identified) });
  } else {
    expect(read).toStrictEqual({ ok: true, export: { file, instance, accounts: identified, warnings } });
  }
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.json(\.gz)?$/.test(name) ? [p] : [];
  });
}

// ---- a JSON writer with random layout, escapes, key order and duplicate keys ----

/** A number written exactly as given (1.0, 1e2, -0, 9007199254740993 …). */
class RawNumber {
  constructor(readonly text: string) {}
}
/** An object as ordered entries, so that keys may repeat and "__proto__" is just a key. */
class Obj {
  constructor(readonly entries: [string, unknown][]) {}
}
const MISSING = Symbol("missing");

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WS = ["", "", "", " ", "\n", "\t", "\r\n  "];

function writeString(s: string, rnd: () => number): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    const r = rnd();
    if (ch === '"' || ch === "\\" || c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) {
      out += r < 0.5 ? JSON.stringify(ch).slice(1, -1) : "\\u" + c.toString(16).padStart(4, "0");
    } else if (r < 0.05 && c < 0x10000) {
      const hex = c.toString(16).padStart(4, "0");
      out += "\\u" + (rnd() < 0.5 ? hex : hex.toUpperCase());
    } else if (r < 0.07 && ch === "/") out += "\\/";
    else out += ch;
  }
  return out + '"';
}

function write(v: unknown, rnd: () => number): string {
  const ws = (): string => (rnd() < 0.3 ? WS[Math.floor(rnd() * WS.length)] : "");
  const go = (x: unknown): string => {
    if (x === null || typeof x === "boolean") return String(x);
    if (typeof x === "number") return JSON.stringify(x);
    if (typeof x === "string") return writeString(x, rnd);
    if (x instanceof RawNumber) return x.text;
    if (Array.isArray(x)) return "[" + ws() + x.map((e) => go(e)).join(ws() + "," + ws()) + ws() + "]";
    const entries = x instanceof Obj ? x.entries : Object.entries(x as object);
    const kept = entries.filter(([, e]) => e !== MISSING);
    return "{" + ws() + kept.map(([k, e]) => writeString(k, rnd) + ws() + ":" + ws() + go(e)).join(ws() + "," + ws()) + ws() + "}";
  };
  return ws() + go(v) + ws();
}

// ---- export-shaped documents: mostly valid, each field sometimes wrong, missing or odd ----

function often<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: good, weight: 60 }, { arbitrary: bad, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 });
}
const odd = fc.jsonValue({ maxDepth: 2 });
const text = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 30 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 8 }), weight: 2 },
  { arbitrary: fc.constantFrom("", " ", "\u00a0", "\u2028", "\ufeff", 'a"b\\c/', "Zoë ✓ 𝄞", "\n"), weight: 1 },
);
const numbers = fc.constantFrom("1.0", "1e2", "1E+0", "-0", "0", "2.5", "9007199254740993", "1e400", "12345678901234567890", "-3");
const extraKeys = fc.array(
  fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("__proto__", "constructor", "profile_name", "users2")), odd),
  { maxLength: 2 },
);
const withExtras = (known: [string, unknown][], extras: [string, unknown][]): Obj => {
  const names = new Set(known.map(([k]) => k));
  return new Obj([...known, ...extras.filter(([k]) => !names.has(k))]);
};

const emailArb = fc
  .tuple(often(text, odd), fc.oneof({ arbitrary: fc.boolean(), weight: 40 }, { arbitrary: fc.constant(null), weight: 5 }, { arbitrary: fc.constant(MISSING), weight: 10 }, { arbitrary: odd, weight: 1 }), extraKeys)
  .map(([email, primary, extras]) => withExtras([["email", email], ["primary", primary]], extras));

const userArb = fc
  .tuple(
    fc.oneof({ arbitrary: fc.integer({ min: 1, max: 40 }), weight: 60 }, { arbitrary: numbers.map((t) => new RawNumber(t)), weight: 1 }, { arbitrary: odd, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 }),
    often(text, odd),
    fc.oneof({ arbitrary: fc.array(emailArb, { maxLength: 3 }), weight: 60 }, { arbitrary: fc.constant(null), weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 }, { arbitrary: odd, weight: 1 }),
    fc.oneof({ arbitrary: fc.constant(MISSING), weight: 40 }, { arbitrary: fc.boolean(), weight: 10 }, { arbitrary: fc.constant(null), weight: 1 }, { arbitrary: odd, weight: 1 }),
    fc.oneof({ arbitrary: fc.constant(MISSING), weight: 40 }, { arbitrary: fc.constant(null), weight: 5 }, { arbitrary: fc.constant("2020-01-01"), weight: 5 }, { arbitrary: odd, weight: 1 }),
    extraKeys,
  )
  .map(([id, login, emails, suspended, suspendedAt, extras]) =>
    withExtras([["user_id", id], ["login", login], ["emails", emails], ["suspended", suspended], ["suspended_at", suspendedAt]], extras),
  );

/** A display-only field: mostly as expected, sometimes null, missing, or of another type (a warning). */
const displayOnly = (good: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: good, weight: 20 }, { arbitrary: fc.constant(null), weight: 2 }, { arbitrary: fc.constant(MISSING), weight: 10 }, { arbitrary: odd, weight: 3 });
const instanceArb = fc
  .tuple(
    often(text, odd),
    often(text, odd),
    fc.oneof(text, fc.constant(null), fc.constant(MISSING), odd),
    fc.oneof(fc.boolean(), fc.constant(null), fc.constant(MISSING), odd),
    displayOnly(text),
    displayOnly(text),
    displayOnly(fc.constant([{ name: "x" }])),
    extraKeys,
  )
  .map(([serverId, hostName, version, httpOnly, license, publicKey, features, extras]) =>
    withExtras(
      [["server_id", serverId], ["host_name", hostName], ["version", version], ["http_only", httpOnly], ["license", license], ["public_key", publicKey], ["features", features]],
      extras,
    ),
  );

const exportArb = fc
  .tuple(
    often(fc.oneof(fc.integer(), text), odd),
    fc.oneof({ arbitrary: instanceArb, weight: 60 }, { arbitrary: odd, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 }),
    fc.oneof({ arbitrary: fc.array(userArb, { maxLength: 8 }), weight: 60 }, { arbitrary: odd, weight: 1 }, { arbitrary: fc.constant(MISSING), weight: 1 }),
    extraKeys,
  )
  .map(([version, instance, users, extras]) => withExtras([["version", version], ["instance", instance], ["users", users]], extras));

/** A well-formed document: shuffled key order needs a shuffle of each Obj. */
function shuffle(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((e) => shuffle(e, rnd));
  if (!(v instanceof Obj)) return v;
  const entries = v.entries.map(([k, e]): [string, unknown] => [k, shuffle(e, rnd)]);
  if (rnd() < 0.3) {
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
  }
  return new Obj(entries);
}
const docText = fc.tuple(exportArb, fc.integer()).map(([doc, seed]) => {
  const rnd = prng(seed);
  return write(shuffle(doc, rnd), rnd);
});

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (v instanceof Obj) return new Obj(v.entries.map(([k, e]): [string, unknown] => [k, clone(e)]));
  return v;
}
/** The value written for a key of an Obj (the last one), or MISSING. */
function member(o: Obj, key: string): unknown {
  let found: unknown = MISSING;
  for (const [k, e] of o.entries) if (k === key && e !== MISSING) found = e;
  return found;
}

// ---- tests ----

describe("readExportFast agrees with readExport", () => {
  it.each(files(FIXTURES).map((p) => [p.slice(FIXTURES.length)]))("on fixture %s", (name) => {
    same(readFileSync(join(FIXTURES, name)), name);
  });

  it.each(readdirSync(SAMPLES).filter((n) => n.endsWith(".json")).map((n) => [n]))("on sample %s", (name) => {
    const r = same(readFileSync(SAMPLES + "/" + name), name);
    if (name !== "legacy-encrypted.json") expect(r.ok).toBe(true);
  });

  it("on generated export-shaped documents (valid and invalid)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(docText, (t) => {
        if (same(utf8(t)).ok) accepted++;
      }),
      { numRuns: 1500 },
    );
    // the generator must exercise the fast path, not just the fallback
    expect(accepted).toBeGreaterThan(300);
    expect(identifiedInOnePass).toBeGreaterThan(100);
    expect(setInOnePass).toBeGreaterThan(100);
  });

  it("on arbitrary JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (v, seed) => {
        same(utf8(write(v, prng(seed))));
      }),
      { numRuns: 500 },
    );
  });

  it("on byte mutations and truncations of documents", () => {
    const structural = fc.constantFrom(..."{}[],:\"\\ 0-.eE+tfnu".split("").map((c) => c.charCodeAt(0)), 0x00, 0x80, 0xff);
    const mutation = fc.tuple(fc.constantFrom("truncate", "delete", "insert", "replace"), fc.nat(), fc.oneof(structural, fc.integer({ min: 0, max: 255 })));
    fc.assert(
      fc.property(docText, fc.array(mutation, { minLength: 1, maxLength: 3 }), (t, ms) => {
        let b = utf8(t);
        for (const [kind, at, byte] of ms) {
          const i = b.length === 0 ? 0 : at % b.length;
          if (kind === "truncate") b = b.subarray(0, i);
          else if (kind === "delete") b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
          else if (kind === "insert") b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
          else if (b.length > 0) b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i + 1)]);
        }
        same(b);
      }),
      { numRuns: 1000 },
    );
  });

  it("builds valid exports itself rather than falling back (fresh e-mail entries, no extra keys)", () => {
    const doc = head + '"users":[{"user_id":1,"login":"a","emails":[{"email":"a@x","primary":true,"verified":true}]}]}';
    const r = same(utf8(doc));
    // readExport hands out the parsed entry itself, extra key included; the fast reader builds its own
    expect(r.ok && Object.keys(r.export.accounts[0].emails[0])).toEqual(["email", "primary"]);
  });

  it("on every truncation of a small valid document", () => {
    const t = readFileSync(SAMPLES + "/" + "ghes-lab.json");
    for (let i = 0; i < t.length; i++) same(t.subarray(0, i));
  });
});

const head = '{"version":1,"instance":{"server_id":"s-1","host_name":"h.example"},';

describe("duplicate keys: JSON.parse keeps the last silently, readExportFast refuses", () => {
  const cases: [string, string, string][] = [
    [head + '"users":[{"user_id":1,"login":"a","user_id":2}]}', "users[0]", "user_id"],
    [head + '"users":[{"user_id":1,"login":"a"},{"user_id":2,"login":"b","login":"c"}]}', "users[1]", "login"],
    [head + '"users":[{"user_id":1,"login":"a","emails":[{"email":"x@y","primary":false,"primary":true}]}]}', "users[0].emails[0]", "primary"],
    [head + '"users":[{"user_id":1,"login":"a","emails":[],"emails":[{"email":"x@y"}]}]}', "users[0]", "emails"],
    [head + '"users":[{"user_id":1,"login":"a","suspended":true,"suspended":false}]}', "users[0]", "suspended"],
    [head + '"users":[{"user_id":1,"login":"a","suspended_at":"2020","suspended_at":null}]}', "users[0]", "suspended_at"],
    [head + '"users":[{"user_id":1,"login":"a","emails":[{"email":"x@y","email":"z@y"}]}]}', "users[0].emails[0]", "email"],
    [head + '"users":[{"user_id":1,"login":"a","user\\u005fid":2}]}', "users[0]", "user_id"],
    ['{"version":1,"version":2,"instance":{"server_id":"s","host_name":"h"},"users":[]}', "", "version"],
    ['{"version":1,"users":"encrypted","instance":{"server_id":"s","host_name":"h"},"users":[]}', "", "users"],
    ['{"version":1,"instance":{"server_id":"s","host_name":"h","host_name":"i"},"users":[]}', "instance", "host_name"],
    ['{"version":1,"instance":{"server_id":"s","host_name":"h","http_only":false,"http_only":true},"users":[]}', "instance", "http_only"],
  ];
  it.each(cases)("%s", (doc, path, key) => {
    expect(() => JSON.parse(doc) as unknown).not.toThrow();
    expect(readExport(utf8(doc), "d.json", LIMITS).ok).toBe(true);
    const r = readExportFast(utf8(doc), "d.json", LIMITS);
    expect(r).toStrictEqual({ ok: false, file: "d.json", errors: [{ file: "d.json", path, message: `has the key "${key}" twice` }], warnings: [] });
  });

  it("ignores repeated keys that validation does not read", () => {
    const doc = head + '"x":1,"x":2,"users":[{"user_id":1,"login":"a","profile_name":"A","profile_name":"B","emails":[{"email":"a@x","primary":true,"v":1,"v":2}]}]}';
    expect(same(utf8(doc)).ok).toBe(true);
  });

  it("lists a repeated key together with the reference's other problems", () => {
    const doc = head + '"users":[{"user_id":1,"user_id":1,"login":"a"},{"user_id":"2","login":"b"}]}';
    const r = readExportFast(utf8(doc), "d.json", LIMITS);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toEqual({ file: "d.json", path: "users[0]", message: 'has the key "user_id" twice' });
    expect(r.errors.slice(1)).toEqual((readExport(utf8(doc), "d.json", LIMITS) as { errors: unknown[] }).errors);
  });

  it("caps the list of repeated keys", () => {
    const users = Array.from({ length: MAX_ERRORS + 5 }, (_, i) => `{"user_id":${i + 1},"login":"a","login":"b"}`);
    const r = readExportFast(utf8(head + `"users":[${users.join(",")}]}`), "d.json", LIMITS);
    if (r.ok) throw new Error("expected a refusal");
    expect(r.errors).toHaveLength(MAX_ERRORS + 1);
    expect(r.errors[MAX_ERRORS].message).toBe("… and 5 more duplicate keys");
  });

  it("refuses any generated document with a repeated key in a read object", () => {
    fc.assert(
      fc.property(exportArb, fc.integer(), fc.nat(), odd, (generated, seed, pick, value) => {
        const doc = clone(generated) as Obj;
        const targets: [Obj, string, readonly string[]][] = [[doc, "", ["version", "instance", "users"]]];
        const instance = member(doc, "instance");
        if (instance instanceof Obj) targets.push([instance, "instance", ["server_id", "host_name", "version", "http_only"]]);
        const users = member(doc, "users");
        if (Array.isArray(users)) {
          users.forEach((u, i) => {
            if (!(u instanceof Obj)) return;
            targets.push([u, `users[${i}]`, ["user_id", "login", "emails", "suspended", "suspended_at"]]);
            const emails = member(u, "emails");
            if (Array.isArray(emails)) {
              emails.forEach((e, j) => {
                if (e instanceof Obj) targets.push([e, `users[${i}].emails[${j}]`, ["email", "primary"]]);
              });
            }
          });
        }
        const [obj, path, keys] = targets[pick % targets.length];
        const key = keys[Math.floor(pick / targets.length) % keys.length];
        if (member(obj, key) === MISSING) obj.entries.push([key, value]);
        obj.entries.push([key, value]);
        const t = write(doc, prng(seed));
        expect(() => JSON.parse(t) as unknown).not.toThrow();
        const r = readExportFast(utf8(t), "d.json", LIMITS);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.errors[0]).toStrictEqual({ file: "d.json", path, message: `has the key "${key}" twice` });
      }),
      { numRuns: 500 },
    );
  });
});

describe("hostile input", () => {
  it("reads past 100,000 levels of nesting in an unknown key without overflowing the stack", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const r = same(utf8(head + `"x":${deep},"users":[{"user_id":1,"login":"a","extra":${deep}}]}`));
    expect(r.ok).toBe(true);
    const objects = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    expect(same(utf8(head + `"x":${objects},"users":[]}`)).ok).toBe(true);
    // unbalanced: refused like the reference
    expect(same(utf8(head + `"x":${deep.slice(0, -1)},"users":[]}`)).ok).toBe(false);
    expect(same(utf8(head + `"x":${deep}],"users":[]}`)).ok).toBe(false);
  });

  it("refuses invalid UTF-8 like the reference", () => {
    const b = utf8(head + '"users":[{"user_id":1,"login":"ab"}]}');
    const at = b.indexOf("ab");
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const r = same(Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]));
      expect(r.ok).toBe(false);
    }
    expect(same(Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])).ok).toBe(false);
  });

  it("skips one leading BOM, and only one", () => {
    const doc = utf8(head + '"users":[{"user_id":1,"login":"a"}]}');
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(same(Buffer.concat([bom, doc])).ok).toBe(true);
    // a second BOM goes to the reference (which currently strips it too), a BOM after a space is refused
    same(Buffer.concat([bom, bom, doc]));
    expect(same(Buffer.concat([utf8(" "), bom, doc])).ok).toBe(false);
  });

  it("inflates gzip, refuses a gzip bomb, a damaged stream and an over-cap file like the reference", () => {
    const doc = utf8(head + '"users":[{"user_id":1,"login":"a","emails":[{"email":"a@x","primary":true}]}]}');
    expect(same(gzipSync(doc)).ok).toBe(true);
    const bomb = gzipSync(Buffer.alloc(50 * LIMITS.maxBytes, 0x20), { level: 9 });
    const r = same(bomb);
    expect(r.ok || r.errors[0].message).toMatch(/inflates to more than 1 MB/);
    expect(same(gzipSync(doc).subarray(0, 20)).ok).toBe(false);
    const big = Buffer.concat([doc, Buffer.alloc(LIMITS.maxBytes, 0x20)]);
    const over = same(big);
    expect(over.ok || over.errors[0].message).toMatch(/the size limit of 1 MB/);
    expect(same(big, "t.json", { maxBytes: big.length }).ok).toBe(true);
  });

  it("treats __proto__ and constructor as ordinary keys, polluting nothing", () => {
    const p = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}';
    const doc = `{${p},"version":1,"instance":{${p},"server_id":"s","host_name":"h"},"users":[{${p},"user_id":1,"login":"a","emails":[{${p},"email":"a@x","primary":true}]}]}`;
    const r = same(utf8(doc));
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r.ok && r.export.accounts[0])).toBe(Object.prototype);
    expect(same(utf8('{"__proto__":1}')).ok).toBe(false);
  });

  it("reads strings of 10,000 characters: plain, non-ASCII and escaped", () => {
    const long = ["a".repeat(10_000), "é".repeat(10_000), "\\n\\u00e9\\\"".repeat(2_500), "𝄞".repeat(5_000)];
    const users = long.map((s, i) => `{"user_id":${i + 1},"login":"${s}","emails":[{"email":"u${i}@x","primary":true}],"bio":"${s}"}`);
    const r = same(utf8(head + `"users":[${users.join(",")}]}`));
    expect(r.ok && r.export.accounts.map((a) => a.login.length)).toEqual([10_000, 10_000, 7_500, 10_000]);
    // e-mails that long are refused, like the reference; the 320-character cap counts code points
    for (const s of [...long, "a".repeat(320), "a".repeat(321), "𝄞".repeat(320), "𝄞".repeat(321)]) {
      const one = same(utf8(head + `"users":[{"user_id":1,"login":"a","emails":[{"email":"${s}","primary":true}]}]}`));
      expect(one.ok).toBe(s === "a".repeat(320) || s === "𝄞".repeat(320));
    }
  });

  it("reads numbers the way JSON.parse does: huge, inexact, and equal to integers", () => {
    for (const id of ["1e400", "9007199254740993", "9007199254740991", "1.0", "1e2", "-0", "0", "1.5", "-1e400", "1E-2", "123456789012345678901234567890"]) {
      same(utf8(head + `"users":[{"user_id":${id},"login":"a"}]}`));
    }
    expect(same(utf8(head + '"users":[{"user_id":1e400,"login":"a"}]}')).ok).toBe(false);
    expect(same(utf8(head + '"users":[{"user_id":9007199254740993,"login":"a"}]}')).ok).toBe(false);
    const ok = same(utf8(head + '"users":[{"user_id":1.0e2,"login":"a"}]}'));
    expect(ok.ok && ok.export.accounts[0].userId).toBe(100);
    for (const bad of ["01", "1.", ".5", "+1", "1e", "--1", "0x10", "Infinity", "NaN"]) {
      expect(same(utf8(head + `"users":[],"x":${bad}}`)).ok).toBe(false);
    }
  });

  it("refuses one wrong field at the end of 1,000,000 users", () => {
    const n = 1_000_000;
    const parts = new Array<string>(n);
    for (let i = 0; i < n - 1; i++) parts[i] = `{"user_id":${i + 1},"login":"u"}`;
    parts[n - 1] = `{"user_id":${n},"login":7}`;
    const bytes = utf8(head + `"users":[${parts.join(",")}]}`);
    const limits = { maxBytes: 100 * 1024 * 1024 };
    const r = readExportFast(bytes, "big.json", limits);
    expect(r).toStrictEqual({
      ok: false,
      file: "big.json",
      errors: [{ file: "big.json", path: "users[999999].login", message: "expected a string, got a number" }],
      warnings: [{ file: "big.json", path: "users", message: expect.stringMatching(/^999999 accounts have no primary e-mail/) }],
    });
  });
});

describe("readExportInterned: an export straight to the report's ids", () => {
  it("drops a key an account lists twice (case, spaces, escapes, primary and secondary), also when the keys defer (the CLI's)", () => {
    const users = [
      { user_id: 1, login: " Ann ", emails: [{ email: " A@X.example ", primary: true }, { email: "a@x.example", primary: false }, { email: "a@x.EXAMPLE", primary: true }, { email: "b@x", primary: true }] },
      { user_id: 2, login: "b\u00f6b", emails: [{ email: "B\u00d6B@x.example", primary: true }, { email: "böb@x.example", primary: true }, { email: "k@x", primary: false }, { email: "K@x", primary: false }] },
      { user_id: 3, login: "ann", emails: [{ email: "z@x", primary: false }, { email: "b@x", primary: true }, { email: "z@x", primary: false }, { email: " B@x", primary: false }] },
    ];
    const json = JSON.stringify({ version: 1, instance: { server_id: "s-1", host_name: "h.example" }, users });
    // as written, and with the first "a" escaped (read as a string, not as bytes)
    for (const text of [json, json.replace("A@X", "\\u0041@X")]) {
      const bytes = utf8(text);
      sameIdentified(bytes, "t.json", LIMITS, readExportFast(bytes, "t.json", LIMITS));
    }
  });
});

describe("readExportSet: an export straight to the ledger's account set", () => {
  const doc = (users: unknown[]) => utf8(JSON.stringify({ version: 1, instance: { server_id: "s-1", host_name: "h.example" }, users }));
  const check = (users: unknown[], oneRead: boolean) => {
    const bytes = doc(users);
    const fast = readExportFast(bytes, "t.json", LIMITS);
    sameSet(bytes, "t.json", LIMITS, fast);
    const read = readExportSet(bytes, "t.json", LIMITS, hmac, hmac);
    expect(read.ok && read.export.accounts instanceof AccountSet).toBe(oneRead);
  };

  it("keys addresses by their normal form: case, spaces, escapes, non-ASCII, repeats across primary and secondary", () => {
    check(
      [
        { user_id: 1, login: " Ann ", emails: [{ email: " A@X.example ", primary: true }, { email: "a@x.example", primary: false }, { email: "a@x.EXAMPLE", primary: true }] },
        { user_id: 2, login: "b\u00f6b", emails: [{ email: "B\u00d6B@x.example", primary: true }, { email: "böb@x.example", primary: false }, { email: "\u212a@x", primary: false }, { email: "k@x", primary: false }] },
        { user_id: 3, login: "Zoë", emails: [{ email: "   ", primary: true }, { email: "", primary: false }, { email: "z@x", primary: false }, { email: "z@x", primary: false }] },
        { user_id: 4, login: "sus", suspended: true, emails: [{ email: "s@x", primary: true }] },
        { user_id: 5, login: "at", suspended_at: "2020-01-01", emails: [{ email: "t@x", primary: true }] },
        { user_id: 9, login: "long", emails: [{ email: "l".repeat(60) + "@X", primary: true }, { email: "\ud800@x", primary: false }, { email: "\udbff@x", primary: false }] },
      ],
      true,
    );
  });

  it("leaves a document with a cloud report's keys to readUpload's recognition, wherever they are", () => {
    const head = '{"version":1,"instance":{"server_id":"s","host_name":"h"},';
    const plain = (t: string) => readPlainExportSet(utf8(t), "t.json", LIMITS, hmac);
    expect(plain(head + '"users":[{"user_id":1,"login":"total_seats_consumed","emails":[{"email":"github_com_login","primary":true}]}]}')).not.toBeNull();
    for (const t of [
      head + '"users":[{"user_id":1,"login":"a","github_com_login":"a"}]}',
      head + '"users":[{"user_id":1,"login":"a","github\\u005fcom_user":"a"}]}',
      head + '"total_seats_consumed":3,"users":[]}',
      head + '"x":{"y":[{"github_com_login":1}]},"users":[]}',
    ]) {
      expect(plain(t)).toBeNull();
      expect(readExportSet(utf8(t), "t.json", LIMITS, hmac, hmac).ok).toBe(true); // still an export to readExportSet
    }
  });

  it("gives the same set with the hasher's queue (WebAssembly SIMD or plain JS) as without it, over more accounts than a queue holds", () => {
    // Accounts of short ASCII addresses (queued), among them accounts with a long, escaped or
    // non-ASCII address (keyed one by one), repeats within an account in any case and spacing.
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const address = (i: number) => {
      const u = `${i % 7}.${rand(3)}`;
      const forms = [`u${u}@x.example`, ` U${u}@X.EXAMPLE `, `${"l".repeat(50)}${u}@x`, `u\\u0040${u}`, `\u00fc${u}@x`, " "];
      return forms[rand(12) < 9 ? rand(2) : 2 + rand(4)]!;
    };
    const users = Array.from({ length: 3000 }, (_, i) => ({
      user_id: i + 1,
      login: `l${i}`,
      emails: Array.from({ length: 1 + rand(4) }, (_, j) => ({ email: address(i), primary: j === 0 || rand(6) === 0 })),
    }));
    const bytes = utf8(JSON.stringify({ version: 1, instance: { server_id: "s-1", host_name: "h.example" }, users }).replace(/\\\\u0040/g, "\\u0040"));
    const fast = readExportFast(bytes, "q.json", LIMITS);
    if (!fast.ok) throw new Error("not an export");
    const expected = AccountSet.fromAccounts(identifyAccounts(fast.export.accounts, hmac));
    const plainJs = createHmacSha256("test identity key", 16, 1024, false);
    const noQueue = { textInto: hmac.textInto, lowerAsciiInto: hmac.lowerAsciiInto };
    for (const writer of [hmac, plainJs, noQueue]) {
      const read = readExportSet(bytes, "q.json", LIMITS, hmac, writer);
      expect(read.ok && read.export.accounts).toStrictEqual(expected);
    }
    // planted bug: a queue that never finds a repeat keeps an account's key twice
    const q = hmac.queue;
    const blind = { ...noQueue, queue: { capacity: q.capacity, get length() { return q.length; }, same: () => false, lowerAscii: q.lowerAscii, pop: q.pop, run: q.run, keyInto: q.keyInto, clear: q.clear } };
    const bugged = readExportSet(bytes, "q.json", LIMITS, hmac, blind);
    expect(bugged.ok && bugged.export.accounts).not.toStrictEqual(expected);
  });

  it("leaves to the ordinary path a login holding an '@', an account of many addresses, repeated or unordered user_ids", () => {
    check([{ user_id: 1, login: "a@x", emails: [{ email: "a@x", primary: true }] }], false);
    check([{ user_id: 1, login: "a\u0040x", emails: [] }], false);
    const many = Array.from({ length: 40 }, (_, j) => ({ email: `e${j % 20}@x`, primary: j % 3 === 0 }));
    check([{ user_id: 1, login: "m", emails: many }], false);
    check([{ user_id: 1, login: "m", emails: many.slice(0, 16) }], true);
    check([{ user_id: 2, login: "b", emails: [] }, { user_id: 1, login: "a", emails: [] }], false);
    check([{ user_id: 1, login: "b", emails: [{ email: "a@x", primary: true }] }, { user_id: 1, login: "a", emails: [{ email: "b@x", primary: false }] }], false);
  });
});
