import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { seededRandom } from '../src/analytics/random.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { requireDatasets } from './helpers/datasets.js';

const DAY = 86_400_000;

interface Model {
  id: string;
  name: string;
  status: string;
  error: string | null;
  report: {
    validation: 'time' | 'random';
    auc: { logistic: number | null; gbdt: number | null };
    chosen: string;
    train: { rows: number; positives: number };
    test: { rows: number; positives: number };
    calibration: Array<{ count: number }>;
    importance: Array<{ feature: string; importance: number }>;
    scored: number;
  } | null;
  run?: { id: string; status: string };
}

const files = requireDatasets(['telco/WA_Fn-UseC_-Telco-Customer-Churn.csv']);

describe.each(backends)('prediction models API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET' | 'DELETE', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  // Customers who buy at their own pace; some stop for good at a day of their own. Whether someone buys in
  // the next 60 days follows from how recently and how often they bought: what a churn model should find.
  beforeAll(async () => {
    t = await startTestApp(backend);
    const random = seededRandom(5);
    const batch: unknown[] = [];
    for (let i = 0; i < 400; i++) {
      const userId = `c${i}`;
      const start = 200 + Math.floor(random() * 200);
      const stopsAgo = random() < 0.45 ? Math.floor(random() * start) : -1;
      const gap = 8 + random() * 40;
      batch.push({ type: 'identify', userId, traits: { plan: i % 4 === 0 ? 'gold' : 'basic' }, timestamp: new Date(Date.now() - start * DAY).toISOString() });
      let n = 0;
      for (let ago = start; ago > Math.max(0, stopsAgo); ago -= gap * (0.5 + random())) {
        batch.push({ type: 'track', userId, event: 'Order Completed', properties: { order_id: `${userId}-${n++}`, total: 20 + random() * 80 }, timestamp: new Date(Date.now() - ago * DAY).toISOString() });
      }
    }
    for (let i = 0; i < batch.length; i += 500) expect((await t.send('/v1/batch', { batch: batch.slice(i, i + 500) })).statusCode).toBe(200);
    await t.drain();
  }, 120_000);
  afterAll(async () => t?.close());

  it('trains a churn model checked on time: trained on the snapshot 120 days ago, validated on the one 60 days ago', async () => {
    const res = await admin('POST', '/api/analytics/models', { name: 'churn_risk', target: { kind: 'churn', days: 60 }, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const model = res.json() as Model;
    expect(model.status, model.error ?? '').toBe('ready');
    const report = model.report!;
    expect(report.validation).toBe('time');
    expect(report.auc.logistic!).toBeGreaterThan(0.75);
    expect(report.auc.gbdt!).toBeGreaterThan(0.7);
    expect(report.calibration.reduce((s, b) => s + b.count, 0)).toBe(report.test.rows);
    expect(report.importance[0]!.importance).toBeGreaterThan(0);
    expect(report.scored).toBeGreaterThan(300);

    // Every customer carries a churn risk from 0 to 1, and a segment reads it.
    const profile = ((await t.get('/api/profiles?userId=c1')).json() as { profiles: Array<{ scores: Record<string, number> }> }).profiles[0]!;
    expect(profile.scores.churn_risk).toBeGreaterThanOrEqual(0);
    expect(profile.scores.churn_risk).toBeLessThanOrEqual(1);
    const risky = (await admin('POST', '/api/segments/preview', { rule: { score: 'churn_risk', op: 'gte', value: 0.5 } })).json() as { count: number };
    expect(risky.count).toBeGreaterThan(0);
    expect(risky.count).toBeLessThan(report.scored);

    const listed = (await admin('GET', '/api/analytics/models')).json() as { models: Model[] };
    expect(listed.models.map((m) => m.name)).toContain('churn_risk');
    const again = await admin('POST', `/api/analytics/models/${model.id}/train`, { wait: true });
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as Model).status).toBe('ready');
  }, 120_000);

  it('trains a purchase-propensity model with the algorithm asked for', async () => {
    const res = await admin('POST', '/api/analytics/models', { name: 'buys_next_30d', target: { kind: 'purchase', days: 30 }, algorithm: 'gbdt', features: ['recency_days', 'frequency', 'monetary', 'trait:plan'], wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const model = res.json() as Model;
    expect(model.status, model.error ?? '').toBe('ready');
    expect(model.report!.chosen).toBe('gbdt');
    expect(model.report!.auc.logistic).toBeNull();
    expect(model.report!.importance.map((i) => i.feature)).toContain('trait:plan=gold');
    const del = await admin('DELETE', `/api/analytics/models/${model.id}`);
    expect(del.statusCode).toBe(204);
    expect((await admin('GET', `/api/analytics/models/${model.id}`)).statusCode).toBe(404);
    const profile = ((await t.get('/api/profiles?userId=c1')).json() as { profiles: Array<{ scores: Record<string, number> }> }).profiles[0]!;
    expect(profile.scores.buys_next_30d).toBeUndefined();
  }, 120_000);

  it('refuses bad definitions with the field named', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'Churn Risk', target: { kind: 'churn', days: 60 } }, 'name'],
      [{ name: 'clv', target: { kind: 'churn', days: 60 } }, 'name'],
      [{ name: 'churn_risk', target: { kind: 'churn', days: 60 } }, 'name'],
      [{ name: 'x1', target: { kind: 'churn', days: 0 } }, 'days'],
      [{ name: 'x2', target: { kind: 'segment', segment: 'nope' } }, 'target.segment'],
      [{ name: 'x3', target: { kind: 'churn', days: 30 }, features: ['shoe_size'] }, 'features'],
      [{ name: 'x4', target: { kind: 'trait', trait: 'plan' }, features: ['trait:plan'] }, 'features'],
    ];
    for (const [body, field] of cases) {
      const res = await admin('POST', '/api/analytics/models', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.json()), JSON.stringify(body)).toContain(field);
    }
    expect((await admin('GET', '/api/analytics/models/6f1c1a52-8a55-4f3e-9d1e-000000000000')).statusCode).toBe(404);
    // A trait nobody has cannot be learned: waiting for the first training, the caller gets the reason and no model is left behind.
    const empty = await admin('POST', '/api/analytics/models', { name: 'vip', target: { kind: 'trait', trait: 'vip' }, wait: true });
    expect(empty.statusCode).toBe(400);
    expect(JSON.stringify(empty.json())).toContain('target');
    expect(((await admin('GET', '/api/analytics/models')).json() as { models: Model[] }).models.map((m) => m.name)).not.toContain('vip');
    // Not waiting, the model is kept as failed, with the reason.
    const kept = await admin('POST', '/api/analytics/models', { name: 'vip', target: { kind: 'trait', trait: 'vip' } });
    expect(kept.statusCode).toBe(202);
    const id = (kept.json() as Model).id;
    let model = kept.json() as Model;
    for (let i = 0; i < 100 && model.status === 'training'; i++) model = (await admin('GET', `/api/analytics/models/${id}`)).json() as Model;
    expect(model.status).toBe('failed');
    expect(model.error).toContain('profiles');
  });
});

