import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import { licenseSync } from "../../src/index.js";
import { DEFAULT_MATCH_OPTIONS } from "../../src/domain/types.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { Settings } from "../../src/settings.js";
import { API, createTestProbot, nockInstallationToken, nockOwnApp } from "../helpers/probot.js";
import {
  AFTER_SHA,
  BEFORE_SHA,
  FULL_NAME,
  REPO_ID,
  ACTIONS_BOT,
  OTHER_APP_BOT,
  OWN_BOT,
  PERSON,
  branchDeletionPayload,
  listedComment,
  pushPayload,
  tagPushPayload,
  type PushOptions,
} from "../helpers/payloads.js";
import { cloudCsv, cloudJson, exportJson, gzip, rawBlob, users } from "../helpers/exports.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { allowDashboard } from "../helpers/dashboard.js";

const REPO_PATH = `/repos/${FULL_NAME}`;
const SUMMARY_LINE = /\n<!-- license-sync:summary (\{.*\}) -->$/;

let probot: Probot;
let ledger: LedgerService;
let store: LedgerStore;
/** Whether this test's app has looked up its own bot account yet (it does so once). */
let appLookedUp: boolean;

async function setup(settings: Partial<Settings> = {}, maxInstances?: number) {
  appLookedUp = false;
  ({ ledger, store } = await memoryLedger(undefined, maxInstances));
  probot = createTestProbot();
  await probot.load(licenseSync({ ledger, settings: testSettings(settings) }));
}

beforeEach(async () => {
  allowDashboard();
  nock.disableNetConnect();
  await setup();
});

afterEach(async () => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  await store.close();
  expect(pending).toEqual([]);
});

function push(o: PushOptions = {}, id = "delivery-1") {
  return probot.receive({ id, name: "push", payload: pushPayload(o) } as never);
}

/** GitHub with the token exchange and the repo's config file (raw YAML). */
function github(configYaml: string | null = "", token = true) {
  // Probot caches the installation token: only a test's first event asks for one.
  const scope = token ? nockInstallationToken(nock(API)) : nock(API);
  if (configYaml === null) scope.get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`).reply(404, { message: "Not Found" });
  else {
    scope
      .get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`)
      .reply(200, configYaml, { "content-type": "application/vnd.github.raw; charset=utf-8" });
  }
  return scope;
}

interface Captured {
  comment?: string;
  commentPatch?: string;
  check?: { name: string; head_sha: string; conclusion: string; output: { title: string; summary: string; annotations?: { path: string; start_line: number; message: string }[] } };
}

/** compare -> blobs -> comment upsert -> check run, capturing what the app sends. */
function expectFullFlow(
  scope: nock.Scope,
  files: { path: string; sha: string; bytes: string | Buffer; status?: string; read?: false }[],
  cap: Captured,
  opts: { after?: string; existingComment?: { id: number; body: string } } = {},
) {
  const after = opts.after ?? AFTER_SHA;
  // A reply the ledger remembers from an earlier push but the scripted list leaves out: gone.
  scope.get(/\/comments\/\d+$/).optionally().reply(404, { message: "Not Found" });
  scope
    .get(`${REPO_PATH}/compare/${BEFORE_SHA}...${after}`)
    .query({ per_page: "1" })
    .reply(200, { status: "ahead", files: files.map((f) => ({ filename: f.path, sha: f.sha, status: f.status ?? "added" })) });
  for (const f of files.filter((x) => x.read !== false)) scope.get(`${REPO_PATH}/git/blobs/${f.sha}`).reply(...rawBlob(f.bytes));
  scope
    .get(`${REPO_PATH}/commits/${after}/comments`)
    .query({ per_page: "100" })
    // A person's or another app's comment carrying the marker (anyone can paste it) must never be
    // taken for the app's.
    .reply(200, [
      listedComment(1, "someone else", PERSON()),
      listedComment(2, "<!-- license-sync:push -->\nplanted by a person", PERSON()),
      listedComment(3, "<!-- license-sync:push -->\nplanted by another app", OTHER_APP_BOT()),
      ...(opts.existingComment ? [listedComment(opts.existingComment.id, opts.existingComment.body)] : []),
    ]);
  if (!appLookedUp) nockOwnApp(scope);
  appLookedUp = true;
  if (opts.existingComment) {
    scope.patch(`${REPO_PATH}/comments/${opts.existingComment.id}`, (b: { body: string }) => ((cap.commentPatch = b.body), true)).reply(200, { id: opts.existingComment.id });
  } else {
    scope.post(`${REPO_PATH}/commits/${after}/comments`, (b: { body: string }) => ((cap.comment = b.body), true)).reply(201, { id: 99 });
  }
  scope.post(`${REPO_PATH}/check-runs`, (b: Captured["check"]) => ((cap.check = b), true)).reply(201, { id: 5 });
}

