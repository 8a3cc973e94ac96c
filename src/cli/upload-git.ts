// The GitHub side of `license-sync upload`, on @octokit/rest: one commit through the Git Data API
// (blobs, tree, commit, ref update, made again when the branch moved), then, with --wait, the app's
// "license usage" check run and the seat summary of its reply. Every failure becomes an
// UploadError whose message a person can act on.
import { Octokit } from "@octokit/rest";
import { CHECK_NAME } from "../github/checks.js";
import { replyMarker } from "../github/comments.js";
import { parseSummaryMarker } from "../domain/render.js";
import type { Totals } from "../domain/types.js";
import type { PlannedFile } from "./upload-files.js";

export const DEFAULT_API_URL = "https://api.github.com";
/** The marker of the app's reply to a push (src/handlers/push.ts). */
const PUSH_REPLY_MARKER = replyMarker("push");
/** Commits made again on top of a branch that moved meanwhile, at most. */
export const MAX_COMMIT_ATTEMPTS = 5;

export class UploadError extends Error {
  override name = "UploadError";
}

export interface Ledger {
  owner: string;
  repo: string;
  apiUrl: string;
}

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function createClient(token: string, apiUrl: string, userAgent: string): Octokit {
  return new Octokit({ auth: token, baseUrl: apiUrl, userAgent, log: quiet });
}

interface ApiError {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

function asApiError(e: unknown): ApiError | null {
  if (typeof e !== "object" || e === null || typeof (e as { status?: unknown }).status !== "number") return null;
  return e as ApiError;
}

/** The innermost message of an error chain: "connect ECONNREFUSED 127.0.0.1:443", not "fetch failed". */
function rootCause(e: unknown): string {
  let message = "unknown error";
  let current: unknown = e;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const m = (current as { message?: unknown }).message;
    if (typeof m === "string" && m !== "" && m !== "Unknown Error") message = m;
    current = (current as { cause?: unknown }).cause;
  }
  return message;
}

/** GitHub's own message ("Bad credentials"), without the documentation link Octokit appends. */
function githubMessage(e: ApiError): string {
  const data = e.response?.data as { message?: unknown } | undefined;
  const text = typeof data?.message === "string" ? data.message : e.message;
  return text.replace(/ - https?:\/\/\S+$/, "").slice(0, 300);
}

/**
 * Words an API failure for a person: `doing` says what was attempted ("read", "write to").
 * Anything not an HTTP answer is a network failure.
 */
export function describeFailure(e: unknown, ledger: Ledger, doing: string): UploadError {
  const name = `${ledger.owner}/${ledger.repo}`;
  const api = asApiError(e);
  if (!api || api.response === undefined) {
    return new UploadError(`network failure: cannot reach ${ledger.apiUrl} (${rootCause(e)}); nothing was changed unless a commit URL was printed`);
  }
  const message = githubMessage(api);
  const apiHint = ledger.apiUrl === DEFAULT_API_URL ? "" : ` Is ${ledger.apiUrl} the right API URL? GHES serves it at https://HOST/api/v3.`;
  switch (api.status) {
    case 401:
      return new UploadError(`the token was refused (401 ${message}): GITHUB_TOKEN / GH_TOKEN is wrong, expired or revoked`);
    case 403: {
      if (/saml|single sign-on|sso/i.test(message)) {
        return new UploadError(`no access to ${name} (403): the organization enforces SAML single sign-on; authorize the token for SSO (${message})`);
      }
      if (api.response.headers?.["x-ratelimit-remaining"] === "0" || /rate limit/i.test(message)) {
        return new UploadError(`GitHub's rate limit is exhausted for this token (403 ${message}); try again later`);
      }
      return new UploadError(
        `no access to ${name} (403 ${message}): the token can see the repository but may not ${doing} it; it needs contents: write on ${name}`,
      );
    }
    case 404:
      return new UploadError(
        `${name} was not found (404) at ${ledger.apiUrl}: it does not exist, or the token cannot see it (a fine-grained token must be granted this repository; a classic token needs the repo scope for a private one).${apiHint}`,
      );
    default:
      return new UploadError(`GitHub answered ${api.status} when trying to ${doing} ${name}: ${message}`);
  }
}

