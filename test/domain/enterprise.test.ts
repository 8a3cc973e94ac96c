import { describe, expect, it } from "@jest/globals";
import type { CloudMember, CloudReport } from "../../src/domain/cloud-report.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import { identifyAccounts } from "../../src/domain/identity.js";
import { toContractJson } from "../../src/domain/report-json.js";
import { countUsage, matchGhes } from "../../src/domain/count.js";
import { DEFAULT_MATCH_OPTIONS, type IdentifiedAccount, type InstanceAccounts } from "../../src/domain/types.js";
import fc from "fast-check";
import { referenceEnterprise } from "../helpers/reference-enterprise.js";

function instance(serverId: string, hostName: string, users: [number, string, string[]][]): InstanceAccounts {
  const accounts = users.map(([userId, login, primaries]) => ({
    userId,
    login,
    emails: primaries.map((email) => ({ email, primary: true })),
    suspended: false,
  }));
  return { instance: { serverId, hostName }, accounts: identifyAccounts(accounts, (e) => e) };
}

const member = (login: string, keys: string[], links: [string, number][] = [], visualStudio = false): CloudMember => ({
  login,
  keys,
  links: links.map(([host, userId]) => ({ host, userId })),
  visualStudio,
});

// Four instances, seven cloud members; the figures below are worked out by hand in the comments.
const INSTANCES = [
  instance("a", "ghes-a.corp.example", [
    [1, "ann", ["ann@corp.example"]],
    [2, "bob", ["bob.a@corp.example"]],
    [3, "cid", []],
    [4, "dee", ["dee@corp.example"]],
  ]),
  instance("b", "GHES-B.corp.example", [
    [1, "ann-b", ["ann@corp.example"]], // same person as a/1 by e-mail
    [2, "bob-b", ["bob.b@corp.example"]],
    [7, "eve", ["eve@corp.example"]],
  ]),
  instance("c", "lab.corp.example", [[5, "fay", ["fay@corp.example"]]]),
  instance("d", "Old.corp.example.", [[1, "gus", ["gus@corp.example"]]]),
];

const CLOUD: CloudReport = {
  file: "cloud.csv",
  format: "csv",
  members: [
    member("bob-gh", ["bob.a@corp.example", "bob.b@corp.example"]), // bridges a/2 and b/2: one person
    member("nina", ["ann@corp.example"]), // joins ann (a/1, b/1)
    member("cid-gh", [], [["ghes-a.corp.example", 3]]), // GitHub's link joins a/3, which has no e-mail
    member("vs-person", ["vs@corp.example"], [], true), // cloud only, Visual Studio
    member("eve", ["eve.cloud@corp.example"]), // login equals b/7's, e-mail does not: a possible saving
    member("solo", ["solo@corp.example"], [["lab.corp.example", 999]]), // links no existing account
    member("nina2", ["ann@corp.example"]), // a second member of ann's person
  ],
  reportedSeats: 42,
  // ghes-b is named by a server-only row; old.corp.example by none
  linkedHosts: ["ghes-a.corp.example", "ghes-b.corp.example", "lab.corp.example"],
  rows: 8,
  warnings: [],
};

describe("countEnterprise", () => {
  it("joins by keys and links, transitively; counts each person once by where their accounts are", () => {
    // persons: {ann: a1 b1 nina nina2} {bob: a2 b2 bob-gh} {cid: a3 cid-gh} {dee} {eve b7} {fay} {gus}
    //          {vs-person} {eve cloud} {solo} = 10; both 3, server-only 4, cloud-only 3; VS 1 -> seats 9
    const e = countEnterprise(INSTANCES, CLOUD, DEFAULT_MATCH_OPTIONS);
    expect(e).toEqual({
      seats: 9,
      persons: 10,
      cloudMembers: 7,
      both: 3,
      cloudOnly: 3,
      serverOnly: 4,
      visualStudio: 1,
      reportedSeats: 42,
      hostsUnknownToGithub: ["old.corp.example"],
      crossSavings: [{ login: "eve", serverId: "b", hostName: "GHES-B.corp.example" }],
    });
  });

  it("with the logins option, the member's lower-cased login is a key too (eve is matched; no saving left)", () => {
    const e = countEnterprise(INSTANCES, { ...CLOUD, members: CLOUD.members.map((m) => (m.login === "eve" ? { ...m, login: " EVE " } : m)) }, { allEmails: false, logins: true });
    expect([e.persons, e.both, e.cloudOnly, e.serverOnly, e.visualStudio, e.seats]).toEqual([9, 4, 2, 3, 1, 8]);
    expect(e.crossSavings).toEqual([]);
  });

  it("links apply under every option; a link's host matches the instance's normalized host name", () => {
    const cloud: CloudReport = { ...CLOUD, members: [member("g", [], [["old.corp.example", 1]])], linkedHosts: ["old.corp.example"] };
    for (const options of [DEFAULT_MATCH_OPTIONS, { allEmails: true, logins: true }]) {
      const e = countEnterprise(INSTANCES, cloud, options);
      expect([e.persons, e.both, e.cloudOnly]).toEqual([8, 1, 0]);
      expect(e.hostsUnknownToGithub).toEqual(["ghes-a.corp.example", "ghes-b.corp.example", "lab.corp.example"]);
    }
  });

  it("an empty report: every GHES person is server-only and persons equal the GHES seats", () => {
    const e = countEnterprise(INSTANCES, { ...CLOUD, members: [], linkedHosts: [], reportedSeats: null }, DEFAULT_MATCH_OPTIONS);
    const ghes = countUsage(INSTANCES, DEFAULT_MATCH_OPTIONS);
    expect(ghes.seats).toBe(8); // 9 accounts, a/1 and b/1 one person
    expect([e.persons, e.serverOnly, e.both, e.cloudOnly, e.seats, e.reportedSeats]).toEqual([8, 8, 0, 0, 8, null]);
  });

  it("the contract JSON gains the enterprise object in snake_case", () => {
    const report = { ...countUsage(INSTANCES, DEFAULT_MATCH_OPTIONS), enterprise: countEnterprise(INSTANCES, CLOUD, DEFAULT_MATCH_OPTIONS) };
    expect((toContractJson(report) as { enterprise: unknown }).enterprise).toEqual({
      seats: 9,
      persons: 10,
      cloud_members: 7,
      both: 3,
      cloud_only: 3,
      server_only: 4,
      visual_studio: 1,
      reported_seats: 42,
      hosts_unknown_to_github: ["old.corp.example"],
      cross_savings: [{ login: "eve", server_id: "b", host_name: "GHES-B.corp.example" }],
    });
    expect(toContractJson(countUsage(INSTANCES, DEFAULT_MATCH_OPTIONS))).not.toHaveProperty("enterprise");
  });
});

