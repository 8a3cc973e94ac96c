// Validation of a parsed license-usage export, by the contract in shared/export-format.md.
// Hot path: one hand-written loop over users; paths and messages are built only when something is wrong.

import { decodeExport, type ReadLimits } from "./decode.js";
import { describeNumber, typeName } from "./findings.js";
import { lineColumn, syntaxErrorOffset } from "./locate.js";
import type { Account, AccountEmail, Finding, InstanceInfo, ValidationResult } from "./types.js";

/** Errors listed per file; past this, one "… and N more problems" finding. */
export const MAX_ERRORS = 20;
/** Example paths quoted in an aggregated warning. */
export const WARNING_EXAMPLES = 3;

export const ENCRYPTED_USERS_MESSAGE =
  "the user list is encrypted, so it cannot be counted here. Export it unencrypted on the GHES " +
  "appliance's administrative shell: `ghe-license-usage --unencrypted` on GHES 3.12 and older, " +
  "`ghe-license usage --unencrypted` on later versions (see `ghe-license --help`)";

type Dict = Record<string, unknown>;

function isObject(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 5321 caps an address at 254 characters (320 for its parts): anything longer cannot be real. */
export const MAX_EMAIL_LENGTH = 320;

/** Length in code points, as the schema's `maxLength` counts; only computed past the UTF-16 length cap. */
export function tooLongForAnEmail(s: string): boolean {
  if (s.length <= MAX_EMAIL_LENGTH) return false;
  let points = 0;
  for (const _ of s) if (++points > MAX_EMAIL_LENGTH) return true;
  return false;
}

/** Non-blank string: what the schema expresses as `"pattern": "\\S"`. */
function isNonBlank(v: unknown): v is string {
  return typeof v === "string" && v.trim() !== "";
}

class Problems {
  readonly errors: Finding[] = [];
  private more = 0;
  constructor(readonly file: string) {}

  /** True while paths are still worth building. */
  get listing(): boolean {
    return this.errors.length < MAX_ERRORS;
  }

  add(path: string, message: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ file: this.file, path, message });
    else this.more++;
  }

  /** Counts a problem past the cap without building its path. */
  skip(): void {
    this.more++;
  }

  get any(): boolean {
    return this.errors.length > 0;
  }

  list(): Finding[] {
    if (this.more === 0) return this.errors;
    const tail = `… and ${this.more} more ${this.more === 1 ? "problem" : "problems"}`;
    return [...this.errors, { file: this.file, path: "", message: tail }];
  }
}

/** Warnings of one kind, aggregated: a count and the first few paths. */
export class WarningTally {
  count = 0;
  readonly examples: string[] = [];
  readonly details: string[] = [];

  note(path: string, detail = ""): void {
    if (this.count < WARNING_EXAMPLES) {
      this.examples.push(path);
      this.details.push(detail);
    }
    this.count++;
  }

  /** One finding: specific when it happened once, counted with examples otherwise. */
  finding(file: string, one: (detail: string) => string, many: (count: number) => string): Finding | undefined {
    if (this.count === 0) return undefined;
    if (this.count === 1) return { file, path: this.examples[0], message: one(this.details[0]) };
    const more = this.count - this.examples.length;
    const list = this.examples.join(", ") + (more > 0 ? ` and ${more} more` : "");
    return { file, path: "users", message: `${many(this.count)} (${list})` };
  }
}

/** Shows a number only when a number was expected (range problem); otherwise just its type. */
function expected(what: string, got: unknown, numeric = false): string {
  return `expected ${what}, got ${numeric && typeof got === "number" ? describeNumber(got) : typeName(got)}`;
}

function checkRequiredString(p: Problems, obj: Dict, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined) p.add(path, "is missing");
  else if (typeof v !== "string") p.add(path, expected("a string", v));
  else if (v.trim() === "") p.add(path, "is blank");
  else return v;
  return undefined;
}

/**
 * The instance's fields that are only displayed (or ignored): of any other type they are a warning,
 * not a refusal, and read as absent.
 */
export const DISPLAY_ONLY_FIELDS: readonly { key: string; what: string; fits: (v: unknown) => boolean; then: string }[] = [
  { key: "version", what: "a string", fits: (v) => typeof v === "string", then: "ignored: the GHES version is shown as unknown" },
  { key: "http_only", what: "true or false", fits: (v) => typeof v === "boolean", then: "ignored (it is only displayed)" },
  { key: "license", what: "a string", fits: (v) => typeof v === "string", then: "ignored (it is not used)" },
  { key: "public_key", what: "a string", fits: (v) => typeof v === "string", then: "ignored (it is not used)" },
  { key: "features", what: "an array", fits: Array.isArray, then: "ignored (it is not used)" },
];

