import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { notRestricted } from '../storage/restricted-profiles.js';
import {
  instantOf,
  isAll,
  isAny,
  isConsent,
  isEvent,
  isNot,
  isScore,
  isSegmentReference,
  isTag,
  isTrait,
  durationAgo,
  consentStateOf,
  type Comparison,
  type EventCondition,
  type PropertyFilter,
  type Rule,
  type Scalar,
  type TimeWindow,
  type TraitCondition,
  type ValueOp,
} from './rule.js';
import { identityTraitType, profileColumnOf, standardRuleValue } from './trait-fields.js';

/**
 * Rule → one SQL condition on `profiles p`. Every value the user wrote is a
 * bound parameter; names (traits, properties, events) are parameters too, so
 * nothing a rule holds is ever spliced into the SQL text.
 *
 * The rule must have passed validateRule: what is left to fail here is a bug.
 */
export interface CompileContext {
  workspaceId: string;
  /** "now" for relative windows; passed in so a refresh and its test agree on time */
  now: Date;
  /** lower-cased tag name → tag id */
  tagIds: ReadonlyMap<string, string>;
  /**
   * When set, only these profiles are being evaluated (the pipeline's
   * real-time update): event subqueries are narrowed to them, so the cost
   * follows the batch, not the events table.
   */
  profileIds?: readonly string[];
}

type Bool = RawBuilder<SqlBool>;

const TRUE: Bool = sql<SqlBool>`true`;
const FALSE: Bool = sql<SqlBool>`false`;

export function compileRule(rule: Rule, ctx: CompileContext): Bool {
  if (isAll(rule)) return compileAll(rule.all, ctx);
  if (isAny(rule)) return group(rule.any.map((r) => compileRule(r, ctx)), 'or');
  if (isNot(rule)) return sql<SqlBool>`not (${compileRule(rule.not, ctx)})`;
  if (isTrait(rule)) return traitCondition(rule, ctx);
  if (isEvent(rule)) return eventCondition(rule, ctx);
  if (isSegmentReference(rule))
    return sql<SqlBool>`exists (select 1 from segment_members m where m.workspace_id = ${ctx.workspaceId} and m.segment_id = ${rule.segment} and m.profile_id = p.id)`;
  if (isTag(rule)) {
    const tagId = ctx.tagIds.get(rule.tag.toLowerCase());
    if (tagId === undefined) throw new Error(`unknown tag ${rule.tag}: validateRule should have refused it`);
    const value = rule.value === undefined ? TRUE : sql<SqlBool>`t.value = ${rule.value}`;
    return sql<SqlBool>`exists (select 1 from profile_tags t where t.workspace_id = ${ctx.workspaceId} and t.tag_id = ${tagId} and t.profile_id = p.id and ${value})`;
  }
  if (isScore(rule)) {
    const exists = (test: Bool) =>
      sql<SqlBool>`exists (select 1 from profile_scores s where s.workspace_id = ${ctx.workspaceId} and s.profile_id = p.id and s.name = ${rule.score} and ${test})`;
    if (rule.op === 'missing') return sql<SqlBool>`not ${exists(TRUE)}`;
    if (rule.op === 'exists') return exists(TRUE);
    return exists(scoreTest(rule.op, rule.value));
  }
  if (isConsent(rule)) {
    const state = consentStateOf(rule);
    const test = state === 'granted' ? sql<SqlBool>` and c.granted` : state === 'withdrawn' ? sql<SqlBool>` and not c.granted` : sql<SqlBool>``;
    const has = sql<SqlBool>`exists (select 1 from profile_consents c where c.workspace_id = ${ctx.workspaceId} and c.profile_id = p.id and c.purpose = ${rule.consent}${test})`;
    return state === 'unknown' ? sql<SqlBool>`not ${has}` : has;
  }
  throw new Error('unknown rule node: validateRule should have refused it');
}

/** select p.id of every (or, with ctx.profileIds, every given) live profile the rule names. */
export function memberIdsQuery(rule: Rule, ctx: CompileContext): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`select p.id from profiles p where ${liveProfiles(ctx)} and (${compileRule(rule, ctx)})`;
}

