// The designated repository's own settings, read from .github/license-sync.yml. Pure: the caller
// parses the YAML; this validates the object, fills in defaults and names every wrong key.
import type { MatchOptions } from "./types.js";

export const CONFIG_FILE = "license-sync.yml";
export const CONFIG_PATH = `.github/${CONFIG_FILE}`;

export const DEFAULT_EXPORT_PATHS: readonly string[] = Object.freeze([
  "license-usage/**/*.json",
  "license-usage/**/*.json.gz",
  // GHEC license reports (CSV), from the enterprise's licensing page.
  "license-usage/**/*.csv",
  "license-usage/**/*.csv.gz",
]);
export const DEFAULT_STALE_AFTER_DAYS = 35;
export const DEFAULT_DASHBOARD_TITLE = "License usage dashboard";
export const DEFAULT_CLOUD_REFRESH_HOURS = 24;

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
  /** The ledger's dashboard issue, kept current by the app. */
  dashboard: { enabled: boolean; title: string };
  /** GHEC enterprise slug whose license report the app fetches itself; null = no live fetch. */
  enterprise: string | null;
  /** The live report is fetched again once the stored cloud report is this old. */
  cloudRefreshHours: number;
}

/** One wrong key: `key` is its dotted path in the file (`match.logins`), `message` plain words. */
export interface ConfigError {
  key: string;
  message: string;
}

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; errors: ConfigError[] };

type Read<T> = { ok: true; value: T } | { ok: false; errors: ConfigError[] };

/** A kind of value: how it is read (with the error wording) and its JSON Schema. */
interface ValueType<T> {
  schema: Record<string, unknown>;
  read(value: unknown, key: string): Read<T>;
}

/**
 * One key of .github/license-sync.yml. The parser, the defaults, the JSON Schema
 * (schema/license-sync-config.schema.json) and the README's table are all derived from CONFIG_KEYS.
 */
export interface ConfigKey<T = unknown> {
  /** Dotted path in the file (`match.logins`); a parent (`match`) is a `section` key. */
  name: string;
  type: ValueType<T>;
  /** The value used when the key is absent, as written in the file; null = none. */
  default: T | null;
  /** How the README words the default when it is not a literal value. */
  defaultText?: string;
  meaning: string;
  /** YAML `null` (a key written with no value) means the default. */
  nullable?: boolean;
  /** Stores a valid value in the config. */
  set(config: RepoConfig, value: T): void;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return typeof v === "string" ? "text" : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const fail = (key: string, message: string): Read<never> => ({ ok: false, errors: [{ key, message }] });

const globs: ValueType<string[]> = {
  schema: {
    oneOf: [
      { type: "string", minLength: 1 },
      { type: "array", items: { type: "string", minLength: 1 }, minItems: 1 },
    ],
  },
  read(value, key) {
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.length === 0) return fail(key, `expected a glob or a non-empty list of globs, got ${typeName(value)}`);
    const out: string[] = [];
    const errors: ConfigError[] = [];
    list.forEach((g, i) => {
      const problem = typeof g !== "string" ? `expected text, got ${typeName(g)}` : globProblem(g);
      if (problem) errors.push({ key: `${key}[${i}]`, message: problem });
      else out.push(normalizeGlob(g as string));
    });
    return errors.length ? { ok: false, errors } : { ok: true, value: out };
  },
};

