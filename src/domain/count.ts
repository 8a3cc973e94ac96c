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
import type { HashedKeys } from "./byte-keys.js";
import { grownInts as grow, Ints } from "./growable.js";
import { KeyTable, processSeed } from "./key-table.js";
import { setOf, type HeldAccounts } from "./account-set.js";
import type { InternedAccounts, KeyInterner } from "./key-ids.js";
import { rootsInOrder, unionFind, type UnionFind } from "./union-find.js";
import { ints, Slot, withRoom, type CountScratch, type SlotRoom } from "./scratch.js";

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
 * The GHES side's identity matching over some instances: which accounts are one person. Kept so the
 * enterprise count over the same instances (countEnterprise) continues from it instead of redoing it.
 */
export interface GhesMatching {
  /** The instances and options it was made from (a matching is reused only for the same ones). */
  readonly instances: readonly InstanceAccounts[];
  readonly options: MatchOptions;
  /** The instances, each serverId once, in server-id order; lists[i]: merged[i]'s unique accounts. */
  readonly merged: InstanceAccounts[];
  readonly lists: IdentifiedAccount[][];
  /** Accounts, numbered instance by instance in that order. */
  readonly n: number;
  readonly instanceOf: Int32Array;
  /** Persons: sets of accounts. Counting may compress paths, never changes the sets. */
  readonly persons: UnionFind;
  /** E-mail key -> an account carrying it; login key -> the first account carrying it (-1: none). */
  readonly emailOwner: KeyLookup;
  readonly loginOwner: KeyLookup;
  /**
   * Without the logins option: accounts sharing a login as pairs [first carrier, other]
   * (sharedLogins[2p], sharedLogins[2p + 1]), and that login's id per pair (sharedLoginIds[p],
   * below sharedLoginCount; one id per login); sharedLoginKey(id) makes its key, only for the
   * logins a count lists.
   */
  readonly sharedLogins: Int32Array;
  readonly sharedLoginIds: Int32Array;
  readonly sharedLoginCount: number;
  readonly sharedLoginKey: (id: number) => string;
  /**
   * Per login id g, where the matching counted them while pairing (matchIds): [3g] its first carrier,
   * [3g + 1] its pairs - 1, [3g + 2] the instance of its last pair's other carrier (set only with a
   * pair). possibleSavings then needs no pass of its own over the pairs for them.
   */
  readonly sharedLoginStats?: Int32Array;
  /** The logins' bytes, where the tables keep them (the report's): sorted and written without a string each. */
  readonly sharedLoginBytes?: LoginBytes;
  /** Per instance, accounts matched by no key. */
  readonly unmatched: number[];
  /** Per instance, its accounts, where the matching knows them without a pass over instanceOf (matchIds). */
  readonly counts?: readonly number[];
  /** Each account's user_id and login as written, when the matching has them without making its lists (the offline report's); else the enterprise count reads lists. */
  readonly userIds?: ArrayLike<number>;
  readonly loginOf?: (account: number) => string;
  /** Where the matching's arrays and its count's came from (see CountScratch): the matching is valid until the next count made with it. */
  readonly scratch?: CountScratch;
}

export interface KeyLookup {
  get(key: string): number;
  /** get of the ASCII bytes b[from..to) (A-Z folded to a-z when `fold`), where the tables can look bytes up without a string. */
  getBytes?(b: Uint8Array, from: number, to: number, fold: boolean): number;
  /** getBytes of many ranges at once (in an order kinder to the caches): out[k] for each k with from[k] >= 0, others left as they are. */
  getBytesMany?(b: Uint8Array, from: Int32Array, to: Int32Array, fold: boolean, out: Int32Array): void;
  /** get of keys hashed beforehand for these tables (see ByteKeys.getHashedMany): out[keys.key[r]] for each record r. */
  getHashedMany?(keys: HashedKeys, out: Int32Array): void;
}

/** The matching for `instances` and `options`: `given` when it was made from exactly those, else a new one. */
export function matchingFor(instances: readonly InstanceAccounts[], options: MatchOptions, given?: GhesMatching): GhesMatching {
  if (given && given.instances === instances && given.options.allEmails === options.allEmails && given.options.logins === options.logins) return given;
  return matchGhes(instances, options);
}

/**
 * Matches accounts into persons the contract's way. Pass each serverId once (see
 * latestPerInstance); a repeated serverId is treated as one instance, and a repeated user_id within
 * one instance as one account.
 */
export function matchGhes(instances: readonly InstanceAccounts[], options: MatchOptions, interner?: KeyInterner): GhesMatching {
  // In server-id order: each person's instances then come out sorted, and so do the overlap pairs.
  const merged = mergeSameServer(instances).sort((a, b) => compareText(a.instance.serverId, b.instance.serverId));
  const m = merged.length;
  const lists = merged.map((inst) => uniqueAccounts(inst.accounts));
  let n = 0;
  for (const l of lists) n += l.length;
  // The same matching over interned ids, when every list is one the interner can know again.
  if (interner && lists.every((l, i) => l === merged[i]!.accounts)) return matchInterned(instances, options, merged, lists, n, interner);

  const persons = unionFind(n);
  const { union } = persons;

  // E-mail keys and login keys live in separate tables: a login can never equal an e-mail key.
  const emailOwner = new KeyTable(n);
  // With the logins option: login -> an account carrying it. Without: the first account carrying it,
  // for spotting possible savings (same login, different persons) in the same single pass.
  const loginOwner = new KeyTable(n);
  // option off: accounts sharing a login, as pairs [first, other], and that login (checked after unions)
  const shared = new SharedLogins();
  // a shared login's id: numbered as first shared, through its first carrier (slot: id + 1)
  const sharedLoginKeys: string[] = [];
  const sharedSlot = new Int32Array(n);
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
          if (sharedSlot[owner] === 0) sharedSlot[owner] = sharedLoginKeys.push(login);
          shared.push(owner, idx, sharedSlot[owner]! - 1);
        }
        if (options.logins) identified = true;
      }
      if (!identified) unmatched[i]!++;
      instanceOf[idx] = i;
      idx++;
    }
  }
  return {
    instances,
    options: { allEmails: options.allEmails, logins: options.logins },
    merged,
    lists,
    n,
    instanceOf,
    persons,
    emailOwner,
    loginOwner,
    sharedLogins: shared.pairs(),
    sharedLoginIds: shared.logins(),
    sharedLoginCount: sharedLoginKeys.length,
    sharedLoginKey: keyIn(sharedLoginKeys),
    unmatched,
  };
}

