import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Schema } from '../storage/schema.js';
import {
  addPeriods,
  assembleKpis,
  monthsBetween,
  NO_SURVEYS,
  periodBuckets,
  periodStart,
  type ChurnCounts,
  type CohortCell,
  type KpiCounts,
  type KpiResult,
  type Period,
  type SurveyCounts,
  type WindowCounts,
} from './kpis.js';
import { AMOUNT, CSAT_ANSWER, NPS_ANSWER } from './queries.js';

/**
 * The counting behind kpis.ts: one set-based statement per family of figures,
 * grouped by calendar bucket in SQL (date_trunc in UTC), never a loop over
 * profiles. Distinct counts (buyers, active customers) cannot be added up
 * across buckets, so those statements also group the whole range.
 */

const DAY = 86_400_000;


// Closed sets, so they can be spliced into the statement as they are.
const UNIT: Record<Period, RawBuilder<unknown>> = { day: sql.raw(`'day'`), week: sql.raw(`'week'`), month: sql.raw(`'month'`) };
const STEP: Record<Period, RawBuilder<unknown>> = { day: sql.raw(`interval '1 day'`), week: sql.raw(`interval '7 days'`), month: sql.raw(`interval '1 month'`) };

const truncated = (column: RawBuilder<unknown>, period: Period) => sql`date_trunc(${UNIT[period]}, ${column} at time zone 'UTC')`;
const keyOf = (column: RawBuilder<unknown>, period: Period) => sql`to_char(${truncated(column, period)}, 'YYYY-MM-DD')`;

export interface KpiQuery {
  /** first day, inclusive (midnight UTC) */
  from: Date;
  /** last day, inclusive (midnight UTC) */
  to: Date;
  period: Period;
  /** only current members of this segment */
  segmentId: string | null;
}

/** Live profiles, or the live members of a segment: every count below is over these. */
function members(workspaceId: string, segmentId: string | null) {
  const inSegment = segmentId === null ? sql`` : sql`and exists (select 1 from segment_members sm where sm.workspace_id = p.workspace_id and sm.segment_id = ${segmentId} and sm.profile_id = p.id)`;
  return sql`select p.id, p.created_at from profiles p where p.workspace_id = ${workspaceId} and p.merged_into is null ${inSegment}`;
}

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export async function segmentExists(db: Kysely<Schema>, workspaceId: string, segmentId: string): Promise<boolean> {
  return (await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('id', '=', segmentId).executeTakeFirst()) !== undefined;
}

