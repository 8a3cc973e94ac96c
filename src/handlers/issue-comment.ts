// issue_comment.created: exports in the new comment go through the issue upload flow; a
// `/license-sync` command gets its own reply. Any other comment costs no API call.
import type { AppDeps } from "../deps.js";
import { parseCommand, type Command } from "../domain/commands.js";
import { findExports, hasAnything } from "../domain/issue-exports.js";
import {
  commandMarker,
  ISSUE_MARKER,
  renderForgetReply,
  renderIssueReplyTotals,
  renderHelp,
  renderPermissionRefusal,
  renderRefreshWithoutEnterprise,
  renderReportReply,
  SEATS_OVER_TIME_ROWS,
} from "../domain/render-issue.js";
import { editCommentIfPresent, upsertComment } from "../github/comments.js";
import { designatedByEnvironment } from "../github/designation.js";
import { canForget, canUpload, describePermission, getPermission } from "../github/permissions.js";
import { githubHosts, summaryOptions, uploadUrl } from "../answer/options.js";
import { designatedIssue, processUploads, type CommentContext, type DesignatedIssue } from "../answer/issue-uploads.js";
import { refreshDashboard } from "../answer/dashboard.js";
import { withLiveCloudReport } from "../answer/cloud-refresh.js";

async function runCommand(context: CommentContext, deps: AppDeps, issue: DesignatedIssue, command: Command): Promise<void> {
  const { octokit, payload } = context;
  const { repo, config, log } = issue;
  const commentId = payload.comment.id;
  const marker = commandMarker(commentId);
  const target = { kind: "issue", owner: repo.owner, repo: repo.repo, issueNumber: issue.issueNumber } as const;
  const reply = (body: string) => upsertComment(octokit, deps, target, marker, body);

  if (command.kind === "help" || command.kind === "unknown") {
    // Help reveals nothing: it answers anyone who asks, with no permission look-up.
    await reply(
      renderHelp({
        marker,
        uploadUrl: uploadUrl(issue.htmlUrl, repo, config),
        ...(command.kind === "unknown" ? { unknown: `/license-sync ${command.word}` } : {}),
      }),
    );
    log.info({ outcome: command.kind === "help" ? "help" : "unknown-command" }, "issue path: help sent");
    return;
  }
  const permission = await getPermission(octokit, repo.owner, repo.repo, issue.login);
  const role = describePermission(permission);
  if (!canUpload(permission)) {
    await reply(renderPermissionRefusal({ marker, login: issue.login, action: "command", permission: role }));
    log.info({ outcome: "refused-permission", command: command.kind, role: permission.roleName }, "issue path: command refused");
    return;
  }
  const ledgerKey = { repoId: repo.id, fullName: repo.fullName };
  const options = summaryOptions(config);
  switch (command.kind) {
    case "report":
    case "refresh": {
      // refresh: the live cloud report is fetched whatever its age (report: when it is due).
      const force = command.kind === "refresh";
      const stored = await deps.ledger.summary(ledgerKey, config.match);
      const live = { ledger: ledgerKey, config, summary: stored, uploader: issue.login, deliveryId: context.id, force, log };
      const { summary, changed } = await withLiveCloudReport(deps, live);
      const history = await deps.ledger.history(ledgerKey, SEATS_OVER_TIME_ROWS * 4);
      const notice = force && !config.enterprise ? renderRefreshWithoutEnterprise() : undefined;
      await reply(renderReportReply({ marker, summary, options, history, ...(notice ? { notice } : {}) }));
      // A fetch that recorded a new cloud report changed the ledger: the dashboard shows it.
      if (changed) await refreshDashboard(deps, { octokit, repo, config, htmlUrl: issue.htmlUrl, log, summary });
      log.info({ outcome: command.kind, seats: summary.totals.seats }, `issue path: ${command.kind} sent`);
      return;
    }
    case "forget": {
      if (!canForget(permission)) {
        await reply(renderPermissionRefusal({ marker, login: issue.login, action: "forget", permission: role }));
        log.info({ outcome: "refused-permission", command: "forget", role: permission.roleName }, "issue path: forget refused");
        return;
      }
      const ctx = { ledger: ledgerKey, uploader: issue.login, deliveryId: context.id, options: config.match };
      const source = { kind: "command", issueNumber: issue.issueNumber, commentId } as const;
      // `forget cloud` removes the GHEC license report (an instance named "cloud": use its server_id).
      const outcome =
        command.target.toLowerCase() === "cloud"
          ? await deps.ledger.forgetCloud(ctx, source)
          : await deps.ledger.forget(ctx, command.target, source);
      await reply(renderForgetReply({ marker, target: command.target, outcome, options }));
      if (outcome.status === "removed" || outcome.status === "removed-cloud") {
        // The issue's status reply and the dashboard show the totals as they are now.
        await editCommentIfPresent(octokit, deps, target, ISSUE_MARKER, (current) =>
          renderIssueReplyTotals(current, { summary: outcome.summary, options, forgotten: command.target, login: issue.login }),
        );
        await refreshDashboard(deps, { octokit, repo, config, htmlUrl: issue.htmlUrl, log, summary: outcome.summary });
      }
      log.info(
        { outcome: `forget-${outcome.status}`, ...(outcome.status === "removed" ? { serverId: outcome.instance.serverId } : {}) },
        "issue path: forget processed",
      );
      return;
    }
  }
}

export async function onIssueComment(context: CommentContext, deps: AppDeps): Promise<void> {
  const { payload } = context;
  const log = context.log.child({ delivery: context.id, repo: payload.repository.full_name, issue: payload.issue.number });
  if (payload.sender.type === "Bot" || payload.comment.user?.type === "Bot") {
    log.debug({ outcome: "bot" }, "issue path: bot comment, ignored");
    return;
  }
  if (payload.issue.pull_request) {
    log.debug({ outcome: "pull-request" }, "issue path: pull request comment, ignored");
    return;
  }
  // Cheap rejections before any scan of the text: a repository outside LICENSE_SYNC_REPOS.
  if (designatedByEnvironment(deps.settings, payload.repository.full_name) === false) return;
  const command = parseCommand(payload.comment.body);
  const found = findExports(payload.comment.body, githubHosts(deps.settings), "comment");
  // A plain comment: no API call at all.
  if (!command && !hasAnything(found)) return;

  const issue = await designatedIssue(context, deps, log);
  if (!issue) return;
  if (hasAnything(found)) {
    await processUploads(context, deps, issue, {
      origin: `comment-${payload.comment.id}`,
      heading: `Comment by @${issue.login}`,
      found,
      commentId: payload.comment.id,
    });
  }
  if (command) await runCommand(context, deps, issue, command);
}
