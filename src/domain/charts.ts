// Mermaid charts for GitHub's Markdown (```mermaid blocks): seats over time and where the seats
// are. Pure. Every label goes through chartLabel: a quote or a line break in a host name must not
// end the chart's string early.
import type { InstanceUsage, UploadRow } from "./types.js";

/** At most this many points on a line: past ~12, the date labels overlap at GitHub's width. */
export const MAX_CHART_POINTS = 12;
/** More instances than this: the bar chart is horizontal (vertical labels overlap past ~4). */
export const HORIZONTAL_BARS_FROM = 4;
/** Bars shown at most (the largest instances). */
export const MAX_BARS = 30;

export interface SeatPoint {
  at: Date;
  /** Seats of the GHES instances, deduplicated. */
  seats: number;
  /** The enterprise's seats (GHEC and GHES together), once a cloud report is recorded. */
  enterprise?: number | null;
}

/**
 * Mermaid strings are "…" with no escape: quotes become typographic ones, and characters Mermaid
 * reads as entities or comments (`#…;`, `%%`) or that end a line are replaced. Bounded length.
 */
export function chartLabel(raw: string, max = 32): string {
  // Host names come from files: whatever they hold, no address gets into a chart.
  // Cut first (a bounded string for the regex), then redact.
  const chars = [...raw.slice(0, max * 2)];
  const cut = chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : chars.join("");
  const short = cut.includes("@") ? cut.replace(/[^\s@]*@[^\s@]*/g, "[redacted]") : cut;
  const safe = short
    // eslint-disable-next-line no-control-regex -- control characters are what is replaced
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ")
    .replace(/"/g, "”")
    .replace(/#/g, "♯")
    .replace(/;/g, ",")
    .replace(/%/g, "％")
    .replace(/`/g, "'")
    .replace(/[<>{}\\]/g, (c) => ({ "<": "‹", ">": "›", "{": "(", "}": ")", "\\": "/" })[c]!);
  // An empty string is not a label to Mermaid.
  return safe.trim() ? safe : "(no name)";
}

/** Picks at most `max` items spread evenly, the first and the last always kept. */
export function sampleEvenly<T>(items: readonly T[], max = MAX_CHART_POINTS): T[] {
  if (items.length <= max) return [...items];
  if (max < 2) return [items[items.length - 1]!];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round((i * (items.length - 1)) / (max - 1))]!);
  return out;
}

/** The seats after each recorded change, oldest first, one point per UTC day (that day's last). */
export function seatPoints(history: readonly UploadRow[]): SeatPoint[] {
  const byDay = new Map<string, SeatPoint>();
  const rows = history.filter((h) => h.outcome !== "refused" && h.totals !== null).sort((a, b) => a.at.getTime() - b.at.getTime() || a.id - b.id);
  for (const h of rows) byDay.set(h.at.toISOString().slice(0, 10), { at: h.at, seats: h.totals!.seats, enterprise: h.totals!.enterpriseSeats ?? null });
  return [...byDay.values()];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Mar 4" within one year, "Mar 4 '25" when the chart spans years. */
function dayLabel(d: Date, withYear: boolean): string {
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}${withYear ? ` '${String(d.getUTCFullYear() % 100).padStart(2, "0")}` : ""}`;
}

function niceFloor(n: number): number {
  if (n <= 0) return 0;
  const step = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
  return Math.floor(n / step) * step;
}

function niceCeil(n: number): number {
  if (n <= 10) return 10;
  const step = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
  return Math.ceil(n / step) * step;
}

function fence(lines: string[]): string {
  return ["```mermaid", ...lines, "```"].join("\n");
}

/** A line of the seats over time (a second line for the enterprise's seats when known); "" below 2 points. */
export function seatsOverTimeChart(all: readonly SeatPoint[]): string {
  const points = sampleEvenly(all);
  if (points.length < 2) return "";
  const years = new Set(points.map((p) => p.at.getUTCFullYear()));
  const labels = points.map((p) => `"${chartLabel(dayLabel(p.at, years.size > 1))}"`);
  const withEnterprise = points.some((p) => typeof p.enterprise === "number");
  const values = points.flatMap((p) => (withEnterprise && typeof p.enterprise === "number" ? [p.seats, p.enterprise] : [p.seats]));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  // A range around the data, not from zero: a change of a few seats in thousands stays visible.
  const floor = lo - (hi - lo) * 0.1;
  const min = floor < hi * 0.3 ? 0 : niceFloor(floor);
  const max = Math.max(niceCeil(hi + (hi - lo) * 0.1), min + 10);
  const lines = [
    // Wider than Mermaid's default, smaller axis labels: a dozen dates side by side stay readable.
    "---",
    "config:",
    "  xyChart:",
    "    width: 900",
    "    xAxis:",
    "      labelFontSize: 11",
    "---",
    "xychart-beta",
    `  title "${withEnterprise ? "Seats over time: enterprise (upper line) and GHES" : "Seats over time"}"`,
    `  x-axis [${labels.join(", ")}]`,
    `  y-axis "Seats" ${min} --> ${max}`,
    `  line [${points.map((p) => p.seats).join(", ")}]`,
  ];
  if (withEnterprise) lines.push(`  line [${points.map((p) => (typeof p.enterprise === "number" ? p.enterprise : p.seats)).join(", ")}]`);
  return fence(lines);
}

/**
 * Per instance: its accounts (the full bar) and the people found only there (the inner bar); the
 * difference is shared with other instances. Horizontal when there are many instances.
 */
export function instanceBarsChart(instances: readonly InstanceUsage[]): string {
  if (instances.length === 0) return "";
  const hosts = new Map<string, number>();
  for (const i of instances) hosts.set(i.hostName, (hosts.get(i.hostName) ?? 0) + 1);
  const shown = [...instances].sort((a, b) => b.accounts - a.accounts || a.hostName.localeCompare(b.hostName)).slice(0, MAX_BARS);
  // "ghes-0" instead of "ghes-0.corp.example" on every bar: the shared domain goes in the title.
  const suffix = commonDomain(shown.map((i) => i.hostName));
  const label = (i: InstanceUsage, max: number) => {
    const host = i.hostName.slice(0, i.hostName.length - suffix.length);
    return hosts.get(i.hostName)! > 1 ? `${chartLabel(host, max - 7)} (${chartLabel(i.serverId, 5)})` : chartLabel(host, max);
  };
  const horizontal = shown.length > HORIZONTAL_BARS_FROM;
  const max = niceCeil(Math.max(...shown.map((i) => i.accounts)));
  const base = instances.length > shown.length ? `Accounts per instance (the ${shown.length} largest of ${instances.length})` : "Accounts per instance";
  const title = suffix ? `${base}, hosts *${chartLabel(suffix, 40)}` : base;
  return fence([
    `xychart-beta${horizontal ? " horizontal" : ""}`,
    `  title "${title}"`,
    `  x-axis [${shown.map((i) => `"${label(i, horizontal ? 32 : 20)}"`).join(", ")}]`,
    `  y-axis "Accounts" 0 --> ${max}`,
    `  bar [${shown.map((i) => i.accounts).join(", ")}]`,
    `  bar [${shown.map((i) => i.exclusive).join(", ")}]`,
  ]);
}

/** The domain (".corp.example") every host name ends in, leaving each a name of its own; "" if none. */
function commonDomain(hosts: readonly string[]): string {
  if (hosts.length < 2) return "";
  let suffix = hosts[0]!.slice(hosts[0]!.indexOf("."));
  if (!hosts[0]!.includes(".")) return "";
  for (const h of hosts) {
    while (suffix && !(h.endsWith(suffix) && h.length > suffix.length)) {
      const next = suffix.indexOf(".", 1);
      suffix = next < 0 ? "" : suffix.slice(next);
    }
  }
  return suffix;
}
