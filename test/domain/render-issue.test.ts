import { parseCharts } from "../helpers/mermaid.js";
import { describe, it, expect } from "@jest/globals";
import type { FileResult, LedgerSummary } from "../../src/ledger/types.js";
import type { InstanceRecord, UploadRow } from "../../src/storage/ledger-store.js";
import { countUsage } from "../../src/domain/count.js";
import { DEFAULT_MATCH_OPTIONS } from "../../src/domain/types.js";
import {
  ISSUE_MARKER,
  allRecorded,
  commandMarker,
  parseStateMarker,
  renderForgetReply,
  renderHelp,
  renderIssueReply,
  renderIssueReplyTotals,
  renderPermissionRefusal,
  SUMMARY_START,
  renderReportReply,
  seatsOverTimePart,
  stateMarker,
} from "../../src/domain/render-issue.js";

const now = new Date("2025-07-01T12:00:00Z");
const options = { now, staleAfterDays: 35, purchasedSeats: null, showLoginsInSavings: false };
const UPLOAD = "https://github.com/acme/license-usage/upload/main/license-usage";

function rec(serverId: string, hostName: string, accountCount: number): InstanceRecord {
  const at = new Date("2025-06-30T08:00:00Z");
  return { serverId, hostName, ghesVersion: "3.17.4", firstUploadAt: at, lastUploadAt: at, accountCount, contentSha256: "ab".repeat(32) };
}

const acct = (userId: number, key: string) => ({ userId, login: `user${userId}`, primary: [key], secondary: [] });
const report = countUsage(
  [
    { instance: { serverId: "server-a", hostName: "ghes-a.corp.example" }, accounts: [acct(1, "k1"), acct(2, "k2")] },
    { instance: { serverId: "server-b", hostName: "ghes-b.corp.example" }, accounts: [acct(2, "k2"), acct(3, "k3")] },
  ],
  DEFAULT_MATCH_OPTIONS,
);
const instances = [rec("server-a", "ghes-a.corp.example", 2), rec("server-b", "ghes-b.corp.example", 2)];
const summary: LedgerSummary = {
  report,
  instances,
  totals: { seats: report.seats, accounts: report.accounts, deduplicated: report.deduplicated, instances: 2 },
  generatedAt: now,
};

const recorded: FileResult = {
  file: "ghes-a.json",
  status: "recorded",
  instance: { serverId: "server-a", hostName: "ghes-a.corp.example" },
  accounts: 2,
  added: null,
  removed: null,
  seatDelta: 2,
  warnings: [],
};

describe("renderIssueReply", () => {
  it("lists results, download problems with the alternatives, ignored links, then the summary", () => {
    const body = renderIssueReply({
      heading: "Issue opened",
      results: [recorded],
      problems: [
        { file: "private.json", reason: "not-found", status: 404 },
        { file: "big.json.gz", reason: "too-large", limit: 100 * 1024 * 1024 },
      ],
      ignored: [{ host: "files.example.net", name: "usage.json", reason: "not-github-host" }],
      summary,
      options,
      state: { "body:a": "recorded", "body:b": "refused" },
      uploadUrl: UPLOAD,
    });
    expect(body.split("\n")[0]).toBe(ISSUE_MARKER + stateMarker({ "body:a": "recorded", "body:b": "refused" }));
    expect(body.trimEnd().split("\n").pop()).toMatch(/^<!-- license-sync:summary /);
    expect(body).toMatchSnapshot();
  });

  it("without problems, offers no alternatives", () => {
    const body = renderIssueReply({ heading: "Issue edited", results: [recorded], problems: [], ignored: [], summary, options, state: {}, uploadUrl: UPLOAD });
    expect(body).not.toContain(UPLOAD);
  });
});

// The ledger after server-b is forgotten: server-a alone, 2 people, 2 seats.
const afterReport = countUsage([{ instance: { serverId: "server-a", hostName: "ghes-a.corp.example" }, accounts: [acct(1, "k1"), acct(2, "k2")] }], DEFAULT_MATCH_OPTIONS);
const after: LedgerSummary = { report: afterReport, instances: [instances[0]!], totals: { seats: 2, accounts: 2, deduplicated: 0, instances: 1 }, generatedAt: now };

describe("renderIssueReplyTotals (after forget)", () => {
  const before = renderIssueReply({ heading: "Issue opened", results: [recorded], problems: [], ignored: [], summary, options, state: { "body:a": "recorded" }, uploadUrl: UPLOAD });

  it("keeps what each file became and redraws the summary with the ledger's totals now", () => {
    const body = renderIssueReplyTotals(before, { summary: after, options, forgotten: "server-b", login: "ops-lead" })!;
    const head = before.slice(0, before.indexOf(SUMMARY_START));
    expect(body.startsWith(head)).toBe(true);
    expect(head).toContain("**recorded**");
    expect(body).toContain("## 2 seats consumed");
    expect(body).not.toContain("## 3 seats consumed");
    expect(body).not.toContain("ghes-b.corp.example");
    expect(body.trimEnd().split("\n").pop()).toBe('<!-- license-sync:summary {"seats":2,"accounts":2,"deduplicated":0,"instances":1} -->');
    expect(body).toMatchSnapshot();
  });

  it("leaves a reply without a summary alone, and stays under GitHub's limit with a long head", () => {
    expect(renderIssueReplyTotals(`${ISSUE_MARKER}\nno summary here`, { summary: after, options, forgotten: "x", login: "y" })).toBeNull();
    const long = `${ISSUE_MARKER}\n${"- ✅ a line of results\n".repeat(3000)}${SUMMARY_START}\nold`;
    const body = renderIssueReplyTotals(long, { summary: after, options, forgotten: "server-b", login: "ops-lead" })!;
    expect(body.length).toBeLessThan(65_536);
    expect(body.startsWith(`${ISSUE_MARKER}\n- ✅ a line of results`)).toBe(true);
  });
});

