import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RFM_SEGMENTS, RFM_SEGMENT_NAMES_ZH, rfmSegment, scoreRfm, summarizeRfm, type RfmInput, type RfmSegment } from './rfm.js';

function input(recencyDays: number[], frequency: number[], monetary: number[]): RfmInput {
  return {
    recencyDays: Float64Array.from(recencyDays),
    frequency: Float64Array.from(frequency),
    monetary: Float64Array.from(monetary),
  };
}

/** n customers with the same value on every metric, for tests that look at one metric only. */
function flat(n: number, value = 1): number[] {
  return new Array<number>(n).fill(value);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Deterministic shuffle, so a failure reproduces. */
function shuffled<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function countBy(scores: Uint8Array): number[] {
  const counts = [0, 0, 0, 0, 0];
  for (const s of scores) counts[s - 1]! += 1;
  return counts;
}

// ─── Segment map ──────────────────────────────────────────────────────────

describe('rfmSegment', () => {
  // The segment ranges on R × FM (FM = floor((F + M) / 2)) restated independently of the table in
  // rfm.ts, so the map is checked against its documentation rather than against itself.
  const between = (x: number, lo: number, hi: number): boolean => x >= lo && x <= hi;
  const RANGES: Record<RfmSegment, (r: number, fm: number) => boolean> = {
    Champions: (r, fm) => between(r, 4, 5) && between(fm, 4, 5),
    Loyal: (r, fm) => between(r, 3, 5) && between(fm, 3, 5) && !(r >= 4 && fm >= 4),
    'Potential Loyalist': (r, fm) => between(r, 4, 5) && fm === 2,
    New: (r, fm) => r === 5 && fm === 1,
    Promising: (r, fm) => r === 4 && fm === 1,
    'Need Attention': (r, fm) => r === 3 && fm === 2,
    'About to Sleep': (r, fm) => r === 3 && fm === 1,
    'At Risk': (r, fm) => between(r, 1, 2) && between(fm, 3, 4),
    "Can't Lose Them": (r, fm) => between(r, 1, 2) && fm === 5,
    Hibernating: (r, fm) => r === 2 && between(fm, 1, 2),
    Lost: (r, fm) => r === 1 && between(fm, 1, 2),
  };

  const triples: [number, number, number][] = [];
  for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) triples.push([r, f, m]);

  it('maps each of the 125 triples to exactly one documented segment', () => {
    expect(triples).toHaveLength(125);
    for (const [r, f, m] of triples) {
      const fm = Math.floor((f + m) / 2);
      const matching = RFM_SEGMENTS.filter((segment) => RANGES[segment](r, fm));
      expect(matching, `(${r}, ${f}, ${m})`).toHaveLength(1);
      expect(rfmSegment(r, f, m), `(${r}, ${f}, ${m})`).toBe(matching[0]);
    }
  });

  it('reaches every segment', () => {
    const reached = new Set(triples.map(([r, f, m]) => rfmSegment(r, f, m)));
    expect([...reached].sort()).toEqual([...RFM_SEGMENTS].sort());
  });

  it('places the textbook customers', () => {
    expect(rfmSegment(5, 5, 5)).toBe('Champions');
    expect(rfmSegment(5, 1, 1)).toBe('New');
    expect(rfmSegment(4, 1, 1)).toBe('Promising');
    expect(rfmSegment(1, 5, 5)).toBe("Can't Lose Them");
    expect(rfmSegment(2, 4, 3)).toBe('At Risk');
    expect(rfmSegment(1, 1, 1)).toBe('Lost');
    expect(rfmSegment(2, 1, 2)).toBe('Hibernating');
    // FM rounds down: frequency alone does not make a champion.
    expect(rfmSegment(5, 5, 1)).toBe('Loyal');
    expect(rfmSegment(5, 1, 2)).toBe('New');
  });

  it('rejects anything but integer scores 1..5', () => {
    for (const [r, f, m] of [[0, 3, 3], [6, 3, 3], [3, 2.5, 3], [3, 3, Number.NaN], [3, -1, 3]] as const) {
      expect(() => rfmSegment(r, f, m)).toThrow(RangeError);
    }
  });

  it('has a Chinese name for every segment, all distinct', () => {
    const names = RFM_SEGMENTS.map((segment) => RFM_SEGMENT_NAMES_ZH[segment]);
    expect(names.every((name) => /^[\u4e00-\u9fff]+$/.test(name))).toBe(true);
    expect(new Set(names).size).toBe(RFM_SEGMENTS.length);
    expect(RFM_SEGMENT_NAMES_ZH.Champions).toBe('冠军客户');
  });
});

