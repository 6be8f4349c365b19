import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { standardizeChinaResidentId, type ChinaResidentId } from './national-id.js';

/*
 * Check characters are computed here independently of the code under test:
 * GB 11643 derives the weights as 2^(17-i) mod 11 and picks the check value c
 * so that the weighted sum plus c is 1 mod 11 (ISO 7064 MOD 11-2), c = 10
 * written X.
 */
function check(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * (2 ** (17 - i) % 11);
  const c = (((1 - sum) % 11) + 11) % 11;
  return c === 10 ? 'X' : String(c);
}

function makeId(region: string, birth: string, sequence: string): string {
  const first17 = region + birth + sequence;
  return first17 + check(first17);
}

const NOW = new Date('2025-06-15T04:00:00Z');
const now = { now: NOW };

describe('the test helper agrees with hand-computed check characters', () => {
  // Sums worked by hand with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2:
  // 11010519491231002 → 167, 167 mod 11 = 2 → X;  44052418800101001 → 195, mod 11 = 8 → 4;
  // 13050319670401001 → 182, mod 11 = 6 → 6.
  it.each([
    ['11010519491231002', 'X'],
    ['44052418800101001', '4'],
    ['13050319670401001', '6'],
  ])('%s → %s', (first17, c) => expect(check(first17)).toBe(c));
});

describe('standardizeChinaResidentId: hand-checked numbers', () => {
  it.each<[string, ChinaResidentId, string[]]>([
    ['11010519491231002X', { id: '11010519491231002X', birthday: '1949-12-31', gender: 'female', regionCode: '110105', province: '北京市' }, []],
    ['11010519491231002x', { id: '11010519491231002X', birthday: '1949-12-31', gender: 'female', regionCode: '110105', province: '北京市' }, ['national_id.normalized']],
    ['440524188001010014', { id: '440524188001010014', birthday: '1880-01-01', gender: 'male', regionCode: '440524', province: '广东省' }, []],
    ['130503670401001', { id: '130503196704010016', birthday: '1967-04-01', gender: 'male', regionCode: '130503', province: '河北省' }, ['national_id.upgraded_15']],
    ['110105491231002', { id: '11010519491231002X', birthday: '1949-12-31', gender: 'female', regionCode: '110105', province: '北京市' }, ['national_id.upgraded_15']],
  ])('%s', (raw, value, rules) => {
    expect(standardizeChinaResidentId(raw, now)).toEqual({ ok: true, value, rules, flags: [] });
  });
});

// Real county-level codes from every province-level division, with the province the number must report.
const REGIONS: [code: string, province: string][] = [
  ['110105', '北京市'], ['110108', '北京市'], ['120101', '天津市'], ['130102', '河北省'], ['140105', '山西省'],
  ['150102', '内蒙古自治区'], ['210102', '辽宁省'], ['220102', '吉林省'], ['230103', '黑龙江省'], ['310104', '上海市'],
  ['310115', '上海市'], ['320106', '江苏省'], ['330106', '浙江省'], ['340104', '安徽省'], ['350102', '福建省'],
  ['360102', '江西省'], ['370102', '山东省'], ['410105', '河南省'], ['420106', '湖北省'], ['430104', '湖南省'],
  ['440106', '广东省'], ['440305', '广东省'], ['450103', '广西壮族自治区'], ['460105', '海南省'], ['500103', '重庆市'],
  ['510107', '四川省'], ['520102', '贵州省'], ['530102', '云南省'], ['540102', '西藏自治区'], ['610113', '陕西省'],
  ['620102', '甘肃省'], ['630102', '青海省'], ['640104', '宁夏回族自治区'], ['650102', '新疆维吾尔自治区'], ['710000', '台湾省'],
  ['810000', '香港特别行政区'], ['820000', '澳门特别行政区'], ['830000', '台湾省'],
];

