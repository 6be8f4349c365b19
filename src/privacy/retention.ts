import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import { classifyField } from './field-catalog.js';

/**
 * Retention: how long data is kept. A policy names an event type ('*' for
 * every one) or a trait, and a number of days.
 * - Events older than that are deleted, or anonymized: kept for counts and
 *   sums but cut from the person (no profile, identifiers and context gone).
 *   Either way the raw message in the event log and its cleaning lineage go.
 * - A trait is deleted from every profile whose value for it was last given
 *   longer ago than that (the provenance time; profiles without one use
 *   their last update).
 * Identifier fields (email, phone, names…) are not trait policies: they are
 * encrypted, and removing a person's identifiers is an erasure (DSAR).
 * Every run is logged with what each policy removed.
 */

const DAY = 86_400_000;

export type RetentionKind = 'event' | 'trait';
export type RetentionAction = 'delete' | 'anonymize';

export interface RetentionPolicy {
  id: string;
  kind: RetentionKind;
  name: string;
  days: number;
  action: RetentionAction;
  createdAt: string;
  updatedAt: string;
}

export interface RetentionResult {
  policyId: string;
  kind: RetentionKind;
  name: string;
  action: RetentionAction;
  /** everything before this instant was subject to the policy */
  cutoff: string;
  /** events deleted or anonymized, or profiles that lost the trait */
  affected: number;
}

export interface RetentionRun {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'done' | 'failed';
  results: RetentionResult[];
  error: string | null;
}

/** A refusal naming the field at fault. */
export class GovernanceInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export function checkPolicy(p: { kind: RetentionKind; name: string; days: number; action: RetentionAction }): void {
  if (!Number.isInteger(p.days) || p.days < 1 || p.days > 36_500) throw new GovernanceInputError('days', 'must be a whole number of days from 1 to 36500');
  if (p.name.trim() === '' || p.name.length > 200) throw new GovernanceInputError('name', 'must name an event type (or * for all) or a trait, at most 200 characters');
  if (p.kind === 'trait') {
    if (p.name === '*') throw new GovernanceInputError('name', 'a trait policy names one trait');
    if (classifyField(p.name) === 'identifier') throw new GovernanceInputError('name', `${p.name} is an identifier field: it is removed by erasing the person (POST /api/dsar), not by a retention policy`);
    if (p.action !== 'delete') throw new GovernanceInputError('action', 'a trait is deleted when it expires; anonymize applies to events');
  }
}

function toPolicy(r: { id: string; kind: string; name: string; days: number; action: string; created_at: Date; updated_at: Date }): RetentionPolicy {
  return { id: r.id, kind: r.kind as RetentionKind, name: r.name, days: r.days, action: r.action as RetentionAction, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() };
}

export async function listPolicies(db: Kysely<Schema>, workspaceId: string): Promise<RetentionPolicy[]> {
  const rows = await db.selectFrom('retention_policies').selectAll().where('workspace_id', '=', workspaceId).orderBy('kind').orderBy('name').execute();
  return rows.map(toPolicy);
}

/** Create the policy for (kind, name), or change its days and action. */
export async function setPolicy(db: Kysely<Schema>, workspaceId: string, input: { kind: RetentionKind; name: string; days: number; action: RetentionAction }, now = new Date()): Promise<RetentionPolicy> {
  checkPolicy(input);
  await db
    .insertInto('retention_policies')
    .values({ workspace_id: workspaceId, id: randomUUID(), kind: input.kind, name: input.name, days: input.days, action: input.action, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'kind', 'name']).doUpdateSet({ days: input.days, action: input.action, updated_at: now }))
    .execute();
  const row = await db.selectFrom('retention_policies').selectAll().where('workspace_id', '=', workspaceId).where('kind', '=', input.kind).where('name', '=', input.name).executeTakeFirstOrThrow();
  return toPolicy(row);
}

