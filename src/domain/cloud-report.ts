// The GHEC license report (shared/ghec-license-report.md): the CSV an owner downloads from the
// enterprise's licensing page, or the JSON of the consumed-licenses API (one page or an array of
// pages). Read into cloud members and their identity keys; plain domain, no I/O.
import { Buffer } from "node:buffer";
import { gunzipSync } from "node:zlib";
import { decodeExport, type ReadLimits } from "./decode.js";
import { readExportFast, readExportIdentified } from "./fast-read.js";
import { typeName } from "./findings.js";
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
  /** Rows with github_com_user true, in file order. */
  members: CloudMember[];
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
  if (isCsvName(file)) {
    const decoded = decodeExport(bytes, file, limits);
    if (!decoded.ok) return { kind: "cloud", result: { ok: false, file, errors: decoded.errors, warnings: [] } };
    return { kind: "cloud", result: readCloudCsv(decoded.text, file) };
  }
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

/** Collects members, links and hosts from rows of either form. */
class Builder {
  readonly members: CloudMember[] = [];
  private readonly hosts = new Set<string>();
  private badLinks = 0;
  private readonly badLinkPlaces: string[] = [];
  private lastPlace = "";
  private morePlaces = 0;
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
        if (item.trim() === "") continue;
        this.badLinks++;
        const where = typeof place === "number" ? `line ${place}` : place();
        if (where !== this.lastPlace) {
          this.lastPlace = where;
          if (this.badLinkPlaces.length < 3) this.badLinkPlaces.push(where);
          else this.morePlaces++;
        }
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
    if (this.badLinks === 0) return [];
    const more = this.morePlaces;
    const where = this.badLinkPlaces.join(", ") + (more > 0 ? ` and ${more} more ${more === 1 ? "place" : "places"}` : "");
    const message =
      this.badLinks === 1
        ? `an enterprise_server_user_ids item is not host:id (a host name, a colon, a user id) and was ignored (${where})`
        : `${this.badLinks} enterprise_server_user_ids items are not host:id (a host name, a colon, a user id) and were ignored (${where})`;
    return [{ file: this.file, path: "", message }];
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
  for (const item of items) {
    const k = normalizeEmail(item);
    if (k !== "" && !out.includes(k)) out.push(k);
  }
  return out.slice();
}

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

/** RFC 4180 text (BOM already stripped by decoding, or stripped here) to a cloud report. One linear pass. */
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
      header = cells.map(normalizeHeader);
      width = header.length;
      roles = header.map(() => Col.Ignore);
      const seen = new Set<string>();
      header.forEach((name, i) => {
        const role = COLUMNS[name];
        if (role !== undefined && !seen.has(name)) roles[i] = role;
        seen.add(name);
      });
      userCol = roles.indexOf(Col.User);
      licenseCol = roles.indexOf(Col.License);
      const missing: string[] = [];
      if (userCol === -1) missing.push("github_com_user");
      if (!roles.includes(Col.Emails) && !roles.includes(Col.Saml) && !roles.includes(Col.Ids)) {
        missing.push("one of github_com_verified_domain_emails, github_com_saml_name_id, enterprise_server_user_ids");
      }
      if (missing.length > 0) {
        p.add("line 1", `the header lacks ${missing.join(" and ")}: is this GitHub's license report (Enterprise licensing → Export license usage)?`);
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
