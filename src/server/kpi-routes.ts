import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { campaignRoiByPeriod, campaignRoiSource } from '../activate/attribution.js';
import { campaignMonthSource } from '../activate/monthly-campaigns.js';
import { computeKpis, segmentExists } from '../analytics/kpi-queries.js';
import { addPeriods, bucketCount, formatDay, parseDay, parseMonth, roiPeriods, withCampaignRoi, type Period } from '../analytics/kpis.js';
import { gatherMonthlyReport, storedMonthlyReport } from '../analytics/report-data.js';
import { renderReport, type ReportFormat, type ReportLang } from '../analytics/report.js';
import type { QualityReporter } from '../quality/report.js';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

/** A day-by-day answer over years would be megabytes nobody reads. */
const MAX_BUCKETS = 1_000;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Share = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1, description }));

const Figures = {
  customers: Type.Object({
    total: Type.Integer({ description: 'live profiles first seen before the end of the window' }),
    active: Type.Integer({ description: 'profiles with a track, page or screen event in the window' }),
    new: Type.Integer({ description: 'profiles first seen in the window' }),
    buyers: Type.Integer({ description: 'profiles with an order in the window' }),
  }),
  orders: Type.Integer({ description: 'Order Completed events' }),
  revenue: Type.Number({ description: 'sum of order amounts (total, else revenue, else value)' }),
  averageOrderValue: Nullable(Type.Number({ description: 'revenue / orders' })),
  purchaseFrequency: Nullable(Type.Number({ description: 'orders / buyers' })),
  repeatPurchaseRate: Share('share of the window’s buyers with two or more orders ever by the window’s end'),
  churnRate: Share('share of the previous period’s buyers who did not buy in this window'),
  cltv: Type.Object({
    historic: Nullable(Type.Number({ description: 'revenue to date / buyers to date' })),
    predicted: Nullable(Type.Number({ description: 'mean of the clv score (whole range only; null without scores)' })),
  }),
  nps: Nullable(Type.Number({ minimum: -100, maximum: 100, description: '% promoters (9–10) − % detractors (0–6)' })),
  npsResponses: Type.Integer(),
  csat: Nullable(Type.Number({ minimum: 0, maximum: 100, description: '% of CSAT answers that are 4 or 5' })),
  csatResponses: Type.Integer(),
  campaignRoi: Nullable(Type.Number({ description: '(revenue of the window’s orders attributed last-touch to any campaign − campaign cost of the window) / that cost; null when the window cost nothing. docs/attribution.md' })),
};

const KpiResponse = Type.Object({
  from: Type.String({ format: 'date' }),
  to: Type.String({ format: 'date' }),
  period: Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')]),
  segment: Nullable(Type.String()),
  totals: Type.Object(Figures),
  buckets: Type.Array(
    Type.Object({
      key: Type.String({ format: 'date', description: 'first day of the calendar period' }),
      start: Type.String({ format: 'date' }),
      end: Type.String({ format: 'date', description: 'inclusive' }),
      ...Figures,
    }),
  ),
  cohorts: Type.Array(
    Type.Object({
      cohort: Type.String({ description: 'first-purchase month, YYYY-MM' }),
      customers: Type.Integer(),
      retention: Type.Array(Nullable(Type.Number()), { description: 'retention[m]: share of the cohort buying m months after its first month' }),
    }),
  ),
  notes: Type.Array(Type.String()),
});

const DayText = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description });

/** Said only when messages went out in a window yet cost nothing: a null there is not "no campaigns". */
export const CAMPAIGN_ROI_NOTE = 'campaignRoi: messages were sent in some windows whose campaigns have no cost (fixed cost and cost per message 0), so return on cost is undefined (null) there';

export interface KpiRoutesDeps {
  database: Database;
  /** the data-quality score in the monthly report; left out when not given */
  quality?: Pick<QualityReporter, 'report'>;
}

