/**
 * L2-regularised logistic regression, the baseline churn / propensity model:
 * quick, calibrated enough to read as a probability, and its weights on
 * standardized features say which features push a customer's score.
 *
 * The objective is scikit-learn's LogisticRegression(C=1/l2): ½·l2·‖w‖² plus
 * the log-loss summed (not averaged) over rows, intercept unpenalised, so
 * its figures can be checked against sklearn's. It is fitted by Newton's
 * method with a backtracking line search: a feature count in the tens makes
 * the Hessian cheap to form and solve, convergence is quadratic and the
 * result does not depend on any random start.
 */
import { checkDesign, checkFeatures, checkLabels, checkRows, sigmoid, type Design } from './metrics.js';

export interface LogisticOptions {
  /** strength of the ½‖w‖² penalty against the summed log-loss; 1 = sklearn's C=1. Default 1 */
  l2?: number;
  /** Newton steps at most. Default 100 */
  maxIterations?: number;
  /** fit on features scaled to unit variance (weights then compare across features). Default true */
  standardize?: boolean;
  /** training subset (row numbers of x); default all rows */
  rows?: Int32Array;
}

/** JSON-serialisable. A feature's value x becomes ((isNaN(x) ? mean : x) − mean) / scale before the weights apply. */
export interface LogisticModel {
  kind: 'logistic';
  features: string[];
  /** training mean per feature: the centre, and what a missing value is taken to be */
  mean: number[];
  /** the divisor per feature: the training standard deviation when standardized (1 for a constant), else 1 */
  scale: number[];
  /** training standard deviation per feature (missing values counted at the mean) */
  sd: number[];
  weights: number[];
  intercept: number;
  l2: number;
  iterations: number;
  converged: boolean;
}

const DEFAULT_L2 = 1;
const DEFAULT_MAX_ITERATIONS = 100;
/** Newton decrement (predicted objective drop) below which the fit is done, relative to the objective. */
const DECREMENT_TOLERANCE = 1e-12;

/** Solves A·x = b for symmetric positive definite A (k×k, row-major) in place of b; false if A is not positive definite. */
function choleskySolve(a: Float64Array, b: Float64Array, k: number): boolean {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j]!;
      for (let t = 0; t < j; t++) s -= l[i * k + t]! * l[j * k + t]!;
      if (i === j) {
        if (!(s > 0)) return false;
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / l[j * k + j]!;
    }
  }
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let t = 0; t < i; t++) s -= l[i * k + t]! * b[t]!;
    b[i] = s / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let t = i + 1; t < k; t++) s -= l[t * k + i]! * b[t]!;
    b[i] = s / l[i * k + i]!;
  }
  return true;
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

