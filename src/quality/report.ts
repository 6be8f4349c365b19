import { sql } from 'kysely';
import { freshnessRatio, qualityScore, type QualityDimension } from '../clean/anomaly.js';
import { IDENTIFYING_FIELDS, SINGLE_VALUED_FIELDS } from '../clean/traits.js';
import type { Keyring } from '../privacy/crypto.js';
import { maskField } from '../privacy/mask.js';
import type { Database } from '../storage/database.js';

/** Quality of one standard field, from one source or (source null) across all of them. */
export interface FieldQuality {
  field: string;
  source: string | null;
  /** profiles this source (or any source) gave a value for the field */
  profiles: number;
  /** share of the source's profiles that have the field */
  completeness: number;
  /** share of the values that passed their standardizer */
  validity: number;
  /** identifying fields (email, phone, national ID): share of values no other profile holds; null for other fields */
  uniqueness: number | null;
  /** fields a person has one value of (name, birthday, gender…): share of profiles, among those with the field from two or more sources, whose sources agree; null when not measured */
  consistency: number | null;
  /** 1 while the newest value is under a day old, falling to 0 at 30 days */
  freshness: number;
  lastSeenAt: string;
  /** 0–100 */
  score: number;
}

export interface QualityReport {
  /** workspace quality score, 0–100 */
  score: number;
  /** profiles any source has told us about since cleaning began */
  profiles: number;
  fields: FieldQuality[];
  bySource: FieldQuality[];
  generatedAt: string;
}

export interface QualityIssue {
  source: string;
  field: string;
  code: string;
  severity: 'error' | 'warning';
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  /** masked for identifier fields */
  examples: Array<{ value: unknown; suggestion?: unknown; messageId: string }>;
}

export interface QualityAlert {
  id: string;
  source: string;
  field: string;
  kind: string;
  day: string;
  value: number;
  median: number;
  mad: number;
  score: number;
  direction: string;
  createdAt: string;
}

