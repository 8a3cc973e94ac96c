// The CSV read from its bytes (readCsvFast, members as columns) against the text reader
// (readCloudCsv, member objects): the same report on generated files with quoting, BOMs, CRLF,
// odd headers and hostile cells; a file the text reader refuses is one the bytes reader leaves to
// it. And the enterprise count over columns against the reference count over member objects.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { normalizeHeader, readCloudCsv, readCloudCsvBytes, readCsvFast, readUpload, type CloudReport } from "../../src/domain/cloud-report.js";
import { matchGhes } from "../../src/domain/count.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import type { IdentifiedAccount, InstanceAccounts } from "../../src/domain/types.js";
import { referenceEnterprise } from "../helpers/reference-enterprise.js";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
/** What readUpload's text path did: decode (dropping one BOM), then the text reader. */
const textRead = (bytes: Uint8Array, file: string) => readCloudCsv(new TextDecoder("utf-8").decode(bytes), file);
/** A report's enumerable fields with its members as objects (columns are not enumerable). */
const plain = (r: CloudReport) => ({ ...r, members: [...r.members] });

// ---- generated files ------------------------------------------------------------------------

const HEADER_NAMES: Record<string, string[]> = {
  login: ["github_com_login", "GitHub com login", "GitHub login", " GITHUB-COM-LOGIN "],
  user: ["github_com_user", "GitHub com user", "github user", "GitHub\u00a0com\u00a0user"],
  emails: ["github_com_verified_domain_emails", "GitHub verified domain emails", "GitHub com verified-domain emails"],
  saml: ["github_com_saml_name_id", "github_com_saml_name", "GitHub com saml name", "GitHub saml name"],
  license: ["license_type", "License type", "LICENSE-TYPE"],
  ids: ["enterprise_server_user_ids", "Enterprise server user ids"],
  other: ["github_com_name", "visual_studio_subscription_email", "total_user_accounts", "", "x", "Login"],
};
const ROLE_OF: Record<string, string> = {
  github_com_login: "login",
  github_com_user: "user",
  github_com_verified_domain_emails: "emails",
  github_com_saml_name_id: "saml",
  license_type: "license",
  enterprise_server_user_ids: "ids",
};

const SEPARATORS = [",", ";", " ", ", ", "\t", "\u00a0", "\n", ";;", "\r\n"];
const EMAILS = [
  "a@x.example",
  "A@X.example",
  "b@x.example",
  "Mona@Corp.example",
  "c@x.exa\u0301mple", // NFC makes it á
  "c@x.ex\u00e1mple",
  "\u00e9@x.example",
  "\u212a@x.example", // Kelvin sign: lower-cases to k
  "k@x.example",
  "\u3000",
  "\u3000a@x.example",
  "d@x\u007f",
  "\ud83d\ude00@x.example",
  'q"q@x.example',
  "\u00a0",
  "\ufeffa@x.example",
];
const LINKS = [
  "h.example:1",
  "H.Example.:2",
  "h.example..:3",
  "h.example:0",
  "h.example:abc",
  ":5",
  "nohost",
  "h.example:",
  ".:4",
  "h.example:1234567890123456",
  "h.example:123456789012345",
  "h.example:007",
  "ghes:8443:7",
  "h\u00e9.example:4",
  "H\u00c9.EXAMPLE.:4",
  "\u3000",
  "\u3000h.example:6",
  "h.example:6\u3000",
  "h.example:\u0661", // an Arabic-Indic digit is no digit
  "x.example:9",
];

const listCell = (items: readonly string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...items), fc.constantFrom(...SEPARATORS)), { maxLength: 4 }).map((parts) => parts.map(([item, sep], i) => (i === 0 ? item : sep + item)).join(""));
const pad = (cell: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom("", "", "", " ", "\t", "\u00a0", "\u3000", "\ufeff"), cell, fc.constantFrom("", "", "", " ", "\u2003", "\r")).map(([a, c, z]) => a + c + z);

