// A Probot for tests: no retries, no throttling (function-form defaults, or every test waits ~3 s),
// a private key generated per run (never a committed .pem), logs silenced unless LOG_LEVEL says so.
import { generateKeyPairSync } from "node:crypto";
import nock from "nock";
import { Probot, type ProbotOctokit } from "probot";
import { AppOctokit } from "../../src/github/octokit.js";

export const TEST_APP_ID = 1;
export const TEST_INSTALLATION_ID = 4242;
export const API = "https://api.github.com";

let cachedKey: string | undefined;
/** An RSA key made for this test run; GitHub never sees it, nock answers the token request. */
export function testPrivateKey(): string {
  cachedKey ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  return cachedKey;
}

// The app's own Octokit (main.ts runs with it), less retries and throttling.
export const TestOctokit = AppOctokit.defaults((o: ConstructorParameters<typeof ProbotOctokit>[0] & { throttle?: object }) => ({
  ...o,
  retry: { enabled: false },
  throttle: { ...o?.throttle, enabled: false },
}));

export function createTestProbot(options: { secret?: string; baseUrl?: string } = {}): Probot {
  return new Probot({
    appId: TEST_APP_ID,
    privateKey: testPrivateKey(),
    secret: options.secret ?? "test-secret",
    baseUrl: options.baseUrl,
    Octokit: TestOctokit,
    logLevel: (process.env.LOG_LEVEL as "info" | undefined) ?? "fatal",
  });
}

/** The installation-token exchange every authenticated event starts with. */
export function nockInstallationToken(scope: nock.Scope): nock.Scope {
  return scope.post(`/app/installations/${TEST_INSTALLATION_ID}/access_tokens`).reply(201, {
    token: "ghs_test",
    expires_at: "2099-01-01T00:00:00Z",
    permissions: { contents: "read", checks: "write", issues: "write", metadata: "read", pull_requests: "read" },
  });
}

/** GET /app (app JWT): the app's own slug, looked up once per app to know its bot account. */
export function nockOwnApp(scope: nock.Scope, slug = "license-sync"): nock.Scope {
  return scope.get("/app").reply(200, { id: TEST_APP_ID, slug, name: slug, owner: { login: "acme", type: "Organization" }, permissions: {}, events: [] });
}
