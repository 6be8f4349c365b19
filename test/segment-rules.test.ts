import { Rng } from '../src/cli/demo-data.js';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQuery, memberIdsQuery, type CompileContext } from '../src/segments/compile.js';
import {
  isDuration,
  RuleSchema,
  TRAIT_OPS,
  VALUE_OPS,
  type Comparison,
  type EventCondition,
  type PropertyFilter,
  type Rule,
  type Scalar,
  type ScoreCondition,
  type TagCondition,
  type TimeWindow,
  type TraitCondition,
  type TraitOp,
  type ValueOp,
} from '../src/segments/rule.js';
import { createSegmentStore, createTagStore } from '../src/segments/store.js';
import { validateRule, type KnownNames } from '../src/segments/validate.js';
import type { Database } from '../src/storage/database.js';
import type { Schema } from '../src/storage/schema.js';
import { backends } from './helpers/backends.js';
import { createOracle, oracleDurationAgo, parseInstant, type Oracle, type OracleData, type OracleEvent, type OracleProfile, type OracleScore } from './helpers/rule-oracle.js';

/**
 * The SQL a segment rule compiles to, checked against a plain JavaScript
 * reading of the same rule (helpers/rule-oracle.ts) on a seeded synthetic
 * workspace: random rules from the data, the whole workspace and random
 * subsets of it (the pipeline's real-time path), plus worked examples,
 * injection attempts and values no rule should trip on.
 */

const DAY = 86_400_000;
/** "now" for every rule: mid-month, so calendar months and years need no clamping here (a test below covers month ends). */
const NOW = new Date('2026-03-15T09:27:13.456Z');
const WS = 'ws1';
/** another workspace holding rows for the same profile ids: nothing of it may leak into WS */
const OTHER_WS = 'ws2';
// Knobs: SEGMENT_RULES_RUNS (random rules per backend), SEGMENT_RULES_SEED (fast-check), SEGMENT_RULES_DATA_SEED (the
// synthetic workspace), SEGMENT_RULES_NO_SHRINK (report the first failing rule as found), SEGMENT_RULES_SKIP_KNOWN
// (skip random rules that hit a discrepancy already pinned down below, to look for others).
const DATA_SEED = Number(process.env.SEGMENT_RULES_DATA_SEED ?? 20260315);
const RUNS = Number(process.env.SEGMENT_RULES_RUNS ?? 300);
const FC_SEED = Number(process.env.SEGMENT_RULES_SEED ?? 424242);

// ------------------------------------------------------------------ a seeded synthetic workspace

