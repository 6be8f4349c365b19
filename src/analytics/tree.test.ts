import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import {
  accuracy,
  holdOutSplit,
  predict,
  ruleText,
  trainTree,
  treeRules,
  type DecisionTree,
  type FeatureColumn,
  type TreeNode,
  type TreeRule,
} from './tree.js';

const numeric = (name: string, values: ArrayLike<number>): FeatureColumn => ({ name, kind: 'numeric', values: Float64Array.from(values) });
const allRows = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

function nodes(tree: DecisionTree): Array<{ node: TreeNode; depth: number }> {
  const out: Array<{ node: TreeNode; depth: number }> = [];
  const stack = [{ node: tree.root, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    out.push(item);
    if (item.node.kind === 'split') stack.push({ node: item.node.left, depth: item.depth + 1 }, { node: item.node.right, depth: item.depth + 1 });
  }
  return out;
}
const leaves = (tree: DecisionTree): number => nodes(tree).filter((x) => x.node.kind === 'leaf').length;

/** Noisy data with structure on two of four features, for the limit and pruning tests. */
function noisy(n: number, seed: number): { columns: FeatureColumn[]; y: Int32Array } {
  const random = seededRandom(seed);
  const cols = Array.from({ length: 4 }, () => new Float64Array(n));
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (const c of cols) c[i] = Math.floor(random() * 100);
    const signal = cols[0]![i]! > 40 !== cols[1]![i]! > 70;
    y[i] = signal !== random() < 0.2 ? 1 : 0;
  }
  return { columns: cols.map((c, f) => numeric(`f${f}`, c)), y };
}

