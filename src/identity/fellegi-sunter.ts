import { compareDates, damerauLevenshtein, jaroWinkler, sameEmailLocalPart } from './compare.js';
import type { NameColumn, PreparedRecords, ValueColumn } from './match-record.js';

/**
 * The Fellegi–Sunter model: every field compared at a few levels of
 * agreement; each level has m (how often true matches reach it) and u (how
 * often two unrelated records do); a pair's weight is the log-2 prior odds
 * plus Σ log2(m/u) over the fields both records have. Missing on either side
 * says nothing (weight 0).
 */

/** Returns the level index for records i and j, or -1 when either lacks the field. */
export type Comparator = (i: number, j: number) => number;

export interface FieldSpec {
  name: string;
  /** strongest first; the last is "different" */
  levels: readonly string[];
  /** initial m per level for EM, also the shape of its Dirichlet prior */
  m0: readonly number[];
  /**
   * prior u per level but the last ("different" takes the rest): what a field
   * absent from the fitting data is scored with, and the shape of the
   * smoothing that keeps a level no random pair reached above zero
   */
  u0: readonly number[];
  /** the column whose exact agreements get a term-frequency adjustment */
  tf?: (p: PreparedRecords) => ValueColumn;
  compare: (p: PreparedRecords) => Comparator;
}

const JW_HIGH = 0.92;
const JW_LOW = 0.8;

function similarity(values: string[], folded: string[], a: number, b: number): number {
  const fa = folded[a]!;
  const fb = folded[b]!;
  // Folding keeps a–z only: names in other scripts fold to nothing and are compared as written.
  return fa === '' || fb === '' ? jaroWinkler(values[a]!, values[b]!) : jaroWinkler(fa, fb);
}

/** Given and family names written in each other's fields (FEBRL's "swap" corruption, or family-first romanizations). */
function swappedNames(given: NameColumn, family: NameColumn, i: number, j: number): boolean {
  const gi = given.ids[i]!;
  const gj = given.ids[j]!;
  const fi = family.ids[i]!;
  const fj = family.ids[j]!;
  if (gi < 0 || gj < 0 || fi < 0 || fj < 0) return false;
  const a = given.folded[gi]!;
  const b = family.folded[fj]!;
  return a !== '' && a === b && family.folded[fi] === given.folded[gj];
}

function nameComparator(p: PreparedRecords, role: 'given' | 'family'): Comparator {
  const column = p[role];
  const { ids, values, folded, canonical } = column;
  const nickname = role === 'given';
  return (i, j) => {
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    const fa = folded[a]!;
    if (fa !== '' && fa === folded[b]) return 1;
    let level = 1;
    if (nickname) {
      level++;
      const ca = canonical[a]!;
      if (ca >= 0 && ca === canonical[b]) return level;
    }
    const jw = similarity(values, folded, a, b);
    if (jw >= JW_HIGH) return level + 1;
    if (swappedNames(p.given, p.family, i, j)) return level + 2;
    return jw >= JW_LOW ? level + 3 : level + 4;
  };
}

function fullNameComparator(p: PreparedRecords): Comparator {
  const { ids, values, folded } = p.fullName;
  const parts = p.hasParts;
  return (i, j) => {
    // Split names are compared part by part; the whole name only speaks when a side could not be split.
    if (parts[i] === 1 && parts[j] === 1) return -1;
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    const fa = folded[a]!;
    if (fa !== '' && fa === folded[b]) return 1;
    const jw = similarity(values, folded, a, b);
    return jw >= JW_HIGH ? 2 : jw >= JW_LOW ? 3 : 4;
  };
}

function exactComparator(column: ValueColumn): Comparator {
  const { ids } = column;
  return (i, j) => {
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    return a === b ? 0 : 1;
  };
}

function editComparator(column: ValueColumn): Comparator {
  const { ids, values } = column;
  return (i, j) => {
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    return damerauLevenshtein(values[a]!, values[b]!, 1) <= 1 ? 1 : 2;
  };
}

