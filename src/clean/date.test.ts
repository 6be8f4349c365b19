import { describe, expect, it } from 'vitest';
import { type DateIssue, type DateOptions, parseDate, standardizeDate } from './date.js';

describe('parseDate', () => {
  it.each([
    ['2024-03-05', '2024-03-05T00:00:00.000Z'],
    ['2024/3/5', '2024-03-05T00:00:00.000Z'],
    ['2024.03.05 14:30', '2024-03-05T14:30:00.000Z'],
    ['2024-03-05 14:30:15', '2024-03-05T14:30:15.000Z'],
    ['2024年3月5日', '2024-03-05T00:00:00.000Z'],
    ['2024年03月05日 09:05', '2024-03-05T09:05:00.000Z'],
    ['２０２４－０３－０５', '2024-03-05T00:00:00.000Z'],
    ['20240305', '2024-03-05T00:00:00.000Z'],
    ['2024-03-05T14:30:00+08:00', '2024-03-05T06:30:00.000Z'],
    ['25/12/2023', '2023-12-25T00:00:00.000Z'],
    ['12/25/2023', '2023-12-25T00:00:00.000Z'],
    ['05/05/2023', '2023-05-05T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    const result = parseDate(text);
    expect(result.ok && result.value.toISOString()).toBe(iso);
  });

  it.each([
    ['', 'date.empty'],
    ['yesterday', 'date.unparseable'],
    ['03/05/2024', 'date.ambiguous'],
    ['2023-02-30', 'date.impossible'],
    ['2023-13-01', 'date.impossible'],
  ])('%j → %s', (text, issue) => {
    expect(parseDate(text)).toEqual({ ok: false, issue });
  });
});

// A fixed "today" so that birthdays and two-digit years do not drift with the calendar.
const NOW = new Date('2025-06-15T10:00:00Z');
const DATE: DateOptions = { now: NOW };
const DMY: DateOptions = { now: NOW, order: 'dmy' };
const MDY: DateOptions = { now: NOW, order: 'mdy' };
const BIRTHDAY: DateOptions = { now: NOW, kind: 'birthday' };

const ISO = ['date.iso'];
const TIME = ['date.time_dropped'];
const ISO_TIME = ['date.iso', 'date.time_dropped'];
const ISO_DMY = ['date.iso', 'date.order:dmy'];
const ISO_MDY = ['date.iso', 'date.order:mdy'];
const ISO_YY = ['date.iso', 'date.two_digit_year'];
const EXCEL = ['date.excel_serial'];

describe('standardizeDate: values that are already standard', () => {
  it.each(['1990-03-05', '2024-02-29', '2000-02-29', '1900-03-01', '2025-06-15', '1999-12-31', '2001-01-01', '1985-10-26', '1969-07-20', '2038-01-19', '1600-02-29', '0990-03-05'])(
    '%s stays, no rules',
    (text) => {
      expect(standardizeDate(text, DATE)).toEqual({ ok: true, value: text, rules: [], flags: [] });
    },
  );
});

describe('standardizeDate: written forms (no locale order needed)', () => {
  it.each<[unknown, string, string[]]>([
    // spacing and width
    [' 1990-03-05', '1990-03-05', ISO],
    ['1990-03-05 ', '1990-03-05', ISO],
    ['\t1990-03-05\n', '1990-03-05', ISO],
    ['１９９０－０３－０５', '1990-03-05', ISO],
    ['１９９０/０３/０５', '1990-03-05', ISO],
    ['1990／3／5', '1990-03-05', ISO],
    // year first, numeric
    ['1990-3-5', '1990-03-05', ISO],
    ['1990-03-5', '1990-03-05', ISO],
    ['1990-3-05', '1990-03-05', ISO],
    ['1990/3/5', '1990-03-05', ISO],
    ['1990/03/05', '1990-03-05', ISO],
    ['1990.03.05', '1990-03-05', ISO],
    ['1990.3.5', '1990-03-05', ISO],
    ['1990 03 05', '1990-03-05', ISO],
    ['1990 - 03 - 05', '1990-03-05', ISO],
    ['2024/12/31', '2024-12-31', ISO],
    ['2000/2/29', '2000-02-29', ISO],
    // Chinese
    ['1990年3月5日', '1990-03-05', ISO],
    ['1990年03月05日', '1990-03-05', ISO],
    ['1990 年 3 月 5 日', '1990-03-05', ISO],
    ['1990年3月5号', '1990-03-05', ISO],
    ['1990年3月5號', '1990-03-05', ISO],
    ['１９９０年３月５日', '1990-03-05', ISO],
    ['2008年8月8日', '2008-08-08', ISO],
    ['1949年10月1日', '1949-10-01', ISO],
    // compact
    ['19900305', '1990-03-05', ISO],
    ['20000229', '2000-02-29', ISO],
    ['20241231', '2024-12-31', ISO],
    [' 19900305 ', '1990-03-05', ISO],
    [19900305, '1990-03-05', ISO],
    [20240101, '2024-01-01', ISO],
    // date-times: the date as written, never shifted to another zone
    ['1990-03-05T23:00:00-05:00', '1990-03-05', TIME],
    ['1990-03-05T00:00:00Z', '1990-03-05', TIME],
    ['1990-03-05T00:00:00.000Z', '1990-03-05', TIME],
    ['1990-03-05T08:30:00+08:00', '1990-03-05', TIME],
    ['1990-03-05T01:00:00+14:00', '1990-03-05', TIME],
    ['1990-03-05T12:00:00+05:30', '1990-03-05', TIME],
    ['1990-03-05T23:59:59.999+0800', '1990-03-05', TIME],
    ['1990-03-05T10:00', '1990-03-05', TIME],
    ['1990-03-05 14:30', '1990-03-05', TIME],
    ['1990-03-05 14:30:15', '1990-03-05', TIME],
    ['1990-03-05 00:00:00.000', '1990-03-05', TIME],
    ['1990-03-05 00:00:00.000000', '1990-03-05', TIME],
    ['1990-03-05 2:30 PM', '1990-03-05', TIME],
    ['1990-03-05 09:05:00 UTC', '1990-03-05', TIME],
    ['1990-03-05 09:05:00 GMT', '1990-03-05', TIME],
    ['1990-03-05 09:05:00+08', '1990-03-05', TIME],
    ['1990/3/5 14:30', '1990-03-05', ISO_TIME],
    ['1990/03/05 00:00:00', '1990-03-05', ISO_TIME],
    ['1990.03.05 8:00', '1990-03-05', ISO_TIME],
    ['1990年3月5日 14:30', '1990-03-05', ISO_TIME],
    ['1990年3月5日14时30分', '1990-03-05', ISO_TIME],
    ['1990年3月5日 14时30分15秒', '1990-03-05', ISO_TIME],
    ['1990年3月5日 下午2:30', '1990-03-05', ISO_TIME],
    ['1990年3月5日 上午9点', '1990-03-05', ISO_TIME],
    ['2024-03-05T14:30:00+08:00', '2024-03-05', TIME],
    // month names, English
    ['Mar 5, 1990', '1990-03-05', ISO],
    ['March 5, 1990', '1990-03-05', ISO],
    ['march 5 1990', '1990-03-05', ISO],
    ['MARCH 5, 1990', '1990-03-05', ISO],
    ['Mar. 5, 1990', '1990-03-05', ISO],
    ['Mar 05 1990', '1990-03-05', ISO],
    ['March 5th, 1990', '1990-03-05', ISO],
    ['March 1st 1990', '1990-03-01', ISO],
    ['March 2nd, 1990', '1990-03-02', ISO],
    ['March 3rd, 1990', '1990-03-03', ISO],
    ['Sept 5, 1990', '1990-09-05', ISO],
    ['Sep 5, 1990', '1990-09-05', ISO],
    ['December 25, 1990', '1990-12-25', ISO],
    ['Feb 29, 2024', '2024-02-29', ISO],
    ['Mar-05-1990', '1990-03-05', ISO],
    ['Monday, March 5, 1990', '1990-03-05', ISO],
    ['Mon Mar 05 1990', '1990-03-05', ISO],
    ['Mon Mar 05 1990 00:00:00 GMT+0800 (China Standard Time)', '1990-03-05', ISO_TIME],
    ['Mon Mar 05 1990 00:00:00 GMT-0500 (Eastern Standard Time)', '1990-03-05', ISO_TIME],
    ['Mon, 05 Mar 1990 00:00:00 GMT', '1990-03-05', ISO_TIME],
    ['Fri, 31 Dec 1999 23:59:59 +0000', '1999-12-31', ISO_TIME],
    ['5 March 1990', '1990-03-05', ISO],
    ['5 Mar 1990', '1990-03-05', ISO],
    ['05 MAR 1990', '1990-03-05', ISO],
    ['5th March 1990', '1990-03-05', ISO],
    ['5th of March 1990', '1990-03-05', ISO],
    ['5-Mar-1990', '1990-03-05', ISO],
    ['5/Mar/1990', '1990-03-05', ISO],
    ['31 Dec 1999', '1999-12-31', ISO],
    ['1990-Mar-05', '1990-03-05', ISO],
    ['1990 March 5', '1990-03-05', ISO],
    ['1990-MAR-5', '1990-03-05', ISO],
    ['March 5, 1990 3:45 PM', '1990-03-05', ISO_TIME],
    // month names, other European languages
    ['5 mars 1990', '1990-03-05', ISO],
    ['1er mars 1990', '1990-03-01', ISO],
    ['5 février 1990', '1990-02-05', ISO],
    ['5 août 1990', '1990-08-05', ISO],
    ['5 décembre 1990', '1990-12-05', ISO],
    ['lundi 5 mars 1990', '1990-03-05', ISO],
    ['5. März 1990', '1990-03-05', ISO],
    ['5. Dezember 1990', '1990-12-05', ISO],
    ['5. Okt. 1990', '1990-10-05', ISO],
    ['Montag, 5. März 1990', '1990-03-05', ISO],
    ['5 de marzo de 1990', '1990-03-05', ISO],
    ['5 de enero de 1990', '1990-01-05', ISO],
    ['1º de marzo de 1990', '1990-03-01', ISO],
    ['1 de Março de 1990', '1990-03-01', ISO],
    ['5 de março de 1990', '1990-03-05', ISO],
    ['5 marzo 1990', '1990-03-05', ISO],
    ['5 giugno 1990', '1990-06-05', ISO],
    ['5 maart 1990', '1990-03-05', ISO],
    ['5 mei 1990', '1990-05-05', ISO],
    ['5 oktober 1990', '1990-10-05', ISO],
    // numeric day and month where one part is above 12
    ['25/12/1990', '1990-12-25', ISO_DMY],
    ['12/25/1990', '1990-12-25', ISO_MDY],
    ['31.12.1999', '1999-12-31', ISO_DMY],
    ['13-01-2000', '2000-01-13', ISO_DMY],
    ['01-13-2000', '2000-01-13', ISO_MDY],
    ['5/31/1990', '1990-05-31', ISO_MDY],
    ['31/5/1990', '1990-05-31', ISO_DMY],
    ['29.02.2024', '2024-02-29', ISO_DMY],
    ['25121990', '1990-12-25', ISO_DMY],
    ['12251990', '1990-12-25', ISO_MDY],
    ['12/25/1990 11:59 PM', '1990-12-25', ['date.iso', 'date.time_dropped', 'date.order:mdy']],
    ['25.12.1990 14:00', '1990-12-25', ['date.iso', 'date.time_dropped', 'date.order:dmy']],
    // day equal to month: the order does not matter
    ['05/05/1990', '1990-05-05', ISO],
    ['5/5/1990', '1990-05-05', ISO],
    ['12.12.2012', '2012-12-12', ISO],
    ['01012000', '2000-01-01', ISO],
    // two-digit years (now 2025: the window is 1946–2045)
    ['05-Mar-90', '1990-03-05', ISO_YY],
    ['5-Mar-25', '2025-03-05', ISO_YY],
    ['5-Mar-45', '2045-03-05', ISO_YY],
    ['5-Mar-46', '1946-03-05', ISO_YY],
    ['5-Mar-00', '2000-03-05', ISO_YY],
    ['Mar 5, 90', '1990-03-05', ISO_YY],
    ['25/12/90', '1990-12-25', ['date.iso', 'date.order:dmy', 'date.two_digit_year']],
    ['12/25/90', '1990-12-25', ['date.iso', 'date.order:mdy', 'date.two_digit_year']],
    ['05/05/05', '2005-05-05', ISO_YY],
    ['90/03/05', '1990-03-05', ISO_YY],
    ['99/12/31', '1999-12-31', ISO_YY],
    // Excel serial day numbers (1900 date system, with its fake 1900-02-29 at 60)
    [32937, '1990-03-05', EXCEL],
    ['32937', '1990-03-05', EXCEL],
    [' 32937 ', '1990-03-05', EXCEL],
    ['32937.5', '1990-03-05', EXCEL],
    [32937.75, '1990-03-05', EXCEL],
    [2, '1900-01-02', EXCEL],
    [31, '1900-01-31', EXCEL],
    [32, '1900-02-01', EXCEL],
    [59, '1900-02-28', EXCEL],
    [61, '1900-03-01', EXCEL],
    [100, '1900-04-09', EXCEL],
    [366, '1900-12-31', EXCEL],
    [367, '1901-01-01', EXCEL],
    [36526, '2000-01-01', EXCEL],
    [43831, '2020-01-01', EXCEL],
    [44197, '2021-01-01', EXCEL],
    [45292, '2024-01-01', EXCEL],
    [45658, '2025-01-01', EXCEL],
    [99999, '2173-10-13', EXCEL],
    ['45292', '2024-01-01', EXCEL],
    // Date objects: their UTC date
    [new Date(Date.UTC(1990, 2, 5)), '1990-03-05', ['date.js_date']],
    [new Date(Date.UTC(2024, 1, 29)), '2024-02-29', ['date.js_date']],
    [new Date('1969-07-20T00:00:00Z'), '1969-07-20', ['date.js_date']],
  ])('%j → %s', (raw, value, rules) => {
    expect(standardizeDate(raw, DATE)).toEqual({ ok: true, value, rules, flags: [] });
  });
});

describe('standardizeDate: other value types', () => {
  it('reads a bigint as its digits', () => {
    expect(standardizeDate(19900305n, DATE)).toEqual({ ok: true, value: '1990-03-05', rules: ISO, flags: [] });
  });
});

describe('standardizeDate: day/month order from the source locale', () => {
  it.each<[string, DateOptions, string, string[]]>([
    ['03/05/1990', DMY, '1990-05-03', ISO_DMY],
    ['03/05/1990', MDY, '1990-03-05', ISO_MDY],
    ['05.03.1990', DMY, '1990-03-05', ISO_DMY],
    ['05.03.1990', MDY, '1990-05-03', ISO_MDY],
    ['5/3/90', DMY, '1990-03-05', ['date.iso', 'date.order:dmy', 'date.two_digit_year']],
    ['3/5/90', MDY, '1990-03-05', ['date.iso', 'date.order:mdy', 'date.two_digit_year']],
    ['01/02/2003', DMY, '2003-02-01', ISO_DMY],
    ['01/02/2003', MDY, '2003-01-02', ISO_MDY],
    ['01-02-2003', DMY, '2003-02-01', ISO_DMY],
    ['11/12/2013', MDY, '2013-11-12', ISO_MDY],
    ['05031990', DMY, '1990-03-05', ISO_DMY],
    ['03051990', MDY, '1990-03-05', ISO_MDY],
    ['3/5/1990 12:00:00 AM', MDY, '1990-03-05', ['date.iso', 'date.time_dropped', 'date.order:mdy']],
    ['3/5/1990 12:00:00 AM', DMY, '1990-05-03', ['date.iso', 'date.time_dropped', 'date.order:dmy']],
    ['05/05/1990', DMY, '1990-05-05', ISO],
    ['1990-03-05', MDY, '1990-03-05', []],
    ['1990/3/5', DMY, '1990-03-05', ISO],
    ['5 March 1990', MDY, '1990-03-05', ISO],
    ['March 5, 1990', DMY, '1990-03-05', ISO],
  ])('%j with %o → %s', (raw, options, value, rules) => {
    expect(standardizeDate(raw, options)).toEqual({ ok: true, value, rules, flags: [] });
  });

  it.each<[string, DateOptions, string, string[]]>([
    ['12/25/1990', DMY, '1990-12-25', ISO_MDY],
    ['25/12/1990', MDY, '1990-12-25', ISO_DMY],
    ['31.01.2000', MDY, '2000-01-31', ISO_DMY],
  ])('%j with %o: read the only possible way, flagged', (raw, options, value, rules) => {
    const result = standardizeDate(raw, options);
    expect(result).toMatchObject({ ok: true, value, rules });
    expect(result.ok && result.flags.map((f) => f.code)).toEqual(['date.order_mismatch']);
  });
});

describe('standardizeDate: birthdays', () => {
  it.each<[unknown, string]>([
    ['1990-03-05', '1990-03-05'],
    ['2025-06-15', '2025-06-15'], // born today
    ['2025-06-14', '2025-06-14'],
    ['1905-06-15', '1905-06-15'], // 120 today
    ['1905-06-16', '1905-06-16'], // 119, 120 tomorrow
    ['1904-06-16', '1904-06-16'], // 120, 121 tomorrow
    ['1950-01-01', '1950-01-01'],
    [32937, '1990-03-05'],
    [new Date(Date.UTC(1990, 2, 5)), '1990-03-05'],
    ['05-Mar-90', '1990-03-05'],
    ['05-Mar-25', '2025-03-05'], // two-digit birthday years: latest year not after this one
    ['05-Mar-26', '1926-03-05'],
    ['05-Dec-24', '2024-12-05'],
    ['01/01/30', '1930-01-01'],
    ['1/1/45', '1945-01-01'],
    ['1/1/00', '2000-01-01'],
  ])('%j → %s', (raw, value) => {
    expect(standardizeDate(raw, BIRTHDAY)).toMatchObject({ ok: true, value });
  });

  it.each<[unknown, DateIssue]>([
    ['2030-01-01', 'date.future'],
    ['2025-06-16', 'date.future'],
    ['2025-12-31', 'date.future'],
    ['05-Dec-25', 'date.future'],
    [45900, 'date.future'],
    ['1904-06-15', 'date.too_old'],
    ['1904-06-14', 'date.too_old'],
    ['1890-01-01', 'date.too_old'],
    ['1900-01-01', 'date.too_old'],
    ['1000-01-01', 'date.too_old'],
    [1, 'date.too_old'],
    [100, 'date.too_old'],
    ['1990-02-30', 'date.impossible'],
    ['03/05/1990', 'date.ambiguous'],
    ['', 'date.empty'],
  ])('%j → %s', (raw, issue) => {
    expect(standardizeDate(raw, BIRTHDAY)).toMatchObject({ ok: false, issue });
  });

  it('dates in the future are fine when they are not birthdays', () => {
    expect(standardizeDate('2030-01-01', DATE)).toMatchObject({ ok: true, value: '2030-01-01' });
    expect(standardizeDate('1800-01-01', DATE)).toMatchObject({ ok: true, value: '1800-01-01' });
  });

  it('uses the UTC date of now', () => {
    const lateEvening = { now: new Date('2025-06-15T23:30:00-05:00'), kind: 'birthday' } as const; // 2025-06-16 in UTC
    expect(standardizeDate('2025-06-16', lateEvening)).toMatchObject({ ok: true, value: '2025-06-16' });
  });
});

describe('standardizeDate: flags', () => {
  it.each<[unknown, DateOptions, string, string]>([
    ['1900-01-01', DATE, '1900-01-01', 'date.placeholder'],
    ['1970-01-01', DATE, '1970-01-01', 'date.placeholder'],
    ['1970-01-01', BIRTHDAY, '1970-01-01', 'date.placeholder'],
    ['9999-12-31', DATE, '9999-12-31', 'date.placeholder'],
    ['0001-01-01', DATE, '0001-01-01', 'date.placeholder'],
    [25569, DATE, '1970-01-01', 'date.placeholder'],
    [1, DATE, '1900-01-01', 'date.placeholder'],
    [new Date('1990-03-05T23:00:00Z'), DATE, '1990-03-05', 'date.time_of_day'],
    [new Date('1990-03-04T16:00:00Z'), DATE, '1990-03-04', 'date.time_of_day'],
  ])('%j → %s flagged %s', (raw, options, value, flag) => {
    const result = standardizeDate(raw, options);
    expect(result).toMatchObject({ ok: true, value });
    expect(result.ok && result.flags.map((f) => f.code)).toEqual([flag]);
  });

  it('flags nothing on an ordinary date', () => {
    expect(standardizeDate('1971-01-01', DATE)).toEqual({ ok: true, value: '1971-01-01', rules: [], flags: [] });
  });
});

describe('standardizeDate: refused', () => {
  it.each<[unknown, DateIssue]>([
    // nothing there
    ['', 'date.empty'],
    ['   ', 'date.empty'],
    ['\u3000', 'date.empty'],
    [null, 'date.empty'],
    [undefined, 'date.empty'],
    ['N/A', 'date.empty'],
    ['n/a', 'date.empty'],
    ['null', 'date.empty'],
    ['NULL', 'date.empty'],
    ['none', 'date.empty'],
    ['unknown', 'date.empty'],
    ['-', 'date.empty'],
    ['--', 'date.empty'],
    ['?', 'date.empty'],
    ['未知', 'date.empty'],
    ['无', 'date.empty'],
    ['不详', 'date.empty'],
    ['0', 'date.empty'],
    [0, 'date.empty'],
    ['0000-00-00', 'date.empty'],
    ['0000-00-00 00:00:00', 'date.empty'],
    ['00/00/0000', 'date.empty'],
    ['00.00.0000', 'date.empty'],
    ['00000000', 'date.empty'],
    // not a date
    ['yesterday', 'date.unparseable'],
    ['abc', 'date.unparseable'],
    ['1990', 'date.unparseable'],
    [1990, 'date.unparseable'],
    ['2024', 'date.unparseable'],
    ['1990-03', 'date.unparseable'],
    ['1990年3月', 'date.unparseable'],
    ['March 1990', 'date.unparseable'],
    ['3月5日', 'date.unparseable'],
    ['5 March', 'date.unparseable'],
    ['Foo Mar 5 1990', 'date.unparseable'],
    ['5 Foo 1990', 'date.unparseable'],
    ['Smarch 5, 1990', 'date.unparseable'],
    ['1990-03-05-01', 'date.unparseable'],
    ['1990--03-05', 'date.unparseable'],
    ['1990-03-05x', 'date.unparseable'],
    ['19900305T', 'date.unparseable'],
    ['123456', 'date.unparseable'],
    ['1234567', 'date.unparseable'],
    ['123456789', 'date.unparseable'],
    [123456789, 'date.unparseable'],
    [-5, 'date.unparseable'],
    [Number.NaN, 'date.unparseable'],
    [Number.POSITIVE_INFINITY, 'date.unparseable'],
    [true, 'date.unparseable'],
    [{}, 'date.unparseable'],
    [[], 'date.unparseable'],
    [{ year: 1990, month: 3, day: 5 }, 'date.unparseable'],
    [new Date('not a date'), 'date.unparseable'],
    ['x'.repeat(200), 'date.unparseable'],
    ['1990-03-05'.repeat(3), 'date.unparseable'],
    ['call me on 1990-03-05', 'date.unparseable'],
    ['1/2/3/4', 'date.unparseable'],
    ['5/3', 'date.unparseable'],
    ['14:30', 'date.unparseable'],
    // impossible dates
    ['2023-02-29', 'date.impossible'],
    ['2023-02-30', 'date.impossible'],
    ['2024-02-30', 'date.impossible'],
    ['2023-04-31', 'date.impossible'],
    ['2023-06-31', 'date.impossible'],
    ['2023-09-31', 'date.impossible'],
    ['2023-11-31', 'date.impossible'],
    ['2023-13-01', 'date.impossible'],
    ['2023-00-10', 'date.impossible'],
    ['2023-01-00', 'date.impossible'],
    ['2023-01-32', 'date.impossible'],
    ['1900-02-29', 'date.impossible'],
    ['2100-02-29', 'date.impossible'],
    ['0000-01-01', 'date.impossible'],
    ['1990年13月5日', 'date.impossible'],
    ['1990年2月30日', 'date.impossible'],
    ['19900230', 'date.impossible'],
    ['19901301', 'date.impossible'],
    ['31/02/1990', 'date.impossible'],
    ['02/31/1990', 'date.impossible'],
    ['32/13/1990', 'date.impossible'],
    ['13/13/2000', 'date.impossible'],
    ['Feb 30, 2020', 'date.impossible'],
    ['30 February 2020', 'date.impossible'],
    ['31 April 1990', 'date.impossible'],
    ['Jun 31 1990', 'date.impossible'],
    ['2023-02-29T10:00:00Z', 'date.impossible'],
    [60, 'date.impossible'],
    ['60', 'date.impossible'],
    [0.5, 'date.impossible'],
    // day and month could swap, and the source's order is unknown
    ['03/05/1990', 'date.ambiguous'],
    ['3/5/1990', 'date.ambiguous'],
    ['05.03.1990', 'date.ambiguous'],
    ['01-02-2003', 'date.ambiguous'],
    ['5/3/90', 'date.ambiguous'],
    ['11/12/2013', 'date.ambiguous'],
    ['05031990', 'date.ambiguous'],
    ['3/5/1990 12:00:00 AM', 'date.ambiguous'],
    ['０３/０５/１９９０', 'date.ambiguous'],
  ])('%j → %s', (raw, issue) => {
    const result = standardizeDate(raw, DATE);
    expect(result).toMatchObject({ ok: false, issue });
    expect(result.ok || result.reason.length > 0).toBe(true);
  });

  it('names the fake Excel leap day', () => {
    expect(standardizeDate(60, DATE)).toMatchObject({ ok: false, reason: expect.stringContaining('1900-02-29') });
  });

  it('names the month length for an impossible day', () => {
    expect(standardizeDate('2023-02-29', DATE)).toMatchObject({ ok: false, reason: 'February 2023 has 28 days, not 29' });
  });
});

describe('standardizeDate: Excel serials agree with Date arithmetic', () => {
  it('every 37th serial from 61 to 99999', () => {
    const excelEpoch = Date.UTC(1899, 11, 30);
    for (let serial = 61; serial <= 99_999; serial += 37) {
      const expected = new Date(excelEpoch + serial * 86_400_000).toISOString().slice(0, 10);
      const result = standardizeDate(serial, DATE);
      const year = Number(expected.slice(0, 4));
      // 1800–2200 as a bare number is taken as a year, not a serial.
      if (serial >= 1800 && serial <= 2200) expect(result).toMatchObject({ ok: false, issue: 'date.unparseable' });
      else expect(result.ok && result.value, `serial ${serial} (${year})`).toBe(expected);
    }
  });
});

describe('parseDate with the source’s order', () => {
  it.each([
    ['03/05/2024', 'dmy', '2024-05-03T00:00:00.000Z'],
    ['03/05/2024', 'mdy', '2024-03-05T00:00:00.000Z'],
    ['03.05.2024 14:30', 'dmy', '2024-05-03T14:30:00.000Z'],
    // a part above 12 can only be the day, whatever the order says
    ['25/12/2024', 'mdy', '2024-12-25T00:00:00.000Z'],
    ['12/25/2024', 'dmy', '2024-12-25T00:00:00.000Z'],
    ['05/05/2024', 'mdy', '2024-05-05T00:00:00.000Z'],
  ] as const)('%s (%s) → %s', (text, order, iso) => {
    const result = parseDate(text, order);
    expect(result.ok && result.value.toISOString()).toBe(iso);
  });

  it('without an order the same text stays ambiguous', () => {
    expect(parseDate('03/05/2024')).toEqual({ ok: false, issue: 'date.ambiguous' });
  });
});
