import { afterAll, describe, expect, it } from 'vitest';
import { closeKMeansWorkers, kmeansParallel } from './kmeans-parallel.js';
import { chooseK, describeClusters, kmeans, silhouette, standardize, type Matrix } from './kmeans.js';
import { seededRandom } from './random.js';

afterAll(closeKMeansWorkers);

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** `perCluster` points around each centre, cluster by cluster, with the true labels. */
function blobs(centres: number[][], perCluster: number, spread: number, seed: number): { x: Matrix; truth: Int32Array } {
  const random = seededRandom(seed);
  const d = centres[0]!.length;
  const n = centres.length * perCluster;
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / perCluster);
    truth[i] = c;
    for (let f = 0; f < d; f++) data[i * d + f] = centres[c]![f]! + spread * normal(random);
  }
  return { x: { data, n, d }, truth };
}

function uniform(n: number, d: number, seed: number): Matrix {
  const random = seededRandom(seed);
  return { data: Float64Array.from({ length: n * d }, () => random()), n, d };
}

/** True when two labelings group the points the same way, whatever the label numbers. */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    if ((ab.get(p) ?? q) !== q || (ba.get(q) ?? p) !== p) return false;
    ab.set(p, q);
    ba.set(q, p);
  }
  return true;
}

/** Textbook Lloyd's with scikit-learn's stopping rule, every distance computed: what the accelerated fit must equal. */
function naiveLloyd(x: Matrix, init: Float64Array, k: number, maxIterations: number, tolerance: number) {
  const { data, n, d } = x;
  const nearest = (centroids: Float64Array) => {
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestSq = Infinity;
      for (let j = 0; j < k; j++) {
        let sq = 0;
        for (let f = 0; f < d; f++) sq += (data[i * d + f]! - centroids[j * d + f]!) ** 2;
        if (sq < bestSq) {
          bestSq = sq;
          best = j;
        }
      }
      labels[i] = best;
    }
    return labels;
  };
  let mean = 0;
  let variance = 0;
  for (let f = 0; f < d; f++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * d + f]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * d + f]! - m) ** 2;
    mean += m;
    variance += v / n;
  }
  const tol = (tolerance * variance) / d;
  let centroids = init.slice();
  let labels = new Int32Array(n).fill(-1);
  let iterations = 0;
  let strict = false;
  while (iterations < maxIterations) {
    const next = nearest(centroids);
    const sums = new Float64Array(k * d);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      counts[next[i]!]!++;
      for (let f = 0; f < d; f++) sums[next[i]! * d + f]! += data[i * d + f]!;
    }
    if (counts.includes(0)) throw new Error('the naive fit met an empty cluster; pick other data for this test');
    const moved = sums.map((s, at) => s / counts[Math.floor(at / d)]!);
    const shift = moved.reduce((sum, v, at) => sum + (v - centroids[at]!) ** 2, 0);
    centroids = moved;
    iterations++;
    const same = next.every((l, i) => l === labels[i]);
    labels = next;
    if (same) {
      strict = true;
      break;
    }
    if (shift <= tol) break;
  }
  if (!strict) labels = nearest(centroids);
  let inertia = 0;
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) inertia += (data[i * d + f]! - centroids[labels[i]! * d + f]!) ** 2;
  return { centroids, labels, inertia, iterations, mean };
}

