/**
 * China resident identity card numbers (GB 11643-1999): 6-digit region code,
 * 8-digit birth date, 3-digit sequence code (odd for men, even for women) and
 * an ISO 7064 MOD 11-2 check character. First-generation 15-digit numbers
 * (2-digit year, no check character) are upgraded to 18 digits.
 */
import { asText, cleanIssue, cleanValue, type Cleaned } from './result.js';

export type NationalIdIssue = 'national_id.empty' | 'national_id.format' | 'national_id.checksum' | 'national_id.birth_date' | 'national_id.region';

export interface ChinaResidentId {
  /** the 18-character number, check character upper-case */
  id: string;
  /** YYYY-MM-DD */
  birthday: string;
  gender: 'male' | 'female';
  /** the 6-digit administrative division code where the number was first issued */
  regionCode: string;
  /** the province-level division of `regionCode` */
  province?: string;
}

/** Province-level divisions by the first two digits of the region code (GB/T 2260). */
export const CHINA_PROVINCES: Readonly<Record<string, string>> = Object.freeze({
  '11': '北京市',
  '12': '天津市',
  '13': '河北省',
  '14': '山西省',
  '15': '内蒙古自治区',
  '21': '辽宁省',
  '22': '吉林省',
  '23': '黑龙江省',
  '31': '上海市',
  '32': '江苏省',
  '33': '浙江省',
  '34': '安徽省',
  '35': '福建省',
  '36': '江西省',
  '37': '山东省',
  '41': '河南省',
  '42': '湖北省',
  '43': '湖南省',
  '44': '广东省',
  '45': '广西壮族自治区',
  '46': '海南省',
  '50': '重庆市',
  '51': '四川省',
  '52': '贵州省',
  '53': '云南省',
  '54': '西藏自治区',
  '61': '陕西省',
  '62': '甘肃省',
  '63': '青海省',
  '64': '宁夏回族自治区',
  '65': '新疆维吾尔自治区',
  '71': '台湾省',
  '81': '香港特别行政区',
  '82': '澳门特别行政区',
  // Not a GB/T 2260 code: residence permits for Taiwan residents (港澳台居民居住证, 2018) carry 830000,
  // as those for Hong Kong and Macao residents carry 810000 and 820000.
  '83': '台湾省',
});

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';

/** The check character (0-9 or X) of the first 17 digits of an 18-digit number. */
export function chinaResidentIdCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i += 1) sum += Number(first17[i]) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS[sum % 11] ?? '';
}

// People keep the number in groups ("110105 19491231 002X") or with dashes.
const SEPARATORS = /[\s\-‐-―_]/g;
const YEARS_BACK = 150;
// The birth date is a Beijing calendar date; "today" is taken there too.
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

function isoDate(year: number, month: number, day: number): string | undefined {
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls Feb 30 into March and reads years 0–99 as 19xx; either way the round trip differs and the date is refused.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * A China resident identity card number → its 18-character form with the
 * birthday, gender, region code and province it encodes. Accepts full-width
 * characters, a lower-case `x`, spaces and hyphens (rule
 * `national_id.normalized`), and 15-digit first-generation numbers, upgraded
 * by inserting "19" and computing the check character (rule
 * `national_id.upgraded_15`). The checksum is tested before the fields, since
 * a number that fails it most likely has a typo anywhere in it. The birth
 * date must be a real date, not after `now` (in Beijing) and at most 150
 * years before it. Issue reasons never repeat the number: it is personal data.
 */
export function standardizeChinaResidentId(raw: unknown, options: { now: Date }): Cleaned<ChinaResidentId, NationalIdIssue> {
  if (raw === null || raw === undefined) return cleanIssue('national_id.empty', 'National ID is empty.');
  if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
    return cleanIssue('national_id.format', 'National ID was stored as a number and has lost digits; keep ID numbers as text.');
  }
  const original = asText(raw);
  if (original === undefined) return cleanIssue('national_id.format', `National ID is a ${typeof raw}, not text.`);
  const text = original.normalize('NFKC').replace(SEPARATORS, '').toUpperCase();
  if (text === '') return cleanIssue('national_id.empty', 'National ID is empty.');

  const rules: string[] = [];
  if (text !== original) rules.push('national_id.normalized');

  let id: string;
  if (/^\d{17}[\dX]$/.test(text)) {
    id = text;
    if (chinaResidentIdCheckCharacter(id) !== id[17]) {
      return cleanIssue('national_id.checksum', 'National ID check character does not match its first 17 digits; the number probably has a typo.');
    }
  } else if (/^\d{15}$/.test(text)) {
    const first17 = `${text.slice(0, 6)}19${text.slice(6)}`;
    id = first17 + chinaResidentIdCheckCharacter(first17);
    rules.push('national_id.upgraded_15');
  } else {
    const length = text.length === 15 || text.length === 18 ? 'has characters other than digits (and a final X)' : `has ${text.length} characters, not 18 or 15`;
    return cleanIssue('national_id.format', `National ID ${length}.`);
  }

  const birthday = isoDate(Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14)));
  if (birthday === undefined) return cleanIssue('national_id.birth_date', 'National ID birth date is not a real date.');
  const today = new Date(options.now.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
  if (birthday > today) return cleanIssue('national_id.birth_date', 'National ID birth date is in the future.');
  const earliest = `${String(Number(today.slice(0, 4)) - YEARS_BACK).padStart(4, '0')}${today.slice(4)}`;
  if (birthday < earliest) return cleanIssue('national_id.birth_date', `National ID birth date is more than ${YEARS_BACK} years ago.`);

  const province = CHINA_PROVINCES[id.slice(0, 2)];
  if (province === undefined) return cleanIssue('national_id.region', 'National ID region code is not a province-level division of China.');

  const gender = Number(id[16]) % 2 === 1 ? 'male' : 'female';
  return cleanValue<ChinaResidentId>({ id, birthday, gender, regionCode: id.slice(0, 6), province }, rules);
}
