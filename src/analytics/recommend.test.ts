import { describe, expect, it } from 'vitest';
import {
  evaluateHitRate,
  purchaseHistoryFrom,
  recommend,
  syntheticPurchaseHistory,
  trainRecommender,
  type PurchaseHistory,
  type RecommenderModel,
} from './recommend.js';

/**
 * 12 customers: 0–5 buy item 0 then item 1, 6–9 buy item 2, 10–11 item 3.
 * Buyers: 6, 6, 4, 2. With no shrinkage, uplift(0 → 1) = 6/6 − 6/12 = 0.5.
 */
const SMALL = purchaseHistoryFrom(
  [
    ...Array.from({ length: 6 }, () => [[0], [1]]),
    ...Array.from({ length: 4 }, () => [[2]]),
    ...Array.from({ length: 2 }, () => [[3]]),
  ],
  4,
);

const owned = (...items: number[]): Int32Array => Int32Array.from(items);

describe('trainRecommender', () => {
  it('keeps popularity and positive-uplift neighbours, as computed by hand', () => {
    const model = trainRecommender(SMALL, { shrinkage: 0 });
    expect(model.buyers).toEqual([6, 6, 4, 2]);
    expect(model.popular).toEqual([0, 1, 2, 3]);
    expect(model.neighbours).toEqual({ offsets: [0, 1, 2, 2, 2], items: [1, 0], scores: [0.5, 0.5] });
  });

  it('shrinks small items towards no evidence', () => {
    // 6 / (6 + 10) − 0.5 < 0: six customers are not enough to beat a base rate of one half.
    expect(trainRecommender(SMALL).neighbours.items).toEqual([]);
  });

  it('is JSON-serialisable and deterministic', () => {
    const h = syntheticPurchaseHistory({ customers: 500, seed: 3 });
    const model = trainRecommender(h);
    const copy = JSON.parse(JSON.stringify(model)) as RecommenderModel;
    expect(copy).toEqual(model);
    expect(trainRecommender(h)).toEqual(model);
    const mine = owned(0, 100, 150, 420);
    expect(recommend(copy, mine, 10)).toEqual(recommend(model, mine, 10));
  });
});

describe('recommend', () => {
  const model = trainRecommender(SMALL, { shrinkage: 0 });

  it('puts co-purchases first, then fills with popular items, never an owned one', () => {
    expect(recommend(model, owned(0), 3)).toEqual([
      { item: 1, score: 0.5, reason: 'co-purchase' },
      { item: 2, score: 4 / 12, reason: 'popular' },
      { item: 3, score: 2 / 12, reason: 'popular' },
    ]);
    expect(recommend(model, owned(0), 10).map((r) => r.item)).toEqual([1, 2, 3]);
    expect(recommend(model, owned(0, 1, 2, 3), 5)).toEqual([]);
    expect(recommend(model, owned(0), 0)).toEqual([]);
  });

  it('falls back to popularity for a customer with no history', () => {
    expect(recommend(model, owned(), 2)).toEqual([
      { item: 0, score: 0.5, reason: 'popular' },
      { item: 1, score: 0.5, reason: 'popular' },
    ]);
  });

  it('fires a rule only when its whole left side is owned, scored by confidence less the base rate', () => {
    const withRules = trainRecommender(SMALL, {
      shrinkage: 0,
      rules: [
        { antecedent: [0], consequent: 3, confidence: 0.8, lift: 4 },
        { antecedent: Int32Array.from([0, 2]), consequent: 1, confidence: 0.9, lift: 9 },
      ],
    });
    // 0.8 × (1 − 1/4) = 0.6 beats the co-purchase uplift of 0.5; {0, 2} ⇒ 1 needs item 2 too.
    expect(recommend(withRules, owned(0), 2)).toEqual([
      { item: 3, score: 0.8 * 0.75, reason: 'rule' },
      { item: 1, score: 0.5, reason: 'co-purchase' },
    ]);
    expect(recommend(withRules, owned(0, 2), 1)).toEqual([{ item: 1, score: 0.9 * (1 - 1 / 9), reason: 'rule' }]);
  });

  it('ignores repeated and unknown owned items', () => {
    expect(recommend(model, owned(0, 0, 7, -1), 3)).toEqual(recommend(model, owned(0), 3));
  });

  it('never recommends owned items, nor one item twice', () => {
    const h = syntheticPurchaseHistory({ customers: 800, seed: 11 });
    const m = trainRecommender(h);
    for (let c = 0; c < 200; c++) {
      const mine = new Set<number>();
      for (let p = h.basketOffsets[h.customerOffsets[c]!]!; p < h.basketOffsets[h.customerOffsets[c + 1]!]!; p++) mine.add(h.items[p]!);
      const recs = recommend(m, Int32Array.from(mine), 10);
      expect(recs).toHaveLength(10);
      expect(new Set(recs.map((r) => r.item)).size).toBe(10);
      for (const r of recs) expect(mine.has(r.item)).toBe(false);
    }
  });
});

