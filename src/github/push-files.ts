// Which export files a push (or a pull request) added or changed, and their bytes. Never trusts the
// payload's `commits` array (truncated for large pushes): asks the compare API, or diffs trees.
import type { Context } from "probot";
import { matchesExportPath } from "../domain/repo-config.js";
import type { FileResult } from "../domain/types.js";

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

/** GitHub lists only part of the tree: which files a push changed cannot be known. */
export class TruncatedTreeError extends Error {
  override name = "TruncatedTreeError";
  constructor(readonly sha: string) {
    super(`git tree of ${sha} is too large to list (truncated by the API)`);
  }
}

/** path -> blob sha of every matching file in a commit's tree. */
async function exportBlobsInTree(octokit: Octokit, repo: RepoParams, sha: string, globs: readonly string[]): Promise<Map<string, string>> {
  const { data } = await octokit.rest.git.getTree({ ...repo, tree_sha: sha, recursive: "true" });
  if (data.truncated) throw new TruncatedTreeError(sha);
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
  const bytes = await readBlobWithin(octokit, repo, blobSha, Number.POSITIVE_INFINITY);
  return bytes!;
}

/** readBlob, but null (and the download stopped) as soon as the blob is over `maxBytes`. */
export async function readBlobWithin(octokit: Octokit, repo: RepoParams, blobSha: string, maxBytes: number): Promise<Uint8Array | null> {
  const response = await octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
    ...repo,
    file_sha: blobSha,
    headers: { accept: "application/vnd.github.raw+json" },
    request: { parseSuccessResponseBody: false },
  });
  const type = String(response.headers["content-type"] ?? "").toLowerCase();
  const json = type.startsWith("application/json");
  const stream = response.data as unknown as ReadableStream<Uint8Array> | null;
  const declared = Number(response.headers["content-length"] ?? NaN);
  // The JSON form is base64 (4/3 the size): its limit is on the decoded bytes.
  if (!json && declared > maxBytes) {
    await stream?.cancel();
    return null;
  }
  const limit = json ? maxBytes * 1.4 + 1024 : maxBytes;
  // With a declared length, the blob is read into one buffer of that size as it comes: held once, not
  // as chunks plus their concatenation (a second copy of a 21 MB export at the peak). Shared memory
  // (a SharedArrayBuffer): a push into a cold big ledger has a worker thread read the export while
  // this thread loads the ledger (ledger/export-reads.ts), and shared bytes go there as they are,
  // where a copy cost this thread 21 MB of fresh pages (0.07-0.13 s after a restart on a VM that pays
  // ~11 µs a page).
  let whole = !json && Number.isSafeInteger(declared) && declared >= 0 ? Buffer.from(new SharedArrayBuffer(declared)) : null;
  const chunks: Uint8Array[] = [];
  let length = 0;
  const byob = stream && whole ? byobReader(stream) : null;
  let ended = !stream;
  if (byob && whole) {
    // Through a reader that fills the caller's buffer where the body is a byte stream (fetch's): its
    // default reader makes a new array for every read. It takes over a plain ArrayBuffer at each read,
    // never a shared one, so it fills a scratch buffer, copied on into the blob's. Each read hands the
    // scratch over anew, which V8 counts as that much new memory: a collection every few reads, which
    // frees fetch's own chunks as they come (read through a small buffer, they stayed until later and
    // the push peaked at 2.5-3.4x its file instead of 2.2-2.7x). Not more than 16 MB: a buffer of 32 MB
    // or more handed over at each read set off a collection at nearly every read (~1,000 for a 44 MB
    // blob in a bare fetch, 0.61-0.88 s instead of 0.49-0.52 s). Only the pages a read fills are ever touched.
    let scratch = new ArrayBuffer(Math.max(1, Math.min(declared, SCRATCH_BYTES)));
    while (length < declared && !ended) {
      const read = await byob.read(new Uint8Array(scratch, 0, Math.min(scratch.byteLength, declared - length)));
      ended = read.done || !read.value;
      if (ended) break;
      scratch = read.value!.buffer as ArrayBuffer;
      whole.set(read.value!, length);
      length += read.value!.byteLength;
    }
  }
  if (stream && !ended) {
    // the body as it comes; after the reads above, what comes past the declared length
    const plain = byob ? null : stream.getReader();
    const next = () => (byob ? byob.read(new Uint8Array(64 * 1024)) : plain!.read());
    for (;;) {
      const { done, value } = await next();
      if (done || !value) break;
      if (length + value.byteLength > limit) {
        await (byob ?? plain!).cancel();
        return null;
      }
      if (whole && length + value.byteLength <= whole.length) whole.set(value, length);
      else {
        // longer than declared (a compressed transfer): what was copied as a chunk of its own, then chunks
        if (whole) chunks.push(whole.subarray(0, length));
        whole = null;
        chunks.push(value);
      }
      length += value.byteLength;
    }
  }
  const bytes = whole ? whole.subarray(0, length) : Buffer.concat(chunks, length);
  if (!json) return bytes;
  const data = JSON.parse(bytes.toString("utf8")) as { encoding?: string; content?: string };
  let decoded: Buffer;
  if (data.encoding === "base64" && typeof data.content === "string") decoded = Buffer.from(data.content, "base64");
  else if ((data.encoding === "utf-8" || data.encoding === "utf8") && typeof data.content === "string") decoded = Buffer.from(data.content, "utf8");
  else throw new Error(`unexpected blob encoding "${String(data.encoding)}"`);
  return decoded.length > maxBytes ? null : decoded;
}

