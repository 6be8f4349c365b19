import { describe, expect, it } from 'vitest';
import type { PropertyCondition, Trigger } from './campaign.js';
import { eventMatches, propertyAt, validateSchedule } from './trigger-match.js';

const nps = (where: PropertyCondition[]): Trigger => ({ on: 'event', event: 'Survey Responded', where });
const detractor = nps([{ property: 'nps', op: 'lte', value: 6 }]);

describe('eventMatches', () => {
  it.each([
    ['a detractor (nps 4)', detractor, 'Survey Responded', { nps: 4 }, true],
    ['a promoter sent as text ("9")', detractor, 'Survey Responded', { nps: '9' }, false],
    ['a detractor sent as text ("6")', detractor, 'Survey Responded', { nps: '6' }, true],
    ['a missing property', detractor, 'Survey Responded', {}, false],
    ['a null property', detractor, 'Survey Responded', { nps: null }, false],
    ['text that is not a number', detractor, 'Survey Responded', { nps: 'six' }, false],
    ['another event name', detractor, 'Order Completed', { nps: 2 }, false],
    ['an event name differing in case', detractor, 'survey responded', { nps: 2 }, false],
    ['no conditions', { on: 'event', event: 'Cart Abandoned' }, 'Cart Abandoned', {}, true],
    ['a segment trigger never matches an event', { on: 'segment_entered', segmentId: 's1' }, 'Cart Abandoned', {}, false],
  ] satisfies Array<[string, Trigger, string, Record<string, unknown>, boolean]>)('%s', (_name, trigger, event, properties, expected) => {
    expect(eventMatches(trigger, { event, properties })).toBe(expected);
  });

  it('does not match an event without a name (identify, group)', () => {
    expect(eventMatches({ on: 'event', event: 'Cart Abandoned' }, { event: null, properties: {} })).toBe(false);
  });

  it.each([
    ['eq number to number', { property: 'n', op: 'eq', value: 3 }, { n: 3 }, true],
    ['eq number to numeric text', { property: 'n', op: 'eq', value: 3 }, { n: '3.0' }, true],
    ['eq text to number', { property: 'n', op: 'eq', value: '3' }, { n: 3 }, true],
    ['eq text', { property: 'plan', op: 'eq', value: 'pro' }, { plan: 'pro' }, true],
    ['eq text is case-sensitive', { property: 'plan', op: 'eq', value: 'pro' }, { plan: 'Pro' }, false],
    ['eq boolean', { property: 'gift', op: 'eq', value: true }, { gift: true }, true],
    ['eq boolean against false', { property: 'gift', op: 'eq', value: true }, { gift: false }, false],
    ['eq never matches an object', { property: 'a', op: 'eq', value: '[object Object]' }, { a: {} }, false],
    ['neq holds for another value', { property: 'plan', op: 'neq', value: 'pro' }, { plan: 'free' }, true],
    ['neq fails on the same value', { property: 'plan', op: 'neq', value: 'pro' }, { plan: 'pro' }, false],
    ['neq needs the property', { property: 'plan', op: 'neq', value: 'pro' }, {}, false],
    ['gt', { property: 'total', op: 'gt', value: 100 }, { total: 100.5 }, true],
    ['gt at the bound', { property: 'total', op: 'gt', value: 100 }, { total: 100 }, false],
    ['gte at the bound', { property: 'total', op: 'gte', value: 100 }, { total: '100' }, true],
    ['lt', { property: 'total', op: 'lt', value: 10 }, { total: -3 }, true],
    ['lte compares numerically, not as text', { property: 'total', op: 'lte', value: 9 }, { total: '10' }, false],
    ['gt on a boolean', { property: 'total', op: 'gt', value: 0 }, { total: true }, false],
    ['exists', { property: 'coupon', op: 'exists' }, { coupon: '' }, true],
    ['exists on a missing property', { property: 'coupon', op: 'exists' }, { other: 1 }, false],
    ['contains in text', { property: 'comment', op: 'contains', value: 'slow' }, { comment: 'delivery was slow' }, true],
    ['contains ignores case in text', { property: 'comment', op: 'contains', value: 'SLOW' }, { comment: 'Delivery was slow' }, true],
    ['contains not in text', { property: 'comment', op: 'contains', value: 'fast' }, { comment: 'delivery was slow' }, false],
    ['contains in an array', { property: 'skus', op: 'contains', value: 'A-1' }, { skus: ['B-2', 'A-1'] }, true],
    ['contains a number in an array', { property: 'ids', op: 'contains', value: 7 }, { ids: [5, '7'] }, true],
    ['contains not in an array', { property: 'skus', op: 'contains', value: 'A-1' }, { skus: ['A-10'] }, false],
    ['contains on a number', { property: 'n', op: 'contains', value: '1' }, { n: 12 }, false],
    ['a dotted path', { property: 'cart.total', op: 'gte', value: 50 }, { cart: { total: 80 } }, true],
    ['a dotted path through a missing object', { property: 'cart.total', op: 'exists' }, { cart: 3 }, false],
    ['a flat key holding a dot', { property: 'utm.source', op: 'eq', value: 'wechat' }, { 'utm.source': 'wechat' }, true],
  ] satisfies Array<[string, PropertyCondition, Record<string, unknown>, boolean]>)('%s', (_name, condition, properties, expected) => {
    expect(eventMatches({ on: 'event', event: 'E', where: [condition] }, { event: 'E', properties })).toBe(expected);
  });

  it('needs every condition to hold', () => {
    const trigger = nps([{ property: 'nps', op: 'lte', value: 6 }, { property: 'channel', op: 'eq', value: 'app' }]);
    expect(eventMatches(trigger, { event: 'Survey Responded', properties: { nps: 3, channel: 'app' } })).toBe(true);
    expect(eventMatches(trigger, { event: 'Survey Responded', properties: { nps: 3, channel: 'web' } })).toBe(false);
  });

  it('reads no inherited keys', () => {
    expect(propertyAt({}, 'constructor')).toBeUndefined();
    expect(propertyAt({ a: {} }, 'a.toString')).toBeUndefined();
  });
});

