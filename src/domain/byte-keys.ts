// Identity keys and logins interned as dense integer ids straight from an export's bytes: the
// report's reader hashes an address's bytes (trimmed, folded to lower case) into an id without
// making a string of it, so a million accounts leave typed arrays behind, not a million strings.
//
// A key's text is kept once per distinct key, as bytes in one arena. Equal hashes are always
// confirmed by comparing the bytes, so ids are exact: two keys share an id only when equal. Keys
// with a code unit above 0x7f (rare: the reader makes a string of them and normalizes it as
// identity.ts does) live in a Map of their own, with ids from the same counter.
//
// Hostile input: the hash is seeded per table with a random value (as KeyTable), probing is
// bounded (a long probe run re-seeds the table; after MAX_RESEEDS the ASCII keys move into a Map,
// whose string hashing V8 seeds on its own).
//
// Deferred interning (the report's): a table of a million keys is far larger than the caches, so a
// key looked up as it is read costs a cache miss or two. While deferring, a key's hash and folded
// words are only recorded, grouped by the hash's top bits (which pick its table slot); resolve()
// then interns group by group, each group's slice of the table and of the arena staying in cache.
import { Buffer } from "node:buffer";
import { MAX_PROBE, processSeed } from "./key-table.js";

const MAX_RESEEDS = 2;

/** Tests only: hashes are masked with this (e.g. 3: four hash values for every key, so equal hashes of different keys are the rule). */
let hashMask = -1;
export function maskHashesForTests(mask: number): void {
  hashMask = mask;
}

/** Tests only: the hash a ByteKeys seeded with `seed` gives an ASCII key (its top bits pick the slot). */
export function hasherForTests(seed: number): (key: string) => number {
  const keys = new ByteKeys(4, seed) as unknown as { hash(b: Uint8Array, from: number, to: number, fold: boolean): number };
  return (key) => keys.hash(codeUnits(key), 0, key.length, false);
}

/**
 * Keys hashed for a ByteKeys' getHashedMany (see ByteKeys.hashRanges): record r is the caller's key
 * key[r], of length[r] bytes, whose folded words are words[at[r]..], hashed with `seed` to hash[r].
 */
export interface HashedKeys {
  seed: number;
  key: Int32Array;
  hash: Int32Array;
  length: Int32Array;
  at: Int32Array;
  words: Int32Array;
}

export class ByteKeys {
  private seed: number;
  private mask: number;
  /** Slots are indexed by the hash's top bits (slot = h >>> shift): keys in hash order sweep the table. */
  private shift: number;
  /** Keys recorded while deferring (see defer), else null. */
  private pending: Pending | null = null;
  /**
   * Open addressing, SLOT ints per slot: hash, id + 1 (0: empty, so a new table needs no filling), the key's first word in the arena,
   * its length in bytes. A lookup touches its slot and, on an equal hash and length, the key's words.
   */
  private table: Int32Array;
  /** Per id: its first word in the arena and its length in bytes (a wide key: length 0). */
  private start: Int32Array;
  private length: Int32Array;
  /** Keys' bytes, each from a word boundary, zero-padded to whole words: compared and hashed 4 bytes at a time. */
  private arena: Int32Array;
  private used = 0;
  private count = 0;
  private reseeds = 0;
  /** The key being looked up, as words (folded). */
  private words = new Int32Array(64);
  /** Keys with a code unit above 0x7f: text -> id; and their texts by id. */
  private readonly wide = new Map<string, number>();
  private readonly wideText = new Map<number, string>();
  /** Set once open addressing is given up: every ASCII key by its text. */
  private fallback: Map<string, number> | null = null;
  /** The arena's bytes, for text() (made again when the arena grows). */
  private arenaView: Latin1View | null = null;
  /** Strings made by text(), kept: a key asked for once is often asked for again. */
  private texts: (string | undefined)[] = [];
  /** Slots looked at beyond the first (what a flood would inflate); for tests. */
  probes = 0;
  /** Whether the last idOfBytes with `fold` changed a byte (the key differs from the bytes given). */
  folded = false;