const CELLS: Record<string, fc.Arbitrary<string>> = {
  user: pad(fc.constantFrom("true", "true", "TRUE", "Yes", "1", "false", "No", "0", "", "maybe", "tru\u0435", "\0true", "yes\0", "truee", "true false")),
  login: pad(fc.constantFrom("mona", "Mona", "MONA", "m\u00f6na", "", "a,b", 'x"y', "hubot", "HUBOT", "\u0130stanbul", "gh-person1")),
  emails: listCell(EMAILS),
  saml: pad(fc.constantFrom(...EMAILS, "Mona Lisa <a@x.example>", "", "A@X.EXAMPLE")),
  license: pad(
    fc.constantFrom("Enterprise", "enterprise", "ENTERPRISE", "Visual Studio subscription", "visual studio", "VISUAL  STUDIO", "Enterpr\u0130se", "Visual Stud\u0130o", "entrprise", "", "Enterprise Visual Studio", "v\u00edsual studio"),
  ),
  ids: listCell(LINKS),
  other: fc.oneof(fc.constantFrom("x", "", "a,b", 'say "hi"', "line\nbreak", "cr\r", "\u00e9", '"', "https://github.com/mona"), fc.string({ maxLength: 6 }), fc.string({ unit: "grapheme", maxLength: 4 })),
};

type Quote = "raw" | "quoted";
/** A cell as written: quoted when it must be (or by choice), quotes doubled inside. */
function written(value: string, quote: Quote): string {
  const must = /[,\n]/.test(value) || value.startsWith('"');
  return quote === "quoted" || must ? `"${value.replaceAll('"', '""')}"` : value;
}

const fileArb = fc
  .record({
    boms: fc.constantFrom(0, 0, 1, 2),
    leadingBlank: fc.constantFrom("", "", "\n", "\r\n\n"),
    columns: fc.array(fc.tuple(fc.constantFrom(...Object.keys(HEADER_NAMES)), fc.nat()), { minLength: 1, maxLength: 9 }),
    quoteHeader: fc.boolean(),
    rows: fc.nat({ max: 6 }),
    seed: fc.nat(),
    lineEnd: fc.constantFrom("\n", "\r\n", "mixed"),
    lastLineEnd: fc.boolean(),
  })
  .chain((f) => {
    // The user column and one identity column most of the time, so that members appear.
    const columns = f.seed % 8 === 0 ? f.columns : [["user", 0] as [string, number], ["emails", 1] as [string, number], ...f.columns];
    const names = columns.map(([role, k]) => HEADER_NAMES[role]![k % HEADER_NAMES[role]!.length]!);
    const roles = names.map((n) => ROLE_OF[normalizeHeader(n)] ?? "other");
    const row = fc.tuple(...roles.map((r) => fc.tuple(CELLS[r]!, fc.constantFrom<Quote>("raw", "raw", "quoted"))));
    return fc.record({
      f: fc.constant(f),
      names: fc.constant(names),
      rows: fc.array(row, { minLength: f.rows, maxLength: f.rows }),
      blanks: fc.array(fc.boolean(), { minLength: f.rows, maxLength: f.rows }),
      ends: fc.array(fc.boolean(), { minLength: f.rows + 1, maxLength: f.rows + 1 }),
      // a damage to some row now and then: a cell dropped or added, an unclosed quote, text after a closing quote
      damage: fc.option(fc.tuple(fc.nat(), fc.constantFrom("drop", "add", "unclosed", "after")), { freq: 6 }),
    });
  })
  .map(({ f, names, rows, blanks, ends, damage }) => {
    const end = (i: number) => (f.lineEnd === "mixed" ? (ends[i] ? "\r\n" : "\n") : f.lineEnd);
    const lines = [names.map((n) => written(n, f.quoteHeader ? "quoted" : "raw")).join(",")];
    rows.forEach((cells, i) => {
      let out = cells.map(([v, q]) => written(v, q));
      if (damage && damage[0] % Math.max(1, rows.length) === i) {
        if (damage[1] === "drop") out = out.slice(1);
        else if (damage[1] === "add") out = [...out, "extra"];
        else if (damage[1] === "unclosed") out = [...out.slice(0, -1), `"${out[out.length - 1]!}`];
        else out = [...out.slice(0, -1), `"x"y`];
      }
      if (blanks[i]) lines.push("");
      lines.push(out.join(","));
    });
    let text = "\ufeff".repeat(f.boms) + f.leadingBlank;
    lines.forEach((l, i) => (text += l + (i < lines.length - 1 || f.lastLineEnd ? end(i) : "")));
    return text;
  });

