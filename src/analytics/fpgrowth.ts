/**
 * Frequent itemsets and association rules for market-basket analysis:
 * FP-growth (Han, Pei & Yin 2000) over a prefix tree of the baskets, then
 * rules with one item on the right, the way R's arules `apriori` reports them.
 *
 * The thresholds follow arules (Borgelt's apriori inside it) so results can be
 * checked against it: an itemset is frequent when its basket count reaches
 * ceil(minSupport × n); a rule is kept when count(X ∪ {y}) / count(X) ≥
 * minConfidence − 1e-12; X may be empty, with count(∅) = n; lift is
 * confidence × n / count(y). One deliberate difference: arules takes the
 * ceiling of the floating-point product, so 0.07 of 100 baskets asks for 8
 * (7.000000000000001 rounds up); here the product is shrunk by a relative
 * 1e-12 first, so it asks for the 7 a user means. Whenever minSupport × n is
 * not within rounding noise of an integer, the two agree.
 *
 * Pure: typed arrays in, plain objects out, no I/O.
 */

/** Baskets as item indexes: a CSR layout (offsets length n+1, items), plus the item names. Duplicates within a basket count once. */
export interface Baskets {
  items: string[];
  offsets: Int32Array;
  members: Int32Array;
}

export interface FrequentItemset {
  /** item indexes, ascending */
  items: Int32Array;
  /** baskets holding every item of the set */
  count: number;
}

export interface FrequentItemsetOptions {
  /** share of baskets, in (0, 1] */
  minSupport: number;
  /** most items in a set; default 10, like arules */
  maxLength?: number;
}

export interface AssociationRule {
  /** item names, in code-unit order; empty for a rule {} ⇒ {y} */
  antecedent: string[];
  /** exactly one item name */
  consequent: string[];
  /** share of baskets holding antecedent and consequent */
  support: number;
  /** count(antecedent ∪ consequent) / count(antecedent) */
  confidence: number;
  /** confidence / support(consequent) */
  lift: number;
  /**
   * (1 − support(consequent)) / (1 − confidence); null when confidence is 1,
   * where it is infinite: JSON has no Infinity and would turn it into null
   * anyway, so the type says so up front.
   */
  conviction: number | null;
  /** baskets holding antecedent and consequent */
  count: number;
}

export interface AssociationRuleOptions {
  minSupport: number;
  /** in [0, 1] */
  minConfidence: number;
  /** keep rules with lift ≥ this; default 0 (all) */
  minLift?: number;
  /** most items in a rule, both sides together; default 10 */
  maxLength?: number;
  /** keep only the first this many after sorting; default all */
  maxRules?: number;
  /** stop with a TooManyItemsets error past this many frequent itemsets; default no limit */
  maxItemsets?: number;
}

/** Mining stopped at `AssociationRuleOptions.maxItemsets`: the thresholds let too much through to hold in memory. */
export class TooManyItemsets extends RangeError {
  constructor(readonly limit: number) {
    super(`minSupport: more than ${limit} frequent itemsets; raise minSupport or lower maxLength`);
  }
}

export interface AssociationRuleResult {
  /** sorted by lift, then confidence, then support, all descending; then by text */
  rules: AssociationRule[];
  /** frequent itemsets found (non-empty, up to maxLength) */
  itemsets: number;
  baskets: number;
  /** rules that passed the thresholds, before maxRules cut the list */
  matched: number;
}

/** A rule on item indexes, before names are attached: what the recommender consumes. */
export interface IndexedRule {
  /** item indexes, ascending */
  antecedent: Int32Array;
  consequent: number;
  count: number;
  support: number;
  confidence: number;
  lift: number;
  conviction: number | null;
}

const DEFAULT_MAX_LENGTH = 10;
/** Relative slack on minSupport × n, far above double rounding (2⁻⁵²) and far below any real gap. */
const SUPPORT_SLACK = 1e-12;
/** Absolute slack on confidence and lift, as arules allows on confidence. */
const RATIO_SLACK = 1e-12;

/**
 * Codes baskets of item names. Item indexes follow the names' code-unit order,
 * so they do not depend on basket order; each basket's items come out
 * ascending and without duplicates. Names are kept exactly, spaces included.
 */
