// The designated repository's own settings, read from .github/license-sync.yml. Pure: the caller
// parses the YAML; this validates the object, fills in defaults and names every wrong key.
import type { MatchOptions } from "./types.js";

export const CONFIG_FILE = "license-sync.yml";
export const CONFIG_PATH = `.github/${CONFIG_FILE}`;

export const DEFAULT_EXPORT_PATHS: readonly string[] = Object.freeze([
  "license-usage/**/*.json",
  "license-usage/**/*.json.gz",
]);
export const DEFAULT_STALE_AFTER_DAYS = 35;

export interface RepoConfig {
  /** Globs (`**`, `*`, `?`) of the files that hold exports, relative to the repository root. */
  paths: string[];
  /** Branch whose pushes are recorded; null = the repository's default branch. */
  branch: string | null;
  match: MatchOptions;
  /** Seats bought; the summary warns when consumption exceeds it. null = not configured. */
  purchasedSeats: number | null;
  /** An instance whose last upload is older than this is flagged stale. */
  staleAfterDays: number;
  /** Show the logins behind "possible savings" (off: counts only). */
  showLoginsInSavings: boolean;
  /** Issue path: close an issue once every export in it was recorded. */
  closeIssuesWhenRecorded: boolean;
}

/** One wrong key: `key` is its dotted path in the file (`match.logins`), `message` plain words. */
export interface ConfigError {
  key: string;
  message: string;
}

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; errors: ConfigError[] };

export function defaultRepoConfig(): RepoConfig {
  return {
    paths: [...DEFAULT_EXPORT_PATHS],
    branch: null,
    match: { allEmails: false, logins: false },
    purchasedSeats: null,
    staleAfterDays: DEFAULT_STALE_AFTER_DAYS,
    showLoginsInSavings: false,
    closeIssuesWhenRecorded: false,
  };
}

const TOP_KEYS = [
  "paths",
  "branch",
  "match",
  "purchased_seats",
  "stale_after_days",
  "show_logins_in_savings",
  "close_issues_when_recorded",
] as const;
const MATCH_KEYS = ["all_emails", "logins"] as const;

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return typeof v === "string" ? "text" : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unknownKey(key: string, known: readonly string[], prefix = ""): ConfigError {
  const close = known.find((k) => editDistance(k, key) <= 2);
  const hint = close ? ` (did you mean \`${prefix}${close}\`?)` : "";
  return { key: prefix + key, message: `unknown key${hint}; known keys: ${known.map((k) => prefix + k).join(", ")}` };
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Validates the parsed YAML (null/undefined = empty file: all defaults). */
export function parseRepoConfig(raw: unknown): RepoConfigResult {
  const config = defaultRepoConfig();
  if (raw === null || raw === undefined) return { ok: true, config };
  if (!isPlainObject(raw)) {
    return { ok: false, errors: [{ key: "(file)", message: `expected a mapping of keys, got ${typeName(raw)}` }] };
  }
  const errors: ConfigError[] = [];
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case "paths": {
        const list = typeof value === "string" ? [value] : value;
        if (!Array.isArray(list) || list.length === 0) {
          errors.push({ key, message: `expected a glob or a non-empty list of globs, got ${typeName(value)}` });
          break;
        }
        const globs: string[] = [];
        list.forEach((g, i) => {
          const problem = typeof g !== "string" ? `expected text, got ${typeName(g)}` : globProblem(g);
          if (problem) errors.push({ key: `paths[${i}]`, message: problem });
          else globs.push(normalizeGlob(g as string));
        });
        config.paths = globs;
        break;
      }
      case "branch":
        if (typeof value !== "string" || !value.trim() || /\s/.test(value.trim())) {
          errors.push({ key, message: `expected a branch name, got ${typeName(value)}` });
        } else config.branch = value.trim().replace(/^refs\/heads\//, "");
        break;
      case "match":
        if (value === null) break;
        if (!isPlainObject(value)) {
          errors.push({ key, message: `expected a mapping with ${MATCH_KEYS.join(", ")}, got ${typeName(value)}` });
          break;
        }
        for (const [mk, mv] of Object.entries(value)) {
          if (mk === "all_emails" || mk === "logins") {
            if (typeof mv !== "boolean") errors.push({ key: `match.${mk}`, message: `expected true or false, got ${typeName(mv)}` });
            else if (mk === "all_emails") config.match.allEmails = mv;
            else config.match.logins = mv;
          } else errors.push(unknownKey(mk, MATCH_KEYS, "match."));
        }
        break;
      case "purchased_seats":
        if (value === null) break;
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
          errors.push({ key, message: `expected a positive whole number, got ${typeof value === "number" ? value : typeName(value)}` });
        } else config.purchasedSeats = value;
        break;
      case "stale_after_days":
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
          errors.push({ key, message: `expected a positive whole number of days, got ${typeof value === "number" ? value : typeName(value)}` });
        } else config.staleAfterDays = value;
        break;
      case "show_logins_in_savings":
      case "close_issues_when_recorded":
        if (typeof value !== "boolean") errors.push({ key, message: `expected true or false, got ${typeName(value)}` });
        else if (key === "show_logins_in_savings") config.showLoginsInSavings = value;
        else config.closeIssuesWhenRecorded = value;
        break;
      default:
        errors.push(unknownKey(key, TOP_KEYS));
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, config };
}

function globProblem(g: string): string | null {
  if (!g.trim()) return "expected a glob, got empty text";
  if (g.includes("\\")) return "use / as the path separator";
  if (/(^|\/)\.\.(\/|$)/.test(g)) return "must not contain `..`";
  return null;
}

function normalizeGlob(g: string): string {
  return g.trim().replace(/^\.?\/+/, "");
}

const globCache = new Map<string, RegExp>();

/** `**` spans any number of directories (zero included), `*` and `?` stay within one name. */
export function globToRegExp(glob: string): RegExp {
  const cached = globCache.get(glob);
  if (cached) return cached;
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const atStart = i === 0 || glob[i - 1] === "/";
      const atEnd = i + 2 === glob.length;
      if (atStart && glob[i + 2] === "/") {
        re += "(?:[^/]+/)*";
        i += 2;
      } else if (atStart && atEnd) {
        re += ".*";
        i += 1;
      } else {
        re += "[^/]*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const compiled = new RegExp(`^${re}$`);
  globCache.set(glob, compiled);
  return compiled;
}

export function matchesExportPath(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}

/** The folder exports go to (static prefix of the first glob), e.g. for an upload link. */
export function exportFolder(config: Pick<RepoConfig, "paths">): string {
  const first = config.paths[0] ?? DEFAULT_EXPORT_PATHS[0]!;
  const parts = first.split("/");
  const fixed: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (/[*?]/.test(p)) break;
    fixed.push(p);
  }
  return fixed.join("/");
}

/** Markdown list of config errors, each naming its key. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  // Keys come from the user's file: keep them short and unable to break the Markdown.
  const safe = (k: string) => (k.length > 80 ? `${k.slice(0, 80)}…` : k).replace(/[`\r\n]/g, "'");
  return errors.map((e) => `- \`${safe(e.key)}\`: ${e.message}`).join("\n");
}
