import { describe, expect, it } from "@jest/globals";
import { identifyAccounts, normalizeEmail } from "../../src/domain/identity.js";
import type { Account } from "../../src/domain/types.js";

function account(userId: number, emails: [string, boolean][], extra: Partial<Account> = {}): Account {
  return { userId, login: `user${userId}`, emails: emails.map(([email, primary]) => ({ email, primary })), suspended: false, ...extra };
}

describe("normalizeEmail", () => {
  it("trims and lower-cases", () => {
    expect(normalizeEmail("  Mona@Corp.EXAMPLE \t")).toBe("mona@corp.example");
  });
  it("composes to NFC, so e + combining acute equals é", () => {
    expect(normalizeEmail("Re\u0301my@corp.example")).toBe(normalizeEmail("r\u00e9my@corp.example"));
    expect(normalizeEmail("Re\u0301my@corp.example")).toBe("r\u00e9my@corp.example");
  });
  it("gives the empty string for blank input (no identity)", () => {
    expect(normalizeEmail("   ")).toBe("");
    expect(normalizeEmail("")).toBe("");
  });
});

describe("identifyAccounts", () => {
  const id = (s: string): string => s;

  it("keys primary and secondary e-mails apart, normalized and deduplicated", () => {
    const [a] = identifyAccounts(
      [account(1, [["Mona@corp.example", true], [" mona@corp.example", false], ["m@noreply.example", false], ["M@NOREPLY.example", false]])],
      id,
    );
    expect(a).toEqual({ userId: 1, login: "user1", primary: ["mona@corp.example"], secondary: ["m@noreply.example"] });
  });

  it("keeps every primary when several are marked primary", () => {
    const [a] = identifyAccounts([account(1, [["a@x.example", true], ["b@x.example", true]])], id);
    expect(a!.primary).toEqual(["a@x.example", "b@x.example"]);
  });

  it("gives an account without a primary no primary key, and skips empty addresses", () => {
    const [a] = identifyAccounts([account(1, [["  ", true], ["other@x.example", false]])], id);
    expect(a!.primary).toEqual([]);
    expect(a!.secondary).toEqual(["other@x.example"]);
  });

  it("drops suspended accounts", () => {
    const out = identifyAccounts([account(1, [["a@x.example", true]], { suspended: true }), account(2, [])], id);
    expect(out.map((a) => a.userId)).toEqual([2]);
  });

  it("calls keyOf once per distinct normalized address of an account", () => {
    const seen: string[] = [];
    const out = identifyAccounts([account(1, [["A@x.example", true], ["a@x.example ", false], ["b@x.example", false]])], (s) => {
      seen.push(s);
      return `k:${s}`;
    });
    expect(seen).toEqual(["a@x.example", "b@x.example"]);
    expect(out[0]).toMatchObject({ primary: ["k:a@x.example"], secondary: ["k:b@x.example"] });
  });

  it("handles an account with very many addresses without repeats", () => {
    const emails: [string, boolean][] = Array.from({ length: 100 }, (_, i) => [`u${i % 50}@x.example`, i === 0]);
    const [a] = identifyAccounts([account(1, emails)], id);
    expect(a!.primary).toEqual(["u0@x.example"]);
    expect(a!.secondary).toHaveLength(49);
  });
});

describe("normalizeEmail and lone surrogates", () => {
  it("turns a lone surrogate into U+FFFD, as UTF-8 hashing does, so the CLI and the app agree", () => {
    expect(normalizeEmail("\ud800@x.example")).toBe("\ufffd@x.example");
    expect(normalizeEmail("\ud800@x.example")).toBe(normalizeEmail("\udbff@x.example"));
    expect(normalizeEmail("😀@X.example")).toBe("😀@x.example");
  });
});
