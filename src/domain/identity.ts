// Accounts -> identity keys. The CLI keys by the normalized e-mail itself; the app passes a keyed hash
// so no address is ever stored. Counting only compares keys, so it never needs to know which.
import type { Account, IdentifiedAccount } from "./types.js";

// Any code unit outside printable ASCII may need NFC; pure ASCII never does (normalize() is costly).
const NEEDS_NFC = /[^\x20-\x7e]/;

/** Trimmed, Unicode NFC, lower-cased. "" means no identity. */
export function normalizeEmail(email: string): string {
  const trimmed = email.trim();
  return (NEEDS_NFC.test(trimmed) ? trimmed.normalize("NFC") : trimmed).toLowerCase();
}

/**
 * Reduces accounts to identity keys. Suspended accounts are dropped (they consume no seat).
 * `primary`: keys of every e-mail marked primary; `secondary`: keys of the other e-mails not already
 * primary. Each distinct normalized address is keyed once per account (keyOf may be an HMAC).
 */
export function identifyAccounts(accounts: Account[], keyOf: (normalizedEmail: string) => string): IdentifiedAccount[] {
  const out: IdentifiedAccount[] = [];
  for (const account of accounts) {
    if (account.suspended) continue;
    const emails = account.emails ?? [];
    // Accounts have a handful of addresses: a linear scan beats a Set; a Set guards odd huge lists.
    const primaryEmails: string[] = [];
    const otherEmails: string[] = [];
    const seen = emails.length > 16 ? new Set<string>() : null;
    for (const e of emails) {
      if (typeof e.email !== "string" || e.primary !== true) continue;
      const n = normalizeEmail(e.email);
      if (n === "" || (seen ? seen.has(n) : primaryEmails.includes(n))) continue;
      seen?.add(n);
      primaryEmails.push(n);
    }
    for (const e of emails) {
      if (typeof e.email !== "string" || e.primary === true) continue;
      const n = normalizeEmail(e.email);
      if (n === "" || (seen ? seen.has(n) : primaryEmails.includes(n) || otherEmails.includes(n))) continue;
      seen?.add(n);
      otherEmails.push(n);
    }
    const primary = primaryEmails.map(keyOf);
    const secondary = otherEmails.map(keyOf);
    out.push({ userId: account.userId, login: account.login, primary, secondary });
  }
  return out;
}
