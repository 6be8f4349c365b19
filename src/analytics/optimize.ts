/**
 * Small unconstrained minimisers for the likelihood fits in this folder: BFGS for smooth objectives
 * with analytic gradients, and Nelder–Mead (with restarts) for when there is no gradient.
 *
 * Pure: an objective in, a point out. Objectives may return a non-finite value for points they
 * cannot evaluate (overflow, out of the region the caller allows); both methods treat that as
 * "worse than anything" and step back, which is how callers keep parameters in range.
 */

/** Value at `x`; writes the gradient into `gradient` (same length as `x`). */
export type ObjectiveWithGradient = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

export interface BfgsOptions {
  maxIterations?: number;
  /** converged when every gradient component is at most this in absolute value */
  gradientTolerance?: number;
  onIteration?: (iteration: number, value: number) => void;
}

const dot = (u: Float64Array, v: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i]! * v[i]!;
  return s;
};

const maxAbs = (v: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
};

/**
 * Quasi-Newton BFGS on the inverse Hessian with a backtracking (Armijo) line search. Small `n`
 * only (dense n × n matrix).
 */
export function minimizeBfgs(objective: ObjectiveWithGradient, x0: Float64Array, options: BfgsOptions = {}): MinimizeResult {
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.gradientTolerance ?? 1e-9;
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let value = objective(x, g);
  let evaluations = 1;
  if (!Number.isFinite(value) || !g.every(Number.isFinite)) throw new Error('minimizeBfgs: the objective is not finite at the starting point');
  const h = new Float64Array(n * n);
  const resetH = (scale: number): void => {
    h.fill(0);
    for (let i = 0; i < n; i++) h[i * n + i] = scale;
  };
  resetH(1);
  let fresh = true;
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const hy = new Float64Array(n);
  let iterations = 0;
  let converged = maxAbs(g) <= tolerance;
  while (!converged && iterations < maxIterations) {
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v -= h[i * n + j]! * g[j]!;
      d[i] = v;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // A Hessian estimate gone indefinite by rounding: fall back to steepest descent.
      resetH(1);
      fresh = true;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    // Unscaled first steps can leap into overflow; a log-parameter step of 1 is already a factor e.
    let step = fresh ? Math.min(1, 1 / maxAbs(d)) : 1;
    let accepted = false;
    let valueNew = Number.NaN;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * d[i]!;
      valueNew = objective(xNew, gNew);
      evaluations++;
      if (Number.isFinite(valueNew) && valueNew <= value + 1e-4 * step * slope && gNew.every(Number.isFinite)) {
        accepted = true;
        break;
      }
      // Quadratic interpolation of the step, kept within [0.1, 0.5] of the last so it cannot stall or overshoot.
      const q = Number.isFinite(valueNew) ? (-slope * step * step) / (2 * (valueNew - value - slope * step)) : 0.1 * step;
      step = Math.min(0.5 * step, Math.max(0.1 * step, q));
    }
    if (!accepted) {
      if (!fresh) {
        resetH(1);
        fresh = true;
        continue;
      }
      break;
    }
    iterations++;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    x.set(xNew);
    g.set(gNew);
    const previous = value;
    value = valueNew;
    options.onIteration?.(iterations, value);
    const sy = dot(s, y);
    if (sy > 1e-14 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (fresh) {
        // Nocedal & Wright's scaling of the first inverse-Hessian guess.
        resetH(sy / dot(y, y));
        fresh = false;
      }
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += h[i * n + j]! * y[j]!;
        hy[i] = v;
      }
      const yhy = dot(y, hy);
      const rho = 1 / sy;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          h[i * n + j] = h[i * n + j]! + rho * ((1 + rho * yhy) * s[i]! * s[j]! - hy[i]! * s[j]! - s[i]! * hy[j]!);
        }
      }
    }
    converged = maxAbs(g) <= tolerance;
    // No representable progress left: as good as this precision allows, if the gradient is small.
    if (!converged && previous - value <= 1e-15 * Math.abs(value) && maxAbs(g) <= Math.sqrt(tolerance)) converged = true;
  }
  return { x, value, iterations, evaluations, converged };
}

