import { sql, type Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { campaignOf } from './campaigns-store.js';
import { enqueueSegment } from './outbox.js';

/**
 * Once and recurring campaigns: when one is due, its segment's current members
 * are queued in the outbox. A recurring campaign queues the members who joined
 * since (people already queued are not queued again), so it reaches each
 * member once.
 */
export async function runDueCampaigns(db: Kysely<Schema>, now = new Date()): Promise<number> {
  let queued = 0;
  for (;;) {
    // One campaign per transaction, taken with SKIP LOCKED: several workers share the work and none queues it twice.
    const done = await db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('campaigns')
        .selectAll()
        .where('status', '=', 'active')
        .where('next_run_at', '<=', now)
        .orderBy('next_run_at')
        .limit(1)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!row) return null;
      const campaign = campaignOf(row);
      const added = campaign.segmentId ? await enqueueSegment(tx, campaign, campaign.segmentId, now) : { treatment: 0, control: 0 };
      let next: Date | null = null;
      if (campaign.schedule.kind === 'recurring') {
        next = new Date(now.getTime() + campaign.schedule.everyHours * 3_600_000);
        if (campaign.schedule.until && next > new Date(campaign.schedule.until)) next = null;
      }
      await tx.updateTable('campaigns').set({ next_run_at: next, last_run_at: now }).where('workspace_id', '=', campaign.workspaceId).where('id', '=', campaign.id).execute();
      return added.treatment + added.control;
    });
    if (done === null) break;
    queued += done;
  }
  // Statistics for the outbox after a big audience: PGlite has no autovacuum, and the sender's claim planned on
  // an empty-looking table would scan where it should probe.
  if (queued >= 1000 && !db.isTransaction) await sql`analyze campaign_sends`.execute(db);
  return queued;
}

/**
 * A once campaign, or a recurring one past its last run, is done when nothing
 * it queued is waiting to be sent. Triggered campaigns run until stopped.
 * Also closes what stopped campaigns left leased by a sender that died.
 */
export async function finishCampaigns(db: Kysely<Schema>, now = new Date()): Promise<number> {
  // Rows a dead sender left leased in a campaign stopped since: nobody takes them (only active campaigns are
  // sent), so they are closed here once their lease has passed.
  await sql`update campaign_sends s set status = 'skipped', reason = 'campaign_stopped', lease_until = null
    from campaigns c
    where c.workspace_id = s.workspace_id and c.id = s.campaign_id and c.status in ('done', 'archived')
      and s.status = 'sending' and s.lease_until < ${now}`.execute(db);
  const result = await db
    .updateTable('campaigns as c')
    .set({ status: 'done', updated_at: now })
    .where('c.status', '=', 'active')
    .where('c.next_run_at', 'is', null)
    .where('c.last_run_at', 'is not', null)
    .where(sql<boolean>`c.schedule->>'kind' <> 'triggered'`)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('campaign_sends as s').select('s.profile_id').whereRef('s.workspace_id', '=', 'c.workspace_id').whereRef('s.campaign_id', '=', 'c.id').where('s.status', 'in', ['pending', 'sending']))),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
