import { isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/max/metadata';
import { asText, cleanIssue, cleanValue, type CleanFlag, type Cleaned } from './result.js';

export type PhoneIssue = 'phone.empty' | 'phone.not_a_number' | 'phone.invalid' | 'phone.too_short' | 'phone.too_long';
export type PhoneType = 'mobile' | 'fixed_line' | 'fixed_line_or_mobile' | 'toll_free' | 'premium_rate' | 'voip' | 'other';

export interface StandardPhone {
  /** `+` calling code and national number, without extension: the identity key */
  e164: string;
  /** ISO 3166-1 alpha-2; undefined for non-geographic numbers (+800, +882…) */
  country: string | undefined;
  type: PhoneType | undefined;
  /** present only when the input carried one (`ext. 123`, `转123`); E.164 has no room for it */
  extension?: string;
}

export interface PhoneOptions {
  /** ISO alpha-2, tried in order for national-format numbers; the first where the number is valid wins */
  countries: readonly string[];
}

/**
 * A phone number in E.164 with its country and line type, validated against
 * libphonenumber's full metadata. National-format numbers are tried against
 * `options.countries` in order and the first country where the number is
 * valid wins; nothing invalid is ever returned as a value.
 */
export function standardizePhone(raw: unknown, options: PhoneOptions): Cleaned<StandardPhone, PhoneIssue> {
  const text = asText(raw);
  if (text === undefined) {
    return raw === undefined || raw === null ? EMPTY : cleanIssue('phone.not_a_number', `A ${typeof raw} is not a phone number.`);
  }
  if (text.length > MAX_TEXT_LENGTH) {
    return cleanIssue('phone.not_a_number', `Text of ${text.length} characters is too long to be a phone number.`);
  }
  const problem = scan(text);
  if (problem !== undefined) return problem;
  const { digits, plus, groupStart, breaks } = sc;
  let { extension } = sc;
  let mask = sc.rules;
  const countries = countryList(options.countries);

  let found: Found | undefined;
  const failure = attempt(digits, plus, countries, breaks);
  if (typeof failure !== 'number') found = failure;
  if (found === undefined && !plus) {
    // Only after every configured country refused it: `00` (ITU) and `011`
    // (NANP) before a country code mean international whatever the caller's
    // country, so a valid number behind them is not a guess.
    const idd = digits.startsWith('011') ? 3 : digits.startsWith('00') ? 2 : 0;
    if (idd > 0) {
      const viaIdd = attemptInternational(digits.slice(idd), M_IDD);
      if (typeof viaIdd !== 'number') found = viaIdd;
    }
  }
  if (found === undefined && extension === '' && groupStart > 0 && digits.length - groupStart <= MAX_HYPHEN_EXTENSION) {
    // CN switchboards are written `010-12345678-123`: only when the whole is
    // invalid and the part before the last hyphen is a valid number that is
    // not a mobile (mobiles have no extensions) is the tail an extension.
    const head = attempt(digits.slice(0, groupStart), plus, countries, breaks);
    if (typeof head !== 'number' && head.type !== 'mobile') {
      found = head;
      extension = digits.slice(groupStart);
      mask |= R_EXTENSION;
    }
  }
  if (found === undefined) return failureIssue(typeof failure === 'number' ? failure : F_INVALID, text, plus ? undefined : options.countries);

  mask |= found.mask;
  if (found.e164 !== text) mask |= R_E164;
  const value: StandardPhone = { e164: found.e164, country: found.country, type: found.type };
  if (extension !== '') value.extension = extension;
  const flags = hasLongRun(found.e164) ? REPEATED_FLAGS : NO_FLAGS;
  return cleanValue(value, rulesFor(mask, found.inferredFrom), flags);
}

// ---------------------------------------------------------------------------
// Outcome of one parse attempt, and the rules that describe how it was read.

interface Found {
  e164: string;
  country: string | undefined;
  type: PhoneType | undefined;
  /** M_* bits saying where the calling code came from */
  mask: number;
  /** the configured country a national number was read as */
  inferredFrom: string | undefined;
}

/** F_* code when no valid number came out */
type Failure = Found | number;

const F_INVALID = 1;
const F_TOO_SHORT = 2;
const F_TOO_LONG = 3;
const F_BAD_CODE = 4;
const F_NO_COUNTRY = 5;

const R_E164 = 1;
const R_FULLWIDTH = 2;
const R_UNICODE_DIGITS = 4;
const R_EXTENSION = 8;
const R_TEL_URI = 16;
const M_NONE = 0;
const M_IDD = 32;
const M_CODE_WITHOUT_PLUS = 64;
const M_COUNTRY_INFERRED = 128;

const RULE_NAMES: readonly [number, string][] = [
  [R_E164, 'phone.e164'],
  [R_FULLWIDTH, 'phone.fullwidth'],
  [R_UNICODE_DIGITS, 'phone.unicode_digits'],
  [R_TEL_URI, 'phone.tel_uri'],
  [R_EXTENSION, 'phone.extension'],
  [M_IDD, 'phone.idd_prefix'],
  [M_CODE_WITHOUT_PLUS, 'phone.country_code_without_plus'],
];

// Rule lists are shared frozen arrays: the same few combinations recur for
// millions of rows, and allocating each one would cost more than the lookup.
const ruleCache = new Map<string, (readonly string[] | undefined)[]>();

function rulesFor(mask: number, inferredFrom: string | undefined): readonly string[] {
  const key = inferredFrom ?? '';
  let byMask = ruleCache.get(key);
  if (byMask === undefined) {
    byMask = [];
    ruleCache.set(key, byMask);
  }
  let rules = byMask[mask];
  if (rules === undefined) {
    const names: string[] = [];
    for (const [bit, name] of RULE_NAMES) if ((mask & bit) !== 0) names.push(name);
    if ((mask & M_COUNTRY_INFERRED) !== 0 && inferredFrom !== undefined) names.push(`phone.country_inferred:${inferredFrom}`);
    rules = Object.freeze(names);
    byMask[mask] = rules;
  }
  return rules;
}

const NO_FLAGS: readonly CleanFlag[] = Object.freeze([]);
const REPEATED_FLAGS: readonly CleanFlag[] = Object.freeze([
  Object.freeze({ code: 'phone.repeated_digits', message: 'Seven or more identical digits in a row: often a placeholder rather than a real number.' }),
]);

/** A run of 7+ identical digits is valid in many plans but mostly typed to get past a required field. */
function hasLongRun(e164: string): boolean {
  let run = 1;
  for (let i = 2; i < e164.length; i++) {
    if (e164.charCodeAt(i) === e164.charCodeAt(i - 1)) {
      if (++run >= 7) return true;
    } else {
      run = 1;
    }
  }
  return false;
}

const EMPTY = Object.freeze(cleanIssue<PhoneIssue>('phone.empty', 'The phone number is empty.'));

/** `countries` undefined for an international number, whose country came from its calling code. */
function failureIssue(failure: number, text: string, countries: readonly string[] | undefined): Cleaned<StandardPhone, PhoneIssue> {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const where = countries === undefined ? 'its country' : countries.join(', ');
  switch (failure) {
    case F_TOO_SHORT:
      return cleanIssue('phone.too_short', `${shown} has too few digits to be a phone number in ${where}.`);
    case F_TOO_LONG:
      return cleanIssue('phone.too_long', `${shown} has too many digits to be a phone number in ${where}.`);
    case F_BAD_CODE:
      return cleanIssue('phone.invalid', `${shown} does not start with a country calling code in use.`);
    case F_NO_COUNTRY:
      return cleanIssue('phone.invalid', `${shown} is in national format but no country is configured to read it.`);
    default:
      return cleanIssue('phone.invalid', `${shown} is not a valid phone number in ${where}.`);
  }
}

// ---------------------------------------------------------------------------
// Pre-normalization: one pass over the characters, no regular expressions.
// It reduces the input to an optional `+`, ASCII digits and an extension, so
// that both the fast path and libphonenumber see the same canonical string.

const MAX_TEXT_LENGTH = 200;
/** longest digit string that can still be an IDD + calling code + 17-digit national number */
const MAX_DIGITS = 30;
const MAX_EXTENSION = 10;
const MAX_HYPHEN_EXTENSION = 6;

interface ScanState {
  digits: string;
  plus: boolean;
  extension: string;
  rules: number;
  /** index in `digits` where the last hyphen-separated group starts, 0 when none */
  groupStart: number;
  /** bit i set when a separator stood before digit i: how the writer grouped the digits */
  breaks: number;
}

// Reused between calls: standardizePhone is synchronous and this is its
// hottest path, so the scanner writes here instead of allocating.
const sc: ScanState = { digits: '', plus: false, extension: '', rules: 0, groupStart: 0, breaks: 0 };

// Character classes for the scanner.
const K_DIGIT = 0;
const K_SEPARATOR = 1;
const K_HYPHEN = 2;
const K_PLUS = 3;
const K_OTHER = 4;

/** Digit value of a full-width or Arabic-Indic digit, or -1. */
function unicodeDigit(c: number): number {
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10;
  if (c >= 0x0660 && c <= 0x0669) return c - 0x0660;
  if (c >= 0x06f0 && c <= 0x06f9) return c - 0x06f0;
  return -1;
}

function kindOf(c: number): number {
  if (c >= 48 && c <= 57) return K_DIGIT;
  switch (c) {
    case 32: case 9: case 10: case 13: case 46: case 40: case 41: case 47: case 91: case 93: case 126:
    case 0xa0: case 0xad: case 0x200b: case 0x200c: case 0x200d: case 0x2060: case 0xfeff: case 0x3000:
    case 0xff08: case 0xff09: case 0xff0e: case 0xff0f: case 0xff3b: case 0xff3d: case 0xff5e:
    case 0x2053: case 0x223c:
      return K_SEPARATOR;
    case 45: case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212: case 0x30fc: case 0xff0d:
      return K_HYPHEN;
    case 43: case 0xff0b:
      return K_PLUS;
    default:
      return unicodeDigit(c) >= 0 ? K_DIGIT : K_OTHER;
  }
}

function scan(text: string): Cleaned<StandardPhone, PhoneIssue> | undefined {
  const n = text.length;
  let i = 0;
  // Already digits only (the commonest stored shape): no copy at all.
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  sc.plus = false;
  sc.extension = '';
  sc.rules = 0;
  sc.groupStart = 0;
  sc.breaks = 0;
  if (i === n) {
    if (n === 0) return EMPTY;
    if (n > MAX_DIGITS) return tooManyDigits(text);
    sc.digits = text;
    return undefined;
  }
  let digits = text.slice(0, i);
  let rules = 0;
  let sawNonSpace = i > 0;
  if (i === 0 && n >= 4 && (text.charCodeAt(0) | 32) === 116 && (text.charCodeAt(1) | 32) === 101 && (text.charCodeAt(2) | 32) === 108 && text.charCodeAt(3) === 58) {
    i = 4;
    rules |= R_TEL_URI;
    sawNonSpace = true;
  }
  let afterHyphen = false;
  let afterSeparator = false;
  let breaks = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    const kind = kindOf(c);
    if (kind === K_DIGIT) {
      if (c <= 57) {
        digits += text[i];
      } else {
        digits += String.fromCharCode(48 + unicodeDigit(c));
        rules |= c >= 0xff10 ? R_FULLWIDTH : R_UNICODE_DIGITS;
      }
      if (afterHyphen) {
        sc.groupStart = digits.length - 1;
        afterHyphen = false;
      }
      if (afterSeparator) {
        if (digits.length <= 31) breaks |= 1 << (digits.length - 1);
        afterSeparator = false;
      }
      sawNonSpace = true;
      continue;
    }
    if (c >= 0xff00 || c === 0x3000) rules |= R_FULLWIDTH;
    if (kind === K_SEPARATOR) {
      if (c > 32 && c !== 0xa0 && c !== 0x3000) sawNonSpace = true;
      afterSeparator = digits.length > 0;
      continue;
    }
    if (kind === K_HYPHEN) {
      afterHyphen = digits.length > 0;
      afterSeparator = afterHyphen;
      sawNonSpace = true;
      continue;
    }
    if (kind === K_PLUS && digits.length === 0 && !sc.plus) {
      sc.plus = true;
      sawNonSpace = true;
      continue;
    }
    // Anything else may only open an extension after the number.
    if (digits.length >= 3) {
      const extension = readExtension(text, i);
      if (extension !== undefined) {
        if (extension.length > MAX_EXTENSION) {
          return cleanIssue('phone.invalid', `${JSON.stringify(text)} has ${extension.length} digits after the number: too long for an extension (more than one number?).`);
        }
        sc.extension = extension;
        rules |= R_EXTENSION;
        break;
      }
    }
    return cleanIssue('phone.not_a_number', `${JSON.stringify(text)} contains ${JSON.stringify(String.fromCodePoint(text.codePointAt(i) ?? c))}, which is not part of a phone number.`);
  }
  if (digits.length === 0) {
    return sawNonSpace ? cleanIssue('phone.not_a_number', `${JSON.stringify(text)} has no digits.`) : EMPTY;
  }
  if (digits.length > MAX_DIGITS) return tooManyDigits(text);
  sc.digits = digits;
  sc.rules = rules;
  sc.breaks = breaks;
  return undefined;
}

