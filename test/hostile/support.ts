// Shared checks for the hostile suite: what every refusal must look like, and "nothing recorded".
import { expect } from "@jest/globals";
import type { Finding } from "../../src/domain/types.js";
import type { LedgerService } from "../../src/ledger/service.js";
import type { LedgerKey, LedgerStore } from "../../src/storage/ledger-store.js";
import { SECRET_ADDRESSES } from "./corpus.js";

/** Plain words: one line, no stack frame, no error class, no address, no file content. */
export function expectPlainText(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/\b(Error|SyntaxError|RangeError|TypeError):/);
  for (const address of SECRET_ADDRESSES) expect(text).not.toContain(address);
}

export function expectCleanFindings(findings: readonly Finding[], file: string): void {
  for (const f of findings) {
    expect(f.file).toBe(file);
    expect(f.message.length).toBeGreaterThan(0);
    expect(f.message.length).toBeLessThan(400);
    expect(f.message).not.toContain("\n");
    // Paths are built from indices and known keys only; messages never quote values.
    expect(`${f.path} ${f.message}`).not.toContain("@");
    expectPlainText(`${f.path}: ${f.message}`);
  }
}

/** Everything the ledger holds, to compare before and after a refusal. */
export async function snapshot(store: LedgerStore, ledger: LedgerKey) {
  return store.read(ledger, async (tx) => ({
    instances: (await tx.instances()).map((r) => ({ ...r })),
    accounts: [...(await tx.accounts()).entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
  }));
}

/** The newest history row is a refusal naming `path`, and nothing else changed. */
export async function expectRefusedOnly(
  service: LedgerService,
  store: LedgerStore,
  ledger: LedgerKey,
  before: Awaited<ReturnType<typeof snapshot>>,
  rowsBefore: number,
  path: string,
): Promise<void> {
  const history = await service.history(ledger);
  expect(history).toHaveLength(rowsBefore + 1);
  const row = history[0]!;
  expect(row).toMatchObject({ outcome: "refused", serverId: null, accountCount: null, totals: null });
  expect(row.errorSummary).toContain(path === "" ? ": " : `: ${path}: `);
  expect(row.errorSummary).not.toContain("@");
  expectPlainText(row.errorSummary ?? "");
  expect(await snapshot(store, ledger)).toEqual(before);
}
