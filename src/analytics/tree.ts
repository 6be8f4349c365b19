/**
 * CART classification trees (Gini) for explainable segmentation: a marketer
 * trains a tree to predict a segment's membership from features and reads
 * each leaf as a rule. The growing and pruning follow scikit-learn's
 * DecisionTreeClassifier (midpoint thresholds, zero-gain splits allowed,
 * minimal cost-complexity pruning) so that accuracy can be held to it;
 * categorical features split one level against the rest because that reads
 * as a rule ("city = 上海"), and missing values are routed to whichever side
 * fits better.
 *
 * Pure numeric code on typed arrays: no I/O.
 */
import { randomInt, seededRandom } from './random.js';

export type FeatureColumn =
  | { name: string; kind: 'numeric'; values: Float64Array } // NaN = missing
  | { name: string; kind: 'categorical'; values: Int32Array; levels: readonly string[] }; // -1 = missing

export interface TreeOptions {
  maxDepth?: number; // default 5
  minSamplesLeaf?: number; // default 20
  minSamplesSplit?: number; // default 2 × minSamplesLeaf
  /** cost-complexity pruning alpha, as sklearn's ccp_alpha (impurity weighted by sample share). Default 0 */
  ccpAlpha?: number;
}

export type TreeNode =
  | { kind: 'leaf'; samples: number; counts: number[]; prediction: number }
  | {
      kind: 'split';
      samples: number;
      counts: number[];
      prediction: number;
      feature: number;
      /** numeric: x ≤ threshold goes left; categorical: x === level goes left */
      threshold?: number;
      level?: number;
      /** where a missing value goes */
      missingLeft: boolean;
      left: TreeNode;
      right: TreeNode;
      /**
       * numeric: the smallest training value that went right, so rules read
       * "x ≥ 3" rather than "x > 2.5" (on the training rows the two agree)
       */
      upper?: number;
      /** training rows at this node missing the feature; 0 means missingLeft was not learned but defaulted to the larger side */
      missingSamples?: number;
    };

export interface DecisionTree {
  root: TreeNode;
  classes: readonly string[];
  features: ReadonlyArray<{ name: string; kind: 'numeric' | 'categorical'; levels?: readonly string[] }>;
  /** total impurity decrease per feature, normalized to sum 1; all zeros when the tree is a single leaf */
  importance: Float64Array;
}

export interface TreeRule {
  /** the path's conditions, one per split on the path, merged where a feature repeats (e.g. 3 ≤ x < 7) */
  conditions: Array<{
    feature: string;
    op: 'lt' | 'gte' | 'between' | 'eq' | 'neq';
    value?: number | string;
    min?: number;
    max?: number;
    /** rows missing this feature follow the rule: only set where training rows were missing it, so rules stay uncluttered for complete features */
    includesMissing: boolean;
  }>;
  prediction: string;
  confidence: number;
  samples: number;
}

type NumericPrep = {
  kind: 'numeric';
  /** per training sample: index of its value among the distinct sorted values, -1 when missing */
  rank: Int32Array;
  /** the distinct non-missing values, ascending */
  distinct: Float64Array;
  /** training samples by ascending value, missing last; each node owns one contiguous stretch */
  order: Int32Array;
};
type CategoricalPrep = { kind: 'categorical'; code: Int32Array; levels: number };
type Prep = NumericPrep | CategoricalPrep;

interface Split {
  score: number;
  feature: number;
  /** numeric: largest rank that goes left; categorical: the level that goes left */
  cut: number;
  /** numeric: the smallest rank in the node that goes right (the node may lack the ranks between) */
  next: number;
  missingLeft: boolean;
}

/** The grown tree, flat and in pre-order (a child's id is always above its parent's), before pruning. */
interface Grown {
  feature: number[];
  cut: number[];
  next: number[];
  missingLeft: boolean[];
  missingSamples: number[];
  left: number[];
  right: number[];
  samples: number[];
  counts: number[][];
  impurity: number[];
}

function gini(counts: readonly number[], n: number): number {
  if (n === 0) return 0;
  let sumSq = 0;
  for (const c of counts) sumSq += c * c;
  return 1 - sumSq / (n * n);
}