export function countQuery(rule: Rule, ctx: CompileContext): RawBuilder<{ count: string | number }> {
  return sql<{ count: string | number }>`select count(*) as count from profiles p where ${liveProfiles(ctx)} and (${compileRule(rule, ctx)})`;
}

/**
 * The profiles a rule is evaluated over: the workspace's, not merged away, optionally a given few.
 * A restricted person (GDPR Art. 18) is never among them, so segments and computed tags, real-time
 * and full refresh alike, leave them out until the restriction is lifted.
 */
export function liveProfiles(ctx: CompileContext): Bool {
  const few = ctx.profileIds ? sql<SqlBool>` and p.id = any(${[...ctx.profileIds]}::uuid[])` : sql<SqlBool>``;
  return sql<SqlBool>`p.workspace_id = ${ctx.workspaceId} and p.merged_into is null${few} and ${notRestricted(sql`p.id`, ctx.workspaceId)}`;
}

function group(parts: Bool[], joiner: 'and' | 'or'): Bool {
  if (parts.length === 1) return parts[0]!;
  return sql<SqlBool>`(${sql.join(parts, joiner === 'and' ? sql` and ` : sql` or `)})`;
}

// ---------------------------------------------------------------- traits

function traitCondition(rule: TraitCondition, ctx: CompileContext): Bool {
  const column = profileColumnOf(rule.trait);
  if (column) return timeTest(sql`p.${sql.ref(column)}`, rule.op, rule.value, ctx.now);
  const identityType = identityTraitType(rule.trait);
  if (identityType) {
    const has = sql<SqlBool>`exists (select 1 from identities i where i.workspace_id = ${ctx.workspaceId} and i.profile_id = p.id and i.type = ${identityType})`;
    return rule.op === 'missing' ? sql<SqlBool>`not ${has}` : has;
  }
  // Only whole values are standardized: a date, a duration or a fragment for contains is not a city.
  const value = rule.op === 'eq' || rule.op === 'neq' || rule.op === 'in' || rule.op === 'not_in' ? standardRuleValue(rule.trait, rule.value) : rule.value;
  return jsonTest(sql`p.traits`, rule.trait, rule.op, value, ctx.now);
}

/**
 * A test on one key of a JSON object column (traits, event properties).
 * neq and not_in need the key present: "city is not 上海" does not name
 * people whose city nobody knows.
 */
function jsonTest(object: RawBuilder<unknown>, key: string, op: TraitCondition['op'], value: Scalar | Scalar[] | undefined, now: Date): Bool {
  const field = sql`(${object} -> ${key})`;
  const text = sql`(${object} ->> ${key})`;
  const present = sql<SqlBool>`coalesce(jsonb_typeof(${field}), 'null') <> 'null'`;
  switch (op) {
    case 'exists':
      return present;
    case 'missing':
      return sql<SqlBool>`not (${present})`;
    case 'eq':
      return scalarEquals(object, key, single(value));
    case 'neq':
      return sql<SqlBool>`(${present} and not coalesce(${scalarEquals(object, key, single(value))}, false))`;
    case 'in':
      return oneOf(object, key, list(value));
    case 'not_in':
      return sql<SqlBool>`(${present} and not coalesce(${oneOf(object, key, list(value))}, false))`;
    case 'contains': {
      const v = single(value);
      return sql<SqlBool>`(case jsonb_typeof(${field}) when 'array' then ${field} @> ${JSON.stringify([v])}::jsonb when 'string' then strpos(lower(${text}), lower(${String(v)})) > 0 else false end)`;
    }
    case 'starts_with':
      return sql<SqlBool>`coalesce(starts_with(lower(${text}), lower(${String(single(value))})), false)`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'between': {
      const numeric = isNumericOperand(value);
      const expr = numeric ? sql`custodian_number(${field})` : sql`custodian_time(${field})`;
      return numeric ? numberTest(expr, op, value) : timeTest(expr, op, value, now);
    }
    case 'within_last':
    case 'not_within_last':
    case 'before':
    case 'after':
      return timeTest(sql`custodian_time(${field})`, op, value, now);
    case 'birthday_in_month': {
      const month = value === 'current' ? now.getUTCMonth() + 1 : Number(value);
      return sql<SqlBool>`coalesce(case when ${text} ~ '^\\d{4}-\\d{2}' then substring(${text} from 6 for 2)::int end = ${month}, false)`;
    }
  }
}

