import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import { cloudCsv, exportJson, users } from "../helpers/exports.js";
import { API, nockOwnApp } from "../helpers/probot.js";
import { OTHER_APP_BOT, PERSON, listedComment } from "../helpers/payloads.js";
import {
  ISSUE,
  REPO_API,
  REPO_ID,
  UPLOAD_URL,
  assertNoPendingMocks,
  captureBody,
  commentPayload,
  harness,
  nockEventStart,
  receive,
  type Harness,
} from "./issues-support.js";
import { allowDashboard } from "../helpers/dashboard.js";
import { ISSUE_MARKER, SUMMARY_START, commandMarker, parseStateMarker, stateMarker } from "../../src/domain/render-issue.js";

const LEDGER = { repoId: REPO_ID, fullName: "acme/license-usage" };
const OPTS = { allEmails: false, logins: false };
const EXPORT_A = exportJson("server-a", "ghes-a.corp.example", users(1, 3));
const EXPORT_B = exportJson("server-b", "ghes-b.corp.example", users(3, 4));
// Same host name as A: a second appliance reinstalled under the old name.
const EXPORT_A2 = exportJson("server-a2", "ghes-a.corp.example", users(10, 11));
const COMMENT_ID = 5001;

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

async function seed(...files: string[]): Promise<void> {
  await h.ledger.recordUploads(
    { ledger: LEDGER, uploader: "seed", deliveryId: null, options: OPTS },
    files.map((text, i) => ({ file: `seed-${i}.json`, bytes: Buffer.from(text), source: { kind: "commit", sha: "0".repeat(40), path: `seed-${i}.json` } })),
  );
}

/** A command reply: the list of comments (to find an earlier reply to this comment), then the new one. */
function nockCommandReply(scope: nock.Scope, capture: ReturnType<typeof captureBody>): void {
  scope.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(1, "please count", PERSON())]);
  scope.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9100 });
}

describe("issue_comment.created: exports", () => {
  it("records an inline block from a comment into the issue's status reply", async () => {
    const api = nockEventStart();
    const capture = captureBody();
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, []);
    api.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9001 });
    api.post(`${REPO_API}/labels`).reply(201, {});
    api.post(`${REPO_API}/issues/${ISSUE}/labels`).reply(200, []);

    await receive(h, "issue_comment", commentPayload({ body: "Here:\n```json\n" + EXPORT_A + "\n```" }));

    expect(capture.bodies[0]).toContain("<!-- license-sync:issue -->");
    expect(capture.bodies[0]).toMatch(/`comment block 1`: \*\*recorded\*\*/);
    const history = await h.ledger.history(LEDGER);
    expect(history[0]?.source).toEqual({ kind: "issue", issueNumber: ISSUE, commentId: COMMENT_ID, file: "comment block 1" });
  });

  it("a person's or another app's comment carrying the status marker is never edited, nor its state trusted", async () => {
    const api = nockEventStart();
    // Planted: an issue-body attachment "refused". Trusted, the issue would stay labelled refused.
    const planted = `${ISSUE_MARKER}${stateMarker({ "body:https://github.com/user-attachments/files/9/x.json": "refused" })}\nplanted`;
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [
      listedComment(50, planted, PERSON()),
      listedComment(51, planted, OTHER_APP_BOT()),
    ]);
    nockOwnApp(api);
    const capture = captureBody();
    api.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9001 });
    const labels: string[] = [];
    api.post(`${REPO_API}/labels`, (b: { name: string }) => b.name === "license-usage: recorded").reply(201, {});
    api.post(`${REPO_API}/issues/${ISSUE}/labels`, (b: { labels: string[] }) => (labels.push(...b.labels), true)).reply(200, []);
    // No PATCH is mocked: editing either planted comment would fail the delivery.

    await receive(h, "issue_comment", commentPayload({ body: "Here:\n```json\n" + EXPORT_A + "\n```" }));

    expect(capture.bodies).toHaveLength(1);
    expect(Object.entries(parseStateMarker(capture.bodies[0]))).toEqual([[expect.stringMatching(new RegExp(`^comment-${COMMENT_ID}:`)), "recorded"]]);
    expect(capture.bodies[0]).not.toContain("x.json");
    expect(labels).toEqual(["license-usage: recorded"]);
  });

  it("ignores a plain comment, a bot's comment and a pull request comment without any API call", async () => {
    await receive(h, "issue_comment", commentPayload({ body: "Thanks, looks good!" }));
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync report", senderType: "Bot", login: "license-sync[bot]" }));
    const pr = commentPayload({ body: "/license-sync report" });
    (pr.issue as Record<string, unknown>).pull_request = { url: "https://api.github.com/repos/acme/license-usage/pulls/12" };
    await receive(h, "issue_comment", pr);
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });
});

