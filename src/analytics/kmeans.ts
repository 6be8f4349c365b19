/**
 * k-means for customer segmentation: k-means++ seeding with greedy local
 * trials, then Lloyd iterations accelerated with Hamerly's bounds. The bounds
 * only decide when a distance need not be computed, so every fit equals plain
 * Lloyd's from the same seeds; they make the later iterations, where few
 * points still move, cost little more than reading the bounds.
 *
 * The conventions (tolerance scaled by the data's variance, the stopping rule,
 * the final assignment to the returned centroids) are scikit-learn's, so a fit
 * can be checked against it on the same data.
 */
import { randomInt, seededRandom } from './random.js';

/** Row-major n×d matrix. */
export interface Matrix {
  data: Float64Array;
  n: number;
  d: number;
}

export interface KMeansOptions {
  k: number;
  /** independent k-means++ starts; the lowest inertia wins. Default 4 */
  restarts?: number;
  /** default 300 */
  maxIterations?: number;
  /** stop when total squared centroid shift ≤ tolerance × mean per-feature variance of the data (sklearn's rule). Default 1e-4 */
  tolerance?: number;
  /** default 1 */
  seed?: number;
  /**
   * k×d starting centroids instead of k-means++ (a warm start from an earlier
   * fit); the fit then runs once, whatever `restarts` says.
   */
  init?: Float64Array;
  /** called with (restart, iteration) so long fits can show progress */
  onProgress?: (restart: number, iteration: number) => void;
}

export interface KMeansResult {
  k: number;
  /** k×d row-major, in the units of the input */
  centroids: Float64Array;
  assignments: Int32Array;
  sizes: Int32Array;
  /** sum of squared distances to the assigned centroid */
  inertia: number;
  iterations: number;
}

export interface KChoice {
  k: number;
  inertia: number;
  silhouette: number;
}

export interface ClusterDescription {
  cluster: number;
  size: number;
  share: number;
  /** centroid in original units, keyed by feature name */
  centroid: Record<string, number>;
  /** features whose standardized centroid is furthest from 0, most distinctive first (at most 3), with the z value */
  distinctive: Array<{ feature: string; z: number; direction: 'high' | 'low' }>;
}

const DEFAULT_RESTARTS = 4;
const DEFAULT_MAX_ITERATIONS = 300;
const DEFAULT_TOLERANCE = 1e-4;
const DEFAULT_SEED = 1;
const DEFAULT_SILHOUETTE_SAMPLE = 1000;

/**
 * Hamerly's test skips a point only when its bounds separate the centres by
 * this relative margin: the bounds carry rounding from many small updates,
 * and a near tie must be settled by computing the distances exactly as plain
 * Lloyd's does, or the two could pick different centres.
 */
const BOUND_SLACK = 1 + 1e-10;

function checkMatrix(x: Matrix): void {
  if (!Number.isInteger(x.n) || x.n < 0 || !Number.isInteger(x.d) || x.d < 1) {
    throw new RangeError(`matrix must have a whole number of rows and at least one column (got n = ${x.n}, d = ${x.d})`);
  }
  if (x.data.length !== x.n * x.d) {
    throw new RangeError(`matrix data holds ${x.data.length} values but n × d = ${x.n} × ${x.d} = ${x.n * x.d}`);
  }
}

