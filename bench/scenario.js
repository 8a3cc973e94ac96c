// One benchmark scenario in a process of its own, so its peak memory is its own.
// Prints one JSON line: { name, ms: [..runs], peakRssDelta, baseRss }. Run by bench/run.js:
// node --expose-gc bench/scenario.js NAME RUNS FILE... [--pair report FILE...]; RUNS=1 in a fresh
// process gives the peak memory of one cold run (Linux's VmHWM: the high-water mark of this
// process's resident memory). With --pair report, each run is followed by a report of the pair's
// files, timed too (pairMs): the report with a cloud CSV against the report without, in one process,
// run after run.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { main as cli, processIo } from "../dist/cli/main.js";
import { readExportFast } from "../dist/domain/fast-read.js";
import { createIdentityHasher } from "../dist/ledger/identity-key.js";
import { identifyAccounts } from "../dist/domain/identity.js";
import { LedgerService } from "../dist/ledger/service.js";
import { workerReads } from "../dist/ledger/export-reads.js";
import { openStore } from "../dist/storage/open-store.js";
import { AppOctokit } from "../dist/github/octokit.js";
import { readBlobWithin } from "../dist/github/push-files.js";
import { peakRss } from "./peak-rss.js";

const [name, runsArg, ...rest] = process.argv.slice(2);
const cut = rest.indexOf("--pair");
const files = cut === -1 ? rest : rest.slice(0, cut);
const [pairName, ...pairFiles] = cut === -1 ? [] : rest.slice(cut + 1);
const runs = Number(runsArg);
const MAX = 1024 * 1024 * 1024;
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const options = { allEmails: false, logins: false };
const KEY = "benchmark identity key";
const hasher = createIdentityHasher(KEY);
// as the app makes its ledger service (src/main.ts): a push into a cold big ledger reads its file on a worker
const serviceOptions = { maxBytes: MAX, readElsewhere: workerReads(KEY) };
// The installed command's own file system access, its output discarded.
const cliIo = { ...processIo, stdout: () => {}, stderr: () => {} };

let cleanup = async () => {};
/** Figures a scenario reports besides its runs' (the big ledger's seed: its push through the app). */
const extra = {};
let counter = 0;

/**
 * The files as GitHub serves blobs, read as production reads them: the app's Octokit (AppOctokit)
 * asks a local HTTP server for each blob raw (readBlobWithin). The server's copies are loaded at
 * set-up, so they are part of the baseline memory, as GitHub's copies are no part of the app's.
 */
