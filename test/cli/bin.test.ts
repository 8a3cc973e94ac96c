// The installed command end to end: the compiled bin, real exit codes, no stack traces.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/license-sync.js", ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // Build what `npm install` would (prepare). Another module's type error must not hide the CLI's.
  spawnSync("npm", ["run", "build"], { encoding: "utf8", timeout: 120_000 });
  if (!existsSync("dist/cli/main.js")) throw new Error("npm run build did not produce dist/cli/main.js");
}, 150_000);

describe("bin/license-sync.js", () => {
  it("reports the samples with exit 0, and refuses bad input with exit 1/2 and no stack trace", () => {
    const ok = cli("report", "--json", "/work/shared/samples/code.json", "/work/shared/samples/git.json");
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
});
