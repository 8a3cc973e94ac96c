// A single-pass reader specialised for the export format: it checks JSON well-formedness of every
// byte and builds the Accounts straight from the UTF-8 bytes, with no parse tree and no string of the
// whole file. It only ever *accepts*: on anything wrong or unusual it hands the bytes to readExport
// (the reference path), which produces the exact messages. The one refusal of its own: a duplicate
// key in an object whose keys are read, which JSON.parse would silently resolve to the last one.

import { Buffer, isUtf8 } from "node:buffer";
import { gunzipSync } from "node:zlib";
import type { ReadLimits } from "./decode.js";
import type { ReportKeys } from "./byte-keys.js";
import { loginKey, uniqueAccounts } from "./count.js";
import { Identifier, identifyAccounts, normalizeEmail } from "./identity.js";
import type { InternedAccounts } from "./key-ids.js";
import { AccountSet } from "./account-set.js";
import { Ints } from "./growable.js";
import { DuplicateMerger, MAX_EMAIL_LENGTH, MAX_ERRORS, WarningTally, accountWarnings, notePrimaries, readExport, tooLongForAnEmail, warningsOf } from "./validate.js";
import type { Account, AccountEmail, Finding, IdentifiedAccount, IdentifiedResult, InstanceInfo, ValidationResult } from "./types.js";

const enum B {
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  LBracket = 0x5b,
  Backslash = 0x5c,
  RBracket = 0x5d,
  LowerE = 0x65,
  UpperE = 0x45,
  LowerF = 0x66,
  LowerN = 0x6e,
  LowerT = 0x74,
  LowerU = 0x75,
  LBrace = 0x7b,
  RBrace = 0x7d,
}

/** String scan classes: 0 plain ASCII, 1 control (error), 2 quote, 3 backslash, 4 non-ASCII. */
const STR = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR[c] = 1;
STR[B.Quote] = 2;
STR[B.Backslash] = 3;
for (let c = 0x80; c < 0x100; c++) STR[c] = 4;

/** Bytes allowed after a backslash (besides `u`). */
const ESCAPE = new Uint8Array(256);
for (const ch of '"\\/bfnrt') ESCAPE[ch.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const ch of "0123456789abcdefABCDEF") HEX[ch.charCodeAt(0)] = 1;

/** E-mails of one account past which the set reader leaves it to the ordinary path (see setAccount). */
const MAX_PAIRWISE = 16;

const ESCAPED = 1;
const NON_ASCII = 2;

/** Thrown (never escapes this module) when the bytes are not well-formed JSON. */
const SYNTAX: unique symbol = Symbol("syntax");

/** Member positions of an object whose keys readKeyAt remembers. */
const KEYS_MET = 8;

/** Per member position: the last plain key read there (its first byte in the buffer, its length; -1: none yet) and readKey's answer for it. */
class KeysMet {
  readonly start = new Int32Array(KEYS_MET);
  readonly len = new Int32Array(KEYS_MET).fill(-1);
  readonly found = new Int32Array(KEYS_MET);
}

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string };

function keyTable(names: readonly string[]): Uint8Array[] {
  return names.map((s) => Buffer.from(s, "latin1"));
}
const ROOT_KEYS = ["version", "instance", "users"] as const;
/** From index 4 on: display-only keys checked for their type alone (a repeat of them is no refusal). */
const INSTANCE_KEYS = ["server_id", "host_name", "version", "http_only", "license", "public_key", "features"] as const;
const USER_KEYS = ["user_id", "login", "emails", "suspended", "suspended_at"] as const;
const EMAIL_KEYS = ["email", "primary"] as const;
const ROOT_CODES = keyTable(ROOT_KEYS);
const NO_KEYS: readonly string[] = [];
const NO_CODES: readonly Uint8Array[] = [];
const INSTANCE_CODES = keyTable(INSTANCE_KEYS);
const USER_CODES = keyTable(USER_KEYS);
const EMAIL_CODES = keyTable(EMAIL_KEYS);
/** Keys by which readUpload (cloud-report.ts) may take a JSON document for a GHEC report. */
const CLOUD_KEY_CODES = keyTable(["total_seats_consumed", "github_com_login", "github_com_user"]);

/** Same test as validate.ts's isNonBlank, with a shortcut for the usual printable-ASCII start. */
function nonBlank(s: string): boolean {
  const c = s.charCodeAt(0);
  return (c > 0x20 && c < 0x7f) || s.trim() !== "";
}

class Reader {
  private readonly b: Latin1Buffer;
  private readonly n: number;
  private i: number;
  /** Flags (ESCAPED, NON_ASCII) of the last string scanned. */
  private flags = 0;
  /** Open containers while skipping: 1 object, 0 array. Grows on demand, never recursion. */
  private stack = new Uint8Array(64);

  /** Keys of users and of their e-mails met at each member position (see readKeyAt). */
  private readonly userKeysMet = new KeysMet();
  private readonly emailKeysMet = new KeysMet();

  /** Something the reference refuses or words differently: the caller falls back to it. */
  invalid = false;
  readonly duplicates: Finding[] = [];
  moreDuplicates = 0;

  version = false;
  instance: InstanceInfo | undefined;
  users: Account[] | undefined;
  /** Index in users[] of each account's first record. */
  private firstRecord: number[] = [];
  private byId: Map<number, number> | undefined;
  private lastId = 0;
  dupIds = new WarningTally();
  private merger = new DuplicateMerger();

  // Identifying while reading (with an Identifier): each account goes straight to its identity keys,
  // its e-mails held in two scratch lists, never as objects; the warnings are tallied as it goes.
  /** The accounts' identities (suspended ones dropped), in the identifying mode. */
  identified: IdentifiedAccount[] = [];
  /** Identifying needs ascending user_ids (a repeated id would merge into an account already identified): false once one is not. */
  ordered = true;
  private readonly emailText: string[] = [];
  private readonly emailPrimary: boolean[] = [];
  private emailCount = 0;
  private noPrimary = new WarningTally();
  private severalPrimaries = new WarningTally();

  // Interning while reading (with an IdsBuilder): as identifying, but an ASCII string without
  // escapes (the usual login and address) is never made a string: its bytes go straight to an id.
  // Per e-mail of the current account: its bytes [emailFrom, emailTo), or its text when emailFrom is -1.
  private emailFrom = new Int32Array(16);
  private emailTo = new Int32Array(16);

  constructor(
    buf: Buffer,
    private readonly file: string,
    private readonly identifier: Identifier | null = null,
    private readonly interning: IdsBuilder | null = null,
    private readonly sets: SetBuilder | null = null,
  ) {
    this.b = buf as Latin1Buffer;
    this.n = buf.length;
    // One leading BOM, as TextDecoder strips it.
    this.i = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  }

  // ---- lexical level ----

  /** Skips whitespace; returns the byte there, or -1 at the end. */
  private peek(): number {
    const b = this.b;
    const n = this.n;
    let i = this.i;
    while (i < n) {
      const c = b[i];
      if (c === B.Space || c === B.Lf || c === B.Cr || c === B.Tab) i++;
      else {
        this.i = i;
        return c;
      }
    }
    this.i = i;
    return -1;
  }

  /** At a quote: scans the string, leaves i past the closing quote, returns the content's start. */
  private scanString(): number {
    const b = this.b;
    const n = this.n;
    const start = this.i + 1;
    let i = start;
    let flags = 0;
    for (;;) {
      if (i >= n) throw SYNTAX;
      const k = STR[b[i]];
      if (k === 0) {
        i++;
        continue;
      }
      if (k === 2) break;
      if (k === 4) {
        flags |= NON_ASCII;
        i++;
      } else if (k === 3) {
        flags |= ESCAPED;
        const e = b[i + 1];
        if (e === B.LowerU) {
          if (i + 5 >= n || !(HEX[b[i + 2]] & HEX[b[i + 3]] & HEX[b[i + 4]] & HEX[b[i + 5]])) throw SYNTAX;
          i += 6;
        } else if (i + 1 < n && ESCAPE[e] === 1) i += 2;
        else throw SYNTAX;
      } else throw SYNTAX;
    }
    this.i = i + 1;
    this.flags = flags;
    return start;
  }

