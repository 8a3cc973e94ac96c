// What the app's handlers and answering steps are given: injected so tests can run the app against
// an in-memory ledger; main.ts builds them from the environment.
import type { DeliveryTracker } from "./drain.js";
import type { EnterpriseReportClient } from "./github/enterprise-report.js";
import type { OwnBot } from "./github/own-bot.js";
import type { Ledger } from "./ledger/types.js";
import type { Settings } from "./settings.js";

export interface AppDeps {
  ledger: Ledger;
  settings: Settings;
  /** Live cloud report; licenseSync() builds it from the Probot app when not given. */
  enterpriseReports?: EnterpriseReportClient;
  /** This app's bot account, looked up once (GET /app) when first needed. */
  ownBot: OwnBot;
  /** Where every delivery's work is tracked for a clean shutdown; licenseSync() makes one when not given. */
  deliveries?: DeliveryTracker;
}

/** What the composition root passes; the rest is made from the Probot app. */
export type AppOptions = Omit<AppDeps, "ownBot"> & Partial<Pick<AppDeps, "ownBot">>;
