import { Value } from '@sinclair/typebox/value';
import { RuleSchema, segmentReferences, tagReferences, type Rule } from '../segments/rule.js';
import { validateRule, type KnownNames } from '../segments/validate.js';
import type { PropertyCondition, Trigger } from './campaign.js';

/**
 * The pure half of triggered campaigns: does an event fire a trigger, and is
 * a schedule well formed. No I/O, so the pipeline can run the match on every
 * event of a batch for the price of a few comparisons.
 */

export const PROPERTY_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains'] as const satisfies ReadonlyArray<PropertyCondition['op']>;

/** A year: a longer wait is a mistake more often than a plan. */
export const MAX_WAIT_MINUTES = 525_600;

const MAX_NAME = 200;
const MAX_WHERE = 20;
const MAX_TEXT = 1000;

export interface MatchableEvent {
  event: string | null;
  properties: Record<string, unknown>;
}

/** Whether an event starts a journey: an event trigger of its name whose every `where` condition holds. */
export function eventMatches(trigger: Trigger, event: MatchableEvent): boolean {
  if (trigger.on !== 'event' || event.event === null || event.event !== trigger.event) return false;
  return (trigger.where ?? []).every((c) => propertyHolds(c, event.properties));
}

/** One condition on an event's properties; a property that is absent holds for nothing, not even neq. */
export function propertyHolds(condition: PropertyCondition, properties: Record<string, unknown>): boolean {
  const actual = propertyAt(properties, condition.property);
  if (actual === undefined || actual === null) return false;
  const expected = condition.value;
  switch (condition.op) {
    case 'exists':
      return true;
    case 'eq':
      return expected !== undefined && same(actual, expected);
    case 'neq':
      return expected !== undefined && !same(actual, expected);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const a = numberOf(actual);
      const b = numberOf(expected);
      if (a === null || b === null) return false;
      return condition.op === 'gt' ? a > b : condition.op === 'gte' ? a >= b : condition.op === 'lt' ? a < b : a <= b;
    }
    case 'contains':
      if (expected === undefined) return false;
      if (Array.isArray(actual)) return actual.some((item) => item !== null && item !== undefined && same(item, expected));
      // Case-insensitive, as contains is in segment rules: "Slow" in a comment is the same complaint as "slow".
      return typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase());
  }
}

/**
 * The value at a property path. A key that itself holds a dot (`utm.source`
 * sent flat) wins over the nested reading, since that is what the sender wrote.
 */
export function propertyAt(properties: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(properties, path)) return properties[path];
  let at: unknown = properties;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

// Only plain decimal text counts as a number: "0x10", "1e3 " or "" would surprise someone comparing NPS scores.
const NUMERIC_TEXT = /^-?(\d+(\.\d*)?|\.\d+)$/;

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) return Number(value.trim());
  return null;
}

// Clients send numbers as text often enough ("6" from a form field) that eq 6 has to mean both.
function same(actual: unknown, expected: string | number | boolean): boolean {
  const a = numberOf(actual);
  const b = numberOf(expected);
  if (a !== null && b !== null && (typeof actual === 'number' || typeof expected === 'number')) return a === b;
  if (typeof actual === 'object') return false;
  return String(actual) === String(expected);
}

// ---------------------------------------------------------------- schedules

/** What is wrong with a schedule, and where: `field` is like schedule.trigger.where.0.op. */
export interface ScheduleIssue {
  field: string;
  message: string;
}

/**
 * Check any campaign schedule (once, recurring, triggered) so the campaign
 * store has one call for all of them. `known` names the workspace's segments
 * (and tags, for a condition's rule); without it references are not checked.
 */
export function validateSchedule(schedule: unknown, known?: ReadonlySet<string> | KnownNames): ScheduleIssue[] {
  const issues: ScheduleIssue[] = [];
  const fail = (field: string, message: string) => issues.push({ field, message });
  if (!isObject(schedule)) {
    fail('schedule', 'a schedule is an object with a kind: once, recurring or triggered');
    return issues;
  }
  switch (schedule.kind) {
    case 'once':
      if (schedule.at !== undefined && !isDate(schedule.at)) fail('schedule.at', 'at is an ISO date-time such as 2026-12-01T09:00:00Z');
      break;
    case 'recurring':
      if (typeof schedule.everyHours !== 'number' || !Number.isFinite(schedule.everyHours) || schedule.everyHours < 1)
        fail('schedule.everyHours', 'everyHours is a number of hours, at least 1');
      if (schedule.until !== undefined && !isDate(schedule.until)) fail('schedule.until', 'until is an ISO date-time such as 2026-12-31T23:59:59Z');
      break;
    case 'triggered':
      checkTrigger(schedule.trigger, known, fail);
      if (typeof schedule.waitMinutes !== 'number' || !Number.isInteger(schedule.waitMinutes) || schedule.waitMinutes < 0 || schedule.waitMinutes > MAX_WAIT_MINUTES)
        fail('schedule.waitMinutes', `waitMinutes is a whole number of minutes from 0 to ${MAX_WAIT_MINUTES} (a year)`);
      if (schedule.condition !== undefined) checkCondition(schedule.condition, known, fail);
      break;
    default:
      fail('schedule.kind', 'kind is once, recurring or triggered');
  }
  return issues;
}

