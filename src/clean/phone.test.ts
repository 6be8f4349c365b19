import { afterAll, describe, expect, it } from 'vitest';
import { getCountries, getCountryCallingCode, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import metadata from 'libphonenumber-js/max/metadata';
import { fastPathForTests, standardizePhone, type PhoneIssue, type PhoneOptions, type StandardPhone } from './phone.js';

const CN: PhoneOptions = { countries: ['CN'] };
const US: PhoneOptions = { countries: ['US'] };
const CN_US: PhoneOptions = { countries: ['CN', 'US'] };
const NONE: PhoneOptions = { countries: [] };

type Expected = StandardPhone | PhoneIssue;
type Case = [input: unknown, options: PhoneOptions, expected: Expected];

function phone(e164: string, country: string | undefined, type: StandardPhone['type'], extension?: string): StandardPhone {
  return extension === undefined ? { e164, country, type } : { e164, country, type, extension };
}

function check(input: unknown, options: PhoneOptions, expected: Expected): void {
  const result = standardizePhone(input, options);
  if (typeof expected === 'string') {
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issue).toBe(expected);
      expect(result.reason.length).toBeGreaterThan(10);
    }
  } else {
    expect(result.ok, result.ok ? '' : `${result.issue}: ${result.reason}`).toBe(true);
    if (result.ok) expect(result.value).toStrictEqual(expected);
  }
}

const label = (options: PhoneOptions): string => options.countries.join('+') || 'no countries';

// ---------------------------------------------------------------------------

const MOBILE_138 = phone('+8613800138000', 'CN', 'mobile');
const US_415 = phone('+14155552671', 'US', 'fixed_line_or_mobile');

const ISSUE_EXAMPLES: Case[] = [
  ['+86 138-0013-8000', CN, MOBILE_138],
  ['0086 13800138000', CN, MOBILE_138],
  ['(+86)13800138000', CN, MOBILE_138],
  ['138 0013 8000', CN, MOBILE_138],
  ['13800138000', CN, MOBILE_138],
  [13800138000, CN, MOBILE_138],
  [8613800138000, CN, MOBILE_138],
  ['8613800138000', CN, MOBILE_138],
  ['１３８００１３８０００', CN, MOBILE_138],
  ['＋８６ １３８－００１３－８０００', CN, MOBILE_138],
  ['（＋８６）１３８００１３８０００', CN, MOBILE_138],
  ['+86 138-0013-8000', CN_US, MOBILE_138],
  ['138 0013 8000', CN_US, MOBILE_138],
  ['(415) 555-2671', US, US_415],
  ['1-415-555-2671', US, US_415],
  ['(415) 555-2671', CN_US, US_415],
  ['1-415-555-2671', CN_US, US_415],
  ['415.555.2671', CN_US, US_415],
  ['4155552671', CN_US, US_415],
  ['+1 (415) 555-2671', CN_US, US_415],
  ['011 1 415 555 2671', US, US_415],
  ['00 1 415 555 2671', CN, US_415],
  ['+86 138 0013 8000 ext. 123', CN, phone('+8613800138000', 'CN', 'mobile', '123')],
  ['010-12345678 转 123', CN, phone('+861012345678', 'CN', 'fixed_line', '123')],
];

describe('standardizePhone: the examples from the issue', () => {
  it.each(ISSUE_EXAMPLES)('%j (%j) is standardized', (input, options, expected) => check(input, options, expected));
});

// ---------------------------------------------------------------------------
// CN mobiles, every operator prefix libphonenumber knows as allocated.

const CN_MOBILE_PREFIXES: Record<string, readonly string[]> = {
  'China Mobile': ['134', '135', '136', '137', '138', '139', '147', '150', '151', '152', '157', '158', '159', '172', '178', '182', '183', '184', '187', '188', '195', '197', '198'],
  'China Unicom': ['130', '131', '132', '145', '155', '156', '166', '167', '171', '175', '176', '185', '186', '196'],
  'China Telecom': ['133', '153', '173', '177', '180', '181', '189', '190', '191', '193', '199', '1349', '1740'],
  'China Broadnet': ['192'],
  'virtual operators': ['162', '165', '170'],
};

