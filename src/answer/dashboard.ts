// The dashboard issue: one per ledger, created on the first recorded upload and edited after every
// change of the ledger. Found by its hidden marker on an issue the app's own bot opened (a person's
// issue copying the marker is never taken), via the dashboard label and the issue number the ledger
// remembers. Closed by a person: reopened on the next change, with one note. Locked or deleted: a
// new one is made. Replicas take turns through a claim in the ledger database; duplicates made
// before that (or by hand) are closed with a note, the oldest kept.
import type { Context } from "probot";
import type { AppDeps } from "../deps.js";
import type { RepoConfig } from "../domain/repo-config.js";
import type { LedgerSummary } from "../domain/types.js";
import { DASHBOARD_MARKER, renderDashboard } from "../domain/render-dashboard.js";
import { replyMarker, upsertComment } from "../github/comments.js";
import type { RepoRef } from "../github/designation.js";
import { summaryOptions, uploadUrl } from "./options.js";
import { isReplyImpossible } from "./reply-impossible.js";

type Octokit = Context["octokit"];
type Log = Context["log"];

/** Every dashboard issue carries it: the issue list is asked by label, not read whole. */
export const DASHBOARD_LABEL = "license-usage: dashboard";
/** Rows of upload history the dashboard's chart and table are drawn from. */
export const DASHBOARD_HISTORY_ROWS = 2000;
const REOPENED_MARKER = replyMarker("dashboard-reopened");

interface ListedIssue {
  number: number;
  state: string;
  locked?: boolean;
  body?: string | null;
  title: string;
  user?: { type?: string; login?: string } | null;
  pull_request?: unknown;
}

export interface DashboardTarget {
  octokit: Octokit;
  repo: RepoRef;
  config: RepoConfig;
  /** https://github.com/owner/name */
  htmlUrl: string;
  log: Log;
  /** The summary just computed by the caller, if any (saves reading it again). */
  summary?: LedgerSummary;
  now?: Date;
}

/**
 * The app's own dashboard issues, oldest first: those the label finds, and the one remembered in the
 * ledger (found even when someone removed the label, or the list lags behind its creation). Only
 * the app's own bot account counts as author: anyone can paste the marker.
 */
async function findDashboards(deps: AppDeps, octokit: Octokit, repo: RepoRef, stored: number | null): Promise<ListedIssue[]> {
  const found: ListedIssue[] = [];
  const ours = async (issue: ListedIssue) => !issue.pull_request && !!issue.body?.startsWith(DASHBOARD_MARKER) && (await deps.ownBot.isOwn(issue.user));
  const iterator = octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
    owner: repo.owner,
    repo: repo.repo,
    labels: DASHBOARD_LABEL,
    state: "all",
    sort: "created",
    direction: "asc",
    per_page: 100,
  });
  for await (const page of iterator) {
    for (const issue of page.data as ListedIssue[]) if (await ours(issue)) found.push(issue);
  }
  if (stored !== null && !found.some((i) => i.number === stored)) {
    const issue = await octokit.rest.issues.get({ owner: repo.owner, repo: repo.repo, issue_number: stored }).then(
      ({ data }) => data as ListedIssue,
      (error: unknown) => {
        // Deleted (404) or transferred away (410): a new one is made.
        if ([404, 410].includes((error as { status?: number }).status ?? 0)) return null;
        throw error;
      },
    );
    if (issue && (await ours(issue))) found.push(issue);
  }
  return found.sort((a, b) => a.number - b.number);
}

export type DashboardOutcome = "disabled" | "no-uploads" | "created" | "updated" | "reopened" | "unchanged" | "reply-impossible";

/**
 * Brings the dashboard up to date with the ledger. Called after the ledger is safe; a refusal a
 * redelivery cannot fix (locked, gone, 403/404/410) is logged as "reply-impossible", never thrown.
 */
export async function refreshDashboard(deps: AppDeps, t: DashboardTarget): Promise<DashboardOutcome> {
  const { octokit, repo, config, log } = t;
  if (!config.dashboard.enabled) return "disabled";
  try {
    // One replica at a time per ledger: of two at once, one creates and the other edits.
    const outcome = await deps.ledger.replies.hold(`dashboard ${repo.id}`, async (stored) => {
      const done = await refresh(deps, t, stored);
      return { value: done.outcome, replyId: done.issue };
    });
    log.info({ outcome: `dashboard-${outcome}` }, "dashboard issue brought up to date");
    return outcome;
  } catch (error) {
    if (!isReplyImpossible(error)) throw error;
    log.warn({ outcome: "reply-impossible", target: "dashboard", status: (error as { status?: number }).status }, "dashboard issue cannot be written");
    return "reply-impossible";
  }
  async function refresh(deps: AppDeps, t: DashboardTarget, stored: number | null): Promise<{ outcome: DashboardOutcome; issue: number | null }> {
    const ledgerKey = { repoId: repo.id, fullName: repo.fullName };
    const summary = t.summary ?? (await deps.ledger.summary(ledgerKey, config.match));
    const history = await deps.ledger.history(ledgerKey, DASHBOARD_HISTORY_ROWS);
    const all = await findDashboards(deps, octokit, repo, stored);
    // Locked ones cannot be ours to keep (people cannot comment); a new one replaces them.
    const usable = all.filter((i) => !i.locked);
    if (usable.length === 0 && !history.some((h) => h.outcome === "recorded")) return { outcome: "no-uploads", issue: null };

    const body = renderDashboard({
      summary,
      options: summaryOptions(config, t.now),
      history,
      repoUrl: t.htmlUrl,
      uploadUrl: uploadUrl(t.htmlUrl, repo, config),
    });
    const params = { owner: repo.owner, repo: repo.repo };
    const title = config.dashboard.title;
    const keep = usable[0];

    let outcome: DashboardOutcome;
    let kept = keep;
    if (!keep) {
      const { data } = await octokit.rest.issues.create({ ...params, title, body, labels: [DASHBOARD_LABEL] });
      kept = { number: data.number, state: "open", title, body };
      outcome = "created";
    } else if (keep.state !== "open") {
      await octokit.rest.issues.update({ ...params, issue_number: keep.number, state: "open", title, body });
      await upsertComment(
        octokit,
        deps,
        { kind: "issue", ...params, issueNumber: keep.number },
        REOPENED_MARKER,
        "Reopened: license-sync keeps this dashboard current after every change of the ledger. " +
          "To stop it, set `dashboard: false` in `.github/license-sync.yml`.",
      );
      outcome = "reopened";
    } else if (keep.body === body && keep.title === title) {
      outcome = "unchanged";
    } else {
      await octokit.rest.issues.update({ ...params, issue_number: keep.number, title, body });
      outcome = "updated";
    }

    // A concurrent delivery (another replica) may have created one too: keep the oldest.
    // (The one just made is kept even when the list does not show it yet.)
    let after = usable;
    if (outcome === "created") {
      const listed = (await findDashboards(deps, octokit, repo, null)).filter((i) => !i.locked);
      after = listed.some((i) => i.number === kept!.number) ? listed : [...listed, kept!].sort((a, b) => a.number - b.number);
    }
    const oldest = after[0] ?? kept!;
    for (const dup of after.filter((i) => i.number !== oldest.number && i.state === "open")) {
      await octokit.rest.issues.createComment({ ...params, issue_number: dup.number, body: `Closed: a duplicate of the license usage dashboard #${oldest.number}.` });
      await octokit.rest.issues.update({ ...params, issue_number: dup.number, state: "closed", state_reason: "not_planned" });
    }
    return { outcome, issue: oldest.number };
  }
}
