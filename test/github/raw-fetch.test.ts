// rawFetch (readBlobWithin's transport in production: the app's Octokit has no fetch of its own)
// against a real local server, through @octokit/request as Octokit calls it. In a child process:
// nock, once loaded in a jest worker, hooks node:http for the worker's life, and an earlier test
// file's hook fails every later request over it. (readBlobWithin's own logic runs through nock in
// read-blob.test.ts; test clients keep the global fetch.)
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

let dir: string;
let out: Record<string, unknown>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "raw-fetch-"));
  const source = readFileSync(join(process.cwd(), "src/github/raw-fetch.ts"), "utf8");
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(dir, "raw-fetch.mjs");
  writeFileSync(file, js);
  const stdout = execFileSync(process.execPath, [join(process.cwd(), "test/helpers/raw-fetch-child.mjs"), pathToFileURL(file).href], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
    timeout: 60_000,
  });
  out = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rawFetch, as Octokit's fetch for a raw blob", () => {
  it("gives the body as sent, with Octokit's headers and fetch's accept-encoding", () => {
    expect(out.raw).toEqual({ status: 200, length: String(5 * 1024 * 1024 + 7), same: true });
    expect((out.seen as { url: string }[])[0]).toEqual({ url: "/raw", accept: "application/vnd.github.raw+json", encoding: "gzip, deflate, br", auth: "token t" });
  });

  it("decodes gzip (longer than its declared length), brotli and deflate, and reads a body of no declared length", () => {
    expect([out.gz, out.br, out.deflate, out.chunked]).toEqual([true, true, true, true]);
  });

  it("follows a redirect (a renamed repository), and passes errors to Octokit as fetch does", () => {
    expect(out.moved).toBe(true);
    expect(out.missing).toEqual({ status: 404, message: expect.stringContaining("Not Found") });
    expect(out.refused).toBe(true);
  });

  it("answers as fetch does: ok, url, headers, no body for 204; a cancelled read closes the download", () => {
    expect(out.fetchLike).toMatchObject({ ok: true, type: "application/vnd.github.raw", same: true });
    expect(String((out.fetchLike as { url: string }).url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/raw$/);
    expect(out.empty).toEqual({ status: 204, body: null });
    expect(out.endlessClosedEarly).toBe(true);
  });
});
