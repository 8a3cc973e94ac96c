import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { readCloudReportPages } from "../../src/domain/cloud-report.js";

const schema = JSON.parse(readFileSync(new URL("../../schema/ghec-license-report.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const schemaAccepts = ajv.compile(schema);

/** What the reader makes of a JSON cloud report: an array is pages, an object one page. */
function readerAccepts(doc: unknown): boolean {
  if (Array.isArray(doc)) return doc.length > 0 && readCloudReportPages(doc, "x.json").ok;
  return readCloudReportPages([doc], "x.json").ok;
}

const fixture = (f: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/cloud/${f}`, import.meta.url), "utf8"));

describe("schema/ghec-license-report.schema.json", () => {
  it("is a draft 2020-12 schema with an $id, a title and a description", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(typeof schema.$id).toBe("string");
    expect(schema.title).toBeTruthy();
    expect(schema.description).toBeTruthy();
  });

  it.each([
    ["report-pages.json", true],
    ["bad-types.json", false],
  ])("agrees with the reader on the fixture %s (valid: %s)", (f, valid) => {
    const doc = fixture(f);
    expect(readerAccepts(doc)).toBe(valid);
    expect(schemaAccepts(doc)).toBe(valid);
  });

  it("agrees with the reader on report-shaped documents with arbitrary parts", () => {
    const anything = fc.jsonValue({ maxDepth: 2 });
    const strings = fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.constant(null), anything);
    const user = fc.record(
      {
        github_com_user: fc.oneof(fc.boolean(), fc.constant(null), anything),
        github_com_login: fc.oneof(fc.string(), fc.constant(null), anything),
        github_com_saml_name_id: fc.oneof(fc.string(), fc.constant(null), anything),
        license_type: fc.oneof(fc.constantFrom("Enterprise", "Visual Studio subscription"), anything),
        github_com_verified_domain_emails: strings,
        enterprise_server_user_ids: fc.oneof(fc.array(fc.constantFrom("h.example:1", "nohost", "h:x", ":2"), { maxLength: 3 }), strings),
        extra: anything,
      },
      { requiredKeys: [] },
    );
    const page = fc.record(
      {
        total_seats_consumed: fc.oneof(fc.constantFrom(0, 5, -1, 1.5, 2 ** 53, null), anything),
        users: fc.oneof(fc.array(fc.oneof(user, anything), { maxLength: 4 }), anything),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(page, fc.array(page, { maxLength: 3 })), (doc) => {
        expect(schemaAccepts(doc)).toBe(readerAccepts(doc));
      }),
      { numRuns: 400 },
    );
  });
});
