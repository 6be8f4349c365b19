import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONSENT_PURPOSES, consentsOfMessage, purposeOfCategory, purposesOfCategoryPreferences, signPreferences, signUnsubscribe, supersedes, verifyLink } from './consent.js';
import { createKeyring } from './crypto.js';

const MASTER = Buffer.alloc(32, 9);
const keyring = createKeyring(MASTER);
const PROFILE = '3f6c1a52-8d0e-4b7a-9c1f-2a5b6c7d8e9f';

describe('consent-manager categories', () => {
  it.each([
    ['email_marketing', 'email_marketing'],
    ['Email Marketing', 'email_marketing'],
    ['newsletter', 'email_marketing'],
    ['SMS', 'sms_marketing'],
    ['Functional', 'personalization'],
    ['personalisation', 'personalization'],
    ['Analytics', 'analytics'],
    ['C0002', 'analytics'],
    ['Advertising', 'third_party_sharing'],
    ['c0004', 'third_party_sharing'],
    ['third-party sharing', 'third_party_sharing'],
    ['Strictly Necessary', null],
    ['C0001', null],
    ['', null],
  ])('%s → %s', (category, purpose) => {
    expect(purposeOfCategory(category)).toBe(purpose);
  });

  it('reads only booleans, and an opt-out in any category of a purpose wins', () => {
    expect(purposesOfCategoryPreferences({ Advertising: true, Targeting: false, Analytics: 'yes', C0001: true, email: true })).toEqual([
      { purpose: 'third_party_sharing', granted: false, categories: ['Advertising', 'Targeting'] },
      { purpose: 'email_marketing', granted: true, categories: ['email'] },
    ]);
    for (const odd of [null, undefined, 'all', ['Analytics'], 42]) expect(purposesOfCategoryPreferences(odd)).toEqual([]);
  });

  it('turns a message into consents at its own time, from its source', () => {
    const message = { messageId: 'm1', timestamp: '2026-01-02T03:04:05.000Z', context: { consent: { categoryPreferences: { Analytics: false } } } };
    expect(consentsOfMessage(message, PROFILE, 'web')).toEqual([
      { profileId: PROFILE, purpose: 'analytics', granted: false, legalBasis: 'consent', source: 'web', at: new Date('2026-01-02T03:04:05.000Z'), messageId: 'm1', details: { categories: ['Analytics'] } },
    ]);
    expect(consentsOfMessage({ messageId: 'm2', timestamp: '2026-01-02T00:00:00Z', context: { consent: 'yes' } }, PROFILE, 'web')).toEqual([]);
    // Dated in 2099 by its sender, a grant counts from its arrival (plus a few minutes of clock difference), so a later unsubscribe still wins.
    const future = consentsOfMessage({ messageId: 'm3', timestamp: '2099-01-01T00:00:00Z', receivedAt: '2026-01-02T00:00:00Z', context: { consent: { categoryPreferences: { email: true } } } }, PROFILE, 'web');
    expect(future.map((c) => c.at.toISOString())).toEqual(['2026-01-02T00:05:00.000Z']);
    expect(consentsOfMessage({ messageId: 'm3', timestamp: '2026-01-02T00:00:00Z' }, PROFILE, 'web')).toEqual([]);
  });
});

describe('which choice is current', () => {
  const t = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-01-02T00:00:00Z');
  it('the later one; a withdrawal wins a tie', () => {
    expect(supersedes({ at: later, granted: true }, { at: t, granted: false })).toBe(true);
    expect(supersedes({ at: t, granted: true }, { at: later, granted: false })).toBe(false);
    expect(supersedes({ at: t, granted: false }, { at: t, granted: true })).toBe(true);
    expect(supersedes({ at: t, granted: true }, { at: t, granted: false })).toBe(false);
    expect(supersedes({ at: t, granted: true }, { at: t, granted: true })).toBe(false);
  });
});

