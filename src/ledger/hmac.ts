// HMAC-SHA-256 for many short messages under one key (RFC 2104 with the key's inner and outer
// states computed once). Hashing every e-mail of a 100,000-account export through node:crypto costs
// one native call and object per address; this does the same arithmetic in plain JS, about three
// times faster for addresses of e-mail size. Tested against createHmac for equality.
import { createHash } from "node:crypto";

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const w = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes at `block[offset]` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const o = offset + i * 4;
    w[i] = (block[o]! << 24) | (block[o + 1]! << 16) | (block[o + 2]! << 8) | block[o + 3]!;
  }
  compressWords(state);
}

/** One SHA-256 compression of the block already in w[0..16) (big-endian words) into `state`. */
function compressWords(state: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  let e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** Pads `len` message bytes at buf[0..len) (preceded by `prefix` hashed bytes) and compresses them all. */
function finish(state: Int32Array, buf: Uint8Array, len: number, prefix: number): void {
  const total = len + 9;
  const padded = Math.ceil(total / 64) * 64;
  buf[len] = 0x80;
  buf.fill(0, len + 1, padded - 4);
  const bits = (prefix + len) * 8; // messages stay far below 2^32 bits
  buf[padded - 4] = bits >>> 24;
  buf[padded - 3] = (bits >>> 16) & 0xff;
  buf[padded - 2] = (bits >>> 8) & 0xff;
  buf[padded - 1] = bits & 0xff;
  for (let o = 0; o < padded; o += 64) compress(state, buf, o);
}

/** The state's eight words, big-endian, into out[0..32). */
function digestInto(state: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = (v >>> 16) & 0xff;
    out[i * 4 + 2] = (v >>> 8) & 0xff;
    out[i * 4 + 3] = v & 0xff;
  }
}

/** Writes 16-byte identity keys into a pool of bytes (see fast-read.ts's KeyWriter). */
export interface HmacSha256 {
  (message: string): string;
  /** Bytes of each digest `(message)` returns (before base64url). */
  readonly bytes: number;
  /** The first 16 bytes of the HMAC of utf8(message) into out[at..at+16). */
  textInto(message: string, out: Uint8Array, at: number): void;
  /** The same for the message b[from..to) of ASCII bytes, A-Z lower-cased first (a normalized address, with no string made). */
  lowerAsciiInto(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void;
}

/**
 * `(message) => first `bytes` bytes of HMAC-SHA-256(key, utf8(message))`, base64url. Messages longer
 * than `maxMessageBytes` in UTF-8 are still hashed correctly, through a larger buffer.
 */
export function createHmacSha256(key: string | Uint8Array, bytes = 32, maxMessageBytes = 1024): HmacSha256 {
  let k = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
  if (k.length > 64) k = createHash("sha256").update(k).digest();
  const pad = new Uint8Array(64);
  const inner = new Int32Array(IV);
  const outer = new Int32Array(IV);
  for (let i = 0; i < 64; i++) pad[i] = (k[i] ?? 0) ^ 0x36;
  compress(inner, pad, 0);
  for (let i = 0; i < 64; i++) pad[i] = (k[i] ?? 0) ^ 0x5c;
  compress(outer, pad, 0);

  const encoder = new TextEncoder();
  let buf = new Uint8Array(maxMessageBytes + 72);
  const state = new Int32Array(8);
  const out = Buffer.alloc(96);
  /** UTF-8 of message into buf: ASCII by hand (the usual case), anything else by TextEncoder; its length. */
  const encode = (message: string): number => {
    let len = message.length;
    if (len * 3 + 72 > buf.length) buf = new Uint8Array(len * 3 + 72);
    for (let i = 0; i < len; i++) {
      const c = message.charCodeAt(i);
      if (c > 0x7f) {
        len = encoder.encodeInto(message, buf).written;
        break;
      }
      buf[i] = c;
    }
    return len;
  };
  /** HMAC of buf[0..len) into state (big-endian words). */
  const mac = (len: number): void => {
    state.set(inner);
    finish(state, buf, len, 64);
    digestInto(state, out);
    state.set(outer);
    finish(state, out, 32, 64);
  };
  const hmac = (message: string): string => {
    mac(encode(message));
    digestInto(state, out);
    return out.toString("base64url", 0, bytes);
  };
  // A message of at most 55 bytes is one block, packed into words as it is read; the outer hash
  // takes the inner digest as words. The same arithmetic as mac(), without the byte round trips.
  const macBlock = (len: number): void => {
    w[len >> 2]! |= 0x80 << (24 - 8 * (len & 3));
    w[15] = (64 + len) * 8;
    state.set(inner);
    compressWords(state);
    for (let i = 0; i < 8; i++) w[i] = state[i]!;
    w[8] = 0x80000000;
    for (let i = 9; i < 15; i++) w[i] = 0;
    w[15] = 96 * 8;
    state.set(outer);
    compressWords(state);
  };
  const firstSixteen = (target: Uint8Array, at: number): void => {
    for (let i = 0; i < 4; i++) {
      const v = state[i]!;
      target[at + i * 4] = v >>> 24;
      target[at + i * 4 + 1] = (v >>> 16) & 0xff;
      target[at + i * 4 + 2] = (v >>> 8) & 0xff;
      target[at + i * 4 + 3] = v & 0xff;
    }
  };
  return Object.assign(hmac, {
    bytes,
    textInto(message: string, target: Uint8Array, at: number): void {
      const len = message.length;
      if (len <= 55) {
        w.fill(0, 0, 16);
        let ascii = true;
        for (let i = 0; i < len; i++) {
          const c = message.charCodeAt(i);
          if (c > 0x7f) {
            ascii = false;
            break;
          }
          w[i >> 2]! |= c << (24 - 8 * (i & 3));
        }
        if (ascii) {
          macBlock(len);
          firstSixteen(target, at);
          return;
        }
      }
      mac(encode(message));
      firstSixteen(target, at);
    },
    lowerAsciiInto(b: Uint8Array, from: number, to: number, target: Uint8Array, at: number): void {
      const len = to - from;
      if (len <= 55) {
        w.fill(0, 0, 16);
        for (let i = 0; i < len; i++) {
          const c = b[from + i]!;
          w[i >> 2]! |= (c >= 0x41 && c <= 0x5a ? c | 0x20 : c) << (24 - 8 * (i & 3));
        }
        macBlock(len);
        firstSixteen(target, at);
        return;
      }
      if (len + 72 > buf.length) buf = new Uint8Array(len + 72);
      for (let i = 0; i < len; i++) {
        const c = b[from + i]!;
        buf[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      mac(len);
      firstSixteen(target, at);
    },
  });
}
