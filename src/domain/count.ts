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

/** Duplicate user_ids are merged by the validator; if one slips through it is still one account. */
function uniqueAccounts(accounts: IdentifiedAccount[]): IdentifiedAccount[] {
  const byId = new Map<number, number>();
  let out: IdentifiedAccount[] | null = null;
  for (let i = 0; i < accounts.length; i++) {
    const a = accounts[i]!;
    const first = byId.get(a.userId);
    if (first === undefined) {
      byId.set(a.userId, out ? out.length : i);
      out?.push(a);
      continue;
    }
    out ??= accounts.slice(0, i);
    const kept = out[first]!;
    out[first] = {
      userId: kept.userId,
      login: kept.login,
      primary: [...new Set([...kept.primary, ...a.primary])],
      secondary: [...new Set([...kept.secondary, ...a.secondary])],
    };
  }
  return out ?? accounts;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Counts seats the contract's way. Instances are taken as given: call latestPerInstance first when
 * uploads may repeat a serverId (a repeated serverId here is counted as one instance's union).
 */
export function countUsage(instances: InstanceAccounts[], options: MatchOptions): UsageReport {
  const merged = mergeSameServer(instances);
  const lists = merged.map((inst) => uniqueAccounts(inst.accounts));
  const n = lists.reduce((sum, l) => sum + l.length, 0);
  const parent = new Int32Array(n);
  const size = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    parent[i] = i;
    size[i] = 1;
  }
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const p = parent[x]!;
      const gp = parent[p]!;
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
  // E-mail keys and login keys live in separate maps: a login can never equal an e-mail key.
  const emailOwner = new Map<string, number>();
  const loginOwner = new Map<string, number>();
  const claim = (owners: Map<string, number>, key: string, account: number): void => {
    const owner = owners.get(key);
    if (owner === undefined) owners.set(key, account);
    else union(account, owner);
  };

  const instanceOf = new Int32Array(n);
  const unmatched = new Array<number>(merged.length).fill(0);
  let idx = 0;
  for (let i = 0; i < lists.length; i++) {
    for (const a of lists[i]!) {
      let identified = false;
      for (const k of a.primary) {
        if (k === "") continue;
        claim(emailOwner, k, idx);
        identified = true;
      }
      if (options.allEmails) {
        for (const k of a.secondary) {
          if (k === "") continue;
          claim(emailOwner, k, idx);
          identified = true;
        }
      }
      if (options.logins) {
        const login = typeof a.login === "string" ? a.login.trim().toLowerCase() : "";
        if (login !== "") {
          claim(loginOwner, login, idx);
          identified = true;
        }
      }
      if (!identified) unmatched[i]!++;
      instanceOf[idx] = i;
      idx++;
    }
  }

  // Each person's instances. Accounts are visited instance by instance, so a person's instances
  // arrive in ascending order and "differs from the last one seen" detects a new instance.
  const lastInstance = new Int32Array(n).fill(-1);
  const spanCount = new Int32Array(n);
  const extra = new Map<number, number[]>(); // root -> instances, only for persons on 2+ instances
  const firstInstance = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    const r = find(a);
    const i = instanceOf[a]!;
    if (lastInstance[r] === i) continue;
    if (lastInstance[r] === -1) {
      firstInstance[r] = i;
    } else {
      let list = extra.get(r);
      if (!list) extra.set(r, (list = [firstInstance[r]!]));
      list.push(i);
    }
    lastInstance[r] = i;
    spanCount[r]!++;
  }

  let seats = 0;
  const exclusive = new Array<number>(merged.length).fill(0);
  const spans = new Map<number, number>();
  const pairPeople = new Map<number, number>(); // i * m + j, i < j
  const m = merged.length;
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    seats++;
    if (spanCount[r] === 1) {
      exclusive[firstInstance[r]!]!++;
      continue;
    }
    const list = extra.get(r)!;
    spans.set(list.length, (spans.get(list.length) ?? 0) + 1);
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const key = list[x]! * m + list[y]!;
        pairPeople.set(key, (pairPeople.get(key) ?? 0) + 1);
      }
    }
  }

  const instanceUsage: InstanceUsage[] = merged.map((inst, i) => {
    const usage: InstanceUsage = {
      serverId: inst.instance.serverId,
      hostName: inst.instance.hostName,
      accounts: lists[i]!.length,
      exclusive: exclusive[i]!,
      unmatched: unmatched[i]!,
    };
    if (inst.instance.ghesVersion !== undefined) usage.ghesVersion = inst.instance.ghesVersion;
    return usage;
  });
  instanceUsage.sort((a, b) => compareText(a.hostName, b.hostName) || compareText(a.serverId, b.serverId));

  const overlaps: Overlap[] = [];
  for (const [key, people] of pairPeople) {
    const a = merged[Math.floor(key / m)]!.instance.serverId;
    const b = merged[key % m]!.instance.serverId;
    overlaps.push({ serverIds: a < b ? [a, b] : [b, a], people });
  }
  overlaps.sort((p, q) => compareText(p.serverIds[0], q.serverIds[0]) || compareText(p.serverIds[1], q.serverIds[1]));

  return {
    seats,
    accounts: n,
    deduplicated: n - seats,
    instances: instanceUsage,
    overlaps,
    spans: [...spans].sort((a, b) => a[0] - b[0]).map(([k, people]) => ({ instances: k, people })),
    unmatched: unmatched.reduce((s, u) => s + u, 0),
    possibleSavings: options.logins ? [] : possibleSavings(lists, find),
    options: { allEmails: options.allEmails, logins: options.logins },
  };
}

