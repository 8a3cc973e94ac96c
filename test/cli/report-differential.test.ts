// The report reads exports straight to integer ids (readExportInterned, ByteKeys) and matches those;
// it must print exactly what the string path printed (test/helpers/report-reference.ts): stdout,
// stderr and exit code, text and --json, every option, on generated fleets with hostile cases
// (case, spaces, escapes, non-ASCII, NFC, lone surrogates, unordered or repeated user_ids,
// suspended accounts, gzip, invalid files, repeated server_ids, a cloud report), also when every
// key's hash collides with others'.
import { afterEach, describe, expect, it } from "@jest/globals";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { main } from "../../src/cli/main.js";
import { maskHashesForTests } from "../../src/domain/byte-keys.js";
import { referenceReport } from "../helpers/report-reference.js";

const EMAILS = [
  "a@x.example",
  "A@X.example",
  " a@x.example ",
  "b@x.example",
  "B@x.example",
  "c@x.example",
  "",
  "   ",
  "ß@x.example",
  "e\u0301@x.example",
  "\u00e9@x.example",
  "\u00c9@x.example",
  "\ud800@x.example",
  "\udbff@x.example",
  "\u00a0a@x.example",
  "zoë@x.example",
  "Zoë@x.example",
  "a@x.example\u2028",
];
/** Too long to be an e-mail address: the file is refused (rarely drawn, so most fleets get counted). */
const TOO_LONG = "x".repeat(321);
const LOGINS = ["ann", "Ann", " ann ", "ANN", "bob", "Bob", "cy", "zoë", "Zoë", "\ud800", "\u00a0ann", "d\u0000e", "ann\t"];
const SERVERS = ["s0", "s1", "s2", "s3"];

const emailArb = fc.record({
  email: fc.oneof({ arbitrary: fc.constantFrom(...EMAILS), weight: 200 }, { arbitrary: fc.string({ maxLength: 6 }), weight: 20 }, { arbitrary: fc.constant(TOO_LONG), weight: 1 }),
  primary: fc.oneof({ arbitrary: fc.boolean(), weight: 10 }, { arbitrary: fc.constant(null), weight: 1 }),
});
const userArb = fc.record({
  login: fc.oneof({ arbitrary: fc.constantFrom(...LOGINS), weight: 20 }, { arbitrary: fc.string({ minLength: 1, maxLength: 5 }), weight: 2 }),
  emails: fc.array(emailArb, { maxLength: 4 }),
  suspended: fc.constantFrom(undefined, true, false),
  suspendedAt: fc.constantFrom(undefined, null, "2024-01-01"),
});
const exportArb = fc.record({
  server: fc.constantFrom(...SERVERS),
  host: fc.constantFrom("h0.example", "h1.example", "H0.example"),
  users: fc.array(userArb, { maxLength: 10 }),
  /** "asc": ascending ids; "shuffled": not ascending (read the ordinary way); "repeated": a user_id twice */
  ids: fc.constantFrom("asc", "asc", "asc", "shuffled", "repeated"),
  gzip: fc.boolean(),
  /** Escape this many ASCII letters of the text as \uXXXX (an escaped string is read as a string). */
  escapes: fc.nat({ max: 3 }),
  broken: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  /** A key by which readUpload may take the document for a GHEC report (then it is one, or an invalid one). */
  cloudKey: fc.constantFrom("none", "none", "none", "none", "root", "user", "escaped", "nested"),
});
type Gen = typeof exportArb extends fc.Arbitrary<infer T> ? T : never;

const cloudRowArb = fc.record({
  login: fc.constantFrom(...LOGINS, ""),
  // often none: then a member joins GHES accounts by login or link only, and cross-environment savings show logins as written
  email: fc.oneof(fc.constant(""), fc.constantFrom(...EMAILS.slice(0, 12))),
  links: fc.array(fc.tuple(fc.constantFrom("h0.example", "h1.example"), fc.integer({ min: 1, max: 12 })), { maxLength: 2 }),
  vs: fc.boolean(),
});