describe("the CSV read from its bytes", () => {
  it("gives the text reader's report, or leaves the file to it exactly when it refuses it", () => {
    fc.assert(
      fc.property(fileArb, (text) => {
        const bytes = encode(text);
        const expected = textRead(bytes, "r.csv");
        const fast = readCsvFast(bytes, "r.csv");
        if (expected.ok) {
          expect(fast).not.toBeNull();
          expect(plain(fast!)).toEqual(plain(expected.report));
        } else expect(fast).toBeNull();
        expect(readCloudCsvBytes(bytes, "r.csv")).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("reads arbitrary text as the text reader does", () => {
    const header = "github_com_user,github_com_login,github_com_verified_domain_emails,github_com_saml_name_id,license_type,enterprise_server_user_ids\n";
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 120 }), fc.string({ unit: fc.constantFrom(..."tT1,;\"\n\r :.@aA\u00a0x5"), maxLength: 120 }), (a, b) => {
        for (const text of [a, b, header + a, header + b, header + "true," + b]) {
          const bytes = encode(text);
          const expected = textRead(bytes, "r.csv");
          const fast = readCsvFast(bytes, "r.csv");
          if (expected.ok) expect(plain(fast!)).toEqual(plain(expected.report));
          else expect(fast).toBeNull();
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("keeps each key of a member with many once, in order (past the pairwise comparisons)", () => {
    // up to 30 different addresses, each in either case, among the hostile ones
    const address = fc.oneof(fc.constantFrom(...EMAILS), fc.tuple(fc.nat({ max: 29 }), fc.boolean()).map(([i, upper]) => (upper ? `E${i}@X.example` : `e${i}@x.example`)));
    const many = fc.array(fc.tuple(address, fc.constantFrom(...SEPARATORS)), { minLength: 10, maxLength: 80 });
    fc.assert(
      fc.property(many, fc.constantFrom(...EMAILS, "E2@x.example"), (items, saml) => {
        const cell = items.map(([item, sep], i) => (i === 0 ? item : sep + item)).join("");
        const text = `github_com_user,github_com_verified_domain_emails,github_com_saml_name_id\ntrue,${written(cell, "quoted")},${written(saml, "raw")}\ntrue,${written(cell.replaceAll('"', ""), "quoted")},x@x.example\n`;
        const expected = textRead(encode(text), "m.csv");
        expect(expected.ok).toBe(true);
        expect(plain(readCsvFast(encode(text), "m.csv")!)).toEqual(plain(expected.ok ? expected.report : (null as never)));
      }),
      { numRuns: 300 },
    );
  });

  it("names every host of a report of many (past the first few compared as bytes), in any case", () => {
    const link = fc.tuple(fc.nat({ max: 19 }), fc.boolean(), fc.nat({ max: 9 })).map(([h, upper, id]) => `${upper ? `H${h}.EXAMPLE` : `h${h}.example`}${h % 3 === 0 ? "." : ""}:${id}`);
    const row = fc.tuple(fc.constantFrom("true", "false"), fc.array(link, { maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        const text = "github_com_user,enterprise_server_user_ids\n" + rows.map(([user, links]) => `${user},"${links.join(",")}"`).join("\n");
        const expected = textRead(encode(text), "h.csv");
        expect(plain(readCsvFast(encode(text), "h.csv")!)).toEqual(plain(expected.ok ? expected.report : (null as never)));
      }),
      { numRuns: 300 },
    );
  });

  it("reads files of many short rows (its arrays grow past their first size) as the text reader does", () => {
    // rows far shorter than the size guessed per row: every column array grows, several times
    const cells = [["true", "false"], ["a", "B", ""], ["a@x", "B@x", "", "\u00e9@x"], ["", "h:1", '"h:2,H:3"']];
    for (let seed = 1; seed <= 5; seed++) {
      let x = seed;
      const pick = (list: string[]) => list[(x = (Math.imul(x, 1103515245) + 12345) >>> 0) % list.length]!;
      const rows = Array.from({ length: 1500 * seed }, () => cells.map(pick).join(","));
      const text = "github_com_user,github_com_login,github_com_saml_name_id,enterprise_server_user_ids\n" + rows.join("\n");
      const expected = textRead(encode(text), "g.csv");
      expect(expected.ok).toBe(true);
      expect(plain(readCsvFast(encode(text), "g.csv")!)).toEqual(plain(expected.ok ? expected.report : (null as never)));
    }
  });

  it("keeps a member's key once (a NameID that is also a verified e-mail), in the order the columns come", () => {
    const r = readCsvFast(encode("github_com_saml_name_id,github_com_user,github_com_verified_domain_emails\n B@x.example ,true,\"a@x.example;b@X.example, A@X.EXAMPLE\"\n"), "k.csv")!;
    expect(r.members[0]!.keys).toEqual(["b@x.example", "a@x.example"]);
  });

  it("readUpload reads a CSV from its bytes (gzip and BOM as before); members are built when first asked for", () => {
    const u = readUpload(encode("\ufeffgithub_com_user,github_com_login,github_com_saml_name_id\ntrue,Mona,MONA@x.example\n"), "r.csv", { maxBytes: 1 << 20 });
    expect(u.kind).toBe("cloud");
    const report = u.kind === "cloud" && u.result.ok ? u.result.report : null;
    expect(report?.columns?.count).toBe(1);
    expect(Object.keys(report!)).toEqual(["file", "format", "members", "reportedSeats", "linkedHosts", "rows", "warnings"]);
    expect(report!.members).toEqual([{ login: "Mona", keys: ["mona@x.example"], links: [], visualStudio: false }]);
    expect(report!.members).toBe(report!.members);
    // members set from outside: the columns no longer describe them
    report!.members = [];
    expect(report!.columns).toBeUndefined();
  });
});

// ---- the enterprise count over columns ------------------------------------------------------

const HOSTS = ["h.example", "x.example", "h\u00e9.example", "other.example"];
const accountArb = fc.record({
  userId: fc.integer({ min: 1, max: 8 }),
  login: fc.constantFrom("mona", "Mona", "hubot", "m\u00f6na", "gh-person1", "a,b", ""),
  primary: fc.array(fc.constantFrom("a@x.example", "b@x.example", "k@x.example", "c@x.ex\u00e1mple", "mona@corp.example", "\u00e9@x.example"), { maxLength: 2 }),
});
const instancesArb = fc.array(fc.record({ server: fc.integer({ min: 0, max: 3 }), host: fc.constantFrom(...HOSTS), accounts: fc.array(accountArb, { maxLength: 6 }) }), { maxLength: 4 }).map((list) =>
  list.map(
    ({ server, host, accounts }): InstanceAccounts => ({
      instance: { serverId: `s${server}`, hostName: host },
      accounts: accounts.map((a): IdentifiedAccount => ({ userId: a.userId, login: a.login, primary: a.primary, secondary: [] })),
    }),
  ),
);

describe("the enterprise count over a CSV's columns", () => {
  it("gives the reference count's figures over the same members as objects, under every option", () => {
    fc.assert(
      fc.property(instancesArb, fileArb, fc.record({ allEmails: fc.boolean(), logins: fc.boolean() }), (instances, text, options) => {
        const report = readCsvFast(encode(text), "r.csv");
        if (report === null) return;
        const expected = referenceEnterprise(instances, plain(report), options);
        expect(countEnterprise(instances, report, options)).toEqual(expected);
        expect(countEnterprise(instances, report, options, matchGhes(instances, options))).toEqual(expected);
        // the same members as objects (JSON reports, the ledger's stored members)
        expect(countEnterprise(instances, plain(report), options)).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
  });
});