// ─── Quintiles ────────────────────────────────────────────────────────────

describe('scoreRfm quintiles', () => {
  it('gives 20 customers each score on 1..100, in value order', () => {
    const values = range(1, 100);
    const scores = scoreRfm(input(values, values, values));
    expect(countBy(scores.f)).toEqual([20, 20, 20, 20, 20]);
    expect(countBy(scores.m)).toEqual([20, 20, 20, 20, 20]);
    expect(countBy(scores.r)).toEqual([20, 20, 20, 20, 20]);
    values.forEach((v, i) => expect(scores.f[i]).toBe(Math.ceil(v / 20)));
    expect(scores.cuts.frequency).toEqual([20, 40, 60, 80]);
    expect(scores.cuts.monetary).toEqual([20, 40, 60, 80]);
  });

  it('does not depend on customer order', () => {
    const values = shuffled(range(1, 100), 7);
    const scores = scoreRfm(input(values, values, values));
    values.forEach((v, i) => {
      expect(scores.f[i]).toBe(Math.ceil(v / 20));
      expect(scores.r[i]).toBe(6 - Math.ceil(v / 20));
    });
  });

  it('scores recency the other way round: fewer days is better', () => {
    const days = range(1, 100);
    const scores = scoreRfm(input(days, flat(100), flat(100)));
    expect(scores.r[0]).toBe(5); // bought 1 day ago
    expect(scores.r[99]).toBe(1); // bought 100 days ago
    days.forEach((d, i) => expect(scores.r[i]).toBe(6 - Math.ceil(d / 20)));
    // R ≥ k + 1 exactly when days < cuts.recency[k - 1]: R = 5 is "less than 21 days ago".
    expect(scores.cuts.recency).toEqual([81, 61, 41, 21]);
  });

  it('gives equal values equal scores', () => {
    const monetary = [10, 10, 10, 20, 20, 30, 40, 40, 40, 50];
    for (const seed of [1, 2, 3]) {
      const m = shuffled(monetary, seed);
      const scores = scoreRfm(input(flat(10), flat(10), m));
      const byValue = new Map<number, Set<number>>();
      m.forEach((v, i) => byValue.set(v, (byValue.get(v) ?? new Set()).add(scores.m[i]!)));
      for (const [value, set] of byValue) expect(set.size, `value ${value}`).toBe(1);
    }
  });

  it('puts every one-time buyer in F = 1 when most customers bought once', () => {
    // 60% bought once: no split of them across F 1..3; the next value up takes the score its rank earns.
    const frequency = shuffled([...flat(6, 1), 2, 2, 3, 5], 11);
    const scores = scoreRfm(input(flat(10), frequency, flat(10)));
    frequency.forEach((f, i) => {
      const expected = f === 1 ? 1 : f === 2 ? 4 : 5;
      expect(scores.f[i], `frequency ${f}`).toBe(expected);
    });
    expect(scores.cuts.frequency).toEqual([1, 1, 1, 2]);

    const large = shuffled([...flat(6000, 1), ...flat(2500, 2), ...flat(1000, 3), ...flat(500, 7)], 5);
    const big = scoreRfm(input(flat(10_000), large, flat(10_000)));
    expect(countBy(big.f)).toEqual([6000, 0, 0, 2500, 1500]);
  });

  it('scores everyone 1 when all values are equal, and reports that value as every cut', () => {
    const scores = scoreRfm(input(flat(7, 3), flat(7, 1), flat(7, 50)));
    expect([...scores.r, ...scores.f, ...scores.m].every((s) => s === 1)).toBe(true);
    expect(scores.cuts).toEqual({ recency: [3, 3, 3, 3], frequency: [1, 1, 1, 1], monetary: [50, 50, 50, 50] });
  });

  it('handles net revenue at or below zero and a recency of 0 days', () => {
    const scores = scoreRfm(input([0, 0, 5, 9, 30], [1, 1, 2, 3, 4], [-20, 0, 0, 15.5, 99]));
    expect([...scores.m]).toEqual([1, 2, 2, 4, 5]);
    expect([...scores.r]).toEqual([4, 4, 3, 2, 1]);
    expect(scores.cuts.recency).toEqual([30, 9, 5, 0]);

    const negativeZero = scoreRfm(input([-0, -0, -0, 1, 2], flat(5), [-0, -0, -0, 3, 4]));
    for (const cut of [...negativeZero.cuts.recency, ...negativeZero.cuts.monetary]) expect(Object.is(cut, -0)).toBe(false);
  });

  it('counts a missing (NaN) value as the worst', () => {
    const scores = scoreRfm(input([1, 2, Number.NaN, 4, 5], [5, Number.NaN, 3, 2, 1], [1, 2, 3, 4, Number.NaN]));
    expect(scores.r[2]).toBe(1);
    expect(scores.f[1]).toBe(1);
    expect(scores.m[4]).toBe(1);
  });

  it('segments each customer from its own scores', () => {
    const days = shuffled(range(1, 50), 3);
    const freq = shuffled(range(1, 50), 4);
    const money = shuffled(range(1, 50), 5);
    const scores = scoreRfm(input(days, freq, money));
    for (let i = 0; i < 50; i++) {
      expect(RFM_SEGMENTS[scores.segment[i]!]).toBe(rfmSegment(scores.r[i]!, scores.f[i]!, scores.m[i]!));
    }
  });

  it('rejects arrays of different lengths', () => {
    expect(() => scoreRfm(input([1, 2], [1, 2], [1]))).toThrow(RangeError);
  });

  it('keeps scores in 1..5, monotone, and consistent with the reported cuts (property)', () => {
    const customer = fc.record({
      days: fc.integer({ min: 0, max: 400 }),
      orders: fc.integer({ min: 1, max: 12 }),
      revenue: fc.double({ min: -500, max: 5000, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(customer, { minLength: 1, maxLength: 60 }), (customers) => {
        const data = input(
          customers.map((c) => c.days),
          customers.map((c) => c.orders),
          customers.map((c) => c.revenue),
        );
        const { r, f, m, segment, cuts } = scoreRfm(data);
        const n = customers.length;
        // Collected as text rather than asserted one by one: the pairwise check is n² per run.
        const violations: string[] = [];
        for (const [name, scores] of [['r', r], ['f', f], ['m', m]] as const) {
          if (scores.length !== n) violations.push(`${name} has ${scores.length} scores for ${n} customers`);
          scores.forEach((s, i) => s >= 1 && s <= 5 ? undefined : violations.push(`${name}[${i}] = ${s}`));
        }
        segment.forEach((s, i) => (s < RFM_SEGMENTS.length ? undefined : violations.push(`segment[${i}] = ${s}`)));

        for (let i = 0; i < n; i++) {
          const a = customers[i]!;
          for (let j = 0; j < n; j++) {
            const b = customers[j]!;
            if (a.orders > b.orders && f[i]! < f[j]!) violations.push(`F: ${a.orders} orders scored below ${b.orders}`);
            if (a.orders === b.orders && f[i] !== f[j]) violations.push(`F: ${a.orders} orders scored twice`);
            if (a.revenue > b.revenue && m[i]! < m[j]!) violations.push(`M: ${a.revenue} scored below ${b.revenue}`);
            if (a.days < b.days && r[i]! < r[j]!) violations.push(`R: ${a.days} days scored below ${b.days}`);
            if (a.days === b.days && r[i] !== r[j]) violations.push(`R: ${a.days} days scored twice`);
          }
          for (let k = 1; k <= 4; k++) {
            if (f[i]! >= k + 1 !== a.orders > cuts.frequency[k - 1]!) violations.push(`F cut ${k} disagrees for ${a.orders}`);
            if (m[i]! >= k + 1 !== a.revenue > cuts.monetary[k - 1]!) violations.push(`M cut ${k} disagrees for ${a.revenue}`);
            if (r[i]! >= k + 1 !== a.days < cuts.recency[k - 1]!) violations.push(`R cut ${k} disagrees for ${a.days}`);
          }
        }
        expect(violations.slice(0, 5)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

// ─── Summary ──────────────────────────────────────────────────────────────

describe('summarizeRfm', () => {
  /** Every number in a JSON-shaped value, for no-NaN checks. */
  function numbersIn(value: unknown): number[] {
    if (typeof value === 'number') return [value];
    if (Array.isArray(value)) return value.flatMap(numbersIn);
    if (value !== null && typeof value === 'object') return Object.values(value).flatMap(numbersIn);
    return [];
  }

  const days = shuffled(range(0, 199), 21);
  const orders = shuffled([...flat(120, 1), ...flat(40, 2), ...flat(25, 3), ...flat(15, 6)], 22);
  // Multiples of 0.25 with small totals add up exactly in any order, so the total can use toBe.
  const revenue = shuffled(range(0, 199).map((i) => (i * 37) % 500 - 40 + 0.25), 23);
  const data = input(days, orders, revenue);
  const scores = scoreRfm(data);
  const summary = summarizeRfm(data, scores);

  it('lists all 11 segments in order', () => {
    expect(summary.segments.map((s) => s.segment)).toEqual([...RFM_SEGMENTS]);
    expect(summary.customers).toBe(200);
  });

  it('counts every customer once, in the segments and in the grid', () => {
    expect(summary.segments.reduce((sum, s) => sum + s.customers, 0)).toBe(200);
    expect(summary.grid).toHaveLength(5);
    for (const row of summary.grid) expect(row).toHaveLength(5);
    expect(summary.grid.flat().reduce((a, b) => a + b, 0)).toBe(200);
    expect(summary.segments.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1, 12);
  });

  it('fills the grid by R row and F column', () => {
    for (let r = 1; r <= 5; r++) {
      for (let f = 1; f <= 5; f++) {
        let expected = 0;
        for (let i = 0; i < 200; i++) if (scores.r[i] === r && scores.f[i] === f) expected++;
        expect(summary.grid[r - 1]![f - 1], `R${r} F${f}`).toBe(expected);
      }
    }
  });

  it('adds revenue up to the total and averages per segment', () => {
    const total = revenue.reduce((a, b) => a + b, 0);
    expect(summary.segments.reduce((sum, s) => sum + s.revenue, 0)).toBe(total);
    for (const s of summary.segments) {
      const members = range(0, 199).filter((i) => RFM_SEGMENTS[scores.segment[i]!] === s.segment);
      expect(s.customers).toBe(members.length);
      expect(s.share).toBe(members.length / 200);
      if (members.length === 0) {
        expect([s.avgRecencyDays, s.avgFrequency, s.avgMonetary, s.revenue]).toEqual([0, 0, 0, 0]);
        continue;
      }
      const avg = (values: number[]): number => members.reduce((sum, i) => sum + values[i]!, 0) / members.length;
      expect(s.avgRecencyDays).toBeCloseTo(avg(days), 9);
      expect(s.avgFrequency).toBeCloseTo(avg(orders), 9);
      expect(s.avgMonetary).toBeCloseTo(avg(revenue), 9);
      expect(s.revenue).toBeCloseTo(avg(revenue) * members.length, 9);
    }
  });

  it('has no NaN or infinity', () => {
    expect(numbersIn(summary).every(Number.isFinite)).toBe(true);
  });

  it('gives an empty summary for no customers', () => {
    const empty = input([], [], []);
    const emptyScores = scoreRfm(empty);
    expect(emptyScores.r).toHaveLength(0);
    expect(emptyScores.segment).toHaveLength(0);
    expect(emptyScores.cuts).toEqual({ recency: [], frequency: [], monetary: [] });

    const result = summarizeRfm(empty, emptyScores);
    expect(result.customers).toBe(0);
    expect(result.segments.map((s) => s.segment)).toEqual([...RFM_SEGMENTS]);
    expect(result.segments.every((s) => s.customers === 0 && s.share === 0 && s.revenue === 0)).toBe(true);
    expect(result.grid).toEqual(Array.from({ length: 5 }, () => [0, 0, 0, 0, 0]));
    expect(numbersIn(result).every(Number.isFinite)).toBe(true);
  });

  it('rejects scores that do not belong to the input', () => {
    expect(() => summarizeRfm(input([1], [1], [1]), scores)).toThrow(RangeError);
    const broken = { ...scoreRfm(input([1], [1], [1])), f: Uint8Array.of(0) };
    expect(() => summarizeRfm(input([1], [1], [1]), broken)).toThrow(RangeError);
  });
});
