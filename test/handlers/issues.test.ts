import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import { cloudCsv, exportJson, gzip, users } from "../helpers/exports.js";
import { nockInstallationToken, nockOwnApp } from "../helpers/probot.js";
import { OTHER_APP_BOT, PERSON, listedComment } from "../helpers/payloads.js";
import { ISSUE_MARKER, parseStateMarker, stateMarker } from "../../src/domain/render-issue.js";
import { adoptPlainUrlKeys, stateKey } from "../../src/answer/issue-uploads.js";
import {
  API,
  CONFIG_PATH,
  ISSUE,
  REPO_API,
  nockNoConfig,
  REPO_ID,
  UPLOAD_URL,
  assertNoPendingMocks,
  captureBody,
  harness,
  issuesPayload,
  nockEventStart,
  receive,
  type Harness,
} from "./issues-support.js";
import { allowDashboard } from "../helpers/dashboard.js";

const LEDGER = { repoId: REPO_ID, fullName: "acme/license-usage" };
const OPTS = { allEmails: false, logins: false };
const ATTACHMENT = "https://github.com/user-attachments/files/123/ghes-a.json";
const S3 = "https://github-production-user-asset-6210df.s3.amazonaws.com";
const ADDRESSED_URL = "https://github.com/user-attachments/files/124/ghes-a-someone@corp.example.json";
const EXPORT_A = exportJson("server-a", "ghes-a.corp.example", users(1, 3));
const EXPORT_B = exportJson("server-b", "ghes-b.corp.example", users(3, 4));

let h: Harness;
beforeEach(async () => {
  allowDashboard();
  nock.disableNetConnect();
  h = await harness();
});
afterEach(async () => {
  await h.store.close();
  assertNoPendingMocks();
});

function nockNewStatusComment(scope: nock.Scope, capture: ReturnType<typeof captureBody>): void {
  scope.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, []);
  scope.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9001 });
}

function nockLabel(scope: nock.Scope, name: string, added: string[]): void {
  scope.post(`${REPO_API}/labels`, (b: { name: string }) => b.name === name).reply(201, { name });
  scope.post(`${REPO_API}/issues/${ISSUE}/labels`, (b: { labels: string[] }) => {
    if (!Array.isArray(b?.labels)) return false;
    added.push(...b.labels);
    return true;
  }).reply(200, []);
}

