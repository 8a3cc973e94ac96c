// SIGTERM while a delivery is mid-way through its ledger write: the app behind Probot's own Server
// (what main.ts runs) stops accepting deliveries, lets the one in flight finish and answer, and only
// then closes the database; past the bound it gives up, says how many it abandoned, and exits 1.
import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import { createHash, createHmac } from "node:crypto";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import nock from "nock";
import { Probot, Server } from "probot";
import { licenseSync } from "../../src/index.js";
import { createLogger } from "../../src/log.js";
import { DeliveryTracker, shutdown, ShuttingDownError } from "../../src/drain.js";
import { LedgerService } from "../../src/ledger/service.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { openStore } from "../../src/storage/open-store.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { testPrivateKey, TestOctokit, TEST_APP_ID } from "../helpers/probot.js";
import { FULL_NAME, REPO_ID, pushPayload } from "../helpers/payloads.js";
import { exportJson, users } from "../helpers/exports.js";
import { testSettings } from "../helpers/ledger.js";
import { GitHubStandIn } from "../helpers/github-stand-in.js";
import { FaultyStore } from "../helpers/faulty-store.js";
import { RawConnection, type RawReply } from "../helpers/raw-http.js";

const SECRET = "shutdown-webhook-secret";
const LEDGER = { repoId: REPO_ID, fullName: FULL_NAME };
const sign = (body: string) => `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
const hex = (s: string) => createHash("sha1").update(s).digest("hex");

/** Probot's Server takes no port 0 (it falls back to 3000): ask the OS for a free one. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("shutdown with a delivery in flight", () => {
  let standIn: GitHubStandIn;
  let server: Server;
  let url: { port: number };
  let inner: LedgerStore;
  let store: FaultyStore;
  let ledger: LedgerService;
  let deliveries: DeliveryTracker;
  let connection: RawConnection;
  /** What happened, in order: the store's close notes what the ledger held at that moment. */
  let events: string[];
  let logged: string[];
  let release: () => void;
  let writing: Promise<void>;

  beforeEach(async () => {
    nock.restore(); // real sockets on loopback only
    events = [];
    logged = [];
    standIn = new GitHubStandIn();
    standIn.on("check-run", () => events.push("check run"));
    const baseUrl = await standIn.start();
    inner = await openStore("sqlite::memory:");
    store = new FaultyStore(inner);
    ledger = new LedgerService(store, createIdentityHasher("test-identity-key"), { maxBytes: 10 * 1024 * 1024 });
    // The delivery's ledger write stalls (inside its transaction) until the test releases it.
    const gate = new Promise<void>((resolve) => (release = resolve));
    writing = new Promise<void>((resolve) => {
      store.failNext({
        method: "appendUpload",
        throws: false,
        action: async () => {
          resolve();
          await gate;
        },
      });
    });
    deliveries = new DeliveryTracker();
    const port = await freePort();
    url = { port };
    server = new Server({
      host: "127.0.0.1",
      port,
      log: await createLogger({ level: process.env.LOG_LEVEL ?? "silent", format: "json" }),
      Probot: Probot.defaults({ appId: TEST_APP_ID, privateKey: testPrivateKey(), secret: SECRET, baseUrl, Octokit: TestOctokit }),
    });
    await server.load(licenseSync({ ledger, settings: testSettings(), deliveries }));
    await server.start();
    // One connection, kept alive: a delivery queued behind the one in flight reuses its socket.
    connection = await RawConnection.open(port);
  });

  afterEach(async () => {
    release();
    connection.close();
    await server.stop().catch(() => undefined);
    await standIn.close();
    await inner.close().catch(() => undefined);
    nock.activate();
  });

  /** A signed push delivery; `via` false opens a fresh connection (rejected when none is taken). */
  async function deliver(id: string, via: "kept" | false = "kept"): Promise<RawReply> {
    const after = hex(id);
    const bytes = exportJson(`srv-${id}`, `ghes-${id}.corp.example`, users(1, 5));
    standIn.addPush(FULL_NAME, after, [{ path: `license-usage/${id}.json`, blobSha: hex(bytes), bytes }]);
    const body = JSON.stringify(pushPayload({ after }));
    const conn = via === "kept" ? connection : await RawConnection.open(url.port);
    try {
      return await conn.request({
        method: "POST",
        path: "/api/github/webhooks",
        headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": sign(body) },
        body,
      });
    } finally {
      if (conn !== connection) conn.close();
    }
  }

  /** The store as shutdown sees it: closing records whether the upload was in the ledger by then. */
  function closingStore() {
    return {
      close: async () => {
        const recorded = (await ledger.history(LEDGER, 10)).filter((h) => h.outcome === "recorded").length;
        events.push(`store closed (${recorded} recorded)`);
        await inner.close();
      },
    };
  }

  const log = () => ({ info: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) });

  it("finishes the delivery in flight, refuses new ones, and closes the database after", async () => {
    const inFlight = deliver("d-1");
    await writing;
    // Queued on the same keep-alive connection: sent only once d-1 is answered, during shutdown.
    const queued = deliver("d-2");

    const stopping = shutdown({ server, deliveries, store: closingStore(), timeoutMs: 25_000, log: log() });
    await expect(deliver("d-3", false)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(deliveries.count).toBe(1);
    release();

    expect(await stopping).toBe(0);
    events.push("shutdown done");
    expect(await inFlight).toMatchObject({ status: 200 });
    const late = await queued;
    expect(late.status).toBe(503);
    expect(late.body).toContain("ShuttingDownError");

    // d-1 answered in full (comment and check run) and recorded; d-2 and d-3 never touched GitHub.
    const comments = standIn.comments.get(`${FULL_NAME} ${hex("d-1")}`) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain("## 5 seats consumed");
    expect(standIn.comments.has(`${FULL_NAME} ${hex("d-2")}`)).toBe(false);
    expect(standIn.requests.filter((r) => r.includes(hex("d-2")) || r.includes(hex("d-3")))).toEqual([]);
    expect(events).toEqual(["check run", "store closed (1 recorded)", "shutdown done"]);
    expect(logged).toEqual(["shutting down: waiting for 1 delivery in flight"]);
  });

  it("gives up after the bound: exits 1, names how many deliveries it abandoned, leaves the database to roll back", async () => {
    const inFlight = deliver("d-1");
    await writing;

    const code = await shutdown({ server, deliveries, store: closingStore(), timeoutMs: 300, log: log() });

    expect(code).toBe(1);
    expect(logged).toEqual([
      "shutting down: waiting for 1 delivery in flight",
      "shutdown: 1 delivery abandoned after 300 ms (redeliver them from the app's settings)",
    ]);
    expect(events).toEqual([]); // store not closed under the open transaction, no reply yet
    await expect(deliver("d-2", false)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    // (In production the process exits here; the test lets the delivery end to clean up.)
    release();
    await inFlight;
  });

  it("refuses work once stopped accepting, with the status the webhook middleware answers", async () => {
    const tracker = new DeliveryTracker();
    const ran: string[] = [];
    await tracker.run(async () => void ran.push("before"));
    tracker.stopAccepting();
    await expect(tracker.run(async () => void ran.push("after"))).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(tracker.run(async () => undefined)).rejects.toMatchObject({ status: 503 });
    expect(ran).toEqual(["before"]);
    expect(await tracker.waitIdle(1)).toBe(0);
  });
});
