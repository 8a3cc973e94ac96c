// Matching over interned ids must give what matching over strings gives: the same persons, the same
// shared logins, the same counts, and the same enterprise figures from it, whatever was interned
// before (another count of the ledger, an instance since replaced).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { CloudReport } from "../../src/domain/cloud-report.js";
import { AccountSet, instanceWithSet, keyFromBytes, keyToBytes } from "../../src/domain/account-set.js";
import { countUsage, matchAccountSets, matchGhes } from "../../src/domain/count.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import { KeyInterner, setBatchingForTests } from "../../src/domain/key-ids.js";
import { fnvCollisions } from "../helpers/fnv-collisions.js";
import { cloudOf, decisions } from "../helpers/matching.js";
import type { IdentifiedAccount, InstanceAccounts, MatchOptions } from "../../src/domain/types.js";

const keyArb = fc.constantFrom("a@x", "b@x", "c@x", "d@x", "e@x", "");
const loginArb = fc.constantFrom("ann", "Ann", " ann ", "bob", "cy", "");
const accountsArb = (maxId: number) =>
  fc.array(
    fc.record({ userId: fc.integer({ min: 1, max: maxId }), login: loginArb, primary: fc.array(keyArb, { maxLength: 2 }), secondary: fc.array(keyArb, { maxLength: 2 }) }),
    { maxLength: 7 },
  );
/** Instances as the ledger holds them (unique user ids), or anything (repeated ids and servers). */
const instancesArb = (unique: boolean) =>
  fc.array(fc.record({ server: fc.integer({ min: 0, max: unique ? 9 : 3 }), accounts: accountsArb(unique ? 1000 : 4) }), { maxLength: 6 }).map((list) => {
    const seen = new Set<number>();
    return list
      .filter(({ server }) => !unique || (!seen.has(server) && seen.add(server)))
      .map(({ server, accounts }): InstanceAccounts => {
        const ids = new Set<number>();
        const kept = unique ? accounts.filter((a) => !ids.has(a.userId) && ids.add(a.userId)) : accounts;
        return { instance: { serverId: `s${server}`, hostName: `h${server}.example` }, accounts: kept.map((a): IdentifiedAccount => ({ ...a })) };
      });
  });
const optionsArb = fc.record({ allEmails: fc.boolean(), logins: fc.boolean() });
const membersArb = fc.array(
  fc.record({
    login: loginArb,
    keys: fc.array(fc.constantFrom("a@x", "b@x", "e@x", "f@x"), { maxLength: 2 }),
    links: fc.array(fc.record({ host: fc.constantFrom("h0.example", "h1.example"), userId: fc.integer({ min: 0, max: 6 }) }), { maxLength: 2 }),
    visualStudio: fc.boolean(),
  }),
  { maxLength: 5 },
);


function same(instances: InstanceAccounts[], options: MatchOptions, interner: KeyInterner, cloud: CloudReport): void {
  const plain = matchGhes(instances, options);
  const interned = matchGhes(instances, options, interner);
  expect(decisions(interned)).toEqual(decisions(plain));
  expect(countUsage(instances, options, interned)).toEqual(countUsage(instances, options));
  expect(countEnterprise(instances, cloud, options, interned)).toEqual(countEnterprise(instances, cloud, options));
}