  /** The string just scanned (content from start to i - 1). */
  private stringValue(start: number): string {
    const end = this.i - 1;
    if (this.flags === 0) return this.b.latin1Slice(start, end);
    if (this.flags === NON_ASCII) return this.b.utf8Slice(start, end);
    return JSON.parse(this.b.utf8Slice(start - 1, end + 1)) as string;
  }

  private readString(): string {
    return this.stringValue(this.scanString());
  }

  /** At '-' or a digit: checks the number grammar, leaves i past it, returns its value. */
  private readNumber(): number {
    const b = this.b;
    const n = this.n;
    const start = this.i;
    let i = start;
    let simple = true;
    let value = 0;
    if (b[i] === B.Minus) {
      simple = false;
      i++;
    }
    let c = i < n ? b[i] : -1;
    if (c === B.Zero) {
      i++;
    } else if (c > B.Zero && c <= B.Nine) {
      do {
        value = value * 10 + (c - B.Zero);
        i++;
        c = i < n ? b[i] : -1;
      } while (c >= B.Zero && c <= B.Nine);
    } else throw SYNTAX;
    c = i < n ? b[i] : -1;
    if (c === B.Dot) {
      simple = false;
      i++;
      c = i < n ? b[i] : -1;
      if (!(c >= B.Zero && c <= B.Nine)) throw SYNTAX;
      do c = ++i < n ? b[i] : -1;
      while (c >= B.Zero && c <= B.Nine);
    }
    if (c === B.LowerE || c === B.UpperE) {
      simple = false;
      i++;
      c = i < n ? b[i] : -1;
      if (c === B.Plus || c === B.Minus) c = ++i < n ? b[i] : -1;
      if (!(c >= B.Zero && c <= B.Nine)) throw SYNTAX;
      do c = ++i < n ? b[i] : -1;
      while (c >= B.Zero && c <= B.Nine);
    }
    this.i = i;
    // Up to 15 digits accumulate exactly; anything else converts like JSON.parse does.
    return simple && i - start <= 15 ? value : Number(this.b.latin1Slice(start, i));
  }

  /** At t, f or n: checks the literal, returns its first byte. */
  private readLiteral(): number {
    const b = this.b;
    const i = this.i;
    const c = b[i];
    if (c === B.LowerT) {
      if (i + 3 < this.n && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
        this.i = i + 4;
        return c;
      }
    } else if (c === B.LowerF) {
      if (i + 4 < this.n && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
        this.i = i + 5;
        return c;
      }
    } else if (c === B.LowerN) {
      if (i + 3 < this.n && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
        this.i = i + 4;
        return c;
      }
    }
    throw SYNTAX;
  }

  /** A scalar at i (c is its first byte): checks it and moves past it. */
  private skipScalar(c: number): void {
    if (c === B.Quote) this.scanString();
    else if (c === B.Minus || (c >= B.Zero && c <= B.Nine)) this.readNumber();
    else this.readLiteral();
  }

  /**
   * readKey for the m-th member of an object whose keys usually come in one order (a user, an
   * e-mail): a key with the same bytes as the plain key last read at that position in `met` is that
   * key again, with no scan or comparison with the names.
   */
  private readKeyAt(names: readonly string[], codes: readonly Uint8Array[], met: KeysMet, m: number): number {
    const b = this.b;
    const from = this.i + 1;
    if (m < KEYS_MET && b[this.i] === B.Quote) {
      const len = met.len[m]!;
      const end = from + len;
      if (len >= 0 && end < this.n && b[end] === B.Quote) {
        const at = met.start[m]!;
        let j = 0;
        while (j < len && b[from + j] === b[at + j]) j++;
        if (j === len) {
          this.i = end + 1;
          if (this.peek() !== B.Colon) throw SYNTAX;
          this.i++;
          return met.found[m]!;
        }
      }
    }
    const k = this.readKey(names, codes);
    if (m < KEYS_MET && this.keyFlags === 0) {
      met.start[m] = from;
      met.len[m] = this.keyEnd - from;
      met.found[m] = k;
    }
    return k;
  }

  /** Where the last key read by readKey ends (its closing quote), and its flags (ESCAPED, NON_ASCII). */
  private keyEnd = 0;
  private keyFlags = 0;

  /** At `"key"`: reads it and the colon; returns its index in `names`, or -1 for another key. */
  private readKey(names: readonly string[], codes: readonly Uint8Array[]): number {
    if (this.b[this.i] !== B.Quote) throw SYNTAX;
    const start = this.scanString();
    const len = this.i - 1 - start;
    this.keyEnd = this.i - 1;
    this.keyFlags = this.flags;
    let found = -1;
    if (this.flags & ESCAPED) {
      if (names.length > 0) found = names.indexOf(this.stringValue(start));
    } else {
      const b = this.b;
      outer: for (let k = 0; k < codes.length; k++) {
        const code = codes[k];
        if (code.length !== len) continue;
        for (let j = 0; j < len; j++) if (b[start + j] !== code[j]) continue outer;
        found = k;
        break;
      }
    }
    if (found === -1 && (this.interning !== null || this.sets !== null)) this.noteOtherKey(start, len);
    if (this.peek() !== B.Colon) throw SYNTAX;
    this.i++;
    return found;
  }

  /**
   * Interning: a key the reader does not read, at any level. Marks the document `cloudish` when it
   * may be a GHEC report to readUpload's recognition (cloud-report.ts: a key total_seats_consumed,
   * github_com_login or github_com_user), or when the key is escaped (then it might be one).
   */
  private noteOtherKey(start: number, len: number): void {
    if (this.flags & ESCAPED) {
      this.cloudish = true;
      return;
    }
    outer: for (const code of CLOUD_KEY_CODES) {
      if (code.length !== len) continue;
      for (let j = 0; j < len; j++) if (this.b[start + j] !== code[j]) continue outer;
      this.cloudish = true;
      return;
    }
  }

  /** Interning or reading to a set: the document has a key that readUpload's recognition of a GHEC report looks at (noteOtherKey). */
  cloudish = false;

  /** After a member: past a comma (true, another member follows) or the closing brace (false). */
  private nextMember(): boolean {
    const c = this.peek();
    this.i++;
    if (c === B.Comma) {
      if (this.peek() !== B.Quote) throw SYNTAX;
      return true;
    }
    if (c === B.RBrace) return false;
    throw SYNTAX;
  }

  /** After `{`: false for an empty object (moves past `}`). */
  private firstMember(): boolean {
    this.i++;
    const c = this.peek();
    if (c === B.RBrace) {
      this.i++;
      return false;
    }
    if (c !== B.Quote) throw SYNTAX;
    return true;
  }

  /** After an element: past a comma (true) or the closing bracket (false). */
  private nextElement(): boolean {
    const c = this.peek();
    this.i++;
    if (c === B.Comma) return true;
    if (c === B.RBracket) return false;
    throw SYNTAX;
  }

  /** After `[`: false for an empty array (moves past `]`). */
  private firstElement(): boolean {
    this.i++;
    if (this.peek() === B.RBracket) {
      this.i++;
      return false;
    }
    return true;
  }

