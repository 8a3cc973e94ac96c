// The enterprise part of the replies (GHEC and GHES together): snapshot-tested, and checked for what
// an owner must be able to trust (the lead figure, GitHub's figure and the difference, no address).
import { describe, expect, it } from "@jest/globals";
import type { EnterpriseFigures } from "../../src/domain/enterprise.js";
import type { CloudReportRecord, FileResult, LedgerSummary, UsageReport } from "../../src/domain/types.js";
import { parseSummaryMarker, renderFileResults, renderSummary, type SummaryOptions } from "../../src/domain/render.js";
import { renderEnterpriseLead } from "../../src/domain/render-enterprise.js";
import { renderForgetReply, seatsOverTimePart } from "../../src/domain/render-issue.js";

const now = new Date("2025-07-01T12:00:00Z");
const day = 86_400_000;
const opts: SummaryOptions = { now, staleAfterDays: 35, purchasedSeats: null, showLoginsInSavings: false };

const report: UsageReport = {
  seats: 27,
  accounts: 30,
  deduplicated: 3,
  instances: [
    { serverId: "aaaa-1", hostName: "ghes-a.corp.example", ghesVersion: "3.17.4", accounts: 20, exclusive: 17, unmatched: 0 },
    { serverId: "bbbb-2", hostName: "ghes-lab.corp.example", accounts: 10, exclusive: 7, unmatched: 0 },
  ],
  overlaps: [{ serverIds: ["aaaa-1", "bbbb-2"], people: 3 }],
  spans: [{ instances: 2, people: 3 }],
  unmatched: 0,
  possibleSavings: [],
  options: { allEmails: false, logins: false },
};

const figures: EnterpriseFigures = {
  seats: 41,
  persons: 44,
  cloudMembers: 30,
  both: 12,
  cloudOnly: 17,
  serverOnly: 15,
  visualStudio: 3,
  reportedSeats: 47,
  hostsUnknownToGithub: ["ghes-lab.corp.example"],
  crossSavings: [
    { login: "mona", serverId: "aaaa-1", hostName: "ghes-a.corp.example" },
    { login: "hubot", serverId: "bbbb-2", hostName: "ghes-lab.corp.example" },
  ],
};

const cloud: CloudReportRecord = {
  file: "license-usage/ghec-license-report.csv",
  format: "csv",
  memberCount: 30,
  reportedSeats: 47,
  linkedHosts: ["ghes-a.corp.example"],
  contentSha256: "c".repeat(64),
  recordedAt: new Date(now.getTime() - 3 * day),
  uploader: "mona",
  source: { kind: "commit", sha: "abcdef1234567", path: "license-usage/ghec-license-report.csv" },
};

function summary(enterprise?: LedgerSummary["enterprise"]): LedgerSummary {
  const at = new Date(now.getTime() - day);
  return {
    report,
    instances: [
      { serverId: "aaaa-1", hostName: "ghes-a.corp.example", ghesVersion: "3.17.4", firstUploadAt: at, lastUploadAt: at, accountCount: 20, contentSha256: "a" },
      { serverId: "bbbb-2", hostName: "ghes-lab.corp.example", firstUploadAt: at, lastUploadAt: at, accountCount: 10, contentSha256: "b" },
    ],
    totals: { seats: 27, accounts: 30, deduplicated: 3, instances: 2, ...(enterprise ? { enterpriseSeats: enterprise.figures.seats } : {}) },
    generatedAt: now,
    ...(enterprise ? { enterprise } : {}),
  };
}

