// A ledger's ids as stored (ledger-ids.ts) and restored (KeyInterner.restore): counting over a restored
// interner must give what counting over strings gives, whatever changed since the snapshot was written,
// and a snapshot whose ids do not fit the sets must be refused, never used.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { AccountIds, AccountSet, instanceWithSet, keyFromBytes, type HeldAccounts } from "../../src/domain/account-set.js";
import { countUsage, matchAccountSets, matchGhes } from "../../src/domain/count.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import { KeyInterner, setBatchingForTests, setRestoreSampleForTests } from "../../src/domain/key-ids.js";
import { decodeLedgerIds, encodeLedgerIds, type LedgerIds } from "../../src/domain/ledger-ids.js";
import type { CloudReport } from "../../src/domain/cloud-report.js";
import { fnvCollisions } from "../helpers/fnv-collisions.js";
import { cloudOf, decisions } from "../helpers/matching.js";
import type { IdentifiedAccount, InstanceAccounts, MatchOptions } from "../../src/domain/types.js";

// keys of the hasher's form (16 bytes), a few so that instances share them
const hashed = Array.from({ length: 10 }, (_, k) => keyFromBytes(Uint8Array.from({ length: 16 }, (_, i) => (k * 37 + i * 11) & 255), 0));
// logins the ASCII fast path trims and lower-cases, others trim().toLowerCase() changes in length, empty ones
const loginArb = fc.constantFrom("ann", "Ann", " ann ", "\tANN\n", "bob", "Bob", "cy", "", "  ", "Zoë", "ZOË", " zoë\u00a0", "\u00a0ann", "İ", "i\u0307", "dan");
const accountsArb = (keys: fc.Arbitrary<string>) =>
  fc.array(fc.record({ userId: fc.integer({ min: 1, max: 60 }), login: loginArb, primary: fc.array(keys, { maxLength: 2 }), secondary: fc.array(keys, { maxLength: 2 }) }), {
    maxLength: 8,
  });
const byteKeyArb = fc.constantFrom(...hashed);
// a set holding one key that is not 16 bytes keeps its keys as text (not in the snapshot)
const textKeyArb = fc.constantFrom(...hashed.slice(0, 4), "a@x");
const uniqueIds = (accounts: IdentifiedAccount[]) => {
  const ids = new Set<number>();
  return accounts.filter((a) => !ids.has(a.userId) && ids.add(a.userId));
};
const instancesArb = fc
  .array(fc.tuple(fc.boolean(), accountsArb(byteKeyArb), accountsArb(textKeyArb)), { minLength: 1, maxLength: 6 })
  .map((list) =>
    list.map(([texts, bytes, other], k): InstanceAccounts => ({
      instance: { serverId: `s${k}`, hostName: `h${k}.example` },
      accounts: uniqueIds(texts && k === 1 ? [...other, { userId: 99, login: "t", primary: ["a@x"], secondary: [] }] : bytes),
    })),
  );
const optionsArb = fc.record({ allEmails: fc.boolean(), logins: fc.boolean() });
const membersArb = fc.array(
  fc.record({
    login: loginArb,
    keys: fc.array(fc.constantFrom(...hashed.slice(0, 5), "a@x"), { maxLength: 2 }),
    links: fc.array(fc.record({ host: fc.constantFrom("h0.example", "h1.example"), userId: fc.integer({ min: 0, max: 60 }) }), { maxLength: 2 }),
    visualStudio: fc.boolean(),
  }),
  { maxLength: 5 },
);


interface Ledger {
  instances: InstanceAccounts[];
  sets: AccountSet[];
  sha: string[];
}
const ledgerOf = (instances: InstanceAccounts[], sha: (k: number) => string = (k) => `sha${k}`): Ledger => ({
  instances,
  sets: instances.map((i) => AccountSet.fromAccounts(i.accounts)),
  sha: instances.map((_, k) => sha(k)),
});
const heldOf = (l: Ledger) => new Map(l.instances.map((i, k) => [i.instance.serverId, { set: l.sets[k]!, contentSha256: l.sha[k]! }]));

