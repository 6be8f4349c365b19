import { compareDates, damerauLevenshtein, jaroWinkler } from './compare.js';
import type { NameColumn, PlaceColumn, PreparedRecords, ValueColumn } from './prepared-records.js';

/**
 * The fields the matcher compares and the levels of agreement it tells
 * apart, strongest first: what each level means, how a pair of prepared
 * records is put on one, and the starting values for fitting.
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
  /** one of the fields members of a household share, whose summed weight is capped (fellegi-sunter.ts, `householdCap`) */
  household?: true;
  compare: (p: PreparedRecords) => Comparator;
}

const JW_HIGH = 0.92;
const JW_LOW = 0.8;

/**
 * Remembers the level of recently compared value pairs (by value index) in a
 * fixed direct-mapped table: candidate pairs meet the same common names,
 * streets and cities again and again, and a lookup costs far less than a
 * Jaro–Winkler. A collision only costs a recomputation.
 */
class LevelCache {
  private static readonly SIZE = 1 << 16;
  private readonly first = new Int32Array(LevelCache.SIZE).fill(-1);
  private readonly second = new Int32Array(LevelCache.SIZE);
  private readonly level = new Int8Array(LevelCache.SIZE);
  constructor(private readonly compute: (a: number, b: number) => number) {}
  get(x: number, y: number): number {
    const a = x < y ? x : y;
    const b = x < y ? y : x;
    const slot = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) >>> 16;
    if (this.first[slot] === a && this.second[slot] === b) return this.level[slot]!;
    const level = this.compute(a, b);
    this.first[slot] = a;
    this.second[slot] = b;
    this.level[slot] = level;
    return level;
  }
}

function similarity(values: string[], folded: string[], a: number, b: number): number {
  const fa = folded[a]!;
  const fb = folded[b]!;
  // Folding keeps a–z only: names in other scripts fold to nothing and are compared as written.
  return fa === '' || fb === '' ? jaroWinkler(values[a]!, values[b]!) : jaroWinkler(fa, fb);
}

/** Given and family names written in each other's fields (FEBRL's "swap" corruption, or family-first romanizations). */
function swappedNames(p: PreparedRecords, i: number, j: number): boolean {
  const { codes, width, given, family } = p;
  const gi = codes[i * width + given.slot]!;
  const gj = codes[j * width + given.slot]!;
  const fi = codes[i * width + family.slot]!;
  const fj = codes[j * width + family.slot]!;
  if (gi < 0 || gj < 0 || fi < 0 || fj < 0) return false;
  const a = given.folded[gi]!;
  const b = family.folded[fj]!;
  return a !== '' && a === b && family.folded[fi] === given.folded[gj];
}

// How two distinct name values agree, before the swap check (which looks at the other name field).
const NAME_PINYIN = 1;
const NAME_NICKNAME = 2;
const NAME_HIGH = 3;
const NAME_LOW = 4;
const NAME_DIFFERENT = 5;

function nameComparator(p: PreparedRecords, role: 'given' | 'family'): Comparator {
  const { codes, width } = p;
  const { slot, values, folded, canonical } = p[role];
  const cache = new LevelCache((a, b) => {
    const fa = folded[a]!;
    if (fa !== '' && fa === folded[b]) return NAME_PINYIN;
    const ca = canonical[a]!;
    if (ca >= 0 && ca === canonical[b]) return NAME_NICKNAME;
    const jw = similarity(values, folded, a, b);
    return jw >= JW_HIGH ? NAME_HIGH : jw >= JW_LOW ? NAME_LOW : NAME_DIFFERENT;
  });
  // given: exact, pinyin, nickname, jw≥0.92, swapped, jw≥0.80, different; family has no nickname level.
  const shift = role === 'given' ? 0 : -1;
  return (i, j) => {
    const a = codes[i * width + slot]!;
    const b = codes[j * width + slot]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    const base = cache.get(a, b);
    if (base <= NAME_HIGH) return base === NAME_PINYIN ? 1 : base + shift;
    if (swappedNames(p, i, j)) return 4 + shift;
    return base + 1 + shift;
  };
}