  private duplicate(path: string, key: string): void {
    if (this.duplicates.length < MAX_ERRORS) {
      this.duplicates.push({ file: this.file, path, message: `has the key "${key}" twice` });
    } else this.moreDuplicates++;
  }

  /** Checks any value at i and moves past it, without building anything; iterative. */
  private skipValue(): void {
    let c = this.peek();
    if (c !== B.LBrace && c !== B.LBracket) {
      if (c < 0) throw SYNTAX;
      this.skipScalar(c);
      return;
    }
    let depth = 0;
    for (;;) {
      // A value starts at i (c is its first byte, whitespace skipped).
      if (c === B.LBrace) {
        this.i++;
        c = this.peek();
        if (c === B.RBrace) this.i++;
        else {
          this.push(depth++, 1);
          this.readKey(NO_KEYS, NO_CODES);
          c = this.peek();
          continue;
        }
      } else if (c === B.LBracket) {
        this.i++;
        c = this.peek();
        if (c === B.RBracket) this.i++;
        else {
          this.push(depth++, 0);
          continue;
        }
      } else if (c < 0) throw SYNTAX;
      else this.skipScalar(c);
      // After a value: close containers, or move to the next member or element.
      for (;;) {
        if (depth === 0) return;
        const d = this.peek();
        const inObject = this.stack[depth - 1] === 1;
        this.i++;
        if (d === B.Comma) {
          if (inObject) {
            this.peek();
            this.readKey(NO_KEYS, NO_CODES);
          }
          c = this.peek();
          break;
        }
        if (d === (inObject ? B.RBrace : B.RBracket)) depth--;
        else throw SYNTAX;
      }
    }
  }

  private push(at: number, kind: number): void {
    if (at === this.stack.length) {
      const bigger = new Uint8Array(at * 2);
      bigger.set(this.stack);
      this.stack = bigger;
    }
    this.stack[at] = kind;
  }

  // ---- the export's shape ----

  /** The whole document; false when it is not an object (the reference words that). */
  document(): boolean {
    if (this.peek() !== B.LBrace) return false;
    let seen = 0;
    let users = false;
    if (this.firstMember()) {
      do {
        const k = this.readKey(ROOT_KEYS, ROOT_CODES);
        if (k >= 0) {
          if (seen & (1 << k)) this.duplicate("", ROOT_KEYS[k]);
          seen |= 1 << k;
        }
        const c = this.peek();
        if (k === 0) {
          // version: a number, or a non-blank string.
          if (c === B.Quote) this.version = nonBlank(this.readString());
          else if (c === B.Minus || (c >= B.Zero && c <= B.Nine)) {
            this.readNumber();
            this.version = true;
          } else {
            this.version = false;
            this.skipValue();
          }
        } else if (k === 1) {
          this.instance = c === B.LBrace ? this.readInstance() : undefined;
          if (c !== B.LBrace) this.skipValue();
        } else if (k === 2) {
          users = c === B.LBracket;
          if (users) this.readUsers();
          else this.skipValue();
        } else this.skipValue();
      } while (this.nextMember());
    }
    if (this.peek() !== -1) throw SYNTAX;
    if (!this.version || this.instance === undefined || !users) this.invalid = true;
    return true;
  }

  private readInstance(): InstanceInfo | undefined {
    let seen = 0;
    let serverId: string | undefined;
    let hostName: string | undefined;
    let version: string | undefined;
    let httpOnly: boolean | undefined;
    let ok = true;
    if (this.firstMember()) {
      do {
        const k = this.readKey(INSTANCE_KEYS, INSTANCE_CODES);
        if (k >= 0 && k < 4) {
          if (seen & (1 << k)) this.duplicate("instance", INSTANCE_KEYS[k]);
          seen |= 1 << k;
        }
        const c = this.peek();
        switch (k) {
          case 0:
          case 1:
            if (c === B.Quote) {
              const s = this.readString();
              if (k === 0) serverId = s;
              else hostName = s;
            } else {
              if (k === 0) serverId = undefined;
              else hostName = undefined;
              this.skipValue();
            }
            break;
          case 2:
            version = undefined;
            if (c === B.Quote) version = this.readString();
            else if (c === B.LowerN) this.readLiteral();
            else {
              ok = false;
              this.skipValue();
            }
            break;
          case 3:
            httpOnly = undefined;
            if (c === B.LowerT || c === B.LowerF || c === B.LowerN) {
              const l = this.readLiteral();
              if (l !== B.LowerN) httpOnly = l === B.LowerT;
            } else {
              ok = false;
              this.skipValue();
            }
            break;
          case 4:
          case 5:
          case 6:
            // Another type is only a warning: readExport words it.
            if (c !== B.LowerN && c !== (k === 6 ? B.LBracket : B.Quote)) ok = false;
            this.skipValue();
            break;
          default:
            this.skipValue();
        }
      } while (this.nextMember());
    }
    if (!ok || serverId === undefined || hostName === undefined || !nonBlank(serverId) || !nonBlank(hostName)) {
      this.invalid = true;
      return undefined;
    }
    const info: InstanceInfo = { serverId, hostName };
    if (version !== undefined) info.ghesVersion = version;
    if (httpOnly !== undefined) info.httpOnly = httpOnly;
    return info;
  }

  private readUsers(): void {
    this.users = [];
    this.firstRecord = [];
    this.byId = undefined;
    this.lastId = 0;
    this.dupIds = new WarningTally();
    this.merger = new DuplicateMerger();
    this.identified = [];
    this.interning?.reset();
    this.sets?.reset();
    this.noPrimary = new WarningTally();
    this.severalPrimaries = new WarningTally();
    if (!this.firstElement()) return;
    let index = 0;
    do {
      if (this.peek() === B.LBrace) this.readUser(index);
      else {
        this.invalid = true;
        this.skipValue();
      }
      index++;
    } while (this.nextElement());
  }

  private readUser(index: number): void {
    let seen = 0;
    let id = 0;
    let login: string | undefined;
    // Interning: the login's bytes [loginFrom, loginTo) when it is plain ASCII (then login stays undefined).
    let loginFrom = -1;
    let loginTo = -1;
    let emails: AccountEmail[] = [];
    this.emailCount = 0;
    let suspendedFlag = false;
    let suspendedAt = false;
    let m = 0;
    if (this.firstMember()) {
      do {
        const k = this.readKeyAt(USER_KEYS, USER_CODES, this.userKeysMet, m++);
        if (k >= 0) {
          if (seen & (1 << k)) this.duplicate(`users[${index}]`, USER_KEYS[k]);
          seen |= 1 << k;
        }
        const c = this.peek();
        switch (k) {
          case 0: // user_id
            if (c === B.Minus || (c >= B.Zero && c <= B.Nine)) id = this.readNumber();
            else {
              id = 0;
              this.skipValue();
            }
            break;
          case 1: // login
            loginFrom = -1;
            if (c === B.Quote) {
              const start = this.scanString();
              if (this.flags === 0 && (this.interning !== null || this.sets !== null)) {
                login = undefined;
                loginFrom = start;
                loginTo = this.i - 1;
              } else login = this.stringValue(start);
            } else {
              login = undefined;
              this.skipValue();
            }
            break;
          case 2: // emails
            if (c === B.LBracket) emails = this.readEmails(index);
            else {
              emails = [];
              this.emailCount = 0;
              if (c !== B.LowerN) this.invalid = true;
              this.skipValue();
            }
            break;
          case 3: // suspended
            if (c === B.LowerT || c === B.LowerF || c === B.LowerN) suspendedFlag = this.readLiteral() === B.LowerT;
            else {
              this.invalid = true;
              this.skipValue();
            }
            break;
          case 4: // suspended_at: any non-null value
            suspendedAt = c !== B.LowerN;
            this.skipValue();
            break;
          default:
            this.skipValue();
        }
      } while (this.nextMember());
    }
    const named = loginFrom !== -1 ? this.bytesNonBlank(loginFrom, loginTo) : login !== undefined && nonBlank(login);
    if (!(id > 0 && Number.isSafeInteger(id)) || !named) this.invalid = true;
    if (this.invalid) return; // the reference will word it; only well-formedness still matters
    if (this.sets !== null) this.setAccount(index, id, login, loginFrom, loginTo, suspendedFlag || suspendedAt);
    else if (this.interning !== null) this.internAccount(index, id, login, loginFrom, loginTo, suspendedFlag || suspendedAt);
    else this.addAccount(index, id, login as string, emails, suspendedFlag || suspendedAt);
  }

