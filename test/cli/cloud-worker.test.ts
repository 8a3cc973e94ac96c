// The report's cloud worker (cloud-worker.ts) as `license-sync report` runs it, from the sources
// compiled into a folder of this run: its answer is the CSV read the main thread would make, null for
// a file it does not read, and it lowers the priority of its own thread only (Linux).
import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { cloudReadFromMessage, readCsvUpload } from "../../src/domain/cloud-report.js";
import { compiledSourcesForTests } from "../helpers/compiled-sources.js";

const compiled = compiledSourcesForTests("license-sync-cloud-worker-");

const CSV = [
  "github_com_login,github_com_user,github_com_verified_domain_emails,github_com_saml_name_id,license_type,enterprise_server_user_ids",
  'ann,true,"Ann@X.example;ann@y.example",ann@x.example,Enterprise,"ghes.example:1"',
  "bob,true,bob@x.example,,Visual Studio subscription,",
  "carol,false,carol@x.example,,Enterprise,",
].join("\n");

/** Each thread's nice value, by thread id (Linux: /proc/self/task/<tid>/stat, field 19). */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

async function ask(worker: Worker, file: string, maxBytes = 1 << 20): Promise<unknown> {
  const answer = new Promise((resolve) => worker.once("message", resolve));
  worker.postMessage({ file, maxBytes });
  return answer;
}

describe("the report's cloud worker", () => {
  it("answers the CSV read this thread makes, and null for a file it does not read", async () => {
    const file = join(compiled.dir(), "report.csv");
    writeFileSync(file, CSV);
    const worker = new Worker(pathToFileURL(join(compiled.out(), "cli/cloud-worker.js")));
    try {
      const answer = await ask(worker, file);
      expect(answer).not.toBeNull();
      const read = cloudReadFromMessage(answer as Parameters<typeof cloudReadFromMessage>[0]);
      const here = readCsvUpload(readFileSync(file), file, { maxBytes: 1 << 20 });
      if (!read.ok || !here.ok) throw new Error("a CSV read failed");
      expect(read.report.members).toEqual(here.report.members);
      expect(read.report.linkedHosts).toEqual(["ghes.example"]);
      expect(read.report.rows).toBe(3);
      expect(await ask(worker, join(compiled.dir(), "missing.csv"))).toBeNull();
      expect(await ask(worker, file, 10)).toBeNull(); // over the size limit
    } finally {
      await worker.terminate();
    }
  });

  (process.platform === "linux" ? it : it.skip)("lowers its own thread's priority, not the process's", async () => {
    const before = niceByThread();
    const file = join(compiled.dir(), "report.csv");
    writeFileSync(file, CSV);
    const worker = new Worker(pathToFileURL(join(compiled.out(), "cli/cloud-worker.js")));
    try {
      expect(await ask(worker, file)).not.toBeNull();
      const after = niceByThread();
      // the main thread (its id is the process's) and every thread there before keep theirs
      expect(after.get(process.pid)).toBe(before.get(process.pid));
      for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid)).toBe(nice);
      // the worker's own thread, new since, is at the lowest priority
      const added = [...after].filter(([tid]) => !before.has(tid));
      expect(added.some(([, nice]) => nice === 19)).toBe(true);
    } finally {
      await worker.terminate();
    }
  });
});
