import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requireDatasets } from '../../test/helpers/datasets.js';
import { associationRules, basketsFrom, frequentItemsets, minimumCount, TooManyItemsets, type Baskets } from './fpgrowth.js';

/** The textbook five-basket example; every figure asserted below was worked out by hand. */
const SHOP = basketsFrom([
  ['bread', 'milk'],
  ['bread', 'diapers', 'beer', 'eggs'],
  ['milk', 'diapers', 'beer', 'cola'],
  ['bread', 'milk', 'diapers', 'beer'],
  ['bread', 'milk', 'diapers', 'cola'],
]);

function ruleText(r: { antecedent: string[]; consequent: string[] }): string {
  return `{${r.antecedent.join(', ')}} => {${r.consequent.join(', ')}}`;
}

/** Baskets of item numbers, named i0, i1, …, with duplicates left in to check they count once. */
function numbered(lists: readonly (readonly number[])[], itemCount: number): Baskets {
  const offsets = new Int32Array(lists.length + 1);
  const members: number[] = [];
  lists.forEach((list, b) => {
    members.push(...list);
    offsets[b + 1] = members.length;
  });
  return { items: Array.from({ length: itemCount }, (_, i) => `i${i}`), offsets, members: Int32Array.from(members) };
}

/** Every non-empty subset of the items, counted against every basket: the definition, with no cleverness. */
function bruteForce(lists: readonly (readonly number[])[], itemCount: number, minCount: number, maxLength: number): Map<string, number> {
  const masks = lists.map((list) => list.reduce((mask, i) => mask | (1 << i), 0));
  const out = new Map<string, number>();
  for (let set = 1; set < 1 << itemCount; set++) {
    const items: number[] = [];
    for (let i = 0; i < itemCount; i++) if (set & (1 << i)) items.push(i);
    if (items.length > maxLength) continue;
    const count = masks.filter((m) => (m & set) === set).length;
    if (count >= minCount) out.set(items.join(','), count);
  }
  return out;
}

describe('basketsFrom', () => {
  it('codes names in code-unit order and drops duplicates within a basket', () => {
    const b = basketsFrom([['b', 'a', 'b'], [], ['c ', 'a']]);
    expect(b.items).toEqual(['a', 'b', 'c ']);
    expect([...b.offsets]).toEqual([0, 2, 2, 4]);
    expect([...b.members]).toEqual([0, 1, 0, 2]);
  });
});

describe('frequentItemsets on a hand example', () => {
  it('finds the sets with count ≥ 3 (support 0.6 of 5 baskets)', () => {
    const found = frequentItemsets(SHOP, { minSupport: 0.6 }).map((s) => [Array.from(s.items, (i) => SHOP.items[i]).join('+'), s.count] as const);
    expect(new Map(found)).toEqual(
      new Map([
        ['bread', 4],
        ['milk', 4],
        ['diapers', 4],
        ['beer', 3],
        ['beer+diapers', 3],
        ['bread+milk', 3],
        ['bread+diapers', 3],
        ['diapers+milk', 3],
      ]),
    );
  });

  it('stops at maxLength', () => {
    const sets = frequentItemsets(SHOP, { minSupport: 0.2, maxLength: 2 });
    expect(Math.max(...sets.map((s) => s.items.length))).toBe(2);
    expect(frequentItemsets(SHOP, { minSupport: 0.2 }).some((s) => s.items.length === 4)).toBe(true);
  });

  it('reads minSupport × n the way a person means it, not through rounding noise', () => {
    // 0.07 × 100 is 7.000000000000001 in doubles; arules' plain ceil would ask for 8.
    expect(minimumCount(0.07, 100)).toBe(7);
    expect(minimumCount(0.57, 100)).toBe(57);
    expect(minimumCount(0.001, 9835)).toBe(10);
    expect(minimumCount(0.3, 10)).toBe(3);
    expect(minimumCount(1e-9, 10)).toBe(1);
    const lists = Array.from({ length: 100 }, (_, i) => (i < 7 ? [0, 1] : [1]));
    expect(frequentItemsets(numbered(lists, 2), { minSupport: 0.07 }).map((s) => s.count).sort()).toEqual([100, 7, 7]);
  });
});

