// Hostile exports pushed to the designated repository, end to end: real push payload, nock'd GitHub,
// in-memory SQLite ledger. The reply says "refused" with the path, the check run fails, the history
// holds the refusal and nothing else changed.
import { describe, expect, it } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import type { LedgerService } from "../../src/ledger/service.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { API, nockInstallationToken } from "../helpers/probot.js";
import { AFTER_SHA, BEFORE_SHA, FULL_NAME, REPO_ID, pushPayload } from "../helpers/payloads.js";
import { rawBlob } from "../helpers/exports.js";
import { useTestApp } from "../helpers/app.js";
import { allowDashboard } from "../helpers/dashboard.js";
import { CORPUS, DUPLICATE_KEYS, OVER_CAP_BOMB_MIB, SECRET_ADDRESSES, gzipBomb } from "./corpus.js";
import { expectPlainText, expectRefusedOnly, snapshot } from "./support.js";

const REPO_PATH = `/repos/${FULL_NAME}`;
const ledgerKey = { repoId: REPO_ID, fullName: FULL_NAME };

let probot: Probot;
let ledger: LedgerService;
let store: LedgerStore;

useTestApp((app) => ({ probot, ledger, store } = app));

interface Sent {
  comment?: string;
  check?: { conclusion: string; output: { title: string; summary: string; annotations?: { path: string; start_line: number; message: string }[] } };
}

/** One pushed file: config, compare, blob, comment, check run; captures what the app sends. */
function githubServing(path: string, bytes: Buffer): Sent {
  allowDashboard();
  const sent: Sent = {};
  nockInstallationToken(nock(API))
    .get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`)
    .reply(200, "", { "content-type": "application/vnd.github.raw; charset=utf-8" })
    .get(`${REPO_PATH}/compare/${BEFORE_SHA}...${AFTER_SHA}`)
    .query({ per_page: "1" })
    .reply(200, { status: "ahead", files: [{ filename: path, sha: "b1", status: "added" }] })
    .get(`${REPO_PATH}/git/blobs/b1`)
    .reply(...rawBlob(bytes))
    .get(`${REPO_PATH}/commits/${AFTER_SHA}/comments`)
    .query({ per_page: "100" })
    .reply(200, [])
    .post(`${REPO_PATH}/commits/${AFTER_SHA}/comments`, (b: { body: string }) => ((sent.comment = b.body), true))
    .reply(201, { id: 99 })
    .post(`${REPO_PATH}/check-runs`, (b: Sent["check"]) => ((sent.check = b), true))
    .reply(201, { id: 5 });
  return sent;
}

const pick = (prefix: string) => {
  const item = CORPUS.find((i) => i.name.startsWith(prefix));
  if (!item || item.expect.verdict !== "refused") throw new Error(`no refused corpus item "${prefix}"`);
  return { name: item.name, bytes: item.bytes, path: item.expect.path };
};

const PUSHED = [
  { file: "license-usage/truncated.json", ...pick("truncated JSON (cut inside") },
  { file: "license-usage/huge.json", ...pick("user_id 1e400") },
  { file: "license-usage/deep.json", ...pick("100,000 nested arrays as a user record") },
  { file: "license-usage/bad-utf8.json", ...pick("invalid UTF-8") },
  { file: "license-usage/proto.json", ...pick("a __proto__ key holding a user record") },
  { file: "license-usage/long-email.json", ...pick("an e-mail of 10,000") },
  // Over the cap is enough here; the 2 GB bomb's memory bound is corpus.test.ts's.
  { file: "license-usage/bomb.json.gz", name: `a gzip bomb (${OVER_CAP_BOMB_MIB} MB inflated)`, bytes: () => gzipBomb(OVER_CAP_BOMB_MIB), path: "" },
  { file: "license-usage/duplicate-key.json", name: "a duplicate user_id key", bytes: () => DUPLICATE_KEYS, path: "users[0]" },
];

describe("hostile exports pushed to the designated branch", () => {
  it.each(PUSHED)("$name ($file): refused with its path, check fails, nothing recorded", async ({ file, bytes, path }) => {
    const sent = githubServing(file, bytes());
    const before = await snapshot(store, ledgerKey);
    await probot.receive({ id: "d-hostile", name: "push", payload: pushPayload() } as never);

    const comment = sent.comment ?? "";
    expect(comment).toContain(`\`${file}\`: **refused**:`);
    if (path !== "") expect(comment).toContain(path);
    expect(comment).toContain("0 seats consumed");
    expectPlainText(comment);
    expect(comment.length).toBeLessThan(65_536);

    expect(sent.check?.conclusion).toBe("failure");
    expect(sent.check?.output.title).toBe("1 refused");
    const annotation = sent.check?.output.annotations?.[0];
    expect(annotation?.path).toBe(file);
    expect(annotation?.start_line).toBeGreaterThanOrEqual(1);
    if (path !== "") expect(annotation?.message).toContain(`${file}: ${path}: `);
    expectPlainText(JSON.stringify(sent.check));

    await expectRefusedOnly(ledger, store, ledgerKey, before, 0, path);
    expect((await ledger.history(ledgerKey))[0]).toMatchObject({ deliveryId: "d-hostile", source: { kind: "commit", path: file } });
  }, 30_000);

  it("never shows an address from the pushed files anywhere in what it sends", async () => {
    // Both addresses sit in the truncated file; the reply must carry neither.
    const sent = githubServing("license-usage/truncated.json", PUSHED[0]!.bytes());
    await probot.receive({ id: "d-addr", name: "push", payload: pushPayload() } as never);
    const all = JSON.stringify(sent);
    expect(all.length).toBeGreaterThan(100);
    for (const address of SECRET_ADDRESSES) expect(all).not.toContain(address.split("@")[0]);
  });
});
