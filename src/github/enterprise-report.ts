// The live cloud report: GitHub's consumed-licenses pages and license-sync status of one
// enterprise, fetched with the first credential GitHub accepts: the app's own enterprise
// installation, then ENTERPRISE_TOKEN. A refusal (401/403/404) is an outcome, never an exception:
// the caller tells the owner what was tried. Anything else (network, 5xx after Probot's retries)
// is thrown, as every other API failure is.
import type { Context } from "probot";
import type { CredentialAttempt } from "../domain/cloud-fetch.js";

type Octokit = Context["octokit"];

/** How the app gets its clients; built from Probot in index.ts, from a test Probot in tests. */
export interface EnterpriseAuth {
  /** The app itself (JWT): lists the app's installations. */
  asApp(): Promise<Octokit>;
  asInstallation(installationId: number): Promise<Octokit>;
  /** A client with ENTERPRISE_TOKEN, or null when it is not set. */
  asToken(): Promise<Octokit | null>;
}

export type EnterpriseFetch =
  | {
      ok: true;
      credential: "installation" | "token";
      /** The consumed-licenses pages as GitHub sent them, in order. */
      pages: unknown[];
      /** The license-sync-status body, or the HTTP status it was refused with. */
      syncStatus: { ok: true; data: unknown } | { ok: false; status: number };
      /** Every credential tried before (and including) the one that worked. */
      attempts: CredentialAttempt[];
    }
  | { ok: false; attempts: CredentialAttempt[] };

const REFUSALS = new Set([401, 403, 404]);

function refusalStatus(error: unknown): number | null {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && REFUSALS.has(status) ? status : null;
}

interface CachedInstallation {
  id: number | null;
  until: number;
}

/** Installation look-ups are kept this long (a found one), or this long (none found). */
const FOUND_TTL_MS = 60 * 60 * 1000;
const MISSING_TTL_MS = 10 * 60 * 1000;

export class EnterpriseReportClient {
  private readonly installations = new Map<string, CachedInstallation>();

  constructor(
    private readonly auth: EnterpriseAuth,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The id of the app's installation on `enterprise` (slug, any case), or null; cached. */
  async enterpriseInstallation(enterprise: string): Promise<number | null> {
    const slug = enterprise.toLowerCase();
    const cached = this.installations.get(slug);
    if (cached && cached.until > this.clock()) return cached.id;
    const app = await this.auth.asApp();
    let id: number | null = null;
    for await (const { data } of app.paginate.iterator("GET /app/installations", { per_page: 100 })) {
      const hit = data.find(
        (i) => i.target_type === "Enterprise" && (i.account as { slug?: unknown } | null)?.slug?.toString().toLowerCase() === slug,
      );
      if (hit) {
        id = hit.id;
        break;
      }
    }
    this.installations.set(slug, { id, until: this.clock() + (id === null ? MISSING_TTL_MS : FOUND_TTL_MS) });
    return id;
  }

  private forget(enterprise: string): void {
    this.installations.delete(enterprise.toLowerCase());
  }

  /** Tries the installation, then the token; the first that reads the licenses is used for both endpoints. */
  async fetch(enterprise: string): Promise<EnterpriseFetch> {
    const attempts: CredentialAttempt[] = [];

    let installation: Octokit | null = null;
    try {
      const id = await this.enterpriseInstallation(enterprise);
      if (id === null) attempts.push({ credential: "installation", outcome: "absent" });
      else installation = await this.auth.asInstallation(id);
    } catch (error) {
      const status = refusalStatus(error);
      if (status === null) throw error;
      // The app's own JWT refused (clock skew, a revoked key): say so, go on with the token.
      attempts.push({ credential: "installation", outcome: "refused", status, step: "installations" });
    }
    if (installation) {
      const got = await this.read(installation, enterprise);
      if (got.ok) return { ...got, credential: "installation", attempts: [...attempts, { credential: "installation", outcome: "used" }] };
      // A removed installation answers 404 on its token: look it up afresh next time.
      this.forget(enterprise);
      attempts.push({ credential: "installation", outcome: "refused", status: got.status, step: "consumed-licenses" });
    }

    const token = await this.auth.asToken();
    if (!token) {
      attempts.push({ credential: "token", outcome: "absent" });
      return { ok: false, attempts };
    }
    const got = await this.read(token, enterprise);
    if (got.ok) return { ...got, credential: "token", attempts: [...attempts, { credential: "token", outcome: "used" }] };
    attempts.push({ credential: "token", outcome: "refused", status: got.status, step: "consumed-licenses" });
    return { ok: false, attempts };
  }

  /** Every consumed-licenses page (100 users each), then the sync status with the same client. */
  private async read(
    octokit: Octokit,
    enterprise: string,
  ): Promise<{ ok: true; pages: unknown[]; syncStatus: Extract<EnterpriseFetch, { ok: true }>["syncStatus"] } | { ok: false; status: number }> {
    const pages: unknown[] = [];
    try {
      // The iterator follows the Link header; each page is kept whole (totals are on the first).
      const route = "GET /enterprises/{enterprise}/consumed-licenses";
      for await (const response of octokit.paginate.iterator(route, { enterprise, per_page: 100 })) {
        pages.push(response.data);
      }
    } catch (error) {
      const status = refusalStatus(error);
      if (status === null) throw error;
      return { ok: false, status };
    }
    try {
      const { data } = await octokit.request("GET /enterprises/{enterprise}/license-sync-status", { enterprise });
      return { ok: true, pages, syncStatus: { ok: true, data } };
    } catch (error) {
      const status = refusalStatus(error);
      if (status === null) throw error;
      return { ok: true, pages, syncStatus: { ok: false, status } };
    }
  }
}

/**
 * The app's clients from Probot: `auth()` is the app (JWT), `auth(id)` an installation, and the
 * token client is the same Octokit class (so the same retry, throttling, base URL and request
 * logging, which never logs the Authorization header), authenticated with the token instead.
 */
export function probotEnterpriseAuth(probot: { auth(installationId?: number): Promise<Octokit> }, token: string | null): EnterpriseAuth {
  let tokenClient: Octokit | undefined;
  return {
    asApp: () => probot.auth(),
    asInstallation: (id) => probot.auth(id),
    async asToken() {
      if (!token) return null;
      if (!tokenClient) {
        const app = await probot.auth();
        const ProbotClient = app.constructor as new (options: { auth: { token: string } }) => Octokit;
        tokenClient = new ProbotClient({ auth: { token } });
      }
      return tokenClient;
    },
  };
}