const branchName: ValueType<string> = {
  schema: { type: "string", pattern: "^\\s*(refs/heads/)?\\S+\\s*$" },
  read(value, key) {
    if (typeof value !== "string" || !value.trim() || /\s/.test(value.trim())) return fail(key, `expected a branch name, got ${typeName(value)}`);
    return { ok: true, value: value.trim().replace(/^refs\/heads\//, "") };
  },
};

const boolean: ValueType<boolean> = {
  schema: { type: "boolean" },
  read: (value, key) => (typeof value === "boolean" ? { ok: true, value } : fail(key, `expected true or false, got ${typeName(value)}`)),
};

/** A positive whole number; `unit` words the error ("of days"). */
function wholeNumber(unit?: string): ValueType<number> {
  return {
    schema: { type: "integer", minimum: 1 },
    read(value, key) {
      if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return { ok: true, value };
      const got = typeof value === "number" ? value : typeName(value);
      return fail(key, `expected a positive whole number${unit ? ` of ${unit}` : ""}, got ${got}`);
    },
  };
}

/** One line of text, e.g. an issue title (GitHub's limit is 256 characters). */
function line(maxLength: number): ValueType<string> {
  return {
    schema: { type: "string", minLength: 1, maxLength, pattern: "^[^\\r\\n]*\\S[^\\r\\n]*$" },
    read(value, key) {
      if (typeof value !== "string" || !value.trim() || /[\r\n]/.test(value)) return fail(key, `expected one line of text, got ${typeName(value)}`);
      if (value.length > maxLength) return fail(key, `expected at most ${maxLength} characters, got ${value.length}`);
      return { ok: true, value: value.trim() };
    },
  };
}

/** A mapping of sub-keys (declared as `name.sub`); `switchable`: `true`/`false` is accepted too. */
function section(switchable: boolean): ValueType<boolean | Record<string, unknown>> {
  return {
    schema: { type: switchable ? ["boolean", "object"] : "object" },
    read(value, key) {
      if (isPlainObject(value) || (switchable && typeof value === "boolean")) return { ok: true, value };
      const subs = CONFIG_KEYS.filter((k) => parentOf(k.name) === key).map((k) => leafOf(k.name));
      return fail(key, `expected ${switchable ? "true, false or " : ""}a mapping with ${subs.join(", ")}, got ${typeName(value)}`);
    },
  };
}

/** An enterprise slug: letters, digits and single hyphens, as GitHub makes them from the name. */
const enterpriseSlug: ValueType<string> = {
  schema: { type: "string", pattern: "^\\s*[A-Za-z0-9]+(-[A-Za-z0-9]+)*\\s*$" },
  read(value, key) {
    if (typeof value === "string" && /^[a-z0-9]+(?:-[a-z0-9]+)*$/i.test(value.trim())) return { ok: true, value: value.trim().toLowerCase() };
    const got = typeof value === "string" ? "text that is not a slug" : typeName(value);
    return fail(key, `expected the enterprise's slug (as in github.com/enterprises/<slug>), got ${got}`);
  },
};

const key = <T>(k: ConfigKey<T>): ConfigKey => k as unknown as ConfigKey;

/** Every key of .github/license-sync.yml, in the order the README lists them. */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze([
  key({
    name: "paths",
    type: globs,
    default: [...DEFAULT_EXPORT_PATHS],
    meaning:
      "Globs (one or a list) of the files that hold exports and the GHEC license report, from the repository root. `**` spans any number of folders (none included), `*` and `?` stay within one name.",
    set: (c, v) => (c.paths = v),
  }),
  key({
    name: "branch",
    type: branchName,
    default: null,
    defaultText: "the repository's default branch",
    meaning: "Pushes to this branch are recorded; pull requests into it get a check run.",
    set: (c, v) => (c.branch = v),
  }),
  key({ name: "match", type: section(false), default: null, defaultText: "", nullable: true, meaning: "How accounts are matched into people.", set: () => {} }),
  key({
    name: "match.all_emails",
    type: boolean,
    default: false,
    meaning: "Every address of an account identifies the person, not only its primary e-mail.",
    set: (c, v) => (c.match.allEmails = v),
  }),
  key({
    name: "match.logins",
    type: boolean,
    default: false,
    meaning: "The (lower-cased) login identifies the person too, for fleets whose logins come from one directory.",
    set: (c, v) => (c.match.logins = v),
  }),
  key({
    name: "purchased_seats",
    type: wholeNumber(),
    default: null,
    nullable: true,
    meaning: "Seats bought; the summary warns when consumption exceeds it.",
    set: (c, v) => (c.purchasedSeats = v),
  }),
  key({
    name: "stale_after_days",
    type: wholeNumber("days"),
    default: DEFAULT_STALE_AFTER_DAYS,
    meaning: "An instance whose last upload is older than this is flagged stale in the summary.",
    set: (c, v) => (c.staleAfterDays = v),
  }),
  key({
    name: "show_logins_in_savings",
    type: boolean,
    default: false,
    meaning: 'List the logins behind "possible savings" (otherwise counts only).',
    set: (c, v) => (c.showLoginsInSavings = v),
  }),
  key({
    name: "close_issues_when_recorded",
    type: boolean,
    default: false,
    meaning: "Issue path: close an issue once every export in it was recorded.",
    set: (c, v) => (c.closeIssuesWhenRecorded = v),
  }),
  key({
    name: "dashboard",
    type: section(true),
    default: true,
    nullable: true,
    meaning: "The dashboard issue the app keeps current (summary, charts, what to do next). `false` turns it off.",
    set: (c, v) => (c.dashboard.enabled = v !== false),
  }),
  key({
    name: "dashboard.title",
    type: line(256),
    default: DEFAULT_DASHBOARD_TITLE,
    meaning: "Title of the dashboard issue (the app finds its issue by a hidden marker, not by the title).",
    set: (c, v) => (c.dashboard.title = v),
  }),
  key({
    name: "enterprise",
    type: enterpriseSlug,
    default: null,
    nullable: true,
    meaning:
      "Slug of the GHEC enterprise (`github.com/enterprises/<slug>`): the app fetches its license report from GitHub itself (see \"Live from GitHub\").",
    set: (c, v) => (c.enterprise = v),
  }),
  key({
    name: "cloud_refresh_hours",
    type: wholeNumber("hours"),
    default: DEFAULT_CLOUD_REFRESH_HOURS,
    meaning: "With `enterprise`: a summary fetches the report again once the stored one (or the last try) is this old.",
    set: (c, v) => (c.cloudRefreshHours = v),
  }),
]);

function parentOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(0, dot);
}

function leafOf(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

export function defaultRepoConfig(): RepoConfig {
  return {
    paths: [...DEFAULT_EXPORT_PATHS],
    branch: null,
    match: { allEmails: false, logins: false },
    purchasedSeats: null,
    staleAfterDays: DEFAULT_STALE_AFTER_DAYS,
    showLoginsInSavings: false,
    closeIssuesWhenRecorded: false,
    dashboard: { enabled: true, title: DEFAULT_DASHBOARD_TITLE },
    enterprise: null,
    cloudRefreshHours: DEFAULT_CLOUD_REFRESH_HOURS,
  };
}

function unknownKey(key: string, known: readonly string[], prefix = ""): ConfigError {
  const close = known.find((k) => editDistance(k, key) <= 2);
  const hint = close ? ` (did you mean \`${prefix}${close}\`?)` : "";
  return { key: prefix + key, message: `unknown key${hint}; known keys: ${known.map((k) => prefix + k).join(", ")}` };
}

function editDistance(a: string, b: string): number {
  // Keys longer than any known key by more than 2 cannot be close: no quadratic work on hostile keys.
  if (Math.abs(a.length - b.length) > 2) return Infinity;
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

/** Reads the keys of one mapping level (`parent` "" = the file), recursing into sections. */
function readLevel(raw: Record<string, unknown>, parent: string, config: RepoConfig, errors: ConfigError[]): void {
  const here = CONFIG_KEYS.filter((k) => parentOf(k.name) === parent);
  const prefix = parent ? `${parent}.` : "";
  for (const [name, value] of Object.entries(raw)) {
    const def = here.find((k) => leafOf(k.name) === name);
    if (!def) {
      errors.push(unknownKey(name, here.map((k) => leafOf(k.name)), prefix));
      continue;
    }
    if (value === null && def.nullable) continue;
    const got = def.type.read(value, def.name);
    if (!got.ok) {
      errors.push(...got.errors);
      continue;
    }
    def.set(config, got.value);
    if (isPlainObject(got.value) && CONFIG_KEYS.some((k) => parentOf(k.name) === def.name)) readLevel(got.value, def.name, config, errors);
  }
}

/** Validates the parsed YAML (null/undefined = empty file: all defaults). */
export function parseRepoConfig(raw: unknown): RepoConfigResult {
  const config = defaultRepoConfig();
  if (raw === null || raw === undefined) return { ok: true, config };
  if (!isPlainObject(raw)) {
    return { ok: false, errors: [{ key: "(file)", message: `expected a mapping of keys, got ${typeName(raw)}` }] };
  }
  const errors: ConfigError[] = [];
  readLevel(raw, "", config, errors);
  return errors.length ? { ok: false, errors } : { ok: true, config };
}

export const CONFIG_SCHEMA_ID = "urn:license-sync:schema:license-sync-config:1";

/** The JSON Schema of .github/license-sync.yml, derived from CONFIG_KEYS (published in schema/). */
export function configJsonSchema(): Record<string, unknown> {
  const level = (parent: string): Record<string, unknown> => {
    const properties: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS.filter((c) => parentOf(c.name) === parent)) {
      const prop: Record<string, unknown> = { description: k.meaning, ...k.type.schema };
      if (k.default !== null) prop.default = k.default;
      if (k.nullable && typeof prop.type === "string") prop.type = [prop.type, "null"];
      else if (k.nullable && Array.isArray(prop.type)) prop.type = [...(prop.type as string[]), "null"];
      else if (k.nullable) prop.oneOf = [...((prop.oneOf as unknown[]) ?? []), { type: "null" }];
      if (CONFIG_KEYS.some((c) => parentOf(c.name) === k.name)) Object.assign(prop, level(k.name));
      properties[leafOf(k.name)] = prop;
    }
    return { properties, additionalProperties: false };
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: CONFIG_SCHEMA_ID,
    title: "license-sync repository configuration",
    description: `The designated repository's ${CONFIG_PATH}. Every key is optional.`,
    type: "object",
    ...level(""),
  };
}

/** The README's configuration table (Key | Default | Meaning), derived from CONFIG_KEYS. */
export function configKeysMarkdown(): string {
  const rows = CONFIG_KEYS.filter((k) => !CONFIG_KEYS.some((c) => parentOf(c.name) === k.name) || k.type.schema.type !== "object").map((k) => {
    const dflt = k.defaultText ?? (k.default === null ? "none" : `\`${JSON.stringify(k.default).replace(/,/g, ", ")}\``);
    return `| \`${k.name}\` | ${dflt} | ${k.meaning} |`;
  });
  return ["| Key | Default | Meaning |", "|---|---|---|", ...rows].join("\n");
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
