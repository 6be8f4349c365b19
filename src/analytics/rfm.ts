/**
 * RFM scoring: recency, frequency and monetary quintile scores (1..5, 5 best) per customer, the
 * standard 11-segment map on top of them, and a per-segment summary for reports and the dashboard.
 *
 * Pure and deterministic: typed arrays in, typed arrays out, no I/O, so the same input always gives
 * the same scores whatever the customer order.
 */

export const RFM_SEGMENTS = [
  'Champions',
  'Loyal',
  'Potential Loyalist',
  'New',
  'Promising',
  'Need Attention',
  'About to Sleep',
  'At Risk',
  "Can't Lose Them",
  'Hibernating',
  'Lost',
] as const;

export type RfmSegment = (typeof RFM_SEGMENTS)[number];

/** zh-CN names for the dashboard and readable text. */
export const RFM_SEGMENT_NAMES_ZH: Record<RfmSegment, string> = {
  Champions: '冠军客户',
  Loyal: '忠诚客户',
  'Potential Loyalist': '潜在忠诚客户',
  New: '新客户',
  Promising: '潜力新客',
  'Need Attention': '需关注客户',
  'About to Sleep': '即将沉睡客户',
  'At Risk': '流失风险客户',
  // They have already lapsed (R 1–2), so the job is winning them back (挽回), not keeping them (挽留).
  "Can't Lose Them": '重要挽回客户',
  Hibernating: '沉睡客户',
  Lost: '已流失客户',
};

export interface RfmInput {
  /** days since the last purchase, per customer (≥ 0) */
  recencyDays: Float64Array;
  /** number of purchases (orders) net of fully refunded ones, ≥ 1 for customers included */
  frequency: Float64Array;
  /** net revenue (orders − refunds), may be ≤ 0 */
  monetary: Float64Array;
}

export interface RfmScores {
  /** 1..5, 5 best: the most recent customers get R = 5 */
  r: Uint8Array;
  f: Uint8Array;
  m: Uint8Array;
  /** index into RFM_SEGMENTS */
  segment: Uint8Array;
  /**
   * The quintile boundaries used, in original units, 4 per metric (none when there are no customers):
   * for frequency and monetary, score ≥ k + 1 exactly when the value is > cuts[k − 1];
   * for recency, R ≥ k + 1 exactly when recencyDays is < cuts.recency[k − 1].
   * So "R = 5 means bought less than cuts.recency[3] days ago", "F ≥ 2 means more than
   * cuts.frequency[0] orders". Recency cuts therefore decrease, the others increase.
   */
  cuts: { recency: number[]; frequency: number[]; monetary: number[] };
}

export interface RfmSegmentSummary {
  segment: RfmSegment;
  customers: number;
  /** customers / all customers, 0 when there are none */
  share: number;
  avgRecencyDays: number;
  avgFrequency: number;
  avgMonetary: number;
  /** the segment's net revenue: the sum of its customers' monetary values */
  revenue: number;
}

export interface RfmSummary {
  /** all 11 in RFM_SEGMENTS order, empty segments included with zeros */
  segments: RfmSegmentSummary[];
  /** grid[r-1][f-1] = customers with that R and F score */
  grid: number[][];
  customers: number;
}

// ─── Quintiles ──────────────────────────────────────────────────────────────
//
// Rule: a customer's score is 1 + floor(5 × w / n), where w is the number of customers strictly
// worse on that metric and n the number of customers. Because w only counts strictly worse values,
// equal values always share a score, whatever their order in the input: the score of a tie group
// is the one its first member would get in sorted order. On 1..100 that gives exactly 20 per score.
//
// Heavy ties are expected, above all in frequency, where most customers often bought once. Those
// customers have nobody strictly worse, so they all get F = 1, and the next value up jumps to the
// score its position earns (with 60% one-time buyers, two orders is already F = 4): scores are
// skipped rather than handing identical customers different scores. The worst value always scores
// 1; the best scores 5 unless its tie group holds more than a fifth of the customers.
//
// Computed through cut points: score ≥ k + 1 ⇔ w ≥ ⌈k·n/5⌉ ⇔ the value is strictly better than the
// ⌈k·n/5⌉-th worst value. Those four values are the cuts a report shows, and scoring by comparing
// against them keeps the reported cuts and the scores consistent by construction.

