import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

describe.each(backends)('management API on $name', (backend) => {
  let t: TestApp;
  let zhangId: string;
  beforeAll(async () => {
    t = await startTestApp(backend);
    const batch = [
      { type: 'page', anonymousId: 'anon-zhang', name: 'Home', messageId: 'z-0', timestamp: '2026-01-01T00:00:00Z' },
      { type: 'identify', anonymousId: 'anon-zhang', userId: 'zhang', traits: { email: ' Zhang.Wei@QQ.com ', phone: '+86 138 0013 8000', name: '张伟', city: '上海' }, messageId: 'z-1', timestamp: '2026-01-01T00:01:00Z' },
      ...Array.from({ length: 25 }, (_, i) => ({ type: 'track', userId: 'zhang', event: 'Order Completed', properties: { revenue: i, order_id: `o${i}` }, messageId: `z-o${i}`, timestamp: new Date(Date.UTC(2026, 0, 2, 0, i)).toISOString() })),
      { type: 'identify', userId: 'li', traits: { email: 'li@example.com', plan: 'free' }, messageId: 'l-1' },
    ];
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
    zhangId = (await t.get('/api/profiles?userId=zhang')).json().profiles[0].id;
  });
  afterAll(async () => t?.close());

  it('GET /api/profiles/:id gives traits, identities, records and recent events', async () => {
    const res = await t.get(`/api/profiles/${zhangId}`);
    expect(res.statusCode).toBe(200);
    const p = res.json();
    // Standardized on the profile; the events keep what was sent.
    expect(p.traits).toEqual({ email: 'zhang.wei@qq.com', phone: '+8613800138000', name: '张伟', city: '上海市', firstName: '伟', lastName: '张', country: 'CN' });
    expect(p.identities.map((i: { type: string; value: string }) => `${i.type}=${i.value}`).sort()).toEqual([
      'anonymousId=anon-zhang', 'email=zhang.wei@qq.com', 'phone=+8613800138000', 'userId=zhang',
    ]);
    expect(p.records).toEqual([{ source: 'default', id: 'zhang' }]);
    expect(p.recentEvents).toHaveLength(20);
    expect(p.recentEvents[0]).toMatchObject({ type: 'track', event: 'Order Completed', properties: { revenue: 24, order_id: 'o24' }, userId: 'zhang' });
    expect(p).toMatchObject({ tags: [], segments: [], scores: {} });
  });

  it.each([
    ['email', ' ZHANG.wei@qq.com'],
    ['phone', '+86-138-0013-8000'],
    ['userId', 'zhang'],
    ['anonymousId', 'anon-zhang'],
  ])('looks the profile up by %s', async (param, value) => {
    const res = await t.get(`/api/profiles?${param}=${encodeURIComponent(value)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().profiles.map((p: { id: string }) => p.id)).toEqual([zhangId]);
  });

  it('a look-up that matches nothing is an empty list, and one without a key is 400', async () => {
    expect((await t.get('/api/profiles?email=nobody@example.com')).json()).toEqual({ profiles: [] });
    const res = await t.get('/api/profiles');
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('CUSTODIAN_MISSING_FIELD');
  });

  it('pages the whole timeline with a total and a cursor, newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.get(`/api/profiles/${zhangId}/events?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.total).toBe(27);
      seen.push(...page.events.map((e: { messageId: string }) => e.messageId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(27);
    expect(new Set(seen).size).toBe(27);
    expect(seen[0]).toBe('z-o24');
    expect(seen.slice(-2)).toEqual(['z-1', 'z-0']);
  });

  it('refuses a forged cursor and an out-of-range limit by name', async () => {
    const bad = await t.get(`/api/profiles/${zhangId}/events?cursor=garbage`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('cursor');
    const big = await t.get(`/api/profiles/${zhangId}/events?limit=5000`);
    expect(big.statusCode).toBe(400);
    expect(big.json().field).toBe('limit');
  });

  it('404 for an unknown profile and 400 for a malformed id', async () => {
    const missing = await t.get('/api/profiles/00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('CUSTODIAN_NOT_FOUND');
    const malformed = await t.get('/api/profiles/not-a-uuid');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().field).toBe('id');
  });

  it('merges profiles that turn out to be one person, and the old id still resolves', async () => {
    await t.send('/v1/identify', { anonymousId: 'anon-wang', traits: { email: 'wang@example.com' }, messageId: 'w-1' });
    await t.send('/v1/identify', { userId: 'wang', traits: { plan: 'pro' }, messageId: 'w-2' });
    await t.drain();
    const anonProfile = (await t.get('/api/profiles?anonymousId=anon-wang')).json().profiles[0].id;
    const userProfile = (await t.get('/api/profiles?userId=wang')).json().profiles[0].id;
    expect(anonProfile).not.toBe(userProfile);
    await t.send('/v1/alias', { userId: 'wang', previousId: 'anon-wang', messageId: 'w-3' });
    await t.drain();
    const merged = (await t.get('/api/profiles?email=wang@example.com')).json().profiles[0];
    expect(merged.traits).toEqual({ email: 'wang@example.com', plan: 'pro' });
    expect(merged.identities.map((i: { type: string }) => i.type).sort()).toEqual(['anonymousId', 'email', 'userId']);
    const survivor = merged.id;
    const loser = survivor === anonProfile ? userProfile : anonProfile;
    expect(merged.mergedFrom).toEqual([loser]);
    expect((await t.get(`/api/profiles/${loser}`)).json().id).toBe(survivor);
    expect((await t.get(`/api/profiles/${survivor}/events`)).json().total).toBe(3);
  });

  it('exports every live profile as NDJSON in the DESIGN.md contract', async () => {
    const res = await t.get('/api/profiles/export?format=ndjson');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(Object.keys(line)).toEqual(expect.arrayContaining(['id', 'traits', 'identities', 'records', 'tags', 'segments', 'scores']));
    expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
    expect(lines.find((l) => l.id === zhangId).records).toEqual([{ source: 'default', id: 'zhang' }]);
  });

  it('needs a bearer token: none, a bad one, or a write key → 401', async () => {
    for (const authorization of [undefined, 'Bearer wrong', 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64'), `Bearer ${WRITE_KEY}`]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/profiles/${zhangId}`, headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('CUSTODIAN_UNAUTHORIZED');
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/profiles/export', headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).statusCode).toBe(401);
  });

  it('/health needs no auth, /metrics is Prometheus text, /docs/json documents the routes', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toEqual({ status: 'ok', database: backend.name });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/custodian_messages_accepted_total\{type="track"\} \d+/);
    expect(metrics.body).toMatch(/custodian_event_log_pending 0/);
    const docs = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/v1/batch', '/v1/identify', '/api/profiles', '/api/profiles/{id}', '/api/profiles/{id}/events', '/api/profiles/export', '/health']) {
      expect(Object.keys(docs.paths)).toContain(path);
    }
    expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('an unknown route is a 404 with a code, not an HTML page', async () => {
    const res = await t.get('/api/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'CUSTODIAN_NOT_FOUND', field: 'url' });
  });
});
