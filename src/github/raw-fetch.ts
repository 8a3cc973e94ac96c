// A fetch for big downloads (raw blobs), over node:http(s). Node's fetch (undici) copies every network
// chunk into a new Uint8Array on top of the socket's own buffer, and little else is allocated while a
// body streams in, so V8 collects neither until a later GC: a 21 MB blob held 2 to 3.7 times its size
// at the end of the download. node:http hands the socket's buffers on as they are (1 copy, not 2).
// Given to Octokit as `request.fetch`, so auth, headers and errors stay Octokit's.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

/** As fetch's defaults (undici's headers and body time-outs): a stalled connection fails, never hangs a push. */
const IDLE_MS = 300_000;

/** Statuses whose Response may not have a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** A web stream over a Node stream's chunks, as they are (Readable.toWeb copies each Buffer). */
function webStream(src: Readable): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(c) {
      src.on("data", (chunk: Buffer) => {
        if (!open) return;
        c.enqueue(chunk);
        if ((c.desiredSize ?? 0) <= 0) src.pause();
      });
      src.once("end", () => open && ((open = false), c.close()));
      src.once("error", (err) => open && ((open = false), c.error(err)));
    },
    pull() {
      src.resume();
    },
    cancel() {
      open = false;
      src.destroy();
    },
  });
}

/** The body decoded as fetch would (fetch asks for compression; a server may send it anyway). */
function decoded(res: IncomingMessage): Readable {
  const enc = String(res.headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder = enc === "gzip" || enc === "x-gzip" ? createGunzip() : enc === "deflate" ? createInflate() : enc === "br" ? createBrotliDecompress() : null;
  if (!decoder) return res;
  res.on("error", (err) => decoder.destroy(err));
  return res.pipe(decoder);
}

/**
 * fetch(url, init) for GET requests with a body read as a stream. A redirect is left to the global
 * fetch (it follows them, with its rules for credentials across origins): rare for the blobs API.
 */
export function rawFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const target = new URL(String(url));
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const headers = new Headers(init.headers);
  // As fetch asks: a server that compresses sends fewer bytes (decoded below).
  if (!headers.has("accept-encoding")) headers.set("accept-encoding", "gzip, deflate, br");
  return new Promise<Response>((resolve, reject) => {
    const req = send(target, { method: init.method ?? "GET", headers: Object.fromEntries(headers), signal: init.signal ?? undefined }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        resolve(globalThis.fetch(url, init));
        return;
      }
      const out = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      const body = NULL_BODY.has(status) ? (res.resume(), null) : webStream(decoded(res));
      const response = new Response(body, { status, statusText: res.statusMessage ?? "", headers: out });
      Object.defineProperty(response, "url", { value: target.href });
      resolve(response);
    });
    req.once("error", reject);
    req.setTimeout(IDLE_MS, () => req.destroy(new Error(`no data from ${target.host} for ${IDLE_MS / 1000} s`)));
    req.end();
  });
}