// Made outside the matching functions: a closure there would keep their whole scope (the key
// tables, the union-find) alive for as long as a report keeps its savings unlisted.
const keyIn = (keys: string[]) => (id: number): string => keys[id]!;
const loginTextIn = (tables: IdTables) => (id: number): string => tables.loginText(id);

/**
 * Accounts sharing a login, as they are met: pairs [first carrier, other] and the login's id per
 * pair, in typed arrays that double as they fill (a directory-shaped fleet makes a pair of nearly
 * every account: no JS array of a million numbers, no string per pair).
 */
class SharedLogins {
  private readonly pairBuf: Ints;
  private readonly loginBuf: Ints;

  /** `scratch`: room for a pair per account of n (each account is the other of one pair at most), from it. */
  constructor(scratch?: CountScratch, n = 0) {
    if (scratch) {
      this.pairBuf = intsIn(scratch.ints(Slot.Pairs, 2 * n));
      this.loginBuf = intsIn(scratch.ints(Slot.PairLogins, n));
    } else {
      this.pairBuf = new Ints(64);
      this.loginBuf = new Ints(32);
    }
  }

  push(first: number, other: number, login: number): void {
    this.pairBuf.push(first);
    this.pairBuf.push(other);
    this.loginBuf.push(login);
  }

  pairs(): Int32Array {
    return this.pairBuf.view();
  }

  logins(): Int32Array {
    return this.loginBuf.view();
  }
}

/** An Ints appending to `a` from its start. */
function intsIn(a: Int32Array): Ints {
  const b = new Ints(0);
  b.a = a;
  return b;
}

/**
 * matchGhes over integer ids: the same accounts in the same order go through the same unions, so
 * the persons (and every figure counted from them) are the same; only the tables differ.
 */
function matchInterned(
  instances: readonly InstanceAccounts[],
  options: MatchOptions,
  merged: InstanceAccounts[],
  lists: IdentifiedAccount[][],
  n: number,
  interner: KeyInterner,
): GhesMatching {
  // Interned once per list (while the ledger's cache holds it); secondary addresses only when matched.
  const ids = lists.map((l) => interner.of(l, loginKey, options.allEmails));
  const matching = matchIds(instances, options, merged, lists.map((l) => l.length), n, ids, interner);
  return { ...matching, lists };
}

/**
 * matchGhes over account sets (the ledger's compact form): `instances[i]` is an instance whose
 * accounts are `sets[i]`'s (see instanceWithSet), each serverId once. Matched over interned ids as
 * matchInterned does, from the sets' keys, with no account object made; the matching's `lists` are
 * made from the sets only if something asks for them (the enterprise count).
 */
export function matchAccountSets(
  instances: readonly InstanceAccounts[],
  sets: readonly HeldAccounts[],
  options: MatchOptions,
  interner: KeyInterner,
  scratch?: CountScratch,
): GhesMatching {
  const order = instances.map((_, i) => i).sort((a, b) => compareText(instances[a]!.instance.serverId, instances[b]!.instance.serverId));
  const merged = order.map((i) => instances[i]!);
  // the sets not interned yet (all of them after a restart) interned together
  const ids = interner.ofSets(order.map((i) => sets[i]!), options.allEmails);
  const counts = order.map((i) => sets[i]!.count);
  const n = counts.reduce((s, c) => s + c, 0);
  const matching = matchIds(instances, options, merged, counts, n, ids, interner, scratch);
  const sorted = order.map((i) => sets[i]!);
  const first = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) first[i + 1] = first[i]! + counts[i]!;
  const { instanceOf } = matching;
  // user_ids and logins straight from the sets (the enterprise count's), made only if asked for
  let lists: IdentifiedAccount[][] | undefined;
  let userIds: Float64Array | undefined;
  const loginOf = (x: number): string => setOf(sorted[instanceOf[x]!]!).login(x - first[instanceOf[x]!]!);
  return Object.defineProperties(matching, {
    lists: { enumerable: true, get: () => (lists ??= merged.map((inst) => inst.accounts)) },
    userIds: {
      enumerable: true,
      get: () => {
        if (!userIds) {
          userIds = new Float64Array(n);
          sorted.forEach((set, i) => userIds!.set(setOf(set).userIds, first[i]!));
        }
        return userIds;
      },
    },
    loginOf: { enumerable: true, value: loginOf },
  }) as GhesMatching;
}

/** Logins kept as bytes (ByteKeys). */
export interface LoginBytes {
  /** Sorts ids[from..to) by their logins in code-unit order (as `<` on strings); false, untouched, when it cannot. */
  sortIds(ids: Int32Array, from: number, to: number): boolean;
  /** Writes id's login as JSON.stringify would, from out[at]; its end, or -1 when out has no room. */
  writeJson(id: number, out: Uint8Array, at: number): number;
}