export function trainLogistic(x: Design, y: Uint8Array, options: LogisticOptions = {}): LogisticModel {
  checkDesign(x);
  checkLabels(y, x.rows);
  const l2 = options.l2 ?? DEFAULT_L2;
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new RangeError(`l2 must be a finite number ≥ 0, got ${l2}`);
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new RangeError(`maxIterations must be a positive integer, got ${maxIterations}`);
  const standardize = options.standardize ?? true;
  const rows = options.rows ?? allRows(x.rows);
  checkRows(rows, x.rows);

  const m = rows.length;
  const d = x.cols;
  const mean = new Float64Array(d);
  const present = new Float64Array(d);
  for (const r of rows) {
    const base = r * d;
    for (let j = 0; j < d; j++) {
      const v = x.data[base + j]!;
      if (!Number.isNaN(v)) {
        mean[j]! += v;
        present[j]! += 1;
      }
    }
  }
  for (let j = 0; j < d; j++) mean[j] = present[j]! > 0 ? mean[j]! / present[j]! : 0;
  const sd = new Float64Array(d);
  for (const r of rows) {
    const base = r * d;
    for (let j = 0; j < d; j++) {
      const v = x.data[base + j]!;
      if (!Number.isNaN(v)) sd[j]! += (v - mean[j]!) ** 2;
    }
  }
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]! / m);
  // A constant column keeps scale 1: dividing by ~0 would only amplify rounding.
  const scale = Float64Array.from(sd, (s) => (standardize && s > 1e-12 ? s : 1));

  // Centred (and scaled) copy of the training rows; centring never changes
  // the fitted probabilities (the intercept is free) but keeps the Hessian
  // well conditioned.
  const z = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const base = rows[i]! * d;
    for (let j = 0; j < d; j++) {
      const v = x.data[base + j]!;
      z[i * d + j] = Number.isNaN(v) ? 0 : (v - mean[j]!) / scale[j]!;
    }
  }
  const target = new Float64Array(m);
  let positives = 0;
  for (let i = 0; i < m; i++) {
    target[i] = y[rows[i]!]!;
    positives += target[i]!;
  }

  const k = d + 1; // weights, then the intercept
  const w = new Float64Array(k);
  // Starting at the base rate's log-odds saves the first step's worth of work.
  const rate = Math.min(1 - 1e-9, Math.max(1e-9, positives / m));
  w[d] = Math.log(rate / (1 - rate));
  const eta = new Float64Array(m);
  const linear = (weights: Float64Array, out: Float64Array): void => {
    for (let i = 0; i < m; i++) {
      let s = weights[d]!;
      const base = i * d;
      for (let j = 0; j < d; j++) s += z[base + j]! * weights[j]!;
      out[i] = s;
    }
  };
  const objective = (weights: Float64Array, margins: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < m; i++) f += softplus(margins[i]!) - target[i]! * margins[i]!;
    let penalty = 0;
    for (let j = 0; j < d; j++) penalty += weights[j]! * weights[j]!;
    return f + 0.5 * l2 * penalty;
  };
  linear(w, eta);
  let f = objective(w, eta);
  const gradient = new Float64Array(k);
  const hessian = new Float64Array(k * k);
  const trial = new Float64Array(k);
  const trialEta = new Float64Array(m);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < m; i++) {
      const p = sigmoid(eta[i]!);
      const residual = p - target[i]!;
      const weight = p * (1 - p);
      const base = i * d;
      for (let a = 0; a < d; a++) {
        const za = z[base + a]!;
        gradient[a]! += residual * za;
        const wa = weight * za;
        const row = a * k;
        for (let b = 0; b <= a; b++) hessian[row + b]! += wa * z[base + b]!;
        hessian[d * k + a]! += wa;
      }
      gradient[d]! += residual;
      hessian[d * k + d]! += weight;
    }
    for (let a = 0; a < d; a++) {
      gradient[a]! += l2 * w[a]!;
      hessian[a * k + a]! += l2;
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) hessian[b * k + a] = hessian[a * k + b]!;
    const step = Float64Array.from(gradient, (g) => -g);
    if (!choleskySolve(hessian, step, k)) {
      // Without a penalty, separable or collinear data leave the Hessian
      // singular; a ridge far below any real curvature restores a direction.
      let trace = 0;
      for (let a = 0; a < k; a++) trace += hessian[a * k + a]!;
      for (let a = 0; a < k; a++) hessian[a * k + a]! += 1e-8 * (trace / k + 1);
      step.set(gradient.map((g) => -g));
      if (!choleskySolve(hessian, step, k)) break;
    }
    let decrement = 0;
    for (let a = 0; a < k; a++) decrement -= gradient[a]! * step[a]!;
    if (decrement / 2 <= DECREMENT_TOLERANCE * Math.max(1, Math.abs(f))) {
      converged = true;
      break;
    }
    // Armijo backtracking: a full Newton step is accepted near the optimum,
    // shorter ones only while the quadratic model overshoots.
    let t = 1;
    let accepted = false;
    for (let halvings = 0; halvings < 40; halvings++) {
      for (let a = 0; a < k; a++) trial[a] = w[a]! + t * step[a]!;
      linear(trial, trialEta);
      const ft = objective(trial, trialEta);
      if (ft <= f - 1e-4 * t * decrement) {
        w.set(trial);
        eta.set(trialEta);
        f = ft;
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) {
      // No decrease representable in floating point: as good as it gets.
      converged = true;
      break;
    }
  }

  return {
    kind: 'logistic',
    features: [...x.names],
    mean: Array.from(mean),
    scale: Array.from(scale),
    sd: Array.from(sd),
    weights: Array.from(w.subarray(0, d)),
    intercept: w[d]!,
    l2,
    iterations,
    converged,
  };
}

/** Probability of label 1 for each row (all rows, or `rows` in that order). */
export function predictLogistic(model: LogisticModel, x: Design, rows?: Int32Array): Float64Array {
  checkFeatures(model.features, x);
  if (rows !== undefined) checkRows(rows, x.rows);
  const d = x.cols;
  // Folding centre and scale into the weights makes prediction one dot product a row.
  const coef = new Float64Array(d);
  let offset = model.intercept;
  for (let j = 0; j < d; j++) {
    coef[j] = model.weights[j]! / model.scale[j]!;
    offset -= coef[j]! * model.mean[j]!;
  }
  const n = rows?.length ?? x.rows;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const base = (rows === undefined ? i : rows[i]!) * d;
    let s = offset;
    for (let j = 0; j < d; j++) {
      const v = x.data[base + j]!;
      s += coef[j]! * (Number.isNaN(v) ? model.mean[j]! : v);
    }
    out[i] = sigmoid(s);
  }
  return out;
}

/**
 * |weight| per unit standard deviation of each feature: the change in
 * log-odds for a one-sd move, comparable across features whether or not the
 * fit standardized.
 */
export function logisticImportance(model: LogisticModel): Float64Array {
  return Float64Array.from(model.weights, (w, j) => Math.abs((w * model.sd[j]!) / model.scale[j]!));
}
