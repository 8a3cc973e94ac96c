// The live cloud report, as a step of every answer that shows a summary: with `enterprise:` in the
// config, a summary whose stored cloud report (and last attempt) is older than cloud_refresh_hours
// first fetches GitHub's report, records it, and then shows it; `/license-sync refresh` forces it.
// A refusal never fails the delivery: the summary says what was tried and how to provide the CSV.
import type { Context } from "probot";
import type { AppDeps } from "../deps.js";
import { readCloudReportPages } from "../domain/cloud-report.js";
import { cloudFetchDue, readLicenseSyncStatus, type CloudFetchState } from "../domain/cloud-fetch.js";
import { formatFinding } from "../domain/findings.js";
import type { RepoConfig } from "../domain/repo-config.js";
import type { LedgerSummary } from "../domain/types.js";
import type { LedgerKey } from "../storage/ledger-store.js";

type Log = Context["log"];

export interface LiveCloudInput {
  ledger: LedgerKey;
  config: RepoConfig;
  /** The summary the answer would show without a fetch. */
  summary: LedgerSummary;
  /** Who triggered it and with which delivery, for the ledger's history. */
  uploader: string;
  deliveryId: string | null;
  /** `/license-sync refresh`: fetch whatever the ages. */
  force?: boolean;
  log: Log;
  now?: Date;
}

/** What the answer shows, and whether a fetch just now changed the ledger (the dashboard then follows). */
export interface LiveCloudResult {
  summary: LedgerSummary;
  changed: boolean;
}

/** The summary to show: after a fetch when one was due, with the last fetch's state attached. */
export async function withLiveCloudReport(deps: AppDeps, input: LiveCloudInput): Promise<LiveCloudResult> {
  const { config, ledger, log } = input;
  const enterprise = config.enterprise;
  if (!enterprise || !deps.enterpriseReports) return { summary: input.summary, changed: false };
  const now = input.now ?? new Date();
  const last = await deps.ledger.cloudFetch(ledger);
  const due =
    input.force ||
    cloudFetchDue({
      enterprise,
      refreshHours: config.cloudRefreshHours,
      now,
      reportRecordedAt: input.summary.enterprise?.report.recordedAt ?? null,
      last: last ?? null,
    });
  if (!due) return { summary: last && last.enterprise === enterprise ? { ...input.summary, cloudFetch: last } : input.summary, changed: false };

  const { state, summary, changed } = await fetchAndRecord(deps, { ...input, enterprise, now });
  await deps.ledger.saveCloudFetch(ledger, state);
  const statuses = state.attempts.map((a) => `${a.credential}:${a.outcome === "refused" ? a.status : a.outcome}`);
  log.info(
    { outcome: `cloud-${state.outcome}`, enterprise, attempts: statuses, ...(summary.totals.enterpriseSeats !== undefined ? { enterpriseSeats: summary.totals.enterpriseSeats } : {}) },
    "live cloud report fetched",
  );
  return { summary: { ...summary, cloudFetch: state }, changed };
}

async function fetchAndRecord(
  deps: AppDeps,
  input: LiveCloudInput & { enterprise: string; now: Date },
): Promise<{ state: CloudFetchState; summary: LedgerSummary; changed: boolean }> {
  const { enterprise, now } = input;
  const base = { enterprise, attemptedAt: now, sync: null };
  let got;
  try {
    got = await deps.enterpriseReports!.fetch(enterprise);
  } catch (error) {
    // A refusal is an outcome already; what is left here is GitHub failing after Probot's retries
    // (5xx): the summary says so and the next one tries again sooner. Anything else is a bug: thrown.
    const status = (error as { status?: unknown }).status;
    if (typeof status !== "number" || status < 500) throw error;
    return { state: { ...base, outcome: "unavailable", attempts: [], status }, summary: input.summary, changed: false };
  }
  if (!got.ok) return { state: { ...base, outcome: "refused", attempts: got.attempts }, summary: input.summary, changed: false };

  const sync: CloudFetchState["sync"] = got.syncStatus.ok
    ? { ok: true, servers: readLicenseSyncStatus(got.syncStatus.data) }
    : { ok: false, status: got.syncStatus.status };
  const read = readCloudReportPages(got.pages, `consumed-licenses of ${enterprise}`);
  if (!read.ok) {
    const first = read.errors[0];
    const problem = first ? formatFinding(first) : "not a license report";
    return { state: { ...base, outcome: "invalid", attempts: got.attempts, sync, problem }, summary: input.summary, changed: false };
  }
  const recorded = await deps.ledger.recordCloudReport(
    { ledger: input.ledger, uploader: input.uploader, deliveryId: input.deliveryId, options: input.config.match },
    read.report,
    { kind: "api", enterprise },
  );
  const changed = recorded.results.some((r) => r.status === "recorded");
  return { state: { ...base, outcome: "fetched", attempts: got.attempts, sync }, summary: recorded.summary, changed };
}