/** Where matchIds finds ids' counts and texts: a KeyInterner, or the offline report's tables (interned-report.ts). */
export interface IdTables {
  readonly emailCount: number;
  readonly loginCount: number;
  /** -1 for a key never interned. */
  emailId(key: string): number;
  loginId(loginKey: string): number;
  loginText(id: number): string;
  /** The logins as bytes, where the tables keep them so (the report's ByteKeys). */
  loginBytes?: LoginBytes;
  /** emailId / loginId of ASCII bytes (see KeyLookup.getBytes), where the tables have it. */
  emailIdOfBytes?(b: Uint8Array, from: number, to: number, fold: boolean): number;
  loginIdOfBytes?(b: Uint8Array, from: number, to: number, fold: boolean): number;
  /** Of many ranges at once (see KeyLookup.getBytesMany). */
  emailIdsOfBytes?(b: Uint8Array, from: Int32Array, to: Int32Array, fold: boolean, out: Int32Array): void;
  loginIdsOfBytes?(b: Uint8Array, from: Int32Array, to: Int32Array, fold: boolean, out: Int32Array): void;
  /** Of keys hashed beforehand (see KeyLookup.getHashedMany). */
  emailIdsOfHashed?(keys: HashedKeys, out: Int32Array): void;
  loginIdsOfHashed?(keys: HashedKeys, out: Int32Array): void;
}

/** key -> owner through its id (owners[stride * id]); by bytes too when the tables can. */
function lookup(
  owners: Int32Array,
  stride: number,
  idOf: (key: string) => number,
  idOfBytes?: (b: Uint8Array, from: number, to: number, fold: boolean) => number,
  idsOfBytes?: (b: Uint8Array, from: Int32Array, to: Int32Array, fold: boolean, out: Int32Array) => void,
  idsOfHashed?: (keys: HashedKeys, out: Int32Array) => void,
): KeyLookup {
  const owner = (id: number): number => (id === -1 || stride * id >= owners.length ? -1 : owners[stride * id]!);
  const get = (key: string): number => owner(idOf(key));
  if (!idOfBytes) return { get };
  const found: KeyLookup = { get, getBytes: (b, from, to, fold) => owner(idOfBytes(b, from, to, fold)) };
  if (idsOfBytes) {
    found.getBytesMany = (b, from, to, fold, out) => {
      idsOfBytes(b, from, to, fold, out);
      for (let k = 0; k < from.length; k++) if (from[k]! >= 0) out[k] = owner(out[k]!);
    };
  }
  if (idsOfHashed) {
    found.getHashedMany = (keys, out) => {
      idsOfHashed(keys, out);
      for (const k of keys.key) out[k] = owner(out[k]!);
    };
  }
  return found;
}

/** The matching loop over interned ids; counts[i]: accounts of merged[i] (ids[i]'s). */
export function matchIds(
  instances: readonly InstanceAccounts[],
  options: MatchOptions,
  merged: InstanceAccounts[],
  counts: readonly number[],
  n: number,
  ids: readonly InternedAccounts[],
  interner: IdTables,
  scratch?: CountScratch,
): Omit<GhesMatching, "lists"> {
  const m = merged.length;
  const persons = unionFind(n, undefined, scratch?.ints(Slot.Parent, n));
  const { union } = persons;
  const emailOwnerById = ints(scratch, Slot.EmailOwner, interner.emailCount, -1);
  // per login: its first carrier, its pairs - 1, its last pair's instance (see sharedLoginStats), side
  // by side: a pair costs no cache miss more than the owner's look-up. All -1: no carrier, no pair.
  const loginStats = ints(scratch, Slot.LoginOwner, 3 * interner.loginCount, -1);
  const shared = new SharedLogins(scratch, n);
  // every account's is written below
  const instanceOf = ints(scratch, Slot.InstanceOf, n);
  const unmatched = new Array<number>(m).fill(0);
  const email = (id: number, idx: number): void => {
    const owner = emailOwnerById[id]!;
    if (owner === -1) emailOwnerById[id] = idx;
    else union(idx, owner);
  };
  let idx = 0;
  for (let i = 0; i < m; i++) {
    const { primaryStart, primaryIds, secondaryStart, secondaryIds, login } = ids[i]!;
    const count = counts[i]!;
    for (let j = 0; j < count; j++) {
      let identified = false;
      for (let p = primaryStart[j]!; p < primaryStart[j + 1]!; p++) {
        email(primaryIds[p]!, idx);
        identified = true;
      }
      if (options.allEmails) {
        for (let p = secondaryStart![j]!; p < secondaryStart![j + 1]!; p++) {
          email(secondaryIds![p]!, idx);
          identified = true;
        }
      }
      const l = login[j]!;
      if (l !== -1) {
        const o = 3 * l;
        const owner = loginStats[o]!;
        if (owner === -1) loginStats[o] = idx;
        else if (options.logins) union(idx, owner);
        else {
          shared.push(owner, idx, l);
          loginStats[o + 1]!++;
          loginStats[o + 2] = i;
        }
        if (options.logins) identified = true;
      }
      if (!identified) unmatched[i]!++;
      instanceOf[idx] = i;
      idx++;
    }
  }
  const loginCount = interner.loginCount;
  return {
    instances,
    options: { allEmails: options.allEmails, logins: options.logins },
    merged,
    n,
    instanceOf,
    persons,
    emailOwner: lookup(emailOwnerById, 1, (key) => interner.emailId(key), interner.emailIdOfBytes?.bind(interner), interner.emailIdsOfBytes?.bind(interner), interner.emailIdsOfHashed?.bind(interner)),
    loginOwner: lookup(loginStats, 3, (key) => interner.loginId(key), interner.loginIdOfBytes?.bind(interner), interner.loginIdsOfBytes?.bind(interner), interner.loginIdsOfHashed?.bind(interner)),
    sharedLogins: shared.pairs(),
    sharedLoginIds: shared.logins(),
    sharedLoginCount: loginCount,
    // the login's text only for the logins a count lists (possibleSavings)
    sharedLoginKey: loginTextIn(interner),
    ...(options.logins ? {} : { sharedLoginStats: loginStats }),
    ...(interner.loginBytes ? { sharedLoginBytes: interner.loginBytes } : {}),
    unmatched,
    counts,
    ...(scratch ? { scratch } : {}),
  };
}

