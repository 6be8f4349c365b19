import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { CleanContext } from '../clean/settings.js';
import { cleanContextFor } from '../collect/cleaning-settings.js';
import type { TrackingMessage } from '../collect/messages.js';
import { identityPolicy, keysOfBatch, planBatch, type IncomingMessage } from '../identity/graph.js';
import { applyPlan, loadSnapshot } from '../identity/graph-store.js';
import { identitySettingsFor } from '../identity/settings-store.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import type { Keyring } from '../privacy/crypto.js';
import { splitByClass } from '../privacy/field-catalog.js';
import { consentsOfMessage, recordConsents } from '../privacy/consent.js';
import { dropSuppressed } from '../privacy/suppression.js';
import { refreshWorkspace } from '../segments/membership.js';
import { enrollFromEvents } from '../activate/journeys.js';
import { recordCleaning, type CleaningRecord } from '../quality/record.js';
import type { Database } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';
import { cleanMessage, type CleanedMessage } from './clean-message.js';

export interface PipelineDeps {
  database: Database;
  keyring: Keyring;
  junk: JunkIdFilter;
}

export interface BatchOutcome {
  processed: number;
  profilesTouched: number;
  merges: number;
  /** identifiers left unlinked because linking them would break an identity limit */
  conflicts: number;
  /** identifiers ignored because the workspace blocklists them */
  blocked: number;
  /** segment and tag entries and exits the batch caused */
  entered: number;
  exited: number;
}

/**
 * What of a message is kept in the clear on its stored event, and what is
 * sealed. The event keeps the message as it was sent: the profile has the
 * standardized values, and the originals stay here and in the lineage.
 */
function eventRow(workspaceId: string, keyring: Keyring, e: IncomingMessage & { profileId: string | null }, m: TrackingMessage) {
  const body = m.type === 'identify' || m.type === 'group' ? m.traits : m.properties;
  const { plain, secret } = splitByClass(body ?? {});
  const sealed = {
    userId: m.userId,
    anonymousId: m.anonymousId,
    previousId: m.previousId,
    groupId: m.groupId,
    context: m.context,
    fields: secret,
  };
  return {
    workspace_id: workspaceId,
    message_id: m.messageId,
    profile_id: e.profileId,
    source_id: e.sourceId,
    type: m.type,
    event: m.type === 'track' ? (m.event ?? null) : (m.name ?? null),
    timestamp: m.timestamp,
    received_at: m.receivedAt,
    properties: JSON.stringify(plain),
    secret: keyring.encryptJson(workspaceId, sealed),
  };
}

/**
 * Take up to `limit` pending messages from the event log and run them through
 * resolve → profile in one transaction. A crash anywhere rolls the whole batch
 * back, and the next run redoes it with the same result.
 */
export async function processBatch(deps: PipelineDeps, limit = 500): Promise<BatchOutcome> {
  const { database, keyring, junk } = deps;
  return database.db.transaction().execute(async (tx) => {
    const pending = await tx
      .selectFrom('event_log')
      .select(['workspace_id', 'seq', 'source_id', 'payload'])
      .where('processed_at', 'is', null)
      .orderBy('seq')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (pending.length === 0) return { processed: 0, profilesTouched: 0, merges: 0, conflicts: 0, blocked: 0, entered: 0, exited: 0 };
    const now = new Date();
    const contexts = await loadCleanContexts(tx, pending, now);
    const byWorkspace = new Map<string, IncomingMessage[]>();
    // By workspace and messageId, the log's own key: two tenants may send the same id.
    const raw = new Map<string, TrackingMessage>();
    const cleaning = new Map<string, CleanedMessage>();
    const keyOf = (workspaceId: string, messageId: string) => `${workspaceId}\u0000${messageId}`;
    for (const row of pending) {
      const message = keyring.decryptJson<TrackingMessage>(row.payload);
      const cleaned = cleanMessage(message, contexts.get(`${row.workspace_id}\u0000${row.source_id}`)!);
      raw.set(keyOf(row.workspace_id, message.messageId), message);
      cleaning.set(keyOf(row.workspace_id, message.messageId), cleaned);
      const list = byWorkspace.get(row.workspace_id) ?? [];
      list.push({ message: cleaned.message, sourceId: row.source_id, derived: cleaned.derived });
      byWorkspace.set(row.workspace_id, list);
    }
    let profilesTouched = 0;
    let merges = 0;
    let conflicts = 0;
    let blocked = 0;
    let entered = 0;
    let exited = 0;
    for (const [workspaceId, received] of byWorkspace) {
      // Cleaning above runs in parallel across workers; from here on, one workspace's graph is changed by one at a time.
      await lockWorkspaceProfiles(tx, workspaceId);
      // DSAR: an erased person's messages go before resolution could recreate them; after the lock, so an erasure committed meanwhile counts.
      const messages = await dropSuppressed(tx, keyring, junk, workspaceId, received);
      if (messages.length === 0) continue;
      const policy = identityPolicy(junk, await identitySettingsFor(tx, workspaceId));
      const snapshot = await loadSnapshot(tx, keyring, workspaceId, keysOfBatch(messages, junk));
      const plan = planBatch(messages, snapshot, policy, now, randomUUID);
      await applyPlan(tx, keyring, workspaceId, plan);
      await tx
        .insertInto('events')
        .values(plan.events.map((e) => eventRow(workspaceId, keyring, e, raw.get(keyOf(workspaceId, e.message.messageId)) ?? e.message)))
        .onConflict((oc) => oc.columns(['workspace_id', 'message_id']).doNothing())
        .execute();
      const records: CleaningRecord[] = plan.events.map((e) => {
        const cleaned = cleaning.get(keyOf(workspaceId, e.message.messageId))!;
        return { messageId: e.message.messageId, sourceId: e.sourceId, profileId: e.profileId, receivedAt: e.message.receivedAt, lineage: cleaned.lineage, observations: cleaned.observations, hasTraits: cleaned.hasTraits };
      });
      await recordCleaning(tx, keyring, workspaceId, records, now);
      // Segment's context.consent, recorded at the message's own time: a late-arriving older message cannot undo a newer choice.
      const consents = plan.events.flatMap((e) => {
        const m = raw.get(keyOf(workspaceId, e.message.messageId)) ?? e.message;
        return e.profileId ? consentsOfMessage(m, e.profileId, e.sourceId) : [];
      });
      const consented = await recordConsents(tx, workspaceId, consents, now);
      // compute: segments and tags follow the profiles this batch changed, in the same transaction, so an entry
      // or exit is recorded exactly once with the event that caused it.
      const changed = new Set<string>(plan.profiles.keys());
      for (const m of plan.merges) changed.add(m.from);
      for (const id of consented.profileIds) changed.add(id);
      const membership = await refreshWorkspace(tx, workspaceId, { now, profileIds: [...changed], cause: 'event' });
      // activate: event triggers start journeys in the batch that stored the event, so a trigger fires once with it.
      await enrollFromEvents(tx, workspaceId, plan.events.flatMap((e) => (e.profileId ? [{ profileId: e.profileId, event: (e.message.type === 'track' ? e.message.event : e.message.name) ?? null, properties: e.message.properties ?? {}, messageId: e.message.messageId, timestamp: e.message.timestamp }] : [])), now);
      entered += membership.entered;
      exited += membership.exited;
      profilesTouched += plan.profiles.size;
      merges += plan.merges.length;
      conflicts += plan.conflicts.length;
      blocked += plan.blocked;
    }
    await tx
      .updateTable('event_log')
      .set({ processed_at: now })
      // processed_at is null lets the planner use the pending index instead of scanning the log.
      .where('processed_at', 'is', null)
      .where('seq', '=', sql<string>`any(${pending.map((r) => r.seq)}::bigint[])`)
      .execute();
    return { processed: pending.length, profilesTouched, merges, conflicts, blocked, entered, exited };
  });
}

