/**
 * bench/clv: fit and scoring times of the CLV models (src/analytics/clv.ts), each next to a naive
 * baseline measured in the same run:
 *
 * - BG/NBD fit on CDNOW (cdnow_customers_summary.csv, 2,357 customers): median of --repeat runs;
 *   goal < 100 ms. Baseline: Nelder–Mead without gradients on the log-likelihood evaluated
 *   customer by customer (log-gamma terms per customer, no grouping).
 * - BG/NBD fit on --scale simulated customers (default 1,000,000): goal < 10 s. Times are whole
 *   days / 7, as the database gives them, so identical histories exist (mostly x = 0 of one age).
 *   The baseline runs on --naive-scale customers (default 50,000) of the same simulation, and its
 *   per-customer time is compared.
 * - Gamma-Gamma fit on CDNOW's 946 repeat customers (median) and on the simulated repeat customers;
 *   baseline Nelder–Mead per customer as above.
 * - Scoring (expected purchases, P(alive), spend, CLV over 52 weeks at 1 % per 4.345 weeks) of the
 *   simulated customers with scoreCustomers; baseline: per customer, the single-customer
 *   functions, one conditional expectation per discount period (on --naive-scale customers).
 *
 *   npx tsx bench/clv.ts [--repeat 7] [--scale 1000000] [--naive-scale 100000] [--seed 42]
 *
 * Writes bench/results/clv-YYYY-MM-DD.json. CDNOW comes from
 * ${CUSTODIAN_DATASETS ?? '../shared/datasets'}/cdnow; without it those rows are skipped.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  conditionalExpectedPurchases,
  conditionalExpectedSpend,
  fitBgNbd,
  fitGammaGamma,
  lnGamma,
  pAlive,
  scoreCustomers,
  simulateBgNbd,
  simulateGammaGamma,
  type BgNbdParams,
  type GammaGammaParams,
  type RepeatHistory,
  type SpendHistory,
} from '../src/analytics/clv.js';
import { minimizeNelderMead } from '../src/analytics/optimize.js';
import { seededRandom } from '../src/analytics/random.js';

const { values: args } = parseArgs({
  options: { repeat: { type: 'string' }, scale: { type: 'string' }, 'naive-scale': { type: 'string' }, seed: { type: 'string' } },
});
const REPEAT = Math.max(1, Number(args.repeat ?? 7));
const SCALE = Number(args.scale ?? 1_000_000);
const NAIVE_SCALE = Math.min(SCALE, Number(args['naive-scale'] ?? 50_000));
const SEED = Number(args.seed ?? 42);
const CDNOW_GOAL_MS = 100;
const SCALE_GOAL_S = 10;
const CLV_OPTIONS = { horizon: 52, discountRate: 0.01, discountPeriod: 4.345 };
const SIM_BG: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const SIM_GG: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };

const log = (line: string): void => console.log(line);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
function timed<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}
function medianOf<T>(runs: number, run: () => T): { value: T; ms: number; runsMs: number[] } {
  run(); // warm-up: JIT, not measured
  const runsMs: number[] = [];
  let value = run();
  for (let i = 0; i < runs; i++) {
    const t = timed(run);
    value = t.value;
    runsMs.push(t.ms);
  }
  return { value, ms: median(runsMs), runsMs };
}

// ----- naive baselines: per customer, no grouping, no gradient

function naiveBgNbdLogLikelihood(p: BgNbdParams, h: RepeatHistory): number {
  let total = 0;
  for (let i = 0; i < h.x.length; i++) {
    const x = h.x[i]!;
    const base = lnGamma(p.r + x) - lnGamma(p.r) + p.r * Math.log(p.alpha) + lnGamma(p.a + p.b) + lnGamma(p.b + x) - lnGamma(p.b) - lnGamma(p.a + p.b + x);
    const a3 = -(p.r + x) * Math.log(p.alpha + h.T[i]!);
    if (x === 0) {
      total += base + a3;
      continue;
    }
    const a4 = Math.log(p.a) - Math.log(p.b + x - 1) - (p.r + x) * Math.log(p.alpha + h.tx[i]!);
    const m = Math.max(a3, a4);
    total += base + m + Math.log(Math.exp(a3 - m) + Math.exp(a4 - m));
  }
  return total;
}

function naiveFitBgNbd(h: RepeatHistory): { params: BgNbdParams; logLikelihood: number; evaluations: number } {
  const toParams = (t: Float64Array): BgNbdParams => ({ r: Math.exp(t[0]!), alpha: Math.exp(t[1]!), a: Math.exp(t[2]!), b: Math.exp(t[3]!) });
  const result = minimizeNelderMead((t) => -naiveBgNbdLogLikelihood(toParams(t), h) / h.x.length, new Float64Array(4), { valueTolerance: 1e-12, maxEvaluations: 50_000 });
  const params = toParams(result.x);
  return { params, logLikelihood: naiveBgNbdLogLikelihood(params, h), evaluations: result.evaluations };
}

function naiveGammaGammaLogLikelihood(g: GammaGammaParams, s: SpendHistory): number {
  let total = 0;
  for (let i = 0; i < s.x.length; i++) {
    const x = s.x[i]!;
    const m = s.meanSpend[i]!;
    const px = g.p * x;
    total += lnGamma(px + g.q) - lnGamma(px) - lnGamma(g.q) + g.q * Math.log(g.gamma) + (px - 1) * Math.log(m) + px * Math.log(x) - (px + g.q) * Math.log(g.gamma + m * x);
  }
  return total;
}

function naiveFitGammaGamma(s: SpendHistory): { params: GammaGammaParams; logLikelihood: number; evaluations: number } {
  const toParams = (t: Float64Array): GammaGammaParams => ({ p: Math.exp(t[0]!), q: Math.exp(t[1]!), gamma: Math.exp(t[2]!) });
  const result = minimizeNelderMead((t) => -naiveGammaGammaLogLikelihood(toParams(t), s) / s.x.length, new Float64Array(3), { valueTolerance: 1e-12, maxEvaluations: 50_000 });
  const params = toParams(result.x);
  return { params, logLikelihood: naiveGammaGammaLogLikelihood(params, s), evaluations: result.evaluations };
}

function naiveScore(bg: BgNbdParams, gg: GammaGammaParams, h: RepeatHistory, meanSpend: Float64Array): Float64Array {
  const { horizon, discountRate, discountPeriod } = CLV_OPTIONS;
  const periods = Math.ceil(horizon / discountPeriod - 1e-9);
  const clv = new Float64Array(h.x.length);
  for (let i = 0; i < h.x.length; i++) {
    const x = h.x[i]!;
    const tx = h.tx[i]!;
    const T = h.T[i]!;
    let previous = 0;
    let value = 0;
    for (let k = 1; k <= periods; k++) {
      const end = Math.min(k * discountPeriod, horizon);
      const cumulative = conditionalExpectedPurchases(bg, end, x, tx, T);
      value += (cumulative - previous) / (1 + discountRate) ** (end / discountPeriod);
      previous = cumulative;
    }
    pAlive(bg, x, tx, T);
    clv[i] = value * conditionalExpectedSpend(gg, x, meanSpend[i]!);
  }
  return clv;
}

// ----- data

function loadCdnow(): { history: RepeatHistory; spend: SpendHistory } | string {
  const dir = resolve(process.env.CUSTODIAN_DATASETS ?? '../shared/datasets', 'cdnow');
  const summaryFile = join(dir, 'cdnow_customers_summary.csv');
  const spendFile = join(dir, 'cdnow_customers_summary_with_transactions.csv');
  if (!existsSync(summaryFile) || !existsSync(spendFile)) return `CDNOW files not found in ${dir}`;
  const rows = (file: string): number[][] => readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(',').map(Number));
  const s = rows(summaryFile);
  const w = rows(spendFile).filter((r) => r[1]! > 0);
  return {
    history: { x: Float64Array.from(s, (r) => r[1]!), tx: Float64Array.from(s, (r) => r[2]!), T: Float64Array.from(s, (r) => r[3]!) },
    spend: { x: Float64Array.from(w, (r) => r[1]!), meanSpend: Float64Array.from(w, (r) => r[4]!) },
  };
}

/** Customers acquired on whole days over a year, purchase times rounded up to whole days (weeks = days / 7). */
function simulate(n: number, seed: number): { history: RepeatHistory; meanSpend: Float64Array } {
  const random = seededRandom(seed);
  const T = Float64Array.from({ length: n }, () => (1 + Math.floor(random() * 364)) / 7);
  const { history } = simulateBgNbd(SIM_BG, T, seed + 1);
  for (let i = 0; i < n; i++) if (history.x[i]! > 0) history.tx[i] = Math.min(Math.ceil(history.tx[i]! * 7) / 7, T[i]!);
  const meanSpend = simulateGammaGamma(SIM_GG, history.x, seed + 2);
  for (let i = 0; i < n; i++) if (history.x[i]! > 0) meanSpend[i] = Math.round(meanSpend[i]! * 100) / 100 || 0.01;
  return { history, meanSpend };
}

