import { type CleanFlag, type Cleaned, cleanIssue, cleanValue, ruleMasks } from './result.js';

/**
 * Dates as people and old systems write them.
 *
 * `parseDate` reads timestamps (orders, events) into a Date in UTC: zone-less
 * date-times are taken as UTC, and day/month order is guessed only when one
 * part is above 12; otherwise the value is refused as ambiguous.
 *
 * `standardizeDate` reads calendar dates (birthdays, sign-up days) into
 * `YYYY-MM-DD`. It never converts between time zones: the date is taken as
 * written, because a birthday written `1990-03-05T23:00:00-05:00` is the 5th
 * to the person who wrote it. Rules it reports:
 * - `date.iso`: the text was rewritten into `YYYY-MM-DD` (separators, padding,
 *   `年月日`, month names, full-width digits, 8-digit `YYYYMMDD`);
 * - `date.time_dropped`: a time of day (and zone) after the date was dropped;
 * - `date.order:dmy` / `date.order:mdy`: the order day and month were read in,
 *   whenever the two differ (decided by a part above 12, or by `options.order`);
 * - `date.two_digit_year`: the century was chosen (see `standardizeDate`);
 * - `date.excel_serial`: an Excel serial day number (1900 date system);
 * - `date.js_date`: a Date object, read by its UTC date.
 */
export type DateIssue = 'date.empty' | 'date.unparseable' | 'date.ambiguous' | 'date.impossible' | 'date.future' | 'date.too_old';

export type DateResult = { ok: true; value: Date } | { ok: false; issue: DateIssue };

function build(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): DateResult {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return { ok: false, issue: 'date.impossible' };
  const value = new Date(Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)));
  // 2023-02-30 rolls over in Date.UTC: refuse it instead.
  if (value.getUTCMonth() !== month - 1 || value.getUTCDate() !== day) return { ok: false, issue: 'date.impossible' };
  return { ok: true, value };
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const YMD = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+(\d{1,2})[:时點点](\d{2})(?:[:分](\d{2}))?(?:\.\d+)?\s*秒?)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const DMY_OR_MDY = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/** A timestamp (order time, event time) as a Date in UTC; zone-less values are taken as UTC. `order` is the source's way of writing `03/05/2024`; without it that is ambiguous. */
export function parseDate(input: string | Date, order?: DateOrder): DateResult {
  if (input instanceof Date) return Number.isNaN(input.getTime()) ? { ok: false, issue: 'date.unparseable' } : { ok: true, value: input };
  const text = input.normalize('NFKC').trim();
  if (text === '') return { ok: false, issue: 'date.empty' };
  if (ISO_WITH_ZONE.test(text)) {
    const value = new Date(text);
    return Number.isNaN(value.getTime()) ? { ok: false, issue: 'date.impossible' } : { ok: true, value };
  }
  let m = YMD.exec(text);
  if (m) return build(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  m = COMPACT.exec(text);
  if (m) return build(Number(m[1]), Number(m[2]), Number(m[3]));
  m = DMY_OR_MDY.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a <= 12 && b <= 12 && a !== b && order === undefined) return { ok: false, issue: 'date.ambiguous' };
    // A part above 12 can only be the day, whatever the source's order says.
    const [day, month] = a > 12 || (order === 'dmy' && b <= 12) ? [a, b] : [b, a];
    return build(Number(m[3]), month, day, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  }
  return { ok: false, issue: 'date.unparseable' };
}

// ---------------------------------------------------------------------------
// standardizeDate

/** How a source writes numeric dates whose day and month could be swapped: its locale's order. */
export type DateOrder = 'dmy' | 'mdy';

export interface DateOptions {
  /** the source's order for `03/05/1990`; without it such a date is refused as `date.ambiguous` */
  order?: DateOrder;
  /** `birthday` also refuses future dates (`date.future`) and ages over 120 (`date.too_old`); default `date` */
  kind?: 'birthday' | 'date';
  /** today, for birthdays and for the century of two-digit years; its UTC date is used */
  now: Date;
}

const MAX_AGE = 120;
// Longer text is free text, not a date; the cap also bounds regex work.
const MAX_LENGTH = 100;

