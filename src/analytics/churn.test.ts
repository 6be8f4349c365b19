import { describe, expect, test } from 'vitest';
import { requireDatasets } from '../../test/helpers/datasets.js';
import { GBDT_DEFAULTS, gbdtImportance, predictGbdt, trainGbdt } from './gbdt.js';
import { logisticImportance, predictLogistic, trainLogistic } from './logistic.js';
import { auc, brier, calibrationTable, logLoss, type Design } from './metrics.js';
import { seededRandom } from './random.js';
import { LegacyRandomState, stratifiedSplit } from './split.js';
import { readTelco } from '../../test/helpers/telco.js';

function design(rows: number, cols: number, fill: (i: number, j: number) => number, names?: string[]): Design {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = fill(i, j);
  return { rows, cols, data, names: names ?? Array.from({ length: cols }, (_, j) => `x${j}`) };
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function pick(values: Uint8Array, rows: Int32Array): Uint8Array {
  return Uint8Array.from(rows, (r) => values[r]!);
}

describe('metrics', () => {
  test('AUC on hand cases: perfect, reversed, all tied, partial ties', () => {
    const labels = Uint8Array.from([0, 0, 1, 1]);
    expect(auc([0.1, 0.2, 0.8, 0.9], labels)).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], labels)).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], labels)).toBe(0.5);
    // Pairs (neg, pos): (0.1, 0.4) win, (0.1, 0.6) win, (0.4, 0.4) half, (0.4, 0.6) win.
    expect(auc([0.1, 0.4, 0.4, 0.6], labels)).toBe(3.5 / 4);
  });

  test('log-loss and Brier on hand cases', () => {
    const labels = Uint8Array.from([1, 0]);
    expect(logLoss([0.5, 0.5], labels)).toBeCloseTo(Math.log(2), 12);
    expect(brier([1, 0], labels)).toBe(0);
    expect(brier([0.75, 0.5], labels)).toBeCloseTo((0.0625 + 0.25) / 2, 12);
    expect(Number.isFinite(logLoss([0, 1], labels))).toBe(true);
  });

  test('calibrationTable: counts sum to the rows, bins in order, empty bins left out', () => {
    const random = seededRandom(3);
    const scores = Float64Array.from({ length: 1000 }, () => random() * 0.7);
    const labels = Uint8Array.from(scores, (s) => (random() < s ? 1 : 0));
    const table = calibrationTable(scores, labels, 10);
    expect(table.reduce((a, b) => a + b.count, 0)).toBe(1000);
    expect(table.length).toBe(7);
    for (const bin of table) {
      expect(bin.predicted).toBeGreaterThanOrEqual(bin.lower);
      expect(bin.predicted).toBeLessThanOrEqual(bin.upper);
      expect(Math.abs(bin.observed - bin.predicted)).toBeLessThan(0.15);
    }
    expect(calibrationTable([1, 0], Uint8Array.from([1, 0]), 4).map((b) => b.upper)).toEqual([0.25, 1]);
  });

  test('bad input throws an Error naming the field', () => {
    expect(() => auc([0.1, 0.2], Uint8Array.from([0, 2]))).toThrow(/labels\[1\]/);
    expect(() => auc([0.1], Uint8Array.from([0, 1]))).toThrow(/scores/);
    expect(() => auc([], new Uint8Array(0))).toThrow(/scores: empty/);
    expect(() => auc([0.1, 0.2], Uint8Array.from([1, 1]))).toThrow(/labels/);
    expect(() => auc([NaN, 0.2], Uint8Array.from([0, 1]))).toThrow(/scores\[0\]/);
  });
});

