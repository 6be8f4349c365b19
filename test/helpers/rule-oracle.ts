import {
  isAll,
  isAny,
  isConsent,
  isDuration,
  isEvent,
  isNot,
  isScore,
  isSegmentReference,
  isTag,
  isTrait,
  type Comparison,
  type EventCondition,
  type Rule,
  type Scalar,
  type TimeWindow,
  type TraitOp,
} from '../../src/segments/rule.js';
import { identityTraitType, profileColumnOf, standardRuleValue } from '../../src/segments/trait-fields.js';

/**
 * A plain in-memory evaluator of the segment rule language, written from the
 * language's documented meaning (src/segments/rule.ts and the semantics the
 * segment tests were specified with), not from the SQL compiler, so the two
 * can check each other: same rule, same data, same set.
 *
 * It is deliberately slow and literal: every profile, every condition, in
 * JavaScript, with its own date and number parsing.
 */

export interface OracleProfile {
  id: string;
  traits: Readonly<Record<string, unknown>>;
  createdAt: Date;
  updatedAt: Date;
  lastSeenAt: Date | null;
  /** set when the profile was merged into another: never a member of anything */
  mergedInto: string | null;
  /** identity types the profile has (email, phone, userId) */
  identityTypes: ReadonlySet<string>;
}

export interface OracleEvent {
  profileId: string;
  event: string;
  timestamp: Date;
  properties: Readonly<Record<string, unknown>>;
}

export interface OracleScore {
  value: number | null;
  label: string | null;
}

export interface OracleData {
  profiles: readonly OracleProfile[];
  events: readonly OracleEvent[];
  /** segment id → ids of the profiles with a membership row */
  segmentMembers: ReadonlyMap<string, ReadonlySet<string>>;
  /** lower-cased tag name → profile id → the tag's value for it ('' for a manual tag) */
  tags: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** score name → profile id → its row */
  scores: ReadonlyMap<string, ReadonlyMap<string, OracleScore>>;
  /** purpose → profile id → the current choice (true: granted, false: withdrawn); absent: no choice recorded */
  consents?: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
}

export interface Oracle {
  /** ids of the live profiles the rule names at `now` */
  members(rule: Rule, now: Date): Set<string>;
  /** does one profile (live or not) satisfy the rule, ignoring liveness */
  holds(rule: Rule, profileId: string, now: Date): boolean;
}

const DAY = 86_400_000;

/** operators whose value is a whole stored value, standardized as cleaning stores it (a fragment for contains is not a city) */
const WHOLE_VALUE_OPS: ReadonlySet<TraitOp> = new Set(['eq', 'neq', 'in', 'not_in']);

// ------------------------------------------------------------------ parsing

/**
 * A number the language reads from a JSON value: a JSON number, or a string
 * that is plainly a decimal number. Beyond ±1e150 a value is not read as a
 * number at all (float8 sums would overflow), and below 1e-300 it is 0.
 */
export function numericOf(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d{1,40}(\.\d{1,40})?([eE][-+]?\d{1,3})?\s*$/.test(value)) n = Number(value.trim());
  else return null;
  if (!Number.isFinite(n) || Math.abs(n) > 1e150) return null;
  return Math.abs(n) < 1e-300 ? 0 : n;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Date.UTC without its two-digit-year quirk (years 0–99 read as 1900–1999). */
function utc(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const at = new Date(0);
  at.setUTCFullYear(year, monthIndex, day);
  at.setUTCHours(hour, minute, second, ms);
  return at.getTime();
}

export interface ParsedInstant {
  at: number;
  /** a bare calendar date (no time of day): it names a whole UTC day */
  bare: boolean;
}

/**
 * An ISO date (midnight UTC) or date-time; a date-time without an offset is
 * UTC. A calendar date that does not exist (2025-02-29) is not an instant.
 */