const cnMobileCases: [string, string, string][] = [];
for (const [operator, prefixes] of Object.entries(CN_MOBILE_PREFIXES)) {
  for (const prefix of prefixes) {
    const national = (prefix + '23456789').slice(0, 11);
    const a = national.slice(0, 3);
    const b = national.slice(3, 7);
    const c = national.slice(7);
    for (const written of [national, `${a} ${b} ${c}`, `${a}-${b}-${c}`, `+86 ${a} ${b} ${c}`, `+86-${national}`, `0086${national}`, `86${national}`, `(+86) ${national}`]) {
      cnMobileCases.push([operator, written, `+86${national}`]);
    }
  }
}

describe('standardizePhone: CN mobiles of every operator prefix', () => {
  it.each(cnMobileCases)('%s %j', (_operator, written, e164) => {
    check(written, CN, phone(e164, 'CN', 'mobile'));
    check(written, CN_US, phone(e164, 'CN', 'mobile'));
  });

  it.each(['140', '141', '144', '154', '160', '161', '163', '164', '168', '169', '179', '194'])('unallocated prefix %s is invalid', (prefix) => {
    check(`${prefix}23456789`, CN, 'phone.invalid');
  });
});

// ---------------------------------------------------------------------------
// CN fixed lines: area code with trunk 0, then the local number.

const CN_FIXED: [city: string, areaCode: string, local: string][] = [
  ['Beijing', '010', '62345678'], ['Guangzhou', '020', '82345678'], ['Shanghai', '021', '68881234'], ['Tianjin', '022', '23456789'],
  ['Chongqing', '023', '63456789'], ['Shenyang', '024', '22345678'], ['Nanjing', '025', '84567890'], ['Wuhan', '027', '87654321'],
  ['Chengdu', '028', '85123456'], ["Xi'an", '029', '88765432'], ['Shijiazhuang', '0311', '86123456'], ['Taiyuan', '0351', '4123456'],
  ['Zhengzhou', '0371', '65123456'], ['Dalian', '0411', '82345678'], ['Changchun', '0431', '88123456'], ['Harbin', '0451', '82345678'],
  ['Hohhot', '0471', '6123456'], ['Suzhou', '0512', '65123456'], ['Jinan', '0531', '86123456'], ['Qingdao', '0532', '82345678'],
  ['Hefei', '0551', '62345678'], ['Hangzhou', '0571', '87654321'], ['Ningbo', '0574', '87123456'], ['Fuzhou', '0591', '87654321'],
  ['Xiamen', '0592', '5123456'], ['Changsha', '0731', '84123456'], ['Shenzhen', '0755', '86123456'], ['Zhuhai', '0756', '2123456'],
  ['Foshan', '0757', '83123456'], ['Dongguan', '0769', '22123456'], ['Nanning', '0771', '2123456'], ['Nanchang', '0791', '86123456'],
  ['Guiyang', '0851', '85123456'], ['Kunming', '0871', '63123456'], ['Haikou', '0898', '66123456'], ['Lanzhou', '0931', '8123456'],
  ['Yinchuan', '0951', '5123456'], ['Urumqi', '0991', '2123456'],
];

const cnFixedCases: [string, string, string][] = [];
for (const [city, code, local] of CN_FIXED) {
  const e164 = `+86${code.slice(1)}${local}`;
  const half = local.length - 4;
  for (const written of [`${code}-${local}`, `${code} ${local.slice(0, half)} ${local.slice(half)}`, `(${code}) ${local}`, `${code}${local}`, `+86 ${code.slice(1)} ${local}`, `+86 (0)${code.slice(1)} ${local}`]) {
    cnFixedCases.push([city, written, e164]);
  }
}

describe('standardizePhone: CN fixed lines with area codes', () => {
  it.each(cnFixedCases)('%s %j', (_city, written, e164) => {
    check(written, CN, phone(e164, 'CN', 'fixed_line'));
    check(written, CN_US, phone(e164, 'CN', 'fixed_line'));
  });

  it.each<Case>([
    ['010-12345678', CN, phone('+861012345678', 'CN', 'fixed_line')],
    ['021 6888 8888', CN, phone('+862168888888', 'CN', 'fixed_line')],
    ['0755-8888 8888', CN, phone('+8675588888888', 'CN', 'fixed_line')],
    ['+86 400 810 8888', NONE, phone('+864008108888', 'CN', 'other')],
    ['400-810-8888', CN, phone('+864008108888', 'CN', 'other')],
    ['800-810-8888', CN, phone('+868008108888', 'CN', 'toll_free')],
    ['17951 13800138000', CN, MOBILE_138],
    ['010-8234567', CN, 'phone.invalid'],
    ['0351-62345678', CN, 'phone.invalid'],
    ['95588', CN, 'phone.too_short'],
    ['+86 95588', NONE, 'phone.too_short'],
  ])('%j (%j)', (input, options, expected) => check(input, options, expected));
});

