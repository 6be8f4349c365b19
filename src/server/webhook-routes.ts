import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { sourceNameProblem } from '../collect/sources.js';
import { mapWebhook, parseWebhookMapping, type MappingIssue, type WebhookMapping } from '../collect/webhook-mapping.js';
import type { StoredWebhookMapping, WebhookStore } from '../collect/webhook-store.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../collect/webhook-api.js';
import { ApiError, codeForReason } from './errors.js';

const MappingDocument = Type.Record(Type.String(), Type.Unknown(), {
  description: 'the mapping: {"deliveryId"?: path, "messages": [{"type", "fields": {target: path | constant}, "when"?, "forEach"?}]} — see docs/webhooks.md',
});
const MappingView = Type.Object({
  sourceId: Type.String(),
  mapping: MappingDocument,
  webhookUrl: Type.String({ description: 'where the sender posts, relative to this server' }),
  hasSecret: Type.Boolean(),
  secret: Type.Optional(Type.String({ description: 'the webhook secret: only in the answer that generated it; it cannot be read back' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Issue = Type.Object({ field: Type.String(), message: Type.String() });
const DryRun = Type.Object({
  ok: Type.Boolean({ description: 'whether a real delivery of this body would be accepted' }),
  messages: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'the messages, as the event log would keep them' }),
  warnings: Type.Array(Type.Object({ index: Type.Integer(), field: Type.String(), reason: Type.String(), message: Type.String() })),
  error: Type.Optional(Type.Object({ code: Type.String(), reason: Type.String(), field: Type.String(), message: Type.String(), index: Type.Optional(Type.Integer()) })),
});
const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const Params = Type.Object({ id: Type.String({ description: 'source id' }) });

export interface WebhookRoutesDeps {
  store: WebhookStore;
  junk: JunkIdFilter;
}

function view(stored: StoredWebhookMapping, secret: string | null) {
  return {
    sourceId: stored.sourceId,
    mapping: stored.document,
    webhookUrl: `/v1/webhook/${stored.sourceId}`,
    hasSecret: stored.secretHash !== null,
    ...(secret ? { secret } : {}),
    createdAt: stored.createdAt.toISOString(),
    updatedAt: stored.updatedAt.toISOString(),
  };
}

function checkedMapping(document: unknown, prefix: string): WebhookMapping {
  const parsed = parseWebhookMapping(document);
  if (parsed.ok) return parsed.mapping;
  const issues: MappingIssue[] = parsed.issues.map((i) => ({ field: prefix + i.field, message: i.message }));
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}, listed in issues)` : '';
  throw new ApiError('CUSTODIAN_INVALID_FIELD', `the webhook mapping is not valid: ${first.message}${more}`, first.field, { issues });
}

function checkedSource(id: string): void {
  const problem = sourceNameProblem(id);
  if (problem) throw new ApiError('CUSTODIAN_INVALID_FIELD', problem, 'id');
}

/** Management of webhook mappings: bearer token, under /api/sources/:id/webhook-mapping. */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesDeps> = async (app, { store, junk }) => {

  app.put('/api/sources/:id/webhook-mapping', {
    config: { access: 'settings.write' },
    schema: {
      tags: ['sources'],
      summary: "Set a source's webhook mapping (creates the source if needed)",
      description:
        'The body is the mapping. The first save generates the webhook secret and returns it once (`secret`); `?rotateSecret=true` replaces it. ' +
        `Senders authenticate with ?token=<secret>, or sign with ${SIGNATURE_HEADER} and ${TIMESTAMP_HEADER}. An invalid mapping is a 400 listing every problem in \`issues\`.`,
      security,
      params: Params,
      querystring: Type.Object({ rotateSecret: Type.Optional(Type.Boolean()) }),
      body: MappingDocument,
      response: { 200: MappingView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { rotateSecret } = request.query as { rotateSecret?: boolean };
    checkedSource(id);
    checkedMapping(request.body, '');
    const { stored, secret } = await store.save(request.caller.workspaceId, id, request.body as Record<string, unknown>, rotateSecret === true);
    return view(stored, secret);
  });

  app.get('/api/sources/:id/webhook-mapping', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['sources'],
      summary: "A source's webhook mapping (the secret is never shown again)",
      security,
      params: Params,
      response: { 200: MappingView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const stored = await store.get(request.caller.workspaceId, id);
    if (!stored) throw new ApiError('CUSTODIAN_NOT_FOUND', `source ${id} has no webhook mapping`, 'id');
    return view(stored, null);
  });

  app.post('/api/sources/:id/webhook-mapping/test', {
    config: { access: 'settings.read' },
    schema: {
      tags: ['sources'],
      summary: 'Dry run: the messages a sample body would produce (nothing is stored)',
      description: 'Body: {"sample": <a webhook body>, "mapping"?: <a mapping to try instead of the saved one>}. Answers 200 whether or not the sample maps; `ok` and `error` say which.',
      security,
      params: Params,
      body: Type.Object({ sample: Type.Unknown(), mapping: Type.Optional(MappingDocument) }),
      response: { 200: DryRun, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { sample?: unknown; mapping?: Record<string, unknown> };
    checkedSource(id);
    if (body.sample === undefined || body.sample === null) throw new ApiError('CUSTODIAN_MISSING_FIELD', 'sample is required: a webhook body to map', 'sample');
    let mapping: WebhookMapping;
    if (body.mapping !== undefined) {
      mapping = checkedMapping(body.mapping, 'mapping.');
    } else {
      const stored = await store.get(request.caller.workspaceId, id);
      if (!stored) throw new ApiError('CUSTODIAN_NOT_FOUND', `source ${id} has no webhook mapping: save one, or give mapping in the body`, 'mapping');
      mapping = checkedMapping(stored.document, 'mapping.');
    }
    const result = mapWebhook(mapping, body.sample, { sourceId: id, receivedAt: new Date(), junk });
    if (!result.ok) {
      const { reason, field, message } = result.issue;
      return { ok: false, messages: [], warnings: [], error: { code: codeForReason(reason), reason, field, message, ...(result.index === undefined ? {} : { index: result.index }) } };
    }
    return { ok: true, messages: result.messages as unknown as Array<Record<string, unknown>>, warnings: result.warnings };
  });
};
