// Accounts -> persons -> seats. Union-find over accounts keyed by identity: near-linear in the
// number of accounts and keys, so 10 instances x 100,000 accounts stay cheap next to JSON.parse.
import type {
  IdentifiedAccount,
  InstanceAccounts,
  InstanceUsage,
  MatchOptions,
  Overlap,
  PossibleSaving,
  UsageReport,
} from "./types.js";
import { KeyTable } from "./key-table.js";

/** A later upload of the same serverId replaces the earlier one entirely (the contract). */
export function latestPerInstance(uploads: InstanceAccounts[]): InstanceAccounts[] {
  const byServer = new Map<string, InstanceAccounts>();
  for (const upload of uploads) {
    // delete first so the replacement takes the later position, like a fresh upload
    byServer.delete(upload.instance.serverId);
    byServer.set(upload.instance.serverId, upload);
  }
  return [...byServer.values()];
}

/**
 * Counts seats the contract's way. Pass each serverId once (see latestPerInstance); a repeated
 * serverId is treated as one instance, and a repeated user_id within one instance as one account.
 */
export function countUsage(instances: InstanceAccounts[], options: MatchOptions): UsageReport {
  const merged = mergeSameServer(instances);
  const m = merged.length;
  const lists = merged.map((inst) => uniqueAccounts(inst.accounts));
  let n = 0;
  for (const l of lists) n += l.length;

  const parent = new Int32Array(n);
  const size = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const gp = parent[parent[x]!]!;
      parent[x] = gp; // path halving
      x = gp;
    }
    return x;
  };
  const union = (a: number, b: number): void => {
    let ra = find(a);
    let rb = find(b);
    if (ra === rb) return;
    if (size[ra]! < size[rb]!) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    size[ra]! += size[rb]!;
  };

  // E-mail keys and login keys live in separate tables: a login can never equal an e-mail key.
  const emailOwner = new KeyTable(n);
  // With the logins option: login -> an account carrying it. Without: the first account carrying it,
  // for spotting possible savings (same login, different persons) in the same single pass.
  const loginOwner = new KeyTable(n);
  // option off: accounts sharing a login, as pairs [first, other], and that login (checked after unions)
  const sharedLogins: number[] = [];
  const sharedLoginKeys: string[] = [];
  const instanceOf = new Int32Array(n);
  const unmatched = new Array<number>(m).fill(0);
  let idx = 0;
  for (let i = 0; i < m; i++) {
    for (const a of lists[i]!) {
      let identified = false;
      for (const k of a.primary) {
        if (k === "") continue;
        const owner = emailOwner.getOrAdd(k, idx);
        if (owner !== -1) union(idx, owner);
        identified = true;
      }
      if (options.allEmails) {
        for (const k of a.secondary) {
          if (k === "") continue;
          const owner = emailOwner.getOrAdd(k, idx);
          if (owner !== -1) union(idx, owner);
          identified = true;
        }
      }
      const login = loginKey(a.login);
      if (login !== "") {
        const owner = loginOwner.getOrAdd(login, idx);
        if (owner === -1) {
          // the first account with this login
        } else if (options.logins) union(idx, owner);
        else {
          sharedLogins.push(owner, idx);
          sharedLoginKeys.push(login);
        }
        if (options.logins) identified = true;
      }
      if (!identified) unmatched[i]!++;
      instanceOf[idx] = i;
      idx++;
    }
  }

  const tally = m <= 30 ? tallyByMask(n, m, parent, instanceOf, find) : tallyByList(n, m, parent, instanceOf, find);

  const instanceUsage: InstanceUsage[] = merged.map((inst, i) => {
    const usage: InstanceUsage = {
      serverId: inst.instance.serverId,
      hostName: inst.instance.hostName,
      accounts: lists[i]!.length,
      exclusive: tally.exclusive[i]!,
      unmatched: unmatched[i]!,
    };
    if (inst.instance.ghesVersion !== undefined) usage.ghesVersion = inst.instance.ghesVersion;
    return usage;
  });
  instanceUsage.sort((a, b) => compareText(a.hostName, b.hostName) || compareText(a.serverId, b.serverId));

  const overlaps: Overlap[] = [];
  for (const [key, people] of tally.pairs) {
    const a = merged[Math.floor(key / m)]!.instance.serverId;
    const b = merged[key % m]!.instance.serverId;
    overlaps.push({ serverIds: a < b ? [a, b] : [b, a], people });
  }
  overlaps.sort((p, q) => compareText(p.serverIds[0], q.serverIds[0]) || compareText(p.serverIds[1], q.serverIds[1]));

  return {
    seats: tally.seats,
    accounts: n,
    deduplicated: n - tally.seats,
    instances: instanceUsage,
    overlaps,
    spans: [...tally.spans].sort((a, b) => a[0] - b[0]).map(([k, people]) => ({ instances: k, people })),
    unmatched: unmatched.reduce((s, u) => s + u, 0),
    possibleSavings: possibleSavings(sharedLogins, sharedLoginKeys, instanceOf, find),
    options: { allEmails: options.allEmails, logins: options.logins },
  };
}

