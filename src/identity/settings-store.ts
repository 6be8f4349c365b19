import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';
import { DEFAULT_THRESHOLDS, identitySettings, type IdentitySettings, type IdentitySettingsInput } from './settings.js';

/** The identity settings in force for a workspace. `executor` lets the pipeline read inside its batch. */
export async function identitySettingsFor(executor: Kysely<Schema>, workspaceId: string): Promise<IdentitySettings> {
  return identitySettings(await storedIdentitySettings(executor, workspaceId), DEFAULT_THRESHOLDS);
}

/** What the workspace stored under settings.identity (the defaults are not stored). */
export async function storedIdentitySettings(executor: Kysely<Schema>, workspaceId: string): Promise<IdentitySettingsInput | undefined> {
  const row = await executor.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirst();
  return (row?.settings as Record<string, unknown> | undefined)?.identity as IdentitySettingsInput | undefined;
}

export async function storeIdentitySettings(database: Database, workspaceId: string, input: IdentitySettingsInput): Promise<void> {
  await database.db
    .updateTable('workspaces')
    .set({ settings: sql`jsonb_set(settings, '{identity}', ${JSON.stringify(input)}::jsonb)` as unknown as string })
    .where('id', '=', workspaceId)
    .execute();
}
