import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { rootsInOrder, unionFind, type UnionFind } from "../../src/domain/union-find.js";

/** The sets as sorted lists of nodes, through find alone. */
function setsOf(uf: UnionFind, n: number): number[][] {
  const by = new Map<number, number[]>();
  for (let x = 0; x < n; x++) {
    const r = uf.find(x);
    if (!by.has(r)) by.set(r, []);
    by.get(r)!.push(x);
  }
  return [...by.values()].sort((a, b) => a[0]! - b[0]!);
}

/** The same sets by brute force: labels relabelled on every union. */
function naiveSets(n: number, unions: [number, number][]): number[][] {
  const label = Array.from({ length: n }, (_, i) => i);
  for (const [a, b] of unions) {
    const from = label[b]!;
    const to = label[a]!;
    for (let x = 0; x < n; x++) if (label[x] === from) label[x] = to;
  }
  const by = new Map<number, number[]>();
  label.forEach((l, x) => (by.has(l) ? by.get(l)!.push(x) : by.set(l, [x])));
  return [...by.values()].sort((a, b) => a[0]! - b[0]!);
}

const unionsArb = fc.integer({ min: 1, max: 60 }).chain((n) =>
  fc.record({ n: fc.constant(n), unions: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 80 }), more: fc.nat(20) }),
);

describe("unionFind", () => {
  it("makes the sets unions make, each root its set's smallest node, parent[x] <= x; rootsInOrder agrees with find", () => {
    fc.assert(
      fc.property(unionsArb, ({ n, unions, more }) => {
        const uf = unionFind(n);
        for (const [a, b] of unions) uf.union(a, b);
        expect(setsOf(uf, n)).toEqual(naiveSets(n, unions));
        uf.parent.forEach((p, x) => expect(p).toBeLessThanOrEqual(x));
        const root = new Int32Array(n);
        rootsInOrder(uf, root);
        for (let x = 0; x < n; x++) expect(root[x]).toBe(Math.min(...setsOf(uf, n).find((s) => s.includes(x))!));
        // continued with more nodes (the enterprise count's): the invariant still holds
        const next = unionFind(n + more, uf);
        for (let x = n; x < n + more; x++) next.union(x, (x * 7) % (n + more));
        next.parent.forEach((p, x) => expect(p).toBeLessThanOrEqual(x));
        const root2 = new Int32Array(n + more);
        rootsInOrder(next, root2);
        for (let x = 0; x < n + more; x++) expect(root2[x]).toBe(next.find(x));
      }),
    );
  });

  it("planted bug: a parent above its node (linking by size could make one) is what rootsInOrder must never see", () => {
    // 0 under 1: in node order, 0's root is read before 1's is known. The check above catches such a union-find.
    const planted: UnionFind = { parent: Int32Array.of(1, 1), find: (x) => (x === 0 ? 1 : x), union: () => {} };
    const root = new Int32Array(2);
    rootsInOrder(planted, root);
    expect(root[0]).not.toBe(planted.find(0));
  });
});
