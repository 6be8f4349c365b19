import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Keyring } from '../privacy/crypto.js';
import { classOfKey } from '../privacy/mask.js';
import type { Schema, SegmentSyncTable } from '../storage/schema.js';
import type { DestinationAdapter, MembershipEvent } from './adapter.js';
import { exportsMembers } from './adapters/open.js';
import type { ExportRows } from './adapters/file.js';
import { ActivationError, refuse, type Issue } from './activation-error.js';
import { openDestination } from './destinations.js';

/*
 * Segment syncs keep a destination told who is in a segment. Realtime: every
 * entry and exit, pushed from a cursor over membership_changes. Scheduled: the
 * full member list, exported every few hours. Syncs leave the platform without
 * a per-person consent check, so they carry pseudonymous profile ids and
 * non-identifying traits only.
 *
 * Two runners (a worker's schedule, a manual run, several worker processes)
 * take a sync by a short lease on next_run_at, so one sync is pushed by one
 * runner at a time; the cursor moves only after the destination has the events.
 */

export const SYNC_MODES = ['realtime', 'scheduled'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];
export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface SegmentSync {
  id: string;
  workspaceId: string;
  segmentId: string;
  destinationId: string;
  mode: SyncMode;
  format: ExportFormat | null;
  fields: string[];
  everyHours: number | null;
  /** the last membership change pushed (realtime) */
  cursor: string;
  enabled: boolean;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastError: string | null;
  /** events pushed (realtime) or rows exported (scheduled), in all */
  sent: number;
  createdBy: string | null;
  createdAt: Date;
}

export interface SyncInput {
  segmentId?: unknown;
  destinationId?: unknown;
  mode?: unknown;
  format?: unknown;
  fields?: unknown;
  everyHours?: unknown;
  enabled?: unknown;
}

/** The columns an export always has; a trait may not take their names. */
const EXPORT_COLUMNS = ['profile_id', 'entered_at'] as const;
export const MIN_EVERY_HOURS = 0.25;
const MAX_FIELDS = 100;
/** membership changes read and pushed per publish */
export const REALTIME_PAGE = 1000;
/** members read per query of an export */
export const EXPORT_PAGE = 5000;
// Longer than one page's publish can take (a webhook's timeout is at most two minutes).
const REALTIME_LEASE_MS = 5 * 60_000;
const EXPORT_LEASE_MS = 60 * 60_000;
const ERROR_CHARS = 500;

function toSync(row: Selectable<SegmentSyncTable>): SegmentSync {
  const fields = typeof row.fields === 'string' ? (JSON.parse(row.fields) as string[]) : row.fields;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    segmentId: row.segment_id,
    destinationId: row.destination_id,
    mode: row.mode,
    format: row.format,
    fields,
    everyHours: row.every_hours,
    cursor: String(row.cursor),
    enabled: row.enabled,
    nextRunAt: row.next_run_at ? new Date(row.next_run_at) : null,
    lastRunAt: row.last_run_at ? new Date(row.last_run_at) : null,
    lastError: row.last_error,
    sent: Number(row.sent),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
  };
}

/** Why `fields` cannot be exported, one issue per bad entry. Pure. */
export function fieldIssues(fields: unknown): Issue[] {
  if (!Array.isArray(fields)) return [{ field: 'fields', message: 'fields must be a list of trait names' }];
  if (fields.length > MAX_FIELDS) return [{ field: 'fields', message: `fields lists more than ${MAX_FIELDS} traits` }];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  fields.forEach((f, i) => {
    const field = `fields[${i}]`;
    if (typeof f !== 'string' || f.trim() === '' || f.length > 100) issues.push({ field, message: `${field} must be a trait name of 1 to 100 characters` });
    else if ((EXPORT_COLUMNS as readonly string[]).includes(f)) issues.push({ field, message: `${f} is always exported; leave it out of fields` });
    else if (classOfKey(f) === 'identifier')
      issues.push({ field, message: `${f} is an identifier and cannot be synced: syncs leave the platform without a per-person consent check, so they carry pseudonymous profile ids and non-identifying traits only` });
    else if (seen.has(f)) issues.push({ field, message: `${f} is listed twice` });
    else seen.add(f);
  });
  return issues;
}

