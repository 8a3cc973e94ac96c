// The GHEC license report (shared/ghec-license-report.md): the CSV an owner downloads from the
// enterprise's licensing page, or the JSON of the consumed-licenses API (one page or an array of
// pages). Read into cloud members and their identity keys; plain domain, no I/O.
import { Buffer } from "node:buffer";
import { gunzipSync } from "node:zlib";
import { ByteKeys, type HashedKeys } from "./byte-keys.js";
import { checkExportBytes, decodeExport, type ReadLimits } from "./decode.js";
import { readExportFast, readExportIdentified } from "./fast-read.js";
import { loginKey } from "./count.js";
import { typeName } from "./findings.js";
import { Floats, Ints } from "./growable.js";
import { normalizeEmail } from "./identity.js";
import type { Finding, IdentifiedResult, ValidationResult } from "./types.js";
import { MAX_ERRORS, parseExportText } from "./validate.js";

/** A GitHub-side link to a GHES account: `host:id` of `enterprise_server_user_ids`. */
export interface CloudLink {
  /** Trimmed, lower-cased, trailing dot dropped. */
  host: string;
  userId: number;
}

export interface CloudMember {
  /** github_com_login trimmed ("" when blank). */
  login: string;
  /** Verified-domain e-mails and the SAML NameID, normalized like a GHES e-mail, deduplicated. */
  keys: string[];
  links: CloudLink[];
  /** license_type contains "visual studio" (any case). */
  visualStudio: boolean;
}

export interface CloudReport {
  file: string;
  format: "csv" | "json";
  /** Rows with github_com_user true, in file order. A CSV's are built from `columns` on first use. */
  members: CloudMember[];
  /** A CSV's members without an object each (not enumerable): what the enterprise count reads. */
  readonly columns?: CloudMemberColumns;
  /** total_seats_consumed (JSON, first page), or the rows whose license_type is "enterprise" (CSV). */
  reportedSeats: number | null;
  /** Hosts named by any well-formed enterprise_server_user_ids item of any row; normalized, unique, sorted. */
  linkedHosts: string[];
  /** Rows (CSV) or user records (JSON) read, members or not. */
  rows: number;
  warnings: Finding[];
}

export type CloudReadResult =
  | { ok: true; report: CloudReport }
  | { ok: false; file: string; errors: Finding[]; warnings: Finding[] };

export type UploadRead = { kind: "export"; result: ValidationResult } | { kind: "cloud"; result: CloudReadResult };

/** `.csv` / `.csv.gz` by name: the contract recognizes a CSV report by its name alone. */
export function isCsvName(file: string): boolean {
  const name = file.toLowerCase();
  return name.endsWith(".csv") || name.endsWith(".csv.gz");
}

/** Normalizes a host the contract's way: trimmed, lower-cased, one trailing dot dropped. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase();
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

// ---- recognition -----------------------------------------------------------------------------

const CLOUD_MARKERS = [Buffer.from('"total_seats_consumed"'), Buffer.from('"github_com_')];

/**
 * Decodes (gzip, BOM, size cap as decodeExport does), recognizes and reads either kind of file.
 * GHES exports go through readExportFast untouched: a cloud report is told apart by its first byte
 * (`[`) or by a native substring search for its key names, so exports pay no second parse.
 */
export function readUpload(bytes: Uint8Array, file: string, limits: ReadLimits): UploadRead {
  return readEither(bytes, file, limits, (b) => readExportFast(b, file, limits));
}

/** readUpload, an export read straight to its accounts' identities (readExportIdentified): what counting and recording need. */
export function readUploadIdentified(bytes: Uint8Array, file: string, limits: ReadLimits, keyOf: (normalizedEmail: string) => string): IdentifiedUploadRead {
  return readEither(bytes, file, limits, (b) => readExportIdentified(b, file, limits, keyOf));
}

export type IdentifiedUploadRead = { kind: "export"; result: IdentifiedResult } | { kind: "cloud"; result: CloudReadResult };

/** readUpload with the given reader of an export's bytes (gunzipped or not: it must take either). */
export function readUploadWith<R>(bytes: Uint8Array, file: string, limits: ReadLimits, readExportBytes: (b: Uint8Array) => R): { kind: "export"; result: R } | { kind: "cloud"; result: CloudReadResult } {
  return readEither(bytes, file, limits, readExportBytes);
}

function readEither<R>(bytes: Uint8Array, file: string, limits: ReadLimits, readExportBytes: (b: Uint8Array) => R): { kind: "export"; result: R } | { kind: "cloud"; result: CloudReadResult } {
  if (isCsvName(file)) return { kind: "cloud", result: readCsvUpload(bytes, file, limits) };
  let raw: Buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw, { maxOutputLength: Math.max(1, limits.maxBytes) });
    } catch {
      return { kind: "export", result: readExportBytes(bytes) }; // words the size or damage
    }
  }
  if (!mayBeCloud(raw)) return { kind: "export", result: readExportBytes(raw) };
  const decoded = decodeExport(raw, file, limits);
  if (!decoded.ok) return { kind: "export", result: readExportBytes(raw) };
  const parsed = parseExportText(decoded.text, file);
  if (!parsed.ok || !isCloudDocument(parsed.value)) return { kind: "export", result: readExportBytes(raw) };
  const value = parsed.value;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return { kind: "cloud", result: { ok: false, file, errors: [{ file, path: "", message: "is an empty array: a report has at least one page" }], warnings: [] } };
    }
    return { kind: "cloud", result: readPages(value, file, true) };
  }
  return { kind: "cloud", result: readPages([value], file, false) };
}

/** readUpload of a file named as a CSV report (see isCsvName): always read as one. */
export function readCsvUpload(bytes: Uint8Array, file: string, limits: ReadLimits): CloudReadResult {
  const checked = checkExportBytes(bytes, file, limits);
  if (!checked.ok) return { ok: false, file, errors: checked.errors, warnings: [] };
  return readCloudCsvBytes(checked.bytes, file);
}

function mayBeCloud(raw: Buffer): boolean {
  let i = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  while (i < raw.length && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)) i++;
  if (raw[i] === 0x5b /* [ */) return true;
  return CLOUD_MARKERS.some((m) => raw.indexOf(m) !== -1);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The contract's test: an array of objects, or an object with total_seats_consumed, or users records with github_com_login / github_com_user. */
export function isCloudDocument(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(isObject);
  if (!isObject(value)) return false;
  if (Object.hasOwn(value, "total_seats_consumed")) return true;
  const users = value.users;
  return Array.isArray(users) && users.some((u) => isObject(u) && (Object.hasOwn(u, "github_com_login") || Object.hasOwn(u, "github_com_user")));
}

// ---- shared building blocks ------------------------------------------------------------------

class Problems {
  readonly errors: Finding[] = [];
  private more = 0;
  constructor(readonly file: string) {}
  add(path: string, message: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ file: this.file, path, message });
    else this.more++;
  }
  get any(): boolean {
    return this.errors.length > 0;
  }
  list(): Finding[] {
    if (this.more === 0) return this.errors;
    return [...this.errors, { file: this.file, path: "", message: `… and ${this.more} more ${this.more === 1 ? "problem" : "problems"}` }];
  }
}

