import { isUtf8 } from "node:buffer";
import { gunzipSync } from "node:zlib";
import type { Finding } from "./types.js";

export interface ReadLimits {
  /** Cap on the uncompressed size, in bytes. */
  maxBytes: number;
}

/** The default cap: 100 MB uncompressed. */
export const DEFAULT_READ_LIMITS: ReadLimits = Object.freeze({ maxBytes: 100 * 1024 * 1024 });

export type DecodeResult = { ok: true; text: string } | { ok: false; errors: Finding[] };

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function refuse(file: string, message: string): { ok: false; errors: Finding[] } {
  return { ok: false, errors: [{ file, path: "", message }] };
}

/**
 * Bytes of an export (`.json` or gzip, detected by its magic bytes since names may lie) to text.
 * Gzip is inflated with a hard output cap so a gzip bomb stops at `maxBytes`, never inflating it all.
 */
export function decodeExport(bytes: Uint8Array, file: string, limits: ReadLimits): DecodeResult {
  const checked = checkExportBytes(bytes, file, limits);
  if (!checked.ok) return checked;
  // valid UTF-8, so a non-fatal decoder cannot substitute anything; the default strips a BOM.
  return { ok: true, text: new TextDecoder("utf-8").decode(checked.bytes) };
}

/** decodeExport up to the text: the bytes inflated, within the cap and valid UTF-8 (a BOM left in place), for readers that read bytes. */
export function checkExportBytes(bytes: Uint8Array, file: string, limits: ReadLimits): { ok: true; bytes: Uint8Array } | { ok: false; errors: Finding[] } {
  const cap = limits.maxBytes;
  let raw: Uint8Array = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: Math.max(1, cap) });
    } catch (e) {
      if ((e as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
        return refuse(
          file,
          `is gzip-compressed and inflates to more than ${formatSize(cap)}, the size limit; it was not read`,
        );
      }
      return refuse(file, "is gzip-compressed but damaged or truncated; compress the export again and re-upload it");
    }
  } else if (bytes.length > cap) {
    const size = formatSize(bytes.length);
    const limit = formatSize(cap);
    return refuse(file, `is ${size === limit ? "larger than" : `${size}, over`} the size limit of ${limit}; it was not read`);
  }

  if (!isUtf8(raw)) {
    const offset = firstInvalidUtf8(raw);
    if ((raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff)) {
      return refuse(file, "is not valid UTF-8 (it looks like UTF-16); save the export as UTF-8");
    }
    return refuse(file, `is not valid UTF-8 (first bad byte at offset ${offset})`);
  }
  return { ok: true, bytes: raw };
}

/** Offset of the first byte that breaks UTF-8 (only called once the fast check failed). */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f; // no UTF-16 surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return i;
      const d = b[i + k];
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}
