import { createHash } from 'node:crypto';
import fastifyRateLimit, { normalizeIP, type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** CUSTODIAN_RATE_LIMIT's default: /v1 requests per second per source. */
export const DEFAULT_COLLECT_RATE_LIMIT = 1000;

/** Login attempts per minute per client address. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

export interface RateLimitSettings {
  /** /v1 requests per second per source (see collectionSource); 0 turns the limit off */
  collectPerSecond: number;
}

/** A short digest in place of a credential: limiter keys sit in memory (or Redis) and may be logged. */
function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 22);
}

function basicUser(authorization: string | undefined): string | null {
  if (!authorization || !/^basic /i.test(authorization)) return null;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const user = decoded.split(':', 1)[0] ?? '';
  return user === '' ? null : user;
}

/**
 * Who a /v1 request counts against: the write key of HTTP Basic auth, else a
 * webhook's ?token=, else the client address. The limit runs before the body
 * is read, so a write key sent in the body (browser SDKs) counts by address,
 * which gives each visitor a budget of its own instead of one shared by a
 * whole website. The credential is not checked here: a made-up key gets a
 * budget of its own and then a 401.
 */
export function collectionSource(request: FastifyRequest): string {
  const user = basicUser(request.headers.authorization);
  if (user !== null) return `key:${digest(user)}`;
  const token = (request.query as { token?: unknown } | undefined)?.token;
  if (typeof token === 'string' && token !== '') return `key:${digest(token)}`;
  return `ip:${normalizeIP(request.ip)}`;
}

/**
 * The rate-limit plugin for the app, and the limit on the collection API.
 * Counters are in this process's memory: with several API processes each
 * keeps its own (docs/security.md says how to share them in Redis).
 */
export async function registerRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  // Not global: a route opts in with config.rateLimit (loginRateLimit below).
  await app.register(fastifyRateLimit, { global: false });
  const perSecond = settings.collectPerSecond;
  if (perSecond <= 0) return;
  // One limiter, hence one counter per source across every /v1 route: a
  // per-route config.rateLimit would count /v1/track and /v1/batch apart.
  const check = app.createRateLimit({ max: perSecond, timeWindow: 1000, keyGenerator: collectionSource });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.url?.startsWith('/v1/')) return;
    const limit = await check(request);
    if (limit.isAllowed) return;
    reply.header('x-ratelimit-limit', limit.max);
    reply.header('x-ratelimit-remaining', limit.remaining);
    reply.header('x-ratelimit-reset', limit.ttlInSeconds);
    if (!limit.isExceeded) return;
    // Segment's SDKs wait Retry-After seconds and resend the same batch; messageId makes the resend harmless.
    const retryAfter = Math.max(1, limit.ttlInSeconds);
    reply.header('retry-after', retryAfter);
    const who = limit.key.startsWith('ip:') ? 'this address' : 'this source';
    throw new ApiError('CUSTODIAN_RATE_LIMITED', `too many requests from ${who}: at most ${perSecond} per second; retry in ${retryAfter} s`, undefined, { retryAfter });
  });
}

/**
 * Route options for POST /api/auth/login: `config: { rateLimit: loginRateLimit }`.
 * It takes effect on an app that went through registerRateLimits (buildApp
 * does), and stays on when CUSTODIAN_RATE_LIMIT is 0: it guards passwords, not load.
 */
export const loginRateLimit: RateLimitOptions = {
  max: LOGIN_ATTEMPTS_PER_MINUTE,
  timeWindow: 60_000,
  keyGenerator: (request) => `login:${normalizeIP(request.ip)}`,
  errorResponseBuilder: (_request, context) =>
    new ApiError('CUSTODIAN_RATE_LIMITED', `too many login attempts from this address: at most ${context.max} a minute; retry in ${context.after}`, undefined, { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) }),
};