  constructor(expected = 1024, seed = processSeed()) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.table = emptyTable(capacity);
    this.start = new Int32Array(capacity >> 1);
    this.length = new Int32Array(capacity >> 1);
    this.arena = new Int32Array(Math.max(256, expected * 6));
    this.seed = seed | 0;
  }

  /** Distinct keys interned (ids run from 0 below this). */
  get size(): number {
    return this.count;
  }

  get degraded(): boolean {
    return this.fallback !== null;
  }

  /**
   * The id of the ASCII key bytes b[from..to) (each byte below 0x80; A-Z folded to a-z when
   * `fold`), interned if new. While deferring: its ticket (see defer).
   */
  idOfBytes(b: Uint8Array, from: number, to: number, fold: boolean): number {
    if (this.pending !== null) return this.deferBytes(b, from, to, fold);
    return this.find(b, from, to, fold, true);
  }

  /** The id of the key `key` (as given: no folding), interned if new. While deferring: its ticket. */
  idOf(key: string): number {
    if (this.pending !== null) return isAscii(key) ? this.deferBytes(codeUnits(key), 0, key.length, false) : this.pending.addWide(key);
    if (!isAscii(key)) {
      let id = this.wide.get(key);
      if (id === undefined) {
        id = this.newId(0);
        this.wide.set(key, id);
        this.wideText.set(id, key);
      }
      return id;
    }
    return this.find(codeUnits(key), 0, key.length, false, true);
  }

  /** The id of `key`, or -1 when it was never interned. */
  get(key: string): number {
    if (!isAscii(key)) return this.wide.get(key) ?? -1;
    return this.find(codeUnits(key), 0, key.length, false, false);
  }

  /** The id of the ASCII key bytes b[from..to) (folded when `fold`), or -1 when it was never interned: a lookup without a string (the cloud report's members). */
  getBytes(b: Uint8Array, from: number, to: number, fold: boolean): number {
    return this.find(b, from, to, fold, false);
  }

  /** The key of `id`. */
  text(id: number): string {
    let t = this.texts[id];
    if (t === undefined) {
      const at = this.start[id]! * 4;
      t = this.wideText.get(id) ?? this.arenaBytes().latin1Slice(at, at + this.length[id]!);
      this.texts[id] = t;
    }
    return t;
  }

  /**
   * Sorts ids[from..to) by their keys' text in code-unit order (as `<` on strings), by bytes, no
   * string made: an MSD radix sort, 4 bytes a level (7 bits each: ASCII), ties going on to the next
   * 4 bytes. False, ids untouched, when a key with a code unit above 0x7f is among them (the caller
   * sorts strings then).
   */
  sortIds(ids: Int32Array, from: number, to: number): boolean {
    if (this.wideText.size > 0) for (let i = from; i < to; i++) if (this.wideText.has(ids[i]!)) return false;
    const { arena, start, length } = this;
    const n = to - from;
    const keysA = new Int32Array(n);
    const keysB = new Int32Array(n);
    const idsA = new Int32Array(n);
    const idsB = new Int32Array(n);
    const count = new Int32Array(RADIX);
    const stack = [from, to, 0];
    while (stack.length > 0) {
      const level = stack.pop()!;
      const hi = stack.pop()!;
      const lo = stack.pop()!;
      const m = hi - lo;
      if (m <= FEW_TO_SORT) {
        this.insertionSort(ids, lo, hi, level);
        continue;
      }
      // the 4 bytes at `level`, then how many bytes remain, up to 5: a key ending here sorts before its extensions
      for (let i = 0; i < m; i++) {
        const id = ids[lo + i]!;
        const rem = length[id]! - 4 * level;
        const x = rem > 0 ? arena[start[id]! + level]! : 0;
        const p = ((x & 0x7f) << 21) | (((x >>> 8) & 0x7f) << 14) | (((x >>> 16) & 0x7f) << 7) | ((x >>> 24) & 0x7f);
        keysA[i] = (p << 3) | (rem > 4 ? 5 : rem);
        idsA[i] = id;
      }
      let ks = keysA;
      let kd = keysB;
      let idsFrom = idsA;
      let idsTo = idsB;
      for (let shift = 0; shift < 31; shift += RADIX_BITS) {
        count.fill(0);
        for (let i = 0; i < m; i++) count[(ks[i]! >>> shift) & RADIX_MASK]!++;
        if (count[(ks[0]! >>> shift) & RADIX_MASK] === m) continue;
        for (let d = 0, sum = 0; d < RADIX; d++) {
          const c = count[d]!;
          count[d] = sum;
          sum += c;
        }
        for (let i = 0; i < m; i++) {
          const k = ks[i]!;
          const at = count[(k >>> shift) & RADIX_MASK]!++;
          kd[at] = k;
          idsTo[at] = idsFrom[i]!;
        }
        [ks, kd, idsFrom, idsTo] = [kd, ks, idsTo, idsFrom];
      }
      ids.set(idsFrom.subarray(0, m), lo);
      // equal keys of keys going on: by their next 4 bytes (equal keys ending here are one key: one id)
      for (let i = 0; i < m; ) {
        const k = ks[i]!;
        let j = i + 1;
        while (j < m && ks[j] === k) j++;
        if (j - i > 1 && (k & 7) === 5) stack.push(lo + i, lo + j, level + 1);
        i = j;
      }
    }
    return true;
  }

  /** ids[lo..hi) by their ASCII keys, equal in their first `level` words. */
  private insertionSort(ids: Int32Array, lo: number, hi: number, level: number): void {
    for (let i = lo + 1; i < hi; i++) {
      const id = ids[i]!;
      let j = i;
      while (j > lo && this.compareFrom(ids[j - 1]!, id, level) > 0) {
        ids[j] = ids[j - 1]!;
        j--;
      }
      ids[j] = id;
    }
  }

  /** Code-unit order of two ASCII keys from word `level` on: words compared as big-endian (bytes below 0x80: no sign), then lengths (zero padding equals a NUL byte). */
  private compareFrom(a: number, b: number, level: number): number {
    const { arena, start, length } = this;
    const la = length[a]!;
    const lb = length[b]!;
    const words = (Math.min(la, lb) + 3) >> 2;
    const sa = start[a]!;
    const sb = start[b]!;
    for (let w = level; w < words; w++) {
      const x = arena[sa + w]!;
      const y = arena[sb + w]!;
      if (x !== y) return bigEndian(x) - bigEndian(y);
    }
    return la - lb;
  }

  /** Writes id's key as JSON.stringify writes it, from out[at]; its end, or -1 when out has no room. */
  writeJson(id: number, out: Uint8Array, at: number): number {
    const len = this.length[id]!;
    const wide = len === 0 ? this.wideText.get(id) : undefined;
    if (wide !== undefined) {
      const b = Buffer.from(JSON.stringify(wide), "utf8");
      if (at + b.length > out.length) return -1;
      out.set(b, at);
      return at + b.length;
    }
    if (at + 6 * len + 2 > out.length) return -1;
    const bytes = this.arenaBytes();
    out[at++] = 0x22;
    for (let i = this.start[id]! * 4, end = i + len; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) out[at++] = c;
      else at = writeEscape(c, out, at);
    }
    out[at++] = 0x22;
    return at;
  }

  private arenaBytes(): Latin1View {
    if (this.arenaView === null || this.arenaView.buffer !== this.arena.buffer) this.arenaView = Buffer.from(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength) as Latin1View;
    return this.arenaView;
  }

  private find(b: Uint8Array, from: number, to: number, fold: boolean, add: boolean): number {
    if (this.fallback !== null) {
      let changed = false;
      if (fold) for (let i = from; i < to; i++) if (b[i]! >= 0x41 && b[i]! <= 0x5a) changed = true;
      this.folded = changed;
      return this.findFallback(asciiText(b, from, to, fold), add);
    }
    const h = this.hash(b, from, to, fold);
    return this.probe(h, to - from, this.words, 0, add);
  }

  /** The key b[from..to)'s hash; its words (folded when `fold`) left in this.words, `folded` set. */
  private hash(b: Uint8Array, from: number, to: number, fold: boolean): number {
    const len = to - from;
    const n = (len + 3) >> 2;
    if (this.words.length < n) this.words = new Int32Array(n * 2);
    const words = this.words;
    let h = this.seed;
    let i = from;
    let changed = 0;
    for (let w = 0; w < n; w++, i += 4) {
      let x: number;
      if (i + 4 <= to) x = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
      else {
        x = b[i]!;
        if (i + 1 < to) x |= b[i + 1]! << 8;
        if (i + 2 < to) x |= b[i + 2]! << 16;
      }
      // bytes below 0x80: no carry crosses a byte; bit 7 marks the bytes in A-Z
      if (fold) {
        const upper = ((x + 0x3f3f3f3f) & ~(x + 0x25252525) & 0x80808080) >>> 2;
        x |= upper;
        changed |= upper;
      }
      words[w] = x;
      h = mix(h, x);
    }
    this.folded = changed !== 0;
    return finish(h ^ len) & hashMask;
  }

  /** The id of the key of hash h, `len` bytes, whose words are src[at..): found, or added when `add` (else -1). */
  private probe(h: number, len: number, src: Int32Array, at: number, add: boolean): number {
    const n = (len + 3) >> 2;
    const table = this.table;
    const arena = this.arena;
    const mask = this.mask;
    let slot = h >>> this.shift;
    let run = 0;
    for (;;) {
      const s = slot * SLOT;
      const v = table[s + 1]!;
      if (v === 0) break;
      if (table[s] === h && table[s + 3] === len) {
        const p = table[s + 2]!;
        let w = 0;
        while (w < n && arena[p + w] === src[at + w]) w++;
        if (w === n) {
          this.probes += run;
          return v - 1;
        }
      }
      slot = (slot + 1) & mask;
      run++;
    }
    this.probes += run;
    if (!add) return -1;
    const id = this.newId(len);
    const p = this.start[id]!;
    const into = this.arena;
    for (let w = 0; w < n; w++) into[p + w] = src[at + w]!;
    const s = slot * SLOT;
    table[s] = h;
    table[s + 1] = id + 1;
    table[s + 2] = p;
    table[s + 3] = len;
    this.settle(run);
    return id;
  }

  /**
   * From now on idOfBytes and idOf give tickets, not ids: each key is only hashed and recorded
   * (see Pending) until resolve() interns them all. For one reader of many keys at once (the report).
   */
  defer(): void {
    if (this.pending === null) this.pending = new Pending(this.groupBits(), this.seed);
  }

  get deferring(): boolean {
    return this.pending !== null;
  }

  private deferBytes(b: Uint8Array, from: number, to: number, fold: boolean): number {
    const h = this.hash(b, from, to, fold);
    return this.pending!.add(h, to - from, this.words);
  }

  /**
   * Interns the keys recorded since defer(), group by group (the hash's top bits: a slice of the
   * table, and the keys added meanwhile to a slice of the arena, stay in cache), and ends deferring.
   * Gives each ticket's id (ids as idOfBytes would give them, numbered in another order).
   */
  resolve(): Int32Array {
    const pending = this.pending;
    if (pending === null) return new Int32Array(0);
    this.pending = null;
    // Room for the keys about to be added, made once: no table rebuilt or arena copied midway.
    const keys = pending.distinct();
    this.reserve(keys, Math.ceil((pending.words * keys) / Math.max(1, pending.tickets)));
    const out = this.sweep(pending, true);
    for (const [ticket, key] of pending.wide) out[ticket] = this.idOf(key);
    return out;
  }

  /**
   * getBytes of many keys: out[k] = the id of the ASCII bytes b[from[k]..to[k]) (folded when
   * `fold`) or -1, for each k with from[k] >= 0 (others left as they are). Looked up in the table's
   * slot order, as resolve interns: a table larger than the caches costs no cache miss per key.
   */
  getBytesMany(b: Uint8Array, from: Int32Array, to: Int32Array, fold: boolean, out: Int32Array): void {
    const pending = new Pending(this.groupBits(), this.seed);
    const of = new Int32Array(from.length);
    for (let k = 0; k < from.length; k++) {
      const f = from[k]!;
      if (f < 0) continue;
      of[pending.add(this.hash(b, f, to[k]!, fold), to[k]! - f, this.words)] = k;
    }
    const ids = this.sweep(pending, false);
    for (let t = 0; t < pending.tickets; t++) out[of[t]!] = ids[t]!;
  }

  /** The seed this table hashes with now (it changes should the table re-seed): hashRanges' seed for getHashedMany. */
  get hashSeed(): number {
    return this.seed;
  }

  /**
   * getBytesMany of keys hashed beforehand (ByteKeys.hashRanges, where that costs less: the
   * report's worker thread): out[keys.key[r]] = the id of record r's key, or -1. Only probes, in the
   * records' (hash) order; a key is hashed again should this table's seed differ from theirs.
   */
  getHashedMany(keys: HashedKeys, out: Int32Array): void {
    const { key, hash, length, at, words } = keys;
    const same = keys.seed === this.seed;
    for (let r = 0; r < key.length; r++) {
      const len = length[r]!;
      const a = at[r]!;
      // a lookup never re-seeds: `same` holds throughout
      if (this.fallback !== null) out[key[r]!] = this.findFallback(wordsText(words, a, len), false);
      else out[key[r]!] = this.probe(same ? hash[r]! : this.rehash(words, a, len), len, words, a, false);
    }
  }

  /**
   * This table's ASCII keys (interned, not deferred) as HashedKeys for getHashedMany of a table
   * seeded alike: no key hashed again; record key keyOf[id]; in slot order (the hash's top bits).
   * Null once the table keeps its keys in a Map. Its words are this table's: it is not to be used after.
   */
  hashedKeys(keyOf: Int32Array): HashedKeys | null {
    if (this.fallback !== null || this.pending !== null) return null;
    const n = this.count - this.wide.size;
    const out: HashedKeys = { seed: this.seed, key: new Int32Array(n), hash: new Int32Array(n), length: new Int32Array(n), at: new Int32Array(n), words: this.arena.subarray(0, this.used) };
    const { key, hash, length, at } = out;
    const table = this.table;
    for (let s = 0, d = 0; s < table.length; s += SLOT) {
      const v = table[s + 1]!;
      if (v === 0) continue;
      key[d] = keyOf[v - 1]!;
      hash[d] = table[s]!;
      at[d] = table[s + 2]!;
      length[d++] = table[s + 3]!;
    }
    return out;
  }

  /**
   * The ASCII keys b[from[k]..to[k]) (each byte below 0x80, A-Z folded when `fold`; k with
   * from[k] < 0 skipped) hashed as a ByteKeys seeded with `seed` hashes them, each with its words,
   * for getHashedMany of such a table. Ordered by the hash's top 16 bits: any table's slot order.
   */
  static hashRanges(seed: number, b: Uint8Array, from: Int32Array, to: Int32Array, fold: boolean): HashedKeys {
    const hasher = new ByteKeys(4, seed);
    let count = 0;
    let total = 0;
    for (let k = 0; k < from.length; k++) {
      if (from[k]! < 0) continue;
      count++;
      total += (to[k]! - from[k]! + 3) >> 2;
    }
    // hashed in key order, then the records (not their words) counting-sorted by the hash's top 16 bits
    const keys = new Int32Array(count);
    const hashes = new Int32Array(count);
    const lengths = new Int32Array(count);
    const starts = new Int32Array(count);
    const words = new Int32Array(total);
    const buckets = new Int32Array((1 << 16) + 1);
    for (let k = 0, r = 0, w = 0; k < from.length; k++) {
      const f = from[k]!;
      if (f < 0) continue;
      const len = to[k]! - f;
      const h = hasher.hash(b, f, f + len, fold);
      keys[r] = k;
      hashes[r] = h;
      lengths[r] = len;
      starts[r++] = w;
      const own = hasher.words;
      for (let i = 0, n = (len + 3) >> 2; i < n; i++) words[w++] = own[i]!;
      buckets[(h >>> 16) + 1]!++;
    }
    for (let d = 1; d < buckets.length; d++) buckets[d]! += buckets[d - 1]!;
    const out: HashedKeys = { seed: hasher.seed, key: new Int32Array(count), hash: new Int32Array(count), length: new Int32Array(count), at: new Int32Array(count), words };
    const { key, hash, length, at } = out;
    for (let r = 0; r < count; r++) {
      const h = hashes[r]!;
      const d = buckets[h >>> 16]!++;
      key[d] = keys[r]!;
      hash[d] = h;
      length[d] = lengths[r]!;
      at[d] = starts[r]!;
    }
    return out;
  }

  private groupBits(): number {
    return Math.min(10, Math.max(0, Math.log2(this.table.length / SLOT) - 13));
  }

  /** Each record's id, group by group (found, or added when `add`; else -1), by ticket; the records go as their group is done. */
  private sweep(pending: Pending, add: boolean): Int32Array {
    const out = new Int32Array(pending.tickets);
    for (let g = 0; g < pending.chunks.length; g++) {
      const chunks = pending.chunks[g]!;
      const used = pending.used[g]!;
      for (let c = 0; c < chunks.length; c++) {
        const chunk = chunks[c]!;
        const end = used[c]!;
        let at = 0;
        while (at < end) {
          const ticket = chunk[at]!;
          let h = chunk[at + 1]!;
          const len = chunk[at + 2]!;
          at += 3;
          if (this.fallback !== null) out[ticket] = this.findFallback(wordsText(chunk, at, len), add);
          else {
            // re-seeded meanwhile (a long probe run): hashed again, as rebuild does
            if (this.seed !== pending.seed) h = this.rehash(chunk, at, len);
            out[ticket] = this.probe(h, len, chunk, at, add);
          }
          at += (len + 3) >> 2;
        }
      }
      pending.chunks[g] = [];
    }
    return out;
  }

  private rehash(words: Int32Array, at: number, len: number): number {
    let h = this.seed;
    for (let w = 0; w < (len + 3) >> 2; w++) h = mix(h, words[at + w]!);
    return finish(h ^ len) & hashMask;
  }

  private findFallback(key: string, add: boolean): number {
    const map = this.fallback!;

    let id = map.get(key);
    if (id === undefined) {
      if (!add) return -1;
      id = this.newId(key.length);
      const bytes = Buffer.from(this.arena.buffer, this.arena.byteOffset + this.start[id]! * 4, key.length);
      for (let q = 0; q < key.length; q++) bytes[q] = key.charCodeAt(q);
      map.set(key, id);
    }
    return id;
  }

  /** Room for `keys` more keys of `words` words in all. */
  private reserve(keys: number, words: number): void {
    if (this.fallback !== null) return;
    const total = this.count - this.wide.size + keys;
    let capacity = this.table.length / SLOT;
    while (total * 2 > capacity - 1) capacity *= 2;
    if (capacity > this.table.length / SLOT) this.rebuild(capacity, false);
    if (this.count + keys > this.start.length) {
      const start = new Int32Array(this.count + keys);
      start.set(this.start.subarray(0, this.count));
      this.start = start;
      const length = new Int32Array(this.count + keys);
      length.set(this.length.subarray(0, this.count));
      this.length = length;
    }
    if (this.used + words > this.arena.length) {
      const arena = new Int32Array(this.used + words);
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
  }

  /** A new id with room for `len` bytes (whole words) from start[id]. */
  private newId(len: number): number {
    const id = this.count++;
    if (id >= this.start.length) {
      const start = new Int32Array(this.start.length * 2);
      start.set(this.start);
      this.start = start;
      const length = new Int32Array(this.length.length * 2);
      length.set(this.length);
      this.length = length;
    }
    const n = (len + 3) >> 2;
    if (this.used + n > this.arena.length) {
      const arena = new Int32Array(Math.max(this.arena.length * 2, this.used + n));
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    this.start[id] = this.used;
    this.length[id] = len;
    this.used += n;
    return id;
  }

  /** After an insert that probed `run` slots: re-seed on a long run, grow at load 1/2. */
  private settle(run: number): void {
    if (run > MAX_PROBE) this.reseed();
    else if ((this.count - this.wide.size) * 2 > this.mask) this.rebuild((this.table.length / SLOT) * 2, false);
  }

  private reseed(): void {
    if (++this.reseeds > MAX_RESEEDS) {
      const map = new Map<string, number>();
      for (let id = 0; id < this.count; id++) if (!this.wideText.has(id)) map.set(this.text(id), id);
      this.fallback = map;
      this.table = new Int32Array(0);
      return;
    }
    this.seed = (Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) + this.reseeds) | 0;
    const capacity = this.table.length / SLOT;
    this.rebuild((this.count - this.wide.size) * 2 > this.mask ? capacity * 2 : capacity, true);
  }

  /** Moves every key into a table of `capacity` slots, its hash computed again when `rehash` (a new seed). */
  private rebuild(capacity: number, rehash: boolean): void {
    const old = this.table;
    const table = emptyTable(capacity);
    const mask = capacity - 1;
    const shift = 32 - Math.log2(capacity);
    let longest = 0;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 1] === 0) continue;
      const p = old[at + 2]!;
      const len = old[at + 3]!;
      const h = rehash ? this.rehash(this.arena, p, len) : old[at]!;
      let slot = h >>> shift;
      let run = 0;
      while (table[slot * SLOT + 1] !== 0) {
        slot = (slot + 1) & mask;
        run++;
      }
      this.probes += run;
      if (run > longest) longest = run;
      table[slot * SLOT] = h;
      table[slot * SLOT + 1] = old[at + 1]!;
      table[slot * SLOT + 2] = p;
      table[slot * SLOT + 3] = len;
    }
    this.table = table;
    this.mask = mask;
    this.shift = shift;
    if (longest > MAX_PROBE) this.reseed();
  }
}

