// GitHub API faults on the push path, with Probot's real retry and throttling plugins (waits shrunk
// to milliseconds): 5xx and rate limits while reading files or replying are retried and the reply
// lands with every file's true status; when retries run out the delivery fails and a redelivery
// completes, with nothing recorded twice or wrongly.
import { describe, it, expect } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import type { LedgerService } from "../../src/ledger/service.js";
import { API, nockInstallationToken, nockOwnApp } from "../helpers/probot.js";
import { allowDashboard } from "../helpers/dashboard.js";
import { createResilientProbot, RETRIES } from "../helpers/resilient-probot.js";
import { AFTER_SHA, BEFORE_SHA, FULL_NAME, REPO_ID, listedComment, pushPayload } from "../helpers/payloads.js";
import { rawBlob, exportJson, users } from "../helpers/exports.js";
import { useTestApp } from "../helpers/app.js";

const REPO_PATH = `/repos/${FULL_NAME}`;
const LEDGER = { repoId: REPO_ID, fullName: FULL_NAME };
const VALID = exportJson("srv-a", "ghes-a.corp.example", users(1, 3));
const BROKEN = JSON.stringify({ version: 1, instance: { server_id: "srv-x", host_name: "x.example" }, users: [{ user_id: 1, login: "a", emails: [{ email: 12345 }] }] });

type Endpoint = "config" | "compare" | "blob" | "list comments" | "create comment" | "check run";

