// The dashboard issue through the push path, against a small stand-in of GitHub's issues API kept
// in memory (nock): the tests assert the end state of the repository's issues, not a script of calls.
import { describe, it, expect, beforeEach, afterEach, jest } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import { licenseSync } from "../../src/index.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { API, createTestProbot, nockInstallationToken } from "../helpers/probot.js";
import { BEFORE_SHA, FULL_NAME, pushPayload } from "../helpers/payloads.js";
import { blobReply, exportJson, users } from "../helpers/exports.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { DASHBOARD_MARKER } from "../../src/domain/render-dashboard.js";
import { DASHBOARD_LABEL } from "../../src/answer/dashboard.js";

const REPO_PATH = `/repos/${FULL_NAME}`;

interface Issue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  locked: boolean;
  user: { type: string; login: string };
  labels: { name: string }[];
  comments: { id: number; body: string; user: { type: string; login?: string } }[];
}

let issues: Issue[];
/** Issue edits the app made (PATCH /issues/N). */
let edits: number;
const json = <T>(body: unknown): T => (typeof body === "string" ? JSON.parse(body) : body) as T;
let nextNumber: number;
let probot: Probot;
let store: LedgerStore;
let pushes = 0;

function issuesApi(): void {
  const scope = nock(API).persist();
  scope.get(`${REPO_PATH}/issues`).query(true).reply(async (req: Request) => {
    const uri = req.url;
    const label = new URL(uri).searchParams.get("labels");
    return [200, issues.filter((i) => i.labels.some((l) => l.name === label)).map(({ comments: _c, ...rest }) => rest)];
  });
  scope.post(`${REPO_PATH}/issues`).reply(async (req: Request) => {
    const body = await req.text();
    const b = json<{ title: string; body: string; labels: string[] }>(body);
    const issue: Issue = { number: nextNumber++, title: b.title, body: b.body, state: "open", locked: false, user: { type: "Bot", login: "license-sync[bot]" }, labels: b.labels.map((name) => ({ name })), comments: [] };
    issues.push(issue);
    return [201, issue];
  });
  scope.get(/\/issues\/\d+$/).reply((req: Request) => {
    const issue = issues.find((i) => i.number === Number(/(\d+)$/.exec(new URL(req.url).pathname)![1]));
    return issue ? [200, (({ comments: _c, ...rest }) => rest)(issue)] : [404, { message: "Not Found" }];
  });
  scope.patch(/\/issues\/\d+$/).reply(async (req: Request) => {
    edits++;
    const [uri, body] = [new URL(req.url).pathname, await req.text()];
    const issue = issues.find((i) => i.number === Number(/(\d+)$/.exec(uri)![1]));
    if (!issue) return [404, { message: "Not Found" }];
    Object.assign(issue, json<Partial<Issue>>(body));
    return [200, issue];
  });
  scope.get(/\/issues\/\d+\/comments/).query(true).reply((req: Request) => [200, issues.find((i) => i.number === Number(/issues\/(\d+)/.exec(req.url)![1]))?.comments ?? []]);
  scope.post(/\/issues\/\d+\/comments$/).reply(async (req: Request) => {
    const [uri, body] = [req.url, await req.text()];
    const issue = issues.find((i) => i.number === Number(/issues\/(\d+)/.exec(uri)![1]));
    if (!issue) return [404, { message: "Not Found" }];
    const c = { id: 7000 + issue.comments.length, body: json<{ body: string }>(body).body, user: { type: "Bot", login: "license-sync[bot]" } };
    issue.comments.push(c);
    return [201, c];
  });
  scope.patch(/\/issues\/comments\/\d+$/).reply(async (req: Request) => {
    const [uri, body] = [new URL(req.url).pathname, await req.text()];
    const id = Number(/(\d+)$/.exec(uri)![1]);
    const c = issues.flatMap((i) => i.comments).find((x) => x.id === id);
    if (!c) return [404, { message: "Not Found" }];
    c.body = json<{ body: string }>(body).body;
    return [200, c];
  });
}

