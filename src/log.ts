// The app's logger: Probot's own formatting (pretty in development, JSON in production), with the
// webhook payload taken out of error records. When a delivery fails, @octokit/webhooks attaches the
// whole event to the error, and Probot logs that error: push payloads carry committers' e-mail
// addresses and issue payloads an export pasted in a comment. None of it may reach a log line.
import { Writable } from "node:stream";
import { getTransformStream } from "@probot/pino";
import { pino, type Logger } from "pino";

/** Properties of a logged record that never reach the log (a second net: errors are rebuilt below). */
export const REDACTED_PATHS = ["event", "payload", "err.event", "err.payload", "err.request.body", "err.response.data"];

const EMAIL_LOCAL = /[A-Za-z0-9._%+-]/;
const EMAIL_DOMAIN = /[A-Za-z0-9.-]/;

/** Masks e-mail addresses in a message. Linear: the runs around two '@' never overlap. */
export function maskEmails(text: string): string {
  let at = text.indexOf("@");
  if (at === -1) return text;
  let out = "";
  let done = 0;
  while (at !== -1) {
    let start = at;
    while (start > done && EMAIL_LOCAL.test(text[start - 1]!)) start--;
    let end = at + 1;
    while (end < text.length && EMAIL_DOMAIN.test(text[end]!)) end++;
    if (start < at && text.slice(at + 1, end).includes(".")) {
      out += text.slice(done, start) + "[e-mail]";
      done = end;
    }
    at = text.indexOf("@", Math.max(at + 1, done));
  }
  return out + text.slice(done);
}

interface ErrorRecord {
  type: string;
  message: string;
  stack?: string;
  code?: string | number;
  status?: number;
  request?: { method?: string; url?: string };
  /** The delivery id and event name of a failed delivery: the payload itself is never copied. */
  delivery?: string;
  event?: string;
  aggregateErrors?: ErrorRecord[];
  cause?: ErrorRecord;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * An error as logged, built from an allow-list of its properties, never by copying it: a failed
 * delivery's error carries the whole webhook event (err.event, and each of an AggregateError's
 * inner errors), Octokit errors their request and response bodies. Whatever new shape an error
 * takes, only these fields reach the log (and Sentry, which reads the log lines).
 */
export function serializeError(err: unknown, depth = 0): ErrorRecord {
  if (!(err instanceof Error)) {
    return { type: typeof err, message: typeof err === "string" ? maskEmails(err) : `(a non-error ${typeof err} was thrown)` };
  }
  const e = err as Error & { code?: unknown; status?: unknown; request?: { method?: unknown; url?: unknown }; event?: { id?: unknown; name?: unknown } };
  const out: ErrorRecord = { type: e.constructor?.name || e.name, message: maskEmails(String(e.message)) };
  if (typeof e.stack === "string") out.stack = maskEmails(e.stack);
  if (typeof e.code === "string" || typeof e.code === "number") out.code = e.code;
  if (typeof e.status === "number") out.status = e.status;
  if (e.request && typeof e.request === "object") {
    const method = str(e.request.method);
    const url = str(e.request.url);
    out.request = { ...(method ? { method } : {}), ...(url ? { url: maskEmails(url.split("?")[0]!) } : {}) };
  }
  if (e.event && typeof e.event === "object") {
    const id = str(e.event.id);
    const name = str(e.event.name);
    if (id) out.delivery = id;
    if (name) out.event = name;
  }
  if (depth < 3) {
    if (err instanceof AggregateError && Array.isArray(err.errors)) out.aggregateErrors = err.errors.slice(0, 10).map((x) => serializeError(x, depth + 1));
    if (e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
  }
  return out;
}

export interface LogOptions {
  level?: string;
  format?: "json" | "pretty";
  levelInString?: boolean;
  messageKey?: string;
  sentryDsn?: string;
}

/** Reads the variables Probot reads (LOG_LEVEL, LOG_FORMAT, LOG_LEVEL_IN_STRING, LOG_MESSAGE_KEY, SENTRY_DSN). */
export function logOptionsFromEnv(env: NodeJS.ProcessEnv): LogOptions {
  const format = env.LOG_FORMAT ? (env.LOG_FORMAT === "pretty" ? "pretty" : "json") : env.NODE_ENV === "production" ? "json" : "pretty";
  return {
    level: env.LOG_LEVEL || "info",
    format,
    levelInString: env.LOG_LEVEL_IN_STRING === "true",
    ...(env.LOG_MESSAGE_KEY ? { messageKey: env.LOG_MESSAGE_KEY } : {}),
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  };
}

export async function createLogger(options: LogOptions, destination: Writable = process.stdout): Promise<Logger> {
  const transform = await getTransformStream({
    logFormat: options.format,
    logLevelInString: options.levelInString,
    sentryDsn: options.sentryDsn,
  });
  transform.pipe(destination);
  return pino(
    {
      level: options.level ?? "info",
      name: "probot",
      messageKey: options.messageKey ?? "msg",
      serializers: { err: serializeError },
      redact: { paths: REDACTED_PATHS, remove: true },
    },
    transform,
  );
}