describe('evaluateHitRate', () => {
  it('holds out last baskets and counts hits as worked by hand', () => {
    // Customers 0–2 are evaluated; 4's last basket holds nothing new, 3 and 5–8 have one basket.
    // Training buyers: item 0 six, item 2 three, item 1 two (customers 5 and 8, with item 0),
    // so uplift(0 → 1) = 2/6 − 2/9 > 0, while popularity offers item 2 first.
    const h = purchaseHistoryFrom([[[0], [1]], [[0], [1]], [[0], [1]], [[2]], [[0], [0]], [[0, 1]], [[2]], [[2]], [[0, 1]]], 3);
    expect(evaluateHitRate(h, 1, { shrinkage: 0 })).toEqual({ customers: 3, hitRate: 1, popularityHitRate: 0, k: 1, rules: 0, popularityWeight: 0, byWeight: [{ popularityWeight: 0, hitRate: 1 }] });
    // Mined from the 10 training baskets: {1} ⇒ {0} (2/2) and {} ⇒ {0} (7/10); neither adds anything new.
    expect(evaluateHitRate(h, 1, { shrinkage: 0, rules: { minSupport: 0.1, minConfidence: 0.5 } })).toEqual({
      customers: 3,
      hitRate: 1,
      popularityHitRate: 0,
      k: 1,
      rules: 2,
      popularityWeight: 0,
      byWeight: [{ popularityWeight: 0, hitRate: 1 }],
    });
    // Weighted enough, popularity puts item 2 (three buyers) above item 1's uplift: every hit is lost, and the best weight stays 0.
    const blended = evaluateHitRate(h, 1, { shrinkage: 0, popularityWeights: [0, 10] });
    expect(blended.byWeight).toEqual([{ popularityWeight: 0, hitRate: 1 }, { popularityWeight: 10, hitRate: 0 }]);
    expect(blended.popularityWeight).toBe(0);
  });

  it('blends popularity in by the weight the model carries', () => {
    const plain = trainRecommender(SMALL);
    const blended = trainRecommender(SMALL, { popularityWeight: 100 });
    expect(blended.popularityWeight).toBe(100);
    // With a heavy weight the order is the popularity order among unowned items.
    const popularFirst = recommend(blended, owned(0), 3).map((r) => r.item);
    const byPopularity = plain.popular.filter((i) => i !== 0).slice(0, 3);
    expect(popularFirst).toEqual(byPopularity);
    expect(() => trainRecommender(SMALL, { popularityWeight: -1 })).toThrow(/popularityWeight/);
  });

  it('beats the popularity baseline clearly on planted co-purchase structure, deterministically', () => {
    const h = syntheticPurchaseHistory({ customers: 3000, seed: 7 });
    const result = evaluateHitRate(h, 10);
    expect(result.customers).toBeGreaterThan(2000);
    expect(result.hitRate).toBeGreaterThan(result.popularityHitRate + 0.05);
    expect(evaluateHitRate(h, 10)).toEqual(result);
  });
});

describe('bad input', () => {
  it('names the field at fault', () => {
    const model = trainRecommender(SMALL);
    expect(() => recommend(model, owned(0), -1)).toThrow(/k must/);
    expect(() => recommend(model, owned(0), 1.5)).toThrow(/k must/);
    expect(() => trainRecommender(SMALL, { neighbours: -1 })).toThrow(/neighbours/);
    expect(() => trainRecommender(SMALL, { minCoPurchases: 0 })).toThrow(/minCoPurchases/);
    expect(() => trainRecommender(SMALL, { shrinkage: -1 })).toThrow(/shrinkage/);
    expect(() => trainRecommender(SMALL, { rules: [{ antecedent: [9], consequent: 1, confidence: 0.5, lift: 2 }] })).toThrow(/rules\[0\]/);
    expect(() => trainRecommender(SMALL, { rules: [{ antecedent: [1], consequent: 1, confidence: 0.5, lift: 2 }] })).toThrow(/consequent/);
    expect(() => trainRecommender(SMALL, { rules: [{ antecedent: [0], consequent: 1, confidence: 1.5, lift: 2 }] })).toThrow(/confidence/);
    expect(() => evaluateHitRate(SMALL, 0)).toThrow(/k must/);
    expect(() => evaluateHitRate(SMALL, 5, { rules: { minSupport: 0, minConfidence: 0.5 } })).toThrow(/minSupport/);
  });

  it('refuses malformed histories', () => {
    expect(() => purchaseHistoryFrom([[[0, 5]]], 3)).toThrow(/items\[1\]/);
    const broken: PurchaseHistory = { ...SMALL, customerOffsets: Int32Array.from([0, 2, 1]) };
    expect(() => trainRecommender(broken)).toThrow(/customerOffsets/);
    expect(() => trainRecommender({ ...SMALL, basketOffsets: SMALL.basketOffsets.slice(0, -1) })).toThrow(/Offsets/);
  });
});
