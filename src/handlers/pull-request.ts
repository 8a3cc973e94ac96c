// pull_request (opened / synchronize / reopened) into the designated branch: exports it adds or
// changes are validated and shown in a "license usage" check run. Nothing is recorded until merge.
import type { Context } from "probot";
import type { AppDeps } from "../deps.js";
import type { UploadInput } from "../ledger/types.js";
import { loadDesignation, designatedByEnvironment, repoRef } from "../github/designation.js";
import { pushCaps, readExportFiles, skippedResults } from "../github/push-files.js";
import { publishCheckRun } from "../github/checks.js";
import { checkContent } from "../github/check-results.js";
import { matchesExportPath } from "../domain/repo-config.js";

type PullRequestContext = Context<"pull_request.opened" | "pull_request.synchronize" | "pull_request.reopened">;

export async function onPullRequest(context: PullRequestContext, deps: AppDeps): Promise<void> {
  const p = context.payload;
  const repo = repoRef(p);
  if (!repo) return;
  const log = context.log.child({ delivery: context.id, repo: repo.fullName, event: `pull_request.${p.action}`, pull: p.number });

  if (p.sender?.type === "Bot") return;
  if (designatedByEnvironment(deps.settings, repo.fullName) === false) return;
  const designation = await loadDesignation(context, deps.settings);
  // A broken configuration is answered on pushes to the default branch, not on every pull request.
  if (!designation || designation.status !== "designated") return;
  const { config } = designation;
  if (p.pull_request.base.ref !== (config.branch ?? repo.defaultBranch)) return;

  const params = { owner: repo.owner, repo: repo.repo };
  const listed = await context.octokit.paginate(context.octokit.rest.pulls.listFiles, { ...params, pull_number: p.number, per_page: 100 });
  const files = listed.flatMap((f) =>
    f.status !== "removed" && f.status !== "unchanged" && f.sha && matchesExportPath(f.filename, config.paths) ? [{ path: f.filename, blobSha: f.sha }] : [],
  );
  if (files.length === 0) {
    log.info({ outcome: "no-exports" }, "pull request changes no export file");
    return;
  }

  const headSha = p.pull_request.head.sha;
  // The head's objects are reachable from the base repository, forks included (refs/pull/N/head).
  // Anyone who can open a pull request gets no more reading and validating than a push: same caps.
  const caps = pushCaps(deps.settings);
  const read = await readExportFiles(context.octokit, params, files, caps);
  const inputs: UploadInput[] = read.files.map((f) => ({ file: f.path, bytes: f.bytes, source: { kind: "commit", sha: headSha, path: f.path } }));
  const results = [...(await deps.ledger.checkUploads(inputs)), ...skippedResults(read.skipped, caps)];

  const refusedBytes = new Map(inputs.filter((i) => results.some((r) => r.file === i.file && r.status === "refused")).map((i) => [i.file, i.bytes]));
  const check = checkContent(
    results,
    refusedBytes,
    deps.settings.maxExportBytes,
    `Checked only: nothing is recorded until these files reach \`${config.branch ?? repo.defaultBranch}\`.`,
    "check",
  );
  await publishCheckRun(context.octokit, { ...params, headSha, ...check });
  log.info(
    { outcome: check.conclusion === "success" ? "valid" : "refused", files: results.length, refused: check.annotations.length },
    "pull request checked",
  );
}
