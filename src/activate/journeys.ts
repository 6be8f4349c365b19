import { sql, type Kysely, type Transaction } from 'kysely';
import { memberIdsQuery } from '../segments/compile.js';
import { tagReferences, type Rule } from '../segments/rule.js';
import { liveProfileId, mergedProfileIds } from '../storage/live-profile.js';
import type { JourneyStepTable, Schema } from '../storage/schema.js';
import type { Schedule, TriggerCondition } from './campaign.js';
import { armOf } from './holdout.js';
import { enqueueProfiles } from './outbox.js';
import { eventMatches } from './trigger-match.js';

/**
 * Triggered campaigns, the simplest useful journey: a trigger (an event, or
 * entering a segment) puts a person in the journey once per campaign; after
 * the wait, the audience and the condition are checked, and those who pass
 * are queued in the outbox. Every step a person takes is a journey_steps row.
 *
 * Enrolment from events runs inside the pipeline's batch transaction; the
 * segment cursor and the wake-up are scheduled jobs (the worker's schedule).
 */

export type JourneyStep = JourneyStepTable['step'];
export const JOURNEY_STEPS = ['triggered', 'condition_met', 'condition_failed', 'queued', 'skipped'] as const satisfies readonly JourneyStep[];

/** The checks made at wake time, as named in a condition_failed step's `failed`. */
export type JourneyCheck = 'audience' | 'rule' | 'not_performed';

/**
 * An event older than this when it is processed starts no journey: a
 * backfill of last year's carts must not send this year's reminders. A day
 * still covers SDKs that queue events offline and deliver them late.
 */
export const MAX_TRIGGER_AGE_MS = 24 * 60 * 60 * 1000;

export interface TriggerEvent {
  profileId: string;
  event: string | null;
  properties: Record<string, unknown>;
  messageId: string;
  /** when it happened (ISO) */
  timestamp: string;
}

type TriggeredSchedule = Extract<Schedule, { kind: 'triggered' }>;

/** A stored schedule, if it is a triggered one; the store validates on save, this guards against what slipped past. */
function triggeredOf(schedule: unknown): TriggeredSchedule | null {
  if (typeof schedule !== 'object' || schedule === null) return null;
  const s = schedule as Partial<TriggeredSchedule> & { kind?: unknown };
  if (s.kind !== 'triggered' || typeof s.trigger !== 'object' || s.trigger === null) return null;
  return { kind: 'triggered', trigger: s.trigger, waitMinutes: typeof s.waitMinutes === 'number' ? s.waitMinutes : 0, ...(s.condition ? { condition: s.condition } : {}) };
}

interface NewEntry {
  campaignId: string;
  profileId: string;
  triggeredAt: Date;
  wakeAt: Date;
  trigger: Record<string, unknown>;
}

// 7 parameters a row: 2,000 rows stay well under PostgreSQL's 65,535.
const ENTER_CHUNK = 2000;

/**
 * Insert journey entries, once per (campaign, person): an entry that exists
 * is left as it is, waiting or done, so a trigger firing again never starts a
 * second journey. Only entries made here get a `triggered` step.
 */
async function enter(db: Kysely<Schema>, workspaceId: string, entries: readonly NewEntry[], now: Date): Promise<number> {
  let made = 0;
  // A batch of 500 events matching many campaigns would pass that bound in one statement.
  for (let i = 0; i < entries.length; i += ENTER_CHUNK) made += await enterChunk(db, workspaceId, entries.slice(i, i + ENTER_CHUNK), now);
  return made;
}

async function enterChunk(db: Kysely<Schema>, workspaceId: string, entries: readonly NewEntry[], now: Date): Promise<number> {
  const made = await db
    .insertInto('journey_entries')
    .values(entries.map((e) => ({
      workspace_id: workspaceId,
      campaign_id: e.campaignId,
      profile_id: e.profileId,
      triggered_at: e.triggeredAt,
      wake_at: e.wakeAt,
      trigger: JSON.stringify(e.trigger),
      status: 'waiting' as const,
    })))
    .onConflict((oc) => oc.columns(['workspace_id', 'campaign_id', 'profile_id']).doNothing())
    .returning(['campaign_id', 'profile_id'])
    .execute();
  if (made.length === 0) return 0;
  const byKey = new Map(entries.map((e) => [`${e.campaignId}\u0000${e.profileId}`, e]));
  await db
    .insertInto('journey_steps')
    .values(made.map((m) => {
      const entry = byKey.get(`${m.campaign_id}\u0000${m.profile_id}`);
      return {
        workspace_id: workspaceId,
        campaign_id: m.campaign_id,
        profile_id: m.profile_id,
        step: 'triggered' as const,
        at: now,
        details: JSON.stringify({ ...entry?.trigger, wakeAt: entry?.wakeAt.toISOString() }),
      };
    }))
    .execute();
  return made.length;
}

