import { sql, type Kysely } from 'kysely';
import type { Schema } from './schema.js';

/**
 * The profile an id names now: itself, or the profile it was merged into,
 * following merge chains (a into b, b into c). Null when the workspace has no
 * such profile. Every place that accepts an old profile id answers with this.
 */
export async function liveProfileId(db: Kysely<Schema>, workspaceId: string, profileId: string): Promise<string | null> {
  let id = profileId;
  // A few hops at most in practice; the bound keeps a cycle (a bug elsewhere) from spinning forever.
  for (let hop = 0; hop < 64; hop++) {
    const row = await db.selectFrom('profiles').select(['id', 'merged_into']).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    if (row.merged_into === null) return row.id;
    id = row.merged_into;
  }
  return null;
}

/** A live profile's id and the ids of every profile merged into it, through any chain of merges: one person. */
export async function mergedProfileIds(db: Kysely<Schema>, workspaceId: string, live: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    with recursive person(id) as (
      select ${live}::uuid
      union
      select p.id from profiles p join person on p.merged_into = person.id where p.workspace_id = ${workspaceId})
    select id::text as id from person`.execute(db);
  return rows.map((r) => r.id);
}
