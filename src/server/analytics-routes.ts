import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AnalyticsInputError, getRun, latestRun, listRuns, runClusters, runRfm, runTree, type AnalyticsRun, type ClusterParams, type TreeParams } from '../analytics/jobs.js';
import { runClv, type ClvParams } from '../analytics/clv-run.js';
import { createModel, deleteModel, getModel, listModels, trainModel, type ModelDefinition } from '../analytics/model-training.js';
import { runFeedback, type FeedbackParams } from '../analytics/feedback-run.js';
import { availableFeatures } from '../analytics/queries.js';
import { findAssociationRules, latestRecommender, recommendFor, runRecommender, type RecommenderParams, type RulesQuery } from '../analytics/recommender-run.js';
import { maskFreeText, viewerSees, type Viewer } from '../privacy/mask.js';
import { refreshWorkspace } from '../segments/membership.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
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
const RUN_KINDS = ['rfm', 'clusters', 'tree', 'clv', 'model', 'recommender', 'feedback', 'report'] as const;
const RunKind = Type.Union(RUN_KINDS.map((k) => Type.Literal(k)));
const Progress = Type.Object({ stage: Type.Optional(Type.String()), done: Type.Optional(Type.Number()), total: Type.Optional(Type.Number()) });
const Run = Type.Object({
  id: Type.String(),
  kind: RunKind,
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

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A feedback report as this viewer may see it. Complaints quote their
 * writers, who type phone numbers and emails into them: those are masked for
 * roles without identifiers, the words stay for reading. The profile id stays
 * too: it is no identifier outside Custodian, and following a complaint up
 * goes through GET /api/profiles/{id}, which masks and audits by role.
 */
function feedbackFor(result: unknown, viewer: Viewer): unknown {
  if (viewerSees(viewer, 'identifier') || !isRecord(result) || !Array.isArray(result.recentComplaints)) return result;
  return { ...result, recentComplaints: result.recentComplaints.map((c: unknown) => (isRecord(c) && typeof c.text === 'string' ? { ...c, text: maskFreeText(c.text, viewer) } : c)) };
}

function runFor(run: AnalyticsRun, viewer: Viewer): AnalyticsRun {
  return run.kind === 'feedback' ? { ...run, result: feedbackFor(run.result, viewer) } : run;
}

export interface AnalyticsRoutesDeps {
  database: Database;
}

/** RFM, clusters and decision trees over the workspace's profiles. Bearer token. */
export const analyticsRoutes: FastifyPluginAsync<AnalyticsRoutesDeps> = async (app, { database }) => {
  const { db } = database;
  const running = new Map<string, Promise<unknown>>();

  /**
   * Start a run; one of a kind per workspace at a time. Scores changed, so
   * segments that read them are refreshed when it ends.
   */
  async function start(reply: FastifyReply, workspaceId: string, kind: AnalyticsRun['kind'], wait: boolean, work: (onStarted: (id: string) => void) => Promise<{ runId: string }>) {
    const { code, run } = await launch(workspaceId, kind, wait, work);
    return reply.code(code).send(run);
  }

  /** `subject` narrows "one at a time" below the kind: each model trains on its own. */
  async function launch(workspaceId: string, kind: AnalyticsRun['kind'], wait: boolean, work: (onStarted: (id: string) => void) => Promise<{ runId: string }>, subject = ''): Promise<{ code: 200 | 202; run: AnalyticsRun | null }> {
    const key = `${workspaceId}\u0000${kind}\u0000${subject}`;
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
    return { code: run?.status === 'running' ? 202 : 200, run };
  }

  function inputError(error: unknown): never {
    if (error instanceof AnalyticsInputError) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${error.field}: ${error.message}`, error.field);
    throw error;
  }

  app.get('/api/analytics/rfm', {
    config: { access: 'analytics.read' },
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
    config: { access: 'analytics.run' },
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
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'The features clusters and trees can use in this workspace',
      security,
      response: { 200: Type.Object({ behaviour: Type.Array(Type.String()), categories: Type.Array(Type.String()), sources: Type.Array(Type.String()), traits: Type.Array(Type.String()) }), ...errors },
    },
  }, async (request) => availableFeatures(db, request.caller.workspaceId));

  app.post('/api/analytics/clusters', {
    config: { access: 'analytics.run' },
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
    config: { access: 'analytics.run' },
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

  // ------------------------------------------------------------ lifetime value

  const ClvBody = Type.Object(
    {
      end: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the last day of data used (UTC); default today' })),
      holdoutDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'days before end held out for the fit diagnostic; default a third of the history, at most 182; 0 for none' })),
      horizonDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: 365, description: 'how far ahead CLV and expected purchases look' })),
      discountRate: Type.Optional(Type.Number({ minimum: 0, maximum: 0.99, default: 0.1, description: 'yearly discount rate, applied monthly' })),
      scores: Type.Optional(Type.Boolean({ default: true, description: 'false to fit without changing the profiles\' clv, p_alive and expected_purchases (a back-test on an earlier end)' })),
      wait: Wait,
    },
    { additionalProperties: false },
  );

  app.get('/api/analytics/clv', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'Customer lifetime value (BG/NBD + Gamma-Gamma): parameters, log-likelihood, hold-out diagnostic, CLV distribution (fitted now if never before)',
      description: 'Each customer with an order gets the scores clv, p_alive and expected_purchases. See docs/clv.md.',
      security,
      response: { 200: Type.Unknown({ description: 'the CLV report: end, horizonDays, discountRate, customers, bgnbd {params, logLikelihood}, gammaGamma, summary, distribution, diagnostics' }), ...errors },
    },
  }, async (request) => {
    const ws = request.caller.workspaceId;
    const last = await latestRun(db, ws, 'clv');
    if (last) return last.result;
    const { result } = await runClv(db, ws, {}).catch(inputError);
    await refreshWorkspace(db, ws, { now: new Date(), cause: 'refresh' });
    return result;
  });

  app.post('/api/analytics/clv', {
    config: { access: 'analytics.run' },
    schema: { tags: ['analytics'], summary: 'Fit lifetime value again now, with these settings (it also runs daily with the defaults)', security, body: Type.Optional(ClvBody), response: { 200: Run, 202: Run, ...errors } },
  }, async (request, reply) => {
    const { wait, ...params } = (request.body ?? {}) as ClvParams & { wait?: boolean };
    const ws = request.caller.workspaceId;
    return start(reply, ws, 'clv', wait === true, (onStarted) => runClv(db, ws, params, new Date(), onStarted));
  });

  // ------------------------------------------------------------ prediction models

  const Days = Type.Integer({ minimum: 1, maximum: 730, description: 'the question looks this many days ahead' });
  const Target = Type.Union([
    Type.Object({ kind: Type.Literal('churn'), days: Days }, { additionalProperties: false, description: 'a customer (at least one order) buys nothing in the next N days' }),
    Type.Object({ kind: Type.Literal('purchase'), days: Days }, { additionalProperties: false, description: 'a profile places an order in the next N days' }),
    Type.Object({ kind: Type.Literal('event'), event: Type.String({ minLength: 1, maxLength: 200 }), days: Days }, { additionalProperties: false, description: 'a profile does this event in the next N days (e.g. a campaign response)' }),
    Type.Object({ kind: Type.Literal('trait'), trait: Type.String({ minLength: 1, maxLength: 200 }), value: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false, description: 'a trait is true (or equals value), e.g. churned' }),
    Type.Object({ kind: Type.Literal('segment'), segment: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false, description: 'a profile is in the segment' }),
  ]);
  const ModelDefinitionSchema = Type.Object({
    name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'also the score each profile gets, e.g. churn_risk' }),
    target: Target,
    features: Type.Optional(Type.Array(Feature, { minItems: 1, maxItems: 60 })),
    algorithm: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('gbdt'), Type.Literal('logistic')], { default: 'auto', description: 'auto fits both and scores with the better hold-out AUC' })),
  });
  const ModelSchema = Type.Object({
    id: Type.String(),
    name: Type.String(),
    definition: ModelDefinitionSchema,
    status: Type.Union([Type.Literal('new'), Type.Literal('training'), Type.Literal('ready'), Type.Literal('failed')]),
    report: Type.Unknown({ description: 'hold-out figures of the last training: validation (time or random), auc {logistic, gbdt}, chosen, calibration, importance, train/test sizes, scored' }),
    error: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    trainedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    scoredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    run: Type.Optional(Run),
  });
  const ModelId = Type.Object({ id: Type.String({ format: 'uuid' }) });

  async function modelOr404(workspaceId: string, id: string) {
    const model = await getModel(db, workspaceId, id);
    if (!model) throw new ApiError('CUSTODIAN_NOT_FOUND', `no model ${id}`, 'id');
    return model;
  }

  app.post('/api/analytics/models', {
    config: { access: 'analytics.run' },
    schema: {
      tags: ['analytics'],
      summary: 'Create a prediction model (churn, purchase propensity, event response, a trait or a segment) and train it; every profile in its population gets the score `name` (0–1)',
      description: 'Questions about the next N days are validated on time: trained on the snapshot 2N days ago, checked on the snapshot N days ago against what happened since. See docs/models.md.',
      security,
      body: Type.Composite([ModelDefinitionSchema, Type.Object({ wait: Wait })], { additionalProperties: false }),
      response: { 200: ModelSchema, 202: ModelSchema, ...errors },
    },
  }, async (request, reply) => {
    const { wait, ...definition } = request.body as ModelDefinition & { wait?: boolean };
    const ws = request.caller.workspaceId;
    const model = await createModel(db, ws, definition).catch(inputError);
    // A first training that the data cannot support leaves nothing behind when the caller waited for it: the answer says why.
    const { code, run } = await launch(ws, 'model', wait === true, (onStarted) => trainModel(db, ws, model.id, new Date(), onStarted), model.id).catch(async (error: unknown) => {
      await deleteModel(db, ws, model.id);
      throw error;
    });
    return reply.code(code).send({ ...(await modelOr404(ws, model.id)), ...(run ? { run } : {}) });
  });

  app.get('/api/analytics/models', {
    config: { access: 'analytics.read' },
    schema: { tags: ['analytics'], summary: 'The workspace\'s prediction models', security, response: { 200: Type.Object({ models: Type.Array(ModelSchema) }), ...errors } },
  }, async (request) => ({ models: await listModels(db, request.caller.workspaceId) }));

  app.get('/api/analytics/models/:id', {
    config: { access: 'analytics.read' },
    schema: { tags: ['analytics'], summary: 'One model: definition, status and the hold-out figures of its last training', security, params: ModelId, response: { 200: ModelSchema, ...errors } },
  }, async (request) => modelOr404(request.caller.workspaceId, (request.params as { id: string }).id));

  app.post('/api/analytics/models/:id/train', {
    config: { access: 'analytics.run' },
    schema: {
      tags: ['analytics'],
      summary: 'Train the model again now and refresh its scores (models also retrain daily)',
      security,
      params: ModelId,
      body: Type.Optional(Type.Object({ wait: Wait }, { additionalProperties: false })),
      response: { 200: ModelSchema, 202: ModelSchema, ...errors },
    },
  }, async (request, reply) => {
    const ws = request.caller.workspaceId;
    const { id } = request.params as { id: string };
    await modelOr404(ws, id);
    const { code, run } = await launch(ws, 'model', (request.body as { wait?: boolean } | undefined)?.wait === true, (onStarted) => trainModel(db, ws, id, new Date(), onStarted), id);
    return reply.code(code).send({ ...(await modelOr404(ws, id)), ...(run ? { run } : {}) });
  });

  app.delete('/api/analytics/models/:id', {
    config: { access: 'analytics.run' },
    schema: { tags: ['analytics'], summary: 'Delete a model and the score it wrote', security, params: ModelId, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const ws = request.caller.workspaceId;
    const { id } = request.params as { id: string };
    // A training under way would write the score back after the delete.
    if ((await modelOr404(ws, id)).status === 'training') throw new ApiError('CUSTODIAN_CONFLICT', `model ${id} is training; delete it when it is done`, 'id');
    if (!(await deleteModel(db, ws, id))) throw new ApiError('CUSTODIAN_NOT_FOUND', `no model ${id}`, 'id');
    await refreshWorkspace(db, ws, { now: new Date(), cause: 'refresh' });
    return reply.code(204).send();
  });

  // ------------------------------------------------------------ association rules and recommendations

  const Level = Type.Union([Type.Literal('item'), Type.Literal('category')], { default: 'item', description: 'baskets of products (name, else product_id or sku) or of categories' });

  app.get('/api/analytics/association-rules', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'Association rules (FP-growth) over order baskets: X ⇒ y with support, confidence, lift and conviction, by lift',
      security,
      querystring: Type.Object({
        minSupport: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.01, description: 'share of baskets holding the whole rule' }),
        minConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
        minLift: Type.Number({ minimum: 0, maximum: 1_000_000, default: 1 }),
        maxLength: Type.Integer({ minimum: 2, maximum: 10, default: 4, description: 'items in a rule, both sides' }),
        level: Level,
        sinceDays: Type.Integer({ minimum: 1, maximum: 3650, default: 365 }),
        limit: Type.Integer({ minimum: 1, maximum: 5000, default: 100 }),
      }),
      response: {
        200: Type.Object({
          level: Type.String(),
          since: Type.String({ format: 'date-time' }),
          baskets: Type.Integer(),
          items: Type.Integer(),
          itemsets: Type.Integer(),
          matched: Type.Integer({ description: 'rules that passed the thresholds; rules holds the first `limit`' }),
          rules: Type.Array(Type.Object({ antecedent: Type.Array(Type.String()), consequent: Type.Array(Type.String()), support: Type.Number(), confidence: Type.Number(), lift: Type.Number(), conviction: Type.Union([Type.Number(), Type.Null()], { description: 'null when confidence is 1 (infinite)' }), count: Type.Integer() })),
          tookMs: Type.Integer(),
        }),
        ...errors,
      },
    },
  }, async (request) => findAssociationRules(db, request.caller.workspaceId, request.query as RulesQuery).catch(inputError));

  app.get('/api/analytics/recommender', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'The recommender: its size and offline evaluation (hit rate @10 on each customer\'s last order, against recommending the most popular items); trained now if never before',
      security,
      response: { 200: Type.Unknown({ description: 'level, since, customers, baskets, items, rules, evaluation {customers, hitRate, popularityHitRate, k, rules}' }), ...errors },
    },
  }, async (request) => {
    const ws = request.caller.workspaceId;
    if (!(await latestRecommender(db, ws))) await runRecommender(db, ws, {}).catch(inputError);
    const last = (await latestRecommender(db, ws))!;
    return { ...last.report, trainedAt: last.trainedAt.toISOString() };
  });

  app.post('/api/analytics/recommender', {
    config: { access: 'analytics.run' },
    schema: {
      tags: ['analytics'],
      summary: 'Train the recommender again now (it also retrains daily)',
      security,
      body: Type.Optional(Type.Object({ level: Type.Optional(Level), sinceDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })), wait: Wait }, { additionalProperties: false })),
      response: { 200: Run, 202: Run, ...errors },
    },
  }, async (request, reply) => {
    const { wait, ...params } = (request.body ?? {}) as RecommenderParams & { wait?: boolean };
    const ws = request.caller.workspaceId;
    return start(reply, ws, 'recommender', wait === true, (onStarted) => runRecommender(db, ws, params, new Date(), onStarted));
  });

  app.get('/api/profiles/:id/recommendations', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['analytics'],
      summary: 'Products to offer one profile: from rules matching what it bought and items bought together, never what it owns, topped up with the most popular',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({ k: Type.Integer({ minimum: 1, maximum: 100, default: 10 }) }),
      response: {
        200: Type.Object({
          profileId: Type.String({ description: 'the profile answered for (a merged-away id answers for the profile it became)' }),
          level: Type.String(),
          owned: Type.Integer(),
          recommendations: Type.Array(Type.Object({ item: Type.String(), score: Type.Number(), reason: Type.Union([Type.Literal('rule'), Type.Literal('co-purchase'), Type.Literal('popular')]) })),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const answer = await recommendFor(db, request.caller.workspaceId, id, (request.query as { k: number }).k).catch(inputError);
    if (!answer) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    // What a person bought, read off their history: a read of that person like their timeline.
    await auditCall(db, request.caller, { action: 'profile.read', profileId: answer.profileId, details: answer.profileId === id ? { part: 'recommendations' } : { part: 'recommendations', requested: id } });
    return answer;
  });

  // ------------------------------------------------------------ feedback

  app.get('/api/analytics/feedback', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'Feedback: NPS, CSAT and their weekly trend, sentiment of free text (zh and en), themes, keywords and complaints to follow up (analysed now if never before)',
      description: 'Profiles get the scores sentiment (−1..1) and complaint (1). See docs/feedback.md.',
      security,
      response: { 200: Type.Unknown({ description: 'from, to, responses, texts, nps, csat, sentiment {positive, neutral, negative, mean}, themes, keywords, complaints, recentComplaints, trend' }), ...errors },
    },
  }, async (request) => {
    const ws = request.caller.workspaceId;
    const last = await latestRun(db, ws, 'feedback');
    if (last) return feedbackFor(last.result, request.caller.role);
    const { result } = await runFeedback(db, ws, {}).catch(inputError);
    await refreshWorkspace(db, ws, { now: new Date(), cause: 'refresh' });
    return feedbackFor(result, request.caller.role);
  });

  app.post('/api/analytics/feedback', {
    config: { access: 'analytics.run' },
    schema: {
      tags: ['analytics'],
      summary: 'Analyse feedback again now over the last `days` (it also runs every 6 hours over 90 days)',
      security,
      body: Type.Optional(Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })), wait: Wait }, { additionalProperties: false })),
      response: { 200: Run, 202: Run, ...errors },
    },
  }, async (request, reply) => {
    const { wait, ...params } = (request.body ?? {}) as FeedbackParams & { wait?: boolean };
    const ws = request.caller.workspaceId;
    const { code, run } = await launch(ws, 'feedback', wait === true, (onStarted) => runFeedback(db, ws, params, new Date(), onStarted));
    return reply.code(code).send(run && runFor(run, request.caller.role));
  });

  app.get('/api/analytics/runs', {
    config: { access: 'analytics.read' },
    schema: {
      tags: ['analytics'],
      summary: 'Recent analytics runs, newest first',
      security,
      querystring: Type.Object({ kind: Type.Optional(RunKind), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) }),
      response: { 200: Type.Object({ runs: Type.Array(Run) }), ...errors },
    },
  }, async (request) => {
    const q = request.query as { kind?: AnalyticsRun['kind']; limit?: number };
    return { runs: (await listRuns(db, request.caller.workspaceId, q.kind, q.limit ?? 20)).map((run) => runFor(run, request.caller.role)) };
  });

  app.get('/api/analytics/runs/:id', {
    config: { access: 'analytics.read' },
    schema: { tags: ['analytics'], summary: 'One run: progress while it goes, the report when done', security, params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: Run, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const run = await getRun(db, request.caller.workspaceId, id);
    if (!run) throw new ApiError('CUSTODIAN_NOT_FOUND', `no analytics run ${id}`, 'id');
    return runFor(run, request.caller.role);
  });
};
