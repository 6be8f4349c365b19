import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AnalyticsInputError, getRun, latestRun, listRuns, runClusters, runRfm, runTree, type AnalyticsRun, type ClusterParams, type TreeParams } from '../analytics/jobs.js';
import { availableFeatures } from '../analytics/queries.js';
import { refreshWorkspace } from '../segments/membership.js';
import type { Database } from '../storage/database.js';
import type { Authenticator } from './auth.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const RfmReport = Type.Object({
  computedAt: Type.String({ format: 'date-time' }),
  customers: Type.Integer({ description: 'customers with at least one order that was not fully refunded' }),
  segments: Type.Array(
    Type.Object({
      segment: Type.String(),
      customers: Type.Integer(),
      share: Type.Number(),
      avgRecencyDays: Type.Number(),
      avgFrequency: Type.Number(),
      avgMonetary: Type.Number(),
      revenue: Type.Number(),
    }),
    { description: 'the 11 standard segments, Champions first, empty ones included' },
  ),
  segmentNamesZh: Type.Array(Type.String()),
  grid: Type.Array(Type.Array(Type.Integer()), { description: 'grid[r-1][f-1]: customers with that recency and frequency score' }),
  cuts: Type.Object({ recency: Type.Array(Type.Number()), frequency: Type.Array(Type.Number()), monetary: Type.Array(Type.Number()) }, { description: 'quintile boundaries in days, orders and money' }),
});
const Progress = Type.Object({ stage: Type.Optional(Type.String()), done: Type.Optional(Type.Number()), total: Type.Optional(Type.Number()) });
const Run = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('rfm'), Type.Literal('clusters'), Type.Literal('tree')]),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  params: Type.Record(Type.String(), Type.Unknown()),
  progress: Progress,
  result: Type.Unknown({ description: 'the report, once done: see GET /api/analytics/rfm, the clusters and tree reports in docs/analytics.md' }),
  error: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Wait = Type.Optional(Type.Boolean({ default: false, description: 'answer 200 when the run ends instead of 202 at once' }));
const Feature = Type.String({ minLength: 1, maxLength: 200, description: 'recency_days, frequency, monetary, avg_order_value, orders_90d, tenure_days, events_30d, active_days_90d, category_share:<c>, source_share:<s>, trait:<name>' });

export interface AnalyticsRoutesDeps {
  auth: Authenticator;
  database: Database;
}

