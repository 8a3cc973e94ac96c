// End to end: the real Probot HTTP middleware on loopback receives a signed push delivery; the app
// talks to a stand-in GitHub API (a local HTTP server used as baseUrl, as with GHE_HOST) and the
// reply is checked where it lands.
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { createNodeMiddleware } from "probot";
import { licenseSync } from "../../src/index.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { createTestProbot, TEST_INSTALLATION_ID } from "../helpers/probot.js";
import { AFTER_SHA, BEFORE_SHA, FULL_NAME, pushPayload } from "../helpers/payloads.js";
import { blobReply, exportJson, users } from "../helpers/exports.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";

const SECRET = "e2e-webhook-secret";
const REPO_PATH = `/repos/${FULL_NAME}`;
const exportText = exportJson("srv-e2e", "ghes-e2e.corp.example", users(1, 5));

interface Seen {
  method: string;
  path: string;
  body: string;
  auth?: string;
}

let api: Server;
let app: Server;
let appUrl: string;
let store: LedgerStore;
const seen: Seen[] = [];
const unknown: string[] = [];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The few GitHub endpoints the push path uses. */
async function githubStandIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const url = new URL(req.url ?? "/", "http://x");
  const body = Buffer.concat(chunks).toString();
  seen.push({ method: req.method ?? "", path: url.pathname, body, auth: req.headers.authorization });
  const json = (status: number, data: unknown): void => void res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(data));
  const route = `${req.method} ${decodeURIComponent(url.pathname)}`;
  switch (route) {
    case `POST /app/installations/${TEST_INSTALLATION_ID}/access_tokens`:
      return json(201, { token: "ghs_e2e", expires_at: "2099-01-01T00:00:00Z" });
    case `GET ${REPO_PATH}/contents/.github/license-sync.yml`:
      res.writeHead(200, { "content-type": "application/vnd.github.raw; charset=utf-8" }).end("purchased_seats: 3\n");
      return;
    case `GET ${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`:
      return json(200, { files: [{ filename: "license-usage/e2e.json", sha: "e2eblob", status: "added" }] });
    case `GET ${REPO_PATH}/git/blobs/e2eblob`:
      return json(200, blobReply("e2eblob", exportText));
    case `GET ${REPO_PATH}/commits/${AFTER_SHA}/comments`:
      return json(200, []);
    case `POST ${REPO_PATH}/commits/${AFTER_SHA}/comments`:
      return json(201, { id: 1, html_url: "https://github.example/c/1" });
    case `POST ${REPO_PATH}/check-runs`:
      return json(201, { id: 2 });
    // The dashboard issue: none yet, so it is created.
    case `GET ${REPO_PATH}/issues`:
      return json(200, []);
    case `POST ${REPO_PATH}/issues`:
      return json(201, { number: 3 });
    default:
      unknown.push(route);
      return json(404, { message: `stand-in has no ${route}` });
  }
}

beforeAll(async () => {
  // The real network stack, on loopback only: nock's fetch interception is switched off for this
  // file (it cannot pass a request body through under jest's VM modules), and every URL the app
  // is given points at 127.0.0.1 (the machine has no route to GitHub anyway).
  nock.restore();
  api = createServer((req, res) => void githubStandIn(req, res));
  const apiUrl = await listen(api);
  const probot = createTestProbot({ secret: SECRET, baseUrl: apiUrl });
  const memory = await memoryLedger();
  store = memory.store;
  const middleware = await createNodeMiddleware(licenseSync({ ledger: memory.ledger, settings: testSettings() }), { probot });
  app = createServer((req, res) => {
    void middleware(req, res, () => res.writeHead(404).end());
  });
  appUrl = await listen(app);
});

afterAll(async () => {
  await close(app);
  await close(api);
  await store.close();
  nock.activate();
});

function deliver(body: string, signature: string, id: string) {
  return fetch(`${appUrl}/api/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": signature },
    body,
  });
}

const sign = (body: string, secret = SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("the app's HTTP server", () => {
  it("refuses a delivery with a bad signature and calls no API", async () => {
    seen.length = 0;
    const body = JSON.stringify(pushPayload());
    const res = await deliver(body, sign(body, "not-the-secret"), "e2e-bad");
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(seen).toEqual([]);
  });

  it("processes a signed push and its reply reaches the GitHub API", async () => {
    seen.length = 0;
    const body = JSON.stringify(pushPayload());
    const res = await deliver(body, sign(body), "e2e-1");
    expect(res.status).toBeLessThan(300);
    // The middleware answers once handlers settle; allow a little slack all the same.
    for (let i = 0; i < 50 && !seen.some((s) => s.path === `${REPO_PATH}/issues` && s.body); i++) await new Promise((r) => setTimeout(r, 100));

    const comment = seen.find((s) => s.method === "POST" && s.path === `${REPO_PATH}/commits/${AFTER_SHA}/comments`);
    expect(comment).toBeDefined();
    const text = (JSON.parse(comment!.body) as { body: string }).body;
    expect(text).toContain("## 5 seats consumed");
    expect(text).toContain("5 seats consumed, 3 purchased: 2 over.");
    expect(text.split("\n").at(-1)).toBe('<!-- license-sync:summary {"seats":5,"accounts":5,"deduplicated":0,"instances":1} -->');
    expect(text).not.toContain("@corp.example");
    expect(comment!.auth).toBe("token ghs_e2e");

    const check = seen.find((s) => s.path === `${REPO_PATH}/check-runs`);
    expect(JSON.parse(check!.body)).toMatchObject({ name: "license usage", head_sha: AFTER_SHA, conclusion: "success" });
    expect(unknown).toEqual([]);
  });
});
