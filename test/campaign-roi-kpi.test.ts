import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignReport } from '../src/activate/attribution.js';
import type { KpiFigures } from '../src/analytics/kpis.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { campaignRow, profileIdsOf } from './helpers/campaigns.js';
import { backends } from './helpers/backends.js';

const WS = 'default';

interface Kpis {
  totals: KpiFigures;
  buckets: Array<KpiFigures & { key: string }>;
  notes: string[];
}

const order = (userId: string, timestamp: string, total: number, id: string) => ({ type: 'track', userId, event: 'Order Completed', timestamp, properties: { total, order_id: id } });

/*
 * Campaigns (UTC, 2025):
 *   A  7-day window, fixed 8, 0.5 a message: sent to p1, p2, p3 on 01-10 10:00 and p4 on 01-28 10:00
 *   B  3-day window, 2.25 a message, no fixed cost: sent to p1, p2 on 02-01 10:00 (skipped p5)
 *   D  7-day window, 0.5 a message: sent to p3 on 02-03 10:00
 *   C  no cost at all: sent to p2 on 04-01 10:00 (failed for p5 in March)
 * Orders:
 *   p1 60 on 01-12 → A;  30 on 02-02 → B (the later touch);  70 on 03-01 → none (B's window is over)
 *   p2 50 on 01-20 → none (10 days after A);  20 on 02-06 → none (B touched last, 5 days > 3)
 *   p3 200 on 01-05 → none (before any send);  45 on 02-05 → D (sent 02-03)
 *   p4 25 on 02-01 09:00 → A (sent 01-28): a January message earns February revenue
 *   p5 90 on 02-02, never sent anything → none
 * January: revenue 60, cost 8 + 4 × 0.5 = 10, ROI (60 − 10) / 10 = 5.
 * February: revenue 30 + 45 + 25 = 100, cost 2 × 2.25 + 0.5 = 5, ROI 19.
 * March: nothing sent: null. April: one message, no cost: null, with a note.
 */
const EVENTS = [
  order('p1', '2025-01-12T10:00:00Z', 60, 'o1a'),
  order('p1', '2025-02-02T10:00:00Z', 30, 'o1b'),
  order('p1', '2025-03-01T10:00:00Z', 70, 'o1c'),
  order('p2', '2025-01-20T10:00:00Z', 50, 'o2a'),
  order('p2', '2025-02-06T10:00:00Z', 20, 'o2b'),
  order('p3', '2025-01-05T10:00:00Z', 200, 'o3a'),
  order('p3', '2025-02-05T10:00:00Z', 45, 'o3b'),
  order('p4', '2025-02-01T09:00:00Z', 25, 'o4'),
  order('p5', '2025-02-02T10:00:00Z', 90, 'o5'),
];