/**
 * The scratch arrays whose length a ledger's count (matchAccountSets, then countUsage) of at most
 * `accounts` accounts over `instances` instances follows from those alone, with withRoom's room: what
 * a count after a restart would otherwise page in fresh (~80 MB at 20 x 100,000), made beforehand
 * elsewhere (see export-reads). Not the id-sized ones (e-mail owners, login stats, savings): their
 * lengths come with the ids.
 */
export function countRoom(accounts: number, instances: number, options: MatchOptions): SlotRoom[] {
  const n = accounts;
  const mask = instances <= 30 ? n : instances <= 32 * MASK_WORDS ? ((instances + 31) >>> 5) * n : 4 * n;
  const room: SlotRoom[] = [
    { slot: Slot.Parent, length: n },
    { slot: Slot.InstanceOf, length: n },
    { slot: Slot.Root, length: n },
    { slot: Slot.Mask, length: mask },
    // SharedLogins' room, made whatever the options
    { slot: Slot.Pairs, length: 2 * n },
    { slot: Slot.PairLogins, length: n },
  ];
  // a pair per account at most, only without the logins option
  if (!options.logins) room.push({ slot: Slot.SavingsOthers, length: n });
  return room.map(({ slot, length }) => ({ slot, length: withRoom(length) }));
}

/**
 * Counts seats the contract's way (see matchGhes). Pass the matching of the same instances and
 * options when there is one (the enterprise count uses it too); otherwise it is made here.
 */
export function countUsage(instances: InstanceAccounts[], options: MatchOptions, matching?: GhesMatching): UsageReport {
  const matched = matchingFor(instances, options, matching);
  // Accounts per instance from instanceOf, not lists[i].length: a ledger's matching makes no lists (matchAccountSets).
  const { merged, n, instanceOf, unmatched } = matched;
  const { parent } = matched.persons;
  const m = merged.length;
  // a pass over 2 million accounts (run once per count, so hardly optimized) when the matching does not know them
  let sizes = matched.counts;
  if (!sizes) {
    const counted = new Int32Array(m);
    for (let a = 0; a < n; a++) counted[instanceOf[a]!]!++;
    sizes = Array.from(counted);
  }

  const { scratch } = matched;
  // every account's is written by rootsInOrder
  const root = ints(scratch, Slot.Root, n);
  rootsInOrder(matched.persons, root);
  const tally =
    m <= 30
      ? groupByMask(n, m, parent, root, instanceOf, scratch)
      : m <= 32 * MASK_WORDS
        ? groupByWords(n, m, parent, root, instanceOf, scratch)
        : groupByList(n, m, parent, root, instanceOf, scratch);

  const instanceUsage: InstanceUsage[] = merged.map((inst, i) => {
    const usage: InstanceUsage = {
      serverId: inst.instance.serverId,
      hostName: inst.instance.hostName,
      accounts: sizes[i]!,
      exclusive: tally.exclusive[i]!,
      unmatched: unmatched[i]!,
    };
    if (inst.instance.ghesVersion !== undefined) usage.ghesVersion = inst.instance.ghesVersion;
    return usage;
  });
  instanceUsage.sort((a, b) => compareText(a.hostName, b.hostName) || compareText(a.serverId, b.serverId));

  const spans = new Map<number, number>();
  for (let g = 0; g < tally.people.length; g++) {
    const k = tally.start[g + 1]! - tally.start[g]!;
    spans.set(k, (spans.get(k) ?? 0) + tally.people[g]!);
  }
  const serverIds = merged.map((inst) => inst.instance.serverId);

  const report = {
    seats: tally.seats,
    accounts: n,
    deduplicated: n - tally.seats,
    instances: instanceUsage,
    overlaps: [] as Overlap[],
    spans: [...spans].sort((a, b) => a[0] - b[0]).map(([k, people]) => ({ instances: k, people })),
    unmatched: unmatched.reduce((s, u) => s + u, 0),
    possibleSavings: [] as PossibleSaving[],
    options: { allEmails: options.allEmails, logins: options.logins },
  };
  // Listed (a string and an object per login, sorted) only when read: a reply shows a few (savingsOverview).
  let found: FoundSavings | null = possibleSavings(matched, root);
  let savings: PossibleSaving[] | undefined;
  Object.defineProperty(report, "possibleSavings", {
    enumerable: true,
    get: () => {
      if (!savings) {
        savings = listSavings(found!, Infinity);
        found = null;
      }
      return savings;
    },
    set: (v: PossibleSaving[]) => {
      savings = v;
      found = null;
    },
  });
  Object.defineProperty(report, SAVINGS, { value: () => found });
  // Every pair is listed only when asked for: one person on 2,000 instances makes 2 million pairs,
  // while the reply's matrix needs a few (overlapsAmong).
  let overlaps: Overlap[] | undefined;
  Object.defineProperty(report, "overlaps", {
    enumerable: true,
    get: () => (overlaps ??= listOverlaps(tally, serverIds)),
  });
  Object.defineProperty(report, GROUPS, { value: { tally, serverIds } });
  return report;
}

/**
 * Persons on two or more instances, grouped by their set of instances: group g spans the sorted
 * instance indexes members[start[g] .. start[g + 1]) and holds people[g] persons. Everything about
 * overlaps follows from the groups, in time linear in their total length (plus the pairs listed).
 */
interface Tally {
  seats: number;
  exclusive: number[];
  members: Int32Array;
  start: Int32Array;
  people: Int32Array;
}

