// The live cloud report through the real Probot clients: the app's JWT lists installations, the
// enterprise installation's token reads the licenses, ENTERPRISE_TOKEN is the fallback; every
// refusal is an outcome with what was tried, never an exception.
import { describe, it, expect, beforeEach, afterEach, jest } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import { EnterpriseReportClient, probotEnterpriseAuth } from "../../src/github/enterprise-report.js";
import { API, createTestProbot } from "../helpers/probot.js";

const ENTERPRISE = "acme-corp";
const ENT_INSTALLATION = 9001;
const LICENSES = `/enterprises/${ENTERPRISE}/consumed-licenses`;
const STATUS = `/enterprises/${ENTERPRISE}/license-sync-status`;

const orgInstallation = { id: 4242, target_type: "Organization", account: { login: "acme", id: 1 } };
const enterpriseInstallation = { id: ENT_INSTALLATION, target_type: "Enterprise", account: { slug: "Acme-Corp", name: "Acme Corp", id: 7 } };

function page(n: number) {
  return {
    total_seats_consumed: 250,
    total_seats_purchased: 300,
    users: [{ github_com_login: `user-${n}`, github_com_user: true, enterprise_server_user_ids: [] }],
  };
}

const SYNC_BODY = {
  server_instances: [{ server_id: "s-1", hostname: "ghes.corp.example", last_sync: { date: "2026-11-29T10:00:00Z", status: "success", error: "" } }],
};

function nockInstallations(scope: nock.Scope, list: object[] = [orgInstallation, enterpriseInstallation]): void {
  // Listed with the app's own JWT, never with an installation token.
  scope.get("/app/installations").query({ per_page: "100" }).matchHeader("authorization", /^bearer ey/).reply(200, list);
}

function nockEnterpriseToken(scope: nock.Scope, status = 201): void {
  scope
    .post(`/app/installations/${ENT_INSTALLATION}/access_tokens`)
    .reply(status, status === 201 ? { token: "ghs_enterprise", expires_at: "2099-01-01T00:00:00Z", permissions: { enterprise_administration: "read" } } : { message: "refused" });
}

/** Three pages linked by Link headers, then the sync status, all with the credential `auth`. */
function nockLicenses(scope: nock.Scope, statusReply: [number, object] = [200, SYNC_BODY], auth = "token ghs_enterprise"): void {
  const link = (n: number) => ({ link: `<${API}${LICENSES}?per_page=100&page=${n}>; rel="next"` });
  scope.get(LICENSES).query({ per_page: "100" }).matchHeader("authorization", auth).reply(200, page(1), link(2));
  scope.get(LICENSES).query({ per_page: "100", page: "2" }).matchHeader("authorization", auth).reply(200, page(2), link(3));
  scope.get(LICENSES).query({ per_page: "100", page: "3" }).matchHeader("authorization", auth).reply(200, page(3));
  scope.get(STATUS).matchHeader("authorization", auth).reply(...statusReply);
}