// ---------------------------------------------------------------------------

const INTERNATIONAL: [input: string, e164: string, country: string | undefined, type: StandardPhone['type']][] = [
  ['+852 2123 4567', '+85221234567', 'HK', 'fixed_line'],
  ['+852 5123 4567', '+85251234567', 'HK', 'mobile'],
  ['+852 9123 4567', '+85291234567', 'HK', 'mobile'],
  ['+852 6123 4567', '+85261234567', 'HK', 'mobile'],
  ['+886 2 2345 6789', '+886223456789', 'TW', 'fixed_line'],
  ['+886 912 345 678', '+886912345678', 'TW', 'mobile'],
  ['+886 0912 345 678', '+886912345678', 'TW', 'mobile'],
  ['+886 7 123 4567', '+88671234567', 'TW', 'fixed_line'],
  ['+853 6612 3456', '+85366123456', 'MO', 'mobile'],
  ['+44 20 7946 0958', '+442079460958', 'GB', 'fixed_line'],
  ['+44 (0)20 7946 0958', '+442079460958', 'GB', 'fixed_line'],
  ['+44 020 7946 0958', '+442079460958', 'GB', 'fixed_line'],
  ['+44 7400 123456', '+447400123456', 'GB', 'mobile'],
  ['+44 161 496 0000', '+441614960000', 'GB', 'fixed_line'],
  ['+44 800 123 4567', '+448001234567', 'GB', 'toll_free'],
  ['+44 909 876 5432', '+449098765432', 'GB', 'premium_rate'],
  ['+44 56 1234 5678', '+445612345678', 'GB', 'voip'],
  ['+44 7911 123456', '+447911123456', 'GG', 'mobile'],
  ['+49 30 12345678', '+493012345678', 'DE', 'fixed_line'],
  ['+49 (0)89 1234567', '+49891234567', 'DE', 'fixed_line'],
  ['+49 151 23456789', '+4915123456789', 'DE', 'mobile'],
  ['+49 170 1234567', '+491701234567', 'DE', 'mobile'],
  ['+33 1 42 68 53 00', '+33142685300', 'FR', 'fixed_line'],
  ['+33 6 12 34 56 78', '+33612345678', 'FR', 'mobile'],
  ['+33 (0)6 12 34 56 78', '+33612345678', 'FR', 'mobile'],
  ['+33 9 70 12 34 56', '+33970123456', 'FR', 'voip'],
  ['+81 3-1234-5678', '+81312345678', 'JP', 'fixed_line'],
  ['+81 90-1234-5678', '+819012345678', 'JP', 'mobile'],
  ['+81 6-6123-4567', '+81661234567', 'JP', 'fixed_line'],
  ['+81 120-123-456', '+81120123456', 'JP', 'toll_free'],
  ['+82 2-123-4567', '+8221234567', 'KR', 'fixed_line'],
  ['+82 10-1234-5678', '+821012345678', 'KR', 'mobile'],
  ['+65 6123 4567', '+6561234567', 'SG', 'fixed_line'],
  ['+65 9123 4567', '+6591234567', 'SG', 'mobile'],
  ['+61 2 9123 4567', '+61291234567', 'AU', 'fixed_line'],
  ['+61 412 345 678', '+61412345678', 'AU', 'mobile'],
  ['+91 98765 43210', '+919876543210', 'IN', 'mobile'],
  ['+1 416 555 0100', '+14165550100', 'CA', 'fixed_line_or_mobile'],
  ['+1 604 555 0100', '+16045550100', 'CA', 'fixed_line_or_mobile'],
  ['+1 900 555 0100', '+19005550100', 'US', 'premium_rate'],
  ['+7 495 123-45-67', '+74951234567', 'RU', 'fixed_line'],
  ['+7 912 345-67-89', '+79123456789', 'RU', 'mobile'],
  ['+7 701 234 5678', '+77012345678', 'KZ', 'mobile'],
  ['+39 06 1234 5678', '+390612345678', 'IT', 'fixed_line'],
  ['+39 312 345 6789', '+393123456789', 'IT', 'mobile'],
  ['+34 912 34 56 78', '+34912345678', 'ES', 'fixed_line'],
  ['+34 612 34 56 78', '+34612345678', 'ES', 'mobile'],
  ['+31 20 123 4567', '+31201234567', 'NL', 'fixed_line'],
  ['+31 6 12345678', '+31612345678', 'NL', 'mobile'],
  ['+41 44 668 18 00', '+41446681800', 'CH', 'fixed_line'],
  ['+46 8 123 456 78', '+46812345678', 'SE', 'fixed_line'],
  ['+353 1 234 5678', '+35312345678', 'IE', 'fixed_line'],
  ['+60 12-345 6789', '+60123456789', 'MY', 'mobile'],
  ['+66 81 234 5678', '+66812345678', 'TH', 'mobile'],
  ['+84 91 234 56 78', '+84912345678', 'VN', 'mobile'],
  ['+62 812-3456-7890', '+6281234567890', 'ID', 'mobile'],
  ['+63 917 123 4567', '+639171234567', 'PH', 'mobile'],
  ['+971 50 123 4567', '+971501234567', 'AE', 'mobile'],
  ['+55 11 91234-5678', '+5511912345678', 'BR', 'mobile'],
  ['+52 55 1234 5678', '+525512345678', 'MX', 'fixed_line_or_mobile'],
  ['+64 21 123 4567', '+64211234567', 'NZ', 'mobile'],
  ['+800 1234 5678', '+80012345678', undefined, 'toll_free'],
  ['+86 10 6552 9988', '+861065529988', 'CN', 'fixed_line'],
  ['+86 (0)10 6552 9988', '+861065529988', 'CN', 'fixed_line'],
  ['+86-21-6888-1234', '+862168881234', 'CN', 'fixed_line'],
  ['+86 800 810 8888', '+868008108888', 'CN', 'toll_free'],
];

