import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { DISPLAY_ONLY_FIELDS, validateExport } from "../../src/domain/validate.js";
import { SAMPLES } from "../helpers/samples.js";

const schema = JSON.parse(readFileSync(new URL("../../schema/license-usage-export.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;
// strict: an unknown keyword or a mistake in the schema fails here; union types are plain 2020-12.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const schemaAccepts = ajv.compile(schema);

const FIXTURES = new URL("../fixtures/exports/", import.meta.url);

function corpus(): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith(".json"))) {
    out.push([`fixtures/${f}`, JSON.parse(readFileSync(new URL(f, FIXTURES), "utf8"))]);
  }
  for (const f of readdirSync(SAMPLES).filter((n) => n.endsWith(".json"))) {
    out.push([`samples/${f}`, JSON.parse(readFileSync(SAMPLES + "/" + f, "utf8"))]);
  }
  return out;
}

describe("schema/license-usage-export.schema.json", () => {
  it("is a draft 2020-12 schema with an $id, a title and a description", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(typeof schema.$id).toBe("string");
    expect(schema.title).toBeTruthy();
    expect(schema.description).toBeTruthy();
    expect(schema.additionalProperties).toBeUndefined();
  });

  it("constrains no display-only instance field, and says another type is a warning, never a refusal", () => {
    const fields = ((schema.properties as Record<string, Record<string, unknown>>).instance!.properties ?? {}) as Record<string, Record<string, unknown>>;
    expect(DISPLAY_ONLY_FIELDS.map((f) => f.key)).toEqual(["version", "http_only", "license", "public_key", "features"]);
    for (const { key } of DISPLAY_ONLY_FIELDS) {
      expect({ key, keywords: Object.keys(fields[key] ?? {}) }).toEqual({ key, keywords: ["title", "description"] });
      expect(fields[key]!.description).toMatch(/warning.*never (a )?refus/);
    }
  });

  const docs = corpus();
  it("has a corpus with both verdicts", () => {
    const verdicts = docs.map(([, v]) => validateExport(v, "x").ok);
    expect(verdicts.filter(Boolean).length).toBeGreaterThanOrEqual(6); // 3 fixtures + 3 samples
    expect(verdicts.filter((ok) => !ok).length).toBeGreaterThanOrEqual(14);
  });

  it.each(docs)("agrees with validateExport on %s", (_name, doc) => {
    expect(schemaAccepts(doc)).toBe(validateExport(doc, "x.json").ok);
  });

  it("agrees on export-shaped documents with arbitrary parts", () => {
    const anything = fc.jsonValue({ maxDepth: 2 });
    const str = fc.oneof(fc.constantFrom("", " ", "\t\n", "\u00a0", "x", " y "), fc.string());
    const email = fc.record(
      { email: fc.oneof(str, anything), primary: fc.oneof(fc.boolean(), fc.constant(null), anything), extra: anything },
      { requiredKeys: [] },
    );
    const user = fc.record(
      {
        user_id: fc.oneof(
          fc.constantFrom(0, -1, 1, 1.5, 2 ** 53 - 1, 2 ** 53, 1e21, "7"),
          fc.integer(),
          fc.double(),
          anything,
        ),
        login: fc.oneof(str, anything),
        emails: fc.oneof(fc.array(email, { maxLength: 3 }), fc.constant(null), anything),
        suspended: fc.oneof(fc.boolean(), fc.constant(null), anything),
        suspended_at: anything,
        __proto__: anything,
      },
      { requiredKeys: [] },
    );
    const instance = fc.record(
      {
        server_id: fc.oneof(str, anything),
        host_name: fc.oneof(str, anything),
        version: fc.oneof(str, fc.constant(null), anything),
        http_only: fc.oneof(fc.boolean(), fc.constant(null), anything),
        license: fc.oneof(str, fc.constant(null), anything),
        public_key: fc.oneof(str, fc.constant(null), anything),
        features: fc.oneof(fc.constant([]), fc.constant(null), anything),
      },
      { requiredKeys: [] },
    );
    const doc = fc.record(
      {
        version: fc.oneof(fc.integer(), str, anything),
        instance: fc.oneof(instance, anything),
        users: fc.oneof(fc.array(fc.oneof(user, user, anything), { maxLength: 5 }), str, anything),
        extra: anything,
      },
      { requiredKeys: [] },
    );
    // Mostly-valid documents, so that both verdicts come up often.
    const validEmail = fc.record({ email: fc.string(), primary: fc.option(fc.boolean()) }, { requiredKeys: ["email"] });
    const validUser = fc.record(
      {
        user_id: fc.integer({ min: 1 }),
        login: fc.string({ minLength: 1 }).map((s) => `u${s}`),
        emails: fc.option(fc.array(validEmail, { maxLength: 2 })),
        suspended: fc.option(fc.boolean()),
      },
      { requiredKeys: ["user_id", "login"] },
    );
    const nearlyValid = fc.record({
      version: fc.oneof(fc.integer(), fc.constant("1")),
      instance: fc.oneof(fc.constant({ server_id: "s", host_name: "h" }), instance),
      users: fc.array(fc.oneof({ weight: 8, arbitrary: validUser }, { weight: 1, arbitrary: user }), { maxLength: 5 }),
    });
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(doc, nearlyValid, anything), (d) => {
        // round-trip through JSON text: the schema judges documents, not JS values
        const v = JSON.parse(JSON.stringify(d) ?? "null") as unknown;
        const ok = validateExport(v, "p.json").ok;
        if (ok) accepted++;
        else refused++;
        expect(schemaAccepts(v)).toBe(ok);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
