import { sql, type Transaction } from 'kysely';
import { standardFieldOf, type FieldObservation, type LineageEntry } from '../clean/traits.js';
import type { Keyring } from '../privacy/crypto.js';
import type { Schema } from '../storage/schema.js';

type Tx = Transaction<Schema>;

/** What cleaning found in one message, once its profile is known. */
export interface CleaningRecord {
  messageId: string;
  sourceId: string;
  profileId: string | null;
  receivedAt: string;
  lineage: readonly LineageEntry[];
  observations: readonly FieldObservation[];
  hasTraits: boolean;
}

/**
 * Rows in the order of their conflict key: two workers upserting overlapping
 * rows in different orders could deadlock; in one order they queue.
 */
function byKey<T>(rows: ReadonlyMap<string, T>): T[] {
  return [...rows.keys()].sort().map((k) => rows.get(k)!);
}

/** The standard field a lineage entry is about (`context.traits.phone` → phone). */
function fieldOfEntry(entry: LineageEntry): string {
  const key = entry.field.startsWith('context.traits.') ? entry.field.slice('context.traits.'.length) : entry.field;
  return standardFieldOf(key) ?? key;
}

function codesOf(entry: LineageEntry): string[] {
  if (entry.kind === 'refused') return [entry.issue ?? 'refused'];
  if (entry.kind === 'flagged') return [entry.flag ?? 'flagged'];
  if (entry.kind === 'derived') return [`derived:${entry.derivedFrom ?? ''}`];
  return [...(entry.rules ?? [])];
}

const MAX_EXAMPLES = 5;

/** Per field: [blind index (hex) of the standardized value, or null when refused; Unix seconds it was seen]. */
export type ObservedField = [index: string | null, seenAt: number];

interface ObservationRow {
  profile_id: string;
  source_id: string;
  fields: Record<string, ObservedField>;
  seen_at: Date;
}

/**
 * Keep a batch's cleaning results, in the batch's transaction: lineage per
 * message, the latest observation per (profile, field, source), daily counters
 * and the issue list. Aggregated in memory first, so a batch costs a handful
 * of statements whatever its size.
 */