function checkWhole(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min} (got ${value})`);
}

/** Mean over the features of each feature's (population) variance; throws on NaN or ±Infinity in the data. */
function meanVariance(x: Matrix): number {
  const { data, n, d } = x;
  const mean = new Float64Array(d);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let f = 0; f < d; f++) mean[f]! += data[row + f]!;
  }
  for (let f = 0; f < d; f++) mean[f]! /= n;
  let total = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let f = 0; f < d; f++) {
      const diff = data[row + f]! - mean[f]!;
      total += diff * diff;
    }
  }
  if (!Number.isFinite(total)) throw new RangeError('k-means needs finite values: the matrix holds NaN or ±Infinity');
  return total / n / d;
}

/** Every restart has its own stream, so any subset of restarts can be fitted apart (in another thread) with the same outcome. */
function restartSeeds(seed: number, restarts: number): number[] {
  const master = seededRandom(seed);
  return Array.from({ length: restarts }, () => Math.floor(master() * 4294967296));
}

/** Buffers one restart needs, allocated once per fit and reused by every restart. */
interface Workspace {
  k: number;
  assign: Int32Array;
  /**
   * Hamerly's upper bound on the distance to the assigned centre, stored less
   * that centre's `drift` (squared and as is while seeding, when there is none)
   */
  upper: Float64Array;
  /** Hamerly's lower bound on the distance to any other centre, stored plus `travel` (squared while seeding) */
  lower: Float64Array;
  /** the cumulative potential while seeding, distances when re-seeding an empty cluster */
  scratch: Float64Array;
  centroids: Float64Array;
  next: Float64Array;
  sums: Float64Array;
  counts: Int32Array;
  /** how far each centre moved in the last update */
  shift: Float64Array;
  /**
   * How far each centre has moved in all, and the sum of the largest move of
   * each update. Bounds are stored relative to these, so a point whose bounds
   * still hold costs three reads and no write: the step is bound by memory
   * traffic, not arithmetic.
   */
  drift: Float64Array;
  travel: number;
  /** k×k distances between centres */
  gaps: Float64Array;
  /** half the distance from each centre to its nearest other centre */
  half: Float64Array;
  /** a block's points whose bounds failed, with their bound and squared distance to their own centre */
  pending: Int32Array;
  pendingBound: Float64Array;
  pendingOwn: Float64Array;
  /** the candidates for the next centre, padded to a multiple of four */
  candidates: Float64Array;
  /**
   * Each candidate's squared distance to every point, kept while the
   * candidates are weighed so the chosen one's need not be computed again
   * (a fifth of the seeding's work). Only when the candidates fit one block
   * of four (k ≤ 20): more would cost memory in proportion.
   */
  candidateDistances: Float64Array | null;
  potentials: Float64Array;
}

function workspace(n: number, d: number, k: number): Workspace {
  const trials = localTrials(k);
  return {
    k,
    assign: new Int32Array(n),
    upper: new Float64Array(n),
    lower: new Float64Array(n),
    scratch: new Float64Array(n),
    centroids: new Float64Array(k * d),
    next: new Float64Array(k * d),
    sums: new Float64Array(k * d),
    counts: new Int32Array(k),
    shift: new Float64Array(k),
    drift: new Float64Array(k),
    travel: 0,
    gaps: new Float64Array(k * k),
    half: new Float64Array(k),
    pending: new Int32Array(BLOCK),
    pendingBound: new Float64Array(BLOCK),
    pendingOwn: new Float64Array(BLOCK),
    candidates: new Float64Array(Math.ceil(trials / 4) * 4 * d),
    candidateDistances: trials <= 4 ? new Float64Array(4 * n) : null,
    potentials: new Float64Array(trials),
  };
}

/** scikit-learn's number of greedy candidates per centre. */
function localTrials(k: number): number {
  return 2 + Math.floor(Math.log(k));
}

/**
 * Squared distance between row `ai` of `a` and row `bi` of `b`. Four
 * accumulators let the additions overlap, which is most of the speed a
 * scalar loop can get. (Seeding adds its terms in another order; the two can
 * differ in the last bit, which the bounds' slack absorbs.)
 */
function squaredDistance(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let f = 0;
  for (const end = d - 3; f < end; f += 4) {
    const e0 = a[ai + f]! - b[bi + f]!;
    const e1 = a[ai + f + 1]! - b[bi + f + 1]!;
    const e2 = a[ai + f + 2]! - b[bi + f + 2]!;
    const e3 = a[ai + f + 3]! - b[bi + f + 3]!;
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; f < d; f++) {
    const e = a[ai + f]! - b[bi + f]!;
    s0 += e * e;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * Greedy k-means++: each new centre is the best of a few D²-sampled
 * candidates. While at it, it keeps each point's nearest and second-nearest
 * centre, which is the first assignment step, so Lloyd's starts with a
 * centroid update.
 */
function seedCentroids(x: Matrix, ws: Workspace, random: () => number): void {
  const { data, n, d } = x;
  const { k, assign, upper: nearest, lower: second, scratch: cumulative, centroids, candidates, potentials } = ws;
  const trials = potentials.length;
  const first = randomInt(random, n) * d;
  for (let f = 0; f < d; f++) centroids[f] = data[first + f]!;
  let potential = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    const sq = squaredDistance(data, row, centroids, 0, d);
    nearest[i] = sq;
    second[i] = Infinity;
    assign[i] = 0;
    potential += sq;
    cumulative[i] = potential;
  }
  for (let c = 1; c < k; c++) {
    for (let t = 0; t < trials; t++) {
      const index = potential > 0 ? sampleIndex(cumulative, random() * potential) : randomInt(random, n);
      for (let f = 0; f < d; f++) candidates[t * d + f] = data[index * d + f]!;
    }
    // Candidates past the last are copies of it, so every block has four.
    for (let t = trials; t < candidates.length / d; t++) candidates.copyWithin(t * d, (trials - 1) * d, trials * d);
    for (let t = 0; t < trials; t += 4) potentialsOfFour(x, ws, t);
    let best = 0;
    for (let t = 1; t < trials; t++) if (potentials[t]! < potentials[best]!) best = t;
    const cb = c * d;
    for (let f = 0; f < d; f++) centroids[cb + f] = candidates[best * d + f]!;
    const kept = ws.candidateDistances;
    const from = best * n;
    potential = 0;
    for (let i = 0, row = 0; i < n; i++, row += d) {
      const sq = kept ? kept[from + i]! : squaredDistance(data, row, centroids, cb, d);
      // Strictly less: on a tie the lower-numbered centre keeps the point, as Lloyd's argmin does.
      if (sq < nearest[i]!) {
        second[i] = nearest[i]!;
        nearest[i] = sq;
        assign[i] = c;
      } else if (sq < second[i]!) second[i] = sq;
      potential += nearest[i]!;
      cumulative[i] = potential;
    }
  }
  for (let i = 0; i < n; i++) {
    nearest[i] = Math.sqrt(nearest[i]!);
    second[i] = Math.sqrt(second[i]!);
  }
}

/**
 * The potential (sum of squared distances to the nearest centre) if each of
 * candidates t..t+3 were added. Four candidates and two points at a time:
 * each value read, of the data or of a candidate, serves in several
 * distances, and the sums stay in registers. That beats skipping candidates
 * by the triangle inequality, whose unpredictable branch costs about what it
 * saves.
 */
function potentialsOfFour(x: Matrix, ws: Workspace, t: number): void {
  const { data, n, d } = x;
  const { upper: nearest, candidates: cands, potentials } = ws;
  const keep = ws.candidateDistances;
  const b0 = t * d;
  const b1 = b0 + d;
  const b2 = b1 + d;
  const b3 = b2 + d;
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  let i = 0;
  let row = 0;
  for (; i + 1 < n; i += 2, row += 2 * d) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    const next = row + d;
    for (let f = 0; f < d; f++) {
      const v = data[row + f]!;
      const w = data[next + f]!;
      const c0 = cands[b0 + f]!;
      const c1 = cands[b1 + f]!;
      const c2 = cands[b2 + f]!;
      const c3 = cands[b3 + f]!;
      s0 += (v - c0) * (v - c0);
      s1 += (v - c1) * (v - c1);
      s2 += (v - c2) * (v - c2);
      s3 += (v - c3) * (v - c3);
      q0 += (w - c0) * (w - c0);
      q1 += (w - c1) * (w - c1);
      q2 += (w - c2) * (w - c2);
      q3 += (w - c3) * (w - c3);
    }
    if (keep) {
      keep[i] = s0;
      keep[i + 1] = q0;
      keep[n + i] = s1;
      keep[n + i + 1] = q1;
      keep[2 * n + i] = s2;
      keep[2 * n + i + 1] = q2;
      keep[3 * n + i] = s3;
      keep[3 * n + i + 1] = q3;
    }
    const here = nearest[i]!;
    p0 += s0 < here ? s0 : here;
    p1 += s1 < here ? s1 : here;
    p2 += s2 < here ? s2 : here;
    p3 += s3 < here ? s3 : here;
    const there = nearest[i + 1]!;
    p0 += q0 < there ? q0 : there;
    p1 += q1 < there ? q1 : there;
    p2 += q2 < there ? q2 : there;
    p3 += q3 < there ? q3 : there;
  }
  if (i < n) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let f = 0; f < d; f++) {
      const v = data[row + f]!;
      s0 += (v - cands[b0 + f]!) * (v - cands[b0 + f]!);
      s1 += (v - cands[b1 + f]!) * (v - cands[b1 + f]!);
      s2 += (v - cands[b2 + f]!) * (v - cands[b2 + f]!);
      s3 += (v - cands[b3 + f]!) * (v - cands[b3 + f]!);
    }
    if (keep) {
      keep[i] = s0;
      keep[n + i] = s1;
      keep[2 * n + i] = s2;
      keep[3 * n + i] = s3;
    }
    const here = nearest[i]!;
    p0 += s0 < here ? s0 : here;
    p1 += s1 < here ? s1 : here;
    p2 += s2 < here ? s2 : here;
    p3 += s3 < here ? s3 : here;
  }
  const sums = [p0, p1, p2, p3];
  for (let j = 0; j < 4 && t + j < potentials.length; j++) potentials[t + j] = sums[j]!;
}

/** First index whose cumulative potential exceeds `target`: never a point that already is a centre. */
function sampleIndex(cumulative: Float64Array, target: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Assignment to given centroids with every distance computed: the start of a warm-started fit. */
function assignAll(x: Matrix, ws: Workspace): void {
  const { data, n, d } = x;
  const { k, assign, upper, lower, centroids } = ws;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let best = 0;
    let d1 = Infinity;
    let d2 = Infinity;
    for (let j = 0; j < k; j++) {
      const sq = squaredDistance(data, row, centroids, j * d, d);
      if (sq < d1) {
        d2 = d1;
        d1 = sq;
        best = j;
      } else if (sq < d2) d2 = sq;
    }
    assign[i] = best;
    upper[i] = Math.sqrt(d1);
    lower[i] = Math.sqrt(d2);
  }
}

function sumClusters(x: Matrix, ws: Workspace): void {
  const { data, n, d } = x;
  const { assign, sums, counts } = ws;
  sums.fill(0);
  counts.fill(0);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    const a = assign[i]!;
    counts[a]!++;
    const cb = a * d;
    for (let f = 0; f < d; f++) sums[cb + f]! += data[row + f]!;
  }
}

/** Points per block of the assignment step; see hamerlyAssign. */
const BLOCK = 256;

/**
 * One assignment step with Hamerly's bounds, first moving the bounds by the
 * last centroid update. Cluster sums follow the points that change cluster,
 * so the update step never rereads the data. Returns how many points moved.
 *
 * Points whose bounds fail are scattered over the data, and fetching their
 * rows from memory is much of the step's cost. So it goes block by block: the
 * bounds first, listing the points that fail without a branch to mispredict;
 * then those points' distances to their own centre, loads that need not wait
 * on one another; then the decisions, with the rows in cache.
 *
 * When a point needs a full search, centres at least twice its distance from
 * its own centre are skipped (they cannot be nearer) and bound from below by
 * the triangle inequality instead.
 */
function hamerlyAssign(x: Matrix, ws: Workspace): number {
  const { data, n, d } = x;
  const { k, assign, upper, lower, centroids, sums, counts, shift, drift, gaps, half, pending, pendingBound, pendingOwn } = ws;
  let most = 0;
  let widest = 0;
  for (let j = 0; j < k; j++) {
    drift[j]! += shift[j]!;
    most = Math.max(most, shift[j]!);
    widest = Math.max(widest, drift[j]!);
  }
  const travel = (ws.travel += most);
  // Adding a drift back to a stored bound rounds; the test must clear that too.
  const guard = 8 * Number.EPSILON * (widest + travel);
  let moved = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    let count = 0;
    for (let i = start; i < end; i++) {
      const a = assign[i]!;
      const u = upper[i]! + drift[a]!;
      const l = lower[i]! - travel;
      const h = half[a]!;
      const bound = l > h ? l : h;
      pending[count] = i;
      pendingBound[count] = bound;
      count += u * BOUND_SLACK + guard < bound ? 0 : 1;
    }
    for (let p = 0; p < count; p++) {
      const i = pending[p]!;
      pendingOwn[p] = squaredDistance(data, i * d, centroids, assign[i]! * d, d);
    }
    for (let p = 0; p < count; p++) {
      const i = pending[p]!;
      const bound = pendingBound[p]!;
      const own = pendingOwn[p]!;
      const u = Math.sqrt(own);
      const a = assign[i]!;
      if (u * BOUND_SLACK + guard < bound) {
        upper[i] = u - drift[a]!;
        continue;
      }
      const row = i * d;
      const reach = 2 * u * BOUND_SLACK;
      const ak = a * k;
      let best = a;
      let bestSq = own;
      let second = Infinity;
      for (let j = 0; j < k; j++) {
        if (j === a) continue;
        const gap = gaps[ak + j]!;
        if (gap > reach) {
          if (gap - u < second) second = gap - u;
          continue;
        }
        const sq = squaredDistance(data, row, centroids, j * d, d);
        // Lloyd's argmin keeps the lowest-numbered centre among equals.
        if (sq < bestSq || (sq === bestSq && j < best)) {
          const was = Math.sqrt(bestSq);
          if (was < second) second = was;
          bestSq = sq;
          best = j;
        } else {
          const is = Math.sqrt(sq);
          if (is < second) second = is;
        }
      }
      upper[i] = (best === a ? u : Math.sqrt(bestSq)) - drift[best]!;
      lower[i] = second + travel;
      if (best !== a) {
        assign[i] = best;
        moved++;
        counts[a]!--;
        counts[best]!++;
        const ab = a * d;
        const bb = best * d;
        for (let f = 0; f < d; f++) {
          const v = data[row + f]!;
          sums[ab + f]! -= v;
          sums[bb + f]! += v;
        }
      }
    }
  }
  return moved;
}

/**
 * Gives each empty cluster the point farthest from its centre, taken only from
 * clusters that keep a point, so filling one cluster never empties another.
 * Ties go to the lower index. Returns how many points were moved.
 */
function reseedEmpty(x: Matrix, ws: Workspace): number {
  const { data, n, d } = x;
  const { k, assign, upper, lower, scratch: distance, centroids, sums, counts } = ws;
  let empty = 0;
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty++;
  if (empty === 0) return 0;
  for (let i = 0, row = 0; i < n; i++, row += d) distance[i] = squaredDistance(data, row, centroids, assign[i]! * d, d);
  for (let j = 0; j < k; j++) {
    if (counts[j] !== 0) continue;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if (counts[assign[i]!]! > 1 && (pick < 0 || distance[i]! > distance[pick]!)) pick = i;
    }
    // n ≥ k, so while a cluster is empty another holds two points or more.
    const from = assign[pick]!;
    const row = pick * d;
    const fb = from * d;
    const jb = j * d;
    for (let f = 0; f < d; f++) {
      const v = data[row + f]!;
      sums[fb + f]! -= v;
      sums[jb + f] = v;
    }
    counts[from]!--;
    counts[j] = 1;
    assign[pick] = j;
    upper[pick] = Math.sqrt(squaredDistance(data, row, centroids, jb, d)) - ws.drift[j]!;
    // A lower bound of zero sends the point through a full search next time.
    lower[pick] = ws.travel;
  }
  return empty;
}

/** Centroids from the cluster sums; returns the total squared shift. */
function updateCentroids(d: number, ws: Workspace): number {
  const { k, centroids, next, sums, counts, shift } = ws;
  let total = 0;
  for (let j = 0, cb = 0; j < k; j++, cb += d) {
    const count = counts[j]!;
    for (let f = 0; f < d; f++) next[cb + f] = count > 0 ? sums[cb + f]! / count : centroids[cb + f]!;
    const moved = squaredDistance(next, cb, centroids, cb, d);
    shift[j] = Math.sqrt(moved);
    total += moved;
  }
  ws.centroids = next;
  ws.next = centroids;
  return total;
}

function centreGaps(d: number, ws: Workspace): void {
  const { k, centroids, gaps, half } = ws;
  half.fill(Infinity);
  for (let a = 0; a < k; a++) {
    gaps[a * k + a] = 0;
    for (let b = a + 1; b < k; b++) {
      const gap = Math.sqrt(squaredDistance(centroids, a * d, centroids, b * d, d));
      gaps[a * k + b] = gap;
      gaps[b * k + a] = gap;
      if (gap / 2 < half[a]!) half[a] = gap / 2;
      if (gap / 2 < half[b]!) half[b] = gap / 2;
    }
  }
}

function inertiaOf(x: Matrix, ws: Workspace): number {
  const { data, n, d } = x;
  const { assign, centroids } = ws;
  let total = 0;
  for (let i = 0, row = 0; i < n; i++, row += d) total += squaredDistance(data, row, centroids, assign[i]! * d, d);
  return total;
}

/**
 * Everything a fit needs besides the data, checked and with defaults filled
 * in. Plain data (but for onProgress), so it can be sent to a worker thread.
 * For kmeans-parallel.
 */
export interface KMeansSettings {
  k: number;
  restarts: number;
  /** one seed per restart */
  seeds: number[];
  maxIterations: number;
  /** absolute: the option scaled by the data's variance */
  tolerance: number;
  init: Float64Array | undefined;
  onProgress: ((restart: number, iteration: number) => void) | undefined;
}

/** One fit from one start; the assignments stay in the workspace. */
function fitOnce(x: Matrix, ws: Workspace, settings: KMeansSettings, restart: number): { inertia: number; iterations: number } {
  const d = x.d;
  ws.drift.fill(0);
  ws.travel = 0;
  if (settings.init) {
    ws.centroids.set(settings.init);
    assignAll(x, ws);
  } else seedCentroids(x, ws, seededRandom(settings.seeds[restart]!));
  let iterations = 0;
  let converged = false;
  for (; iterations < settings.maxIterations; ) {
    let moved: number;
    if (iterations === 0) {
      sumClusters(x, ws);
      // Nothing was assigned before the first step, so it never counts as unchanged.
      moved = x.n;
    } else moved = hamerlyAssign(x, ws);
    moved += reseedEmpty(x, ws);
    const shifted = updateCentroids(d, ws);
    centreGaps(d, ws);
    iterations++;
    settings.onProgress?.(restart, iterations);
    if (moved === 0) {
      converged = true;
      break;
    }
    if (shifted <= settings.tolerance) break;
  }
  // The last update moved the centroids; assign to where they ended, as scikit-learn does.
  if (!converged && iterations > 0) hamerlyAssign(x, ws);
  return { inertia: inertiaOf(x, ws), iterations };
}

/**
 * The options checked, with defaults filled in; throws RangeError on anything
 * a fit cannot run with. For kmeans-parallel, which checks before it starts
 * threads and hands them the result.
 */
export function kmeansSettings(x: Matrix, options: KMeansOptions): KMeansSettings {
  checkMatrix(x);
  const { k } = options;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const seed = options.seed ?? DEFAULT_SEED;
  checkWhole(k, 'k', 1);
  if (x.n < k) throw new RangeError(`k-means cannot make ${k} clusters from ${x.n} point${x.n === 1 ? '' : 's'}: k must not exceed the number of rows`);
  checkWhole(options.restarts ?? DEFAULT_RESTARTS, 'restarts', 1);
  checkWhole(maxIterations, 'maxIterations', 0);
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) throw new RangeError(`tolerance must be a finite number ≥ 0 (got ${tolerance})`);
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number (got ${seed})`);
  if (options.init) {
    if (options.init.length !== k * x.d) throw new RangeError(`init must hold k × d = ${k * x.d} values (got ${options.init.length})`);
    if (!options.init.every(Number.isFinite)) throw new RangeError('init must hold finite values');
  }
  const restarts = options.init ? 1 : (options.restarts ?? DEFAULT_RESTARTS);
  return {
    k,
    restarts,
    seeds: restartSeeds(seed, restarts),
    maxIterations,
    tolerance: tolerance * meanVariance(x),
    init: options.init,
    onProgress: options.onProgress,
  };
}

