import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshnessRatio, mad, median, qualityScore, robustAnomaly } from './anomaly.js';

describe('median', () => {
  it.each<[number[], number]>([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[10, 20], 15],
    [[-1, -5, 10], -1],
    [[7, 7, 7, 7], 7],
    [[1, 2, 3, 4, 100], 3],
    [[0.1, 0.3], 0.2],
    [[1, Number.NaN, 3], 2],
    [[Number.NaN, 4], 4],
    [[Number.MAX_VALUE, Number.MAX_VALUE], Number.MAX_VALUE],
    [[-Infinity, 0, Infinity], 0],
  ])('median(%j) = %d', (values, expected) => {
    expect(median(values)).toBeCloseTo(expected, 12);
  });

  it.each<[number[]]>([[[]], [[Number.NaN]], [[Number.NaN, Number.NaN]]])('median(%j) is NaN', (values) => {
    expect(median(values)).toBeNaN();
  });

  it('takes typed arrays and array-likes without changing them', () => {
    const values = Float64Array.of(9, 1, 5);
    expect(median(values)).toBe(5);
    expect([...values]).toEqual([9, 1, 5]);
    expect(median({ length: 3, 0: 2, 1: 8, 2: 4 })).toBe(4);
  });

  it('lies between the smallest and largest value and ignores order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 60 }), (values) => {
        const m = median(values);
        expect(m).toBeGreaterThanOrEqual(Math.min(...values));
        expect(m).toBeLessThanOrEqual(Math.max(...values));
        expect(median([...values].reverse())).toBe(m);
      }),
    );
  });
});

describe('mad', () => {
  it.each<[number[], number | undefined, number]>([
    // median 3; deviations 2 1 0 1 97 → 0 1 1 2 97
    [[1, 2, 3, 4, 100], undefined, 1],
    // median 2; deviations 1 1 0 0 2 4 7 → 0 0 1 1 2 4 7
    [[1, 1, 2, 2, 4, 6, 9], undefined, 1],
    // median 15; deviations 5 5
    [[10, 20], undefined, 5],
    // median 25; deviations 15 5 5 15 → 5 5 15 15
    [[10, 20, 30, 40], undefined, 10],
    [[7, 7, 7], undefined, 0],
    [[5], undefined, 0],
    // around 0: deviations 10 20 30
    [[10, 20, 30], 0, 20],
    // around 100: deviations 90 80 70 → 70 80 90
    [[10, 20, 30], 100, 80],
    [[1, Number.NaN, 3, 5], undefined, 2],
  ])('mad(%j, %j) = %d', (values, center, expected) => {
    expect(mad(values, center)).toBe(expected);
  });

  it('is NaN for no values', () => {
    expect(mad([])).toBeNaN();
    expect(mad([], 3)).toBeNaN();
  });

  it('is never negative, never more than the range, and unmoved by shifting every value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        (values, offset) => {
          const d = mad(values);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.max(...values) - Math.min(...values));
          expect(mad(values.map((v) => v + offset))).toBe(d);
        },
      ),
    );
  });
});

