// The app's logger: Probot's own formatting (pretty in development, JSON in production), with the
// webhook payload taken out of error records. When a delivery fails, @octokit/webhooks attaches the
// whole event to the error, and Probot logs that error: push payloads carry committers' e-mail
// addresses and issue payloads an export pasted in a comment. None of it may reach a log line.
import { Writable } from "node:stream";
import { getTransformStream } from "@probot/pino";
import { pino, type Logger } from "pino";

/** Properties of a logged record that never reach the log. */
export const REDACTED_PATHS = ["event", "payload", "err.event", "err.errors[*].event", "err.payload", "err.request.body", "err.response.data"];

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
      redact: { paths: REDACTED_PATHS, remove: true },
    },
    transform,
  );
}
