/**
 * Closed-set and numeric fields as forms, spreadsheets and old systems write
 * them, in English and Chinese: gender, yes/no flags and numbers (grouped,
 * decimal-comma, full-width, with currency, percent or Chinese numerals).
 */
import { asText, cleanIssue, cleanValue, type Cleaned } from './result.js';

export type Gender = 'male' | 'female' | 'other' | 'unknown';
export type GenderIssue = 'gender.empty' | 'gender.unknown_value';
export type BooleanIssue = 'boolean.empty' | 'boolean.unknown_value';
export type NumberIssue = 'number.empty' | 'number.invalid';

export interface NumberOptions {
  /** the decimal mark of the source: `'.'` (default) or `','` (much of Europe, South America) */
  decimal?: '.' | ',';
}

// Exports write NULL as these words; they mean "no value", not a value.
const NULL_WORDS = new Set(['null', 'undefined', 'nil', '(null)', '<null>', '#n/a']);

/**
 * Lookup key for closed vocabularies: width and case folded, and spacing and
 * punctuation that people vary freely ("Non-Binary", "n/a", "Mr.") removed.
 */
function vocabularyKey(text: string): string {
  const folded = text.normalize('NFKC').trim().toLowerCase();
  // Numbers stay as written: "-1" and "1.0" are not the code "1".
  if (/^[+\-−]?\d+(?:\.\d+)?$/.test(folded)) return folded;
  return folded.replace(/[\s._\-/·'’‐-―?*]+/g, '');
}

function isBlank(text: string): boolean {
  const trimmed = text.normalize('NFKC').trim();
  return trimmed === '' || NULL_WORDS.has(trimmed.toLowerCase());
}

function vocabulary<V>(entries: readonly (readonly [V, readonly string[]])[]): ReadonlyMap<string, V> {
  const map = new Map<string, V>();
  for (const [value, words] of entries) {
    for (const word of words) map.set(vocabularyKey(word), value);
  }
  return map;
}

const GENDER_WORDS = vocabulary<Gender>([
  ['male', ['male', 'm', 'man', 'boy', 'mr', 'sir', 'gentleman', 'masculine', '♂', '男', '男性', '男士', '男生', '男子', '男的', '男孩', '先生']],
  [
    'female',
    // `w` is the German forms' "weiblich" (m/w/d).
    ['female', 'f', 'woman', 'girl', 'lady', 'w', 'mrs', 'ms', 'miss', 'madam', 'feminine', '♀', '女', '女性', '女士', '女生', '女子', '女的', '女孩', '小姐', '太太', '夫人'],
  ],
  [
    'other',
    // `d` is the German forms' "divers" (m/w/d); `x` the passport marker.
    ['other', 'others', 'o', 'non-binary', 'nb', 'enby', 'x', 'diverse', 'divers', 'd', 'genderqueer', 'genderfluid', 'agender', 'third gender', '其他', '其它', '其他性别', '非二元'],
  ],
  [
    'unknown',
    [
      'unknown', 'unk', 'u', 'not known', 'unspecified', 'not specified', 'not stated', 'undisclosed', 'withheld', 'declined',
      'decline to state', 'prefer not to say', 'prefer not to answer', 'prefer not to disclose', 'rather not say', 'n/a', 'not applicable',
      '未知', '保密', '不详', '不明', '未说明', '未填', '未填写', '不愿透露', '不公开', '隐私',
    ],
  ],
]);

/*
 * Numeric codes follow ISO/IEC 5218 and GB/T 2261.1 (1 male, 2 female, 9 not
 * stated), which is also what most Chinese systems store. 0 is refused: the
 * standards read it as "not known", but systems with 0/1 codes use it for
 * female or for male, and a wrong guess is worse than a question.
 */
const GENDER_CODES: ReadonlyMap<string, Gender> = new Map([
  ['1', 'male'],
  ['2', 'female'],
  ['9', 'unknown'],
]);

/**
 * A gender as written in English or Chinese forms and exports → `male`,
 * `female`, `other` or `unknown`. "Unknown"-like answers (`保密`, `n/a`, `-`)
 * are the value `unknown`, not an issue; blank input is `gender.empty`.
 * Numeric codes are read as ISO/IEC 5218 (1 male, 2 female, 9 unknown);
 * 0 is refused as system-specific. Rules: `gender.mapped`, `gender.numeric_code`.
 */
export function standardizeGender(raw: unknown): Cleaned<Gender, GenderIssue> {
  if (raw === null || raw === undefined) return cleanIssue('gender.empty', 'Gender is empty.');
  const text = asText(raw);
  if (text === undefined) return cleanIssue('gender.unknown_value', `Gender is a ${typeof raw}, not text.`);
  if (isBlank(text)) return cleanIssue('gender.empty', 'Gender is empty.');
  const key = vocabularyKey(text);
  const code = GENDER_CODES.get(key);
  if (code !== undefined) return cleanValue(code, ['gender.numeric_code']);
  if (key === '0') {
    return cleanIssue('gender.unknown_value', 'Gender code 0 means female, male or unknown depending on the source system; map it explicitly.');
  }
  // A placeholder such as "-" or "?" is an answer of "not known", not a blank cell.
  const gender = key === '' ? 'unknown' : GENDER_WORDS.get(key);
  if (gender === undefined) return cleanIssue('gender.unknown_value', 'Gender is not a recognised value.');
  return cleanValue(gender, text === gender ? [] : ['gender.mapped']);
}

const BOOLEAN_WORDS = vocabulary<boolean>([
  [
    true,
    ['true', 't', 'yes', 'y', '1', 'on', 'enabled', 'checked', '✓', '✔', '√', '☑', '✅', '是', '是的', '对', '对的', '有', '真', '已', '开', '开启', '启用', '已开启', '已启用'],
  ],
  [
    false,
    ['false', 'f', 'no', 'n', '0', 'off', 'disabled', 'unchecked', '✗', '✘', '×', '❌', '否', '不是', '错', '不', '非', '无', '没有', '假', '未', '关', '关闭', '停用', '已关闭', '未开启'],
  ],
]);

/**
 * A yes/no value in English, Chinese or check-mark form → boolean. Blank
 * cells and placeholders (`-`, `n/a`) are `boolean.empty`: unlike gender a
 * boolean has no "unknown" value to give them. Rule: `boolean.mapped`.
 */
export function standardizeBoolean(raw: unknown): Cleaned<boolean, BooleanIssue> {
  if (typeof raw === 'boolean') return cleanValue(raw);
  if (raw === null || raw === undefined) return cleanIssue('boolean.empty', 'Yes/no value is empty.');
  const text = asText(raw);
  if (text === undefined) return cleanIssue('boolean.unknown_value', `Yes/no value is a ${typeof raw}, not text.`);
  if (isBlank(text)) return cleanIssue('boolean.empty', 'Yes/no value is empty.');
  const key = vocabularyKey(text);
  if (key === '' || key === 'na' || key === 'notapplicable') return cleanIssue('boolean.empty', 'Yes/no value is a placeholder, not an answer.');
  const value = BOOLEAN_WORDS.get(key);
  if (value === undefined) return cleanIssue('boolean.unknown_value', 'Yes/no value is not a recognised answer.');
  return cleanValue(value, ['boolean.mapped']);
}

// ---------------------------------------------------------------------------
// Numbers

/*
 * Arithmetic is done on exact decimals (coefficient × 10^exponent) and turned
 * into a double once at the end, so "1.15万" is 11500 and "33.3%" is 0.333,
 * exactly the doubles those literals denote, with no float drift on the way.
 */
interface Decimal {
  coefficient: bigint;
  exponent: number;
}

const ZERO: Decimal = { coefficient: 0n, exponent: 0 };

function decimalOf(integerDigits: string, fractionDigits = ''): Decimal {
  return { coefficient: BigInt((integerDigits + fractionDigits) || '0'), exponent: -fractionDigits.length };
}

function shift(value: Decimal, powerOfTen: number): Decimal {
  return { coefficient: value.coefficient, exponent: value.exponent + powerOfTen };
}

function add(a: Decimal, b: Decimal): Decimal {
  const exponent = Math.min(a.exponent, b.exponent);
  const scale = (d: Decimal): bigint => d.coefficient * 10n ** BigInt(d.exponent - exponent);
  return { coefficient: scale(a) + scale(b), exponent };
}

function toNumber(value: Decimal): number {
  return Number(`${value.coefficient}e${value.exponent}`);
}

type Parsed = { ok: true; value: Decimal } | { ok: false; reason: string };

const INVALID_FORMAT: Parsed = { ok: false, reason: 'Number is not in a recognised format.' };

/** Full-width ASCII (U+FF01–FF5E), full-width currency signs and odd spaces → plain forms; NFKC would also turn "10²" into "102". */
function foldWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\uFFE0-\uFFE6\u3000\u00A0\u2007\u2009\u202F]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
    switch (ch) {
      case '\uFFE0':
        return '¢';
      case '\uFFE1':
        return '£';
      case '\uFFE5':
        return '¥';
      case '\uFFE6':
        return '₩';
      case '\uFFE2':
      case '\uFFE3':
      case '\uFFE4':
        return ch;
      default:
        return ' ';
    }
  });
}

