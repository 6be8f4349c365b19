import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

const ROUTES = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'batch'] as const;

// Values shaped like what SDKs send, and like what they get wrong.
const nasty = fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '😀', '张伟', '\u202e');
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), nasty);
const idLike = fc.oneof(text, fc.integer(), fc.constantFrom('', 'null', 'anonymous', '0', '-1', '[object Object]'), fc.constant(null), fc.double(), fc.object());
const dateLike = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.integer(), fc.constant('2026-02-30T25:61:00Z'));
const bag = fc.oneof(fc.dictionary(text, fc.oneof(fc.jsonValue(), text)), fc.jsonValue());
const message = fc.record(
  {
    type: fc.oneof(fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias'), fc.string(), fc.integer()),
    userId: idLike,
    anonymousId: idLike,
    previousId: idLike,
    groupId: idLike,
    messageId: fc.oneof(fc.uuid(), text, fc.integer(), fc.string({ minLength: 300, maxLength: 400 })),
    event: fc.oneof(text, fc.integer(), fc.constant(null)),
    name: fc.oneof(fc.string(), fc.object()),
    traits: bag,
    properties: bag,
    context: bag,
    integrations: bag,
    timestamp: dateLike,
    originalTimestamp: dateLike,
    sentAt: dateLike,
  },
  { requiredKeys: [] },
);
// Well-formed messages with hostile contents, so the accepting path is fuzzed as hard as the refusing one.
const wellFormed = fc.record({
  type: fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias'),
  userId: fc.oneof(text, fc.integer()),
  anonymousId: text,
  previousId: text,
  groupId: text,
  event: fc.string({ minLength: 1 }).filter((e) => e.trim() !== ''),
  traits: fc.dictionary(text, fc.oneof(fc.jsonValue(), text)),
  properties: fc.dictionary(text, fc.oneof(fc.jsonValue(), text)),
  context: fc.dictionary(text, fc.oneof(fc.jsonValue(), text)),
});
const body = fc.oneof(
  { weight: 3, arbitrary: wellFormed },
  { weight: 2, arbitrary: fc.record({ batch: fc.array(wellFormed, { minLength: 1, maxLength: 10 }) }) },
  { weight: 5, arbitrary: message },
  { weight: 3, arbitrary: fc.record({ batch: fc.oneof(fc.array(fc.oneof(message, fc.jsonValue()), { maxLength: 20 }), fc.jsonValue()), context: bag, sentAt: dateLike }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const rawText = fc.oneof(
  { weight: 4, arbitrary: body.map((b) => JSON.stringify(b)) },
  fc.string(),
  body.map((b) => JSON.stringify(b).slice(0, -1)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constant('{"type":"identify","userId":"proto","traits":{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}}'),
);
const headers = fc.record({
  'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', ''),
  auth: fc.constantFrom('basic', 'body', 'none', 'wrong'),
});

describe.each(backends)('fuzzing /v1/* on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  it('never answers 5xx, and every 4xx names the problem', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), rawText, headers, async (route, text, h) => {
        let payload = text;
        if (h.auth === 'body') {
          try {
            const parsed: unknown = JSON.parse(text);
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) payload = JSON.stringify({ ...parsed, writeKey: WRITE_KEY });
          } catch {
            // not JSON: send as it is
          }
        }
        const authorization = h.auth === 'basic' ? 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64') : h.auth === 'wrong' ? 'Basic d3Jvbmc6' : undefined;
        const res = await t.app.inject({
          method: 'POST',
          url: `/v1/${route}`,
          headers: { ...(h['content-type'] ? { 'content-type': h['content-type'] } : {}), ...(authorization ? { authorization } : {}) },
          payload,
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, res.body).toBeLessThan(500);
        const json = res.json();
        if (res.statusCode >= 400) {
          expect(json.success).toBe(false);
          expect(json.code).toMatch(/^CUSTODIAN_[A-Z_]+$/);
          expect(typeof json.message).toBe('string');
          expect(json.message.length).toBeGreaterThan(5);
          expect(typeof json.field).toBe('string');
        } else {
          expect(json.success).toBe(true);
          expect(json.accepted).toBeGreaterThan(0);
          for (const r of json.rejected) expect(r.field.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: backend.name === 'pglite' ? 600 : 300 },
    );
    // The generators must reach both sides: accepted messages and each kind of refusal.
    console.info(`${backend.name}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(10);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(10);
    // Whatever was accepted must go through the pipeline without a failure.
    await t.drain();
    const failed = await t.database.db.selectFrom('event_log').select('message_id').where('error', 'is not', null).execute();
    expect(failed).toEqual([]);
  });
});
