// readBlobWithin as production runs it: the app's Octokit with no fetch of its own, so blobs come over
// node:http (raw-fetch.ts), here from a real local server (nock's node:http interception is not
// usable across test files in one jest worker).
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import nock from "nock";
import type { Context } from "probot";
import { readBlob, readBlobWithin } from "../../src/github/push-files.js";
import { AppOctokit } from "../../src/github/octokit.js";
import { rawFetch } from "../../src/github/raw-fetch.js";

const REPO = { owner: "acme", repo: "license-usage" };
const RAW = "application/vnd.github.raw; charset=utf-8";

function binary(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

type Handler = (res: ServerResponse, headers: IncomingHttpHeaders) => void;
const routes = new Map<string, Handler>();
const seen: IncomingHttpHeaders[] = [];
let server: Server;
let base: string;
/** Whether the endless blob's response was closed before it ended (the reader cancelled). */
let endlessClosedEarly = false;

beforeAll(async () => {
  nock.restore(); // real sockets on loopback only (an earlier test file's nock may still hook node:http)
  server = createServer((req, res) => {
    seen.push(req.headers);
    const sha = /\/git\/blobs\/(\w+)$/.exec(req.url ?? "")?.[1] ?? "";
    const handler = routes.get(sha);
    if (!handler) return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
    handler(res, req.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  nock.activate();
});

const octokit = () =>
  new AppOctokit({ auth: { token: "ghs_test" }, baseUrl: base, retry: { enabled: false }, throttle: { enabled: false } }) as unknown as Context["octokit"];

describe("readBlobWithin over node:http (no fetch given to the client)", () => {
  it("reads a raw blob of declared length, asking for the raw media type with the client's token", async () => {
    const big = binary(5 * 1024 * 1024 + 7);
    routes.set("b1", (res) => res.writeHead(200, { "content-type": RAW, "content-length": big.length }).end(big));
    seen.length = 0;
    const bytes = await readBlob(octokit(), REPO, "b1");
    expect(Buffer.compare(Buffer.from(bytes), big)).toBe(0);
    expect(seen[0]!.accept).toBe("application/vnd.github.raw+json");
    expect(seen[0]!.authorization).toBe("token ghs_test");
    // as Node's fetch asks (a server that compresses sends fewer bytes)
    expect(seen[0]!["accept-encoding"]).toBe("gzip, deflate, br");
  });

  it("decodes a compressed body longer than its declared length, and reads one with no length", async () => {
    const text = Buffer.from(binary(1536 * 1024).toString("hex"));
    const gz = gzipSync(text);
    routes.set("gz", (res) => res.writeHead(200, { "content-type": RAW, "content-encoding": "gzip", "content-length": gz.length }).end(gz));
    expect(Buffer.compare(Buffer.from(await readBlob(octokit(), REPO, "gz")), text)).toBe(0);
    routes.set("chunked", (res) => {
      res.writeHead(200, { "content-type": RAW });
      for (let i = 0; i < text.length; i += 100_000) res.write(text.subarray(i, i + 100_000));
      res.end();
    });
    expect(Buffer.compare(Buffer.from(await readBlob(octokit(), REPO, "chunked")), text)).toBe(0);
  });

  it("refuses a declared length over the cap, and stops an undeclared one past it, closing the download", async () => {
    routes.set("long", (res) => res.writeHead(200, { "content-type": RAW, "content-length": 2048 }).end(Buffer.alloc(2048)));
    expect(await readBlobWithin(octokit(), REPO, "long", 1024)).toBeNull();
    routes.set("endless", (res) => {
      res.writeHead(200, { "content-type": RAW });
      let sent = 0;
      res.on("close", () => (endlessClosedEarly = !res.writableEnded));
      const more = () => {
        while (sent < 64 * 1024 * 1024 && res.write(Buffer.alloc(16 * 1024))) sent += 16 * 1024;
        if (sent >= 64 * 1024 * 1024) res.end();
      };
      res.on("drain", more);
      more();
    });
    expect(await readBlobWithin(octokit(), REPO, "endless", 256 * 1024)).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(endlessClosedEarly).toBe(true);
  });

  it("understands the JSON form (base64) and fails loudly on JSON that is no blob", async () => {
    const big = binary(300_000);
    routes.set("json", (res) => res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ encoding: "base64", content: big.toString("base64") })));
    expect(Buffer.compare(Buffer.from(await readBlob(octokit(), REPO, "json")), big)).toBe(0);
    routes.set("other", (res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ message: "something else" })));
    await expect(readBlob(octokit(), REPO, "other")).rejects.toThrow('unexpected blob encoding "undefined"');
  });

  it("passes errors through as Octokit request errors, and follows a redirect (a renamed repository)", async () => {
    await expect(readBlob(octokit(), REPO, "missing")).rejects.toMatchObject({ status: 404, message: expect.stringContaining("Not Found") });
    const bytes = binary(70_000);
    routes.set("moved", (res) => res.writeHead(301, { location: `${base}/repos/acme/renamed/git/blobs/target` }).end());
    routes.set("target", (res) => res.writeHead(200, { "content-type": RAW, "content-length": bytes.length }).end(bytes));
    expect(Buffer.compare(Buffer.from(await readBlob(octokit(), REPO, "moved")), bytes)).toBe(0);
  });
});

describe("rawFetch", () => {
  it("answers as fetch does: status, headers, url, a body of the bytes sent, and none for 204", async () => {
    const body = binary(200_000);
    routes.set("r1", (res) => res.writeHead(200, { "content-type": RAW, "x-one": "1" }).end(body));
    const r = await rawFetch(`${base}/repos/a/b/git/blobs/r1`, { headers: { accept: "x/y" } });
    expect([r.status, r.ok, r.headers.get("x-one"), r.url]).toEqual([200, true, "1", `${base}/repos/a/b/git/blobs/r1`]);
    expect(Buffer.compare(Buffer.from(await r.arrayBuffer()), body)).toBe(0);
    routes.set("empty", (res) => res.writeHead(204).end());
    const empty = await rawFetch(`${base}/repos/a/b/git/blobs/empty`, { method: "DELETE" });
    expect([empty.status, empty.body]).toEqual([204, null]);
  });

  it("fails as fetch does when nothing answers, and decodes brotli and deflate", async () => {
    await expect(rawFetch("http://127.0.0.1:1/x")).rejects.toThrow();
    const text = Buffer.from("a brotli and deflate body ".repeat(5000));
    routes.set("br", (res) => res.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync(text)));
    routes.set("deflate", (res) => res.writeHead(200, { "content-encoding": "deflate" }).end(deflateSync(text)));
    for (const sha of ["br", "deflate"]) {
      const r = await rawFetch(`${base}/repos/a/b/git/blobs/${sha}`);
      expect(Buffer.compare(Buffer.from(await r.arrayBuffer()), text)).toBe(0);
    }
  });
});