/** Malformed enterprise_server_user_ids items: counted for one warning naming the first places. */
class BadLinks {
  count = 0;
  private readonly places: string[] = [];
  private last = "";
  private more = 0;

  add(where: string): void {
    this.count++;
    if (where === this.last) return;
    this.last = where;
    if (this.places.length < 3) this.places.push(where);
    else this.more++;
  }

  warnings(file: string): Finding[] {
    if (this.count === 0) return [];
    const more = this.more;
    const where = this.places.join(", ") + (more > 0 ? ` and ${more} more ${more === 1 ? "place" : "places"}` : "");
    const message =
      this.count === 1
        ? `an enterprise_server_user_ids item is not host:id (a host name, a colon, a user id) and was ignored (${where})`
        : `${this.count} enterprise_server_user_ids items are not host:id (a host name, a colon, a user id) and were ignored (${where})`;
    return [{ file, path: "", message }];
  }
}

/** Collects members, links and hosts from rows of either form (JSON; and CSV the text reader refuses). */
class Builder {
  readonly members: CloudMember[] = [];
  private readonly hosts = new Set<string>();
  private readonly badLinks = new BadLinks();
  /** Each host once: a report names a handful of hosts in hundreds of thousands of links. */
  private readonly hostOf = new Map<string, string>();
  private readonly scratch: CloudLink[] = [];
  rows = 0;

  constructor(readonly file: string) {}

  /** `host:id` items; malformed ones are counted for one warning. Returns the links. */
  links(items: string[], place: number | (() => string)): CloudLink[] {
    const out = this.scratch;
    out.length = 0;
    for (const item of items) {
      const link = parseLink(item);
      if (link === null) {
        if (item.trim() !== "") this.badLinks.add(typeof place === "number" ? `line ${place}` : place());
        continue;
      }
      const host = this.hostOf.get(link.host);
      if (host === undefined) {
        this.hostOf.set(link.host, link.host);
        this.hosts.add(link.host);
      } else link.host = host;
      out.push(link);
    }
    // a copy of exactly its size: a list grown by push keeps room for 17, for every member
    return out.length === 0 ? NO_LINKS : out.slice();
  }

  member(login: string, keyItems: string[], links: CloudLink[], licenseType: string): void {
    this.members.push({ login: login.trim(), keys: keysOf(keyItems), links, visualStudio: isVisualStudio(licenseType) });
  }

  warnings(): Finding[] {
    return this.badLinks.warnings(this.file);
  }

  linkedHosts(): string[] {
    return [...this.hosts].sort();
  }
}

const NO_LINKS = Object.freeze([]) as unknown as CloudLink[];

/** `host:id`, the id after the last colon, a positive integer; null when malformed. */
export function parseLink(item: string): CloudLink | null {
  const at = item.lastIndexOf(":");
  if (at <= 0) return null;
  const host = normalizeHost(item.slice(0, at));
  const idText = item.slice(at + 1).trim();
  if (host === "" || idText.length === 0 || idText.length > 15) return null;
  for (let i = 0; i < idText.length; i++) {
    const c = idText.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  const userId = Number(idText);
  return userId > 0 ? { host, userId } : null;
}

const scratchKeys: string[] = [];

/** Normalized, deduplicated; a list of exactly its size (one grown by push keeps room for 17, for every member). */
function keysOf(items: string[]): string[] {
  const out = scratchKeys;
  out.length = 0;
  // a list of many items is deduplicated through a set, so that a hostile cell stays linear
  const seen = items.length > FEW_KEYS ? new Set<string>() : null;
  for (const item of items) {
    const k = normalizeEmail(item);
    if (k === "") continue;
    if (seen === null ? !out.includes(k) : !seen.has(k)) out.push(k);
    seen?.add(k);
  }
  return out.slice();
}

/** Keys of one member compared pairwise up to this many; past it, through a set. */
const FEW_KEYS = 16;

function isVisualStudio(licenseType: string): boolean {
  return licenseType.length >= 13 && licenseType.toLowerCase().includes("visual studio");
}

// ---- CSV -------------------------------------------------------------------------------------

const enum Col {
  Ignore = 0,
  Login,
  User,
  Emails,
  Saml,
  License,
  Ids,
}

const COLUMNS: Record<string, Col> = {
  github_com_login: Col.Login,
  github_com_user: Col.User,
  github_com_verified_domain_emails: Col.Emails,
  github_com_saml_name_id: Col.Saml,
  license_type: Col.License,
  enterprise_server_user_ids: Col.Ids,
};

/** Trimmed, lower-cased, runs of white space and hyphens to one `_`; then the contract's aliases. */
export function normalizeHeader(name: string): string {
  const t = name.trim().toLowerCase();
  let out = "";
  let gap = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x20 || c === 0x2d || c === 0x09 || c === 0xa0) {
      gap = true;
      continue;
    }
    if (gap) out += "_";
    gap = false;
    out += t[i];
  }
  if (out.startsWith("github_") && !out.startsWith("github_com_")) out = "github_com_" + out.slice(7);
  if (out === "github_com_saml_name") out = "github_com_saml_name_id";
  return out;
}

/** The header's normalized names and each column's role (a repeated name counts once); `missing` words a header the reader refuses. */
function readHeader(cells: string[]): { names: string[]; roles: Col[]; missing: string | null } {
  const names = cells.map(normalizeHeader);
  const roles = names.map(() => Col.Ignore);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const role = Object.hasOwn(COLUMNS, name) ? COLUMNS[name] : undefined;
    if (role !== undefined && !seen.has(name)) roles[i] = role;
    seen.add(name);
  });
  const missing: string[] = [];
  if (!roles.includes(Col.User)) missing.push("github_com_user");
  if (!roles.includes(Col.Emails) && !roles.includes(Col.Saml) && !roles.includes(Col.Ids)) {
    missing.push("one of github_com_verified_domain_emails, github_com_saml_name_id, enterprise_server_user_ids");
  }
  const why = missing.length === 0 ? null : `the header lacks ${missing.join(" and ")}: is this GitHub's license report (Enterprise licensing → Export license usage)?`;
  return { names, roles, missing: why };
}

/** Splits a list cell on commas, semicolons and white space. */
export function splitList(cell: string, into: string[] = []): string[] {
  let start = -1;
  for (let i = 0; i <= cell.length; i++) {
    const c = i < cell.length ? cell.charCodeAt(i) : 0x2c;
    const sep = c === 0x2c || c === 0x3b || c <= 0x20 || c === 0xa0;
    if (sep) {
      if (start !== -1) into.push(cell.slice(start, i));
      start = -1;
    } else if (start === -1) start = i;
  }
  return into;
}

const NO_ITEMS = Object.freeze([]) as unknown as string[];

/** true / false, or null when the cell is none of the contract's spellings. */
function parseBoolean(cell: string): boolean | null {
  if (cell.length === 0) return false;
  if (cell.length > 5) return null;
  switch (cell.toLowerCase()) {
    case "true":
    case "yes":
    case "1":
      return true;
    case "false":
    case "no":
    case "0":
      return false;
    default:
      return null;
  }
}