const A = exportJson("srv-a", "ghes-a.corp.example", users(1, 3));
const B = exportJson("srv-b", "ghes-b.corp.example", users(3, 5));

describe("push to the designated branch", () => {
  it("records one valid export, comments on the head commit and passes the check", async () => {
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(scope, [{ path: "license-usage/a.json", sha: "b1", bytes: A }], cap);
    await push();

    expect(cap.comment).toMatch(/^<!-- license-sync:push -->\n\*\*License usage in 2222222\*\*: 1 recorded/);
    expect(cap.comment).toContain("`license-usage/a.json`: **recorded**: ghes-a.corp.example, 3 accounts (first upload of this instance)");
    expect(cap.comment).toContain("## 3 seats consumed");
    expect(cap.comment).toMatch(SUMMARY_LINE);
    expect(JSON.parse(SUMMARY_LINE.exec(cap.comment!)![1]!)).toEqual({ seats: 3, accounts: 3, deduplicated: 0, instances: 1 });
    expect(cap.comment).not.toContain("@corp.example");
    expect(cap.check).toMatchObject({ name: "license usage", head_sha: AFTER_SHA, conclusion: "success", output: { title: "1 recorded" } });
    expect(cap.check!.output.annotations ?? []).toEqual([]);

    const history = await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ outcome: "recorded", uploader: "octo-admin", deliveryId: "delivery-1", source: { kind: "commit", sha: AFTER_SHA, path: "license-usage/a.json" } });
  });

  it("records an export whose display-only fields have another type: warnings in the reply naming file and path, the version shown as unknown", async () => {
    const doc = JSON.parse(A) as { instance: Record<string, unknown> };
    Object.assign(doc.instance, { version: 3.17, http_only: "no", features: "all" });
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(scope, [{ path: "license-usage/a.json", sha: "b1", bytes: JSON.stringify(doc) }], cap);
    await push();

    expect(cap.comment).toContain("`license-usage/a.json`: **recorded**: ghes-a.corp.example, 3 accounts (first upload of this instance)");
    expect(cap.comment).toContain(
      [
        "  - ⚠️ 3 warnings:",
        "    - `license-usage/a.json: instance.version: expected a string, got a number; ignored: the GHES version is shown as unknown`",
        "    - `license-usage/a.json: instance.http_only: expected true or false, got a string; ignored (it is only displayed)`",
        "    - `license-usage/a.json: instance.features: expected an array, got a string; ignored (it is not used)`",
      ].join("\n"),
    );
    expect(cap.comment).toMatch(/\n\| ghes-a\.corp\.example \| — \| 3 \|/);
    expect(cap.check).toMatchObject({ conclusion: "success" });
  });

  it("records the valid file, refuses the broken one and annotates it at the line of its first error", async () => {
    const broken = JSON.stringify(
      { version: 1, instance: { server_id: "srv-x", host_name: "x.example" }, users: [{ user_id: 1, login: "a", emails: [] }, { user_id: 2, login: "b", emails: [{ email: 12345 }] }] },
      null,
      2,
    );
    const errorLine = broken.split("\n").findIndex((l) => l.includes("12345")) + 1;
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(
      scope,
      [
        { path: "license-usage/b.json", sha: "b2", bytes: B },
        { path: "license-usage/broken.json", sha: "b3", bytes: broken },
        { path: "README.md", sha: "b4", bytes: "not an export", read: false },
        { path: "license-usage/old.json", sha: "b5", bytes: "", status: "removed", read: false },
      ],
      cap,
    );
    await push();

    expect(cap.comment).toContain("1 recorded, 1 refused");
    expect(cap.comment).toContain("`license-usage/broken.json`: **refused**:");
    expect(cap.comment).toContain("users[1].emails[0].email");
    expect(cap.check?.conclusion).toBe("failure");
    expect(cap.check?.output.annotations).toHaveLength(1);
    expect(cap.check?.output.annotations?.[0]).toMatchObject({ path: "license-usage/broken.json", start_line: errorLine });
    expect(errorLine).toBeGreaterThan(1);
    expect(cap.check?.output.annotations?.[0]?.message).toContain("users[1].emails[0].email");
  });

  it("refuses a new instance past the ledger's instance cap, saying what to do, and records nothing", async () => {
    await store.close();
    await setup({}, 1);
    const key = { repoId: REPO_ID, fullName: FULL_NAME };
    const source = { kind: "commit", sha: "0", path: "a.json" } as const;
    await ledger.recordUploads({ ledger: key, uploader: "x", deliveryId: null, options: DEFAULT_MATCH_OPTIONS }, [{ file: "a.json", bytes: Buffer.from(A), source }]);
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(scope, [{ path: "license-usage/b.json", sha: "b2", bytes: B }], cap);
    await push();

    expect(cap.comment).toContain("`license-usage/b.json`: **refused**:");
    expect(cap.comment).toContain("this ledger already records 1 instance, the most it takes");
    expect(cap.comment).toContain("/license-sync forget");
    expect(cap.check?.conclusion).toBe("failure");
    expect((await ledger.summary(key, DEFAULT_MATCH_OPTIONS)).totals).toEqual({ seats: 3, accounts: 3, deduplicated: 0, instances: 1 });
  });

  it("records a committed GHEC license report (CSV): the reply leads with the enterprise seats, the marker carries them", async () => {
    // GHES: users 1..3. GHEC: u2 and u3 by verified e-mail, u1 by GitHub's link, one cloud-only member.
    const csv = cloudCsv([
      { login: "cloud-u2", emails: ["U2@corp.example"] },
      { login: "cloud-u3", nameId: "u3@corp.example" },
      { login: "cloud-u1", links: ["ghes-a.corp.example:1"] },
      { login: "only-cloud", emails: ["x@corp.example"] },
    ]);
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(
      scope,
      [
        { path: "license-usage/a.json", sha: "b1", bytes: A },
        { path: "license-usage/ghec/report.csv.gz", sha: "c1", bytes: gzip(csv) },
      ],
      cap,
    );
    await push();

    expect(cap.comment).toContain("`license-usage/ghec/report.csv.gz`: **recorded**: GHEC license report (CSV), 4 members (the ledger's first GHEC license report)");
    expect(cap.comment).toMatch(/\*\*License usage in 2222222\*\*: 2 recorded\n[\s\S]*\n## 4 enterprise seats consumed\n/);
    expect(cap.comment).toContain("## GHES: 3 seats consumed");
    expect(cap.comment).toContain("GitHub's own figure in the report: **4** seats, the same as counted here.");
    expect(JSON.parse(SUMMARY_LINE.exec(cap.comment!)![1]!)).toEqual({ seats: 3, accounts: 3, deduplicated: 0, instances: 1, enterprise_seats: 4 });
    expect(cap.comment).not.toMatch(/[\w.]+@[\w.]+/);
    expect(cap.check).toMatchObject({ conclusion: "success", output: { title: "2 recorded" } });
    expect(cap.check!.output.summary).toContain("Enterprise seats (GHEC and GHES together): **4**");
    const history = await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME });
    expect(history[0]).toMatchObject({ subject: "cloud", outcome: "recorded", source: { kind: "commit", path: "license-usage/ghec/report.csv.gz" } });
  });

  it("refuses a broken cloud report: failing check annotated on the CSV line, or at the JSON path", async () => {
    const csv = cloudCsv([{ login: "a" }, { login: "b" }, { login: "c" }]).replace("\r\nb,", "\r\nb,extra,");
    const json = JSON.stringify(JSON.parse(cloudJson([{ login: "a" }, { login: "b" }], 2)), null, 2).replace('"github_com_user": true,\n      "github_com_verified_domain_emails": []', '"github_com_user": true,\n      "github_com_verified_domain_emails": "b@corp.example"');
    const jsonLine = json.split("\n").findIndex((l) => l.includes('"b@corp.example"')) + 1;
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(
      scope,
      [
        { path: "license-usage/ghec.csv", sha: "c2", bytes: csv },
        { path: "license-usage/ghec.json", sha: "c3", bytes: json },
      ],
      cap,
    );
    await push();
    expect(cap.comment).toContain("2 refused");
    expect(cap.comment).toContain("`license-usage/ghec.csv: line 3: 7 cells, the header has 6`");
    expect(cap.comment).toContain("users[0].github_com_verified_domain_emails: expected an array of strings");
    expect(cap.comment).not.toContain("b@corp.example");
    expect(cap.comment).toContain("## 0 seats consumed");
    expect(cap.check?.conclusion).toBe("failure");
    expect(cap.check?.output.annotations).toEqual([
      expect.objectContaining({ path: "license-usage/ghec.csv", start_line: 3 }),
      expect.objectContaining({ path: "license-usage/ghec.json", start_line: jsonLine }),
    ]);
    expect(jsonLine).toBeGreaterThan(1);
    const history = await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME });
    expect(history.map((h) => [h.subject, h.outcome])).toEqual([
      ["cloud", "refused"],
      ["cloud", "refused"],
    ]);
  });

  it("reads a blob shared by two paths once and stops at MAX_PUSH_FILES: the reply names the file not read", async () => {
    await store.close();
    await setup({ maxPushFiles: 2 });
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(
      scope,
      [
        { path: "license-usage/a.json", sha: "b1", bytes: A },
        // The same blob again: one GET of b1 is mocked, a second would be an unmocked request.
        { path: "license-usage/copy.json", sha: "b1", bytes: A, read: false },
        { path: "license-usage/z.json", sha: "b2", bytes: B, read: false },
      ],
      cap,
    );
    await push();

    expect(cap.comment).toContain("`license-usage/a.json`: **recorded**");
    expect(cap.comment).toContain("`license-usage/copy.json`: **already recorded**");
    expect(cap.comment).toContain("`license-usage/z.json`: **refused**");
    expect(cap.comment).toContain("license-usage/z.json: was not read: more than 2 export files arrived at once (the app's MAX_PUSH_FILES)");
    expect(cap.check?.conclusion).toBe("failure");
    expect(cap.check?.output.annotations).toEqual([expect.objectContaining({ path: "license-usage/z.json", start_line: 1 })]);
  });

  it("reads a file over 1 MB through the git blobs API", async () => {
    const big = exportJson("srv-big", "big.example", users(1, 12_000));
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(scope, [{ path: "license-usage/big/big.json", sha: "b6", bytes: big }], cap);
    await push();
    expect(cap.comment).toContain("big.example, 12,000 accounts");
    expect(cap.comment).toContain("## 12,000 seats consumed");
  });

  it("says 'already recorded' for a re-push of identical content, and edits its comment on a redelivery", async () => {
    const first: Captured = {};
    expectFullFlow(github(), [{ path: "license-usage/a.json", sha: "b1", bytes: A }], first);
    await push({}, "d-1");

    const after2 = "4444444444444444444444444444444444444444";
    const second: Captured = {};
    expectFullFlow(github("", false), [{ path: "license-usage/a.json", sha: "b1", bytes: A, status: "modified" }], second, { after: after2 });
    await push({ after: after2 }, "d-2");
    expect(second.comment).toContain("**already recorded**: ghes-a.corp.example, 3 accounts");
    expect(second.check?.conclusion).toBe("success");

    // Redelivery of the second push: the marked comment is found and edited, not duplicated.
    const third: Captured = {};
    expectFullFlow(github("", false), [{ path: "license-usage/a.json", sha: "b1", bytes: A, status: "modified" }], third, {
      after: after2,
      existingComment: { id: 50, body: "<!-- license-sync:push -->\nold" },
    });
    await push({ after: after2 }, "d-2");
    expect(third.commentPatch).toContain("already recorded");
    expect(third.comment).toBeUndefined();
  });

  it("finds its marked comment on page 2 of the commit's comments and edits it, creating none", async () => {
    const scope = github();
    const commentsPath = `${REPO_PATH}/commits/${AFTER_SHA}/comments`;
    scope.get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`).query({ per_page: "1" }).reply(200, {
      files: [{ filename: "license-usage/a.json", sha: "b1", status: "added" }],
    });
    scope.get(`${REPO_PATH}/git/blobs/b1`).reply(...rawBlob(A));
    const page1 = Array.from({ length: 100 }, (_, i) => listedComment(1000 + i, `chatter ${i}`, PERSON()));
    scope
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, page1, { link: `<${API}${commentsPath}?per_page=100&page=2>; rel="next", <${API}${commentsPath}?per_page=100&page=2>; rel="last"` });
    scope
      .get(commentsPath)
      .query({ per_page: "100", page: "2" })
      .reply(200, [listedComment(77, "<!-- license-sync:push -->\nold")]);
    nockOwnApp(scope);
    let patched = "";
    scope.patch(`${REPO_PATH}/comments/77`, (b: { body: string }) => ((patched = b.body), true)).reply(200, { id: 77 });
    scope.post(`${REPO_PATH}/check-runs`).reply(201, { id: 5 });
    // No POST to the comments is mocked: creating a second comment would fail the delivery.
    await push();
    expect(patched).toMatch(/^<!-- license-sync:push -->\n\*\*License usage in 2222222\*\*: 1 recorded/);
  });

  it("shows the change since the instance's previous upload", async () => {
    expectFullFlow(github(), [{ path: "license-usage/a.json", sha: "b1", bytes: A }], {});
    await push({}, "d-1");
    const after2 = "5555555555555555555555555555555555555555";
    const cap: Captured = {};
    const changed = exportJson("srv-a", "ghes-a.corp.example", users(2, 6));
    expectFullFlow(github("", false), [{ path: "license-usage/a.json", sha: "b9", bytes: changed, status: "modified" }], cap, { after: after2 });
    await push({ after: after2 }, "d-2");
    expect(cap.comment).toContain("+3 / −1 accounts since its previous upload");
    expect(cap.comment).toContain("seats +2");
  });

  it("reads the whole head tree for a new branch (before is all zeros)", async () => {
    const scope = github();
    const cap: Captured = {};
    scope.get(`${REPO_PATH}/git/trees/${AFTER_SHA}`).query({ recursive: "true" }).reply(200, {
      sha: AFTER_SHA,
      truncated: false,
      tree: [
        { path: "license-usage", type: "tree", sha: "t1" },
        { path: "license-usage/a.json", type: "blob", sha: "b1" },
        { path: "docs/a.json", type: "blob", sha: "b0" },
      ],
    });
    scope.get(`${REPO_PATH}/git/blobs/b1`).reply(...rawBlob(A));
    scope.get(`${REPO_PATH}/commits/${AFTER_SHA}/comments`).query(true).reply(200, []);
    scope.post(`${REPO_PATH}/commits/${AFTER_SHA}/comments`, (b: { body: string }) => ((cap.comment = b.body), true)).reply(201, { id: 1 });
    scope.post(`${REPO_PATH}/check-runs`).reply(201, { id: 2 });
    await push({ before: "0000000000000000000000000000000000000000" });
    expect(cap.comment).toContain("1 recorded");
  });

  it("answers a push too large for compare whose tree is truncated: what happened and what to do, nothing recorded, no failed delivery", async () => {
    const scope = github();
    scope
      .get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`)
      .query({ per_page: "1" })
      .reply(200, { files: Array.from({ length: 300 }, (_, i) => ({ filename: `src/f${i}.ts`, sha: `s${i}`, status: "modified" })) });
    scope.get(`${REPO_PATH}/git/trees/${AFTER_SHA}`).query({ recursive: "true" }).reply(200, { truncated: true, tree: [] });
    const cap: Captured = {};
    scope.get(`${REPO_PATH}/commits/${AFTER_SHA}/comments`).query(true).reply(200, []);
    scope.post(`${REPO_PATH}/commits/${AFTER_SHA}/comments`, (b: { body: string }) => ((cap.comment = b.body), true)).reply(201, { id: 99 });
    scope.post(`${REPO_PATH}/check-runs`, (b: Captured["check"]) => ((cap.check = b), true)).reply(201, { id: 5 });
    await push();
    expect(cap.comment).toMatch(/^<!-- license-sync:push -->\n\*\*License usage in 2222222\*\*: not read\n/);
    expect(cap.comment).toContain("the commit's file tree is truncated");
    expect(cap.comment).toContain("Push the export files in a commit of their own");
    expect(cap.check).toMatchObject({ conclusion: "failure", output: { title: "Push too large to list its files" } });
    expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
  });

  /** A push that changed `files`; then, for a config error, the reply comment and a failing check run. */
  function expectConfigErrorReply(scope: nock.Scope, files: string[]): { body: string; check?: { conclusion: string; output: { title: string } } } {
    const sent: { body: string; check?: { conclusion: string; output: { title: string } } } = { body: "" };
    scope
      .get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`)
      .query(true)
      .reply(200, { status: "ahead", files: files.map((filename, i) => ({ filename, sha: `c${i}`, status: "modified" })) });
    scope.get(`${REPO_PATH}/commits/${AFTER_SHA}/comments`).query(true).reply(200, []);
    scope.post(`${REPO_PATH}/commits/${AFTER_SHA}/comments`, (b: { body: string }) => ((sent.body = b.body), true)).reply(201, { id: 1 });
    scope.post(`${REPO_PATH}/check-runs`, (b: { conclusion: string; output: { title: string } }) => ((sent.check = b), true)).reply(201, { id: 7 });
    return sent;
  }

  it("answers a configuration error with the wrong keys and a failing check run, and records nothing", async () => {
    const sent = expectConfigErrorReply(github("stale_after_days: soon\npurchased_seat: 10\n"), [".github/license-sync.yml"]);
    await push();
    expect(sent.body).toContain("- `stale_after_days`: expected a positive whole number of days, got text");
    expect(sent.body).toContain("- `purchased_seat`: unknown key (did you mean `purchased_seats`?)");
    expect(sent.check).toMatchObject({ conclusion: "failure", output: { title: ".github/license-sync.yml cannot be used" } });
    expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
  });

  it("with a configuration error, a push touching neither the config nor an export gets no reply", async () => {
    // Only the config and the comparison are read: no comment, no check run (nock refuses them).
    github("purchased_seat: 10\n")
      .get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`)
      .query(true)
      .reply(200, { status: "ahead", files: [{ filename: "docs/notes.md", sha: "d1", status: "modified" }] });
    await push();
    expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
  });

  it.each([
    ["not valid YAML", "paths: [exports/*.json\nbranch: usage\n", "it is not valid YAML"],
    ["a list, not a mapping", "- paths\n- branch\n", "it is a list, not a mapping of keys"],
    ["a bare string, not a mapping", "just some words\n", "it is not a mapping of keys"],
  ])("answers a config file that is %s: names the file, says it cannot be parsed, records nothing", async (_what, yaml, why) => {
    const sent = expectConfigErrorReply(github(yaml), ["license-usage/a.json"]);
    // No blob mock: nothing is read or recorded past the configuration.
    await push();
    const body = sent.body;
    expect(sent.check?.conclusion).toBe("failure");
    expect(body).toContain("`.github/license-sync.yml`");
    expect(body).toContain(`- \`(file)\`: .github/license-sync.yml cannot be parsed: ${why}\n`);
    // Never a list's indexes taken for keys.
    expect(body).not.toContain("unknown key");
    expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
  });

  it.each([
    ["an invalid value", "_extends: [not, a, repo]\n", 1, "- `_extends`: expected a repository (name, owner/name or owner/name:path.yml)"],
    ["itself", "_extends: license-usage\n", 2, "- `_extends`: extends a file already read (the file itself, or a loop)"],
  ])("answers a config file that _extends %s like any config error: a reply, no failed delivery", async (_what, yaml, reads, line) => {
    const scope = github(yaml);
    // The plugin reads the repository's own file again when it extends itself.
    for (let i = 1; i < reads; i++) scope.get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`).reply(200, yaml, { "content-type": "application/vnd.github.raw; charset=utf-8" });
    const sent = expectConfigErrorReply(scope, [".github/license-sync.yml"]);
    await push();
    expect(sent.body).toContain(line);
    expect(sent.check).toMatchObject({ conclusion: "failure", output: { title: ".github/license-sync.yml cannot be used" } });
    expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
  });

  it("honours the configured paths and branch", async () => {
    const scope = github("paths: [exports/*.json]\nbranch: usage\n");
    const cap: Captured = {};
    expectFullFlow(
      scope,
      [
        { path: "exports/a.json", sha: "b1", bytes: A },
        { path: "license-usage/b.json", sha: "zz", bytes: B, read: false },
      ],
      cap,
    );
    await push({ ref: "refs/heads/usage" });
    expect(cap.comment).toContain("`exports/a.json`: **recorded**");
    expect(cap.comment).not.toContain("license-usage/b.json");
  });
});

describe("pushes that are ignored", () => {
  it("another repository: no API call at all", async () => {
    await expect(push({ fullName: "acme/other", repoId: 9 })).resolves.toBeUndefined();
  });

  it("a tag: no API call at all", async () => {
    await expect(probot.receive({ id: "t", name: "push", payload: tagPushPayload() } as never)).resolves.toBeUndefined();
  });

  it("a branch deletion: no API call at all", async () => {
    await expect(probot.receive({ id: "d", name: "push", payload: branchDeletionPayload() } as never)).resolves.toBeUndefined();
  });

  it("this app's own push: only the app's own account is looked up, nothing read or written", async () => {
    nockOwnApp(nock(API));
    await expect(push({ sender: OWN_BOT() })).resolves.toBeUndefined();
  });

  it("another branch: only the configuration is read (it names the branch), nothing written", async () => {
    github();
    await push({ ref: "refs/heads/feature" });
  });

  it("no export among the changed files: compare only, no comment, no check run", async () => {
    github().get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`).query(true).reply(200, {
      files: [
        { filename: "README.md", sha: "r1", status: "modified" },
        { filename: "license-usage/gone.json", sha: "g1", status: "removed" },
      ],
    });
    await push();
  });

  it("without LICENSE_SYNC_REPOS, a repository without its own config file is not designated", async () => {
    await store.close();
    await setup({ designatedRepos: null });
    github(null).get(`/repos/acme/.github/contents/.github%2Flicense-sync.yml`).reply(404, { message: "Not Found" });
    await push();
  });

  it("without LICENSE_SYNC_REPOS, a repository with the file is designated", async () => {
    await store.close();
    await setup({ designatedRepos: null });
    const cap: Captured = {};
    expectFullFlow(github("match:\n  logins: true\n"), [{ path: "license-usage/a.json", sha: "b1", bytes: A }], cap);
    await push();
    expect(cap.comment).toContain("by their primary e-mail address or their login");
  });
});

describe("automated pushes are answered (issue #10)", () => {
  // Real sender shapes: a person, another app's bot, Actions' bot; only this app's own is ignored.
  const senders = [
    ["a person", PERSON],
    ["another app's bot", OTHER_APP_BOT],
    ["github-actions[bot]", ACTIONS_BOT],
  ] as const;
  it.each(senders)("a push by %s is recorded and answered", async (_name, sender) => {
    const scope = github();
    const cap: Captured = {};
    expectFullFlow(scope, [{ path: "license-usage/a.json", sha: "b1", bytes: A }], cap);
    await push({ sender: sender() });
    expect(cap.comment).toContain("## 3 seats consumed");
    expect(cap.check?.conclusion).toBe("success");
    const [row] = await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME });
    expect(row).toMatchObject({ outcome: "recorded", uploader: sender().login });
  });

  it("the app's own push is the only one ignored, and its bot account is looked up once", async () => {
    nockOwnApp(nock(API));
    await push({ sender: OWN_BOT() }, "own-1");
    await push({ sender: OWN_BOT() }, "own-2");
    expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
  });
});