describe("issues.opened", () => {

  it("downloads an attachment (token to github.com only), records it, replies once and labels the issue", async () => {
    const api = nockEventStart();
    nock("https://github.com", { reqheaders: { authorization: "token ghs_test" } })
      .get("/user-attachments/files/123/ghes-a.json")
      .reply(302, "", { location: `${S3}/123/ghes-a.json?X-Amz-Signature=sig` });
    nock(S3, { badheaders: ["authorization"] }).get("/123/ghes-a.json").query(true).reply(200, EXPORT_A);
    const capture = captureBody();
    const labels: string[] = [];
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: recorded", labels);

    await receive(h, "issues", issuesPayload("opened", { body: `Our March export: [ghes-a.json](${ATTACHMENT})` }));

    expect(capture.bodies).toHaveLength(1);
    const body = capture.bodies[0]!;
    expect(body).toContain("<!-- license-sync:issue -->");
    expect(body).toMatch(/`ghes-a\.json`: \*\*recorded\*\*/);
    expect(body).toContain("3 seats consumed");
    expect(body).toContain('<!-- license-sync:summary {"seats":3,"accounts":3,"deduplicated":0,"instances":1} -->');
    expect(body).not.toContain("@corp.example");
    expect(labels).toEqual(["license-usage: recorded"]);
    const history = await h.ledger.history(LEDGER);
    expect(history[0]).toMatchObject({ outcome: "recorded", uploader: "octo-admin", source: { kind: "issue", issueNumber: ISSUE } });
  });

  it("records a pasted ```csv GHEC license report and an attached one (.csv.gz): the later replaces the earlier, enterprise seats lead", async () => {
    const api = nockEventStart();
    const attached = cloudCsv([{ login: "c1", emails: ["u1@corp.example"] }, { login: "c2", emails: ["u2@corp.example"] }, { login: "cloud-only" }]);
    nock("https://github.com").get("/user-attachments/files/321/ghec.csv.gz").reply(200, gzip(attached));
    const capture = captureBody();
    const labels: string[] = [];
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: recorded", labels);
    const pasted = cloudCsv([{ login: "c1", emails: ["u1@corp.example"] }]);
    await h.ledger.recordUploads({ ledger: LEDGER, uploader: "seed", deliveryId: null, options: OPTS }, [
      { file: "a.json", bytes: Buffer.from(EXPORT_A), source: { kind: "commit", sha: "0", path: "a.json" } },
    ]);

    await receive(
      h,
      "issues",
      issuesPayload("opened", { body: ["The report:", "```csv", pasted.trimEnd(), "```", "[ghec.csv.gz](https://github.com/user-attachments/files/321/ghec.csv.gz)"].join("\n") }),
    );

    const body = capture.bodies[0]!;
    // Attachments are read first, then the pasted block, which replaces the attached report.
    expect(body).toContain("`ghec.csv.gz`: **recorded**: GHEC license report (CSV), 3 members (the ledger's first GHEC license report)");
    expect(body).toContain("`issue body block 1.csv`: **recorded**: GHEC license report (CSV), 1 member (replaces the report recorded");
    // GHES u1..u3, GHEC c1 = u1: 3 people.
    expect(body).toContain("## 3 enterprise seats consumed");
    expect(body).toContain("GitHub's own figure in the report: **1** seat, 2 fewer than counted here.");
    expect(body).toContain('"enterprise_seats":3} -->');
    expect(body).not.toMatch(/[\w.]+@[\w.]+/);
    expect(labels).toEqual(["license-usage: recorded"]);
  });

  it("answers a 404 attachment (private repository) with the upload link and the paste alternative", async () => {
    const api = nockEventStart();
    nock("https://github.com").get("/user-attachments/files/123/ghes-a.json").reply(404, "Not Found");
    const capture = captureBody();
    const labels: string[] = [];
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: refused", labels);

    await receive(h, "issues", issuesPayload("opened", { body: ATTACHMENT }));

    const body = capture.bodies[0]!;
    expect(body).toContain("`ghes-a.json`: **not read**: GitHub answered 404");
    expect(body).toContain(`](${UPLOAD_URL})`);
    expect(body).toContain("```json");
    expect(body).toContain("No instance has been recorded");
    expect(labels).toEqual(["license-usage: refused"]);
    expect((await h.ledger.summary(LEDGER, OPTS)).instances).toHaveLength(0);
  });

  it("answers a sign-in page served with 200 like a 404: the upload link, nothing recorded, no JSON error", async () => {
    const api = nockEventStart();
    nock("https://github.com")
      .get("/user-attachments/files/123/ghes-a.json")
      .reply(200, "<html><body>Sign in to GitHub</body></html>", { "content-type": "text/html; charset=utf-8" });
    const capture = captureBody();
    const labels: string[] = [];
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: refused", labels);

    await receive(h, "issues", issuesPayload("opened", { body: ATTACHMENT }));

    const body = capture.bodies[0]!;
    expect(body).toContain("`ghes-a.json`: **not read**: GitHub answered with a sign-in page, not the file");
    expect(body).toContain(`](${UPLOAD_URL})`);
    expect(body).not.toMatch(/JSON|\*\*refused\*\*/);
    expect(labels).toEqual(["license-usage: refused"]);
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });

  it("refuses a redirect to a foreign host: the host is never requested and the token never leaves github.com", async () => {
    const api = nockEventStart();
    nock("https://github.com", { reqheaders: { authorization: "token ghs_test" } })
      .get("/user-attachments/files/123/ghes-a.json")
      .reply(302, "", { location: "https://collector.evil.example/grab" });
    const foreign = nock("https://collector.evil.example").get("/grab").reply(200, EXPORT_A);
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: refused", []);

    await receive(h, "issues", issuesPayload("opened", { body: ATTACHMENT }));

    expect(foreign.isDone()).toBe(false);
    nock.removeInterceptor({ hostname: "collector.evil.example", path: "/grab", proto: "https" });
    expect(capture.bodies[0]).toContain("redirected to collector.evil.example, which is not a GitHub host");
    expect((await h.ledger.summary(LEDGER, OPTS)).instances).toHaveLength(0);
  });

  it("refuses an oversize attachment from its Content-Length", async () => {
    await h.store.close();
    h = await harness({ maxExportBytes: 1_000 });
    const api = nockEventStart();
    nock("https://github.com")
      .get("/user-attachments/files/123/ghes-a.json")
      .reply(200, "x".repeat(5_000), { "content-length": "5000" });
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: refused", []);

    await receive(h, "issues", issuesPayload("opened", { body: ATTACHMENT }));

    expect(capture.bodies[0]).toContain("`ghes-a.json`: **not read**: larger than the 1,000 bytes limit");
    expect((await h.ledger.history(LEDGER)).filter((r) => r.outcome === "recorded")).toHaveLength(0);
  });

  it("records an inline ```json block and a .json.gz attachment in one recordUploads call", async () => {
    const api = nockEventStart();
    nock("https://github.com").get("/acme/license-usage/files/77/ghes-b.json.gz").reply(200, gzip(EXPORT_B));
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: recorded", []);

    const body = ["Two instances:", "```json", EXPORT_A, "```", "https://github.com/acme/license-usage/files/77/ghes-b.json.gz"].join("\n");
    await receive(h, "issues", issuesPayload("opened", { body }));

    expect(capture.bodies[0]).toMatch(/`issue body block 1`: \*\*recorded\*\*/);
    expect(capture.bodies[0]).toMatch(/`ghes-b\.json\.gz`: \*\*recorded\*\*/);
    // users 1-3 on A, 3-4 on B: user 3 is one person on both.
    expect(capture.bodies[0]).toContain('"seats":4,"accounts":5,"deduplicated":1,"instances":2');
    const history = await h.ledger.history(LEDGER);
    expect(history.filter((r) => r.outcome === "recorded")).toHaveLength(2);
  });

  it("refuses an author without write access: polite reply, nothing recorded, the file never fetched", async () => {
    const api = nockEventStart({ role: "triage", login: "visitor" });
    const file = nock("https://github.com").get("/user-attachments/files/123/ghes-a.json").reply(200, EXPORT_A);
    const capture = captureBody();
    nockNewStatusComment(api, capture);

    await receive(h, "issues", issuesPayload("opened", { body: `${ATTACHMENT}\n\`\`\`json\n${EXPORT_B}\n\`\`\``, login: "visitor" }));

    expect(file.isDone()).toBe(false);
    nock.removeInterceptor({ hostname: "github.com", path: "/user-attachments/files/123/ghes-a.json", proto: "https" });
    expect(capture.bodies[0]).toContain("Thanks, @visitor. Only people with write access");
    expect(capture.bodies[0]).toContain("you have triage access, so nothing was read or recorded");
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });

  it("never fetches a link to a non-GitHub host, and says so", async () => {
    const api = nockEventStart();
    const other = nock("https://files.example.net").get("/user-attachments/files/1/usage.json").reply(200, EXPORT_A);
    const capture = captureBody();
    nockNewStatusComment(api, capture);

    await receive(h, "issues", issuesPayload("opened", { body: "https://files.example.net/user-attachments/files/1/usage.json" }));

    expect(other.isDone()).toBe(false);
    nock.removeInterceptor({ hostname: "files.example.net", path: "/user-attachments/files/1/usage.json", proto: "https" });
    expect(capture.bodies[0]).toContain("`usage.json`: **ignored**: it is on files.example.net, not a GitHub host");
  });

  it("closes the issue when configured and every export was recorded", async () => {
    const api = nockEventStart({ configYaml: "close_issues_when_recorded: true\n" });
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: recorded", []);
    let closed: unknown;
    api.patch(`${REPO_API}/issues/${ISSUE}`, (b) => ((closed = b), true)).reply(200, {});

    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + EXPORT_A + "\n```" }));

    expect(closed).toEqual({ state: "closed", state_reason: "completed" });
  });

  it("does not close the issue when an export was refused, even when configured to", async () => {
    const api = nockEventStart({ configYaml: "close_issues_when_recorded: true\n" });
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: refused", []);
    // No PATCH of the issue is mocked: closing it would fail the delivery.
    const broken = EXPORT_B.replace('"user_id": 3', '"user_id": "three"');

    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + EXPORT_A + "\n```\n```json\n" + broken + "\n```" }));

    expect(capture.bodies[0]).toMatch(/`issue body block 1`: \*\*recorded\*\*/);
    expect(capture.bodies[0]).toMatch(/`issue body block 2`: \*\*refused\*\*/);
  });

  it("answers an invalid export with the file and JSON path, and labels it refused", async () => {
    const api = nockEventStart();
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: refused", []);
    const broken = EXPORT_A.replace('"user_id": 2', '"user_id": "two"');

    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + broken + "\n```" }));

    expect(capture.bodies[0]).toMatch(/`issue body block 1`: \*\*refused\*\*/);
    expect(capture.bodies[0]).toContain("users[1].user_id");
  });
});