export function basketsFrom(lists: Iterable<readonly string[]>): Baskets {
  const all: (readonly string[])[] = [];
  const names = new Set<string>();
  for (const list of lists) {
    all.push(list);
    for (const name of list) names.add(name);
  }
  const items = [...names].sort(byCodeUnits);
  const index = new Map<string, number>();
  items.forEach((name, i) => index.set(name, i));
  const offsets = new Int32Array(all.length + 1);
  const scratch: number[] = [];
  const members: number[] = [];
  all.forEach((list, b) => {
    scratch.length = 0;
    for (const name of list) scratch.push(index.get(name)!);
    scratch.sort((x, y) => x - y);
    for (let i = 0; i < scratch.length; i++) if (i === 0 || scratch[i] !== scratch[i - 1]) members.push(scratch[i]!);
    offsets[b + 1] = members.length;
  });
  return { items, offsets, members: Int32Array.from(members) };
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkBaskets(b: Baskets): void {
  const { offsets, members, items } = b;
  if (!Array.isArray(items)) throw new TypeError('baskets.items must be an array of item names');
  if (!(offsets instanceof Int32Array) || offsets.length < 1 || offsets[0] !== 0) {
    throw new RangeError('baskets.offsets must be an Int32Array of length n + 1 starting at 0');
  }
  if (!(members instanceof Int32Array) || offsets[offsets.length - 1] !== members.length) {
    throw new RangeError(`baskets.offsets must end at members.length (${members.length}), got ${offsets[offsets.length - 1]}`);
  }
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i]! < offsets[i - 1]!) throw new RangeError(`baskets.offsets must not decrease (at ${i})`);
  }
  const m = items.length;
  for (let i = 0; i < members.length; i++) {
    const v = members[i]!;
    if (v < 0 || v >= m) throw new RangeError(`baskets.members[${i}] = ${v} is not an item index in [0, ${m})`);
  }
}

function checkSupport(value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new RangeError(`minSupport must be a number in (0, 1] (got ${String(value)})`);
  return value;
}

function checkMaxLength(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_LENGTH;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`maxLength must be an integer ≥ 1 (got ${String(value)})`);
  return value;
}

/** The basket count an itemset needs: ceil(minSupport × n), less rounding noise, and at least 1. */
export function minimumCount(minSupport: number, baskets: number): number {
  return Math.max(1, Math.ceil(minSupport * baskets * (1 - SUPPORT_SLACK)));
}

/**
 * An FP-tree in parallel typed arrays; node 0 is the root. Items are local
 * codes whose order is the tree's path order (smaller = nearer the root), so
 * a path read upwards comes out in descending code order.
 */
interface FpTree {
  item: Int32Array;
  count: Int32Array;
  parent: Int32Array;
  child: Int32Array;
  sibling: Int32Array;
  /** next node holding the same item */
  link: Int32Array;
  /** per local item: first node in its link chain, −1 when none */
  head: Int32Array;
  /** per local item: sum of its nodes' counts, the support of prefix ∪ item */
  support: Int32Array;
  size: number;
}

function newTree(capacity: number, items: number): FpTree {
  const tree: FpTree = {
    item: new Int32Array(capacity),
    count: new Int32Array(capacity),
    parent: new Int32Array(capacity),
    child: new Int32Array(capacity),
    sibling: new Int32Array(capacity),
    link: new Int32Array(capacity),
    head: new Int32Array(items),
    support: new Int32Array(items),
    size: 1,
  };
  resetTree(tree, capacity, items);
  return tree;
}

/** Empties a tree for reuse, growing its node arrays to at least `capacity`; `items` must not exceed its first size. */
function resetTree(tree: FpTree, capacity: number, items: number): void {
  if (tree.item.length < capacity) {
    const size = Math.max(capacity, 2 * tree.item.length);
    tree.item = new Int32Array(size);
    tree.count = new Int32Array(size);
    tree.parent = new Int32Array(size);
    tree.child = new Int32Array(size);
    tree.sibling = new Int32Array(size);
    tree.link = new Int32Array(size);
  }
  tree.head.fill(-1, 0, items);
  tree.support.fill(0, 0, items);
  tree.size = 1;
  tree.item[0] = -1;
  tree.parent[0] = -1;
  tree.child[0] = -1;
  tree.sibling[0] = -1;
}

