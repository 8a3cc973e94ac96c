import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { countUsage, latestPerInstance, maskGroupHashesForTests, matchGhes, overlapsAmong, savingsOverview } from "../../src/domain/count.js";
import { KeyInterner } from "../../src/domain/key-ids.js";
import { identifyAccounts } from "../../src/domain/identity.js";
import { toContractJson } from "../../src/domain/report-json.js";
import { DEFAULT_MATCH_OPTIONS, type Account, type IdentifiedAccount, type InstanceAccounts, type MatchOptions } from "../../src/domain/types.js";
import { readExport } from "../../src/domain/validate.js";
import { SAMPLES } from "../helpers/samples.js";
import { referenceCount } from "../helpers/reference-count.js";
import { fnvCollisions } from "../helpers/fnv-collisions.js";

const ALL: MatchOptions = { allEmails: true, logins: false };
const LOGINS: MatchOptions = { allEmails: false, logins: true };

/** [userId, login, primaries, others] -> an instance of identified accounts (CLI keying: the e-mail). */
function instance(serverId: string, hostName: string, users: [number, string, string[], string[]?, boolean?][]): InstanceAccounts {
  const accounts: Account[] = users.map(([userId, login, primaries, others = [], suspended = false]) => ({
    userId,
    login,
    emails: [...primaries.map((email) => ({ email, primary: true })), ...others.map((email) => ({ email, primary: false }))],
    suspended,
  }));
  return { instance: { serverId, hostName }, accounts: identifyAccounts(accounts, (e) => e) };
}