/** The most a blob's reader hands over at each read (see readBlobWithin). */
const SCRATCH_BYTES = 16 * 1024 * 1024;

/** A reader that fills the caller's buffers, where the stream is a byte stream; else null. */
function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    return null;
  }
}

export interface PushCaps {
  /** At most this many export files are read and validated per push or pull request. */
  maxFiles: number;
  /** Their total size: reading stops once it is reached. */
  maxBytes: number;
}

export function pushCaps(settings: { maxPushFiles: number; maxPushBytes: number }): PushCaps {
  return { maxFiles: settings.maxPushFiles, maxBytes: settings.maxPushBytes };
}

export interface ReadExportFiles {
  files: { path: string; bytes: Uint8Array }[];
  /** Files not read, with the cap that stopped them, in path order. */
  skipped: { path: string; cap: "files" | "bytes" }[];
}

/**
 * Reads the changed export files within the caps, each blob sha once (identical files share their
 * bytes). The caps bound a push's and a pull request's work alike; past a cap, files are skipped
 * (and named in the reply), never read.
 */
export async function readExportFiles(octokit: Octokit, repo: RepoParams, changed: readonly ChangedFile[], caps: PushCaps): Promise<ReadExportFiles> {
  const out: ReadExportFiles = { files: [], skipped: [] };
  const bySha = new Map<string, Uint8Array>();
  let total = 0;
  let stopped: "files" | "bytes" | null = null;
  for (const f of changed) {
    if (stopped === null && out.files.length >= caps.maxFiles) stopped = "files";
    if (stopped === null) {
      let bytes = bySha.get(f.blobSha);
      if (bytes === undefined) {
        bytes = (await readBlobWithin(octokit, repo, f.blobSha, caps.maxBytes - total)) ?? undefined;
        if (bytes !== undefined) bySha.set(f.blobSha, bytes);
      }
      // Every file counts against the total, a shared blob too: each one is validated.
      if (bytes !== undefined && total + bytes.length <= caps.maxBytes) {
        total += bytes.length;
        out.files.push({ path: f.path, bytes });
        continue;
      }
      stopped = "bytes";
    }
    out.skipped.push({ path: f.path, cap: stopped });
  }
  return out;
}

const MB = 1024 * 1024;
const size = (bytes: number): string => (bytes >= MB ? `${Math.round(bytes / MB)} MB` : `${bytes} bytes`);

/** Skipped files as refusals, so the reply and the check run name each one and say what to do. */
export function skippedResults(skipped: ReadExportFiles["skipped"], caps: PushCaps): FileResult[] {
  return skipped.map(({ path, cap }) => {
    const why =
      cap === "files"
        ? `more than ${caps.maxFiles} export files arrived at once (the app's MAX_PUSH_FILES)`
        : `the export files arriving at once exceed ${size(caps.maxBytes)} together (the app's MAX_PUSH_BYTES)`;
    return { file: path, status: "refused", errors: [{ file: path, path: "", message: `was not read: ${why}; send it in a push or pull request of its own` }], warnings: [] };
  });
}
