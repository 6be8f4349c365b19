import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyring, keyIdOf, keyringOf, KeyringError, legacyKeys, LEGACY_KEY_ID, loadMasterKey, MasterKeyError, type KeySource } from './crypto.js';

describe('keyring', () => {
  const keyring = createKeyring(Buffer.alloc(32, 1));
  it('round-trips and never repeats a ciphertext', () => {
    const a = keyring.encryptJson('w', { email: 'zhang@qq.com' });
    const b = keyring.encryptJson('w', { email: 'zhang@qq.com' });
    expect(a.equals(b)).toBe(false);
    expect(a.toString('latin1')).not.toContain('zhang');
    expect(keyring.decryptJson(a)).toEqual({ email: 'zhang@qq.com' });
  });
  it('detects tampering', () => {
    const sealed = keyring.encrypt('w', Buffer.from('secret'));
    sealed[sealed.length - 1]! ^= 1;
    expect(() => keyring.decrypt(sealed)).toThrow();
  });
  it('blind index is deterministic per key and differs across keys and parts', () => {
    const other = createKeyring(Buffer.alloc(32, 2));
    expect(keyring.blindIndex('w', 'email', 'a@b.co').equals(keyring.blindIndex('w', 'email', 'a@b.co'))).toBe(true);
    expect(keyring.blindIndex('w', 'email', 'a@b.co').equals(other.blindIndex('w', 'email', 'a@b.co'))).toBe(false);
    expect(keyring.blindIndex('w', 'emaila', '@b.co').equals(keyring.blindIndex('w', 'email', 'a@b.co'))).toBe(false);
  });
});

describe('ciphertext versions', () => {
  const master = Buffer.alloc(32, 5);
  const legacy = legacyKeys(master);
  const keyA = Buffer.alloc(32, 0xa1);
  const keyB = Buffer.alloc(32, 0xb2);
  // Workspace a seals with key 7, everything else with the legacy key; 7, 9 and the legacy key open.
  const source: KeySource = {
    sealingKey: (workspaceId) => (workspaceId === 'a' ? { id: 7, key: keyA } : { id: LEGACY_KEY_ID, key: legacy.dataKey }),
    openingKey(id) {
      const key = new Map([[7, keyA], [8, keyA], [9, keyB], [LEGACY_KEY_ID, legacy.dataKey]]).get(id);
      if (!key) throw new KeyringError(`data key ${id} is not here`);
      return key;
    },
    indexKey: legacy.indexKey,
  };
  const keyring = keyringOf(source);

  it('version 2 names its key in an authenticated header; version 1 has none', () => {
    const sealed = keyring.encrypt('a', Buffer.from('13800138000'));
    expect(sealed[0]).toBe(2);
    expect(sealed.readUInt32BE(1)).toBe(7);
    expect(keyIdOf(sealed)).toBe(7);
    expect(sealed.length).toBe(1 + 4 + 12 + 16 + 11);
    expect(keyring.decrypt(sealed).toString()).toBe('13800138000');
    // Naming another key the keyring has fails authentication instead of opening garbage.
    const relabelled = Buffer.from(sealed);
    relabelled.writeUInt32BE(9, 1);
    expect(() => keyring.decrypt(relabelled)).toThrow();
    // Even an id whose key has the same bytes: the header itself is authenticated.
    const sameBytes = Buffer.from(sealed);
    sameBytes.writeUInt32BE(8, 1);
    expect(() => keyring.decrypt(sameBytes)).toThrow(/authenticate/);
    const unknown = Buffer.from(sealed);
    unknown.writeUInt32BE(10, 1);
    expect(() => keyring.decrypt(unknown)).toThrow(/data key 10/);
  });

  it('reads what the pre-envelope keyring wrote, and the other way round under the legacy key', () => {
    const old = createKeyring(master);
    const before = old.encryptJson('x', { email: 'ada@example.com' });
    expect(before[0]).toBe(1);
    expect(keyIdOf(before)).toBe(LEGACY_KEY_ID);
    expect(keyring.decryptJson(before)).toEqual({ email: 'ada@example.com' });
    const sealedLegacy = keyring.encrypt('x', Buffer.from('v1'));
    expect(sealedLegacy[0]).toBe(1);
    expect(old.decrypt(sealedLegacy).toString()).toBe('v1');
    expect(keyring.blindIndex('w', 'email', 'a@b.co').equals(old.blindIndex('w', 'email', 'a@b.co'))).toBe(true);
    // The pre-envelope keyring knows one key and says so.
    expect(() => old.decrypt(keyring.encrypt('a', Buffer.from('new')))).toThrow(/data key 7/);
  });

  it('refuses what is not a ciphertext by its version byte', () => {
    expect(keyIdOf(Buffer.from([3, 0, 0]))).toBeNull();
    expect(() => keyring.decrypt(Buffer.alloc(40, 3))).toThrow(/version byte 3/);
  });
});

describe('loadMasterKey', () => {
  it('creates a 0600 key file once, then reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custodian-key-'));
    try {
      const first = loadMasterKey(dir, undefined);
      expect(first.created).toBe(true);
      expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
      const second = loadMasterKey(dir, undefined);
      expect(second.created).toBe(false);
      expect(second.key.equals(first.key)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('takes hex or base64 from the environment and refuses a short key by name', () => {
    expect(loadMasterKey('/nonexistent', 'ab'.repeat(32)).key).toHaveLength(32);
    expect(loadMasterKey('/nonexistent', Buffer.alloc(32, 3).toString('base64')).key).toHaveLength(32);
    expect(() => loadMasterKey('/nonexistent', 'short')).toThrow(MasterKeyError);
    expect(() => loadMasterKey('/nonexistent', 'short')).toThrow(/CUSTODIAN_MASTER_KEY/);
  });
});
