// Markdown bodies of the app's replies (push and issue paths). Pure: data in, text out, with the
// clock injected. Never prints an e-mail address: only counts, host names, ids and (opt-in) logins.
import type { FileResult, LedgerSummary } from "./types.js";
import type { Finding, InstanceUsage, Totals, UsageReport } from "./types.js";
import { formatFinding } from "./findings.js";
import { renderCloudFetch } from "./render-cloud-fetch.js";
import { overlapsAmong, savingsOverview } from "./count.js";
import { CONFIG_PATH, formatConfigErrors, type ConfigError } from "./repo-config.js";
import { cloudFileResultLine, cloudReportHint, renderEnterpriseLead } from "./render-enterprise.js";
import { layout, type Part, type Section } from "./budget.js";
import type { InstanceRecord } from "./types.js";

/** GitHub refuses comment bodies of 65,536 characters or more. */
export const MAX_COMMENT_CHARS = 65_536;
export const SAFE_COMMENT_CHARS = 65_000;

export const SUMMARY_MARKER_PREFIX = "<!-- license-sync:summary ";

export interface SummaryOptions {
  now: Date;
  staleAfterDays: number;
  purchasedSeats: number | null;
  showLoginsInSavings: boolean;
}

export interface RenderLimits {
  /** Rows of the instances table. */
  instances: number;
  /** Instances (rows and columns) of the overlap matrix. */
  matrix: number;
  /** Logins listed under possible savings. */
  savings: number;
  /** Files listed in the per-file results. */
  files: number;
  /** Errors shown per refused file. */
  findings: number;
  /** Warnings shown per file. */
  warnings: number;
}

export const DEFAULT_LIMITS: RenderLimits = Object.freeze({
  instances: 1000,
  matrix: 30,
  savings: 50,
  files: 50,
  findings: 10,
  warnings: 5,
});

// ---- small formatting helpers -------------------------------------------------------------