class Random extends Rng {
  /** 0.5-steps, so sums and averages are exact in binary floating point on every engine */
  halves(max: number): number {
    return this.int(0, max * 2) / 2;
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(0, 15).toString(16));
    hex[12] = '4';
    hex[16] = '89ab'[this.int(0, 3)]!;
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(0, 255));
  }
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoSeconds = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
function withOffset(ms: number, minutes: number): string {
  const local = new Date(ms + minutes * 60_000).toISOString().slice(0, 19);
  const a = Math.abs(minutes);
  return `${local}${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const CITIES = ['上海市', '上海市', '上海市', '北京市', '北京市', '广州市', '深圳市', '杭州市', 'London', 'New York', 'Paris', 'Shanghai'];
const AGE_GARBAGE: unknown[] = ['abc', '', 'thirty', '12abc', 'N/A', true, null, '-', '0x1A', 'NaN', 'Infinity', '1,000', '４２'];
const BIRTHDAY_GARBAGE: unknown[] = ['2024-02-30', '1990-13-01', '1990-00-10', 'unknown', '1990/05/06', '05-06', '', '1990-05', 19900506, null];
const DATE_GARBAGE: unknown[] = ['2025-02-29', '2024-02-30', '2025-13-01', '2025-00-10', 'unknown', '', '2025/01/01', '01/02/2025', '20250101', 1735689600000, '2025-01-01T25:00:00Z', '2025-01-01garbage', 'yesterday', '2025-1-1', null];
const INTERESTS = ['sports', 'music', 'travel', 'Tech', 'tech', 'food'];
const PLANS = ['free', 'pro', 'Pro', 'enterprise', "O'Brien plan", 'pro plus'];
const NICKNAMES = ['50%_off', 'a_b', 'ab', '100%', 'x\\y', 'Zoë', 'quote"d', "it's", 'Ada', 'ADA lovelace'];
const EVENT_NAMES = ['Order Completed', 'Order Completed', 'Order Completed', 'Product Viewed', 'Product Viewed', 'Product Viewed', 'Cart Abandoned', 'Signed Up', "Promo 'Clicked'", 'order completed'];
const CATEGORIES = ['books', 'Electronics', 'electronics', 'toys', 'home & garden', '50%_off'];
const SKUS = ['A1', 'B2', 'C3', 'D4'];
const RFM_LABELS = ['Champions', 'Loyal Customers', 'At Risk', 'Hibernating', 'champions', "Can't Lose Them"];

/** A date-ish trait the way sources send them: several ISO forms, some with offsets or none, some garbage. */
function dateTrait(r: Random, backDays: number, forwardDays = 0): unknown {
  const at = NOW.getTime() - Math.floor(r.next() * backDays * DAY) + (forwardDays > 0 && r.chance(0.05) ? Math.floor(r.next() * forwardDays * DAY) : 0);
  switch (r.int(0, 9)) {
    case 0:
    case 1:
      return isoDay(at);
    case 2:
    case 3:
      return isoSeconds(at);
    case 4:
      return new Date(at).toISOString();
    case 5:
      return withOffset(at, 480);
    case 6:
      return withOffset(at, -300);
    case 7:
      return isoSeconds(at).slice(0, 19).replace('T', ' ');
    case 8:
      return isoSeconds(at).slice(0, 19);
    default:
      return r.pick(DATE_GARBAGE);
  }
}

interface ScoreRow {
  profileId: string;
  name: string;
  value: number | null;
  label: string | null;
}

interface Dataset {
  profiles: OracleProfile[];
  events: OracleEvent[];
  identities: Array<{ profileId: string; type: string }>;
  scores: ScoreRow[];
}

function buildDataset(seed: number, size: number, eventCount: number): Dataset {
  const r = new Random(seed);
  const profiles: OracleProfile[] = [];
  const identities: Dataset['identities'] = [];
  for (let i = 0; i < size; i++) {
    const traits: Record<string, unknown> = {};
    if (r.chance(0.7)) traits.city = r.pick(CITIES);
    else if (r.chance(0.1)) traits.city = null;
    if (r.chance(0.85)) {
      const roll = r.next();
      const age = r.int(16, 75);
      traits.age = roll < 0.6 ? age : roll < 0.7 ? age + 0.5 : roll < 0.8 ? String(age) : roll < 0.83 ? `${age}.5` : roll < 0.86 ? '1e2' : r.pick(AGE_GARBAGE);
    }
    if (r.chance(0.75)) traits.birthday = r.chance(0.85) ? isoDay(Date.UTC(r.int(1950, 2008), r.int(0, 11), r.int(1, 28))) : r.pick(BIRTHDAY_GARBAGE);
    if (r.chance(0.6)) traits.vip = r.chance(0.85) ? r.chance(0.4) : r.pick(['true', 'yes', null]);
    if (r.chance(0.6)) traits.interests = r.chance(0.9) ? INTERESTS.filter(() => r.chance(0.3)) : 'sports, music';
    if (r.chance(0.75)) traits.signupDate = dateTrait(r, 900);
    if (r.chance(0.5)) traits.lastOrderAt = dateTrait(r, 400, 3);
    if (r.chance(0.6)) traits.gender = r.pick(['female', 'male', 'female', 'male', 'unknown']);
    if (r.chance(0.6)) traits.plan = r.pick(PLANS);
    if (r.chance(0.4)) traits.nickname = r.pick(NICKNAMES);
    if (r.chance(0.05)) traits["o'clock"] = 'five';
    const created = NOW.getTime() - Math.floor(r.next() * 800 * DAY);
    const updated = created + Math.floor(r.next() * (NOW.getTime() - created));
    const lastSeen = r.chance(0.2) ? null : created + Math.floor(r.next() * (NOW.getTime() - created));
    const id = r.uuid();
    const types = new Set<string>();
    for (const [type, p] of [['email', 0.4], ['phone', 0.2], ['userId', 0.15]] as const) {
      if (!r.chance(p)) continue;
      types.add(type);
      identities.push({ profileId: id, type });
      if (r.chance(0.1)) identities.push({ profileId: id, type });
    }
    profiles.push({ id, traits, createdAt: new Date(created), updatedAt: new Date(updated), lastSeenAt: lastSeen === null ? null : new Date(lastSeen), mergedInto: null, identityTypes: types });
  }
  // A few merged away into another (live) profile: they keep their rows, and are never members.
  for (let i = 0; i < Math.max(1, Math.floor(size / 30)); i++) {
    const from = profiles[r.int(0, size - 1)]!;
    const live = profiles.filter((p) => p.mergedInto === null && p !== from);
    if (from.mergedInto === null) from.mergedInto = r.pick(live).id;
  }
  const events: OracleEvent[] = [];
  for (let i = 0; i < eventCount; i++) {
    const profile = r.pick(profiles);
    const at = NOW.getTime() - Math.floor(r.next() * 400 * DAY) + (r.chance(0.01) ? Math.floor(r.next() * 2 * DAY) + 400 * DAY : 0);
    const properties: Record<string, unknown> = {};
    const total = r.halves(600);
    const roll = r.next();
    if (roll < 0.75) properties.total = total;
    else if (roll < 0.83) properties.total = String(total);
    else if (roll < 0.88) properties.total = r.pick(['N/A', '', 'free', null, true]);
    if (r.chance(0.7)) properties.category = r.pick(CATEGORIES);
    if (r.chance(0.3)) properties.items = SKUS.filter(() => r.chance(0.4));
    if (r.chance(0.3)) properties.coupon = r.chance(0.5);
    if (r.chance(0.6)) properties.channel = r.pick(['web', 'app', 'store']);
    if (r.chance(0.2)) properties.deliveredAt = r.chance(0.9) ? isoSeconds(at + r.int(1, 7) * DAY) : 'soon';
    events.push({ profileId: profile.id, event: r.pick(EVENT_NAMES), timestamp: new Date(at), properties });
  }
  const scores: ScoreRow[] = [];
  for (const p of profiles) {
    if (r.chance(0.6)) scores.push({ profileId: p.id, name: 'rfm_segment', value: null, label: r.pick(RFM_LABELS) });
    if (r.chance(0.5)) scores.push({ profileId: p.id, name: 'clv', value: r.int(-200, 20000) / 4, label: null });
    if (r.chance(0.3)) {
      const k = r.int(0, 4);
      scores.push({ profileId: p.id, name: 'cluster', value: k, label: `Cluster ${k}` });
    }
    if (r.chance(0.05)) scores.push({ profileId: p.id, name: 'churn_risk', value: null, label: null });
  }
  return { profiles, events, identities, scores };
}

async function insertChunks<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>, size = 500): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

async function insertProfiles(db: Kysely<Schema>, ws: string, profiles: readonly OracleProfile[]): Promise<void> {
  await insertChunks([...profiles], (chunk) =>
    db
      .insertInto('profiles')
      .values(
        chunk.map((p) => ({
          workspace_id: ws,
          id: p.id,
          traits: JSON.stringify(p.traits),
          secret_traits: null,
          created_at: p.createdAt,
          updated_at: p.updatedAt,
          last_seen_at: p.lastSeenAt,
          merged_into: p.mergedInto,
        })),
      )
      .execute(),
  );
}

let messageSeq = 0;
async function insertEvents(db: Kysely<Schema>, ws: string, events: ReadonlyArray<Omit<OracleEvent, 'profileId'> & { profileId: string | null }>): Promise<void> {
  await insertChunks([...events], (chunk) =>
    db
      .insertInto('events')
      .values(
        chunk.map((e) => ({
          workspace_id: ws,
          message_id: `m-${(messageSeq += 1)}`,
          profile_id: e.profileId,
          source_id: 'src',
          type: 'track',
          event: e.event,
          timestamp: e.timestamp,
          received_at: e.timestamp,
          properties: JSON.stringify(e.properties),
          secret: new Uint8Array(0),
        })),
      )
      .execute(),
  );
}

async function insertIdentities(db: Kysely<Schema>, ws: string, rows: Dataset['identities'], r: Random): Promise<void> {
  await insertChunks(rows, (chunk) =>
    db
      .insertInto('identities')
      .values(chunk.map((row) => ({ workspace_id: ws, type: row.type, value_index: r.bytes(16), value_enc: r.bytes(24), profile_id: row.profileId, source_id: 'src', first_seen_at: NOW })))
      .execute(),
  );
}

async function insertScores(db: Kysely<Schema>, ws: string, rows: ScoreRow[]): Promise<void> {
  await insertChunks(rows, (chunk) =>
    db
      .insertInto('profile_scores')
      .values(chunk.map((s) => ({ workspace_id: ws, profile_id: s.profileId, name: s.name, value: s.value, label: s.label, computed_at: NOW })))
      .execute(),
  );
}

async function insertWorkspace(db: Kysely<Schema>, id: string): Promise<void> {
  await db.insertInto('workspaces').values({ id, name: id, settings: '{}' }).execute();
}

/** Segment memberships, tags and scores as the database holds them, for the oracle. */
async function loadSets(db: Kysely<Schema>, ws: string): Promise<Pick<OracleData, 'segmentMembers' | 'tags' | 'scores'> & { tagIds: Map<string, string> }> {
  const [members, tags, profileTags, scores] = await Promise.all([
    db.selectFrom('segment_members').select(['segment_id', 'profile_id']).where('workspace_id', '=', ws).execute(),
    db.selectFrom('tags').select(['id', 'name']).where('workspace_id', '=', ws).execute(),
    db.selectFrom('profile_tags').select(['tag_id', 'profile_id', 'value']).where('workspace_id', '=', ws).execute(),
    db.selectFrom('profile_scores').select(['profile_id', 'name', 'value', 'label']).where('workspace_id', '=', ws).execute(),
  ]);
  const segmentMembers = new Map<string, Set<string>>();
  for (const m of members) {
    const set = segmentMembers.get(m.segment_id) ?? new Set<string>();
    set.add(m.profile_id);
    segmentMembers.set(m.segment_id, set);
  }
  const nameOf = new Map(tags.map((t) => [t.id, t.name.toLowerCase()]));
  const tagValues = new Map<string, Map<string, string>>(tags.map((t) => [t.name.toLowerCase(), new Map<string, string>()]));
  for (const t of profileTags) tagValues.get(nameOf.get(t.tag_id)!)!.set(t.profile_id, t.value);
  const scoreRows = new Map<string, Map<string, OracleScore>>();
  for (const s of scores) {
    const byProfile = scoreRows.get(s.name) ?? new Map<string, OracleScore>();
    byProfile.set(s.profile_id, { value: s.value === null ? null : Number(s.value), label: s.label });
    scoreRows.set(s.name, byProfile);
  }
  return { segmentMembers, tags: tagValues, scores: scoreRows, tagIds: new Map(tags.map((t) => [t.name.toLowerCase(), t.id])) };
}

async function sqlMembers(db: Kysely<Schema>, rule: Rule, ctx: CompileContext): Promise<string[]> {
  const { rows } = await memberIdsQuery(rule, ctx).execute(db);
  return rows.map((row) => row.id).sort();
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

// ------------------------------------------------------------------ random rules drawn from the data

const DURATIONS = ['1h', '12h', '1d', '7d', '14d', '30d', '90d', '180d', '1w', '4w', '1m', '3m', '6m', '13m', '1y', '2y'];
const NUMBERS = [-5, 0, 1, 16, 18, 25, 30, 30.5, 42, 60, 65, 75, 100, 1000];
const SUM_BOUNDS = [0, 10, 25, 49.5, 50, 99.5, 100, 250, 500, 1000, 2500];
const SCORE_NUMBERS = [-10, 0, 1, 2, 3, 100, 250.25, 1000, 4000];
const TRAIT_NAMES = ['city', 'age', 'birthday', 'vip', 'interests', 'signupDate', 'lastOrderAt', 'gender', 'plan', 'nickname', "o'clock", 'nosuchtrait', '$createdAt', '$updatedAt', '$lastSeenAt', 'email', 'phone', 'userId'];
const RULE_EXTRAS: Record<string, Scalar[]> = {
  city: ['上海', '北京', '广州', 'Beijing', 'Tokyo', 'shanghai', '上海市'],
  gender: ['F', 'M', '男', '女'],
  vip: ['true'],
  age: ['42', '1e2'],
};
const PROPERTIES = ['total', 'category', 'items', 'coupon', 'channel', 'deliveredAt', 'nope'];
const TAG_NAMES = ['Wholesale', 'wholesale', 'AGE GROUP', 'Age Group'];
const TAG_VALUES = ['', 'under 30', '30-49', '50+', 'nope'];
const SCORE_NAMES = ['rfm_segment', 'clv', 'cluster', 'churn_risk', 'nosuchscore'];
const SPECIAL_TEXT = ['%', '_', "'", '\\', 'a_b', '0%'];

function withValue<T extends object>(base: T, value: Scalar | Scalar[] | undefined): T & { value?: Scalar | Scalar[] } {
  return value === undefined ? base : { ...base, value };
}

interface Pools {
  /** trait (or property) → the scalar values stored (array elements included), deduplicated */
  values: Map<string, Scalar[]>;
  /** instants as written in the data, to hit comparison boundaries exactly */
  instants: string[];
}

function collectPools(records: ReadonlyArray<Readonly<Record<string, unknown>>>, extraInstants: string[]): Pools {
  const values = new Map<string, Set<Scalar>>();
  const instants = new Set<string>(extraInstants);
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      const set = values.get(key) ?? new Set<Scalar>();
      values.set(key, set);
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') set.add(v);
        if (parseInstant(v) !== null) instants.add(v as string);
      }
    }
  }
  return { values: new Map([...values].map(([k, s]) => [k, [...s]])), instants: [...instants].sort() };
}

function dateArb(pools: Pools): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...DURATIONS) },
    { weight: 2, arbitrary: fc.integer({ min: -5, max: 900 }).map((k) => isoDay(NOW.getTime() - k * DAY)) },
    { weight: 1, arbitrary: fc.integer({ min: -60, max: 900 * 24 * 60 }).map((k) => isoSeconds(NOW.getTime() - k * 60_000)) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 900 * 24 }).map((k) => withOffset(NOW.getTime() - k * 3_600_000, 480)) },
    { weight: 2, arbitrary: fc.constantFrom(...pools.instants) },
  );
}

function textArb(strings: readonly string[], prefix: boolean): fc.Arbitrary<string> {
  const source = strings.length > 0 ? strings : ['zzz'];
  const cut = fc.tuple(fc.constantFrom(...source), fc.nat(), fc.nat(), fc.boolean()).map(([s, a, b, upper]) => {
    if (s === '') return 'x';
    const start = prefix ? 0 : a % s.length;
    const text = s.slice(start, start + 1 + (b % (s.length - start)));
    return upper ? text.toUpperCase() : text;
  });
  return fc.oneof({ weight: 6, arbitrary: cut }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_TEXT) });
}

function valueArb(name: string, op: TraitOp, pools: Pools, extras: readonly Scalar[]): fc.Arbitrary<Scalar | Scalar[] | undefined> {
  const stored = pools.values.get(name) ?? [];
  const scalar = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<Scalar>(...stored, ...extras, 'zzz') },
    { weight: 2, arbitrary: fc.constantFrom<Scalar>(...NUMBERS) },
    { weight: 1, arbitrary: fc.boolean() },
  );
  const strings = stored.filter((v): v is string => typeof v === 'string');
  const dates = dateArb(pools);
  switch (op) {
    case 'exists':
    case 'missing':
      return fc.constant(undefined);
    case 'eq':
    case 'neq':
      return scalar;
    case 'in':
    case 'not_in':
      return fc.array(scalar, { minLength: 1, maxLength: 4 });
    case 'contains':
      return fc.oneof({ weight: 4, arbitrary: textArb(strings, false) }, { weight: 1, arbitrary: scalar });
    case 'starts_with':
      return fc.oneof({ weight: 4, arbitrary: textArb(strings, true) }, { weight: 1, arbitrary: scalar });
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return fc.oneof(fc.constantFrom(...NUMBERS), dates);
    case 'between':
      return fc.oneof(
        fc.tuple(fc.constantFrom(...NUMBERS), fc.constantFrom(...NUMBERS)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]),
        fc.tuple(dates, dates).map(([a, b]) => (instantAt(a) <= instantAt(b) ? [a, b] : [b, a])),
      );
    case 'within_last':
    case 'not_within_last':
      return fc.constantFrom(...DURATIONS);
    case 'before':
    case 'after':
      return dates;
    case 'birthday_in_month':
      return fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant('current'));
  }
}

const TIME_OPS: TraitOp[] = ['exists', 'missing', 'within_last', 'not_within_last', 'before', 'after', 'gt', 'gte', 'lt', 'lte', 'between'];
const TEXT_OPS: TraitOp[] = ['eq', 'neq', 'in', 'not_in', 'contains', 'starts_with', 'exists', 'missing'];
/** the operators that mean something for each trait (a few draws take any operator at all) */
const OPS_OF: Record<string, readonly TraitOp[]> = {
  age: [...TEXT_OPS, 'gt', 'gte', 'lt', 'lte', 'between', 'gt', 'lt', 'between'],
  birthday: [...TIME_OPS, 'eq', 'birthday_in_month', 'birthday_in_month', 'birthday_in_month'],
  signupDate: [...TIME_OPS, 'eq', 'starts_with'],
  lastOrderAt: [...TIME_OPS, 'eq'],
  $createdAt: TIME_OPS,
  $updatedAt: TIME_OPS,
  $lastSeenAt: TIME_OPS,
  email: ['exists', 'missing'],
  phone: ['exists', 'missing'],
  userId: ['exists', 'missing'],
};

function traitArb(traitPools: Pools): fc.Arbitrary<Rule> {
  return fc.tuple(fc.constantFrom(...TRAIT_NAMES), fc.nat(99)).chain(([trait, roll]) => {
    const ops = roll < 12 ? TRAIT_OPS : (OPS_OF[trait] ?? TEXT_OPS);
    return fc.constantFrom(...ops).chain((op) => valueArb(trait, op, traitPools, RULE_EXTRAS[trait] ?? []).map((value): Rule => withValue<TraitCondition>({ trait, op }, value)));
  });
}

function comparisonArb(values: fc.Arbitrary<number>): fc.Arbitrary<Comparison> {
  return fc
    .subarray(['eq', 'gt', 'gte', 'lt', 'lte'] as const, { minLength: 1, maxLength: 2 })
    .chain((keys) => fc.tuple(...keys.map(() => values)).map((vs) => Object.fromEntries(keys.map((k, i) => [k, vs[i]!])) as Comparison));
}

/** when a rule-side date or duration is, to put a pair in order */
function instantAt(text: string): number {
  return isDuration(text) ? oracleDurationAgo(text, NOW) : (parseInstant(text)?.at ?? 0);
}

function windowArb(pools: Pools, required: boolean): fc.Arbitrary<TimeWindow> {
  const dates = dateArb(pools);
  const pair = fc.tuple(dates, dates).map(([a, b]): [string, string] => (instantAt(a) <= instantAt(b) ? [a, b] : [b, a]));
  const part = fc.oneof(
    fc.constantFrom(...DURATIONS).map((within): TimeWindow => ({ within })),
    dates.map((after): TimeWindow => ({ after })),
    dates.map((before): TimeWindow => ({ before })),
    pair.map((between): TimeWindow => ({ between })),
  );
  return fc.array(part, { minLength: required ? 1 : 0, maxLength: 2 }).map((parts) => Object.assign({}, ...parts) as TimeWindow);
}

function eventArb(propertyPools: Pools, eventPools: Pools): fc.Arbitrary<Rule> {
  const filter: fc.Arbitrary<PropertyFilter> = fc
    .constantFrom(...PROPERTIES)
    .chain((property) => fc.constantFrom(...VALUE_OPS).chain((op: ValueOp) => valueArb(property, op, propertyPools, []).map((value) => withValue<PropertyFilter>({ property, op }, value))));
  const sumLike = fc.record({ property: fc.constantFrom('total', 'total', 'total', 'category', 'nope'), bounds: comparisonArb(fc.constantFrom(...SUM_BOUNDS)) }).map(({ property, bounds }) => ({ property, ...bounds }));
  const tests = fc.subarray(['count', 'sum', 'avg', 'first', 'last'] as const, { maxLength: 2 });
  return fc
    .record({
      event: fc.constantFrom(...EVENT_NAMES, 'Never Happened'),
      where: fc.option(fc.array(filter, { minLength: 1, maxLength: 2 }), { freq: 4, nil: undefined }),
      window: fc.oneof({ weight: 3, arbitrary: windowArb(eventPools, false) }, { weight: 1, arbitrary: fc.constant({}) }),
      tests,
      count: comparisonArb(fc.integer({ min: 0, max: 4 })),
      sum: sumLike,
      avg: sumLike,
      first: windowArb(eventPools, true),
      last: windowArb(eventPools, true),
    })
    .map(({ event, where, window, tests, ...parts }): Rule => {
      const rule: EventCondition = { event, ...(where ? { where } : {}), ...window };
      for (const t of tests) Object.assign(rule, { [t]: parts[t] });
      return rule;
    });
}

function scoreArb(labels: readonly string[]): fc.Arbitrary<Rule> {
  const numbers = fc.constantFrom(...SCORE_NUMBERS);
  const strings = fc.constantFrom(...labels, 'zzz');
  const valueFor = (op: ValueOp): fc.Arbitrary<Scalar | Scalar[] | undefined> => {
    switch (op) {
      case 'exists':
      case 'missing':
        return fc.constant(undefined);
      case 'eq':
      case 'neq':
        return fc.oneof(numbers, strings);
      case 'in':
      case 'not_in':
        return fc.oneof(fc.array(numbers, { minLength: 1, maxLength: 3 }), fc.array(strings, { minLength: 1, maxLength: 3 }));
      case 'contains':
        return textArb(labels, false);
      case 'starts_with':
        return textArb(labels, true);
      case 'between':
        return fc.tuple(numbers, numbers).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
      default:
        return numbers;
    }
  };
  return fc.tuple(fc.constantFrom(...SCORE_NAMES), fc.constantFrom(...VALUE_OPS)).chain(([score, op]) => valueFor(op).map((value): Rule => withValue<ScoreCondition>({ score, op }, value)));
}

function tagArb(): fc.Arbitrary<Rule> {
  return fc.tuple(fc.constantFrom(...TAG_NAMES), fc.option(fc.constantFrom(...TAG_VALUES), { freq: 2, nil: undefined })).map(([tag, value]): Rule => (value === undefined ? { tag } : ({ tag, value } satisfies TagCondition)));
}

/** Random rules of depth ≤ 3 whose every condition passes the schema and validateRule. */
function ruleArb(known: KnownNames, segmentIds: readonly string[], pools: { traits: Pools; properties: Pools; events: Pools; labels: readonly string[] }): fc.Arbitrary<Rule> {
  const valid = (rule: Rule) => Value.Check(RuleSchema, rule) && validateRule(rule, known).length === 0;
  const leaf = fc.oneof(
    { weight: 6, arbitrary: traitArb(pools.traits) },
    { weight: 5, arbitrary: eventArb(pools.properties, pools.events) },
    { weight: 1, arbitrary: fc.constantFrom(...segmentIds).map((segment): Rule => ({ segment })) },
    { weight: 1, arbitrary: tagArb() },
    { weight: 2, arbitrary: scoreArb(pools.labels) },
  ).filter(valid);
  const tree = (depth: number): fc.Arbitrary<Rule> => {
    if (depth === 0) return leaf;
    const sub = tree(depth - 1);
    return fc.oneof(
      { weight: 3, arbitrary: leaf },
      { weight: 2, arbitrary: fc.array(sub, { minLength: 1, maxLength: 3 }).map((all): Rule => ({ all })) },
      { weight: 2, arbitrary: fc.array(sub, { minLength: 1, maxLength: 3 }).map((any): Rule => ({ any })) },
      { weight: 1, arbitrary: sub.map((not): Rule => ({ not })) },
    );
  };
  return tree(3);
}

// ------------------------------------------------------------------ the tests


/**
 * The discrepancies this file's worked examples below pin down, by name, so
 * that SEGMENT_RULES_SKIP_KNOWN=1 lets the random rules look past them for
 * anything else. Remove an entry when its bug is fixed.
 */
function knownBug(rule: Rule): string | null {
  if ('all' in rule) return rule.all.map(knownBug).find((b) => b !== null) ?? null;
  if ('any' in rule) return rule.any.map(knownBug).find((b) => b !== null) ?? null;
  if ('not' in rule) return knownBug(rule.not);
  const loose = (v: Scalar | Scalar[] | undefined) => Array.isArray(v) && v.some((x) => typeof x === 'boolean' || (typeof x === 'string' && (x === 'true' || x === 'false' || /^-?\d/.test(x))));
  if ('trait' in rule && (rule.op === 'in' || rule.op === 'not_in') && loose(rule.value)) return 'in-loose';
  if ('event' in rule && (rule.where ?? []).some((f) => (f.op === 'in' || f.op === 'not_in') && loose(f.value))) return 'in-loose';
  if ('score' in rule && rule.op === 'not_in') return 'score-not-in';
  return null;
}

interface World {
  database: Database;
  db: Kysely<Schema>;
  dataset: Dataset;
  oracle: Oracle;
  ctx: CompileContext;
  known: KnownNames;
  segmentIds: string[];
  /** segment and tag rows right after the store computed them, before the test tampers with them */
  asCreated: { segments: Array<{ id: string; rule: Rule; members: string[] }>; ageGroups: Map<string, string> };
  ageGroupCases: Array<{ value: string; rule: Rule }>;
  pools: { traits: Pools; properties: Pools; events: Pools; labels: readonly string[] };
}

async function buildWorld(database: Database): Promise<World> {
  const db = database.db;
  const r = new Random(DATA_SEED + 1);
  const dataset = buildDataset(DATA_SEED, 300, 3000);
  await insertWorkspace(db, WS);
  await insertWorkspace(db, OTHER_WS);
  await insertProfiles(db, WS, dataset.profiles);
  await insertEvents(db, WS, dataset.events);
  // Anonymous events (no profile) and the other workspace's rows, under the same profile ids, must all be ignored.
  await insertEvents(db, WS, dataset.events.slice(0, 60).map((e) => ({ ...e, profileId: null })));
  const other = buildDataset(DATA_SEED + 7, 300, 600);
  const ids = dataset.profiles.map((p) => p.id);
  const remap = (id: string) => ids[other.profiles.findIndex((p) => p.id === id)]!;
  await insertProfiles(db, OTHER_WS, other.profiles.map((p) => ({ ...p, id: remap(p.id), mergedInto: null })));
  await insertEvents(db, OTHER_WS, other.events.map((e) => ({ ...e, profileId: remap(e.profileId) })));
  await insertIdentities(db, WS, dataset.identities, r);
  await insertIdentities(db, OTHER_WS, other.identities.map((i) => ({ ...i, profileId: remap(i.profileId) })), r);
  await insertScores(db, WS, dataset.scores);
  await insertScores(db, OTHER_WS, other.scores.map((s) => ({ ...s, profileId: remap(s.profileId) })));

  // Two saved segments and two tags, made the way the product makes them.
  const segments = createSegmentStore(db);
  const tags = createTagStore(db);
  const ruleA: Rule = { all: [{ trait: 'city', op: 'eq', value: '上海' }, { event: 'Order Completed' }] };
  const ruleB: Rule = { event: 'Order Completed', sum: { property: 'total', gte: 1000 } };
  const segA = await segments.create(WS, { name: 'Shanghai buyers', rule: ruleA }, null, NOW);
  const segB = await segments.create(WS, { name: 'Big spenders', rule: ruleB }, null, NOW);
  // a membership row of the other workspace under the same segment and profile ids is not one here
  await db.insertInto('segment_members').values(ids.slice(0, 50).map((id) => ({ workspace_id: OTHER_WS, segment_id: segA.id, profile_id: id, entered_at: NOW }))).execute();
  const wholesale = await tags.create(WS, { name: 'Wholesale', definition: { kind: 'manual' } }, NOW);
  const live = dataset.profiles.filter((p) => p.mergedInto === null);
  const merged = dataset.profiles.filter((p) => p.mergedInto !== null);
  await tags.add(WS, wholesale.id, { profileIds: [...live.filter(() => r.chance(0.1)).map((p) => p.id), merged[0]!.id] }, null, NOW);
  const ageGroupCases: Array<{ value: string; rule: Rule }> = [
    { value: 'under 30', rule: { trait: 'age', op: 'lt', value: 30 } },
    { value: '30-49', rule: { trait: 'age', op: 'between', value: [30, 49.5] } },
    { value: '50+', rule: { trait: 'age', op: 'gte', value: 50 } },
  ];
  await tags.create(WS, { name: 'Age Group', definition: { kind: 'cases', cases: ageGroupCases } }, NOW);
  const created = await loadSets(db, WS);
  const asCreated = {
    segments: [
      { id: segA.id, rule: ruleA, members: sorted(created.segmentMembers.get(segA.id) ?? []) },
      { id: segB.id, rule: ruleB, members: sorted(created.segmentMembers.get(segB.id) ?? []) },
    ],
    ageGroups: new Map(created.tags.get('age group') ?? []),
  };

  // Then make the rows disagree with the rules on purpose: a segment condition reads who is in the segment, not its rule.
  const inA = sorted(created.segmentMembers.get(segA.id) ?? []);
  if (inA[0] !== undefined) await db.deleteFrom('segment_members').where('workspace_id', '=', WS).where('segment_id', '=', segA.id).where('profile_id', '=', inA[0]).execute();
  const outsider = live.find((p) => !(created.segmentMembers.get(segB.id)?.has(p.id) ?? false))!;
  await db.insertInto('segment_members').values({ workspace_id: WS, segment_id: segB.id, profile_id: outsider.id, entered_at: NOW }).execute();
  // rows held by merged-away profiles: never members all the same
  await db.insertInto('segment_members').values({ workspace_id: WS, segment_id: segA.id, profile_id: merged[0]!.id, entered_at: NOW }).onConflict((oc) => oc.doNothing()).execute();
  await db.insertInto('profile_tags').values({ workspace_id: WS, tag_id: wholesale.id, profile_id: merged[0]!.id, value: '', added_at: NOW, added_by: null }).onConflict((oc) => oc.doNothing()).execute();

  const sets = await loadSets(db, WS);
  const oracle = createOracle({ profiles: dataset.profiles, events: dataset.events, segmentMembers: sets.segmentMembers, tags: sets.tags, scores: sets.scores });
  const extraInstants = [...dataset.profiles.flatMap((p) => [p.createdAt, p.updatedAt, ...(p.lastSeenAt ? [p.lastSeenAt] : [])]).filter((_, i) => i % 7 === 0)].map((d) => d.toISOString());
  const eventInstants = dataset.events.filter((_, i) => i % 13 === 0).map((e) => e.timestamp.toISOString());
  return {
    database,
    db,
    dataset,
    oracle,
    ctx: { workspaceId: WS, now: NOW, tagIds: sets.tagIds },
    known: { segmentIds: new Set([segA.id, segB.id]), tagNames: new Set(sets.tagIds.keys()) },
    segmentIds: [segA.id, segB.id],
    asCreated,
    ageGroupCases,
    pools: {
      traits: collectPools(dataset.profiles.map((p) => p.traits), extraInstants),
      properties: collectPools(dataset.events.map((e) => e.properties), eventInstants),
      events: collectPools([], eventInstants),
      labels: [...new Set(dataset.scores.map((s) => s.label).filter((l): l is string => l !== null))],
    },
  };
}

/** What the data says about the profiles two answers disagree on, for a readable failure. */
function explain(world: World, rule: Rule, ids: readonly string[]): string {
  const text = JSON.stringify(rule);
  const eventNames = new Set(world.dataset.events.map((e) => e.event).filter((name) => text.includes(JSON.stringify(name))));
  return ids
    .slice(0, 3)
    .map((id) => {
      const p = world.dataset.profiles.find((q) => q.id === id);
      if (!p) return `${id}: not a profile of the workspace`;
      const scores = world.dataset.scores.filter((s) => s.profileId === id);
      const events = world.dataset.events
        .filter((e) => e.profileId === id && eventNames.has(e.event))
        .map((e) => `${e.event} @ ${e.timestamp.toISOString()} ${JSON.stringify(e.properties)}`);
      return [
        `${id}: traits ${JSON.stringify(p.traits)}`,
        `  created ${p.createdAt.toISOString()} updated ${p.updatedAt.toISOString()} last seen ${p.lastSeenAt?.toISOString() ?? 'null'} merged into ${p.mergedInto ?? 'null'} identities [${[...p.identityTypes].join(', ')}]`,
        `  scores ${JSON.stringify(scores)}`,
        ...events.map((e) => `  ${e}`),
      ].join('\n');
    })
    .join('\n');
}

function difference(got: readonly string[], expected: readonly string[]): { missing: string[]; extra: string[] } {
  const g = new Set(got);
  const e = new Set(expected);
  return { missing: expected.filter((id) => !g.has(id)), extra: got.filter((id) => !e.has(id)) };
}

function agree(world: World, rule: Rule, got: readonly string[], expected: readonly string[], what: string): void {
  const { missing, extra } = difference(got, expected);
  if (missing.length === 0 && extra.length === 0) return;
  throw new Error(
    `${what}: SQL and oracle disagree on ${JSON.stringify(rule)}\n` +
      `  in the oracle's answer, not the SQL's (${missing.length}): ${missing.slice(0, 5).join(', ')}\n` +
      `  in the SQL's answer, not the oracle's (${extra.length}): ${extra.slice(0, 5).join(', ')}\n` +
      explain(world, rule, [...missing, ...extra]),
  );
}

// ------------------------------------------------------------------ hand-made workspaces for worked examples

interface Person {
  traits?: Record<string, unknown>;
  /** the traits as JSON text, for values JavaScript cannot write (1e400) */
  rawTraits?: string;
  createdAt?: Date;
  /** the name of the person this one was merged into */
  mergedInto?: string;
  events?: Array<{ event: string; at: Date; properties?: Record<string, unknown>; rawProperties?: string }>;
  scores?: Array<{ name: string; value: number | null; label: string | null }>;
}

interface HandMade {
  ws: string;
  idOf: (name: string) => string;
  oracle: Oracle;
  /** the names of the members the SQL finds */
  sql(rule: Rule, now: Date, only?: readonly string[]): Promise<string[]>;
  /** the names of the members the oracle finds */
  expected(rule: Rule, now: Date): string[];
}

let handMadeSeed = 1;
async function handMade(db: Kysely<Schema>, ws: string, people: Record<string, Person>): Promise<HandMade> {
  const r = new Random(7919 * (handMadeSeed += 1));
  const ids = new Map(Object.keys(people).map((name) => [name, r.uuid()]));
  const names = new Map([...ids].map(([name, id]) => [id, name]));
  const idOf = (name: string) => ids.get(name) ?? fail(`no person ${name}`);
  const profiles: OracleProfile[] = [];
  const events: OracleEvent[] = [];
  const rawEvents: Array<{ id: string; event: string; at: Date; properties: string }> = [];
  const scores: ScoreRow[] = [];
  for (const [name, person] of Object.entries(people)) {
    const id = idOf(name);
    const traitsText = person.rawTraits ?? JSON.stringify(person.traits ?? {});
    const created = person.createdAt ?? new Date('2025-01-01T00:00:00Z');
    profiles.push({ id, traits: JSON.parse(traitsText) as Record<string, unknown>, createdAt: created, updatedAt: created, lastSeenAt: null, mergedInto: person.mergedInto === undefined ? null : idOf(person.mergedInto), identityTypes: new Set() });
    for (const e of person.events ?? []) {
      const text = e.rawProperties ?? JSON.stringify(e.properties ?? {});
      events.push({ profileId: id, event: e.event, timestamp: e.at, properties: JSON.parse(text) as Record<string, unknown> });
      rawEvents.push({ id, event: e.event, at: e.at, properties: text });
    }
    for (const s of person.scores ?? []) scores.push({ profileId: id, ...s });
  }
  await insertWorkspace(db, ws);
  await insertChunks(profiles, (chunk) =>
    db
      .insertInto('profiles')
      .values(
        chunk.map((p) => ({
          workspace_id: ws,
          id: p.id,
          traits: people[names.get(p.id)!]!.rawTraits ?? JSON.stringify(p.traits),
          secret_traits: null,
          created_at: p.createdAt,
          updated_at: p.updatedAt,
          last_seen_at: null,
          merged_into: p.mergedInto,
        })),
      )
      .execute(),
  );
  await insertChunks(rawEvents, (chunk) =>
    db
      .insertInto('events')
      .values(
        chunk.map((e) => ({
          workspace_id: ws,
          message_id: `m-${(messageSeq += 1)}`,
          profile_id: e.id,
          source_id: 'src',
          type: 'track',
          event: e.event,
          timestamp: e.at,
          received_at: e.at,
          properties: e.properties,
          secret: new Uint8Array(0),
        })),
      )
      .execute(),
  );
  if (scores.length > 0) await insertScores(db, ws, scores);
  const sets = await loadSets(db, ws);
  const oracle = createOracle({ profiles, events, segmentMembers: sets.segmentMembers, tags: sets.tags, scores: sets.scores });
  const nameList = (idList: Iterable<string>) => [...idList].map((id) => names.get(id) ?? id).sort();
  return {
    ws,
    idOf,
    oracle,
    async sql(rule, now, only) {
      const ctx: CompileContext = { workspaceId: ws, now, tagIds: sets.tagIds, ...(only ? { profileIds: only.map(idOf) } : {}) };
      return nameList(await sqlMembers(db, rule, ctx));
    },
    expected(rule, now) {
      return nameList(oracle.members(rule, now));
    },
  };
}

function fail(message: string): never {
  throw new Error(message);
}

const ago = (days: number, now = NOW) => new Date(now.getTime() - days * DAY);
const orders = (...daysAgo: number[]) => daysAgo.map((d) => ({ event: 'Order Completed', at: ago(d), properties: { total: 100 } }));

const ISSUE_RULE: Rule = {
  all: [
    { trait: 'city', op: 'eq', value: '上海' },
    { event: 'Order Completed', within: '30d', count: { gte: 3 } },
    { not: { event: 'Order Completed', within: '14d', count: { gte: 1 } } },
  ],
};

const EVIL = ["'; drop table profiles; --", '") or 1=1 --', '$$; drop table events; $$', "x' || (select 1) || '"];

/** JSON texts of values a source may well send, and no rule should fail on */
const ODD_VALUES = [
  '""', '" "', '"abc"', '"1e999"', '"-1e999"', '"1e308"', '"1e-400"', '1e400', '-1e400', '1e-400', '"NaN"', '"Infinity"', '"-"', '"."', '"0x1A"', '"1,000"',
  '"１２"', '"12abc"', '"2024-02-30"', '"2025-02-29"', '"2025-13-01"', '"2025-00-00"', '"0000-01-01"', '"9999-12-31"', '"10000-01-01"', '"2025-01-01T25:00:00Z"',
  '"2025-01-01 garbage"', '"2025-01-01T10:00:00"', '"2025-01-01T10:00:00.123Z"', '"yesterday"', '"2025-1-1"', '"-2025-01-01"', '"2025-01-01T10:00:00+99:00"', '0',
  '1.7976931348623157e308', '-1e308', '123456789012345678901234567890', 'true', 'false', 'null', '[]', '[1, "a", null]', '{}', '{"a": 1}',
  '"\'; drop table profiles; --"', '"%"', '"_"', '"\\\\"', '"上海"', '"\\u00e9"',
];

/** every operator on one trait (or property), with the kinds of values each takes */
function oddTraitRules(trait: string): TraitCondition[] {
  const rules: Array<[TraitOp, Scalar | Scalar[] | undefined]> = [
    ['eq', 'abc'], ['eq', 0], ['eq', true], ['eq', 1e308], ['neq', 0], ['neq', 'abc'], ['in', [0, 'abc', true]], ['not_in', [0, 'abc']], ['contains', 'a'], ['contains', 1],
    ['starts_with', '1'], ['starts_with', '2025'], ['gt', 0], ['gte', -1], ['lt', 1e300], ['lte', 0], ['between', [0, 100]], ['gt', '2025-01-01'], ['gte', '30d'],
    ['lt', '2026-01-01T00:00:00Z'], ['lte', '2025-01-01'], ['between', ['2000-01-01', '2030-01-01']], ['exists', undefined], ['missing', undefined],
    ['within_last', '1000y'], ['not_within_last', '1h'], ['before', '2025-06-01'], ['after', '50y'], ['birthday_in_month', 1], ['birthday_in_month', 'current'],
  ];
  return rules.map(([op, value]) => withValue<TraitCondition>({ trait, op }, value));
}

describe.each(backends)('segment rules on $name: the SQL equals a plain JavaScript reading', (backend) => {
  let world: World;
  beforeAll(async () => {
    world = await buildWorld(await backend.open());
  });
  afterAll(async () => world?.database.close());

  it('the seeded data set is varied enough to mean something', () => {
    const { dataset, oracle } = world;
    const live = dataset.profiles.filter((p) => p.mergedInto === null).length;
    expect(dataset.profiles.length - live).toBeGreaterThan(3);
    // the oracle itself finds both members and non-members for plain conditions
    for (const rule of [
      { trait: 'city', op: 'eq', value: '上海' },
      { event: 'Order Completed', within: '90d', count: { gte: 2 } },
      { trait: 'age', op: 'gte', value: 40 },
      { trait: 'signupDate', op: 'within_last', value: '1y' },
    ] satisfies Rule[]) {
      const n = oracle.members(rule, NOW).size;
      expect(n, JSON.stringify(rule)).toBeGreaterThan(3);
      expect(n, JSON.stringify(rule)).toBeLessThan(live - 3);
    }
  });

  it('saved segments and computed tags hold what the oracle computes for their rules', () => {
    for (const s of world.asCreated.segments) expect(s.members, JSON.stringify(s.rule)).toEqual(sorted(world.oracle.members(s.rule, NOW)));
    const expected = new Map<string, string>();
    for (const p of world.dataset.profiles) {
      if (p.mergedInto !== null) continue;
      const hit = world.ageGroupCases.find((c) => world.oracle.holds(c.rule, p.id, NOW));
      if (hit) expected.set(p.id, hit.value);
    }
    expect(new Map([...world.asCreated.ageGroups].sort())).toEqual(new Map([...expected].sort()));
  });

  it(`random rules (${RUNS} runs): the member set, a random subset of profiles and the count all match`, async () => {
    const { db, ctx, dataset } = world;
    const allIds = dataset.profiles.map((p) => p.id);
    const stranger = '00000000-0000-4000-8000-000000000000';
    const subset = fc.subarray([...allIds, stranger], { minLength: 0, maxLength: 40 });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(ruleArb(world.known, world.segmentIds, world.pools), subset, async (rule, few) => {
        if (process.env.SEGMENT_RULES_SKIP_KNOWN !== undefined && knownBug(rule) !== null) return;
        const expected = sorted(world.oracle.members(rule, NOW));
        agree(world, rule, await sqlMembers(db, rule, ctx), expected, 'all profiles');
        const wanted = new Set(few);
        agree(world, rule, await sqlMembers(db, rule, { ...ctx, profileIds: few }), expected.filter((id) => wanted.has(id)), `profileIds ${JSON.stringify(few)}`);
        if ((runs += 1) % 4 === 0) {
          // countQuery is the same condition; a sample of runs is enough to keep it honest
          const { rows } = await countQuery(rule, ctx).execute(db);
          expect(Number(rows[0]?.count), `count of ${JSON.stringify(rule)}`).toBe(expected.length);
        }
      }),
      { numRuns: RUNS, seed: FC_SEED, endOnFailure: process.env.SEGMENT_RULES_NO_SHRINK !== undefined },
    );
  });

  it('conditions on one event merged into one pass (an anchor and siblings in narrower windows, some negated) still match', async () => {
    const { db, ctx } = world;
    const durations = ['400d', '180d', '90d', '30d', '14d', '7d'] as const;
    const bounds = comparisonArb(fc.integer({ min: 0, max: 4 }));
    const sibling = (event: string, widest: number) =>
      fc
        .record({
          within: fc.integer({ min: widest, max: durations.length - 1 }).map((i) => durations[i]!),
          test: fc.constantFrom('none', 'count', 'sum', 'avg'),
          count: bounds,
          total: fc.constantFrom(...SUM_BOUNDS),
          negated: fc.boolean(),
        })
        .map(({ within, test, count, total, negated }): Rule => {
          const c: EventCondition = { event, within, ...(test === 'count' ? { count } : test === 'sum' ? { sum: { property: 'total', gte: total } } : test === 'avg' ? { avg: { property: 'total', lt: total } } : {}) };
          return negated ? { not: c } : c;
        });
    const merged = fc
      .record({ event: fc.constantFrom(...EVENT_NAMES), widest: fc.integer({ min: 0, max: 3 }), gte: fc.integer({ min: 1, max: 4 }), useWindow: fc.boolean() })
      .chain(({ event, widest, gte, useWindow }) =>
        fc.array(sibling(event, useWindow ? widest : 0), { minLength: 1, maxLength: 3 }).map((siblings): Rule => ({
          all: [{ event, ...(useWindow ? { within: durations[widest]! } : {}), count: { gte } }, ...siblings],
        })),
      );
    await fc.assert(
      fc.asyncProperty(merged, async (rule) => {
        const expected = sorted(world.oracle.members(rule, NOW));
        agree(world, rule, await sqlMembers(db, rule, ctx), expected, 'all profiles');
      }),
      { numRuns: 150, seed: FC_SEED },
    );
  });

  it("the issue's example: in 上海, at least 3 orders in 30 days, none in the last 14", async () => {
    const t = await handMade(world.db, 'ws-example', {
      member: { traits: { city: '上海市' }, events: orders(20, 22, 25) },
      recentOrder: { traits: { city: '上海市' }, events: orders(3, 20, 25) },
      beijing: { traits: { city: '北京市' }, events: orders(20, 21, 22, 23) },
      twoOrders: { traits: { city: '上海市' }, events: orders(20, 25) },
      mergedAway: { traits: { city: '上海市' }, events: orders(16, 20, 25), mergedInto: 'member' },
      orderExactly14DaysAgo: { traits: { city: '上海市' }, events: orders(14, 20, 25) },
      orderExactly30DaysAgo: { traits: { city: '上海市' }, events: orders(30, 20, 25) },
      order31DaysAgo: { traits: { city: '上海市' }, events: orders(31, 20, 25) },
      viewsOnly: { traits: { city: '上海市' }, events: [20, 22, 25].map((d) => ({ event: 'Product Viewed', at: ago(d) })) },
      noCity: { events: orders(20, 22, 25) },
    });
    expect(validateRule(ISSUE_RULE, { segmentIds: new Set(), tagNames: new Set() })).toEqual([]);
    expect(t.expected(ISSUE_RULE, NOW)).toEqual(['member', 'orderExactly30DaysAgo']);
    expect(await t.sql(ISSUE_RULE, NOW)).toEqual(['member', 'orderExactly30DaysAgo']);
    expect(await t.sql(ISSUE_RULE, NOW, ['member', 'recentOrder', 'mergedAway'])).toEqual(['member']);
    const { rows } = await countQuery(ISSUE_RULE, { workspaceId: t.ws, now: NOW, tagIds: new Map() }).execute(world.db);
    expect(Number(rows[0]?.count)).toBe(2);
  });

  it('names, values and event names holding SQL are only ever data: no rows, every table intact', async () => {
    const tables = ['profiles', 'events', 'identities', 'segments', 'segment_members', 'tags', 'profile_tags', 'profile_scores'] as const;
    const countAll = async () => Promise.all(tables.map(async (table) => Number((await world.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)));
    const before = await countAll();
    for (const evil of EVIL) {
      const rules: Rule[] = [
        { trait: evil, op: 'eq', value: evil },
        { trait: evil, op: 'exists' },
        { trait: evil, op: 'gt', value: 5 },
        { trait: evil, op: 'within_last', value: '30d' },
        { trait: 'city', op: 'eq', value: evil },
        { trait: 'city', op: 'in', value: [evil, `${evil}x`] },
        { trait: 'nickname', op: 'contains', value: evil },
        { trait: 'plan', op: 'starts_with', value: evil },
        { event: evil },
        { event: evil, within: '30d', count: { gte: 1 } },
        { event: 'Order Completed', where: [{ property: evil, op: 'eq', value: evil }] },
        { event: 'Order Completed', where: [{ property: 'category', op: 'contains', value: evil }] },
        { event: 'Order Completed', sum: { property: evil, gte: 1 } },
        { event: 'Order Completed', avg: { property: evil, gte: 0 } },
        { score: evil, op: 'exists' },
        { score: 'rfm_segment', op: 'eq', value: evil },
        { tag: 'Wholesale', value: evil },
      ];
      for (const rule of rules) {
        expect(validateRule(rule, world.known), JSON.stringify(rule)).toEqual([]);
        expect(world.oracle.members(rule, NOW).size, JSON.stringify(rule)).toBe(0);
        expect(await sqlMembers(world.db, rule, world.ctx), JSON.stringify(rule)).toEqual([]);
      }
    }
    expect(await countAll()).toEqual(before);
  });

  it('odd stored values (garbage numbers and dates, huge numbers, arrays, objects) never make a rule fail, and read as the oracle reads them', async () => {
    const people: Record<string, Person> = {};
    const rawOf = new Map<string, string>();
    ODD_VALUES.forEach((raw, i) => {
      rawOf.set(`odd${i}`, raw);
      people[`odd${i}`] = {
        rawTraits: `{"v": ${raw}}`,
        events: [
          { event: 'Odd', at: ago(1), rawProperties: `{"p": ${raw}}` },
          { event: 'Odd', at: ago(2), properties: { p: 10 } },
        ],
      };
    });
    people.absent = { traits: {}, events: [{ event: 'Odd', at: ago(1) }] };
    const t = await handMade(world.db, 'ws-odd', people);
    // JavaScript cannot hold these numbers as written (1e400 reads as Infinity, 1e-400 as 0): only "never fails" is asked of them.
    const lossy = new Set(['"1e-400"', '1e400', '-1e400', '1e-400']);
    const rules: Rule[] = [
      ...oddTraitRules('v'),
      ...oddTraitRules('p')
        .filter((r) => (VALUE_OPS as readonly string[]).includes(r.op))
        .map((r): Rule => ({ event: 'Odd', where: [withValue<PropertyFilter>({ property: 'p', op: r.op as ValueOp }, r.value)] })),
      { event: 'Odd', sum: { property: 'p', gte: 0 } },
      { event: 'Odd', sum: { property: 'p', lte: 10 } },
      { event: 'Odd', avg: { property: 'p', lt: 1e300 } },
      { event: 'Odd', avg: { property: 'p', eq: 10 } },
    ];
    const failures: string[] = [];
    for (const rule of rules) {
      expect(validateRule(rule, { segmentIds: new Set(), tagNames: new Set() }), JSON.stringify(rule)).toEqual([]);
      const expected = t.expected(rule, NOW);
      try {
        const { missing, extra } = difference(await t.sql(rule, NOW), expected);
        const show = (names: string[]) => names.filter((n) => !lossy.has(rawOf.get(n) ?? '')).map((n) => rawOf.get(n) ?? n);
        if (show(missing).length + show(extra).length > 0) failures.push(`${JSON.stringify(rule)}: the SQL leaves out [${show(missing).join(' ')}] and adds [${show(extra).join(' ')}]`);
      } catch {
        // Which value breaks it: each profile on its own (the real-time path).
        const breaking: string[] = [];
        for (const name of Object.keys(people)) {
          try {
            await t.sql(rule, NOW, [name]);
          } catch (error) {
            breaking.push(`${rawOf.get(name) ?? name} (${(error as Error).message.replace(/"[^"]{24,}"/, '"…"')})`);
          }
        }
        failures.push(`${JSON.stringify(rule)}: the query fails; alone, these values fail it: ${breaking.join(', ') || 'none'}`);
      }
    }
    expect(failures).toEqual([]);
  });

  // ---------------------------------------------------------------- discrepancies the oracle found, each on its smallest data

  it('a duration, a date or "current" given to a city condition is not a place name (standardizing it, 30d → 30D, made the rule fail)', async () => {
    const t = await handMade(world.db, 'ws-city-time', { dated: { traits: { city: '2026-03-10' } }, shanghai: { traits: { city: '上海市' } } });
    const cases: Array<[Rule, string[]]> = [
      [{ trait: 'city', op: 'within_last', value: '30d' }, ['dated']],
      [{ trait: 'city', op: 'before', value: '1y' }, []],
      [{ trait: 'city', op: 'birthday_in_month', value: 'current' }, ['dated']],
      [{ trait: 'city', op: 'birthday_in_month', value: 3 }, ['dated']],
    ];
    const outcomes: Array<[Rule, string[] | string]> = [];
    for (const [rule, expected] of cases) {
      expect(validateRule(rule, world.known), JSON.stringify(rule)).toEqual([]);
      expect(t.expected(rule, NOW), JSON.stringify(rule)).toEqual(expected);
      outcomes.push([rule, await t.sql(rule, NOW).catch((error: Error) => `fails: ${error.message}`)]);
    }
    expect(outcomes).toEqual(cases);
  });

  it('first/last read the events the condition keeps (its own window included), so an outer window changes what "first" means', async () => {
    // rule.ts documents `first` as "the profile's first such event (ever, after `where`)"; the language as specified and
    // compiled takes the first of the events left in the condition's window. The two readings differ exactly here:
    const t = await handMade(world.db, 'ws-first', { loyal: { events: orders(100, 5) }, newcomer: { events: orders(5) }, lapsed: { events: orders(100) } });
    const firstOrderEverThisMonth: Rule = { event: 'Order Completed', first: { within: '30d' } };
    const firstOrderOfThisMonth: Rule = { event: 'Order Completed', within: '30d', first: { within: '30d' } };
    const lastOrderEverLongAgo: Rule = { event: 'Order Completed', last: { before: '30d' } };
    const lastOrderBeforeAMonthAgo: Rule = { event: 'Order Completed', before: '30d', last: { before: '30d' } };
    const expected = { firstOrderEverThisMonth: ['newcomer'], firstOrderOfThisMonth: ['loyal', 'newcomer'], lastOrderEverLongAgo: ['lapsed'], lastOrderBeforeAMonthAgo: ['lapsed', 'loyal'] };
    expect({
      firstOrderEverThisMonth: t.expected(firstOrderEverThisMonth, NOW),
      firstOrderOfThisMonth: t.expected(firstOrderOfThisMonth, NOW),
      lastOrderEverLongAgo: t.expected(lastOrderEverLongAgo, NOW),
      lastOrderBeforeAMonthAgo: t.expected(lastOrderBeforeAMonthAgo, NOW),
    }).toEqual(expected);
    expect({
      firstOrderEverThisMonth: await t.sql(firstOrderEverThisMonth, NOW),
      firstOrderOfThisMonth: await t.sql(firstOrderOfThisMonth, NOW),
      lastOrderEverLongAgo: await t.sql(lastOrderEverLongAgo, NOW),
      lastOrderBeforeAMonthAgo: await t.sql(lastOrderBeforeAMonthAgo, NOW),
    }).toEqual(expected);
  });

  it('in/not_in compare values as eq/neq do: the boolean true is not the text "true", the number 42 not the text "42"', async () => {
    const t = await handMade(world.db, 'ws-in', { boolTrue: { traits: { vip: true, age: 42 } }, textTrue: { traits: { vip: 'true', age: '42' } } });
    const pairs: Array<[Rule, Rule]> = [
      [{ trait: 'vip', op: 'eq', value: true }, { trait: 'vip', op: 'in', value: [true] }],
      [{ trait: 'vip', op: 'eq', value: 'true' }, { trait: 'vip', op: 'in', value: ['true'] }],
      [{ trait: 'age', op: 'eq', value: '42' }, { trait: 'age', op: 'in', value: ['42'] }],
      [{ trait: 'vip', op: 'neq', value: true }, { trait: 'vip', op: 'not_in', value: [true] }],
      [{ trait: 'age', op: 'neq', value: '42' }, { trait: 'age', op: 'not_in', value: ['42'] }],
    ];
    const got: Array<[string[], string[]]> = [];
    const expected: Array<[string[], string[]]> = [];
    for (const [single, list] of pairs) {
      expect(t.expected(single, NOW)).toEqual(t.expected(list, NOW));
      expected.push([t.expected(single, NOW), t.expected(list, NOW)]);
      got.push([await t.sql(single, NOW), await t.sql(list, NOW)]);
    }
    expect(got).toEqual(expected);
  });

  it('a score not_in, like neq, needs the compared field: no label is not "a label other than these"', async () => {
    const t = await handMade(world.db, 'ws-score', {
      champion: { scores: [{ name: 'rfm_segment', value: null, label: 'Champions' }] },
      valued: { scores: [{ name: 'clv', value: 100, label: null }] },
    });
    const rules: Rule[] = [
      { score: 'rfm_segment', op: 'neq', value: 1 },
      { score: 'rfm_segment', op: 'not_in', value: [1, 2] },
      { score: 'clv', op: 'neq', value: 'Champions' },
      { score: 'clv', op: 'not_in', value: ['Champions'] },
    ];
    const got: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const rule of rules) {
      expected[JSON.stringify(rule)] = t.expected(rule, NOW);
      got[JSON.stringify(rule)] = await t.sql(rule, NOW);
    }
    expect(Object.values(expected).flat()).toEqual([]);
    expect(got).toEqual(expected);
  });

  it('calendar months and years clamp to the month end: one month before 31 March is 28 February, not 3 March', async () => {
    const t = await handMade(world.db, 'ws-month', {
      march1: { createdAt: new Date('2026-03-01T00:00:00Z') },
      february27: { createdAt: new Date('2026-02-27T00:00:00Z') },
      march1Of2027: { createdAt: new Date('2027-03-01T00:00:00Z') },
    });
    const lastMonth: Rule = { trait: '$createdAt', op: 'within_last', value: '1m' };
    const lastYear: Rule = { trait: '$createdAt', op: 'within_last', value: '1y' };
    const endOfMarch = new Date('2026-03-31T12:00:00Z');
    const leapDay = new Date('2028-02-29T12:00:00Z');
    const expected = { lastMonth: ['march1', 'march1Of2027'], lastYear: ['march1Of2027'] };
    expect({ lastMonth: t.expected(lastMonth, endOfMarch), lastYear: t.expected(lastYear, leapDay) }).toEqual(expected);
    expect({ lastMonth: await t.sql(lastMonth, endOfMarch), lastYear: await t.sql(lastYear, leapDay) }).toEqual(expected);
  });

  it('validateRule refuses calendar dates that do not exist, rather than reading 2025-02-30 as 2 March', () => {
    const none = { segmentIds: new Set<string>(), tagNames: new Set<string>() };
    const rules: Rule[] = [
      { trait: 'signupDate', op: 'after', value: '2025-02-30' },
      { trait: 'signupDate', op: 'between', value: ['2025-01-01', '2025-04-31'] },
      { event: 'Order Completed', before: '2025-02-29' },
    ];
    expect(Object.fromEntries(rules.map((rule) => [JSON.stringify(rule), validateRule(rule, none).length > 0 ? 'refused' : 'accepted']))).toEqual(
      Object.fromEntries(rules.map((rule) => [JSON.stringify(rule), 'refused'])),
    );
  });

  it("a date-time without an offset means the same instant whatever the server's time zone", async () => {
    const t = await handMade(world.db, 'ws-tz', { early: { createdAt: new Date('2026-03-10T05:00:00Z') } });
    const rule: Rule = { trait: '$createdAt', op: 'after', value: '2026-03-10T10:00:00' };
    const zone = process.env.TZ;
    const results: Record<string, string[]> = {};
    try {
      for (const tz of ['UTC', 'Asia/Shanghai', 'America/New_York']) {
        process.env.TZ = tz;
        results[tz] = await t.sql(rule, NOW);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(t.expected(rule, NOW)).toEqual([]);
    expect(results).toEqual({ UTC: [], 'Asia/Shanghai': [], 'America/New_York': [] });
  });
});
