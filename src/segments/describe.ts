import type { Comparison, ConsentStateName, EventCondition, PropertyFilter, Rule, Scalar, TimeWindow, TraitOp, ValueOp } from './rule.js';
import { consentStateOf, isAll, isAny, isConsent, isDuration, isEvent, isNot, isScore, isSegmentReference, isTag, isTrait, parseRuleDate } from './rule.js';

/**
 * A rule as a marketer reads it, in English or Chinese. The sentence follows
 * what compile.ts selects (an upper date bound covers its whole day, "after
 * 30d" is the last 30 days), so it can be shown beside a segment as its meaning.
 */

export type Locale = 'en' | 'zh-CN';

export interface DescribeContext {
  /** segment id → its name, so a reference reads as its name; unknown ids read as the id */
  segmentNames?: ReadonlyMap<string, string>;
}

/** One readable sentence (or a short indented outline for deep trees) for a rule. */
export function describeRule(rule: Rule, locale: Locale, context: DescribeContext = {}): string {
  const book = locale === 'zh-CN' ? ZH : EN;
  const names = context.segmentNames ?? new Map<string, string>();
  const tree = simplify(rule);
  const writer = new Writer(book, names);
  return nesting(tree) > MAX_SENTENCE_NESTING ? writer.outline(tree) : writer.sentence(tree);
}

// Beyond two levels of parentheses a sentence stops being readable at a glance.
const MAX_SENTENCE_NESTING = 2;

type Value = Scalar | Scalar[] | undefined;

/** The words of one language; the tree walk is shared. */
interface Phrasebook {
  readonly and: string;
  readonly or: string;
  readonly everyone: string;
  readonly noOne: string;
  group(text: string): string;
  not(text: string): string;
  readonly headings: { all: string; any: string; none: string; notAll: string; not: string };
  trait(trait: string, op: TraitOp, value: Value): string;
  event(condition: EventCondition): string;
  neverDid(condition: EventCondition): string;
  segment(name: string, negated: boolean): string;
  tag(tag: string, value: string | undefined, negated: boolean): string;
  score(score: string, op: ValueOp, value: Value): string;
  consent(purpose: string, state: ConsentStateName, negated: boolean): string;
}