describe("issue state marker", () => {
  it("round-trips, survives text around it and rejects junk", () => {
    const state = { "body:https://github.com/user-attachments/files/1/a.json": "recorded" as const, "comment-5:comment block 1": "refused" as const };
    expect(parseStateMarker(`x\n${ISSUE_MARKER}${stateMarker(state)}\nmore`)).toEqual(state);
    expect(parseStateMarker("<!-- license-sync:issue-state {broken -->")).toEqual({});
    expect(parseStateMarker(null)).toEqual({});
    // "--" cannot end the HTML comment early.
    expect(stateMarker({ "a-->b": "recorded" })).not.toContain("a-->");
    expect(parseStateMarker(stateMarker({ "a-->b": "recorded" }))).toEqual({ "a-->b": "recorded" });
  });

  it("allRecorded needs at least one export and no refusal", () => {
    expect(allRecorded({})).toBe(false);
    expect(allRecorded({ a: "recorded" })).toBe(true);
    expect(allRecorded({ a: "recorded", b: "refused" })).toBe(false);
  });
});

describe("other issue replies", () => {
  it("permission refusals", () => {
    expect(renderPermissionRefusal({ marker: ISSUE_MARKER, login: "visitor", action: "upload", permission: "triage" })).toMatchSnapshot();
    expect(renderPermissionRefusal({ marker: commandMarker(7), login: "dev", action: "forget", permission: "write" })).toMatchSnapshot();
    expect(renderPermissionRefusal({ marker: commandMarker(7), login: "x", action: "command", permission: "none" })).toContain("you have no access");
  });

  it("help and unknown command", () => {
    expect(renderHelp({ marker: commandMarker(7), uploadUrl: UPLOAD })).toMatchSnapshot();
    expect(renderHelp({ marker: commandMarker(7), uploadUrl: UPLOAD, unknown: "/license-sync `x`" })).toContain("`/license-sync 'x'`");
  });

  it("report", () => {
    expect(renderReportReply({ marker: commandMarker(7), summary, options })).toMatchSnapshot();
  });

  it("report with seats over time: recorded and removed rows, refused ones left out, newest first", () => {
    const row = (id: number, outcome: UploadRow["outcome"], hostName: string, seats: number | null, added: number | null, removed: number | null): UploadRow => ({
      id,
      outcome,
      serverId: `server-${hostName}`,
      hostName,
      source: { kind: "commit", sha: "a".repeat(40), path: "license-usage/x.json" },
      uploader: "mona",
      deliveryId: null,
      contentSha256: null,
      at: new Date(Date.UTC(2025, 5, id)),
      accountCount: seats === null ? null : 10 * id,
      added,
      removed,
      totals: seats === null ? null : { seats, accounts: seats + 1, deduplicated: 1, instances: 2 },
      errorSummary: seats === null ? "x.json: users: is missing" : null,
    });
    const history = [
      row(4, "removed", "ghes-c.corp.example", 3, null, null),
      row(3, "refused", "ghes-b.corp.example", null, null, null),
      row(2, "recorded", "ghes-b.corp.example", 4, 5, 2),
      row(1, "recorded", "ghes-a.corp.example", 2, null, null),
    ];
    const body = renderReportReply({ marker: commandMarker(7), summary, options, history });
    expect(body).toMatchSnapshot();
    expect(body).not.toContain("refused");
    expect(body.trimEnd().split("\n").pop()).toMatch(/^<!-- license-sync:summary /);
    expect(seatsOverTimePart([row(3, "refused", "x", null, null, null)])).toBeNull();
    expect(parseCharts(body)).toEqual(["xychart", "xychart"]);
  });

  it("forget: removed, ambiguous, not found", () => {
    const marker = commandMarker(7);
    // The outcome carries the ledger as it is after the removal, as LedgerService.forget returns it.
    const removed = renderForgetReply({ marker, target: "server-b", outcome: { status: "removed", instance: instances[1]!, summary: after }, options });
    expect(removed).toMatch(/^Removed ghes-b\.corp\.example \(`server-b`, 2 accounts\) from the ledger\./m);
    expect(removed.split("\n").filter((l) => l.includes("ghes-b"))).toHaveLength(1);
    expect(removed).toContain("## 2 seats consumed");
    expect(removed.trimEnd().split("\n").pop()).toBe('<!-- license-sync:summary {"seats":2,"accounts":2,"deduplicated":0,"instances":1} -->');
    expect(removed).toMatchSnapshot();
    expect(
      renderForgetReply({ marker, target: "ghes.corp.example", outcome: { status: "ambiguous", candidates: instances }, options }),
    ).toMatchSnapshot();
    expect(renderForgetReply({ marker, target: "nope", outcome: { status: "not-found", summary }, options })).toContain(
      "No recorded instance has the server id or host name `nope`",
    );
  });
});
