import { describe, expect, it } from "@jest/globals";
import { gzipSync } from "node:zlib";
import {
  normalizeHeader,
  parseLink,
  readCloudCsv as readCloudCsvText,
  readCloudCsvBytes,
  readCloudReportPages,
  readUpload,
  splitList,
  type CloudReadResult,
  type CloudReport,
} from "../../src/domain/cloud-report.js";
import { formatFinding } from "../../src/domain/findings.js";

const LIMITS = { maxBytes: 10 * 1024 * 1024 };
const HEADER =
  "github_com_login,github_com_name,github_com_user,github_com_verified_domain_emails,github_com_saml_name_id,license_type,enterprise_server_user_ids";

/** The text reader's answer, which the bytes reader (readUpload's) must give too: every case below is read both ways. */
function readCloudCsv(text: string, file: string): CloudReadResult {
  const expected = readCloudCsvText(text, file);
  const bytes = readCloudCsvBytes(new TextEncoder().encode(text), file);
  const plain = (r: CloudReadResult) => (r.ok ? { ...r, report: { ...r.report, members: [...r.report.members] } } : r);
  expect(plain(bytes)).toEqual(plain(expected));
  return expected;
}

function ok(r: CloudReadResult): CloudReport {
  if (!r.ok) throw new Error(`refused: ${r.errors.map(formatFinding).join("; ")}`);
  return r.report;
}
function refused(r: CloudReadResult): string[] {
  if (r.ok) throw new Error("accepted");
  return r.errors.map(formatFinding);
}

describe("CSV header names", () => {
  it.each([
    ["github_com_login", "github_com_login"],
    ["  GitHub com login ", "github_com_login"],
    ["GitHub-com -  user", "github_com_user"],
    ["GitHub com saml name", "github_com_saml_name_id"],
    ["github_com_saml_name", "github_com_saml_name_id"],
    ["GitHub login", "github_com_login"],
    ["GitHub saml name", "github_com_saml_name_id"],
    ["GitHub verified domain emails", "github_com_verified_domain_emails"],
    ["Enterprise server user ids", "enterprise_server_user_ids"],
    ["License type", "license_type"],
  ])("%j means %s", (name, expected) => {
    expect(normalizeHeader(name)).toBe(expected);
  });

  it("reads a report whose header is written in words (License reports reference) and one from data residency", () => {
    const words = ok(
      readCloudCsv(
        "GitHub com login,GitHub com user,GitHub com saml name,License type,Enterprise server user ids\nmona,TRUE,Mona@Corp.example,Enterprise,ghes.corp.example:7\n",
        "words.csv",
      ),
    );
    expect(words.members).toEqual([{ login: "mona", keys: ["mona@corp.example"], links: [{ host: "ghes.corp.example", userId: 7 }], visualStudio: false }]);
    const residency = ok(readCloudCsv("GitHub login,GitHub user,GitHub verified domain emails\nmona,yes,mona@corp.example\n", "r.csv"));
    expect(residency.members).toEqual([{ login: "mona", keys: ["mona@corp.example"], links: [], visualStudio: false }]);
    expect(residency.reportedSeats).toBeNull(); // no license_type column
  });

  it("refuses a header without github_com_user or without any identity column", () => {
    expect(refused(readCloudCsv("login,emails\na,b\n", "x.csv"))).toEqual([
      "x.csv: line 1: the header lacks github_com_user and one of github_com_verified_domain_emails, github_com_saml_name_id, enterprise_server_user_ids: is this GitHub's license report (Enterprise licensing → Export license usage)?",
    ]);
    expect(refused(readCloudCsv("github_com_user,license_type\ntrue,Enterprise\n", "x.csv"))[0]).toContain("lacks one of github_com_verified_domain_emails");
    expect(refused(readCloudCsv("", "empty.csv"))).toEqual(["empty.csv: is empty: expected a header row (GitHub's license report as CSV)"]);
  });
});