const BIRTHS: [compact: string, iso: string][] = [
  ['19491001', '1949-10-01'],
  ['19800229', '1980-02-29'],
  ['19991231', '1999-12-31'],
  ['20000101', '2000-01-01'],
  ['20000229', '2000-02-29'],
  ['20250615', '2025-06-15'],
];

const SEQUENCES: [code: string, gender: 'male' | 'female'][] = [
  ['001', 'male'],
  ['002', 'female'],
  ['123', 'male'],
  ['998', 'female'],
];

describe('standardizeChinaResidentId: generated valid numbers', () => {
  const rows: [string, ChinaResidentId][] = [];
  for (const [region, province] of REGIONS) {
    for (const [i, [compact, iso]] of BIRTHS.entries()) {
      // Every birth date with two sequence codes per region keeps the table in the hundreds, not thousands.
      for (const [sequence, gender] of [SEQUENCES[i % 4], SEQUENCES[(i + 1) % 4]] as [string, 'male' | 'female'][]) {
        const id = makeId(region, compact, sequence);
        rows.push([id, { id, birthday: iso, gender, regionCode: region, province }]);
      }
    }
  }

  it.each(rows)('%s', (raw, value) => {
    expect(standardizeChinaResidentId(raw, now)).toEqual({ ok: true, value, rules: [], flags: [] });
  });

  it('generates X check characters among them', () => {
    expect(rows.some(([id]) => id.endsWith('X'))).toBe(true);
  });
});

describe('standardizeChinaResidentId: normalization', () => {
  const id = '11010519491231002X';
  it.each([
    '11010519491231002x',
    ' 11010519491231002X ',
    '110105 19491231 002X',
    '110105-19491231-002X',
    '110105—19491231—002x',
    '1101 0519 4912 3100 2X',
    '110105_19491231_002X',
    '１１０１０５１９４９１２３１００２Ｘ',
    '１１０１０５１９４９１２３１００２ｘ',
    '110105\u300019491231\u3000002X',
    '\t11010519491231002X\n',
  ])('%j', (raw) => {
    const result = standardizeChinaResidentId(raw, now);
    expect(result.ok && result.value.id).toBe(id);
    expect(result.ok && result.rules).toEqual(['national_id.normalized']);
  });

  it('upgrades a normalized 15-digit number with both rules', () => {
    const result = standardizeChinaResidentId('130503 670401 001', now);
    expect(result.ok && result.value.id).toBe('130503196704010016');
    expect(result.ok && result.rules).toEqual(['national_id.normalized', 'national_id.upgraded_15']);
  });

  it('reads a 15-digit number given as a JS number', () => {
    const result = standardizeChinaResidentId(130503670401001, now);
    expect(result.ok && result.value.id).toBe('130503196704010016');
  });
});

describe('standardizeChinaResidentId: 15-digit numbers', () => {
  const rows: [string, string, string, 'male' | 'female'][] = [];
  for (const [region] of REGIONS.slice(0, 34)) {
    for (const [yymmdd, iso] of [['450101', '1945-01-01'], ['681231', '1968-12-31'], ['840229', '1984-02-29']] as const) {
      for (const [sequence, gender] of [['015', 'male'], ['040', 'female']] as const) {
        const old = region + yymmdd + sequence;
        rows.push([old, makeId(region, `19${yymmdd}`, sequence), iso, gender]);
      }
    }
  }
  it.each(rows)('%s → %s', (old, id, birthday, gender) => {
    const result = standardizeChinaResidentId(old, now);
    expect(result.ok && result.value).toMatchObject({ id, birthday, gender, regionCode: old.slice(0, 6) });
    expect(result.ok && result.rules).toEqual(['national_id.upgraded_15']);
  });
});

