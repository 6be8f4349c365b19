import { createHmac } from 'node:crypto';
import type { Database } from '../storage/database.js';
import { MasterKeyError, type Keyring } from './crypto.js';

export const KEY_CHECK = 'master_key_check';
const CHECK_TEXT = 'custodian master key check v1';

/**
 * The check value of a blind-index key: a keyed hash of a fixed text, the same
 * as keyring.blindIndex(CHECK_TEXT). Before envelope encryption the index key
 * came from the master key, so this checked the master key; now the index key
 * is kept in data_keys and survives master-key rotations, and the master key
 * is checked by unwrapping (data-keys.ts). It still tells a database set up
 * with keys from one that is not, and checks a pre-envelope master key.
 */
export function indexKeyCheck(indexKey: Uint8Array): string {
  return createHmac('sha256', indexKey).update(CHECK_TEXT).update('\u0000').digest('hex');
}

/** Whether the database already has data sealed with some keys. */
export async function hasKeyCheck(database: Database): Promise<boolean> {
  const row = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst();
  if (row !== undefined) return true;
  return (await database.db.selectFrom('data_keys').select('key_id').limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Refuse a keyring whose blind-index key is not the database's: with another
 * one, no look-up would find anybody and the worker would link nobody. The
 * first call records the check value (a keyed hash, not the key).
 */
export async function verifyMasterKey(database: Database, keyring: Keyring): Promise<void> {
  const expected = keyring.blindIndex(CHECK_TEXT).toString('hex');
  await database.db.insertInto('custodian_meta').values({ key: KEY_CHECK, value: expected }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirstOrThrow();
  if (row.value !== expected) {
    throw new MasterKeyError('the master key (CUSTODIAN_MASTER_KEY or master.key in the data directory) is not the one this database was set up with: start with the original key');
  }
}
