import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DESTINATION_KINDS, type DeliveryResult, type OutgoingMessage } from '../activate/adapter.js';
import {
  createDestination,
  deleteDestination,
  getDestination,
  listDestinations,
  openDestination,
  redactedConfig,
  rotateDestinationSecret,
  updateDestination,
  type Destination,
} from '../activate/destinations.js';
import { createSegmentSync, deleteSegmentSync, getSegmentSync, listSegmentSyncs, runSegmentSync, updateSegmentSync, type SegmentSync, type SyncInput } from '../activate/segment-sync.js';
import type { Keyring } from '../privacy/crypto.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { ActivationError } from '../activate/activation-error.js';
import { ApiError, refusalGuard } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Kind = Type.Union(DESTINATION_KINDS.map((k) => Type.Literal(k)));
const Config = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'webhook: {url, headers?, batchSize? (1–1000, 1), concurrency? (1–256, 32), timeoutMs? (100–120000, 10000)}; ' +
    'file: {directory} (relative to the activation directory); nats: {servers: "nats://host:4222", subject, jetstream? (false)}. See docs/destinations.md.',
});
const Date_ = Type.String({ format: 'date-time' });
const NullableDate = Type.Union([Date_, Type.Null()]);

const DestinationView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Kind,
  config: Type.Record(Type.String(), Type.Unknown(), { description: 'credential-like header values are shown as <redacted>' }),
  hasSecret: Type.Boolean({ description: 'webhook: signs with a secret (shown once, when made or rotated)' }),
  secret: Type.Optional(Type.String({ description: 'the signing secret: only in the answer that made it; it cannot be read back' })),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Date_,
  updatedAt: Date_,
});

