import { sql, type Selectable, type Transaction } from 'kysely';
import type { Keyring } from '../privacy/crypto.js';
import { joinClasses, splitByClass } from '../privacy/field-catalog.js';
import type { Schema } from '../storage/schema.js';
import { identityKey, type IdentityKey } from './identifiers.js';
import type { BatchPlan, GraphSnapshot, MergeReason, ProfileState } from './graph.js';
import { derivedKeys, type Provenance } from './survivorship.js';
import { moveCleaningRecords } from '../quality/record.js';
import { moveConsents } from '../privacy/consent.js';

type Tx = Transaction<Schema>;

/** Blind index of an identity: the workspace is part of it, so tenants cannot be correlated. */
export function identityIndex(keyring: Keyring, workspaceId: string, id: IdentityKey): Buffer {
  return keyring.blindIndex(workspaceId, id.type, id.value);
}

/** Load the owners of the given identities and those owners' current state. */
export async function loadSnapshot(tx: Tx, keyring: Keyring, workspaceId: string, keys: readonly IdentityKey[]): Promise<GraphSnapshot> {
  const owners = new Map<string, string>();
  const profiles = new Map<string, ProfileState>();
  const identityCounts = new Map<string, Map<string, number>>();
  if (keys.length === 0) return { owners, profiles, identityCounts };
  const byIndex = new Map(keys.map((k) => [identityIndex(keyring, workspaceId, k).toString('hex'), k]));
  const rows = await tx
    .selectFrom('identities')
    .select(['value_index', 'profile_id'])
    .where('workspace_id', '=', workspaceId)
    // The indexes travel as one hex text: a bytea[] parameter is slow to encode
    // and steered the planner off the primary key (measured: 6x slower).
    .where('value_index', 'in', sql<Uint8Array>`(select decode(h, 'hex') from unnest(string_to_array(${[...byIndex.keys()].join(',')}::text, ',')) as h)`)
    .execute();
  for (const row of rows) {
    const key = byIndex.get(Buffer.from(row.value_index).toString('hex'));
    if (key) owners.set(identityKey(key), row.profile_id);
  }
  const ids = [...new Set(owners.values())];
  if (ids.length > 0) {
    const found = await tx
      .selectFrom('profiles')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', ids)
      .execute();
    for (const p of found) profiles.set(p.id, profileStateOf(keyring, p));
    const counted = await tx
      .selectFrom('identities')
      .select(['profile_id', 'type', (eb) => eb.fn.countAll<string>().as('n')])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', ids)
      .groupBy(['profile_id', 'type'])
      .execute();
    for (const row of counted) {
      const byType = identityCounts.get(row.profile_id) ?? new Map<string, number>();
      byType.set(row.type, Number(row.n));
      identityCounts.set(row.profile_id, byType);
    }
  }
  return { owners, profiles, identityCounts };
}

type ProfileRow = Selectable<Schema['profiles']>;

/** A stored profile as the planner sees it. Traits kept before provenance existed get none, except the derived marks. */
export function profileStateOf(keyring: Keyring, p: ProfileRow): ProfileState {
  const secret = p.secret_traits ? keyring.decryptJson<Record<string, unknown>>(p.secret_traits) : null;
  const provenance = { ...(p.provenance as Provenance) };
  for (const key of p.derived_traits) provenance[key] ??= { s: '', m: '', t: '', d: 1 };
  return { id: p.id, traits: joinClasses(p.traits, secret), provenance, createdAt: p.created_at, updatedAt: p.updated_at, lastSeenAt: p.last_seen_at };
}

/** The row values of a profile's state. */
export function profileRow(keyring: Keyring, workspaceId: string, p: ProfileState) {
  const { plain, secret } = splitByClass(p.traits);
  const provenance: Provenance = {};
  // Provenance of a trait no longer held (a refused value cleared) would point nowhere.
  for (const key of Object.keys(p.traits)) if (p.provenance[key]) provenance[key] = p.provenance[key];
  return {
    workspace_id: workspaceId,
    id: p.id,
    traits: JSON.stringify(plain),
    secret_traits: secret ? keyring.encryptJson(workspaceId, secret) : null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    last_seen_at: p.lastSeenAt,
    derived_traits: derivedKeys(provenance),
    provenance: JSON.stringify(provenance),
    merged_into: null,
  };
}

export interface MergeRecord {
  reason: MergeReason;
  messageId?: string | null;
  score?: number | null;
  detail?: Record<string, unknown> | null;
  actor?: string | null;
}

/**
 * Move everything of one profile into another: identities, events, cleaning
 * records, profiles merged into it before, and the pairs said to differ.
 * Records the merge with the identities it moved, so it can be undone. The
 * caller writes the survivor's traits.
 */