// Longest alternatives first, so "us$" wins over "$" and "人民币" over nothing.
const CURRENCY_PREFIX = /^(?:us\$|hk\$|nt\$|a\$|c\$|s\$|rmb|cny|usd|hkd|eur|gbp|jpy|twd|人民币|[¥$€£₩₹])/;
const CURRENCY_SUFFIX = /(?:rmb|cny|usd|hkd|eur|gbp|jpy|twd|人民币|美元|港币|港元|欧元|英镑|日元|块钱|元整|元|块|圆|[¥$€£₩₹])$/;
const SIGNS: Readonly<Record<string, boolean>> = { '-': true, '−': true, '负': true, '+': false };

// Placeholders spreadsheets put in number columns for "nothing".
const NUMBER_PLACEHOLDERS = new Set(['-', '--', '—', '–', '/', 'n/a', 'na', 'none', '无', '暂无', '空']);
const NOT_FINITE = new Set(['nan', 'inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity', '∞', '+∞', '-∞', '#div/0!', '#num!', '#value!']);

/**
 * Parses an Arabic-digit number, with an optional k (thousand) or w (万,
 * Chinese web shorthand) suffix. The decimal mark is the caller's: with `,`
 * "1,234" is 1.234, with `.` it is 1234; a separator that fits neither
 * reading ("1,5" with `.`) is refused, not guessed.
 */