/** Two uploads of one serverId in a single count: treat them as one instance (no double counting). */
function mergeSameServer(instances: InstanceAccounts[]): InstanceAccounts[] {
  const seen = new Map<string, number>();
  let out: InstanceAccounts[] | null = null;
  for (let i = 0; i < instances.length; i++) {
    const inst = instances[i]!;
    const at = seen.get(inst.instance.serverId);
    if (at === undefined) {
      seen.set(inst.instance.serverId, out ? out.length : i);
      out?.push(inst);
      continue;
    }
    out ??= instances.slice(0, i);
    out[at] = { instance: out[at]!.instance, accounts: [...out[at]!.accounts, ...inst.accounts] };
  }
  return out ?? instances;
}

/**
 * Logins (lower-cased) carried by two or more persons on different instances: probably one person
 * whom e-mail matching missed. Only meaningful without the logins option (with it they are matched).
 */
function possibleSavings(lists: IdentifiedAccount[][], find: (x: number) => number): PossibleSaving[] {
  // login -> root * m + instance of its first account; the distinct roots once a second one appears
  const m = lists.length;
  const first = new Map<string, number>();
  const multi = new Map<string, { roots: Set<number>; instances: Set<number> }>();
  let idx = 0;
  for (let i = 0; i < m; i++) {
    for (const a of lists[i]!) {
      const login = typeof a.login === "string" ? a.login.trim().toLowerCase() : "";
      const r = find(idx++);
      if (login === "") continue;
      const code = first.get(login);
      if (code === undefined) {
        first.set(login, r * m + i);
        continue;
      }
      let entry = multi.get(login);
      if (!entry) {
        entry = { roots: new Set([Math.floor(code / m)]), instances: new Set([code % m]) };
        multi.set(login, entry);
      }
      entry.roots.add(r);
      entry.instances.add(i);
    }
  }
  const out: PossibleSaving[] = [];
  for (const [login, { roots, instances }] of multi) {
    if (roots.size >= 2 && instances.size >= 2) out.push({ login, persons: roots.size, seats: roots.size - 1 });
  }
  return out.sort((a, b) => b.seats - a.seats || compareText(a.login, b.login));
}
