import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { legacyKeys, MasterKeyError } from './crypto.js';

/**
 * What wraps (encrypts) the data keys: the master key, held by Custodian
 * (localKeyProvider) or by a key management service. Data keys never leave the
 * database unwrapped; the provider only ever sees a 32-byte data key and a
 * context string.
 *
 * To plug in a cloud KMS (AWS KMS, Google Cloud KMS, Azure Key Vault, Vault
 * Transit), implement this interface around its client, without adding its SDK
 * here:
 * - `wrap` is the service's Encrypt of the data key with `context` as the
 *   encryption context / additional authenticated data, and `unwrap` its
 *   Decrypt with the same context. A service without a context parameter must
 *   append the context to the plaintext and check it on unwrap: the context
 *   binds a wrapped key to its row (key id, purpose, workspace), so a wrapped
 *   key copied into another row is refused.
 * - `keyId` names the wrapping key without revealing it (the KMS key ARN or
 *   resource name). It is stored beside every wrapped key: a database opened
 *   with another provider key is refused with both names in the message, and
 *   a master-key rotation that was interrupted can be told apart from a wrong key.
 * - Both may throw; an unwrap that fails must throw, never return other bytes.
 * - Calls happen when a process opens the database, when it loads a key
 *   another process made, and during rotations: a few per workspace, never per
 *   row, so a network round trip each is fine.
 */
export interface KeyProvider {
  /** names the wrapping key, not secret: `local:<fingerprint>`, a KMS key ARN… */
  readonly keyId: string;
  /** where the key comes from, for messages: `CUSTODIAN_MASTER_KEY`, a file path, a KMS key name */
  readonly origin: string;
  wrap(dataKey: Uint8Array, context: string): Promise<Buffer>;
  unwrap(wrapped: Uint8Array, context: string): Promise<Buffer>;
  /**
   * The keys a database made before envelope encryption used, which were
   * derived from the master key itself. Only the local provider has them; a
   * database of that time is opened once with its master key to move them
   * into data_keys, and any provider works from then on.
   */
  legacyKeys?(): { dataKey: Buffer; indexKey: Buffer };
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAP_FORMAT = 1;

/** The fingerprint of a master key: enough to tell two keys apart, nothing to learn the key from. */
export function masterKeyFingerprint(masterKey: Uint8Array): string {
  return Buffer.from(hkdfSync('sha256', masterKey, 'custodian', 'master key id v1', 8)).toString('hex');
}

/**
 * The master key held by Custodian (CUSTODIAN_MASTER_KEY or `<data>/master.key`).
 * Data keys are sealed with AES-256-GCM under a key derived from it for this
 * purpose alone, the context as additional authenticated data.
 */
export function localKeyProvider(masterKey: Uint8Array, origin: string): KeyProvider {
  if (masterKey.length !== 32) throw new MasterKeyError(`${origin}: a master key must be 32 bytes (got ${masterKey.length})`);
  const master = Buffer.from(masterKey);
  const wrappingKey = Buffer.from(hkdfSync('sha256', master, 'custodian', 'data key wrap v1', 32));
  const keyId = `local:${masterKeyFingerprint(master)}`;
  return {
    keyId,
    origin,
    async wrap(dataKey, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', wrappingKey, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
      return Buffer.concat([Buffer.from([WRAP_FORMAT]), iv, cipher.getAuthTag(), body]);
    },
    async unwrap(wrapped, context) {
      const buf = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
      if (buf[0] !== WRAP_FORMAT || buf.length < 1 + IV_BYTES + TAG_BYTES) throw new MasterKeyError(`wrapped key for ${context}: unknown format ${buf[0]} (${buf.length} bytes)`);
      const decipher = createDecipheriv('aes-256-gcm', wrappingKey, buf.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
      } catch {
        throw new MasterKeyError(`the master key from ${origin} (${keyId}) does not open the wrapped key for ${context}: it is not the key it was wrapped with, or the row was changed`);
      }
    },
    legacyKeys: () => legacyKeys(master),
  };
}