// Rule bits, turned into a shared frozen rules array per combination so that
// a result allocates nothing but itself.
const R_ISO = 1;
const R_TIME = 2;
const R_DMY = 4;
const R_MDY = 8;
const R_TWO_DIGIT = 16;
const R_EXCEL = 32;
const R_JS_DATE = 64;
const RULE_IDS: readonly [number, string][] = [
  [R_ISO, 'date.iso'],
  [R_TIME, 'date.time_dropped'],
  [R_DMY, 'date.order:dmy'],
  [R_MDY, 'date.order:mdy'],
  [R_TWO_DIGIT, 'date.two_digit_year'],
  [R_EXCEL, 'date.excel_serial'],
  [R_JS_DATE, 'date.js_date'],
];
const rulesOf = ruleMasks(RULE_IDS);

// Flag bits: the value stands, but a steward may want to look.
const F_ORDER_MISMATCH = 1;
const F_TIME_OF_DAY = 2;
const F_PLACEHOLDER = 4;

/**
 * What a parse step leaves behind. Module-level scratch instead of a returned
 * object keeps the hot path allocation-free; standardizeDate is synchronous,
 * so nothing else can observe it between write and read.
 */
const out = { y: 0, m: 0, d: 0, rules: 0, flags: 0, issue: '' as DateIssue | '', reason: '', datePart: '' };

function fail(issue: DateIssue, reason: string): false {
  out.issue = issue;
  out.reason = reason;
  return false;
}

function ymd(y: number, m: number, d: number): true {
  out.y = y;
  out.m = m;
  out.d = d;
  return true;
}

