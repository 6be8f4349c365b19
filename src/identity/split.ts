import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { cleanContextFor } from '../collect/cleaning-settings.js';
import { cleanMessage } from '../worker/clean-message.js';
import { identityIndex, upsertProfiles } from './graph-store.js';
import { identitiesOf, standardizeIdentity, type IdentityKey } from './identifiers.js';
import type { IdentityDeps } from './merge.js';
import { IdentityOperationError } from './operation-error.js';
import { messagesOfProfile, moveMessages, replayTraits } from './replay.js';
import { identitySettingsFor } from './settings-store.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';

type Tx = Transaction<Schema>;

export interface SplitOutcome {
  /** the profile that kept the rest */
  survivor: string;
  /** the profile split off: the merged-away one restored, or a new one */
  split: string;
  identities: number;
  events: number;
}

/**
 * Undo a merge: the merged-away profile comes back under its own id with the
 * identities the merge moved, the events those identities carried, and traits
 * rebuilt from its own messages. The pair is remembered as different, so the
 * resolver does not merge it again.
 */
export async function undoMerge(deps: IdentityDeps, workspaceId: string, mergeId: string, actor: string | null): Promise<SplitOutcome> {
  return deps.database.db.transaction().execute(async (tx) => {
    await lockWorkspaceProfiles(tx, workspaceId);
    const merge = await tx.selectFrom('profile_merges').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', mergeId).executeTakeFirst();
    if (!merge) throw new IdentityOperationError('not_found', 'merge', `merge ${mergeId} does not exist`);
    if (merge.undone_at) throw new IdentityOperationError('conflict', 'merge', `merge ${mergeId} was already undone at ${merge.undone_at.toISOString()}`);
    const from = await tx.selectFrom('profiles').select(['id', 'merged_into', 'created_at']).where('workspace_id', '=', workspaceId).where('id', '=', merge.from_profile).executeTakeFirstOrThrow();
    const survivor = from.merged_into;
    if (survivor === null) throw new IdentityOperationError('conflict', 'merge', `profile ${merge.from_profile} is not merged any more`);
    const outcome = await separate(deps, tx, workspaceId, survivor, { id: from.id, createdAt: from.created_at }, new Set(merge.moved_identities.map((b) => Buffer.from(b).toString('hex'))));
    await tx.updateTable('profile_merges').set({ undone_at: new Date() }).where('workspace_id', '=', workspaceId).where('id', '=', mergeId).execute();
    await tx
      .insertInto('profile_merges')
      .values({ workspace_id: workspaceId, from_profile: survivor, into_profile: from.id, reason: 'split', created_at: new Date(), actor, detail: JSON.stringify({ undoes: mergeId }) })
      .execute();
    return outcome;
  });
}

/**
 * Split chosen identities (a source record, an email…) off a profile into a
 * new one; the events they carried and the traits those events gave follow.
 */
export async function splitIdentities(deps: IdentityDeps, workspaceId: string, profileId: string, identities: readonly IdentityKey[], actor: string | null): Promise<SplitOutcome> {
  return deps.database.db.transaction().execute(async (tx) => {
    await lockWorkspaceProfiles(tx, workspaceId);
    const profile = await tx.selectFrom('profiles').select(['id', 'merged_into']).where('workspace_id', '=', workspaceId).where('id', '=', profileId).executeTakeFirst();
    if (!profile) throw new IdentityOperationError('not_found', 'id', `profile ${profileId} does not exist`);
    if (profile.merged_into) throw new IdentityOperationError('conflict', 'id', `profile ${profileId} was merged into ${profile.merged_into}; split that one`);
    const indexes = new Set<string>();
    for (const [i, key] of identities.entries()) {
      const value = standardizeIdentity(key.type, key.value);
      if (value === null) throw new IdentityOperationError('conflict', `identities[${i}].value`, `not a valid ${key.type}`);
      indexes.add(identityIndex(deps.keyring, workspaceId, { type: key.type, value }).toString('hex'));
    }
    const target = { id: randomUUID(), createdAt: new Date() };
    const outcome = await separate(deps, tx, workspaceId, profileId, target, indexes);
    await tx
      .insertInto('profile_merges')
      .values({ workspace_id: workspaceId, from_profile: profileId, into_profile: target.id, reason: 'split', created_at: new Date(), actor, detail: JSON.stringify({ identities: outcome.identities }) })
      .execute();
    return outcome;
  });
}