describe('robustAnomaly', () => {
  const flat = Array.from({ length: 28 }, () => 1000);
  // 28 days around 100 with weekday noise: median 100, MAD 6.
  const noisy = [92, 108, 94, 104, 100, 87, 113, 96, 106, 99, 101, 91, 109, 94, 100, 105, 95, 112, 88, 102, 98, 107, 93, 100, 96, 104, 90, 110];

  it('computes median and MAD of a hand-checked noisy history', () => {
    expect(median(noisy)).toBe(100);
    expect(mad(noisy)).toBe(6);
  });

  it.each<[string, number[], number, boolean, 'high' | 'low' | 'none', number]>([
    // flat 1000: MAD 0, default floor 1% of 1000 = 10
    ['flat, same value', flat, 1000, false, 'none', 0],
    ['flat, small wiggle', flat, 1015, false, 'none', 1.5],
    ['flat, exactly 4 floors', flat, 1040, false, 'none', 4],
    ['flat, just past 4 floors', flat, 1041, true, 'high', 4.1],
    ['flat, spike', flat, 5000, true, 'high', 400],
    ['flat, drop', flat, 950, true, 'low', 5],
    ['flat, outage', flat, 0, true, 'low', 100],
    // noisy: median 100, MAD 6, so 24 either way is the edge
    ['noisy, typical', noisy, 108, false, 'none', 8 / 6],
    ['noisy, high but normal', noisy, 118, false, 'none', 3],
    ['noisy, at the edge', noisy, 124, false, 'none', 4],
    ['noisy, past the edge', noisy, 125, true, 'high', 25 / 6],
    ['noisy, spike', noisy, 300, true, 'high', 200 / 6],
    ['noisy, low but normal', noisy, 80, false, 'none', 20 / 6],
    ['noisy, drop', noisy, 70, true, 'low', 5],
  ])('%s', (_name, history, value, anomalous, direction, score) => {
    const verdict = robustAnomaly(history, value);
    expect(verdict.anomalous).toBe(anomalous);
    expect(verdict.direction).toBe(direction);
    expect(verdict.score).toBeCloseTo(score, 9);
    expect(verdict.value).toBe(value);
  });

  it('reports the median and MAD it judged by', () => {
    expect(robustAnomaly(noisy, 150)).toEqual({ anomalous: true, value: 150, median: 100, mad: 6, score: 50 / 6, direction: 'high' });
  });

  it('is robust to past spikes in the history', () => {
    const withOutages = [...noisy.slice(0, 24), 0, 0, 5000, 4000];
    expect(median(withOutages)).toBe(100);
    expect(robustAnomaly(withOutages, 108).anomalous).toBe(false);
    expect(robustAnomaly(withOutages, 400).anomalous).toBe(true);
  });

  it('respects threshold', () => {
    expect(robustAnomaly(noisy, 118, { threshold: 2 }).anomalous).toBe(true);
    expect(robustAnomaly(noisy, 300, { threshold: 50 }).anomalous).toBe(false);
  });

  it('never flags with less history than minHistory', () => {
    const six = [1000, 1000, 1000, 1000, 1000, 1000];
    expect(robustAnomaly(six, 99999)).toMatchObject({ anomalous: false, direction: 'none', median: 1000 });
    expect(robustAnomaly([...six, 1000], 99999).anomalous).toBe(true);
    expect(robustAnomaly(six, 99999, { minHistory: 6 }).anomalous).toBe(true);
    expect(robustAnomaly([...flat.slice(0, 27)], 99999, { minHistory: 28 }).anomalous).toBe(false);
  });

  it('does not count missing days (NaN) as history', () => {
    const gappy = [1000, Number.NaN, 1000, Number.NaN, 1000, 1000, Number.NaN, 1000, 1000];
    expect(robustAnomaly(gappy, 99999).anomalous).toBe(false);
    expect(robustAnomaly([...gappy, 1000], 99999).anomalous).toBe(true);
  });

  it('needs an absolute floor for rates near a flat level', () => {
    const rate = Array.from({ length: 28 }, () => 0.02);
    // Default floor 1% of 0.02 = 0.0002, so 0.021 is 5 floors out.
    expect(robustAnomaly(rate, 0.021).anomalous).toBe(true);
    expect(robustAnomaly(rate, 0.021, { floor: 0.005 })).toMatchObject({ anomalous: false, direction: 'none' });
    expect(robustAnomaly(rate, 0.05, { floor: 0.005 })).toMatchObject({ anomalous: true, direction: 'high' });
  });

  it('flags the first non-zero after an all-zero history', () => {
    const zeros = Array.from({ length: 14 }, () => 0);
    expect(robustAnomaly(zeros, 0).anomalous).toBe(false);
    expect(robustAnomaly(zeros, 1)).toMatchObject({ anomalous: true, direction: 'high' });
    expect(robustAnomaly(zeros, 1, { floor: 1 }).anomalous).toBe(false);
  });

  it('is never anomalous without history or for a NaN value', () => {
    expect(robustAnomaly([], 5)).toMatchObject({ anomalous: false, direction: 'none' });
    expect(robustAnomaly([], 5).median).toBeNaN();
    expect(robustAnomaly(flat, Number.NaN)).toMatchObject({ anomalous: false, direction: 'none' });
  });

  const history = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 7, maxLength: 40 });

  it('scores are non-negative, and only anomalous verdicts have a direction, on the right side', () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 2_000_000 }), (h, value) => {
        const verdict = robustAnomaly(h, value);
        expect(verdict.score).toBeGreaterThanOrEqual(0);
        expect(verdict.anomalous).toBe(verdict.score > 4);
        if (!verdict.anomalous) expect(verdict.direction).toBe('none');
        else expect(verdict.direction).toBe(value > verdict.median ? 'high' : 'low');
      }),
    );
  });

  it('never flags the median itself', () => {
    fc.assert(
      fc.property(history, (h) => {
        expect(robustAnomaly(h, median(h)).anomalous).toBe(false);
      }),
    );
  });

  it('gives the same score in any unit (the default floor is relative)', () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 2_000_000 }), fc.constantFrom(0.001, 0.5, 3, 1000), (h, value, k) => {
        const a = robustAnomaly(h, value).score;
        const b = robustAnomaly(h.map((x) => x * k), value * k).score;
        if (Number.isFinite(a) && a < 1e6) expect(b).toBeCloseTo(a, 6);
      }),
    );
  });
});

