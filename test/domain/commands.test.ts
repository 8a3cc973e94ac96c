import { describe, it, expect } from "@jest/globals";
import { parseCommand } from "../../src/domain/commands.js";

describe("parseCommand", () => {
  it.each([
    ["/license-sync report", { kind: "report" }],
    ["  /License-Sync REPORT  ", { kind: "report" }],
    ["thanks!\n/license-sync forget 0b6c1a62-1111", { kind: "forget", target: "0b6c1a62-1111" }],
    ["/license-sync forget `ghes.corp.example`", { kind: "forget", target: "ghes.corp.example" }],
    ["/license-sync help", { kind: "help" }],
    ["/license-sync", { kind: "help" }],
    ["/license-sync frobnicate", { kind: "unknown", word: "frobnicate" }],
    ["/license-sync forget", { kind: "unknown", word: "forget (without a target)" }],
    ["/license-sync forget a b", { kind: "unknown", word: "forget (one server id or host name)" }],
    ["/license-sync report now", { kind: "unknown", word: "report" }],
    ["/license-sync refresh", { kind: "refresh" }],
    ["/License-Sync Refresh", { kind: "refresh" }],
    ["/license-sync refresh please", { kind: "unknown", word: "refresh" }],
  ])("%j", (body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it.each([
    ["just a comment"],
    ["> /license-sync forget abc"],
    ["```\n/license-sync forget abc\n```"],
    ["see /license-sync report in the docs"],
    ["/license-syncing report"],
    [""],
  ])("no command in %j", (body) => {
    expect(parseCommand(body)).toBeNull();
  });

  it("handles null", () => expect(parseCommand(null)).toBeNull());
});
