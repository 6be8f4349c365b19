import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Schema } from '../storage/schema.js';

/**
 * The campaign outbox (campaign_sends): queuing people for a campaign. A
 * (campaign, person) row is made once, whatever queues it again (a recurring
 * run, a trigger firing twice), so nobody is sent one campaign twice.
 */

/** The SQL twin of holdout.ts armOf: the same arm for the same (campaign, person), computed where the rows are. */
export function armSql(campaignId: string, profileId: RawBuilder<unknown>, controlPercent: number): RawBuilder<'treatment' | 'control'> {
  if (controlPercent <= 0) return sql<'treatment'>`'treatment'`;
  const bucket = sql`(('x' || substr(encode(sha256(convert_to(${campaignId}::text || ':' || ${profileId}::text, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % 10000)`;
  return sql<'treatment' | 'control'>`case when ${bucket} < ${Math.round(controlPercent * 100)} then 'control' else 'treatment' end`;
}

export interface Queued {
  treatment: number;
  control: number;
}

/**
 * Queue people for a campaign: the treatment arm as pending sends, the
 * control arm as `control` rows (never sent; they are the baseline of the
 * uplift). People already queued for the campaign, under their own profile or
 * one merged into them since, are left as they are.
 * `people` is a query of profile ids (`id` column).
 */
export async function enqueue(db: Kysely<Schema>, campaign: { workspaceId: string; id: string; controlPercent: number }, people: RawBuilder<{ id: string }>, now: Date): Promise<Queued> {
  const arm = armSql(campaign.id, sql.ref('p.id'), campaign.controlPercent);
  const { rows } = await sql<{ arm: string; n: string | number }>`
    with added as (
      insert into campaign_sends (workspace_id, campaign_id, profile_id, arm, status, reason, next_attempt_at, queued_at)
      select ${campaign.workspaceId}::text, ${campaign.id}::text, q.id, q.arm,
        case when q.arm = 'control' then 'control' else 'pending' end,
        case when q.arm = 'control' then 'control' else null end,
        ${now}::timestamptz, ${now}::timestamptz
      from (select distinct p.id, ${arm} as arm from (${people}) p) q
      -- A person already queued under a profile since merged into them is queued already.
      where q.id not in (
        select coalesce(m.merged_into, m.id) from campaign_sends s
        join profiles m on m.workspace_id = s.workspace_id and m.id = s.profile_id
        where s.workspace_id = ${campaign.workspaceId} and s.campaign_id = ${campaign.id})
      on conflict do nothing
      returning arm)
    select arm, count(*) as n from added group by arm`.execute(db);
  const out: Queued = { treatment: 0, control: 0 };
  for (const r of rows) out[r.arm === 'control' ? 'control' : 'treatment'] = Number(r.n);
  return out;
}

/** Queue given profile ids (a trigger's people). */
export function enqueueProfiles(db: Kysely<Schema>, campaign: { workspaceId: string; id: string; controlPercent: number }, profileIds: readonly string[], now: Date): Promise<Queued> {
  return enqueue(db, campaign, sql<{ id: string }>`select unnest(${[...profileIds]}::uuid[]) as id`, now);
}

/** Queue a segment's current members. */
export function enqueueSegment(db: Kysely<Schema>, campaign: { workspaceId: string; id: string; controlPercent: number }, segmentId: string, now: Date): Promise<Queued> {
  return enqueue(db, campaign, sql<{ id: string }>`select m.profile_id as id from segment_members m where m.workspace_id = ${campaign.workspaceId} and m.segment_id = ${segmentId}`, now);
}
