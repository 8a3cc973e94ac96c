// `license-sync upload` against nock through the real @octokit/rest client: one commit through the
// Git Data API, a moved branch, refusals before anything is sent, every API failure worded for a
// person, --wait's three outcomes, and one enterprise-sized export compressed on the way.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { processIo } from "../../src/cli/main.js";
import { upload, type UploadIo } from "../../src/cli/upload.js";
import { parseDuration, parseUploadArgs } from "../../src/cli/upload-args.js";
import { GITHUB_BLOB_LIMIT_BYTES, gitBlobSha, instanceFileName, planProblems, type PlannedFile } from "../../src/cli/upload-files.js";
import { resultTally, summaryMarker } from "../../src/domain/render.js";
import type { FileResult } from "../../src/domain/types.js";
import { replyOutcome } from "../../src/cli/upload-git.js";
import { exportJson, gzip, users } from "../helpers/exports.js";
import { githubAccount, OTHER_APP_BOT, OWN_BOT, PERSON } from "../helpers/payloads.js";

const API = "https://api.github.com";
const REPO = "/repos/acme/ledger";
const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";

let tmp: string;
let fileA: string;
let fileB: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "license-sync-upload-"));
  fileA = join(tmp, "a.json");
  fileB = join(tmp, "b.json");
  writeFileSync(fileA, exportJson(A, "ghes-a.corp.example", users(1, 3)));
  writeFileSync(fileB, exportJson(B, "GHES-B.corp.example", users(3, 5)));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  nock.enableNetConnect();
  expect(pending).toEqual([]);
});

interface Run {
  code: number;
  out: string;
  err: string;
  sleeps: number[];
}

