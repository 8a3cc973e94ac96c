// The enterprise-wide part of the replies (GHEC and GHES together, from the ledger's GHEC license
// report): the figures that lead the summary, GitHub's own figure and the difference, hosts GitHub
// has not heard of, possible savings across environments, and the cloud report's per-file line.
// Pure; never prints an e-mail address (members are logins and keyed hashes only).
import type { CloudUploadInfo, Finding, LedgerEnterprise, UploadSource } from "./types.js";
import { ageInDays, code, formatAge, formatCount, formatDate, inline, type SummaryOptions } from "./render.js";

/** Hosts and logins listed at most, so a huge ledger cannot crowd out the rest of the reply. */
export interface EnterpriseLimits {
  hosts: number;
  savings: number;
}

export const DEFAULT_ENTERPRISE_LIMITS: EnterpriseLimits = Object.freeze({ hosts: 20, savings: 50 });

const n = formatCount;
const plural = (count: number, one: string, many = `${one}s`) => `${n(count)} ${count === 1 ? one : many}`;

/** Where the report came from, in a few words. */
function sourceWords(source: UploadSource): string {
  switch (source.kind) {
    case "commit":
      return `committed in ${source.sha.slice(0, 7)}`;
    case "issue":
      return `from issue #${source.issueNumber}`;
    case "api":
      return `fetched from GitHub for the enterprise ${code(source.enterprise, 60)}`;
    case "command":
      return `recorded by a command in issue #${source.issueNumber}`;
  }
}

function gitHubFigure(e: LedgerEnterprise, ghesInstances: number): string[] {
  const { figures: f } = e;
  if (f.reportedSeats === null) {
    return ["GitHub's own seat figure is not in this report (a CSV without `license_type`, or a JSON without `total_seats_consumed`).", ""];
  }
  const diff = f.reportedSeats - f.seats;
  const figure = `GitHub's own figure in the report: **${n(f.reportedSeats)}** ${f.reportedSeats === 1 ? "seat" : "seats"}`;
  if (diff === 0) return [`${figure}, the same as counted here.`, ""];
  const lines = [
    `${figure}, ${n(Math.abs(diff))} ${diff > 0 ? "more" : "fewer"} than counted here. Why they can differ:`,
  ];
  if (f.hostsUnknownToGithub.length > 0) {
    lines.push(
      `- GitHub has not received the usage of ${plural(f.hostsUnknownToGithub.length, "GHES instance")} recorded here (listed below): it bills their people separately, or not yet.`,
    );
  }
  lines.push(
    `- GitHub counts the GHES usage it last received, the report is of ${formatDate(e.report.recordedAt)}, and ${ghesInstances === 1 ? "the export here has its own date" : "the exports here have their own dates"}: people who joined or left in between count on one side only.`,
  );
  if (diff > 0) {
    lines.push("- GitHub counts every license its report lists; here, people whose GHEC and GHES accounts share a key or a link are counted once even where GitHub has not matched them yet.");
  } else {
    lines.push("- Here, every recorded GHES account counts; GitHub counts only the accounts of the usage it received.");
  }
  lines.push("");
  return lines;
}

function reportLine(e: LedgerEnterprise, opts: Pick<SummaryOptions, "now" | "staleAfterDays">): string {
  const r = e.report;
  const stale = ageInDays(r.recordedAt, opts.now) > opts.staleAfterDays;
  const line =
    `GHEC license report: ${code(r.file)} (${r.format.toUpperCase()}), ${sourceWords(r.source)}, recorded ${formatDate(r.recordedAt)} (${formatAge(r.recordedAt, opts.now)})`;
  return stale ? `${line}. ⚠️ stale (over ${opts.staleAfterDays} days): record a fresh one.` : `${line}.`;
}

/**
 * The section that leads the summary when the ledger holds a GHEC license report; [] otherwise.
 * `ghesSeats` and `ghesInstances` are the GHES side's figures, shown below it by the caller.
 */