  private readEmails(index: number): AccountEmail[] {
    // The first two entries wait in locals so that the usual array is allocated at its exact size
    // (push() would reserve 16 slots per account).
    let e0: AccountEmail | undefined;
    let e1: AccountEmail | undefined;
    let more: AccountEmail[] | undefined;
    const identifying = this.identifier !== null;
    const interning = this.interning !== null || this.sets !== null;
    this.emailCount = 0;
    if (!this.firstElement()) return [];
    let j = 0;
    do {
      if (this.peek() !== B.LBrace) {
        this.invalid = true;
        this.skipValue();
      } else {
        let seen = 0;
        let email: string | undefined;
        let from = -1;
        let to = -1;
        let primary = false;
        let m = 0;
        if (this.firstMember()) {
          do {
            const k = this.readKeyAt(EMAIL_KEYS, EMAIL_CODES, this.emailKeysMet, m++);
            if (k >= 0) {
              if (seen & (1 << k)) this.duplicate(`users[${index}].emails[${j}]`, EMAIL_KEYS[k]);
              seen |= 1 << k;
            }
            const c = this.peek();
            if (k === 0) {
              from = -1;
              if (c === B.Quote) {
                const start = this.scanString();
                if (this.flags === 0 && interning) {
                  email = undefined;
                  from = start;
                  to = this.i - 1;
                } else email = this.stringValue(start);
              } else {
                email = undefined;
                this.skipValue();
              }
            } else if (k === 1) {
              if (c === B.LowerT || c === B.LowerF || c === B.LowerN) primary = this.readLiteral() === B.LowerT;
              else {
                this.invalid = true;
                this.skipValue();
              }
            } else this.skipValue();
          } while (this.nextMember());
        }
        if (from !== -1) {
          // plain ASCII: a character per byte
          if (to - from > MAX_EMAIL_LENGTH) this.invalid = true;
          else this.noteEmail(from, to, undefined, primary);
        } else if (email === undefined || tooLongForAnEmail(email)) this.invalid = true;
        else if (interning) this.noteEmail(-1, -1, email, primary);
        else if (identifying) {
          this.emailText[this.emailCount] = email;
          this.emailPrimary[this.emailCount++] = primary;
        } else if (!this.invalid) {
          const entry = { email, primary };
          if (e0 === undefined) e0 = entry;
          else if (e1 === undefined) e1 = entry;
          else (more ??= []).push(entry);
        }
      }
      j++;
    } while (this.nextElement());
    if (e0 === undefined) return [];
    if (e1 === undefined) return [e0];
    return more === undefined ? [e0, e1] : [e0, e1, ...more];
  }

  private noteEmail(from: number, to: number, text: string | undefined, primary: boolean): void {
    const j = this.emailCount++;
    if (j === this.emailFrom.length) {
      const f = new Int32Array(j * 2);
      f.set(this.emailFrom);
      this.emailFrom = f;
      const t = new Int32Array(j * 2);
      t.set(this.emailTo);
      this.emailTo = t;
    }
    this.emailFrom[j] = from;
    this.emailTo[j] = to;
    this.emailText[j] = text as string;
    this.emailPrimary[j] = primary;
  }

  /** A plain-ASCII string's bytes hold something besides spaces (nonBlank: no other whitespace can be there unescaped). */
  private bytesNonBlank(from: number, to: number): boolean {
    for (let i = from; i < to; i++) if (this.b[i] !== B.Space) return true;
    return false;
  }

  /** addAccount's interning twin: the Identifier's rules (see identity.ts), on ids. */
  private internAccount(i: number, userId: number, login: string | undefined, loginFrom: number, loginTo: number, suspended: boolean): void {
    if (userId <= this.lastId) {
      this.ordered = false;
      return;
    }
    this.lastId = userId;
    if (suspended) return; // consumes no seat: no identity, no warning
    const ids = this.interning!;
    const keys = ids.keys;
    const b = this.b;
    const count = this.emailCount;
    const keyIds = ids.scratch(count);
    let primaries = 0;
    for (let j = 0; j < count; j++) {
      const primary = this.emailPrimary[j];
      let id = -1;
      if (primary || ids.withSecondary) {
        let from = this.emailFrom[j]!;
        if (from !== -1) {
          // normalizeEmail of printable ASCII: trimmed (only spaces can be there), lower-cased
          let to = this.emailTo[j]!;
          while (from < to && b[from] === B.Space) from++;
          while (to > from && b[to - 1] === B.Space) to--;
          if (from < to) id = keys.emails.idOfBytes(b, from, to, true);
        } else {
          const n = normalizeEmail(this.emailText[j]);
          if (n !== "") id = keys.emails.idOf(n);
        }
      }
      keyIds[j] = id;
      // a blank address normalizes to "" and back: id -1 exactly when it is blank
      if (primary && id !== -1) primaries++;
    }
    notePrimaries(this.noPrimary, this.severalPrimaries, i, primaries);
    ids.add(userId, keyIds, this.emailPrimary, count);
    // The login's key (count.ts's loginKey); the login as written is kept only where it differs.
    if (loginFrom !== -1) {
      let from = loginFrom;
      let to = loginTo;
      while (from < to && b[from] === B.Space) from++;
      while (to > from && b[to - 1] === B.Space) to--;
      const id = from < to ? keys.logins.idOfBytes(b, from, to, true) : -1;
      ids.login(id, from !== loginFrom || to !== loginTo || (id !== -1 && keys.logins.folded) ? b : null, loginFrom, loginTo, undefined);
    } else {
      const k = loginKey(login);
      ids.login(k === "" ? -1 : keys.logins.idOf(k), null, 0, 0, k === login && k !== "" ? undefined : login);
    }
  }

  /**
   * internAccount's twin for the ledger: the Identifier's rules (see identity.ts) with each key
   * written as its 16 hashed bytes into the set being built. What it does not take (see SetBuilder)
   * clears `ordered`, so the file is read the ordinary way.
   */
  private setAccount(i: number, userId: number, login: string | undefined, loginFrom: number, loginTo: number, suspended: boolean): void {
    if (userId <= this.lastId || !this.ordered) {
      this.ordered = false;
      return;
    }
    this.lastId = userId;
    if (suspended) return; // consumes no seat: no identity, no warning
    const set = this.sets!;
    const b = this.b;
    const count = this.emailCount;
    // Deduplicating compares an account's keys pairwise: a long list goes the ordinary way (a Set there).
    if (count > MAX_PAIRWISE) {
      this.ordered = false;
      return;
    }
    const primary = this.emailPrimary;
    set.beginAccount(this.emailFrom, this.emailTo, count);
    let primaries = 0;
    for (let pass = 0; pass < 2; pass++) {
      const wantPrimary = pass === 0;
      for (let j = 0; j < count; j++) {
        if (primary[j] !== wantPrimary) continue;
        let from = this.emailFrom[j]!;
        if (from !== -1) {
          // normalizeEmail of printable ASCII: trimmed (only spaces can be there), lower-cased
          let to = this.emailTo[j]!;
          while (from < to && b[from] === B.Space) from++;
          while (to > from && b[to - 1] === B.Space) to--;
          if (from === to) continue; // blank: no key
          set.keyOfBytes(b, from, to, wantPrimary);
        } else {
          const n = normalizeEmail(this.emailText[j]);
          if (n === "") continue;
          set.keyOfText(n, wantPrimary);
        }
        if (wantPrimary) primaries++;
      }
      if (wantPrimary) notePrimaries(this.noPrimary, this.severalPrimaries, i, primaries);
    }
    let ok: boolean;
    if (loginFrom !== -1) ok = set.loginOfBytes(b, loginFrom, loginTo);
    else ok = set.loginOfText(login as string);
    if (!ok) {
      this.ordered = false;
      return;
    }
    set.add(userId);
  }