/** RFM, clusters and decision trees over the workspace's profiles. Bearer token. */
export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesDeps> = async (app, { auth, database }) => {
  const { db } = database;
  const running = new Map<string, Promise<unknown>>();
  app.addHook('onRequest', async (request) => {
    request.caller = await auth.token(request);
  });

  /**
   * Start a run; one of a kind per workspace at a time. Scores changed, so
   * segments that read them are refreshed when it ends.
   */
  async function start(reply: FastifyReply, workspaceId: string, kind: AnalyticsRun['kind'], wait: boolean, work: (onStarted: (id: string) => void) => Promise<{ runId: string }>) {
    const key = `${workspaceId}\u0000${kind}`;
    if (running.has(key)) throw new ApiError('CUSTODIAN_CONFLICT', `a ${kind} run is already going on in this workspace; poll GET /api/analytics/runs`, 'body');
    let started!: (id: string) => void;
    const runId = new Promise<string>((resolve) => (started = resolve));
    const job = work(started).then(async (outcome) => {
      await refreshWorkspace(db, workspaceId, { now: new Date(), cause: 'refresh' });
      return outcome;
    });
    running.set(key, job);
    void job.catch((error: unknown) => app.log.error({ err: error }, `${kind} run failed`)).finally(() => running.delete(key));
    const first = await Promise.race([runId, job.then((r) => r.runId)]).catch(inputError);
    // A run that failed for any other reason is recorded as failed: the answer shows it, with its error.
    if (wait) await job.catch((error: unknown) => (error instanceof AnalyticsInputError ? inputError(error) : undefined));
    const run = await getRun(db, workspaceId, first);
    return reply.code(run?.status === 'running' ? 202 : 200).send(run);
  }

  function inputError(error: unknown): never {
    if (error instanceof AnalyticsInputError) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${error.field}: ${error.message}`, error.field);
    throw error;
  }

  app.get('/api/analytics/rfm', {
    schema: {
      tags: ['analytics'],
      summary: 'RFM: the 11 segments with sizes and averages, and the recency × frequency grid (computed now if never before)',
      security,
      response: { 200: RfmReport, ...errors },
    },
  }, async (request) => {
    const ws = request.caller.workspaceId;
    const last = await latestRun(db, ws, 'rfm');
    if (last) return last.result;
    const { result } = await runRfm(db, ws);
    await refreshWorkspace(db, ws, { now: new Date(), cause: 'refresh' });
    return result;
  });

  app.post('/api/analytics/rfm/refresh', {
    schema: {
      tags: ['analytics'],
      summary: 'Score every customer again now (it also runs on a schedule)',
      security,
      body: Type.Optional(Type.Object({ wait: Wait }, { additionalProperties: false })),
      response: { 200: Run, 202: Run, ...errors },
    },
  }, async (request, reply) => {
    const body = (request.body ?? {}) as { wait?: boolean };
    const ws = request.caller.workspaceId;
    return start(reply, ws, 'rfm', body.wait === true, (onStarted) => runRfm(db, ws, new Date(), onStarted));
  });

  app.get('/api/analytics/features', {
    schema: {
      tags: ['analytics'],
      summary: 'The features clusters and trees can use in this workspace',
      security,
      response: { 200: Type.Object({ behaviour: Type.Array(Type.String()), categories: Type.Array(Type.String()), sources: Type.Array(Type.String()), traits: Type.Array(Type.String()) }), ...errors },
    },
  }, async (request) => availableFeatures(db, request.caller.workspaceId));

  app.post('/api/analytics/clusters', {
    schema: {
      tags: ['analytics'],
      summary: 'K-means clusters of the profiles; each profile gets the score `cluster` (usable in segments)',
      description: 'Give `k`, or `kRange` to fit each k in it and take the best silhouette (the elbow is reported too). Features are standardized; the default set is recency_days, frequency, monetary, avg_order_value, tenure_days, events_30d.',
      security,
      body: Type.Object(
        {
          k: Type.Optional(Type.Integer({ minimum: 2, maximum: 50 })),
          kRange: Type.Optional(Type.Object({ min: Type.Integer({ minimum: 2, maximum: 50 }), max: Type.Integer({ minimum: 2, maximum: 50 }) }, { additionalProperties: false })),
          features: Type.Optional(Type.Array(Feature, { minItems: 1, maxItems: 40 })),
          restarts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
          seed: Type.Optional(Type.Integer({ minimum: 0 })),
          wait: Wait,
        },
        { additionalProperties: false },
      ),
      response: { 200: Run, 202: Run, ...errors },
    },
  }, async (request, reply) => {
    const { wait, ...params } = request.body as ClusterParams & { wait?: boolean };
    if (params.k === undefined && params.kRange === undefined) throw new ApiError('CUSTODIAN_MISSING_FIELD', 'give k or kRange', 'k');
    if (params.kRange && params.kRange.min > params.kRange.max) throw new ApiError('CUSTODIAN_INVALID_FIELD', `kRange: min ${params.kRange.min} is above max ${params.kRange.max}`, 'kRange');
    const ws = request.caller.workspaceId;
    return start(reply, ws, 'clusters', wait === true, (onStarted) => runClusters(db, ws, params, new Date(), onStarted));
  });

  app.post('/api/analytics/tree', {
    schema: {
      tags: ['analytics'],
      summary: 'A decision tree (CART) that explains a segment or a trait from features, as readable rules with hold-out accuracy and feature importance',
      security,
      body: Type.Object(
        {
          target: Type.Union([
            Type.Object({ segment: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
            Type.Object({ trait: Type.String({ minLength: 1, maxLength: 200 }), value: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
          ]),
          features: Type.Array(Feature, { minItems: 1, maxItems: 40 }),
          maxDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
          minSamplesLeaf: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          ccpAlpha: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          testShare: Type.Optional(Type.Number({ minimum: 0.05, maximum: 0.5 })),
          seed: Type.Optional(Type.Integer({ minimum: 0 })),
          wait: Wait,
        },
        { additionalProperties: false },
      ),
      response: { 200: Run, 202: Run, ...errors },
    },
  }, async (request, reply) => {
    const { wait, ...params } = request.body as TreeParams & { wait?: boolean };
    const ws = request.caller.workspaceId;
    return start(reply, ws, 'tree', wait === true, (onStarted) => runTree(db, ws, params, new Date(), onStarted));
  });

  app.get('/api/analytics/runs', {
    schema: {
      tags: ['analytics'],
      summary: 'Recent analytics runs, newest first',
      security,
      querystring: Type.Object({ kind: Type.Optional(Type.Union([Type.Literal('rfm'), Type.Literal('clusters'), Type.Literal('tree')])), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) }),
      response: { 200: Type.Object({ runs: Type.Array(Run) }), ...errors },
    },
  }, async (request) => {
    const q = request.query as { kind?: AnalyticsRun['kind']; limit?: number };
    return { runs: await listRuns(db, request.caller.workspaceId, q.kind, q.limit ?? 20) };
  });

  app.get('/api/analytics/runs/:id', {
    schema: { tags: ['analytics'], summary: 'One run: progress while it goes, the report when done', security, params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: Run, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const run = await getRun(db, request.caller.workspaceId, id);
    if (!run) throw new ApiError('CUSTODIAN_NOT_FOUND', `no analytics run ${id}`, 'id');
    return run;
  });
};
