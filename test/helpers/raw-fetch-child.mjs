// Run by test/github/raw-fetch.test.ts in a process of its own: nock, once loaded in a jest worker,
// hooks node:http there for good (an earlier test file's hook fails every later request), so
// rawFetch (argv[2]: raw-fetch.ts transpiled) meets a real local server only here. Prints one JSON line.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { request } from "@octokit/request";

const { rawFetch } = await import(process.argv[2]);
const sha = (b) => createHash("sha256").update(b).digest("hex");
const big = Buffer.alloc(5 * 1024 * 1024 + 7);
for (let i = 0, x = 2463534242; i < big.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; big[i] = x & 0xff; }
const text = Buffer.from(big.subarray(0, 1536 * 1024).toString("hex"));
const seen = [];
let endlessClosedEarly = null;
const routes = {
  raw: (res) => res.writeHead(200, { "content-type": "application/vnd.github.raw", "content-length": big.length }).end(big),
  gz: (res) => { const gz = gzipSync(text); res.writeHead(200, { "content-encoding": "gzip", "content-length": gz.length }).end(gz); },
  br: (res) => res.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync(text)),
  deflate: (res) => res.writeHead(200, { "content-encoding": "deflate" }).end(deflateSync(text)),
  chunked: (res) => { res.writeHead(200); for (let i = 0; i < text.length; i += 100_000) res.write(text.subarray(i, i + 100_000)); res.end(); },
  moved: (res, port) => res.writeHead(301, { location: `http://127.0.0.1:${port}/raw` }).end(),
  empty: (res) => res.writeHead(204).end(),
  endless: (res) => {
    res.writeHead(200);
    let sent = 0;
    res.on("close", () => (endlessClosedEarly = !res.writableEnded));
    const more = () => {
      while (sent < 64 * 1024 * 1024 && res.write(Buffer.alloc(16 * 1024))) sent += 16 * 1024;
      if (sent >= 64 * 1024 * 1024) res.end();
    };
    res.on("drain", more);
    more();
  },
};
const server = createServer((req, res) => {
  seen.push({ url: req.url, accept: req.headers.accept, encoding: req.headers["accept-encoding"], auth: req.headers.authorization });
  const route = routes[req.url.slice(1)];
  if (!route) return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
  route(res, server.address().port);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;
// Octokit's own request path (fetchWrapper), as readBlobWithin uses it: the body as a stream.
const get = request.defaults({ baseUrl: base, headers: { authorization: "token t" }, request: { fetch: rawFetch, parseSuccessResponseBody: false } });
async function bytesOf(stream) {
  const parts = [];
  for (const reader = stream.getReader(); ;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(parts);
    parts.push(value);
  }
}
const out = {};
const r1 = await get("GET /raw", { headers: { accept: "application/vnd.github.raw+json" } });
out.raw = { status: r1.status, length: r1.headers["content-length"], same: sha(await bytesOf(r1.data)) === sha(big) };
for (const k of ["gz", "br", "deflate", "chunked"]) out[k] = sha(await bytesOf((await get(`GET /${k}`)).data)) === sha(text);
out.moved = sha(await bytesOf((await get("GET /moved")).data)) === sha(big);
out.missing = await get("GET /missing").then(() => "resolved", (e) => ({ status: e.status, message: e.message }));
const empty = await rawFetch(`${base}/empty`, { method: "DELETE" });
out.empty = { status: empty.status, body: empty.body };
const full = await rawFetch(`${base}/raw`);
out.fetchLike = { ok: full.ok, url: full.url, type: full.headers.get("content-type"), same: sha(Buffer.from(await full.arrayBuffer())) === sha(big) };
const endless = await rawFetch(`${base}/endless`);
const reader = endless.body.getReader();
for (let n = 0; n < 256 * 1024; ) n += (await reader.read()).value.byteLength;
await reader.cancel();
await new Promise((r) => setTimeout(r, 200));
out.endlessClosedEarly = endlessClosedEarly;
out.refused = await rawFetch("http://127.0.0.1:1/x").then(() => "resolved", (e) => e instanceof Error);
out.seen = seen;
server.closeAllConnections();
server.close();
process.stdout.write(JSON.stringify(out) + "\n");
