// Union-find over n integer nodes (typed arrays, union by size, path halving): the persons of the
// GHES count and of the enterprise count, which continues from the GHES count's sets.

export interface UnionFind {
  /** parent[x] === x for a root: one root per set. */
  parent: Int32Array;
  /** Nodes in each root's set (meaningful for roots only). */
  size: Int32Array;
  find: (x: number) => number;
  union: (a: number, b: number) => void;
}

/** n singletons; or, with `from`, its sets over its first nodes and singletons after them. */
export function unionFind(n: number, from?: UnionFind): UnionFind {
  const parent = new Int32Array(n);
  const size = new Int32Array(n).fill(1);
  const kept = from ? Math.min(n, from.parent.length) : 0;
  if (from) {
    parent.set(from.parent.subarray(0, kept));
    size.set(from.size.subarray(0, kept));
  }
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
    let ra = find(a);
    let rb = find(b);
    if (ra === rb) return;
    if (size[ra]! < size[rb]!) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    size[ra]! += size[rb]!;
  };
  return { parent, size, find, union };
}
