import { createHmac } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { createHmacSha256, queueUsesSimd } from "../../src/ledger/hmac.js";

const reference = (key: string | Uint8Array, message: string, bytes: number) =>
  createHmac("sha256", key).update(message, "utf8").digest().subarray(0, bytes).toString("base64url");

describe("createHmacSha256", () => {
  it("matches node:crypto on RFC 4231 test case 2", () => {
    const hex = Buffer.from(createHmacSha256("Jefe")("what do ya want for nothing?"), "base64url").toString("hex");
    expect(hex).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("matches node:crypto at every padding boundary and for long keys", () => {
    const keys = ["", "k", "k".repeat(63), "k".repeat(64), "k".repeat(65), "ключ", new Uint8Array([0, 255, 128])];
    for (const key of keys) {
      const mac = createHmacSha256(key, 32, 16);
      for (const len of [0, 1, 54, 55, 56, 63, 64, 65, 119, 120, 200, 5000]) {
        const message = "a".repeat(len);
        expect(mac(message)).toBe(reference(key, message, 32));
      }
    }
  });

  it("matches node:crypto for any key and message, ASCII or not, truncated or not", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 100 }),
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.integer({ min: 1, max: 32 }),
        (key, message, bytes) => {
          const mac = createHmacSha256(key, bytes);
          // twice: the scratch buffers are reused between calls
          expect(mac(message)).toBe(reference(key, message, bytes));
          expect(mac(message + "x")).toBe(reference(key, message + "x", bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("writes the first 16 bytes of the same digest into a pool, from text or from ASCII bytes lower-cased", () => {
    const digest = (key: string, message: string) => createHmac("sha256", key).update(message, "utf8").digest().subarray(0, 16);
    const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 130 });
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), fc.oneof(ascii, fc.string({ unit: "binary", maxLength: 90 })), ascii, fc.nat(40), (key, text, bytesText, at) => {
        const mac = createHmacSha256(key, 16);
        const out = new Uint8Array(at + 16);
        mac.textInto(text, out, at);
        expect(Buffer.from(out.subarray(at))).toStrictEqual(digest(key, text));
        expect(Buffer.from(out.subarray(at)).toString("base64url")).toBe(mac(text));
        const b = Buffer.from("xx" + bytesText + "yy", "latin1");
        mac.lowerAsciiInto(b, 2, b.length - 2, out, at);
        expect(Buffer.from(out.subarray(at))).toStrictEqual(digest(key, bytesText.replace(/[A-Z]+/g, (s) => s.toLowerCase())));
      }),
      { numRuns: 500 },
    );
    // every length around the one-block limit (55 bytes)
    const mac = createHmacSha256("k", 16);
    const out = new Uint8Array(16);
    for (let len = 0; len < 130; len++) {
      const m = "Ab".repeat(len).slice(0, len);
      mac.lowerAsciiInto(Buffer.from(m), 0, len, out, 0);
      expect(Buffer.from(out)).toStrictEqual(digest("k", m.toLowerCase()));
      mac.textInto(m, out, 0);
      expect(Buffer.from(out)).toStrictEqual(digest("k", m));
    }
  });

  it("assembles a valid SIMD module wherever the runtime has WebAssembly SIMD (else the queue's plain JS would stand in unnoticed)", () => {
    // the smallest SIMD module: one function returning v128.const 0
    const simd = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 22, 1, 20, 0, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b]);
    const runtime = (globalThis as { WebAssembly?: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(queueUsesSimd()).toBe(runtime?.validate(simd) ?? false);
  });

  it("queues short ASCII addresses and computes their keys together, in WebAssembly SIMD or in plain JS, as lowerAsciiInto does", () => {
    const digest = (key: string, message: string) => createHmac("sha256", key).update(message, "utf8").digest().subarray(0, 16);
    for (const simd of [true, false]) {
      const mac = createHmacSha256("queue key", 16, 1024, simd);
      const q = mac.queue;
      expect(q.capacity % 4).toBe(0);
      // every length up to the one-block limit, then more than a queue holds (several runs, a last partial group)
      const messages = Array.from({ length: 2 * q.capacity + 3 }, (_, i) => "Ab~@.".repeat(12).slice(i % 5, (i % 5) + (i % 56)));
      const out = new Uint8Array(16);
      for (let start = 0; start < messages.length; start += q.capacity) {
        q.clear();
        const part = messages.slice(start, start + q.capacity);
        for (const m of part) expect(q.lowerAscii(Buffer.from(`"${m}"`, "latin1"), 1, m.length + 1)).toBe(true);
        expect(q.length).toBe(part.length);
        q.run();
        part.forEach((m, k) => {
          q.keyInto(k, out, 0);
          expect(Buffer.from(out)).toStrictEqual(digest("queue key", m.toLowerCase()));
        });
      }
      // longer than one block: not queued
      q.clear();
      expect(q.lowerAscii(Buffer.alloc(56, 0x61), 0, 56)).toBe(false);
      expect(q.length).toBe(0);
      // same(): equal messages, whatever their case; pop() drops the last
      for (const m of ["A@x", "a@X", "a@xx", "b@x"]) q.lowerAscii(Buffer.from(m), 0, m.length);
      expect([q.same(0, 1), q.same(0, 2), q.same(1, 3), q.same(2, 2)]).toStrictEqual([true, false, false, true]);
      q.pop();
      expect(q.length).toBe(3);
      q.run();
      q.keyInto(2, out, 0);
      expect(Buffer.from(out)).toStrictEqual(digest("queue key", "a@xx"));
    }
  });
});
