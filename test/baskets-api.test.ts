import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { requireDatasets } from './helpers/datasets.js';

/**
 * Association rules and recommendations end to end: the Groceries baskets go
 * in as orders through the collection API (each basket an order of one of
 * 1,000 customers), and the rules read back from the API must be arules'
 * 5,668 at support 0.001 and confidence 0.5.
 */

const files = requireDatasets(['groceries/groceries.csv']);
const DAY = 86_400_000;

interface Rule { antecedent: string[]; consequent: string[]; support: number; confidence: number; lift: number; conviction: number | null; count: number }

describe.skipIf(files === null).each(backends)('association rules and recommendations API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  let baskets: string[][];

  beforeAll(async () => {
    t = await startTestApp(backend);
    baskets = readFileSync(files!['groceries/groceries.csv'], 'utf8').split(/\r?\n/).filter((l) => l !== '').map((l) => l.split(','));
    const start = Date.now() - 300 * DAY;
    const batch = baskets.map((items, i) => ({
      type: 'track',
      userId: `shopper-${i % 1000}`,
      event: 'Order Completed',
      properties: { order_id: `g${i}`, total: items.length * 2.5, products: items.map((name) => ({ name, category: name.split(' ')[0] })) },
      timestamp: new Date(start + i * 2_500_000).toISOString(),
    }));
    for (let i = 0; i < batch.length; i += 500) expect((await t.send('/v1/batch', { batch: batch.slice(i, i + 500) })).statusCode).toBe(200);
    await t.drain();
  }, 300_000);
  afterAll(async () => t?.close());

  it('finds arules\' 5,668 rules at support 0.001 and confidence 0.5, best lift first', async () => {
    const res = await admin('GET', '/api/analytics/association-rules?minSupport=0.001&minConfidence=0.5&minLift=0&maxLength=10&limit=5000');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { baskets: number; items: number; itemsets: number; matched: number; rules: Rule[] };
    expect(body.baskets).toBe(9835);
    expect(body.items).toBe(169);
    expect(body.itemsets).toBe(13_492);
    expect(body.matched).toBe(5668);
    expect(body.rules).toHaveLength(5000);
    const top = body.rules[0]!;
    expect([top.antecedent, top.consequent]).toEqual([['Instant food products', 'soda'], ['hamburger meat']]);
    expect(top.lift).toBeCloseTo(18.996, 2);
    for (let i = 1; i < body.rules.length; i++) expect(body.rules[i]!.lift).toBeLessThanOrEqual(body.rules[i - 1]!.lift);
    // Item names keep their trailing space, as arules names them.
    const all = (await admin('GET', '/api/analytics/association-rules?minSupport=0.001&minConfidence=0.5&minLift=0&maxLength=10&limit=5000')).json() as { rules: Rule[] };
    expect(all.rules.some((r) => [...r.antecedent, ...r.consequent].includes('cream cheese '))).toBe(true);
  }, 60_000);

  it('mines categories too, and refuses thresholds that mean nothing', async () => {
    const res = await admin('GET', '/api/analytics/association-rules?level=category&minSupport=0.01&minConfidence=0.2');
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { items: number }).items).toBeLessThan(169);
    const tiny = await admin('GET', '/api/analytics/association-rules?minSupport=0.00001');
    expect(tiny.statusCode).toBe(400);
    expect(JSON.stringify(tiny.json())).toContain('minSupport');
    const huge = await admin('GET', '/api/analytics/association-rules?minLift=1e400');
    expect(huge.statusCode).toBe(400);
    expect(JSON.stringify(huge.json())).toContain('minLift');
    const bad = await admin('GET', '/api/analytics/association-rules?minConfidence=2');
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('minConfidence');
  });

  it('trains a recommender, reports its hit rate against popularity, and never offers what a customer owns', async () => {
    const run = await admin('POST', '/api/analytics/recommender', { wait: true });
    expect(run.statusCode, run.body).toBe(200);
    const report = (run.json() as { result: { customers: number; baskets: number; evaluation: { customers: number; hitRate: number; popularityHitRate: number; k: number } } }).result;
    expect(report.customers).toBe(1000);
    expect(report.baskets).toBe(9835);
    expect(report.evaluation.k).toBe(10);
    expect(report.evaluation.customers).toBeGreaterThan(800);
    expect(report.evaluation.hitRate).toBeGreaterThan(0);
    expect(report.evaluation.popularityHitRate).toBeGreaterThan(0);
    // Baskets dealt to customers at random carry no customer-level taste: the blend leans on popularity and must not do worse.
    expect(report.evaluation.hitRate).toBeGreaterThanOrEqual(report.evaluation.popularityHitRate);
    expect((await admin('GET', '/api/analytics/recommender')).json()).toMatchObject({ customers: 1000 });

    const profile = ((await t.get('/api/profiles?userId=shopper-7')).json() as { profiles: Array<{ id: string }> }).profiles[0]!;
    const res = await admin('GET', `/api/profiles/${profile.id}/recommendations?k=10`);
    expect(res.statusCode, res.body).toBe(200);
    const answer = res.json() as { profileId: string; owned: number; recommendations: Array<{ item: string; reason: string }> };
    expect(answer.profileId).toBe(profile.id);
    expect(answer.recommendations).toHaveLength(10);
    const owned = new Set(baskets.filter((_, i) => i % 1000 === 7).flat());
    expect(answer.owned).toBe(owned.size);
    for (const r of answer.recommendations) expect(owned.has(r.item), r.item).toBe(false);
    expect((await admin('GET', '/api/profiles/6f1c1a52-8a55-4f3e-9d1e-000000000000/recommendations')).statusCode).toBe(404);
  }, 120_000);
});
