import { sql } from 'kysely';
import type { QualityReporter } from '../quality/report.js';
import type { Database } from '../storage/database.js';
import { latestRun, recorded, type AnalyticsRun } from './jobs.js';
import { computeKpis, scoreDeciles, segmentSizes } from './kpi-queries.js';
import { addPeriods, formatMonth, parseMonth, roiPeriods, withCampaignRoi, type CampaignRoiSource, type KpiFigures } from './kpis.js';
import { MAX_CAMPAIGN_ROWS, SIGNIFICANCE, type CampaignRow, type CampaignsSection, type ClvSection, type FeedbackSection, type MonthlyReport, type RfmSection } from './report.js';

/**
 * Gathers a MonthlyReport from the database. The RFM, CLV and feedback
 * sections come from other modules' latest runs, whose results are stored
 * JSON: they are read field by field and anything of the wrong shape is left
 * out, so an older or newer run can never break the report.
 */


const DAY = 86_400_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function readRfm(result: unknown, computedAt: string | null): RfmSection | null {
  if (!isRecord(result)) return null;
  const zh = list(result.segmentNamesZh);
  const segments = list(result.segments).flatMap((s, i) => {
    if (!isRecord(s) || str(s.segment) === null) return [];
    return [{ segment: str(s.segment)!, nameZh: str(zh[i]), customers: num(s.customers) ?? 0, share: num(s.share), revenue: num(s.revenue) }];
  });
  return { computedAt: str(result.computedAt) ?? computedAt, customers: num(result.customers), segments };
}

export function readClv(result: unknown, computedAt: string | null): ClvSection | null {
  if (!isRecord(result)) return null;
  const summary = isRecord(result.summary) ? result.summary : {};
  const distribution = list(result.distribution).flatMap((d) => {
    if (!isRecord(d)) return [];
    const [lower, upper, count] = [num(d.lower), num(d.upper), num(d.count)];
    return lower === null || upper === null || count === null ? [] : [{ lower, upper, count }];
  });
  return { computedAt, customers: num(summary.customers), meanClv: num(summary.meanClv), totalClv: num(summary.totalClv), distribution };
}

/** A score given as a number, or as an object holding it (`{score}` or `{value}`). */
const scoreOf = (v: unknown): number | null => num(v) ?? (isRecord(v) ? (num(v.score) ?? num(v.value)) : null);

export function readFeedback(result: unknown, computedAt: string | null): FeedbackSection | null {
  if (!isRecord(result)) return null;
  const s = result.sentiment;
  const sentiment = isRecord(s) && num(s.positive) !== null && num(s.neutral) !== null && num(s.negative) !== null ? { positive: num(s.positive)!, neutral: num(s.neutral)!, negative: num(s.negative)! } : null;
  const themes = list(result.themes).flatMap((t) => {
    if (!isRecord(t)) return [];
    const name = str(t.name) ?? str(t.en) ?? str(t.zh);
    if (name === null) return [];
    return [{ name, en: str(t.en), zh: str(t.zh), documents: num(t.documents), share: num(t.share), sentiment: num(t.sentiment) ?? str(t.sentiment) }];
  });
  const complaints = num(result.complaints) ?? (isRecord(result.complaints) ? (num(result.complaints.count) ?? num(result.complaints.total)) : null);
  return { computedAt, nps: scoreOf(result.nps), csat: scoreOf(result.csat), sentiment, themes, complaints };
}

/** One campaign as its campaign report gives it (activate's campaignReport), before the report picks and ranks. */
export interface CampaignFigures extends Omit<CampaignRow, 'topSkipReasons' | 'uplift'> {
  /** skipped messages by reason, every reason the campaign report lists (zeros included) */
  skippedByReason: Record<string, number>;
  uplift: { absolute: number; pValue: number } | null;
}

/**
 * The campaigns that sent messages in [from, to) (by sent_at), each as its
 * campaign report stands at `now`. Handed in by the server, worker or CLI
 * (which may import activate), so campaignReport stays the one place a
 * campaign's figures are counted.
 */
export type CampaignMonthSource = (from: Date, to: Date, now: Date) => Promise<CampaignFigures[]>;

/**
 * The report's Campaigns section: the month's campaigns by attributed revenue
 * (ties by messages sent in the month, then name and id, so reruns agree),
 * the first MAX_CAMPAIGN_ROWS of them, and a total over all of them. Money
 * only adds up within one currency; uplift does not add up at all (pooling
 * campaigns' arms mixes different audiences), so the total has none.
 */
