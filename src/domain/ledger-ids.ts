// A ledger's interned ids as stored with it (derived data): each instance's keys and logins as ids
// into one numbering, so that after a restart the ledger's interner is restored (KeyInterner.restore)
// instead of putting millions of keys and logins through its tables again. Pure codec; whatever it
// holds is checked against the account sets before use, and without it everything works as before.
//
// Version 3 also holds what the ids stand for (the dictionary: each id's key and login) and each
// account's offsets, so that after a restart a GHES count needs none of the account sets read.
//
// Layout, little-endian (the platform's, as account-set-codec.ts):
//   u32 MAGIC, u32 VERSION, u32 flags (1: secondary ids; 2: logins as UTF-16), u32 emailIds, u32 loginIds, u32 entries;
//   version 2 and 3: u32 checksum (of every other byte of the block), u32 0 (version 3: the logins' length);
//   version 3: i32 words[4 emailIds] (each key's 16 bytes), i32 loginEnd[loginIds], the logins' text
//   (latin1 bytes, or UTF-16 code units with flag 2) padded to 4 bytes;
//   per entry: u32 serverId bytes, u32 contentSha256 bytes, u32 count, u32 keyCount, u32 primaries,
//   both texts as UTF-8 padded to 4 bytes, version 3: i32 primaryStart[count + 1] and, with flag 1,
//   i32 secondaryStart[count + 1]; then i32 primary[primaries], i32 secondary[keyCount - primaries]
//   (with flag 1), i32 login[count].

/** One instance's account set as ids: keys in pool order, logins in account order (-1: empty login). */
export interface LedgerIdsEntry {
  readonly serverId: string;
  /** The instance record's content hash: with serverId, it stands for the set (as in the accounts cache). */
  readonly contentSha256: string;
  /** Accounts, and keys in the set's pool: a cheap check that the set is the one numbered. */
  readonly count: number;
  readonly keyCount: number;
  readonly primary: Int32Array;
  readonly secondary: Int32Array | null;
  readonly login: Int32Array;
  /** With a dictionary: account i's keys are primary[primaryStart[i]..primaryStart[i + 1]] (and so for secondary). */
  readonly primaryStart?: Int32Array;
  readonly secondaryStart?: Int32Array | null;
}

/** What the ids stand for (version 3): enough to count the ledger without reading its sets. */
export interface LedgerDictionary {
  /** Email id x's key: words[4x..4x+4) (its 16 bytes). */
  readonly words: Int32Array;
  /** Login id x's key (trimmed, lower-cased): logins.slice(x === 0 ? 0 : loginEnd[x - 1], loginEnd[x]). */
  readonly logins: string;
  readonly loginEnd: Int32Array;
}

export interface LedgerIds {
  /**
   * The ids are as the app wrote them: read from a block whose checksum holds (version 2), or made
   * by snapshot. KeyInterner.restore then checks a sample of them, not every one. False: version 1.
   */
  readonly checked: boolean;
  readonly withSecondary: boolean;
  /** Ids run over 0..emailIds-1 and 0..loginIds-1. */
  readonly emailIds: number;
  readonly loginIds: number;
  readonly entries: readonly LedgerIdsEntry[];
  /** Version 3 (with every entry's primaryStart, and secondaryStart with secondary ids). */
  readonly dictionary?: LedgerDictionary;
}

const MAGIC = 0x4449534c; // "LSID"
/** Version 1 (no checksum) is still read: its ids are checked in full when restored. */
const VERSION_UNCHECKED = 1;
const VERSION_NO_DICTIONARY = 2;
const VERSION = 3;
const WIDE_LOGINS = 2;
const HEADER_UNCHECKED = 24;
const HEADER = 32;
const ENTRY_HEADER = 20;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("ledger ids are stored little-endian: this platform is not");

// arithmetic, not bit operations: a damaged length near 2^32 must not wrap to a small one
const pad4 = (n: number) => 4 * Math.ceil(n / 4);

/**
 * A checksum of a block of version 2 (`words`: all of it): damage (a flipped bit, a block cut or spliced) shows; not a defence
 * against someone who can write the database, who could write the sets as well.
 */
