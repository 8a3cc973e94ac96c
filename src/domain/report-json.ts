// The contract's JSON form of a report (snake_case), as printed by `license-sync report --json`.
import { Buffer } from "node:buffer";
import { orderedSavings, type LoginBytes } from "./count.js";
import { enterpriseJson } from "./enterprise.js";
import type { UsageReport } from "./types.js";

export function toContractJson(report: UsageReport): object {
  return contractJson(
    report,
    report.possibleSavings.map((p) => ({ login: p.login, persons: p.persons, seats: p.seats })),
  );
}

function contractJson(report: UsageReport, possibleSavings: object[]): object {
  return {
    seats: report.seats,
    accounts: report.accounts,
    deduplicated: report.deduplicated,
    instances: report.instances.map((i) => ({
      server_id: i.serverId,
      host_name: i.hostName,
      ...(i.ghesVersion !== undefined ? { ghes_version: i.ghesVersion } : {}),
      accounts: i.accounts,
      exclusive: i.exclusive,
      unmatched: i.unmatched,
    })),
    overlaps: report.overlaps.map((o) => ({ server_ids: [o.serverIds[0], o.serverIds[1]], people: o.people })),
    spans: report.spans.map((s) => ({ instances: s.instances, people: s.people })),
    unmatched: report.unmatched,
    possible_savings: possibleSavings,
    options: { match_all_emails: report.options.allEmails, match_logins: report.options.logins },
    ...(report.enterprise !== undefined ? { enterprise: enterpriseJson(report.enterprise) } : {}),
  };
}

// An empty possible_savings in JSON.stringify(…, null, 2): a raw line break is only ever layout (one
// inside a string is escaped), and two spaces of indent mark a top-level key, so this is found once.
const EMPTY_SAVINGS = '\n  "possible_savings": []';

/**
 * JSON.stringify(toContractJson(report), null, 2), byte for byte; possible_savings (hundreds of
 * thousands of logins in a big fleet) written straight from the count's login ids and bytes where
 * the report has them, not as a string and two objects per login.
 */
export function contractJsonText(report: UsageReport): string {
  const savings = orderedSavings(report);
  if (savings === null || savings.ids.length === 0) return JSON.stringify(toContractJson(report), null, 2);
  const text = JSON.stringify(contractJson(report, []), null, 2);
  const at = text.indexOf(EMPTY_SAVINGS) + EMPTY_SAVINGS.length - 2; // its "["
  return text.slice(0, at) + savingsJson(savings) + text.slice(at + 2);
}

const ASCII = (s: string): Buffer => Buffer.from(s, "latin1");
const OPEN = ASCII('\n    {\n      "login": ');
const END = ASCII("\n  ]");

/** src copied into out from `at`, its end: a loop, cheaper than Buffer.copy's native call for a few bytes. */
function put(src: Uint8Array, out: Uint8Array, at: number): number {
  for (let i = 0; i < src.length; i++) out[at + i] = src[i]!;
  return at + src.length;
}

/** The array of possible savings at indent level 1, as JSON.stringify writes it. */
function savingsJson({ ids, seats, bytes }: { ids: Int32Array; seats: Int32Array; bytes: LoginBytes }): string {
  let out = Buffer.allocUnsafe(96 * ids.length + 1024);
  let at = 0;
  out[at++] = 0x5b; // [
  let tail = ASCII("");
  let tailSeats = -1;
  for (let k = 0; k < ids.length; k++) {
    const n = seats[k]!;
    // the same for every login of a seat count
    if (n !== tailSeats) {
      tail = ASCII(`,\n      "persons": ${n + 1},\n      "seats": ${n}\n    }`);
      tailSeats = n;
    }
    const from = at + (k > 0 ? 1 : 0) + OPEN.length;
    let end = from + tail.length + END.length <= out.length ? bytes.writeJson(ids[k]!, out, from) : -1;
    while (end === -1 || end + tail.length + END.length > out.length) {
      const grown = Buffer.allocUnsafe(out.length * 2);
      out.copy(grown, 0, 0, at);
      out = grown;
      end = bytes.writeJson(ids[k]!, out, from);
    }
    if (k > 0) out[at++] = 0x2c; // ,
    at = put(OPEN, out, at);
    at = put(tail, out, end);
  }
  at += END.copy(out, at);
  return out.toString("utf8", 0, at);
}