/**
 * RFC 4180 text (BOM already stripped by decoding, or stripped here) to a cloud report. One linear pass.
 * The reference reader: readCloudCsvBytes reads from the bytes and leaves every refusal to this one.
 */
export function readCloudCsv(text: string, file: string): CloudReadResult {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const p = new Problems(file);
  const b = new Builder(file);
  const n = text.length;
  let pos = 0;
  let line = 1;
  // Native searches, cached until passed: each stretch of text is searched once.
  let nextComma = -1;
  let nextNewline = -1;

  let header: string[] | null = null;
  let roles: Col[] = [];
  let width = 0;
  const cells: string[] = [];
  let userCol = -1;
  let licenseCol = -1;
  let reported = 0;
  const keyItems: string[] = [];
  const listItems: string[] = [];

  while (pos < n) {
    const rowLine = line;
    // A blank line (a trailing one, or one left in between) is no row.
    const first = text.charCodeAt(pos);
    if (first === 0x0a || (first === 0x0d && text.charCodeAt(pos + 1) === 0x0a)) {
      pos += first === 0x0a ? 1 : 2;
      line++;
      continue;
    }
    let count = 0;
    let broken: string | null = null;
    // One record: cells until an unquoted line end or the end of the text.
    for (;;) {
      let value: string | undefined;
      let end: number;
      if (text.charCodeAt(pos) === 0x22) {
        // Quoted cell: up to the quote not followed by another quote.
        let from = pos + 1;
        let parts: string | null = null;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1) {
            broken = "a quoted cell is never closed (a quote inside a cell is written as two quotes)";
            end = n;
            break;
          }
          // line breaks inside the cell, through the shared newline cache (stays linear)
          for (let scan = from; ; ) {
            if (nextNewline < scan) nextNewline = indexOrEnd(text, "\n", scan);
            if (nextNewline >= q) break;
            line++;
            scan = nextNewline + 1;
          }
          if (text.charCodeAt(q + 1) === 0x22) {
            parts = (parts ?? "") + text.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          if (header === null || roles[count] !== Col.Ignore) value = parts === null ? text.slice(pos + 1, q) : parts + text.slice(from, q);
          end = q + 1;
          break;
        }
        if (broken !== null) break;
        const c = text.charCodeAt(end);
        if (end < n && c !== 0x2c && c !== 0x0a && !(c === 0x0d && text.charCodeAt(end + 1) === 0x0a)) {
          broken = "text after a quoted cell's closing quote (a quote inside a cell is written as two quotes)";
          break;
        }
      } else {
        if (nextComma < pos) nextComma = indexOrEnd(text, ",", pos);
        if (nextNewline < pos) nextNewline = indexOrEnd(text, "\n", pos);
        end = nextComma < nextNewline ? nextComma : nextNewline;
        if (header === null || roles[count] !== Col.Ignore) {
          const stop = end === nextNewline && end > pos && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
          value = text.slice(pos, stop);
        }
      }
      if (header === null) cells.push(value!);
      else if (count < width && value !== undefined) cells[count] = value.trim();
      count++;
      if (end >= n) {
        pos = n;
        break;
      }
      const c = text.charCodeAt(end);
      if (c === 0x2c) {
        pos = end + 1;
        continue;
      }
      // a line end: \n, or \r\n after a quoted cell
      pos = end + (c === 0x0d ? 2 : 1);
      line++;
      break;
    }
    if (broken !== null) {
      p.add(`line ${rowLine}`, broken);
      break; // the rest of the file cannot be split reliably
    }

    if (header === null) {
      const h = readHeader(cells);
      header = h.names;
      roles = h.roles;
      width = header.length;
      userCol = roles.indexOf(Col.User);
      licenseCol = roles.indexOf(Col.License);
      if (h.missing !== null) {
        p.add("line 1", h.missing);
        break;
      }
      cells.length = width;
      cells.fill("");
      continue;
    }
    if (count !== width) {
      p.add(`line ${rowLine}`, `${count} ${count === 1 ? "cell" : "cells"}, the header has ${width}`);
      cells.fill("");
      continue;
    }
    b.rows++;
    const isUser = parseBoolean(cells[userCol]!);
    if (isUser === null) p.add(`line ${rowLine}`, `${header[userCol]}: expected true/false, yes/no or 1/0`);
    let links = NO_LINKS;
    let login = "";
    let license = "";
    keyItems.length = 0;
    for (let c = 0; c < width; c++) {
      const cell = cells[c]!;
      switch (roles[c]) {
        case Col.Ids:
          if (cell !== "") {
            listItems.length = 0;
            links = b.links(splitList(cell, listItems), rowLine);
          }
          break;
        case Col.Emails:
          if (cell !== "") splitList(cell, keyItems);
          break;
        case Col.Saml:
          if (cell !== "") keyItems.push(cell);
          break;
        case Col.Login:
          login = cell;
          break;
        case Col.License:
          license = cell;
          break;
        default:
      }
      cells[c] = "";
    }
    if (licenseCol !== -1 && license.length === 10 && license.toLowerCase() === "enterprise") reported++;
    if (isUser === true && !p.any) b.member(login, keyItems, links, license);
  }

  if (header === null) p.add("", "is empty: expected a header row (GitHub's license report as CSV)");
  if (p.any) return { ok: false, file, errors: p.list(), warnings: b.warnings() };
  const report: CloudReport = {
    file,
    format: "csv",
    members: b.members,
    reportedSeats: licenseCol === -1 ? null : reported,
    linkedHosts: b.linkedHosts(),
    rows: b.rows,
    warnings: b.warnings(),
  };
  return { ok: true, report };
}

function indexOrEnd(text: string, needle: string, from: number): number {
  const i = text.indexOf(needle, from);
  return i === -1 ? text.length : i;
}

// ---- CSV from its bytes ------------------------------------------------------------------------

/**
 * A report's members without an object each: a CSV's 300,000 rows as a handful of arrays, which the
 * enterprise count reads. Keys and logins are byte ranges of the report, made into strings only when
 * asked for (the strings die young instead of being copied by the collector for as long as the report
 * lives); what is no plain ASCII range is kept as a string in `texts`.
 */
export interface CloudMemberColumns {
  readonly count: number;
  /** The report's bytes, which the ranges index. */
  readonly bytes: Uint8Array;
  readonly texts: string[];
  /** Member j's keys are keyStart[j] .. keyStart[j + 1] - 1: in the order read, each once. */
  readonly keyStart: Int32Array;
  /** A key: bytes [keyFrom, keyTo) of printable ASCII, lower-cased when keyUpper; or, when keyFrom < 0, texts[-1 - keyFrom], normalized. */
  readonly keyFrom: Int32Array;
  readonly keyTo: Int32Array;
  readonly keyUpper: Uint8Array;
  /** Each member's login, trimmed, the same way (a text is as exported, not lower-cased). */
  readonly loginFrom: Int32Array;
  readonly loginTo: Int32Array;
  readonly loginUpper: Uint8Array;
  /** Member j's links are linkStart[j] .. linkStart[j + 1] - 1: hosts[linkHost[l]], linkUserId[l]. */
  readonly linkStart: Int32Array;
  readonly linkHost: Int32Array;
  readonly linkUserId: Float64Array;
  readonly hosts: string[];
  readonly visualStudio: Uint8Array;
  /**
   * Optional (set by the report's worker thread, see equalKeys): keyFirst[k], the first key equal
   * to key k (as columnKey's strings compare); keyFirst[k] === k for a key's first occurrence.
   */
  keyFirst?: Int32Array;
  /**
   * Optional (set with keyFirst, see prepareLookups): the distinct keys (record key: the first k of
   * each; every range's key among them), and the members' logins that are non-empty ranges (record
   * key: j), hashed for the report's key tables (see ByteKeys.getHashedMany).
   */
  keyHashes?: HashedKeys;
  loginHashes?: HashedKeys;
}

