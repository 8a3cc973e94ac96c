// One writer per reply target (a commit's comment, an issue's comment, a ledger's dashboard), across
// every replica on the database. In this process, work on one target queues; between processes, a
// lease row in the database says who writes. The lease is renewed while held, so a slow GitHub
// call keeps it, and it expires on its own when its holder dies, so a crash blocks no one for long.
import { randomUUID } from "node:crypto";
import type { ReplyTargetStore } from "../storage/ledger-store.js";

export interface ReplyClaimOptions {
  /** How long a lease lasts without renewal. */
  leaseMs?: number;
  /** How long to wait for another holder before giving up (the delivery then fails, loudly). */
  maxWaitMs?: number;
  now?: () => number;
}

/** What the work under a claim returns: its result, and the reply's id to remember (null: keep the stored one). */
export interface Held<T> {
  value: T;
  replyId: number | null;
}

export class ReplyTargetBusyError extends Error {
  override name = "ReplyTargetBusyError";
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ReplyClaims {
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  /** This process; each claim adds a counter, so two claims are never mistaken for each other. */
  private readonly process = randomUUID();
  private claims = 0;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ReplyTargetStore,
    options: ReplyClaimOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxWaitMs = options.maxWaitMs ?? 120_000;
    this.now = options.now ?? Date.now;
  }

  /** Runs `fn` as the target's only writer; `fn` is given the reply id stored last (or null). */
  hold<T>(target: string, fn: (storedReplyId: number | null) => Promise<Held<T>>): Promise<T> {
    const run = (this.queues.get(target) ?? Promise.resolve()).then(
      () => this.claimed(target, fn),
      () => this.claimed(target, fn),
    );
    const tail = run.catch(() => undefined);
    this.queues.set(target, tail);
    void tail.then(() => {
      if (this.queues.get(target) === tail) this.queues.delete(target);
    });
    return run;
  }

  private async claimed<T>(target: string, fn: (storedReplyId: number | null) => Promise<Held<T>>): Promise<T> {
    const holder = `${this.process}:${++this.claims}`;
    const stored = await this.acquire(target, holder);
    // Renew at a third of the lease, so one missed renewal still leaves time.
    const renew = setInterval(() => {
      void this.store.renewReplyTarget(target, holder, this.now() + this.leaseMs).catch(() => undefined);
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    renew.unref();
    let replyId: number | null = null;
    try {
      const held = await fn(stored.replyId);
      replyId = held.replyId;
      return held.value;
    } finally {
      clearInterval(renew);
      await this.store.releaseReplyTarget(target, holder, replyId);
    }
  }

  private async acquire(target: string, holder: string): Promise<{ replyId: number | null }> {
    const start = this.now();
    for (let attempt = 0; ; attempt++) {
      const now = this.now();
      const got = await this.store.claimReplyTarget(target, holder, now + this.leaseMs, now);
      if (got) return got;
      if (now - start >= this.maxWaitMs) {
        throw new ReplyTargetBusyError(`another replica has been writing the same reply for over ${Math.round(this.maxWaitMs / 1000)} s`);
      }
      // 25 ms, doubling to 1 s, with jitter so two waiters do not poll in step.
      await sleep(Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2));
    }
  }
}
