import { describe, expect, it } from "@jest/globals";
import { gzipSync } from "node:zlib";
import { DEFAULT_READ_LIMITS, decodeExport, firstInvalidUtf8 } from "../../src/domain/decode.js";
import { readExport } from "../../src/domain/validate.js";

const MB = 1024 * 1024;
const json = '{"version":1,"instance":{"server_id":"s","host_name":"h"},"users":[]}';

function text(r: ReturnType<typeof decodeExport>): string {
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
  return r.text;
}
function refusal(r: ReturnType<typeof decodeExport>): string {
  if (r.ok) throw new Error("expected a refusal");
  expect(r.errors).toHaveLength(1);
  expect(r.errors[0].path).toBe("");
  return r.errors[0].message;
}

describe("decodeExport", () => {
  it("decodes plain UTF-8 JSON, keeping non-ASCII text", () => {
    const s = '{"login":"Zoë ✓ 𝄞"}';
    expect(text(decodeExport(Buffer.from(s), "a.json", { maxBytes: MB }))).toBe(s);
  });

  it("has a default limit of 100 MB", () => {
    expect(DEFAULT_READ_LIMITS.maxBytes).toBe(100 * MB);
  });

  it("strips a leading BOM, and only a leading one", () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    expect(text(decodeExport(bytes, "bom.json", { maxBytes: MB }))).toBe(json);
    expect(readExport(bytes, "bom.json", { maxBytes: MB }).ok).toBe(true);
    const inner = Buffer.from('{"a":"\ufeff"}');
    expect(text(decodeExport(inner, "inner.json", { maxBytes: MB }))).toBe('{"a":"\ufeff"}');
  });

  it("inflates gzip detected by magic bytes, whatever the file name says", () => {
    const gz = gzipSync(Buffer.from(json));
    expect(text(decodeExport(gz, "usage.json", { maxBytes: MB }))).toBe(json);
    expect(text(decodeExport(gz, "usage.json.gz", { maxBytes: MB }))).toBe(json);
    // and a plain file named .gz is read as plain
    expect(text(decodeExport(Buffer.from(json), "usage.json.gz", { maxBytes: MB }))).toBe(json);
  });

  it("inflates concatenated gzip members and a gzipped BOM", () => {
    const bytes = Buffer.concat([gzipSync(Buffer.from("\ufeff" + json.slice(0, 10))), gzipSync(Buffer.from(json.slice(10)))]);
    expect(text(decodeExport(bytes, "multi.json.gz", { maxBytes: MB }))).toBe(json);
  });

  it("refuses a gzip bomb quickly, without inflating it all", () => {
    // 200 MB of zeros compresses to ~200 KB
    const bomb = gzipSync(Buffer.alloc(200 * MB), { level: 9 });
    expect(bomb.length).toBeLessThan(MB);
    const t0 = process.hrtime.bigint();
    const msg = refusal(decodeExport(bomb, "bomb.json.gz", { maxBytes: MB }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(msg).toBe("is gzip-compressed and inflates to more than 1 MB, the size limit; it was not read");
    // a full inflate of 200 MB takes far longer than this; stopping at 1 MB takes a few ms
    expect(ms).toBeLessThan(500);
  });

  it("accepts gzip inflating to exactly the cap, refuses one byte more", () => {
    const exact = gzipSync(Buffer.alloc(1000, 0x20));
    expect(decodeExport(exact, "a.gz", { maxBytes: 1000 }).ok).toBe(true);
    expect(refusal(decodeExport(exact, "a.gz", { maxBytes: 999 }))).toMatch(/^is gzip-compressed and inflates to more than 999 bytes/);
  });

  it("refuses a plain file over the cap before decoding it", () => {
    const big = Buffer.alloc(MB + 1, 0x20);
    expect(refusal(decodeExport(big, "big.json", { maxBytes: MB }))).toBe(
      "is larger than the size limit of 1 MB; it was not read",
    );
    expect(refusal(decodeExport(Buffer.alloc(3 * MB), "big.json", { maxBytes: 2 * MB }))).toBe(
      "is 3 MB, over the size limit of 2 MB; it was not read",
    );
    expect(decodeExport(Buffer.alloc(MB, 0x20), "ok.json", { maxBytes: MB }).ok).toBe(true);
  });

  it("refuses damaged or truncated gzip", () => {
    const gz = gzipSync(Buffer.from(json));
    expect(refusal(decodeExport(gz.subarray(0, gz.length - 12), "t.json.gz", { maxBytes: MB }))).toBe(
      "is gzip-compressed but damaged or truncated; compress the export again and re-upload it",
    );
    expect(refusal(decodeExport(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), "x.gz", { maxBytes: MB }))).toMatch(/damaged/);
  });

  it("refuses invalid UTF-8 with the offset of the first bad byte", () => {
    const bytes = Buffer.concat([Buffer.from('{"login":"ab'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(refusal(decodeExport(bytes, "latin.json", { maxBytes: MB }))).toBe("is not valid UTF-8 (first bad byte at offset 12)");
    // same inside gzip: the offset is in the inflated text
    expect(refusal(decodeExport(gzipSync(bytes), "latin.json.gz", { maxBytes: MB }))).toBe(
      "is not valid UTF-8 (first bad byte at offset 12)",
    );
  });

  it("recognizes UTF-16 and says what to do", () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, "utf16le")]);
    expect(refusal(decodeExport(utf16, "win.json", { maxBytes: MB }))).toBe(
      "is not valid UTF-8 (it looks like UTF-16); save the export as UTF-8",
    );
  });
});

describe("firstInvalidUtf8", () => {
  it.each([
    [[0x41, 0x80], 1], // lone continuation byte
    [[0xc0, 0xaf], 0], // overlong
    [[0xe0, 0x80, 0x80], 0], // overlong 3-byte
    [[0xed, 0xa0, 0x80], 0], // UTF-16 surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x41, 0xe2, 0x82], 1], // truncated sequence
    [[0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x84, 0x9e, 0xff], 7],
  ])("%j -> %d", (bytes, offset) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(offset);
  });
});
