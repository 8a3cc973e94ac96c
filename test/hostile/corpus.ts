// Hostile exports, generated in code at test time (nothing big is committed). Each item says what
// the app must answer: a refusal at a JSON path, or (where the contract says so) acceptance.
import { gzipSync } from "node:zlib";

/** Addresses planted in the corpus: no finding, comment, log line or history row may ever show them. */
export const SECRET_ADDRESSES = ["alice.secret@corp.example", "bob.private@corp.example"] as const;

export const SERVER_ID = "srv-hostile";
export const HOST_NAME = "ghes-hostile.corp.example";
const INSTANCE = `"version":1,"instance":{"server_id":"${SERVER_ID}","host_name":"${HOST_NAME}"}`;
const ALICE = `{"user_id":1,"login":"alice","emails":[{"email":"${SECRET_ADDRESSES[0]}","primary":true}]}`;
const BOB = `{"user_id":2,"login":"bob","emails":[{"email":"${SECRET_ADDRESSES[1]}","primary":true}]}`;

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");

/** A valid export of `users` (JSON texts of user records), after any extra root members. */
export function exportText(users: string[] = [ALICE, BOB], extraRoot = ""): string {
  return `{${extraRoot}${INSTANCE},"users":[${users.join(",")}]}`;
}

export const VALID = utf8(exportText());

export type Verdict =
  | { verdict: "refused"; path: string; message: RegExp }
  /** `warnings`: the JSON paths of the file's warnings, when the item is about them. */
  | { verdict: "accepted"; accounts: number; warnings?: string[] };

export interface HostileItem {
  name: string;
  bytes: () => Buffer;
  expect: Verdict;
}

const refused = (path: string, message: RegExp): Verdict => ({ verdict: "refused", path, message });
const accepted = (accounts: number, warnings?: string[]): Verdict => ({ verdict: "accepted", accounts, ...(warnings ? { warnings } : {}) });

const DEPTH = 100_000;
const deepArrays = (): string => "[".repeat(DEPTH) + "]".repeat(DEPTH);
const deepObjects = (): string => '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH);
const user = (id: string, rest = ""): string => `{"user_id":${id},"login":"carol"${rest}}`;
const PROTO = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}';
/** The instance with its display-only fields set to `fields` (JSON text of members). */
const instanceWith = (fields: string): string => INSTANCE.replace(`"host_name":"${HOST_NAME}"`, `"host_name":"${HOST_NAME}",${fields}`);
const LONG_EMAIL = "x".repeat(10_000 - "@corp.example".length) + "@corp.example";

