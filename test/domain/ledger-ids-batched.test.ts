// A restored interner (KeyInterner.restore) whose other sets are then interned in a batch (ofSets
// range by range: WordsTable.getOrAddMany, LoginTable.idOrAddMany), as after a restart where the
// stored ids cover only part of a big ledger: counts as over strings.
import { afterEach, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { AccountSet, instanceWithSet, keyFromBytes } from "../../src/domain/account-set.js";
import { countUsage, matchAccountSets, matchGhes } from "../../src/domain/count.js";
import { KeyInterner, setBatchingForTests } from "../../src/domain/key-ids.js";
import { decodeLedgerIds, encodeLedgerIds } from "../../src/domain/ledger-ids.js";
import type { IdentifiedAccount, InstanceAccounts, MatchOptions } from "../../src/domain/types.js";

const hashed = Array.from({ length: 12 }, (_, k) => keyFromBytes(Uint8Array.from({ length: 16 }, (_, i) => (k * 41 + i * 13) & 255), 0));
const loginArb = fc.constantFrom("ann", "Ann", " ann ", "bob", "BOB", "cy", "", "Zoë", "ZOË", "\u00a0ann", "İ", "i\u0307", "dan", "eve");
const accountsArb = fc
  .array(fc.record({ userId: fc.integer({ min: 1, max: 40 }), login: loginArb, primary: fc.array(fc.constantFrom(...hashed), { maxLength: 2 }), secondary: fc.array(fc.constantFrom(...hashed), { maxLength: 2 }) }), { maxLength: 8 })
  .map((accounts) => {
    const ids = new Set<number>();
    return accounts.filter((a) => !ids.has(a.userId) && ids.add(a.userId));
  });
const optionsArb = fc.record({ allEmails: fc.boolean(), logins: fc.boolean() });

afterEach(() => setBatchingForTests());

describe("a restored interner, then other sets interned in a batch", () => {
  it("counts as over strings, whatever sets the stored ids cover", () => {
    fc.assert(
      fc.property(
        fc.array(accountsArb, { minLength: 2, maxLength: 6 }),
        fc.array(accountsArb, { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        optionsArb,
        optionsArb,
        fc.integer({ min: 0, max: 3 }),
        (first, other, changed, o1, o2, shift) => {
          const instances = (lists: IdentifiedAccount[][]): InstanceAccounts[] => lists.map((accounts, k) => ({ instance: { serverId: `s${k}`, hostName: `h${k}.example` }, accounts }));
          const count = (lists: IdentifiedAccount[][], sets: AccountSet[], options: MatchOptions, interner: KeyInterner) => {
            const held = instances(lists).map((i, k) => instanceWithSet(i.instance, sets[k]!));
            const plain = instances(sets.map((s) => s.toAccounts()));
            expect(countUsage(held, options, matchAccountSets(held, sets, options, interner))).toEqual(countUsage(plain, options, matchGhes(plain, options)));
          };
          const before = first.map((a) => AccountSet.fromAccounts(a));
          const seed = new KeyInterner(4);
          count(first, before, o1, seed);
          const snapshot = decodeLedgerIds(encodeLedgerIds(seed.snapshot(before.map((set, k) => ({ serverId: `s${k}`, contentSha256: `sha${k}`, set })))))!;
          // after a restart: the sets read again (other objects), some replaced since (another content hash)
          const lists = first.map((a, k) => (changed[k] ? other[k]! : a));
          const sets = lists.map((a) => AccountSet.fromAccounts(a));
          const held = new Map(sets.map((set, k) => [`s${k}`, { set, contentSha256: changed[k] ? `new${k}` : `sha${k}` }]));
          const restored = KeyInterner.restore(snapshot, held);
          if (!restored) return;
          setBatchingForTests(shift);
          count(lists, sets, o2, restored);
          count(lists, sets, o1, restored);
        },
      ),
      { numRuns: 400 },
    );
  });
});