function tooManyDigits(text: string): Cleaned<StandardPhone, PhoneIssue> {
  return cleanIssue('phone.too_long', `${JSON.stringify(text.slice(0, 40))} has more than ${MAX_DIGITS} digits: too many for one phone number.`);
}

/** Fold full-width ASCII (U+FF01–FF5E) and upper case, so labels compare as plain lower-case ASCII. */
function foldAscii(c: number): number {
  if (c >= 0xff01 && c <= 0xff5e) c -= 0xfee0;
  return c >= 65 && c <= 90 ? c + 32 : c;
}

// Longest first, so `extension` is not read as `ext` + garbage.
const EXTENSION_LABELS: readonly string[] = ['extension', 'extn', 'ext', 'x', '#', '分机号', '分机', '转', ';ext=', ',,', ',', ';'];

/** The extension digits if `text` from `start` is a label, digits and nothing else (a trailing `#` aside). */
function readExtension(text: string, start: number): string | undefined {
  let i = start;
  let labelEnd = -1;
  for (const label of EXTENSION_LABELS) {
    if (i + label.length > text.length) continue;
    let j = 0;
    while (j < label.length && foldAscii(text.charCodeAt(i + j)) === label.charCodeAt(j)) j++;
    if (j === label.length) {
      labelEnd = i + j;
      break;
    }
  }
  if (labelEnd < 0) return undefined;
  i = labelEnd;
  // `ext. 12`, `ext: 12`, `转：12`, `x-12`
  while (i < text.length) {
    const c = foldAscii(text.charCodeAt(i));
    if (c === 46 || c === 58 || c === 32 || c === 45 || c === 61 || c === 0x3000 || c === 0xa0 || c === 9) i++;
    else break;
  }
  let extension = '';
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) extension += text[i];
    else if (unicodeDigit(c) >= 0) extension += String.fromCharCode(48 + unicodeDigit(c));
    else break;
    i++;
  }
  if (extension === '') return undefined;
  while (i < text.length) {
    const c = foldAscii(text.charCodeAt(i));
    if (c === 35 || c === 32 || c === 0x3000 || c === 9) i++;
    else return undefined;
  }
  return extension;
}

