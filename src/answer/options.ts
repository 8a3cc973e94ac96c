// Small steps every answer shares: the options a summary is rendered with, the repository's upload
// link, the GitHub hosts attachments may come from.
import type { GitHubHosts } from "../domain/issue-exports.js";
import { exportFolder, type RepoConfig } from "../domain/repo-config.js";
import type { SummaryOptions } from "../domain/render.js";
import type { RepoRef } from "../github/designation.js";
import type { Settings } from "../settings.js";

export function githubHosts(settings: Pick<Settings, "gheHost" | "gheProtocol">): GitHubHosts {
  return { gheHost: settings.gheHost, gheProtocol: settings.gheProtocol };
}

/** The repository's upload page for the export folder (the push path answers the commit). */
export function uploadUrl(htmlUrl: string, repo: RepoRef, config: RepoConfig): string {
  const branch = (config.branch ?? repo.defaultBranch).split("/").map(encodeURIComponent).join("/");
  const folder = exportFolder(config).split("/").filter(Boolean).map(encodeURIComponent).join("/");
  return `${htmlUrl}/upload/${branch}${folder ? `/${folder}` : ""}`;
}

export function summaryOptions(config: RepoConfig, now = new Date()): SummaryOptions {
  return {
    now,
    staleAfterDays: config.staleAfterDays,
    purchasedSeats: config.purchasedSeats,
    showLoginsInSavings: config.showLoginsInSavings,
  };
}