describe("issues.edited", () => {
  it("edits the same status comment (PATCH), never a second one", async () => {
    const first = nockEventStart();
    const capture = captureBody();
    nockNewStatusComment(first, capture);
    nockLabel(first, "license-usage: recorded", []);
    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + EXPORT_A + "\n```" }));
    expect(capture.bodies).toHaveLength(1);

    // The token is cached by now; config and permission are asked again for the new event.
    const api = nock(API);
    nockNoConfig(api);
    api.get(`${REPO_API}/collaborators/octo-admin/permission`).reply(200, { permission: "admin", role_name: "admin" });
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [
      listedComment(41, "a human comment", PERSON()),
      listedComment(9001, capture.bodies[0]!),
    ]);
    nockOwnApp(api);
    const edits: string[] = [];
    api.patch(`${REPO_API}/issues/comments/9001`, (b: { body: string }) => (edits.push(b.body), true)).reply(200, { id: 9001 });

    const edited = "```json\n" + EXPORT_A + "\n```\n```json\n" + EXPORT_B + "\n```";
    await receive(h, "issues", issuesPayload("edited", { body: edited, labels: ["license-usage: recorded"] }));

    expect(edits).toHaveLength(1);
    expect(edits[0]).toContain("**Issue edited**");
    expect(edits[0]).toMatch(/`issue body block 1`: \*\*already recorded\*\*/);
    expect(edits[0]).toMatch(/`issue body block 2`: \*\*recorded\*\*/);
    expect(capture.bodies).toHaveLength(1);
  });


  it("a person's or another app's comment carrying the status marker is never edited, nor its state trusted", async () => {
    const api = nockEventStart();
    // Planted state: an upload that failed. Trusted, it would make this issue "refused".
    const planted = `${ISSUE_MARKER}${stateMarker({ "comment-1:x.json": "refused" })}\nplanted`;
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [
      listedComment(50, planted, PERSON()),
      listedComment(51, planted, OTHER_APP_BOT()),
    ]);
    nockOwnApp(api);
    const capture = captureBody();
    api.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9001 });
    const added: string[] = [];
    nockLabel(api, "license-usage: recorded", added);
    // No PATCH is mocked: editing either planted comment would fail the delivery.

    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + EXPORT_A + "\n```" }));

    expect(capture.bodies).toHaveLength(1);
    expect(capture.bodies[0]).not.toContain("x.json");
    expect(added).toEqual(["license-usage: recorded"]);
  });

  it("finds its status comment on page 2 of the issue's comments and edits it, creating none", async () => {
    const api = nockEventStart();
    const commentsPath = `${REPO_API}/issues/${ISSUE}/comments`;
    const page1 = Array.from({ length: 100 }, (_, i) => listedComment(100 + i, `chatter ${i}`, PERSON()));
    api
      .get(commentsPath)
      .query({ per_page: "100" })
      .reply(200, page1, { link: `<${API}${commentsPath}?per_page=100&page=2>; rel="next", <${API}${commentsPath}?per_page=100&page=2>; rel="last"` });
    api
      .get(commentsPath)
      .query({ per_page: "100", page: "2" })
      .reply(200, [listedComment(9001, "<!-- license-sync:issue -->\nold status")]);
    nockOwnApp(api);
    const edits: string[] = [];
    api.patch(`${REPO_API}/issues/comments/9001`, (b: { body: string }) => (edits.push(b.body), true)).reply(200, { id: 9001 });
    nockLabel(api, "license-usage: recorded", []);
    // No POST to the comments is mocked: a second status comment would fail the delivery.

    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + EXPORT_A + "\n```" }));

    expect(edits).toHaveLength(1);
    expect(edits[0]).toMatch(/`issue body block 1`: \*\*recorded\*\*/);
  });

  it("ignores an edit that did not change the body, a bot sender and a body without exports: no API call", async () => {
    // disableNetConnect: any request would fail the delivery.
    await receive(h, "issues", issuesPayload("edited", { body: "```json\n" + EXPORT_A + "\n```", previousBody: null }));
    await receive(h, "issues", issuesPayload("opened", { body: ATTACHMENT, senderType: "Bot", login: "license-sync[bot]" }));
    await receive(h, "issues", issuesPayload("opened", { body: "Please count our seats, thanks!" }));
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });

  it("a writer ticking a task box in a reader's issue uploads nothing: no API call, nothing recorded", async () => {
    const reader = nockEventStart({ role: "read", login: "visitor" });
    const capture = captureBody();
    nockNewStatusComment(reader, capture);
    const pasted = "```json\n" + EXPORT_A + "\n```";
    await receive(h, "issues", issuesPayload("opened", { body: `- [ ] counted\n${pasted}`, login: "visitor" }));
    expect(capture.bodies[0]).toContain("you have read access, so nothing was read or recorded");

    // The writer's edit: GitHub sends the writer as sender, the reader's export still in the body.
    // disableNetConnect and no mock: any request would fail the delivery.
    const tick = issuesPayload("edited", { body: `- [x] counted\n${pasted}`, previousBody: `- [ ] counted\n${pasted}`, login: "octo-admin" });
    await receive(h, "issues", tick);
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });

  it("an edit adding an export reads only that one, as the editor's; the reader's export stays refused", async () => {
    const reader = nockEventStart({ role: "read", login: "visitor" });
    const capture = captureBody();
    nockNewStatusComment(reader, capture);
    const pastedA = "```json\n" + EXPORT_A + "\n```";
    await receive(h, "issues", issuesPayload("opened", { body: pastedA, login: "visitor" }));

    const api = nock(API);
    nockNoConfig(api);
    api.get(`${REPO_API}/collaborators/octo-admin/permission`).reply(200, { permission: "write", role_name: "write" });
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(9001, capture.bodies[0]!)]);
    nockOwnApp(api);
    const edits: string[] = [];
    api.patch(`${REPO_API}/issues/comments/9001`, (b: { body: string }) => (edits.push(b.body), true)).reply(200, { id: 9001 });
    const labels: string[] = [];
    nockLabel(api, "license-usage: refused", labels);
    // No mock closes the issue: the reader's export is still not recorded.

    // The writer adds export B above the reader's A.
    const body = "```json\n" + EXPORT_B + "\n```\n" + pastedA;
    await receive(h, "issues", issuesPayload("edited", { body, previousBody: pastedA, login: "octo-admin" }));

    const history = await h.ledger.history(LEDGER);
    expect(history.map((r) => [r.outcome, r.uploader, r.serverId])).toEqual([["recorded", "octo-admin", "server-b"]]);
    expect(edits).toHaveLength(1);
    expect(edits[0]).toMatch(/`issue body block 1`: \*\*recorded\*\*/);
    expect(edits[0]).not.toContain("block 2");
    expect(labels).toEqual(["license-usage: refused"]);
  });

  /** A writer's edit of the issue: config, permission, the status reply (9001) edited in place, the label. */
  function nockWriterEdit(configYaml: string, status: string, label: string): { api: nock.Scope; edits: string[]; labels: string[] } {
    const api = nock(API);
    api.get(CONFIG_PATH).reply(200, configYaml);
    api.get(`${REPO_API}/collaborators/octo-admin/permission`).reply(200, { permission: "write", role_name: "write" });
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(9001, status)]);
    nockOwnApp(api);
    const edits: string[] = [];
    api.patch(`${REPO_API}/issues/comments/9001`, (b: { body: string }) => (edits.push(b.body), true)).reply(200, { id: 9001 });
    const labels: string[] = [];
    nockLabel(api, label, labels);
    return { api, edits, labels };
  }

  it("an edit that replaces the body's export: the state follows the new body, the old export's refusal is gone", async () => {
    const close = "close_issues_when_recorded: true\n";
    const reader = nockEventStart({ role: "read", login: "visitor", configYaml: close });
    const capture = captureBody();
    nockNewStatusComment(reader, capture);
    const pastedA = "```json\n" + EXPORT_A + "\n```";
    await receive(h, "issues", issuesPayload("opened", { body: pastedA, login: "visitor" }));
    const before = parseStateMarker(capture.bodies[0]);
    expect(Object.values(before)).toEqual(["refused"]);

    const { api, edits, labels } = nockWriterEdit(close, capture.bodies[0]!, "license-usage: recorded");
    let closed: unknown;
    api.patch(`${REPO_API}/issues/${ISSUE}`, (b) => ((closed = b), true)).reply(200, {});

    // The writer replaces the reader's A with B: A is no longer in the body, so its refusal goes.
    const pastedB = "```json\n" + EXPORT_B + "\n```";
    await receive(h, "issues", issuesPayload("edited", { body: pastedB, previousBody: pastedA, login: "octo-admin" }));

    const history = await h.ledger.history(LEDGER);
    expect(history.map((r) => [r.outcome, r.uploader, r.serverId])).toEqual([["recorded", "octo-admin", "server-b"]]);
    expect(edits).toHaveLength(1);
    const after = parseStateMarker(edits[0]);
    expect(Object.values(after)).toEqual(["recorded"]);
    expect(Object.keys(after).filter((k) => k in before)).toEqual([]);
    expect(labels).toEqual(["license-usage: recorded"]);
    expect(closed).toEqual({ state: "closed", state_reason: "completed" });
  });

  // Outgoing bodies are redacted at the Octokit boundary, so a state key holding an address would
  // come back masked and match nothing: keys hold no user text.
  const ADDRESSED = ADDRESSED_URL;

  /** The status reply as GitHub lists it on the next event, edited in place (PATCH) then. */
  function nockStatusEdit(current: string, o: { login?: string; role?: string } = {}): string[] {
    const api = nock(API);
    nockNoConfig(api);
    const role = o.role ?? "admin";
    api.get(`${REPO_API}/collaborators/${o.login ?? "octo-admin"}/permission`).reply(200, { permission: role, role_name: role });
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(9001, current)]);
    nockOwnApp(api);
    const edits: string[] = [];
    api.patch(`${REPO_API}/issues/comments/9001`, (b: { body: string }) => (edits.push(b.body), true)).reply(200, { id: 9001 });
    return edits;
  }

  it("an attachment whose name holds an e-mail address is recorded once, and an edit that keeps it leaves it recorded", async () => {
    const api = nockEventStart();
    nock("https://github.com").get("/user-attachments/files/124/ghes-a-someone@corp.example.json").reply(200, EXPORT_A);
    const capture = captureBody();
    nockNewStatusComment(api, capture);
    nockLabel(api, "license-usage: recorded", []);
    const opened = `Our export: ${ADDRESSED}`;
    await receive(h, "issues", issuesPayload("opened", { body: opened }));
    const first = capture.bodies[0]!;
    expect(Object.values(parseStateMarker(first))).toEqual(["recorded"]);
    expect(first).not.toContain("someone");

    // The edit adds a pasted export and keeps the attachment: the attachment is not fetched again
    // (no mock: a fetch would be a "not read" refusal), keeps its "recorded", and no label changes.
    const edits = nockStatusEdit(first);
    const body = `${opened}
\`\`\`json
${EXPORT_B}
\`\`\``;
    await receive(h, "issues", issuesPayload("edited", { body, previousBody: opened, labels: ["license-usage: recorded"] }));

    const history = await h.ledger.history(LEDGER);
    expect(history.map((r) => [r.outcome, r.serverId]).sort()).toEqual([
      ["recorded", "server-a"],
      ["recorded", "server-b"],
    ]);
    expect(edits).toHaveLength(1);
    const state = parseStateMarker(edits[0]);
    expect(Object.values(state)).toEqual(["recorded", "recorded"]);
    expect(Object.keys(parseStateMarker(first)).every((k) => k in state)).toBe(true);
    expect(JSON.stringify(state)).not.toMatch(/someone|e-mail|corp\.example/);
  });

  it("a reader's refused attachment with an address in its name stays refused when a writer's edit adds an export", async () => {
    const close = "close_issues_when_recorded: true\n";
    const reader = nockEventStart({ role: "read", login: "visitor", configYaml: close });
    const capture = captureBody();
    nockNewStatusComment(reader, capture);
    await receive(h, "issues", issuesPayload("opened", { body: ADDRESSED, login: "visitor" }));
    expect(Object.values(parseStateMarker(capture.bodies[0]))).toEqual(["refused"]);

    const { edits, labels } = nockWriterEdit(close, capture.bodies[0]!, "license-usage: refused");
    // No mock closes the issue: the reader's export is still there, not recorded.

    const body = `${ADDRESSED}
\`\`\`json
${EXPORT_B}
\`\`\``;
    await receive(h, "issues", issuesPayload("edited", { body, previousBody: ADDRESSED, login: "octo-admin" }));

    expect((await h.ledger.history(LEDGER)).map((r) => r.serverId)).toEqual(["server-b"]);
    expect(Object.values(parseStateMarker(edits[0])).sort()).toEqual(["recorded", "refused"]);
    expect(labels).toEqual(["license-usage: refused"]);
  });

  it("a status reply written before keys were hashed (plain attachment URL) is still understood, and rewritten in the new form", async () => {
    nockInstallationToken(nock(API));
    const legacy = `${ISSUE_MARKER}${stateMarker({ [`body:${ATTACHMENT}`]: "recorded" })}\nold status`;
    const edits = nockStatusEdit(legacy);
    const opened = `Our export: ${ATTACHMENT}`;
    const body = `${opened}
\`\`\`json
${EXPORT_B}
\`\`\``;
    await receive(h, "issues", issuesPayload("edited", { body, previousBody: opened, labels: ["license-usage: recorded"] }));

    expect((await h.ledger.history(LEDGER)).map((r) => r.serverId)).toEqual(["server-b"]);
    const state = parseStateMarker(edits[0]);
    expect(Object.values(state)).toEqual(["recorded", "recorded"]);
    // One entry per export: the old key is replaced, not kept beside the new one.
    expect(Object.keys(state).some((k) => k.includes("user-attachments"))).toBe(false);
  });

  it("ignores another repository without an API call", async () => {
    await h.store.close();
    h = await harness({ designatedRepos: ["acme/other"] });
    await receive(h, "issues", issuesPayload("opened", { body: "```json\n" + EXPORT_A + "\n```" }));
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });
});

