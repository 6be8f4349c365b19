import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Encryption and blind indexing for identifier-class data, all from one master key. */
export interface Keyring {
  encrypt(plain: Uint8Array): Buffer;
  decrypt(sealed: Uint8Array): Buffer;
  encryptJson(value: unknown): Buffer;
  decryptJson<T>(sealed: Uint8Array): T;
  /** Keyed hash for equality look-up: same input, same index; useless without the key. */
  blindIndex(...parts: string[]): Buffer;
}

export function createKeyring(masterKey: Uint8Array): Keyring {
  if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  // Separate keys per purpose: a leaked index key must not decrypt anything.
  const encKey = Buffer.from(hkdfSync('sha256', masterKey, 'custodian', 'aes-256-gcm v1', 32));
  const indexKey = Buffer.from(hkdfSync('sha256', masterKey, 'custodian', 'blind-index v1', 32));
  // Random IVs drawn from a pool: one randomBytes call per 1,024 encryptions.
  let ivPool = Buffer.alloc(0);
  let ivOffset = 0;
  const nextIv = (): Buffer => {
    if (ivOffset + IV_BYTES > ivPool.length) {
      ivPool = randomBytes(IV_BYTES * 1024);
      ivOffset = 0;
    }
    const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
    ivOffset += IV_BYTES;
    return iv;
  };
  const encrypt = (plain: Uint8Array): Buffer => {
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', encKey, iv);
    // GCM is a stream mode: the ciphertext is exactly as long as the plaintext.
    const sealed = Buffer.allocUnsafe(1 + IV_BYTES + TAG_BYTES + plain.length);
    sealed[0] = VERSION;
    iv.copy(sealed, 1);
    const head = 1 + IV_BYTES + TAG_BYTES;
    const written = cipher.update(plain).copy(sealed, head);
    cipher.final().copy(sealed, head + written);
    cipher.getAuthTag().copy(sealed, 1 + IV_BYTES);
    return sealed;
  };
  const decrypt = (sealed: Uint8Array): Buffer => {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf[0] !== VERSION) throw new Error(`unknown ciphertext version ${buf[0]}`);
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', encKey, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  };
  return {
    encrypt,
    decrypt,
    encryptJson: (value) => encrypt(Buffer.from(JSON.stringify(value), 'utf8')),
    decryptJson: <T>(sealed: Uint8Array) => JSON.parse(decrypt(sealed).toString('utf8')) as T,
    blindIndex(...parts) {
      const mac = createHmac('sha256', indexKey);
      for (const part of parts) mac.update(part).update('\u0000');
      return mac.digest();
    },
  };
}

export class MasterKeyError extends Error {}

function parseMasterKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new MasterKeyError(`${origin} must be 32 bytes as 64 hex digits or base64 (got ${key.length} bytes)`);
  }
  return key;
}

/**
 * The master key comes from CUSTODIAN_MASTER_KEY, else from `<data>/master.key`.
 * `mayCreate`: the database is new, so a missing key file is made (mode 0600);
 * otherwise a missing file is an error, since a new key could decrypt nothing.
 */
export function loadMasterKey(dataDir: string, envValue: string | undefined, mayCreate = true): { key: Buffer; created: boolean; path: string | null } {
  if (envValue) return { key: parseMasterKey(envValue, 'CUSTODIAN_MASTER_KEY'), created: false, path: null };
  const path = join(dataDir, 'master.key');
  if (existsSync(path)) return { key: parseMasterKey(readFileSync(path, 'utf8'), path), created: false, path };
  if (!mayCreate) {
    throw new MasterKeyError(`this database was encrypted with a master key that is not here: restore ${path} or set CUSTODIAN_MASTER_KEY`);
  }
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, created: true, path };
}
