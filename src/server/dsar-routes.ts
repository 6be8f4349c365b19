import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Keyring } from '../privacy/crypto.js';
import { buildArchive, DsarInputError, DSAR_TYPES, eventsCsv, getRequest, IDENTIFIER_TYPES, liftRestriction, listRequests, submitRequest, traitsCsv, type DsarInput, type DsarStatus } from '../privacy/dsar.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

const VerificationSchema = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 200, description: 'how the requester was verified: email_link, account_login, id_document, in_person…' }),
    by: Type.String({ minLength: 1, maxLength: 200, description: 'who verified them' }),
    at: Type.Optional(Type.String({ format: 'date-time', description: 'when; default now' })),
    note: Type.Optional(Type.String({ maxLength: 2000, description: 'free text; keep personal data out of it: the request log outlives an erasure' })),
  },
  { additionalProperties: false },
);

const Request = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: literals(DSAR_TYPES),
    status: literals(['received', 'in_progress', 'done', 'rejected'] as const),
    identifierType: Type.String({ description: 'the identifier type the request named; its value is kept as a blind index only' }),
    profileIds: Type.Array(Type.String(), { description: 'the person: the live profile and every profile merged into it' }),
    receivedAt: Type.String({ format: 'date-time' }),
    dueAt: Type.String({ format: 'date-time', description: 'receivedAt + 30 days' }),
    completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    overdue: Type.Boolean({ description: 'still open after its due date' }),
    verification: Type.Union([Type.Object({ method: Type.String(), by: Type.String(), at: Type.String(), note: Type.Optional(Type.String()) }), Type.Null()]),
    result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'rows removed or changed per table (erase), items per section (access)' }),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'DsarRequest' },
);

const Archive = Type.Object({
  request: Type.Record(Type.String(), Type.Unknown()),
  profile: Type.Record(Type.String(), Type.Unknown(), { description: 'traits (decrypted), tags, segments, scores, consents, provenance, mergedFrom' }),
  identities: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  sourceRecords: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  events: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'every event, properties and context decrypted' }),
  consents: Type.Object({ current: Type.Array(Type.Record(Type.String(), Type.Unknown())), history: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
  segments: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  membershipChanges: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  tags: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  scores: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  merges: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  lineage: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'what cleaning did to each value, with the original as sent' }),
  campaigns: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'every campaign that queued the person: sent, skipped (and why) or held out' }),
  coupons: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'coupon codes given to the person' }),
  restricted: Type.Boolean(),
});

export interface DsarRoutesDeps {
  database: Database;
  keyring: Keyring;
}

function apiErrorOf(error: unknown): never {
  if (error instanceof DsarInputError) {
    const code = error.status === 404 ? 'CUSTODIAN_NOT_FOUND' : error.status === 409 ? 'CUSTODIAN_CONFLICT' : error.field === 'verification' ? 'CUSTODIAN_MISSING_FIELD' : 'CUSTODIAN_INVALID_FIELD';
    throw new ApiError(code, error.message, error.field);
  }
  throw error;
}

