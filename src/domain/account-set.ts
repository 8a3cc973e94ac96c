// One instance's accounts in a compact form, as the ledger keeps them in memory and in storage:
// typed arrays and one string of logins instead of an object and a handful of strings per account.
// Identity keys are 128-bit keyed hashes written as 22 base64url characters; held here as their 16
// bytes (four int32 words each), so 50 instances x 100,000 accounts fit in a few hundred MB and a
// count interns words, not strings. A set whose keys are not all such (tests' made-up keys, old
// rows with an empty key) keeps them as written: the same answers, just not compact.
import type { IdentifiedAccount, InstanceAccounts, InstanceInfo } from "./types.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SIXBITS = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) SIXBITS[ALPHABET.charCodeAt(i)] = i;

/**
 * Writes the 16 bytes of a key written as 22 base64url characters (the identity hasher's form) to
 * out[at..at+16); false (out then undefined) for anything else, including a 22-character text whose
 * last 4 bits are not zero (not what encoding 16 bytes gives, so bytes and text stay one-to-one).
 */
export function keyToBytes(key: string, out: Uint8Array, at: number): boolean {
  if (key.length !== 22) return false;
  let acc = 0;
  let bits = 0;
  let o = at;
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const v = c < 128 ? SIXBITS[c]! : -1;
    if (v < 0) return false;
    acc = ((acc << 6) | v) & 0x3fff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 255;
    }
  }
  return (acc & 15) === 0;
}

/** The 22-character text of the 16 bytes at bytes[at..at+16) (inverse of keyToBytes). */
export function keyFromBytes(bytes: Uint8Array, at: number): string {
  let s = "";
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 16; i++) {
    acc = ((acc << 8) | bytes[at + i]!) & 0xffff;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s += ALPHABET[(acc >>> bits) & 63];
    }
  }
  return s + ALPHABET[(acc << (6 - bits)) & 63];
}

export class AccountSet {
  /**
   * Account i: userIds[i], login loginText[loginStart[i]..loginStart[i+1]), primary keys
   * primaryStart[i]..primaryStart[i+1] and secondary keys secondaryStart[i]..secondaryStart[i+1]
   * in one pool of keys (every primary key first). Ordered by user id, each once.
   * The pool: keyWords (4 words per key) when every key has 16 bytes, else keyTexts.
   */
  constructor(
    readonly userIds: Float64Array,
    readonly loginText: string,
    readonly loginStart: Int32Array,
    readonly primaryStart: Int32Array,
    readonly secondaryStart: Int32Array,
    readonly keyWords: Int32Array | null,
    readonly keyTexts: readonly string[] | null,
  ) {
    const n = userIds.length;
    if (
      loginStart.length !== n + 1 || primaryStart.length !== n + 1 || secondaryStart.length !== n + 1 ||
      loginStart[n] !== loginText.length || primaryStart[n] !== secondaryStart[0] ||
      (keyWords ? keyWords.length >> 2 : (keyTexts?.length ?? -1)) !== secondaryStart[n]
    ) {
      throw new Error("inconsistent account set");
    }
  }

  get count(): number {
    return this.userIds.length;
  }

  /** Keys in the pool. */
  get keyCount(): number {
    return this.secondaryStart[this.count]!;
  }

  login(i: number): string {
    return this.loginText.slice(this.loginStart[i]!, this.loginStart[i + 1]!);
  }

  /** Key k of the pool as text (the hasher's form). */
  key(k: number): string {
    if (this.keyTexts) return this.keyTexts[k]!;
    return keyFromBytes(new Uint8Array(this.keyWords!.buffer, this.keyWords!.byteOffset + 16 * k, 16), 0);
  }

  /** Memory held, roughly (for the cache's budget). */
  get byteSize(): number {
    let keys = this.keyWords ? this.keyWords.byteLength : 0;
    if (this.keyTexts) for (const k of this.keyTexts) keys += 16 + 2 * k.length;
    return 64 + this.userIds.byteLength + 3 * this.loginStart.byteLength + 2 * this.loginText.length + keys;
  }

  /** The accounts as objects, in user-id order: for the rare paths that need them. */
  toAccounts(): IdentifiedAccount[] {
    const out: IdentifiedAccount[] = new Array(this.count);
    const keys = (from: number, to: number) => {
      const list: string[] = [];
      for (let k = from; k < to; k++) list.push(this.key(k));
      return list;
    };
    for (let i = 0; i < this.count; i++) {
      out[i] = {
        userId: this.userIds[i]!,
        login: this.login(i),
        primary: keys(this.primaryStart[i]!, this.primaryStart[i + 1]!),
        secondary: keys(this.secondaryStart[i]!, this.secondaryStart[i + 1]!),
      };
    }
    return out;
  }