const SCORES = 5;

/** Higher is better on the returned scale; NaN (missing data) counts as the worst possible value. */
function goodness(value: number, lowerIsBetter: boolean): number {
  if (Number.isNaN(value)) return -Infinity;
  return lowerIsBetter ? -value : value;
}

function scoreQuintiles(values: Float64Array, lowerIsBetter: boolean): { scores: Uint8Array; cuts: number[] } {
  const n = values.length;
  const scores = new Uint8Array(n);
  if (n === 0) return { scores, cuts: [] };

  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = goodness(values[i]!, lowerIsBetter);
  const sorted = keys.slice().sort();

  const cutKey = (k: number): number => sorted[Math.ceil((k * n) / SCORES) - 1]!;
  const t1 = cutKey(1);
  const t2 = cutKey(2);
  const t3 = cutKey(3);
  const t4 = cutKey(4);
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    scores[i] = 1 + Number(key > t1) + Number(key > t2) + Number(key > t3) + Number(key > t4);
  }
  // `+ 0` folds -0, which net revenue computed as a difference can be, so a report never shows "-0".
  const cuts = [t1, t2, t3, t4].map((t) => (lowerIsBetter ? -t : t) + 0);
  return { scores, cuts };
}

// ─── Segments ───────────────────────────────────────────────────────────────
//
// The segment is read from R and FM = floor((F + M) / 2), on this grid (rows R, columns FM):
//
//          FM=1              FM=2                 FM=3                FM=4              FM=5
//   R=5    New               Potential Loyalist   Loyal               Champions         Champions
//   R=4    Promising         Potential Loyalist   Loyal               Champions         Champions
//   R=3    About to Sleep    Need Attention       Loyal               Loyal             Loyal
//   R=2    Hibernating       Hibernating          At Risk             At Risk           Can't Lose Them
//   R=1    Lost              Lost                 At Risk             At Risk           Can't Lose Them
//
// FM rounds down, so a high FM needs both dimensions to carry it: one standout (F = 5, M = 1) lands
// in the middle instead of earning Champions or Can't Lose Them on frequency alone.
//
// Where the usual ranges overlap, the cell goes to the label that says more about what to do:
// - R 4–5, FM 3 (Loyal vs Potential Loyalist): Loyal. FM 3 with FM rounded down means F + M ≥ 6,
//   an average-or-better buyer already; Potential Loyalist is kept for recent customers who have
//   not proven that yet (FM 2). This also keeps Loyal one block: R ≥ 3 and FM ≥ 3, less Champions.
// - R 3, FM 3 (Loyal vs Need Attention): Loyal, for the same block.
// - R 3, FM 2 (Need Attention vs About to Sleep): Need Attention, since a customer with some value
//   is worth a touch now; About to Sleep keeps the lowest-value cell, R 3 FM 1.
// The usual ranges leave no gaps on this grid once those are settled, and every segment keeps at
// least one cell, so all 11 are reachable.

/** SEGMENT_GRID[r - 1][fm - 1]; rows listed from R = 1 up so the index is the score. */
const SEGMENT_GRID: readonly (readonly RfmSegment[])[] = [
  ['Lost', 'Lost', 'At Risk', 'At Risk', "Can't Lose Them"],
  ['Hibernating', 'Hibernating', 'At Risk', 'At Risk', "Can't Lose Them"],
  ['About to Sleep', 'Need Attention', 'Loyal', 'Loyal', 'Loyal'],
  ['Promising', 'Potential Loyalist', 'Loyal', 'Champions', 'Champions'],
  ['New', 'Potential Loyalist', 'Loyal', 'Champions', 'Champions'],
];

/** The grid as segment indices, flattened to [(r - 1) * 5 + (fm - 1)], for the scoring loop. */
const SEGMENT_INDEX = Uint8Array.from(SEGMENT_GRID.flat(), (segment) => RFM_SEGMENTS.indexOf(segment));

