// An open-addressing hash table from string keys to non-negative integers. Counting puts about a
// million identity keys and logins through one; this is about twice as fast as a Map for that
// (linear probing, slots in typed arrays), which the benchmark targets need.
//
// Keys come from uploads (logins are stored as written), so the hash must not be one an uploader can
// aim at: it is seeded with a random value per process, unknown outside it. And probing stays
// bounded whatever the keys: a probe run longer than MAX_PROBE re-seeds the table, and should that
// not help (a hash-independent attack, or a test's constant hash) the table moves into a Map, whose
// string hashing V8 seeds on its own.

/** Longest probe run accepted before the table re-seeds itself (linear probing at load <= 1/2 stays far below). */
export const MAX_PROBE = 128;
/** Re-seeds tried before giving up on open addressing. */
const MAX_RESEEDS = 2;

export type KeyHash = (key: string, seed: number) => number;

/** A fresh random 32-bit seed. */
export const processSeed = (): number => globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;

/** Seeded FNV-1a over UTF-16 code units, finished with murmur3's avalanche so every bit of the
 * state reaches the low bits the table indexes by. */
export function seededHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface KeyTableOptions {
  /** For tests: the hash function (default seededHash) and first seed (default: random). */
  hash?: KeyHash;
  seed?: number;
}

export class KeyTable {
  private mask: number;
  private slots: Int32Array;
  private keys: (string | undefined)[];
  private count = 0;
  private seed: number;
  private reseeds = 0;
  private readonly hash: KeyHash;
  /** Set once open addressing is given up (see MAX_RESEEDS). */
  private fallback: Map<string, number> | null = null;
  /** Slots looked at beyond the first, over all lookups and rebuilds: what a flood would inflate. */
  probes = 0;

  constructor(expected = 16, options: KeyTableOptions = {}) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.keys = new Array<string | undefined>(capacity);
    this.hash = options.hash ?? seededHash;
    this.seed = options.seed ?? processSeed();
  }

  get size(): number {
    return this.fallback ? this.fallback.size : this.count;
  }

  /** True once the table holds its keys in a Map (after probe runs stayed long through re-seeds). */
  get degraded(): boolean {
    return this.fallback !== null;
  }

  /** The value stored under `key`, or -1. */
  get(key: string): number {
    const fallback = this.fallback;
    if (fallback) return fallback.get(key) ?? -1;
    let i = this.hash(key, this.seed) & this.mask;
    let run = 0;
    for (;;) {
      const v = this.slots[i]!;
      if (v === -1 || this.keys[i] === key) {
        this.probes += run;
        return v;
      }
      i = (i + 1) & this.mask;
      run++;
    }
  }

  /** The value stored under `key`; if there is none, stores `value` and returns -1. */
  getOrAdd(key: string, value: number): number {
    const fallback = this.fallback;
    if (fallback) {
      const v = fallback.get(key);
      if (v !== undefined) return v;
      fallback.set(key, value);
      return -1;
    }
    let i = this.hash(key, this.seed) & this.mask;
    let run = 0;
    for (;;) {
      const v = this.slots[i]!;
      if (v === -1) break;
      if (this.keys[i] === key) {
        this.probes += run;
        return v;
      }
      i = (i + 1) & this.mask;
      run++;
    }
    this.probes += run;
    this.slots[i] = value;
    this.keys[i] = key;
    ++this.count;
    if (run > MAX_PROBE) this.reseed();
    else if (this.count * 2 > this.mask) this.rebuild(this.slots.length * 2);
    return -1;
  }

  private reseed(): void {
    if (++this.reseeds > MAX_RESEEDS) {
      const map = new Map<string, number>();
      for (let j = 0; j < this.slots.length; j++) {
        const key = this.keys[j];
        if (key !== undefined) map.set(key, this.slots[j]!);
      }
      this.fallback = map;
      this.slots = new Int32Array(0);
      this.keys = [];
      return;
    }
    this.seed = (Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) + this.reseeds) >>> 0;
    const capacity = this.count * 2 > this.mask ? this.slots.length * 2 : this.slots.length;
    this.rebuild(capacity);
  }

  private rebuild(capacity: number): void {
    const { slots, keys } = this;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.keys = new Array<string | undefined>(capacity);
    let longest = 0;
    for (let j = 0; j < slots.length; j++) {
      const key = keys[j];
      if (key === undefined) continue;
      let i = this.hash(key, this.seed) & this.mask;
      let run = 0;
      while (this.slots[i] !== -1) {
        i = (i + 1) & this.mask;
        run++;
      }
      this.probes += run;
      if (run > longest) longest = run;
      this.slots[i] = slots[j]!;
      this.keys[i] = key;
    }
    if (longest > MAX_PROBE) this.reseed();
  }
}
