import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import { memberIdsQuery, type CompileContext } from './compile.js';
import type { Rule } from './rule.js';
import { tagValuesQuery, type TagDefinition } from './tag-definition.js';

/**
 * Who is in each segment and who carries each computed tag, kept current.
 * A refresh computes the set with the compiled rule and applies only the
 * difference, in one statement per set: entries, exits and their
 * membership_changes rows (what activation triggers read) commit together.
 */

export type Cause = 'event' | 'refresh' | 'manual' | 'merge';

export interface SegmentDefinition {
  id: string;
  name: string;
  rule: Rule;
  dependsOn: readonly string[];
}

export interface ComputedTag {
  id: string;
  name: string;
  definition: Exclude<TagDefinition, { kind: 'manual' }>;
  dependsOn: readonly string[];
}

/** Every segment and computed tag of a workspace, in an order where what a rule reads is refreshed before it. */
export interface WorkspaceSets {
  ordered: Array<{ kind: 'segment'; set: SegmentDefinition } | { kind: 'tag'; set: ComputedTag }>;
  /** lower-cased tag name → id, for compiling tag conditions */
  tagIds: Map<string, string>;
}

export async function loadWorkspaceSets(db: Kysely<Schema>, workspaceId: string, only?: { timeRelative: true }): Promise<WorkspaceSets> {
  const [segments, tags] = await Promise.all([
    db.selectFrom('segments').select(['id', 'name', 'rule', 'depends_on', 'time_relative']).where('workspace_id', '=', workspaceId).orderBy('created_at').orderBy('id').execute(),
    db.selectFrom('tags').select(['id', 'name', 'kind', 'definition', 'depends_on', 'time_relative']).where('workspace_id', '=', workspaceId).orderBy('created_at').orderBy('id').execute(),
  ]);
  const tagIds = new Map(tags.map((t) => [t.name.toLowerCase(), t.id]));
  const nodes = new Map<string, WorkspaceSets['ordered'][number] & { deps: readonly string[]; timeRelative: boolean }>();
  for (const s of segments) nodes.set(s.id, { kind: 'segment', set: { id: s.id, name: s.name, rule: s.rule as Rule, dependsOn: s.depends_on }, deps: s.depends_on, timeRelative: s.time_relative });
  for (const t of tags) {
    if (t.kind === 'manual') continue;
    nodes.set(t.id, { kind: 'tag', set: { id: t.id, name: t.name, definition: t.definition as ComputedTag['definition'], dependsOn: t.depends_on }, deps: t.depends_on, timeRelative: t.time_relative });
  }
  const ordered: WorkspaceSets['ordered'] = [];
  const done = new Set<string>();
  const visit = (id: string, path: Set<string>) => {
    const node = nodes.get(id);
    // Manual tags and deleted sets have nothing to refresh; a cycle is refused on save, so `path` only guards against a bug.
    if (!node || done.has(id) || path.has(id)) return;
    path.add(id);
    for (const dep of node.deps) visit(dep, path);
    path.delete(id);
    done.add(id);
    ordered.push(node.kind === 'segment' ? { kind: 'segment', set: node.set as SegmentDefinition } : { kind: 'tag', set: node.set as ComputedTag });
  };
  for (const id of nodes.keys()) visit(id, new Set());
  if (only?.timeRelative) {
    // A set must be refreshed when time moves if it, or anything it reads, depends on time.
    const moving = new Set<string>();
    for (const entry of ordered) {
      const node = nodes.get(entry.set.id)!;
      if (node.timeRelative || node.deps.some((d) => moving.has(d))) moving.add(entry.set.id);
    }
    return { ordered: ordered.filter((e) => moving.has(e.set.id)), tagIds };
  }
  return { ordered, tagIds };
}

export interface SetChange {
  entered: number;
  exited: number;
}

/** Apply a segment's current membership for `ctx.profileIds` (or everyone), recording each entry and exit. */
export async function refreshSegment(db: Kysely<Schema>, segment: SegmentDefinition, ctx: CompileContext, cause: Cause): Promise<SetChange> {
  const ws = ctx.workspaceId;
  const only = ctx.profileIds ? sql` and m.profile_id = any(${[...ctx.profileIds]}::uuid[])` : sql``;
  const { rows } = await sql<{ entered: string | number; exited: string | number }>`
    with target as (${memberIdsQuery(segment.rule, ctx)}),
    entered as (
      insert into segment_members (workspace_id, segment_id, profile_id, entered_at)
      select ${ws}::text, ${segment.id}::text, t.id, ${ctx.now}::timestamptz from target t
      on conflict do nothing
      returning profile_id),
    exited as (
      delete from segment_members m
      where m.workspace_id = ${ws} and m.segment_id = ${segment.id}${only}
        and not exists (select 1 from target t where t.id = m.profile_id)
      returning m.profile_id),
    changes as (
      insert into membership_changes (workspace_id, kind, set_id, profile_id, change, value, cause, at)
      select ${ws}::text, 'segment', ${segment.id}::text, profile_id, 'enter', null, ${cause}::text, ${ctx.now}::timestamptz from entered
      union all
      select ${ws}::text, 'segment', ${segment.id}::text, profile_id, 'exit', null, ${cause}::text, ${ctx.now}::timestamptz from exited
      returning change)
    select count(*) filter (where change = 'enter') as entered, count(*) filter (where change = 'exit') as exited from changes`.execute(db);
  const change = { entered: Number(rows[0]?.entered ?? 0), exited: Number(rows[0]?.exited ?? 0) };
  if (ctx.profileIds === undefined) {
    await db
      .updateTable('segments')
      .set({ size: sql<number>`(select count(*) from segment_members m where m.workspace_id = ${ws} and m.segment_id = ${segment.id})`, refreshed_at: ctx.now })
      .where('workspace_id', '=', ws)
      .where('id', '=', segment.id)
      .execute();
  } else if (change.entered !== change.exited) {
    await db
      .updateTable('segments')
      .set({ size: sql<number>`size + ${change.entered - change.exited}` })
      .where('workspace_id', '=', ws)
      .where('id', '=', segment.id)
      .execute();
  }
  return change;
}

