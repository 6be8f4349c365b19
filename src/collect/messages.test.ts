import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../clean/junk-ids.js';
import { eventTime, validateMessage, type ValidationContext } from './messages.js';

const receivedAt = new Date('2026-03-01T12:00:00.000Z');
const ctx: ValidationContext = { receivedAt, type: null, junk: createJunkIdFilter() };

describe('validateMessage', () => {
  it.each([
    [{ type: 'track', userId: 'u', event: 'E' }, true],
    [{ type: 'identify', anonymousId: 'a' }, true],
    [{ type: 'identify', userId: 42 }, true],
    [{ type: 'page', userId: 'u' }, true],
    [{ type: 'screen', anonymousId: 'a', name: 'Home' }, true],
    [{ type: 'group', userId: 'u', groupId: 'g' }, true],
    [{ type: 'alias', userId: 'u', previousId: 'a' }, true],
  ])('accepts %j', (raw, ok) => expect(validateMessage(raw, ctx).ok).toBe(ok));

  it.each([
    [null, 'invalid_body', 'body'],
    [[1], 'invalid_body', 'body'],
    [{ userId: 'u' }, 'missing_field', 'type'],
    [{ type: 'delete', userId: 'u' }, 'invalid_type', 'type'],
    [{ type: 'track', event: 'E' }, 'no_user_anon_id', 'userId'],
    [{ type: 'track', userId: 'u' }, 'missing_field', 'event'],
    [{ type: 'track', userId: 'u', event: '  ' }, 'missing_field', 'event'],
    [{ type: 'group', userId: 'u' }, 'missing_field', 'groupId'],
    [{ type: 'alias', userId: 'u' }, 'missing_field', 'previousId'],
    [{ type: 'alias', previousId: 'a' }, 'missing_field', 'userId'],
    [{ type: 'track', userId: 'u', event: 'E', properties: 'x' }, 'invalid_field', 'properties'],
    [{ type: 'track', userId: { a: 1 }, event: 'E' }, 'invalid_field', 'userId'],
    [{ type: 'track', userId: 'u', event: 'E', timestamp: 'yesterday-ish' }, 'invalid_field', 'timestamp'],
    [{ type: 'track', userId: 'u', event: 'E', sentAt: '2026-13-45' }, 'invalid_field', 'sentAt'],
    [{ type: 'identify', userId: 'u', traits: { blob: 'x'.repeat(33 * 1024) } }, 'message_too_large', 'body'],
  ])('rejects %j with %s on %s', (raw, reason, field) => {
    const result = validateMessage(raw, ctx);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issue.reason).toBe(reason);
      expect(result.issue.field).toBe(field);
      expect(result.issue.message).toContain(field === 'body' ? '' : field);
    }
  });

  it('the URL type wins over the body type', () => {
    const result = validateMessage({ type: 'identify', userId: 'u', event: 'E' }, { ...ctx, type: 'track' });
    expect(result.ok && result.message.type).toBe('track');
  });

  it('assigns a messageId when missing and keeps a given one', () => {
    const a = validateMessage({ type: 'page', userId: 'u' }, ctx);
    const b = validateMessage({ type: 'page', userId: 'u', messageId: 'm-1' }, ctx);
    expect(a.ok && a.message.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.ok && b.message.messageId).toBe('m-1');
  });

  it('drops junk identifiers and says which', () => {
    const result = validateMessage({ type: 'track', userId: 'undefined', anonymousId: 'a-1', event: 'E' }, ctx);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.message.userId).toBeUndefined();
      expect(result.message.anonymousId).toBe('a-1');
      expect(result.ignoredIds).toEqual(['userId']);
    }
  });

  it('merges batch context under the item context', () => {
    const result = validateMessage(
      { type: 'track', userId: 'u', event: 'E', context: { ip: '1.2.3.4' } },
      { ...ctx, defaults: { context: { ip: '9.9.9.9', library: { name: 'x' } }, integrations: { All: false } } },
    );
    expect(result.ok && result.message.context).toEqual({ ip: '1.2.3.4', library: { name: 'x' } });
    expect(result.ok && result.message.integrations).toEqual({ All: false });
  });
});

describe('eventTime', () => {
  it('keeps a client timestamp', () => {
    expect(eventTime(receivedAt, new Date('2020-01-01T00:00:00Z')).toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });
  it('removes client clock skew: receivedAt − (sentAt − originalTimestamp)', () => {
    // The client clock runs 1 h fast; the event happened 5 s before it was sent.
    const original = new Date('2026-03-01T13:00:00.000Z');
    const sent = new Date('2026-03-01T13:00:05.000Z');
    expect(eventTime(receivedAt, undefined, original, sent).toISOString()).toBe('2026-03-01T11:59:55.000Z');
  });
  it('falls back to receivedAt', () => {
    expect(eventTime(receivedAt).toISOString()).toBe(receivedAt.toISOString());
  });
  it('keeps the device time when the skew correction leaves the calendar a database stores', () => {
    // Found by fuzzing: sentAt far in the future pushed the correction to 200962 BC, which PostgreSQL refused.
    const original = new Date('0500-01-01T00:00:00.000Z');
    const sent = new Date('+200000-01-01T00:00:00.000Z');
    expect(eventTime(receivedAt, undefined, original, sent).toISOString()).toBe(original.toISOString());
  });
});
