import { forEachCandidatePair } from './blocking.js';
import {
  FIELD_SPECS,
  PairScorer,
  PatternCounter,
  countRandomPairLevels,
  expectationMaximization,
  levelWeights,
  probabilityOf,
  termFrequencies,
  tfAdjustments,
  uFromCounts,
  weightOf,
  type Comparator,
  type TermFrequencies,
  type TfLookup,
} from './fellegi-sunter.js';
import { prepareRecords, type MatchRecord, type PreparedRecords } from './match-record.js';

export type { MatchRecord } from './match-record.js';

/**
 * The probabilistic matcher's public face: fit a Fellegi–Sunter model to a
 * workspace's profiles without labels, find the pairs it scores above a
 * threshold, and explain one pair field by field.
 */

export interface MatchLevel {
  name: string;
  /** P(this level | the records are one person) */
  m: number;
  /** P(this level | they are not) */
  u: number;
}

export interface MatchField {
  name: string;
  /** strongest agreement first; the last is "different" */
  levels: MatchLevel[];
  /** term frequencies of the field's values, for exact agreements */
  tf?: TermFrequencies;
}

/** A fitted model: plain JSON, stored per workspace and read back by later runs. */
export interface MatchModel {
  version: 1;
  /** λ: the share of candidate pairs (records sharing a blocking key) that are one person */
  prior: number;
  fields: MatchField[];
  counts: {
    records: number;
    /** records the model was fitted on (a sample of large workspaces) */
    sampled: number;
    randomPairs: number;
    candidatePairs: number;
    patterns: number;
    emIterations: number;
    emConverged: boolean;
  };
}

export interface MatchProgress {
  stage: 'prepare' | 'u' | 'em' | 'compare';
  done: number;
  total: number;
}

export interface FitOptions {
  seed?: number;
  maxRandomPairs?: number;
  onProgress?: (p: MatchProgress) => void;
}

/** indexes into records, a < b */
export interface ScoredPair {
  a: number;
  b: number;
  weight: number;
  probability: number;
}

export interface FindOptions {
  /** minimum probability to report */
  threshold: number;
  /** incremental: only pairs where at least one side is new */
  isNew?: (index: number) => boolean;
  onProgress?: (p: MatchProgress) => void;
}

export interface FieldExplanation {
  field: string;
  level: string;
  weight: number;
  tfAdjustment?: number;
}

export interface PairExplanation {
  weight: number;
  probability: number;
  priorWeight: number;
  fields: FieldExplanation[];
}

/**
 * Default probability thresholds, chosen on the FEBRL benchmarks
 * (test/identity-febrl.test.ts, model fitted unsupervised on each data set):
 * `auto` merges without a person looking; `review` queues a pair for one.
 */
export const DEFAULT_THRESHOLDS: { auto: number; review: number } = { auto: 0.99, review: 0.5 };

/** Records the model is fitted on at most: m, u and λ settle long before, and fitting stays a few seconds at any size. */
export const FIT_SAMPLE_SIZE = 200_000;
const DEFAULT_RANDOM_PAIRS = 1_000_000;
const INITIAL_LAMBDA = 0.05;

/** A small seeded generator (a Weyl sequence through a 32-bit mixer): fitting is deterministic. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / 4294967296;
  };
}

/** `size` of `n` record indexes, ascending, chosen by partial Fisher–Yates shuffle. */
function sampleIndexes(n: number, size: number, random: () => number): Int32Array {
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  if (size >= n) return all;
  for (let k = 0; k < size; k++) {
    const r = k + Math.floor(random() * (n - k));
    const t = all[k]!;
    all[k] = all[r]!;
    all[r] = t;
  }
  return all.slice(0, size).sort();
}

function throttled(onProgress: ((p: MatchProgress) => void) | undefined, stage: MatchProgress['stage'], total: number) {
  return (done: number) => onProgress?.({ stage, done, total });
}

/**
 * Fit the model to the records themselves, without labels: u from random
 * pairs, m and λ by EM over the blocked candidate pairs with u fixed, term
 * frequencies from every record. Large inputs are fitted on a seeded sample
 * of `FIT_SAMPLE_SIZE` records.
 */
