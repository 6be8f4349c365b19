/**
 * Business KPIs from counts: the definitions live here, as plain arithmetic,
 * so they can be checked by hand; kpi-queries.ts only counts. Every ratio is
 * null when its denominator is zero: "no buyers" is not "0 % repeat".
 * Dates are UTC calendar days; a window is [start, end) in instants.
 */

export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

const DAY_MS = 86_400_000;

/** A reporting bucket: `key` is the first day of its calendar period, start and end (inclusive) are clipped to the range. */
export interface Bucket {
  key: string;
  start: string;
  end: string;
}

/** A strict `YYYY-MM-DD` that names a real day, as midnight UTC; null otherwise (2026-02-30 is not a day). */
export function parseDay(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? date : null;
}

/** A strict `YYYY-MM` (month 01–12) as its first day, midnight UTC; null otherwise. */
export function parseMonth(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo] = [Number(m[1]), Number(m[2])];
  if (mo < 1 || mo > 12 || y < 1) return null;
  return new Date(Date.UTC(y, mo - 1, 1));
}

export const formatDay = (d: Date): string => d.toISOString().slice(0, 10);
export const formatMonth = (d: Date): string => d.toISOString().slice(0, 7);

/** Start of the calendar period holding `d`: the day, the ISO week (Monday, as PostgreSQL's date_trunc), the month. */
export function periodStart(d: Date, period: Period): Date {
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  if (period === 'day') return day;
  if (period === 'week') return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

/** `d` moved by n whole periods (months keep the day of month; callers pass period starts). */
export function addPeriods(d: Date, period: Period, n: number): Date {
  if (period === 'day') return new Date(d.getTime() + n * DAY_MS);
  if (period === 'week') return new Date(d.getTime() + 7 * n * DAY_MS);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate()));
}

/** The calendar periods that meet [from, to] (days, inclusive), the first and last clipped to the range. */
export function periodBuckets(from: Date, to: Date, period: Period): Bucket[] {
  const out: Bucket[] = [];
  const end = new Date(to.getTime() + DAY_MS);
  for (let s = periodStart(from, period); s < end; s = addPeriods(s, period, 1)) {
    const next = addPeriods(s, period, 1);
    out.push({ key: formatDay(s), start: formatDay(s < from ? from : s), end: formatDay(new Date((next < end ? next : end).getTime() - DAY_MS)) });
  }
  return out;
}

/** How many buckets a range would have, without making them: the API refuses absurd ones before any work. */
export function bucketCount(from: Date, to: Date, period: Period): number {
  if (period === 'day') return Math.floor((to.getTime() - from.getTime()) / DAY_MS) + 1;
  if (period === 'week') return Math.floor((periodStart(to, 'week').getTime() - periodStart(from, 'week').getTime()) / (7 * DAY_MS)) + 1;
  return (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth() + 1;
}

/** Every month `YYYY-MM` from the month of `from` to the month of `to`. */
export function monthsBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let m = periodStart(from, 'month'); m <= to; m = addPeriods(m, 'month', 1)) out.push(formatMonth(m));
  return out;
}

export const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

// ── Satisfaction ────────────────────────────────────────────────────────────

export interface SurveyCounts {
  /** NPS answers 9–10 */
  promoters: number;
  /** NPS answers 7–8 (anything from 7 up to but not including 9) */
  passives: number;
  /** NPS answers 0–6 (below 7) */
  detractors: number;
  /** CSAT answers 4 or 5 */
  csatSatisfied: number;
  /** CSAT answers 1–5 */
  csatResponses: number;
}

export const NO_SURVEYS: SurveyCounts = { promoters: 0, passives: 0, detractors: 0, csatSatisfied: 0, csatResponses: 0 };

/** Net Promoter Score, −100…100: % promoters − % detractors among all NPS answers. */
export function npsFromCounts(c: Pick<SurveyCounts, 'promoters' | 'passives' | 'detractors'>): number | null {
  const n = c.promoters + c.passives + c.detractors;
  return n > 0 ? ((c.promoters - c.detractors) / n) * 100 : null;
}

/** NPS of raw 0–10 answers; values outside 0–10 are not answers and are skipped. */
export function nps(scores: ArrayLike<number>): number | null {
  const c = { promoters: 0, passives: 0, detractors: 0 };
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s >= 0 && s <= 10)) continue;
    if (s >= 9) c.promoters++;
    else if (s >= 7) c.passives++;
    else c.detractors++;
  }
  return npsFromCounts(c);
}

/** CSAT, 0…100: % of 1–5 answers that are 4 or 5. */
export function csatFromCounts(satisfied: number, responses: number): number | null {
  return responses > 0 ? (satisfied / responses) * 100 : null;
}