function slice(h: RepeatHistory, n: number): RepeatHistory {
  return { x: h.x.subarray(0, n), tx: h.tx.subarray(0, n), T: h.T.subarray(0, n) };
}

function repeaters(h: RepeatHistory, meanSpend: Float64Array): SpendHistory {
  const keep: number[] = [];
  for (let i = 0; i < h.x.length; i++) if (h.x[i]! > 0) keep.push(i);
  return { x: Float64Array.from(keep, (i) => h.x[i]!), meanSpend: Float64Array.from(keep, (i) => meanSpend[i]!) };
}

// ----- runs

interface Row {
  task: string;
  customers: number;
  oursMs: number;
  naiveMs?: number;
  /** customers the baseline ran on, when fewer (its time is then scaled per customer) */
  naiveCustomers?: number;
  ratio?: number;
  goal?: string;
  detail: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const fmtParams = (p: object): string => Object.entries(p).map(([k, v]) => `${k} ${(v as number).toPrecision(4)}`).join(', ');

const cdnow = loadCdnow();
if (typeof cdnow === 'string') notes.push(`${cdnow}: CDNOW rows skipped (set CUSTODIAN_DATASETS to the folder holding cdnow/)`);
else {
  const ours = medianOf(REPEAT, () => fitBgNbd(cdnow.history));
  const naive = medianOf(Math.min(REPEAT, 3), () => naiveFitBgNbd(cdnow.history));
  rows.push({
    task: 'BG/NBD fit, CDNOW',
    customers: cdnow.history.x.length,
    oursMs: ours.ms,
    naiveMs: naive.ms,
    ratio: naive.ms / ours.ms,
    goal: `< ${CDNOW_GOAL_MS} ms: ${ours.ms < CDNOW_GOAL_MS ? 'met' : 'MISSED'}`,
    detail: `${fmtParams(ours.value.params)}, LL ${ours.value.logLikelihood.toFixed(2)}, ${ours.value.iterations} BFGS iterations; naive LL ${naive.value.logLikelihood.toFixed(2)} after ${naive.value.evaluations} evaluations`,
  });
  const gg = medianOf(REPEAT, () => fitGammaGamma(cdnow.spend));
  const ggNaive = medianOf(Math.min(REPEAT, 3), () => naiveFitGammaGamma(cdnow.spend));
  rows.push({
    task: 'Gamma-Gamma fit, CDNOW',
    customers: cdnow.spend.x.length,
    oursMs: gg.ms,
    naiveMs: ggNaive.ms,
    ratio: ggNaive.ms / gg.ms,
    detail: `${fmtParams(gg.value.params)}, LL ${gg.value.logLikelihood.toFixed(2)}; naive LL ${ggNaive.value.logLikelihood.toFixed(2)} after ${ggNaive.value.evaluations} evaluations`,
  });
}

if (SCALE > 0) {
  const sim = timed(() => simulate(SCALE, SEED));
  notes.push(`simulated ${SCALE.toLocaleString('en')} customers (r ${SIM_BG.r}, α ${SIM_BG.alpha}, a ${SIM_BG.a}, b ${SIM_BG.b}; p ${SIM_GG.p}, q ${SIM_GG.q}, γ ${SIM_GG.gamma}) in ${(sim.ms / 1000).toFixed(1)} s`);
  const { history, meanSpend } = sim.value;
  const perCustomer = (ms: number, n: number): number => (ms / n) * SCALE;

  const fit = timed(() => fitBgNbd(history));
  const naive = timed(() => naiveFitBgNbd(slice(history, NAIVE_SCALE)));
  const naiveScaled = perCustomer(naive.ms, NAIVE_SCALE);
  rows.push({
    task: 'BG/NBD fit, simulated',
    customers: SCALE,
    oursMs: fit.ms,
    naiveMs: naiveScaled,
    naiveCustomers: NAIVE_SCALE,
    ratio: naiveScaled / fit.ms,
    goal: `< ${SCALE_GOAL_S} s: ${fit.ms < SCALE_GOAL_S * 1000 ? 'met' : 'MISSED'}`,
    detail: `${fmtParams(fit.value.params)}, LL ${fit.value.logLikelihood.toFixed(1)}, ${fit.value.iterations} iterations, converged ${fit.value.converged}; naive ${naive.value.evaluations} evaluations`,
  });

  const spend = repeaters(history, meanSpend);
  const gg = timed(() => fitGammaGamma(spend));
  const naiveSpend = { x: spend.x.subarray(0, Math.min(spend.x.length, NAIVE_SCALE)), meanSpend: spend.meanSpend.subarray(0, Math.min(spend.x.length, NAIVE_SCALE)) };
  const ggNaive = timed(() => naiveFitGammaGamma(naiveSpend));
  const ggNaiveScaled = (ggNaive.ms / naiveSpend.x.length) * spend.x.length;
  rows.push({
    task: 'Gamma-Gamma fit, simulated repeaters',
    customers: spend.x.length,
    oursMs: gg.ms,
    naiveMs: ggNaiveScaled,
    naiveCustomers: naiveSpend.x.length,
    ratio: ggNaiveScaled / gg.ms,
    detail: `${fmtParams(gg.value.params)}, ${gg.value.iterations} iterations; naive ${ggNaive.value.evaluations} evaluations`,
  });

  const score = timed(() => scoreCustomers(fit.value.params, gg.value.params, history, meanSpend, CLV_OPTIONS));
  const scoreNaive = timed(() => naiveScore(fit.value.params, gg.value.params, slice(history, NAIVE_SCALE), meanSpend.subarray(0, NAIVE_SCALE)));
  let worst = 0;
  for (let i = 0; i < NAIVE_SCALE; i++) worst = Math.max(worst, Math.abs(scoreNaive.value[i]! - score.value.clv[i]!) / Math.max(1, Math.abs(scoreNaive.value[i]!)));
  let total = 0;
  for (let i = 0; i < SCALE; i++) total += score.value.clv[i]!;
  const scoreNaiveScaled = perCustomer(scoreNaive.ms, NAIVE_SCALE);
  rows.push({
    task: 'scoring (52 weeks, 1 % / 4.345 w)',
    customers: SCALE,
    oursMs: score.ms,
    naiveMs: scoreNaiveScaled,
    naiveCustomers: NAIVE_SCALE,
    ratio: scoreNaiveScaled / score.ms,
    detail: `mean CLV ${(total / SCALE).toFixed(2)}; largest relative difference from the baseline ${worst.toExponential(1)}`,
  });
}

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const table = [
  ['task', 'customers', 'ours', 'naive', 'naive ÷ ours', 'goal'],
  ...rows.map((r) => [
    r.task,
    r.customers.toLocaleString('en'),
    fmtMs(r.oursMs),
    r.naiveMs === undefined ? '—' : `${fmtMs(r.naiveMs)}${r.naiveCustomers !== undefined ? ` (scaled from ${r.naiveCustomers.toLocaleString('en')})` : ''}`,
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(1)}×`,
    r.goal ?? '—',
  ]),
];
const widths = table[0]!.map((_, j) => Math.max(...table.map((row) => [...row[j]!].length)));
log(`CLV models: median of ${REPEAT} runs on CDNOW (after a warm-up), single runs at scale; one thread`);
for (const row of table) log(row.map((cell, j) => cell + ' '.repeat(widths[j]! - [...cell].length)).join('  '));
for (const r of rows) log(`${r.task}: ${r.detail}`);
for (const n of notes) log(`note: ${n}`);

const report = {
  bench: 'clv',
  at: new Date().toISOString(),
  node: process.version,
  args: { repeat: REPEAT, scale: SCALE, naiveScale: NAIVE_SCALE, seed: SEED },
  notes: [
    'naive baseline: Nelder–Mead (no gradient) on the log-likelihood evaluated per customer, no grouping; scoring baseline: single-customer functions, one conditional expectation per discount period',
    'baselines at scale run on naiveScale customers and are scaled per customer',
    ...notes,
  ],
  results: rows,
};
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}clv-${report.at.slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
log(`\nresults written to ${file}`);
