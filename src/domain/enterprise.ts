// The enterprise-wide count (shared/ghec-license-report.md): GHES accounts and GHEC cloud members
// joined into persons by identity keys, logins (option) and GitHub's own host:id links.
// Union-find over accounts and members: near-linear, like countUsage.
import { columnKey, columnLoginKey, memberColumns, normalizeHost, type CloudMemberColumns, type CloudReport } from "./cloud-report.js";
import { loginKey, matchingFor, type GhesMatching } from "./count.js";
import { ByteKeys } from "./byte-keys.js";
import { KeyTable } from "./key-table.js";
import { rootsInOrder, unionFind } from "./union-find.js";
import type { InstanceAccounts, MatchOptions } from "./types.js";

export interface CrossSaving {
  /** The GHES account's login, as exported. */
  login: string;
  serverId: string;
  hostName: string;
}

export interface EnterpriseFigures {
  /** persons - visualStudio: the enterprise licenses consumed. */
  seats: number;
  /** Persons over the GHES accounts and the cloud members together. */
  persons: number;
  cloudMembers: number;
  /** Persons with accounts on both sides. */
  both: number;
  cloudOnly: number;
  serverOnly: number;
  /** Persons holding a cloud member whose license_type names a Visual Studio subscription. */
  visualStudio: number;
  /** GitHub's own figure, from the report; null when the report has none. */
  reportedSeats: number | null;
  /** Counted instances' normalized host names that no link of the report names; sorted. */
  hostsUnknownToGithub: string[];
  /** GHES accounts whose lower-cased login equals a cloud member's lower-cased login but that were matched to no cloud member: probably one person paying twice */
  crossSavings: CrossSaving[];
}

const SERVER = 1;
const CLOUD = 2;
const VISUAL_STUDIO = 4;

/**
 * Counts persons across the GHES instances (each serverId once, see latestPerInstance) and the
 * cloud report's members. Identity keys are compared as they are (normalized e-mails in the CLI,
 * keyed hashes in the app); with the logins option the lower-cased logins of both sides are keys.
 * Continues from the GHES count's matching of the same instances (`matching`, made here if not
 * given): only the members are matched here.
 */