// ---------------------------------------------------------------------------
// Parsing. libphonenumber-js's own parse costs several microseconds, most of it
// rebuilding RegExps from metadata strings on every call, and getType() as
// much again. The fast path below mirrors its steps (extractCountryCallingCode,
// extractNationalNumber, getCountryByCallingCode, getNumberType, and the
// format choice of formatNational) for the canonical digit strings the
// scanner produces, reading the library's own metadata with each pattern
// compiled once. The library stays the reference: phone.test.ts checks that
// both agree on parse, country, validity, type and national format over
// generated numbers of every country, and runs the whole standardizer through
// the library alone, which is also what happens if the metadata layout changes.

interface TypeRule {
  pattern: RegExp | undefined;
  /** true when the metadata pattern is '' (deduplicated against fixed line) */
  empty: boolean;
  lengths: readonly number[] | undefined;
}

interface Plan {
  callingCode: string;
  idd: RegExp | undefined;
  nationalNumber: RegExp;
  lengths: readonly number[] | undefined;
  prefixForParsing: RegExp | undefined;
  prefixTransform: string | undefined;
  leadingDigits: RegExp | undefined;
  /** indexed like the metadata: fixed line, mobile, toll free, premium rate, personal, voicemail, UAN, pager, VoIP, shared cost */
  types: readonly (TypeRule | undefined)[] | undefined;
  raw: readonly unknown[];
  /** compiled on first use: only needed to break ties between configured countries */
  formats: readonly FormatRule[] | undefined;
}

