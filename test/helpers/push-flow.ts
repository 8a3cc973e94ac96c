// The GitHub side of one push delivery at nock: config, compare, blobs, then the reply (comment
// upsert and check run), with what the app sends captured. Fault tests cut or break the reply.
import nock from "nock";
import { API, nockInstallationToken, nockOwnApp } from "./probot.js";
import { BEFORE_SHA, FULL_NAME, listedComment } from "./payloads.js";
import { rawBlob } from "./exports.js";
import { allowDashboard } from "./dashboard.js";

const REPO_PATH = `/repos/${FULL_NAME}`;

export interface PushedFile {
  path: string;
  blobSha: string;
  bytes: string;
}

export interface CheckBody {
  head_sha: string;
  conclusion: string;
  output: { title: string; summary: string };
}

/** What reached GitHub (requests answered successfully only). */
export interface Replies {
  created: string[];
  edited: string[];
  checks: CheckBody[];
}

export const noReplies = (): Replies => ({ created: [], edited: [], checks: [] });

export interface PushFlow {
  after: string;
  files: PushedFile[];
  /** First event of this Probot instance: the installation token is asked for. */
  token?: boolean;
  /** The app's comment already on the commit (a redelivery finds and edits it); first use per app. */
  existing?: { id: number; body: string };
  /**
   * "ok": comment and check run succeed; "comment-lost": the comment POST dies with a network error
   * (the check run is never reached); "none": the flow stops after reading the files.
   */
  reply?: "ok" | "comment-lost" | "none";
}

export function nockPush(flow: PushFlow, replies: Replies): nock.Scope {
  const scope = flow.token ? nockInstallationToken(nock(API)) : nock(API);
  scope
    .get(`${REPO_PATH}/contents/.github%2Flicense-sync.yml`)
    .reply(200, "", { "content-type": "application/vnd.github.raw; charset=utf-8" });
  scope
    .get(`${REPO_PATH}/compare/${BEFORE_SHA}...${flow.after}`)
    .query({ per_page: "1" })
    .reply(200, { files: flow.files.map((f) => ({ filename: f.path, sha: f.blobSha, status: "modified" })) });
  for (const f of flow.files) scope.get(`${REPO_PATH}/git/blobs/${f.blobSha}`).reply(...rawBlob(f.bytes));
  const reply = flow.reply ?? "ok";
  if (reply === "none") return scope;
  allowDashboard();

  scope
    .get(`${REPO_PATH}/commits/${flow.after}/comments`)
    .query({ per_page: "100" })
    .reply(200, flow.existing ? [listedComment(flow.existing.id, flow.existing.body)] : []);
  // The app's own comment is told by its author: the app looks its bot account up (once).
  if (flow.existing) nockOwnApp(scope);
  if (reply === "comment-lost") {
    scope.post(`${REPO_PATH}/commits/${flow.after}/comments`).replyWithError({ code: "ECONNRESET", message: "socket hang up" });
    return scope;
  }
  if (flow.existing) {
    scope
      .patch(`${REPO_PATH}/comments/${flow.existing.id}`, (b: { body: string }) => (replies.edited.push(b.body), true))
      .optionally()
      .reply(200, { id: flow.existing.id });
  } else {
    scope.post(`${REPO_PATH}/commits/${flow.after}/comments`, (b: { body: string }) => (replies.created.push(b.body), true)).reply(201, { id: 90 });
  }
  scope.post(`${REPO_PATH}/check-runs`, (b: CheckBody) => (replies.checks.push(b), true)).reply(201, { id: 5 });
  return scope;
}