/** Counts the ledger with the interner and over strings: the same decisions and reports. */
function sameCounts(l: Ledger, options: MatchOptions, interner: KeyInterner, cloud: CloudReport): void {
  const held = l.instances.map((i, k) => instanceWithSet(i.instance, l.sets[k]!));
  const sorted = l.instances.map((i, k) => ({ instance: i.instance, accounts: l.sets[k]!.toAccounts() }));
  const compact = matchAccountSets(held, l.sets, options, interner);
  const plain = matchGhes(sorted, options);
  expect(decisions(compact)).toEqual(decisions(plain));
  expect(countUsage(held, options, compact)).toEqual(countUsage(sorted, options));
  expect(countEnterprise(held, cloud, options, compact)).toEqual(countEnterprise(sorted, cloud, options));
}

/** The ledger counted (all sets interned), then its snapshot written and read back. */
function written(l: Ledger, options: MatchOptions, cloud: CloudReport, interner = new KeyInterner(4)): LedgerIds {
  sameCounts(l, options, interner, cloud);
  const ids = interner.snapshot(l.instances.map((i, k) => ({ serverId: i.instance.serverId, contentSha256: l.sha[k]!, set: l.sets[k]! })));
  const bytes = encodeLedgerIds(ids);
  const back = decodeLedgerIds(bytes)!;
  expect(back).not.toBeNull();
  expect(encodeLedgerIds(back)).toEqual(bytes);
  return back;
}

/** The ids as version 2 held them: no dictionary, no offsets. */
function withoutDictionary(ids: LedgerIds): LedgerIds {
  const { dictionary: _, ...rest } = ids;
  return { ...rest, entries: rest.entries.map(({ primaryStart: _p, secondaryStart: _s, ...e }) => e) };
}
const versionTwo = (ids: LedgerIds): LedgerIds => decodeLedgerIds(encodeLedgerIds(withoutDictionary(ids)))!;

/** The block as version 1 wrote it (no checksum): its ids are checked against every account's keys. */
function versionOne(bytes: Uint8Array): Uint8Array {
  const old = new Uint8Array(bytes.length - 8);
  old.set(bytes.subarray(0, 24));
  old.set(bytes.subarray(32), 24);
  new DataView(old.buffer).setUint32(4, 1, true);
  return old;
}
const unchecked = (ids: LedgerIds): LedgerIds => decodeLedgerIds(versionOne(encodeLedgerIds(withoutDictionary(ids))))!;

