/**
 * Customer lifetime value: the BG/NBD purchase-count model (Fader, Hardie & Lee 2005, "Counting
 * Your Customers the Easy Way") and the Gamma-Gamma spend model (Fader & Hardie, note 025), fitted
 * by maximum likelihood, plus the per-customer predictions built on them.
 *
 * Pure numeric code on typed arrays, no I/O. Times are in one unit throughout (weeks in the tests
 * and docs); the caller picks it when building the histories.
 *
 * Fits run in log-parameter space (every parameter is positive) with BFGS on analytic gradients.
 * Customers with the same (x, tx, T) are evaluated once with a weight, and everything that depends
 * only on x (the log-gamma and digamma terms) once per distinct x, so a fit on a million customers
 * costs a few logs and one exp per distinct customer per evaluation.
 */
import { minimizeBfgs, type ObjectiveWithGradient } from './optimize.js';
import { seededRandom } from './random.js';

/** Per customer: repeat purchases x, time of last repeat purchase tx (0 when x = 0), age T (time since first purchase); all in one time unit (weeks in the tests). */
export interface RepeatHistory {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
}
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}
export interface FitDiagnostics {
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  customers: number;
}
/** Only customers with x > 0: repeat purchases and their mean spend. */
export interface SpendHistory {
  x: Float64Array;
  meanSpend: Float64Array;
}
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}
export interface ClvOptions {
  /** time units ahead */
  horizon: number;
  /** per discount period, e.g. 0.01 */
  discountRate: number;
  /** time units per discount period, e.g. 4.345 weeks (a month) */
  discountPeriod: number;
}

// ---------------------------------------------------------------------------------------------
// Special functions

// Lanczos approximation, g = 7, n = 9: the published coefficient set (e.g. Numerical Recipes /
// Wikipedia "Lanczos approximation"), about 15 significant digits for real arguments.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (NaN otherwise). */
export function lnGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  // Reflection keeps the series in its accurate range; for tiny x it gives −ln x as it should.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LN_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ψ(x) = d ln Γ(x) / dx for x > 0 (NaN otherwise). */
export function digamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let result = 0;
  // The asymptotic series (to x^−14) is accurate to double precision from 8 upwards; recur up to there.
  while (x < 8) {
    result -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return result + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * (691 / 32760 - f / 12))))));
}

// ---------------------------------------------------------------------------------------------
// Input checks

function checkLengths(what: string, fields: Record<string, ArrayLike<number>>): number {
  const entries = Object.entries(fields);
  const n = entries[0]![1].length;
  for (const [name, values] of entries) {
    if (values.length !== n) throw new Error(`${what}: ${name} has ${values.length} entries but ${entries[0]![0]} has ${n}; lengths must match`);
  }
  return n;
}

function checkRepeatHistory(h: RepeatHistory, what = 'RepeatHistory'): number {
  const n = checkLengths(what, { x: h.x, tx: h.tx, T: h.T });
  if (n === 0) throw new Error(`${what}: no customers (x is empty)`);
  for (let i = 0; i < n; i++) checkCustomer(h.x[i]!, h.tx[i]!, h.T[i]!, `${what}: customer ${i}`);
  return n;
}

function checkCustomer(x: number, tx: number, T: number, where: string): void {
  if (!Number.isInteger(x) || x < 0) throw new Error(`${where}: x = ${x} must be a non-negative integer (repeat purchases)`);
  if (!Number.isFinite(T) || T < 0) throw new Error(`${where}: T = ${T} must be a finite number ≥ 0`);
  if (!Number.isFinite(tx) || tx < 0) throw new Error(`${where}: tx = ${tx} must be a finite number ≥ 0`);
  if (tx > T) throw new Error(`${where}: tx = ${tx} exceeds T = ${T}`);
  if (x === 0 && tx !== 0) throw new Error(`${where}: tx = ${tx} must be 0 when x is 0`);
}

function checkBgNbdParams(p: BgNbdParams): void {
  for (const name of ['r', 'alpha', 'a', 'b'] as const) {
    const v = p[name];
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`BgNbdParams: ${name} = ${v} must be a finite number > 0`);
  }
}

function checkGammaGammaParams(g: GammaGammaParams): void {
  for (const name of ['p', 'q', 'gamma'] as const) {
    const v = g[name];
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`GammaGammaParams: ${name} = ${v} must be a finite number > 0`);
  }
}

function checkClvOptions(o: ClvOptions): void {
  if (!(Number.isFinite(o.horizon) && o.horizon >= 0)) throw new Error(`horizon = ${o.horizon} must be a finite number ≥ 0`);
  if (!(Number.isFinite(o.discountRate) && o.discountRate > -1)) throw new Error(`discountRate = ${o.discountRate} must be a finite number > −1`);
  if (!(Number.isFinite(o.discountPeriod) && o.discountPeriod > 0)) throw new Error(`discountPeriod = ${o.discountPeriod} must be a finite number > 0`);
}

// ---------------------------------------------------------------------------------------------
// Grouping identical customers