function parseWestern(text: string, decimal: '.' | ',', rules: Set<string>, allowSuffix = true): Parsed {
  const suffix = allowSuffix ? /^(.*?)\s*([kw])$/.exec(text) : null;
  if (suffix) {
    const inner = parseWestern(suffix[1] ?? '', decimal, rules, false);
    if (!inner.ok) return inner;
    rules.add('number.unit_suffix');
    return { ok: true, value: shift(inner.value, suffix[2] === 'k' ? 3 : 4) };
  }
  if (decimal === '.') {
    const scientific = /^(\d*)(?:\.(\d*))?e([+-]?\d{1,4})$/.exec(text);
    if (scientific && (scientific[1] !== '' || (scientific[2] ?? '') !== '')) {
      return { ok: true, value: shift(decimalOf(scientific[1] ?? '', scientific[2] ?? ''), Number(scientific[3])) };
    }
  }
  const groupChars = decimal === '.' ? ",' ’" : ".' ’";
  const mark = decimal === '.' ? '\\.' : ',';
  const match = new RegExp(`^(\\d*)((?:[${groupChars}]\\d{3})*)(?:${mark}(\\d+))?$`).exec(text);
  if (!match) return INVALID_FORMAT;
  const head = match[1] ?? '';
  const groups = match[2] ?? '';
  const fraction = match[3];
  if (head === '' && (groups !== '' || fraction === undefined)) return INVALID_FORMAT;
  if (groups !== '') {
    // Groups of three after a head of one to three digits, one separator throughout.
    if (head.length > 3 || new Set(groups.replace(/\d/g, '')).size !== 1) return INVALID_FORMAT;
    rules.add('number.thousands_separator');
  }
  if (fraction !== undefined && decimal === ',') rules.add('number.decimal_comma');
  return { ok: true, value: decimalOf(head + groups.replace(/\D/g, ''), fraction ?? '') };
}

