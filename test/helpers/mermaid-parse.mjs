// Parses Mermaid charts with Mermaid's own parser in a jsdom window, outside jest (jest's module
// loader and global guards break jsdom and mermaid's ESM). stdin: JSON array of chart texts;
// stdout: JSON array of { type } or { error }.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    const got = await mermaid.parse(text);
    out.push(got ? { type: got.diagramType } : { error: "not a Mermaid chart" });
  } catch (e) {
    out.push({ error: String(e?.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(out));
