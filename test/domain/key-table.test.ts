import { describe, expect, it } from "@jest/globals";
import { KeyTable, MAX_PROBE, seededHash } from "../../src/domain/key-table.js";
import { fnv1a, fnvCollisions } from "../helpers/fnv-collisions.js";

/** Puts every key (twice: add, then look up) through the table and checks it against a Map. */
function load(table: KeyTable, keys: string[]): void {
  const reference = new Map<string, number>();
  const got: number[] = [];
  const want: number[] = [];
  keys.forEach((k, i) => {
    const had = reference.get(k) ?? -1;
    if (had === -1) reference.set(k, i);
    want.push(had);
    got.push(table.getOrAdd(k, i));
  });
  for (const [k, v] of reference) {
    want.push(v);
    got.push(table.getOrAdd(k, -5));
  }
  const wrong = got.findIndex((v, i) => v !== want[i]);
  expect(wrong === -1 ? "all answers right" : `answer ${wrong}: ${got[wrong]} instead of ${want[wrong]}`).toBe("all answers right");
  expect(table.size).toBe(reference.size);
}

describe("KeyTable under hash flooding", () => {
  const crafted = fnvCollisions(); // 4,096 distinct logins, one plain FNV-1a hash

  it("the crafted logins do collide under plain FNV-1a", () => {
    expect(new Set(crafted).size).toBe(4096);
    expect(new Set(crafted.map(fnv1a)).size).toBe(1);
  });

  it("spreads them with the per-process random seed: few probes, same answers", () => {
    const table = new KeyTable(16);
    load(table, crafted);
    // 8,192 lookups; the unseeded table walked 8.4 million slots for these keys
    expect(table.probes).toBeLessThan(4 * 8192);
    expect(table.degraded).toBe(false);
  });

  it("with the seed the attack was made for (0), re-seeds itself after one long probe run", () => {
    const table = new KeyTable(16, { seed: 0 });
    expect(seededHash(crafted[0]!, 0)).toBe(seededHash(crafted[4095]!, 0));
    load(table, crafted);
    expect(table.probes).toBeLessThan(MAX_PROBE * MAX_PROBE + 4 * 8192);
  });

  it("stays bounded when no seed helps (every key one hash): moves into a Map, same answers", () => {
    const table = new KeyTable(16, { hash: () => 42 });
    const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i % 15_000}`);
    load(table, keys);
    expect(table.degraded).toBe(true);
    // at most a few runs of MAX_PROBE before the switch, nothing after it (quadratic would be 10^8)
    expect(table.probes).toBeLessThan(4 * MAX_PROBE * MAX_PROBE);
  });

  it("a fresh table has a fresh seed", () => {
    const seeds = new Set(Array.from({ length: 8 }, () => {
      const t = new KeyTable(4);
      return (t as unknown as { seed: number }).seed;
    }));
    expect(seeds.size).toBeGreaterThan(1);
  });

  it("keeps answers through growth and ordinary keys (no re-seed, no Map)", () => {
    const table = new KeyTable(1);
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${(i * 7919) % 60_000}`);
    load(table, keys);
    expect(table.degraded).toBe(false);
    expect(table.probes).toBeLessThan(2 * 160_000);
  });
});
