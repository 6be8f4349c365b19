import { describe, expect, it } from 'vitest';
import { legacyKeys, MasterKeyError } from './crypto.js';
import { localKeyProvider, masterKeyFingerprint } from './key-provider.js';

describe('localKeyProvider', () => {
  const master = Buffer.alloc(32, 4);
  const provider = localKeyProvider(master, '/data/master.key');
  const dataKey = Buffer.alloc(32, 0x5a);

  it('wraps and unwraps a data key bound to its context, never the same bytes twice', async () => {
    const a = await provider.wrap(dataKey, 'key 3');
    const b = await provider.wrap(dataKey, 'key 3');
    expect(a.equals(b)).toBe(false);
    expect(a.includes(dataKey)).toBe(false);
    expect((await provider.unwrap(a, 'key 3')).equals(dataKey)).toBe(true);
    await expect(provider.unwrap(a, 'key 4')).rejects.toThrow(MasterKeyError);
  });

  it('another master key is refused, named by origin and fingerprint', async () => {
    const other = localKeyProvider(Buffer.alloc(32, 6), 'CUSTODIAN_MASTER_KEY');
    expect(other.keyId).not.toBe(provider.keyId);
    expect(provider.keyId).toBe(`local:${masterKeyFingerprint(master)}`);
    expect(provider.keyId).toMatch(/^local:[0-9a-f]{16}$/);
    const wrapped = await provider.wrap(dataKey, 'key 3');
    await expect(other.unwrap(wrapped, 'key 3')).rejects.toThrow(/CUSTODIAN_MASTER_KEY .*local:[0-9a-f]{16}.* does not open the wrapped key for key 3/);
  });

  it('derives the pre-envelope keys from the master key, and refuses a short key', () => {
    expect(provider.legacyKeys?.()).toEqual(legacyKeys(master));
    expect(() => localKeyProvider(Buffer.alloc(16), 'FILE')).toThrow(/FILE: a master key must be 32 bytes \(got 16\)/);
  });
});
