import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/analytics/random.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';

const DAY = 86_400_000;

interface Run {
  id: string;
  status: string;
  result: Record<string, unknown>;
  error: string | null;
  progress: Record<string, unknown>;
}

describe.each(backends)('analytics API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  // Three kinds of customer, so clusters and a tree have something to find:
  // loyal big spenders (recent, many orders), one-off buyers long ago, and browsers who never buy.
  beforeAll(async () => {
    t = await startTestApp(backend);
    const random = seededRandom(11);
    const batch: unknown[] = [];
    for (let i = 0; i < 120; i++) {
      const kind = i % 3;
      const userId = `u${i}`;
      batch.push({ type: 'identify', userId, traits: { city: kind === 0 ? '上海' : kind === 1 ? '北京' : '广州', age: 20 + Math.floor(random() * 40) } });
      const orders = kind === 0 ? 6 + Math.floor(random() * 5) : kind === 1 ? 1 : 0;
      for (let o = 0; o < orders; o++) {
        const daysAgo = kind === 0 ? 1 + Math.floor(random() * 40) : 200 + Math.floor(random() * 100);
        batch.push({ type: 'track', userId, event: 'Order Completed', properties: { order_id: `${userId}-${o}`, total: kind === 0 ? 200 + random() * 100 : 30 + random() * 10, category: o % 2 ? 'books' : 'music' }, timestamp: new Date(Date.now() - daysAgo * DAY).toISOString() });
      }
      for (let v = 0; v < (kind === 2 ? 8 : 2); v++) batch.push({ type: 'track', userId, event: 'Product Viewed', timestamp: new Date(Date.now() - (1 + v) * DAY).toISOString() });
    }
    // An order whose categories are only on its products.
    batch.push({ type: 'track', userId: 'u0', event: 'Order Completed', properties: { order_id: 'u0-p', total: 50, products: [{ category: 'games' }, { category: 'games' }] }, timestamp: new Date(Date.now() - DAY).toISOString() });
    // u1 had one order, fully refunded: not a customer any more.
    batch.push({ type: 'track', userId: 'u1', event: 'Order Refunded', properties: { order_id: 'u1-0', total: 1000 }, timestamp: new Date().toISOString() });
    for (let i = 0; i < batch.length; i += 400) expect((await t.send('/v1/batch', { batch: batch.slice(i, i + 400) })).statusCode).toBe(200);
    await t.drain();
  });
  afterAll(async () => t.close());

  const profileOf = async (userId: string) =>
    ((await t.get(`/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string; scores: Record<string, number | string>; segments: string[] }> }).profiles[0]!;

  it('scores RFM: every customer with a kept order is counted once, the grid adds up, and profiles carry their scores', async () => {
    const res = await admin('GET', '/api/analytics/rfm');
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json() as { customers: number; segments: Array<{ segment: string; customers: number; revenue: number }>; grid: number[][]; segmentNamesZh: string[] };
    // 40 loyal + 40 one-off buyers, minus u1 whose only order was refunded.
    expect(report.customers).toBe(79);
    expect(report.segments).toHaveLength(11);
    expect(report.segments.reduce((s, x) => s + x.customers, 0)).toBe(79);
    expect(report.grid.flat().reduce((s, x) => s + x, 0)).toBe(79);
    expect(report.segmentNamesZh[0]).toBe('冠军客户');
    const loyal = await profileOf('u0');
    expect(loyal.scores.rfm_r).toBeGreaterThanOrEqual(3);
    expect(['Champions', 'Loyal', 'Potential Loyalist']).toContain(loyal.scores.rfm_segment);
    const oneOff = await profileOf('u4');
    expect(['Lost', 'Hibernating', 'About to Sleep']).toContain(oneOff.scores.rfm_segment);
    expect((await profileOf('u1')).scores.rfm_segment).toBeUndefined();
    expect((await profileOf('u2')).scores.rfm_segment).toBeUndefined();
    // A segment can read the score.
    const preview = (await admin('POST', '/api/segments/preview', { rule: { score: 'rfm_segment', op: 'in', value: ['Champions', 'Loyal', 'Potential Loyalist'] } })).json() as { count: number };
    expect(preview.count).toBeGreaterThanOrEqual(30);
  });

  it('clusters the three kinds apart, names them, and gives each profile a cluster score', async () => {
    const res = await admin('POST', '/api/analytics/clusters', { kRange: { min: 2, max: 5 }, wait: true, seed: 3 });
    expect(res.statusCode, res.body).toBe(200);
    const run = res.json() as Run;
    expect(run.status).toBe('done');
    const report = run.result as { k: number; suggestedK: number; choices: Array<{ k: number; inertia: number; silhouette: number }>; clusters: Array<{ size: number; name: string; centroid: Record<string, number> }> };
    expect(report.choices.map((c) => c.k)).toEqual([2, 3, 4, 5]);
    expect(report.clusters.reduce((s, c) => s + c.size, 0)).toBe(120);
    expect(report.clusters[0]!.name).toMatch(/^C1/);
    const [a, c] = [await profileOf('u0'), await profileOf('u2')];
    expect(typeof a.scores.cluster).toBe('string');
    // Loyal buyers and browsers never share a cluster.
    expect(a.scores.cluster).not.toBe(c.scores.cluster);
    const loyalClusters = new Set<string | number | undefined>();
    for (const i of [0, 3, 6, 9, 12]) loyalClusters.add((await profileOf(`u${i}`)).scores.cluster);
    expect(loyalClusters.size).toBe(1);
  });

  it('explains a segment with a decision tree: readable rules, accuracy above the baseline, importance', async () => {
    const seg = (await admin('POST', '/api/segments', { name: 'Frequent buyers', rule: { event: 'Order Completed', count: { gte: 3 } } })).json() as { id: string; size: number };
    expect(seg.size).toBe(40);
    const res = await admin('POST', '/api/analytics/tree', { target: { segment: seg.id }, features: ['trait:city', 'trait:age', 'events_30d', 'category_share:games'], maxDepth: 3, minSamplesLeaf: 5, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const report = (res.json() as Run).result as { accuracy: number; baselineAccuracy: number; importance: Array<{ feature: string; importance: number }>; rules: Array<{ en: string; zh: string; prediction: string }> };
    expect(report.accuracy).toBe(1);
    expect(report.baselineAccuracy).toBeLessThan(0.8);
    expect(report.importance[0]!.feature).toBe('city');
    const inSegment = report.rules.find((r) => r.prediction === 'in segment')!;
    expect(inSegment.en).toContain('city = 上海市');
    expect(inSegment.zh).toContain('上海市');
  });

  it('refuses bad parameters with the field named; runs are listed and readable', async () => {
    const noK = await admin('POST', '/api/analytics/clusters', { features: ['frequency'] });
    expect(noK.statusCode).toBe(400);
    expect((noK.json() as { field: string }).field).toBe('k');
    const badFeature = await admin('POST', '/api/analytics/clusters', { k: 2, features: ['shoe_size'] });
    expect(badFeature.statusCode).toBe(400);
    expect((badFeature.json() as { field: string }).field).toBe('features');
    const text = await admin('POST', '/api/analytics/clusters', { k: 2, features: ['trait:city'], wait: true });
    expect(text.statusCode).toBe(400);
    const badTarget = await admin('POST', '/api/analytics/tree', { target: { segment: 'nope' }, features: ['frequency'] });
    expect(badTarget.statusCode).toBe(400);
    expect((badTarget.json() as { field: string }).field).toBe('target.segment');
    const runs = (await admin('GET', '/api/analytics/runs?kind=clusters')).json() as { runs: Run[] };
    expect(runs.runs.length).toBeGreaterThanOrEqual(1);
    const one = await admin('GET', `/api/analytics/runs/${runs.runs[0]!.id}`);
    expect(one.statusCode).toBe(200);
    expect((await admin('GET', '/api/analytics/runs/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const features = (await admin('GET', '/api/analytics/features')).json() as { categories: string[]; traits: string[] };
    expect(features.categories).toEqual(expect.arrayContaining(['category_share:books', 'category_share:music', 'category_share:games']));
    expect(features.traits).toEqual(expect.arrayContaining(['trait:city', 'trait:age']));
  });
});