interface FaultReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const now = () => String(Math.floor(Date.now() / 1000));
const FAULTS: Record<string, () => FaultReply> = {
  "500": () => ({ status: 500, body: { message: "Server Error" } }),
  "502": () => ({ status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>" }),
  "429 rate limit": () => ({
    status: 429,
    body: { message: "API rate limit exceeded for installation ID 4242." },
    headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": now() },
  }),
  "403 rate limit": () => ({
    status: 403,
    body: { message: "API rate limit exceeded for installation ID 4242." },
    headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": now() },
  }),
  "403 secondary rate limit": () => ({
    status: 403,
    body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." },
    headers: { "retry-after": "1" },
  }),
};

/** What the app sent in successful writes (a request answered with a fault does not count). */
interface Captured {
  comments: string[];
  checks: { conclusion: string; output: { title: string; annotations?: { path: string }[] } }[];
}

let probot: Probot;
/** Requests answered by a persistent fault. */
let faultsServed = 0;
let ledger: LedgerService;

useTestApp((app) => {
  ({ probot, ledger } = app);
  faultsServed = 0;
}, createResilientProbot);

const push = (id = "delivery-1") => probot.receive({ id, name: "push", payload: pushPayload() } as never);

/**
 * The whole push flow at nock; `fault` answers `times` requests to one endpoint before the real
 * answer (or instead of it, with `then: "nothing"`, which also leaves out every later step).
 */
function github(
  cap: Captured,
  o: { fault?: { at: Endpoint; reply: () => FaultReply; times?: number; then?: "nothing" }; token?: boolean; existingComment?: string } = {},
) {
  const scope = o.token === false ? nock(API) : nockInstallationToken(nock(API));
  let stopped = false;
  // `capture`: only the answered request records its body (a nock reply function taking the body hangs under jest's VM modules).
  const step = (at: Endpoint, define: (s: nock.Scope, capture: boolean) => nock.Interceptor, answer: (i: nock.Interceptor) => void) => {
    if (stopped) return;
    if (o.fault?.at === at) {
      const f = o.fault;
      if (f.then === "nothing") {
        // Every attempt fails, however many the plugins make (a persisted mock is done once used).
        define(nock(API).persist(), false).reply(() => {
            faultsServed++;
            const r = f.reply();
            return [r.status, r.body as nock.Body, r.headers ?? {}];
          });
        stopped = true;
        return;
      }
      for (let i = 0; i < (f.times ?? 1); i++) {
        const r = f.reply();
        define(scope, false).reply(r.status, r.body as nock.Body, r.headers);
      }
    }
    answer(define(scope, true));
  };
  step(
    "config",
    (s) => s.get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`),
    (i) => i.reply(200, "", { "content-type": "application/vnd.github.raw; charset=utf-8" }),
  );
  step(
    "compare",
    (s) => s.get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`).query({ per_page: "1" }),
    (i) =>
      i.reply(200, {
        files: [
          { filename: "license-usage/a.json", sha: "blob-a", status: "added" },
          { filename: "license-usage/broken.json", sha: "blob-x", status: "added" },
        ],
      }),
  );
  step("blob", (s) => s.get(`${REPO_PATH}/git/blobs/blob-a`), (i) => i.reply(...rawBlob(VALID)));
  if (!stopped) scope.get(`${REPO_PATH}/git/blobs/blob-x`).reply(...rawBlob(BROKEN));
  step(
    "list comments",
    (s) => s.get(`${REPO_PATH}/commits/${AFTER_SHA}/comments`).query({ per_page: "100" }),
    (i) => i.reply(200, o.existingComment ? [listedComment(70, o.existingComment)] : []),
  );
  if (o.existingComment !== undefined && !stopped) nockOwnApp(scope);
  if (o.existingComment === undefined) {
    step(
      "create comment",
      (s, capture) => s.post(`${REPO_PATH}/commits/${AFTER_SHA}/comments`, capture ? (b: { body: string }) => (cap.comments.push(b.body), true) : undefined),
      (i) => i.reply(201, { id: 70 }),
    );
  }
  step(
    "check run",
    (s, capture) => s.post(`${REPO_PATH}/check-runs`, capture ? (b: Captured["checks"][number]) => (cap.checks.push(b), true) : undefined),
    (i) => i.reply(201, { id: 5 }),
  );
  allowDashboard();
  return scope;
}

/** The app's true answer: a.json recorded, broken.json refused, whatever happened on the way. */
async function expectTrueOutcome(cap: Captured) {
  const body = cap.comments.at(-1) ?? "";
  expect(body).toContain("1 recorded, 1 refused");
  expect(body).toContain("`license-usage/a.json`: **recorded**: ghes-a.corp.example, 3 accounts (first upload of this instance)");
  expect(body).toContain("`license-usage/broken.json`: **refused**:");
  expect(body).toContain("## 3 seats consumed");
  expect(cap.checks.at(-1)).toMatchObject({ conclusion: "failure", output: { title: "1 recorded, 1 refused" } });
  expect(cap.checks.at(-1)?.output.annotations?.map((a) => a.path)).toEqual(["license-usage/broken.json"]);

  const history = await ledger.history(LEDGER);
  const recorded = history.filter((h) => h.outcome === "recorded");
  expect(recorded).toHaveLength(1);
  expect(recorded[0]).toMatchObject({ serverId: "srv-a", accountCount: 3, source: { path: "license-usage/a.json" } });
  // The broken file is only ever refused, never recorded; the valid one never refused.
  const refused = history.filter((h) => h.outcome === "refused");
  expect(refused.length).toBeGreaterThanOrEqual(1);
  for (const r of refused) expect(r.source).toMatchObject({ kind: "commit", path: "license-usage/broken.json" });
  expect((await ledger.summary(LEDGER, { allEmails: false, logins: false })).totals).toEqual({ seats: 3, accounts: 3, deduplicated: 0, instances: 1 });
}

const ENDPOINTS: Endpoint[] = ["config", "compare", "blob", "list comments", "create comment", "check run"];
const CASES = ENDPOINTS.flatMap((at) => Object.keys(FAULTS).map((fault) => [at, fault] as const));

describe("transient GitHub API faults are retried", () => {
  it.each(CASES)("%s answers %s twice, then succeeds: the reply lands with every file's true status", async (at, fault) => {
    const cap: Captured = { comments: [], checks: [] };
    github(cap, { fault: { at, reply: FAULTS[fault]!, times: 2 } });
    await push();
    // One comment and one check run: a retried write is not repeated once it succeeded.
    expect(cap.comments).toHaveLength(1);
    expect(cap.checks).toHaveLength(1);
    await expectTrueOutcome(cap);
  });
});

describe("when retries run out", () => {
  const aggregateStatus = async (p: Promise<unknown>) => {
    const err = (await p.then(
      () => null,
      (e: unknown) => e,
    )) as { errors?: { status?: number }[] } | null;
    expect(err).not.toBeNull();
    return err?.errors?.[0]?.status;
  };

  // A 429 is retried by both plugins (throttling inside, retry around it, sharing a retry count):
  // more attempts than either alone, still bounded.
  it.each([
    ["compare", "502", 1 + RETRIES, 1 + RETRIES],
    ["blob", "403 secondary rate limit", 1 + RETRIES, 1 + RETRIES],
    ["blob", "429 rate limit", 1 + RETRIES, (1 + RETRIES) ** 2],
  ] as const)("%s failing with %s on every attempt: the delivery fails, nothing is recorded, a redelivery completes", async (at, fault, least, most) => {
    const failed: Captured = { comments: [], checks: [] };
    github(failed, { fault: { at, reply: FAULTS[fault]!, then: "nothing" } });
    expect(await aggregateStatus(push("d-1"))).toBe(FAULTS[fault]!().status);
    expect(faultsServed).toBeGreaterThanOrEqual(least);
    expect(faultsServed).toBeLessThanOrEqual(most);
    expect(failed.comments).toEqual([]);
    expect(await ledger.history(LEDGER)).toEqual([]);
    expect(nock.pendingMocks()).toEqual([]);
    nock.cleanAll();

    const cap: Captured = { comments: [], checks: [] };
    github(cap, { token: false });
    await push("d-1");
    await expectTrueOutcome(cap);
    expect(await ledger.history(LEDGER)).toHaveLength(2);
  });

  it("the check run failing on every attempt: the delivery fails after the comment; a redelivery posts the check run and records nothing twice", async () => {
    const failed: Captured = { comments: [], checks: [] };
    github(failed, { fault: { at: "check run", reply: FAULTS["500"]!, then: "nothing" } });
    expect(await aggregateStatus(push("d-1"))).toBe(500);
    expect(faultsServed).toBe(1 + RETRIES);
    expect(failed.comments).toHaveLength(1);
    expect(failed.checks).toEqual([]);
    nock.cleanAll();

    // The redelivery finds its comment (same body: nothing to edit) and posts the check run.
    const cap: Captured = { comments: [], checks: [] };
    github(cap, { token: false, existingComment: failed.comments[0]! });
    await push("d-1");
    expect(cap.checks).toHaveLength(1);
    await expectTrueOutcome({ comments: failed.comments, checks: cap.checks });
  });
});
