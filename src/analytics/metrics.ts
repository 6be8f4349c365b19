/**
 * Scores for binary prediction models (churn, purchase propensity) and the
 * design-matrix type the models share. Pure numeric code, no I/O.
 *
 * kmeans.ts's `Matrix` has no feature names, and a saved model must know
 * which column is which to be applied to next month's data, so the models
 * take a `Design` instead.
 */

/** Row-major rows×cols features; NaN = missing. */
export interface Design {
  rows: number;
  cols: number;
  data: Float64Array;
  names: string[];
}

/** Throws an Error naming the field when x is not a consistent, non-empty design. */
export function checkDesign(x: Design, field = 'x'): void {
  if (!Number.isInteger(x.rows) || x.rows <= 0) throw new RangeError(`${field}.rows must be a positive integer, got ${x.rows}`);
  if (!Number.isInteger(x.cols) || x.cols <= 0) throw new RangeError(`${field}.cols must be a positive integer, got ${x.cols}`);
  if (!(x.data instanceof Float64Array)) throw new TypeError(`${field}.data must be a Float64Array`);
  if (x.data.length !== x.rows * x.cols) throw new RangeError(`${field}.data has ${x.data.length} values, rows × cols is ${x.rows * x.cols}`);
  if (x.names.length !== x.cols) throw new RangeError(`${field}.names has ${x.names.length} names for ${x.cols} columns`);
}

/** Throws unless x has the model's features in the model's order. */
export function checkFeatures(features: readonly string[], x: Design): void {
  checkDesign(x);
  if (x.cols !== features.length) throw new RangeError(`x.cols is ${x.cols}, the model has ${features.length} features`);
  for (let j = 0; j < features.length; j++) {
    if (x.names[j] !== features[j]) throw new RangeError(`x.names[${j}] is "${x.names[j]}", the model expects "${features[j]}"`);
  }
}

/** Throws unless labels has `rows` entries, each 0 or 1. */
export function checkLabels(labels: Uint8Array, rows: number, field = 'y'): void {
  if (labels.length !== rows) throw new RangeError(`${field} has ${labels.length} labels for ${rows} rows`);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! > 1) throw new RangeError(`${field}[${i}] is ${labels[i]}, labels must be 0 or 1`);
  }
}

/** Throws unless every entry of `subset` is a row of a rows-row design. */
export function checkRows(subset: Int32Array, rows: number, field = 'rows'): void {
  if (subset.length === 0) throw new RangeError(`${field} is empty`);
  for (let i = 0; i < subset.length; i++) {
    const r = subset[i]!;
    if (r < 0 || r >= rows) throw new RangeError(`${field}[${i}] = ${r} is outside 0..${rows - 1}`);
  }
}

function checkPairs(scores: ArrayLike<number>, labels: Uint8Array): void {
  if (scores.length === 0) throw new RangeError('scores: empty');
  if (scores.length !== labels.length) throw new RangeError(`scores has ${scores.length} values for ${labels.length} labels`);
  checkLabels(labels, labels.length, 'labels');
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i]!)) throw new RangeError(`scores[${i}] is NaN`);
}

/**
 * Area under the ROC curve: the chance that a random positive scores above a
 * random negative, ties counting half (Mann–Whitney with average ranks).
 * Undefined, and so an error, when either class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: Uint8Array): number {
  checkPairs(scores, labels);
  const n = scores.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    // Ranks i+1..j shared: each member gets their mean.
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('labels: AUC needs both classes present');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood; probabilities are clipped to [ε, 1−ε] so one confident miss costs a lot but not Infinity. */
export function logLoss(scores: ArrayLike<number>, labels: Uint8Array, epsilon = 1e-15): number {
  checkPairs(scores, labels);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = Math.min(1 - epsilon, Math.max(epsilon, scores[i]!));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / scores.length;
}

/** Mean squared difference between probability and outcome. */
export function brier(scores: ArrayLike<number>, labels: Uint8Array): number {
  checkPairs(scores, labels);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const d = scores[i]! - labels[i]!;
    sum += d * d;
  }
  return sum / scores.length;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  /** mean score in the bin */
  predicted: number;
  /** share of positives in the bin */
  observed: number;
  count: number;
}

/**
 * Reliability table: scores cut into equal-width bins over [0, 1] (the last
 * bin closed), each with its mean score and observed positive rate. Empty
 * bins are left out, as a rate of 0 out of 0 would read as a finding.
 */
export function calibrationTable(scores: ArrayLike<number>, labels: Uint8Array, bins = 10): CalibrationBin[] {
  checkPairs(scores, labels);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const sums = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const counts = new Int32Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s < 0 || s > 1) throw new RangeError(`scores[${i}] = ${s} is not a probability`);
    const b = Math.min(bins - 1, Math.floor(s * bins));
    sums[b]! += s;
    hits[b]! += labels[i]!;
    counts[b]! += 1;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const count = counts[b]!;
    if (count === 0) continue;
    out.push({ lower: b / bins, upper: (b + 1) / bins, predicted: sums[b]! / count, observed: hits[b]! / count, count });
  }
  return out;
}

/** The logistic function, written so neither tail overflows. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
