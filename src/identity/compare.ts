/**
 * String and date comparators for record matching. The matcher calls these
 * for millions of candidate pairs, so the similarity functions reuse
 * module-level scratch buffers instead of allocating per call (safe: they are
 * synchronous and never re-entered).
 */

let flagsA = new Uint8Array(64);
let flagsB = new Uint8Array(64);

function scratchFlags(la: number, lb: number): void {
  if (flagsA.length < la) flagsA = new Uint8Array(la * 2);
  if (flagsB.length < lb) flagsB = new Uint8Array(lb * 2);
  flagsA.fill(0, 0, la);
  flagsB.fill(0, 0, lb);
}

/** Jaro similarity in [0, 1]: 1 for equal strings, 0 when no character matches within the window. */
export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const range = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  if (la <= 32 && lb <= 32) return jaroShort(a, b, la, lb, range);
  scratchFlags(la, lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const c = a.charCodeAt(i);
    const hi = Math.min(lb - 1, i + range);
    for (let j = Math.max(0, i - range); j <= hi; j++) {
      if (flagsB[j] === 0 && b.charCodeAt(j) === c) {
        flagsA[i] = 1;
        flagsB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let halfTranspositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (flagsA[i] === 0) continue;
    while (flagsB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) halfTranspositions++;
    k++;
  }
  const m = matches;
  return (m / la + m / lb + (m - halfTranspositions / 2) / m) / 3;
}

/** Jaro for strings of at most 32 characters: the matched flags live in two integers, nothing is cleared or written to memory. */
function jaroShort(a: string, b: string, la: number, lb: number, range: number): number {
  let usedA = 0;
  let usedB = 0;
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const c = a.charCodeAt(i);
    const hi = Math.min(lb - 1, i + range);
    for (let j = Math.max(0, i - range); j <= hi; j++) {
      const bit = 1 << j;
      if ((usedB & bit) === 0 && b.charCodeAt(j) === c) {
        usedA |= 1 << i;
        usedB |= bit;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let halfTranspositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if ((usedA & (1 << i)) === 0) continue;
    while ((usedB & (1 << k)) === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) halfTranspositions++;
    k++;
  }
  const m = matches;
  return (m / la + m / lb + (m - halfTranspositions / 2) / m) / 3;
}

/**
 * Jaro–Winkler similarity (prefix scale 0.1, prefix up to 4 characters),
 * with Winkler's rule that only strings already similar (Jaro > 0.7) get
 * the prefix bonus: a shared first letter alone says little.
 */
export function jaroWinkler(a: string, b: string): number {
  const j = jaro(a, b);
  if (j <= 0.7) return j;
  const limit = Math.min(4, a.length, b.length);
  let prefix = 0;
  while (prefix < limit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return j + prefix * 0.1 * (1 - j);
}

let row0 = new Int32Array(32);
let row1 = new Int32Array(32);
let row2 = new Int32Array(32);

/**
 * Damerau–Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and transpositions of adjacent characters),
 * bounded: any distance above `max` is returned as `max + 1`, found without
 * filling the whole table, so the common "is it one typo?" question costs
 * about as much as comparing the strings.
 */
export function damerauLevenshtein(a: string, b: string, max = Number.MAX_SAFE_INTEGER): number {
  if (a === b) return 0;
  let la = a.length;
  let lb = b.length;
  // Shared ends never change the distance; trimming them leaves the part that differs.
  let start = 0;
  while (start < la && start < lb && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  while (la > start && lb > start && a.charCodeAt(la - 1) === b.charCodeAt(lb - 1)) {
    la--;
    lb--;
  }
  if (la - start > lb - start) return bandedDistance(b, a, start, lb, la, max);
  return bandedDistance(a, b, start, la, lb, max);
}

/** `s` is the shorter core: s[start, endS) against t[start, endT). */
function bandedDistance(s: string, t: string, start: number, endS: number, endT: number, max: number): number {
  const n = endS - start;
  const m = endT - start;
  const over = max + 1;
  if (m - n > max) return over;
  if (n === 0) return m;
  const band = Math.min(max, m);
  if (row0.length < m + 1) {
    row0 = new Int32Array((m + 1) * 2);
    row1 = new Int32Array((m + 1) * 2);
    row2 = new Int32Array((m + 1) * 2);
  }
  // Rows rotate: older holds i-2, prev i-1, cur i. Cells outside the band read as `over`.
  let older = row0;
  let prev = row1;
  let cur = row2;
  const first = Math.min(m, band + 1);
  for (let j = 0; j <= first; j++) prev[j] = j <= band ? j : over;
  for (let i = 1; i <= n; i++) {
    const lo = Math.max(1, i - band);
    const hi = Math.min(m, i + band);
    cur[lo - 1] = lo === 1 && i <= band ? i : over;
    let rowMin = cur[lo - 1]!;
    const si = s.charCodeAt(start + i - 1);
    const sPrev = i > 1 ? s.charCodeAt(start + i - 2) : -1;
    for (let j = lo; j <= hi; j++) {
      const tj = t.charCodeAt(start + j - 1);
      let v = prev[j - 1]! + (si === tj ? 0 : 1);
      const del = prev[j]! + 1;
      if (del < v) v = del;
      const ins = cur[j - 1]! + 1;
      if (ins < v) v = ins;
      if (j > 1 && si === t.charCodeAt(start + j - 2) && sPrev === tj) {
        const tr = older[j - 2]! + 1;
        if (tr < v) v = tr;
      }
      if (v > over) v = over;
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (hi < m) cur[hi + 1] = over;
    if (rowMin > max) return over;
    const spare = older;
    older = prev;
    prev = cur;
    cur = spare;
  }
  const d = prev[m]!;
  return d > max ? over : d;
}

// ---------------------------------------------------------------------------
// Phonetic key

const COMBINING_MARKS = /[\u0300-\u036f]/g;

/** Lower-case ASCII letters only: diacritics dropped, everything else (spaces, apostrophes, hyphens) removed. */
export function foldLatin(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 127) {
      ascii = false;
      break;
    }
  }
  const base = ascii ? text.toLowerCase() : text.normalize('NFD').replace(COMBINING_MARKS, '').toLowerCase().replace(/ß/g, 'ss').replace(/æ/g, 'ae').replace(/ø/g, 'o').replace(/œ/g, 'oe').replace(/ł/g, 'l').replace(/đ/g, 'd');
  let clean = true;
  for (let i = 0; i < base.length; i++) {
    const c = base.charCodeAt(i);
    if (c < 97 || c > 122) {
      clean = false;
      break;
    }
  }
  return clean ? base : base.replace(/[^a-z]/g, '');
}

// Consonant classes as in Soundex (sounds people confuse when spelling a name they heard).
const CLASS: Record<string, string> = {
  b: '1', p: '1', f: '1', v: '1',
  c: '2', g: '2', j: '2', k: '2', q: '2', s: '2', x: '2', z: '2',
  d: '3', t: '3',
  l: '4',
  m: '5', n: '5',
  r: '6',
};

// Spellings of one sound, rewritten before coding (NYSIIS-style), longest first.
const PREFIXES: readonly [string, string][] = [['mac', 'mc'], ['kn', 'n'], ['gn', 'n'], ['pn', 'n'], ['wr', 'r'], ['ps', 's'], ['pf', 'f'], ['wh', 'w'], ['x', 's'], ['ph', 'f']];
const INNER: readonly [RegExp, string][] = [[/sch/g, 'sk'], [/ph/g, 'f'], [/ck/g, 'k'], [/gh(?=[^aeiouy]|$)/g, ''], [/dg/g, 'j'], [/tch/g, 'ch'], [/c(?=[eiy])/g, 's']];

/**
 * A phonetic key for a Latin-script name (Han names: pass their pinyin):
 * Soundex's consonant classes after NYSIIS-like rewrites of spellings of
 * one sound (`ph` → `f`, `kn` → `n`, soft `c` → `s`), with the first letter
 * kept as a letter but c/k/q (and vowels) unified, so Catherine and
 * Katherine, Smith and Smyth, Robert and Rupert share a key. At most four
 * consonant codes after the first letter. Empty for text with no letters.
 */
export function phoneticKey(name: string): string {
  let s = foldLatin(name);
  if (s === '') return '';
  for (const [from, to] of PREFIXES) {
    if (s.startsWith(from)) {
      s = to + s.slice(from.length);
      break;
    }
  }
  for (const [pattern, to] of INNER) s = s.replace(pattern, to);
  if (s === '') return '';
  const head = s.charAt(0);
  let key = 'aeiouy'.includes(head) ? 'A' : head === 'k' || head === 'q' ? 'C' : head.toUpperCase();
  let last = CLASS[head] ?? '';
  for (let i = 1; i < s.length && key.length < 5; i++) {
    const ch = s.charAt(i);
    const code = CLASS[ch];
    if (code === undefined) {
      // Vowels separate two equal codes (Soundex: "Tymczak"); h and w do not.
      if (ch !== 'h' && ch !== 'w') last = '';
      continue;
    }
    if (code !== last) key += code;
    last = code;
  }
  return key;
}

// ---------------------------------------------------------------------------
// Dates

/** How two birth dates agree, strongest first. */
export type DateLevel = 'exact' | 'day-month-swapped' | 'one-edit' | 'one-component' | 'different';

/** The digits of a date (`1990-05-03` → `19900503`); text that is digits already is returned as it is. */
export function dateDigits(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return text.replace(/\D/g, '');
  }
  return text;
}

/** Year, month and day of an 8-digit YYYYMMDD string packed as y*10000+m*100+d, or -1 when it is not a plausible date. */
export function datePartsOf(digits: string): number {
  if (digits.length !== 8) return -1;
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const c = digits.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  const month = Math.floor(v / 100) % 100;
  const day = v % 100;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 ? v : -1;
}

/**
 * Compare two dates given as YYYY-MM-DD or as digits (corrupted dates that
 * do not parse are still compared as strings: one typo is one edit).
 * `one-edit` covers a mistyped or swapped digit, `one-component` a wrong
 * year, month or day with the other two equal (a year off by one included).
 * Pass digits to stay allocation-free.
 */
export function compareDates(a: string, b: string): DateLevel {
  const da = dateDigits(a);
  const db = dateDigits(b);
  if (da === db) return 'exact';
  const pa = datePartsOf(da);
  const pb = datePartsOf(db);
  const valid = pa >= 0 && pb >= 0;
  const ya = Math.floor(pa / 10000);
  const ma = Math.floor(pa / 100) % 100;
  const dda = pa % 100;
  const yb = Math.floor(pb / 10000);
  const mb = Math.floor(pb / 100) % 100;
  const ddb = pb % 100;
  if (valid && ya === yb && ma === ddb && dda === mb) return 'day-month-swapped';
  if (damerauLevenshtein(da, db, 1) <= 1) return 'one-edit';
  if (valid && (ya === yb ? 1 : 0) + (ma === mb ? 1 : 0) + (dda === ddb ? 1 : 0) === 2) return 'one-component';
  return 'different';
}
