import { mkdirSync } from 'node:fs';
import { createJunkIdFilter, type JunkIdFilter } from '../clean/junk-ids.js';
import { createKeyring, loadMasterKey, type Keyring } from '../privacy/crypto.js';
import { createStorage, type Database } from '../storage/database.js';
import type { Config } from './config.js';

export interface Runtime {
  database: Database;
  keyring: Keyring;
  junk: JunkIdFilter;
}

/** Open what every command needs: the database (locking an embedded one), the keys, the junk-id filter. */
export async function openRuntime(config: Config, command: string): Promise<Runtime> {
  mkdirSync(config.dataDir, { recursive: true });
  const { key } = loadMasterKey(config.dataDir, config.masterKey);
  const database = await createStorage(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir, command },
  );
  return { database, keyring: createKeyring(key), junk: createJunkIdFilter(config.idBlocklist) };
}
