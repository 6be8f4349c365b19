import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../clean/junk-ids.js';
import { applyWebhookMapping, canonicalJson, derivedMessageId, mapWebhook, parsePath, parseWebhookMapping, type WebhookMapping } from './webhook-mapping.js';

const junk = createJunkIdFilter([]);
const ctx = { sourceId: 'surveys', receivedAt: new Date('2026-03-01T12:00:00Z'), junk };

function mappingOf(document: unknown): WebhookMapping {
  const parsed = parseWebhookMapping(document);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.mapping;
}

describe('parsePath', () => {
  it.each([
    ['$', []],
    ['$.a.b', [{ kind: 'key', key: 'a' }, { kind: 'key', key: 'b' }]],
    ['$.answers[0].score', [{ kind: 'key', key: 'answers' }, { kind: 'index', index: 0 }, { kind: 'key', key: 'score' }]],
    ['$.items[-1]', [{ kind: 'key', key: 'items' }, { kind: 'index', index: -1 }]],
    ['$.items[*].sku', [{ kind: 'key', key: 'items' }, { kind: 'wild' }, { kind: 'key', key: 'sku' }]],
    ['$.hidden.*', [{ kind: 'key', key: 'hidden' }, { kind: 'wild' }]],
    ["$['first name']", [{ kind: 'key', key: 'first name' }]],
    ['$["a.b"]["it\\"s"]', [{ kind: 'key', key: 'a.b' }, { kind: 'key', key: 'it"s' }]],
    ['@.sku', [{ kind: 'key', key: 'sku' }]],
    ['$.电话', [{ kind: 'key', key: '电话' }]],
  ])('%s', (text, steps) => {
    const parsed = parsePath(text);
    expect(parsed.ok && parsed.path.steps).toEqual(steps);
  });

  it.each([
    ['respondent.email', /must start with \$/],
    ['$.', /a key is expected/],
    ['$.a[', /array index/],
    ['$.a[x]', /array index/],
    ["$['a]", /unclosed quoted key/],
    ['$a', /unexpected "a"/],
    ['$.a[*', /"\]" is expected/],
  ])('refuses %s', (text, message) => {
    const parsed = parsePath(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('parseWebhookMapping', () => {
  it('accepts paths, constants, {path}, {const}, fall-backs, defaults, when and forEach', () => {
    const parsed = parseWebhookMapping({
      deliveryId: '$.id',
      messages: [
        {
          type: 'track',
          when: '$.ok',
          forEach: '$.items[*]',
          fields: { userId: { path: ['$.user.id', '$.user_id'], required: true }, event: 'Bought', 'properties.sku': '@.sku', 'properties.n': 3, 'properties.flag': true, 'properties.tags': { const: ['a'] }, 'context.channel': { path: '$.channel', default: 'web' } },
        },
      ],
    });
    expect(parsed.ok).toBe(true);
  });

  it('names every problem by where it is', () => {
    const parsed = parseWebhookMapping({
      extra: 1,
      messages: [
        { type: 'alias', fields: { userId: '$.new' } },
        { type: 'group', fields: { userId: '$.u', 'userId.x': '$.x', traits: ['$.a'], name: null, event: { path: '$.e', bogus: 1 } } },
        'nope',
      ],
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.field)).toEqual([
      'extra',
      'messages[0].fields["previousId"]',
      'messages[1].fields["userId.x"]',
      'messages[1].fields["traits"]',
      'messages[1].fields["name"]',
      'messages[1].fields["event"]',
      'messages[1].fields["groupId"]',
      'messages[2]',
    ]);
    expect(parsed.issues[2]!.message).toMatch(/userId is not an object/);
    expect(parsed.issues[5]!.message).toMatch(/unknown key "bogus"/);
  });
});

describe('applyWebhookMapping', () => {
  const body = {
    id: 'd-1',
    user: { id: 'u-1', email: 'a@example.com', profile: { plan: 'pro', seats: 3 } },
    answers: [{ score: 9 }, { text: 'ok' }],
    items: [{ sku: 'A' }, { sku: 'B', price: null }, { sku: 'C' }],
    empty: null,
  };

  it('reads paths, drops absent and null values, and keeps constants', () => {
    const applied = applyWebhookMapping(
      mappingOf({
        messages: [
          {
            type: 'identify',
            fields: { userId: '$.user.id', traits: '$.user.profile', 'traits.email': '$.user.email', 'traits.nps': '$.answers[0].score', 'traits.last': '$.answers[-1].text', 'traits.gone': '$.user.phone', 'traits.nothing': '$.empty', 'traits.skus': '$.items[*].sku', 'traits.prices': '$.items[*].price', 'context.channel': 'survey' },
          },
        ],
      }),
      body,
    );
    expect(applied.ok && applied.messages[0]!.raw).toEqual({
      type: 'identify',
      userId: 'u-1',
      traits: { plan: 'pro', seats: 3, email: 'a@example.com', nps: 9, last: 'ok', skus: ['A', 'B', 'C'] },
      context: { channel: 'survey' },
    });
    // Setting traits.email into the body's own object must not change the body.
    expect(body.user.profile).toEqual({ plan: 'pro', seats: 3 });
  });

  it('fans out with forEach, with @ the element and $ the body', () => {
    const applied = applyWebhookMapping(mappingOf({ messages: [{ type: 'track', forEach: '$.items[*]', fields: { userId: '$.user.id', event: 'Item', 'properties.sku': '@.sku' } }] }), body);
    expect(applied.ok && applied.messages.map((m) => [m.element, m.raw.properties])).toEqual([[0, { sku: 'A' }], [1, { sku: 'B' }], [2, { sku: 'C' }]]);
    const plain = applyWebhookMapping(mappingOf({ messages: [{ type: 'track', forEach: '$.items', fields: { userId: '$.user.id', event: 'Item' } }] }), body);
    expect(plain.ok && plain.messages).toHaveLength(3);
    const none = applyWebhookMapping(mappingOf({ messages: [{ type: 'track', forEach: '$.missing[*]', fields: { userId: '$.user.id', event: 'Item' } }] }), body);
    expect(none.ok && none.messages).toHaveLength(0);
  });

  it('skips a message whose when path has no value', () => {
    const mapping = mappingOf({ messages: [{ type: 'identify', when: '$.user.phone', fields: { userId: '$.user.id' } }, { type: 'track', fields: { userId: '$.user.id', event: 'E' } }] });
    const applied = applyWebhookMapping(mapping, body);
    expect(applied.ok && applied.messages.map((m) => m.raw.type)).toEqual(['track']);
  });

  it('takes the first fall-back path with a value, then the default', () => {
    const mapping = mappingOf({ messages: [{ type: 'track', fields: { userId: { path: ['$.user.uid', '$.user.id'] }, event: { path: '$.kind', default: 'Submitted' } } }] });
    const applied = applyWebhookMapping(mapping, body);
    expect(applied.ok && applied.messages[0]!.raw).toMatchObject({ userId: 'u-1', event: 'Submitted' });
  });

  it('a required path without a value is an issue naming the path and why', () => {
    const mapping = mappingOf({ messages: [{ type: 'identify', fields: { userId: { path: '$.user.profile.id', required: true } } }] });
    const applied = applyWebhookMapping(mapping, body);
    expect(applied).toEqual({ ok: false, issue: { reason: 'missing_field', field: '$.user.profile.id', message: expect.stringContaining('$.user.profile has no key "id"') } });
  });

  it('a list in the wrong shape is an issue; a target inside a non-object is an issue', () => {
    const shape = applyWebhookMapping(mappingOf({ messages: [{ type: 'track', forEach: '$.user.email', fields: { userId: '$.user.id', event: 'E' } }] }), body);
    expect(shape).toMatchObject({ ok: false, issue: { field: '$.user.email', message: expect.stringContaining('not an array') } });
    const nested = applyWebhookMapping(mappingOf({ messages: [{ type: 'identify', fields: { userId: '$.user.id', traits: '$.user.email', 'traits.x': '$.id' } }] }), body);
    expect(nested).toMatchObject({ ok: false, issue: { reason: 'invalid_field', message: expect.stringContaining('traits is a string') } });
  });
});

describe('mapWebhook', () => {
  const mapping = mappingOf({
    messages: [
      { type: 'identify', fields: { userId: '$.respondent.id', 'traits.email': '$.respondent.email', timestamp: '$.at' } },
      { type: 'track', fields: { userId: '$.respondent.id', event: 'Survey Responded', 'properties.nps': '$.answers[0].score', timestamp: '$.at' } },
    ],
  });
  const body = { respondent: { id: 'u-1', email: 'a@example.com' }, answers: [{ score: 10 }], at: '2026-03-01T10:00:00Z' };

  it('produces validated messages with messageIds derived from source and body', () => {
    const result = mapWebhook(mapping, body, ctx);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.messages.map((m) => [m.type, m.timestamp])).toEqual([['identify', '2026-03-01T10:00:00.000Z'], ['track', '2026-03-01T10:00:00.000Z']]);
    const again = mapWebhook(mapping, JSON.parse(JSON.stringify({ at: body.at, answers: body.answers, respondent: body.respondent })), { ...ctx, receivedAt: new Date() });
    expect(again.ok && again.messages.map((m) => m.messageId)).toEqual(result.messages.map((m) => m.messageId));
    const otherSource = mapWebhook(mapping, body, { ...ctx, sourceId: 'forms' });
    expect(otherSource.ok && otherSource.messages[0]!.messageId).not.toBe(result.messages[0]!.messageId);
    const otherBody = mapWebhook(mapping, { ...body, answers: [{ score: 9 }] }, ctx);
    expect(otherBody.ok && otherBody.messages[0]!.messageId).not.toBe(result.messages[0]!.messageId);
  });

  it('names the body path behind a field validateMessage refuses', () => {
    const badId = mapWebhook(mapping, { ...body, respondent: { id: { x: 1 } } }, ctx);
    expect(badId).toMatchObject({ ok: false, index: 0, issue: { reason: 'invalid_field', field: '$.respondent.id', message: expect.stringContaining('userId must be a string or a number, not an object') } });
    const badDate = mapWebhook(mapping, { ...body, at: 'soon' }, ctx);
    expect(badDate).toMatchObject({ ok: false, issue: { field: '$.at', message: expect.stringContaining('timestamp is not a valid ISO-8601 date-time') } });
    const noId = mapWebhook(mapping, { at: body.at }, ctx);
    expect(noId).toMatchObject({ ok: false, issue: { reason: 'no_user_anon_id', field: '$.respondent.id', message: expect.stringContaining('$ has no key "respondent"') } });
  });

  it('refuses two messages of one delivery with the same mapped messageId', () => {
    const same = mappingOf({ messages: [{ type: 'identify', fields: { userId: '$.u', messageId: '$.id' } }, { type: 'track', fields: { userId: '$.u', event: 'E', messageId: '$.id' } }] });
    const result = mapWebhook(same, { u: 'u', id: 'evt-1' }, ctx);
    expect(result).toMatchObject({ ok: false, index: 1, issue: { field: '$.id', message: expect.stringContaining('has the messageId of message 0') } });
  });

  it('keeps a mapped numeric messageId as text', () => {
    const numeric = mappingOf({ messages: [{ type: 'identify', fields: { userId: '$.u', messageId: '$.id' } }] });
    const result = mapWebhook(numeric, { u: 'u', id: 123 }, ctx);
    expect(result.ok && result.messages[0]!.messageId).toBe('123');
  });
});

describe('message ids', () => {
  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });
  it('a derived id names the source and stays under the messageId limit', () => {
    const id = derivedMessageId('a'.repeat(63), 'body:{}', 19, 2499);
    expect(id.startsWith(`wh-${'a'.repeat(63)}-`)).toBe(true);
    expect(id.length).toBeLessThanOrEqual(256);
  });
});
