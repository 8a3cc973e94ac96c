import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { chartLabel, instanceBarsChart, sampleEvenly, seatPoints, seatsOverTimeChart, MAX_CHART_POINTS } from "../../src/domain/charts.js";
import type { InstanceUsage, UploadRow } from "../../src/domain/types.js";
import { mermaidBlocks, parseCharts } from "../helpers/mermaid.js";

const day = 86_400_000;
const t0 = Date.UTC(2025, 0, 1, 12);

function row(id: number, at: number, seats: number, outcome: UploadRow["outcome"] = "recorded"): UploadRow {
  return {
    id,
    outcome,
    serverId: "s",
    hostName: "h",
    source: { kind: "commit", sha: "a".repeat(40), path: "x.json" },
    uploader: "mona",
    deliveryId: null,
    contentSha256: null,
    at: new Date(at),
    accountCount: 1,
    added: null,
    removed: null,
    totals: outcome === "refused" ? null : { seats, accounts: seats, deduplicated: 0, instances: 1 },
    errorSummary: null,
  };
}

function usage(hostName: string, serverId: string, accounts: number, exclusive: number): InstanceUsage {
  return { serverId, hostName, accounts, exclusive, unmatched: 0 };
}

describe("sampleEvenly", () => {
  it("keeps the first and the last and at most the maximum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 2, max: 40 }), (n, max) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const got = sampleEvenly(items, max);
        expect(got.length).toBe(Math.min(n, max));
        if (n > 0) expect([got[0], got[got.length - 1]]).toEqual([0, n - 1]);
        expect([...got].sort((a, b) => a - b)).toEqual(got);
        expect(new Set(got).size).toBe(got.length);
      }),
    );
  });
});

describe("seatsOverTimeChart", () => {
  it("one point per day (its last), refusals left out, oldest first", () => {
    const history = [row(4, t0 + day + 5, 130), row(3, t0 + day, 120), row(2, t0 + 100, 0, "refused"), row(1, t0, 100)];
    expect(seatPoints(history).map((p) => p.seats)).toEqual([100, 130]);
  });

  it("samples a long history to at most MAX_CHART_POINTS (12) points with readable dates, and parses", () => {
    const history = Array.from({ length: 400 }, (_, i) => row(i + 1, t0 + i * day, 1000 + i)).reverse();
    const chart = seatsOverTimeChart(seatPoints(history));
    const axis = /x-axis \[(.*)\]/.exec(chart)![1]!.split(", ");
    expect(axis).toHaveLength(MAX_CHART_POINTS);
    expect(axis[0]).toBe('"Jan 1 \'25"');
    expect(axis[axis.length - 1]).toBe('"Feb 4 \'26"');
    expect(/line \[(.*)\]/.exec(chart)![1]!.split(", ").slice(-1)).toEqual(["1399"]);
    expect(parseCharts(chart)).toEqual(["xychart"]);
  });

  it("draws the enterprise seats as a second line", () => {
    const chart = seatsOverTimeChart([
      { at: new Date(t0), seats: 100, enterprise: 150 },
      { at: new Date(t0 + day), seats: 110, enterprise: 170 },
    ]);
    expect(chart.match(/^ {2}line /gm)).toHaveLength(2);
    expect(chart).toContain("line [150, 170]");
    expect(parseCharts(chart)).toEqual(["xychart"]);
  });

  it("is empty below two points", () => {
    expect(seatsOverTimeChart([{ at: new Date(t0), seats: 1 }])).toBe("");
  });
});

describe("instanceBarsChart", () => {
  it("is vertical for a few instances, horizontal for more than 4, at most 30 bars", () => {
    const few = instanceBarsChart([usage("a", "1", 10, 4), usage("b", "2", 5, 5)]);
    expect(few).toMatch(/^xychart-beta$/m);
    const many = instanceBarsChart(Array.from({ length: 40 }, (_, i) => usage(`ghes-${i}`, `id-${i}`, 100 + i, i)));
    expect(many).toMatch(/^xychart-beta horizontal$/m);
    expect(/x-axis \[(.*)\]/.exec(many)![1]!.split(", ")).toHaveLength(30);
    expect(many).toContain("the 30 largest of 40");
    expect(parseCharts(few + "\n" + many)).toEqual(["xychart", "xychart"]);
  });

  it("hostile and non-ASCII host names do not break the chart", () => {
    const names = [
      'ghes "prod" [eu]',
      "Bücher.例え.jp",
      "a\nb\r\nc",
      "x];line [1",
      "#quot; %% comment",
      "`code` {x} <b>",
      "back\\slash\u2028sep",
      "mona@example.com",
      "😀".repeat(50),
    ];
    const chart = instanceBarsChart(names.map((n, i) => usage(n, `id-${i}`, 10 + i, i)));
    expect(chart).not.toContain("mona@example.com");
    expect(mermaidBlocks(chart)).toHaveLength(1);
    expect(parseCharts(chart)).toEqual(["xychart"]);
  });

  it("any host name parses (property)", () => {
    const hosts = fc.sample(fc.string({ unit: "binary", maxLength: 40 }), 100);
    const charts: string[] = [];
    for (let i = 0; i < hosts.length; i += 10) charts.push(instanceBarsChart(hosts.slice(i, i + 10).map((h, j) => usage(h, `id-${j}`, 5, 1))));
    expect(parseCharts(...charts)).toEqual(Array(10).fill("xychart"));
    expect(chartLabel("x".repeat(100)).length).toBeLessThanOrEqual(32);
  });
});