describe.skipIf(files === null).each(backends)('a churn model on the Telco customers, imported as traits, on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
    const rows = parse(readFileSync(files!['telco/WA_Fn-UseC_-Telco-Customer-Churn.csv']), { columns: true }) as Array<Record<string, string>>;
    const batch = rows.map((r) => {
      const traits: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === 'customerID' || v.trim() === '') continue;
        traits[`telco_${k}`] = ['tenure', 'MonthlyCharges', 'TotalCharges', 'SeniorCitizen'].includes(k) ? Number(v) : v;
      }
      return { type: 'identify', userId: r.customerID, traits };
    });
    for (let i = 0; i < batch.length; i += 500) expect((await t.send('/v1/batch', { batch: batch.slice(i, i + 500) })).statusCode).toBe(200);
    await t.drain();
  }, 240_000);
  afterAll(async () => t?.close());

  it('predicts the Churn trait with hold-out AUC about that of the reference models (0.84)', async () => {
    const columns = ['gender', 'SeniorCitizen', 'Partner', 'Dependents', 'tenure', 'PhoneService', 'MultipleLines', 'InternetService', 'OnlineSecurity', 'OnlineBackup', 'DeviceProtection', 'TechSupport', 'StreamingTV', 'StreamingMovies', 'Contract', 'PaperlessBilling', 'PaymentMethod', 'MonthlyCharges', 'TotalCharges'];
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/analytics/models',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'telco_churn', target: { kind: 'trait', trait: 'telco_Churn', value: 'Yes' }, features: columns.map((c) => `trait:telco_${c}`), wait: true }),
    });
    expect(res.statusCode, res.body).toBe(200);
    const model = res.json() as Model;
    expect(model.status, model.error ?? '').toBe('ready');
    expect(model.report!.validation).toBe('random');
    expect(model.report!.test.rows).toBe(1409);
    // Profile ids are random, so each run holds out another 20 %: over 40 splits of the file both models
    // averaged 0.845 with a spread (sd) of 0.010, and one CI run met 0.811. The exact reference figures
    // are checked on scikit-learn's own split in src/analytics/churn.test.ts.
    expect(model.report!.auc.logistic!).toBeGreaterThan(0.8);
    expect(model.report!.auc.gbdt!).toBeGreaterThan(0.8);
    expect(model.report!.scored).toBe(7043);
  }, 240_000);
});
