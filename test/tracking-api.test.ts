import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

describe.each(backends)('Segment tracking API on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend, { blocklist: ['guest'] });
  });
  afterAll(async () => t?.close());

  const pending = async () =>
    Number((await t.database.db.selectFrom('event_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  describe('auth', () => {
    it('accepts the write key as Basic user name', async () => {
      const res = await t.send('/v1/track', { userId: 'auth-1', event: 'Signed Up' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, accepted: 1 });
    });
    it('accepts writeKey in the body', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/identify', payload: { writeKey: WRITE_KEY, userId: 'auth-2' } });
      expect(res.statusCode).toBe(200);
    });
    it.each([
      ['a wrong key', { authorization: 'Basic ' + Buffer.from('nope:').toString('base64') }],
      ['no key', {}],
      ['an admin bearer token', { authorization: 'Bearer ct_test_admin_token' }],
    ])('refuses %s with 401', async (_label, headers) => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/track', headers: { 'content-type': 'application/json', ...headers }, payload: { userId: 'u', event: 'E' } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_UNAUTHORIZED', field: 'authorization' });
    });
  });

  describe('validation', () => {
    it.each([
      ['/v1/track', { event: 'E' }, 'no_user_anon_id', 'userId'],
      ['/v1/track', { userId: 'u' }, 'missing_field', 'event'],
      ['/v1/group', { userId: 'u' }, 'missing_field', 'groupId'],
      ['/v1/alias', { userId: 'u' }, 'missing_field', 'previousId'],
      ['/v1/identify', { userId: 'u', traits: [1, 2] }, 'invalid_field', 'traits'],
      ['/v1/page', { userId: 'u', timestamp: 'not a date' }, 'invalid_field', 'timestamp'],
    ])('%s %j → 400 %s naming %s', async (path, body, reason, field) => {
      const res = await t.send(path, body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ success: false, reason, field });
      expect(res.json().message).toContain(field);
    });

    it('invalid JSON → 400 invalid_json', async () => {
      const res = await t.send('/v1/track', '{"userId": "u", ');
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_INVALID_JSON', field: 'body' });
    });

    it('a 33 KB event → 400 naming the 32 KB limit', async () => {
      const res = await t.send('/v1/identify', { userId: 'u', traits: { blob: 'x'.repeat(33 * 1024) } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ reason: 'message_too_large' });
      expect(res.json().message).toMatch(/32 KB/);
    });

    it('a batch over 500 KB → 400 naming the limit', async () => {
      const batch = Array.from({ length: 40 }, (_, i) => ({ type: 'track', userId: `u${i}`, event: 'E', properties: { pad: 'y'.repeat(14_000) } }));
      const res = await t.send('/v1/batch', { batch });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ reason: 'batch_too_large' });
      expect(res.json().message).toMatch(/500 KB/);
    });

    it('a batch of 2,501 → 400 naming the count limit', async () => {
      const batch = Array.from({ length: 2501 }, () => ({ type: 'page', userId: 'u' }));
      const res = await t.send('/v1/batch', { batch });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ reason: 'batch_too_many', field: 'batch' });
    });

    it('a batch of exactly 2,500 small messages is accepted', async () => {
      const batch = Array.from({ length: 2500 }, (_, i) => ({ type: 'page', userId: `max-${i % 10}`, messageId: `max-${i}` }));
      const res = await t.send('/v1/batch', { batch });
      expect(res.statusCode).toBe(200);
      expect(res.json().accepted).toBe(2500);
    });
  });

  describe('batch', () => {
    it('accepts the good items and rejects the bad ones by index', async () => {
      const res = await t.send('/v1/batch', {
        batch: [
          { type: 'track', userId: 'b1', event: 'A', messageId: 'batch-ok-1' },
          { type: 'track', userId: 'b1' },
          { type: 'flush', userId: 'b1' },
          { type: 'identify', anonymousId: 'anon-b1', messageId: 'batch-ok-2' },
        ],
      });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.accepted).toBe(2);
      expect(body.messageIds).toEqual(['batch-ok-1', 'batch-ok-2']);
      expect(body.rejected).toEqual([
        expect.objectContaining({ index: 1, reason: 'missing_field', field: 'event' }),
        expect.objectContaining({ index: 2, reason: 'invalid_type', field: 'type' }),
      ]);
    });

    it('a batch where every item is bad → 400 with every rejection', async () => {
      const res = await t.send('/v1/batch', { batch: [{ type: 'track', userId: 'x' }, { type: 'page' }] });
      expect(res.statusCode).toBe(400);
      expect(res.json().rejected).toHaveLength(2);
      expect(res.json().field).toBe('batch[0].event');
    });

    it('merges batch-level context and integrations into each item', async () => {
      await t.send('/v1/batch', {
        context: { library: { name: 'analytics-test' }, ip: '10.0.0.1' },
        integrations: { All: true },
        batch: [{ type: 'track', userId: 'ctx-1', event: 'E', messageId: 'ctx-msg-1', context: { ip: '10.0.0.2' } }],
      });
      await t.drain();
      const profile = (await t.get('/api/profiles?userId=ctx-1')).json().profiles[0];
      const events = (await t.get(`/api/profiles/${profile.id}/events`)).json().events;
      expect(events[0].context).toEqual({ library: { name: 'analytics-test' }, ip: '10.0.0.2' });
    });

    it.each([
      [{}, 'batch'],
      [{ batch: [] }, 'batch'],
      [{ batch: 'x' }, 'batch'],
      [{ batch: [{ type: 'page', userId: 'u' }], context: 5 }, 'context'],
    ])('a malformed batch %j → 400 naming %s', async (body, field) => {
      const res = await t.send('/v1/batch', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe(field);
    });
  });

  describe('durability and de-duplication', () => {
    it('a 2xx means the message is committed in the event log', async () => {
      const before = await pending();
      const res = await t.send('/v1/track', { userId: 'dur-1', event: 'E', messageId: 'dur-msg-1' });
      expect(res.statusCode).toBe(200);
      expect(await pending()).toBe(before + 1);
    });

    it('the same messageId sent twice is stored and processed once', async () => {
      const message = { userId: 'dedup-1', event: 'Clicked', messageId: 'dedup-msg-1' };
      const first = await t.send('/v1/track', message);
      const second = await t.send('/v1/track', message);
      const third = await t.send('/v1/batch', { batch: [{ ...message, type: 'track' }] });
      expect(first.json().duplicates).toBe(0);
      expect(second.json()).toMatchObject({ accepted: 1, duplicates: 1 });
      expect(third.json()).toMatchObject({ accepted: 1, duplicates: 1 });
      await t.drain();
      const rows = await t.database.db.selectFrom('events').select('message_id').where('message_id', '=', 'dedup-msg-1').execute();
      expect(rows).toHaveLength(1);
      const profile = (await t.get('/api/profiles?userId=dedup-1')).json().profiles[0];
      expect((await t.get(`/api/profiles/${profile.id}/events`)).json().total).toBe(1);
    });

    it('computes timestamp from sentAt and originalTimestamp, and keeps a client timestamp', async () => {
      const before = Date.now();
      await t.send('/v1/batch', {
        sentAt: new Date(Date.now() + 3_600_000 + 5_000).toISOString(),
        batch: [
          { type: 'track', userId: 'ts-1', event: 'Skewed', messageId: 'ts-skew', originalTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
          { type: 'track', userId: 'ts-1', event: 'Historical', messageId: 'ts-hist', timestamp: '2019-05-01T10:00:00.000Z' },
        ],
      });
      await t.drain();
      const rows = await t.database.db.selectFrom('events').select(['message_id', 'timestamp']).where('message_id', 'in', ['ts-skew', 'ts-hist']).execute();
      const at = Object.fromEntries(rows.map((r) => [r.message_id, r.timestamp.getTime()]));
      // The client clock ran an hour fast: the event is placed ~5 s before it arrived.
      expect(at['ts-skew']).toBeGreaterThan(before - 6_000);
      expect(at['ts-skew']).toBeLessThan(Date.now() - 4_000);
      expect(new Date(at['ts-hist']!).toISOString()).toBe('2019-05-01T10:00:00.000Z');
    });
  });

  describe('junk identifiers', () => {
    it.each(['', 'null', 'undefined', 'anonymous', '0', '-1', '[object Object]', 'guest'])('%j is accepted but never becomes an identity', async (junk) => {
      const res = await t.send('/v1/identify', { userId: junk, anonymousId: `real-anon-${junk.length}-${junk}`, traits: { email: 'null' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().warnings).toEqual([expect.objectContaining({ field: 'userId', reason: 'junk_identifier' })]);
      await t.drain();
      expect((await t.get(`/api/profiles?userId=${encodeURIComponent(junk || ' ')}`)).json().profiles).toEqual([]);
    });

    it('counts ignored identifiers in /metrics', async () => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/custodian_identifiers_rejected_total\{field="userId"\} [1-9]/);
    });
  });

  describe('text PostgreSQL cannot store', () => {
    it('repairs NUL and unpaired surrogates with a warning, and the message is processed', async () => {
      const res = await t.send('/v1/track', { userId: 'nul\u0000user', event: 'E\u0000', messageId: 'nul-msg-1', properties: { ['k\u0000']: 'v\ud800' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().warnings.map((w: { field: string; reason: string }) => `${w.reason}:${w.field}`)).toEqual([
        'text_repaired:userId', 'text_repaired:event', 'text_repaired:properties.k',
      ]);
      await t.drain();
      const profile = (await t.get('/api/profiles?userId=nuluser')).json().profiles[0];
      const events = (await t.get(`/api/profiles/${profile.id}/events`)).json().events;
      expect(events[0]).toMatchObject({ event: 'E', properties: { k: 'v\ufffd' } });
    });
    it('refuses a messageId it would have to change', async () => {
      const res = await t.send('/v1/track', { userId: 'u', event: 'E', messageId: 'a\u0000b' });
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('messageId');
    });
  });

  describe('encodings', () => {
    it('accepts a gzip body (RudderStack SDKs gzip)', async () => {
      const body = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'gz-1', event: 'Zipped' }] }));
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64'), 'content-type': 'application/json', 'content-encoding': 'gzip' },
        payload: body,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().accepted).toBe(1);
    });
    it('a corrupt gzip body → 400 naming content-encoding', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64'), 'content-type': 'application/json', 'content-encoding': 'gzip' },
        payload: Buffer.from('this is not gzip at all'),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('content-encoding');
    });
    it('accepts text/plain JSON (analytics.js beacons)', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/page', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ writeKey: WRITE_KEY, anonymousId: 'beacon-1' }) });
      expect(res.statusCode).toBe(200);
    });
    it('refuses an unknown content-encoding by name', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/page', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, payload: '{}' });
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('content-encoding');
    });
  });
});
