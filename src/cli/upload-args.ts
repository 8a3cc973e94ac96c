// Command-line parsing for `license-sync upload`. Pure: argv (after "upload") in, options or a
// usage error out. Kept apart from args.ts: upload's options are its own.
import { DEFAULT_MAX_EXPORT_BYTES } from "../settings.js";
import { parseSize } from "./args.js";

export const DEFAULT_DIR = "license-usage";
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** The app's name in app.yml, which Probot's set-up page registers it under unless it is taken. */
export const DEFAULT_APP_SLUG = "license-sync";

export interface UploadOptions {
  files: string[];
  owner: string;
  repo: string;
  /** null: the repository's default branch. */
  branch: string | null;
  dir: string;
  /** null: GITHUB_API_URL, else https://api.github.com. */
  apiUrl: string | null;
  wait: boolean;
  timeoutMs: number;
  maxBytes: number;
  message: string | null;
  /** null: LICENSE_SYNC_APP_SLUG, else DEFAULT_APP_SLUG. */
  appSlug: string | null;
}

export type UploadParsed = { ok: true; help: true } | { ok: true; help: false; options: UploadOptions } | { ok: false; error: string };

/** "300", "300s", "5m", "1h", "1m30s" -> milliseconds; null when not a positive duration. */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) return Number(t) > 0 ? Number(t) * 1000 : null;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
  if (!m || t === "") return null;
  const ms = (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
  return ms > 0 ? ms : null;
}

/** A folder inside the repository: relative, no "." or ".." segments, no empty segments. */
function checkDir(dir: string): string | null {
  const d = dir.replace(/^\/+|\/+$/g, "");
  if (d === "") return null;
  if (d.split("/").some((s) => s === "" || s === "." || s === "..")) return null;
  return d;
}

/** A GitHub App slug as in github.com/apps/<slug> (a trailing "[bot]" is dropped); null when not one. */
export function parseAppSlug(text: string): string | null {
  const slug = text.trim().replace(/\[bot\]$/i, "").toLowerCase();
  return /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/.test(slug) ? slug : null;
}

const VALUED = new Set(["--repo", "--branch", "--dir", "--api-url", "--timeout", "--max-bytes", "--message", "-m", "--app-slug"]);

export function parseUploadArgs(argv: string[]): UploadParsed {
  const files: string[] = [];
  const values = new Map<string, string>();
  let wait = false;
  let help = false;
  let optionsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (optionsDone || arg === "-" || !arg.startsWith("-")) {
      files.push(arg);
      continue;
    }
    if (arg === "--") {
      optionsDone = true;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUED.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") return { ok: false, error: `option ${name} needs a value` };
      values.set(name === "-m" ? "--message" : name, value);
      continue;
    }
    if (eq > 0) return { ok: false, error: `option ${name} takes no value` };
    switch (name) {
      case "--wait":
        wait = true;
        break;
      case "-h":
      case "--help":
        help = true;
        break;
      default:
        return { ok: false, error: `unknown option ${name}` };
    }
  }
  if (help) return { ok: true, help: true };

  const repoArg = values.get("--repo");
  if (repoArg === undefined) return { ok: false, error: "upload: --repo OWNER/NAME is required (the ledger repository)" };
  const repoMatch = /^([\w.-]+)\/([\w.-]+)$/.exec(repoArg.trim());
  if (!repoMatch) return { ok: false, error: `option --repo: "${repoArg}" is not OWNER/NAME` };
  if (files.length === 0) return { ok: false, error: "upload: no FILE given" };

  const dirArg = values.get("--dir") ?? DEFAULT_DIR;
  const dir = checkDir(dirArg);
  if (dir === null) return { ok: false, error: `option --dir: "${dirArg}" is not a folder inside the repository` };

  let apiUrl: string | null = null;
  const apiArg = values.get("--api-url");
  if (apiArg !== undefined) {
    apiUrl = normalizeApiUrl(apiArg);
    if (apiUrl === null) return { ok: false, error: `option --api-url: "${apiArg}" is not an http(s) URL` };
  }

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  const timeoutArg = values.get("--timeout");
  if (timeoutArg !== undefined) {
    const ms = parseDuration(timeoutArg);
    if (ms === null) return { ok: false, error: `option --timeout: "${timeoutArg}" is not a duration (e.g. 300, 90s, 5m)` };
    if (!wait) return { ok: false, error: "option --timeout applies to --wait" };
    timeoutMs = ms;
  }

  let maxBytes = DEFAULT_MAX_EXPORT_BYTES;
  const sizeArg = values.get("--max-bytes");
  if (sizeArg !== undefined) {
    const size = parseSize(sizeArg);
    if (size === null) return { ok: false, error: `option --max-bytes: "${sizeArg}" is not a size (e.g. 104857600, 500KB, 100MB, 1GB)` };
    maxBytes = size;
  }

  let appSlug: string | null = null;
  const slugArg = values.get("--app-slug");
  if (slugArg !== undefined) {
    appSlug = parseAppSlug(slugArg);
    if (appSlug === null) return { ok: false, error: `option --app-slug: "${slugArg}" is not a GitHub App slug (as in github.com/apps/SLUG)` };
  }

  return {
    ok: true,
    help: false,
    options: {
      files,
      owner: repoMatch[1]!,
      repo: repoMatch[2]!,
      branch: values.get("--branch")?.replace(/^refs\/heads\//, "") ?? null,
      dir,
      apiUrl,
      wait,
      timeoutMs,
      maxBytes,
      message: values.get("--message") ?? null,
      appSlug,
    },
  };
}