interface Tally {
  seats: number;
  exclusive: number[];
  /** persons spanning k instances, k >= 2 */
  spans: Map<number, number>;
  /** instance pair i * m + j (i < j) -> persons on both */
  pairs: Map<number, number>;
}

function addPairs(tally: Tally, m: number, instancesOfPerson: number[], people: number): void {
  const k = instancesOfPerson.length;
  tally.spans.set(k, (tally.spans.get(k) ?? 0) + people);
  for (let x = 0; x < k; x++) {
    for (let y = x + 1; y < k; y++) {
      const key = instancesOfPerson[x]! * m + instancesOfPerson[y]!;
      tally.pairs.set(key, (tally.pairs.get(key) ?? 0) + people);
    }
  }
}

/** Up to 30 instances: a person's instances fit in a bit mask; persons are grouped by mask. */
function tallyByMask(n: number, m: number, parent: Int32Array, instanceOf: Int32Array, find: (x: number) => number): Tally {
  const mask = new Int32Array(n);
  for (let a = 0; a < n; a++) mask[find(a)]! |= 1 << instanceOf[a]!;
  const tally: Tally = { seats: 0, exclusive: new Array<number>(m).fill(0), spans: new Map(), pairs: new Map() };
  const multi = new Map<number, number>(); // mask -> persons, for masks of 2+ instances
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    tally.seats++;
    const bits = mask[r]!;
    if ((bits & (bits - 1)) === 0) tally.exclusive[31 - Math.clz32(bits)]!++;
    else multi.set(bits, (multi.get(bits) ?? 0) + 1);
  }
  for (const [bits, people] of multi) {
    const list: number[] = [];
    for (let i = 0; i < m; i++) if (bits & (1 << i)) list.push(i);
    addPairs(tally, m, list, people);
  }
  return tally;
}

/** Any number of instances: accounts are visited instance by instance, so each person's instances
 * arrive in ascending order and "differs from the last one seen" detects a new one. */
function tallyByList(n: number, m: number, parent: Int32Array, instanceOf: Int32Array, find: (x: number) => number): Tally {
  const last = new Int32Array(n).fill(-1);
  const first = new Int32Array(n);
  const extra = new Map<number, number[]>(); // root -> instances, persons on 2+ instances only
  for (let a = 0; a < n; a++) {
    const r = find(a);
    const i = instanceOf[a]!;
    if (last[r] === i) continue;
    if (last[r] === -1) first[r] = i;
    else {
      let list = extra.get(r);
      if (!list) extra.set(r, (list = [first[r]!]));
      list.push(i);
    }
    last[r] = i;
  }
  const tally: Tally = { seats: 0, exclusive: new Array<number>(m).fill(0), spans: new Map(), pairs: new Map() };
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    tally.seats++;
    const list = extra.get(r);
    if (list) addPairs(tally, m, list, 1);
    else tally.exclusive[first[r]!]!++;
  }
  return tally;
}