function argmax(counts: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k]! > counts[best]!) best = k;
  return best;
}

/**
 * A split's score, higher is better: minus the children's size-weighted Gini,
 * from the sums of squared class counts. Written the way sklearn evaluates it
 * (not as the equal sqLeft/nLeft + sqRight/nRight) so that splits tied in
 * exact arithmetic round the same way and the same one wins.
 */
function proxy(sqLeft: number, nLeft: number, sqRight: number, nRight: number): number {
  return -nRight * (1 - sqRight / (nRight * nRight)) - nLeft * (1 - sqLeft / (nLeft * nLeft));
}

/**
 * Where missing values go when the split was scored with them on the right:
 * right if training rows were missing, else (nothing learned) the larger
 * side, as sklearn ≥ 1.3 does.
 */
function defaultMissingLeft(missing: number, nLeft: number, size: number): boolean {
  return missing === 0 && nLeft >= size - nLeft;
}

function positiveInteger(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

/**
 * Sorts the training samples by value (missing last) and ranks them among
 * the distinct values. An LSD radix sort on the floats' bits, 16 bits a pass,
 * costs a few linear passes; sorting a million indices through a comparator
 * costs seconds.
 */
function prepareNumeric(values: Float64Array, rows: Int32Array): NumericPrep {
  const n = rows.length;
  let present = 0;
  for (let s = 0; s < n; s++) {
    const v = values[rows[s]!]!;
    if (v === v) present++;
  }
  const order = new Int32Array(n);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  let hi = new Uint32Array(present);
  let lo = new Uint32Array(present);
  let idx = new Int32Array(present);
  let j = 0;
  let tail = present;
  for (let s = 0; s < n; s++) {
    const v = values[rows[s]!]!;
    if (v !== v) {
      order[tail++] = s;
      continue;
    }
    // Zero the sign of -0 so it shares +0's key, then map IEEE bits to an
    // unsigned order: negatives flip every bit, positives only the sign.
    bits[0] = v === 0 ? 0 : v;
    const h = words[1]!;
    const l = words[0]!;
    const negative = h >>> 31 === 1;
    hi[j] = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    lo[j] = negative ? ~l >>> 0 : l;
    idx[j] = s;
    j++;
  }
  let hi2 = new Uint32Array(present);
  let lo2 = new Uint32Array(present);
  let idx2 = new Int32Array(present);
  const bucket = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const src = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    bucket.fill(0);
    for (let i = 0; i < present; i++) bucket[(src[i]! >>> shift) & 0xffff]!++;
    // A digit every key shares (the low bits of whole numbers, say) leaves
    // the order as it is.
    if (present === 0 || bucket[(src[0]! >>> shift) & 0xffff] === present) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = bucket[d]!;
      bucket[d] = sum;
      sum += c;
    }
    for (let i = 0; i < present; i++) {
      const at = bucket[(src[i]! >>> shift) & 0xffff]!++;
      hi2[at] = hi[i]!;
      lo2[at] = lo[i]!;
      idx2[at] = idx[i]!;
    }
    [hi, hi2] = [hi2, hi];
    [lo, lo2] = [lo2, lo];
    [idx, idx2] = [idx2, idx];
  }

  const rank = new Int32Array(n).fill(-1);
  const distinctAll = new Float64Array(present);
  let u = 0;
  for (let i = 0; i < present; i++) {
    const s = idx[i]!;
    order[i] = s;
    if (i === 0 || hi[i] !== hi[i - 1] || lo[i] !== lo[i - 1]) distinctAll[u++] = values[rows[s]!]! || 0;
    rank[s] = u - 1;
  }
  return { kind: 'numeric', rank, distinct: distinctAll.slice(0, u), order };
}

function prepareCategorical(values: Int32Array, levels: number, rows: Int32Array, name: string): CategoricalPrep {
  const code = new Int32Array(rows.length);
  for (let s = 0; s < rows.length; s++) {
    const c = values[rows[s]!]!;
    if (c >= levels) throw new RangeError(`feature ${name}: level ${c} is not among its ${levels} levels`);
    code[s] = c < 0 ? -1 : c;
  }
  return { kind: 'categorical', code, levels };
}