const bits64 = new Float64Array(1);
const bits32 = new Uint32Array(bits64.buffer);
function mixHash(h: number, v: number): number {
  // +0 folds −0 into 0 so equal values hash equally.
  bits64[0] = v + 0;
  h = Math.imul(h ^ bits32[0]!, 0x9e3779b1);
  h = Math.imul(h ^ bits32[1]!, 0x85ebca6b);
  return h ^ (h >>> 15);
}

/** Distinct rows of up to three columns (in first-seen order) with their multiplicities, and each input row's group. */
function groupRows(a: Float64Array, b: Float64Array, c: Float64Array | null): { first: Int32Array; weight: Float64Array; groupOf: Int32Array } {
  const n = a.length;
  let size = 16;
  while (size < 2 * n) size *= 2;
  const table = new Int32Array(size).fill(-1);
  const mask = size - 1;
  const first = new Int32Array(n);
  const weight = new Float64Array(n);
  const groupOf = new Int32Array(n);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    const ci = c === null ? 0 : c[i]!;
    let slot = mixHash(mixHash(mixHash(0x2545f491, ai), bi), ci) & mask;
    for (;;) {
      const g = table[slot]!;
      if (g < 0) {
        table[slot] = groups;
        first[groups] = i;
        weight[groups] = 1;
        groupOf[i] = groups++;
        break;
      }
      const j = first[g]!;
      if (a[j] === ai && b[j] === bi && (c === null || c[j] === ci)) {
        weight[g] = weight[g]! + 1;
        groupOf[i] = g;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { first: first.slice(0, groups), weight: weight.slice(0, groups), groupOf };
}

/** Distinct values of an integer-valued column, ascending, and each row's index into them. */
function distinctValues(x: Float64Array, rows: Int32Array): { values: Float64Array; index: Int32Array } {
  const values = Float64Array.from(new Set(Array.from(rows, (i) => x[i]!))).sort();
  const position = new Map<number, number>();
  values.forEach((v, k) => position.set(v, k));
  return { values, index: Int32Array.from(rows, (i) => position.get(x[i]!)!) };
}

// ---------------------------------------------------------------------------------------------
// BG/NBD likelihood

/** The data a BG/NBD likelihood needs, grouped: see the module comment. */
interface BgNbdData {
  customers: number;
  /** distinct x values and the number of customers with each */
  xs: Float64Array;
  xWeight: Float64Array;
  /** per distinct (x, tx, T): index into xs, tx, T, multiplicity */
  xIndex: Int32Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
}

function prepareBgNbd(h: RepeatHistory): BgNbdData {
  const customers = checkRepeatHistory(h);
  const { first, weight } = groupRows(h.x, h.tx, h.T);
  const { values: xs, index: xIndex } = distinctValues(h.x, first);
  const xWeight = new Float64Array(xs.length);
  for (let g = 0; g < first.length; g++) xWeight[xIndex[g]!] = xWeight[xIndex[g]!]! + weight[g]!;
  return { customers, xs, xWeight, xIndex, tx: Float64Array.from(first, (i) => h.tx[i]!), T: Float64Array.from(first, (i) => h.T[i]!), weight };
}

/**
 * Total log-likelihood; when `gradient` is given, also its derivatives with respect to
 * (r, α, a, b) written there. Per customer (FHL 2005, eq. 6):
 *   ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
 *          + ln[ (α+T)^−(r+x) + δ(x>0) · a/(b+x−1) · (α+tx)^−(r+x) ]
 * with the last term combined in log space so neither power underflows.
 */
function bgNbdTotal(d: BgNbdData, r: number, alpha: number, a: number, b: number, gradient: Float64Array | null): number {
  const nx = d.xs.length;
  const lnAlpha = Math.log(alpha);
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const lnGammaR = lnGamma(r);
  const lnGammaAB = lnGamma(a + b);
  const lnGammaB = lnGamma(b);
  const psiB = digamma(b);
  const lnA = Math.log(a);
  // Per distinct x: the log of a/(b+x−1) and 1/(b+x−1), used per customer.
  const lnRatio = new Float64Array(nx);
  const invB1 = new Float64Array(nx);
  let total = 0;
  let gr = 0;
  let galpha = 0;
  let ga = 0;
  let gb = 0;
  for (let k = 0; k < nx; k++) {
    const x = d.xs[k]!;
    const w = d.xWeight[k]!;
    total += w * (lnGamma(r + x) - lnGammaR + r * lnAlpha + lnGammaAB + lnGamma(b + x) - lnGammaB - lnGamma(a + b + x));
    if (x > 0) {
      lnRatio[k] = lnA - Math.log(b + x - 1);
      invB1[k] = 1 / (b + x - 1);
    }
    if (gradient !== null) {
      const psiABX = digamma(a + b + x);
      gr += w * (digamma(r + x) - psiR + lnAlpha);
      galpha += (w * r) / alpha;
      ga += w * (psiAB - psiABX);
      gb += w * (psiAB + digamma(b + x) - psiB - psiABX);
    }
  }
  const groups = d.weight.length;
  for (let g = 0; g < groups; g++) {
    const k = d.xIndex[g]!;
    const x = d.xs[k]!;
    const w = d.weight[g]!;
    const lnT = Math.log(alpha + d.T[g]!);
    const rx = r + x;
    const a3 = -rx * lnT;
    if (x === 0) {
      total += w * a3;
      if (gradient !== null) {
        gr -= w * lnT;
        galpha -= (w * rx) / (alpha + d.T[g]!);
      }
      continue;
    }
    const lnTx = Math.log(alpha + d.tx[g]!);
    const a4 = lnRatio[k]! - rx * lnTx;
    const diff = a4 - a3;
    // ln(e^a3 + e^a4) and the share of the second term, stable for either sign of diff.
    let lnSum: number;
    let w4: number;
    if (diff > 0) {
      const e = Math.exp(-diff);
      lnSum = a4 + Math.log1p(e);
      w4 = 1 / (1 + e);
    } else {
      const e = Math.exp(diff);
      lnSum = a3 + Math.log1p(e);
      w4 = e / (1 + e);
    }
    total += w * lnSum;
    if (gradient !== null) {
      const w3 = 1 - w4;
      gr -= w * (w3 * lnT + w4 * lnTx);
      galpha -= w * rx * (w3 / (alpha + d.T[g]!) + w4 / (alpha + d.tx[g]!));
      ga += (w * w4) / a;
      gb -= w * w4 * invB1[k]!;
    }
  }
  if (gradient !== null) {
    gradient[0] = gr;
    gradient[1] = galpha;
    gradient[2] = ga;
    gradient[3] = gb;
  }
  return total;
}

/** Log parameters beyond this are treated as out of range (e^±40 is already degenerate). */
const LOG_BOUND = 40;

/** Mean negative log-likelihood over log-parameters, for the minimiser. */
function bgNbdObjective(d: BgNbdData): ObjectiveWithGradient {
  const raw = new Float64Array(4);
  return (theta, gradient) => {
    for (let i = 0; i < 4; i++) if (!(Math.abs(theta[i]!) <= LOG_BOUND)) return Number.NaN;
    const r = Math.exp(theta[0]!);
    const alpha = Math.exp(theta[1]!);
    const a = Math.exp(theta[2]!);
    const b = Math.exp(theta[3]!);
    const ll = bgNbdTotal(d, r, alpha, a, b, raw);
    const scale = -1 / d.customers;
    gradient[0] = scale * raw[0]! * r;
    gradient[1] = scale * raw[1]! * alpha;
    gradient[2] = scale * raw[2]! * a;
    gradient[3] = scale * raw[3]! * b;
    return scale * ll;
  };
}

/** Total BG/NBD log-likelihood of the histories under `p` (a sum over customers, not a mean). */
export function bgNbdLogLikelihood(p: BgNbdParams, h: RepeatHistory): number {
  checkBgNbdParams(p);
  return bgNbdTotal(prepareBgNbd(h), p.r, p.alpha, p.a, p.b, null);
}

/**
 * Maximum-likelihood BG/NBD fit. Starts from all parameters 1 (as the `lifetimes` package does)
 * and, once converged, restarts once from the optimum with a fresh Hessian estimate to confirm it.
 */
export function fitBgNbd(
  h: RepeatHistory,
  options: { maxIterations?: number; onProgress?: (iteration: number, logLikelihood: number) => void } = {},
): { params: BgNbdParams } & FitDiagnostics {
  const data = prepareBgNbd(h);
  const maxIterations = options.maxIterations ?? 500;
  const objective = bgNbdObjective(data);
  let iterations = 0;
  const onIteration = (_: number, value: number): void => {
    iterations++;
    options.onProgress?.(iterations, -value * data.customers);
  };
  let theta: Float64Array = new Float64Array(4);
  let converged = false;
  for (let pass = 0; pass < 2 && iterations < maxIterations; pass++) {
    const result = minimizeBfgs(objective, theta, { maxIterations: maxIterations - iterations, gradientTolerance: 1e-9, onIteration });
    theta = result.x;
    converged = result.converged;
    if (!converged) break;
  }
  const params = { r: Math.exp(theta[0]!), alpha: Math.exp(theta[1]!), a: Math.exp(theta[2]!), b: Math.exp(theta[3]!) };
  return { params, logLikelihood: bgNbdTotal(data, params.r, params.alpha, params.a, params.b, null), iterations, converged, customers: data.customers };
}

// ---------------------------------------------------------------------------------------------
// BG/NBD predictions

/** ln of the odds that a customer with this history has dropped out: ln[a/(b+x−1) · ((α+T)/(α+tx))^(r+x)]. */
function lnDeadOdds(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return Number.NEGATIVE_INFINITY;
  return Math.log(p.a / (p.b + x - 1)) + (p.r + x) * Math.log((p.alpha + T) / (p.alpha + tx));
}

/** P(still active | x, tx, T) (FHL 2005 / Fader, Hardie & Lee's note on P(alive)); 1 when x = 0. */
export function pAlive(p: BgNbdParams, x: number, tx: number, T: number): number {
  checkBgNbdParams(p);
  checkCustomer(x, tx, T, 'pAlive');
  return 1 / (1 + Math.exp(lnDeadOdds(p, x, tx, T)));
}

/** Only reached with degenerate parameters (a or C−A in the millions); stops runaway loops. */
const MAX_SERIES_TERMS = 2_000_000;

/**
 * For each t in `times` (ascending not required), the expected purchases in (T, T + t] of a
 * customer known to be still active, i.e. FHL eq. 10 without the P(alive) factor:
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z)],  z = t/(α+T+t).
 *
 * The (a−1) in the denominator makes that 0/0 at a = 1. Euler's transformation
 * ₂F₁(A, B; C; z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z), with C−B = a−1 here, turns the bracket into
 *   [1 − (1−z)^(a−1)] − (1−z)^(a−1) · (a−1) · Σ_{k≥1} (C−A)_k (a)_{k−1} / ((C)_k k!) z^k
 * so the division by (a−1) is done exactly and the result is smooth in a. The series coefficients
 * do not depend on z, so all horizons share one pass.
 */
function expectedIfActive(p: BgNbdParams, x: number, T: number, times: Float64Array, out: Float64Array): void {
  const A = p.r + x;
  const C = p.a + p.b + x - 1;
  const eps = p.a - 1;
  const m = times.length;
  const z = new Float64Array(m);
  const term = new Float64Array(m);
  const sum = new Float64Array(m);
  let zMax = 0;
  for (let j = 0; j < m; j++) {
    const t = times[j]!;
    z[j] = t > 0 ? t / (p.alpha + T + t) : 0;
    term[j] = ((C - A) / C) * z[j]!;
    sum[j] = term[j]!;
    zMax = Math.max(zMax, z[j]!);
  }
  // Terms are carried with their power of z (coefficients alone can overflow for large a or C−A).
  // Past k > a − 2 with C−A+k > 0, a ratio below 1/zMax stays below it, so tiny terms stay tiny.
  for (let k = 1; k < MAX_SERIES_TERMS; k++) {
    const ratio = ((C - A + k) * (p.a + k - 1)) / ((C + k) * (k + 1));
    let done = ratio === 0 || (k > p.a - 2 && C - A + k > 0 && ratio * zMax < 1);
    for (let j = 0; j < m; j++) {
      const next = term[j]! * ratio * z[j]!;
      term[j] = next;
      sum[j] = sum[j]! + next;
      if (Math.abs(next) > 1e-17 * (1 + Math.abs(sum[j]!))) done = false;
    }
    if (done) break;
  }
  for (let j = 0; j < m; j++) {
    const t = times[j]!;
    if (!(t > 0)) {
      out[j] = 0;
      continue;
    }
    const ln1z = -Math.log1p(t / (p.alpha + T));
    const power = Math.exp(eps * ln1z);
    const head = eps === 0 ? -ln1z : -Math.expm1(eps * ln1z) / eps;
    out[j] = C * (head - power * sum[j]!);
  }
}

const oneTime = new Float64Array(1);
const oneOut = new Float64Array(1);

/** E[X(t)]: expected repeat purchases in the first t units of a customer just acquired (FHL eq. 9). */
export function expectedRepeatPurchases(p: BgNbdParams, t: number): number {
  checkBgNbdParams(p);
  if (!(Number.isFinite(t) && t >= 0)) throw new Error(`t = ${t} must be a finite number ≥ 0`);
  oneTime[0] = t;
  expectedIfActive(p, 0, 0, oneTime, oneOut);
  return oneOut[0]!;
}

/** E[Y(t) | x, tx, T]: expected purchases in the next t units given the history (FHL eq. 10). */
export function conditionalExpectedPurchases(p: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  checkBgNbdParams(p);
  checkCustomer(x, tx, T, 'conditionalExpectedPurchases');
  if (!(Number.isFinite(t) && t >= 0)) throw new Error(`t = ${t} must be a finite number ≥ 0`);
  oneTime[0] = t;
  expectedIfActive(p, x, T, oneTime, oneOut);
  return oneOut[0]! / (1 + Math.exp(lnDeadOdds(p, x, tx, T)));
}

// ---------------------------------------------------------------------------------------------
// Gamma-Gamma

interface GammaGammaData {
  customers: number;
  xs: Float64Array;
  xWeight: Float64Array;
  /** Σ ln(mean spend) over the customers with each x */
  xLnSpend: Float64Array;
  /** per customer: index into xs and x · mean spend */
  xIndex: Int32Array;
  xm: Float64Array;
}

function prepareGammaGamma(s: SpendHistory): GammaGammaData {
  const n = checkLengths('SpendHistory', { x: s.x, meanSpend: s.meanSpend });
  if (n === 0) throw new Error('SpendHistory: no customers (x is empty)');
  for (let i = 0; i < n; i++) {
    const x = s.x[i]!;
    const m = s.meanSpend[i]!;
    if (!(Number.isFinite(x) && x > 0)) throw new Error(`SpendHistory: customer ${i}: x = ${x} must be > 0 (only customers with repeat purchases)`);
    if (!(Number.isFinite(m) && m > 0)) throw new Error(`SpendHistory: customer ${i}: meanSpend = ${m} must be a finite number > 0`);
  }
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const { values: xs, index: xIndex } = distinctValues(s.x, all);
  const xWeight = new Float64Array(xs.length);
  const xLnSpend = new Float64Array(xs.length);
  const xm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = xIndex[i]!;
    xWeight[k] = xWeight[k]! + 1;
    xLnSpend[k] = xLnSpend[k]! + Math.log(s.meanSpend[i]!);
    xm[i] = s.x[i]! * s.meanSpend[i]!;
  }
  return { customers: n, xs, xWeight, xLnSpend, xIndex, xm };
}

/**
 * Total log-likelihood of the mean spends, and optionally its gradient in (p, q, γ). The density
 * of a customer's mean spend m over x purchases (Fader & Hardie note 025):
 *   Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m^(px−1) · x^(px) / (γ + m x)^(px+q).
 */
function gammaGammaTotal(d: GammaGammaData, p: number, q: number, gamma: number, gradient: Float64Array | null): number {
  const lnGammaQ = lnGamma(q);
  const psiQ = digamma(q);
  const lnG = Math.log(gamma);
  let total = 0;
  let gp = 0;
  let gq = 0;
  let gg = 0;
  const nx = d.xs.length;
  for (let k = 0; k < nx; k++) {
    const x = d.xs[k]!;
    const w = d.xWeight[k]!;
    const px = p * x;
    const lnX = Math.log(x);
    total += w * (lnGamma(px + q) - lnGamma(px) - lnGammaQ + q * lnG + px * lnX) + (px - 1) * d.xLnSpend[k]!;
    if (gradient !== null) {
      const psiPXQ = digamma(px + q);
      gp += x * (w * (psiPXQ - digamma(px) + lnX) + d.xLnSpend[k]!);
      gq += w * (psiPXQ - psiQ + lnG);
      gg += (w * q) / gamma;
    }
  }
  for (let i = 0; i < d.customers; i++) {
    const x = d.xs[d.xIndex[i]!]!;
    const base = gamma + d.xm[i]!;
    const lnBase = Math.log(base);
    const exponent = p * x + q;
    total -= exponent * lnBase;
    if (gradient !== null) {
      gp -= x * lnBase;
      gq -= lnBase;
      gg -= exponent / base;
    }
  }
  if (gradient !== null) {
    gradient[0] = gp;
    gradient[1] = gq;
    gradient[2] = gg;
  }
  return total;
}

/** Total Gamma-Gamma log-likelihood of the spends under `g`. */
export function gammaGammaLogLikelihood(g: GammaGammaParams, s: SpendHistory): number {
  checkGammaGammaParams(g);
  return gammaGammaTotal(prepareGammaGamma(s), g.p, g.q, g.gamma, null);
}

/**
 * Maximum-likelihood Gamma-Gamma fit on customers with x > 0. Starts from p = 1, q = 2 and γ =
 * the mean spend (so the starting population mean p·γ/(q−1) is the observed one).
 */
export function fitGammaGamma(s: SpendHistory, options: { maxIterations?: number } = {}): { params: GammaGammaParams } & FitDiagnostics {
  const data = prepareGammaGamma(s);
  const maxIterations = options.maxIterations ?? 500;
  let meanSpend = 0;
  for (let i = 0; i < data.customers; i++) meanSpend += s.meanSpend[i]! / data.customers;
  const raw = new Float64Array(3);
  const objective: ObjectiveWithGradient = (theta, gradient) => {
    for (let i = 0; i < 3; i++) if (!(Math.abs(theta[i]!) <= LOG_BOUND)) return Number.NaN;
    const p = Math.exp(theta[0]!);
    const q = Math.exp(theta[1]!);
    const gamma = Math.exp(theta[2]!);
    const ll = gammaGammaTotal(data, p, q, gamma, raw);
    const scale = -1 / data.customers;
    gradient[0] = scale * raw[0]! * p;
    gradient[1] = scale * raw[1]! * q;
    gradient[2] = scale * raw[2]! * gamma;
    return scale * ll;
  };
  let theta: Float64Array = Float64Array.of(0, Math.LN2, Math.log(meanSpend));
  let iterations = 0;
  let converged = false;
  for (let pass = 0; pass < 2 && iterations < maxIterations; pass++) {
    const result = minimizeBfgs(objective, theta, { maxIterations: maxIterations - iterations, gradientTolerance: 1e-9 });
    iterations += result.iterations;
    theta = result.x;
    converged = result.converged;
    if (!converged) break;
  }
  const params = { p: Math.exp(theta[0]!), q: Math.exp(theta[1]!), gamma: Math.exp(theta[2]!) };
  return { params, logLikelihood: gammaGammaTotal(data, params.p, params.q, params.gamma, null), iterations, converged, customers: data.customers };
}

/**
 * E[mean spend | x, m̄] = (p·γ + p·x·m̄) / (p·x + q − 1): a weighted average of the population mean
 * p·γ/(q−1) and the customer's own mean. For x = 0 it is the population mean; that is infinite
 * when q ≤ 1 (the spend distribution then has no mean).
 */
export function conditionalExpectedSpend(g: GammaGammaParams, x: number, meanSpend: number): number {
  checkGammaGammaParams(g);
  if (!(Number.isFinite(x) && x >= 0)) throw new Error(`conditionalExpectedSpend: x = ${x} must be a finite number ≥ 0`);
  if (!Number.isFinite(meanSpend)) throw new Error(`conditionalExpectedSpend: meanSpend = ${meanSpend} must be finite`);
  const denominator = g.p * x + g.q - 1;
  if (denominator <= 0) return Number.POSITIVE_INFINITY;
  return (g.p * g.gamma + g.p * x * (x > 0 ? meanSpend : 0)) / denominator;
}

// ---------------------------------------------------------------------------------------------
// Lifetime value

/** Ends of the discount periods within the horizon (the last one may be partial). */
function periodEnds(o: ClvOptions): Float64Array {
  if (o.horizon === 0) return new Float64Array(0);
  // The epsilon keeps 52 / (52/12) from becoming 13 periods through rounding.
  const periods = o.discountRate === 0 ? 1 : Math.max(1, Math.ceil(o.horizon / o.discountPeriod - 1e-9));
  return Float64Array.from({ length: periods }, (_, k) => (k === periods - 1 ? o.horizon : (k + 1) * o.discountPeriod));
}

/** Σ over discount periods of expected purchases in the period / (1 + rate)^(period end / period length). */
function discountedPurchases(p: BgNbdParams, x: number, T: number, ends: Float64Array, scratch: Float64Array, o: ClvOptions, aliveShare: number): { purchases: number; discounted: number } {
  if (ends.length === 0) return { purchases: 0, discounted: 0 };
  expectedIfActive(p, x, T, ends, scratch);
  let discounted = 0;
  let previous = 0;
  for (let k = 0; k < ends.length; k++) {
    const cumulative = scratch[k]!;
    discounted += (cumulative - previous) / Math.pow(1 + o.discountRate, ends[k]! / o.discountPeriod);
    previous = cumulative;
  }
  return { purchases: aliveShare * previous, discounted: aliveShare * discounted };
}

/**
 * CLV over `horizon` time units discounted at `discountRate` per `discountPeriod` units (e.g.
 * weeks: horizon 52, discount 0.01 per 4.345 weeks ≈ monthly), summing the expected purchases per
 * discount period × expected spend. Each period's purchases are discounted from the period's end
 * (as the `lifetimes` package does); a final partial period is discounted by the fractional power.
 */
export function predictClv(bg: BgNbdParams, gg: GammaGammaParams, customer: { x: number; tx: number; T: number; meanSpend: number }, options: ClvOptions): number {
  checkBgNbdParams(bg);
  checkGammaGammaParams(gg);
  checkClvOptions(options);
  checkCustomer(customer.x, customer.tx, customer.T, 'predictClv');
  const ends = periodEnds(options);
  const { discounted } = discountedPurchases(bg, customer.x, customer.T, ends, new Float64Array(ends.length), options, pAlive(bg, customer.x, customer.tx, customer.T));
  return discounted * conditionalExpectedSpend(gg, customer.x, customer.meanSpend);
}

/**
 * Vectorised scoring for many customers: expected purchases in `horizon`, P(alive), expected spend
 * and CLV. Without a spend model (`gg` null) the given meanSpend is taken as the expected spend as
 * it is. The expensive part is computed once per distinct (x, T).
 */
export function scoreCustomers(
  bg: BgNbdParams,
  gg: GammaGammaParams | null,
  h: RepeatHistory,
  meanSpend: Float64Array,
  options: ClvOptions,
): { expectedPurchases: Float64Array; pAlive: Float64Array; expectedSpend: Float64Array; clv: Float64Array } {
  checkBgNbdParams(bg);
  if (gg !== null) checkGammaGammaParams(gg);
  checkClvOptions(options);
  const n = checkLengths('scoreCustomers', { x: h.x, tx: h.tx, T: h.T, meanSpend });
  for (let i = 0; i < n; i++) {
    checkCustomer(h.x[i]!, h.tx[i]!, h.T[i]!, `scoreCustomers: customer ${i}`);
    if (!Number.isFinite(meanSpend[i]!)) throw new Error(`scoreCustomers: customer ${i}: meanSpend = ${meanSpend[i]} must be finite`);
  }
  const expectedPurchases = new Float64Array(n);
  const alive = new Float64Array(n);
  const expectedSpend = new Float64Array(n);
  const clv = new Float64Array(n);
  // The series part depends on x and T only, not tx, and real histories come in whole days, so
  // (x, T) pairs repeat a great deal; P(alive), the only part that needs tx, is cheap.
  const { first, groupOf } = groupRows(h.x, h.T, null);
  const ends = periodEnds(options);
  const scratch = new Float64Array(ends.length);
  const groupPurchases = new Float64Array(first.length);
  const groupDiscounted = new Float64Array(first.length);
  for (let g = 0; g < first.length; g++) {
    const i = first[g]!;
    const { purchases, discounted } = discountedPurchases(bg, h.x[i]!, h.T[i]!, ends, scratch, options, 1);
    groupPurchases[g] = purchases;
    groupDiscounted[g] = discounted;
  }
  for (let i = 0; i < n; i++) {
    const g = groupOf[i]!;
    const share = 1 / (1 + Math.exp(lnDeadOdds(bg, h.x[i]!, h.tx[i]!, h.T[i]!)));
    alive[i] = share;
    expectedPurchases[i] = share * groupPurchases[g]!;
    const spend = gg === null ? meanSpend[i]! : conditionalExpectedSpend(gg, h.x[i]!, meanSpend[i]!);
    expectedSpend[i] = spend;
    clv[i] = share * groupDiscounted[g]! * spend;
  }
  return { expectedPurchases, pAlive: alive, expectedSpend, clv };
}

/**
 * Fit diagnostic: for each number of calibration repeat purchases 0..maxX (the last bucket is
 * "maxX or more"), the mean actual hold-out purchases vs the model's conditional expectation over
 * the hold-out period (FHL 2005, figure 4). Empty buckets are reported with zeros.
 */
export function calibrationVsHoldout(
  p: BgNbdParams,
  h: RepeatHistory,
  holdoutPurchases: Float64Array,
  holdoutLength: number,
  maxX = 7,
): Array<{ x: number; customers: number; actual: number; predicted: number }> {
  checkBgNbdParams(p);
  const n = checkRepeatHistory(h);
  checkLengths('calibrationVsHoldout', { x: h.x, holdoutPurchases });
  if (!(Number.isFinite(holdoutLength) && holdoutLength >= 0)) throw new Error(`calibrationVsHoldout: holdoutLength = ${holdoutLength} must be a finite number ≥ 0`);
  if (!(Number.isInteger(maxX) && maxX >= 0)) throw new Error(`calibrationVsHoldout: maxX = ${maxX} must be a non-negative integer`);
  const customers = new Float64Array(maxX + 1);
  const actual = new Float64Array(maxX + 1);
  const predicted = new Float64Array(maxX + 1);
  const { first, weight } = groupRows(h.x, h.tx, h.T);
  for (let g = 0; g < first.length; g++) {
    const i = first[g]!;
    const bucket = Math.min(h.x[i]!, maxX);
    customers[bucket] = customers[bucket]! + weight[g]!;
    predicted[bucket] = predicted[bucket]! + weight[g]! * conditionalExpectedPurchases(p, holdoutLength, h.x[i]!, h.tx[i]!, h.T[i]!);
  }
  for (let i = 0; i < n; i++) {
    const y = holdoutPurchases[i]!;
    if (!(Number.isFinite(y) && y >= 0)) throw new Error(`calibrationVsHoldout: holdoutPurchases[${i}] = ${y} must be a finite number ≥ 0`);
    const bucket = Math.min(h.x[i]!, maxX);
    actual[bucket] = actual[bucket]! + y;
  }
  return Array.from({ length: maxX + 1 }, (_, x) => {
    const c = customers[x]!;
    return { x, customers: c, actual: c > 0 ? actual[x]! / c : 0, predicted: c > 0 ? predicted[x]! / c : 0 };
  });
}

// ---------------------------------------------------------------------------------------------
// From transactions

export interface TransactionSummary {
  /** the distinct customer ids acquired by the calibration end, ascending; row i of the rest is customer customerIds[i] */
  customerIds: Float64Array;
  history: RepeatHistory;
  /** mean of the repeat purchase days' totals; 0 when x = 0 */
  meanSpend: Float64Array;
  /** distinct purchase days after the calibration end, up to and including holdoutEndDay */
  holdoutPurchases: Float64Array;
}

/**
 * Repeat-purchase histories from raw transactions, one row per transaction (any order).
 *
 * Day numbers are fractional days since any fixed origin (e.g. the epoch); a purchase's day is
 * floor(dayNumber), so shift timestamps by the time-zone offset first if days should be local.
 * Several purchases on one day count as one, whose amount is the day's total. The first purchase
 * day is not a repeat. T runs from the first purchase day to the calibration end day, tx from the
 * first purchase day to the last repeat purchase day, both divided by `daysPerUnit` (7: weeks).
 * Customers whose first purchase is after the calibration end are left out.
 */
export function repeatHistoryFromTransactions(
  customerIds: ArrayLike<number>,
  dayNumbers: ArrayLike<number>,
  amounts: ArrayLike<number>,
  calibrationEndDay: number,
  options: { holdoutEndDay?: number; daysPerUnit?: number } = {},
): TransactionSummary {
  const n = checkLengths('repeatHistoryFromTransactions', { customerIds, dayNumbers, amounts });
  const daysPerUnit = options.daysPerUnit ?? 7;
  if (!(Number.isFinite(daysPerUnit) && daysPerUnit > 0)) throw new Error(`repeatHistoryFromTransactions: daysPerUnit = ${daysPerUnit} must be a finite number > 0`);
  if (!Number.isFinite(calibrationEndDay)) throw new Error(`repeatHistoryFromTransactions: calibrationEndDay = ${calibrationEndDay} must be finite`);
  const calibrationEnd = Math.floor(calibrationEndDay);
  const holdoutEnd = options.holdoutEndDay === undefined ? Number.POSITIVE_INFINITY : Math.floor(options.holdoutEndDay);
  if (Number.isNaN(holdoutEnd) || holdoutEnd < calibrationEnd) throw new Error(`repeatHistoryFromTransactions: holdoutEndDay = ${options.holdoutEndDay} must not be before calibrationEndDay`);
  const days = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(customerIds[i]!)) throw new Error(`repeatHistoryFromTransactions: customerIds[${i}] = ${customerIds[i]} must be finite`);
    if (!Number.isFinite(dayNumbers[i]!)) throw new Error(`repeatHistoryFromTransactions: dayNumbers[${i}] = ${dayNumbers[i]} must be finite`);
    if (!Number.isFinite(amounts[i]!)) throw new Error(`repeatHistoryFromTransactions: amounts[${i}] = ${amounts[i]} must be finite`);
    days[i] = Math.floor(dayNumbers[i]!);
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((i, j) => customerIds[i]! - customerIds[j]! || days[i]! - days[j]!);
  const ids: number[] = [];
  const x: number[] = [];
  const tx: number[] = [];
  const T: number[] = [];
  const spend: number[] = [];
  const holdout: number[] = [];
  let k = 0;
  while (k < n) {
    const id = customerIds[order[k]!]!;
    const firstDay = days[order[k]!]!;
    let repeats = 0;
    let lastRepeat = firstDay;
    let repeatTotal = 0;
    let later = 0;
    let day = Number.NaN;
    for (; k < n && customerIds[order[k]!] === id; k++) {
      const i = order[k]!;
      const d = days[i]!;
      const newDay = d !== day;
      day = d;
      if (d === firstDay || d > holdoutEnd) continue;
      if (d <= calibrationEnd) {
        if (newDay) {
          repeats++;
          lastRepeat = d;
        }
        repeatTotal += amounts[i]!;
      } else if (newDay) later++;
    }
    if (firstDay > calibrationEnd) continue;
    ids.push(id);
    x.push(repeats);
    tx.push(repeats > 0 ? (lastRepeat - firstDay) / daysPerUnit : 0);
    T.push((calibrationEnd - firstDay) / daysPerUnit);
    spend.push(repeats > 0 ? repeatTotal / repeats : 0);
    holdout.push(later);
  }
  return {
    customerIds: Float64Array.from(ids),
    history: { x: Float64Array.from(x), tx: Float64Array.from(tx), T: Float64Array.from(T) },
    meanSpend: Float64Array.from(spend),
    holdoutPurchases: Float64Array.from(holdout),
  };
}