/** Count everything kpis.ts needs for the range and its buckets. */
export async function loadKpiCounts(db: Kysely<Schema>, workspaceId: string, q: KpiQuery): Promise<KpiCounts> {
  const start = q.from;
  const end = new Date(q.to.getTime() + DAY);
  const people = members(workspaceId, q.segmentId);
  const t = sql.ref('t');

  // Orders, each numbered among its buyer's orders ever: a buyer whose order in a window is
  // number 2 or more has two orders by the window's end (the numbering runs over all time).
  // Grouped by bucket and by inside/outside the range: the outside group is "before the range".
  const orders = await sql<{ k: string | null; in_range: boolean | null; whole: number; orders: string; revenue: number | null; buyers: string; repeat_buyers: string; first_time: string }>`
    with m as (${people}),
    o as (
      select e.profile_id, e.timestamp as t, ${AMOUNT} as amount,
        row_number() over (partition by e.profile_id order by e.timestamp, e.message_id) as nth
      from events e join m on m.id = e.profile_id
      where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.timestamp < ${end}),
    w as (select o.*, case when t >= ${start} then ${keyOf(t, q.period)} end as k, t >= ${start} as in_range from o)
    select k, in_range, grouping(k) as whole, count(*) as orders, sum(amount) as revenue, count(distinct profile_id) as buyers,
      count(distinct profile_id) filter (where nth >= 2) as repeat_buyers, count(*) filter (where nth = 1) as first_time
    from w group by grouping sets ((k), (in_range))`.execute(db);

  // Activity is what a customer did (track, page, screen): an identify from a CRM import is not a visit.
  const active = await sql<{ k: string | null; active: string }>`
    with m as (${people}),
    a as (
      select e.profile_id, ${keyOf(sql.ref('e.timestamp'), q.period)} as k
      from events e join m on m.id = e.profile_id
      where e.workspace_id = ${workspaceId} and e.type in ('track', 'page', 'screen') and e.timestamp >= ${start} and e.timestamp < ${end})
    select k, count(distinct profile_id) as active from a group by grouping sets ((k), ())`.execute(db);

  // First seen: profiles are created when their first message is processed, which for
  // imported history is long after the customer appeared; their earliest event says when.
  const customers = await sql<{ k: string | null; customers: string }>`
    with m as (${people}),
    f as (
      select least(m.created_at, min(e.timestamp)) as t
      from m left join events e on e.workspace_id = ${workspaceId} and e.profile_id = m.id and e.timestamp < ${end}
      group by m.id, m.created_at)
    select case when t < ${start} then 'before' else ${keyOf(t, q.period)} end as k, count(*) as customers
    from f where t < ${end} group by 1`.execute(db);

  // Survey answers as queries.ts reads them everywhere.
  const surveys = await sql<{ k: string; promoters: string; passives: string; detractors: string; csat_satisfied: string; csat_responses: string }>`
    with m as (${people}),
    s as (
      select e.timestamp as t, ${NPS_ANSWER} as nps, ${CSAT_ANSWER} as csat
      from events e join m on m.id = e.profile_id
      where e.workspace_id = ${workspaceId} and e.event = 'Survey Responded' and e.timestamp >= ${start} and e.timestamp < ${end})
    select ${keyOf(t, q.period)} as k,
      count(*) filter (where nps >= 9) as promoters, count(*) filter (where nps >= 7 and nps < 9) as passives, count(*) filter (where nps < 7) as detractors,
      count(*) filter (where csat >= 4) as csat_satisfied, count(csat) as csat_responses
    from s group by 1`.execute(db);

  // Churn per bucket: buyers of each calendar period against the one after it. The period before
  // the first bucket counts whole; inside the range, only the range's days do.
  const firstPeriod = periodStart(start, q.period);
  const beforeFirst = addPeriods(firstPeriod, q.period, -1);
  const churnBuckets = await sql<{ k: string; previous_buyers: string; lost: string }>`
    with m as (${people}),
    b as (
      select distinct e.profile_id, ${truncated(sql.ref('e.timestamp'), q.period)} as p
      from events e join m on m.id = e.profile_id
      where e.workspace_id = ${workspaceId} and e.event = 'Order Completed'
        and ((e.timestamp >= ${beforeFirst} and e.timestamp < ${firstPeriod}) or (e.timestamp >= ${start} and e.timestamp < ${end})))
    -- A buyer is lost when their next buying period is not the one right after (a window, not a self-join: linear).
    select to_char(p + ${STEP[q.period]}, 'YYYY-MM-DD') as k, count(*) as previous_buyers,
      count(*) filter (where next_p is distinct from p + ${STEP[q.period]}) as lost
    from (select p, lead(p) over (partition by profile_id order by p) as next_p from b) x
    group by p`.execute(db);

  // Churn of the whole range: against the window of the same length just before it.
  const previousStart = new Date(start.getTime() - (end.getTime() - start.getTime()));
  const churnTotal = await sql<{ previous_buyers: string; lost: string }>`
    with m as (${people}),
    o as (
      select e.profile_id, e.timestamp >= ${start} as in_range
      from events e join m on m.id = e.profile_id
      where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.timestamp >= ${previousStart} and e.timestamp < ${end})
    select count(distinct profile_id) filter (where not in_range) as previous_buyers,
      count(distinct profile_id) filter (where not in_range and profile_id not in (select profile_id from o where in_range)) as lost
    from o`.execute(db);

  const predicted = await sql<{ mean: number | null }>`
    with m as (${people})
    select avg(s.value) as mean from profile_scores s join m on m.id = s.profile_id
    where s.workspace_id = ${workspaceId} and s.name = 'clv' and s.value is not null`.execute(db);

  // Cohorts by the month of the first order ever; retention counts whole calendar months.
  const firstMonth = periodStart(start, 'month');
  const cohorts = await sql<{ cohort: string; months_after: string | number; customers: string }>`
    with m as (${people}),
    o as (
      select distinct e.profile_id, date_trunc('month', e.timestamp at time zone 'UTC') as month
      from events e join m on m.id = e.profile_id
      where e.workspace_id = ${workspaceId} and e.event = 'Order Completed' and e.timestamp < ${end}),
    f as (select month, min(month) over (partition by profile_id) as cohort from o)
    select to_char(cohort, 'YYYY-MM') as cohort,
      ((extract(year from month) - extract(year from cohort)) * 12 + extract(month from month) - extract(month from cohort))::int as months_after,
      count(*) as customers
    from f
    where cohort >= ${firstMonth.toISOString().slice(0, 10)}::timestamp
    group by 1, 2`.execute(db);

  const buckets = new Map<string, WindowCounts>();
  const window = (k: string): WindowCounts => {
    let w = buckets.get(k);
    if (!w) buckets.set(k, (w = { orders: 0, revenue: 0, buyers: 0, repeatBuyers: 0, firstTimeBuyers: 0, active: 0, newCustomers: 0, survey: { ...NO_SURVEYS } }));
    return w;
  };
  const total: WindowCounts = { orders: 0, revenue: 0, buyers: 0, repeatBuyers: 0, firstTimeBuyers: 0, active: 0, newCustomers: 0, survey: { ...NO_SURVEYS } };
  const before = { customers: 0, buyers: 0, revenue: 0 };
  for (const r of orders.rows) {
    const figures = { orders: n(r.orders), revenue: n(r.revenue), buyers: n(r.buyers), repeatBuyers: n(r.repeat_buyers), firstTimeBuyers: n(r.first_time) };
    if (n(r.whole) === 0) {
      if (r.k !== null) Object.assign(window(r.k), figures);
    } else if (r.in_range) Object.assign(total, figures);
    else if (r.in_range === false) {
      before.buyers = figures.firstTimeBuyers;
      before.revenue = figures.revenue;
    }
  }
  for (const r of active.rows) {
    if (r.k === null) total.active = n(r.active);
    else window(r.k).active = n(r.active);
  }
  for (const r of customers.rows) {
    if (r.k === 'before') before.customers = n(r.customers);
    else if (r.k !== null) {
      window(r.k).newCustomers = n(r.customers);
      total.newCustomers += n(r.customers);
    }
  }
  for (const r of surveys.rows) {
    const s: SurveyCounts = { promoters: n(r.promoters), passives: n(r.passives), detractors: n(r.detractors), csatSatisfied: n(r.csat_satisfied), csatResponses: n(r.csat_responses) };
    window(r.k).survey = s;
    for (const key of Object.keys(s) as Array<keyof SurveyCounts>) total.survey[key] += s[key];
  }
  const churn = new Map<string, ChurnCounts>(churnBuckets.rows.map((r) => [r.k, { previousBuyers: n(r.previous_buyers), lost: n(r.lost) }]));
  const ct = churnTotal.rows[0];
  const mean = predicted.rows[0]?.mean;
  const cells: CohortCell[] = cohorts.rows.map((r) => ({ cohort: r.cohort, monthsAfter: n(r.months_after), customers: n(r.customers) }));
  return {
    total,
    buckets,
    before,
    churn: { total: { previousBuyers: n(ct?.previous_buyers), lost: n(ct?.lost) }, buckets: churn },
    predictedCltv: mean === null || mean === undefined ? null : Number(mean),
    cohorts: cells,
  };
}

