import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import { Probot } from "probot";
import { createLogger, logOptionsFromEnv } from "../../src/log.js";
import { licenseSync } from "../../src/index.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { API, TestOctokit, nockInstallationToken, testPrivateKey } from "../helpers/probot.js";
import { AFTER_SHA, BEFORE_SHA, FULL_NAME, pushPayload } from "../helpers/payloads.js";
import { rawBlob, exportJson, users } from "../helpers/exports.js";

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

  for (const format of ["json", "pretty"] as const) {
    it(`keeps the webhook payload of a failed delivery out of the log (${format})`, async () => {
      const out = capture();
      const log = await createLogger({ level: "info", format }, out.stream);
      const { ledger, store } = await memoryLedger();
      // The ledger fails: the delivery must fail loudly, but its payload (e-mail addresses) stays out.
      ledger.recordUploads = async () => {
        throw new Error("database unavailable");
      };
      const probot = new Probot({ appId: 1, privateKey: testPrivateKey(), log, Octokit: TestOctokit });
      await probot.load(licenseSync({ ledger, settings: testSettings() }));
      nock.disableNetConnect();
      const api = nockInstallationToken(nock(API))
        .get(`/repos/${FULL_NAME}/contents/.github%2Flicense-sync.yml`)
        .reply(200, "", { "content-type": "application/vnd.github.raw; charset=utf-8" })
        .get(`/repos/${FULL_NAME}/compare/${BEFORE_SHA}...${AFTER_SHA}`)
        .query(true)
        .reply(200, { status: "ahead", files: [{ filename: "license-usage/a.json", sha: "b1", status: "added" }] })
        .get(`/repos/${FULL_NAME}/git/blobs/b1`)
        .reply(...rawBlob(exportJson("srv-a", "ghes-a.corp.example", users(1, 3))));
      const payload = pushPayload();
      const committerEmail = JSON.stringify(payload).match(/[\w.+-]+@[\w.-]+/)?.[0];
      expect(committerEmail).toBeDefined();

      await expect(probot.receive({ id: "d-1", name: "push", payload } as never)).rejects.toThrow("database unavailable");
      await flush();
      const text = out.text();
      expect(text).toContain("database unavailable");
      expect(text).not.toContain(committerEmail!);
      expect(text).not.toContain('"payload"');
      expect(api.pendingMocks()).toEqual([]);
      nock.cleanAll();
      await store.close();
    });
  }
});
