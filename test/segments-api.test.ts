import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { refreshWorkspace } from '../src/segments/membership.js';

const DAY = 86_400_000;
const EXAMPLE = {
  all: [
    { trait: 'city', op: 'eq', value: '上海' },
    { event: 'Order Completed', within: '30d', count: { gte: 3 } },
    { not: { event: 'Order Completed', within: '14d', count: { gte: 1 } } },
  ],
};

describe.each(backends)('segments and tags API on $name', (backend) => {
  let t: TestApp;
  const admin = (method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, body?: unknown, contentType = 'application/json') =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': contentType }) }, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const order = (userId: string, daysAgo: number, total: number, category = 'books') =>
    ({ type: 'track', userId, event: 'Order Completed', properties: { total, category }, timestamp: new Date(Date.now() - daysAgo * DAY).toISOString() });
  const profileOf = async (userId: string) => {
    const res = await t.get(`/api/profiles?userId=${userId}`);
    return (res.json() as { profiles: Array<{ id: string; tags: string[]; segments: string[] }> }).profiles[0]!;
  };

  beforeAll(async () => {
    t = await startTestApp(backend);
    const batch = [
      // Ann: Shanghai, 3 orders 15–25 days ago, none in the last 14: in the example segment.
      { type: 'identify', userId: 'ann', traits: { city: '上海', age: 34, email: 'ann@example.com' } },
      order('ann', 15, 100), order('ann', 20, 250), order('ann', 25, 80, 'music'),
      // Bob: Shanghai, 3 orders but one 3 days ago: out.
      { type: 'identify', userId: 'bob', traits: { city: 'Shanghai', province: '上海', age: 29 } },
      order('bob', 3, 20), order('bob', 16, 20), order('bob', 18, 20),
      // Cai: Beijing, 4 orders: out (city).
      { type: 'identify', userId: 'cai', traits: { city: '北京', age: 41 } },
      order('cai', 15, 60), order('cai', 16, 60), order('cai', 17, 60), order('cai', 19, 60),
      // Dee: Shanghai, 2 orders: out (count).
      { type: 'identify', userId: 'dee', traits: { city: '上海市', age: 23 } },
      order('dee', 15, 10), order('dee', 20, 10),
    ];
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
  });
  afterAll(async () => t.close());

  let exampleId = '';

  it('counts the example rule in a preview, with samples and readable text in both languages', async () => {
    const res = await admin('POST', '/api/segments/preview', { rule: EXAMPLE });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { count: number; sample: Array<{ id: string; traits: Record<string, unknown> }>; text: { en: string; 'zh-CN': string } };
    expect(body.count).toBe(1);
    expect(body.sample).toHaveLength(1);
    expect(body.sample[0]!.traits.city).toBe('上海市');
    expect(body.text.en).toContain('at least 3 times in the last 30 days');
    expect(body.text['zh-CN']).toContain('城市');
  });

  it('saves a segment filled at once, and the profile lists it', async () => {
    const res = await admin('POST', '/api/segments', { name: 'Shanghai lapsing buyers', rule: EXAMPLE });
    expect(res.statusCode).toBe(201);
    const seg = res.json() as { id: string; size: number; timeRelative: boolean; refreshedAt: string };
    exampleId = seg.id;
    expect(seg.size).toBe(1);
    expect(seg.timeRelative).toBe(true);
    expect(seg.refreshedAt).not.toBeNull();
    expect((await profileOf('ann')).segments).toEqual(['Shanghai lapsing buyers']);
    expect((await admin('GET', `/api/segments/${seg.id}`)).json()).toMatchObject({ id: seg.id, size: 1 });
  });

  it('updates membership from the pipeline: an order enters Dee and a recent order makes Ann leave; both are recorded', async () => {
    const before = (await admin('GET', '/api/membership-changes')).json() as { changes: Array<{ id: string }> };
    const cursor = before.changes.at(-1)?.id ?? '0';
    await t.send('/v1/batch', { batch: [order('dee', 18, 10), order('ann', 1, 30)] });
    await t.drain();
    const changes = (await admin('GET', `/api/membership-changes?after=${cursor}&set=${exampleId}`)).json() as { changes: Array<{ profileId: string; change: string; cause: string }> };
    const dee = await profileOf('dee');
    const ann = await profileOf('ann');
    expect(changes.changes.map((c) => [c.profileId, c.change, c.cause]).sort()).toEqual([[ann.id, 'exit', 'event'], [dee.id, 'enter', 'event']].sort());
    expect(dee.segments).toEqual(['Shanghai lapsing buyers']);
    expect(ann.segments).toEqual([]);
    expect(((await admin('GET', `/api/segments/${exampleId}`)).json() as { size: number }).size).toBe(1);
  });

  it('streams members as ndjson and as CSV with chosen fields', async () => {
    const nd = await admin('GET', `/api/segments/${exampleId}/members?format=ndjson`);
    expect(nd.statusCode).toBe(200);
    const lines = nd.body.trim().split('\n').map((l) => JSON.parse(l) as { id: string; identities: Array<{ type: string; value: string }> });
    expect(lines.map((p) => p.identities.find((i) => i.type === 'userId')?.value)).toEqual(['dee']);
    const csv = await admin('GET', `/api/segments/${exampleId}/members?format=csv&fields=id,userId,city,age`);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = csv.body.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(rows[0]).toBe('id,userId,city,age');
    expect(rows[1]).toMatch(/^[0-9a-f-]{36},dee,上海市,23$/);
  });

  it('refuses bad rules with the field and the reason, never a 500', async () => {
    const cases: Array<[unknown, string]> = [
      [{ trait: 'city', op: 'between', value: 'x' }, 'rule.value'],
      [{ trait: 'email', op: 'eq', value: 'a@b.c' }, 'rule.op'],
      [{ trait: 'name', op: 'exists' }, 'rule.trait'],
      [{ event: 'Order Completed', within: '30 days' }, 'rule'],
      [{ event: 'Order Completed', count: { gte: 5, lte: 2 } }, 'rule.count'],
      [{ segment: 'nope' }, 'rule.segment'],
      [{ tag: 'nope' }, 'rule.tag'],
      [{ all: [] }, 'rule'],
      [{ trait: 'age', op: 'gt' }, 'rule.value'],
    ];
    for (const [rule, field] of cases) {
      const res = await admin('POST', '/api/segments/preview', { rule });
      expect(res.statusCode, JSON.stringify(rule)).toBe(400);
      const body = res.json() as { code: string; field: string; message: string };
      expect(body.field, JSON.stringify(rule)).toContain(field);
      expect(body.message.length).toBeGreaterThan(5);
    }
  });

  it('treats hostile names and values as data', async () => {
    const evil = "x'); drop table profiles; --";
    const res = await admin('POST', '/api/segments/preview', { rule: { any: [{ trait: evil, op: 'eq', value: evil }, { event: evil, where: [{ property: evil, op: 'contains', value: evil }] }] } });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { count: number }).count).toBe(0);
    expect((await t.get('/api/profiles?userId=ann')).statusCode).toBe(200);
  });

  it('refuses a duplicate name, a self-reference cycle, and deleting a segment another reads', async () => {
    expect((await admin('POST', '/api/segments', { name: 'shanghai LAPSING buyers', rule: EXAMPLE })).statusCode).toBe(409);
    const outer = (await admin('POST', '/api/segments', { name: 'Reads example', rule: { segment: exampleId } })).json() as { id: string; size: number };
    expect(outer.size).toBe(1);
    const cycle = await admin('PATCH', `/api/segments/${exampleId}`, { rule: { all: [EXAMPLE, { segment: outer.id }] } });
    expect(cycle.statusCode).toBe(400);
    expect((await admin('DELETE', `/api/segments/${exampleId}`)).statusCode).toBe(409);
    expect((await admin('DELETE', `/api/segments/${outer.id}`)).statusCode).toBe(204);
    expect((await admin('GET', `/api/segments/${outer.id}`)).statusCode).toBe(404);
  });

  it('manual tags: by id, by segment, by CSV; unknown ids are returned; the profile shows them', async () => {
    const tag = (await admin('POST', '/api/tags', { name: 'VIP', definition: { kind: 'manual' } })).json() as { id: string };
    const ann = await profileOf('ann');
    const byId = await admin('POST', `/api/tags/${tag.id}/profiles`, { profileIds: [ann.id, 'not-an-id'] });
    expect(byId.json()).toEqual({ changed: 1, unknown: ['not-an-id'] });
    const bySegment = await admin('POST', `/api/tags/${tag.id}/profiles`, { segment: exampleId });
    expect(bySegment.json()).toEqual({ changed: 1, unknown: [] });
    const cai = await profileOf('cai');
    const csv = await admin('POST', `/api/tags/${tag.id}/profiles/csv`, `profile_id,note\n${cai.id},big spender\n00000000-0000-4000-8000-000000000000,x\n`, 'text/csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.json()).toEqual({ changed: 1, unknown: ['00000000-0000-4000-8000-000000000000'] });
    expect((await profileOf('ann')).tags).toContain('VIP');
    expect(((await admin('GET', `/api/tags/${tag.id}`)).json() as { profiles: number }).profiles).toBe(3);
    const removed = await admin('POST', `/api/tags/${tag.id}/profiles/remove`, { profileIds: [ann.id] });
    expect(removed.json()).toEqual({ changed: 1, unknown: [] });
    expect((await profileOf('ann')).tags).not.toContain('VIP');
    // A segment can read a tag.
    const vips = (await admin('POST', '/api/segments/preview', { rule: { tag: 'vip' } })).json() as { count: number };
    expect(vips.count).toBe(2);
  });

  it('computed tags: cases (age group), top (preferred category), and they follow new events', async () => {
    const ageGroup = await admin('POST', '/api/tags', {
      name: 'age group',
      definition: { kind: 'cases', cases: [{ value: '18-24', rule: { trait: 'age', op: 'between', value: [18, 24] } }, { value: '25-34', rule: { trait: 'age', op: 'between', value: [25, 34] } }, { value: '35+', rule: { trait: 'age', op: 'gte', value: 35 } }] },
    });
    expect(ageGroup.statusCode, ageGroup.body).toBe(201);
    const favourite = await admin('POST', '/api/tags', { name: 'preferred category', definition: { kind: 'top', event: 'Order Completed', property: 'category' } });
    expect(favourite.statusCode).toBe(201);
    expect((await profileOf('dee')).tags).toEqual(expect.arrayContaining(['age group:18-24', 'preferred category:books']));
    expect((await profileOf('cai')).tags).toContain('age group:35+');
    // Dee turns 25 and buys music three times: both tags change through the pipeline.
    await t.send('/v1/batch', { batch: [{ type: 'identify', userId: 'dee', traits: { age: 25 } }, order('dee', 1, 5, 'music'), order('dee', 1, 5, 'music'), order('dee', 1, 5, 'music'), order('dee', 1, 5, 'music')] });
    await t.drain();
    expect((await profileOf('dee')).tags).toEqual(expect.arrayContaining(['age group:25-34', 'preferred category:music']));
    const changes = (await admin('GET', `/api/membership-changes?profile=${(await profileOf('dee')).id}&limit=1000`)).json() as { changes: Array<{ change: string; value: string | null; cause: string }> };
    expect(changes.changes.filter((c) => c.cause === 'event').map((c) => `${c.change}:${c.value}`)).toEqual(expect.arrayContaining(['exit:18-24', 'enter:25-34', 'exit:books', 'enter:music']));
    // Segment's orders list their products: a top tag can read a field of each element.
    await t.send('/v1/batch', { batch: [{ ...order('cai', 2, 90), properties: { total: 90, products: [{ category: 'toys' }, { category: 'toys' }, { category: 'games' }] } }] });
    await t.drain();
    const byProduct = await admin('POST', '/api/tags', { name: 'product category', definition: { kind: 'top', event: 'Order Completed', property: 'products.category' } });
    expect(byProduct.statusCode, byProduct.body).toBe(201);
    expect((await profileOf('cai')).tags).toContain('product category:toys');
    expect((await profileOf('dee')).tags.some((x) => x.startsWith('product category:'))).toBe(false);
    // Manual tagging of a computed tag is refused.
    const computedId = (ageGroup.json() as { id: string }).id;
    expect((await admin('POST', `/api/tags/${computedId}/profiles`, { profileIds: [(await profileOf('dee')).id] })).statusCode).toBe(409);
  });

  it('members leave a time window when it passes (scheduled refresh), and only time-relative sets are refreshed then', async () => {
    const recent = (await admin('POST', '/api/segments', { name: 'Ordered this month', rule: { event: 'Order Completed', within: '30d' } })).json() as { id: string; size: number };
    const everyone = (await admin('POST', '/api/segments', { name: 'Shanghai', rule: { trait: 'city', op: 'eq', value: '上海' } })).json() as { id: string; size: number };
    expect(recent.size).toBe(4);
    expect(everyone.size).toBe(3);
    const later = new Date(Date.now() + 40 * DAY);
    const outcome = await refreshWorkspace(t.database.db, 'default', { now: later, cause: 'refresh', timeRelativeOnly: true });
    expect(outcome.exited).toBeGreaterThanOrEqual(4);
    expect(((await admin('GET', `/api/segments/${recent.id}`)).json() as { size: number }).size).toBe(0);
    expect(((await admin('GET', `/api/segments/${everyone.id}`)).json() as { size: number }).size).toBe(3);
    const exits = (await admin('GET', `/api/membership-changes?set=${recent.id}&limit=1000`)).json() as { changes: Array<{ change: string; cause: string }> };
    expect(exits.changes.filter((c) => c.change === 'exit' && c.cause === 'refresh')).toHaveLength(4);
    await refreshWorkspace(t.database.db, 'default', { now: new Date(), cause: 'refresh' });
    expect(((await admin('GET', `/api/segments/${recent.id}`)).json() as { size: number }).size).toBe(4);
  });

  it('a manual merge moves membership at once: the merged-away profile exits, the survivor enters', async () => {
    const seg = (await admin('POST', '/api/segments', { name: 'Big spenders', rule: { event: 'Order Completed', sum: { property: 'total', gte: 300 } } })).json() as { id: string; size: number };
    // Two visitors known only by device, 200 and 150 in orders; together they pass 300.
    const visit = (anonymousId: string, total: number) => ({ type: 'track', anonymousId, event: 'Order Completed', properties: { total }, timestamp: new Date(Date.now() - 2 * DAY).toISOString() });
    await t.send('/v1/batch', { batch: [visit('device-a', 200), visit('device-b', 150)] });
    await t.drain();
    const byDevice = async (id: string) => ((await t.get(`/api/profiles?anonymousId=${id}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;
    const a = await byDevice('device-a');
    const b = await byDevice('device-b');
    const before = (await admin('GET', '/api/membership-changes?limit=1000')).json() as { changes: Array<{ id: string }> };
    const merged = await admin('POST', '/api/profiles/merge', { into: a, from: [b] });
    expect(merged.statusCode, merged.body).toBe(200);
    const after = (await admin('GET', `/api/membership-changes?after=${before.changes.at(-1)!.id}&limit=1000`)).json() as { changes: Array<{ profileId: string; change: string; cause: string; setId: string }> };
    expect(after.changes.filter((c) => c.setId === seg.id).map((c) => [c.profileId, c.change, c.cause])).toEqual([[a, 'enter', 'merge']]);
    expect(after.changes.some((c) => c.profileId === b && c.change === 'exit')).toBe(true);
    expect(((await t.get(`/api/profiles/${a}`)).json() as { segments: string[] }).segments).toContain('Big spenders');
  });

  it('answers 404 for unknown ids and 400 for a malformed body', async () => {
    expect((await admin('GET', '/api/segments/nope')).statusCode).toBe(404);
    expect((await admin('POST', '/api/segments/nope/refresh')).statusCode).toBe(404);
    expect((await admin('POST', '/api/segments', { name: 'x' })).statusCode).toBe(400);
    expect((await admin('POST', '/api/tags', { name: 'x', definition: { kind: 'weird' } })).statusCode).toBe(400);
  });
});