export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.trunc(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function signed(n: number): string {
  return n > 0 ? `+${formatCount(n)}` : n < 0 ? `−${formatCount(-n)}` : "±0";
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

// Defence in depth: whatever a file puts in a host name or a message, no address gets out.
const EMAIL_LIKE = /[^\s@<>()`|]{1,64}@[^\s@<>()`|]+/g;
function redact(text: string): string {
  return text.includes("@") ? text.replace(EMAIL_LIKE, "[redacted]") : text;
}

/** Text from files or users, made inert in Markdown (and in a table cell). */
export function inline(text: string, max = 120): string {
  const short = redact(text.length > max ? `${text.slice(0, max)}…` : text);
  return short.replace(/[\r\n]+/g, " ").replace(/([\\`*_{}[\]<>()#+!|~])/g, "\\$1");
}

/** A file path in a code span (backticks in the path cannot close it). */
export function code(text: string, max: number = 200): string {
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return `\`${redact(short).replace(/`/g, "'").replace(/[\r\n]+/g, " ")}\``;
}

export function formatDate(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function ageInDays(then: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - then.getTime()) / 86_400_000));
}

export function formatAge(then: Date, now: Date): string {
  const days = ageInDays(then, now);
  return days === 0 ? "today" : days === 1 ? "1 day ago" : `${formatCount(days)} days ago`;
}

function more(n: number, what = ""): string {
  return `… and ${formatCount(n)} more${what ? ` ${what}` : ""}`;
}

// ---- the marker ---------------------------------------------------------------------------

export function summaryMarker(totals: Totals): string {
  const { seats, accounts, deduplicated, instances, enterpriseSeats } = totals;
  const fields = { seats, accounts, deduplicated, instances, ...(enterpriseSeats !== undefined ? { enterprise_seats: enterpriseSeats } : {}) };
  return `${SUMMARY_MARKER_PREFIX}${JSON.stringify(fields)} -->`;
}

/** Reads the totals back from a rendered body (the last summary marker), or null. */
export function parseSummaryMarker(body: string): Totals | null {
  const at = body.lastIndexOf(SUMMARY_MARKER_PREFIX);
  if (at < 0) return null;
  const end = body.indexOf(" -->", at);
  if (end < 0) return null;
  try {
    const v = JSON.parse(body.slice(at + SUMMARY_MARKER_PREFIX.length, end)) as Record<string, unknown>;
    const keys = ["seats", "accounts", "deduplicated", "instances"] as const;
    if (!keys.every((k) => typeof v[k] === "number")) return null;
    const totals: Totals = { seats: v.seats as number, accounts: v.accounts as number, deduplicated: v.deduplicated as number, instances: v.instances as number };
    if (typeof v.enterprise_seats === "number") totals.enterpriseSeats = v.enterprise_seats;
    return totals;
  } catch {
    return null;
  }
}

/**
 * Keeps a body under GitHub's limit: cuts the middle and keeps the first line (where reply
 * markers go) and the last line (the summary marker).
 */
export function fitCommentBody(body: string, max = SAFE_COMMENT_CHARS): string {
  if (body.length <= max) return body;
  const firstNl = body.indexOf("\n");
  const lastNl = body.lastIndexOf("\n");
  const head = firstNl > 0 && firstNl < 1000 ? body.slice(0, firstNl + 1) : "";
  const tail = lastNl >= 0 && body.length - lastNl < 1000 ? body.slice(lastNl) : "";
  const note = "\n\n… (reply shortened to fit GitHub's comment size limit)\n";
  const room = max - head.length - tail.length - note.length;
  const middle = body.slice(head.length, head.length + Math.max(0, room));
  // Do not leave half a line behind.
  const cut = middle.lastIndexOf("\n");
  return head + (cut > 0 ? middle.slice(0, cut) : middle) + note + tail;
}

// ---- the summary --------------------------------------------------------------------------

function instanceLabels(instances: InstanceUsage[]): Map<string, string> {
  const hostCount = new Map<string, number>();
  for (const i of instances) hostCount.set(i.hostName, (hostCount.get(i.hostName) ?? 0) + 1);
  const labels = new Map<string, string>();
  for (const i of instances) {
    const dup = (hostCount.get(i.hostName) ?? 0) > 1;
    labels.set(i.serverId, inline(i.hostName, 60) + (dup ? ` (${inline(i.serverId.slice(0, 8))}…)` : ""));
  }
  return labels;
}

function matchingDescription(report: UsageReport): string {
  const parts = [report.options.allEmails ? "any of their e-mail addresses" : "their primary e-mail address"];
  if (report.options.logins) parts.push("their login");
  return parts.join(" or ");
}

function changesSection(results: readonly FileResult[], labels: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.status !== "recorded" || "cloud" in r) continue;
    const label = labels.get(r.instance.serverId) ?? inline(r.instance.hostName, 60);
    if (r.added === null || r.removed === null) {
      lines.push(`- **${label}**: first upload, ${plural(r.accounts, "account")}; seats ${signed(r.seatDelta)}`);
    } else {
      lines.push(
        `- **${label}**: ${signed(r.added)} / ${r.removed > 0 ? `−${formatCount(r.removed)}` : "−0"} accounts since its previous upload; seats ${signed(r.seatDelta)}`,
      );
    }
  }
  return lines;
}

/** Up to this many instances the pairwise overlap grid is shown; beyond, the top pairs as a list. */
export const GRID_UP_TO = 6;
/** Pairs in the ranked overlap list. */
export const TOP_PAIRS = 10;
/** Longer tables and lists go in a collapsed <details> block, with their totals above. */
export const DETAILS_FROM = 10;
/** The ranked overlap list looks at the pairs among this many of the largest instances. */
export const RANKED_AMONG = 100;

function details(summaryText: string): { open: string[]; close: string[] } {
  return { open: ["<details>", `<summary>${summaryText}</summary>`, ""], close: ["", "</details>"] };
}

function isStale(rec: InstanceRecord | undefined, opts: SummaryOptions): boolean {
  return !!rec && ageInDays(rec.lastUploadAt, opts.now) > opts.staleAfterDays;
}