  /** validate.ts's bookkeeping of user_ids, mirrored: merge a repeated id into its first account. */
  private addAccount(i: number, userId: number, login: string, emails: AccountEmail[], suspended: boolean): void {
    if (this.identifier !== null) {
      if (userId <= this.lastId) {
        this.ordered = false;
        return;
      }
      this.lastId = userId;
      const text = this.emailText;
      const primary = this.emailPrimary;
      const count = this.emailCount;
      if (suspended) return; // consumes no seat: no identity, no warning
      let primaries = 0;
      for (let j = 0; j < count; j++) if (primary[j] && text[j].trim() !== "") primaries++;
      notePrimaries(this.noPrimary, this.severalPrimaries, i, primaries);
      this.identified.push(this.identifier.account(userId, login, text, primary, count));
      return;
    }
    const accounts = this.users as Account[];
    if (this.byId === undefined && userId > this.lastId) {
      this.lastId = userId;
    } else {
      if (this.byId === undefined) {
        this.byId = new Map();
        for (let k = 0; k < accounts.length; k++) this.byId.set(accounts[k].userId, k);
      }
      const at = this.byId.get(userId);
      if (at !== undefined) {
        this.dupIds.note(`users[${i}].user_id`, `users[${this.firstRecord[at]}]`);
        this.merger.merge(accounts[at], emails, suspended);
        return;
      }
      this.byId.set(userId, accounts.length);
    }
    accounts.push({ userId, login, emails, suspended });
    this.firstRecord.push(i);
  }

  /** Drops what was built, before the reference reads the file again: peak memory stays one reader's. */
  discard(): void {
    this.users = undefined;
    this.firstRecord = [];
    this.byId = undefined;
    this.merger = new DuplicateMerger();
    this.identified = [];
    this.interning?.reset();
    this.sets?.reset();
  }

  /** Warnings exactly as validate.ts words them (the same function). */
  warnings(): Finding[] {
    if (this.identifier !== null || this.interning !== null || this.sets !== null) return warningsOf(this.file, this.dupIds, this.noPrimary, this.severalPrimaries);
    return accountWarnings(this.file, this.users as Account[], this.firstRecord, this.dupIds);
  }
}

function duplicateKeyRefusal(file: string, r: Reader, others: ValidationResult | undefined): ValidationResult {
  const errors = [...r.duplicates];
  if (r.moreDuplicates > 0) {
    const more = r.moreDuplicates;
    errors.push({ file, path: "", message: `… and ${more} more duplicate ${more === 1 ? "key" : "keys"}` });
  }
  if (others !== undefined && !others.ok) return { ok: false, file, errors: [...errors, ...others.errors], warnings: others.warnings };
  return { ok: false, file, errors, warnings: [] };
}

/**
 * The bytes a single pass reads (gunzipped, within the size limit, valid UTF-8), or null: the file
 * is then left to the ordinary reader, which words what is wrong with it.
 */
function singlePassBytes(bytes: Uint8Array, limits: ReadLimits): Buffer | null {
  let raw: Buffer;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: Math.max(1, limits.maxBytes) });
    } catch {
      return null;
    }
  } else if (bytes.length > limits.maxBytes) {
    return null;
  } else {
    raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  return isUtf8(raw) ? raw : null;
}

/** readExportFast's answer with its accounts identified after (the ordinary way, for what a single pass does not take). */
function identifiedViaAccounts(bytes: Uint8Array, file: string, limits: ReadLimits, keyOf: (normalizedEmail: string) => string): IdentifiedResult {
  const read = readExportFast(bytes, file, limits);
  if (!read.ok) return read;
  const { instance, accounts, warnings } = read.export;
  return { ok: true, export: { file, instance, accounts: identifyAccounts(accounts, keyOf), warnings } };
}

/**
 * Same contract as readExport (bytes to a validated export), in one pass over the bytes. Whatever it
 * accepts, readExport accepts with a deep-equal result; whatever it does not handle itself goes to
 * readExport. Its own refusal: a key read by validation appearing twice in one object.
 */
export function readExportFast(bytes: Uint8Array, file: string, limits: ReadLimits): ValidationResult {
  const raw = singlePassBytes(bytes, limits);
  if (!raw) return readExport(bytes, file, limits); // words the size, damage or encoding

  const r = new Reader(raw, file);
  let wellFormed = true;
  try {
    if (!r.document()) return readExport(bytes, file, limits);
  } catch (e) {
    if (e !== SYNTAX) throw e;
    wellFormed = false;
  }
  if (!wellFormed || r.invalid || r.duplicates.length > 0) r.discard();
  // Not JSON at all: the reference's syntax error says it all, repeated keys or not.
  if (!wellFormed) return readExport(bytes, file, limits);
  if (r.duplicates.length > 0) return duplicateKeyRefusal(file, r, r.invalid ? readExport(bytes, file, limits) : undefined);
  if (r.invalid) return readExport(bytes, file, limits);
  return {
    ok: true,
    export: { file, instance: r.instance as InstanceInfo, accounts: r.users as Account[], warnings: r.warnings() },
  };
}

/**
 * readExportFast's answer with each account reduced to its identity keys (identifyAccounts, keyOf),
 * in the same single pass over the bytes: no Account or e-mail objects for the usual export. Anything
 * unusual (not well-formed, invalid, repeated keys, user_ids not ascending) is read by
 * readExportFast and identified after it, so the answer is always the same as that.
 */
export function readExportIdentified(bytes: Uint8Array, file: string, limits: ReadLimits, keyOf: (normalizedEmail: string) => string): IdentifiedResult {
  const viaAccounts = () => identifiedViaAccounts(bytes, file, limits, keyOf);
  const raw = singlePassBytes(bytes, limits);
  if (!raw) return viaAccounts();
  const r = new Reader(raw, file, new Identifier(keyOf));
  try {
    if (!r.document() || r.invalid || !r.ordered || r.duplicates.length > 0) {
      r.discard();
      return viaAccounts();
    }
  } catch (e) {
    if (e !== SYNTAX) throw e;
    r.discard();
    return viaAccounts();
  }
  return { ok: true, export: { file, instance: r.instance as InstanceInfo, accounts: r.identified, warnings: r.warnings() } };
}

/** An export read for the report: its accounts (suspended ones dropped) as ids of a ReportKeys, in typed arrays. */
export interface InternedExport {
  file: string;
  instance: InstanceInfo;
  warnings: Finding[];
  /** Accounts (each user_id once). */
  count: number;
  userIds: Float64Array;
  /**
   * Logins as written, where they differ from their key (ids.login): account j's is the text
   * rawLoginTexts.get(j), else the bytes rawLoginBytes[rawLoginStart[j]..rawLoginStart[j + 1]) when
   * not empty, else its key's text.
   */
  rawLoginStart: Int32Array;
  rawLoginBytes: Uint8Array;
  rawLoginTexts: Map<number, string>;
  /** E-mail key ids (keys.emails) and login key ids (keys.logins; -1 for none); secondary ids only when read with them. */
  ids: InternedAccounts;
  /**
   * Set when read while the keys defer (ByteKeys.defer): `ids` hold tickets until resolveInterned
   * (interned-report.ts) makes them ids; `repeats`: an account may list a key twice (dropped then).
   */
  deferred?: { repeats: boolean };
}

