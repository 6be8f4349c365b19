import { describe, expect, it } from 'vitest';
import {
  assembleKpis,
  bucketCount,
  change,
  churnRate,
  cohortMatrix,
  csat,
  csatFromCounts,
  EMPTY_WINDOW,
  historicCltv,
  monthsBetween,
  nps,
  npsFromCounts,
  parseDay,
  parseMonth,
  periodBuckets,
  periodStart,
  repeatPurchaseRate,
  roiPeriods,
  TOTAL_KEY,
  withCampaignRoi,
  type KpiCounts,
} from './kpis.js';

const day = (s: string) => parseDay(s)!;

describe('satisfaction', () => {
  it('NPS is % promoters − % detractors', () => {
    expect(nps([10, 9, 8, 3])).toBe(25);
    expect(nps([0, 6, 7, 8])).toBe(-50);
    expect(nps([9, 10])).toBe(100);
    expect(nps([])).toBeNull();
    // 11 and −1 are not answers on a 0–10 scale
    expect(nps([11, -1, 10])).toBe(100);
    expect(npsFromCounts({ promoters: 3, passives: 1, detractors: 1 })).toBe(40);
  });

  it('CSAT is the share of 4s and 5s among 1–5 answers', () => {
    expect(csat([5, 4, 3, 1])).toBe(50);
    expect(csat([4, 4, 4])).toBe(100);
    expect(csat([0, 6])).toBeNull();
    expect(csatFromCounts(2, 3)).toBeCloseTo(66.667, 3);
    expect(csatFromCounts(0, 0)).toBeNull();
  });
});

describe('ratios', () => {
  it('are null without a denominator', () => {
    expect(repeatPurchaseRate(1, 4)).toBe(0.25);
    expect(repeatPurchaseRate(0, 0)).toBeNull();
    expect(churnRate({ previousBuyers: 4, lost: 3 })).toBe(0.75);
    expect(churnRate({ previousBuyers: 0, lost: 0 })).toBeNull();
    expect(historicCltv(300, 4)).toBe(75);
  });

  it('change is the difference and its share of the previous value', () => {
    expect(change(120, 100)).toEqual({ delta: 20, relative: 0.2 });
    expect(change(-5, -10)).toEqual({ delta: 5, relative: 0.5 });
    expect(change(5, 0)).toEqual({ delta: 5, relative: null });
    expect(change(null, 3)).toEqual({ delta: null, relative: null });
  });
});