/** The KPIs of a range: counted here, defined in kpis.ts. */
export async function computeKpis(db: Kysely<Schema>, workspaceId: string, q: KpiQuery): Promise<KpiResult> {
  const counts = await loadKpiCounts(db, workspaceId, q);
  return assembleKpis(periodBuckets(q.from, q.to, q.period), counts, monthsBetween(q.from, q.to));
}

/** Every segment with its current live members, largest first. */
export async function segmentSizes(db: Kysely<Schema>, workspaceId: string): Promise<Array<{ id: string; name: string; size: number }>> {
  const { rows } = await sql<{ id: string; name: string; size: string }>`
    select s.id, s.name, count(p.id) as size
    from segments s
    left join segment_members sm on sm.workspace_id = s.workspace_id and sm.segment_id = s.id
    left join profiles p on p.workspace_id = sm.workspace_id and p.id = sm.profile_id and p.merged_into is null
    where s.workspace_id = ${workspaceId}
    group by s.id, s.name order by count(p.id) desc, s.name`.execute(db);
  return rows.map((r) => ({ id: r.id, name: r.name, size: n(r.size) }));
}

/** A 0…1 score (churn_risk) in ten bins of 0.1, the top edge in the last; null when no profile has it. */
export async function scoreDeciles(db: Kysely<Schema>, workspaceId: string, name: string): Promise<{ profiles: number; mean: number; bins: number[] } | null> {
  const { rows } = await sql<{ bin: number; profiles: string; total: number }>`
    select least(9, floor(s.value * 10))::int as bin, count(*) as profiles, sum(s.value) as total
    from profile_scores s join profiles p on p.workspace_id = s.workspace_id and p.id = s.profile_id and p.merged_into is null
    where s.workspace_id = ${workspaceId} and s.name = ${name} and s.value between 0 and 1
    group by 1`.execute(db);
  if (rows.length === 0) return null;
  const bins = new Array<number>(10).fill(0);
  let sum = 0;
  for (const r of rows) {
    bins[Number(r.bin)] = n(r.profiles);
    sum += Number(r.total);
  }
  const profiles = bins.reduce((a, b) => a + b, 0);
  return { profiles, mean: sum / profiles, bins };
}
