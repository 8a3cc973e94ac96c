// The live cloud report, as the ledger remembers it: when the app last asked GitHub for the
// enterprise's consumed licenses, with which credential, what GitHub answered, and when GitHub last
// received each server's usage. Pure: reading GitHub's sync-status body, deciding whether a fetch
// is due, and the words the summary uses.

export type Credential = "installation" | "token";

/** One credential tried: not available, refused by GitHub (HTTP status), or the one used. */
export type CredentialAttempt =
  | { credential: Credential; outcome: "absent" }
  | { credential: Credential; outcome: "refused"; status: number; step: "installations" | "consumed-licenses" }
  | { credential: Credential; outcome: "used" };

/** GitHub's record of one server's license sync (GET /enterprises/{e}/license-sync-status). */
export interface ServerSync {
  serverId: string | null;
  hostName: string;
  lastSyncAt: Date | null;
  status: string | null;
  error: string | null;
}

export type CloudFetchOutcome =
  /** Fetched and recorded as the ledger's cloud report. */
  | "fetched"
  /** Every credential refused or absent. */
  | "refused"
  /** GitHub's answer is not a report the reader accepts. */
  | "invalid"
  /** GitHub failed (5xx after Probot's retries): tried again sooner than a refusal. */
  | "unavailable";

export interface CloudFetchState {
  enterprise: string;
  attemptedAt: Date;
  outcome: CloudFetchOutcome;
  attempts: CredentialAttempt[];
  /** The license-sync status (fetched outcome), or the HTTP status it was refused with. */
  sync: { ok: true; servers: ServerSync[] } | { ok: false; status: number } | null;
  /** `invalid`: the reader's first refusal, already free of personal data. */
  problem?: string;
  /** `unavailable`: the HTTP status GitHub failed with. */
  status?: number;
}

const HOURS = 60 * 60 * 1000;
/** After GitHub failed (5xx), the next summary may try again this soon. */
export const UNAVAILABLE_RETRY_HOURS = 1;

/**
 * A fetch is due when an enterprise is configured and neither the stored cloud report nor the
 * last attempt (whatever its outcome) is younger than `refreshHours`; a changed enterprise is due
 * at once. Remembering refusals this way keeps a refused credential from being retried on every
 * summary.
 */