// ---------------------------------------------------------------------------------------------
// Simulation (tests, benchmarks, what-if)

function standardNormal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A Gamma(shape, rate 1) draw: Marsaglia & Tsang (2000), boosted by U^(1/shape) for shape < 1. */
function gammaDraw(random: () => number, shape: number): number {
  if (shape < 1) return gammaDraw(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = standardNormal(random);
    let v = 1 + c * z;
    if (v <= 0) continue;
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * z * z * z * z || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Customers drawn from the BG/NBD story with the given ages T: λ ~ Gamma(r, α), p ~ Beta(a, b),
 * purchases at Poisson rate λ, and after each repeat purchase the customer drops out with
 * probability p. Purchases in (T, T + holdoutLength] are counted in `holdoutPurchases`.
 */
export function simulateBgNbd(params: BgNbdParams, T: Float64Array, seed: number, holdoutLength = 0): { history: RepeatHistory; holdoutPurchases: Float64Array } {
  checkBgNbdParams(params);
  const random = seededRandom(seed);
  const n = T.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const holdout = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const age = T[i]!;
    if (!(Number.isFinite(age) && age >= 0)) throw new Error(`simulateBgNbd: T[${i}] = ${age} must be a finite number ≥ 0`);
    const lambda = gammaDraw(random, params.r) / params.alpha;
    const g1 = gammaDraw(random, params.a);
    const g2 = gammaDraw(random, params.b);
    const p = g1 + g2 > 0 ? g1 / (g1 + g2) : 0.5;
    if (!(lambda > 0)) continue;
    const end = age + holdoutLength;
    let t = 0;
    for (;;) {
      t += -Math.log(1 - random()) / lambda;
      if (t > end) break;
      if (t <= age) {
        x[i] = x[i]! + 1;
        tx[i] = t;
      } else holdout[i] = holdout[i]! + 1;
      if (random() < p) break;
    }
  }
  return { history: { x, tx, T: Float64Array.from(T) }, holdoutPurchases: holdout };
}

/** Mean spends drawn from the Gamma-Gamma story: ν ~ Gamma(q, γ), each spend ~ Gamma(p, ν); 0 where x = 0. */
export function simulateGammaGamma(params: GammaGammaParams, x: Float64Array, seed: number): Float64Array {
  checkGammaGammaParams(params);
  const random = seededRandom(seed);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const nu = gammaDraw(random, params.q) / params.gamma;
    const xi = x[i]!;
    // The mean of x Gamma(p, ν) spends is Gamma(p·x, x·ν).
    if (xi > 0) out[i] = gammaDraw(random, params.p * xi) / (xi * nu);
  }
  return out;
}
