import { applyTrackingPlan, type PlanBlock, type PlanViolation } from './tracking-plan.js';
import type { TrackingPlanEnforcer } from './tracking-plans-store.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { EventLogWriter } from './event-log.js';
import { LIMITS, type MessageType, type RejectReason } from './messages.js';
import { mapWebhook, parseWebhookMapping } from './webhook-mapping.js';
import type { StoredWebhookMapping, WebhookStore } from './webhook-store.js';

/** Header names of the HMAC scheme (lower case, as Node gives them). */
export const SIGNATURE_HEADER = 'x-custodian-signature';
export const TIMESTAMP_HEADER = 'x-custodian-timestamp';
/** A signed request older or newer than this is refused: a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** A webhook body may be as large as a batch. */
export const WEBHOOK_BODY_BYTES = LIMITS.batchBytes;

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`: what a sender
 * puts in X-Custodian-Signature, with the Unix time in X-Custodian-Timestamp.
 */
export function webhookSignature(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The URL with a `token` query parameter's value hidden, for request logs. */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

type FailReason = RejectReason | 'unauthorized' | 'not_found' | PlanBlock['reason'];

/** What the webhook API needs from the app around it; kept narrow so collect/ stays free of server/. */
export interface WebhookApiDeps {
  eventLog: EventLogWriter;
  junk: JunkIdFilter;
  /** the source's tracking plan applies to webhook messages as to API calls */
  trackingPlans?: TrackingPlanEnforcer;
  store: WebhookStore;
  /** the source a write key (HTTP Basic) belongs to; throws a 401 when it is not valid */
  authenticateWriteKey(request: FastifyRequest): Promise<{ workspaceId: string; sourceId: string }>;
  /** raise an API error with a stable code (the server's catalog) */
  fail(reason: FailReason, field: string, message: string, extra?: Record<string, unknown>): never;
  onAccepted?(counts: { types: MessageType[]; duplicates: number; junkFields: string[]; rejected: string[] }): void;
}

const Warning = Type.Object({ index: Type.Integer(), field: Type.String(), reason: Type.String(), message: Type.String() });
const Accepted = Type.Object({
  success: Type.Literal(true),
  messageIds: Type.Array(Type.String(), { description: 'the stored messageId of each message the body produced, in order' }),
  accepted: Type.Integer({ description: 'messages durable in the event log (including duplicates of an earlier delivery)' }),
  duplicates: Type.Integer({ description: 'messages already in the log (the sender retried): accepted, not stored again' }),
  warnings: Type.Array(Warning),
});

const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export const webhookApi: FastifyPluginAsync<WebhookApiDeps> = async (app: FastifyInstance, deps: WebhookApiDeps) => {
  // Annotated, so TypeScript narrows after a call to it (it never returns).
  const fail: WebhookApiDeps['fail'] = deps.fail;
  const store: WebhookStore = deps.store;

  // HMAC signatures are over the bytes as sent: keep them beside the parsed body.
  // (Content-type parsers are scoped to this plugin; the rest of the app keeps its own.)
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
    rawBodies.set(request, raw);
    const text = raw.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch (error) {
      try {
        fail('invalid_json', 'body', `the body is not valid JSON: ${(error as Error).message}`);
      } catch (apiError) {
        done(apiError as Error, undefined);
      }
    }
  });

  /** Who may post: the source's write key, its webhook secret as ?token=, or an HMAC signature made with that secret. */
  async function authenticate(request: FastifyRequest, sourceId: string): Promise<StoredWebhookMapping> {
    const authorization = request.headers.authorization;
    const token = (request.query as { token?: string }).token;
    const signature = request.headers[SIGNATURE_HEADER];
    if (authorization?.startsWith('Basic ')) {
      const caller = await deps.authenticateWriteKey(request);
      if (caller.sourceId !== sourceId) fail('unauthorized', 'authorization', `the write key belongs to source ${caller.sourceId}, not ${sourceId}`);
      const mapping = await store.get(caller.workspaceId, sourceId);
      if (!mapping) fail('not_found', 'sourceId', `source ${sourceId} has no webhook mapping: PUT /api/sources/${sourceId}/webhook-mapping first`);
      return mapping;
    }
    if (token === undefined && signature === undefined) {
      fail('unauthorized', 'authorization', `a credential is required: the webhook secret as ?token=, an ${SIGNATURE_HEADER} signature, or HTTP Basic auth with the source's write key`);
    }
    const candidates = await store.forSource(sourceId);
    if (token !== undefined) {
      const found = candidates.find((c) => store.tokenMatches(c, token));
      if (!found) fail('unauthorized', 'token', `the token is not the webhook secret of source ${sourceId}`);
      return found;
    }
    const signatureText = Array.isArray(signature) ? signature[0]! : signature!;
    const timestamp = request.headers[TIMESTAMP_HEADER];
    if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) {
      fail('unauthorized', TIMESTAMP_HEADER, `${SIGNATURE_HEADER} needs ${TIMESTAMP_HEADER}: the Unix time (seconds) the signature was made`);
    }
    const skew = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (skew > SIGNATURE_TOLERANCE_SECONDS) {
      fail('unauthorized', TIMESTAMP_HEADER, `${TIMESTAMP_HEADER} is ${Math.round(skew)} s from the server's clock; at most ${SIGNATURE_TOLERANCE_SECONDS} s are accepted`);
    }
    const raw = rawBodies.get(request) ?? Buffer.alloc(0);
    const given = Buffer.from(signatureText.trim(), 'utf8');
    for (const candidate of candidates) {
      const secret = store.secretOf(candidate);
      if (secret === null) continue;
      const expected = Buffer.from(webhookSignature(secret, timestamp, raw), 'utf8');
      if (expected.length === given.length && timingSafeEqual(expected, given)) return candidate;
    }
    return fail('unauthorized', SIGNATURE_HEADER, `the signature does not match: expected sha256=<hex HMAC-SHA256(secret, "<${TIMESTAMP_HEADER}>.<raw body>")>`);
  }

  app.post('/v1/webhook/:sourceId', {
    bodyLimit: WEBHOOK_BODY_BYTES,
    // The body is the sender's own JSON: its shape is the mapping's business.
    validatorCompiler: () => (data: unknown) => ({ value: data }),
    schema: {
      tags: ['collect'],
      summary: 'Receive a webhook (any JSON) and map it to messages',
      description:
        `Maps the body with the source's webhook mapping (PUT /api/sources/{id}/webhook-mapping) and answers 200 once the messages are durable in the event log. ` +
        `Auth, any one of: ?token=<webhook secret>; ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")> with ${TIMESTAMP_HEADER}: <unix seconds> (±${SIGNATURE_TOLERANCE_SECONDS} s); HTTP Basic with the source's write key. ` +
        `A body the mapping cannot use is a 400 naming the body path and the reason. Limit ${WEBHOOK_BODY_BYTES / 1024} KB.`,
      params: Type.Object({ sourceId: Type.String({ maxLength: 63 }) }),
      querystring: Type.Object({ token: Type.Optional(Type.String({ description: 'the webhook secret, for senders that can only be given a URL' })) }),
      body: Type.Unknown({ description: 'any JSON object or array' }),
      response: { 200: Accepted, '4xx': { $ref: 'Error#' } },
    },
  }, async (request) => {
    const { sourceId } = request.params as { sourceId: string };
    const stored = await authenticate(request, sourceId);
    const body = request.body;
    if (body === undefined) fail('invalid_body', 'body', 'the body is empty: a webhook body must be JSON');
    const parsed = parseWebhookMapping(stored.document);
    if (!parsed.ok) {
      // Saved mappings were checked when saved; a mapping older than a rule is this.
      fail('invalid_body', 'mapping', `the webhook mapping of source ${sourceId} is no longer valid: ${parsed.issues[0]!.message}`);
    }
    const result = mapWebhook(parsed.mapping, body, { sourceId: stored.sourceId, receivedAt: new Date(), junk: deps.junk });
    if (!result.ok) {
      deps.onAccepted?.({ types: [], duplicates: 0, junkFields: [], rejected: [result.issue.reason] });
      fail(result.issue.reason, result.issue.field, result.issue.message, result.index === undefined ? undefined : { index: result.index });
    }
    // The source's tracking plan holds here as on /v1: a delivery is taken whole or refused whole.
    const plan = deps.trackingPlans ? await deps.trackingPlans.forSource(stored.workspaceId, stored.sourceId) : null;
    const violations: PlanViolation[] = [];
    let messages = result.messages;
    if (plan) {
      messages = result.messages.map((message, index) => {
        const planned = applyTrackingPlan(plan, message);
        violations.push(...planned.violations);
        if (planned.outcome === 'block') {
          deps.onAccepted?.({ types: [], duplicates: 0, junkFields: [], rejected: [planned.issue.reason] });
          fail(planned.issue.reason, planned.issue.field, planned.issue.message, { index });
        }
        return planned.message;
      });
    }
    const outcome = await deps.eventLog.append(stored.workspaceId, stored.sourceId, messages);
    if (violations.length > 0) await deps.trackingPlans?.record(stored.workspaceId, stored.sourceId, violations);
    deps.onAccepted?.({
      types: messages.filter((m) => outcome.stored.has(m.messageId)).map((m) => m.type),
      duplicates: outcome.duplicates,
      junkFields: result.junkFields,
      rejected: [],
    });
    return {
      success: true as const,
      messageIds: messages.map((m) => m.messageId),
      accepted: messages.length,
      duplicates: outcome.duplicates,
      warnings: result.warnings,
    };
  });
};
