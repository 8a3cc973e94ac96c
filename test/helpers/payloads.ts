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
  /** The whole sender (a real account shape, see githubAccount); wins over senderType/senderLogin. */
  sender?: Json;
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
  if (o.sender) {
    p.sender = o.sender;
    (p.pusher as Json).name = o.sender.login;
  }
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

// ---- accounts and comments as GitHub sends them ----------------------------------------------

/** This app's slug (GET /app answers it) and so its bot account's login. */
export const APP_SLUG = "license-sync";
export const OWN_BOT_LOGIN = `${APP_SLUG}[bot]`;

/** A real bot sender from the examples (another app: octocoders-linter[bot]). */
function exampleBot(): Json {
  return structuredClone(example("check_suite", (x) => (x.sender as Json | undefined)?.type === "Bot").sender as Json);
}

/** `login` as GitHub describes that account: a real example user or bot, renamed. */
export function githubAccount(login: string, type: "User" | "Bot", id: number): Json {
  const account = type === "Bot" ? exampleBot() : structuredClone((example("issue_comment", (x) => x.action === "created").comment as Json).user as Json);
  const path = encodeURIComponent(login);
  Object.assign(account, { login, id, type, url: `https://api.github.com/users/${path}` });
  account.html_url = type === "Bot" ? `https://github.com/apps/${login.replace(/\[bot\]$/, "")}` : `https://github.com/${login}`;
  return account;
}

export const PERSON = () => githubAccount("octo-admin", "User", 21031067);
export const OWN_BOT = () => githubAccount(OWN_BOT_LOGIN, "Bot", 1_000_001);
export const OTHER_APP_BOT = () => exampleBot();
export const ACTIONS_BOT = () => githubAccount("github-actions[bot]", "Bot", 41898282);

/** A comment as the REST API lists it (the real example's shape, `user` included). */
export function listedComment(id: number, body: string, user: Json = OWN_BOT()): Json {
  const c = structuredClone((example("issue_comment", (x) => x.action === "created").comment as Json));
  return { ...c, id, body, user, url: `https://api.github.com/repos/${FULL_NAME}/issues/comments/${id}`, html_url: `https://github.com/${FULL_NAME}#comment-${id}` };
}