/** The instances table; `link` adds a column linking each instance's latest upload. */
export function instancesSection(
  summary: LedgerSummary,
  opts: SummaryOptions,
  limits: RenderLimits,
  link?: (serverId: string) => string,
): Part[] {
  const { report } = summary;
  const k = report.instances.length;
  if (k === 0) return [];
  const labels = instanceLabels(report.instances);
  const records = new Map(summary.instances.map((r) => [r.serverId, r]));
  const rows = report.instances.slice(0, limits.instances).map((i) => {
    const rec = records.get(i.serverId);
    const last = rec ? `${formatDate(rec.lastUploadAt)} (${formatAge(rec.lastUploadAt, opts.now)})` : "—";
    const stale = isStale(rec, opts) ? `⚠️ stale (over ${opts.staleAfterDays} days)` : "";
    const cells = [labels.get(i.serverId), i.ghesVersion ? inline(i.ghesVersion, 20) : "—", formatCount(i.accounts), formatCount(i.exclusive), last];
    if (link) cells.push(link(i.serverId));
    cells.push(stale);
    return `| ${cells.join(" | ")} |`;
  });
  const header = link
    ? ["| Instance | GHES | Accounts | Only there | Last upload | Latest | |", "|---|---|--:|--:|---|---|---|"]
    : ["| Instance | GHES | Accounts | Exclusive | Last upload | |", "|---|---|--:|--:|---|---|"];
  const hidden = k - rows.length;
  const moreRows = (n: number) => `\n${more(n, "instances")}`;
  if (k <= DETAILS_FROM) return [{ head: ["### Instances", "", ...header], rows, hidden, tail: [""], more: moreRows }];
  const stale = report.instances.filter((i) => isStale(records.get(i.serverId), opts)).length;
  const d = details(`All ${formatCount(k)} instances`);
  return [
    {
      head: [
        "### Instances",
        "",
        `${plural(k, "instance")}, ${plural(report.accounts, "account")}${stale ? `; **${formatCount(stale)} stale** (no upload for over ${opts.staleAfterDays} days)` : ""}.`,
        "",
        ...d.open,
        ...header,
      ],
      rows,
      hidden,
      tail: [...d.close, ""],
      more: moreRows,
    },
  ];
}

function percent(part: number, whole: number): string {
  if (whole <= 0) return "0%";
  const p = (100 * part) / whole;
  return p > 0 && p < 1 ? "<1%" : `${Math.round(p)}%`;
}

function overlapGrid(report: UsageReport, labels: Map<string, string>, shown: InstanceUsage[]): { header: string[]; rows: string[] } {
  // Only the shown pairs: listing every pair of a ledger with many instances would be quadratic.
  const people = overlapsAmong(report, shown.map((i) => i.serverId));
  const header = [`| | ${shown.map((i) => labels.get(i.serverId)).join(" | ")} |`, `|---|${shown.map(() => "--:").join("|")}|`];
  const rows = shown.map((row) => {
    const cells = shown.map((col) => {
      if (col.serverId === row.serverId) return "—";
      const [a, b] = [row.serverId, col.serverId].sort();
      return formatCount(people.get(`${a}\n${b}`) ?? 0);
    });
    return `| **${labels.get(row.serverId)}** | ${cells.join(" | ")} |`;
  });
  return { header, rows };
}