interface FormatRule {
  leadingDigits: RegExp | undefined;
  pattern: RegExp;
  /** the national format adds digits (a trunk prefix such as CN's `0$1`) to the national number */
  addsDigits: boolean;
}

type LibType = 'FIXED_LINE' | 'MOBILE' | 'TOLL_FREE' | 'PREMIUM_RATE' | 'PERSONAL_NUMBER' | 'VOICEMAIL' | 'UAN' | 'PAGER' | 'VOIP' | 'SHARED_COST' | 'FIXED_LINE_OR_MOBILE';

const FIXED_LINE = 0;
const MOBILE = 1;
const TYPE_NAMES: readonly LibType[] = ['FIXED_LINE', 'MOBILE', 'TOLL_FREE', 'PREMIUM_RATE', 'PERSONAL_NUMBER', 'VOICEMAIL', 'UAN', 'PAGER', 'VOIP', 'SHARED_COST'];
/** the order libphonenumber tries the other types in, which decides overlaps */
const NON_FIXED_ORDER: readonly number[] = [1, 3, 2, 9, 8, 4, 7, 6, 5];

const PHONE_TYPES: Readonly<Record<LibType, PhoneType>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed_line',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
  TOLL_FREE: 'toll_free',
  PREMIUM_RATE: 'premium_rate',
  VOIP: 'voip',
  SHARED_COST: 'other',
  PERSONAL_NUMBER: 'other',
  PAGER: 'other',
  UAN: 'other',
  VOICEMAIL: 'other',
};

const MIN_NSN = 2;
const MAX_NSN = 17;

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// An empty list is kept as it is: the library treats it as present (and matching nothing).
function numberList(value: unknown): readonly number[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'number') ? (value as number[]) : undefined;
}

function compilePlan(raw: readonly unknown[]): Plan {
  const idd = nonEmptyString(raw[1]);
  const prefix = nonEmptyString(raw[7]) ?? nonEmptyString(raw[5]);
  const leading = nonEmptyString(raw[10]);
  const rawTypes = raw[11];
  let types: (TypeRule | undefined)[] | undefined;
  if (Array.isArray(rawTypes) && rawTypes.length > 0) {
    types = [];
    for (let t = 0; t < TYPE_NAMES.length; t++) {
      const entry: unknown = rawTypes[t];
      if (!Array.isArray(entry)) {
        types.push(undefined);
        continue;
      }
      const pattern = nonEmptyString(entry[0]);
      types.push({
        pattern: pattern === undefined ? undefined : new RegExp(`^(?:${pattern})$`),
        empty: entry[0] === '',
        lengths: numberList(entry[1]) ?? numberList(raw[3]),
      });
    }
  }
  return {
    callingCode: String(raw[0]),
    idd: idd === undefined ? undefined : new RegExp(`^(?:${idd})`),
    nationalNumber: new RegExp(`^(?:${nonEmptyString(raw[2]) ?? ''})$`),
    lengths: numberList(raw[3]),
    prefixForParsing: prefix === undefined ? undefined : new RegExp(`^(?:${prefix})`),
    prefixTransform: nonEmptyString(raw[8]),
    leadingDigits: leading === undefined ? undefined : new RegExp(`^(?:${leading})`),
    types,
    raw,
    formats: undefined,
  };
}

