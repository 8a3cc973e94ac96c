// The CLI with GHEC license reports: every contract rule on made-up fixtures, figures worked out
// by hand (in the comments), never computed by the code under test.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { main, processIo } from "../../src/cli/main.js";
import { SAMPLES } from "../helpers/samples.js";

const FIX = "test/fixtures/cloud";
const EXPORTS = ["ghes-a.json", "ghes-b.json", "lab.json", "old.json"].map((f) => `${FIX}/${f}`);
const B = "11111111-0000-4000-8000-00000000000b";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { ...processIo, stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

async function reportJson(...argv: string[]): Promise<Record<string, unknown>> {
  const r = await run("report", "--json", ...argv);
  if (r.code !== 0) throw new Error(r.err);
  return JSON.parse(r.out) as Record<string, unknown>;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "license-sync-cloud-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The fixtures' GHES side: 9 accounts; ghes-a/ann and GHES-B/ann-b share Ann@Corp.example -> 8 seats.
// report.csv (header in words with odd case and spaces, BOM, CRLF, quoted commas/quotes/line break):
//   bob-gh   verified bob.a@ and BOB.B@          -> bridges ghes-a/bob and GHES-B/bob-b: one person
//   nina     SAML NameID ANN@Corp.Example        -> ann's person
//   cid-gh   link GHES-A.corp.example.:3         -> ghes-a/cid (no e-mail at all)
//   vs-person  Visual Studio subscription       -> cloud only, covered by VS
//   eve      eve.cloud@ (GHES-B/eve has eve@)    -> cloud only; GHES-B/eve is a cross-environment saving
//   solo     link lab.corp.example:999 (no such account) -> cloud only
//   nina2    ann@corp.example                   -> ann's person again
//   two server-only rows (github_com_user false / empty): not counted; one links ghes-b, one is "nohost"
// persons: ann, bob, cid (both: 3); dee, GHES-B/eve, fay, gus (server only: 4); vs, eve, solo (cloud only: 3)
// = 10; Visual Studio 1; seats 9; GitHub's figure: 8 rows with license_type Enterprise (any case);
// hosts linked: ghes-a, ghes-b, lab -> Old.corp.example. is unknown to GitHub.
const EXPECTED = {
  seats: 9,
  persons: 10,
  cloud_members: 7,
  both: 3,
  cloud_only: 3,
  server_only: 4,
  visual_studio: 1,
  reported_seats: 8,
  hosts_unknown_to_github: ["old.corp.example"],
  cross_savings: [{ login: "eve", server_id: B, host_name: "GHES-B.corp.example" }],
};

describe("report with a cloud report", () => {
  it("adds the contract's enterprise object; the GHES-side fields stay exactly as without it", async () => {
    const without = await reportJson(...EXPORTS);
    const withCloud = await reportJson(...EXPORTS, `${FIX}/report.csv`);
    expect(withCloud.enterprise).toEqual(EXPECTED);
    const { enterprise: _, ...ghesSide } = withCloud;
    expect(ghesSide).toEqual(without);
    expect(without).toMatchObject({ seats: 8, accounts: 9, deduplicated: 1 });
    expect(without).not.toHaveProperty("enterprise");
  });

  it("takes files in any order, cloud report first or in between, gzip-compressed too", async () => {
    writeFileSync(join(tmp, "report.csv.gz"), gzipSync(readFileSync(`${FIX}/report.csv`)));
    const first = await reportJson(`${FIX}/report.csv`, ...EXPORTS);
    const between = await reportJson(EXPORTS[3]!, EXPORTS[1]!, join(tmp, "report.csv.gz"), EXPORTS[0]!, EXPORTS[2]!);
    expect(first.enterprise).toEqual(EXPECTED);
    expect(between.enterprise).toEqual(EXPECTED);
  });

  it("reads the JSON form as pages (gh api --paginate --slurp): GitHub's figure from the first page's total", async () => {
    const r = await run("report", "--json", ...EXPORTS, `${FIX}/report-pages.json`);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { enterprise: unknown }).enterprise).toEqual({ ...EXPECTED, reported_seats: 11 });
    expect(r.err).toContain(
      `warning: ${FIX}/report-pages.json: an enterprise_server_user_ids item is not host:id (a host name, a colon, a user id) and was ignored ([1].users[3].enterprise_server_user_ids)`,
    );
  });

  it("--match-logins: the member eve matches GHES-B/eve by login; the saving is gone", async () => {
    // eve's person now has both sides: both 4, cloud only 2 (vs, solo), server only 3 (dee, fay, gus)
    const json = await reportJson("--match-logins", ...EXPORTS, `${FIX}/report.csv`);
    expect(json.enterprise).toEqual({ ...EXPECTED, seats: 8, persons: 9, both: 4, cloud_only: 2, server_only: 3, cross_savings: [] });
  });

  it("only the last cloud report counts, and stderr says which replaced which", async () => {
    // older.csv: one member zed@ (no match), no link column: every host unknown to GitHub
    const older = { seats: 9, persons: 9, cloud_members: 1, both: 0, cloud_only: 1, server_only: 8, visual_studio: 0, reported_seats: 1,
      hosts_unknown_to_github: ["ghes-a.corp.example", "ghes-b.corp.example", "lab.corp.example", "old.corp.example"], cross_savings: [] };
    const r = await run("report", "--json", `${FIX}/report.csv`, ...EXPORTS, `${FIX}/older.csv`);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { enterprise: unknown }).enterprise).toEqual(older);
    expect(r.err).toContain(`note: ${FIX}/older.csv replaces ${FIX}/report.csv (only the last cloud report counts)`);
    expect((await reportJson(`${FIX}/older.csv`, ...EXPORTS, `${FIX}/report.csv`)).enterprise).toEqual(EXPECTED);
  });

  it("reads a data-residency header (GitHub login, GitHub saml name, …)", async () => {
    // eve joins GHES-B/eve by e-mail and link: 8 persons, 1 on both sides
    const json = await reportJson(...EXPORTS, `${FIX}/residency.csv`);
    expect(json.enterprise).toEqual({ seats: 8, persons: 8, cloud_members: 1, both: 1, cloud_only: 0, server_only: 7, visual_studio: 0, reported_seats: 1,
      hosts_unknown_to_github: ["ghes-a.corp.example", "lab.corp.example", "old.corp.example"], cross_savings: [] });
  });

  it("the human report shows every enterprise figure and never an e-mail address", async () => {
    const r = await run("report", ...EXPORTS, `${FIX}/report.csv`);
    expect(r.code).toBe(0);
    for (const line of [/Enterprise seats +9 /, /Persons +10 /, /GHEC members +7 /, /On both sides +3 /, /Cloud only +3 /, /Server only +4 /, /Visual Studio +1 /, /GitHub's figure +8 /]) {
      expect(r.out).toMatch(line);
    }
    expect(r.out).toContain("Difference: GitHub counts 1 fewer (+1 here)");
    expect(r.out).toMatch(/GHES hosts unknown to GitHub.*\n {2}old\.corp\.example\n/);
    expect(r.out).toMatch(/eve +GHES-B\.corp\.example +11111111-0000-4000-8000-00000000000b/);
    expect(r.out).toContain("Seats:         8");
    expect(r.out).not.toContain("@");
  });

  it("a cloud report alone: everyone is cloud only", async () => {
    const json = await reportJson(`${FIX}/older.csv`);
    expect(json).toMatchObject({ seats: 0, accounts: 0, enterprise: { persons: 1, cloud_only: 1, seats: 1, hosts_unknown_to_github: [] } });
  });
});