function exportBytes(e: Gen, seed: number): Uint8Array {
  let ids = e.users.map((_, k) => k + 1 + (k > 3 ? 5 : 0));
  if (e.ids === "shuffled" && ids.length > 1) ids = [...ids.slice(1), ids[0]!];
  if (e.ids === "repeated" && ids.length > 1) ids[ids.length - 1] = ids[0]!;
  const users = e.users.map((u, k) => {
    const user: Record<string, unknown> = { user_id: ids[k], login: u.login, emails: u.emails.map((m) => (m.primary === null ? { email: m.email } : m)) };
    if (u.suspended !== undefined) user.suspended = u.suspended;
    if (u.suspendedAt !== undefined) user.suspended_at = u.suspendedAt;
    if (e.broken && k === 0) delete user.login;
    return user;
  });
  const doc: Record<string, unknown> = { version: 1, instance: { server_id: e.server, host_name: e.host, version: "3.13.0" }, users };
  if (e.cloudKey === "root") doc.total_seats_consumed = 3;
  if (users.length > 0 && (e.cloudKey === "user" || e.cloudKey === "escaped")) users[users.length - 1]!.github_com_login = "ann";
  if (users.length > 0 && e.cloudKey === "nested") users[0]!.extra = { github_com_user: true };
  let text = JSON.stringify(doc);
  if (e.cloudKey === "escaped") text = text.replace('"github_com_login"', '"github\\u005fcom_login"');
  // escape a few letters inside strings: equal strings, read through another path
  let at = seed % 97;
  for (let n = 0; n < e.escapes; n++) {
    const i = text.indexOf('"', at) + 1;
    if (i <= 0) break;
    const c = text.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) text = text.slice(0, i) + `\\u00${c.toString(16)}` + text.slice(i + 1);
    at = i + 7;
  }
  const bytes = new TextEncoder().encode(text);
  return e.gzip ? gzipSync(bytes) : bytes;
}

function csv(rows: (typeof cloudRowArb extends fc.Arbitrary<infer T> ? T : never)[]): Uint8Array {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = ["github_com_login,github_com_user,github_com_verified_domain_emails,license_type,enterprise_server_user_ids"];
  for (const r of rows) lines.push([q(r.login), "true", q(r.email), r.vs ? "Visual Studio subscription" : "Enterprise", q(r.links.map(([h, id]) => `${h}:${id}`).join(","))].join(","));
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

const fleetArb = fc.record({
  exports: fc.array(exportArb, { minLength: 1, maxLength: 5 }),
  cloud: fc.option(fc.array(cloudRowArb, { maxLength: 6 }), { freq: 3 }),
  /** The cloud report as the consumed-licenses API's JSON instead of a CSV. */
  cloudJson: fc.boolean(),
  seed: fc.nat(),
  json: fc.boolean(),
  allEmails: fc.boolean(),
  logins: fc.boolean(),
});

/** `report --json` of the files (default options), by the command and by the reference: their outputs. */
async function jsonReports(files: Map<string, Uint8Array>) {
  const out = { stdout: "", stderr: "" };
  const ref = { stdout: "", stderr: "" };
  const readFile = async (f: string) => files.get(f)!;
  await main(["report", "--json", ...files.keys()], { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), readFile, stat: async () => ({ size: 1, isFile: true }) });
  await referenceReport([...files.keys()], { json: true, allEmails: false, logins: false, maxBytes: 1 << 24 }, { stdout: (t) => void (ref.stdout += t), stderr: (t) => void (ref.stderr += t), readFile });
  return { out, ref };
}

