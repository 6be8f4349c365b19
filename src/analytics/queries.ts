import { sql, type Kysely } from 'kysely';
import { notRestricted } from '../storage/restricted-profiles.js';
import type { Schema } from '../storage/schema.js';
import type { RfmInput } from './rfm.js';
import type { FeatureColumn } from './tree.js';

/**
 * The one door between the numeric modules and the database: it reads what
 * they need into typed arrays and writes back the per-profile scores.
 * Profiles are read a page at a time so a million of them fit in a small heap.
 */

const PAGE = 20_000;
const DAY = 86_400_000;

/** What an order is worth: Segment's spec names total, revenue or value. */
export const AMOUNT = sql`coalesce(custodian_number(e.properties -> 'total'), custodian_number(e.properties -> 'revenue'), custodian_number(e.properties -> 'value'), 0)`;

/**
 * A Survey Responded event's (alias e) answers: `nps` 0–10 and `csat` 1–5,
 * or `score` with `type` nps or csat (one event per question); anything out
 * of range is no answer. Every figure of NPS and CSAT reads them so.
 */
export const NPS_ANSWER = sql`case
  when custodian_number(e.properties -> 'nps') between 0 and 10 then custodian_number(e.properties -> 'nps')
  when e.properties ->> 'type' = 'nps' and custodian_number(e.properties -> 'score') between 0 and 10 then custodian_number(e.properties -> 'score') end`;
export const CSAT_ANSWER = sql`case
  when custodian_number(e.properties -> 'csat') between 1 and 5 then custodian_number(e.properties -> 'csat')
  when e.properties ->> 'type' = 'csat' and custodian_number(e.properties -> 'score') between 1 and 5 then custodian_number(e.properties -> 'score') end`;

/**
 * The categories an order is in: its own `category`, and each of its
 * products' (Segment's Order Completed carries `products: [{category}]`).
 * An order in a category twice counts once there.
 */
const ORDER_CATEGORIES = sql`cross join lateral (
  select e.properties ->> 'category' as category
  union
  select item ->> 'category' from jsonb_array_elements(case when jsonb_typeof(e.properties -> 'products') = 'array' then e.properties -> 'products' else '[]'::jsonb end) as item
) c`;

/**
 * CTEs `orders`, `refunds` and `kept` for a page of profiles: kept are the
 * completed orders not fully refunded (an Order Refunded with the same
 * order_id and at least its amount undoes the purchase).
 */
function keptOrders(workspaceId: string, pageIds: readonly string[]) {
  return sql`orders as (
      select e.profile_id, coalesce(e.properties ->> 'order_id', e.message_id) as order_key, e.timestamp, ${AMOUNT} as amount
      from events e
      where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.profile_id = any(${pageIds}::uuid[])),
    refunds as (
      select e.profile_id, e.properties ->> 'order_id' as order_key, ${AMOUNT} as amount
      from events e
      where e.workspace_id = ${workspaceId} and e.event = 'Order Refunded' and e.profile_id = any(${pageIds}::uuid[])),
    refunded_orders as (
      select profile_id, order_key, sum(amount) as amount from refunds where order_key is not null group by profile_id, order_key),
    kept as (
      select o.profile_id, o.timestamp, o.amount from orders o
      left join refunded_orders r on r.profile_id = o.profile_id and r.order_key = o.order_key
      where r.amount is null or r.amount <= 0 or r.amount < o.amount)`;
}

/**
 * Live profiles a page at a time: the people every per-person analysis reads. A restricted person
 * (GDPR Art. 18) is not one of them: their data neither trains a model nor gets a score.
 */