function scalarEquals(object: RawBuilder<unknown>, key: string, value: Scalar): Bool {
  // Containment lets the profiles' GIN index answer string and boolean equality.
  if (typeof value === 'number') return sql<SqlBool>`coalesce(custodian_number(${object} -> ${key}) = ${value}, false)`;
  return sql<SqlBool>`${object} @> ${JSON.stringify({ [key]: value })}::jsonb`;
}

/** Any of the values, each compared as eq compares it: numbers numerically, text and booleans as exact JSON values. */
function oneOf(object: RawBuilder<unknown>, key: string, values: Scalar[]): Bool {
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const others = values.filter((v) => typeof v !== 'number').map((v) => JSON.stringify(v));
  const parts: Bool[] = [];
  if (others.length > 0) parts.push(sql<SqlBool>`coalesce((${object} -> ${key}) = any(${others}::jsonb[]), false)`);
  if (numbers.length > 0) parts.push(sql<SqlBool>`coalesce(custodian_number(${object} -> ${key}) = any(${numbers}::float8[]), false)`);
  return parts.length === 0 ? FALSE : group(parts, 'or');
}

function numberTest(expr: RawBuilder<unknown>, op: 'gt' | 'gte' | 'lt' | 'lte' | 'between', value: Scalar | Scalar[] | undefined): Bool {
  if (op === 'between') {
    const [min, max] = list(value).map(Number) as [number, number];
    return sql<SqlBool>`coalesce(${expr} between ${min} and ${max}, false)`;
  }
  return sql<SqlBool>`coalesce(${expr} ${sql.raw(SQL_OPS[op])} ${Number(single(value))}, false)`;
}

const SQL_OPS = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** Tests on an instant: a profile column or a trait read with custodian_time. */
function timeTest(expr: RawBuilder<unknown>, op: TraitCondition['op'], value: Scalar | Scalar[] | undefined, now: Date): Bool {
  switch (op) {
    case 'exists':
      return sql<SqlBool>`${expr} is not null`;
    case 'missing':
      return sql<SqlBool>`${expr} is null`;
    case 'within_last':
      return sql<SqlBool>`coalesce(${expr} >= ${durationAgo(String(value), now)}, false)`;
    case 'not_within_last':
      return sql<SqlBool>`coalesce(${expr} < ${durationAgo(String(value), now)}, false)`;
    case 'before':
    case 'lt':
      return sql<SqlBool>`coalesce(${expr} < ${instant(single(value), now)}, false)`;
    case 'lte':
      return sql<SqlBool>`coalesce(${expr} < ${endOf(single(value), now)}, false)`;
    case 'after':
    case 'gte':
      return sql<SqlBool>`coalesce(${expr} >= ${instant(single(value), now)}, false)`;
    case 'gt':
      return sql<SqlBool>`coalesce(${expr} >= ${endOf(single(value), now)}, false)`;
    case 'between': {
      const [from, to] = list(value) as [Scalar, Scalar];
      return sql<SqlBool>`coalesce(${expr} >= ${instant(from, now)} and ${expr} < ${endOf(to, now)}, false)`;
    }
    default:
      throw new Error(`operator ${op} does not apply to a time: validateRule should have refused it`);
  }
}

function instant(value: Scalar, now: Date): Date {
  const at = instantOf(String(value), now);
  if (!at) throw new Error(`not a date: ${String(value)}`);
  return at;
}

/** A bare date as an upper bound means the whole day: "up to 2026-01-31" includes that day. */
function endOf(value: Scalar, now: Date): Date {
  const at = instant(value, now);
  return /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? new Date(at.getTime() + 86_400_000) : new Date(at.getTime() + 1);
}

