// Load: the real Probot HTTP middleware on loopback, SQLite and PostgreSQL (own schema) as the store, a
// stand-in GitHub API serving two designated repositories. 200 signed push deliveries arrive at
// once (100 distinct deliveries, each sent twice; many carry content another delivery already
// brought), plus forged ones. Every upload is recorded exactly once, every commit gets one reply,
// the totals equal the counting engine over the same files, no delivery gets a 5xx, forged
// deliveries are refused and change nothing.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { createHash, createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { createNodeMiddleware, type Probot } from "probot";
import { licenseSync } from "../../src/index.js";
import { countUsage } from "../../src/domain/count.js";
import { identifyAccounts } from "../../src/domain/identity.js";
import { DEFAULT_MATCH_OPTIONS, type InstanceAccounts } from "../../src/domain/types.js";
import { readExport } from "../../src/domain/validate.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { LedgerService } from "../../src/ledger/service.js";
import type { Adapter } from "../storage/support.js";
import { adapterCases } from "../helpers/stores.js";
import { createTestProbot } from "../helpers/probot.js";
import { pushPayload } from "../helpers/payloads.js";
import { exportJson, type TestUser } from "../helpers/exports.js";
import { testSettings } from "../helpers/ledger.js";
import { GitHubStandIn, type StandInCheckRun, type StandInFile } from "../helpers/github-stand-in.js";

const SECRET = "load-webhook-secret";
const KEY = "load-identity-key";
const MAX_BYTES = 10 * 1024 * 1024;
const REPOS = [
  { fullName: "acme/license-usage", id: 777, instances: 8, groups: [[0, 1], [2], [3], [4, 5], [6], [7]] },
  { fullName: "acme/usage-eu", id: 778, instances: 6, groups: [[0], [1, 2], [3], [4, 5]] },
];
/** Each distinct push of an export is pushed again, as new commits, this many times. */
const COPIES = 9;