/** CSAT of raw 1–5 answers; values outside 1–5 are skipped. */
export function csat(scores: ArrayLike<number>): number | null {
  let satisfied = 0;
  let responses = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s >= 1 && s <= 5)) continue;
    responses++;
    if (s >= 4) satisfied++;
  }
  return csatFromCounts(satisfied, responses);
}

// ── Orders and customers ────────────────────────────────────────────────────

/** What the database counts for one window (the whole range or a bucket). */
export interface WindowCounts {
  orders: number;
  revenue: number;
  /** distinct profiles with an order in the window */
  buyers: number;
  /** of those, the ones with two or more orders ever up to the window's end */
  repeatBuyers: number;
  /** profiles whose first order ever is in the window */
  firstTimeBuyers: number;
  /** distinct profiles with a track, page or screen event in the window */
  active: number;
  /** profiles first seen in the window */
  newCustomers: number;
  survey: SurveyCounts;
}

export const EMPTY_WINDOW: WindowCounts = { orders: 0, revenue: 0, buyers: 0, repeatBuyers: 0, firstTimeBuyers: 0, active: 0, newCustomers: 0, survey: NO_SURVEYS };

/** Buyers of the period before, and how many of them did not buy in this one. */
export interface ChurnCounts {
  previousBuyers: number;
  lost: number;
}

/** Running totals at a window's end: what "to date" figures divide. */
export interface ToDate {
  customers: number;
  buyers: number;
  revenue: number;
}

export interface KpiFigures {
  customers: { total: number; active: number; new: number; buyers: number };
  orders: number;
  revenue: number;
  averageOrderValue: number | null;
  purchaseFrequency: number | null;
  repeatPurchaseRate: number | null;
  churnRate: number | null;
  cltv: { historic: number | null; predicted: number | null };
  nps: number | null;
  npsResponses: number;
  csat: number | null;
  csatResponses: number;
  /**
   * (attributed revenue − campaign cost) / campaign cost of the window; null when nothing was spent.
   * Counted by activate (docs/attribution.md), which analytics may not import: windowFigures leaves
   * it null and the caller fills it in with withCampaignRoi.
   */
  campaignRoi: number | null;
}

/** A window the campaign return is asked for: instants [from, to). */
export interface RoiPeriod {
  key: string;
  from: Date;
  to: Date;
}

/** What campaign return a window had; cost and sent let a caller say why roi is null. */
export interface PeriodRoi {
  revenue: number;
  cost: number;
  sent: number;
  roi: number | null;
}

/**
 * The campaign return of several windows at once. Handed in by the server,
 * worker or CLI (which may import activate), so the one last-touch rule in
 * src/activate/attribution.ts is the only one.
 */
export type CampaignRoiSource = (periods: readonly RoiPeriod[]) => Promise<ReadonlyMap<string, PeriodRoi>>;

/** The key the whole range of a KPI answer goes by among its bucket keys (bucket keys are days). */
export const TOTAL_KEY = 'total';

/** The windows of a KPI answer as RoiPeriods: every bucket by its key (clipped days), and the range as TOTAL_KEY. */
export function roiPeriods(from: Date, to: Date, buckets: readonly Bucket[]): RoiPeriod[] {
  const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
  return [
    { key: TOTAL_KEY, from, to: new Date(to.getTime() + DAY_MS) },
    ...buckets.map((b) => ({ key: b.key, from: new Date(Date.parse(`${b.start}T00:00:00Z`)), to: dayAfter(b.end) })),
  ];
}

/** A KPI result with campaignRoi filled in from what a CampaignRoiSource answered for roiPeriods. */
export function withCampaignRoi(result: KpiResult, roi: ReadonlyMap<string, PeriodRoi>): KpiResult {
  const of = (key: string) => roi.get(key)?.roi ?? null;
  return {
    ...result,
    totals: { ...result.totals, campaignRoi: of(TOTAL_KEY) },
    buckets: result.buckets.map((b) => ({ ...b, campaignRoi: of(b.key) })),
  };
}

export const averageOrderValue = (revenue: number, orders: number): number | null => ratio(revenue, orders);
export const purchaseFrequency = (orders: number, buyers: number): number | null => ratio(orders, buyers);
export const repeatPurchaseRate = (repeatBuyers: number, buyers: number): number | null => ratio(repeatBuyers, buyers);
export const churnRate = (c: ChurnCounts): number | null => ratio(c.lost, c.previousBuyers);
export const historicCltv = (revenueToDate: number, buyersToDate: number): number | null => ratio(revenueToDate, buyersToDate);

