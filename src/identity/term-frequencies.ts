import type { PreparedRecords, ValueColumn } from './prepared-records.js';

/**
 * Term frequencies: agreeing on a common value (王, Smith, a shared
 * switchboard number) says less than agreeing on a rare one. A model keeps,
 * per field, the shares of its most common values, so it stays small and
 * JSON-serialisable whatever the data.
 */

/**
 * Shares of the most common values of a field (keys hashed: the model holds
 * no plain personal data), one share for the rest, and the typical share of
 * a value two records agree on.
 */
export interface TermFrequencies {
  shares: Record<string, number>;
  other: number;
  /** Σ share²: how common the value of an agreeing pair is on average */
  typical: number;
}

/** How many values a term-frequency table keeps per field; bounded so a model stays small whatever the data. */
export const TF_TABLE_SIZE = 1000;
/** A value shared by fewer records is not common: it falls under `other`. */
const TF_MIN_COUNT = 3;

/** A stable 32-bit FNV-1a hash of a value: term-frequency tables are keyed by it (in base 36). */
export function valueHash(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The term-frequency table of a column: the `TF_TABLE_SIZE` most common values (of records that have one). */
export function termFrequencies(p: PreparedRecords, column: ValueColumn): TermFrequencies {
  const counts = new Map<number, number>();
  let present = 0;
  for (let i = 0; i < p.size; i++) {
    const id = p.codes[i * p.width + column.slot]!;
    if (id < 0) continue;
    const h = valueHash(column.values[id]!);
    counts.set(h, (counts.get(h) ?? 0) + 1);
    present++;
  }
  if (present === 0) return { shares: {}, other: 1, typical: 1 };
  let typical = 0;
  for (const c of counts.values()) typical += (c / present) ** 2;
  const common = [...counts].filter(([, c]) => c >= TF_MIN_COUNT);
  common.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  common.length = Math.min(common.length, TF_TABLE_SIZE);
  const shares: Record<string, number> = {};
  let covered = 0;
  for (const [h, c] of common) {
    shares[h.toString(36)] = c / present;
    covered += c;
  }
  const rest = counts.size - common.length;
  const other = rest > 0 ? (present - covered) / rest / present : 1 / present;
  return { shares, other, typical };
}

/** Term-frequency adjustments are bounded: a rare value may be rare by a typo, and the table is estimated. */
export const TF_MAX_BOOST = 4;
export const TF_MAX_PENALTY = 10;

/**
 * Per value of the column, what agreeing exactly on it adds to the field's
 * exact weight: log2(typical share / its share). A name every fifth record
 * has weighs less than the average agreement, a rare one more. Shares are
 * over records, so one person's e-mail in three records is not "common":
 * the typical share already counts that people have several records.
 */
export function tfAdjustments(column: ValueColumn, tf: TermFrequencies): Float64Array {
  const shares = new Map<number, number>();
  for (const [key, share] of Object.entries(tf.shares)) shares.set(Number.parseInt(key, 36), share);
  const adjust = new Float64Array(column.values.length);
  for (let id = 0; id < column.values.length; id++) {
    const share = shares.get(valueHash(column.values[id]!)) ?? tf.other;
    adjust[id] = Math.max(-TF_MAX_PENALTY, Math.min(TF_MAX_BOOST, Math.log2(tf.typical / share)));
  }
  return adjust;
}