/**
 * Runs the restarts `claim` hands out (it returns the next restart to run, or
 * a number ≥ settings.restarts when none is left) and returns the best (lowest
 * inertia, ties to the lower restart), or null if it was handed none. Threads
 * sharing one counter as `claim` split the restarts between them, and the best
 * of their answers is what one thread running them all would find.
 * For kmeans-parallel.
 */
export function fitRestarts(x: Matrix, settings: KMeansSettings, claim: () => number): (KMeansResult & { restart: number }) | null {
  let best: (KMeansResult & { restart: number }) | null = null;
  let ws: Workspace | null = null;
  for (let r = claim(); r < settings.restarts; r = claim()) {
    ws ??= workspace(x.n, x.d, settings.k);
    const { inertia, iterations } = fitOnce(x, ws, settings, r);
    if (best === null || isBetter({ inertia, restart: r }, best)) {
      const sizes = new Int32Array(settings.k);
      for (let i = 0; i < x.n; i++) sizes[ws.assign[i]!]!++;
      best = { k: settings.k, centroids: ws.centroids.slice(), assignments: ws.assign.slice(), sizes, inertia, iterations, restart: r };
    }
  }
  return best;
}

/** The order restarts are ranked in: lower inertia, then lower restart number. */
export function isBetter(a: { inertia: number; restart: number }, b: { inertia: number; restart: number }): boolean {
  return a.inertia < b.inertia || (a.inertia === b.inertia && a.restart < b.restart);
}