async function call<T>(ledger: Ledger, doing: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    throw e instanceof UploadError ? e : describeFailure(e, ledger, doing);
  }
}

export interface Head {
  branch: string;
  commitSha: string;
  treeSha: string;
}

/** The branch to commit to (the default branch when none is given) and its head commit. */
export async function readHead(octokit: Octokit, ledger: Ledger, branch: string | null): Promise<Head> {
  const repo = { owner: ledger.owner, repo: ledger.repo };
  let name = branch;
  if (name === null) {
    const { data } = await call(ledger, "read", () => octokit.rest.repos.get(repo));
    name = data.default_branch;
  }
  let commitSha: string;
  try {
    const { data } = await octokit.rest.git.getRef({ ...repo, ref: `heads/${name}` });
    commitSha = data.object.sha;
  } catch (e) {
    const api = asApiError(e);
    if (api?.status === 409) {
      throw new UploadError(`${repo.owner}/${repo.repo} is empty: make a first commit (a README will do) and upload again`);
    }
    if (api?.status === 404 && branch !== null) {
      // Tell a missing branch from a repository the token cannot see.
      await call(ledger, "read", () => octokit.rest.repos.get(repo));
      throw new UploadError(`${repo.owner}/${repo.repo} has no branch "${branch}" (--branch): create it first, or leave --branch out for the default branch`);
    }
    throw describeFailure(e, ledger, "read");
  }
  const { data: commit } = await call(ledger, "read", () => octokit.rest.git.getCommit({ ...repo, commit_sha: commitSha }));
  return { branch: name, commitSha, treeSha: commit.tree.sha };
}

/** Blob ids of the files now in `dir` at `commitSha`, by path (empty when the folder is new). */
export async function readFolder(octokit: Octokit, ledger: Ledger, dir: string, commitSha: string): Promise<Map<string, string>> {
  let data: unknown;
  try {
    ({ data } = await octokit.rest.repos.getContent({ owner: ledger.owner, repo: ledger.repo, path: dir, ref: commitSha }));
  } catch (e) {
    if (asApiError(e)?.status === 404 && asApiError(e)?.response) return new Map();
    throw describeFailure(e, ledger, "read");
  }
  if (!Array.isArray(data)) throw new UploadError(`${dir} is a file in ${ledger.owner}/${ledger.repo}, not a folder: choose another --dir`);
  const entries = data as { path: string; sha: string; type: string }[];
  return new Map(entries.filter((e) => e.type === "file").map((e) => [e.path, e.sha]));
}

export interface TreeChange {
  path: string;
  /** null removes the path. */
  sha: string | null;
}

/** What the commit changes, given what the folder holds: [] when it holds these exports already. */
export function changesFor(files: readonly PlannedFile[], folder: ReadonlyMap<string, string>): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const f of files) {
    if (folder.get(f.path) !== f.blobSha) changes.push({ path: f.path, sha: f.blobSha });
    // The same file under another extension (an export grew past the compression threshold, the
    // report came as JSON last month) would stay behind as a stale copy.
    for (const other of f.otherPaths) if (folder.has(other)) changes.push({ path: other, sha: null });
  }
  return changes;
}

/** Sends the blobs GitHub does not have at their path yet; `onSend` precedes each one. */
export async function sendBlobs(
  octokit: Octokit,
  ledger: Ledger,
  files: readonly PlannedFile[],
  folder: ReadonlyMap<string, string>,
  onSend: (file: PlannedFile) => void,
): Promise<void> {
  for (const f of files) {
    if (folder.get(f.path) === f.blobSha) continue;
    onSend(f);
    const { data } = await call(ledger, "write to", () =>
      octokit.rest.git.createBlob({ owner: ledger.owner, repo: ledger.repo, content: f.content.toString("base64"), encoding: "base64" }),
    );
    if (data.sha !== f.blobSha) {
      throw new UploadError(`${f.source}: GitHub stored the file as blob ${data.sha}, expected ${f.blobSha}; nothing was committed`);
    }
  }
}

export type CommitOutcome =
  | { kind: "committed"; sha: string; htmlUrl: string; attempts: number }
  | { kind: "unchanged"; sha: string };