export function countEnterprise(instances: InstanceAccounts[], cloud: CloudReport, options: MatchOptions, matching?: GhesMatching): EnterpriseFigures {
  const ghes = matchingFor(instances, options, matching);
  // No use of ghes.lists: the offline report's matching makes its accounts as objects only when asked.
  const { merged, n, instanceOf } = ghes;
  // the members as columns: no object per member, each key and login a string only while it is looked up
  const members = memberColumns(cloud);
  const count = members.count;
  const total = n + count;

  // GHES accounts keep their persons (a copy: the matching stays as it was); members join them.
  const sets = unionFind(total, ghes.persons);
  const { parent, union } = sets;

  // Keys and logins first met on the cloud side; those of GHES accounts are in the matching's tables.
  const memberKeys = ghes.emailOwner.getBytesMany ? null : new KeyTable(count);
  const memberLogins = options.logins ? new KeyTable(count) : null;
  // A key or login kept as bytes is looked up as bytes where the GHES tables can (the offline
  // report's); a string is made only for other tables and for one first met on the cloud side.
  const { emailOwner, loginOwner } = ghes;
  const { bytes, keyFrom, keyTo, loginFrom, loginTo } = members;
  // Where the tables can, the byte ranges are looked up all at once (in the tables' order, not the report's).
  const keyOwners = emailOwner.getBytesMany ? new Int32Array(keyFrom.length) : null;
  const keyFirst = members.keyFirst;
  if (keyOwners) {
    // hashed beforehand (the same ranges: see prepareLookups), or with keyFirst, each distinct key
    // once (a range not a key's first occurrence: skipped as -1)
    if (keyFirst && members.keyHashes && emailOwner.getHashedMany) emailOwner.getHashedMany(members.keyHashes, keyOwners);
    else emailOwner.getBytesMany!(bytes, keyFirst ? keyFrom.map((f, k) => (keyFirst[k] === k ? f : -1)) : keyFrom, keyTo, true, keyOwners);
    // the keys kept as text (not plain ASCII ranges), one by one
    for (let k = 0; k < keyFrom.length; k++) {
      if (keyFirst && keyFirst[k] !== k) keyOwners[k] = keyOwners[keyFirst[k]!]!;
      else if (keyFrom[k]! < 0) keyOwners[k] = emailOwner.get(columnKey(members, k));
    }
  }
  let loginOwners: Int32Array | null | undefined;
  // one key at a time, where the tables cannot take them all at once (keyOwners is null)
  const ghesKeyOwner = (k: number): number => {
    const from = keyFrom[k]!;
    return from >= 0 && emailOwner.getBytes ? emailOwner.getBytes(bytes, from, keyTo[k]!, true) : emailOwner.get(columnKey(members, k));
  };
  const ghesLoginOwner = (j: number): number => {
    const from = loginFrom[j]!;
    if (from >= 0) {
      if (from === loginTo[j]) return -1; // no login
      if (loginOwners === undefined) {
        const hashed = members.loginHashes && loginOwner.getHashedMany ? members.loginHashes : null;
        loginOwners = hashed || loginOwner.getBytesMany ? new Int32Array(count) : null;
        // hashed beforehand: every range of a login (see prepareLookups)
        if (hashed) loginOwner.getHashedMany!(hashed, loginOwners!);
        else if (loginOwners) loginOwner.getBytesMany!(bytes, loginFrom, loginTo, true, loginOwners);
      }
      if (loginOwners) return loginOwners[j]!;
      if (loginOwner.getBytes) return loginOwner.getBytes(bytes, from, loginTo[j]!, true);
    }
    const l = columnLoginKey(members, j);
    return l === "" ? -1 : loginOwner.get(l);
  };
  // Keys met only on the cloud side, where the GHES tables were asked by bytes: interned by their
  // bytes too (a dense id each, no string each), and each id's first member kept.
  const cloudKeyId = keyOwners ? (keyFirst ? { ids: keyFirst, size: keyFirst.length } : cloudOnlyIds(members, keyOwners)) : null;
  const firstOfKey = cloudKeyId ? new Int32Array(cloudKeyId.size).fill(-1) : null;
  const key = (k: number, node: number): void => {
    let owner: number;
    if (cloudKeyId) {
      owner = keyOwners![k]!;
      if (owner === -1) {
        const id = cloudKeyId.ids[k]!;
        owner = firstOfKey![id]!;
        if (owner === -1) firstOfKey![id] = node;
      }
    } else {
      owner = ghesKeyOwner(k);
      if (owner === -1) owner = memberKeys!.getOrAdd(columnKey(members, k), node);
    }
    if (owner !== -1) union(node, owner);
  };
  const login = (j: number, node: number): void => {
    let owner = ghesLoginOwner(j);
    if (owner === -1) {
      const l = columnLoginKey(members, j);
      if (l === "") return;
      owner = memberLogins!.getOrAdd(l, node);
    }
    if (owner !== -1) union(node, owner);
  };

  // Without the logins option, GHES accounts carrying a member's login are candidates for
  // cross-environment savings (with it, they are matched to that member and never are): the first
  // carrier of each member login, then every other carrier through the matching's shared-login pairs.
  const candidate = new Uint8Array(options.logins ? 0 : n);
  if (!options.logins) {
    for (let j = 0; j < count; j++) {
      const first = ghesLoginOwner(j);
      if (first !== -1) candidate[first] = 1;
    }
    const pairs = ghes.sharedLogins;
    for (let p = 0; p < pairs.length; p += 2) if (candidate[pairs[p]!]) candidate[pairs[p + 1]!] = 1;
  }

  // Links: host -> the instances with that host name; (instance, user_id) -> account, built only
  // for instances some link names.
  const instancesOfHost = new Map<string, number[]>();
  merged.forEach((inst, i) => {
    const host = normalizeHost(inst.instance.hostName);
    const list = instancesOfHost.get(host);
    if (list) list.push(i);
    else instancesOfHost.set(host, [i]);
  });
  // Accounts are numbered instance by instance: instance i's are firstNode[i] .. firstNode[i + 1] - 1.
  const firstNode = new Int32Array(merged.length + 1);
  // from the matching's counts where it has them (no pass over every account's instance)
  if (ghes.counts) ghes.counts.forEach((c, i) => (firstNode[i + 1] = c));
  else for (let x = 0; x < n; x++) firstNode[instanceOf[x]! + 1]!++;
  for (let i = 0; i < merged.length; i++) firstNode[i + 1]! += firstNode[i]!;
  const userIds = ghes.userIds;
  const userIdOf = userIds ? (x: number): number => userIds[x]! : (x: number): number => ghes.lists[instanceOf[x]!]![x - firstNode[instanceOf[x]!]!]!.userId;
  const byUserId = new Array<((userId: number) => number) | undefined>(merged.length);
  const accountNode = (i: number, userId: number): number => {
    let lookup = byUserId[i];
    if (!lookup) {
      lookup = userIdLookup(firstNode[i]!, firstNode[i + 1]!, userIdOf);
      byUserId[i] = lookup;
    }
    return lookup(userId);
  };
  // per host of the report: the instances it names
  const onHost = members.hosts.map((h) => instancesOfHost.get(h));

  const { keyStart, linkStart, linkHost, linkUserId } = members;
  for (let j = 0; j < count; j++) {
    const me = n + j;
    for (let k = keyStart[j]!; k < keyStart[j + 1]!; k++) key(k, me);
    if (memberLogins !== null) login(j, me);
    for (let l = linkStart[j]!; l < linkStart[j + 1]!; l++) {
      const on = onHost[linkHost[l]!];
      if (on === undefined) continue;
      for (const i of on) {
        const target = accountNode(i, linkUserId[l]!);
        if (target !== -1) union(me, target);
      }
    }
  }

  // Every node pointed straight at its root in one pass in node order (parent[x] <= x: parent[x]'s
  // root is known by then), instead of a find per node; parent is this count's copy.
  rootsInOrder(sets, parent);
  const flags = new Uint8Array(total);
  for (let x = 0; x < n; x++) flags[parent[x]!]! |= SERVER;
  const vs = members.visualStudio;
  for (let j = 0; j < count; j++) flags[parent[n + j]!]! |= vs[j] ? CLOUD | VISUAL_STUDIO : CLOUD;
  let persons = 0;
  let both = 0;
  let cloudOnly = 0;
  let serverOnly = 0;
  let visualStudio = 0;
  for (let r = 0; r < total; r++) {
    if (parent[r] !== r) continue;
    persons++;
    const f = flags[r]!;
    if ((f & (SERVER | CLOUD)) === (SERVER | CLOUD)) both++;
    else if (f & CLOUD) cloudOnly++;
    else serverOnly++;
    if (f & VISUAL_STUDIO) visualStudio++;
  }

  // In account order, so equal sort keys (one instance, logins equal but for case) keep the order they had.
  const crossSavings: CrossSaving[] = [];
  for (let x = 0; x < candidate.length; x++) {
    if (!candidate[x] || flags[parent[x]!]! & CLOUD) continue;
    const i = ghes.instanceOf[x]!;
    const inst = merged[i]!.instance;
    const login = ghes.loginOf ? ghes.loginOf(x) : ghes.lists[i]![x - firstNode[i]!]!.login;
    crossSavings.push({ login, serverId: inst.serverId, hostName: inst.hostName });
  }
  crossSavings.sort(
    (a, b) => compareText(loginKey(a.login), loginKey(b.login)) || compareText(a.hostName, b.hostName) || compareText(a.serverId, b.serverId),
  );

  const linked = new Set(cloud.linkedHosts);
  const unknown = [...instancesOfHost.keys()].filter((h) => !linked.has(h)).sort();

  return {
    seats: persons - visualStudio,
    persons,
    cloudMembers: count,
    both,
    cloudOnly,
    serverOnly,
    visualStudio,
    reportedSeats: cloud.reportedSeats,
    hostsUnknownToGithub: unknown,
    crossSavings,
  };
}

