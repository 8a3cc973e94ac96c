// Identity keys and logins as small integers, for a ledger counted again and again: each instance's
// accounts are interned once (while the list is alive), and every later count matches integers in
// arrays instead of putting two million strings through a hash table. Pure; the ledger service keeps
// one interner per ledger.
import { KeyTable } from "./key-table.js";
import type { IdentifiedAccount } from "./types.js";

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

export class KeyInterner {
  // Seeded open-addressing tables, as the string matching uses (about twice a Map's speed here),
  // sized for the accounts expected so that they seldom grow.
  private readonly emails: KeyTable;
  private readonly logins: KeyTable;
  private readonly loginTexts: string[] = [];
  private readonly interned = new WeakMap<readonly IdentifiedAccount[], InternedAccounts>();

  constructor(expectedAccounts = 1024) {
    // About a key per account; logins repeat across instances (a table grows when it must).
    this.emails = new KeyTable(expectedAccounts + 1024);
    this.logins = new KeyTable((expectedAccounts >> 2) + 1024);
  }

  /** Distinct e-mail keys and logins ever interned (ids run from 0 below these). */
  get emailCount(): number {
    return this.emails.size;
  }
  get loginCount(): number {
    return this.logins.size;
  }

  emailId(key: string): number {
    return this.emails.get(key);
  }
  loginId(loginKey: string): number {
    return this.logins.get(loginKey);
  }
  loginText(id: number): string {
    return this.loginTexts[id]!;
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

  private emailIdOrAdd(key: string): number {
    const next = this.emails.size;
    const id = this.emails.getOrAdd(key, next);
    return id === -1 ? next : id;
  }

  private loginIdOrAdd(loginKey: string): number {
    const next = this.logins.size;
    const id = this.logins.getOrAdd(loginKey, next);
    if (id !== -1) return id;
    this.loginTexts.push(loginKey);
    return next;
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
