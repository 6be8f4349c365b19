import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CampaignRoiSource, PeriodRoi, RoiPeriod } from '../analytics/kpis.js';
import { AMOUNT } from '../analytics/queries.js';
import type { Schema } from '../storage/schema.js';
import { SKIP_REASONS } from './campaign.js';
import { campaignCost, conversionRate, incremental, measureUplift, returnOnCost, type ArmCounts, type Uplift } from './uplift.js';

/**
 * What a campaign reached and what it earned: the outbox counts, conversions
 * of the treatment and control arms with their uplift, last-touch attributed
 * revenue, cost and return. Definitions: docs/attribution.md.
 *
 * Every figure is set-based SQL over the campaign's outbox rows, a handful of
 * queries whatever the audience size. Events were re-pointed to the survivor
 * when profiles merged, so a send's person is found through
 * `coalesce(merged_into, id)` (merges flatten merged_into to the live profile).
 * The report is aggregates only: restricted and erased people are counted,
 * none is named.
 */

const DAY = 86_400_000;

export interface ArmReport {
  /** treatment: people sent the message; control: people held out */
  people: number;
  /** of them, those with an order in their attribution window */
  converted: number;
  /** converted / people; null for an empty arm */
  rate: number | null;
  /** the revenue of those orders */
  revenue: number;
}

export interface CampaignReport {
  campaignId: string;
  name: string;
  channel: string;
  status: string;
  currency: string;
  attributionDays: number;
  counts: {
    /** every outbox row of the campaign, both arms */
    queued: number;
    pending: number;
    sending: number;
    sent: number;
    failed: number;
    skipped: number;
    control: number;
    /** skipped rows by reason: every known reason (0 when none) and any other reason found */
    skippedByReason: Record<string, number>;
    /** delivery attempts recorded (send_attempts rows) */
    attempts: number;
  };
  conversions: {
    treatment: ArmReport;
    control: ArmReport | null;
    uplift: Uplift | null;
    incrementalConversions: number | null;
    incrementalRevenue: number | null;
  };
  attribution: { model: 'last-touch'; orders: number; revenue: number };
  cost: number;
  /** (attributed revenue − cost) / cost */
  roi: number | null;
  /** (incremental revenue − cost) / cost */
  roiIncremental: number | null;
  notes: string[];
  series: Array<{ day: string; sent: number; orders: number; revenue: number }>;
  computedAt: string;
}

type Db = Kysely<Schema>;

/**
 * A window's length as days of 24 hours: `interval '1 day'` added to a timestamptz is a calendar day
 * of the session's time zone (23 or 25 hours across a DST change), which would make the answer
 * depend on the connection's settings.
 */
const windowLength = (days: number) => sql`${days * 24}::int * interval '1 hour'`;
/** The same length from a column of days (a campaign's attribution_days). */
const windowOf = (days: RawBuilder<unknown>) => sql`(${days} * 24) * interval '1 hour'`;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const dayText = (d: Date): string => d.toISOString().slice(0, 10);

async function outboxCounts(db: Db, workspaceId: string, campaignId: string) {
  const { rows } = await sql<{ status: string; reason: string | null; n: number }>`
    select status, reason, count(*)::int as n from campaign_sends
    where workspace_id = ${workspaceId} and campaign_id = ${campaignId}
    group by status, reason`.execute(db);
  const { rows: attempts } = await sql<{ n: number }>`
    select count(*)::int as n from send_attempts where workspace_id = ${workspaceId} and campaign_id = ${campaignId}`.execute(db);
  const counts: CampaignReport['counts'] = {
    queued: 0,
    pending: 0,
    sending: 0,
    sent: 0,
    failed: 0,
    skipped: 0,
    control: 0,
    skippedByReason: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])),
    attempts: num(attempts[0]?.n),
  };
  for (const r of rows) {
    const n = num(r.n);
    counts.queued += n;
    if (r.status === 'pending' || r.status === 'sending' || r.status === 'sent' || r.status === 'failed' || r.status === 'skipped' || r.status === 'control') counts[r.status] += n;
    if (r.status === 'skipped') {
      // A reason the outbox writes that this list does not know yet still shows, rather than vanishing.
      const reason = r.reason ?? 'unknown';
      counts.skippedByReason[reason] = (counts.skippedByReason[reason] ?? 0) + n;
    }
  }
  return counts;
}