/**
 * Grows the tree depth first, left before right, so ids are in pre-order as
 * in sklearn; that order is what the pruning's tie-break relies on.
 */
function grow(preps: readonly Prep[], y: Int32Array, classCount: number, maxDepth: number, minLeaf: number, minSplit: number): Grown {
  const n = y.length;
  const K = classCount;
  const g: Grown = { feature: [], cut: [], next: [], missingLeft: [], missingSamples: [], left: [], right: [], samples: [], counts: [], impurity: [] };

  const members = new Int32Array(n);
  for (let s = 0; s < n; s++) members[s] = s;
  const goesLeft = new Uint8Array(n);
  const scratch = new Int32Array(n);
  const leftCounts = new Float64Array(K);
  const missingCounts = new Float64Array(K);
  let widest = 0;
  for (const p of preps) if (p.kind === 'categorical') widest = Math.max(widest, p.levels);
  const levelCounts = new Float64Array(widest * K);
  const levelSizes = new Float64Array(widest);

  const rootCounts = new Array<number>(K).fill(0);
  for (let s = 0; s < n; s++) rootCounts[y[s]!]!++;

  interface Pending { start: number; end: number; depth: number; counts: number[]; parent: number; isLeft: boolean }
  const stack: Pending[] = [{ start: 0, end: n, depth: 0, counts: rootCounts, parent: -1, isLeft: false }];

  const findSplit = (start: number, end: number, totals: readonly number[]): Split | undefined => {
    const size = end - start;
    let best: Split | undefined;
    let sumSqTotal = 0;
    for (let k = 0; k < K; k++) sumSqTotal += totals[k]! * totals[k]!;

    for (let f = 0; f < preps.length; f++) {
      const prep = preps[f]!;
      if (prep.kind === 'numeric') {
        const { order, rank } = prep;
        let present = end;
        while (present > start && rank[order[present - 1]!]! < 0) present--;
        if (present - start < 2 || rank[order[start]!] === rank[order[present - 1]!]) continue;
        const missing = end - present;
        missingCounts.fill(0);
        for (let p = present; p < end; p++) missingCounts[y[order[p]!]!]!++;
        leftCounts.fill(0);
        // Sums of squared class counts on each side, kept up to date one
        // sample at a time so a candidate costs O(1) whatever the class count;
        // "Miss" are the variants where the missing rows go left.
        let sqLeft = 0;
        let sqRight = sumSqTotal;
        let sqLeftMiss = 0;
        let sqRightMiss = 0;
        for (let k = 0; k < K; k++) {
          sqLeftMiss += missingCounts[k]! * missingCounts[k]!;
          const rest = totals[k]! - missingCounts[k]!;
          sqRightMiss += rest * rest;
        }
        // A candidate sits before each sample whose value differs from the
        // previous one; it is scored before that sample joins the left.
        let previous = rank[order[start]!]!;
        for (let p = start; p < present; p++) {
          const s = order[p]!;
          const r = rank[s]!;
          if (r !== previous) {
            const nLeft = p - start;
            if (nLeft > size - minLeaf) break;
            if (nLeft >= minLeaf) {
              const score = proxy(sqLeft, nLeft, sqRight, size - nLeft);
              // Strictly better only: the first of equal splits (lowest
              // feature, then lowest threshold) wins, so ties are repeatable.
              if (best === undefined || score > best.score) best = { score, feature: f, cut: previous, next: r, missingLeft: defaultMissingLeft(missing, nLeft, size) };
            }
            if (missing > 0) {
              const nl = nLeft + missing;
              if (nl >= minLeaf && size - nl >= minLeaf) {
                const score = proxy(sqLeftMiss, nl, sqRightMiss, size - nl);
                if (best === undefined || score > best.score) best = { score, feature: f, cut: previous, next: r, missingLeft: true };
              }
            }
            previous = r;
          }
          const k = y[s]!;
          const l = leftCounts[k]!;
          sqLeft += 2 * l + 1;
          sqRight -= 2 * (totals[k]! - l) - 1;
          if (missing > 0) {
            const m = missingCounts[k]!;
            sqLeftMiss += 2 * (l + m) + 1;
            sqRightMiss -= 2 * (totals[k]! - m - l) - 1;
          }
          leftCounts[k] = l + 1;
        }
      } else {
        const { code, levels } = prep;
        levelCounts.fill(0, 0, levels * K);
        levelSizes.fill(0, 0, levels);
        missingCounts.fill(0);
        let missing = 0;
        for (let p = start; p < end; p++) {
          const s = members[p]!;
          const c = code[s]!;
          const k = y[s]!;
          if (c < 0) {
            missingCounts[k]!++;
            missing++;
          } else {
            levelCounts[c * K + k]!++;
            levelSizes[c]!++;
          }
        }
        const present = size - missing;
        for (let c = 0; c < levels; c++) {
          const nl = levelSizes[c]!;
          if (nl === 0 || nl === present) continue;
          let sqIn = 0;
          let sqOut = 0;
          let sqInMiss = 0;
          let sqOutMiss = 0;
          for (let k = 0; k < K; k++) {
            const a = levelCounts[c * K + k]!;
            const m = missingCounts[k]!;
            sqIn += a * a;
            sqOut += (totals[k]! - a) * (totals[k]! - a);
            sqInMiss += (a + m) * (a + m);
            sqOutMiss += (totals[k]! - a - m) * (totals[k]! - a - m);
          }
          if (nl >= minLeaf && size - nl >= minLeaf) {
            const score = proxy(sqIn, nl, sqOut, size - nl);
            if (best === undefined || score > best.score) best = { score, feature: f, cut: c, next: c, missingLeft: defaultMissingLeft(missing, nl, size) };
          }
          if (missing > 0) {
            const withMissing = nl + missing;
            if (withMissing >= minLeaf && size - withMissing >= minLeaf) {
              const score = proxy(sqInMiss, withMissing, sqOutMiss, size - withMissing);
              if (best === undefined || score > best.score) best = { score, feature: f, cut: c, next: c, missingLeft: true };
            }
          }
        }
      }
    }
    return best;
  };

  const partition = (list: Int32Array, start: number, end: number): number => {
    let l = start;
    let r = 0;
    for (let p = start; p < end; p++) {
      const s = list[p]!;
      if (goesLeft[s] === 1) list[l++] = s;
      else scratch[r++] = s;
    }
    list.set(scratch.subarray(0, r), l);
    return l;
  };

  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    const { start, end, depth, counts } = task;
    const id = g.feature.length;
    const size = end - start;
    g.feature.push(-1);
    g.cut.push(0);
    g.next.push(0);
    g.missingLeft.push(true);
    g.missingSamples.push(0);
    g.left.push(-1);
    g.right.push(-1);
    g.samples.push(size);
    g.counts.push(counts);
    g.impurity.push(gini(counts, size));
    if (task.parent >= 0) {
      if (task.isLeft) g.left[task.parent] = id;
      else g.right[task.parent] = id;
    }

    let classesPresent = 0;
    for (const c of counts) if (c > 0) classesPresent++;
    if (depth >= maxDepth || size < minSplit || size < 2 * minLeaf || classesPresent <= 1) continue;
    const split = findSplit(start, end, counts);
    if (split === undefined) continue;

    const prep = preps[split.feature]!;
    let missingHere = 0;
    const leftTotals = new Array<number>(K).fill(0);
    if (prep.kind === 'numeric') {
      for (let p = start; p < end; p++) {
        const s = members[p]!;
        const r = prep.rank[s]!;
        if (r < 0) missingHere++;
        const left = r < 0 ? split.missingLeft : r <= split.cut;
        goesLeft[s] = left ? 1 : 0;
        if (left) leftTotals[y[s]!]!++;
      }
    } else {
      for (let p = start; p < end; p++) {
        const s = members[p]!;
        const c = prep.code[s]!;
        if (c < 0) missingHere++;
        const left = c < 0 ? split.missingLeft : c === split.cut;
        goesLeft[s] = left ? 1 : 0;
        if (left) leftTotals[y[s]!]!++;
      }
    }
    const mid = partition(members, start, end);
    for (const p of preps) if (p.kind === 'numeric') partition(p.order, start, end);

    g.feature[id] = split.feature;
    g.cut[id] = split.cut;
    g.next[id] = split.next;
    g.missingLeft[id] = split.missingLeft;
    g.missingSamples[id] = missingHere;
    const rightTotals = counts.map((c, k) => c - leftTotals[k]!);
    stack.push({ start: mid, end, depth: depth + 1, counts: rightTotals, parent: id, isLeft: false });
    stack.push({ start, end: mid, depth: depth + 1, counts: leftTotals, parent: id, isLeft: true });
  }
  return g;
}