describe("matching over interned ids", () => {
  it("decides as matching over strings: persons, shared logins, unmatched, counts and enterprise figures", () => {
    fc.assert(
      fc.property(instancesArb(true), optionsArb, membersArb, (instances, options, members) => {
        same(instances, options, new KeyInterner(), cloudOf(members));
      }),
      { numRuns: 500 },
    );
  });

  it("stays the same across counts with one interner: a replaced instance, other options, keys interned by earlier lists", () => {
    fc.assert(
      fc.property(instancesArb(true), instancesArb(true), optionsArb, optionsArb, membersArb, (first, later, o1, o2, members) => {
        const interner = new KeyInterner();
        const cloud = cloudOf(members);
        same(first, o1, interner, cloud);
        // The ledger after a push: some instances replaced by new lists, others kept (already interned).
        const byServer = new Map(first.map((i) => [i.instance.serverId, i]));
        for (const i of later) byServer.set(i.instance.serverId, i);
        same([...byServer.values()], o2, interner, cloud);
        same(first, o2, interner, cloud);
      }),
      { numRuns: 300 },
    );
  });

  it("gives the same answers for any instances, repeated user_ids and servers included (lists the count rewrites are matched over strings)", () => {
    fc.assert(
      fc.property(instancesArb(false), optionsArb, membersArb, (instances, options, members) => {
        same(instances, options, new KeyInterner(), cloudOf(members));
      }),
      { numRuns: 300 },
    );
  });

  it("interns each list once, and tells apart e-mail keys and logins", () => {
    const interner = new KeyInterner();
    const list: IdentifiedAccount[] = [
      { userId: 1, login: "a@x", primary: ["a@x"], secondary: [] },
      { userId: 2, login: " A@X ", primary: [""], secondary: ["b@x"] },
    ];
    const ids = interner.of(list, (l) => l.trim().toLowerCase());
    expect(interner.of(list, () => "never called")).toBe(ids);
    expect([...ids.primaryStart]).toEqual([0, 1, 1]);
    expect([...ids.login]).toEqual([0, 0]);
    expect([interner.emailCount, interner.loginCount]).toEqual([2, 1]);
    expect(interner.emailId("a@x")).toBe(0);
    expect(interner.loginId("a@x")).toBe(0);
    expect(interner.emailId("zzz")).toBe(-1);
  });
});

