// Markdown bodies specific to the issue path: the issue's status reply (per-file results, download
// problems with a one-step alternative, ledger summary), permission refusals, help, and command
// replies. Pure; the shared summary and per-file rendering come from render.ts.
import type { FileResult, ForgetOutcome, LedgerSummary, UploadRow } from "./types.js";
import type { IgnoredLink } from "./issue-exports.js";
import { CONFIG_PATH } from "./repo-config.js";
import {
  DEFAULT_LIMITS,
  SAFE_COMMENT_CHARS,
  fileResultsPart,
  fitCommentBody,
  formatCount,
  formatDate,
  inline,
  renderSummary,
  resultTally,
  summaryParts,
  type SummaryOptions,
} from "./render.js";
import { layout, type Part, type Section } from "./budget.js";
import { instanceBarsChart, seatPoints, seatsOverTimeChart } from "./charts.js";

/** The hidden marker of the one status reply per issue. */
export const ISSUE_MARKER = "<!-- license-sync:issue -->";
/** Where the status reply's summary starts: a later change of the ledger (forget) redraws from here. */
export const SUMMARY_START = "<!-- license-sync:summary-start -->";
const STATE_PREFIX = "<!-- license-sync:issue-state ";

/** The reply to one command comment (a redelivery edits it instead of posting twice). */
export function commandMarker(commentId: number): string {
  return `<!-- license-sync:command ${commentId} -->`;
}

/** Why an attachment could not be read; mirrors the downloader's failures as plain data. */
export type DownloadProblem =
  | { file: string; reason: "not-found"; status: number }
  | { file: string; reason: "sign-in-page" }
  | { file: string; reason: "redirect-refused"; host: string }
  | { file: string; reason: "too-many-redirects" }
  | { file: string; reason: "too-large"; limit: number }
  | { file: string; reason: "timeout" }
  | { file: string; reason: "http-error"; status: number }
  | { file: string; reason: "network-error" }
  | { file: string; reason: "not-an-attachment" };

/** Outcome of every export seen in the issue so far, by a stable key (attachment URL or block). */
export type IssueState = Record<string, "recorded" | "refused">;

export function stateMarker(state: IssueState): string {
  return `${STATE_PREFIX}${JSON.stringify(state).replace(/--/g, "\\u002d\\u002d")} -->`;
}

/** Reads the state back from a previous reply; {} when absent or unreadable. */
export function parseStateMarker(body: string | null | undefined): IssueState {
  if (!body) return {};
  const at = body.indexOf(STATE_PREFIX);
  if (at < 0) return {};
  const end = body.indexOf(" -->", at);
  try {
    const v = JSON.parse(body.slice(at + STATE_PREFIX.length, end)) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) return {};
    const out: IssueState = {};
    for (const [k, s] of Object.entries(v)) if (s === "recorded" || s === "refused") out[k] = s;
    return out;
  } catch {
    return {};
  }
}

/** Every export of the issue was recorded (or already was), and there was at least one. */
export function allRecorded(state: IssueState): boolean {
  const values = Object.values(state);
  return values.length > 0 && values.every((s) => s === "recorded");
}

const code = (t: string) => `\`${t.replace(/[`\r\n]/g, "'").slice(0, 200)}\``;

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${formatCount(Math.round(n / (1024 * 1024)))} MB`;
  if (n >= 1024) return `${formatCount(Math.round(n / 1024))} KB`;
  return `${formatCount(n)} bytes`;
}

function problemLine(p: DownloadProblem): string {
  const why = ((): string => {
    switch (p.reason) {
      case "not-found":
        return `GitHub answered ${p.status}: attachments of a private repository cannot be downloaded by an app`;
      case "sign-in-page":
        return "GitHub answered with a sign-in page, not the file: attachments of a private repository cannot be downloaded by an app";
      case "redirect-refused":
        return `the download redirected to ${inline(p.host, 80)}, which is not a GitHub host, so it was not followed`;
      case "too-many-redirects":
        return "the download redirected too many times";
      case "too-large":
        return `larger than the ${formatBytes(p.limit)} limit`;
      case "timeout":
        return "the download timed out";
      case "http-error":
        return `GitHub answered ${p.status}`;
      case "network-error":
        return "the download failed";
      case "not-an-attachment":
        return "not a GitHub attachment link";
    }
  })();
  return `- ❌ ${code(p.file)}: **not read**: ${why}.`;
}

function ignoredLine(l: IgnoredLink): string {
  const why =
    l.reason === "not-github-host"
      ? `it is on ${inline(l.host, 80)}, not a GitHub host; only files attached to the issue are downloaded`
      : l.reason === "insecure-protocol"
        ? "it is a plain http link"
        : "it is not an attachment link (attach the file to the issue, or commit it)";
  return `- ⏭️ ${code(l.name)}: **ignored**: ${why}.`;
}

export interface AlternativesInput {
  /** The repository's upload page for the export folder. */
  uploadUrl: string;
}

function alternatives(a: AlternativesInput): string[] {
  return [
    "**To record it instead, do one of these:**",
    `- [Upload the file to the export folder](${a.uploadUrl}) and commit it: the app answers on the commit.`,
    "- Or paste the export into a comment as a fenced ```` ```json ```` block (fine for small instances).",
  ];
}

