import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { IdentityDeps } from '../identity/merge.js';
import { mergeProfiles } from '../identity/merge.js';
import { IdentityOperationError } from '../identity/operation-error.js';
import { resolveWorkspace } from '../identity/resolve.js';
import { createReviewStore, explainProfiles } from '../identity/reviews.js';
import { IdentitySettingsSchema, identitySettingsProblem, type IdentitySettingsInput } from '../identity/settings.js';
import { identitySettingsFor, storeIdentitySettings } from '../identity/settings-store.js';
import { splitIdentities, undoMerge } from '../identity/split.js';
import { refreshWorkspace } from '../segments/membership.js';
import { auditCall } from './audit-routes.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const ProfileId = Type.String({ format: 'uuid' });

const Counts = Type.Record(Type.String(), Type.Number(), {
  description: 'profiles, changed (compared this run), compared (pairs scored), candidates, merges, reviews, excluded (said to differ), limited (auto-merge refused by an identity limit), fitted (1: the model was estimated)',
});
const Run = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  full: Type.Boolean(),
  stage: Type.Union([Type.String(), Type.Null()], { description: 'load, prepare, u, em, compare, merge' }),
  done: Type.Integer(),
  total: Type.Integer(),
  counts: Counts,
  error: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Review = Type.Object({
  id: Type.String(),
  profiles: Type.Tuple([ProfileId, ProfileId]),
  probability: Type.Number(),
  weight: Type.Number({ description: 'match weight, log2 of the odds' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('obsolete')]),
  createdAt: Type.String({ format: 'date-time' }),
  decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
});
const Explanation = Type.Object({
  profiles: Type.Tuple([ProfileId, ProfileId]),
  weight: Type.Number(),
  probability: Type.Number(),
  priorWeight: Type.Number({ description: 'log2 of the prior odds that two records match' }),
  fields: Type.Array(
    Type.Object({
      field: Type.String(),
      level: Type.String({ description: 'the comparison level the pair fell in, e.g. exact, pinyin, nickname, jaro_winkler_0.92, missing' }),
      weight: Type.Number({ description: 'log2(m/u) for that level, with any term-frequency adjustment' }),
      tfAdjustment: Type.Optional(Type.Number()),
    }),
  ),
});
const MergeOutcome = Type.Object({ into: ProfileId, merged: Type.Array(ProfileId) });
const SplitOutcome = Type.Object({
  survivor: ProfileId,
  split: ProfileId,
  identities: Type.Integer({ description: 'identities moved' }),
  events: Type.Integer({ description: 'events moved' }),
});
const Conflict = Type.Object({
  id: Type.String(),
  messageId: Type.String(),
  type: Type.String({ description: 'the identity type left unlinked' }),
  reason: Type.String(),
  limitType: Type.Union([Type.String(), Type.Null()], { description: 'the type whose limit linking would have broken' }),
  profiles: Type.Array(ProfileId),
  createdAt: Type.String({ format: 'date-time' }),
});
const Merge = Type.Object({
  id: Type.String(),
  from: ProfileId,
  into: ProfileId,
  reason: Type.String({ description: 'shared_identifier, alias, probabilistic, review, manual, split' }),
  messageId: Type.Union([Type.String(), Type.Null()]),
  score: Type.Union([Type.Number(), Type.Null()], { description: 'match probability, for probabilistic and reviewed merges' }),
  actor: Type.Union([Type.String(), Type.Null()]),
  identities: Type.Integer({ description: 'identities the merge moved' }),
  createdAt: Type.String({ format: 'date-time' }),
  undoneAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export interface IdentityRoutesDeps {
  identity: IdentityDeps;
}

function asApiError(error: unknown): never {
  if (error instanceof IdentityOperationError) throw new ApiError(error.kind === 'not_found' ? 'CUSTODIAN_NOT_FOUND' : 'CUSTODIAN_CONFLICT', error.message, error.field);
  throw error;
}

/** Identity resolution: settings, runs of the matcher, the review queue, explanations, merge and split. Bearer token. */
export const identityRoutes: FastifyPluginAsync<IdentityRoutesDeps> = async (app, { identity }) => {
  const { db } = identity.database;
  const reviews = createReviewStore(identity);
  const running = new Map<string, Promise<unknown>>();
  /** Segments and tags follow a merge or split at once, as they follow events. */
  const followMerge = (workspaceId: string, profileIds: string[]) => refreshWorkspace(db, workspaceId, { now: new Date(), profileIds, cause: 'merge' });

  app.get('/api/settings/identity', {
    config: { access: 'settings.read' },
    schema: { tags: ['identity'], summary: "The workspace's identity policy in force: types with priority and limit, blocklist, thresholds, survivorship", security, response: { 200: IdentitySettingsSchema, ...errors } },
  }, async (request) => identitySettingsFor(db, request.caller.workspaceId));

  app.put('/api/settings/identity', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['identity'],
      summary: "Set the workspace's identity policy (applies from the next batch); parts left out keep their defaults",
      security,
      body: IdentitySettingsSchema,
      response: { 200: IdentitySettingsSchema, ...errors },
    },
  }, async (request) => {
    const input = request.body as IdentitySettingsInput;
    const problem = identitySettingsProblem(input);
    if (problem) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${problem.field}: ${problem.reason}`, problem.field);
    await storeIdentitySettings(identity.database, request.caller.workspaceId, input);
    await auditCall(db, request.caller, { action: 'settings.update', target: 'identity', details: { fields: Object.keys(input).sort() } });
    return identitySettingsFor(db, request.caller.workspaceId);
  });

  app.post('/api/identity/resolve', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['identity'],
      summary: 'Run probabilistic matching over the workspace: merge above the auto threshold, queue for review above the review threshold',
      description: 'Incremental unless `full`: only profiles changed since the last run are compared (through the blocks) with the rest. Answers 202 with the run at once; poll GET /api/identity/runs/{id}. With `wait: true` it answers 200 when the run ends.',
      security,
      body: Type.Object(
        {
          full: Type.Optional(Type.Boolean({ default: false })),
          refit: Type.Optional(Type.Boolean({ default: false, description: 'estimate the match model again' })),
          wait: Type.Optional(Type.Boolean({ default: false })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Run, 202: Run, ...errors },
    },
  }, async (request, reply) => {
    const workspaceId = request.caller.workspaceId;
    const body = (request.body ?? {}) as { full?: boolean; refit?: boolean; wait?: boolean };
    if (running.has(workspaceId)) throw new ApiError('CUSTODIAN_CONFLICT', 'a resolve run is already going on in this workspace; poll GET /api/identity/runs', 'body');
    let started!: (runId: string) => void;
    const runId = new Promise<string>((resolve) => (started = resolve));
    const work = resolveWorkspace(identity, workspaceId, { full: body.full === true, refit: body.refit === true, onStarted: started }).then(async (outcome) => {
      // The resolver merges many profiles one by one; segments catch up once, at the end.
      if (outcome.counts.merges > 0) await refreshWorkspace(db, workspaceId, { now: new Date(), cause: 'merge' });
      return outcome;
    });
    running.set(workspaceId, work);
    void work.catch((error: unknown) => request.log.error({ err: error }, 'resolve run failed')).finally(() => running.delete(workspaceId));
    if (body.wait === true) return runOf(workspaceId, (await work).runId);
    // A run that fails before it is recorded rejects `work` first.
    const id = await Promise.race([runId, work.then((r) => r.runId)]);
    return reply.code(202).send(await runOf(workspaceId, id));
  });

  async function runOf(workspaceId: string, id: string) {
    const r = await db.selectFrom('identity_runs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    if (!r) throw new ApiError('CUSTODIAN_NOT_FOUND', `no resolve run ${id}`, 'id');
    return {
      id: String(r.id),
      status: r.status,
      full: r.full_run,
      stage: r.stage,
      done: Number(r.done),
      total: Number(r.total),
      counts: r.counts,
      error: r.error,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
    };
  }

  app.get('/api/identity/runs', {
    config: { access: 'analytics.read' },
    schema: { tags: ['identity'], summary: 'Resolve runs, newest first', security, querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }), response: { 200: Type.Object({ runs: Type.Array(Run) }), ...errors } },
  }, async (request) => {
    const { limit } = request.query as { limit: number };
    const ids = await db.selectFrom('identity_runs').select('id').where('workspace_id', '=', request.caller.workspaceId).orderBy('id', 'desc').limit(limit).execute();
    return { runs: await Promise.all(ids.map((r) => runOf(request.caller.workspaceId, r.id))) };
  });

  app.get('/api/identity/runs/:id', {
    config: { access: 'analytics.read' },
    schema: { tags: ['identity'], summary: 'One resolve run: status, progress, counts', security, params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) }), response: { 200: Run, ...errors } },
  }, async (request) => runOf(request.caller.workspaceId, (request.params as { id: string }).id));

  app.get('/api/identity/reviews', {
    config: { access: 'profiles.list' },
    schema: {
      tags: ['identity'],
      summary: 'The review queue: pairs scored between the review and auto thresholds, most probable first',
      security,
      querystring: Type.Object({
        status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('obsolete')], { default: 'pending' }),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        offset: Type.Integer({ minimum: 0, default: 0 }),
      }),
      response: { 200: Type.Object({ total: Type.Integer(), reviews: Type.Array(Review) }), ...errors },
    },
  }, async (request) => {
    const { status, limit, offset } = request.query as { status: 'pending'; limit: number; offset: number };
    return reviews.list(request.caller.workspaceId, status, limit, offset);
  });

  const ReviewParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });
  app.post('/api/identity/reviews/:id/approve', {
    config: { access: 'profiles.write' },
    schema: { tags: ['identity'], summary: 'They are one person: merge the pair (into the older profile)', security, params: ReviewParams, response: { 200: MergeOutcome, ...errors } },
  }, async (request) => {
    const outcome = await reviews.approve(request.caller.workspaceId, (request.params as { id: string }).id, request.caller.actor).catch(asApiError);
    await auditCall(db, request.caller, { action: 'profile.merge', profileId: outcome.into, details: { merged: outcome.merged, review: (request.params as { id: string }).id } });
    await followMerge(request.caller.workspaceId, [outcome.into, ...outcome.merged]);
    return outcome;
  });

  app.post('/api/identity/reviews/:id/reject', {
    config: { access: 'profiles.write' },
    schema: { tags: ['identity'], summary: 'They are two people: never propose or auto-merge this pair again', security, params: ReviewParams, response: { 200: Type.Object({ rejected: Type.Literal(true) }), ...errors } },
  }, async (request) => {
    await reviews.reject(request.caller.workspaceId, (request.params as { id: string }).id, request.caller.actor).catch(asApiError);
    return { rejected: true as const };
  });

  app.get('/api/identity/explain', {
    config: { access: 'profiles.list' },
    schema: {
      tags: ['identity'],
      summary: "Why the matcher scores two profiles as it does: each field's comparison level and weight",
      security,
      querystring: Type.Object({ a: ProfileId, b: ProfileId }),
      response: { 200: Explanation, ...errors },
    },
  }, async (request) => {
    const { a, b } = request.query as { a: string; b: string };
    return explainProfiles(identity, request.caller.workspaceId, a, b).catch(asApiError);
  });

  app.get('/api/identity/conflicts', {
    config: { access: 'profiles.list' },
    schema: {
      tags: ['identity'],
      summary: 'Identifiers left unlinked because linking them would have broken an identity limit, newest first',
      security,
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      response: { 200: Type.Object({ conflicts: Type.Array(Conflict) }), ...errors },
    },
  }, async (request) => {
    const { limit } = request.query as { limit: number };
    const rows = await db.selectFrom('identity_conflicts').selectAll().where('workspace_id', '=', request.caller.workspaceId).orderBy('id', 'desc').limit(limit).execute();
    return {
      conflicts: rows.map((r) => ({ id: String(r.id), messageId: r.message_id, type: r.type, reason: r.reason, limitType: r.limit_type, profiles: r.profiles, createdAt: r.created_at.toISOString() })),
    };
  });

  app.post('/api/profiles/merge', {
    config: { access: 'profiles.write' },
    schema: {
      tags: ['profiles'],
      summary: 'Merge profiles into one by hand; refused (409) if the result would break an identity limit',
      security,
      body: Type.Object({ into: ProfileId, from: Type.Array(ProfileId, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
      response: { 200: MergeOutcome, ...errors },
    },
  }, async (request) => {
    const { into, from } = request.body as { into: string; from: string[] };
    const outcome = await mergeProfiles(identity, request.caller.workspaceId, into, from, { reason: 'manual', actor: request.caller.actor }).catch(asApiError);
    await auditCall(db, request.caller, { action: 'profile.merge', profileId: outcome.into, details: { merged: outcome.merged } });
    await followMerge(request.caller.workspaceId, [outcome.into, ...outcome.merged]);
    return outcome;
  });

  app.post('/api/profiles/:id/split', {
    config: { access: 'profiles.write' },
    schema: {
      tags: ['profiles'],
      summary: 'Undo a merge, or split chosen identities (a source record, an email…) off into a new profile; events and traits follow',
      description: 'Give `merge` (an id from GET /api/profiles/{id}/merges) to restore the merged-away profile, or `identities` to split them off. The two sides are remembered as different people.',
      security,
      params: Type.Object({ id: ProfileId }),
      body: Type.Union([
        Type.Object({ merge: Type.String({ pattern: '^[0-9]{1,18}$' }) }, { additionalProperties: false }),
        Type.Object(
          {
            identities: Type.Array(
              Type.Object({ type: Type.String({ minLength: 1, maxLength: 32 }), value: Type.String({ minLength: 1, maxLength: 1000, description: "a record is 'source:id'" }) }, { additionalProperties: false }),
              { minItems: 1, maxItems: 1000 },
            ),
          },
          { additionalProperties: false },
        ),
      ]),
      response: { 200: SplitOutcome, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { merge: string } | { identities: Array<{ type: string; value: string }> };
    const workspaceId = request.caller.workspaceId;
    if ('merge' in body) {
      const merge = await db.selectFrom('profile_merges').select(['into_profile', 'from_profile']).where('workspace_id', '=', workspaceId).where('id', '=', body.merge).executeTakeFirst();
      if (!merge) throw new ApiError('CUSTODIAN_NOT_FOUND', `no merge ${body.merge}`, 'merge');
      const survivor = await db.selectFrom('profiles').select('merged_into').where('workspace_id', '=', workspaceId).where('id', '=', merge.from_profile).executeTakeFirst();
      if (merge.into_profile !== id && survivor?.merged_into !== id) throw new ApiError('CUSTODIAN_INVALID_FIELD', `merge ${body.merge} did not go into profile ${id}`, 'merge');
      const undone = await undoMerge(identity, workspaceId, body.merge, request.caller.actor).catch(asApiError);
      await auditCall(db, request.caller, { action: 'profile.split', profileId: undone.survivor, details: { split: undone.split, undoneMerge: body.merge } });
      await followMerge(workspaceId, [undone.survivor, undone.split]);
      return undone;
    }
    const split = await splitIdentities(identity, workspaceId, id, body.identities, request.caller.actor).catch(asApiError);
    // Identity types and counts only: the values are personal data.
    await auditCall(db, request.caller, { action: 'profile.split', profileId: split.survivor, details: { split: split.split, identityTypes: [...new Set(body.identities.map((i) => i.type))].sort(), identities: split.identities } });
    await followMerge(workspaceId, [split.survivor, split.split]);
    return split;
  });

  app.get('/api/profiles/:id/merges', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['profiles'],
      summary: "A profile's merge history: what merged into it (and what it was merged into), why, by whom; undone merges included",
      security,
      params: Type.Object({ id: ProfileId }),
      response: { 200: Type.Object({ merges: Type.Array(Merge) }), ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const rows = await db
      .selectFrom('profile_merges')
      .selectAll()
      .where('workspace_id', '=', request.caller.workspaceId)
      .where((eb) => eb.or([eb('into_profile', '=', id), eb('from_profile', '=', id)]))
      .orderBy('id')
      .execute();
    if (rows.length > 0) await auditCall(db, request.caller, { action: 'profile.read', profileId: id, details: { part: 'merges' } });
    return {
      merges: rows.map((r) => ({
        id: String(r.id),
        from: r.from_profile,
        into: r.into_profile,
        reason: r.reason,
        messageId: r.message_id,
        score: r.score,
        actor: r.actor,
        identities: r.moved_identities.length,
        createdAt: r.created_at.toISOString(),
        undoneAt: r.undone_at?.toISOString() ?? null,
      })),
    };
  });
};