function textComparator(column: ValueColumn): Comparator {
  const { ids, values } = column;
  return (i, j) => {
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    const jw = jaroWinkler(values[a]!, values[b]!);
    return jw >= JW_HIGH ? 1 : jw >= JW_LOW ? 2 : 3;
  };
}

const DATE_LEVEL_INDEX = { exact: 0, 'day-month-swapped': 1, 'one-edit': 2, 'one-component': 3, different: 4 } as const;

function birthComparator(p: PreparedRecords): Comparator {
  const { ids, values } = p.birth;
  return (i, j) => {
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    return DATE_LEVEL_INDEX[compareDates(values[a]!, values[b]!)];
  };
}

function emailComparator(p: PreparedRecords): Comparator {
  const { ids, values } = p.email;
  return (i, j) => {
    const a = ids[i]!;
    const b = ids[j]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    const va = values[a]!;
    const vb = values[b]!;
    if (sameEmailLocalPart(va, vb)) return 1;
    return damerauLevenshtein(va, vb, 1) <= 1 ? 2 : 3;
  };
}

const JW_LEVELS = ['exact', 'jw≥0.92', 'jw≥0.80', 'different'] as const;
const EDIT_LEVELS = ['exact', 'one-edit', 'different'] as const;
const EXACT_LEVELS = ['exact', 'different'] as const;

/** The compared fields. Order does not matter for the weight; the scorer reorders them to prune early. */
export const FIELD_SPECS: readonly FieldSpec[] = [
  {
    name: 'given',
    u0: [5e-3, 1e-4, 5e-4, 1e-3, 1e-5, 5e-3],
    levels: ['exact', 'pinyin', 'nickname', 'jw≥0.92', 'swapped', 'jw≥0.80', 'different'],
    m0: [0.75, 0.02, 0.02, 0.08, 0.01, 0.04, 0.08],
    tf: (p) => p.given,
    compare: (p) => nameComparator(p, 'given'),
  },
  {
    name: 'family',
    u0: [3e-3, 1e-4, 1e-3, 1e-5, 3e-3],
    levels: ['exact', 'pinyin', 'jw≥0.92', 'swapped', 'jw≥0.80', 'different'],
    m0: [0.75, 0.02, 0.08, 0.01, 0.04, 0.1],
    tf: (p) => p.family,
    compare: (p) => nameComparator(p, 'family'),
  },
  {
    name: 'fullName',
    u0: [1e-4, 1e-5, 5e-4, 3e-3],
    levels: ['exact', 'pinyin', 'jw≥0.92', 'jw≥0.80', 'different'],
    m0: [0.75, 0.05, 0.08, 0.04, 0.08],
    tf: (p) => p.fullName,
    compare: fullNameComparator,
  },
  {
    name: 'birth',
    u0: [5e-5, 2e-6, 5e-4, 2e-3],
    levels: ['exact', 'day-month-swapped', 'one-edit', 'one-component', 'different'],
    m0: [0.85, 0.01, 0.06, 0.03, 0.05],
    tf: (p) => p.birth,
    compare: birthComparator,
  },
  { name: 'gender', levels: EXACT_LEVELS, m0: [0.95, 0.05], u0: [0.5], compare: (p) => exactComparator(p.gender) },
  {
    name: 'email',
    u0: [1e-7, 1e-6, 1e-7],
    levels: ['exact', 'local-part', 'one-edit', 'different'],
    m0: [0.7, 0.05, 0.05, 0.2],
    tf: (p) => p.email,
    compare: emailComparator,
  },
  { name: 'phone', levels: EDIT_LEVELS, m0: [0.7, 0.05, 0.25], u0: [1e-7, 5e-6], tf: (p) => p.phone, compare: (p) => editComparator(p.phone) },
  { name: 'nationalId', levels: EDIT_LEVELS, m0: [0.85, 0.07, 0.08], u0: [1e-7, 5e-6], tf: (p) => p.nationalId, compare: (p) => editComparator(p.nationalId) },
  { name: 'streetNumber', levels: EDIT_LEVELS, m0: [0.8, 0.08, 0.12], u0: [0.02, 0.2], compare: (p) => editComparator(p.streetNumber) },
  { name: 'street', levels: JW_LEVELS, m0: [0.7, 0.1, 0.05, 0.15], u0: [1e-3, 5e-4, 0.01], tf: (p) => p.street, compare: (p) => textComparator(p.street) },
  { name: 'addressLine2', levels: JW_LEVELS, m0: [0.7, 0.1, 0.05, 0.15], u0: [1e-3, 5e-4, 0.01], compare: (p) => textComparator(p.addressLine2) },
  { name: 'city', levels: JW_LEVELS, m0: [0.75, 0.08, 0.05, 0.12], u0: [0.01, 1e-3, 5e-3], tf: (p) => p.city, compare: (p) => textComparator(p.city) },
  { name: 'district', levels: JW_LEVELS, m0: [0.8, 0.05, 0.03, 0.12], u0: [0.02, 2e-3, 5e-3], compare: (p) => textComparator(p.district) },
  { name: 'postcode', levels: EDIT_LEVELS, m0: [0.8, 0.08, 0.12], u0: [1e-3, 0.01], tf: (p) => p.postcode, compare: (p) => editComparator(p.postcode) },
  { name: 'state', levels: EDIT_LEVELS, m0: [0.85, 0.05, 0.1], u0: [0.1, 0.02], compare: (p) => editComparator(p.state) },
  { name: 'country', levels: EXACT_LEVELS, m0: [0.95, 0.05], u0: [0.8], compare: (p) => exactComparator(p.country) },
];

