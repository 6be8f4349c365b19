import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import type { KpiFigures as Figures } from '../src/analytics/kpis.js';

interface Kpis {
  from: string;
  to: string;
  period: string;
  segment: string | null;
  totals: Figures;
  buckets: Array<Figures & { key: string; start: string; end: string }>;
  cohorts: Array<{ cohort: string; customers: number; retention: Array<number | null> }>;
  notes: string[];
}

const track = (userId: string, event: string, timestamp: string, properties: Record<string, unknown> = {}) => ({ type: 'track', userId, event, timestamp, properties });

/*
 * Five customers over December 2024 – April 2025 (UTC), small enough to count by hand:
 *   a  identify 12-10; orders 12-15 (total 100), 01-10 (total 50), 02-05 (revenue 30); survey 01-20 nps 10 csat 5
 *   b  orders 01-12 (value 200), 03-03 (total 100); survey 01-25 nps 9 csat 4
 *   c  survey 02-10 nps 8 csat 2; orders 02-14 (80), 02-20 (20); survey 03-01 {type: nps, score 3}
 *   d  viewed 03-15; survey 03-20 nps 6 csat 4 — never buys
 *   e  identify 04-01; order 04-02 total "abc" (junk) revenue "12.5"
 */
const EVENTS = [
  { type: 'identify', userId: 'a', timestamp: '2024-12-10T10:00:00Z', traits: { city: 'London' } },
  track('a', 'Order Completed', '2024-12-15T10:00:00Z', { order_id: 'a1', total: 100 }),
  track('a', 'Order Completed', '2025-01-10T10:00:00Z', { order_id: 'a2', total: 50 }),
  track('a', 'Order Completed', '2025-02-05T10:00:00Z', { order_id: 'a3', revenue: 30 }),
  track('a', 'Survey Responded', '2025-01-20T10:00:00Z', { nps: 10, csat: 5 }),
  track('b', 'Order Completed', '2025-01-12T10:00:00Z', { order_id: 'b1', value: 200 }),
  track('b', 'Order Completed', '2025-03-03T10:00:00Z', { order_id: 'b2', total: 100 }),
  track('b', 'Survey Responded', '2025-01-25T10:00:00Z', { nps: 9, csat: 4 }),
  track('c', 'Survey Responded', '2025-02-10T10:00:00Z', { nps: 8, csat: 2 }),
  track('c', 'Order Completed', '2025-02-14T10:00:00Z', { order_id: 'c1', total: 80 }),
  track('c', 'Order Completed', '2025-02-20T10:00:00Z', { order_id: 'c2', total: 20 }),
  track('c', 'Survey Responded', '2025-03-01T10:00:00Z', { type: 'nps', score: 3 }),
  track('d', 'Product Viewed', '2025-03-15T10:00:00Z'),
  track('d', 'Survey Responded', '2025-03-20T10:00:00Z', { nps: 6, csat: 4 }),
  { type: 'identify', userId: 'e', timestamp: '2025-04-01T10:00:00Z', traits: { city: 'Paris' } },
  track('e', 'Order Completed', '2025-04-02T10:00:00Z', { order_id: 'e1', total: 'abc', revenue: '12.5' }),
];