describe('standardizeChinaResidentId: issues', () => {
  it.each([
    [null, 'national_id.empty'],
    [undefined, 'national_id.empty'],
    ['', 'national_id.empty'],
    ['   ', 'national_id.empty'],
    [' - ', 'national_id.empty'],
    ['1101051949123100', 'national_id.format'],
    ['11010519491231002', 'national_id.format'],
    ['11010519491231002X1', 'national_id.format'],
    ['1101051949123100200', 'national_id.format'],
    ['11010549123100', 'national_id.format'],
    ['1101054912310021', 'national_id.format'],
    ['11010549123100X', 'national_id.format'],
    ['1101051949123100XX', 'national_id.format'],
    ['X10105194912310020', 'national_id.format'],
    ['1101051949X2310020', 'national_id.format'],
    ['11010519491231002Y', 'national_id.format'],
    ['11010519491231002*', 'national_id.format'],
    ['11O10519491231002X', 'national_id.format'],
    ['E12345678', 'national_id.format'],
    ['H1234567890', 'national_id.format'],
    ['abc', 'national_id.format'],
    [110105194912310020, 'national_id.format'],
    [1.5, 'national_id.format'],
    [true, 'national_id.format'],
    [{}, 'national_id.format'],
    ['110105194912310021', 'national_id.checksum'],
    ['110105194912310029', 'national_id.checksum'],
    ['110105194912310020', 'national_id.checksum'],
    ['440524188001010015', 'national_id.checksum'],
    ['44052418800101001X', 'national_id.checksum'],
    ['440524188001010041', 'national_id.checksum'],
  ])('%j → %s', (raw, issue) => {
    const result = standardizeChinaResidentId(raw, now);
    expect(result.ok ? result.value : result.issue).toBe(issue);
  });

  it.each([
    // impossible dates
    ['19900230', 'national_id.birth_date'],
    ['19900231', 'national_id.birth_date'],
    ['19900431', 'national_id.birth_date'],
    ['19900631', 'national_id.birth_date'],
    ['19901131', 'national_id.birth_date'],
    ['19900229', 'national_id.birth_date'],
    ['19000229', 'national_id.birth_date'],
    ['21000229', 'national_id.birth_date'],
    ['19901301', 'national_id.birth_date'],
    ['19900001', 'national_id.birth_date'],
    ['19900100', 'national_id.birth_date'],
    ['19900132', 'national_id.birth_date'],
    ['00000000', 'national_id.birth_date'],
    ['00120101', 'national_id.birth_date'],
    // future (now is 2025-06-15 in Beijing)
    ['20250616', 'national_id.birth_date'],
    ['20251231', 'national_id.birth_date'],
    ['20300101', 'national_id.birth_date'],
    ['29991231', 'national_id.birth_date'],
    // more than 150 years before now
    ['18750614', 'national_id.birth_date'],
    ['18000101', 'national_id.birth_date'],
    ['10000101', 'national_id.birth_date'],
    // boundaries that stand
    ['18750615', 'ok'],
    ['20250615', 'ok'],
    ['19960229', 'ok'],
    ['20240229', 'ok'],
  ])('birth date %s → %s', (birth, expected) => {
    const result = standardizeChinaResidentId(makeId('310104', birth, '017'), now);
    expect(result.ok ? 'ok' : result.issue).toBe(expected);
  });

  it.each(['00', '10', '16', '20', '24', '30', '38', '40', '47', '49', '55', '60', '66', '70', '72', '80', '84', '90', '91', '99'])(
    'region %s0101 → national_id.region',
    (province) => {
      const result = standardizeChinaResidentId(makeId(`${province}0101`, '19880808', '088'), now);
      expect(result.ok ? result.value : result.issue).toBe('national_id.region');
    },
  );

  it('checks the region of upgraded 15-digit numbers too', () => {
    expect(standardizeChinaResidentId('990101880808081', now)).toMatchObject({ ok: false, issue: 'national_id.region' });
  });

  it('refuses a 15-digit number with an impossible date', () => {
    expect(standardizeChinaResidentId('110105870229001', now)).toMatchObject({ ok: false, issue: 'national_id.birth_date' });
  });

  it('takes "today" in Beijing time', () => {
    const id = makeId('110105', '20250615', '001');
    // 2025-06-14 17:00 UTC is already 01:00 on the 15th in Beijing.
    expect(standardizeChinaResidentId(id, { now: new Date('2025-06-14T17:00:00Z') }).ok).toBe(true);
    // 15:00 UTC is 23:00 on the 14th in Beijing: not born yet.
    expect(standardizeChinaResidentId(id, { now: new Date('2025-06-14T15:00:00Z') })).toMatchObject({ ok: false, issue: 'national_id.birth_date' });
  });

  it('refuses the 1880 sample number once it is more than 150 years old', () => {
    // Born 1880-01-01: exactly 150 years old on 2030-01-01 (Beijing) still stands, a day later does not.
    expect(standardizeChinaResidentId('440524188001010014', { now: new Date('2030-01-01T00:00:00Z') }).ok).toBe(true);
    expect(standardizeChinaResidentId('440524188001010014', { now: new Date('2030-01-02T00:00:00Z') })).toMatchObject({
      ok: false,
      issue: 'national_id.birth_date',
    });
  });

  it('never puts the number in the reason', () => {
    for (const raw of ['110105194912310021', '11010519900230001X', '990101198808080881', '1101051949123100']) {
      const result = standardizeChinaResidentId(raw, now);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).not.toContain(raw);
        expect(result.reason).not.toMatch(/\d{6}/);
      }
    }
  });

  // Every wrong check character of the generated numbers is caught.
  const wrong: [string][] = [];
  for (const [region] of REGIONS.slice(0, 12)) {
    const first17 = `${region}19870512${'056'}`;
    for (const c of '0123456789X') if (c !== check(first17)) wrong.push([first17 + c]);
  }
  it.each(wrong)('%s → national_id.checksum', (raw) => {
    expect(standardizeChinaResidentId(raw, now)).toMatchObject({ ok: false, issue: 'national_id.checksum' });
  });
});

