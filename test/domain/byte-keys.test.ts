// ByteKeys: ids straight from bytes, exact whatever the hashes do.
import { afterEach, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ByteKeys, maskHashesForTests } from "../../src/domain/byte-keys.js";
import { fnvCollisions } from "../helpers/fnv-collisions.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
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