export async function moveProfile(tx: Tx, workspaceId: string, from: string, into: string, record: MergeRecord): Promise<void> {
  const moved = await tx
    .updateTable('identities')
    .set({ profile_id: into })
    .where('workspace_id', '=', workspaceId)
    .where('profile_id', '=', from)
    .returning('value_index')
    .execute();
  await tx.updateTable('events').set({ profile_id: into }).where('workspace_id', '=', workspaceId).where('profile_id', '=', from).execute();
  await moveCleaningRecords(tx, workspaceId, from, into);
  await moveConsents(tx, workspaceId, from, into);
  const now = new Date();
  await tx
    .updateTable('profiles')
    .set({ merged_into: into, updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('id', '=', from), eb('merged_into', '=', from)]))
    .execute();
  for (const side of ['profile_a', 'profile_b'] as const) {
    await sql`update identity_exclusions set ${sql.ref(side)} = ${into}::uuid
      where workspace_id = ${workspaceId} and ${sql.ref(side)} = ${from}::uuid
      and not exists (select 1 from identity_exclusions e where e.workspace_id = ${workspaceId}
        and (e.profile_a, e.profile_b) = (case when ${side} = 'profile_a' then ${into}::uuid else identity_exclusions.profile_a end,
                                          case when ${side} = 'profile_b' then ${into}::uuid else identity_exclusions.profile_b end))`.execute(tx);
  }
  await tx.deleteFrom('identity_exclusions').where('workspace_id', '=', workspaceId).where((eb) => eb.or([eb('profile_a', '=', from), eb('profile_b', '=', from)])).execute();
  await tx
    .insertInto('profile_merges')
    .values({
      workspace_id: workspaceId,
      from_profile: from,
      into_profile: into,
      reason: record.reason,
      message_id: record.messageId ?? null,
      created_at: now,
      moved_identities: moved.map((m) => m.value_index),
      score: record.score ?? null,
      detail: record.detail ? JSON.stringify(record.detail) : null,
      actor: record.actor ?? null,
    })
    .execute();
}

/** Insert or update profiles in their final state. */
export async function upsertProfiles(tx: Tx, keyring: Keyring, workspaceId: string, states: readonly ProfileState[]): Promise<void> {
  await tx
    .insertInto('profiles')
    .values(states.map((p) => profileRow(keyring, workspaceId, p)))
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'id']).doUpdateSet((eb) => ({
        traits: eb.ref('excluded.traits'),
        secret_traits: eb.ref('excluded.secret_traits'),
        updated_at: eb.ref('excluded.updated_at'),
        last_seen_at: eb.ref('excluded.last_seen_at'),
        derived_traits: eb.ref('excluded.derived_traits'),
        provenance: eb.ref('excluded.provenance'),
        merged_into: eb.ref('excluded.merged_into'),
      })),
    )
    .execute();
}

/** Write a plan's profiles, identities and merges. Events are written by the caller. */
export async function applyPlan(tx: Tx, keyring: Keyring, workspaceId: string, plan: BatchPlan): Promise<void> {
  if (plan.profiles.size > 0) await upsertProfiles(tx, keyring, workspaceId, [...plan.profiles.values()]);
  for (const merge of plan.merges) await moveProfile(tx, workspaceId, merge.from, merge.into, { reason: merge.reason, messageId: merge.messageId });
  if (plan.conflicts.length > 0) {
    await tx
      .insertInto('identity_conflicts')
      .values(
        plan.conflicts.map((c) => ({
          workspace_id: workspaceId,
          message_id: c.messageId,
          type: c.identity.type,
          value_index: identityIndex(keyring, workspaceId, c.identity),
          reason: c.reason,
          limit_type: c.limitType,
          profiles: c.profiles,
          created_at: new Date(),
        })),
      )
      .execute();
  }
  if (plan.identities.length > 0) {
    await tx
      .insertInto('identities')
      .values(
        plan.identities.map((i) => ({
          workspace_id: workspaceId,
          type: i.type,
          value_index: identityIndex(keyring, workspaceId, i),
          value_enc: keyring.encrypt(workspaceId, Buffer.from(i.value, 'utf8')),
          profile_id: i.profileId,
          source_id: i.sourceId,
          first_seen_at: i.firstSeenAt,
        })),
      )
      // The snapshot was read in this transaction; a conflict means another
      // worker claimed the identity first, and its owner stays.
      .onConflict((oc) => oc.columns(['workspace_id', 'value_index']).doNothing())
      .execute();
  }
}
