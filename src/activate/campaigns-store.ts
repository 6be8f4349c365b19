import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { CONSENT_PURPOSES, isConsentPurpose, type ConsentPurpose } from '../privacy/consent.js';
import type { CampaignTable, Schema } from '../storage/schema.js';
import { CHANNELS, type Channel } from './adapter.js';
import { CHANNEL_PURPOSE, type Campaign, type CampaignStatus, type FrequencyCap, type MessageTemplate, type QuietHours, type Schedule } from './campaign.js';
import { ActivationError, refuse, type Issue } from './activation-error.js';
import { validateQuietHours } from './quiet-hours.js';
import { validateTemplate } from './template.js';
import { startTriggerCursor } from './journeys.js';
import { validateSchedule } from './trigger-match.js';

/** What a caller gives to create or change a campaign. */
export interface CampaignInput {
  name: string;
  channel: Channel;
  purpose?: ConsentPurpose;
  segmentId?: string | null;
  destinationId: string;
  controlPercent?: number;
  template: MessageTemplate;
  couponPoolId?: string | null;
  schedule: Schedule;
  frequencyCap?: FrequencyCap | null;
  quietHours?: QuietHours | null;
  attributionDays?: number;
  costPerMessage?: number;
  fixedCost?: number;
  currency?: string;
}

/** The checks that need no database: shapes, ranges, template placeholders, schedule. */
export function campaignIssues(input: CampaignInput): Issue[] {
  const issues: Issue[] = [];
  const add = (field: string, message: string) => issues.push({ field, message });
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) add('name', 'a campaign needs a name of 1 to 200 characters');
  if (!(CHANNELS as readonly string[]).includes(input.channel)) add('channel', `unknown channel ${String(input.channel)}; the channels are ${CHANNELS.join(', ')}`);
  if (input.purpose !== undefined && !isConsentPurpose(input.purpose)) add('purpose', `unknown purpose ${String(input.purpose)}; the purposes are ${CONSENT_PURPOSES.join(', ')}`);
  // Email, SMS and ads have one lawful purpose each; a different one would let a campaign send on consent given for something else.
  const fixed = input.channel === 'email' || input.channel === 'sms' || input.channel === 'ads';
  if (fixed && input.purpose !== undefined && input.purpose !== CHANNEL_PURPOSE[input.channel]) add('purpose', `a ${input.channel} campaign needs consent for ${CHANNEL_PURPOSE[input.channel]}, not ${input.purpose}`);
  const control = input.controlPercent ?? 0;
  if (!Number.isFinite(control) || control < 0 || control > 50) add('controlPercent', 'the control group is 0 to 50 percent of the audience');
  if (input.schedule?.kind !== 'triggered' && !input.segmentId) add('segmentId', `a ${input.schedule?.kind ?? 'scheduled'} campaign needs an audience segment`);
  if (input.frequencyCap) {
    const { max, days } = input.frequencyCap;
    if (!Number.isInteger(max) || max < 1 || max > 1000) add('frequencyCap.max', 'at most 1 to 1000 messages');
    if (!Number.isFinite(days) || days <= 0 || days > 365) add('frequencyCap.days', 'a period of more than 0 and at most 365 days');
  }
  if (input.quietHours) issues.push(...validateQuietHours(input.quietHours).map((i) => ({ field: i.field ?? 'quietHours', message: i.message })));
  const days = input.attributionDays ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > 90) add('attributionDays', 'conversions are attributed within 1 to 90 days');
  for (const key of ['costPerMessage', 'fixedCost'] as const) {
    const v = input[key];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) add(key, 'a cost is a number of at least 0');
  }
  if (input.currency !== undefined && !/^[A-Z]{3}$/.test(input.currency)) add('currency', 'an ISO 4217 code such as CNY or EUR');
  if (input.template && typeof input.template === 'object') issues.push(...validateTemplate(input.template, input.channel).map((i) => ({ field: i.field ?? 'template', message: i.message })));
  else add('template', 'a campaign needs a template');
  if (input.schedule && typeof input.schedule === 'object') issues.push(...validateSchedule(input.schedule));
  else add('schedule', 'a campaign needs a schedule');
  return issues;
}

/** The checks against the workspace: the segments, tags, destination and coupon pool it names exist. */
async function referenceIssues(db: Kysely<Schema>, workspaceId: string, input: CampaignInput): Promise<Issue[]> {
  const issues: Issue[] = [];
  const [segments, tags] = await Promise.all([
    db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).execute(),
    db.selectFrom('tags').select('name').where('workspace_id', '=', workspaceId).execute(),
  ]);
  const known = { segmentIds: new Set(segments.map((s) => s.id)), tagNames: new Set(tags.map((t) => t.name.toLowerCase())) };
  if (input.segmentId && !known.segmentIds.has(input.segmentId)) issues.push({ field: 'segmentId', message: `no segment ${input.segmentId} in this workspace` });
  // The trigger's segment and the condition rule's segments and tags (its shape passed campaignIssues already).
  issues.push(...validateSchedule(input.schedule, known));
  const destination = await db.selectFrom('destinations').select(['kind']).where('workspace_id', '=', workspaceId).where('id', '=', input.destinationId).executeTakeFirst();
  if (!destination) issues.push({ field: 'destinationId', message: `no destination ${input.destinationId} in this workspace` });
  if (input.couponPoolId) {
    const pool = await db.selectFrom('coupon_pools').select('id').where('workspace_id', '=', workspaceId).where('id', '=', input.couponPoolId).executeTakeFirst();
    if (!pool) issues.push({ field: 'couponPoolId', message: `no coupon pool ${input.couponPoolId} in this workspace` });
  }
  return issues;
}

