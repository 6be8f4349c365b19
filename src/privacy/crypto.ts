import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Ciphertext formats. Version 1 (before envelope encryption) is sealed with the
 * one key derived from the master key, and has no key id:
 *   [1] [iv 12] [tag 16] [ciphertext]
 * Version 2 names the data key that sealed it, so a rotation can leave old rows
 * where they are and still open them; the header is authenticated (GCM AAD):
 *   [2] [key id, u32 big endian] [iv 12] [tag 16] [ciphertext]
 * Both are read for as long as their key exists; only version 2 is written by a
 * database's own keyring (privacy/data-keys.ts).
 */
const LEGACY_VERSION = 1;
const VERSION = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const V1_HEAD = 1;
const V2_HEAD = 1 + 4;
/** The key id version-1 ciphertexts are read with: the pre-envelope key. */
export const LEGACY_KEY_ID = 0;

/** Encryption and blind indexing for identifier-class data. */
export interface Keyring {
  /** Seal with the workspace's active data key. */
  encrypt(workspaceId: string, plain: Uint8Array): Buffer;
  /** Open with whichever data key the ciphertext names. */
  decrypt(sealed: Uint8Array): Buffer;
  encryptJson(workspaceId: string, value: unknown): Buffer;
  decryptJson<T>(sealed: Uint8Array): T;
  /** Keyed hash for equality look-up: same input, same index; useless without the key. */
  blindIndex(...parts: string[]): Buffer;
}

/**
 * Why a key cannot be used, for callers that answer differently:
 * - `unavailable`: not loaded in this process yet, or this process has no
 *   current key (it is behind); a reload, another process or a restart helps,
 *   so try again later (API: 503 with Retry-After; worker: reload, retry).
 * - `unreadable`: destroyed, unknown, or the ciphertext does not open under
 *   its key (changed, or sealed under another key); trying again does not help
 *   (API: 409).
 * - `invalid`: anything else (a rotation asked for a workspace that does not exist…).
 */
export type KeyringErrorKind = 'unavailable' | 'unreadable' | 'invalid';

/** A key the keyring cannot use: not loaded, destroyed, or none for a workspace. Names the key and why. */
export class KeyringError extends Error {
  constructor(
    message: string,
    readonly kind: KeyringErrorKind = 'invalid',
    /** the data key concerned, when there is one */
    readonly keyId: number | null = null,
  ) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** Where a keyring gets its keys: fixed ones (createKeyring) or the data_keys table (data-keys.ts). */
export interface KeySource {
  /** the key new data of this workspace is sealed with; LEGACY_KEY_ID seals version 1 */
  sealingKey(workspaceId: string): { id: number; key: Buffer };
  /** the key a ciphertext names; throws KeyringError saying why when it is not available */
  openingKey(id: number): Buffer;
  readonly indexKey: Buffer;
}

/** The key id a ciphertext was sealed with (LEGACY_KEY_ID for version 1), or null when it is not a ciphertext of ours. */
export function keyIdOf(sealed: Uint8Array): number | null {
  if (sealed[0] === LEGACY_VERSION && sealed.length >= V1_HEAD + IV_BYTES + TAG_BYTES) return LEGACY_KEY_ID;
  if (sealed[0] === VERSION && sealed.length >= V2_HEAD + IV_BYTES + TAG_BYTES) return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).readUInt32BE(1);
  return null;
}

/** A keyring over a key source: the ciphertext format lives here, which key to use lives in the source. */
export function keyringOf(source: KeySource): Keyring {
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
  const encrypt = (workspaceId: string, plain: Uint8Array): Buffer => {
    const { id, key } = source.sealingKey(workspaceId);
    const head = id === LEGACY_KEY_ID ? V1_HEAD : V2_HEAD;
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // GCM is a stream mode: the ciphertext is exactly as long as the plaintext.
    const sealed = Buffer.allocUnsafe(head + IV_BYTES + TAG_BYTES + plain.length);
    if (id === LEGACY_KEY_ID) sealed[0] = LEGACY_VERSION;
    else {
      sealed[0] = VERSION;
      sealed.writeUInt32BE(id, 1);
      cipher.setAAD(sealed.subarray(0, V2_HEAD));
    }
    iv.copy(sealed, head);
    const body = head + IV_BYTES + TAG_BYTES;
    const written = cipher.update(plain).copy(sealed, body);
    cipher.final().copy(sealed, body + written);
    cipher.getAuthTag().copy(sealed, head + IV_BYTES);
    return sealed;
  };
  const decrypt = (sealed: Uint8Array): Buffer => {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const id = keyIdOf(buf);
    if (id === null) throw new KeyringError(`not a Custodian ciphertext: version byte ${buf[0]}, ${buf.length} bytes`, 'unreadable');
    const head = buf[0] === LEGACY_VERSION ? V1_HEAD : V2_HEAD;
    const decipher = createDecipheriv('aes-256-gcm', source.openingKey(id), buf.subarray(head, head + IV_BYTES));
    if (head === V2_HEAD) decipher.setAAD(buf.subarray(0, V2_HEAD));
    decipher.setAuthTag(buf.subarray(head + IV_BYTES, head + IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(buf.subarray(head + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      // GCM's "unsupported state or unable to authenticate data", with the key named.
      throw new KeyringError(`a ciphertext naming data key ${id} does not authenticate under that key: it was changed, or sealed under another database's key ${id}`, 'unreadable', id);
    }
  };
  return {
    encrypt,
    decrypt,
    encryptJson: (workspaceId, value) => encrypt(workspaceId, Buffer.from(JSON.stringify(value), 'utf8')),
    decryptJson: <T>(sealed: Uint8Array) => JSON.parse(decrypt(sealed).toString('utf8')) as T,
    blindIndex(...parts) {
      const mac = createHmac('sha256', source.indexKey);
      for (const part of parts) mac.update(part).update('\u0000');
      return mac.digest();
    },
  };
}

/**
 * The two keys a database used before envelope encryption, both derived from
 * the master key. A database set up then keeps them (wrapped) as its legacy
 * data key and its blind-index key: its rows and indexes were made with them.
 */
export function legacyKeys(masterKey: Uint8Array): { dataKey: Buffer; indexKey: Buffer } {
  if (masterKey.length !== 32) throw new Error(`master key must be 32 bytes (got ${masterKey.length})`);
  // Separate keys per purpose: a leaked index key must not decrypt anything.
  return {
    dataKey: Buffer.from(hkdfSync('sha256', masterKey, 'custodian', 'aes-256-gcm v1', 32)),
    indexKey: Buffer.from(hkdfSync('sha256', masterKey, 'custodian', 'blind-index v1', 32)),
  };
}

/**
 * A keyring of the pre-envelope scheme: everything from the master key, sealing
 * version 1. A database's own keyring comes from openKeyring (data-keys.ts);
 * this one is for code and tests that need a keyring and no database.
 */
export function createKeyring(masterKey: Uint8Array): Keyring {
  const { dataKey, indexKey } = legacyKeys(masterKey);
  return keyringOf({
    sealingKey: () => ({ id: LEGACY_KEY_ID, key: dataKey }),
    openingKey(id) {
      if (id !== LEGACY_KEY_ID) throw new KeyringError(`data key ${id} is not in this keyring: it opens version-1 ciphertexts only`, 'unreadable', id);
      return dataKey;
    },
    indexKey,
  });
}

export class MasterKeyError extends Error {}

/** A master key from its text form: 64 hex digits or base64 of 32 bytes. `origin` names where it came from in the error. */
export function parseMasterKey(text: string, origin: string): Buffer {
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