  /** The set of these accounts (ordered by user id). Throws on a repeated user id: it would count someone twice. */
  static fromAccounts(accounts: readonly IdentifiedAccount[]): AccountSet {
    const n = accounts.length;
    let ascending = true;
    for (let i = 1; i < n && ascending; i++) if (!(accounts[i - 1]!.userId < accounts[i]!.userId)) ascending = false;
    const order = ascending ? null : accounts.map((_, i) => i).sort((a, b) => accounts[a]!.userId - accounts[b]!.userId);
    const at = (i: number) => accounts[order ? order[i]! : i]!;
    const userIds = new Float64Array(n);
    const loginStart = new Int32Array(n + 1);
    const primaryStart = new Int32Array(n + 1);
    const secondaryStart = new Int32Array(n + 1);
    const logins: string[] = new Array(n);
    let primaries = 0;
    let keys = 0;
    for (let i = 0; i < n; i++) {
      const a = at(i);
      if (i > 0 && a.userId === userIds[i - 1]) throw new Error(`duplicate user_id ${a.userId} in one instance's accounts`);
      userIds[i] = a.userId;
      logins[i] = a.login;
      loginStart[i + 1] = loginStart[i]! + a.login.length;
      primaryStart[i] = primaries;
      primaries += a.primary.length;
      keys += a.primary.length + a.secondary.length;
    }
    primaryStart[n] = primaries;
    let s = primaries;
    for (let i = 0; i < n; i++) {
      secondaryStart[i] = s;
      s += at(i).secondary.length;
    }
    secondaryStart[n] = s;
    const words = new Int32Array(4 * keys);
    const bytes = new Uint8Array(words.buffer);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const a = at(i);
      let k = primaryStart[i]!;
      for (const key of a.primary) if (!(ok = keyToBytes(key, bytes, 16 * k++))) break;
      k = secondaryStart[i]!;
      if (ok) for (const key of a.secondary) if (!(ok = keyToBytes(key, bytes, 16 * k++))) break;
    }
    let texts: string[] | null = null;
    if (!ok) {
      texts = new Array<string>(keys);
      for (let i = 0; i < n; i++) {
        const a = at(i);
        let k = primaryStart[i]!;
        for (const key of a.primary) texts[k++] = key;
        k = secondaryStart[i]!;
        for (const key of a.secondary) texts[k++] = key;
      }
    }
    return new AccountSet(userIds, logins.join(""), loginStart, primaryStart, secondaryStart, ok ? words : null, texts);
  }
}

/**
 * An instance's accounts known only by their number and their ids in a ledger's interner, restored
 * from the ledger's stored ids after a restart (KeyInterner.restore): all a GHES count needs, so the
 * set itself is not read. Whatever needs the accounts (an enterprise count, what a push added and
 * removed) reads the set instead.
 */
export class AccountIds {
  constructor(
    readonly count: number,
    readonly keyCount: number,
  ) {}
}

/** An instance's accounts as a ledger's state holds them. */
export type HeldAccounts = AccountSet | AccountIds;

/** Accounts removed and added between two sets of one instance (by user id). */
export function accountChanges(before: AccountSet, after: AccountSet): { added: number; removed: number } {
  const a = before.userIds;
  const b = after.userIds;
  let i = 0;
  let j = 0;
  let same = 0;
  // both ordered by user id
  while (i < a.length && j < b.length) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      same++;
      i++;
      j++;
    }
  }
  return { added: b.length - same, removed: a.length - same };
}

/**
 * An instance for the count whose accounts are a set's: `accounts` is made (once) only if asked
 * for; the ledger's count matches the set itself (matchAccountSets) and never asks.
 */
export function instanceWithSet(instance: InstanceInfo, set: HeldAccounts): InstanceAccounts {
  let accounts: IdentifiedAccount[] | undefined;
  return {
    instance,
    get accounts() {
      return (accounts ??= setOf(set).toAccounts());
    },
  };
}

/** The set itself; an error where only its ids are held (the caller should have read the set). */
export function setOf(held: HeldAccounts): AccountSet {
  if (held instanceof AccountSet) return held;
  throw new Error("an instance's accounts are held only as ids here: read its set");
}