/** The seeds of the tables the members' keys and logins are looked up in (ReportKeys' hashSeed). */
export interface LookupSeeds {
  emails: number;
  logins: number;
}

/**
 * What the enterprise count needs of the members before it looks them up, worked out where it costs
 * the main thread nothing (the report's worker thread): keyFirst (see equalKeys) and, with `seeds`,
 * keyHashes and loginHashes, so the count only probes the tables. The count's answers are the same.
 */
export function prepareLookups(c: CloudMemberColumns, seeds?: LookupSeeds): void {
  // the keys' own table, seeded as the report's: its hashes are the ones the count needs
  const { keyFirst, table, firstOfId } = internKeys(c, seeds?.emails);
  c.keyFirst = keyFirst;
  if (seeds === undefined) return;
  const hashed = table.hashedKeys(firstOfId);
  if (hashed === null) return; // a table given up for a Map (hostile keys): looked up as they are
  c.keyHashes = hashed;
  const { bytes, loginFrom, loginTo } = c;
  // a text or no login: none to hash (the count looks a text up by its string)
  const from = new Int32Array(loginFrom.length);
  for (let j = 0; j < from.length; j++) {
    const f = loginFrom[j]!;
    from[j] = f >= 0 && f < loginTo[j]! ? f : -1;
  }
  c.loginHashes = ByteKeys.hashRanges(seeds.logins, bytes, from, loginTo, true);
}

/**
 * keyFirst of the columns (see CloudMemberColumns.keyFirst): the keys interned by their bytes
 * (folded as columnKey lower-cases a range; a text by its string), no string per range.
 */
export function equalKeys(c: CloudMemberColumns): Int32Array {
  return internKeys(c).keyFirst;
}

/** equalKeys, with the table of the keys (seeded with `seed` when given) and each id's first key. */
function internKeys(c: CloudMemberColumns, seed?: number): { keyFirst: Int32Array; table: ByteKeys; firstOfId: Int32Array } {
  const { bytes, keyFrom, keyTo } = c;
  const n = keyFrom.length;
  const table = seed === undefined ? new ByteKeys(n) : new ByteKeys(n, seed);
  // recorded, then interned all at once (see ByteKeys.defer): ticket k is key k
  table.defer();
  for (let k = 0; k < n; k++) {
    const from = keyFrom[k]!;
    // a range is printable ASCII, lower-cased by columnKey where keyUpper: folding is the same
    if (from >= 0) table.idOfBytes(bytes, from, keyTo[k]!, true);
    else table.idOf(columnKey(c, k));
  }
  const ids = table.resolve();
  const first = new Int32Array(table.size).fill(-1);
  const keyFirst = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const id = ids[k]!;
    if (first[id] === -1) first[id] = k;
    keyFirst[k] = first[id]!;
  }
  return { keyFirst, table, firstOfId: first };
}

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string };

const asBuffer = (b: Uint8Array): Latin1Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)) as Latin1Buffer;

let lowered = Buffer.allocUnsafe(256) as Latin1Buffer;