describe('standardizePhone: international form, whatever the configured countries', () => {
  it.each(INTERNATIONAL)('%j', (input, e164, country, type) => {
    for (const options of [NONE, CN, US, CN_US]) check(input, options, phone(e164, country, type));
  });

  it.each<Case>([
    ['00852 9123 4567', CN, phone('+85291234567', 'HK', 'mobile')],
    ['00852 2123 4567', NONE, phone('+85221234567', 'HK', 'fixed_line')],
    ['0044 20 7946 0958', CN, phone('+442079460958', 'GB', 'fixed_line')],
    ['00 44 20 7946 0958', US, phone('+442079460958', 'GB', 'fixed_line')],
    ['011 44 20 7946 0958', US, phone('+442079460958', 'GB', 'fixed_line')],
    ['011 44 20 7946 0958', CN_US, phone('+442079460958', 'GB', 'fixed_line')],
    ['011 81 3 1234 5678', US, phone('+81312345678', 'JP', 'fixed_line')],
    ['011 86 138 0013 8000', US, MOBILE_138],
    ['0049 30 12345678', CN_US, phone('+493012345678', 'DE', 'fixed_line')],
    ['00 886 912 345 678', CN, phone('+886912345678', 'TW', 'mobile')],
    ['tel:+8613800138000', NONE, MOBILE_138],
    ['Tel: 13800138000', CN, MOBILE_138],
    ['TEL:+1-415-555-2671', NONE, US_415],
  ])('IDD prefixes and tel: URIs: %j (%j)', (input, options, expected) => check(input, options, expected));
});

// ---------------------------------------------------------------------------

