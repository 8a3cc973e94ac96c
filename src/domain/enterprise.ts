// The enterprise-wide count (shared/ghec-license-report.md): GHES accounts and GHEC cloud members
// joined into persons by identity keys, logins (option) and GitHub's own host:id links.
// Union-find over accounts and members: near-linear, like countUsage.
import { normalizeHost, type CloudReport } from "./cloud-report.js";
import { loginKey, mergeSameServer, uniqueAccounts } from "./count.js";
import { KeyTable } from "./key-table.js";
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
 */
export function countEnterprise(instances: InstanceAccounts[], cloud: CloudReport, options: MatchOptions): EnterpriseFigures {
  const merged = mergeSameServer(instances);
  const lists = merged.map((inst) => uniqueAccounts(inst.accounts));
  let n = 0;
  for (const l of lists) n += l.length;
  const members = cloud.members;
  const total = n + members.length;

  const parent = new Int32Array(total);
  for (let i = 0; i < total; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const gp = parent[parent[x]!]!;
      parent[x] = gp;
      x = gp;
    }
    return x;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[rb] = ra;
  };

  const keyOwner = new KeyTable(total);
  const loginOwner = options.logins ? new KeyTable(total) : null;
  const key = (k: string, node: number): void => {
    if (k === "") return;
    const owner = keyOwner.getOrAdd(k, node);
    if (owner !== -1) union(node, owner);
  };
  const login = (l: string, node: number): void => {
    if (loginOwner === null || l === "") return;
    const owner = loginOwner.getOrAdd(l, node);
    if (owner !== -1) union(node, owner);
  };

  let node = 0;
  for (const list of lists) {
    for (const a of list) {
      for (const k of a.primary) key(k, node);
      if (options.allEmails) for (const k of a.secondary) key(k, node);
      login(loginKey(a.login), node);
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
  for (let i = 0, at = 0; i < lists.length; i++) {
    firstNode.push(at);
    at += lists[i]!.length;
  }
  const byUserId = new Map<number, Map<number, number>>();
  const accountNode = (i: number, userId: number): number | undefined => {
    let ids = byUserId.get(i);
    if (!ids) {
      ids = new Map();
      const list = lists[i]!;
      for (let k = 0; k < list.length; k++) ids.set(list[k]!.userId, firstNode[i]! + k);
      byUserId.set(i, ids);
    }
    return ids.get(userId);
  };

  for (let j = 0; j < members.length; j++) {
    const m = members[j]!;
    const me = n + j;
    for (const k of m.keys) key(k, me);
    login(loginKey(m.login), me);
    for (const link of m.links) {
      for (const i of instancesOfHost.get(link.host) ?? []) {
        const target = accountNode(i, link.userId);
        if (target !== undefined) union(me, target);
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

  const memberLogins = new Set<string>();
  for (const m of members) {
    const l = loginKey(m.login);
    if (l !== "") memberLogins.add(l);
  }
  const crossSavings: CrossSaving[] = [];
  if (memberLogins.size > 0) {
    node = 0;
    merged.forEach((inst, i) => {
      for (const a of lists[i]!) {
        if (memberLogins.has(loginKey(a.login)) && !(flags[find(node)]! & CLOUD)) {
          crossSavings.push({ login: a.login, serverId: inst.instance.serverId, hostName: inst.instance.hostName });
        }
        node++;
      }
    });
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