describe("CSV cells", () => {
  it("reads RFC 4180 quoting (commas, doubled quotes, line breaks), a BOM and CRLF line ends", () => {
    const text =
      "\ufeff" +
      HEADER +
      "\r\n" +
      'mona,"Octocat, Mona ""the cat""",true,"mona@corp.example; mona2@corp.example",,Enterprise,"ghes.corp.example:1,\r\nGHES-B.corp.example.:2"\r\n' +
      'hubot,"two\nlines",false,,,Enterprise,git.corp.example:3\r\n';
    const r = ok(readCloudCsv(text, "q.csv"));
    expect(r.rows).toBe(2);
    expect(r.members).toEqual([
      {
        login: "mona",
        keys: ["mona@corp.example", "mona2@corp.example"],
        links: [
          { host: "ghes.corp.example", userId: 1 },
          { host: "ghes-b.corp.example", userId: 2 },
        ],
        visualStudio: false,
      },
    ]);
    expect(r.linkedHosts).toEqual(["ghes-b.corp.example", "ghes.corp.example", "git.corp.example"]);
    expect(r.reportedSeats).toBe(2);
  });

  it("refuses a ragged row with its line number (counting line breaks inside quoted cells)", () => {
    const text = `${HEADER}\na,"x\ny",true,a@x.example,,Enterprise,\nb,,true,b@x.example,Enterprise\nc,,true,c@x.example,,Enterprise,,extra\n`;
    expect(refused(readCloudCsv(text, "report.csv"))).toEqual([
      "report.csv: line 4: 5 cells, the header has 7",
      "report.csv: line 5: 8 cells, the header has 7",
    ]);
  });

  it("accepts a blank last line and blank lines in between; refuses an unclosed quote and text after a closing quote", () => {
    expect(ok(readCloudCsv(`${HEADER}\r\na,,1,a@x.example,,,\r\n\r\n`, "b.csv")).members).toHaveLength(1);
    expect(ok(readCloudCsv(`${HEADER}\n\na,,1,a@x.example,,,`, "b.csv")).members).toHaveLength(1);
    expect(refused(readCloudCsv(`${HEADER}\na,"oops,1,a@x.example,,,\n`, "u.csv"))).toEqual([
      "u.csv: line 2: a quoted cell is never closed (a quote inside a cell is written as two quotes)",
    ]);
    expect(refused(readCloudCsv(`${HEADER}\na,"x"y,1,a@x.example,,,\n`, "u.csv"))[0]).toMatch(/^u\.csv: line 2: text after a quoted cell/);
  });

  it("reads booleans in every spelling; an empty cell is false; anything else is refused by line", () => {
    const rows = ["true", "TRUE", "Yes", "1", " yes ", "false", "No", "0", ""].map((b, i) => `u${i},,${b},u${i}@x.example,,Enterprise,`);
    const r = ok(readCloudCsv(`${HEADER}\n${rows.join("\n")}\n`, "b.csv"));
    expect(r.members.map((m) => m.login)).toEqual(["u0", "u1", "u2", "u3", "u4"]);
    expect(r.reportedSeats).toBe(9);
    expect(refused(readCloudCsv(`${HEADER}\na,,maybe,a@x.example,,,\n`, "b.csv"))).toEqual([
      "b.csv: line 2: github_com_user: expected true/false, yes/no or 1/0",
    ]);
  });

  it("splits list cells on commas, semicolons and white space", () => {
    expect(splitList(" a@x , b@x;c@x\td@x\n e@x;;")).toEqual(["a@x", "b@x", "c@x", "d@x", "e@x"]);
    expect(splitList("")).toEqual([]);
  });

  it("keys: verified e-mails and the NameID, normalized like GHES e-mails, deduplicated, empties dropped", () => {
    const r = ok(readCloudCsv(`${HEADER}\nmona,,true,"MONA@Corp.example, mona@corp.example",  Mona@CORP.example  ,Enterprise,\n`, "k.csv"));
    expect(r.members[0]!.keys).toEqual(["mona@corp.example"]);
  });

  it("license_type: Visual Studio in any case marks the member; only 'enterprise' rows make GitHub's figure", () => {
    const text = `${HEADER}\na,,true,a@x.example,,Visual Studio subscription,\nb,,true,b@x.example,,VISUAL STUDIO,\nc,,true,c@x.example,, enterprise ,\nd,,false,,,Enterprise,ghes.x.example:4\ne,,true,e@x.example,,,\n`;
    const r = ok(readCloudCsv(text, "vs.csv"));
    expect(r.members.map((m) => [m.login, m.visualStudio])).toEqual([
      ["a", true],
      ["b", true],
      ["c", false],
      ["e", false],
    ]);
    expect(r.reportedSeats).toBe(2);
    expect(r.linkedHosts).toEqual(["ghes.x.example"]);
  });

  it("ignores malformed host:id items with one warning naming the lines", () => {
    const text = `${HEADER}\na,,true,,,Enterprise,"ghes.x.example,ghes.x.example:abc,:5,ghes.x.example:0,ok.x.example:12"\nb,,false,,,,nohost\nc,,false,,,,\n`;
    const r = ok(readCloudCsv(text, "l.csv"));
    expect(r.members[0]!.links).toEqual([{ host: "ok.x.example", userId: 12 }]);
    expect(r.linkedHosts).toEqual(["ok.x.example"]);
    expect(r.warnings.map(formatFinding)).toEqual([
      "l.csv: 5 enterprise_server_user_ids items are not host:id (a host name, a colon, a user id) and were ignored (line 2, line 3)",
    ]);
    expect(parseLink("Host.Example.:42")).toEqual({ host: "host.example", userId: 42 });
    expect(parseLink("ghes.x.example:8443:42")).toEqual({ host: "ghes.x.example:8443", userId: 42 });
  });
});