describe('splits', () => {
  test('numpy legacy RandomState(42): first draws and permutation', () => {
    // Published numpy outputs: RandomState(42).randint(0, 2**32, 2, dtype=uint64)
    // and RandomState(0).permutation(10).
    const rng = new LegacyRandomState(42);
    expect([rng.nextUint32(), rng.nextUint32()]).toEqual([1608637542, 3421126067]);
    expect(Array.from(new LegacyRandomState(0).permutation(10))).toEqual([2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
  });

  test('stratifiedSplit: sizes, class shares, disjoint cover, repeatable', () => {
    const labels = Uint8Array.from({ length: 1001 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const { train, test } = stratifiedSplit(labels, 0.2, 7);
    expect(test.length).toBe(Math.ceil(0.2 * 1001));
    expect(train.length + test.length).toBe(1001);
    expect(new Set([...train, ...test]).size).toBe(1001);
    const positivesInTest = test.reduce((a, r) => a + labels[r]!, 0);
    expect(Math.abs(positivesInTest - 0.2 * 251)).toBeLessThanOrEqual(1);
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual({ train, test });
    expect(() => stratifiedSplit(Uint8Array.from([0, 0, 0, 1]), 0.5, 1)).toThrow(/labels/);
  });
});

describe('logistic regression', () => {
  test('recovers known coefficients on simulated data', () => {
    const random = seededRandom(11);
    const n = 40_000;
    const truth = [1.5, -2, 0.5, 0];
    const x = design(n, 4, (_, j) => normal(random) * (j + 1) + j);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let z = -0.5;
      for (let j = 0; j < 4; j++) z += (truth[j]! * x.data[i * 4 + j]!) / (j + 1);
      y[i] = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    const model = trainLogistic(x, y, { l2: 0, standardize: false });
    expect(model.converged).toBe(true);
    const raw = model.weights.map((w, j) => w / model.scale[j]!);
    raw.forEach((w, j) => expect(Math.abs(w - truth[j]! / (j + 1))).toBeLessThan(0.05));
    // Standardizing changes only the units the weights are in.
    const scaled = trainLogistic(x, y, { l2: 0 });
    const a = predictLogistic(model, x);
    const b = predictLogistic(scaled, x);
    for (let i = 0; i < n; i += 997) expect(a[i]).toBeCloseTo(b[i]!, 6);
    expect(Array.from(logisticImportance(scaled)).map((v) => Math.round(v * 10) / 10)).toEqual(Array.from(logisticImportance(model)).map((v) => Math.round(v * 10) / 10));
  });

  test('the default penalty is sklearn C=1: ½‖w‖² against the summed log-loss', () => {
    // Two rows, one feature x = ±1, labels 1 and 0: the optimum has intercept
    // 0 and w solving w = 2·(1 − σ(w)), i.e. the gradient of ½w² + Σ loss is 0.
    const x = design(2, 1, (i) => (i === 0 ? 1 : -1));
    const model = trainLogistic(x, Uint8Array.from([1, 0]), { standardize: false });
    const w = model.weights[0]!;
    expect(model.intercept).toBeCloseTo(0, 9);
    expect(w - 2 * (1 - 1 / (1 + Math.exp(-w)))).toBeCloseTo(0, 9);
  });

  test('missing values are imputed with the training mean', () => {
    const x = design(200, 2, (i, j) => (j === 0 ? i % 10 : (i * 7) % 13));
    const y = Uint8Array.from({ length: 200 }, (_, i) => (i % 10 >= 5 ? 1 : 0));
    const model = trainLogistic(x, y);
    const probe = design(2, 2, (i, j) => (i === 0 && j === 0 ? NaN : j === 0 ? model.mean[0]! : 3));
    const p = predictLogistic(model, probe);
    expect(p[0]).toBeCloseTo(p[1]!, 12);
  });

  test('bad input throws an Error naming the field', () => {
    const x = design(4, 2, (i, j) => i + j);
    expect(() => trainLogistic(x, Uint8Array.from([0, 1, 2, 0]))).toThrow(/y\[2\]/);
    expect(() => trainLogistic(x, Uint8Array.from([0, 1, 0]))).toThrow(/\by\b/);
    expect(() => trainLogistic({ ...x, data: new Float64Array(7) }, Uint8Array.from([0, 1, 1, 0]))).toThrow(/x\.data/);
    expect(() => trainLogistic({ rows: 0, cols: 2, data: new Float64Array(0), names: ['a', 'b'] }, new Uint8Array(0))).toThrow(/x\.rows/);
    expect(() => trainLogistic({ ...x, names: ['a'] }, Uint8Array.from([0, 1, 1, 0]))).toThrow(/x\.names/);
    expect(() => trainLogistic(x, Uint8Array.from([0, 1, 1, 0]), { rows: Int32Array.from([0, 9]) })).toThrow(/rows\[1\]/);
    const model = trainLogistic(x, Uint8Array.from([0, 1, 1, 0]));
    expect(() => predictLogistic(model, { ...x, names: ['x0', 'other'] })).toThrow(/x\.names\[1\]/);
  });
});

describe('gradient-boosted trees', () => {
  // y = x0 XOR x1 (with noise-free labels): no linear score separates it.
  function xor(n: number, seed: number): { x: Design; y: Uint8Array } {
    const random = seededRandom(seed);
    const x = design(n, 3, () => random());
    const y = Uint8Array.from({ length: n }, (_, i) => ((x.data[i * 3]! > 0.5) !== (x.data[i * 3 + 1]! > 0.5) ? 1 : 0));
    return { x, y };
  }

  test('learns an XOR interaction that logistic regression cannot', () => {
    const train = xor(4000, 1);
    const test = xor(2000, 2);
    const gbdt = trainGbdt(train.x, train.y);
    const lr = trainLogistic(train.x, train.y);
    expect(auc(predictGbdt(gbdt, test.x), test.y)).toBeGreaterThan(0.97);
    expect(auc(predictLogistic(lr, test.x), test.y)).toBeLessThan(0.6);
    const importance = gbdtImportance(gbdt);
    expect(importance.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(importance[2]!).toBeLessThan(0.05);
  });

  test('baseline is the training log-odds; one round moves toward the labels', () => {
    const { x, y } = xor(1000, 3);
    const model = trainGbdt(x, y, { iterations: 1 });
    const rate = y.reduce((a, b) => a + b, 0) / y.length;
    expect(model.baseline).toBeCloseTo(Math.log(rate / (1 - rate)), 12);
    expect(model.trees.length).toBe(1);
    expect(model.trees[0]!.feature.filter((f) => f < 0).length).toBeLessThanOrEqual(GBDT_DEFAULTS.maxLeafNodes);
  });

  test('missing values route to the side that fits them', () => {
    // Rows missing x0 are all positive, like high x0: the split should send them right.
    const random = seededRandom(5);
    const n = 3000;
    const x = design(n, 1, (i) => (i % 5 === 0 ? NaN : random()));
    const y = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 || x.data[i]! > 0.6 ? 1 : 0));
    const model = trainGbdt(x, y, { iterations: 20, learningRate: 0.3 });
    const p = predictGbdt(model, design(3, 1, (i) => [NaN, 0.1, 0.9][i]!));
    expect(p[0]!).toBeGreaterThan(0.9);
    expect(p[1]!).toBeLessThan(0.1);
    expect(p[2]!).toBeGreaterThan(0.9);
    // Missing at prediction only (none in training): sent with the majority, never an error.
    const complete = design(n, 1, () => random());
    const yc = Uint8Array.from({ length: n }, (_, i) => (complete.data[i]! > 0.8 ? 1 : 0));
    const plain = trainGbdt(complete, yc, { iterations: 10 });
    expect(predictGbdt(plain, design(1, 1, () => NaN))[0]!).toBeLessThan(0.5);
  });

  test('prediction from raw values equals the training fit (binning agrees)', () => {
    const { x, y } = xor(3000, 9);
    const rows = Int32Array.from({ length: 2000 }, (_, i) => i);
    const model = trainGbdt(x, y, { rows, iterations: 30, validationRows: Int32Array.from({ length: 1000 }, (_, i) => 2000 + i), patience: 5 });
    expect(model.validationLoss!.length).toBeGreaterThanOrEqual(model.trees.length);
    const p = predictGbdt(model, x, rows);
    expect(auc(p, pick(y, rows))).toBeGreaterThan(0.97);
  });

  test('deterministic and JSON round-trip', () => {
    const { x, y } = xor(2000, 4);
    const a = trainGbdt(x, y, { iterations: 20 });
    const b = trainGbdt(x, y, { iterations: 20 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const revived = JSON.parse(JSON.stringify(a)) as typeof a;
    expect(predictGbdt(revived, x)).toEqual(predictGbdt(a, x));
    const la = trainLogistic(x, y);
    expect(JSON.stringify(la)).toBe(JSON.stringify(trainLogistic(x, y)));
  });

  test('bad input throws an Error naming the field', () => {
    const x = design(4, 2, (i, j) => i + j);
    expect(() => trainGbdt(x, Uint8Array.from([0, 1, 7, 0]))).toThrow(/y\[2\]/);
    expect(() => trainGbdt({ ...x, cols: 3 }, Uint8Array.from([0, 1, 1, 0]))).toThrow(/x\.data/);
    expect(() => trainGbdt(x, Uint8Array.from([0, 1, 1, 0]), { maxLeafNodes: 1 })).toThrow(/maxLeafNodes/);
    expect(() => trainGbdt(x, Uint8Array.from([0, 1, 1, 0]), { validationRows: Int32Array.from([-1]) })).toThrow(/validationRows\[0\]/);
    expect(() => trainGbdt(x, Uint8Array.from([0, 1, 1, 0]), { rows: new Int32Array(0) })).toThrow(/rows is empty/);
  });
});

const files = requireDatasets(['telco/WA_Fn-UseC_-Telco-Customer-Churn.csv']);

describe.skipIf(files === null)('Telco churn hold-out (stratified 80/20, seed 42)', () => {
  let loaded: { x: Design; y: Uint8Array; trainRows: Int32Array; testRows: Int32Array; yTest: Uint8Array } | undefined;
  // Loaded on first use: a skipped block's body still runs at collection.
  const telco = (): NonNullable<typeof loaded> => {
    if (loaded === undefined) {
      const { x, y } = readTelco(files!['telco/WA_Fn-UseC_-Telco-Customer-Churn.csv']);
      const split = stratifiedSplit(y, 0.2, 42);
      loaded = { x, y, trainRows: split.train, testRows: split.test, yTest: pick(y, split.test) };
    }
    return loaded;
  };

  test('the data set is as documented', () => {
    const { x, testRows } = telco();
    expect(x.rows).toBe(7043);
    expect(x.cols).toBe(45);
    expect(testRows.length).toBe(1409);
  });

  test('logistic regression (standardized, C=1) reaches AUC ≥ 0.84', () => {
    const { x, y, trainRows, testRows, yTest } = telco();
    const model = trainLogistic(x, y, { rows: trainRows });
    expect(model.converged).toBe(true);
    expect(auc(predictLogistic(model, x, testRows), yTest)).toBeGreaterThanOrEqual(0.84);
  });

  test('GBDT with the product defaults reaches AUC ≥ 0.834', () => {
    const { x, y, trainRows, testRows, yTest } = telco();
    const model = trainGbdt(x, y, { rows: trainRows });
    const p = predictGbdt(model, x, testRows);
    expect(auc(p, yTest)).toBeGreaterThanOrEqual(0.834);
    expect(logLoss(p, yTest)).toBeLessThan(0.45);
  });
});
