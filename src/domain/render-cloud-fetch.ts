// The summary's "Live from GitHub" section: what the last live fetch of the enterprise's license
// report did, and when GitHub last received each server's usage. Pure; every refusal says what was
// tried and how to provide the report instead.
import { describeAttempts, credentialName, type CloudFetchState } from "./cloud-fetch.js";
import { formatAge, formatDate, inline } from "./render.js";

/** Where an owner gets the CSV, and what to do with it: the alternative to every failed fetch. */
export const PROVIDE_CSV =
  "Provide the report instead: download the CSV (your enterprise → **Settings** → **Enterprise licensing** → **Export license usage**) " +
  "and commit it to the export folder, or attach it to an issue here.";

const RETRY =
  "The app tries again on a later summary once `cloud_refresh_hours` have passed, or at once with `/license-sync refresh`.";

function when(d: Date, now: Date): string {
  return `${formatDate(d)} (${formatAge(d, now)})`;
}

export function renderCloudFetch(state: CloudFetchState, now: Date): string {
  const enterprise = `\`${inline(state.enterprise, 60)}\``;
  const out: string[] = ["### Live from GitHub", ""];
  switch (state.outcome) {
    case "refused":
      out.push(
        "> [!WARNING]",
        `> **GitHub's license report for the enterprise ${enterprise} could not be fetched** (tried ${when(state.attemptedAt, now)}). ` +
          `Tried ${describeAttempts(state.attempts, state.enterprise)}.`,
        `> ${PROVIDE_CSV} Or give the app access: see "Live from GitHub" in the app's README.`,
        `> ${RETRY}`,
      );
      return out.join("\n");
    case "invalid":
      out.push(
        "> [!WARNING]",
        `> **GitHub's license report for ${enterprise} was fetched but could not be read** (${when(state.attemptedAt, now)}): ` +
          `${inline(state.problem ?? "not a license report", 300)}.`,
        `> ${PROVIDE_CSV}`,
      );
      return out.join("\n");
    case "unavailable":
      out.push(
        `GitHub did not answer for the enterprise ${enterprise} (HTTP ${state.status ?? "error"}, ${when(state.attemptedAt, now)}); ` +
          "the app tries again within the hour, or at once with `/license-sync refresh`.",
      );
      return out.join("\n");
    case "fetched": {
      const used = state.attempts.find((a) => a.outcome === "used");
      const refusedFirst = state.attempts.filter((a) => a.outcome !== "used");
      out.push(
        `GitHub's license report for the enterprise ${enterprise} was fetched ${when(state.attemptedAt, now)}` +
          `${used ? ` with ${credentialName(used.credential)}` : ""}` +
          `${refusedFirst.length ? ` (first tried ${describeAttempts(refusedFirst, state.enterprise)})` : ""}.`,
      );
      break;
    }
  }
  if (state.sync?.ok === false) {
    out.push(
      "",
      `GitHub's license-sync status could not be read (HTTP ${state.sync.status}), so when GitHub last received each server's usage is not shown.`,
    );
  } else if (state.sync?.ok) {
    const servers = state.sync.servers;
    out.push("");
    if (servers.length === 0) {
      out.push("GitHub has received usage from no GitHub Enterprise Server yet.");
    } else {
      out.push("When GitHub last received each server's usage:", "", "| Server | Last received | Status |", "|---|---|---|");
      for (const s of servers.slice(0, 100)) {
        const status = [s.status, s.error].filter(Boolean).map((t) => inline(t!, 80)).join(": ") || "—";
        out.push(`| ${inline(s.hostName, 80)} | ${s.lastSyncAt ? when(s.lastSyncAt, now) : "never"} | ${status} |`);
      }
      if (servers.length > 100) out.push("", `…and ${servers.length - 100} more servers.`);
    }
  }
  return out.join("\n");
}
