import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { formatFinding } from "../../src/domain/findings.js";
import { locateLine, locateOffset } from "../../src/domain/locate.js";
import { MAX_ERRORS, parseExportText, readExport, validateExport } from "../../src/domain/validate.js";
import type { Finding, ValidationResult, ValidExport } from "../../src/domain/types.js";
import { SAMPLES } from "../helpers/samples.js";

const FIXTURES = new URL("../fixtures/exports/", import.meta.url);
const LIMITS = { maxBytes: 1024 * 1024 };

function fixture(name: string): Uint8Array {
  return readFileSync(new URL(name, FIXTURES));
}
function readFixture(name: string): ValidationResult {
  return readExport(fixture(name), name, LIMITS);
}
function valid(r: ValidationResult): ValidExport {
  if (!r.ok) throw new Error(`expected a valid export, got:\n${r.errors.map(formatFinding).join("\n")}`);
  return r.export;
}
function refused(r: ValidationResult): string[] {
  if (r.ok) throw new Error("expected a refusal");
  return r.errors.map(formatFinding);
}
const instance = { server_id: "s-1", host_name: "h.example.test" };
function doc(users: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 1, instance, users, ...extra };
}
const EMAIL = /[^\s@]+@[^\s@]+/;

describe("samples in shared/samples", () => {
  it.each([
    ["code.json", 18, "code.acme.example", "3.17.4"],
    ["ghes-lab.json", 7, "ghes-lab.acme.example", "3.18.0"],
    ["git.json", 12, "git.eu.acme.example", "3.16.9"],
  ])("%s is valid", (name, accounts, host, ghesVersion) => {
    const e = valid(readExport(readFileSync(SAMPLES + "/" + name), name, LIMITS));
    expect(e.accounts).toHaveLength(accounts);
    expect(e.instance.hostName).toBe(host);
    expect(e.instance.ghesVersion).toBe(ghesVersion);
    expect(e.instance.httpOnly).toBe(false);
    expect(e.warnings).toEqual([]);
    expect(e.accounts.every((a) => a.emails.some((m) => m.primary))).toBe(true);
  });

  it("legacy-encrypted.json is refused with the encrypted-list message", () => {
    const errs = refused(readExport(readFileSync(SAMPLES + "/" + "legacy-encrypted.json"), "legacy-encrypted.json", LIMITS));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^legacy-encrypted\.json: users: the user list is encrypted \(a base64 blob\)/);
    expect(errs[0]).toContain("ghe-license-usage --unencrypted");
    expect(errs[0]).toContain("ghe-license usage --unencrypted");
    expect(errs[0]).toContain("ghe-license --help");
  });
});

