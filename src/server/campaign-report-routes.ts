import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { campaignReport } from '../activate/attribution.js';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Count = (description: string) => Type.Integer({ minimum: 0, description });

const Arm = (who: string) =>
  Type.Object({
    people: Count(who),
    converted: Count('of them, people with at least one Order Completed in their attribution window'),
    rate: Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'converted / people (a fraction); null when people is 0' })),
    revenue: Type.Number({ description: 'revenue of those orders (total, else revenue, else value), in the campaign currency' }),
  });

const CampaignReportBody = Type.Object({
  campaignId: Type.String(),
  name: Type.String(),
  channel: Type.String(),
  status: Type.String(),
  currency: Type.String({ description: 'currency of revenue and cost (ISO 4217)' }),
  attributionDays: Type.Integer({ description: 'an order counts when it is within this many days after the person’s reference time' }),
  counts: Type.Object({
    queued: Count('outbox rows: every person queued for the campaign, both arms'),
    pending: Count('waiting to be sent'),
    sending: Count('being sent right now'),
    sent: Count('delivered (status sent): the people reached'),
    failed: Count('gave up after retries'),
    skipped: Count('not sent, for a reason in skippedByReason'),
    control: Count('held out as the control group'),
    skippedByReason: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'skipped people by reason: every known reason (0 when none) and any other reason recorded' }),
    attempts: Count('delivery attempts recorded, retries included'),
  }),
  conversions: Type.Object({
    treatment: Arm('people sent the message (reference time: sent_at)'),
    control: Nullable(Arm('people held out (reference time: queued_at, when they would have been sent); null without a control group')),
    uplift: Nullable(
      Type.Object(
        {
          absolute: Type.Number({ description: 'treatment rate − control rate, a fraction (0.04 = 4 percentage points)' }),
          relative: Nullable(Type.Number({ description: 'absolute / control rate (0.5 = +50 %); null when the control rate is 0' })),
          z: Nullable(Type.Number({ description: 'pooled two-proportion z statistic; null when both arms are all 0 % or all 100 %' })),
          pValue: Type.Number({ minimum: 0, maximum: 1, description: 'two-sided p-value of the two-proportion z-test' }),
          ci95: Type.Tuple([Type.Number(), Type.Number()], { description: '95 % confidence interval of absolute (Newcombe’s hybrid score interval), [low, high]' }),
        },
        { description: 'null without a control group or before anyone was sent the message (notes say which)' },
      ),
    ),
    incrementalConversions: Nullable(Type.Number({ description: '(treatment rate − control rate) × people sent: conversions the campaign caused; null without uplift' })),
    incrementalRevenue: Nullable(Type.Number({ description: '(treatment revenue per person − control revenue per person) × people sent; null without uplift' })),
  }),
  attribution: Type.Object({
    model: Type.Literal('last-touch', { description: 'an order belongs to the latest campaign sent to the person at or before it, if within that campaign’s window' }),
    orders: Count('orders attributed to this campaign'),
    revenue: Type.Number({ description: 'their revenue' }),
  }),
  cost: Type.Number({ description: 'fixed cost + cost per message × sent' }),
  roi: Nullable(Type.Number({ description: '(attributed revenue − cost) / cost: last-touch return, which includes orders that would have happened anyway; null when cost is 0' })),
  roiIncremental: Nullable(Type.Number({ description: '(incremental revenue − cost) / cost: the return the campaign caused, measured against the control group; null without a control group or when cost is 0' })),
  notes: Type.Array(Type.String(), { description: 'why a figure is null or should be read with care' }),
  series: Type.Array(
    Type.Object({
      day: Type.String({ format: 'date', description: 'UTC day' }),
      sent: Count('messages delivered that day'),
      orders: Count('attributed orders placed that day'),
      revenue: Type.Number({ description: 'revenue of those orders' }),
    }),
    { description: 'every UTC day from the first send or attributed order to the last' },
  ),
  computedAt: Type.String({ format: 'date-time' }),
});

export interface CampaignReportRoutesDeps {
  database: Database;
}

/** A campaign's delivery, conversion, uplift, attribution and return. Bearer token. */
export const campaignReportRoutes: FastifyPluginAsync<CampaignReportRoutesDeps> = async (app, { database }) => {
  app.get('/api/campaigns/:id/report', {
    config: { access: 'campaigns.read' },
    schema: {
      tags: ['campaigns'],
      summary: 'A campaign’s report: delivery counts, conversions of treatment and control, uplift with p-value and 95 % interval, last-touch revenue, cost and ROI, a daily series',
      description: 'Definitions: docs/attribution.md. Aggregates only; no person is listed.',
      security,
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 200: CampaignReportBody, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const report = await campaignReport(database.db, request.caller.workspaceId, id);
    if (!report) throw new ApiError('CUSTODIAN_NOT_FOUND', `no campaign ${id}`, 'id');
    return report;
  });
};