function isNotFastForward(e: unknown): boolean {
  const api = asApiError(e);
  return api?.status === 422 && /fast.?forward/i.test(githubMessage(api));
}

function isProtected(e: unknown): boolean {
  const api = asApiError(e);
  return (api?.status === 422 || api?.status === 403) && /protected branch|rule violation|ruleset/i.test(githubMessage(api));
}

/**
 * Makes the commit on top of the branch's head and moves the branch to it; when the branch moved
 * meanwhile (not a fast-forward), reads the new head and makes the commit again on top of it.
 */
export async function commitFiles(
  octokit: Octokit,
  ledger: Ledger,
  files: readonly PlannedFile[],
  first: Head,
  firstFolder: ReadonlyMap<string, string>,
  dir: string,
  message: string,
  onMoved: (attempt: number) => void,
): Promise<CommitOutcome> {
  const repo = { owner: ledger.owner, repo: ledger.repo };
  let head = first;
  for (let attempt = 1; ; attempt++) {
    const folder = attempt === 1 ? firstFolder : await readFolder(octokit, ledger, dir, head.commitSha);
    const changes = changesFor(files, folder);
    if (changes.length === 0) return { kind: "unchanged", sha: head.commitSha };
    const { data: tree } = await call(ledger, "write to", () =>
      octokit.rest.git.createTree({
        ...repo,
        base_tree: head.treeSha,
        tree: changes.map((c) => ({ path: c.path, mode: "100644" as const, type: "blob" as const, sha: c.sha })),
      }),
    );
    const { data: commit } = await call(ledger, "write to", () =>
      octokit.rest.git.createCommit({ ...repo, message, tree: tree.sha, parents: [head.commitSha] }),
    );
    try {
      await octokit.rest.git.updateRef({ ...repo, ref: `heads/${head.branch}`, sha: commit.sha, force: false });
      return { kind: "committed", sha: commit.sha, htmlUrl: commit.html_url, attempts: attempt };
    } catch (e) {
      if (isProtected(e)) {
        throw new UploadError(
          `branch "${head.branch}" of ${repo.owner}/${repo.repo} is protected (${githubMessage(asApiError(e)!)}): allow this token to push to it, or upload to another branch with --branch and name that branch in the app's .github/license-sync.yml`,
        );
      }
      if (!isNotFastForward(e)) throw describeFailure(e, ledger, "write to");
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw new UploadError(`branch "${head.branch}" kept moving during ${attempt} attempts; nothing was committed, try again`);
      }
      onMoved(attempt);
      head = await readHead(octokit, ledger, head.branch);
    }
  }
}

export type Answer =
  | { kind: "answer"; recorded: boolean; title: string; htmlUrl: string | null; totals: Totals | null }
  | { kind: "none" };

export interface Waiting {
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Told once when the check runs cannot be read and the reply comment is read instead, and once per other app's ignored reply or check run. */
  onNote: (text: string) => void;
  /** The app's slug: only a comment by `<slug>[bot]` is its reply. */
  appSlug: string;
}

/** Pauses between polls: short first (the app answers within seconds), then every 5 s. */
const POLL_MS = [2000, 3000, 5000];

interface Reply {
  body: string;
  htmlUrl: string | null;
}

/**
 * Polls the app's completed "license usage" check run on `sha` until it appears or time is up.
 * Fine-grained tokens cannot be granted checks: read; for them (403) the app's reply comment on
 * the commit, readable with contents: read, gives the outcome instead.
 */