/**
 * Minimal cost-complexity pruning as sklearn does it: repeatedly collapse the
 * weakest link, the internal node whose subtree buys the least impurity per
 * extra leaf, while that effective alpha is ≤ ccpAlpha. Impurities are
 * weighted by the node's share of the training rows. A heap replaces sklearn's
 * full rescan per step; popping by (alpha, id) keeps its lowest-id tie-break.
 * Returns which nodes end up as leaves.
 */
function prune(g: Grown, ccpAlpha: number): Uint8Array {
  const count = g.feature.length;
  const isLeaf = new Uint8Array(count);
  for (let i = 0; i < count; i++) isLeaf[i] = g.feature[i]! < 0 ? 1 : 0;
  // sklearn skips pruning altogether at alpha 0, keeping zero-gain subtrees.
  if (ccpAlpha <= 0 || count === 0) return isLeaf;

  const total = g.samples[0]!;
  const rNode = new Float64Array(count);
  const rBranch = new Float64Array(count);
  const leaves = new Float64Array(count);
  const parent = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) rNode[i] = total === 0 ? 0 : (g.samples[i]! / total) * g.impurity[i]!;
  for (let i = count - 1; i >= 0; i--) {
    if (isLeaf[i]) {
      rBranch[i] = rNode[i]!;
      leaves[i] = 1;
    } else {
      const l = g.left[i]!;
      const r = g.right[i]!;
      parent[l] = i;
      parent[r] = i;
      rBranch[i] = rBranch[l]! + rBranch[r]!;
      leaves[i] = leaves[l]! + leaves[r]!;
    }
  }
  const alphaOf = (i: number): number => (rNode[i]! - rBranch[i]!) / (leaves[i]! - 1);

  const heapAlpha: number[] = [];
  const heapId: number[] = [];
  const less = (a: number, b: number): boolean =>
    heapAlpha[a]! < heapAlpha[b]! || (heapAlpha[a] === heapAlpha[b] && heapId[a]! < heapId[b]!);
  const swap = (a: number, b: number): void => {
    [heapAlpha[a], heapAlpha[b]] = [heapAlpha[b]!, heapAlpha[a]!];
    [heapId[a], heapId[b]] = [heapId[b]!, heapId[a]!];
  };
  const push = (alpha: number, id: number): void => {
    heapAlpha.push(alpha);
    heapId.push(id);
    let i = heapAlpha.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!less(i, up)) break;
      swap(i, up);
      i = up;
    }
  };
  const pop = (): void => {
    const lastAlpha = heapAlpha.pop()!;
    const lastId = heapId.pop()!;
    if (heapAlpha.length === 0) return;
    heapAlpha[0] = lastAlpha;
    heapId[0] = lastId;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heapAlpha.length && less(l, m)) m = l;
      if (r < heapAlpha.length && less(r, m)) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
  };

  const removed = new Uint8Array(count);
  for (let i = 0; i < count; i++) if (!isLeaf[i]) push(alphaOf(i), i);
  const below: number[] = [];
  while (heapAlpha.length > 0) {
    const alpha = heapAlpha[0]!;
    const id = heapId[0]!;
    pop();
    // Entries go stale when a descendant is pruned; the fresh one was pushed then.
    if (removed[id] || isLeaf[id] || alphaOf(id) !== alpha) continue;
    if (alpha > ccpAlpha) break;

    isLeaf[id] = 1;
    below.push(g.left[id]!, g.right[id]!);
    for (let d = below.pop(); d !== undefined; d = below.pop()) {
      if (removed[d]) continue;
      removed[d] = 1;
      if (g.feature[d]! >= 0) below.push(g.left[d]!, g.right[d]!);
    }
    const lostLeaves = leaves[id]! - 1;
    const gained = rNode[id]! - rBranch[id]!;
    leaves[id] = 1;
    rBranch[id] = rNode[id]!;
    for (let a = parent[id]!; a >= 0; a = parent[a]!) {
      leaves[a]! -= lostLeaves;
      rBranch[a]! += gained;
      push(alphaOf(a), a);
    }
  }
  return isLeaf;
}

