// The configuration keys are declared once (CONFIG_KEYS); the published JSON Schema and the
// README's table are derived from them and must stay in step. UPDATE_CONFIG_DOCS=1 rewrites both.
import { describe, expect, it } from "@jest/globals";
import { readFileSync, writeFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { CONFIG_KEYS, configJsonSchema, configKeysMarkdown, parseRepoConfig } from "../../src/domain/repo-config.js";

const SCHEMA_FILE = new URL("../../schema/license-sync-config.schema.json", import.meta.url);
const README = new URL("../../README.md", import.meta.url);
const START = "<!-- config-keys:start (generated from CONFIG_KEYS in src/domain/repo-config.ts) -->";
const END = "<!-- config-keys:end -->";

const expectedSchema = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

function readmeTable(text: string): string {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} … ${END} block`);
  return text.slice(a + START.length, b).trim();
}

if (process.env.UPDATE_CONFIG_DOCS === "1") {
  writeFileSync(SCHEMA_FILE, expectedSchema);
  const text = readFileSync(README, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  writeFileSync(README, `${text.slice(0, a + START.length)}\n${configKeysMarkdown()}\n${text.slice(b)}`);
}

describe("schema/license-sync-config.schema.json", () => {
  it("is exactly what CONFIG_KEYS derives (UPDATE_CONFIG_DOCS=1 npm test -- config-schema to refresh)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(expectedSchema);
  });

  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  const accepts = ajv.compile(configJsonSchema());

  it("agrees with the validator on valid and invalid files", () => {
    const cases: unknown[] = [
      {},
      { paths: "a/*.json", branch: "usage", match: { all_emails: true, logins: false }, purchased_seats: 10, stale_after_days: 3 },
      { show_logins_in_savings: true, close_issues_when_recorded: false, dashboard: false },
      { dashboard: { title: "Seats" } },
      { match: null, purchased_seats: null, dashboard: null },
      { purchased_seat: 10 },
      { purchased_seats: 0 },
      { purchased_seats: 1.5 },
      { stale_after_days: "soon" },
      { paths: [] },
      { paths: ["ok", 3] },
      { branch: "" },
      { branch: "a b" },
      { match: { email: true } },
      { match: 3 },
      { dashboard: "off" },
      { dashboard: { title: "" } },
      { dashboard: { title: "a\nb" } },
      { dashboard: { title: "x".repeat(257) } },
      { dashboard: { titel: "x" } },
    ];
    for (const c of cases) expect([c, accepts(c)]).toEqual([c, parseRepoConfig(c).ok]);
  });

  it("describes every key and gives the default of every key that has one", () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string; properties?: Record<string, unknown> }> };
    for (const k of CONFIG_KEYS) {
      const path = k.name.split(".");
      const prop = path.length === 1 ? schema.properties[path[0]!] : (schema.properties[path[0]!]!.properties![path[1]!] as { description?: string });
      expect([k.name, prop?.description]).toEqual([k.name, k.meaning]);
    }
  });
});

describe("README configuration table", () => {
  it("is the table CONFIG_KEYS derives", () => {
    expect(readmeTable(readFileSync(README, "utf8"))).toBe(configKeysMarkdown());
  });
});