function overlapsSection(report: UsageReport, limits: RenderLimits): Part[] {
  const k = report.instances.length;
  if (k < 2) return [];
  const labels = instanceLabels(report.instances);
  const parts: Part[] = ["### Overlaps", ""];
  if (report.spans.length === 0) {
    parts.push("No person has accounts on more than one instance.", "");
  } else if (k <= GRID_UP_TO) {
    const grid = overlapGrid(report, labels, report.instances);
    parts.push(["People with accounts on both instances:", "", ...grid.header, ...grid.rows, ""].join("\n"));
  } else {
    const byId = new Map(report.instances.map((i) => [i.serverId, i]));
    // The pairs among the largest instances only (at most RANKED_AMONG): all pairs of a ledger with
    // thousands of instances would be quadratic to list.
    const among = [...report.instances].sort((a, b) => b.accounts - a.accounts).slice(0, RANKED_AMONG);
    const pairs = [...overlapsAmong(report, among.map((i) => i.serverId))].map(([key, people]) => ({ serverIds: key.split("\n") as [string, string], people }));
    const top = pairs.filter((o) => o.people > 0).sort((a, b) => b.people - a.people || a.serverIds.join().localeCompare(b.serverIds.join())).slice(0, TOP_PAIRS);
    const scope = k > among.length ? ` (among the ${formatCount(among.length)} largest instances)` : "";
    parts.push(`The ${top.length === 1 ? "pair" : `${top.length} pairs`} of instances sharing the most people${scope}:`, "");
    top.forEach((o, n) => {
      // The share is of the smaller instance: how much of it the other one duplicates.
      const [x, y] = o.serverIds.map((id) => byId.get(id)!).sort((a, b) => b.accounts - a.accounts);
      parts.push(`${n + 1}. ${plural(o.people, "person", "people")} on both ${labels.get(x!.serverId)} and ${labels.get(y!.serverId)}, ${percent(o.people, y!.accounts)} of ${labels.get(y!.serverId)}`);
    });
    parts.push("");
    const shown = report.instances.slice(0, limits.matrix);
    const grid = overlapGrid(report, labels, shown);
    const d = details(shown.length < k ? `Overlap grid (${formatCount(shown.length)} of ${formatCount(k)} instances)` : "Overlap grid (every pair)");
    parts.push({
      head: [...d.open, "People with accounts on both instances:", "", ...grid.header],
      rows: grid.rows,
      hidden: k - shown.length,
      tail: [...d.close, ""],
      more: (n) => `\n${more(n, "instances")} not shown in the matrix.`,
    });
  }
  if (report.spans.length) {
    parts.push({
      head: [],
      rows: report.spans.map((s) => `- ${plural(s.people, "person", "people")} with accounts on ${s.instances} instances`),
      tail: [""],
      more: (n) => `- ${more(n, "span counts")}`,
    });
  }
  return parts;
}

function savingsSection(report: UsageReport, opts: SummaryOptions, limits: RenderLimits): Part[] {
  // the count and seat sum, and only the logins shown (a big ledger's report may find hundreds of thousands)
  const savings = savingsOverview(report, opts.showLoginsInSavings ? limits.savings : 0);
  if (savings.logins === 0) return [];
  const { seats } = savings;
  const parts: Part[] = [
    [
      "### Possible savings",
      "",
      `${plural(savings.logins, "login")} appear on several instances with different primary e-mail addresses, ` +
        `so they count as different people. If they are the same person, giving their accounts the same primary e-mail would save up to ${plural(seats, "seat")}.`,
      "",
    ].join("\n"),
  ];
  if (!opts.showLoginsInSavings) {
    parts.push("_(Set `show_logins_in_savings: true` in `" + CONFIG_PATH + "` to list the logins.)_", "");
    return parts;
  }
  const list = savings.top;
  const rows = list.map((p) => `- ${code(p.login, 60)}: ${plural(p.persons, "person", "people")}, ${plural(p.seats, "seat")}`);
  const d = list.length > DETAILS_FROM ? details(`The ${formatCount(savings.logins)} logins`) : { open: [], close: [] };
  parts.push({ head: d.open, rows, hidden: savings.logins - list.length, tail: [...d.close, ""], more: (n) => `- ${more(n, "logins")}` });
  return parts;
}

/**
 * The ledger summary as parts for a budgeted layout. `results` (optional) adds the change each
 * recorded file made; `extraSections` go before the footer and the summary marker (last).
 */
