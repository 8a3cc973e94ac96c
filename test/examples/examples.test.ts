// The recipes in examples/ run as written: the cron script against a stand-in `ssh` and a stand-in
// GitHub API on 127.0.0.1, the workflow parses and calls the script, the example files give the
// report the README shows; and `npm start` in setup mode finds smee-client.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { exportJson, users } from "../helpers/exports.js";
import { GitDataStandIn } from "../helpers/git-data-stand-in.js";

const ROOT = resolve(".");
const SCRIPT = join(ROOT, "examples/ghes-monthly.sh");

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "license-sync-examples-"));
  // Build what `npm install` would (prepare): the script and `npm start` run the compiled code.
  spawnSync("npm", ["run", "build"], { encoding: "utf8", timeout: 120_000 });
  if (!existsSync("dist/cli/upload.js")) throw new Error("npm run build did not produce dist/cli/upload.js");
}, 150_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process: the stand-in API answers from here. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Ran> {
  return new Promise((done) => {
    execFile(file, args, { env, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

// The stand-in `ssh`: logs its arguments; `down.*` is unreachable (exit 255, as ssh), hosts with a
// .legacy file are GHES 3.12 (only ghe-license-usage), the others answer `ghe-license usage`.
const FAKE_SSH = `#!/usr/bin/env bash
echo "$*" >> "$FAKE_SSH_DIR/calls.log"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do case "$1" in *@*) target=$1 ;; esac; shift; done
shift
host=\${target#*@}
cmd="$*"
case "$host" in down.*) echo "ssh: connect to host $host port 122: Connection refused" >&2; exit 255 ;; esac
if [ -f "$FAKE_SSH_DIR/$host.legacy" ]; then
  [ "$cmd" = "ghe-license-usage --unencrypted" ] || { echo "bash: ghe-license: command not found" >&2; exit 127; }
else
  [ "$cmd" = "ghe-license usage --unencrypted" ] || { echo "unexpected: $cmd" >&2; exit 1; }
fi
cat "$FAKE_SSH_DIR/$host.json"
`;

describe("examples/ghes-monthly.sh", () => {
  let sshDir: string;
  let api: GitDataStandIn;
  const NEW = exportJson("aaaaaaaa-0000-4000-8000-00000000000a", "ghes-new.corp.example", users(1, 40));
  const OLD = exportJson("bbbbbbbb-0000-4000-8000-00000000000b", "ghes-old.corp.example", users(30, 60), "3.12.9");

  beforeAll(async () => {
    sshDir = join(tmp, "ssh");
    spawnSync("mkdir", ["-p", join(sshDir, "bin")]);
    writeFileSync(join(sshDir, "bin/ssh"), FAKE_SSH, { mode: 0o755 });
    writeFileSync(join(sshDir, "ghes-new.corp.example.json"), NEW);
    writeFileSync(join(sshDir, "ghes-old.corp.example.json"), OLD);
    writeFileSync(join(sshDir, "ghes-old.corp.example.legacy"), "");
    api = new GitDataStandIn("acme/license-usage");
    await api.start();
  });
  afterAll(() => api.stop());

  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    PATH: `${join(sshDir, "bin")}:${process.env.PATH}`,
    HOME: process.env.HOME,
    TMPDIR: tmp,
    FAKE_SSH_DIR: sshDir,
    LEDGER_REPO: "acme/license-usage",
    LEDGER_API_URL: api.url,
    GITHUB_TOKEN: "ghp_cron",
    ...extra,
  });

  it("exports every appliance over ssh -p 122 (ghe-license-usage on 3.12), uploads the reachable ones in one commit, exits 1 for the unreachable", async () => {
    const r = await run(SCRIPT, ["ghes-new.corp.example", "ghes-old.corp.example", "down.corp.example"], env({}));
    expect(r.stderr).toContain("could not export down.corp.example (exit 255)");
    expect(r.stderr).toContain("Connection refused");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("exported ghes-new.corp.example");
    expect(r.stdout).toContain("exported ghes-old.corp.example");
    expect(r.stdout).toContain(`committed to acme/license-usage (main): ${api.url}/acme/license-usage/commit/`);

    const calls = readFileSync(join(sshDir, "calls.log"), "utf8").trim().split("\n");
    expect(calls).toEqual([
      "-p 122 -o BatchMode=yes -o ConnectTimeout=30 admin@ghes-new.corp.example -- ghe-license usage --unencrypted",
      "-p 122 -o BatchMode=yes -o ConnectTimeout=30 admin@ghes-old.corp.example -- ghe-license usage --unencrypted",
      "-p 122 -o BatchMode=yes -o ConnectTimeout=30 admin@ghes-old.corp.example -- ghe-license-usage --unencrypted",
      "-p 122 -o BatchMode=yes -o ConnectTimeout=30 admin@down.corp.example -- ghe-license usage --unencrypted",
    ]);

    // One commit on top of the first, holding both exports byte for byte at their stable paths.
    const head = api.commits.get(api.head)!;
    expect(head.parents).toEqual(["commit0"]);
    const files = api.headFiles();
    expect(api.blobs.get(files.get("license-usage/ghes-new.corp.example.json")!)?.toString()).toBe(NEW);
    expect(api.blobs.get(files.get("license-usage/ghes-old.corp.example.json")!)?.toString()).toBe(OLD);
    expect(files.get("README.md")).toBe("readme");
    expect([...api.tokens]).toEqual(["token ghp_cron"]);
  }, 60_000);

  it("takes the appliances from APPLIANCES; next month's run replaces the files in place; nothing new, nothing committed", async () => {
    const before = api.head;
    const same = await run(SCRIPT, [], env({ APPLIANCES: "ghes-new.corp.example ghes-old.corp.example" }));
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("nothing to commit");
    expect(api.head).toBe(before);

    const grown = exportJson("aaaaaaaa-0000-4000-8000-00000000000a", "ghes-new.corp.example", users(1, 45));
    writeFileSync(join(sshDir, "ghes-new.corp.example.json"), grown);
    const next = await run(SCRIPT, [], env({ APPLIANCES: "ghes-new.corp.example ghes-old.corp.example" }));
    expect(next.code).toBe(0);
    expect(api.commits.get(api.head)!.parents).toEqual([before]);
    expect(api.blobs.get(api.headFiles().get("license-usage/ghes-new.corp.example.json")!)?.toString()).toBe(grown);
    expect([...api.headFiles().keys()].sort()).toEqual(["README.md", "license-usage/ghes-new.corp.example.json", "license-usage/ghes-old.corp.example.json"]);
  }, 60_000);

  it("says what is missing: no appliance, no LEDGER_REPO (exit 2)", async () => {
    const none = await run(SCRIPT, [], env({}));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage:");
    const noRepo = await run(SCRIPT, ["ghes-new.corp.example"], env({ LEDGER_REPO: "" }));
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toContain("LEDGER_REPO is not set");
  });
});

describe("examples/workflows/license-usage.yml", () => {
  interface Step {
    uses?: string;
    run?: string;
    env?: Record<string, string>;
  }
  const workflow = parse(readFileSync("examples/workflows/license-usage.yml", "utf8")) as {
    on: { schedule: { cron: string }[]; workflow_dispatch: unknown };
    permissions: Record<string, string>;
    jobs: Record<string, { "runs-on": string[]; steps: Step[] }>;
  };

  it("parses, runs monthly on a self-hosted runner with read-only workflow permissions", () => {
    expect(workflow.on.schedule).toEqual([{ cron: "0 4 1 * *" }]);
    expect(workflow.on).toHaveProperty("workflow_dispatch");
    expect(workflow.permissions).toEqual({ contents: "read" });
    const jobs = Object.values(workflow.jobs);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!["runs-on"]).toContain("self-hosted");
  });

  it("installs the CLI and calls the cron script, with the token from a secret", () => {
    const steps = Object.values(workflow.jobs)[0]!.steps;
    expect(steps.some((s) => s.run?.includes("npm ci"))).toBe(true);
    const calls = steps.filter((s) => s.run?.includes("examples/ghes-monthly.sh"));
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.env?.GITHUB_TOKEN).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    for (const key of ["LEDGER_REPO", "APPLIANCES", "LEDGER_API_URL"]) expect(call.env).toHaveProperty(key);
    accessSync(SCRIPT, constants.X_OK);
  });
});

describe("examples/exports", () => {
  it("three exports and a GHEC license report give the report the README's first section shows, with `license-sync report examples/exports/*`", () => {
    const files = readdirSync("examples/exports")
      .sort()
      .map((f) => `examples/exports/${f}`);
    expect(files.filter((f) => f.endsWith(".json"))).toHaveLength(3);
    expect(files).toContain("examples/exports/ghec-license-report.csv");
    const r = spawnSync(process.execPath, ["bin/license-sync.js", "report", ...files], { encoding: "utf8", timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Enterprise \(GHES and GHEC together/);
    expect(r.stdout).toMatch(/On both sides +4 /);
    expect(r.stdout).toContain("Overlaps (people with accounts on both instances)");
    const readme = readFileSync("README.md", "utf8");
    const first = readme.slice(0, readme.indexOf("\n## "));
    expect(first).toContain("npx license-sync report examples/exports/*");
    expect(first).toContain(r.stdout.trimEnd());
  });

  it("the installed bin runs upload: no token is a usage error, without a stack trace", () => {
    const env = { ...process.env, GITHUB_TOKEN: "", GH_TOKEN: "" };
    const r = spawnSync(process.execPath, ["bin/license-sync.js", "upload", "--repo", "acme/x", "examples/exports/ghes.json"], { encoding: "utf8", env, timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no token: set GITHUB_TOKEN or GH_TOKEN");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("npm start in setup mode", () => {
  it("finds smee-client for the webhook proxy: no 'SmeeClient is not available' warning", async () => {
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const cwd = mkdtempSync(join(tmp, "setup-"));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), NODE_ENV: "development", LOG_LEVEL: "info" };
    const child = spawn(process.execPath, [join(ROOT, "dist/main.js")], { cwd, env });
    let output = "";
    const listening = new Promise<void>((done) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes("Listening on")) done();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
    });
    const timer = new Promise<void>((done) => setTimeout(done, 20_000));
    // The webhook channel is asked for (or its absence warned about) before the server listens.
    await Promise.race([listening, timer]);
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
    expect(output).toContain("setup mode");
    expect(output).toContain(`Listening on http://localhost:${port}`);
    expect(output).not.toContain("SmeeClient is not available");
  }, 40_000);
});