let probot: Probot;
beforeEach(() => {
  nock.disableNetConnect();
  probot = createTestProbot();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const realSetTimeout = globalThis.setTimeout;
/**
 * A 401 right after an installation token was made is retried by @octokit/auth-app for 5 s (token
 * replication): GitHub answers it 4 times, and fake timers run the waits at once.
 */
async function withReplicationRetries<T>(status: number, run: () => Promise<T>): Promise<T> {
  if (status !== 401) return run();
  jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
  try {
    let settled = false;
    const pending = run().finally(() => (settled = true));
    // Requests resolve on real I/O turns between the fake waits.
    for (let i = 0; i < 400 && !settled; i++) {
      await jest.advanceTimersByTimeAsync(250);
      await new Promise((resolve) => realSetTimeout(resolve, 5));
    }
    return await pending;
  } finally {
    jest.useRealTimers();
  }
}

function client(token: string | null = null, clock?: () => number): EnterpriseReportClient {
  return new EnterpriseReportClient(probotEnterpriseAuth(probot, token), clock);
}

describe("the app's enterprise installation", () => {
  it("finds the installation whose account is the enterprise (any case), reads every page and the sync status", async () => {
    const api = nock(API);
    nockInstallations(api);
    nockEnterpriseToken(api);
    nockLicenses(api);

    const got = await client("ghp_unused").fetch(ENTERPRISE);

    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.credential).toBe("installation");
    expect(got.pages).toEqual([page(1), page(2), page(3)]);
    expect(got.syncStatus).toEqual({ ok: true, data: SYNC_BODY });
    expect(got.attempts).toEqual([{ credential: "installation", outcome: "used" }]);
  });

  it("follows the installations list over pages and caches the look-up", async () => {
    const api = nock(API);
    api
      .get("/app/installations")
      .query({ per_page: "100" })
      .reply(200, [orgInstallation], { link: `<${API}/app/installations?per_page=100&page=2>; rel="next"` });
    api.get("/app/installations").query({ per_page: "100", page: "2" }).reply(200, [enterpriseInstallation]);
    const c = client();
    expect(await c.enterpriseInstallation(ENTERPRISE)).toBe(ENT_INSTALLATION);
    // Second call: no request (nock would refuse an unplanned one).
    expect(await c.enterpriseInstallation("ACME-CORP")).toBe(ENT_INSTALLATION);
  });

  it("an organization installation with the enterprise's name is not the enterprise's", async () => {
    const api = nock(API);
    nockInstallations(api, [{ id: 5, target_type: "Organization", account: { login: ENTERPRISE, slug: ENTERPRISE } }]);
    expect(await client().enterpriseInstallation(ENTERPRISE)).toBeNull();
  });

  it("a missing installation is looked up again once its cache time is over", async () => {
    let now = 0;
    const c = client(null, () => now);
    const api = nock(API);
    nockInstallations(api, [orgInstallation]);
    expect(await c.enterpriseInstallation(ENTERPRISE)).toBeNull();
    expect(await c.enterpriseInstallation(ENTERPRISE)).toBeNull();
    now += 11 * 60 * 1000;
    nockInstallations(api);
    expect(await c.enterpriseInstallation(ENTERPRISE)).toBe(ENT_INSTALLATION);
  });

  it("the license-sync status refused while the licenses are read: the report is kept, the status says why not", async () => {
    const api = nock(API);
    nockInstallations(api);
    nockEnterpriseToken(api);
    nockLicenses(api, [403, { message: "Resource not accessible by integration" }]);
    const got = await client().fetch(ENTERPRISE);
    expect(got).toMatchObject({ ok: true, credential: "installation", syncStatus: { ok: false, status: 403 } });
    if (got.ok) expect(got.pages).toHaveLength(3);
  });
});

describe("ENTERPRISE_TOKEN", () => {
  it("is used when the app has no enterprise installation", async () => {
    const api = nock(API);
    nockInstallations(api, [orgInstallation]);
    nockLicenses(api, [200, SYNC_BODY], "token ghp_enterprise_admin");
    const got = await client("ghp_enterprise_admin").fetch(ENTERPRISE);
    expect(got).toMatchObject({
      ok: true,
      credential: "token",
      attempts: [
        { credential: "installation", outcome: "absent" },
        { credential: "token", outcome: "used" },
      ],
    });
  });

  it.each([401, 403, 404])("is used when the installation is refused with %i on the licenses", async (status) => {
    const api = nock(API);
    nockInstallations(api);
    nockEnterpriseToken(api);
    api
      .get(LICENSES)
      .query({ per_page: "100" })
      .matchHeader("authorization", "token ghs_enterprise")
      .times(status === 401 ? 4 : 1)
      .reply(status, { message: "no" });
    api.get(LICENSES).query({ per_page: "100" }).matchHeader("authorization", "token ghp_admin").reply(200, page(1));
    api.get(STATUS).matchHeader("authorization", "token ghp_admin").reply(200, SYNC_BODY);
    const got = await withReplicationRetries(status, () => client("ghp_admin").fetch(ENTERPRISE));
    expect(got).toMatchObject({
      ok: true,
      credential: "token",
      attempts: [
        { credential: "installation", outcome: "refused", status, step: "consumed-licenses" },
        { credential: "token", outcome: "used" },
      ],
    });
  });

  it.each([403, 404])("is used when the installation's token is refused with %i", async (status) => {
    const api = nock(API);
    nockInstallations(api);
    nockEnterpriseToken(api, status);
    nockLicenses(api, [200, SYNC_BODY], "token ghp_admin");
    const got = await client("ghp_admin").fetch(ENTERPRISE);
    expect(got).toMatchObject({ ok: true, credential: "token" });
    if (got.ok) expect(got.attempts[0]).toEqual({ credential: "installation", outcome: "refused", status, step: "consumed-licenses" });
  });

  it("is used when the app's own JWT is refused listing installations", async () => {
    const api = nock(API);
    api.get("/app/installations").query(true).reply(401, { message: "'Expiration time' claim ('exp') is too far in the future" });
    nockLicenses(api, [200, SYNC_BODY], "token ghp_admin");
    const got = await client("ghp_admin").fetch(ENTERPRISE);
    expect(got).toMatchObject({ ok: true, credential: "token" });
    if (got.ok) expect(got.attempts[0]).toEqual({ credential: "installation", outcome: "refused", status: 401, step: "installations" });
  });
});

describe("refusals end in what was tried, never in an exception", () => {
  it("neither credential available", async () => {
    const api = nock(API);
    nockInstallations(api, [orgInstallation]);
    expect(await client(null).fetch(ENTERPRISE)).toEqual({
      ok: false,
      attempts: [
        { credential: "installation", outcome: "absent" },
        { credential: "token", outcome: "absent" },
      ],
    });
  });

  it.each([401, 403, 404])("the token refused with %i, no installation", async (status) => {
    const api = nock(API);
    nockInstallations(api, [orgInstallation]);
    api.get(LICENSES).query({ per_page: "100" }).reply(status, { message: "Must be an enterprise admin" });
    expect(await client("ghp_x").fetch(ENTERPRISE)).toEqual({
      ok: false,
      attempts: [
        { credential: "installation", outcome: "absent" },
        { credential: "token", outcome: "refused", status, step: "consumed-licenses" },
      ],
    });
  });

  it.each([401, 403, 404])("the installation refused with %i, no token", async (status) => {
    const api = nock(API);
    nockInstallations(api);
    nockEnterpriseToken(api);
    api
      .get(LICENSES)
      .query({ per_page: "100" })
      .times(status === 401 ? 4 : 1)
      .reply(status, { message: "no" });
    expect(await withReplicationRetries(status, () => client(null).fetch(ENTERPRISE))).toEqual({
      ok: false,
      attempts: [
        { credential: "installation", outcome: "refused", status, step: "consumed-licenses" },
        { credential: "token", outcome: "absent" },
      ],
    });
  });

  it("a refused installation is looked up afresh on the next fetch (it may have been removed)", async () => {
    const api = nock(API);
    nockInstallations(api);
    nockEnterpriseToken(api);
    api.get(LICENSES).query({ per_page: "100" }).reply(404, { message: "Not Found" });
    const c = client();
    expect((await c.fetch(ENTERPRISE)).ok).toBe(false);
    nockInstallations(api, [orgInstallation]);
    expect(await c.fetch(ENTERPRISE)).toMatchObject({ ok: false, attempts: [{ credential: "installation", outcome: "absent" }, { outcome: "absent" }] });
  });

  it("a server error is not a refusal: it is thrown, as every other API failure", async () => {
    const api = nock(API);
    nockInstallations(api, [orgInstallation]);
    api.get(LICENSES).query({ per_page: "100" }).reply(502, "Bad Gateway");
    await expect(client("ghp_x").fetch(ENTERPRISE)).rejects.toMatchObject({ status: 502 });
  });
});