const cases = await adapterCases();
const hex = (s: string) => createHash("sha1").update(s).digest("hex");
const sign = (body: string, secret = SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/**
 * Instance k of a repo: 50..199 accounts in a sliding window over one population, so neighbours
 * overlap; every 17th person has no e-mail (never matched), every 13th uses another case.
 */
function instanceUsers(repoIndex: number, k: number): TestUser[] {
  const size = 50 + ((k * 37 + repoIndex * 11) % 150);
  const start = repoIndex * 300 + k * 45 + 1;
  const out: TestUser[] = [];
  for (let i = start; i < start + size; i++) {
    const email = i % 17 === 0 ? undefined : i % 13 === 0 ? `U${i}@Corp.Example` : `u${i}@corp.example`;
    out.push({ id: 10_000 * (k + 1) + i, login: `user${i}`, ...(email ? { email } : {}) });
  }
  return out;
}

interface Delivery {
  id: string;
  repo: (typeof REPOS)[number];
  after: string;
  files: StandInFile[];
  body: string;
}

// SQLite always (one process's comment serialization must not depend on PostgreSQL being up);
// PostgreSQL when reachable, or a failing test when REQUIRE_POSTGRES=1.
describe.each(cases)("200 deliveries at once: $name", ({ make }) => {
  let adapter: Adapter;
  let standIn: GitHubStandIn;
  let app: Server;
  let appUrl: string;
  let probot: Probot;
  let ledger: LedgerService;
  const handlerErrors: unknown[] = [];
  const signatureErrors: unknown[] = [];
  const exports = new Map<string, StandInFile>(); // "repo k" -> file
  const deliveries: Delivery[] = [];
  const forged: Delivery[] = [];

  beforeAll(async () => {
    // Real sockets on loopback only; nock stays out of the way for this file.
    nock.restore();
    adapter = make();
    const store = await adapter.open(adapter.fresh());
    ledger = new LedgerService(store, createIdentityHasher(KEY), { maxBytes: MAX_BYTES });

    standIn = new GitHubStandIn();
    const apiUrl = await standIn.start();
    probot = createTestProbot({ secret: SECRET, baseUrl: apiUrl });
    const settings = testSettings({ designatedRepos: REPOS.map((r) => r.fullName) });
    const middleware = await createNodeMiddleware(licenseSync({ ledger, settings }), { probot });
    // Forged deliveries surface here too (signature errors), apart from handler failures.
    probot.webhooks.onError((e) => void (/signature does not match/.test(e.message) ? signatureErrors : handlerErrors).push(e));
    app = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;

    REPOS.forEach((repo, ri) => {
      standIn.configs.set(repo.fullName, "stale_after_days: 35\n");
      for (let k = 0; k < repo.instances; k++) {
        const bytes = exportJson(`srv-${ri}-${k}`, `ghes-${k}.${ri}.corp.example`, instanceUsers(ri, k));
        exports.set(`${repo.fullName} ${k}`, { path: `license-usage/ghes-${k}.json`, blobSha: hex(bytes), bytes });
      }
      for (const group of repo.groups) {
        for (let copy = 0; copy <= COPIES; copy++) {
          const after = hex(`${repo.fullName} ${group.join(",")} ${copy}`);
          const files = group.map((k) => exports.get(`${repo.fullName} ${k}`)!);
          standIn.addPush(repo.fullName, after, files);
          const body = JSON.stringify(pushPayload({ fullName: repo.fullName, repoId: repo.id, after }));
          deliveries.push({ id: `load-${deliveries.length}`, repo, after, files, body });
        }
      }
    });
    // Forged: a new instance pushed with a signature made with the wrong secret.
    const evil = exportJson("srv-forged", "forged.corp.example", instanceUsers(0, 0));
    for (let i = 0; i < 10; i++) {
      const after = hex(`forged ${i}`);
      const files = [{ path: "license-usage/forged.json", blobSha: hex(evil), bytes: evil }];
      standIn.addPush(REPOS[0]!.fullName, after, files);
      const body = JSON.stringify(pushPayload({ fullName: REPOS[0]!.fullName, repoId: REPOS[0]!.id, after }));
      forged.push({ id: `forged-${i}`, repo: REPOS[0]!, after, files, body });
    }
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
    await standIn?.close();
    await adapter?.cleanup();
    nock.activate();
  });

  it("records every upload exactly once, replies once per commit, totals match the counting engine, no 5xx; forged deliveries refused", async () => {
    expect(deliveries).toHaveLength(100);
    const send = (d: Delivery, signature: string) =>
      fetch(`${appUrl}/api/github/webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": d.id, "x-hub-signature-256": signature },
        body: d.body,
      }).then(async (res) => ({ delivery: d, status: res.status, text: await res.text() }));

    // Every distinct delivery twice (GitHub's redelivery keeps the id), interleaved with forgeries.
    const signed = [...deliveries, ...[...deliveries].reverse()];
    const expectedChecks = signed.length;
    const done = new Promise<void>((resolve) => {
      const check = () => {
        if (standIn.checkRuns.length + handlerErrors.length >= expectedChecks) resolve();
      };
      standIn.on("check-run", check);
      probot.webhooks.onError(() => check());
    });
    const started = Date.now();
    const responses = await Promise.all([
      ...signed.map((d) => send(d, sign(d.body))),
      ...forged.map((d) => send(d, sign(d.body, "not-the-secret"))),
    ]);
    // The middleware answers 202 for a delivery still running after 9 s; wait for all of them.
    await done;
    const elapsed = Date.now() - started;

    expect(handlerErrors).toEqual([]);
    expect(signatureErrors).toHaveLength(forged.length);
    const signedResponses = responses.slice(0, signed.length);
    expect(signedResponses.filter((r) => r.status >= 300)).toEqual([]);
    for (const r of responses.slice(signed.length)) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    expect(standIn.unknown).toEqual([]);

    // Forged pushes: not one API call about them, nothing recorded.
    const forgedShas = new Set(forged.map((d) => d.after));
    expect(standIn.requests.filter((p) => [...forgedShas].some((s) => p.includes(s)))).toEqual([]);

    const hasher = createIdentityHasher(KEY);
    for (const [ri, repo] of REPOS.entries()) {
      const key = { repoId: repo.id, fullName: repo.fullName };
      const history = await ledger.history(key, 10_000);
      expect(history.filter((h) => h.outcome !== "recorded")).toEqual([]);
      // Exactly once: one recorded row per instance, each for its own content.
      const files = Array.from({ length: repo.instances }, (_, k) => exports.get(`${repo.fullName} ${k}`)!);
      expect(history.map((h) => h.serverId).sort()).toEqual(files.map((_, k) => `srv-${ri}-${k}`).sort());
      for (const h of history) {
        const f = exports.get(`${repo.fullName} ${Number(h.serverId!.split("-")[2])}`)!;
        expect(h.contentSha256).toBe(createHash("sha256").update(f.bytes).digest("hex"));
      }

      // The counting engine over the same files, with the same hasher.
      const instances: InstanceAccounts[] = files.map((f) => {
        const r = readExport(Buffer.from(f.bytes), f.path, { maxBytes: MAX_BYTES });
        if (!r.ok) throw new Error("load export invalid");
        return { instance: r.export.instance, accounts: identifyAccounts(r.export.accounts, hasher) };
      });
      const report = countUsage(instances, DEFAULT_MATCH_OPTIONS);
      const expected = { seats: report.seats, accounts: report.accounts, deduplicated: report.deduplicated, instances: repo.instances };
      expect(report.deduplicated).toBeGreaterThan(0);
      expect((await ledger.summary(key, DEFAULT_MATCH_OPTIONS)).totals).toEqual(expected);
      expect(history[0]!.totals).toEqual(expected);

      // One reply per head commit; the commit that recorded a file says so, every other says already recorded.
      const recordedAt = new Map(history.map((h) => [h.source.kind === "commit" ? h.source.path : "", h.source.kind === "commit" ? h.source.sha : ""]));
      for (const d of deliveries.filter((x) => x.repo === repo)) {
        const comments = standIn.comments.get(`${repo.fullName} ${d.after}`) ?? [];
        expect(comments).toHaveLength(1);
        for (const f of d.files) {
          const status = recordedAt.get(f.path) === d.after ? "recorded" : "already recorded";
          expect(comments[0]!.body).toContain(`\`${f.path}\`: **${status}**`);
        }
      }
    }
    expect(standIn.checkRuns).toHaveLength(expectedChecks);
    expect(standIn.checkRuns.every((c: StandInCheckRun) => c.conclusion === "success")).toBe(true);
    // Logged, not asserted: the figure is for the report (benchmarks measure speed, tests don't).
    if (process.env.LOG_LEVEL) console.log(`200 deliveries processed in ${elapsed} ms`);
  }, 60_000);
});
