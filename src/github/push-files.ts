// Which export files a push (or a pull request) added or changed, and their bytes. Never trusts the
// payload's `commits` array (truncated for large pushes): asks the compare API, or diffs trees.
import type { Context } from "probot";
import { matchesExportPath } from "../domain/repo-config.js";

type Octokit = Context["octokit"];

export const NULL_SHA = "0000000000000000000000000000000000000000";
/** The compare API lists at most this many files; a longer list may be incomplete. */
const COMPARE_FILE_LIMIT = 300;

export interface ChangedFile {
  path: string;
  /** Git blob sha of the file at the new commit. */
  blobSha: string;
}

interface RepoParams {
  owner: string;
  repo: string;
}

interface DiffEntry {
  filename: string;
  status: string;
  sha?: string | null;
}

function keep(files: readonly DiffEntry[], globs: readonly string[]): ChangedFile[] {
  const out: ChangedFile[] = [];
  for (const f of files) {
    // removed: nothing to read; unchanged: nothing new.
    if (f.status === "removed" || f.status === "unchanged" || !f.sha) continue;
    if (matchesExportPath(f.filename, globs)) out.push({ path: f.filename, blobSha: f.sha });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** path -> blob sha of every matching file in a commit's tree. */
async function exportBlobsInTree(octokit: Octokit, repo: RepoParams, sha: string, globs: readonly string[]): Promise<Map<string, string>> {
  const { data } = await octokit.rest.git.getTree({ ...repo, tree_sha: sha, recursive: "true" });
  if (data.truncated) throw new Error(`git tree of ${sha} is too large to list (truncated by the API)`);
  const out = new Map<string, string>();
  for (const e of data.tree) {
    if (e.type === "blob" && e.path && e.sha && matchesExportPath(e.path, globs)) out.set(e.path, e.sha);
  }
  return out;
}

async function treeDiff(octokit: Octokit, repo: RepoParams, before: string | null, after: string, globs: readonly string[]): Promise<ChangedFile[]> {
  const now = await exportBlobsInTree(octokit, repo, after, globs);
  const then = before ? await exportBlobsInTree(octokit, repo, before, globs) : new Map<string, string>();
  const entries: DiffEntry[] = [...now].map(([filename, sha]) => ({ filename, sha, status: then.get(filename) === sha ? "unchanged" : "modified" }));
  return keep(entries, globs);
}

/**
 * Export files added or modified between `before` and `after` (matching `globs`), sorted by path.
 * A new branch (`before` all zeros) counts every matching file of its head tree as added.
 */
export async function changedExportFiles(
  octokit: Octokit,
  repo: RepoParams,
  before: string,
  after: string,
  globs: readonly string[],
): Promise<ChangedFile[]> {
  if (!before || before === NULL_SHA) return treeDiff(octokit, repo, null, after, globs);
  // The file list is complete on the first page of a comparison; one commit per page keeps it small.
  const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${before}...${after}`, per_page: 1 });
  const files = (data.files ?? []) as DiffEntry[];
  if (files.length >= COMPARE_FILE_LIMIT) return treeDiff(octokit, repo, before, after, globs);
  return keep(files, globs);
}

/**
 * The bytes of one blob, through the git blobs API (files up to 100 MB; the contents API stops at
 * 1 MB). Asked for raw: a 21 MB export's base64 JSON would be 28 MB of text to parse for nothing.
 * A server that answers with the JSON form anyway is still understood.
 */
export async function readBlob(octokit: Octokit, repo: RepoParams, blobSha: string): Promise<Uint8Array> {
  const response = await octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
    ...repo,
    file_sha: blobSha,
    headers: { accept: "application/vnd.github.raw+json" },
    request: { parseSuccessResponseBody: false },
  });
  const bytes = new Uint8Array(await new Response(response.data as unknown as ReadableStream<Uint8Array> | null).arrayBuffer());
  const type = String(response.headers["content-type"] ?? "").toLowerCase();
  if (!type.startsWith("application/json")) return bytes;
  const data = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as { encoding?: string; content?: string };
  if (data.encoding === "base64" && typeof data.content === "string") return Buffer.from(data.content, "base64");
  if ((data.encoding === "utf-8" || data.encoding === "utf8") && typeof data.content === "string") return Buffer.from(data.content, "utf8");
  throw new Error(`unexpected blob encoding "${String(data.encoding)}"`);
}
