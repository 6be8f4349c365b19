import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { STANDARD_FIELD_RULES } from '../clean/field-rules.js';
import { describeField, listFields } from '../privacy/governance.js';
import { applyRetention, deletePolicy, GovernanceInputError, listPolicies, listRuns, setPolicy, type RetentionAction, type RetentionKind } from '../privacy/retention.js';
import { refreshWorkspace } from '../segments/membership.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const Field = Type.Object({
  field: Type.String(),
  class: Type.Union([Type.Literal('identifier'), Type.Literal('quasi'), Type.Literal('behavioral')], { description: 'identifier: encrypted at rest, masked for roles without PII access; quasi: plaintext, masked likewise; behavioral: plaintext' }),
  standard: Type.Boolean({ description: 'one of the fields cleaning standardizes' }),
  owner: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.Union([Type.String(), Type.Null()]),
  qualityRule: Type.Union([Type.String(), Type.Null()]),
  sources: Type.Array(Type.String()),
  retention: Type.Union([Type.Object({ days: Type.Integer(), action: Type.String() }), Type.Null()]),
});
// Text or null; checked in describeField, because coercion would turn a null into "" under a union schema.
const Note = Type.Optional(Type.Unknown({ description: 'text (at most 500 characters), or null to clear' }));
const Policy = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('event'), Type.Literal('trait')]),
  name: Type.String(),
  days: Type.Integer(),
  action: Type.Union([Type.Literal('delete'), Type.Literal('anonymize')]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Run = Type.Object({
  id: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  results: Type.Array(Type.Object({ policyId: Type.String(), kind: Type.String(), name: Type.String(), action: Type.String(), cutoff: Type.String({ format: 'date-time' }), affected: Type.Integer() })),
  error: Type.Union([Type.String(), Type.Null()]),
});

export interface GovernanceRoutesDeps {
  database: Database;
}

function inputError(error: unknown): never {
  if (error instanceof GovernanceInputError) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${error.field}: ${error.message}`, error.field);
  throw error;
}

/** The field catalog and retention policies. Bearer token. */
export const governanceRoutes: FastifyPluginAsync<GovernanceRoutesDeps> = async (app, { database }) => {
  const { db } = database;

  app.get('/api/governance/fields', {
    config: { access: 'settings.read' },
    schema: { tags: ['governance'], summary: 'The field catalog: each field\'s class, owner, purpose, sources, quality rule and retention', security, response: { 200: Type.Object({ fields: Type.Array(Field) }), ...errors } },
  }, async (request) => ({ fields: await listFields(db, request.caller.workspaceId, STANDARD_FIELD_RULES) }));

  app.put('/api/governance/fields/:field', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['governance'],
      summary: 'Write down who owns a field, what it is for, or the quality rule it must meet (null clears; absent leaves as is)',
      security,
      params: Type.Object({ field: Type.String({ minLength: 1, maxLength: 200 }) }),
      body: Type.Object({ owner: Note, purpose: Note, qualityRule: Note }, { additionalProperties: false }),
      response: { 200: Field, ...errors },
    },
  }, async (request) => {
    const { field } = request.params as { field: string };
    const described = await describeField(db, request.caller.workspaceId, field, request.body as Record<string, unknown>, STANDARD_FIELD_RULES).catch(inputError);
    await auditCall(db, request.caller, { action: 'governance.field', target: field, details: { fields: Object.keys(request.body as object) } });
    return described;
  });

  app.get('/api/governance/retention', {
    config: { access: 'settings.read' },
    schema: { tags: ['governance'], summary: 'Retention policies', security, response: { 200: Type.Object({ policies: Type.Array(Policy) }), ...errors } },
  }, async (request) => ({ policies: await listPolicies(db, request.caller.workspaceId) }));

  app.put('/api/governance/retention', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['governance'],
      summary: 'Keep an event type (or * for all) or a trait N days, then delete or anonymize it; one policy per event type or trait, so this creates or changes it',
      description: 'Applied daily by the worker and on POST /api/governance/retention/run. See docs/governance.md.',
      security,
      body: Type.Object(
        {
          kind: Type.Union([Type.Literal('event'), Type.Literal('trait')]),
          name: Type.String({ minLength: 1, maxLength: 200 }),
          days: Type.Integer({ minimum: 1, maximum: 36_500 }),
          action: Type.Union([Type.Literal('delete'), Type.Literal('anonymize')], { description: 'events can be anonymized (kept for counts, cut from the person); traits are deleted' }),
        },
        { additionalProperties: false },
      ),
      response: { 200: Policy, ...errors },
    },
  }, async (request) => {
    const policy = await setPolicy(db, request.caller.workspaceId, request.body as { kind: RetentionKind; name: string; days: number; action: RetentionAction }).catch(inputError);
    await auditCall(db, request.caller, { action: 'retention.set', target: policy.id, details: { kind: policy.kind, name: policy.name, days: policy.days, action: policy.action } });
    return policy;
  });

  app.delete('/api/governance/retention/:id', {
    config: { access: 'settings.write' },
    schema: { tags: ['governance'], summary: 'Remove a retention policy (what it removed stays removed)', security, params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await deletePolicy(db, request.caller.workspaceId, id))) throw new ApiError('CUSTODIAN_NOT_FOUND', `no retention policy ${id}`, 'id');
    await auditCall(db, request.caller, { action: 'retention.delete', target: id });
    return reply.code(204).send();
  });

  app.post('/api/governance/retention/run', {
    config: { access: 'settings.write' },
    schema: { tags: ['governance'], summary: 'Apply every retention policy now, and answer what each removed', security, response: { 200: Run, ...errors } },
  }, async (request) => {
    const ws = request.caller.workspaceId;
    const run = await applyRetention(db, ws);
    await auditCall(db, request.caller, { action: 'retention.run', target: run.id, details: { affected: run.results.reduce((n, r) => n + r.affected, 0) } });
    // Traits gone or events cut from people change who is in a segment.
    if (run.results.some((r) => r.affected > 0)) await refreshWorkspace(db, ws, { now: new Date(), cause: 'refresh' });
    return run;
  });

  app.get('/api/governance/retention/runs', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['governance'],
      summary: 'Retention runs, newest first, with what each policy removed',
      security,
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }),
      response: { 200: Type.Object({ runs: Type.Array(Run) }), ...errors },
    },
  }, async (request) => ({ runs: await listRuns(db, request.caller.workspaceId, (request.query as { limit: number }).limit) }));
};
