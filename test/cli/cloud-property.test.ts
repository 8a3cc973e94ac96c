// Properties of the enterprise count, through the CLI (virtual files): a cloud report never changes
// the GHES-side fields, and every person is on exactly one of both / cloud only / server only.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { main } from "../../src/cli/main.js";

const EMAILS = ["a@x.example", "B@x.example", " b@x.example ", "c@x.example", "d@x.example", "e@x.example", ""];
const LOGINS = ["ann", "Bob", "bob", "cid", "dee"];
const HOSTS = ["h0.example", "h1.example", "h2.example"];

const account = fc.record({
  userId: fc.integer({ min: 1, max: 6 }),
  login: fc.constantFrom(...LOGINS),
  email: fc.constantFrom(...EMAILS),
});
const exportArb = fc.record({ host: fc.integer({ min: 0, max: 2 }), users: fc.array(account, { maxLength: 6 }) });
type Row = { user: string; login: string; emails: string[]; saml: string; license: string; links: [string, number][] };
const rowArb: fc.Arbitrary<Row> = fc.record({
  user: fc.constantFrom("true", "false", "", "YES", "0"),
  login: fc.constantFrom(...LOGINS, ""),
  emails: fc.array(fc.constantFrom(...EMAILS), { maxLength: 3 }),
  saml: fc.constantFrom(...EMAILS),
  license: fc.constantFrom("Enterprise", "Visual Studio subscription", ""),
  links: fc.array(fc.tuple(fc.constantFrom(...HOSTS, "H1.EXAMPLE.", "nowhere.example"), fc.integer({ min: 0, max: 7 })), { maxLength: 3 }),
});

function exportText(i: number, e: { host: number; users: { userId: number; login: string; email: string }[] }): string {
  return JSON.stringify({
    version: 1,
    instance: { server_id: `s${i}`, host_name: HOSTS[e.host] },
    users: e.users.map((u) => ({ user_id: u.userId, login: u.login, emails: u.email ? [{ email: u.email, primary: true }] : [] })),
  });
}

function csvText(rows: Row[]): string {
  const lines = ["github_com_login,github_com_user,github_com_verified_domain_emails,github_com_saml_name_id,license_type,enterprise_server_user_ids"];
  for (const r of rows) {
    lines.push([r.login, r.user, `"${r.emails.join(";")}"`, r.saml, r.license, `"${r.links.map(([h, id]) => `${h}:${id}`).join(",")}"`].join(","));
  }
  return lines.join("\n") + "\n";
}

async function report(files: Map<string, string>, args: readonly string[]): Promise<Record<string, unknown>> {
  let out = "";
  let err = "";
  const code = await main(["report", "--json", ...args, ...files.keys()], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readFile: async (f) => new TextEncoder().encode(files.get(f)!),
    stat: async (f) => ({ size: files.get(f)!.length, isFile: true }),
  });
  if (code !== 0) throw new Error(err);
  return JSON.parse(out) as Record<string, unknown>;
}

describe("enterprise count properties", () => {
  it("never changes the GHES-side fields; both + cloud_only + server_only = persons; seats = persons - visual_studio", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(exportArb, { minLength: 1, maxLength: 4 }),
        fc.array(rowArb, { maxLength: 8 }),
        fc.constantFrom([], ["--match-logins"], ["--match-all-emails"]),
        async (exports, rows, options) => {
          const ghes = new Map(exports.map((e, i) => [`e${i}.json`, exportText(i, e)]));
          const withCloud = new Map([...ghes, ["cloud.csv", csvText(rows)]]);
          const before = await report(ghes, options);
          const after = await report(withCloud, options);
          const { enterprise, ...rest } = after as { enterprise: Record<string, number> };
          expect(rest).toEqual(before);
          expect(enterprise.both! + enterprise.cloud_only! + enterprise.server_only!).toBe(enterprise.persons);
          expect(enterprise.seats).toBe(enterprise.persons! - enterprise.visual_studio!);
          expect(enterprise.cloud_members).toBe(rows.filter((r) => ["true", "YES"].includes(r.user)).length);
          expect(enterprise.persons).toBeLessThanOrEqual((before.seats as number) + enterprise.cloud_members!);
          expect(enterprise.server_only).toBeLessThanOrEqual(before.seats as number);
        },
      ),
      { numRuns: 150 },
    );
  });
});