const countryPlans = new Map<string, Plan>();
const codePlans = new Map<string, Plan>();
const callingCodeCountries = new Map<string, readonly string[]>();
const nonGeographic = new Map<string, readonly unknown[]>();

/**
 * The fast path reads libphonenumber's compressed metadata (format version 4)
 * directly; any other layout switches it off and every number goes through
 * the library.
 */
const METADATA_LAYOUT_KNOWN = ((): boolean => {
  const cn: unknown = metadata.countries.CN;
  const us: unknown = metadata.countries.US;
  if (metadata.version !== 4 || !Array.isArray(cn) || !Array.isArray(us) || cn[0] !== '86' || us[1] !== '011' || !Array.isArray(cn[11])) return false;
  for (const [code, countries] of Object.entries(metadata.country_calling_codes)) {
    // A three-letter entry (`001`) marks a non-geographic code, planned in `nonGeographic`.
    if (Array.isArray(countries) && countries.length > 0 && !(countries.length === 1 && String(countries[0]).length === 3)) {
      callingCodeCountries.set(code, countries.map(String));
    }
  }
  for (const [code, plan] of Object.entries(metadata.nonGeographic ?? {})) {
    if (Array.isArray(plan)) nonGeographic.set(code, plan);
  }
  return true;
})();

/** The fast path is on whenever the metadata layout is known; tests switch it off to run the library-only path. */
let fast = METADATA_LAYOUT_KNOWN;

function planOfCountry(country: string): Plan {
  let plan = countryPlans.get(country);
  if (plan === undefined) {
    const raw: unknown = (metadata.countries as Record<string, unknown>)[country];
    if (!Array.isArray(raw)) throw new RangeError(`No phone metadata for country ${country}`);
    plan = compilePlan(raw);
    countryPlans.set(country, plan);
  }
  return plan;
}

/** The plan libphonenumber selects for a calling code: its main country's, or the non-geographic one. */
function planOfCode(code: string): Plan | undefined {
  const countries = callingCodeCountries.get(code);
  if (countries !== undefined) return countries[0] === undefined ? undefined : planOfCountry(countries[0]);
  let plan = codePlans.get(code);
  if (plan === undefined) {
    const raw = nonGeographic.get(code);
    if (raw === undefined) return undefined;
    plan = compilePlan(raw);
    codePlans.set(code, plan);
  }
  return plan;
}

function isType(nsn: string, rule: TypeRule | undefined): boolean {
  if (rule === undefined || rule.pattern === undefined) return false;
  if (rule.lengths !== undefined && !rule.lengths.includes(nsn.length)) return false;
  return rule.pattern.test(nsn);
}

/** Mirror of libphonenumber-js `getNumberType`. */
function typeIn(nsn: string, plan: Plan): LibType | undefined {
  if (!plan.nationalNumber.test(nsn)) return undefined;
  const types = plan.types;
  if (types === undefined) return undefined;
  if (isType(nsn, types[FIXED_LINE])) {
    const mobile = types[MOBILE];
    if (mobile === undefined || mobile.empty || isType(nsn, mobile)) return 'FIXED_LINE_OR_MOBILE';
    return 'FIXED_LINE';
  }
  for (const t of NON_FIXED_ORDER) {
    if (isType(nsn, types[t])) return TYPE_NAMES[t];
  }
  return undefined;
}

/** Mirror of `isValid()`: with type patterns (every plan in the max metadata) valid means typed. */
function validIn(nsn: string, plan: Plan, type: LibType | undefined): boolean {
  return plan.types !== undefined ? type !== undefined : plan.nationalNumber.test(nsn);
}

/** Mirror of `getCountryByCallingCode`: the exact country among those sharing a calling code. */
function countryByCode(code: string, nsn: string): string | undefined {
  const countries = callingCodeCountries.get(code);
  if (countries === undefined) return undefined;
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = planOfCountry(country);
    if (plan.leadingDigits !== undefined) {
      if (nsn !== '' && plan.leadingDigits.test(nsn)) return country;
    } else if (typeIn(nsn, plan) !== undefined) {
      return country;
    }
  }
  return undefined;
}

const IS_POSSIBLE = 0;
const TOO_SHORT = 1;
const TOO_LONG = 2;
const INVALID_LENGTH = 3;

/** Mirror of `checkNumberLength` without a type. */
function checkLength(nsn: string, plan: Plan): number {
  const lengths = plan.lengths;
  if (lengths === undefined) return IS_POSSIBLE;
  const min = lengths[0];
  if (min === undefined) return INVALID_LENGTH;
  if (min === nsn.length) return IS_POSSIBLE;
  if (min > nsn.length) return TOO_SHORT;
  if ((lengths[lengths.length - 1] ?? min) < nsn.length) return TOO_LONG;
  return lengths.indexOf(nsn.length, 1) >= 0 ? IS_POSSIBLE : INVALID_LENGTH;
}

