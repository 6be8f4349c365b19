import { datePartsOf, phoneticKey } from './compare.js';
import type { NameColumn, PreparedRecords, ValueColumn } from './match-record.js';

/**
 * Candidate pairs: only records sharing a blocking key are compared. Each
 * key combines one or two fields, and there are many keys over different
 * fields, so that one missing or mistyped field cannot hide a true pair
 * (blocking on one field alone caps recall: recordlinkage's FEBRL tutorial,
 * blocking on given name only, can find at most ~65 % of the links).
 *
 * Memory stays bounded at millions of records: keys are 32-bit hashes in one
 * typed array, each key type is sorted in turn (radix sort) and its blocks
 * are walked in place; a pair sharing several keys is compared once, under
 * the first key type it shares (checked by comparing the earlier keys). Blocks
 * larger than a cap (a common name in a common year) are skipped: the other
 * keys still reach their true pairs, and one huge block would cost more
 * comparisons than everything else.
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

export const DEFAULT_MAX_BLOCK_SIZE = 120;

export interface BlockingOptions {
  /** only these records take part (ascending indexes); all when absent */
  members?: Int32Array;
  /** blocks of more records are skipped */
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
  /** per key type: blocks skipped for being larger than the cap */
  skippedBlocks: Record<BlockingKey, number>;
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
  const name = (value: string, k: number) => column.folded[k] || value;
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

/** The key of every (type, record), type-major: keys[t * n + i], 0 for none. */
export function blockingKeys(p: PreparedRecords, members?: Int32Array): Uint32Array {
  const n = p.size;
  const T = BLOCKING_KEYS.length;
  const keys = new Uint32Array(T * n);
  const given = nameParts(p.given);
  const family = nameParts(p.family);
  const full = perValue(p.fullName.values, (v, k) => hashText(p.fullName.folded[k] || v));
  // Halves of an id: one typo leaves one half intact. Short ids' halves say too little to block on.
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
  const postcode = hashes(p.postcode);
  const city = hashes(p.city);
  const state = hashes(p.state);
  const streetNumber = hashes(p.streetNumber);
  const streetPrefix = perValue(p.street.values, (v) => {
    const compact = v.replace(/[^\p{L}\p{N}]/gu, '');
    return compact.length >= 3 ? hashText(compact, 0, Math.min(5, compact.length)) : 0;
  });

  const each = members ?? null;
  const count = each === null ? n : each.length;
  for (let k = 0; k < count; k++) {
    const i = each === null ? k : each[k]!;
    const g = p.given.ids[i]!;
    const f = p.family.ids[i]!;
    const b = p.birth.ids[i]!;
    const gSound = of(given.sound, g);
    const fSound = of(family.sound, f);
    const gInitial = of(given.initial, g);
    const fInitial = of(family.initial, f);
    const birthHash = of(birth, b);
    const year = of(birthYear, b);
    const place = of(city, p.city.ids[i]!) || of(state, p.state.ids[i]!);
    const post = of(postcode, p.postcode.ids[i]!);
    const set = (type: number, value: number) => {
      if (value !== 0) keys[type * n + i] = value;
    };
    const nid = p.nationalId.ids[i]!;
    set(0, of(id, nid));
    set(1, of(idHead, nid));
    set(2, of(idTail, nid));
    const e = p.email.ids[i]!;
    set(3, of(email, e));
    set(4, of(emailLocal, e));
    set(5, of(phoneTail, p.phone.ids[i]!));
    if (fSound !== 0 && year !== 0) set(6, mix(6, fSound, year));
    // Unordered: given and family name written in each other's fields still meet.
    if (gSound !== 0 && fSound !== 0) set(7, mix(7, Math.min(gSound, fSound), Math.max(gSound, fSound)));
    set(8, of(full, p.fullName.ids[i]!));
    if (birthHash !== 0 && gInitial !== 0) set(9, mix(9, birthHash, gInitial));
    if (birthHash !== 0 && fInitial !== 0) set(10, mix(10, birthHash, fInitial));
    // Names play no part: reaches pairs whose names are both mistyped or swapped.
    const region = of(state, p.state.ids[i]!) || of(city, p.city.ids[i]!);
    if (birthHash !== 0 && region !== 0) set(11, mix(11, birthHash, region));
    const gPrefix = of(given.prefix, g);
    if (gPrefix !== 0 && post !== 0) set(12, mix(12, gPrefix, post));
    const fWhole = of(family.whole, f);
    if (fWhole !== 0 && gInitial !== 0 && place !== 0) set(13, mix(13, fWhole, gInitial, place));
    const number = of(streetNumber, p.streetNumber.ids[i]!);
    const street = of(streetPrefix, p.street.ids[i]!);
    if (number !== 0 && street !== 0) set(14, mix(14, number, street));
  }
  return keys;
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
 * Calls `visit(i, j)` (i < j) once for every candidate pair. Returns what
 * blocking did. Pairs are produced block by block, key type by key type.
 */
export function forEachCandidatePair(p: PreparedRecords, options: BlockingOptions, visit: (i: number, j: number) => void): BlockingStats {
  const n = p.size;
  const T = BLOCKING_KEYS.length;
  const cap = options.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE;
  const isNew = options.isNew;
  const keys = blockingKeys(p, options.members);
  const pairsByKey = Object.fromEntries(BLOCKING_KEYS.map((k) => [k, 0])) as Record<BlockingKey, number>;
  const skippedBlocks = Object.fromEntries(BLOCKING_KEYS.map((k) => [k, 0])) as Record<BlockingKey, number>;
  let pairs = 0;
  let totalKeys = 0;
  for (const k of keys) if (k !== 0) totalKeys++;
  let doneKeys = 0;
  const sortedKeys = new Uint32Array(n);
  const order = new Int32Array(n);
  for (let t = 0; t < T; t++) {
    let length = 0;
    const before = pairs;
    const base = t * n;
    for (let i = 0; i < n; i++) {
      const key = keys[base + i]!;
      if (key === 0) continue;
      sortedKeys[length] = key;
      order[length] = i;
      length++;
    }
    sortByKey(sortedKeys, order, length);
    let start = 0;
    while (start < length) {
      const key = sortedKeys[start]!;
      let end = start + 1;
      while (end < length && sortedKeys[end] === key) end++;
      const size = end - start;
      if (size > cap) {
        skippedBlocks[BLOCKING_KEYS[t]!]++;
        // Forget the key: later key types must not assume these pairs were compared.
        for (let q = start; q < end; q++) keys[base + order[q]!] = 0;
      } else if (size > 1) {
        let fresh = isNew === undefined;
        for (let q = start; q < end && !fresh; q++) fresh = isNew![order[q]!] === 1;
        if (fresh) pairs += visitBlock(keys, n, t, order, start, end, isNew, visit);
      }
      start = end;
    }
    pairsByKey[BLOCKING_KEYS[t]!] = pairs - before;
    doneKeys += length;
    options.onProgress?.(doneKeys, totalKeys);
  }
  return { pairs, pairsByKey, skippedBlocks };
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
      visit(i, j);
      pairs++;
    }
  }
  return pairs;
}
