import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { requireDatasets } from './helpers/datasets.js';

/**
 * Lifetime value end to end: CDNOW's raw transactions go in as orders
 * through the collection API, and the fit read back from the API must give
 * the published BG/NBD parameters (Fader, Hardie & Lee 2005) to 3
 * significant digits.
 */

const files = requireDatasets(['cdnow/CDNOW_sample.txt']);

interface ClvReport {
  end: string;
  customers: number;
  bgnbd: { params: { r: number; alpha: number; a: number; b: number }; logLikelihood: number };
  gammaGamma: { params: { p: number; q: number; gamma: number }; customers: number } | null;
  summary: { customers: number; meanClv: number; meanPAlive: number };
  distribution: Array<{ lower: number; upper: number; count: number }>;
  diagnostics: { calibrationEnd: string; params: { r: number; alpha: number; a: number; b: number }; buckets: Array<{ x: number; customers: number; actual: number; predicted: number }>; totalActual: number; totalPredicted: number } | null;
}

const sig3 = (v: number) => Number(v.toPrecision(3));

describe.skipIf(files === null).each(backends)('lifetime value API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  beforeAll(async () => {
    t = await startTestApp(backend);
    const lines = readFileSync(files!['cdnow/CDNOW_sample.txt'], 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    const batch = lines.map((line, i) => {
      const [id, , date, , dollars] = line.trim().split(/\s+/) as [string, string, string, string, string];
      return {
        type: 'track',
        userId: `cdnow-${id}`,
        event: 'Order Completed',
        properties: { order_id: `o${i}`, total: Number(dollars) },
        timestamp: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T12:00:00Z`,
      };
    });
    for (let i = 0; i < batch.length; i += 500) expect((await t.send('/v1/batch', { batch: batch.slice(i, i + 500) })).statusCode).toBe(200);
    await t.drain();
  }, 240_000);
  afterAll(async () => t?.close());

  it('fits BG/NBD on the 39-week calibration to the published parameters, and scores every customer', async () => {
    const res = await admin('POST', '/api/analytics/clv', { end: '1997-09-30', holdoutDays: 0, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const report = (res.json() as { status: string; result: ClvReport }).result;
    expect(report.customers).toBe(2357);
    const p = report.bgnbd.params;
    expect([sig3(p.r), sig3(p.alpha), sig3(p.a), sig3(p.b)]).toEqual([0.243, 4.41, 0.793, 2.43]);
    expect(report.bgnbd.logLikelihood).toBeCloseTo(-9582.4, 1);
    expect(report.gammaGamma).not.toBeNull();
    expect(report.diagnostics).toBeNull();
    expect(report.distribution.reduce((s, b) => s + b.count, 0)).toBe(2357);
    expect(report.summary.meanPAlive).toBeGreaterThan(0);
    expect(report.summary.meanPAlive).toBeLessThan(1);

    // GET answers the latest fit; a profile carries its scores and a segment can use them.
    const latest = (await admin('GET', '/api/analytics/clv')).json() as ClvReport;
    expect(latest.end).toBe('1997-09-30');
    const profile = ((await t.get('/api/profiles?userId=cdnow-00004')).json() as { profiles: Array<{ scores: Record<string, number> }> }).profiles[0]!;
    expect(profile.scores.clv).toBeGreaterThan(0);
    expect(profile.scores.p_alive).toBeGreaterThan(0);
    expect(profile.scores.p_alive).toBeLessThanOrEqual(1);
    const preview = (await admin('POST', '/api/segments/preview', { rule: { score: 'p_alive', op: 'gte', value: 0.5 } })).json() as { count: number };
    expect(preview.count).toBeGreaterThan(0);
    expect(preview.count).toBeLessThan(2357);
  }, 120_000);

  it('checks the fit against the 39 hold-out weeks that followed', async () => {
    const before = ((await t.get('/api/profiles?userId=cdnow-00004')).json() as { profiles: Array<{ scores: Record<string, number> }> }).profiles[0]!.scores;
    const res = await admin('POST', '/api/analytics/clv', { end: '1998-06-30', holdoutDays: 273, scores: false, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    const report = (res.json() as { result: ClvReport & { scored: boolean } }).result;
    // A back-test leaves the profiles' scores as they were.
    expect(report.scored).toBe(false);
    expect(((await t.get('/api/profiles?userId=cdnow-00004')).json() as { profiles: Array<{ scores: Record<string, number> }> }).profiles[0]!.scores).toEqual(before);
    const d = report.diagnostics!;
    expect(d.calibrationEnd).toBe('1997-09-30');
    expect(sig3(d.params.r)).toBe(0.243);
    expect(sig3(d.params.b)).toBe(2.43);
    // As in Fader, Hardie & Lee's conditional-expectation figure: close for the 1,411 customers with no repeat
    // purchase, under the actual by a few tenths for 1–3 (measured: x = 1 predicts 0.52 against 0.70, x = 2 1.04 against 1.39).
    for (const bucket of d.buckets.filter((b) => b.x <= 3)) expect(Math.abs(bucket.predicted - bucket.actual), JSON.stringify(bucket)).toBeLessThan(bucket.x === 0 ? 0.05 : 0.4);
    // In all, the 39 weeks' purchases are forecast 12% short (measured).
    expect(Math.abs(d.totalPredicted - d.totalActual) / d.totalActual).toBeLessThan(0.15);
  }, 120_000);

  it('refuses bad settings with the field named', async () => {
    const bad = await admin('POST', '/api/analytics/clv', { end: '1997-02-31' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'end' });
    const rate = await admin('POST', '/api/analytics/clv', { discountRate: 2 });
    expect(rate.statusCode).toBe(400);
    expect(JSON.stringify(rate.json())).toContain('discountRate');
    const early = await admin('POST', '/api/analytics/clv', { end: '1990-01-01', wait: true });
    expect(early.statusCode).toBe(400);
    expect(early.json()).toMatchObject({ field: 'orders' });
  });
});