/** Mirror of `extractNationalNumber`: strip a national prefix or carrier code when that leaves a possible number. */
function nationalNumberIn(number: string, plan: Plan): string {
  const re = plan.prefixForParsing;
  if (re === undefined || number === '') return number;
  const match = re.exec(number);
  if (match === null) return number;
  const groups = match.length - 1;
  const captured = groups > 0 && !!match[groups];
  const stripped = plan.prefixTransform !== undefined && captured ? number.replace(re, plan.prefixTransform) : number.slice(match[0].length);
  if (stripped === number) return number;
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(stripped)) return number;
  if (plan.lengths !== undefined) {
    const country = countryByCode(plan.callingCode, stripped);
    const result = checkLength(stripped, country === undefined ? plan : planOfCountry(country));
    if (result === TOO_SHORT || result === INVALID_LENGTH) return number;
  }
  return stripped;
}

function formatsOf(plan: Plan): readonly FormatRule[] {
  if (plan.formats !== undefined) return plan.formats;
  // Countries without formats of their own (CA, the NANP islands…) borrow their
  // calling code's main country's, as do their prefix formatting rules.
  const main = planOfCode(plan.callingCode) ?? plan;
  const own = plan.raw[4];
  const source: unknown = Array.isArray(own) ? own : main.raw[4];
  const planRule = nonEmptyString(plan.raw[6]) ?? nonEmptyString(main.raw[6]);
  const formats: FormatRule[] = [];
  if (Array.isArray(source)) {
    for (const entry of source as unknown[]) {
      if (!Array.isArray(entry)) continue;
      const template = nonEmptyString(entry[1]) ?? '';
      const leading: unknown = entry[2];
      const lastLeading = Array.isArray(leading) && leading.length > 0 ? nonEmptyString(leading[leading.length - 1]) : undefined;
      const rule = nonEmptyString(entry[3]) ?? planRule;
      const national = rule === undefined ? template : template.replace(/(\$\d)/, rule);
      formats.push({
        leadingDigits: lastLeading === undefined ? undefined : new RegExp(`^(?:${lastLeading})`),
        pattern: new RegExp(`^(?:${nonEmptyString(entry[0]) ?? ''})$`),
        addsDigits: /\d/.test(national.replace(/\$\d/g, '')),
      });
    }
  }
  plan.formats = formats;
  return formats;
}

/**
 * Mirror of `formatNational()` reduced to one question: does the number's
 * national format carry digits the national number lacks (CN `0415 555 2671`
 * for 4155552671)? Used only to rank a bare reading below a later country's.
 */
function nationalFormatAddsDigits(nsn: string, plan: Plan): boolean {
  for (const format of formatsOf(plan)) {
    if (format.leadingDigits !== undefined && !format.leadingDigits.test(nsn)) continue;
    if (format.pattern.test(nsn)) return format.addsDigits;
  }
  return false;
}

/** Bit i set where the national format starts a new group at digit i of the national number; undefined without a format. */
function groupsIn(nsn: string, plan: Plan): number | undefined {
  for (const format of formatsOf(plan)) {
    if (format.leadingDigits !== undefined && !format.leadingDigits.test(nsn)) continue;
    const match = format.pattern.exec(nsn);
    if (match === null) continue;
    let groups = 0;
    let at = 0;
    for (let g = 1; g < match.length - 1; g++) {
      at += match[g]?.length ?? 0;
      if (at < 32) groups |= 1 << at;
    }
    return groups;
  }
  return undefined;
}

/** A parsed number before validation: calling code, national (significant) number, country. */
interface Parsed {
  code: string;
  nsn: string;
  country: string | undefined;
  /** M_* bit: where the calling code came from */
  via: number;
}

/** Mirror of `parsePhoneNumberFromString('+' + digits)`; undefined where it returns undefined. */
function fastInternational(digits: string, via: number): Parsed | undefined {
  if (digits.length < 3 || digits.charCodeAt(0) === 48) return undefined;
  // Calling codes are prefix-free, so the first one found is the one.
  for (let len = 1; len <= 3 && len <= digits.length; len++) {
    const code = digits.slice(0, len);
    const plan = planOfCode(code);
    if (plan === undefined) continue;
    const rest = digits.slice(len);
    if (rest === '') return undefined;
    return finish(code, nationalNumberIn(rest, plan), undefined, via);
  }
  return undefined;
}

