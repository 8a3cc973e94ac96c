// The contract's JSON form of a report (snake_case), as printed by `license-sync report --json`.
import { enterpriseJson } from "./enterprise.js";
import type { UsageReport } from "./types.js";

export function toContractJson(report: UsageReport): object {
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
    possible_savings: report.possibleSavings.map((p) => ({ login: p.login, persons: p.persons, seats: p.seats })),
    options: { match_all_emails: report.options.allEmails, match_logins: report.options.logins },
    ...(report.enterprise !== undefined ? { enterprise: enterpriseJson(report.enterprise) } : {}),
  };
}