/** The figures of one window from its counts. */
export function windowFigures(w: WindowCounts, toDate: ToDate, churn: ChurnCounts, predictedCltv: number | null): KpiFigures {
  const s = w.survey;
  return {
    customers: { total: toDate.customers, active: w.active, new: w.newCustomers, buyers: w.buyers },
    orders: w.orders,
    revenue: w.revenue,
    averageOrderValue: averageOrderValue(w.revenue, w.orders),
    purchaseFrequency: purchaseFrequency(w.orders, w.buyers),
    repeatPurchaseRate: repeatPurchaseRate(w.repeatBuyers, w.buyers),
    churnRate: churnRate(churn),
    cltv: { historic: historicCltv(toDate.revenue, toDate.buyers), predicted: predictedCltv },
    nps: npsFromCounts(s),
    npsResponses: s.promoters + s.passives + s.detractors,
    csat: csatFromCounts(s.csatSatisfied, s.csatResponses),
    csatResponses: s.csatResponses,
    campaignRoi: null,
  };
}

// ── Cohorts ─────────────────────────────────────────────────────────────────

export interface CohortCell {
  /** first-purchase month, YYYY-MM */
  cohort: string;
  /** months since the first purchase (0: the first month) */
  monthsAfter: number;
  /** cohort members with an order in that month */
  customers: number;
}

export interface CohortRow {
  cohort: string;
  customers: number;
  /** retention[m]: share of the cohort buying m months after its first month; only months up to the range's end */
  retention: Array<number | null>;
}

/**
 * The triangle of retention shares: a row per month of the range (empty
 * cohorts included, so rows line up with the calendar), each as long as the
 * months that remain in the range.
 */
export function cohortMatrix(cells: readonly CohortCell[], months: readonly string[]): CohortRow[] {
  const counts = new Map<string, number>();
  for (const c of cells) counts.set(`${c.cohort}|${c.monthsAfter}`, (counts.get(`${c.cohort}|${c.monthsAfter}`) ?? 0) + c.customers);
  return months.map((cohort, i) => {
    const size = counts.get(`${cohort}|0`) ?? 0;
    const retention: Array<number | null> = [];
    for (let m = 0; m < months.length - i; m++) retention.push(ratio(counts.get(`${cohort}|${m}`) ?? 0, size));
    return { cohort, customers: size, retention };
  });
}

// ── The whole answer ────────────────────────────────────────────────────────

export interface KpiCounts {
  total: WindowCounts;
  /** by bucket key; a bucket with nothing in it may be missing */
  buckets: ReadonlyMap<string, WindowCounts>;
  /** before the range starts */
  before: ToDate;
  churn: { total: ChurnCounts; buckets: ReadonlyMap<string, ChurnCounts> };
  predictedCltv: number | null;
  cohorts: readonly CohortCell[];
}

export interface KpiResult {
  totals: KpiFigures;
  buckets: Array<Bucket & KpiFigures>;
  cohorts: CohortRow[];
}

/**
 * Figures for the range and each bucket. "To date" figures run on from what
 * came before the range; the predicted CLTV is a score as it is now, so only
 * the range as a whole carries it.
 */
export function assembleKpis(buckets: readonly Bucket[], counts: KpiCounts, months: readonly string[]): KpiResult {
  const noChurn: ChurnCounts = { previousBuyers: 0, lost: 0 };
  const running: ToDate = { ...counts.before };
  const rows = buckets.map((b) => {
    const w = counts.buckets.get(b.key) ?? EMPTY_WINDOW;
    running.customers += w.newCustomers;
    running.buyers += w.firstTimeBuyers;
    running.revenue += w.revenue;
    return { ...b, ...windowFigures(w, running, counts.churn.buckets.get(b.key) ?? noChurn, null) };
  });
  const atEnd: ToDate = {
    customers: counts.before.customers + counts.total.newCustomers,
    buyers: counts.before.buyers + counts.total.firstTimeBuyers,
    revenue: counts.before.revenue + counts.total.revenue,
  };
  return { totals: windowFigures(counts.total, atEnd, counts.churn.total, counts.predictedCltv), buckets: rows, cohorts: cohortMatrix(counts.cohorts, months) };
}

/** Month-on-month change: the difference, and relative to the previous value (null from zero or nothing). */
export function change(current: number | null, previous: number | null): { delta: number | null; relative: number | null } {
  if (current === null || previous === null) return { delta: null, relative: null };
  return { delta: current - previous, relative: previous !== 0 ? (current - previous) / Math.abs(previous) : null };
}