function isNumericOperand(value: Scalar | Scalar[] | undefined): boolean {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'number';
}

function single(value: Scalar | Scalar[] | undefined): Scalar {
  if (value === undefined || Array.isArray(value)) throw new Error('a single value was expected: validateRule should have refused this');
  return value;
}

function list(value: Scalar | Scalar[] | undefined): Scalar[] {
  if (!Array.isArray(value)) throw new Error('a list was expected: validateRule should have refused this');
  return value;
}

function scoreTest(op: ValueOp, value: Scalar | Scalar[] | undefined): Bool {
  const values = Array.isArray(value) ? value : [value];
  const named = values.some((v) => typeof v === 'string');
  const column = named ? sql`s.label` : sql`s.value`;
  switch (op) {
    case 'eq':
      return sql<SqlBool>`${column} = ${named ? String(single(value)) : Number(single(value))}`;
    case 'neq':
      return sql<SqlBool>`${column} <> ${named ? String(single(value)) : Number(single(value))}`;
    case 'in':
    case 'not_in': {
      const test = named ? sql<SqlBool>`s.label = any(${values.map(String)}::text[])` : sql<SqlBool>`s.value = any(${values.map(Number)}::float8[])`;
      // As neq, not_in needs the compared field: a score with no label is not "not Champions".
      return op === 'in' ? test : sql<SqlBool>`(${column} is not null and not coalesce(${test}, false))`;
    }
    case 'contains':
      return sql<SqlBool>`strpos(lower(s.label), lower(${String(single(value))})) > 0`;
    case 'starts_with':
      return sql<SqlBool>`starts_with(lower(s.label), lower(${String(single(value))}))`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'between':
      return numberTest(sql`s.value`, op, value);
    default:
      throw new Error(`operator ${op} on a score: validateRule should have refused it`);
  }
}

// ---------------------------------------------------------------- events

function eventCondition(rule: EventCondition, ctx: CompileContext): Bool {
  const filters: Bool[] = [sql<SqlBool>`e.workspace_id = ${ctx.workspaceId}`, sql<SqlBool>`e.event = ${rule.event}`, sql<SqlBool>`e.profile_id is not null`];
  if (ctx.profileIds) filters.push(sql<SqlBool>`e.profile_id = any(${[...ctx.profileIds]}::uuid[])`);
  filters.push(...windowFilters(sql`e.timestamp`, rule, ctx.now));
  for (const f of rule.where ?? []) filters.push(propertyFilter(f, ctx.now));
  const where = sql.join(filters, sql` and `);

  const tests: Array<{ having: Bool; atZero: boolean }> = [];
  if (rule.count) tests.push({ having: comparison(sql`count(*)`, rule.count), atZero: holdsAtZero(rule.count) });
  if (rule.sum) tests.push({ having: comparison(sql`coalesce(sum(custodian_number(e.properties -> ${rule.sum.property})), 0)`, rule.sum), atZero: holdsAtZero(rule.sum) });
  if (rule.avg) tests.push({ having: comparison(sql`avg(custodian_number(e.properties -> ${rule.avg.property}))`, rule.avg), atZero: false });
  if (rule.first) tests.push({ having: group(windowFilters(sql`min(e.timestamp)`, rule.first, ctx.now), 'and'), atZero: false });
  if (rule.last) tests.push({ having: group(windowFilters(sql`max(e.timestamp)`, rule.last, ctx.now), 'and'), atZero: false });

  if (tests.length === 0) return sql<SqlBool>`exists (select 1 from events e where ${where} and e.profile_id = p.id)`;
  const having = group(tests.map((t) => t.having), 'and');
  // A test that zero events pass ("at most 2 orders") names people with no such
  // events too: they are everyone but those whose events fail it.
  if (tests.every((t) => t.atZero))
    return sql<SqlBool>`p.id not in (select e.profile_id from events e where ${where} group by e.profile_id having not (${having}))`;
  return sql<SqlBool>`p.id in (select e.profile_id from events e where ${where} group by e.profile_id having ${having})`;
}