describe('associationRules on a hand example', () => {
  const { rules, itemsets, baskets } = associationRules(SHOP, { minSupport: 0.4, minConfidence: 0.6 });
  const byText = new Map(rules.map((r) => [ruleText(r), r]));

  it('computes support, confidence, lift and conviction as worked by hand', () => {
    expect(baskets).toBe(5);
    // count ≥ 2: 5 single items (not eggs), 8 pairs (not bread+cola, beer+cola) and 4 triples
    // ({beer, bread, diapers}, {bread, diapers, milk}, {beer, diapers, milk}, {cola, diapers, milk}).
    expect(itemsets).toBe(17);
    // beer in 3 baskets, always with diapers (in 4): conf 3/3, lift 1 / 0.8.
    expect(byText.get('{beer} => {diapers}')).toMatchObject({ support: 0.6, confidence: 1, lift: 1.25, conviction: null, count: 3 });
    // conf 3/4, lift 0.75 / 0.6, conviction (1 − 0.6) / (1 − 0.75) = 1.6.
    const diapersBeer = byText.get('{diapers} => {beer}')!;
    expect(diapersBeer).toMatchObject({ support: 0.6, confidence: 0.75, count: 3 });
    expect(diapersBeer.lift).toBeCloseTo(1.25, 12);
    expect(diapersBeer.conviction).toBeCloseTo(1.6, 12);
    // {milk, diapers} in 3 baskets, with beer in 2: conf 2/3, lift (2/3) / 0.6 = 10/9, conviction 0.4 / (1/3) = 1.2.
    const triple = byText.get('{diapers, milk} => {beer}')!;
    expect(triple.support).toBeCloseTo(0.4, 12);
    expect(triple.confidence).toBeCloseTo(2 / 3, 12);
    expect(triple.lift).toBeCloseTo(10 / 9, 12);
    expect(triple.conviction).toBeCloseTo(1.2, 12);
  });

  it('includes rules with an empty left side when they pass confidence, as arules does', () => {
    // bread, milk and diapers are each in 4 of 5 baskets: conf 0.8 ≥ 0.6, lift 1, conviction 1.
    for (const item of ['bread', 'milk', 'diapers']) expect(byText.get(`{} => {${item}}`)).toMatchObject({ confidence: 0.8, lift: 1, conviction: 1, count: 4 });
    // beer (0.6) passes at exactly the threshold; cola (0.4) does not.
    expect(byText.get('{} => {beer}')?.confidence).toBe(0.6);
    expect(byText.has('{} => {cola}')).toBe(false);
    expect(associationRules(SHOP, { minSupport: 0.4, minConfidence: 0.6, maxLength: 1 }).rules.every((r) => r.antecedent.length === 0)).toBe(true);
  });

  it('keeps a rule whose confidence equals the threshold however it rounds', () => {
    // 7 of 10 baskets with item 0 also hold item 1: 7 / 10 against 0.7.
    const lists = Array.from({ length: 10 }, (_, i) => (i < 7 ? [0, 1] : [0]));
    const found = associationRules(numbered(lists, 2), { minSupport: 0.1, minConfidence: 0.7 }).rules.map(ruleText);
    expect(found).toContain('{i0} => {i1}');
  });

  it('sorts by lift, confidence, support, then text, and applies minLift and maxRules', () => {
    for (let i = 1; i < rules.length; i++) {
      const a = rules[i - 1]!;
      const b = rules[i]!;
      expect(a.lift > b.lift || (a.lift === b.lift && (a.confidence > b.confidence || (a.confidence === b.confidence && a.support >= b.support)))).toBe(true);
    }
    const lifted = associationRules(SHOP, { minSupport: 0.4, minConfidence: 0.6, minLift: 1.1 });
    expect(lifted.rules.length).toBeGreaterThan(0);
    expect(lifted.rules.every((r) => r.lift >= 1.1)).toBe(true);
    const capped = associationRules(SHOP, { minSupport: 0.4, minConfidence: 0.6, maxRules: 3 });
    expect(capped.rules).toEqual(rules.slice(0, 3));
    expect(capped.matched).toBe(rules.length);
  });

  it('stops past maxItemsets, naming the threshold to raise', () => {
    const many = basketsFrom(Array.from({ length: 20 }, () => ['a', 'b', 'c', 'd', 'e', 'f']));
    // 63 non-empty subsets of six items, all in every basket.
    expect(associationRules(many, { minSupport: 0.5, minConfidence: 0.5, maxItemsets: 63 }).itemsets).toBe(63);
    expect(() => associationRules(many, { minSupport: 0.5, minConfidence: 0.5, maxItemsets: 62 })).toThrow(TooManyItemsets);
    expect(() => associationRules(many, { minSupport: 0.5, minConfidence: 0.5, maxItemsets: 62 })).toThrow(/minSupport/);
  });

  it('survives JSON', () => {
    expect(JSON.parse(JSON.stringify(rules))).toEqual(rules);
  });
});

