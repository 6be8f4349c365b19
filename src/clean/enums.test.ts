import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { standardizeBoolean, standardizeGender, standardizeNumber, type Gender } from './enums.js';

describe('standardizeGender', () => {
  const male: unknown[] = [
    '男', '男性', '男士', '男生', '男子', '男的', '男孩', '先生', ' 男 ', '男 性', '男\t', '\u3000男\u3000',
    'M', 'm', 'M.', 'Ｍ', 'ｍ', 'male', 'Male', 'MALE', ' male ', 'ｍａｌｅ', 'Ｍａｌｅ', 'MaLe',
    'man', 'Man', 'MAN', 'boy', 'Boy', 'mr', 'Mr', 'Mr.', 'MR.', 'sir', 'Sir', 'gentleman', 'Gentleman', 'masculine', '♂',
    1, '1', '１', ' 1 ',
  ];
  const female: unknown[] = [
    '女', '女性', '女士', '女生', '女子', '女的', '女孩', '小姐', '太太', '夫人', ' 女', '女 性', '\u3000女',
    'F', 'f', 'F.', 'Ｆ', 'ｆ', 'female', 'Female', 'FEMALE', 'ｆｅｍａｌｅ', ' female\n',
    'woman', 'Woman', 'WOMAN', 'girl', 'Girl', 'lady', 'Lady', 'w', 'W', 'Ｗ', 'mrs', 'Mrs', 'Mrs.', 'ms', 'Ms.', 'miss', 'Miss',
    'madam', 'Madam', 'feminine', '♀',
    2, '2', '２',
  ];
  const other: unknown[] = [
    '其他', '其它', '其他性别', '非二元', 'other', 'Other', 'OTHER', 'others', 'O', 'o',
    'non-binary', 'Non-Binary', 'nonbinary', 'Non binary', 'non_binary', 'NON-BINARY', 'nb', 'NB', 'N.B.', 'enby',
    'x', 'X', 'Ｘ', 'diverse', 'Diverse', 'divers', 'd', 'D', 'genderqueer', 'Genderfluid', 'agender', 'third gender',
  ];
  const unknown: unknown[] = [
    '未知', '保密', '不详', '不明', '未说明', '未填', '未填写', '不愿透露', '不公开', '隐私', ' 保密 ',
    'unknown', 'Unknown', 'UNKNOWN', 'unk', 'UNK', 'U', 'u', 'Ｕ', 'not known', 'unspecified', 'Not specified', 'not stated',
    'undisclosed', 'withheld', 'declined', 'decline to state', 'prefer not to say', 'Prefer not to say', 'Prefer Not To Say',
    'prefer-not-to-say', 'prefer not to answer', 'prefer not to disclose', 'rather not say',
    'n/a', 'N/A', 'NA', 'N.A.', 'not applicable', '-', '--', '—', '―', '?', '??', '*', '/', 9, '9',
  ];
  const table: [unknown, Gender][] = [
    ...male.map((v): [unknown, Gender] => [v, 'male']),
    ...female.map((v): [unknown, Gender] => [v, 'female']),
    ...other.map((v): [unknown, Gender] => [v, 'other']),
    ...unknown.map((v): [unknown, Gender] => [v, 'unknown']),
  ];

  it.each(table)('%j → %s', (raw, gender) => {
    const result = standardizeGender(raw);
    expect(result.ok && result.value).toBe(gender);
  });

  it.each([
    ['male', 'male', []],
    ['female', 'female', []],
    ['other', 'other', []],
    ['unknown', 'unknown', []],
    ['Male', 'male', ['gender.mapped']],
    ['男', 'male', ['gender.mapped']],
    ['保密', 'unknown', ['gender.mapped']],
    [' female', 'female', ['gender.mapped']],
    [1, 'male', ['gender.numeric_code']],
    ['2', 'female', ['gender.numeric_code']],
    ['9', 'unknown', ['gender.numeric_code']],
  ])('rules for %j', (raw, value, rules) => {
    expect(standardizeGender(raw)).toEqual({ ok: true, value, rules, flags: [] });
  });

  it.each([
    [null, 'gender.empty'],
    [undefined, 'gender.empty'],
    ['', 'gender.empty'],
    ['   ', 'gender.empty'],
    ['\u3000', 'gender.empty'],
    ['\t\n', 'gender.empty'],
    ['null', 'gender.empty'],
    ['NULL', 'gender.empty'],
    ['undefined', 'gender.empty'],
    ['nil', 'gender.empty'],
    ['#N/A', 'gender.empty'],
    [0, 'gender.unknown_value'],
    ['0', 'gender.unknown_value'],
    ['０', 'gender.unknown_value'],
    ['3', 'gender.unknown_value'],
    [3, 'gender.unknown_value'],
    ['1.5', 'gender.unknown_value'],
    ['1.0', 'gender.unknown_value'],
    ['-1', 'gender.unknown_value'],
    ['+2', 'gender.unknown_value'],
    ['M/F', 'gender.unknown_value'],
    ['男/女', 'gender.unknown_value'],
    ['男女', 'gender.unknown_value'],
    ['male female', 'gender.unknown_value'],
    ['maybe', 'gender.unknown_value'],
    ['yes', 'gender.unknown_value'],
    ['abc', 'gender.unknown_value'],
    ['人妖', 'gender.unknown_value'],
    ['mal', 'gender.unknown_value'],
    ['femal', 'gender.unknown_value'],
    ['males', 'gender.unknown_value'],
    ['公', 'gender.unknown_value'],
    [true, 'gender.unknown_value'],
    [false, 'gender.unknown_value'],
    [{}, 'gender.unknown_value'],
    [[], 'gender.unknown_value'],
    [Number.NaN, 'gender.unknown_value'],
  ])('%j → %s', (raw, issue) => {
    const result = standardizeGender(raw);
    expect(result.ok ? result.value : result.issue).toBe(issue);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });

  it('explains why 0 is refused', () => {
    const result = standardizeGender('0');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/depending on the source system/);
  });
});