describe('calendar', () => {
  it('parses only real days and months', () => {
    expect(parseDay('2026-02-28')?.toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(parseDay('2026-02-30')).toBeNull();
    expect(parseDay('2026-2-3')).toBeNull();
    expect(parseMonth('2026-10')?.toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(parseMonth('2026-13')).toBeNull();
    expect(parseMonth('2026-00')).toBeNull();
  });

  it('weeks start on Monday, as date_trunc does', () => {
    // 2026-11-26 is a Thursday
    expect(periodStart(day('2026-11-26'), 'week').toISOString().slice(0, 10)).toBe('2026-11-23');
    expect(periodStart(day('2026-11-23'), 'week').toISOString().slice(0, 10)).toBe('2026-11-23');
    expect(periodStart(day('2026-11-29'), 'week').toISOString().slice(0, 10)).toBe('2026-11-23');
  });

  it('buckets are calendar periods clipped to the range', () => {
    expect(periodBuckets(day('2026-01-15'), day('2026-03-10'), 'month')).toEqual([
      { key: '2026-01-01', start: '2026-01-15', end: '2026-01-31' },
      { key: '2026-02-01', start: '2026-02-01', end: '2026-02-28' },
      { key: '2026-03-01', start: '2026-03-01', end: '2026-03-10' },
    ]);
    expect(periodBuckets(day('2026-11-25'), day('2026-12-01'), 'week')).toEqual([
      { key: '2026-11-23', start: '2026-11-25', end: '2026-11-29' },
      { key: '2026-11-30', start: '2026-11-30', end: '2026-12-01' },
    ]);
    expect(periodBuckets(day('2026-01-01'), day('2026-01-03'), 'day').map((b) => b.key)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    expect(bucketCount(day('2026-01-15'), day('2026-03-10'), 'month')).toBe(3);
    expect(bucketCount(day('2026-11-25'), day('2026-12-01'), 'week')).toBe(2);
    expect(bucketCount(day('2026-01-01'), day('2026-12-31'), 'day')).toBe(365);
    expect(monthsBetween(day('2025-11-20'), day('2026-01-02'))).toEqual(['2025-11', '2025-12', '2026-01']);
  });
});

describe('cohorts', () => {
  it('shares of each first-purchase cohort buying n months later, as a triangle', () => {
    const rows = cohortMatrix(
      [
        { cohort: '2026-01', monthsAfter: 0, customers: 4 },
        { cohort: '2026-01', monthsAfter: 1, customers: 1 },
        { cohort: '2026-01', monthsAfter: 2, customers: 2 },
        { cohort: '2026-02', monthsAfter: 0, customers: 2 },
        { cohort: '2026-02', monthsAfter: 1, customers: 2 },
      ],
      ['2026-01', '2026-02', '2026-03'],
    );
    expect(rows).toEqual([
      { cohort: '2026-01', customers: 4, retention: [1, 0.25, 0.5] },
      { cohort: '2026-02', customers: 2, retention: [1, 1] },
      { cohort: '2026-03', customers: 0, retention: [null] },
    ]);
  });
});

describe('assembleKpis', () => {
  it('runs "to date" figures on from before the range, and derives the rest per window', () => {
    const jan = { ...EMPTY_WINDOW, orders: 3, revenue: 300, buyers: 2, repeatBuyers: 1, firstTimeBuyers: 1, active: 5, newCustomers: 2, survey: { promoters: 2, passives: 1, detractors: 1, csatSatisfied: 1, csatResponses: 2 } };
    const feb = { ...EMPTY_WINDOW, orders: 1, revenue: 50, buyers: 1, repeatBuyers: 1, firstTimeBuyers: 0, active: 1, newCustomers: 1 };
    const counts: KpiCounts = {
      total: { ...EMPTY_WINDOW, orders: 4, revenue: 350, buyers: 2, repeatBuyers: 2, firstTimeBuyers: 1, active: 5, newCustomers: 3, survey: jan.survey },
      buckets: new Map([['2026-01-01', jan], ['2026-02-01', feb]]),
      before: { customers: 10, buyers: 1, revenue: 100 },
      churn: { total: { previousBuyers: 1, lost: 0 }, buckets: new Map([['2026-02-01', { previousBuyers: 2, lost: 1 }]]) },
      predictedCltv: 123,
      cohorts: [],
    };
    const result = assembleKpis(periodBuckets(day('2026-01-01'), day('2026-02-28'), 'month'), counts, ['2026-01', '2026-02']);
    const [a, b] = result.buckets;
    expect(a).toMatchObject({ key: '2026-01-01', customers: { total: 12, active: 5, new: 2, buyers: 2 }, orders: 3, revenue: 300, averageOrderValue: 100, purchaseFrequency: 1.5, repeatPurchaseRate: 0.5, churnRate: null, nps: 25, npsResponses: 4, csat: 50, csatResponses: 2, campaignRoi: null });
    // revenue to date 400 over 2 buyers to date
    expect(a!.cltv).toEqual({ historic: 200, predicted: null });
    expect(b).toMatchObject({ customers: { total: 13, active: 1, new: 1, buyers: 1 }, averageOrderValue: 50, repeatPurchaseRate: 1, churnRate: 0.5, nps: null, csat: null });
    expect(b!.cltv.historic).toBe(225);
    expect(result.totals).toMatchObject({ customers: { total: 13, active: 5, new: 3, buyers: 2 }, orders: 4, revenue: 350, averageOrderValue: 87.5, purchaseFrequency: 2, repeatPurchaseRate: 1, churnRate: 0, cltv: { historic: 225, predicted: 123 } });
  });
});

describe('campaign return in a KPI result', () => {
  it('asks for the range and every clipped bucket as [first instant, instant after the last day)', () => {
    const buckets = periodBuckets(day('2026-01-15'), day('2026-02-10'), 'month');
    expect(roiPeriods(day('2026-01-15'), day('2026-02-10'), buckets)).toEqual([
      { key: TOTAL_KEY, from: day('2026-01-15'), to: day('2026-02-11') },
      { key: '2026-01-01', from: day('2026-01-15'), to: day('2026-02-01') },
      { key: '2026-02-01', from: day('2026-02-01'), to: day('2026-02-11') },
    ]);
  });

  it('fills campaignRoi in by key, null where the source said nothing or nothing was spent', () => {
    const result = assembleKpis(periodBuckets(day('2026-01-01'), day('2026-03-31'), 'month'), { total: EMPTY_WINDOW, buckets: new Map(), before: { customers: 0, buyers: 0, revenue: 0 }, churn: { total: { previousBuyers: 0, lost: 0 }, buckets: new Map() }, predictedCltv: null, cohorts: [] }, []);
    const roi = new Map([
      [TOTAL_KEY, { revenue: 90, cost: 10, sent: 4, roi: 8 }],
      ['2026-01-01', { revenue: 90, cost: 10, sent: 4, roi: 8 }],
      ['2026-02-01', { revenue: 0, cost: 0, sent: 2, roi: null }],
    ]);
    const filled = withCampaignRoi(result, roi);
    expect(filled.totals.campaignRoi).toBe(8);
    expect(filled.buckets.map((b) => b.campaignRoi)).toEqual([8, null, null]);
    expect(result.totals.campaignRoi).toBeNull();
  });
});