describe("countUsage: the contract's rules", () => {
  it("matches primary e-mails regardless of case and surrounding spaces", () => {
    const r = countUsage(
      [
        instance("a", "a.example", [[1, "mona", ["Mona@Corp.example"]]]),
        instance("b", "b.example", [[1, "mona", ["  mona@corp.EXAMPLE "]]]),
      ],
      DEFAULT_MATCH_OPTIONS,
    );
    expect(r).toMatchObject({ seats: 1, accounts: 2, deduplicated: 1, overlaps: [{ serverIds: ["a", "b"], people: 1 }] });
  });

  it("matches NFC-equivalent addresses (e + combining acute = é)", () => {
    const r = countUsage(
      [instance("a", "a", [[1, "r", ["re\u0301my@corp.example"]]]), instance("b", "b", [[7, "r2", ["R\u00c9MY@corp.example"]]])],
      DEFAULT_MATCH_OPTIONS,
    );
    expect(r.seats).toBe(1);
  });

  it("is transitive across three instances (two primaries link the chain)", () => {
    const r = countUsage(
      [
        instance("a", "a", [[1, "x", ["one@corp.example"]]]),
        instance("b", "b", [[1, "y", ["one@corp.example", "two@corp.example"]]]),
        instance("c", "c", [[1, "z", ["two@corp.example"]], [2, "w", ["solo@corp.example"]]]),
      ],
      DEFAULT_MATCH_OPTIONS,
    );
    expect(r.seats).toBe(2);
    expect(r.deduplicated).toBe(2);
    expect(r.spans).toEqual([{ instances: 3, people: 1 }]);
    expect(r.overlaps).toEqual([
      { serverIds: ["a", "b"], people: 1 },
      { serverIds: ["a", "c"], people: 1 },
      { serverIds: ["b", "c"], people: 1 },
    ]);
    expect(r.instances.map((i) => [i.serverId, i.exclusive])).toEqual([["a", 0], ["b", 0], ["c", 1]]);
  });

  it("merges accounts within one instance that share a primary", () => {
    const r = countUsage([instance("a", "a", [[1, "x", ["same@corp.example"]], [2, "y", ["SAME@corp.example"]]])], DEFAULT_MATCH_OPTIONS);
    expect(r).toMatchObject({ seats: 1, accounts: 2, deduplicated: 1, overlaps: [], spans: [] });
    expect(r.instances[0]).toMatchObject({ accounts: 2, exclusive: 1, unmatched: 0 });
  });

  it("uses secondary e-mails only with allEmails", () => {
    const insts = [
      instance("a", "a", [[1, "x", ["work@corp.example"], ["home@mail.example"]]]),
      instance("b", "b", [[1, "y", ["HOME@mail.example"]]]),
    ];
    expect(countUsage(insts, DEFAULT_MATCH_OPTIONS).seats).toBe(2);
    expect(countUsage(insts, ALL).seats).toBe(1);
  });

  it("counts an account without a primary as a person of its own (unmatched), unless options give it an identity", () => {
    const insts = [
      instance("a", "a", [[1, "mona", [], ["mona@corp.example"]], [2, "nobody", []]]),
      instance("b", "b", [[1, "Mona", ["mona@corp.example"]]]),
    ];
    const plain = countUsage(insts, DEFAULT_MATCH_OPTIONS);
    expect(plain).toMatchObject({ seats: 3, unmatched: 2 });
    expect(plain.instances.map((i) => i.unmatched)).toEqual([2, 0]);
    const all = countUsage(insts, ALL);
    expect(all).toMatchObject({ seats: 2, unmatched: 1 });
    const logins = countUsage(insts, LOGINS);
    expect(logins).toMatchObject({ seats: 2, unmatched: 0 });
  });

  it("matches lower-cased logins only with the logins option, and never a login with an e-mail key", () => {
    const insts = [
      instance("a", "a", [[1, "Octocat", ["a@corp.example"]]]),
      instance("b", "b", [[1, "octocat", ["b@corp.example"]]]),
      // this login equals the first account's e-mail key: must not match it
      instance("c", "c", [[1, "a@corp.example", ["c@corp.example"]]]),
    ];
    expect(countUsage(insts, DEFAULT_MATCH_OPTIONS).seats).toBe(3);
    const r = countUsage(insts, LOGINS);
    expect(r.seats).toBe(2);
    expect(r.overlaps).toEqual([{ serverIds: ["a", "b"], people: 1 }]);
  });

  it("lists possible savings: one login, distinct persons on different instances", () => {
    const insts = [
      instance("a", "a", [[1, "Octocat", ["a@corp.example"]], [2, "kim", ["kim@corp.example"]], [3, "lee", ["lee@corp.example"]]]),
      instance("b", "b", [[1, "octocat", ["b@corp.example"]], [2, "kim", ["KIM@corp.example"]], [3, "lee", ["lee2@corp.example"]]]),
      instance("c", "c", [[1, "OCTOCAT", ["c@corp.example"]]]),
    ];
    const r = countUsage(insts, DEFAULT_MATCH_OPTIONS);
    // kim is matched by e-mail already: no saving there
    expect(r.possibleSavings).toEqual([
      { login: "octocat", persons: 3, seats: 2 },
      { login: "lee", persons: 2, seats: 1 },
    ]);
    expect(countUsage(insts, LOGINS).possibleSavings).toEqual([]);
  });

  it("counts a duplicate user_id once (the validator merges them; the engine is robust anyway)", () => {
    const dup: InstanceAccounts = {
      instance: { serverId: "a", hostName: "a" },
      accounts: [
        { userId: 5, login: "x", primary: ["x@corp.example"], secondary: [] },
        { userId: 5, login: "x", primary: ["y@corp.example"], secondary: [] },
        { userId: 6, login: "z", primary: [], secondary: [] },
      ],
    };
    const r = countUsage([dup, instance("b", "b", [[1, "q", ["y@corp.example"]]])], DEFAULT_MATCH_OPTIONS);
    expect(r).toMatchObject({ accounts: 3, seats: 2 });
    expect(r.instances[0]).toMatchObject({ serverId: "a", accounts: 2 });
    // sparse ids take the other duplicate check
    const sparse: InstanceAccounts = { instance: { serverId: "s", hostName: "s" }, accounts: [dup.accounts[0]!, { ...dup.accounts[0]!, userId: 2 ** 40 }, { ...dup.accounts[1]!, userId: 2 ** 40 }] };
    expect(countUsage([sparse], DEFAULT_MATCH_OPTIONS)).toMatchObject({ accounts: 2, seats: 1 });
  });

  it("never counts suspended accounts", () => {
    const r = countUsage([instance("a", "a", [[1, "x", ["x@corp.example"], [], true], [2, "y", ["y@corp.example"]]])], DEFAULT_MATCH_OPTIONS);
    expect(r).toMatchObject({ accounts: 1, seats: 1 });
  });

  it("sorts instances by host name then server id, overlaps by pair", () => {
    const r = countUsage(
      [
        instance("z2", "b.example", [[1, "p", ["p@x"]]]),
        instance("z1", "b.example", [[1, "p", ["p@x"]]]),
        instance("a9", "a.example", [[1, "p", ["p@x"]]]),
      ],
      DEFAULT_MATCH_OPTIONS,
    );
    expect(r.instances.map((i) => i.serverId)).toEqual(["a9", "z1", "z2"]);
    expect(r.overlaps.map((o) => o.serverIds)).toEqual([["a9", "z1"], ["a9", "z2"], ["z1", "z2"]]);
    expect(r.spans).toEqual([{ instances: 3, people: 1 }]);
  });

  it("gives the same answers with more than 30 instances (the list tally)", () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      instance(`s${String(i).padStart(2, "0")}`, `h${i}`, [[1, "x", ["shared@corp.example"]], [2, "y", [`own${i}@corp.example`]], [3, "z", [i % 2 ? "odd@x" : "even@x"]]]),
    );
    const r = countUsage(many, DEFAULT_MATCH_OPTIONS);
    expect(r).toMatchObject({ accounts: 120, seats: 43 });
    expect(r.spans).toEqual([{ instances: 20, people: 2 }, { instances: 40, people: 1 }]);
    expect(r.overlaps).toHaveLength((40 * 39) / 2);
    expect(r.overlaps.find((o) => o.serverIds[0] === "s00" && o.serverIds[1] === "s02")!.people).toBe(2);
    expect(r.overlaps.find((o) => o.serverIds[0] === "s00" && o.serverIds[1] === "s01")!.people).toBe(1);
    expect(r.instances.every((i) => i.exclusive === 1)).toBe(true);
  });

  it("lists the pairs of one person on 2,000 instances, and of 5,900 instances without a Map of pairs", () => {
    const fleet = (m: number) =>
      Array.from({ length: m }, (_, i) => instance(`s${String(i).padStart(4, "0")}`, "h", [[1, "x", ["shared@corp.example"]], [2, "y", [`own${i}@x`]]]));
    const r = countUsage(fleet(2000), DEFAULT_MATCH_OPTIONS);
    expect(r).toMatchObject({ seats: 2001, spans: [{ instances: 2000, people: 1 }] });
    expect(r.instances.every((i) => i.exclusive === 1)).toBe(true);
    expect(r.overlaps).toHaveLength((2000 * 1999) / 2);
    expect(r.overlaps[0]).toEqual({ serverIds: ["s0000", "s0001"], people: 1 });
    expect(r.overlaps.at(-1)).toEqual({ serverIds: ["s1998", "s1999"], people: 1 });
    // 17 million pairs used to overflow a Map; now the count never lists them unless asked
    const big = countUsage(fleet(5900), DEFAULT_MATCH_OPTIONS);
    expect(big).toMatchObject({ seats: 5901, accounts: 11800, spans: [{ instances: 5900, people: 1 }] });
    expect([...overlapsAmong(big, ["s0007", "s5000", "s0003"])]).toEqual([
      ["s0003\ns0007", 1],
      ["s0003\ns5000", 1],
      ["s0007\ns5000", 1],
    ]);
  });

  it("counts logins crafted to collide under plain FNV-1a like any others", () => {
    const logins = fnvCollisions(); // 4,096 logins with one FNV-1a hash
    const a = instance("a", "a", logins.map((l, i): [number, string, string[]] => [i + 1, l, [`a${i}@x`]]));
    const b = instance("b", "b", logins.map((l, i): [number, string, string[]] => [i + 1, l.toUpperCase(), [`b${i}@x`]]));
    const byLogin = countUsage([a, b], LOGINS);
    expect(byLogin).toMatchObject({ seats: 4096, deduplicated: 4096, overlaps: [{ serverIds: ["a", "b"], people: 4096 }] });
    const byEmail = countUsage([a, b], DEFAULT_MATCH_OPTIONS);
    expect(byEmail.seats).toBe(8192);
    expect(byEmail.possibleSavings).toHaveLength(4096);
    expect(byEmail.possibleSavings[0]).toEqual({ login: [...logins].sort()[0], persons: 2, seats: 1 });
  });

  it("handles no instances at all", () => {
    expect(countUsage([], DEFAULT_MATCH_OPTIONS)).toMatchObject({ seats: 0, accounts: 0, deduplicated: 0, instances: [], overlaps: [], spans: [] });
  });
});

