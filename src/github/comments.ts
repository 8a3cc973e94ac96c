// One bot comment per commit or issue, found by a hidden marker (never by the bot's login, which
// differs per installation and on GHES) and edited in place, so a redelivery never duplicates it.
import type { Context } from "probot";
import { fitCommentBody } from "../domain/render.js";

type Octokit = Context["octokit"];

export type CommentTarget =
  | { kind: "commit"; owner: string; repo: string; sha: string }
  | { kind: "issue"; owner: string; repo: string; issueNumber: number };

export interface UpsertResult {
  id: number;
  action: "created" | "updated" | "unchanged";
  htmlUrl?: string;
}

/** The hidden marker that identifies the app's reply; `scope` separates kinds of replies if ever needed. */
export function replyMarker(scope = "reply"): string {
  return `<!-- license-sync:${scope} -->`;
}

interface ListedComment {
  id: number;
  body?: string | null;
  html_url?: string;
  user?: { type?: string } | null;
}

/** Finds the comment carrying `marker` (the list is paginated), or null. */
export async function findMarkedComment(octokit: Octokit, target: CommentTarget, marker: string): Promise<ListedComment | null> {
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
  for await (const page of iterator) {
    for (const c of page.data as ListedComment[]) {
      // Anyone can paste the marker: only a comment written by an app (a Bot account) is ours.
      if (c.body?.includes(marker) && (c.user?.type ?? "Bot") === "Bot") return c;
    }
  }
  return null;
}

// Upserts of one comment run one after the other in this process: two deliveries for the same
// commit at the same moment (a redelivery racing the original) would otherwise both find no
// comment and both create one. (Across replicas the race remains; it needs both at once.)
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
 * Creates or edits the one comment carrying `marker`. The marker is put first in the body when
 * missing; the body is capped below GitHub's 65,536-character limit.
 */
export function upsertComment(octokit: Octokit, target: CommentTarget, marker: string, body: string): Promise<UpsertResult> {
  return oneAtATime(targetKey(target, marker), () => upsert(octokit, target, marker, body));
}

async function upsert(octokit: Octokit, target: CommentTarget, marker: string, body: string): Promise<UpsertResult> {
  const full = fitCommentBody(body.includes(marker) ? body : `${marker}\n${body}`);
  const existing = await findMarkedComment(octokit, target, marker);
  if (existing) {
    if (existing.body === full) return { id: existing.id, action: "unchanged", htmlUrl: existing.html_url };
    const { data } =
      target.kind === "commit"
        ? await octokit.rest.repos.updateCommitComment({ owner: target.owner, repo: target.repo, comment_id: existing.id, body: full })
        : await octokit.rest.issues.updateComment({ owner: target.owner, repo: target.repo, comment_id: existing.id, body: full });
    return { id: data.id, action: "updated", htmlUrl: data.html_url };
  }
  const { data } =
    target.kind === "commit"
      ? await octokit.rest.repos.createCommitComment({ owner: target.owner, repo: target.repo, commit_sha: target.sha, body: full })
      : await octokit.rest.issues.createComment({ owner: target.owner, repo: target.repo, issue_number: target.issueNumber, body: full });
  return { id: data.id, action: "created", htmlUrl: data.html_url };
}
