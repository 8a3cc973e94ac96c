// A ledger's interned ids as stored with it (derived data): each instance's keys and logins as ids
// into one numbering, so that after a restart the ledger's interner is restored (KeyInterner.restore)
// instead of putting millions of keys and logins through its tables again. Pure codec; whatever it
// holds is checked against the account sets before use, and without it everything works as before.
//
// Layout, little-endian (the platform's, as account-set-codec.ts):
//   u32 MAGIC, u32 VERSION, u32 flags (1: secondary ids), u32 emailIds, u32 loginIds, u32 entries;
//   version 2: u32 checksum (of every other byte of the block), u32 0;
//   per entry: u32 serverId bytes, u32 contentSha256 bytes, u32 count, u32 keyCount, u32 primaries,
//   both texts as UTF-8 padded to 4 bytes, then i32 primary[primaries], i32 secondary[keyCount - primaries]
//   (with the flag), i32 login[count].

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
}

const MAGIC = 0x4449534c; // "LSID"
/** Version 1 (no checksum) is still read: its ids are checked in full when restored. */
const VERSION_UNCHECKED = 1;
const VERSION = 2;
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

/** Written as version 2 (checksummed) whatever `checked` says. */
export function encodeLedgerIds(ids: LedgerIds): Uint8Array {
  const enc = new TextEncoder();
  const texts = ids.entries.map((e) => [enc.encode(e.serverId), enc.encode(e.contentSha256)] as const);
  let size = HEADER;
  ids.entries.forEach((e, i) => {
    size += ENTRY_HEADER + pad4(texts[i]![0].length) + pad4(texts[i]![1].length);
    size += 4 * (e.primary.length + (ids.withSecondary ? e.keyCount - e.primary.length : 0) + e.count);
  });
  const out = new Uint8Array(size);
  const u32 = new Uint32Array(out.buffer);
  const i32 = new Int32Array(out.buffer);
  u32.set([MAGIC, VERSION, ids.withSecondary ? 1 : 0, ids.emailIds, ids.loginIds, ids.entries.length]);
  let at = HEADER;
  ids.entries.forEach((e, i) => {
    const [server, sha] = texts[i]!;
    u32.set([server.length, sha.length, e.count, e.keyCount, e.primary.length], at >> 2);
    at += ENTRY_HEADER;
    out.set(server, at);
    at += pad4(server.length);
    out.set(sha, at);
    at += pad4(sha.length);
    for (const a of ids.withSecondary ? [e.primary, e.secondary!, e.login] : [e.primary, e.login]) {
      i32.set(a, at >> 2);
      at += a.byteLength;
    }
  });
  u32[6] = checksum(i32);
  return out;
}

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
  if (magic !== MAGIC || (version !== VERSION && version !== VERSION_UNCHECKED) || (flags !== 0 && flags !== 1)) return null;
  const checked = version === VERSION;
  if (checked && (data.length < HEADER || u32[7] !== 0 || u32[6] !== checksum(new Int32Array(data.buffer, 0, data.length >> 2)))) return null;
  const withSecondary = flags === 1;
  const dec = new TextDecoder();
  const entries: LedgerIdsEntry[] = [];
  let at = checked ? HEADER : HEADER_UNCHECKED;
  const ints = (n: number): Int32Array | null => {
    if (n < 0 || at + 4 * n > data.length) return null;
    const a = new Int32Array(data.buffer, at, n);
    at += 4 * n;
    return a;
  };
  for (let i = 0; i < count!; i++) {
    if (at + ENTRY_HEADER > data.length) return null;
    const [serverBytes, shaBytes, n, keyCount, primaries] = u32.subarray(at >> 2, (at >> 2) + 5) as unknown as number[];
    at += ENTRY_HEADER;
    if (at + pad4(serverBytes!) + pad4(shaBytes!) > data.length || primaries! > keyCount!) return null;
    const serverId = dec.decode(data.subarray(at, at + serverBytes!));
    at += pad4(serverBytes!);
    const contentSha256 = dec.decode(data.subarray(at, at + shaBytes!));
    at += pad4(shaBytes!);
    const primary = ints(primaries!);
    const secondary = withSecondary ? ints(keyCount! - primaries!) : null;
    const login = ints(n!);
    if (!primary || (withSecondary && !secondary) || !login) return null;
    entries.push({ serverId, contentSha256, count: n!, keyCount: keyCount!, primary, secondary, login });
  }
  if (at !== data.length) return null;
  return { checked, withSecondary, emailIds: emailIds!, loginIds: loginIds!, entries };
}