/**
 * y: class index per row (0..classes.length-1); rows: which rows to train on
 * (default all; repeats allowed, each counts once per occurrence). Every
 * column must have a value per label. Throws RangeError on bad options,
 * labels, rows or levels.
 */
export function trainTree(
  columns: readonly FeatureColumn[],
  y: Int32Array,
  classes: readonly string[],
  options: TreeOptions = {},
  rows?: Int32Array,
): DecisionTree {
  const maxDepth = options.maxDepth ?? 5;
  if (!(maxDepth === Infinity || (Number.isInteger(maxDepth) && maxDepth >= 0))) throw new RangeError(`maxDepth must be an integer ≥ 0 or Infinity, got ${maxDepth}`);
  const minLeaf = positiveInteger(options.minSamplesLeaf ?? 20, 'minSamplesLeaf', 1);
  const minSplit = positiveInteger(options.minSamplesSplit ?? 2 * minLeaf, 'minSamplesSplit', 1);
  const ccpAlpha = options.ccpAlpha ?? 0;
  if (!(ccpAlpha >= 0)) throw new RangeError(`ccpAlpha must be ≥ 0, got ${ccpAlpha}`);
  const K = classes.length;
  if (K === 0) throw new RangeError('at least one class is needed');
  for (const column of columns) {
    if (column.values.length !== y.length) throw new RangeError(`feature ${column.name} has ${column.values.length} values for ${y.length} labels`);
  }

  let trainRows = rows;
  if (trainRows === undefined) {
    trainRows = new Int32Array(y.length);
    for (let i = 0; i < y.length; i++) trainRows[i] = i;
  }
  const n = trainRows.length;
  const yLocal = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const row = trainRows[s]!;
    if (row < 0 || row >= y.length) throw new RangeError(`row ${row} is outside 0..${y.length - 1}`);
    const k = y[row]!;
    if (k < 0 || k >= K) throw new RangeError(`row ${row}: class ${k} is outside 0..${K - 1}`);
    yLocal[s] = k;
  }

  const preps = columns.map((c): Prep =>
    c.kind === 'numeric' ? prepareNumeric(c.values, trainRows) : prepareCategorical(c.values, c.levels.length, trainRows, c.name),
  );
  const g = grow(preps, yLocal, K, maxDepth, minLeaf, minSplit);
  const isLeaf = prune(g, ccpAlpha);

  const importance = new Float64Array(columns.length);
  const built: Array<TreeNode | undefined> = [];
  const reachable: number[] = [];
  const walk = [0];
  for (let i = walk.pop(); i !== undefined; i = walk.pop()) {
    reachable.push(i);
    if (!isLeaf[i]) walk.push(g.right[i]!, g.left[i]!);
  }
  // Children come after their parent in pre-order, so building backwards
  // always finds both children ready.
  for (let j = reachable.length - 1; j >= 0; j--) {
    const i = reachable[j]!;
    const counts = g.counts[i]!;
    const samples = g.samples[i]!;
    const prediction = argmax(counts);
    if (isLeaf[i]) {
      built[i] = { kind: 'leaf', samples, counts, prediction };
      continue;
    }
    const f = g.feature[i]!;
    const l = g.left[i]!;
    const r = g.right[i]!;
    importance[f]! += samples * g.impurity[i]! - g.samples[l]! * g.impurity[l]! - g.samples[r]! * g.impurity[r]!;
    const prep = preps[f]!;
    const base = { kind: 'split' as const, samples, counts, prediction, feature: f, missingLeft: g.missingLeft[i]!, left: built[l]!, right: built[r]!, missingSamples: g.missingSamples[i]! };
    if (prep.kind === 'numeric') {
      const lower = prep.distinct[g.cut[i]!]!;
      const upper = prep.distinct[g.next[i]!]!;
      let threshold = lower / 2 + upper / 2;
      // sklearn's guard: adjacent floats or infinities would make the midpoint
      // land on (or beyond) the upper value and send it left.
      if (threshold === upper || !Number.isFinite(threshold)) threshold = lower;
      built[i] = { ...base, threshold, upper };
    } else {
      built[i] = { ...base, level: g.cut[i]! };
    }
  }
  let totalDecrease = 0;
  for (const v of importance) totalDecrease += Math.max(0, v);
  for (let f = 0; f < importance.length; f++) importance[f] = totalDecrease > 0 ? Math.max(0, importance[f]!) / totalDecrease : 0;

  return {
    root: built[0]!,
    classes: [...classes],
    features: columns.map((c) => (c.kind === 'numeric' ? { name: c.name, kind: c.kind } : { name: c.name, kind: c.kind, levels: [...c.levels] })),
    importance,
  };
}