/** Bytes [from, to) of ASCII as a string, lower-cased when asked: one string, none in between. */
function asciiText(b: Latin1Buffer, from: number, to: number, lower: boolean): string {
  if (!lower) return b.latin1Slice(from, to);
  const len = to - from;
  if (lowered.length < len) lowered = Buffer.allocUnsafe(len * 2) as Latin1Buffer;
  for (let i = 0; i < len; i++) {
    const c = b[from + i]!;
    lowered[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return lowered.latin1Slice(0, len);
}

/** Key k of the columns, normalized like a GHES e-mail. */
export function columnKey(c: CloudMemberColumns, k: number): string {
  const from = c.keyFrom[k]!;
  return from < 0 ? c.texts[-1 - from]! : asciiText(c.bytes as Latin1Buffer, from, c.keyTo[k]!, c.keyUpper[k] === 1);
}

/** Member j's login, trimmed. */
export function columnLogin(c: CloudMemberColumns, j: number): string {
  const from = c.loginFrom[j]!;
  return from < 0 ? c.texts[-1 - from]! : asciiText(c.bytes as Latin1Buffer, from, c.loginTo[j]!, false);
}

/** loginKey of member j's login. */
export function columnLoginKey(c: CloudMemberColumns, j: number): string {
  const from = c.loginFrom[j]!;
  return from < 0 ? loginKey(c.texts[-1 - from]!) : asciiText(c.bytes as Latin1Buffer, from, c.loginTo[j]!, c.loginUpper[j] === 1);
}

const columnsOfMembers = new WeakMap<readonly CloudMember[], CloudMemberColumns>();

/** The report's members as columns: a CSV's own, or made from member objects (JSON, the ledger's stored members; kept per list, which is never changed once read). */
export function memberColumns(report: CloudReport): CloudMemberColumns {
  if (report.columns) return report.columns;
  const members = report.members;
  const known = columnsOfMembers.get(members);
  if (known) return known;
  const count = members.length;
  const texts: string[] = [];
  const keyStart = new Int32Array(count + 1);
  const keyFrom: number[] = [];
  const loginFrom = new Int32Array(count);
  const linkStart = new Int32Array(count + 1);
  const linkHost: number[] = [];
  const linkUserId: number[] = [];
  const hosts: string[] = [];
  const hostIndex = new Map<string, number>();
  const visualStudio = new Uint8Array(count);
  for (let j = 0; j < count; j++) {
    const m = members[j]!;
    keyStart[j] = keyFrom.length;
    for (const k of m.keys) keyFrom.push(-texts.push(k));
    loginFrom[j] = -texts.push(m.login);
    linkStart[j] = linkHost.length;
    for (const l of m.links) {
      let h = hostIndex.get(l.host);
      if (h === undefined) {
        h = hosts.push(l.host) - 1;
        hostIndex.set(l.host, h);
      }
      linkHost.push(h);
      linkUserId.push(l.userId);
    }
    if (m.visualStudio) visualStudio[j] = 1;
  }
  keyStart[count] = keyFrom.length;
  linkStart[count] = linkHost.length;
  const columns: CloudMemberColumns = {
    count,
    bytes: Buffer.alloc(0),
    texts,
    keyStart,
    keyFrom: Int32Array.from(keyFrom),
    keyTo: new Int32Array(keyFrom.length),
    keyUpper: new Uint8Array(keyFrom.length),
    loginFrom,
    loginTo: new Int32Array(count),
    loginUpper: new Uint8Array(count),
    linkStart,
    linkHost: Int32Array.from(linkHost),
    linkUserId: Float64Array.from(linkUserId),
    hosts,
    visualStudio,
  };
  columnsOfMembers.set(members, columns);
  return columns;
}

/** Member objects from columns, as the text reader builds them (lists of exactly their size). */
function memberObjects(c: CloudMemberColumns): CloudMember[] {
  const out = new Array<CloudMember>(c.count);
  const keys: string[] = [];
  const hostLinks = c.hosts;
  for (let j = 0; j < c.count; j++) {
    keys.length = 0;
    for (let k = c.keyStart[j]!; k < c.keyStart[j + 1]!; k++) keys.push(columnKey(c, k));
    const first = c.linkStart[j]!;
    const end = c.linkStart[j + 1]!;
    let links = NO_LINKS;
    if (end > first) {
      links = new Array<CloudLink>(end - first);
      for (let l = first; l < end; l++) links[l - first] = { host: hostLinks[c.linkHost[l]!]!, userId: c.linkUserId[l]! };
    }
    out[j] = { login: columnLogin(c, j), keys: keys.slice(), links, visualStudio: c.visualStudio[j] === 1 };
  }
  return out;
}

/** A CSV report whose members are made from its columns when first asked for. */
function csvReport(file: string, columns: CloudMemberColumns, fields: Pick<CloudReport, "reportedSeats" | "linkedHosts" | "rows" | "warnings">): CloudReport {
  const report = { file, format: "csv", members: NO_MEMBERS, ...fields } as CloudReport;
  let members: CloudMember[] | null = null;
  Object.defineProperty(report, "members", {
    enumerable: true,
    configurable: true,
    get: () => (members ??= memberObjects(columns)),
    // members set from outside: the columns no longer describe them
    set: (value: CloudMember[]) => {
      Object.defineProperty(report, "members", { value, writable: true, enumerable: true, configurable: true });
      Object.defineProperty(report, "columns", { value: undefined });
    },
  });
  Object.defineProperty(report, "columns", { value: columns, enumerable: false, configurable: true });
  return report;
}

const NO_MEMBERS = Object.freeze([]) as unknown as CloudMember[];

/** A CloudReadResult as plain data for another thread (structured clone), and the buffers of its columns to transfer rather than copy. */
export interface CloudReadMessage {
  read: CloudReadResult | { ok: true; columns: CloudMemberColumns; file: string; fields: Pick<CloudReport, "reportedSeats" | "linkedHosts" | "rows" | "warnings"> };
  transfer: ArrayBuffer[];
}

export function cloudReadToMessage(read: CloudReadResult): CloudReadMessage {
  const columns = read.ok ? read.report.columns : undefined;
  if (!read.ok || columns === undefined) return { read, transfer: [] };
  const { file, reportedSeats, linkedHosts, rows, warnings } = read.report;
  const transfer = new Set<ArrayBuffer>();
  const views = [...Object.values(columns), ...Object.values(columns.keyHashes ?? {}), ...Object.values(columns.loginHashes ?? {})];
  for (const v of views) {
    // Node's small Buffers share a pool, which cannot be transferred: those are copied
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && !(Buffer.isBuffer(v) && v.byteLength < 4096)) transfer.add(v.buffer);
  }
  return { read: { ok: true, columns: { ...columns }, file, fields: { reportedSeats, linkedHosts, rows, warnings } }, transfer: [...transfer] };
}

/** cloudReadToMessage's read, as received (cloned), back to the CloudReadResult it was made from. */
export function cloudReadFromMessage(read: CloudReadMessage["read"]): CloudReadResult {
  if (!read.ok || !("columns" in read)) return read;
  const c = read.columns;
  return { ok: true, report: csvReport(read.file, { ...c, bytes: asBuffer(c.bytes) }, read.fields) };
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;

/** What follows a cell: another cell, the end of the record, or nothing readable. */
const MORE = 0;
const END = 1;
const BROKEN = 2;

/** ASCII white space that String.prototype.trim removes. */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** RFC 4180 cells of bytes, one at a time: the cell's content is [from, to), its quotes doubled when `escaped`. */
class Cells {
  pos = 0;
  line = 1;
  from = 0;
  to = 0;
  escaped = false;
  constructor(private readonly b: Uint8Array) {}

  /** Reads the cell at pos and moves past what follows it (a comma or a line end). */
  next(): number {
    const b = this.b;
    const n = b.length;
    const pos = this.pos;
    if (pos < n && b[pos] === QUOTE) return this.quoted();
    let i = pos;
    while (i < n) {
      const c = b[i]!;
      if (c <= COMMA && (c === COMMA || c === LF)) break;
      i++;
    }
    this.from = pos;
    this.escaped = false;
    if (i < n && b[i] === COMMA) {
      this.to = i;
      this.pos = i + 1;
      return MORE;
    }
    // a line end (\n, \r\n) or the end of the bytes: a \r before it is no part of the cell
    this.to = i > pos && b[i - 1] === CR ? i - 1 : i;
    if (i >= n) {
      this.pos = n;
      return END;
    }
    this.pos = i + 1;
    this.line++;
    return END;
  }

  /** A quoted cell: up to the quote not followed by another quote; line breaks inside are counted. */
  private quoted(): number {
    const b = this.b;
    const n = b.length;
    const pos = this.pos;
    let i = pos + 1;
    let line = this.line;
    let escaped = false;
    for (;;) {
      while (i < n) {
        const c = b[i]!;
        if (c === QUOTE) break;
        if (c === LF) line++;
        i++;
      }
      if (i >= n) return BROKEN;
      if (i + 1 < n && b[i + 1] === QUOTE) {
        escaped = true;
        i += 2;
        continue;
      }
      break;
    }
    this.line = line;
    this.from = pos + 1;
    this.to = i;
    this.escaped = escaped;
    const end = i + 1;
    if (end >= n) {
      this.pos = n;
      return END;
    }
    const c = b[end]!;
    if (c === COMMA) {
      this.pos = end + 1;
      return MORE;
    }
    if (c === LF || (c === CR && end + 1 < n && b[end + 1] === LF)) {
      this.pos = end + (c === CR ? 2 : 1);
      this.line++;
      return END;
    }
    return BROKEN;
  }
}

/** Lower-case ASCII words packed into a number, for comparing short cells without strings. */
function packed(word: string): number {
  let v = 1;
  for (let i = 0; i < word.length; i++) v = v * 256 + word.charCodeAt(i);
  return v;
}
const TRUE_WORDS = ["true", "yes", "1"].map(packed);
const FALSE_WORDS = ["false", "no", "0"].map(packed);
const ENTERPRISE = Buffer.from("enterprise");
const VISUAL_STUDIO = Buffer.from("visual studio");

/**
 * The CSV from its bytes (valid UTF-8, as checkExportBytes leaves them): the same report as
 * readCloudCsv of their text, read in one pass with cells located by offsets, only the columns
 * the count needs looked at, and members as columns. A file with anything to refuse is read by
 * readCloudCsv, which words the refusals.
 */
export function readCloudCsvBytes(bytes: Uint8Array, file: string): CloudReadResult {
  const report = readCsvFast(bytes, file);
  return report !== null ? { ok: true, report } : readCloudCsv(new TextDecoder("utf-8").decode(bytes), file);
}

/** readCloudCsvBytes without the fallback: null when the file has anything the text reader refuses. */
export function readCsvFast(bytes: Uint8Array, file: string): CloudReport | null {
  const b = asBuffer(bytes);
  const n = b.length;
  const cells = new Cells(b);
  // The decoder drops one BOM and the text reader another.
  for (let k = 0; k < 2; k++) if (b[cells.pos] === 0xef && b[cells.pos + 1] === 0xbb && b[cells.pos + 2] === 0xbf) cells.pos += 3;
  skipBlankLines(b, cells);
  if (cells.pos >= n) return null; // empty
  const names: string[] = [];
  for (;;) {
    const r = cells.next();
    if (r === BROKEN) return null;
    names.push(cellText(b, cells.from, cells.to, cells.escaped));
    if (r === END) break;
  }
  const header = readHeader(names);
  if (header.missing !== null) return null;
  const width = names.length;
  const roles = Uint8Array.from(header.roles);
  const emailsFirst = header.roles.indexOf(Col.Emails) < header.roles.indexOf(Col.Saml);
  const hasLicense = header.roles.includes(Col.License);
  const read = new CsvRows(b, file);
  // Per role: the current row's cell. A role without a column keeps an empty cell.
  const from = new Int32Array(Col.Ids + 1);
  const to = new Int32Array(Col.Ids + 1);
  const escaped = new Uint8Array(Col.Ids + 1);
  let rows = 0;
  let reported = 0;
  for (;;) {
    skipBlankLines(b, cells);
    if (cells.pos >= n) break;
    const line = cells.line;
    let count = 0;
    for (;;) {
      const r = cells.next();
      if (r === BROKEN) return null;
      if (count < width) {
        const role = roles[count]!;
        if (role !== Col.Ignore) {
          from[role] = cells.from;
          to[role] = cells.to;
          escaped[role] = cells.escaped ? 1 : 0;
        }
      }
      count++;
      if (r === END) break;
    }
    if (count !== width) return null;
    rows++;
    const isUser = read.boolean(from[Col.User]!, to[Col.User]!, escaped[Col.User] === 1);
    if (isUser === null) return null;
    if (from[Col.Ids]! < to[Col.Ids]!) read.links(from[Col.Ids]!, to[Col.Ids]!, escaped[Col.Ids] === 1, line, isUser);
    const license = read.license(from[Col.License]!, to[Col.License]!, escaped[Col.License] === 1);
    if (hasLicense && (license & LICENSE_ENTERPRISE) !== 0) reported++;
    if (!isUser) continue;
    if (emailsFirst) read.emails(from[Col.Emails]!, to[Col.Emails]!, escaped[Col.Emails] === 1);
    read.saml(from[Col.Saml]!, to[Col.Saml]!, escaped[Col.Saml] === 1);
    if (!emailsFirst) read.emails(from[Col.Emails]!, to[Col.Emails]!, escaped[Col.Emails] === 1);
    read.member(from[Col.Login]!, to[Col.Login]!, escaped[Col.Login] === 1, (license & LICENSE_VISUAL_STUDIO) !== 0);
  }
  const columns = read.columns();
  return csvReport(file, columns, {
    reportedSeats: hasLicense ? reported : null,
    linkedHosts: [...read.hosts].sort(),
    rows,
    warnings: read.badLinks.warnings(file),
  });
}

function skipBlankLines(b: Uint8Array, cells: Cells): void {
  const n = b.length;
  for (;;) {
    const p = cells.pos;
    if (p < n && b[p] === LF) cells.pos = p + 1;
    else if (p + 1 < n && b[p] === CR && b[p + 1] === LF) cells.pos = p + 2;
    else return;
    cells.line++;
  }
}

/** A cell's text: its quotes undoubled. */
function cellText(b: Latin1Buffer, from: number, to: number, escaped: boolean): string {
  const text = b.utf8Slice(from, to);
  return escaped ? text.replaceAll('""', '"') : text;
}

const LICENSE_ENTERPRISE = 1;
const LICENSE_VISUAL_STUDIO = 2;

/** One CSV's rows into member columns, cell by cell from the bytes; a cell that is no plain ASCII goes through the text reader's functions. */
class CsvRows {
  readonly hosts: string[] = [];
  private readonly hostIndex = new Map<string, number>();
  private readonly quickHosts: Uint8Array[] = [];
  private readonly quickHostIndex: number[] = [];
  readonly badLinks = new BadLinks();
  private readonly texts: string[] = [];
  private readonly keyStart: Ints;
  private readonly keyFrom: Ints;
  private readonly keyTo: Ints;
  private readonly keyUpper: Ints;
  private readonly loginFrom: Ints;
  private readonly loginTo: Ints;
  private readonly loginUpper: Ints;
  private readonly linkStart: Ints;
  private readonly linkHost: Ints;
  private readonly linkUserId: Floats;
  private readonly visualStudio: Ints;
  private readonly scratch: string[] = [];
  /** The current member's keys as texts, once it has FEW_KEYS of them. */
  private seen: Set<string> | null = null;

  constructor(
    private readonly b: Latin1Buffer,
    private readonly file: string,
  ) {
    // a row per 128 bytes or more (a GHEC report's rows are about 175): arrays that rarely grow (pages never written cost nothing)
    const guess = Math.min(1 << 20, Math.max(64, (b.length / 128) | 0));
    this.keyStart = new Ints(guess + 1);
    this.keyFrom = new Ints(guess);
    this.keyTo = new Ints(guess);
    this.keyUpper = new Ints(guess);
    this.loginFrom = new Ints(guess);
    this.loginTo = new Ints(guess);
    this.loginUpper = new Ints(guess);
    this.linkStart = new Ints(guess + 1);
    this.linkHost = new Ints(guess);
    this.linkUserId = new Floats(guess);
    this.visualStudio = new Ints(guess);
    this.keyStart.push(0);
    this.linkStart.push(0);
  }

  /** github_com_user: true / false, or null for none of the contract's spellings. */
  boolean(from: number, to: number, escaped: boolean): boolean | null {
    const b = this.b;
    if (!escaped) {
      while (from < to && isSpace(b[from]!)) from++;
      while (to > from && isSpace(b[to - 1]!)) to--;
      if (to === from) return false;
      if (to - from <= 5) {
        let v = 1; // as packed: a leading NUL still counts
        let i = from;
        for (; i < to; i++) {
          const c = b[i]!;
          if (c >= 0x80) break;
          v = v * 256 + (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
        }
        if (i === to) return TRUE_WORDS.includes(v) ? true : FALSE_WORDS.includes(v) ? false : null;
      } else if (!hasNonAscii(b, from, to)) return null;
    }
    return parseBoolean(cellText(b, from, to, escaped).trim());
  }

  /** license_type: LICENSE_ENTERPRISE when it is "enterprise", LICENSE_VISUAL_STUDIO when it names Visual Studio (any case, trimmed). */
  license(from: number, to: number, escaped: boolean): number {
    const b = this.b;
    if (escaped || hasNonAscii(b, from, to)) {
      const text = cellText(b, from, to, escaped).trim();
      return (text.length === 10 && text.toLowerCase() === "enterprise" ? LICENSE_ENTERPRISE : 0) | (isVisualStudio(text) ? LICENSE_VISUAL_STUDIO : 0);
    }
    while (from < to && isSpace(b[from]!)) from++;
    while (to > from && isSpace(b[to - 1]!)) to--;
    if (to - from === 10 && matchesAt(b, from, ENTERPRISE)) return LICENSE_ENTERPRISE;
    for (let i = from; i + 13 <= to; i++) if (matchesAt(b, i, VISUAL_STUDIO)) return LICENSE_VISUAL_STUDIO;
    return 0;
  }

  /** enterprise_server_user_ids: each host:id item of any row names its host; a member's are its links. */
  links(from: number, to: number, escaped: boolean, line: number, member: boolean): void {
    const b = this.b;
    if (escaped) {
      for (const item of splitList(cellText(b, from, to, true), this.itemsScratch())) this.linkText(item, line, member);
      return;
    }
    let i = from;
    while (i < to) {
      const c = b[i]!;
      if (c === COMMA || c === SEMICOLON || c <= 0x20) {
        i++;
        continue;
      }
      if (c === 0xc2 && i + 1 < to && b[i + 1] === 0xa0) {
        i += 2;
        continue;
      }
      const start = i;
      let ascii = true;
      let colon = -1;
      for (; i < to; i++) {
        const d = b[i]!;
        if (d === COMMA || d === SEMICOLON || d <= 0x20) break;
        if (d === 0x3a) colon = i;
        else if (d >= 0x80) {
          if (d === 0xc2 && i + 1 < to && b[i + 1] === 0xa0) break;
          ascii = false;
        }
      }
      if (ascii) this.linkAscii(start, colon, i, line, member);
      else this.linkText(b.utf8Slice(start, i), line, member);
    }
  }

  /** An ASCII item [start, end) with its last colon at `colon`: parseLink's rules on the bytes. */
  private linkAscii(start: number, colon: number, end: number, line: number, member: boolean): void {
    const b = this.b;
    let hostEnd = colon;
    if (colon > start && b[colon - 1] === 0x2e) hostEnd--; // one trailing dot
    const digits = end - colon - 1;
    let userId = 0;
    let ok = colon > start && hostEnd > start && digits > 0 && digits <= 15;
    for (let i = colon + 1; ok && i < end; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) ok = false;
      else userId = userId * 10 + d;
    }
    if (!ok || userId <= 0) {
      this.badLinks.add(`line ${line}`);
      return;
    }
    const host = this.asciiHost(start, hostEnd);
    if (member) {
      this.linkHost.push(host);
      this.linkUserId.push(userId);
    }
  }

  private linkText(item: string, line: number, member: boolean): void {
    const link = parseLink(item);
    if (link === null) {
      if (item.trim() !== "") this.badLinks.add(`line ${line}`);
      return;
    }
    const host = this.host(link.host);
    if (member) {
      this.linkHost.push(host);
      this.linkUserId.push(link.userId);
    }
  }

  /** The host of ASCII bytes [from, to), lower-cased: compared with the first hosts met as bytes, a string only for another. */
  private asciiHost(from: number, to: number): number {
    const b = this.b;
    const len = to - from;
    for (let h = 0; h < this.quickHosts.length; h++) {
      const name = this.quickHosts[h]!;
      if (name.length !== len) continue;
      let i = 0;
      while (i < len && lower(b[from + i]!) === name[i]) i++;
      if (i === len) return this.quickHostIndex[h]!;
    }
    const text = asciiText(b, from, to, true);
    const index = this.host(text);
    // a handful: a report names few hosts, and a file naming many compares with no more than these
    if (this.quickHosts.length < 8) {
      this.quickHosts.push(Buffer.from(text, "latin1"));
      this.quickHostIndex.push(index);
    }
    return index;
  }

  private host(name: string): number {
    let h = this.hostIndex.get(name);
    if (h === undefined) {
      h = this.hosts.push(name) - 1;
      this.hostIndex.set(name, h);
    }
    return h;
  }

  /** github_com_verified_domain_emails: each item a key. */
  emails(from: number, to: number, escaped: boolean): void {
    const b = this.b;
    if (escaped) {
      for (const item of splitList(cellText(b, from, to, true), this.itemsScratch())) this.keyText(normalizeEmail(item));
      return;
    }
    let i = from;
    while (i < to) {
      const c = b[i]!;
      if (c === COMMA || c === SEMICOLON || c <= 0x20) {
        i++;
        continue;
      }
      if (c === 0xc2 && i + 1 < to && b[i + 1] === 0xa0) {
        i += 2;
        continue;
      }
      const start = i;
      let plain = true;
      let upper = false;
      for (; i < to; i++) {
        const d = b[i]!;
        if (d === COMMA || d === SEMICOLON || d <= 0x20) break;
        if (d >= 0x7f) {
          if (d === 0xc2 && i + 1 < to && b[i + 1] === 0xa0) break;
          plain = false;
        } else if (d >= 0x41 && d <= 0x5a) upper = true;
      }
      if (plain) this.keyRange(start, i, upper);
      else this.keyText(normalizeEmail(b.utf8Slice(start, i)));
    }
  }

  /** github_com_saml_name_id: the trimmed cell, one key. */
  saml(from: number, to: number, escaped: boolean): void {
    const b = this.b;
    if (!escaped) {
      while (from < to && isSpace(b[from]!)) from++;
      while (to > from && isSpace(b[to - 1]!)) to--;
      if (from === to) return;
      let upper = false;
      let i = from;
      for (; i < to; i++) {
        const c = b[i]!;
        if (c <= 0x20 || c >= 0x7f) break;
        if (c >= 0x41 && c <= 0x5a) upper = true;
      }
      if (i === to) {
        this.keyRange(from, to, upper);
        return;
      }
    }
    this.keyText(normalizeEmail(cellText(b, from, to, escaped).trim()));
  }

  /** A key of printable ASCII bytes, unless the member has it already (a NameID is often a verified e-mail). */
  private keyRange(from: number, to: number, upper: boolean): void {
    if (this.repeated(from, to, null)) return;
    this.keyFrom.push(from);
    this.keyTo.push(to);
    this.keyUpper.push(upper ? 1 : 0);
  }

  private keyText(key: string): void {
    if (key === "" || this.repeated(0, 0, key)) return;
    this.keyFrom.push(-1 - this.texts.length);
    this.texts.push(key);
    this.keyTo.push(0);
    this.keyUpper.push(0);
  }

  /** True when the member has the key already: bytes [from, to) of ASCII (any case), or `text`. */
  private repeated(from: number, to: number, text: string | null): boolean {
    const b = this.b;
    const first = this.keyStart.a[this.keyStart.n - 1]!;
    if (this.keyFrom.n - first < FEW_KEYS) {
      for (let k = first; k < this.keyFrom.n; k++) {
        const f = this.keyFrom.a[k]!;
        const to2 = this.keyTo.a[k]!;
        if (text === null ? (f >= 0 ? sameAscii(b, f, to2, b, from, to) : sameAsciiText(this.texts[-1 - f]!, b, from, to)) : f >= 0 ? sameAsciiText(text, b, f, to2) : this.texts[-1 - f] === text) {
          return true;
        }
      }
      return false;
    }
    // a cell of many items: their texts in a set, so that it stays linear
    if (this.seen === null) {
      this.seen = new Set<string>();
      for (let k = first; k < this.keyFrom.n; k++) {
        const f = this.keyFrom.a[k]!;
        this.seen.add(f >= 0 ? asciiText(b, f, this.keyTo.a[k]!, true) : this.texts[-1 - f]!);
      }
    }
    const key = text ?? asciiText(b, from, to, true);
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    return false;
  }

  /** Ends a member's row: its login (github_com_login, trimmed), its keys and links so far. */
  member(from: number, to: number, escaped: boolean, visualStudio: boolean): void {
    const b = this.b;
    this.seen = null;
    let text: string | null = null;
    let upper = false;
    if (escaped) text = cellText(b, from, to, true).trim();
    else {
      while (from < to && isSpace(b[from]!)) from++;
      while (to > from && isSpace(b[to - 1]!)) to--;
      for (let i = from; i < to; i++) {
        const c = b[i]!;
        if (c >= 0x80) {
          text = b.utf8Slice(from, to).trim();
          break;
        }
        if (c >= 0x41 && c <= 0x5a) upper = true;
      }
    }
    if (text !== null) {
      this.loginFrom.push(-1 - this.texts.length);
      this.texts.push(text);
      this.loginTo.push(0);
      this.loginUpper.push(0);
    } else {
      this.loginFrom.push(from);
      this.loginTo.push(to);
      this.loginUpper.push(upper ? 1 : 0);
    }
    this.visualStudio.push(visualStudio ? 1 : 0);
    this.keyStart.push(this.keyFrom.n);
    this.linkStart.push(this.linkHost.n);
  }

  columns(): CloudMemberColumns {
    const upper = (ints: Ints): Uint8Array => Uint8Array.from(ints.a.subarray(0, ints.n));
    return {
      count: this.loginFrom.n,
      bytes: this.b,
      texts: this.texts,
      keyStart: this.keyStart.view(),
      keyFrom: this.keyFrom.view(),
      keyTo: this.keyTo.view(),
      keyUpper: upper(this.keyUpper),
      loginFrom: this.loginFrom.view(),
      loginTo: this.loginTo.view(),
      loginUpper: upper(this.loginUpper),
      linkStart: this.linkStart.view(),
      linkHost: this.linkHost.view(),
      linkUserId: this.linkUserId.view(),
      hosts: this.hosts,
      visualStudio: upper(this.visualStudio),
    };
  }

  private itemsScratch(): string[] {
    this.scratch.length = 0;
    return this.scratch;
  }
}

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/** Bytes [af, at) and [bf, bt) of ASCII equal when lower-cased. */
function sameAscii(a: Uint8Array, af: number, at: number, b: Uint8Array, bf: number, bt: number): boolean {
  if (at - af !== bt - bf) return false;
  for (let i = 0; i < at - af; i++) if (lower(a[af + i]!) !== lower(b[bf + i]!)) return false;
  return true;
}

/** `text` equals bytes [from, to) of ASCII lower-cased. */
function sameAsciiText(text: string, b: Uint8Array, from: number, to: number): boolean {
  if (text.length !== to - from) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== lower(b[from + i]!)) return false;
  return true;
}

function hasNonAscii(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i]! >= 0x80) return true;
  return false;
}

