import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, MasterKeyError } from '../src/privacy/crypto.js';
import { hasKeyCheck, verifyMasterKey } from '../src/privacy/key-check.js';
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