export function kmeans(x: Matrix, options: KMeansOptions): KMeansResult {
  const settings = kmeansSettings(x, options);
  let next = 0;
  const { restart: _, ...result } = fitRestarts(x, settings, () => next++)!;
  return result;
}

/** z-scores per column; a constant column gets std 1 so it maps to 0 */
export function standardize(x: Matrix): { z: Matrix; mean: Float64Array; std: Float64Array } {
  checkMatrix(x);
  const { data, n, d } = x;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let f = 0; f < d; f++) {
      const v = data[row + f]!;
      mean[f]! += v;
      if (v < min[f]!) min[f] = v;
      if (v > max[f]!) max[f] = v;
    }
  }
  for (let f = 0; f < d; f++) mean[f] = n > 0 ? mean[f]! / n : 0;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let f = 0; f < d; f++) {
      const diff = data[row + f]! - mean[f]!;
      std[f]! += diff * diff;
    }
  }
  for (let f = 0; f < d; f++) {
    // Detected by range, not by a zero std: the computed mean of a constant
    // column can be off by a rounding step, leaving a tiny std that blows noise up.
    if (!(max[f]! > min[f]!)) {
      mean[f] = n > 0 ? min[f]! : 0;
      std[f] = 1;
    } else std[f] = Math.sqrt(std[f]! / n);
  }
  const z = new Float64Array(n * d);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let f = 0; f < d; f++) z[row + f] = (data[row + f]! - mean[f]!) / std[f]!;
  }
  return { z: { data: z, n, d }, mean, std };
}

