import { priorU, type Comparator, type FieldSpec } from './match-fields.js';

/**
 * The Fellegi–Sunter model: every field compared at a few levels of
 * agreement; each level has m (how often true matches reach it) and u (how
 * often two unrelated records do); a pair's weight is the log-2 prior odds
 * plus Σ log2(m/u) over the fields both records have. Missing on either side
 * says nothing (weight 0).
 */

/** Levels of one field, for counting: index f*LEVEL_SLOTS + level. */
export const LEVEL_SLOTS = 8;

// ---------------------------------------------------------------------------
// u from random pairs

/**
 * Level counts over `pairs` random pairs of `n` records (with replacement),
 * per field among the pairs where both records have the field. Nearly all
 * random pairs are non-matches, so these counts estimate u.
 */
export function countRandomPairLevels(compare: readonly Comparator[], n: number, pairs: number, random: () => number, onProgress?: (done: number) => void): Float64Array {
  const counts = new Float64Array(compare.length * LEVEL_SLOTS);
  if (n < 2) return counts;
  for (let k = 0; k < pairs; k++) {
    const i = Math.floor(random() * n);
    let j = Math.floor(random() * (n - 1));
    if (j >= i) j++;
    for (let f = 0; f < compare.length; f++) {
      const level = compare[f]!(i, j);
      if (level >= 0) counts[f * LEVEL_SLOTS + level]!++;
    }
    if (onProgress !== undefined && (k & 0xffff) === 0xffff) onProgress(k + 1);
  }
  return counts;
}

/**
 * u per level from random-pair counts, smoothed towards the field's prior u
 * by one pseudo-pair: a level no random pair reached gets a small u rather
 * than zero, and a field no pair had keeps its prior.
 */
export function uFromCounts(counts: Float64Array, specs: readonly FieldSpec[]): { u: number[][]; floors: number[][] } {
  const u: number[][] = [];
  const floors: number[][] = [];
  specs.forEach((spec, f) => {
    const prior = priorU(spec);
    let total = 0;
    for (let l = 0; l < prior.length; l++) total += counts[f * LEVEL_SLOTS + l]!;
    // Unseen in `total` pairs says u is below about 1/total, not that it is below the prior.
    const unseen = 0.5 / (total + 1);
    floors.push(prior.map((u0) => Math.min(u0, unseen)));
    u.push(prior.map((u0, l) => Math.max((counts[f * LEVEL_SLOTS + l]! + u0) / (total + 1), Math.min(u0, unseen))));
  });
  return { u, floors };
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
  /** per field: the expected number of matching pairs that had it on both sides, what its m rests on */
  evidence: number[];
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
/** u of an exact identifier is ~1e-7 and must stay itself; only zero is ruled out. */
const U_FLOOR = 1e-15;

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
  const logU = u.map((row) => row.map((x) => Math.log(Math.max(x, U_FLOOR))));
  let m = m0.map((row) => [...row]);
  let lambda = lambda0;
  let total = 0;
  for (let p = 0; p < P; p++) total += counts[p]!;
  const sums = m0.map((row) => new Float64Array(row.length));
  const present = new Float64Array(fields);
  let iterations = 0;
  let converged = false;
  if (total === 0) return { m, lambda, evidence: m0.map(() => 0), iterations, converged: true };
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
  return { m, lambda, evidence: [...present], iterations, converged };
}

/**
 * The prior: the probability that two records drawn at random are one
 * person. Fixed point of λ = Σ P(match | γ, λ) / all pairs, the sum over
 * the candidate pairs (patterns, each standing for `scale` pairs), the pairs
 * blocking never brings together counting as non-matches. It is the prior
 * that goes with u from random pairs, and it does not change when a data set
 * is sampled uniformly (both the matches and the pairs scale alike).
 */
export function allPairsPrior(patterns: Patterns, weights: readonly (readonly number[])[], household: readonly boolean[], totalPairs: number, scale: number): number {
  const { fields, levels, counts } = patterns;
  const P = counts.length;
  if (P === 0 || totalPairs <= 0) return 1 / Math.max(2, totalPairs);
  const personal = new Float64Array(P);
  const shared = new Float64Array(P);
  let candidates = 0;
  for (let p = 0; p < P; p++) {
    for (let f = 0; f < fields; f++) {
      const l = levels[p * fields + f]!;
      if (l < 0) continue;
      if (household[f]) shared[p]! += weights[f]![l]!;
      else personal[p]! += weights[f]![l]!;
    }
    candidates += counts[p]! * scale;
  }
  // From above: the largest fixed point is the one where the strong pairs are matches.
  let lambda = Math.min(0.5, candidates / totalPairs);
  for (let iteration = 0; iteration < 500; iteration++) {
    const logit = Math.log2(lambda / (1 - lambda));
    const cap = householdCap(logit);
    let expected = 0;
    for (let p = 0; p < P; p++) expected += counts[p]! / (1 + Math.pow(2, -(logit + personal[p]! + Math.min(shared[p]!, cap))));
    const next = Math.min(0.5, Math.max(1e-15, (expected * scale) / totalPairs));
    const done = Math.abs(next - lambda) <= 1e-7 * lambda;
    lambda = next;
    if (done) break;
  }
  return lambda;
}

/**
 * The most the household fields together may add: what brings a pair from
 * the prior to even odds. Sharing a home says two records may be one person
 * or two people who live together; only personal fields can tell which.
 */
export function householdCap(priorWeight: number): number {
  return Math.max(0, -priorWeight);
}

