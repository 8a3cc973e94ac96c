import { describe, it, expect } from "@jest/globals";
import type { FileResult, LedgerSummary } from "../../src/ledger/types.js";
import type { InstanceRecord } from "../../src/storage/ledger-store.js";
import type { UsageReport } from "../../src/domain/types.js";
import {
  MAX_COMMENT_CHARS,
  fitCommentBody,
  parseSummaryMarker,
  renderConfigErrorReply,
  renderFileResults,
  renderSummary,
  renderUploadReply,
  summaryMarker,
  type SummaryOptions,
} from "../../src/domain/render.js";

const now = new Date("2025-07-01T12:00:00Z");
const day = 86_400_000;

function record(serverId: string, hostName: string, daysAgo: number, accountCount: number, ghesVersion?: string): InstanceRecord {
  const at = new Date(now.getTime() - daysAgo * day);
  return { serverId, hostName, ghesVersion, firstUploadAt: at, lastUploadAt: at, accountCount, contentSha256: "0".repeat(64) };
}

function summaryOf(report: UsageReport, instances: InstanceRecord[]): LedgerSummary {
  return {
    report,
    instances,
    totals: { seats: report.seats, accounts: report.accounts, deduplicated: report.deduplicated, instances: report.instances.length },
    generatedAt: now,
  };
}

const threeInstances = summaryOf(
  {
    seats: 1234,
    accounts: 1500,
    deduplicated: 266,
    instances: [
      { serverId: "aaaa-1", hostName: "ghes-a.corp.example", ghesVersion: "3.17.4", accounts: 700, exclusive: 500, unmatched: 3 },
      { serverId: "bbbb-2", hostName: "ghes-b.corp.example", ghesVersion: "3.16.0", accounts: 500, exclusive: 300, unmatched: 0 },
      { serverId: "cccc-3", hostName: "ghes-c.corp.example", accounts: 300, exclusive: 200, unmatched: 1 },
    ],
    overlaps: [
      { serverIds: ["aaaa-1", "bbbb-2"], people: 150 },
      { serverIds: ["aaaa-1", "cccc-3"], people: 80 },
      { serverIds: ["bbbb-2", "cccc-3"], people: 60 },
    ],
    spans: [
      { instances: 2, people: 230 },
      { instances: 3, people: 20 },
    ],
    unmatched: 4,
    possibleSavings: [
      { login: "mona", persons: 2, seats: 1 },
      { login: "hubot", persons: 3, seats: 2 },
    ],
    options: { allEmails: false, logins: false },
  },
  [record("aaaa-1", "ghes-a.corp.example", 0, 700, "3.17.4"), record("bbbb-2", "ghes-b.corp.example", 3, 500), record("cccc-3", "ghes-c.corp.example", 40, 300)],
);

const opts: SummaryOptions = { now, staleAfterDays: 35, purchasedSeats: 1200, showLoginsInSavings: false };

const results: FileResult[] = [
  {
    file: "license-usage/a.json",
    status: "recorded",
    instance: { serverId: "aaaa-1", hostName: "ghes-a.corp.example", ghesVersion: "3.17.4" },
    accounts: 700,
    added: 12,
    removed: 5,
    seatDelta: 4,
    warnings: [{ file: "license-usage/a.json", path: "users[3]", message: "no primary e-mail: counted as a separate person" }],
  },
  {
    file: "license-usage/b.json",
    status: "unchanged",
    instance: { serverId: "bbbb-2", hostName: "ghes-b.corp.example" },
    accounts: 500,
    warnings: [],
  },
  {
    file: "license-usage/broken.json",
    status: "refused",
    errors: [
      { file: "license-usage/broken.json", path: "users[1].emails[0].email", message: "expected a string, got a number" },
      { file: "license-usage/broken.json", path: "users[2].login", message: "expected a non-empty string" },
    ],
    warnings: [],
  },
];