describe('trainTree', () => {
  it('learns an axis-aligned rule exactly, with a midpoint threshold', () => {
    const n = 200;
    const x = Array.from({ length: n }, (_, i) => i % 100);
    const noise = Array.from({ length: n }, (_, i) => (i * 37) % 11);
    const y = Int32Array.from(x, (v) => (v >= 30 ? 1 : 0));
    const columns = [numeric('noise', noise), numeric('x', x)];
    const tree = trainTree(columns, y, ['no', 'yes'], { minSamplesLeaf: 1 });
    expect(tree.root).toMatchObject({ kind: 'split', feature: 1, threshold: 29.5, upper: 30 });
    if (tree.root.kind !== 'split') throw new Error('expected a split');
    expect(tree.root.left).toMatchObject({ kind: 'leaf', samples: 60, counts: [60, 0], prediction: 0 });
    expect(tree.root.right).toMatchObject({ kind: 'leaf', samples: 140, counts: [0, 140], prediction: 1 });
    expect(accuracy(tree, columns, y, allRows(n))).toBe(1);
    const fresh = [numeric('noise', [0, 0, 0]), numeric('x', [29.4, 29.6, 1000])];
    expect([0, 1, 2].map((r) => predict(tree, fresh, r))).toEqual([0, 1, 1]);
  });

  it('puts a threshold midway between the values present in the node, not in the whole set', () => {
    // Group A holds only x = 0 and 10, group B the values around them; once
    // A is split off, its threshold belongs halfway between 0 and 10.
    const group: number[] = [];
    const x: number[] = [];
    for (let i = 0; i < 100; i++) {
      group.push(0);
      x.push(i < 50 ? 0 : 10);
    }
    for (let i = 0; i < 100; i++) {
      group.push(1);
      x.push(i < 50 ? 1 + (i % 9) : 11 + (i % 9));
    }
    const y = Int32Array.from(x, (v, i) => (group[i] === 0 && v === 10 ? 1 : 0));
    const columns: FeatureColumn[] = [{ name: 'group', kind: 'categorical', values: Int32Array.from(group), levels: ['A', 'B'] }, numeric('x', x)];
    const tree = trainTree(columns, y, ['no', 'yes'], { minSamplesLeaf: 1 });
    expect(tree.root).toMatchObject({ kind: 'split', feature: 0, level: 0 });
    if (tree.root.kind !== 'split') throw new Error('expected a split');
    expect(tree.root.left).toMatchObject({ kind: 'split', feature: 1, threshold: 5, upper: 10 });
    const fresh: FeatureColumn[] = [{ name: 'group', kind: 'categorical', values: Int32Array.from([0, 0]), levels: ['A', 'B'] }, numeric('x', [4, 7])];
    expect([predict(tree, fresh, 0), predict(tree, fresh, 1)]).toEqual([0, 1]);
  });

  it('splits a categorical feature one level against the rest', () => {
    const n = 300;
    const city = Int32Array.from({ length: n }, (_, i) => i % 3);
    const y = Int32Array.from(city, (c) => (c === 1 ? 1 : 0));
    const columns: FeatureColumn[] = [
      numeric('noise', Array.from({ length: n }, (_, i) => (i * 7) % 13)),
      { name: 'city', kind: 'categorical', values: city, levels: ['北京', '上海', '广州'] },
    ];
    const tree = trainTree(columns, y, ['other', 'target'], { minSamplesLeaf: 1 });
    expect(tree.root).toMatchObject({ kind: 'split', feature: 1, level: 1 });
    expect(tree.features[1]).toEqual({ name: 'city', kind: 'categorical', levels: ['北京', '上海', '广州'] });
    expect(accuracy(tree, columns, y, allRows(n))).toBe(1);
  });

  it('routes missing values to the side they fit, in training and prediction', () => {
    // Rows with x missing behave like the high ones in `high`, like the low ones in `low`.
    const x = [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 30 }, () => NaN)];
    const high = Int32Array.from(x, (v) => (Number.isNaN(v) || v >= 50 ? 1 : 0));
    const low = Int32Array.from(x, (v) => (!Number.isNaN(v) && v >= 50 ? 1 : 0));
    const columns = [numeric('x', x)];
    for (const [y, missingLeft] of [[high, false], [low, true]] as const) {
      const tree = trainTree(columns, y, ['a', 'b'], { minSamplesLeaf: 1 });
      expect(tree.root).toMatchObject({ kind: 'split', threshold: 49.5, missingLeft, missingSamples: 30 });
      expect(accuracy(tree, columns, y, allRows(x.length))).toBe(1);
      expect(predict(tree, [numeric('x', [NaN])], 0)).toBe(missingLeft ? 0 : 1);
    }

    const code = Int32Array.from({ length: 90 }, (_, i) => (i < 30 ? 0 : i < 60 ? 1 : -1));
    const y = Int32Array.from(code, (c) => (c === 0 ? 0 : 1));
    const cat: FeatureColumn[] = [{ name: 'tier', kind: 'categorical', values: code, levels: ['none', 'gold'] }];
    const tree = trainTree(cat, y, ['a', 'b'], { minSamplesLeaf: 1 });
    expect(tree.root).toMatchObject({ kind: 'split', level: 0, missingLeft: false });
    expect(predict(tree, cat, 89)).toBe(1);
  });

  it('sends missing values to the larger side when training saw none', () => {
    const x = Array.from({ length: 100 }, (_, i) => i);
    const y = Int32Array.from(x, (v) => (v >= 80 ? 1 : 0));
    const tree = trainTree([numeric('x', x)], y, ['a', 'b'], { minSamplesLeaf: 1 });
    expect(tree.root).toMatchObject({ kind: 'split', missingLeft: true, missingSamples: 0 });
    expect(predict(tree, [numeric('x', [NaN])], 0)).toBe(0);
    expect(treeRules(tree).flatMap((r) => r.conditions).every((c) => !c.includesMissing)).toBe(true);
  });

  it('respects maxDepth, minSamplesLeaf and minSamplesSplit', () => {
    const { columns, y } = noisy(3000, 1);
    const deep = trainTree(columns, y, ['a', 'b'], { maxDepth: 3, minSamplesLeaf: 1 });
    expect(Math.max(...nodes(deep).map((x) => x.depth))).toBe(3);
    expect(trainTree(columns, y, ['a', 'b'], { maxDepth: 0 }).root.kind).toBe('leaf');

    const limited = trainTree(columns, y, ['a', 'b'], { maxDepth: 20, minSamplesLeaf: 50, minSamplesSplit: 400 });
    for (const { node } of nodes(limited)) {
      if (node.kind === 'leaf') expect(node.samples).toBeGreaterThanOrEqual(50);
      else expect(node.samples).toBeGreaterThanOrEqual(400);
    }
  });

  it('prunes by cost complexity: the weakest link goes at its effective alpha', () => {
    const { columns, y } = noisy(2000, 2);
    const options = { maxDepth: 6, minSamplesLeaf: 5 };
    const unpruned = trainTree(columns, y, ['a', 'b'], options);
    expect(trainTree(columns, y, ['a', 'b'], { ...options, ccpAlpha: 0 })).toEqual(unpruned);
    expect(trainTree(columns, y, ['a', 'b'], { ...options, ccpAlpha: 1 }).root.kind).toBe('leaf');
    const pruned = trainTree(columns, y, ['a', 'b'], { ...options, ccpAlpha: 0.002 });
    expect(leaves(pruned)).toBeLessThan(leaves(unpruned));
    expect(leaves(pruned)).toBeGreaterThan(1);

    // One split: its effective alpha is the impurity it removes, weighted by
    // sample share; pruning happens at alphas ≥ that and not below.
    const stump = trainTree(columns, y, ['a', 'b'], { maxDepth: 1, minSamplesLeaf: 5 });
    if (stump.root.kind !== 'split') throw new Error('expected a split');
    const gini = (n: TreeNode): number => 1 - n.counts.reduce((s, c) => s + (c / n.samples) ** 2, 0);
    const { root } = stump;
    const alpha = gini(root) - (root.left.samples * gini(root.left) + root.right.samples * gini(root.right)) / root.samples;
    expect(trainTree(columns, y, ['a', 'b'], { maxDepth: 1, minSamplesLeaf: 5, ccpAlpha: alpha * 0.999 }).root.kind).toBe('split');
    expect(trainTree(columns, y, ['a', 'b'], { maxDepth: 1, minSamplesLeaf: 5, ccpAlpha: alpha * 1.001 }).root.kind).toBe('leaf');
  });

  it('normalizes importance to 1 and ranks the informative feature first', () => {
    const random = seededRandom(3);
    const n = 2000;
    const signal = Array.from({ length: n }, () => random() * 10);
    const weak = Array.from({ length: n }, () => random() * 10);
    const y = Int32Array.from(signal, (v, i) => (v + weak[i]! * 0.1 > 5 !== random() < 0.05 ? 1 : 0));
    const tree = trainTree([numeric('weak', weak), numeric('signal', signal)], y, ['a', 'b'], { maxDepth: 4, minSamplesLeaf: 10 });
    const total = tree.importance.reduce((s, v) => s + v, 0);
    expect(total).toBeCloseTo(1, 12);
    expect(tree.importance[1]!).toBeGreaterThan(tree.importance[0]!);
    expect(tree.importance[1]!).toBeGreaterThan(0.8);
  });

  it('breaks ties between equally good splits by the lower feature index', () => {
    const x = Array.from({ length: 40 }, (_, i) => i);
    const y = Int32Array.from(x, (v) => (v >= 20 ? 1 : 0));
    const tree = trainTree([numeric('a', x), numeric('b', x)], y, ['n', 'y'], { minSamplesLeaf: 1 });
    expect(tree.root).toMatchObject({ kind: 'split', feature: 0 });
    expect(trainTree([numeric('a', x), numeric('b', x)], y, ['n', 'y'], { minSamplesLeaf: 1 })).toEqual(tree);
  });

  it('trains on the given rows only and rejects bad labels', () => {
    const x = Array.from({ length: 100 }, (_, i) => i);
    const y = Int32Array.from(x, (v) => (v % 2 === 0 ? 0 : 1));
    const evens = Int32Array.from({ length: 50 }, (_, i) => 2 * i);
    const tree = trainTree([numeric('x', x)], y, ['even', 'odd'], {}, evens);
    expect(tree.root).toMatchObject({ kind: 'leaf', samples: 50, counts: [50, 0] });
    expect(() => trainTree([numeric('x', x)], y, ['only'])).toThrow(RangeError);
    expect(() => trainTree([numeric('x', [1, 2])], y, ['even', 'odd'])).toThrow(RangeError);
  });
});

