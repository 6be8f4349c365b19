import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature } from '../src/collect/webhook-api.js';
import { ADMIN_TOKEN, startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/** A survey tool's "response submitted" webhook. */
const surveyBody = (overrides: { responseId?: string; respondent?: Record<string, unknown> | null; score?: unknown; submittedAt?: string } = {}) => ({
  event_type: 'response.completed',
  response_id: overrides.responseId ?? 'r-1001',
  submitted_at: overrides.submittedAt ?? '2026-03-01T10:00:00Z',
  survey: { id: 'nps-q1', title: 'Q1 NPS' },
  respondent: overrides.respondent === null ? undefined : (overrides.respondent ?? { id: 'ada-42', email: 'Ada.Lovelace@Example.com', name: 'Ada Lovelace', city: 'London' }),
  answers: [
    { question: 'How likely are you to recommend us?', score: overrides.score ?? 9 },
    { question: 'Why?', text: 'Great support' },
  ],
});

const surveyMapping = {
  messages: [
    {
      type: 'identify',
      when: '$.respondent.email',
      fields: {
        userId: '$.respondent.id',
        'traits.email': '$.respondent.email',
        'traits.name': '$.respondent.name',
        'traits.city': '$.respondent.city',
        timestamp: '$.submitted_at',
      },
    },
    {
      type: 'track',
      fields: {
        userId: { path: '$.respondent.id', required: true },
        event: 'Survey Responded',
        'properties.survey_id': '$.survey.id',
        'properties.nps': '$.answers[0].score',
        'properties.comment': '$.answers[1].text',
        timestamp: '$.submitted_at',
      },
    },
  ],
};

describe.each(backends)('webhooks on $name', (backend) => {
  let t: TestApp;
  let secret: string;
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

  const put = (source: string, mapping: unknown, query = '') =>
    t.app.inject({ method: 'PUT', url: `/api/sources/${source}/webhook-mapping${query}`, headers: bearer, payload: mapping as Record<string, unknown> });
  const hook = (source: string, body: unknown, options: { query?: string; headers?: Record<string, string> } = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/webhook/${source}${options.query ?? ''}`,
      headers: { 'content-type': 'application/json', ...options.headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const logCount = async (source: string) =>
    Number((await t.database.db.selectFrom('event_log').select((eb) => eb.fn.countAll<string>().as('n')).where('source_id', '=', source).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    t = await startTestApp(backend, { blocklist: ['guest'] });
    const res = await put('surveys', surveyMapping);
    expect(res.statusCode).toBe(200);
    secret = res.json().secret;
  });
  afterAll(async () => t?.close());

  describe('managing a mapping', () => {
    it.each([
      ['a track without event', { messages: [{ type: 'track', fields: { userId: '$.id' } }] }, 'messages[0].fields["event"]', /track message needs an event name/],
      ['an unknown target', { messages: [{ type: 'identify', fields: { userId: '$.id', 'trait.email': '$.email' } }] }, 'messages[0].fields["trait.email"]', /is not a message field/],
      ['a broken path', { messages: [{ type: 'identify', fields: { userId: '$.answers[0' } }] }, 'messages[0].fields["userId"]', /\$\.answers\[0/],
      ['an unknown type', { messages: [{ type: 'flush', fields: { userId: '$.id' } }] }, 'messages[0].type', /one of identify, track/],
      ['no ids', { messages: [{ type: 'identify', fields: { 'traits.email': '$.email' } }] }, 'messages[0].fields["userId"]', /userId or anonymousId/],
      ['an element path without forEach', { messages: [{ type: 'identify', fields: { userId: '@.id' } }] }, 'messages[0].fields["userId"]', /no forEach/],
      ['no messages', { messages: [] }, 'messages', /non-empty array/],
      ['a prototype key', { messages: [{ type: 'identify', fields: { userId: '$.id', 'traits.__proto__': '$.x' } }] }, 'messages[0].fields["traits.__proto__"]', /cannot set __proto__/],
    ])('refuses %s with 400 naming the field', async (_label, mapping, field, message) => {
      const res = await put('broken', mapping);
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body).toMatchObject({ code: 'CUSTODIAN_INVALID_FIELD', field });
      expect(body.message).toMatch(message);
      expect(body.issues[0]).toMatchObject({ field });
    });

    it('lists every problem of a mapping at once', async () => {
      const res = await put('broken', { messages: [{ type: 'track', fields: { userId: '$.id[' } }, { type: 'nope' }] });
      expect(res.statusCode).toBe(400);
      expect(res.json().issues.map((i: { field: string }) => i.field)).toEqual(['messages[0].fields["userId"]', 'messages[0].fields["event"]', 'messages[1].type']);
    });

    it('an invalid mapping does not create the source', async () => {
      expect(await t.database.db.selectFrom('sources').select('id').where('id', '=', 'broken').executeTakeFirst()).toBeUndefined();
    });

    it('the secret is shown once; GET shows the mapping without it', async () => {
      expect(secret).toMatch(/^whsec_/);
      const res = await t.get('/api/sources/surveys/webhook-mapping');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ sourceId: 'surveys', mapping: surveyMapping, webhookUrl: '/v1/webhook/surveys', hasSecret: true });
      expect(res.json().secret).toBeUndefined();
      const again = await put('surveys', surveyMapping);
      expect(again.statusCode).toBe(200);
      expect(again.json().secret).toBeUndefined();
    });

    it('GET of a source without a mapping is 404; management needs a bearer token', async () => {
      expect((await t.get('/api/sources/nothing-here/webhook-mapping')).statusCode).toBe(404);
      const res = await t.app.inject({ method: 'PUT', url: '/api/sources/x/webhook-mapping', payload: surveyMapping });
      expect(res.statusCode).toBe(401);
    });

    it('refuses a source id that is not a plain name', async () => {
      const res = await put('Bad%20Name', surveyMapping);
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('id');
    });
  });

  describe('receiving', () => {
    it('a survey response becomes a profile with traits and a Survey Responded event', async () => {
      const res = await hook('surveys', surveyBody(), { query: `?token=${secret}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, accepted: 2, duplicates: 0 });
      // 2xx means durable: both messages are in the event log before the answer.
      expect(await logCount('surveys')).toBe(2);
      await t.drain();
      const found = (await t.get('/api/profiles?email=ada.lovelace@example.com')).json().profiles;
      expect(found).toHaveLength(1);
      const profile = (await t.get(`/api/profiles/${found[0].id}`)).json();
      expect(profile.traits).toMatchObject({ email: 'ada.lovelace@example.com', name: 'Ada Lovelace', city: 'London' });
      expect(profile.records).toEqual([{ source: 'surveys', id: 'ada-42' }]);
      const track = profile.recentEvents.find((e: { type: string }) => e.type === 'track');
      expect(track).toMatchObject({ event: 'Survey Responded', source: 'surveys', userId: 'ada-42', timestamp: '2026-03-01T10:00:00.000Z' });
      expect(track.properties).toMatchObject({ survey_id: 'nps-q1', nps: 9, comment: 'Great support' });
    });

    it('a webhook retried by its sender is stored once, whatever its key order', async () => {
      const body = surveyBody({ responseId: 'r-retry', respondent: { id: 'retry-1', email: 'retry@example.com' } });
      const first = await hook('surveys', body, { query: `?token=${secret}` });
      expect(first.json()).toMatchObject({ accepted: 2, duplicates: 0 });
      const before = await logCount('surveys');
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      for (const payload of [body, reordered]) {
        const again = await hook('surveys', payload, { query: `?token=${secret}` });
        expect(again.statusCode).toBe(200);
        expect(again.json()).toMatchObject({ accepted: 2, duplicates: 2 });
        expect(again.json().messageIds).toEqual(first.json().messageIds);
      }
      expect(await logCount('surveys')).toBe(before);
    });

    it('a mapped deliveryId de-duplicates deliveries whose bodies differ (a retry counter)', async () => {
      const mapping = { deliveryId: '$.delivery.id', messages: [{ type: 'track', fields: { anonymousId: '$.visitor', event: 'Form Submitted' } }] };
      const created = await put('forms', mapping);
      const token = created.json().secret;
      const a = await hook('forms', { delivery: { id: 'd-1', attempt: 1 }, visitor: 'v-1' }, { query: `?token=${token}` });
      const b = await hook('forms', { delivery: { id: 'd-1', attempt: 2 }, visitor: 'v-1' }, { query: `?token=${token}` });
      expect(a.json().duplicates).toBe(0);
      expect(b.json()).toMatchObject({ accepted: 1, duplicates: 1, messageIds: a.json().messageIds });
    });

    it('fans out items[*] to one message per element', async () => {
      const mapping = {
        messages: [
          { type: 'track', forEach: '$.order.items[*]', fields: { userId: '$.customer', event: 'Product Purchased', 'properties.sku': '@.sku', 'properties.quantity': '@.qty', 'properties.order_id': '$.order.id' } },
        ],
      };
      const token = (await put('shop', mapping)).json().secret;
      const body = { customer: 'c-7', order: { id: 'o-1', items: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 2 }, { sku: 'C', qty: 3 }] } };
      const res = await hook('shop', body, { query: `?token=${token}` });
      expect(res.statusCode).toBe(200);
      expect(res.json().accepted).toBe(3);
      expect(new Set(res.json().messageIds).size).toBe(3);
      await t.drain();
      const profile = (await t.get('/api/profiles?userId=c-7')).json().profiles[0];
      const events = (await t.get(`/api/profiles/${profile.id}/events`)).json().events;
      expect(events.map((e: { properties: { sku: string } }) => e.properties.sku).sort()).toEqual(['A', 'B', 'C']);
      expect(events[0].properties.order_id).toBe('o-1');
    });

    it('accepts the write key of the source (HTTP Basic) and an HMAC signature', async () => {
      expect((await put('default', { messages: [{ type: 'identify', fields: { userId: '$.user', 'traits.plan': '$.plan' } }] })).statusCode).toBe(200);
      const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
      const res = await hook('default', { user: 'basic-1', plan: 'pro' }, { headers: { authorization: basic } });
      expect(res.statusCode).toBe(200);

      const raw = JSON.stringify(surveyBody({ responseId: 'r-signed', respondent: { id: 'signed-1', email: 'signed@example.com' } }));
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signed = await hook('surveys', raw, { headers: { 'x-custodian-timestamp': timestamp, 'x-custodian-signature': webhookSignature(secret, timestamp, raw) } });
      expect(signed.statusCode).toBe(200);
      expect(signed.json().accepted).toBe(2);
    });

    it.each([
      ['no credential', {}, 'authorization'],
      ['a wrong token', { query: '?token=whsec_wrong' }, 'token'],
      ['another source’s write key', { headers: { authorization: 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64') } }, 'authorization'],
      ['a wrong write key', { headers: { authorization: 'Basic ' + Buffer.from('nope:').toString('base64') } }, 'authorization'],
      ['a bad signature', { headers: { 'x-custodian-timestamp': String(Math.floor(Date.now() / 1000)), 'x-custodian-signature': 'sha256=00' } }, 'x-custodian-signature'],
      ['a signature without timestamp', { headers: { 'x-custodian-signature': 'sha256=00' } }, 'x-custodian-timestamp'],
    ])('refuses %s with 401', async (_label, options, field) => {
      const before = await logCount('surveys');
      const res = await hook('surveys', surveyBody({ responseId: 'r-unauth' }), options);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_UNAUTHORIZED', field });
      expect(await logCount('surveys')).toBe(before);
    });

    it('refuses a correctly signed but stale request (replay)', async () => {
      const raw = JSON.stringify(surveyBody({ responseId: 'r-stale' }));
      const timestamp = String(Math.floor(Date.now() / 1000) - 3600);
      const res = await hook('surveys', raw, { headers: { 'x-custodian-timestamp': timestamp, 'x-custodian-signature': webhookSignature(secret, timestamp, raw) } });
      expect(res.statusCode).toBe(401);
      expect(res.json().field).toBe('x-custodian-timestamp');
    });

    it('a rotated secret replaces the old one', async () => {
      const created = await put('rotating', { messages: [{ type: 'identify', fields: { userId: '$.id' } }] });
      const old = created.json().secret;
      const rotated = await put('rotating', { messages: [{ type: 'identify', fields: { userId: '$.id' } }] }, '?rotateSecret=true');
      const fresh = rotated.json().secret;
      expect(fresh).toMatch(/^whsec_/);
      expect(fresh).not.toBe(old);
      expect((await hook('rotating', { id: 'r1' }, { query: `?token=${old}` })).statusCode).toBe(401);
      expect((await hook('rotating', { id: 'r1' }, { query: `?token=${fresh}` })).statusCode).toBe(200);
    });

    it.each([
      ['a required path that is absent', surveyBody({ responseId: 'r-anon', respondent: null }), '$.respondent.id', /\$\.respondent\.id is required for userId/],
      ['an id that is an object', surveyBody({ responseId: 'r-obj', respondent: { id: { nested: true }, email: 'x@example.com' } }), '$.respondent.id', /\$\.respondent\.id/],
      ['a date that is not a date', surveyBody({ responseId: 'r-date', submittedAt: 'yesterday' }), '$.submitted_at', /timestamp is not a valid ISO-8601/],
    ])('a body the mapping cannot use (%s) → 400 naming the path', async (_label, body, field, message) => {
      const before = await logCount('surveys');
      const res = await hook('surveys', body, { query: `?token=${secret}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ success: false, field });
      expect(res.json().message).toMatch(message);
      // All or nothing: the identify a valid part would have made is not stored either.
      expect(await logCount('surveys')).toBe(before);
    });

    it('a body that is not JSON → 400, not 500', async () => {
      const res = await hook('surveys', 'respondent=ada', { query: `?token=${secret}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_INVALID_JSON', field: 'body' });
      const empty = await hook('surveys', '', { query: `?token=${secret}` });
      expect(empty.statusCode).toBe(400);
      const scalar = await hook('surveys', '42', { query: `?token=${secret}` });
      expect(scalar.statusCode).toBe(400);
      expect(scalar.json().field).toBe('$.respondent.id');
    });

    it('junk ids are dropped with a warning, as on /v1', async () => {
      const res = await hook('surveys', surveyBody({ responseId: 'r-junk', respondent: { id: 'guest', email: 'junk@example.com' } }), { query: `?token=${secret}` });
      expect(res.statusCode).toBe(200);
      expect(res.json().warnings).toContainEqual(expect.objectContaining({ field: 'userId', reason: 'junk_identifier' }));
    });

    it('a body over 500 KB → 400 naming the limit', async () => {
      const res = await hook('surveys', { pad: 'x'.repeat(600 * 1024) }, { query: `?token=${secret}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ reason: 'batch_too_large' });
      expect(res.json().message).toMatch(/500 KB/);
    });
  });

  it('never answers 5xx, whatever JSON a sender posts', async () => {
    const fanOut = await put('fuzz', { deliveryId: '$.id', messages: [{ type: 'track', forEach: '$.items[*]', when: '@.sku', fields: { userId: { path: ['$.user.id', '$.user'] }, anonymousId: '$.anon', event: { path: '$.kind', default: 'Fuzzed' }, properties: '$.props', 'properties.sku': '@.sku', timestamp: '$.at', messageId: '@.id' } }] });
    const fuzzSecret = fanOut.json().secret;
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ id: fc.jsonValue(), user: fc.oneof(fc.jsonValue(), fc.record({ id: fc.jsonValue() })), anon: fc.jsonValue(), kind: fc.jsonValue(), props: fc.jsonValue(), at: fc.oneof(fc.jsonValue(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), items: fc.oneof(fc.jsonValue(), fc.array(fc.record({ sku: fc.jsonValue(), id: fc.jsonValue() }), { maxLength: 5 })) }, { requiredKeys: [] }),
      fc.record({ respondent: fc.record({ id: fc.jsonValue(), email: fc.jsonValue() }, { requiredKeys: [] }), answers: fc.jsonValue(), submitted_at: fc.jsonValue() }, { requiredKeys: [] }),
    );
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (payload, survey) => {
        const res = await hook(survey ? 'surveys' : 'fuzz', payload, { query: `?token=${survey ? secret : fuzzSecret}` });
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        expect([200, 400]).toContain(res.statusCode);
        if (res.statusCode === 400) expect(res.json().field).toEqual(expect.any(String));
      }),
      { numRuns: 150 },
    );
    expect(statuses[400]).toBeGreaterThan(0);
    expect(statuses[200]).toBeGreaterThan(0);
  });

  describe('dry run', () => {
    const test = (source: string, payload: unknown) => t.app.inject({ method: 'POST', url: `/api/sources/${source}/webhook-mapping/test`, headers: bearer, payload: payload as Record<string, unknown> });

    it('shows the messages a sample would produce, and stores nothing', async () => {
      const before = await logCount('surveys');
      const res = await test('surveys', { sample: surveyBody({ responseId: 'r-dry' }) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.ok).toBe(true);
      expect(body.messages).toHaveLength(2);
      expect(body.messages[0]).toMatchObject({ type: 'identify', userId: 'ada-42', traits: { email: 'Ada.Lovelace@Example.com' }, timestamp: '2026-03-01T10:00:00.000Z' });
      expect(body.messages[1]).toMatchObject({ type: 'track', event: 'Survey Responded', properties: { nps: 9, survey_id: 'nps-q1' } });
      expect(body.messages[0].messageId).toMatch(/^wh-surveys-/);
      expect(await logCount('surveys')).toBe(before);
    });

    it('says why a sample does not map, naming the path', async () => {
      const res = await test('surveys', { sample: surveyBody({ respondent: null }) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ ok: false, messages: [], error: { code: 'CUSTODIAN_MISSING_FIELD', field: '$.respondent.id' } });
    });

    it('tries a mapping that is not saved yet, and checks it', async () => {
      const ok = await test('not-yet', { sample: { who: 'w-1' }, mapping: { messages: [{ type: 'page', fields: { anonymousId: '$.who', name: 'Landing' } }] } });
      expect(ok.json()).toMatchObject({ ok: true, messages: [{ type: 'page', anonymousId: 'w-1', name: 'Landing' }] });
      const bad = await test('not-yet', { sample: {}, mapping: { messages: [{ type: 'page' }] } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().field).toBe('mapping.messages[0].fields');
      const none = await test('not-yet', { sample: {} });
      expect(none.statusCode).toBe(404);
    });
  });

  describe('tracking plans', () => {
    it('a plan that blocks the mapped event refuses the whole delivery, naming the event', async () => {
      const planned = await put('planned-hooks', surveyMapping);
      expect(planned.statusCode).toBe(200);
      const token = planned.json().secret as string;
      const plan = await t.app.inject({ method: 'PUT', url: '/api/sources/planned-hooks/tracking-plan', headers: bearer, payload: { mode: 'block', events: [{ event: 'Order Completed', fromCatalog: true }] } });
      expect(plan.statusCode, plan.body).toBeLessThan(300);
      const before = await logCount('planned-hooks');
      const res = await hook('planned-hooks', surveyBody({ responseId: 'r-planned' }), { query: `?token=${token}` });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_BLOCKED_BY_TRACKING_PLAN', index: 1 });
      expect(await logCount('planned-hooks')).toBe(before);
    });
  });
});
