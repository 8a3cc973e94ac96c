// Finds the exports an issue or comment carries: attachment links on a GitHub host, and fenced
// ```json blocks holding an export. Pure: only URL parsing, nothing is fetched here.

/** Where GitHub serves attachments: github.com, or a GitHub Enterprise Server host. */
export interface GitHubHosts {
  /** GHE_HOST, lower-cased, with its port if any (e.g. "ghe.corp.example:8443"); null when none. */
  gheHost: string | null;
  /** GHE_PROTOCOL: plain http is accepted for the GHE host only. */
  gheProtocol: "https" | "http";
}

export interface AttachmentLink {
  /** The normalized URL (no credentials, no fragment). */
  url: string;
  /** The file name as shown to the user (decoded last path segment). */
  name: string;
}

export interface InlineBlock {
  /** "issue body block 1", "comment block 2", … */
  name: string;
  text: string;
}

export interface IgnoredLink {
  /** Host of the link (only the host is ever echoed back, never the full URL). */
  host: string;
  name: string;
  reason: "not-github-host" | "not-an-attachment" | "insecure-protocol";
}

export interface FoundExports {
  attachments: AttachmentLink[];
  blocks: InlineBlock[];
  /** Links that look like exports (.json / .json.gz) but will not be fetched. */
  ignored: IgnoredLink[];
}

// GHES exports (.json) and GHEC license reports (.csv, or the API's .json), maybe gzip-compressed.
const EXPORT_NAME = /\.(json|csv)(\.gz)?$/i;
// user-attachments/files/<id>/<name>, or <owner>/<repo>/files/<id>/<name> (the older form).
const ATTACHMENT_PATH = /^\/(?:user-attachments|[\w.-]+\/[\w.-]+)\/files\/\d+\/[^/]+$/;
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>()[\]"'`]+/gi;

/** True when `host` (URL.host form, port included) is github.com or the configured GHE host. */
export function isGitHubWebHost(host: string, hosts: GitHubHosts): boolean {
  const h = host.toLowerCase();
  return h === "github.com" || (hosts.gheHost !== null && h === hosts.gheHost);
}

function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Classifies one URL: an attachment link on a GitHub host (returned normalized), or the reason it
 * is ignored, or null when it does not even look like an export file.
 */
export function classifyLink(raw: string, hosts: GitHubHosts): AttachmentLink | IgnoredLink | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const last = url.pathname.split("/").pop() ?? "";
  const name = decodeName(last);
  if (!EXPORT_NAME.test(name)) return null;
  const host = url.host.toLowerCase();
  if (!isGitHubWebHost(host, hosts) || url.username || url.password) {
    return { host, name, reason: "not-github-host" };
  }
  const plainHttpAllowed = hosts.gheProtocol === "http" && hosts.gheHost !== null && host === hosts.gheHost;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && plainHttpAllowed)) {
    return { host, name, reason: "insecure-protocol" };
  }
  if (!ATTACHMENT_PATH.test(url.pathname)) return { host, name, reason: "not-an-attachment" };
  url.hash = "";
  return { url: url.toString(), name };
}

export function isAttachmentLink(raw: string, hosts: GitHubHosts): boolean {
  const c = classifyLink(raw, hosts);
  return c !== null && "url" in c;
}

/**
 * An export-looking object (has `users` or `instance`), or a GHEC license report in its API form
 * (`total_seats_consumed`, or `gh api --paginate --slurp`'s array of page objects).
 */
function looksLikeExport(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text.replace(/^\uFEFF/, ""));
    if (Array.isArray(v)) return v.length > 0 && v.every((p) => typeof p === "object" && p !== null && !Array.isArray(p));
    return typeof v === "object" && v !== null && ("users" in v || "instance" in v || "total_seats_consumed" in v);
  } catch {
    // Broken JSON that was clearly meant as an export still goes to validation, which names the error.
    return /"(users|instance|total_seats_consumed)"\s*:/.test(text);
  }
}

/**
 * Cheap rejection before any scan: a text that never says "json" or "csv" can hold neither a
 * ```json / ```csv block nor a .json / .csv (.gz) link. One indexOf-like pass, no backtracking.
 */
export function mayHoldExports(markdown: string | null | undefined): boolean {
  return markdown != null && /json|csv/i.test(markdown);
}

/** Trailing sentence punctuation is not part of a link ("see https://…/a.json."). Linear. */
export function stripTrailingPunctuation(raw: string): string {
  let end = raw.length;
  while (end > 0 && ".,;:!?".includes(raw[end - 1]!)) end--;
  return raw.slice(0, end);
}

/**
 * A fence line: up to 3 spaces, then 3 or more of one fence character. Read by hand, not by a
 * regex: the former `(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$` was cubic on a line of `~` ending in a
 * backtick (a 6,000-character comment blocked the event loop for 40 s).
 */
