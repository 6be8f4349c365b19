import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDates, damerauLevenshtein, datePartsOf, foldLatin, jaro, jaroWinkler, phoneticKey } from './compare.js';

/** Optimal string alignment distance by the full table, to check the bounded, trimmed one against. */
function referenceDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Jaro–Winkler as the textbook writes it, with arrays of flags. */
function referenceJaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  const range = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const usedA = a.split('').map(() => false);
  const usedB = b.split('').map(() => false);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = Math.max(0, i - range); j <= Math.min(b.length - 1, i + range); j++) {
      if (!usedB[j] && a[i] === b[j]) {
        usedA[i] = usedB[j] = true;
        m++;
        break;
      }
    }
  }
  if (m === 0) return 0;
  const matchedA = a.split('').filter((_, i) => usedA[i]);
  const matchedB = b.split('').filter((_, j) => usedB[j]);
  const t = matchedA.filter((c, k) => c !== matchedB[k]).length / 2;
  const j = (m / a.length + m / b.length + (m - t) / m) / 3;
  if (j <= 0.7) return j;
  let prefix = 0;
  while (prefix < Math.min(4, a.length, b.length) && a[prefix] === b[prefix]) prefix++;
  return j + prefix * 0.1 * (1 - j);
}

describe('jaroWinkler', () => {
  it.each([
    ['MARTHA', 'MARHTA', 0.961],
    ['DWAYNE', 'DUANE', 0.84],
    ['DIXON', 'DICKSONX', 0.813],
    ['JELLYFISH', 'SMELLYFISH', 0.896],
  ])('%s / %s ≈ %f (Winkler 1990)', (a, b, expected) => {
    expect(jaroWinkler(a, b)).toBeCloseTo(expected, 3);
  });

  it('is 1 for equal strings and 0 for strings with nothing in common', () => {
    expect(jaroWinkler('smith', 'smith')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('', 'abc')).toBe(0);
  });

  it('gives no prefix bonus to strings that are not similar already', () => {
    expect(jaroWinkler('abxyz', 'abpqr')).toBe(jaro('abxyz', 'abpqr'));
  });

  it('matches a plain Jaro–Winkler on strings short (bit masks) and long (arrays)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 45, unit: fc.constantFrom('a', 'b', 'c', 'd', 'e') }), fc.string({ maxLength: 45, unit: fc.constantFrom('a', 'b', 'c', 'd', 'e') }), (a, b) => {
        expect(jaroWinkler(a, b)).toBeCloseTo(referenceJaroWinkler(a, b), 12);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('damerauLevenshtein', () => {
  it.each([
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
    ['abcdef', 'abdcef', 1],
    ['19560409', '19560490', 1],
    ['', 'abc', 3],
    ['same', 'same', 0],
  ])('%s → %s is %i', (a, b, expected) => {
    expect(damerauLevenshtein(a, b)).toBe(expected);
  });

  it('answers "more than max" as max + 1, early', () => {
    expect(damerauLevenshtein('kitten', 'sitting', 1)).toBe(2);
    expect(damerauLevenshtein('a', 'abcdefgh', 2)).toBe(3);
    expect(damerauLevenshtein('0412345678', '0412345687', 1)).toBe(1);
  });

  it('matches the full-table optimal string alignment distance, bounded or not', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'b', 'c', 'd') }), fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'b', 'c', 'd') }), fc.integer({ min: 0, max: 4 }), (a, b, max) => {
        const full = referenceDistance(a, b);
        expect(damerauLevenshtein(a, b)).toBe(full);
        expect(damerauLevenshtein(a, b, max)).toBe(full <= max ? full : max + 1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('phoneticKey', () => {
  it.each([
    ['Robert', 'Rupert'],
    ['Smith', 'Smyth'],
    ['Catherine', 'Katherine'],
    ['Philips', 'Filips'],
    ['Knight', 'Night'],
    ['Müller', 'Muller'],
    ['MacDonald', 'McDonald'],
    ['Cecilia', 'Sesilia'],
  ])('%s and %s share a key', (a, b) => {
    expect(phoneticKey(a)).toBe(phoneticKey(b));
    expect(phoneticKey(a)).not.toBe('');
  });

  it.each([
    ['Robert', 'Richard'],
    ['Smith', 'Jones'],
    ['Anna', 'Hanna'],
  ])('%s and %s do not', (a, b) => {
    expect(phoneticKey(a)).not.toBe(phoneticKey(b));
  });

  it('is short, and empty for text with no letters', () => {
    expect(phoneticKey('Wolfeschlegelsteinhausen').length).toBeLessThanOrEqual(5);
    expect(phoneticKey('123')).toBe('');
    expect(phoneticKey('')).toBe('');
  });

  it('encodes pinyin like any Latin name', () => {
    expect(phoneticKey('zhang')).toBe(phoneticKey('Zhang'));
  });
});

describe('foldLatin', () => {
  it('keeps a–z only, without diacritics', () => {
    expect(foldLatin("O'Brien")).toBe('obrien');
    expect(foldLatin('José-María')).toBe('josemaria');
    expect(foldLatin('Straße')).toBe('strasse');
    expect(foldLatin('张伟')).toBe('');
  });
});

describe('compareDates', () => {
  it.each([
    ['1990-05-03', '1990-05-03', 'exact'],
    ['1990-05-03', '19900503', 'exact'],
    ['1990-05-03', '1990-03-05', 'day-month-swapped'],
    ['1990-05-03', '1990-05-08', 'one-edit'],
    ['1990-05-13', '1990-05-31', 'one-edit'],
    ['1990-05-03', '1991-05-03', 'one-edit'],
    ['1989-05-03', '1990-05-03', 'one-component'],
    ['1990-05-03', '1990-11-03', 'one-component'],
    ['1990-05-03', '1971-12-25', 'different'],
    // FEBRL's corrupted dates do not parse; a typo in one is still one edit.
    ['19151131', '19151111', 'one-edit'],
    ['1915113', '19151131', 'one-edit'],
    ['19151131', '20010101', 'different'],
  ] as const)('%s / %s: %s', (a, b, level) => {
    expect(compareDates(a, b)).toBe(level);
    expect(compareDates(b, a)).toBe(level);
  });

  it('reads only plausible dates', () => {
    expect(datePartsOf('19900503')).toBe(19900503);
    expect(datePartsOf('19901303')).toBe(-1);
    expect(datePartsOf('1990050')).toBe(-1);
  });
});
