import type { Kysely } from 'kysely';
import type { CampaignFigures, CampaignMonthSource } from '../analytics/report-data.js';
import type { Schema } from '../storage/schema.js';
import { campaignReport, type CampaignReport } from './attribution.js';

/**
 * The monthly report's Campaigns section, from the campaign reports: every
 * figure is campaignReport's, so the section and GET /api/campaigns/{id}/report
 * never disagree. Only "sent in month" is cut to the month, from the report's
 * daily series; the rest is the campaign's whole life (docs/kpis.md §9).
 */

/** The campaign report as the monthly report takes it: aggregates only, no person. */
export function campaignFigures(r: CampaignReport, from: Date, to: Date): CampaignFigures {
  // Series days are UTC calendar days and the month starts at UTC midnight, so comparing day text is exact.
  const [first, end] = [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)];
  const { treatment, control, uplift } = r.conversions;
  return {
    id: r.campaignId,
    name: r.name,
    channel: r.channel,
    currency: r.currency,
    sentInMonth: r.series.reduce((s, d) => s + (d.day >= first && d.day < end ? d.sent : 0), 0),
    sent: r.counts.sent,
    skipped: r.counts.skipped,
    skippedByReason: r.counts.skippedByReason,
    control: r.counts.control,
    treatment: { people: treatment.people, converted: treatment.converted, rate: treatment.rate },
    controlArm: control ? { people: control.people, converted: control.converted, rate: control.rate } : null,
    uplift: uplift ? { absolute: uplift.absolute, pValue: uplift.pValue } : null,
    attributedOrders: r.attribution.orders,
    attributedRevenue: r.attribution.revenue,
    cost: r.cost,
    roi: r.roi,
  };
}

/** The campaigns of one workspace that sent messages in a month, for gatherMonthlyReport (analytics may not import activate). */
export function campaignMonthSource(db: Kysely<Schema>, workspaceId: string): CampaignMonthSource {
  return async (from, to, now) => {
    const campaigns = await db
      .selectFrom('campaigns as c')
      .select('c.id')
      .where('c.workspace_id', '=', workspaceId)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('campaign_sends as cs')
            .select('cs.campaign_id')
            .whereRef('cs.workspace_id', '=', 'c.workspace_id')
            .whereRef('cs.campaign_id', '=', 'c.id')
            .where('cs.status', '=', 'sent')
            .where('cs.sent_at', '>=', from)
            .where('cs.sent_at', '<', to),
        ),
      )
      .orderBy('c.id')
      .execute();
    const out: CampaignFigures[] = [];
    // One campaign at a time: each report is a few queries of its own, and a report run should not take every connection.
    for (const { id } of campaigns) {
      const report = await campaignReport(db, workspaceId, id, now);
      if (report) out.push(campaignFigures(report, from, to));
    }
    return out;
  };
}
