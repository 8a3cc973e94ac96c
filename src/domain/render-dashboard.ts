// The dashboard issue's body: one issue per ledger that the app keeps current (like Renovate's
// Dependency Dashboard). Pure: the summary, the upload history and the repository's URLs in,
// Markdown out, sized by the same budget as the replies.
import type { LedgerSummary, UploadRow, UploadSource } from "./types.js";
import { layout, type Part } from "./budget.js";
import { savingsOverview } from "./count.js";
import { instanceBarsChart, seatPoints, seatsOverTimeChart } from "./charts.js";
import { BARS_CAPTION, seatsOverTimePart } from "./render-issue.js";
import { DEFAULT_LIMITS, SAFE_COMMENT_CHARS, ageInDays, fitCommentBody, formatAge, formatCount, inline, summaryParts, type SummaryOptions } from "./render.js";

/** The hidden marker that identifies the dashboard issue (with the app's own authorship). */
export const DASHBOARD_MARKER = "<!-- license-sync:dashboard -->";

export interface DashboardInput {
  summary: LedgerSummary;
  options: SummaryOptions;
  /** The ledger's upload history, newest first. */
  history: readonly UploadRow[];
  /** https://github.com/owner/name */
  repoUrl: string;
  /** The repository's upload page for the export folder. */
  uploadUrl: string;
}

/** A link to where an upload came from: the commit, the issue or the comment. */
export function sourceLink(repoUrl: string, source: UploadSource): string {
  if (source.kind === "commit") return `[${source.sha.slice(0, 7)}](${repoUrl}/commit/${source.sha})`;
  if (source.kind === "api") return "fetched from GitHub";
  const anchor = source.commentId !== undefined ? `#issuecomment-${source.commentId}` : "";
  return `[#${source.issueNumber}](${repoUrl}/issues/${source.issueNumber}${anchor})`;
}

/** Refused uploads not yet followed by a recorded upload of the same instance (or the same file). */
export function refusedWaiting(history: readonly UploadRow[]): UploadRow[] {
  const fixed = new Set<string>();
  const waiting: UploadRow[] = [];
  const fileOf = (s: UploadSource) => (s.kind === "commit" ? `commit:${s.path}` : s.kind === "issue" ? `issue:${s.issueNumber}:${s.file}` : s.kind);
  for (const h of history) {
    // Newest first: a recorded upload fixes the refusals before it.
    if (h.outcome === "recorded") {
      if (h.serverId) fixed.add(`server:${h.serverId}`);
      fixed.add(fileOf(h.source));
    } else if (h.outcome === "refused" && !fixed.has(h.serverId ? `server:${h.serverId}` : fileOf(h.source)) && !fixed.has(fileOf(h.source))) {
      waiting.push(h);
      fixed.add(h.serverId ? `server:${h.serverId}` : fileOf(h.source));
    }
  }
  return waiting;
}

function fileName(s: UploadSource): string {
  return s.kind === "commit" ? s.path : s.kind === "issue" ? s.file : s.kind;
}

function nextSteps(input: DashboardInput): Part[] {
  const { summary, options, history, repoUrl } = input;
  const records = summary.instances;
  const stale = records.filter((r) => ageInDays(r.lastUploadAt, options.now) > options.staleAfterDays);
  const refused = refusedWaiting(history);
  const savings = savingsOverview(summary.report, 0);
  const parts: Part[] = ["### What to do next", ""];
  if (!stale.length && !refused.length && !savings.logins) {
    parts.push(`Nothing: every instance was uploaded within ${options.staleAfterDays} days and no file is waiting for a fix.`, "");
  }
  if (stale.length) {
    parts.push({
      head: [`**Re-export ${stale.length === 1 ? "this stale instance" : `these ${formatCount(stale.length)} stale instances`}** (no upload for over ${options.staleAfterDays} days):`],
      rows: stale.map((r) => `- ${inline(r.hostName, 60)}: last upload ${formatAge(r.lastUploadAt, options.now)}`),
      tail: [""],
      more: (n) => `- … and ${formatCount(n)} more`,
    });
  }
  if (refused.length) {
    parts.push({
      head: [`**Fix ${refused.length === 1 ? "this refused file" : `these ${formatCount(refused.length)} refused files`}** and upload ${refused.length === 1 ? "it" : "them"} again:`],
      rows: refused.map((h) => `- \`${inline(fileName(h.source), 80)}\` (${sourceLink(repoUrl, h.source)}): ${inline(h.errorSummary ?? "refused", 300)}`),
      tail: [""],
      more: (n) => `- … and ${formatCount(n)} more`,
    });
  }
  if (savings.logins) {
    const { seats } = savings;
    parts.push(
      `**Possible savings:** up to ${formatCount(seats)} ${seats === 1 ? "seat" : "seats"} from ${formatCount(savings.logins)} ${savings.logins === 1 ? "login" : "logins"} on several instances under different primary e-mails (see below).`,
      "",
    );
  }
  parts.push(`[Upload a new export](${input.uploadUrl}), or attach one to an issue here.`, "");
  return parts;
}

export function renderDashboard(input: DashboardInput): string {
  const { history, repoUrl } = input;
  // "As of" the ledger's last event, not the moment of rendering: with nothing new, the body comes
  // out the same (ages count whole days), so the app skips the write.
  const summary = history[0] ? { ...input.summary, generatedAt: history[0].at } : input.summary;
  const latest = new Map<string, UploadRow>();
  for (const h of history) if (h.outcome === "recorded" && h.serverId && !latest.has(h.serverId)) latest.set(h.serverId, h);
  const charts: Part[] = [];
  const line = seatsOverTimeChart(seatPoints(history));
  if (line) charts.push(["### Seats over time", "", line].join("\n"), "");
  const bars = instanceBarsChart(summary.report.instances);
  if (bars) charts.push(["### Where the seats are", "", bars, "", BARS_CAPTION].join("\n"), "");
  const table = seatsOverTimePart(history);
  const parts: Part[] = [
    DASHBOARD_MARKER,
    "_This issue is kept current by license-sync after every change of the ledger: edits to it are overwritten. " +
      "Set `dashboard: false` in `.github/license-sync.yml` to turn it off._",
    "",
    ...summaryParts(summary, input.options, [], DEFAULT_LIMITS, table ? [table] : [], {
      lead: [...nextSteps(input), ...charts],
      instanceLink: (serverId) => {
        const h = latest.get(serverId);
        return h ? sourceLink(repoUrl, h.source) : "—";
      },
    }),
  ];
  return fitCommentBody(layout(parts, SAFE_COMMENT_CHARS));
}
