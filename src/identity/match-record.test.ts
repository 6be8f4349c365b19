import { describe, expect, it } from 'vitest';
import { cleanContext } from '../clean/settings.js';
import { cleanTraits } from '../clean/traits.js';
import { matchRecordOf } from './match-record.js';
import { prepareRecords } from './prepared-records.js';

const context = cleanContext({}, {}, new Date('2026-11-24T00:00:00Z'));
const cleaned = (traits: Record<string, unknown>) => {
  const out = cleanTraits(traits, context);
  return { ...out.derived, ...out.traits };
};

describe('matchRecordOf', () => {
  it('reads a cleaned Chinese profile', () => {
    const traits = { name: '张伟', phone: '+8613800138000', email: 'zhang@qq.com', birthday: '1990-05-03', address: { country: 'CN', province: '上海市', city: '上海市', district: '浦东新区', street: '世纪大道100号' }, gender: 'male' };
    expect(matchRecordOf('p1', traits)).toEqual({
      id: 'p1', given: '伟', family: '张', phone: '+8613800138000', email: 'zhang@qq.com', birth: '1990-05-03', gender: 'male',
      country: 'CN', state: '上海市', city: '上海市', district: '浦东新区', street: '世纪大道', streetNumber: '100',
    });
  });

  it('reads a cleaned American profile, name parts before the split name', () => {
    const traits = { firstName: 'Bob', lastName: "O'Brien", name: "Bob O'Brien", address: { country: 'US', state: 'IL', city: 'Springfield', street: '123 N Main St Apt 4', postalCode: '62701' }, city: 'Springfield', state: 'IL', dob: '1985-02-03' };
    expect(matchRecordOf('p2', traits)).toEqual({
      id: 'p2', given: 'Bob', family: "O'Brien", birth: '1985-02-03', country: 'US', state: 'IL', city: 'Springfield', postcode: '62701',
      streetNumber: '123', street: 'N Main St', addressLine2: 'Apt 4',
    });
  });

  it('reduces e-mail to its matching key, with a domain slip fixed', () => {
    expect(matchRecordOf('p', cleaned({ email: 'Bob.O.Brien+news@GMAIL.com' })).email).toBe('bobobrien@gmail.com');
    expect(matchRecordOf('p', cleaned({ email: 'ruimingzhou97+shop@gmial.com' })).email).toBe('ruimingzhou97@gmail.com');
  });

  it('splits a name given only whole, and keeps one it cannot split whole', () => {
    expect(matchRecordOf('p', { name: 'Mary Smith' })).toMatchObject({ given: 'Mary', family: 'Smith' });
    expect(matchRecordOf('p', { name: 'Иван Петров' })).toMatchObject({ fullName: 'Иван Петров' });
  });

  it('knows the usual spellings of keys and social-security numbers', () => {
    expect(matchRecordOf('p', { first_name: 'Ann', Surname: 'Lee', zip: '10001', Province: 'NY', SSN: '123-45-6789', mobile: '+12125550101', sex: 'female' })).toEqual({
      id: 'p', given: 'Ann', family: 'Lee', postcode: '10001', state: 'NY', nationalId: '123-45-6789', phone: '+12125550101', gender: 'female',
    });
  });

  it('never throws on odd traits, and skips what is not usable text', () => {
    expect(matchRecordOf('p', { name: 42, email: {}, phone: null, birthday: ['1990-01-01'], address: [1, 2], city: '  ', gender: true, __proto__: 'x' })).toEqual({ id: 'p', birth: '1990-01-01' });
    expect(matchRecordOf('p', {})).toEqual({ id: 'p' });
  });
});

describe('prepareRecords', () => {
  it('normalizes once per distinct value, folds names to a–z and Han names to pinyin', () => {
    const p = prepareRecords([
      { id: 'a', given: 'José', family: 'García' },
      { id: 'b', given: 'jose', family: 'GARCIA' },
      { id: 'c', given: '伟', family: '张', city: '合肥市' },
      { id: 'd', given: 'Wei', family: 'Zhang', city: 'Hefei' },
    ]);
    expect(p.given.values).toEqual(['josé', 'jose', '伟', 'wei']);
    expect(p.given.folded).toEqual(['jose', 'jose', 'wei', 'wei']);
    expect(p.family.values).toEqual(['garcía', 'garcia', '张', 'zhang']);
    expect(p.family.folded).toEqual(['garcia', 'garcia', 'zhang', 'zhang']);
    expect(p.city.folded).toEqual(['hefei', 'hefei']);
    // Case is not a difference; the same text in another case shares one value.
    const q = prepareRecords([{ id: 'a', family: 'Garcia' }, { id: 'b', family: 'GARCIA' }]);
    expect(q.codes[1 * q.width + q.family.slot]).toBe(q.codes[0 * q.width + q.family.slot]);
  });

  it('shares an id between a nickname and its name', () => {
    const p = prepareRecords([{ id: 'a', given: 'Bob' }, { id: 'b', given: 'Robert J.' }, { id: 'c', given: 'Rob' }]);
    expect(new Set(p.given.canonical).size).toBe(1);
    expect(p.given.blockingForm).toEqual(['robert', 'robert', 'robert']);
  });
});