function isScore(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= SCORES;
}

function segmentIndex(r: number, f: number, m: number): number {
  const fm = Math.floor((f + m) / 2);
  return SEGMENT_INDEX[(r - 1) * SCORES + (fm - 1)]!;
}

/** Segment of an (r, f, m) triple of scores, each an integer in 1..5. */
export function rfmSegment(r: number, f: number, m: number): RfmSegment {
  if (!isScore(r) || !isScore(f) || !isScore(m)) {
    throw new RangeError(`RFM scores must be integers in 1..5, got (${r}, ${f}, ${m})`);
  }
  return RFM_SEGMENTS[segmentIndex(r, f, m)]!;
}

// ─── Scoring and summary ────────────────────────────────────────────────────

function customerCount(input: RfmInput): number {
  const n = input.recencyDays.length;
  if (input.frequency.length !== n || input.monetary.length !== n) {
    throw new RangeError(
      `RFM input arrays differ in length: recencyDays ${n}, frequency ${input.frequency.length}, monetary ${input.monetary.length}`,
    );
  }
  return n;
}

export function scoreRfm(input: RfmInput): RfmScores {
  const n = customerCount(input);
  const recency = scoreQuintiles(input.recencyDays, true);
  const frequency = scoreQuintiles(input.frequency, false);
  const monetary = scoreQuintiles(input.monetary, false);

  const segment = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    segment[i] = segmentIndex(recency.scores[i]!, frequency.scores[i]!, monetary.scores[i]!);
  }
  return {
    r: recency.scores,
    f: frequency.scores,
    m: monetary.scores,
    segment,
    cuts: { recency: recency.cuts, frequency: frequency.cuts, monetary: monetary.cuts },
  };
}

export function summarizeRfm(input: RfmInput, scores: RfmScores): RfmSummary {
  const n = customerCount(input);
  for (const [name, array] of [['r', scores.r], ['f', scores.f], ['m', scores.m], ['segment', scores.segment]] as const) {
    if (array.length !== n) throw new RangeError(`RFM scores.${name} has ${array.length} entries for ${n} customers`);
  }

  const segmentCount = RFM_SEGMENTS.length;
  const counts = new Float64Array(segmentCount);
  const recencySums = new Float64Array(segmentCount);
  const frequencySums = new Float64Array(segmentCount);
  const revenue = new Float64Array(segmentCount);
  const grid = Array.from({ length: SCORES }, () => new Array<number>(SCORES).fill(0));

  for (let i = 0; i < n; i++) {
    const s = scores.segment[i]!;
    const r = scores.r[i]!;
    const f = scores.f[i]!;
    // Scores may come from elsewhere than scoreRfm (a stored run, a hand-built fixture): a bad one
    // would otherwise be dropped by the typed-array writes below and the totals would stop adding up.
    if (s >= segmentCount || !isScore(r) || !isScore(f)) {
      throw new RangeError(`RFM scores for customer ${i} are out of range: segment ${s}, R ${r}, F ${f}`);
    }
    counts[s]! += 1;
    recencySums[s]! += input.recencyDays[i]!;
    frequencySums[s]! += input.frequency[i]!;
    revenue[s]! += input.monetary[i]!;
    grid[r - 1]![f - 1]! += 1;
  }

  // Averages of an empty segment are reported as 0, not 0/0, so the summary stays JSON- and chart-safe.
  const mean = (sum: number, count: number): number => (count === 0 ? 0 : sum / count);
  const segments = RFM_SEGMENTS.map((segment, s): RfmSegmentSummary => {
    const customers = counts[s]!;
    return {
      segment,
      customers,
      share: mean(customers, n),
      avgRecencyDays: mean(recencySums[s]!, customers),
      avgFrequency: mean(frequencySums[s]!, customers),
      avgMonetary: mean(revenue[s]!, customers),
      revenue: revenue[s]!,
    };
  });

  return { segments, grid, customers: n };
}
