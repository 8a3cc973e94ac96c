// Clean shutdown: every webhook delivery's work is tracked, so a stopping process can refuse new
// deliveries, let the ones in flight finish (bounded), and only then close the ledger database.
// GitHub does not redeliver by itself: a delivery cut off mid-way would lose its reply.

/** Thrown for a delivery that arrives once shutdown has begun; the webhook middleware answers its status. */
export class ShuttingDownError extends Error {
  override name = "ShuttingDownError";
  readonly status = 503;
  constructor() {
    super("the app is shutting down; redeliver this delivery once it is back");
  }
}

export class DeliveryTracker {
  private readonly inFlight = new Set<Promise<unknown>>();
  private idleWaiters: (() => void)[] = [];
  private accepting = true;

  /** Deliveries still running. */
  get count(): number {
    return this.inFlight.size;
  }

  get draining(): boolean {
    return !this.accepting;
  }

  /** Runs one delivery's work, tracked; refused (503) once shutdown has begun. */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.accepting) return Promise.reject(new ShuttingDownError());
    return this.track(work());
  }

  /** Tracks work already started, until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = () => {
      this.inFlight.delete(promise);
      if (this.inFlight.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    };
    promise.then(done, done);
    return promise;
  }

  /** From now on new deliveries are refused. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`: with how many deliveries are still running. */
  waitIdle(timeoutMs: number): Promise<number> {
    if (this.inFlight.size === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(this.inFlight.size);
      }, timeoutMs);
      const onIdle = () => {
        clearTimeout(timer);
        resolve(0);
      };
      this.idleWaiters.push(onIdle);
    });
  }
}

export interface ShutdownParts {
  /** The HTTP server (Probot's Server): stop() closes the listening socket at once. */
  server: { stop(): Promise<void> };
  deliveries: DeliveryTracker;
  store: { close(): Promise<void> };
  timeoutMs: number;
  log: { info(msg: string): void; error(msg: string): void };
}

/**
 * Stops accepting deliveries, waits for those in flight (at most `timeoutMs`), then closes the
 * database. Resolves to the exit code: 0, or 1 when deliveries had to be abandoned.
 */
export async function shutdown({ server, deliveries, store, timeoutMs, log }: ShutdownParts): Promise<number> {
  deliveries.stopAccepting();
  // Not awaited: it resolves only when every connection has ended, keep-alive ones included.
  server.stop().catch((err: unknown) => log.error(`stopping the HTTP server: ${err instanceof Error ? err.message : String(err)}`));
  const running = deliveries.count;
  if (running > 0) log.info(`shutting down: waiting for ${running} deliver${running === 1 ? "y" : "ies"} in flight`);
  const abandoned = await deliveries.waitIdle(timeoutMs);
  if (abandoned > 0) {
    // Closing the database would wait for their open transactions; exiting drops the connections
    // and the database rolls those back, so nothing half-written stays.
    log.error(`shutdown: ${abandoned} deliver${abandoned === 1 ? "y" : "ies"} abandoned after ${timeoutMs} ms (redeliver them from the app's settings)`);
    return 1;
  }
  // One turn of the event loop: the finished deliveries' HTTP responses are written before exit.
  await new Promise((resolve) => setImmediate(resolve));
  await store.close();
  return 0;
}
