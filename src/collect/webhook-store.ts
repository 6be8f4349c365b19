import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../privacy/crypto.js';
import type { Database } from '../storage/database.js';

/** A source's webhook mapping as stored: the document the user wrote, and its secret. */
export interface StoredWebhookMapping {
  workspaceId: string;
  sourceId: string;
  /** the mapping document, unparsed (parse it with parseWebhookMapping) */
  document: Record<string, unknown>;
  /** sha-256 of the webhook secret */
  secretHash: Buffer | null;
  /** the secret itself, encrypted */
  secretEnc: Buffer | null;
  createdAt: Date;
  updatedAt: Date;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function toStored(row: { workspace_id: string; source_id: string; mapping: Record<string, unknown>; secret_hash: Uint8Array | null; secret_enc: Uint8Array | null; created_at: Date; updated_at: Date }): StoredWebhookMapping {
  return {
    workspaceId: row.workspace_id,
    sourceId: row.source_id,
    // PGlite and pg both parse jsonb; a string means a driver that did not.
    document: typeof row.mapping === 'string' ? (JSON.parse(row.mapping) as Record<string, unknown>) : row.mapping,
    secretHash: row.secret_hash ? Buffer.from(row.secret_hash) : null,
    secretEnc: row.secret_enc ? Buffer.from(row.secret_enc) : null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

const COLUMNS = ['workspace_id', 'source_id', 'mapping', 'secret_hash', 'secret_enc', 'created_at', 'updated_at'] as const;

export function createWebhookStore(database: Database, keyring: Keyring) {
  return {
    async get(workspaceId: string, sourceId: string): Promise<StoredWebhookMapping | null> {
      const row = await database.db.selectFrom('webhook_mappings').select(COLUMNS).where('workspace_id', '=', workspaceId).where('source_id', '=', sourceId).executeTakeFirst();
      return row ? toStored(row) : null;
    },

    /** Every workspace's mapping for a source name: the webhook URL names the source, not the workspace. */
    async forSource(sourceId: string): Promise<StoredWebhookMapping[]> {
      const rows = await database.db.selectFrom('webhook_mappings').select(COLUMNS).where('source_id', '=', sourceId).limit(100).execute();
      return rows.map(toStored);
    },

    /**
     * Save a source's mapping, creating the source (without a write key) when
     * it does not exist. A secret is generated on the first save and when
     * `rotateSecret` is set; it is returned only then.
     */
    async save(workspaceId: string, sourceId: string, document: Record<string, unknown>, rotateSecret: boolean): Promise<{ stored: StoredWebhookMapping; secret: string | null }> {
      return database.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('sources')
          .values({ workspace_id: workspaceId, id: sourceId, name: sourceId, write_key_hash: null })
          .onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing())
          .execute();
        const existing = await tx.selectFrom('webhook_mappings').select('secret_hash').where('workspace_id', '=', workspaceId).where('source_id', '=', sourceId).forUpdate().executeTakeFirst();
        const secret = rotateSecret || !existing?.secret_hash ? `whsec_${randomBytes(24).toString('base64url')}` : null;
        const secretColumns = secret ? { secret_hash: sha256(secret), secret_enc: keyring.encrypt(workspaceId, Buffer.from(secret, 'utf8')) } : {};
        const now = new Date();
        const row = await tx
          .insertInto('webhook_mappings')
          .values({ workspace_id: workspaceId, source_id: sourceId, mapping: JSON.stringify(document), secret_hash: null, secret_enc: null, ...secretColumns, updated_at: now })
          .onConflict((oc) => oc.columns(['workspace_id', 'source_id']).doUpdateSet({ mapping: JSON.stringify(document), updated_at: now, ...secretColumns }))
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
        return { stored: toStored(row), secret };
      });
    },

    /** Whether `token` is this mapping's secret (constant time). */
    tokenMatches(stored: StoredWebhookMapping, token: string): boolean {
      return stored.secretHash !== null && timingSafeEqualBytes(sha256(token), stored.secretHash);
    },

    /** The secret in the clear, to check an HMAC signature. */
    secretOf(stored: StoredWebhookMapping): string | null {
      return stored.secretEnc ? keyring.decrypt(stored.secretEnc).toString('utf8') : null;
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
