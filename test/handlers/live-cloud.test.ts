// The live cloud report end to end through the app: real issue_comment and push payloads, the
// repository config naming an enterprise, GitHub answered by nock on both credential paths and
// every refusal. A refusal is a line in the reply, never a failed delivery.
import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import { exportJson, users } from "../helpers/exports.js";
import { allowDashboard } from "../helpers/dashboard.js";
import type { Settings } from "../../src/settings.js";
import {
  API,
  CONFIG_PATH,
  ISSUE,
  REPO_API,
  REPO_ID,
  assertNoPendingMocks,
  captureBody,
  commentPayload,
  harness,
  nockEventStart,
  receive,
  type Harness,
} from "./issues-support.js";

const LEDGER = { repoId: REPO_ID, fullName: "acme/license-usage" };
const OPTS = { allEmails: false, logins: false };
const COMMENT_ID = 5001;
const ENTERPRISE = "acme-corp";
const ENT_INSTALLATION = 9001;
const LICENSES = `/enterprises/${ENTERPRISE}/consumed-licenses`;
const STATUS = `/enterprises/${ENTERPRISE}/license-sync-status`;
const CONFIG = `enterprise: ${ENTERPRISE}\n`;

/** Three pages of the consumed-licenses report: u1..u3 on GHEC, u1 and u2 also on ghes-a. */
function page(n: number) {
  return {
    total_seats_consumed: 4,
    total_seats_purchased: 10,
    users: [
      {
        github_com_login: `cloud${n}`,
        github_com_user: true,
        github_com_verified_domain_emails: [`u${n}@corp.example`],
        enterprise_server_user_ids: n < 3 ? [`ghes-a.corp.example:${n}`] : [],
        license_type: "Enterprise",
      },
    ],
  };
}
const SYNC_BODY = {
  server_instances: [{ server_id: "server-a", hostname: "ghes-a.corp.example", last_sync: { date: "2026-11-29T10:00:00Z", status: "success", error: "" } }],
};

function nockInstallations(scope: nock.Scope, withEnterprise: boolean): void {
  const list = [
    { id: 4242, target_type: "Organization", account: { login: "acme", id: 1 } },
    ...(withEnterprise ? [{ id: ENT_INSTALLATION, target_type: "Enterprise", account: { slug: ENTERPRISE, id: 7 } }] : []),
  ];
  scope.get("/app/installations").query({ per_page: "100" }).matchHeader("authorization", /^bearer ey/).reply(200, list);
}

function nockEnterpriseToken(scope: nock.Scope): void {
  scope.post(`/app/installations/${ENT_INSTALLATION}/access_tokens`).reply(201, { token: "ghs_enterprise", expires_at: "2099-01-01T00:00:00Z" });
}

function nockLicenses(scope: nock.Scope, auth: string, statusReply: [number, object] = [200, SYNC_BODY]): void {
  const link = (n: number) => ({ link: `<${API}${LICENSES}?per_page=100&page=${n}>; rel="next"` });
  scope.get(LICENSES).query({ per_page: "100" }).matchHeader("authorization", auth).reply(200, page(1), link(2));
  scope.get(LICENSES).query({ per_page: "100", page: "2" }).matchHeader("authorization", auth).reply(200, page(2), link(3));
  scope.get(LICENSES).query({ per_page: "100", page: "3" }).matchHeader("authorization", auth).reply(200, page(3));
  scope.get(STATUS).matchHeader("authorization", auth).reply(...statusReply);
}

function nockCommandReply(scope: nock.Scope, capture: ReturnType<typeof captureBody>): void {
  scope.get(`${REPO_API}/issues/${ISSUE}/comments`).query(true).reply(200, []);
  scope.post(`${REPO_API}/issues/${ISSUE}/comments`, capture.match).reply(201, { id: 9100 });
}

