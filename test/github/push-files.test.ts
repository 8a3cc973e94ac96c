// changedExportFiles on large pushes: past the compare API's 300-file cap it diffs the trees, and a
// tree too large for the API to list whole fails loudly rather than quietly missing an export.
import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import type { Context } from "probot";
import { changedExportFiles } from "../../src/github/push-files.js";
import { API, TestOctokit } from "../helpers/probot.js";

const REPO = { owner: "acme", repo: "license-usage" };
const REPO_PATH = "/repos/acme/license-usage";
const BEFORE = "1111111111111111111111111111111111111111";
const AFTER = "2222222222222222222222222222222222222222";
const GLOBS = ["license-usage/**/*.json"];

function octokit(): Context["octokit"] {
  return new TestOctokit({ auth: "ghs_test" }) as unknown as Context["octokit"];
}

/** `n` source files (none an export), as compare entries or tree entries. */
const noise = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `src/file-${i}.ts`, sha: `s${i}` }));

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("changedExportFiles on a large push", () => {
  it("falls back to a tree diff when compare lists 300 files, and finds the export the list left out", async () => {
    const scope = nock(API);
    // The compare list is capped: the export is not among its 300 entries.
    scope
      .get(`${REPO_PATH}/compare/${BEFORE}...${AFTER}`)
      .query({ per_page: "1" })
      .reply(200, { files: noise(300).map((f) => ({ filename: f.path, sha: f.sha, status: "modified" })) });
    const tree = (extra: object[]) => ({ truncated: false, tree: [...noise(2000).map((f) => ({ ...f, type: "blob" })), ...extra] });
    scope.get(`${REPO_PATH}/git/trees/${AFTER}`).query({ recursive: "true" }).reply(200, tree([
      { path: "license-usage/new.json", type: "blob", sha: "n1" },
      { path: "license-usage/same.json", type: "blob", sha: "u1" },
      { path: "license-usage/changed.json", type: "blob", sha: "c2" },
    ]));
    scope.get(`${REPO_PATH}/git/trees/${BEFORE}`).query({ recursive: "true" }).reply(200, tree([
      { path: "license-usage/same.json", type: "blob", sha: "u1" },
      { path: "license-usage/changed.json", type: "blob", sha: "c1" },
    ]));

    const files = await changedExportFiles(octokit(), REPO, BEFORE, AFTER, GLOBS);
    expect(files).toEqual([
      { path: "license-usage/changed.json", blobSha: "c2" },
      { path: "license-usage/new.json", blobSha: "n1" },
    ]);
  });

  it("trusts compare below the cap: 299 files, no tree read", async () => {
    nock(API)
      .get(`${REPO_PATH}/compare/${BEFORE}...${AFTER}`)
      .query({ per_page: "1" })
      .reply(200, { files: [...noise(298).map((f) => ({ filename: f.path, sha: f.sha, status: "modified" })), { filename: "license-usage/a.json", sha: "a1", status: "added" }] });
    // disableNetConnect: a tree request would fail the call.
    expect(await changedExportFiles(octokit(), REPO, BEFORE, AFTER, GLOBS)).toEqual([{ path: "license-usage/a.json", blobSha: "a1" }]);
  });

  it("throws a TruncatedTreeError (answered by the push handler) when the tree is truncated, rather than reporting no export", async () => {
    nock(API)
      .get(`${REPO_PATH}/compare/${BEFORE}...${AFTER}`)
      .query({ per_page: "1" })
      .reply(200, { files: noise(300).map((f) => ({ filename: f.path, sha: f.sha, status: "modified" })) })
      .get(`${REPO_PATH}/git/trees/${AFTER}`)
      .query({ recursive: "true" })
      .reply(200, { truncated: true, tree: noise(100).map((f) => ({ ...f, type: "blob" })) });

    await expect(changedExportFiles(octokit(), REPO, BEFORE, AFTER, GLOBS)).rejects.toThrow(/too large to list \(truncated by the API\)/);
  });
});
