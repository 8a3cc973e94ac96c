// Run before every test file (jest.config.js setupFilesAfterEnv): no request body sent to the GitHub
// API anywhere in the suite may hold an e-mail address. Octokit sends through globalThis.fetch,
// whether nock answers (nock 15 hooks undici's dispatcher, below fetch) or a stand-in server on
// loopback does; webhook deliveries and attachment downloads are not Octokit's and not checked.
import { afterAll, afterEach, expect } from "@jest/globals";

/** The first e-mail address in `text` (with a little context), or null. Linear: one look per '@'. */
export function findAddress(text: string): string | null {
  for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
    if (at === 0 || !/[A-Za-z0-9._%+-]/.test(text[at - 1]!)) continue;
    if (/^@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/.test(text.slice(at, at + 256))) return text.slice(Math.max(0, at - 40), at + 40);
  }
  return null;
}

function bodyText(body: unknown): string | null {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
  return null;
}

function header(headers: unknown, name: string): string {
  if (!headers) return "";
  if (headers instanceof Headers) return headers.get(name) ?? "";
  const found = Object.entries(headers as Record<string, unknown>).find(([k]) => k.toLowerCase() === name);
  return found ? String(found[1]) : "";
}

const leaks: string[] = [];

function inspect(input: Parameters<typeof fetch>[0], init?: RequestInit): void {
  const method = (init?.method ?? "GET").toUpperCase();
  if (method === "GET" || method === "HEAD" || !/octokit/i.test(header(init?.headers, "user-agent"))) return;
  const text = bodyText(init?.body);
  const found = text === null ? null : findAddress(text);
  if (found !== null) leaks.push(`${method} ${String(input instanceof Request ? input.url : input)}: …${found}…`);
}

// nock swaps globalThis.fetch for its own on load and puts the previous one back on restore(), so
// whatever is installed there gets checked on every call: the accessor hands out a checking wrapper
// around the current fetch (one per fetch, so nock's "already patched" mark sticks).
type Fetch = typeof fetch;
const wrapperOf = new WeakMap<Fetch, Fetch>();
const innerOf = new WeakMap<Fetch, Fetch>();
function checking(inner: Fetch): Fetch {
  let wrapper = wrapperOf.get(inner);
  if (!wrapper) {
    wrapper = function checkedFetch(input: Parameters<Fetch>[0], init?: RequestInit): Promise<Response> {
      inspect(input, init);
      return inner(input, init);
    } as Fetch;
    wrapperOf.set(inner, wrapper);
    innerOf.set(wrapper, inner);
  }
  return wrapper;
}
let current: Fetch = globalThis.fetch;
Object.defineProperty(globalThis, "fetch", {
  configurable: true,
  enumerable: true,
  get: () => checking(current),
  set: (next: Fetch) => {
    current = innerOf.get(next) ?? next;
  },
});

function noLeaks(): void {
  const found = leaks.splice(0);
  expect({ "request bodies sent to GitHub with an e-mail address": found }).toEqual({ "request bodies sent to GitHub with an e-mail address": [] });
}

afterEach(noLeaks);
afterAll(noLeaks);
