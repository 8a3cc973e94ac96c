// The Octokit the app runs with: Probot's, plus one plugin. @octokit/request parses JSON bodies with
// json-with-bigint, which is ~50x slower than JSON.parse and gives up on a body holding a string of
// ~10 million characters (it returns the raw text instead). Trees, compares and blob bodies of real
// enterprises get that large, so every response body is read here as bytes and parsed with JSON.parse.
// And one more plugin: every write request's body passes one e-mail redaction on its way out.
import { ProbotOctokit } from "probot";
import { maskEmails } from "../log.js";

interface RequestOptions {
  method?: string;
  request?: { parseSuccessResponseBody?: boolean };
}
interface ResponseLike {
  headers: Record<string, string | number | undefined>;
  data: unknown;
}

function isJsonType(type: string): boolean {
  return type === "application/json" || type === "application/scim+json";
}

/** What @octokit/request would have made of the body, with JSON.parse for JSON. */
async function parseBody(body: ReadableStream<Uint8Array>, contentType: string | undefined): Promise<unknown> {
  const response = new Response(body);
  if (!contentType) return response.text();
  const [mime = "", ...params] = contentType.toLowerCase().split(";").map((s) => s.trim());
  if (isJsonType(mime)) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  const utf8 = params.some((p) => p.replace(/\s/g, "") === "charset=utf-8");
  if (mime.startsWith("text/") || (utf8 && mime !== "application/octet-stream")) return response.text();
  return response.arrayBuffer();
}

function isStream(data: unknown): data is ReadableStream<Uint8Array> {
  return typeof data === "object" && data !== null && typeof (data as ReadableStream).getReader === "function";
}

/** Octokit plugin: success bodies parsed with JSON.parse. A caller asking for the stream still gets it. */
type Request = (options: RequestOptions) => Promise<ResponseLike>;
interface Hookable {
  hook: { wrap(name: "request", wrapper: (request: Request, options: RequestOptions) => Promise<ResponseLike>): void };
}

export function plainJsonParsing(octokit: unknown): void {
  (octokit as Hookable).hook.wrap("request", async (request, options) => {
    if (options.method === "HEAD" || options.request?.parseSuccessResponseBody === false) return request(options);
    // Hooks registered before this one receive this same options object, not the argument.
    options.request = { ...options.request, parseSuccessResponseBody: false };
    const response = await request(options);
    if (isStream(response.data)) response.data = await parseBody(response.data, response.headers["content-type"] as string | undefined);
    return response;
  });
}

// Keys of a request's options that are not its body (the rest become the JSON body or the URL).
const NOT_BODY = new Set(["method", "baseUrl", "url", "headers", "request", "mediaType"]);
const WRITES = new Set(["POST", "PATCH", "PUT"]);

/** A copy of `value` with every string's e-mail addresses masked; the caller's objects are left alone. */
function redactDeep(value: unknown): unknown {
  if (typeof value === "string") return value.includes("@") ? maskEmails(value) : value;
  if (Array.isArray(value)) return value.map(redactDeep);
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
  }
  return value;
}

/**
 * Octokit plugin: one e-mail redaction where text leaves for GitHub. Comments, issue bodies, check
 * runs (output and annotations) are rendered redacted already; this is the net under all of them.
 */
export function redactOutgoing(octokit: unknown): void {
  (octokit as Hookable).hook.wrap("request", async (request, options) => {
    if (WRITES.has((options.method ?? "").toUpperCase())) {
      // Every hook sees this same (per-request) options object: replace its values, never the
      // caller's objects they came from.
      const fields = options as Record<string, unknown>;
      for (const key of Object.keys(fields)) if (!NOT_BODY.has(key)) fields[key] = redactDeep(fields[key]);
    }
    return request(options);
  });
}

export const AppOctokit = ProbotOctokit.plugin(plainJsonParsing, redactOutgoing);