const usNumbers: [string, string, StandardPhone['type']][] = [
  ['(212) 555-0123', '+12125550123', 'fixed_line_or_mobile'],
  ['212-555-0123', '+12125550123', 'fixed_line_or_mobile'],
  ['1-212-555-0123', '+12125550123', 'fixed_line_or_mobile'],
  ['+1-212-555-0123', '+12125550123', 'fixed_line_or_mobile'],
  ['646-555-0199', '+16465550199', 'fixed_line_or_mobile'],
  ['(310) 555-0100', '+13105550100', 'fixed_line_or_mobile'],
  ['1-310-555-0100', '+13105550100', 'fixed_line_or_mobile'],
  ['1-305-555-1234', '+13055551234', 'fixed_line_or_mobile'],
  ['1 312 555 0100', '+13125550100', 'fixed_line_or_mobile'],
  ['1-510-555-0100', '+15105550100', 'fixed_line_or_mobile'],
  ['(617) 555-0100', '+16175550100', 'fixed_line_or_mobile'],
  ['(202) 555-0100', '+12025550100', 'fixed_line_or_mobile'],
  ['1 (415) 555-2671', '+14155552671', 'fixed_line_or_mobile'],
  ['1-800-555-0199', '+18005550199', 'toll_free'],
  ['(888) 555-0100', '+18885550100', 'toll_free'],
  ['877-555-0100', '+18775550100', 'toll_free'],
  ['1 866 555 0100', '+18665550100', 'toll_free'],
  ['855-555-0100', '+18555550100', 'toll_free'],
  ['844-555-0100', '+18445550100', 'toll_free'],
  ['833-555-0100', '+18335550100', 'toll_free'],
  ['(900) 555-0100', '+19005550100', 'premium_rate'],
];

describe('standardizePhone: US numbers, alone and after CN', () => {
  it.each(usNumbers)('%j', (input, e164, type) => {
    check(input, US, phone(e164, 'US', type));
    check(input, CN_US, phone(e164, 'US', type));
  });

  it.each<Case>([
    // The same digits are a CN number when written as CN writes them.
    ['13055551234', CN_US, phone('+8613055551234', 'CN', 'mobile')],
    ['130 5555 1234', CN_US, phone('+8613055551234', 'CN', 'mobile')],
    ['800-555-0199', CN_US, phone('+868005550199', 'CN', 'toll_free')],
    ['800-555-0199', US, phone('+18005550199', 'US', 'toll_free')],
    // Valid nowhere else, a CN reading stands even without its trunk prefix.
    ['(415) 155-2671', CN_US, phone('+864151552671', 'CN', 'fixed_line')],
    ['(415) 155-2671', US, 'phone.invalid'],
    ['4155552671', CN, phone('+864155552671', 'CN', 'fixed_line')],
    ['04155552671', CN_US, phone('+864155552671', 'CN', 'fixed_line')],
    ['1380-013-8000', CN_US, MOBILE_138],
    // Sequential digits can be a real number: 234 is an Ohio area code.
    ['12345678901', CN_US, phone('+12345678901', 'US', 'fixed_line_or_mobile')],
    // A spreadsheet's negative number is still the digits.
    [-13800138000, CN, MOBILE_138],
    ['(123) 456-7890', US, 'phone.invalid'],
    ['(123) 456-7890', CN_US, 'phone.invalid'],
    ['555-0100', US, 'phone.too_short'],
    ['911', US, 'phone.too_short'],
    ['(415) 555-26710', US, 'phone.too_long'],
  ])('%j (%j)', (input, options, expected) => check(input, options, expected));
});

// ---------------------------------------------------------------------------

describe('standardizePhone: extensions', () => {
  it.each<Case>([
    ['+1 415 555 2671 ext. 12', NONE, phone('+14155552671', 'US', 'fixed_line_or_mobile', '12')],
    ['(415) 555-2671 x204', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '204')],
    ['(415) 555-2671 X 204', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '204')],
    ['415-555-2671 ext 7', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '7')],
    ['415-555-2671 extension 7001', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '7001')],
    ['415-555-2671 #99', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '99')],
    ['415-555-2671;ext=99', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '99')],
    ['415-555-2671,,99', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '99')],
    ['415-555-2671-99', US, phone('+14155552671', 'US', 'fixed_line_or_mobile', '99')],
    ['010-12345678转123', CN, phone('+861012345678', 'CN', 'fixed_line', '123')],
    ['010-12345678 转 8001', CN, phone('+861012345678', 'CN', 'fixed_line', '8001')],
    ['010-12345678 分机 8001', CN, phone('+861012345678', 'CN', 'fixed_line', '8001')],
    ['010-12345678分机号：8001', CN, phone('+861012345678', 'CN', 'fixed_line', '8001')],
    ['010-12345678-123', CN, phone('+861012345678', 'CN', 'fixed_line', '123')],
    ['0755-8612 3456-6688', CN, phone('+8675586123456', 'CN', 'fixed_line', '6688')],
    ['+86 21 6888 1234 ext. 5', NONE, phone('+862168881234', 'CN', 'fixed_line', '5')],
    ['０１０－１２３４５６７８转１２３', CN, phone('+861012345678', 'CN', 'fixed_line', '123')],
    ['13800138000 ext. 1', CN, phone('+8613800138000', 'CN', 'mobile', '1')],
    // A mobile has no switchboard: `-1` after one is not an extension.
    ['138-0013-8000-1', CN, 'phone.invalid'],
    ['010-12345678 ext', CN, 'phone.not_a_number'],
    ['13800138000,13900139000', CN, 'phone.invalid'],
  ])('%j (%j)', (input, options, expected) => check(input, options, expected));
});