const GROUPS = Symbol("overlap groups");
interface Grouped {
  tally: Tally;
  serverIds: string[];
}

/** Calls visit(i, j, people) for every pair i < j of the given instances with people on both, in order. */
function eachPair(tally: Tally, m: number, shown: Uint8Array | null, visit: (i: number, j: number, people: number) => void): void {
  const { members, start, people } = tally;
  // Where each group continues after instance i: (group, position) entries listed under i.
  const count = new Int32Array(m + 1);
  for (let g = 0; g < people.length; g++) {
    for (let p = start[g]!; p < start[g + 1]! - 1; p++) if (!shown || shown[members[p]!]) count[members[p]! + 1]!++;
  }
  for (let i = 0; i < m; i++) count[i + 1]! += count[i]!;
  const at = count.slice(0, m);
  const entries = new Int32Array(count[m]! * 2);
  for (let g = 0; g < people.length; g++) {
    for (let p = start[g]!; p < start[g + 1]! - 1; p++) {
      const i = members[p]!;
      if (shown && !shown[i]) continue;
      const e = at[i]!++;
      entries[2 * e] = g;
      entries[2 * e + 1] = p;
    }
  }
  const row = new Float64Array(m);
  const touched: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let e = count[i]!; e < count[i + 1]!; e++) {
      const g = entries[2 * e]!;
      const end = start[g + 1]!;
      for (let p = entries[2 * e + 1]! + 1; p < end; p++) {
        const j = members[p]!;
        if (shown && !shown[j]) continue;
        if (row[j] === 0) touched.push(j);
        row[j]! += people[g]!;
      }
    }
    touched.sort((a, b) => a - b);
    for (const j of touched) {
      visit(i, j, row[j]!);
      row[j] = 0;
    }
    touched.length = 0;
  }
}

function listOverlaps(tally: Tally, serverIds: string[]): Overlap[] {
  const out: Overlap[] = [];
  eachPair(tally, serverIds.length, null, (i, j, people) => out.push({ serverIds: [serverIds[i]!, serverIds[j]!], people }));
  return out;
}

/**
 * People on both instances of every pair among `serverIds` (key: the two ids sorted, joined by a
 * newline), without listing the report's other pairs: what the reply's matrix shows.
 */
export function overlapsAmong(report: UsageReport, serverIds: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const grouped = (report as UsageReport & { [GROUPS]?: Grouped })[GROUPS];
  const wanted = new Set(serverIds);
  if (!grouped) {
    for (const o of report.overlaps) if (wanted.has(o.serverIds[0]) && wanted.has(o.serverIds[1])) out.set(`${o.serverIds[0]}\n${o.serverIds[1]}`, o.people);
    return out;
  }
  const ids = grouped.serverIds;
  const shown = new Uint8Array(ids.length);
  ids.forEach((id, i) => (shown[i] = wanted.has(id) ? 1 : 0));
  eachPair(grouped.tally, ids.length, shown, (i, j, people) => out.set(`${ids[i]}\n${ids[j]}`, people));
  return out;
}

/** Up to 30 instances: a person's instances fit in a bit mask; persons are grouped by mask. */
function groupByMask(n: number, m: number, parent: Int32Array, root: Int32Array, instanceOf: Int32Array, scratch?: CountScratch): Tally {
  const mask = ints(scratch, Slot.Mask, n, 0);
  for (let a = 0; a < n; a++) mask[root[a]!]! |= 1 << instanceOf[a]!;
  const exclusive = new Array<number>(m).fill(0);
  let seats = 0;
  // mask -> group, for masks of 2+ instances (group.key: the mask)
  const groups = new GroupTable();
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    seats++;
    const bits = mask[r]!;
    if ((bits & (bits - 1)) === 0) {
      exclusive[31 - Math.clz32(bits)]!++;
      continue;
    }
    const h = GroupTable.hashOf(bits ^ LIST_SEED);
    let s = groups.slotOf(h);
    let g = -1;
    for (let v = groups.slots[s]!; v !== 0; v = groups.slots[s]!) {
      if (groups.key[v - 1] === bits) {
        g = v - 1;
        break;
      }
      s = (s + 1) & groups.mask;
    }
    if (g !== -1) groups.people[g]!++;
    else groups.add(s, h, bits, 0);
  }
  const count = groups.count;
  let total = 0;
  for (let g = 0; g < count; g++) total += popcount(groups.key[g]!);
  const members = new Int32Array(total);
  const start = new Int32Array(count + 1);
  let p = 0;
  for (let g = 0; g < count; g++) {
    const bits = groups.key[g]!;
    // its set bits only, lowest first (a group's instances in order)
    for (let b = bits; b !== 0; b &= b - 1) members[p++] = 31 - Math.clz32(b & -b);
    start[g + 1] = p;
  }
  return { seats, exclusive, members, start, people: groups.people.slice(0, count) };
}

/**
 * Groups of persons keyed by a 32-bit hash (seeded: which persons share which instances is up to
 * uploaders), open addressing over group numbers at most half full; callers probe from slotOf(h)
 * comparing their keys, and add at the empty slot they stop at. key/length: per group, the
 * caller's (a mask; or the offset and length of a list).
 */
class GroupTable {
  slots: Int32Array = new Int32Array(64); // group + 1; 0: empty
  mask = 63;
  hash: Int32Array = new Int32Array(16);
  key: Int32Array = new Int32Array(16);
  length: Int32Array = new Int32Array(16);
  people: Int32Array = new Int32Array(16);
  count = 0;

  slotOf(h: number): number {
    return h & this.mask;
  }

  /** The hash of a group's key as the table probes by (see maskGroupHashesForTests). */
  static hashOf(x: number): number {
    return mix32(x) & groupHashMask;
  }

