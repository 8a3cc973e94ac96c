// COPY … TO STDOUT (FORMAT binary): the parser, whatever the chunks, and the read on a connection
// (PostgreSQL when reachable; always when REQUIRE_POSTGRES=1).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import pg from "pg";
import { copyOutBinary, CopyBinaryParser, type CopyTarget } from "../../src/storage/postgres-copy.js";
import { COPY_PART, Parts } from "../../src/storage/postgres.js";
import { PG_URL, postgresReachable, REQUIRE_POSTGRES } from "./support.js";

type Row = (Uint8Array | null)[];

/** The binary COPY format as the server writes it (with a header extension, which readers skip). */
function copyBytes(rows: Row[], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from("PGCOPY\n\xff\r\n\0", "latin1")];
  const int = (n: number, size: 2 | 4) => {
    const b = Buffer.alloc(size);
    if (size === 2) b.writeInt16BE(n);
    else b.writeInt32BE(n);
    return b;
  };
  parts.push(int(0, 4), int(extension.length, 4), extension);
  for (const row of rows) {
    parts.push(int(row.length, 2));
    for (const f of row) parts.push(f === null ? int(-1, 4) : Buffer.concat([int(f.length, 4), f]));
  }
  parts.push(int(-1, 2));
  return Buffer.concat(parts);
}

function parseInChunks(bytes: Buffer, cuts: number[], texts: boolean[] = [], target?: CopyTarget): (Uint8Array | string | null)[][] {
  const parser = new CopyBinaryParser(texts, target);
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    parser.push(bytes.subarray(at, cut));
    at = cut;
  }
  parser.push(bytes.subarray(at));
  return parser.end();
}

const fieldArb = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null, freq: 5 });
const rowsArb = fc.array(fc.array(fieldArb, { minLength: 1, maxLength: 4 }), { maxLength: 6 });