async function* livePages(db: Kysely<Schema>, workspaceId: string): AsyncGenerator<Array<{ id: string; created_at: Date }>> {
  let after: string | null = null;
  for (;;) {
    let q = db
      .selectFrom('profiles')
      .select(['id', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .where('merged_into', 'is', null)
      .where(notRestricted(sql`profiles.id`, workspaceId))
      .orderBy('id')
      .limit(PAGE);
    if (after) q = q.where('id', '>', after);
    const rows = await q.execute();
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.id;
    if (rows.length < PAGE) return;
  }
}

/**
 * Recency, frequency and monetary value of every customer with an order.
 * A fully refunded order (Order Refunded with the same order_id and at least
 * its amount) is not a purchase; every refund lowers monetary value.
 */
export async function loadRfmInputs(db: Kysely<Schema>, workspaceId: string, now: Date): Promise<{ profileIds: string[]; input: RfmInput }> {
  const ids: string[] = [];
  const recency: number[] = [];
  const frequency: number[] = [];
  const monetary: number[] = [];
  for await (const page of livePages(db, workspaceId)) {
    const pageIds = page.map((p) => p.id);
    const { rows } = await sql<{ profile_id: string; last_at: Date | null; orders: string | number; net: number | null }>`
      with ${keptOrders(workspaceId, pageIds)},
      refund_totals as (select profile_id, sum(amount) as amount from refunds group by profile_id),
      order_totals as (select profile_id, sum(amount) as amount from orders group by profile_id)
      select k.profile_id, max(k.timestamp) as last_at, count(*) as orders,
        max(ot.amount) - coalesce(max(rt.amount), 0) as net
      from kept k
      join order_totals ot on ot.profile_id = k.profile_id
      left join refund_totals rt on rt.profile_id = k.profile_id
      group by k.profile_id
      order by k.profile_id`.execute(db);
    for (const r of rows) {
      ids.push(r.profile_id);
      recency.push(Math.max(0, (now.getTime() - (r.last_at?.getTime() ?? now.getTime())) / DAY));
      frequency.push(Number(r.orders));
      monetary.push(Number(r.net ?? 0));
    }
  }
  return { profileIds: ids, input: { recencyDays: Float64Array.from(recency), frequency: Float64Array.from(frequency), monetary: Float64Array.from(monetary) } };
}

export interface ScoreRow {
  profileId: string;
  value: number | null;
  label: string | null;
}

/**
 * Replace scores for a whole workspace, all in one transaction (RFM's four
 * or lifetime value's three never disagree): the rows given are written, and
 * profiles that had a score but are not given lose it (a customer with no
 * orders left has no RFM segment). Two runs writing the same score (the
 * worker and an API call) wait for each other instead of colliding.
 * A restricted person's scores stay as they were, neither recomputed nor
 * dropped: restriction keeps the data and stops its use (docs/dsar.md).
 */
export async function replaceScores(db: Kysely<Schema>, workspaceId: string, scores: ReadonlyArray<{ name: string; rows: readonly ScoreRow[] }>, now: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const { name } of [...scores].sort((a, b) => (a.name < b.name ? -1 : 1))) await sql`select pg_advisory_xact_lock(hashtext(${`scores ${workspaceId} ${name}`}))`.execute(tx);
    for (const { name, rows } of scores) {
      await tx.deleteFrom('profile_scores').where('workspace_id', '=', workspaceId).where('name', '=', name).where(notRestricted(sql`profile_scores.profile_id`, workspaceId)).execute();
      for (let i = 0; i < rows.length; i += PAGE) {
        const chunk = rows.slice(i, i + PAGE);
        await sql`
          insert into profile_scores (workspace_id, profile_id, name, value, label, computed_at)
          select ${workspaceId}::text, id, ${name}::text, value, label, ${now}::timestamptz
          from unnest(${chunk.map((r) => r.profileId)}::uuid[], ${chunk.map((r) => r.value)}::float8[], ${chunk.map((r) => r.label)}::text[]) as t(id, value, label)
          -- A profile erased while the run computed gets no score back, nor does one restricted meanwhile.
          where exists (select 1 from profiles p where p.workspace_id = ${workspaceId} and p.id = t.id) and ${notRestricted(sql`t.id`, workspaceId)}`.execute(tx);
      }
    }
  });
}