  /**
   * One more person in the group of k instances whose list equals lists[at..at+width) (width: the
   * words compared; its list's hash h), or a new group of that person keyed by `at`.
   */
  person(h: number, lists: Int32Array, at: number, width: number, k: number): void {
    let s = this.slotOf(h);
    for (let v = this.slots[s]!; v !== 0; v = this.slots[s]!) {
      const g = v - 1;
      if (this.hash[g] === h && this.length[g] === k && sameList(lists, this.key[g]!, width, at, width)) {
        this.people[g]!++;
        return;
      }
      s = (s + 1) & this.mask;
    }
    this.add(s, h, at, k);
  }

  /** A new group of one person at empty slot s (where a probe for h stopped). */
  add(s: number, h: number, key: number, length: number): void {
    const g = this.count;
    if (g === this.hash.length) {
      this.hash = grow(this.hash);
      this.key = grow(this.key);
      this.length = grow(this.length);
      this.people = grow(this.people);
    }
    this.hash[g] = h;
    this.key[g] = key;
    this.length[g] = length;
    this.people[g] = 1;
    this.slots[s] = g + 1;
    this.count = g + 1;
    if (2 * this.count > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      this.mask = this.slots.length - 1;
      for (let k = 0; k < this.count; k++) {
        let t = this.hash[k]! & this.mask;
        while (this.slots[t] !== 0) t = (t + 1) & this.mask;
        this.slots[t] = k + 1;
      }
    }
  }
}

/** murmur3's finalizer: every bit of x moves every bit of the hash. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}

function popcount(x: number): number {
  let c = 0;
  for (; x !== 0; x &= x - 1) c++;
  return c;
}

/** Up to 32 * MASK_WORDS instances, groupByWords: a person's instances fit in a few words. */
const MASK_WORDS = 2;

/**
 * groupByMask with a mask of w words per person (31 to 64 instances): one pass over the accounts
 * (a random write per account, the words side by side) instead of groupByList's two. A group's key
 * is where one of its persons' mask starts (the words are compared on equal hashes).
 */
function groupByWords(n: number, m: number, parent: Int32Array, root: Int32Array, instanceOf: Int32Array, scratch?: CountScratch): Tally {
  const w = (m + 31) >>> 5;
  // from the scratch as groupByMask's: 40 MB at 50 x 100,000, over glibc's largest mmap threshold,
  // so a new one was fresh memory mapped (and paged in) at every count
  const mask = ints(scratch, Slot.Mask, w * n, 0);
  for (let a = 0; a < n; a++) {
    const i = instanceOf[a]!;
    mask[w * root[a]! + (i >>> 5)]! |= 1 << (i & 31);
  }
  const exclusive = new Array<number>(m).fill(0);
  let seats = 0;
  const groups = new GroupTable();
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    seats++;
    const o = w * r;
    let k = 0;
    let h = LIST_SEED;
    for (let j = 0; j < w; j++) {
      const bits = mask[o + j]!;
      k += popcount(bits);
      h = Math.imul(h ^ bits, 0x01000193);
    }
    if (k === 1) {
      let j = 0;
      while (mask[o + j] === 0) j++;
      exclusive[32 * j + 31 - Math.clz32(mask[o + j]!)]!++;
      continue;
    }
    groups.person(GroupTable.hashOf(h), mask, o, w, k);
  }
  const count = groups.count;
  const start = new Int32Array(count + 1);
  for (let g = 0; g < count; g++) start[g + 1] = start[g]! + groups.length[g]!;
  const members = new Int32Array(start[count]!);
  let p = 0;
  for (let g = 0; g < count; g++) {
    const o = groups.key[g]!;
    // each word's set bits only, lowest first (a group's instances in order): at 50 instances most
    // persons form a group of their own, and a pass over every instance per group cost ~60 ms
    for (let j = 0; j < w; j++) for (let b = mask[o + j]!; b !== 0; b &= b - 1) members[p++] = 32 * j + 31 - Math.clz32(b & -b);
  }
  return { seats, exclusive, members, start, people: groups.people.slice(0, count) };
}

/**
 * Any number of instances. Accounts are visited instance by instance, so each person's instances
 * arrive in ascending order and "differs from the last one seen" detects a new one. The lists are
 * built in one flat array (no per-person arrays), then equal lists are grouped by a hash of the list.
 */
function groupByList(n: number, m: number, parent: Int32Array, root: Int32Array, instanceOf: Int32Array, scratch?: CountScratch): Tally {
  // Per person (at its root r), side by side so that a visit costs one cache miss, not four:
  // st[4r] last instance seen, st[4r + 1] instances spanned, st[4r + 2] offset of its list in
  // `lists` (-1: on one instance), st[4r + 3] instances filled in so far.
  const st = ints(scratch, Slot.Mask, 4 * n, 0);
  for (let r = 0; r < n; r++) st[4 * r] = -1;
  for (let a = 0; a < n; a++) {
    const r4 = 4 * root[a]!;
    const i = instanceOf[a]!;
    if (st[r4] !== i) {
      st[r4] = i;
      st[r4 + 1]!++;
    }
  }
  const exclusive = new Array<number>(m).fill(0);
  let seats = 0;
  let total = 0;
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    seats++;
    const k = st[4 * r + 1]!;
    if (k >= 2) {
      st[4 * r + 2] = total;
      total += k;
    } else {
      exclusive[st[4 * r]!]!++;
      st[4 * r + 2] = -1;
    }
  }
  // st[4r] is left at a person's last instance: the pass below meets its first instance before it
  const lists = new Int32Array(total);
  for (let a = 0; a < n; a++) {
    const r4 = 4 * root[a]!;
    const i = instanceOf[a]!;
    if (st[r4 + 2] === -1 || st[r4] === i) continue;
    st[r4] = i;
    lists[st[r4 + 2]! + st[r4 + 3]!++] = i;
  }

  // Equal lists -> one group. Keyed by a hash of the list; equal hashes are compared element-wise.
  const groups = new GroupTable();
  for (let r = 0; r < n; r++) {
    if (parent[r] !== r) continue;
    const o = st[4 * r + 2]!;
    if (o === -1) continue;
    const k = st[4 * r + 1]!;
    let h = LIST_SEED ^ k;
    for (let p = o; p < o + k; p++) h = Math.imul(h ^ lists[p]!, 0x01000193);
    groups.person(GroupTable.hashOf(h), lists, o, k, k);
  }
  const count = groups.count;
  const start = new Int32Array(count + 1);
  for (let g = 0; g < count; g++) start[g + 1] = start[g]! + groups.length[g]!;
  const members = new Int32Array(start[count]!);
  for (let g = 0; g < count; g++) members.set(lists.subarray(groups.key[g]!, groups.key[g]! + groups.length[g]!), start[g]!);
  return { seats, exclusive, members, start, people: groups.people.slice(0, count) };
}