/** Levels of one field, for counting: index f*LEVEL_SLOTS + level. */
export const LEVEL_SLOTS = 8;

// ---------------------------------------------------------------------------
// u from random pairs

/**
 * Level counts over random pairs of `members`, per field among the pairs
 * where both records have the field. Nearly all random pairs are non-matches,
 * so these counts estimate u.
 */
export function countRandomPairLevels(compare: readonly Comparator[], members: Int32Array, pairs: number, random: () => number, onProgress?: (done: number) => void): Float64Array {
  const counts = new Float64Array(compare.length * LEVEL_SLOTS);
  const n = members.length;
  if (n < 2) return counts;
  for (let k = 0; k < pairs; k++) {
    const x = Math.floor(random() * n);
    let y = Math.floor(random() * (n - 1));
    if (y >= x) y++;
    const i = members[x]!;
    const j = members[y]!;
    for (let f = 0; f < compare.length; f++) {
      const level = compare[f]!(i, j);
      if (level >= 0) counts[f * LEVEL_SLOTS + level]!++;
    }
    if (onProgress !== undefined && (k & 0xffff) === 0xffff) onProgress(k + 1);
  }
  return counts;
}

/** The prior u of every level of a field, "different" included. */
export function priorU(spec: FieldSpec): number[] {
  const rest = 1 - spec.u0.reduce((a, b) => a + b, 0);
  return [...spec.u0, rest];
}

/**
 * u per level from random-pair counts, smoothed towards the field's prior u
 * by one pseudo-pair: a level no random pair reached gets a small u rather
 * than zero, and a field no pair had keeps its prior.
 */
export function uFromCounts(counts: Float64Array, specs: readonly FieldSpec[]): number[][] {
  return specs.map((spec, f) => {
    const prior = priorU(spec);
    let total = 0;
    for (let l = 0; l < prior.length; l++) total += counts[f * LEVEL_SLOTS + l]!;
    return prior.map((u0, l) => (counts[f * LEVEL_SLOTS + l]! + u0) / (total + 1));
  });
}

// ---------------------------------------------------------------------------
// m by EM over candidate pairs

