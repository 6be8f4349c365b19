import { sql, type Transaction } from 'kysely';
import type { CleanContext } from '../clean/settings.js';
import { cleanContextFor } from '../collect/cleaning-settings.js';
import type { TrackingMessage } from '../collect/messages.js';
import type { Keyring } from '../privacy/crypto.js';
import type { Schema } from '../storage/schema.js';
import { cleanMessage } from '../worker/clean-message.js';
import { traitsOf } from './identifiers.js';
import type { Survivorship } from './settings.js';
import { offerTrait, type TraitState } from './survivorship.js';

type Tx = Transaction<Schema>;

/** A profile's stored messages, as sent, in the order the pipeline took them. */
export interface ProfileMessage {
  message: TrackingMessage;
  sourceId: string;
}

/** Every message attributed to a profile, from the log, in log order. */
export async function messagesOfProfile(tx: Tx, keyring: Keyring, workspaceId: string, profileId: string): Promise<ProfileMessage[]> {
  const rows = await tx
    .selectFrom('events as e')
    .innerJoin('event_log as l', (join) => join.onRef('l.workspace_id', '=', 'e.workspace_id').onRef('l.message_id', '=', 'e.message_id'))
    .select(['l.payload', 'l.source_id'])
    .where('e.workspace_id', '=', workspaceId)
    .where('e.profile_id', '=', profileId)
    .orderBy('l.seq')
    .execute();
  return rows.map((r) => ({ message: keyring.decryptJson<TrackingMessage>(r.payload), sourceId: r.source_id }));
}

/**
 * A profile's golden traits rebuilt from its messages: each cleaned and offered
 * to the survivorship rules in log order, as the pipeline did when they
 * arrived. A split uses it so each side gets back exactly what its own
 * messages say.
 */
export async function replayTraits(tx: Tx, workspaceId: string, messages: readonly ProfileMessage[], rules: Survivorship): Promise<TraitState & { lastSeenAt: Date | null }> {
  const contexts = new Map<string, CleanContext>();
  const state: TraitState = { traits: {}, provenance: {} };
  let lastSeenAt: Date | null = null;
  const now = new Date();
  for (const { message, sourceId } of messages) {
    let context = contexts.get(sourceId);
    if (!context) contexts.set(sourceId, (context = await cleanContextFor(tx, workspaceId, sourceId, now)));
    const cleaned = cleanMessage(message, context);
    const at = new Date(message.timestamp);
    const offer = { sourceId, messageId: message.messageId, at };
    for (const [key, value] of Object.entries(traitsOf(cleaned.message))) offerTrait(state, key, value, { ...offer, derived: false }, rules);
    for (const [key, value] of Object.entries(cleaned.derived)) offerTrait(state, key, value, { ...offer, derived: true }, rules);
    if (!lastSeenAt || at > lastSeenAt) lastSeenAt = at;
  }
  return { ...state, lastSeenAt };
}

/** Point messages (events and their lineage) at another profile. */
export async function moveMessages(tx: Tx, workspaceId: string, messageIds: readonly string[], into: string): Promise<void> {
  if (messageIds.length === 0) return;
  const ids = sql<string>`any(${messageIds}::text[])`;
  await tx.updateTable('events').set({ profile_id: into }).where('workspace_id', '=', workspaceId).where('message_id', '=', ids).execute();
  await tx.updateTable('field_lineage').set({ profile_id: into }).where('workspace_id', '=', workspaceId).where('message_id', '=', ids).execute();
}