/**
 * The span any window of the campaign covers: from the first reference time
 * to the last one's window end (capped at now). Passed to the order queries
 * as constants so PostgreSQL reads only that slice of the workspace's orders
 * (events_name_time) instead of hashing every order ever placed.
 */
async function windowSpan(db: Db, workspaceId: string, campaignId: string, days: number, now: Date): Promise<Span | null> {
  const { rows } = await sql<{ first: Date | null; last: Date | null }>`
    select min(ref) as first, max(ref) as last from (
      select case when arm = 'control' then queued_at else sent_at end as ref from campaign_sends
      where workspace_id = ${workspaceId} and campaign_id = ${campaignId} and (arm = 'control' or (status = 'sent' and sent_at is not null))) r`.execute(db);
  const first = rows[0]?.first;
  const last = rows[0]?.last;
  if (!first || !last) return null;
  const end = Math.min(new Date(last).getTime() + days * DAY, now.getTime());
  return { after: new Date(first), until: new Date(end) };
}

/** Orders strictly after `after`, up to and including `until`. */
interface Span {
  after: Date;
  until: Date;
}

/**
 * Each person of the campaign with their reference time: treatment rows that
 * were sent (at sent_at), and control rows (at queued_at, when they would
 * have been sent). Their orders in (reference, reference + days], up to now.
 */
async function armConversions(db: Db, workspaceId: string, campaignId: string, days: number, span: Span) {
  const { rows } = await sql<{ arm: string; people: number; converted: number; revenue: number | null; window_end: Date | null }>`
    with mine as (
      select cs.profile_id, cs.arm, coalesce(p.merged_into, cs.profile_id) as live,
        case when cs.arm = 'control' then cs.queued_at else cs.sent_at end as ref
      from campaign_sends cs
      left join profiles p on p.workspace_id = cs.workspace_id and p.id = cs.profile_id
      where cs.workspace_id = ${workspaceId} and cs.campaign_id = ${campaignId}
        and (cs.arm = 'control' or (cs.status = 'sent' and cs.sent_at is not null))),
    per_person as (
      select m.arm, m.profile_id, max(m.ref) as ref, count(e.message_id) as orders, coalesce(sum(${AMOUNT}), 0) as revenue
      from mine m
      left join events e on e.workspace_id = ${workspaceId} and e.profile_id = m.live and e.event = 'Order Completed'
        and e.timestamp > m.ref and e.timestamp <= m.ref + ${windowLength(days)}
        and e.timestamp > ${span.after}::timestamptz and e.timestamp <= ${span.until}::timestamptz
      group by m.arm, m.profile_id)
    select arm, count(*)::int as people, (count(*) filter (where orders > 0))::int as converted, sum(revenue)::float8 as revenue,
      max(ref) + ${windowLength(days)} as window_end
    from per_person group by arm`.execute(db);
  const arm = (name: string): ArmCounts & { revenue: number; windowEnd: Date | null } => {
    const r = rows.find((x) => x.arm === name);
    return { people: num(r?.people), converted: num(r?.converted), revenue: num(r?.revenue), windowEnd: r?.window_end ? new Date(r.window_end) : null };
  };
  return { treatment: arm('treatment'), control: arm('control') };
}

const NO_ONE: Awaited<ReturnType<typeof armConversions>> = {
  treatment: { people: 0, converted: 0, revenue: 0, windowEnd: null },
  control: { people: 0, converted: 0, revenue: 0, windowEnd: null },
};

/**
 * Last touch, the one rule every campaign figure uses (docs/attribution.md):
 * an order's touch is the latest sent message of any campaign to the person
 * at or before the order (sends to profiles merged into the buyer since
 * count as theirs; ties on sent_at go to the greater campaign id, so the
 * answer does not depend on the plan), and the order is attributed to that
 * campaign when it falls inside that campaign's window of the send.
 *
 * `candidates` is a statement giving orders as (message_id, live, timestamp,
 * amount), live being the buyer's live profile. Only orders inside some
 * send's window can qualify, so callers narrow to those first and only
 * their people's other sends are looked at. The result is the CTEs
 * `candidates`, `buyers`, `related`, `touch` and `attributed` (message_id,
 * timestamp, amount, campaign_id, sent_at), to follow `with`.
 */
