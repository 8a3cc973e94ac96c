// Composition root for `npm start`. Probot's run() calls the app function only once the app is
// registered (APP_ID + private key); before that it serves its setup page and nothing here runs,
// so a fresh machine needs no database or secrets to get that far.
import type { IncomingMessage, ServerResponse } from "node:http";
import { run, type ApplicationFunction } from "probot";
import { licenseSync } from "./index.js";
import { DeliveryTracker, shutdown, type ShutdownParts } from "./drain.js";
import { AppOctokit } from "./github/octokit.js";
import { createLogger, logOptionsFromEnv } from "./log.js";
import { createIdentityHasher, IdentityKeyError, identityKeyFromEnv, keyFingerprint } from "./ledger/identity-key.js";
import { workerReads } from "./ledger/export-reads.js";
import { LedgerService } from "./ledger/service.js";
import { readSettings, SettingsError } from "./settings.js";
import type { KyselyLedgerStore } from "./storage/kysely-store.js";
import { IdentityKeyMismatchError } from "./storage/ledger-store.js";
import { MigrationError } from "./storage/migrations.js";
import { DatabaseUrlError, openStore } from "./storage/open-store.js";

/** Operator mistakes: one clear line, no stack trace. */
const CONFIG_ERRORS = [SettingsError, IdentityKeyError, IdentityKeyMismatchError, DatabaseUrlError, MigrationError];

function healthHandler(store: KyselyLedgerStore) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/health") return false;
    const ok = await store.ping().then(
      () => true,
      () => false,
    );
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok" : "database unreachable");
    return true;
  };
}

/** What a clean shutdown needs besides the HTTP server; set once the app has started. */
let started: Omit<ShutdownParts, "server"> | undefined;

const app: ApplicationFunction = async (probot, options) => {
  const log = probot.log.child({ name: "license-sync" });
  let store: KyselyLedgerStore | undefined;
  try {
    const settings = readSettings(process.env);
    const key = identityKeyFromEnv(process.env, log);
    store = await openStore(settings.databaseUrl, {
      postgres: { onPoolError: (err) => log.warn(`database connection lost: ${err.message}`) },
    });
    await store.checkKeyFingerprint(keyFingerprint(key));
    const ledger = new LedgerService(store, createIdentityHasher(key), {
      maxBytes: settings.maxExportBytes,
      maxInstances: settings.maxInstancesPerLedger,
      readElsewhere: workerReads(key),
    });
    const deliveries = new DeliveryTracker();
    await licenseSync({ ledger, settings, deliveries })(probot, options);
    options.addHandler(healthHandler(store));
    started = { deliveries, store, timeoutMs: settings.shutdownTimeoutSeconds * 1000, log };
    log.info(`ledger database ready (${store.dialect})`);
  } catch (err) {
    await store?.close().catch(() => undefined);
    const known = CONFIG_ERRORS.some((E) => err instanceof E);
    const message = err instanceof Error ? err.message : String(err);
    // Start-up failures are the operator's to fix: say what, not where in the code.
    log.fatal(known ? message : `cannot start: ${message}`);
    process.exit(1);
  }
};

// .env first (Probot would read it too, but only after the logger is made), then Probot's logger,
// less the webhook payloads that failed deliveries would otherwise log.
try {
  process.loadEnvFile();
} catch {
  // no .env: the environment alone
}
const sigintBefore = new Set(process.listeners("SIGINT"));
const server = await run(app, { log: await createLogger(logOptionsFromEnv(process.env)), Octokit: AppOctokit });
if (started) {
  // Probot's own SIGINT listener exits as soon as the socket closes, cutting deliveries off: ours
  // replaces it (set-up mode, where no app runs, keeps Probot's).
  for (const l of process.listeners("SIGINT")) if (!sigintBefore.has(l)) process.off("SIGINT", l);
  const parts: ShutdownParts = { ...started, server };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= shutdown(parts).then(
      (code) => process.exit(code),
      (err: unknown) => {
        parts.log.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
