// Mermaid's own parser (mermaid + jsdom, in a child process: see mermaid-parse.mjs). Every
// ```mermaid block of a rendered body is parsed; a chart GitHub could not draw fails the test with
// Mermaid's message.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./mermaid-parse.mjs", import.meta.url));

/** The bodies of the ```mermaid blocks of a Markdown text. */
export function mermaidBlocks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)) out.push(m[1]!);
  return out;
}

/** Parses every block of every text (one process for all); the diagram types, or throws Mermaid's error. */
export function parseCharts(...markdown: string[]): string[] {
  const blocks = markdown.flatMap(mermaidBlocks);
  const raw = execFileSync(process.execPath, [SCRIPT], { input: JSON.stringify(blocks), encoding: "utf8", timeout: 60_000 });
  const results = JSON.parse(raw) as ({ type: string } | { error: string })[];
  return results.map((r, i) => {
    if ("error" in r) throw new Error(`Mermaid refused the chart: ${r.error}\n${blocks[i]}`);
    return r.type;
  });
}
