// `npm run bench`: synthetic exports in three data profiles (bench/generate.js), each scenario in
// its own process, timed as a ratio against the same run's bare JSON.parse of the same bytes.
// Environment: BENCH_PROFILES (today,directory,worst), BENCH_INSTANCES (10), BENCH_ACCOUNTS (100000),
// BENCH_RUNS (5), BENCH_LEDGER_SIZES (20; e.g. 5,20,50: instances of the big-ledger scenario, "" for
// none), BENCH_LEDGER_PROFILES (directory), BENCH_LEDGER_DIALECTS (sqlite,postgres), BENCH_CLOUD_ROWS
// (300000; 0 for none), BENCH_RESTARTS (3: big-ledger pushes after a restart, a process each),
// TEST_DATABASE_URL (PostgreSQL, skipped when unreachable).
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generate, generateCloud, generateReplacement } from "./generate.js";

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 10);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PROFILES = (process.env.BENCH_PROFILES ?? "today,directory,worst").split(",").filter(Boolean);
const LEDGER_SIZES = (process.env.BENCH_LEDGER_SIZES ?? "20").split(",").filter(Boolean).map(Number);
const LEDGER_PROFILES = (process.env.BENCH_LEDGER_PROFILES ?? "directory").split(",").filter(Boolean);
const RESTARTS = Math.max(1, Number(process.env.BENCH_RESTARTS ?? 3));
const dir = fileURLToPath(new URL("./out/", import.meta.url));

const bytesOf = (list) => list.reduce((s, f) => s + statSync(f).size, 0);
const MB = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const GB = (b) => `${(b / 1024 / 1024 / 1024).toFixed(2)} GB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function once(name, list, runs, env = {}) {
  const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(new URL("./scenario.js", import.meta.url)), name, String(runs), ...list], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  return JSON.parse(out.trim().split("\n").pop());
}

/**
 * The baseline right before each scenario: a bare parse of `baseFiles` (median of RUNS warm runs, in
 * a process of its own, as a naive script would parse them), then the scenario (median of RUNS warm
 * runs in one process): measured seconds apart, so a drift of the machine's speed over minutes moves
 * both sides of the ratio. Peak memory of one cold run in a fresh process.
 */
function run(name, list, baseFiles) {
  const base = once("parse", baseFiles, RUNS);
  const timed = once(name, list, RUNS);
  return { median: median(timed.ms), cpu: median(timed.cpuMs), ratio: median(timed.ms) / median(base.ms), cpuRatio: median(timed.cpuMs) / median(base.cpuMs), peakRssDelta: once(name, list, 1).peakRssDelta };
}
/** The baseline on its own: median of RUNS warm runs; peak memory of one cold run. */
function baseline(list) {
  const timed = once("parse", list, RUNS);
  return { median: median(timed.ms), cpu: median(timed.cpuMs), ratio: 1, peakRssDelta: once("parse", list, 1).peakRssDelta };
}
/** Each run's time over its pair's (see scenario.js --pair). */
const ratios = (timed) => timed.ms.map((ms, r) => ms / timed.pairMs[r]);

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

const pgUp = await postgresUp();
const dialects = pgUp ? ["sqlite", "postgres"] : ["sqlite"];
const ledgerDialects = (process.env.BENCH_LEDGER_DIALECTS ?? "sqlite,postgres").split(",").filter((d) => dialects.includes(d));
if (!pgUp) console.log("(PostgreSQL not reachable: its scenarios are skipped)");
console.log(`license-sync benchmark: profiles ${PROFILES.join(", ")}; ${INSTANCES} x ${ACCOUNTS} accounts; ${RUNS} runs each, median; each scenario against a bare parse measured right before it`);
console.log(`node ${process.version}, ${process.platform} ${process.arch}, load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);

const rows = [];
const verdict = (value, target) => (target === undefined ? "" : value <= target ? `≤ ${target}: met` : `≤ ${target}: **missed**`);
function row(profile, label, ms, ratio, mem, target, memTarget) {
  const r = { profile, label, ms, ratio: ratio.toFixed(2), time: verdict(ratio, target), mem, memVerdict: memTarget };
  rows.push(r);
  // each row as it comes, so a long run that is cut short still leaves its figures
  console.log(`  ${profile}: ${label}: ${(ms / 1000).toFixed(2)} s, ${r.ratio}× parse ${r.time}; memory ${mem}`);
}

