import { describe, it, expect } from "@jest/globals";
import {
  DEFAULT_EXPORT_PATHS,
  exportFolder,
  formatConfigErrors,
  globToRegExp,
  matchesExportPath,
  parseRepoConfig,
} from "../../src/domain/repo-config.js";

describe("parseRepoConfig", () => {
  it("gives every default for an empty file", () => {
    const r = parseRepoConfig(null);
    expect(r).toEqual({
      ok: true,
      config: {
        paths: [...DEFAULT_EXPORT_PATHS],
        branch: null,
        match: { allEmails: false, logins: false },
        purchasedSeats: null,
        staleAfterDays: 35,
        showLoginsInSavings: false,
        closeIssuesWhenRecorded: false,
        dashboard: { enabled: true, title: "License usage dashboard" },
        enterprise: null,
        cloudRefreshHours: 24,
      },
    });
    expect(parseRepoConfig({})).toEqual(r);
  });

  it("reads every key", () => {
    const r = parseRepoConfig({
      paths: ["./exports/*.json"],
      branch: "refs/heads/usage",
      match: { all_emails: true, logins: true },
      purchased_seats: 500,
      stale_after_days: 10,
      show_logins_in_savings: true,
      close_issues_when_recorded: true,
      dashboard: { title: "Seats" },
      enterprise: " Acme-Corp ",
      cloud_refresh_hours: 6,
    });
    expect(r).toEqual({
      ok: true,
      config: {
        paths: ["exports/*.json"],
        branch: "usage",
        match: { allEmails: true, logins: true },
        purchasedSeats: 500,
        staleAfterDays: 10,
        showLoginsInSavings: true,
        closeIssuesWhenRecorded: true,
        dashboard: { enabled: true, title: "Seats" },
        enterprise: "acme-corp",
        cloudRefreshHours: 6,
      },
    });
  });

  it("turns the dashboard off with `dashboard: false`, and checks its title", () => {
    expect(parseRepoConfig({ dashboard: false })).toMatchObject({ ok: true, config: { dashboard: { enabled: false } } });
    expect(parseRepoConfig({ dashboard: null })).toMatchObject({ ok: true, config: { dashboard: { enabled: true } } });
    const r = parseRepoConfig({ dashboard: { titel: "x" }, match: 3 });
    expect(r).toMatchObject({ ok: false, errors: [{ key: "dashboard.titel" }, { key: "match" }] });
    if (!r.ok) {
      expect(r.errors[0]!.message).toContain("did you mean `dashboard.title`?");
      expect(r.errors[1]!.message).toBe("expected a mapping with all_emails, logins, got number");
    }
    expect(parseRepoConfig({ dashboard: { title: "a\nb" } })).toMatchObject({ ok: false, errors: [{ key: "dashboard.title" }] });
    expect(parseRepoConfig({ dashboard: { title: "x".repeat(257) } })).toMatchObject({ ok: false, errors: [{ key: "dashboard.title" }] });
    expect(parseRepoConfig({ dashboard: "no" })).toMatchObject({ ok: false, errors: [{ key: "dashboard", message: "expected true, false or a mapping with title, got text" }] });
  });

  it("refuses an enterprise that is not a slug and hours that are not a positive whole number", () => {
    for (const enterprise of ["https://github.com/enterprises/acme", "acme corp", "-acme", 7, ["acme"]]) {
      expect(parseRepoConfig({ enterprise })).toMatchObject({ ok: false, errors: [{ key: "enterprise" }] });
    }
    expect(parseRepoConfig({ enterprise: null })).toMatchObject({ ok: true, config: { enterprise: null } });
    for (const hours of [0, -1, 1.5, "24", null]) {
      expect(parseRepoConfig({ cloud_refresh_hours: hours })).toMatchObject({ ok: false, errors: [{ key: "cloud_refresh_hours" }] });
    }
    expect(parseRepoConfig({ enterprise: "a b" })).toMatchObject({
      ok: false,
      errors: [{ message: "expected the enterprise's slug (as in github.com/enterprises/<slug>), got text that is not a slug" }],
    });
  });

  it("accepts a single glob as paths", () => {
    const r = parseRepoConfig({ paths: "usage/*.json.gz" });
    expect(r.ok && r.config.paths).toEqual(["usage/*.json.gz"]);
  });

  it("names each wrong key, nested ones with their dotted path", () => {
    const r = parseRepoConfig({
      purchased_seat: 10,
      stale_after_days: "soon",
      match: { logins: "yes", email: true },
      paths: ["ok/*.json", 3],
      branch: "",
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const keys = r.errors.map((e) => e.key);
    expect(keys).toEqual(["purchased_seat", "stale_after_days", "match.logins", "match.email", "paths[1]", "branch"]);
    expect(r.errors[0]!.message).toContain("did you mean `purchased_seats`?");
    expect(r.errors[1]!.message).toBe("expected a positive whole number of days, got text");
    const md = formatConfigErrors(r.errors);
    expect(md.split("\n")[0]).toMatch(/^- `purchased_seat`: unknown key/);
  });

  it("refuses negative or fractional seats and a non-mapping file", () => {
    expect(parseRepoConfig({ purchased_seats: -1 })).toMatchObject({ ok: false, errors: [{ key: "purchased_seats" }] });
    expect(parseRepoConfig({ purchased_seats: 1.5 })).toMatchObject({ ok: false, errors: [{ key: "purchased_seats" }] });
    expect(parseRepoConfig(["a"])).toMatchObject({ ok: false, errors: [{ key: "(file)" }] });
    expect(parseRepoConfig({ paths: [] })).toMatchObject({ ok: false, errors: [{ key: "paths" }] });
    expect(parseRepoConfig({ paths: ["../x/*.json"] })).toMatchObject({ ok: false, errors: [{ key: "paths[0]" }] });
  });

  it("keeps a hostile key from breaking the Markdown", () => {
    const r = parseRepoConfig({ "a`b\nc": 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(formatConfigErrors(r.errors)).toBe(formatConfigErrors(r.errors).replace(/\n/g, ""));
  });
});

describe("globs", () => {
  it("matches the default export paths at any depth, zero included", () => {
    const yes = ["license-usage/a.json", "license-usage/x/y/a.json", "license-usage/a.json.gz", "license-usage/d/a.json.gz"];
    const no = ["license-usage.json", "other/a.json", "license-usage/a.json.bak", "license-usage/a.jsonx", "x/license-usage/a.json"];
    for (const p of yes) expect([p, matchesExportPath(p, DEFAULT_EXPORT_PATHS)]).toEqual([p, true]);
    for (const p of no) expect([p, matchesExportPath(p, DEFAULT_EXPORT_PATHS)]).toEqual([p, false]);
  });

  it("keeps * and ? within one name and escapes regex characters", () => {
    expect(globToRegExp("a/*.json").test("a/b/c.json")).toBe(false);
    expect(globToRegExp("a/?.json").test("a/b.json")).toBe(true);
    expect(globToRegExp("a+b/(x).json").test("a+b/(x).json")).toBe(true);
    expect(globToRegExp("a.json").test("aXjson")).toBe(false);
    expect(globToRegExp("usage/**").test("usage/x/y.json")).toBe(true);
    expect(globToRegExp("**/*.json").test("top.json")).toBe(true);
  });

  it("derives the export folder from the first glob", () => {
    expect(exportFolder({ paths: [...DEFAULT_EXPORT_PATHS] })).toBe("license-usage");
    expect(exportFolder({ paths: ["a/b/*.json"] })).toBe("a/b");
    expect(exportFolder({ paths: ["*.json"] })).toBe("");
  });
});