describe("valid exports", () => {
  it("reads every field of a full export and ignores unknown keys", () => {
    const e = valid(readFixture("valid-full.json"));
    expect(e.file).toBe("valid-full.json");
    expect(e.instance).toEqual({
      serverId: "aaaaaaaa-0000-4000-8000-000000000001",
      hostName: "ghes-one.example.test",
      ghesVersion: "3.17.4",
      httpOnly: false,
    });
    expect(e.accounts.map((a) => a.userId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(e.accounts[0]).toEqual({
      userId: 1,
      login: "alice",
      emails: [
        { email: "alice@corp.example.test", primary: true },
        { email: "alice@noreply.example.test", primary: false },
      ],
      suspended: false,
    });
    // `emails` missing means [] ; `primary: null` means false
    expect(e.accounts[3]).toEqual({ userId: 4, login: "dave", emails: [], suspended: false });
    expect(e.accounts[7].emails).toEqual([{ email: "heidi@corp.example.test", primary: false }]);
    // no prototype pollution from `__proto__` / `constructor` keys
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(e.accounts[1])).toBe(Object.prototype);
  });

  it("marks suspended: true and a non-null suspended_at as suspended, not false/null", () => {
    const e = valid(readFixture("valid-full.json"));
    const byLogin = new Map(e.accounts.map((a) => [a.login, a.suspended]));
    expect(byLogin.get("frank")).toBe(true);
    expect(byLogin.get("grace")).toBe(true);
    expect(byLogin.get("heidi")).toBe(false);
    expect(byLogin.get("alice")).toBe(false);
  });

  it("merges a duplicate user_id: first login, union of e-mails, one warning", () => {
    const e = valid(readFixture("valid-full.json"));
    const bob = e.accounts.filter((a) => a.userId === 2);
    expect(bob).toHaveLength(1);
    expect(bob[0].login).toBe("bob");
    // entries may be shared with the parsed input (extra keys and all); compare what counts
    expect(bob[0].emails.map(({ email, primary }) => ({ email, primary }))).toEqual([
      { email: "bob@corp.example.test", primary: true },
      { email: "bob@home.example.test", primary: false },
    ]);
    const dup = e.warnings.filter((w) => w.message.includes("user_id"));
    expect(dup).toEqual([
      {
        file: "valid-full.json",
        path: "users[8].user_id",
        message: "repeats the user_id of users[1]; the two records are counted as one account",
      },
    ]);
  });

  it("never mutates its input, even when merging duplicates", () => {
    const input = doc([
      { user_id: 1, login: "a", emails: [{ email: "x@e.test", primary: false }] },
      { user_id: 1, login: "a", emails: [{ email: "x@e.test", primary: true }, { email: "y@e.test" }] },
    ]);
    const before = JSON.stringify(input);
    const e = valid(validateExport(input, "f.json"));
    expect(JSON.stringify(input)).toBe(before);
    expect(e.accounts[0].emails).toEqual([
      { email: "x@e.test", primary: true },
      { email: "y@e.test", primary: false },
    ]);
  });

  it("keeps a merged account suspended only if every copy is", () => {
    const mixed = valid(
      validateExport(
        doc([
          { user_id: 5, login: "a", suspended: true },
          { user_id: 5, login: "b" },
          { user_id: 6, login: "c", suspended: true },
          { user_id: 6, login: "d", suspended_at: "2024-01-01" },
        ]),
        "f.json",
      ),
    );
    expect(mixed.accounts.map((a) => [a.userId, a.login, a.suspended])).toEqual([
      [5, "a", false],
      [6, "c", true],
    ]);
  });

  it("detects duplicates that are not adjacent or come after a lower id", () => {
    const e = valid(
      validateExport(
        doc([
          { user_id: 10, login: "a", emails: [{ email: "x@e.test", primary: true }] },
          { user_id: 3, login: "b", emails: [{ email: "y@e.test", primary: true }] },
          { user_id: 20, login: "c", emails: [{ email: "z@e.test", primary: true }] },
          { user_id: 10, login: "a2", emails: [{ email: "x@e.test", primary: false }] },
          { user_id: 3, login: "b2", emails: [{ email: "y@e.test", primary: true }] },
        ]),
        "f.json",
      ),
    );
    expect(e.accounts.map((a) => a.userId)).toEqual([10, 3, 20]);
    expect(e.accounts[0].emails).toEqual([{ email: "x@e.test", primary: true }]);
    expect(e.warnings).toEqual([
      {
        file: "f.json",
        path: "users",
        message:
          "2 records repeat a user_id already used by an earlier record; each id is counted as one account (users[3].user_id, users[4].user_id)",
      },
    ]);
  });

  it("warns about accounts with no primary e-mail and several primaries", () => {
    const e = valid(readFixture("valid-full.json"));
    const msgs = e.warnings.map(formatFinding);
    expect(msgs).toContain(
      "valid-full.json: users: 3 accounts have no primary e-mail, so they cannot be matched and each counts as a separate person (users[2], users[3], users[7])",
    );
    expect(msgs).toContain(
      "valid-full.json: users[4]: has 2 e-mails marked primary; each of them is used to match the account",
    );
    // heidi (users[7]) has `primary: null`, so she has no primary either
    const e2 = valid(validateExport(doc([{ user_id: 1, login: "h", emails: [{ email: "h@e.test", primary: null }] }]), "g.json"));
    expect(e2.warnings.map(formatFinding)).toEqual([
      "g.json: users[0]: has no primary e-mail, so it cannot be matched and counts as a separate person",
    ]);
  });

  it("treats a blank primary e-mail as no primary, and ignores suspended accounts for that warning", () => {
    const e = valid(
      validateExport(
        doc([
          { user_id: 1, login: "a", emails: [{ email: "  ", primary: true }] },
          { user_id: 2, login: "b", suspended: true },
        ]),
        "f.json",
      ),
    );
    expect(e.warnings.map((w) => w.path)).toEqual(["users[0]"]);
  });

  it("aggregates 50,000 accounts without a primary into one warning", () => {
    const users = Array.from({ length: 50_000 }, (_, i) => ({ user_id: i + 1, login: `u${i}` }));
    const e = valid(validateExport(doc(users), "big.json"));
    expect(e.accounts).toHaveLength(50_000);
    expect(e.warnings).toEqual([
      {
        file: "big.json",
        path: "users",
        message:
          "50000 accounts have no primary e-mail, so they cannot be matched and each counts as a separate person (users[0], users[1], users[2] and 49997 more)",
      },
    ]);
  });

  it("accepts the largest safe user_id, a numeric version and null optional fields", () => {
    const e = valid(readFixture("valid-version-number-only-instance.json"));
    expect(e.accounts[0].userId).toBe(Number.MAX_SAFE_INTEGER);
    expect(e.accounts[0].emails).toEqual([]);
    expect(e.instance).toEqual({ serverId: "x", hostName: "y" });
  });
});

describe("display-only instance fields", () => {
  it("of an unexpected type are warnings naming file and path, and read as absent", () => {
    const r = readFixture("valid-display-only-odd-types.json");
    const e = valid(r);
    expect(e.instance).toEqual({ serverId: "srv-odd", hostName: "ghes-odd.corp.example" });
    expect(e.accounts).toHaveLength(1);
    expect(e.warnings).toEqual([
      { file: "valid-display-only-odd-types.json", path: "instance.version", message: "expected a string, got a number; ignored: the GHES version is shown as unknown" },
      { file: "valid-display-only-odd-types.json", path: "instance.http_only", message: "expected true or false, got a string; ignored (it is only displayed)" },
      { file: "valid-display-only-odd-types.json", path: "instance.license", message: "expected a string, got a number; ignored (it is not used)" },
      { file: "valid-display-only-odd-types.json", path: "instance.public_key", message: "expected a string, got an array; ignored (it is not used)" },
      { file: "valid-display-only-odd-types.json", path: "instance.features", message: "expected an array, got an object; ignored (it is not used)" },
    ]);
  });

  it("null, or of the expected type, warns of nothing", () => {
    const instance = { server_id: "s", host_name: "h", version: null, http_only: null, license: "l", public_key: null, features: [] };
    const e = valid(validateExport({ version: 1, instance, users: [] }, "f.json"));
    expect(e.warnings).toEqual([]);
    expect(e.instance).toEqual({ serverId: "s", hostName: "h" });
  });

  it("are still listed beside the refusals of a file refused for something else", () => {
    const r = validateExport({ version: 1, instance: { server_id: "s", host_name: "h", http_only: 0 }, users: [{ user_id: 0, login: "a" }] }, "f.json");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((f) => f.path)).toEqual(["users[0].user_id"]);
    expect(r.warnings.map((f) => f.path)).toEqual(["instance.http_only"]);
  });
});