/** The cleaning context of every (workspace, source) in a batch, read in the batch: a settings change applies from the next one. */
async function loadCleanContexts(tx: Transaction<Schema>, pending: ReadonlyArray<{ workspace_id: string; source_id: string }>, now: Date): Promise<Map<string, CleanContext>> {
  const contexts = new Map<string, CleanContext>();
  for (const p of pending) {
    const key = `${p.workspace_id}\u0000${p.source_id}`;
    if (!contexts.has(key)) contexts.set(key, await cleanContextFor(tx, p.workspace_id, p.source_id, now));
  }
  return contexts;
}

/**
 * Set the oldest pending message aside with the reason it fails, so one
 * poisonous message cannot stall the log. Called only after that message alone
 * has failed repeatedly while the database itself answers.
 */
export async function deadLetterOldest(deps: PipelineDeps, reason: string): Promise<string | null> {
  return deps.database.db.transaction().execute(async (tx) => {
    const oldest = await tx
      .selectFrom('event_log')
      .select(['workspace_id', 'seq', 'message_id', 'source_id', 'payload'])
      .where('processed_at', 'is', null)
      .orderBy('seq')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!oldest) return null;
    // An erasure leaves the messages a batch holds locked to that batch, which drops them as suppressed; one that
    // fails until it lands here would instead be kept aside with the erased person's identifiers. Checked under the
    // profile lock, so an erasure running now has committed its suppressions first.
    await lockWorkspaceProfiles(tx, oldest.workspace_id);
    if (await droppedAsSuppressed(tx, deps, oldest)) return null;
    await tx
      .updateTable('event_log')
      .set({ processed_at: new Date(), error: reason.slice(0, 2000) })
      .where('workspace_id', '=', oldest.workspace_id)
      .where('seq', '=', oldest.seq)
      .execute();
    return oldest.message_id;
  });
}

/** Drop a logged message (delete its row) if it names a suppressed identifier, as sent or as cleaning leaves it. */
async function droppedAsSuppressed(tx: Transaction<Schema>, deps: PipelineDeps, row: { workspace_id: string; source_id: string; payload: Uint8Array }): Promise<boolean> {
  let message: TrackingMessage;
  try {
    message = deps.keyring.decryptJson<TrackingMessage>(row.payload);
  } catch {
    return false;
  }
  const variants: IncomingMessage[] = [{ message, sourceId: row.source_id }];
  try {
    variants.push({ message: cleanMessage(message, await cleanContextFor(tx, row.workspace_id, row.source_id, new Date())).message, sourceId: row.source_id });
  } catch {
    // Cleaning may be what fails on it: the identifiers as sent must do.
  }
  const kept = await dropSuppressed(tx, deps.keyring, deps.junk, row.workspace_id, variants);
  return kept.length < variants.length;
}
