import { describe, expect, it } from 'vitest';
import { cleanContext } from './settings.js';
import { cleanTraits, standardFieldOf } from './traits.js';

const now = new Date('2026-11-24T00:00:00Z');
const context = cleanContext({}, {}, now);

describe('standardFieldOf', () => {
  it.each([
    ['email', 'email'], ['Email', 'email'], ['e-mail', 'email'], ['mobile', 'phone'], ['phone_number', 'phone'], ['first_name', 'firstName'],
    ['FirstName', 'firstName'], ['surname', 'lastName'], ['date_of_birth', 'birthday'], ['DOB', 'birthday'], ['sex', 'gender'], ['zip', 'postalCode'],
    ['postal_code', 'postalCode'], ['id_number', 'nationalId'], ['state', 'province'], ['created_at', 'createdAt'], ['plan', undefined], ['tier', undefined],
  ])('%s → %s', (key, field) => {
    expect(standardFieldOf(key)).toBe(field);
  });
});

describe('cleanTraits', () => {
  it('standardizes every standard field and leaves the rest alone', () => {
    const out = cleanTraits(
      { email: ' Zhang@QQ.com ', phone: '138 0013 8000', name: '张 伟', birthday: '1990年3月5日', gender: '男', plan: 'gold', score: 7, tags: ['a'] },
      context,
    );
    expect(out.traits).toEqual({ email: 'zhang@qq.com', phone: '+8613800138000', name: '张伟', birthday: '1990-03-05', gender: 'male', plan: 'gold', score: 7, tags: ['a'] });
    expect(out.derived).toEqual({ firstName: '伟', lastName: '张', country: 'CN' });
    expect(out.observations.map((o) => [o.field, o.valid])).toEqual([['email', true], ['phone', true], ['name', true], ['birthday', true], ['gender', true]]);
    const email = out.lineage.find((e) => e.field === 'email');
    expect(email).toMatchObject({ kind: 'standardized', original: ' Zhang@QQ.com ', value: 'zhang@qq.com' });
    expect(email?.rules?.length).toBeGreaterThan(0);
  });

  it('refuses impossible values: left out of the traits, kept in the lineage with the issue', () => {
    const out = cleanTraits({ phone: '12345', birthday: '1990-02-30', email: 'nobody' }, context);
    expect(out.traits).toEqual({});
    expect(out.lineage.map((e) => [e.field, e.kind, e.original])).toEqual([
      ['phone', 'refused', '12345'],
      ['birthday', 'refused', '1990-02-30'],
      ['email', 'refused', 'nobody'],
    ]);
    expect(out.lineage.find((e) => e.field === 'birthday')?.issue).toBe('date.impossible');
    expect(out.observations.every((o) => !o.valid)).toBe(true);
  });

  it('treats empty values as absent, and lets null through to clear a trait', () => {
    const out = cleanTraits({ email: '   ', phone: null, name: '' }, context);
    expect(out.traits).toEqual({ phone: null });
    expect(out.lineage).toEqual([]);
    expect(out.observations).toEqual([]);
  });

  it('derives birthday and gender from a valid resident ID, never over a valid given value', () => {
    const derived = cleanTraits({ nationalId: '11010519491231002x' }, context);
    expect(derived.traits).toEqual({ nationalId: '11010519491231002X' });
    expect(derived.derived).toMatchObject({ birthday: '1949-12-31', gender: 'female' });
    expect(derived.lineage).toEqual(expect.arrayContaining([{ field: 'birthday', kind: 'derived', value: '1949-12-31', derivedFrom: 'nationalId' }]));

    const given = cleanTraits({ nationalId: '11010519491231002X', birthday: '1950-01-01', gender: 'F' }, context);
    expect(given.derived).toEqual({});
    expect(given.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'birthday', kind: 'flagged', flag: 'birthday.conflicts_national_id', suggestion: '1949-12-31' })]));

    const refused = cleanTraits({ nationalId: '11010519491231002X', birthday: 'soon' }, context);
    expect(refused.derived).toMatchObject({ birthday: '1949-12-31' });
  });

  it('uses the context: the source countries decide a national number, its date order an ambiguous date', () => {
    const us = cleanContext({}, { countries: ['US'], dateOrder: 'mdy' }, now);
    expect(cleanTraits({ phone: '(415) 555-2671', birthday: '03/05/1990' }, us).traits).toEqual({ phone: '+14155552671', birthday: '1990-03-05' });
    const eu = cleanContext({ countries: ['DE'] }, { dateOrder: 'dmy' }, now);
    expect(cleanTraits({ birthday: '03/05/1990' }, eu).traits).toEqual({ birthday: '1990-05-03' });
    const unknown = cleanTraits({ birthday: '03/05/1990' }, context);
    expect(unknown.traits).toEqual({});
    expect(unknown.lineage[0]).toMatchObject({ kind: 'refused', issue: 'date.ambiguous' });
  });

  it('structures an address and fills the flat place fields it implies', () => {
    const out = cleanTraits({ address: '上海市浦东新区世纪大道100号' }, context);
    expect(out.traits.address).toMatchObject({ country: 'CN', province: '上海市', city: '上海市', district: '浦东新区' });
    expect(out.derived).toMatchObject({ country: 'CN', province: '上海市', city: '上海市' });
    const us = cleanTraits({ address: { street: '123 main street', city: 'springfield', state: 'Illinois', postalCode: '62704' } }, context);
    expect(us.traits.address).toMatchObject({ street: '123 Main St', city: 'Springfield', state: 'IL', postalCode: '62704', country: 'US' });
  });

  it('keeps a place outside the tables as typed, flagged, rather than refusing it', () => {
    const out = cleanTraits({ province: 'Bavaria', country: 'Germany' }, context);
    expect(out.traits).toEqual({ province: 'Bavaria', country: 'DE' });
    expect(out.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'province', kind: 'flagged' })]));
  });

  it('cleans first and last name together and derives the full name', () => {
    const out = cleanTraits({ firstName: 'JOHN', lastName: 'MCDONALD' }, context);
    expect(out.traits).toEqual({ firstName: 'John', lastName: 'McDonald' });
    expect(out.derived).toEqual({ name: 'John McDonald' });
  });

  it('cleans every key a field is given under, so a bad second spelling cannot slip through', () => {
    const out = cleanTraits({ mobile: '139 0013 9000', phone: '12345', Email: 'A@B.CO' }, context);
    expect(out.traits).toEqual({ mobile: '+8613900139000', Email: 'a@b.co' });
    expect(out.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'phone', kind: 'refused', original: '12345' })]));
    // observed once per field: under the first key
    expect(out.observations).toEqual([{ field: 'phone', valid: true, value: '+8613900139000' }, { field: 'email', valid: true, value: 'a@b.co' }]);
  });

  it('keeps a trait named __proto__ as an own property', () => {
    const input = JSON.parse('{"__proto__": "x", "plan": "pro"}') as Record<string, unknown>;
    const out = cleanTraits(input, context);
    expect(Object.keys(out.traits)).toEqual(['__proto__', 'plan']);
    expect(Object.getPrototypeOf(out.traits)).toBe(Object.prototype);
  });

  it('checks age and createdAt', () => {
    expect(cleanTraits({ age: '35', createdAt: '2024-03-05 14:30' }, context).traits).toEqual({ age: 35, createdAt: '2024-03-05T14:30:00.000Z' });
    expect(cleanTraits({ age: 300 }, context).lineage[0]).toMatchObject({ kind: 'refused', issue: 'age.out_of_range' });
    expect(cleanTraits({ createdAt: 1700000000 }, context).traits).toEqual({ createdAt: '2023-11-14T22:13:20.000Z' });
    expect(cleanTraits({ createdAt: '1700000000123' }, context).traits).toEqual({ createdAt: '2023-11-14T22:13:20.123Z' });
    const dmy = cleanContext({}, { dateOrder: 'dmy' }, now);
    expect(cleanTraits({ createdAt: '03/05/2024 09:30' }, dmy).traits).toEqual({ createdAt: '2024-05-03T09:30:00.000Z' });
    expect(cleanTraits({ createdAt: '03/05/2024' }, context).lineage[0]).toMatchObject({ kind: 'refused', issue: 'date.ambiguous' });
  });
});