/** Mirror of `parsePhoneNumberFromString(digits, country)` for digits without `+`. */
function fastNational(digits: string, country: string): Parsed | undefined {
  if (digits.length < 2) return undefined;
  const plan = planOfCountry(country);
  // Dialled from `country` to abroad (`00` in CN, `011` in the US); the
  // library gives up on the national reading once an IDD is followed by a
  // digit other than 0.
  const idd = plan.idd?.exec(digits);
  if (idd !== null && idd !== undefined && idd[0] !== '') {
    const rest = digits.slice(idd[0].length);
    if (rest !== '' && rest.charCodeAt(0) !== 48) return fastInternational(rest, M_IDD);
  }
  const code = plan.callingCode;
  if (digits.startsWith(code)) {
    // The calling code typed without `+` (8613800138000): taken off only if
    // that turns an invalid national number into a valid one, or the whole
    // is too long to be national.
    const shorter = digits.slice(code.length);
    const whole = nationalNumberIn(digits, plan);
    if ((!plan.nationalNumber.test(whole) && plan.nationalNumber.test(nationalNumberIn(shorter, plan))) || checkLength(whole, plan) === TOO_LONG) {
      const codePlan = planOfCode(code);
      if (shorter === '' || codePlan === undefined) return undefined;
      return finish(code, nationalNumberIn(shorter, codePlan), undefined, M_CODE_WITHOUT_PLUS);
    }
  }
  return finish(code, nationalNumberIn(digits, plan), country, M_COUNTRY_INFERRED);
}

function finish(code: string, nsn: string, country: string | undefined, via: number): Parsed | undefined {
  if (nsn.length < MIN_NSN || nsn.length > MAX_NSN) return undefined;
  return { code, nsn, country: countryByCode(code, nsn) ?? country, via };
}

/** The library itself, used only when its metadata layout is not the one the fast path reads. */
function libraryParse(digits: string, plus: boolean, country: CountryCode | undefined): Parsed | undefined {
  const parsed = parsePhoneNumberFromString(plus ? `+${digits}` : digits, country);
  if (parsed === undefined) return undefined;
  const code = parsed.countryCallingCode;
  const nsn = parsed.nationalNumber;
  let via = plus ? M_NONE : M_COUNTRY_INFERRED;
  if (!plus && digits.endsWith(code + nsn)) via = digits.length === code.length + nsn.length ? M_CODE_WITHOUT_PLUS : M_IDD;
  return { code, nsn, country: parsed.country, via };
}

/** Type and validity of a parsed number, as `getType()` / `isValid()` would answer them. */
function judge(parsed: Parsed): { valid: boolean; type: LibType | undefined; length: number } {
  if (fast) {
    const plan = parsed.country !== undefined ? planOfCountry(parsed.country) : planOfCode(parsed.code);
    if (plan === undefined) return { valid: false, type: undefined, length: IS_POSSIBLE };
    const type = typeIn(parsed.nsn, plan);
    return { valid: validIn(parsed.nsn, plan, type), type, length: checkLength(parsed.nsn, plan) };
  }
  const text = `+${parsed.code}${parsed.nsn}`;
  const number = parsePhoneNumberFromString(text);
  const length = validatePhoneNumberLength(text);
  return { valid: number?.isValid() ?? false, type: number?.getType(), length: length === 'TOO_SHORT' ? TOO_SHORT : length === 'TOO_LONG' ? TOO_LONG : IS_POSSIBLE };
}

function toFound(parsed: Parsed, mask: number, inferredFrom: string | undefined): Failure {
  const verdict = judge(parsed);
  if (!verdict.valid) {
    return verdict.length === TOO_SHORT ? F_TOO_SHORT : verdict.length === TOO_LONG ? F_TOO_LONG : F_INVALID;
  }
  return {
    e164: `+${parsed.code}${parsed.nsn}`,
    country: parsed.country,
    type: verdict.type === undefined ? undefined : PHONE_TYPES[verdict.type],
    mask,
    inferredFrom,
  };
}

function attempt(digits: string, plus: boolean, countries: readonly CountryCode[], breaks: number): Failure {
  return plus ? attemptInternational(digits, M_NONE) : attemptNational(digits, countries, breaks);
}

function attemptInternational(digits: string, via: number): Failure {
  const parsed = fast ? fastInternational(digits, via) : libraryParse(digits, true, undefined);
  if (parsed === undefined) return unparsedFailure(digits, true);
  return toFound(parsed, via, undefined);
}

/**
 * Each configured country in order; the first valid reading wins, else the
 * most telling failure. Readings are ranked by one more test: is the number
 * written the way its country writes it nationally? 4155552671 is valid in CN
 * only as 0415 555 2671 (trunk prefix missing), and 1-305-555-1234 is a CN
 * mobile only if grouped 130 5555 1234; such a reading yields to a later
 * country that reads the number as written (US), and wins only when none does.
 */
function attemptNational(digits: string, countries: readonly CountryCode[], breaks: number): Failure {
  if (countries.length === 0) return F_NO_COUNTRY;
  let failure = 0;
  let unlikely: Found | undefined;
  for (let k = 0; k < countries.length; k++) {
    const country = countries[k] as CountryCode;
    const parsed = fast ? fastNational(digits, country) : libraryParse(digits, false, country);
    const result = parsed === undefined ? unparsedFailure(digits, false) : toFound(parsed, parsed.via, country);
    if (typeof result !== 'number') {
      const mayYield = unlikely !== undefined || k < countries.length - 1;
      if (!mayYield || parsed === undefined || parsed.via !== M_COUNTRY_INFERRED || writtenAsNational(digits, breaks, parsed)) return result;
      unlikely ??= result;
      continue;
    }
    // Length verdicts only stand when every country agrees on them.
    failure = failure === 0 || failure === result ? result : F_INVALID;
  }
  return unlikely ?? failure;
}