describe('standardizeBoolean', () => {
  const truthy: unknown[] = [
    true, 1, '1', '１', 'true', 'True', 'TRUE', ' true ', 'ｔｒｕｅ', 't', 'T', 'yes', 'Yes', 'YES', 'y', 'Y', 'Ｙ', 'on', 'On', 'ON',
    'enabled', 'Enabled', 'checked', '✓', '✔', '√', '☑', '✅',
    '是', '是的', '对', '对的', '有', '真', '已', '开', '开启', '启用', '已开启', '已启用', ' 是 ', '\u3000是',
  ];
  const falsy: unknown[] = [
    false, 0, '0', '０', 'false', 'False', 'FALSE', ' false', 'f', 'F', 'no', 'No', 'NO', 'n', 'N', 'Ｎ', 'off', 'Off', 'OFF',
    'disabled', 'Disabled', 'unchecked', '✗', '✘', '×', '❌',
    '否', '不是', '错', '不', '非', '无', '没有', '假', '未', '关', '关闭', '停用', '已关闭', '未开启', ' 否 ',
  ];
  const table: [unknown, boolean][] = [...truthy.map((v): [unknown, boolean] => [v, true]), ...falsy.map((v): [unknown, boolean] => [v, false])];

  it.each(table)('%j → %s', (raw, value) => {
    const result = standardizeBoolean(raw);
    expect(result.ok && result.value).toBe(value);
    expect(result.ok && result.rules).toEqual(typeof raw === 'boolean' ? [] : ['boolean.mapped']);
  });

  it.each([
    [null, 'boolean.empty'],
    [undefined, 'boolean.empty'],
    ['', 'boolean.empty'],
    ['  ', 'boolean.empty'],
    ['null', 'boolean.empty'],
    ['NULL', 'boolean.empty'],
    ['-', 'boolean.empty'],
    ['—', 'boolean.empty'],
    ['?', 'boolean.empty'],
    ['n/a', 'boolean.empty'],
    ['N/A', 'boolean.empty'],
    ['not applicable', 'boolean.empty'],
    ['maybe', 'boolean.unknown_value'],
    ['也许', 'boolean.unknown_value'],
    ['2', 'boolean.unknown_value'],
    [2, 'boolean.unknown_value'],
    [-1, 'boolean.unknown_value'],
    ['1.0', 'boolean.unknown_value'],
    ['yes/no', 'boolean.unknown_value'],
    ['是否', 'boolean.unknown_value'],
    ['x', 'boolean.unknown_value'],
    ['yess', 'boolean.unknown_value'],
    [{}, 'boolean.unknown_value'],
    [[true], 'boolean.unknown_value'],
  ])('%j → %s', (raw, issue) => {
    const result = standardizeBoolean(raw);
    expect(result.ok ? result.value : result.issue).toBe(issue);
  });
});