describe("issue state keys", () => {
  const attachment = (url: string) => ({ url, name: url.split("/").pop()! });

  it("hold no user text: an attachment is keyed by a short hash of its URL, the same URL the same key", () => {
    const key = stateKey("body", attachment(ADDRESSED_URL));
    expect(key).toMatch(/^body:file-[A-Za-z0-9_-]{22}$/);
    expect(stateKey("body", attachment(ADDRESSED_URL))).toBe(key);
    expect(stateKey("body", attachment(ATTACHMENT))).not.toBe(key);
    expect(stateKey("comment-5", attachment(ADDRESSED_URL))).toBe(key.replace(/^body:/, "comment-5:"));
    // Even a 2,000-character URL makes a key of the same length.
    expect(stateKey("body", attachment(`https://github.com/user-attachments/files/1/${"a".repeat(2000)}.json`))).toHaveLength(key.length);
  });

  it("adopt a plain-URL key of an older reply for the attachments still there, leaving every other entry alone", () => {
    const found = { attachments: [attachment(ATTACHMENT)], blocks: [], ignored: [] };
    const old = { [`body:${ATTACHMENT}`]: "refused" as const, "body:https://github.com/user-attachments/files/9/gone.json": "recorded" as const, "comment-5:block-1": "recorded" as const };
    expect(adoptPlainUrlKeys(old, "body", found)).toEqual({
      [stateKey("body", attachment(ATTACHMENT))]: "refused",
      "body:https://github.com/user-attachments/files/9/gone.json": "recorded",
      "comment-5:block-1": "recorded",
    });
    // Another origin's plain key for the same URL is that origin's, not this one's.
    expect(adoptPlainUrlKeys({ [`comment-5:${ATTACHMENT}`]: "refused" }, "body", found)).toEqual({ [`comment-5:${ATTACHMENT}`]: "refused" });
  });
});