/** The class index the tree predicts for one row of `columns` (the training columns' order and coding). */
export function predict(tree: DecisionTree, columns: readonly FeatureColumn[], row: number): number {
  let node = tree.root;
  while (node.kind === 'split') {
    const column = columns[node.feature];
    if (column === undefined) throw new RangeError(`the tree splits on feature ${node.feature}, which the columns lack`);
    if (row < 0 || row >= column.values.length) throw new RangeError(`row ${row} is outside feature ${column.name}`);
    let left: boolean;
    if (column.kind === 'numeric') {
      const v = column.values[row]!;
      left = v !== v ? node.missingLeft : v <= (node.threshold ?? NaN);
    } else {
      const c = column.values[row]!;
      left = c < 0 ? node.missingLeft : c === node.level;
    }
    node = left ? node.left : node.right;
  }
  return node.prediction;
}

/** Share of `rows` predicted correctly; NaN for no rows. */
export function accuracy(tree: DecisionTree, columns: readonly FeatureColumn[], y: Int32Array, rows: Int32Array): number {
  if (rows.length === 0) return NaN;
  let right = 0;
  for (const row of rows) if (predict(tree, columns, row) === y[row]) right++;
  return right / rows.length;
}

/** seeded stratified split: testShare of each class's rows go to test */
export function holdOutSplit(y: Int32Array, testShare: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(testShare >= 0 && testShare <= 1)) throw new RangeError(`testShare must be within 0..1, got ${testShare}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < y.length; i++) {
    const k = y[i]!;
    const list = byClass.get(k);
    if (list === undefined) byClass.set(k, [i]);
    else list.push(i);
  }
  const random = seededRandom(seed);
  const isTest = new Uint8Array(y.length);
  let tests = 0;
  // Classes in ascending order so the draw does not depend on which class
  // happens to appear first.
  for (const k of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(k)!;
    const take = Math.round(list.length * testShare);
    for (let i = 0; i < take; i++) {
      const j = i + randomInt(random, list.length - i);
      const chosen = list[j]!;
      list[j] = list[i]!;
      list[i] = chosen;
      isTest[chosen] = 1;
    }
    tests += take;
  }
  const train = new Int32Array(y.length - tests);
  const test = new Int32Array(tests);
  let a = 0;
  let b = 0;
  for (let i = 0; i < y.length; i++) {
    if (isTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

type Condition = TreeRule['conditions'][number];
interface Step { node: Extract<TreeNode, { kind: 'split' }>; left: boolean }

function conditionsOf(tree: DecisionTree, path: readonly Step[]): Condition[] {
  interface Bounds { name: string; min?: number; max?: number; includesMissing: boolean }
  interface Levels { name: string; eq?: string; eqMissing: boolean; neq: Array<{ value: string; includesMissing: boolean }> }
  const merged = new Map<number, Bounds | Levels>();
  for (const { node, left } of path) {
    const feature = tree.features[node.feature];
    const name = feature?.name ?? `#${node.feature}`;
    const routed = left === node.missingLeft;
    const includesMissing = routed && (node.missingSamples === undefined || node.missingSamples > 0);
    if (node.level === undefined) {
      const at = node.upper ?? node.threshold ?? NaN;
      const entry = (merged.get(node.feature) as Bounds | undefined) ?? { name, includesMissing: true };
      if (left) entry.max = entry.max === undefined ? at : Math.min(entry.max, at);
      else entry.min = entry.min === undefined ? at : Math.max(entry.min, at);
      entry.includesMissing &&= includesMissing;
      merged.set(node.feature, entry);
    } else {
      const value = feature?.levels?.[node.level] ?? `#${node.level}`;
      const entry = (merged.get(node.feature) as Levels | undefined) ?? { name, eqMissing: true, neq: [] };
      if (left) {
        entry.eq = value;
        entry.eqMissing &&= includesMissing;
      } else {
        entry.neq.push({ value, includesMissing });
      }
      merged.set(node.feature, entry);
    }
  }
  const out: Condition[] = [];
  for (const entry of merged.values()) {
    if ('neq' in entry) {
      if (entry.eq !== undefined) {
        // "= A" already excludes every other level, so the "≠ B"s on the path
        // add nothing but their say on missing rows.
        const missing = entry.eqMissing && entry.neq.every((x) => x.includesMissing);
        out.push({ feature: entry.name, op: 'eq', value: entry.eq, includesMissing: missing });
      } else {
        for (const x of entry.neq) out.push({ feature: entry.name, op: 'neq', value: x.value, includesMissing: x.includesMissing });
      }
    } else if (entry.min !== undefined && entry.max !== undefined) {
      out.push({ feature: entry.name, op: 'between', min: entry.min, max: entry.max, includesMissing: entry.includesMissing });
    } else if (entry.min !== undefined) {
      out.push({ feature: entry.name, op: 'gte', value: entry.min, includesMissing: entry.includesMissing });
    } else {
      out.push({ feature: entry.name, op: 'lt', value: entry.max, includesMissing: entry.includesMissing });
    }
  }
  return out;
}

