// Blobs are read as raw bytes, and every JSON body is parsed with JSON.parse: @octokit/request's own
// parser (json-with-bigint) returns a body holding a ~10-million-character string as unparsed text,
// which is how a committed 21 MB export used to fail with `unexpected blob encoding "undefined"`.
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach, jest } from "@jest/globals";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import nock from "nock";
import type { Context } from "probot";
import { readBlob, readBlobWithin, readExportFiles, skippedResults } from "../../src/github/push-files.js";
import { API, TestOctokit } from "../helpers/probot.js";
import { blobReply, RAW_BLOB_TYPE, rawBlob } from "../helpers/exports.js";
import { endlessBody } from "../helpers/streams.js";

const REPO = { owner: "acme", repo: "license-usage" };
const BLOB = "/repos/acme/license-usage/git/blobs/b1";

const octokit = () => new TestOctokit({ auth: "ghs_test" }) as unknown as Context["octokit"];

/** Bytes that are not valid UTF-8 and compress poorly: a text decoder would mangle them. */
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

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("readBlob", () => {
  it("asks for the raw media type and returns the bytes as sent, even under a charset=utf-8 content type", async () => {
    const gz = gzipSync(binary(1 << 20));
    nock(API).get(BLOB).matchHeader("accept", "application/vnd.github.raw+json").reply(...rawBlob(gz));
    const bytes = await readBlob(octokit(), REPO, "b1");
    expect(Buffer.compare(Buffer.from(bytes), gz)).toBe(0);
  });

  it("reads a 30 MB blob whole", async () => {
    const big = binary(30 * 1024 * 1024);
    nock(API).get(BLOB).reply(...rawBlob(big));
    const bytes = await readBlob(octokit(), REPO, "b1");
    expect(bytes.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(bytes), big)).toBe(0);
  });

  it("reads a blob of declared length into one buffer, and one longer than declared (a compressed transfer) whole too", async () => {
    const big = binary(3 * 1024 * 1024);
    const [status, body, headers] = rawBlob(big);
    nock(API).get(BLOB).reply(status, body, { ...headers, "content-length": String(big.length) });
    expect(Buffer.compare(Buffer.from(await readBlob(octokit(), REPO, "b1")), big)).toBe(0);
    const text = Buffer.from(binary(1536 * 1024).toString("hex")); // compresses to about half: part fits the declared length
    const gz = gzipSync(text);
    nock(API).get(BLOB).reply(status, gz, { ...headers, "content-encoding": "gzip", "content-length": String(gz.length) });
    expect(Buffer.compare(Buffer.from(await readBlob(octokit(), REPO, "b1")), text)).toBe(0);
  });

  it("still understands the JSON form (base64) from a server that ignores the raw media type, at 21 MB", async () => {
    const big = binary(21 * 1024 * 1024);
    nock(API).get(BLOB).reply(200, blobReply("b1", big));
    const bytes = await readBlob(octokit(), REPO, "b1");
    expect(Buffer.compare(Buffer.from(bytes), big)).toBe(0);
  });

  it("stops reading a raw blob with no Content-Length once it passes the cap, and cancels the download", async () => {
    // nock buffers a body before answering, so the endless one comes from a stand-in fetch. A broken
    // cap reads until the body errors (ENDLESS_BUDGET), in well under the time-out.
    const endless = endlessBody(4096);
    const fetch = (async () => new Response(endless.stream, { status: 200, headers: { "content-type": RAW_BLOB_TYPE } })) as typeof globalThis.fetch;
    const client = new TestOctokit({ auth: "ghs_test", request: { fetch } }) as unknown as Context["octokit"];
    expect(await readBlobWithin(client, REPO, "b1", 64 * 1024)).toBeNull();
    expect(endless.cancelled).toBe(true);
    expect(endless.pulled).toBeLessThan(128 * 1024);
  });

  it("fails loudly on a JSON answer that is no blob", async () => {
    nock(API).get(BLOB).reply(200, { message: "something else" });
    await expect(readBlob(octokit(), REPO, "b1")).rejects.toThrow('unexpected blob encoding "undefined"');
  });
});

