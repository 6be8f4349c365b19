import { joinClasses } from '../privacy/field-catalog.js';
import { matchRecordOf } from './match-record.js';
import { explainPair, type MatchModel, type PairExplanation } from './matcher.js';
import { mergeProfiles, type IdentityDeps, type MergeOutcome } from './merge.js';
import { IdentityOperationError } from './operation-error.js';

export type ReviewStatus = 'pending' | 'approved' | 'rejected' | 'obsolete';

export interface IdentityReview {
  id: string;
  profiles: [string, string];
  probability: number;
  weight: number;
  status: ReviewStatus;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

/** The review queue: pairs the resolver was not sure enough of, waiting for a person. */
export function createReviewStore(deps: IdentityDeps) {
  const { db } = deps.database;
  const toReview = (r: { id: string; profile_a: string; profile_b: string; probability: number; weight: number; status: string; created_at: Date; decided_at: Date | null; decided_by: string | null }): IdentityReview => ({
    id: String(r.id),
    profiles: [r.profile_a, r.profile_b],
    probability: r.probability,
    weight: r.weight,
    status: r.status as ReviewStatus,
    createdAt: r.created_at.toISOString(),
    decidedAt: r.decided_at?.toISOString() ?? null,
    decidedBy: r.decided_by,
  });

  async function pending(workspaceId: string, id: string) {
    const row = await db.selectFrom('identity_reviews').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    if (!row) throw new IdentityOperationError('not_found', 'id', `review ${id} does not exist`);
    if (row.status !== 'pending') throw new IdentityOperationError('conflict', 'id', `review ${id} is already ${row.status}`);
    return row;
  }

  async function decide(workspaceId: string, id: string, status: ReviewStatus, by: string | null): Promise<void> {
    await db.updateTable('identity_reviews').set({ status, decided_at: new Date(), decided_by: by }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  }

  return {
    /**
     * Reviews, most probable first. A pending pair whose two profiles have
     * since become one (merged some other way) is closed as obsolete here.
     */
    async list(workspaceId: string, status: ReviewStatus, limit: number, offset: number): Promise<{ total: number; reviews: IdentityReview[] }> {
      if (status === 'pending') {
        await db
          .updateTable('identity_reviews')
          .set({ status: 'obsolete', decided_at: new Date() })
          .where('workspace_id', '=', workspaceId)
          .where('status', '=', 'pending')
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('profiles as a')
                .innerJoin('profiles as b', (j) => j.onRef('b.workspace_id', '=', 'a.workspace_id'))
                .select('a.id')
                .whereRef('a.workspace_id', '=', 'identity_reviews.workspace_id')
                .whereRef('a.id', '=', 'identity_reviews.profile_a')
                .whereRef('b.id', '=', 'identity_reviews.profile_b')
                .where((w) => w(w.fn.coalesce('a.merged_into', 'a.id'), '=', w.fn.coalesce('b.merged_into', 'b.id'))),
            ),
          )
          .execute();
      }
      const base = db.selectFrom('identity_reviews').where('workspace_id', '=', workspaceId).where('status', '=', status);
      const [rows, count] = await Promise.all([
        base.selectAll().orderBy('probability', 'desc').orderBy('id').limit(limit).offset(offset).execute(),
        base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { total: Number(count.n), reviews: rows.map(toReview) };
    },

    /** A person says the two are one: merge them, into the older. */
    async approve(workspaceId: string, id: string, by: string | null): Promise<MergeOutcome> {
      const row = await pending(workspaceId, id);
      const profiles = await db.selectFrom('profiles').select(['id', 'created_at']).where('workspace_id', '=', workspaceId).where('id', 'in', [row.profile_a, row.profile_b]).execute();
      const [older, newer] = [...profiles].sort((x, y) => x.created_at.getTime() - y.created_at.getTime());
      if (!older || !newer) throw new IdentityOperationError('not_found', 'id', `a profile of review ${id} no longer exists`);
      const outcome = await mergeProfiles(deps, workspaceId, older.id, [newer.id], { reason: 'review', score: row.probability, actor: by, detail: { review: String(row.id) } });
      await decide(workspaceId, id, 'approved', by);
      return outcome;
    },

    /** A person says the two differ: the resolver will not propose or merge them again. */
    async reject(workspaceId: string, id: string, by: string | null): Promise<void> {
      const row = await pending(workspaceId, id);
      const [a, b] = row.profile_a < row.profile_b ? [row.profile_a, row.profile_b] : [row.profile_b, row.profile_a];
      await db
        .insertInto('identity_exclusions')
        .values({ workspace_id: workspaceId, profile_a: a, profile_b: b, reason: 'review', created_at: new Date() })
        .onConflict((oc) => oc.columns(['workspace_id', 'profile_a', 'profile_b']).doNothing())
        .execute();
      await decide(workspaceId, id, 'rejected', by);
    },
  };
}

export type ReviewStore = ReturnType<typeof createReviewStore>;

/** Why the matcher scores two profiles as it does, field by field, with the workspace's fitted model. */
export async function explainProfiles(deps: IdentityDeps, workspaceId: string, a: string, b: string): Promise<PairExplanation & { profiles: [string, string] }> {
  const { db } = deps.database;
  const stored = await db.selectFrom('identity_models').select('model').where('workspace_id', '=', workspaceId).executeTakeFirst();
  if (!stored) throw new IdentityOperationError('conflict', 'model', 'no match model yet: run POST /api/identity/resolve (or `custodian resolve`) first');
  const records = [];
  for (const [field, id] of [['a', a], ['b', b]] as const) {
    const row = await db.selectFrom('profiles').select(['id', 'traits', 'secret_traits', 'merged_into']).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    if (!row) throw new IdentityOperationError('not_found', field, `profile ${id} does not exist`);
    const secret = row.secret_traits ? deps.keyring.decryptJson<Record<string, unknown>>(row.secret_traits) : null;
    records.push(matchRecordOf(row.id, joinClasses(row.traits, secret)));
  }
  return { profiles: [a, b], ...explainPair(deps.keyring.decryptJson<MatchModel>(stored.model), records[0]!, records[1]!) };
}
