// The enterprise count as it was before it continued from the GHES count's matching (it matched
// the GHES accounts again itself): a differential reference for src/domain/enterprise.ts.
import { normalizeHost, type CloudReport } from "../../src/domain/cloud-report.js";
import { loginKey, mergeSameServer, uniqueAccounts } from "../../src/domain/count.js";
import type { CrossSaving, EnterpriseFigures } from "../../src/domain/enterprise.js";
import { KeyTable } from "../../src/domain/key-table.js";
import { unionFind } from "../../src/domain/union-find.js";
import type { IdentifiedAccount, InstanceAccounts, MatchOptions } from "../../src/domain/types.js";

const SERVER = 1;
const CLOUD = 2;
const VISUAL_STUDIO = 4;

/**
 * Counts persons across the GHES instances (each serverId once, see latestPerInstance) and the
 * cloud report's members. Identity keys are compared as they are (normalized e-mails in the CLI,
 * keyed hashes in the app); with the logins option the lower-cased logins of both sides are keys.
 */
export function referenceEnterprise(instances: InstanceAccounts[], cloud: CloudReport, options: MatchOptions): EnterpriseFigures {
  const merged = mergeSameServer(instances);
  const lists = merged.map((inst) => uniqueAccounts(inst.accounts));
  let n = 0;
  for (const l of lists) n += l.length;
  const members = cloud.members;
  const total = n + members.length;

  const { parent, find, union } = unionFind(total);

  const keyOwner = new KeyTable(total);
  const loginOwner = options.logins ? new KeyTable(total) : null;
  const key = (k: string, node: number): void => {
    if (k === "") return;
    const owner = keyOwner.getOrAdd(k, node);
    if (owner !== -1) union(node, owner);
  };
  const login = (l: string, node: number): void => {
    if (l === "") return;
    const owner = loginOwner!.getOrAdd(l, node);
    if (owner !== -1) union(node, owner);
  };

  // Without the logins option, GHES accounts carrying a member's login are candidates for
  // cross-environment savings (with it, they are matched to that member and never are).
  // A bit per hash of the members' logins screens the GHES logins without building their lower-cased
  // strings: only a hit (or a non-ASCII login, whose lower case may differ) is looked up for real.
  const memberLogins = new Set<string>();
  const screen = new Uint8Array(SCREEN_SIZE);
  let screened = true;
  if (loginOwner === null) {
    for (const m of members) {
      const l = loginKey(m.login);
      if (l === "") continue;
      memberLogins.add(l);
      const h = asciiLoginHash(m.login);
      if (h === -1) screened = false;
      else screen[h & (SCREEN_SIZE - 1)] = 1;
    }
  }
  const carriesMemberLogin = (login: string): boolean => {
    if (memberLogins.size === 0) return false;
    if (screened) {
      const h = asciiLoginHash(login);
      if (h !== -1 && screen[h & (SCREEN_SIZE - 1)] === 0) return false;
    }
    return memberLogins.has(loginKey(login));
  };
  const candidates: number[] = [];

  let node = 0;
  for (const list of lists) {
    for (const a of list) {
      for (const k of a.primary) key(k, node);
      if (options.allEmails) for (const k of a.secondary) key(k, node);
      if (loginOwner !== null) login(loginKey(a.login), node);
      else if (carriesMemberLogin(a.login)) candidates.push(node);
      node++;
    }
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
  const firstNode: number[] = [];
  const instanceOfNode = new Int32Array(n);
  for (let i = 0, at = 0; i < lists.length; i++) {
    firstNode.push(at);
    instanceOfNode.fill(i, at, at + lists[i]!.length);
    at += lists[i]!.length;
  }
  const byUserId = new Map<number, (userId: number) => number>();
  const accountNode = (i: number, userId: number): number => {
    let lookup = byUserId.get(i);
    if (!lookup) {
      lookup = userIdLookup(lists[i]!, firstNode[i]!);
      byUserId.set(i, lookup);
    }
    return lookup(userId);
  };

  for (let j = 0; j < members.length; j++) {
    const m = members[j]!;
    const me = n + j;
    for (const k of m.keys) key(k, me);
    if (loginOwner !== null) login(loginKey(m.login), me);
    for (const link of m.links) {
      const on = instancesOfHost.get(link.host);
      if (on === undefined) continue;
      for (const i of on) {
        const target = accountNode(i, link.userId);
        if (target !== -1) union(me, target);
      }
    }
  }

  const flags = new Uint8Array(total);
  for (let x = 0; x < n; x++) flags[find(x)]! |= SERVER;
  for (let j = 0; j < members.length; j++) flags[find(n + j)]! |= members[j]!.visualStudio ? CLOUD | VISUAL_STUDIO : CLOUD;
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

  const crossSavings: CrossSaving[] = [];
  for (const x of candidates) {
    if (flags[find(x)]! & CLOUD) continue;
    const i = instanceOfNode[x]!;
    const inst = merged[i]!.instance;
    crossSavings.push({ login: lists[i]![x - firstNode[i]!]!.login, serverId: inst.serverId, hostName: inst.hostName });
  }
  crossSavings.sort(
    (a, b) => compareText(loginKey(a.login), loginKey(b.login)) || compareText(a.hostName, b.hostName) || compareText(a.serverId, b.serverId),
  );

  const linked = new Set(cloud.linkedHosts);
  const unknown = [...instancesOfHost.keys()].filter((h) => !linked.has(h)).sort();

  return {
    seats: persons - visualStudio,
    persons,
    cloudMembers: members.length,
    both,
    cloudOnly,
    serverOnly,
    visualStudio,
    reportedSeats: cloud.reportedSeats,
    hostsUnknownToGithub: unknown,
    crossSavings,
  };
}

const SCREEN_SIZE = 1 << 20;

/** FNV-1a of the trimmed, lower-cased login when it is ASCII (equal loginKeys, equal hashes); -1 otherwise. */
function asciiLoginHash(login: string): number {
  let start = 0;
  let end = login.length;
  while (start < end && login.charCodeAt(start) <= 0x20) start++;
  while (end > start && login.charCodeAt(end - 1) <= 0x20) end--;
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = login.charCodeAt(i);
    if (c >= 0x7f) return -1;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return (h ^ (h >>> 16)) >>> 0;
}

/** user_id -> node of one instance's accounts: a typed array for dense ids (the norm), else a Map. */
function userIdLookup(accounts: IdentifiedAccount[], first: number): (userId: number) => number {
  let maxId = 0;
  for (const a of accounts) if (a.userId > maxId) maxId = a.userId;
  if (Number.isSafeInteger(maxId) && maxId <= 8 * accounts.length + 1024) {
    const table = new Int32Array(maxId + 1).fill(-1);
    accounts.forEach((a, k) => {
      if (Number.isInteger(a.userId) && a.userId >= 0) table[a.userId] = first + k;
    });
    return (userId) => (userId <= maxId ? table[userId]! : -1);
  }
  const map = new Map<number, number>();
  accounts.forEach((a, k) => map.set(a.userId, first + k));
  return (userId) => map.get(userId) ?? -1;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
