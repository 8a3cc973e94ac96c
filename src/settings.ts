// Operator settings, read once from the environment. Repository-level settings live in
// .github/license-sync.yml (see repo-config.ts).

export interface Settings {
  /** LICENSE_SYNC_REPOS: designated repositories (owner/name, lower-cased); null = designated by config file. */
  designatedRepos: string[] | null;
  /** MAX_EXPORT_BYTES: largest export accepted, uncompressed. */
  maxExportBytes: number;
  /** MAX_PUSH_FILES / MAX_PUSH_BYTES: export files one push or pull request may carry, and their total size. */
  maxPushFiles: number;
  maxPushBytes: number;
  /** DATABASE_URL: sqlite:<path> (default ./data/license-sync.db) or postgres://… */
  databaseUrl: string;
  /** ATTACHMENT_HOSTS: extra host patterns attachments may be downloaded from (besides GitHub's own). */
  attachmentHosts: string[];
  /** ATTACHMENT_TIMEOUT_MS: time-out of one attachment download. */
  attachmentTimeoutMs: number;
  /** GHE_HOST / GHE_PROTOCOL: a GitHub Enterprise Server host the app runs against, if any. */
  gheHost: string | null;
  gheProtocol: "https" | "http";
  /** MAX_INSTANCES_PER_LEDGER: instances one ledger records at most (at least 1,000). */
  maxInstancesPerLedger: number;
  /** SHUTDOWN_TIMEOUT_SECONDS: how long a stopping app lets deliveries in flight finish. */
  shutdownTimeoutSeconds: number;
  /**
   * ENTERPRISE_TOKEN: a token with enterprise read access, tried for the live cloud report when the
   * app's own enterprise installation is absent or refused. Never logged.
   */
  enterpriseToken?: string | null;
}

export const DEFAULT_MAX_EXPORT_BYTES = 100 * 1024 * 1024;
export const DEFAULT_MAX_PUSH_FILES = 50;
export const DEFAULT_MAX_PUSH_BYTES = 200 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 25;
export const DEFAULT_DATABASE_URL = "sqlite:./data/license-sync.db";

export class SettingsError extends Error {
  override name = "SettingsError";
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new SettingsError(`${name} must be a positive whole number, got "${raw}"`);
  return n;
}

function atLeast(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const n = positiveInt(env, name, min);
  if (n < min) throw new SettingsError(`${name} must be at least ${min}, got ${n}`);
  return n;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** GHE_HOST as URL.host spells it: lower case, the protocol's default port dropped ("ghe:443" -> "ghe"). */
function gheHost(raw: string | undefined, protocol: "https" | "http"): string | null {
  const host = raw?.trim().toLowerCase();
  if (!host) return null;
  const defaultPort = protocol === "https" ? ":443" : ":80";
  return host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const repos = list(env.LICENSE_SYNC_REPOS).map((r) => r.toLowerCase());
  for (const r of repos) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(r)) throw new SettingsError(`LICENSE_SYNC_REPOS: "${r}" is not owner/name`);
  }
  const protocol = (env.GHE_PROTOCOL ?? "https").toLowerCase();
  if (protocol !== "https" && protocol !== "http") throw new SettingsError(`GHE_PROTOCOL must be https or http`);
  return {
    designatedRepos: repos.length ? repos : null,
    maxExportBytes: positiveInt(env, "MAX_EXPORT_BYTES", DEFAULT_MAX_EXPORT_BYTES),
    maxPushFiles: positiveInt(env, "MAX_PUSH_FILES", DEFAULT_MAX_PUSH_FILES),
    maxPushBytes: positiveInt(env, "MAX_PUSH_BYTES", DEFAULT_MAX_PUSH_BYTES),
    databaseUrl: env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL,
    attachmentHosts: list(env.ATTACHMENT_HOSTS).map((h) => h.toLowerCase()),
    attachmentTimeoutMs: positiveInt(env, "ATTACHMENT_TIMEOUT_MS", 60_000),
    gheHost: gheHost(env.GHE_HOST, protocol),
    gheProtocol: protocol,
    maxInstancesPerLedger: atLeast(env, "MAX_INSTANCES_PER_LEDGER", 1000),
    shutdownTimeoutSeconds: positiveInt(env, "SHUTDOWN_TIMEOUT_SECONDS", DEFAULT_SHUTDOWN_TIMEOUT_SECONDS),
    enterpriseToken: env.ENTERPRISE_TOKEN?.trim() || null,
  };
}