function refuseAny(issues: readonly Issue[]): void {
  if (issues.length > 0) refuse(issues);
}

export function campaignOf(row: Selectable<CampaignTable>): Campaign {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    status: row.status as CampaignStatus,
    channel: row.channel as Channel,
    purpose: row.purpose as ConsentPurpose,
    segmentId: row.segment_id,
    destinationId: row.destination_id,
    controlPercent: row.control_percent,
    template: row.template as unknown as MessageTemplate,
    couponPoolId: row.coupon_pool_id,
    schedule: row.schedule as unknown as Schedule,
    frequencyCap: row.frequency_cap as unknown as FrequencyCap | null,
    quietHours: row.quiet_hours as unknown as QuietHours | null,
    attributionDays: row.attribution_days,
    costPerMessage: row.cost_per_message,
    fixedCost: row.fixed_cost,
    currency: row.currency,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function columnsOf(input: CampaignInput) {
  return {
    name: input.name.trim(),
    channel: input.channel,
    purpose: input.purpose ?? CHANNEL_PURPOSE[input.channel],
    segment_id: input.segmentId ?? null,
    destination_id: input.destinationId,
    control_percent: input.controlPercent ?? 0,
    template: JSON.stringify(input.template),
    coupon_pool_id: input.couponPoolId ?? null,
    schedule: JSON.stringify(input.schedule),
    frequency_cap: input.frequencyCap ? JSON.stringify(input.frequencyCap) : null,
    quiet_hours: input.quietHours ? JSON.stringify(input.quietHours) : null,
    attribution_days: input.attributionDays ?? 7,
    cost_per_message: input.costPerMessage ?? 0,
    fixed_cost: input.fixedCost ?? 0,
    currency: input.currency ?? 'CNY',
  };
}

function inputOf(c: Campaign): CampaignInput {
  const { id: _id, workspaceId: _ws, status: _status, nextRunAt: _next, lastRunAt: _last, createdBy: _by, createdAt: _created, updatedAt: _updated, ...input } = c;
  return input;
}

const isNameClash = (error: unknown) => error instanceof Error && /campaigns_name|duplicate key/.test(error.message);

export async function createCampaign(db: Kysely<Schema>, workspaceId: string, input: CampaignInput, actor: string | null, now = new Date()): Promise<Campaign> {
  refuseAny(campaignIssues(input));
  refuseAny(await referenceIssues(db, workspaceId, input));
  try {
    const row = await db
      .insertInto('campaigns')
      .values({ workspace_id: workspaceId, id: randomUUID(), status: 'draft', ...columnsOf(input), created_by: actor, created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    return campaignOf(row);
  } catch (error) {
    if (isNameClash(error)) throw new ActivationError('conflict', 'name', `a campaign named ${input.name.trim()} exists already`);
    throw error;
  }
}

export async function getCampaign(db: Kysely<Schema>, workspaceId: string, id: string): Promise<Campaign | null> {
  const row = await db.selectFrom('campaigns').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? campaignOf(row) : null;
}

async function mustGet(db: Kysely<Schema>, workspaceId: string, id: string): Promise<Campaign> {
  const campaign = await getCampaign(db, workspaceId, id);
  if (!campaign) throw new ActivationError('not_found', 'id', `no campaign ${id}`);
  return campaign;
}

export async function listCampaigns(db: Kysely<Schema>, workspaceId: string, options: { status?: CampaignStatus; limit: number }): Promise<Campaign[]> {
  let q = db.selectFrom('campaigns').selectAll().where('workspace_id', '=', workspaceId);
  if (options.status) q = q.where('status', '=', options.status);
  else q = q.where('status', '<>', 'archived');
  return (await q.orderBy('created_at', 'desc').orderBy('id').limit(options.limit).execute()).map(campaignOf);
}

/** Change a draft or paused campaign: a running one would send some people one version and others another. */
export async function updateCampaign(db: Kysely<Schema>, workspaceId: string, id: string, patch: Partial<CampaignInput>, now = new Date()): Promise<Campaign> {
  const current = await mustGet(db, workspaceId, id);
  if (current.status !== 'draft' && current.status !== 'paused') throw new ActivationError('conflict', 'status', `a campaign that is ${current.status} cannot be changed; pause it first`);
  const input: CampaignInput = { ...inputOf(current), ...patch };
  if (patch.channel && patch.purpose === undefined) delete input.purpose;
  refuseAny(campaignIssues(input));
  refuseAny(await referenceIssues(db, workspaceId, input));
  try {
    const row = await db.updateTable('campaigns').set({ ...columnsOf(input), updated_at: now }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return campaignOf(row);
  } catch (error) {
    if (isNameClash(error)) throw new ActivationError('conflict', 'name', `a campaign named ${input.name.trim()} exists already`);
    throw error;
  }
}

/** Only a draft goes for good; anything that sent is archived, so its report and history stay. */
export async function deleteCampaign(db: Kysely<Schema>, workspaceId: string, id: string): Promise<void> {
  const current = await mustGet(db, workspaceId, id);
  if (current.status !== 'draft') throw new ActivationError('conflict', 'status', `a campaign that is ${current.status} cannot be deleted; archive it instead`);
  await db.deleteFrom('campaigns').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

/**
 * Launch (or resume) a campaign: checked again in full, then active. A once or
 * recurring campaign takes its audience at `schedule.at` (now if absent);
 * a triggered one starts listening.
 */
export async function launchCampaign(db: Kysely<Schema>, workspaceId: string, id: string, now = new Date()): Promise<Campaign> {
  const current = await mustGet(db, workspaceId, id);
  if (current.status !== 'draft' && current.status !== 'paused') throw new ActivationError('conflict', 'status', `a campaign that is ${current.status} cannot be launched`);
  const input = inputOf(current);
  refuseAny(campaignIssues(input));
  refuseAny(await referenceIssues(db, workspaceId, input));
  const schedule = current.schedule;
  // A paused campaign that already took its audience keeps its place: resuming sends what was queued.
  let next: Date | null = current.nextRunAt;
  if (current.status === 'draft' && schedule.kind !== 'triggered') next = schedule.kind === 'once' && schedule.at ? new Date(schedule.at) : now;
  const row = await db.updateTable('campaigns').set({ status: 'active', next_run_at: next, updated_at: now }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  // A segment trigger fires for people entering from this moment, not from when the job first sees the campaign.
  if (current.status === 'draft' && schedule.kind === 'triggered' && schedule.trigger.on === 'segment_entered') await startTriggerCursor(db, workspaceId, id);
  return campaignOf(row);
}

export async function pauseCampaign(db: Kysely<Schema>, workspaceId: string, id: string, now = new Date()): Promise<Campaign> {
  const current = await mustGet(db, workspaceId, id);
  if (current.status !== 'active') throw new ActivationError('conflict', 'status', `only an active campaign can be paused; this one is ${current.status}`);
  const row = await db.updateTable('campaigns').set({ status: 'paused', updated_at: now }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return campaignOf(row);
}

/** Stop for good: what is still queued is skipped (campaign_stopped), and the campaign is done; its waiting journeys close with a step saying so (journeys.ts). */
export async function stopCampaign(db: Kysely<Schema>, workspaceId: string, id: string, now = new Date()): Promise<Campaign> {
  return db.transaction().execute(async (tx) => {
    const current = await mustGet(tx, workspaceId, id);
    if (current.status !== 'active' && current.status !== 'paused') throw new ActivationError('conflict', 'status', `a campaign that is ${current.status} cannot be stopped`);
    await tx
      .updateTable('campaign_sends')
      .set({ status: 'skipped', reason: 'campaign_stopped', lease_until: null })
      .where('workspace_id', '=', workspaceId)
      .where('campaign_id', '=', id)
      .where('status', '=', 'pending')
      .execute();
    const row = await tx.updateTable('campaigns').set({ status: 'done', next_run_at: null, updated_at: now }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return campaignOf(row);
  });
}

export async function archiveCampaign(db: Kysely<Schema>, workspaceId: string, id: string, now = new Date()): Promise<Campaign> {
  const current = await mustGet(db, workspaceId, id);
  if (current.status !== 'done' && current.status !== 'draft') throw new ActivationError('conflict', 'status', `stop the campaign before archiving it (it is ${current.status})`);
  const row = await db.updateTable('campaigns').set({ status: 'archived', updated_at: now }).where('workspace_id', '=', workspaceId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return campaignOf(row);
}

/** How many sends a campaign has in each status: the campaign list shows them. */
export async function sendCounts(db: Kysely<Schema>, workspaceId: string, ids: readonly string[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('campaign_sends')
    .select(['campaign_id', 'status', sql<string>`count(*)`.as('n')])
    .where('workspace_id', '=', workspaceId)
    .where('campaign_id', 'in', [...ids])
    .groupBy(['campaign_id', 'status'])
    .execute();
  for (const r of rows) {
    const counts = out.get(r.campaign_id) ?? {};
    counts[r.status] = Number(r.n);
    out.set(r.campaign_id, counts);
  }
  return out;
}
