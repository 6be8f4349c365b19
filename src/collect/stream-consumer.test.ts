import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../clean/junk-ids.js';
import { decodeStreamMessage, redactUrl, STREAM_DEFAULTS, streamConfigProblem } from './stream-consumer.js';

const ctx = { prefix: 'custodian.events.', receivedAt: new Date('2026-03-01T00:00:00Z'), junk: createJunkIdFilter([]), idBase: 'nats-S-x-7' };
const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('decodeStreamMessage', () => {
  it('takes the source from the subject and keeps a message’s own messageId', () => {
    const out = decodeStreamMessage('custodian.events.crm', bytes({ type: 'identify', userId: 'u1', messageId: 'm-1' }), ctx);
    expect(out.source).toBe('crm');
    expect(out.messages.map((m) => m.messageId)).toEqual(['m-1']);
    expect(out.rejected).toEqual([]);
  });

  it('derives messageIds from the stream position when a message has none (stable across redeliveries)', () => {
    const one = decodeStreamMessage('custodian.events.crm', bytes({ type: 'track', userId: 'u', event: 'E' }), ctx);
    expect(one.messages[0]!.messageId).toBe('nats-S-x-7');
    const batch = decodeStreamMessage('custodian.events.crm', bytes({ batch: [{ type: 'page', userId: 'u' }, { type: 'page', userId: 'u', messageId: 'own' }] }), ctx);
    expect(batch.messages.map((m) => m.messageId)).toEqual(['nats-S-x-7.0', 'own']);
  });

  it('applies batch-level context and rejects bad items by index, keeping the good ones', () => {
    const out = decodeStreamMessage('custodian.events.pos', bytes({ context: { ip: '10.0.0.1' }, batch: [{ type: 'page', userId: 'u' }, { type: 'track', userId: 'u' }] }), ctx);
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]!.context).toEqual({ ip: '10.0.0.1' });
    expect(out.rejected).toEqual([expect.objectContaining({ index: 1, reason: 'missing_field', field: 'batch[1].event' })]);
    expect(JSON.parse(new TextDecoder().decode(out.rejected[0]!.data))).toEqual({ type: 'track', userId: 'u' });
  });

  it.each([
    ['custodian.events.crm', '{"type":', 'invalid_json', 'body'],
    ['custodian.events.crm', { userId: 'u' }, 'missing_field', 'type'],
    ['custodian.events.crm', { batch: [] }, 'invalid_field', 'batch'],
    ['custodian.events.crm', { batch: 'x' }, 'missing_field', 'batch'],
    ['custodian.events.crm.extra', { type: 'page', userId: 'u' }, 'invalid_subject', 'subject'],
    ['custodian.events.CRM', { type: 'page', userId: 'u' }, 'invalid_subject', 'subject'],
    ['custodian.events.crm', { type: 'page', userId: 'u', properties: { pad: 'x'.repeat(40_000) } }, 'message_too_large', 'body'],
    ['custodian.events.crm', 'x'.repeat(600 * 1024), 'batch_too_large', 'body'],
  ])('%s %j → rejected %s naming %s', (subject, data, reason, field) => {
    const out = decodeStreamMessage(subject, bytes(data), ctx);
    expect(out.messages).toEqual([]);
    expect(out.rejected).toEqual([expect.objectContaining({ reason, field })]);
  });
});

describe('streamConfigProblem', () => {
  it('accepts the defaults', () => {
    expect(streamConfigProblem(STREAM_DEFAULTS)).toBeNull();
  });
  it.each([
    [{ subject: 'custodian.events.*' }, /must be a prefix followed by \.>/],
    [{ subject: '>' }, /must be a prefix/],
    [{ stream: 'has space' }, /stream/],
    [{ durable: 'a.b' }, /durable/],
    [{ deadLetter: 'custodian.events.dead' }, /must not be under custodian\.events\.>/],
    [{ deadLetter: 'dead.*' }, /no wildcards/],
  ])('%j is refused', (change, message) => {
    expect(streamConfigProblem({ ...STREAM_DEFAULTS, ...change })).toMatch(message);
  });
});

it('redactUrl hides a password', () => {
  expect(redactUrl('nats://user:secret@host:4222')).toBe('nats://user:***@host:4222');
  expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
});