// ---- the GHES count's matching, continued: the same figures as matching every account again ----

const keyArb = fc.constantFrom("a@x", "b@x", "c@x", "d@x", "");
const loginArb = fc.constantFrom("ann", "Ann", " ann ", "bob", "cy", "");
const hostArb = fc.constantFrom("h0.example", "H0.example.", "h1.example", "h2.example");
const accountsArb = fc.array(
  fc.record({ userId: fc.integer({ min: 1, max: 5 }), login: loginArb, primary: fc.array(keyArb, { maxLength: 2 }), secondary: fc.array(keyArb, { maxLength: 2 }) }),
  { maxLength: 6 },
);
const instancesArb = fc.array(fc.record({ server: fc.integer({ min: 0, max: 3 }), host: hostArb, accounts: accountsArb }), { maxLength: 5 }).map((list) =>
  list.map(
    ({ server, host, accounts }): InstanceAccounts => ({
      instance: { serverId: `s${server}`, hostName: host },
      accounts: accounts.map((a): IdentifiedAccount => ({ ...a, primary: a.primary.filter(Boolean), secondary: a.secondary.filter(Boolean) })),
    }),
  ),
);
const membersArb = fc.array(
  fc.record({
    login: loginArb,
    keys: fc.array(fc.constantFrom("a@x", "b@x", "e@x", "f@x"), { maxLength: 2 }),
    links: fc.array(fc.record({ host: fc.constantFrom("h0.example", "h1.example", "elsewhere.example"), userId: fc.integer({ min: 0, max: 6 }) }), { maxLength: 2 }),
    visualStudio: fc.boolean(),
  }),
  { maxLength: 6 },
);
const cloudOf = (members: CloudMember[]): CloudReport => ({ ...CLOUD, members, linkedHosts: ["h0.example"] });

describe("countEnterprise continues from the GHES count's matching", () => {
  it("gives the figures of matching every GHES account again, given the matching or not, before or after countUsage used it", () => {
    fc.assert(
      fc.property(instancesArb, membersArb, fc.record({ allEmails: fc.boolean(), logins: fc.boolean() }), (instances, members, options) => {
        const cloud = cloudOf(members);
        const expected = referenceEnterprise(instances, cloud, options);
        expect(countEnterprise(instances, cloud, options)).toEqual(expected);
        const matching = matchGhes(instances, options);
        expect(countEnterprise(instances, cloud, options, matching)).toEqual(expected);
        countUsage(instances, options, matching);
        expect(countEnterprise(instances, cloud, options, matching)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it("does not use a matching made from other instances or other options", () => {
    const other = matchGhes(INSTANCES.slice(0, 1), DEFAULT_MATCH_OPTIONS);
    expect(countEnterprise(INSTANCES, CLOUD, DEFAULT_MATCH_OPTIONS, other)).toEqual(referenceEnterprise(INSTANCES, CLOUD, DEFAULT_MATCH_OPTIONS));
    const logins = { allEmails: false, logins: true };
    const withoutLogins = matchGhes(INSTANCES, DEFAULT_MATCH_OPTIONS);
    expect(countEnterprise(INSTANCES, CLOUD, logins, withoutLogins)).toEqual(referenceEnterprise(INSTANCES, CLOUD, logins));
    expect(countUsage(INSTANCES, logins, withoutLogins)).toEqual(countUsage(INSTANCES, logins));
  });
});
