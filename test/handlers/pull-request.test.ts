import { describe, it, expect } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import type { LedgerService } from "../../src/ledger/service.js";
import { API, createTestProbot, nockInstallationToken } from "../helpers/probot.js";
import { licenseSync } from "../../src/index.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { FULL_NAME, PR_HEAD_SHA, REPO_ID, pullRequestPayload } from "../helpers/payloads.js";
import { rawBlob, exportJson, users } from "../helpers/exports.js";
import { useTestApp } from "../helpers/app.js";

const REPO_PATH = `/repos/${FULL_NAME}`;
let probot: Probot;
let ledger: LedgerService;

useTestApp((app) => ({ probot, ledger } = app));

function github() {
  return nockInstallationToken(nock(API))
    .get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`)
    .reply(200, "", { "content-type": "application/vnd.github.raw; charset=utf-8" });
}

interface Check {
  head_sha: string;
  conclusion: string;
  output: { title: string; summary: string; annotations?: { path: string; start_line: number }[] };
}

const valid = exportJson("srv-a", "ghes-a.corp.example", users(1, 4));

describe("pull requests into the designated branch", () => {
  for (const action of ["opened", "synchronize", "reopened"] as const) {
    it(`${action}: checks the exports, records nothing, posts no comment`, async () => {
      let check: Check | undefined;
      github()
        .get(`${REPO_PATH}/pulls/7/files`)
        .query({ per_page: "100" })
        .reply(200, [
          { filename: "license-usage/a.json", sha: "b1", status: "added" },
          { filename: "docs/x.md", sha: "b2", status: "added" },
        ])
        .get(`${REPO_PATH}/git/blobs/b1`)
        .reply(...rawBlob(valid))
        .post(`${REPO_PATH}/check-runs`, (b: Check) => ((check = b), true))
        .reply(201, { id: 1 });
      await probot.receive({ id: `pr-${action}`, name: "pull_request", payload: pullRequestPayload(action) } as never);

      expect(check).toMatchObject({ head_sha: PR_HEAD_SHA, conclusion: "success", output: { title: "1 valid" } });
      expect(check!.output.summary).toContain("`license-usage/a.json`: **valid**: ghes-a.corp.example, 4 accounts");
      expect(check!.output.summary).toContain("nothing is recorded until these files reach `main`");
      expect(await ledger.history({ repoId: REPO_ID, fullName: FULL_NAME })).toEqual([]);
    });
  }

  it("fails the check with an annotation for a refused export", async () => {
    const notJson = "not json at all\n";
    let check: Check | undefined;
    github()
      .get(`${REPO_PATH}/pulls/7/files`)
      .query(true)
      .reply(200, [{ filename: "license-usage/bad.json", sha: "b3", status: "modified" }])
      .get(`${REPO_PATH}/git/blobs/b3`)
      .reply(...rawBlob(notJson))
      .post(`${REPO_PATH}/check-runs`, (b: Check) => ((check = b), true))
      .reply(201, { id: 1 });
    await probot.receive({ id: "pr-bad", name: "pull_request", payload: pullRequestPayload("synchronize") } as never);
    expect(check?.conclusion).toBe("failure");
    expect(check?.output.annotations).toEqual([expect.objectContaining({ path: "license-usage/bad.json", start_line: 1 })]);
  });

  it("a pull request (forks included) gets the push caps: files past MAX_PUSH_BYTES are named, never read", async () => {
    const { ledger: capped, store } = await memoryLedger();
    const app = createTestProbot();
    await app.load(licenseSync({ ledger: capped, settings: testSettings({ maxPushBytes: valid.length + 10 }) }));
    let check: Check | undefined;
    github()
      .get(`${REPO_PATH}/pulls/7/files`)
      .query(true)
      .reply(200, [
        { filename: "license-usage/a.json", sha: "b1", status: "added" },
        { filename: "license-usage/b.json", sha: "b2", status: "added" },
        { filename: "license-usage/c.json", sha: "b3", status: "added" },
      ])
      .get(`${REPO_PATH}/git/blobs/b1`)
      .reply(...rawBlob(valid))
      // b2 is asked for within what is left of the budget (10 bytes), and cut off; b3 never.
      .get(`${REPO_PATH}/git/blobs/b2`)
      .reply(...rawBlob(valid))
      .post(`${REPO_PATH}/check-runs`, (b: Check) => ((check = b), true))
      .reply(201, { id: 1 });
    try {
      await app.receive({ id: "pr-capped", name: "pull_request", payload: pullRequestPayload("opened") } as never);
    } finally {
      await store.close();
    }
    expect(check?.conclusion).toBe("failure");
    expect(check!.output.summary).toContain("`license-usage/a.json`: **valid**");
    for (const f of ["b", "c"]) expect(check!.output.summary).toContain(`license-usage/${f}.json: was not read: the export files arriving at once exceed`);
  });

  it("ignores a pull request into another branch after reading the configuration", async () => {
    github();
    await probot.receive({ id: "pr-other", name: "pull_request", payload: pullRequestPayload("opened", { baseRef: "feature" }) } as never);
  });

  it("ignores a pull request that changes no export: no check run", async () => {
    github().get(`${REPO_PATH}/pulls/7/files`).query(true).reply(200, [{ filename: "README.md", sha: "r", status: "modified" }]);
    await probot.receive({ id: "pr-none", name: "pull_request", payload: pullRequestPayload("opened") } as never);
  });
});