const CHINESE_DIGITS: Readonly<Record<string, number>> = {
  零: 0, 〇: 0,
  一: 1, 壹: 1, 弌: 1,
  二: 2, 两: 2, 兩: 2, 贰: 2, 貳: 2, 弍: 2,
  三: 3, 叁: 3, 參: 3, 弎: 3,
  四: 4, 肆: 4,
  五: 5, 伍: 5,
  六: 6, 陆: 6, 陸: 6,
  七: 7, 柒: 7,
  八: 8, 捌: 8,
  九: 9, 玖: 9,
};
// Powers of ten: 十百千 multiply within a group of four digits, 万亿 close a group.
const SMALL_UNITS: Readonly<Record<string, number>> = { 十: 1, 拾: 1, 百: 2, 佰: 2, 千: 3, 仟: 3 };
const LARGE_UNITS: Readonly<Record<string, number>> = { 万: 4, 萬: 4, 亿: 8, 億: 8 };
const CHINESE_CHAR = /[零〇一壹弌二两兩贰貳弍三叁參弎四肆五伍六陆陸七柒八捌九玖十拾百佰千仟万萬亿億点點]/;

type Token =
  | { kind: 'number'; value: Decimal; /** integer digits written, leading 零 excluded */ digits: number; zeroLed: boolean; chinese: boolean }
  | { kind: 'unit'; power: number; large: boolean };

function tokenizeChinese(text: string, decimal: '.' | ',', rules: Set<string>): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (ch === ' ') {
      i += 1;
      continue;
    }
    const arabic = /^\d(?:[\d.,'’ ]*\d)?/.exec(text.slice(i));
    if (arabic) {
      const parsed = parseWestern(arabic[0], decimal, rules, false);
      if (!parsed.ok) return undefined;
      const integerPart = arabic[0].split(decimal)[0] ?? '';
      tokens.push({ kind: 'number', value: parsed.value, digits: integerPart.replace(/\D/g, '').length, zeroLed: false, chinese: false });
      i += arabic[0].length;
      continue;
    }
    if (ch in CHINESE_DIGITS) {
      let integer = '';
      let zeroLed = false;
      while (i < text.length && (text[i] ?? '') in CHINESE_DIGITS) {
        const d = CHINESE_DIGITS[text[i] ?? ''] ?? 0;
        // 零 before a digit is a placeholder ("一百零五"), not a leading zero of a longer number.
        if (d === 0 && integer === '') zeroLed = true;
        else integer += String(d);
        i += 1;
      }
      let fraction = '';
      if (text[i] === '点' || text[i] === '點') {
        i += 1;
        while (i < text.length && (text[i] ?? '') in CHINESE_DIGITS) {
          fraction += String(CHINESE_DIGITS[text[i] ?? ''] ?? 0);
          i += 1;
        }
        if (fraction === '') return undefined;
      }
      tokens.push({ kind: 'number', value: decimalOf(integer, fraction), digits: integer.length, zeroLed, chinese: true });
      continue;
    }
    const small = SMALL_UNITS[ch];
    const large = LARGE_UNITS[ch];
    if (small !== undefined || large !== undefined) {
      tokens.push({ kind: 'unit', power: small ?? large ?? 0, large: large !== undefined });
      i += 1;
      continue;
    }
    return undefined;
  }
  return tokens;
}