describe('qualityScore', () => {
  it.each<[string, Parameters<typeof qualityScore>[0], Parameters<typeof qualityScore>[1], number]>([
    ['all perfect', { completeness: 1, validity: 1, uniqueness: 1, consistency: 1, freshness: 1 }, undefined, 100],
    ['all zero', { completeness: 0, validity: 0, uniqueness: 0, consistency: 0, freshness: 0 }, undefined, 0],
    ['one dimension', { completeness: 0.5 }, undefined, 50],
    ['equal weights by default', { completeness: 1, validity: 0 }, undefined, 50],
    ['five dimensions averaged', { completeness: 0.9, validity: 0.8, uniqueness: 1, consistency: 0.7, freshness: 0.6 }, undefined, 80],
    ['weights', { completeness: 1, validity: 0 }, { completeness: 3, validity: 1 }, 75],
    ['partial weights keep the default 1 for the rest', { completeness: 1, validity: 0, uniqueness: 0 }, { completeness: 2 }, 50],
    // freshness has a weight but no ratio: skipped, the other two renormalised
    ['weights of missing dimensions are dropped', { completeness: 1, validity: 0.5 }, { freshness: 10 }, 75],
    ['zero weight leaves a dimension out', { completeness: 1, validity: 0 }, { validity: 0 }, 100],
    ['negative weight leaves a dimension out', { completeness: 0.4, validity: 1 }, { validity: -5 }, 40],
    ['NaN ratio is skipped', { completeness: Number.NaN, validity: 0.25 }, undefined, 25],
    ['ratios clamped to [0,1]', { completeness: 1.5, validity: -0.5 }, undefined, 50],
    ['weights renormalised', { completeness: 0.6, uniqueness: 0.9 }, { completeness: 0.2, uniqueness: 0.1 }, 70],
  ])('%s', (_name, dims, weights, expected) => {
    expect(qualityScore(dims, weights)).toBeCloseTo(expected, 9);
  });

  it('is NaN when nothing was measured', () => {
    expect(qualityScore({})).toBeNaN();
    expect(qualityScore({ completeness: 1 }, { completeness: 0 })).toBeNaN();
  });

  const ratio = fc.option(fc.double({ min: -1, max: 2, noNaN: true }), { nil: undefined });
  const weight = fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined });
  const dims = fc.record({ completeness: ratio, validity: ratio, uniqueness: ratio, consistency: ratio, freshness: ratio });
  const weights = fc.record({ completeness: weight, validity: weight, uniqueness: weight, consistency: weight, freshness: weight });

  it('is always within 0–100 when anything was measured', () => {
    fc.assert(
      fc.property(dims, weights, (d, w) => {
        const score = qualityScore(d, w);
        if (Number.isNaN(score)) return;
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(100);
      }),
    );
  });

  it('does not change when every weight is scaled', () => {
    fc.assert(
      fc.property(dims, fc.double({ min: 0.01, max: 1000, noNaN: true }), (d, k) => {
        const scaled = { completeness: k, validity: k, uniqueness: k, consistency: k, freshness: k };
        const a = qualityScore(d);
        if (Number.isNaN(a)) expect(qualityScore(d, scaled)).toBeNaN();
        else expect(qualityScore(d, scaled)).toBeCloseTo(a, 9);
      }),
    );
  });

  it('never falls when one dimension improves', () => {
    fc.assert(
      fc.property(dims, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (d, a, b) => {
        const low = qualityScore({ ...d, validity: Math.min(a, b) });
        const high = qualityScore({ ...d, validity: Math.max(a, b) });
        expect(high).toBeGreaterThanOrEqual(low - 1e-9);
      }),
    );
  });
});

describe('freshnessRatio', () => {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  it.each<[number, { freshMs?: number; staleMs?: number } | undefined, number]>([
    [0, undefined, 1],
    [HOUR, undefined, 1],
    [DAY, undefined, 1],
    // defaults: fresh 1 day, stale 7 days, linear between
    [4 * DAY, undefined, 0.5],
    [2.5 * DAY, undefined, 0.75],
    [5.5 * DAY, undefined, 0.25],
    [7 * DAY, undefined, 0],
    [30 * DAY, undefined, 0],
    [-HOUR, undefined, 1],
    [Number.POSITIVE_INFINITY, undefined, 0],
    [Number.NaN, undefined, 0],
    [30 * 60_000, { freshMs: HOUR, staleMs: 3 * HOUR }, 1],
    [2 * HOUR, { freshMs: HOUR, staleMs: 3 * HOUR }, 0.5],
    [3 * HOUR, { freshMs: HOUR, staleMs: 3 * HOUR }, 0],
    [6 * HOUR, { freshMs: 0, staleMs: DAY }, 0.75],
    // stale not after fresh: a step at freshMs
    [HOUR, { freshMs: HOUR, staleMs: HOUR }, 1],
    [HOUR + 1, { freshMs: HOUR, staleMs: HOUR }, 0],
    [HOUR + 1, { freshMs: HOUR, staleMs: HOUR / 2 }, 0],
  ])('age %d with %j → %d', (age, options, expected) => {
    expect(freshnessRatio(age, options)).toBeCloseTo(expected, 12);
  });

  it('stays in [0,1] and never rises with age', () => {
    fc.assert(
      fc.property(fc.double({ min: -DAY, max: 30 * DAY, noNaN: true }), fc.double({ min: 0, max: 30 * DAY, noNaN: true }), (a, b) => {
        const younger = freshnessRatio(Math.min(a, b));
        const older = freshnessRatio(Math.max(a, b));
        expect(older).toBeGreaterThanOrEqual(0);
        expect(younger).toBeLessThanOrEqual(1);
        expect(older).toBeLessThanOrEqual(younger);
      }),
    );
  });
});