function checkAssignments(x: Matrix, assignments: Int32Array, k: number): Int32Array {
  checkWhole(k, 'k', 1);
  if (assignments.length !== x.n) throw new RangeError(`assignments has ${assignments.length} entries for ${x.n} rows`);
  const sizes = new Int32Array(k);
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i]!;
    if (a < 0 || a >= k) throw new RangeError(`assignment ${a} of row ${i} is outside 0..${k - 1}`);
    sizes[a]!++;
  }
  return sizes;
}

/**
 * mean silhouette over a seeded sample of at most sampleSize points (distances to all points of the data).
 * NaN when fewer than two clusters hold points, where it is undefined. Each
 * sampled point costs n distances, so keep the sample modest on large data.
 */
export function silhouette(x: Matrix, assignments: Int32Array, k: number, sampleSize = DEFAULT_SILHOUETTE_SAMPLE, seed = DEFAULT_SEED): number {
  checkMatrix(x);
  checkWhole(sampleSize, 'sampleSize', 1);
  const sizes = checkAssignments(x, assignments, k);
  if (sizes.filter((s) => s > 0).length < 2) return NaN;
  const { data, n, d } = x;
  const sample = Int32Array.from({ length: n }, (_, i) => i);
  const m = Math.min(sampleSize, n);
  if (m < n) {
    // Partial Fisher–Yates: the first m entries are a uniform sample without replacement.
    const random = seededRandom(seed);
    for (let s = 0; s < m; s++) {
      const t = s + randomInt(random, n - s);
      const keep = sample[s]!;
      sample[s] = sample[t]!;
      sample[t] = keep;
    }
  }
  const totals = new Float64Array(k);
  let sum = 0;
  for (let s = 0; s < m; s++) {
    const p = sample[s]!;
    const own = assignments[p]!;
    if (sizes[own]! < 2) continue; // a point alone in its cluster scores 0, as in scikit-learn
    totals.fill(0);
    const pb = p * d;
    for (let i = 0, row = 0; i < n; i++, row += d) {
      let sq = 0;
      for (let f = 0; f < d; f++) {
        const diff = data[row + f]! - data[pb + f]!;
        sq += diff * diff;
      }
      totals[assignments[i]!]! += Math.sqrt(sq);
    }
    const a = totals[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let j = 0; j < k; j++) {
      if (j !== own && sizes[j]! > 0) b = Math.min(b, totals[j]! / sizes[j]!);
    }
    const scale = Math.max(a, b);
    if (scale > 0) sum += (b - a) / scale;
  }
  return sum / m;
}

