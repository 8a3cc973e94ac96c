// Hostile comment and issue texts at GitHub's 65,536-character limit: every scan the issue path runs
// on text anyone can post (fences, links, commands) is linear. The bound is generous on purpose (the
// machine is shared): the former regexes took 4.6 s to hours on these inputs.
import { describe, expect, it } from "@jest/globals";
import { findExports, mayHoldExports } from "../../src/domain/issue-exports.js";
import { parseCommand } from "../../src/domain/commands.js";
import { COMMENT_LIMIT, HOSTILE_TEXTS } from "./corpus.js";

const hosts = { gheHost: null, gheProtocol: "https" } as const;

describe("hostile comment texts", () => {
  it.each(HOSTILE_TEXTS.map((t) => [t.name, t.text] as const))("%s: scanned in well under a second", (_name, text) => {
    const body = text();
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(mayHoldExports(body)).toBe(true);
    const started = performance.now();
    const found = findExports(body, hosts, "comment");
    parseCommand(body);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(found.blocks).toEqual([]);
  });

  it("a text that never says json is rejected before any scan", () => {
    const fence = "~".repeat(COMMENT_LIMIT - 1) + "`";
    expect(mayHoldExports(fence)).toBe(false);
    expect(findExports(fence, hosts, "comment")).toEqual({ attachments: [], blocks: [], ignored: [] });
    expect(mayHoldExports("see ```JSON")).toBe(true);
  });
});