export async function recordCleaning(tx: Tx, keyring: Keyring, workspaceId: string, records: readonly CleaningRecord[], now: Date): Promise<void> {
  const lineageRows = [];
  const observations = new Map<string, ObservationRow>();
  const daily = new Map<string, { source_id: string; field: string; day: string; seen: number; invalid: number; changed: number }>();
  const issues = new Map<string, { source_id: string; field: string; code: string; severity: string; count: number; examples: unknown[] }>();
  const count = (source: string, field: string, day: string, what: { seen?: number; invalid?: number; changed?: number }) => {
    const key = `${source}\u0000${field}\u0000${day}`;
    const row = daily.get(key) ?? { source_id: source, field, day, seen: 0, invalid: 0, changed: 0 };
    row.seen += what.seen ?? 0;
    row.invalid += what.invalid ?? 0;
    row.changed += what.changed ?? 0;
    daily.set(key, row);
  };

  for (const r of records) {
    const day = r.receivedAt.slice(0, 10);
    count(r.sourceId, '*', day, { seen: 1 });
    if (r.hasTraits) count(r.sourceId, '#traits', day, { seen: 1 });
    for (const o of r.observations) count(r.sourceId, o.field, day, { seen: 1, invalid: o.valid ? 0 : 1 });
    const changedFields = new Set<string>();
    for (const entry of r.lineage) {
      const field = fieldOfEntry(entry);
      if (entry.kind === 'standardized') changedFields.add(field);
      if (entry.kind !== 'refused' && entry.kind !== 'flagged') continue;
      for (const code of codesOf(entry)) {
        const key = `${r.sourceId}\u0000${field}\u0000${code}`;
        const issue = issues.get(key) ?? { source_id: r.sourceId, field, code, severity: entry.kind === 'refused' ? 'error' : 'warning', count: 0, examples: [] };
        issue.count += 1;
        if (issue.examples.length < MAX_EXAMPLES) issue.examples.push({ value: entry.original, ...(entry.suggestion !== undefined ? { suggestion: entry.suggestion } : {}), messageId: r.messageId });
        issues.set(key, issue);
      }
    }
    for (const field of changedFields) count(r.sourceId, field, day, { changed: 1 });
    if (r.lineage.length > 0) {
      lineageRows.push({
        workspace_id: workspaceId,
        message_id: r.messageId,
        profile_id: r.profileId,
        source_id: r.sourceId,
        fields: [...new Set(r.lineage.map(fieldOfEntry))],
        codes: [...new Set(r.lineage.flatMap(codesOf))],
        detail: keyring.encryptJson(workspaceId, r.lineage),
        at: now,
      });
    }
    // Only what a message said about a field counts: a page view does not make an old email fresh.
    if (r.profileId && r.observations.length > 0) {
      const key = `${r.profileId}\u0000${r.sourceId}`;
      const seenAt = new Date(r.receivedAt);
      const row = observations.get(key) ?? { profile_id: r.profileId, source_id: r.sourceId, fields: {}, seen_at: seenAt };
      row.seen_at = seenAt;
      const seconds = Math.floor(seenAt.getTime() / 1000);
      // 16 bytes of the blind index: ample to count distinct values, half the storage.
      for (const o of r.observations) row.fields[o.field] = [o.value === undefined ? null : keyring.blindIndex(workspaceId, 'field', o.field, o.value).subarray(0, 16).toString('hex'), seconds];
      observations.set(key, row);
    }
  }

  if (lineageRows.length > 0) {
    await tx.insertInto('field_lineage').values(lineageRows).onConflict((oc) => oc.columns(['workspace_id', 'message_id']).doNothing()).execute();
  }
  if (observations.size > 0) {
    await tx
      .insertInto('field_observations')
      .values(byKey(observations).map((o) => ({ workspace_id: workspaceId, profile_id: o.profile_id, source_id: o.source_id, fields: JSON.stringify(o.fields), seen_at: o.seen_at })))
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'profile_id', 'source_id']).doUpdateSet({
          fields: sql`field_observations.fields || excluded.fields`,
          seen_at: sql`excluded.seen_at`,
        }),
      )
      .execute();
  }
  if (daily.size > 0) {
    await tx
      .insertInto('quality_daily')
      .values(byKey(daily).map((d) => ({ workspace_id: workspaceId, ...d })))
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'source_id', 'field', 'day']).doUpdateSet({
          seen: sql`quality_daily.seen + excluded.seen`,
          invalid: sql`quality_daily.invalid + excluded.invalid`,
          changed: sql`quality_daily.changed + excluded.changed`,
        }),
      )
      .execute();
  }
  if (issues.size > 0) {
    await tx
      .insertInto('quality_issues')
      .values(
        byKey(issues).map((i) => ({
          workspace_id: workspaceId,
          source_id: i.source_id,
          field: i.field,
          code: i.code,
          severity: i.severity,
          count: i.count,
          first_seen_at: now,
          last_seen_at: now,
          examples: keyring.encryptJson(workspaceId, i.examples),
        })),
      )
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'source_id', 'field', 'code']).doUpdateSet({
          count: sql`quality_issues.count + excluded.count`,
          last_seen_at: sql`excluded.last_seen_at`,
          // The first examples stay: enough to show a steward the shape of the problem.
          examples: sql`coalesce(quality_issues.examples, excluded.examples)`,
        }),
      )
      .execute();
  }
}

/** A merge moves the loser's lineage and observations to the survivor; where both had a field from one source, the newer value wins. */
export async function moveCleaningRecords(tx: Tx, workspaceId: string, from: string, into: string): Promise<void> {
  await tx.updateTable('field_lineage').set({ profile_id: into }).where('workspace_id', '=', workspaceId).where('profile_id', '=', from).execute();
  await sql`
    insert into field_observations (workspace_id, profile_id, source_id, fields, seen_at)
    select workspace_id, ${into}::uuid, source_id, fields, seen_at
    from field_observations where workspace_id = ${workspaceId} and profile_id = ${from}::uuid
    on conflict (workspace_id, profile_id, source_id) do update set
      fields = (
        select jsonb_object_agg(k, v) from (
          select distinct on (k) k, v from (
            select * from jsonb_each(field_observations.fields) union all select * from jsonb_each(excluded.fields)
          ) both_sides (k, v) order by k, (v->>1)::bigint desc
        ) newest
      ),
      seen_at = greatest(excluded.seen_at, field_observations.seen_at)`.execute(tx);
  await tx.deleteFrom('field_observations').where('workspace_id', '=', workspaceId).where('profile_id', '=', from).execute();
}
