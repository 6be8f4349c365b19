import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, MasterKeyError } from '../src/privacy/crypto.js';
import { hasKeyCheck, verifyMasterKey } from '../src/privacy/key-check.js';
import { bootstrap } from '../src/server/bootstrap.js';
import type { Database } from '../src/storage/database.js';
import { backends } from './helpers/backends.js';

describe.each(backends)('master key check on $name', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => database?.close());

  it('records the first key, accepts it again, and refuses another by name', async () => {
    expect(await hasKeyCheck(database)).toBe(false);
    await verifyMasterKey(database, createKeyring(Buffer.alloc(32, 1)));
    expect(await hasKeyCheck(database)).toBe(true);
    await verifyMasterKey(database, createKeyring(Buffer.alloc(32, 1)));
    const wrong = verifyMasterKey(database, createKeyring(Buffer.alloc(32, 2)));
    await expect(wrong).rejects.toThrow(MasterKeyError);
    await expect(verifyMasterKey(database, createKeyring(Buffer.alloc(32, 2)))).rejects.toThrow(/master key/);
  });
});

describe.each(backends)('bootstrap on $name', (backend) => {
  it('creates the default workspace once, and later names secrets from the environment it does not know', async () => {
    const database = await backend.open();
    try {
      const first = await bootstrap(database, { writeKey: 'wk_a', adminToken: 'ct_a', dataDir: null });
      expect(first).toMatchObject({ created: true, writeKey: 'wk_a', adminToken: 'ct_a' });
      expect(await bootstrap(database, { writeKey: 'wk_a', adminToken: 'ct_a', dataDir: null })).toEqual({ created: false });
      expect(await bootstrap(database, { writeKey: 'wk_b', adminToken: 'ct_a', dataDir: null })).toEqual({ created: false, ignored: ['CUSTODIAN_WRITE_KEY'] });
      expect(await database.db.selectFrom('sources').select('id').execute()).toEqual([{ id: 'default' }]);
    } finally {
      await database.close();
    }
  });
});
