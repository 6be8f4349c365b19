import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { JOURNEY_STEPS, journeySteps } from '../activate/journeys.js';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const StepName = Type.Union(JOURNEY_STEPS.map((s) => Type.Literal(s)));

// Details hold what a step was about (event name, message id, segment id, the checks, a reason), never a person's data.
const Step = Type.Object({
  id: Type.String({ description: 'increasing; pass the last one back as `cursor`' }),
  profileId: Type.String({ description: 'the profile that took the step (it may have been merged since: see details.profileId)' }),
  step: StepName,
  at: Type.String({ format: 'date-time' }),
  details: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'triggered: event, messageId or segmentId, changeId, at, wakeAt; condition_met: checked; condition_failed: failed (audience, rule, not_performed); ' +
      'queued: arm; skipped: reason (campaign_stopped, already_queued); profileId: the live profile when the entry was merged into it',
  }),
});

const Counts = Type.Object(Object.fromEntries(JOURNEY_STEPS.map((s) => [s, Type.Integer({ minimum: 0 })])), { description: 'every step of the campaign, counted' });

export interface JourneyRoutesDeps {
  database: Database;
}

/** A triggered campaign's journey: each person's steps, in order, and how many took each step. */
export const journeyRoutes: FastifyPluginAsync<JourneyRoutesDeps> = async (app, { database }) => {
  app.get('/api/campaigns/:id/journey', {
    config: { access: 'campaigns.read' },
    schema: {
      tags: ['campaigns'],
      summary: "A triggered campaign's journey steps in order (triggered, condition_met/failed, queued, skipped), with counts per step",
      description: 'Give `profileId` for one person: the steps of every profile merged into them are included.',
      security,
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
      querystring: Type.Object({
        profileId: Type.Optional(Type.String({ format: 'uuid' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'the last step id already read' })),
      }),
      response: {
        200: Type.Object({ steps: Type.Array(Step), counts: Counts, nextCursor: Type.Union([Type.String(), Type.Null()]) }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as { profileId?: string; limit?: number; cursor?: string };
    const view = await journeySteps(database.db, request.caller.workspaceId, id, {
      limit: q.limit ?? 100,
      ...(q.profileId ? { profileId: q.profileId } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    if (!view) throw new ApiError('CUSTODIAN_NOT_FOUND', `no campaign has the id ${id}`, 'id');
    return { ...view, steps: view.steps.map((s) => ({ ...s, at: s.at.toISOString() })) };
  });
};
