// Every write to GitHub passes one e-mail redaction at the Octokit boundary (AppOctokit's
// redactOutgoing plugin): comments, issue bodies, check-run output and annotations' messages.
import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import { API, TestOctokit } from "../helpers/probot.js";

const REPO = { owner: "acme", repo: "license-usage" };
const octokit = () => new TestOctokit({ auth: "ghs_test" });

/** The JSON body nock received, kept for the assertions. */
function capture(into: { body?: unknown }) {
  return (body: unknown) => {
    into.body = body;
    return true;
  };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("redactOutgoing", () => {
  it("masks addresses in a comment body and leaves @mentions and markers alone", async () => {
    const sent: { body?: unknown } = {};
    nock(API).post("/repos/acme/license-usage/issues/7/comments", capture(sent)).reply(201, { id: 1 });
    const body = "<!-- license-sync:issue -->\nThanks, @octocat. `alice.smith+x@corp.example.com` was refused (bob@ghe.corp.example).";
    await octokit().rest.issues.createComment({ ...REPO, issue_number: 7, body });
    expect(sent.body).toEqual({
      body: "<!-- license-sync:issue -->\nThanks, @octocat. `[e-mail]` was refused ([e-mail]).",
    });
  });

  it("masks check-run output (title, summary, text) and every annotation's message, without touching the caller's objects", async () => {
    const sent: { body?: unknown } = {};
    nock(API).post("/repos/acme/license-usage/check-runs", capture(sent)).reply(201, { id: 1 });
    const output = {
      title: "1 refused: carol@x.example",
      summary: "dave@x.example twice",
      text: "users[3].emails[0].email: erin@x.example is not unique",
      annotations: [{ path: "exports/a.json", start_line: 1, end_line: 1, annotation_level: "failure" as const, message: "frank@x.example" }],
    };
    const before = JSON.stringify(output);
    await octokit().rest.checks.create({ ...REPO, name: "license usage", head_sha: "a".repeat(40), status: "completed", conclusion: "failure", output });
    expect(sent.body).toMatchObject({
      output: {
        title: "1 refused: [e-mail]",
        summary: "[e-mail] twice",
        text: "users[3].emails[0].email: [e-mail] is not unique",
        annotations: [{ path: "exports/a.json", message: "[e-mail]" }],
      },
    });
    expect(JSON.stringify(output)).toBe(before);
  });

  it("masks an issue body and title (PATCH) and a PUT body", async () => {
    const patched: { body?: unknown } = {};
    const put: { body?: unknown } = {};
    nock(API)
      .patch("/repos/acme/license-usage/issues/3", capture(patched))
      .reply(200, { number: 3 })
      .put("/repos/acme/license-usage/issues/3/lock", capture(put))
      .reply(204);
    await octokit().rest.issues.update({ ...REPO, issue_number: 3, title: "for gina@x.example", body: "| h@x.example |" });
    await octokit().request("PUT /repos/{owner}/{repo}/issues/{issue_number}/lock", { ...REPO, issue_number: 3, lock_reason: "ivan@x.example" as "spam" });
    expect(patched.body).toEqual({ title: "for [e-mail]", body: "| [e-mail] |" });
    expect(put.body).toEqual({ lock_reason: "[e-mail]" });
  });

  it("leaves reads alone: a GET's parameters are not a body", async () => {
    nock(API).get("/repos/acme/license-usage/issues").query({ creator: "x@y.example" }).reply(200, []);
    await octokit().rest.issues.listForRepo({ ...REPO, creator: "x@y.example" });
  });
});
