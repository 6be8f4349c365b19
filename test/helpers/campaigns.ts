import type { Insertable } from 'kysely';
import type { CampaignTable } from '../../src/storage/schema.js';
import type { TestApp } from './app.js';

/** The profile id of each userId, as the API finds it after the pipeline ran. */
export async function profileIdsOf(t: TestApp, userIds: readonly string[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const userId of userIds) {
    const found = (await t.get(`/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string }> };
    ids[userId] = found.profiles[0]!.id;
  }
  return ids;
}

/** A done e-mail campaign row for report tests that write sends directly; `fields` overrides any column. */
export function campaignRow(fields: Partial<Insertable<CampaignTable>> & { id: string }): Insertable<CampaignTable> {
  return {
    workspace_id: 'default',
    name: `Campaign ${fields.id}`,
    status: 'done',
    channel: 'email',
    purpose: 'email_marketing',
    destination_id: 'dest-1',
    template: JSON.stringify({ body: 'Hello' }),
    schedule: JSON.stringify({ kind: 'once' }),
    currency: 'CNY',
    ...fields,
  };
}