/**
 * For each key k of the members with keyOwners[k] === -1 (no GHES account has it): ids[k], the same
 * for equal keys (as columnKey's strings compare), dense below size; other keys' ids are -1.
 */
function cloudOnlyIds(members: CloudMemberColumns, keyOwners: Int32Array): { ids: Int32Array; size: number } {
  const { bytes, keyFrom, keyTo } = members;
  let missing = 0;
  for (let k = 0; k < keyOwners.length; k++) if (keyOwners[k] === -1) missing++;
  const ids = new Int32Array(keyOwners.length).fill(-1);
  if (missing === 0) return { ids, size: 0 };
  const table = new ByteKeys(missing);
  // recorded, then interned all at once (see ByteKeys.defer): tickets are given in call order
  table.defer();
  const keyOfTicket = new Int32Array(missing);
  let t = 0;
  for (let k = 0; k < keyOwners.length; k++) {
    if (keyOwners[k] !== -1) continue;
    const from = keyFrom[k]!;
    keyOfTicket[t++] = k;
    // a range is printable ASCII, lower-cased by columnKey where keyUpper: folding is the same
    if (from >= 0) table.idOfBytes(bytes, from, keyTo[k]!, true);
    else table.idOf(columnKey(members, k));
  }
  const idOfTicket = table.resolve();
  for (let i = 0; i < missing; i++) ids[keyOfTicket[i]!] = idOfTicket[i]!;
  return { ids, size: table.size };
}