describe.each(backends)('campaign ROI in the KPIs on $name', (backend) => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  const kpis = async (query: string): Promise<Kpis> => {
    const res = await t.get(`/api/analytics/kpis?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Kpis;
  };

  beforeAll(async () => {
    t = await startTestApp(backend);
    const db = t.database.db;
    const res = await t.send('/v1/batch', { batch: EVENTS });
    expect(res.statusCode, res.body).toBe(200);
    await t.drain();
    Object.assign(ids, await profileIdsOf(t, ['p1', 'p2', 'p3', 'p4', 'p5']));
    const campaign = (id: string, attribution_days: number, cost: { fixed_cost?: number; cost_per_message?: number }) => campaignRow({ workspace_id: WS, id, attribution_days, ...cost });
    await db
      .insertInto('campaigns')
      .values([campaign('ca', 7, { fixed_cost: 8, cost_per_message: 0.5 }), campaign('cb', 3, { cost_per_message: 2.25 }), campaign('cc', 7, {}), campaign('cd', 7, { cost_per_message: 0.5 })])
      .execute();
    const sent = (campaignId: string, who: string, at: string) => ({
      workspace_id: WS,
      campaign_id: campaignId,
      profile_id: ids[who]!,
      arm: 'treatment' as const,
      status: 'sent' as const,
      reason: null,
      next_attempt_at: new Date(at),
      queued_at: new Date(at),
      sent_at: new Date(at),
    });
    const unsent = (campaignId: string, who: string, status: 'failed' | 'skipped', at: string) => ({ ...sent(campaignId, who, at), status, sent_at: null, reason: status === 'skipped' ? 'no_consent' : null });
    await db
      .insertInto('campaign_sends')
      .values([
        sent('ca', 'p1', '2025-01-10T10:00:00Z'),
        sent('ca', 'p2', '2025-01-10T10:00:00Z'),
        sent('ca', 'p3', '2025-01-10T10:00:00Z'),
        sent('ca', 'p4', '2025-01-28T10:00:00Z'),
        sent('cb', 'p1', '2025-02-01T10:00:00Z'),
        sent('cb', 'p2', '2025-02-01T10:00:00Z'),
        sent('cd', 'p3', '2025-02-03T10:00:00Z'),
        sent('cc', 'p2', '2025-04-01T10:00:00Z'),
        // Not sent: neither a cost nor a touch.
        unsent('cb', 'p5', 'skipped', '2025-02-01T10:00:00Z'),
        unsent('cc', 'p5', 'failed', '2025-03-10T10:00:00Z'),
      ])
      .execute();
  });
  afterAll(async () => t?.close());

  it('gives each month its return exactly, and null for a month without sends', async () => {
    const r = await kpis('from=2025-01-01&to=2025-04-30&period=month');
    expect(r.buckets.map((b) => [b.key, b.campaignRoi])).toEqual([
      ['2025-01-01', 5],
      ['2025-02-01', 19],
      ['2025-03-01', null],
      ['2025-04-01', null],
    ]);
    // The range: revenue 160 against cost 15.
    expect(r.totals.campaignRoi).toBeCloseTo((160 - 15) / 15, 12);
    // April sent a message that cost nothing: the null there is explained.
    expect(r.notes.filter((n) => n.startsWith('campaignRoi'))).toHaveLength(1);
  });

  it('adds up to the campaign reports: same attributed revenue, same cost', async () => {
    const reports = await Promise.all(['ca', 'cb', 'cc', 'cd'].map(async (id) => (await campaignReport(t.database.db, WS, id))!));
    expect(reports.map((c) => c.attribution.revenue)).toEqual([60 + 25, 30, 0, 45]);
    expect(reports.reduce((s, c) => s + c.attribution.revenue, 0)).toBe(160);
    expect(reports.reduce((s, c) => s + c.cost, 0)).toBe(15);
  });

  it('charges a fixed cost in the window of the first send, clipped windows included', async () => {
    // From January 11th: A's first send, with its fixed cost and three messages, is before the range and
    // only p4's message (0.5) is in it; p1's order on the 12th still counts, the window being about orders.
    const r = await kpis('from=2025-01-11&to=2025-02-28&period=month');
    expect(r.buckets.map((b) => b.campaignRoi)).toEqual([(60 - 0.5) / 0.5, 19]);
    expect(r.notes.some((n) => n.startsWith('campaignRoi'))).toBe(false);
  });

  it('with a segment, counts only its members’ orders and the messages sent to them', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/segments',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Two orders or more', rule: { event: 'Order Completed', count: { gte: 2 } } }),
    });
    expect(res.statusCode, res.body).toBe(201);
    const seg = res.json() as { id: string; size: number };
    // p1, p2 and p3; not p4 nor p5 (one order each).
    expect(seg.size).toBe(3);
    const r = await kpis(`from=2025-01-01&to=2025-03-31&period=month&segment=${encodeURIComponent(seg.id)}`);
    // January: revenue 60; three of A's four messages (1.5) and three quarters of its fixed cost (6).
    // February: p4's 25 is not the segment's; every message went to members: 75 against 5.
    expect(r.buckets[0]!.campaignRoi).toBe(7);
    expect(r.buckets[1]!.campaignRoi).toBe(14);
    expect(r.buckets[2]!.campaignRoi).toBeNull();
  });

  it('shows the month’s return and the one before in the monthly report', async () => {
    const res = await t.get('/api/analytics/report?month=2025-02&format=csv&fresh=true');
    expect(res.statusCode, res.body).toBe(200);
    const lines = res.body.replace(/^\ufeff/, '').split('\r\n');
    expect(lines).toContain('kpi,campaign_roi,Campaign ROI,2025-02,19,5,14');
    const march = (await t.get('/api/analytics/report?month=2025-03&format=csv&fresh=true')).body.replace(/^\ufeff/, '').split('\r\n');
    expect(march).toContain('kpi,campaign_roi,Campaign ROI,2025-03,,19,');
    const html = (await t.get('/api/analytics/report?month=2025-02&fresh=true')).body;
    expect(html).toMatch(/<td>Campaign ROI<\/td><td>19\.00<\/td><td>5\.00<\/td>/);
  });
});
