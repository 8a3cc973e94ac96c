import type { Finding } from "./types.js";

/** `usage.json: users[1].emails[0].email: expected a string, got number` (no path: `usage.json: message`). */
export function formatFinding(f: Finding): string {
  return f.path === "" ? `${f.file}: ${f.message}` : `${f.file}: ${f.path}: ${f.message}`;
}

/** A JSON type name for messages. Never the value itself: values may be e-mail addresses. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return value.length === 0 ? "an empty string" : "a string";
    case "number":
      return "a number";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      return "an object";
    case "undefined":
      return "nothing";
    default:
      return typeof value;
  }
}

/** A number for messages: numbers are not personal data, but keep them short and exact. */
export function describeNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) return "a number too large to be exact";
  const s = String(n);
  return s.length <= 24 ? s : "a number with too many digits";
}