describe('kmeans', () => {
  it('recovers well-separated blobs exactly', () => {
    const { x, truth } = blobs(
      [
        [0, 0, 0],
        [30, 0, 0],
        [0, 30, 0],
        [0, 0, 30],
        [30, 30, 30],
      ],
      60,
      1,
      3,
    );
    const result = kmeans(x, { k: 5, seed: 7 });
    expect(samePartition(result.assignments, truth)).toBe(true);
    expect([...result.sizes]).toEqual([60, 60, 60, 60, 60]);
    // The centroids are the means of their points, in the units of the input.
    const first = result.assignments[0]!;
    for (let f = 0; f < 3; f++) {
      let mean = 0;
      for (let i = 0; i < 60; i++) mean += x.data[i * 3 + f]!;
      expect(result.centroids[first * 3 + f]).toBeCloseTo(mean / 60, 9);
    }
  });

  it('equals plain Lloyd iterations from the same k-means++ seeds', () => {
    for (const [seed, tolerance, n, k] of [
      [1, 1e-4, 600, 7],
      [2, 0, 600, 7],
      [3, 1e-2, 600, 7],
      [4, 0, 3000, 12],
    ] as const) {
      const x = uniform(n, 3, 100 + seed);
      const seeds = kmeans(x, { k, seed, restarts: 1, maxIterations: 0 });
      expect(seeds.iterations).toBe(0);
      const naive = naiveLloyd(x, seeds.centroids, k, 300, tolerance);
      expect(naive.iterations).toBeGreaterThan(3);
      const ours = kmeans(x, { k, seed, restarts: 1, tolerance });
      expect(ours.iterations).toBe(naive.iterations);
      expect(Math.abs(ours.inertia - naive.inertia)).toBeLessThanOrEqual(1e-9 * naive.inertia);
      expect([...ours.assignments]).toEqual([...naive.labels]);
      for (let at = 0; at < naive.centroids.length; at++) expect(ours.centroids[at]).toBeCloseTo(naive.centroids[at]!, 12);
    }
  });

  it('equals plain Lloyd iterations from given starting centroids', () => {
    const x = uniform(500, 4, 9);
    const random = seededRandom(4);
    const init = Float64Array.from({ length: 6 * 4 }, () => random());
    const naive = naiveLloyd(x, init, 6, 300, 0);
    const ours = kmeans(x, { k: 6, init, tolerance: 0 });
    expect(ours.iterations).toBe(naive.iterations);
    expect(Math.abs(ours.inertia - naive.inertia)).toBeLessThanOrEqual(1e-9 * naive.inertia);
    expect([...ours.assignments]).toEqual([...naive.labels]);
  });

  it('gives an empty cluster the point farthest from its centre', () => {
    const { x } = blobs(
      [
        [0, 0],
        [10, 0],
      ],
      20,
      0.5,
      5,
    );
    // One outlier, far from both blobs; the third start is far from everything, so its cluster starts empty.
    const data = new Float64Array([...x.data, 5, 40]);
    const withOutlier: Matrix = { data, n: x.n + 1, d: 2 };
    const result = kmeans(withOutlier, { k: 3, init: new Float64Array([0, 0, 10, 0, -500, -500]) });
    expect(result.assignments[x.n]).toBe(2);
    expect(result.sizes[2]).toBe(1);
    expect([...result.centroids.subarray(4, 6)]).toEqual([5, 40]);
    expect([...result.sizes]).toEqual([20, 20, 1]);
  });

  it('copes with duplicate points and fewer distinct points than k', () => {
    const same: Matrix = { data: new Float64Array(20).fill(3), n: 10, d: 2 };
    const flat = kmeans(same, { k: 3 });
    expect(flat.inertia).toBe(0);
    expect(flat.centroids.every((v) => v === 3)).toBe(true);
    expect(flat.sizes.reduce((a, b) => a + b, 0)).toBe(10);

    const three: Matrix = { data: new Float64Array([1, 1, 1, 1, 5, 5, 5, 9, 9, 9]), n: 10, d: 1 };
    const exact = kmeans(three, { k: 3 });
    expect(exact.inertia).toBe(0);
    expect([...exact.sizes].sort()).toEqual([3, 3, 4]);
    expect([...exact.centroids].sort((a, b) => a - b)).toEqual([1, 5, 9]);
  });

  it('works on one feature', () => {
    const random = seededRandom(8);
    const values = Array.from({ length: 300 }, (_, i) => (i < 150 ? 0 : 100) + normal(random));
    const result = kmeans({ data: Float64Array.from(values), n: 300, d: 1 }, { k: 2 });
    const low = result.assignments[0]!;
    expect(result.assignments.every((a, i) => a === (i < 150 ? low : 1 - low))).toBe(true);
    expect(Math.abs(result.centroids[low]!)).toBeLessThan(0.5);
  });

  it('is deterministic for a seed', () => {
    const x = uniform(800, 5, 11);
    const a = kmeans(x, { k: 6, seed: 42, restarts: 3 });
    const b = kmeans(x, { k: 6, seed: 42, restarts: 3 });
    expect(a).toEqual(b);
  });

  it('reports progress per restart and iteration', () => {
    const calls: Array<[number, number]> = [];
    const result = kmeans(uniform(200, 2, 1), { k: 3, restarts: 2, onProgress: (r, i) => calls.push([r, i]) });
    expect(calls[0]).toEqual([0, 1]);
    expect(new Set(calls.map(([r]) => r))).toEqual(new Set([0, 1]));
    expect(calls.some(([, i]) => i === result.iterations)).toBe(true);
  });

  it('throws a RangeError when there are fewer points than clusters', () => {
    expect(() => kmeans(uniform(3, 2, 1), { k: 4 })).toThrow(RangeError);
    expect(() => kmeans(uniform(3, 2, 1), { k: 4 })).toThrow(/cannot make 4 clusters from 3 points/);
    expect(() => kmeans(uniform(3, 2, 1), { k: 0 })).toThrow(RangeError);
    expect(() => kmeans({ data: new Float64Array([1, Number.NaN]), n: 2, d: 1 }, { k: 1 })).toThrow(/NaN/);
  });

  it('gives the same result on worker threads', async () => {
    const x = uniform(6000, 4, 21);
    const options = { k: 6, seed: 3, restarts: 4 };
    const alone = kmeans(x, options);
    // The first call starts the worker; the second finds it ready, so it takes a share of the restarts.
    expect(await kmeansParallel(x, { ...options, threads: 2 })).toEqual(alone);
    let returned = false;
    const fromWorker = new Set<number>();
    // This thread runs its share before the call returns; the worker's progress arrives after.
    const pending = kmeansParallel(x, { ...options, threads: 2, onProgress: (r) => returned && fromWorker.add(r) });
    returned = true;
    expect(await pending).toEqual(alone);
    expect(fromWorker.size).toBeGreaterThan(0);
    await expect(kmeansParallel(x, { k: 50_000, threads: 2 })).rejects.toThrow(RangeError);
  });
});