/**
 * Chinese numerals, alone or mixed with Arabic digits: 一百二十三, 三万五
 * (spoken shorthand for 35000), 两千, 1.2万, 1亿2000万, 一点五万, 二〇二四.
 */
function parseChinese(text: string, decimal: '.' | ',', rules: Set<string>): Parsed {
  const tokens = tokenizeChinese(text, decimal, rules);
  if (tokens === undefined || tokens.length === 0) return INVALID_FORMAT;
  const first = tokens[0];
  // Without units the digits are positional: 二〇二四 is 2024.
  if (tokens.length === 1 && first?.kind === 'number') {
    return { ok: true, value: first.value };
  }
  let total = ZERO; // closed by 亿
  let tenThousands: Decimal | undefined; // closed by 万 within the current 亿 section
  let group: Decimal | undefined; // below 万
  let pending: Extract<Token, { kind: 'number' }> | undefined;
  let lastSmall = 4;
  let lastUnit: number | undefined;
  let previous: Token | undefined;
  for (const token of tokens) {
    if (token.kind === 'number') {
      // With units, Chinese digits stand one per place: "一二百" is "one or two hundred", not a number.
      if (pending !== undefined || (token.chinese && token.digits > 1)) return INVALID_FORMAT;
      if (token.digits === 0 && token.value.coefficient === 0n) {
        // A bare 零 only marks a skipped place.
        previous = token;
        continue;
      }
      pending = token;
    } else if (!token.large) {
      if (token.power >= lastSmall) return INVALID_FORMAT;
      // 十五, 百万: a unit at the start of a group stands for one of itself.
      if (pending === undefined && group !== undefined) return INVALID_FORMAT;
      const count = pending?.value ?? decimalOf('1');
      group = add(group ?? ZERO, shift(count, token.power));
      pending = undefined;
      lastSmall = token.power;
      lastUnit = token.power;
    } else {
      if (pending === undefined && group === undefined && (token.power === 4 || tenThousands === undefined)) return INVALID_FORMAT;
      const below = add(group ?? ZERO, pending?.value ?? ZERO);
      if (token.power === 4) {
        if (tenThousands !== undefined) return INVALID_FORMAT;
        tenThousands = shift(below, 4);
      } else {
        total = shift(add(total, add(tenThousands ?? ZERO, below)), 8);
        tenThousands = undefined;
      }
      group = undefined;
      pending = undefined;
      lastSmall = 4;
      lastUnit = token.power;
    }
    previous = token;
  }
  let tail = pending?.value ?? ZERO;
  // 三万五, 一千二: a lone digit right after a unit counts in the next lower place.
  if (
    pending !== undefined &&
    previous === pending &&
    lastUnit !== undefined &&
    lastUnit >= 2 &&
    pending.digits === 1 &&
    !pending.zeroLed &&
    pending.value.exponent === 0
  ) {
    tail = shift(tail, lastUnit - 1);
  }
  return { ok: true, value: add(total, add(tenThousands ?? ZERO, add(group ?? ZERO, tail))) };
}

/**
 * A number as people and spreadsheets write it → a finite JS number.
 * Accepts digit grouping (`1,234.5`; `1.234,5` / `1 234,5` with
 * `decimal: ','`), full-width digits, currency signs and words (¥ $ € RMB 元…
 * — stripped; the currency itself is the caller's to keep), accounting
 * negatives `(12.50)`, k/w suffixes, and Chinese numerals (一百二十三,
 * 三万五, 1.2万). A percent is returned as a ratio: `12.5%` → 0.125, so the
 * value is unit-free and the `number.percent` rule says it was divided.
 * With `decimal: ','` "1,234" is 1.234, since the caller vouched for the
 * mark. NaN, Infinity, spreadsheet errors and unreadable text are
 * `number.invalid`; blank cells and placeholders (`-`, `n/a`) `number.empty`.
 * Rules: `number.full_width`, `number.thousands_separator`,
 * `number.decimal_comma`, `number.currency_stripped`, `number.percent`,
 * `number.accounting_negative`, `number.unit_suffix`, `number.chinese_numeral`.
 */
