import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackingMessage } from '../src/collect/messages.js';
import { WITHHELD_NAME, type PlanViolation } from '../src/collect/tracking-plan.js';
import { createTrackingPlans } from '../src/collect/tracking-plans-store.js';
import { secretHash } from '../src/privacy/accounts.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

type Send = (path: string, body: unknown) => Promise<LightMyRequestResponse>;

const signUpPlan = (mode: string) => ({
  mode,
  events: [
    { event: 'Signed Up', properties: { method: { type: 'string', required: true }, trial_days: { type: 'number' } } },
    { event: 'Order Completed', fromCatalog: true, properties: { gift_wrap: { type: 'boolean' } } },
  ],
  traits: { city: { type: 'string' }, birth_year: { type: 'number' } },
});

describe.each(backends)('tracking plans on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  const api = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });

  /** A source of its own with a write key, so each test's plan touches nothing else. */
  async function source(id: string, plan?: unknown): Promise<Send> {
    const key = `wk_${id}_key`;
    await t.database.db.insertInto('sources').values({ workspace_id: 'default', id, name: id, write_key_hash: secretHash(key) }).execute();
    if (plan !== undefined) expect((await api('PUT', `/api/sources/${id}/tracking-plan`, plan)).statusCode).toBe(200);
    const authorization = 'Basic ' + Buffer.from(`${key}:`).toString('base64');
    return (path, body) => t.app.inject({ method: 'POST', url: path, headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  }

  /** The messages of a source as the event log keeps them. */
  async function stored(sourceId: string): Promise<TrackingMessage[]> {
    const rows = await t.database.db.selectFrom('event_log').select('payload').where('source_id', '=', sourceId).orderBy('seq').execute();
    return rows.map((r) => t.keyring.decryptJson<TrackingMessage>(r.payload));
  }

  async function violations(sourceId: string, query = '') {
    const res = await api('GET', `/api/sources/${sourceId}/violations${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as { mode: string | null; total: number; distinct: number; violations: Array<{ event: string; property: string | null; kind: string; count: number; exampleMessageId: string; firstSeenAt: string; lastSeenAt: string }> };
  }
  const row = (list: Awaited<ReturnType<typeof violations>>, event: string, property: string | null, kind: string) =>
    list.violations.find((v) => v.event === event && v.property === property && v.kind === kind);

  describe('GET /api/catalog/events', () => {
    it('serves every standard event with its JSON schema', async () => {
      const res = await api('GET', '/api/catalog/events');
      expect(res.statusCode).toBe(200);
      const events = res.json().events as Array<{ name: string; type: string; channel: string; description: { en: string; 'zh-CN': string }; properties: { required?: string[]; properties: Record<string, { type?: string; items?: { properties: Record<string, { type?: string }> } }> } }>;
      const order = events.find((e) => e.name === 'Order Completed')!;
      expect(order).toMatchObject({ type: 'track', channel: 'orders', properties: { required: ['order_id'] } });
      expect(order.description['zh-CN']).toMatch(/订单/);
      expect(order.properties.properties.items!.items!.properties.price!.type).toBe('number');
      expect(events.find((e) => e.name === 'Page Viewed')).toMatchObject({ type: 'page', channel: 'web' });
      expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['Form Submitted', 'Survey Responded', 'Feedback Submitted', 'Order Refunded', 'Store Visited', 'Social Interaction', 'Email Opened', 'SMS Delivered', 'Screen Viewed']));
    });
    it('narrows by channel', async () => {
      const events = (await api('GET', '/api/catalog/events?channel=sms')).json().events as Array<{ channel: string }>;
      expect(events.length).toBeGreaterThan(1);
      expect(new Set(events.map((e) => e.channel))).toEqual(new Set(['sms']));
      expect((await api('GET', '/api/catalog/events?channel=fax')).json()).toMatchObject({ code: 'CUSTODIAN_INVALID_FIELD', field: 'channel' });
    });
    it('needs an API token', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/catalog/events' });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('the plan API', () => {
    it.each([
      [{ events: [] }, 'mode', 'CUSTODIAN_MISSING_FIELD'],
      [{ mode: 'strict', events: [] }, 'mode', 'CUSTODIAN_INVALID_FIELD'],
      [{ mode: 'block', events: [], extra: true }, 'extra', 'CUSTODIAN_INVALID_FIELD'],
      [{ mode: 'block', events: [{ event: 'A' }, { event: 'B', properties: { price: { type: 'float' } } }] }, 'events[1].properties.price.type', 'CUSTODIAN_INVALID_FIELD'],
      [{ mode: 'block', events: [{ event: 'A', properties: { price: { type: 'number', requird: true } } }] }, 'events[0].properties.price.requird', 'CUSTODIAN_INVALID_FIELD'],
      [{ mode: 'block', events: [{ event: 'A' }, { event: 'A' }] }, 'events[1].event', 'CUSTODIAN_INVALID_FIELD'],
      [{ mode: 'block', events: [{ event: 'Made Up', fromCatalog: true }] }, 'events[0].event', 'CUSTODIAN_INVALID_FIELD'],
      [{ mode: 'block', events: [], traits: { age: 'number' } }, 'traits.age', 'CUSTODIAN_INVALID_FIELD'],
      [[1, 2], 'body', 'CUSTODIAN_INVALID_FIELD'],
    ])('refuses %j naming %s', async (plan, field, code) => {
      const res = await api('PUT', '/api/sources/default/tracking-plan', plan);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ success: false, code, field });
      expect(res.json().message).toContain(field);
    });

    it('refuses a source id that cannot be a source name', async () => {
      const res = await api('PUT', '/api/sources/Not%20A%20Name/tracking-plan', { mode: 'allow', events: [] });
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('id');
    });

    it('stores, reads back and removes a plan', async () => {
      await source('plan-crud');
      expect((await api('GET', '/api/sources/plan-crud/tracking-plan')).json()).toMatchObject({ code: 'CUSTODIAN_NOT_FOUND', message: 'source plan-crud has no tracking plan' });
      const put = await api('PUT', '/api/sources/plan-crud/tracking-plan', signUpPlan('block'));
      expect(put.statusCode).toBe(200);
      expect(put.json()).toMatchObject({ sourceId: 'plan-crud', plan: signUpPlan('block') });
      expect(Date.parse(put.json().updatedAt)).toBeGreaterThan(Date.now() - 60_000);
      const got = await api('GET', '/api/sources/plan-crud/tracking-plan');
      expect(got.json()).toEqual(put.json());
      expect((await api('DELETE', '/api/sources/plan-crud/tracking-plan')).json()).toEqual({ sourceId: 'plan-crud', removed: true });
      expect((await api('DELETE', '/api/sources/plan-crud/tracking-plan')).json()).toEqual({ sourceId: 'plan-crud', removed: false });
      expect((await api('GET', '/api/sources/plan-crud/tracking-plan')).statusCode).toBe(404);
    });

    it('creates the source of a plan for a source not seen yet (an import-only source)', async () => {
      expect((await api('PUT', '/api/sources/plan-new-source/tracking-plan', { mode: 'allow', events: [] })).statusCode).toBe(200);
      const rows = await t.database.db.selectFrom('sources').select(['id', 'write_key_hash']).where('id', '=', 'plan-new-source').execute();
      expect(rows).toEqual([{ id: 'plan-new-source', write_key_hash: null }]);
    });

    it('answers 404 for a source that does not exist', async () => {
      expect((await api('GET', '/api/sources/nowhere/tracking-plan')).json()).toMatchObject({ code: 'CUSTODIAN_NOT_FOUND', message: 'no source nowhere', field: 'id' });
      expect((await api('GET', '/api/sources/nowhere/violations')).statusCode).toBe(404);
      expect((await api('DELETE', '/api/sources/nowhere/tracking-plan')).statusCode).toBe(404);
    });

    it('needs an API token; a write key is not one', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/sources/default/violations', headers: { authorization: 'Basic ' + Buffer.from('wk_test_write_key:').toString('base64') } });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('mode allow', () => {
    it('accepts messages as sent and counts each violation per message', async () => {
      const send = await source('allow-src', signUpPlan('allow'));
      for (let i = 0; i < 3; i++) {
        const res = await send('/v1/track', { userId: 'a1', event: 'Signed Up', messageId: `allow-${i}`, properties: { method: 5, coupon: 'SPRING' } });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ accepted: 1, rejected: [], warnings: [] });
      }
      await send('/v1/track', { userId: 'a1', event: 'Checkout Step', messageId: 'allow-x', properties: { step: 2 } });
      expect((await stored('allow-src')).map((m) => m.properties)).toEqual([...Array(3).fill({ method: 5, coupon: 'SPRING' }), { step: 2 }]);

      const list = await violations('allow-src');
      expect(list).toMatchObject({ mode: 'allow', total: 7, distinct: 3 });
      expect(row(list, 'Signed Up', 'method', 'wrong_type')).toMatchObject({ count: 3, exampleMessageId: 'allow-2' });
      expect(row(list, 'Signed Up', 'coupon', 'undeclared_property')).toMatchObject({ count: 3 });
      expect(row(list, 'Checkout Step', null, 'undeclared_event')).toMatchObject({ count: 1, exampleMessageId: 'allow-x' });
      expect(list.violations[0]!.count).toBe(3);
      expect(Date.parse(list.violations[0]!.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(list.violations[0]!.firstSeenAt));
    });

    it('does not count a retried message twice', async () => {
      const send = await source('allow-retry', signUpPlan('allow'));
      const message = { userId: 'r1', event: 'Signed Up', messageId: 'retry-1', properties: { method: 'email', coupon: 'X' } };
      await send('/v1/track', message);
      const again = await send('/v1/track', message);
      expect(again.json()).toMatchObject({ accepted: 1, duplicates: 1 });
      expect(row(await violations('allow-retry'), 'Signed Up', 'coupon', 'undeclared_property')!.count).toBe(1);
    });

    it('records identify traits that are undeclared or of the wrong type, keeping them', async () => {
      const send = await source('allow-traits', signUpPlan('allow'));
      const res = await send('/v1/identify', { userId: 'a2', messageId: 'allow-id-1', traits: { city: 'Lyon', birth_year: '1990', shoe_size: 42 } });
      expect(res.json().warnings).toEqual([]);
      expect((await stored('allow-traits'))[0]!.traits).toEqual({ city: 'Lyon', birth_year: '1990', shoe_size: 42 });
      const list = await violations('allow-traits');
      expect(row(list, 'identify', 'birth_year', 'wrong_type')?.count).toBe(1);
      expect(row(list, 'identify', 'shoe_size', 'undeclared_property')?.count).toBe(1);
    });

    it('/v1/batch: accepts every valid item as sent', async () => {
      const send = await source('allow-batch', signUpPlan('allow'));
      const res = await send('/v1/batch', {
        batch: [
          { type: 'track', userId: 'a3', event: 'Unplanned', messageId: 'ab-0', properties: { x: 1 } },
          { type: 'identify', userId: 'a3', messageId: 'ab-1', traits: { hobby: 'chess' } },
          { type: 'track', userId: 'a3', event: 'Signed Up', messageId: 'ab-2', properties: { method: 'email', y: 2 } },
        ],
      });
      expect(res.json()).toMatchObject({ accepted: 3, rejected: [], warnings: [] });
      expect((await stored('allow-batch')).map((m) => m.properties ?? m.traits)).toEqual([{ x: 1 }, { hobby: 'chess' }, { method: 'email', y: 2 }]);
      expect((await violations('allow-batch')).total).toBe(3);
    });

    it('filters the listing by event and kind, and limits it', async () => {
      expect((await violations('allow-src', '?kind=undeclared_event')).violations.map((v) => v.event)).toEqual(['Checkout Step']);
      expect((await violations('allow-src', '?event=Signed%20Up')).violations).toHaveLength(2);
      expect((await violations('allow-src', '?limit=1')).violations).toHaveLength(1);
      expect((await api('GET', '/api/sources/allow-src/violations?kind=bad')).json().field).toBe('kind');
    });
  });

  describe('mode drop-properties', () => {
    it('/v1/track: stores the message without its undeclared properties, with a warning each', async () => {
      const send = await source('drop-src', signUpPlan('drop-properties'));
      const res = await send('/v1/track', { userId: 'd1', event: 'Signed Up', messageId: 'drop-1', properties: { method: 'phone', coupon: 'X', referrer_email: 'friend@example.com' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().warnings).toEqual([
        { index: 0, field: 'properties.coupon', reason: 'dropped_by_tracking_plan', message: "properties.coupon is not declared in this source's tracking plan: removed" },
        expect.objectContaining({ index: 0, field: 'properties.referrer_email', reason: 'dropped_by_tracking_plan' }),
      ]);
      expect((await stored('drop-src'))[0]!.properties).toEqual({ method: 'phone' });
    });

    it('/v1/track: keeps catalogue properties of a catalogue event and checks them', async () => {
      const send = await source('drop-order', signUpPlan('drop-properties'));
      const properties = { order_id: 'o-9', revenue: '12', currency: 'CNY', items: [{ product_id: 'p', category: 'Tea', price: 12, quantity: 1 }], gift_wrap: true, internal_note: 'x' };
      const res = await send('/v1/track', { userId: 'd2', event: 'Order Completed', messageId: 'drop-order-1', properties });
      expect(res.json().warnings.map((w: { field: string }) => w.field)).toEqual(['properties.internal_note']);
      const { internal_note: _dropped, ...kept } = properties;
      expect((await stored('drop-order'))[0]!.properties).toEqual(kept);
      const list = await violations('drop-order');
      expect(row(list, 'Order Completed', 'revenue', 'wrong_type')?.count).toBe(1);
      expect(row(list, 'Order Completed', 'internal_note', 'undeclared_property')?.count).toBe(1);
    });

    it('/v1/identify: strips undeclared traits', async () => {
      const send = await source('drop-traits', signUpPlan('drop-properties'));
      const res = await send('/v1/identify', { userId: 'd3', messageId: 'drop-id-1', traits: { city: 'Lyon', religion: 'x', birth_year: 1990 } });
      expect(res.json().warnings).toEqual([expect.objectContaining({ field: 'traits.religion', reason: 'dropped_by_tracking_plan' })]);
      expect((await stored('drop-traits'))[0]!.traits).toEqual({ city: 'Lyon', birth_year: 1990 });
    });

    it('/v1/batch: strips per item and keeps the warnings in item order', async () => {
      const send = await source('drop-batch', signUpPlan('drop-properties'));
      const res = await send('/v1/batch', {
        batch: [
          { type: 'track', userId: 'd4', event: 'Signed Up', messageId: 'db-0', properties: { method: 'email', a: 1 } },
          { type: 'track', userId: 'd4', messageId: 'db-1' },
          { type: 'identify', userId: 'd4', messageId: 'db-2', traits: { city: 'Oslo', b: 2 } },
          { type: 'track', userId: 'd4', event: 'Unplanned', messageId: 'db-3', properties: { c: 3 } },
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ accepted: 3, rejected: [expect.objectContaining({ index: 1, reason: 'missing_field' })] });
      expect(res.json().warnings.map((w: { index: number; field: string }) => `${w.index}:${w.field}`)).toEqual(['0:properties.a', '2:traits.b']);
      expect((await stored('drop-batch')).map((m) => m.properties ?? m.traits)).toEqual([{ method: 'email' }, { city: 'Oslo' }, { c: 3 }]);
    });

    it('sums up warnings past twenty for one message', async () => {
      const send = await source('drop-many', signUpPlan('drop-properties'));
      const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, i]));
      const res = await send('/v1/track', { userId: 'd5', event: 'Signed Up', properties: { method: 'email', ...extra } });
      const warnings = res.json().warnings as Array<{ field: string; message: string }>;
      expect(warnings).toHaveLength(21);
      expect(warnings[20]).toMatchObject({ field: 'properties', message: '10 more undeclared properties removed' });
    });
  });

  describe('mode block', () => {
    it('/v1/track: refuses an undeclared event with a clear 400 and stores nothing', async () => {
      const send = await source('block-src', signUpPlan('block'));
      const res = await send('/v1/track', { userId: 'b1', event: 'Checkout Step', messageId: 'block-1', properties: { step: 1 } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        success: false,
        code: 'CUSTODIAN_BLOCKED_BY_TRACKING_PLAN',
        reason: 'blocked_by_tracking_plan',
        field: 'event',
        message: `event "Checkout Step" is not declared in this source's tracking plan, which blocks undeclared events`,
      });
      expect(await stored('block-src')).toEqual([]);
      expect(row(await violations('block-src'), 'Checkout Step', null, 'undeclared_event')?.count).toBe(1);
    });

    it('/v1/track: accepts a declared event, stripping what is undeclared', async () => {
      const send = await source('block-ok', signUpPlan('block'));
      const res = await send('/v1/track', { userId: 'b2', event: 'Signed Up', properties: { method: 'wechat', campaign: 'x' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().warnings).toEqual([expect.objectContaining({ field: 'properties.campaign' })]);
      expect((await stored('block-ok'))[0]!.properties).toEqual({ method: 'wechat' });
    });

    it('/v1/page: refuses page calls unless Page Viewed is declared', async () => {
      const send = await source('block-page', signUpPlan('block'));
      const res = await send('/v1/page', { anonymousId: 'b3', name: 'Home' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_BLOCKED_BY_TRACKING_PLAN', field: 'type' });
      expect(res.json().message).toContain('Page Viewed');
    });

    it('/v1/identify: never blocked, undeclared traits stripped', async () => {
      const send = await source('block-id', signUpPlan('block'));
      const res = await send('/v1/identify', { userId: 'b4', traits: { city: 'Rome', mood: 'ok' } });
      expect(res.statusCode).toBe(200);
      expect((await stored('block-id'))[0]!.traits).toEqual({ city: 'Rome' });
    });

    it('/v1/batch: refuses the undeclared items by index and accepts the rest', async () => {
      const send = await source('block-batch', signUpPlan('block'));
      const res = await send('/v1/batch', {
        batch: [
          { type: 'track', userId: 'b5', event: 'Signed Up', messageId: 'bb-0', properties: { method: 'email' } },
          { type: 'track', userId: 'b5', event: 'Unplanned', messageId: 'bb-1' },
          { type: 'track', userId: 'b5', messageId: 'bb-2' },
          { type: 'page', userId: 'b5', messageId: 'bb-3' },
          { type: 'track', userId: 'b5', event: 'Order Completed', messageId: 'bb-4', properties: { order_id: 1, revenue: 3 } },
        ],
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ accepted: 2, messageIds: ['bb-0', 'bb-4'] });
      expect(body.rejected).toEqual([
        { index: 1, code: 'CUSTODIAN_BLOCKED_BY_TRACKING_PLAN', reason: 'blocked_by_tracking_plan', field: 'event', message: expect.stringContaining('"Unplanned"') },
        expect.objectContaining({ index: 2, reason: 'missing_field', field: 'event' }),
        expect.objectContaining({ index: 3, code: 'CUSTODIAN_BLOCKED_BY_TRACKING_PLAN', field: 'type' }),
      ]);
      expect((await stored('block-batch')).map((m) => m.messageId)).toEqual(['bb-0', 'bb-4']);
      const list = await violations('block-batch');
      expect(row(list, 'Unplanned', null, 'undeclared_event')?.count).toBe(1);
      expect(row(list, 'Page Viewed', null, 'undeclared_event')?.count).toBe(1);
    });

    it('/v1/batch: when every item is refused, 400 naming the first, with all of them', async () => {
      const send = await source('block-all', signUpPlan('block'));
      const res = await send('/v1/batch', { batch: [{ type: 'track', userId: 'b6', event: 'Nope' }, { type: 'track', userId: 'b6' }, { type: 'track', userId: 'b6', event: 'Nope Again' }] });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_BLOCKED_BY_TRACKING_PLAN', field: 'batch[0].event' });
      expect(res.json().rejected.map((r: { index: number; reason: string }) => `${r.index}:${r.reason}`)).toEqual(['0:blocked_by_tracking_plan', '1:missing_field', '2:blocked_by_tracking_plan']);
      expect((await violations('block-all')).total).toBe(2);
    });

    it('counts refusals in /metrics', async () => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/custodian_messages_rejected_total\{reason="blocked_by_tracking_plan"\} [1-9]/);
    });
  });

  describe('plans per source', () => {
    it('a plan governs its own source only', async () => {
      await source('other-blocked', { mode: 'block', events: [] });
      const res = await t.send('/v1/track', { userId: 'p1', event: 'Anything At All' });
      expect(res.statusCode).toBe(200);
    });

    it('a change takes effect at once on the server that took it', async () => {
      const send = await source('switch-src', { mode: 'allow', events: [] });
      expect((await send('/v1/track', { userId: 's1', event: 'Free' })).statusCode).toBe(200);
      await api('PUT', '/api/sources/switch-src/tracking-plan', { mode: 'block', events: [] });
      expect((await send('/v1/track', { userId: 's1', event: 'Free' })).statusCode).toBe(400);
      await api('DELETE', '/api/sources/switch-src/tracking-plan');
      expect((await send('/v1/track', { userId: 's1', event: 'Free' })).statusCode).toBe(200);
    });

    it('and within the cache time on every other server', async () => {
      await source('cache-src');
      const reader = createTrackingPlans(t.database, { cacheMs: 300 });
      const writer = createTrackingPlans(t.database, { cacheMs: 300 });
      expect(await reader.forSource('default', 'cache-src')).toBeNull();
      await writer.put('default', 'cache-src', { mode: 'block', events: [] });
      expect(await reader.forSource('default', 'cache-src')).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(await reader.forSource('default', 'cache-src')).toEqual({ mode: 'block', events: [] });
    });
  });

  describe('violation counts', () => {
    it('concurrent requests and concurrent record calls are all counted', async () => {
      const send = await source('count-src', signUpPlan('allow'));
      const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => send('/v1/track', { userId: 'c1', event: 'Signed Up', messageId: `count-${i}`, properties: { method: 'email', extra: i } })));
      expect(responses.every((r) => r.statusCode === 200)).toBe(true);
      expect(row(await violations('count-src'), 'Signed Up', 'extra', 'undeclared_property')?.count).toBe(12);

      const plans = createTrackingPlans(t.database);
      const one = (i: number): PlanViolation[] => [
        { event: 'E', property: 'p', kind: 'undeclared_property', messageId: `rec-${i}` },
        { event: 'E', property: null, kind: 'undeclared_event', messageId: `rec-${i}` },
      ];
      await Promise.all(Array.from({ length: 25 }, (_, i) => plans.record('default', 'count-src', one(i))));
      const list = await violations('count-src');
      expect(row(list, 'E', 'p', 'undeclared_property')?.count).toBe(25);
      expect(row(list, 'E', null, 'undeclared_event')?.count).toBe(25);
    });

    it('never stores a property value; names that look like personal data are withheld', async () => {
      const send = await source('pii-src', signUpPlan('allow'));
      await send('/v1/batch', {
        batch: [
          { type: 'track', userId: 'v1', event: 'Signed Up', properties: { method: 'value-secret-1', trial_days: 'value-secret-2', notes: 'value-secret-3', 'ada@example.com': true, '+86 138 0013 8000': 'value-secret-4' } },
          { type: 'identify', userId: 'v1', traits: { city: 42, national_id: 'value-secret-5' } },
          { type: 'track', userId: 'v1', event: 'Order Completed', properties: { order_id: 'value-secret-6', revenue: 'value-secret-7', items: [{ product_id: 'value-secret-8', price: 'value-secret-9' }] } },
          { type: 'track', userId: 'v1', event: 'Mailed zhang.wei@example.cn' },
        ],
      });
      const rows = await t.database.db.selectFrom('tracking_plan_violations').selectAll().where('source_id', '=', 'pii-src').execute();
      expect(rows.length).toBeGreaterThanOrEqual(8);
      const text = JSON.stringify(rows);
      expect(text).not.toMatch(/value-secret|@example|138 0013|8000/);
      // Both withheld names of the message fall in one row: one (event, property, kind).
      expect(rows.filter((r) => r.property === WITHHELD_NAME).map((r) => [r.event, r.kind, Number(r.count)])).toEqual([['Signed Up', 'undeclared_property', 1]]);
      expect(rows.some((r) => r.event === WITHHELD_NAME && r.kind === 'undeclared_event')).toBe(true);
      expect(rows.map((r) => `${r.event}|${r.property}|${r.kind}`)).toEqual(expect.arrayContaining([
        'Signed Up|trial_days|wrong_type', 'Signed Up|notes|undeclared_property', 'identify|city|wrong_type', 'identify|national_id|undeclared_property',
        'Order Completed|revenue|wrong_type', 'Order Completed|items[].price|wrong_type',
      ]));
    });
  });
});