export function lastTouchCtes(workspaceId: string, candidates: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    candidates as (${candidates}),
    buyers as (select distinct live from candidates),
    -- A person's sends may name profiles merged into them since.
    related as (
      select live as id, live from buyers
      union
      select p.id, p.merged_into from profiles p
      where p.workspace_id = ${workspaceId} and p.merged_into in (select live from buyers)),
    touch as (
      select distinct on (c.message_id) c.message_id, c.timestamp, c.amount, cs.campaign_id, cs.sent_at
      from candidates c
      join related r on r.live = c.live
      join campaign_sends cs on cs.workspace_id = ${workspaceId} and cs.profile_id = r.id and cs.status = 'sent' and cs.sent_at <= c.timestamp
      order by c.message_id, cs.sent_at desc, cs.campaign_id desc),
    attributed as (
      select t.* from touch t
      join campaigns cp on cp.workspace_id = ${workspaceId} and cp.id = t.campaign_id
      where t.timestamp > t.sent_at and t.timestamp <= t.sent_at + ${windowOf(sql.ref('cp.attribution_days'))})`;
}

/** Orders attributed to this campaign by last touch, per UTC day of the order. */
async function lastTouch(db: Db, workspaceId: string, campaignId: string, days: number, span: Span) {
  const candidates = sql`
    select distinct e.message_id, e.profile_id as live, e.timestamp, ${AMOUNT} as amount
    from mine m
    join events e on e.workspace_id = ${workspaceId} and e.profile_id = m.live and e.event = 'Order Completed'
      and e.timestamp > m.sent_at and e.timestamp <= m.sent_at + ${windowLength(days)}
      and e.timestamp > ${span.after}::timestamptz and e.timestamp <= ${span.until}::timestamptz`;
  const { rows } = await sql<{ day: string; orders: number; revenue: number | null }>`
    with mine as (
      select distinct coalesce(p.merged_into, cs.profile_id) as live, cs.sent_at
      from campaign_sends cs
      left join profiles p on p.workspace_id = cs.workspace_id and p.id = cs.profile_id
      where cs.workspace_id = ${workspaceId} and cs.campaign_id = ${campaignId} and cs.status = 'sent' and cs.sent_at is not null),
    ${lastTouchCtes(workspaceId, candidates)}
    select to_char(timestamp at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as orders, sum(amount)::float8 as revenue
    from attributed
    where campaign_id = ${campaignId}
    group by 1 order by 1`.execute(db);
  return rows.map((r) => ({ day: r.day, orders: num(r.orders), revenue: num(r.revenue) }));
}

async function sentPerDay(db: Db, workspaceId: string, campaignId: string) {
  const { rows } = await sql<{ day: string; sent: number }>`
    select to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as sent
    from campaign_sends
    where workspace_id = ${workspaceId} and campaign_id = ${campaignId} and status = 'sent' and sent_at is not null
    group by 1 order by 1`.execute(db);
  return rows.map((r) => ({ day: r.day, sent: num(r.sent) }));
}

/** Every UTC day from the first to the last that has anything, so a chart's gaps are real zeros. */
function dailySeries(sent: Array<{ day: string; sent: number }>, attributed: Array<{ day: string; orders: number; revenue: number }>): CampaignReport['series'] {
  const byDay = new Map<string, { day: string; sent: number; orders: number; revenue: number }>();
  const at = (day: string) => {
    let row = byDay.get(day);
    if (!row) byDay.set(day, (row = { day, sent: 0, orders: 0, revenue: 0 }));
    return row;
  };
  for (const s of sent) at(s.day).sent += s.sent;
  for (const a of attributed) Object.assign(at(a.day), { orders: a.orders, revenue: a.revenue });
  const days = [...byDay.keys()].sort();
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += DAY) at(dayText(new Date(t)));
  return [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/**
 * The report of one campaign, as of `now`: orders after `now` are not
 * counted, and windows still open are named in `notes`. Null when the
 * workspace has no such campaign.
 */
export async function campaignReport(db: Db, workspaceId: string, campaignId: string, now: Date = new Date()): Promise<CampaignReport | null> {
  const campaign = await db
    .selectFrom('campaigns')
    .select(['id', 'name', 'channel', 'status', 'currency', 'attribution_days', 'cost_per_message', 'fixed_cost'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', campaignId)
    .executeTakeFirst();
  if (!campaign) return null;
  const days = campaign.attribution_days;
  const span = await windowSpan(db, workspaceId, campaignId, days, now);
  const [counts, arms, attributed, sent] = await Promise.all([
    outboxCounts(db, workspaceId, campaignId),
    span ? armConversions(db, workspaceId, campaignId, days, span) : NO_ONE,
    span ? lastTouch(db, workspaceId, campaignId, days, span) : [],
    sentPerDay(db, workspaceId, campaignId),
  ]);
  const notes: string[] = [];

  const treatment = arms.treatment;
  const hasControl = arms.control.people > 0;
  const control = hasControl ? arms.control : null;
  const measured = measureUplift(treatment, control);
  notes.push(...measured.notes);
  const tRate = conversionRate(treatment);
  const cRate = control ? conversionRate(control) : null;
  const canCompare = measured.uplift !== null && tRate !== null && cRate !== null && control !== null;
  const incrementalConversions = canCompare ? incremental(tRate, cRate, treatment.people) : null;
  const incrementalRevenue = canCompare ? incremental(treatment.revenue / treatment.people, control.revenue / control.people, treatment.people) : null;
  if (canCompare && counts.skipped + counts.failed + counts.pending + counts.sending > 0) {
    notes.push(
      'uplift: the treatment rate counts only people the message reached, while the control group holds everyone held out, including people who would have been skipped or not reached; when those differ from the rest, uplift is biased (usually upwards)',
    );
  }

  const attributedOrders = attributed.reduce((s, r) => s + r.orders, 0);
  const attributedRevenue = attributed.reduce((s, r) => s + r.revenue, 0);
  const cost = campaignCost(campaign.fixed_cost, campaign.cost_per_message, counts.sent);
  const roi = returnOnCost(attributedRevenue, cost);
  const roiIncremental = incrementalRevenue === null ? null : returnOnCost(incrementalRevenue, cost);
  if (cost <= 0) notes.push('roi, roiIncremental: the campaign has no cost (fixed cost and cost per message are 0), so return on cost is undefined (null)');
  else if (incrementalRevenue === null) notes.push('roiIncremental: needs incremental revenue, which needs a control group; roi counts every attributed order, including those that would have happened anyway');

  const openUntil = [treatment.windowEnd, control?.windowEnd ?? null].filter((d): d is Date => d !== null && d.getTime() > now.getTime());
  if (openUntil.length > 0) {
    const last = new Date(Math.max(...openUntil.map((d) => d.getTime())));
    notes.push(`attribution windows are still open until ${last.toISOString()}: conversions and attributed revenue may still grow`);
  }

  return {
    campaignId: campaign.id,
    name: campaign.name,
    channel: campaign.channel,
    status: campaign.status,
    currency: campaign.currency,
    attributionDays: days,
    counts,
    conversions: {
      treatment: { people: treatment.people, converted: treatment.converted, rate: tRate, revenue: treatment.revenue },
      control: control ? { people: control.people, converted: control.converted, rate: cRate, revenue: control.revenue } : null,
      uplift: measured.uplift,
      incrementalConversions,
      incrementalRevenue,
    },
    attribution: { model: 'last-touch', orders: attributedOrders, revenue: attributedRevenue },
    cost,
    roi,
    roiIncremental,
    notes,
    series: dailySeries(sent, attributed),
    computedAt: now.toISOString(),
  };
}

export interface CampaignRoiOptions {
  /** only orders of, and messages to, current live members of this segment (as the KPI's `segment`) */
  segmentId?: string | null;
  /** orders after this instant do not count yet, as in campaignReport */
  now?: Date;
}

/**
 * The return on all campaigns of each window [from, to): revenue of the
 * window's orders attributed by last touch (lastTouchCtes) to any campaign,
 * against what campaigns cost in the window: cost per message for every
 * message sent in it, and a campaign's fixed cost in the window of its first
 * sent message. Over windows that tile time, revenue and cost add up to the
 * campaign reports' attributed revenue and cost (a campaign that never sent
 * anything is charged nowhere). With a segment, only its members' orders
 * and messages count, and a fixed cost only for the share of the campaign's
 * messages that went to them. Definitions: docs/attribution.md.
 */
export async function campaignRoiByPeriod(db: Db, workspaceId: string, periods: readonly RoiPeriod[], options: CampaignRoiOptions = {}): Promise<Map<string, PeriodRoi>> {
  const out = new Map<string, PeriodRoi>();
  if (periods.length === 0) return out;
  const totals = new Map<string, { revenue: number; cost: number; sent: number }>(periods.map((p) => [p.key, { revenue: 0, cost: 0, sent: 0 }]));
  const lo = new Date(Math.min(...periods.map((p) => p.from.getTime())));
  const hi = new Date(Math.max(...periods.map((p) => p.to.getTime())));
  const now = options.now ?? new Date();
  const segmentId = options.segmentId ?? null;
  const windows = sql`(values ${sql.join(periods.map((p) => sql`(${p.key}::text, ${p.from}::timestamptz, ${p.to}::timestamptz)`))}) as w(k, from_t, to_t)`;
  const members = sql`
    select sm.profile_id from segment_members sm
    join profiles mp on mp.workspace_id = sm.workspace_id and mp.id = sm.profile_id and mp.merged_into is null
    where sm.workspace_id = ${workspaceId} and sm.segment_id = ${segmentId}`;
  const live = sql`coalesce(p.merged_into, cs.profile_id)`;
  const isMember = segmentId === null ? sql`true` : sql`${live} in (${members})`;

  // Every order inside some sent message's window is a candidate; lastTouchCtes decides whose it is.
  const candidates = sql`
    select distinct e.message_id, e.profile_id as live, e.timestamp, ${AMOUNT} as amount
    from sent s
    join events e on e.workspace_id = ${workspaceId} and e.profile_id = s.live and e.event = 'Order Completed'
      and e.timestamp > s.sent_at and e.timestamp <= s.sent_at + ${windowOf(sql.ref('s.days'))}
      and e.timestamp >= ${lo}::timestamptz and e.timestamp < ${hi}::timestamptz and e.timestamp <= ${now}::timestamptz
    where s.member`;
  const revenue = await sql<{ k: string; revenue: number | null }>`
    with sent as (
      select distinct ${live} as live, cs.sent_at, cp.attribution_days as days, ${isMember} as member
      from campaign_sends cs
      join campaigns cp on cp.workspace_id = cs.workspace_id and cp.id = cs.campaign_id
      left join profiles p on p.workspace_id = cs.workspace_id and p.id = cs.profile_id
      where cs.workspace_id = ${workspaceId} and cs.status = 'sent' and cs.sent_at is not null and cs.sent_at < ${hi}::timestamptz),
    ${lastTouchCtes(workspaceId, candidates)}
    select w.k, sum(a.amount)::float8 as revenue
    from attributed a join ${windows} on a.timestamp >= w.from_t and a.timestamp < w.to_t
    group by w.k`.execute(db);

  const cost = await sql<{ k: string; cost: number | null; sent: number }>`
    with sends as (
      select cs.campaign_id, cs.sent_at, ${isMember} as member
      from campaign_sends cs
      left join profiles p on p.workspace_id = cs.workspace_id and p.id = cs.profile_id
      where cs.workspace_id = ${workspaceId} and cs.status = 'sent' and cs.sent_at is not null),
    firsts as (
      select campaign_id, min(sent_at) as first_at, count(*)::float8 as sent, (count(*) filter (where member))::float8 as member_sent
      from sends group by campaign_id),
    per_message as (
      select w.k, sum(cp.cost_per_message) as cost, count(*)::int as sent
      from sends s
      join campaigns cp on cp.workspace_id = ${workspaceId} and cp.id = s.campaign_id
      join ${windows} on s.sent_at >= w.from_t and s.sent_at < w.to_t
      where s.member group by w.k),
    fixed as (
      select w.k, sum(cp.fixed_cost * f.member_sent / f.sent) as cost
      from firsts f
      join campaigns cp on cp.workspace_id = ${workspaceId} and cp.id = f.campaign_id
      join ${windows} on f.first_at >= w.from_t and f.first_at < w.to_t
      group by w.k)
    select k, sum(cost)::float8 as cost, sum(sent)::int as sent
    from (select k, cost, sent from per_message union all select k, cost, 0 from fixed) x
    group by k`.execute(db);

  for (const r of revenue.rows) {
    const t = totals.get(r.k);
    if (t) t.revenue = num(r.revenue);
  }
  for (const r of cost.rows) {
    const t = totals.get(r.k);
    if (t) Object.assign(t, { cost: num(r.cost), sent: num(r.sent) });
  }
  for (const [key, t] of totals) out.set(key, { ...t, roi: returnOnCost(t.revenue, t.cost) });
  return out;
}

/** campaignRoiByPeriod for one workspace, as the monthly report (analytics, which may not import activate) takes it. */
export function campaignRoiSource(db: Db, workspaceId: string, options: CampaignRoiOptions = {}): CampaignRoiSource {
  return (periods) => campaignRoiByPeriod(db, workspaceId, periods, options);
}