// ---------------------------------------------------------------------------

describe('standardizePhone: what is not a valid number is an issue, never a guess', () => {
  it.each<Case>([
    [undefined, CN, 'phone.empty'],
    [null, CN, 'phone.empty'],
    ['', CN, 'phone.empty'],
    ['   ', CN, 'phone.empty'],
    ['\u3000', CN, 'phone.empty'],
    [{}, CN, 'phone.not_a_number'],
    [true, CN, 'phone.not_a_number'],
    [['13800138000'], CN, 'phone.not_a_number'],
    ['n/a', CN, 'phone.not_a_number'],
    ['无', CN, 'phone.not_a_number'],
    ['-', CN, 'phone.not_a_number'],
    ['()', CN, 'phone.not_a_number'],
    ['+', CN, 'phone.not_a_number'],
    ['abc', CN, 'phone.not_a_number'],
    ['电话: 13800138000', CN, 'phone.not_a_number'],
    ['手机13800138000', CN, 'phone.not_a_number'],
    ['138****8000', CN, 'phone.not_a_number'],
    ['138xxxx8000', CN, 'phone.not_a_number'],
    ['1-800-FLOWERS', US, 'phone.not_a_number'],
    ['13800138000abc', CN, 'phone.not_a_number'],
    ['++86 13800138000', CN, 'phone.not_a_number'],
    ['+86+13800138000', CN, 'phone.not_a_number'],
    ['13800138000+', CN, 'phone.not_a_number'],
    ['1'.repeat(201), CN, 'phone.not_a_number'],
    ['12345', CN, 'phone.too_short'],
    ['12345', CN_US, 'phone.too_short'],
    ['1', CN, 'phone.too_short'],
    ['+86 12345', NONE, 'phone.too_short'],
    ['+1 555 0100', NONE, 'phone.too_short'],
    ['12345678901234567890', CN, 'phone.too_long'],
    ['12345678901234567890', CN_US, 'phone.too_long'],
    ['9'.repeat(31), CN, 'phone.too_long'],
    ['138001380001', CN, 'phone.invalid'],
    ['1380013800', CN, 'phone.invalid'],
    ['+86 138 0013 800', NONE, 'phone.invalid'],
    ['+86 138 0013 80000', NONE, 'phone.invalid'],
    ['+44 20 7946 095', NONE, 'phone.invalid'],
    ['+853 2812 3456', NONE, 'phone.invalid'],
    ['+0 123 4567', NONE, 'phone.invalid'],
    ['+999 1234 5678', NONE, 'phone.invalid'],
    ['13800138000', NONE, 'phone.invalid'],
    ['00000000000', CN, 'phone.invalid'],
    ['11111111111', CN, 'phone.invalid'],
    ['22222222222', CN_US, 'phone.invalid'],
    ['0000000000', US, 'phone.invalid'],
    ['1111111111', US, 'phone.invalid'],
    ['99999999999', CN, 'phone.invalid'],
    ['12121212121', CN, 'phone.invalid'],
    ['10000000000', CN, 'phone.invalid'],
    ['(000) 000-0000', US, 'phone.invalid'],
    [0, CN, 'phone.too_short'],
    [Number.NaN, CN, 'phone.not_a_number'],
  ])('%j (%j)', (input, options, expected) => check(input, options, expected));

  it('skips a country it has no metadata for instead of failing the batch', () => {
    expect(standardizePhone('13800138000', { countries: ['XX', 'CN'] })).toMatchObject({ ok: true, value: { e164: '+8613800138000' } });
    expect(standardizePhone('13800138000', { countries: ['XX'] })).toMatchObject({ ok: false });
    expect(standardizePhone('+8613800138000', { countries: ['AQ'] })).toMatchObject({ ok: true, value: { e164: '+8613800138000' } });
  });
});

