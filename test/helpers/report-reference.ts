// The offline report as it was computed before exports were read straight to ids (commit 016f643's
// src/cli/main.ts): every account an IdentifiedAccount of string keys, matched by matchGhes. The
// differential tests hold `license-sync report`'s output (stdout, stderr, exit code) to this.
import { readUploadIdentified, type CloudReport } from "../../src/domain/cloud-report.js";
import { countUsage, latestPerInstance, matchGhes } from "../../src/domain/count.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import { formatFinding } from "../../src/domain/findings.js";
import { toContractJson } from "../../src/domain/report-json.js";
import type { Finding, InstanceAccounts } from "../../src/domain/types.js";
import { formatReport } from "../../src/cli/table.js";

export interface ReferenceIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (file: string) => Promise<Uint8Array>;
}

function findings(label: string, list: Finding[]): string {
  return list.map((f) => `${label}${formatFinding(f)}\n`).join("");
}

/** `report` of the given files (readable ones; no size checks), with the old path. */
export async function referenceReport(
  files: readonly string[],
  command: { json: boolean; allEmails: boolean; logins: boolean; maxBytes: number },
  io: ReferenceIo,
): Promise<number> {
  const uploads: { file: string; accounts: InstanceAccounts }[] = [];
  let failed = false;
  const warnings: string[] = [];
  let cloud: CloudReport | null = null;
  const notes: string[] = [];
  for (const file of files) {
    const read = readUploadIdentified(await io.readFile(file), file, { maxBytes: command.maxBytes }, (email) => email);
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
    if (failed) continue;
    uploads.push({ file, accounts: { instance: r.export.instance, accounts: r.export.accounts } });
  }
  if (failed) return 1;
  io.stderr(warnings.join("") + notes.join(""));
  const latestFile = new Map<string, string>();
  for (const u of uploads) {
    const earlier = latestFile.get(u.accounts.instance.serverId);
    if (earlier !== undefined) io.stderr(`note: ${u.file} replaces ${earlier} (same server_id ${u.accounts.instance.serverId})\n`);
    latestFile.set(u.accounts.instance.serverId, u.file);
  }
  const options = { allEmails: command.allEmails, logins: command.logins };
  const instances = latestPerInstance(uploads.map((u) => u.accounts));
  const matching = matchGhes(instances, options);
  const report = countUsage(instances, options, matching);
  if (cloud !== null) report.enterprise = countEnterprise(instances, cloud, options, matching);
  io.stdout(command.json ? JSON.stringify(toContractJson(report), null, 2) + "\n" : formatReport(report, cloud?.file));
  return 0;
}