function checksum(words: Int32Array): number {
  // two lanes: about twice the speed of one chain of dependent multiplications
  let a = 0x811c9dc5 ^ words.length;
  let b = 0x9e3779b9;
  // the header's words but the checksum's own
  for (const k of [0, 1, 2, 3, 4, 5, 7]) a = Math.imul(a ^ words[k]!, 0x01000193);
  const to = words.length;
  let i = HEADER >> 2;
  for (; i + 1 < to; i += 2) {
    a = Math.imul(a ^ words[i]!, 0x01000193);
    b = Math.imul(b ^ words[i + 1]!, 0x85ebca6b);
  }
  if (i < to) a = Math.imul(a ^ words[i]!, 0x01000193);
  let h = a ^ Math.imul(b ^ (b >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Written checksummed whatever `checked` says: as version 3 with a dictionary, else version 2. */
export function encodeLedgerIds(ids: LedgerIds): Uint8Array {
  const enc = new TextEncoder();
  const texts = ids.entries.map((e) => [enc.encode(e.serverId), enc.encode(e.contentSha256)] as const);
  const d = ids.dictionary;
  const wide = d ? hasWide(d.logins) : false;
  const loginBytes = d ? pad4((wide ? 2 : 1) * d.logins.length) : 0;
  let size = HEADER + (d ? d.words.byteLength + d.loginEnd.byteLength + loginBytes : 0);
  ids.entries.forEach((e, i) => {
    size += ENTRY_HEADER + pad4(texts[i]![0].length) + pad4(texts[i]![1].length);
    size += 4 * (e.primary.length + (ids.withSecondary ? e.keyCount - e.primary.length : 0) + e.count);
    if (d) size += 4 * (e.count + 1) * (ids.withSecondary ? 2 : 1);
  });
  const out = new Uint8Array(size);
  const u32 = new Uint32Array(out.buffer);
  const i32 = new Int32Array(out.buffer);
  const flags = (ids.withSecondary ? 1 : 0) | (wide ? WIDE_LOGINS : 0);
  u32.set([MAGIC, d ? VERSION : VERSION_NO_DICTIONARY, flags, ids.emailIds, ids.loginIds, ids.entries.length, 0, d ? d.logins.length : 0]);
  let at = HEADER;
  const put = (a: Int32Array) => {
    i32.set(a, at >> 2);
    at += a.byteLength;
  };
  if (d) {
    put(d.words);
    put(d.loginEnd);
    if (wide) {
      const units = new Uint16Array(out.buffer, at, d.logins.length);
      for (let c = 0; c < d.logins.length; c++) units[c] = d.logins.charCodeAt(c);
    } else Buffer.from(out.buffer, at, d.logins.length).write(d.logins, "latin1");
    at += loginBytes;
  }
  ids.entries.forEach((e, i) => {
    const [server, sha] = texts[i]!;
    u32.set([server.length, sha.length, e.count, e.keyCount, e.primary.length], at >> 2);
    at += ENTRY_HEADER;
    out.set(server, at);
    at += pad4(server.length);
    out.set(sha, at);
    at += pad4(sha.length);
    if (d) for (const a of ids.withSecondary ? [e.primaryStart!, e.secondaryStart!] : [e.primaryStart!]) put(a);
    for (const a of ids.withSecondary ? [e.primary, e.secondary!, e.login] : [e.primary, e.login]) put(a);
  });
  u32[6] = checksum(i32);
  return out;
}

/** Ends that never go down, from 0 at least, the last at `last` (0 when none). */
function endsFit(ends: Int32Array, last: number): boolean {
  let at = 0;
  for (let i = 0; i < ends.length; i++) {
    if (ends[i]! < at) return false;
    at = ends[i]!;
  }
  return at === last;
}

function hasWide(text: string): boolean {
  for (let c = 0; c < text.length; c++) if (text.charCodeAt(c) > 255) return true;
  return false;
}

/** Offsets that start at 0, never go down and end at `last`. */
const offsetsFit = (starts: Int32Array, last: number): boolean => starts[0] === 0 && endsFit(starts, last);

/**
 * The ids as written, or null when the data is not what encodeLedgerIds writes (another version,
 * cut short, damaged: version 2's checksum). The arrays are views of the data (or of a copy, when
 * unaligned): the caller's to rewrite. Ids are not checked here (KeyInterner.restore checks them
 * against the sets: in full for version 1, a sample for version 2).
 */
export function decodeLedgerIds(stored: Uint8Array): LedgerIds | null {
  if (stored.byteLength < HEADER_UNCHECKED || stored.byteLength % 4 !== 0) return null;
  // aligned, and ours: a value that is a whole buffer of its own (as drivers give a large one) as it is, else a copy
  const own = stored.byteOffset === 0 && stored.byteLength === stored.buffer.byteLength && stored.buffer instanceof ArrayBuffer;
  const data = own ? new Uint8Array(stored.buffer, 0, stored.byteLength) : new Uint8Array(stored);
  const u32 = new Uint32Array(data.buffer);
  const [magic, version, flags, emailIds, loginIds, count] = u32 as unknown as number[];
  if (magic !== MAGIC || (version !== VERSION && version !== VERSION_NO_DICTIONARY && version !== VERSION_UNCHECKED)) return null;
  const withDictionary = version === VERSION;
  if ((flags! & ~(withDictionary ? 3 : 1)) !== 0) return null;
  const checked = version !== VERSION_UNCHECKED;
  const loginUnits = u32[7]!;
  if (checked && (data.length < HEADER || (!withDictionary && loginUnits !== 0) || u32[6] !== checksum(new Int32Array(data.buffer, 0, data.length >> 2)))) return null;
  const withSecondary = (flags! & 1) === 1;
  const dec = new TextDecoder();
  const entries: LedgerIdsEntry[] = [];
  let at = checked ? HEADER : HEADER_UNCHECKED;
  const ints = (n: number): Int32Array | null => {
    if (n < 0 || at + 4 * n > data.length) return null;
    const a = new Int32Array(data.buffer, at, n);
    at += 4 * n;
    return a;
  };
  let dictionary: LedgerDictionary | undefined;
  if (withDictionary) {
    const words = ints(4 * emailIds!);
    const loginEnd = ints(loginIds!);
    const wide = (flags! & WIDE_LOGINS) !== 0;
    const bytes = pad4((wide ? 2 : 1) * loginUnits);
    if (!words || !loginEnd || at + bytes > data.length) return null;
    if (!endsFit(loginEnd, loginUnits)) return null;
    const logins = wide ? wideText(new Uint16Array(data.buffer, at, loginUnits)) : Buffer.from(data.buffer, at, loginUnits).toString("latin1");
    at += bytes;
    dictionary = { words, logins, loginEnd };
  }
  for (let i = 0; i < count!; i++) {
    if (at + ENTRY_HEADER > data.length) return null;
    const [serverBytes, shaBytes, n, keyCount, primaries] = u32.subarray(at >> 2, (at >> 2) + 5) as unknown as number[];
    at += ENTRY_HEADER;
    if (at + pad4(serverBytes!) + pad4(shaBytes!) > data.length || primaries! > keyCount!) return null;
    const serverId = dec.decode(data.subarray(at, at + serverBytes!));
    at += pad4(serverBytes!);
    const contentSha256 = dec.decode(data.subarray(at, at + shaBytes!));
    at += pad4(shaBytes!);
    const primaryStart = withDictionary ? ints(n! + 1) : null;
    const secondaryStart = withDictionary && withSecondary ? ints(n! + 1) : null;
    const primary = ints(primaries!);
    const secondary = withSecondary ? ints(keyCount! - primaries!) : null;
    const login = ints(n!);
    if (!primary || (withSecondary && !secondary) || !login) return null;
    if (!withDictionary) {
      entries.push({ serverId, contentSha256, count: n!, keyCount: keyCount!, primary, secondary, login });
      continue;
    }
    if (!primaryStart || !offsetsFit(primaryStart, primary.length)) return null;
    if (withSecondary && (!secondaryStart || !offsetsFit(secondaryStart, secondary!.length))) return null;
    entries.push({ serverId, contentSha256, count: n!, keyCount: keyCount!, primary, secondary, login, primaryStart, secondaryStart });
  }
  if (at !== data.length) return null;
  return { checked, withSecondary, emailIds: emailIds!, loginIds: loginIds!, entries, ...(dictionary ? { dictionary } : {}) };
}

/** The text of UTF-16 code units, exactly (TextDecoder would replace a lone surrogate). */
function wideText(units: Uint16Array): string {
  let t = "";
  for (let i = 0; i < units.length; i += 4096) t += String.fromCharCode.apply(null, units.subarray(i, i + 4096) as unknown as number[]);
  return t;
}