// ---------------------------------------------------------------------------

describe('standardizePhone: rules say how the input was changed', () => {
  it.each<[unknown, PhoneOptions, readonly string[]]>([
    ['+8613800138000', CN, []],
    ['+86 138 0013 8000', CN, ['phone.e164']],
    ['13800138000', CN, ['phone.e164', 'phone.country_inferred:CN']],
    ['(415) 555-2671', CN_US, ['phone.e164', 'phone.country_inferred:US']],
    ['0086 13800138000', CN, ['phone.e164', 'phone.idd_prefix']],
    ['0044 20 7946 0958', US, ['phone.e164', 'phone.idd_prefix']],
    ['8613800138000', CN, ['phone.e164', 'phone.country_code_without_plus']],
    ['１３８００１３８０００', CN, ['phone.e164', 'phone.fullwidth', 'phone.country_inferred:CN']],
    ['＋８６１３８００１３８０００', CN, ['phone.e164', 'phone.fullwidth']],
    ['+٨٦١٣٨٠٠١٣٨٠٠٠', CN, ['phone.e164', 'phone.unicode_digits']],
    ['tel:+8613800138000', CN, ['phone.e164', 'phone.tel_uri']],
    ['+8613800138000 ext. 5', CN, ['phone.e164', 'phone.extension']],
    ['010-12345678-123', CN, ['phone.e164', 'phone.extension', 'phone.country_inferred:CN']],
  ])('%j (%j) → %j', (input, options, rules) => {
    const result = standardizePhone(input, options);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.rules).toStrictEqual(rules);
  });

  it.each<[string, boolean]>([
    ['+8613800000000', true],
    ['+8613333333333', true],
    ['021 6888 8888', true],
    ['+8613800138000', false],
    ['+14155552671', false],
    ['+14155555551', true],
  ])('%j flags repeated digits: %s', (input, flagged) => {
    const result = standardizePhone(input, CN);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.flags.map((f) => f.code)).toStrictEqual(flagged ? ['phone.repeated_digits'] : []);
  });
});

// ---------------------------------------------------------------------------
// The fast path mirrors libphonenumber-js: prove it over generated numbers of
// every country, in every shape the scanner can hand it.

let seed = 0x5eed_1234;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4_294_967_296;
}
const randomDigits = (n: number): string => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

function mutate(national: string): string {
  const r = random();
  const at = Math.floor(random() * national.length);
  if (r < 0.3) return national;
  if (r < 0.5) return national.slice(0, at) + randomDigits(1) + national.slice(at + 1);
  if (r < 0.65) return national.slice(0, at) + national.slice(at + 1);
  if (r < 0.8) return national + randomDigits(1);
  return national.slice(0, Math.max(1, at)) + randomDigits(Math.floor(random() * 7));
}

function nationalPrefixOf(country: string): string {
  const plan: unknown = (metadata.countries as Record<string, unknown>)[country];
  return Array.isArray(plan) && typeof plan[5] === 'string' ? plan[5] : '';
}

/** Digit strings shaped like what people type: examples, mutations, prefixes, IDDs, calling codes. */
function generated(country: string, count: number): string[] {
  const code = getCountryCallingCode(country as Parameters<typeof getCountryCallingCode>[0]);
  const prefix = nationalPrefixOf(country);
  const example = getExampleNumber(country as Parameters<typeof getExampleNumber>[0], examples)?.nationalNumber ?? randomDigits(8);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    switch (k % 9) {
      case 0: out.push(mutate(example)); break;
      case 1: out.push(prefix + mutate(example)); break;
      case 2: out.push(randomDigits(2 + Math.floor(random() * 16))); break;
      case 3: out.push(pick(['0', '1', '8', '9', prefix, '00', '11', '17951', '010']) + randomDigits(1 + Math.floor(random() * 14))); break;
      case 4: out.push(code + mutate(example)); break;
      case 5: out.push(example.slice(0, Math.floor(random() * example.length)) + randomDigits(Math.floor(random() * 8))); break;
      case 6: out.push(code + prefix + mutate(example)); break;
      case 7: out.push(pick(['00', '011', '000', '0011']) + code + mutate(example)); break;
      default: out.push(pick(['00', '011']) + pick(['1', '44', '49', '86', '852', '81', '7', '33']) + randomDigits(6 + Math.floor(random() * 8)));
    }
  }
  return out;
}