export interface IssueReplyInput {
  heading: string;
  results: readonly FileResult[];
  problems: readonly DownloadProblem[];
  ignored: readonly IgnoredLink[];
  summary: LedgerSummary;
  options: SummaryOptions;
  state: IssueState;
  uploadUrl: string;
}

/** The issue's status reply: per-file results, download problems, ignored links, then the summary. */
export function renderIssueReply(input: IssueReplyInput): string {
  const tally = [input.results.length ? resultTally(input.results) : ""];
  if (input.problems.length) tally.push(`${formatCount(input.problems.length)} not read`);
  if (input.ignored.length) tally.push(`${formatCount(input.ignored.length)} ignored`);
  // The state rides on the first line, which fitCommentBody keeps; the summary marker stays last.
  const parts: Part[] = [ISSUE_MARKER + stateMarker(input.state), `**${input.heading}**: ${tally.filter(Boolean).join(", ")}`, ""];
  if (input.results.length) parts.push(fileResultsPart(input.results));
  const notes = [...input.problems.map(problemLine), ...input.ignored.map(ignoredLine)];
  if (notes.length) parts.push({ head: [], rows: notes, more: (n) => `- … and ${formatCount(n)} more links` });
  if (input.problems.length) parts.push("", ...alternatives(input));
  parts.push("", SUMMARY_START, ...summaryParts(input.summary, input.options, input.results));
  return fitCommentBody(layout(parts, SAFE_COMMENT_CHARS));
}

/**
 * The issue's status reply with its summary redrawn after a later change of the ledger (what each
 * file became stays as it was answered); null for a reply without a summary to redraw.
 */
export function renderIssueReplyTotals(
  current: string,
  input: { summary: LedgerSummary; options: SummaryOptions; forgotten: string; login: string },
): string | null {
  const at = current.indexOf(SUMMARY_START);
  if (at < 0) return null;
  const head = current.slice(0, at);
  const change = `Updated after ${code(`/license-sync forget ${input.forgotten}`)} by @${inline(input.login, 60)}: the totals below are the ledger's now.`;
  const parts: Part[] = [SUMMARY_START, change, "", ...summaryParts(input.summary, input.options)];
  return fitCommentBody(head + layout(parts, Math.max(0, SAFE_COMMENT_CHARS - head.length)));
}

export type RefusedAction = "upload" | "forget" | "command";

/** A polite refusal: who may do what, and that nothing was read or recorded. */
export function renderPermissionRefusal(input: { marker: string; login: string; action: RefusedAction; permission: string }): string {
  const who = `@${inline(input.login, 60)}`;
  const have = input.permission === "none" ? "no access" : `${inline(input.permission, 30)} access`;
  const what =
    input.action === "upload"
      ? `Only people with write access to this repository can record license usage here, and you have ${have}, so nothing was read or recorded.`
      : input.action === "forget"
        ? `Removing an instance needs the maintain or admin role on this repository, and you have ${have}, so nothing was changed.`
        : `Only people with write access to this repository can use license-sync commands, and you have ${have}.`;
  return [input.marker, `Thanks, ${who}. ${what}`, "", "A repository maintainer can do it for you, or give you the access it needs."].join("\n");
}

/** `/license-sync help`, and the short answer to an unknown command. */
export function renderHelp(input: { marker: string; uploadUrl: string; unknown?: string }): string {
  const lines = [input.marker];
  if (input.unknown !== undefined) lines.push(`I do not know the command ${code(input.unknown)}.`, "");
  lines.push(
    "**license-sync** records the license usage exports of your GitHub Enterprise Server instances and counts the seats they consume together, each person once.",
    "",
    "**Upload an export** (people with write access):",
    `- [commit it to the export folder](${input.uploadUrl}), or`,
    "- attach the `.json` or `.json.gz` file to an issue or comment here, or paste it as a ```` ```json ```` block.",
    "",
    "**Add the GHEC license report** (the enterprise's Settings → Enterprise licensing → Export license usage): commit or attach the `.csv`, or paste it as a ```` ```csv ```` block; the summary then leads with the enterprise's seats, GHEC and GHES together.",
    "",
    "**Commands** (in an issue comment, on a line of their own):",
    "- `/license-sync report`: the current seat summary.",
    "- `/license-sync refresh`: fetch the enterprise's license report from GitHub now (needs `enterprise:` in `.github/license-sync.yml`).",
    "- `/license-sync forget <server_id or host name>`: remove a decommissioned instance (maintain or admin role).",
    "- `/license-sync forget cloud`: remove the GHEC license report (maintain or admin role).",
    "- `/license-sync help`: this message.",
  );
  return lines.join("\n");
}

