import { Analytics } from '@segment/analytics-node';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COLLECT_RATE_LIMIT, LOGIN_ATTEMPTS_PER_MINUTE, loginRateLimit } from '../src/server/rate-limits.js';
import { startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';
import { sleep } from './helpers/process.js';

const pglite = backends[0]!;
const basic = (key: string) => 'Basic ' + Buffer.from(`${key}:`).toString('base64');

/**
 * A request the limiter counts and the API then refuses at once (the body is
 * not JSON): cheap, so a burst of them stays inside one one-second window.
 */
function cheap(t: TestApp, options: { url?: string; authorization?: string; remoteAddress?: string } = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: options.url ?? '/v1/track',
    headers: { 'content-type': 'application/json', ...(options.authorization ? { authorization: options.authorization } : {}) },
    payload: '{not json',
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

const statuses = (responses: LightMyRequestResponse[]) => responses.map((r) => r.statusCode).sort();

/**
 * One after another: the limiter reads its counter after an await, so
 * requests started in the same tick (never the case for separate connections)
 * would all see the final count.
 */
async function inTurn(n: number, send: (i: number) => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse[]> {
  const responses: LightMyRequestResponse[] = [];
  for (let i = 0; i < n; i++) responses.push(await send(i));
  return responses;
}

describe('the collection API rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(pglite, { app: { rateLimit: 3 } });
  });
  afterAll(async () => t?.close());

  it('answers 429 with Retry-After and the error body once a write key is over its requests per second', async () => {
    const key = basic('wk_burst');
    const burst = await inTurn(4, () => cheap(t, { authorization: key }));
    expect(statuses(burst)).toEqual([400, 400, 400, 429]);
    const limited = burst.find((r) => r.statusCode === 429)!;
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.json()).toEqual({
      success: false,
      code: 'CUSTODIAN_RATE_LIMITED',
      reason: 'rate_limited',
      message: 'too many requests from this source: at most 3 per second; retry in 1 s',
      retryAfter: 1,
    });
    // Still a response of ours: the security headers are on it too.
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    // Under the limit, the answers say how much is left.
    const first = burst.find((r) => r.statusCode === 400)!;
    expect(first.headers['x-ratelimit-limit']).toBe('3');

    // Retry-After is honest: a second later the key is served again.
    await sleep(1100);
    expect((await cheap(t, { authorization: key })).statusCode).toBe(400);
  });

  it('counts every /v1 route of a source together, each source on its own', async () => {
    const key = basic('wk_shared');
    const mixed = await inTurn(4, (i) => cheap(t, { authorization: key, url: ['/v1/track', '/v1/identify', '/v1/batch', '/v1/page'][i]! }));
    expect(statuses(mixed)).toEqual([400, 400, 400, 429]);
    // Another write key, at the same moment and from the same address, is not held back.
    const other = await inTurn(3, () => cheap(t, { authorization: basic('wk_other') }));
    expect(statuses(other)).toEqual([400, 400, 400]);
  });

  it('falls back to the client address without a write key in the header', async () => {
    const burst = await inTurn(4, () => cheap(t, { remoteAddress: '198.51.100.7' }));
    expect(statuses(burst)).toEqual([400, 400, 400, 429]);
    expect(burst.find((r) => r.statusCode === 429)!.json()).toMatchObject({ code: 'CUSTODIAN_RATE_LIMITED', message: expect.stringContaining('from this address') });
    const elsewhere = await cheap(t, { remoteAddress: '198.51.100.8' });
    expect(elsewhere.statusCode).toBe(400);
  });

  it('limits webhooks by their token, and leaves /health and /api alone', async () => {
    const hooks = await inTurn(4, () => cheap(t, { url: '/v1/webhook/forms?token=secret-a', remoteAddress: '198.51.100.20' }));
    expect(hooks.filter((r) => r.statusCode === 429)).toHaveLength(1);
    expect((await cheap(t, { url: '/v1/webhook/forms?token=secret-b', remoteAddress: '198.51.100.20' })).statusCode).not.toBe(429);
    const others = await inTurn(10, (i) => t.app.inject({ method: 'GET', url: i % 2 ? '/health' : '/api/catalog/events' }));
    expect(others.map((r) => r.statusCode).filter((s) => s === 429)).toEqual([]);
    expect(others[0]!.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it("is what Segment's SDK waits out: every message arrives after the 429s", async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: address, path: '/v1/batch', flushAt: 1, maxRetries: 1, httpRequestTimeout: 10_000 });
    const seen: number[] = [];
    const errors: unknown[] = [];
    analytics.on('http_response', (response) => seen.push(response.status));
    analytics.on('error', (error) => errors.push(error));
    for (let i = 0; i < 8; i++) analytics.track({ userId: 'limited-sdk', event: 'Clicked', messageId: `limited-sdk-${i}` });
    await analytics.closeAndFlush({ timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(seen).toContain(429);
    expect(seen.filter((s) => s === 200)).toHaveLength(8);
    expect(await t.drain()).toBe(8);
  });
});

describe('the collection API without a limit', () => {
  it('CUSTODIAN_RATE_LIMIT=0 turns it off', async () => {
    const t = await startTestApp(pglite, { app: { rateLimit: 0 } });
    try {
      const burst = await inTurn(50, () => cheap(t, { authorization: basic('wk_free') }));
      expect(new Set(burst.map((r) => r.statusCode))).toEqual(new Set([400]));
      expect(burst[0]!.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('by default is high enough for a burst of a few hundred requests', async () => {
    const t = await startTestApp(pglite);
    try {
      const burst = await inTurn(300, () => cheap(t, { authorization: basic(WRITE_KEY) }));
      expect(new Set(burst.map((r) => r.statusCode))).toEqual(new Set([400]));
      expect(burst[0]!.headers['x-ratelimit-limit']).toBe(String(DEFAULT_COLLECT_RATE_LIMIT));
    } finally {
      await t.close();
    }
  });
});

describe('loginRateLimit', () => {
  it('lets 10 attempts a minute through per address, then answers 429 (also with the collection limit off)', async () => {
    const t = await startTestApp(pglite, { app: { rateLimit: 0 } });
    try {
      // A stand-in for POST /api/auth/login, with the route config the real one attaches.
      t.app.post('/test/login', { config: { rateLimit: loginRateLimit } }, async () => ({ ok: true }));
      const attempt = (remoteAddress: string) => t.app.inject({ method: 'POST', url: '/test/login', remoteAddress, headers: { 'content-type': 'application/json' }, payload: '{}' });
      const first = [];
      for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE; i++) first.push(await attempt('203.0.113.9'));
      expect(first.map((r) => r.statusCode)).toEqual(Array.from({ length: LOGIN_ATTEMPTS_PER_MINUTE }, () => 200));
      const refused = await attempt('203.0.113.9');
      expect(refused.statusCode).toBe(429);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(50);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.json()).toMatchObject({ success: false, code: 'CUSTODIAN_RATE_LIMITED', reason: 'rate_limited', message: expect.stringMatching(/^too many login attempts from this address: at most 10 a minute; retry in \d+ (minute|seconds?)$/), retryAfter });
      // Another address has attempts of its own.
      expect((await attempt('203.0.113.10')).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