/** Behavioural features every workspace has; traits named `trait:<name>` come on top. */
export const BEHAVIOUR_FEATURES = ['recency_days', 'frequency', 'monetary', 'avg_order_value', 'orders_90d', 'tenure_days', 'events_30d', 'active_days_90d', 'nps_last', 'csat_avg', 'support_contacts_90d'] as const;

/** Events that count as a customer contacting support (tickets, complaints, calls). */
export const SUPPORT_EVENTS = ['Ticket Created', 'Complaint Submitted', 'Support Contacted'] as const;
const FEEDBACK_FEATURES: readonly string[] = ['nps_last', 'csat_avg', 'support_contacts_90d'];
export type BehaviourFeature = (typeof BEHAVIOUR_FEATURES)[number];

export interface FeatureSet {
  profileIds: string[];
  columns: FeatureColumn[];
  /** 1 where the profile had done anything by `now`: who existed in a snapshot of the past */
  seen: Uint8Array;
}

/**
 * Read features for every live profile. Behaviour comes from events
 * (orders and activity); `category_share:<c>` is the share of a profile's
 * orders in a category, `source_share:<s>` the share of its events from a
 * source; `trait:<name>` reads a trait, numeric when every value present is
 * a number, otherwise categorical (top 30 values, the rest as "other").
 * Everything is as of `now`: later events and profiles are not seen, so a
 * model can be trained on a snapshot of the past and checked on what followed.
 */
