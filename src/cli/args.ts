// Command-line parsing for `license-sync`. Pure: argv in, a command or a usage error out.
import { DEFAULT_MAX_EXPORT_BYTES } from "../settings.js";

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "validate"; files: string[]; maxBytes: number }
  | { kind: "report"; files: string[]; maxBytes: number; json: boolean; allEmails: boolean; logins: boolean };

export type Parsed = { ok: true; command: Command } | { ok: false; error: string };

const UNITS: Record<string, number> = { "": 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** "1048576", "500KB", "100MB", "2G" -> bytes; null when not a positive size. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

export function parseArgs(argv: string[]): Parsed {
  if (argv.length === 0) return { ok: false, error: "no command given" };
  let help = false;
  let version = false;
  let json = false;
  let allEmails = false;
  let logins = false;
  let maxBytes = DEFAULT_MAX_EXPORT_BYTES;
  let command: string | undefined;
  const files: string[] = [];
  let optionsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (optionsDone || arg === "-" || !arg.startsWith("-")) {
      if (command === undefined) command = arg;
      else files.push(arg);
      continue;
    }
    if (arg === "--") {
      optionsDone = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
    const inline = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : undefined;
    if (inline !== undefined && name !== "--max-bytes") return { ok: false, error: `option ${name} takes no value` };
    switch (name) {
      case "-h":
      case "--help":
        help = true;
        break;
      case "-V":
      case "--version":
        version = true;
        break;
      case "--json":
        json = true;
        break;
      case "--match-all-emails":
        allEmails = true;
        break;
      case "--match-logins":
        logins = true;
        break;
      case "--max-bytes": {
        const value = inline ?? argv[++i];
        if (value === undefined) return { ok: false, error: "option --max-bytes needs a size (e.g. 100MB)" };
        const size = parseSize(value);
        if (size === null) return { ok: false, error: `option --max-bytes: "${value}" is not a size (e.g. 104857600, 500KB, 100MB, 1GB)` };
        maxBytes = size;
        break;
      }
      default:
        return { ok: false, error: `unknown option ${name}` };
    }
  }
  if (help || command === "help") return { ok: true, command: { kind: "help" } };
  if (version) return { ok: true, command: { kind: "version" } };
  if (command === undefined) return { ok: false, error: "no command given" };
  if (command !== "validate" && command !== "report") return { ok: false, error: `unknown command "${command}"` };
  if (files.length === 0) return { ok: false, error: `${command}: no FILE given` };
  if (command === "validate") {
    const misplaced = json ? "--json" : allEmails ? "--match-all-emails" : logins ? "--match-logins" : null;
    if (misplaced) return { ok: false, error: `option ${misplaced} applies to report, not validate` };
    return { ok: true, command: { kind: "validate", files, maxBytes } };
  }
  return { ok: true, command: { kind: "report", files, maxBytes, json, allEmails, logins } };
}

export const USAGE = `Usage:
  license-sync validate [--max-bytes SIZE] FILE...
  license-sync report [--json] [--match-all-emails] [--match-logins] [--max-bytes SIZE] FILE...
  license-sync upload --repo OWNER/NAME [--wait] FILE...   (license-sync upload --help)
  license-sync --help | --version`;

export const HELP = `license-sync: check GHES license-usage exports (and GitHub's GHEC license report) and count
the seats they consume together.

${USAGE}

Commands:
  validate FILE...   Check each export against the format. Prints "FILE: ok" with its instance on
                     stdout for a valid file; errors and warnings go to stderr, each naming its file
                     and JSON path (e.g. users[12].emails[0].email).
  report FILE...     Count seats across the exports: people with accounts on several instances are
                     counted once. With a GHEC license report among the files, also the enterprise
                     figures (GHES and GHEC together, next to GitHub's own). Prints a table, or one
                     JSON object with --json. If any file is invalid, nothing is printed on stdout
                     and every file's errors go to stderr.
  upload FILE...     Commit exports to the ledger repository, where the app records them
                     (options: license-sync upload --help).

Options:
  --json               report: print exactly one JSON object on stdout (seats, accounts,
                       deduplicated, instances, overlaps, spans, unmatched, possible_savings, options;
                       enterprise when a GHEC license report is given).
  --match-all-emails   report: every address of an account is an identity, not only the primary.
  --match-logins       report: the lower-cased login is an identity too (one directory for all logins).
  --max-bytes SIZE     Largest export accepted, uncompressed (default 100MB). SIZE is bytes or a
                       number with KB, MB or GB (1KB = 1024 bytes). Also --max-bytes=SIZE.
  -h, --help           Show this help.
  -V, --version        Show the version.
  --                   Everything after it is a FILE, even if it starts with "-".

Files:
  FILE is a license-usage export, as JSON (.json) or gzip-compressed JSON (.json.gz; detected from
  the content, not the name). Export it unencrypted on the GHES appliance:
  \`ghe-license-usage --unencrypted\` (GHES 3.12 and older) or \`ghe-license usage --unencrypted\`.
  Files are read one at a time. A later file with the same instance server_id replaces an earlier
  one, as a later upload does.
  FILE may also be the enterprise's GHEC license report, mixed with the exports in any order:
  the CSV (.csv or .csv.gz; GHEC enterprise → Settings → Enterprise licensing → Export license
  usage) or the JSON of GET /enterprises/ENTERPRISE/consumed-licenses (one page, or the array of
  pages \`gh api --paginate --slurp\` saves). Only the last report given counts.

Matching:
  Accounts with the same primary e-mail (trimmed, Unicode NFC, lower-cased) are one person, across
  and within instances, transitively. An account with no identity is a person of its own (counted
  as "unmatched"). Seats = persons; deduplicated = accounts - seats. "Possible savings" lists logins
  carried by different persons on different instances: probably one person whom matching missed.
  A GHEC member is the same person as every GHES account whose identity equals one of its
  verified-domain e-mails or its SAML NameID (with --match-logins: its login), and as every account
  GitHub links to it (enterprise_server_user_ids host:id). Enterprise seats = persons over both
  sides minus those covered by a Visual Studio subscription.

Exit codes:
  0  success (validate: every file is valid)
  1  a file is invalid, missing, unreadable or too large
  2  usage error: unknown command or option, bad option value, or no FILE`;