describe('standardizeNumber', () => {
  type Row = [raw: unknown, value: number, rules: string[]];
  const dot: Row[] = [
    // already numbers
    [0, 0, []],
    [42, 42, []],
    [-3.5, -3.5, []],
    [1e21, 1e21, []],
    // plain text
    ['0', 0, []],
    ['42', 42, []],
    [' 42 ', 42, []],
    ['007', 7, []],
    ['-3.5', -3.5, []],
    ['+3.5', 3.5, []],
    ['−3.5', -3.5, []],
    ['.5', 0.5, []],
    ['0.1', 0.1, []],
    ['-0', 0, []],
    ['1e3', 1000, []],
    ['1.5E-3', 0.0015, []],
    ['2.5e+2', 250, []],
    ['123456789012', 123456789012, []],
    // grouping
    ['1,234', 1234, ['number.thousands_separator']],
    ['1,234.5', 1234.5, ['number.thousands_separator']],
    ['12,345,678.90', 12345678.9, ['number.thousands_separator']],
    ['-1,000', -1000, ['number.thousands_separator']],
    ['1 234 567', 1234567, ['number.thousands_separator']],
    ['1\u00A0234', 1234, ['number.thousands_separator']],
    ['1\u202F234.5', 1234.5, ['number.thousands_separator']],
    ["1'234'567.89", 1234567.89, ['number.thousands_separator']],
    ['1’234.50', 1234.5, ['number.thousands_separator']],
    // full width
    ['１２３', 123, ['number.full_width']],
    ['１，２３４．５', 1234.5, ['number.full_width', 'number.thousands_separator']],
    ['－５', -5, ['number.full_width']],
    ['３．１４', 3.14, ['number.full_width']],
    // currency
    ['¥1,234.50', 1234.5, ['number.currency_stripped', 'number.thousands_separator']],
    ['￥1,234.50', 1234.5, ['number.full_width', 'number.currency_stripped', 'number.thousands_separator']],
    ['¥ 99', 99, ['number.currency_stripped']],
    ['$12', 12, ['number.currency_stripped']],
    ['$12.99', 12.99, ['number.currency_stripped']],
    ['US$ 1,000', 1000, ['number.currency_stripped', 'number.thousands_separator']],
    ['HK$88', 88, ['number.currency_stripped']],
    ['-$12', -12, ['number.currency_stripped']],
    ['$-12', -12, ['number.currency_stripped']],
    ['-¥12', -12, ['number.currency_stripped']],
    ['€9.90', 9.9, ['number.currency_stripped']],
    ['£5', 5, ['number.currency_stripped']],
    ['₩50,000', 50000, ['number.currency_stripped', 'number.thousands_separator']],
    ['₹250', 250, ['number.currency_stripped']],
    ['RMB 88', 88, ['number.currency_stripped']],
    ['RMB88', 88, ['number.currency_stripped']],
    ['rmb 88.00', 88, ['number.currency_stripped']],
    ['CNY 1,000', 1000, ['number.currency_stripped', 'number.thousands_separator']],
    ['USD 12.50', 12.5, ['number.currency_stripped']],
    ['12.50 USD', 12.5, ['number.currency_stripped']],
    ['100 EUR', 100, ['number.currency_stripped']],
    ['88元', 88, ['number.currency_stripped']],
    ['88 元', 88, ['number.currency_stripped']],
    ['88.5元', 88.5, ['number.currency_stripped']],
    ['1,288元', 1288, ['number.currency_stripped', 'number.thousands_separator']],
    ['88元整', 88, ['number.currency_stripped']],
    ['30块', 30, ['number.currency_stripped']],
    ['30块钱', 30, ['number.currency_stripped']],
    ['100美元', 100, ['number.currency_stripped']],
    ['100港币', 100, ['number.currency_stripped']],
    ['人民币100元', 100, ['number.currency_stripped']],
    ['人民币 2,000', 2000, ['number.currency_stripped', 'number.thousands_separator']],
    ['¥88元', 88, ['number.currency_stripped']],
    ['12$', 12, ['number.currency_stripped']],
    // accounting negatives
    ['(1,234.00)', -1234, ['number.accounting_negative', 'number.thousands_separator']],
    ['(12.5)', -12.5, ['number.accounting_negative']],
    ['($12)', -12, ['number.accounting_negative', 'number.currency_stripped']],
    // percent → ratio
    ['12.5%', 0.125, ['number.percent']],
    ['50%', 0.5, ['number.percent']],
    ['100%', 1, ['number.percent']],
    ['0%', 0, ['number.percent']],
    ['33.3%', 0.333, ['number.percent']],
    ['7%', 0.07, ['number.percent']],
    ['-2.5%', -0.025, ['number.percent']],
    ['150 %', 1.5, ['number.percent']],
    ['１２％', 0.12, ['number.full_width', 'number.percent']],
    ['百分之五十', 0.5, ['number.chinese_numeral', 'number.percent']],
    ['百分之十二点五', 0.125, ['number.chinese_numeral', 'number.percent']],
    // k / w suffixes
    ['12k', 12000, ['number.unit_suffix']],
    ['1.5K', 1500, ['number.unit_suffix']],
    ['1.2w', 12000, ['number.unit_suffix']],
    ['3W', 30000, ['number.unit_suffix']],
    ['¥5k', 5000, ['number.currency_stripped', 'number.unit_suffix']],
    // Chinese numerals
    ['零', 0, ['number.chinese_numeral']],
    ['〇', 0, ['number.chinese_numeral']],
    ['一', 1, ['number.chinese_numeral']],
    ['两', 2, ['number.chinese_numeral']],
    ['九', 9, ['number.chinese_numeral']],
    ['十', 10, ['number.chinese_numeral']],
    ['十五', 15, ['number.chinese_numeral']],
    ['一十五', 15, ['number.chinese_numeral']],
    ['二十', 20, ['number.chinese_numeral']],
    ['二十五', 25, ['number.chinese_numeral']],
    ['九十九', 99, ['number.chinese_numeral']],
    ['一百', 100, ['number.chinese_numeral']],
    ['一百零五', 105, ['number.chinese_numeral']],
    ['一百一十', 110, ['number.chinese_numeral']],
    ['一百一', 110, ['number.chinese_numeral']],
    ['一百二', 120, ['number.chinese_numeral']],
    ['一百二十三', 123, ['number.chinese_numeral']],
    ['三百', 300, ['number.chinese_numeral']],
    ['九百九十九', 999, ['number.chinese_numeral']],
    ['一千', 1000, ['number.chinese_numeral']],
    ['一千二', 1200, ['number.chinese_numeral']],
    ['一千零五', 1005, ['number.chinese_numeral']],
    ['一千零五十', 1050, ['number.chinese_numeral']],
    ['一千二百三十四', 1234, ['number.chinese_numeral']],
    ['两千', 2000, ['number.chinese_numeral']],
    ['两千五', 2500, ['number.chinese_numeral']],
    ['两千五百', 2500, ['number.chinese_numeral']],
    ['一万', 10000, ['number.chinese_numeral']],
    ['三万五', 35000, ['number.chinese_numeral']],
    ['三万五千', 35000, ['number.chinese_numeral']],
    ['三万零五百', 30500, ['number.chinese_numeral']],
    ['一万零五', 10005, ['number.chinese_numeral']],
    ['两万三千四百五十六', 23456, ['number.chinese_numeral']],
    ['十万', 100000, ['number.chinese_numeral']],
    ['百万', 1000000, ['number.chinese_numeral']],
    ['一百万', 1000000, ['number.chinese_numeral']],
    ['三百五十万', 3500000, ['number.chinese_numeral']],
    ['千万', 10000000, ['number.chinese_numeral']],
    ['一亿', 100000000, ['number.chinese_numeral']],
    ['一亿五', 150000000, ['number.chinese_numeral']],
    ['一亿二千万', 120000000, ['number.chinese_numeral']],
    ['一亿零一', 100000001, ['number.chinese_numeral']],
    ['十亿', 1000000000, ['number.chinese_numeral']],
    ['一万亿', 1000000000000, ['number.chinese_numeral']],
    ['五万三千亿', 5300000000000, ['number.chinese_numeral']],
    ['壹佰贰拾叁', 123, ['number.chinese_numeral']],
    ['贰万', 20000, ['number.chinese_numeral']],
    ['叁仟肆佰', 3400, ['number.chinese_numeral']],
    ['伍萬', 50000, ['number.chinese_numeral']],
    ['兩千', 2000, ['number.chinese_numeral']],
    ['壹億', 100000000, ['number.chinese_numeral']],
    ['三点一四', 3.14, ['number.chinese_numeral']],
    ['十二点五', 12.5, ['number.chinese_numeral']],
    ['一点五万', 15000, ['number.chinese_numeral']],
    ['零点五', 0.5, ['number.chinese_numeral']],
    ['二〇二四', 2024, ['number.chinese_numeral']],
    ['一二三', 123, ['number.chinese_numeral']],
    ['负三', -3, ['number.chinese_numeral']],
    ['负一百', -100, ['number.chinese_numeral']],
    ['一百元', 100, ['number.currency_stripped', 'number.chinese_numeral']],
    ['三万五千元整', 35000, ['number.currency_stripped', 'number.chinese_numeral']],
    // Arabic digits with Chinese units
    ['1.2万', 12000, ['number.chinese_numeral']],
    ['1.15万', 11500, ['number.chinese_numeral']],
    ['3千', 3000, ['number.chinese_numeral']],
    ['5万', 50000, ['number.chinese_numeral']],
    ['1万5', 15000, ['number.chinese_numeral']],
    ['1万2000', 12000, ['number.chinese_numeral']],
    ['2万5千', 25000, ['number.chinese_numeral']],
    ['1亿2000万', 120000000, ['number.chinese_numeral']],
    ['2.5亿', 250000000, ['number.chinese_numeral']],
    ['1,200万', 12000000, ['number.thousands_separator', 'number.chinese_numeral']],
    ['12.5万元', 125000, ['number.currency_stripped', 'number.chinese_numeral']],
    ['¥3.2万', 32000, ['number.currency_stripped', 'number.chinese_numeral']],
    ['-1.5万', -15000, ['number.chinese_numeral']],
    ['１．２万', 12000, ['number.full_width', 'number.chinese_numeral']],
    ['3 千', 3000, ['number.chinese_numeral']],
  ];

  it('reads a bigint', () => {
    expect(standardizeNumber(10n)).toEqual({ ok: true, value: 10, rules: [], flags: [] });
  });

  it.each(dot)("%j (decimal '.') → %d", (raw, value, rules) => {
    const result = standardizeNumber(raw);
    expect(result.ok && result.value).toBe(value);
    expect(result.ok && [...result.rules].sort()).toEqual([...rules].sort());
  });

  const comma: Row[] = [
    ['1,5', 1.5, ['number.decimal_comma']],
    ['1,234', 1.234, ['number.decimal_comma']],
    ['0,25', 0.25, ['number.decimal_comma']],
    [',5', 0.5, ['number.decimal_comma']],
    ['1.234', 1234, ['number.thousands_separator']],
    ['1.234,5', 1234.5, ['number.thousands_separator', 'number.decimal_comma']],
    ['1.234.567,89', 1234567.89, ['number.thousands_separator', 'number.decimal_comma']],
    ['1 234,5', 1234.5, ['number.thousands_separator', 'number.decimal_comma']],
    ['1\u202F234,5', 1234.5, ['number.thousands_separator', 'number.decimal_comma']],
    ["1'234,5", 1234.5, ['number.thousands_separator', 'number.decimal_comma']],
    ['-12,75', -12.75, ['number.decimal_comma']],
    ['1234', 1234, []],
    ['12,5%', 0.125, ['number.decimal_comma', 'number.percent']],
    ['€ 1.299,00', 1299, ['number.currency_stripped', 'number.thousands_separator', 'number.decimal_comma']],
    ['9,90 €', 9.9, ['number.currency_stripped', 'number.decimal_comma']],
    ['1,2万', 12000, ['number.decimal_comma', 'number.chinese_numeral']],
    ['1,5k', 1500, ['number.decimal_comma', 'number.unit_suffix']],
    [12.5, 12.5, []],
  ];

  it.each(comma)("%j (decimal ',') → %d", (raw, value, rules) => {
    const result = standardizeNumber(raw, { decimal: ',' });
    expect(result.ok && result.value).toBe(value);
    expect(result.ok && [...result.rules].sort()).toEqual([...rules].sort());
  });

  it.each([
    [null, '.', 'number.empty'],
    [undefined, '.', 'number.empty'],
    ['', '.', 'number.empty'],
    ['   ', '.', 'number.empty'],
    ['\u3000', '.', 'number.empty'],
    ['-', '.', 'number.empty'],
    ['--', '.', 'number.empty'],
    ['—', '.', 'number.empty'],
    ['n/a', '.', 'number.empty'],
    ['N/A', '.', 'number.empty'],
    ['null', '.', 'number.empty'],
    ['NULL', '.', 'number.empty'],
    ['none', '.', 'number.empty'],
    ['无', '.', 'number.empty'],
    ['暂无', '.', 'number.empty'],
    [Number.NaN, '.', 'number.invalid'],
    [Number.POSITIVE_INFINITY, '.', 'number.invalid'],
    [Number.NEGATIVE_INFINITY, '.', 'number.invalid'],
    ['NaN', '.', 'number.invalid'],
    ['nan', '.', 'number.invalid'],
    ['Infinity', '.', 'number.invalid'],
    ['-Infinity', '.', 'number.invalid'],
    ['inf', '.', 'number.invalid'],
    ['∞', '.', 'number.invalid'],
    ['#DIV/0!', '.', 'number.invalid'],
    ['#VALUE!', '.', 'number.invalid'],
    ['1e999', '.', 'number.invalid'],
    ['abc', '.', 'number.invalid'],
    ['12abc', '.', 'number.invalid'],
    ['1.2.3', '.', 'number.invalid'],
    ['1,5', '.', 'number.invalid'],
    ['12,34', '.', 'number.invalid'],
    ['1234,567', '.', 'number.invalid'],
    ['1,23,456', '.', 'number.invalid'],
    ['1,234 567', '.', 'number.invalid'],
    ['1,,234', '.', 'number.invalid'],
    ['1.', '.', 'number.invalid'],
    ['.', '.', 'number.invalid'],
    ['0x1F', '.', 'number.invalid'],
    ['--5', '.', 'number.invalid'],
    ['+-5', '.', 'number.invalid'],
    ['5-', '.', 'number.invalid'],
    ['12 34', '.', 'number.invalid'],
    ['¥', '.', 'number.invalid'],
    ['%', '.', 'number.invalid'],
    ['$ - ', '.', 'number.invalid'],
    ['12%%', '.', 'number.invalid'],
    ['12kw', '.', 'number.invalid'],
    ['万', '.', 'number.invalid'],
    ['一二百', '.', 'number.invalid'],
    ['一百十', '.', 'number.invalid'],
    ['一千二千', '.', 'number.invalid'],
    ['三万五万', '.', 'number.invalid'],
    ['一亿亿', '.', 'number.invalid'],
    ['2〇24年', '.', 'number.invalid'],
    ['三点', '.', 'number.invalid'],
    ['大约一百', '.', 'number.invalid'],
    ['1.5', ',', 'number.invalid'],
    ['1,234.5', ',', 'number.invalid'],
    ['1.23', ',', 'number.invalid'],
    [true, '.', 'number.invalid'],
    [{}, '.', 'number.invalid'],
    [[1], '.', 'number.invalid'],
  ] as const)('%j (decimal %j) → %s', (raw, decimal, issue) => {
    const result = standardizeNumber(raw, { decimal });
    expect(result.ok ? result.value : result.issue).toBe(issue);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });

  it('hints at a decimal comma when the text reads like one', () => {
    const result = standardizeNumber('12,5');
    expect(!result.ok && result.reason).toMatch(/decimal ','/);
  });

  it('returns any finite number given as text unchanged', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const result = standardizeNumber(String(n));
        expect(result.ok && result.value).toBe(n === 0 ? 0 : n);
      }),
    );
  });

  it.each([
    ['en-US', '.'],
    ['zh-CN', '.'],
    ['de-DE', ','],
    ['fr-FR', ','],
    ['de-CH', '.'],
  ] as const)('reads numbers formatted for %s', (locale, decimal) => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 99 }), (whole, cents) => {
        const n = whole + Math.sign(whole || 1) * cents / 100;
        const text = n.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        const result = standardizeNumber(text, { decimal });
        expect(result.ok && result.value).toBe(Number(n.toFixed(2)));
      }),
    );
  });

  // An independent writer of Chinese numerals in their standard form, to read back.
  const DIGITS = '零一二三四五六七八九';
  const PLACES = ['', '十', '百', '千'];
  function fourDigits(n: number): string {
    let out = '';
    let gap = false;
    for (let place = 3; place >= 0; place -= 1) {
      const d = Math.floor(n / 10 ** place) % 10;
      if (d === 0) {
        if (out !== '') gap = true;
        continue;
      }
      if (gap) out += '零';
      gap = false;
      out += DIGITS[d] + (PLACES[place] ?? '');
    }
    return out;
  }
  function toChinese(n: number): string {
    if (n === 0) return '零';
    const groups = [Math.floor(n / 1e8), Math.floor(n / 1e4) % 1e4, n % 1e4];
    const names = ['亿', '万', ''];
    let out = '';
    let gap = false;
    groups.forEach((g, i) => {
      if (g === 0) {
        if (out !== '') gap = true;
        return;
      }
      if (out !== '' && (gap || g < 1000)) out += '零';
      gap = false;
      out += fourDigits(g) + (names[i] ?? '');
    });
    return out;
  }

  it.each([
    [10005, '一万零五'],
    [100010000, '一亿零一万'],
    [120000000, '一亿二千万'],
    [2024, '二千零二十四'],
  ])('the test writer itself: %d is %s', (n, text) => expect(toChinese(n)).toBe(text));

  it('reads back any standard Chinese numeral below 一万亿', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999 }), (n) => {
        const result = standardizeNumber(toChinese(n));
        expect(result.ok && result.value).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });
});
