import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { countQuery, memberIdsQuery, type CompileContext } from './compile.js';
import { analyzeMembership, loadWorkspaceSets, refreshSet, refreshWorkspace, type SegmentDefinition } from './membership.js';
import { isTimeRelative, segmentReferences, tagReferences, type Rule } from './rule.js';
import { definitionSegmentReferences, definitionTagReferences, tagDefinitionIssues, type TagDefinition } from './tag-definition.js';
import { validateRule, type KnownNames, type RuleIssue } from './validate.js';

/** A refusal the API turns into 400/404/409, naming the field. */
export class SegmentError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not_found' | 'conflict',
    readonly field: string,
    message: string,
    readonly issues: RuleIssue[] = [],
  ) {
    super(message);
  }
}

export interface Segment {
  id: string;
  name: string;
  description: string | null;
  rule: Rule;
  size: number;
  timeRelative: boolean;
  refreshedAt: string | null;
  refreshMs: number | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Tag {
  id: string;
  name: string;
  kind: TagDefinition['kind'];
  definition: TagDefinition;
  profiles: number;
  refreshedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

async function knownNames(db: Kysely<Schema>, workspaceId: string): Promise<KnownNames & { tagIdsByName: Map<string, string> }> {
  const [segments, tags] = await Promise.all([
    db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).execute(),
    db.selectFrom('tags').select(['id', 'name']).where('workspace_id', '=', workspaceId).execute(),
  ]);
  const tagIdsByName = new Map(tags.map((t) => [t.name.toLowerCase(), t.id]));
  return { segmentIds: new Set(segments.map((s) => s.id)), tagNames: new Set(tagIdsByName.keys()), tagIdsByName };
}

/** Refuse a set whose rule reads, directly or through others, the set itself. */
async function refuseCycle(db: Kysely<Schema>, workspaceId: string, id: string, dependsOn: readonly string[], field: string) {
  const [segments, tags] = await Promise.all([
    db.selectFrom('segments').select(['id', 'depends_on']).where('workspace_id', '=', workspaceId).execute(),
    db.selectFrom('tags').select(['id', 'depends_on']).where('workspace_id', '=', workspaceId).execute(),
  ]);
  const deps = new Map<string, readonly string[]>([...segments, ...tags].map((s) => [s.id, s.depends_on]));
  deps.set(id, dependsOn);
  const seen = new Set<string>();
  const stack = [...dependsOn];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next === id) throw new SegmentError('invalid', field, 'the rule refers back to itself through the segments and tags it reads');
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(deps.get(next) ?? []));
  }
}

/** A set other rules read cannot go: they would silently change meaning. */
async function refuseIfRead(db: Kysely<Schema>, workspaceId: string, id: string, what: 'segment' | 'tag') {
  const users = await Promise.all([
    db.selectFrom('segments').select('name').where('workspace_id', '=', workspaceId).where(sql<boolean>`${id} = any(depends_on)`).execute(),
    db.selectFrom('tags').select('name').where('workspace_id', '=', workspaceId).where(sql<boolean>`${id} = any(depends_on)`).execute(),
  ]);
  const names = users.flat().map((u) => u.name);
  if (names.length > 0) throw new SegmentError('conflict', 'id', `the ${what} is read by ${names.join(', ')}; change those first`);
  if (what === 'segment') {
    // Campaigns (as audience or trigger) and syncs that name it would quietly stop reaching anyone.
    const [campaigns, syncs] = await Promise.all([
      db
        .selectFrom('campaigns')
        .select('name')
        .where('workspace_id', '=', workspaceId)
        .where('status', 'in', ['draft', 'active', 'paused'])
        .where((eb) => eb.or([eb('segment_id', '=', id), sql<boolean>`schedule -> 'trigger' ->> 'segmentId' = ${id}`]))
        .execute(),
      db.selectFrom('segment_syncs').select('id').where('workspace_id', '=', workspaceId).where('segment_id', '=', id).execute(),
    ]);
    if (campaigns.length > 0) throw new SegmentError('conflict', 'id', `the segment is the audience or trigger of campaign ${campaigns.map((c) => c.name).join(', ')}; stop or change those first`);
    if (syncs.length > 0) throw new SegmentError('conflict', 'id', `the segment is synced to a destination (${syncs.length} sync${syncs.length === 1 ? '' : 's'}); delete those first`);
  }
}

