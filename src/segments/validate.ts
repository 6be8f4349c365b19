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
  parseRuleDate,
  CONSENT_STATES,
  type Comparison,
  type ConsentCondition,
  type Rule,
  type Scalar,
  type TimeWindow,
  type TraitOp,
} from './rule.js';
import { identityTraitType, isSealedTrait, profileColumnOf } from './trait-fields.js';
import { CONSENT_PURPOSES } from '../storage/schema.js';

/** What is wrong with a rule, and where: `path` is like rule.all[1].count.gte. */
export interface RuleIssue {
  path: string;
  message: string;
}

export interface KnownNames {
  /** segment ids of the workspace */
  segmentIds: ReadonlySet<string>;
  /** tag names of the workspace, lower-cased */
  tagNames: ReadonlySet<string>;
}

const MAX_DEPTH = 12;
const MAX_NODES = 500;

/**
 * What the schema cannot say: that a value fits its operator, dates are
 * dates, windows are in order, references exist. A rule with no issues
 * compiles; compile.ts relies on it.
 */
export function validateRule(rule: Rule, known: KnownNames, path = 'rule'): RuleIssue[] {
  const issues: RuleIssue[] = [];
  let nodes = 0;
  const visit = (node: Rule, at: string, depth: number) => {
    nodes += 1;
    if (depth > MAX_DEPTH) return issues.push({ path: at, message: `the rule nests deeper than ${MAX_DEPTH} levels` });
    if (isAll(node)) return node.all.forEach((r, i) => visit(r, `${at}.all[${i}]`, depth + 1));
    if (isAny(node)) return node.any.forEach((r, i) => visit(r, `${at}.any[${i}]`, depth + 1));
    if (isNot(node)) return visit(node.not, `${at}.not`, depth + 1);
    if (isTrait(node)) return checkTrait(node.trait, node.op, node.value, at, issues);
    if (isEvent(node)) {
      (node.where ?? []).forEach((f, i) => checkValue(f.op, f.value, `${at}.where[${i}]`, issues, `property ${f.property}`));
      checkWindow(node, at, issues);
      if (node.first) checkWindow(node.first, `${at}.first`, issues);
      if (node.last) checkWindow(node.last, `${at}.last`, issues);
      if (node.count) checkComparison(node.count, `${at}.count`, issues, true);
      if (node.sum) checkComparison(node.sum, `${at}.sum`, issues, false);
      if (node.avg) checkComparison(node.avg, `${at}.avg`, issues, false);
      return;
    }
    if (isSegmentReference(node)) {
      if (!known.segmentIds.has(node.segment)) issues.push({ path: `${at}.segment`, message: `no segment has the id ${node.segment}` });
      return;
    }
    if (isTag(node)) {
      if (!known.tagNames.has(node.tag.toLowerCase())) issues.push({ path: `${at}.tag`, message: `no tag is named ${node.tag}` });
      return;
    }
    if (isScore(node)) return checkValue(node.op, node.value, at, issues, `score ${node.score}`);
    if (isConsent(node)) return checkConsent(node, at, issues);
    issues.push({ path: at, message: 'not a rule node' });
  };
  visit(rule, path, 0);
  if (nodes > MAX_NODES) issues.push({ path, message: `the rule has ${nodes} conditions; at most ${MAX_NODES} are allowed` });
  return issues;
}

const TIME_OPS: ReadonlySet<TraitOp> = new Set(['exists', 'missing', 'within_last', 'not_within_last', 'before', 'after', 'gt', 'gte', 'lt', 'lte', 'between']);

function checkTrait(trait: string, op: TraitOp, value: Scalar | Scalar[] | undefined, at: string, issues: RuleIssue[]) {
  if (profileColumnOf(trait)) {
    if (!TIME_OPS.has(op)) return issues.push({ path: `${at}.op`, message: `${trait} is a time; ${op} does not apply to it` });
    if (op === 'exists' || op === 'missing') return checkValue(op, value, at, issues, trait);
    if (op === 'within_last' || op === 'not_within_last') return checkValue(op, value, at, issues, trait);
    return checkDates(op, value, at, issues, trait);
  }
  if (identityTraitType(trait)) {
    if (op !== 'exists' && op !== 'missing')
      issues.push({ path: `${at}.op`, message: `${trait} is an identifier, encrypted at rest: a rule can ask only whether a profile has one (exists or missing)` });
    return checkValue(op, value, at, issues, trait);
  }
  if (isSealedTrait(trait)) return issues.push({ path: `${at}.trait`, message: `${trait} is an identifier, encrypted at rest: rules cannot read it` });
  return checkValue(op, value, at, issues, `trait ${trait}`);
}

const MAX_LIST = 10_000;
const MAX_TEXT = 1000;

function isScalar(v: unknown): v is Scalar {
  return (typeof v === 'string' && v.length <= MAX_TEXT) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
}

