// `license-sync validate|report FILE...`: the offline CLI. Every user mistake becomes a message
// naming its file and an exit code; no stack trace ever reaches the terminal.
import { stat } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ReportKeys } from "../domain/byte-keys.js";
import {
  cloudReadFromMessage,
  isCsvName,
  readCsvUpload,
  readUpload,
  readUploadWith,
  type CloudReadMessage,
  type CloudReadResult,
  type CloudReport,
  type LookupSeeds,
  type UploadRead,
} from "../domain/cloud-report.js";
import type { CloudWorkRequest } from "./cloud-worker.js";
import { countUsage } from "../domain/count.js";
import { countEnterprise } from "../domain/enterprise.js";
import { readExportInterned, readPlainExportInterned, type InternedExport, type InternedResult } from "../domain/fast-read.js";
import { formatFinding } from "../domain/findings.js";
import { latestInterned, matchInternedExports, resolveInterned } from "../domain/interned-report.js";
import { contractJsonText } from "../domain/report-json.js";
import type { Finding } from "../domain/types.js";
import { HELP, USAGE, parseArgs } from "./args.js";
import { formatReport } from "./table.js";

/** Where output goes and how files are read; tests inject their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (file: string) => Promise<Uint8Array>;
  /** Size in bytes and whether it is a regular file; checked before reading a file whole. */
  stat: (file: string) => Promise<{ size: number; isFile: boolean }>;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  // Whole and synchronously: a file is parsed as soon as it is read (nothing to overlap), and
  // fs.promises reads in 512 KB pieces, an event-loop turn each (5-10% of a 10-file report).
  readFile: async (file) => readFileSync(file),
  stat: async (file) => {
    const s = await stat(file);
    return { size: s.size, isFile: s.isFile() };
  },
};

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

function describeFsError(file: string, e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case "ENOENT":
      return `${file}: no such file`;
    case "EISDIR":
      return `${file}: is a directory, not an export file`;
    case "EACCES":
    case "EPERM":
      return `${file}: permission denied`;
    case "ENOTDIR":
      return `${file}: no such file (a parent is not a directory)`;
    default:
      return `${file}: cannot be read${typeof code === "string" ? ` (${code})` : ""}`;
  }
}

/**
 * Reads and validates one file, a GHES export or a GHEC license report. A file-system problem is
 * written to stderr as a message naming the file, and gives null.
 */
export async function load(file: string, maxBytes: number, io: CliIo): Promise<UploadRead | null> {
  const bytes = await loadBytes(file, maxBytes, io);
  return bytes === null ? null : readUpload(bytes, file, { maxBytes });
}

type InternedUploadRead = { kind: "export"; result: InternedResult } | { kind: "cloud"; result: CloudReadResult };

/** load, an export read straight to ids of `keys` (its identity keys: the normalized e-mails themselves). */
async function loadInterned(file: string, maxBytes: number, io: CliIo, keys: ReportKeys, withSecondary: boolean): Promise<InternedUploadRead | null> {
  const bytes = await loadBytes(file, maxBytes, io);
  const limits = { maxBytes };
  if (bytes === null) return null;
  // The usual export in one pass; anything else (a cloud report, an invalid or unusual export) as readUpload reads it.
  const plain = isCsvName(file) ? null : readPlainExportInterned(bytes, file, limits, keys, withSecondary);
  if (plain !== null) return { kind: "export", result: { ok: true, export: plain } };
  return readUploadWith(bytes, file, limits, (b) => readExportInterned(b, file, limits, keys, withSecondary));
}

/**
 * The report's cloud CSV reports, each read on a worker thread from the start (the main thread
 * reads the exports meanwhile) and taken in its turn: what loadInterned would give, and the messages
 * loading printed, held until then. Where no worker can start (the sources run uncompiled, as under
 * test), none is read early: loadInterned reads them in turn.
 */
class EarlyCloudReads {
  private readonly reads = new Map<number, Promise<{ messages: string[]; read: InternedUploadRead | null }>>();
  private worker: Worker | null = null;
  private waiting: ((read: CloudReadMessage["read"] | null) => void)[] = [];

  constructor(files: readonly string[], maxBytes: number, io: CliIo, private readonly seeds: LookupSeeds) {
    const indexes = files.map((f, i) => (isCsvName(f) ? i : -1)).filter((i) => i !== -1);
    const script = new URL("./cloud-worker.js", import.meta.url);
    if (indexes.length === 0 || !existsSync(fileURLToPath(script))) return;
    const worker = new Worker(script);
    this.worker = worker;
    worker.on("message", (read: CloudReadMessage["read"]) => this.waiting.shift()?.(read));
    // a worker that fails or exits answers nothing more: what it was asked is read here
    worker.on("error", () => this.stop());
    worker.on("exit", () => this.stop());
    let left = indexes.length;
    // one file loaded at a time, each after the previous one's read: one CSV's bytes in memory, not all of them
    let previous: Promise<unknown> = Promise.resolve();
    for (const i of indexes) {
      const read = previous.then(() => this.readOne(files[i]!, maxBytes, io)).finally(() => {
        if (--left === 0) this.stop();
      });
      // awaited in its turn; one never taken (the report failed before it) must not fail the process on its own
      previous = read.catch(() => {});
      this.reads.set(i, read);
    }
  }

