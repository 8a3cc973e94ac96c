// The contract's counting written as plainly as possible (maps of sets, repeated merging, every pair
// looked at), for differential tests of the engine in src/domain/count.ts. Slow on purpose: small
// inputs only.
import type { IdentifiedAccount, InstanceAccounts, MatchOptions, Overlap, PossibleSaving, UsageReport } from "../../src/domain/types.js";

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function referenceCount(input: InstanceAccounts[], options: MatchOptions): UsageReport {
  // One instance per server id (accounts of repeats concatenated), one account per user id (keys united).
  const byServer = new Map<string, InstanceAccounts>();
  for (const inst of input) {
    const had = byServer.get(inst.instance.serverId);
    byServer.set(inst.instance.serverId, had ? { instance: had.instance, accounts: [...had.accounts, ...inst.accounts] } : inst);
  }
  const accounts: { server: string; account: IdentifiedAccount }[] = [];
  const perServer = new Map<string, number>();
  for (const [server, inst] of byServer) {
    const byId = new Map<number, IdentifiedAccount>();
    for (const a of inst.accounts) {
      const had = byId.get(a.userId);
      byId.set(a.userId, had ? { ...had, primary: [...had.primary, ...a.primary], secondary: [...had.secondary, ...a.secondary] } : a);
    }
    perServer.set(server, byId.size);
    for (const a of byId.values()) accounts.push({ server, account: a });
  }

  const login = (a: IdentifiedAccount) => a.login.trim().toLowerCase();
  const keysOf = (a: IdentifiedAccount) => {
    const keys = a.primary.filter((k) => k !== "").map((k) => `e:${k}`);
    if (options.allEmails) keys.push(...a.secondary.filter((k) => k !== "").map((k) => `e:${k}`));
    if (options.logins && login(a) !== "") keys.push(`l:${login(a)}`);
    return keys;
  };
  // person of each account: merge until no two persons share a key
  const person = accounts.map((_, i) => i);
  let changed = true;
  while (changed) {
    changed = false;
    for (let x = 0; x < accounts.length; x++) {
      for (let y = x + 1; y < accounts.length; y++) {
        if (person[x] === person[y]) continue;
        const kx = keysOf(accounts[x]!.account);
        if (!keysOf(accounts[y]!.account).some((k) => kx.includes(k))) continue;
        const from = person[y]!;
        const to = person[x]!;
        for (let z = 0; z < person.length; z++) if (person[z] === from) person[z] = to;
        changed = true;
      }
    }
  }
  const serversOf = new Map<number, Set<string>>();
  accounts.forEach(({ server }, i) => {
    if (!serversOf.has(person[i]!)) serversOf.set(person[i]!, new Set());
    serversOf.get(person[i]!)!.add(server);
  });

  const servers = [...byServer.keys()].sort(cmp);
  const overlaps: Overlap[] = [];
  for (let x = 0; x < servers.length; x++) {
    for (let y = x + 1; y < servers.length; y++) {
      let people = 0;
      for (const s of serversOf.values()) if (s.has(servers[x]!) && s.has(servers[y]!)) people++;
      if (people > 0) overlaps.push({ serverIds: [servers[x]!, servers[y]!], people });
    }
  }
  const spans = new Map<number, number>();
  for (const s of serversOf.values()) if (s.size >= 2) spans.set(s.size, (spans.get(s.size) ?? 0) + 1);

  const unmatchedOf = (server: string) => accounts.filter((a) => a.server === server && keysOf(a.account).length === 0).length;
  const instances = [...byServer.values()]
    .map((inst) => {
      const id = inst.instance.serverId;
      return {
        serverId: id,
        hostName: inst.instance.hostName,
        ...(inst.instance.ghesVersion !== undefined ? { ghesVersion: inst.instance.ghesVersion } : {}),
        accounts: perServer.get(id)!,
        exclusive: [...serversOf.values()].filter((s) => s.size === 1 && s.has(id)).length,
        unmatched: unmatchedOf(id),
      };
    })
    .sort((a, b) => cmp(a.hostName, b.hostName) || cmp(a.serverId, b.serverId));

  const possibleSavings: PossibleSaving[] = [];
  if (!options.logins) {
    const carriers = new Map<string, number[]>();
    accounts.forEach(({ account }, i) => {
      if (login(account) !== "") carriers.set(login(account), [...(carriers.get(login(account)) ?? []), i]);
    });
    for (const [key, list] of carriers) {
      const persons = new Set(list.map((i) => person[i]));
      const onServers = new Set(list.map((i) => accounts[i]!.server));
      if (persons.size >= 2 && onServers.size >= 2) possibleSavings.push({ login: key, persons: persons.size, seats: persons.size - 1 });
    }
    possibleSavings.sort((a, b) => b.seats - a.seats || cmp(a.login, b.login));
  }

  const seats = serversOf.size;
  return {
    seats,
    accounts: accounts.length,
    deduplicated: accounts.length - seats,
    instances,
    overlaps,
    spans: [...spans].sort((a, b) => a[0] - b[0]).map(([instances, people]) => ({ instances, people })),
    unmatched: instances.reduce((s, i) => s + i.unmatched, 0),
    possibleSavings,
    options: { allEmails: options.allEmails, logins: options.logins },
  };
}
