import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import sjson from 'secure-json-parse';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { createEventLogWriter, type EventLogWriter } from '../collect/event-log.js';
import { trackingApi } from '../collect/tracking-api.js';
import { createTrackingPlans } from '../collect/tracking-plans-store.js';
import { webhookApi } from '../collect/webhook-api.js';
import { createWebhookStore } from '../collect/webhook-store.js';
import { MAX_LINK_TOKEN_LENGTH } from '../privacy/consent.js';
import { DEFAULT_ACTIVATION_DIR } from '../activate/destinations.js';
import { KeyringError, type Keyring } from '../privacy/crypto.js';
import { createProfileStore } from '../profiles/store.js';
import type { Database } from '../storage/database.js';
import fastifyCookie from '@fastify/cookie';
import { installAccessControl } from './access-hook.js';
import { accessRoutes } from './access-routes.js';
import { createAuthenticator } from './auth.js';
import { ApiError, codeForReason, ErrorSchema } from './errors.js';
import { countIngest, createMetrics, type IngestCounts, type Metrics } from './metrics.js';
import { importsRoutes } from './imports-routes.js';
import { profilesRoutes } from './profiles-routes.js';
import { consentRoutes } from './consent-routes.js';
import { preferencePages } from './preferences-page.js';
import { catalogRoutes } from './catalog-routes.js';
import { sourcesRoutes } from './sources-routes.js';
import { webhookRoutes } from './webhook-routes.js';
import { destinationsRoutes } from './destinations-routes.js';
import { qualityRoutes } from './quality-routes.js';
import { identityRoutes } from './identity-routes.js';
import { segmentsRoutes } from './segments-routes.js';
import { analyticsRoutes } from './analytics-routes.js';
import { kpiRoutes } from './kpi-routes.js';
import { campaignReportRoutes } from './campaign-report-routes.js';
import { auditRoutes } from './audit-routes.js';
import { dsarRoutes } from './dsar-routes.js';
import { campaignRoutes } from './campaign-routes.js';
import { journeyRoutes } from './journey-routes.js';
import { couponRoutes } from './coupon-routes.js';
import { RuleSchema } from '../segments/rule.js';
import { createCleaningSettingsStore } from '../collect/cleaning-settings.js';
import { createQualityReporter } from '../quality/report.js';
import { governanceRoutes } from './governance-routes.js';
import { registerSecureHeaders } from './secure-headers.js';
import { DEFAULT_COLLECT_RATE_LIMIT, registerRateLimits } from './rate-limits.js';

export interface AppOptions {
  database: Database;
  keyring: Keyring;
  junk: JunkIdFilter;
  logger?: FastifyServerOptions['logger'];
  /** accepted as an admin token while this app runs: local CLI calls */
  localToken?: string | null;
  metrics?: Metrics;
  /** the event log writer, when the caller shares it with other ingest paths (stream consumers); made here otherwise */
  eventLog?: EventLogWriter;
  /** called after messages are durable in the log, to wake the in-process worker */
  onAppended?: () => void;
  version?: string;
  /** serve HTTPS with this PEM certificate chain and private key; absent: plain HTTP */
  tls?: { cert: Buffer; key: Buffer };
  /** /v1 requests per second per source (CUSTODIAN_RATE_LIMIT); 0: no limit */
  rateLimit?: number;
  /** reverse proxies whose forwarding headers are believed (CUSTODIAN_TRUST_PROXY): a hop count or addresses */
  trustProxy?: number | string[];
  /** directory for file destinations (default ./data/exports); each workspace writes below its own folder of it */
  activationDir?: string;
}

// A hop count trusts that many proxies nearest the server, whatever their addresses.
function trustedProxies(setting: number | string[]): string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}

function fieldOfValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return 'body';
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty;
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return [path, missing].filter(Boolean).join('.') || (error.validationContext ?? 'body');
}