/** one rule per leaf, largest leaves first */
export function treeRules(tree: DecisionTree): TreeRule[] {
  const rules: TreeRule[] = [];
  const stack: Array<{ node: TreeNode; path: Step[] }> = [{ node: tree.root, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, path } = item;
    if (node.kind === 'split') {
      stack.push({ node: node.right, path: [...path, { node, left: false }] });
      stack.push({ node: node.left, path: [...path, { node, left: true }] });
      continue;
    }
    rules.push({
      conditions: conditionsOf(tree, path),
      prediction: tree.classes[node.prediction] ?? String(node.prediction),
      confidence: node.samples > 0 ? (node.counts[node.prediction] ?? 0) / node.samples : 0,
      samples: node.samples,
    });
  }
  // Array sort is stable: equal-sized leaves stay left to right.
  return rules.sort((a, b) => b.samples - a.samples);
}

function formatNumber(v: number | string | undefined): string {
  if (typeof v === 'string') return v;
  if (v === undefined || Number.isNaN(v)) return '?';
  if (Number.isInteger(v)) return String(v);
  // Six significant digits hide binary noise such as 70.35000000000001.
  return String(Number(v.toPrecision(6)));
}

/** a readable line per rule, e.g. "city = 上海 and orders_90d ≥ 3 → 82% high-value" (zh-CN: "city = 上海 且 orders_90d ≥ 3 → 82% high-value") */
export function ruleText(rule: TreeRule, locale: 'en' | 'zh-CN'): string {
  const zh = locale === 'zh-CN';
  const parts = rule.conditions.map((c) => {
    let text: string;
    switch (c.op) {
      case 'lt': text = `${c.feature} < ${formatNumber(c.value)}`; break;
      case 'gte': text = `${c.feature} ≥ ${formatNumber(c.value)}`; break;
      case 'between': text = `${formatNumber(c.min)} ≤ ${c.feature} < ${formatNumber(c.max)}`; break;
      case 'eq': text = `${c.feature} = ${String(c.value)}`; break;
      case 'neq': text = `${c.feature} ≠ ${String(c.value)}`; break;
    }
    if (c.includesMissing) text += zh ? '（或缺失）' : ' (or missing)';
    return text;
  });
  const when = parts.length === 0 ? (zh ? '全部' : 'all') : parts.join(zh ? ' 且 ' : ' and ');
  return `${when} → ${Math.round(rule.confidence * 100)}% ${rule.prediction}`;
}
