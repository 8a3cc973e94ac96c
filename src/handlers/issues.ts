// issues.opened / issues.edited: exports attached to or pasted in the issue body are recorded and
// answered in the issue's one status reply (the upload flow in answer/issue-uploads.ts).
import type { AppDeps } from "../deps.js";
import { addedExports, findExports, hasAnything } from "../domain/issue-exports.js";
import { githubHosts } from "../answer/options.js";
import { designatedByEnvironment } from "../github/designation.js";
import { designatedIssue, processUploads, type IssueContext } from "../answer/issue-uploads.js";

export async function onIssue(context: IssueContext, deps: AppDeps): Promise<void> {
  const { payload } = context;
  const log = context.log.child({ delivery: context.id, repo: payload.repository.full_name, issue: payload.issue.number });
  if (payload.sender.type === "Bot") {
    log.debug({ outcome: "bot" }, "issue path: bot sender, ignored");
    return;
  }
  if (payload.action === "edited" && !payload.changes.body) {
    log.debug({ outcome: "no-body-change" }, "issue path: edit without a body change, ignored");
    return;
  }
  // Cheap rejections before any scan of the text: a repository outside LICENSE_SYNC_REPOS.
  if (designatedByEnvironment(deps.settings, payload.repository.full_name) === false) {
    log.debug({ outcome: "not-designated" }, "issue path: repository not designated, ignored");
    return;
  }
  const hosts = githubHosts(deps.settings);
  const found = findExports(payload.issue.body, hosts, "issue body");
  // Nothing export-like in the body: no API call at all.
  if (!hasAnything(found)) {
    log.debug({ outcome: "no-exports" }, "issue path: no export in the issue body");
    return;
  }
  // An edit is the editor's upload of what it added only: exports already in the body keep their
  // author's status (a writer ticking a task box must not upload a reader's refused export).
  const added = payload.action === "edited" ? addedExports(found, findExports(payload.changes.body!.from, hosts, "issue body")) : found;
  if (!hasAnything(added)) {
    log.debug({ outcome: "no-new-exports" }, "issue path: the edit added no export");
    return;
  }
  const issue = await designatedIssue(context, deps, log);
  if (!issue) return;
  await processUploads(context, deps, issue, {
    origin: "body",
    heading: payload.action === "edited" ? "Issue edited" : "Issue opened",
    found: added,
    present: found,
  });
}