describe.each([
  ["with its dictionary (version 3): a sample of each set checked", (ids: LedgerIds) => ids],
  ["checksummed (version 2): a sample checked", versionTwo],
  ["version 1: every id checked", unchecked],
])("a ledger's ids, stored and restored (%s)", (_, form) => {
  /** A ledger counted and its ids written, then restored into a ledger changed since: counts as over strings. */
  const restoredCountsHold = (first: InstanceAccounts[], other: InstanceAccounts[], changed: boolean[], o1: MatchOptions, o2: MatchOptions, members: Parameters<typeof cloudOf>[0]) => {
    const cloud = cloudOf(members);
    const before = ledgerOf(first);
    const snapshot = written(before, o1, cloud);
    // the ledger now: some instances replaced (new content hash), one maybe gone, one maybe new
    const now: InstanceAccounts[] = first.map((i, k) => (changed[k] && other[k] ? { instance: i.instance, accounts: other[k]!.accounts } : i));
    if (changed[5] && now.length > 1) now.splice(0, 1);
    if (other.length > first.length) now.push({ instance: { serverId: "new", hostName: "new.example" }, accounts: other.at(-1)!.accounts });
    const after = ledgerOf(now, (k) => {
      const serverId = now[k]!.instance.serverId;
      const was = first.findIndex((i) => i.instance.serverId === serverId);
      return was >= 0 && first[was]!.accounts === now[k]!.accounts ? `sha${was}` : `new${k}`;
    });
    // the unchanged sets as read back after a restart: other objects, same content
    after.sets = after.sets.map((s) => AccountSet.fromAccounts(s.toAccounts()));
    const restored = KeyInterner.restore(form(snapshot), heldOf(after));
    const usable = after.sets.some((s, k) => s.keyWords && after.sha[k]!.startsWith("sha"));
    expect(restored !== null).toBe(usable);
    const interner = restored ?? new KeyInterner();
    const known = interner.emailCount;
    sameCounts(after, o2, interner, cloud);
    // nothing new to intern when every set was restored (with its secondary keys, when a count wants them)
    const all = after.sets.every((s, k) => s.keyWords && after.sha[k]!.startsWith("sha"));
    if (restored && all && (snapshot.withSecondary || !o2.allEmails)) expect(interner.emailCount).toBe(known);
    // and a later count of the same ledger, with the ledger changed again, stays right
    sameCounts(ledgerOf(first), o1, interner, cloud);
  };
  const changedArb = fc.array(fc.boolean(), { minLength: 6, maxLength: 6 });

  it("counts after a restore as over strings: every set restored, or some changed since (stale entries skipped)", () => {
    fc.assert(fc.property(instancesArb, instancesArb, changedArb, optionsArb, optionsArb, membersArb, restoredCountsHold), { numRuns: 400 });
  });

  // a restore leaves its logins in the sets' texts until asked for: the new sets' logins are compared
  // with them there, one by one (above) or in one batch, range by range (here)
  it("the same with the new sets interned in one batch after the restore", () => {
    setBatchingForTests(1);
    try {
      fc.assert(fc.property(instancesArb, instancesArb, changedArb, optionsArb, optionsArb, membersArb, restoredCountsHold), { numRuns: 200 });
    } finally {
      setBatchingForTests();
    }
  });

  it("writes only the ids the sets use, from 0 (keys of instances replaced since left out)", () => {
    const cloud = cloudOf([]);
    const options = { allEmails: true, logins: true };
    const interner = new KeyInterner(4);
    const a = ledgerOf([{ instance: { serverId: "s0", hostName: "h0" }, accounts: [{ userId: 1, login: "x", primary: [hashed[0]!, hashed[1]!], secondary: [hashed[2]!] }] }]);
    sameCounts(a, options, interner, cloud);
    const b = ledgerOf([{ instance: { serverId: "s0", hostName: "h0" }, accounts: [{ userId: 1, login: "y", primary: [hashed[3]!], secondary: [hashed[1]!] }] }]);
    const ids = written(b, options, cloud, interner);
    expect(interner.emailCount).toBe(4);
    expect(ids).toMatchObject({ withSecondary: true, emailIds: 2, loginIds: 1 });
    expect([...ids.entries[0]!.primary, ...ids.entries[0]!.secondary!, ...ids.entries[0]!.login]).toEqual([0, 1, 0]);
  });

  it("restores logins that collide (the login table moves into a Map), and refuses two ids for one login there", () => {
    // with seed 0 the table hashes as plain FNV-1a, which these strings collide under
    const colliding = fnvCollisions(9);
    const l = ledgerOf(
      [0, 1].map((k) => ({
        instance: { serverId: `s${k}`, hostName: `h${k}` },
        accounts: colliding.map((login, i) => ({ userId: i + 1, login: k === 0 ? login : ` ${login.toUpperCase()} `, primary: [hashed[i % 10]!], secondary: [] })),
      })),
    );
    const options = { allEmails: false, logins: true };
    const ids = form(written(l, options, cloudOf([]), new KeyInterner(16, 0)));
    const restored = KeyInterner.restore(ids, heldOf(l), 0, 0, 0)!;
    expect(restored).not.toBeNull();
    expect(restored.loginCount).toBe(colliding.length);
    sameCounts(l, options, restored, cloudOf([]));
    expect(restored.loginCount).toBe(colliding.length);
    const again = form(written(l, options, cloudOf([]), new KeyInterner(16, 0)));
    again.entries[1]!.login[0] = again.loginIds;
    expect(KeyInterner.restore({ ...again, loginIds: again.loginIds + 1 }, heldOf(l), 0, 0, 0)).toBeNull();
  });

  describe.each([
    ["a non-ASCII login among them", "Zoë"],
    ["ASCII logins only", "Zed"],
  ])("refuses ids that do not fit the sets (%s; the count then interns as usual)", (_, third) => {
    const options = { allEmails: true, logins: true };
    const accounts: IdentifiedAccount[] = [
      { userId: 1, login: "Anna", primary: [hashed[0]!], secondary: [hashed[1]!] },
      { userId: 2, login: "bob", primary: [hashed[1]!, hashed[2]!], secondary: [] },
      { userId: 3, login: third, primary: [hashed[3]!], secondary: [hashed[0]!] },
      { userId: 4, login: "", primary: [], secondary: [] },
      { userId: 5, login: "Ada", primary: [], secondary: [] },
    ];
    const ledger = () => ledgerOf([
      { instance: { serverId: "s0", hostName: "h0" }, accounts },
      { instance: { serverId: "s1", hostName: "h1" }, accounts: accounts.map((a) => ({ ...a, login: ` ${a.login.toUpperCase()}` })) },
    ]);
    const fresh = () => {
      const l = ledger();
      return { l, ids: form(written(l, options, cloudOf([]))) };
    };
    // a restore of checksummed ids checks a sample of each set: here every account, so that any fault shows
    beforeAll(() => setRestoreSampleForTests(0));
    afterAll(() => setRestoreSampleForTests());

    it("restores the untouched snapshot", () => {
      const { l, ids } = fresh();
      const interner = KeyInterner.restore(ids, heldOf(l))!;
      expect(interner).not.toBeNull();
      expect([interner.emailCount, interner.loginCount]).toEqual([4, 4]);
      sameCounts(l, options, interner, cloudOf([]));
      expect([interner.emailCount, interner.loginCount]).toEqual([4, 4]);
    });

    const tampered: [string, (ids: LedgerIds) => LedgerIds | void][] = [
      ["two different keys' ids swapped", (ids) => {
        const p = ids.entries[1]!.primary; // keys 0, 1, 2, 3
        [p[0], p[1]] = [p[1]!, p[0]!];
      }],
      ["one key given another key's id", (ids) => {
        ids.entries[1]!.secondary![0] = ids.entries[1]!.primary[3]!;
      }],
      ["one key given two ids (the second one new, used consistently)", (ids) => {
        ids.entries[1]!.primary[0] = ids.emailIds; // hashed[0]; its secondary occurrence keeps the old id
        return { ...ids, emailIds: ids.emailIds + 1 };
      }],
      ["two keys sharing an id", (ids) => {
        const p = ids.entries[0]!.primary; // keys 0, 1, 2, 3: 3 takes 2's id
        p[3] = p[2]!;
      }],
      ["a login id pointing at another login of another length", (ids) => {
        ids.entries[1]!.login[1] = ids.entries[1]!.login[0]!; // bob -> anna
      }],
      ["a login id pointing at another login of the same length", (ids) => {
        ids.entries[1]!.login[1] = ids.entries[1]!.login[2]!; // bob -> zoë
      }],
      ["a login id pointing at another login of the same first and last characters", (ids) => {
        ids.entries[1]!.login[4] = ids.entries[1]!.login[0]!; // ada -> anna
      }],
      ["two logins sharing an id in its first entry", (ids) => {
        ids.entries[0]!.login[2] = ids.entries[0]!.login[1]!; // zoë -> bob
      }],
      ["an empty login given an id", (ids) => {
        ids.entries[1]!.login[3] = 0;
      }],
      ["a login given none", (ids) => {
        ids.entries[0]!.login[0] = -1;
      }],
      ["an id out of range", (ids) => {
        ids.entries[0]!.primary[0] = ids.emailIds;
      }],
    ];
    it.each(tampered)("%s", (_name, tamper) => {
      const { l, ids } = fresh();
      expect(KeyInterner.restore(tamper(ids) ?? ids, heldOf(l))).toBeNull();
      sameCounts(l, options, new KeyInterner(), cloudOf([]));
    });

    it("two ids for one key, each entry consistent on its own", () => {
      const { l, ids } = fresh();
      const e = ids.entries[1]!;
      const id0 = e.primary[0]!;
      const remap = (x: number) => (x === id0 ? ids.emailIds : x);
      e.primary.set(e.primary.map(remap));
      e.secondary!.set(e.secondary!.map(remap));
      expect(KeyInterner.restore({ ...ids, emailIds: ids.emailIds + 1 }, heldOf(l))).toBeNull();
    });

    it("two ids for one login, each entry consistent on its own", () => {
      const { l, ids } = fresh();
      const login = ids.entries[1]!.login;
      login[0] = ids.loginIds;
      expect(KeyInterner.restore({ ...ids, loginIds: ids.loginIds + 1 }, heldOf(l))).toBeNull();
    });

    it("the same with the tables placed in ranges of 2 slots (as a big restore places them, range by range)", () => {
      setBatchingForTests(1);
      try {
        const { l, ids } = fresh();
        const interner = KeyInterner.restore(ids, heldOf(l))!;
        expect(interner).not.toBeNull();
        sameCounts(l, options, interner, cloudOf([]));
        expect([interner.emailCount, interner.loginCount]).toEqual([4, 4]);
        const other = fresh();
        other.ids.entries[1]!.login[0] = other.ids.loginIds;
        expect(KeyInterner.restore({ ...other.ids, loginIds: other.ids.loginIds + 1 }, heldOf(other.l))).toBeNull();
      } finally {
        setBatchingForTests();
      }
    });

    it("damaged data does not decode", () => {
      const { ids } = fresh();
      const bytes = encodeLedgerIds(ids);
      expect(decodeLedgerIds(bytes.subarray(0, bytes.length - 4))).toBeNull();
      const version = bytes.slice();
      version[4] = 9;
      expect(decodeLedgerIds(version)).toBeNull();
      expect(decodeLedgerIds(new Uint8Array(3))).toBeNull();
      // an entry's server id length damaged to nearly 2^32
      const length = bytes.slice();
      new DataView(length.buffer).setUint32(24, 0xfffffffd, true);
      expect(decodeLedgerIds(length)).toBeNull();
      // unaligned, as a slice of a driver's buffer: read the same
      const odd = new Uint8Array(bytes.length + 1);
      odd.set(bytes, 1);
      expect(encodeLedgerIds(decodeLedgerIds(odd.subarray(1))!)).toEqual(bytes);
    });

    it("uses no entry for a set changed in size or content hash", () => {
      const { l, ids } = fresh();
      const held = heldOf(l);
      held.set("s0", { set: l.sets[0]!, contentSha256: "other" });
      held.set("s1", { set: AccountSet.fromAccounts(accounts.slice(1)), contentSha256: "sha1" });
      expect(KeyInterner.restore(ids, held)).toBeNull();
    });
  });
});