export type InternedResult = { ok: true; export: InternedExport } | { ok: false; file: string; errors: Finding[]; warnings: Finding[] };

/** One export's accounts as ids, account by account (the Identifier's rules, on ids). */
class IdsBuilder {
  private userIds = new Float64Array(1024);
  private count = 0;
  private readonly logins = new Ints();
  private readonly rawLoginStart = new Ints();
  private rawLoginBytes = new Uint8Array(1024);
  private rawLoginTexts = new Map<number, string>();
  private readonly primaryStart = new Ints();
  private readonly primaryIds = new Ints();
  private readonly secondaryStart = new Ints();
  private readonly secondaryIds = new Ints();
  /** seen[id] === stamp: key id already taken by the current account (no quadratic scan for huge lists). */
  private seen = new Int32Array(1024);
  private stamp = 0;
  private keyIds = new Int32Array(16);
  /** Deferring: some account has two or more keys (which may be one key twice). */
  private repeats = false;

  constructor(
    readonly keys: ReportKeys,
    readonly withSecondary: boolean,
  ) {
    this.reset();
  }

  reset(): void {
    this.count = 0;
    this.logins.n = 0;
    this.rawLoginStart.n = 0;
    this.rawLoginStart.push(0);
    this.rawLoginTexts = new Map();
    this.primaryStart.n = 0;
    this.primaryIds.n = 0;
    this.secondaryStart.n = 0;
    this.secondaryIds.n = 0;
    this.primaryStart.push(0);
    this.secondaryStart.push(0);
    this.repeats = false;
  }

  /** Room for `count` key ids of one account. */
  scratch(count: number): Int32Array {
    if (this.keyIds.length < count) this.keyIds = new Int32Array(count * 2);
    return this.keyIds;
  }

  /** An account whose e-mails have key ids keyIds[j] (-1: blank), primary[j], j < count. */
  add(userId: number, keyIds: Int32Array, primary: readonly boolean[], count: number): void {
    if (this.count === this.userIds.length) {
      const bigger = new Float64Array(this.count * 2);
      bigger.set(this.userIds);
      this.userIds = bigger;
    }
    this.userIds[this.count++] = userId;
    if (this.keys.emails.deferring) {
      // tickets: equal keys are told apart only once resolved (resolveInterned drops repeats then)
      const before = this.primaryIds.n + this.secondaryIds.n;
      for (let j = 0; j < count; j++) if (primary[j] && keyIds[j] !== -1) this.primaryIds.push(keyIds[j]!);
      this.primaryStart.push(this.primaryIds.n);
      if (this.withSecondary) {
        for (let j = 0; j < count; j++) if (!primary[j] && keyIds[j] !== -1) this.secondaryIds.push(keyIds[j]!);
        this.secondaryStart.push(this.secondaryIds.n);
      }
      if (this.primaryIds.n + this.secondaryIds.n - before > 1) this.repeats = true;
      return;
    }
    const size = this.keys.emails.size;
    if (this.seen.length < size) {
      const bigger = new Int32Array(Math.max(size, this.seen.length * 2));
      bigger.set(this.seen);
      this.seen = bigger;
    }
    const seen = this.seen;
    const stamp = ++this.stamp;
    for (let j = 0; j < count; j++) {
      const id = keyIds[j]!;
      if (!primary[j] || id === -1 || seen[id] === stamp) continue;
      seen[id] = stamp;
      this.primaryIds.push(id);
    }
    this.primaryStart.push(this.primaryIds.n);
    if (!this.withSecondary) return;
    for (let j = 0; j < count; j++) {
      const id = keyIds[j]!;
      if (primary[j] || id === -1 || seen[id] === stamp) continue;
      seen[id] = stamp;
      this.secondaryIds.push(id);
    }
    this.secondaryStart.push(this.secondaryIds.n);
  }

  /**
   * The last account's login: its key id (-1: none), and the login as written when it differs
   * from the key: the bytes b[from..to) (b null: it does not), or `text`.
   */
  login(id: number, b: Uint8Array | null, from: number, to: number, text: string | undefined): void {
    this.logins.push(id);
    const used = this.rawLoginStart.a[this.rawLoginStart.n - 1]!;
    if (b !== null) {
      const end = used + to - from;
      if (end > this.rawLoginBytes.length) {
        const bigger = new Uint8Array(Math.max(end, this.rawLoginBytes.length * 2));
        bigger.set(this.rawLoginBytes.subarray(0, used));
        this.rawLoginBytes = bigger;
      }
      this.rawLoginBytes.set(b.subarray(from, to), used);
      this.rawLoginStart.push(end);
    } else {
      this.rawLoginStart.push(used);
      if (text !== undefined) this.rawLoginTexts.set(this.count - 1, text);
    }
  }

  /** The accounts added since reset, for `file`. */
  build(file: string, instance: InstanceInfo, warnings: Finding[]): InternedExport {
    const rawLoginStart = this.rawLoginStart.copy();
    return {
      file,
      instance,
      warnings,
      count: this.count,
      userIds: this.userIds.slice(0, this.count),
      rawLoginStart,
      rawLoginBytes: this.rawLoginBytes.slice(0, rawLoginStart[this.count]),
      rawLoginTexts: this.rawLoginTexts,
      ids: {
        primaryStart: this.primaryStart.copy(),
        primaryIds: this.primaryIds.copy(),
        secondaryStart: this.withSecondary ? this.secondaryStart.copy() : null,
        secondaryIds: this.withSecondary ? this.secondaryIds.copy() : null,
        login: this.logins.copy(),
      },
      ...(this.keys.emails.deferring ? { deferred: { repeats: this.repeats } } : {}),
    };
  }
}

/**
 * Identified accounts (see identity.ts) as ids of `keys`: what the report does with an export the
 * single pass does not intern itself. Keys are normalized e-mails (the CLI's keyOf).
 */
export function internAccounts(file: string, instance: InstanceInfo, warnings: Finding[], accounts: IdentifiedAccount[], keys: ReportKeys, withSecondary: boolean): InternedExport {
  const b = new IdsBuilder(keys, withSecondary);
  const primary: boolean[] = [];
  for (const a of uniqueAccounts(accounts)) {
    const ids = b.scratch(a.primary.length + a.secondary.length);
    let count = 0;
    for (const k of a.primary) {
      primary[count] = true;
      ids[count++] = k === "" ? -1 : keys.emails.idOf(k);
    }
    if (withSecondary) {
      for (const k of a.secondary) {
        primary[count] = false;
        ids[count++] = k === "" ? -1 : keys.emails.idOf(k);
      }
    }
    b.add(a.userId, ids, primary, count);
    const k = loginKey(a.login);
    b.login(k === "" ? -1 : keys.logins.idOf(k), null, 0, 0, k === a.login && k !== "" ? undefined : a.login);
  }
  return b.build(file, instance, warnings);
}

/**
 * readExportInterned's single pass alone, for the usual export: null (nothing decided; read the file
 * the ordinary way) unless it accepts the export in one pass and the export has no key by which
 * readUpload would take it for a GHEC report. So the report recognizes an export without searching
 * its bytes for the cloud report's key names first.
 */