  /** File i's read, when read early. */
  take(i: number): Promise<{ messages: string[]; read: InternedUploadRead | null }> | undefined {
    return this.reads.get(i);
  }

  private async readOne(file: string, maxBytes: number, io: CliIo): Promise<{ messages: string[]; read: InternedUploadRead | null }> {
    const messages: string[] = [];
    const quiet = { ...io, stderr: (text: string) => void messages.push(text) };
    // Read by the worker from the file itself: the main thread, busy reading the exports, would fetch
    // a 50 MB CSV only between two of them. Asked before the check here (which words its messages as
    // loadBytes does, and whose stat answers only between two exports): the worker checks it too.
    const asked = this.worker === null ? null : new Promise<CloudReadMessage["read"] | null>((resolve) => {
      this.waiting.push(resolve);
      const request: CloudWorkRequest = { file, maxBytes, seeds: this.seeds };
      this.worker!.postMessage(request);
    });
    if (!(await fileWithin(file, maxBytes, quiet))) return { messages, read: null };
    const answer = await asked;
    if (answer !== null) return { messages, read: { kind: "cloud", result: cloudReadFromMessage(answer) } };
    // no worker, or it could not read the file (gone, grown, failed): read here, as in turn
    const bytes = await loadBytes(file, maxBytes, quiet);
    return { messages, read: bytes === null ? null : { kind: "cloud", result: readCsvUpload(bytes, file, { maxBytes }) } };
  }

  /** Stops the worker (what it was still asked is read in turn). */
  close(): void {
    this.stop();
  }

  private stop(): void {
    const worker = this.worker;
    this.worker = null;
    for (const resolve of this.waiting.splice(0)) resolve(null);
    void worker?.terminate();
  }
}

async function loadBytes(file: string, maxBytes: number, io: CliIo): Promise<Uint8Array | null> {
  if (!(await fileWithin(file, maxBytes, io))) return null;
  try {
    return await io.readFile(file);
  } catch (e) {
    return fail(io, describeFsError(file, e));
  }
}

/** Whether the file is a regular file within the size limit; if not, says why. */
async function fileWithin(file: string, maxBytes: number, io: CliIo): Promise<boolean> {
  let problem: string | null = null;
  try {
    const s = await io.stat(file);
    if (!s.isFile) problem = `${file}: is not a regular file (a directory?), not an export file`;
    // Compressed data is never much larger than what it inflates to: a file over the cap is over it.
    else if (s.size > maxBytes) problem = `${file}: is larger than the size limit of ${maxBytes} bytes (--max-bytes); it was not read`;
  } catch (e) {
    problem = describeFsError(file, e);
  }
  if (problem !== null) fail(io, problem);
  return problem === null;
}

/**
 * About how many accounts the files hold, to size the report's key tables once (growing a table
 * of a million keys moves every key again): an exported account takes about 200 bytes or more.
 * Only a hint: files that cannot be looked at count nothing (their reading says why).
 */
async function expectedAccounts(files: readonly string[], maxBytes: number, io: CliIo): Promise<number> {
  let bytes = 0;
  for (const file of files) {
    if (isCsvName(file)) continue; // a cloud report's members are looked up, not interned
    try {
      const s = await io.stat(file);
      if (s.isFile) bytes += Math.min(s.size, maxBytes);
    } catch {
      // read (and reported) later
    }
  }
  return Math.min(Math.max(1024, Math.floor(bytes / 256)), 1 << 22);
}

function describeCloud(r: CloudReport): string {
  const members = `${r.members.length} ${r.members.length === 1 ? "member" : "members"}`;
  const unit = r.format === "csv" ? "row" : "user record";
  return `GHEC license report, ${r.format.toUpperCase()}, ${members} of ${r.rows} ${r.rows === 1 ? unit : unit + "s"}`;
}

function fail(io: CliIo, message: string): null {
  io.stderr(message + "\n");
  return null;
}

function findings(label: string, list: Finding[]): string {
  return list.map((f) => `${label}${formatFinding(f)}\n`).join("");
}