export function standardizeNumber(raw: unknown, options: NumberOptions = {}): Cleaned<number, NumberIssue> {
  const decimal = options.decimal ?? '.';
  if (typeof raw === 'number') {
    return Number.isFinite(raw) ? cleanValue(raw) : cleanIssue('number.invalid', 'Number is not finite (NaN or Infinity).');
  }
  if (raw === null || raw === undefined) return cleanIssue('number.empty', 'Number is empty.');
  const original = asText(raw);
  if (original === undefined) return cleanIssue('number.invalid', `Number is a ${typeof raw}, not a number or text.`);

  const rules = new Set<string>();
  const folded = foldWidth(original);
  if (/[\uFF01-\uFF5E\uFFE0-\uFFE6]/.test(original)) rules.add('number.full_width');
  let text = folded.trim().replace(/\s+/g, ' ').toLowerCase();
  if (text === '' || NULL_WORDS.has(text) || NUMBER_PLACEHOLDERS.has(text)) return cleanIssue('number.empty', 'Number is empty.');
  if (NOT_FINITE.has(text.replace(/\s/g, ''))) return cleanIssue('number.invalid', 'Number is not finite (NaN, Infinity or a spreadsheet error).');

  let negative = false;
  let signed = false;
  const accounting = /^\((.+)\)$/.exec(text);
  if (accounting) {
    negative = true;
    signed = true;
    text = (accounting[1] ?? '').trim();
    rules.add('number.accounting_negative');
  }
  let percent = false;
  // Sign, currency and 百分之 come in either order in front ("-¥12", "¥-12", "USD -12"); currency and % behind.
  for (;;) {
    const currency = CURRENCY_PREFIX.exec(text);
    const sign = text[0] ?? '';
    if (currency) {
      text = text.slice(currency[0].length);
      rules.add('number.currency_stripped');
    } else if (sign in SIGNS && !signed) {
      negative = SIGNS[sign] ?? false;
      signed = true;
      text = text.slice(1);
    } else if (text.startsWith('百分之') && !percent) {
      percent = true;
      text = text.slice(3);
    } else break;
    text = text.trimStart();
  }
  for (;;) {
    const currency = CURRENCY_SUFFIX.exec(text);
    if (currency) {
      text = text.slice(0, -currency[0].length);
      rules.add('number.currency_stripped');
    } else if (text.endsWith('%') && !percent) {
      percent = true;
      text = text.slice(0, -1);
    } else break;
    text = text.trimEnd();
  }
  if (text === '') return cleanIssue('number.invalid', 'Number has a sign, currency or percent but no digits.');

  let parsed: Parsed;
  if (CHINESE_CHAR.test(text)) {
    parsed = parseChinese(text, decimal, rules);
    rules.add('number.chinese_numeral');
  } else {
    parsed = parseWestern(text, decimal, rules);
  }
  if (!parsed.ok) {
    const hint = decimal === '.' && /^\d+,\d{1,2}$|,\d{4,}/.test(text) ? " It may use a decimal comma: pass decimal ','." : '';
    return cleanIssue('number.invalid', parsed.reason + hint);
  }
  let value = parsed.value;
  if (percent) {
    value = shift(value, -2);
    rules.add('number.percent');
  }
  const magnitude = toNumber(value);
  if (!Number.isFinite(magnitude)) return cleanIssue('number.invalid', 'Number is too large to represent.');
  // -0 would print as 0 but compare oddly in Object.is and JSON round trips.
  const result = negative && magnitude !== 0 ? -magnitude : magnitude;
  return cleanValue(result, [...rules]);
}
