// Union-find over n integer nodes (one typed array, linking by index, path halving): the persons of
// the GHES count and of the enterprise count, which continues from the GHES count's sets.
//
// Linking the larger root under the smaller keeps parent[x] <= x for every node, so a pass in node
// order finds every root with one read (rootsInOrder) instead of a chase per node, and there is no
// size table to read on each union (both are cache misses over millions of accounts). With path
// halving, linking by index costs O(log n) amortized per operation at worst (Tarjan and van
// Leeuwen), not quite union by size's inverse Ackermann, but still bounded whatever the input.

export interface UnionFind {
  /** parent[x] === x for a root: one root per set, its smallest node; parent[x] <= x always. */
  parent: Int32Array;
  find: (x: number) => number;
  union: (a: number, b: number) => void;
}

/**
 * n singletons; or, with `from`, its sets over its first nodes and singletons after them. `into`:
 * n ints to keep the parents in (a count's scratch) instead of a new array; overwritten.
 */
export function unionFind(n: number, from?: UnionFind, into?: Int32Array): UnionFind {
  const parent = into ?? new Int32Array(n);
  const kept = from ? Math.min(n, from.parent.length) : 0;
  if (from) parent.set(from.parent.subarray(0, kept));
  for (let i = kept; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const gp = parent[parent[x]!]!;
      parent[x] = gp; // path halving
      x = gp;
    }
    return x;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
  };
  return { parent, find, union };
}

/**
 * root[x] = find(x) for every node x < root.length, in one pass in node order: parent[x] < x, so
 * parent[x]'s root is already known. Leaves the sets' paths as they are.
 */
export function rootsInOrder(persons: UnionFind, root: Int32Array): void {
  const { parent } = persons;
  for (let x = 0; x < root.length; x++) {
    const p = parent[x]!;
    root[x] = p === x ? x : root[p]!;
  }
}
