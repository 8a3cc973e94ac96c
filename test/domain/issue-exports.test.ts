import { describe, it, expect } from "@jest/globals";
import { findExports, classifyLink, isAttachmentLink, type GitHubHosts } from "../../src/domain/issue-exports.js";

const dotcom: GitHubHosts = { gheHost: null, gheProtocol: "https" };
const ghe: GitHubHosts = { gheHost: "ghe.corp.example:8443", gheProtocol: "http" };

const EXPORT = JSON.stringify({ version: 1, instance: { server_id: "a", host_name: "h" }, users: [] }, null, 2);

describe("findExports", () => {
  it("finds user-attachments and the older repo files links, once each", () => {
    const body = [
      "Here is the export: [usage.json](https://github.com/user-attachments/files/123/usage.json)",
      "and the old one https://github.com/acme/license-usage/files/9876/ghes-b.json.gz.",
      "again [usage.json](https://github.com/user-attachments/files/123/usage.json)",
    ].join("\n");
    const found = findExports(body, dotcom, "issue body");
    expect(found.attachments).toEqual([
      { url: "https://github.com/user-attachments/files/123/usage.json", name: "usage.json" },
      { url: "https://github.com/acme/license-usage/files/9876/ghes-b.json.gz", name: "ghes-b.json.gz" },
    ]);
    expect(found.blocks).toEqual([]);
    expect(found.ignored).toEqual([]);
  });

  it("ignores export-looking links on other hosts and non-attachment GitHub links, naming only the host", () => {
    const body =
      "https://evil.example/files/1/usage.json http://169.254.169.254/latest/x.json " +
      "https://github.com/acme/r/blob/main/usage.json https://github.com.evil.example/user-attachments/files/1/a.json " +
      "http://github.com/user-attachments/files/1/b.json https://user:pw@github.com/user-attachments/files/1/c.json " +
      "https://example.com/readme.html";
    const found = findExports(body, dotcom, "issue body");
    expect(found.attachments).toEqual([]);
    expect(found.ignored).toEqual([
      { host: "evil.example", name: "usage.json", reason: "not-github-host" },
      { host: "169.254.169.254", name: "x.json", reason: "not-github-host" },
      { host: "github.com", name: "usage.json", reason: "not-an-attachment" },
      { host: "github.com.evil.example", name: "a.json", reason: "not-github-host" },
      { host: "github.com", name: "b.json", reason: "insecure-protocol" },
      { host: "github.com", name: "c.json", reason: "not-github-host" },
    ]);
  });

  it("accepts the GHE host with its port, and plain http only there when GHE_PROTOCOL=http", () => {
    expect(isAttachmentLink("http://ghe.corp.example:8443/user-attachments/files/5/u.json", ghe)).toBe(true);
    expect(isAttachmentLink("https://ghe.corp.example:8443/acme/r/files/5/u.json", ghe)).toBe(true);
    expect(isAttachmentLink("https://ghe.corp.example/acme/r/files/5/u.json", ghe)).toBe(false);
    expect(isAttachmentLink("https://github.com/user-attachments/files/5/u.json", ghe)).toBe(true);
    expect(isAttachmentLink("http://github.com/user-attachments/files/5/u.json", ghe)).toBe(false);
    expect(classifyLink("https://github.com/user-attachments/files/5/notes.txt", dotcom)).toBeNull();
    expect(isAttachmentLink("https://github.com/user-attachments/files/5/U.JSON", dotcom)).toBe(true);
  });

  it("finds ```json blocks that hold an export, and skips other blocks and links inside code", () => {
    const body = [
      "```json",
      EXPORT,
      "```",
      "```json",
      '{ "name": "not an export" }',
      "```",
      "```",
      "https://github.com/user-attachments/files/1/in-code.json",
      "```",
      "~~~json",
      '{ "instance": { "server_id": "b", ',
      "~~~",
    ].join("\n");
    const found = findExports(body, dotcom, "comment");
    expect(found.blocks.map((b) => b.name)).toEqual(["comment block 1", "comment block 2"]);
    expect(JSON.parse(found.blocks[0].text)).toMatchObject({ instance: { server_id: "a" } });
    expect(found.attachments).toEqual([]);
  });

  it("finds GHEC license reports: ```csv blocks with GitHub's header, the API's JSON (one page or slurped pages), .csv attachments", () => {
    const csv = "github_com_login,github_com_user,github_com_saml_name_id\nmona,true,\n";
    const page = JSON.stringify({ total_seats_consumed: 1, users: [{ github_com_login: "mona", github_com_user: true }] });
    const body = [
      "```csv",
      csv,
      "```",
      "```CSV",
      "name,amount\nx,1",
      "```",
      "```json",
      page,
      "```",
      "```json",
      `[${page},${page}]`,
      "```",
      "```json",
      "[1, 2]",
      "```",
      "[report](https://github.com/user-attachments/files/7/ghec-license-report.csv) and https://github.com/user-attachments/files/8/r.csv.gz",
    ].join("\n");
    const found = findExports(body, dotcom, "comment");
    expect(found.blocks.map((b) => b.name)).toEqual(["comment block 1.csv", "comment block 2", "comment block 3"]);
    expect(found.blocks[0]!.text).toBe(csv);
    expect(found.attachments.map((a) => a.name)).toEqual(["ghec-license-report.csv", "r.csv.gz"]);
  });

  it("handles an empty or missing body and CRLF line endings", () => {
    expect(findExports(null, dotcom, "issue body")).toEqual({ attachments: [], blocks: [], ignored: [] });
    const crlf = "```json\r\n" + EXPORT.replace(/\n/g, "\r\n") + "\r\n```\r\n";
    expect(findExports(crlf, dotcom, "issue body").blocks).toHaveLength(1);
  });

  it("closes a fence only with the same character, at least as long; an unclosed fence is no block", () => {
    const body = ["````json", EXPORT, "```", "~~~", "````", "```json", EXPORT].join("\n");
    const found = findExports(body, dotcom, "comment");
    // The inner ``` and ~~~ lines belong to the first block's body, so it is no valid JSON but still an export attempt.
    expect(found.blocks).toHaveLength(1);
    expect(found.blocks[0].text.endsWith("```\n~~~")).toBe(true);
  });

  it("reads a comment full of unclosed fences in one pass (no quadratic backtracking)", () => {
    // ~500 KB: a whole-text regex took seconds for 65 KB of this; a linear scan takes milliseconds.
    const hostile = "```json\n".repeat(60_000) + "https://github.com/user-attachments/files/9/late.json";
    const found = findExports(hostile, dotcom, "comment");
    expect(found.blocks).toEqual([]);
    expect(found.attachments.map((a) => a.name)).toEqual(["late.json"]);
  });
});
