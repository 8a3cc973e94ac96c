// Union-find over n integer nodes (typed arrays, union by size, path halving): the persons of the
// GHES count and of the enterprise count.

export interface UnionFind {
  /** parent[x] === x for a root: one root per set. */
  parent: Int32Array;
  find: (x: number) => number;
  union: (a: number, b: number) => void;
}

export function unionFind(n: number): UnionFind {
  const parent = new Int32Array(n);
  const size = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) parent[i] = i;
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
  return { parent, find, union };
}