/** Small hostile items (at most a few MB): every reader and the whole pipeline take all of them. */
export const CORPUS: HostileItem[] = [
  {
    name: "truncated JSON (cut inside an e-mail address)",
    bytes: () => VALID.subarray(0, VALID.indexOf("secret@") + 3),
    expect: refused("", /^is not valid JSON: it ends too early at line 1, column \d+ \(truncated\?\)$/),
  },
  {
    name: "truncated JSON (cut after a comma)",
    bytes: () => VALID.subarray(0, VALID.lastIndexOf(",") + 1),
    expect: refused("", /^is not valid JSON: it ends too early/),
  },
  {
    name: "truncated gzip",
    bytes: () => gzipSync(VALID).subarray(0, 40),
    expect: refused("", /^is gzip-compressed but damaged or truncated/),
  },
  { name: "user_id 1e400 (Infinity)", bytes: () => utf8(exportText([user("1e400")])), expect: refused("users[0].user_id", /^expected a positive whole number, got a number too large to be exact$/) },
  {
    name: "user_id 2^53+1 (rounds to 2^53)",
    bytes: () => utf8(exportText([user("9007199254740993")])),
    expect: refused("users[0].user_id", /^expected a positive whole number, got a number too large to be exact$/),
  },
  {
    name: "user_id with 400 digits",
    bytes: () => utf8(exportText([user("1" + "0".repeat(399))])),
    expect: refused("users[0].user_id", /too large to be exact$/),
  },
  { name: "user_id -0", bytes: () => utf8(exportText([user("-0")])), expect: refused("users[0].user_id", /^expected a positive whole number, got 0$/) },
  { name: "user_id 1.5", bytes: () => utf8(exportText([user("1.5")])), expect: refused("users[0].user_id", /^expected a positive whole number, got 1\.5$/) },
  { name: "user_id 1e-400 (underflows to 0)", bytes: () => utf8(exportText([user("1e-400")])), expect: refused("users[0].user_id", /got 0$/) },
  {
    name: "100,000 nested arrays at the root",
    bytes: () => utf8(deepArrays()),
    expect: refused("", /^expected a JSON object at the top level, got an array$/),
  },
  {
    name: "100,000 nested arrays as a user record",
    bytes: () => utf8(exportText([ALICE, deepArrays()])),
    expect: refused("users[1]", /^expected an object \(a user record\), got an array$/),
  },
  {
    name: "100,000 nested arrays as a user's e-mail list entry",
    bytes: () => utf8(exportText([user("3", `,"emails":[${deepArrays()}]`)])),
    expect: refused("users[0].emails[0]", /^expected an object, got an array$/),
  },
  {
    // The contract ignores unknown keys: a deep value under one is skipped, not refused.
    name: "100,000 nested arrays and objects under unknown keys (accepted: unknown keys are ignored)",
    bytes: () => utf8(exportText([ALICE, user("3", `,"extra":${deepArrays()}`)], `"x":${deepObjects()},`)),
    expect: accepted(2),
  },
  {
    name: "100,000 unclosed arrays under an unknown key",
    bytes: () => utf8(exportText([ALICE], `"x":${"[".repeat(DEPTH)},`)),
    expect: refused("", /^is not valid JSON: /),
  },
  {
    name: "invalid UTF-8 inside an e-mail address",
    bytes: () => {
      const at = VALID.indexOf("secret@");
      return Buffer.concat([VALID.subarray(0, at), Buffer.from([0xc3, 0x28]), VALID.subarray(at)]);
    },
    expect: refused("", /^is not valid UTF-8 \(first bad byte at offset \d+\)$/),
  },
  {
    name: "an overlong UTF-8 encoding of a quote",
    bytes: () => Buffer.concat([utf8("{"), Buffer.from([0xc0, 0xa2]), VALID.subarray(2)]),
    expect: refused("", /^is not valid UTF-8 \(first bad byte at offset 1\)$/),
  },
  {
    name: "UTF-16 with its BOM",
    bytes: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(exportText(), "utf16le")]),
    expect: refused("", /^is not valid UTF-8 \(it looks like UTF-16\)/),
  },
  { name: "a UTF-8 BOM (accepted per contract)", bytes: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), VALID]), expect: accepted(2) },
  { name: "a NUL byte inside a string", bytes: () => utf8(exportText([`{"user_id":3,"login":"a\u0000b"}`])), expect: refused("", /^is not valid JSON: bad control character/) },
  {
    name: "__proto__, constructor and prototype keys at every level (accepted, nothing polluted)",
    bytes: () =>
      utf8(
        `{${PROTO},${INSTANCE.replace('"instance":{', `"instance":{${PROTO},`)},"users":[` +
          `{${PROTO},"user_id":1,"login":"alice","emails":[{${PROTO},"email":"${SECRET_ADDRESSES[0]}","primary":true}]}]}`,
      ),
    expect: accepted(1),
  },
  {
    name: "a __proto__ key holding a user record",
    bytes: () => utf8(exportText([`{"__proto__":${BOB}}`])),
    expect: refused("users[0].user_id", /^is missing$/),
  },
  {
    name: "a __proto__ key holding the whole export",
    bytes: () => utf8(`{"__proto__":${exportText()}}`),
    expect: refused("version", /^is missing$/),
  },
  {
    name: "users as an object with a __proto__ array",
    bytes: () => utf8(`{${INSTANCE},"users":{"__proto__":[${ALICE}]}}`),
    expect: refused("users", /^expected an array of user records, got an object$/),
  },
  {
    name: "an e-mail of 10,000 characters",
    bytes: () => utf8(exportText([ALICE, `{"user_id":3,"login":"carol","emails":[{"email":"${LONG_EMAIL}","primary":true}]}`])),
    expect: refused("users[1].emails[0].email", /^is longer than 320 characters/),
  },
  {
    name: "an e-mail of 321 astral characters (642 UTF-16 units)",
    bytes: () => utf8(exportText([`{"user_id":3,"login":"carol","emails":[{"email":"${"𝄞".repeat(321)}"}]}`])),
    expect: refused("users[0].emails[0].email", /^is longer than 320 characters/),
  },
  {
    name: "an e-mail of exactly 320 characters (accepted)",
    bytes: () => utf8(exportText([`{"user_id":3,"login":"carol","emails":[{"email":"${"y".repeat(307)}@corp.example","primary":true}]}`])),
    expect: accepted(1),
  },
  // Display-only fields (#12 item 8): only shown or ignored, so another type is a warning, never a refusal.
  {
    name: "every display-only instance field of another type, an address inside one (accepted, a warning each)",
    bytes: () =>
      utf8(`{${instanceWith(`"version":3.17,"http_only":"no","license":42,"public_key":{"k":"${SECRET_ADDRESSES[0]}"},"features":"all"`)},"users":[${ALICE},${BOB}]}`),
    expect: accepted(2, ["instance.version", "instance.http_only", "instance.license", "instance.public_key", "instance.features"]),
  },
  {
    name: "100,000 nested objects as instance.public_key (accepted, a warning)",
    bytes: () => utf8(`{${instanceWith(`"public_key":${deepObjects()}`)},"users":[${ALICE}]}`),
    expect: accepted(1, ["instance.public_key"]),
  },
  {
    name: "a display-only key repeated, the last one of the expected type (accepted: JSON's last value counts, no warning)",
    bytes: () => utf8(`{${instanceWith(`"features":"x","license":1,"features":[],"license":null`)},"users":[${ALICE}]}`),
    expect: accepted(1, []),
  },
];