// A source that sends monthly exports is not stale after a week; one silent for a month is.
const FRESHNESS = { freshMs: 86_400_000, staleMs: 30 * 86_400_000 };

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** The dimensions that were measured: a field's score is over those only. */
function measured(dims: Record<QualityDimension, number | null | undefined>): Partial<Record<QualityDimension, number>> {
  const out: Partial<Record<QualityDimension, number>> = {};
  for (const [k, v] of Object.entries(dims) as Array<[QualityDimension, number | null | undefined]>) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

const ratio = (part: number, whole: number): number => (whole > 0 ? part / whole : 0);

type Counts = { source_id: string | null; field: string; total: string; valid: string; last_seen: Date | string };
type Shared = { source_id: string | null; field: string; total: string; shared: string };

// A field's entry is [index or null, unix seconds seen] (quality/record.ts).
const NOT_REFUSED = sql`jsonb_typeof(f.value->0) = 'string'`;
const VALUE = sql`(f.value->>0)`;
const SEEN = sql`to_timestamp(max((f.value->>1)::bigint))`;

export function createQualityReporter(database: Database, keyring: Keyring) {
  const { db } = database;
  return {
    async report(workspaceId: string, now = new Date()): Promise<QualityReport> {
      // Observations are one row per (profile, source) with the fields in a map:
      // a field is valid where its entry is an index, refused where it is false.
      const observed = sql`field_observations o cross join lateral jsonb_each(o.fields) f`;
      const live = sql`exists (select 1 from profiles p where p.workspace_id = o.workspace_id and p.id = o.profile_id and p.merged_into is null)`;
      const identifying = sql.join([...IDENTIFYING_FIELDS].map((f) => sql`${f}`));
      const perSource = await sql<Counts>`
        select o.source_id, f.key as field, count(*)::text as total, count(*) filter (where ${NOT_REFUSED})::text as valid, ${SEEN} as last_seen
        from ${observed} where o.workspace_id = ${workspaceId} group by o.source_id, f.key
        union all
        select source_id, '*', count(*)::text, count(*)::text, max(seen_at)
        from field_observations where workspace_id = ${workspaceId} group by source_id`.execute(db);
      const overall = await sql<Counts>`
        select null as source_id, f.key as field, count(distinct o.profile_id)::text as total,
          count(distinct o.profile_id) filter (where ${NOT_REFUSED})::text as valid, ${SEEN} as last_seen
        from ${observed} where o.workspace_id = ${workspaceId} and ${live} group by f.key
        union all
        select null, '*', count(distinct profile_id)::text, count(distinct profile_id)::text, max(seen_at)
        from field_observations o where workspace_id = ${workspaceId} and ${live}`.execute(db);
      // Uniqueness, for identifying fields only: the share of (profile, value)
      // pairs whose value no other profile holds. Two profiles sharing a phone
      // are probably one person; two sharing a city are not a problem.
      const holders = (bySource: boolean) => sql<Shared>`
        select ${bySource ? sql`source_id` : sql`null`} as source_id, field, sum(holders)::text as total, coalesce(sum(holders) filter (where holders > 1), 0)::text as shared from (
          select ${bySource ? sql`o.source_id,` : sql``} f.key as field, ${VALUE} as value, count(distinct o.profile_id) as holders
          from ${observed} where o.workspace_id = ${workspaceId} and ${live} and ${NOT_REFUSED} and f.key in (${identifying})
          group by ${bySource ? sql`o.source_id,` : sql``} f.key, ${VALUE}
        ) t group by ${bySource ? sql`source_id,` : sql``} field`.execute(db);
      const uniqueness = new Map<string, number>();
      for (const r of [...(await holders(true)).rows, ...(await holders(false)).rows]) uniqueness.set(`${r.source_id}\u0000${r.field}`, 1 - ratio(Number(r.shared), Number(r.total)));
      // Consistency, for fields a person has one value of: among profiles with
      // the field from two or more sources, the share where they all agree.
      const agreement = await sql<{ field: string; multi: string; agreeing: string }>`
        select field, count(*)::text as multi, count(*) filter (where n_values = 1)::text as agreeing from (
          select o.profile_id, f.key as field, count(distinct ${VALUE}) as n_values
          from ${observed} where o.workspace_id = ${workspaceId} and ${NOT_REFUSED} and f.key in (${sql.join([...SINGLE_VALUED_FIELDS].map((f) => sql`${f}`))})
          group by o.profile_id, f.key having count(distinct o.source_id) > 1
        ) t group by field`.execute(db);
      const consistency = new Map(agreement.rows.map((r) => [r.field, ratio(Number(r.agreeing), Number(r.multi))]));
      const build = (rows: Counts[]): FieldQuality[] => {
        const known = new Map(rows.filter((r) => r.field === '*').map((r) => [r.source_id, Number(r.total)]));
        return rows
          .filter((r) => r.field !== '*')
          .map((r) => {
            const total = Number(r.total);
            const lastSeen = new Date(r.last_seen);
            const dims = {
              completeness: Math.min(1, ratio(total, known.get(r.source_id) ?? 0)),
              validity: ratio(Number(r.valid), total),
              uniqueness: uniqueness.get(`${r.source_id}\u0000${r.field}`) ?? null,
              consistency: r.source_id === null ? (consistency.get(r.field) ?? null) : null,
              freshness: freshnessRatio(now.getTime() - lastSeen.getTime(), FRESHNESS),
            };
            return { field: r.field, source: r.source_id, profiles: total, ...dims, lastSeenAt: lastSeen.toISOString(), score: round1(qualityScore(measured(dims))) };
          })
          .sort((a, b) => (a.source ?? '').localeCompare(b.source ?? '') || a.field.localeCompare(b.field));
      };
      const fields = build(overall.rows);
      const profiles = Number(overall.rows.find((r) => r.field === '*')?.total ?? 0);
      const mean = (pick: (f: FieldQuality) => number | null): number | undefined => {
        const values = fields.map(pick).filter((v): v is number => v !== null);
        return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
      };
      const score = fields.length === 0 ? 100 : qualityScore(measured({
        completeness: mean((f) => f.completeness),
        validity: mean((f) => f.validity),
        uniqueness: mean((f) => f.uniqueness),
        consistency: mean((f) => f.consistency),
        freshness: mean((f) => f.freshness),
      }));
      return { score: round1(score), profiles, fields, bySource: build(perSource.rows), generatedAt: now.toISOString() };
    },

    async issues(workspaceId: string, filter: { field?: string; source?: string; type?: string; limit: number }): Promise<QualityIssue[]> {
      let query = db.selectFrom('quality_issues').selectAll().where('workspace_id', '=', workspaceId).orderBy('count', 'desc').orderBy('code').limit(filter.limit);
      if (filter.field) query = query.where('field', '=', filter.field);
      if (filter.source) query = query.where('source_id', '=', filter.source);
      // type: an issue id (`phone.invalid`) or its family (`phone`), or a severity
      if (filter.type === 'error' || filter.type === 'warning') query = query.where('severity', '=', filter.type);
      else if (filter.type) query = query.where((eb) => eb.or([eb('code', '=', filter.type!), eb('code', 'like', `${filter.type!.replace(/[\\%_]/g, '\\$&')}.%`)]));
      const rows = await query.execute();
      return rows.map((r) => ({
        source: r.source_id,
        field: r.field,
        code: r.code,
        severity: r.severity === 'error' ? 'error' : 'warning',
        count: Number(r.count),
        firstSeenAt: r.first_seen_at.toISOString(),
        lastSeenAt: r.last_seen_at.toISOString(),
        examples: r.examples
          ? keyring.decryptJson<Array<{ value: unknown; suggestion?: unknown; messageId: string }>>(r.examples).map((e) => ({
              ...e,
              value: maskField(r.field, e.value),
              ...(e.suggestion !== undefined ? { suggestion: maskField(r.field, e.suggestion) } : {}),
            }))
          : [],
      }));
    },

    async alerts(workspaceId: string, filter: { source?: string; since?: string; until?: string; limit: number }): Promise<QualityAlert[]> {
      let query = db
        .selectFrom('quality_alerts')
        .select(['id', 'source_id', 'field', 'kind', sql<string>`day::text`.as('day'), 'value', 'median', 'mad', 'score', 'direction', 'created_at'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('day', 'desc')
        .orderBy('score', 'desc')
        .limit(filter.limit);
      if (filter.source) query = query.where('source_id', '=', filter.source);
      if (filter.since) query = query.where('day', '>=', filter.since);
      if (filter.until) query = query.where('day', '<=', filter.until);
      const rows = await query.execute();
      return rows.map((r) => ({
        id: r.id,
        source: r.source_id,
        field: r.field,
        kind: r.kind,
        day: r.day,
        value: r.value,
        median: r.median,
        mad: r.mad,
        score: r.score,
        direction: r.direction,
        createdAt: new Date(r.created_at).toISOString(),
      }));
    },
  };
}

export type QualityReporter = ReturnType<typeof createQualityReporter>;
