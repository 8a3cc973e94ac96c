// An account set as stored (migration 0007): its logins as one JSON string (a text column, so that
// an audit of the text columns still sees every login), everything else as one binary value read
// back with a copy and typed-array views: no JSON, no string per key.
//
// Binary layout, little-endian (the platform's: typed arrays are written as they are in memory):
//   u32 format (1: keys as 16 bytes each; 2: keys as a UTF-8 JSON array of texts), u32 n,
//   u32 keys, u32 0, 8 bytes 0; f64 userIds[n]; i32 loginStart[n+1]; i32 primaryStart[n+1];
//   i32 secondaryStart[n+1]; then the keys.
import { AccountSet } from "../domain/account-set.js";
import type { IdentifiedAccount } from "../domain/types.js";

const HEADER = 24;
const BYTES = 1;
const TEXTS = 2;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("account sets are stored little-endian: this platform is not");

export interface EncodedAccountSet {
  logins: string;
  data: Uint8Array;
}

export function encodeAccountSet(set: AccountSet): EncodedAccountSet {
  const n = set.count;
  const keys = set.keyCount;
  const texts = set.keyTexts ? new TextEncoder().encode(JSON.stringify(set.keyTexts)) : null;
  const ints = HEADER + 8 * n;
  const tail = ints + 12 * (n + 1);
  const data = new Uint8Array(tail + (texts ? texts.length : 16 * keys));
  const head = new Uint32Array(data.buffer, 0, 4);
  head[0] = texts ? TEXTS : BYTES;
  head[1] = n;
  head[2] = keys;
  data.set(new Uint8Array(set.userIds.buffer, set.userIds.byteOffset, 8 * n), HEADER);
  let at = ints;
  for (const a of [set.loginStart, set.primaryStart, set.secondaryStart]) {
    data.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  if (texts) data.set(texts, tail);
  else data.set(new Uint8Array(set.keyWords!.buffer, set.keyWords!.byteOffset, 16 * keys), tail);
  return { logins: JSON.stringify(set.loginText), data };
}

/** `where` names the row in an error (never its content). */
export function decodeAccountSet(logins: string, stored: Uint8Array, where: string): AccountSet {
  // The views need memory of our own, aligned: a value that is a whole buffer of its own (what the
  // drivers give for a set's size: 80 MB at 20 x 100,000) is used as it is; a slice of a driver's
  // buffer pool, or unaligned, is copied.
  const own = stored.byteOffset === 0 && stored.byteLength === stored.buffer.byteLength && stored.buffer instanceof ArrayBuffer;
  const data = own ? new Uint8Array(stored.buffer, 0, stored.byteLength) : Uint8Array.from(stored);
  const fail = (): never => {
    throw new Error(`account set of ${where}: stored data is damaged`);
  };
  if (data.length < HEADER) fail();
  const [format, n, keys] = new Uint32Array(data.buffer, 0, 3) as unknown as [number, number, number];
  const ints = HEADER + 8 * n;
  const tail = ints + 12 * (n + 1);
  if ((format !== BYTES && format !== TEXTS) || data.length < tail || (format === BYTES && data.length !== tail + 16 * keys)) fail();
  const loginText = loginsText(logins);
  if (typeof loginText !== "string") fail();
  const userIds = new Float64Array(data.buffer, HEADER, n);
  const loginStart = new Int32Array(data.buffer, ints, n + 1);
  const primaryStart = new Int32Array(data.buffer, ints + 4 * (n + 1), n + 1);
  const secondaryStart = new Int32Array(data.buffer, ints + 8 * (n + 1), n + 1);
  let keyWords: Int32Array | null = null;
  let keyTexts: string[] | null = null;
  if (format === BYTES) keyWords = new Int32Array(data.buffer, tail, 4 * keys);
  else keyTexts = JSON.parse(new TextDecoder().decode(data.subarray(tail))) as string[];
  // Offsets in order, so that a damaged row fails here instead of counting garbage.
  if (loginStart[0] !== 0 || primaryStart[0] !== 0) fail();
  for (const starts of [loginStart, primaryStart, secondaryStart]) {
    for (let i = 0; i < n; i++) if (starts[i]! > starts[i + 1]!) fail();
  }
  try {
    return new AccountSet(userIds, loginText as string, loginStart, primaryStart, secondaryStart, keyWords, keyTexts);
  } catch {
    return fail();
  }
}

/**
 * The logins' text, stored as JSON.stringify of it. Without a backslash (no escape: what the app
 * writes for logins without quotes, backslashes or control characters) it is the text between the
 * quotes, taken as a slice instead of parsed (~20 ms at 20 x 100,000). A raw control character,
 * which JSON.parse refuses and the app never writes, is not looked for (a scan cost as much as the parse).
 */
function loginsText(logins: string): unknown {
  const n = logins.length;
  if (n >= 2 && logins.charCodeAt(0) === 34 && logins.indexOf('"', 1) === n - 1 && !logins.includes("\\")) return logins.slice(1, n - 1);
  return JSON.parse(logins) as unknown;
}

/** "p:<key> s:<key>": tagged identity keys in one text (account rows before migration 0005). */
function decodeIdentities(text: string): { primary: string[]; secondary: string[] } {
  const primary: string[] = [];
  const secondary: string[] = [];
  for (const tagged of text.split(" ")) {
    if (tagged.startsWith("p:")) primary.push(tagged.slice(2));
    else if (tagged.startsWith("s:")) secondary.push(tagged.slice(2));
  }
  return { primary, secondary };
}

/**
 * An account set as migrations 0005 and 0006 stored it: one JSON text [userIds, logins, primary
 * keys, secondary keys] (or, as 0005 first wrote it, [userIds, logins, "p:<key> s:<key>"]).
 * For migration 0007 only.
 */
export function decodeLegacyAccountSet(data: string): IdentifiedAccount[] {
  const columns = JSON.parse(data) as [number[], string[], string[][] | string[], string[][]?];
  const [userIds, logins] = columns;
  const out: IdentifiedAccount[] = new Array(userIds.length);
  if (columns.length === 3) {
    // As migration 0005 first wrote it: tagged identities, "p:<key> s:<key>".
    const identities = columns[2] as string[];
    for (let i = 0; i < userIds.length; i++) out[i] = { userId: userIds[i]!, login: logins[i]!, ...decodeIdentities(identities[i]!) };
    return out;
  }
  const primary = columns[2] as string[][];
  const secondary = columns[3]!;
  for (let i = 0; i < userIds.length; i++) out[i] = { userId: userIds[i]!, login: logins[i]!, primary: primary[i]!, secondary: secondary[i]! };
  return out;
}