describe("latestPerInstance", () => {
  it("lets a later upload of the same server id replace the earlier one entirely", () => {
    const first = instance("a", "old.example", [[1, "x", ["x@corp.example"]], [2, "y", ["y@corp.example"]]]);
    const other = instance("b", "b.example", [[1, "x", ["x@corp.example"]]]);
    const second = instance("a", "new.example", [[3, "z", ["z@corp.example"]]]);
    const latest = latestPerInstance([first, other, second]);
    expect(latest).toEqual([other, second]);
    const r = countUsage(latest, DEFAULT_MATCH_OPTIONS);
    expect(r).toMatchObject({ accounts: 2, seats: 2, overlaps: [] });
    expect(r.instances.map((i) => i.hostName)).toEqual(["b.example", "new.example"]);
  });
});

describe("the shared samples", () => {
  const samples = SAMPLES;
  const load = (name: string): InstanceAccounts => {
    const r = readExport(readFileSync(`${samples}/${name}`), name, { maxBytes: 1 << 20 });
    if (!r.ok) throw new Error(`${name} should be valid`);
    return { instance: r.export.instance, accounts: identifyAccounts(r.export.accounts, (e) => e) };
  };

  it("counts code + git + ghes-lab as the contract says (worked out by hand)", () => {
    // code 18 accounts, git 12, ghes-lab 7. Shared primaries: code~git brian, ivan, chen.lab, sara.lab,
    // yara, pia, omar (7); code~lab yara, dana, uma (3); git~lab yara (1). yara is on all three.
    const r = countUsage([load("code.json"), load("git.json"), load("ghes-lab.json")], DEFAULT_MATCH_OPTIONS);
    const CODE = "5f1d3c2a-7b8e-4c1d-9e2f-a1b2c3d4e5f6";
    const GIT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    const LAB = "c0ffee00-1234-4abc-8def-0123456789ab";
    expect(toContractJson(r)).toMatchObject({
      seats: 27,
      accounts: 37,
      deduplicated: 10,
      instances: [
        { server_id: CODE, host_name: "code.acme.example", accounts: 18, exclusive: 9 },
        { server_id: LAB, host_name: "ghes-lab.acme.example", accounts: 7, exclusive: 4 },
        { server_id: GIT, host_name: "git.eu.acme.example", accounts: 12, exclusive: 5 },
      ],
      overlaps: [
        { server_ids: [CODE, GIT], people: 7 },
        { server_ids: [CODE, LAB], people: 3 },
        { server_ids: [GIT, LAB], people: 1 },
      ],
      spans: [{ instances: 2, people: 8 }, { instances: 3, people: 1 }],
      unmatched: 0,
      possible_savings: [],
    });
  });
});

