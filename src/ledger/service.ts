// LedgerService: what webhook handlers call. parse/validate -> identify (keyed hash) -> record ->
// count. Every write (and the totals it stores) happens inside one LedgerStore.write, under the
// ledger's lock, so concurrent deliveries or replicas cannot lose each other's accounts.
import { ReplyClaims, type ReplyClaimOptions } from "./reply-claims.js";
import type { ReadElsewhere } from "./export-reads.js";
import { createHash } from "node:crypto";
import type { CloudFetchState } from "../domain/cloud-fetch.js";
import { isCsvName, readUpload, readUploadIdentified, readUploadWith, type CloudMember, type CloudReport } from "../domain/cloud-report.js";
import { readExportSet, readPlainExportSet, type KeyWriter } from "../domain/fast-read.js";
import { accountChanges, AccountIds, AccountSet, instanceWithSet, type HeldAccounts } from "../domain/account-set.js";
import { countRoom, countUsage, matchAccountSets } from "../domain/count.js";
import { KeyInterner } from "../domain/key-ids.js";
import { CountScratch } from "../domain/scratch.js";
import { decodeLedgerIds, encodeLedgerIds, type LedgerIds } from "../domain/ledger-ids.js";
import { countEnterprise } from "../domain/enterprise.js";
import { formatFinding } from "../domain/findings.js";
import type {
  CloudReportRecord,
  Finding,
  IdentifiedAccount,
  InstanceAccounts,
  InstanceInfo,
  LedgerEnterprise,
  MatchOptions,
  UsageReport,
} from "../domain/types.js";
import type { InstanceRecord, LedgerKey, LedgerReader, LedgerStore, LedgerWriter, Totals, UploadRow, UploadSource } from "../storage/ledger-store.js";
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
  /** Bytes of account sets kept in memory between uploads (default 768 MiB); 0 disables the cache. */
  cacheBytes?: number;
  /** Cloud report members kept in memory between uploads (default 2,000,000); 0 disables that cache. */
  cacheAccounts?: number;
  /** Instances one ledger records at most; a new instance beyond it is refused (default 1,000). */
  maxInstances?: number;
  /** Leases on reply targets (tests shorten them). */
  replyClaims?: ReplyClaimOptions;
  /** Accounts from which a ledger's interned ids are stored (default LEDGER_IDS_MIN_ACCOUNTS; tests lower it). */
  idsMinAccounts?: number;
  /**
   * Reads a pushed export elsewhere (a worker thread: workerReads) while a cold ledger of at least
   * idsMinAccounts accounts is loaded here; without it, one after the other.
   */
  readElsewhere?: ReadElsewhere | null;
}

export const DEFAULT_MAX_INSTANCES = 1000;

/** What one file's write leaves: its result and, when it changed the ledger, the state after it. */
interface Written {
  result: FileResult;
  summary?: LedgerSummary;
  /** The instance and accounts written, to cache once the transaction has committed. */
  record?: InstanceRecord;
  accounts?: AccountSet;
  /** The uploads the ledger's ids saved by the write cover, to remember once it has committed. */
  idsCover?: Set<string>;
}

/** A file read and reduced to identity keys, or its refusal ("cloud": a GHEC license report). */
type Identified =
  | { ok: true; instance: InstanceInfo; warnings: Finding[]; accounts: IdentifiedAccount[] | AccountSet }
  | { ok: true; cloud: CloudReport }
  | { ok: false; errors: Finding[]; warnings: Finding[]; cloud?: true };

/** The ledger's cloud report with its members (keys hashed). */
interface StoredCloud {
  record: CloudReportRecord;
  members: CloudMember[];
}

