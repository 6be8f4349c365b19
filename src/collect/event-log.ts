import type { Database } from '../storage/database.js';
import type { Keyring } from '../privacy/crypto.js';
import type { TrackingMessage } from './messages.js';

export interface AppendOutcome {
  /** messageIds written now */
  stored: Set<string>;
  /** messageIds already in the log (a retry): accepted, not stored again */
  duplicates: Set<string>;
}

/**
 * Write validated messages to the durable event log in one statement. When it
 * returns, they are committed: this is what a 2xx promises. The whole message
 * is encrypted: it carries identifiers.
 */
export async function appendToEventLog(
  database: Database,
  keyring: Keyring,
  workspaceId: string,
  sourceId: string,
  messages: readonly TrackingMessage[],
): Promise<AppendOutcome> {
  if (messages.length === 0) return { stored: new Set(), duplicates: new Set() };
  const rows = messages.map((m) => ({
    workspace_id: workspaceId,
    message_id: m.messageId,
    source_id: sourceId,
    type: m.type,
    payload: keyring.encryptJson(m),
    received_at: m.receivedAt,
  }));
  const inserted = await database.db
    .insertInto('event_log')
    .values(rows)
    .onConflict((oc) => oc.columns(['workspace_id', 'message_id']).doNothing())
    .returning('message_id')
    .execute();
  const stored = new Set(inserted.map((r) => r.message_id));
  const duplicates = new Set(messages.map((m) => m.messageId).filter((id) => !stored.has(id)));
  return { stored, duplicates };
}