for (const profile of PROFILES) {
  const files = generate(dir, INSTANCES, ACCOUNTS, profile);
  const one = files.slice(0, 1);
  const all = bytesOf(files);
  const single = bytesOf(one);
  console.log(`${profile}: ${MB(all)} (${MB(single)} per file)`);
  const parseAll = baseline(files);
  const parseOne = baseline(one);
  const memOf = (r, input, target) => `${(r.peakRssDelta / input).toFixed(2)}× ${verdict(r.peakRssDelta / input, target)}`;
  row(profile, `bare JSON.parse, ${INSTANCES} files (baseline)`, parseAll.median, 1, memOf(parseAll, all));
  const validate = run("validate", files, files);
  row(profile, `validate, ${INSTANCES} files`, validate.median, validate.ratio, memOf(validate, all));
  const report = run("report", files, files);
  // wall time against the target; the CPU time of the whole process (all its threads) as a ratio too
  const cpu = `CPU ${report.cpuRatio.toFixed(2)}× the parse's CPU`;
  row(profile, `offline report, ${INSTANCES} files (${cpu})`, report.median, report.ratio, memOf(report, all, 2.5), 1.0);
  row(profile, "bare JSON.parse, 1 file (baseline)", parseOne.median, 1, memOf(parseOne, single));
  for (const d of dialects) {
    const push = run(`push-${d}`, one, one);
    row(profile, `push path on ${d}, 1 file`, push.median, push.ratio, memOf(push, single, 3), 2);
  }
}

// GHES and GHEC together: 6 exports plus a 300,000-row cloud report CSV (BENCH_CLOUD_ROWS), against a
// bare JSON.parse of the 6 exports; the cloud report's own cost is the difference of the two reports
// (each run with the CSV followed by one without, in the same process: the median of their differences).
const CLOUD_ROWS = Number(process.env.BENCH_CLOUD_ROWS ?? 300_000);
if (CLOUD_ROWS > 0 && INSTANCES >= 6) {
  const six = generate(dir, INSTANCES, ACCOUNTS, "today").slice(0, 6);
  const parseSix = baseline(six);
  const reportSix = run("report", six, six);
  // each run with the CSV followed by one without, in the same process
  const withCloud = once("report", [...six, generateCloud(dir, CLOUD_ROWS, 6), "--pair", "report", ...six], RUNS);
  const added = median(ratios(withCloud)) - 1;
  row("today", "bare JSON.parse, 6 files (baseline)", parseSix.median, 1, "");
  row("today", "offline report, 6 files", reportSix.median, reportSix.ratio, "");
  const withCloudMs = median(withCloud.ms);
  row("today", `report, 6 files + ${CLOUD_ROWS / 1000}k-row cloud CSV (adds ${added.toFixed(2)}× the report: ${verdict(added, 0.3)})`, withCloudMs, withCloudMs / parseSix.median, "");
}

for (const profile of LEDGER_PROFILES) {
  for (const size of LEDGER_SIZES) {
    const files = [...generate(dir, size, ACCOUNTS, profile), generateReplacement(dir, ACCOUNTS, profile)];
    const pushed = files.slice(-1);
    for (const d of ledgerDialects) {
      const env = { BENCH_DB: d === "sqlite" ? `${dir}big-ledger.db` : `bench_ledger_${process.pid}` };
      once(`ledger-drop-${d}`, [], 1, env);
      try {
        console.log(`big ledger: seeding ${size} x ${ACCOUNTS} accounts (${profile}) on ${d}…`);
        const seeded = once(`ledger-seed-${d}`, files, 1, env);
        // first run: right after a restart (nothing cached); the others warm. A restart has one run
        // per process: RESTARTS processes in all, each after a baseline of its own, the median of
        // their ratios. Each pushes the replacement of the first instance first and ends putting the
        // first back (an even number of runs), so every restart finds the same ledger.
        const restarts = [];
        for (let k = 0; k < RESTARTS; k++) {
          const parse = once("parse", pushed, RUNS);
          const pushedRuns = once(`ledger-push-${d}`, files, k === 0 ? RUNS + 1 + ((RUNS + 1) % 2) : 2, env);
          restarts.push({ base: median(parse.ms), pushedRuns });
        }
        const { base, pushedRuns } = restarts[0];
        const peakRss = Math.max(...restarts.map((r) => r.pushedRuns.peakRss));
        const peak = `${GB(peakRss)} ${verdict(peakRss / 2 ** 30, 1.5)}`;
        const label = `big ledger ${size} x ${ACCOUNTS / 1000}k on ${d}`;
        // the time target is set at 20 instances; 5 and 50 show how the cost grows
        const target = size === 20 ? 5 : undefined;
        row(profile, `${label}: push after restart (median of ${RESTARTS})`, median(restarts.map((r) => r.pushedRuns.ms[0])), median(restarts.map((r) => r.pushedRuns.ms[0] / r.base)), peak, target);
        row(profile, `${label}: push, warm`, median(pushedRuns.ms.slice(1)), median(pushedRuns.ms.slice(1)) / base, "", target);
        // once, while seeding: the ledger's last instance added through the app with nothing stored to restore
        row(profile, `big ledger ${size} x ${ACCOUNTS / 1000}k on ${d}: push with no stored ids yet (stores them; one run)`, seeded.appPushMs, seeded.appPushMs / base, "");
      } finally {
        once(`ledger-drop-${d}`, [], 1, env);
      }
    }
  }
}

console.log("\n| Profile | Scenario | Time | × bare parse | Time target | Peak memory |");
console.log("|---|---|--:|--:|---|---|");
for (const r of rows) console.log(`| ${r.profile} | ${r.label} | ${(r.ms / 1000).toFixed(2)} s | ${r.ratio} | ${r.time} | ${r.mem} |`);