/**
 * u without the true matches among the random pairs: with several records
 * per person, λ is not small beside u of a strong identifier (a phone number
 * two random records share is mostly one person's), and random pairs would
 * understate what agreeing on it means. u = (u_random − λ·m) / (1 − λ), kept
 * above a share of the raw figure and the floor for unseen levels.
 */
export function uWithoutMatches(uRandom: readonly (readonly number[])[], m: readonly (readonly number[])[], lambda: number, floors: readonly (readonly number[])[]): number[][] {
  return uRandom.map((row, f) =>
    row.map((u, l) => Math.max((u - lambda * m[f]![l]!) / (1 - lambda), 0.05 * u, floors[f]![l]!)),
  );
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

/** A field's term-frequency adjustment: where records keep the field's value index, and the adjustment per value. */
export interface TfLookup {
  codes: Int32Array;
  width: number;
  slot: number;
  adjust: Float64Array;
}

/**
 * Scores pairs, abandoning a pair as soon as it cannot reach the floor: the
 * bound starts at the prior plus the best every field both records have could
 * add, and each compared field replaces its best by what it adds. Fields
 * that tell pairs apart most are compared first, so a non-match is usually
 * dropped after two or three comparisons.
 */
export class PairScorer {
  private readonly order: Int32Array;
  private readonly best: Float64Array;
  private readonly bits: Int32Array;
  private readonly shared: Uint8Array;
  private readonly flat: Float64Array;
  /** the cap on the household fields' summed weight */
  readonly cap: number;

  /**
   * `slots[f]`: the prepared slot of field f, whose bit in `presence` says a
   * record has the field; fields without one (-1) are always compared.
   * `household[f]`: field f is one of the capped household fields.
   */
  constructor(
    private readonly compare: readonly Comparator[],
    private readonly weights: readonly (readonly number[])[],
    private readonly tf: readonly (TfLookup | undefined)[],
    readonly priorWeight: number,
    private readonly presence: Uint32Array,
    slots: readonly number[],
    household: readonly boolean[],
  ) {
    const F = weights.length;
    this.cap = householdCap(priorWeight);
    this.best = new Float64Array(F);
    const span = new Float64Array(F);
    weights.forEach((w, f) => {
      let top = Math.max(0, ...w);
      const t = tf[f];
      if (t !== undefined) {
        let maxAdjust = 0;
        for (const a of t.adjust) if (a > maxAdjust) maxAdjust = a;
        top = Math.max(top, w[0]! + maxAdjust);
      }
      this.best[f] = top;
      span[f] = top - Math.min(0, ...w);
    });
    this.order = Int32Array.from(weights.map((_, f) => f).sort((a, b) => span[b]! - span[a]! || a - b));
    this.bits = Int32Array.from(slots, (s) => (s >= 0 ? 1 << s : 0));
    this.shared = Uint8Array.from(household, (h) => (h ? 1 : 0));
    this.flat = new Float64Array(F * LEVEL_SLOTS);
    weights.forEach((w, f) => w.forEach((x, l) => (this.flat[f * LEVEL_SLOTS + l] = x)));
  }

  /** The match weight of records i and j, or -Infinity as soon as it cannot reach `floor`. */
  score(i: number, j: number, floor = Number.NEGATIVE_INFINITY): number {
    const { order, compare, flat, tf, best, bits, shared, cap } = this;
    const both = this.presence[i]! & this.presence[j]!;
    // Personal and household sums so far, and the best the fields still to compare could add to each.
    let personal = this.priorWeight;
    let household = 0;
    let personalRest = 0;
    let householdRest = 0;
    for (let k = 0; k < order.length; k++) {
      const f = order[k]!;
      const bit = bits[f]!;
      if (bit !== 0 && (both & bit) === 0) continue;
      if (shared[f] === 1) householdRest += best[f]!;
      else personalRest += best[f]!;
    }
    for (let k = 0; k < order.length; k++) {
      if (personal + personalRest + Math.min(household + householdRest, cap) < floor) return Number.NEGATIVE_INFINITY;
      const f = order[k]!;
      const bit = bits[f]!;
      if (bit !== 0 && (both & bit) === 0) continue;
      const level = compare[f]!(i, j);
      let add = 0;
      if (level >= 0) {
        add = flat[f * LEVEL_SLOTS + level]!;
        if (level === 0) {
          const t = tf[f];
          if (t !== undefined) add += t.adjust[t.codes[i * t.width + t.slot]!]!;
        }
      }
      if (shared[f] === 1) {
        household += add;
        householdRest -= best[f]!;
      } else {
        personal += add;
        personalRest -= best[f]!;
      }
    }
    return personal + Math.min(household, cap);
  }

  /**
   * Each field's level (-1 missing), weight and term-frequency adjustment for
   * one pair, in field order, and how much the household cap took off.
   */
  explain(i: number, j: number): { fields: { level: number; weight: number; tfAdjustment: number }[]; capped: number } {
    let household = 0;
    const fields = this.compare.map((c, f) => {
      const level = c(i, j);
      if (level < 0) return { level, weight: 0, tfAdjustment: 0 };
      const t = tf(this.tf[f], level, i);
      const weight = this.weights[f]![level]! + t;
      if (this.shared[f] === 1) household += weight;
      return { level, weight, tfAdjustment: t };
    });
    return { fields, capped: Math.max(0, household - this.cap) };
  }
}

function tf(lookup: TfLookup | undefined, level: number, i: number): number {
  return lookup === undefined || level !== 0 ? 0 : lookup.adjust[lookup.codes[i * lookup.width + lookup.slot]!]!;
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
