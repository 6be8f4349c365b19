/**
 * Train/test splits for the prediction models.
 *
 * `stratifiedSplit` reproduces scikit-learn's
 * `train_test_split(X, y, test_size, stratify=y, random_state=seed)` index
 * for index, so a hold-out figure measured here can be set beside one
 * measured in Python on the same rows. That needs numpy's legacy
 * `RandomState` (MT19937 with its documented seeding and bounded-integer
 * draws) and StratifiedShuffleSplit's documented allocation, both written
 * here from their descriptions. Our own randomness elsewhere uses
 * `seededRandom`; this generator exists only for that agreement. (Questions
 * about the future are validated on time instead: see model-training.ts.)
 */

const MT_N = 624;
const MT_M = 397;

/** numpy's legacy RandomState, only the parts a stratified split draws on. */
export class LegacyRandomState {
  private readonly state = new Uint32Array(MT_N);
  private position = MT_N;

  /** An integer seed is taken as init_genrand's 32-bit seed, as RandomState(int) does. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer within 0..2^32−1, got ${seed}`);
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < MT_N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < MT_N; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % MT_N]! & 0x7fffffff);
      let next = mt[(i + MT_M) % MT_N]! ^ (y >>> 1);
      if (y & 1) next ^= 0x9908b0df;
      mt[i] = next >>> 0;
    }
    this.position = 0;
  }

  nextUint32(): number {
    if (this.position >= MT_N) this.twist();
    let y = this.state[this.position++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Uniform in [0, max] by masking to the smallest covering power of two and
   * rejecting draws above max: the legacy method, which differs from the
   * newer Generator's and so must be kept for the streams to agree.
   */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('interval: more than 2^32 values is not supported');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= max) return value;
    }
  }

  /** Fisher–Yates from the last position down, as legacy `shuffle` walks. */
  shuffle(values: Int32Array | number[]): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
  }

  /** `permutation(n)`: a shuffled 0..n−1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    this.shuffle(out);
    return out;
  }
}

/**
 * How many of each class to draw so the total is exactly `draws`: the floors
 * of the proportional shares, then one more to classes by descending
 * remainder, a random choice among equal remainders. Float operations are
 * kept in the reference's order (count / total × draws) so that remainders
 * tie or not exactly as they do there.
 */
function approximateMode(counts: readonly number[], draws: number, rng: LegacyRandomState): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const continuous = counts.map((c) => (c / total) * draws);
  const floored = continuous.map(Math.floor);
  let need = Math.trunc(draws - floored.reduce((a, b) => a + b, 0));
  if (need > 0) {
    const remainder = continuous.map((c, i) => c - floored[i]!);
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds: number[] = [];
      remainder.forEach((r, i) => {
        if (r === value) inds.push(i);
      });
      const take = Math.min(inds.length, need);
      // choice(replace=False) without weights in the legacy generator is a
      // full permutation cut short, which consumes draws even for one pick.
      const picked = rng.permutation(inds.length).subarray(0, take);
      for (const p of picked) floored[inds[p]!]! += 1;
      need -= take;
      if (need === 0) break;
    }
  }
  return floored;
}

/**
 * Stratified hold-out: testShare of the rows (rounded up) go to test, each
 * class represented in proportion. Identical, order included, to
 * scikit-learn's `train_test_split(..., test_size=testShare, stratify=labels,
 * random_state=seed)`.
 */
export function stratifiedSplit(labels: Uint8Array, testShare: number, seed: number): { train: Int32Array; test: Int32Array } {
  const n = labels.length;
  if (n === 0) throw new RangeError('labels: empty');
  if (!(testShare > 0 && testShare < 1)) throw new RangeError(`testShare must be within (0, 1), got ${testShare}`);
  const nTest = Math.ceil(testShare * n);
  const nTrain = n - nTest;
  if (nTrain <= 0) throw new RangeError(`testShare ${testShare} leaves no training rows among ${n}`);
  // Classes as np.unique orders them (ascending), only those present.
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    const list = byLabel.get(label);
    if (list === undefined) byLabel.set(label, [i]);
    else list.push(i);
  }
  const classes = [...byLabel.keys()].sort((a, b) => a - b);
  // Each list is in original row order, which is what the reference's stable
  // argsort of the labels yields.
  const members = classes.map((c) => byLabel.get(c)!);
  const counts = members.map((m) => m.length);
  if (Math.min(...counts) < 2) throw new RangeError('labels: the least populated class has fewer than 2 rows, which a stratified split cannot divide');
  if (nTrain < classes.length) throw new RangeError(`the training side (${nTrain} rows) is smaller than the number of classes (${classes.length})`);
  if (nTest < classes.length) throw new RangeError(`the test side (${nTest} rows) is smaller than the number of classes (${classes.length})`);

  const rng = new LegacyRandomState(seed);
  const trainCounts = approximateMode(counts, nTrain, rng);
  const testCounts = approximateMode(
    counts.map((c, i) => c - trainCounts[i]!),
    nTest,
    rng,
  );
  const train: number[] = [];
  const test: number[] = [];
  members.forEach((rows, k) => {
    const order = rng.permutation(rows.length);
    const a = trainCounts[k]!;
    const b = a + testCounts[k]!;
    for (let i = 0; i < a; i++) train.push(rows[order[i]!]!);
    for (let i = a; i < b; i++) test.push(rows[order[i]!]!);
  });
  const trainOut = Int32Array.from(train);
  const testOut = Int32Array.from(test);
  // The reference hands back permutation(train) / permutation(test), i.e.
  // the lists reordered by a fresh permutation each.
  const trainOrder = rng.permutation(trainOut.length);
  const testOrder = rng.permutation(testOut.length);
  return { train: trainOrder.map((i) => trainOut[i]!), test: testOrder.map((i) => testOut[i]!) };
}
