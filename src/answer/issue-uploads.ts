// The issue path's answering steps, shared by the issues and issue_comment handlers: designation
// check, permission check, download, recording, and the issue's one status reply (label, closing).
import { createHash } from "node:crypto";
import type { Context } from "probot";
import type { AppDeps } from "../deps.js";
import type { FileResult, UploadInput } from "../ledger/types.js";
import type { MatchOptions } from "../domain/types.js";
import type { FoundExports } from "../domain/issue-exports.js";
import type { RepoConfig } from "../domain/repo-config.js";
import { renderConfigErrorReply } from "../domain/render.js";
import {
  ISSUE_MARKER,
  allRecorded,
  commandMarker,
  parseStateMarker,
  renderIssueReply,
  renderPermissionRefusal,
  stateMarker,
  type DownloadProblem,
  type IssueState,
} from "../domain/render-issue.js";
import { downloadAttachment } from "../github/attachments.js";
import { upsertComment } from "../github/comments.js";
import { loadDesignation, type RepoRef } from "../github/designation.js";
import { LABEL_RECORDED, LABEL_REFUSED, setOutcomeLabel } from "../github/labels.js";
import { canUpload, describePermission, getPermission } from "../github/permissions.js";
import { githubHosts, summaryOptions, uploadUrl } from "./options.js";
import { refreshDashboard } from "./dashboard.js";
import { isReplyImpossible } from "./reply-impossible.js";
import { withLiveCloudReport } from "./cloud-refresh.js";

export type IssueContext = Context<"issues.opened" | "issues.edited">;
export type CommentContext = Context<"issue_comment.created">;
type AnyIssueContext = IssueContext | CommentContext;
type Octokit = Context["octokit"];
type Log = Context["log"];


async function installationToken(octokit: Octokit): Promise<string | null> {
  // Probot 14 (octokit-auth-probot → @octokit/auth-app) answers { type: "token", tokenType: "installation", token }.
  const auth = (await octokit.auth({ type: "installation" })) as { token?: unknown } | undefined;
  return typeof auth?.token === "string" ? auth.token : null;
}

export interface UploadRequest {
  /** Where the exports were found: "body" (issue body) or "comment-<id>". */
  origin: string;
  heading: string;
  found: FoundExports;
  /** Everything the text holds now, when `found` is only part of it (an edit's additions). */
  present?: FoundExports;
  commentId?: number;
}

type Item = FoundExports["attachments"][number] | FoundExports["blocks"][number];

const digest = (text: string): string => createHash("sha256").update(text).digest("base64url").slice(0, 22);

/**
 * The state key of an attachment (a hash of its URL) or an inline block (a hash of its content: a
 * position would move when an edit adds a block above). No user text: the reply is redacted on its
 * way out, and a key holding an address would come back masked and match nothing.
 */
export function stateKey(origin: string, item: Item): string {
  return "url" in item ? `${origin}:file-${digest(item.url)}` : `${origin}:block-${createHash("sha256").update(item.text).digest("hex").slice(0, 16)}`;
}

function stateKeys(origin: string, found: FoundExports): string[] {
  return [...found.attachments, ...found.blocks].map((item) => stateKey(origin, item));
}

/**
 * `state` with attachments' keys from replies written before keys were hashed (`<origin>:<URL>`)
 * renamed to today's, for the attachments `found` holds: such an issue's exports keep their status
 * and the marker keeps one entry per export.
 */
export function adoptPlainUrlKeys(state: IssueState, origin: string, found: FoundExports): IssueState {
  const out = { ...state };
  for (const a of found.attachments) {
    const old = `${origin}:${a.url}`;
    const status = out[old];
    if (status === undefined) continue;
    delete out[old];
    out[stateKey(origin, a)] ??= status;
  }
  return out;
}

export interface DesignatedIssue {
  repo: RepoRef;
  config: RepoConfig;
  htmlUrl: string;
  issueNumber: number;
  issueOpen: boolean;
  labels: string[];
  login: string;
  log: Log;
}

/**
 * Designation check; null when there is nothing to do. A broken config gets its reply (into the
 * issue's status comment) and null.
 */
export async function designatedIssue(context: AnyIssueContext, deps: AppDeps, log: Log): Promise<DesignatedIssue | null> {
  const designation = await loadDesignation(context, deps.settings);
  if (!designation) {
    log.info({ outcome: "not-designated" }, "issue path: repository not designated, ignored");
    return null;
  }
  const { issue, repository, sender } = context.payload;
  const target = { kind: "issue", owner: designation.repo.owner, repo: designation.repo.repo, issueNumber: issue.number } as const;
  if (designation.status === "config-error") {
    await upsertComment(context.octokit, deps, target, ISSUE_MARKER, renderConfigErrorReply(ISSUE_MARKER, designation.errors));
    log.info({ outcome: "config-error", errors: designation.errors.length }, "issue path: configuration invalid, replied");
    return null;
  }
  return {
    repo: designation.repo,
    config: designation.config,
    htmlUrl: repository.html_url,
    issueNumber: issue.number,
    issueOpen: issue.state === "open",
    labels: (issue.labels ?? []).map((l) => (typeof l === "string" ? l : l.name)),
    login: sender.login,
    log,
  };
}

function problemOf(file: string, failure: Exclude<Awaited<ReturnType<typeof downloadAttachment>>, { ok: true }>): DownloadProblem {
  const { ok: _ok, ...rest } = failure;
  return { file, ...rest } as DownloadProblem;
}