const SLOT = 4;

/** Ints per chunk of a group's records: a record never spans chunks (a longer one gets a chunk of its own). */
const CHUNK = 8192;

/**
 * Keys recorded while deferring: per group (the hash's top `bits`), records [ticket, hash, length
 * in bytes, words...] appended to chunks, so recording writes a few streams and resolving reads each
 * group's keys in order; no array the size of all keys is ever copied to grow.
 */
class Pending {
  readonly chunks: Int32Array[][] = [];
  readonly used: number[][] = [];
  private readonly current: Int32Array[] = [];
  private readonly at: Int32Array;
  /** Keys with a code unit above 0x7f, by ticket (in ticket order). */
  readonly wide = new Map<number, string>();
  tickets = 0;
  /** Words of the records' keys, in all. */
  words = 0;
  /** A bit per value of the hashes' low 20 bits: how many distinct keys there are, about (see distinct). */
  private readonly bitmap = new Int32Array(1 << 15);

  constructor(
    private readonly bits: number,
    /** The table's seed when recording: hashes are recomputed should it change before resolve. */
    readonly seed: number,
  ) {
    const groups = 1 << bits;
    this.at = new Int32Array(groups);
    for (let g = 0; g < groups; g++) {
      this.chunks.push([]);
      this.used.push([]);
      this.current.push(new Int32Array(0));
    }
  }

