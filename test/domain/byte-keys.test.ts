// ByteKeys: ids straight from bytes, exact whatever the hashes do.
import { afterEach, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { Buffer } from "node:buffer";
import { ByteKeys, hasherForTests, maskHashesForTests } from "../../src/domain/byte-keys.js";
import { fnvCollisions } from "../helpers/fnv-collisions.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The keys laid end to end as bytes, with each one's range (from -1 where it is to be skipped). */
function ranges(asked: readonly (readonly [string, boolean])[]): { b: Uint8Array; from: Int32Array; to: Int32Array } {
  const from = new Int32Array(asked.length);
  const to = new Int32Array(asked.length);
  let at = 0;
  asked.forEach(([k, skip], i) => {
    from[i] = skip ? -1 : at;
    to[i] = at + k.length;
    at += k.length;
  });
  return { b: ascii(asked.map(([k]) => k).join("")), from, to };
}
const nonAscii = (s: string) => [...s].some((c) => c.charCodeAt(0) > 0x7f);
const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

describe("ByteKeys", () => {
  afterEach(() => maskHashesForTests(-1));

  it.each([-1, 0, 3])("gives equal ids exactly to equal keys, from bytes (folded or not) or strings (hash mask %i)", (mask) => {
    maskHashesForTests(mask);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: fc.constantFrom(..."aAbBzZ@. x\u0000\u007f"), maxLength: 9 }), fc.constantFrom("bytes", "folded", "string")), { maxLength: 300 }), (list) => {
        const keys = new ByteKeys(4);
        const seen = new Map<string, number>();
        for (const [raw, how] of list) {
          const key = how === "folded" ? fold(raw) : raw;
          const id = how === "string" ? keys.idOf(raw) : keys.idOfBytes(ascii(` ${raw} `), 1, raw.length + 1, how === "folded");
          if (seen.has(key)) expect(id).toBe(seen.get(key));
          else {
            expect(id).toBe(seen.size);
            seen.set(key, id);
          }
          expect(keys.text(id)).toBe(key);
          expect(keys.get(key)).toBe(id);
        }
        expect(keys.size).toBe(seen.size);
        expect(keys.get("never interned")).toBe(-1);
      }),
    );
  });

  it.each([-1, 0, 3])("deferred: tickets resolve to the ids of exactly the equal keys, also of keys interned before (hash mask %i)", (mask) => {
    maskHashesForTests(mask);
    const unit = fc.constantFrom(..."aAbBzZ@. x\u0000\u007f\u00e9");
    fc.assert(
      fc.property(fc.array(fc.string({ unit, maxLength: 9 }), { maxLength: 20 }), fc.array(fc.tuple(fc.string({ unit, maxLength: 9 }), fc.constantFrom("bytes", "folded", "string")), { maxLength: 300 }), (before, list) => {
        const keys = new ByteKeys(4);
        for (const k of before) keys.idOf(k);
        keys.defer();
        expect(keys.deferring).toBe(true);
        const tickets = list.map(([raw, how]) => {
          if (how === "string" || nonAscii(raw)) return keys.idOf(raw);
          const ticket = keys.idOfBytes(ascii(` ${raw} `), 1, raw.length + 1, how === "folded");
          expect(keys.folded).toBe(how === "folded" && fold(raw) !== raw);
          return ticket;
        });
        expect(tickets).toStrictEqual(list.map((_, i) => i));
        const ids = keys.resolve();
        expect(keys.deferring).toBe(false);
        const byKey = new Map<string, number>();
        for (const k of before) byKey.set(k, keys.get(k));
        list.forEach(([raw, how], i) => {
          const key = how === "folded" && !nonAscii(raw) ? fold(raw) : raw;
          const id = ids[i]!;
          if (byKey.has(key)) expect(id).toBe(byKey.get(key));
          else byKey.set(key, id);
          expect(keys.text(id)).toBe(key);
          expect(keys.get(key)).toBe(id);
        });
        // ids stay dense: one per distinct key
        expect(keys.size).toBe(byKey.size);
        expect(new Set(byKey.values()).size).toBe(byKey.size);
      }),
    );
  });

  it("deferred: a table re-seeded while resolving (a long probe run) hashes the keys still to come again", () => {
    // keys whose hashes under this seed share their top 12 bits: one probe run past MAX_PROBE
    const seed = 12345;
    const hash = hasherForTests(seed);
    const top = hash("k0") >>> 20;
    const crafted: string[] = [];
    for (let i = 0; crafted.length < 200; i++) if (hash(`k${i}`) >>> 20 === top) crafted.push(`k${i}`);
    const keys = new ByteKeys(4, seed);
    keys.defer();
    const list = [...crafted, ...crafted.map((k) => k.toUpperCase()), ...crafted];
    list.forEach((k) => keys.idOfBytes(ascii(k), 0, k.length, true));
    const ids = keys.resolve();
    expect(keys.degraded).toBe(false);
    expect(keys.size).toBe(crafted.length);
    list.forEach((k, i) => expect(ids[i]).toBe(keys.get(k.toLowerCase())));
    expect(new Set(ids).size).toBe(crafted.length);
  });

  it.each([-1, 0, 3])("getBytesMany gives getBytes's answer for each range, leaving the others alone (hash mask %i)", (mask) => {
    maskHashesForTests(mask);
    const unit = fc.constantFrom(..."aAbBzZ@. x");
    fc.assert(
      fc.property(fc.array(fc.string({ unit, maxLength: 9 }), { maxLength: 200 }), fc.array(fc.tuple(fc.string({ unit, maxLength: 9 }), fc.boolean()), { maxLength: 200 }), (stored, asked) => {
        const keys = new ByteKeys(4);
        for (const k of stored) keys.idOf(k);
        const { b, from, to } = ranges(asked);
        for (const fold of [true, false]) {
          const out = new Int32Array(asked.length).fill(-7);
          keys.getBytesMany(b, from, to, fold, out);
          asked.forEach(([, skip], i) => expect(out[i]).toBe(skip ? -7 : keys.getBytes(b, from[i]!, to[i]!, fold)));
        }
      }),
    );
  });

  it.each([-1, 0, 3])("getHashedMany of hashRanges gives getBytes's answer for each range, with the table's seed or another, also once the table is a Map (hash mask %i)", (mask) => {
    maskHashesForTests(mask);
    const unit = fc.constantFrom(..."aAbBzZ@. x");
    let found = 0;
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit, maxLength: 13 }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.tuple(fc.string({ unit, maxLength: 13 }), fc.boolean(), fc.option(fc.tuple(fc.nat(), fc.boolean()))), { maxLength: 200 }),
        fc.boolean(),
        fc.boolean(),
        (stored, drawn, sameSeed, degrade) => {
          // most keys asked are stored ones, some upper-cased
          const asked = drawn.map(([k, skip, pick]): [string, boolean] => [pick === null ? k : pick[1] ? stored[pick[0] % stored.length]!.toUpperCase() : stored[pick[0] % stored.length]!, skip]);
          const keys = new ByteKeys(4);
          for (const k of stored) keys.idOf(k);
          // every hash equal: the table re-seeds, then keeps its keys in a Map
          if (degrade) {
            maskHashesForTests(0);
            for (const k of ["q", "qq", "qqq", ...Array.from({ length: 300 }, (_, i) => `k${i}`)]) keys.idOf(k);
            maskHashesForTests(mask);
            expect(keys.degraded).toBe(true);
          }
          const { b, from, to } = ranges(asked);
          for (const fold of [true, false]) {
            const hashed = ByteKeys.hashRanges(sameSeed ? keys.hashSeed : keys.hashSeed ^ 0x5bd1e995, b, from, to, fold);
            expect([...hashed.key].sort((x, y) => x - y)).toEqual(asked.flatMap(([, skip], i) => (skip ? [] : [i])));
            const out = new Int32Array(asked.length).fill(-7);
            keys.getHashedMany(hashed, out);
            asked.forEach(([, skip], i) => expect(out[i]).toBe(skip ? -7 : keys.getBytes(b, from[i]!, to[i]!, fold)));
            found += out.filter((id) => id >= 0).length;
          }
        },
      ),
    );
    expect(found).toBeGreaterThan(100);
  });

  it.each([-1, 0, 3])("hashedKeys of one table, looked up in another (getHashedMany), gives the other's ids of its keys, seeded alike or not (hash mask %i)", (mask) => {
    maskHashesForTests(mask);
    const unit = fc.constantFrom(..."aAbBzZ@. x");
    let found = 0;
    fc.assert(
      fc.property(fc.array(fc.string({ unit, maxLength: 13 }), { maxLength: 200 }), fc.array(fc.string({ unit, maxLength: 13 }), { maxLength: 200 }), fc.boolean(), fc.boolean(), (mine, theirs, sameSeed, deferred) => {
        const other = new ByteKeys(4, 99);
        for (const k of theirs) other.idOf(k);
        const keys = new ByteKeys(4, sameSeed ? other.hashSeed : 1234);
        if (deferred) keys.defer();
        for (const k of [...mine, ...theirs.slice(0, 50), "\u00e9@x"]) keys.idOf(k);
        if (deferred) keys.resolve();
        const texts = Array.from({ length: keys.size }, (_, id) => keys.text(id));
        const keyOf = Int32Array.from(texts, (_, id) => 1000 + id);
        const hashed = keys.hashedKeys(keyOf);
        if (hashed === null) return expect(keys.degraded).toBe(true);
        const out = new Int32Array(1000 + keys.size).fill(-7);
        other.getHashedMany(hashed, out);
        texts.forEach((text, id) => expect(out[1000 + id]).toBe(text === "\u00e9@x" ? -7 : other.get(text)));
        found += out.filter((id) => id >= 0).length;
      }),
    );
    expect(found).toBeGreaterThan(100);
  });

  it("hashRanges orders keys by their hashes' top bits (a table's slot order)", () => {
    const list = Array.from({ length: 5000 }, (_, i) => `user${i}@corp.example`);
    const b = ascii(list.join(""));
    const from = new Int32Array(list.length);
    const to = new Int32Array(list.length);
    list.reduce((at, k, i) => ((from[i] = at), (to[i] = at + k.length), at + k.length), 0);
    const hashed = ByteKeys.hashRanges(12345, b, from, to, true);
    const hash = hasherForTests(12345);
    for (let r = 0; r < hashed.key.length; r++) {
      expect(hashed.hash[r]).toBe(hash(list[hashed.key[r]!]!));
      if (r > 0) expect(hashed.hash[r]! >>> 16).toBeGreaterThanOrEqual(hashed.hash[r - 1]! >>> 16);
    }
  });

  it("keeps keys with code units above 0x7f apart, and by the same ids", () => {
    const keys = new ByteKeys();
    const a = keys.idOf("zo\u00eb@x");
    const b = keys.idOf("\ud800@x");
    const c = keys.idOf("\udbff@x");
    expect(new Set([a, b, c]).size).toBe(3);
    expect(keys.idOf("zo\u00eb@x")).toBe(a);
    expect(keys.get("\udbff@x")).toBe(c);
    expect(keys.text(b)).toBe("\ud800@x");
  });

  it("reports whether folding changed the bytes", () => {
    const keys = new ByteKeys();
    keys.idOfBytes(ascii("Ann"), 0, 3, true);
    expect(keys.folded).toBe(true);
    keys.idOfBytes(ascii("ann"), 0, 3, true);
    expect(keys.folded).toBe(false);
  });

  it("probes a bounded number of slots for keys crafted to collide under plain FNV-1a, and moves to a Map when every hash is equal", () => {
    const crafted = fnvCollisions();
    const keys = new ByteKeys(16);
    crafted.forEach((k, i) => expect(keys.idOf(k)).toBe(i));
    expect(keys.degraded).toBe(false);
    expect(keys.probes).toBeLessThan(crafted.length * 4);

    maskHashesForTests(0);
    const flat = new ByteKeys(16);
    crafted.forEach((k, i) => expect(flat.idOfBytes(ascii(k.toUpperCase()), 0, k.length, true)).toBe(i));
    expect(flat.degraded).toBe(true);
    crafted.forEach((k, i) => expect(flat.get(k)).toBe(i));
    expect(flat.idOf(crafted[7]!)).toBe(7);
    expect(flat.text(9)).toBe(crafted[9]);
  });

  describe("sortIds and writeJson (the report's possible savings, no string per login)", () => {
    const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    // few units and long shared prefixes: ties at every 4-byte level, keys ending inside a word, NUL against padding
    const keyArb = fc.string({ unit: fc.constantFrom(..."ab\u0000\u007f\"\\\n\u001fZ"), maxLength: 13 });

    it.each([-1, 3])("order ids as `<` on their texts (code units), in runs short and long (hash mask %i)", (mask) => {
      maskHashesForTests(mask);
      fc.assert(
        fc.property(fc.uniqueArray(keyArb, { minLength: 0, maxLength: 600, size: "max" }), fc.nat(20), (texts, pad) => {
          const keys = new ByteKeys(4);
          const ids = Int32Array.from(texts, (t) => keys.idOf(t));
          // sorted within a window of a larger array, the rest untouched
          const all = new Int32Array(ids.length + 2 * pad).fill(-7);
          all.set(ids, pad);
          expect(keys.sortIds(all, pad, pad + ids.length)).toBe(true);
          expect(Array.from(all.subarray(pad, pad + ids.length), (id) => keys.text(id))).toEqual([...texts].sort(byText));
          expect(all.subarray(0, pad).every((x) => x === -7) && all.subarray(pad + ids.length).every((x) => x === -7)).toBe(true);
        }),
        { numRuns: 60 },
      );
    });

    it("sorts thousands of similar keys (radix levels past the first word) and refuses keys above 0x7f", () => {
      // and keys ending in NUL bytes: equal words to a shorter key's zero padding
      const nul = ["", "\u0000", "a", "a\u0000", "a\u0000\u0000", "a\u0000\u0000\u0000", "a\u0000\u0000\u0000\u0000", "abcd", "abcd\u0000", "abcde"];
      const texts = [...nul, ...Array.from({ length: 5000 }, (_, k) => `person${(k * 7919) % 100000}${k % 3 === 0 ? "" : "-x"}`)].reverse();
      const keys = new ByteKeys(16);
      const ids = Int32Array.from(new Set(texts), (t) => keys.idOf(t));
      expect(keys.sortIds(ids, 0, ids.length)).toBe(true);
      expect(Array.from(ids, (id) => keys.text(id))).toEqual([...new Set(texts)].sort(byText));
      const wide = Int32Array.of(keys.idOf("zo\u00eb"), ids[0]!, ids[1]!);
      const before = wide.slice();
      expect(keys.sortIds(wide, 0, 3)).toBe(false);
      expect(wide).toEqual(before);
    });

    it("planted bug: words compared as stored (little-endian, as an Int32Array sort would) put keys out of code-unit order", () => {
      // what the property above would catch: "ba" < "ab" as little-endian words
      const keys = new ByteKeys(4);
      const texts = ["ab", "ba"];
      texts.forEach((t) => keys.idOfBytes(ascii(t), 0, t.length, false));
      const word = (t: string) => t.charCodeAt(0) | (t.charCodeAt(1) << 8);
      const planted = [...texts].sort((x, y) => word(x) - word(y));
      expect(planted).not.toEqual([...texts].sort(byText));
      const ids = Int32Array.of(1, 0);
      keys.sortIds(ids, 0, 2);
      expect(Array.from(ids, (id) => keys.text(id))).toEqual([...texts].sort(byText));
    });

    it("writes a key as JSON.stringify does, or -1 without room", () => {
      fc.assert(
        fc.property(fc.oneof(keyArb, fc.string({ maxLength: 6 }), fc.string({ unit: "grapheme", maxLength: 4 }), fc.constantFrom("\ud800", "a\udfff", "\u2028")), (text) => {
          const keys = new ByteKeys(4);
          const id = keys.idOf(text);
          const want = Buffer.from(JSON.stringify(text), "utf8");
          const out = Buffer.alloc(want.length + 6 * text.length + 8, 0xee);
          const end = keys.writeJson(id, out, 3);
          expect(end).toBe(3 + want.length);
          expect(out.subarray(3, end)).toEqual(want);
          expect(keys.writeJson(id, Buffer.alloc(want.length - 1), 0)).toBe(-1);
        }),
      );
    });
  });
});
