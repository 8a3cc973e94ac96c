// GHEC license reports end to end: signed deliveries into Probot's real HTTP middleware, the app's
// Octokit talking to a stand-in GitHub on loopback, the ledger, and the replies where they land.
// A committed CSV (push path), a pasted JSON report (issue path), and an enterprise-sized CSV.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { createHash, createHmac } from "node:crypto";
import nock from "nock";
import { parseSummaryMarker } from "../../src/domain/render.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { createTestProbot } from "../helpers/probot.js";
import { FULL_NAME, REPO_ID, pushPayload } from "../helpers/payloads.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { GitHubStandIn } from "../helpers/github-stand-in.js";
import { serveApp, type ServedApp } from "../helpers/app-server.js";
import { bigExport, cloudCsv, cloudJson, exportJson, users, type TestMember } from "../helpers/exports.js";
import { ISSUE, issuesPayload } from "../handlers/issues-support.js";

const SECRET = "cloud-e2e-secret";
const BIG_REPO = "acme/big-usage";
const BIG_REPO_ID = 778;
const hex = (b: string | Uint8Array) => createHash("sha1").update(b).digest("hex");
const sign = (body: string) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("GHEC license reports over the real HTTP stack", () => {
  let standIn: GitHubStandIn;
  let app: ServedApp;
  let store: LedgerStore;
  let ledger: LedgerService;
  let errors: unknown[] = [];

  beforeAll(async () => {
    nock.restore(); // real sockets on loopback only
    standIn = new GitHubStandIn();
    const probot = createTestProbot({ secret: SECRET, baseUrl: await standIn.start() });
    standIn.configs.set(FULL_NAME, "stale_after_days: 35\n");
    standIn.configs.set(BIG_REPO, "stale_after_days: 35\n");
    ({ store, ledger } = await memoryLedger());
    app = await serveApp(probot, { ledger, settings: testSettings({ designatedRepos: [FULL_NAME, BIG_REPO] }) });
    errors = app.errors;
  });

  afterAll(async () => {
    await app?.close();
    await standIn?.close();
    await store?.close();
    nock.activate();
  });

  async function deliver(event: string, id: string, payload: unknown): Promise<void> {
    const body = JSON.stringify(payload);
    const res = await fetch(`${app.url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": sign(body) },
      body,
    });
    expect(res.status).toBeLessThan(300);
  }

  /** Pushes `files` to `repo`; resolves with the reply comment and check run once the check run is in. */
  async function push(id: string, files: { path: string; bytes: string | Uint8Array }[], repo = FULL_NAME, repoId = REPO_ID) {
    const after = hex(`${id} ${files.map((f) => f.path).join()}`);
    standIn.addPush(repo, after, files.map((f) => ({ path: f.path, blobSha: hex(f.bytes), bytes: f.bytes })));
    await deliver("push", id, pushPayload({ after, fullName: repo, repoId }));
    // Probot may answer before the handler settles: the check run is the handler's last step.
    for (let i = 0; i < 2400 && !standIn.checkRuns.some((c) => c.head_sha === after) && errors.length === 0; i++) await sleep(100);
    expect(errors).toEqual([]);
    const comments = standIn.comments.get(`${repo} ${after}`) ?? [];
    expect(comments).toHaveLength(1);
    return { body: comments[0]!.body, check: standIn.checkRuns.find((c) => c.head_sha === after)! };
  }

  it("push path: a committed CSV report and an export are recorded; the reply leads with the enterprise seats", async () => {
    // GHES: users 1..5. GHEC: u1..u3 by verified e-mail, u4 by GitHub's link, 2 cloud-only (one with Visual Studio).
    const csv = cloudCsv([
      { login: "c1", emails: ["u1@corp.example"] },
      { login: "c2", emails: ["U2@Corp.Example"] },
      { login: "c3", nameId: "u3@corp.example" },
      { login: "c4", links: ["ghes-e2e.corp.example.:4"] },
      { login: "c5" },
      { login: "c6", license: "Visual Studio subscription" },
      { login: "ghes-only-row", member: false, links: ["ghes-e2e.corp.example:5"] },
    ]);
    const { body, check } = await push("cloud-push-1", [
      { path: "license-usage/ghes-e2e.json", bytes: exportJson("srv-e2e", "ghes-e2e.corp.example", users(1, 5)) },
      { path: "license-usage/ghec/license-report.csv", bytes: csv },
    ]);
    expect(check.conclusion).toBe("success");
    expect(body).toContain("`license-usage/ghec/license-report.csv`: **recorded**: GHEC license report (CSV), 6 members");
    // persons 5 + 2 = 7, one covered by Visual Studio: 6 seats; GitHub's figure is the 6 "Enterprise" rows.
    expect(body).toContain("\n## 6 enterprise seats consumed\n");
    expect(body).toContain("| On both GHEC and GHES | 4 |");
    expect(body).toContain("| GHES only | 1 |");
    expect(body).toContain("GitHub's own figure in the report: **6** seats, the same as counted here.");
    expect(body.split("\n").at(-1)).toBe('<!-- license-sync:summary {"seats":5,"accounts":5,"deduplicated":0,"instances":1,"enterprise_seats":6} -->');
    expect(body).not.toMatch(/[\w.]+@[\w.]+/);
    expect(standIn.unknown).toEqual([]);
  }, 120_000);

  it("issue path: a pasted consumed-licenses JSON page replaces the report; the status reply carries enterprise_seats", async () => {
    const page = cloudJson(
      [
        { login: "c1", emails: ["u1@corp.example"] },
        { login: "c2", emails: ["u2@corp.example"] },
        { login: "new-cloud-only" },
      ],
      9,
    );
    const text = ["Our GHEC report:", "", "```json", JSON.stringify(JSON.parse(page), null, 2), "```"].join("\n");
    const key = `${FULL_NAME} #${ISSUE}`;
    await deliver("issues", "cloud-issue-1", issuesPayload("opened", { body: text }));
    for (let i = 0; i < 600 && !standIn.issueComments.get(key)?.length && errors.length === 0; i++) await sleep(100);
    expect(errors).toEqual([]);
    const [reply] = standIn.issueComments.get(key) ?? [];
    expect(reply?.body).toContain("`issue body block 1`: **recorded**: GHEC license report (JSON), 3 members (replaces the report recorded");
    // GHES persons 5, of whom u1 and u2 are on GHEC; one cloud-only member: 6 persons, 6 seats.
    expect(reply?.body).toContain("## 6 enterprise seats consumed");
    expect(reply?.body).toContain("GitHub's own figure in the report: **9** seats, 3 more than counted here.");
    expect(parseSummaryMarker(reply!.body)).toEqual({ seats: 5, accounts: 5, deduplicated: 0, instances: 1, enterpriseSeats: 6 });
    expect(reply?.body).not.toMatch(/[\w.]+@[\w.]+/);
    const [last] = await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME }, 1);
    expect(last).toMatchObject({ subject: "cloud", outcome: "recorded", added: 1, removed: 4, source: { kind: "issue", issueNumber: ISSUE } });
    expect(standIn.unknown).toEqual([]);
  }, 120_000);

  it("an enterprise-sized CSV (120,000 rows) next to a 100,000-account export, through the push path", async () => {
    const members: TestMember[] = [];
    for (let i = 0; i < 90_000; i++) members.push({ login: `c${i}`, emails: [`person.${i}@corp.example`] });
    for (let i = 90_000; i < 95_000; i++) members.push({ login: `c${i}`, links: [`ghes-big.corp.example:${i + 1}`] });
    for (let i = 0; i < 5_000; i++) members.push({ login: `cloud-only-${i}`, ...(i < 1_000 ? { license: "Visual Studio Enterprise" } : {}) });
    for (let i = 0; i < 20_000; i++) members.push({ login: `server-row-${i}`, member: false, links: [`ghes-big.corp.example:${200_000 + i}`] });
    const csv = cloudCsv(members);
    expect(csv.split("\r\n").length - 2).toBe(120_000);

    const { body, check } = await push(
      "cloud-big-1",
      [
        { path: "license-usage/ghes-big.json", bytes: bigExport("srv-big", "ghes-big.corp.example", 0, 100_000) },
        { path: "license-usage/ghec-license-report.csv", bytes: csv },
      ],
      BIG_REPO,
      BIG_REPO_ID,
    );
    expect(check.conclusion).toBe("success");
    // 100,000 GHES persons, 95,000 of them on GHEC too; 5,000 cloud-only of whom 1,000 have Visual Studio.
    expect(body).toContain("## 104,000 enterprise seats consumed");
    expect(body).toContain("| On both GHEC and GHES | 95,000 |");
    expect(body).toContain("| GHEC only | 5,000 |");
    expect(body).toContain("| GHES only | 5,000 |");
    expect(body).toContain("GitHub's own figure in the report: **119,000** seats, 15,000 more than counted here.");
    expect(parseSummaryMarker(body)).toEqual({ seats: 100_000, accounts: 100_000, deduplicated: 0, instances: 1, enterpriseSeats: 104_000 });
    expect(body).not.toMatch(/[\w.]+@[\w.]+/);
    expect(standIn.unknown).toEqual([]);
  }, 300_000);
});