describe('silhouette', () => {
  it('is close to 1 for two tight clusters far apart', () => {
    const { x, truth } = blobs(
      [
        [0, 0],
        [100, 100],
      ],
      50,
      0.5,
      2,
    );
    expect(silhouette(x, truth, 2)).toBeGreaterThan(0.98);
  });

  it('matches a hand computation when every point is used', () => {
    // Points 0, 1 | 4, 6 on a line.
    const x: Matrix = { data: new Float64Array([0, 1, 4, 6]), n: 4, d: 1 };
    const labels = new Int32Array([0, 0, 1, 1]);
    const scores = [
      (5 - 1) / 5, // a = 1, b = (4 + 6) / 2
      (4 - 1) / 4, // a = 1, b = (3 + 5) / 2
      (3.5 - 2) / 3.5, // a = 2, b = (4 + 3) / 2
      (5.5 - 2) / 5.5, // a = 2, b = (6 + 5) / 2
    ];
    expect(silhouette(x, labels, 2, 10)).toBeCloseTo(scores.reduce((a, b) => a + b) / 4, 12);
  });

  it('is NaN with a single cluster and samples reproducibly', () => {
    const x = uniform(500, 2, 4);
    expect(silhouette(x, new Int32Array(500), 1)).toBeNaN();
    const labels = kmeans(x, { k: 3 }).assignments;
    expect(silhouette(x, labels, 3, 50, 9)).toBe(silhouette(x, labels, 3, 50, 9));
  });
});

describe('chooseK', () => {
  it('picks the true k on clear blobs', () => {
    const { x } = blobs(
      [
        [0, 0],
        [20, 0],
        [10, 18],
      ],
      40,
      1,
      6,
    );
    const { choices, suggested, elbow } = chooseK(x, { min: 2, max: 6 }, { restarts: 2, sampleSize: 120 });
    expect(choices.map((c) => c.k)).toEqual([2, 3, 4, 5, 6]);
    expect(suggested).toBe(3);
    expect(elbow).toBe(3);
    expect(choices[1]!.inertia).toBeLessThan(choices[0]!.inertia);
  });
});

describe('standardize and describeClusters', () => {
  it('z-scores columns, maps a constant column to 0', () => {
    const x: Matrix = { data: new Float64Array([1, 0.1, 3, 0.1, 5, 0.1]), n: 3, d: 2 };
    const { z, mean, std } = standardize(x);
    expect([...mean]).toEqual([3, 0.1]);
    expect(std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(std[1]).toBe(1);
    expect([...z.data].filter((_, at) => at % 2 === 1)).toEqual([0, 0, 0]);
    expect(z.data[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3), 12);
  });

  it('describes clusters in original units with their most distinctive features', () => {
    // Spend in currency, visits per month, days since last order: very different scales.
    const random = seededRandom(12);
    const rows: number[][] = [];
    for (let i = 0; i < 100; i++) rows.push([2000 + 50 * normal(random), 10 + normal(random), 5 + normal(random)]);
    for (let i = 0; i < 100; i++) rows.push([100 + 50 * normal(random), 1 + 0.2 * normal(random), 90 + 5 * normal(random)]);
    const x: Matrix = { data: Float64Array.from(rows.flat()), n: 200, d: 3 };
    const { z, mean, std } = standardize(x);
    const fit = kmeans(z, { k: 2 });
    const described = describeClusters(fit, ['spend', 'visits', 'recency'], mean, std);
    expect(described).toHaveLength(2);
    const loyal = described.find((c) => c.centroid.spend! > 1000)!;
    const lapsed = described.find((c) => c.centroid.spend! < 1000)!;
    expect(loyal.size).toBe(100);
    expect(loyal.share).toBe(0.5);
    let spend = 0;
    for (let i = 0; i < 100; i++) spend += rows[i]![0]!;
    expect(loyal.centroid.spend).toBeCloseTo(spend / 100, 6);
    expect(lapsed.centroid.recency).toBeGreaterThan(80);
    expect(loyal.distinctive).toHaveLength(3);
    expect(loyal.distinctive.map((f) => Math.abs(f.z))).toEqual([...loyal.distinctive.map((f) => Math.abs(f.z))].sort((a, b) => b - a));
    expect(lapsed.distinctive.find((f) => f.feature === 'recency')).toMatchObject({ direction: 'high' });
    expect(lapsed.distinctive.find((f) => f.feature === 'spend')).toMatchObject({ direction: 'low' });
    expect(() => describeClusters(fit, ['spend', 'visits'], mean, std)).toThrow(RangeError);
  });
});
