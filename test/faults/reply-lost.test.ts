// The process dies between recording an upload and replying (simulated: the comment POST fails
// with a network error, retries off; or the ledger call throws right after it committed). GitHub
// redelivers: the app recognises the content, counts nothing twice, and posts the reply the admin
// never saw, saying "recorded" with the change that upload made.
import { describe, it, expect, beforeAll, beforeEach, afterEach, afterAll } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import { licenseSync, type AppOptions } from "../../src/index.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { LedgerService } from "../../src/ledger/service.js";
import type { UploadContext } from "../../src/ledger/types.js";
import { DEFAULT_MATCH_OPTIONS } from "../../src/domain/types.js";
import { sqliteAdapter, type Adapter } from "../storage/support.js";
import type { KyselyLedgerStore } from "../../src/storage/kysely-store.js";
import { createTestProbot } from "../helpers/probot.js";
import { FULL_NAME, REPO_ID, pushPayload } from "../helpers/payloads.js";
import { exportJson, users } from "../helpers/exports.js";
import { testSettings } from "../helpers/ledger.js";
import { nockPush, noReplies, type PushedFile } from "../helpers/push-flow.js";
import { adapterCases } from "../helpers/stores.js";

const LEDGER = { repoId: REPO_ID, fullName: FULL_NAME };
const sha = (c: string) => c.repeat(40);
const A1: PushedFile = { path: "license-usage/a.json", blobSha: "a1", bytes: exportJson("srv-a", "ghes-a.corp.example", users(1, 40)) };
const B1: PushedFile = { path: "license-usage/b.json", blobSha: "b1", bytes: exportJson("srv-b", "ghes-b.corp.example", users(30, 45)) };
// srv-a's next export: 20 joined (41..60), 10 left (1..10). Persons 11..60 after it: 50 seats, 45 before.
const A2: PushedFile = { path: "license-usage/a.json", blobSha: "a2", bytes: exportJson("srv-a", "ghes-a.corp.example", users(11, 60)) };
const A2_LINE = "`license-usage/a.json`: **recorded**: ghes-a.corp.example, 50 accounts (+20 / −10 accounts since its previous upload)";

class Killed extends Error {}

