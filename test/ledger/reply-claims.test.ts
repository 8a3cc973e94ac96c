// Reply claims between replicas: two ReplyClaims over two stores opened on one database (a SQLite
// file, or a PostgreSQL schema) stand for two processes. What is asserted is who was inside a
// target's work at once, never timings.
import { afterAll, describe, expect, it } from "@jest/globals";
import { ReplyClaims, ReplyTargetBusyError } from "../../src/ledger/reply-claims.js";
import type { KyselyLedgerStore } from "../../src/storage/kysely-store.js";
import { adapterCases } from "../helpers/stores.js";

const cases = await adapterCases();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe.each(cases)("reply claims on $name", ({ make }) => {
  const adapter = make();
  afterAll(() => adapter.cleanup());

  async function twoReplicas(leaseMs = 30_000): Promise<{ a: ReplyClaims; b: ReplyClaims; stores: KyselyLedgerStore[] }> {
    const loc = adapter.fresh();
    const stores = [await adapter.open(loc), await adapter.open(loc)];
    return { a: new ReplyClaims(stores[0]!, { leaseMs }), b: new ReplyClaims(stores[1]!, { leaseMs }), stores };
  }

  it("lets one replica at a time into a target's work; the reply id written passes to the next", async () => {
    const { a, b } = await twoReplicas();
    let inside = 0;
    let most = 0;
    const seen: (number | null)[] = [];
    let next = 100;
    const work = (claims: ReplyClaims) =>
      claims.hold("acme/usage #1 <!-- m -->", async (stored) => {
        inside++;
        most = Math.max(most, inside);
        seen.push(stored);
        await sleep(5);
        inside--;
        // The first writer creates (a new id); every later one edits the stored reply.
        return { value: undefined, replyId: stored ?? next++ };
      });
    await Promise.all(Array.from({ length: 12 }, (_, i) => work(i % 2 ? a : b)));
    expect(most).toBe(1);
    expect(seen[0]).toBeNull();
    expect(seen.slice(1)).toEqual(Array(11).fill(100));
    expect(next).toBe(101);
  });

  it("runs different targets side by side", async () => {
    const { a, b } = await twoReplicas();
    let inside = 0;
    let bothIn!: () => void;
    const both = new Promise<void>((resolve) => (bothIn = resolve));
    // Each waits (a bounded while) for the other to be inside too: serialized, neither would be.
    const work = (claims: ReplyClaims, target: string) =>
      claims.hold(target, async () => {
        if (++inside === 2) bothIn();
        const met = await Promise.race([both.then(() => true), sleep(5_000).then(() => false)]);
        return { value: met, replyId: null };
      });
    expect(await Promise.all([work(a, "t1"), work(b, "t2")])).toEqual([true, true]);
  });

  it("keeps a lease renewed while its work runs longer than the lease", async () => {
    const { a, b } = await twoReplicas(1_000);
    const order: string[] = [];
    const slow = a.hold("t", async () => {
      order.push("a in");
      await sleep(2_500);
      order.push("a out");
      return { value: undefined, replyId: 7 };
    });
    await sleep(20);
    const other = b.hold("t", async (stored) => {
      order.push(`b in (${stored})`);
      return { value: undefined, replyId: null };
    });
    await Promise.all([slow, other]);
    expect(order).toEqual(["a in", "a out", "b in (7)"]);
  });

  it("takes over the lease of a replica that died holding it, once it expires", async () => {
    const { a, stores } = await twoReplicas(200);
    // The dead replica's claim: taken, never renewed nor released.
    expect(await stores[1]!.claimReplyTarget("t", "dead:1", Date.now() + 200, Date.now())).toEqual({ replyId: null });
    const entered = await a.hold("t", async () => ({ value: "in", replyId: 3 }));
    expect(entered).toBe("in");
  });

  it("releases the claim when the work fails, keeping the stored reply id", async () => {
    const { a, b } = await twoReplicas();
    await a.hold("t", async () => ({ value: undefined, replyId: 5 }));
    await expect(a.hold("t", async () => Promise.reject(new Error("GitHub said 502")))).rejects.toThrow("502");
    expect(await b.hold("t", async (stored) => ({ value: stored, replyId: null }))).toBe(5);
  });

  it("gives up, loudly, on a target held longer than it may wait", async () => {
    const loc = adapter.fresh();
    const [s1, s2] = [await adapter.open(loc), await adapter.open(loc)];
    const impatient = new ReplyClaims(s2, { leaseMs: 30_000, maxWaitMs: 100 });
    expect(await s1.claimReplyTarget("t", "other:1", Date.now() + 30_000, Date.now())).not.toBeNull();
    await expect(impatient.hold("t", async () => ({ value: undefined, replyId: null }))).rejects.toThrow(ReplyTargetBusyError);
  });
});
