// The human form of `license-sync report`: aligned plain-text tables.
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

export function formatReport(report: UsageReport): string {
  const out: string[] = [];
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
  if (report.possibleSavings.length === 0) out.push("  none");
  else {
    // The biggest first; the full list is in --json.
    const shown = report.possibleSavings.slice(0, SAVINGS_ROWS);
    out.push(
      formatTable(
        ["LOGIN", "PERSONS", "SEATS"],
        shown.map((p) => [p.login, `${p.persons}`, `${p.seats}`]),
        ["left", "right", "right"],
      ),
    );
    const hidden = report.possibleSavings.length - shown.length;
    if (hidden > 0) out.push(`  … and ${hidden} more ${hidden === 1 ? "login" : "logins"} (--json lists them all)`);
    const total = report.possibleSavings.reduce((s, p) => s + p.seats, 0);
    out.push(`  up to ${plural(total, "seat", "seats")} if these are the same people (try --match-logins)`);
  }
  return out.join("\n") + "\n";
}