export function cloudFetchDue(input: {
  enterprise: string | null;
  refreshHours: number;
  now: Date;
  /** When the ledger's current cloud report was recorded (any source), if it has one. */
  reportRecordedAt: Date | null;
  last: Pick<CloudFetchState, "enterprise" | "attemptedAt" | "outcome"> | null;
}): boolean {
  const { enterprise, refreshHours, now, reportRecordedAt, last } = input;
  if (!enterprise) return false;
  const within = (t: Date | null | undefined, hours: number) => !!t && now.getTime() - t.getTime() < hours * HOURS;
  if (last && last.enterprise.toLowerCase() !== enterprise.toLowerCase()) return true;
  const retryHours = last?.outcome === "unavailable" ? Math.min(refreshHours, UNAVAILABLE_RETRY_HOURS) : refreshHours;
  return !within(reportRecordedAt, refreshHours) && !within(last?.attemptedAt, retryHours);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function text(v: unknown, max = 200): string | null {
  if (typeof v === "string") return v.trim() ? v.trim().slice(0, max) : null;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

function date(v: unknown): Date | null {
  if (typeof v !== "string" && typeof v !== "number") return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function readServer(item: unknown): ServerSync | null {
  if (!isObject(item)) return null;
  // GitHub's published example nests values under `properties`, as a JSON schema would.
  const o = isObject(item.properties) ? item.properties : item;
  const hostName = text(o.hostname ?? o.host_name);
  if (!hostName) return null;
  const raw = o.last_sync;
  const last = isObject(raw) ? (isObject(raw.properties) ? raw.properties : raw) : {};
  return {
    serverId: text(o.server_id),
    hostName,
    lastSyncAt: date(last.date),
    status: text(last.status, 40),
    error: text(last.error),
  };
}

/**
 * The servers of a license-sync-status body. GitHub documents its shape only by an example that
 * looks like a schema (`properties.server_instances.items.properties`), so both that form and the
 * plain one (`server_instances: [{ server_id, hostname, last_sync: { date, status, error } }]`)
 * are read; anything else gives no servers.
 */
export function readLicenseSyncStatus(body: unknown): ServerSync[] {
  if (!isObject(body)) return [];
  let list: unknown = body.server_instances;
  if (list === undefined && isObject(body.properties)) {
    const si = body.properties.server_instances;
    list = isObject(si) ? si.items : si;
  }
  const items = Array.isArray(list) ? list : list === undefined ? [] : [list];
  const servers: ServerSync[] = [];
  for (const item of items.slice(0, 1000)) {
    const s = readServer(item);
    if (s) servers.push(s);
  }
  return servers.sort((a, b) => (a.hostName < b.hostName ? -1 : a.hostName > b.hostName ? 1 : 0));
}

const CREDENTIAL_NAMES: Record<Credential, string> = {
  installation: "the app's enterprise installation",
  token: "`ENTERPRISE_TOKEN`",
};

/** "the app's enterprise installation: not installed on `acme`; `ENTERPRISE_TOKEN`: refused (HTTP 403)". */
export function describeAttempts(attempts: readonly CredentialAttempt[], enterprise: string): string {
  return attempts
    .filter((a) => a.outcome !== "used")
    .map((a) => {
      const name = CREDENTIAL_NAMES[a.credential];
      if (a.outcome === "absent") {
        return a.credential === "installation" ? `${name}: the app is not installed on the enterprise \`${enterprise}\`` : `${name}: not set`;
      }
      if (a.outcome === "refused") {
        const what = a.step === "installations" ? "listing the app's installations" : "reading the consumed licenses";
        return `${name}: refused by GitHub (HTTP ${a.status}, ${what})`;
      }
      return name;
    })
    .join("; ");
}

export function credentialName(credential: Credential): string {
  return CREDENTIAL_NAMES[credential];
}

/** The state as stored (one JSON text per ledger): dates as ISO strings. */
export function encodeCloudFetch(state: CloudFetchState): string {
  return JSON.stringify(state);
}

const OUTCOMES: readonly CloudFetchOutcome[] = ["fetched", "refused", "invalid", "unavailable"];

/** Reads a stored state back; anything unreadable (a hand-edited row, a future format) is no state. */
export function decodeCloudFetch(text: string): CloudFetchState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(raw) || typeof raw.enterprise !== "string" || !OUTCOMES.includes(raw.outcome as CloudFetchOutcome)) return undefined;
  const attemptedAt = date(raw.attemptedAt);
  if (!attemptedAt) return undefined;
  const state: CloudFetchState = {
    enterprise: raw.enterprise,
    attemptedAt,
    outcome: raw.outcome as CloudFetchOutcome,
    attempts: Array.isArray(raw.attempts) ? (raw.attempts as CredentialAttempt[]) : [],
    sync: null,
  };
  const sync = raw.sync;
  if (isObject(sync) && sync.ok === true && Array.isArray(sync.servers)) {
    state.sync = {
      ok: true,
      servers: (sync.servers as unknown[]).filter(isObject).map((s) => ({
        serverId: typeof s.serverId === "string" ? s.serverId : null,
        hostName: String(s.hostName ?? ""),
        lastSyncAt: date(s.lastSyncAt),
        status: typeof s.status === "string" ? s.status : null,
        error: typeof s.error === "string" ? s.error : null,
      })),
    };
  } else if (isObject(sync) && sync.ok === false && typeof sync.status === "number") {
    state.sync = { ok: false, status: sync.status };
  }
  if (typeof raw.problem === "string") state.problem = raw.problem;
  if (typeof raw.status === "number") state.status = raw.status;
  return state;
}