/** `{"user_id":1,"user_id":2}`: JSON.parse keeps the last silently. */
export const DUPLICATE_KEYS = utf8(exportText([`{"user_id":1,"user_id":2,"login":"carol","emails":[{"email":"${SECRET_ADDRESSES[0]}","primary":true}]}`]));

/**
 * Inflated size of the bombs that only need to be over the 100 MB cap. Inflating is synchronous, so
 * no time-out can stop it: with a broken cap this one costs a second and 160 MB, a 2 GB one gigabytes
 * per reader (a worker once reached 7.4 GB). The 2 GB bomb is tried only after this one was refused.
 */
export const OVER_CAP_BOMB_MIB = 160;

/**
 * A gzip bomb: concatenated gzip members of 1 MiB of spaces each (deflate tops out near 1000:1), the
 * first one a valid export so the inflated text would be accepted if it were ever read to the end.
 */
export function gzipBomb(inflatedMiB: number): Buffer {
  const pad = gzipSync(Buffer.alloc(1024 * 1024, 0x20), { level: 9 });
  const members = [gzipSync(VALID)];
  for (let i = 0; i < inflatedMiB; i++) members.push(pad);
  return Buffer.concat(members);
}

/** A valid export padded with spaces to `size` bytes: acceptable in every way but its size. */
export function paddedExport(size: number): Buffer {
  const b = Buffer.alloc(size, 0x20);
  VALID.copy(b, 0);
  return b;
}

/**
 * `n` user records written straight into a Buffer (no object graph, no giant string), the last one
 * with `"login":7`. Every 1000th record carries an address (all of them would triple the parse time):
 * the refusal must name the path and show none.
 */
export function millionUsers(n = 1_000_000): Buffer {
  const head = `{${INSTANCE},"users":[`;
  const b = Buffer.allocUnsafe(head.length + n * 96 + 64);
  let at = b.write(head, 0, "latin1");
  for (let i = 1; i <= n; i++) {
    const login = i === n ? "7" : `"u${i}"`;
    const emails = i % 1000 === 1 ? `,"emails":[{"email":"${i === 1 ? SECRET_ADDRESSES[0] : `u${i}@corp.example`}","primary":true}]` : "";
    at += b.write(`${i > 1 ? "," : ""}{"user_id":${i},"login":${login}${emails}}`, at, "latin1");
  }
  at += b.write("]}", at, "latin1");
  return b.subarray(0, at);
}

/** GitHub's limit on an issue body or a comment: anyone who can comment can send this much. */
export const COMMENT_LIMIT = 65_536;
const fill = (head: string, unit: string, tail = ""): string => head + unit.repeat(Math.floor((COMMENT_LIMIT - head.length - tail.length) / unit.length)) + tail;

/**
 * Hostile comment and issue texts: each says "json" so it passes the cheap rejection and reaches
 * the scans (fences, links, commands). Each must be read in well under a second.
 */
export const HOSTILE_TEXTS: { name: string; text: () => string }[] = [
  // Issue #12 item 2's reproducers: cubic in the former opening-fence regex (4.6 s at 3,000).
  { name: "3,000 '~' ending in a backtick", text: () => "json\n" + "~".repeat(3000) + "`" },
  { name: "a 65,536-character line of '~' ending in a backtick", text: () => fill("json\n", "~", "`") },
  { name: "a 65,536-character line of '`' ending in a backtick after a space", text: () => fill("json\n", "`", " `") },
  { name: "a tilde fence, 65,000 spaces and a backtick", text: () => fill("json\n~~~", " ", "json`") },
  { name: "an open ```json fence, then a closing-looking line of spaces", text: () => fill("```json\n```", " ", "x") },
  { name: "'~~~`' lines to the limit", text: () => fill("json\n", "~~~~~`\n") },
  // Quadratic in the former trailing-punctuation regex (2.3 s).
  { name: "a link followed by 65,000 dots and a letter", text: () => fill("json https://a", ".", "x") },
  { name: "a link followed by 65,000 dots", text: () => fill("json https://a", ".") },
  { name: "a .json link followed by mixed punctuation", text: () => fill("https://github.com/user-attachments/files/1/a.json", ".,;:!?", "x") },
  { name: "thousands of export-looking links", text: () => fill("", "https://evil.example/f/1/a.json\n") },
  { name: "a broken ```json block: \"users\", 65,000 spaces, no colon", text: () => fill('```json\n"users"', " ", "x\n```") },
  { name: "a command line with 65,000 spaces", text: () => fill("json\n/license-sync", " ", "x") },
  { name: "thousands of unclosed ```json fences", text: () => fill("", "```json\n") },
];

/**
 * One user_id repeated `n` times, each record with an address of its own (a small file anyone who
 * can open a pull request can send): merging the repeats was quadratic (20,000 repeats: 10.8 s).
 */
export function repeatedUserId(n: number): Buffer {
  const records: string[] = [];
  for (let i = 0; i < n; i++) records.push(`{"user_id":7,"login":"carol","emails":[{"email":"c${i}@corp.example","primary":${i === 0}}]}`);
  return utf8(exportText(records));
}