export async function loadFeatures(db: Kysely<Schema>, workspaceId: string, features: readonly string[], now: Date, onProgress?: (done: number) => void): Promise<FeatureSet> {
  const traits = features.filter((f) => f.startsWith('trait:')).map((f) => f.slice(6));
  const categories = features.filter((f) => f.startsWith('category_share:')).map((f) => f.slice(15));
  const sources = features.filter((f) => f.startsWith('source_share:')).map((f) => f.slice(13));
  const ids: string[] = [];
  const numeric = new Map<string, number[]>(features.filter((f) => !f.startsWith('trait:')).map((f) => [f, []]));
  const traitValues = new Map<string, unknown[]>(traits.map((t) => [t, []]));
  const since90 = new Date(now.getTime() - 90 * DAY);
  const since30 = new Date(now.getTime() - 30 * DAY);
  const wantsFeedback = features.some((f) => FEEDBACK_FEATURES.includes(f));
  const seen: number[] = [];
  for await (const page of livePages(db, workspaceId)) {
    const pageIds = page.map((p) => p.id);
    const [orders, activity, cats, srcs, traitRows, feedback] = await Promise.all([
      sql<{ profile_id: string; last_at: Date; orders: string | number; revenue: number; orders_90d: string | number }>`
        select e.profile_id, max(e.timestamp) as last_at, count(*) as orders, sum(${AMOUNT}) as revenue, count(*) filter (where e.timestamp >= ${since90}) as orders_90d
        from events e where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.timestamp <= ${now} and e.profile_id = any(${pageIds}::uuid[])
        group by e.profile_id`.execute(db),
      sql<{ profile_id: string; events_30d: string | number; active_days_90d: string | number; total: string | number; first_at: Date }>`
        select e.profile_id, min(e.timestamp) as first_at, count(*) filter (where e.timestamp >= ${since30}) as events_30d,
          count(distinct date_trunc('day', e.timestamp)) filter (where e.timestamp >= ${since90}) as active_days_90d, count(*) as total
        from events e where e.workspace_id = ${workspaceId} and e.timestamp <= ${now} and e.profile_id = any(${pageIds}::uuid[])
        group by e.profile_id`.execute(db),
      categories.length === 0
        ? Promise.resolve({ rows: [] as Array<{ profile_id: string; category: string; n: string | number }> })
        : sql<{ profile_id: string; category: string; n: string | number }>`
          select e.profile_id, c.category, count(distinct e.message_id) as n
          from events e ${ORDER_CATEGORIES}
          where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.timestamp <= ${now} and e.profile_id = any(${pageIds}::uuid[]) and c.category = any(${categories}::text[])
          group by 1, 2`.execute(db),
      sources.length === 0
        ? Promise.resolve({ rows: [] as Array<{ profile_id: string; source: string; n: string | number }> })
        : sql<{ profile_id: string; source: string; n: string | number }>`
          select e.profile_id, coalesce(s.name, e.source_id) as source, count(*) as n
          from events e left join sources s on s.workspace_id = e.workspace_id and s.id = e.source_id
          where e.workspace_id = ${workspaceId} and e.timestamp <= ${now} and e.profile_id = any(${pageIds}::uuid[]) and coalesce(s.name, e.source_id) = any(${sources}::text[])
          group by 1, 2`.execute(db),
      traits.length === 0
        ? Promise.resolve([] as Array<{ id: string; values: unknown[] }>)
        : db
            .selectFrom('profiles as p')
            .select(['p.id', sql<unknown[]>`jsonb_build_array(${sql.join(traits.map((t) => sql`p.traits -> ${t}`))})`.as('values')])
            .where('p.workspace_id', '=', workspaceId)
            .where('p.id', 'in', pageIds)
            .execute(),
      !wantsFeedback
        ? Promise.resolve({ rows: [] as Array<{ profile_id: string; nps_last: number | null; csat_avg: number | null; support_90d: string | number }> })
        : sql<{ profile_id: string; nps_last: number | null; csat_avg: number | null; support_90d: string | number }>`
          select e.profile_id,
            (array_agg(${NPS_ANSWER} order by e.timestamp desc) filter (where e.event = 'Survey Responded' and ${NPS_ANSWER} is not null))[1] as nps_last,
            avg(${CSAT_ANSWER}) filter (where e.event = 'Survey Responded') as csat_avg,
            count(*) filter (where e.event = any(${[...SUPPORT_EVENTS]}::text[]) and e.timestamp >= ${since90}) as support_90d
          from events e
          where e.workspace_id = ${workspaceId} and e.timestamp <= ${now} and e.profile_id = any(${pageIds}::uuid[]) and e.event = any(${['Survey Responded', ...SUPPORT_EVENTS]}::text[])
          group by e.profile_id`.execute(db),
    ]);
    const f = new Map(feedback.rows.map((r) => [r.profile_id, r]));
    const o = new Map(orders.rows.map((r) => [r.profile_id, r]));
    const a = new Map(activity.rows.map((r) => [r.profile_id, r]));
    const c = new Map<string, Map<string, number>>();
    for (const r of cats.rows) c.set(r.profile_id, (c.get(r.profile_id) ?? new Map()).set(r.category, Number(r.n)));
    const s = new Map<string, Map<string, number>>();
    for (const r of srcs.rows) s.set(r.profile_id, (s.get(r.profile_id) ?? new Map()).set(r.source, Number(r.n)));
    const t = new Map(traitRows.map((r) => [r.id, r.values]));
    for (const p of page) {
      ids.push(p.id);
      const ord = o.get(p.id);
      const act = a.get(p.id);
      const orderCount = Number(ord?.orders ?? 0);
      const eventCount = Number(act?.total ?? 0);
      seen.push(eventCount > 0 ? 1 : 0);
      for (const [name, column] of numeric) {
        let v: number;
        if (name.startsWith('category_share:')) v = orderCount > 0 ? (c.get(p.id)?.get(name.slice(15)) ?? 0) / orderCount : 0;
        else if (name.startsWith('source_share:')) v = eventCount > 0 ? (s.get(p.id)?.get(name.slice(13)) ?? 0) / eventCount : 0;
        else if (name === 'nps_last') v = f.get(p.id)?.nps_last ?? Number.NaN;
        else if (name === 'csat_avg') v = f.get(p.id)?.csat_avg ?? Number.NaN;
        else if (name === 'support_contacts_90d') v = Number(f.get(p.id)?.support_90d ?? 0);
        else v = behaviour(name as Exclude<BehaviourFeature, 'nps_last' | 'csat_avg' | 'support_contacts_90d'>, { ord, act, orderCount, firstSeen: act?.first_at ?? p.created_at, now });
        column.push(v);
      }
      const values = t.get(p.id) ?? [];
      traits.forEach((name, i) => traitValues.get(name)!.push(values[i] ?? null));
    }
    onProgress?.(ids.length);
  }
  const columns: FeatureColumn[] = [];
  for (const f of features) {
    if (f.startsWith('trait:')) columns.push(traitColumn(f, traitValues.get(f.slice(6))!));
    else columns.push({ name: f, kind: 'numeric', values: Float64Array.from(numeric.get(f)!) });
  }
  return { profileIds: ids, columns, seen: Uint8Array.from(seen) };
}

