// Accounts -> identity keys. The CLI keys by the normalized e-mail itself; the app passes a keyed hash
// so no address is ever stored. Counting only compares keys, so it never needs to know which.
import type { Account, IdentifiedAccount } from "./types.js";

// Any code unit outside printable ASCII may need NFC; pure ASCII never does (normalize() is costly).
const NEEDS_NFC = /[^\x20-\x7e]/;

// ES2024, present in Node 20 but not in the ES2023 library types the project compiles against.
type WellFormable = string & { toWellFormed(): string };

/** Trimmed, Unicode NFC, lower-cased. "" means no identity. */
export function normalizeEmail(email: string): string {
  // The usual address is already printable lower-case ASCII: then it is its own normal form.
  let plain = email.length > 0;
  for (let i = 0; i < email.length; i++) {
    const c = email.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || (c >= 0x41 && c <= 0x5a)) {
      plain = false;
      break;
    }
  }
  if (plain) return email;
  // A lone surrogate has no UTF-8 form: make it U+FFFD here, as hashing would, so the CLI and the
  // app agree that "\ud800@x" and "\udbff@x" are one address.
  const trimmed = (email.trim() as WellFormable).toWellFormed();
  return (NEEDS_NFC.test(trimmed) ? trimmed.normalize("NFC") : trimmed).toLowerCase();
}

// Most accounts have no other address: they share one frozen empty list (a million fewer arrays).
const NO_KEYS = Object.freeze([]) as unknown as string[];

/**
 * Identity keys of one account at a time, from its e-mails as two parallel lists (text, primary):
 * the export readers hand them over without building e-mail objects. The scratch lists are reused.
 * `primary`: keys of every e-mail marked primary; `secondary`: keys of the other e-mails not already
 * primary. Each distinct normalized address is keyed once per account (keyOf may be an HMAC).
 */
export class Identifier {
  // Normalized addresses are gathered in two scratch lists, deduplicated, then keyed into lists of
  // exactly their size (a list grown by push keeps room for 17: a million accounts would carry it).
  private readonly primary: string[] = [];
  private readonly secondary: string[] = [];
  private readonly key: (normalizedEmail: string) => string;

  constructor(keyOf: (normalizedEmail: string) => string) {
    this.key = (n: string) => keyOf(n);
  }

  /** The account with e-mails emails[j] (marked primary: isPrimary[j]) for j < count. */
  account(userId: number, login: string, emails: readonly string[], isPrimary: readonly boolean[], count: number): IdentifiedAccount {
    const primary = this.primary;
    const secondary = this.secondary;
    primary.length = 0;
    secondary.length = 0;
    // Accounts have a handful of addresses: a linear scan beats a Set; a Set guards huge lists.
    const seen = count > 16 ? new Set<string>() : null;
    for (let j = 0; j < count; j++) {
      if (!isPrimary[j]) continue;
      const n = normalizeEmail(emails[j]!);
      if (n === "" || (seen ? seen.has(n) : primary.includes(n))) continue;
      seen?.add(n);
      primary.push(n);
    }
    if (primary.length < count) {
      for (let j = 0; j < count; j++) {
        if (isPrimary[j]) continue;
        const n = normalizeEmail(emails[j]!);
        if (n === "" || (seen ? seen.has(n) : primary.includes(n) || secondary.includes(n))) continue;
        seen?.add(n);
        secondary.push(n);
      }
    }
    return {
      userId,
      login,
      primary: primary.length ? primary.map(this.key) : NO_KEYS,
      secondary: secondary.length ? secondary.map(this.key) : NO_KEYS,
    };
  }
}

/** Reduces accounts to identity keys (see Identifier). Suspended accounts are dropped (they consume no seat). */
export function identifyAccounts(accounts: Account[], keyOf: (normalizedEmail: string) => string): IdentifiedAccount[] {
  const out: IdentifiedAccount[] = [];
  const identifier = new Identifier(keyOf);
  const emails: string[] = [];
  const isPrimary: boolean[] = [];
  for (const account of accounts) {
    if (account.suspended) continue;
    emails.length = 0;
    isPrimary.length = 0;
    for (const e of account.emails ?? []) {
      if (typeof e.email !== "string") continue;
      emails.push(e.email);
      isPrimary.push(e.primary === true);
    }
    out.push(identifier.account(account.userId, account.login, emails, isPrimary, emails.length));
  }
  return out;
}
