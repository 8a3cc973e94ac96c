// A LedgerStore that passes everything to a real one, except that a test can make one writer
// method fail once, after the real call has run inside the transaction (so the failure lands
// mid-ingest, with rows already written and waiting to be rolled back).
import type { LedgerKey, LedgerReader, LedgerStore, LedgerWriter } from "../../src/storage/ledger-store.js";

export type WriterMethod = "sendAccounts" | "replaceAccounts" | "upsertInstance" | "appendUpload";

export interface Fault {
  method: WriterMethod;
  /** Runs after the real call (e.g. kills the connection); whatever it throws fails the write. */
  action?: (tx: LedgerWriter) => Promise<void>;
  /** false: after `action`, carry on as if nothing happened (the store's next call meets the fault). Default true. */
  throws?: boolean;
}

export class InjectedFault extends Error {
  override name = "InjectedFault";
}

export class FaultyStore implements LedgerStore {
  private armed: Fault | null = null;
  /** How many injected faults have fired. */
  fired = 0;

  constructor(readonly inner: LedgerStore) {}

  get dialect() {
    return this.inner.dialect;
  }

  /** The next call of `fault.method` fails (once). */
  failNext(fault: Fault): void {
    this.armed = fault;
  }

  write<T>(ledger: LedgerKey, fn: (tx: LedgerWriter) => Promise<T>): Promise<T> {
    return this.inner.write(ledger, (tx) => fn(this.wrap(tx)));
  }

  read<T>(ledger: LedgerKey, fn: (tx: LedgerReader) => Promise<T>): Promise<T> {
    return this.inner.read(ledger, fn);
  }

  checkKeyFingerprint(fingerprint: string): Promise<void> {
    return this.inner.checkKeyFingerprint(fingerprint);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  claimReplyTarget(target: string, holder: string, leaseUntil: number, now: number) {
    return this.inner.claimReplyTarget(target, holder, leaseUntil, now);
  }

  renewReplyTarget(target: string, holder: string, leaseUntil: number) {
    return this.inner.renewReplyTarget(target, holder, leaseUntil);
  }

  releaseReplyTarget(target: string, holder: string, replyId: number | null) {
    return this.inner.releaseReplyTarget(target, holder, replyId);
  }

  private wrap(tx: LedgerWriter): LedgerWriter {
    return new Proxy(tx, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function") return value;
        const method = value as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          const result = await method.apply(target, args);
          const fault = this.armed;
          if (fault && fault.method === prop) {
            this.armed = null;
            this.fired++;
            if (fault.action) await fault.action(target);
            if (fault.throws === false) return result;
            throw new InjectedFault(`injected failure after ${String(prop)}`);
          }
          return result;
        };
      },
    });
  }
}