describe('FP-growth against brute force', () => {
  it('finds exactly the frequent itemsets of small random baskets', () => {
    const itemCount = 8;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: itemCount - 1 }), { maxLength: 7 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: itemCount }),
        (lists, permille, maxLength) => {
          const minSupport = permille / 1000;
          const minCount = minimumCount(minSupport, lists.length);
          const got = new Map(frequentItemsets(numbered(lists, itemCount), { minSupport, maxLength }).map((s) => [s.items.join(','), s.count]));
          expect(got).toEqual(bruteForce(lists, itemCount, minCount, maxLength));
        },
      ),
      { numRuns: 300, seed: 20001 },
    );
  });

  it('derives exactly the rules the definition gives', () => {
    const itemCount = 6;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: itemCount - 1 }), { maxLength: 5 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 100 }),
        (lists, permille, percent) => {
          const minSupport = permille / 1000;
          const minConfidence = percent / 100;
          const sets = bruteForce(lists, itemCount, minimumCount(minSupport, lists.length), 10);
          const expected = new Set<string>();
          for (const [key, count] of sets) {
            const items = key.split(',').map(Number);
            for (const y of items) {
              const body = items.filter((i) => i !== y);
              const bodyCount = body.length === 0 ? lists.length : sets.get(body.join(','))!;
              if (count / bodyCount >= minConfidence - 1e-12) expected.add(`{${body.map((i) => `i${i}`).join(', ')}} => {i${y}}`);
            }
          }
          const got = associationRules(numbered(lists, itemCount), { minSupport, minConfidence }).rules.map(ruleText);
          expect(new Set(got)).toEqual(expected);
          expect(got.length).toBe(expected.size);
        },
      ),
      { numRuns: 200, seed: 20002 },
    );
  });
});

describe('bad input', () => {
  it('names the field at fault', () => {
    const bad = (options: Record<string, unknown>) => () => associationRules(SHOP, { minSupport: 0.1, minConfidence: 0.5, ...options } as never);
    for (const minSupport of [0, -0.1, 1.5, Number.NaN, undefined, '0.1']) expect(bad({ minSupport }), String(minSupport)).toThrow(/minSupport/);
    for (const minConfidence of [-0.01, 1.01, Number.NaN, undefined]) expect(bad({ minConfidence }), String(minConfidence)).toThrow(/minConfidence/);
    for (const maxLength of [0, 2.5, -1]) expect(bad({ maxLength })).toThrow(/maxLength/);
    expect(bad({ minLift: -1 })).toThrow(/minLift/);
    expect(bad({ minLift: Number.POSITIVE_INFINITY })).toThrow(/minLift/);
    expect(bad({ maxRules: -1 })).toThrow(/maxRules/);
    expect(() => frequentItemsets(SHOP, { minSupport: 2 })).toThrow(/minSupport/);
    expect(() => frequentItemsets(SHOP, { minSupport: 0.5, maxLength: 0 })).toThrow(/maxLength/);
  });

  it('refuses malformed baskets', () => {
    const ok = numbered([[0, 1], [1]], 2);
    expect(() => frequentItemsets({ ...ok, members: Int32Array.from([0, 2, 1]) }, { minSupport: 0.5 })).toThrow(/members/);
    expect(() => frequentItemsets({ ...ok, offsets: Int32Array.from([0, 2, 1]) }, { minSupport: 0.5 })).toThrow(/offsets/);
    expect(() => frequentItemsets({ ...ok, offsets: Int32Array.from([1, 2, 3]) }, { minSupport: 0.5 })).toThrow(/offsets/);
  });

  it('returns nothing for no baskets', () => {
    expect(frequentItemsets(basketsFrom([]), { minSupport: 0.5 })).toEqual([]);
    expect(associationRules(basketsFrom([]), { minSupport: 0.5, minConfidence: 0.5 })).toEqual({ rules: [], itemsets: 0, baskets: 0, matched: 0 });
  });
});

const files = requireDatasets(['groceries/groceries.csv']);

describe.skipIf(files === null)('Groceries (arules reference)', () => {
  // vitest still runs a skipped block's body to collect its tests, so read nothing without the file.
  const text = files === null ? '' : readFileSync(files['groceries/groceries.csv'], 'utf8');
  const lists = text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0)
    .map((line) => line.split(','));
  const baskets = basketsFrom(lists);

  it('has 9,835 baskets of 169 items, names with trailing spaces kept', () => {
    expect(baskets.offsets.length - 1).toBe(9835);
    expect(baskets.items.length).toBe(169);
    expect(baskets.items).toContain('cream cheese ');
    expect(baskets.items).toContain('roll products ');
  });

  it('finds 13,492 frequent itemsets at support 0.001', () => {
    expect(frequentItemsets(baskets, { minSupport: 0.001 }).length).toBe(13_492);
  });

  it('finds 5,668 rules at support 0.001, confidence 0.5, with the published top rules', () => {
    const result = associationRules(baskets, { minSupport: 0.001, minConfidence: 0.5 });
    expect(result.itemsets).toBe(13_492);
    expect(result.rules.length).toBe(5_668);
    const top = result.rules.slice(0, 3).map((r) => `${ruleText(r)} ${r.lift.toFixed(2)}`);
    expect(top).toEqual([
      '{Instant food products, soda} => {hamburger meat} 19.00',
      '{popcorn, soda} => {salty snack} 16.70',
      '{baking powder, flour} => {sugar} 16.41',
    ]);
    expect(result.rules.every((r) => r.support >= 0.001 && r.confidence >= 0.5)).toBe(true);
    expect(associationRules(baskets, { minSupport: 0.001, minConfidence: 0.5 }).rules).toEqual(result.rules);
  });
});
