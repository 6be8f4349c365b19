import { describe, expect, it } from 'vitest';
import { campaignCost, conversionRate, differenceInterval, erfc, incremental, measureUplift, returnOnCost, twoProportionTest, twoSidedP, wilsonInterval } from './uplift.js';

// Reference values computed independently (scipy.stats.norm and the textbook formulas), not by this module.
describe('normal tail', () => {
  it.each([
    [1.959963984540054, 0.05],
    [1.96, 0.04999579029644087],
    [2.9814239699997187, 0.0028691127920766196],
    [5, 5.733031437583866e-7],
    [8, 1.244192114854348e-15],
    [0, 1],
  ])('two-sided p at z = %f is %f', (z, p) => {
    expect(Math.abs(twoSidedP(z) - p) / p).toBeLessThan(2e-7);
    expect(twoSidedP(-z)).toBeCloseTo(twoSidedP(z), 15);
  });

  it('erfc is 2 − erfc(−x)', () => {
    expect(erfc(-0.7) + erfc(0.7)).toBeCloseTo(2, 12);
  });
});

describe('two proportions', () => {
  const t = { people: 1000, converted: 120 };
  const c = { people: 1000, converted: 80 };

  it('120/1000 against 80/1000: difference 0.04, z ≈ 2.98, p ≈ 0.0029', () => {
    // pooled p = 0.1, SE = √(0.1·0.9·(2/1000)) = 0.0134164, z = 0.04 / SE
    const test = twoProportionTest(t, c);
    expect(test.z).toBeCloseTo(2.9814239699997187, 6);
    expect(test.pValue).toBeCloseTo(0.0028691127920766196, 7);
    const u = measureUplift(t, c);
    expect(u.notes).toEqual([]);
    expect(u.uplift!.absolute).toBeCloseTo(0.04, 12);
    expect(u.uplift!.relative).toBeCloseTo(0.5, 12);
  });

  it('Wilson intervals of each arm and Newcombe’s interval of the difference', () => {
    const [l1, u1] = wilsonInterval(120, 1000);
    expect(l1).toBeCloseTo(0.10129926060130913, 10);
    expect(u1).toBeCloseTo(0.14160907584771276, 10);
    const [lo, hi] = differenceInterval(t, c);
    expect(lo).toBeCloseTo(0.013718313895640575, 10);
    expect(hi).toBeCloseTo(0.0664494707100381, 10);
  });

  it('a small, not significant difference keeps 0 inside the interval', () => {
    const u = measureUplift({ people: 10_000, converted: 500 }, { people: 10_000, converted: 450 }).uplift!;
    expect(u.z).toBeCloseTo(1.6621710330675814, 6);
    expect(u.pValue).toBeCloseTo(0.09647848627673519, 7);
    expect(u.ci95[0]).toBeCloseTo(-0.0008997174838235502, 10);
    expect(u.ci95[1]).toBeCloseTo(0.010909262594335539, 10);
  });

  it('nobody converted in either arm: no difference, p = 1, an interval that still has width', () => {
    const u = measureUplift({ people: 50, converted: 0 }, { people: 40, converted: 0 });
    expect(u.uplift).toMatchObject({ absolute: 0, relative: null, z: null, pValue: 1 });
    expect(u.uplift!.ci95[0]).toBeCloseTo(-0.08762160119728665, 10);
    expect(u.uplift!.ci95[1]).toBeCloseTo(0.07134759913335872, 10);
    expect(u.notes.join(' ')).toMatch(/relative/);
  });

  it('nobody in control converted: relative uplift is null, the rest is measured', () => {
    const u = measureUplift({ people: 20, converted: 5 }, { people: 10, converted: 0 });
    expect(u.uplift!.absolute).toBeCloseTo(0.25, 12);
    expect(u.uplift!.relative).toBeNull();
    expect(u.uplift!.z).toBeCloseTo(1.732050807568877, 9);
    expect(u.uplift!.pValue).toBeCloseTo(0.08326451666355045, 7);
    expect(u.uplift!.ci95[0]).toBeCloseTo(-0.06001071681107961, 10);
    expect(u.uplift!.ci95[1]).toBeCloseTo(0.468700877618744, 10);
  });

  it('everyone in treatment converted: the interval stops at 1', () => {
    const u = measureUplift({ people: 3, converted: 3 }, { people: 4, converted: 0 }).uplift!;
    expect(u.ci95[0]).toBeCloseTo(0.25483428130924357, 10);
    expect(u.ci95[1]).toBe(1);
    expect(u.pValue).toBeCloseTo(0.008150971593502691, 7);
  });

  it('no control group, or an empty arm: no uplift, and a note says why', () => {
    expect(measureUplift(t, null).uplift).toBeNull();
    expect(measureUplift(t, null).notes[0]).toMatch(/no control group/);
    expect(measureUplift(t, { people: 0, converted: 0 }).uplift).toBeNull();
    expect(measureUplift({ people: 0, converted: 0 }, c).uplift).toBeNull();
    expect(measureUplift({ people: 0, converted: 0 }, c).notes[0]).toMatch(/nobody has been sent/);
  });

  it('rates of empty arms are null', () => {
    expect(conversionRate({ people: 0, converted: 0 })).toBeNull();
    expect(conversionRate({ people: 8, converted: 2 })).toBe(0.25);
  });
});

describe('money', () => {
  it('incremental figures scale the per-person difference by the people sent', () => {
    expect(incremental(0.12, 0.08, 1000)).toBeCloseTo(40, 9);
    expect(incremental(30, 10, 4)).toBe(80);
    expect(incremental(0.05, 0.07, 100)).toBeCloseTo(-2, 9);
  });

  it('cost and return on it', () => {
    expect(campaignCost(50, 0.5, 100)).toBe(100);
    expect(returnOnCost(250, 100)).toBe(1.5);
    expect(returnOnCost(40, 100)).toBe(-0.6);
    expect(returnOnCost(250, 0)).toBeNull();
  });
});