describe("refusals", () => {
  it("a ragged row: the file and line, nothing on stdout, exit 1", async () => {
    const r = await run("report", "--json", ...EXPORTS, `${FIX}/ragged.csv`);
    expect(r).toEqual({ code: 1, out: "", err: `${FIX}/ragged.csv: line 7: 14 cells, the header has 17\n` });
  });

  it("a JSON report with a wrong type: the file and JSON path", async () => {
    const r = await run("validate", `${FIX}/bad-types.json`, `${FIX}/report.csv`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${FIX}/bad-types.json: users[3].github_com_verified_domain_emails: expected an array of strings, got a string\n`);
  });
});

describe("validate", () => {
  it("accepts exports and cloud reports mixed, one ok line each", async () => {
    const r = await run("validate", `${FIX}/report.csv`, EXPORTS[0]!, `${FIX}/report-pages.json`);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `${FIX}/report.csv: ok (GHEC license report, CSV, 7 members of 9 rows)\n` +
        `${EXPORTS[0]}: ok (ghes-a.corp.example, server_id 11111111-0000-4000-8000-00000000000a, 4 accounts)\n` +
        `${FIX}/report-pages.json: ok (GHEC license report, JSON, 7 members of 9 user records)\n`,
    );
  });
});

describe("the shared samples (figures worked out by hand)", () => {
  // GHES: 37 accounts, 27 persons by primary e-mail. The CSV's members:
  //   uma-acme (uma@, links code:100, ghes-lab:105), ivan-acme (ivan@, links code:103, git.eu:103),
  //   hana-acme (NameID Hana@Acme.example = code/hana's HANA@ACME.EXAMPLE), emeka-acme (emeka@ does not
  //   match emeka.lab@, but the link code:106 does), kai-acme (kai@ = git/kai-eu): 5 on both sides;
  //   brian (brian.cloud@ matches nothing; its login equals code/brian's), tess, leo, mira-vs (Visual
  //   Studio): 4 cloud only. Two server-only rows (pia, gus) are not members.
  // persons 27 + 4 = 31; server only 27 - 5 = 22; VS 1; seats 30. GitHub's figure: 10 rows with
  // license_type Enterprise (8 members and the 2 server-only rows). Hosts linked: code, ghes-lab, git.eu.
  const files = ["code.json", "git.json", "ghes-lab.json", "ghec-license-report.csv"].map((f) => `${SAMPLES}/${f}`);
  const CODE = "5f1d3c2a-7b8e-4c1d-9e2f-a1b2c3d4e5f6";

  it("report --json", async () => {
    const json = await reportJson(...files);
    expect(json).toMatchObject({ seats: 27, accounts: 37, deduplicated: 10 });
    expect(json.enterprise).toEqual({
      seats: 30,
      persons: 31,
      cloud_members: 9,
      both: 5,
      cloud_only: 4,
      server_only: 22,
      visual_studio: 1,
      reported_seats: 10,
      hosts_unknown_to_github: [],
      cross_savings: [{ login: "brian", server_id: CODE, host_name: "code.acme.example" }],
    });
  });

  it("report --json --match-logins: brian's GHES person (code/brian, git/brian-eu) joins the member brian", async () => {
    const json = await reportJson("--match-logins", ...files);
    expect(json.enterprise).toMatchObject({ seats: 29, persons: 30, both: 6, cloud_only: 3, server_only: 21, visual_studio: 1, cross_savings: [] });
  });
});