/**
 * Move the identities with the given blind indexes from `survivorId` to
 * `target`, with every message that carried only identities of the moving
 * side, then rebuild both profiles' traits from their messages. A message
 * that carried identities of both sides (the one that caused a merge) stays.
 */
async function separate(deps: IdentityDeps, tx: Tx, workspaceId: string, survivorId: string, target: { id: string; createdAt: Date }, indexes: ReadonlySet<string>): Promise<SplitOutcome> {
  const { keyring, junk } = deps;
  const owned = await tx.selectFrom('identities').select('value_index').where('workspace_id', '=', workspaceId).where('profile_id', '=', survivorId).execute();
  const moving = owned.map((o) => Buffer.from(o.value_index)).filter((b) => indexes.has(b.toString('hex')));
  if (moving.length === 0) throw new IdentityOperationError('conflict', 'identities', `profile ${survivorId} holds none of the identities to split off`);
  if (moving.length === owned.length) throw new IdentityOperationError('conflict', 'identities', `splitting would leave profile ${survivorId} with no identity`);
  await tx
    .updateTable('identities')
    .set({ profile_id: target.id })
    .where('workspace_id', '=', workspaceId)
    .where('value_index', 'in', sql<Uint8Array>`(select decode(h, 'hex') from unnest(${moving.map((b) => b.toString('hex'))}::text[]) as h)`)
    .execute();
  const movingHex = new Set(moving.map((b) => b.toString('hex')));
  const stayingHex = new Set(owned.map((o) => Buffer.from(o.value_index).toString('hex')).filter((h) => !movingHex.has(h)));

  const settings = await identitySettingsFor(tx, workspaceId);
  const messages = await messagesOfProfile(tx, keyring, workspaceId, survivorId);
  const stay: typeof messages = [];
  const go: typeof messages = [];
  const now = new Date();
  const contexts = new Map<string, Awaited<ReturnType<typeof cleanContextFor>>>();
  for (const m of messages) {
    let context = contexts.get(m.sourceId);
    if (!context) contexts.set(m.sourceId, (context = await cleanContextFor(tx, workspaceId, m.sourceId, now)));
    const carried = identitiesOf(cleanMessage(m.message, context).message, junk).map((k) => identityIndex(keyring, workspaceId, k).toString('hex'));
    const moves = carried.some((h) => movingHex.has(h)) && !carried.some((h) => stayingHex.has(h));
    (moves ? go : stay).push(m);
  }
  await moveMessages(tx, workspaceId, go.map((m) => m.message.messageId), target.id);

  const survivorRow = await tx.selectFrom('profiles').select(['created_at']).where('workspace_id', '=', workspaceId).where('id', '=', survivorId).executeTakeFirstOrThrow();
  const kept = await replayTraits(tx, workspaceId, stay, settings.survivorship);
  const split = await replayTraits(tx, workspaceId, go, settings.survivorship);
  await upsertProfiles(tx, keyring, workspaceId, [
    { id: survivorId, traits: kept.traits, provenance: kept.provenance, createdAt: survivorRow.created_at, updatedAt: now, lastSeenAt: kept.lastSeenAt },
    { id: target.id, traits: split.traits, provenance: split.provenance, createdAt: target.createdAt, updatedAt: now, lastSeenAt: split.lastSeenAt },
  ]);
  // Profiles once merged into the split-off one still resolve to it only if they were its own; without that record they stay with the survivor.
  const [a, b] = survivorId < target.id ? [survivorId, target.id] : [target.id, survivorId];
  await tx
    .insertInto('identity_exclusions')
    .values({ workspace_id: workspaceId, profile_a: a, profile_b: b, reason: 'split', created_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'profile_a', 'profile_b']).doNothing())
    .execute();
  return { survivor: survivorId, split: target.id, identities: moving.length, events: go.length };
}
