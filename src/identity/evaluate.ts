export interface PairwiseScores {
  precision: number;
  recall: number;
  f1: number;
  /** pairs of records in one predicted cluster that are one true entity */
  truePositives: number;
  predictedPairs: number;
  truePairs: number;
}

const pairsIn = (size: number) => (size * (size - 1)) / 2;

/** Labels → dense 0..k-1, and the size of each. */
function dense(labels: ArrayLike<number>): { ids: Int32Array; sizes: number[] } {
  const idOf = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  const sizes: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    let id = idOf.get(label);
    if (id === undefined) {
      id = sizes.length;
      idOf.set(label, id);
      sizes.push(0);
    }
    ids[i] = id;
    sizes[id]!++;
  }
  return { ids, sizes };
}

/**
 * Pairwise precision and recall of a clustering against the truth: a pair of
 * records counts as predicted when they share a predicted cluster, as true
 * when they are one entity. Counted from cluster sizes and the sizes of
 * (predicted, true) intersections, never pair by pair. With nothing
 * predicted precision is 1; with nothing to find recall is 1.
 */
export function pairwiseScores(predicted: ArrayLike<number>, truth: ArrayLike<number>): PairwiseScores {
  if (predicted.length !== truth.length) throw new Error(`pairwiseScores: ${predicted.length} predictions for ${truth.length} records`);
  const p = dense(predicted);
  const t = dense(truth);
  const cells = new Map<number, number>();
  const width = t.sizes.length;
  for (let i = 0; i < predicted.length; i++) {
    const cell = p.ids[i]! * width + t.ids[i]!;
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
  }
  let truePositives = 0;
  for (const size of cells.values()) truePositives += pairsIn(size);
  let predictedPairs = 0;
  for (const size of p.sizes) predictedPairs += pairsIn(size);
  let truePairs = 0;
  for (const size of t.sizes) truePairs += pairsIn(size);
  const precision = predictedPairs === 0 ? 1 : truePositives / predictedPairs;
  const recall = truePairs === 0 ? 1 : truePositives / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, truePositives, predictedPairs, truePairs };
}