// The ledger counts account sets (typed arrays, keys as 16 bytes) and never makes account objects
// on that path: it must decide as the string matching does. Keys of the hasher's form (22 base64url
// characters) become bytes; a set holding any other key keeps its keys as text, and the same key
// must get the same id either way.
describe("matching over account sets", () => {
  const hashed = ["AAAAAAAAAAAAAAAAAAAAAA", "q83vEjRWeJCrze8SNFZ4kA", "_____________________w", "ZmFrZS1oYXNoLWtleS0xMg"];
  // logins the ASCII fast path trims and lower-cases, and ones it leaves to trim().toLowerCase()
  const setLoginArb = fc.constantFrom("ann", "Ann", " ann ", "\tANN\n", "bob", "cy", "", "  ", "Zoë", "ZOË", " zoë\u00a0", "\u00a0ann", "İ", "i\u0307", "[", "{");
  const setKeyArb = fc.constantFrom(...hashed, ...hashed, "a@x", "", "AAAAAAAAAAAAAAAAAAAAAB");
  const setInstancesArb = fc
    .array(
      fc.record({
        server: fc.integer({ min: 0, max: 9 }),
        accounts: fc.array(
          fc.record({ userId: fc.integer({ min: 1, max: 50 }), login: setLoginArb, primary: fc.array(setKeyArb, { maxLength: 2 }), secondary: fc.array(setKeyArb, { maxLength: 2 }) }),
          { maxLength: 7 },
        ),
      }),
      { maxLength: 6 },
    )
    .map((list) => {
      const seen = new Set<number>();
      return list
        .filter(({ server }) => !seen.has(server) && seen.add(server))
        .map(({ server, accounts }): InstanceAccounts => {
          const ids = new Set<number>();
          return { instance: { serverId: `s${server}`, hostName: `h${server}.example` }, accounts: accounts.filter((a) => !ids.has(a.userId) && ids.add(a.userId)) };
        });
    });
  const setMembersArb = fc.array(
    fc.record({
      login: loginArb,
      keys: fc.array(fc.constantFrom(...hashed, "a@x", "zzzzzzzzzzzzzzzzzzzzzz"), { maxLength: 2 }),
      links: fc.array(fc.record({ host: fc.constantFrom("h0.example", "h1.example"), userId: fc.integer({ min: 0, max: 50 }) }), { maxLength: 2 }),
      visualStudio: fc.boolean(),
    }),
    { maxLength: 5 },
  );

  function sameOverSets(instances: InstanceAccounts[], options: MatchOptions, interner: KeyInterner, cloud: CloudReport): void {
    const sets = instances.map((i) => AccountSet.fromAccounts(i.accounts));
    // as the ledger holds them: no account objects; the counts must not ask for any
    const held = instances.map((i): InstanceAccounts => ({
      instance: i.instance,
      get accounts(): IdentifiedAccount[] {
        throw new Error("account objects made");
      },
    }));
    const sorted = instances.map((i, k) => ({ instance: i.instance, accounts: sets[k]!.toAccounts() }));
    expect(sorted.map((i) => i.accounts)).toEqual(instances.map((i) => [...i.accounts].sort((a, b) => a.userId - b.userId)));
    const plain = matchGhes(sorted, options);
    const compact = matchAccountSets(held, sets, options, interner);
    expect(decisions(compact)).toEqual(decisions(plain));
    expect(countUsage(held, options, compact)).toEqual(countUsage(sorted, options));
    expect(countEnterprise(held, cloud, options, compact)).toEqual(countEnterprise(sorted, cloud, options));
  }

  it("decides as matching over strings, with one interner across counts (sets of bytes and of texts mixed)", () => {
    fc.assert(
      fc.property(setInstancesArb, setInstancesArb, optionsArb, optionsArb, setMembersArb, (first, later, o1, o2, members) => {
        const interner = new KeyInterner();
        const cloud = cloudOf(members);
        sameOverSets(first, o1, interner, cloud);
        const byServer = new Map(first.map((i) => [i.instance.serverId, i]));
        for (const i of later) byServer.set(i.instance.serverId, i);
        sameOverSets([...byServer.values()], o2, interner, cloud);
        // the interner also serves lists of objects, with the same ids
        same([...byServer.values()], o1, interner, cloud);
      }),
      { numRuns: 500 },
    );
  });

  it("interns many sets at once (range by range, tables of many ranges) as one by one: the same keys equal, the same ones apart", () => {
    const hex = fc.constantFrom(...hashed, "bWFueS1zZXRzLWF0LW9uYw", "cmFuZ2UtYnktcmFuZ2UtMA");
    for (const shift of [0, 2, 13]) {
      setBatchingForTests(shift);
      try {
        fc.assert(
          fc.property(setInstancesArb, fc.boolean(), fc.array(hex, { minLength: 1, maxLength: 3 }), (instances, withSecondary, extra) => {
            // sets of bytes only (a set with any other key is interned one by one), one of them twice
            const sets = instances.map((i, k) => AccountSet.fromAccounts(i.accounts.map((a) => ({ ...a, primary: a.primary.filter((x) => hashed.includes(x)).concat(extra.slice(0, k % 3)), secondary: a.secondary.filter((x) => hashed.includes(x)) }))));
            const list = [...sets, ...sets.slice(0, 1)];
            const batchInterner = new KeyInterner(4);
            const batch = batchInterner.ofSets(list, withSecondary);
            // the tables, renumbered, look every key and login up by its text as its id
            list.forEach((set, i) => {
              for (let a = 0; a < set.count; a++) {
                const login = set.login(a).trim().toLowerCase();
                expect(batch[i]!.login[a]).toBe(login === "" ? -1 : batchInterner.loginId(login));
                for (let k = set.primaryStart[a]!; k < set.primaryStart[a + 1]!; k++) expect(batch[i]!.primaryIds[k]).toBe(batchInterner.emailId(set.key(k)));
              }
            });
            // and a later set, copied from the first, one by one against them
            const copy = AccountSet.fromAccounts(sets[0]?.toAccounts() ?? []);
            const again = batchInterner.ofSet(copy, withSecondary);
            if (sets[0]) expect([...again.login]).toEqual([...batch[0]!.login]);
            if (sets[0]) expect([...again.primaryIds]).toEqual([...batch[0]!.primaryIds]);
            const single = new KeyInterner(4);
            const one = list.map((set) => single.ofSet(set, withSecondary));
            // ids are names: batch ids equal exactly where one-by-one ids are equal
            const flat = (ids: typeof one, part: "primaryIds" | "secondaryIds" | "login") => ids.flatMap((x) => [...(x[part] ?? [])]);
            for (const part of ["primaryIds", "secondaryIds", "login"] as const) {
              const a = flat(batch, part);
              const b = flat(one, part);
              expect(a.length).toBe(b.length);
              // one to one: each batch id stands for one one-by-one id, and back
              const ab = new Map<number, number>();
              const ba = new Map<number, number>();
              for (let i = 0; i < a.length; i++) {
                expect(ab.get(a[i]!) ?? b[i]).toBe(b[i]);
                expect(ba.get(b[i]!) ?? a[i]).toBe(a[i]);
                ab.set(a[i]!, b[i]!);
                ba.set(b[i]!, a[i]!);
              }
              expect(a.every((x) => x >= -1)).toBe(true);
              // renumbered in order of first appearance, as one by one: the very same ids where both meet keys in one order
              if (part === "login" || !withSecondary) expect(a).toEqual(b);
            }
            expect(batch.map((x) => [...x.primaryStart])).toEqual(one.map((x) => [...x.primaryStart]));
            expect(batch.map((x) => (x.secondaryStart ? [...x.secondaryStart] : null))).toEqual(one.map((x) => (x.secondaryStart ? [...x.secondaryStart] : null)));
          }),
          { numRuns: 200 },
        );
        // and a ledger's counts over them, across counts with one interner
        fc.assert(
          fc.property(setInstancesArb, setInstancesArb, optionsArb, setMembersArb, (first, later, options, members) => {
            const interner = new KeyInterner();
            sameOverSets(first, options, interner, cloudOf(members));
            const byServer = new Map(first.map((i) => [i.instance.serverId, i]));
            for (const i of later) byServer.set(i.instance.serverId, i);
            sameOverSets([...byServer.values()], options, interner, cloudOf(members));
          }),
          { numRuns: 200 },
        );
      } finally {
        setBatchingForTests();
      }
    }
  });

  it("holds hashed keys as bytes and gives them back as written; anything else as text", () => {
    const accounts: IdentifiedAccount[] = [
      { userId: 9, login: "Zoë", primary: [hashed[1]!], secondary: [hashed[2]!, hashed[1]!] },
      { userId: 3, login: "", primary: [], secondary: [] },
    ];
    const set = AccountSet.fromAccounts(accounts);
    expect(set.keyWords).not.toBeNull();
    expect(set.keyTexts).toBeNull();
    expect(set.toAccounts()).toEqual([accounts[1], accounts[0]]);
    // not 16 bytes' text: the last character carries bits beyond the 128
    const odd = AccountSet.fromAccounts([{ userId: 1, login: "a", primary: ["AAAAAAAAAAAAAAAAAAAAAB"], secondary: [] }]);
    expect(odd.keyWords).toBeNull();
    expect(odd.toAccounts()[0]!.primary).toEqual(["AAAAAAAAAAAAAAAAAAAAAB"]);
    expect(() => AccountSet.fromAccounts([accounts[0]!, { ...accounts[0]! }])).toThrow(/duplicate user_id 9/);
    const interner = new KeyInterner();
    matchAccountSets([instanceWithSet({ serverId: "s", hostName: "h" }, set)], [set], { allEmails: true, logins: false }, interner);
    expect(interner.emailCount).toBe(2);
    expect(interner.emailId(hashed[2]!)).toBeGreaterThanOrEqual(0);
    expect(interner.emailId(hashed[0]!)).toBe(-1);
  });

  it("stays right when logins collide: a run of one hash moves the login table into a Map", () => {
    // with seed 0 the table hashes as plain FNV-1a, which these strings collide under
    const colliding = fnvCollisions(9);
    const instances: InstanceAccounts[] = [0, 1].map((k) => ({
      instance: { serverId: `s${k}`, hostName: `h${k}` },
      accounts: colliding.map((l, i) => ({ userId: i + 1, login: k === 0 ? l : ` ${l.toUpperCase()} `, primary: [], secondary: [] })),
    }));
    const sets = instances.map((i) => AccountSet.fromAccounts(i.accounts));
    const held = instances.map((i, k) => instanceWithSet(i.instance, sets[k]!));
    const options = { allEmails: false, logins: true };
    const interner = new KeyInterner(16, 0);
    const compact = matchAccountSets(held, sets, options, interner);
    expect(interner.loginCount).toBe(colliding.length);
    expect(decisions(compact)).toEqual(decisions(matchGhes(instances, options)));
    expect(countUsage(held, options, compact).seats).toBe(colliding.length);
    expect(interner.loginId(colliding[7]!)).toBe(7);
  });

  it("any 16 bytes go to text and back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = Buffer.from(bytes).toString("base64url");
        expect(keyFromBytes(bytes, 0)).toBe(text);
        const out = new Uint8Array(16);
        expect(keyToBytes(text, out, 0)).toBe(true);
        expect([...out]).toEqual([...bytes]);
      }),
    );
  });
});
