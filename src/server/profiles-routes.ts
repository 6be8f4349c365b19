import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { standardizeIdentity, type IdentityType } from '../identity/identifiers.js';
import { identityIndex } from '../identity/graph-store.js';
import type { Keyring } from '../privacy/crypto.js';
import { maskEvent, maskLineageEntry, maskProfile } from '../privacy/mask.js';
import { inScope } from '../privacy/access.js';
import { decodeCursor, type ProfileStore } from '../profiles/store.js';
import { cleanContext } from '../clean/settings.js';
import type { CleaningSettingsStore } from '../collect/cleaning-settings.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { ApiError } from './errors.js';

const Identity = Type.Object({ type: Type.String(), value: Type.String(), source: Type.String(), firstSeenAt: Type.String({ format: 'date-time' }) });
const Profile = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    traits: Type.Record(Type.String(), Type.Unknown()),
    identities: Type.Array(Identity),
    records: Type.Array(Type.Object({ source: Type.String(), id: Type.String() })),
    tags: Type.Array(Type.String(), { description: 'tag names; a tag with values reads name:value (age group:25-34)' }),
    segments: Type.Array(Type.String(), { description: 'names of the segments the profile is in' }),
    scores: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]), { description: 'computed scores: rfm_r, rfm_f, rfm_m, rfm_segment, cluster, clv, churn_risk' }),
    consents: Type.Record(
      Type.String(),
      Type.Object({ granted: Type.Boolean(), at: Type.String({ format: 'date-time', description: 'when the person made the choice' }), legalBasis: Type.String() }),
      { description: 'current consent per purpose (email_marketing, sms_marketing, personalization, analytics, third_party_sharing); no entry: no choice recorded (docs/consent.md)' },
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    mergedFrom: Type.Array(Type.String(), { description: 'ids of profiles merged into this one' }),
    provenance: Type.Record(
      Type.String(),
      Type.Object({
        source: Type.Union([Type.String(), Type.Null()]),
        messageId: Type.Union([Type.String(), Type.Null()]),
        at: Type.Union([Type.String(), Type.Null()], { description: 'time of the message the value came from' }),
        rule: Type.Union([Type.String(), Type.Null()], { description: 'survivorship rule that kept it: recent, source, complete, frequent' }),
        derived: Type.Boolean({ description: 'cleaning derived it from other evidence' }),
      }),
      { description: 'per trait, where its value came from (null parts: kept before provenance was recorded)' },
    ),
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
const MASKED = "Fields of a class the caller's role does not see in the clear are masked (138****8000, z***@qq.com, 张*); behavioral fields never are.";
const security = [{ bearer: [] }];

export interface ProfilesRoutesDeps {
  /** every read of unmasked personal data is recorded in its audit log */
  database: Database;
  store: ProfileStore;
  keyring: Keyring;
  settings: CleaningSettingsStore;
}

const LOOKUP_TYPES: ReadonlyArray<[string, IdentityType]> = [['email', 'email'], ['phone', 'phone'], ['userId', 'userId'], ['anonymousId', 'anonymousId']];

const LineageEntry = Type.Object({
  field: Type.String({ description: 'the trait key (`context.traits.` prefixed when it came in context)' }),
  kind: Type.Union([Type.Literal('standardized'), Type.Literal('refused'), Type.Literal('flagged'), Type.Literal('derived')]),
  original: Type.Optional(Type.Unknown({ description: 'the value as sent' })),
  value: Type.Optional(Type.Unknown({ description: 'the value as stored' })),
  rules: Type.Optional(Type.Array(Type.String(), { description: 'the rules that changed it' })),
  issue: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  flag: Type.Optional(Type.String()),
  suggestion: Type.Optional(Type.String()),
  derivedFrom: Type.Optional(Type.String()),
  messageId: Type.String(),
  source: Type.String(),
  at: Type.String({ format: 'date-time' }),
});

export const profilesRoutes: FastifyPluginAsync<ProfilesRoutesDeps> = async (app, { database, store, keyring, settings }) => {
  // A phone looked up in national format is read as the workspace's sources would write it.
  async function countriesOf(workspaceId: string): Promise<readonly string[]> {
    return cleanContext(await settings.workspace(workspaceId), {}, new Date()).countries;
  }

  app.addSchema(Profile);

  app.get('/api/profiles', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['profiles'],
      summary: 'Look a profile up by one exact identifier',
      description: MASKED,
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
    const value = standardizeIdentity(type, query[param]!, await countriesOf(request.caller.workspaceId));
    if (value === null) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${param} is not a valid ${param}: it cannot be anyone's identifier`, param);
    const found = await store.findByIdentityIndex(request.caller.workspaceId, identityIndex(keyring, request.caller.workspaceId, { type, value }));
    // A scoped role finds only the people inside its scope (privacy/access.ts).
    const scope = request.caller.role.scope;
    const profile = found && (!scope || inScope(scope, found.traits)) ? found : null;
    if (profile) await auditCall(database.db, request.caller, { action: 'profile.read', profileId: profile.id, details: { part: 'lookup', by: param } });
    return { profiles: profile ? [maskProfile(profile, request.caller.role)] : [] };
  });

  app.get('/api/profiles/export', {
    config: { access: 'profiles.export' },
    schema: {
      tags: ['profiles'],
      summary: 'Every unified profile, one JSON object per line',
      description: MASKED,
      security,
      querystring: Type.Object({ format: Type.Optional(Type.Literal('ndjson')) }),
      produces: ['application/x-ndjson'],
    },
  }, async (request, reply) => {
    const workspaceId = request.caller.workspaceId;
    const role = request.caller.role;
    // Recorded before the first line leaves: a stream cannot fail once it has begun.
    await auditCall(database.db, request.caller, { action: 'profiles.export', details: { format: 'ndjson' } });
    async function* lines() {
      for await (const profile of store.all(workspaceId)) yield JSON.stringify(maskProfile(profile, role)) + '\n';
    }
    reply.type('application/x-ndjson; charset=utf-8');
    return reply.send(Readable.from(lines()));
  });

  app.get('/api/profiles/:id', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['profiles'],
      summary: 'One profile: traits, identities and recent events',
      description: `A merged-away id answers with the profile it was merged into. ${MASKED}`,
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: ProfileWithEvents, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const profile = await store.get(request.caller.workspaceId, id);
    if (!profile) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    const page = await store.events(request.caller.workspaceId, profile.id, 20, null);
    await auditCall(database.db, request.caller, { action: 'profile.read', profileId: profile.id, details: profile.id === id ? { part: 'profile' } : { part: 'profile', requested: id } });
    return { ...maskProfile(profile, request.caller.role), recentEvents: page.events.map((e) => maskEvent(e, request.caller.role)) };
  });

  app.get('/api/profiles/:id/events', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['profiles'],
      summary: "A profile's whole timeline, newest first, paged",
      description: `Properties and context are masked key by key. ${MASKED}`,
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
    const page = await store.events(request.caller.workspaceId, profile.id, limit, cursor ?? null);
    await auditCall(database.db, request.caller, { action: 'profile.read', profileId: profile.id, details: { part: 'events' } });
    return { ...page, events: page.events.map((e) => maskEvent(e, request.caller.role)) };
  });

  app.get('/api/profiles/:id/lineage', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['profiles'],
      summary: "A profile's field history: what cleaning changed, refused, flagged or filled in, newest first",
      description: `Each entry keeps the value as it was sent and the rules that changed it, so any standardized value can be traced back to its message. ${MASKED}`,
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({
        field: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'one standard field (email, phone, birthday…)' })),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'messages to read' }),
      }),
      response: { 200: Type.Object({ entries: Type.Array(LineageEntry) }), ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { field, limit } = request.query as { field?: string; limit: number };
    const profile = await store.get(request.caller.workspaceId, id);
    if (!profile) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    const entries = await store.lineage(request.caller.workspaceId, profile.id, field, limit);
    await auditCall(database.db, request.caller, { action: 'profile.read', profileId: profile.id, details: { part: 'lineage', ...(field !== undefined ? { field } : {}) } });
    return { entries: entries.map((e) => maskLineageEntry(e, request.caller.role)) };
  });
};