type Fail = (field: string, message: string) => void;

function checkTrigger(trigger: unknown, known: ReadonlySet<string> | KnownNames | undefined, fail: Fail): void {
  if (!isObject(trigger)) return fail('schedule.trigger', 'a triggered schedule needs a trigger: {on: "event", event} or {on: "segment_entered", segmentId}');
  if (trigger.on === 'event') {
    if (!isName(trigger.event)) fail('schedule.trigger.event', `event is the event name, 1 to ${MAX_NAME} characters (e.g. "Cart Abandoned")`);
    if (trigger.where === undefined) return;
    if (!Array.isArray(trigger.where) || trigger.where.length > MAX_WHERE) return fail('schedule.trigger.where', `where is a list of at most ${MAX_WHERE} property conditions`);
    trigger.where.forEach((c: unknown, i: number) => checkPropertyCondition(c, `schedule.trigger.where.${i}`, fail));
    return;
  }
  if (trigger.on === 'segment_entered') {
    if (!isName(trigger.segmentId)) return fail('schedule.trigger.segmentId', 'segmentId is the id of the segment whose new members start the journey');
    const segmentIds = segmentIdsOf(known);
    if (segmentIds && !segmentIds.has(trigger.segmentId)) fail('schedule.trigger.segmentId', `no segment has the id ${trigger.segmentId}`);
    return;
  }
  fail('schedule.trigger.on', 'on is "event" or "segment_entered"');
}

function checkPropertyCondition(c: unknown, at: string, fail: Fail): void {
  if (!isObject(c)) return fail(at, 'a property condition is {property, op, value}');
  if (!isName(c.property)) fail(`${at}.property`, `property is a property name or dotted path, 1 to ${MAX_NAME} characters`);
  if (!(PROPERTY_OPS as readonly unknown[]).includes(c.op)) return fail(`${at}.op`, `op is one of ${PROPERTY_OPS.join(', ')}`);
  const value = c.value;
  const scalar = (typeof value === 'string' && value.length <= MAX_TEXT) || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean';
  if (c.op === 'exists') {
    if (value !== undefined) fail(`${at}.value`, 'exists takes no value');
  } else if (!scalar) {
    fail(`${at}.value`, `${String(c.op)} needs one value: a string (at most ${MAX_TEXT} characters), a number or a boolean`);
  } else if ((c.op === 'gt' || c.op === 'gte' || c.op === 'lt' || c.op === 'lte') && numberOf(value) === null) {
    fail(`${at}.value`, `${c.op} compares numbers: give a number`);
  } else if (c.op === 'contains' && String(value) === '') {
    fail(`${at}.value`, 'contains needs a non-empty value');
  }
}

function checkCondition(condition: unknown, known: ReadonlySet<string> | KnownNames | undefined, fail: Fail): void {
  if (!isObject(condition)) return fail('schedule.condition', 'condition is an object with rule and/or notPerformed');
  if (condition.notPerformed !== undefined && !isName(condition.notPerformed))
    fail('schedule.condition.notPerformed', `notPerformed is an event name, 1 to ${MAX_NAME} characters (e.g. "Order Completed")`);
  if (condition.rule === undefined) return;
  if (!Value.Check(RuleSchema, condition.rule)) return fail('schedule.condition.rule', 'the rule does not follow the segment rule language (docs/segments.md)');
  const rule = condition.rule as Rule;
  // What is not known is not checked: give every reference the benefit of the doubt.
  const names: KnownNames = {
    segmentIds: segmentIdsOf(known) ?? new Set(segmentReferences(rule)),
    tagNames: known && isKnownNames(known) ? known.tagNames : new Set(tagReferences(rule).map((t) => t.toLowerCase())),
  };
  for (const issue of validateRule(rule, names, 'schedule.condition.rule')) fail(issue.path.replace(/\[(\d+)\]/g, '.$1'), issue.message);
}

function isKnownNames(known: ReadonlySet<string> | KnownNames): known is KnownNames {
  return 'segmentIds' in known && 'tagNames' in known;
}

function segmentIdsOf(known: ReadonlySet<string> | KnownNames | undefined): ReadonlySet<string> | undefined {
  if (known === undefined) return undefined;
  return isKnownNames(known) ? known.segmentIds : known;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= MAX_NAME;
}

function isDate(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}