describe('holdOutSplit', () => {
  const y = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));

  it('takes the test share from every class', () => {
    const { train, test } = holdOutSplit(y, 0.2, 7);
    expect(test.length).toBe(200);
    expect(train.length).toBe(800);
    expect(Array.from(test).filter((r) => y[r] === 1).length).toBe(60);
    const seen = new Set([...train, ...test]);
    expect(seen.size).toBe(1000);
    expect(Array.from(test)).toEqual(Array.from(test).sort((a, b) => a - b));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(holdOutSplit(y, 0.2, 7)).toEqual(holdOutSplit(y, 0.2, 7));
    expect(holdOutSplit(y, 0.2, 8).test).not.toEqual(holdOutSplit(y, 0.2, 7).test);
  });
});

describe('treeRules and ruleText', () => {
  const n = 400;
  const city = Int32Array.from({ length: n }, (_, i) => i % 4);
  const orders = Float64Array.from({ length: n }, (_, i) => Math.floor(i / 4) % 10);
  const y = Int32Array.from({ length: n }, (_, i) => (city[i] === 1 && orders[i]! >= 3 ? 1 : 0));
  const columns: FeatureColumn[] = [
    { name: 'city', kind: 'categorical', values: city, levels: ['北京', '上海', '广州', '深圳'] },
    { name: 'orders_90d', kind: 'numeric', values: orders },
  ];

  it('reads each leaf as a rule, largest first, in English and Chinese', () => {
    const rules = treeRules(trainTree(columns, y, ['other', 'high-value'], { minSamplesLeaf: 5 }));
    expect(rules.map((r) => r.samples)).toEqual([300, 70, 30]);
    expect(rules.map((r) => ruleText(r, 'en'))).toEqual([
      'city ≠ 上海 → 100% other',
      'city = 上海 and orders_90d ≥ 3 → 100% high-value',
      'city = 上海 and orders_90d < 3 → 100% other',
    ]);
    expect(ruleText(rules[1]!, 'zh-CN')).toBe('city = 上海 且 orders_90d ≥ 3 → 100% high-value');
    expect(rules[1]!.conditions).toEqual([
      { feature: 'city', op: 'eq', value: '上海', includesMissing: false },
      { feature: 'orders_90d', op: 'gte', value: 3, includesMissing: false },
    ]);
  });

  it('merges repeated splits on a feature into a range', () => {
    const x = Array.from({ length: 100 }, (_, i) => i % 10);
    const band = Int32Array.from(x, (v) => (v >= 3 && v < 7 ? 1 : 0));
    const rules = treeRules(trainTree([numeric('orders_90d', x)], band, ['no', 'yes'], { minSamplesLeaf: 1 }));
    const inBand = rules.find((r) => r.prediction === 'yes')!;
    expect(inBand.conditions).toEqual([{ feature: 'orders_90d', op: 'between', min: 3, max: 7, includesMissing: false }]);
    expect(ruleText(inBand, 'en')).toBe('3 ≤ orders_90d < 7 → 100% yes');
  });

  it('says where missing values go and rounds the confidence', () => {
    const rule: TreeRule = {
      conditions: [
        { feature: 'city', op: 'eq', value: '上海', includesMissing: false },
        { feature: 'spend', op: 'lt', value: 70.35000000000001, includesMissing: true },
      ],
      prediction: 'high-value',
      confidence: 0.8164,
      samples: 49,
    };
    expect(ruleText(rule, 'en')).toBe('city = 上海 and spend < 70.35 (or missing) → 82% high-value');
    expect(ruleText(rule, 'zh-CN')).toBe('city = 上海 且 spend < 70.35（或缺失） → 82% high-value');
    expect(ruleText({ conditions: [], prediction: 'No', confidence: 0.7346, samples: 10 }, 'zh-CN')).toBe('全部 → 73% No');
  });

  it('marks a condition as including missing values when training sent them that way', () => {
    const x = [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 30 }, () => NaN)];
    const y = Int32Array.from(x, (v) => (Number.isNaN(v) || v >= 50 ? 1 : 0));
    const rules = treeRules(trainTree([numeric('x', x)], y, ['a', 'b'], { minSamplesLeaf: 1 }));
    expect(rules.map((r) => ruleText(r, 'en'))).toEqual(['x ≥ 50 (or missing) → 100% b', 'x < 50 → 100% a']);
  });
});