/** Data-subject requests: admin tokens only, every call in the audit log. */
export const dsarRoutes: FastifyPluginAsync<DsarRoutesDeps> = async (app, { database, keyring }) => {
  app.addSchema(Request);

  app.post('/api/dsar', {
    config: { access: 'dsar.manage' },
    schema: {
      tags: ['privacy'],
      summary: 'Record and carry out a data-subject request: access, erase, rectify or restrict',
      description:
        'The person is found by one identifier (standardized as cleaning does) and is that profile plus every profile merged into it. ' +
        'access and erase need `verification`. erase removes the person from every table in one transaction and suppresses their identifiers, ' +
        'so later events and imports naming them are dropped. See docs/dsar.md.',
      security,
      body: Type.Object(
        {
          type: literals(DSAR_TYPES),
          identifier: Type.Object({ type: literals(IDENTIFIER_TYPES), value: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }),
          verification: Type.Optional(VerificationSchema),
          traits: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'rectify: corrected values; null removes a trait' })),
          receivedAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the request reached you, if before now; the due date counts from it' })),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Ref(Request), ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as Omit<DsarInput, 'actor'>;
    const done = await submitRequest(database, keyring, request.caller.workspaceId, { ...body, actor: request.caller.actor }).catch(apiErrorOf);
    return reply.code(201).send(done);
  });

  app.get('/api/dsar', {
    config: { access: 'dsar.manage' },
    schema: {
      tags: ['privacy'],
      summary: 'The request queue: open requests soonest due first, then the rest newest first',
      security,
      querystring: Type.Object({
        status: Type.Optional(literals(['received', 'in_progress', 'done', 'rejected'] as const)),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
      }),
      response: { 200: Type.Object({ requests: Type.Array(Type.Ref(Request)), overdue: Type.Integer({ description: 'open requests past their due date' }) }), ...errors },
    },
  }, async (request) => {
    const { status, limit } = request.query as { status?: DsarStatus; limit: number };
    const requests = await listRequests(database.db, request.caller.workspaceId, { limit, ...(status ? { status } : {}) });
    return { requests, overdue: requests.filter((r) => r.overdue).length };
  });

  app.get('/api/dsar/:id', {
    config: { access: 'dsar.manage' },
    schema: { tags: ['privacy'], summary: 'One request: status, due date, verification, result', security, params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: Type.Ref(Request), ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const found = await getRequest(database.db, request.caller.workspaceId, id);
    if (!found) throw new ApiError('CUSTODIAN_NOT_FOUND', `no request ${id}`, 'id');
    return found;
  });

  app.post('/api/dsar/:id/lift', {
    config: { access: 'dsar.manage' },
    schema: {
      tags: ['privacy'],
      summary: 'Lift the restriction a restrict request made (GDPR Art. 18(3)): the person is used again for segments, tags, exports and analytics',
      description:
        'The person is found through merges made since. They re-enter the segments and computed tags they match at once. ' +
        'The request keeps its result with lifted, liftedAt and liftReason added; the audit log records dsar.lift. 409 when the request is not a restriction, or the person is no longer held or no longer restricted.',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid', description: 'the restrict request' }) }),
      body: Type.Object(
        {
          reason: Type.String({ minLength: 1, maxLength: 500, description: 'why it ends: accuracy verified, objection decided…; keep personal data out of it, the request log outlives an erasure' }),
          informed: Type.Boolean({ description: 'the person was told before the lift, as Art. 18(3) requires; false is refused' }),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Ref(Request), ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { reason: string; informed: boolean };
    return liftRestriction(database, request.caller.workspaceId, id, { ...body, actor: request.caller.actor }).catch(apiErrorOf);
  });

  app.get('/api/dsar/:id/archive', {
    config: { access: 'dsar.manage' },
    schema: {
      tags: ['privacy'],
      summary: 'The archive of an access request: everything held on the person, decrypted, as JSON',
      description:
        'Generated on each call from the data as it is now, never stored: a stored copy would be one more copy of the person to secure and erase. ' +
        "Never masked, whatever the caller's role: it is the person's own copy, and a masked one would not answer the request. dsar.manage is the grant to read it, and every download is audited.",
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Archive, ...errors },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const archive = await buildArchive(database, keyring, request.caller.workspaceId, id).catch(apiErrorOf);
    await auditCall(database.db, request.caller, { action: 'dsar.archive', target: id, profileId: archive.profile.id, details: { format: 'json', events: archive.events.length } });
    reply.header('content-disposition', `attachment; filename="dsar-${id}.json"`);
    return archive;
  });

  app.get('/api/dsar/:id/archive.csv', {
    config: { access: 'dsar.manage' },
    schema: {
      tags: ['privacy'],
      summary: 'Part of an access archive as CSV: events (default) or traits',
      description: 'Never masked, as the JSON archive.',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({ part: Type.Union([Type.Literal('events'), Type.Literal('traits')], { default: 'events' }) }),
      produces: ['text/csv'],
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { part } = request.query as { part: 'events' | 'traits' };
    const archive = await buildArchive(database, keyring, request.caller.workspaceId, id).catch(apiErrorOf);
    await auditCall(database.db, request.caller, { action: 'dsar.archive', target: id, profileId: archive.profile.id, details: { format: 'csv', part } });
    reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="dsar-${id}-${part}.csv"`);
    return part === 'traits' ? traitsCsv(archive) : eventsCsv(archive);
  });
};
