// The installed command end to end: the compiled bin, real exit codes, no stack traces.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, processIo } from "../../src/cli/main.js";
import { SAMPLES } from "../helpers/samples.js";

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/license-sync.js", ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // Build what `npm install` would (prepare): a failed build (a type error anywhere) fails here,
  // even when tsc still wrote the files.
  const build = spawnSync("npm", ["run", "build"], { encoding: "utf8", timeout: 120_000 });
  if (build.status !== 0) throw new Error(`npm run build exited with ${build.status}:\n${build.stdout}${build.stderr}`);
  if (!existsSync("dist/cli/main.js")) throw new Error("npm run build did not produce dist/cli/main.js");
}, 150_000);

describe("bin/license-sync.js", () => {
  it("reports the samples with exit 0, and refuses bad input with exit 1/2 and no stack trace", () => {
    const ok = cli("report", "--json", `${SAMPLES}/code.json`, `${SAMPLES}/git.json`);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ seats: 23, accounts: 30, deduplicated: 7 });

    for (const args of [["report", "missing.json"], ["report", "test/fixtures/cli/not-json.json"], ["validate", tmpdir()]]) {
      const r = cli(...args);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(args[1]!);
      expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
    }
    const usage = cli("report", "--nope");
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("Usage:");
  });

  it("stops quietly when the reader of its output goes away (| head): no EPIPE stack trace", () => {
    // Same logins, different e-mails on two instances: a long "possible savings" list in --json.
    const dir = mkdtempSync(join(tmpdir(), "license-sync-bin-"));
    const file = (i: number) => {
      const users = Array.from({ length: 5000 }, (_, k) => ({ user_id: k + 1, login: `u${k}`, emails: [{ email: `u${k}.${i}@x.example`, primary: true }] }));
      const path = join(dir, `i${i}.json`);
      writeFileSync(path, JSON.stringify({ version: 1, instance: { server_id: `s${i}`, host_name: `h${i}.example` }, users }));
      return path;
    };
    const a = file(1);
    const b = file(2);
    const r = spawnSync("sh", ["-c", `"${process.execPath}" bin/license-sync.js report --json "${a}" "${b}" | head -c 100`], { encoding: "utf8", timeout: 20_000 });
    expect(r.stdout).toHaveLength(100);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at |Error/);
  });

  it("reads cloud CSV reports on a worker thread: exactly what reading them in turn prints (under test the sources read them in turn)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "license-sync-bin-"));
    const csv = `${SAMPLES}/ghec-license-report.csv`;
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "github_com_login\nann\n");
    const gz = join(dir, "broken.csv.gz");
    writeFileSync(gz, "not gzip");
    const exports = [`${SAMPLES}/code.json`, `${SAMPLES}/git.json`];
    const cases = [
      [...exports, csv],
      [csv, ...exports, csv],
      [exports[0]!, bad, csv],
      [exports[0]!, join(dir, "missing.csv"), csv, "missing.json"],
      [gz, ...exports],
      ["test/fixtures/cloud/report.csv", ...exports, "test/fixtures/cloud/ragged.csv"],
    ];
    // keys met on several members: as folded ASCII ranges and as texts (the Kelvin sign lower-cases to
    // ASCII), some of them GHES accounts' too; the worker works out which are equal (keyFirst)
    const emails = ["\u212aate@only.example", "kate@only.example", "KATE@only.example", "zo\u00eb@only.example", "Zo\u00cb@only.example", "b@only.example", "B@ONLY.example", "\u212aate2@x.example", "Kate2@X.example", "c@x.example"];
    const keys = join(dir, "keys.csv");
    writeFileSync(keys, ["github_com_login,github_com_user,github_com_verified_domain_emails,license_type", ...emails.map((e, k) => `m${k},true,"${e}",Enterprise`)].join("\n") + "\n");
    const users = ["b@only.example", "kate2@x.example", "C@x.example"].map((email, k) => ({ user_id: k + 1, login: `g${k}`, emails: [{ email, primary: true }] }));
    const ghes = join(dir, "ghes.json");
    writeFileSync(ghes, JSON.stringify({ version: 1, instance: { server_id: "s", host_name: "h.example" }, users }));
    cases.push([ghes, keys]);
    // asked of the worker before the main thread's own checks: a directory, and (with --max-bytes
    // between their sizes) a CSV over the limit before one within it
    const named = join(dir, "dir.csv");
    mkdirSync(named);
    const big = join(dir, "big.csv");
    writeFileSync(big, readFileSync(csv, "utf8") + "\n".repeat(8192));
    const limit = 8192;
    expect([statSync(csv).size, ...exports.map((f) => statSync(f).size)].every((size) => size < limit) && statSync(big).size > limit).toBe(true);
    cases.push([named, ...exports, csv], ["--max-bytes", String(limit), big, ...exports, csv]);
    for (const files of cases) {
      for (const json of [["--json"], []]) {
        const args = ["report", ...json, ...files];
        const inTurn = { stdout: "", stderr: "" };
        const code = await main(args, { ...processIo, stdout: (t) => void (inTurn.stdout += t), stderr: (t) => void (inTurn.stderr += t) });
        const r = cli(...args);
        expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toStrictEqual({ status: code, ...inTurn });
        if (files[1] === keys && json.length > 0) expect(JSON.parse(r.stdout).enterprise).toMatchObject({ both: 3, cloud_only: 2 });
      }
    }
  });
});
