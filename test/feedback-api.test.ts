import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastFullMonth, storedMonthlyReport } from '../src/analytics/report-data.js';
import { keepMonthlyReports, refreshFeedback, refreshPredictions } from '../src/worker/schedule.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';

const DAY = 86_400_000;

/**
 * Feedback end to end: survey answers and complaints in Chinese and English
 * go in through the collection API; the analysis reads NPS and CSAT exactly,
 * finds the delivery theme across both languages, and flags the complaints
 * on the profiles so a segment lists whom to call back.
 */

const answers: Array<{ userId: string; nps?: number; csat?: number; comment?: string; event?: string; feedback_type?: string }> = [
  { userId: 'f1', nps: 10, csat: 5, comment: '物流很快，包装也很好，非常满意' },
  { userId: 'f2', nps: 9, csat: 4, comment: 'Fast delivery and great quality, thank you' },
  { userId: 'f3', nps: 8, csat: 4, comment: '还行，快递有点慢' },
  { userId: 'f4', nps: 3, csat: 1, comment: '快递太慢了，等了两个星期，客服也不理人，我要投诉' },
  { userId: 'f5', nps: 2, csat: 2, comment: 'The parcel arrived broken and nobody answers my refund request. Terrible.' },
  { userId: 'f6', nps: 10, comment: '质量很好，会推荐给朋友' },
  { userId: 'f7', csat: 3, comment: 'Delivery was slow but the product is fine' },
  { userId: 'f8', event: 'Feedback Submitted', feedback_type: 'complaint', comment: '配送员态度差' },
  // Filed as a complaint by the hotline, with no words kept: still one to call back.
  { userId: 'f10', event: 'Feedback Submitted', feedback_type: 'complaint' },
];

describe.each(backends)('feedback analysis API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const profileOf = async (userId: string) => ((await t.get(`/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string; scores: Record<string, number | string> }> }).profiles[0]!;

  beforeAll(async () => {
    t = await startTestApp(backend);
    const batch = answers.map(({ userId, event, ...properties }, i) => ({ type: 'track', userId, event: event ?? 'Survey Responded', properties, timestamp: new Date(Date.now() - (i + 1) * DAY).toISOString() }));
    // An answer from long ago is outside the default 90 days.
    batch.push({ type: 'track', userId: 'f9', event: 'Survey Responded', properties: { nps: 0, comment: '很差' }, timestamp: new Date(Date.now() - 400 * DAY).toISOString() });
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
  });
  afterAll(async () => t?.close());

  it('reads NPS and CSAT exactly, splits sentiment, finds the delivery theme in both languages, and flags complaints', async () => {
    const res = await admin('GET', '/api/analytics/feedback');
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json() as {
      responses: number;
      texts: number;
      nps: number;
      npsResponses: number;
      csat: number;
      csatResponses: number;
      sentiment: { positive: number; neutral: number; negative: number };
      themes: Array<{ key: string; en: string; zh: string; documents: number }>;
      complaints: number;
      recentComplaints: Array<{ profileId: string; text: string }>;
      trend: Array<{ week: string; responses: number }>;
    };
    expect(report.responses).toBe(9);
    expect(report.texts).toBe(8);
    // 6 NPS answers: promoters 10, 9, 10; passive 8; detractors 3, 2 → (3 − 2) / 6 = 16.7.
    expect(report.npsResponses).toBe(6);
    expect(report.nps).toBeCloseTo(100 / 6, 5);
    // 6 CSAT answers, 3 of them 4–5.
    expect(report.csatResponses).toBe(6);
    expect(report.csat).toBeCloseTo(50, 5);
    expect(report.sentiment.positive).toBeGreaterThanOrEqual(3);
    expect(report.sentiment.negative).toBeGreaterThanOrEqual(3);
    const delivery = report.themes.find((th) => th.key === 'delivery');
    expect(delivery, JSON.stringify(report.themes)).toBeDefined();
    expect(delivery!.documents).toBeGreaterThanOrEqual(5);
    expect(report.trend.reduce((s, w) => s + w.responses, 0)).toBe(9);

    const flagged = new Set(report.recentComplaints.map((c) => c.profileId));
    for (const userId of ['f4', 'f5', 'f8', 'f10']) {
      const p = await profileOf(userId);
      expect(flagged.has(p.id), userId).toBe(true);
      expect(p.scores.complaint, userId).toBe(1);
    }
    const happy = await profileOf('f1');
    expect(flagged.has(happy.id)).toBe(false);
    expect(happy.scores.complaint).toBeUndefined();
    expect(Number(happy.scores.sentiment)).toBeGreaterThan(0);
    expect(Number((await profileOf('f4')).scores.sentiment)).toBeLessThan(0);
    // The follow-up list is a segment away.
    const callBack = (await admin('POST', '/api/segments/preview', { rule: { score: 'complaint', op: 'eq', value: 1 } })).json() as { count: number };
    expect(callBack.count).toBe(4);
  });

  it('looks further back when asked, and refuses a bad window', async () => {
    const res = await admin('POST', '/api/analytics/feedback', { days: 500, wait: true });
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { result: { responses: number } }).result.responses).toBe(10);
    const bad = await admin('POST', '/api/analytics/feedback', { days: 0 });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('days');
  });

  it('runs on the worker\'s schedule: feedback, predictions where data allows, and last month\'s report kept once', async () => {
    const db = t.database.db;
    expect(await refreshFeedback(db)).toBe(1);
    // No orders here: lifetime value and recommendations have nothing to learn from, and that is no failure.
    expect(await refreshPredictions(db)).toBe(0);
    const deps = { database: t.database, keyring: t.keyring, junk: undefined as never };
    const month = lastFullMonth();
    expect(await storedMonthlyReport(t.database, 'default', month)).toBeNull();
    expect(await keepMonthlyReports(deps)).toBe(1);
    expect(await keepMonthlyReports(deps)).toBe(0);
    const kept = await storedMonthlyReport(t.database, 'default', month);
    expect(kept?.month).toBe(month);
    const html = await admin('GET', `/api/analytics/report?month=${month}`);
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain(kept!.generatedAt.slice(0, 10));
  });
});
