// The report's cloud CSV read on its worker thread: the members' keys and logins prepared there
// (prepareLookups: which keys are equal, and their hashes for the report's key tables) and sent as
// a message must give the enterprise count read in turn gives, under every option, whatever the
// hashes do (seeds that differ from the tables', every hash colliding).
import { afterEach, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { maskHashesForTests, ReportKeys } from "../../src/domain/byte-keys.js";
import { cloudReadFromMessage, cloudReadToMessage, prepareLookups, readCsvUpload, type CloudReport } from "../../src/domain/cloud-report.js";
import { countUsage } from "../../src/domain/count.js";
import { countEnterprise } from "../../src/domain/enterprise.js";
import { readExportInterned, type InternedExport } from "../../src/domain/fast-read.js";
import { latestInterned, matchInternedExports, resolveInterned } from "../../src/domain/interned-report.js";
import type { MatchOptions } from "../../src/domain/types.js";

const EMAILS = ["a@x.example", "A@X.example", " a@x.example ", "b@x.example", "\u212aate@x.example", "kate@x.example", "zo\u00eb@x.example", "Zo\u00cb@x.example", "c@y.example", ""];
const LOGINS = ["ann", "Ann", " ANN ", "bob", "zo\u00eb", "Zo\u00cb", "\u212aate", "kate", "cy", ""];
const HOSTS = ["h0.example", "h1.example"];

const userArb = fc.record({ login: fc.constantFrom(...LOGINS.filter((l) => l.trim() !== "")), emails: fc.array(fc.constantFrom(...EMAILS), { maxLength: 2 }), secondary: fc.constantFrom(...EMAILS) });
const exportArb = fc.record({ host: fc.constantFrom(...HOSTS), users: fc.array(userArb, { maxLength: 8 }) });
const rowArb = fc.record({
  login: fc.constantFrom(...LOGINS),
  emails: fc.array(fc.constantFrom(...EMAILS), { maxLength: 3 }),
  saml: fc.constantFrom(...EMAILS),
  links: fc.array(fc.tuple(fc.constantFrom(...HOSTS), fc.integer({ min: 1, max: 9 })), { maxLength: 2 }),
  vs: fc.boolean(),
});

const encode = (s: string) => new TextEncoder().encode(s);
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

function exportBytes(i: number, e: { host: string; users: { login: string; emails: string[]; secondary: string }[] }): Uint8Array {
  const users = e.users.map((u, k) => ({
    user_id: k + 1,
    login: u.login,
    emails: [...u.emails.map((email) => ({ email, primary: true })), ...(u.secondary ? [{ email: u.secondary, primary: false }] : [])],
  }));
  return encode(JSON.stringify({ version: 1, instance: { server_id: `s${i}`, host_name: e.host }, users }));
}

function csvBytes(rows: { login: string; emails: string[]; saml: string; links: [string, number][]; vs: boolean }[]): Uint8Array {
  const lines = ["github_com_login,github_com_user,github_com_verified_domain_emails,github_com_saml_name_id,license_type,enterprise_server_user_ids"];
  for (const r of rows) {
    lines.push([q(r.login), "true", q(r.emails.join(";")), q(r.saml), r.vs ? "Visual Studio subscription" : "Enterprise", q(r.links.map(([h, id]) => `${h}:${id}`).join(","))].join(","));
  }
  return encode(lines.join("\n") + "\n");
}

const limits = { maxBytes: 1 << 24 };

/** The report's enterprise figures, as `license-sync report` counts them; the CSV prepared as the worker thread prepares it when `seeds` says how. */
function enterprise(exports: Uint8Array[], csv: Uint8Array, options: MatchOptions, seeds: "none" | "tables" | "other") {
  const keys = new ReportKeys(16);
  keys.defer();
  const uploads: InternedExport[] = exports.map((b, i) => {
    const r = readExportInterned(b, `f${i}.json`, limits, keys, options.allEmails);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.export;
  });
  const read = readCsvUpload(csv, "c.csv", limits);
  if (!read.ok) throw new Error(JSON.stringify(read.errors));
  let cloud: CloudReport = read.report;
  if (seeds !== "none") {
    // as the worker does before resolveInterned (which may re-seed the tables); "other": seeds the tables never had
    const s = seeds === "tables" ? { emails: keys.emails.hashSeed, logins: keys.logins.hashSeed } : { emails: 7, logins: 11 };
    prepareLookups(cloud.columns!, s);
    expect(cloud.columns!.keyHashes).toBeDefined();
    const { read: message, transfer } = cloudReadToMessage(read);
    const back = cloudReadFromMessage(structuredClone(message, { transfer }));
    if (!back.ok) throw new Error("not ok");
    cloud = back.report;
  }
  resolveInterned(uploads, keys);
  const { instances, matching } = matchInternedExports(latestInterned(uploads), keys, options);
  countUsage(instances, options, matching);
  return countEnterprise(instances, cloud, options, matching);
}

describe("cloud members prepared on the report's worker thread (prepareLookups)", () => {
  afterEach(() => maskHashesForTests(-1));

  it.each([-1, 3])("count as members read in turn, under every option (hash mask %i)", (mask) => {
    maskHashesForTests(mask);
    let joined = 0;
    fc.assert(
      fc.property(fc.array(exportArb, { minLength: 1, maxLength: 3 }), fc.array(rowArb, { maxLength: 8 }), fc.boolean(), fc.boolean(), (fleet, rows, allEmails, logins) => {
        const exports = fleet.map((e, i) => exportBytes(i, e));
        const csv = csvBytes(rows);
        const options = { allEmails, logins };
        const inTurn = enterprise(exports, csv, options, "none");
        expect(enterprise(exports, csv, options, "tables")).toStrictEqual(inTurn);
        expect(enterprise(exports, csv, options, "other")).toStrictEqual(inTurn);
        joined += inTurn.both;
      }),
      { numRuns: 150 },
    );
    expect(joined).toBeGreaterThan(100);
  });
});