function checkValue(op: TraitOp, value: Scalar | Scalar[] | undefined, at: string, issues: RuleIssue[], what: string) {
  const fail = (message: string) => issues.push({ path: `${at}.value`, message: `${what}: ${message}` });
  const raw: unknown = value;
  if (raw !== undefined && !isScalar(raw) && !(Array.isArray(raw) && raw.length <= MAX_LIST && raw.every(isScalar)))
    return fail(`a value is a string (at most ${MAX_TEXT} characters), a finite number or a boolean, or a list of at most ${MAX_LIST} of them`);
  switch (op) {
    case 'exists':
    case 'missing':
      if (value !== undefined) fail(`${op} takes no value`);
      return;
    case 'eq':
    case 'neq':
    case 'contains':
    case 'starts_with':
      if (value === undefined || Array.isArray(value)) fail(`${op} needs one value`);
      else if ((op === 'contains' || op === 'starts_with') && String(value) === '') fail(`${op} needs a non-empty value`);
      return;
    case 'in':
    case 'not_in':
      if (!Array.isArray(value) || value.length === 0) fail(`${op} needs a non-empty list of values`);
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'between':
      if (op === 'between') {
        if (!Array.isArray(value) || value.length !== 2) return fail('between needs [min, max]');
        const [a, b] = value as [Scalar, Scalar];
        if (typeof a === 'number' && typeof b === 'number') {
          if (a > b) fail(`between needs min ≤ max, got [${a}, ${b}]`);
          return;
        }
        return checkDates(op, value, at, issues, what);
      }
      if (typeof value === 'number') return;
      return checkDates(op, value, at, issues, what);
    case 'within_last':
    case 'not_within_last':
      if (typeof value !== 'string' || !isDuration(value)) fail(`${op} needs a duration such as "30d" (h, d, w, m, y)`);
      return;
    case 'before':
    case 'after':
      return checkDates(op, value, at, issues, what);
    case 'birthday_in_month':
      if (value !== 'current' && !(typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 12)) fail('birthday_in_month needs a month 1–12 or "current"');
      return;
  }
}

function isInstant(value: Scalar | undefined): boolean {
  return typeof value === 'string' && (isDuration(value) || parseRuleDate(value) !== null);
}

function checkDates(op: TraitOp, value: Scalar | Scalar[] | undefined, at: string, issues: RuleIssue[], what: string) {
  const values = op === 'between' ? (Array.isArray(value) ? value : []) : [Array.isArray(value) ? undefined : value];
  if ((op === 'between' && values.length !== 2) || values.some((v) => !isInstant(v)))
    issues.push({ path: `${at}.value`, message: `${what}: ${op} needs ${op === 'between' ? 'two numbers or two dates' : 'a number, a date (2026-01-31) or a duration ago ("30d")'}` });
}

function checkWindow(window: TimeWindow, at: string, issues: RuleIssue[]) {
  for (const key of ['before', 'after'] as const) {
    const v = window[key];
    if (v !== undefined && !isInstant(v)) issues.push({ path: `${at}.${key}`, message: `${key} needs a date (2026-01-31) or a duration ago ("30d")` });
  }
  if (window.between) {
    const [from, to] = window.between;
    if (!isInstant(from) || !isInstant(to)) issues.push({ path: `${at}.between`, message: 'between needs two dates or durations ago' });
    else {
      const a = parseRuleDate(from);
      const b = parseRuleDate(to);
      if (a && b && a > b) issues.push({ path: `${at}.between`, message: `between needs the earlier date first, got ${from} after ${to}` });
    }
  }
}

function checkConsent(node: ConsentCondition, at: string, issues: RuleIssue[]) {
  if (!(CONSENT_PURPOSES as readonly string[]).includes(node.consent))
    issues.push({ path: `${at}.consent`, message: `${node.consent} is not a consent purpose; the purposes are ${CONSENT_PURPOSES.join(', ')}` });
  if ((node.granted === undefined) === (node.state === undefined))
    return issues.push({ path: at, message: 'a consent condition takes one of granted (true or false) or state (granted, withdrawn, unknown)' });
  if (node.state !== undefined && !(CONSENT_STATES as readonly string[]).includes(node.state))
    issues.push({ path: `${at}.state`, message: `state is one of ${CONSENT_STATES.join(', ')}, not ${node.state}` });
}

function checkComparison(c: Comparison, at: string, issues: RuleIssue[], isCount: boolean) {
  const bounds = (['eq', 'gt', 'gte', 'lt', 'lte'] as const).filter((k) => c[k] !== undefined);
  if (bounds.length === 0) return issues.push({ path: at, message: 'give at least one of eq, gt, gte, lt, lte' });
  for (const k of bounds) {
    const v = c[k]!;
    if (!Number.isFinite(v)) issues.push({ path: `${at}.${k}`, message: 'must be a finite number' });
    else if (isCount && (v < 0 || !Number.isInteger(v))) issues.push({ path: `${at}.${k}`, message: 'a count is a whole number ≥ 0' });
  }
  const low = Math.max(c.gte ?? -Infinity, c.gt === undefined ? -Infinity : c.gt + Number.EPSILON, c.eq ?? -Infinity);
  const high = Math.min(c.lte ?? Infinity, c.lt === undefined ? Infinity : c.lt - Number.EPSILON, c.eq ?? Infinity);
  if (low > high) issues.push({ path: at, message: 'no number satisfies these bounds together' });
}
