// A count made with working arrays kept from earlier counts (CountScratch) must say what a count
// over strings says, whatever the earlier counts were (larger, smaller, other options), and its
// report must still read right after later counts reuse the arrays.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { AccountSet, instanceWithSet } from "../../src/domain/account-set.js";
import { countRoom, countUsage, matchAccountSets, overlapsAmong, savingsOverview } from "../../src/domain/count.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import { KeyInterner } from "../../src/domain/key-ids.js";
import { CountScratch } from "../../src/domain/scratch.js";
import type { CloudReport } from "../../src/domain/cloud-report.js";
import type { IdentifiedAccount, MatchOptions, UsageReport } from "../../src/domain/types.js";

// Few keys and logins: persons merge, and a login is often carried by several persons (more than
// eight too: the savings' count past its first few persons).
const keyArb = fc.constantFrom("a@x", "b@x", "c@x", "d@x", "e@x", "f@x", "g@x", "");
const loginArb = fc.constantFrom("ann", "Ann", "bob", "cy", "");
const ledgerArb = fc
  .array(
    fc.array(fc.record({ login: loginArb, primary: fc.array(keyArb, { maxLength: 2 }), secondary: fc.array(keyArb, { maxLength: 2 }), unique: fc.boolean() }), { maxLength: 14 }),
    { maxLength: 5 },
  )
  .map((instances) =>
    instances.map((accounts, i) => ({
      instance: { serverId: `s${i}`, hostName: `h${i}.example` },
      // a key of its own for some accounts: many persons, so a login can be carried by many
      accounts: accounts.map(({ unique, ...a }, k): IdentifiedAccount => ({ ...a, userId: k + 1, primary: unique ? [...a.primary, `u${i}-${k}@x`] : a.primary })),
    })),
  );
// 31 to 64 instances group persons by masks of two words, more by lists: both take arrays kept too
const manyArb = fc
  .integer({ min: 28, max: 72 })
  .chain((m) => fc.array(fc.array(fc.record({ login: loginArb, primary: fc.array(keyArb, { maxLength: 1 }), secondary: fc.constant<string[]>([]) }), { maxLength: 3 }), { minLength: m, maxLength: m }))
  .map((instances) =>
    instances.map((accounts, i) => ({
      instance: { serverId: `s${String(i).padStart(2, "0")}`, hostName: `h${i}.example` },
      accounts: accounts.map((a, k): IdentifiedAccount => ({ ...a, userId: k + 1 })),
    })),
  );
const optionsArb = fc.record({ allEmails: fc.boolean(), logins: fc.boolean() });
const cloud: CloudReport = { file: "c.csv", format: "csv", members: [{ login: "ann", keys: ["a@x"], links: [], visualStudio: false }], reportedSeats: 1, linkedHosts: [], rows: 1, warnings: [] } as unknown as CloudReport;

type Ledger = { instance: { serverId: string; hostName: string }; accounts: IdentifiedAccount[] }[];

function count(ledger: Ledger, options: MatchOptions, interner: KeyInterner, scratch?: CountScratch) {
  const sets = ledger.map((i) => AccountSet.fromAccounts(i.accounts));
  const held = ledger.map((i, k) => instanceWithSet(i.instance, sets[k]!));
  const matching = matchAccountSets(held, sets, options, interner, scratch);
  const report = countUsage(held, options, matching);
  const enterprise = countEnterprise(held, cloud, options, matching);
  return { report, enterprise };
}

/** Everything a reply reads of a report, its lazy parts included. */
function read(report: UsageReport) {
  const ids = report.instances.map((i) => i.serverId);
  return { overview: savingsOverview(report, 3), among: [...overlapsAmong(report, ids)], all: JSON.parse(JSON.stringify(report)) };
}

describe("counts with kept working arrays", () => {
  it("say what counts over strings say, after counts of other ledgers and options, and their reports read the same later", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(ledgerArb, optionsArb), { minLength: 2, maxLength: 4 }), (runs) => {
        const scratch = new CountScratch();
        const kept: { report: UsageReport; expected: ReturnType<typeof read> }[] = [];
        for (const [ledger, options] of runs) {
          // the string path: no interned ids, no kept arrays
          const fresh = { report: countUsage(ledger, options), enterprise: countEnterprise(ledger, cloud, options) };
          const got = count(ledger, options, new KeyInterner(), scratch);
          const expected = read(fresh.report);
          expect(read(got.report)).toEqual(expected);
          expect(got.enterprise).toEqual(fresh.enterprise);
          kept.push({ report: count(ledger, options, new KeyInterner(), scratch).report, expected });
        }
        // the reports' lazy parts read after other counts took the arrays
        for (const { report, expected } of kept) expect(read(report)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("the same for ledgers of 28 to 72 instances, counted in turn with one scratch", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(manyArb, optionsArb), { minLength: 2, maxLength: 3 }), (runs) => {
        const scratch = new CountScratch();
        for (const [ledger, options] of runs) {
          const expected = read(countUsage(ledger, options));
          expect(read(count(ledger, options, new KeyInterner(), scratch).report)).toEqual(expected);
          expect(read(count(ledger, options, new KeyInterner(), scratch).report)).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("take the arrays made beforehand by countRoom's lengths (none made anew) and say the same, from 1 to 72 instances", () => {
    fc.assert(
      fc.property(fc.oneof(ledgerArb, manyArb), optionsArb, fc.integer({ min: 0, max: 3 }), (ledger, options, extra) => {
        const accounts = ledger.reduce((s, i) => s + i.accounts.length, 0);
        // as the ledger service asks: at least the accounts and instances the count will have
        const room = countRoom(accounts + extra, ledger.length + (extra & 1), options);
        const scratch = new CountScratch();
        const made = room.map(({ slot, length }) => {
          const a = new Int32Array(length).fill(-7);
          scratch.adopt(slot, a);
          return { slot, buffer: a.buffer };
        });
        expect(scratch.lacking(room)).toEqual([]);
        expect(read(count(ledger, options, new KeyInterner(), scratch).report)).toEqual(read(countUsage(ledger, options)));
        // still the arrays made beforehand: the count found each one long enough
        for (const { slot, buffer } of made) expect([slot, scratch.ints(slot, 0).buffer === buffer]).toEqual([slot, true]);
        // a shorter one is not adopted over a longer one; a lacking slot is named
        const short = new Int32Array(Math.max(0, room[0]!.length - 1));
        scratch.adopt(room[0]!.slot, short);
        expect(scratch.ints(room[0]!.slot, 0).buffer).not.toBe(short.buffer);
        expect(new CountScratch().lacking(room)).toEqual(room);
      }),
      { numRuns: 200 },
    );
  });
});
