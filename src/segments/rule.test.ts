import { describe, expect, it } from 'vitest';
import { durationAgo, instantOf, isTimeRelative, parseRuleDate, segmentReferences, tagReferences } from './rule.js';

describe('durations', () => {
  it.each([
    ['12h', '2026-03-31T12:00:00Z', '2026-03-31T00:00:00.000Z'],
    ['30d', '2026-03-31T12:00:00Z', '2026-03-01T12:00:00.000Z'],
    ['2w', '2026-03-31T12:00:00Z', '2026-03-17T12:00:00.000Z'],
    // A calendar month back from the 31st lands on the last day of a shorter month, not in the next one.
    ['1m', '2026-03-31T12:00:00Z', '2026-02-28T12:00:00.000Z'],
    ['1m', '2024-03-31T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['13m', '2026-01-15T00:00:00Z', '2024-12-15T00:00:00.000Z'],
    ['1y', '2028-02-29T12:00:00Z', '2027-02-28T12:00:00.000Z'],
  ])('%s before %s is %s', (duration, now, expected) => {
    expect(durationAgo(duration, new Date(now)).toISOString()).toBe(expected);
  });

  it('refuses what is not a duration', () => {
    expect(() => durationAgo('30 days', new Date())).toThrow(RangeError);
  });
});

describe('dates', () => {
  it.each([
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-03-10T10:00:00', '2026-03-10T10:00:00.000Z'],
    ['2026-03-10 10:00', '2026-03-10T10:00:00.000Z'],
    ['2026-03-10T10:00:00+08:00', '2026-03-10T02:00:00.000Z'],
    ['2026-03-10T10:00:00.5Z', '2026-03-10T10:00:00.500Z'],
  ])('%s is %s whatever the process time zone', (text, expected) => {
    expect(parseRuleDate(text)?.toISOString()).toBe(expected);
  });

  it.each(['2025-02-29', '2025-02-30', '2025-04-31', '2025-13-01', '25-01-01', 'yesterday', ''])('%s is not a date', (text) => {
    expect(parseRuleDate(text)).toBeNull();
  });

  it('reads a duration as that long ago', () => {
    expect(instantOf('1d', new Date('2026-01-02T00:00:00Z'))?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('rule facts', () => {
  it('knows which rules move with time', () => {
    expect(isTimeRelative({ trait: 'city', op: 'eq', value: '上海' })).toBe(false);
    expect(isTimeRelative({ trait: 'birthday', op: 'before', value: '2000-01-01' })).toBe(false);
    expect(isTimeRelative({ trait: 'birthday', op: 'after', value: '25y' })).toBe(true);
    expect(isTimeRelative({ trait: 'birthday', op: 'birthday_in_month', value: 'current' })).toBe(true);
    expect(isTimeRelative({ event: 'Order Completed', count: { gte: 2 } })).toBe(false);
    expect(isTimeRelative({ all: [{ tag: 'VIP' }, { not: { event: 'Order Completed', within: '14d' } }] })).toBe(true);
    expect(isTimeRelative({ event: 'Order Completed', last: { before: '60d' } })).toBe(true);
  });

  it('lists the segments and tags a rule reads', () => {
    const rule = { any: [{ segment: 'a' }, { not: { all: [{ tag: 'VIP' }, { segment: 'b' }] } }] };
    expect(segmentReferences(rule)).toEqual(['a', 'b']);
    expect(tagReferences(rule)).toEqual(['VIP']);
  });
});
