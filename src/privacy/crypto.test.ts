import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyring, loadMasterKey, MasterKeyError } from './crypto.js';

describe('keyring', () => {
  const keyring = createKeyring(Buffer.alloc(32, 1));
  it('round-trips and never repeats a ciphertext', () => {
    const a = keyring.encryptJson({ email: 'zhang@qq.com' });
    const b = keyring.encryptJson({ email: 'zhang@qq.com' });
    expect(a.equals(b)).toBe(false);
    expect(a.toString('latin1')).not.toContain('zhang');
    expect(keyring.decryptJson(a)).toEqual({ email: 'zhang@qq.com' });
  });
  it('detects tampering', () => {
    const sealed = keyring.encrypt(Buffer.from('secret'));
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
