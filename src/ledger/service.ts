// LedgerService: what webhook handlers call. parse/validate -> identify (keyed hash) -> record ->
// count. Every write (and the totals it stores) happens inside one LedgerStore.write, under the
// ledger's lock, so concurrent deliveries or replicas cannot lose each other's accounts.
import { createHash } from "node:crypto";
import type { CloudFetchState } from "../domain/cloud-fetch.js";
import { countUsage } from "../domain/count.js";
import { formatFinding } from "../domain/findings.js";
import { identifyAccounts } from "../domain/identity.js";
import type { Finding, IdentifiedAccount, InstanceAccounts, InstanceInfo, MatchOptions, UsageReport } from "../domain/types.js";
import { readExportFast } from "../domain/fast-read.js";
import type { InstanceRecord, LedgerKey, LedgerReader, LedgerStore, Totals, UploadRow, UploadSource } from "../storage/ledger-store.js";
import type {
  FileResult,
  ForgetOutcome,
  Ledger,
  LedgerSummary,
  RecordOutcome,
  UploadContext,
  UploadInput,
} from "./types.js";

export interface LedgerServiceOptions {
  /** Largest export accepted, uncompressed. */
  maxBytes: number;
  /** Accounts kept in memory between uploads (decoded from the store); 0 disables the cache. */
  cacheAccounts?: number;
  /** Instances one ledger records at most; a new instance beyond it is refused (default 1,000). */
  maxInstances?: number;
}

export const DEFAULT_MAX_INSTANCES = 1000;

/** What one file's write leaves: its result and, when it changed the ledger, the state after it. */
interface Written {
  result: FileResult;
  summary?: LedgerSummary;
  /** The instance and accounts written, to cache once the transaction has committed. */
  record?: InstanceRecord;
  accounts?: IdentifiedAccount[];
}

/** A file read and reduced to identity keys, or its refusal. */
type Identified =
  | { ok: true; instance: InstanceInfo; warnings: Finding[]; accounts: IdentifiedAccount[] }
  | { ok: false; errors: Finding[]; warnings: Finding[] };

