import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignMonthSource } from '../src/activate/monthly-campaigns.js';
import { campaignSection, gatherMonthlyReport, storedMonthlyReport, storeMonthlyReport, type CampaignFigures } from '../src/analytics/report-data.js';
import { renderReportCsv, renderReportHtml, type MonthlyReport } from '../src/analytics/report.js';
import { createStorage } from '../src/storage/database.js';
import { backends, type Backend } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, TEST_MASTER_KEY, type TestApp } from './helpers/app.js';
import { campaignRow, profileIdsOf } from './helpers/campaigns.js';
import { killAll, runCli } from './helpers/process.js';

const track = (userId: string, event: string, timestamp: string, properties: Record<string, unknown> = {}) => ({ type: 'track', userId, event, timestamp, properties });

/* January: a buys for 50. February: a buys for 30 and answers a survey (NPS 10, CSAT 5); b buys for 100.50. */
const EVENTS = [
  track('a', 'Order Completed', '2025-01-10T10:00:00Z', { order_id: 'a1', total: 50 }),
  track('a', 'Order Completed', '2025-02-05T10:00:00Z', { order_id: 'a2', total: 30 }),
  track('a', 'Survey Responded', '2025-02-10T10:00:00Z', { nps: 10, csat: 5 }),
  track('b', 'Order Completed', '2025-02-12T10:00:00Z', { order_id: 'b1', total: 100.5 }),
];

async function seed(t: TestApp): Promise<void> {
  expect((await t.send('/v1/batch', { batch: EVENTS })).statusCode).toBe(200);
  await t.drain();
}

