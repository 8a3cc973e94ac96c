// The offline report's matching over ids: exports read straight to ids (readExportInterned) are
// matched by count.ts's interned matching, with no object or string per account. The accounts as
// objects (IdentifiedAccount) are made only if something asks for the matching's lists (the
// enterprise count does, to name accounts by login and find them by user_id).
import { Buffer } from "node:buffer";
import type { ReportKeys } from "./byte-keys.js";
import { Ints } from "./growable.js";
import { matchIds, type GhesMatching, type IdTables } from "./count.js";
import type { InternedAccounts } from "./key-ids.js";
import type { InternedExport } from "./fast-read.js";
import type { IdentifiedAccount, InstanceAccounts, MatchOptions } from "./types.js";

/** latestPerInstance over exports read as ids: a later export of a serverId replaces the earlier. */
export function latestInterned(exports: InternedExport[]): InternedExport[] {
  const byServer = new Map<string, InternedExport>();
  for (const e of exports) {
    byServer.delete(e.instance.serverId);
    byServer.set(e.instance.serverId, e);
  }
  return [...byServer.values()];
}

/**
 * Exports read while `keys` deferred (ReportKeys.defer): interns their keys (ByteKeys.resolve) and
 * turns their tickets into ids, dropping a key an account lists twice as IdsBuilder.add does.
 * Call once, after the last export is read and before `keys` are looked up.
 */
export function resolveInterned(exports: readonly InternedExport[], keys: ReportKeys): void {
  const emailIds = keys.emails.resolve();
  const loginIds = keys.logins.resolve();
  const repeats = new Repeats(keys.emails.size);
  for (const e of exports) {
    if (e.deferred === undefined) continue;
    const { primaryIds, secondaryIds, login } = e.ids;
    for (let p = 0; p < primaryIds.length; p++) primaryIds[p] = emailIds[primaryIds[p]!]!;
    if (secondaryIds) for (let p = 0; p < secondaryIds.length; p++) secondaryIds[p] = emailIds[secondaryIds[p]!]!;
    for (let j = 0; j < login.length; j++) if (login[j] !== -1) login[j] = loginIds[login[j]!]!;
    if (e.deferred.repeats) e.ids = repeats.drop(e.ids, e.count);
    e.deferred = undefined;
  }
}

/** An account's key ids each once (primary ones first, a secondary one only if not primary), in order. */
class Repeats {
  private readonly seen: Int32Array;
  private stamp = 0;

  constructor(keys: number) {
    this.seen = new Int32Array(keys);
  }

  drop(ids: InternedAccounts, count: number): InternedAccounts {
    const { primaryStart, primaryIds, secondaryStart, secondaryIds } = ids;
    const seen = this.seen;
    const pStart = new Int32Array(count + 1);
    const pIds = new Ints(primaryIds.length);
    const sStart = secondaryStart && new Int32Array(count + 1);
    const sIds = new Ints(secondaryIds ? secondaryIds.length : 0);
    for (let j = 0; j < count; j++) {
      const stamp = ++this.stamp;
      for (let p = primaryStart[j]!; p < primaryStart[j + 1]!; p++) {
        const id = primaryIds[p]!;
        if (seen[id] === stamp) continue;
        seen[id] = stamp;
        pIds.push(id);
      }
      pStart[j + 1] = pIds.n;
      if (sStart === null || secondaryIds === null) continue;
      for (let p = secondaryStart![j]!; p < secondaryStart![j + 1]!; p++) {
        const id = secondaryIds[p]!;
        if (seen[id] === stamp) continue;
        seen[id] = stamp;
        sIds.push(id);
      }
      sStart[j + 1] = sIds.n;
    }
    return { primaryStart: pStart, primaryIds: pIds.copy(), secondaryStart: sStart, secondaryIds: sStart && sIds.copy(), login: ids.login };
  }
}

function loginAsWritten(e: InternedExport, keys: ReportKeys, j: number): string {
  const text = e.rawLoginTexts.get(j);
  if (text !== undefined) return text;
  const from = e.rawLoginStart[j]!;
  const to = e.rawLoginStart[j + 1]!;
  if (from < to) return Buffer.from(e.rawLoginBytes.buffer, e.rawLoginBytes.byteOffset + from, to - from).toString("latin1");
  return keys.logins.text(e.ids.login[j]!);
}

