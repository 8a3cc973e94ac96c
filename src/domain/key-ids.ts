// Identity keys and logins as small integers, for a ledger counted again and again: each instance's
// accounts are interned once (while the list is alive), and every later count matches integers in
// arrays instead of putting two million strings through a hash table. Pure; the ledger service keeps
// one interner per ledger.
import { AccountIds, AccountSet, keyToBytes, setOf, type HeldAccounts } from "./account-set.js";
import { grownInts } from "./growable.js";
import { KeyTable, MAX_PROBE, processSeed } from "./key-table.js";
import type { LedgerDictionary, LedgerIds, LedgerIdsEntry } from "./ledger-ids.js";
import type { IdentifiedAccount } from "./types.js";

/**
 * 16-byte keys (four int32 words) -> dense ids, open addressing. The keys are HMAC-SHA-256 outputs
 * under the app's secret key, so uploaders cannot aim them at a slot; the hash mixes all 128 bits
 * with a per-process seed besides, and equality compares all 128 bits (no collision to reason about).
 */
class WordsTable {
  private mask: number;
  private slots: Int32Array; // id + 1; 0 empty
  private words: Int32Array; // 4 per id
  private count = 0;
  private readonly seed = processSeed() | 0;

  constructor(expected: number) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity);
    this.words = new Int32Array(4 * Math.max(16, expected));
  }

  get size(): number {
    return this.count;
  }

  /** Slots. */
  get capacity(): number {
    return this.slots.length;
  }

  private hash(w: Int32Array, at: number): number {
    let h = this.seed ^ w[at]!;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ w[at + 1]!;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ w[at + 2]!;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ w[at + 3]!;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  /** The id of the key at w[at..at+4), or -1. */
  get(w: Int32Array, at: number): number {
    const { slots, words, mask } = this;
    for (let s = this.hash(w, at) & mask; ; s = (s + 1) & mask) {
      const id = slots[s]! - 1;
      if (id < 0) return -1;
      const o = 4 * id;
      if (words[o] === w[at] && words[o + 1] === w[at + 1] && words[o + 2] === w[at + 2] && words[o + 3] === w[at + 3]) return id;
    }
  }

  /** Whether id's key is the one at w[at..at+4). */
  holds(id: number, w: Int32Array, at: number): boolean {
    const o = 4 * id;
    const words = this.words;
    return id >= 0 && id < this.count && words[o] === w[at] && words[o + 1] === w[at + 1] && words[o + 2] === w[at + 2] && words[o + 3] === w[at + 3];
  }

  /** The key's id; a new key gets `next` (the caller's next free id) and -1 is returned. */
  getOrAdd(w: Int32Array, at: number, next: number): number {
    const { slots, mask } = this;
    let words = this.words;
    let s = this.hash(w, at) & mask;
    for (; ; s = (s + 1) & mask) {
      const id = slots[s]! - 1;
      if (id < 0) break;
      const o = 4 * id;
      if (words[o] === w[at] && words[o + 1] === w[at + 1] && words[o + 2] === w[at + 2] && words[o + 3] === w[at + 3]) return id;
    }
    if (4 * next + 4 > words.length) {
      const grown = new Int32Array(Math.max(words.length * 2, 4 * next + 64));
      grown.set(words);
      this.words = words = grown;
    }
    const o = 4 * next;
    words[o] = w[at]!;
    words[o + 1] = w[at + 1]!;
    words[o + 2] = w[at + 2]!;
    words[o + 3] = w[at + 3]!;
    slots[s] = next + 1;
    this.count++;
    if (this.count * 2 > slots.length) this.rehash();
    return -1;
  }

  /**
   * getOrAdd of many keys: runs[r]'s keys from..to of src (4 words each), their ids written to
   * out[at..] in key order; a new key gets the next id from `next`. Returns the next free id.
   * The keys are first grouped by the slot range they hash to (a counting sort, sequential passes),
   * then put in range by range: each range's slots and its new keys' words stay in cache, where
   * putting them in one by one costs a cache miss or two per key in tables of millions. Same ids
   * as getOrAdd one by one, but for their numbering (new keys come in range order).
   */
  getOrAddMany(runs: readonly WordRun[], out: Int32Array, at: number, next: number): number {
    let total = 0;
    for (const r of runs) total += r.to - r.from;
    if (total === 0) return next;
    // room for every key being new: no rehash (new slot order) or growth midway
    while ((this.count + total) * 2 > this.slots.length) this.rehash();
    if (4 * (next + total) > this.words.length) {
      const grown = new Int32Array(4 * (next + total) + 64);
      grown.set(this.words);
      this.words = grown;
    }
    const { mask } = this;
    const shift = Math.min(rangeShift, 31 - Math.clz32(mask + 1));
    const ranges = ((mask + 1) >>> shift) + 1;
    const start = new Int32Array(ranges + 1);
    for (const { src, from, to } of runs) for (let k = from; k < to; k++) start[((this.hash(src, 4 * k) & mask) >>> shift) + 1]!++;
    for (let p = 0; p < ranges; p++) start[p + 1]! += start[p]!;
    // each key's words and its place in `out`, range by range
    const grouped = new Int32Array(5 * total);
    let o = at;
    for (const { src, from, to } of runs) {
      for (let k = from; k < to; k++, o++) {
        const g = 5 * start[(this.hash(src, 4 * k) & mask) >>> shift]!++;
        grouped[g] = src[4 * k]!;
        grouped[g + 1] = src[4 * k + 1]!;
        grouped[g + 2] = src[4 * k + 2]!;
        grouped[g + 3] = src[4 * k + 3]!;
        grouped[g + 4] = o;
      }
    }
    const first = next;
    for (let g = 0; g < 5 * total; g += 5) {
      const id = this.getOrAdd(grouped, g, next);
      out[grouped[g + 4]!] = id === -1 ? next++ : id;
    }
    const perm = firstAppearance(out, at, total, first, next - first);
    const moved = this.words.slice(4 * first, 4 * next);
    const { words, slots } = this;
    for (let r = 0; r < perm.length; r++) {
      const to = 4 * perm[r]!;
      words[to] = moved[4 * r]!;
      words[to + 1] = moved[4 * r + 1]!;
      words[to + 2] = moved[4 * r + 2]!;
      words[to + 3] = moved[4 * r + 3]!;
    }
    renumberSlots(slots, first, perm);
    return next;
  }

  /**
   * KeyInterner.restore's keys, into an empty table: each run's stored ids (0..stored-1) of the keys
   * src[4 (from + j)..] renumbered from 0 in order of first appearance (rewritten), each id's words
   * from its first occurrence. False when they cannot be a numbering of the keys: an id whose keys
   * differ (with `verify`, every occurrence compared in full: random reads, the most of a restore's
   * time), two ids for one key.
   */
  adoptIds(runs: readonly { src: Int32Array; from: number; ids: Int32Array }[], stored: number, verify = true): boolean {
    if (this.count !== 0) throw new Error("adopt: the table is not empty");
    let total = 0;
    for (const r of runs) total += r.ids.length;
    const most = Math.min(stored, total);
    if (4 * most > this.words.length) this.words = new Int32Array(4 * most);
    const w = this.words;
    const hashes = new Int32Array(most);
    const dense = new Renumbering(stored);
    let next = 0;
    for (const { src, from, ids } of runs) {
      for (let j = 0, o = 4 * from; j < ids.length; j++, o += 4) {
        const x = ids[j]!;
        if (!(x >= 0 && x < stored)) return false;
        const to = dense.map(x);
        const a = 4 * to;
        if (to === next) {
          w[a] = src[o]!;
          w[a + 1] = src[o + 1]!;
          w[a + 2] = src[o + 2]!;
          w[a + 3] = src[o + 3]!;
          hashes[to] = this.hash(w, a);
          next++;
        } else if (verify && (w[a] !== src[o] || w[a + 1] !== src[o + 1] || w[a + 2] !== src[o + 2] || w[a + 3] !== src[o + 3])) return false;
        ids[j] = to;
      }
    }
    return this.placeAll(next, hashes);
  }

  /**
   * KeyInterner.restore's keys from a dictionary (ledger-ids.ts), into an empty table: id x's key is
   * words[4x..4x+4). False when two ids hold one key.
   */
  adoptWords(words: Int32Array): boolean {
    if (this.count !== 0) throw new Error("adopt: the table is not empty");
    const count = words.length >> 2;
    if (4 * count > this.words.length) this.words = new Int32Array(4 * count);
    this.words.set(words);
    const hashes = new Int32Array(count);
    for (let id = 0; id < count; id++) hashes[id] = this.hash(this.words, 4 * id);
    return this.placeAll(count, hashes);
  }

  /** The keys of ids (4 words each, in their order): a dictionary's words. */
  wordsOf(ids: Int32Array): Int32Array {
    const out = new Int32Array(4 * ids.length);
    const w = this.words;
    for (let j = 0; j < ids.length; j++) {
      const o = 4 * ids[j]!;
      out[4 * j] = w[o]!;
      out[4 * j + 1] = w[o + 1]!;
      out[4 * j + 2] = w[o + 2]!;
      out[4 * j + 3] = w[o + 3]!;
    }
    return out;
  }

  /** Ids 0..count-1, whose words are in place and hashes given, into the (empty) slots; false when two ids hold one key. */
  private placeAll(count: number, hashes: Int32Array): boolean {
    const w = this.words;
    let capacity = this.slots.length;
    while (count * 2 > capacity) capacity *= 2;
    if (capacity !== this.slots.length) {
      this.slots = new Int32Array(capacity);
      this.mask = capacity - 1;
    }
    const { slots, mask } = this;
    // put in range by range, as getOrAddMany: each range's slots stay in cache (a table of millions
    // of slots missed the cache on nearly every key)
    const shift = Math.min(rangeShift, 31 - Math.clz32(mask + 1));
    const ranges = ((mask + 1) >>> shift) + 1;
    const start = new Int32Array(ranges + 1);
    for (let id = 0; id < count; id++) start[((hashes[id]! & mask) >>> shift) + 1]!++;
    for (let r = 0; r < ranges; r++) start[r + 1]! += start[r]!;
    const order = new Int32Array(2 * count); // id, hash
    for (let id = 0; id < count; id++) {
      const h = hashes[id]!;
      const g = 2 * start[(h & mask) >>> shift]!++;
      order[g] = id;
      order[g + 1] = h;
    }
    for (let g = 0; g < 2 * count; g += 2) {
      const a = 4 * order[g]!;
      let s = order[g + 1]! & mask;
      for (; ; s = (s + 1) & mask) {
        const other = slots[s]! - 1;
        if (other < 0) break;
        // hashes first: 4 bytes an id, not 16, to read at random
        const o = 4 * other;
        if (hashes[other] === order[g + 1] && w[o] === w[a] && w[o + 1] === w[a + 1] && w[o + 2] === w[a + 2] && w[o + 3] === w[a + 3]) return false;
      }
      slots[s] = order[g]! + 1;
    }
    this.count = count;
    return true;
  }

  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 1;
    for (const v of old) {
      if (v === 0) continue;
      let s = this.hash(this.words, 4 * (v - 1)) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = v;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * Ids first..first+fresh, given out of order by a batch, renumbered in order of first appearance
 * in out[at..at+total) (rewritten), as one by one numbers them: the counts' passes over ids in
 * account order then meet new ids ascending, close together, not scattered. perm[old - first] = new.
 */
function firstAppearance(out: Int32Array, at: number, total: number, first: number, fresh: number): Int32Array {
  const perm = new Int32Array(fresh).fill(-1);
  let next = first;
  for (let i = at; i < at + total; i++) {
    const r = out[i]! - first;
    if (r < 0) continue;
    let to = perm[r]!;
    if (to === -1) perm[r] = to = next++;
    out[i] = to;
  }
  return perm;
}

/** A table's slots (id + 1; 0 empty) after firstAppearance. */
function renumberSlots(slots: Int32Array, first: number, perm: Int32Array): void {
  for (let s = 0; s < slots.length; s++) {
    const r = slots[s]! - 1 - first;
    if (r >= 0) slots[s] = perm[r]! + 1;
  }
}

/**
 * Stored ids 0..stored-1 -> dense ids in order of first appearance (restore). Ids stored whole are
 * in that order already: then no table is needed, nor its cache misses, until an id comes out of
 * order (an entry left out before it).
 */
class Renumbering {
  // Stored ids come in order of first appearance (written so) unless an entry was left out: no
  // table of them until one comes out of order.
  /** Dense ids given so far. */
  next = 0;
  private perm: Int32Array | null = null;
  constructor(private readonly stored: number) {}

  /** The dense id of stored id x (0 <= x < stored); a new one when next grew. */
  map(x: number): number {
    const perm = this.perm;
    if (perm === null) {
      if (x < this.next) return x;
      if (x === this.next) return this.next++;
      const table = (this.perm = new Int32Array(this.stored).fill(-1));
      for (let k = 0; k < this.next; k++) table[k] = k;
      return this.map(x);
    }
    let to = perm[x]!;
    if (to === -1) perm[x] = to = this.next++;
    return to;
  }
}

/** Keys from..to of a pool of 16-byte keys (4 words each). */
interface WordRun {
  readonly src: Int32Array;
  readonly from: number;
  readonly to: number;
}

/** Slots per range of a batch insert (log2): 8,192 slots (32 KiB) and their keys fit in a core's cache. */
const RANGE_SHIFT = 13;
let rangeShift = RANGE_SHIFT;
/** Accounts of each set restored from trusted ids checked against the sets, at most (see fitsSample). */
const RESTORE_SAMPLE = 500;
let restoreSample = RESTORE_SAMPLE;
/** Tests only: accounts checked per set in a restore of trusted ids (0: all); no argument: back to normal. */
export function setRestoreSampleForTests(sample?: number): void {
  restoreSample = sample ?? RESTORE_SAMPLE;
}
/** Tests only: every batch put in range by range (however small), in ranges of 2^shift slots; no argument: back to normal. */
let batchAlways = false;
export function setBatchingForTests(shift?: number): void {
  rangeShift = shift ?? RANGE_SHIFT;
  batchAlways = shift !== undefined;
}

/** An instance's accounts as ids, in list order: CSR arrays (account i's keys are ids[start[i]..start[i+1]]). */
export interface InternedAccounts {
  readonly primaryStart: Int32Array;
  readonly primaryIds: Int32Array;
  /** Null when interned for a count without all_emails (interned again when a count needs them). */
  readonly secondaryStart: Int32Array | null;
  readonly secondaryIds: Int32Array | null;
  /** Login id per account; -1 for an empty login. */
  readonly login: Int32Array;
}

const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const avalanche = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
};

/**
 * Logins as the count compares them (trimmed, lower-cased) -> dense ids, looked up straight from a
 * range of an account set's login text: an ASCII login (nearly all) is trimmed and lower-cased while
 * it is hashed and compared, so no string is made per account, only per new login. Anything else
 * goes through trim().toLowerCase() first; both ways hash the same characters the same way.
 * Logins are the uploaders' to choose: the hash is seeded per process (as KeyTable's), and should a
 * probe run still grow past MAX_PROBE the table moves into a Map, whose string hashing V8 seeds.
 */
const EMPTY_INTS = new Int32Array(0);

class LoginTable {
  private mask: number;
  private slots: Int32Array; // id + 1; 0 empty
  private hashes: Int32Array; // per id
  /** Per id, its key; undefined for an id adopted from a set's ASCII login and not asked for yet (see text). */
  private readonly texts: (string | undefined)[] = [];
  /**
   * Adopted ids' keys left where they are (adoptIds): the login text they come from (an index in
   * `sources`) and their trimmed range there; lower-cased when made. A restore of 2 million logins
   * made a million strings that the next collections then copied (~50 ms); few are ever read.
   */
  private readonly sources: string[] = [];
  private lazySource = EMPTY_INTS;
  private lazyStart = EMPTY_INTS;
  private lazyEnd = EMPTY_INTS;
  private fallback: Map<string, number> | null = null;

  constructor(
    expected: number,
    private readonly seed = processSeed() | 0,
  ) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity);
    this.hashes = new Int32Array(Math.max(16, expected));
  }

  get size(): number {
    return this.texts.length;
  }

  /** The key of `id` (trimmed, lower-cased). */
  text(id: number): string {
    let t = this.texts[id];
    if (t === undefined) {
      t = this.lazyText(id);
      this.texts[id] = t;
    }
    return t;
  }

  /** The key left in a text for id (an ASCII login: lower-casing it is loginKey's). */
  private lazyText(id: number): string {
    return this.sources[this.lazySource[id]!]!.slice(this.lazyStart[id]!, this.lazyEnd[id]!).toLowerCase();
  }

  /** Whether id's key is text[s..s+length), lower-cased when `lower`. */
  private keyEquals(id: number, text: string, s: number, length: number, lower: boolean): boolean {
    const t = this.texts[id];
    let i = 0;
    if (t !== undefined) {
      if (t.length !== length) return false;
      while (i < length && t.charCodeAt(i) === lowerIf(text.charCodeAt(s + i), lower)) i++;
      return i === length;
    }
    const from = this.lazyStart[id]!;
    if (this.lazyEnd[id]! - from !== length) return false;
    const source = this.sources[this.lazySource[id]!]!;
    while (i < length && lowerIf(source.charCodeAt(from + i), true) === lowerIf(text.charCodeAt(s + i), lower)) i++;
    return i === length;
  }

  /** Whether id's key is the lower-cased ASCII chars[c..c+length). */
  private keyEqualsChars(id: number, chars: Uint8Array, c: number, length: number): boolean {
    const t = this.texts[id];
    let i = 0;
    if (t !== undefined) {
      if (t.length !== length) return false;
      while (i < length && t.charCodeAt(i) === chars[c + i]) i++;
      return i === length;
    }
    const from = this.lazyStart[id]!;
    if (this.lazyEnd[id]! - from !== length) return false;
    const source = this.sources[this.lazySource[id]!]!;
    while (i < length && lowerIf(source.charCodeAt(from + i), true) === chars[c + i]) i++;
    return i === length;
  }

  /** The id of a login key (already trimmed and lower-cased), or -1. */
  get(key: string): number {
    if (this.fallback) return this.fallback.get(key) ?? -1;
    return this.find(key, 0, key.length, false, this.hashText(key, 0, key.length, false));
  }

  /**
   * The index of `text` among the texts keys may be left in (see adoptIds): a set's login text, whose
   * new ASCII logins idOrAdd then leaves there. The same text as the last one asked for keeps its index.
   */
  source(text: string): number {
    const last = this.sources.length - 1;
    return last >= 0 && this.sources[last] === text ? last : this.sources.push(text) - 1;
  }

  /**
   * The id of the login key of text[start..end) as loginKey makes it; -1 for an empty one. With
   * `source` (text's index, see source()), a new ASCII key is left in the text, no string made.
   */
  idOrAdd(text: string, start: number, end: number, source = -1): number {
    let s = start;
    let e = end;
    let ascii = true;
    for (let i = s; i < e; i++) {
      if (text.charCodeAt(i) >= 128) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      while (s < e && isAsciiSpace(text.charCodeAt(s))) s++;
      while (e > s && isAsciiSpace(text.charCodeAt(e - 1))) e--;
      if (s === e) return -1;
      return this.asciiIdOrAdd(text, s, e, this.fallback ? 0 : this.hashText(text, s, e, true), source);
    }
    const key = text.slice(start, end).trim().toLowerCase();
    return key === "" ? -1 : this.keyIdOrAdd(key);
  }

  /** The id of the login key of the trimmed ASCII text[s..e) (not empty) whose hash is h; a new one left in the text when it is `source`. */
  private asciiIdOrAdd(text: string, s: number, e: number, h: number, source = -1): number {
    if (this.fallback) return this.keyIdOrAdd(text.slice(s, e).toLowerCase());
    const id = this.find(text, s, e, true, h);
    if (id !== -1) return id;
    if (source < 0) return this.add(text.slice(s, e).toLowerCase(), h);
    this.leaveInText(this.texts.length, source, s, e);
    return this.add(undefined, h);
  }

  /** Id's key left in sources[source] at [s, e) (see text), the arrays grown when they hold too few. */
  private leaveInText(id: number, source: number, s: number, e: number): void {
    if (id >= this.lazySource.length) {
      const size = Math.max(1024, 2 * this.lazySource.length, id + 1);
      this.lazySource = grownInts(this.lazySource, size);
      this.lazyStart = grownInts(this.lazyStart, size);
      this.lazyEnd = grownInts(this.lazyEnd, size);
    }
    this.lazySource[id] = source;
    this.lazyStart[id] = s;
    this.lazyEnd[id] = e;
  }

  /**
   * idOrAdd of every account's login in the sets, ids written to out[at..] in account order. ASCII
   * logins (nearly all) are grouped by the slot range they hash to and looked up range by range, as
   * WordsTable.getOrAddMany does: the slots and the entries met stay in cache. Others one by one.
   */
  idOrAddMany(sets: readonly AccountSet[], out: Int32Array, at: number): void {
    let total = 0;
    for (const set of sets) total += set.count;
    const first = this.texts.length;
    // per account: its trimmed range and hash; NOT_ASCII: left to idOrAdd
    const hashOf = new Int32Array(total);
    const bounds = new Int32Array(2 * total);
    const { mask, seed } = this;
    const fallback = this.fallback !== null;
    const shift = Math.min(rangeShift, 31 - Math.clz32(mask + 1));
    const ranges = (mask >>> shift) + 1;
    // per range: its logins, and their characters
    const start = new Int32Array(ranges + 1);
    const charStart = new Int32Array(ranges + 1);
    let o = 0;
    let ascii = 0;
    for (const set of sets) {
      const { loginText: text, loginStart: ls } = set;
      for (let i = 0; i < set.count; i++, o++) {
        let s = ls[i]!;
        let e = ls[i + 1]!;
        while (s < e && isAsciiSpace(text.charCodeAt(s))) s++;
        while (e > s && isAsciiSpace(text.charCodeAt(e - 1))) e--;
        // hashText(text, s, e, true), and whether it is all ASCII (what is trimmed off is), in one pass
        let h = FNV_BASIS ^ seed;
        let bits = 0;
        for (let c = s; c < e; c++) {
          const code = text.charCodeAt(c);
          bits |= code;
          h = Math.imul(h ^ lowerIf(code, true), FNV_PRIME);
        }
        if (bits >= 128 || fallback) {
          bounds[2 * o] = NOT_ASCII;
          continue;
        }
        bounds[2 * o] = s;
        bounds[2 * o + 1] = e;
        if (s === e) continue;
        h = avalanche(h);
        hashOf[o] = h;
        const r = ((h & mask) >>> shift) + 1;
        start[r]!++;
        charStart[r]! += e - s;
        ascii++;
      }
    }
    for (let r = 1; r <= ranges; r++) {
      start[r]! += start[r - 1]!;
      charStart[r]! += charStart[r - 1]!;
    }
    // [hash, account, where its key is in `chars`, length] of each ASCII login, range by range, with
    // its key (lower-cased) copied: the pass below then reads nothing of the sets' texts
    const grouped = new Int32Array(4 * ascii);
    const chars = new Uint8Array(charStart[ranges]!);
    o = 0;
    for (const set of sets) {
      const text = set.loginText;
      for (let i = 0; i < set.count; i++, o++) {
        const s = bounds[2 * o]!;
        const e = bounds[2 * o + 1]!;
        if (s === NOT_ASCII) continue;
        if (s === e) {
          out[at + o] = -1;
          continue;
        }
        const h = hashOf[o]!;
        const r = (h & mask) >>> shift;
        const g = 4 * start[r]!++;
        let c = charStart[r]!;
        grouped[g] = h;
        grouped[g + 1] = o;
        grouped[g + 2] = c;
        grouped[g + 3] = e - s;
        for (let x = s; x < e; x++) chars[c++] = lowerIf(text.charCodeAt(x), true);
        charStart[r] = c;
      }
    }
    // where each login new in this batch has its key in `chars` (its first occurrence), and its length
    const newAt = new Int32Array(2 * ascii);
    for (let g = 0; g < 4 * ascii; g += 4) {
      out[at + grouped[g + 1]!] = this.charsIdOrAdd(chars, grouped[g + 2]!, grouped[g + 3]!, grouped[g]!, first, newAt);
    }
    o = 0;
    for (const set of sets) {
      for (let i = 0; i < set.count; i++, o++) {
        if (bounds[2 * o] === NOT_ASCII) out[at + o] = this.idOrAdd(set.loginText, set.loginStart[i]!, set.loginStart[i + 1]!);
      }
    }
    const perm = firstAppearance(out, at, total, first, this.texts.length - first);
    // this batch's new keys are strings (none left in a text): renumbering moves texts and hashes only
    const texts = this.texts.splice(first);
    const hashes = this.hashes.slice(first, first + perm.length);
    const ordered = new Array<string | undefined>(perm.length);
    for (let r = 0; r < perm.length; r++) {
      ordered[perm[r]! - first] = texts[r]!;
      this.hashes[perm[r]!] = hashes[r]!;
    }
    for (const t of ordered) this.texts.push(t);
    if (this.fallback) {
      for (const [key, id] of this.fallback) if (id >= first) this.fallback.set(key, perm[id - first]!);
    } else renumberSlots(this.slots, first, perm);
  }

  /**
   * asciiIdOrAdd of the key chars[c..c+length) (lower-cased ASCII) whose hash is h, for idOrAddMany:
   * a key added since id `first` is compared in `chars` (newAt[2 (id - first)]: where; + 1: length), close by.
   */
  private charsIdOrAdd(chars: Uint8Array, c: number, length: number, h: number, first: number, newAt: Int32Array): number {
    if (this.fallback) return this.keyIdOrAdd(charsText(chars, c, length));
    const { slots, hashes, texts, mask } = this;
    let probes = 0;
    let at = h & mask;
    for (; ; at = (at + 1) & mask) {
      const id = slots[at]! - 1;
      if (id < 0) break;
      if (hashes[id] === h) {
        if (id >= first) {
          const o = newAt[2 * (id - first)]!;
          let i = 0;
          if (newAt[2 * (id - first) + 1] === length) while (i < length && chars[o + i] === chars[c + i]) i++;
          if (i === length) return id;
        } else if (this.keyEqualsChars(id, chars, c, length)) return id;
      }
      if (++probes > MAX_PROBE) {
        this.toMap();
        return this.keyIdOrAdd(charsText(chars, c, length));
      }
    }
    newAt[2 * (texts.length - first)] = c;
    newAt[2 * (texts.length - first) + 1] = length;
    return this.add(charsText(chars, c, length), h);
  }

  /** The id of a login key (trimmed, lower-cased, not empty), added if new. */
  keyIdOrAdd(key: string): number {
    if (this.fallback) {
      const id = this.fallback.get(key);
      if (id !== undefined) return id;
      this.fallback.set(key, this.texts.length);
      this.texts.push(key);
      return this.texts.length - 1;
    }
    const h = this.hashText(key, 0, key.length, false);
    const id = this.find(key, 0, key.length, false, h);
    return id !== -1 ? id : this.add(key, h);
  }

  /**
   * KeyInterner.restore's logins, into an empty table: each set's stored login ids (0..stored-1; -1
   * empty) renumbered from 0 in order of first appearance (rewritten), each id's key taken from its
   * first occurrence. False when they cannot be a numbering of the logins: an id whose logins' keys
   * differ in length or in their first or last character, an empty login with an id or the other way
   * round, two ids with one key. Checking more (hashing every login) cost ~0.1 s at 2 million logins;
   * the ids are the app's own, written from a count, and this is a check against damage. Without
   * `verify`, only first occurrences are looked at (and ids' range), no other login.
   */
  adoptIds(runs: readonly { set: AccountSet; login: Int32Array }[], stored: number, verify = true): boolean {
    if (this.texts.length !== 0) throw new Error("adopt: the table is not empty");
    let total = 0;
    for (const r of runs) total += r.login.length;
    const ids = new Renumbering(stored);
    const texts = this.texts;
    const most = Math.max(16, Math.min(stored, total));
    const hashes = new Int32Array(most);
    this.lazySource = new Int32Array(most);
    this.lazyStart = new Int32Array(most);
    this.lazyEnd = new Int32Array(most);
    if (!verify) {
      for (const { set, login } of runs) {
        const { loginText: text, loginStart: ls } = set;
        const source = this.sources.push(text) - 1;
        for (let i = 0; i < login.length; i++) {
          const x = login[i]!;
          if (x === -1) continue;
          if (!(x >= 0 && x < stored)) return false;
          const to = ids.map(x);
          login[i] = to;
          if (to === texts.length && !this.adoptKey(text, source, ls[i]!, ls[i + 1]!, hashes)) return false;
        }
      }
      this.hashes = hashes;
      return this.place();
    }
    // per id: its key's length, and its first and last characters (16 bits each)
    const seen = new Int32Array(2 * Math.min(stored, total));
    for (const { set, login } of runs) {
      const { loginText: text, loginStart: ls } = set;
      // a set of ASCII logins (GHES logins are) is looked at only around each login's ends
      const ascii = Buffer.byteLength(text, "utf8") === text.length; // native, several times a regular expression's speed
      const source = this.sources.push(text) - 1;
      for (let i = 0; i < login.length; i++) {
        let s = ls[i]!;
        let e = ls[i + 1]!;
        while (s < e && isAsciiSpace(text.charCodeAt(s))) s++;
        while (e > s && isAsciiSpace(text.charCodeAt(e - 1))) e--;
        let length = e - s;
        let ends = length === 0 ? 0 : (lowerIf(text.charCodeAt(s), true) << 16) | lowerIf(text.charCodeAt(e - 1), true);
        if (!ascii && !isAscii(text, s, e)) {
          const key = text.slice(ls[i]!, ls[i + 1]!).trim().toLowerCase();
          length = key.length;
          ends = length === 0 ? 0 : (key.charCodeAt(0) << 16) | key.charCodeAt(length - 1);
        }
        const x = login[i]!;
        if (x === -1) {
          if (length !== 0) return false;
          continue;
        }
        if (!(x >= 0 && x < stored) || length === 0) return false;
        const to = ids.map(x);
        if (to === texts.length) {
          if (!this.adoptKey(text, source, ls[i]!, ls[i + 1]!, hashes)) return false;
          seen[2 * to] = length;
          seen[2 * to + 1] = ends;
        } else if (seen[2 * to] !== length || seen[2 * to + 1] !== ends) return false;
        login[i] = to;
      }
    }
    this.hashes = hashes;
    return this.place();
  }

  /**
   * KeyInterner.restore's logins from a dictionary (ledger-ids.ts), into an empty table: id x's key
   * is text[ends[x - 1]..ends[x]) (from 0 for x = 0), as loginKey makes it; an ASCII one is left
   * there until asked for. False when a key is empty or not as loginKey makes it (an ASCII one with
   * an upper-case letter or white space at an end), or two ids hold one key.
   */
  adoptKeys(text: string, ends: Int32Array): boolean {
    if (this.texts.length !== 0) throw new Error("adopt: the table is not empty");
    const count = ends.length;
    const hashes = new Int32Array(Math.max(16, count));
    this.lazySource = new Int32Array(Math.max(16, count));
    this.lazyStart = new Int32Array(Math.max(16, count));
    this.lazyEnd = new Int32Array(Math.max(16, count));
    const source = this.sources.push(text) - 1;
    let s = 0;
    for (let id = 0; id < count; id++) {
      const e = ends[id]!;
      if (e <= s || isAsciiSpace(text.charCodeAt(s)) || isAsciiSpace(text.charCodeAt(e - 1))) return false;
      let h = FNV_BASIS ^ this.seed;
      let bits = 0;
      let upper = false;
      for (let c = s; c < e; c++) {
        const code = text.charCodeAt(c);
        bits |= code;
        upper ||= code >= 65 && code <= 90;
        h = Math.imul(h ^ code, FNV_PRIME);
      }
      if (bits < 128) {
        if (upper) return false;
        hashes[id] = avalanche(h);
        this.leaveInText(id, source, s, e);
        this.texts.push(undefined);
      } else {
        const key = text.slice(s, e);
        if (key !== key.trim().toLowerCase()) return false;
        hashes[id] = avalanche(h);
        this.texts.push(key);
      }
      s = e;
    }
    this.hashes = hashes;
    return this.place();
  }

  /** The keys of ids, in their order, as one text and each one's end in it: a dictionary's logins. */
  keysOf(ids: Int32Array): { text: string; ends: Int32Array } {
    const ends = new Int32Array(ids.length);
    const parts: string[] = new Array(ids.length);
    let at = 0;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j]!;
      // not text(): that would keep a string per login
      const key = this.texts[id] ?? this.lazyText(id);
      parts[j] = key;
      ends[j] = at += key.length;
    }
    return { text: parts.join(""), ends };
  }

  /**
   * adoptIds' first occurrence of an id: the login text[start..end) as the next id's key (as loginKey
   * makes it) with its hash in hashes; false when the key is empty. An ASCII login is hashed as it is
   * lower-cased (hashText(text, s, e, true), as idOrAddMany does) and left in its text (`source`, its
   * index in sources) until asked for; another is made now.
   */
  private adoptKey(text: string, source: number, start: number, end: number, hashes: Int32Array): boolean {
    let s = start;
    let e = end;
    while (s < e && isAsciiSpace(text.charCodeAt(s))) s++;
    while (e > s && isAsciiSpace(text.charCodeAt(e - 1))) e--;
    let h = FNV_BASIS ^ this.seed;
    let bits = 0;
    for (let c = s; c < e; c++) {
      const code = text.charCodeAt(c);
      bits |= code;
      h = Math.imul(h ^ lowerIf(code, true), FNV_PRIME);
    }
    const id = this.texts.length;
    if (bits < 128) {
      if (s === e) return false;
      hashes[id] = avalanche(h);
      this.leaveInText(id, source, s, e);
      this.texts.push(undefined);
      return true;
    }
    const key = text.slice(start, end).trim().toLowerCase();
    if (key === "") return false;
    hashes[id] = this.hashText(key, 0, key.length, false);
    this.texts.push(key);
    return true;
  }

  /** The texts, whose hashes are in place, into the (empty) slots; false when two ids hold one key. */
  private place(): boolean {
    const texts = this.texts;
    while (texts.length * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      this.mask = this.slots.length - 1;
    }
    const { slots, mask, hashes } = this;
    // in the order of the slot range each hashes to (as WordsTable.adoptIds): a range's slots stay
    // in cache, where id order wrote them at random
    const shift = Math.min(rangeShift, 31 - Math.clz32(mask + 1));
    const ranges = (mask >>> shift) + 1;
    const start = new Int32Array(ranges + 1);
    for (let id = 0; id < texts.length; id++) start[((hashes[id]! & mask) >>> shift) + 1]!++;
    for (let r = 0; r < ranges; r++) start[r + 1]! += start[r]!;
    const order = new Int32Array(texts.length);
    for (let id = 0; id < texts.length; id++) order[start[(hashes[id]! & mask) >>> shift]!++] = id;
    for (let g = 0; g < order.length; g++) {
      const id = order[g]!;
      const h = hashes[id]!;
      let probes = 0;
      let at = h & mask;
      for (; slots[at] !== 0; at = (at + 1) & mask) {
        const other = slots[at]! - 1;
        if (hashes[other] === h && this.text(other) === this.text(id)) return false;
        if (++probes > MAX_PROBE) {
          // as find does: a run this long moves the table into a Map
          this.toMap();
          return this.fallback!.size === texts.length;
        }
      }
      slots[at] = id + 1;
    }
    return true;
  }

  private hashText(text: string, s: number, e: number, lower: boolean): number {
    let h = FNV_BASIS ^ this.seed;
    for (let i = s; i < e; i++) h = Math.imul(h ^ lowerIf(text.charCodeAt(i), lower), FNV_PRIME);
    return avalanche(h);
  }

  private find(text: string, s: number, e: number, lower: boolean, h: number): number {
    const { slots, hashes, mask } = this;
    const length = e - s;
    let probes = 0;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const id = slots[at]! - 1;
      if (id < 0) return -1;
      if (hashes[id] === h && this.keyEquals(id, text, s, length, lower)) return id;
      if (++probes > MAX_PROBE) {
        this.toMap();
        return this.fallback!.get(lower ? text.slice(s, e).toLowerCase() : text.slice(s, e)) ?? -1;
      }
    }
  }

  /** A new id for `key`, of hash h; undefined: its key is left where lazyStart/lazyEnd say (set already). */
  private add(key: string | undefined, h: number): number {
    if (this.fallback) return this.keyIdOrAdd(key ?? this.lazyText(this.texts.length));
    const id = this.texts.length;
    this.texts.push(key);
    if (id >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[id] = h;
    const { slots, mask } = this;
    let at = h & mask;
    while (slots[at] !== 0) at = (at + 1) & mask;
    slots[at] = id + 1;
    if (this.texts.length * 2 > slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.texts.length; id++) {
      let at = this.hashes[id]! & mask;
      while (slots[at] !== 0) at = (at + 1) & mask;
      slots[at] = id + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }

  private toMap(): void {
    this.fallback = new Map(this.texts.map((_, id) => [this.text(id), id]));
    this.slots = new Int32Array(0);
  }
}

const NOT_ASCII = -1;

/** Whether text[s..e) is all ASCII. */
function isAscii(text: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (text.charCodeAt(i) >= 128) return false;
  return true;
}

/** The text of the one-byte characters b[c..c+length). */
function charsText(b: Uint8Array, c: number, length: number): string {
  let t = "";
  for (let i = c; i < c + length; i += 4096) t += String.fromCharCode.apply(null, b.subarray(i, Math.min(c + length, i + 4096)) as unknown as number[]);
  return t;
}

// String.prototype.trim's white space, in ASCII.
const isAsciiSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const lowerIf = (c: number, lower: boolean): number => (lower && c >= 65 && c <= 90 ? c + 32 : c);

export class KeyInterner {
  // Seeded open-addressing tables, as the string matching uses (about twice a Map's speed here),
  // sized for the accounts expected so that they seldom grow. A key of the hasher's form (16 bytes
  // in base64url) is interned by its bytes whichever way it comes (text or an account set's words),
  // anything else by its text: one id per key either way.
  private readonly words: WordsTable;
  private readonly texts: KeyTable;
  private readonly logins: LoginTable;
  private readonly interned = new WeakMap<object, InternedAccounts>();
  private readonly scratch = new Int32Array(4);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  /** `loginSeed`: for tests (default: random per table); `expectedKeys`: e-mail keys expected, when known. */
  constructor(expectedAccounts = 1024, loginSeed?: number, expectedKeys = expectedAccounts) {
    // About a key per account unless told; logins repeat across instances (a table grows when it must).
    this.words = new WordsTable(expectedKeys + 1024);
    this.texts = new KeyTable(1024);
    this.logins = new LoginTable((expectedAccounts >> 2) + 1024, loginSeed);
  }

  /** Distinct e-mail keys and logins ever interned (ids run from 0 below these). */
  get emailCount(): number {
    return this.words.size + this.texts.size;
  }
  get loginCount(): number {
    return this.logins.size;
  }

  emailId(key: string): number {
    return keyToBytes(key, this.scratchBytes, 0) ? this.words.get(this.scratch, 0) : this.texts.get(key);
  }
  loginId(loginKey: string): number {
    return this.logins.get(loginKey);
  }
  loginText(id: number): string {
    return this.logins.text(id);
  }

  /**
   * The list's ids, interned on first use; `loginKey` normalizes a login as the count does.
   * Secondary addresses are interned only when asked for (a count with all_emails): a list interned
   * without them is interned again then.
   */
  of(accounts: readonly IdentifiedAccount[], loginKey: (login: string) => string, withSecondary = true): InternedAccounts {
    let got = this.interned.get(accounts);
    if (!got || (withSecondary && !got.secondaryIds)) {
      got = this.intern(accounts, loginKey, withSecondary);
      this.interned.set(accounts, got);
    }
    return got;
  }

  /**
   * As `of`, for an account set: its keys' words go straight into the table, and its logins from
   * its login text (normalized as the count's loginKey does: trim().toLowerCase()), no string per account.
   */
  ofSet(set: HeldAccounts, withSecondary = true): InternedAccounts {
    let got = this.interned.get(set);
    if (!got || (withSecondary && !got.secondaryIds)) {
      got = this.internSet(setOf(set), withSecondary, got);
      this.interned.set(set, got);
    }
    return got;
  }

  /**
   * ofSet of each set, those not interned yet (a ledger's after a restart) interned together: their
   * keys and logins go into the tables range by range (getOrAddMany, idOrAddMany), not set by set,
   * key by key. Ids are numbered in another order than one set at a time would; they are only names.
   */
  ofSets(sets: readonly HeldAccounts[], withSecondary = true): InternedAccounts[] {
    const fresh = [...new Set(sets)].filter((set): set is AccountSet => set instanceof AccountSet && set.keyWords !== null && !this.interned.has(set));
    let keys = 0;
    for (const set of fresh) keys += set.keyCount;
    // A batch passes over whole tables (renumbering): worth it for several sets making a good share of
    // them (a ledger after a restart), not for one push's set, even when it fills a fresh ledger's tables.
    if (fresh.length > 0 && (batchAlways || (fresh.length > 1 && 8 * keys >= this.words.capacity))) {
      let accounts = 0;
      for (const set of fresh) accounts += set.count;
      const login = new Int32Array(accounts);
      this.logins.idOrAddMany(fresh, login, 0);
      // keys: every set's primaries, then, if wanted, every set's secondaries
      const starts = withSecondary ? [...fresh.map((set) => set.primaryStart), ...fresh.map((set) => set.secondaryStart)] : fresh.map((set) => set.primaryStart);
      const runs = starts.map((st, r) => ({ src: fresh[r % fresh.length]!.keyWords!, from: st[0]!, to: st[st.length - 1]! }));
      let wanted = 0;
      for (const r of runs) wanted += r.to - r.from;
      const ids = new Int32Array(wanted);
      this.words.getOrAddMany(runs, ids, 0, this.emailCount);
      // each run's ids as a view, its offsets from 0 as the ids'
      let k = 0;
      const views = runs.map(({ from, to }, r) => {
        const st = starts[r]!;
        return { start: from === 0 ? st : st.map((x) => x - from), ids: ids.subarray(k, (k += to - from)) };
      });
      let a = 0;
      fresh.forEach((set, i) => {
        const secondary = withSecondary ? views[fresh.length + i]! : null;
        this.interned.set(set, {
          primaryStart: views[i]!.start,
          primaryIds: views[i]!.ids,
          secondaryStart: secondary?.start ?? null,
          secondaryIds: secondary?.ids ?? null,
          login: login.subarray(a, (a += set.count)),
        });
      });
    }
    return sets.map((set) => this.ofSet(set, withSecondary));
  }

  /** Whether the set's ids are held here (with its secondary keys' when asked): a count of it needs no more. */
  holds(set: HeldAccounts, withSecondary: boolean): boolean {
    const got = this.interned.get(set);
    return got !== undefined && (!withSecondary || got.secondaryIds !== null);
  }

  /**
   * The sets' ids to store with the ledger (ledger-ids.ts): those interned, with keys as words (a set
   * of texts is left out), renumbered from 0 in order of first appearance, so keys and logins of
   * instances replaced since never enter it, with the keys and logins they stand for (the
   * dictionary). Secondary ids only if every such set has them.
   */
  snapshot(entries: readonly { serverId: string; contentSha256: string; set: HeldAccounts }[]): LedgerIds {
    const kept: { serverId: string; contentSha256: string; set: HeldAccounts; got: InternedAccounts }[] = [];
    for (const e of entries) {
      const got = this.interned.get(e.set);
      if (got && (e.set instanceof AccountIds || e.set.keyWords)) kept.push({ ...e, got });
    }
    const withSecondary = kept.length > 0 && kept.every((e) => e.got.secondaryIds);
    const emails = new Int32Array(this.emailCount).fill(-1);
    const logins = new Int32Array(this.loginCount).fill(-1);
    // the other way: new id -> interned id
    const emailOf = new Int32Array(this.emailCount);
    const loginOf = new Int32Array(this.loginCount);
    let nextEmail = 0;
    let nextLogin = 0;
    const renumbered = (ids: Int32Array, perm: Int32Array, login: boolean): Int32Array => {
      const out = new Int32Array(ids.length);
      for (let j = 0; j < ids.length; j++) {
        const x = ids[j]!;
        if (x === -1) {
          out[j] = -1;
          continue;
        }
        let to = perm[x]!;
        if (to === -1) {
          perm[x] = to = login ? nextLogin++ : nextEmail++;
          (login ? loginOf : emailOf)[to] = x;
        }
        out[j] = to;
      }
      return out;
    };
    const out: LedgerIdsEntry[] = kept.map(({ serverId, contentSha256, set, got }) => ({
      serverId,
      contentSha256,
      count: set.count,
      keyCount: set.keyCount,
      primary: renumbered(got.primaryIds, emails, false),
      secondary: withSecondary ? renumbered(got.secondaryIds!, emails, false) : null,
      login: renumbered(got.login, logins, true),
      primaryStart: got.primaryStart,
      secondaryStart: withSecondary ? got.secondaryStart : null,
    }));
    const { text, ends } = this.logins.keysOf(loginOf.subarray(0, nextLogin));
    const dictionary: LedgerDictionary = { words: this.words.wordsOf(emailOf.subarray(0, nextEmail)), logins: text, loginEnd: ends };
    return { checked: true, withSecondary, emailIds: nextEmail, loginIds: nextLogin, entries: out, dictionary };
  }

  /**
   * An interner holding the sets a stored snapshot numbered (see snapshot), instead of interning them
   * again after a restart; null when it serves none of them or cannot be trusted (the caller interns
   * as usual). An entry serves only the set it was written for (same server, content hash and sizes);
   * the ids of those used are renumbered from 0 (the snapshot's arrays are rewritten and taken over).
   * Each key id's words come from its first occurrence, and no two ids may hold one key; other
   * occurrences are checked in full for ids of version 1 (logins as LoginTable.adoptIds says), for a
   * sample of accounts when `checked` (the app's own, checksummed: see fitsSample). Other sets are
   * interned later, as usual.
   * `expectedAccounts`, `expectedKeys`: as the constructor's, for the ledger as a whole; `loginSeed`: for tests.
   */
  static restore(
    snapshot: LedgerIds,
    sets: ReadonlyMap<string, { set: HeldAccounts; contentSha256: string }>,
    expectedAccounts = 0,
    expectedKeys = expectedAccounts,
    loginSeed?: number,
  ): KeyInterner | null {
    if (snapshot.dictionary) return KeyInterner.restoreDictionary(snapshot, snapshot.dictionary, sets, expectedAccounts, expectedKeys, loginSeed);
    const used: { entry: LedgerIdsEntry; set: AccountSet }[] = [];
    const taken = new Set<AccountSet>();
    let ids = 0;
    let accounts = 0;
    let keys = 0;
    for (const entry of snapshot.entries) {
      ids += entry.primary.length + (entry.secondary?.length ?? 0) + entry.login.length;
      const held = sets.get(entry.serverId);
      if (!held || held.contentSha256 !== entry.contentSha256 || !(held.set instanceof AccountSet) || taken.has(held.set)) continue;
      const { set } = held;
      const n = set.count;
      const { primaryStart: ps, secondaryStart: ss } = set;
      if (
        !set.keyWords || n !== entry.count || set.keyCount !== entry.keyCount || entry.login.length !== n ||
        entry.primary.length !== ps[n]! - ps[0]! || (snapshot.withSecondary && entry.secondary?.length !== ss[n]! - ss[0]!)
      ) {
        continue;
      }
      taken.add(set);
      used.push({ entry, set });
      accounts += n;
      keys += set.keyCount;
    }
    // a compacted snapshot's ids are fewer than its arrays' entries (and a damaged header asks for no huge table)
    if (used.length === 0 || snapshot.emailIds > ids || snapshot.loginIds > ids) return null;
    // Keys sized by the distinct ones (the snapshot's) plus those of the sets it does not cover (an
    // upload being recorded), not by every key: 2 million keys of 20 x 100,000 are ~1 million distinct
    // (tables of 16 + 17 MB instead of 32 + 32 MB; no faster, measured).
    const interner = new KeyInterner(Math.max(expectedAccounts, accounts), loginSeed, snapshot.emailIds + Math.max(0, expectedKeys - keys));

    // keys: each stored id -> a dense one, in order of first appearance; its words from there
    const keyRuns = used.flatMap(({ entry, set }) => {
      const primary = { src: set.keyWords!, from: set.primaryStart[0]!, ids: entry.primary };
      return snapshot.withSecondary ? [primary, { src: set.keyWords!, from: set.secondaryStart[0]!, ids: entry.secondary! }] : [primary];
    });
    // ids as the app wrote them (checksummed) are trusted but for a sample; others checked in full
    const verify = !snapshot.checked;
    if (!interner.words.adoptIds(keyRuns, snapshot.emailIds, verify)) return null;

    // logins: likewise, each id's key from its first occurrence, normalized as LoginTable does
    if (!interner.logins.adoptIds(used.map(({ entry, set }) => ({ set, login: entry.login })), snapshot.loginIds, verify)) return null;
    if (!verify && !interner.fitsSample(used, snapshot.withSecondary)) return null;

    const fromZero = (st: Int32Array): Int32Array => {
      const base = st[0]!;
      if (base === 0) return st;
      // a loop, not map(): a callback per account cost ~20 ms at 2 million
      const out = new Int32Array(st.length);
      for (let i = 0; i < st.length; i++) out[i] = st[i]! - base;
      return out;
    };
    for (const { entry, set } of used) {
      const secondary = snapshot.withSecondary ? entry.secondary : null;
      interner.interned.set(set, {
        primaryStart: fromZero(set.primaryStart),
        primaryIds: entry.primary,
        secondaryStart: secondary ? fromZero(set.secondaryStart) : null,
        secondaryIds: secondary,
        login: entry.login,
      });
    }
    return interner;
  }

  /**
   * restore of a snapshot with its dictionary (version 3): the tables made from the dictionary, each
   * entry's ids taken as they are (every one checked to be in range), and a set held only as ids
   * (AccountIds) served as well as a set. A set held whole is checked as restore checks it (a sample).
   */
  private static restoreDictionary(
    snapshot: LedgerIds,
    dictionary: LedgerDictionary,
    sets: ReadonlyMap<string, { set: HeldAccounts; contentSha256: string }>,
    expectedAccounts: number,
    expectedKeys: number,
    loginSeed?: number,
  ): KeyInterner | null {
    const { emailIds, loginIds, withSecondary } = snapshot;
    if (dictionary.words.length !== 4 * emailIds || dictionary.loginEnd.length !== loginIds) return null;
    const used: { entry: LedgerIdsEntry; set: HeldAccounts }[] = [];
    const taken = new Set<HeldAccounts>();
    let accounts = 0;
    let keys = 0;
    const inRange = (ids: Int32Array, from: number, to: number): boolean => {
      for (let j = 0; j < ids.length; j++) if (!(ids[j]! >= from && ids[j]! < to)) return false;
      return true;
    };
    for (const entry of snapshot.entries) {
      const held = sets.get(entry.serverId);
      if (!held || held.contentSha256 !== entry.contentSha256 || taken.has(held.set)) continue;
      const { set } = held;
      const n = set.count;
      const ps = entry.primaryStart;
      const ss = entry.secondaryStart;
      if (n !== entry.count || set.keyCount !== entry.keyCount || entry.login.length !== n || ps?.length !== n + 1 || ps[n] !== entry.primary.length) continue;
      if (withSecondary && (ss?.length !== n + 1 || ss[n] !== entry.secondary?.length)) continue;
      if (set instanceof AccountSet) {
        const { primaryStart: sp, secondaryStart: sq } = set;
        if (!set.keyWords || entry.primary.length !== sp[n]! - sp[0]! || (withSecondary && entry.secondary!.length !== sq[n]! - sq[0]!)) continue;
      }
      // ids index the count's arrays: every one in range, or none used
      if (!inRange(entry.primary, 0, emailIds) || (withSecondary && !inRange(entry.secondary!, 0, emailIds)) || !inRange(entry.login, -1, loginIds)) return null;
      taken.add(set);
      used.push({ entry, set });
      accounts += n;
      keys += set.keyCount;
    }
    if (used.length === 0) return null;
    const interner = new KeyInterner(Math.max(expectedAccounts, accounts), loginSeed, emailIds + Math.max(0, expectedKeys - keys));
    if (!interner.words.adoptWords(dictionary.words) || !interner.logins.adoptKeys(dictionary.logins, dictionary.loginEnd)) return null;
    const whole = used.filter((u): u is { entry: LedgerIdsEntry; set: AccountSet } => u.set instanceof AccountSet);
    if (whole.length > 0 && !interner.fitsSample(whole, withSecondary)) return null;
    for (const { entry, set } of used) {
      interner.interned.set(set, {
        primaryStart: entry.primaryStart!,
        primaryIds: entry.primary,
        secondaryStart: withSecondary ? entry.secondaryStart! : null,
        secondaryIds: withSecondary ? entry.secondary : null,
        login: entry.login,
      });
    }
    return interner;
  }

  /**
   * Whether a sample of each restored set's accounts (RESTORE_SAMPLE, spread over the set) has the
   * keys and login its ids (renumbered) stand for: a guard against a wrong writer of trusted ids,
   * whose damage the checksum shows. Checking every account cost ~0.1 s per 2 million in cache misses.
   */
  private fitsSample(used: readonly { entry: LedgerIdsEntry; set: AccountSet }[], withSecondary: boolean): boolean {
    const sample = restoreSample;
    for (const { entry, set } of used) {
      const { primaryStart: ps, secondaryStart: ss, loginStart: ls, loginText, keyWords: src } = set;
      const keysFit = (ids: Int32Array, base: number, from: number, to: number): boolean => {
        for (let k = from; k < to; k++) if (!this.words.holds(ids[k - base]!, src!, 4 * k)) return false;
        return true;
      };
      const stride = sample === 0 ? 1 : Math.max(1, Math.floor(set.count / sample));
      for (let i = stride === 1 ? 0 : Math.floor(Math.random() * stride); i < set.count; i += stride) {
        if (!keysFit(entry.primary, ps[0]!, ps[i]!, ps[i + 1]!)) return false;
        if (withSecondary && !keysFit(entry.secondary!, ss[0]!, ss[i]!, ss[i + 1]!)) return false;
        const key = loginText.slice(ls[i]!, ls[i + 1]!).trim().toLowerCase();
        const x = entry.login[i]!;
        if (x === -1 ? key !== "" : this.logins.text(x) !== key) return false;
      }
    }
    return true;
  }

  private emailIdOrAdd(key: string): number {
    const next = this.emailCount;
    const id = keyToBytes(key, this.scratchBytes, 0) ? this.words.getOrAdd(this.scratch, 0, next) : this.texts.getOrAdd(key, next);
    return id === -1 ? next : id;
  }

  private wordsIdOrAdd(words: Int32Array, at: number): number {
    const next = this.emailCount;
    const id = this.words.getOrAdd(words, at, next);
    return id === -1 ? next : id;
  }

  private loginIdOrAdd(loginKey: string): number {
    return this.logins.keyIdOrAdd(loginKey);
  }

  /** Keys from..to of the set's pool as ids into out[at..]; returns the new end (empty keys left out). */
  private internKeys(set: AccountSet, from: number, to: number, out: Int32Array, at: number): number {
    const { keyWords, keyTexts } = set;
    if (keyWords) {
      for (let k = from; k < to; k++) out[at++] = this.wordsIdOrAdd(keyWords, 4 * k);
    } else {
      for (let k = from; k < to; k++) {
        const key = keyTexts![k]!;
        if (key !== "") out[at++] = this.emailIdOrAdd(key);
      }
    }
    return at;
  }

  private internSet(set: AccountSet, withSecondary: boolean, earlier?: InternedAccounts): InternedAccounts {
    const n = set.count;
    const { primaryStart: ps, secondaryStart: ss, loginStart: ls } = set;
    let primaryStart: Int32Array;
    let primaryIds: Int32Array;
    let login: Int32Array;
    if (earlier) ({ primaryStart, primaryIds, login } = earlier);
    else {
      primaryStart = new Int32Array(n + 1);
      primaryIds = new Int32Array(ps[n]! - ps[0]!);
      login = new Int32Array(n);
      // new logins left in the set's text (see LoginTable.source)
      const source = this.logins.source(set.loginText);
      let p = 0;
      for (let i = 0; i < n; i++) {
        primaryStart[i] = p;
        p = this.internKeys(set, ps[i]!, ps[i + 1]!, primaryIds, p);
        login[i] = this.logins.idOrAdd(set.loginText, ls[i]!, ls[i + 1]!, source);
      }
      primaryStart[n] = p;
    }
    let secondaryStart: Int32Array | null = null;
    let secondaryIds: Int32Array | null = null;
    if (withSecondary) {
      secondaryStart = new Int32Array(n + 1);
      secondaryIds = new Int32Array(ss[n]! - ss[0]!);
      let q = 0;
      for (let i = 0; i < n; i++) {
        secondaryStart[i] = q;
        q = this.internKeys(set, ss[i]!, ss[i + 1]!, secondaryIds, q);
      }
      secondaryStart[n] = q;
    }
    return { primaryStart, primaryIds, secondaryStart, secondaryIds, login };
  }

  private intern(accounts: readonly IdentifiedAccount[], loginKey: (login: string) => string, withSecondary: boolean): InternedAccounts {
    const n = accounts.length;
    let primaries = 0;
    let secondaries = 0;
    for (const a of accounts) {
      primaries += a.primary.length;
      if (withSecondary) secondaries += a.secondary.length;
    }
    const primaryStart = new Int32Array(n + 1);
    const primaryIds = new Int32Array(primaries);
    const secondaryStart = withSecondary ? new Int32Array(n + 1) : null;
    const secondaryIds = withSecondary ? new Int32Array(secondaries) : null;
    const login = new Int32Array(n);
    let p = 0;
    let q = 0;
    for (let i = 0; i < n; i++) {
      const a = accounts[i]!;
      primaryStart[i] = p;
      for (const k of a.primary) if (k !== "") primaryIds[p++] = this.emailIdOrAdd(k);
      if (secondaryStart && secondaryIds) {
        secondaryStart[i] = q;
        for (const k of a.secondary) if (k !== "") secondaryIds[q++] = this.emailIdOrAdd(k);
      }
      const l = loginKey(a.login);
      login[i] = l === "" ? -1 : this.loginIdOrAdd(l);
    }
    primaryStart[n] = p;
    if (secondaryStart) secondaryStart[n] = q;
    // Empty keys are left out: the id arrays may be longer than what they hold.
    return { primaryStart, primaryIds, secondaryStart, secondaryIds, login };
  }
}
