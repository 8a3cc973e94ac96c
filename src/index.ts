// The Probot app: registers one thin handler per webhook event. Dependencies are injected so tests
// can run the app against an in-memory ledger; main.ts builds them from the environment.
import type { ApplicationFunction } from "probot";
import type { AppDeps, AppOptions } from "./deps.js";
import { ownBotAccount } from "./github/own-bot.js";
import { onPush } from "./handlers/push.js";
import { onPullRequest } from "./handlers/pull-request.js";
import { onIssue } from "./handlers/issues.js";
import { onIssueComment } from "./handlers/issue-comment.js";
import { EnterpriseReportClient, probotEnterpriseAuth } from "./github/enterprise-report.js";
import { DeliveryTracker } from "./drain.js";

export type { AppDeps, AppOptions } from "./deps.js";

export function licenseSync(options: AppOptions): ApplicationFunction {
  return (app) => {
    // One client per app: its enterprise-installation look-up is cached across deliveries.
    const deps: AppDeps = {
      ...options,
      enterpriseReports: options.enterpriseReports ?? new EnterpriseReportClient(probotEnterpriseAuth(app, options.settings.enterpriseToken ?? null)),
      ownBot: options.ownBot ?? ownBotAccount(() => app.auth()),
    };
    // Every delivery's work is tracked here, so no handler has to remember it (see drain.ts).
    const deliveries = options.deliveries ?? new DeliveryTracker();
    const tracked =
      <C>(handler: (context: C) => Promise<void>) =>
      (context: C) =>
        deliveries.run(() => handler(context));
    app.on("push", tracked((context) => onPush(context, deps)));
    app.on(
      ["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"],
      tracked((context) => onPullRequest(context, deps)),
    );
    app.on(["issues.opened", "issues.edited"], tracked((context) => onIssue(context, deps)));
    app.on("issue_comment.created", tracked((context) => onIssueComment(context, deps)));
  };
}