// `today` of options.now, cached because a batch passes the same Date to every call.
let nowTime = Number.NaN;
let nowY = 0;
let nowMD = 0;
function setNow(now: Date): void {
  const time = now.getTime();
  if (time === nowTime) return;
  nowTime = time;
  nowY = now.getUTCFullYear();
  nowMD = (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
}

/**
 * A calendar date in `YYYY-MM-DD`, from the many ways people, spreadsheets and
 * other systems write one; see the module comment for the rules reported.
 * Two-digit years: for birthdays the latest year not after this year; for
 * other dates the year within 79 years before and 20 years after this year.
 */
export function standardizeDate(raw: unknown, options: DateOptions): Cleaned<string, DateIssue> {
  setNow(options.now);
  out.rules = 0;
  out.flags = 0;
  const birthday = options.kind === 'birthday';
  let parsed: boolean;
  let asWritten: string | undefined;
  if (typeof raw === 'string') {
    asWritten = raw;
    parsed = parseText(raw, options.order, birthday);
  } else if (typeof raw === 'number') {
    // An 8-digit number is YYYYMMDD (or DDMMYYYY) written without separators, so it is read as its digits.
    if (raw >= 10_000_000 && raw <= 99_999_999 && Number.isInteger(raw)) {
      asWritten = String(raw);
      parsed = parseText(asWritten, options.order, birthday);
    } else {
      parsed = parseNumber(raw);
    }
  } else if (raw instanceof Date) {
    parsed = parseDateObject(raw);
  } else if (raw === null || raw === undefined) {
    parsed = fail('date.empty', 'no date was given');
  } else if (typeof raw === 'bigint') {
    asWritten = raw.toString();
    parsed = parseText(asWritten, options.order, birthday);
  } else {
    parsed = fail('date.unparseable', `a value of type ${typeof raw} is not a date`);
  }
  if (!parsed) return cleanIssue(out.issue as DateIssue, out.reason);
  const { y, m, d } = out;
  if (y === 0 && m === 0 && d === 0) return cleanIssue('date.empty', 'an all-zero date stands for no date');
  if (y < 1 || y > 9999) return cleanIssue('date.impossible', `year ${y} is outside 0001–9999`);
  if (m < 1 || m > 12) return cleanIssue('date.impossible', `there is no month ${m}`);
  const days = daysInMonth(y, m);
  if (d < 1 || d > days) return cleanIssue('date.impossible', d < 1 ? 'there is no day 0' : `${MONTH_NAMES[m - 1]} ${y} has ${days} days, not ${d}`);
  const md = m * 100 + d;
  if (birthday) {
    if (y > nowY || (y === nowY && md > nowMD)) return cleanIssue('date.future', 'a birthday cannot be in the future');
    const age = nowY - y - (md > nowMD ? 1 : 0);
    if (age > MAX_AGE) return cleanIssue('date.too_old', `a birthday ${age} years ago is older than anyone living (${MAX_AGE})`);
  }
  const text = y >= 1000 ? `${y}-${PAD2[m]}-${PAD2[d]}` : `${String(y).padStart(4, '0')}-${PAD2[m]}-${PAD2[d]}`;
  if (isPlaceholder(y, md)) out.flags |= F_PLACEHOLDER;
  if (asWritten !== undefined && (out.rules & R_EXCEL) === 0) {
    // Rewritten when the date part differs; a dropped time alone is reported by its own rule.
    if (out.datePart !== text || ((out.rules & R_TIME) === 0 && asWritten !== text)) out.rules |= R_ISO;
  }
  return cleanValue(text, rulesOf(out.rules), out.flags === 0 ? undefined : flagsOf(out.flags, text));
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const PAD2 = Array.from({ length: 32 }, (_, i) => String(i).padStart(2, '0'));

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Defaults that systems write when they have no date: real dates, but rarely true ones. */
function isPlaceholder(y: number, md: number): boolean {
  return (
    (y === 1900 && md === 101) ||
    (y === 1970 && md === 101) ||
    (y === 1899 && (md === 1230 || md === 1231)) ||
    (y === 9999 && md === 1231) ||
    (y === 1 && md === 101)
  );
}

function flagsOf(flags: number, text: string): CleanFlag[] {
  const list: CleanFlag[] = [];
  if (flags & F_ORDER_MISMATCH) list.push({ code: 'date.order_mismatch', message: `read as ${text} because the other day/month order is impossible, though the source usually writes them the other way round` });
  if (flags & F_TIME_OF_DAY) list.push({ code: 'date.time_of_day', message: `the Date object is not at UTC midnight; its UTC date ${text} was taken, which a time zone may have shifted by a day` });
  if (flags & F_PLACEHOLDER) list.push({ code: 'date.placeholder', message: `${text} is a common stand-in for "no date"` });
  return list;
}

// ---------------------------------------------------------------------------
// Numbers: Excel serials and YYYYMMDD

// Excel's 1900 date system counts 1900-01-01 as day 1 and, to stay compatible
// with Lotus 1-2-3, also counts a 1900-02-29 that never existed (serial 60).
const EXCEL_FAKE_LEAP_DAY = 60;
// Serial of 1970-01-01, so that serials above 60 become days since the Unix epoch.
const EXCEL_UNIX_EPOCH = 25569;
// 5 digits reach 2173; a 6-digit number is more likely a YYMMDD than a date that far out.
const EXCEL_MAX = 99999;
// 1800–2200 as a number is a birth year far more often than an Excel day in 1904–1906.
const YEAR_ALONE_MIN = 1800;
const YEAR_ALONE_MAX = 2200;

function isYearAlone(n: number): boolean {
  return n >= YEAR_ALONE_MIN && n <= YEAR_ALONE_MAX && Number.isInteger(n);
}

function parseNumber(n: number): boolean {
  if (!Number.isFinite(n) || n < 0) return fail('date.unparseable', 'the number is not a date');
  if (n < 1) return n === 0 ? fail('date.empty', '0 stands for no date') : fail('date.impossible', 'Excel serial day numbers start at 1 (1900-01-01)');
  if (n > EXCEL_MAX) return fail('date.unparseable', 'the number is neither an Excel serial day number nor YYYYMMDD');
  if (isYearAlone(n)) return fail('date.unparseable', 'a year alone is not a date');
  return excelSerial(Math.floor(n));
}

function excelSerial(serial: number): boolean {
  out.rules = R_EXCEL;
  if (serial === EXCEL_FAKE_LEAP_DAY) return fail('date.impossible', 'Excel serial 60 is 1900-02-29, a day that never existed (a known Excel bug)');
  if (serial < EXCEL_FAKE_LEAP_DAY) return ymd(1900, serial <= 31 ? 1 : 2, serial <= 31 ? serial : serial - 31);
  civilFromDays(serial - EXCEL_UNIX_EPOCH);
  return true;
}

/**
 * Days since 1970-01-01 → out.y/m/d in the proleptic Gregorian calendar,
 * without a Date. Counting from 0000-03-01 puts the leap day at the end of
 * the counted year, so months from March have fixed lengths (153 days per
 * five months); 400 years are always 146097 days.
 */
function civilFromDays(days: number): void {
  const shifted = days + 719468; // 0000-03-01 → 1970-01-01
  const era = Math.floor(shifted / 146097);
  const dayOfEra = shifted - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const d = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const m = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  ymd(yearOfEra + era * 400 + (m <= 2 ? 1 : 0), m, d);
}

function parseDateObject(date: Date): boolean {
  const time = date.getTime();
  if (Number.isNaN(time)) return fail('date.unparseable', 'the Date object is invalid');
  out.rules = R_JS_DATE;
  // Spreadsheet and driver libraries hand dates over as UTC midnight; anything else may have come through a local zone.
  if (time % 86_400_000 !== 0) out.flags |= F_TIME_OF_DAY;
  return ymd(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

// ---------------------------------------------------------------------------
// Text

/** Values meaning "no date" rather than a bad date. */
const EMPTY_MARKERS = new Set(['-', '--', '/', '?', 'n/a', 'na', 'null', 'none', 'nil', 'unknown', 'undefined', '无', '未知', '不详', '空', '暂无']);

// A time of day after the date: ISO `T23:00:00-05:00`, `14:30`, `2:30 PM`,
// `00:00:00 GMT+0800 (China Standard Time)` from Date#toString, `下午2:30`, `14时30分`.
const TIME_TAIL =
  /(?:\s*T\s*|\s+|\s*,\s*|(?<=日))(?:(?:上午|下午|中午|晚上|凌晨)\s*)?\d{1,2}(?:[:时點点]\d{1,2}(?:[:分]\d{1,2}(?:[.,]\d{1,9})?\s*秒?)?分?|[时点點])(?:\s*[ap]\.?\s?m\.?)?(?:\s*(?:z|utc|gmt)?\s*[+-]\d{1,2}(?::?\d{2})?|\s*(?:z|utc|gmt))?(?:\s*\([^()]*\))?$/i;

// 1990-3-5, 1990/03/05, 1990.3.5, 1990 3 5, 1990年3月5日, 1990年3月5号
const NUM_YMD = /^(\d{4})(?:\s*[-/.年]\s*|\s+)(\d{1,2})(?:\s*[-/.月]\s*|\s+)(\d{1,2})\s*[日号號]?$/;
// 05/03/1990, 5.3.90, 03-05-1990, 90/03/05 (a first part above 31 is a two-digit year)
const NUM_3 = /^(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})\.?$/;
const WORD = String.raw`(\p{L}+)\.?`;
const SEP = String.raw`(?:\s*[-/.,]\s*|\s+)`;
const WEEKDAY = String.raw`(?:(\p{L}+)\.?(?:,\s*|\s+))?`;
// 5 March 1990, 05-Mar-90, 5th of March 1990, 5. März 1990, 5 de marzo de 1990, Tue, 05 Mar 1990;
// `1º de marzo` arrives as `1o` after NFKC.
const DAY_WORD_YEAR = new RegExp(String.raw`^${WEEKDAY}(\d{1,2})(?:st|nd|rd|th|er|o|\.)?${SEP}(?:de\s+|of\s+)?${WORD}${SEP}(?:de\s+|del\s+)?(\d{4}|\d{2})$`, 'iu');
// Mar 5, 1990, March 5th 1990, Tue Mar 05 1990 (Date#toString), Mar-05-1990
const WORD_DAY_YEAR = new RegExp(String.raw`^${WEEKDAY}${WORD}${SEP}(\d{1,2})(?:st|nd|rd|th)?${SEP}(\d{4}|\d{2})$`, 'iu');
// 1990-Mar-05, 1990 March 5
const YEAR_WORD_DAY = new RegExp(String.raw`^(\d{4})${SEP}${WORD}${SEP}(\d{1,2})$`, 'iu');

function parseText(raw: string, order: DateOrder | undefined, birthday: boolean): boolean {
  let text = raw;
  for (let i = 0; i < text.length; i++) {
    // NFKC only for non-ASCII text: full-width digits (２０２４) and separators (／－．).
    if (text.charCodeAt(i) > 127) {
      text = text.normalize('NFKC');
      break;
    }
  }
  text = text.trim();
  if (text === '') return fail('date.empty', 'the date is blank');
  if (text.length === 10 && isIsoDate(text)) {
    out.datePart = text;
    return readIsoDate(text);
  }
  if (text.length > MAX_LENGTH) return fail('date.unparseable', 'the text is too long to be a date');
  const first = text.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    const digits = leadingDigits(text);
    if (digits === text.length) {
      out.datePart = text;
      return parseDigits(text, order);
    }
    // Excel serials exported with their fraction of a day: 32937.5
    if (digits <= 5 && text.charCodeAt(digits) === 46 && leadingDigits(text, digits + 1) === text.length && text.length > digits + 1) {
      return excelSerial(Number(text.slice(0, digits)));
    }
  }
  if (text.length <= 9 && EMPTY_MARKERS.has(text.toLowerCase())) return fail('date.empty', 'the value says there is no date');
  text = dropTime(text);
  out.datePart = text;

  let m = NUM_YMD.exec(text);
  if (m) return ymd(Number(m[1]), Number(m[2]), Number(m[3]));
  m = NUM_3.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const yearText = m[4] ?? '';
    if (yearText.length === 2 && a > 31) return ymd(expandYear(a, birthday), b, Number(yearText));
    const year = yearText.length === 2 ? expandYear(Number(yearText), birthday) : Number(yearText);
    return dayAndMonth(a, b, year, order);
  }
  m = DAY_WORD_YEAR.exec(text);
  if (m) return withMonthName(m[1], Number(m[2]), m[3] ?? '', m[4] ?? '', birthday);
  m = WORD_DAY_YEAR.exec(text);
  if (m) return withMonthName(m[1], Number(m[3]), m[2] ?? '', m[4] ?? '', birthday);
  m = YEAR_WORD_DAY.exec(text);
  if (m) return withMonthName(undefined, Number(m[3]), m[2] ?? '', m[1] ?? '', birthday);
  return fail('date.unparseable', noDateReason(text));
}

function noDateReason(text: string): string {
  if (/^\d{4}\s*[-/.年]\s*\d{1,2}\s*月?$/.test(text)) return 'a year and month without a day is not a date';
  if (/^\d{1,2}\s*(?:[-/.月]\s*\d{1,2}\s*[日号號]?)$/.test(text)) return 'a day and month without a year is not a date';
  return 'the text is not a date in any known format';
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `YYYY-MM-DD` exactly, the shape most values already have. */
function isIsoDate(t: string): boolean {
  return (
    t.charCodeAt(4) === 45 &&
    t.charCodeAt(7) === 45 &&
    isDigit(t.charCodeAt(0)) &&
    isDigit(t.charCodeAt(1)) &&
    isDigit(t.charCodeAt(2)) &&
    isDigit(t.charCodeAt(3)) &&
    isDigit(t.charCodeAt(5)) &&
    isDigit(t.charCodeAt(6)) &&
    isDigit(t.charCodeAt(8)) &&
    isDigit(t.charCodeAt(9))
  );
}

function digitsAt(t: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + t.charCodeAt(i) - 48;
  return n;
}

function readIsoDate(t: string): true {
  return ymd(digitsAt(t, 0, 4), digitsAt(t, 5, 2), digitsAt(t, 8, 2));
}

function leadingDigits(t: string, from = 0): number {
  let i = from;
  while (i < t.length && isDigit(t.charCodeAt(i))) i++;
  return i;
}

function parseDigits(t: string, order: DateOrder | undefined): boolean {
  if (t.length === 8) {
    const year = digitsAt(t, 0, 4);
    const month = digitsAt(t, 4, 2);
    const day = digitsAt(t, 6, 2);
    if (year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) return ymd(year, month, day);
    // Not YYYYMMDD: the other 8-digit habit is DDMMYYYY / MMDDYYYY.
    const last = digitsAt(t, 4, 4);
    if (last >= 1000) return dayAndMonth(digitsAt(t, 0, 2), digitsAt(t, 2, 2), last, order);
    return ymd(year, month, day);
  }
  if (t.length <= 5) {
    const serial = Number(t);
    if (serial === 0) return fail('date.empty', '0 stands for no date');
    return isYearAlone(serial) ? fail('date.unparseable', 'a year alone is not a date') : excelSerial(serial);
  }
  return fail('date.unparseable', `${t.length} digits are neither an Excel serial day number nor YYYYMMDD`);
}

function dropTime(text: string): string {
  // Only text with a clock separator can carry a time; skip the regex otherwise.
  if (text.indexOf(':') === -1 && text.indexOf('时') === -1 && text.indexOf('点') === -1 && text.indexOf('點') === -1) return text;
  const m = TIME_TAIL.exec(text);
  if (m === null || m.index === 0) return text;
  out.rules |= R_TIME;
  return text.slice(0, m.index);
}

/** Two numbers that are day and month in some order. */
function dayAndMonth(a: number, b: number, year: number, order: DateOrder | undefined): boolean {
  if (a === b) return ymd(year, a, a);
  if (a > 12 && b > 12) return fail('date.impossible', `neither ${a} nor ${b} can be a month`);
  if (a > 12 || b > 12) {
    const dmy = a > 12;
    out.rules |= dmy ? R_DMY : R_MDY;
    if (order !== undefined && (order === 'dmy') !== dmy) out.flags |= F_ORDER_MISMATCH;
    return dmy ? ymd(year, b, a) : ymd(year, a, b);
  }
  if (order === undefined) return fail('date.ambiguous', `${a} and ${b} could each be the day or the month; the source's order (day/month or month/day) is not known`);
  out.rules |= order === 'dmy' ? R_DMY : R_MDY;
  return order === 'dmy' ? ymd(year, b, a) : ymd(year, a, b);
}

function withMonthName(weekday: string | undefined, day: number, monthWord: string, yearText: string, birthday: boolean): boolean {
  if (weekday !== undefined && !WEEKDAYS.has(weekday.toLowerCase())) return fail('date.unparseable', `"${weekday}" is not a day of the week`);
  const month = MONTHS.get(monthWord.toLowerCase());
  if (month === undefined) return fail('date.unparseable', `"${monthWord}" is not a month`);
  const year = yearText.length === 2 ? expandYear(Number(yearText), birthday) : Number(yearText);
  return ymd(year, month, day);
}

/**
 * The century of a two-digit year. A birthday cannot be in the future, so it
 * takes the latest year not after this year (in 2025: 25 → 2025, 26 → 1926).
 * Other dates take the year within 79 years before and 20 years after this
 * year (in 2025: 45 → 2045, 46 → 1946), so the window moves with time
 * instead of wearing out like a fixed pivot.
 */
function expandYear(yy: number, birthday: boolean): number {
  out.rules |= R_TWO_DIGIT;
  let year = nowY - (nowY % 100) + yy;
  if (birthday) return year > nowY ? year - 100 : year;
  if (year > nowY + 20) year -= 100;
  else if (year <= nowY - 80) year += 100;
  return year;
}

/** Month names and abbreviations in English, French, German, Spanish, Italian, Dutch and Portuguese. */
const MONTHS = new Map<string, number>();
for (const [month, names] of [
  [1, 'jan january janv janvier januar jänner jän ene enero gen gennaio januari janeiro'],
  [2, 'feb february fév févr février fev fevr fevrier februar febrero febbraio februari fevereiro'],
  [3, 'mar march mars mär märz maerz marzo maart mrt março marco'],
  [4, 'apr april avr avril abr abril aprile'],
  [5, 'may mai mayo mag maggio mei maio'],
  [6, 'jun june juin juni junio giu giugno junho'],
  [7, 'jul july juil juillet juli julio lug luglio julho'],
  [8, 'aug august aoû août aout ago agosto augustus'],
  [9, 'sep sept september septembre septiembre setiembre set settembre setembro'],
  [10, 'oct october octobre okt oktober octubre ott ottobre out outubro'],
  [11, 'nov november novembre noviembre novembro'],
  [12, 'dec december déc décembre dez dezember dic diciembre dicembre dezembro'],
] as const) {
  for (const name of names.split(' ')) MONTHS.set(name, month);
}

const WEEKDAYS = new Set(
  [
    'mon monday tue tues tuesday wed weds wednesday thu thur thurs thursday fri friday sat saturday sun sunday',
    'lun lundi mar mardi mer mercredi jeu jeudi ven vendredi sam samedi dim dimanche',
    'mo montag di dienstag mi mittwoch do donnerstag fr freitag sa samstag so sonntag',
    'lunes martes mié miércoles miercoles jue jueves vie viernes sáb sábado sabado dom domingo',
  ]
    .join(' ')
    .split(' '),
);
