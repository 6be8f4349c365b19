/**
 * Connected components of the match graph (union–find with union by size
 * and path halving). Returns a component id per record, numbered 0, 1, 2…
 * in order of each component's first record.
 */
export function clusterIds(n: number, pairs: Iterable<{ a: number; b: number }>): Int32Array {
  const parent = new Int32Array(n);
  const size = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) parent[i] = i;
  const root = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const { a, b } of pairs) {
    if (a < 0 || b < 0 || a >= n || b >= n) continue;
    let ra = root(a);
    let rb = root(b);
    if (ra === rb) continue;
    if (size[ra]! < size[rb]!) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    size[ra]! += size[rb]!;
  }
  const ids = new Int32Array(n);
  const idOfRoot = new Int32Array(n).fill(-1);
  let next = 0;
  for (let i = 0; i < n; i++) {
    const r = root(i);
    if (idOfRoot[r] === -1) idOfRoot[r] = next++;
    ids[i] = idOfRoot[r]!;
  }
  return ids;
}