describe.each(backends)('KPI API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const kpis = async (query: string): Promise<Kpis> => {
    const res = await t.get(`/api/analytics/kpis?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Kpis;
  };
  const profileId = async (userId: string) => ((await t.get(`/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;

  beforeAll(async () => {
    t = await startTestApp(backend);
    expect((await t.send('/v1/batch', { batch: EVENTS })).statusCode).toBe(200);
    await t.drain();
    // A predicted CLV for a and b: the mean over the range is 200.
    const now = new Date();
    await t.database.db
      .insertInto('profile_scores')
      .values([
        { workspace_id: 'default', profile_id: await profileId('a'), name: 'clv', value: 100, label: null, computed_at: now },
        { workspace_id: 'default', profile_id: await profileId('b'), name: 'clv', value: 300, label: null, computed_at: now },
      ])
      .execute();
  });
  afterAll(async () => t.close());

  it('counts the range and each month exactly', async () => {
    const r = await kpis('from=2025-01-01&to=2025-04-30&period=month');
    expect(r).toMatchObject({ from: '2025-01-01', to: '2025-04-30', period: 'month', segment: null });
    // No campaign has sent anything: campaignRoi is null with nothing to explain (test/campaign-roi-kpi.test.ts has campaigns).
    expect(r.notes).toEqual([]);
    expect(r.buckets.map((b) => [b.key, b.start, b.end])).toEqual([
      ['2025-01-01', '2025-01-01', '2025-01-31'],
      ['2025-02-01', '2025-02-01', '2025-02-28'],
      ['2025-03-01', '2025-03-01', '2025-03-31'],
      ['2025-04-01', '2025-04-01', '2025-04-30'],
    ]);
    const [jan, feb, mar, apr] = r.buckets;

    // a is first seen in December; b, c, d, e one a month. Identify calls are not activity.
    expect(r.buckets.map((b) => b.customers)).toEqual([
      { total: 2, active: 2, new: 1, buyers: 2 },
      { total: 3, active: 2, new: 1, buyers: 2 },
      { total: 4, active: 3, new: 1, buyers: 1 },
      { total: 5, active: 1, new: 1, buyers: 1 },
    ]);
    expect(r.totals.customers).toEqual({ total: 5, active: 5, new: 4, buyers: 4 });

    // Amounts: total, else revenue, else value; "abc" is not a number, so e's order is worth its revenue 12.5.
    expect(r.buckets.map((b) => [b.orders, b.revenue])).toEqual([[2, 250], [3, 130], [1, 100], [1, 12.5]]);
    expect(jan!.averageOrderValue).toBe(125);
    expect(feb!.averageOrderValue).toBeCloseTo(130 / 3, 9);
    expect(feb!.purchaseFrequency).toBe(1.5);
    // January: a has 2 orders by the end of it (December's counts), b has 1. February: a 3, c 2.
    expect(r.buckets.map((b) => b.repeatPurchaseRate)).toEqual([0.5, 1, 1, 0]);
    // Buyers of the month before who did not buy: Dec {a} → Jan keeps a; Jan {a,b} → Feb loses b;
    // Feb {a,c} → Mar loses both; Mar {b} → Apr loses b.
    expect(r.buckets.map((b) => b.churnRate)).toEqual([0, 0.5, 1, 1]);
    // Revenue to date per buyer to date: (100+250)/2, 480/3, 580/3, 592.5/4.
    expect(jan!.cltv.historic).toBe(175);
    expect(feb!.cltv.historic).toBe(160);
    expect(mar!.cltv.historic).toBeCloseTo(580 / 3, 9);
    expect(apr!.cltv.historic).toBe(148.125);
    expect(r.buckets.map((b) => b.cltv.predicted)).toEqual([null, null, null, null]);

    // NPS: Jan [10, 9] = 100, Feb [8] = 0, Mar [3 (as score with type nps), 6] = −100, Apr none.
    expect(r.buckets.map((b) => [b.nps, b.npsResponses])).toEqual([[100, 2], [0, 1], [-100, 2], [null, 0]]);
    // CSAT: Jan [5, 4] = 100, Feb [2] = 0, Mar [4] = 100.
    expect(r.buckets.map((b) => [b.csat, b.csatResponses])).toEqual([[100, 2], [0, 1], [100, 1], [null, 0]]);

    expect(r.totals).toMatchObject({
      orders: 7,
      revenue: 492.5,
      purchaseFrequency: 1.75,
      // a 3 orders, b 2, c 2, e 1
      repeatPurchaseRate: 0.75,
      // the 120 days before: only a bought (December), and a bought again
      churnRate: 0,
      cltv: { historic: 148.125, predicted: 200 },
      // [10, 9, 8, 3, 6]: 2 promoters, 2 detractors
      nps: 0,
      npsResponses: 5,
      // [5, 4, 2, 4]
      csat: 75,
      csatResponses: 4,
      campaignRoi: null,
    });
    expect(r.totals.averageOrderValue).toBeCloseTo(492.5 / 7, 9);

    // First-purchase cohorts in the range: b (January; buys again in March), c (February), e (April).
    // a's first purchase is in December, before the range.
    expect(r.cohorts).toEqual([
      { cohort: '2025-01', customers: 1, retention: [1, 0, 1, 0] },
      { cohort: '2025-02', customers: 1, retention: [1, 0, 0] },
      { cohort: '2025-03', customers: 0, retention: [null, null] },
      { cohort: '2025-04', customers: 1, retention: [1] },
    ]);
  });

  it('buckets by ISO week and by day, clipped to the range', async () => {
    const weeks = await kpis('from=2025-02-05&to=2025-02-16&period=week');
    expect(weeks.buckets.map((b) => [b.key, b.start, b.end, b.orders, b.revenue])).toEqual([
      ['2025-02-03', '2025-02-05', '2025-02-09', 1, 30],
      ['2025-02-10', '2025-02-10', '2025-02-16', 1, 80],
    ]);
    const days = await kpis('from=2025-02-14&to=2025-02-15&period=day');
    expect(days.buckets.map((b) => [b.key, b.orders])).toEqual([['2025-02-14', 1], ['2025-02-15', 0]]);
    // c's order on the 14th is its first: it is not a repeat yet.
    expect(days.buckets[0]!.repeatPurchaseRate).toBe(0);
  });

  it('counts only current members of a segment', async () => {
    const seg = (await admin('POST', '/api/segments', { name: 'Two orders or more', rule: { event: 'Order Completed', count: { gte: 2 } } })).json() as { id: string; size: number };
    expect(seg.size).toBe(3);
    const r = await kpis(`from=2025-01-01&to=2025-04-30&segment=${encodeURIComponent(seg.id)}`);
    expect(r.segment).toBe(seg.id);
    // a, b and c; not d (no orders) nor e (one). Their NPS answers are [10, 9, 8, 3]: 25.
    expect(r.totals).toMatchObject({ customers: { total: 3, active: 3, new: 2, buyers: 3 }, orders: 6, revenue: 480, repeatPurchaseRate: 1, nps: 25, npsResponses: 4, cltv: { predicted: 200 } });
    expect(r.buckets[3]).toMatchObject({ orders: 0, revenue: 0, customers: { total: 3, active: 0, new: 0, buyers: 0 } });
  });

  it('defaults to the twelve months up to today, by month', async () => {
    const r = await kpis('');
    const today = new Date().toISOString().slice(0, 10);
    expect(r.to).toBe(today);
    expect(r.period).toBe('month');
    expect(r.buckets.length).toBe(13);
    expect(r.buckets.at(-1)!.end).toBe(today);
  });

  it('refuses bad ranges and periods naming the field, and an unknown segment with 404', async () => {
    const field = async (query: string, status = 400) => {
      const res = await t.get(`/api/analytics/kpis?${query}`);
      expect(res.statusCode, res.body).toBe(status);
      return (res.json() as { field: string }).field;
    };
    expect(await field('from=yesterday')).toBe('from');
    expect(await field('from=2025-13-01')).toBe('from');
    expect(await field('to=2025-02-30')).toBe('to');
    expect(await field('from=2025-03-01&to=2025-02-01')).toBe('from');
    expect(await field('period=year')).toBe('period');
    expect(await field('from=2000-01-01&to=2025-01-01&period=day')).toBe('period');
    expect(await field('segment=no-such-segment', 404)).toBe('segment');
    expect((await t.app.inject({ method: 'GET', url: '/api/analytics/kpis' })).statusCode).toBe(401);
  });
});