export function fitModel(records: readonly MatchRecord[], options: FitOptions = {}): MatchModel {
  const n = records.length;
  const random = seededRandom(options.seed ?? 1);
  const prepared = prepareRecords(records, throttled(options.onProgress, 'prepare', n));
  const compare = FIELD_SPECS.map((spec) => spec.compare(prepared));
  const members = sampleIndexes(n, FIT_SAMPLE_SIZE, random);

  const possible = (members.length * (members.length - 1)) / 2;
  const randomPairs = Math.min(options.maxRandomPairs ?? DEFAULT_RANDOM_PAIRS, possible);
  const uCounts = countRandomPairLevels(compare, members, randomPairs, random, throttled(options.onProgress, 'u', randomPairs));
  options.onProgress?.({ stage: 'u', done: randomPairs, total: randomPairs });
  const u = uFromCounts(uCounts, FIELD_SPECS);

  const counter = new PatternCounter(compare);
  forEachCandidatePair(prepared, { members, onProgress: (done, total) => options.onProgress?.({ stage: 'em', done, total }) }, (i, j) => counter.add(i, j));
  const patterns = counter.patterns();
  const em = expectationMaximization(
    patterns,
    u,
    FIELD_SPECS.map((spec) => spec.m0),
    INITIAL_LAMBDA,
  );

  const fields: MatchField[] = FIELD_SPECS.map((spec, f) => {
    const field: MatchField = { name: spec.name, levels: spec.levels.map((name, l) => ({ name, m: em.m[f]![l]!, u: u[f]![l]! })) };
    if (spec.tf !== undefined) field.tf = termFrequencies(spec.tf(prepared));
    return field;
  });
  return {
    version: 1,
    prior: em.lambda,
    fields,
    counts: {
      records: n,
      sampled: members.length,
      randomPairs,
      candidatePairs: counter.total,
      patterns: patterns.counts.length,
      emIterations: em.iterations,
      emConverged: em.converged,
    },
  };
}

interface ModelScorer {
  scorer: PairScorer;
  names: string[];
  levels: string[][];
}

/**
 * The scorer of a model over prepared records. Fields are matched by name
 * and level names, so a model stored by another version still scores: a
 * field it does not know (or knows with other levels) is left out.
 */
function scorerOf(model: MatchModel, prepared: PreparedRecords): ModelScorer {
  const compare: Comparator[] = [];
  const weights: number[][] = [];
  const tf: (TfLookup | undefined)[] = [];
  const names: string[] = [];
  const levels: string[][] = [];
  for (const spec of FIELD_SPECS) {
    const field = model.fields.find((f) => f.name === spec.name);
    if (field === undefined || field.levels.length !== spec.levels.length || field.levels.some((l, k) => l.name !== spec.levels[k])) continue;
    compare.push(spec.compare(prepared));
    weights.push(levelWeights(field.levels.map((l) => l.m), field.levels.map((l) => l.u), spec.levels));
    if (spec.tf !== undefined && field.tf !== undefined) {
      const column = spec.tf(prepared);
      tf.push({ ids: column.ids, adjust: tfAdjustments(column, field.tf, field.levels[0]!.u) });
    } else tf.push(undefined);
    names.push(spec.name);
    levels.push([...spec.levels]);
  }
  const prior = Math.min(1 - 1e-12, Math.max(1e-12, model.prior));
  return { scorer: new PairScorer(compare, weights, tf, Math.log2(prior / (1 - prior))), names, levels };
}

/**
 * Every candidate pair scoring at least `threshold`, with how many pairs
 * were compared. Pairs far below the threshold are abandoned after a few
 * fields, so a low threshold costs more time.
 */
export function findMatches(model: MatchModel, records: readonly MatchRecord[], options: FindOptions): { pairs: ScoredPair[]; compared: number } {
  const n = records.length;
  const prepared = prepareRecords(records, throttled(options.onProgress, 'prepare', n));
  const { scorer } = scorerOf(model, prepared);
  const floor = weightOf(options.threshold);
  let isNew: Uint8Array | undefined;
  if (options.isNew !== undefined) {
    isNew = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (options.isNew(i)) isNew[i] = 1;
  }
  const pairs: ScoredPair[] = [];
  let compared = 0;
  const blocking = { ...(isNew === undefined ? {} : { isNew }), onProgress: (done: number, total: number) => options.onProgress?.({ stage: 'compare', done, total }) };
  forEachCandidatePair(prepared, blocking, (a, b) => {
    compared++;
    const weight = scorer.score(a, b, floor);
    if (weight >= floor) pairs.push({ a, b, weight, probability: probabilityOf(weight) });
  });
  return { pairs, compared };
}

/** Why the model scores two records as it does: the prior and each field both records have, with its level and weight. */
export function explainPair(model: MatchModel, a: MatchRecord, b: MatchRecord): PairExplanation {
  const prepared = prepareRecords([a, b]);
  const { scorer, names, levels } = scorerOf(model, prepared);
  const fields: FieldExplanation[] = [];
  let weight = scorer.priorWeight;
  scorer.explain(0, 1).forEach((e, f) => {
    if (e.level < 0) return;
    weight += e.weight;
    const field: FieldExplanation = { field: names[f]!, level: levels[f]![e.level]!, weight: e.weight };
    if (e.tfAdjustment !== 0) field.tfAdjustment = e.tfAdjustment;
    fields.push(field);
  });
  return { weight, probability: probabilityOf(weight), priorWeight: scorer.priorWeight, fields };
}
