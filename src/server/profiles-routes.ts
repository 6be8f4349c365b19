import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { standardizeIdentity, type IdentityType } from '../identity/identifiers.js';
import { identityIndex } from '../identity/graph-store.js';
import type { Keyring } from '../privacy/crypto.js';
import { decodeCursor, type ProfileStore } from '../profiles/store.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';

const Identity = Type.Object({ type: Type.String(), value: Type.String(), source: Type.String(), firstSeenAt: Type.String({ format: 'date-time' }) });
const Profile = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    traits: Type.Record(Type.String(), Type.Unknown()),
    identities: Type.Array(Identity),
    records: Type.Array(Type.Object({ source: Type.String(), id: Type.String() })),
    tags: Type.Array(Type.String()),
    segments: Type.Array(Type.String()),
    scores: Type.Record(Type.String(), Type.Number()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    mergedFrom: Type.Array(Type.String(), { description: 'ids of profiles merged into this one' }),
  },
  { $id: 'Profile' },
);
const TimelineEvent = Type.Object({
  messageId: Type.String(),
  type: Type.String(),
  event: Type.Union([Type.String(), Type.Null()], { description: 'track event name, or page/screen name' }),
  source: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  receivedAt: Type.String({ format: 'date-time' }),
  userId: Type.Union([Type.String(), Type.Null()]),
  anonymousId: Type.Union([Type.String(), Type.Null()]),
  properties: Type.Record(Type.String(), Type.Unknown()),
  context: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
const EventPage = Type.Object({ total: Type.Integer(), events: Type.Array(TimelineEvent), nextCursor: Type.Union([Type.String(), Type.Null()]) });
const ProfileWithEvents = Type.Intersect([Type.Ref(Profile), Type.Object({ recentEvents: Type.Array(TimelineEvent) })]);
const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

export interface ProfilesRoutesDeps {
  auth: Authenticator;
  store: ProfileStore;
  keyring: Keyring;
}

const LOOKUP_TYPES: ReadonlyArray<[string, IdentityType]> = [['email', 'email'], ['phone', 'phone'], ['userId', 'userId'], ['anonymousId', 'anonymousId']];

export const profilesRoutes: FastifyPluginAsync<ProfilesRoutesDeps> = async (app, { auth, store, keyring }) => {
  app.addSchema(Profile);
  app.addHook('onRequest', async (request) => {
    request.caller = await auth.token(request);
  });

  app.get('/api/profiles', {
    schema: {
      tags: ['profiles'],
      summary: 'Look a profile up by one exact identifier',
      security,
      querystring: Type.Object({
        email: Type.Optional(Type.String({ minLength: 1 })),
        phone: Type.Optional(Type.String({ minLength: 1 })),
        userId: Type.Optional(Type.String({ minLength: 1 })),
        anonymousId: Type.Optional(Type.String({ minLength: 1 })),
      }),
      response: { 200: Type.Object({ profiles: Type.Array(Type.Ref(Profile)) }), ...errors },
    },
  }, async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const given = LOOKUP_TYPES.filter(([param]) => query[param] !== undefined);
    if (given.length !== 1) {
      throw new ApiError('CUSTODIAN_MISSING_FIELD', 'give exactly one of email, phone, userId, anonymousId', 'email');
    }
    const [param, type] = given[0]!;
    const value = standardizeIdentity(type, query[param]!);
    const profile = await store.findByIdentityIndex(request.caller.workspaceId, identityIndex(keyring, request.caller.workspaceId, { type, value }));
    return { profiles: profile ? [profile] : [] };
  });

  app.get('/api/profiles/export', {
    schema: {
      tags: ['profiles'],
      summary: 'Every unified profile, one JSON object per line',
      security,
      querystring: Type.Object({ format: Type.Optional(Type.Literal('ndjson')) }),
      produces: ['application/x-ndjson'],
    },
  }, async (request, reply) => {
    const workspaceId = request.caller.workspaceId;
    async function* lines() {
      for await (const profile of store.all(workspaceId)) yield JSON.stringify(profile) + '\n';
    }
    reply.type('application/x-ndjson; charset=utf-8');
    return reply.send(Readable.from(lines()));
  });

  app.get('/api/profiles/:id', {
    schema: {
      tags: ['profiles'],
      summary: 'One profile: traits, identities and recent events',
      description: 'A merged-away id answers with the profile it was merged into.',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: ProfileWithEvents, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const profile = await store.get(request.caller.workspaceId, id);
    if (!profile) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    const page = await store.events(request.caller.workspaceId, profile.id, 20, null);
    return { ...profile, recentEvents: page.events };
  });

  app.get('/api/profiles/:id/events', {
    schema: {
      tags: ['profiles'],
      summary: "A profile's whole timeline, newest first, paged",
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
        cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
      }),
      response: { 200: EventPage, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { limit, cursor } = request.query as { limit: number; cursor?: string };
    if (cursor !== undefined && decodeCursor(cursor) === null) throw new ApiError('CUSTODIAN_INVALID_FIELD', 'cursor is not a nextCursor this API gave', 'cursor');
    const profile = await store.get(request.caller.workspaceId, id);
    if (!profile) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    return store.events(request.caller.workspaceId, profile.id, limit, cursor ?? null);
  });
};