export function summaryParts(
  summary: LedgerSummary,
  opts: SummaryOptions,
  results: readonly FileResult[] = [],
  limits: RenderLimits = DEFAULT_LIMITS,
  extraSections: readonly Part[] = [],
  /** `lead`: parts right after the headline; `instanceLink`: a column linking each instance's latest upload. */
  extra: { lead?: readonly Part[]; instanceLink?: (serverId: string) => string } = {},
): Part[] {
  const { report } = summary;
  const parts: Part[] = [];
  const labels = instanceLabels(report.instances);
  const k = report.instances.length;

  // With a GHEC license report, the enterprise's seats lead and the GHES figures follow.
  const lead = renderEnterpriseLead(summary.enterprise, { seats: report.seats, instances: k }, opts);
  parts.push(...lead, `${lead.length ? "## GHES:" : "##"} ${plural(report.seats, "seat")} consumed`, "");
  if (k === 0) {
    parts.push("No instance has been recorded in this repository yet.", "");
  } else {
    parts.push(
      `${plural(report.accounts, "account")} on ${plural(k, "instance")}; ` +
        `${plural(report.deduplicated, "account")} deduplicated (the same person on several instances, counted once by ${matchingDescription(report)}).`,
      "",
    );
  }
  const consumed = summary.enterprise?.figures.seats ?? report.seats;
  if (opts.purchasedSeats !== null && consumed > opts.purchasedSeats) {
    parts.push(
      [
        "> [!WARNING]",
        `> ${formatCount(consumed)} seats consumed, ${formatCount(opts.purchasedSeats)} purchased: ${formatCount(consumed - opts.purchasedSeats)} over.`,
        "",
      ].join("\n"),
    );
  }
  parts.push(...(extra.lead ?? []));

  const changes = changesSection(results, labels);
  if (changes.length) parts.push({ head: ["### Changes", ""], rows: changes, tail: [""], more: (n) => `- ${more(n, "changes")}` });

  parts.push(...instancesSection(summary, opts, limits, extra.instanceLink));
  parts.push(...overlapsSection(report, limits));

  if (report.unmatched > 0) {
    parts.push(
      `**${plural(report.unmatched, "account")} could not be matched** (no ${report.options.allEmails ? "" : "primary "}e-mail address): each counts as a separate person.`,
      "",
    );
  }
  parts.push(...savingsSection(report, opts, limits));
  if (summary.cloudFetch) parts.push(renderCloudFetch(summary.cloudFetch, opts.now), "");
  for (const section of extraSections) parts.push(section, "");
  if (!summary.enterprise) parts.push(cloudReportHint(), "");
  parts.push(`<sub>Ledger as of ${formatDate(summary.generatedAt)}.</sub>`, "");
  parts.push(summaryMarker(summary.totals));
  return parts;
}

/** The ledger summary as Markdown, sized to fit a comment. Ends with the summary marker. */
export function renderSummary(
  summary: LedgerSummary,
  opts: SummaryOptions,
  results: readonly FileResult[] = [],
  limits: RenderLimits = DEFAULT_LIMITS,
  extraSections: readonly Part[] = [],
): string {
  return layout(summaryParts(summary, opts, results, limits, extraSections), SAFE_COMMENT_CHARS);
}

// ---- per-file results ---------------------------------------------------------------------

/** File name and path are the user's and are shortened; the message is ours and always whole. */
function findingText(f: Finding): string {
  const short = (t: string) => (t.length > 120 ? `${t.slice(0, 120)}…` : t);
  return code(formatFinding({ ...f, file: short(f.file), path: short(f.path) }), Infinity);
}

function findingList(findings: readonly Finding[], cap: number, indent: string): string[] {
  const lines = findings.slice(0, cap).map((f) => `${indent}- ${findingText(f)}`);
  if (findings.length > cap) lines.push(`${indent}- ${more(findings.length - cap)}`);
  return lines;
}

/** "record": the files were recorded; "check": validated only (pull requests), nothing recorded. */
export type ResultWording = "record" | "check";

