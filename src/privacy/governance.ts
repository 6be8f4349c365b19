import { sql, type Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { classifyField, type FieldClass } from './field-catalog.js';
import { GovernanceInputError, listPolicies } from './retention.js';

/**
 * The field catalog: for every field a workspace holds, its class (how it
 * is protected), who answers for it and what it is for, where it comes from,
 * the rule that keeps it clean, and how long it is kept. Class, sources and
 * retention are read from what the platform does; owner, purpose and a
 * custom quality rule are what people write down.
 */

export interface GovernedField {
  field: string;
  class: FieldClass;
  /** one of the fields cleaning standardizes */
  standard: boolean;
  owner: string | null;
  purpose: string | null;
  qualityRule: string | null;
  /** sources that gave the field (from the quality counters; standard fields only) */
  sources: string[];
  retention: { days: number; action: string } | null;
}


const MAX_TEXT = 500;

/**
 * Every field the workspace holds or has a word about, standard fields first.
 * `standardRules` are cleaning's fields with the rule it applies (privacy
 * does not reach into cleaning: the caller brings them).
 */
export async function listFields(db: Kysely<Schema>, workspaceId: string, standardRules: Readonly<Record<string, string>>): Promise<GovernedField[]> {
  const [inUse, notes, sourced, policies] = await Promise.all([
    // A sample is enough to list the trait keys in use.
    sql<{ key: string }>`select k as key from (select p.traits from profiles p where p.workspace_id = ${workspaceId} and p.merged_into is null limit 5000) x, jsonb_object_keys(x.traits) k group by k order by count(*) desc limit 200`.execute(db),
    db.selectFrom('field_governance').selectAll().where('workspace_id', '=', workspaceId).execute(),
    sql<{ field: string; source: string }>`select distinct q.field, coalesce(s.name, q.source_id) as source from quality_daily q left join sources s on s.workspace_id = q.workspace_id and s.id = q.source_id where q.workspace_id = ${workspaceId}`.execute(db),
    listPolicies(db, workspaceId),
  ]);
  const standard = new Set(Object.keys(standardRules));
  const names = [...standard, ...inUse.rows.map((r) => r.key), ...notes.map((n) => n.field)].filter((f, i, all) => all.indexOf(f) === i);
  const noteOf = new Map(notes.map((n) => [n.field, n]));
  const sourcesOf = new Map<string, string[]>();
  for (const r of sourced.rows) sourcesOf.set(r.field, [...(sourcesOf.get(r.field) ?? []), r.source].sort());
  const retentionOf = new Map(policies.filter((p) => p.kind === 'trait').map((p) => [p.name, { days: p.days, action: p.action }]));
  return names.map((field) => {
    const note = noteOf.get(field);
    return {
      field,
      class: classifyField(field),
      standard: standard.has(field),
      owner: note?.owner ?? null,
      purpose: note?.purpose ?? null,
      qualityRule: note?.quality_rule ?? standardRules[field] ?? null,
      sources: sourcesOf.get(field) ?? [],
      retention: retentionOf.get(field) ?? null,
    };
  });
}

/** Write down a field's owner, purpose or quality rule; null clears one, absent leaves it. */
export async function describeField(db: Kysely<Schema>, workspaceId: string, field: string, notes: Readonly<Record<string, unknown>>, standardRules: Readonly<Record<string, string>>, now = new Date()): Promise<GovernedField> {
  if (field.trim() === '' || field.length > 200) throw new GovernanceInputError('field', 'must be a field name of at most 200 characters');
  const note = (key: 'owner' | 'purpose' | 'qualityRule'): string | null | undefined => {
    const value = notes[key];
    if (value === undefined || value === null) return value;
    if (typeof value !== 'string') throw new GovernanceInputError(key, 'must be text, or null to clear it');
    if (value.length > MAX_TEXT) throw new GovernanceInputError(key, `at most ${MAX_TEXT} characters`);
    return value.trim() === '' ? null : value;
  };
  const values = { owner: note('owner'), purpose: note('purpose'), quality_rule: note('qualityRule') };
  const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<Record<'owner' | 'purpose' | 'quality_rule', string | null>>;
  await db
    .insertInto('field_governance')
    .values({ workspace_id: workspaceId, field, owner: null, purpose: null, quality_rule: null, ...given, updated_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'field']).doUpdateSet({ ...given, updated_at: now }))
    .execute();
  return (await listFields(db, workspaceId, standardRules)).find((f) => f.field === field)!;
}