/** Earliest trigger per (campaign, person): the journey starts at the first time it fired. */
function keepEarliest(entries: NewEntry[]): NewEntry[] {
  const first = new Map<string, NewEntry>();
  for (const e of entries) {
    const key = `${e.campaignId}\u0000${e.profileId}`;
    const had = first.get(key);
    if (!had || e.triggeredAt < had.triggeredAt) first.set(key, e);
  }
  return [...first.values()];
}

const wakeAfter = (now: Date, waitMinutes: number) => new Date(now.getTime() + Math.max(0, waitMinutes) * 60_000);

/**
 * Put the people of a pipeline batch's events into the journeys their events
 * trigger; called inside the batch transaction, after segments are refreshed.
 * One query finds the workspace's active event-triggered campaigns; with none,
 * that is all it costs. A campaign's audience is checked at wake time, not here.
 */
export async function enrollFromEvents(tx: Kysely<Schema>, workspaceId: string, events: ReadonlyArray<TriggerEvent>, now: Date): Promise<number> {
  const named = events.filter((e) => e.event !== null);
  if (named.length === 0) return 0;
  const campaigns = await tx
    .selectFrom('campaigns')
    .select(['id', 'schedule'])
    .where('workspace_id', '=', workspaceId)
    .where('status', '=', 'active')
    .where(sql<string>`schedule->>'kind'`, '=', 'triggered')
    .where(sql<string>`schedule->'trigger'->>'on'`, '=', 'event')
    .execute();
  if (campaigns.length === 0) return 0;
  const oldest = now.getTime() - MAX_TRIGGER_AGE_MS;
  const entries: NewEntry[] = [];
  for (const c of campaigns) {
    const schedule = triggeredOf(c.schedule);
    if (!schedule) continue;
    const wakeAt = wakeAfter(now, schedule.waitMinutes);
    for (const e of named) {
      const happened = Date.parse(e.timestamp);
      if (Number.isNaN(happened) || happened < oldest || !eventMatches(schedule.trigger, e)) continue;
      // A clock running ahead on the client must not put the trigger after the events that follow it.
      const triggeredAt = new Date(Math.min(happened, now.getTime()));
      entries.push({ campaignId: c.id, profileId: e.profileId, triggeredAt, wakeAt, trigger: { event: e.event, messageId: e.messageId, at: triggeredAt.toISOString() } });
    }
  }
  return enter(tx, workspaceId, keepEarliest(entries), now);
}

// ---------------------------------------------------------------- segment triggers

const CHANGE_PAGE = 1000;
// A backlog (a segment that just filled with a million people) is taken over several runs, so one campaign cannot hold the job.
const MAX_PAGES_PER_RUN = 20;

/** The workspace's newest membership change id: where a cursor starts, so nobody who entered before it counts. */
function latestChangeId(workspaceId: string) {
  return sql<string>`coalesce((select max(m.id) from membership_changes m where m.workspace_id = ${workspaceId}), 0)`;
}

/**
 * Point a segment trigger's cursor at the newest membership change: people
 * who entered the segment before now do not start the journey. The job does
 * this by itself for a campaign it has not seen; the campaign store may call
 * it at launch so the cursor is taken at that very moment.
 */
export async function startTriggerCursor(db: Kysely<Schema>, workspaceId: string, campaignId: string): Promise<void> {
  await sql`
    insert into trigger_cursors (workspace_id, campaign_id, last_change_id)
    values (${workspaceId}, ${campaignId}, ${latestChangeId(workspaceId)})
    on conflict (workspace_id, campaign_id) do update set last_change_id = excluded.last_change_id`.execute(db);
}

/**
 * The scheduled job for segment triggers: people who entered a triggering
 * segment since the campaign's cursor start its journey, and the cursor moves
 * past them in the same transaction, so each entry is read once.
 */