describe('signed links', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('round-trips, the same from any keyring with the same index key', () => {
    const token = signUnsubscribe(keyring, { workspaceId: 'default', profileId: PROFILE, purpose: 'sms_marketing' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(signUnsubscribe(createKeyring(MASTER), { workspaceId: 'default', profileId: PROFILE, purpose: 'sms_marketing' })).toBe(token);
    expect(verifyLink(createKeyring(MASTER), token, 'unsubscribe', now)).toEqual({ ok: true, claims: { kind: 'unsubscribe', workspaceId: 'default', profileId: PROFILE, purpose: 'sms_marketing', expires: null, generation: 0 } });
  });

  it('carries the generation it was signed at, and long workspace ids', () => {
    const workspaceId = 'w'.repeat(64);
    const token = signPreferences(keyring, { workspaceId, profileId: PROFILE, generation: 7 });
    expect(verifyLink(keyring, token, 'preferences', now)).toEqual({ ok: true, claims: { kind: 'preferences', workspaceId, profileId: PROFILE, purpose: null, expires: null, generation: 7 } });
    expect(() => signPreferences(keyring, { workspaceId, profileId: PROFILE, generation: -1 })).toThrow(RangeError);
  });

  it('still reads links of the first version (no generation) as generation 0', () => {
    // Version 1: version, kind, purpose, expiry, profile, workspace; signed with the same link key.
    const payload = Buffer.concat([Buffer.from([1, 1, CONSENT_PURPOSES.indexOf('email_marketing'), 0, 0, 0, 0]), Buffer.from(PROFILE.replace(/-/g, ''), 'hex'), Buffer.from('default')]);
    const mac = createHmac('sha256', keyring.blindIndex('custodian', 'signed-link v1')).update(payload).digest();
    const token = `${payload.toString('base64url')}.${mac.toString('base64url')}`;
    expect(verifyLink(keyring, token, 'unsubscribe', now)).toEqual({ ok: true, claims: { kind: 'unsubscribe', workspaceId: 'default', profileId: PROFILE, purpose: 'email_marketing', expires: null, generation: 0 } });
  });

  it('refuses a changed payload, a changed signature, another key', () => {
    const token = signUnsubscribe(keyring, { workspaceId: 'ws-a', profileId: PROFILE, purpose: 'email_marketing' });
    const [body, mac] = token.split('.') as [string, string];
    const payload = Buffer.from(body, 'base64url');
    payload[payload.length - 1] = 'b'.charCodeAt(0);
    expect(verifyLink(keyring, `${payload.toString('base64url')}.${mac}`, 'unsubscribe', now)).toEqual({ ok: false, reason: 'signature' });
    const flipped = Buffer.from(mac, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(verifyLink(keyring, `${body}.${flipped.toString('base64url')}`, 'unsubscribe', now)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyLink(createKeyring(Buffer.alloc(32, 1)), token, 'unsubscribe', now)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses expired links and links of the other kind', () => {
    const expiring = signUnsubscribe(keyring, { workspaceId: 'default', profileId: PROFILE, purpose: 'analytics', expires: new Date('2026-06-01T00:00:01Z') });
    expect(verifyLink(keyring, expiring, 'unsubscribe', now).ok).toBe(true);
    expect(verifyLink(keyring, expiring, 'unsubscribe', new Date('2026-06-01T00:00:01Z'))).toEqual({ ok: false, reason: 'expired' });
    const preferences = signPreferences(keyring, { workspaceId: 'default', profileId: PROFILE });
    expect(verifyLink(keyring, preferences, 'unsubscribe', now)).toEqual({ ok: false, reason: 'kind' });
    expect(verifyLink(keyring, preferences, 'preferences', now)).toMatchObject({ ok: true, claims: { purpose: null } });
  });

  it.each(['', '.', 'abc', 'abc.def', 'a.b.c', '%%%.%%%', `${'A'.repeat(40)}.${'B'.repeat(43)}`, 'x'.repeat(5000)])('refuses malformed %j', (token) => {
    expect(verifyLink(keyring, token, 'unsubscribe', now)).toMatchObject({ ok: false });
  });
});
