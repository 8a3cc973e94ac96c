// One bot comment per commit or issue, found by a hidden marker and edited in place, so a
// redelivery never duplicates it. Only this app's own bot account writes our comments: anyone
// (another app included) can paste the marker, and such a comment is never edited nor read.
import type { Context } from "probot";
import { fitCommentBody } from "../domain/render.js";
import type { ReplyClaims } from "../ledger/reply-claims.js";
import type { OwnBot } from "./own-bot.js";

type Octokit = Context["octokit"];

export type CommentTarget =
  | { kind: "commit"; owner: string; repo: string; sha: string }
  | { kind: "issue"; owner: string; repo: string; issueNumber: number };

export interface UpsertResult {
  id: number;
  action: "created" | "updated" | "unchanged";
  htmlUrl?: string;
}

/** What replying needs besides the installation's Octokit (AppDeps provides it). */
export interface ReplyDeps {
  ownBot: OwnBot;
  /** The ledger's database says which replica writes a reply. */
  ledger: { replies: Pick<ReplyClaims, "hold"> };
}

/** The body to write, or a function of the current comment's body (null when there is none yet). */
export type ReplyBody = string | ((current: string | null) => string);

/** The hidden marker that identifies the app's reply; `scope` separates kinds of replies if ever needed. */
export function replyMarker(scope = "reply"): string {
  return `<!-- license-sync:${scope} -->`;
}

interface ListedComment {
  id: number;
  body?: string | null;
  html_url?: string;
  user?: { login?: string; type?: string } | null;
}

/** Every comment of the app's own bot carrying `marker`, oldest first (the list is paginated). */
async function ownMarkedComments(octokit: Octokit, deps: ReplyDeps, target: CommentTarget, marker: string): Promise<ListedComment[]> {
  const iterator =
    target.kind === "commit"
      ? octokit.paginate.iterator(octokit.rest.repos.listCommentsForCommit, {
          owner: target.owner,
          repo: target.repo,
          commit_sha: target.sha,
          per_page: 100,
        })
      : octokit.paginate.iterator(octokit.rest.issues.listComments, {
          owner: target.owner,
          repo: target.repo,
          issue_number: target.issueNumber,
          per_page: 100,
        });
  const found: ListedComment[] = [];
  for await (const page of iterator) {
    for (const c of page.data as ListedComment[]) {
      if (c.body?.includes(marker) && (await deps.ownBot.isOwn(c.user))) found.push(c);
    }
  }
  return found.sort((a, b) => a.id - b.id);
}

function targetKey(target: CommentTarget, marker: string): string {
  const where = target.kind === "commit" ? target.sha : `#${target.issueNumber}`;
  return `${target.owner}/${target.repo}`.toLowerCase() + ` ${where} ${marker}`;
}

/**
 * Creates or edits the one comment carrying `marker`, as one read-merge-write: a function body
 * sees the current comment's body. The whole step holds the target's claim in the ledger database,
 * so of two replicas (or a redelivery racing the original) one creates and the other edits. The
 * marker is put first in the body when missing; the body is capped below GitHub's 65,536-character
 * limit. Duplicates (the oldest is kept) are deleted.
 */
export function upsertComment(octokit: Octokit, deps: ReplyDeps, target: CommentTarget, marker: string, body: ReplyBody): Promise<UpsertResult> {
  return deps.ledger.replies.hold(targetKey(target, marker), async (stored) => {
    const result = (await upsert(octokit, deps, target, marker, body, stored, true))!;
    return { value: result, replyId: result.id };
  });
}

/**
 * Edits the comment carrying `marker` only if there is one: `body` maps its current body to the new
 * one (null: leave it as it is). Held like every upsert. Null when there was no such comment.
 */
export function editCommentIfPresent(
  octokit: Octokit,
  deps: ReplyDeps,
  target: CommentTarget,
  marker: string,
  body: (current: string) => string | null,
): Promise<UpsertResult | null> {
  return deps.ledger.replies.hold(targetKey(target, marker), async (stored) => {
    // Without create, upsert calls `body` only with an existing comment's body.
    const result = await upsert(octokit, deps, target, marker, (current) => body(current!) ?? current!, stored, false);
    return { value: result, replyId: result?.id ?? null };
  });
}

/** The comment remembered under the claim, when GitHub's list does not show it (yet): ours and marked, or null. */
async function storedComment(octokit: Octokit, deps: ReplyDeps, target: CommentTarget, marker: string, id: number): Promise<ListedComment | null> {
  const { owner, repo } = target;
  try {
    const { data } =
      target.kind === "commit"
        ? await octokit.rest.repos.getCommitComment({ owner, repo, comment_id: id })
        : await octokit.rest.issues.getComment({ owner, repo, comment_id: id });
    const c = data as ListedComment;
    return c.body?.includes(marker) && (await deps.ownBot.isOwn(c.user)) ? c : null;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

async function upsert(
  octokit: Octokit,
  deps: ReplyDeps,
  target: CommentTarget,
  marker: string,
  body: ReplyBody,
  stored: number | null,
  create: boolean,
): Promise<UpsertResult | null> {
  const { owner, repo } = target;
  const listed = await ownMarkedComments(octokit, deps, target, marker);
  // Written under an earlier claim but not listed yet: GitHub's lists can lag behind a write.
  if (stored !== null && !listed.some((c) => c.id === stored)) {
    const comment = await storedComment(octokit, deps, target, marker, stored);
    if (comment) listed.push(comment);
    listed.sort((a, b) => a.id - b.id);
  }
  const [existing, ...duplicates] = listed;
  for (const d of duplicates) {
    if (target.kind === "commit") await octokit.rest.repos.deleteCommitComment({ owner, repo, comment_id: d.id });
    else await octokit.rest.issues.deleteComment({ owner, repo, comment_id: d.id });
  }
  if (!existing && !create) return null;
  const text = typeof body === "string" ? body : body(existing?.body ?? null);
  const full = fitCommentBody(text.includes(marker) ? text : `${marker}\n${text}`);
  if (existing) {
    if (existing.body === full) return { id: existing.id, action: "unchanged", htmlUrl: existing.html_url };
    const { data } =
      target.kind === "commit"
        ? await octokit.rest.repos.updateCommitComment({ owner, repo, comment_id: existing.id, body: full })
        : await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body: full });
    return { id: data.id, action: "updated", htmlUrl: data.html_url };
  }
  const { data } =
    target.kind === "commit"
      ? await octokit.rest.repos.createCommitComment({ owner, repo, commit_sha: target.sha, body: full })
      : await octokit.rest.issues.createComment({ owner, repo, issue_number: target.issueNumber, body: full });
  return { id: data.id, action: "created", htmlUrl: data.html_url };
}