/**
 * fit each k in [min,max]; suggested = best silhouette (ties → smaller k); also returns the elbow k (max distance from the line between first and last inertia).
 * The elbow is measured with both axes scaled to [0, 1], so it does not depend
 * on the units of the inertia. A k of 1 has no silhouette (NaN) and is never suggested unless it is the only one.
 */
export function chooseK(
  x: Matrix,
  range: { min: number; max: number },
  options: Omit<KMeansOptions, 'k'> & { sampleSize?: number } = {},
): { choices: KChoice[]; suggested: number; elbow: number } {
  const { min, max } = range;
  checkWhole(min, 'range.min', 1);
  checkWhole(max, `range.max`, min);
  if (max > x.n) throw new RangeError(`chooseK cannot try k = ${max} on ${x.n} rows: range.max must not exceed the number of rows`);
  const { sampleSize, ...fit } = options;
  const choices: KChoice[] = [];
  for (let k = min; k <= max; k++) {
    const result = kmeans(x, { ...fit, k });
    choices.push({ k, inertia: result.inertia, silhouette: silhouette(x, result.assignments, k, sampleSize, fit.seed) });
  }
  let suggested = min;
  let bestScore = -Infinity;
  for (const c of choices) {
    if (c.silhouette > bestScore) {
      bestScore = c.silhouette;
      suggested = c.k;
    }
  }
  const first = choices[0]!;
  const last = choices[choices.length - 1]!;
  const drop = first.inertia - last.inertia;
  let elbow = min;
  if (max > min && drop > 0) {
    let farthest = 0;
    for (const c of choices) {
      const along = (c.k - min) / (max - min);
      const height = (c.inertia - last.inertia) / drop;
      // Distance to the line from (0, 1) to (1, 0), up to a constant factor.
      const distance = Math.abs(along + height - 1);
      if (distance > farthest) {
        farthest = distance;
        elbow = c.k;
      }
    }
  }
  return { choices, suggested, elbow };
}