function fullNameComparator(p: PreparedRecords): Comparator {
  const { codes, width } = p;
  const { slot, values, folded } = p.fullName;
  const givenSlot = p.given.slot;
  const familySlot = p.family.slot;
  const cache = new LevelCache((a, b) => {
    const fa = folded[a]!;
    if (fa !== '' && fa === folded[b]) return 1;
    const jw = similarity(values, folded, a, b);
    return jw >= JW_HIGH ? 2 : jw >= JW_LOW ? 3 : 4;
  });
  return (i, j) => {
    // Split names are compared part by part; the whole name only speaks when a side could not be split.
    const ri = i * width;
    const rj = j * width;
    if ((codes[ri + givenSlot]! >= 0 || codes[ri + familySlot]! >= 0) && (codes[rj + givenSlot]! >= 0 || codes[rj + familySlot]! >= 0)) return -1;
    const a = codes[ri + slot]!;
    const b = codes[rj + slot]!;
    if (a < 0 || b < 0) return -1;
    return a === b ? 0 : cache.get(a, b);
  };
}

function exactComparator(p: PreparedRecords, column: ValueColumn): Comparator {
  const { codes, width } = p;
  const { slot, values } = column;
  return (i, j) => {
    const a = codes[i * width + slot]!;
    const b = codes[j * width + slot]!;
    if (a < 0 || b < 0) return -1;
    return a === b || values[a] === values[b] ? 0 : 1;
  };
}

function editComparator(p: PreparedRecords, column: ValueColumn): Comparator {
  const { codes, width } = p;
  const { slot, values } = column;
  return (i, j) => {
    const a = codes[i * width + slot]!;
    const b = codes[j * width + slot]!;
    if (a < 0 || b < 0) return -1;
    const va = values[a]!;
    const vb = values[b]!;
    if (a === b || va === vb) return 0;
    return damerauLevenshtein(va, vb, 1) <= 1 ? 1 : 2;
  };
}

function textComparator(p: PreparedRecords, column: ValueColumn): Comparator {
  const { codes, width } = p;
  const { slot, values } = column;
  const cache = new LevelCache((a, b) => {
    const jw = jaroWinkler(values[a]!, values[b]!);
    return jw >= JW_HIGH ? 1 : jw >= JW_LOW ? 2 : 3;
  });
  return (i, j) => {
    const a = codes[i * width + slot]!;
    const b = codes[j * width + slot]!;
    if (a < 0 || b < 0) return -1;
    return a === b ? 0 : cache.get(a, b);
  };
}

const DATE_LEVEL_INDEX = { exact: 0, 'day-month-swapped': 1, 'one-edit': 2, 'one-component': 3, different: 4 } as const;

function birthComparator(p: PreparedRecords): Comparator {
  const { codes, width } = p;
  const { slot, values } = p.birth;
  return (i, j) => {
    const a = codes[i * width + slot]!;
    const b = codes[j * width + slot]!;
    if (a < 0 || b < 0) return -1;
    if (a === b) return 0;
    return DATE_LEVEL_INDEX[compareDates(values[a]!, values[b]!)];
  };
}

/** Places agree when their folded forms do (合肥市 = Hefei); otherwise by similarity of those forms, or by one edit. */
function placeComparator(p: PreparedRecords, column: PlaceColumn, by: 'similarity' | 'edit'): Comparator {
  const { codes, width } = p;
  const { slot, values, folded } = column;
  const cache = new LevelCache((a, b) => {
    const fa = folded[a]!;
    const fb = folded[b]!;
    if (fa !== '' && fa === fb) return 0;
    const x = fa === '' || fb === '' ? values[a]! : fa;
    const y = fa === '' || fb === '' ? values[b]! : fb;
    if (by === 'edit') return damerauLevenshtein(x, y, 1) <= 1 ? 1 : 2;
    const jw = jaroWinkler(x, y);
    return jw >= JW_HIGH ? 1 : jw >= JW_LOW ? 2 : 3;
  });
  return (i, j) => {
    const a = codes[i * width + slot]!;
    const b = codes[j * width + slot]!;
    if (a < 0 || b < 0) return -1;
    return a === b ? 0 : cache.get(a, b);
  };
}

const JW_LEVELS = ['exact', 'jw≥0.92', 'jw≥0.80', 'different'] as const;
const EDIT_LEVELS = ['exact', 'one-edit', 'different'] as const;
const EXACT_LEVELS = ['exact', 'different'] as const;

/**
 * The compared fields. Order does not matter for the weight; the scorer
 * reorders them to prune early.
 *
 * Fields marked `household` are what the members of one household share:
 * the family name, a landline, the address in all its parts. They are far
 * from independent (one street number, street, city and postcode are one
 * fact), and people sharing them are often different people: spouses,
 * children, twins. Their summed weight is capped (see `householdCap`), so
 * the personal fields (given name, birth date, e-mail, id) decide.
 */