function behaviour(
  name: Exclude<BehaviourFeature, 'nps_last' | 'csat_avg' | 'support_contacts_90d'>,
  x: { ord: { last_at: Date; revenue: number; orders_90d: string | number } | undefined; act: { events_30d: string | number; active_days_90d: string | number } | undefined; orderCount: number; firstSeen: Date; now: Date },
): number {
  switch (name) {
    case 'recency_days':
      // Never ordered: as far back as the profile goes, so "long ago" and "never" sit together.
      return Math.max(0, (x.now.getTime() - (x.ord?.last_at ?? x.firstSeen).getTime()) / DAY);
    case 'frequency':
      return x.orderCount;
    case 'monetary':
      return Number(x.ord?.revenue ?? 0);
    case 'avg_order_value':
      return x.orderCount > 0 ? Number(x.ord?.revenue ?? 0) / x.orderCount : 0;
    case 'orders_90d':
      return Number(x.ord?.orders_90d ?? 0);
    case 'tenure_days':
      // From the first thing the profile did, not when the row was made: imported history is older than the import.
      return Math.max(0, (x.now.getTime() - x.firstSeen.getTime()) / DAY);
    case 'events_30d':
      return Number(x.act?.events_30d ?? 0);
    case 'active_days_90d':
      return Number(x.act?.active_days_90d ?? 0);
  }
}

const MAX_LEVELS = 30;

function traitColumn(name: string, values: unknown[]): FeatureColumn {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v)))
    return { name, kind: 'numeric', values: Float64Array.from(values, (v) => (typeof v === 'number' ? v : Number.NaN)) };
  const counts = new Map<string, number>();
  const text = values.map((v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v)));
  for (const v of text) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_LEVELS).map(([v]) => v);
  const levels = counts.size > MAX_LEVELS ? [...top, 'other'] : top;
  const index = new Map(levels.map((l, i) => [l, i]));
  const other = counts.size > MAX_LEVELS ? levels.length - 1 : -1;
  return { name, kind: 'categorical', levels, values: Int32Array.from(text, (v) => (v === null ? -1 : (index.get(v) ?? other))) };
}

/** The features a workspace can use: behaviour, its order categories and sources, and the traits its profiles have. */
export async function availableFeatures(db: Kysely<Schema>, workspaceId: string): Promise<{ behaviour: string[]; categories: string[]; sources: string[]; traits: string[] }> {
  const [categories, sources, traits] = await Promise.all([
    sql<{ category: string }>`select c.category from events e ${ORDER_CATEGORIES} where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and c.category is not null and c.category <> '' group by 1 order by count(*) desc limit 20`.execute(db),
    sql<{ name: string }>`select coalesce(s.name, e.source_id) as name from events e left join sources s on s.workspace_id = e.workspace_id and s.id = e.source_id where e.workspace_id = ${workspaceId} group by 1 order by count(*) desc limit 10`.execute(db),
    // A sample is enough to list the trait keys in use.
    sql<{ key: string }>`select k as key from (select p.traits from profiles p where p.workspace_id = ${workspaceId} and p.merged_into is null limit 5000) x, jsonb_object_keys(x.traits) k group by k order by count(*) desc limit 50`.execute(db),
  ]);
  return {
    behaviour: [...BEHAVIOUR_FEATURES],
    categories: categories.rows.map((r) => `category_share:${r.category}`),
    sources: sources.rows.map((r) => `source_share:${r.name}`),
    traits: traits.rows.map((r) => `trait:${r.key}`),
  };
}