function toSegment(row: Selectable<Schema['segments']>): Segment {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    rule: row.rule as Rule,
    size: row.size,
    timeRelative: row.time_relative,
    refreshedAt: row.refreshed_at?.toISOString() ?? null,
    refreshMs: row.refresh_ms,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function createSegmentStore(db: Kysely<Schema>) {
  async function checkedRule(workspaceId: string, rule: Rule, selfId: string | null) {
    const known = await knownNames(db, workspaceId);
    const issues = validateRule(rule, known);
    if (issues.length > 0) throw new SegmentError('invalid', issues[0]!.path, `${issues[0]!.path}: ${issues[0]!.message}`, issues);
    const dependsOn = [...new Set([...segmentReferences(rule), ...tagReferences(rule).map((name) => known.tagIdsByName.get(name.toLowerCase())!)])];
    if (selfId) await refuseCycle(db, workspaceId, selfId, dependsOn, 'rule');
    return { dependsOn, tagIds: known.tagIdsByName };
  }

  async function refreshOne(workspaceId: string, id: string, now: Date): Promise<void> {
    const sets = await loadWorkspaceSets(db, workspaceId);
    const entry = sets.ordered.find((e) => e.set.id === id);
    if (!entry || entry.kind !== 'segment') return;
    const started = performance.now();
    await refreshSet(db, entry, { workspaceId, now, tagIds: sets.tagIds }, 'refresh');
    await db.updateTable('segments').set({ refresh_ms: Math.round(performance.now() - started) }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
    await analyzeMembership(db);
  }

  const self = {
    async list(workspaceId: string): Promise<Segment[]> {
      const rows = await db.selectFrom('segments').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute();
      return rows.map(toSegment);
    },

    async get(workspaceId: string, id: string): Promise<Segment | null> {
      const row = await db.selectFrom('segments').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return row ? toSegment(row) : null;
    },

    /** Save a segment and fill it at once: it is usable (and sized) when this returns. */
    async create(workspaceId: string, input: { name: string; description?: string | null; rule: Rule }, actor: string | null, now = new Date()): Promise<Segment> {
      const id = randomUUID();
      const { dependsOn } = await checkedRule(workspaceId, input.rule, id);
      const taken = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where(sql<boolean>`lower(name) = lower(${input.name})`).executeTakeFirst();
      if (taken) throw new SegmentError('conflict', 'name', `a segment named ${input.name} exists already (${taken.id})`);
      await db
        .insertInto('segments')
        .values({
          workspace_id: workspaceId,
          id,
          name: input.name,
          description: input.description ?? null,
          rule: JSON.stringify(input.rule),
          depends_on: dependsOn,
          time_relative: isTimeRelative(input.rule),
          created_by: actor,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await refreshOne(workspaceId, id, now);
      return (await self.get(workspaceId, id))!;
    },

    async update(workspaceId: string, id: string, input: { name?: string; description?: string | null; rule?: Rule }, now = new Date()): Promise<Segment> {
      const current = await self.get(workspaceId, id);
      if (!current) throw new SegmentError('not_found', 'id', `no segment ${id}`);
      if (input.name !== undefined && input.name.toLowerCase() !== current.name.toLowerCase()) {
        const taken = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where(sql<boolean>`lower(name) = lower(${input.name})`).executeTakeFirst();
        if (taken) throw new SegmentError('conflict', 'name', `a segment named ${input.name} exists already (${taken.id})`);
      }
      const rule = input.rule ?? current.rule;
      const { dependsOn } = await checkedRule(workspaceId, rule, id);
      await db
        .updateTable('segments')
        .set({
          name: input.name ?? current.name,
          description: input.description === undefined ? current.description : input.description,
          rule: JSON.stringify(rule),
          depends_on: dependsOn,
          time_relative: isTimeRelative(rule),
          updated_at: now,
        })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .execute();
      if (input.rule) await refreshOne(workspaceId, id, now);
      return (await self.get(workspaceId, id))!;
    },

    async remove(workspaceId: string, id: string): Promise<void> {
      await refuseIfRead(db, workspaceId, id, 'segment');
      await db.transaction().execute(async (tx) => {
        const gone = await tx.deleteFrom('segments').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0) throw new SegmentError('not_found', 'id', `no segment ${id}`);
        await tx.deleteFrom('segment_members').where('workspace_id', '=', workspaceId).where('segment_id', '=', id).execute();
      });
    },

    /** Count and sample a rule without saving it. */
    async preview(workspaceId: string, rule: Rule, sampleSize = 20, now = new Date()): Promise<{ count: number; sample: string[]; ms: number }> {
      const { tagIds } = await checkedRule(workspaceId, rule, null);
      const ctx: CompileContext = { workspaceId, now, tagIds };
      const started = performance.now();
      const [count, sample] = await Promise.all([countQuery(rule, ctx).execute(db), sql<{ id: string }>`${memberIdsQuery(rule, ctx)} order by p.id limit ${sampleSize}`.execute(db)]);
      return { count: Number(count.rows[0]?.count ?? 0), sample: sample.rows.map((r) => r.id), ms: Math.round(performance.now() - started) };
    },

    /** Members in profile id order, a page at a time (keyset: pass the last id back as `after`). */
    async members(workspaceId: string, id: string, after: string | null, limit: number): Promise<string[]> {
      let q = db.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', workspaceId).where('segment_id', '=', id);
      if (after) q = q.where('profile_id', '>', after);
      const rows = await q.orderBy('profile_id').limit(limit).execute();
      return rows.map((r) => r.profile_id);
    },

    async refresh(workspaceId: string, id: string, now = new Date()): Promise<Segment> {
      if (!(await self.get(workspaceId, id))) throw new SegmentError('not_found', 'id', `no segment ${id}`);
      await refreshOne(workspaceId, id, now);
      return (await self.get(workspaceId, id))!;
    },

    /** Refresh every segment and computed tag of a workspace, in dependency order. */
    refreshAll(workspaceId: string, now = new Date(), timeRelativeOnly = false) {
      return refreshWorkspace(db, workspaceId, { now, cause: 'refresh', timeRelativeOnly });
    },

    /** Entries and exits in order, after a cursor: what activation triggers read. */
    async changes(workspaceId: string, options: { after?: string; setId?: string; profileId?: string; limit: number }) {
      let q = db.selectFrom('membership_changes').selectAll().where('workspace_id', '=', workspaceId);
      if (options.after) q = q.where('id', '>', options.after);
      if (options.setId) q = q.where('set_id', '=', options.setId);
      if (options.profileId) q = q.where('profile_id', '=', options.profileId);
      const rows = await q.orderBy('id').limit(options.limit).execute();
      return rows.map((r) => ({ id: String(r.id), kind: r.kind, setId: r.set_id, profileId: r.profile_id, change: r.change, value: r.value, cause: r.cause, at: r.at.toISOString() }));
    },
  };
  return self;
}

export type SegmentStore = ReturnType<typeof createSegmentStore>;

function toTag(row: { id: string; name: string; kind: string; definition: unknown; refreshed_at: Date | null; created_at: Date; updated_at: Date }, profiles: number): Tag {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as Tag['kind'],
    definition: (row.definition ?? { kind: 'manual' }) as TagDefinition,
    profiles,
    refreshedAt: row.refreshed_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function createTagStore(db: Kysely<Schema>) {
  async function counts(workspaceId: string): Promise<Map<string, number>> {
    const rows = await db.selectFrom('profile_tags').select(['tag_id', sql<string>`count(*)`.as('n')]).where('workspace_id', '=', workspaceId).groupBy('tag_id').execute();
    return new Map(rows.map((r) => [r.tag_id, Number(r.n)]));
  }

  const self = {
    async list(workspaceId: string): Promise<Tag[]> {
      const [rows, n] = await Promise.all([db.selectFrom('tags').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute(), counts(workspaceId)]);
      return rows.map((r) => toTag(r, n.get(r.id) ?? 0));
    },

    async get(workspaceId: string, id: string): Promise<Tag | null> {
      const row = await db.selectFrom('tags').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const n = await db.selectFrom('profile_tags').select(sql<string>`count(*)`.as('n')).where('workspace_id', '=', workspaceId).where('tag_id', '=', id).executeTakeFirstOrThrow();
      return toTag(row, Number(n.n));
    },

    /** Save a tag; a computed one is applied to every profile before this returns. */
    async create(workspaceId: string, input: { name: string; definition: TagDefinition }, now = new Date()): Promise<Tag> {
      const known = await knownNames(db, workspaceId);
      if (known.tagNames.has(input.name.toLowerCase())) throw new SegmentError('conflict', 'name', `a tag named ${input.name} exists already`);
      const id = randomUUID();
      const dependsOn = await checkedDefinition(workspaceId, id, input.definition, known);
      await db
        .insertInto('tags')
        .values({
          workspace_id: workspaceId,
          id,
          name: input.name,
          kind: input.definition.kind,
          definition: JSON.stringify(input.definition),
          depends_on: dependsOn,
          time_relative: timeRelativeDefinition(input.definition),
          created_at: now,
          updated_at: now,
        })
        .execute();
      await refreshComputed(workspaceId, id, now);
      return (await self.get(workspaceId, id))!;
    },

    async update(workspaceId: string, id: string, input: { name?: string; definition?: TagDefinition }, now = new Date()): Promise<Tag> {
      const current = await self.get(workspaceId, id);
      if (!current) throw new SegmentError('not_found', 'id', `no tag ${id}`);
      const known = await knownNames(db, workspaceId);
      if (input.name !== undefined && input.name.toLowerCase() !== current.name.toLowerCase() && known.tagNames.has(input.name.toLowerCase()))
        throw new SegmentError('conflict', 'name', `a tag named ${input.name} exists already`);
      const definition = input.definition ?? current.definition;
      const dependsOn = await checkedDefinition(workspaceId, id, definition, known);
      await db
        .updateTable('tags')
        .set({ name: input.name ?? current.name, kind: definition.kind, definition: JSON.stringify(definition), depends_on: dependsOn, time_relative: timeRelativeDefinition(definition), updated_at: now })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .execute();
      if (input.definition) {
        // A tag turned manual keeps whom it had; a computed one is recomputed from scratch.
        await refreshComputed(workspaceId, id, now);
      }
      return (await self.get(workspaceId, id))!;
    },

    async remove(workspaceId: string, id: string): Promise<void> {
      await refuseIfRead(db, workspaceId, id, 'tag');
      await db.transaction().execute(async (tx) => {
        const gone = await tx.deleteFrom('tags').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0) throw new SegmentError('not_found', 'id', `no tag ${id}`);
        await tx.deleteFrom('profile_tags').where('workspace_id', '=', workspaceId).where('tag_id', '=', id).execute();
      });
    },

    /**
     * Add a manual tag to profiles (by id, or every member of a segment).
     * Merged-away ids count as the profile they became; unknown ids are
     * returned, not silently dropped.
     */
    async add(workspaceId: string, id: string, target: { profileIds?: readonly string[]; segment?: string }, actor: string | null, now = new Date()) {
      const tag = await self.get(workspaceId, id);
      if (!tag) throw new SegmentError('not_found', 'id', `no tag ${id}`);
      if (tag.kind !== 'manual') throw new SegmentError('conflict', 'id', `${tag.name} is computed from its ${tag.kind} definition; only manual tags are added by hand`);
      const { found, unknown } = await liveIds(workspaceId, target);
      if (found.length === 0) return { added: 0, unknown };
      const { rows } = await sql<{ n: string | number }>`
        with added as (
          insert into profile_tags (workspace_id, tag_id, profile_id, value, added_at, added_by)
          select ${workspaceId}::text, ${id}::text, x, '', ${now}::timestamptz, ${actor}::text from unnest(${found}::uuid[]) as x
          on conflict do nothing
          returning profile_id),
        changes as (
          insert into membership_changes (workspace_id, kind, set_id, profile_id, change, value, cause, at)
          select ${workspaceId}::text, 'tag', ${id}::text, profile_id, 'enter', '', 'manual', ${now}::timestamptz from added
          returning 1)
        select count(*) as n from changes`.execute(db);
      return { added: Number(rows[0]?.n ?? 0), unknown };
    },

    async removeFrom(workspaceId: string, id: string, target: { profileIds?: readonly string[]; segment?: string }, now = new Date()) {
      const tag = await self.get(workspaceId, id);
      if (!tag) throw new SegmentError('not_found', 'id', `no tag ${id}`);
      if (tag.kind !== 'manual') throw new SegmentError('conflict', 'id', `${tag.name} is computed from its ${tag.kind} definition; only manual tags are removed by hand`);
      const { found, unknown } = await liveIds(workspaceId, target);
      if (found.length === 0) return { removed: 0, unknown };
      const { rows } = await sql<{ n: string | number }>`
        with removed as (
          delete from profile_tags where workspace_id = ${workspaceId} and tag_id = ${id} and profile_id = any(${found}::uuid[])
          returning profile_id),
        changes as (
          insert into membership_changes (workspace_id, kind, set_id, profile_id, change, value, cause, at)
          select ${workspaceId}::text, 'tag', ${id}::text, profile_id, 'exit', '', 'manual', ${now}::timestamptz from removed
          returning 1)
        select count(*) as n from changes`.execute(db);
      return { removed: Number(rows[0]?.n ?? 0), unknown };
    },
  };

  async function checkedDefinition(workspaceId: string, id: string, definition: TagDefinition, known: KnownNames & { tagIdsByName: Map<string, string> }): Promise<string[]> {
    const issues = tagDefinitionIssues(definition, known);
    if (issues.length > 0) throw new SegmentError('invalid', issues[0]!.path, `${issues[0]!.path}: ${issues[0]!.message}`, issues);
    const dependsOn = [...new Set([...definitionSegmentReferences(definition), ...definitionTagReferences(definition).map((n) => known.tagIdsByName.get(n.toLowerCase())!)])];
    await refuseCycle(db, workspaceId, id, dependsOn, 'definition');
    return dependsOn;
  }

  async function refreshComputed(workspaceId: string, id: string, now: Date) {
    const sets = await loadWorkspaceSets(db, workspaceId);
    const entry = sets.ordered.find((e) => e.set.id === id);
    if (entry?.kind === 'tag') {
      await refreshSet(db, entry, { workspaceId, now, tagIds: sets.tagIds }, 'refresh');
      await analyzeMembership(db);
    }
  }

  async function liveIds(workspaceId: string, target: { profileIds?: readonly string[]; segment?: string }): Promise<{ found: string[]; unknown: string[] }> {
    if (target.segment !== undefined) {
      const exists = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('id', '=', target.segment).executeTakeFirst();
      if (!exists) throw new SegmentError('not_found', 'segment', `no segment ${target.segment}`);
      const rows = await db.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', workspaceId).where('segment_id', '=', target.segment).execute();
      return { found: rows.map((r) => r.profile_id), unknown: [] };
    }
    const given = [...new Set(target.profileIds ?? [])];
    const ids = given.filter((id) => UUID.test(id));
    if (ids.length === 0) return { found: [], unknown: given };
    const rows = await db
      .selectFrom('profiles')
      .select(['id', 'merged_into'])
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', sql<string>`any(${ids}::uuid[])`)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r.merged_into ?? r.id]));
    // Follow merges to the live profile (chains are short: merge moves earlier merged_into along).
    const found = new Set<string>();
    const unknown: string[] = [];
    for (const id of given) {
      const live = byId.get(id);
      if (live === undefined) unknown.push(id);
      else found.add(live);
    }
    return { found: [...found], unknown };
  }

  return self;
}

export type TagStore = ReturnType<typeof createTagStore>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function timeRelativeDefinition(definition: TagDefinition): boolean {
  if (definition.kind === 'rule') return isTimeRelative(definition.rule);
  if (definition.kind === 'cases') return definition.cases.some((c) => isTimeRelative(c.rule));
  return definition.kind === 'top' && definition.within !== undefined;
}

export type { SegmentDefinition };
