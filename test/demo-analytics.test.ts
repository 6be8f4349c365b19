import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { createEventLogWriter } from '../src/collect/event-log.js';
import { loadDemo } from '../src/cli/demo.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';

/**
 * Every analysis on the demo shop, as a new user first meets them: the
 * demo's customers buy, lapse, answer surveys and complain, and each
 * analysis must run on that and find what the generator put there.
 */

describe.each(backends)('analytics on the demo shop on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  beforeAll(async () => {
    t = await startTestApp(backend);
    const deps = { database: t.database, junk: createJunkIdFilter(), eventLog: createEventLogWriter(t.database, t.keyring) };
    await loadDemo(deps, 'default', { customers: 500, seed: 'analytics' }, { now: new Date() });
    await t.drain();
  }, 300_000);
  afterAll(async () => t?.close());

  it('fits lifetime value and scores the buyers', async () => {
    const res = await admin('POST', '/api/analytics/clv', { wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const report = (res.json() as { status: string; error: string | null; result: { customers: number; bgnbd: { converged: boolean }; gammaGamma: unknown; summary: { meanClv: number }; diagnostics: unknown } }).result;
    expect(report.customers).toBeGreaterThan(200);
    expect(report.bgnbd.converged).toBe(true);
    expect(report.gammaGamma).not.toBeNull();
    expect(report.summary.meanClv).toBeGreaterThan(0);
    expect(report.diagnostics).not.toBeNull();
  }, 120_000);

  it('learns who will stop buying better than chance', async () => {
    const res = await admin('POST', '/api/analytics/models', { name: 'churn_risk', target: { kind: 'churn', days: 60 }, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const model = res.json() as { status: string; error: string | null; report: { auc: { logistic: number; gbdt: number }; scored: number } };
    expect(model.status, model.error ?? '').toBe('ready');
    expect(Math.max(model.report.auc.logistic, model.report.auc.gbdt)).toBeGreaterThan(0.6);
    expect(model.report.scored).toBeGreaterThan(200);
  }, 120_000);

  it('finds products bought together and recommends at least as well as popularity', async () => {
    const rules = await admin('GET', '/api/analytics/association-rules?level=category&minSupport=0.01&minConfidence=0.1');
    expect(rules.statusCode, rules.body).toBe(200);
    expect((rules.json() as { baskets: number }).baskets).toBeGreaterThan(500);
    const res = await admin('POST', '/api/analytics/recommender', { wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const evaluation = (res.json() as { result: { evaluation: { hitRate: number; popularityHitRate: number } } }).result.evaluation;
    expect(evaluation.hitRate).toBeGreaterThanOrEqual(evaluation.popularityHitRate);
  }, 120_000);

  it('reads the surveys and complaints, in Chinese and English', async () => {
    const res = await admin('POST', '/api/analytics/feedback', { days: 3650, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const report = (res.json() as { result: { npsResponses: number; nps: number; texts: number; complaints: number; themes: Array<{ key: string }>; sentiment: { positive: number; negative: number } } }).result;
    expect(report.npsResponses).toBeGreaterThan(50);
    expect(report.nps).toBeGreaterThan(-100);
    expect(report.texts).toBeGreaterThan(50);
    expect(report.sentiment.positive).toBeGreaterThan(0);
    expect(report.sentiment.negative).toBeGreaterThan(0);
    expect(report.complaints).toBeGreaterThan(0);
    expect(report.themes.length).toBeGreaterThan(1);
  }, 120_000);

  it('gives the year\'s KPIs and a monthly report with every section filled', async () => {
    const kpis = await admin('GET', '/api/analytics/kpis');
    expect(kpis.statusCode, kpis.body).toBe(200);
    const body = kpis.json() as { totals: { orders: number; revenue: number; nps: number | null }; cohorts: unknown[] };
    expect(body.totals.orders).toBeGreaterThan(0);
    expect(body.totals.revenue).toBeGreaterThan(0);
    expect(body.cohorts.length).toBeGreaterThan(0);
    const month = new Date().toISOString().slice(0, 7);
    const html = await admin('GET', `/api/analytics/report?month=${month}&lang=zh-CN`);
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('<svg');
    expect(html.body).not.toContain('undefined');
    expect(html.body).not.toContain('NaN');
  }, 120_000);
});