export async function deletePolicy(db: Kysely<Schema>, workspaceId: string, id: string): Promise<boolean> {
  const gone = await db.deleteFrom('retention_policies').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return Number(gone.numDeletedRows) > 0;
}

async function applyPolicy(db: Transaction<Schema>, workspaceId: string, p: RetentionPolicy, cutoff: Date): Promise<number> {
  if (p.kind === 'trait') {
    // The pipeline writes whole trait objects back: under its lock, a batch in flight cannot restore what this removes.
    await lockWorkspaceProfiles(db, workspaceId);
    const { rows } = await sql<{ n: string }>`
      with hit as (
        update profiles set traits = traits - ${p.name}::text, provenance = provenance - ${p.name}::text, updated_at = ${new Date()}
        where workspace_id = ${workspaceId} and merged_into is null and jsonb_exists(traits, ${p.name}::text)
          and coalesce(custodian_time(provenance -> ${p.name}::text -> 't'), updated_at) < ${cutoff}
        returning 1)
      select count(*) as n from hit`.execute(db);
    return Number(rows[0]?.n ?? 0);
  }
  // Messages without an event name (identify, page, screen, group) are named by their type.
  const which = p.name === '*' ? sql`true` : sql`(e.event = ${p.name} or (e.event is null and e.type = ${p.name}))`;
  // The raw message and the lineage of its cleaning hold the same data: they go with the event.
  const change =
    p.action === 'delete'
      ? sql`delete from events e where e.workspace_id = ${workspaceId} and ${which} and e.timestamp < ${cutoff} returning e.message_id`
      : sql`update events e set profile_id = null, secret = ''::bytea
          where e.workspace_id = ${workspaceId} and ${which} and e.timestamp < ${cutoff} and (e.profile_id is not null or length(e.secret) > 0)
          returning e.message_id`;
  const { rows } = await sql<{ n: string }>`
    with hit as (${change}),
    logs as (delete from event_log l using hit where l.workspace_id = ${workspaceId} and l.message_id = hit.message_id and l.processed_at is not null returning 1),
    lineage as (delete from field_lineage f using hit where f.workspace_id = ${workspaceId} and f.message_id = hit.message_id returning 1)
    select (select count(*) from hit) as n, (select count(*) from logs) as logs, (select count(*) from lineage) as lineage`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** Apply every policy of the workspace once, logged as a retention run. */
export async function applyRetention(db: Kysely<Schema>, workspaceId: string, now = new Date()): Promise<RetentionRun> {
  const id = randomUUID();
  await db.insertInto('retention_runs').values({ workspace_id: workspaceId, id, started_at: now, status: 'running', results: '[]' }).execute();
  const results: RetentionResult[] = [];
  try {
    for (const p of await listPolicies(db, workspaceId)) {
      const cutoff = new Date(now.getTime() - p.days * DAY);
      const affected = await db.transaction().execute((tx) => applyPolicy(tx, workspaceId, p, cutoff));
      results.push({ policyId: p.id, kind: p.kind, name: p.name, action: p.action, cutoff: cutoff.toISOString(), affected });
    }
    await db.updateTable('retention_runs').set({ status: 'done', results: JSON.stringify(results), finished_at: new Date() }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  } catch (error) {
    await db
      .updateTable('retention_runs')
      .set({ status: 'failed', results: JSON.stringify(results), error: (error instanceof Error ? error.message : String(error)).slice(0, 2000), finished_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .execute();
    throw error;
  }
  return (await listRuns(db, workspaceId, 1, id))[0]!;
}

export async function listRuns(db: Kysely<Schema>, workspaceId: string, limit: number, id?: string): Promise<RetentionRun[]> {
  let q = db.selectFrom('retention_runs').selectAll().where('workspace_id', '=', workspaceId);
  if (id) q = q.where('id', '=', id);
  const rows = await q.orderBy('started_at', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, startedAt: r.started_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null, status: r.status as RetentionRun['status'], results: r.results as RetentionResult[], error: r.error }));
}
