// The real ledger (LedgerService over a migrated in-memory SQLite store) for handler tests.
import { LedgerService } from "../../src/ledger/service.js";
import { createIdentityHasher } from "../../src/ledger/identity-key.js";
import { openStore } from "../../src/storage/open-store.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import type { Settings } from "../../src/settings.js";

export async function memoryLedger(
  maxBytes = 100 * 1024 * 1024,
  maxInstances?: number,
): Promise<{ ledger: LedgerService; store: LedgerStore }> {
  const store = await openStore("sqlite::memory:");
  const limits = maxInstances === undefined ? { maxBytes } : { maxBytes, maxInstances };
  return { ledger: new LedgerService(store, createIdentityHasher("test-identity-key"), limits), store };
}

export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    designatedRepos: ["acme/license-usage"],
    maxExportBytes: 100 * 1024 * 1024,
    maxPushFiles: 50,
    maxPushBytes: 200 * 1024 * 1024,
    databaseUrl: "sqlite::memory:",
    attachmentHosts: [],
    attachmentTimeoutMs: 5_000,
    gheHost: null,
    gheProtocol: "https",
    maxInstancesPerLedger: 1000,
    shutdownTimeoutSeconds: 25,
    ...overrides,
  };
}