/** KPIs and the monthly management report. Bearer token. */
export const kpiRoutes: FastifyPluginAsync<KpiRoutesDeps> = async (app, { database, quality }) => {
  const { db } = database;

  app.get('/api/analytics/kpis', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'Business KPIs for a date range and per day, week or month: customers, orders, revenue, AOV, repeat rate, churn, CLTV, NPS, CSAT, cohort retention',
      description: 'Definitions: docs/kpis.md. Days are UTC; `to` is inclusive.',
      security,
      querystring: Type.Object({
        from: Type.Optional(DayText('first day, YYYY-MM-DD; default 12 months before `to`')),
        to: Type.Optional(DayText('last day (inclusive), YYYY-MM-DD; default today (UTC)')),
        segment: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'segment id: only its current members count' })),
        period: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], { default: 'month' })),
      }),
      response: { 200: KpiResponse, ...errors },
    },
  }, async (request) => {
    const q = request.query as { from?: string; to?: string; segment?: string; period?: Period };
    const ws = request.caller.workspaceId;
    const period = q.period ?? 'month';
    const to = q.to === undefined ? parseDay(formatDay(new Date()))! : parseDay(q.to);
    if (!to) throw new ApiError('CUSTODIAN_INVALID_FIELD', `to: ${q.to} is not a calendar day (YYYY-MM-DD)`, 'to');
    const from = q.from === undefined ? addPeriods(to, 'month', -12) : parseDay(q.from);
    if (!from) throw new ApiError('CUSTODIAN_INVALID_FIELD', `from: ${q.from} is not a calendar day (YYYY-MM-DD)`, 'from');
    if (from > to) throw new ApiError('CUSTODIAN_INVALID_FIELD', `from: ${formatDay(from)} is after to (${formatDay(to)})`, 'from');
    if (bucketCount(from, to, period) > MAX_BUCKETS) throw new ApiError('CUSTODIAN_INVALID_FIELD', `period: ${period} over this range makes more than ${MAX_BUCKETS} buckets; use a longer period or a shorter range`, 'period');
    const segment = q.segment ?? null;
    if (segment !== null && !(await segmentExists(db, ws, segment))) throw new ApiError('CUSTODIAN_NOT_FOUND', `segment: no segment ${segment} in this workspace`, 'segment');
    const counted = await computeKpis(db, ws, { from, to, period, segmentId: segment });
    const roi = await campaignRoiByPeriod(db, ws, roiPeriods(from, to, counted.buckets), { segmentId: segment });
    const result = withCampaignRoi(counted, roi);
    const notes = [...roi.values()].some((r) => r.sent > 0 && r.cost <= 0) ? [CAMPAIGN_ROI_NOTE] : [];
    return { from: formatDay(from), to: formatDay(to), period, segment, ...result, notes };
  });

  app.get('/api/analytics/report', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'The monthly management report: KPIs against the month before, 12-month trends, segments, RFM, CLV, churn risk, feedback, campaigns, data quality (a closed month answers the report kept when it closed)',
      description: 'HTML is self-contained and printable (print it to PDF from the browser); CSV has one row per figure.',
      security,
      produces: ['text/html', 'text/csv'],
      querystring: Type.Object({
        month: Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'YYYY-MM' }),
        format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('csv')], { default: 'html' })),
        lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh-CN')], { default: 'en' })),
        fresh: Type.Optional(Type.Boolean({ default: false, description: 'gather the figures now even when the month\'s report was kept when it closed' })),
      }),
      response: { ...errors },
    },
  }, async (request, reply) => {
    const q = request.query as { month: string; format?: ReportFormat; lang?: ReportLang; fresh?: boolean };
    if (!parseMonth(q.month)) throw new ApiError('CUSTODIAN_INVALID_FIELD', `month: ${q.month} is not a month (YYYY-MM, 01–12)`, 'month');
    const ws = request.caller.workspaceId;
    const kept = q.fresh === true ? null : await storedMonthlyReport(database, ws, q.month);
    const report = kept ?? (await gatherMonthlyReport(database, { workspaceId: ws, month: q.month, campaignRoi: campaignRoiSource(db, ws), campaigns: campaignMonthSource(db, ws), ...(quality ? { quality } : {}) }));
    const out = renderReport(report, q.format ?? 'html', q.lang ?? 'en');
    reply.type(out.contentType);
    // inline: the dashboard opens it in a tab to print; the name is for "save as".
    reply.header('content-disposition', `inline; filename="${out.filename}"`);
    return reply.send(out.body);
  });
};