  /** Records the key of hash h, `len` bytes, words[0..); returns its ticket. */
  add(h: number, len: number, words: Int32Array): number {
    // the hash's top bits, which the table's slot starts with
    const g = this.bits === 0 ? 0 : h >>> (32 - this.bits);
    const n = (len + 3) >> 2;
    let chunk = this.current[g]!;
    let at = this.at[g]!;
    if (at + 3 + n > chunk.length) {
      chunk = new Int32Array(Math.max(CHUNK, 3 + n));
      this.chunks[g]!.push(chunk);
      this.used[g]!.push(0);
      this.current[g] = chunk;
      at = 0;
    }
    const ticket = this.tickets++;
    this.words += n;
    const x = h & 0xfffff;
    this.bitmap[x >>> 5]! |= 1 << (x & 31);
    chunk[at] = ticket;
    chunk[at + 1] = h;
    chunk[at + 2] = len;
    for (let w = 0; w < n; w++) chunk[at + 3 + w] = words[w]!;
    at += 3 + n;
    this.at[g] = at;
    const used = this.used[g]!;
    used[used.length - 1] = at;
    return ticket;
  }

  /**
   * About how many distinct keys were recorded (linear counting over the bitmap: within a few
   * percent up to millions; more when the bitmap is full), a little more rather than less; at most
   * the records' number. Only for sizing: a wrong guess costs a table rebuilt, as before.
   */
  distinct(): number {
    const m = this.bitmap.length * 32;
    let zeros = 0;
    for (let w = 0; w < this.bitmap.length; w++) zeros += 32 - popcount(this.bitmap[w]!);
    const records = this.tickets - this.wide.size;
    const estimate = zeros === 0 ? records : Math.ceil(-m * Math.log(zeros / m) * 1.02) + 16;
    return Math.min(records, estimate);
  }