describe.each(backends)('monthly report API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const profileId = async (userId: string) => ((await t.get(`/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;

  beforeAll(async () => {
    t = await startTestApp(backend);
    await seed(t);
    expect((await admin('POST', '/api/segments', { name: '<script>alert("x")</script>', rule: { event: 'Order Completed', count: { gte: 1 } } })).statusCode).toBe(201);
    expect((await admin('GET', '/api/analytics/rfm')).statusCode).toBe(200);
    // CLV and feedback runs come from other modules; their stored results are what the report reads.
    const now = new Date();
    const run = (id: string, kind: string, result: unknown) => ({ workspace_id: 'default', id, kind, status: 'done', params: '{}', progress: '{}', result: JSON.stringify(result), started_at: now, finished_at: now });
    await t.database.db
      .insertInto('analytics_runs')
      .values([
        run('00000000-0000-4000-8000-000000000001', 'clv', { summary: { customers: 2, meanClv: 150.25, totalClv: 300.5 }, distribution: [{ lower: 0, upper: 100, count: 1 }, { lower: 100, upper: 200, count: 1 }, { junk: true }] }),
        run('00000000-0000-4000-8000-000000000002', 'feedback', {
          nps: 40,
          csat: { score: 80 },
          sentiment: { positive: 3, neutral: 1, negative: 1 },
          themes: [{ name: 'delivery', en: 'Delivery <b>late</b>', zh: '物流', documents: 3, share: 0.6, sentiment: -0.2 }, 'not a theme'],
          complaints: 2,
        }),
      ])
      .execute();
    await t.database.db
      .insertInto('profile_scores')
      .values([
        { workspace_id: 'default', profile_id: await profileId('a'), name: 'churn_risk', value: 0.15, label: null, computed_at: now },
        { workspace_id: 'default', profile_id: await profileId('b'), name: 'churn_risk', value: 1, label: null, computed_at: now },
      ])
      .execute();
  });
  afterAll(async () => t.close());

  it('renders the month as self-contained printable HTML with its figures, charts and every section', async () => {
    const res = await t.get('/api/analytics/report?month=2025-02');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-disposition']).toContain('custodian-report-2025-02.html');
    const html = res.body;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html).toContain('@media print');
    expect(html).toContain('break-before: page');
    // February against January: revenue 130.50 against 50.00, 2 orders against 1, NPS 100.
    expect(html).toContain('<td>130.50</td><td>50.00</td>');
    expect(html).toMatch(/<td>Orders<\/td><td>2<\/td><td>1<\/td>/);
    expect(html).toMatch(/<td>NPS<\/td><td>100\.0<\/td>/);
    // No script may run, and user text is escaped.
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Delivery &lt;b&gt;late&lt;/b&gt;');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('150.25');
    expect(html).toContain('Champions');
    // No campaign here: said plainly, and nothing says campaigns are missing from the product.
    expect(html).toContain('No campaign sent messages in 2025-02.');
    expect(html).not.toContain('not built');
    expect(html).toContain('Churn risk');
  });

  it('speaks zh-CN when asked', async () => {
    const html = (await t.get('/api/analytics/report?month=2025-02&lang=zh-CN')).body;
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('月度经营报告');
    expect(html).toContain('<td>销售额</td><td>130.50</td>');
    expect(html).toContain('物流');
    expect(html).toContain('冠军客户');
  });

  it('gives CSV: a header and a row per figure, with the month, the one before and the change', async () => {
    const res = await t.get('/api/analytics/report?month=2025-02&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.replace(/^\ufeff/, '').split('\r\n');
    expect(lines[0]).toBe('section,metric,label,period,value,previous,change');
    expect(lines).toContain('kpi,orders,Orders,2025-02,2,1,1');
    expect(lines).toContain('kpi,revenue,Revenue,2025-02,130.5,50,80.5');
    expect(lines).toContain('kpi,nps,NPS,2025-02,100,,');
    expect(lines).toContain('kpi,campaign_roi,Campaign ROI,2025-02,,,');
    expect(lines).toContain('trend,revenue,Revenue,2025-01,50,,');
    expect(lines.some((l) => l.startsWith('segment,') && l.includes('"<script>alert(""x"")</script>"'))).toBe(true);
    expect(lines.some((l) => l.startsWith('clv,mean_clv,') && l.endsWith(',150.25,,'))).toBe(true);
    expect(lines.some((l) => l.startsWith('churn_risk,bin_0.9_1.0,') && l.endsWith(',1,,'))).toBe(true);
    const zh = (await t.get('/api/analytics/report?month=2025-02&format=csv&lang=zh-CN')).body;
    expect(zh).toContain('kpi,orders,订单数,2025-02,2,1,1');
    expect(lines).toContain('campaign,campaigns,Total – Campaigns,2025-02,0,,');
  });

  it('refuses a bad month, format or language naming the field', async () => {
    for (const [query, field] of [['month=2025-13', 'month'], ['month=February', 'month'], ['', 'month'], ['month=2025-02&format=pdf', 'format'], ['month=2025-02&lang=fr', 'lang']] as const) {
      const res = await t.get(`/api/analytics/report?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect((res.json() as { field: string }).field, query).toBe(field);
    }
  });
});

const identify = (userId: string) => ({ type: 'identify', userId, traits: { plan: 'basic' }, timestamp: '2025-01-02T10:00:00Z' });
const orderOf = (userId: string, timestamp: string, total: number) => track(userId, 'Order Completed', timestamp, { order_id: `o-${userId}-${timestamp}`, total });
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/*
 * February 2025 (UTC):
 *   cs "Spring sale", email, 7 days, fixed 10 + 0.5 a message: sent to t1…t10 on 02-03 10:00; k1…k10
 *      held out; s1, s2 skipped for no consent, s3 for the frequency cap. t1…t8 order 20 on 02-05, and
 *      k1 does: treatment 8/10, control 1/10, uplift 70 points (z ≈ 3.15, p ≈ 0.0017: significant);
 *      160 attributed, cost 15, ROI 145 / 15.
 *   cw "Winter <b>clearance</b>", sms, 3 days, 1 a message: sent to t9, t10 on 02-20 and u1 on 03-02
 *      (its whole life goes past the month). t9 orders 50 on 02-21 (cw touched last; cs's window is over),
 *      u1 40 on 03-03: 90 attributed, cost 3, ROI 29; no control group.
 *   cz "Quiet push", wechat, no cost: sent to k2 on 02-25, who never orders.
 *   cj "January only": sent to t1 on 01-15; not February's.
 * Total: 13 sent in the month, 14 in all, 250 attributed, cost 18, ROI 232 / 18.
 */
describe.each(backends)('the report’s Campaigns section on $name', (backend) => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  const treated = range('t', 10);
  const held = range('k', 10);

  beforeAll(async () => {
    t = await startTestApp(backend);
    const people = [...treated, ...held, 's1', 's2', 's3', 'u1'];
    const batch = [
      ...people.map(identify),
      ...treated.slice(0, 8).map((p) => orderOf(p, '2025-02-05T10:00:00Z', 20)),
      orderOf('k1', '2025-02-05T10:00:00Z', 20),
      orderOf('t9', '2025-02-21T10:00:00Z', 50),
      orderOf('u1', '2025-03-03T10:00:00Z', 40),
    ];
    const res = await t.send('/v1/batch', { batch });
    expect(res.statusCode, res.body).toBe(200);
    await t.drain();
    Object.assign(ids, await profileIdsOf(t, people));
    const db = t.database.db;
    const campaign = (id: string, name: string, channel: string, attribution_days: number, cost: { fixed_cost?: number; cost_per_message?: number; control_percent?: number }) =>
      campaignRow({ id, name, channel, attribution_days, ...cost });
    await db
      .insertInto('campaigns')
      .values([
        campaign('cs', 'Spring sale', 'email', 7, { fixed_cost: 10, cost_per_message: 0.5, control_percent: 50 }),
        campaign('cw', 'Winter <b>clearance</b>', 'sms', 3, { cost_per_message: 1 }),
        campaign('cz', 'Quiet push', 'wechat', 7, {}),
        campaign('cj', 'January only', 'email', 7, { cost_per_message: 1 }),
      ])
      .execute();
    const send = (campaignId: string, who: string, status: 'sent' | 'control' | 'skipped', at: string, reason: string | null = null) => {
      const sentAt = new Date(at);
      const queuedAt = new Date(sentAt.getTime() - 3_600_000);
      return {
        workspace_id: 'default',
        campaign_id: campaignId,
        profile_id: ids[who]!,
        arm: status === 'control' ? ('control' as const) : ('treatment' as const),
        status,
        reason: status === 'control' ? 'control' : reason,
        next_attempt_at: queuedAt,
        queued_at: queuedAt,
        sent_at: status === 'sent' ? sentAt : null,
      };
    };
    await db
      .insertInto('campaign_sends')
      .values([
        ...treated.map((p) => send('cs', p, 'sent', '2025-02-03T10:00:00Z')),
        ...held.map((p) => send('cs', p, 'control', '2025-02-03T10:00:00Z')),
        send('cs', 's1', 'skipped', '2025-02-03T10:00:00Z', 'no_consent'),
        send('cs', 's2', 'skipped', '2025-02-03T10:00:00Z', 'no_consent'),
        send('cs', 's3', 'skipped', '2025-02-03T10:00:00Z', 'frequency_cap'),
        send('cw', 't9', 'sent', '2025-02-20T10:00:00Z'),
        send('cw', 't10', 'sent', '2025-02-20T10:00:00Z'),
        send('cw', 'u1', 'sent', '2025-03-02T10:00:00Z'),
        send('cz', 'k2', 'sent', '2025-02-25T10:00:00Z'),
        send('cj', 't1', 'sent', '2025-01-15T10:00:00Z'),
      ])
      .execute();
  });
  afterAll(async () => t?.close());

  const csvLines = async (query: string) => {
    const res = await t.get(`/api/analytics/report?${query}&format=csv&fresh=true`);
    expect(res.statusCode, res.body).toBe(200);
    return res.body.replace(/^\ufeff/, '').split('\r\n');
  };
  /** The value of a campaign row by its metric. */
  const value = (lines: string[], metric: string) => {
    const line = lines.find((l) => l.startsWith(`campaign,${metric},`));
    expect(line, metric).toBeDefined();
    return line!.split(',').at(-3);
  };

  it('lists the month’s campaigns by attributed revenue with their figures, and a total, in HTML', async () => {
    const res = await t.get('/api/analytics/report?month=2025-02&fresh=true');
    expect(res.statusCode, res.body).toBe(200);
    const html = res.body;
    const section = html.slice(html.indexOf('<h2>Campaigns</h2>'), html.indexOf('<h2>Data quality</h2>'));
    expect(section).toContain(
      '<tr><td>Spring sale</td><td>Email</td><td>10</td><td>10</td><td>3<br><small>no consent 2 · frequency cap 1</small></td><td>10</td>' +
        '<td>80.0%<br><small>8 / 10</small></td><td>10.0%<br><small>1 / 10</small></td><td><strong>+70.0 pt *</strong><br><small>p = 0.002</small></td>' +
        '<td>160.00 CNY<br><small>Orders: 8</small></td><td>15.00 CNY</td><td>9.67</td></tr>',
    );
    expect(section).toContain(
      '<tr><td>Winter &lt;b&gt;clearance&lt;/b&gt;</td><td>SMS</td><td>2</td><td>3</td><td>0</td><td>0</td><td>66.7%<br><small>2 / 3</small></td><td>–</td><td>–</td>' +
        '<td>90.00 CNY<br><small>Orders: 2</small></td><td>3.00 CNY</td><td>29.00</td></tr>',
    );
    expect(section).toContain('<tr><td>Quiet push</td><td>WeChat</td><td>1</td><td>1</td>');
    expect(section).toContain(
      '<tr><td><strong>Total</strong></td><td></td><td>13</td><td>14</td><td>3</td><td>10</td><td>–</td><td>–</td><td>–</td><td>250.00 CNY<br><small>Orders: 10</small></td><td>18.00 CNY</td><td>12.89</td></tr>',
    );
    expect(section.indexOf('Spring sale')).toBeLessThan(section.indexOf('Winter'));
    expect(section.indexOf('Winter')).toBeLessThan(section.indexOf('Quiet push'));
    expect(section).not.toContain('January only');
    expect(section).toContain('(3 of 3 shown; the total row covers all 3)');
    expect(section).toContain('whole life');
    expect(section).toContain('* significant at p &lt; 0.05');
  });

  it('says the same in Chinese', async () => {
    const html = (await t.get('/api/analytics/report?month=2025-02&lang=zh-CN&fresh=true')).body;
    const section = html.slice(html.indexOf('<h2>营销活动</h2>'), html.indexOf('<h2>数据质量</h2>'));
    expect(section).toContain('<tr><td>Spring sale</td><td>邮件</td><td>10</td><td>10</td><td>3<br><small>未获同意 2 · 频次上限 1</small></td><td>10</td>');
    expect(section).toContain('<td><strong>+70.0 pt *</strong><br><small>p = 0.002</small></td><td>160.00 CNY<br><small>订单数：8</small></td><td>15.00 CNY</td><td>9.67</td></tr>');
    expect(section).toContain('<tr><td><strong>合计</strong></td><td></td><td>13</td><td>14</td><td>3</td><td>10</td>');
    expect(section).toContain('250.00 CNY');
    expect(section).toContain('<th>本月发送</th><th>累计发送</th>');
    expect(section).toContain('共 3 个，显示 3 个');
  });

  it('gives a CSV row per figure, by campaign id, and the total by the field alone, in both languages', async () => {
    const lines = await csvLines('month=2025-02');
    expect(lines).toContain('campaign,channel:cs,Spring sale – Channel,2025-02,email,,');
    expect(lines).toContain('campaign,sent_in_month:cs,Spring sale – Sent in month,2025-02,10,,');
    expect(lines).toContain('campaign,skipped_no_consent:cs,Spring sale – Skipped: no consent,2025-02,2,,');
    expect(lines).toContain('campaign,skipped_frequency_cap:cs,Spring sale – Skipped: frequency cap,2025-02,1,,');
    expect(lines).toContain('campaign,control:cs,Spring sale – Control group,2025-02,10,,');
    expect(lines).toContain('campaign,treatment_rate:cs,Spring sale – Conversion rate (treatment),2025-02,0.8,,');
    expect(lines).toContain('campaign,control_rate:cs,Spring sale – Conversion rate (control),2025-02,0.1,,');
    expect(Number(value(lines, 'uplift:cs'))).toBeCloseTo(0.7, 12);
    expect(Number(value(lines, 'p_value:cs'))).toBeGreaterThan(0.001);
    expect(Number(value(lines, 'p_value:cs'))).toBeLessThan(0.0025);
    expect(lines).toContain('campaign,significant:cs,Spring sale – Significant (p < 0.05),2025-02,1,,');
    expect(lines).toContain('campaign,attributed_revenue:cs,Spring sale – Attributed revenue,2025-02,160,,');
    expect(lines).toContain('campaign,cost:cs,Spring sale – Cost,2025-02,15,,');
    expect(Number(value(lines, 'roi:cs'))).toBeCloseTo(145 / 15, 12);
    expect(lines).toContain('campaign,sent_in_month:cw,Winter <b>clearance</b> – Sent in month,2025-02,2,,');
    expect(lines).toContain('campaign,sent:cw,Winter <b>clearance</b> – Sent (all),2025-02,3,,');
    expect(lines).toContain('campaign,uplift:cw,Winter <b>clearance</b> – Uplift,2025-02,,,');
    expect(lines).toContain('campaign,roi:cw,Winter <b>clearance</b> – ROI,2025-02,29,,');
    expect(lines).toContain('campaign,roi:cz,Quiet push – ROI,2025-02,,,');
    expect(lines.some((l) => l.includes(':cj,'))).toBe(false);
    expect(lines).toContain('campaign,campaigns,Total – Campaigns,2025-02,3,,');
    expect(lines).toContain('campaign,sent_in_month,Total – Sent in month,2025-02,13,,');
    expect(lines).toContain('campaign,attributed_revenue,Total – Attributed revenue,2025-02,250,,');
    expect(lines).toContain('campaign,cost,Total – Cost,2025-02,18,,');
    expect(Number(value(lines, 'roi'))).toBeCloseTo(232 / 18, 12);
    // Rows keep the section's order: by attributed revenue.
    const order = lines.filter((l) => l.startsWith('campaign,channel:')).map((l) => l.split(',')[1]);
    expect(order).toEqual(['channel:cs', 'channel:cw', 'channel:cz']);

    const zh = await csvLines('month=2025-02&lang=zh-CN');
    expect(zh).toContain('campaign,sent_in_month:cs,Spring sale – 本月发送,2025-02,10,,');
    expect(zh).toContain('campaign,skipped_no_consent:cs,Spring sale – 跳过: 未获同意,2025-02,2,,');
    expect(zh).toContain('campaign,attributed_revenue,合计 – 归因销售额,2025-02,250,,');
  });

  it('says plainly when no campaign sent anything in the month', async () => {
    const html = (await t.get('/api/analytics/report?month=2024-12&fresh=true')).body;
    expect(html).toContain('No campaign sent messages in 2024-12.');
    const zh = (await t.get('/api/analytics/report?month=2024-12&lang=zh-CN&fresh=true')).body;
    expect(zh).toContain('2024-12 没有营销活动发送消息。');
    expect(await csvLines('month=2024-12')).toContain('campaign,campaigns,Total – Campaigns,2024-12,0,,');
    // January had only cj: a month is its own.
    const january = await csvLines('month=2025-01');
    expect(january).toContain('campaign,campaigns,Total – Campaigns,2025-01,1,,');
    expect(january).toContain('campaign,sent_in_month:cj,January only – Sent in month,2025-01,1,,');
  });

  it('keeps the section in the stored report, naming no person', async () => {
    const now = new Date('2025-03-01T01:00:00Z');
    const options = { workspaceId: 'default', month: '2025-02', campaigns: campaignMonthSource(t.database.db, 'default'), now };
    await storeMonthlyReport(t.database, options);
    const kept = (await storedMonthlyReport(t.database, 'default', '2025-02'))!;
    // As of the 1st of March u1's order (03-03) does not count yet. The outbox counts are the table's as it
    // stands (campaignReport bounds orders by its now, not sends): a real run never has sends after its now.
    expect(kept.campaigns).toMatchObject({ asOf: now.toISOString(), count: 3, total: { sentInMonth: 13, sent: 14, attributedRevenue: 210, cost: 18, currency: 'CNY' } });
    expect(kept.campaigns!.rows.map((r) => r.id)).toEqual(['cs', 'cw', 'cz']);
    expect(kept.campaigns!.rows[0]).toMatchObject({ treatment: { people: 10, converted: 8 }, controlArm: { people: 10, converted: 1 }, uplift: { significant: true } });
    // The route answers the kept report for the month.
    expect((await t.get('/api/analytics/report?month=2025-02&format=csv')).body).toContain('campaign,attributed_revenue,Total – Attributed revenue,2025-02,210,,');
    const text = JSON.stringify(await gatherMonthlyReport(t.database, options));
    for (const id of Object.values(ids)) expect(text).not.toContain(id);
  });

  it('says so when a report was kept before campaigns were counted', async () => {
    const older: MonthlyReport = { ...(await gatherMonthlyReport(t.database, { workspaceId: 'default', month: '2025-02' })), campaigns: null };
    expect(renderReportHtml(older, 'en')).toContain('Campaigns were not counted when this report was kept.');
    expect(renderReportHtml(older, 'zh-CN')).toContain('保存本报告时未统计营销活动。');
    expect(renderReportCsv(older, 'en')).not.toContain('\r\ncampaign,');
  });
});

describe('the Campaigns section’s ranking and total', () => {
  const figures = (i: number, revenue: number, currency = 'CNY'): CampaignFigures => ({
    id: `c${String(i).padStart(2, '0')}`,
    name: `Campaign ${i}`,
    channel: 'email',
    currency,
    sentInMonth: 1,
    sent: 2,
    skipped: 3,
    skippedByReason: { no_consent: 1, frequency_cap: 0, erased: 1, merged: 1, no_address: 0 },
    control: 1,
    treatment: { people: 2, converted: 1, rate: 0.5 },
    controlArm: null,
    uplift: null,
    attributedOrders: 1,
    attributedRevenue: revenue,
    cost: 1,
    roi: revenue - 1,
  });

  it('shows the 20 that earned most, totals all of them, and the three commonest skip reasons', () => {
    const section = campaignSection(Array.from({ length: 25 }, (_, i) => figures(i, i * 10)), new Date('2025-03-01T00:00:00Z'));
    expect(section.count).toBe(25);
    expect(section.rows).toHaveLength(20);
    expect(section.rows[0]!.id).toBe('c24');
    expect(section.rows.at(-1)!.id).toBe('c05');
    expect(section.total).toMatchObject({ sentInMonth: 25, sent: 50, attributedRevenue: 3000, cost: 25, roi: (3000 - 25) / 25, currency: 'CNY' });
    expect(section.rows[0]!.topSkipReasons).toEqual([
      { reason: 'erased', count: 1 },
      { reason: 'merged', count: 1 },
      { reason: 'no_consent', count: 1 },
    ]);
  });

  it('does not add money across currencies', () => {
    const section = campaignSection([figures(1, 10, 'CNY'), figures(2, 20, 'USD')], new Date());
    expect(section.total).toMatchObject({ attributedRevenue: null, cost: null, roi: null, currency: null, attributedOrders: 2 });
  });
});

describe('custodian report', () => {
  const root = mkdtempSync(join(tmpdir(), 'custodian-report-'));
  const dataDir = join(root, 'data');
  const env = { CUSTODIAN_MASTER_KEY: TEST_MASTER_KEY.toString('hex') };

  beforeAll(async () => {
    // Fill an embedded data directory the way the server would, then leave it for the CLI.
    const onDisk: Backend = { name: 'pglite', open: () => createStorage({ kind: 'pglite', dataDir, command: 'test' }) };
    const t = await startTestApp(onDisk);
    try {
      await seed(t);
    } finally {
      await t.close();
    }
  });
  afterAll(async () => {
    await killAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes the HTML report to a file, and CSV in Chinese when asked', async () => {
    const out = join(root, 'report.html');
    const run = await runCli(['report', '--month', '2025-02', '-o', out, '--data', dataDir], env, 90_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`wrote ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<td>130.50</td><td>50.00</td>');
    expect(html).toContain('<svg');
    // No CLV or feedback run in this directory.
    expect(html).toContain('Not computed yet.');
    expect(existsSync(`${out}.partial`)).toBe(false);

    const csv = join(root, 'report.csv');
    const zh = await runCli(['report', '--month', '2025-02', '-o', csv, '--lang', 'zh-CN', '--data', dataDir], env, 90_000);
    expect(zh.code, zh.stderr).toBe(0);
    expect(readFileSync(csv, 'utf8')).toContain('kpi,revenue,销售额,2025-02,130.5,50,80.5');
  });

  it('refuses a bad month with a one-line message', async () => {
    const run = await runCli(['report', '--month', '2025-2', '--data', dataDir], env, 30_000);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('custodian: --month: "2025-2" is not a month: give YYYY-MM, e.g. 2026-10');
  });
});