/** describe clusters of a fit made on standardized data, back in original units via mean/std */
export function describeClusters(result: KMeansResult, features: readonly string[], mean: Float64Array, std: Float64Array): ClusterDescription[] {
  const { k, centroids, sizes } = result;
  const d = features.length;
  if (centroids.length !== k * d) throw new RangeError(`${features.length} feature names for centroids of ${centroids.length / k} columns`);
  if (mean.length !== d || std.length !== d) throw new RangeError(`mean and std must have one entry per feature (${d}), got ${mean.length} and ${std.length}`);
  if (new Set(features).size !== d) throw new RangeError('feature names must be distinct');
  const n = result.assignments.length;
  const out: ClusterDescription[] = [];
  for (let c = 0; c < k; c++) {
    const size = sizes[c] ?? 0;
    const centroid: Record<string, number> = {};
    const ranked: Array<{ feature: string; z: number; direction: 'high' | 'low' }> = [];
    for (let f = 0; f < d; f++) {
      const feature = features[f]!;
      const z = centroids[c * d + f]!;
      centroid[feature] = z * std[f]! + mean[f]!;
      if (z !== 0) ranked.push({ feature, z, direction: z > 0 ? 'high' : 'low' });
    }
    // Array.prototype.sort is stable, so equal |z| keeps the features' order.
    ranked.sort((p, q) => Math.abs(q.z) - Math.abs(p.z));
    out.push({ cluster: c, size, share: n > 0 ? size / n : 0, centroid, distinctive: ranked.slice(0, 3) });
  }
  return out;
}
