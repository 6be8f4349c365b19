import { describe, expect, it } from 'vitest';
import { PatternCounter, expectationMaximization, levelWeights, uWithoutMatches } from './fellegi-sunter.js';
import type { Comparator } from './match-fields.js';
import type { MatchRecord } from './match-record.js';
import { prepareRecords } from './prepared-records.js';
import { termFrequencies, tfAdjustments } from './term-frequencies.js';

/** A seeded generator for the tests' own data. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function draw(p: readonly number[], r: number): number {
  let acc = 0;
  for (let l = 0; l < p.length; l++) {
    acc += p[l]!;
    if (r < acc) return l;
  }
  return p.length - 1;
}

describe('expectationMaximization', () => {
  it('recovers m and λ of a known mixture, with u held at its true value', () => {
    const m = [
      [0.85, 0.1, 0.05],
      [0.9, 0.1],
      [0.7, 0.2, 0.1],
    ];
    const u = [
      [0.01, 0.09, 0.9],
      [0.2, 0.8],
      [0.05, 0.15, 0.8],
    ];
    const lambda = 0.2;
    const rnd = random(42);
    const pairs = 40_000;
    const levels = new Int8Array(pairs * 3);
    for (let k = 0; k < pairs; k++) {
      const match = rnd() < lambda;
      for (let f = 0; f < 3; f++) {
        // Now and then a field is missing on one side: EM must leave it out, not count it against.
        levels[k * 3 + f] = rnd() < 0.1 ? -1 : draw(match ? m[f]! : u[f]!, rnd());
      }
    }
    const compare: Comparator[] = [0, 1, 2].map((f) => (k: number) => levels[k * 3 + f]!);
    const counter = new PatternCounter(compare);
    for (let k = 0; k < pairs; k++) counter.add(k, k);
    const start = m.map((row) => row.map(() => 1 / row.length));
    const fit = expectationMaximization(counter.patterns(), u, start, 0.5);
    expect(fit.converged).toBe(true);
    expect(fit.lambda).toBeCloseTo(lambda, 2);
    fit.m.forEach((row, f) => row.forEach((x, l) => expect(Math.abs(x - m[f]![l]!)).toBeLessThan(0.02)));
    // Evidence: the expected matches that had each field, about λ × pairs × 0.9.
    for (const e of fit.evidence) expect(e).toBeGreaterThan(pairs * lambda * 0.85);
  });

  it('keeps the starting m and says so when there are no pairs', () => {
    const compare: Comparator[] = [() => 0];
    const fit = expectationMaximization(new PatternCounter(compare).patterns(), [[0.1, 0.9]], [[0.8, 0.2]], 0.1);
    expect(fit.m).toEqual([[0.8, 0.2]]);
    expect(fit.evidence).toEqual([0]);
  });
});

describe('levelWeights', () => {
  it('keeps exact agreement for, "different" against, partial agreement below exact, a rewritten equal value never against', () => {
    const levels = ['exact', 'pinyin', 'nickname', 'jw≥0.92', 'swapped', 'jw≥0.80', 'different'];
    const w = levelWeights([0.001, 0.0001, 0.0001, 0.5, 0.01, 0.2, 0.2], [0.01, 0.001, 0.001, 0.0001, 0.001, 0.01, 0.1], levels);
    expect(w[0]).toBe(0);
    expect(w[1]).toBe(0);
    expect(w[2]).toBe(0);
    expect(w[3]).toBeLessThanOrEqual(w[0]!);
    expect(w[6]).toBeLessThanOrEqual(0);
    expect(levelWeights([0.9, 0.1], [0.01, 0.99], ['exact', 'different'])).toEqual([Math.log2(0.9 / 0.01), Math.log2(0.1 / 0.99)]);
  });
});

describe('term frequencies', () => {
  const records: MatchRecord[] = [];
  for (let i = 0; i < 200; i++) records.push({ id: String(i), family: i < 40 ? 'Smith' : i < 42 ? 'Quennell' : `Family${i}` });
  const prepared = prepareRecords(records);
  const tf = termFrequencies(prepared, prepared.family);
  const adjust = tfAdjustments(prepared.family, tf);
  const of = (name: string) => adjust[prepared.family.values.indexOf(name.toLowerCase())]!;

  it('make agreeing on a common name weigh less than agreeing on a rare one', () => {
    expect(of('Smith')).toBeLessThan(0);
    expect(of('Quennell')).toBeGreaterThan(of('Smith'));
    expect(of('Family100')).toBeGreaterThan(0);
  });

  it('hold hashes, not names, and only values shared by several records', () => {
    expect(JSON.stringify(tf)).not.toContain('smith');
    expect(Object.keys(tf.shares)).toHaveLength(1);
    expect(Object.values(tf.shares)[0]).toBeCloseTo(40 / 200, 10);
  });
});

describe('uWithoutMatches', () => {
  it('takes the true matches out of what random pairs agreed on, within bounds', () => {
    const [[exact, different]] = uWithoutMatches([[1e-3, 0.999]], [[0.9, 0.1]], 1e-3, [[1e-7, 1e-7]]) as [[number, number]];
    expect(exact).toBeCloseTo((1e-3 - 1e-3 * 0.9) / (1 - 1e-3), 8);
    expect(different).toBeCloseTo((0.999 - 1e-4) / (1 - 1e-3), 8);
    const [[floored]] = uWithoutMatches([[1e-4]], [[1]], 1e-3, [[1e-9]]) as [[number]];
    expect(floored).toBe(0.05 * 1e-4);
  });
});