export async function enrollFromSegmentChanges(db: Kysely<Schema>, now: Date): Promise<number> {
  // A paused campaign's cursor keeps up with the segment, so resuming it does not fire for everyone who entered meanwhile:
  // events that happen while a campaign is paused start nothing either.
  // Only cursors behind are written: an idle paused campaign costs an index probe per run, not a row version.
  await sql`
    update trigger_cursors tc set last_change_id = (select max(m.id) from membership_changes m where m.workspace_id = tc.workspace_id)
    from campaigns c
    where c.workspace_id = tc.workspace_id and c.id = tc.campaign_id and c.status in ('paused', 'draft')
      and tc.last_change_id < coalesce((select max(m.id) from membership_changes m where m.workspace_id = tc.workspace_id), 0)`.execute(db);
  const campaigns = await db
    .selectFrom('campaigns')
    .select(['workspace_id', 'id', 'schedule'])
    .where('status', '=', 'active')
    .where(sql<string>`schedule->>'kind'`, '=', 'triggered')
    .where(sql<string>`schedule->'trigger'->>'on'`, '=', 'segment_entered')
    .execute();
  let entered = 0;
  for (const c of campaigns) {
    const schedule = triggeredOf(c.schedule);
    if (!schedule || schedule.trigger.on !== 'segment_entered') continue;
    entered += await followSegment(db, c.workspace_id, c.id, schedule.trigger.segmentId, schedule.waitMinutes, now);
  }
  return entered;
}

async function followSegment(db: Kysely<Schema>, workspaceId: string, campaignId: string, segmentId: string, waitMinutes: number, now: Date): Promise<number> {
  let entered = 0;
  for (let page = 0; page < MAX_PAGES_PER_RUN; page++) {
    const outcome = await db.transaction().execute(async (tx) => {
      await sql`
        insert into trigger_cursors (workspace_id, campaign_id, last_change_id)
        values (${workspaceId}, ${campaignId}, ${latestChangeId(workspaceId)})
        on conflict (workspace_id, campaign_id) do nothing`.execute(tx);
      // Another worker on the same campaign has the page; it moves the cursor, this one moves on.
      const cursor = await tx
        .selectFrom('trigger_cursors')
        .select('last_change_id')
        .where('workspace_id', '=', workspaceId)
        .where('campaign_id', '=', campaignId)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!cursor) return { entered: 0, more: false };
      const changes = await tx
        .selectFrom('membership_changes')
        .select(['id', 'profile_id', 'at'])
        .where('workspace_id', '=', workspaceId)
        .where('set_id', '=', segmentId)
        .where('id', '>', cursor.last_change_id)
        .where('kind', '=', 'segment')
        .where('change', '=', 'enter')
        .orderBy('id')
        .limit(CHANGE_PAGE)
        .execute();
      if (changes.length === 0) return { entered: 0, more: false };
      const wakeAt = wakeAfter(now, waitMinutes);
      const entries = changes.map((m) => {
        const at = new Date(m.at);
        return { campaignId, profileId: m.profile_id, triggeredAt: at, wakeAt, trigger: { segmentId, changeId: String(m.id), at: at.toISOString() } };
      });
      const made = await enter(tx, workspaceId, keepEarliest(entries), now);
      await tx
        .updateTable('trigger_cursors')
        .set({ last_change_id: changes.at(-1)!.id })
        .where('workspace_id', '=', workspaceId)
        .where('campaign_id', '=', campaignId)
        .execute();
      return { entered: made, more: changes.length === CHANGE_PAGE };
    });
    entered += outcome.entered;
    if (!outcome.more) break;
  }
  return entered;
}

// ---------------------------------------------------------------- wake-up

interface DueEntry {
  workspace_id: string;
  campaign_id: string;
  profile_id: string;
  triggered_at: Date | string;
  status: string | null;
  segment_id: string | null;
  schedule: unknown;
  control_percent: number | null;
}

interface StepRow {
  workspace_id: string;
  campaign_id: string;
  profile_id: string;
  step: JourneyStep;
  at: Date;
  details: string;
}

export interface AdvanceOutcome {
  /** due entries taken and closed: `limit` of them means more may be due (run again) */
  taken: number;
  /** people queued in the outbox (either arm) */
  queued: number;
  /** entries whose audience or condition did not hold */
  failed: number;
}