export async function waitForAnswer(octokit: Octokit, ledger: Ledger, sha: string, waiting: Waiting): Promise<Answer> {
  const repo = { owner: ledger.owner, repo: ledger.repo };
  const deadline = waiting.now() + waiting.timeoutMs;
  let checksReadable = true;
  const ignored = new Set<string>();
  const reading = { ...waiting, ignored };
  for (let poll = 0; ; poll++) {
    if (checksReadable) {
      try {
        const { data } = await octokit.rest.checks.listForRef({ ...repo, ref: sha, check_name: CHECK_NAME, filter: "latest", per_page: 10 });
        // Only the app's own run: another app installed on the repository could name one the same.
        const ours = (r: { app?: { slug?: string } | null }) => r.app?.slug?.toLowerCase() === waiting.appSlug.toLowerCase();
        for (const other of data.check_runs.filter((r) => !ours(r) && r.app?.slug && !ignored.has(`check ${r.app.slug}`))) {
          ignored.add(`check ${other.app!.slug}`);
          waiting.onNote(`a "${CHECK_NAME}" check run by another app (${other.app!.slug}) was ignored; if that app is your registration of license-sync, pass --app-slug ${other.app!.slug}`);
        }
        const run = data.check_runs.find((r) => r.status === "completed" && ours(r));
        if (run) {
          const reply = await findReply(octokit, ledger, sha, reading);
          return {
            kind: "answer",
            recorded: run.conclusion === "success",
            title: run.output?.title || (run.conclusion ?? ""),
            htmlUrl: run.html_url ?? null,
            totals: reply ? parseSummaryMarker(reply.body) : null,
          };
        }
      } catch (e) {
        const api = asApiError(e);
        if (api?.status !== 403 || !api.response || /rate limit/i.test(githubMessage(api))) throw describeFailure(e, ledger, "read the check runs of");
        checksReadable = false;
        waiting.onNote("the token cannot read check runs (fine-grained tokens never can): reading the app's reply comment instead");
      }
    }
    if (!checksReadable) {
      const reply = await findReply(octokit, ledger, sha, reading);
      if (reply) {
        const outcome = replyOutcome(reply.body);
        return { kind: "answer", recorded: outcome.recorded, title: outcome.tally, htmlUrl: reply.htmlUrl, totals: parseSummaryMarker(reply.body) };
      }
    }
    const left = deadline - waiting.now();
    if (left <= 0) return { kind: "none" };
    await waiting.sleep(Math.min(POLL_MS[Math.min(poll, POLL_MS.length - 1)]!, left));
  }
}

/** The app's bot account, as GitHub spells it in `user.login`. */
export const appBotLogin = (slug: string): string => `${slug}[bot]`;

/**
 * The app's reply to the push on the commit, if it is there yet: the comment carrying the marker
 * and written by the app's own bot account. Anyone who may comment on the commit can copy the
 * marker; a person's copy is skipped silently, another app's is named once (it may be the admin's
 * own registration under another name, which --app-slug fixes).
 */
async function findReply(
  octokit: Octokit,
  ledger: Ledger,
  sha: string,
  reading: Pick<Waiting, "appSlug" | "onNote"> & { ignored: Set<string> },
): Promise<Reply | null> {
  // Every page, though few commits have more than one: forged comments must not push the reply out of sight.
  const data = await call(ledger, "read the comments of", () =>
    octokit.paginate(octokit.rest.repos.listCommentsForCommit, { owner: ledger.owner, repo: ledger.repo, commit_sha: sha, per_page: 100 }),
  );
  const own = appBotLogin(reading.appSlug).toLowerCase();
  for (const comment of data) {
    if (!comment.body.includes(PUSH_REPLY_MARKER)) continue;
    const user = comment.user;
    if (user?.type !== "Bot" || !user.login.endsWith("[bot]")) continue;
    if (user.login.toLowerCase() === own) return { body: comment.body, htmlUrl: comment.html_url ?? null };
    if (!reading.ignored.has(user.login)) {
      reading.ignored.add(user.login);
      reading.onNote(
        `a reply by ${user.login} was ignored: only ${appBotLogin(reading.appSlug)} answers for the app; if ${user.login} is your registration of license-sync, pass --app-slug ${user.login.slice(0, -"[bot]".length)}`,
      );
    }
  }
  return null;
}

/**
 * The outcome in a reply's heading line, `**License usage in abc1234**: 2 recorded, 1 refused`
 * (renderUploadReply), or a configuration error's `**…**: nothing was recorded`.
 */
export function replyOutcome(body: string): { recorded: boolean; tally: string } {
  const line = body.split("\n").find((l) => /^\*\*[^*]+\*\*: /.test(l)) ?? "";
  const tally = line.replace(/^\*\*[^*]+\*\*: /, "").trim();
  return { recorded: tally !== "" && !/\brefused\b|nothing was recorded/.test(tally), tally };
}
