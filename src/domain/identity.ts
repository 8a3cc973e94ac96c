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
 * Reduces accounts to identity keys. Suspended accounts are dropped (they consume no seat).
 * `primary`: keys of every e-mail marked primary; `secondary`: keys of the other e-mails not already
 * primary. Each distinct normalized address is keyed once per account (keyOf may be an HMAC).
 */
export function identifyAccounts(accounts: Account[], keyOf: (normalizedEmail: string) => string): IdentifiedAccount[] {
  const out: IdentifiedAccount[] = [];
  // Normalized addresses are gathered in two scratch lists, deduplicated, then keyed into lists of
  // exactly their size (a list grown by push keeps room for 17: a million accounts would carry it).
  const primary: string[] = [];
  const secondary: string[] = [];
  const key = (n: string) => keyOf(n);
  for (const account of accounts) {
    if (account.suspended) continue;
    const emails = account.emails ?? [];
    primary.length = 0;
    secondary.length = 0;
    // Accounts have a handful of addresses: a linear scan beats a Set; a Set guards huge lists.
    const seen = emails.length > 16 ? new Set<string>() : null;
    for (const e of emails) {
      if (typeof e.email !== "string" || e.primary !== true) continue;
      const n = normalizeEmail(e.email);
      if (n === "" || (seen ? seen.has(n) : primary.includes(n))) continue;
      seen?.add(n);
      primary.push(n);
    }
    if (primary.length < emails.length) {
      for (const e of emails) {
        if (typeof e.email !== "string" || e.primary === true) continue;
        const n = normalizeEmail(e.email);
        if (n === "" || (seen ? seen.has(n) : primary.includes(n) || secondary.includes(n))) continue;
        seen?.add(n);
        secondary.push(n);
      }
    }
    out.push({
      userId: account.userId,
      login: account.login,
      primary: primary.length ? primary.map(key) : NO_KEYS,
      secondary: secondary.length ? secondary.map(key) : NO_KEYS,
    });
  }
  return out;
}