function displayOnlyWarnings(file: string, instance: Dict, warnings: Finding[]): void {
  for (const { key, what, fits, then } of DISPLAY_ONLY_FIELDS) {
    const v = instance[key];
    if (v !== undefined && v !== null && !fits(v)) warnings.push({ file, path: `instance.${key}`, message: `${expected(what, v)}; ${then}` });
  }
}

function validateInstance(p: Problems, value: unknown, warnings: Finding[]): InstanceInfo | undefined {
  if (value === undefined) {
    p.add("instance", "is missing (the export must describe its GHES instance)");
    return undefined;
  }
  if (!isObject(value)) {
    p.add("instance", expected("an object", value));
    return undefined;
  }
  const serverId = checkRequiredString(p, value, "server_id", "instance.server_id");
  const hostName = checkRequiredString(p, value, "host_name", "instance.host_name");
  const version = value.version;
  const httpOnly = value.http_only;
  displayOnlyWarnings(p.file, value, warnings);
  if (serverId === undefined || hostName === undefined) return undefined;
  const info: InstanceInfo = { serverId, hostName };
  if (typeof version === "string") info.ghesVersion = version;
  if (typeof httpOnly === "boolean") info.httpOnly = httpOnly;
  return info;
}

function checkVersion(p: Problems, v: unknown): void {
  if (v === undefined) p.add("version", "is missing");
  else if (typeof v === "string") {
    if (v.trim() === "") p.add("version", "is blank");
  } else if (typeof v !== "number") p.add("version", expected("a number or a string", v));
}

function checkUsersContainer(p: Problems, users: unknown): users is unknown[] {
  if (Array.isArray(users)) return true;
  if (users === undefined) p.add("users", "is missing (the export must list its users)");
  else if (typeof users === "string" && users.trim() !== "") {
    const pgp = users.trimStart().startsWith("-----BEGIN PGP MESSAGE-----");
    const form = pgp ? " (a PGP message block, as GHES 2.18 and older write it)" : " (a base64 blob)";
    p.add("users", ENCRYPTED_USERS_MESSAGE.replace("encrypted,", `encrypted${form},`));
  } else p.add("users", expected("an array of user records", users));
  return false;
}

/**
 * Merges repeated records into the account holding their user_id, in time linear in the e-mails
 * merged: an account's e-mail list is copied once (it may be shared with the parsed value), then
 * extended in place, with an index of its addresses. Copying and rescanning the list per repeat
 * made one id repeated 20,000 times take 10.8 s.
 */
export class DuplicateMerger {
  private readonly owned = new Map<Account, Map<string, number>>();

  merge(acc: Account, emails: AccountEmail[], suspended: boolean): void {
    acc.suspended = acc.suspended && suspended;
    let index = this.owned.get(acc);
    if (index === undefined) {
      acc.emails = acc.emails.slice();
      index = new Map();
      for (let j = 0; j < acc.emails.length; j++) if (!index.has(acc.emails[j].email)) index.set(acc.emails[j].email, j);
      this.owned.set(acc, index);
    }
    const merged = acc.emails;
    for (let k = 0; k < emails.length; k++) {
      const e = emails[k];
      const j = index.get(e.email);
      if (j === undefined) {
        index.set(e.email, merged.length);
        merged.push(e);
      } else if (e.primary && !merged[j].primary) merged[j] = { email: e.email, primary: true };
    }
  }
}

/**
 * The warnings of a valid set of accounts, worded once for both readers: repeated user_ids (tallied
 * while reading), accounts without a primary e-mail, accounts with several. `firstRecord[k]` is the
 * index in `users` of account k's first record.
 */
export function accountWarnings(file: string, accounts: Account[], firstRecord: number[], duplicates: WarningTally): Finding[] {
  const noPrimary = new WarningTally();
  const severalPrimaries = new WarningTally();
  for (let k = 0; k < accounts.length; k++) {
    const acc = accounts[k];
    if (acc.suspended) continue; // consumes no seat, so matching it does not matter
    let primaries = 0;
    const es = acc.emails;
    for (let j = 0; j < es.length; j++) if (es[j].primary && es[j].email.trim() !== "") primaries++;
    notePrimaries(noPrimary, severalPrimaries, firstRecord[k], primaries);
  }
  return warningsOf(file, duplicates, noPrimary, severalPrimaries);
}

