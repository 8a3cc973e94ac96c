// The human form of `license-sync report`: aligned plain-text tables.
import { savingsOverview } from "../domain/count.js";
import { explainReportedSeats, type EnterpriseFigures } from "../domain/enterprise.js";
import type { UsageReport } from "../domain/types.js";

export type Align = "left" | "right";

/** Columns padded to their widest cell; numbers are usually right-aligned. */
export function formatTable(headers: string[], rows: string[][], align: Align[], indent = "  "): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((cell, c) => (align[c] === "right" ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Logins listed under possible savings in the table. */
export const SAVINGS_ROWS = 20;

/** The enterprise-wide figures (GHES and GHEC together); never an e-mail address. */
export function formatEnterprise(e: EnterpriseFigures, cloudFile?: string): string {
  const out: string[] = [];
  out.push(`Enterprise (GHES and GHEC together${cloudFile ? `, cloud report ${cloudFile}` : ""})`);
  const rows: [string, string, string][] = [
    ["Enterprise seats", `${e.seats}`, "licenses consumed: persons minus those covered by Visual Studio"],
    ["Persons", `${e.persons}`, "GHES accounts and GHEC members matched into people"],
    ["GHEC members", `${e.cloudMembers}`, "cloud members in the license report"],
    ["On both sides", `${e.both}`, "persons with a GHEC member and a GHES account: one license each"],
    ["Cloud only", `${e.cloudOnly}`, "persons with GHEC members only"],
    ["Server only", `${e.serverOnly}`, "persons with GHES accounts only"],
    ["Visual Studio", `${e.visualStudio}`, "persons covered by a Visual Studio subscription (no enterprise seat)"],
    ["GitHub's figure", e.reportedSeats === null ? "-" : `${e.reportedSeats}`, "seats GitHub reports as consumed"],
  ];
  out.push(formatTable(["FIGURE", "COUNT", "MEANING"], rows, ["left", "right", "left"]));
  out.push(`  Difference: ${explainReportedSeats(e)}`);
  out.push("", "GHES hosts unknown to GitHub (upload their usage to GitHub: license sync in GitHub Connect, or the export uploaded under Enterprise licensing)");
  out.push(e.hostsUnknownToGithub.length === 0 ? "  none" : e.hostsUnknownToGithub.map((h) => `  ${h}`).join("\n"));
  out.push("", "Possible savings across environments (GHES login equals a GHEC member's login, no e-mail matched)");
  if (e.crossSavings.length === 0) out.push("  none");
  else {
    const shown = e.crossSavings.slice(0, SAVINGS_ROWS);
    out.push(formatTable(["LOGIN", "HOST", "SERVER ID"], shown.map((c) => [c.login, c.hostName, c.serverId]), ["left", "left", "left"]));
    const hidden = e.crossSavings.length - shown.length;
    if (hidden > 0) out.push(`  … and ${hidden} more ${hidden === 1 ? "account" : "accounts"} (--json lists them all)`);
    out.push(
      `  probably the same people paying twice: make their GHES primary e-mail a verified-domain e-mail on GHEC (or try --match-logins)`,
    );
  }
  return out.join("\n") + "\n";
}

export function formatReport(report: UsageReport, cloudFile?: string): string {
  const out: string[] = [];
  if (report.enterprise !== undefined) out.push(formatEnterprise(report.enterprise, cloudFile), "GHES side (the exports alone)");
  const matching = ["primary e-mail", report.options.allEmails ? "all e-mails" : "", report.options.logins ? "login" : ""]
    .filter(Boolean)
    .join(" + ");
  out.push(`Seats:         ${report.seats}`);
  out.push(`Accounts:      ${report.accounts}`);
  out.push(`Deduplicated:  ${report.deduplicated}  (accounts counted once as the same person)`);
  out.push(`Matched by:    ${matching}`);

  // Host names label instances; a host name used twice also shows its server id.
  const hostCount = new Map<string, number>();
  for (const i of report.instances) hostCount.set(i.hostName, (hostCount.get(i.hostName) ?? 0) + 1);
  const label = new Map(
    report.instances.map((i) => [i.serverId, hostCount.get(i.hostName)! > 1 ? `${i.hostName} (${i.serverId})` : i.hostName]),
  );

  out.push("", `Instances (${report.instances.length})`);
  out.push(
    formatTable(
      ["HOST", "SERVER ID", "VERSION", "ACCOUNTS", "EXCLUSIVE", "UNMATCHED"],
      report.instances.map((i) => [i.hostName, i.serverId, i.ghesVersion ?? "-", `${i.accounts}`, `${i.exclusive}`, `${i.unmatched}`]),
      ["left", "left", "left", "right", "right", "right"],
    ),
  );

  out.push("", "Overlaps (people with accounts on both instances)");
  if (report.overlaps.length === 0) out.push("  none");
  else
    out.push(
      formatTable(
        ["INSTANCE", "INSTANCE", "PEOPLE"],
        report.overlaps.map((o) => [label.get(o.serverIds[0]) ?? o.serverIds[0], label.get(o.serverIds[1]) ?? o.serverIds[1], `${o.people}`]),
        ["left", "left", "right"],
      ),
    );

  out.push("", "People on several instances");
  if (report.spans.length === 0) out.push("  none");
  else
    out.push(
      formatTable(
        ["INSTANCES", "PEOPLE"],
        report.spans.map((s) => [`${s.instances}`, `${s.people}`]),
        ["right", "right"],
      ),
    );

  out.push(
    "",
    `Unmatched accounts: ${report.unmatched}` +
      (report.unmatched > 0 ? "  (no identity under the matching in force; each counted as a person)" : ""),
  );

  out.push("", "Possible savings (one login, several persons on different instances)");
  // The biggest first; the full list is in --json (only the rows shown are listed here).
  const savings = savingsOverview(report, SAVINGS_ROWS);
  if (savings.logins === 0) out.push("  none");
  else {
    const shown = savings.top;
    out.push(
      formatTable(
        ["LOGIN", "PERSONS", "SEATS"],
        shown.map((p) => [p.login, `${p.persons}`, `${p.seats}`]),
        ["left", "right", "right"],
      ),
    );
    const hidden = savings.logins - shown.length;
    if (hidden > 0) out.push(`  … and ${hidden} more ${hidden === 1 ? "login" : "logins"} (--json lists them all)`);
    const total = savings.seats;
    out.push(`  up to ${plural(total, "seat", "seats")} if these are the same people (try --match-logins)`);
  }
  return out.join("\n") + "\n";
}
