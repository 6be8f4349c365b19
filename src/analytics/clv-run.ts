import type { Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { calibrationVsHoldout, fitBgNbd, fitGammaGamma, repeatHistoryFromTransactions, scoreCustomers, type BgNbdParams, type GammaGammaParams } from './clv.js';
import { AnalyticsInputError, recorded } from './jobs.js';
import { loadOrders, replaceScores } from './queries.js';

/**
 * Lifetime value: BG/NBD on each customer's repeat purchases (distinct days
 * with a kept order, in weeks) and Gamma-Gamma on their mean repeat spend,
 * then per profile the expected purchases over the horizon, P(alive) and the
 * discounted CLV, written as the scores `expected_purchases`, `p_alive` and
 * `clv`. A second fit that stops `holdoutDays` before the end is compared
 * with what customers then bought: the fit diagnostic.
 */

const DAY = 86_400_000;
const WEEKS_PER_MONTH = 52 / 12;

export interface ClvParams {
  /** the last day of data used, YYYY-MM-DD (UTC); default today */
  end?: string;
  /** days before `end` held out for the diagnostic; default a third of the span, at most 26 weeks; 0 for none */
  holdoutDays?: number;
  horizonDays?: number;
  /** yearly discount rate, applied monthly */
  discountRate?: number;
  /** false to fit without touching the profiles' scores (a back-test on an earlier `end`); default true */
  scores?: boolean;
}

export interface ClvDiagnostics {
  calibrationEnd: string;
  holdoutDays: number;
  params: BgNbdParams;
  /** by calibration repeat purchases (the last bucket is "that many or more"): mean hold-out purchases, actual and predicted */
  buckets: Array<{ x: number; customers: number; actual: number; predicted: number }>;
  customers: number;
  totalActual: number;
  totalPredicted: number;
}

export interface ClvReport {
  end: string;
  unit: 'week';
  horizonDays: number;
  discountRate: number;
  customers: number;
  bgnbd: { params: BgNbdParams; logLikelihood: number; iterations: number; converged: boolean };
  /** null when fewer than 10 customers bought twice: there is no repeat spend to fit */
  gammaGamma: { params: GammaGammaParams; logLikelihood: number; customers: number } | null;
  summary: { customers: number; totalClv: number; meanClv: number; medianClv: number; meanPAlive: number; expectedPurchases: number };
  distribution: Array<{ lower: number; upper: number; count: number }>;
  diagnostics: ClvDiagnostics | null;
  /** whether this fit wrote the profiles' scores */
  scored: boolean;
  warnings: string[];
}

function dayOf(text: string, field: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const day = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY : Number.NaN;
  if (!m || !Number.isFinite(day) || new Date(day * DAY).toISOString().slice(0, 10) !== text) throw new AnalyticsInputError(field, `${text} is not a date (YYYY-MM-DD)`);
  return day;
}

const isoDay = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

function histogram(values: Float64Array, bins: number): Array<{ lower: number; upper: number; count: number }> {
  if (values.length === 0) return [];
  const sorted = Float64Array.from(values).sort();
  // The top percent would stretch every bin; it goes in the last one.
  const top = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
  const low = Math.min(0, sorted[0]!);
  const width = top > low ? (top - low) / bins : 1;
  const out = Array.from({ length: bins }, (_, i) => ({ lower: low + i * width, upper: i === bins - 1 ? sorted[sorted.length - 1]! : low + (i + 1) * width, count: 0 }));
  for (const v of sorted) out[Math.min(bins - 1, Math.max(0, Math.floor((v - low) / width)))]!.count += 1;
  return out;
}

export async function runClv(db: Kysely<Schema>, workspaceId: string, params: ClvParams, now = new Date(), onStarted?: (id: string) => void): Promise<{ runId: string; result: ClvReport }> {
  const endDay = params.end !== undefined ? dayOf(params.end, 'end') : Math.floor(now.getTime() / DAY);
  const horizonDays = params.horizonDays ?? 365;
  const discountRate = params.discountRate ?? 0.1;
  if (!(horizonDays > 0 && horizonDays <= 3650)) throw new AnalyticsInputError('horizonDays', 'must be from 1 to 3650 days');
  if (!(discountRate >= 0 && discountRate < 1)) throw new AnalyticsInputError('discountRate', 'must be a yearly rate from 0 up to 1 (e.g. 0.1 for 10%)');
  if (params.holdoutDays !== undefined && !(Number.isInteger(params.holdoutDays) && params.holdoutDays >= 0)) throw new AnalyticsInputError('holdoutDays', 'must be a whole number of days ≥ 0');
  return recorded(db, workspaceId, 'clv', { ...params, end: isoDay(endDay), horizonDays, discountRate }, async (report) => {
    await report({ stage: 'load', done: 0 }, true);
    const orders = await loadOrders(db, workspaceId, new Date((endDay + 1) * DAY - 1), (done) => void report({ stage: 'load', done }));
    const all = repeatHistoryFromTransactions(orders.customer, orders.day, orders.amount, endDay);
    const customers = all.history.x.length;
    if (customers < 10) throw new AnalyticsInputError('orders', `only ${customers} customers have an order up to ${isoDay(endDay)}; lifetime value needs at least 10`);
    await report({ stage: 'fit', done: 0, total: customers }, true);
    const bg = fitBgNbd(all.history);
    const repeaters: number[] = [];
    for (let i = 0; i < customers; i++) if (all.history.x[i]! > 0 && all.meanSpend[i]! > 0) repeaters.push(i);
    const gg =
      repeaters.length >= 10
        ? fitGammaGamma({ x: Float64Array.from(repeaters, (i) => all.history.x[i]!), meanSpend: Float64Array.from(repeaters, (i) => all.meanSpend[i]!) })
        : null;
    const warnings: string[] = [];
    if (!bg.converged) warnings.push('the BG/NBD fit stopped before converging: treat its figures with care');
    if (gg && !gg.converged) warnings.push('the Gamma-Gamma fit stopped before converging: treat its spend figures with care');
    let spend = all.meanSpend;
    if (!gg) {
      // No spend model: everyone is worth the average order, rather than nothing for those yet to buy twice.
      warnings.push(`only ${repeaters.length} customers bought on two days or more: spend is the average order value, not a Gamma-Gamma fit`);
      let sum = 0;
      for (const a of orders.amount) sum += a;
      const average = orders.amount.length > 0 ? sum / orders.amount.length : 0;
      spend = Float64Array.from(all.meanSpend, (m, i) => (all.history.x[i]! > 0 && m > 0 ? m : average));
    }
    const monthly = Math.pow(1 + discountRate, 1 / 12) - 1;
    const scored = scoreCustomers(bg.params, gg?.params ?? null, all.history, spend, { horizon: horizonDays / 7, discountRate: monthly, discountPeriod: WEEKS_PER_MONTH });

    let diagnostics: ClvDiagnostics | null = null;
    let firstDay = endDay;
    for (const d of orders.day) if (d < firstDay) firstDay = Math.floor(d);
    const span = endDay - firstDay;
    const holdoutDays = params.holdoutDays ?? Math.min(182, Math.floor(span / 3 / 7) * 7);
    if (holdoutDays > 0 && span - holdoutDays >= 28) {
      await report({ stage: 'diagnostics' }, true);
      const calibrationEnd = endDay - holdoutDays;
      const calibration = repeatHistoryFromTransactions(orders.customer, orders.day, orders.amount, calibrationEnd, { holdoutEndDay: endDay });
      if (calibration.history.x.length >= 10) {
        const fit = fitBgNbd(calibration.history);
        const buckets = calibrationVsHoldout(fit.params, calibration.history, calibration.holdoutPurchases, holdoutDays / 7, 7);
        let totalActual = 0;
        let totalPredicted = 0;
        for (const b of buckets) (totalActual += b.actual * b.customers), (totalPredicted += b.predicted * b.customers);
        diagnostics = { calibrationEnd: isoDay(calibrationEnd), holdoutDays, params: fit.params, buckets, customers: calibration.history.x.length, totalActual, totalPredicted };
      }
    }

    const ids = Array.from(all.customerIds, (c) => orders.profileIds[c]!);
    if (params.scores !== false) {
      await report({ stage: 'write', total: customers }, true);
      await replaceScores(db, workspaceId, [
      { name: 'clv', rows: ids.map((profileId, i) => ({ profileId, value: round2(scored.clv[i]!), label: null })) },
      { name: 'p_alive', rows: ids.map((profileId, i) => ({ profileId, value: round4(scored.pAlive[i]!), label: null })) },
      { name: 'expected_purchases', rows: ids.map((profileId, i) => ({ profileId, value: round4(scored.expectedPurchases[i]!), label: null })) },
      ], now);
    }

    const clvSorted = Float64Array.from(scored.clv).sort();
    let total = 0;
    let alive = 0;
    let expected = 0;
    for (let i = 0; i < customers; i++) (total += scored.clv[i]!), (alive += scored.pAlive[i]!), (expected += scored.expectedPurchases[i]!);
    return {
      end: isoDay(endDay),
      unit: 'week' as const,
      horizonDays,
      discountRate,
      customers,
      bgnbd: { params: bg.params, logLikelihood: bg.logLikelihood, iterations: bg.iterations, converged: bg.converged },
      gammaGamma: gg ? { params: gg.params, logLikelihood: gg.logLikelihood, customers: repeaters.length } : null,
      summary: { customers, totalClv: total, meanClv: total / customers, medianClv: clvSorted[Math.floor(customers / 2)]!, meanPAlive: alive / customers, expectedPurchases: expected },
      distribution: histogram(scored.clv, 10),
      diagnostics,
      scored: params.scores !== false,
      warnings,
    };
  }, onStarted);
}

const round2 = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
const round4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 10_000) / 10_000 : null);