/** Whether the digits carry the national format's trunk prefix (if it has one) and the writer's grouping fits its groups. */
function writtenAsNational(digits: string, breaks: number, parsed: Parsed): boolean {
  if (parsed.nsn === digits && lacksTrunkPrefix(parsed)) return false;
  if (breaks === 0 || !digits.endsWith(parsed.nsn)) return true;
  const groups = nationalGroups(parsed);
  if (groups === undefined) return true;
  // Breaks inside the prefix or at the start of the national number say nothing.
  const offset = digits.length - parsed.nsn.length;
  for (let i = offset + 1; i < digits.length && i < 32; i++) {
    if ((breaks & (1 << i)) !== 0 && (groups & (1 << (i - offset))) === 0) return false;
  }
  return true;
}

function nationalGroups(parsed: Parsed): number | undefined {
  if (fast) {
    const plan = parsed.country !== undefined ? planOfCountry(parsed.country) : planOfCode(parsed.code);
    return plan === undefined ? undefined : groupsIn(parsed.nsn, plan);
  }
  // Without the fast path's formats: the library's own national format, read back for its groups.
  const national = parsePhoneNumberFromString(`+${parsed.code}${parsed.nsn}`)?.formatNational();
  if (national === undefined) return undefined;
  const runs = national.split(/\D+/).filter((run) => run !== '');
  let groups = 0;
  // The trunk prefix, if any, comes first: count from minus its length.
  let at = parsed.nsn.length - runs.join('').length;
  for (let r = 0; r < runs.length - 1; r++) {
    at += runs[r]?.length ?? 0;
    if (at > 0 && at < 32) groups |= 1 << at;
  }
  return groups;
}

function lacksTrunkPrefix(parsed: Parsed): boolean {
  if (fast) {
    const plan = parsed.country !== undefined ? planOfCountry(parsed.country) : planOfCode(parsed.code);
    return plan !== undefined && nationalFormatAddsDigits(parsed.nsn, plan);
  }
  const national = parsePhoneNumberFromString(`+${parsed.code}${parsed.nsn}`)?.formatNational() ?? '';
  return national.replace(/\D/g, '') !== parsed.nsn;
}

function unparsedFailure(digits: string, plus: boolean): number {
  if (digits.length < (plus ? 3 : 2)) return F_TOO_SHORT;
  if (plus && fast && (digits.charCodeAt(0) === 48 || planOfCode(digits.slice(0, 1)) === undefined && planOfCode(digits.slice(0, 2)) === undefined && planOfCode(digits.slice(0, 3)) === undefined)) {
    return F_BAD_CODE;
  }
  return digits.length > MAX_NSN ? F_TOO_LONG : F_INVALID;
}

// Options are usually one long-lived array; resolve and check it once.
const resolvedCountries = new WeakMap<readonly string[], readonly CountryCode[]>();

function countryList(countries: readonly string[]): readonly CountryCode[] {
  let resolved = resolvedCountries.get(countries);
  if (resolved === undefined) {
    const list: CountryCode[] = [];
    for (const country of countries) {
      const upper = country.toUpperCase();
      // Settings are checked where they are set; a country without phone metadata
      // (Antarctica, say) has no national format to try, and must not stop a batch.
      if (isSupportedCountry(upper)) list.push(upper);
    }
    resolved = Object.freeze(list);
    resolvedCountries.set(countries, resolved);
  }
  return resolved;
}

/** @internal for phone.test.ts: the fast parse and verdict, to compare against libphonenumber-js itself. */
export const fastPathForTests = {
  get enabled(): boolean {
    return fast;
  },
  /** Run everything through libphonenumber-js itself (false), or back through the fast path (true). */
  useFastPath(on: boolean): void {
    fast = on && METADATA_LAYOUT_KNOWN;
  },
  parse(digits: string, plus: boolean, country: string | undefined): { e164: string; country: string | undefined; valid: boolean; type: string | undefined } | undefined {
    const parsed = plus ? fastInternational(digits, M_NONE) : country === undefined ? undefined : fastNational(digits, country);
    if (parsed === undefined) return undefined;
    const verdict = judge(parsed);
    return { e164: `+${parsed.code}${parsed.nsn}`, country: parsed.country, valid: verdict.valid, type: verdict.type };
  },
  /** whether `formatNational()` of this number has digits its national number lacks */
  nationalFormatAddsDigits(code: string, nsn: string, country: string | undefined): boolean {
    return lacksTrunkPrefix({ code, nsn, country, via: M_NONE });
  },
  /** bit i set where `formatNational()` starts a group at digit i of the national number */
  nationalGroups(code: string, nsn: string, country: string | undefined): number | undefined {
    return nationalGroups({ code, nsn, country, via: M_NONE });
  },
};
