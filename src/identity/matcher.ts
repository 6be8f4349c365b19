import { blockingIndex, forEachCandidatePair, forEachPairSharingKey, type BlockingKey } from './blocking.js';
import {
  PairScorer,
  PatternCounter,
  allPairsPrior,
  countRandomPairLevels,
  expectationMaximization,
  levelWeights,
  probabilityOf,
  uFromCounts,
  uWithoutMatches,
  weightOf,
  type EmResult,
  type TfLookup,
} from './fellegi-sunter.js';
import { FIELD_SPECS, type Comparator } from './match-fields.js';
import type { MatchRecord } from './match-record.js';
import { PREPARED_FIELDS, prepareRecords, type PreparedRecords } from './prepared-records.js';
import { termFrequencies, tfAdjustments, type TermFrequencies } from './term-frequencies.js';

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
  /** λ: the probability that two records drawn at random are one person */
  prior: number;
  fields: MatchField[];
  counts: {
    records: number;
    /** records the model was fitted on (a sample of large workspaces) */
    sampled: number;
    randomPairs: number;
    /** candidate pairs among the sampled records (all blocking keys) */
    candidatePairs: number;
    /** per training session (one blocking key): pairs, EM's match share and iterations */
    training: { key: string; pairs: number; lambda: number; iterations: number; converged: boolean }[];
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


/** Records the model is fitted on at most: m, u and λ settle long before, and fitting stays a few seconds at any size. */
export const FIT_SAMPLE_SIZE = 200_000;
const DEFAULT_RANDOM_PAIRS = 1_000_000;
/** Pairs per training session, and candidate pairs scored for the prior: enough for m and λ, bounded in time. */
const MAX_TRAINING_PAIRS = 400_000;
const MAX_PRIOR_PAIRS = 1_000_000;
const INITIAL_LAMBDA = 0.1;
const FIT_ROUNDS = 3;

/**
 * EM sessions, each over the pairs sharing one blocking key, leaving out the
 * fields that key is made of (and fields that follow from them: a name
 * tells the gender and often the e-mail): among pairs that all agree on a
 * field, its agreement says nothing, and non-matches there agree on it far
 * more than u (from random pairs) expects, which EM would read as matches.
 * Each field's m comes from the sessions that keep it, weighted by the
 * matches each saw (Splink trains the same way).
 */
const TRAINING: readonly { key: BlockingKey; exclude: readonly string[] }[] = [
  { key: 'birth+region', exclude: ['birth', 'state', 'city', 'district', 'postcode', 'country'] },
  { key: 'nameSounds', exclude: ['given', 'family', 'fullName', 'gender', 'email'] },
  { key: 'fullName', exclude: ['given', 'family', 'fullName', 'gender', 'email'] },
  { key: 'streetNumber+streetPrefix', exclude: ['streetNumber', 'street', 'addressLine2', 'city', 'district', 'postcode', 'state', 'country'] },
  { key: 'nationalId', exclude: ['nationalId', 'birth', 'gender'] },
  { key: 'email', exclude: ['email', 'given', 'family', 'fullName', 'gender'] },
  { key: 'phoneTail', exclude: ['phone'] },
];

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

const MISSING: Comparator = () => -1;

/**
 * No level is impossible for a true match: data this clean in the sample
 * (no typo ever seen in a phone) must not turn the first typo into proof of
 * two people. m below the floor is raised to it, and the levels renormalized.
 */
const M_MIN = 1e-3;
function withFloor(m: number[]): number[] {
  const raised = m.map((x) => Math.max(M_MIN, x));
  const total = raised.reduce((a, b) => a + b, 0);
  return raised.map((x) => x / total);
}

/**
 * Fit the model to the records themselves, without labels: u from random
 * pairs; m by EM with u fixed, in sessions over pairs sharing one blocking
 * key; the prior from the candidate pairs; term frequencies of the common
 * values. Large inputs are fitted on a seeded sample of `FIT_SAMPLE_SIZE`
 * records: common values stay common in a sample, and the prior does not
 * change with uniform sampling.
 */
export function fitModel(records: readonly MatchRecord[], options: FitOptions = {}): MatchModel {
  const n = records.length;
  const report = options.onProgress;
  const random = seededRandom(options.seed ?? 1);
  const chosen = sampleIndexes(n, FIT_SAMPLE_SIZE, random);
  const sample = chosen.length === n ? records : Array.from(chosen, (i) => records[i]!);
  const size = sample.length;
  const prepared = prepareRecords(sample, throttled(report, 'prepare', size));
  const compare = FIELD_SPECS.map((spec) => spec.compare(prepared));
  const possible = (size * (size - 1)) / 2;

  const randomPairs = Math.min(options.maxRandomPairs ?? DEFAULT_RANDOM_PAIRS, possible);
  const uCounts = countRandomPairLevels(compare, size, randomPairs, random, throttled(report, 'u', randomPairs));
  report?.({ stage: 'u', done: randomPairs, total: randomPairs });
  const fromRandom = uFromCounts(uCounts, FIELD_SPECS);

  const index = blockingIndex(prepared);
  const m0 = FIELD_SPECS.map((spec) => spec.m0);
  const steps = TRAINING.length + 1;
  const sessions = TRAINING.map(({ key, exclude }, s) => {
    const counter = new PatternCounter(compare.map((c, f) => (exclude.includes(FIELD_SPECS[f]!.name) ? MISSING : c)));
    forEachPairSharingKey(prepared, key, { index, maxPairs: MAX_TRAINING_PAIRS }, (i, j) => counter.add(i, j));
    report?.({ stage: 'em', done: s + 1, total: steps });
    return { key, pairs: counter.total, patterns: counter.patterns() };
  });

  let candidatePairs = 0;
  forEachCandidatePair(prepared, { index }, () => candidatePairs++);
  const stride = Math.max(1, Math.ceil(candidatePairs / MAX_PRIOR_PAIRS));
  const counter = new PatternCounter(compare);
  let k = 0;
  forEachCandidatePair(prepared, { index }, (i, j) => {
    if (k++ % stride === 0) counter.add(i, j);
  });
  const candidates = counter.patterns();
  const household = FIELD_SPECS.map((spec) => spec.household === true);

  // m and λ with u from random pairs, then u without the matches those pairs held, and m and λ again.
  let u = fromRandom.u;
  let m: number[][] = [];
  let prior = 0;
  let training: { key: string; pairs: number; em: EmResult }[] = [];
  for (let round = 0; round < FIT_ROUNDS; round++) {
    if (round > 0) u = uWithoutMatches(fromRandom.u, m, prior, fromRandom.floors);
    const current = u;
    training = sessions.map(({ key, pairs, patterns }) => ({ key, pairs, em: expectationMaximization(patterns, current, m0, INITIAL_LAMBDA) }));
    m = FIELD_SPECS.map((spec, f) => {
      let evidence = 0;
      const sum = spec.m0.map(() => 0);
      for (const { em } of training) {
        const e = em.evidence[f]!;
        evidence += e;
        em.m[f]!.forEach((x, l) => (sum[l]! += e * x));
      }
      // Too few matches to say: the prior shape stands.
      return withFloor(evidence < 1 ? [...spec.m0] : sum.map((x) => x / evidence));
    });
    const weights = FIELD_SPECS.map((spec, f) => levelWeights(m[f]!, current[f]!, spec.levels));
    prior = allPairsPrior(candidates, weights, household, possible, candidatePairs / Math.max(1, counter.total));
  }
  report?.({ stage: 'em', done: steps, total: steps });

  const fields: MatchField[] = FIELD_SPECS.map((spec, f) => {
    const field: MatchField = { name: spec.name, levels: spec.levels.map((name, l) => ({ name, m: m[f]![l]!, u: u[f]![l]! })) };
    if (spec.tf !== undefined) field.tf = termFrequencies(prepared, spec.tf(prepared));
    return field;
  });
  return {
    version: 1,
    prior,
    fields,
    counts: {
      records: n,
      sampled: size,
      randomPairs,
      candidatePairs,
      training: training.map(({ key, pairs, em }) => ({ key, pairs, lambda: em.lambda, iterations: em.iterations, converged: em.converged })),
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
  const slots: number[] = [];
  const household: boolean[] = [];
  for (const spec of FIELD_SPECS) {
    const field = model.fields.find((f) => f.name === spec.name);
    if (field === undefined || field.levels.length !== spec.levels.length || field.levels.some((l, k) => l.name !== spec.levels[k])) continue;
    compare.push(spec.compare(prepared));
    weights.push(levelWeights(field.levels.map((l) => l.m), field.levels.map((l) => l.u), spec.levels));
    // A table without `typical` comes from an earlier model shape: scored without term frequencies rather than wrongly.
    if (spec.tf !== undefined && field.tf !== undefined && Number.isFinite(field.tf.typical)) {
      const column = spec.tf(prepared);
      tf.push({ codes: prepared.codes, width: prepared.width, slot: column.slot, adjust: tfAdjustments(column, field.tf) });
    } else tf.push(undefined);
    names.push(spec.name);
    levels.push([...spec.levels]);
    slots.push((PREPARED_FIELDS as readonly string[]).indexOf(spec.name));
    household.push(spec.household === true);
  }
  const prior = Math.min(1 - 1e-12, Math.max(1e-12, model.prior));
  return { scorer: new PairScorer(compare, weights, tf, Math.log2(prior / (1 - prior)), prepared.presence, slots, household), names, levels };
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
  const explained = scorer.explain(0, 1);
  explained.fields.forEach((e, f) => {
    if (e.level < 0) return;
    weight += e.weight;
    const field: FieldExplanation = { field: names[f]!, level: levels[f]![e.level]!, weight: e.weight };
    if (e.tfAdjustment !== 0) field.tfAdjustment = e.tfAdjustment;
    fields.push(field);
  });
  if (explained.capped > 0) {
    // Shown as its own line, so a reviewer sees that a shared home was not allowed to decide.
    fields.push({ field: 'household', level: 'capped', weight: -explained.capped });
    weight -= explained.capped;
  }
  return { weight, probability: probabilityOf(weight), priorWeight: scorer.priorWeight, fields };
}
