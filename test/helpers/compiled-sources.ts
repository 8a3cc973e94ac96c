// Every source file as JavaScript (types stripped, as the build makes it), in a folder of this run:
// a worker thread cannot run the TypeScript sources the tests run.
import { afterAll, beforeAll } from "@jest/globals";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The compiled sources' folder (an ES module package inside the project, so they find its node_modules); `remove` deletes it. */
export function compileSources(): { out: string; remove: () => void } {
  const cache = join(root, "node_modules/.cache");
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, "license-sync-worker-"));
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts")) {
        const js = ts.transpileModule(readFileSync(path, "utf8"), {
          fileName: path,
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true },
        }).outputText;
        const to = join(out, relative(join(root, "src"), path)).replace(/\.ts$/, ".js");
        mkdirSync(dirname(to), { recursive: true });
        writeFileSync(to, js);
      }
    }
  };
  walk(join(root, "src"));
  return { out, remove: () => rmSync(out, { recursive: true, force: true }) };
}

/**
 * For a test file: the sources compiled before its tests and a scratch folder of its own (`prefix`),
 * both removed after them. The getters are read inside tests.
 */
export function compiledSourcesForTests(prefix: string): { out: () => string; dir: () => string } {
  let compiled: { out: string; remove: () => void } | null = null;
  let scratch = "";
  beforeAll(() => {
    compiled = compileSources();
    scratch = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    compiled?.remove();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  return {
    out: () => compiled!.out,
    dir: () => scratch,
  };
}