/** A ledger's state as read (or written) inside one transaction. */
interface LedgerState {
  instances: InstanceRecord[];
  accounts: Map<string, IdentifiedAccount[]>;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

// Findings never carry addresses by contract; this is the last guard before the database.
const EMAIL_LIKE = /[^\s@<>"'`/\\]+@[^\s@<>"'`/\\]+/g;
function errorSummary(text: string): string {
  const line = text.replace(EMAIL_LIKE, "<redacted>").replace(/\s+/g, " ").trim();
  return line.length > 500 ? line.slice(0, 499) + "…" : line;
}

/** File names are the user's to choose: keep addresses in them out of the history too. */
function safeSource(source: UploadSource): UploadSource {
  const clean = (t: string) => t.replace(EMAIL_LIKE, "<redacted>");
  if (source.kind === "commit") return { ...source, path: clean(source.path) };
  if (source.kind === "issue") return { ...source, file: clean(source.file) };
  return source;
}

function sameSource(a: UploadSource, b: UploadSource): boolean {
  if (a.kind === "commit" && b.kind === "commit") return a.sha === b.sha && a.path === b.path;
  if (a.kind === "issue" && b.kind === "issue") return a.issueNumber === b.issueNumber && a.file === b.file && a.commentId === b.commentId;
  return false;
}

/**
 * Seats of the ledger just before history row `id`: the totals of the newest earlier row that has
 * them (every change of the ledger writes one), 0 if none. Redeliveries come within days, so the
 * row is near the top; the window grows until it is found.
 */
async function seatsBeforeRow(tx: LedgerReader, id: number): Promise<number> {
  for (let limit = 64; ; limit *= 8) {
    const rows = await tx.history(limit);
    const at = rows.findIndex((r) => r.id === id);
    const previous = at < 0 ? undefined : rows.slice(at + 1).find((r) => r.totals !== null);
    if (previous?.totals) return previous.totals.seats;
    if (rows.length < limit) return 0;
  }
}

function totalsOf(report: UsageReport): Totals {
  return {
    seats: report.seats,
    accounts: report.accounts,
    deduplicated: report.deduplicated,
    instances: report.instances.length,
  };
}

function infoOf(r: InstanceRecord): InstanceInfo {
  const info: InstanceInfo = { serverId: r.serverId, hostName: r.hostName };
  if (r.ghesVersion !== undefined) info.ghesVersion = r.ghesVersion;
  if (r.httpOnly !== undefined) info.httpOnly = r.httpOnly;
  return info;
}

function sortInstances(list: InstanceRecord[]): InstanceRecord[] {
  return [...list].sort((a, b) =>
    a.hostName !== b.hostName ? (a.hostName < b.hostName ? -1 : 1) : a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0,
  );
}

function countOf(instances: InstanceRecord[], accounts: Map<string, IdentifiedAccount[]>, options: MatchOptions): UsageReport {
  const input: InstanceAccounts[] = instances.map((r) => ({ instance: infoOf(r), accounts: accounts.get(r.serverId) ?? [] }));
  return countUsage(input, options);
}

function summaryOf(instances: InstanceRecord[], accounts: Map<string, IdentifiedAccount[]>, options: MatchOptions): LedgerSummary {
  const report = countOf(instances, accounts, options);
  return { report, instances: sortInstances(instances), totals: totalsOf(report), generatedAt: new Date() };
}

/**
 * Current accounts of each instance, keyed by the content hash of its upload: an instance's accounts
 * change only with a new upload (new hash), so an entry is valid for as long as its hash is current,
 * whichever replica wrote it. Saves re-reading (and decoding) every instance on each upload.
 */
class AccountsCache {
  private readonly entries = new Map<string, IdentifiedAccount[]>();
  private size = 0;
  constructor(private readonly capacity: number) {}

  private static key(ledger: LedgerKey, r: Pick<InstanceRecord, "serverId" | "contentSha256">): string {
    return `${ledger.repoId}\n${r.serverId}\n${r.contentSha256}`;
  }

  get(ledger: LedgerKey, r: InstanceRecord): IdentifiedAccount[] | undefined {
    const key = AccountsCache.key(ledger, r);
    const hit = this.entries.get(key);
    if (hit) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(ledger: LedgerKey, r: Pick<InstanceRecord, "serverId" | "contentSha256">, accounts: IdentifiedAccount[]): void {
    if (accounts.length > this.capacity) return;
    const key = AccountsCache.key(ledger, r);
    const old = this.entries.get(key);
    if (old) this.size -= old.length;
    this.entries.set(key, accounts);
    this.size += accounts.length;
    for (const [k, v] of this.entries) {
      if (this.size <= this.capacity) break;
      this.entries.delete(k);
      this.size -= v.length;
    }
  }
}

export class LedgerService implements Ledger {
  private readonly cache: AccountsCache;

  constructor(
    private readonly store: LedgerStore,
    private readonly identityKey: (normalizedEmail: string) => string,
    private readonly limits: LedgerServiceOptions,
  ) {
    this.cache = new AccountsCache(limits.cacheAccounts ?? 2_000_000);
  }

  /** Every instance with its current accounts, from the cache where its content hash still matches. */
  private async readState(ledger: LedgerKey, tx: LedgerReader): Promise<LedgerState> {
    const instances = await tx.instances();
    const accounts = new Map<string, IdentifiedAccount[]>();
    const missing = instances.filter((r) => {
      const hit = this.cache.get(ledger, r);
      if (hit) accounts.set(r.serverId, hit);
      return !hit;
    });
    for (const r of missing) {
      const list = (await tx.accounts(r.serverId)).get(r.serverId) ?? [];
      accounts.set(r.serverId, list);
      this.cache.set(ledger, r, list);
    }
    return { instances, accounts };
  }

  private async readSummary(ledger: LedgerKey, tx: LedgerReader, options: MatchOptions): Promise<LedgerSummary> {
    const state = await this.readState(ledger, tx);
    return summaryOf(state.instances, state.accounts, options);
  }

  async recordUploads(ctx: UploadContext, inputs: UploadInput[]): Promise<RecordOutcome> {
    const results: FileResult[] = [];
    // The summary is the state left by the last write, counted inside it; read afresh only if no file was recorded.
    let last: LedgerSummary | null = null;
    for (const input of inputs) {
      const { result, summary } = await this.recordOne(ctx, input);
      results.push(result);
      if (summary) last = summary;
    }
    return { results, summary: last ?? (await this.summary(ctx.ledger, ctx.options)) };
  }

  /**
   * Reads and identifies one file. The export's Account objects stay local to this call, so they
   * are garbage as soon as it returns: only the identity keys live on into the write.
   */
  private identify(input: UploadInput): Identified {
    const parsed = readExportFast(input.bytes, input.file, { maxBytes: this.limits.maxBytes });
    if (!parsed.ok) return parsed;
    const { instance, warnings } = parsed.export;
    const accounts = identifyAccounts(parsed.export.accounts, this.identityKey);
    // GHES logins cannot hold an '@', but a hand-made file could put an address there: such a login
    // is stored as its keyed hash (lower-cased, so login matching still works), never as written.
    for (const a of accounts) if (a.login.includes("@")) a.login = `~${this.identityKey(a.login.toLowerCase())}`;
    return { ok: true, instance, warnings, accounts };
  }

  private async recordOne(ctx: UploadContext, input: UploadInput): Promise<Written> {
    const contentSha256 = sha256(input.bytes);
    const parsed = this.identify(input);
    const base = { source: safeSource(input.source), uploader: ctx.uploader, deliveryId: ctx.deliveryId, contentSha256 };
    if (!parsed.ok) {
      const first = parsed.errors[0];
      await this.store.write(ctx.ledger, (tx) =>
        tx.appendUpload({
          ...base,
          outcome: "refused",
          serverId: null,
          hostName: null,
          accountCount: null,
          added: null,
          removed: null,
          totals: null,
          errorSummary: errorSummary(first ? formatFinding(first) : `${input.file}: refused`) +
            (parsed.errors.length > 1 ? ` (+${parsed.errors.length - 1} more)` : ""),
        }),
      );
      return { result: { file: input.file, status: "refused", errors: parsed.errors, warnings: parsed.warnings } };
    }

    const { instance, warnings, accounts } = parsed;
    return this.store.write(ctx.ledger, async (tx): Promise<Written> => {
      const current = await tx.instance(instance.serverId);
      const earlier =
        ctx.deliveryId === null
          ? undefined
          : await tx.findRecorded({ deliveryId: ctx.deliveryId, serverId: instance.serverId, contentSha256 });
      if (earlier && sameSource(earlier.source, base.source) && current?.contentSha256 === contentSha256) {
        // A redelivery of the delivery that recorded this file, still the instance's current
        // upload (its reply may never have been posted): report what that delivery did, from its
        // history row, instead of "already recorded". Superseded since: "unchanged", as before.
        const seatsBefore = await seatsBeforeRow(tx, earlier.id);
        return {
          result: {
            file: input.file,
            status: "recorded",
            instance,
            accounts: earlier.accountCount ?? accounts.length,
            added: earlier.added,
            removed: earlier.removed,
            seatDelta: (earlier.totals?.seats ?? 0) - seatsBefore,
            warnings,
          },
        };
      }
      if (current?.contentSha256 === contentSha256 || earlier) {
        return { result: { file: input.file, status: "unchanged", instance, accounts: accounts.length, warnings } };
      }

      // Everything below reads and writes under the ledger's lock: one consistent state.
      const max = this.limits.maxInstances ?? DEFAULT_MAX_INSTANCES;
      if (!current && (await tx.instances()).length >= max) {
        // A bound on what one ledger costs to count and to answer, whoever uploads.
        const refusal: Finding = {
          file: input.file,
          path: "",
          message:
            `this ledger already records ${max.toLocaleString("en-US")} ${max === 1 ? "instance" : "instances"}, the most it takes, so the new instance ` +
            `${instance.hostName} (server_id ${instance.serverId}) was not recorded. Remove a decommissioned instance ` +
            `with "/license-sync forget <server_id>", or ask the app's operator to raise MAX_INSTANCES_PER_LEDGER.`,
        };
        await tx.appendUpload({
          ...base,
          outcome: "refused",
          serverId: instance.serverId,
          hostName: instance.hostName,
          accountCount: null,
          added: null,
          removed: null,
          totals: null,
          errorSummary: errorSummary(formatFinding(refusal)),
        });
        return { result: { file: input.file, status: "refused", errors: [refusal], warnings } };
      }
      const { instances, accounts: all } = await this.readState(ctx.ledger, tx);
      const before = countOf(instances, all, ctx.options);
      const previous = current ? (all.get(instance.serverId) ?? []) : null;

      const now = new Date();
      const record: InstanceRecord = {
        ...instance,
        firstUploadAt: current?.firstUploadAt ?? now,
        lastUploadAt: now,
        accountCount: accounts.length,
        contentSha256,
      };
      await tx.replaceAccounts(instance.serverId, accounts);
      await tx.upsertInstance(record);

      all.set(instance.serverId, accounts);
      const afterInstances = [...instances.filter((r) => r.serverId !== instance.serverId), record];
      const after = countOf(afterInstances, all, ctx.options);
      let added: number | null = null;
      let removed: number | null = null;
      if (previous) {
        const oldIds = new Set(previous.map((a) => a.userId));
        const newIds = new Set(accounts.map((a) => a.userId));
        added = accounts.filter((a) => !oldIds.has(a.userId)).length;
        removed = previous.filter((a) => !newIds.has(a.userId)).length;
      }
      await tx.appendUpload({
        ...base,
        outcome: "recorded",
        serverId: instance.serverId,
        hostName: instance.hostName,
        accountCount: accounts.length,
        added,
        removed,
        totals: totalsOf(after),
        errorSummary: null,
        at: now,
      });
      // Cached only once the transaction has committed: a rolled-back write must not be remembered.
      return {
        result: {
          file: input.file,
          status: "recorded",
          instance,
          accounts: accounts.length,
          added,
          removed,
          seatDelta: after.seats - before.seats,
          warnings,
        },
        summary: { report: after, instances: sortInstances(afterInstances), totals: totalsOf(after), generatedAt: now },
        record,
        accounts,
      };
    }).then(({ record, accounts: written, ...out }) => {
      if (record && written) this.cache.set(ctx.ledger, record, written);
      return out;
    });
  }

  /**
   * Validates only; nothing is written. FileResult has no "valid" status, so a valid file is
   * reported as "recorded" with added/removed null and seatDelta 0 (what recording it would start from).
   */
  async checkUploads(inputs: UploadInput[]): Promise<FileResult[]> {
    return inputs.map((input): FileResult => {
      const parsed = readExportFast(input.bytes, input.file, { maxBytes: this.limits.maxBytes });
      if (!parsed.ok) return { file: input.file, status: "refused", errors: parsed.errors, warnings: parsed.warnings };
      const accounts = parsed.export.accounts.filter((a) => !a.suspended).length;
      return {
        file: input.file,
        status: "recorded",
        instance: parsed.export.instance,
        accounts,
        added: null,
        removed: null,
        seatDelta: 0,
        warnings: parsed.export.warnings,
      };
    });
  }

  summary(ledger: LedgerKey, options: MatchOptions): Promise<LedgerSummary> {
    return this.store.read(ledger, (tx) => this.readSummary(ledger, tx, options));
  }

  async forget(ctx: UploadContext, target: string, source: UploadSource): Promise<ForgetOutcome> {
    const wanted = target.trim();
    return this.store.write(ctx.ledger, async (tx): Promise<ForgetOutcome> => {
      const instances = await tx.instances();
      const byId = instances.find((r) => r.serverId === wanted);
      const byHost = instances.filter((r) => r.hostName.toLowerCase() === wanted.toLowerCase());
      if (!byId && byHost.length > 1) return { status: "ambiguous", candidates: sortInstances(byHost) };
      const victim = byId ?? byHost[0];
      if (!victim) return { status: "not-found", summary: await this.readSummary(ctx.ledger, tx, ctx.options) };

      await tx.removeInstance(victim.serverId);
      const summary = await this.readSummary(ctx.ledger, tx, ctx.options);
      await tx.appendUpload({
        outcome: "removed",
        serverId: victim.serverId,
        hostName: victim.hostName,
        source,
        uploader: ctx.uploader,
        deliveryId: ctx.deliveryId,
        contentSha256: victim.contentSha256,
        accountCount: victim.accountCount,
        added: null,
        removed: null,
        totals: summary.totals,
        errorSummary: null,
      });
      return { status: "removed", instance: victim, summary };
    });
  }

  history(ledger: LedgerKey, limit?: number): Promise<UploadRow[]> {
    return this.store.read(ledger, (tx) => tx.history(limit));
  }

  cloudFetch(ledger: LedgerKey): Promise<CloudFetchState | undefined> {
    return this.store.read(ledger, (tx) => tx.cloudFetch());
  }

  saveCloudFetch(ledger: LedgerKey, state: CloudFetchState): Promise<void> {
    return this.store.write(ledger, (tx) => tx.saveCloudFetch(state));
  }
}