describe("refusals", () => {
  const cases: [string, string[]][] = [
    ["invalid-root-array.json", ["invalid-root-array.json: expected a JSON object at the top level, got an array"]],
    ["invalid-root-null.json", ["invalid-root-null.json: expected a JSON object at the top level, got null"]],
    [
      "invalid-missing-instance.json",
      ["invalid-missing-instance.json: instance: is missing (the export must describe its GHES instance)"],
    ],
    ["invalid-missing-server-id.json", ["invalid-missing-server-id.json: instance.server_id: is missing"]],
    ["invalid-blank-host-name.json", ["invalid-blank-host-name.json: instance.host_name: is blank"]],
    ["invalid-missing-users.json", ["invalid-missing-users.json: users: is missing (the export must list its users)"]],
    ["invalid-missing-version.json", ["invalid-missing-version.json: version: is missing"]],
    ["invalid-blank-version.json", ["invalid-blank-version.json: version: is blank"]],
    ["invalid-users-object.json", ["invalid-users-object.json: users: expected an array of user records, got an object"]],
    ["invalid-instance-string.json", ["invalid-instance-string.json: instance: expected an object, got a string"]],
    [
      "invalid-instance-types.json",
      [
        "invalid-instance-types.json: version: expected a number or a string, got true",
        "invalid-instance-types.json: instance.server_id: expected a string, got a number",
      ],
    ],
    [
      "invalid-wrong-types.json",
      [
        "invalid-wrong-types.json: users[1].emails[0].email: expected a string, got a number",
        "invalid-wrong-types.json: users[2].user_id: expected a positive whole number, got -3",
        "invalid-wrong-types.json: users[3].user_id: expected a positive whole number, got a string",
        "invalid-wrong-types.json: users[4].login: is blank",
        "invalid-wrong-types.json: users[5].login: expected a string, got a number",
        "invalid-wrong-types.json: users[6].emails: expected an array, got a string",
        "invalid-wrong-types.json: users[7].emails[0].primary: expected true or false, got a string",
        "invalid-wrong-types.json: users[8].emails[0]: expected an object, got a string",
        "invalid-wrong-types.json: users[9].user_id: expected a positive whole number, got 1.5",
        "invalid-wrong-types.json: users[10]: expected an object (a user record), got a string",
        "invalid-wrong-types.json: users[11].suspended: expected true or false, got a string",
      ],
    ],
  ];
  it.each(cases)("%s", (name, expected) => {
    const r = readFixture(name);
    expect(refused(r)).toEqual(expected);
  });

  it("explains an encrypted list in both forms", () => {
    const [b64] = refused(readFixture("invalid-encrypted-base64.json"));
    const [pgp] = refused(readFixture("invalid-encrypted-pgp.json"));
    expect(b64).toContain("users: the user list is encrypted (a base64 blob)");
    expect(pgp).toContain("users: the user list is encrypted (a PGP message block, as GHES 2.18 and older write it)");
    for (const m of [b64, pgp]) {
      expect(m).toContain("`ghe-license-usage --unencrypted` on GHES 3.12 and older");
      expect(m).toContain("`ghe-license usage --unencrypted` on later versions (see `ghe-license --help`)");
      expect(m).not.toContain("bm90");
    }
  });

  it("does not call a blank or empty users string encrypted", () => {
    expect(refused(validateExport(doc(""), "f.json"))).toEqual(["f.json: users: expected an array of user records, got an empty string"]);
    expect(refused(validateExport(doc("  "), "f.json"))).toEqual(["f.json: users: expected an array of user records, got a string"]);
  });

  it("never echoes e-mail addresses or other content in errors", () => {
    for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith(".json"))) {
      const r = readFixture(name);
      const findings: Finding[] = r.ok ? r.export.warnings : [...r.errors, ...r.warnings];
      for (const f of findings) expect(f.message).not.toMatch(EMAIL);
    }
    const [bad] = refused(readFixture("unparseable/bad-token.json"));
    expect(bad).not.toMatch(EMAIL);
    expect(bad).not.toContain("secret");
  });

  it("lists at most MAX_ERRORS problems, then how many more", () => {
    const users = Array.from({ length: 100 }, (_, i) => ({ user_id: -i, login: "x" }));
    const r = validateExport(doc(users), "many.json");
    const errs = refused(r);
    expect(errs).toHaveLength(MAX_ERRORS + 1);
    expect(errs[0]).toBe("many.json: users[0].user_id: expected a positive whole number, got 0");
    expect(errs[MAX_ERRORS - 1]).toBe(`many.json: users[${MAX_ERRORS - 1}].user_id: expected a positive whole number, got -${MAX_ERRORS - 1}`);
    expect(errs[MAX_ERRORS]).toBe(`many.json: … and ${100 - MAX_ERRORS} more problems`);
  });

  it("keeps scanning users after the first error, and still reports duplicates on refusal", () => {
    const r = validateExport(
      doc([
        { user_id: 1, login: "" },
        { user_id: 2, login: "b", emails: [{ email: "b@e.test", primary: true }] },
        { user_id: 2, login: "b" },
        { user_id: 3 },
      ]),
      "f.json",
    );
    expect(refused(r)).toEqual(["f.json: users[0].login: is blank", "f.json: users[3].login: is missing"]);
    expect(r.ok ? [] : r.warnings.map((w) => w.path)).toEqual(["users[2].user_id"]);
  });

  it("reports a huge or infinite user_id without its digits", () => {
    const errs = refused(validateExport(doc([{ user_id: 1e300, login: "a" }, { user_id: 2 ** 53, login: "b" }]), "f.json"));
    expect(errs).toEqual([
      "f.json: users[0].user_id: expected a positive whole number, got a number too large to be exact",
      "f.json: users[1].user_id: expected a positive whole number, got a number too large to be exact",
    ]);
    const inf = parseExportText('{"version":1,"instance":{"server_id":"s","host_name":"h"},"users":[{"user_id":1e400,"login":"a"}]}', "i.json");
    expect(inf.ok && refused(validateExport(inf.value, "i.json"))).toEqual([
      "i.json: users[0].user_id: expected a positive whole number, got a number too large to be exact",
    ]);
  });

  it("does not echo a 10,000-character string", () => {
    const long = "x".repeat(10_000);
    const errs = refused(validateExport(doc([{ user_id: long, login: long, emails: long }]), "f.json"));
    expect(errs.join("\n").length).toBeLessThan(400);
    expect(errs).toHaveLength(2);
  });
});

