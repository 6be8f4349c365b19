import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '../src/storage/database.js';
import { backends, type Backend } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, TEST_MASTER_KEY, type TestApp } from './helpers/app.js';
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
    expect(html).toContain('Not available yet');
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
  });

  it('refuses a bad month, format or language naming the field', async () => {
    for (const [query, field] of [['month=2025-13', 'month'], ['month=February', 'month'], ['', 'month'], ['month=2025-02&format=pdf', 'format'], ['month=2025-02&lang=fr', 'lang']] as const) {
      const res = await t.get(`/api/analytics/report?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect((res.json() as { field: string }).field, query).toBe(field);
    }
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
