import { describe, it, expect, beforeEach, afterEach } from "@jest/globals";
import nock from "nock";
import { Readable } from "node:stream";
import { downloadAttachment, isAllowedDownloadUrl, type DownloadOptions } from "../../src/github/attachments.js";
import { readSettings } from "../../src/settings.js";
import { endlessBody } from "../helpers/streams.js";

const LINK = "https://github.com/user-attachments/files/123/usage.json";
const S3 = "https://github-production-user-asset-6210df.s3.amazonaws.com";
const base: DownloadOptions = {
  token: "ghs_secret",
  gheHost: null,
  gheProtocol: "https",
  extraHosts: [],
  timeoutMs: 5_000,
  maxBytes: 1_000,
};

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("downloadAttachment", () => {
  it("downloads with the token on github.com, then follows the redirect to S3 without it", async () => {
    nock("https://github.com", { reqheaders: { authorization: "token ghs_secret" } })
      .get("/user-attachments/files/123/usage.json")
      .reply(302, "", { location: `${S3}/123/usage.json?X-Amz-Signature=abc` });
    nock(S3, { badheaders: ["authorization"] })
      .get("/123/usage.json")
      .query({ "X-Amz-Signature": "abc" })
      .reply(200, '{"users":[]}');
    const res = await downloadAttachment(LINK, base);
    expect(res).toMatchObject({ ok: true, finalHost: "github-production-user-asset-6210df.s3.amazonaws.com" });
    if (res.ok) expect(Buffer.from(res.bytes).toString()).toBe('{"users":[]}');
  });

  it("refuses a redirect to a foreign host and never requests it", async () => {
    nock("https://github.com").get("/user-attachments/files/123/usage.json").reply(302, "", { location: "https://evil.example/steal" });
    const evil = nock("https://evil.example").get("/steal").reply(200, "{}");
    const res = await downloadAttachment(LINK, base);
    expect(res).toEqual({ ok: false, reason: "redirect-refused", host: "evil.example" });
    expect(evil.isDone()).toBe(false);
    nock.cleanAll(); // the foreign interceptor is meant to stay unused
  });

  it("does not send the token to an allowed but different host (an extra host, a githubusercontent host)", async () => {
    nock("https://github.com", { reqheaders: { authorization: "token ghs_secret" } })
      .get("/user-attachments/files/123/usage.json")
      .reply(302, "", { location: "https://files.corp.example/a" });
    // badheaders: a request carrying Authorization would not match, and fail the download.
    nock("https://files.corp.example", { badheaders: ["authorization"] })
      .get("/a")
      .reply(301, "", { location: "https://objects.githubusercontent.com/b" });
    nock("https://objects.githubusercontent.com", { badheaders: ["authorization"] }).get("/b").reply(200, "{}");
    const res = await downloadAttachment(LINK, { ...base, extraHosts: ["*.corp.example"] });
    expect(res).toMatchObject({ ok: true, finalHost: "objects.githubusercontent.com" });
  });

  it("maps 404 and 403 to not-found", async () => {
    nock("https://github.com").get("/user-attachments/files/123/usage.json").reply(404, "Not Found");
    expect(await downloadAttachment(LINK, base)).toEqual({ ok: false, reason: "not-found", status: 404 });
    nock("https://github.com").get("/acme/r/files/9/u.json").reply(403);
    expect(await downloadAttachment("https://github.com/acme/r/files/9/u.json", base)).toEqual({
      ok: false,
      reason: "not-found",
      status: 403,
    });
  });

  it("takes a 200 HTML page (GitHub's sign-in page) for a file it could not get, not for the export", async () => {
    nock("https://github.com")
      .get("/user-attachments/files/123/usage.json")
      .reply(302, "", { location: `${S3}/123/usage.json` });
    nock(S3).get("/123/usage.json").reply(200, "<!DOCTYPE html><title>Sign in to GitHub</title>", { "content-type": "text/html; charset=utf-8" });
    expect(await downloadAttachment(LINK, base)).toEqual({ ok: false, reason: "sign-in-page" });

    // JSON, gzip or an untyped body are still read.
    for (const type of ["application/json", "application/gzip", "application/octet-stream"]) {
      nock("https://github.com").get("/user-attachments/files/123/usage.json").reply(200, "{}", { "content-type": type });
      expect(await downloadAttachment(LINK, base)).toMatchObject({ ok: true });
    }
  });

  it("refuses from Content-Length without reading the body", async () => {
    let bodyRead = false;
    const body = new Readable({
      read() {
        bodyRead = true;
        this.push(Buffer.alloc(2_000, 32));
        this.push(null);
      },
    });
    nock("https://github.com").get("/user-attachments/files/123/usage.json").reply(200, () => body, { "content-length": "2000" });
    expect(await downloadAttachment(LINK, base)).toEqual({ ok: false, reason: "too-large", limit: 1_000 });
    expect(bodyRead).toBe(false);
  });

  it("aborts a chunked body that grows past the cap mid-stream", async () => {
    // nock buffers a stream reply before answering, so an endless body is served by a stand-in fetch.
    // A broken cap reads until the body errors (ENDLESS_BUDGET), in well under the time-out.
    const endless = endlessBody(300);
    const stub = (async () => new Response(endless.stream, { status: 200 })) as typeof fetch;
    expect(await downloadAttachment(LINK, { ...base, fetch: stub })).toEqual({ ok: false, reason: "too-large", limit: 1_000 });
    expect(endless.cancelled).toBe(true);
    expect(endless.pulled).toBeLessThan(3_000);
  });

  it("refuses a chunked body (no Content-Length) over the cap served through nock", async () => {
    nock("https://github.com")
      .get("/user-attachments/files/123/usage.json")
      .reply(200, () => Readable.from([Buffer.alloc(600, 32), Buffer.alloc(600, 32)]));
    expect(await downloadAttachment(LINK, base)).toEqual({ ok: false, reason: "too-large", limit: 1_000 });
  });

  it("stops after too many redirects", async () => {
    nock("https://github.com")
      .get("/user-attachments/files/123/usage.json")
      .times(3)
      .reply(302, "", { location: LINK });
    expect(await downloadAttachment(LINK, { ...base, maxRedirects: 2 })).toEqual({ ok: false, reason: "too-many-redirects" });
  });

  it("times out", async () => {
    // A server that never answers: only the time-out's abort signal ends the request.
    const hanging = ((_url: unknown, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
    expect(await downloadAttachment(LINK, { ...base, timeoutMs: 50, fetch: hanging })).toEqual({ ok: false, reason: "timeout" });
  });

  it("never fetches a link that is not a GitHub attachment", async () => {
    // disableNetConnect would surface any request as a network error; none is made.
    expect(await downloadAttachment("https://evil.example/user-attachments/files/1/u.json", base)).toEqual({
      ok: false,
      reason: "not-an-attachment",
    });
    expect(await downloadAttachment("https://github.com/acme/r/raw/main/u.json", base)).toEqual({
      ok: false,
      reason: "not-an-attachment",
    });
  });

  it("with GHE_HOST set, downloads a github.com attachment without the (GHES) token", async () => {
    nock("https://github.com", { badheaders: ["authorization"] })
      .get("/user-attachments/files/1/x.json")
      .reply(200, "{}");
    const res = await downloadAttachment("https://github.com/user-attachments/files/1/x.json", { ...base, gheHost: "ghe.corp.example" });
    expect(res).toMatchObject({ ok: true, finalHost: "github.com" });
  });

  it("uses plain http and the port for a GHE host with GHE_PROTOCOL=http, and sends the token there", async () => {
    nock("http://ghe.corp.example:8080", { reqheaders: { authorization: "token ghs_secret" } })
      .get("/acme/r/files/7/u.json.gz")
      .reply(200, Buffer.from([0x1f, 0x8b]));
    const res = await downloadAttachment("http://ghe.corp.example:8080/acme/r/files/7/u.json.gz", {
      ...base,
      gheHost: "ghe.corp.example:8080",
      gheProtocol: "http",
    });
    expect(res.ok).toBe(true);
  });
});

describe("isAllowedDownloadUrl", () => {
  const opts = { gheHost: "ghe.corp.example", gheProtocol: "https" as const, extraHosts: ["files.corp.example"] };
  it.each([
    ["https://github.com/x", true],
    ["https://objects.githubusercontent.com/x", true],
    ["https://github-production-repository-file-5c1aeb.s3.amazonaws.com/x", true],
    ["https://ghe.corp.example/x", true],
    ["https://files.corp.example/x", true],
    ["http://objects.githubusercontent.com/x", false],
    ["https://evil-github-production-x.s3.amazonaws.com/x", false],
    ["https://githubusercontent.com.evil.example/x", false],
    ["https://github.com:8443/x", false],
    ["https://user@github.com/x", false],
    ["https://169.254.169.254/x", false],
    ["file:///etc/passwd", false],
  ])("%s → %s", (url, allowed) => {
    expect(isAllowedDownloadUrl(new URL(url), opts)).toBe(allowed);
  });
});

describe("isAllowedDownloadUrl: near misses of every suffix rule", () => {
  // A suffix rule loosened by its dot (githubusercontent.com, *.corp.example matched as
  // "corp.example") would let these through.
  const opts = { gheHost: "ghe.corp.example", gheProtocol: "https" as const, extraHosts: ["*.corp.example", "files.example.org"] };
  it.each([
    ["https://evilgithubusercontent.com/x", false],
    ["https://githubusercontent.com/x", false],
    ["https://objects.evilgithubusercontent.com/x", false],
    ["https://evilcorp.example/x", false],
    ["https://corp.example/x", false],
    ["https://ghe.corp.example.evil.example/x", false],
    ["https://evilfiles.example.org/x", false],
    ["https://sub.files.example.org/x", false],
    ["https://evilgithub.com/x", false],
    ["https://github.com.evil.example/x", false],
    ["https://objects.githubusercontent.com/x", true],
    ["https://media.corp.example/x", true],
    ["https://files.example.org/x", true],
  ])("%s → %s", (url, allowed) => {
    expect(isAllowedDownloadUrl(new URL(url), opts)).toBe(allowed);
  });
});

describe("GHE_HOST written with its protocol's default port", () => {
  it.each([
    ["ghe.corp.example:443", "https", "ghe.corp.example"],
    ["GHE.corp.example:80", "http", "ghe.corp.example"],
    ["ghe.corp.example:8443", "https", "ghe.corp.example:8443"],
    // Another protocol's default port is a real port.
    ["ghe.corp.example:80", "https", "ghe.corp.example:80"],
  ])("readSettings normalises %s (%s) to %s", (raw, protocol, host) => {
    expect(readSettings({ GHE_HOST: raw, GHE_PROTOCOL: protocol }).gheHost).toBe(host);
  });

  it("still downloads that host's attachments, with the token", async () => {
    const { gheHost, gheProtocol } = readSettings({ GHE_HOST: "ghe.corp.example:443" });
    nock("https://ghe.corp.example", { reqheaders: { authorization: "token ghs_secret" } })
      .get("/user-attachments/files/9/usage.json")
      .reply(200, '{"users":[]}');
    const res = await downloadAttachment("https://ghe.corp.example/user-attachments/files/9/usage.json", { ...base, gheHost, gheProtocol });
    expect(res).toMatchObject({ ok: true, finalHost: "ghe.corp.example" });
  });
});