describe('standardizeChinaResidentId: properties', () => {
  const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
  const valid = fc
    .tuple(
      fc.constantFrom(...REGIONS.map(([code]) => code)),
      fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2025-06-14T00:00:00Z'), noInvalidDate: true }),
      digits(3),
    )
    .map(([region, date, sequence]) => makeId(region, date.toISOString().slice(0, 10).replaceAll('-', ''), sequence));

  it('accepts every well-formed number and reads back what was put in', () => {
    fc.assert(
      fc.property(valid, (id) => {
        const result = standardizeChinaResidentId(id, now);
        expect(result.ok && result.value.id).toBe(id);
        expect(result.ok && result.value.birthday.replaceAll('-', '')).toBe(id.slice(6, 14));
        expect(result.ok && result.value.gender).toBe(Number(id[16]) % 2 === 1 ? 'male' : 'female');
      }),
    );
  });

  it('catches every single-character substitution', () => {
    fc.assert(
      fc.property(valid, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 10 }), (id, position, delta) => {
        const alphabet = position === 17 ? '0123456789X' : '0123456789';
        const current = alphabet.indexOf(id[position] ?? '');
        const replacement = alphabet[(current + delta) % alphabet.length] ?? '';
        fc.pre(replacement !== id[position]);
        const typo = id.slice(0, position) + replacement + id.slice(position + 1);
        expect(standardizeChinaResidentId(typo, now)).toMatchObject({ ok: false, issue: 'national_id.checksum' });
      }),
    );
  });

  it('catches swaps of two different adjacent digits', () => {
    fc.assert(
      fc.property(valid, fc.integer({ min: 0, max: 15 }), (id, position) => {
        fc.pre(id[position] !== id[position + 1]);
        const swapped = id.slice(0, position) + (id[position + 1] ?? '') + (id[position] ?? '') + id.slice(position + 2);
        expect(standardizeChinaResidentId(swapped, now)).toMatchObject({ ok: false, issue: 'national_id.checksum' });
      }),
    );
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        const result = standardizeChinaResidentId(text, now);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});