/** Members of a segment, for a tree's target. */
export async function segmentMemberSet(db: Kysely<Schema>, workspaceId: string, segmentId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', workspaceId).where('segment_id', '=', segmentId).execute();
  return new Set(rows.map((r) => r.profile_id));
}

/** Every kept order (see keptOrders) up to `until`, as parallel arrays: whose (index into profileIds), when (days since 1970, fractional), how much. */
export interface OrderHistory {
  profileIds: string[];
  customer: Int32Array;
  day: Float64Array;
  amount: Float64Array;
}

export async function loadOrders(db: Kysely<Schema>, workspaceId: string, until: Date, onProgress?: (done: number) => void): Promise<OrderHistory> {
  const profileIds: string[] = [];
  const customer: number[] = [];
  const day: number[] = [];
  const amount: number[] = [];
  let seen = 0;
  for await (const page of livePages(db, workspaceId)) {
    const pageIds = page.map((p) => p.id);
    const { rows } = await sql<{ profile_id: string; timestamp: Date; amount: number }>`
      with ${keptOrders(workspaceId, pageIds)}
      select profile_id, timestamp, amount from kept where timestamp <= ${until} order by profile_id, timestamp`.execute(db);
    let last = '';
    for (const r of rows) {
      if (r.profile_id !== last) (profileIds.push(r.profile_id), (last = r.profile_id));
      customer.push(profileIds.length - 1);
      day.push(r.timestamp.getTime() / DAY);
      amount.push(Number(r.amount));
    }
    seen += page.length;
    onProgress?.(seen);
  }
  return { profileIds, customer: Int32Array.from(customer), day: Float64Array.from(day), amount: Float64Array.from(amount) };
}

/** The profiles among `profileIds` that did `event` in (from, to]: a model's label for "did it happen in the next N days". */
export async function profilesWithEvent(db: Kysely<Schema>, workspaceId: string, profileIds: readonly string[], event: string, from: Date, to: Date): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < profileIds.length; i += PAGE) {
    const page = profileIds.slice(i, i + PAGE);
    const { rows } = await sql<{ profile_id: string }>`
      select distinct e.profile_id from events e
      where e.workspace_id = ${workspaceId} and e.event = ${event} and e.timestamp > ${from} and e.timestamp <= ${to} and e.profile_id = any(${page}::uuid[])`.execute(db);
    for (const r of rows) found.add(r.profile_id);
  }
  return found;
}

/** What a basket holds: product names (else ids or SKUs), or the categories of the order and its products. */
export type BasketLevel = 'item' | 'category';

export interface BasketHistory {
  profileIds: string[];
  /** per basket, in profile then time order */
  customer: Int32Array;
  day: Float64Array;
  baskets: string[][];
}

/** An order event's (alias e) distinct items or categories, as a text[]. */
function basketItems(level: BasketLevel) {
  const products = sql`jsonb_array_elements(case when jsonb_typeof(e.properties -> 'products') = 'array' then e.properties -> 'products' else '[]'::jsonb end)`;
  return level === 'category'
    ? sql`array(select distinct x from unnest(array[e.properties ->> 'category'] || array(select item ->> 'category' from ${products} as item)) as x where x is not null and x <> '')`
    : sql`array(select distinct x from (select coalesce(item ->> 'name', item ->> 'product_id', item ->> 'sku') as x from ${products} as item) i where x is not null and x <> '')`;
}

/** Everything one profile has ordered, ever: what a recommendation must not offer again. */
export async function loadProfileItems(db: Kysely<Schema>, workspaceId: string, profileId: string, level: BasketLevel): Promise<string[]> {
  const { rows } = await sql<{ item: string }>`
    select distinct unnest(${basketItems(level)}) as item from events e
    where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.profile_id = ${profileId}::uuid`.execute(db);
  return rows.map((r) => r.item);
}