/** One push of one export (a new instance each time unless `serverId` repeats). */
async function push(serverId: string, from: number, to: number): Promise<void> {
  const n = ++pushes;
  const after = String(n).padStart(40, "a");
  const sha = String(n).padStart(40, "b");
  const bytes = exportJson(serverId, `${serverId}.corp.example`, users(from, to));
  const scope = n === 1 ? nockInstallationToken(nock(API)) : nock(API);
  scope.get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`).reply(200, "", { "content-type": "application/vnd.github.raw; charset=utf-8" });
  scope.get(`${REPO_PATH}/compare/${BEFORE_SHA}...${after}`).query(true).reply(200, { status: "ahead", files: [{ filename: `license-usage/${serverId}.json`, sha, status: "added" }] });
  scope.get(`${REPO_PATH}/git/blobs/${sha}`).reply(200, blobReply(sha, bytes));
  scope.get(`${REPO_PATH}/commits/${after}/comments`).query(true).reply(200, []);
  scope.post(`${REPO_PATH}/commits/${after}/comments`).reply(201, { id: 100 + n });
  scope.post(`${REPO_PATH}/check-runs`).reply(201, { id: 1 });
  await probot.receive({ id: `delivery-${n}`, name: "push", payload: pushPayload({ after }) } as never);
  expect(scope.pendingMocks()).toEqual([]);
}

const dashboards = () => issues.filter((i) => i.user.type === "Bot" && i.body.startsWith(DASHBOARD_MARKER));
const open = () => dashboards().filter((i) => i.state === "open");

beforeEach(async () => {
  nock.disableNetConnect();
  issues = [];
  edits = 0;
  nextNumber = 1;
  pushes = 0;
  let ledger;
  ({ ledger, store } = await memoryLedger());
  probot = createTestProbot();
  await probot.load(licenseSync({ ledger, settings: testSettings({}) }));
  issuesApi();
  nock(API).persist().get("/app").optionally().reply(200, { id: 1, slug: "license-sync", name: "license-sync", owner: { login: "acme" }, permissions: {}, events: [] });
});

afterEach(async () => {
  nock.cleanAll();
  await store.close();
});

describe("the dashboard issue", () => {
  it("is created once on the first recorded upload, then edited after the next", async () => {
    await push("ghes-a", 1, 10);
    expect(dashboards()).toHaveLength(1);
    const [d] = dashboards();
    expect(d).toMatchObject({ title: "License usage dashboard", state: "open", labels: [{ name: DASHBOARD_LABEL }] });
    expect(d!.body).toContain("## 10 seats consumed");

    await push("ghes-b", 5, 20);
    expect(dashboards()).toHaveLength(1);
    expect(dashboards()[0]!.number).toBe(d!.number);
    expect(dashboards()[0]!.body).toContain("## 20 seats consumed");
    expect(dashboards()[0]!.body).toContain("ghes-b.corp.example");
  });

  it("is not written again when nothing changed (the same export pushed again, 50 minutes later)", async () => {
    // Only the clock is faked: timers and I/O run as usual.
    jest.useFakeTimers({ now: new Date("2026-11-30T08:00:00Z"), doNotFake: ["nextTick", "setImmediate", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "hrtime", "performance"] });
    try {
      await push("ghes-a", 1, 10);
      await push("ghes-b", 5, 20);
      const before = { body: dashboards()[0]!.body, edits };
      jest.setSystemTime(new Date("2026-11-30T08:50:00Z")); // within the installation token's hour
      await push("ghes-b", 5, 20);
      expect(edits).toBe(before.edits);
      expect(dashboards()[0]!.body).toBe(before.body);
    } finally {
      jest.useRealTimers();
    }
  });

  it("is reopened after a person closed it, saying so once", async () => {
    await push("ghes-a", 1, 10);
    dashboards()[0]!.state = "closed";
    await push("ghes-b", 11, 12);
    expect(open()).toHaveLength(1);
    expect(dashboards()).toHaveLength(1);
    expect(dashboards()[0]!.comments.map((c) => c.body)).toEqual([expect.stringContaining("Reopened")]);
    dashboards()[0]!.state = "closed";
    await push("ghes-c", 13, 14);
    expect(open()).toHaveLength(1);
    expect(dashboards()[0]!.comments).toHaveLength(1);
  });

  it("is made again when it was deleted or locked", async () => {
    await push("ghes-a", 1, 10);
    issues = [];
    await push("ghes-b", 11, 12);
    expect(open()).toHaveLength(1);
    expect(open()[0]!.body).toContain("## 12 seats consumed");
    open()[0]!.locked = true;
    await push("ghes-c", 13, 13);
    expect(dashboards().filter((i) => !i.locked && i.state === "open")).toHaveLength(1);
    expect(dashboards().find((i) => !i.locked)!.body).toContain("## 13 seats consumed");
  });

  it("is found by the number the ledger remembers when someone removed its label: no second dashboard", async () => {
    await push("ghes-a", 1, 10);
    dashboards()[0]!.labels = [];
    await push("ghes-b", 11, 12);
    expect(dashboards()).toHaveLength(1);
    expect(dashboards()[0]!.body).toContain("## 12 seats consumed");
  });

  it("is never confused with a person's issue carrying the marker and the label", async () => {
    issues.push({ number: nextNumber++, title: "copy", body: `${DASHBOARD_MARKER}\nmine`, state: "open", locked: false, user: { type: "User", login: "mallory" }, labels: [{ name: DASHBOARD_LABEL }], comments: [] });
    await push("ghes-a", 1, 10);
    expect(issues[0]).toMatchObject({ body: `${DASHBOARD_MARKER}\nmine`, state: "open", comments: [] });
    expect(dashboards()).toHaveLength(1);
    expect(dashboards()[0]!.number).toBe(2);
  });

  it("keeps the oldest of duplicates and closes the others with a note", async () => {
    await push("ghes-a", 1, 10);
    const dup: Issue = { ...dashboards()[0]!, number: nextNumber++, comments: [] };
    issues.push(dup);
    await push("ghes-b", 11, 12);
    expect(open().map((i) => i.number)).toEqual([1]);
    expect(dup.state).toBe("closed");
    expect(dup.comments[0]!.body).toContain("duplicate of the license usage dashboard #1");
  });

  it("is not made with `dashboard: false`, nor before anything was recorded", async () => {
    const scope = nockInstallationToken(nock(API));
    scope.get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`).reply(200, "dashboard: false\n", { "content-type": "application/vnd.github.raw; charset=utf-8" });
    const after = "c".repeat(40);
    scope.get(`${REPO_PATH}/compare/${BEFORE_SHA}...${after}`).query(true).reply(200, { status: "ahead", files: [{ filename: "license-usage/x.json", sha: "d".repeat(40), status: "added" }] });
    scope.get(`${REPO_PATH}/git/blobs/${"d".repeat(40)}`).reply(200, blobReply("d".repeat(40), exportJson("s", "h", users(1, 2))));
    scope.get(`${REPO_PATH}/commits/${after}/comments`).query(true).reply(200, []);
    scope.post(`${REPO_PATH}/commits/${after}/comments`).reply(201, { id: 1 });
    scope.post(`${REPO_PATH}/check-runs`).reply(201, { id: 1 });
    await probot.receive({ id: "d-off", name: "push", payload: pushPayload({ after }) } as never);
    expect(scope.pendingMocks()).toEqual([]);
    expect(issues).toEqual([]);
  });
});
