// ByteKeys: ids straight from bytes, exact whatever the hashes do.
import { afterEach, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ByteKeys, hasherForTests, maskHashesForTests } from "../../src/domain/byte-keys.js";
import { fnvCollisions } from "../helpers/fnv-collisions.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
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
        const text = asked.map(([k]) => k).join("");
        const b = ascii(text);
        const from = new Int32Array(asked.length);
        const to = new Int32Array(asked.length);
        let at = 0;
        asked.forEach(([k, skip], i) => {
          from[i] = skip ? -1 : at;
          to[i] = at + k.length;
          at += k.length;
        });
        for (const fold of [true, false]) {
          const out = new Int32Array(asked.length).fill(-7);
          keys.getBytesMany(b, from, to, fold, out);
          asked.forEach(([, skip], i) => expect(out[i]).toBe(skip ? -7 : keys.getBytes(b, from[i]!, to[i]!, fold)));
        }
      }),
    );
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
});