/** The HTTP app, without listening: tests drive it with inject(). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { database, keyring, junk } = options;
  const metrics = options.metrics ?? createMetrics();
  const app = Fastify({
    logger: options.logger ?? false,
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false } },
    // Segment's SDKs retry on 5xx; never let a timeout look like a server fault on slow disks.
    connectionTimeout: 60_000,
    // A consent link's token is one path parameter and carries the workspace id: Fastify's default of 100
    // characters would refuse every link of a workspace whose id is longer than a few dozen.
    routerOptions: { maxParamLength: MAX_LINK_TOKEN_LENGTH },
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: trustedProxies(options.trustProxy) } : {}),
  });

  // One JSON parser for every content type: analytics.js beacons send text/plain,
  // curl without -H sends form encoding; all of them carry JSON here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch (error) {
      done(new ApiError('CUSTODIAN_INVALID_JSON', `the body is not valid JSON: ${(error as Error).message}`, 'body'), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) return reply.code(error.status).send(error.toBody());
    if (error instanceof KeyringError) {
      // A key this process has not loaded (or has no current one of): another try, or another process, succeeds.
      if (error.kind === 'unavailable') {
        request.log.warn({ err: error, keyId: error.keyId }, 'data key unavailable');
        reply.header('retry-after', '5');
        return reply.code(503).send(new ApiError('CUSTODIAN_UNAVAILABLE', error.message, undefined, error.keyId !== null ? { keyId: error.keyId } : undefined).toBody());
      }
      // Destroyed, unknown, or a ciphertext that does not open: no retry helps; the message names the key.
      request.log.error({ err: error, keyId: error.keyId }, 'data that cannot be decrypted');
      return reply.code(409).send(new ApiError('CUSTODIAN_CONFLICT', error.message, undefined, error.keyId !== null ? { keyId: error.keyId } : undefined).toBody());
    }
    if (error.validation) {
      const field = fieldOfValidation(error);
      return reply.code(400).send(new ApiError('CUSTODIAN_INVALID_FIELD', `${field}: ${error.validation[0]?.message ?? 'invalid'}`, field).toBody());
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const batch = request.url.startsWith('/v1/batch');
      const webhook = request.url.startsWith('/v1/webhook/');
      const message = webhook ? 'the webhook body is larger than 500 KB' : batch ? 'the batch is larger than 500 KB (Segment limit): split it' : 'the message is larger than 32 KB (Segment limit)';
      return reply.code(400).send(new ApiError(batch || webhook ? 'CUSTODIAN_BATCH_TOO_LARGE' : 'CUSTODIAN_MESSAGE_TOO_LARGE', message, 'body').toBody());
    }
    if (typeof error.code === 'string' && error.code.startsWith('Z_')) {
      return reply.code(400).send(new ApiError('CUSTODIAN_INVALID_BODY', `the body does not decompress as its content-encoding says: ${error.message}`, 'content-encoding').toBody());
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      const code = status === 401 ? 'CUSTODIAN_UNAUTHORIZED' : status === 404 ? 'CUSTODIAN_NOT_FOUND' : status === 415 ? 'CUSTODIAN_UNSUPPORTED_ENCODING' : 'CUSTODIAN_INVALID_BODY';
      return reply.code(status).send({ ...new ApiError(code, error.message, 'body').toBody() });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(new ApiError('CUSTODIAN_INTERNAL', 'internal error; it has been logged', undefined).toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(new ApiError('CUSTODIAN_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, 'url').toBody());
  });
  // Before any route: their onRequest hooks must reach every route registered below.
  await registerSecureHeaders(app, { tls: options.tls !== undefined });
  await registerRateLimits(app, { collectPerSecond: options.rateLimit ?? DEFAULT_COLLECT_RATE_LIMIT });

  app.addSchema(ErrorSchema);
  app.addSchema(RuleSchema);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Custodian API', version: options.version ?? '0.1.0', description: 'Collection (Segment-compatible) and management API of Custodian, the customer data platform.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API token' },
          writeKey: { type: 'http', scheme: 'basic', description: "source write key as the user name, empty password" },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const auth = createAuthenticator(database, options.localToken ?? null);
  await app.register(fastifyCookie);
  installAccessControl(app, auth, database);
  await app.register(accessRoutes, { auth, database });
  const trackingPlans = createTrackingPlans(database);
  // One writer for every ingest path, so their rows share group commits; what
  // it stores wakes the in-process worker.
  const writer = options.eventLog ?? createEventLogWriter(database, keyring);
  const eventLog: EventLogWriter = {
    async append(workspaceId, sourceId, messages) {
      const outcome = await writer.append(workspaceId, sourceId, messages);
      if (outcome.stored.size > 0) options.onAppended?.();
      return outcome;
    },
  };
  // What every ingest path (API calls, webhooks) shares: error codes and counters.
  const failWithCode = (reason: string, field: string, message: string, extra?: Record<string, unknown>): never => {
    throw new ApiError(codeForReason(reason), message, field, extra);
  };
  const counted = (counts: IngestCounts) => countIngest(metrics, counts);
  await app.register(trackingApi, {
    eventLog,
    junk,
    trackingPlans,
    authenticate: (request) => auth.source(request),
    fail: failWithCode,
    onAccepted: counted,
  });
  const cleaningSettings = createCleaningSettingsStore(database);
  const profileStore = createProfileStore(database, keyring);
  await app.register(profilesRoutes, { database, store: profileStore, keyring, settings: cleaningSettings });
  await app.register(consentRoutes, { database, keyring });
  await app.register(preferencePages, { database, keyring });
  await app.register(segmentsRoutes, { database, profiles: profileStore });
  const qualityReporter = createQualityReporter(database, keyring);
  await app.register(analyticsRoutes, { database });
  await app.register(governanceRoutes, { database });
  await app.register(kpiRoutes, { database, quality: qualityReporter });
  await app.register(campaignReportRoutes, { database });
  await app.register(qualityRoutes, { database, reporter: qualityReporter, settings: cleaningSettings });
  await app.register(identityRoutes, { identity: { database, keyring, junk } });
  await app.register(sourcesRoutes, { database, trackingPlans });
  await app.register(catalogRoutes);
  await app.register(auditRoutes, { database });
  await app.register(dsarRoutes, { database, keyring });
  await app.register(campaignRoutes, { database, keyring });
  await app.register(journeyRoutes, { database });
  await app.register(couponRoutes, { database });
  await app.register(importsRoutes, { database, eventLog, junk, trackingPlans });
  const webhookStore = createWebhookStore(database, keyring);
  await app.register(webhookApi, {
    eventLog,
    junk,
    trackingPlans,
    store: webhookStore,
    authenticateWriteKey: (request) => auth.source(request),
    fail: failWithCode,
    onAccepted: counted,
  });
  await app.register(webhookRoutes, { store: webhookStore, junk });
  await app.register(destinationsRoutes, { database, keyring, activationDir: options.activationDir ?? DEFAULT_ACTIVATION_DIR });

  app.get('/health', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness and database reachability (no auth)',
      response: { 200: Type.Object({ status: Type.Literal('ok'), database: Type.String() }), '5xx': { $ref: 'Error#' } },
    },
  }, async () => {
    try {
      await database.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    } catch (error) {
      throw new ApiError('CUSTODIAN_UNAVAILABLE', `database unreachable: ${(error as Error).message}`);
    }
    return { status: 'ok' as const, database: database.kind };
  });

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)', produces: ['text/plain'] } }, async (_request, reply) => {
    const row = await database.db.selectFrom('event_log').select((eb) => eb.fn.countAll<string>().as('n')).where('processed_at', 'is', null).executeTakeFirstOrThrow();
    metrics.pending.set(Number(row.n));
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