/**
 * All of several conditions on one event (same name and filters) read the
 * same rows: "3+ orders in 30 days but none in the last 14" is one pass
 * over the 30 days, the 14 days a FILTER on its aggregates, instead of two
 * scans and two hash tables. The anchor is a condition that needs events
 * (so a profile without any fails it anyway); a sibling merges into it when
 * its own window lies inside the anchor's.
 */
function compileAll(children: readonly Rule[], ctx: CompileContext): Bool {
  const parts: Bool[] = [];
  const used = new Set<number>();
  children.forEach((anchor, i) => {
    if (used.has(i) || !isEvent(anchor) || !canAnchor(anchor)) return;
    const absorbed: Array<{ condition: EventCondition; negated: boolean }> = [];
    children.forEach((other, j) => {
      if (j === i || used.has(j)) return;
      const sibling = mergeable(anchor, other, ctx.now);
      if (sibling) {
        absorbed.push(sibling);
        used.add(j);
      }
    });
    if (absorbed.length === 0) return;
    used.add(i);
    parts.push(mergedEventCondition(anchor, absorbed, ctx));
  });
  children.forEach((child, i) => {
    if (!used.has(i)) parts.push(compileRule(child, ctx));
  });
  return group(parts, 'and');
}

/** Only windows of the form "within" (or none) and tests on counts, sums and averages take part. */
function simpleWindow(c: EventCondition): boolean {
  return c.before === undefined && c.after === undefined && c.between === undefined && c.first === undefined && c.last === undefined;
}

function canAnchor(c: EventCondition): boolean {
  if (!simpleWindow(c)) return false;
  const tests = [c.count && holdsAtZero(c.count), c.sum && holdsAtZero(c.sum), c.avg && false].filter((t) => t !== undefined);
  return tests.length > 0 && tests.some((atZero) => atZero === false);
}

function mergeable(anchor: EventCondition, other: Rule, now: Date): { condition: EventCondition; negated: boolean } | null {
  const negated = isNot(other);
  const candidate = negated ? other.not : other;
  if (!isEvent(candidate) || !simpleWindow(candidate) || candidate.event !== anchor.event) return null;
  if (JSON.stringify(candidate.where ?? []) !== JSON.stringify(anchor.where ?? [])) return null;
  if (anchor.within !== undefined) {
    if (candidate.within === undefined || durationAgo(candidate.within, now) < durationAgo(anchor.within, now)) return null;
  }
  return { condition: candidate, negated };
}

function mergedEventCondition(anchor: EventCondition, siblings: ReadonlyArray<{ condition: EventCondition; negated: boolean }>, ctx: CompileContext): Bool {
  // No "profile_id is not null" here: a null never equals p.id, and only NOT IN needs it.
  const filters: Bool[] = [sql<SqlBool>`e.workspace_id = ${ctx.workspaceId}`, sql<SqlBool>`e.event = ${anchor.event}`];
  if (ctx.profileIds) filters.push(sql<SqlBool>`e.profile_id = any(${[...ctx.profileIds]}::uuid[])`);
  filters.push(...windowFilters(sql`e.timestamp`, anchor, ctx.now));
  for (const f of anchor.where ?? []) filters.push(propertyFilter(f, ctx.now));
  const having: Bool[] = [aggregateTests(anchor, null)];
  for (const { condition, negated } of siblings) {
    const inWindow = condition.within === undefined ? null : sql<SqlBool>`e.timestamp >= ${durationAgo(condition.within, ctx.now)}`;
    if (!negated) {
      having.push(sql<SqlBool>`coalesce(${aggregateTests(condition, inWindow)}, false)`);
      continue;
    }
    // The planner estimates "count = 0" far better than "not (count >= 1)", and that decides whether it
    // probes a few profiles by key or scans every profile of the city: say the negation directly where one bound allows it.
    const flipped = flippedTest(condition, inWindow);
    // An average over no rows is null: coalesce so "not" of it stays a yes or no.
    having.push(flipped ?? sql<SqlBool>`not coalesce(${aggregateTests(condition, inWindow)}, false)`);
  }
  return sql<SqlBool>`p.id in (select e.profile_id from events e where ${sql.join(filters, sql` and `)} group by e.profile_id having ${group(having, 'and')})`;
}

