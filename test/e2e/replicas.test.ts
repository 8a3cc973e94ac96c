// Two replicas of the app (two Probot servers, each with its own store opened on one database: a
// SQLite file, or a PostgreSQL schema) behind the real HTTP middleware, one stand-in GitHub. Every
// push is delivered to both at once, as a redelivery during a slow run looks. The end state is
// asserted: exactly one reply per commit, one dashboard issue, the right totals.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, createHmac } from "node:crypto";
import nock from "nock";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { LedgerService } from "../../src/ledger/service.js";
import { DASHBOARD_MARKER } from "../../src/domain/render-dashboard.js";
import { serveApp, type ServedApp } from "../helpers/app-server.js";
import { GitHubStandIn } from "../helpers/github-stand-in.js";
import { testSettings } from "../helpers/ledger.js";
import { FULL_NAME, REPO_ID, pushPayload } from "../helpers/payloads.js";
import { createTestProbot } from "../helpers/probot.js";
import { exportJson, users } from "../helpers/exports.js";
import { adapterCases } from "../helpers/stores.js";
import { ISSUE, issuesPayload } from "../handlers/issues-support.js";

const SECRET = "replica-secret";
const PUSHES = 8;
const hex = (s: string) => createHash("sha1").update(s).digest("hex");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sign = (body: string) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;

const cases = await adapterCases();

beforeAll(() => nock.restore());
afterAll(() => nock.activate());

describe.each(cases)("two replicas on one $name ledger", ({ make }) => {
  const adapter = make();
  afterAll(() => adapter.cleanup());

  async function replicas(listLagMs: number) {
    const standIn = new GitHubStandIn();
    standIn.listLagMs = listLagMs;
    const apiUrl = await standIn.start();
    const loc = adapter.fresh();
    const apps: ServedApp[] = [];
    const ledgers: LedgerService[] = [];
    for (let i = 0; i < 2; i++) {
      const ledger = new LedgerService(await adapter.open(loc), createIdentityHasher("replica-key"), { maxBytes: 10 * 1024 * 1024 });
      ledgers.push(ledger);
      apps.push(await serveApp(createTestProbot({ secret: SECRET, baseUrl: apiUrl }), { ledger, settings: testSettings() }));
    }
    const deliver = async (app: ServedApp, id: string, body: string, event = "push") => {
      const res = await fetch(`${app.url}/api/github/webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": sign(body) },
        body,
      });
      await res.text();
      return res.status;
    };
    const close = async () => {
      for (const a of apps) await a.close();
      await standIn.close();
    };
    return { standIn, apps, ledgers, deliver, close };
  }

  // With lag, a replica's list does not yet show the other's new comment or issue: only the
  // reply id remembered in the ledger keeps it from making a second one.
  it.each([0, 400])("every push delivered to both at once gets one reply; one dashboard (lists lag %i ms)", async (lag) => {
    const r = await replicas(lag);
    try {
      const commits: string[] = [];
      for (let n = 0; n < PUSHES; n++) {
        const after = hex(`replica push ${lag} ${n}`);
        const bytes = exportJson(`srv-${n}`, `ghes-${n}.corp.example`, users(n * 5 + 1, n * 5 + 10));
        r.standIn.addPush(FULL_NAME, after, [{ path: `license-usage/ghes-${n}.json`, blobSha: hex(bytes), bytes }]);
        commits.push(after);
        const body = JSON.stringify(pushPayload({ after }));
        const statuses = await Promise.all(r.apps.map((app) => r.deliver(app, `replica-${lag}-${n}`, body)));
        // 202: the middleware answered before the handler settled (a slow machine); waited for below.
        expect(statuses.every((s) => s === 200 || s === 202)).toBe(true);
      }
      // Each replica's last step is its check run: both done for every commit.
      const settled = () => commits.every((sha) => r.standIn.checkRuns.filter((c) => c.head_sha === sha).length === 2);
      for (let i = 0; i < 600 && !settled() && r.apps.every((a) => a.errors.length === 0); i++) await sleep(100);
      expect(r.apps.flatMap((a) => a.errors)).toEqual([]);
      expect(r.standIn.unknown).toEqual([]);

      for (const sha of commits) expect(r.standIn.comments.get(`${FULL_NAME} ${sha}`) ?? []).toHaveLength(1);
      const dashboards = (r.standIn.issues.get(FULL_NAME) ?? []).filter((i) => i.body.startsWith(DASHBOARD_MARKER) && i.state === "open");
      expect(dashboards).toHaveLength(1);
      // 8 instances of 10 accounts, each sharing 5 people with the next: 5 × 8 + 5 people.
      expect(dashboards[0]!.body).toContain("## 45 seats consumed");
      const history = await r.ledgers[0]!.history({ repoId: REPO_ID, fullName: FULL_NAME });
      expect(history.filter((h) => h.outcome === "recorded")).toHaveLength(PUSHES);
    } finally {
      await r.close();
    }
  });

  it("an issue with a pasted export, opened then edited, each delivered to both: one status reply with the latest state", async () => {
    const r = await replicas(400);
    try {
      const key = `${FULL_NAME} #${ISSUE}`;
      const paste = (n: number) => ["Our export:", "", "```json", exportJson("srv-issue", "ghes-issue.corp.example", users(1, n)), "```"].join("\n");
      const replies = () => r.standIn.issueComments.get(key) ?? [];
      const waitFor = async (done: () => boolean) => {
        for (let i = 0; i < 600 && !done() && r.apps.every((a) => a.errors.length === 0); i++) await sleep(100);
      };
      const opened = JSON.stringify(issuesPayload("opened", { body: paste(3) }));
      await Promise.all(r.apps.map((app) => r.deliver(app, "issue-open", opened, "issues")));
      await waitFor(() => replies().some((c) => c.body.includes("3 accounts")));
      const edited = JSON.stringify(issuesPayload("edited", { body: paste(4), previousBody: paste(3) }));
      await Promise.all(r.apps.map((app) => r.deliver(app, "issue-edit", edited, "issues")));
      await waitFor(() => replies().some((c) => c.body.includes("4 accounts")));
      await sleep(200);

      expect(r.apps.flatMap((a) => a.errors)).toEqual([]);
      expect(replies()).toHaveLength(1);
      expect(replies()[0]!.body).toContain("4 accounts");
      const history = await r.ledgers[1]!.history({ repoId: REPO_ID, fullName: FULL_NAME });
      expect(history.filter((h) => h.outcome === "recorded")).toHaveLength(2);
    } finally {
      await r.close();
    }
  });
});
