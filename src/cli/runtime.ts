import { mkdirSync } from 'node:fs';
import { createJunkIdFilter, type JunkIdFilter } from '../clean/junk-ids.js';
import { createKeyring, loadMasterKey, type Keyring } from '../privacy/crypto.js';
import { upgradeIdentityForms } from '../identity/identity-forms.js';
import { hasKeyCheck, verifyMasterKey } from '../privacy/key-check.js';
import { bootstrap, type BootstrapResult } from '../server/bootstrap.js';
import { createStorage, type Database } from '../storage/database.js';
import type { Config } from './config.js';

export interface Runtime {
  database: Database;
  keyring: Keyring;
  junk: JunkIdFilter;
  /** the master key itself: scheduled backups derive their own key from it */
  masterKey: Buffer;
  /** what the first-use set-up did (workspace, source and admin token on an empty database) */
  bootstrap: BootstrapResult;
}

/** Open what every command needs: the database (locking an embedded one), the keys, the junk-id filter. */
export async function openRuntime(config: Config, command: string): Promise<Runtime> {
  mkdirSync(config.dataDir, { recursive: true });
  // A key from the environment is checked before anything is opened (it touches no file);
  // the key file is read, or made, only once the database (and its directory lock) is ours,
  // so a command refused by the lock leaves the holder's directory as it was.
  const givenKey = config.masterKey ? loadMasterKey(config.dataDir, config.masterKey).key : null;
  const database = await createStorage(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir, command },
  );
  try {
    const key = givenKey ?? loadMasterKey(config.dataDir, undefined, !(await hasKeyCheck(database))).key;
    const keyring = createKeyring(key);
    await verifyMasterKey(database, keyring);
    const upgraded = await upgradeIdentityForms(database, keyring);
    if (upgraded && upgraded.rewritten + upgraded.collisions + upgraded.unusable > 0) {
      process.stderr.write(
        `identities brought to the cleaned form: ${upgraded.rewritten} rewritten, ${upgraded.collisions} already held by another record (left as they were), ${upgraded.unusable} not a valid email or phone (left as they were)\n`,
      );
    }
    // Whichever command opens an empty database first sets it up.
    const setUp = await bootstrap(database, {
      dataDir: config.dataDir,
      ...(config.writeKey ? { writeKey: config.writeKey } : {}),
      ...(config.adminToken ? { adminToken: config.adminToken } : {}),
    });
    return { database, keyring, junk: createJunkIdFilter(config.idBlocklist), masterKey: key, bootstrap: setUp };
  } catch (error) {
    await database.close();
    throw error;
  }
}
