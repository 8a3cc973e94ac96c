// Is this repository a designated one, and with which settings? Shared by the push and issue paths.
import type { Context } from "probot";
import type { Settings } from "../settings.js";
import { CONFIG_PATH, parseRepoConfig, type ConfigError, type RepoConfig } from "../domain/repo-config.js";

export interface RepoRef {
  owner: string;
  repo: string;
  /** owner/name as in the payload. */
  fullName: string;
  /** Repository id: the ledger key (renames keep it). */
  id: number;
  defaultBranch: string;
}

export type Designation =
  | { status: "designated"; repo: RepoRef; config: RepoConfig }
  /** Designated, but .github/license-sync.yml is wrong: reply with the errors, do nothing else. */
  | { status: "config-error"; repo: RepoRef; errors: ConfigError[] };

/** The structural slice of a Probot context this module needs (any event with a repository). */
export interface RepoContext {
  payload: unknown;
  octokit: Context["octokit"];
}

interface PayloadRepository {
  id: number;
  name: string;
  full_name: string;
  default_branch?: string;
  owner: { login: string } | null;
}

export function repoRef(payload: unknown): RepoRef | null {
  const r = (payload as { repository?: PayloadRepository } | null)?.repository;
  if (!r || typeof r.full_name !== "string" || !r.owner) return null;
  return {
    owner: r.owner.login,
    repo: r.name,
    fullName: r.full_name,
    id: r.id,
    defaultBranch: r.default_branch ?? "main",
  };
}

function unparseable(repo: RepoRef, why: string): Designation {
  return { status: "config-error", repo, errors: [{ key: "(file)", message: `${CONFIG_PATH} cannot be parsed: ${why}` }] };
}

/** true/false from LICENSE_SYNC_REPOS; null when it is unset (the config file decides). */
export function designatedByEnvironment(settings: Pick<Settings, "designatedRepos">, fullName: string): boolean | null {
  if (!settings.designatedRepos) return null;
  return settings.designatedRepos.includes(fullName.toLowerCase());
}

/**
 * null: not designated (nothing to do). With LICENSE_SYNC_REPOS set, a repository outside it
 * costs no API call. Otherwise the repository is designated by its own .github/license-sync.yml
 * (an organisation-wide file in the owner's `.github` repository does not designate every repo).
 */
export async function loadDesignation(context: RepoContext, settings: Pick<Settings, "designatedRepos">): Promise<Designation | null> {
  const repo = repoRef(context.payload);
  if (!repo) return null;
  const byEnv = designatedByEnvironment(settings, repo.fullName);
  if (byEnv === false) return null;

  let files: { config: unknown }[];
  let merged: unknown;
  try {
    // Read from the default branch, as Probot's context.config does (config in a PR cannot change it).
    const got = await context.octokit.config.get({ owner: repo.owner, repo: repo.repo, path: CONFIG_PATH });
    files = got.files;
    merged = got.config;
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    // Probot's config plugin says so only in its message: "could not be parsed … (invalid YAML)"
    // or "… (YAML is not an object)" (a bare string).
    if (/could not be parsed|not an object/i.test(message)) {
      const why = /not an object/i.test(message) ? "it is not a mapping of keys" : "it is not valid YAML";
      return unparseable(repo, why);
    }
    // `_extends` naming no repository, or a chain coming back to a file already read (itself): a
    // mistake in the file, answered like any other, not a failed delivery.
    if (/Invalid value .* for _extends/is.test(message)) {
      return { status: "config-error", repo, errors: [{ key: "_extends", message: "expected a repository (name, owner/name or owner/name:path.yml)" }] };
    }
    if (/Recursion detected/i.test(message)) {
      return { status: "config-error", repo, errors: [{ key: "_extends", message: "extends a file already read (the file itself, or a loop); remove it or name another repository" }] };
    }
    throw error;
  }
  const own = files[0]?.config ?? null;
  // A YAML list gets through the plugin, and its merge turns it into {"0": …}: judge the file itself.
  if (Array.isArray(own)) return unparseable(repo, "it is a list, not a mapping of keys");
  if (byEnv === null && own === null) return null;
  // Without a file of its own (environment-designated repo) the defaults apply.
  const result = parseRepoConfig(own === null ? null : merged);
  return result.ok ? { status: "designated", repo, config: result.config } : { status: "config-error", repo, errors: result.errors };
}