/** Check a sync's shape (pure); whether its segment and destination exist is checked against the database. */
export function syncShapeIssues(input: { mode?: unknown; format?: unknown; fields?: unknown; everyHours?: unknown }): Issue[] {
  const issues: Issue[] = [];
  if (input.mode === 'realtime') {
    if (input.format !== undefined && input.format !== null) issues.push({ field: 'format', message: 'format is for scheduled syncs: a realtime sync pushes JSON events' });
    if (input.everyHours !== undefined && input.everyHours !== null) issues.push({ field: 'everyHours', message: 'everyHours is for scheduled syncs: a realtime sync pushes changes as they happen' });
    if (Array.isArray(input.fields) && input.fields.length > 0) issues.push({ field: 'fields', message: 'fields are for scheduled exports: realtime events carry the profile id only' });
  } else if (input.mode === 'scheduled') {
    if (!(EXPORT_FORMATS as readonly unknown[]).includes(input.format)) issues.push({ field: 'format', message: `format is required for a scheduled sync: ${EXPORT_FORMATS.join(' or ')}` });
    const every = input.everyHours;
    if (typeof every !== 'number' || !Number.isFinite(every) || every < MIN_EVERY_HOURS || every > 24 * 366) {
      issues.push({ field: 'everyHours', message: `everyHours is required for a scheduled sync: at least ${MIN_EVERY_HOURS} (15 minutes), at most a year` });
    }
    if (input.fields !== undefined) issues.push(...fieldIssues(input.fields));
  } else {
    issues.push({ field: 'mode', message: `mode must be ${SYNC_MODES.join(' or ')}` });
  }
  return issues;
}

async function refsIssues(db: Kysely<Schema>, workspaceId: string, mode: unknown, segmentId: unknown, destinationId: unknown): Promise<Issue[]> {
  const issues: Issue[] = [];
  if (typeof segmentId !== 'string' || segmentId === '') {
    issues.push({ field: 'segmentId', message: 'segmentId is required' });
  } else {
    const segment = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('id', '=', segmentId).executeTakeFirst();
    if (!segment) issues.push({ field: 'segmentId', message: `no segment ${segmentId}` });
  }
  if (typeof destinationId !== 'string' || destinationId === '') {
    issues.push({ field: 'destinationId', message: 'destinationId is required' });
  } else {
    const destination = await db.selectFrom('destinations').select(['id', 'name', 'kind']).where('workspace_id', '=', workspaceId).where('id', '=', destinationId).executeTakeFirst();
    if (!destination) issues.push({ field: 'destinationId', message: `no destination ${destinationId}` });
    else if (mode === 'scheduled' && !exportsMembers(destination.kind as 'file')) {
      issues.push({ field: 'destinationId', message: `destination ${destination.name} is a ${destination.kind} destination, which cannot write member exports: a scheduled sync needs a file destination` });
    }
  }
  return issues;
}

/** The newest membership change of a workspace: where a new realtime sync starts. */
async function latestChange(db: Kysely<Schema>, workspaceId: string): Promise<string> {
  const row = await db.selectFrom('membership_changes').select((eb) => eb.fn.max('id').as('id')).where('workspace_id', '=', workspaceId).executeTakeFirst();
  return row?.id === null || row?.id === undefined ? '0' : String(row.id);
}

/**
 * Save a sync. A realtime one starts at the workspace's newest membership
 * change: it pushes changes from now on (the full list is what a scheduled
 * sync is for).
 */