/** An API base URL without its trailing slash; null when not http(s). */
export function normalizeApiUrl(text: string): string | null {
  try {
    const url = new URL(text.trim());
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    return url.href.replace(/\/+$/, "");
  } catch {
    return null;
  }
}

export const UPLOAD_USAGE = `Usage:
  license-sync upload --repo OWNER/NAME [--branch NAME] [--dir PATH] [--api-url URL]
                      [--wait [--timeout DURATION] [--app-slug SLUG]] [--message TEXT]
                      [--max-bytes SIZE] FILE...`;

export const UPLOAD_HELP = `license-sync upload: commit license-usage exports to the ledger repository, where the app
records them.

${UPLOAD_USAGE}

Every FILE is validated first, with the same rules and messages as "license-sync validate"; when
any is invalid nothing is sent. Each export goes to a path named after its instance,
DIR/<host_name>.json, and a GHEC license report (CSV or JSON, at most one) to
DIR/ghec-license-report.csv or .json; files over 10 MB are compressed on the way (.gz). A
monthly upload thus replaces last month's files. All files go in one commit; if the branch moves meanwhile, the commit
is made again on top of it.

Options:
  --repo OWNER/NAME   The ledger repository (required).
  --branch NAME       Branch to commit to (default: the repository's default branch; the app
                      records pushes to the branch in its .github/license-sync.yml).
  --dir PATH          Folder for the exports (default: ${DEFAULT_DIR}).
  --api-url URL       GitHub API base URL (default: $GITHUB_API_URL, else https://api.github.com),
                      e.g. https://api.TENANT.ghe.com or https://HOST/api/v3.
  --wait              Wait for the app's "license usage" check run on the commit and print its
                      outcome and the seat summary.
  --timeout DURATION  How long --wait waits (default 5m; e.g. 90s, 10m, 600).
  --app-slug SLUG     The app's slug, as in github.com/apps/SLUG (default: $LICENSE_SYNC_APP_SLUG,
                      else ${DEFAULT_APP_SLUG}): --wait trusts a reply comment only from SLUG[bot].
  -m, --message TEXT  Commit message (default: "License usage: HOST, ...").
  --max-bytes SIZE    Largest export accepted, uncompressed (default 100MB).
  -h, --help          Show this help.

Environment:
  GITHUB_TOKEN or GH_TOKEN   A token with contents: write on the ledger repository, nothing
                             more. (--wait reads the check run where the token may, else the
                             app's reply comment.)
  GITHUB_API_URL             The API base URL when --api-url is not given.
  LICENSE_SYNC_APP_SLUG      The app's slug when --app-slug is not given.

Exit codes:
  0  committed (with --wait: the app recorded every file)
  1  a file is invalid, the upload failed, or (with --wait) the app refused a file
  2  usage error: bad option, no FILE, no token
  3  --wait: no answer from the app within the timeout`;