async function run(argv: string[], env: NodeJS.ProcessEnv = { GITHUB_TOKEN: "ghp_test" }, extra: Partial<UploadIo> = {}): Promise<Run> {
  let out = "";
  let err = "";
  let clock = 0;
  const sleeps: number[] = [];
  const code = await upload(argv, { ...processIo, stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, {
    env,
    stderrIsTTY: false,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...extra,
  });
  // Never a stack trace for a person.
  expect(err).not.toMatch(/\n\s+at |Error:/);
  return { code, out, err, sleeps };
}

/** nock 15 hands reply functions the fetch Request. */
const json = async <T>(request: unknown): Promise<T> => (await (request as Request).json()) as T;

interface Posted {
  blobs: Buffer[];
  trees: { base_tree: string; tree: { path: string; sha: string | null; mode: string; type: string }[] }[];
  commits: { message: string; tree: string; parents: string[] }[];
}

/** The read side: default branch, its head, and the export folder's listing. */
function head(scope: nock.Scope, opts: { commit?: string; tree?: string; folder?: { path: string; sha: string }[] | null; repo?: boolean } = {}) {
  const commit = opts.commit ?? "c1";
  if (opts.repo !== false) scope.get(REPO).reply(200, { full_name: "acme/ledger", default_branch: "main" });
  scope
    .get(`${REPO}/git/ref/heads%2Fmain`)
    .reply(200, { ref: "refs/heads/main", object: { sha: commit, type: "commit" } })
    .get(`${REPO}/git/commits/${commit}`)
    .reply(200, { sha: commit, tree: { sha: opts.tree ?? "t1" } });
  const folder = opts.folder === undefined ? null : opts.folder;
  const listing = scope.get(`${REPO}/contents/license-usage`).query({ ref: commit });
  if (folder === null) listing.reply(404, { message: "Not Found" });
  else listing.reply(200, folder.map((f) => ({ type: "file", name: f.path.split("/").pop(), path: f.path, sha: f.sha })));
}

/** The write side: blobs (n), tree, commit, and the ref update answered by `refReply`. */
function write(scope: nock.Scope, posted: Posted, blobs: number, commit = "c2", refReply: [number, object] = [200, { ref: "refs/heads/main" }]) {
  if (blobs > 0) {
    scope
      .post(`${REPO}/git/blobs`)
      .times(blobs)
      .reply(201, async (request) => {
        const b = await json<{ content: string; encoding: string }>(request);
        expect(b.encoding).toBe("base64");
        const bytes = Buffer.from(b.content, "base64");
        posted.blobs.push(bytes);
        return { sha: gitBlobSha(bytes), url: "u" };
      });
  }
  scope
    .post(`${REPO}/git/trees`)
    .reply(201, async (request) => {
      posted.trees.push(await json(request));
      return { sha: `tree-of-${commit}`, tree: [] };
    })
    .post(`${REPO}/git/commits`)
    .reply(201, async (request) => {
      posted.commits.push(await json(request));
      return { sha: commit, html_url: `https://github.com/acme/ledger/commit/${commit}` };
    })
    .patch(`${REPO}/git/refs/heads%2Fmain`, { sha: commit, force: false })
    .reply(...refReply);
}

const refusedResult: FileResult = { file: "license-usage/a.json", status: "refused", errors: [], warnings: [] };

const newPosted = (): Posted => ({ blobs: [], trees: [], commits: [] });

describe("license-sync upload: one commit through the Git Data API", () => {
  it("validates, sends each export to a stable path named after its instance, in one commit, and prints its URL", async () => {
    const scope = nock(API).matchHeader("authorization", "token ghp_test");
    const posted = newPosted();
    head(scope);
    write(scope, posted, 2);
    const r = await run([fileA, fileB, "--repo", "acme/ledger"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${fileA}: ok (ghes-a.corp.example, server_id ${A}, 3 accounts)`);
    expect(r.out).toContain(`  license-usage/ghes-a.corp.example.json <- ${fileA} (0.0 MB)`);
    expect(r.out).toContain("committed to acme/ledger (main): https://github.com/acme/ledger/commit/c2");
    expect(posted.blobs.map((b) => b.toString())).toEqual([
      exportJson(A, "ghes-a.corp.example", users(1, 3)),
      exportJson(B, "GHES-B.corp.example", users(3, 5)),
    ]);
    expect(posted.trees).toEqual([
      {
        base_tree: "t1",
        tree: [
          { path: "license-usage/ghes-a.corp.example.json", mode: "100644", type: "blob", sha: gitBlobSha(posted.blobs[0]!) },
          { path: "license-usage/ghes-b.corp.example.json", mode: "100644", type: "blob", sha: gitBlobSha(posted.blobs[1]!) },
        ],
      },
    ]);
    expect(posted.commits).toEqual([
      { message: "License usage: ghes-a.corp.example, GHES-B.corp.example\n\nUploaded by license-sync upload.", tree: "tree-of-c2", parents: ["c1"] },
    ]);
  });

  it("takes GH_TOKEN, --api-url (GHES), --branch, --dir and --message; a .json.gz export keeps its compression", async () => {
    const gz = join(tmp, "a.json.gz");
    writeFileSync(gz, gzip(exportJson(A, "ghes-a.corp.example", users(1, 3))));
    const ghes = "https://ghes.corp.example/api/v3";
    const posted = newPosted();
    const scope = nock(ghes).matchHeader("authorization", "token gh_cli");
    scope
      .get(`${REPO}/git/ref/heads%2Frelease%2Fusage`)
      .reply(200, { object: { sha: "c1" } })
      .get(`${REPO}/git/commits/c1`)
      .reply(200, { sha: "c1", tree: { sha: "t1" } })
      .get(`${REPO}/contents/exports%2Fghes`)
      .query({ ref: "c1" })
      .reply(200, [])
      .post(`${REPO}/git/blobs`)
      .reply(201, async (request) => {
        const bytes = Buffer.from((await json<{ content: string }>(request)).content, "base64");
        posted.blobs.push(bytes);
        return { sha: gitBlobSha(bytes) };
      })
      .post(`${REPO}/git/trees`)
      .reply(201, async (request) => {
        posted.trees.push(await json(request));
        return { sha: "t2" };
      })
      .post(`${REPO}/git/commits`, { message: "March usage", tree: "t2", parents: ["c1"] })
      .reply(201, { sha: "c2", html_url: "https://ghes.corp.example/acme/ledger/commit/c2" })
      .patch(`${REPO}/git/refs/heads%2Frelease%2Fusage`)
      .reply(200, {});
    const r = await run(
      [gz, "--repo=acme/ledger", "--branch", "release/usage", "--dir", "exports/ghes/", "-m", "March usage", "--api-url", `${ghes}/`],
      { GH_TOKEN: "gh_cli", GITHUB_API_URL: "https://wrong.example" },
    );
    expect(r.code).toBe(0);
    expect(posted.trees[0]!.tree[0]!.path).toBe("exports/ghes/ghes-a.corp.example.json.gz");
    expect(posted.blobs[0]!.equals(gzip(exportJson(A, "ghes-a.corp.example", users(1, 3))))).toBe(true);
    expect(r.out).toContain("https://ghes.corp.example/acme/ledger/commit/c2");
  });

  it("reads the API URL from GITHUB_API_URL when --api-url is not given", async () => {
    const scope = nock("https://api.acme.ghe.com");
    head(scope);
    write(scope, newPosted(), 1);
    const r = await run([fileA, "--repo", "acme/ledger"], { GITHUB_TOKEN: "t", GITHUB_API_URL: "https://api.acme.ghe.com/" });
    expect(r.code).toBe(0);
  });

  it("makes the commit again on top of a branch that moved meanwhile, without sending the blobs twice", async () => {
    const scope = nock(API);
    const posted = newPosted();
    head(scope);
    write(scope, posted, 2, "c2", [422, { message: "Update is not a fast forward" }]);
    // Someone else pushed c9 meanwhile; it already holds B's export unchanged.
    const bSha = gitBlobSha(Buffer.from(exportJson(B, "GHES-B.corp.example", users(3, 5))));
    head(scope, { commit: "c9", tree: "t9", repo: false, folder: [{ path: "license-usage/ghes-b.corp.example.json", sha: bSha }] });
    write(scope, posted, 0, "c10");
    const r = await run([fileA, fileB, "--repo", "acme/ledger"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("main moved while uploading; committing again on top of it (attempt 2)");
    expect(posted.blobs).toHaveLength(2);
    expect(posted.commits.map((c) => c.parents)).toEqual([["c1"], ["c9"]]);
    expect(posted.trees[1]!.base_tree).toBe("t9");
    expect(posted.trees[1]!.tree.map((t) => t.path)).toEqual(["license-usage/ghes-a.corp.example.json"]);
    expect(r.out).toContain("commit/c10");
  });

  it("gives up after five moves of the branch, saying nothing was committed", async () => {
    const scope = nock(API);
    head(scope);
    write(scope, newPosted(), 1, "c2", [422, { message: "Update is not a fast forward" }]);
    for (let i = 3; i <= 6; i++) {
      head(scope, { commit: `h${i}`, repo: false });
      write(scope, newPosted(), 0, `c${i}`, [422, { message: "Update is not a fast forward" }]);
    }
    const r = await run([fileA, "--repo", "acme/ledger"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('branch "main" kept moving during 5 attempts; nothing was committed');
  });

  it("takes the GHEC license report (CSV or JSON) with the exports, at a fixed path, replacing last month's in the other form", async () => {
    const csv = join(tmp, "Enterprise license usage 2026-03.csv");
    const report = "github_com_login,github_com_user,github_com_verified_domain_emails\nmona,true,u1@corp.example\n";
    writeFileSync(csv, report);
    const scope = nock(API);
    const posted = newPosted();
    head(scope, { folder: [{ path: "license-usage/ghec-license-report.json", sha: "old" }] });
    write(scope, posted, 2);
    const r = await run([fileA, csv, "--repo", "acme/ledger"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${csv}: ok (GHEC license report, CSV, 1 member of 1 row)`);
    expect(posted.blobs[1]!.toString()).toBe(report);
    expect(posted.trees[0]!.tree.map((t) => [t.path, t.sha === null ? "removed" : "set"])).toEqual([
      ["license-usage/ghes-a.corp.example.json", "set"],
      ["license-usage/ghec-license-report.csv", "set"],
      ["license-usage/ghec-license-report.json", "removed"],
    ]);
    expect(posted.commits[0]!.message).toMatch(/^License usage: ghes-a.corp.example, GHEC license report\n/);
  });

  it("refuses two GHEC license reports in one upload, and an invalid one with validate's message", async () => {
    const one = join(tmp, "one.json");
    const two = join(tmp, "two.json");
    const page = { total_seats_consumed: 1, users: [{ github_com_login: "mona", github_com_user: true, github_com_verified_domain_emails: ["u1@corp.example"] }] };
    writeFileSync(one, JSON.stringify(page));
    writeFileSync(two, JSON.stringify(page));
    const r = await run([one, two, "--repo", "acme/ledger"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${one} and ${two} are both GHEC license reports: upload one`);
    const ragged = join(tmp, "ragged.csv");
    writeFileSync(ragged, "github_com_login,github_com_user,github_com_verified_domain_emails\nmona,true\n");
    const bad = await run([ragged, "--repo", "acme/ledger"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(new RegExp(`${ragged.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line 2: `));
    expect(bad.err).toContain("nothing was uploaded");
  });

  it("commits nothing when the folder already holds these exports", async () => {
    const sha = gitBlobSha(Buffer.from(exportJson(A, "ghes-a.corp.example", users(1, 3))));
    head(nock(API), { folder: [{ path: "license-usage/ghes-a.corp.example.json", sha }] });
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("nothing to commit: license-usage/ghes-a.corp.example.json in acme/ledger (main, c1) already holds this file");
  });
});

describe("license-sync upload: refusals before anything is sent", () => {
  it("sends nothing when one file is invalid, with validate's messages (exit 1)", async () => {
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ version: 1, instance: { server_id: "x", host_name: "h" }, users: [{ user_id: 1, login: "a", emails: [{ email: 7 }] }] }));
    const r = await run([fileA, bad, "--repo", "acme/ledger"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}: users[0].emails[0].email: expected a string, got a number`);
    expect(r.err).toContain("nothing was uploaded");
    expect(r.out).not.toContain("committed");
  });

  it("refuses two exports of one instance, and a missing file", async () => {
    const again = join(tmp, "a-again.json");
    writeFileSync(again, exportJson(A, "ghes-a.corp.example", users(1, 4)));
    const r = await run([fileA, again, "--repo", "acme/ledger"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${fileA} and ${again} are both exports of ghes-a.corp.example`);
    const missing = await run([join(tmp, "nope.json"), "--repo", "acme/ledger"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("nope.json: no such file");
  });

  it("checks GitHub's 100 MB limit for one file before sending", () => {
    const planned = (source: string, size: number): PlannedFile => ({
      source,
      target: { base: source, format: "json", label: source, key: source },
      path: `license-usage/${source}.json.gz`,
      otherPaths: [`license-usage/${source}.json`],
      content: Buffer.allocUnsafe(size),
      compressed: true,
      sourceBytes: size,
      blobSha: "x",
    });
    expect(planProblems([planned("ok", GITHUB_BLOB_LIMIT_BYTES)])).toEqual([]);
    expect(planProblems([planned("big", GITHUB_BLOB_LIMIT_BYTES + 1)])).toEqual([
      "big: 100.0 MB compressed is over GitHub's 100 MB limit for one file; nothing was sent",
    ]);
  });

  it("needs a token (exit 2) and --repo, and parses its options", async () => {
    const r = await run([fileA, "--repo", "acme/ledger"], {});
    expect(r.code).toBe(2);
    expect(r.err).toContain("no token: set GITHUB_TOKEN or GH_TOKEN to a token with contents: write on acme/ledger");
    expect((await run([fileA])).err).toContain("--repo OWNER/NAME is required");
    expect((await run(["--repo", "acme/ledger"])).err).toContain("no FILE given");
    expect((await run([fileA, "--repo", "acme"])).code).toBe(2);
    expect((await run([fileA, "--repo", "a/b", "--dir", "../x"])).err).toContain("not a folder inside the repository");
    expect((await run([fileA, "--repo", "a/b", "--timeout", "5m"])).err).toContain("--timeout applies to --wait");
    expect((await run([fileA, "--repo", "a/b", "--api-url", "ftp://x"])).code).toBe(2);
    expect((await run(["--help"])).out).toContain("GITHUB_TOKEN or GH_TOKEN");
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("600")).toBe(600_000);
    expect(parseDuration("0")).toBeNull();
    expect(parseDuration("soon")).toBeNull();
    const p = parseUploadArgs(["x.json", "--repo", "a/b", "--wait", "--timeout=2m", "--branch", "refs/heads/main"]);
    expect(p).toMatchObject({ ok: true, options: { timeoutMs: 120_000, branch: "main", dir: "license-usage", wait: true } });
    expect(instanceFileName(" GHES.Corp.Example. ")).toBe("ghes.corp.example");
    expect(instanceFileName("../x y/z")).toBe("__x_y_z");
  });
});

describe("license-sync upload: errors a person can act on", () => {
  const cases: { name: string; mock: (s: nock.Scope) => void; message: string }[] = [
    {
      name: "repository not found or not visible (404)",
      mock: (s) => void s.get(REPO).reply(404, { message: "Not Found", documentation_url: "https://docs.github.com/x" }),
      message: "acme/ledger was not found (404) at https://api.github.com: it does not exist, or the token cannot see it",
    },
    {
      name: "bad token (401)",
      mock: (s) => void s.get(REPO).reply(401, { message: "Bad credentials" }),
      message: "the token was refused (401 Bad credentials)",
    },
    {
      name: "SSO not authorized (403)",
      mock: (s) => void s.get(REPO).reply(403, { message: "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization." }),
      message: "the organization enforces SAML single sign-on; authorize the token for SSO",
    },
    {
      name: "read access only (403 on the first write)",
      mock: (s) => {
        head(s);
        s.post(`${REPO}/git/blobs`).reply(403, { message: "Resource not accessible by personal access token" });
      },
      message: "no access to acme/ledger (403 Resource not accessible by personal access token): the token can see the repository but may not write to it; it needs contents: write on acme/ledger",
    },
    {
      name: "protected branch",
      mock: (s) => {
        head(s);
        write(s, newPosted(), 1, "c2", [422, { message: "Protected branch update failed for refs/heads/main." }]);
      },
      message: 'branch "main" of acme/ledger is protected (Protected branch update failed for refs/heads/main.): allow this token to push to it, or upload to another branch with --branch',
    },
    {
      name: "empty repository",
      mock: (s) => {
        s.get(REPO).reply(200, { default_branch: "main" });
        s.get(`${REPO}/git/ref/heads%2Fmain`).reply(409, { message: "Git Repository is empty." });
      },
      message: "acme/ledger is empty: make a first commit",
    },
  ];
  for (const c of cases) {
    it(`${c.name}: says so, exit 1, no stack trace`, async () => {
      c.mock(nock(API));
      const r = await run([fileA, "--repo", "acme/ledger"]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(c.message);
    });
  }

  it("network failure (nothing listens on the API's port): says so, exit 1, no stack trace", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    nock.enableNetConnect("127.0.0.1");
    const r = await run([fileA, "--repo", "acme/ledger", "--api-url", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`network failure: cannot reach http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); nothing was changed`);
  });

  it("a missing --branch is told apart from a repository the token cannot see", async () => {
    nock(API).get(`${REPO}/git/ref/heads%2Fusage`).reply(404, { message: "Not Found" }).get(REPO).reply(200, { default_branch: "main" });
    const r = await run([fileA, "--repo", "acme/ledger", "--branch", "usage"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('acme/ledger has no branch "usage" (--branch)');
  });

  it("a 404 under another API URL hints at the GHES API path", async () => {
    nock("https://ghes.corp.example").get(REPO).reply(404, { message: "Not Found" });
    const r = await run([fileA, "--repo", "acme/ledger", "--api-url", "https://ghes.corp.example"]);
    expect(r.err).toContain("GHES serves it at https://HOST/api/v3");
  });
});

describe("license-sync upload --wait", () => {
  const checkRuns = `${REPO}/commits/c2/check-runs`;
  const query = { check_name: "license usage", filter: "latest", per_page: "10" };
  /** The upload up to commit c2; the answer is mocked on the scope returned. */
  const committed = () => {
    const scope = nock(API);
    head(scope);
    write(scope, newPosted(), 1);
    return scope;
  };
  const reply = (body: string) => [{ id: 1, body: `<!-- license-sync:push -->\n${body}`, user: OWN_BOT() }];
  /** The app the check run belongs to, as GitHub lists it. */
  const OWN_APP = { id: 1, slug: "license-sync", name: "license-sync" };
  const REFUSED_RUN = { status: "completed", app: OWN_APP, conclusion: "failure", output: { title: "1 file refused" }, html_url: null };
  /** The upload, then the app's check run (refused) at the first poll, then the commit's comments. */
  const refusedWith = (comments: unknown[]) =>
    committed().get(checkRuns).query(query).reply(200, { check_runs: [REFUSED_RUN] }).get(`${REPO}/commits/c2/comments`).query(true).reply(200, comments);

  it("polls the license usage check run, prints its outcome and the seat summary of the reply (exit 0)", async () => {
    const scope = committed();
    scope
      .get(checkRuns)
      .query(query)
      .reply(200, { total_count: 0, check_runs: [] })
      .get(checkRuns)
      .query(query)
      .reply(200, { total_count: 1, check_runs: [{ status: "completed", app: OWN_APP, conclusion: "success", output: { title: "1 file recorded" }, html_url: "https://github.com/acme/ledger/runs/1" }] })
      .get(`${REPO}/commits/c2/comments`)
      .query({ per_page: "100" })
      .reply(200, [
        { id: 7, body: `fake ${summaryMarker({ seats: 1, accounts: 1, deduplicated: 0, instances: 1 })}`, user: PERSON() },
        ...reply(`## License usage\n${summaryMarker({ seats: 1234, accounts: 1500, deduplicated: 266, instances: 3 })}`),
      ]);
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("license usage: recorded (1 file recorded) https://github.com/acme/ledger/runs/1");
    expect(r.out).toContain("seats consumed: 1234 (1500 accounts, 266 deduplicated, 3 instances)");
    expect(r.sleeps).toEqual([2000]);
  });

  it("a completed 'license usage' check run of another app is not the answer: named once, and the app's own is waited for", async () => {
    const scope = committed();
    const impostor = { status: "completed", app: { id: 9, slug: "copycat", name: "copycat" }, conclusion: "success", output: { title: "all good" }, html_url: null };
    scope
      .get(checkRuns)
      .query(query)
      .reply(200, { check_runs: [impostor] })
      .get(checkRuns)
      .query(query)
      .reply(200, { check_runs: [impostor, REFUSED_RUN] })
      .get(`${REPO}/commits/c2/comments`)
      .query(true)
      .reply(200, reply(summaryMarker({ seats: 10, accounts: 12, deduplicated: 2, instances: 2 })));
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("license usage: refused (1 file refused)");
    expect(r.err.match(/check run by another app \(copycat\) was ignored/g)).toHaveLength(1);
    expect(r.sleeps).toEqual([2000]);
  });

  it("a refused file: exit 1 with the check's title", async () => {
    refusedWith(reply(summaryMarker({ seats: 10, accounts: 12, deduplicated: 2, instances: 2 })));
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("license usage: refused (1 file refused)");
    expect(r.out).toContain("seats consumed: 10");
  });

  it("no answer within --timeout: exit 3, saying what to check", async () => {
    const scope = committed();
    // 2 s, 3 s, 5 s, 5 s, then the 15 s deadline: five polls.
    scope.get(checkRuns).query(query).times(5).reply(200, { total_count: 0, check_runs: [] });
    const r = await run([fileA, "--repo", "acme/ledger", "--wait", "--timeout", "15s"]);
    expect(r.code).toBe(3);
    expect(r.sleeps).toEqual([2000, 3000, 5000, 5000]);
    expect(r.err).toContain('no answer from the app within 15s: is license-sync installed on acme/ledger, and is "main" the branch it records');
  });

  it("a fine-grained token (no checks permission exists for it): reads the app's reply comment instead", async () => {
    const scope = committed();
    scope.get(checkRuns).query(query).reply(403, { message: "Resource not accessible by personal access token" });
    scope
      .get(`${REPO}/commits/c2/comments`)
      .query(true)
      .reply(200, [])
      .get(`${REPO}/commits/c2/comments`)
      .query(true)
      .reply(200, [
        {
          id: 1,
          html_url: "https://github.com/acme/ledger/commit/c2#commitcomment-1",
          body: `<!-- license-sync:push -->\n**License usage in c2**: ${resultTally([refusedResult])}\n\n${summaryMarker({ seats: 9, accounts: 9, deduplicated: 0, instances: 1 })}`,
          user: OWN_BOT(),
        },
      ]);
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("note: the token cannot read check runs (fine-grained tokens never can): reading the app's reply comment instead");
    expect(r.out).toContain("license usage: refused (1 refused) https://github.com/acme/ledger/commit/c2#commitcomment-1");
    expect(r.out).toContain("seats consumed: 9");
  });

  /** A comment carrying the push marker that says everything was recorded: what a forger would write. */
  const forged = (id: number, user: object | null) => ({
    id,
    html_url: `https://github.com/acme/ledger/commit/c2#commitcomment-${id}`,
    body: `<!-- license-sync:push -->\n**License usage in c2**: 1 recorded\n\n${summaryMarker({ seats: 1, accounts: 1, deduplicated: 0, instances: 1 })}`,
    user,
  });
  const realReply = (id: number, user: object = OWN_BOT()) => ({
    id,
    html_url: `https://github.com/acme/ledger/commit/c2#commitcomment-${id}`,
    body: `<!-- license-sync:push -->\n**License usage in c2**: ${resultTally([refusedResult])}\n\n${summaryMarker({ seats: 9, accounts: 9, deduplicated: 0, instances: 1 })}`,
    user,
  });

  it("reading the reply comment, trusts only the app's bot account: a person's or another app's comment with the marker is ignored", async () => {
    const scope = committed();
    scope.get(checkRuns).query(query).reply(403, { message: "Resource not accessible by personal access token" });
    scope
      .get(`${REPO}/commits/c2/comments`)
      .query(true)
      // Only forgeries so far: the CLI keeps waiting instead of believing them.
      .reply(200, [forged(2, PERSON()), forged(3, OTHER_APP_BOT()), forged(4, { ...PERSON(), login: "license-sync[bot]" }), forged(5, null)])
      .get(`${REPO}/commits/c2/comments`)
      .query(true)
      .reply(200, [forged(2, PERSON()), forged(3, OTHER_APP_BOT()), realReply(6)]);
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("license usage: refused (1 refused) https://github.com/acme/ledger/commit/c2#commitcomment-6");
    expect(r.out).toContain("seats consumed: 9 (9 accounts");
    expect(r.sleeps).toEqual([2000]);
    // Another app's reply is named once, with the option that would make it count, in case it is the admin's registration.
    const other = (OTHER_APP_BOT() as { login: string }).login;
    expect(r.err.split(`a reply by ${other} was ignored`)).toHaveLength(2);
    expect(r.err).toContain(`--app-slug ${other.replace(/\[bot\]$/, "")}`);
  });

  it("a page of forged comments does not hide the app's reply on the next page", async () => {
    const scope = committed();
    scope.get(checkRuns).query(query).reply(403, { message: "Resource not accessible by personal access token" });
    scope
      .get(`${REPO}/commits/c2/comments`)
      .query({ per_page: "100" })
      .reply(
        200,
        Array.from({ length: 100 }, (_, i) => forged(100 + i, PERSON())),
        { link: `<${API}${REPO}/commits/c2/comments?per_page=100&page=2>; rel="next", <${API}${REPO}/commits/c2/comments?per_page=100&page=2>; rel="last"` },
      )
      .get(`${REPO}/commits/c2/comments`)
      .query({ per_page: "100", page: "2" })
      .reply(200, [realReply(6)]);
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("commitcomment-6");
    expect(r.sleeps).toEqual([]);
  });

  it("with the check run readable, the seat summary comes from the app's reply only, not from a person's marked comment", async () => {
    refusedWith([forged(2, PERSON()), realReply(6)]);
    const r = await run([fileA, "--repo", "acme/ledger", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("seats consumed: 9 (9 accounts");
  });

  it("--app-slug (or LICENSE_SYNC_APP_SLUG) names the app's registration: only <slug>[bot] counts, license-sync[bot] no longer does", async () => {
    const acme = githubAccount("license-sync-acme[bot]", "Bot", 1_000_002);
    for (const [argv, env] of [
      [["--app-slug", "license-sync-acme"], { GITHUB_TOKEN: "t" }],
      [[], { GITHUB_TOKEN: "t", LICENSE_SYNC_APP_SLUG: "License-Sync-Acme" }],
    ] as const) {
      const scope = committed();
      scope.get(checkRuns).query(query).reply(403, { message: "Resource not accessible by personal access token" });
      scope
        .get(`${REPO}/commits/c2/comments`)
        .query(true)
        .reply(200, [forged(3, OWN_BOT()), realReply(6, acme)]);
      const r = await run([fileA, "--repo", "acme/ledger", "--wait", ...argv], env);
      expect(r.code).toBe(1);
      expect(r.out).toContain("commitcomment-6");
      expect(r.out).toContain("seats consumed: 9 (9 accounts");
      expect(r.err).toContain("a reply by license-sync[bot] was ignored");
    }
    expect((await run([fileA, "--repo", "a/b", "--app-slug", "not a slug!"])).err).toContain('option --app-slug: "not a slug!" is not a GitHub App slug');
    expect((await run([fileA, "--repo", "a/b"], { GITHUB_TOKEN: "t", LICENSE_SYNC_APP_SLUG: "x y" })).code).toBe(2);
    expect(parseUploadArgs(["x.json", "--repo", "a/b", "--app-slug", "acme-usage[bot]"])).toMatchObject({ ok: true, options: { appSlug: "acme-usage" } });
  });

  it("reads the outcome from the reply's heading as the app renders it", () => {
    const recorded: FileResult = { file: "b.json", status: "recorded", instance: { serverId: B, hostName: "b" }, accounts: 3, added: null, removed: null, seatDelta: 3, warnings: [] };
    const heading = (results: FileResult[]) => `<!-- license-sync:push -->\n**License usage in abc1234**: ${resultTally(results)}\n\nmore`;
    expect(replyOutcome(heading([recorded]))).toEqual({ recorded: true, tally: "1 recorded" });
    expect(replyOutcome(heading([recorded, refusedResult]))).toEqual({ recorded: false, tally: "1 recorded, 1 refused" });
    expect(replyOutcome("<!-- license-sync:push -->\n**license-sync could not use `.github/license-sync.yml`**: nothing was recorded. Fix this key").recorded).toBe(false);
  });
});

describe("license-sync upload: an enterprise-sized export through the real client", () => {
  it("compresses a 200,000-account export (34 MB) on the way, replaces last month's .json, and draws progress on a terminal", async () => {
    const big = join(tmp, "big.json");
    const text = exportJson(A, "ghes-big.corp.example", users(1, 200_000));
    writeFileSync(big, text);
    expect(text.length).toBeGreaterThan(30 * 1024 * 1024);
    const scope = nock(API);
    const posted = newPosted();
    head(scope, { folder: [{ path: "license-usage/ghes-big.corp.example.json", sha: "old" }] });
    write(scope, posted, 1);
    const r = await run([big, "--repo", "acme/ledger"], undefined, { stderrIsTTY: true });
    expect(r.code).toBe(0);
    expect(gunzipSync(posted.blobs[0]!).toString()).toBe(text);
    expect(posted.blobs[0]!.length).toBeLessThan(text.length / 5);
    expect(posted.trees[0]!.tree).toEqual([
      { path: "license-usage/ghes-big.corp.example.json.gz", mode: "100644", type: "blob", sha: gitBlobSha(posted.blobs[0]!) },
      { path: "license-usage/ghes-big.corp.example.json", mode: "100644", type: "blob", sha: null },
    ]);
    for (const stage of ["validating…", "compressing…", "hashing…", "uploading license-usage/ghes-big.corp.example.json.gz"]) expect(r.err).toContain(stage);
    expect(r.err.endsWith("\r\u001b[K")).toBe(true);
  }, 60_000);
});