describe.each(await adapterCases())("reply lost after recording: $name", ({ make }) => {
  let adapter: Adapter;
  let store: KyselyLedgerStore;
  let service: LedgerService;
  let deps: AppOptions;
  let probot: Probot;

  beforeAll(() => {
    adapter = make();
  });
  afterAll(async () => {
    await adapter.cleanup();
  });

  beforeEach(async () => {
    nock.disableNetConnect();
    store = await adapter.open(adapter.fresh());
    service = new LedgerService(store, createIdentityHasher("test-identity-key"), { maxBytes: 10 * 1024 * 1024 });
    deps = { ledger: service, settings: testSettings() };
    probot = createTestProbot();
    await probot.load(licenseSync(deps));
    // The ledger before the fault: srv-a and srv-b recorded and answered.
    const replies = noReplies();
    nockPush({ after: sha("1"), files: [A1, B1], token: true }, replies);
    await push("d-0", sha("1"));
    expect(replies.created[0]).toContain("## 45 seats consumed");
  });

  afterEach(async () => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  const push = (id: string, after: string) => probot.receive({ id, name: "push", payload: pushPayload({ after }) } as never);
  const recordedRows = async (contentOf: string) => {
    const history = await service.history(LEDGER, 1000);
    return history.filter((h) => h.outcome === "recorded" && h.source.kind === "commit" && h.source.path === "license-usage/a.json" && h.source.sha === contentOf);
  };

  async function expectMissingReplyPosted(deliveryId: string) {
    const totals = (await service.summary(LEDGER, DEFAULT_MATCH_OPTIONS)).totals;
    expect(totals.seats).toBe(50);
    const replies = noReplies();
    nockPush({ after: sha("2"), files: [A2] }, replies);
    await push(deliveryId, sha("2"));

    expect(replies.created).toHaveLength(1);
    const body = replies.created[0]!;
    expect(body).toContain("1 recorded");
    expect(body).toContain(A2_LINE);
    expect(body).toContain("+20 / −10 accounts since its previous upload; seats +5");
    expect(body).toContain("## 50 seats consumed");
    expect(replies.checks).toMatchObject([{ head_sha: sha("2"), conclusion: "success", output: { title: "1 recorded" } }]);
    // Counted once: same totals, one history row for that upload.
    expect((await service.summary(LEDGER, DEFAULT_MATCH_OPTIONS)).totals).toEqual(totals);
    expect(await recordedRows(sha("2"))).toHaveLength(1);
  }

  it("the comment POST dies (network error): the redelivery posts the reply, says recorded, counts nothing twice", async () => {
    nockPush({ after: sha("2"), files: [A2], reply: "comment-lost" }, noReplies());
    await expect(push("d-1", sha("2"))).rejects.toThrow();
    expect(await recordedRows(sha("2"))).toHaveLength(1);

    await expectMissingReplyPosted("d-1");
  });

  it("the process dies right after the ledger committed: the redelivery posts the reply, says recorded, counts nothing twice", async () => {
    // The app holds on to its ledger: the "crash" is switched on for the first delivery only.
    const real = service.recordUploads.bind(service);
    let crash = true;
    service.recordUploads = async (c, inputs) => {
      const outcome = await real(c, inputs);
      if (crash) throw new Killed("killed after recording");
      return outcome;
    };
    nockPush({ after: sha("2"), files: [A2], reply: "none" }, noReplies());
    await expect(push("d-1", sha("2"))).rejects.toThrow("killed after recording");
    expect(await recordedRows(sha("2"))).toHaveLength(1);

    crash = false;
    await expectMissingReplyPosted("d-1");
  });

  it("the same content in a new delivery after the crash is already recorded, not counted again", async () => {
    nockPush({ after: sha("2"), files: [A2], reply: "comment-lost" }, noReplies());
    await expect(push("d-1", sha("2"))).rejects.toThrow();

    const replies = noReplies();
    nockPush({ after: sha("3"), files: [A2] }, replies);
    await push("d-2", sha("3"));
    expect(replies.created[0]).toContain("`license-usage/a.json`: **already recorded**: ghes-a.corp.example, 50 accounts");
    expect(replies.created[0]).toContain("## 50 seats consumed");
    expect(await recordedRows(sha("2"))).toHaveLength(1);
    expect(await recordedRows(sha("3"))).toHaveLength(0);
  });
});

describe("LedgerService: a redelivery reports what the delivery recorded", () => {
  const ctx = (deliveryId: string): UploadContext => ({ ledger: LEDGER, uploader: "mona", deliveryId, options: DEFAULT_MATCH_OPTIONS });
  const input = (f: PushedFile, commit: string) => ({ file: f.path, bytes: Buffer.from(f.bytes), source: { kind: "commit" as const, sha: commit, path: f.path } });

  it("same delivery id: the same result as the first time, until superseded; a new delivery id or another file of the same content: unchanged", async () => {
    const adapter = sqliteAdapter();
    try {
      const svc = new LedgerService(await adapter.open(adapter.fresh()), createIdentityHasher("k"), { maxBytes: 1 << 20 });
      await svc.recordUploads(ctx("d-0"), [input(A1, sha("1")), input(B1, sha("1"))]);
      const copy = { ...A2, path: "license-usage/copy-of-a.json" };
      const first = await svc.recordUploads(ctx("d-1"), [input(A2, sha("2")), input(copy, sha("2"))]);
      expect(first.results.map((r) => r.status)).toEqual(["recorded", "unchanged"]);
      expect(first.results[0]).toMatchObject({ added: 20, removed: 10, seatDelta: 5, accounts: 50 });

      const again = await svc.recordUploads(ctx("d-1"), [input(A2, sha("2")), input(copy, sha("2"))]);
      expect(again.results).toEqual(first.results);
      expect(again.summary.totals).toEqual(first.summary.totals);

      const other = await svc.recordUploads(ctx("d-2"), [input(A2, sha("3"))]);
      expect(other.results.map((r) => r.status)).toEqual(["unchanged"]);
      expect((await svc.history(LEDGER)).filter((h) => h.outcome === "recorded")).toHaveLength(3);

      // Once superseded, a late redelivery neither rolls back nor claims to have recorded anything.
      const a3: PushedFile = { ...A2, bytes: exportJson("srv-a", "ghes-a.corp.example", users(11, 61)) };
      const newer = await svc.recordUploads(ctx("d-3"), [input(a3, sha("4"))]);
      const late = await svc.recordUploads(ctx("d-1"), [input(A2, sha("2"))]);
      expect(late.results.map((r) => r.status)).toEqual(["unchanged"]);
      expect(late.summary.totals).toEqual(newer.summary.totals);
      expect((await svc.history(LEDGER)).filter((h) => h.outcome === "recorded")).toHaveLength(4);
    } finally {
      await adapter.cleanup();
    }
  });
});