// ---- properties ----

const emailArb = fc.constantFrom("a@x", "b@x", "c@x", "d@x", "e@x", "A@X", " b@x ", "");
const accountArb = fc.record({
  login: fc.constantFrom("ann", "bob", "Cy", "dee", "ANN"),
  primary: fc.array(emailArb, { maxLength: 2 }),
  secondary: fc.array(emailArb, { maxLength: 2 }),
});
const instancesArb = fc
  .array(fc.array(accountArb, { maxLength: 8 }), { minLength: 1, maxLength: 5 })
  .map((insts) =>
    insts.map(
      (accounts, i): InstanceAccounts => ({
        instance: { serverId: `s${i}`, hostName: `h${i % 3}` },
        accounts: accounts.map((a, u): IdentifiedAccount => ({
          userId: u + 1,
          login: a.login,
          primary: a.primary.map((e) => e.trim().toLowerCase()).filter(Boolean),
          secondary: a.secondary.map((e) => e.trim().toLowerCase()).filter(Boolean),
        })),
      }),
    ),
  );
/** 31 to 45 instances (past the bit-mask tally), a few accounts each, identities from a small pool. */
const manyInstancesArb = fc
  .array(fc.array(accountArb, { maxLength: 3 }), { minLength: 31, maxLength: 45 })
  .chain((insts) => fc.shuffledSubarray(insts.map((_, i) => i), { minLength: insts.length, maxLength: insts.length }).map((order) => ({ insts, order })))
  .map(({ insts, order }) =>
    insts.map(
      (accounts, i): InstanceAccounts => ({
        instance: { serverId: `s${String(order[i]).padStart(2, "0")}`, hostName: `h${i % 4}` },
        accounts: accounts.map((a, u): IdentifiedAccount => ({
          userId: u + 1,
          login: a.login,
          primary: a.primary.map((e) => e.trim().toLowerCase()).filter(Boolean),
          secondary: a.secondary.map((e) => e.trim().toLowerCase()).filter(Boolean),
        })),
      }),
    ),
  );