/**
 * Logins carried by two or more persons on different instances: probably one person whom e-mail
 * matching missed. Empty with the logins option (equal logins are then matched). Every account
 * carrying a repeated login is in a pair [first carrier, it], so the pairs alone suffice.
 */
function possibleSavings(
  sharedLogins: number[],
  sharedLoginKeys: string[],
  instanceOf: Int32Array,
  find: (x: number) => number,
): PossibleSaving[] {
  const byFirst = new Map<number, { login: string; roots: Set<number>; instances: Set<number> }>();
  for (let p = 0; p < sharedLoginKeys.length; p++) {
    const first = sharedLogins[2 * p]!;
    const other = sharedLogins[2 * p + 1]!;
    let entry = byFirst.get(first);
    if (!entry) {
      entry = { login: sharedLoginKeys[p]!, roots: new Set([find(first)]), instances: new Set([instanceOf[first]!]) };
      byFirst.set(first, entry);
    }
    entry.roots.add(find(other));
    entry.instances.add(instanceOf[other]!);
  }
  const out: PossibleSaving[] = [];
  for (const { login, roots, instances } of byFirst.values()) {
    if (roots.size >= 2 && instances.size >= 2) out.push({ login, persons: roots.size, seats: roots.size - 1 });
  }
  return out.sort((a, b) => b.seats - a.seats || compareText(a.login, b.login));
}

export function loginKey(login: unknown): string {
  return typeof login === "string" ? login.trim().toLowerCase() : "";
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Duplicate user_ids are merged by the validator; if one slips through it is still one account. */
export function uniqueAccounts(accounts: IdentifiedAccount[]): IdentifiedAccount[] {
  let maxId = 0;
  for (const a of accounts) if (a.userId > maxId) maxId = a.userId;
  // Dense ids (the norm): a byte per id is far cheaper than a hash set.
  const dense = Number.isSafeInteger(maxId) && maxId <= 8 * accounts.length + 1024;
  const seenDense = dense ? new Uint8Array(maxId + 1) : null;
  const seenSparse = dense ? null : new Set<number>();
  let duplicate = false;
  for (const a of accounts) {
    const id = a.userId;
    if (seenDense && Number.isInteger(id) && id >= 0) {
      if (seenDense[id]) { duplicate = true; break; }
      seenDense[id] = 1;
    } else {
      if (seenSparse?.has(id)) { duplicate = true; break; }
      seenSparse?.add(id);
    }
  }
  if (!duplicate) return accounts;
  const byId = new Map<number, number>();
  const out: IdentifiedAccount[] = [];
  for (const a of accounts) {
    const at = byId.get(a.userId);
    if (at === undefined) {
      byId.set(a.userId, out.length);
      out.push(a);
      continue;
    }
    const kept = out[at]!;
    out[at] = {
      userId: kept.userId,
      login: kept.login,
      primary: [...new Set([...kept.primary, ...a.primary])],
      secondary: [...new Set([...kept.secondary, ...a.secondary])],
    };
  }
  return out;
}

/** Two uploads of one serverId in a single count: treat them as one instance (no double counting). */
export function mergeSameServer(instances: InstanceAccounts[]): InstanceAccounts[] {
  const seen = new Map<string, number>();
  const out: InstanceAccounts[] = [];
  for (const inst of instances) {
    const at = seen.get(inst.instance.serverId);
    if (at === undefined) {
      seen.set(inst.instance.serverId, out.length);
      out.push(inst);
    } else {
      out[at] = { instance: out[at]!.instance, accounts: [...out[at]!.accounts, ...inst.accounts] };
    }
  }
  return out;
}