/** What each of many profiles has ordered, in one query: loadProfileItems for a campaign's batch. */
export async function loadManyProfileItems(db: Kysely<Schema>, workspaceId: string, profileIds: readonly string[], level: BasketLevel): Promise<Map<string, string[]>> {
  const { rows } = await sql<{ profile_id: string; item: string }>`
    select distinct e.profile_id::text as profile_id, unnest(${basketItems(level)}) as item from events e
    where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.profile_id = any(${[...profileIds]}::uuid[])`.execute(db);
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.profile_id);
    if (list) list.push(r.item);
    else out.set(r.profile_id, [r.item]);
  }
  return out;
}

/** The workspace's order baskets since `since`, a page of profiles at a time. Orders with nothing named in them are left out. */
export async function loadBaskets(db: Kysely<Schema>, workspaceId: string, since: Date, level: BasketLevel): Promise<BasketHistory> {
  const profileIds: string[] = [];
  const customer: number[] = [];
  const day: number[] = [];
  const baskets: string[][] = [];
  const items = basketItems(level);
  for await (const page of livePages(db, workspaceId)) {
    const pageIds = page.map((p) => p.id);
    const { rows } = await sql<{ profile_id: string; timestamp: Date; items: string[] }>`
      select e.profile_id, e.timestamp, ${items} as items from events e
      where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.timestamp >= ${since} and e.profile_id = any(${pageIds}::uuid[])
      order by e.profile_id, e.timestamp`.execute(db);
    let last = '';
    for (const r of rows) {
      if (r.items.length === 0) continue;
      if (r.profile_id !== last) (profileIds.push(r.profile_id), (last = r.profile_id));
      customer.push(profileIds.length - 1);
      day.push(r.timestamp.getTime() / DAY);
      baskets.push(r.items);
    }
  }
  return { profileIds, customer: Int32Array.from(customer), day: Float64Array.from(day), baskets };
}

/** One piece of feedback: a survey answer or unprompted feedback, with its text and scores when given. */
export interface FeedbackRow {
  profileId: string;
  at: Date;
  event: string;
  text: string | null;
  nps: number | null;
  csat: number | null;
  /** the sender's own classification (Feedback Submitted's feedback_type), when given */
  type: string | null;
}

export const FEEDBACK_EVENTS = ['Survey Responded', 'Feedback Submitted'] as const;

/** Feedback in (from, to], newest first, at most `limit` pieces. */
export async function loadFeedback(db: Kysely<Schema>, workspaceId: string, from: Date, to: Date, limit: number): Promise<FeedbackRow[]> {
  const { rows } = await sql<{ profile_id: string; timestamp: Date; event: string; text: string | null; nps: number | null; csat: number | null; type: string | null }>`
    select e.profile_id, e.timestamp, e.event,
      coalesce(e.properties ->> 'comment', e.properties ->> 'text', e.properties ->> 'feedback') as text,
      case when e.event = 'Survey Responded' then ${NPS_ANSWER} end as nps,
      case when e.event = 'Survey Responded' then ${CSAT_ANSWER} end as csat,
      e.properties ->> 'feedback_type' as type
    from events e join profiles p on p.workspace_id = e.workspace_id and p.id = e.profile_id and p.merged_into is null
    where e.workspace_id = ${workspaceId} and e.event = any(${[...FEEDBACK_EVENTS]}::text[]) and e.timestamp > ${from} and e.timestamp <= ${to}
      and ${notRestricted(sql`p.id`, workspaceId)}
    order by e.timestamp desc
    limit ${limit}`.execute(db);
  return rows.map((r) => ({ profileId: r.profile_id, at: r.timestamp, event: r.event, text: r.text, nps: r.nps === null ? null : Number(r.nps), csat: r.csat === null ? null : Number(r.csat), type: r.type }));
}