/** Tests only: group hashes are masked with this (e.g. 3: four hash values, so that groups' keys are compared on equal hashes). */
let groupHashMask = -1;
export function maskGroupHashesForTests(mask: number): void {
  groupHashMask = mask;
}

// Which persons share which instances is up to uploaders too: the list hash is seeded like the key table's.
const LIST_SEED = processSeed();

function sameList(lists: Int32Array, a: number, ka: number, b: number, kb: number): boolean {
  if (ka !== kb) return false;
  for (let p = 0; p < ka; p++) if (lists[a + p] !== lists[b + p]) return false;
  return true;
}

/**
 * Logins carried by two or more persons on different instances: probably one person whom e-mail
 * matching missed. Empty with the logins option (equal logins are then matched). Every account
 * carrying a repeated login is in a pair [first carrier, it], so the pairs alone suffice. Pairs are
 * grouped by login id with a counting sort into flat integer arrays (the ids' table, unlike one
 * indexed by account, stays in cache): no Set or Map per login (a directory-shaped fleet repeats
 * nearly every login).
 */
const FEW = 8;

/**
 * The possible savings before they are listed: per login, its id and seats, in no order; the
 * report lists them (a string and an object per login, sorted) only when asked (savingsOverview:
 * a reply shows the top few of possibly hundreds of thousands).
 */
interface FoundSavings {
  ids: Int32Array;
  seats: Int32Array;
  seatSum: number;
  text: (id: number) => string;
  bytes?: LoginBytes;
}

function possibleSavings(matched: GhesMatching, root: Int32Array): FoundSavings {
  const { sharedLogins: shared, sharedLoginIds: loginIds, sharedLoginCount: logins, sharedLoginKey, sharedLoginBytes, instanceOf, scratch, sharedLoginStats: stats } = matched;
  const pairs = loginIds.length;
  const foundIds = new Ints(pairs === 0 ? 0 : 1024);
  const foundSeats = new Ints(pairs === 0 ? 0 : 1024);
  let seatSum = 0;
  const found = (): FoundSavings => ({ ids: foundIds.view(), seats: foundSeats.view(), seatSum, text: sharedLoginKey, bytes: sharedLoginBytes });
  if (pairs === 0) return found();
  // Filled backwards, so that afterwards the persons (roots) of login g's other carriers are
  // others[start[g] .. start[g + 1]) in pair order. Pairs come in account order, so their carriers'
  // roots are read in order here, not scattered per login below; lastInstance[g]: the instance of
  // g's last carrier (its last pair's, met first here).
  const start = ints(scratch, Slot.SavingsStart, logins + 1, stats ? undefined : 0);
  // others: every one written below; firstOf: of every login with a pair (the only ones read)
  const others = ints(scratch, Slot.SavingsOthers, pairs);
  let firstOf: Int32Array | undefined;
  let lastInstance: Int32Array | undefined;
  if (stats) {
    // the matching counted each login's pairs: start[g] is where g's end, as the count below makes it
    let end = 0;
    for (let g = 0; g < logins; g++) start[g] = end += stats[3 * g + 1]! + 1;
    start[logins] = end;
    for (let p = pairs - 1; p >= 0; p--) others[--start[loginIds[p]!]!] = root[shared[2 * p + 1]!]!;
  } else {
    for (let p = 0; p < pairs; p++) start[loginIds[p]!]!++;
    for (let g = 0; g < logins; g++) start[g + 1]! += start[g]!;
    firstOf = ints(scratch, Slot.SavingsFirst, logins);
    lastInstance = ints(scratch, Slot.SavingsLast, logins, -1);
    for (let p = pairs - 1; p >= 0; p--) {
      const g = loginIds[p]!;
      const other = shared[2 * p + 1]!;
      others[--start[g]!] = root[other]!;
      firstOf[g] = shared[2 * p]!;
      if (lastInstance[g] === -1) lastInstance[g] = instanceOf[other]!;
    }
  }
  // persons of a login: the first FEW in `few`, then marked in `seen` with a stamp of the login's own (g + 1)
  const few = new Int32Array(FEW);
  let seen: Int32Array | undefined;
  for (let g = 0; g < logins; g++) {
    const from = start[g]!;
    const to = start[g + 1]!;
    if (from === to) continue;
    const first = stats ? stats[3 * g]! : firstOf![g]!;
    // accounts are visited instance by instance: the last carrier is on another instance or none is
    if ((stats ? stats[3 * g + 2]! : lastInstance![g]!) === instanceOf[first]) continue;
    const r0 = root[first]!;
    let q = from;
    while (q < to && others[q] === r0) q++;
    if (q === to) continue; // one person
    // The persons met, compared with the few met so far; past FEW of them, stamped in `seen` (an
    // account-sized table, so a cache miss per carrier: most logins have a few persons).
    few[0] = r0;
    let persons = 1;
    const stamp = g + 1;
    for (; q < to; q++) {
      const r = others[q]!;
      if (persons > FEW) {
        if (seen![r] !== stamp) {
          seen![r] = stamp;
          persons++;
        }
        continue;
      }
      let i = 0;
      while (i < persons && few[i] !== r) i++;
      if (i < persons) continue;
      if (persons < FEW) {
        few[persons++] = r;
        continue;
      }
      seen ??= ints(scratch, Slot.SavingsSeen, root.length, 0);
      for (let k = 0; k < FEW; k++) seen[few[k]!] = stamp;
      seen[r] = stamp;
      persons++;
    }
    foundIds.push(g);
    foundSeats.push(persons - 1);
    seatSum += persons - 1;
  }
  return found();
}