export function readPlainExportInterned(bytes: Uint8Array, file: string, limits: ReadLimits, keys: ReportKeys, withSecondary: boolean): InternedExport | null {
  const raw = singlePassBytes(bytes, limits);
  return raw && readIdsOnce(raw, file, keys, withSecondary, true);
}

/** The single pass of readExportInterned over raw (gunzipped) bytes: null unless it takes the export (`plain`: and it has no key by which readUpload would take it for a GHEC report). */
function readIdsOnce(raw: Buffer, file: string, keys: ReportKeys, withSecondary: boolean, plain: boolean): InternedExport | null {
  const builder = new IdsBuilder(keys, withSecondary);
  const r = new Reader(raw, file, null, builder);
  try {
    if (!r.document() || r.invalid || !r.ordered || r.duplicates.length > 0 || (plain && r.cloudish)) {
      r.discard();
      return null;
    }
  } catch (e) {
    if (e !== SYNTAX) throw e;
    r.discard();
    return null;
  }
  return builder.build(file, r.instance as InstanceInfo, r.warnings());
}

/**
 * readExportIdentified for the report, keyed by the normalized e-mail: each account straight to
 * ids of `keys` in the single pass (no string or object per account for the usual export).
 * Anything unusual is read by readExportFast, identified and interned after, so the answer is
 * always readExportIdentified's, as ids. Secondary addresses are interned only `withSecondary`.
 */
export function readExportInterned(bytes: Uint8Array, file: string, limits: ReadLimits, keys: ReportKeys, withSecondary: boolean): InternedResult {
  const viaAccounts = (): InternedResult => {
    const read = readExportFast(bytes, file, limits);
    if (!read.ok) return read;
    const { instance, accounts, warnings } = read.export;
    return { ok: true, export: internAccounts(file, instance, warnings, identifyAccounts(accounts, (e) => e), keys, withSecondary) };
  };
  const raw = singlePassBytes(bytes, limits);
  const read = raw && readIdsOnce(raw, file, keys, withSecondary, false);
  return read ? { ok: true, export: read } : viaAccounts();
}

/** Writes an identity key (16 bytes of a keyed hash of a normalized address) into a pool; the ledger's HMAC (ledger/hmac.ts). */
export interface KeyWriter {
  /** The key of `normalized` into out[at..at+16). */
  textInto(normalized: string, out: Uint8Array, at: number): void;
  /** The key of the printable-ASCII address b[from..to) once A-Z are lower-cased (its normal form) into out[at..at+16). */
  lowerAsciiInto(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void;
  /** lowerAsciiInto's keys of short addresses, queued and computed together (faster by the batch). */
  readonly queue?: KeyQueue;
}

/**
 * Keys of printable-ASCII addresses of at most 55 bytes, queued and then computed together (the
 * ledger's: four at a time in WebAssembly SIMD). Not reentrant: one reader's synchronous pass at a time.
 */
export interface KeyQueue {
  /** How many fit before run() and clear(). */
  readonly capacity: number;
  /** How many are queued. */
  readonly length: number;
  /** Queues b[from..to) with A-Z lower-cased (false, nothing queued, if longer than 55 bytes). */
  lowerAscii(b: Uint8Array, from: number, to: number): boolean;
  /** Queued messages j and k are the same (so are their keys). */
  same(j: number, k: number): boolean;
  /** Drops the last one queued. */
  pop(): void;
  /** Computes every queued key. */
  run(): void;
  /** The key of queued message k (after run()) into out[at..at+16). */
  keyInto(k: number, out: Uint8Array, at: number): void;
  clear(): void;
}

/** A growable pool of 16-byte keys, as int32 words and their bytes. */
class KeyPool {
  words: Int32Array;
  bytes: Uint8Array;
  n = 0;
  constructor(keys: number) {
    this.words = new Int32Array(4 * keys);
    this.bytes = new Uint8Array(this.words.buffer);
  }
  /** Room for one more key at n. */
  room(): void {
    if (4 * this.n + 4 > this.words.length) {
      const bigger = new Int32Array(Math.max(64, this.words.length * 2));
      bigger.set(this.words);
      this.words = bigger;
      this.bytes = new Uint8Array(bigger.buffer);
    }
  }
  /** Key n equals one of keys from..n. */
  seen(from: number): boolean {
    const w = this.words;
    const k = 4 * this.n;
    for (let j = 4 * from; j < k; j += 4) {
      if (w[j] === w[k] && w[j + 1] === w[k + 1] && w[j + 2] === w[k + 2] && w[j + 3] === w[k + 3]) return true;
    }
    return false;
  }
}

/**
 * One export's accounts straight into an AccountSet's arrays (see account-set.ts): keys hashed into
 * the pool, logins appended to one text, no object or string per account. It refuses (false) a
 * login holding an '@', which the ledger stores as a hash (its own rule, on account objects).
 */
class SetBuilder {
  private userIds: Float64Array;
  private count = 0;
  private readonly loginStart: Ints;
  private readonly primaryStart: Ints;
  private readonly secondaryStart: Ints;
  private readonly primary: KeyPool;
  private readonly secondary: KeyPool;
  /** Logins: ASCII bytes not yet made text, and the text before them. */
  private loginBytes: Uint8Array;
  private loginUsed = 0;
  private loginPieces: string[] = [];
  private loginLength = 0;

  /**
   * The writer's queue, if any: an account whose addresses are all short ASCII (most) has its keys
   * queued, and deduplicated by comparing its addresses (equal addresses, equal keys); `slots[k]`
   * says where queued key k goes (2 x its index in its pool, + 1 in the secondary pool).
   */
  private readonly queue: KeyQueue | null;
  private readonly slots: Int32Array;
  /** The current account's keys are queued, from queue index `accountFirst` on. */
  private queuing = false;
  private accountFirst = 0;

  /** `accounts`: about how many the file holds (the arrays grow past it). */
  constructor(
    private readonly writer: KeyWriter,
    accounts: number,
  ) {
    this.queue = writer.queue ?? null;
    this.slots = new Int32Array(this.queue ? this.queue.capacity : 0);
    // sized once, so that growing leaves no garbage behind at the push's peak
    this.userIds = new Float64Array(accounts);
    this.loginStart = new Ints(accounts + 1);
    this.primaryStart = new Ints(accounts + 1);
    this.secondaryStart = new Ints(accounts + 1);
    this.primary = new KeyPool(accounts);
    this.secondary = new KeyPool(accounts >> 2);
    this.loginBytes = new Uint8Array(16 * accounts);
    this.reset();
  }

  reset(): void {
    this.queue?.clear();
    this.queuing = false;
    this.count = 0;
    this.loginStart.n = 0;
    this.primaryStart.n = 0;
    this.secondaryStart.n = 0;
    this.loginStart.push(0);
    this.primaryStart.push(0);
    this.secondaryStart.push(0);
    this.primary.n = 0;
    this.secondary.n = 0;
    this.loginUsed = 0;
    this.loginPieces = [];
    this.loginLength = 0;
  }

  /**
   * Before an account's keys: they are queued when every address is ASCII bytes of at most 55
   * (untrimmed), so that none of them is compared by its key with a queued key not computed yet.
   */
  beginAccount(emailFrom: Int32Array, emailTo: Int32Array, count: number): void {
    const q = this.queue;
    // more addresses than the queue holds (MAX_PAIRWISE keeps them fewer) go one by one
    let short = q !== null && count <= q.capacity;
    for (let j = 0; short && j < count; j++) short = emailFrom[j] !== -1 && emailTo[j]! - emailFrom[j]! <= 55;
    this.queuing = short;
    if (!short) return;
    if (q!.length + count > q!.capacity) this.flushQueue();
    this.accountFirst = q!.length;
  }