describe("binary COPY parser", () => {
  it("writes binary fields where a target places them, wherever the chunks are cut (or in a buffer of their own: null); refuses a place of another length", () => {
    fc.assert(
      fc.property(rowsArb, fc.array(fc.nat(), { maxLength: 12 }), (rows, raw) => {
        const bytes = copyBytes(rows);
        const cuts = raw.map((n) => n % (bytes.length + 1));
        // every row's second field (when binary) one after another into one buffer; the others their own
        const placed = rows.flatMap((r) => (r.length > 1 && r[1] ? [r[1]] : []));
        const whole = Buffer.concat(placed);
        const target = Buffer.alloc(whole.length, 0xee);
        let at = 0;
        const got = parseInChunks(bytes, cuts, [], (row, length) => (row.length === 1 ? target.subarray(at, (at += length)) : null));
        expect(target.equals(whole)).toBe(true);
        expect(got.map((r) => r.map((f) => (f === null ? null : [...f])))).toEqual(rows.map((r) => r.map((f) => (f === null ? null : [...f]))));
        at = 0;
        for (const r of got) {
          const f = r[1];
          if (f === null || f === undefined || typeof f === "string") continue;
          expect([f.buffer, f.byteOffset]).toEqual([target.buffer, at]);
          at += f.length;
        }
        if (whole.length > 0) expect(() => parseInChunks(bytes, cuts, [], (row, length) => (row.length === 1 ? Buffer.alloc(length + 1) : null))).toThrow("another length");
      }),
    );
  });

  it("reads back every row and field, wherever the chunks are cut, each field a buffer of its own", () => {
    fc.assert(
      fc.property(rowsArb, fc.uint8Array({ maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (rows, ext, raw) => {
        const bytes = copyBytes(rows, Buffer.from(ext));
        const got = parseInChunks(bytes, raw.map((n) => n % (bytes.length + 1)));
        expect(got.map((r) => r.map((f) => (f === null ? null : [...f])))).toEqual(rows.map((r) => r.map((f) => (f === null ? null : [...f]))));
        for (const f of got.flat()) if (f && typeof f !== "string") expect([f.byteOffset, f.buffer.byteLength]).toEqual([0, f.length]);
      }),
    );
  });

  it("gives the columns marked as texts as their UTF-8 text, wherever the chunks are cut (a character cut in two included)", () => {
    const textArb = fc.option(fc.string({ unit: "binary", maxLength: 12 }).map((t) => Buffer.from(t, "utf8")), { nil: null, freq: 5 });
    const fieldsArb = fc.array(fc.oneof(fieldArb, textArb), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fieldsArb, { maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (rows, texts, raw) => {
        const bytes = copyBytes(rows);
        const got = parseInChunks(bytes, raw.map((n) => n % (bytes.length + 1)), texts);
        const want = rows.map((r) => r.map((f, c) => (f === null ? null : texts[c] ? Buffer.from(f).toString("utf8") : [...f])));
        expect(got.map((r) => r.map((f) => (f === null || typeof f === "string" ? f : [...f])))).toEqual(want);
      }),
    );
    // a 3-byte character cut after its first byte (the first field's bytes start at 25: header 19,
    // field count 2, length 4); a text of several chunks (from 33)
    const long = "Ü".repeat(70_000);
    const bytes = copyBytes([[Buffer.from("€x"), Buffer.from(long)]]);
    expect(parseInChunks(bytes, [26, 40, 40 + 65_536], [true, true])).toEqual([["€x", long]]);
  });

  it("reads a field of several MB cut into network-sized chunks", () => {
    const big = Buffer.alloc(3 * 2 ** 20 + 1);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const bytes = copyBytes([[Buffer.from("srv"), big], [null, Buffer.alloc(0)]]);
    const cuts = Array.from({ length: Math.floor(bytes.length / 65_536) }, (_, i) => (i + 1) * 65_536 - 3);
    const got = parseInChunks(bytes, cuts);
    expect(got).toHaveLength(2);
    expect(Buffer.compare(got[0]![1] as Uint8Array, big)).toBe(0);
    expect(got[1]).toEqual([null, Buffer.alloc(0)]);
  });

  it("refuses what is not binary COPY data, or stops mid-row", () => {
    const bytes = copyBytes([[Buffer.from("a")]]);
    expect(() => parseInChunks(Buffer.from("PGCOPY\nxx\r\n\0\0\0\0\0\0\0\0\0"), [])).toThrow("not binary COPY data");
    expect(() => parseInChunks(bytes.subarray(0, bytes.length - 3), [])).toThrow("COPY data ended mid-row");
    expect(() => parseInChunks(Buffer.concat([bytes, Buffer.from([0])]), [])).toThrow("COPY data after its trailer");
  });
});

const pgUp = await postgresReachable();

describe.each(pgUp || REQUIRE_POSTGRES ? [PG_URL] : [])("binary COPY out of PostgreSQL", (url) => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it("hands back the stored bytes and texts exactly, of any length", async () => {
    const lengths = [0, 1, 2, 3, 4, 5, 255, 65_535, 65_537, 5 * 2 ** 20 + 2];
    await client.query("create temp table copy_out (i int, b bytea, t text, n text)");
    const values = lengths.map((n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * 7919 + n) % 256;
      return b;
    });
    for (const [i, b] of values.entries()) await client.query("insert into copy_out values ($1, $2, $3, null)", [i, b, `Üser '${i}`]);
    const rows = await copyOutBinary(client, "copy (select b, t, n from copy_out order by i) to stdout (format binary)");
    expect(rows).toHaveLength(values.length);
    for (const [i, [b, t, n]] of rows.entries()) {
      expect(b!.length).toBe(values[i]!.length);
      expect(Buffer.compare(b as Buffer, values[i]!)).toBe(0);
      expect(t!.toString("utf8")).toBe(`Üser '${i}`);
      expect(n).toBeNull();
    }
    // the same with the text columns as texts
    const texts = await copyOutBinary(client, "copy (select b, t, n from copy_out order by i) to stdout (format binary)", [false, true, true]);
    expect(texts.map((r) => r.slice(1))).toEqual(values.map((_, i) => [`Üser '${i}`, null]));
    expect(texts.map((r) => r[0])).toEqual(rows.map((r) => r[0]));
  });

  it("fails with the server's error, and the connection goes on", async () => {
    await expect(copyOutBinary(client, "copy (select 1 / (i - i) from generate_series(1, 3) i) to stdout (format binary)")).rejects.toThrow("division by zero");
    await expect(copyOutBinary(client, "copy (select 'x'::bytea) to stdout (format binary)")).resolves.toEqual([[Buffer.from("x")]]);
    expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
  });
});

describe("a value read in parts (PostgreSQL's ledger ids)", () => {
  const part = (k: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(k);
    return [b];
  };
  const value = Uint8Array.from({ length: 2 * COPY_PART + 5 }, (_, i) => (i * 13 + (i >> 20)) & 255);
  const slice = (k: number) => value.subarray(k * COPY_PART, Math.min(value.length, (k + 1) * COPY_PART));

  it("assembles parts come in any order into one buffer of its own", () => {
    const parts = new Parts(value.length);
    for (const k of [2, 0, 1]) parts.part(part(k), slice(k).length).set(slice(k));
    const whole = parts.whole();
    expect([whole.byteOffset, whole.buffer.byteLength]).toEqual([0, value.length]);
    expect(Buffer.from(value).equals(whole)).toBe(true);
  });

  it("refuses a part twice, out of range or of the wrong length, and a value with a part missing", () => {
    const parts = new Parts(value.length);
    parts.part(part(0), COPY_PART);
    expect(() => parts.part(part(0), COPY_PART)).toThrow("out of place");
    expect(() => parts.part(part(3), 1)).toThrow("out of place");
    expect(() => parts.part(part(2), COPY_PART)).toThrow("out of place");
    expect(() => parts.part(["2"], 5)).toThrow("out of place");
    expect(() => parts.whole()).toThrow("missing");
    parts.part(part(2), 5);
    parts.part(part(1), COPY_PART);
    expect(parts.whole().length).toBe(value.length);
  });
});
