import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretHash } from '../src/privacy/accounts.js';
import { enforceRetention } from '../src/worker/schedule.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

/**
 * Retention and the field catalog: policies remove exactly what expired
 * (events, their raw messages and lineage, traits), anonymized events stay
 * countable, segments follow, and every run is logged.
 */
describe.each(backends)('governance on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'GET' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const count = async (query: string) => Number((await sql<{ n: string }>`${sql.raw(query)}`.execute(t.database.db)).rows[0]!.n);

  beforeAll(async () => {
    t = await startTestApp(backend);
    const batch = [
      { type: 'identify', userId: 'old', traits: { city: '上海', favourite_color: 'red' }, timestamp: ago(400) },
      { type: 'identify', userId: 'new', traits: { city: '北京', favourite_color: 'blue' }, timestamp: ago(3) },
      { type: 'track', userId: 'old', event: 'Product Viewed', properties: { product_id: 'p1' }, timestamp: ago(400) },
      { type: 'track', userId: 'old', event: 'Product Viewed', properties: { product_id: 'p2' }, timestamp: ago(10) },
      { type: 'track', userId: 'old', event: 'Order Completed', properties: { order_id: 'o1', total: 30 }, timestamp: ago(500) },
      { type: 'track', userId: 'new', event: 'Order Completed', properties: { order_id: 'o2', total: 40 }, timestamp: ago(2) },
    ];
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
  });
  afterAll(async () => t?.close());

  it('lets any token read the catalog, and only an admin change it or run retention', async () => {
    await t.database.db.insertInto('api_tokens').values({ workspace_id: 'default', id: 'reader', name: 'reader', token_hash: secretHash('ct_reader'), role: 'analyst' }).execute();
    const reader = (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) =>
      t.app.inject({ method, url, headers: { authorization: 'Bearer ct_reader', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
    expect((await reader('GET', '/api/governance/fields')).statusCode).toBe(200);
    expect((await reader('PUT', '/api/governance/retention', { kind: 'event', name: '*', days: 1, action: 'delete' })).statusCode).toBe(403);
    expect((await reader('POST', '/api/governance/retention/run')).statusCode).toBe(403);
    expect((await reader('PUT', '/api/governance/fields/city', { owner: 'me' })).statusCode).toBe(403);
  });

  it('refuses policies that cannot be kept, naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ kind: 'trait', name: 'email', days: 30, action: 'delete' }, 'name'],
      [{ kind: 'trait', name: 'favourite_color', days: 30, action: 'anonymize' }, 'action'],
      [{ kind: 'trait', name: '*', days: 30, action: 'delete' }, 'name'],
      [{ kind: 'event', name: 'Product Viewed', days: 0, action: 'delete' }, 'days'],
      [{ kind: 'event', name: 'Product Viewed', days: 30, action: 'shred' }, 'action'],
    ];
    for (const [body, field] of cases) {
      const res = await admin('PUT', '/api/governance/retention', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.json()), JSON.stringify(body)).toContain(field);
    }
  });

  it('removes exactly what expired, keeps anonymized orders countable, and logs the run', async () => {
    const segment = await admin('POST', '/api/segments', { name: 'Likes a colour', rule: { trait: 'favourite_color', op: 'exists' } });
    expect(segment.statusCode, segment.body).toBe(201);
    const segmentId = (segment.json() as { id: string }).id;
    expect(((await admin('GET', `/api/segments/${segmentId}`)).json() as { size: number }).size).toBe(2);

    for (const body of [
      { kind: 'event', name: 'Product Viewed', days: 365, action: 'delete' },
      { kind: 'event', name: 'Order Completed', days: 365, action: 'anonymize' },
      { kind: 'trait', name: 'favourite_color', days: 180, action: 'delete' },
    ]) expect((await admin('PUT', '/api/governance/retention', body)).statusCode).toBe(200);
    // Setting a policy again changes it rather than adding a second.
    expect((await admin('PUT', '/api/governance/retention', { kind: 'trait', name: 'favourite_color', days: 200, action: 'delete' })).statusCode).toBe(200);
    const policies = ((await admin('GET', '/api/governance/retention')).json() as { policies: Array<{ name: string; days: number }> }).policies;
    expect(policies).toHaveLength(3);
    expect(policies.find((p) => p.name === 'favourite_color')!.days).toBe(200);

    const before = { views: await count(`select count(*) as n from events where event = 'Product Viewed'`), log: await count(`select count(*) as n from event_log`) };
    // Identify messages are named by their type: the old one that gave favourite_color goes too.
    expect((await admin('PUT', '/api/governance/retention', { kind: 'event', name: 'identify', days: 365, action: 'delete' })).statusCode).toBe(200);
    const res = await admin('POST', '/api/governance/retention/run');
    expect(res.statusCode, res.body).toBe(200);
    const run = res.json() as { status: string; results: Array<{ name: string; affected: number }> };
    expect(run.status).toBe('done');
    expect(Object.fromEntries(run.results.map((r) => [r.name, r.affected]))).toEqual({ 'Product Viewed': 1, 'Order Completed': 1, favourite_color: 1, identify: 1 });

    expect(await count(`select count(*) as n from events where event = 'Product Viewed'`)).toBe(before.views - 1);
    // Both expired messages leave the raw log; the anonymized order stays as an event without a person.
    expect(await count(`select count(*) as n from event_log`)).toBe(before.log - 3);
    expect(await count(`select count(*) as n from events where type = 'identify'`)).toBe(1);
    expect(await count(`select count(*) as n from events where event = 'Order Completed' and profile_id is null and length(secret) = 0`)).toBe(1);
    expect(await count(`select count(*) as n from events where event = 'Order Completed'`)).toBe(2);

    const profile = async (userId: string) => ((await t.get(`/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ traits: Record<string, unknown> }> }).profiles[0]!;
    expect((await profile('old')).traits.favourite_color).toBeUndefined();
    expect((await profile('old')).traits.city).toBe('上海市');
    expect((await profile('new')).traits.favourite_color).toBe('blue');
    expect(((await admin('GET', `/api/segments/${segmentId}`)).json() as { size: number }).size).toBe(1);

    // Nothing left to remove: the worker's run removes nothing and is logged too.
    expect(await enforceRetention(t.database.db)).toBe(0);
    const runs = ((await admin('GET', '/api/governance/retention/runs')).json() as { runs: Array<{ status: string }> }).runs;
    expect(runs).toHaveLength(2);
    expect(runs.every((r) => r.status === 'done')).toBe(true);

    const policyId = (policies.find((p) => p.name === 'Product Viewed') as unknown as { id: string }).id;
    expect((await admin('DELETE', `/api/governance/retention/${policyId}`)).statusCode).toBe(204);
    expect((await admin('DELETE', `/api/governance/retention/${policyId}`)).statusCode).toBe(404);
  });

  it('catalogs every field with its class, sources, rule and retention, and keeps what people write down', async () => {
    const res = await admin('GET', '/api/governance/fields');
    expect(res.statusCode, res.body).toBe(200);
    const fields = (res.json() as { fields: Array<{ field: string; class: string; standard: boolean; qualityRule: string | null; sources: string[]; retention: unknown; owner: string | null }> }).fields;
    const byName = new Map(fields.map((f) => [f.field, f]));
    expect(byName.get('email')).toMatchObject({ class: 'identifier', standard: true });
    expect(byName.get('phone')!.qualityRule).toContain('E.164');
    expect(byName.get('city')).toMatchObject({ class: 'quasi', standard: true });
    expect(byName.get('city')!.sources.length).toBeGreaterThan(0);
    expect(byName.get('favourite_color')).toMatchObject({ class: 'behavioral', standard: false, retention: { days: 200, action: 'delete' } });

    const put = await admin('PUT', '/api/governance/fields/city', { owner: 'CRM team', purpose: '按城市分群与门店活动' });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ field: 'city', owner: 'CRM team', purpose: '按城市分群与门店活动', qualityRule: byName.get('city')!.qualityRule });
    const cleared = await admin('PUT', '/api/governance/fields/city', { owner: null });
    expect(cleared.json()).toMatchObject({ owner: null, purpose: '按城市分群与门店活动' });
    const notText = await admin('PUT', '/api/governance/fields/city', { owner: 5 });
    expect(notText.statusCode).toBe(400);
    expect(JSON.stringify(notText.json())).toContain('owner');
    const tooLong = await admin('PUT', '/api/governance/fields/city', { purpose: 'x'.repeat(501) });
    expect(tooLong.statusCode).toBe(400);
    expect(JSON.stringify(tooLong.json())).toContain('purpose');
  });
});
