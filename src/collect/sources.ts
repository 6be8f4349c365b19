import type { Database } from '../storage/database.js';

/** Source names appear in record identities (`source:id`) and URLs: keep them plain. */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function sourceNameProblem(name: string): string | null {
  return SOURCE_NAME.test(name) ? null : `source name ${JSON.stringify(name.slice(0, 70))} must be 1-63 lower-case letters, digits, - or _, starting with a letter or digit`;
}

/** The source with this name, created (without a write key) when it does not exist yet. */
export async function ensureSource(database: Database, workspaceId: string, name: string): Promise<void> {
  await database.db
    .insertInto('sources')
    .values({ workspace_id: workspaceId, id: name, name, write_key_hash: null })
    .onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing())
    .execute();
}
