import { Type } from '@sinclair/typebox';

/**
 * The segment rule language: a JSON tree that names customers, e.g.
 * {"all":[{"trait":"city","op":"eq","value":"上海"},
 *         {"event":"Order Completed","within":"30d","count":{"gte":3}},
 *         {"not":{"event":"Order Completed","within":"14d"}}]}
 * The schema below is its whole syntax; validate.ts checks what a schema
 * cannot (a value fitting its operator, references), compile.ts turns it into
 * one parameterized SQL condition, describe.ts into a sentence.
 */

export const TRAIT_OPS = [
  'eq', 'neq', 'in', 'not_in', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'between', 'exists', 'missing',
  'within_last', 'not_within_last', 'before', 'after', 'birthday_in_month',
] as const;
export type TraitOp = (typeof TRAIT_OPS)[number];

/** Operators a computed score or an event property takes: no dates relative to now, no birthdays. */
export const VALUE_OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'starts_with', 'gt', 'gte', 'lt', 'lte', 'between', 'exists', 'missing'] as const;
export type ValueOp = (typeof VALUE_OPS)[number];

export type Scalar = string | number | boolean;

/**
 * `value` by operator: eq/neq/contains/starts_with a scalar; in/not_in a list;
 * gt/gte/lt/lte a number or a date; between [min, max] (inclusive);
 * within_last/not_within_last a duration ("30d"); before/after a date or a
 * duration meaning that long ago; birthday_in_month 1–12, or "current";
 * exists/missing nothing.
 */
export interface TraitCondition {
  trait: string;
  op: TraitOp;
  value?: Scalar | Scalar[];
}

export interface PropertyFilter {
  property: string;
  op: ValueOp;
  value?: Scalar | Scalar[];
}

