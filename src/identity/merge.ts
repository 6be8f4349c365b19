import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { Keyring } from '../privacy/crypto.js';
import type { Database } from '../storage/database.js';
import { moveProfile, profileStateOf, upsertProfiles, type MergeRecord } from './graph-store.js';
import { IdentityOperationError } from './operation-error.js';
import { typeRule } from './settings.js';
import { identitySettingsFor } from './settings-store.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import { mergeStates } from './survivorship.js';

export interface IdentityDeps {
  database: Database;
  keyring: Keyring;
  junk: JunkIdFilter;
}

export interface MergeOutcome {
  into: string;
  /** the profiles merged in (already merged ones and `into` itself are left out) */
  merged: string[];
}

/**
 * Merge profiles into one chosen survivor: a person's decision (manual, an
 * approved review) or the resolver's. Refused, naming the identity type, when
 * the merged profile would hold more identities of a type than the
 * workspace allows, as a message would be. Profiles already merged are
 * followed to where they went.
 */
export async function mergeProfiles(deps: IdentityDeps, workspaceId: string, into: string, from: readonly string[], record: MergeRecord): Promise<MergeOutcome> {
  const { database, keyring } = deps;
  return database.db.transaction().execute(async (tx) => {
    await lockWorkspaceProfiles(tx, workspaceId);
    const settings = await identitySettingsFor(tx, workspaceId);
    const ids = [...new Set([into, ...from])];
    const rows = await tx.selectFrom('profiles').selectAll().where('workspace_id', '=', workspaceId).where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const live = new Map<string, (typeof rows)[number]>();
    for (const [i, id] of ids.entries()) {
      const row = byId.get(id);
      const field = i === 0 ? 'into' : 'from';
      if (!row) throw new IdentityOperationError('not_found', field, `profile ${id} does not exist`);
      const current = row.merged_into ?? row.id;
      if (!live.has(current)) {
        const target = current === row.id ? row : await tx.selectFrom('profiles').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', current).executeTakeFirstOrThrow();
        live.set(current, target);
      }
    }
    const survivorId = byId.get(into)!.merged_into ?? into;
    const losers = [...live.keys()].filter((id) => id !== survivorId);
    if (losers.length === 0) return { into: survivorId, merged: [] };

    const counts = await tx
      .selectFrom('identities')
      .select(['type', (eb) => eb.fn.countAll<string>().as('n')])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', [...live.keys()])
      .groupBy('type')
      .execute();
    for (const { type, n } of counts) {
      const { limit } = typeRule(settings, type);
      if (Number(n) > limit) {
        throw new IdentityOperationError('conflict', 'from', `merging would give one profile ${n} identities of type ${type}; the workspace allows ${limit}`);
      }
    }
    // Survivorship sees the profiles oldest first, the survivor's identity aside.
    const states = [...live.values()].map((r) => profileStateOf(keyring, r)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
    const merged = mergeStates(states, settings.survivorship);
    const survivor = states.find((s) => s.id === survivorId)!;
    const lastSeen = states.map((s) => s.lastSeenAt).filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    await upsertProfiles(tx, keyring, workspaceId, [{ ...survivor, traits: merged.traits, provenance: merged.provenance, updatedAt: new Date(), lastSeenAt: lastSeen }]);
    for (const loser of losers) await moveProfile(tx, workspaceId, loser, survivorId, record);
    return { into: survivorId, merged: losers };
  });
}
