import { mkdirSync } from 'node:fs';
import { createJunkIdFilter, type JunkIdFilter } from '../clean/junk-ids.js';
import { loadMasterKey, type Keyring } from '../privacy/crypto.js';
import { openKeyring, type EnvelopeKeyring } from '../privacy/data-keys.js';
import { upgradeIdentityForms } from '../identity/identity-forms.js';
import { hasKeyCheck } from '../privacy/key-check.js';
import { localKeyProvider } from '../privacy/key-provider.js';
import { bootstrap, type BootstrapResult } from '../server/bootstrap.js';
import { createStorage, type Database } from '../storage/database.js';
import type { Config } from './config.js';

export interface Runtime {
  database: Database;
  /** the database's data keys (privacy/data-keys.ts), unwrapped; they stop reloading when the database closes */
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
  const givenKey = config.masterKey ? loadMasterKey(config.dataDir, config.masterKey) : null;
  const database = await createStorage(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir, command },
  );
  let keyring: EnvelopeKeyring | null = null;
  try {
    const master = givenKey ?? loadMasterKey(config.dataDir, undefined, !(await hasKeyCheck(database)));
    // Opening the keys checks the master key: it must unwrap them (or, on a database from before
    // envelope encryption, match its check value, and then its keys move into data_keys).
    keyring = await openKeyring(database, localKeyProvider(master.key, master.path ?? 'CUSTODIAN_MASTER_KEY'), {
      onRefreshError: (error) => process.stderr.write(`keys: ${error.message}\n`),
    });
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
    // The default workspace may be new: its own data key, rather than the database's.
    if (setUp.created) await keyring.refresh();
    const opened = keyring;
    const closing: Database = {
      ...database,
      async close() {
        await opened.close();
        await database.close();
      },
    };
    return { database: closing, keyring: opened, junk: createJunkIdFilter(config.idBlocklist), masterKey: master.key, bootstrap: setUp };
  } catch (error) {
    await keyring?.close();
    await database.close();
    throw error;
  }
}