/**
 * Buffers for one depth of the recursion. The conditional tree built at
 * depth d is mined to the end before depth d builds its next one, so one set
 * per depth serves the whole run, and the recursion allocates next to nothing.
 */
interface Level {
  tree: FpTree;
  /** local item → original item index */
  original: Int32Array;
  /** parent-tree item → count among the paths being gathered */
  conditional: Int32Array;
  /** parent-tree item → local code, −1 when dropped */
  local: Int32Array;
  path: Int32Array;
}

function insertPath(tree: FpTree, path: Int32Array, length: number, count: number): void {
  const { item, child, sibling } = tree;
  let node = 0;
  for (let i = 0; i < length; i++) {
    const it = path[i]!;
    let c = child[node]!;
    while (c !== -1 && item[c] !== it) c = sibling[c]!;
    if (c === -1) {
      c = tree.size++;
      item[c] = it;
      tree.count[c] = 0;
      tree.parent[c] = node;
      child[c] = -1;
      sibling[c] = child[node]!;
      child[node] = c;
      tree.link[c] = tree.head[it]!;
      tree.head[it] = c;
    }
    tree.count[c]! += count;
    tree.support[it]! += count;
    node = c;
  }
}

/**
 * Calls `emit` once per frequent itemset (the shared `buffer` holds its items
 * in the first `length` slots, unordered) with its basket count. The scaffolding
 * of frequentItemsets, kept separate so rule mining need not materialise sets
 * it only counts.
 */
function mine(b: Baskets, minCount: number, maxLength: number, emit: (buffer: Int32Array, length: number, count: number) => void): void {
  const { offsets, members, items } = b;
  const n = offsets.length - 1;
  const m = items.length;
  const frequency = new Int32Array(m);
  const seen = new Int32Array(m).fill(-1);
  for (let t = 0; t < n; t++) {
    for (let p = offsets[t]!; p < offsets[t + 1]!; p++) {
      const it = members[p]!;
      if (seen[it] === t) continue;
      seen[it] = t;
      frequency[it]!++;
    }
  }
  // Most frequent first, so baskets share long prefixes; ties by index keep it deterministic.
  const order: number[] = [];
  for (let i = 0; i < m; i++) if (frequency[i]! >= minCount) order.push(i);
  order.sort((x, y) => frequency[y]! - frequency[x]! || x - y);
  const f = order.length;
  if (f === 0) return;
  const rank = new Int32Array(m).fill(-1);
  order.forEach((it, r) => (rank[it] = r));
  const original = Int32Array.from(order);

  seen.fill(-1);
  let capacity = 1;
  for (let p = 0; p < members.length; p++) if (rank[members[p]!]! >= 0) capacity++;
  const tree = newTree(capacity, f);
  const path = new Int32Array(f);
  for (let t = 0; t < n; t++) {
    let length = 0;
    for (let p = offsets[t]!; p < offsets[t + 1]!; p++) {
      const it = members[p]!;
      const r = rank[it]!;
      if (r < 0 || seen[it] === t) continue;
      seen[it] = t;
      path[length++] = r;
    }
    if (length === 0) continue;
    path.subarray(0, length).sort();
    insertPath(tree, path, length, 1);
  }

  const depthCount = Math.min(maxLength, f);
  const levels: Level[] = [];
  for (let d = 0; d < depthCount; d++) {
    levels.push({ tree: d === 0 ? tree : newTree(64, f), original: d === 0 ? original : new Int32Array(f), conditional: new Int32Array(f), local: new Int32Array(f), path: new Int32Array(f) });
  }
  growth(levels, f, 0, new Int32Array(depthCount), minCount, maxLength, emit);
}

/**
 * FP-growth on one (conditional) tree, levels[depth]: for each item, least
 * frequent first, the prefix plus that item is frequent; the item's paths,
 * filtered to the items still frequent among them, form the next conditional
 * tree. Items keep their parent tree's order, which any fixed order allows,
 * and which spares a sort per tree.
 */
