import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { liveProfileId, mergedProfileIds } from './live-profile.js';
import type { Schema } from './schema.js';

/**
 * Restriction of processing (GDPR Art. 18): a restricted person's data is
 * kept but left out of segments, computed tags, exports and per-person
 * analytics until the restriction is lifted (docs/dsar.md).
 *
 * A restriction names the profile that was live when it was made. Merges
 * flatten `merged_into` to the live profile, so one join finds the person
 * now, whichever side of a later merge the restricted profile ended on.
 */
export function restrictedLiveIds(workspaceId: string): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`select coalesce(rp.merged_into, rp.id) from restricted_profiles rr join profiles rp on rp.workspace_id = rr.workspace_id and rp.id = rr.profile_id where rr.workspace_id = ${workspaceId}`;
}

/**
 * `profileId` (a column or expression naming live profiles of the workspace)
 * is not a restricted person. Uncorrelated, so PostgreSQL hashes the few
 * restricted ids once per query instead of probing per profile.
 */
export function notRestricted(profileId: RawBuilder<unknown>, workspaceId: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`${profileId} not in (${restrictedLiveIds(workspaceId)})`;
}

/** Is this profile (or the person it was merged into, or anyone merged into that) restricted? */
export async function isRestricted(db: Kysely<Schema>, workspaceId: string, profileId: string): Promise<boolean> {
  const live = (await liveProfileId(db, workspaceId, profileId)) ?? profileId;
  const ids = await mergedProfileIds(db, workspaceId, live);
  const row = await db.selectFrom('restricted_profiles').select('profile_id').where('workspace_id', '=', workspaceId).where('profile_id', '=', sql<string>`any(${ids}::uuid[])`).executeTakeFirst();
  return row !== undefined;
}
