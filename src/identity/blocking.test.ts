import { describe, expect, it } from 'vitest';
import { BLOCKING_KEYS, blockingIndex, forEachCandidatePair, forEachPairSharingKey } from './blocking.js';
import type { MatchRecord } from './match-record.js';
import { prepareRecords } from './prepared-records.js';

function candidates(records: MatchRecord[], options: Parameters<typeof forEachCandidatePair>[1] = {}): Set<string> {
  const out = new Set<string>();
  const stats = forEachCandidatePair(prepareRecords(records), options, (i, j) => {
    expect(i).toBeLessThan(j);
    const key = `${records[i]!.id}-${records[j]!.id}`;
    expect(out.has(key)).toBe(false);
    out.add(key);
  });
  expect(stats.pairs).toBe(out.size);
  return out;
}

describe('blocking', () => {
  const person: MatchRecord = { id: 'a', given: 'Catherine', family: 'Morrison', birth: '1971-03-08', postcode: '2615', city: 'Belconnen', state: 'ACT', street: 'Kingsford Smith Drive', streetNumber: '14', nationalId: '4180920', email: 'cmorrison@example.com', phone: '+61412345678' };

  it('brings a record and its copy together when any one or two fields are mistyped or missing', () => {
    const variants: MatchRecord[] = [
      { ...person, id: 'b', given: 'Katherine', family: 'Morisson', nationalId: '4180902', email: undefined, phone: undefined },
      { ...person, id: 'c', given: 'Morrison', family: 'Catherine', birth: '1971-08-03', nationalId: undefined, email: undefined, phone: undefined },
      { ...person, id: 'd', birth: undefined, nationalId: undefined, email: undefined, phone: '+61412345679', postcode: '2614' },
      { ...person, id: 'e', given: 'Kate', family: 'Morrison', birth: '1971-03-08', nationalId: undefined, email: undefined, phone: undefined, street: undefined },
    ];
    for (const v of variants) expect(candidates([person, v, { id: 'z', given: 'Zed', family: 'Other' }])).toContain(`a-${v.id}`);
  });

  it('does not pair records that share nothing', () => {
    expect(candidates([person, { id: 'x', given: 'Otto', family: 'Lang', birth: '1990-01-01', city: 'Perth' }]).size).toBe(0);
  });

  it('splits a block over the cap by a further attribute, and counts each pair once', () => {
    // 300 people of one common name: one block too large, split by birth year into blocks of 10.
    const records: MatchRecord[] = Array.from({ length: 300 }, (_, i) => ({ id: String(i), given: 'Wei', family: 'Wang', birth: `${1950 + (i % 30)}-0${1 + (i % 9)}-1${i % 10}` }));
    const pairs = candidates(records, { maxBlockSize: 20 });
    expect(pairs.size).toBeGreaterThan(0);
    expect(pairs.size).toBeLessThan((300 * 299) / 2 / 10);
    for (const key of pairs) {
      const [a, b] = key.split('-').map(Number) as [number, number];
      expect(records[a]!.birth!.slice(0, 4)).toBe(records[b]!.birth!.slice(0, 4));
    }
  });

  it('keeps a key per record and type in one typed array', () => {
    const prepared = prepareRecords([person, { ...person, id: 'b' }]);
    const index = blockingIndex(prepared);
    expect(index.keys).toHaveLength(BLOCKING_KEYS.length * 2);
    let shared = 0;
    forEachPairSharingKey(prepared, 'nationalId', { index }, () => shared++);
    expect(shared).toBe(1);
  });

  it('produces only pairs with a new record in incremental runs', () => {
    const records = [person, { ...person, id: 'b' }, { ...person, id: 'c' }];
    const isNew = Uint8Array.from([0, 0, 1]);
    expect([...candidates(records, { isNew })].sort()).toEqual(['a-c', 'b-c']);
  });
});
