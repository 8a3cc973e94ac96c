// push: export files committed to the designated branch are recorded in the repository's ledger;
// the answer is one commit comment (edited on redelivery) and a "license usage" check run.
import type { Context } from "probot";
import type { AppDeps } from "../deps.js";
import type { UploadInput } from "../ledger/types.js";
import { loadDesignation, designatedByEnvironment, repoRef } from "../github/designation.js";
import { changedExportFiles, pushCaps, readExportFiles, skippedResults, NULL_SHA, TruncatedTreeError } from "../github/push-files.js";
import { replyMarker, upsertComment } from "../github/comments.js";
import { publishCheckRun } from "../github/checks.js";
import { checkContent } from "../github/check-results.js";
import { renderConfigErrorReply, renderTruncatedPushReply, renderUploadReply } from "../domain/render.js";
import { withLiveCloudReport } from "../answer/cloud-refresh.js";
import { CONFIG_PATH, DEFAULT_EXPORT_PATHS } from "../domain/repo-config.js";
import { summaryOptions } from "../answer/options.js";
import { refreshDashboard } from "../answer/dashboard.js";

export const PUSH_REPLY_MARKER = replyMarker("push");

/** Injected clock, so rendered ages are testable. */
export type Clock = () => Date;

export async function onPush(context: Context<"push">, deps: AppDeps, now: Clock = () => new Date()): Promise<void> {
  const p = context.payload;
  const repo = repoRef(p);
  if (!repo) return;
  const log = context.log.child({ delivery: context.id, repo: repo.fullName, event: "push" });

  const ignore = (reason: string) => log.debug({ outcome: "ignored", reason }, "push ignored");

  // Everything decidable from the payload alone is decided before any API call.
  if (!p.ref.startsWith("refs/heads/")) return ignore("not a branch");
  if (p.deleted || p.after === NULL_SHA) return ignore("branch deletion");
  // Automated pushes (Actions, other apps' bots) are answered like a person's; only the app's own
  // commits are not, so it never answers itself.
  if (await deps.ownBot.isOwn(p.sender)) return ignore("pushed by this app");
  if (designatedByEnvironment(deps.settings, repo.fullName) === false) return ignore("repository not designated");

  const designation = await loadDesignation(context, deps.settings);
  if (!designation) return ignore("repository not designated");
  const branch = p.ref.slice("refs/heads/".length);

  if (designation.status === "config-error") {
    // The configured branch and paths are unknown: answer pushes to the default branch that touch
    // the config file or a default export path, not every push.
    if (branch !== repo.defaultBranch) return ignore("config error, not the default branch");
    const params = { owner: repo.owner, repo: repo.repo };
    const touched = await changedExportFiles(context.octokit, params, p.before, p.after, [CONFIG_PATH, ...DEFAULT_EXPORT_PATHS]);
    if (touched.length === 0) return ignore("config error, push touches neither the config nor an export");
    const body = renderConfigErrorReply(PUSH_REPLY_MARKER, designation.errors);
    await upsertComment(context.octokit, deps, { kind: "commit", ...params, sha: p.after }, PUSH_REPLY_MARKER, body);
    await publishCheckRun(context.octokit, {
      ...params,
      headSha: p.after,
      conclusion: "failure",
      title: `${CONFIG_PATH} cannot be used`,
      summary: body,
      annotations: [],
    });
    log.info({ outcome: "config-error", keys: designation.errors.map((e) => e.key) }, "configuration refused");
    return;
  }

  const { config } = designation;
  if (branch !== (config.branch ?? repo.defaultBranch)) return ignore("not the designated branch");

  const params = { owner: repo.owner, repo: repo.repo };
  let files;
  try {
    files = await changedExportFiles(context.octokit, params, p.before, p.after, config.paths);
  } catch (error) {
    if (!(error instanceof TruncatedTreeError)) throw error;
    // A user's situation, not a failure of the app: say what happened and what to do.
    const body = renderTruncatedPushReply(PUSH_REPLY_MARKER, p.after.slice(0, 7));
    await upsertComment(context.octokit, deps, { kind: "commit", ...params, sha: p.after }, PUSH_REPLY_MARKER, body);
    await publishCheckRun(context.octokit, { ...params, headSha: p.after, conclusion: "failure", title: "Push too large to list its files", summary: body, annotations: [] });
    log.info({ outcome: "tree-truncated" }, "push too large to list, replied");
    return;
  }
  if (files.length === 0) {
    log.info({ outcome: "no-exports" }, "push changed no export file");
    return;
  }

  const caps = pushCaps(deps.settings);
  const read = await readExportFiles(context.octokit, params, files, caps);
  const inputs: UploadInput[] = read.files.map((f) => ({ file: f.path, bytes: f.bytes, source: { kind: "commit", sha: p.after, path: f.path } }));

  const uploader = p.sender?.login ?? p.pusher.name;
  const ledger = { repoId: repo.id, fullName: repo.fullName };
  const recorded = await deps.ledger.recordUploads({ ledger, uploader, deliveryId: context.id, options: config.match }, inputs);
  const results = [...recorded.results, ...skippedResults(read.skipped, caps)];
  const { summary } = await withLiveCloudReport(deps, { ledger, config, summary: recorded.summary, uploader, deliveryId: context.id, log, now: now() });

  const shortSha = p.after.slice(0, 7);
  const body = renderUploadReply({
    marker: PUSH_REPLY_MARKER,
    heading: `License usage in ${shortSha}`,
    results,
    summary,
    options: summaryOptions(config, now()),
  });
  const comment = await upsertComment(context.octokit, deps, { kind: "commit", ...params, sha: p.after }, PUSH_REPLY_MARKER, body);

  const refusedBytes = new Map(inputs.filter((i) => results.some((r) => r.file === i.file && r.status === "refused")).map((i) => [i.file, i.bytes]));
  const check = checkContent(
    results,
    refusedBytes,
    deps.settings.maxExportBytes,
    (summary.totals.enterpriseSeats !== undefined ? `Enterprise seats (GHEC and GHES together): **${summary.totals.enterpriseSeats}**. GHES seats: ` : "Seats consumed: ") +
      `**${summary.totals.seats}** (${summary.totals.accounts} accounts, ${summary.totals.deduplicated} deduplicated, ${summary.totals.instances} instances).`,
  );
  await publishCheckRun(context.octokit, { ...params, headSha: p.after, ...check });

  await refreshDashboard(deps, { octokit: context.octokit, repo, config, htmlUrl: p.repository.html_url, log, summary, now: now() });

  const count = (s: string) => results.filter((r) => r.status === s).length;
  log.info(
    {
      outcome: check.conclusion === "success" ? "recorded" : "refused",
      files: results.length,
      recorded: count("recorded"),
      unchanged: count("unchanged"),
      refused: count("refused"),
      skipped: read.skipped.length,
      seats: summary.totals.seats,
      comment: comment.action,
    },
    "push processed",
  );
}