/** validate's answer for one file read: "FILE: ok (…)" on stdout, or its errors on stderr; true when valid. */
export function printValidation(file: string, read: UploadRead, io: CliIo): boolean {
  if (read.kind === "cloud") {
    const c = read.result;
    if (!c.ok) {
      io.stderr(findings("", c.errors) + findings("warning: ", c.warnings));
      return false;
    }
    io.stdout(`${file}: ok (${describeCloud(c.report)})\n`);
    io.stderr(findings("warning: ", c.report.warnings));
    return true;
  }
  const r = read.result;
  if (!r.ok) {
    io.stderr(findings("", r.errors) + findings("warning: ", r.warnings));
    return false;
  }
  const { instance, accounts } = r.export;
  const seats = accounts.filter((a) => !a.suspended).length;
  io.stdout(`${file}: ok (${instance.hostName}, server_id ${instance.serverId}, ${seats} ${seats === 1 ? "account" : "accounts"})\n`);
  io.stderr(findings("warning: ", r.export.warnings));
  return true;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv[0] === "upload") {
    // Its own options and module; the network client is loaded only for it.
    const { upload } = await import("./upload.js");
    return upload(argv.slice(1), io);
  }
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    io.stderr(`license-sync: ${parsed.error}\n${USAGE}\nRun "license-sync --help" for details.\n`);
    return 2;
  }
  const command = parsed.command;
  switch (command.kind) {
    case "help":
      io.stdout(HELP + "\n");
      return 0;
    case "version":
      io.stdout(`license-sync ${version()}\n`);
      return 0;
    case "validate": {
      let failed = false;
      for (const file of command.files) {
        const read = await load(file, command.maxBytes, io);
        if (read === null || !printValidation(file, read, io)) failed = true;
      }
      return failed ? 1 : 0;
    }
    case "report": {
      // Keep only each file's accounts as ids (typed arrays), never its parsed tree: one file in memory at a time.
      const keys = new ReportKeys(await expectedAccounts(command.files, command.maxBytes, io));
      // keys are only recorded while the files are read, then interned all at once (cache-friendly)
      keys.defer();
      // Secondary addresses count only with --match-all-emails: otherwise they are not even hashed.
      const withSecondary = command.allEmails;
      const uploads: InternedExport[] = [];
      let failed = false;
      const warnings: string[] = [];
      // Only one cloud report counts: the last given, as a later one replaces the earlier.
      let cloud: CloudReport | null = null;
      const notes: string[] = [];
      const early = new EarlyCloudReads(command.files, command.maxBytes, io, { emails: keys.emails.hashSeed, logins: keys.logins.hashSeed });
      // a failure midway must not leave the worker keeping the process alive
      try {
        for (const [i, file] of command.files.entries()) {
          const taken = early.take(i);
          let read: InternedUploadRead | null;
          if (taken !== undefined) {
            const { messages, read: earlyRead } = await taken;
            if (messages.length > 0) io.stderr(messages.join(""));
            read = earlyRead;
          } else read = await loadInterned(file, command.maxBytes, io, keys, withSecondary);
          if (read === null) {
            failed = true;
            continue;
          }
          if (read.kind === "cloud") {
            const c = read.result;
            if (!c.ok) {
              failed = true;
              io.stderr(findings("", c.errors));
              continue;
            }
            warnings.push(findings("warning: ", c.report.warnings));
            if (cloud !== null) notes.push(`note: ${file} replaces ${cloud.file} (only the last cloud report counts)\n`);
            cloud = c.report;
            continue;
          }
          const r = read.result;
          if (!r.ok) {
            failed = true;
            io.stderr(findings("", r.errors));
            continue;
          }
          warnings.push(findings("warning: ", r.export.warnings));
          if (failed) continue; // no report will be printed: skip the work, keep checking files
          uploads.push(r.export);
        }
      } finally {
        early.close();
      }
      if (failed) return 1;
      resolveInterned(uploads, keys);
      io.stderr(warnings.join("") + notes.join(""));
      const latestFile = new Map<string, string>();
      for (const u of uploads) {
        const earlier = latestFile.get(u.instance.serverId);
        if (earlier !== undefined) {
          io.stderr(`note: ${u.file} replaces ${earlier} (same server_id ${u.instance.serverId})\n`);
        }
        latestFile.set(u.instance.serverId, u.file);
      }
      const options = { allEmails: command.allEmails, logins: command.logins };
      // one matching of the GHES accounts, over ids, for both counts
      const { instances, matching } = matchInternedExports(latestInterned(uploads), keys, options);
      const report = countUsage(instances, options, matching);
      if (cloud !== null) report.enterprise = countEnterprise(instances, cloud, options, matching);
      io.stdout(command.json ? contractJsonText(report) + "\n" : formatReport(report, cloud?.file));
      return 0;
    }
  }
}