/**
 * The first `limit` savings in the report's order (seats descending, then login): a counting sort
 * by seats, then per seat count a native sort of plain strings (code-unit order, as compareText);
 * in the seat count where the limit falls, only the `limit` first logins are kept (a sorted window,
 * so each further login costs a comparison or a binary search and a short shift). Where the logins
 * are bytes, a seat count's logins are sorted by their bytes instead: a string only per login listed.
 */
function listSavings(found: FoundSavings, limit: number): PossibleSaving[] {
  const { text, bytes } = found;
  const { order, start, max } = bySeats(found);
  const out: PossibleSaving[] = [];
  for (let b = 0; b <= max && out.length < limit; b++) {
    const from = start[b]!;
    const to = start[b + 1]!;
    if (from === to) continue;
    const room = limit - out.length;
    let logins: string[];
    if (bytes?.sortIds(order, from, to)) {
      logins = [];
      for (let q = from; q < Math.min(to, from + room); q++) logins.push(text(order[q]!));
    } else if (to - from <= room) {
      logins = [];
      for (let q = from; q < to; q++) logins.push(text(order[q]!));
      logins.sort();
    } else logins = firstLogins(order, from, to, room, text);
    const n = max - b;
    for (const login of logins) out.push({ login, persons: n + 1, seats: n });
  }
  return out;
}

/** Bucket b (seat count max - b) of the found savings is order[start[b] .. start[b + 1]) (a counting sort). */
function bySeats(found: FoundSavings): { order: Int32Array; start: Int32Array; max: number } {
  const { ids, seats } = found;
  const count = ids.length;
  let max = 0;
  for (let k = 0; k < count; k++) if (seats[k]! > max) max = seats[k]!;
  const start = new Int32Array(max + 2);
  for (let k = 0; k < count; k++) start[max - seats[k]! + 1]!++;
  for (let b = 0; b <= max; b++) start[b + 1]! += start[b]!;
  const at = start.slice(0, max + 1);
  const order = new Int32Array(count);
  for (let k = 0; k < count; k++) order[at[max - seats[k]!]!++] = ids[k]!;
  return { order, start, max };
}

/**
 * All found savings in the report's order, as login ids and their seats: each seat count's logins
 * sorted by their bytes (no string each), or, where the bytes cannot say (a non-ASCII login), by their texts.
 */
function orderSavings(found: FoundSavings, bytes: LoginBytes): { ids: Int32Array; seats: Int32Array } {
  const { order, start, max } = bySeats(found);
  const seats = new Int32Array(order.length);
  for (let b = 0; b <= max; b++) {
    const from = start[b]!;
    const to = start[b + 1]!;
    seats.fill(max - b, from, to);
    if (to - from < 2 || bytes.sortIds(order, from, to)) continue;
    const texts = Array.from(order.subarray(from, to), found.text);
    const idx = texts.map((_, i) => i).sort((x, y) => compareText(texts[x]!, texts[y]!));
    const sorted = idx.map((i) => order[from + i]!);
    order.set(sorted, from);
  }
  return { ids: order, seats };
}

/**
 * The report's possible savings in its order as login ids, their seats and their logins' bytes,
 * when the report has them so (a count's own report over tables keeping bytes, not listed yet); else null.
 */
export function orderedSavings(report: UsageReport): { ids: Int32Array; seats: Int32Array; bytes: LoginBytes } | null {
  const found = (report as UsageReport & { [SAVINGS]?: () => FoundSavings | null })[SAVINGS]?.();
  if (!found?.bytes) return null;
  return { ...orderSavings(found, found.bytes), bytes: found.bytes };
}

/** The `room` smallest (code-unit order) texts of order[from..to), sorted. */
function firstLogins(order: Int32Array, from: number, to: number, room: number, text: (id: number) => string): string[] {
  const best: string[] = [];
  for (let q = from; q < to; q++) {
    const t = text(order[q]!);
    if (best.length === room && !(t < best[room - 1]!)) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (best[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, t);
    if (best.length > room) best.pop();
  }
  return best;
}

const SAVINGS = Symbol("possible savings");

/**
 * How many logins the report's possible savings list, the seats they would save, and the first
 * `limit` of them, without listing the others when the report can (a count's own report).
 */
export function savingsOverview(report: UsageReport, limit: number): { logins: number; seats: number; top: PossibleSaving[] } {
  const found = (report as UsageReport & { [SAVINGS]?: () => FoundSavings | null })[SAVINGS]?.();
  if (found) return { logins: found.ids.length, seats: found.seatSum, top: listSavings(found, limit) };
  const all = report.possibleSavings;
  return { logins: all.length, seats: all.reduce((s, p) => s + p.seats, 0), top: all.slice(0, limit) };
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
export function mergeSameServer(instances: readonly InstanceAccounts[]): InstanceAccounts[] {
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