describe("a ledger's ids as stored: versions 2 and 3 are checksummed, version 1 still read", () => {
  const options = { allEmails: true, logins: true };
  const l = ledgerOf(
    [0, 1].map((k) => ({
      instance: { serverId: `s${k}`, hostName: `h${k}` },
      accounts: [
        { userId: 1, login: k === 0 ? "Anna" : " anna", primary: [hashed[k]!], secondary: [hashed[9]!] },
        { userId: 2, login: "Zoë", primary: [hashed[k + 3]!, hashed[0]!], secondary: [] },
        { userId: 4, login: "", primary: [hashed[8]!], secondary: [] },
      ],
    })),
  );

  it("does not decode when any bit of a block is damaged (the restore then interns as usual)", () => {
    const bytes = encodeLedgerIds(written(l, options, cloudOf([])));
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0, 7]) {
        const damaged = bytes.slice();
        damaged[i]! ^= 1 << bit;
        expect([i, decodeLedgerIds(damaged)]).toEqual([i, null]);
      }
    }
  });

  it("reads version 1 as unchecked, and restores it (every id checked)", () => {
    const ids = withoutDictionary(written(l, options, cloudOf([])));
    expect(ids.checked).toBe(true);
    const old = decodeLedgerIds(versionOne(encodeLedgerIds(ids)))!;
    expect(old.checked).toBe(false);
    expect(encodeLedgerIds(old)).toEqual(encodeLedgerIds(ids));
    const restored = KeyInterner.restore(old, heldOf(l))!;
    expect(restored).not.toBeNull();
    sameCounts(l, options, restored, cloudOf([]));
  });

  it("the sample of a restore of checksummed ids catches a wrong id at the account it checks", () => {
    // one account per set sampled (a random one of 3): over many tries, wrong ids in a set are caught
    setRestoreSampleForTests(1);
    try {
      let caught = 0;
      for (let t = 0; t < 60; t++) {
        const ids = written(l, options, cloudOf([]));
        const e = ids.entries[1]!; // its first login's id given to its second and the other way round
        [e.login[0], e.login[1]] = [e.login[1]!, e.login[0]!];
        if (KeyInterner.restore(ids, heldOf(l)) === null) caught++;
      }
      expect(caught).toBeGreaterThan(0);
    } finally {
      setRestoreSampleForTests();
    }
  });
});

