// Enterprise-sized exports through the whole production path: a signed delivery into Probot's real
// HTTP middleware, the app's Octokit reading the blob from a stand-in GitHub on loopback (raw bytes
// when asked for them, base64 JSON otherwise, as GitHub does), the ledger, and the reply. A 21 MB
// export used to fail here with `unexpected blob encoding "undefined"`.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { createHash, createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import nock from "nock";
import { parseSummaryMarker } from "../../src/domain/render.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { createTestProbot } from "../helpers/probot.js";
import { FULL_NAME, pushPayload } from "../helpers/payloads.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { GitHubStandIn } from "../helpers/github-stand-in.js";
import { serveApp, type ServedApp } from "../helpers/app-server.js";
import { bigExport } from "../helpers/exports.js";

const SECRET = "big-webhook-secret";
const MB = 1024 * 1024;
const MAX_BYTES = 200 * MB;
const hex = (b: string | Uint8Array) => createHash("sha1").update(b).digest("hex");
const sign = (body: string) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;

describe("enterprise-sized exports over the real HTTP stack", () => {
  let standIn: GitHubStandIn;
  let app: ServedApp;
  let store: LedgerStore;
  let errors: unknown[] = [];

  beforeAll(async () => {
    nock.restore(); // real sockets on loopback only
    standIn = new GitHubStandIn();
    const probot = createTestProbot({ secret: SECRET, baseUrl: await standIn.start() });
    const memory = await memoryLedger(MAX_BYTES);
    store = memory.store;
    app = await serveApp(probot, { ledger: memory.ledger, settings: testSettings({ maxExportBytes: MAX_BYTES }) });
    errors = app.errors;
  });

  afterAll(async () => {
    await app?.close();
    await standIn?.close();
    await store?.close();
    nock.activate();
  });

  async function push(id: string, path: string, bytes: string | Uint8Array): Promise<string> {
    const after = hex(`${id} ${path}`);
    standIn.addPush(FULL_NAME, after, [{ path, blobSha: hex(bytes), bytes }]);
    const body = JSON.stringify(pushPayload({ after }));
    const res = await fetch(`${app.url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": sign(body) },
      body,
    });
    expect(res.status).toBeLessThan(300);
    // Probot may answer before the handler settles: the check run is the handler's last step.
    for (let i = 0; i < 1800 && !standIn.checkRuns.some((c) => c.head_sha === after) && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    return after;
  }

  function reply(after: string) {
    const comments = standIn.comments.get(`${FULL_NAME} ${after}`) ?? [];
    expect(comments).toHaveLength(1);
    return { body: comments[0]!.body, check: standIn.checkRuns.find((c) => c.head_sha === after) };
  }

  it("records a 25 MB export (110,000 accounts) and a 60 MB .json.gz (134,000 more, 55,000 shared) with the right seats", async () => {
    const plain = bigExport("srv-big-a", "ghes-a.corp.example", 0, 110_000);
    expect(plain.length).toBeGreaterThan(25 * MB);
    const first = await push("big-1", "license-usage/ghes-a.json", plain);
    const a = reply(first);
    expect(errors).toEqual([]);
    expect(a.check?.conclusion).toBe("success");
    expect(parseSummaryMarker(a.body)).toMatchObject({ seats: 110_000, accounts: 110_000, deduplicated: 0, instances: 1 });

    const gz = gzipSync(bigExport("srv-big-b", "ghes-b.corp.example", 55_000, 189_000, 450), { level: 1 });
    expect(gz.length).toBeGreaterThan(60 * MB);
    const second = await push("big-2", "license-usage/ghes-b.json.gz", gz);
    const b = reply(second);
    expect(errors).toEqual([]);
    expect(b.check?.conclusion).toBe("success");
    expect(parseSummaryMarker(b.body)).toMatchObject({ seats: 189_000, accounts: 244_000, deduplicated: 55_000, instances: 2 });
    expect(b.body).not.toMatch(/@corp\.example/i);

    // Each blob was asked for once, as raw bytes (the stand-in answers base64 JSON otherwise).
    expect(standIn.requests.filter((r) => r.includes("/git/blobs/"))).toHaveLength(2);
    expect(standIn.unknown).toEqual([]);
  }, 240_000);
});