export function campaignSection(figures: readonly CampaignFigures[], asOf: Date): CampaignsSection {
  const ranked = [...figures].sort((a, b) => b.attributedRevenue - a.attributedRevenue || b.sentInMonth - a.sentInMonth || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const rows = ranked.slice(0, MAX_CAMPAIGN_ROWS).map(({ skippedByReason, uplift, ...c }): CampaignRow => ({
    ...c,
    topSkipReasons: Object.entries(skippedByReason)
      .filter(([, count]) => count > 0)
      .sort(([ra, a], [rb, b]) => b - a || ra.localeCompare(rb))
      .slice(0, 3)
      .map(([reason, count]) => ({ reason, count })),
    uplift: uplift ? { ...uplift, significant: uplift.pValue < SIGNIFICANCE } : null,
  }));
  const sum = (pick: (c: CampaignFigures) => number) => figures.reduce((s, c) => s + pick(c), 0);
  const currencies = new Set(figures.map((c) => c.currency));
  const currency = currencies.size === 1 ? [...currencies][0]! : null;
  const revenue = currency === null ? null : sum((c) => c.attributedRevenue);
  const cost = currency === null ? null : sum((c) => c.cost);
  return {
    asOf: asOf.toISOString(),
    count: figures.length,
    rows,
    total: {
      sentInMonth: sum((c) => c.sentInMonth),
      sent: sum((c) => c.sent),
      skipped: sum((c) => c.skipped),
      control: sum((c) => c.control),
      attributedOrders: sum((c) => c.attributedOrders),
      attributedRevenue: revenue,
      cost,
      // The campaign reports' own rule: no return on nothing spent.
      roi: revenue !== null && cost !== null && cost > 0 ? (revenue - cost) / cost : null,
      currency,
    },
  };
}

/** The last whole month before `now` (UTC), as YYYY-MM: what a scheduled monthly report covers. */
export function lastFullMonth(now: Date = new Date()): string {
  return formatMonth(addPeriods(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), 'month', -1));
}

export interface GatherOptions {
  workspaceId: string;
  /** YYYY-MM */
  month: string;
  /** the data-quality score; the section says "not computed" without it */
  quality?: Pick<QualityReporter, 'report'>;
  /** the campaign return of the month and the one before (activate's campaignRoiSource); null without it */
  campaignRoi?: CampaignRoiSource;
  /** the month's campaigns (activate's campaignMonthSource); the section says "not counted" without it */
  campaigns?: CampaignMonthSource;
  now?: Date;
}

/** Everything the monthly report shows, for one workspace and month. */
export async function gatherMonthlyReport(database: Database, options: GatherOptions): Promise<MonthlyReport> {
  const { db } = database;
  const first = parseMonth(options.month);
  if (!first) throw new RangeError(`month: ${options.month} is not a month (YYYY-MM, 01–12)`);
  const now = options.now ?? new Date();
  const ws = options.workspaceId;
  // Twelve months ending with the report's month, in one pass: the last two buckets are the
  // month and the one before, the rest the trend; cohorts come from the same range.
  const trendStart = addPeriods(first, 'month', -11);
  const lastDay = new Date(addPeriods(first, 'month', 1).getTime() - DAY);
  const counted = await computeKpis(db, ws, { from: trendStart, to: lastDay, period: 'month', segmentId: null });
  // The report shows campaign return for its month and the one before only: the trend has no such line.
  const kpis = options.campaignRoi ? withCampaignRoi(counted, await options.campaignRoi(roiPeriods(trendStart, lastDay, counted.buckets).slice(-2))) : counted;
  const current = kpis.buckets[11]!;
  const previous = kpis.buckets[10]!;
  const figures = (b: typeof current): KpiFigures => {
    const { key: _k, start: _s, end: _e, ...f } = b;
    return f;
  };
  // Scores are as they are now, not as they were: the predicted CLTV belongs to the latest month only.
  const currentFigures = { ...figures(current), cltv: { historic: current.cltv.historic, predicted: kpis.totals.cltv.predicted } };

  const next = addPeriods(first, 'month', 1);
  const [segments, rfmRun, clvRun, feedbackRun, churnRisk, quality, campaigns] = await Promise.all([
    segmentSizes(db, ws),
    latestRun(db, ws, 'rfm'),
    latestRun(db, ws, 'clv'),
    latestRun(db, ws, 'feedback'),
    scoreDeciles(db, ws, 'churn_risk'),
    options.quality ? options.quality.report(ws, now) : Promise.resolve(null),
    options.campaigns ? options.campaigns(first, next, now) : Promise.resolve(null),
  ]);
  const at = (run: AnalyticsRun | null) => (run ? (run.finishedAt ?? run.startedAt) : null);

  return {
    workspaceId: ws,
    month: options.month,
    previousMonth: formatMonth(addPeriods(first, 'month', -1)),
    generatedAt: now.toISOString(),
    current: currentFigures,
    previous: figures(previous),
    trend: kpis.buckets.map((b) => ({ month: b.key.slice(0, 7), revenue: b.revenue, orders: b.orders, activeCustomers: b.customers.active, nps: b.nps })),
    cohorts: kpis.cohorts,
    segments,
    rfm: rfmRun ? readRfm(rfmRun.result, at(rfmRun)) : null,
    clv: clvRun ? readClv(clvRun.result, at(clvRun)) : null,
    churnRisk,
    feedback: feedbackRun ? readFeedback(feedbackRun.result, at(feedbackRun)) : null,
    campaigns: campaigns ? campaignSection(campaigns, now) : null,
    quality: quality ? { score: quality.score, profiles: quality.profiles } : null,
  };
}

/**
 * Keep a month's report as it stood when the month closed (a run of kind
 * `report`): later imports and fresh scores do not rewrite what management
 * was shown.
 */
export async function storeMonthlyReport(database: Database, options: GatherOptions): Promise<MonthlyReport> {
  const { result } = await recorded(database.db, options.workspaceId, 'report', { month: options.month }, () => gatherMonthlyReport(database, options));
  return result;
}

/** The kept report of a month, or null when none was kept. */
export async function storedMonthlyReport(database: Database, workspaceId: string, month: string): Promise<MonthlyReport | null> {
  const row = await database.db
    .selectFrom('analytics_runs')
    .select('result')
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', 'report')
    .where('status', '=', 'done')
    .where(sql<boolean>`params ->> 'month' = ${month}`)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? (row.result as MonthlyReport) : null;
}
