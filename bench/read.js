// Reading exports: bare JSON.parse vs readExport (decode + JSON.parse + validate) vs readExportFast.
// Run after `npm run build`: node --expose-gc bench/read.js [dir] [runs]
// Times: the ten generated 100,000-account files per run, median of the runs, methods interleaved so
// that load from other processes hits each alike. Memory: each method reads one file in a child process.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generate } from "./generate.js";
import { readExport } from "../dist/domain/validate.js";
import { readExportFast } from "../dist/domain/fast-read.js";
import { peakRss } from "./peak-rss.js";

const LIMITS = { maxBytes: 100 * 1024 * 1024 };
const METHODS = {
  bare: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
  readExport: (bytes, name) => readExport(bytes, name, LIMITS),
  readExportFast: (bytes, name) => readExportFast(bytes, name, LIMITS),
};

function check(result, name) {
  if (result.ok === false) throw new Error(`${name} was refused: ${result.errors[0].message}`);
}

/** Child mode: one read of one file; prints the memory it took. */
function child(method, file) {
  const bytes = readFileSync(file);
  globalThis.gc?.();
  const before = process.memoryUsage();
  const result = METHODS[method](bytes, file);
  globalThis.gc?.();
  const after = process.memoryUsage();
  check(result, file);
  const maxRss = peakRss();
  console.log(
    JSON.stringify({
      input: bytes.length,
      peakRssOverInput: (maxRss - before.rss) / bytes.length,
      retainedHeap: after.heapUsed - before.heapUsed,
    }),
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

function main() {
  const dir = process.argv[2] ?? "bench/out";
  const runs = Number(process.argv[3] ?? 7);
  const files = generate(dir, 10, 100_000).map((f) => ({ name: f, bytes: readFileSync(f) }));
  const total = files.reduce((s, f) => s + f.bytes.length, 0);
  console.log(`${files.length} files, ${mb(total)}, ${runs} runs each, node ${process.version}`);

  // Warm-up (JIT) and a check that both readers accept every file.
  for (const f of files) for (const m of Object.values(METHODS)) check(m(f.bytes, f.name), f.name);

  const times = { bare: [], readExport: [], readExportFast: [] };
  const names = Object.keys(METHODS);
  for (let r = 0; r < runs; r++) {
    // rotate the order each run
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      globalThis.gc?.();
      const t0 = performance.now();
      for (const f of files) METHODS[name](f.bytes, f.name);
      times[name].push(performance.now() - t0);
    }
  }
  const base = median(times.bare);
  console.log("\ntime for all ten files (median; min..max):");
  for (const name of names) {
    const m = median(times[name]);
    const lo = Math.min(...times[name]);
    const hi = Math.max(...times[name]);
    console.log(
      `  ${name.padEnd(15)} ${m.toFixed(0).padStart(6)} ms  ${(m / base).toFixed(2)}x bare  (${lo.toFixed(0)}..${hi.toFixed(0)})  ${((total / (m / 1000)) / (1024 * 1024)).toFixed(0)} MB/s`,
    );
  }

  console.log("\nmemory, one file read in a fresh process (peak RSS growth / input size; heap retained by the result):");
  const self = fileURLToPath(import.meta.url);
  for (const name of names) {
    const out = execFileSync(process.execPath, ["--expose-gc", self, "--child", name, files[0].name], { encoding: "utf8" });
    const m = JSON.parse(out);
    console.log(`  ${name.padEnd(15)} peak ${m.peakRssOverInput.toFixed(2)}x input   retained ${mb(m.retainedHeap)}`);
  }
}

if (process.argv[2] === "--child") child(process.argv[3], process.argv[4]);
else main();
