import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { main, processIo } from "../../src/cli/main.js";
import { parseSize } from "../../src/cli/args.js";
import { SAMPLES } from "../helpers/samples.js";

const FIX = "test/fixtures/cli";
const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const C = "cccccccc-0000-4000-8000-000000000003";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { ...processIo, stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

async function reportJson(...argv: string[]): Promise<Record<string, unknown>> {
  const r = await run("report", "--json", ...argv);
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Record<string, unknown>;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "license-sync-cli-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("report --json", () => {
  it("prints exactly the contract's answer for the shared samples, one JSON object", async () => {
    const r = await run("report", "--json", `${SAMPLES}/code.json`, `${SAMPLES}/git.json`, `${SAMPLES}/ghes-lab.json`);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(json).toMatchObject({ seats: 27, accounts: 37, deduplicated: 10 });
    expect(json.instances).toEqual([
      { server_id: "5f1d3c2a-7b8e-4c1d-9e2f-a1b2c3d4e5f6", host_name: "code.acme.example", ghes_version: "3.17.4", accounts: 18, exclusive: 9, unmatched: 0 },
      { server_id: "c0ffee00-1234-4abc-8def-0123456789ab", host_name: "ghes-lab.acme.example", ghes_version: "3.18.0", accounts: 7, exclusive: 4, unmatched: 0 },
      { server_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", host_name: "git.eu.acme.example", ghes_version: "3.16.9", accounts: 12, exclusive: 5, unmatched: 0 },
    ]);
    expect(json.overlaps).toEqual([
      { server_ids: ["5f1d3c2a-7b8e-4c1d-9e2f-a1b2c3d4e5f6", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"], people: 7 },
      { server_ids: ["5f1d3c2a-7b8e-4c1d-9e2f-a1b2c3d4e5f6", "c0ffee00-1234-4abc-8def-0123456789ab"], people: 3 },
      { server_ids: ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "c0ffee00-1234-4abc-8def-0123456789ab"], people: 1 },
    ]);
    expect(json.spans).toEqual([{ instances: 2, people: 8 }, { instances: 3, people: 1 }]);
    expect(r.out.trim().startsWith("{")).toBe(true);
    expect(r.out.trim().endsWith("}")).toBe(true);
  });

  it("gives the same seats whatever the file order", async () => {
    const a = await reportJson(`${SAMPLES}/ghes-lab.json`, `${SAMPLES}/code.json`, `${SAMPLES}/git.json`);
    const b = await reportJson(`${SAMPLES}/code.json`, `${SAMPLES}/git.json`, `${SAMPLES}/ghes-lab.json`);
    expect(a).toEqual(b);
  });

  it("applies every rule on the fixtures: case, spaces, NFC, transitive chain, no primary, suspended, duplicate id", async () => {
    const json = await reportJson(`${FIX}/alpha.json`, `${FIX}/beta.json`, `${FIX}/gamma.json`);
    // alice ~ alice+al ~ al spans 3; rémy spans alpha+beta; bob, Bob, carol, dave, dave.other alone
    expect(json).toMatchObject({ seats: 7, accounts: 10, deduplicated: 3, unmatched: 1 });
    expect(json.instances).toEqual([
      { server_id: A, host_name: "alpha.corp.example", ghes_version: "3.17.0", accounts: 4, exclusive: 2, unmatched: 1 },
      { server_id: B, host_name: "beta.corp.example", ghes_version: "3.17.0", accounts: 4, exclusive: 2, unmatched: 0 },
      { server_id: C, host_name: "gamma.corp.example", ghes_version: "3.17.0", accounts: 2, exclusive: 1, unmatched: 0 },
    ]);
    expect(json.overlaps).toEqual([
      { server_ids: [A, B], people: 2 },
      { server_ids: [A, C], people: 1 },
      { server_ids: [B, C], people: 1 },
    ]);
    expect(json.spans).toEqual([{ instances: 2, people: 1 }, { instances: 3, people: 1 }]);
    expect(json.possible_savings).toEqual([
      { login: "bob", persons: 2, seats: 1 },
      { login: "dave", persons: 2, seats: 1 },
    ]);
    expect(json.options).toEqual({ match_all_emails: false, match_logins: false });
  });

  it("--match-all-emails matches bob's secondary address; --match-logins matches bob and dave", async () => {
    const files = [`${FIX}/alpha.json`, `${FIX}/beta.json`, `${FIX}/gamma.json`];
    expect(await reportJson("--match-all-emails", ...files)).toMatchObject({
      seats: 6,
      unmatched: 0,
      possible_savings: [{ login: "dave", persons: 2, seats: 1 }],
      options: { match_all_emails: true, match_logins: false },
    });
    expect(await reportJson("--match-logins", ...files)).toMatchObject({ seats: 5, unmatched: 0, possible_savings: [] });
  });

  it("lets a later file of the same server_id replace the earlier one, and says so on stderr", async () => {
    const r = await run("report", "--json", `${FIX}/alpha.json`, `${FIX}/beta.json`, `${FIX}/gamma.json`, `${FIX}/gamma-v2.json`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ seats: 6, accounts: 9, instances: [{}, {}, { server_id: C, accounts: 1, exclusive: 0 }] });
    expect(r.err).toContain(`note: ${FIX}/gamma-v2.json replaces ${FIX}/gamma.json`);
  });

  it("reads gzip-compressed exports", async () => {
    const gz = join(tmp, "code.json.gz");
    writeFileSync(gz, gzipSync(readFileSync(`${SAMPLES}/code.json`)));
    expect(await reportJson(gz)).toMatchObject({ seats: 18, accounts: 18 });
  });
});

describe("report (table)", () => {
  it("prints a readable aligned report with every section", async () => {
    const r = await run("report", `${FIX}/alpha.json`, `${FIX}/beta.json`, `${FIX}/gamma.json`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Seats:\s+7$/m);
    expect(r.out).toMatch(/^Accounts:\s+10$/m);
    expect(r.out).toMatch(/^Deduplicated:\s+3\b/m);
    for (const heading of ["Instances (3)", "Overlaps", "People on several instances", "Unmatched accounts: 1", "Possible savings"]) {
      expect(r.out).toContain(heading);
    }
    // columns line up: every row of the instances table puts ACCOUNTS at the same column end
    const lines = r.out.split("\n");
    const header = lines.find((l) => l.includes("ACCOUNTS"))!;
    const end = header.indexOf("ACCOUNTS") + "ACCOUNTS".length;
    const rows = lines.filter((l) => l.includes(".corp.example  ") && l.includes("-4000-"));
    expect(rows).toHaveLength(3);
    expect(rows.map((l) => l.slice(end - 1, end))).toEqual(["4", "4", "2"]);
    expect(r.out).not.toContain("@"); // no e-mail address is ever printed
    expect(r.err).toContain("warning: ");
  });
});

describe("refusals", () => {
  it("prints nothing on stdout and every invalid file's errors on stderr, exit 1", async () => {
    const r = await run("report", "--json", `${FIX}/alpha.json`, `${FIX}/bad-types.json`, `${FIX}/not-json.json`, `${SAMPLES}/legacy-encrypted.json`);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`${FIX}/bad-types.json: users[0].emails[0].email: expected a string`);
    expect(r.err).toContain(`${FIX}/not-json.json: is not valid JSON`);
    expect(r.err).toMatch(/legacy-encrypted\.json: users: the user list is encrypted.*--unencrypted/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("names a missing file, a directory and an oversized file", async () => {
    const r = await run("report", `${tmp}/nope.json`, tmp, "--max-bytes", "1KB", `${SAMPLES}/code.json`);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`${tmp}/nope.json: no such file`);
    expect(r.err).toContain(`${tmp}: is not a regular file`);
    expect(r.err).toContain(`${SAMPLES}/code.json: is larger than the size limit of 1024 bytes`);
  });

  it("refuses a gzip file that inflates past --max-bytes", async () => {
    const gz = join(tmp, "bomb.json.gz");
    writeFileSync(gz, gzipSync(Buffer.alloc(64 * 1024, " ")));
    const r = await run("validate", "--max-bytes=8KB", gz);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${gz}: is gzip-compressed and inflates to more than`);
  });
});

describe("validate", () => {
  it("prints ok per valid file, warnings on stderr, exit 0", async () => {
    const r = await run("validate", `${SAMPLES}/code.json`, `${FIX}/alpha.json`);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${SAMPLES}/code.json: ok (code.acme.example`);
    expect(r.out).toContain(`${FIX}/alpha.json: ok (alpha.corp.example, server_id ${A}, 4 accounts)`);
    expect(r.err).toContain(`warning: ${FIX}/alpha.json: users[2]`);
  });

  it("exits 1 when any file is invalid, still checking every file", async () => {
    const r = await run("validate", `${FIX}/bad-types.json`, `${SAMPLES}/git.json`);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${SAMPLES}/git.json: ok`);
    expect(r.err).toContain(`${FIX}/bad-types.json: users[0].emails[0].email`);
  });
});

describe("usage", () => {
  it.each([
    [[]],
    [["report"]],
    [["validate", "--json", "x.json"]],
    [["report", "--frobnicate", "x.json"]],
    [["count", "x.json"]],
    [["report", "--max-bytes", "lots", "x.json"]],
    [["report", "--max-bytes"]],
    [["report", "--json=yes", "x.json"]],
  ])("%j is a usage error: exit 2, usage on stderr, nothing on stdout", async (argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^license-sync: .+\nUsage:/);
  });

  it("--help documents commands, options, gzip, --max-bytes and exit codes", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await run(flag);
      expect(r.code).toBe(0);
      for (const word of ["validate", "report", "--json", "--match-all-emails", "--match-logins", "--max-bytes", ".json.gz", "Exit codes", "  2  usage error"]) {
        expect(r.out).toContain(word);
      }
    }
    expect((await run("report", "--help")).code).toBe(0);
  });

  it("--version prints the package version", async () => {
    const r = await run("--version");
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(r.out).toBe(`license-sync ${pkg.version}\n`);
  });

  it("treats everything after -- as a file", async () => {
    const r = await run("validate", "--", "--json");
    expect(r.code).toBe(1);
    expect(r.err).toContain("--json: no such file");
  });

  it("parses sizes", () => {
    expect(parseSize("1024")).toBe(1024);
    expect(parseSize("2KB")).toBe(2048);
    expect(parseSize("100mb")).toBe(100 * 1024 * 1024);
    expect(parseSize("0")).toBeNull();
    expect(parseSize("-5")).toBeNull();
    expect(parseSize("5 parsecs")).toBeNull();
  });
});
