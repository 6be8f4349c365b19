import { describe, expect, it } from 'vitest';
import { isTimeZone, quietUntil, validateQuietHours } from './quiet-hours.js';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('quietUntil', () => {
  it.each([
    // [case, start, end, zone, now (UTC), profile timezone, expected end (UTC) or null]
    ['Shanghai, inside an overnight window after start', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T14:00:00Z', undefined, '2026-06-02T00:00:00.000Z'],
    ['Shanghai, inside an overnight window after midnight', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T18:30:00Z', undefined, '2026-06-02T00:00:00.000Z'],
    ['Shanghai, outside an overnight window', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T01:00:00Z', undefined, null],
    ['the window starts at its start', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T13:00:00Z', undefined, '2026-06-02T00:00:00.000Z'],
    ['the window is over at its end', '21:00', '08:00', 'Asia/Shanghai', '2026-06-02T00:00:00Z', undefined, null],
    ['one second before the end', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T23:59:59Z', undefined, '2026-06-02T00:00:00.000Z'],
    ['a window within the day', '12:00', '14:00', 'Asia/Shanghai', '2026-06-01T04:30:00Z', undefined, '2026-06-01T06:00:00.000Z'],
    ['before a window within the day', '12:00', '14:00', 'Asia/Shanghai', '2026-06-01T03:59:00Z', undefined, null],
    ['after a window within the day', '12:00', '14:00', 'Asia/Shanghai', '2026-06-01T06:00:00Z', undefined, null],
    ['start equal to end: no quiet hours', '22:00', '22:00', 'Asia/Shanghai', '2026-06-01T14:00:00Z', undefined, null],
    ['across the month end', '21:00', '08:00', 'Asia/Shanghai', '2026-06-30T15:00:00Z', undefined, '2026-07-01T00:00:00.000Z'],
    // New York springs forward on 2026-03-08 at 02:00 EST (07:00Z) to 03:00 EDT.
    ['New York, the night clocks spring forward', '21:00', '08:00', 'America/New_York', '2026-03-08T04:00:00Z', undefined, '2026-03-08T12:00:00.000Z'],
    ['New York, after the jump', '21:00', '08:00', 'America/New_York', '2026-03-08T07:30:00Z', undefined, '2026-03-08T12:00:00.000Z'],
    ['New York, an end the clocks skip (02:30 never happens)', '22:00', '02:30', 'America/New_York', '2026-03-08T05:00:00Z', undefined, '2026-03-08T07:00:00.000Z'],
    ['New York, the evening before', '21:00', '08:00', 'America/New_York', '2026-03-08T02:00:00Z', undefined, '2026-03-08T12:00:00.000Z'],
    ['New York, a minute before the evening window', '21:00', '08:00', 'America/New_York', '2026-03-08T01:59:00Z', undefined, null],
    // Berlin falls back on 2026-10-25 at 03:00 CEST (01:00Z) to 02:00 CET.
    ['Berlin, the night clocks fall back', '21:00', '08:00', 'Europe/Berlin', '2026-10-24T20:00:00Z', undefined, '2026-10-25T07:00:00.000Z'],
    ['Berlin, an end that happens twice: the first', '01:00', '02:30', 'Europe/Berlin', '2026-10-24T23:30:00Z', undefined, '2026-10-25T00:30:00.000Z'],
    ['Berlin, in the repeated hour: the second', '01:00', '02:30', 'Europe/Berlin', '2026-10-25T01:10:00Z', undefined, '2026-10-25T01:30:00.000Z'],
    ['Berlin, the night before clocks spring forward', '21:00', '08:00', 'Europe/Berlin', '2026-03-28T21:00:00Z', undefined, '2026-03-29T06:00:00.000Z'],
    // The person's own zone wins when it is a real zone.
    ['the profile zone', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T20:00:00Z', 'Europe/Berlin', '2026-06-02T06:00:00.000Z'],
    ['the profile zone allows what the default would not', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T14:00:00Z', 'Europe/Berlin', null],
    ['an unknown profile zone falls back', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T14:00:00Z', 'Mars/Olympus_Mons', '2026-06-02T00:00:00.000Z'],
    ['an abbreviation falls back', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T14:00:00Z', 'CST', '2026-06-02T00:00:00.000Z'],
    ['a non-string falls back', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T14:00:00Z', 42, '2026-06-02T00:00:00.000Z'],
    ['UTC as the profile zone', '21:00', '08:00', 'Asia/Shanghai', '2026-06-01T22:00:00Z', 'UTC', '2026-06-02T08:00:00.000Z'],
  ])('%s', (_name, start, end, timezone, now, profileZone, expected) => {
    expect(iso(quietUntil(at(now), { start, end, timezone }, profileZone))).toBe(expected);
  });

  it.each([
    ['America/New_York', '21:00', '08:00'],
    ['America/New_York', '01:30', '02:30'],
    ['Europe/Berlin', '22:00', '02:30'],
    ['Europe/Berlin', '02:15', '02:45'],
    ['Asia/Shanghai', '12:00', '14:00'],
    ['Australia/Lord_Howe', '23:00', '01:45'],
  ])('in %s %s–%s, every hour of a year ends in an allowed instant within a day', (timezone, start, end) => {
    const quiet = { start, end, timezone };
    for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2027-01-01T00:00:00Z'); t += 3_600_000 + 7 * 60_000) {
      const until = quietUntil(new Date(t), quiet);
      if (until === null) continue;
      expect(until.getTime()).toBeGreaterThan(t);
      expect(until.getTime() - t).toBeLessThanOrEqual(25 * 3_600_000);
      expect(quietUntil(until, quiet), `${new Date(t).toISOString()} → ${until.toISOString()}`).toBeNull();
    }
  });
});

describe('validateQuietHours', () => {
  it.each([
    ['good', { start: '21:00', end: '08:00', timezone: 'Asia/Shanghai' }, []],
    ['midnight to 23:59', { start: '00:00', end: '23:59', timezone: 'UTC' }, []],
    ['24:00', { start: '24:00', end: '08:00', timezone: 'Asia/Shanghai' }, ['quietHours.start']],
    ['no leading zero', { start: '21:00', end: '8:00', timezone: 'Asia/Shanghai' }, ['quietHours.end']],
    ['seconds', { start: '21:00:00', end: '08:00', timezone: 'Asia/Shanghai' }, ['quietHours.start']],
    ['a number', { start: 21, end: '08:00', timezone: 'Asia/Shanghai' }, ['quietHours.start']],
    ['an unknown zone', { start: '21:00', end: '08:00', timezone: 'Asia/Atlantis' }, ['quietHours.timezone']],
    ['an offset', { start: '21:00', end: '08:00', timezone: '+08:00' }, ['quietHours.timezone']],
    ['nothing given', {}, ['quietHours.start', 'quietHours.end', 'quietHours.timezone']],
    ['not an object', 'night', ['quietHours']],
  ])('%s', (_name, q, fields) => {
    const issues = validateQuietHours(q);
    expect(issues.map((i) => i.field)).toEqual(fields);
    for (const issue of issues) expect(issue.message).toContain(issue.field);
  });

  it('knows zones', () => {
    expect(['Asia/Shanghai', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+8'].map(isTimeZone)).toEqual([true, true, true, true]);
    expect(['', 'CST', 'PST8PDT_', 'Asia/Nowhere', '../etc/passwd'].map(isTimeZone)).toEqual([false, false, false, false, false]);
  });
});