  addWide(key: string): number {
    const ticket = this.tickets++;
    this.wide.set(ticket, key);
    return ticket;
  }
}

type Latin1View = Buffer & { latin1Slice(start: number, end: number): string };

// sortIds: radix digits of 11 bits (three passes over a 31-bit key); runs this short are insertion-sorted
const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;
const FEW_TO_SORT = 24;

/** A word's 4 bytes, first byte most significant. */
function bigEndian(x: number): number {
  return (((x & 0xff) << 24) | (((x >>> 8) & 0xff) << 16) | (((x >>> 16) & 0xff) << 8) | (x >>> 24)) >>> 0;
}

const SHORT_ESCAPE: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72, 0x22: 0x22, 0x5c: 0x5c };
const HEX = "0123456789abcdef";

/** The JSON escape of ASCII byte c (a control character, a quote or a backslash), as JSON.stringify writes it. */
function writeEscape(c: number, out: Uint8Array, at: number): number {
  out[at++] = 0x5c;
  const short = SHORT_ESCAPE[c];
  if (short !== undefined) {
    out[at++] = short;
    return at;
  }
  out[at++] = 0x75;
  out[at++] = 0x30;
  out[at++] = 0x30;
  out[at++] = HEX.charCodeAt(c >> 4);
  out[at++] = HEX.charCodeAt(c & 15);
  return at;
}