export interface NelderMeadOptions {
  maxEvaluations?: number;
  /** initial simplex edge, per coordinate */
  initialStep?: number;
  /** stop when the simplex's values differ by at most this (absolute) */
  valueTolerance?: number;
  /** restarts from the best point with a fresh simplex, until one gains less than valueTolerance */
  maxRestarts?: number;
}

/** Nelder–Mead simplex search (standard coefficients 1, 2, ½, ½), restarted to escape collapsed simplices. */
export function minimizeNelderMead(objective: (x: Float64Array) => number, x0: Float64Array, options: NelderMeadOptions = {}): MinimizeResult {
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  const initialStep = options.initialStep ?? 0.5;
  const tolerance = options.valueTolerance ?? 1e-10;
  const maxRestarts = options.maxRestarts ?? 5;
  const n = x0.length;
  let evaluations = 0;
  let iterations = 0;
  const f = (p: Float64Array): number => {
    evaluations++;
    const v = objective(p);
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  let best: Float64Array = Float64Array.from(x0);
  let bestValue = f(best);
  let converged = false;
  for (let restart = 0; restart <= maxRestarts && evaluations < maxEvaluations; restart++) {
    const points: Float64Array[] = [Float64Array.from(best)];
    const values: number[] = [bestValue];
    for (let i = 0; i < n; i++) {
      const p = Float64Array.from(best);
      p[i] = p[i]! + initialStep;
      points.push(p);
      values.push(f(p));
    }
    const order = points.map((_, i) => i);
    const centroid = new Float64Array(n);
    const trial = (from: Float64Array, t: number): Float64Array => {
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) p[i] = centroid[i]! + t * (from[i]! - centroid[i]!);
      return p;
    };
    let simplexConverged = false;
    while (evaluations < maxEvaluations) {
      order.sort((i, j) => values[i]! - values[j]!);
      const lo = order[0]!;
      const hi = order[n]!;
      if (values[hi]! - values[lo]! <= tolerance) {
        simplexConverged = true;
        break;
      }
      iterations++;
      centroid.fill(0);
      for (let k = 0; k < n; k++) {
        const p = points[order[k]!]!;
        for (let i = 0; i < n; i++) centroid[i] = centroid[i]! + p[i]! / n;
      }
      const worst = points[hi]!;
      const reflected = trial(worst, -1);
      const fr = f(reflected);
      if (fr < values[lo]!) {
        const expanded = trial(worst, -2);
        const fe = f(expanded);
        if (fe < fr) [points[hi], values[hi]] = [expanded, fe];
        else [points[hi], values[hi]] = [reflected, fr];
      } else if (fr < values[order[n - 1]!]!) {
        [points[hi], values[hi]] = [reflected, fr];
      } else {
        const contracted = fr < values[hi]! ? trial(worst, -0.5) : trial(worst, 0.5);
        const fc = f(contracted);
        if (fc < Math.min(fr, values[hi]!)) [points[hi], values[hi]] = [contracted, fc];
        else {
          const bestPoint = points[lo]!;
          for (let k = 1; k <= n; k++) {
            const idx = order[k]!;
            const p = points[idx]!;
            for (let i = 0; i < n; i++) p[i] = bestPoint[i]! + 0.5 * (p[i]! - bestPoint[i]!);
            values[idx] = f(p);
          }
        }
      }
    }
    let lo = 0;
    for (let k = 1; k <= n; k++) if (values[k]! < values[lo]!) lo = k;
    const gain = bestValue - values[lo]!;
    best = points[lo]!;
    bestValue = values[lo]!;
    if (simplexConverged && restart > 0 && gain <= tolerance) {
      converged = true;
      break;
    }
  }
  return { x: best, value: bestValue, iterations, evaluations, converged };
}
