import { sql, type Kysely } from 'kysely';
import { cleanContext, type CleanContext, type SourceCleaning, type WorkspaceCleaning } from '../clean/settings.js';
import type { Database } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';

/**
 * The context a source's values are cleaned in: its settings, then the
 * workspace's. `executor` lets the pipeline read inside its batch transaction.
 */
export async function cleanContextFor(executor: Kysely<Schema>, workspaceId: string, sourceId: string, now: Date): Promise<CleanContext> {
  const workspace = await executor.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirst();
  const source = await executor.selectFrom('sources').select('settings').where('workspace_id', '=', workspaceId).where('id', '=', sourceId).executeTakeFirst();
  return cleanContext(((workspace?.settings as Record<string, unknown> | undefined)?.cleaning ?? {}) as WorkspaceCleaning, (source?.settings ?? {}) as SourceCleaning, now);
}

/** Where the cleaning policy lives: the workspace's under settings.cleaning, each source's in its own settings. */
export function createCleaningSettingsStore(database: Database) {
  const { db } = database;
  return {
    context: (workspaceId: string, sourceId: string, now = new Date()) => cleanContextFor(db, workspaceId, sourceId, now),
    async workspace(workspaceId: string): Promise<WorkspaceCleaning> {
      const row = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirst();
      return ((row?.settings as Record<string, unknown> | undefined)?.cleaning ?? {}) as WorkspaceCleaning;
    },
    async setWorkspace(workspaceId: string, cleaning: WorkspaceCleaning): Promise<void> {
      await db
        .updateTable('workspaces')
        .set({ settings: sql`jsonb_set(settings, '{cleaning}', ${JSON.stringify(cleaning)}::jsonb)` as unknown as string })
        .where('id', '=', workspaceId)
        .execute();
    },
    /** null: no such source */
    async source(workspaceId: string, sourceId: string): Promise<SourceCleaning | null> {
      const row = await db.selectFrom('sources').select('settings').where('workspace_id', '=', workspaceId).where('id', '=', sourceId).executeTakeFirst();
      return row ? ((row.settings ?? {}) as SourceCleaning) : null;
    },
    /** Creates the source (without a write key) when it does not exist yet, as the other per-source settings do. */
    async setSource(workspaceId: string, sourceId: string, cleaning: SourceCleaning): Promise<void> {
      await db
        .insertInto('sources')
        .values({ workspace_id: workspaceId, id: sourceId, name: sourceId, write_key_hash: null, settings: JSON.stringify(cleaning) })
        .onConflict((oc) => oc.columns(['workspace_id', 'id']).doUpdateSet({ settings: JSON.stringify(cleaning) }))
        .execute();
    },
  };
}

export type CleaningSettingsStore = ReturnType<typeof createCleaningSettingsStore>;