function emptyTable(capacity: number): Int32Array {
  return new Int32Array(capacity * SLOT);
}

/** murmur3's step for one 4-byte word. */
function mix(h: number, x: number): number {
  let k = Math.imul(x, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's finalizer: every bit of the state reaches the low bits the table indexes by. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16); // signed, as the table's Int32Array holds it
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function codeUnits(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** The ASCII key of `len` bytes in words[at..). */
function wordsText(words: Int32Array, at: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode((words[at + (i >> 2)]! >>> ((i & 3) * 8)) & 0xff);
  return s;
}

function asciiText(b: Uint8Array, from: number, to: number, fold: boolean): string {
  let s = "";
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    s += String.fromCharCode(fold && c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  return s;
}

/** The report's tables: e-mail keys and login keys (trimmed, lower-cased: count.ts's loginKey). */
export class ReportKeys {
  readonly emails: ByteKeys;
  readonly logins: ByteKeys;

  constructor(expectedAccounts = 1024) {
    this.emails = new ByteKeys(expectedAccounts);
    this.logins = new ByteKeys(expectedAccounts >> 1);
  }

  /** Both tables give tickets until resolved (see ByteKeys.defer; the report resolves with resolveInterned). */
  defer(): void {
    this.emails.defer();
    this.logins.defer();
  }
}