const SyncView = Type.Object({
  id: Type.String(),
  segmentId: Type.String(),
  destinationId: Type.String(),
  mode: Type.Union([Type.Literal('realtime'), Type.Literal('scheduled')]),
  format: Type.Union([Type.Literal('ndjson'), Type.Literal('csv'), Type.Null()]),
  fields: Type.Array(Type.String()),
  everyHours: Type.Union([Type.Number(), Type.Null()]),
  cursor: Type.String({ description: 'realtime: the last membership change pushed' }),
  enabled: Type.Boolean(),
  nextRunAt: Type.Union([Date_, Type.Null()], { description: 'scheduled: the next export; while a run holds the sync, until when it holds it' }),
  lastRunAt: NullableDate,
  lastError: Type.Union([Type.String(), Type.Null()]),
  sent: Type.Integer({ description: 'events pushed (realtime) or rows exported (scheduled), in all' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Date_,
});

const SyncBody = Type.Object(
  {
    segmentId: Type.String({ minLength: 1, maxLength: 100 }),
    destinationId: Type.String({ minLength: 1, maxLength: 100 }),
    mode: Type.Union([Type.Literal('realtime'), Type.Literal('scheduled')]),
    format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')])),
    fields: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100, description: 'scheduled: traits exported with each profile id; never identifiers' })),
    everyHours: Type.Optional(Type.Number({ description: 'scheduled: at least 0.25' })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export interface DestinationsRoutesDeps {
  database: Database;
  keyring: Keyring;
  /** the root of file destinations */
  activationDir: string;
}

const guarded = refusalGuard(ActivationError);

function destinationView(d: Destination, secret: string | null = null) {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    config: redactedConfig(d),
    hasSecret: d.hasSecret,
    ...(secret ? { secret } : {}),
    createdBy: d.createdBy,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function syncView(s: SegmentSync) {
  return {
    id: s.id,
    segmentId: s.segmentId,
    destinationId: s.destinationId,
    mode: s.mode,
    format: s.format,
    fields: s.fields,
    everyHours: s.everyHours,
    cursor: s.cursor,
    enabled: s.enabled,
    nextRunAt: s.nextRunAt?.toISOString() ?? null,
    lastRunAt: s.lastRunAt?.toISOString() ?? null,
    lastError: s.lastError,
    sent: s.sent,
    createdBy: s.createdBy,
    createdAt: s.createdAt.toISOString(),
  };
}

/** Destinations and segment syncs. Bearer token. */
export const destinationsRoutes: FastifyPluginAsync<DestinationsRoutesDeps> = async (app, { database, keyring, activationDir }) => {
  const { db } = database;

  app.get('/api/destinations', {
    config: { access: 'settings.read' },
    schema: { tags: ['activation'], summary: 'Every destination of the workspace (secrets are never shown)', security, response: { 200: Type.Object({ destinations: Type.Array(DestinationView) }), ...errors } },
  }, async (request) => ({ destinations: (await listDestinations(db, request.caller.workspaceId)).map((d) => destinationView(d)) }));

  app.post('/api/destinations', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['activation'],
      summary: 'Make a destination: a webhook, a folder of files, or a NATS subject',
      description:
        'A webhook destination answers with its signing secret (`secret`) once. A destination may name any address this server reaches, ' +
        'internal ones included: only settings.write may make or change one. An invalid config is a 400 naming the field, with every problem in `issues`.',
      security,
      body: Type.Object({ name: Name, kind: Kind, config: Type.Optional(Config) }, { additionalProperties: false }),
      response: { 201: DestinationView, ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string; kind: string; config?: Record<string, unknown> };
    const { destination, secret } = await guarded(createDestination(db, keyring, request.caller.workspaceId, body, request.caller.actor));
    await auditCall(db, request.caller, { action: 'destination.create', target: destination.id, details: { name: destination.name, kind: destination.kind } });
    return reply.code(201).send(destinationView(destination, secret));
  });

  app.get('/api/destinations/:id', {
    config: { access: 'settings.read' },
    schema: { tags: ['activation'], summary: 'A destination (its secret is never shown again)', security, params: IdParams, response: { 200: DestinationView, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const found = await getDestination(db, request.caller.workspaceId, id);
    if (!found) throw new ApiError('CUSTODIAN_NOT_FOUND', `no destination ${id}`, 'id');
    return destinationView(found);
  });

  app.patch('/api/destinations/:id', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['activation'],
      summary: "Rename a destination or change its config (merged over the stored one; the kind cannot change)",
      description: 'A header value sent back as `<redacted>` keeps its stored value.',
      security,
      params: IdParams,
      body: Type.Object({ name: Type.Optional(Name), kind: Type.Optional(Kind), config: Type.Optional(Config) }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: DestinationView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { name?: string; kind?: string; config?: Record<string, unknown> };
    const updated = await guarded(updateDestination(db, request.caller.workspaceId, id, body));
    await auditCall(db, request.caller, { action: 'destination.update', target: id, details: { name: updated.name, changed: Object.keys(body) } });
    return destinationView(updated);
  });

  app.delete('/api/destinations/:id', {
    config: { access: 'settings.write' },
    schema: { tags: ['activation'], summary: 'Delete a destination (refused with 409 while a campaign or a segment sync uses it)', security, params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const removed = await guarded(deleteDestination(db, request.caller.workspaceId, id));
    await auditCall(db, request.caller, { action: 'destination.delete', target: id, details: { name: removed.name, kind: removed.kind } });
    return reply.code(204).send();
  });

  app.post('/api/destinations/:id/rotate-secret', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['activation'],
      summary: "Replace a webhook destination's signing secret; the new one is in this answer only",
      description: 'The old secret stops signing at once: give the receiver the new one first, or accept both there for a while.',
      security,
      params: IdParams,
      response: { 200: DestinationView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { destination, secret } = await guarded(rotateDestinationSecret(db, keyring, request.caller.workspaceId, id));
    await auditCall(db, request.caller, { action: 'destination.rotate_secret', target: id, details: { name: destination.name } });
    return destinationView(destination, secret);
  });

  app.post('/api/destinations/:id/test', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['activation'],
      summary: 'Send one sample message to a destination, signed as a real one, and say how it went',
      description: 'Answers 200 whether or not the destination took it: `ok`, `statusCode` and `error` say which.',
      security,
      params: IdParams,
      response: {
        200: Type.Object({
          ok: Type.Boolean(),
          statusCode: Type.Union([Type.Integer(), Type.Null()], { description: "the receiver's HTTP status (webhook)" }),
          error: Type.Union([Type.String(), Type.Null()]),
          ms: Type.Integer(),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const ws = request.caller.workspaceId;
    if (!(await getDestination(db, ws, id))) throw new ApiError('CUSTODIAN_NOT_FOUND', `no destination ${id}`, 'id');
    const adapter = await guarded(openDestination(db, keyring, ws, id, { activationDir }));
    const sample: OutgoingMessage = {
      idempotencyKey: `test:${randomUUID()}`,
      workspaceId: ws,
      campaignId: 'custodian-test',
      profileId: '00000000-0000-0000-0000-000000000000',
      channel: 'webhook',
      to: {},
      subject: 'Custodian test message',
      body: 'This is a test message from Custodian: the destination is reachable and the signature can be checked.',
      coupon: null,
      attempt: 1,
    };
    const started = performance.now();
    let result: DeliveryResult | undefined;
    try {
      [result] = await adapter.deliver([sample]);
    } finally {
      await adapter.close();
    }
    const ms = Math.round(performance.now() - started);
    await auditCall(db, request.caller, { action: 'destination.test', target: id, details: { ok: result?.ok ?? false, statusCode: result?.statusCode ?? null } });
    return { ok: result?.ok ?? false, statusCode: result?.statusCode ?? null, error: result?.error ?? null, ms };
  });

  // ---------------------------------------------------------------- segment syncs

  app.get('/api/segment-syncs', {
    config: { access: 'campaigns.read' },
    schema: {
      tags: ['activation'],
      summary: 'Every segment sync of the workspace, with its cursor, last run and last error',
      security,
      querystring: Type.Object({ segment: Type.Optional(Type.String({ maxLength: 100, description: 'only the syncs of this segment' })) }),
      response: { 200: Type.Object({ syncs: Type.Array(SyncView) }), ...errors },
    },
  }, async (request) => {
    const { segment } = request.query as { segment?: string };
    return { syncs: (await listSegmentSyncs(db, request.caller.workspaceId, segment)).map(syncView) };
  });

  app.post('/api/segment-syncs', {
    config: { access: 'campaigns.write' },
    schema: {
      tags: ['activation'],
      summary: "Keep a destination told who is in a segment: each entry and exit as it happens (realtime) or the full list every few hours (scheduled)",
      description:
        'A realtime sync pushes changes from now on; the full list is what a scheduled sync is for (it needs a file destination, a `format` and `everyHours` ≥ 0.25). ' +
        'Syncs carry profile ids and non-identifying traits only: an identifier in `fields` (email, phone, name…) is refused.',
      security,
      body: SyncBody,
      response: { 201: SyncView, ...errors },
    },
  }, async (request, reply) => {
    const created = await guarded(createSegmentSync(db, request.caller.workspaceId, request.body as SyncInput, request.caller.actor));
    await auditCall(db, request.caller, { action: 'segment_sync.create', target: created.id, details: { segmentId: created.segmentId, destinationId: created.destinationId, mode: created.mode, fields: created.fields } });
    return reply.code(201).send(syncView(created));
  });

  app.get('/api/segment-syncs/:id', {
    config: { access: 'campaigns.read' },
    schema: { tags: ['activation'], summary: 'A segment sync', security, params: IdParams, response: { 200: SyncView, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const found = await getSegmentSync(db, request.caller.workspaceId, id);
    if (!found) throw new ApiError('CUSTODIAN_NOT_FOUND', `no segment sync ${id}`, 'id');
    return syncView(found);
  });

  app.patch('/api/segment-syncs/:id', {
    config: { access: 'campaigns.write' },
    schema: {
      tags: ['activation'],
      summary: "Enable or disable a sync, or change a scheduled sync's format, fields and interval",
      description: 'A realtime sync enabled again goes on from where it stopped: changes made while it was off are pushed, not skipped.',
      security,
      params: IdParams,
      body: Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')])),
          fields: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })),
          everyHours: Type.Optional(Type.Number()),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: SyncView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as SyncInput;
    const updated = await guarded(updateSegmentSync(db, request.caller.workspaceId, id, body));
    await auditCall(db, request.caller, { action: 'segment_sync.update', target: id, details: { changed: Object.keys(body), enabled: updated.enabled, fields: updated.fields } });
    return syncView(updated);
  });

  app.delete('/api/segment-syncs/:id', {
    config: { access: 'campaigns.write' },
    schema: { tags: ['activation'], summary: 'Delete a segment sync (what it sent stays sent)', security, params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const removed = await guarded(deleteSegmentSync(db, request.caller.workspaceId, id));
    await auditCall(db, request.caller, { action: 'segment_sync.delete', target: id, details: { segmentId: removed.segmentId, destinationId: removed.destinationId } });
    return reply.code(204).send();
  });

  app.post('/api/segment-syncs/:id/run', {
    config: { access: 'campaigns.write' },
    schema: {
      tags: ['activation'],
      summary: 'Run one sync now: push its pending changes, or write a fresh export',
      description: 'Answers 200 with what was sent; a destination that failed is in `error` (and in the sync\'s lastError), its changes kept for the next run.',
      security,
      params: IdParams,
      response: {
        200: Type.Object({
          mode: Type.Union([Type.Literal('realtime'), Type.Literal('scheduled')]),
          sent: Type.Integer({ description: 'events pushed, or rows exported' }),
          location: Type.Union([Type.String(), Type.Null()], { description: "a scheduled export's file, relative to the activation directory" }),
          error: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const result = await guarded(runSegmentSync(db, keyring, request.caller.workspaceId, id, { activationDir }));
    await auditCall(db, request.caller, { action: 'segment_sync.run', target: id, details: { mode: result.mode, sent: result.sent, failed: result.error !== null } });
    // The server's own folders are not the caller's business: the path below the activation directory is enough to find the file.
    return { ...result, location: result.location ? path.relative(path.resolve(activationDir), result.location) : null };
  });
};