describe("malformed JSON", () => {
  it("gives the line and column of a syntax error", () => {
    expect(refused(readFixture("unparseable/trailing-comma.json"))).toEqual([
      "unparseable/trailing-comma.json: is not valid JSON: expected double-quoted property name at line 5, column 1",
    ]);
  });
  it("locates an unexpected token even when V8 gives no position", () => {
    expect(refused(readFixture("unparseable/bad-token.json"))).toEqual([
      "unparseable/bad-token.json: is not valid JSON: unexpected character at line 4, column 13",
    ]);
  });
  it("calls a file that ends too early truncated", () => {
    expect(refused(readFixture("unparseable/truncated.json"))).toEqual([
      "unparseable/truncated.json: is not valid JSON: it ends too early at line 5, column 82 (truncated?)",
    ]);
  });
  it("accepts text that still starts with a BOM", () => {
    const r = parseExportText('\ufeff{"a":1}', "bom.json");
    expect(r.ok && r.value).toEqual({ a: 1 });
  });
  it("refuses an empty file", () => {
    expect(refused(readExport(new Uint8Array(0), "e.json", LIMITS))).toEqual(["e.json: is empty, not a JSON export"]);
  });
  it.each([
    ['{"a":1}x', "unexpected non-whitespace character after JSON at line 1, column 8"],
    ["[1,-]", "no number after minus sign at line 1, column 5"],
    ['{"a" 1}', "expected ':' after property name at line 1, column 6"],
    ['\n\n  {"a": ttrue}', "unexpected character at line 3, column 9"],
    ["[tru", "it ends too early at line 1, column 5 (truncated?)"],
  ])("%j", (text, message) => {
    const r = parseExportText(text, "t.json");
    expect(r.ok ? "parsed" : r.errors[0].message).toBe(`is not valid JSON: ${message}`);
  });
  it("parses 100,000 nested arrays (V8's parser is iterative) and refuses them as a non-object", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(refused(readExport(Buffer.from(deep), "deep.json", { maxBytes: 1e6 }))).toEqual([
      "deep.json: expected a JSON object at the top level, got an array",
    ]);
    const deepUsers = `{"version":1,"instance":{"server_id":"s","host_name":"h"},"users":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}`;
    expect(refused(readExport(Buffer.from(deepUsers), "deep.json", { maxBytes: 1e6 }))).toEqual([
      "deep.json: users[0]: expected an object (a user record), got an array",
    ]);
  });
});