export async function createSegmentSync(db: Kysely<Schema>, workspaceId: string, input: SyncInput, actor: string | null, now = new Date()): Promise<SegmentSync> {
  const issues = [...syncShapeIssues(input)];
  issues.push(...(await refsIssues(db, workspaceId, input.mode, input.segmentId, input.destinationId)));
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') issues.push({ field: 'enabled', message: 'enabled must be true or false' });
  if (issues.length > 0) refuse(issues);
  const mode = input.mode as SyncMode;
  const row = await db
    .insertInto('segment_syncs')
    .values({
      workspace_id: workspaceId,
      id: randomUUID(),
      segment_id: input.segmentId as string,
      destination_id: input.destinationId as string,
      mode,
      format: mode === 'scheduled' ? (input.format as ExportFormat) : null,
      fields: JSON.stringify(mode === 'scheduled' ? ((input.fields as string[] | undefined) ?? []) : []),
      every_hours: mode === 'scheduled' ? (input.everyHours as number) : null,
      cursor: mode === 'realtime' ? await latestChange(db, workspaceId) : 0,
      enabled: input.enabled !== false,
      // Null: due at once, so a new scheduled sync writes its first export on the next run.
      next_run_at: null,
      created_by: actor,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSync(row);
}

export async function listSegmentSyncs(db: Kysely<Schema>, workspaceId: string, segmentId?: string): Promise<SegmentSync[]> {
  let q = db.selectFrom('segment_syncs').selectAll().where('workspace_id', '=', workspaceId);
  if (segmentId) q = q.where('segment_id', '=', segmentId);
  return (await q.orderBy('created_at').orderBy('id').execute()).map(toSync);
}

export async function getSegmentSync(db: Kysely<Schema>, workspaceId: string, id: string): Promise<SegmentSync | null> {
  const row = await db.selectFrom('segment_syncs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? toSync(row) : null;
}

async function existing(db: Kysely<Schema>, workspaceId: string, id: string): Promise<SegmentSync> {
  const sync = await getSegmentSync(db, workspaceId, id);
  if (!sync) throw new ActivationError('not_found', 'id', `no segment sync ${id}`);
  return sync;
}

/**
 * Enable or disable a sync, or change a scheduled one's format, fields and
 * interval. A realtime sync enabled again goes on from its cursor: what
 * changed while it was off is pushed, not skipped.
 */
export async function updateSegmentSync(db: Kysely<Schema>, workspaceId: string, id: string, patch: SyncInput): Promise<SegmentSync> {
  const current = await existing(db, workspaceId, id);
  const issues: Issue[] = [];
  for (const fixed of ['segmentId', 'destinationId', 'mode'] as const) {
    const given = patch[fixed];
    const stored = current[fixed];
    if (given !== undefined && given !== stored) issues.push({ field: fixed, message: `${fixed} of a sync cannot change: make a new sync` });
  }
  if (patch.enabled !== undefined && typeof patch.enabled !== 'boolean') issues.push({ field: 'enabled', message: 'enabled must be true or false' });
  const next = {
    mode: current.mode,
    format: patch.format !== undefined ? patch.format : current.format,
    fields: patch.fields !== undefined ? patch.fields : current.fields,
    everyHours: patch.everyHours !== undefined ? patch.everyHours : current.everyHours,
  };
  issues.push(...syncShapeIssues(next));
  if (issues.length > 0) refuse(issues);
  const scheduled = current.mode === 'scheduled';
  const row = await db
    .updateTable('segment_syncs')
    .set({
      ...(typeof patch.enabled === 'boolean' ? { enabled: patch.enabled } : {}),
      ...(scheduled ? { format: next.format as ExportFormat, fields: JSON.stringify(next.fields), every_hours: next.everyHours as number } : {}),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new ActivationError('not_found', 'id', `no segment sync ${id}`);
  return toSync(row);
}

export async function deleteSegmentSync(db: Kysely<Schema>, workspaceId: string, id: string): Promise<SegmentSync> {
  const current = await existing(db, workspaceId, id);
  await db.deleteFrom('segment_syncs').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  return current;
}

export interface SyncRunOptions {
  activationDir: string;
  now?: Date;
  signal?: AbortSignal;
}

/** Take a sync for this runner unless another holds it; answers the row as taken, or null. */
async function claim(db: Kysely<Schema>, sync: { workspaceId: string; id: string }, now: Date, leaseMs: number, force: boolean): Promise<SegmentSync | null> {
  let q = db
    .updateTable('segment_syncs')
    .set({ next_run_at: new Date(now.getTime() + leaseMs) })
    .where('workspace_id', '=', sync.workspaceId)
    .where('id', '=', sync.id);
  if (!force) q = q.where((eb) => eb.or([eb('next_run_at', 'is', null), eb('next_run_at', '<=', now)]));
  const row = await q.returningAll().executeTakeFirst();
  return row ? toSync(row) : null;
}

const short = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, ERROR_CHARS);

/** Adapters opened during one run, by destination: a destination many syncs use is connected once. */
function adapterCache(db: Kysely<Schema>, keyring: Keyring, options: SyncRunOptions) {
  const open = new Map<string, Promise<DestinationAdapter>>();
  return {
    get(workspaceId: string, destinationId: string): Promise<DestinationAdapter> {
      const key = `${workspaceId}\n${destinationId}`;
      let adapter = open.get(key);
      if (!adapter) {
        adapter = openDestination(db, keyring, workspaceId, destinationId, options);
        // A failed open is not kept: the next sync of this run tries again.
        adapter.catch(() => open.delete(key));
        open.set(key, adapter);
      }
      return adapter;
    },
    async closeAll(): Promise<void> {
      const adapters = await Promise.allSettled(open.values());
      await Promise.allSettled(adapters.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
    },
  };
}

/** Push one taken realtime sync's changes, page by page; answers the events pushed. Records a failure rather than throwing. */
async function pushRealtime(db: Kysely<Schema>, sync: SegmentSync, adapter: () => Promise<DestinationAdapter>, options: SyncRunOptions): Promise<{ pushed: number; error: string | null }> {
  const now = options.now ?? new Date();
  let cursor = sync.cursor;
  let pushed = 0;
  let error: string | null = null;
  try {
    const segment = await db.selectFrom('segments').select('name').where('workspace_id', '=', sync.workspaceId).where('id', '=', sync.segmentId).executeTakeFirst();
    if (!segment) throw new Error(`segment ${sync.segmentId} no longer exists: delete this sync`);
    for (;;) {
      options.signal?.throwIfAborted();
      const changes = await db
        .selectFrom('membership_changes')
        .select(['id', 'profile_id', 'change', 'at'])
        .where('workspace_id', '=', sync.workspaceId)
        .where('kind', '=', 'segment')
        .where('set_id', '=', sync.segmentId)
        .where('id', '>', cursor)
        .orderBy('id')
        .limit(REALTIME_PAGE)
        .execute();
      if (changes.length === 0) break;
      const events: MembershipEvent[] = changes.map((c) => ({
        type: c.change === 'exit' ? 'segment.exited' : 'segment.entered',
        workspaceId: sync.workspaceId,
        segmentId: sync.segmentId,
        segmentName: segment.name,
        profileId: c.profile_id,
        at: new Date(c.at).toISOString(),
        sequence: String(c.id),
      }));
      await (await adapter()).publish(events, options.signal);
      const last = String(changes[changes.length - 1]!.id);
      // Only after the destination has them; the lease is renewed with each page so a long backlog keeps its runner.
      await db
        .updateTable('segment_syncs')
        .set((eb) => ({ cursor: last, sent: eb('sent', '+', events.length), last_error: null, next_run_at: new Date(Date.now() + REALTIME_LEASE_MS) }))
        .where('workspace_id', '=', sync.workspaceId)
        .where('id', '=', sync.id)
        .execute();
      cursor = last;
      pushed += events.length;
      if (changes.length < REALTIME_PAGE) break;
    }
  } catch (failure) {
    // A shutdown is not the destination's fault: the sync just goes on at the next run.
    if (!options.signal?.aborted) error = short(failure);
  }
  // Released: the next run (or the next after a failure) may take it at once.
  await db
    .updateTable('segment_syncs')
    .set({ next_run_at: null, last_run_at: now, ...(error !== null ? { last_error: error } : {}) })
    .where('workspace_id', '=', sync.workspaceId)
    .where('id', '=', sync.id)
    .execute();
  return { pushed, error };
}

/** A segment's members with the sync's traits, a page at a time (keyset on profile_id). */
function memberRows(db: Kysely<Schema>, sync: SegmentSync, signal: AbortSignal | undefined): ExportRows {
  const fields = sync.fields;
  const rows = {
    columns: [...EXPORT_COLUMNS, ...fields],
    async *[Symbol.asyncIterator]() {
      let after: string | null = null;
      for (;;) {
        signal?.throwIfAborted();
        let q = db
          .selectFrom('segment_members as m')
          .innerJoin('profiles as p', (join) => join.onRef('p.workspace_id', '=', 'm.workspace_id').onRef('p.id', '=', 'm.profile_id'))
          .select(['m.profile_id', 'm.entered_at', 'p.traits'])
          .where('m.workspace_id', '=', sync.workspaceId)
          .where('m.segment_id', '=', sync.segmentId);
        if (after !== null) q = q.where('m.profile_id', '>', after);
        const page = await q.orderBy('m.profile_id').limit(EXPORT_PAGE).execute();
        for (const r of page) {
          const traits = (typeof r.traits === 'string' ? JSON.parse(r.traits) : r.traits) as Record<string, unknown>;
          const row: Record<string, unknown> = { profile_id: r.profile_id, entered_at: new Date(r.entered_at).toISOString() };
          for (const f of fields) row[f] = traits[f] ?? null;
          yield row;
        }
        if (page.length < EXPORT_PAGE) return;
        after = page[page.length - 1]!.profile_id;
      }
    },
  };
  return rows;
}

async function exportScheduled(db: Kysely<Schema>, sync: SegmentSync, adapter: () => Promise<DestinationAdapter>, options: SyncRunOptions): Promise<{ rows: number; location: string | null; error: string | null }> {
  const now = options.now ?? new Date();
  let rows = 0;
  let location: string | null = null;
  let error: string | null = null;
  try {
    const segment = await db.selectFrom('segments').select('id').where('workspace_id', '=', sync.workspaceId).where('id', '=', sync.segmentId).executeTakeFirst();
    if (!segment) throw new Error(`segment ${sync.segmentId} no longer exists: delete this sync`);
    const opened = await adapter();
    if (!opened.exportMembers) throw new Error(`destination ${sync.destinationId} cannot write member exports: a scheduled sync needs a file destination`);
    const written = await opened.exportMembers(`segment-${sync.segmentId}`, sync.format ?? 'csv', memberRows(db, sync, options.signal), options.signal);
    rows = written.rows;
    location = written.location;
  } catch (failure) {
    if (options.signal?.aborted) {
      // Stopped by a shutdown: due again at once, for the next runner.
      await db.updateTable('segment_syncs').set({ next_run_at: null }).where('workspace_id', '=', sync.workspaceId).where('id', '=', sync.id).execute();
      return { rows: 0, location: null, error: null };
    }
    error = short(failure);
  }
  // A failed export is tried again within the hour (or at its own interval, if shorter), not every minute:
  // a broken destination rarely mends in seconds, and a daily export should not wait a day for a blip.
  const every = sync.everyHours ?? 24;
  const nextRunAt = new Date(now.getTime() + (error === null ? every : Math.min(every, 1)) * 3_600_000);
  await db
    .updateTable('segment_syncs')
    .set((eb) => ({ last_run_at: now, next_run_at: nextRunAt, sent: eb('sent', '+', rows), last_error: error }))
    .where('workspace_id', '=', sync.workspaceId)
    .where('id', '=', sync.id)
    .execute();
  return { rows, location, error };
}

/**
 * Push the new entries and exits of every enabled realtime sync; answers the
 * events pushed. A sync whose destination fails keeps its cursor and records
 * last_error; the next run sends the same events again.
 */
export async function runRealtimeSyncs(db: Kysely<Schema>, keyring: Keyring, options: SyncRunOptions): Promise<number> {
  const now = options.now ?? new Date();
  const due = await db
    .selectFrom('segment_syncs')
    .select(['workspace_id', 'id'])
    .where('mode', '=', 'realtime')
    .where('enabled', '=', true)
    .where((eb) => eb.or([eb('next_run_at', 'is', null), eb('next_run_at', '<=', now)]))
    .orderBy('workspace_id')
    .orderBy('id')
    .execute();
  const adapters = adapterCache(db, keyring, options);
  let pushed = 0;
  try {
    for (const d of due) {
      if (options.signal?.aborted) break;
      const sync = await claim(db, { workspaceId: d.workspace_id, id: d.id }, now, REALTIME_LEASE_MS, false);
      if (!sync) continue;
      pushed += (await pushRealtime(db, sync, () => adapters.get(sync.workspaceId, sync.destinationId), options)).pushed;
    }
  } finally {
    await adapters.closeAll();
  }
  return pushed;
}

/** Export the member list of every enabled scheduled sync that is due; answers the rows written. */
export async function runScheduledSyncs(db: Kysely<Schema>, keyring: Keyring, options: SyncRunOptions): Promise<number> {
  const now = options.now ?? new Date();
  const due = await db
    .selectFrom('segment_syncs')
    .select(['workspace_id', 'id'])
    .where('mode', '=', 'scheduled')
    .where('enabled', '=', true)
    .where((eb) => eb.or([eb('next_run_at', 'is', null), eb('next_run_at', '<=', now)]))
    .orderBy('next_run_at', (ob) => ob.asc().nullsFirst())
    .execute();
  const adapters = adapterCache(db, keyring, options);
  let rows = 0;
  try {
    for (const d of due) {
      if (options.signal?.aborted) break;
      const sync = await claim(db, { workspaceId: d.workspace_id, id: d.id }, now, EXPORT_LEASE_MS, false);
      if (!sync) continue;
      rows += (await exportScheduled(db, sync, () => adapters.get(sync.workspaceId, sync.destinationId), options)).rows;
    }
  } finally {
    await adapters.closeAll();
  }
  return rows;
}

export interface SyncRunResult {
  mode: SyncMode;
  /** events pushed (realtime) or rows exported (scheduled) */
  sent: number;
  /** a scheduled export's file */
  location: string | null;
  error: string | null;
}

/**
 * Run one sync now, whatever its schedule (enabled or not: running it is
 * asking for it). A realtime sync another runner holds is refused, so the
 * same events are not pushed twice at once.
 */
export async function runSegmentSync(db: Kysely<Schema>, keyring: Keyring, workspaceId: string, id: string, options: SyncRunOptions): Promise<SyncRunResult> {
  const current = await existing(db, workspaceId, id);
  const now = options.now ?? new Date();
  const realtime = current.mode === 'realtime';
  const sync = await claim(db, current, now, realtime ? REALTIME_LEASE_MS : EXPORT_LEASE_MS, !realtime);
  if (!sync) throw new ActivationError('conflict', 'id', `segment sync ${id} is being run right now; try again in a few minutes`);
  const adapters = adapterCache(db, keyring, options);
  try {
    const adapter = () => adapters.get(workspaceId, sync.destinationId);
    if (realtime) {
      const { pushed, error } = await pushRealtime(db, sync, adapter, options);
      return { mode: 'realtime', sent: pushed, location: null, error };
    }
    const { rows, location, error } = await exportScheduled(db, sync, adapter, options);
    return { mode: 'scheduled', sent: rows, location, error };
  } finally {
    await adapters.closeAll();
  }
}
