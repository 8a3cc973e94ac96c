// The binary account set: what is written is read back, and a damaged row fails naming its instance.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { AccountSet } from "../../src/domain/account-set.js";
import type { IdentifiedAccount } from "../../src/domain/types.js";
import { decodeAccountSet, encodeAccountSet } from "../../src/storage/account-set-codec.js";

const hashed = ["q83vEjRWeJCrze8SNFZ4kA", "_____________________w", "AAAAAAAAAAAAAAAAAAAAAA"];
const accountsArb = (keys: fc.Arbitrary<string>) =>
  fc.uniqueArray(
    fc.record({ userId: fc.integer({ min: 1, max: 2 ** 40 }), login: fc.string({ unit: "binary", maxLength: 6 }), primary: fc.array(keys, { maxLength: 2 }), secondary: fc.array(keys, { maxLength: 2 }) }),
    { selector: (a) => a.userId, maxLength: 20 },
  );
const roundTrip = (accounts: IdentifiedAccount[]) => {
  const { logins, data } = encodeAccountSet(AccountSet.fromAccounts(accounts));
  // as a driver hands it back: a Buffer at some offset of a bigger one
  const stored = Buffer.concat([Buffer.alloc(3), Buffer.from(data)]).subarray(3);
  const read = decodeAccountSet(logins, stored, "srv-1").toAccounts();
  // or a whole buffer of its own (a big value), read in place: the same accounts
  const own = new Uint8Array(data);
  const inPlace = decodeAccountSet(logins, own, "srv-1");
  expect(inPlace.userIds.buffer).toBe(own.buffer);
  expect(inPlace.toAccounts()).toEqual(read);
  return read;
};

describe("account set codec", () => {
  it("reads back what it wrote, keys as bytes or as text, logins with any code unit", () => {
    const byId = (a: IdentifiedAccount, b: IdentifiedAccount) => a.userId - b.userId;
    fc.assert(fc.property(accountsArb(fc.constantFrom(...hashed)), (accounts) => expect(roundTrip(accounts)).toEqual([...accounts].sort(byId))));
    fc.assert(fc.property(accountsArb(fc.string({ maxLength: 3 })), (accounts) => expect(roundTrip(accounts)).toEqual([...accounts].sort(byId))));
  });

  it("refuses a damaged row, naming the instance and nothing of its content", () => {
    const { logins, data } = encodeAccountSet(AccountSet.fromAccounts([{ userId: 1, login: "mona", primary: [hashed[0]!], secondary: [] }, { userId: 2, login: "hubot", primary: [], secondary: [hashed[1]!] }]));
    expect(() => decodeAccountSet(logins, data.subarray(0, data.length - 1), "instance srv-1")).toThrow("account set of instance srv-1: stored data is damaged");
    const swapped = new Uint8Array(data);
    // primaryStart[1] (after the header, 2 user ids and 3 login offsets) beyond primaryStart[2]
    new Int32Array(swapped.buffer, 24 + 16 + 12, 3)[1] = 5;
    expect(() => decodeAccountSet(logins, swapped, "instance srv-1")).toThrow(/^account set of instance srv-1: stored data is damaged$/);
    expect(() => decodeAccountSet(JSON.stringify("monahub"), data, "instance srv-1")).toThrow(/damaged/);
    // logins' JSON cut short or with a quote inside: not taken as text
    expect(() => decodeAccountSet('"monahubot', data, "instance srv-1")).toThrow();
    expect(() => decodeAccountSet('"mona"hubot"', data, "instance srv-1")).toThrow();
    expect(() => decodeAccountSet('"mona\\"', data, "instance srv-1")).toThrow();
  });

  it("reads logins that need escapes in JSON (quotes, backslashes, control characters) and those that need none", () => {
    for (const logins of [["mona", "hubot"], ['mo"na', "hu\\bot"], ["mona\n", "\u0000x"], ["", "x"], ['"', '"']]) {
      const accounts = logins.map((login, i) => ({ userId: i + 1, login, primary: [hashed[i]!], secondary: [] }));
      expect(roundTrip(accounts).map((a) => a.login)).toEqual(logins);
    }
  });
});