/** Tallies an unsuspended account (first record users[index]) with `primaries` non-blank primary e-mails, for warningsOf. */
export function notePrimaries(noPrimary: WarningTally, severalPrimaries: WarningTally, index: number, primaries: number): void {
  if (primaries === 0) noPrimary.note(`users[${index}]`);
  else if (primaries > 1) severalPrimaries.note(`users[${index}]`, String(primaries));
}

/** accountWarnings' findings from its three tallies (the fast reader keeps them while reading). */
export function warningsOf(file: string, duplicates: WarningTally, noPrimary: WarningTally, severalPrimaries: WarningTally): Finding[] {
  const warnings: Finding[] = [];
  const dup = duplicates.finding(
    file,
    (first) => `repeats the user_id of ${first}; the two records are counted as one account`,
    (count) => `${count} records repeat a user_id already used by an earlier record; each id is counted as one account`,
  );
  if (dup) warnings.push(dup);
  const none = noPrimary.finding(
    file,
    () => "has no primary e-mail, so it cannot be matched and counts as a separate person",
    (count) => `${count} accounts have no primary e-mail, so they cannot be matched and each counts as a separate person`,
  );
  if (none) warnings.push(none);
  const several = severalPrimaries.finding(
    file,
    (count) => `has ${count} e-mails marked primary; each of them is used to match the account`,
    (count) => `${count} accounts have several e-mails marked primary; each of them is used to match the account`,
  );
  if (several) warnings.push(several);
  return warnings;
}

/**
 * Validates a parsed export. Never throws for any JSON value. For speed, `Account.emails` may share
 * the arrays and entries of `value` (entries may then carry the export's extra keys): treat both as
 * read-only.
 */
export function validateExport(value: unknown, file: string): ValidationResult {
  const p = new Problems(file);
  if (!isObject(value)) {
    p.add("", `expected a JSON object at the top level, got ${typeName(value)}`);
    return { ok: false, file, errors: p.list(), warnings: [] };
  }
  checkVersion(p, value.version);
  const instanceWarnings: Finding[] = [];
  const instance = validateInstance(p, value.instance, instanceWarnings);
  const users = value.users;
  if (!checkUsersContainer(p, users)) return { ok: false, file, errors: p.list(), warnings: instanceWarnings };

  const accounts: Account[] = [];
  const firstRecord: number[] = []; // index in users[] of each account's first record
  // user_id -> index in accounts; built lazily, only once the ids stop ascending (usually never).
  let byId: Map<number, number> | undefined;
  let lastId = 0;
  const duplicates = new WarningTally();
  const merger = new DuplicateMerger();

  const n = users.length;
  for (let i = 0; i < n; i++) {
    const u = users[i];
    if (!isObject(u)) {
      if (p.listing) p.add(`users[${i}]`, expected("an object (a user record)", u));
      else p.skip();
      continue;
    }
    let bad = false;

    const id = u.user_id;
    if (!(typeof id === "number" && id > 0 && Number.isSafeInteger(id))) {
      bad = true;
      if (!p.listing) p.skip();
      else if (id === undefined) p.add(`users[${i}].user_id`, "is missing");
      else p.add(`users[${i}].user_id`, expected("a positive whole number", id, true));
    }

    const login = u.login;
    if (!isNonBlank(login)) {
      bad = true;
      if (!p.listing) p.skip();
      else if (login === undefined) p.add(`users[${i}].login`, "is missing");
      else if (typeof login === "string") p.add(`users[${i}].login`, "is blank");
      else p.add(`users[${i}].login`, expected("a string", login));
    }

    const rawEmails = u.emails;
    // Entries already in AccountEmail form (string email, boolean primary) are shared, not copied:
    // allocation of retained objects is what makes validation cost anything next to JSON.parse.
    let emails: AccountEmail[] | undefined;
    if (Array.isArray(rawEmails)) {
      const m = rawEmails.length;
      let copy: AccountEmail[] | undefined;
      for (let j = 0; j < m; j++) {
        const e = rawEmails[j];
        if (!isObject(e)) {
          bad = true;
          if (p.listing) p.add(`users[${i}].emails[${j}]`, expected("an object", e));
          else p.skip();
          continue;
        }
        const email = e.email;
        const primary = e.primary;
        if (typeof email !== "string") {
          bad = true;
          if (!p.listing) p.skip();
          else if (email === undefined) p.add(`users[${i}].emails[${j}].email`, "is missing");
          else p.add(`users[${i}].emails[${j}].email`, expected("a string", email));
        } else if (tooLongForAnEmail(email)) {
          bad = true;
          if (p.listing) p.add(`users[${i}].emails[${j}].email`, `is longer than ${MAX_EMAIL_LENGTH} characters, too long to be an e-mail address`);
          else p.skip();
        }
        if (typeof primary === "boolean") {
          if (copy !== undefined) copy.push(e as unknown as AccountEmail);
        } else if (primary === undefined || primary === null) {
          if (bad) continue;
          if (copy === undefined) copy = (rawEmails as AccountEmail[]).slice(0, j);
          copy.push({ email: email as string, primary: false });
        } else {
          bad = true;
          if (p.listing) p.add(`users[${i}].emails[${j}].primary`, expected("true or false", primary));
          else p.skip();
        }
      }
      emails = copy ?? (rawEmails as AccountEmail[]);
    } else if (rawEmails !== undefined && rawEmails !== null) {
      bad = true;
      if (p.listing) p.add(`users[${i}].emails`, expected("an array", rawEmails));
      else p.skip();
    }

    const suspendedFlag = u.suspended;
    if (suspendedFlag !== undefined && suspendedFlag !== null && typeof suspendedFlag !== "boolean") {
      bad = true;
      if (p.listing) p.add(`users[${i}].suspended`, expected("true or false", suspendedFlag));
      else p.skip();
    }

    if (bad) continue;
    const userId = id as number;
    const suspended = suspendedFlag === true || (u.suspended_at !== undefined && u.suspended_at !== null);

    if (byId === undefined && userId > lastId) {
      lastId = userId;
    } else {
      if (byId === undefined) {
        byId = new Map();
        for (let k = 0; k < accounts.length; k++) byId.set(accounts[k].userId, k);
      }
      const at = byId.get(userId);
      if (at !== undefined) {
        duplicates.note(`users[${i}].user_id`, `users[${firstRecord[at]}]`);
        merger.merge(accounts[at], emails ?? [], suspended);
        continue;
      }
      byId.set(userId, accounts.length);
    }
    accounts.push({ userId, login: login as string, emails: emails ?? [], suspended });
    firstRecord.push(i);
  }

  const warnings = [...instanceWarnings, ...accountWarnings(file, accounts, firstRecord, duplicates)];

  if (p.any || instance === undefined) return { ok: false, file, errors: p.list(), warnings };
  return { ok: true, export: { file, instance, accounts, warnings } };
}

