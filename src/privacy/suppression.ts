import { sql, type Kysely, type Transaction } from 'kysely';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { keysOfBatch, type IncomingMessage } from '../identity/graph.js';
import { identityIndex } from '../identity/graph-store.js';
import type { Schema } from '../storage/schema.js';
import type { Keyring } from './crypto.js';

/**
 * Suppressions: the blind indexes of an erased person's identifiers. The
 * index is the one identities use (identityIndex), so a message is checked
 * with the same keyed hash resolution would look it up by, and the list
 * itself reveals nothing without the master key.
 */

export interface SuppressionEntry {
  type: string;
  valueIndex: Uint8Array;
}

/** Add entries; one already there keeps its first request. */
export async function addSuppressions(tx: Kysely<Schema>, workspaceId: string, entries: readonly SuppressionEntry[], requestId: string, now: Date): Promise<number> {
  if (entries.length === 0) return 0;
  const result = await tx
    .insertInto('suppressions')
    .values(entries.map((e) => ({ workspace_id: workspaceId, type: e.type, value_index: e.valueIndex, created_at: now, request_id: requestId })))
    .onConflict((oc) => oc.columns(['workspace_id', 'type', 'value_index']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Is this identifier (type and blind index) suppressed? */
export async function isSuppressed(db: Kysely<Schema>, workspaceId: string, type: string, valueIndex: Uint8Array): Promise<boolean> {
  const row = await db.selectFrom('suppressions').select('type').where('workspace_id', '=', workspaceId).where('type', '=', type).where('value_index', '=', valueIndex).executeTakeFirst();
  return row !== undefined;
}

/**
 * Take out of one workspace's share of a batch every message naming a
 * suppressed identifier, delete its event-log row (its encrypted copy is the
 * only one: it must not outlive the check) and count the hit on the entry
 * that stopped it. A message is dropped whole even if it also carries a fresh
 * identifier: it is still the erased person's, and keeping any part would
 * start a new profile of them. Returns the messages to keep. Runs inside the
 * pipeline's batch transaction, after the workspace lock, so an erasure that
 * committed while the batch waited for the lock is seen.
 */
export async function dropSuppressed(tx: Transaction<Schema>, keyring: Keyring, junk: JunkIdFilter, workspaceId: string, messages: IncomingMessage[]): Promise<IncomingMessage[]> {
  const keysPerMessage = messages.map((m) => keysOfBatch([m], junk).map((k) => ({ type: k.type, hex: identityIndex(keyring, workspaceId, k).toString('hex') })));
  const all = new Map<string, { type: string; hex: string }>();
  for (const keys of keysPerMessage) for (const k of keys) all.set(`${k.type}:${k.hex}`, k);
  if (all.size === 0) return messages;
  const list = [...all.values()];
  // Type and index travel as two parallel text arrays, the indexes hex-encoded, as loadSnapshot does: bytea[] parameters encode slowly.
  const { rows } = await sql<{ type: string; hex: string }>`
    select s.type, encode(s.value_index, 'hex') as hex from suppressions s
    join unnest(${list.map((k) => k.type)}::text[], ${list.map((k) => k.hex)}::text[]) as q(type, hex)
      on s.type = q.type and s.value_index = decode(q.hex, 'hex')
    where s.workspace_id = ${workspaceId}`.execute(tx);
  if (rows.length === 0) return messages;
  const hit = new Set(rows.map((r) => `${r.type}:${r.hex}`));
  const hits = new Map<string, { type: string; hex: string; n: number }>();
  const kept: IncomingMessage[] = [];
  const gone: string[] = [];
  messages.forEach((m, i) => {
    const matched = keysPerMessage[i]!.filter((k) => hit.has(`${k.type}:${k.hex}`));
    if (matched.length === 0) return void kept.push(m);
    gone.push(m.message.messageId);
    for (const k of matched) {
      const entry = hits.get(`${k.type}:${k.hex}`) ?? { ...k, n: 0 };
      entry.n += 1;
      hits.set(`${k.type}:${k.hex}`, entry);
    }
  });
  await tx.deleteFrom('event_log').where('workspace_id', '=', workspaceId).where('message_id', 'in', gone).execute();
  const now = new Date();
  for (const h of hits.values()) {
    await sql`update suppressions set hits = hits + ${h.n}, last_hit_at = ${now}
      where workspace_id = ${workspaceId} and type = ${h.type} and value_index = decode(${h.hex}, 'hex')`.execute(tx);
  }
  return kept;
}

/** Per workspace: how many suppression entries there are and how many messages they have stopped. */
export async function suppressionStats(db: Kysely<Schema>, workspaceId: string): Promise<{ entries: number; hits: number }> {
  const row = await db
    .selectFrom('suppressions')
    .select((eb) => [eb.fn.countAll<string>().as('n'), sql<string>`coalesce(sum(hits), 0)`.as('hits')])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return { entries: Number(row.n), hits: Number(row.hits) };
}