let h: Harness;
async function start(settings: Partial<Settings> = {}): Promise<void> {
  h = await harness(settings);
  await h.ledger.recordUploads({ ledger: LEDGER, uploader: "seed", deliveryId: null, options: OPTS }, [
    { file: "a.json", bytes: Buffer.from(exportJson("server-a", "ghes-a.corp.example", users(1, 2))), source: { kind: "commit", sha: "0".repeat(40), path: "a.json" } },
  ]);
}
beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(async () => {
  await h.store.close();
  assertNoPendingMocks();
});

/** The command's reply. `again`: a later event of the same app, whose installation token is cached. */
async function refresh(body = "/license-sync refresh", again = false): Promise<string> {
  // A fetch that records a new report brings the dashboard up to date (asserted in its own test).
  allowDashboard();
  const api = again ? nock(API) : nockEventStart({ role: "write", configYaml: CONFIG });
  if (again) {
    api.get(CONFIG_PATH).reply(200, CONFIG);
    api.get(`${REPO_API}/collaborators/octo-admin/permission`).reply(200, { permission: "write", role_name: "write" });
    // The earlier reply, remembered by the ledger, is not in the scripted list: gone.
    api.get(/\/issues\/comments\/\d+$/).optionally().reply(404, { message: "Not Found" });
  }
  const capture = captureBody();
  nockCommandReply(api, capture);
  await receive(h, "issue_comment", commentPayload({ body, commentId: COMMENT_ID }));
  return capture.bodies[0] ?? "";
}

