import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import { Probot, createNodeMiddleware } from "probot";
import { createLogger, logOptionsFromEnv, maskEmails, serializeError } from "../../src/log.js";
import { licenseSync } from "../../src/index.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { TestOctokit, testPrivateKey } from "../helpers/probot.js";
import { AFTER_SHA, FULL_NAME, pushPayload } from "../helpers/payloads.js";
import { exportJson, users } from "../helpers/exports.js";
import { GitHubStandIn } from "../helpers/github-stand-in.js";
import { SECRET_ADDRESSES } from "../hostile/corpus.js";

const SECRET = "log-test-secret";

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("the app's logger", () => {
  it("reads Probot's variables, JSON in production", () => {
    expect(logOptionsFromEnv({ NODE_ENV: "production" })).toMatchObject({ level: "info", format: "json" });
    expect(logOptionsFromEnv({ LOG_FORMAT: "pretty", LOG_LEVEL: "debug" })).toMatchObject({ level: "debug", format: "pretty" });
  });

  it("builds error records from an allow-list: no event payload, request body or e-mail address", () => {
    const inner = Object.assign(new Error("ledger failed for alice.secret@corp.example"), {
      event: { id: "d-9", name: "push", payload: { pusher: { email: "bob.private@corp.example" } } },
      request: { method: "POST", url: "https://api.github.com/x?y=1", body: "secret body" },
      status: 503,
    });
    const err = Object.assign(new AggregateError([inner], inner.message), { event: inner.event });
    const record = JSON.stringify(serializeError(err));
    expect(record).not.toMatch(/secret|private|payload|body/);
    expect(JSON.parse(record)).toMatchObject({
      type: "AggregateError",
      delivery: "d-9",
      event: "push",
      aggregateErrors: [{ type: "Error", message: "ledger failed for [e-mail]", status: 503, request: { method: "POST", url: "https://api.github.com/x" } }],
    });
    expect(maskEmails("at /node_modules/@octokit/webhooks/x.js a@b.c @ x@y")).toBe("at /node_modules/@octokit/webhooks/x.js [e-mail] @ x@y");
  });

  for (const format of ["json", "pretty"] as const) {
    it(`keeps the webhook payload of a failed delivery out of the log, through the HTTP middleware (${format})`, async () => {
      const out = capture();
      const log = await createLogger({ level: "info", format }, out.stream);
      const { ledger, store } = await memoryLedger();
      // The ledger fails: the delivery must fail loudly (HTTP 500), but its payload stays out.
      ledger.recordUploads = async () => {
        throw new Error("database unavailable");
      };
      // The real network stack on loopback (nock cannot pass request bodies under jest's VM modules).
      nock.restore();
      const github = new GitHubStandIn();
      const server = createServer();
      try {
        github.configs.set(FULL_NAME, "");
        github.addPush(FULL_NAME, AFTER_SHA, [{ path: "license-usage/a.json", blobSha: "b1", bytes: exportJson("srv-a", "ghes-a.corp.example", users(1, 3)) }]);
        const probot = new Probot({ appId: 1, privateKey: testPrivateKey(), secret: SECRET, baseUrl: await github.start(), log, Octokit: TestOctokit });
        const middleware = await createNodeMiddleware(licenseSync({ ledger, settings: testSettings() }), { probot });
        server.on("request", (req, res) => void middleware(req, res, () => res.writeHead(404).end()));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

        const payload = pushPayload();
        (payload.head_commit as { message: string }).message = `export for ${SECRET_ADDRESSES[0]}`;
        const body = JSON.stringify(payload);
        const addresses = [...new Set(body.match(/[\w.+-]+@[\w-]+\.[\w.-]+/g) ?? [])];
        expect(addresses).toContain(SECRET_ADDRESSES[0]);
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-github-delivery": "d-log-1",
            "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
          },
          body,
        });
        expect(res.status).toBe(500);
        await flush();
        const text = out.text();
        expect(text).toContain("database unavailable");
        expect(text).toContain("d-log-1");
        for (const address of addresses) expect(text).not.toContain(address);
        expect(text).not.toMatch(/payload|head_commit|pusher/);
        expect(github.unknown).toEqual([]);
      } finally {
        server.close();
        await github.close();
        nock.activate();
        await store.close();
      }
    });
  }
});