function growth(
  levels: Level[],
  items: number,
  depth: number,
  prefix: Int32Array,
  minCount: number,
  maxLength: number,
  emit: (buffer: Int32Array, length: number, count: number) => void,
): void {
  const { tree, original } = levels[depth]!;
  const { item, count, parent, link, head, support } = tree;
  const next = levels[depth + 1];
  for (let j = items - 1; j >= 0; j--) {
    const sup = support[j]!;
    if (sup < minCount) continue;
    prefix[depth] = original[j]!;
    emit(prefix, depth + 1, sup);
    if (next === undefined || depth + 1 >= maxLength || j === 0) continue;

    const { conditional, local, path } = next;
    conditional.fill(0, 0, j);
    let pathItems = 0;
    for (let node = head[j]!; node !== -1; node = link[node]!) {
      const c = count[node]!;
      for (let p = parent[node]!; p > 0; p = parent[p]!) {
        conditional[item[p]!]! += c;
        pathItems++;
      }
    }
    let kept = 0;
    for (let i = 0; i < j; i++) {
      if (conditional[i]! >= minCount) {
        next.original[kept] = original[i]!;
        local[i] = kept++;
      } else local[i] = -1;
    }
    if (kept === 0) continue;

    const sub = next.tree;
    resetTree(sub, pathItems + 1, kept);
    for (let node = head[j]!; node !== -1; node = link[node]!) {
      let length = 0;
      for (let p = parent[node]!; p > 0; p = parent[p]!) {
        const l = local[item[p]!]!;
        if (l >= 0) path[length++] = l;
      }
      if (length === 0) continue;
      path.subarray(0, length).reverse();
      insertPath(sub, path, length, count[node]!);
    }
    growth(levels, kept, depth + 1, prefix, minCount, maxLength, emit);
  }
}

/**
 * Every itemset whose basket count reaches minimumCount(minSupport, n), up to
 * maxLength items, each with its items ascending. Order: as FP-growth finds
 * them (deterministic for given input).
 */
export function frequentItemsets(b: Baskets, options: FrequentItemsetOptions): FrequentItemset[] {
  const minSupport = checkSupport(options?.minSupport);
  const maxLength = checkMaxLength(options.maxLength);
  checkBaskets(b);
  const n = b.offsets.length - 1;
  const out: FrequentItemset[] = [];
  if (n === 0) return out;
  mine(b, minimumCount(minSupport, n), maxLength, (buffer, length, count) => {
    out.push({ items: buffer.slice(0, length).sort(), count });
  });
  return out;
}

interface TrieNode {
  count: number;
  children: Map<number, TrieNode>;
}

/**
 * Rules X ⇒ {y} on item indexes from every frequent itemset X ∪ {y} (X may be
 * empty), unsorted, with the counts the thresholds need. For callers that
 * want no names, such as the recommender.
 */
