// `npm run bench`: synthetic exports (10 instances x 100,000 accounts), each scenario in its own
// process, timed as a ratio against the same run's bare JSON.parse of the same bytes.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generate } from "./generate.js";

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 10);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const dir = fileURLToPath(new URL("./out/", import.meta.url));

const files = generate(dir, INSTANCES, ACCOUNTS);
const one = files.slice(0, 1);
const bytesOf = (list) => list.reduce((s, f) => s + statSync(f).size, 0);
const MB = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;

function once(name, list, runs) {
  const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(new URL("./scenario.js", import.meta.url)), name, String(runs), ...list], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop());
}

/** Median time of RUNS warm runs in one process; peak memory of one cold run in a fresh process. */
function run(name, list) {
  const timed = once(name, list, RUNS);
  const sorted = [...timed.ms].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], peakRssDelta: once(name, list, 1).peakRssDelta };
}

async function postgresUp() {
  try {
    const { default: pg } = await import("pg");
    const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", connectionTimeoutMillis: 2000 });
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const all = bytesOf(files);
const single = bytesOf(one);
console.log(`license-sync benchmark: ${INSTANCES} instances x ${ACCOUNTS} accounts, ${MB(all)} (${MB(single)} per file), ${RUNS} runs each, median`);
console.log(`node ${process.version}, ${process.platform} ${process.arch}\n`);

const rows = [];
const row = (label, r, base, input, target) => {
  const ratio = r.median / base.median;
  rows.push({ label, ms: r.median, ratio, mem: r.peakRssDelta / input, target, memTarget: target === undefined ? undefined : 4 });
};

const parseAll = run("parse", files);
const parseOne = run("parse", one);
row("bare JSON.parse, 10 files (baseline)", parseAll, parseAll, all);
row("validate, 10 files", run("validate", files), parseAll, all);
row("offline report, 10 files", run("report", files), parseAll, all, 1.5);
row("bare JSON.parse, 1 file (baseline)", parseOne, parseOne, single);
row("push path on SQLite, 1 file", run("push-sqlite", one), parseOne, single, 3);
if (await postgresUp()) row("push path on PostgreSQL, 1 file", run("push-postgres", one), parseOne, single, 3);
else console.log("(PostgreSQL not reachable: its scenario was skipped)");

const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad("scenario", 38)}${pad("ms", 10)}${pad("× parse", 10)}${pad("target", 12)}peak memory / input`);
for (const r of rows) {
  const verdict = r.target === undefined ? "" : r.ratio <= r.target ? `≤ ${r.target} ok` : `≤ ${r.target} MISSED`;
  const memVerdict = r.memTarget === undefined ? "" : r.mem <= r.memTarget ? `  ≤ ${r.memTarget} ok` : `  ≤ ${r.memTarget} MISSED`;
  console.log(`${pad(r.label, 38)}${pad(r.ms.toFixed(0), 10)}${pad(r.ratio.toFixed(2), 10)}${pad(verdict, 12)}${r.mem.toFixed(2)}×${memVerdict}`);
}
