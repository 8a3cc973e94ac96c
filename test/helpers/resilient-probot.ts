// A Probot whose Octokit keeps Probot's real retry and throttling plugins switched on, with their
// waits shrunk to milliseconds, for fault tests: a 5xx is retried by @octokit/plugin-retry, a rate
// limit (429, or 403 with x-ratelimit-remaining: 0, or a secondary limit) by plugin-throttling.
import { Probot, ProbotOctokit } from "probot";
import { TEST_APP_ID, testPrivateKey } from "./probot.js";

/** Attempts after the first, for both 5xx and rate limits: a persistent fault fails after 1 + RETRIES requests. */
export const RETRIES = 3;

// plugin-throttling spaces writes 1 s apart (3 s for ones that notify) to respect GitHub's abuse
// limits; that spacing is a Bottleneck group per installation. This stand-in runs jobs at once, so
// tests do not wait seconds; the rate-limit retry logic (its retryLimiter) stays the real one.
const immediate = {
  key: () => ({
    schedule: (...args: unknown[]) => {
      const fn = args.find((a) => typeof a === "function") as (...a: unknown[]) => unknown;
      return Promise.resolve(fn(...args.slice(args.indexOf(fn) + 1)));
    },
  }),
};

type Options = ConstructorParameters<typeof ProbotOctokit>[0] & { throttle?: object };

export const ResilientOctokit = ProbotOctokit.defaults((o: Options) => ({
  ...o,
  // Waits (retryCount + 1)² × 1 ms instead of × 1 s.
  retry: { enabled: true, retries: RETRIES, retryAfterBaseValue: 1 },
  throttle: {
    ...o?.throttle,
    // Probot turns throttling off for installation clients unless the app client had it on.
    enabled: true,
    retryAfterBaseValue: 1,
    fallbackSecondaryRateRetryAfter: 1,
    onRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < RETRIES,
    onSecondaryRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < RETRIES,
    write: immediate,
    notifications: immediate,
  },
}));

export function createResilientProbot(): Probot {
  return new Probot({
    appId: TEST_APP_ID,
    privateKey: testPrivateKey(),
    secret: "test-secret",
    Octokit: ResilientOctokit,
    logLevel: (process.env.LOG_LEVEL as "info" | undefined) ?? "fatal",
  });
}
