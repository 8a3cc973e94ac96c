// Downloads an issue attachment safely. GitHub has no API for attachments, so this is a plain
// HTTP download, guarded against server-side request forgery: only attachment links on a GitHub
// host are fetched, redirects are followed by hand to GitHub's own storage hosts only, the
// installation token never leaves github.com / GHE_HOST, and size and time are capped.
import { isAttachmentLink, isGitHubWebHost, type GitHubHosts } from "../domain/issue-exports.js";

export interface DownloadOptions extends GitHubHosts {
  /** Installation token, sent to github.com / GHE_HOST only. Null downloads anonymously. */
  token: string | null;
  /** Extra allowed hosts (ATTACHMENT_HOSTS): exact `host[:port]`, or `*.suffix`. */
  extraHosts: string[];
  timeoutMs: number;
  /** Largest body accepted, in bytes (compressed size for .gz; the ledger caps the inflated size). */
  maxBytes: number;
  maxRedirects?: number;
  /** For tests. */
  fetch?: typeof fetch;
}

export type DownloadFailure =
  | { reason: "not-an-attachment" }
  /** GitHub answered 404 / 403 / 401: typical of private repositories and app tokens. */
  | { reason: "not-found"; status: number }
  /** A 200 with an HTML page (GitHub's sign-in page): the file was not served, as with not-found. */
  | { reason: "sign-in-page" }
  | { reason: "redirect-refused"; host: string }
  | { reason: "too-many-redirects" }
  | { reason: "too-large"; limit: number }
  | { reason: "timeout" }
  | { reason: "http-error"; status: number }
  | { reason: "network-error" };

export type DownloadResult = { ok: true; bytes: Uint8Array; finalHost: string } | ({ ok: false } & DownloadFailure);

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// GitHub's signed asset buckets, e.g. github-production-user-asset-6210df.s3.amazonaws.com.
const SIGNED_S3 = /^github-production-[a-z0-9-]+\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/;

function matchesPattern(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith("*.")) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
}

/** May a redirect lead to this URL? GitHub's hosts, its storage hosts, the GHE host, and the configured list. */
export function isAllowedDownloadUrl(url: URL, opts: GitHubHosts & { extraHosts: string[] }): boolean {
  if (url.username || url.password) return false;
  const host = url.host.toLowerCase();
  const isGhe = opts.gheHost !== null && host === opts.gheHost;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isGhe && opts.gheProtocol === "http")) return false;
  if (isGitHubWebHost(host, opts)) return true;
  // Default port only for GitHub's storage hosts: a port in the URL changes the host string.
  if (host.endsWith(".githubusercontent.com") || SIGNED_S3.test(host)) return true;
  return opts.extraHosts.some((p) => matchesPattern(host, p));
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // nothing to release
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Downloads one attachment link. Never throws for network or HTTP problems: they are results. */
export async function downloadAttachment(link: string, opts: DownloadOptions): Promise<DownloadResult> {
  if (!isAttachmentLink(link, opts)) return { ok: false, reason: "not-an-attachment" };
  const doFetch = opts.fetch ?? fetch;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const origin = new URL(link);
  const maxRedirects = opts.maxRedirects ?? 5;
  let url = origin;
  try {
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { accept: "application/octet-stream, application/json, */*" };
      // The token goes to the app's own GitHub host only (github.com, or GHE_HOST when set: a GHES
      // token means nothing to github.com), never to where a redirect leads.
      if (opts.token && url.origin === origin.origin && url.host.toLowerCase() === (opts.gheHost ?? "github.com")) {
        headers.authorization = `token ${opts.token}`;
      }
      const res = await doFetch(url, { redirect: "manual", headers, signal });
      if (REDIRECTS.has(res.status)) {
        await discard(res);
        const location = res.headers.get("location");
        if (!location) return { ok: false, reason: "http-error", status: res.status };
        if (hop >= maxRedirects) return { ok: false, reason: "too-many-redirects" };
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return { ok: false, reason: "http-error", status: res.status };
        }
        if (!isAllowedDownloadUrl(next, opts)) return { ok: false, reason: "redirect-refused", host: next.host };
        url = next;
        continue;
      }
      if (res.status === 404 || res.status === 403 || res.status === 401) {
        await discard(res);
        return { ok: false, reason: "not-found", status: res.status };
      }
      if (res.status < 200 || res.status >= 300) {
        await discard(res);
        return { ok: false, reason: "http-error", status: res.status };
      }
      // An export is JSON or gzip, never HTML: an HTML page is GitHub asking to sign in.
      if (/^\s*text\/html\b/i.test(res.headers.get("content-type") ?? "")) {
        await discard(res);
        return { ok: false, reason: "sign-in-page" };
      }
      const length = Number(res.headers.get("content-length"));
      if (Number.isFinite(length) && length > opts.maxBytes) {
        await discard(res);
        return { ok: false, reason: "too-large", limit: opts.maxBytes };
      }
      const bytes = await readCapped(res, opts.maxBytes);
      if (bytes === null) return { ok: false, reason: "too-large", limit: opts.maxBytes };
      return { ok: true, bytes, finalHost: url.host };
    }
  } catch (err) {
    if (signal.aborted || (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"))) {
      return { ok: false, reason: "timeout" };
    }
    return { ok: false, reason: "network-error" };
  }
}