/**
 * The scheduled job that ends waits: due entries are taken with SKIP LOCKED
 * (several workers share the work), checked, and queued or not, with their
 * steps, in one transaction. A paused or draft campaign's entries are left
 * waiting, so resuming it carries on; a done or archived one's are closed.
 */
export async function advanceJourneys(db: Kysely<Schema>, now: Date, limit = 1000): Promise<AdvanceOutcome> {
  return db.transaction().execute(async (tx) => {
    // Paused campaigns are filtered in the query, not after it: their due entries would otherwise fill every batch.
    const { rows: due } = await sql<DueEntry>`
      select je.workspace_id, je.campaign_id, je.profile_id::text as profile_id, je.triggered_at,
        c.status, c.segment_id, c.schedule, c.control_percent
      from journey_entries je
      left join campaigns c on c.workspace_id = je.workspace_id and c.id = je.campaign_id
      where je.status = 'waiting' and je.wake_at <= ${now}
        and (c.status is null or c.status not in ('paused', 'draft'))
      order by je.wake_at
      limit ${limit}
      for update of je skip locked`.execute(tx);
    const outcome: AdvanceOutcome = { taken: due.length, queued: 0, failed: 0 };
    const groups = new Map<string, DueEntry[]>();
    for (const d of due) {
      const key = `${d.workspace_id}\u0000${d.campaign_id}`;
      const group = groups.get(key);
      if (group) group.push(d);
      else groups.set(key, [d]);
    }
    const steps: StepRow[] = [];
    for (const entries of groups.values()) {
      const result = await advanceCampaign(tx, entries, now, steps);
      outcome.queued += result.queued;
      outcome.failed += result.failed;
      await tx
        .updateTable('journey_entries')
        .set({ status: 'done' })
        .where('workspace_id', '=', entries[0]!.workspace_id)
        .where('campaign_id', '=', entries[0]!.campaign_id)
        .where('profile_id', '=', sql<string>`any(${entries.map((e) => e.profile_id)}::uuid[])`)
        .execute();
    }
    // Inserted in the order the steps were taken: ids follow it, and the route lists steps by id.
    for (let i = 0; i < steps.length; i += ENTER_CHUNK) await tx.insertInto('journey_steps').values(steps.slice(i, i + ENTER_CHUNK)).execute();
    return outcome;
  });
}

