import { sql } from 'kysely';
import type { Keyring } from '../privacy/crypto.js';
import type { Database } from '../storage/database.js';
import { identityIndex } from './graph-store.js';
import { standardizeIdentity, type IdentityType } from './identifiers.js';

const KEY = 'identity_form';
/** 2: emails as their matching key, phones in E.164 (cleaning). 1: trimmed lower-case emails, digits-only phones. */
const CURRENT = '2';

export interface IdentityFormUpgrade {
  rewritten: number;
  /** the standardized form already belonged to another identity row: the old row is left as it was */
  collisions: number;
  /** the stored value is not a valid email or phone: it can no longer be matched, and is left as it was */
  unusable: number;
}

/**
 * Bring stored email and phone identities to the current standard form, once
 * per database, so records stored before cleaning existed still match the
 * same person. Values are sealed: each is decrypted, re-standardized and
 * re-indexed in one transaction.
 */
export async function upgradeIdentityForms(database: Database, keyring: Keyring): Promise<IdentityFormUpgrade | null> {
  const done = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', KEY).executeTakeFirst();
  if (done?.value === CURRENT) return null;
  return database.db.transaction().execute(async (tx) => {
    const outcome: IdentityFormUpgrade = { rewritten: 0, collisions: 0, unusable: 0 };
    const rows = await tx.selectFrom('identities').select(['workspace_id', 'type', 'value_index', 'value_enc']).where('type', 'in', ['email', 'phone']).execute();
    for (const row of rows) {
      const value = keyring.decrypt(row.value_enc).toString('utf8');
      const standard = standardizeIdentity(row.type as IdentityType, value);
      if (standard === null) {
        outcome.unusable += 1;
        continue;
      }
      if (standard === value) continue;
      const index = identityIndex(keyring, row.workspace_id, { type: row.type as IdentityType, value: standard });
      const taken = await tx.selectFrom('identities').select('profile_id').where('workspace_id', '=', row.workspace_id).where('value_index', '=', index).executeTakeFirst();
      if (taken) {
        outcome.collisions += 1;
        continue;
      }
      await tx
        .updateTable('identities')
        .set({ value_index: index, value_enc: keyring.encrypt(row.workspace_id, Buffer.from(standard, 'utf8')) })
        .where('workspace_id', '=', row.workspace_id)
        .where('value_index', '=', row.value_index)
        .execute();
      outcome.rewritten += 1;
    }
    await sql`insert into custodian_meta (key, value) values (${KEY}, ${CURRENT}) on conflict (key) do update set value = excluded.value`.execute(tx);
    return outcome;
  });
}
