// Hostile files on the command line: `license-sync validate|report` exits 1, names each file, prints
// no stack trace, no error class and no content; nothing on stdout for a refused report.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main, processIo } from "../../src/cli/main.js";
import { CORPUS, OVER_CAP_BOMB_MIB, exportText, gzipBomb } from "./corpus.js";
import { expectPlainText } from "./support.js";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { ...processIo, stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

let tmp: string;
/** Each file, the path its refusal must name ("" for the whole file) and its message. */
const files: { file: string; path: string; message: RegExp }[] = [];

/** The text after "FILE: " is "PATH: MESSAGE" (or just MESSAGE for the whole file). */
function expectLine(rest: string, path: string, message: RegExp): void {
  if (path !== "") {
    expect(rest.startsWith(`${path}: `) ? path : rest).toBe(path);
    rest = rest.slice(path.length + 2);
  }
  expect(rest).toMatch(message);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "license-sync-hostile-"));
  const put = (name: string, bytes: Buffer | string, path: string, message: RegExp) => {
    const file = join(tmp, name);
    writeFileSync(file, bytes);
    files.push({ file, path, message });
  };
  for (const [i, item] of CORPUS.entries()) {
    if (item.expect.verdict !== "refused") continue;
    put(`item-${i}.json`, item.bytes(), item.expect.path, item.expect.message);
  }
  // Over the cap is enough here; the 2 GB bomb's memory bound is corpus.test.ts's.
  put("bomb.json.gz", gzipBomb(OVER_CAP_BOMB_MIB), "", /^is gzip-compressed and inflates to more than 100 MB/);
  // 200 MB without writing 200 MB: a sparse file. The CLI refuses it from its size alone.
  const big = join(tmp, "big.json");
  writeFileSync(big, exportText());
  truncateSync(big, 200 * 1024 * 1024);
  files.push({ file: big, path: "", message: /^is larger than the size limit of 104857600 bytes \(--max-bytes\); it was not read/ });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("license-sync on hostile files", () => {
  it("report --json: exit 1, nothing on stdout, plain lines naming each file, the first one its path, no stack trace", async () => {
    const r = await run("report", "--json", ...files.map((f) => f.file));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expectPlainText(r.err);
    expect(r.err).not.toContain("    at ");
    for (const { file, path, message } of files) {
      const mine = r.err.split("\n").filter((l) => l.startsWith(`${file}: `));
      expect({ file, named: mine.length > 0 }).toEqual({ file, named: true });
      expectLine(mine[0]!.slice(file.length + 2), path, message);
    }
    expect(r.err.split("\n").filter((l) => l !== "" && !files.some((f) => l.startsWith(`${f.file}: `)))).toEqual([]);
  }, 30_000);

  it("validate checks every file the same way, each alone", async () => {
    for (const { file, path, message } of files) {
      const r = await run("validate", file);
      expect({ file, code: r.code, out: r.out }).toEqual({ file, code: 1, out: "" });
      const [first] = r.err.split("\n");
      expect(first!.startsWith(`${file}: `)).toBe(true);
      expectLine(first!.slice(file.length + 2), path, message);
      expectPlainText(r.err);
    }
  }, 30_000);

  it("accepts a BOM, __proto__ keys everywhere and deep unknown keys, and counts Object.prototype names as plain logins", async () => {
    const accepted = CORPUS.filter((i) => i.expect.verdict === "accepted").map((item, i) => {
      const file = join(tmp, `ok-${i}.json`);
      writeFileSync(file, item.bytes());
      return file;
    });
    const r = await run("validate", ...accepted);
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter(Boolean)).toHaveLength(accepted.length);

    // Logins that name Object.prototype members must behave like any login under --match-logins.
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty"];
    const fleet = (server: string) =>
      exportText(names.map((login, k) => `{"user_id":${k + 1},"login":"${login}","emails":[{"email":"${login}@${server}.example","primary":true}]}`)).replace(
        /"server_id":"[^"]*"/,
        `"server_id":"${server}"`,
      );
    const a = join(tmp, "fleet-a.json");
    const b = join(tmp, "fleet-b.json");
    writeFileSync(a, fleet("a"));
    writeFileSync(b, fleet("b"));
    const apart = JSON.parse((await run("report", "--json", a, b)).out) as { seats: number; accounts: number };
    expect(apart).toMatchObject({ seats: 8, accounts: 8 });
    const matched = await run("report", "--json", "--match-logins", a, b);
    expect(matched.code).toBe(0);
    expect(JSON.parse(matched.out)).toMatchObject({ seats: 4, accounts: 8, deduplicated: 4 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