/** A numeric comparison; several bounds are all required (gte 3 and lte 5). */
export interface Comparison {
  eq?: number;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** When an occurrence happened: `within` a duration of now, before/after a date or a duration ago, or between two dates. */
export interface TimeWindow {
  within?: string;
  before?: string;
  after?: string;
  between?: [string, string];
}

/**
 * Events of one name (with property filters) in a window, then one test:
 * how many (count), a property's sum or average, or when the first or last
 * of them happened. With no test, at least one must have happened.
 */
export interface EventCondition extends TimeWindow {
  event: string;
  where?: PropertyFilter[];
  count?: Comparison;
  sum?: Comparison & { property: string };
  avg?: Comparison & { property: string };
  /** the earliest of the events that pass the condition's own window and `where` fell in this window (with no own window: the first ever) */
  first?: TimeWindow;
  /** the latest of those events fell in this window */
  last?: TimeWindow;
}

export interface SegmentReference {
  /** a segment id */
  segment: string;
}

export interface TagCondition {
  /** a tag name */
  tag: string;
  /** for a tag with values (age group), the value; any value when absent */
  value?: string;
}

/** A computed score: rfm_segment, rfm_r/f/m, cluster, clv, churn_risk… */
export interface ScoreCondition {
  score: string;
  op: ValueOp;
  value?: Scalar | Scalar[];
}

/**
 * The current consent of a purpose (docs/consent.md). `state` granted: the
 * latest choice was yes; withdrawn: it was no; unknown: no choice recorded.
 * `granted: true` is granted and `granted: false` withdrawn: never unknown,
 * so "not granted" (`{"not": {consent, granted: true}}`) is what includes both.
 */
export interface ConsentCondition {
  consent: string;
  granted?: boolean;
  state?: ConsentStateName;
}

export const CONSENT_STATES = ['granted', 'withdrawn', 'unknown'] as const;
export type ConsentStateName = (typeof CONSENT_STATES)[number];

export interface AllNode {
  all: Rule[];
}
export interface AnyNode {
  any: Rule[];
}
export interface NotNode {
  not: Rule;
}

export type Rule = AllNode | AnyNode | NotNode | TraitCondition | EventCondition | SegmentReference | TagCondition | ScoreCondition | ConsentCondition;

// Untyped on purpose: the API coerces types to fit a schema, and a union of
// string and number would turn 18 into "18". validate.ts checks the shape.
const ValueOrList = Type.Unknown({ description: 'a string, number or boolean, or a list of them (in, not_in, between)' });
export const DurationSchema = Type.String({ pattern: '^[1-9][0-9]{0,5}(h|d|w|m|y)$', description: 'a count and a unit: h hours, d days, w weeks, m months, y years (30d, 12h, 6m)' });
const DateOrDuration = Type.String({ minLength: 2, maxLength: 40, description: 'an ISO date (2026-01-31) or date-time, or a duration meaning that long ago (30d)' });
const ComparisonFields = {
  eq: Type.Optional(Type.Number()),
  gt: Type.Optional(Type.Number()),
  gte: Type.Optional(Type.Number()),
  lt: Type.Optional(Type.Number()),
  lte: Type.Optional(Type.Number()),
};
const WindowFields = {
  within: Type.Optional(DurationSchema),
  before: Type.Optional(DateOrDuration),
  after: Type.Optional(DateOrDuration),
  between: Type.Optional(Type.Tuple([DateOrDuration, DateOrDuration])),
};
const Name = Type.String({ minLength: 1, maxLength: 200 });

const closed = { additionalProperties: false } as const;

export const PropertyFilterSchema = Type.Object({ property: Name, op: Type.Union(VALUE_OPS.map((op) => Type.Literal(op))), value: Type.Optional(ValueOrList) }, closed);

/** The rule schema; recursive, so one `$id` names it for the OpenAPI document. */
export const RuleSchema = Type.Recursive(
  (Self) =>
    Type.Union([
      Type.Object({ all: Type.Array(Self, { minItems: 1, maxItems: 100 }) }, closed),
      Type.Object({ any: Type.Array(Self, { minItems: 1, maxItems: 100 }) }, closed),
      Type.Object({ not: Self }, closed),
      Type.Object({ trait: Name, op: Type.Union(TRAIT_OPS.map((op) => Type.Literal(op))), value: Type.Optional(ValueOrList) }, closed),
      Type.Object(
        {
          event: Name,
          where: Type.Optional(Type.Array(PropertyFilterSchema, { maxItems: 20 })),
          ...WindowFields,
          count: Type.Optional(Type.Object(ComparisonFields, { ...closed, minProperties: 1 })),
          sum: Type.Optional(Type.Object({ property: Name, ...ComparisonFields }, { ...closed, minProperties: 2 })),
          avg: Type.Optional(Type.Object({ property: Name, ...ComparisonFields }, { ...closed, minProperties: 2 })),
          first: Type.Optional(Type.Object(WindowFields, { ...closed, minProperties: 1 })),
          last: Type.Optional(Type.Object(WindowFields, { ...closed, minProperties: 1 })),
        },
        closed,
      ),
      Type.Object({ segment: Name }, closed),
      Type.Object({ tag: Name, value: Type.Optional(Type.String({ maxLength: 200 })) }, closed),
      Type.Object({ score: Name, op: Type.Union(VALUE_OPS.map((op) => Type.Literal(op))), value: Type.Optional(ValueOrList) }, closed),
      // The purpose is any name here so an unknown one gets validate.ts's message naming the purposes, not a union mismatch.
      Type.Object({ consent: Name, granted: Type.Optional(Type.Boolean()), state: Type.Optional(Type.String({ maxLength: 40 })) }, closed),
    ]),
  { $id: 'SegmentRule', description: 'A segment rule: all/any/not over trait, event, segment, tag, score and consent conditions (docs/segments.md)' },
);

export function isAll(rule: Rule): rule is AllNode {
  return 'all' in rule;
}
export function isAny(rule: Rule): rule is AnyNode {
  return 'any' in rule;
}
export function isNot(rule: Rule): rule is NotNode {
  return 'not' in rule;
}
export function isTrait(rule: Rule): rule is TraitCondition {
  return 'trait' in rule;
}
export function isEvent(rule: Rule): rule is EventCondition {
  return 'event' in rule;
}
export function isSegmentReference(rule: Rule): rule is SegmentReference {
  return 'segment' in rule;
}
export function isTag(rule: Rule): rule is TagCondition {
  return 'tag' in rule;
}
export function isScore(rule: Rule): rule is ScoreCondition {
  return 'score' in rule;
}
export function isConsent(rule: Rule): rule is ConsentCondition {
  return 'consent' in rule;
}

/** The state a valid consent condition asks for. */
export function consentStateOf(rule: ConsentCondition): ConsentStateName {
  if (rule.state !== undefined) return rule.state;
  return rule.granted === false ? 'withdrawn' : 'granted';
}

/** Every leaf condition of a rule, depth first. */
export function conditionsOf(rule: Rule): Rule[] {
  if (isAll(rule)) return rule.all.flatMap(conditionsOf);
  if (isAny(rule)) return rule.any.flatMap(conditionsOf);
  if (isNot(rule)) return conditionsOf(rule.not);
  return [rule];
}

/** Every segment id a rule refers to. */
export function segmentReferences(rule: Rule): string[] {
  return conditionsOf(rule).filter(isSegmentReference).map((c) => c.segment);
}

/** Every tag name a rule refers to. */
export function tagReferences(rule: Rule): string[] {
  return conditionsOf(rule).filter(isTag).map((c) => c.tag);
}

const DURATION = /^([1-9][0-9]{0,5})(h|d|w|m|y)$/;

export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/** The instant a duration before `now`; months and years are calendar ones (UTC), a month back from 31 March is 28 or 29 February. */
export function durationAgo(text: string, now: Date): Date {
  const m = DURATION.exec(text);
  if (!m) throw new RangeError(`not a duration: ${text}`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'h':
      return new Date(now.getTime() - n * 3_600_000);
    case 'd':
      return new Date(now.getTime() - n * 86_400_000);
    case 'w':
      return new Date(now.getTime() - n * 7 * 86_400_000);
    default:
      return monthsBefore(now, m[2] === 'm' ? n : n * 12);
  }
}

function monthsBefore(now: Date, months: number): Date {
  const total = now.getUTCFullYear() * 12 + now.getUTCMonth() - months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const at = new Date(now.getTime());
  at.setUTCFullYear(year, month, Math.min(now.getUTCDate(), lastDay));
  return at;
}

const ISO_DATE = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A date or date-time the language accepts. A bare date is midnight UTC, and
 * so is a date-time without a zone: a rule means the same on every server.
 * Days that do not exist (2025-02-30) are refused, not rolled over.
 */
export function parseRuleDate(text: string): Date | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  const zoned = m[4] === undefined || m[7] !== undefined;
  const iso = m[4] === undefined ? `${text}T00:00:00Z` : zoned ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** A date, or a duration meaning that long before `now`. */
export function instantOf(text: string, now: Date): Date | null {
  return isDuration(text) ? durationAgo(text, now) : parseRuleDate(text);
}

/** Does the rule depend on the passing of time (so members leave without any event)? */
export function isTimeRelative(rule: Rule): boolean {
  return conditionsOf(rule).some((c) => {
    if (isTrait(c)) {
      if (c.op === 'within_last' || c.op === 'not_within_last' || c.op === 'birthday_in_month') return true;
      return (c.op === 'before' || c.op === 'after') && typeof c.value === 'string' && isDuration(c.value);
    }
    if (!isEvent(c)) return false;
    const windows = [c, c.first, c.last].filter((w): w is TimeWindow => w !== undefined);
    return windows.some((w) => w.within !== undefined || [w.before, w.after, ...(w.between ?? [])].some((t) => t !== undefined && isDuration(t)));
  });
}