export function mineRules(b: Baskets, options: AssociationRuleOptions): { rules: IndexedRule[]; itemsets: number; baskets: number } {
  const minSupport = checkSupport(options?.minSupport);
  const minConfidence = options.minConfidence;
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 1)) {
    throw new RangeError(`minConfidence must be a number in [0, 1] (got ${String(minConfidence)})`);
  }
  const minLift = options.minLift ?? 0;
  if (typeof minLift !== 'number' || !(minLift >= 0) || !Number.isFinite(minLift)) {
    throw new RangeError(`minLift must be a finite number ≥ 0 (got ${String(minLift)})`);
  }
  const maxLength = checkMaxLength(options.maxLength);
  if (options.maxRules !== undefined && (!Number.isInteger(options.maxRules) || options.maxRules < 0)) {
    throw new RangeError(`maxRules must be an integer ≥ 0 (got ${String(options.maxRules)})`);
  }
  checkBaskets(b);
  const n = b.offsets.length - 1;
  if (n === 0) return { rules: [], itemsets: 0, baskets: 0 };

  // Sets go into one flat list, items ascending, rather than an array per set: with
  // thousands of sets, small allocations were a third of the run.
  const flat: number[] = [];
  const ends: number[] = [];
  const setCounts: number[] = [];
  const sorted: number[] = [];
  // Every subset of a frequent set is frequent, so each antecedent's count is in this trie,
  // keyed by items ascending.
  const root: TrieNode = { count: n, children: new Map() };
  const maxItemsets = options.maxItemsets ?? Number.POSITIVE_INFINITY;
  mine(b, minimumCount(minSupport, n), maxLength, (buffer, length, count) => {
    if (ends.length >= maxItemsets) throw new TooManyItemsets(maxItemsets);
    sorted.length = 0;
    for (let i = 0; i < length; i++) {
      const v = buffer[i]!;
      let at = sorted.length;
      while (at > 0 && sorted[at - 1]! > v) at--;
      sorted.splice(at, 0, v);
    }
    let node = root;
    for (const it of sorted) {
      flat.push(it);
      let next = node.children.get(it);
      if (next === undefined) {
        next = { count: 0, children: new Map() };
        node.children.set(it, next);
      }
      node = next;
    }
    node.count = count;
    ends.push(flat.length);
    setCounts.push(count);
  });
  const single = new Float64Array(b.items.length);
  for (const [it, node] of root.children) single[it] = node.count;

  const rules: IndexedRule[] = [];
  for (let set = 0, start = 0; set < ends.length; start = ends[set++]!) {
    const end = ends[set]!;
    const k = end - start;
    const setCount = setCounts[set]!;
    for (let drop = start; drop < end; drop++) {
      let body = root;
      for (let i = start; i < end; i++) if (i !== drop) body = body.children.get(flat[i]!)!;
      const bodyCount = body.count;
      const confidence = setCount / bodyCount;
      if (confidence < minConfidence - RATIO_SLACK) continue;
      const y = flat[drop]!;
      const lift = (confidence * n) / single[y]!;
      if (lift < minLift - RATIO_SLACK) continue;
      const antecedent = new Int32Array(k - 1);
      for (let i = start, a = 0; i < end; i++) if (i !== drop) antecedent[a++] = flat[i]!;
      const conviction = setCount === bodyCount ? null : (1 - single[y]! / n) / (1 - confidence);
      rules.push({ antecedent, consequent: y, count: setCount, support: setCount / n, confidence, lift, conviction });
    }
  }
  return { rules, itemsets: ends.length, baskets: n };
}

/**
 * Association rules with one item on the right, as arules' apriori gives
 * them (see the module comment for the exact thresholds), sorted by lift,
 * confidence and support, all descending, then by antecedent names and
 * consequent name so equal rules always come out in the same order.
 */
export function associationRules(b: Baskets, options: AssociationRuleOptions): AssociationRuleResult {
  const mined = mineRules(b, options);
  const names = b.items;
  const named = mined.rules.map((r) => ({
    r,
    antecedent: Array.from(r.antecedent, (i) => names[i]!).sort(byCodeUnits),
    consequent: names[r.consequent]!,
  }));
  named.sort((p, q) => {
    const a = p.r;
    const c = q.r;
    if (a.lift !== c.lift) return c.lift - a.lift;
    if (a.confidence !== c.confidence) return c.confidence - a.confidence;
    if (a.support !== c.support) return c.support - a.support;
    const length = Math.min(p.antecedent.length, q.antecedent.length);
    for (let i = 0; i < length; i++) {
      const order = byCodeUnits(p.antecedent[i]!, q.antecedent[i]!);
      if (order !== 0) return order;
    }
    return p.antecedent.length - q.antecedent.length || byCodeUnits(p.consequent, q.consequent);
  });
  const limit = options.maxRules ?? named.length;
  const rules = named.slice(0, limit).map(({ r, antecedent, consequent }): AssociationRule => ({
    antecedent,
    consequent: [consequent],
    support: r.support,
    confidence: r.confidence,
    lift: r.lift,
    conviction: r.conviction,
    count: r.count,
  }));
  return { rules, itemsets: mined.itemsets, baskets: mined.baskets, matched: named.length };
}