/**
 * Apply a computed tag's current values. A value that changes is an exit from
 * the old value and an entry into the new one, so a trigger on "age group
 * became 25-34" sees it.
 */
export async function refreshTag(db: Kysely<Schema>, tag: ComputedTag, ctx: CompileContext, cause: Cause): Promise<SetChange> {
  const ws = ctx.workspaceId;
  const only = ctx.profileIds ? sql` and pt.profile_id = any(${[...ctx.profileIds]}::uuid[])` : sql``;
  const target: RawBuilder<{ id: string; value: string }> = tagValuesQuery(tag.definition, ctx);
  const { rows } = await sql<{ entered: string | number; exited: string | number }>`
    with target as (${target}),
    previous as (
      select pt.profile_id, pt.value from profile_tags pt
      where pt.workspace_id = ${ws} and pt.tag_id = ${tag.id}${only}),
    upserted as (
      insert into profile_tags (workspace_id, tag_id, profile_id, value, added_at, added_by)
      select ${ws}::text, ${tag.id}::text, t.id, t.value, ${ctx.now}::timestamptz, null from target t
      on conflict (workspace_id, tag_id, profile_id) do update set value = excluded.value, added_at = excluded.added_at
        where profile_tags.value is distinct from excluded.value
      returning profile_id, value),
    removed as (
      delete from profile_tags pt
      where pt.workspace_id = ${ws} and pt.tag_id = ${tag.id}${only}
        and not exists (select 1 from target t where t.id = pt.profile_id)
      returning pt.profile_id, pt.value),
    changes as (
      insert into membership_changes (workspace_id, kind, set_id, profile_id, change, value, cause, at)
      select ${ws}::text, 'tag', ${tag.id}::text, prev.profile_id, 'exit', prev.value, ${cause}::text, ${ctx.now}
        from upserted u join previous prev on prev.profile_id = u.profile_id
      union all
      select ${ws}::text, 'tag', ${tag.id}::text, profile_id, 'exit', value, ${cause}::text, ${ctx.now}::timestamptz from removed
      union all
      select ${ws}::text, 'tag', ${tag.id}::text, u.profile_id, 'enter', u.value, ${cause}::text, ${ctx.now}::timestamptz from upserted u
      returning change)
    select count(*) filter (where change = 'enter') as entered, count(*) filter (where change = 'exit') as exited from changes`.execute(db);
  if (ctx.profileIds === undefined) await db.updateTable('tags').set({ refreshed_at: ctx.now }).where('workspace_id', '=', ws).where('id', '=', tag.id).execute();
  return { entered: Number(rows[0]?.entered ?? 0), exited: Number(rows[0]?.exited ?? 0) };
}

export interface RefreshOutcome {
  sets: number;
  entered: number;
  exited: number;
}

/** Refresh every set of a workspace, in dependency order; for some profiles (the pipeline) or all (scheduled, on demand). */
export async function refreshWorkspace(db: Kysely<Schema>, workspaceId: string, options: { now: Date; profileIds?: readonly string[]; cause: Cause; timeRelativeOnly?: boolean; sets?: WorkspaceSets }): Promise<RefreshOutcome> {
  const sets = options.sets ?? (await loadWorkspaceSets(db, workspaceId, options.timeRelativeOnly ? { timeRelative: true } : undefined));
  const outcome: RefreshOutcome = { sets: sets.ordered.length, entered: 0, exited: 0 };
  if (options.profileIds?.length === 0) return outcome;
  const ctx: CompileContext = { workspaceId, now: options.now, tagIds: sets.tagIds, ...(options.profileIds ? { profileIds: options.profileIds } : {}) };
  for (const entry of sets.ordered) {
    const change = await refreshSet(db, entry, ctx, options.cause);
    outcome.entered += change.entered;
    outcome.exited += change.exited;
  }
  if (options.profileIds === undefined && outcome.entered + outcome.exited > 0) await analyzeMembership(db);
  return outcome;
}

/**
 * Fresh planner statistics after a fill or full refresh. Without them the
 * pipeline's per-batch exit check on a segment that just grew to a million
 * members scans the whole segment instead of the batch's few profiles
 * (measured: 253 ms a batch instead of a few), and real time falls behind.
 */
export async function analyzeMembership(db: Kysely<Schema>): Promise<void> {
  if (db.isTransaction) return;
  await sql`analyze segment_members`.execute(db);
  await sql`analyze profile_tags`.execute(db);
}

/**
 * Refresh one set. Outside a transaction it takes the workspace lock for
 * the set's own short transaction: a refresh computed from a snapshot
 * older than a pipeline batch's commit would otherwise undo that batch's
 * entries. Inside one (the pipeline) the caller holds the lock already.
 */
export async function refreshSet(db: Kysely<Schema>, entry: WorkspaceSets['ordered'][number], ctx: CompileContext, cause: Cause): Promise<SetChange> {
  const run = (on: Kysely<Schema>) => (entry.kind === 'segment' ? refreshSegment(on, entry.set, ctx, cause) : refreshTag(on, entry.set, ctx, cause));
  if (db.isTransaction) return run(db);
  return db.transaction().execute(async (tx) => {
    await lockWorkspaceProfiles(tx, ctx.workspaceId);
    return run(tx);
  });
}

