// The app under test, fresh for every test: a real ledger on in-memory SQLite, the network closed
// to everything but nock, and every nock expectation required to have been used.
import { afterEach, beforeEach, expect } from "@jest/globals";
import nock from "nock";
import type { Probot } from "probot";
import { licenseSync } from "../../src/index.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { LedgerStore } from "../../src/storage/ledger-store.js";
import { memoryLedger, testSettings } from "./ledger.js";
import { createTestProbot } from "./probot.js";

export interface TestApp {
  probot: Probot;
  ledger: LedgerService;
  store: LedgerStore;
}

/** Registers the beforeEach/afterEach pair; `use` receives each test's app. */
export function useTestApp(use: (app: TestApp) => void, makeProbot: () => Probot = () => createTestProbot()): void {
  let store: LedgerStore | undefined;
  beforeEach(async () => {
    nock.disableNetConnect();
    const made = await memoryLedger();
    store = made.store;
    const probot = makeProbot();
    await probot.load(licenseSync({ ledger: made.ledger, settings: testSettings() }));
    use({ probot, ...made });
  });
  afterEach(async () => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    await store?.close();
    expect(pending).toEqual([]);
  });
}