const optionsArb = fc.record({ allEmails: fc.boolean(), logins: fc.boolean() });

describe("countUsage: properties", () => {
  it("shuffling accounts and instances never changes the report", () => {
    fc.assert(
      fc.property(instancesArb, optionsArb, fc.integer(), (insts, options, seed) => {
        const shuffled = shuffle(insts.map((i) => ({ ...i, accounts: shuffle(i.accounts, seed) })), seed + 1);
        expect(countUsage(shuffled, options)).toEqual(countUsage(insts, options));
      }),
    );
  });

  it("seats >= persons of the busiest instance when no account carries two identities", () => {
    // With two identities one account can bridge two persons of another instance, so the bound
    // only holds for single-identity accounts (primary e-mail only, at most one).
    fc.assert(
      fc.property(instancesArb, (insts) => {
        const single = insts.map((i) => ({ ...i, accounts: i.accounts.map((a) => ({ ...a, primary: a.primary.slice(0, 1) })) }));
        const r = countUsage(single, DEFAULT_MATCH_OPTIONS);
        for (const i of single) expect(r.seats).toBeGreaterThanOrEqual(countUsage([i], DEFAULT_MATCH_OPTIONS).seats);
      }),
    );
  });

  it("seats <= accounts, deduplicated = accounts - seats, exclusive + multi-instance persons = seats", () => {
    fc.assert(
      fc.property(instancesArb, optionsArb, (insts, options) => {
        const r = countUsage(insts, options);
        expect(r.seats).toBeLessThanOrEqual(r.accounts);
        expect(r.deduplicated).toBe(r.accounts - r.seats);
        // exclusive persons plus persons on several instances are all the persons
        const multi = r.spans.reduce((s, x) => s + x.people, 0);
        expect(r.instances.reduce((s, i) => s + i.exclusive, 0) + multi).toBe(r.seats);
      }),
    );
  });

  it("splitting an instance into two server ids keeps seats (overlaps may change)", () => {
    fc.assert(
      fc.property(instancesArb, optionsArb, fc.nat(), (insts, options, cut) => {
        const first = insts[0]!;
        const at = first.accounts.length ? cut % (first.accounts.length + 1) : 0;
        const split: InstanceAccounts[] = [
          { instance: { serverId: "split-1", hostName: "x" }, accounts: first.accounts.slice(0, at) },
          { instance: { serverId: "split-2", hostName: "x" }, accounts: first.accounts.slice(at) },
          ...insts.slice(1),
        ];
        const before = countUsage(insts, options);
        const after = countUsage(split, options);
        expect(after.seats).toBe(before.seats);
        expect(after.accounts).toBe(before.accounts);
      }),
    );
  });

  it("gives the reference implementation's whole report (test/helpers/reference-count.ts)", () => {
    fc.assert(
      fc.property(instancesArb, optionsArb, (insts, options) => {
        expect(countUsage(insts, options)).toEqual(referenceCount(insts, options));
      }),
    );
  });

  it("gives the reference's possible savings for many shared logins, over strings and over interned ids (the pair buffers grow)", () => {
    for (const [m, size, logins, emails] of [[3, 150, 100, 40], [5, 300, 50, 400], [34, 20, 30, 60]] as const) {
      const insts = Array.from({ length: m }, (_, s) =>
        instance(`s${s}`, `h${s}`, Array.from({ length: size }, (_, j): [number, string, string[]] => [j + 1, `U${(j * 7 + s * 3) % logins}`, [`e${(j * 13 + s * 5) % emails}@x`]])),
      );
      const expected = referenceCount(insts, DEFAULT_MATCH_OPTIONS);
      expect(expected.possibleSavings.length).toBeGreaterThan(10);
      expect(countUsage(insts, DEFAULT_MATCH_OPTIONS)).toEqual(expected);
      expect(countUsage(insts, DEFAULT_MATCH_OPTIONS, matchGhes(insts, DEFAULT_MATCH_OPTIONS, new KeyInterner()))).toEqual(expected);
    }
  });

  it("savingsOverview: the count, seat sum and first logins of the full list, without listing it (limits inside and between seat counts)", () => {
    // login k (named out of id order) is carried by min(m, 1 + k % 5) persons: several logins per seat count
    for (const [m, logins] of [[5, 40], [6, 90], [34, 30]] as const) {
      const insts = Array.from({ length: m }, (_, s) =>
        instance(`s${s}`, `h${s}`, Array.from({ length: logins }, (_, k): [number, string, string[]] => [k + 1, `U${(k * 37) % 101}`, [`${k}-${s % (1 + (k % 5))}@x`]])),
      );
      const full = referenceCount(insts, DEFAULT_MATCH_OPTIONS).possibleSavings;
      expect(new Set(full.map((p) => p.seats)).size).toBeGreaterThan(2);
      const seats = full.reduce((sum, p) => sum + p.seats, 0);
      for (const interner of [undefined, new KeyInterner()]) {
        for (const limit of [0, 1, 2, 5, 17, full.length - 1, full.length, full.length + 3]) {
          // a fresh report each time: the overview must not need the full list
          const report = countUsage(insts, DEFAULT_MATCH_OPTIONS, interner && matchGhes(insts, DEFAULT_MATCH_OPTIONS, interner));
          expect(savingsOverview(report, limit)).toEqual({ logins: full.length, seats, top: full.slice(0, limit) });
          expect(report.possibleSavings).toEqual(full);
          expect(savingsOverview(report, limit)).toEqual({ logins: full.length, seats, top: full.slice(0, limit) });
        }
      }
      // a report made elsewhere (no found savings behind it): read from its list
      expect(savingsOverview({ ...referenceCount(insts, DEFAULT_MATCH_OPTIONS) }, 3)).toEqual({ logins: full.length, seats, top: full.slice(0, 3) });
    }
  });

  it("counts every person of a login shared by 1 to 20 persons, each met again after the first few (the stamp table's switch)", () => {
    // persons 0..k-1 carry login L with their own e-mail on three instances, met in three orders
    for (let k = 1; k <= 20; k++) {
      const people = Array.from({ length: k }, (_, p) => p);
      const orders = [people, [...people].reverse(), people.map((_, i) => (i * 7) % k)];
      const insts = orders.map((order, s) => instance(`s${s}`, `h${s}`, order.map((p, j): [number, string, string[]] => [j + 1, "L", [`${p}@x`]])));
      const expected = referenceCount(insts, DEFAULT_MATCH_OPTIONS);
      expect(expected.possibleSavings).toEqual(k > 1 ? [{ login: "l", persons: k, seats: k - 1 }] : []);
      expect(countUsage(insts, DEFAULT_MATCH_OPTIONS)).toEqual(expected);
      expect(countUsage(insts, DEFAULT_MATCH_OPTIONS, matchGhes(insts, DEFAULT_MATCH_OPTIONS, new KeyInterner()))).toEqual(expected);
    }
  });

  it("keeps apart, past 64 instances, persons whose instances are a prefix of another's when every group hash is equal", () => {
    // a on instances 0-3 (grouped first), b on 0-2: b's list equals the start of a's
    const insts = Array.from({ length: 70 }, (_, s) => {
      const users: [number, string, string[]][] = [[1, `filler${s}`, [`f${s}@x`]]];
      if (s <= 3) users.push([2, "a", ["a@x"]]);
      if (s <= 2) users.push([3, "b", ["b@x"]]);
      return instance(`s${String(s).padStart(2, "0")}`, `h${s}`, users);
    });
    const expected = referenceCount(insts, DEFAULT_MATCH_OPTIONS);
    expect(expected.spans).toEqual(expect.arrayContaining([{ instances: 3, people: 1 }, { instances: 4, people: 1 }]));
    maskGroupHashesForTests(0);
    try {
      expect(countUsage(insts, DEFAULT_MATCH_OPTIONS)).toEqual(expected);
    } finally {
      maskGroupHashesForTests(-1);
    }
  });

  it("gives the reference's groups when there are many of them, also when every group hash falls on four values", () => {
    // person p (e-mail p@x) is on the instances of the bits of a number made from p: many distinct sets
    for (const m of [12, 35, 70]) {
      const insts = Array.from({ length: m }, (_, s) =>
        instance(`s${s}`, `h${s}`, Array.from({ length: 400 }, (_, p): [number, string, string[]] => [p + 1, `l${p}`, [`${p}@x`]]).filter(([p]) => ((Math.imul(p, 2654435761) >>> (s % 24)) & 1) === 1 || (p + s) % 9 === 0)),
      );
      const expected = referenceCount(insts, DEFAULT_MATCH_OPTIONS);
      expect(expected.overlaps.length).toBeGreaterThan(m);
      for (const mask of [-1, 3, 0]) {
        maskGroupHashesForTests(mask);
        try {
          const got = countUsage(insts, DEFAULT_MATCH_OPTIONS);
          expect(got).toEqual(expected);
          expect(got.spans).toEqual(expected.spans);
        } finally {
          maskGroupHashesForTests(-1);
        }
      }
    }
  });

  it("gives the reference's whole report with 31 to 45 instances (two-word masks)", () => {
    fc.assert(
      fc.property(manyInstancesArb, optionsArb, (insts, options) => {
        expect(countUsage(insts, options)).toEqual(referenceCount(insts, options));
      }),
      { numRuns: 40 },
    );
  });

  it("gives the reference's whole report with more than 64 instances (the list grouping)", () => {
    // the 31-45 instances of manyInstancesArb, and twice as many again of the same accounts under other server ids
    const moreArb = manyInstancesArb.map((insts) => [
      ...insts,
      ...["t", "u"].flatMap((p) => insts.map((inst, i) => ({ instance: { serverId: `${p}${i}`, hostName: inst.instance.hostName }, accounts: inst.accounts }))),
    ]);
    fc.assert(
      fc.property(moreArb, optionsArb, (insts, options) => {
        expect(insts.length).toBeGreaterThan(64);
        expect(countUsage(insts, options)).toEqual(referenceCount(insts, options));
      }),
      { numRuns: 20 },
    );
  });

  it("agrees with a naive quadratic reference on the seat count", () => {
    fc.assert(
      fc.property(instancesArb, optionsArb, (insts, options) => {
        expect(countUsage(insts, options).seats).toBe(naiveSeats(insts, options));
      }),
    );
  });
});

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Repeated merging of groups that share a key until nothing changes. */
function naiveSeats(insts: InstanceAccounts[], options: MatchOptions): number {
  let groups: Set<string>[] = [];
  for (const inst of insts) {
    for (const a of inst.accounts) {
      const keys = new Set<string>(a.primary.map((k) => `e:${k}`));
      if (options.allEmails) for (const k of a.secondary) keys.add(`e:${k}`);
      if (options.logins && a.login.trim()) keys.add(`l:${a.login.trim().toLowerCase()}`);
      groups.push(keys);
    }
  }
  let changed = true;
  while (changed) {
    changed = false;
    const next: Set<string>[] = [];
    for (const g of groups) {
      const hit = next.find((n) => [...g].some((k) => n.has(k)));
      if (hit) {
        for (const k of g) hit.add(k);
        changed = true;
      } else next.push(g);
    }
    groups = next;
  }
  return groups.length;
}