function fenceRun(line: string): { fence: string; rest: string } | null {
  let i = 0;
  while (i < 3 && line.charCodeAt(i) === 0x20) i++;
  const c = line[i];
  if (c !== "`" && c !== "~") return null;
  let j = i;
  while (line[j] === c) j++;
  if (j - i < 3) return null;
  return { fence: line.slice(i, j), rest: line.slice(j) };
}

/** An opening fence and its info word (the language); no backtick may follow the fence. */
function openingFence(line: string): { fence: string; lang: string } | null {
  const run = fenceRun(line);
  if (!run || run.rest.includes("`")) return null;
  const info = run.rest.replace(/^[ \t]+/, "");
  const space = info.search(/\s/);
  return { fence: run.fence, lang: space === -1 ? info : info.slice(0, space) };
}

function closesFence(line: string, fence: string): boolean {
  const run = fenceRun(line);
  return run !== null && run.fence[0] === fence[0] && run.fence.length >= fence.length && /^[ \t]*$/.test(run.rest);
}

/** A pasted GHEC license report CSV: its header row names GitHub's columns. */
function looksLikeCloudCsv(text: string): boolean {
  const nl = text.indexOf("\n");
  return /github/i.test(nl === -1 ? text : text.slice(0, nl));
}

interface FencedBlock {
  /** Offsets of the opening fence line's start and the closing fence line's end. */
  start: number;
  end: number;
  lang: string;
  body: string;
}

/**
 * Fenced code blocks, in one pass over the lines: a closing fence is the same character, at least
 * as long as the opening one. An unclosed fence is no block (its text stays outside, for links).
 */
function fencedBlocks(text: string): FencedBlock[] {
  const out: FencedBlock[] = [];
  let open: { fence: string; lang: string; start: number; bodyStart: number } | null = null;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const nl = text.indexOf("\n", lineStart);
    const lineEnd = nl === -1 ? text.length : nl;
    const line = text.slice(lineStart, lineEnd);
    if (open === null) {
      const m = nl === -1 ? null : openingFence(line);
      if (m) open = { ...m, start: lineStart, bodyStart: lineEnd + 1 };
    } else {
      if (closesFence(line, open.fence)) {
        if (lineStart > open.bodyStart) {
          out.push({ start: open.start, end: lineEnd, lang: open.lang, body: text.slice(open.bodyStart, lineStart - 1) });
        }
        open = null;
      }
    }
    if (nl === -1) break;
    lineStart = nl + 1;
  }
  return out;
}

/**
 * Finds exports in one Markdown text (an issue body or one comment). `origin` names inline blocks
 * ("issue body" → "issue body block 1").
 */
export function findExports(markdown: string | null | undefined, hosts: GitHubHosts, origin: string): FoundExports {
  if (!mayHoldExports(markdown)) return { attachments: [], blocks: [], ignored: [] };
  const text = (markdown ?? "").replace(/\r\n?/g, "\n");
  const blocks: InlineBlock[] = [];
  let outside = "";
  let last = 0;
  let n = 0;
  for (const block of fencedBlocks(text)) {
    outside += text.slice(last, block.start) + "\n";
    last = block.end;
    const lang = block.lang.toLowerCase();
    if (lang === "json" && looksLikeExport(block.body)) blocks.push({ name: `${origin} block ${++n}`, text: block.body });
    // The name tells the reader it is a CSV report.
    else if (lang === "csv" && looksLikeCloudCsv(block.body)) blocks.push({ name: `${origin} block ${++n}.csv`, text: block.body });
  }
  outside += text.slice(last);

  const attachments: AttachmentLink[] = [];
  const ignored: IgnoredLink[] = [];
  const seen = new Set<string>();
  for (const m of outside.matchAll(URL_IN_TEXT)) {
    const raw = stripTrailingPunctuation(m[0]);
    const c = classifyLink(raw, hosts);
    if (c === null) continue;
    const key = "url" in c ? c.url : `${c.host}/${c.name}/${c.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if ("url" in c) attachments.push(c);
    else ignored.push(c);
  }
  return { attachments, blocks, ignored };
}

/**
 * What `now` holds that `before` did not: the exports an edit added (attachments by URL, blocks by
 * content, ignored links by host and name). Blocks keep their names in `now`.
 */
export function addedExports(now: FoundExports, before: FoundExports): FoundExports {
  const ignoredKey = (i: IgnoredLink) => `${i.host}/${i.name}/${i.reason}`;
  const urls = new Set(before.attachments.map((a) => a.url));
  const texts = new Set(before.blocks.map((b) => b.text));
  const ignored = new Set(before.ignored.map(ignoredKey));
  return {
    attachments: now.attachments.filter((a) => !urls.has(a.url)),
    blocks: now.blocks.filter((b) => !texts.has(b.text)),
    ignored: now.ignored.filter((i) => !ignored.has(ignoredKey(i))),
  };
}

export function hasAnything(found: FoundExports): boolean {
  return found.attachments.length > 0 || found.blocks.length > 0 || found.ignored.length > 0;
}