export function parseInstant(value: unknown): ParsedInstant | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (m[4] === undefined) return { at: utc(year, month - 1, day), bare: true };
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? '0')];
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (hours > 15 || minutes > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return { at: utc(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000, bare: false };
}

/**
 * The instant a duration before `now`. Hours, days and weeks are exact;
 * months and years are calendar ones in UTC, a day that the earlier month
 * lacks becoming its last day (one month before 31 March is 28/29 February).
 */
export function oracleDurationAgo(text: string, now: Date): number {
  const m = /^([1-9]\d{0,5})(h|d|w|m|y)$/.exec(text);
  if (!m) throw new RangeError(`not a duration: ${text}`);
  const n = Number(m[1]);
  const unit = m[2];
  if (unit === 'h') return now.getTime() - n * 3_600_000;
  if (unit === 'd') return now.getTime() - n * DAY;
  if (unit === 'w') return now.getTime() - n * 7 * DAY;
  const months = unit === 'm' ? n : 12 * n;
  const total = now.getUTCFullYear() * 12 + now.getUTCMonth() - months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const day = Math.min(now.getUTCDate(), daysInMonth(year, month + 1));
  const timeOfDay = now.getTime() - utc(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return utc(year, month, day) + timeOfDay;
}

/** A rule-side instant: a duration ago (exact) or a date (a bare date keeps its whole-day meaning). */
function ruleInstant(text: Scalar | undefined, now: Date): ParsedInstant {
  if (typeof text === 'string' && isDuration(text)) return { at: oracleDurationAgo(text, now), bare: false };
  const parsed = parseInstant(text);
  if (!parsed) throw new Error(`the oracle was given a rule date it cannot read: ${String(text)} (validateRule should refuse it)`);
  return parsed;
}

/** The first instant after the bound: the end of the day for a bare date. */
function endOf(bound: ParsedInstant): { at: number; inclusive: boolean } {
  return bound.bare ? { at: bound.at + DAY, inclusive: false } : { at: bound.at, inclusive: true };
}

// ------------------------------------------------------------------ values

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** eq: strings and booleans exactly; numbers numerically, against a number or a numeric string. */
function equalsValue(stored: unknown, value: Scalar): boolean {
  if (typeof value === 'number') {
    const n = numericOf(stored);
    return n !== null && n === value;
  }
  return stored === value;
}

/** The text a value reads as: strings themselves, numbers and booleans their JSON text. */
function textOf(stored: unknown): string | null {
  if (typeof stored === 'string') return stored;
  if (typeof stored === 'number' || typeof stored === 'boolean') return String(stored);
  if (present(stored)) return JSON.stringify(stored);
  return null;
}

function compareNumber(stored: unknown, op: 'gt' | 'gte' | 'lt' | 'lte', bound: number): boolean {
  const n = numericOf(stored);
  if (n === null) return false;
  return op === 'gt' ? n > bound : op === 'gte' ? n >= bound : op === 'lt' ? n < bound : n <= bound;
}

function compareTime(at: number | null, op: 'gt' | 'gte' | 'lt' | 'lte', bound: ParsedInstant): boolean {
  if (at === null) return false;
  switch (op) {
    case 'gt':
      return bound.bare ? at >= bound.at + DAY : at > bound.at;
    case 'gte':
      return at >= bound.at;
    case 'lt':
      return at < bound.at;
    case 'lte': {
      const end = endOf(bound);
      return end.inclusive ? at <= end.at : at < end.at;
    }
  }
}

function inBetweenTime(at: number | null, from: ParsedInstant, to: ParsedInstant): boolean {
  if (at === null || at < from.at) return false;
  const end = endOf(to);
  return end.inclusive ? at <= end.at : at < end.at;
}

/**
 * A value test shared by traits and event properties: `stored` is the JSON
 * value (undefined when absent), `at` the instant it reads as (null: none).
 */
function valueTest(stored: unknown, at: number | null, op: TraitOp, value: Scalar | Scalar[] | undefined, now: Date): boolean {
  switch (op) {
    case 'exists':
      return present(stored);
    case 'missing':
      return !present(stored);
    case 'eq':
      return equalsValue(stored, value as Scalar);
    case 'neq':
      return present(stored) && !equalsValue(stored, value as Scalar);
    case 'in':
      return (value as Scalar[]).some((v) => equalsValue(stored, v));
    case 'not_in':
      return present(stored) && !(value as Scalar[]).some((v) => equalsValue(stored, v));
    case 'contains': {
      const v = value as Scalar;
      if (typeof stored === 'string') return stored.toLowerCase().includes(String(v).toLowerCase());
      if (Array.isArray(stored)) return stored.some((element) => element === v);
      return false;
    }
    case 'starts_with': {
      const text = textOf(stored);
      return text !== null && text.toLowerCase().startsWith(String(value as Scalar).toLowerCase());
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value === 'number') return compareNumber(stored, op, value);
      return compareTime(at, op, ruleInstant(value as Scalar, now));
    case 'between': {
      const [a, b] = value as [Scalar, Scalar];
      if (typeof a === 'number' && typeof b === 'number') return compareNumber(stored, 'gte', a) && compareNumber(stored, 'lte', b);
      return inBetweenTime(at, ruleInstant(a, now), ruleInstant(b, now));
    }
    case 'within_last':
      return at !== null && at >= oracleDurationAgo(value as string, now);
    case 'not_within_last':
      return at !== null && at < oracleDurationAgo(value as string, now);
    case 'before':
      return at !== null && at < ruleInstant(value as Scalar, now).at;
    case 'after':
      return at !== null && at >= ruleInstant(value as Scalar, now).at;
    case 'birthday_in_month': {
      if (typeof stored !== 'string') return false;
      const m = /^\d{4}-(\d{2})/.exec(stored);
      if (!m) return false;
      const month = value === 'current' ? now.getUTCMonth() + 1 : (value as number);
      return Number(m[1]) === month;
    }
  }
}

function scoreTest(score: OracleScore | undefined, op: TraitOp, value: Scalar | Scalar[] | undefined): boolean {
  if (op === 'exists') return score !== undefined;
  if (op === 'missing') return score === undefined;
  if (score === undefined) return false;
  /** the field a rule value is compared with: numbers the value, strings the label */
  const field = (v: Scalar): unknown => (typeof v === 'number' ? score.value : typeof v === 'string' ? score.label : undefined);
  const eq = (v: Scalar) => {
    const f = field(v);
    return present(f) && f === v;
  };
  const neq = (v: Scalar) => {
    const f = field(v);
    return present(f) && f !== v;
  };
  switch (op) {
    case 'eq':
      return eq(value as Scalar);
    case 'neq':
      return neq(value as Scalar);
    case 'in':
      return (value as Scalar[]).some(eq);
    case 'not_in':
      return (value as Scalar[]).every(neq);
    case 'contains':
      return score.label !== null && score.label.toLowerCase().includes(String(value).toLowerCase());
    case 'starts_with':
      return score.label !== null && score.label.toLowerCase().startsWith(String(value).toLowerCase());
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value !== 'number') throw new Error('the oracle compares scores with numbers only');
      return compareNumber(score.value, op, value);
    case 'between': {
      const [a, b] = value as [Scalar, Scalar];
      if (typeof a !== 'number' || typeof b !== 'number') throw new Error('the oracle compares scores with numbers only');
      return compareNumber(score.value, 'gte', a) && compareNumber(score.value, 'lte', b);
    }
    default:
      throw new Error(`${op} does not apply to a score`);
  }
}

function comparisonHolds(c: Comparison, x: number): boolean {
  if (c.eq !== undefined && !(x === c.eq)) return false;
  if (c.gt !== undefined && !(x > c.gt)) return false;
  if (c.gte !== undefined && !(x >= c.gte)) return false;
  if (c.lt !== undefined && !(x < c.lt)) return false;
  if (c.lte !== undefined && !(x <= c.lte)) return false;
  return true;
}

/** within: ts ≥ now − d; after: ts ≥ X; before: ts < X; between [a, b]: a ≤ ts, up to the end of b. */
function inWindow(at: number, window: TimeWindow, now: Date): boolean {
  if (window.within !== undefined && at < oracleDurationAgo(window.within, now)) return false;
  if (window.after !== undefined && at < ruleInstant(window.after, now).at) return false;
  if (window.before !== undefined && at >= ruleInstant(window.before, now).at) return false;
  if (window.between !== undefined && !inBetweenTime(at, ruleInstant(window.between[0], now), ruleInstant(window.between[1], now))) return false;
  return true;
}

// ------------------------------------------------------------------ the oracle

export function createOracle(data: OracleData): Oracle {
  const profiles = new Map(data.profiles.map((p) => [p.id, p]));
  /** profile id → event name → its events */
  const events = new Map<string, Map<string, OracleEvent[]>>();
  for (const e of data.events) {
    let byName = events.get(e.profileId);
    if (!byName) events.set(e.profileId, (byName = new Map()));
    const list = byName.get(e.event);
    if (list) list.push(e);
    else byName.set(e.event, [e]);
  }

  function eventHolds(rule: EventCondition, profileId: string, now: Date): boolean {
    const all = events.get(profileId)?.get(rule.event) ?? [];
    const filtered = all.filter((e) =>
      (rule.where ?? []).every((f) => {
        const stored = e.properties[f.property];
        return valueTest(stored, parseInstant(stored)?.at ?? null, f.op, f.value, now);
      }),
    );
    const windowed = filtered.filter((e) => inWindow(e.timestamp.getTime(), rule, now));
    const numbersOf = (property: string) => windowed.map((e) => numericOf(e.properties[property])).filter((n): n is number => n !== null);
    let tested = false;
    if (rule.count) {
      tested = true;
      if (!comparisonHolds(rule.count, windowed.length)) return false;
    }
    if (rule.sum) {
      tested = true;
      const sum = numbersOf(rule.sum.property).reduce((a, b) => a + b, 0);
      if (!comparisonHolds(rule.sum, sum)) return false;
    }
    if (rule.avg) {
      tested = true;
      const values = numbersOf(rule.avg.property);
      if (values.length === 0 || !comparisonHolds(rule.avg, values.reduce((a, b) => a + b, 0) / values.length)) return false;
    }
    // first/last: the earliest/latest of the events left by `where` and the condition's own window, in the test's window.
    // (rule.ts says of `first` "ever, after `where`", which an outer window contradicts: see the worked example.)
    if (rule.first) {
      tested = true;
      if (windowed.length === 0) return false;
      const first = Math.min(...windowed.map((e) => e.timestamp.getTime()));
      if (!inWindow(first, rule.first, now)) return false;
    }
    if (rule.last) {
      tested = true;
      if (windowed.length === 0) return false;
      const last = Math.max(...windowed.map((e) => e.timestamp.getTime()));
      if (!inWindow(last, rule.last, now)) return false;
    }
    return tested || windowed.length > 0;
  }

  function holds(rule: Rule, profileId: string, now: Date): boolean {
    if (isAll(rule)) return rule.all.every((r) => holds(r, profileId, now));
    if (isAny(rule)) return rule.any.some((r) => holds(r, profileId, now));
    if (isNot(rule)) return !holds(rule.not, profileId, now);
    if (isTrait(rule)) {
      const profile = profiles.get(profileId);
      if (!profile) return false;
      const column = profileColumnOf(rule.trait);
      if (column) {
        const at = column === 'created_at' ? profile.createdAt : column === 'updated_at' ? profile.updatedAt : profile.lastSeenAt;
        return valueTest(at === null ? undefined : at.toISOString(), at?.getTime() ?? null, rule.op, rule.value, now);
      }
      const identity = identityTraitType(rule.trait);
      if (identity) {
        if (rule.op === 'exists') return profile.identityTypes.has(identity);
        if (rule.op === 'missing') return !profile.identityTypes.has(identity);
        throw new Error(`${rule.trait}: only exists/missing apply to an identifier`);
      }
      const stored = Object.hasOwn(profile.traits, rule.trait) ? profile.traits[rule.trait] : undefined;
      // A whole value is standardized as cleaning stored it (上海 → 上海市); a fragment, a duration, a date or "current" is not a place.
      const value = WHOLE_VALUE_OPS.has(rule.op) ? standardRuleValue(rule.trait, rule.value) : rule.value;
      return valueTest(stored, parseInstant(stored)?.at ?? null, rule.op, value, now);
    }
    if (isEvent(rule)) return eventHolds(rule, profileId, now);
    if (isSegmentReference(rule)) return data.segmentMembers.get(rule.segment)?.has(profileId) ?? false;
    if (isTag(rule)) {
      const value = data.tags.get(rule.tag.toLowerCase())?.get(profileId);
      return value !== undefined && (rule.value === undefined || value === rule.value);
    }
    if (isScore(rule)) return scoreTest(data.scores.get(rule.score)?.get(profileId), rule.op, rule.value);
    if (isConsent(rule)) {
      // granted: true is "granted", granted: false "withdrawn" (never "unknown"); state says any of the three.
      const wanted = rule.state ?? (rule.granted === false ? 'withdrawn' : 'granted');
      const choice = data.consents?.get(rule.consent)?.get(profileId);
      if (wanted === 'unknown') return choice === undefined;
      return choice === (wanted === 'granted');
    }
    throw new Error(`not a rule node: ${JSON.stringify(rule)}`);
  }

  return {
    holds,
    members(rule, now) {
      const out = new Set<string>();
      for (const p of data.profiles) if (p.mergedInto === null && holds(rule, p.id, now)) out.add(p.id);
      return out;
    },
  };
}