export const FIELD_SPECS: readonly FieldSpec[] = [
  {
    name: 'given',
    levels: ['exact', 'pinyin', 'nickname', 'jw≥0.92', 'swapped', 'jw≥0.80', 'different'],
    m0: [0.75, 0.02, 0.02, 0.08, 0.01, 0.04, 0.08],
    u0: [5e-3, 1e-4, 5e-4, 1e-3, 1e-5, 5e-3],
    tf: (p) => p.given,
    compare: (p) => nameComparator(p, 'given'),
  },
  {
    name: 'family',
    household: true,
    levels: ['exact', 'pinyin', 'jw≥0.92', 'swapped', 'jw≥0.80', 'different'],
    m0: [0.75, 0.02, 0.08, 0.01, 0.04, 0.1],
    u0: [3e-3, 1e-4, 1e-3, 1e-5, 3e-3],
    tf: (p) => p.family,
    compare: (p) => nameComparator(p, 'family'),
  },
  {
    name: 'fullName',
    levels: ['exact', 'pinyin', 'jw≥0.92', 'jw≥0.80', 'different'],
    m0: [0.75, 0.05, 0.08, 0.04, 0.08],
    u0: [1e-4, 1e-5, 5e-4, 3e-3],
    tf: (p) => p.fullName,
    compare: fullNameComparator,
  },
  {
    name: 'birth',
    levels: ['exact', 'day-month-swapped', 'one-edit', 'one-component', 'different'],
    m0: [0.85, 0.01, 0.06, 0.03, 0.05],
    u0: [5e-5, 2e-6, 5e-4, 2e-3],
    tf: (p) => p.birth,
    compare: birthComparator,
  },
  { name: 'gender', levels: EXACT_LEVELS, m0: [0.95, 0.05], u0: [0.5], compare: (p) => exactComparator(p, p.gender) },
  // Exact only: addresses are made from names (yang_yake@qq.com and @foxmail.com, michelle_wright@ and michellewright@),
  // so for namesakes a shared local part or a one-character difference only repeats what the names said.
  { name: 'email', levels: EXACT_LEVELS, m0: [0.8, 0.2], u0: [1e-7], tf: (p) => p.email, compare: (p) => exactComparator(p, p.email) },
  { name: 'phone', levels: EDIT_LEVELS, m0: [0.7, 0.05, 0.25], u0: [1e-7, 5e-6], tf: (p) => p.phone, compare: (p) => editComparator(p, p.phone) },
  { name: 'nationalId', levels: EDIT_LEVELS, m0: [0.85, 0.07, 0.08], u0: [1e-7, 5e-6], tf: (p) => p.nationalId, compare: (p) => editComparator(p, p.nationalId) },
  { name: 'streetNumber', household: true, levels: EDIT_LEVELS, m0: [0.8, 0.08, 0.12], u0: [0.02, 0.2], compare: (p) => editComparator(p, p.streetNumber) },
  { name: 'street', household: true, levels: JW_LEVELS, m0: [0.7, 0.1, 0.05, 0.15], u0: [1e-3, 5e-4, 0.01], tf: (p) => p.street, compare: (p) => textComparator(p, p.street) },
  { name: 'addressLine2', household: true, levels: JW_LEVELS, m0: [0.7, 0.1, 0.05, 0.15], u0: [1e-3, 5e-4, 0.01], compare: (p) => textComparator(p, p.addressLine2) },
  { name: 'city', household: true, levels: JW_LEVELS, m0: [0.75, 0.08, 0.05, 0.12], u0: [0.01, 1e-3, 5e-3], tf: (p) => p.city, compare: (p) => placeComparator(p, p.city, 'similarity') },
  { name: 'district', household: true, levels: JW_LEVELS, m0: [0.8, 0.05, 0.03, 0.12], u0: [0.02, 2e-3, 5e-3], compare: (p) => placeComparator(p, p.district, 'similarity') },
  { name: 'postcode', household: true, levels: EDIT_LEVELS, m0: [0.8, 0.08, 0.12], u0: [1e-3, 0.01], tf: (p) => p.postcode, compare: (p) => editComparator(p, p.postcode) },
  { name: 'state', household: true, levels: EDIT_LEVELS, m0: [0.85, 0.05, 0.1], u0: [0.1, 0.02], compare: (p) => placeComparator(p, p.state, 'edit') },
  { name: 'country', household: true, levels: EXACT_LEVELS, m0: [0.95, 0.05], u0: [0.8], compare: (p) => exactComparator(p, p.country) },
];

/** The prior u of every level of a field, "different" included. */
export function priorU(spec: FieldSpec): number[] {
  const rest = 1 - spec.u0.reduce((a, b) => a + b, 0);
  return [...spec.u0, rest];
}