export function renderFileResult(r: FileResult, limits: RenderLimits = DEFAULT_LIMITS, wording: ResultWording = "record"): string[] {
  const lines: string[] = [];
  if (r.status !== "refused" && "cloud" in r) {
    lines.push(cloudFileResultLine(r, code(r.file), wording));
  } else if (r.status === "recorded" && wording === "check") {
    lines.push(`- ✅ ${code(r.file)}: **valid**: ${inline(r.instance.hostName, 60)}, ${plural(r.accounts, "account")}`);
  } else if (r.status === "recorded") {
    const change =
      r.added === null || r.removed === null
        ? "first upload of this instance"
        : `${signed(r.added)} / ${r.removed > 0 ? `−${formatCount(r.removed)}` : "−0"} accounts since its previous upload`;
    lines.push(`- ✅ ${code(r.file)}: **recorded**: ${inline(r.instance.hostName, 60)}, ${plural(r.accounts, "account")} (${change})`);
  } else if (r.status === "unchanged") {
    lines.push(
      `- ☑️ ${code(r.file)}: **already recorded**: ${inline(r.instance.hostName, 60)}, ${plural(r.accounts, "account")} (same content as its current upload)`,
    );
  } else {
    lines.push(`- ❌ ${code(r.file)}: **refused**:`);
    lines.push(...findingList(r.errors, limits.findings, "  "));
  }
  if (r.warnings.length) {
    lines.push(`  - ⚠️ ${plural(r.warnings.length, "warning")}:`);
    lines.push(...findingList(r.warnings, limits.warnings, "    "));
  }
  return lines;
}

/** The per-file results as a budgeted section: later files are dropped whole, with a count. */
export function fileResultsPart(results: readonly FileResult[], limits: RenderLimits = DEFAULT_LIMITS, wording: ResultWording = "record"): Section {
  return {
    head: [],
    rows: results.slice(0, limits.files).map((r) => renderFileResult(r, limits, wording).join("\n")),
    hidden: Math.max(0, results.length - limits.files),
    more: (n) => `- ${more(n, "files")}`,
  };
}

export function renderFileResults(
  results: readonly FileResult[],
  limits: RenderLimits = DEFAULT_LIMITS,
  wording: ResultWording = "record",
  budget = SAFE_COMMENT_CHARS,
): string {
  return layout([fileResultsPart(results, limits, wording)], budget);
}

/** One-line tally: "2 recorded, 1 already recorded, 1 refused". */
export function resultTally(results: readonly FileResult[], wording: ResultWording = "record"): string {
  const n = (s: FileResult["status"]) => results.filter((r) => r.status === s).length;
  const parts: string[] = [];
  if (n("recorded")) parts.push(`${formatCount(n("recorded"))} ${wording === "check" ? "valid" : "recorded"}`);
  if (n("unchanged")) parts.push(`${formatCount(n("unchanged"))} already recorded`);
  if (n("refused")) parts.push(`${formatCount(n("refused"))} refused`);
  return parts.join(", ") || "no export files";
}

/** The full reply: a heading, per-file results, then the ledger summary (marker last). */
export function renderUploadReply(input: {
  marker: string;
  heading: string;
  results: readonly FileResult[];
  summary: LedgerSummary;
  options: SummaryOptions;
  limits?: RenderLimits;
}): string {
  const limits = input.limits ?? DEFAULT_LIMITS;
  const parts: Part[] = [
    input.marker,
    `**${input.heading}**: ${resultTally(input.results)}`,
    "",
    fileResultsPart(input.results, limits),
    "",
    ...summaryParts(input.summary, input.options, input.results, limits),
  ];
  return fitCommentBody(layout(parts, SAFE_COMMENT_CHARS));
}

/** A reply for a broken .github/license-sync.yml: names each wrong key. */
export function renderConfigErrorReply(marker: string, errors: readonly ConfigError[]): string {
  return fitCommentBody(
    [
      marker,
      `**license-sync could not use \`${CONFIG_PATH}\`**: nothing was recorded. Fix ${errors.length === 1 ? "this key" : "these keys"} on the default branch, then try again:`,
      "",
      formatConfigErrors(errors.slice(0, 50)),
      ...(errors.length > 50 ? [`- ${more(errors.length - 50)}`] : []),
      "",
      "See the configuration reference in the README for every key and its default.",
    ].join("\n"),
  );
}

/** A push whose changed files GitHub cannot list (its tree is truncated): nothing was read. */
export function renderTruncatedPushReply(marker: string, shortSha: string): string {
  return [
    marker,
    `**License usage in ${shortSha}**: not read`,
    "",
    "This push changes more files than GitHub lists in one answer (the commit's file tree is truncated), so license-sync could not tell which export files it holds and read none of them. Nothing was recorded.",
    "",
    "Push the export files in a commit of their own (or upload them in an issue); a push of only those files is read as usual.",
  ].join("\n");
}