/** Distinct comparison vectors with how many pairs had each: EM works on these, not on the pairs. */
export interface Patterns {
  fields: number;
  /** pattern p, field f: level at p*fields + f, -1 missing */
  levels: Int8Array;
  counts: Float64Array;
}

/** Gathers comparison vectors; a vector is a base-LEVEL_SLOTS number (16 fields × 3 bits fit a double exactly). */
export class PatternCounter {
  private readonly byKey = new Map<number, number>();
  total = 0;
  constructor(private readonly compare: readonly Comparator[]) {}
  add(i: number, j: number): void {
    let key = 0;
    for (let f = 0; f < this.compare.length; f++) key = key * LEVEL_SLOTS + (this.compare[f]!(i, j) + 1);
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
    this.total++;
  }
  patterns(): Patterns {
    const fields = this.compare.length;
    const levels = new Int8Array(this.byKey.size * fields);
    const counts = new Float64Array(this.byKey.size);
    let p = 0;
    for (const [key, count] of this.byKey) {
      let rest = key;
      for (let f = fields - 1; f >= 0; f--) {
        levels[p * fields + f] = (rest % LEVEL_SLOTS) - 1;
        rest = Math.floor(rest / LEVEL_SLOTS);
      }
      counts[p] = count;
      p++;
    }
    return { fields, levels, counts };
  }
}

export interface EmResult {
  m: number[][];
  /** share of the pairs EM saw that are matches */
  lambda: number;
  iterations: number;
  converged: boolean;
}

export interface EmOptions {
  maxIterations?: number;
  tolerance?: number;
  /** pseudo-pairs of the Dirichlet prior on m, shaped like the initial m */
  priorStrength?: number;
  onIteration?: (iteration: number) => void;
}

const M_FLOOR = 1e-6;

/**
 * Expectation–maximization for m and the match share λ with u held fixed, as
 * Splink does: fixing u (from random pairs) anchors the non-match class, so
 * EM cannot drift into splitting the data along some other line (household,
 * region) instead of match / non-match.
 */
export function expectationMaximization(patterns: Patterns, u: readonly (readonly number[])[], m0: readonly (readonly number[])[], lambda0: number, options: EmOptions = {}): EmResult {
  const { fields, levels, counts } = patterns;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-6;
  const strength = options.priorStrength ?? 1;
  const P = counts.length;
  const logU = u.map((row) => row.map((x) => Math.log(Math.max(x, M_FLOOR))));
  let m = m0.map((row) => [...row]);
  let lambda = lambda0;
  let total = 0;
  for (let p = 0; p < P; p++) total += counts[p]!;
  const sums = m0.map((row) => new Float64Array(row.length));
  const present = new Float64Array(fields);
  let iterations = 0;
  let converged = false;
  if (total === 0) return { m, lambda, iterations, converged: true };
  while (iterations < maxIterations) {
    iterations++;
    const logM = m.map((row) => row.map((x) => Math.log(Math.max(x, M_FLOOR))));
    const logPrior = Math.log(lambda) - Math.log(1 - lambda);
    for (const s of sums) s.fill(0);
    present.fill(0);
    let matched = 0;
    for (let p = 0; p < P; p++) {
      let w = logPrior;
      const base = p * fields;
      for (let f = 0; f < fields; f++) {
        const l = levels[base + f]!;
        if (l >= 0) w += logM[f]![l]! - logU[f]![l]!;
      }
      const weight = counts[p]! / (1 + Math.exp(-w));
      matched += weight;
      for (let f = 0; f < fields; f++) {
        const l = levels[base + f]!;
        if (l < 0) continue;
        sums[f]![l]! += weight;
        present[f]! += weight;
      }
    }
    let change = 0;
    const next = m.map((row, f) =>
      row.map((old, l) => {
        const value = Math.max(M_FLOOR, (sums[f]![l]! + strength * m0[f]![l]!) / (present[f]! + strength));
        change = Math.max(change, Math.abs(value - old));
        return value;
      }),
    );
    const nextLambda = Math.min(1 - 1e-9, Math.max(1e-9, matched / total));
    change = Math.max(change, Math.abs(nextLambda - lambda));
    m = next;
    lambda = nextLambda;
    options.onIteration?.(iterations);
    if (change < tolerance) {
      converged = true;
      break;
    }
  }
  return { m, lambda, iterations, converged };
}