/** user_id -> node of one instance's accounts (nodes first .. end - 1): a typed array for dense ids (the norm), else a Map. */
function userIdLookup(first: number, end: number, userIdOf: (node: number) => number): (userId: number) => number {
  let maxId = 0;
  for (let x = first; x < end; x++) {
    const id = userIdOf(x);
    if (id > maxId) maxId = id;
  }
  if (Number.isSafeInteger(maxId) && maxId <= 8 * (end - first) + 1024) {
    const table = new Int32Array(maxId + 1).fill(-1);
    for (let x = first; x < end; x++) {
      const id = userIdOf(x);
      if (Number.isInteger(id) && id >= 0) table[id] = x;
    }
    return (userId) => (userId <= maxId ? table[userId]! : -1);
  }
  const map = new Map<number, number>();
  for (let x = first; x < end; x++) map.set(userIdOf(x), x);
  return (userId) => map.get(userId) ?? -1;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The contract's snake_case `enterprise` object. */
export function enterpriseJson(e: EnterpriseFigures): object {
  return {
    seats: e.seats,
    persons: e.persons,
    cloud_members: e.cloudMembers,
    both: e.both,
    cloud_only: e.cloudOnly,
    server_only: e.serverOnly,
    visual_studio: e.visualStudio,
    reported_seats: e.reportedSeats,
    hosts_unknown_to_github: [...e.hostsUnknownToGithub],
    cross_savings: e.crossSavings.map((c) => ({ login: c.login, server_id: c.serverId, host_name: c.hostName })),
  };
}

/**
 * Our seats against GitHub's own figure, in words an owner can act on. Shared by the CLI and the
 * app's summary so both explain a difference the same way.
 */
export function explainReportedSeats(e: EnterpriseFigures): string {
  if (e.reportedSeats === null) return "the report carries no figure of GitHub's to compare with";
  const d = e.seats - e.reportedSeats;
  if (d === 0) return "GitHub's figure is the same";
  const why: string[] = [];
  if (e.hostsUnknownToGithub.length > 0) {
    why.push(`${e.hostsUnknownToGithub.length === 1 ? "one GHES instance has" : `${e.hostsUnknownToGithub.length} GHES instances have`} never sent GitHub its usage, so GitHub bills those people separately or not yet`);
  }
  if (e.crossSavings.length > 0) why.push("some GHES accounts carry a GHEC member's login but no matching e-mail");
  why.push(
    "GitHub counts from the GHES usage it last received (older or newer than these exports) and also matches on SCIM attributes the report does not show",
  );
  return `GitHub counts ${Math.abs(d)} ${d < 0 ? "more" : "fewer"} (${d < 0 ? "" : "+"}${d} here): ${why.join("; ")}`;
}