/** The lower-case ASCII `word` at b[at..], any case. */
function matchesAt(b: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) {
    const c = b[at + k]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== word[k]) return false;
  }
  return true;
}


// ---- JSON ------------------------------------------------------------------------------------

const LIST_FIELDS = ["github_com_verified_domain_emails", "enterprise_server_user_ids"] as const;

/** Pages of the consumed-licenses API, already parsed (a file's, or fetched live). */
export function readCloudReportPages(pages: unknown[], file: string): CloudReadResult {
  if (pages.length === 0) return { ok: false, file, errors: [{ file, path: "", message: "has no report pages" }], warnings: [] };
  return readPages(pages, file, pages.length > 1);
}

function readPages(pages: unknown[], file: string, paged: boolean): CloudReadResult {
  const p = new Problems(file);
  const b = new Builder(file);
  let reportedSeats: number | null = null;
  pages.forEach((page, pi) => {
    const at = paged ? `[${pi}]` : "";
    const dot = paged ? `[${pi}].` : "";
    if (!isObject(page)) {
      p.add(at, `expected a report page (an object), got ${typeName(page)}`);
      return;
    }
    if (page.total_seats_consumed !== undefined && page.total_seats_consumed !== null) {
      const t = page.total_seats_consumed;
      // every page carries the totals; the first page's count (the contract)
      if (typeof t === "number" && Number.isSafeInteger(t) && t >= 0) {
        if (pi === 0) reportedSeats = t;
      } else p.add(`${dot}total_seats_consumed`, `expected a whole number, got ${typeName(t)}`);
    }
    const users = page.users;
    if (users === undefined || users === null) {
      p.add(`${dot}users`, "is missing (expected an array of user records)");
      return;
    }
    if (!Array.isArray(users)) {
      p.add(`${dot}users`, `expected an array of user records, got ${typeName(users)}`);
      return;
    }
    for (let ui = 0; ui < users.length; ui++) {
      const path = `${dot}users[${ui}]`;
      const u: unknown = users[ui];
      if (!isObject(u)) {
        p.add(path, `expected an object, got ${typeName(u)}`);
        continue;
      }
      b.rows++;
      const isUser = u.github_com_user;
      if (isUser !== undefined && isUser !== null && typeof isUser !== "boolean") {
        p.add(`${path}.github_com_user`, `expected a boolean, got ${typeName(isUser)}`);
      }
      const login = optionalString(p, u, "github_com_login", path);
      const saml = optionalString(p, u, "github_com_saml_name_id", path);
      const license = optionalString(p, u, "license_type", path);
      const lists: string[][] = [];
      for (const key of LIST_FIELDS) {
        const v = u[key];
        if (v === undefined || v === null) lists.push(NO_ITEMS);
        else if (Array.isArray(v) && v.every((s) => typeof s === "string")) lists.push(v as string[]);
        else {
          p.add(`${path}.${key}`, `expected an array of strings, got ${Array.isArray(v) ? "an array holding something else" : typeName(v)}`);
          lists.push(NO_ITEMS);
        }
      }
      const links = lists[1]!.length > 0 ? b.links(lists[1]!, () => `${path}.enterprise_server_user_ids`) : NO_LINKS;
      if (isUser === true && !p.any) b.member(login, saml === "" ? lists[0]! : [...lists[0]!, saml], links, license);
    }
  });
  if (p.any) return { ok: false, file, errors: p.list(), warnings: b.warnings() };
  return {
    ok: true,
    report: { file, format: "json", members: b.members, reportedSeats, linkedHosts: b.linkedHosts(), rows: b.rows, warnings: b.warnings() },
  };
}

function optionalString(p: Problems, u: Record<string, unknown>, key: string, path: string): string {
  const v = u[key];
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  p.add(`${path}.${key}`, `expected a string, got ${typeName(v)}`);
  return "";
}