async function blobServer(list) {
  const blobs = new Map(list.map((f, i) => [`sha${i}`, readFileSync(f)]));
  blobs.set("warm", Buffer.from("{}"));
  const server = createServer((req, res) => {
    const m = /^\/repos\/bench\/exports\/git\/blobs\/(\w+)$/.exec(req.url ?? "");
    const bytes = m && blobs.get(m[1]);
    if (!bytes || !String(req.headers.accept ?? "").includes("raw")) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/vnd.github.raw; charset=utf-8", "content-length": bytes.length }).end(bytes);
  });
  // As GitHub does, keep idle connections longer than a push takes (Node's default is 5 s): a
  // closed keep-alive socket would fail the next run's request.
  server.keepAliveTimeout = 120_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const octokit = new AppOctokit({
    auth: "bench-token",
    baseUrl: `http://127.0.0.1:${server.address().port}`,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
  const prev = cleanup;
  cleanup = async () => {
    await new Promise((resolve) => server.close(resolve));
    await prev();
  };
  // The app never reads a blob as its first request (a push asks the compare API first): one small
  // blob at set-up, so the runs do not count fetch's one-time start (its HTTP parser compiled, ~0.8x
  // a 21 MB file in resident memory) as the push's.
  await readBlobWithin(octokit, { owner: "bench", repo: "exports" }, "warm", MAX);
  return async (f) => readBlobWithin(octokit, { owner: "bench", repo: "exports" }, `sha${list.indexOf(f)}`, MAX);
}

async function makePush(dialect) {
  let url;
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "license-sync-bench-"));
    url = `sqlite:${join(dir, "bench.db")}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    url = PG_URL;
  }
  const schema = `bench_${process.pid}`;
  const store = await openStore(url, dialect === "postgres" ? { postgres: { schema } } : {});
  const ledger = new LedgerService(store, hasher, serviceOptions);
  const prev = cleanup;
  cleanup = async () => {
    await store.close();
    if (dialect === "postgres") {
      const { default: pg } = await import("pg");
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
    await prev();
  };
  const readBlob = await blobServer(files.slice(0, 1));
  // One upload through the push path: read (the blob, over HTTP), validate, record (replacing the instance), summarize.
  return async () => {
    const bytes = await readBlob(files[0]);
    const ctx = { ledger: { repoId: ++counter, fullName: `bench/ledger-${counter}` }, uploader: "bench", deliveryId: null, options };
    const out = await ledger.recordUploads(ctx, [{ file: "export.json", bytes, source: { kind: "commit", sha: "0".repeat(40), path: "export.json" } }]);
    if (out.results[0].status !== "recorded") throw new Error(`not recorded: ${JSON.stringify(out.results[0])}`);
  };
}

/**
 * The big ledger (issue #13): BENCH_DB names the database (sqlite:<file> or a PostgreSQL schema
 * under TEST_DATABASE_URL). "seed" records every file but the last as an instance of its own, straight
 * through the store (setting up, not timed). "push" is the app right after a restart: a fresh store
 * and LedgerService (nothing cached) take the last file, a replacement of the first instance, through
 * recordUploads; later runs alternate the first file and the replacement (warm). "drop" cleans up.
 */
async function openLedgerDb(dialect) {
  const db = process.env.BENCH_DB;
  if (dialect === "sqlite") return openStore(`sqlite:${db}`);
  return openStore(PG_URL, { postgres: { schema: db } });
}
const bigLedger = { repoId: 1, fullName: "bench/big-ledger" };

async function seedLedger(dialect) {
  const store = await openLedgerDb(dialect);
  cleanup = () => store.close();
  return async () => {
    const seeded = files.slice(0, -1);
    for (const f of seeded.slice(0, -1)) {
      const read = readExportFast(readFileSync(f), f, { maxBytes: MAX });
      if (!read.ok) throw new Error(`${f} invalid`);
      const accounts = identifyAccounts(read.export.accounts, hasher);
      const now = new Date();
      await store.write(bigLedger, async (tx) => {
        await tx.replaceAccounts(read.export.instance.serverId, accounts);
        await tx.upsertInstance({ ...read.export.instance, firstUploadAt: now, lastUploadAt: now, accountCount: accounts.length, contentSha256: `seed-${f}` });
      });
    }
    // The last one through the app, as every upload in production: its write stores the ledger's
    // seats, which the next push (after the restart) starts from.
    const last = seeded.at(-1);
    const ctx = { ledger: bigLedger, uploader: "bench", deliveryId: null, options };
    // Timed: a push into a big ledger that has no stored ids yet (recorded by an earlier version, or
    // below LEDGER_IDS_MIN_ACCOUNTS until now), nothing cached: it interns every set and stores the ids.
    const bytes = readFileSync(last);
    const t = performance.now();
    const out = await new LedgerService(store, hasher, serviceOptions).recordUploads(ctx, [{ file: "export.json", bytes, source: { kind: "commit", sha: "seed", path: "export.json" } }]);
    extra.appPushMs = performance.now() - t;
    if (out.results[0].status !== "recorded") throw new Error(`seed not recorded: ${JSON.stringify(out.results[0]).slice(0, 300)}`);
  };
}

async function pushLedger(dialect) {
  const store = await openLedgerDb(dialect);
  cleanup = () => store.close();
  const ledger = new LedgerService(store, hasher, serviceOptions);
  const pushed = [files.at(-1), files[0]];
  const readBlob = await blobServer(pushed);
  let turn = 0;
  return async () => {
    const f = pushed[turn++ % 2];
    const ctx = { ledger: bigLedger, uploader: "bench", deliveryId: null, options };
    const out = await ledger.recordUploads(ctx, [{ file: "export.json", bytes: await readBlob(f), source: { kind: "commit", sha: String(turn), path: "export.json" } }]);
    if (out.results[0].status !== "recorded") throw new Error(`not recorded: ${JSON.stringify(out.results[0]).slice(0, 300)}`);
  };
}

async function dropLedger(dialect) {
  if (dialect === "sqlite") rmSync(process.env.BENCH_DB, { force: true });
  else {
    const { default: pg } = await import("pg");
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${process.env.BENCH_DB} CASCADE`);
    await c.end();
  }
  return () => {};
}

const scenarios = {
  "ledger-seed-sqlite": () => seedLedger("sqlite"),
  "ledger-seed-postgres": () => seedLedger("postgres"),
  "ledger-push-sqlite": () => pushLedger("sqlite"),
  "ledger-push-postgres": () => pushLedger("postgres"),
  "ledger-drop-sqlite": () => dropLedger("sqlite"),
  "ledger-drop-postgres": () => dropLedger("postgres"),
  // The baseline: what any reader has to pay at least, with V8's native parser.
  parse: async () => () => {
    for (const f of files) JSON.parse(new TextDecoder().decode(readFileSync(f)));
  },
  validate: async () => () => {
    for (const f of files) {
      const r = readExportFast(readFileSync(f), f, { maxBytes: MAX });
      if (!r.ok) throw new Error(`${f} invalid`);
    }
  },
  report: async (list = files) => async () => {
    const code = await cli(["report", "--json", "--max-bytes", String(MAX), ...list], cliIo);
    if (code !== 0) throw new Error(`report exited ${code}`);
  },
  "push-sqlite": () => makePush("sqlite"),
  "push-postgres": () => makePush("postgres"),
};

const setup = scenarios[name];
if (!setup) throw new Error(`unknown scenario ${name}`);
if (pairName !== undefined && pairName !== "report") throw new Error(`--pair takes report, not ${pairName}`);
const fn = await setup();
const pair = pairName === undefined ? null : await scenarios[pairName](pairFiles);
globalThis.gc?.();
const baseRss = Math.max(process.memoryUsage().rss, peakRss());
const ms = [];
// CPU time of the whole process (every thread: worker threads count), next to the wall time.
const cpuMs = [];
const pairMs = [];
let peak = 0;
for (let r = 0; r < runs; r++) {
  globalThis.gc?.();
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  ms.push(performance.now() - t);
  const used = process.cpuUsage(c);
  cpuMs.push((used.user + used.system) / 1000);
  // the high-water mark as the scenario's runs left it (run.js reads no memory where a pair runs)
  peak = peakRss();
  if (pair) {
    globalThis.gc?.();
    const p = performance.now();
    await pair();
    pairMs.push(performance.now() - p);
  }
}
await cleanup();
process.stdout.write(JSON.stringify({ name, ms, cpuMs, baseRss, peakRss: peak, peakRssDelta: Math.max(0, peak - baseRss), ...(pair ? { pairMs } : {}), ...extra }) + "\n");
