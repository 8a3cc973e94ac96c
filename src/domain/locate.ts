// Linear scans over JSON text, for what JSON.parse does not tell: where a value starts (check-run
// annotations) and where a syntax error is when V8's message carries no position.

const enum C {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
  Minus = 45,
  Colon = 58,
  LBracket = 91,
  Backslash = 92,
  RBracket = 93,
  LBrace = 123,
  RBrace = 125,
  Bom = 0xfeff,
}

function skipWs(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === C.Space || c === C.Lf || c === C.Cr || c === C.Tab) i++;
    else return i;
  }
}

/** Index just past the string starting at t[i] === '"', or -1 if unterminated. */
function skipString(t: string, i: number): number {
  const n = t.length;
  i++;
  while (i < n) {
    const c = t.charCodeAt(i);
    if (c === C.Quote) return i + 1;
    i += c === C.Backslash ? 2 : 1;
  }
  return -1;
}

/** Index just past the value starting at t[i] (lenient: only brackets and strings matter), or -1. */
function skipValue(t: string, i: number): number {
  const n = t.length;
  const c0 = t.charCodeAt(i);
  if (c0 === C.Quote) return skipString(t, i);
  if (c0 !== C.LBrace && c0 !== C.LBracket) {
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === C.Comma || c === C.RBrace || c === C.RBracket || c === C.Space || c === C.Lf || c === C.Cr || c === C.Tab) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  while (i < n) {
    const c = t.charCodeAt(i);
    if (c === C.Quote) {
      i = skipString(t, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === C.LBrace || c === C.LBracket) depth++;
    else if (c === C.RBrace || c === C.RBracket) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

type Segment = string | number;

function parsePath(path: string): Segment[] | undefined {
  const out: Segment[] = [];
  const re = /(?:^|\.)([^.[\]]+)|\[(\d+)\]/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  }
  return re.lastIndex === path.length ? out : undefined;
}

/** Offset where the value at `path` starts in `text`, or -1. */
export function locateOffset(text: string, path: string): number {
  const segs = parsePath(path);
  if (segs === undefined) return -1;
  let i = skipWs(text, text.charCodeAt(0) === C.Bom ? 1 : 0);
  for (const seg of segs) {
    if (typeof seg === "number") {
      if (text.charCodeAt(i) !== C.LBracket) return -1;
      i = skipWs(text, i + 1);
      for (let k = 0; k < seg; k++) {
        i = skipValue(text, i);
        if (i < 0) return -1;
        i = skipWs(text, i);
        if (text.charCodeAt(i) !== C.Comma) return -1;
        i = skipWs(text, i + 1);
      }
      if (i >= text.length || text.charCodeAt(i) === C.RBracket) return -1;
    } else {
      if (text.charCodeAt(i) !== C.LBrace) return -1;
      i = skipWs(text, i + 1);
      let found = -1;
      // JSON.parse keeps the last of duplicate keys, so keep scanning to the end of the object.
      while (text.charCodeAt(i) === C.Quote) {
        const end = skipString(text, i);
        if (end < 0) return -1;
        const raw = text.slice(i + 1, end - 1);
        let key = raw;
        if (raw.includes("\\")) {
          try {
            key = JSON.parse(text.slice(i, end)) as string;
          } catch {
            return -1;
          }
        }
        i = skipWs(text, end);
        if (text.charCodeAt(i) !== C.Colon) return -1;
        i = skipWs(text, i + 1);
        if (key === seg) found = i;
        i = skipValue(text, i);
        if (i < 0) return -1;
        i = skipWs(text, i);
        if (text.charCodeAt(i) !== C.Comma) break;
        i = skipWs(text, i + 1);
      }
      if (found < 0) return -1;
      i = found;
    }
  }
  return i < text.length ? i : -1;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * 1-based line where the value at a JSON path (`users[3].emails[0].email`, `instance.server_id`,
 * "" for the root) starts in `text`; undefined if the path is not there. One linear pass.
 */
export function locateLine(text: string, path: string): number | undefined {
  const at = locateOffset(text, path);
  return at < 0 ? undefined : lineColumn(text, at).line;
}

/**
 * Offset of the first JSON syntax error in `text` (text.length if it ends too early), or -1 if the
 * text is valid JSON. Iterative, so nesting depth costs no stack.
 */
export function syntaxErrorOffset(text: string): number {
  const n = text.length;
  // Stack of open containers: true = object, false = array.
  const stack: boolean[] = [];
  let i = skipWs(text, 0);
  // State: expecting a value.
  for (;;) {
    // --- parse a value at i
    if (i >= n) return n;
    const c = text.charCodeAt(i);
    if (c === C.LBrace) {
      i = skipWs(text, i + 1);
      if (text.charCodeAt(i) === C.RBrace) {
        i++;
      } else {
        stack.push(true);
        const k = objectKey(text, i);
        if (k < 0) return k === -1 ? (i >= n ? n : i) : -k - 2;
        i = skipWs(text, k);
        continue;
      }
    } else if (c === C.LBracket) {
      i = skipWs(text, i + 1);
      if (text.charCodeAt(i) === C.RBracket) i++;
      else {
        stack.push(false);
        continue;
      }
    } else if (c === C.Quote) {
      const e = strictString(text, i);
      if (e < 0) return -e - 1;
      i = e;
    } else {
      const e = scalar(text, i);
      if (e < 0) return -e - 1;
      i = e;
    }
    // --- after a value: close containers or move to the next element
    for (;;) {
      i = skipWs(text, i);
      if (stack.length === 0) return i < n ? i : -1;
      if (i >= n) return n;
      const d = text.charCodeAt(i);
      const inObject = stack[stack.length - 1];
      if (d === C.Comma) {
        i = skipWs(text, i + 1);
        if (inObject) {
          const k = objectKey(text, i);
          if (k < 0) return k === -1 ? (i >= n ? n : i) : -k - 2;
          i = skipWs(text, k);
        }
        break;
      }
      if (d === (inObject ? C.RBrace : C.RBracket)) {
        stack.pop();
        i++;
        continue;
      }
      return i;
    }
  }
}

/** After `"key" :` returns the index past the colon; -1 if no key at i; -(pos+2) for an error at pos. */
function objectKey(t: string, i: number): number {
  if (t.charCodeAt(i) !== C.Quote) return -1;
  const e = strictString(t, i);
  if (e < 0) return -(-e - 1) - 2;
  const j = skipWs(t, e);
  if (t.charCodeAt(j) !== C.Colon) return -(j >= t.length ? t.length : j) - 2;
  return j + 1;
}

/** Index past a strict JSON string at t[i]; -(pos+1) for an error at pos. */
function strictString(t: string, i: number): number {
  const n = t.length;
  i++;
  while (i < n) {
    const c = t.charCodeAt(i);
    if (c === C.Quote) return i + 1;
    if (c < 0x20) return -i - 1;
    if (c === C.Backslash) {
      const e = t.charCodeAt(i + 1);
      if (e === 117 /* u */) {
        if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) return -(i + 1) - 1;
        i += 6;
        continue;
      }
      if ('"\\/bfnrt'.indexOf(t[i + 1] ?? "") < 0 || i + 1 >= n) return -(i + 1) - 1;
      i += 2;
      continue;
    }
    i++;
  }
  return -n - 1;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Index past a literal or number at t[i]; -(pos+1) for an error at pos. */
function scalar(t: string, i: number): number {
  for (const lit of ["true", "false", "null"]) {
    if (t.startsWith(lit, i)) return i + lit.length;
    // A prefix cut short by the end of the text is truncation.
    if (t.length - i < lit.length && lit.startsWith(t.slice(i))) return -t.length - 1;
  }
  const c = t.charCodeAt(i);
  if (c === C.Minus || (c >= 48 && c <= 57)) {
    NUMBER.lastIndex = i;
    if (NUMBER.test(t)) return NUMBER.lastIndex;
    return -Math.min(i + 1, t.length) - 1;
  }
  return -i - 1;
}