describe("readBlobWithin over a real connection (fetch's body, a byte stream)", () => {
  let server: Server;
  let baseUrl = "";
  let answer: (res: ServerResponse) => void = (res) => res.end();
  const modes: string[] = [];
  beforeAll(async () => {
    server = createServer((_req: IncomingMessage, res: ServerResponse) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    nock.enableNetConnect("127.0.0.1");
    modes.length = 0;
    const getReader = ReadableStream.prototype.getReader;
    jest.spyOn(ReadableStream.prototype, "getReader").mockImplementation(function (this: ReadableStream, options?: { mode?: "byob" }) {
      modes.push(options?.mode ?? "default");
      return getReader.call(this, options as { mode: "byob" });
    } as typeof getReader);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  const client = () => new TestOctokit({ auth: "ghs_test", baseUrl }) as unknown as Context["octokit"];
  const serve = (body: Buffer, headers: Record<string, string> = {}) =>
    (answer = (res) => res.writeHead(200, { "content-type": RAW_BLOB_TYPE, "content-length": String(body.length), ...headers }).end(body));

  it("reads a blob of declared length straight into its buffer (a reader that fills it, no array per read)", async () => {
    const big = binary(3 * 1024 * 1024 + 5);
    serve(big);
    const bytes = await readBlobWithin(client(), REPO, "b1", big.length);
    expect(Buffer.compare(Buffer.from(bytes!), big)).toBe(0);
    expect(modes).toContain("byob");
    expect(modes).not.toContain("default");
    // shared memory: a worker reads it where it is (ledger/export-reads.ts)
    expect(bytes!.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("reads one larger than the reader's scratch buffer (16 MB) whole, every byte in its place", async () => {
    const big = binary(17 * 1024 * 1024 + 3);
    serve(big);
    const bytes = await readBlobWithin(client(), REPO, "b1", big.length);
    expect(bytes!.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(bytes!), big)).toBe(0);
    expect(bytes!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(modes).toEqual(["byob"]);
  });

  it("reads one longer than declared (a compressed transfer) whole, and stops one that passes the cap", async () => {
    const text = Buffer.from(binary(600 * 1024).toString("hex"));
    const gz = gzipSync(text);
    serve(gz, { "content-encoding": "gzip" });
    expect(Buffer.compare(Buffer.from((await readBlobWithin(client(), REPO, "b1", text.length))!), text)).toBe(0);
    expect(modes).toContain("byob");
    expect(await readBlobWithin(client(), REPO, "b1", text.length - 1)).toBeNull();
    // declared over the cap: not read at all
    serve(binary(1000));
    expect(await readBlobWithin(client(), REPO, "b1", 999)).toBeNull();
    expect(Buffer.from((await readBlobWithin(client(), REPO, "b1", 1000))!).length).toBe(1000);
  });
});

describe("the app's Octokit", () => {
  it("parses a JSON body holding a 12-million-character string (a tree or compare of a big push) into data", async () => {
    const long = "x".repeat(12_000_000);
    nock(API).get("/repos/acme/license-usage/git/trees/t1").reply(200, { sha: "t1", truncated: false, tree: [{ path: long, type: "blob", sha: "s" }] });
    const { data } = await octokit().rest.git.getTree({ ...REPO, tree_sha: "t1" });
    expect(typeof data).toBe("object");
    expect(data.tree[0]!.path!.length).toBe(12_000_000);
  });

  it("keeps text bodies text and leaves empty answers alone", async () => {
    nock(API)
      .get("/repos/acme/license-usage/contents/a.yml")
      .reply(200, "paths: [x]\n", { "content-type": "application/vnd.github.raw; charset=utf-8" })
      .delete("/repos/acme/license-usage/issues/comments/5")
      .reply(204);
    const file = await octokit().request("GET /repos/{owner}/{repo}/contents/{path}", { ...REPO, path: "a.yml", headers: { accept: "application/vnd.github.raw" } });
    expect(file.data).toBe("paths: [x]\n");
    const gone = await octokit().rest.issues.deleteComment({ ...REPO, comment_id: 5 });
    expect(gone.status).toBe(204);
  });

  it("passes errors through as Octokit request errors", async () => {
    nock(API).get(BLOB).reply(404, { message: "Not Found" });
    await expect(readBlob(octokit(), REPO, "b1")).rejects.toMatchObject({ status: 404 });
  });
});

describe("readExportFiles: each blob once, within the push caps", () => {
  const files = (...specs: [string, string][]) => specs.map(([path, blobSha]) => ({ path, blobSha }));
  const blob = (sha: string) => `/repos/acme/license-usage/git/blobs/${sha}`;

  it("reads a blob shared by several paths once; each path gets its bytes", async () => {
    // One interceptor each: a second GET of b1 would find none and fail.
    nock(API).get(blob("b1")).reply(...rawBlob("x".repeat(100))).get(blob("b2")).reply(...rawBlob("y".repeat(10)));
    const read = await readExportFiles(octokit(), REPO, files(["a.json", "b1"], ["b.json", "b2"], ["c.json", "b1"]), { maxFiles: 10, maxBytes: 1000 });
    expect(read.files.map((f) => [f.path, f.bytes.length])).toEqual([
      ["a.json", 100],
      ["b.json", 10],
      ["c.json", 100],
    ]);
    expect(read.skipped).toEqual([]);
  });

  it("stops at the file count: the rest are named, never requested", async () => {
    nock(API).get(blob("b1")).reply(...rawBlob("1")).get(blob("b2")).reply(...rawBlob("2"));
    const read = await readExportFiles(octokit(), REPO, files(["a.json", "b1"], ["b.json", "b2"], ["c.json", "b3"], ["d.json", "b4"]), { maxFiles: 2, maxBytes: 1000 });
    expect(read.files.map((f) => f.path)).toEqual(["a.json", "b.json"]);
    expect(read.skipped).toEqual([
      { path: "c.json", cap: "files" },
      { path: "d.json", cap: "files" },
    ]);
    expect(skippedResults(read.skipped, { maxFiles: 2, maxBytes: 1000 })[0]).toEqual({
      file: "c.json",
      status: "refused",
      errors: [{ file: "c.json", path: "", message: "was not read: more than 2 export files arrived at once (the app's MAX_PUSH_FILES); send it in a push or pull request of its own" }],
      warnings: [],
    });
  });

  it("stops at the total bytes: a blob over what is left is not kept, and nothing after it is requested", async () => {
    nock(API).get(blob("b1")).reply(...rawBlob("x".repeat(600))).get(blob("b2")).reply(...rawBlob(binary(2 * 1024 * 1024)));
    const caps = { maxFiles: 10, maxBytes: 1024 * 1024 };
    const read = await readExportFiles(octokit(), REPO, files(["a.json", "b1"], ["b.json", "b2"], ["c.json", "b3"], ["d.json", "b1"]), caps);
    expect(read.files.map((f) => f.path)).toEqual(["a.json"]);
    expect(read.skipped.map((s) => [s.path, s.cap])).toEqual([
      ["b.json", "bytes"],
      ["c.json", "bytes"],
      ["d.json", "bytes"],
    ]);
    expect(skippedResults(read.skipped, caps)[0]).toMatchObject({
      errors: [{ message: "was not read: the export files arriving at once exceed 1 MB together (the app's MAX_PUSH_BYTES); send it in a push or pull request of its own" }],
    });
  });
});
