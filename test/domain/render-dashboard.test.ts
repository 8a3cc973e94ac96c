import { describe, expect, it } from "@jest/globals";
import type { InstanceRecord, LedgerSummary, UploadRow, UsageReport } from "../../src/domain/types.js";
import { DASHBOARD_MARKER, refusedWaiting, renderDashboard } from "../../src/domain/render-dashboard.js";
import { MAX_COMMENT_CHARS, parseSummaryMarker, renderUploadReply } from "../../src/domain/render.js";
import { mermaidBlocks, parseCharts } from "../helpers/mermaid.js";

const now = new Date("2026-03-01T12:00:00Z");
const day = 86_400_000;
const REPO_URL = "https://github.com/acme/license-usage";
const UPLOAD = `${REPO_URL}/upload/main/license-usage`;
const options = { now, staleAfterDays: 35, purchasedSeats: 5000, showLoginsInSavings: true };

/** A made-up ledger of n instances: sizes, overlaps between neighbours, savings, a long history. */
function ledger(n: number): { summary: LedgerSummary; history: UploadRow[] } {
  const host = (i: number) => (i === 3 ? "ghes-\"prod\" [eu].Bücher.example" : `ghes-${i}.corp.example`);
  const instances = Array.from({ length: n }, (_, i) => ({
    serverId: `server-${String(i).padStart(2, "0")}`,
    hostName: host(i),
    ghesVersion: "3.17.4",
    accounts: 800 + ((i * 137) % 900),
    exclusive: 300 + ((i * 71) % 300),
    unmatched: i % 3,
  }));
  const overlaps: UsageReport["overlaps"] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if ((a + b) % 3 !== 0) overlaps.push({ serverIds: [instances[a]!.serverId, instances[b]!.serverId], people: 10 + ((a * 31 + b * 17) % 400) });
  const accounts = instances.reduce((s, i) => s + i.accounts, 0);
  const seats = Math.round(accounts * 0.8);
  const report: UsageReport = {
    seats,
    accounts,
    deduplicated: accounts - seats,
    instances,
    overlaps,
    spans: n > 1 ? [{ instances: 2, people: 400 }, { instances: 3, people: 20 }] : [],
    unmatched: n,
    possibleSavings: Array.from({ length: Math.min(n * 3, 40) }, (_, i) => ({ login: `user-${i}`, persons: 2, seats: 1 })),
    options: { allEmails: false, logins: false },
  };
  const records: InstanceRecord[] = instances.map((i, k) => ({
    serverId: i.serverId,
    hostName: i.hostName,
    ghesVersion: i.ghesVersion,
    firstUploadAt: new Date(now.getTime() - 400 * day),
    lastUploadAt: new Date(now.getTime() - (k % 5 === 4 ? 50 : k) * day),
    accountCount: i.accounts,
    contentSha256: "0".repeat(64),
  }));
  const history: UploadRow[] = [];
  for (let d = 300; d >= 0; d--) {
    const k = d % n;
    const refused = d % 97 === 1;
    history.push({
      id: 301 - d,
      outcome: refused ? "refused" : "recorded",
      serverId: refused ? null : instances[k]!.serverId,
      hostName: refused ? null : instances[k]!.hostName,
      source: d % 2 ? { kind: "commit", sha: `${d}`.padStart(40, "a"), path: `license-usage/${k}.json` } : { kind: "issue", issueNumber: 100 + d, commentId: 5000 + d, file: `export-${k}.json` },
      uploader: "mona",
      deliveryId: null,
      contentSha256: null,
      at: new Date(now.getTime() - d * day),
      accountCount: instances[k]!.accounts,
      added: 10,
      removed: 3,
      totals: refused ? null : { seats: seats - d * 3, accounts, deduplicated: accounts - seats, instances: n },
      errorSummary: refused ? "license-usage/x.json: users: the user list is encrypted, so it cannot be counted here" : null,
    });
  }
  history.reverse();
  return { summary: { report, instances: records, totals: { seats, accounts, deduplicated: accounts - seats, instances: n }, generatedAt: now }, history };
}

describe("renderDashboard", () => {
  const bodies = [1, 6, 20].map((n) => [n, renderDashboard({ ...ledger(n), options, repoUrl: REPO_URL, uploadUrl: UPLOAD })] as const);

  it.each(bodies)("%i instances: snapshot, under GitHub's limit, marker first, summary marker last", (n, body) => {
    expect(body).toMatchSnapshot();
    expect(body.length).toBeLessThan(MAX_COMMENT_CHARS);
    expect(body.startsWith(DASHBOARD_MARKER)).toBe(true);
    expect(parseSummaryMarker(body)?.instances).toBe(n);
    expect(body).toContain("### What to do next");
    expect(body).toContain("[Upload a new export]");
  });

  it("every chart of every dashboard parses with Mermaid", () => {
    const all = bodies.map(([, b]) => b);
    expect(all.map((b) => mermaidBlocks(b).length)).toEqual([2, 2, 2]);
    expect(parseCharts(...all)).toEqual(Array(6).fill("xychart"));
  });

  it("beyond 6 instances: the top 10 pairs ranked with their share, the grid collapsed", () => {
    const six = bodies[1]![1];
    const twenty = bodies[2]![1];
    expect(six).toContain("People with accounts on both instances:");
    expect(six).not.toContain("pairs of instances sharing the most people");
    expect(twenty).toContain("The 10 pairs of instances sharing the most people:");
    expect(twenty).toMatch(/^1\. [\d,]+ people on both .+ and .+, \d+% of .+$/m);
    expect(twenty).toMatch(/<details>\n<summary>Overlap grid \(every pair\)<\/summary>/);
    expect(twenty).toMatch(/<summary>All 20 instances<\/summary>/);
    expect(twenty).toMatch(/20 instances, [\d,]+ accounts; \*\*4 stale\*\*/);
  });

  it("links each instance's latest upload and lists stale instances and refused files to fix", () => {
    const body = bodies[1]![1];
    expect(body).toMatch(/\| \[[0-9a-f]{7}\]\(https:\/\/github\.com\/acme\/license-usage\/commit\/[0-9a-f]{40}\) \|/);
    expect(body).toMatch(/\[#\d+\]\(https:\/\/github\.com\/acme\/license-usage\/issues\/\d+#issuecomment-\d+\)/);
    expect(body).toContain("**Re-export this stale instance**");
  });

  it("a refused file waits until a later upload of the same file or instance is recorded", () => {
    const base = ledger(2).history;
    const refused = { ...base[0]!, id: 999, outcome: "refused" as const, serverId: null, totals: null, errorSummary: "bad" };
    expect(refusedWaiting([refused, ...base]).map((h) => h.id)).toContain(999);
    const fixed = { ...refused, id: 1000, outcome: "recorded" as const, serverId: "server-00" };
    expect(refusedWaiting([fixed, refused, ...base]).map((h) => h.id)).not.toContain(999);
  });

  it("a long encrypted-list refusal keeps its whole message in a reply", () => {
    const message =
      "the user list is encrypted, so it cannot be counted here. Export it unencrypted on the GHES appliance's administrative shell: `ghe-license-usage --unencrypted` on GHES 3.12 and older, `ghe-license usage --unencrypted` on later versions (see `ghe-license --help`)";
    const { summary } = ledger(1);
    const body = renderUploadReply({
      marker: "<!-- m -->",
      heading: "h",
      results: [{ file: "license-usage/a.json", status: "refused", errors: [{ file: "license-usage/a.json", path: "users", message }], warnings: [] }],
      summary,
      options,
    });
    expect(body).toContain("(see 'ghe-license --help')");
  });
});