describe("JSON reports", () => {
  const page = (total: number | undefined, users: object[]) => ({ ...(total === undefined ? {} : { total_seats_consumed: total, total_seats_purchased: 10 }), users });
  const user = (login: string, extra: object = {}) => ({
    github_com_login: login,
    github_com_user: true,
    github_com_verified_domain_emails: [`${login}@corp.example`],
    github_com_saml_name_id: null,
    license_type: "Enterprise",
    enterprise_server_user_ids: [],
    ...extra,
  });

  it("reads one page, and pages (gh api --paginate --slurp) with the totals of the first", () => {
    const one = ok(readCloudReportPages([page(5, [user("a"), user("b", { github_com_user: false, enterprise_server_user_ids: ["GHES.x.example.:3"] })])], "one.json"));
    expect(one.format).toBe("json");
    expect(one.members.map((m) => m.login)).toEqual(["a"]);
    expect(one.reportedSeats).toBe(5);
    expect(one.linkedHosts).toEqual(["ghes.x.example"]);
    const paged = ok(readCloudReportPages([page(7, [user("a")]), page(99, [user("b", { github_com_saml_name_id: "B@Corp.example" })])], "p.json"));
    expect(paged.reportedSeats).toBe(7);
    expect(paged.members.map((m) => [m.login, m.keys])).toEqual([
      ["a", ["a@corp.example"]],
      ["b", ["b@corp.example"]],
    ]);
    expect(ok(readCloudReportPages([page(undefined, [user("a")])], "n.json")).reportedSeats).toBeNull();
  });

  it("refuses wrong types with the JSON path; a page index when paged", () => {
    expect(refused(readCloudReportPages([page(5, [user("a"), user("b"), user("c"), user("d", { github_com_verified_domain_emails: "d@corp.example" })])], "report.json"))).toEqual([
      "report.json: users[3].github_com_verified_domain_emails: expected an array of strings, got a string",
    ]);
    expect(refused(readCloudReportPages([page(5, [user("a")]), page(5, [user("b", { github_com_user: "true", enterprise_server_user_ids: [1] })])], "p.json"))).toEqual([
      "p.json: [1].users[0].github_com_user: expected a boolean, got a string",
      "p.json: [1].users[0].enterprise_server_user_ids: expected an array of strings, got an array holding something else",
    ]);
    expect(refused(readCloudReportPages([{ total_seats_consumed: "5", users: {} }], "t.json"))).toEqual([
      "t.json: total_seats_consumed: expected a whole number, got a string",
      "t.json: users: expected an array of user records, got an object",
    ]);
  });

  it("warns about, never refuses, malformed links", () => {
    const r = ok(readCloudReportPages([page(1, [user("a", { enterprise_server_user_ids: ["nohost", "h.example:2"] })])], "w.json"));
    expect(r.members[0]!.links).toEqual([{ host: "h.example", userId: 2 }]);
    expect(r.warnings.map(formatFinding)).toEqual([
      "w.json: an enterprise_server_user_ids item is not host:id (a host name, a colon, a user id) and was ignored (users[0].enterprise_server_user_ids)",
    ]);
  });
});

describe("readUpload: recognition", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const exportText = JSON.stringify({ version: 1, instance: { server_id: "s", host_name: "h.example" }, users: [{ user_id: 1, login: "github_com_x", emails: [{ email: "github_com_x@corp.example", primary: true }] }] });

  it("a .csv or .csv.gz name is a cloud report, gzip and BOM decoded", () => {
    const csv = `\ufeff${HEADER}\na,,true,a@x.example,,Enterprise,\n`;
    for (const [name, data] of [["r.csv", bytes(csv)], ["R.CSV.GZ", gzipSync(bytes(csv))]] as const) {
      const u = readUpload(data, name, LIMITS);
      expect(u.kind).toBe("cloud");
      expect(u.kind === "cloud" && ok(u.result).members).toHaveLength(1);
    }
  });

  it("JSON: an array of objects, total_seats_consumed, or users with github_com_login / github_com_user is a cloud report", () => {
    const cases = [
      JSON.stringify([{ total_seats_consumed: 1, users: [] }]),
      ` \n${JSON.stringify({ total_seats_consumed: 1, users: [] })}`,
      JSON.stringify({ users: [{ github_com_login: "a" }] }),
      JSON.stringify({ users: [{ login: "x" }, { github_com_user: false }] }),
    ];
    for (const text of cases) {
      expect(readUpload(bytes(text), "r.json", LIMITS).kind).toBe("cloud");
      expect(readUpload(gzipSync(bytes(text)), "r.json.gz", LIMITS).kind).toBe("cloud");
    }
  });

  it("anything else is a GHES export (even one mentioning github_com_ in its values)", () => {
    const u = readUpload(bytes(exportText), "e.json", LIMITS);
    expect(u.kind).toBe("export");
    expect(u.kind === "export" && u.result.ok).toBe(true);
    expect(readUpload(bytes("[1,2]"), "a.json", LIMITS).kind).toBe("export");
    expect(readUpload(bytes("{not json"), "a.json", LIMITS).kind).toBe("export");
    const empty = readUpload(bytes("[]"), "e.json", LIMITS);
    expect(empty.kind === "cloud" && refused(empty.result)).toEqual(["e.json: is an empty array: a report has at least one page"]);
  });
});
