import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignReport, type CampaignReport } from '../src/activate/attribution.js';
import { SKIP_REASONS } from '../src/activate/campaign.js';
import { secretHash } from '../src/privacy/accounts.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { campaignRow, profileIdsOf } from './helpers/campaigns.js';
import { backends } from './helpers/backends.js';

const WS = 'default';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const ANALYST_TOKEN = 'ct_campaign_report_analyst';
const AUDITOR_TOKEN = 'ct_campaign_report_auditor';

// T0 is 10:00 UTC a month ago, so every window closed long before the test runs and days are unambiguous.
const today = Date.parse(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
const T0 = today - 30 * DAY + 10 * HOUR;
const at = (days: number, hours = 0) => new Date(T0 + days * DAY + hours * HOUR);
const dayOf = (days: number) => at(days).toISOString().slice(0, 10);

/**
 * Campaign C1 (7-day window, cost 37 + 0.5 per message, control group):
 *   p1  sent T0, ordered 100 at T0+2d                       converted, attributed
 *   p2  sent T0, ordered 40 at T0−1d and 30 at T0+7d+1h     before the send / after the window: neither
 *   p3  sent T0, ordered 200 at T0+3d, but C2 sent at T0+1d converted for C1, attributed to C2 (last touch)
 *   p4  sent T0, ordered 20 at exactly T0+7d                the window's end is inside: converted, attributed
 *   p11 sent T0, C2 sent earlier (T0−2d), ordered 70 T0+1d  attributed to C1, the later send
 *   p12 sent T0 as an anonymous profile merged since into
 *       one that ordered 10 at T0+4d                        converted, attributed through the merge
 *   p5  control (queued T0−1h), ordered 60 at T0+1d         a control conversion
 *   p6  control, no order
 *   p7, p8 skipped (no_consent, frequency_cap), p9 failed (3 attempts), p10 pending
 */
describe.each(backends)('campaign report on $name', (backend) => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  let report: CampaignReport;

  const order = (userId: string, when: Date, revenue: number, id: string) => ({ type: 'track', userId, event: 'Order Completed', timestamp: when.toISOString(), properties: { revenue, order_id: id } });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await startTestApp(backend);
    const db = t.database.db;
    const people = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10', 'p11', 'u12'];
    const batch = [
      ...people.map((userId) => ({ type: 'identify', userId, traits: { city: 'Hangzhou' }, timestamp: at(-5).toISOString() })),
      { type: 'identify', anonymousId: 'anon-12', traits: { plan: 'trial' }, timestamp: at(-5).toISOString() },
      order('p1', at(2), 100, 'o1'),
      order('p2', at(-1), 40, 'o2a'),
      order('p2', at(7, 1), 30, 'o2b'),
      order('p3', at(3), 200, 'o3'),
      order('p4', at(7), 20, 'o4'),
      order('p11', at(1), 70, 'o11'),
      order('u12', at(4), 10, 'o12'),
      order('p5', at(1), 60, 'o5'),
    ];
    const res = await t.send('/v1/batch', { batch });
    expect(res.statusCode, res.body).toBe(200);
    await t.drain();
    Object.assign(ids, await profileIdsOf(t, people));
    // Signing in joins the anonymous visitor and u12: whichever side survives, the send below names the other.
    expect((await t.send('/v1/identify', { userId: 'u12', anonymousId: 'anon-12' })).statusCode).toBe(200);
    await t.drain();
    const mergedAway = await db.selectFrom('profiles').select('id').where('workspace_id', '=', WS).where('merged_into', 'is not', null).execute();
    expect(mergedAway).toHaveLength(1);
    ids.p12 = mergedAway[0]!.id;

    const campaign = (id: string, extra: { fixed_cost?: number; cost_per_message?: number; control_percent?: number }) => campaignRow({ workspace_id: WS, id, attribution_days: 7, ...extra });
    await db.insertInto('campaigns').values([campaign('c1', { fixed_cost: 37, cost_per_message: 0.5, control_percent: 25 }), campaign('c2', {})]).execute();

    type Send = { campaign: string; who: string; arm?: 'treatment' | 'control'; status: 'pending' | 'sending' | 'sent' | 'failed' | 'skipped' | 'control'; reason?: string; sentAt?: Date; queuedAt?: Date };
    const sends: Send[] = [
      ...['p1', 'p2', 'p3', 'p4', 'p11', 'p12'].map((who): Send => ({ campaign: 'c1', who, status: 'sent', sentAt: at(0) })),
      { campaign: 'c1', who: 'p5', arm: 'control', status: 'control', reason: 'control' },
      { campaign: 'c1', who: 'p6', arm: 'control', status: 'control', reason: 'control' },
      { campaign: 'c1', who: 'p7', status: 'skipped', reason: 'no_consent' },
      { campaign: 'c1', who: 'p8', status: 'skipped', reason: 'frequency_cap' },
      { campaign: 'c1', who: 'p9', status: 'failed' },
      { campaign: 'c1', who: 'p10', status: 'pending' },
      { campaign: 'c2', who: 'p3', status: 'sent', sentAt: at(1), queuedAt: at(1, -1) },
      { campaign: 'c2', who: 'p11', status: 'sent', sentAt: at(-2), queuedAt: at(-2, -1) },
    ];
    await db
      .insertInto('campaign_sends')
      .values(
        sends.map((s) => ({
          workspace_id: WS,
          campaign_id: s.campaign,
          profile_id: ids[s.who]!,
          arm: s.arm ?? 'treatment',
          status: s.status,
          reason: s.reason ?? null,
          next_attempt_at: s.queuedAt ?? at(0, -1),
          queued_at: s.queuedAt ?? at(0, -1),
          sent_at: s.sentAt ?? null,
        })),
      )
      .execute();
    await db
      .insertInto('send_attempts')
      .values([
        { workspace_id: WS, campaign_id: 'c1', profile_id: ids.p1!, attempt: 1, at: at(0), outcome: 'sent', status_code: 200, error: null, ms: 12 },
        ...[1, 2, 3].map((attempt) => ({ workspace_id: WS, campaign_id: 'c1', profile_id: ids.p9!, attempt, at: at(0, attempt), outcome: attempt < 3 ? ('retry' as const) : ('failed' as const), status_code: 503, error: 'unavailable', ms: 30 })),
      ])
      .execute();
    await db
      .insertInto('api_tokens')
      .values([
        { workspace_id: WS, id: 'report-analyst', name: 'report-analyst', token_hash: secretHash(ANALYST_TOKEN), role: 'analyst' },
        { workspace_id: WS, id: 'report-auditor', name: 'report-auditor', token_hash: secretHash(AUDITOR_TOKEN), role: 'auditor' },
      ])
      .execute();

    const res1 = await t.get('/api/campaigns/c1/report');
    expect(res1.statusCode, res1.body).toBe(200);
    report = res1.json() as CampaignReport;
  });
  afterAll(async () => t?.close());

  it('counts the outbox: by status, skips by reason, attempts', () => {
    expect(report).toMatchObject({ campaignId: 'c1', name: 'Campaign c1', channel: 'email', status: 'done', currency: 'CNY', attributionDays: 7 });
    expect(report.counts).toEqual({
      queued: 12,
      pending: 1,
      sending: 0,
      sent: 6,
      failed: 1,
      skipped: 2,
      control: 2,
      // Every known reason is listed, 0 when none was recorded.
      skippedByReason: { ...Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])), no_consent: 1, frequency_cap: 1 },
      attempts: 4,
    });
  });

  it('counts conversions in each person’s window: not before the send, not after the window, the window’s end inside, through a merge', () => {
    expect(report.conversions.treatment).toEqual({ people: 6, converted: 5, rate: 5 / 6, revenue: 400 });
    expect(report.conversions.control).toEqual({ people: 2, converted: 1, rate: 0.5, revenue: 60 });
  });

  it('measures uplift against the control group and the incremental figures', () => {
    const u = report.conversions.uplift!;
    expect(u.absolute).toBeCloseTo(1 / 3, 12);
    expect(u.relative).toBeCloseTo(2 / 3, 12);
    // pooled 6/8: SE = √(0.75·0.25·(1/6 + 1/2)) = √0.125
    expect(u.z).toBeCloseTo(1 / 3 / Math.sqrt(0.125), 9);
    expect(u.pValue).toBeCloseTo(0.3457786, 5);
    expect(u.ci95[0]).toBeLessThan(0);
    expect(u.ci95[1]).toBeGreaterThan(1 / 3);
    expect(report.conversions.incrementalConversions).toBeCloseTo(2, 9);
    expect(report.conversions.incrementalRevenue).toBeCloseTo(220, 9);
  });

  it('attributes by last touch: the later campaign gets the order, orders outside every window none', () => {
    expect(report.attribution).toEqual({ model: 'last-touch', orders: 4, revenue: 200 });
  });

  it('works out cost and both returns exactly', () => {
    expect(report.cost).toBe(40);
    expect(report.roi).toBe(4);
    expect(report.roiIncremental).toBeCloseTo(4.5, 9);
    expect(report.notes.some((n) => n.includes('biased'))).toBe(true);
    expect(report.notes.some((n) => n.includes('still open'))).toBe(false);
  });

  it('gives a daily series without gaps', () => {
    expect(report.series).toEqual([
      { day: dayOf(0), sent: 6, orders: 0, revenue: 0 },
      { day: dayOf(1), sent: 0, orders: 1, revenue: 70 },
      { day: dayOf(2), sent: 0, orders: 1, revenue: 100 },
      { day: dayOf(3), sent: 0, orders: 0, revenue: 0 },
      { day: dayOf(4), sent: 0, orders: 1, revenue: 10 },
      { day: dayOf(5), sent: 0, orders: 0, revenue: 0 },
      { day: dayOf(6), sent: 0, orders: 0, revenue: 0 },
      { day: dayOf(7), sent: 0, orders: 1, revenue: 20 },
    ]);
    expect(Date.parse(report.computedAt)).toBeGreaterThan(T0);
  });

  it('the later campaign of the two gets the shared person’s order; without control or cost its uplift and ROI are null with notes', async () => {
    const res = await get('/api/campaigns/c2/report', ANALYST_TOKEN);
    expect(res.statusCode, res.body).toBe(200);
    const c2 = res.json() as CampaignReport;
    expect(c2.attribution).toEqual({ model: 'last-touch', orders: 1, revenue: 200 });
    // p3 (200, in C2's window) and p11 (70 at T0+1d, in C2's window from T0−2d) both converted for C2.
    expect(c2.conversions.treatment).toEqual({ people: 2, converted: 2, rate: 1, revenue: 270 });
    expect(c2.conversions).toMatchObject({ control: null, uplift: null, incrementalConversions: null, incrementalRevenue: null });
    expect(c2).toMatchObject({ cost: 0, roi: null, roiIncremental: null });
    expect(c2.notes.some((n) => n.includes('no control group'))).toBe(true);
    expect(c2.notes.some((n) => n.includes('no cost'))).toBe(true);
    expect(c2.series.map((s) => s.day)).toEqual([dayOf(-2), dayOf(-1), dayOf(0), dayOf(1), dayOf(2), dayOf(3)]);
    expect(c2.series.find((s) => s.day === dayOf(3))).toMatchObject({ orders: 1, revenue: 200 });
  });

  it('as of an earlier time: later orders do not count yet, and open windows are noted', async () => {
    const early = (await campaignReport(t.database.db, WS, 'c1', at(2, 1)))!;
    expect(early.conversions.treatment).toMatchObject({ converted: 2, revenue: 170 });
    expect(early.attribution).toEqual({ model: 'last-touch', orders: 2, revenue: 170 });
    expect(early.notes.some((n) => n.includes('still open'))).toBe(true);
    expect(early.computedAt).toBe(at(2, 1).toISOString());
  });

  it('an analyst token reads the report; a role without campaigns.read may not', async () => {
    const res = await get('/api/campaigns/c1/report', ANALYST_TOKEN);
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as CampaignReport).attribution.revenue).toBe(200);
    expect((await get('/api/campaigns/c1/report', AUDITOR_TOKEN)).statusCode).toBe(403);
  });

  it('answers 404 for a campaign the workspace does not have', async () => {
    const res = await t.get('/api/campaigns/no-such-campaign/report');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'CUSTODIAN_NOT_FOUND', field: 'id' });
    expect(await campaignReport(t.database.db, 'another-workspace', 'c1')).toBeNull();
  });

  it('lists no person: the answer names no profile id', () => {
    const text = JSON.stringify(report);
    for (const id of Object.values(ids)) expect(text).not.toContain(id);
  });
});
