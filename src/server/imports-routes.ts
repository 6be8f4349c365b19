import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { EventLogWriter } from '../collect/event-log.js';
import { IMPORT_KINDS, type ImportKind } from '../collect/import-columns.js';
import { ImportSetupError, runImport } from '../collect/import-job.js';
import { IMPORT_FORMATS, formatFromName, type ImportFormat } from '../collect/import-reader.js';
import { createImportsStore } from '../collect/imports-store.js';
import { sourceNameProblem } from '../collect/sources.js';
import type { TrackingPlanEnforcer } from '../collect/tracking-plans-store.js';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

const Reject = Type.Object({ line: Type.Integer({ description: 'line in the file (element position for a JSON array)' }), column: Type.String(), reason: Type.String() });
const Summary = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Union(['running', 'completed', 'failed', 'interrupted'].map((s) => Type.Literal(s))),
    source: Type.String(),
    kind: Type.String(),
    format: Type.String(),
    filename: Type.Union([Type.String(), Type.Null()]),
    encoding: Type.Union([Type.String(), Type.Null()], { description: 'detected: utf-8, utf-16le, gb18030, or binary (xlsx)' }),
    rows: Type.Integer(),
    imported: Type.Integer({ description: 'rows written to the event log now' }),
    duplicates: Type.Integer({ description: 'rows already in the log: imported before, or repeated in the file' }),
    rejected: Type.Integer(),
    warnings: Type.Array(Type.String()),
    error: Type.Union([Type.String(), Type.Null()]),
    startedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'ImportSummary' },
);
const WithRejects = Type.Intersect([Type.Ref(Summary), Type.Object({ rejectsTotal: Type.Integer({ description: 'rejects listed (capped at 100,000; `rejected` counts all)' }), rejects: Type.Array(Reject) })]);
const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

export interface ImportsRoutesDeps {
  database: Database;
  eventLog: EventLogWriter;
  junk: JunkIdFilter;
  trackingPlans: TrackingPlanEnforcer;
}

/** Parse `col=field` pairs of the `map` query parameter. */
function overridesOf(map: string[] | undefined): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const pair of map ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ApiError('CUSTODIAN_INVALID_FIELD', `map ${JSON.stringify(pair)}: write it as column=field`, 'map');
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return overrides;
}

export const importsRoutes: FastifyPluginAsync<ImportsRoutesDeps> = async (app, { database, eventLog, junk, trackingPlans }) => {
  const running = new Set<string>();
  const store = createImportsStore(database, running);
  app.addSchema(Summary);
  // The file is the body, read as a stream: never buffered whole, whatever its size.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.post('/api/imports', {
    config: { access: 'data.import' },
    bodyLimit: Number.MAX_SAFE_INTEGER,
    schema: {
      tags: ['imports'],
      summary: 'Import a file (customers, orders or feedback) as the request body',
      description:
        'CSV, TSV, NDJSON, a JSON array or XLSX; UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK (detected). ' +
        'Each good row becomes a message in the event log; each bad one a reject with line, column and reason. Answers when every row is durable.',
      security,
      querystring: Type.Object({
        source: Type.String({ description: 'source name; created when new' }),
        kind: Type.Optional(Type.Union(IMPORT_KINDS.map((k) => Type.Literal(k)), { default: 'customers' })),
        format: Type.Optional(Type.Union(IMPORT_FORMATS.map((f) => Type.Literal(f)), { description: 'default: from filename' })),
        filename: Type.Optional(Type.String({ maxLength: 255 })),
        map: Type.Optional(Type.Array(Type.String(), { description: 'column=field overrides, repeatable' })),
        idColumn: Type.Optional(Type.String({ description: 'column with the record id (customers) or customer reference (orders, feedback)' })),
      }),
      response: { 201: WithRejects, ...errors },
    },
  }, async (request, reply) => {
    const query = request.query as { source: string; kind?: ImportKind; format?: ImportFormat; filename?: string; map?: string[]; idColumn?: string };
    const problem = sourceNameProblem(query.source);
    if (problem) throw new ApiError('CUSTODIAN_INVALID_FIELD', problem, 'source');
    const format = query.format ?? (query.filename ? formatFromName(query.filename) : null);
    if (!format) throw new ApiError('CUSTODIAN_MISSING_FIELD', `format is needed (one of ${IMPORT_FORMATS.join(', ')}) when filename does not tell it`, 'format');
    const body = request.body as Readable | undefined;
    if (!body || typeof body[Symbol.asyncIterator] !== 'function') throw new ApiError('CUSTODIAN_INVALID_BODY', 'the file must be the request body', 'body');
    let summary;
    try {
      summary = await runImport(
        { database, eventLog, junk, running, trackingPlans },
        {
          workspaceId: request.caller.workspaceId,
          source: query.source,
          kind: query.kind ?? 'customers',
          format,
          overrides: overridesOf(query.map),
          ...(query.idColumn ? { idColumn: query.idColumn } : {}),
          ...(query.filename ? { filename: query.filename } : {}),
        },
        body as AsyncIterable<Buffer>,
      );
    } catch (error) {
      if (error instanceof ImportSetupError) throw new ApiError('CUSTODIAN_INVALID_FIELD', error.message, error.message.startsWith('--id-column') ? 'idColumn' : 'map');
      throw error;
    }
    const listed = await store.rejects(request.caller.workspaceId, summary.id, 100, 0);
    reply.code(201);
    return { ...summary, rejectsTotal: listed.total, rejects: listed.rejects };
  });

  app.get('/api/imports', {
    config: { access: 'data.import' },
    schema: {
      tags: ['imports'],
      summary: 'Recent imports, newest first',
      security,
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
      response: { 200: Type.Object({ imports: Type.Array(Type.Ref(Summary)) }), ...errors },
    },
  }, async (request) => {
    const { limit } = request.query as { limit: number };
    return { imports: await store.recent(request.caller.workspaceId, limit) };
  });

  app.get('/api/imports/:id', {
    config: { access: 'data.import' },
    schema: {
      tags: ['imports'],
      summary: 'An import: status, counts, and its rejects (paged)',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 100 }), offset: Type.Integer({ minimum: 0, default: 0 }) }),
      response: { 200: WithRejects, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { limit, offset } = request.query as { limit: number; offset: number };
    const summary = await store.get(request.caller.workspaceId, id);
    if (!summary) throw new ApiError('CUSTODIAN_NOT_FOUND', `no import ${id}`, 'id');
    const listed = await store.rejects(request.caller.workspaceId, id, limit, offset);
    return { ...summary, rejectsTotal: listed.total, rejects: listed.rejects };
  });
};