/** JSON text to a value, or a refusal with the line and column of the syntax error. */
export function parseExportText(
  text: string,
  file: string,
): { ok: true; value: unknown } | { ok: false; errors: Finding[] } {
  // Text pasted or read elsewhere may still carry a BOM; decodeExport already strips it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, errors: [{ file, path: "", message: describeParseError(text, e) }] };
  }
}

// V8's reasons that carry no file content (the "Unexpected token 'x', "…" is not valid JSON" form does).
const SAFE_REASON = /^[A-Za-z ,':\-[\]{}]{1,60}$/;

function describeParseError(text: string, e: unknown): string {
  if (e instanceof RangeError) return "is not valid JSON: nested too deeply to read";
  const msg = e instanceof Error ? e.message : "";
  if (msg.startsWith("Unexpected end of JSON input") || text.trim() === "") {
    const at = lineColumn(text, text.length);
    return text.trim() === ""
      ? "is empty, not a JSON export"
      : `is not valid JSON: it ends too early at line ${at.line}, column ${at.column} (truncated?)`;
  }
  const m = /^(.*?)(?: in JSON)? at position (\d+)/.exec(msg);
  let offset: number;
  let reason = "unexpected character";
  if (m !== null) {
    offset = Number(m[2]);
    if (SAFE_REASON.test(m[1])) reason = m[1].charAt(0).toLowerCase() + m[1].slice(1);
  } else {
    offset = syntaxErrorOffset(text);
  }
  if (offset < 0) return "is not valid JSON";
  if (offset >= text.length) {
    const at = lineColumn(text, text.length);
    return `is not valid JSON: it ends too early at line ${at.line}, column ${at.column} (truncated?)`;
  }
  const at = lineColumn(text, offset);
  return `is not valid JSON: ${reason} at line ${at.line}, column ${at.column}`;
}

/** Bytes to a validated export: decode (gzip, size cap, UTF-8), parse, validate. */
export function readExport(bytes: Uint8Array, file: string, limits: ReadLimits): ValidationResult {
  const decoded = decodeExport(bytes, file, limits);
  if (!decoded.ok) return { ok: false, file, errors: decoded.errors, warnings: [] };
  const parsed = parseExportText(decoded.text, file);
  if (!parsed.ok) return { ok: false, file, errors: parsed.errors, warnings: [] };
  return validateExport(parsed.value, file);
}
