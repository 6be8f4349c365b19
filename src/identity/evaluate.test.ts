import { describe, expect, it } from 'vitest';
import { clusterIds } from './cluster.js';
import { pairwiseScores } from './evaluate.js';

describe('clusterIds', () => {
  it('joins records linked directly or through others, numbering clusters by first record', () => {
    expect([...clusterIds(6, [{ a: 4, b: 5 }, { a: 0, b: 2 }, { a: 2, b: 4 }])]).toEqual([0, 1, 0, 2, 0, 0]);
    expect([...clusterIds(3, [])]).toEqual([0, 1, 2]);
  });
});

describe('pairwiseScores', () => {
  it('counts pairs within clusters against pairs within entities', () => {
    // Predicted {0,1,2} {3} {4,5}; truth {0,1} {2,3} {4,5}: 3 + 1 predicted pairs, 3 true, 2 right.
    const s = pairwiseScores([7, 7, 7, 8, 9, 9], [0, 0, 1, 1, 2, 2]);
    expect(s).toMatchObject({ predictedPairs: 4, truePairs: 3, truePositives: 2 });
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBeCloseTo(2 / 3, 12);
    expect(s.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 12);
  });

  it('is perfect for the truth itself, and defined when nothing is predicted', () => {
    expect(pairwiseScores([1, 1, 2], [5, 5, 6]).f1).toBe(1);
    expect(pairwiseScores([0, 1, 2], [0, 0, 1])).toMatchObject({ precision: 1, recall: 0, f1: 0 });
  });

  it('handles a million records by counting, not pairing', () => {
    const n = 1_000_000;
    const predicted = Int32Array.from({ length: n }, (_, i) => i >> 1);
    const truth = Int32Array.from({ length: n }, (_, i) => i >> 2);
    const s = pairwiseScores(predicted, truth);
    expect(s.predictedPairs).toBe(n / 2);
    expect(s.truePairs).toBe((n / 4) * 6);
    expect(s.precision).toBe(1);
  });
});
