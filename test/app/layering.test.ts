// Who may import whom: handlers sit on top (none imports another handler or the app's index), the
// answering steps below them, the domain imports nothing from outer layers.
import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, relative, resolve } from "node:path";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

function imports(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const f of readdirSync(join(SRC, dir)).filter((n) => n.endsWith(".ts"))) {
    const text = readFileSync(join(SRC, dir, f), "utf8");
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/gm)) {
      out.push({ file: `${dir}/${f}`, target: relative(SRC, resolve(dirname(join(SRC, dir, f)), m[1]!)).replace(/\.js$/, ".ts") });
    }
  }
  return out;
}

describe("layering", () => {
  it("no handler imports another handler or src/index.ts", () => {
    const bad = imports("handlers").filter((i) => i.target.startsWith("handlers/") || i.target === "index.ts");
    expect(bad).toEqual([]);
    expect(imports("handlers").length).toBeGreaterThan(5);
  });

  it("the answering steps import no handler and not the index", () => {
    const bad = imports("answer").filter((i) => i.target.startsWith("handlers/") || i.target === "index.ts");
    expect(bad).toEqual([]);
  });

  it("the domain imports nothing outside src/domain", () => {
    const bad = imports("domain").filter((i) => !i.target.startsWith("domain/"));
    expect(bad).toEqual([]);
  });
});