  /** Computes the queued keys into their pools' slots. */
  private flushQueue(): void {
    const q = this.queue!;
    if (q.length === 0) return;
    q.run();
    const slots = this.slots;
    for (let k = 0; k < q.length; k++) {
      const slot = slots[k]!;
      q.keyInto(k, (slot & 1 ? this.secondary : this.primary).bytes, 8 * (slot & ~1));
    }
    q.clear();
  }

  /** The current account's key of b[from..to) (see KeyWriter), unless it has that key already (a secondary: as primary or secondary). */
  keyOfBytes(b: Uint8Array, from: number, to: number, primary: boolean): void {
    const pool = primary ? this.primary : this.secondary;
    pool.room();
    if (this.queuing) {
      // the account's earlier keys: its primaries (all of them come first), then its secondaries
      const q = this.queue!;
      q.lowerAscii(b, from, to);
      const k = q.length - 1;
      for (let j = this.accountFirst; j < k; j++) {
        if (q.same(j, k)) {
          q.pop();
          return;
        }
      }
      this.slots[k] = 2 * pool.n + (primary ? 0 : 1);
      pool.n++;
      return;
    }
    this.writer.lowerAsciiInto(b, from, to, pool.bytes, 16 * pool.n);
    this.keep(pool, primary);
  }

  /** keyOfBytes for a normalized address as text. */
  keyOfText(normalized: string, primary: boolean): void {
    const pool = primary ? this.primary : this.secondary;
    pool.room();
    this.writer.textInto(normalized, pool.bytes, 16 * pool.n);
    this.keep(pool, primary);
  }

  private keep(pool: KeyPool, primary: boolean): void {
    if (pool.seen(primary ? this.primaryStart.a[this.count]! : this.secondaryStart.a[this.count]!)) return;
    if (!primary) {
      // against the account's primary keys: copy the key there for the comparison, without keeping it
      const p = this.primary;
      p.room();
      const w = pool.words;
      const k = 4 * pool.n;
      p.words[4 * p.n] = w[k]!;
      p.words[4 * p.n + 1] = w[k + 1]!;
      p.words[4 * p.n + 2] = w[k + 2]!;
      p.words[4 * p.n + 3] = w[k + 3]!;
      if (p.seen(this.primaryStart.a[this.count]!)) return;
    }
    pool.n++;
  }

  /** The current account's login as the ASCII bytes b[from..to); false if it holds an '@'. */
  loginOfBytes(b: Uint8Array, from: number, to: number): boolean {
    const len = to - from;
    if (this.loginUsed + len > this.loginBytes.length) {
      const bigger = new Uint8Array(Math.max(this.loginUsed + len, this.loginBytes.length * 2));
      bigger.set(this.loginBytes.subarray(0, this.loginUsed));
      this.loginBytes = bigger;
    }
    const out = this.loginBytes;
    let at = this.loginUsed;
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c === 0x40) return false;
      out[at++] = c;
    }
    this.loginUsed = at;
    this.loginLength += len;
    return true;
  }

  /** The current account's login as text; false if it holds an '@'. */
  loginOfText(login: string): boolean {
    if (login.includes("@")) return false;
    this.flushLogins();
    this.loginPieces.push(login);
    this.loginLength += login.length;
    return true;
  }

  private flushLogins(): void {
    if (this.loginUsed === 0) return;
    this.loginPieces.push((Buffer.from(this.loginBytes.buffer, this.loginBytes.byteOffset, this.loginUsed) as Latin1Buffer).latin1Slice(0, this.loginUsed));
    this.loginUsed = 0;
  }

  /** Closes the current account (its keys and login given). */
  add(userId: number): void {
    if (this.count === this.userIds.length) {
      const bigger = new Float64Array(this.count * 2);
      bigger.set(this.userIds);
      this.userIds = bigger;
    }
    this.userIds[this.count++] = userId;
    this.loginStart.push(this.loginLength);
    this.primaryStart.push(this.primary.n);
    this.secondaryStart.push(this.secondary.n);
  }

  build(): AccountSet {
    if (this.queue) this.flushQueue();
    this.flushLogins();
    const n = this.count;
    const p = this.primary.n;
    const keys = p + this.secondary.n;
    // The set's arrays are views of the builder's (it is done with them): no second copy of each at
    // the push's peak. Their unused tails were never written, so they take no memory. The keys: the
    // secondaries after the primaries, in the primary pool when they fit there.
    let words = this.primary.words;
    if (words.length < 4 * keys) {
      words = new Int32Array(4 * keys);
      words.set(this.primary.words.subarray(0, 4 * p));
    }
    words.set(this.secondary.words.subarray(0, 4 * this.secondary.n), 4 * p);
    const secondaryStart = this.secondaryStart.view();
    for (let i = 0; i <= n; i++) secondaryStart[i] += p;
    const loginText = this.loginPieces.length === 1 ? this.loginPieces[0]! : this.loginPieces.join("");
    return new AccountSet(this.userIds.subarray(0, n), loginText, this.loginStart.view(), this.primaryStart.view(), secondaryStart, words.subarray(0, 4 * keys), null);
  }
}

/** An export read for the ledger: its accounts (suspended ones dropped) as an AccountSet. */
export interface SetExport {
  file: string;
  instance: InstanceInfo;
  warnings: Finding[];
  accounts: AccountSet;
}

/**
 * readExportIdentified for the ledger, with keys of 16 bytes written by `writer` (the same keys keyOf
 * gives as text): for the usual export, its AccountSet straight from the bytes in one pass, equal
 * to AccountSet.fromAccounts of readExportIdentified's accounts. Anything else (not well-formed,
 * invalid, repeated keys or user_ids, user_ids not ascending, an account with many e-mails, a login
 * holding an '@') is readExportIdentified's answer itself, read the ordinary way.
 */
export function readExportSet(
  bytes: Uint8Array,
  file: string,
  limits: ReadLimits,
  keyOf: (normalizedEmail: string) => string,
  writer: KeyWriter,
): { ok: true; export: SetExport } | IdentifiedResult {
  const viaAccounts = () => identifiedViaAccounts(bytes, file, limits, keyOf);
  const raw = singlePassBytes(bytes, limits);
  const set = raw && readSetOnce(raw, file, writer, false);
  return set ? { ok: true, export: set } : viaAccounts();
}

/** The single pass of readExportSet over raw (gunzipped) bytes: null unless it takes the export (`plain`: and it has no key by which readUpload would take it for a GHEC report). */
function readSetOnce(raw: Buffer, file: string, writer: KeyWriter, plain: boolean): SetExport | null {
  // The usual export takes about 200 bytes an account (user_id, login, an e-mail and its flag, punctuation); a denser one grows the arrays.
  const builder = new SetBuilder(writer, Math.max(1024, Math.ceil(raw.length / 160)));
  const r = new Reader(raw, file, null, null, builder);
  try {
    if (!r.document() || r.invalid || !r.ordered || r.duplicates.length > 0 || (plain && r.cloudish)) {
      r.discard();
      return null;
    }
  } catch (e) {
    if (e !== SYNTAX) throw e;
    r.discard();
    return null;
  }
  return { file, instance: r.instance as InstanceInfo, warnings: r.warnings(), accounts: builder.build() };
}

/**
 * readExportSet's single pass alone, for the usual export (as readPlainExportInterned for the
 * report): null (read the file the ordinary way, readUpload) unless it takes the export in one pass
 * and the export has no key by which readUpload would take it for a GHEC report. So the push
 * recognizes an export without searching its bytes for the cloud report's key names first.
 */
export function readPlainExportSet(bytes: Uint8Array, file: string, limits: ReadLimits, writer: KeyWriter): SetExport | null {
  const raw = singlePassBytes(bytes, limits);
  return raw && readSetOnce(raw, file, writer, true);
}
