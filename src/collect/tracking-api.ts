import type { Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { EventLogWriter } from './event-log.js';
import { BatchSchema, LIMITS, MESSAGE_TYPES, MessageSchema, validateMessage, type MessageIssue, type MessageType, type TrackingMessage } from './messages.js';
import { applyTrackingPlan, type PlanBlock, type PlanViolation, type TrackingPlan } from './tracking-plan.js';
import type { TrackingPlanEnforcer } from './tracking-plans-store.js';

/** What the tracking API needs from the app around it; kept narrow so collect/ stays free of server/. */
export interface TrackingApiDeps {
  eventLog: EventLogWriter;
  junk: JunkIdFilter;
  authenticate(request: FastifyRequest): Promise<{ workspaceId: string; sourceId: string }>;
  /** raise an API error with a stable code (the server's catalog) */
  fail(reason: MessageIssue['reason'] | PlanBlock['reason'], field: string, message: string, extra?: Record<string, unknown>): never;
  /** each source's tracking plan, applied after validation and before the event log; absent: no plans */
  trackingPlans?: TrackingPlanEnforcer;
  onAccepted?(counts: { types: MessageType[]; duplicates: number; junkFields: string[]; rejected: string[] }): void;
}

const Rejected = Type.Object({
  index: Type.Integer(),
  code: Type.String(),
  reason: Type.String(),
  field: Type.String(),
  message: Type.String(),
});
const WARNING_REASONS = ['junk_identifier', 'text_repaired', 'dropped_by_tracking_plan'] as const;
type WarningReason = (typeof WARNING_REASONS)[number];
const Warning = Type.Object({ index: Type.Integer(), field: Type.String(), reason: Type.Union(WARNING_REASONS.map((r) => Type.Literal(r))), message: Type.String() });
const Accepted = Type.Object({
  success: Type.Literal(true),
  messageIds: Type.Array(Type.String(), { description: 'the stored messageId of each accepted message, in order' }),
  accepted: Type.Integer({ description: 'messages durable in the event log (including duplicates of earlier sends)' }),
  duplicates: Type.Integer({ description: 'messages whose messageId was already in the log: accepted, not stored again' }),
  rejected: Type.Array(Rejected),
  warnings: Type.Array(Warning),
});

const ALLOWED_ENCODINGS = new Set(['gzip', 'deflate', 'identity']);

type Rejection = { index: number; code: string; reason: string; field: string; message: string };
type ItemWarning = { index: number; field: string; reason: WarningReason; message: string };
/** Warnings about dropped properties per message at most; the rest are summed up in one. */
const MAX_DROP_WARNINGS = 20;

/**
 * Apply the source's plan to the valid messages: blocked ones join `rejected`,
 * dropped properties become warnings. Violations of blocked and of accepted
 * messages are kept apart: the latter count only once stored (not for retries).
 */
function enforcePlan(plan: TrackingPlan, checked: ReadonlyArray<{ index: number; message: TrackingMessage }>, rejected: Rejection[], warnings: ItemWarning[]) {
  const valid: TrackingMessage[] = [];
  const ofBlocked: PlanViolation[] = [];
  const ofAccepted: PlanViolation[] = [];
  for (const { index, message } of checked) {
    const result = applyTrackingPlan(plan, message);
    if (result.outcome === 'block') {
      rejected.push({ index, code: `CUSTODIAN_${result.issue.reason.toUpperCase()}`, ...result.issue });
      ofBlocked.push(...result.violations);
      continue;
    }
    valid.push(result.message);
    ofAccepted.push(...result.violations);
    for (const field of result.dropped.slice(0, MAX_DROP_WARNINGS)) {
      const shown = field.length > 256 ? `${field.slice(0, 256)}…` : field;
      warnings.push({ index, field: shown, reason: 'dropped_by_tracking_plan', message: `${shown} is not declared in this source's tracking plan: removed` });
    }
    if (result.dropped.length > MAX_DROP_WARNINGS) {
      const more = result.dropped.length - MAX_DROP_WARNINGS;
      warnings.push({ index, field: message.type === 'identify' ? 'traits' : 'properties', reason: 'dropped_by_tracking_plan', message: `${more} more undeclared ${message.type === 'identify' ? 'traits' : 'properties'} removed` });
    }
  }
  // Keep both lists in item order: the first rejection names the error of a refused request.
  rejected.sort((a, b) => a.index - b.index);
  warnings.sort((a, b) => a.index - b.index);
  return { valid, ofBlocked, ofAccepted };
}

export const trackingApi: FastifyPluginAsync<TrackingApiDeps> = async (app: FastifyInstance, deps: TrackingApiDeps) => {
  const fail: TrackingApiDeps['fail'] = deps.fail;
  // RudderStack's SDKs gzip their batches; decompress before the body limit counts bytes.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (!ALLOWED_ENCODINGS.has(encoding)) fail('invalid_body', 'content-encoding', `content-encoding ${encoding} is not supported: use gzip, deflate or none`);
    if (encoding === 'identity') return payload;
    const inflated: Transform & { receivedEncodedLength?: number } = encoding === 'gzip' ? createGunzip() : createInflate();
    // Fastify compares Content-Length with the bytes that came over the wire.
    let received = 0;
    payload.on('data', (chunk: Buffer) => {
      received += chunk.length;
      inflated.receivedEncodedLength = received;
    });
    payload.on('error', (error) => inflated.destroy(error));
    return payload.pipe(inflated);
  });

  async function accept(request: FastifyRequest, items: Array<{ raw: unknown; type: MessageType | null }>, defaults: Parameters<typeof validateMessage>[1]['defaults']) {
    const source = await deps.authenticate(request);
    const receivedAt = new Date();
    const checked: Array<{ index: number; message: TrackingMessage }> = [];
    const rejected: Rejection[] = [];
    const warnings: ItemWarning[] = [];
    const junkFields: string[] = [];
    items.forEach(({ raw, type }, index) => {
      const result = validateMessage(raw, { receivedAt, type, junk: deps.junk, ...(defaults ? { defaults } : {}) });
      if (!result.ok) {
        rejected.push({ index, code: `CUSTODIAN_${result.issue.reason.toUpperCase()}`, ...result.issue });
        return;
      }
      checked.push({ index, message: result.message });
      for (const field of result.repairedText) {
        warnings.push({ index, field, reason: 'text_repaired', message: `${field} held a NUL character or an unpaired surrogate, which cannot be stored: removed or replaced by U+FFFD` });
      }
      for (const field of result.ignoredIds) {
        junkFields.push(field);
        warnings.push({ index, field, reason: 'junk_identifier', message: `${field} is a placeholder, not an identifier: ignored` });
      }
    });
    const plans = deps.trackingPlans;
    const plan = plans && checked.length > 0 ? await plans.forSource(source.workspaceId, source.sourceId) : null;
    const { valid, ofBlocked, ofAccepted } = plan ? enforcePlan(plan, checked, rejected, warnings) : { valid: checked.map((c) => c.message), ofBlocked: [], ofAccepted: [] };
    // Counting violations must not fail a request whose messages are durable.
    const count = async (violations: PlanViolation[]) => {
      if (!plans || violations.length === 0) return;
      try {
        await plans.record(source.workspaceId, source.sourceId, violations);
      } catch (error) {
        request.log.error({ err: error }, 'could not count tracking plan violations');
      }
    };
    if (valid.length === 0) {
      const first = rejected[0]!;
      deps.onAccepted?.({ types: [], duplicates: 0, junkFields: [], rejected: rejected.map((r) => r.reason) });
      await count(ofBlocked);
      fail(first.reason as MessageIssue['reason'] | PlanBlock['reason'], items.length > 1 ? `batch[${first.index}].${first.field}` : first.field, first.message, items.length > 1 ? { rejected } : undefined);
    }
    const outcome = await deps.eventLog.append(source.workspaceId, source.sourceId, valid);
    await count(ofAccepted.length > 0 ? [...ofBlocked, ...ofAccepted.filter((v) => outcome.stored.has(v.messageId))] : ofBlocked);
    deps.onAccepted?.({
      types: valid.filter((m) => outcome.stored.has(m.messageId)).map((m) => m.type),
      duplicates: outcome.duplicates,
      junkFields,
      rejected: rejected.map((r) => r.reason),
    });
    return { success: true as const, messageIds: valid.map((m) => m.messageId), accepted: valid.length, duplicates: outcome.duplicates, rejected, warnings };
  }

  const response = { 200: Accepted, '4xx': { $ref: 'Error#' } };
  // Fastify would refuse the whole body on one bad field; messages are checked
  // one by one against MessageSchema instead, so a batch keeps its good items.
  const noBodyValidation = () => (data: unknown) => ({ value: data });

  for (const type of MESSAGE_TYPES) {
    app.post(`/v1/${type}`, {
      bodyLimit: LIMITS.messageBytes,
      validatorCompiler: noBodyValidation,
      schema: {
        tags: ['collect'],
        summary: `Segment ${type} call`,
        description: `Segment HTTP Tracking API. Auth: HTTP Basic with the source's write key as user name, or writeKey in the body. Limit ${LIMITS.messageBytes / 1024} KB.`,
        body: MessageSchema,
        response,
      },
    }, async (request) => accept(request, [{ raw: request.body, type }], undefined));
  }

  app.post('/v1/batch', {
    bodyLimit: LIMITS.batchBytes,
    validatorCompiler: noBodyValidation,
    schema: {
      tags: ['collect'],
      summary: 'Segment batch call',
      description: `Up to ${LIMITS.batchItems} messages and ${LIMITS.batchBytes / 1024} KB. A bad item is rejected with its index and reason; the good ones are accepted.`,
      body: BatchSchema,
      response,
    },
  }, async (request) => {
    const body = request.body as { batch?: unknown; context?: unknown; integrations?: unknown; sentAt?: unknown } | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('invalid_body', 'body', 'the body must be a JSON object with a batch array');
    if (!Array.isArray(body.batch)) fail('missing_field', 'batch', 'batch must be an array of messages');
    if (body.batch.length === 0) fail('invalid_field', 'batch', 'batch is empty');
    if (body.batch.length > LIMITS.batchItems) fail('batch_too_many', 'batch', `batch has ${body.batch.length} messages; the limit is ${LIMITS.batchItems}`);
    const bag = (field: string, value: unknown): Record<string, unknown> | undefined => {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'object' || Array.isArray(value)) fail('invalid_field', field, `${field} must be an object`);
      return value as Record<string, unknown>;
    };
    if (body.sentAt !== undefined && typeof body.sentAt !== 'string') fail('invalid_field', 'sentAt', 'sentAt must be an ISO-8601 date-time string');
    const context = bag('context', body.context);
    const integrations = bag('integrations', body.integrations);
    const defaults = { ...(context ? { context } : {}), ...(integrations ? { integrations } : {}), ...(typeof body.sentAt === 'string' ? { sentAt: body.sentAt } : {}) };
    return accept(request, body.batch.map((raw) => ({ raw, type: null })), defaults);
  });
};
