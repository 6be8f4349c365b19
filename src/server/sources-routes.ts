import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sourceNameProblem } from '../collect/sources.js';
import { PLAN_MODES, TrackingPlanSchema, validateTrackingPlan, VIOLATION_KINDS, type TrackingPlan, type ViolationKind } from '../collect/tracking-plan.js';
import type { StoredPlan, TrackingPlans } from '../collect/tracking-plans-store.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { ApiError, codeForReason } from './errors.js';

const PlanView = Type.Object({
  sourceId: Type.String(),
  plan: TrackingPlanSchema,
  updatedAt: Type.String({ format: 'date-time' }),
});
const Violation = Type.Object({
  event: Type.String({ description: 'event name; `identify` for identify traits' }),
  property: Type.Union([Type.String(), Type.Null()], { description: 'property or trait (`items[].price` inside arrays); null for an undeclared event' }),
  kind: Type.Union(VIOLATION_KINDS.map((k) => Type.Literal(k))),
  count: Type.Integer({ description: 'messages that had it' }),
  firstSeenAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  exampleMessageId: Type.String({ description: 'the latest message that had it' }),
});
const Violations = Type.Object({
  sourceId: Type.String(),
  mode: Type.Union([...PLAN_MODES.map((m) => Type.Literal(m)), Type.Null()], { description: "the source's plan mode now; null: no plan" }),
  total: Type.Integer({ description: 'violations counted, over every row (not just the ones listed)' }),
  distinct: Type.Integer({ description: 'rows: distinct (event, property, kind)' }),
  violations: Type.Array(Violation),
});
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256, description: 'source id' }) });
const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

export interface SourcesRoutesDeps {
  trackingPlans: TrackingPlans;
  /** configuration changes are recorded in its audit log */
  database: Database;
}

const view = (sourceId: string, stored: StoredPlan) => ({ sourceId, plan: stored.plan, updatedAt: stored.updatedAt.toISOString() });

/** Per-source settings under /api/sources/:id: the tracking plan and its violations. Bearer token. */
export const sourcesRoutes: FastifyPluginAsync<SourcesRoutesDeps> = async (app, { trackingPlans, database }) => {

  async function existing(workspaceId: string, id: string): Promise<void> {
    if (!(await trackingPlans.sourceExists(workspaceId, id))) throw new ApiError('CUSTODIAN_NOT_FOUND', `no source ${id}`, 'id');
  }

  app.put('/api/sources/:id/tracking-plan', {
    config: { access: 'settings.write' },
    // The plan's own validator answers, so the error names the field the same
    // way here as anywhere else a plan is read.
    attachValidation: true,
    schema: {
      tags: ['sources'],
      summary: "Set a source's tracking plan (creates the source if needed)",
      description:
        'The events and properties the source may send, with types. mode: allow (record violations), drop-properties (remove undeclared properties and traits), ' +
        'block (also refuse undeclared events with CUSTODIAN_BLOCKED_BY_TRACKING_PLAN). `{"event": "Order Completed", "fromCatalog": true}` declares a catalogue event. ' +
        'Takes effect within 5 seconds on every server. See docs/events.md.',
      security,
      params: Params,
      body: TrackingPlanSchema,
      response: { 200: PlanView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const problem = sourceNameProblem(id);
    if (problem) throw new ApiError('CUSTODIAN_INVALID_FIELD', problem, 'id');
    const invalid = request.validationError;
    if (invalid && invalid.validationContext !== 'body') throw invalid;
    const checked = validateTrackingPlan(request.body);
    if (!checked.ok) throw new ApiError(codeForReason(checked.issue.reason), `the tracking plan is not valid: ${checked.issue.message}`, checked.issue.field);
    if (invalid) throw invalid;
    const plan: TrackingPlan = checked.plan;
    const existed = await trackingPlans.sourceExists(request.caller.workspaceId, id);
    const stored = await trackingPlans.put(request.caller.workspaceId, id, plan);
    await auditCall(database.db, request.caller, { action: existed ? 'tracking_plan.update' : 'source.create', target: id, details: { mode: plan.mode } });
    return view(id, stored);
  });

  app.get('/api/sources/:id/tracking-plan', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['sources'],
      summary: "A source's tracking plan",
      security,
      params: Params,
      response: { 200: PlanView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const stored = await trackingPlans.get(request.caller.workspaceId, id);
    if (!stored) {
      await existing(request.caller.workspaceId, id);
      throw new ApiError('CUSTODIAN_NOT_FOUND', `source ${id} has no tracking plan`, 'id');
    }
    return view(id, stored);
  });

  app.delete('/api/sources/:id/tracking-plan', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['sources'],
      summary: "Remove a source's tracking plan: its messages are no longer checked",
      description: 'Counted violations are kept.',
      security,
      params: Params,
      response: { 200: Type.Object({ sourceId: Type.String(), removed: Type.Boolean({ description: 'false: there was no plan' }) }), ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    await existing(request.caller.workspaceId, id);
    const removed = await trackingPlans.remove(request.caller.workspaceId, id);
    if (removed) await auditCall(database.db, request.caller, { action: 'tracking_plan.delete', target: id });
    return { sourceId: id, removed };
  });

  app.get('/api/sources/:id/violations', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['sources'],
      summary: "How often a source broke its tracking plan, most frequent first",
      description: 'One row per (event, property, kind) with a count and an example messageId. Names only: property values are never stored.',
      security,
      params: Params,
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        event: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
        kind: Type.Optional(Type.Union(VIOLATION_KINDS.map((k) => Type.Literal(k)))),
      }),
      response: { 200: Violations, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { limit, event, kind } = request.query as { limit: number; event?: string; kind?: ViolationKind };
    const workspaceId = request.caller.workspaceId;
    await existing(workspaceId, id);
    const [stored, found] = await Promise.all([
      trackingPlans.get(workspaceId, id),
      trackingPlans.violations(workspaceId, id, { limit, ...(event !== undefined ? { event } : {}), ...(kind !== undefined ? { kind } : {}) }),
    ]);
    return {
      sourceId: id,
      mode: stored?.plan.mode ?? null,
      total: found.total,
      distinct: found.distinct,
      violations: found.violations.map((v) => ({ ...v, firstSeenAt: v.firstSeenAt.toISOString(), lastSeenAt: v.lastSeenAt.toISOString() })),
    };
  });
};
