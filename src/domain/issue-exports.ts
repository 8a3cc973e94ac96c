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

const EXPORT_NAME = /\.json(\.gz)?$/i;
// user-attachments/files/<id>/<name>, or <owner>/<repo>/files/<id>/<name> (the older form).
const ATTACHMENT_PATH = /^\/(?:user-attachments|[\w.-]+\/[\w.-]+)\/files\/\d+\/[^/]+$/;
// Fence lines, matched one line at a time: a whole-text regex for "opening … closing" backtracks
// quadratically on many unclosed fences, which anyone who can comment could post.
const OPENING_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const CLOSING_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
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

/** An export-looking object: has `users` or `instance`. */
function looksLikeExport(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text.replace(/^\uFEFF/, ""));
    return typeof v === "object" && v !== null && !Array.isArray(v) && ("users" in v || "instance" in v);
  } catch {
    // Broken JSON that was clearly meant as an export still goes to validation, which names the error.
    return /"(users|instance)"\s*:/.test(text);
  }
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
      const m = OPENING_FENCE.exec(line);
      if (m && nl !== -1) open = { fence: m[1]!, lang: m[2]!, start: lineStart, bodyStart: lineEnd + 1 };
    } else {
      const m = CLOSING_FENCE.exec(line);
      if (m && m[1]![0] === open.fence[0] && m[1]!.length >= open.fence.length) {
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
  const text = (markdown ?? "").replace(/\r\n?/g, "\n");
  const blocks: InlineBlock[] = [];
  let outside = "";
  let last = 0;
  let n = 0;
  for (const block of fencedBlocks(text)) {
    outside += text.slice(last, block.start) + "\n";
    last = block.end;
    if (block.lang.toLowerCase() !== "json") continue;
    if (looksLikeExport(block.body)) blocks.push({ name: `${origin} block ${++n}`, text: block.body });
  }
  outside += text.slice(last);

  const attachments: AttachmentLink[] = [];
  const ignored: IgnoredLink[] = [];
  const seen = new Set<string>();
  for (const m of outside.matchAll(URL_IN_TEXT)) {
    const raw = m[0].replace(/[.,;:!?]+$/, "");
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

export function hasAnything(found: FoundExports): boolean {
  return found.attachments.length > 0 || found.blocks.length > 0 || found.ignored.length > 0;
}