describe("a ledger restored from its dictionary (version 3) with sets held only as ids (AccountIds, none read)", () => {
  /** The GHES count over what a restart holds: stand-ins where the snapshot serves, sets elsewhere. */
  const standInCountsHold = (first: InstanceAccounts[], other: InstanceAccounts[], changed: boolean[], o1: MatchOptions, o2: MatchOptions) => {
    const before = ledgerOf(first);
    const snapshot = written(before, o1, cloudOf([]));
    expect(snapshot.dictionary).toBeDefined();
    const now: InstanceAccounts[] = first.map((i, k) => (changed[k] && other[k] ? { instance: i.instance, accounts: other[k]!.accounts } : i));
    const after = ledgerOf(now, (k) => (now[k]!.accounts === first[k]!.accounts ? `sha${k}` : `new${k}`));
    // what the service does: a stand-in for a set the snapshot numbered (with secondary keys when the count wants them)
    const serves = (k: number) => after.sets[k]!.keyWords !== null && after.sha[k]!.startsWith("sha") && (snapshot.withSecondary || !o2.allEmails);
    const held: HeldAccounts[] = after.sets.map((s, k) => (serves(k) ? new AccountIds(s.count, s.keyCount) : AccountSet.fromAccounts(s.toAccounts())));
    const restored = KeyInterner.restore(snapshot, new Map(after.instances.map((i, k) => [i.instance.serverId, { set: held[k]!, contentSha256: after.sha[k]! }])));
    // whole sets are served too, whatever the count wants
    expect(restored !== null).toBe(after.sets.some((s, k) => s.keyWords !== null && after.sha[k]!.startsWith("sha")));
    if (!restored) return;
    for (const h of held) if (h instanceof AccountIds) expect(restored.holds(h, o2.allEmails)).toBe(true);
    const instances = after.instances.map((i, k) => instanceWithSet(i.instance, held[k]!));
    const compact = matchAccountSets(instances, held, o2, restored);
    const plain = matchGhes(after.instances.map((i, k) => ({ instance: i.instance, accounts: after.sets[k]!.toAccounts() })), o2);
    expect(decisions(compact)).toEqual(decisions(plain));
    expect(countUsage(instances, o2, compact)).toEqual(countUsage(after.instances, o2));
    // and its snapshot, taken again from the stand-ins, restores the same way
    const again = decodeLedgerIds(encodeLedgerIds(restored.snapshot(after.instances.map((i, k) => ({ serverId: i.instance.serverId, contentSha256: after.sha[k]!, set: held[k]! })))))!;
    const twice = KeyInterner.restore(again, new Map(after.instances.map((i, k) => [i.instance.serverId, { set: held[k]!, contentSha256: after.sha[k]! }])))!;
    expect(twice).not.toBeNull();
    expect(decisions(matchAccountSets(instances, held, o2, twice))).toEqual(decisions(plain));
  };

  it("counts as over strings (property)", () => {
    fc.assert(fc.property(instancesArb, instancesArb, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), optionsArb, optionsArb, standInCountsHold), { numRuns: 400 });
  });

  it("a stand-in asked for its accounts (an enterprise count), or not held by the interner, fails loudly", () => {
    const l = ledgerOf([{ instance: { serverId: "s0", hostName: "h0" }, accounts: [{ userId: 1, login: "Ann", primary: [hashed[0]!], secondary: [] }] }]);
    const ids = new AccountIds(1, 1);
    const options = { allEmails: false, logins: true };
    expect(() => matchAccountSets([instanceWithSet(l.instances[0]!.instance, ids)], [ids], options, new KeyInterner())).toThrow(/read its set/);
    const restored = KeyInterner.restore(written(l, options, cloudOf([])), new Map([["s0", { set: ids, contentSha256: "sha0" }]]))!;
    const m = matchAccountSets([instanceWithSet(l.instances[0]!.instance, ids)], [ids], options, restored);
    expect(() => m.userIds).toThrow(/read its set/);
    expect(() => m.lists).toThrow(/read its set/);
  });

  describe("refuses a dictionary that cannot be the app's", () => {
    const options = { allEmails: true, logins: true };
    const l = ledgerOf(
      [0, 1].map((k) => ({
        instance: { serverId: `s${k}`, hostName: `h${k}` },
        accounts: [
          { userId: 1, login: "Anna", primary: [hashed[k]!], secondary: [hashed[9]!] },
          { userId: 2, login: "İlkay", primary: [hashed[k + 3]!], secondary: [] },
          { userId: 3, login: "bob", primary: [], secondary: [] },
        ],
      })),
    );
    const standIns = new Map(l.sets.map((s, k) => [`s${k}`, { set: new AccountIds(s.count, s.keyCount) as HeldAccounts, contentSha256: `sha${k}` }]));
    const fresh = () => written(l, options, cloudOf([]));
    it("restores the untouched one", () => expect(KeyInterner.restore(fresh(), standIns)).not.toBeNull());
    const tampered: [string, (ids: LedgerIds) => LedgerIds][] = [
      ["two ids with one key", (ids) => {
        ids.dictionary!.words.copyWithin(4, 0, 4);
        return ids;
      }],
      ["a login key with an upper-case letter", (ids) => ({ ...ids, dictionary: { ...ids.dictionary!, logins: ids.dictionary!.logins.replace("anna", "Anna") } })],
      ["a login key with white space at an end", (ids) => ({ ...ids, dictionary: { ...ids.dictionary!, logins: ids.dictionary!.logins.replace("anna", "ann ") } })],
      ["a non-ASCII login key not lower-cased", (ids) => ({ ...ids, dictionary: { ...ids.dictionary!, logins: ids.dictionary!.logins.replace("i̇lkay", "İlkay") } })],
      ["two ids with one login", (ids) => {
        const d = ids.dictionary!;
        const keys = [...d.loginEnd].map((end, x) => d.logins.slice(x === 0 ? 0 : d.loginEnd[x - 1], end));
        const logins = keys.map((k) => (k === "anna" ? "bob" : k));
        let at = 0;
        return { ...ids, dictionary: { ...d, logins: logins.join(""), loginEnd: Int32Array.from(logins, (k) => (at += k.length)) } };
      }],
      ["an empty login key", (ids) => {
        ids.dictionary!.loginEnd[1] = ids.dictionary!.loginEnd[0]!;
        return ids;
      }],
      ["a key id out of range", (ids) => {
        ids.entries[1]!.secondary![0] = ids.emailIds;
        return ids;
      }],
      ["a login id out of range", (ids) => {
        ids.entries[0]!.login[2] = ids.loginIds;
        return ids;
      }],
      ["fewer words than ids", (ids) => ({ ...ids, dictionary: { ...ids.dictionary!, words: ids.dictionary!.words.subarray(4) } })],
    ];
    it.each(tampered)("%s", (_name, tamper) => {
      expect(KeyInterner.restore(tamper(fresh()), standIns)).toBeNull();
    });

    it("keeps logins beyond latin1 exactly (stored as UTF-16), a lone surrogate too", () => {
      const odd = ledgerOf([{ instance: { serverId: "s0", hostName: "h0" }, accounts: [{ userId: 1, login: "a\ud800b", primary: [hashed[0]!], secondary: [] }, { userId: 2, login: "İ", primary: [hashed[1]!], secondary: [] }] }]);
      const ids = written(odd, options, cloudOf([]));
      expect(ids.dictionary!.logins).toBe("a\ud800bi̇");
      const restored = KeyInterner.restore(ids, new Map([["s0", { set: new AccountIds(2, 2) as HeldAccounts, contentSha256: "sha0" }]]))!;
      expect([restored.loginText(0), restored.loginText(1), restored.loginId("i̇")]).toEqual(["a\ud800b", "i̇", 1]);
    });
  });
});
