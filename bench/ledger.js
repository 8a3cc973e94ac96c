// Ledger storage benchmark: time to replace one instance's 100,000 accounts on each adapter (SQLite
// temp file; PostgreSQL if reachable, in a throw-away schema), and a full recordUploads of a
// 100,000-account export. Baseline in the same run: raw better-sqlite3 prepared inserts in one
// transaction (the floor for SQLite). Run after `npm run build`: node bench/ledger.js
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { createIdentityHasher } from "../dist/ledger/identity-key.js";
import { LedgerService } from "../dist/ledger/service.js";
import { openStore } from "../dist/storage/open-store.js";

const N = 100_000;
const RUNS = 3;
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const hash = createIdentityHasher("bench key");

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function accounts(seed) {
  return Array.from({ length: N }, (_, i) => ({
    userId: i + 1,
    login: `user${seed}-${i}`,
    primary: [hash(`person.${seed}.${i}@corp.example`)],
    secondary: [hash(`p${i}@users.noreply.corp.example`)],
  }));
}

function exportBytes(seed) {
  const users = Array.from({ length: N }, (_, i) => ({
    user_id: i + 1,
    login: `user${seed}-${i}`,
    emails: [{ email: `Person.${seed}.${i}@Corp.Example`, primary: true }, { email: `p${i}@users.noreply.corp.example` }],
  }));
  return Buffer.from(JSON.stringify({ version: 1, instance: { server_id: "srv-bench", host_name: "ghes.bench" }, users }));
}

const ledger = { repoId: 1, fullName: "bench/ledger" };
const options = { allEmails: false, logins: false };

async function benchStore(name, store) {
  const sets = [accounts("a"), accounts("b")];
  const replace = [];
  for (let r = 0; r < RUNS; r++) {
    // Alternate contents so every run deletes 100,000 rows and inserts 100,000 others.
    replace.push(await time(() => store.write(ledger, (tx) => tx.replaceAccounts("srv-1", sets[r % 2]))));
  }
  const read = await time(() => store.read(ledger, (tx) => tx.accounts("srv-1")));
  const service = new LedgerService(store, hash, { maxBytes: 1e9 });
  const files = [exportBytes("x"), exportBytes("y")];
  const ingest = [];
  for (let r = 0; r < RUNS; r++) {
    const ctx = { ledger: { repoId: 2, fullName: "bench/service" }, uploader: "bench", deliveryId: null, options };
    ingest.push(
      await time(() =>
        service.recordUploads(ctx, [{ file: "u.json", bytes: files[r % 2], source: { kind: "commit", sha: "0", path: "u.json" } }]),
      ),
    );
  }
  return { name, replace: median(replace), read, ingest: median(ingest) };
}

function baselineSqlite(dir) {
  const db = new Sqlite(join(dir, "baseline.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("create table accounts (ledger_id integer, server_id text, user_id integer, login text, identities text, primary key (ledger_id, server_id, user_id))");
  const rows = accounts("a").map((a) => [1, "srv-1", a.userId, a.login, `p:${a.primary[0]} s:${a.secondary[0]}`]);
  const del = db.prepare("delete from accounts where ledger_id = 1 and server_id = 'srv-1'");
  const ins = db.prepare("insert into accounts values (?, ?, ?, ?, ?)");
  const replace = db.transaction(() => {
    del.run();
    for (const r of rows) ins.run(r);
  });
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    replace();
    runs.push(performance.now() - t);
  }
  db.close();
  return median(runs);
}

async function pgReachable() {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

const dir = mkdtempSync(join(tmpdir(), "ls-bench-"));
const results = [];
try {
  const hashStart = performance.now();
  for (let i = 0; i < 200_000; i++) hash(`person.${i}@corp.example`);
  const hashMs = performance.now() - hashStart;
  const baseline = baselineSqlite(dir);

  const sqlite = await openStore(`sqlite:${join(dir, "ledger.db")}`);
  results.push(await benchStore("sqlite (file, WAL)", sqlite));
  await sqlite.close();

  if (await pgReachable()) {
    const schema = `ls_bench_${process.pid}`;
    const store = await openStore(PG_URL, { postgres: { schema } });
    try {
      results.push(await benchStore("postgres", store));
    } finally {
      await store.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  } else {
    console.log(`postgres: not reachable at TEST_DATABASE_URL, skipped`);
  }

  console.log(`identity hasher: 200,000 HMAC-SHA-256 calls in ${hashMs.toFixed(0)} ms`);
  console.log(`baseline: raw better-sqlite3 prepared inserts, ${N.toLocaleString("en")} rows in one transaction: ${baseline.toFixed(0)} ms`);
  for (const r of results) {
    console.log(
      `${r.name}: replace ${N.toLocaleString("en")} accounts ${r.replace.toFixed(0)} ms (${(r.replace / baseline).toFixed(2)}x baseline); ` +
        `read them back ${r.read.toFixed(0)} ms; recordUploads of a ${N.toLocaleString("en")}-account export ${r.ingest.toFixed(0)} ms`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
