import { sql, type Kysely } from 'kysely';
import type { Schema } from './schema.js';

/**
 * What an erasure leaves to be enforced on stored JSON (analytics results and
 * reports): the erased profile ids are on record in the done erase requests,
 * and any value naming one is taken out. Shared by the erasure itself and by
 * whatever writes such JSON later, so a result computed before an erasure and
 * written after it cannot bring the person back.
 */

const UUID_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Take the given profile ids out of a JSON value (a feedback run's recent
 * complaints quote people with their profile id): any array element naming
 * one of them goes, any object key equal to one goes, any other string equal
 * to one becomes null.
 */
export function scrubIds(value: unknown, ids: ReadonlySet<string>): { value: unknown; removed: number } {
  let removed = 0;
  const names = (v: unknown) => {
    const text = JSON.stringify(v) ?? '';
    for (const id of ids) if (text.includes(id)) return true;
    return false;
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const kept = v.filter((item) => {
        const hit = names(item);
        if (hit) removed += 1;
        return !hit;
      });
      return kept.map(walk);
    }
    if (isRecord(v)) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(v)) {
        if (ids.has(key)) {
          removed += 1;
          continue;
        }
        out[key] = walk(inner);
      }
      return out;
    }
    if (typeof v === 'string' && ids.has(v)) {
      removed += 1;
      return null;
    }
    return v;
  };
  return { value: walk(value), removed };
}

/** The profile ids a value names that done erase requests of the workspace erased. */
export async function erasedProfileIdsIn(db: Kysely<Schema>, workspaceId: string, value: unknown): Promise<Set<string>> {
  const candidates = [...new Set((JSON.stringify(value) ?? '').match(UUID_TEXT)?.map((id) => id.toLowerCase()) ?? [])];
  if (candidates.length === 0) return new Set();
  const { rows } = await sql<{ id: string }>`
    select distinct e.id from dsar_requests r, unnest(r.profile_ids) as e(id)
    where r.workspace_id = ${workspaceId} and r.type = 'erase' and r.status = 'done'
      and r.profile_ids && ${candidates}::text[] and e.id = any(${candidates}::text[])`.execute(db);
  return new Set(rows.map((r) => r.id));
}

/** The value with every profile id erased in the workspace taken out (scrubIds); the same value when it names none. */
export async function withoutErasedProfiles<T>(db: Kysely<Schema>, workspaceId: string, value: T): Promise<T> {
  const erased = await erasedProfileIdsIn(db, workspaceId, value);
  // Same shape minus entries: what a reader of T already handles (an array one shorter, a null).
  return erased.size === 0 ? value : (scrubIds(value, erased).value as T);
}