export function renderEnterpriseLead(
  enterprise: LedgerEnterprise | undefined,
  ghes: { seats: number; instances: number },
  opts: Pick<SummaryOptions, "now" | "staleAfterDays" | "showLoginsInSavings">,
  limits: EnterpriseLimits = DEFAULT_ENTERPRISE_LIMITS,
): string[] {
  if (!enterprise) return [];
  const f = enterprise.figures;
  const out = [
    `## ${plural(f.seats, "enterprise seat")} consumed`,
    "",
    `GHEC and GHES together, each person once: the GHEC license report and ${plural(ghes.instances, "GHES instance")} (${plural(ghes.seats, "seat")} on their own).`,
    "",
    "| People | |",
    "|---|--:|",
    `| GHEC members | ${n(f.cloudMembers)} |`,
    `| On both GHEC and GHES | ${n(f.both)} |`,
    `| GHEC only | ${n(f.cloudOnly)} |`,
    `| GHES only | ${n(f.serverOnly)} |`,
    `| All people | ${n(f.persons)} |`,
    `| Covered by a Visual Studio subscription | ${f.visualStudio > 0 ? `−${n(f.visualStudio)}` : "0"} |`,
    `| **Enterprise seats** | **${n(f.seats)}** |`,
    "",
    ...gitHubFigure(enterprise, ghes.instances),
    reportLine(enterprise, opts),
    "",
  ];

  const hosts = f.hostsUnknownToGithub;
  if (hosts.length > 0) {
    out.push(
      "### GHES instances GitHub has not heard of",
      "",
      `No account of ${hosts.length === 1 ? "this instance" : "these instances"} appears in GitHub's report, so ${hosts.length === 1 ? "its" : "their"} usage has not reached GitHub: upload ${hosts.length === 1 ? "its" : "their"} usage to GitHub (license sync through GitHub Connect, or the usage file uploaded on the enterprise's licensing page).`,
      "",
      ...hosts.slice(0, limits.hosts).map((h) => `- ${inline(h, 80)}`),
    );
    if (hosts.length > limits.hosts) out.push(`- … and ${n(hosts.length - limits.hosts)} more`);
    out.push("");
  }

  const savings = f.crossSavings;
  if (savings.length > 0) {
    out.push(
      "### Possible savings across environments",
      "",
      `${plural(savings.length, "GHES account")} ${savings.length === 1 ? "has" : "have"} the login of a GHEC member but matched none of that member's verified e-mails or SAML NameID, so ${savings.length === 1 ? "it counts" : "they count"} apart: probably one person paying twice. ` +
        `Making the GHES primary e-mail a verified-domain e-mail on GHEC (or the SAML NameID) would save up to ${plural(savings.length, "seat")}.`,
      "",
    );
    if (opts.showLoginsInSavings) {
      const shown = savings.slice(0, limits.savings);
      out.push(...shown.map((s) => `- ${code(s.login, 60)} on ${inline(s.hostName, 60)}`));
      if (savings.length > shown.length) out.push(`- … and ${n(savings.length - shown.length)} more`);
      out.push("");
    } else {
      out.push("_(Set `show_logins_in_savings: true` in `.github/license-sync.yml` to list the logins.)_", "");
    }
  }
  return out;
}

/** The one line shown when the ledger holds no GHEC license report. */
export function cloudReportHint(): string {
  return (
    "_GHES seats only. For the enterprise's seats, GHEC and GHES together, commit the GHEC license report " +
    "(the enterprise's Settings → Enterprise licensing → Export license usage, CSV) next to the exports, or attach it to an issue here._"
  );
}

/** A cloud report's line among the per-file results. */
export function cloudFileResultLine(
  r: { status: "recorded" | "unchanged"; cloud: CloudUploadInfo; warnings: Finding[] },
  fileCode: string,
  wording: "record" | "check",
): string {
  const what = `GHEC license report (${r.cloud.format.toUpperCase()}), ${plural(r.cloud.members, "member")}`;
  if (r.status === "unchanged") return `- ☑️ ${fileCode}: **already recorded**: ${what} (same content as the ledger's current report)`;
  if (wording === "check") return `- ✅ ${fileCode}: **valid**: ${what}`;
  const change = r.cloud.replaces ? `replaces the report recorded ${formatDate(r.cloud.replaces)}` : "the ledger's first GHEC license report";
  return `- ✅ ${fileCode}: **recorded**: ${what} (${change})`;
}