describe("/license-sync commands", () => {
  it("report: posts the current summary", async () => {
    await seed(EXPORT_A, EXPORT_B);
    const api = nockEventStart({ role: "write" });
    const capture = captureBody();
    nockCommandReply(api, capture);

    await receive(h, "issue_comment", commentPayload({ body: "/license-sync report" }));

    expect(capture.bodies[0]).toContain(`<!-- license-sync:command ${COMMENT_ID} -->`);
    expect(capture.bodies[0]).toContain("4 seats consumed");
    expect(capture.bodies[0]).toContain('"seats":4,"accounts":5,"deduplicated":1,"instances":2');
    // Seats over time, from the history: both uploads, newest first, and the marker stays last.
    expect(capture.bodies[0]).toContain("### Seats over time");
    expect(capture.bodies[0]).toMatch(/\| ghes-b\.corp\.example \| first upload \| 2 \| 4 \|[\s\S]*\| ghes-a\.corp\.example \| first upload \| 3 \| 3 \|/);
    expect(capture.bodies[0]!.trimEnd().split("\n").pop()).toMatch(/^<!-- license-sync:summary /);
  });

  it("help: explains uploads and commands with the upload link, to anyone (no permission look-up)", async () => {
    const api = nockEventStart({ role: null });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync help", login: "a-reader" }));
    expect(capture.bodies[0]).toContain(`(${UPLOAD_URL})`);
    expect(capture.bodies[0]).toContain("`/license-sync forget <server_id or host name>`");
    expect(capture.bodies[0]).not.toContain("I do not know");
  });

  it("an unknown command gets the short help", async () => {
    const api = nockEventStart({ role: null });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync frobnicate" }));
    expect(capture.bodies[0]).toContain("I do not know the command `/license-sync frobnicate`.");
  });

  it("a person's comment carrying this command's reply marker is not taken for the reply: a new one is posted", async () => {
    const api = nockEventStart();
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(60, `${commandMarker(COMMENT_ID)}\nplanted by a person`, PERSON())]);
    const capture = captureBody();
    api.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9100 });
    // No PATCH is mocked: editing the person's comment would fail the delivery.

    await receive(h, "issue_comment", commentPayload({ body: "/license-sync report" }));

    expect(capture.bodies).toHaveLength(1);
    expect(capture.bodies[0]!.startsWith(commandMarker(COMMENT_ID))).toBe(true);
  });

  it("a redelivered command edits its earlier reply", async () => {
    const api = nockEventStart({ role: null });
    api
      .get(`${REPO_API}/issues/${ISSUE}/comments`)
      .query(true)
      .reply(200, [listedComment(9100, `<!-- license-sync:command ${COMMENT_ID} -->\nold`)]);
    nockOwnApp(api);
    const capture = captureBody();
    api.patch(`${REPO_API}/issues/comments/9100`, capture.match).reply(200, { id: 9100 });
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync help" }));
    expect(capture.bodies).toHaveLength(1);
  });

  it("forget by a maintainer removes the instance, records it in the history and shows the new totals", async () => {
    await seed(EXPORT_A, EXPORT_B);
    const api = nockEventStart({ role: "maintain", login: "ops-lead" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    // The issue's status reply from the upload, with the totals of then: redrawn, the rest kept.
    const head = `${ISSUE_MARKER}<!-- license-sync:state {"body:b1":"recorded"} -->\n**Issue body**: 1 recorded\n\n- ✅ \`export.json\`: **recorded**\n\n`;
    const status = `${head}${SUMMARY_START}\n## 4 seats consumed\n\n<!-- license-sync:summary {"seats":4} -->`;
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(1, "please count", PERSON()), listedComment(8000, status)]);
    nockOwnApp(api);
    const edited = captureBody();
    api.patch(`${REPO_API}/issues/comments/8000`, edited.match).reply(200, { id: 8000 });
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync forget server-b", login: "ops-lead" }));

    expect(capture.bodies[0]).toContain("Removed ghes-b.corp.example (`server-b`, 2 accounts)");
    expect(capture.bodies[0]).toContain('"seats":3,"accounts":3,"deduplicated":0,"instances":1');
    expect(edited.bodies[0]!.startsWith(head + SUMMARY_START)).toBe(true);
    expect(edited.bodies[0]).toContain("Updated after `/license-sync forget server-b` by @ops-lead");
    expect(edited.bodies[0]).toContain("## 3 seats consumed");
    expect(edited.bodies[0]).not.toContain("## 4 seats consumed");
    expect(edited.bodies[0]).toContain('"seats":3,"accounts":3,"deduplicated":0,"instances":1');
    const [last] = await h.ledger.history(LEDGER, 1);
    expect(last).toMatchObject({ outcome: "removed", serverId: "server-b", uploader: "ops-lead", source: { kind: "command", issueNumber: ISSUE } });
  });

  it("forget cloud by a maintainer removes the GHEC license report; the summary is GHES-only again", async () => {
    await seed(EXPORT_A);
    await h.ledger.recordUploads({ ledger: LEDGER, uploader: "seed", deliveryId: null, options: OPTS }, [
      { file: "ghec.csv", bytes: Buffer.from(cloudCsv([{ login: "cloud-1", emails: ["u1@corp.example"] }, { login: "only-cloud" }])), source: { kind: "commit", sha: "1".repeat(40), path: "ghec.csv" } },
    ]);
    expect((await h.ledger.summary(LEDGER, OPTS)).totals.enterpriseSeats).toBe(4);
    const api = nockEventStart({ role: "maintain", login: "ops-lead" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    // No status reply on this issue: nothing else is written.
    api.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, [listedComment(1, "please count", PERSON())]);

    await receive(h, "issue_comment", commentPayload({ body: "/license-sync forget cloud", login: "ops-lead" }));

    expect(capture.bodies[0]).toContain("Removed the GHEC license report `ghec.csv`");
    expect(capture.bodies[0]).toContain('<!-- license-sync:summary {"seats":3,"accounts":3,"deduplicated":0,"instances":1} -->');
    const [last] = await h.ledger.history(LEDGER, 1);
    expect(last).toMatchObject({ subject: "cloud", outcome: "removed", uploader: "ops-lead", source: { kind: "command", issueNumber: ISSUE } });
    expect((await h.ledger.summary(LEDGER, OPTS)).instances).toHaveLength(1);
  });

  it("forget by host name shared by two instances asks for the exact id and removes nothing", async () => {
    await seed(EXPORT_A, EXPORT_A2);
    const api = nockEventStart({ role: "admin" });
    const capture = captureBody();
    nockCommandReply(api, capture);

    await receive(h, "issue_comment", commentPayload({ body: "/license-sync forget ghes-a.corp.example" }));

    expect(capture.bodies[0]).toContain("Several instances are named `ghes-a.corp.example`, so nothing was removed");
    expect(capture.bodies[0]).toContain("`server-a`");
    expect(capture.bodies[0]).toContain("`server-a2`");
    expect((await h.ledger.summary(LEDGER, OPTS)).instances).toHaveLength(2);
  });

  it("forget of an unknown instance says so", async () => {
    await seed(EXPORT_A);
    const api = nockEventStart({ role: "admin" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync forget nope" }));
    expect(capture.bodies[0]).toContain("No recorded instance has the server id or host name `nope`");
  });

  it("forget by a writer without maintain is refused and changes nothing", async () => {
    await seed(EXPORT_A);
    const api = nockEventStart({ role: "write", login: "dev" });
    const capture = captureBody();
    nockCommandReply(api, capture);

    await receive(h, "issue_comment", commentPayload({ body: "/license-sync forget server-a", login: "dev" }));

    expect(capture.bodies[0]).toContain("Removing an instance needs the maintain or admin role");
    expect((await h.ledger.summary(LEDGER, OPTS)).instances).toHaveLength(1);
    expect((await h.ledger.history(LEDGER)).some((r) => r.outcome === "removed")).toBe(false);
  });

  it("a command by someone without write access is refused", async () => {
    const api = nockEventStart({ role: "read", login: "visitor" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync report", login: "visitor" }));
    expect(capture.bodies[0]).toContain("Only people with write access to this repository can use license-sync commands, and you have read access.");
    expect(capture.bodies[0]).not.toContain("seats consumed");
  });

  it("an upload in a comment by someone without write access gets its own reply; the file is never fetched", async () => {
    const api = nockEventStart({ role: "none", permission: "none", login: "visitor" });
    const file = nock("https://github.com").get("/user-attachments/files/9/u.json").reply(200, EXPORT_A);
    const capture = captureBody();
    nockCommandReply(api, capture);

    await receive(h, "issue_comment", commentPayload({ body: "https://github.com/user-attachments/files/9/u.json", login: "visitor" }));

    expect(file.isDone()).toBe(false);
    nock.removeInterceptor({ hostname: "github.com", path: "/user-attachments/files/9/u.json", proto: "https" });
    expect(capture.bodies[0]).toContain(`<!-- license-sync:command ${COMMENT_ID} -->`);
    expect(capture.bodies[0]).toContain("you have no access, so nothing was read or recorded");
    expect(await h.ledger.history(LEDGER)).toEqual([]);
  });

  it("a collaborator check answering 404 counts as no access", async () => {
    const api = nock(API)
      .post(/\/app\/installations\/\d+\/access_tokens/)
      .reply(201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z" })
      .get(/license-sync\.yml$/)
      .times(2)
      .reply(404)
      .get(`${REPO_API}/collaborators/stranger/permission`)
      .reply(404, { message: "Not Found" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync report", login: "stranger" }));
    expect(capture.bodies[0]).toContain("you have no access");
  });
});
