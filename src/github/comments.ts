// One bot comment per commit or issue, found by a hidden marker and edited in place, so a
// redelivery never duplicates it. Only this app's own bot account writes our comments: anyone
// (another app included) can paste the marker, and such a comment is never edited nor read.
import type { Context } from "probot";
import { fitCommentBody } from "../domain/render.js";
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

/** The app's own comment carrying `marker` (the oldest, should there be several), or null. */
export async function findMarkedComment(octokit: Octokit, deps: ReplyDeps, target: CommentTarget, marker: string): Promise<ListedComment | null> {
  return (await ownMarkedComments(octokit, deps, target, marker))[0] ?? null;
}

// Upserts of one comment run one after the other in this process: two deliveries for the same
// commit at the same moment (a redelivery racing the original) would otherwise both find no
// comment and both create one.
const upserts = new Map<string, Promise<unknown>>();

function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (upserts.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  upserts.set(key, tail);
  void tail.then(() => {
    if (upserts.get(key) === tail) upserts.delete(key);
  });
  return run;
}

function targetKey(target: CommentTarget, marker: string): string {
  const where = target.kind === "commit" ? target.sha : `#${target.issueNumber}`;
  return `${target.owner}/${target.repo}`.toLowerCase() + ` ${where} ${marker}`;
}

/**
 * Creates or edits the one comment carrying `marker`, as one read-merge-write: a function body
 * sees the current comment's body. The marker is put first in the body when missing; the body is
 * capped below GitHub's 65,536-character limit. Duplicates (the oldest is kept) are deleted.
 */
export function upsertComment(octokit: Octokit, deps: ReplyDeps, target: CommentTarget, marker: string, body: ReplyBody): Promise<UpsertResult> {
  return oneAtATime(targetKey(target, marker), () => upsert(octokit, deps, target, marker, body));
}

async function upsert(octokit: Octokit, deps: ReplyDeps, target: CommentTarget, marker: string, body: ReplyBody): Promise<UpsertResult> {
  const { owner, repo } = target;
  const [existing, ...duplicates] = await ownMarkedComments(octokit, deps, target, marker);
  for (const d of duplicates) {
    if (target.kind === "commit") await octokit.rest.repos.deleteCommitComment({ owner, repo, comment_id: d.id });
    else await octokit.rest.issues.deleteComment({ owner, repo, comment_id: d.id });
  }
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