/** An export's accounts as IdentifiedAccounts (keys: normalized e-mails), from its ids. */
export function accountsOf(e: InternedExport, keys: ReportKeys): IdentifiedAccount[] {
  const { primaryStart, primaryIds, secondaryStart, secondaryIds } = e.ids;
  const out = new Array<IdentifiedAccount>(e.count);
  const texts = (ids: Int32Array, from: number, to: number): string[] => {
    const list = new Array<string>(to - from);
    for (let p = from; p < to; p++) list[p - from] = keys.emails.text(ids[p]!);
    return list;
  };
  for (let j = 0; j < e.count; j++) {
    out[j] = {
      userId: e.userIds[j]!,
      login: loginAsWritten(e, keys, j),
      primary: texts(primaryIds, primaryStart[j]!, primaryStart[j + 1]!),
      secondary: secondaryStart && secondaryIds ? texts(secondaryIds, secondaryStart[j]!, secondaryStart[j + 1]!) : [],
    };
  }
  return out;
}

/**
 * The instances (each serverId once: see latestInterned) and their matching, as matchGhes gives
 * them for the same accounts: countUsage and countEnterprise take both. An instance's `accounts`
 * are made on first use; their `secondary` keys are those read (readExportInterned's
 * withSecondary, which the matching needs with allEmails), empty otherwise.
 */
export function matchInternedExports(exports: InternedExport[], keys: ReportKeys, options: MatchOptions): { instances: InstanceAccounts[]; matching: GhesMatching } {
  const source = new Map<InstanceAccounts, InternedExport>();
  const instances = exports.map((e): InstanceAccounts => {
    let accounts: IdentifiedAccount[] | undefined;
    const inst = {
      instance: e.instance,
      get accounts(): IdentifiedAccount[] {
        return (accounts ??= accountsOf(e, keys));
      },
    };
    source.set(inst, e);
    return inst;
  });
  // In server-id order, as matchGhes (code-unit order)
  const merged = [...instances].sort((a, b) => (a.instance.serverId < b.instance.serverId ? -1 : a.instance.serverId > b.instance.serverId ? 1 : 0));
  const tables: IdTables = {
    get emailCount() {
      return keys.emails.size;
    },
    get loginCount() {
      return keys.logins.size;
    },
    emailId: (key) => keys.emails.get(key),
    loginId: (key) => keys.logins.get(key),
    emailIdOfBytes: (b, from, to, fold) => keys.emails.getBytes(b, from, to, fold),
    loginIdOfBytes: (b, from, to, fold) => keys.logins.getBytes(b, from, to, fold),
    emailIdsOfBytes: (b, from, to, fold, out) => keys.emails.getBytesMany(b, from, to, fold, out),
    loginIdsOfBytes: (b, from, to, fold, out) => keys.logins.getBytesMany(b, from, to, fold, out),
    emailIdsOfHashed: (hashed, out) => keys.emails.getHashedMany(hashed, out),
    loginIdsOfHashed: (hashed, out) => keys.logins.getHashedMany(hashed, out),
    loginText: (id) => keys.logins.text(id),
    loginBytes: keys.logins,
  };
  const ids = merged.map((inst) => source.get(inst)!.ids);
  const counts = merged.map((inst) => source.get(inst)!.count);
  const n = counts.reduce((s, c) => s + c, 0);
  const matching: Omit<GhesMatching, "lists"> = matchIds(instances, options, merged, counts, n, ids, tables);
  // what the enterprise count needs of the accounts, without making them: user_ids and (for the few it names) logins
  const exportsInOrder = merged.map((inst) => source.get(inst)!);
  const first = new Int32Array(merged.length);
  const userIds = new Float64Array(n);
  for (let i = 0, at = 0; i < exportsInOrder.length; at += counts[i]!, i++) {
    first[i] = at;
    userIds.set(exportsInOrder[i]!.userIds.subarray(0, counts[i]!), at);
  }
  Object.assign(matching, {
    userIds,
    loginOf: (x: number): string => {
      const i = matching.instanceOf[x]!;
      return loginAsWritten(exportsInOrder[i]!, keys, x - first[i]!);
    },
  });
  let lists: IdentifiedAccount[][] | undefined;
  Object.defineProperty(matching, "lists", { enumerable: true, get: () => (lists ??= merged.map((inst) => inst.accounts)) });
  return { instances, matching: matching as GhesMatching };
}
