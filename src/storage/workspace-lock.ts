import { sql, type Transaction } from 'kysely';
import type { Schema } from './schema.js';

/**
 * Serialize changes to one workspace's profiles until the transaction ends.
 * Two workers planning from snapshots taken side by side would each create a
 * profile for the same new person, or write over each other's merge; and a
 * full segment refresh computed from an older snapshot would undo an entry
 * the pipeline just made. The pipeline, the resolver, merges, splits and
 * full refreshes all take this lock.
 */
export async function lockWorkspaceProfiles(tx: Transaction<Schema>, workspaceId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('custodian.identity'), hashtext(${workspaceId}))`.execute(tx);
}

/**
 * The same lock, shared: for writes that only have to know which profiles an
 * erasure removed (an analytics result naming people). They wait for an
 * erasure in progress and it waits for them, but they do not wait for each other.
 */
export async function shareWorkspaceProfiles(tx: Transaction<Schema>, workspaceId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(hashtext('custodian.identity'), hashtext(${workspaceId}))`.execute(tx);
}
