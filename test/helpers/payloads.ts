// Real webhook payloads from @octokit/webhooks-examples, adapted to the designated repository.
import examples from "@octokit/webhooks-examples" with { type: "json" };
import { TEST_INSTALLATION_ID } from "./probot.js";

export const OWNER = "acme";
export const REPO = "license-usage";
export const FULL_NAME = `${OWNER}/${REPO}`;
export const REPO_ID = 777;
export const DEFAULT_BRANCH = "main";

export type Json = Record<string, unknown>;

/** A copy of the first example of event `name` that `pick` accepts. */
export function example(name: string, pick: (p: Json) => boolean): Json {
  const group = (examples as unknown as { name: string; examples: Json[] }[]).find((e) => e.name === name);
  const found = group?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

function adaptRepository(payload: Json, fullName: string, repoId: number): void {
  const [owner, name] = fullName.split("/") as [string, string];
  const repository = payload.repository as Json;
  repository.id = repoId;
  repository.name = name;
  repository.full_name = fullName;
  repository.default_branch = DEFAULT_BRANCH;
  (repository.owner as Json).login = owner;
  payload.installation = { id: TEST_INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
}

export interface PushOptions {
  ref?: string;
  before?: string;
  after?: string;
  deleted?: boolean;
  fullName?: string;
  repoId?: number;
  senderType?: "User" | "Bot";
  senderLogin?: string;
}

export const BEFORE_SHA = "1111111111111111111111111111111111111111";
export const AFTER_SHA = "2222222222222222222222222222222222222222";

/** The example push of a branch, moved to the designated repo and given a before/after pair. */
export function pushPayload(o: PushOptions = {}): Json {
  const p = example("push", (x) => typeof x.ref === "string" && (x.ref as string).startsWith("refs/heads/"));
  adaptRepository(p, o.fullName ?? FULL_NAME, o.repoId ?? REPO_ID);
  p.ref = o.ref ?? `refs/heads/${DEFAULT_BRANCH}`;
  p.before = o.before ?? BEFORE_SHA;
  p.after = o.after ?? AFTER_SHA;
  p.created = false;
  p.deleted = o.deleted ?? false;
  const sender = p.sender as Json;
  sender.type = o.senderType ?? "User";
  sender.login = o.senderLogin ?? "octo-admin";
  (p.pusher as Json).name = o.senderLogin ?? "octo-admin";
  if (p.head_commit) (p.head_commit as Json).id = p.after;
  return p;
}

/** The example push of a tag (created), moved to the designated repo. */
export function tagPushPayload(): Json {
  const p = example("push", (x) => x.ref === "refs/tags/simple-tag" && x.created === true);
  adaptRepository(p, FULL_NAME, REPO_ID);
  return p;
}

/** The example branch deletion (after all zeros), moved to the designated repo's default branch. */
export function branchDeletionPayload(): Json {
  const p = example("push", (x) => x.deleted === true);
  adaptRepository(p, FULL_NAME, REPO_ID);
  p.ref = `refs/heads/${DEFAULT_BRANCH}`;
  return p;
}

export const PR_HEAD_SHA = "3333333333333333333333333333333333333333";

export function pullRequestPayload(action: "opened" | "synchronize" | "reopened", o: { baseRef?: string; number?: number } = {}): Json {
  const p = example("pull_request", (x) => x.action === action);
  adaptRepository(p, FULL_NAME, REPO_ID);
  const pr = p.pull_request as Json;
  p.number = o.number ?? 7;
  pr.number = p.number;
  (pr.base as Json).ref = o.baseRef ?? DEFAULT_BRANCH;
  (pr.head as Json).sha = PR_HEAD_SHA;
  (p.sender as Json).type = "User";
  return p;
}
