// Shared set-up of the issue-path handler tests: real `issues` / `issue_comment` payloads from
// @octokit/webhooks-examples moved to the designated repository, a Probot on the real ledger.
import nock from "nock";
import type { Probot } from "probot";
import { licenseSync } from "../../src/index.js";
import type { Settings } from "../../src/settings.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { memoryLedger, testSettings } from "../helpers/ledger.js";
import { API, TEST_INSTALLATION_ID, createTestProbot, nockInstallationToken } from "../helpers/probot.js";
import { example, type Json } from "../helpers/payloads.js";

export { API };
export const OWNER = "acme";
export const REPO = "license-usage";
export const REPO_ID = 777;
export const ISSUE = 12;
export const REPO_API = `/repos/${OWNER}/${REPO}`;
export const CONFIG_PATH = /\/repos\/acme\/license-usage\/contents\/\.github(%2F|\/)license-sync\.yml$/;
/** Without a file in the repository, the config plugin looks in the owner's `.github` repository. */
export const ORG_CONFIG_PATH = /\/repos\/acme\/\.github\/contents\/\.github(%2F|\/)license-sync\.yml$/;

/** The repository has no .github/license-sync.yml (nor has the owner's .github repository). */
export function nockNoConfig(scope: nock.Scope): nock.Scope {
  return scope.get(CONFIG_PATH).reply(404, { message: "Not Found" }).get(ORG_CONFIG_PATH).reply(404, { message: "Not Found" });
}
export const UPLOAD_URL = `https://github.com/${OWNER}/${REPO}/upload/main/license-usage`;

function adapt(p: Json, o: { login?: string; senderType?: string; labels?: string[]; body?: string | null }): void {
  const repository = p.repository as Json;
  repository.id = REPO_ID;
  repository.name = REPO;
  repository.full_name = `${OWNER}/${REPO}`;
  repository.html_url = `https://github.com/${OWNER}/${REPO}`;
  repository.default_branch = "main";
  (repository.owner as Json).login = OWNER;
  p.installation = { id: TEST_INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  const sender = p.sender as Json;
  sender.login = o.login ?? "octo-admin";
  sender.type = o.senderType ?? "User";
  const issue = p.issue as Json;
  issue.number = ISSUE;
  issue.state = "open";
  issue.labels = (o.labels ?? []).map((name, i) => ({ id: i + 1, name, color: "ffffff", default: false }));
}

export interface IssueOptions {
  body: string | null;
  login?: string;
  senderType?: string;
  labels?: string[];
  /** For `edited`: the previous body (null: the edit changed the title only). */
  previousBody?: string | null;
}

export function issuesPayload(action: "opened" | "edited", o: IssueOptions): Json {
  const p = example("issues", (x) => x.action === action);
  adapt(p, o);
  (p.issue as Json).body = o.body;
  (p.issue as Json).user = { ...((p.issue as Json).user as Json), login: o.login ?? "octo-admin" };
  if (action === "edited") {
    p.changes = o.previousBody === null ? { title: { from: "Old title" } } : { body: { from: o.previousBody ?? "old body" } };
  }
  return p;
}

export function commentPayload(o: IssueOptions & { commentId?: number }): Json {
  const p = example("issue_comment", (x) => x.action === "created");
  adapt(p, o);
  const comment = p.comment as Json;
  comment.id = o.commentId ?? 5001;
  comment.body = o.body;
  comment.user = { ...(comment.user as Json), login: o.login ?? "octo-admin", type: o.senderType ?? "User" };
  return p;
}

export interface Harness {
  probot: Probot;
  ledger: LedgerService;
  store: LedgerStore;
  settings: Settings;
}

export async function harness(overrides: Partial<Settings> = {}): Promise<Harness> {
  const { ledger, store } = await memoryLedger();
  const settings = testSettings(overrides);
  const probot = createTestProbot();
  await probot.load(licenseSync({ ledger, settings }));
  return { probot, ledger, store, settings };
}

let delivery = 0;
export async function receive(h: Harness, name: "issues" | "issue_comment", payload: Json): Promise<void> {
  await h.probot.receive({ id: `delivery-${++delivery}`, name, payload } as Parameters<Probot["receive"]>[0]);
}

/** Token exchange, the repository config (none: defaults, or the YAML given), and the sender's role. */
export function nockEventStart(o: { role?: string | null; permission?: string; login?: string; configYaml?: string } = {}): nock.Scope {
  const scope = nockInstallationToken(nock(API));
  // A reply the ledger remembers from an earlier delivery but the scripted list leaves out: gone.
  nock(API).get(/\/issues\/comments\/\d+$/).optionally().reply(404, { message: "Not Found" });
  if (o.configYaml === undefined) nockNoConfig(scope);
  else scope.get(CONFIG_PATH).reply(200, o.configYaml);
  // role null: the event needs no permission look-up (help).
  if (o.role === null) return scope;
  const role = o.role ?? "admin";
  const permission = o.permission ?? (role === "maintain" || role === "write" ? "write" : role === "triage" ? "read" : role);
  scope
    .get(`${REPO_API}/collaborators/${o.login ?? "octo-admin"}/permission`)
    .reply(200, { permission, role_name: role, user: { login: o.login ?? "octo-admin" } });
  return scope;
}

/** Captures the bodies of created (POST) or edited (PATCH) comments, as a nock body matcher. */
export function captureBody(): { bodies: string[]; match: (body: { body: string }) => boolean } {
  const bodies: string[] = [];
  return { bodies, match: (b) => (bodies.push(b.body), true) };
}

export function assertNoPendingMocks(): void {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  if (pending.length) throw new Error(`pending mocks: ${pending.join(", ")}`);
}