describe('fast path agrees with libphonenumber-js', () => {
  it('is on: the metadata layout is the one it reads', () => {
    expect(fastPathForTests.enabled).toBe(true);
  });

  it.each(getCountries())('%s: parse, country, validity, type, national prefix and grouping', (country) => {
    let compared = 0;
    let valid = 0;
    for (const digits of generated(country, 240)) {
      for (const plus of [false, true]) {
        const text = plus ? `+${digits}` : digits;
        const library = parsePhoneNumberFromString(text, plus ? undefined : country);
        const expected = library === undefined
          ? undefined
          : { e164: library.number, country: library.country, valid: library.isValid(), type: library.getType() };
        expect(fastPathForTests.parse(digits, plus, plus ? undefined : country), text).toStrictEqual(expected);
        compared++;
        if (library === undefined || !expected?.valid) continue;
        valid++;
        const national = library.formatNational();
        const runs = national.split(/\D+/).filter((run) => run !== '');
        const formattedDigits = runs.join('');
        expect(fastPathForTests.nationalFormatAddsDigits(library.countryCallingCode, library.nationalNumber, library.country), national).toBe(formattedDigits !== library.nationalNumber);
        let at = library.nationalNumber.length - formattedDigits.length;
        let groups = 0;
        for (let r = 0; r < runs.length - 1; r++) {
          at += runs[r]?.length ?? 0;
          if (at > 0 && at < 32) groups |= 1 << at;
        }
        const mine = fastPathForTests.nationalGroups(library.countryCallingCode, library.nationalNumber, library.country);
        // No format at all means the library prints the bare number: one group.
        expect(mine ?? 0, national).toBe(groups);
      }
    }
    expect(compared).toBe(480);
    expect(valid).toBeGreaterThanOrEqual(0);
  });

  it('agrees on 20,000 generated CN and US numbers', () => {
    let valid = 0;
    for (const country of ['CN', 'US']) {
      for (const digits of generated(country, 10_000)) {
        const library = parsePhoneNumberFromString(digits, country as 'CN' | 'US');
        const expected = library === undefined ? undefined : { e164: library.number, country: library.country, valid: library.isValid(), type: library.getType() };
        expect(fastPathForTests.parse(digits, false, country), digits).toStrictEqual(expected);
        if (expected?.valid === true) valid++;
      }
    }
    // Enough of them are real numbers for the comparison to mean something.
    expect(valid).toBeGreaterThan(2_000);
  });
});

describe('library-only path gives the same answers as the fast path', () => {
  const inputs: [unknown, PhoneOptions][] = [
    ...ISSUE_EXAMPLES.map(([input, options]): [unknown, PhoneOptions] => [input, options]),
    ...cnMobileCases.filter((_, i) => i % 4 === 0).map(([, written]): [unknown, PhoneOptions] => [written, CN_US]),
    ...cnFixedCases.filter((_, i) => i % 3 === 0).map(([, written]): [unknown, PhoneOptions] => [written, CN_US]),
    ...INTERNATIONAL.map(([input]): [unknown, PhoneOptions] => [input, NONE]),
    ...usNumbers.map(([input]): [unknown, PhoneOptions] => [input, CN_US]),
    ['12345', CN_US], ['138001380001', CN], ['+999 1234 5678', NONE], ['010-12345678-123', CN], ['0044 20 7946 0958', US],
  ];
  const summary = (input: unknown, options: PhoneOptions) => {
    const result = standardizePhone(input, options);
    return result.ok ? result.value : result.issue;
  };
  const fastAnswers = inputs.map(([input, options]) => summary(input, options));

  afterAll(() => fastPathForTests.useFastPath(true));

  it.each(inputs.map(([input, options], i): [unknown, string, number] => [input, label(options), i]))('%j (%s)', (input, _label, i) => {
    const [, options] = inputs[i] as [unknown, PhoneOptions];
    fastPathForTests.useFastPath(false);
    try {
      expect(summary(input, options)).toStrictEqual(fastAnswers[i]);
    } finally {
      fastPathForTests.useFastPath(true);
    }
  });
});