// ---------------------------------------------------------------------------
// Term frequencies

/** Shares of the most common values of a field (keys hashed: the model holds no plain personal data) and one share for the rest. */
export interface TermFrequencies {
  shares: Record<string, number>;
  other: number;
}

/** How many values a term-frequency table keeps per field; bounded so a model stays small whatever the data. */
export const TF_TABLE_SIZE = 1000;
/** A value shared by fewer records is not common: it falls under `other`. */
const TF_MIN_COUNT = 3;

/** A stable 32-bit FNV-1a hash of a value, as the term-frequency tables key it. */
export function valueHash(value: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** The term-frequency table of a column: the `TF_TABLE_SIZE` most common values (of records that have one). */
export function termFrequencies(column: ValueColumn): TermFrequencies {
  const counts = new Int32Array(column.values.length);
  let present = 0;
  for (const id of column.ids) {
    if (id < 0) continue;
    counts[id]!++;
    present++;
  }
  if (present === 0) return { shares: {}, other: 1 };
  const common: number[] = [];
  for (let id = 0; id < counts.length; id++) if (counts[id]! >= TF_MIN_COUNT) common.push(id);
  common.sort((a, b) => counts[b]! - counts[a]! || a - b);
  common.length = Math.min(common.length, TF_TABLE_SIZE);
  const shares: Record<string, number> = {};
  let covered = 0;
  for (const id of common) {
    shares[valueHash(column.values[id]!)] = counts[id]! / present;
    covered += counts[id]!;
  }
  const rest = column.values.length - common.length;
  const other = rest > 0 ? (present - covered) / rest / present : 1 / present;
  return { shares, other };
}

/** Term-frequency adjustments are bounded: a rare value may be rare by a typo, and the table is estimated. */
export const TF_MAX_BOOST = 4;
export const TF_MAX_PENALTY = 10;

/**
 * Per value of the column, what agreeing exactly on it adds to the field's
 * exact weight: log2(u_exact / share). A value every fifth record has weighs
 * less than the average agreement, a rare one more.
 */
export function tfAdjustments(column: ValueColumn, tf: TermFrequencies, uExact: number): Float64Array {
  const adjust = new Float64Array(column.values.length);
  for (let id = 0; id < column.values.length; id++) {
    const share = tf.shares[valueHash(column.values[id]!)] ?? tf.other;
    const a = Math.log2(uExact / share);
    adjust[id] = Math.max(-TF_MAX_PENALTY, Math.min(TF_MAX_BOOST, a));
  }
  return adjust;
}

// ---------------------------------------------------------------------------
// Weights

/** No single field outweighs this, whatever m and u say: a near-zero u from a sample is not certainty. */
export const MAX_FIELD_WEIGHT = 24;

/** Levels that say the values are one value written another way: sparse evidence in data that never does so must not make them count against. */
const EQUIVALENT_LEVELS: ReadonlySet<string> = new Set(['pinyin', 'nickname', 'day-month-swapped', 'swapped']);

/**
 * Level weights log2(m/u) with the sanity rules EM does not know: exact
 * agreement never counts against a match, a partial agreement never counts
 * more than exact, a rewritten equal value never against, and "different"
 * never for one.
 */
export function levelWeights(m: readonly number[], u: readonly number[], levels: readonly string[]): number[] {
  const w = m.map((mi, l) => Math.max(-MAX_FIELD_WEIGHT, Math.min(MAX_FIELD_WEIGHT, Math.log2(Math.max(mi, M_FLOOR) / Math.max(u[l] ?? 1, M_FLOOR * M_FLOOR)))));
  w[0] = Math.max(0, w[0]!);
  for (let l = 1; l < w.length; l++) {
    if (EQUIVALENT_LEVELS.has(levels[l] ?? '')) w[l] = Math.max(0, w[l]!);
    w[l] = Math.min(w[l]!, w[0]!);
  }
  const last = w.length - 1;
  w[last] = Math.min(0, w[last]!);
  return w;
}

/** A field's term-frequency adjustment per record: the column's value ids and the adjustment per value. */
export interface TfLookup {
  ids: Int32Array;
  adjust: Float64Array;
}

/**
 * Scores pairs with fields ordered by how much they can add, so that a pair
 * far below the threshold is dropped after a few comparisons: once even the
 * best levels of the remaining fields could not lift it to the floor, the
 * rest are not compared.
 */
export class PairScorer {
  private readonly order: number[];
  /** bestRest[k]: the most the fields order[k..] can still add */
  private readonly bestRest: Float64Array;
  private readonly flat: Float64Array;

  constructor(
    private readonly compare: readonly Comparator[],
    private readonly weights: readonly (readonly number[])[],
    private readonly tf: readonly (TfLookup | undefined)[],
    readonly priorWeight: number,
  ) {
    const best = weights.map((w, f) => {
      let top = Math.max(0, ...w);
      const t = tf[f];
      if (t !== undefined) {
        let maxAdjust = 0;
        for (const a of t.adjust) if (a > maxAdjust) maxAdjust = a;
        top = Math.max(top, w[0]! + maxAdjust);
      }
      return top;
    });
    this.order = weights.map((_, f) => f).sort((a, b) => best[b]! - best[a]! || a - b);
    this.bestRest = new Float64Array(this.order.length + 1);
    for (let k = this.order.length - 1; k >= 0; k--) this.bestRest[k] = this.bestRest[k + 1]! + best[this.order[k]!]!;
    this.flat = new Float64Array(weights.length * LEVEL_SLOTS);
    weights.forEach((w, f) => w.forEach((x, l) => (this.flat[f * LEVEL_SLOTS + l] = x)));
  }

  /** The match weight of records i and j, or -Infinity as soon as it cannot reach `floor`. */
  score(i: number, j: number, floor = Number.NEGATIVE_INFINITY): number {
    let w = this.priorWeight;
    const { order, compare, flat, tf, bestRest } = this;
    for (let k = 0; k < order.length; k++) {
      if (w + bestRest[k]! < floor) return Number.NEGATIVE_INFINITY;
      const f = order[k]!;
      const level = compare[f]!(i, j);
      if (level < 0) continue;
      w += flat[f * LEVEL_SLOTS + level]!;
      if (level === 0) {
        const t = tf[f];
        if (t !== undefined) w += t.adjust[t.ids[i]!]!;
      }
    }
    return w;
  }

  /** Each field's level (-1 missing), weight and term-frequency adjustment for one pair, in field order. */
  explain(i: number, j: number): { level: number; weight: number; tfAdjustment: number }[] {
    return this.compare.map((c, f) => {
      const level = c(i, j);
      if (level < 0) return { level, weight: 0, tfAdjustment: 0 };
      const t = tf(this.tf[f], level, i);
      return { level, weight: this.weights[f]![level]! + t, tfAdjustment: t };
    });
  }
}

function tf(lookup: TfLookup | undefined, level: number, i: number): number {
  return lookup === undefined || level !== 0 ? 0 : lookup.adjust[lookup.ids[i]!]!;
}

/** Probability from a match weight: 2^w / (1 + 2^w), computed without overflow. */
export function probabilityOf(weight: number): number {
  return 1 / (1 + Math.pow(2, -weight));
}

/** The weight a probability threshold stands for. */
export function weightOf(probability: number): number {
  if (probability <= 0) return Number.NEGATIVE_INFINITY;
  if (probability >= 1) return Number.POSITIVE_INFINITY;
  return Math.log2(probability / (1 - probability));
}