let counted = 0;
let crossSavings = 0;
async function both(fleet: typeof fleetArb extends fc.Arbitrary<infer T> ? T : never): Promise<void> {
  const files = new Map<string, Uint8Array>();
  fleet.exports.forEach((e, i) => files.set(`e${i}.json${e.gzip ? ".gz" : ""}`, exportBytes(e, fleet.seed + i)));
  if (fleet.cloud && !fleet.cloudJson) files.set("cloud.csv", csv(fleet.cloud));
  if (fleet.cloud && fleet.cloudJson) {
    const users = fleet.cloud.map((r) => ({
      github_com_login: r.login,
      github_com_user: true,
      github_com_verified_domain_emails: r.email ? [r.email] : [],
      license_type: r.vs ? "Visual Studio subscription" : "Enterprise",
      enterprise_server_user_ids: r.links.map(([h, id]) => `${h}:${id}`),
    }));
    files.set("cloud.json", new TextEncoder().encode(JSON.stringify({ total_seats_consumed: users.length, users })));
  }
  const command = { json: fleet.json, allEmails: fleet.allEmails, logins: fleet.logins, maxBytes: 1 << 20 };
  const out = { stdout: "", stderr: "" };
  const ref = { stdout: "", stderr: "" };
  const readFile = async (f: string) => files.get(f)!;
  const args = ["report", ...(fleet.json ? ["--json"] : []), ...(fleet.allEmails ? ["--match-all-emails"] : []), ...(fleet.logins ? ["--match-logins"] : []), ...files.keys()];
  const code = await main(args, {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readFile,
    stat: async (f) => ({ size: files.get(f)!.length, isFile: true }),
  });
  const refCode = await referenceReport([...files.keys()], command, {
    stdout: (t) => void (ref.stdout += t),
    stderr: (t) => void (ref.stderr += t),
    readFile,
  });
  expect({ code, ...out }).toStrictEqual({ code: refCode, ...ref });
  if (code === 0) counted++;
  if (/cross_savings": \[\s*\{/.test(out.stdout)) crossSavings++;
}

describe("report over ids: the string path's output, exactly", () => {
  afterEach(() => maskHashesForTests(-1));

  it("on generated fleets", async () => {
    counted = 0;
    await fc.assert(fc.asyncProperty(fleetArb, both), { numRuns: 400 });
    expect(counted).toBeGreaterThan(150); // most fleets are counted, not refused
    expect(crossSavings).toBeGreaterThan(3); // about 20 a run: the logins as written are compared
  });

  it("when keys' hashes collide (four hash values in all: every lookup compares bytes, long runs re-seed, then a Map)", async () => {
    maskHashesForTests(3);
    await fc.assert(fc.asyncProperty(fleetArb, both), { numRuns: 150 });
  });

  it("on a fleet whose possible savings list thousands of logins in several seat counts (written from ids and bytes, sorted by bytes)", async () => {
    // Each instance its own e-mails: every login on several instances is a possible saving. Logins
    // share long prefixes, need JSON escapes or are non-ASCII (then their seat count sorts by text).
    const odd = ['q"', "q\\", "q\u0000", "q\u001f", "q\u007f", "zo\u00eb", "\ud800x", "q\n"];
    const loginOf = (k: number) => (k % 97 === 0 ? odd[(k / 97) % odd.length]! + (k % 5) : k % 2 ? `person${k}` : `Person${k}-${"x".repeat(k % 9)}`);
    const files = new Map(
      Array.from({ length: 5 }, (_, i) => {
        const users = Array.from({ length: 2500 }, (_, k) => ({ user_id: k + 1, login: loginOf((k * (i + 1)) % 3000), emails: [{ email: `u${k}@h${i}.example`, primary: true }] }));
        return [`f${i}.json`, new TextEncoder().encode(JSON.stringify({ version: 1, instance: { server_id: `s${i}`, host_name: `h${i}` }, users }))];
      }),
    );
    const { out, ref } = await jsonReports(files);
    expect(out).toStrictEqual(ref);
    const savings = JSON.parse(out.stdout).possible_savings as { seats: number }[];
    expect(savings.length).toBeGreaterThan(1000);
    expect(new Set(savings.map((p) => p.seats)).size).toBeGreaterThan(2);
  });

  it("with keys met only on the cloud side: as a text (not plain ASCII) and as bytes, equal once normalized, of members joined by nothing else", async () => {
    // the Kelvin sign's address is kept as a text, lower-cased to the ASCII key of the members after it
    const emails = ["\u212aate@only.example", "kate@only.example", "KATE@only.example", "\u00a0ann@only.example", "ann@only.example", "Ann@Only.example", "zo\u00eb@only.example", "Zo\u00cb@only.example", "b@only.example", "B@ONLY.example"];
    const rows = emails.map((email, k) => ({ login: `m${k}`, email, links: [] as ["h0.example" | "h1.example", number][], vs: false }));
    const users = [{ user_id: 1, login: "g", emails: [{ email: "g@x.example", primary: true }] }];
    const files = new Map([
      ["f.json", new TextEncoder().encode(JSON.stringify({ version: 1, instance: { server_id: "s", host_name: "h0.example" }, users }))],
      ["cloud.csv", csv(rows)],
    ]);
    const { out, ref } = await jsonReports(files);
    expect(out).toStrictEqual(ref);
    expect(JSON.parse(out.stdout).enterprise.cloud_only).toBe(4);
  });

  it.each([-1, 3])("on a fleet large enough to grow the tables, with many shared and case-folded keys (hash mask %i)", async (mask) => {
    maskHashesForTests(mask);
    const users = (i: number) =>
      Array.from({ length: 3000 }, (_, k) => ({
        user_id: k + 1,
        login: k % 3 === 0 ? `Person${(k * 7 + i) % 4000}` : `person${(k * 7 + i) % 4000}`,
        emails: [
          { email: k % 5 === 0 ? ` Person${(k * 7 + i) % 4000}@Corp.example` : `person${(k * 7 + i) % 4000}@corp.example`, primary: true },
          ...(k % 4 === 0 ? [{ email: `${k}+noreply@h${i}.example`, primary: false }] : []),
        ],
      }));
    for (const options of [[], ["--match-all-emails", "--match-logins"]]) {
      const files = new Map(Array.from({ length: 4 }, (_, i) => [`f${i}.json`, new TextEncoder().encode(JSON.stringify({ version: 1, instance: { server_id: `s${i}`, host_name: `h${i}` }, users: users(i) }))]));
      const out = { stdout: "", stderr: "" };
      const ref = { stdout: "", stderr: "" };
      const readFile = async (f: string) => files.get(f)!;
      await main(["report", "--json", ...options, ...files.keys()], { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), readFile, stat: async () => ({ size: 1, isFile: true }) });
      await referenceReport([...files.keys()], { json: true, allEmails: options.length > 0, logins: options.length > 0, maxBytes: 1 << 24 }, { stdout: (t) => void (ref.stdout += t), stderr: (t) => void (ref.stderr += t), readFile });
      expect(out).toStrictEqual(ref);
      expect(JSON.parse(out.stdout).possible_savings.length + JSON.parse(out.stdout).seats).toBeGreaterThan(0);
    }
  });
});