describe("the summary with a GHEC license report", () => {
  it("leads with the enterprise seats, then GitHub's figure, unknown hosts, savings across environments; marker with enterprise_seats", () => {
    const body = renderSummary(summary({ figures, report: cloud }), opts);
    expect(body).toMatchSnapshot();
    const lines = body.split("\n");
    expect(lines[0]).toBe("## 41 enterprise seats consumed");
    expect(body).toContain("## GHES: 27 seats consumed");
    expect(body.indexOf("enterprise seats consumed")).toBeLessThan(body.indexOf("GHES: 27 seats"));
    expect(body).toContain("**47** seats, 6 more than counted here");
    expect(body).toMatch(/GHES instances GitHub has not heard of[\s\S]*- ghes-lab\.corp\.example/);
    expect(body).toContain("upload its usage to GitHub");
    expect(body).toContain("2 GHES accounts have the login of a GHEC member");
    expect(body).not.toContain("mona"); // logins only on request
    expect(body).not.toContain("commit the GHEC license report");
    expect(lines.at(-1)).toBe('<!-- license-sync:summary {"seats":27,"accounts":30,"deduplicated":3,"instances":2,"enterprise_seats":41} -->');
    expect(parseSummaryMarker(body)).toEqual({ seats: 27, accounts: 30, deduplicated: 3, instances: 2, enterpriseSeats: 41 });
  });

  it("lists the logins across environments when asked; flags a stale report; says when the figures agree or GitHub has none", () => {
    const old = { ...cloud, recordedAt: new Date(now.getTime() - 40 * day), source: { kind: "api", enterprise: "acme" } as const };
    const listed = renderEnterpriseLead({ figures: { ...figures, reportedSeats: 41, hostsUnknownToGithub: [] }, report: old }, { seats: 27, instances: 2 }, { ...opts, showLoginsInSavings: true });
    expect(listed.join("\n")).toMatchSnapshot();
    expect(listed).toContain("- `mona` on ghes-a.corp.example");
    expect(listed.join("\n")).toContain("⚠️ stale (over 35 days)");
    expect(listed.join("\n")).toContain("the same as counted here");
    expect(listed.join("\n")).not.toContain("not heard of");
    const none = renderEnterpriseLead({ figures: { ...figures, reportedSeats: null, crossSavings: [] }, report: cloud }, { seats: 27, instances: 2 }, opts).join("\n");
    expect(none).toContain("GitHub's own seat figure is not in this report");
    expect(none).not.toContain("Possible savings across environments");
    expect(none).not.toContain("stale");
  });

  it("warns about purchased seats against the enterprise seats", () => {
    const body = renderSummary(summary({ figures, report: cloud }), { ...opts, purchasedSeats: 40 });
    expect(body).toContain("41 seats consumed, 40 purchased: 1 over.");
  });

  it("without a cloud report: one line says how to add one; the marker has no enterprise_seats", () => {
    const body = renderSummary(summary(), opts);
    expect(body.split("\n")[0]).toBe("## 27 seats consumed");
    expect(body.match(/GHEC license report/g)).toHaveLength(1);
    expect(body.split("\n").at(-1)).not.toContain("enterprise_seats");
  });

  it("never prints an e-mail address", () => {
    const sneaky = { ...figures, hostsUnknownToGithub: ["mona@corp.example"], crossSavings: [{ login: "x@corp.example", serverId: "a", hostName: "h@corp.example" }] };
    const body = renderSummary(summary({ figures: sneaky, report: { ...cloud, file: "from-mona@corp.example.csv" } }), { ...opts, showLoginsInSavings: true });
    expect(body).not.toMatch(/[\w.]+@[\w.]+/);
  });
});

describe("cloud reports among the per-file results, the history and forget", () => {
  it("renders recorded (first / replacing), already recorded and valid", () => {
    const results: FileResult[] = [
      { file: "license-usage/ghec.csv", status: "recorded", cloud: { format: "csv", members: 30, reportedSeats: 47, replaces: null }, warnings: [] },
      { file: "issue body block 1", status: "recorded", cloud: { format: "json", members: 1, reportedSeats: 5, replaces: new Date(now.getTime() - 9 * day) }, warnings: [{ file: "issue body block 1", path: "users[0].enterprise_server_user_ids[0]", message: "not host:id, ignored" }] },
      { file: "copy.csv", status: "unchanged", cloud: { format: "csv", members: 30, reportedSeats: 47, replaces: null }, warnings: [] },
    ];
    const text = renderFileResults(results);
    expect(text).toMatchSnapshot();
    expect(renderFileResults(results.slice(0, 1), undefined, "check")).toContain("**valid**: GHEC license report (CSV), 30 members");
  });

  it("names the cloud report in the seats over time and in forget's reply", () => {
    const table = seatsOverTimePart([
      { id: 2, subject: "cloud", outcome: "recorded", serverId: null, hostName: null, source: { kind: "api", enterprise: "acme" }, uploader: "mona", deliveryId: null, contentSha256: "c", at: now, accountCount: 30, added: 2, removed: 1, totals: { seats: 27, accounts: 30, deduplicated: 3, instances: 2, enterpriseSeats: 41 }, errorSummary: null },
    ])!.rows.join("\n");
    expect(table).toContain("| GHEC license report | +2 / −1 | 30 |");
    const removed = renderForgetReply({ marker: "<!-- m -->", target: "cloud", outcome: { status: "removed-cloud", report: cloud, summary: summary() }, options: opts });
    expect(removed).toContain("Removed the GHEC license report `license-usage/ghec-license-report.csv`");
    const none = renderForgetReply({ marker: "<!-- m -->", target: "cloud", outcome: { status: "no-cloud-report", summary: summary() }, options: opts });
    expect(none).toContain("holds no GHEC license report; nothing was removed");
  });
});