async function advanceCampaign(tx: Transaction<Schema>, entries: DueEntry[], now: Date, steps: StepRow[]): Promise<Omit<AdvanceOutcome, 'taken'>> {
  const first = entries[0]!;
  const ws = first.workspace_id;
  const campaignId = first.campaign_id;
  const step = (profileId: string, kind: JourneyStep, details: Record<string, unknown>) =>
    steps.push({ workspace_id: ws, campaign_id: campaignId, profile_id: profileId, step: kind, at: now, details: JSON.stringify(details) });
  if (first.status !== 'active') {
    for (const e of entries) step(e.profile_id, 'skipped', { reason: 'campaign_stopped' });
    return { queued: 0, failed: 0 };
  }
  const live = await liveProfilesOf(tx, ws, entries.map((e) => e.profile_id));
  const present = entries.filter((e) => live.has(e.profile_id));
  // Only erasure deletes a profile: nobody is left to send to, and no step may name the erased id again.
  const gone = entries.filter((e) => !live.has(e.profile_id)).map((e) => e.profile_id);
  if (gone.length > 0) {
    await tx.deleteFrom('journey_entries').where('workspace_id', '=', ws).where('campaign_id', '=', campaignId).where('profile_id', '=', sql<string>`any(${gone}::uuid[])`).execute();
    await tx.deleteFrom('journey_steps').where('workspace_id', '=', ws).where('profile_id', '=', sql<string>`any(${gone}::uuid[])`).execute();
  }
  if (present.length === 0) return { queued: 0, failed: 0 };
  const people = [...new Set(present.map((e) => live.get(e.profile_id)!))];
  const condition: TriggerCondition = triggeredOf(first.schedule)?.condition ?? {};

  const inAudience = first.segment_id === null ? null : await segmentMembers(tx, ws, first.segment_id, people);
  const rule = condition.rule ? await ruleMembers(tx, ws, condition.rule, people, now) : null;
  const performed = condition.notPerformed ? await performedSince(tx, ws, condition.notPerformed, present.map((e) => ({ live: live.get(e.profile_id)!, since: new Date(e.triggered_at) }))) : null;

  const met: Array<{ entry: DueEntry; person: string }> = [];
  let failed = 0;
  present.forEach((e, i) => {
    const person = live.get(e.profile_id)!;
    const merged = person === e.profile_id ? {} : { profileId: person };
    const checked: JourneyCheck[] = [];
    const failedChecks: JourneyCheck[] = [];
    const check = (name: JourneyCheck, holds: boolean) => {
      checked.push(name);
      if (!holds) failedChecks.push(name);
    };
    if (inAudience) check('audience', inAudience.has(person));
    if (rule) check('rule', rule.members.has(person));
    if (performed) check('not_performed', !performed.has(i));
    if (failedChecks.length > 0) {
      failed += 1;
      const why = failedChecks.includes('rule') && rule?.error ? { error: rule.error } : {};
      const event = failedChecks.includes('not_performed') ? { event: condition.notPerformed } : {};
      step(e.profile_id, 'condition_failed', { failed: failedChecks, ...event, ...why, ...merged });
    } else {
      step(e.profile_id, 'condition_met', { checked, ...merged });
      met.push({ entry: e, person });
    }
  });
  if (met.length === 0) return { queued: 0, failed };

  // Once per campaign and person: two profiles that triggered and were merged since are one person, queued once.
  const metPeople = [...new Set(met.map((m) => m.person))];
  const already = new Set(
    (await tx.selectFrom('campaign_sends').select('profile_id').where('workspace_id', '=', ws).where('campaign_id', '=', campaignId).where('profile_id', '=', sql<string>`any(${metPeople}::uuid[])`).execute()).map((r) => r.profile_id),
  );
  const fresh = metPeople.filter((p) => !already.has(p));
  const controlPercent = first.control_percent ?? 0;
  const queued = fresh.length === 0 ? { treatment: 0, control: 0 } : await enqueueProfiles(tx, { workspaceId: ws, id: campaignId, controlPercent }, fresh, now);
  const stepped = new Set<string>();
  for (const { entry, person } of met) {
    const merged = person === entry.profile_id ? {} : { profileId: person };
    if (already.has(person) || stepped.has(person)) {
      step(entry.profile_id, 'skipped', { reason: 'already_queued', ...merged });
      continue;
    }
    stepped.add(person);
    step(entry.profile_id, 'queued', { arm: armOf(campaignId, person, controlPercent), ...merged });
  }
  return { queued: queued.treatment + queued.control, failed };
}

/** Each id's live profile (following merges), in one query; ids with no profile any more are absent. */
async function liveProfilesOf(tx: Kysely<Schema>, workspaceId: string, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await sql<{ start: string; live: string }>`
    with recursive chain(start, id, merged_into, hops) as (
      select p.id, p.id, p.merged_into, 0 from profiles p where p.workspace_id = ${workspaceId} and p.id = any(${[...ids]}::uuid[])
      union all
      select c.start, p.id, p.merged_into, c.hops + 1 from chain c join profiles p on p.workspace_id = ${workspaceId} and p.id = c.merged_into
      where c.hops < 64)
    select start::text as start, id::text as live from chain where merged_into is null`.execute(tx);
  return new Map(rows.map((r) => [r.start, r.live]));
}

async function segmentMembers(tx: Kysely<Schema>, workspaceId: string, segmentId: string, people: readonly string[]): Promise<Set<string>> {
  const rows = await tx
    .selectFrom('segment_members')
    .select('profile_id')
    .where('workspace_id', '=', workspaceId)
    .where('segment_id', '=', segmentId)
    .where('profile_id', '=', sql<string>`any(${[...people]}::uuid[])`)
    .execute();
  return new Set(rows.map((r) => r.profile_id));
}

/**
 * Which of the people the condition's rule names now: one query for the
 * batch. A rule whose tag was deleted since the campaign was saved cannot be
 * compiled; it holds for nobody, and the step says why, rather than stalling
 * every journey behind an exception.
 */
