import type { Database } from '../storage/database.js';
import { MasterKeyError, type Keyring } from './crypto.js';

const KEY = 'master_key_check';

function checkValue(keyring: Keyring): string {
  return keyring.blindIndex('custodian master key check v1').toString('hex');
}

/** Whether the database already has data sealed with some master key. */
export async function hasKeyCheck(database: Database): Promise<boolean> {
  const row = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', KEY).executeTakeFirst();
  return row !== undefined;
}

/**
 * Refuse a master key the database was not set up with: started with the wrong
 * one, the worker could decrypt nothing and would set every message aside.
 * The first start records the key's check value (a keyed hash, not the key).
 */
export async function verifyMasterKey(database: Database, keyring: Keyring): Promise<void> {
  const expected = checkValue(keyring);
  await database.db.insertInto('custodian_meta').values({ key: KEY, value: expected }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', KEY).executeTakeFirstOrThrow();
  if (row.value !== expected) {
    throw new MasterKeyError('the master key (CUSTODIAN_MASTER_KEY or master.key in the data directory) is not the one this database was set up with: start with the original key');
  }
}