describe("readExport", () => {
  it("reads gzip the same as plain JSON", () => {
    const plain = readFileSync(SAMPLES + "/" + "code.json");
    const a = valid(readExport(plain, "code.json", LIMITS));
    const b = valid(readExport(gzipSync(plain), "code.json.gz", LIMITS));
    expect(b.accounts).toEqual(a.accounts);
    expect(b.instance).toEqual(a.instance);
  });
});

describe("locateLine", () => {
  const text = readFileSync(new URL("valid-full.json", FIXTURES), "utf8");
  const lines = text.split("\n");
  it.each([
    ["", 1],
    ["version", 2],
    ["instance.server_id", 5],
    ["users[1].emails[0].email", undefined],
    ["users[8].user_id", undefined],
    ["users[99]", undefined],
    ["nope", undefined],
  ])("%s", (path, line) => {
    if (line !== undefined) expect(locateLine(text, path)).toBe(line);
    else if (path.startsWith("users[") && !path.startsWith("users[99]")) {
      const got = locateLine(text, path);
      expect(got).toBeDefined();
      // the line found holds the key the path ends with
      const key = path.slice(path.lastIndexOf(".") + 1);
      expect(lines[(got as number) - 1]).toContain(`"${key}"`);
    } else expect(locateLine(text, path)).toBeUndefined();
  });
  it("finds the line of a wrong-typed value", () => {
    const t = readFileSync(new URL("invalid-wrong-types.json", FIXTURES), "utf8");
    const line = locateLine(t, "users[1].emails[0].email") as number;
    expect(t.split("\n")[line - 1].trim()).toBe('"email": 12345,');
    expect(locateLine(t, "users[10]")).toBe(t.split("\n").indexOf('    "not-a-record",') + 1);
  });
  it("handles compact JSON, escaped keys and duplicate keys like JSON.parse (last wins)", () => {
    expect(locateLine('{"a":1,\n"a":{"b":[0,\n1]}}', "a.b[1]")).toBe(3);
    expect(locateLine('{"\\u0061":\n5}', "a")).toBe(2);
    expect(locateLine('{"s":"]}[{\\"",\n"t":1}', "t")).toBe(2);
  });
});