async function ruleMembers(tx: Kysely<Schema>, workspaceId: string, rule: Rule, people: readonly string[], now: Date): Promise<{ members: Set<string>; error?: string }> {
  const wanted = tagReferences(rule).map((t) => t.toLowerCase());
  const tagIds = new Map<string, string>();
  if (wanted.length > 0) {
    const tags = await tx.selectFrom('tags').select(['id', 'name']).where('workspace_id', '=', workspaceId).execute();
    for (const t of tags) tagIds.set(t.name.toLowerCase(), t.id);
    const missing = wanted.find((t) => !tagIds.has(t));
    if (missing !== undefined) return { members: new Set(), error: `the rule names the tag ${missing}, which no longer exists` };
  }
  const { rows } = await memberIdsQuery(rule, { workspaceId, now, tagIds, profileIds: people }).execute(tx);
  return { members: new Set(rows.map((r) => String(r.id))) };
}

/**
 * Which entries' people performed `event` after their trigger, counting the
 * events of every profile merged into them: one query for the batch. Returns
 * the entries' positions.
 */
async function performedSince(tx: Kysely<Schema>, workspaceId: string, event: string, entries: ReadonlyArray<{ live: string; since: Date }>): Promise<Set<number>> {
  const { rows } = await sql<{ i: number | string }>`
    with recursive due(i, live, since) as (
      select (d.ord - 1)::int, d.live, d.since from unnest(${entries.map((e) => e.live)}::uuid[], ${entries.map((e) => e.since.toISOString())}::timestamptz[]) with ordinality as d(live, since, ord)),
    person(i, id) as (
      select i, live from due
      union
      select person.i, p.id from profiles p join person on p.merged_into = person.id where p.workspace_id = ${workspaceId})
    select distinct person.i from person join due on due.i = person.i
    where exists (select 1 from events e where e.workspace_id = ${workspaceId} and e.profile_id = person.id and e.event = ${event} and e.timestamp > due.since)`.execute(tx);
  return new Set(rows.map((r) => Number(r.i)));
}

// ---------------------------------------------------------------- reading

export interface JourneyStepView {
  /** increasing; pass the last one back as `cursor` */
  id: string;
  profileId: string;
  step: JourneyStep;
  at: Date;
  details: Record<string, unknown>;
}

export interface JourneyView {
  steps: JourneyStepView[];
  /** every step of the campaign, counted (not only the page) */
  counts: Record<JourneyStep, number>;
  /** the cursor of the next page; null on the last */
  nextCursor: string | null;
}

/**
 * A campaign's journey steps in the order they were taken, a page at a time;
 * null when the workspace has no such campaign. With `profileId` (an old id
 * of a merged profile, too), the steps of that whole person.
 */
export async function journeySteps(db: Kysely<Schema>, workspaceId: string, campaignId: string, options: { profileId?: string; limit: number; cursor?: string }): Promise<JourneyView | null> {
  const campaign = await db.selectFrom('campaigns').select('id').where('workspace_id', '=', workspaceId).where('id', '=', campaignId).executeTakeFirst();
  if (!campaign) return null;
  let people: string[] | null = null;
  if (options.profileId !== undefined) {
    const live = await liveProfileId(db, workspaceId, options.profileId);
    people = live === null ? [options.profileId] : await mergedProfileIds(db, workspaceId, live);
  }
  let query = db
    .selectFrom('journey_steps')
    .select(['id', 'profile_id', 'step', 'at', 'details'])
    .where('workspace_id', '=', workspaceId)
    .where('campaign_id', '=', campaignId)
    .orderBy('id')
    .limit(options.limit);
  if (people) query = query.where('profile_id', '=', sql<string>`any(${people}::uuid[])`);
  if (options.cursor !== undefined) query = query.where('id', '>', options.cursor);
  const rows = await query.execute();
  const counted = await db
    .selectFrom('journey_steps')
    .select(['step', (eb) => eb.fn.countAll<string>().as('n')])
    .where('workspace_id', '=', workspaceId)
    .where('campaign_id', '=', campaignId)
    .groupBy('step')
    .execute();
  const counts = Object.fromEntries(JOURNEY_STEPS.map((s) => [s, 0])) as Record<JourneyStep, number>;
  for (const c of counted) if (c.step in counts) counts[c.step] = Number(c.n);
  return {
    steps: rows.map((r) => ({ id: String(r.id), profileId: r.profile_id, step: r.step, at: new Date(r.at), details: r.details })),
    counts,
    nextCursor: rows.length === options.limit ? String(rows.at(-1)!.id) : null,
  };
}
