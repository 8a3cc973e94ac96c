// What the differential tests of the id paths compare: a matching's decisions, and a cloud report
// around generated members.
import type { CloudMember, CloudReport } from "../../src/domain/cloud-report.js";
import type { GhesMatching } from "../../src/domain/count.js";

/** What a matching decides: each account's person (by its smallest account), shared logins, unmatched, instances. */
export function decisions(g: GhesMatching) {
  const smallest = new Map<number, number>();
  const person: number[] = [];
  for (let i = 0; i < g.n; i++) {
    const r = g.persons.find(i);
    if (!smallest.has(r)) smallest.set(r, i);
    person.push(smallest.get(r)!);
  }
  const sharedLoginKeys = [...g.sharedLoginIds].map((id) => g.sharedLoginKey(id));
  return { person, sharedLogins: [...g.sharedLogins], sharedLoginKeys, unmatched: g.unmatched, instanceOf: [...g.instanceOf] };
}

export const cloudOf = (members: CloudMember[]): CloudReport => ({ file: "c.csv", format: "csv", members, reportedSeats: null, linkedHosts: ["h0.example"], rows: members.length, warnings: [] });