describe("locateOffset (property)", () => {
  function paths(v: unknown, prefix: string, out: [string, unknown][]): void {
    out.push([prefix, v]);
    if (Array.isArray(v)) v.forEach((x, i) => paths(x, `${prefix}[${i}]`, out));
    else if (typeof v === "object" && v !== null)
      for (const [k, x] of Object.entries(v)) paths(x, prefix === "" ? k : `${prefix}.${k}`, out);
  }
  it("points at the value of every path, in compact and indented JSON", () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/);
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 0 }), tie("arr"), tie("obj")),
      arr: fc.array(tie("tree"), { maxLength: 4 }),
      obj: fc.dictionary(key, tie("tree"), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(tree, fc.constantFrom(0, 2), (doc, indent) => {
        const text = JSON.stringify(doc, null, indent);
        const all: [string, unknown][] = [];
        paths(doc, "", all);
        for (const [path, value] of all) {
          const at = locateOffset(text, path);
          expect(at).toBeGreaterThanOrEqual(0);
          expect(text.startsWith(JSON.stringify(value, null, indent).split("\n")[0], at)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("never throws", () => {
  it("validateExport on arbitrary JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = validateExport(v, "p.json");
        expect(typeof r.ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
  it("validateExport on export-shaped documents with arbitrary parts", () => {
    const anything = fc.jsonValue({ maxDepth: 2 });
    const email = fc.record({ email: fc.oneof(fc.string(), anything), primary: fc.oneof(fc.boolean(), anything) }, { requiredKeys: [] });
    const user = fc.record(
      {
        user_id: fc.oneof(fc.integer(), fc.double(), anything),
        login: fc.oneof(fc.string(), anything),
        emails: fc.oneof(fc.array(email, { maxLength: 3 }), anything),
        suspended: fc.oneof(fc.boolean(), anything),
        suspended_at: anything,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(user, anything), { maxLength: 30 }), anything, (users, version) => {
        const r = validateExport({ version, instance, users }, "p.json");
        const findings = r.ok ? r.export.warnings : r.errors;
        for (const f of findings) expect(f.file).toBe("p.json");
        if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
  it("readExport on arbitrary bytes and arbitrary text", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(typeof readExport(bytes, "b.json", LIMITS).ok).toBe("boolean");
        const gz = Uint8Array.from([0x1f, 0x8b, ...bytes]);
        expect(readExport(gz, "b.json.gz", LIMITS).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(typeof readExport(Buffer.from(s), "s.json", LIMITS).ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
  it("JSON.parse errors always get a position (fallback scanner agrees with V8)", () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom("x", "}", "]", ",", ":", '"', "-", "1", " "), (json, at, ch) => {
        const pos = at % (json.length + 1);
        const text = json.slice(0, pos) + ch + json.slice(pos);
        const r = parseExportText(text, "m.json");
        if (!r.ok) expect(r.errors[0].message).toMatch(/^is (not valid JSON: .* at line \d+, column \d+( \(truncated\?\))?|empty, not a JSON export)$/);
      }),
      { numRuns: 1000 },
    );
  });
});