describe("renderSummary", () => {
  it("renders seats, instances, overlaps, spans, unmatched, savings, changes and the marker", () => {
    const body = renderSummary(threeInstances, opts, results);
    expect(body).toMatchSnapshot();
    expect(body.split("\n").at(-1)).toBe('<!-- license-sync:summary {"seats":1234,"accounts":1500,"deduplicated":266,"instances":3} -->');
    expect(body).toContain("## 1,234 seats consumed");
    expect(body).toContain("34 over");
    expect(body).toMatch(/ghes-c\.corp\.example.*stale/);
    expect(body).not.toMatch(/ghes-b\.corp\.example.*stale/);
    expect(body).not.toContain("mona"); // logins only on request
    expect(body).toContain("up to 3 seats");
  });

  it("lists the logins behind possible savings only when asked", () => {
    const body = renderSummary(threeInstances, { ...opts, showLoginsInSavings: true, purchasedSeats: null });
    expect(body).toContain("`hubot`: 3 people, 2 seats");
    expect(body).not.toContain("purchased");
  });

  it("renders an empty ledger", () => {
    const empty = summaryOf(
      { seats: 0, accounts: 0, deduplicated: 0, instances: [], overlaps: [], spans: [], unmatched: 0, possibleSavings: [], options: { allEmails: false, logins: false } },
      [],
    );
    expect(renderSummary(empty, opts)).toMatchSnapshot();
  });

  it("caps the overlap matrix and the instances table with '… and N more'", () => {
    const many = Array.from({ length: 15 }, (_, i) => ({
      serverId: `id-${String(i).padStart(2, "0")}`,
      hostName: `h${String(i).padStart(2, "0")}.example`,
      accounts: 10,
      exclusive: 5,
      unmatched: 0,
    }));
    const s = summaryOf(
      {
        seats: 100,
        accounts: 150,
        deduplicated: 50,
        instances: many,
        overlaps: [{ serverIds: ["id-00", "id-14"], people: 5 }],
        spans: [{ instances: 2, people: 5 }],
        unmatched: 0,
        possibleSavings: [],
        options: { allEmails: false, logins: true },
      },
      many.map((i) => record(i.serverId, i.hostName, 1, 10)),
    );
    const body = renderSummary(s, opts, [], { instances: 12, matrix: 10, savings: 50, files: 50, findings: 10, warnings: 5 });
    expect(body).toContain("… and 3 more instances");
    expect(body).toContain("… and 5 more instances not shown in the matrix.");
    const header = body.split("\n").find((l) => l.startsWith("| | "))!;
    expect(header.split("|").length - 3).toBe(10);
    expect(body).toContain("or their login");
  });

  it("never prints an e-mail address, even one smuggled into a host name or a message", () => {
    const s = summaryOf({ ...threeInstances.report, instances: [{ ...threeInstances.report.instances[0]!, hostName: "mona@corp.example" }] }, []);
    const r: FileResult[] = [
      { file: "x.json", status: "refused", errors: [{ file: "x.json", path: "users[0]", message: "bad mona@corp.example" }], warnings: [] },
    ];
    const body = renderSummary(s, opts) + renderFileResults(r);
    expect(body).not.toMatch(/[\w.]+@[\w.]+/);
  });
});

describe("per-file results and the whole reply", () => {
  it("renders recorded / already recorded / refused with capped findings", () => {
    const many: FileResult = {
      file: "license-usage/huge.json",
      status: "refused",
      errors: Array.from({ length: 25 }, (_, i) => ({ file: "license-usage/huge.json", path: `users[${i}].user_id`, message: "expected a positive integer" })),
      warnings: [],
    };
    const text = renderFileResults([...results, many]);
    expect(text).toMatchSnapshot();
    expect(text).toContain("… and 15 more");
  });

  it("assembles marker, tally, files and summary; the summary marker stays last", () => {
    const body = renderUploadReply({ marker: "<!-- license-sync:reply -->", heading: "License usage in abc1234", results, summary: threeInstances, options: opts });
    expect(body.startsWith("<!-- license-sync:reply -->\n**License usage in abc1234**: 1 recorded, 1 already recorded, 1 refused")).toBe(true);
    expect(parseSummaryMarker(body)).toEqual({ seats: 1234, accounts: 1500, deduplicated: 266, instances: 3 });
  });

  it("keeps a very long reply under GitHub's limit by dropping later files, first and last lines intact", () => {
    const files: FileResult[] = Array.from({ length: 3000 }, (_, i) => ({
      file: `license-usage/${"x".repeat(150)}-${i}.json`,
      status: "refused",
      errors: Array.from({ length: 10 }, () => ({ file: `license-usage/${"x".repeat(150)}-${i}.json`, path: "users", message: "expected an array" })),
      warnings: [],
    }));
    const body = renderUploadReply({
      marker: "<!-- m -->",
      heading: "h",
      results: files,
      summary: threeInstances,
      options: opts,
      limits: { instances: 100, matrix: 10, savings: 50, files: 5000, findings: 10, warnings: 5 },
    });
    expect(body.length).toBeLessThan(MAX_COMMENT_CHARS);
    expect(body.startsWith("<!-- m -->\n")).toBe(true);
    expect(body.split("\n").at(-1)).toBe(summaryMarker(threeInstances.totals));
    // Budgeted: later files are dropped whole with a count, the summary stays; no blind cut.
    expect(body).toMatch(/\n- … and [\d,]+ more files\n/);
    expect(body).not.toContain("reply shortened");
    expect(body).toContain("## 1,234 seats consumed");
    expect(body).toContain("### Possible savings");
    expect(fitCommentBody("short")).toBe("short");
  });

  it("names the wrong configuration key", () => {
    const body = renderConfigErrorReply("<!-- m -->", [{ key: "stale_after_days", message: "expected a positive whole number of days, got text" }]);
    expect(body).toMatchSnapshot();
    expect(body).toContain("`stale_after_days`");
  });
});
