import { sql, type Transaction } from 'kysely';
import type { Keyring } from '../privacy/crypto.js';
import { joinClasses, splitByClass } from '../privacy/field-catalog.js';
import type { Schema } from '../storage/schema.js';
import { identityKey, type IdentityKey } from './identifiers.js';
import type { BatchPlan, GraphSnapshot, ProfileState } from './graph.js';

type Tx = Transaction<Schema>;

/** Blind index of an identity: the workspace is part of it, so tenants cannot be correlated. */
export function identityIndex(keyring: Keyring, workspaceId: string, id: IdentityKey): Buffer {
  return keyring.blindIndex(workspaceId, id.type, id.value);
}

/** Load the owners of the given identities and those owners' current state. */
export async function loadSnapshot(tx: Tx, keyring: Keyring, workspaceId: string, keys: readonly IdentityKey[]): Promise<GraphSnapshot> {
  const owners = new Map<string, string>();
  const profiles = new Map<string, ProfileState>();
  if (keys.length === 0) return { owners, profiles };
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
    for (const p of found) {
      const secret = p.secret_traits ? keyring.decryptJson<Record<string, unknown>>(p.secret_traits) : null;
      profiles.set(p.id, { id: p.id, traits: joinClasses(p.traits, secret), derived: new Set(p.derived_traits), createdAt: p.created_at, updatedAt: p.updated_at, lastSeenAt: p.last_seen_at });
    }
  }
  return { owners, profiles };
}

/** Write a plan's profiles, identities and merges. Events are written by the caller. */
export async function applyPlan(tx: Tx, keyring: Keyring, workspaceId: string, plan: BatchPlan): Promise<void> {
  if (plan.profiles.size > 0) {
    const rows = [...plan.profiles.values()].map((p) => {
      const { plain, secret } = splitByClass(p.traits);
      return {
        workspace_id: workspaceId,
        id: p.id,
        traits: JSON.stringify(plain),
        secret_traits: secret ? keyring.encryptJson(secret) : null,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
        last_seen_at: p.lastSeenAt,
        derived_traits: [...(p.derived ?? [])],
        merged_into: null,
      };
    });
    await tx
      .insertInto('profiles')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'id']).doUpdateSet((eb) => ({
          traits: eb.ref('excluded.traits'),
          secret_traits: eb.ref('excluded.secret_traits'),
          updated_at: eb.ref('excluded.updated_at'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
          derived_traits: eb.ref('excluded.derived_traits'),
        })),
      )
      .execute();
  }
  for (const merge of plan.merges) {
    await tx.updateTable('identities').set({ profile_id: merge.into }).where('workspace_id', '=', workspaceId).where('profile_id', '=', merge.from).execute();
    await tx.updateTable('events').set({ profile_id: merge.into }).where('workspace_id', '=', workspaceId).where('profile_id', '=', merge.from).execute();
    await tx
      .updateTable('profiles')
      .set({ merged_into: merge.into, updated_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or([eb('id', '=', merge.from), eb('merged_into', '=', merge.from)]))
      .execute();
    await tx
      .insertInto('profile_merges')
      .values({ workspace_id: workspaceId, from_profile: merge.from, into_profile: merge.into, reason: merge.reason, message_id: merge.messageId, created_at: new Date() })
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
          value_enc: keyring.encrypt(Buffer.from(i.value, 'utf8')),
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