const FLIPPED = { eq: '<>', gt: '<=', gte: '<', lt: '>=', lte: '>' } as const;

/** not (a single-bound count or sum test), as one comparison; null when the test has more to it. */
function flippedTest(c: EventCondition, rows: Bool | null): Bool | null {
  if (c.avg) return null;
  const count = rows ? sql`count(*) filter (where ${rows})` : sql`count(*)`;
  if (!c.count && !c.sum) return sql<SqlBool>`${count} = 0`;
  if (c.count && c.sum) return null;
  const [expr, bounds] = c.count ? [count, c.count] : [sumOf(c.sum!.property, rows), c.sum!];
  const given = (['eq', 'gt', 'gte', 'lt', 'lte'] as const).filter((op) => bounds[op] !== undefined);
  if (given.length !== 1) return null;
  const op = given[0]!;
  if (c.count && op === 'gte' && bounds.gte === 1) return sql<SqlBool>`${count} = 0`;
  return sql<SqlBool>`${expr} ${sql.raw(FLIPPED[op])} ${bounds[op]!}`;
}

function sumOf(property: string, rows: Bool | null): RawBuilder<unknown> {
  return rows
    ? sql`coalesce(sum(custodian_number(e.properties -> ${property})) filter (where ${rows}), 0)`
    : sql`coalesce(sum(custodian_number(e.properties -> ${property})), 0)`;
}

/** The count, sum and average tests of a condition over the group's rows that pass `rows` (all of them: null); none means at least one. */
function aggregateTests(c: EventCondition, rows: Bool | null): Bool {
  const parts: Bool[] = [];
  const count = rows ? sql`count(*) filter (where ${rows})` : sql`count(*)`;
  if (c.count) parts.push(comparison(count, c.count));
  if (c.sum) parts.push(comparison(sumOf(c.sum.property, rows), c.sum));
  if (c.avg) {
    const avg = rows ? sql`avg(custodian_number(e.properties -> ${c.avg.property})) filter (where ${rows})` : sql`avg(custodian_number(e.properties -> ${c.avg.property}))`;
    parts.push(comparison(avg, c.avg));
  }
  if (parts.length === 0) parts.push(sql<SqlBool>`${count} >= 1`);
  return group(parts, 'and');
}

function windowFilters(expr: RawBuilder<unknown>, window: TimeWindow, now: Date): Bool[] {
  const out: Bool[] = [];
  if (window.within !== undefined) out.push(sql<SqlBool>`${expr} >= ${durationAgo(window.within, now)}`);
  if (window.after !== undefined) out.push(sql<SqlBool>`${expr} >= ${instant(window.after, now)}`);
  if (window.before !== undefined) out.push(sql<SqlBool>`${expr} < ${instant(window.before, now)}`);
  if (window.between !== undefined) out.push(sql<SqlBool>`${expr} >= ${instant(window.between[0], now)} and ${expr} < ${endOf(window.between[1], now)}`);
  return out.length > 0 ? out : [TRUE];
}

/** A property filter on the event row `e`. */
export function propertyFilter(filter: PropertyFilter, now: Date): Bool {
  return jsonTest(sql`e.properties`, filter.property, filter.op, filter.value, now);
}

function comparison(expr: RawBuilder<unknown>, c: Comparison): Bool {
  const parts: Bool[] = [];
  for (const op of ['eq', 'gt', 'gte', 'lt', 'lte'] as const) {
    const bound = c[op];
    if (bound !== undefined) parts.push(sql<SqlBool>`${expr} ${sql.raw(SQL_OPS[op])} ${bound}`);
  }
  return group(parts, 'and');
}

export function holdsAtZero(c: Comparison): boolean {
  return (
    (c.eq === undefined || c.eq === 0) &&
    (c.gt === undefined || 0 > c.gt) &&
    (c.gte === undefined || 0 >= c.gte) &&
    (c.lt === undefined || 0 < c.lt) &&
    (c.lte === undefined || 0 <= c.lte)
  );
}