/** Permission check, download, one recordUploads call, the status reply, label and closing. */
export async function processUploads(context: AnyIssueContext, deps: AppDeps, issue: DesignatedIssue, req: UploadRequest): Promise<void> {
  const { octokit } = context;
  const { repo, config, log } = issue;
  const target = { kind: "issue", owner: repo.owner, repo: repo.repo, issueNumber: issue.issueNumber } as const;

  const permission = await getPermission(octokit, repo.owner, repo.repo, issue.login);
  if (!canUpload(permission)) {
    // The file is not read at all. A comment gets its own answer so the issue's status stays intact.
    const refusal = (marker: string) => renderPermissionRefusal({ marker, login: issue.login, action: "upload", permission: describePermission(permission) });
    if (req.commentId === undefined) {
      // The body's exports are refused, and stay so until someone with write access adds them again.
      await upsertComment(octokit, deps, target, ISSUE_MARKER, (current) => {
        const refused = adoptPlainUrlKeys(parseStateMarker(current), req.origin, req.present ?? req.found);
        for (const k of stateKeys(req.origin, req.found)) refused[k] = "refused";
        return refusal(ISSUE_MARKER + stateMarker(refused));
      });
    } else {
      const marker = commandMarker(req.commentId);
      await upsertComment(octokit, deps, target, marker, refusal(marker));
    }
    log.info({ outcome: "refused-permission", role: permission.roleName }, "issue path: uploader lacks write access, nothing read");
    return;
  }

  const hosts = githubHosts(deps.settings);
  const inputs: UploadInput[] = [];
  const keys: string[] = [];
  const problems: DownloadProblem[] = [];
  const problemKeys: string[] = [];
  const source = (file: string) =>
    req.commentId === undefined
      ? ({ kind: "issue", issueNumber: issue.issueNumber, file } as const)
      : ({ kind: "issue", issueNumber: issue.issueNumber, commentId: req.commentId, file } as const);

  if (req.found.attachments.length) {
    const token = await installationToken(octokit);
    for (const a of req.found.attachments) {
      const got = await downloadAttachment(a.url, {
        ...hosts,
        token,
        extraHosts: deps.settings.attachmentHosts,
        timeoutMs: deps.settings.attachmentTimeoutMs,
        maxBytes: deps.settings.maxExportBytes,
      });
      const key = stateKey(req.origin, a);
      if (got.ok) {
        inputs.push({ file: a.name, bytes: got.bytes, source: source(a.name) });
        keys.push(key);
      } else {
        problems.push(problemOf(a.name, got));
        problemKeys.push(key);
      }
    }
  }
  for (const b of req.found.blocks) {
    inputs.push({ file: b.name, bytes: new TextEncoder().encode(b.text), source: source(b.name) });
    keys.push(stateKey(req.origin, b));
  }

  const ledgerKey = { repoId: repo.id, fullName: repo.fullName };
  const match: MatchOptions = config.match;
  let results: FileResult[] = [];
  let summary;
  if (inputs.length) {
    const outcome = await deps.ledger.recordUploads({ ledger: ledgerKey, uploader: issue.login, deliveryId: context.id, options: match }, inputs);
    results = outcome.results;
    summary = outcome.summary;
  } else {
    summary = await deps.ledger.summary(ledgerKey, match);
  }
  const live = await withLiveCloudReport(deps, { ledger: ledgerKey, config, summary, uploader: issue.login, deliveryId: context.id, log });
  summary = live.summary;

  // One read-merge-write of the status comment (held like every reply): an edited issue body
  // replaces what the body held before, but what it still holds keeps its status; comments add to
  // the issue's state.
  const still = new Set(req.present ? stateKeys(req.origin, req.present) : []);
  let state: IssueState = {};
  const { action } = await upsertComment(octokit, deps, target, ISSUE_MARKER, (current) => {
    const previous = adoptPlainUrlKeys(parseStateMarker(current), req.origin, req.present ?? req.found);
    state = Object.fromEntries(Object.entries(previous).filter(([k]) => !k.startsWith(`${req.origin}:`) || still.has(k)));
    results.forEach((r, i) => {
      state[keys[i] ?? `${req.origin}:result-${digest(r.file)}`] = r.status === "refused" ? "refused" : "recorded";
    });
    for (const k of problemKeys) state[k] = "refused";
    return renderIssueReply({
      heading: req.heading,
      results,
      problems,
      ignored: req.found.ignored,
      summary,
      options: summaryOptions(config),
      state,
      uploadUrl: uploadUrl(issue.htmlUrl, repo, config),
    });
  });

  const done = allRecorded(state);
  let closed = false;
  try {
    if (Object.keys(state).length) {
      await setOutcomeLabel(octokit, { ...target, current: issue.labels }, done ? LABEL_RECORDED : LABEL_REFUSED);
    }
    if (done && config.closeIssuesWhenRecorded && issue.issueOpen) {
      await octokit.rest.issues.update({ owner: repo.owner, repo: repo.repo, issue_number: issue.issueNumber, state: "closed", state_reason: "completed" });
      closed = true;
    }
  } catch (error) {
    // The ledger is safe: a locked or deleted issue must not fail the delivery (a redelivery would not help).
    if (!isReplyImpossible(error)) throw error;
    log.warn({ outcome: "reply-impossible", target: "issue", status: (error as { status?: number }).status }, "issue path: status reply cannot be written");
  }
  if (inputs.length || live.changed) await refreshDashboard(deps, { octokit, repo, config, htmlUrl: issue.htmlUrl, log, summary });
  const count = (s: FileResult["status"]) => results.filter((r) => r.status === s).length;
  log.info(
    {
      outcome: done ? "recorded" : Object.keys(state).length ? "refused" : "ignored",
      recorded: count("recorded"),
      unchanged: count("unchanged"),
      refused: count("refused"),
      notRead: problems.length,
      ignoredLinks: req.found.ignored.length,
      seats: summary.totals.seats,
      comment: action,
      closed,
    },
    "issue path: exports processed",
  );
}