/** A ledger's state as read (or written) inside one transaction. */
interface LedgerState {
  instances: InstanceRecord[];
  /** Sets, or only their ids where the interner holds them (after a restart: see readState). */
  accounts: Map<string, HeldAccounts>;
  cloud: StoredCloud | null;
  /** The ledger's keys as integers, kept across counts (see KeyInterner). */
  interner?: KeyInterner;
  /** The service's working arrays for counts (see CountScratch). */
  scratch?: CountScratch;
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
 * This content from this source is already the source's last row, refused: a redelivery, or the
 * same file read again (an issue edited elsewhere). Answered the same, with no second history row,
 * as an unchanged recorded upload is.
 */
async function refusedAlready(tx: LedgerReader, source: UploadSource, contentSha256: string): Promise<boolean> {
  const last = await tx.lastFromSource(source);
  return last?.outcome === "refused" && last.contentSha256 === contentSha256;
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

/**
 * What the GHES seats of a state depend on: the options and each instance's upload (its content hash
 * stands for its accounts, as for the accounts cache). Equal fingerprints, equal seats.
 */
function seatsFingerprint(instances: InstanceRecord[], options: MatchOptions): string {
  const uploads = instances.map((r) => `${r.serverId}\n${r.contentSha256}`).sort();
  return `${options.allEmails ? 1 : 0}${options.logins ? 1 : 0}\n${uploads.join("\n")}`;
}

/** The fingerprint as stored with the ledger (a digest: a ledger may hold a thousand instances). */
/** Ledgers whose interned keys are kept (each holds tables the size of its accounts). */
const INTERNERS_KEPT = 8;

/**
 * A ledger's interned ids are stored (ledger_ids) once it holds this many accounts: interning them
 * again after a restart costs ~0.4 s per million accounts, while writing them costs every such push
 * ~16 MB per 2 million accounts; below it a restart's interning is a small share of a push.
 */
export const LEDGER_IDS_MIN_ACCOUNTS = 500_000;
/** Ledgers whose stored ids' coverage is remembered (a forgotten one is written again at its next push). */
const IDS_COVER_KEPT = 256;
const uploadKey = (r: Pick<InstanceRecord, "serverId" | "contentSha256">) => `${r.serverId}\n${r.contentSha256}`;

/** What the interner of a state is sized for besides the ledger: the accounts being recorded, or as many as its largest set's. */
type Incoming = Pick<AccountSet, "count" | "keyCount"> | typeof LIKE_LARGEST;
const LIKE_LARGEST = "like the largest set";

const storedPrint = (fingerprint: string) => createHash("sha256").update(fingerprint).digest("base64url");

/** Seats by state fingerprint, last used last: a push's "before" is usually the previous push's "after". */
class SeatsMemo {
  private readonly seats = new Map<string, number>();
  constructor(private readonly capacity = 64) {}

  get(fingerprint: string): number | undefined {
    return this.seats.get(fingerprint);
  }

  set(fingerprint: string, seats: number): void {
    this.seats.delete(fingerprint);
    this.seats.set(fingerprint, seats);
    for (const oldest of this.seats.keys()) {
      if (this.seats.size <= this.capacity) break;
      this.seats.delete(oldest);
    }
  }
}

const NO_ACCOUNTS = AccountSet.fromAccounts([]);

/** An identity hasher that also writes its keys as bytes (createHmacSha256's, keys of 16 bytes: the sets' form). */
function isKeyWriter(f: (normalizedEmail: string) => string): f is ((normalizedEmail: string) => string) & KeyWriter {
  const w = f as Partial<KeyWriter> & { bytes?: number };
  return w.bytes === 16 && typeof w.textInto === "function" && typeof w.lowerAsciiInto === "function";
}

/** The state's instances for a count, their accounts made only if a count asks (the enterprise count), and its GHES matching. */
function matchState(state: LedgerState, options: MatchOptions) {
  const sets = state.instances.map((r) => state.accounts.get(r.serverId) ?? NO_ACCOUNTS);
  const input: InstanceAccounts[] = state.instances.map((r, i) => instanceWithSet(infoOf(r), sets[i]!));
  return { input, matching: matchAccountSets(input, sets, options, state.interner ?? new KeyInterner(), state.scratch) };
}

function countOf(state: LedgerState, options: MatchOptions): UsageReport {
  const { input, matching } = matchState(state, options);
  return countUsage(input, options, matching);
}

/** The GHES count, and with a cloud report the enterprise figures over the same instances. */
function summaryOf(state: LedgerState, options: MatchOptions, generatedAt = new Date()): LedgerSummary {
  // one matching of the GHES accounts for both counts
  const { input, matching } = matchState(state, options);
  const report = countUsage(input, options, matching);
  const totals = totalsOf(report);
  const summary: LedgerSummary = { report, instances: sortInstances(state.instances), totals, generatedAt };
  if (state.cloud) {
    const enterprise: LedgerEnterprise = {
      figures: countEnterprise(input, cloudReportOf(state.cloud), options, matching),
      report: state.cloud.record,
    };
    totals.enterpriseSeats = enterprise.figures.seats;
    summary.enterprise = enterprise;
  }
  return summary;
}

function cloudReportOf(c: StoredCloud): CloudReport {
  const r = c.record;
  // rows (members or not) is not kept: counting needs only the members.
  return { file: r.file, format: r.format, members: c.members, reportedSeats: r.reportedSeats, linkedHosts: r.linkedHosts, rows: c.members.length, warnings: [] };
}

/** Members added and removed (by login) against the previous report's. */
function memberChanges(previous: CloudMember[], next: CloudMember[]): { added: number; removed: number } {
  const before = new Set(previous.map((m) => m.login.toLowerCase()));
  const after = new Set(next.map((m) => m.login.toLowerCase()));
  let added = 0;
  let removed = 0;
  for (const l of after) if (!before.has(l)) added++;
  for (const l of before) if (!after.has(l)) removed++;
  return { added, removed };
}

/** A content hash for a report that arrived already read (the API fetch): same members, same hash. */
function reportDigest(report: CloudReport): string {
  const canonical = JSON.stringify([report.format, report.reportedSeats, report.linkedHosts, report.members]);
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * Current accounts of each instance (and members of the cloud report), keyed by the content hash of
 * their upload: they change only with a new upload (new hash), so an entry is valid for as long as
 * its hash is current, whichever replica wrote it. Saves re-reading (and decoding) them on each upload.
 * Bounded by `sizeOf` summed over the entries (accounts, or bytes), least recently used out first.
 */
class SizedCache<T> {
  private readonly entries = new Map<string, T>();
  private size = 0;
  constructor(
    private readonly capacity: number,
    private readonly sizeOf: (value: T) => number,
  ) {}

  get(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: T): void {
    const size = this.sizeOf(value);
    if (size > this.capacity) return;
    const old = this.entries.get(key);
    if (old) this.size -= this.sizeOf(old);
    this.entries.delete(key);
    this.entries.set(key, value);
    this.size += size;
    for (const [k, v] of this.entries) {
      if (this.size <= this.capacity) break;
      this.entries.delete(k);
      this.size -= this.sizeOf(v);
    }
  }
}

const accountsKey = (ledger: LedgerKey, r: Pick<InstanceRecord, "serverId" | "contentSha256">) => `${ledger.repoId}\n${r.serverId}\n${r.contentSha256}`;
const membersKey = (ledger: LedgerKey, r: Pick<CloudReportRecord, "contentSha256">) => `${ledger.repoId}\n${r.contentSha256}`;

export class LedgerService implements Ledger {
  private readonly cache: SizedCache<AccountSet>;
  private readonly memberCache: SizedCache<CloudMember[]>;
  /** Seats of recently counted states: the ledger is counted once per push, not before and after. */
  private readonly seatsMemo = new SeatsMemo();
  /** Per ledger: its keys as integers, so a count of a big ledger matches integers, not strings. */
  private readonly interners = new Map<number, KeyInterner>();
  /**
   * One set of working arrays for every count this service makes (counts are synchronous, one at a
   * time): a push's count allocates no 100 MB of arrays at 2 million accounts. Holds the largest
   * count's (~50 bytes per account).
   */
  private readonly scratch = new CountScratch();

  /**
   * Per ledger: the uploads (server id and content hash) its stored ids cover, as this process last
   * saved or restored them; last used last.
   */
  private readonly idsCover = new Map<number, Set<string>>();

  /** Per interner: the instances (by uploadKey) it holds only as ids, restored so. */
  private readonly standIns = new WeakMap<KeyInterner, Map<string, AccountIds>>();

  /**
   * The ledger's interner; a new one once it holds far more keys than the ledger (replaced instances'
   * keys). None kept (after a restart): restored from the ledger's stored ids when `stored` is given
   * and they serve, else empty.
   */
  private internerFor(ledger: LedgerKey, accounts: Map<string, HeldAccounts>, incoming?: Incoming, stored?: { snapshot: LedgerIds | null; instances: InstanceRecord[] }): KeyInterner {
    let live = 0;
    let keys = 0;
    let largest: HeldAccounts = NO_ACCOUNTS;
    for (const set of accounts.values()) {
      live += set.count;
      keys += set.keyCount;
      if (set.count > largest.count) largest = set;
    }
    const sized = incoming === LIKE_LARGEST ? largest : incoming;
    live += sized?.count ?? 0;
    keys += sized?.keyCount ?? 0;
    let interner = this.interners.get(ledger.repoId);
    if (!interner && stored) {
      const { snapshot } = stored;
      const held = new Map(stored.instances.map((r) => [r.serverId, { set: accounts.get(r.serverId) ?? NO_ACCOUNTS, contentSha256: r.contentSha256 }]));
      interner = (snapshot && KeyInterner.restore(snapshot, held, live, keys)) ?? undefined;
      // what the stored ids cover (nothing, if unusable or saved without their dictionary by an earlier
      // version: the next push of a big ledger saves them again)
      this.rememberCover(ledger, interner && snapshot?.dictionary ? new Set(snapshot.entries.map(uploadKey)) : new Set());
    }
    // sized for the ledger with the upload being recorded, so a fresh ledger's tables need not grow;
    // garbage (replaced instances' keys) measured against the ledger's keys, not its accounts: with
    // all_emails an account may hold many
    if (!interner || interner.emailCount > 3 * keys + 10_000) interner = new KeyInterner(live, undefined, keys);
    // The ledgers counted lately keep theirs (last used last); an idle ledger's tables are let go.
    this.interners.delete(ledger.repoId);
    this.interners.set(ledger.repoId, interner);
    for (const repoId of this.interners.keys()) {
      if (this.interners.size <= INTERNERS_KEPT) break;
      this.interners.delete(repoId);
    }
    return interner;
  }

  private rememberCover(ledger: LedgerKey, cover: Set<string>): void {
    this.idsCover.delete(ledger.repoId);
    this.idsCover.set(ledger.repoId, cover);
    for (const repoId of this.idsCover.keys()) {
      if (this.idsCover.size <= IDS_COVER_KEPT) break;
      this.idsCover.delete(repoId);
    }
  }

  /**
   * The ledger's ids to save with a write that counted it (every set interned), when it is big (see
   * LEDGER_IDS_MIN_ACCOUNTS) and its stored ids cover less than 3/4 of its accounts: a replaced
   * instance of many does not rewrite them, and a restart never interns more than about a quarter.
   */
  private idsToSave(ledger: LedgerKey, state: LedgerState): { data: Uint8Array; cover: Set<string> } | null {
    if (!state.interner) return null;
    const known = this.idsCover.get(ledger.repoId);
    let total = 0;
    let covered = 0;
    const entries: { serverId: string; contentSha256: string; set: HeldAccounts }[] = [];
    for (const r of state.instances) {
      const set = state.accounts.get(r.serverId);
      // a set of keys as texts is not stored (tests' keys; not the hasher's)
      if (!set || (set instanceof AccountSet && !set.keyWords)) continue;
      total += set.count;
      if (known?.has(uploadKey(r))) covered += set.count;
      entries.push({ serverId: r.serverId, contentSha256: r.contentSha256, set });
    }
    if (total < (this.limits.idsMinAccounts ?? LEDGER_IDS_MIN_ACCOUNTS) || 4 * covered >= 3 * total) return null;
    const ids = state.interner.snapshot(entries);
    return { data: encodeLedgerIds(ids), cover: new Set(ids.entries.map(uploadKey)) };
  }

  /** The identity hasher's 16-byte keys written straight into account sets, when it can (ledger/hmac.ts). */
  private readonly keyWriter: KeyWriter | null;

  constructor(
    private readonly store: LedgerStore,
    private readonly identityKey: (normalizedEmail: string) => string,
    private readonly limits: LedgerServiceOptions,
  ) {
    this.keyWriter = isKeyWriter(identityKey) ? identityKey : null;
    // 50 instances x 100,000 accounts take about 300 MB as account sets (their interned ids as much again).
    this.cache = new SizedCache(limits.cacheBytes ?? 768 * 2 ** 20, (set) => set.byteSize);
    this.memberCache = new SizedCache(limits.cacheAccounts ?? 2_000_000, (members) => members.length);
    this.replies = new ReplyClaims(store, limits.replyClaims);
  }

  readonly replies: ReplyClaims;

  /**
   * Every instance with its current accounts, and the cloud report, from the caches where their
   * content hash still matches. `incoming`: accounts about to be recorded (the interner is sized for
   * them too). After a restart, the ledger's stored ids with their dictionary stand in for the sets
   * they number (AccountIds: a GHES count needs no more), unless `whole` or a cloud report asks for
   * every account (the enterprise count), or the count wants secondary keys the ids lack.
   */
  private async readState(ledger: LedgerKey, tx: LedgerReader, options: MatchOptions, incoming?: Incoming, whole = false): Promise<LedgerState> {
    const instances = await tx.instances();
    const record = await tx.cloudReport();
    const idsServe = !whole && !record;
    const kept = this.interners.get(ledger.repoId);
    const standing = kept && idsServe ? this.standIns.get(kept) : undefined;
    // a stand-in serves while its interner holds what this count needs (secondary keys, with all_emails)
    const standIn = (r: InstanceRecord) => {
      const ids = standing?.get(uploadKey(r));
      return ids && kept!.holds(ids, options.allEmails) ? ids : undefined;
    };
    const accounts = new Map<string, HeldAccounts>();
    const missing = instances.filter((r) => {
      const hit = this.cache.get(accountsKey(ledger, r)) ?? standIn(r);
      if (hit) accounts.set(r.serverId, hit);
      return !hit;
    });
    // After a restart (no interner kept, most sets missing): the ledger's stored ids, read first.
    const restore = !kept && missing.length > 0 && 2 * missing.length >= instances.length;
    const stored = restore ? await tx.ledgerIds() : null;
    const snapshot = stored ? decodeLedgerIds(stored) : null;
    const standIns = new Map<string, AccountIds>();
    if (snapshot?.dictionary && idsServe && (snapshot.withSecondary || !options.allEmails)) {
      const byServer = new Map(missing.map((r) => [r.serverId, r]));
      for (const e of snapshot.entries) {
        const r = byServer.get(e.serverId);
        if (r && r.contentSha256 === e.contentSha256 && r.accountCount === e.count) standIns.set(r.serverId, new AccountIds(e.count, e.keyCount));
      }
    }
    await this.readSets(ledger, tx, missing.filter((r) => !standIns.has(r.serverId)), instances.length, accounts);
    for (const [serverId, ids] of standIns) accounts.set(serverId, ids);
    let cloud: StoredCloud | null = null;
    if (record) {
      let members = this.memberCache.get(membersKey(ledger, record));
      if (!members) {
        members = await tx.cloudMembers();
        this.memberCache.set(membersKey(ledger, record), members);
      }
      cloud = { record, members };
    }
    const interner = this.internerFor(ledger, accounts, incoming, restore ? { snapshot, instances } : undefined);
    // stand-ins the interner does not hold (a restore refused, or its tables made anew): their sets read after all
    const unheld = instances.filter((r) => {
      const held = accounts.get(r.serverId);
      return held instanceof AccountIds && !interner.holds(held, options.allEmails);
    });
    await this.readSets(ledger, tx, unheld, instances.length, accounts);
    const held = instances.filter((r) => accounts.get(r.serverId) instanceof AccountIds);
    if (standIns.size > 0 && held.length > 0) {
      // what later reads of this interner may stand in with (their content hash keys them, as the cache's)
      this.standIns.set(interner, new Map(held.map((r) => [uploadKey(r), accounts.get(r.serverId) as AccountIds])));
    }
    return { instances, accounts, cloud, scratch: this.scratch, interner };
  }

  /** The sets of `missing` (of a ledger of `total` instances) read into `accounts` and the cache: most of them in one query. */
  private async readSets(ledger: LedgerKey, tx: LedgerReader, missing: InstanceRecord[], total: number, accounts: Map<string, HeldAccounts>): Promise<void> {
    // Most of them missing (after a restart): in one query, not one per instance (on PostgreSQL ~0.4 s less at 20 x 100,000).
    const all = missing.length > 1 && 2 * missing.length >= total ? await tx.accountSets() : null;
    for (const r of missing) {
      const set = (all ?? (await tx.accountSets(r.serverId))).get(r.serverId) ?? NO_ACCOUNTS;
      accounts.set(r.serverId, set);
      this.cache.set(accountsKey(ledger, r), set);
    }
  }

  /** `save`: the write that changed the ledger; it stores the seats for the next push (after a restart, or on another replica). */
  private async readSummary(ledger: LedgerKey, tx: LedgerReader, options: MatchOptions, save?: LedgerWriter): Promise<LedgerSummary> {
    const state = await this.readState(ledger, tx, options);
    const summary = summaryOf(state, options);
    const print = seatsFingerprint(state.instances, options);
    this.seatsMemo.set(print, summary.report.seats);
    if (save) await save.saveCountedSeats(storedPrint(print), summary.report.seats);
    return summary;
  }

  /**
   * The GHES seats of a state: remembered when this process counted it lately, or stored by the
   * write that made it (this process before a restart, or another replica); else a whole recount.
   */
  private async seatsOf(state: LedgerState, options: MatchOptions, tx: LedgerReader): Promise<number> {
    const print = seatsFingerprint(state.instances, options);
    const remembered = this.seatsMemo.get(print);
    if (remembered !== undefined) return remembered;
    const stored = await tx.countedSeats();
    return stored?.state === storedPrint(print) ? stored.seats : countOf(state, options).seats;
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
   * identify, for a push into a big ledger this process holds nothing of (after a restart): the file
   * read elsewhere (a worker thread) while the ledger is loaded here, into the caches the write then
   * finds (its sets by content hash, its interner restored from the stored ids). What the ledger's
   * lock guards is read again under it: a set another replica replaced meanwhile misses the cache.
   * The count's arrays (countRoom) are made there too, once the file is read, and adopted here if ready.
   */
  private async identifyWhileLoading(ledger: LedgerKey, input: UploadInput, options: MatchOptions): Promise<Identified> {
    const elsewhere = this.limits.readElsewhere;
    if (!elsewhere || !this.keyWriter || isCsvName(input.file) || this.interners.has(ledger.repoId)) return this.identify(input);
    // the ledger's size and, if big, its loading: one read
    const started = await this.store.read(ledger, async (tx) => {
      const rows = await tx.instances();
      let accounts = 0;
      let largest = 0;
      for (const r of rows) {
        accounts += r.accountCount;
        largest = Math.max(largest, r.accountCount);
      }
      if (accounts < (this.limits.idsMinAccounts ?? LEDGER_IDS_MIN_ACCOUNTS)) return null;
      // the count's arrays made there too, after the read (the ledger with a set as large as its largest added)
      const room = this.scratch.lacking(countRoom(accounts + largest, rows.length + 1, options));
      // never rejects (a failed read elsewhere is null)
      const reading = elsewhere(input.bytes, input.file, this.limits.maxBytes, room.length ? room.map((r) => r.length) : undefined).catch(() => null);
      // sized as if the pushed set were the largest one (it is not read yet)
      await this.readState(ledger, tx, options, LIKE_LARGEST);
      return { reading, room };
    });
    const read = started && (await started.reading);
    if (!read) return this.identify(input);
    const made = read.takeRoom?.();
    if (made) started.room.forEach((r, i) => this.scratch.adopt(r.slot, made[i]!));
    return { ok: true, instance: read.instance, warnings: read.warnings, accounts: read.accounts };
  }

  /**
   * Reads and identifies one file: a GHES export or a GHEC license report. The export's Account
   * objects stay local to this call, so they are garbage as soon as it returns: only the identity
   * keys live on into the write.
   */
  private identify(input: UploadInput): Identified {
    const limits = { maxBytes: this.limits.maxBytes };
    const writer = this.keyWriter;
    // The usual export in one pass; anything else (a cloud report, an invalid or unusual export) as readUpload reads it.
    const plain = writer && !isCsvName(input.file) ? readPlainExportSet(input.bytes, input.file, limits, writer) : null;
    if (plain) return { ok: true, instance: plain.instance, warnings: plain.warnings, accounts: plain.accounts };
    const read = writer
      ? readUploadWith(input.bytes, input.file, limits, (b) => readExportSet(b, input.file, limits, this.identityKey, writer))
      : readUploadIdentified(input.bytes, input.file, limits, this.identityKey);
    if (read.kind === "cloud") {
      return read.result.ok ? { ok: true, cloud: read.result.report } : { ...read.result, cloud: true };
    }
    const parsed = read.result;
    if (!parsed.ok) return parsed;
    const { instance, warnings, accounts } = parsed.export;
    // Read straight to a set: no login there holds an '@' (readExportSet leaves such a file to the ordinary way).
    if (accounts instanceof AccountSet) return { ok: true, instance, warnings, accounts };
    // GHES logins cannot hold an '@', but a hand-made file could put an address there: such a login
    // is stored as its keyed hash (lower-cased, so login matching still works), never as written.
    for (const a of accounts) if (a.login.includes("@")) a.login = this.safeLogin(a.login);
    return { ok: true, instance, warnings, accounts };
  }

  private safeLogin(login: string): string {
    return login.includes("@") ? `~${this.identityKey(login.toLowerCase())}` : login;
  }

  /**
   * A cloud report as the ledger keeps it: every key (verified e-mail, NameID) as its keyed hash,
   * logins and links plain, except anything holding an '@', which no login or host name can.
   */
  private hashMembers(report: CloudReport): { members: CloudMember[]; linkedHosts: string[] } {
    const members = report.members.map(
      (m): CloudMember => ({
        login: this.safeLogin(m.login),
        keys: m.keys.map((k) => this.identityKey(k)),
        links: m.links.some((l) => l.host.includes("@")) ? m.links.filter((l) => !l.host.includes("@")) : m.links,
        visualStudio: m.visualStudio,
      }),
    );
    return { members, linkedHosts: report.linkedHosts.filter((h) => !h.includes("@")) };
  }

  private async recordOne(ctx: UploadContext, input: UploadInput): Promise<Written> {
    const contentSha256 = sha256(input.bytes);
    const parsed = await this.identifyWhileLoading(ctx.ledger, input, ctx.options);
    const base = { source: safeSource(input.source), uploader: ctx.uploader, deliveryId: ctx.deliveryId, contentSha256 };
    if (!parsed.ok) {
      const first = parsed.errors[0];
      await this.store.write(ctx.ledger, async (tx) => {
        if (await refusedAlready(tx, base.source, contentSha256)) return;
        await tx.appendUpload({
          ...base,
          ...(parsed.cloud ? { subject: "cloud" as const } : {}),
          outcome: "refused",
          serverId: null,
          hostName: null,
          accountCount: null,
          added: null,
          removed: null,
          totals: null,
          errorSummary: errorSummary(first ? formatFinding(first) : `${input.file}: refused`) +
            (parsed.errors.length > 1 ? ` (+${parsed.errors.length - 1} more)` : ""),
        });
      });
      return { result: { file: input.file, status: "refused", errors: parsed.errors, warnings: parsed.warnings } };
    }
    if ("cloud" in parsed) return this.writeCloudReport(ctx, parsed.cloud, { ...base, file: input.file });

    const { instance, warnings } = parsed;
    // The compact form from here on (throws on a repeated user id, which would count someone twice).
    const accounts = parsed.accounts instanceof AccountSet ? parsed.accounts : AccountSet.fromAccounts(parsed.accounts);
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
            accounts: earlier.accountCount ?? accounts.count,
            added: earlier.added,
            removed: earlier.removed,
            seatDelta: (earlier.totals?.seats ?? 0) - seatsBefore,
            warnings,
          },
        };
      }
      if (current?.contentSha256 === contentSha256 || earlier) {
        return { result: { file: input.file, status: "unchanged", instance, accounts: accounts.count, warnings } };
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
        if (!(await refusedAlready(tx, base.source, contentSha256))) {
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
        }
        return { result: { file: input.file, status: "refused", errors: [refusal], warnings } };
      }
      const state = await this.readState(ctx.ledger, tx, ctx.options, accounts);
      const seatsBefore = await this.seatsOf(state, ctx.options, tx);
      const held = current ? (state.accounts.get(instance.serverId) ?? NO_ACCOUNTS) : null;
      // what the push added and removed: from the replaced set itself, read where only its ids are held
      const previous = held instanceof AccountIds ? ((await tx.accountSets(instance.serverId)).get(instance.serverId) ?? NO_ACCOUNTS) : held;

      const now = new Date();
      const record: InstanceRecord = {
        ...instance,
        firstUploadAt: current?.firstUploadAt ?? now,
        lastUploadAt: now,
        accountCount: accounts.count,
        contentSha256,
      };
      // The set goes to the database while the ledger is counted here: a server (PostgreSQL) stores it
      // meanwhile, and the instance's row after it (queued on the transaction's connection).
      const sent = await tx.sendAccounts(instance.serverId, accounts);
      const upserted = tx.upsertInstance(record);
      // awaited below, unless something fails first
      upserted.catch(() => undefined);

      state.accounts.set(instance.serverId, accounts);
      state.instances = [...state.instances.filter((r) => r.serverId !== instance.serverId), record];
      let after: LedgerSummary;
      try {
        after = summaryOf(state, ctx.options, now);
      } catch (err) {
        await Promise.allSettled([sent.stored, upserted]);
        throw err;
      }
      await sent.stored;
      await upserted;
      const afterPrint = seatsFingerprint(state.instances, ctx.options);
      this.seatsMemo.set(afterPrint, after.report.seats);
      await tx.saveCountedSeats(storedPrint(afterPrint), after.report.seats);
      const ids = this.idsToSave(ctx.ledger, state);
      if (ids) await tx.saveLedgerIds(ids.data);
      let added: number | null = null;
      let removed: number | null = null;
      if (previous) ({ added, removed } = accountChanges(previous, accounts));
      await tx.appendUpload({
        ...base,
        outcome: "recorded",
        serverId: instance.serverId,
        hostName: instance.hostName,
        accountCount: accounts.count,
        added,
        removed,
        totals: after.totals,
        errorSummary: null,
        at: now,
      });
      // Cached only once the transaction has committed: a rolled-back write must not be remembered.
      return {
        result: {
          file: input.file,
          status: "recorded",
          instance,
          accounts: accounts.count,
          added,
          removed,
          seatDelta: after.report.seats - seatsBefore,
          warnings,
        },
        summary: after,
        record,
        accounts,
        ...(ids ? { idsCover: ids.cover } : {}),
      };
    }).then(({ record, accounts: written, idsCover, ...out }) => {
      if (record && written) this.cache.set(accountsKey(ctx.ledger, record), written);
      if (idsCover) this.rememberCover(ctx.ledger, idsCover);
      return out;
    });
  }

  /**
   * Records a GHEC license report that was already read (the API fetch) as the ledger's one cloud
   * report: the later one replaces it; identical content is recognised as unchanged.
   */
  async recordCloudReport(
    ctx: UploadContext,
    report: CloudReport,
    source: UploadSource,
    contentSha256 = reportDigest(report),
  ): Promise<RecordOutcome> {
    const { result, summary } = await this.writeCloudReport(ctx, report, {
      source: safeSource(source),
      uploader: ctx.uploader,
      deliveryId: ctx.deliveryId,
      contentSha256,
      file: report.file,
    });
    return { results: [result], summary: summary ?? (await this.summary(ctx.ledger, ctx.options)) };
  }

  private async writeCloudReport(
    ctx: UploadContext,
    report: CloudReport,
    base: { source: UploadSource; uploader: string; deliveryId: string | null; contentSha256: string; file: string },
  ): Promise<Written> {
    const { contentSha256, file } = base;
    const info = (replaces: Date | null) => ({
      format: report.format,
      members: report.members.length,
      reportedSeats: report.reportedSeats,
      replaces,
    });
    // Hashed before the lock is taken: 300,000 members cost a second of HMACs.
    const hashed = this.hashMembers(report);
    const written = await this.store.write(ctx.ledger, async (tx): Promise<Written & { members?: CloudMember[]; stored?: CloudReportRecord }> => {
      const current = await tx.cloudReport();
      if (current?.contentSha256 === contentSha256) {
        return { result: { file, status: "unchanged", cloud: info(null), warnings: report.warnings } };
      }
      const earlier =
        base.deliveryId === null ? undefined : await tx.findRecorded({ deliveryId: base.deliveryId, contentSha256, subject: "cloud" });
      // A late redelivery of a report superseded since must not bring it back.
      if (earlier) return { result: { file, status: "unchanged", cloud: info(null), warnings: report.warnings } };

      // the enterprise count reads every account
      const state = await this.readState(ctx.ledger, tx, ctx.options, undefined, true);
      const previous = state.cloud;
      const now = new Date();
      const stored: CloudReportRecord = {
        file: file.replace(/[^\s@<>"'`/\\]+@[^\s@<>"'`/\\]+/g, "<redacted>"),
        format: report.format,
        memberCount: hashed.members.length,
        reportedSeats: report.reportedSeats,
        linkedHosts: hashed.linkedHosts,
        contentSha256,
        recordedAt: now,
        uploader: base.uploader,
        source: base.source,
      };
      await tx.replaceCloudReport(stored, hashed.members);
      state.cloud = { record: stored, members: hashed.members };
      const after = summaryOf(state, ctx.options, now);
      const changes = previous ? memberChanges(previous.members, hashed.members) : null;
      await tx.appendUpload({
        source: base.source,
        uploader: base.uploader,
        deliveryId: base.deliveryId,
        contentSha256,
        subject: "cloud",
        outcome: "recorded",
        serverId: null,
        hostName: null,
        accountCount: hashed.members.length,
        added: changes?.added ?? null,
        removed: changes?.removed ?? null,
        totals: after.totals,
        errorSummary: null,
        at: now,
      });
      return {
        result: { file, status: "recorded", cloud: info(previous?.record.recordedAt ?? null), warnings: report.warnings },
        summary: after,
        members: hashed.members,
        stored,
      };
    });
    const { members, stored, ...out } = written;
    if (members && stored) this.memberCache.set(membersKey(ctx.ledger, stored), members);
    return out;
  }

  /**
   * Validates only; nothing is written. FileResult has no "valid" status, so a valid file is
   * reported as "recorded" with added/removed null and seatDelta 0 (what recording it would start from).
   */
  async checkUploads(inputs: UploadInput[]): Promise<FileResult[]> {
    return inputs.map((input): FileResult => {
      const read = readUpload(input.bytes, input.file, { maxBytes: this.limits.maxBytes });
      if (!read.result.ok) return { file: input.file, status: "refused", errors: read.result.errors, warnings: read.result.warnings };
      if (read.kind === "cloud") {
        const { report } = read.result as Extract<typeof read.result, { ok: true; report: unknown }>;
        return {
          file: input.file,
          status: "recorded",
          cloud: { format: report.format, members: report.members.length, reportedSeats: report.reportedSeats, replaces: null },
          warnings: report.warnings,
        };
      }
      const parsed = read.result as Extract<typeof read.result, { ok: true; export: unknown }>;
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
      const summary = await this.readSummary(ctx.ledger, tx, ctx.options, tx);
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

  /** Removes the ledger's GHEC license report; audited in the history. */
  async forgetCloud(ctx: UploadContext, source: UploadSource): Promise<ForgetOutcome> {
    return this.store.write(ctx.ledger, async (tx): Promise<ForgetOutcome> => {
      const report = await tx.cloudReport();
      if (!report) return { status: "no-cloud-report", summary: await this.readSummary(ctx.ledger, tx, ctx.options) };
      await tx.removeCloudReport();
      const summary = await this.readSummary(ctx.ledger, tx, ctx.options);
      await tx.appendUpload({
        subject: "cloud",
        outcome: "removed",
        serverId: null,
        hostName: null,
        source,
        uploader: ctx.uploader,
        deliveryId: ctx.deliveryId,
        contentSha256: report.contentSha256,
        accountCount: report.memberCount,
        added: null,
        removed: null,
        totals: summary.totals,
        errorSummary: null,
      });
      return { status: "removed-cloud", report, summary };
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