class Writer {
  constructor(
    private readonly book: Phrasebook,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  sentence(rule: Rule): string {
    if (isAll(rule)) return rule.all.length === 0 ? this.book.everyone : rule.all.map((r) => this.member(r)).join(this.book.and);
    if (isAny(rule)) return rule.any.length === 0 ? this.book.noOne : rule.any.map((r) => this.member(r)).join(this.book.or);
    if (isNot(rule)) return this.negated(rule.not) ?? this.book.not(this.sentence(rule.not));
    return this.condition(rule);
  }

  outline(rule: Rule): string {
    const lines: string[] = [];
    this.outlineInto(rule, 0, lines);
    return lines.join('\n');
  }

  private outlineInto(rule: Rule, depth: number, lines: string[]): void {
    const bullet = depth === 0 ? '' : `${'  '.repeat(depth)}- `;
    const heading = this.heading(rule);
    if (!heading || heading.children.length === 0) {
      lines.push(bullet + this.sentence(rule));
      return;
    }
    lines.push(bullet + heading.text);
    for (const child of heading.children) this.outlineInto(child, depth + 1, lines);
  }

  private heading(rule: Rule): { text: string; children: Rule[] } | undefined {
    const h = this.book.headings;
    if (isAll(rule)) return { text: h.all, children: rule.all };
    if (isAny(rule)) return { text: h.any, children: rule.any };
    if (!isNot(rule)) return undefined;
    const inner = rule.not;
    if (isAny(inner)) return { text: h.none, children: inner.any };
    if (isAll(inner)) return { text: h.notAll, children: inner.all };
    // A negated leaf reads best as one line; only a double negation needs a heading.
    return isNot(inner) ? { text: h.not, children: [inner] } : undefined;
  }

  private member(rule: Rule): string {
    return isAll(rule) || isAny(rule) ? this.book.group(this.sentence(rule)) : this.sentence(rule);
  }

  /** Conditions whose negation has its own wording ("never did", "not in segment"). */
  private negated(rule: Rule): string | undefined {
    if (isSegmentReference(rule)) return this.book.segment(this.segmentName(rule.segment), true);
    if (isTag(rule)) return this.book.tag(rule.tag, rule.value, true);
    if (isEvent(rule) && !hasTest(rule)) return this.book.neverDid(rule);
    if (isConsent(rule)) return this.book.consent(rule.consent, consentStateOf(rule), true);
    return undefined;
  }

  private condition(rule: Rule): string {
    if (isTrait(rule)) return this.book.trait(rule.trait, rule.op, rule.value);
    if (isEvent(rule)) return this.book.event(rule);
    if (isSegmentReference(rule)) return this.book.segment(this.segmentName(rule.segment), false);
    if (isTag(rule)) return this.book.tag(rule.tag, rule.value, false);
    if (isScore(rule)) return this.book.score(rule.score, rule.op, rule.value);
    if (isConsent(rule)) return this.book.consent(rule.consent, consentStateOf(rule), false);
    // Only a rule that skipped validation gets here; showing it beats hiding it.
    return JSON.stringify(rule);
  }

  private segmentName(id: string): string {
    return this.names.get(id) ?? id;
  }
}

/**
 * Single-member groups say nothing and a group inside a group of its own kind
 * adds only parentheses, so both go before counting how deep the tree is.
 */
function simplify(rule: Rule): Rule {
  if (isAll(rule)) {
    const all = rule.all.map(simplify).flatMap((r) => (isAll(r) ? r.all : [r]));
    return all.length === 1 && all[0] ? all[0] : { all };
  }
  if (isAny(rule)) {
    const any = rule.any.map(simplify).flatMap((r) => (isAny(r) ? r.any : [r]));
    return any.length === 1 && any[0] ? any[0] : { any };
  }
  if (isNot(rule)) return { not: simplify(rule.not) };
  return rule;
}

/** Levels of and/or; "not" adds none, as "not (…)" reuses the parentheses it would need anyway. */
function nesting(rule: Rule): number {
  if (isAll(rule)) return 1 + Math.max(0, ...rule.all.map(nesting));
  if (isAny(rule)) return 1 + Math.max(0, ...rule.any.map(nesting));
  if (isNot(rule)) return nesting(rule.not);
  return 0;
}

function hasTest(e: EventCondition): boolean {
  return e.count !== undefined || e.sum !== undefined || e.avg !== undefined || e.first !== undefined || e.last !== undefined;
}

/** A count no profile with the event can meet: "never did it". */
function meansNever(c: Comparison): boolean {
  const noLower = (c.gt === undefined || c.gt < 0) && (c.gte === undefined || c.gte <= 0);
  const noneAllowed = c.eq === 0 || (c.lte !== undefined && c.lte < 1) || (c.lt !== undefined && c.lt <= 1);
  return noLower && noneAllowed;
}

function isOnlyCount(e: EventCondition): boolean {
  return e.count !== undefined && e.sum === undefined && e.avg === undefined && e.first === undefined && e.last === undefined;
}

// ---------------------------------------------------------------- values

type Bound = 'eq' | 'gt' | 'gte' | 'lt' | 'lte';
const BOUNDS: readonly Bound[] = ['eq', 'gt', 'gte', 'lt', 'lte'];

function boundsOf(c: Comparison): Array<[Bound, number]> {
  const out: Array<[Bound, number]> = [];
  for (const b of BOUNDS) {
    const n = c[b];
    if (n !== undefined) out.push([b, n]);
  }
  return out;
}

/** gte and lte alone are an inclusive range, the one pair worth saying as "between". */
function rangeOf(c: Comparison): [number, number] | undefined {
  const bounds = boundsOf(c);
  return bounds.length === 2 && c.gte !== undefined && c.lte !== undefined ? [c.gte, c.lte] : undefined;
}

function numberText(n: number): string {
  return Object.is(n, -0) ? '0' : String(n);
}

function scalarText(v: Scalar, yes: string, no: string): string {
  if (typeof v === 'number') return numberText(v);
  if (typeof v === 'boolean') return v ? yes : no;
  // Quotes only where the bare text would hide something: emptiness, edge spaces, line breaks.
  return v === '' || v.trim() !== v || /\p{Cc}/u.test(v) ? JSON.stringify(v) : v;
}

function listOf(value: Value): Scalar[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function pairOf(value: Value): [Scalar, Scalar] | undefined {
  return Array.isArray(value) && value.length === 2 && value[0] !== undefined && value[1] !== undefined ? [value[0], value[1]] : undefined;
}

function isDate(v: Scalar | undefined): v is string {
  return typeof v === 'string' && parseRuleDate(v) !== null;
}

function isDateValue(value: Value): boolean {
  const values = listOf(value);
  return values.length > 0 && values.every(isDate);
}

const DURATION_PARTS = /^([1-9][0-9]{0,5})(h|d|w|m|y)$/;
type Unit = 'h' | 'd' | 'w' | 'm' | 'y';

function durationParts(text: string): { n: number; unit: Unit } | undefined {
  const m = DURATION_PARTS.exec(text);
  return m?.[1] && m[2] ? { n: Number(m[1]), unit: m[2] as Unit } : undefined;
}

function monthOf(value: Value): number | 'current' | undefined {
  if (value === 'current') return 'current';
  const n = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 12 ? n : undefined;
}

// ---------------------------------------------------------------- English

const EN_PURPOSES: ReadonlyMap<string, string> = new Map([
  ['email_marketing', 'marketing email'],
  ['sms_marketing', 'marketing SMS'],
  ['personalization', 'personalization'],
  ['analytics', 'analytics'],
  ['third_party_sharing', 'sharing with third parties'],
]);

const EN_UNITS: Record<Unit, string> = { h: 'hour', d: 'day', w: 'week', m: 'month', y: 'year' };
const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const EN_TRAITS: ReadonlyMap<string, string> = new Map([
  ['$createdAt', 'profile created'],
  ['$lastSeenAt', 'last seen'],
]);

function enValue(v: Scalar): string {
  return scalarText(v, 'true', 'false');
}

function enList(value: Value): string {
  const values = listOf(value);
  return values.length === 0 ? '(none)' : values.map(enValue).join(', ');
}

function enDuration(text: string): string {
  const d = durationParts(text);
  return d ? `${d.n} ${EN_UNITS[d.unit]}${d.n === 1 ? '' : 's'}` : text;
}

/** "the last 30 days", but "the last day" rather than "the last 1 day". */
function enLast(text: string): string {
  const d = durationParts(text);
  if (d?.n === 1) return `the last ${EN_UNITS[d.unit]}`;
  return `the last ${enDuration(text)}`;
}

function enPoint(text: string): string {
  return isDuration(text) ? `${enDuration(text)} ago` : text;
}

function enBefore(text: string): string {
  return isDuration(text) ? `more than ${enDuration(text)} ago` : `before ${text}`;
}

function enAfter(text: string): string {
  return isDuration(text) ? `in ${enLast(text)}` : `after ${text}`;
}

function enWindow(w: TimeWindow): string {
  const parts: string[] = [];
  const starts = [w.within, w.after].filter((t): t is string => t !== undefined);
  const [start] = starts;
  if (start !== undefined && starts.length === 1 && w.before !== undefined) {
    parts.push(`between ${enPoint(start)} and ${enPoint(w.before)}`);
  } else {
    if (w.within !== undefined) parts.push(`in ${enLast(w.within)}`);
    if (w.after !== undefined) parts.push(enAfter(w.after));
    if (w.before !== undefined) parts.push(enBefore(w.before));
  }
  if (w.between) parts.push(`between ${enPoint(w.between[0])} and ${enPoint(w.between[1])}`);
  return parts.join(', ');
}

/** A test on a value: a trait, an event property or a score. */
function enTest(subject: string, op: TraitOp, value: Value): string {
  const first = listOf(value)[0];
  const one = Array.isArray(value) ? enList(value) : value === undefined ? '(nothing)' : enValue(value);
  const date = isDateValue(value);
  const single = listOf(value).length === 1 && first !== undefined;
  switch (op) {
    case 'eq':
      return `${subject} is ${one}`;
    case 'neq':
      return `${subject} is not ${one}`;
    case 'in':
      return single ? `${subject} is ${enValue(first)}` : `${subject} is one of ${enList(value)}`;
    case 'not_in':
      return single ? `${subject} is not ${enValue(first)}` : `${subject} is not one of ${enList(value)}`;
    case 'contains':
      return `${subject} contains ${one}`;
    case 'starts_with':
      return `${subject} starts with ${one}`;
    case 'gt':
      return date ? `${subject} after ${one}` : `${subject} is more than ${one}`;
    case 'gte':
      return date ? `${subject} on or after ${one}` : `${subject} is at least ${one}`;
    case 'lt':
      return date ? `${subject} before ${one}` : `${subject} is less than ${one}`;
    case 'lte':
      return date ? `${subject} on or before ${one}` : `${subject} is at most ${one}`;
    case 'between': {
      const pair = pairOf(value);
      const range = pair ? `between ${enValue(pair[0])} and ${enValue(pair[1])}` : `between ${one}`;
      return date ? `${subject} ${range}` : `${subject} is ${range}`;
    }
    case 'exists':
      return `${subject} is set`;
    case 'missing':
      return `${subject} is not set`;
    case 'within_last':
      return `${subject} within ${enLast(String(value))}`;
    case 'not_within_last':
      return `${subject} not within ${enLast(String(value))}`;
    case 'before':
      return `${subject} ${enBefore(String(value))}`;
    case 'after':
      return isDuration(String(value)) ? `${subject} within ${enLast(String(value))}` : `${subject} after ${String(value)}`;
    case 'birthday_in_month': {
      const month = monthOf(value);
      if (month === 'current') return `${subject} is this month`;
      return `${subject} is in ${month === undefined ? one : (EN_MONTHS[month - 1] ?? one)}`;
    }
  }
}

function enBoundWords(fewer: string): Record<Bound, string> {
  return { eq: 'exactly', gt: 'more than', gte: 'at least', lt: fewer, lte: 'at most' };
}

function enBounds(c: Comparison, fewer: string): string {
  const range = rangeOf(c);
  if (range) return `between ${numberText(range[0])} and ${numberText(range[1])}`;
  const words = enBoundWords(fewer);
  return boundsOf(c)
    .map(([b, n]) => `${words[b]} ${numberText(n)}`)
    .join(' and ');
}

function enTimes(c: Comparison): string {
  const bounds = boundsOf(c);
  const [only] = bounds;
  // "fewer than once" is not English; that case reads as "never" anyway.
  if (bounds.length === 1 && only && only[1] === 1 && only[0] !== 'lt') return `${enBoundWords('fewer than')[only[0]]} once`;
  const last = bounds[bounds.length - 1]?.[1];
  return `${enBounds(c, 'fewer than')} ${last === 1 ? 'time' : 'times'}`;
}

function enWhere(where: PropertyFilter[] | undefined): string {
  if (!where || where.length === 0) return '';
  return ` where ${where.map((f) => enTest(f.property, f.op, f.value)).join(' and ')}`;
}

function spaced(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

const EN: Phrasebook = {
  and: ' and ',
  or: ' or ',
  everyone: 'everyone',
  noOne: 'no one',
  group: (text) => `(${text})`,
  not: (text) => `not (${text})`,
  headings: { all: 'all of:', any: 'any of:', none: 'none of:', notAll: 'not all of:', not: 'not:' },
  trait: (trait, op, value) => enTest(EN_TRAITS.get(trait) ?? trait, op, value),
  event(e) {
    const name = e.event + enWhere(e.where);
    const window = enWindow(e);
    if (!hasTest(e)) return spaced(`did ${name} at least once`, window);
    if (e.count && isOnlyCount(e) && meansNever(e.count)) return spaced(`never did ${name}`, window);
    if (!e.count && !e.sum && !e.avg && window === '') {
      const parts: string[] = [];
      if (e.first) parts.push(spaced(`first did ${name}`, enWindow(e.first)));
      if (e.last) parts.push(e.first ? spaced('last', enWindow(e.last)) : spaced(`last did ${name}`, enWindow(e.last)));
      return parts.join(', ');
    }
    let text = spaced(`did ${name}`, e.count ? enTimes(e.count) : '', window);
    const amounts: string[] = [];
    if (e.sum) amounts.push(`total ${e.sum.property} of ${enBounds(e.sum, 'less than')}`);
    if (e.avg) amounts.push(`average ${e.avg.property} of ${enBounds(e.avg, 'less than')}`);
    if (amounts.length > 0) text += ` with ${amounts.join(' and ')}`;
    if (e.first) text += `, ${spaced('first', enWindow(e.first))}`;
    if (e.last) text += `, ${spaced('last', enWindow(e.last))}`;
    return text;
  },
  neverDid: (e) => spaced(`never did ${e.event}${enWhere(e.where)}`, enWindow(e)),
  segment: (name, negated) => `${negated ? 'not ' : ''}in segment «${name}»`,
  tag: (tag, value, negated) => `${negated ? 'not ' : ''}tagged ${value === undefined ? tag : `${tag} = ${enValue(value)}`}`,
  score: (score, op, value) => enTest(score, op, value),
  consent(purpose, state, negated) {
    const name = EN_PURPOSES.get(purpose) ?? purpose;
    if (state === 'granted') return negated ? `has not consented to ${name}` : `consented to ${name}`;
    if (state === 'withdrawn') return negated ? `has not withdrawn consent to ${name}` : `withdrew consent to ${name}`;
    return negated ? `made a choice on ${name}` : `made no choice on ${name}`;
  },
};

// ---------------------------------------------------------------- Chinese

const ZH_PURPOSES: ReadonlyMap<string, string> = new Map([
  ['email_marketing', '营销邮件'],
  ['sms_marketing', '营销短信'],
  ['personalization', '个性化推荐'],
  ['analytics', '数据分析'],
  ['third_party_sharing', '向第三方共享数据'],
]);

const ZH_UNITS: Record<Unit, string> = { h: '小时', d: '天', w: '周', m: '个月', y: '年' };
const ZH_TRAITS: ReadonlyMap<string, string> = new Map([
  ['city', '城市'],
  ['province', '省份'],
  ['country', '国家'],
  ['gender', '性别'],
  ['age', '年龄'],
  ['birthday', '生日'],
  ['email', '邮箱'],
  ['phone', '手机号'],
  ['name', '姓名'],
  ['createdAt', '创建时间'],
  ['$createdAt', '建档时间'],
  ['$lastSeenAt', '最近活跃时间'],
]);
const ZH_SCORES: ReadonlyMap<string, string> = new Map([
  ['rfm_segment', 'RFM 分层'],
  ['rfm_r', 'R 分'],
  ['rfm_f', 'F 分'],
  ['rfm_m', 'M 分'],
  ['clv', '客户终身价值'],
  ['churn_risk', '流失风险'],
  ['cluster', '聚类'],
]);

function zhValue(v: Scalar): string {
  return scalarText(v, '是', '否');
}

function zhList(value: Value): string {
  const values = listOf(value);
  return values.length === 0 ? '（无）' : values.map(zhValue).join('、');
}

function zhDuration(text: string): string {
  const d = durationParts(text);
  return d ? `${d.n} ${ZH_UNITS[d.unit]}` : text;
}

function zhRecent(text: string): string {
  return `最近 ${zhDuration(text)}内`;
}

function zhPoint(text: string): string {
  return isDuration(text) ? `${zhDuration(text)}前` : text;
}

function zhWindow(w: TimeWindow): string {
  const parts: string[] = [];
  const starts = [w.within, w.after].filter((t): t is string => t !== undefined);
  const [start] = starts;
  if (start !== undefined && starts.length === 1 && w.before !== undefined) {
    parts.push(`${zhPoint(start)} 到 ${zhPoint(w.before)} 之间`);
  } else {
    if (w.within !== undefined) parts.push(zhRecent(w.within));
    if (w.after !== undefined) parts.push(isDuration(w.after) ? zhRecent(w.after) : `${w.after} 之后`);
    if (w.before !== undefined) parts.push(isDuration(w.before) ? `${zhDuration(w.before)}前以前` : `${w.before} 之前`);
  }
  if (w.between) parts.push(`${zhPoint(w.between[0])} 到 ${zhPoint(w.between[1])} 之间`);
  return parts.join('、');
}

function zhAt(w: TimeWindow): string {
  const window = zhWindow(w);
  return window === '' ? '' : `在 ${window}`;
}

function zhTest(subject: string, op: TraitOp, value: Value): string {
  const first = listOf(value)[0];
  const one = Array.isArray(value) ? zhList(value) : value === undefined ? '（无）' : zhValue(value);
  const date = isDateValue(value);
  const single = listOf(value).length === 1 && first !== undefined;
  switch (op) {
    case 'eq':
      return `${subject} 为 ${one}`;
    case 'neq':
      return `${subject} 不为 ${one}`;
    case 'in':
      return single ? `${subject} 为 ${zhValue(first)}` : `${subject} 为 ${zhList(value)} 之一`;
    case 'not_in':
      return single ? `${subject} 不为 ${zhValue(first)}` : `${subject} 不是 ${zhList(value)} 中的任何一个`;
    case 'contains':
      return `${subject} 包含 ${one}`;
    case 'starts_with':
      return `${subject} 以 ${one} 开头`;
    case 'gt':
      return date ? `${subject} 晚于 ${one}` : `${subject} > ${one}`;
    case 'gte':
      return date ? `${subject} 不早于 ${one}` : `${subject} ≥ ${one}`;
    case 'lt':
      return date ? `${subject} 早于 ${one}` : `${subject} < ${one}`;
    case 'lte':
      return date ? `${subject} 不晚于 ${one}` : `${subject} ≤ ${one}`;
    case 'between': {
      const pair = pairOf(value);
      return pair ? `${subject} 在 ${zhValue(pair[0])} 到 ${zhValue(pair[1])} 之间` : `${subject} 在 ${one} 之间`;
    }
    case 'exists':
      return `${subject} 有值`;
    case 'missing':
      return `${subject} 为空`;
    case 'within_last':
      return `${subject} 在 ${zhRecent(String(value))}`;
    case 'not_within_last':
      return `${subject} 不在 ${zhRecent(String(value))}`;
    case 'before':
      return `${subject} 早于 ${zhPoint(String(value))}`;
    case 'after':
      return isDuration(String(value)) ? `${subject} 在 ${zhRecent(String(value))}` : `${subject} 晚于 ${String(value)}`;
    case 'birthday_in_month': {
      const month = monthOf(value);
      if (month === 'current') return `${subject} 在本月`;
      return month === undefined ? `${subject} 在 ${one}` : `${subject} 在 ${month} 月`;
    }
  }
}

function zhTimes(c: Comparison): string {
  const range = rangeOf(c);
  if (range) return `${numberText(range[0])} 到 ${numberText(range[1])} 次`;
  const words: Record<Bound, string> = { eq: '恰好', gt: '超过', gte: '至少', lt: '少于', lte: '最多' };
  return boundsOf(c)
    .map(([b, n]) => `${words[b]} ${numberText(n)} 次`)
    .join('且');
}

function zhAmount(c: Comparison): string {
  const range = rangeOf(c);
  if (range) return `在 ${numberText(range[0])} 到 ${numberText(range[1])} 之间`;
  const signs: Record<Bound, string> = { eq: '=', gt: '>', gte: '≥', lt: '<', lte: '≤' };
  return boundsOf(c)
    .map(([b, n]) => `${signs[b]} ${numberText(n)}`)
    .join(' 且 ');
}

/** Filters go before the event as a modifier: "category 为 书籍 的 Order Completed". */
function zhEventName(e: EventCondition): string {
  if (!e.where || e.where.length === 0) return e.event;
  return `${e.where.map((f) => zhTest(f.property, f.op, f.value)).join('、')} 的 ${e.event}`;
}

const ZH: Phrasebook = {
  and: ' 且 ',
  or: ' 或 ',
  everyone: '所有人',
  noOne: '无人',
  group: (text) => `（${text}）`,
  not: (text) => `非（${text}）`,
  headings: { all: '满足以下全部条件：', any: '满足以下任一条件：', none: '以下条件均不满足：', notAll: '不同时满足以下条件：', not: '不满足以下条件：' },
  trait: (trait, op, value) => zhTest(ZH_TRAITS.get(trait) ?? trait, op, value),
  event(e) {
    const name = zhEventName(e);
    const window = zhWindow(e);
    if (!hasTest(e)) return spaced(window, `做过 ${name}`);
    if (e.count && isOnlyCount(e) && meansNever(e.count)) return window === '' ? `从未做过 ${name}` : `${window} 未做过 ${name}`;
    if (!e.count && !e.sum && !e.avg && window === '') {
      const parts: string[] = [];
      if (e.first) parts.push(spaced('首次', name, zhAt(e.first)));
      if (e.last) parts.push(e.first ? `最近一次${zhAt(e.last)}` : spaced('最近一次', name, zhAt(e.last)));
      return parts.join('，');
    }
    let text = spaced(window, name, e.count ? zhTimes(e.count) : '');
    const amounts: string[] = [];
    if (e.sum) amounts.push(`${e.sum.property} 合计 ${zhAmount(e.sum)}`);
    if (e.avg) amounts.push(`${e.avg.property} 平均值 ${zhAmount(e.avg)}`);
    // "X 的 revenue" is natural, but after a filter's own 的 a second one tangles the phrase.
    const joiner = e.count || (e.where && e.where.length > 0) ? '，' : ' 的 ';
    if (amounts.length > 0) text += joiner + amounts.join('，');
    if (e.first) text += `，首次${zhAt(e.first)}`;
    if (e.last) text += `，最近一次${zhAt(e.last)}`;
    return text;
  },
  neverDid(e) {
    const window = zhWindow(e);
    return window === '' ? `从未做过 ${zhEventName(e)}` : `${window} 未做过 ${zhEventName(e)}`;
  },
  segment: (name, negated) => `${negated ? '不' : ''}属于分群「${name}」`,
  tag: (tag, value, negated) => `${negated ? '不' : ''}带有标签「${value === undefined ? tag : `${tag} = ${zhValue(value)}`}」`,
  score: (score, op, value) => zhTest(ZH_SCORES.get(score) ?? score, op, value),
  consent(purpose, state, negated) {
    const name = `「${ZH_PURPOSES.get(purpose) ?? purpose}」`;
    if (state === 'granted') return negated ? `未同意${name}` : `已同意${name}`;
    if (state === 'withdrawn') return negated ? `未撤回对${name}的同意` : `已撤回对${name}的同意`;
    return negated ? `已对${name}作出选择` : `未对${name}作出选择`;
  },
};