export function renderReportReply(input: {
  marker: string;
  summary: LedgerSummary;
  options: SummaryOptions;
  /** The ledger's upload history, newest first. */
  history?: readonly UploadRow[];
  /** A line above the summary (e.g. why a refresh fetched nothing). */
  notice?: string;
}): string {
  const extras: Part[] = [];
  if (input.history) {
    const chart = seatsOverTimeChart(seatPoints(input.history));
    const table = seatsOverTimePart(input.history);
    if (chart || table) extras.push(["### Seats over time", ...(chart ? ["", chart] : [])].join("\n"));
    if (table) extras.push(table);
  }
  const bars = instanceBarsChart(input.summary.report.instances);
  if (bars) extras.push(["### Where the seats are", "", bars, "", BARS_CAPTION].join("\n"));
  const head: Part[] = [input.marker, ...(input.notice ? [input.notice, ""] : [])];
  return fitCommentBody(layout([...head, ...summaryParts(input.summary, input.options, [], DEFAULT_LIMITS, extras)], SAFE_COMMENT_CHARS));
}

/** `/license-sync refresh` in a ledger whose config names no enterprise. */
export function renderRefreshWithoutEnterprise(): string {
  return (
    `Nothing to refresh: \`${CONFIG_PATH}\` names no \`enterprise\`. Add \`enterprise: <your enterprise's slug>\` there and the app ` +
    "fetches GitHub's license report itself; or commit the license report CSV (your enterprise → **Settings** → **Enterprise licensing** → **Export license usage**)."
  );
}

/** Under the bar chart: xychart has no legend. */
export const BARS_CAPTION = "<sub>Full bar: the instance's accounts. Inner bar: people found only there; the rest are shared with another instance.</sub>";

/** Rows of the seats-over-time table. */
export const SEATS_OVER_TIME_ROWS = 12;

/** The ledger's seats after each recorded upload or removal, newest first, in a collapsed table; null when there is none. */
export function seatsOverTimePart(history: readonly UploadRow[], limit = SEATS_OVER_TIME_ROWS): Section | null {
  const rows = history.filter((h) => h.outcome !== "refused" && h.totals !== null).slice(0, limit);
  if (rows.length === 0) return null;
  return {
    head: ["<details>", `<summary>The ${formatCount(rows.length)} latest changes</summary>`, "", "| When | Instance | Change | Accounts | Seats after |", "|---|---|---|---:|---:|"],
    rows: rows.map(historyLine),
    tail: ["", "</details>"],
    more: (n) => `\n… and ${formatCount(n)} more changes`,
  };
}

function historyLine(h: UploadRow): string {
  const change =
    h.outcome === "removed" ? "removed" : h.added === null || h.removed === null ? "first upload" : `+${formatCount(h.added)} / −${formatCount(h.removed)}`;
  return `| ${formatDate(h.at)} | ${h.subject === "cloud" ? "GHEC license report" : inline(h.hostName ?? "?", 60)} | ${change} | ${formatCount(h.accountCount ?? 0)} | ${formatCount(h.totals!.seats)} |`;
}

export function renderForgetReply(input: {
  marker: string;
  target: string;
  outcome: ForgetOutcome;
  options: SummaryOptions;
}): string {
  const { outcome, marker } = input;
  const target = code(input.target);
  if (outcome.status === "ambiguous") {
    const rows = outcome.candidates.map(
      (c) => `- \`${c.serverId.replace(/`/g, "'")}\`: ${inline(c.hostName, 60)}, GHES ${inline(c.ghesVersion ?? "?", 20)}, last upload ${formatDate(c.lastUploadAt)}`,
    );
    return [
      marker,
      `Several instances are named ${target}, so nothing was removed. Repeat the command with the exact server id:`,
      "",
      ...rows,
      "",
      `For example: \`/license-sync forget ${outcome.candidates[0]?.serverId.replace(/`/g, "'") ?? "<server_id>"}\``,
    ].join("\n");
  }
  if (outcome.status === "not-found") {
    return fitCommentBody(
      layout([marker, `No recorded instance has the server id or host name ${target}; nothing was removed.`, "", ...summaryParts(outcome.summary, input.options)], SAFE_COMMENT_CHARS),
    );
  }
  if (outcome.status === "no-cloud-report") {
    return fitCommentBody(
      [marker, "This repository holds no GHEC license report; nothing was removed.", "", renderSummary(outcome.summary, input.options)].join("\n"),
    );
  }
  if (outcome.status === "removed-cloud") {
    return fitCommentBody(
      [
        marker,
        `Removed the GHEC license report ${code(outcome.report.file)} (recorded ${formatDate(outcome.report.recordedAt)}, ${formatCount(outcome.report.memberCount)} members) from the ledger. The removal is kept in the upload history.`,
        "",
        renderSummary(outcome.summary, input.options),
      ].join("\n"),
    );
  }
  const i = outcome.instance;
  return fitCommentBody(
    layout(
      [
        marker,
        `Removed ${inline(i.hostName, 60)} (\`${i.serverId.replace(/`/g, "'")}\`, ${formatCount(i.accountCount)} accounts) from the ledger. The removal is kept in the upload history.`,
        "",
        ...summaryParts(outcome.summary, input.options),
      ],
      SAFE_COMMENT_CHARS,
    ),
  );
}
