/**
 * Robust statistics for data-quality monitoring: median and MAD based
 * anomaly checks for daily volumes and rates, a weighted quality score, and
 * a freshness ratio. Median and MAD rather than mean and standard deviation,
 * because the history being judged usually holds the very outages and spikes
 * we look for, and one of them would drag a mean and inflate a deviation.
 */

/** Finite-or-infinite values of `values` (NaN marks a missing day and is skipped), sorted ascending. */
function sortedPresent(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (v !== undefined && !Number.isNaN(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

function middle(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const half = n >> 1;
  const upper = sorted[half] ?? Number.NaN;
  if (n % 2 === 1) return upper;
  const lower = sorted[half - 1] ?? Number.NaN;
  // Halving each first keeps the mean of two huge values from overflowing to Infinity.
  return lower / 2 + upper / 2;
}

/** Median of the values, NaN entries skipped; NaN when there are none. */
export function median(values: ArrayLike<number>): number {
  return middle(sortedPresent(values));
}

/**
 * Median absolute deviation from `center` (default: the median), NaN entries
 * skipped; raw, not scaled by 1.4826 to estimate a normal standard deviation.
 */
export function mad(values: ArrayLike<number>, center?: number): number {
  const present = sortedPresent(values);
  const c = center ?? middle(present);
  for (let i = 0; i < present.length; i += 1) present[i] = Math.abs((present[i] ?? 0) - c);
  return middle(present.sort());
}

export interface AnomalyVerdict {
  anomalous: boolean;
  value: number;
  median: number;
  mad: number;
  /** |value - median| / max(mad, floor) */
  score: number;
  direction: 'high' | 'low' | 'none';
}

export interface AnomalyOptions {
  /** MADs from the median beyond which a value is anomalous; default 4 */
  threshold?: number;
  /** fewer present history points than this and nothing is anomalous; default 7 */
  minHistory?: number;
  /**
   * the smallest MAD the score divides by, so a flat history does not make
   * every wiggle infinite; default 1% of |median| (at least 1e-9). Rates and
   * other values near zero need an absolute floor: pass it here.
   */
  floor?: number;
}

const RELATIVE_FLOOR = 0.01;
const MIN_FLOOR = 1e-9;

/** Robust check of today's value against its history (e.g. the last 28 days): anomalous when more than `threshold` MADs from the median. */
export function robustAnomaly(history: ArrayLike<number>, value: number, options: AnomalyOptions = {}): AnomalyVerdict {
  const threshold = options.threshold ?? 4;
  const minHistory = options.minHistory ?? 7;
  const present = sortedPresent(history);
  const center = middle(present);
  const deviation = mad(present, center);
  // A 1% default suits volumes (events, orders, sign-ups per day): a flat 1,000 a day tolerates ±40 before flagging.
  const floor = options.floor ?? Math.max(MIN_FLOOR, RELATIVE_FLOOR * Math.abs(center));
  const score = Math.abs(value - center) / Math.max(deviation, floor);
  const anomalous = present.length >= minHistory && score > threshold;
  const direction = anomalous ? (value > center ? 'high' : 'low') : 'none';
  return { anomalous, value, median: center, mad: deviation, score, direction };
}

export type QualityDimension = 'completeness' | 'validity' | 'uniqueness' | 'consistency' | 'freshness';

/** Equal by default: any other split is a policy choice the installation should make explicitly. */
const DEFAULT_WEIGHTS: Readonly<Record<QualityDimension, number>> = Object.freeze({
  completeness: 1,
  validity: 1,
  uniqueness: 1,
  consistency: 1,
  freshness: 1,
});

/**
 * Weighted quality score 0–100 from dimension ratios in [0,1] (undefined dimensions skipped and weights renormalised).
 * Ratios outside [0,1] are clamped; NaN ratios, and zero, negative or NaN
 * weights, leave a dimension out. NaN when no dimension is left: nothing
 * measured is neither a perfect nor a failing score.
 */
export function qualityScore(dims: Partial<Record<QualityDimension, number>>, weights?: Partial<Record<QualityDimension, number>>): number {
  let weighted = 0;
  let total = 0;
  for (const key of Object.keys(DEFAULT_WEIGHTS) as QualityDimension[]) {
    const ratio = dims[key];
    const weight = weights?.[key] ?? DEFAULT_WEIGHTS[key];
    if (ratio === undefined || Number.isNaN(ratio) || !(weight > 0) || !Number.isFinite(weight)) continue;
    weighted += weight * Math.min(1, Math.max(0, ratio));
    total += weight;
  }
  if (total === 0) return Number.NaN;
  // Rounding error can put a perfect score a hair above 100.
  return Math.min(100, Math.max(0, (100 * weighted) / total));
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * freshness ratio from age of the newest value: 1 when age ≤ fresh, decaying linearly to 0 at stale.
 * Linear rather than exponential so the ratio reaches 0 at a stated age and a
 * dashboard reader can say what 0.5 means. Defaults: fresh 24 h, stale 7 days.
 * A negative age (a clock ahead of ours) counts as fresh; NaN (no value at all) as stale.
 */
export function freshnessRatio(ageMs: number, options: { freshMs?: number; staleMs?: number } = {}): number {
  const freshMs = options.freshMs ?? 24 * HOUR_MS;
  const staleMs = options.staleMs ?? 7 * 24 * HOUR_MS;
  if (Number.isNaN(ageMs)) return 0;
  if (ageMs <= freshMs) return 1;
  if (ageMs >= staleMs) return 0;
  return (staleMs - ageMs) / (staleMs - freshMs);
}