describe("/license-sync refresh", () => {
  it("with the app's enterprise installation: all pages recorded as the cloud report, sync status per server", async () => {
    await start();
    const api = nock(API);
    nockInstallations(api, true);
    nockEnterpriseToken(api);
    nockLicenses(api, "token ghs_enterprise");
    // The report changed the ledger: the dashboard (none yet) is made, with the enterprise's seats.
    const dashboards: string[] = [];
    api.get(`${REPO_API}/issues`).query(true).reply(200, []);
    api.post(`${REPO_API}/issues`, (b: { title?: string; body?: string }) => (b.title ? (dashboards.push(b.body ?? ""), true) : false)).reply(201, { number: 77, state: "open" });

    const body = await refresh();

    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]).toMatch(/enterprise seats consumed/);
    expect(body).toContain("was fetched");
    expect(body).toContain("with the app's enterprise installation");
    expect(body).toMatch(/\| ghes-a\.corp\.example \| 2026-11-29 10:00 UTC \(.*\) \| success \|/);
    expect(body).toMatch(/"enterprise_seats":\d+/);
    const state = await h.ledger.cloudFetch(LEDGER);
    expect(state).toMatchObject({ enterprise: ENTERPRISE, outcome: "fetched", attempts: [{ credential: "installation", outcome: "used" }] });
    const summary = await h.ledger.summary(LEDGER, OPTS);
    expect(summary.enterprise?.report).toMatchObject({ memberCount: 3, reportedSeats: 4, source: { kind: "api", enterprise: ENTERPRISE } });
  });

  it("with ENTERPRISE_TOKEN when the installation is refused (403)", async () => {
    await start({ enterpriseToken: "ghp_owner" });
    const api = nock(API);
    nockInstallations(api, true);
    nockEnterpriseToken(api);
    api.get(LICENSES).query({ per_page: "100" }).matchHeader("authorization", "token ghs_enterprise").reply(403, { message: "Resource not accessible by integration" });
    nockLicenses(api, "token ghp_owner");

    const body = await refresh();

    expect(body).toContain("with `ENTERPRISE_TOKEN`");
    expect(body).toContain("first tried the app's enterprise installation: refused by GitHub (HTTP 403, reading the consumed licenses)");
    expect(body).not.toContain("ghp_owner");
    expect((await h.ledger.summary(LEDGER, OPTS)).enterprise?.report.memberCount).toBe(3);
  });

  it("the sync status refused while the licenses are read: recorded, and the summary says why the status is missing", async () => {
    await start();
    const api = nock(API);
    nockInstallations(api, true);
    nockEnterpriseToken(api);
    nockLicenses(api, "token ghs_enterprise", [403, { message: "Must be an enterprise admin" }]);

    const body = await refresh();

    expect(body).toContain("GitHub's license-sync status could not be read (HTTP 403)");
    expect((await h.ledger.summary(LEDGER, OPTS)).enterprise?.report.memberCount).toBe(3);
  });

  it.each([403, 404])("every credential refused (installation absent, token %i): a clear line, nothing recorded, the delivery succeeds", async (status) => {
    await start({ enterpriseToken: "ghp_owner" });
    const api = nock(API);
    nockInstallations(api, false);
    api.get(LICENSES).query({ per_page: "100" }).reply(status, { message: "Not Found" });

    const body = await refresh();

    expect(body).toContain(`GitHub's license report for the enterprise \`${ENTERPRISE}\` could not be fetched`);
    expect(body).toContain(
      `Tried the app's enterprise installation: the app is not installed on the enterprise \`${ENTERPRISE}\`; \`ENTERPRISE_TOKEN\`: refused by GitHub (HTTP ${status}, reading the consumed licenses)`,
    );
    expect(body).toContain("commit it to the export folder");
    expect((await h.ledger.summary(LEDGER, OPTS)).enterprise).toBeUndefined();
    expect(await h.ledger.cloudFetch(LEDGER)).toMatchObject({ outcome: "refused" });
  });

  it("neither credential available", async () => {
    await start();
    const api = nock(API);
    nockInstallations(api, false);
    const body = await refresh();
    expect(body).toContain("`ENTERPRISE_TOKEN`: not set");
    expect(body).toContain("Export license usage");
  });

  it("needs write access: a read-only commenter gets the refusal and GitHub is not asked", async () => {
    await start();
    const api = nockEventStart({ role: "read", configYaml: CONFIG, login: "visitor" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync refresh", login: "visitor" }));
    expect(capture.bodies[0]).toContain("Only people with write access to this repository can use license-sync commands");
    expect(await h.ledger.cloudFetch(LEDGER)).toBeUndefined();
  });

  it("without `enterprise` in the config: says how to enable it, asks GitHub nothing", async () => {
    await start();
    const api = nockEventStart({ role: "write", configYaml: "stale_after_days: 30\n" });
    const capture = captureBody();
    nockCommandReply(api, capture);
    await receive(h, "issue_comment", commentPayload({ body: "/license-sync refresh" }));
    expect(capture.bodies[0]).toContain("Nothing to refresh");
  });
});

describe("/license-sync report: fetched when due, not retried after a refusal", () => {
  it("a refusal is remembered: the next summary shows it again without asking GitHub", async () => {
    await start();
    const api = nock(API);
    nockInstallations(api, false);
    const first = await refresh("/license-sync report");
    expect(first).toContain("could not be fetched");
    assertNoPendingMocks();

    // Within cloud_refresh_hours: no installation listing, no licenses request (nock refuses any).
    const second = await refresh("/license-sync report", true);
    expect(second).toContain("could not be fetched");
  });

  it("a fresh stored report is not fetched again; refresh fetches it anyway", async () => {
    await start();
    let api = nock(API);
    nockInstallations(api, true);
    nockEnterpriseToken(api);
    nockLicenses(api, "token ghs_enterprise");
    expect(await refresh("/license-sync report")).toContain("was fetched");
    assertNoPendingMocks();

    expect(await refresh("/license-sync report", true)).toContain("was fetched");
    assertNoPendingMocks();

    api = nock(API);
    // The installation look-up is cached; the installation token too.
    nockLicenses(api, "token ghs_enterprise");
    expect(await refresh("/license-sync refresh", true)).toContain("was fetched");
  });
});