describe('validateSchedule', () => {
  const fields = (schedule: unknown, known?: ReadonlySet<string>) => validateSchedule(schedule, known).map((i) => i.field);

  it.each([
    ['an event trigger with a condition', { kind: 'triggered', trigger: detractor, waitMinutes: 60, condition: { notPerformed: 'Order Completed', rule: { trait: 'city', op: 'eq', value: '上海' } } }],
    ['a segment trigger without a wait', { kind: 'triggered', trigger: { on: 'segment_entered', segmentId: 'seg1' }, waitMinutes: 0 }],
    ['once, now', { kind: 'once' }],
    ['once, at a time', { kind: 'once', at: '2026-12-01T09:00:00Z' }],
    ['recurring until', { kind: 'recurring', everyHours: 24, until: '2027-01-01' }],
  ])('accepts %s', (_name, schedule) => {
    expect(validateSchedule(schedule, new Set(['seg1']))).toEqual([]);
  });

  it.each([
    ['not an object', 'daily', ['schedule']],
    ['an unknown kind', { kind: 'weekly' }, ['schedule.kind']],
    ['once at a non-date', { kind: 'once', at: 'tomorrow' }, ['schedule.at']],
    ['recurring under an hour', { kind: 'recurring', everyHours: 0.5 }, ['schedule.everyHours']],
    ['recurring until a non-date', { kind: 'recurring', everyHours: 2, until: 'never' }, ['schedule.until']],
    ['no trigger', { kind: 'triggered', waitMinutes: 5 }, ['schedule.trigger']],
    ['an unknown trigger', { kind: 'triggered', trigger: { on: 'page_viewed' }, waitMinutes: 5 }, ['schedule.trigger.on']],
    ['an event trigger without a name', { kind: 'triggered', trigger: { on: 'event', event: ' ' }, waitMinutes: 5 }, ['schedule.trigger.event']],
    ['an unknown property op', { kind: 'triggered', trigger: { on: 'event', event: 'E', where: [{ property: 'nps', op: 'between', value: 3 }] }, waitMinutes: 5 }, ['schedule.trigger.where.0.op']],
    ['lte on text', { kind: 'triggered', trigger: { on: 'event', event: 'E', where: [{ property: 'nps', op: 'exists' }, { property: 'nps', op: 'lte', value: 'low' }] }, waitMinutes: 5 }, ['schedule.trigger.where.1.value']],
    ['exists with a value', { kind: 'triggered', trigger: { on: 'event', event: 'E', where: [{ property: 'nps', op: 'exists', value: 1 }] }, waitMinutes: 5 }, ['schedule.trigger.where.0.value']],
    ['where not a list', { kind: 'triggered', trigger: { on: 'event', event: 'E', where: { property: 'nps' } }, waitMinutes: 5 }, ['schedule.trigger.where']],
    ['an unknown segment', { kind: 'triggered', trigger: { on: 'segment_entered', segmentId: 'nope' }, waitMinutes: 5 }, ['schedule.trigger.segmentId']],
    ['a negative wait', { kind: 'triggered', trigger: detractor, waitMinutes: -1 }, ['schedule.waitMinutes']],
    ['a fractional wait', { kind: 'triggered', trigger: detractor, waitMinutes: 1.5 }, ['schedule.waitMinutes']],
    ['a wait over a year', { kind: 'triggered', trigger: detractor, waitMinutes: 525_601 }, ['schedule.waitMinutes']],
    ['no wait', { kind: 'triggered', trigger: detractor }, ['schedule.waitMinutes']],
    ['a rule outside the language', { kind: 'triggered', trigger: detractor, waitMinutes: 5, condition: { rule: { trait: 'city', op: 'like' } } }, ['schedule.condition.rule']],
    ['a rule with a bad value', { kind: 'triggered', trigger: detractor, waitMinutes: 5, condition: { rule: { all: [{ trait: 'city', op: 'exists' }, { trait: 'age', op: 'in', value: [] }] } } }, ['schedule.condition.rule.all.1.value']],
    ['a rule naming an unknown segment', { kind: 'triggered', trigger: detractor, waitMinutes: 5, condition: { rule: { segment: 'nope' } } }, ['schedule.condition.rule.segment']],
    ['an empty notPerformed', { kind: 'triggered', trigger: detractor, waitMinutes: 5, condition: { notPerformed: '' } }, ['schedule.condition.notPerformed']],
    ['a condition that is not an object', { kind: 'triggered', trigger: detractor, waitMinutes: 5, condition: 'no orders' }, ['schedule.condition']],
  ])('refuses %s', (_name, schedule, expected) => {
    expect(fields(schedule, new Set(['seg1']))).toEqual(expected);
  });

  it('checks no references when it is not told the names', () => {
    expect(fields({ kind: 'triggered', trigger: { on: 'segment_entered', segmentId: 'any' }, waitMinutes: 0, condition: { rule: { all: [{ segment: 'x' }, { tag: 'VIP' }] } } })).toEqual([]);
  });

  it('checks tag names when told them', () => {
    const known = { segmentIds: new Set<string>(), tagNames: new Set(['vip']) };
    const schedule = (tag: string) => ({ kind: 'triggered', trigger: detractor, waitMinutes: 0, condition: { rule: { tag } } });
    expect(validateSchedule(schedule('VIP'), known)).toEqual([]);
    expect(validateSchedule(schedule('gold'), known).map((i) => i.field)).toEqual(['schedule.condition.rule.tag']);
  });
});
