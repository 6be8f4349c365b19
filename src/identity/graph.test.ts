import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../clean/junk-ids.js';
import type { TrackingMessage } from '../collect/messages.js';
import { identityPolicy, planBatch, type GraphSnapshot, type IncomingMessage, type ProfileState } from './graph.js';
import { identitySettings, type IdentitySettingsInput } from './settings.js';
import { derivedKeys } from './survivorship.js';

const policyWith = (input?: IdentitySettingsInput) => identityPolicy(createJunkIdFilter(), identitySettings(input, { auto: 0.99, review: 0.9 }));
const junk = policyWith();
const now = new Date('2026-01-01T00:00:00Z');
let seq = 0;
function msg(partial: Partial<TrackingMessage> & Pick<TrackingMessage, 'type'>): IncomingMessage {
  seq += 1;
  const at = new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString();
  return { sourceId: 'web', message: { messageId: `m${seq}`, timestamp: at, receivedAt: at, ...partial } };
}
function ids() {
  let n = 0;
  return () => `p${++n}`;
}
const empty: GraphSnapshot = { owners: new Map(), profiles: new Map(), identityCounts: new Map() };

describe('planBatch', () => {
  it('links userId, anonymousId and identify email to one new profile', () => {
    const plan = planBatch(
      [msg({ type: 'track', anonymousId: 'a1', event: 'Viewed' }), msg({ type: 'identify', anonymousId: 'a1', userId: 'u1', traits: { email: ' Zhang@QQ.com ', plan: 'pro' } })],
      empty, junk, now, ids(),
    );
    expect([...plan.profiles.keys()]).toEqual(['p1']);
    expect(plan.profiles.get('p1')!.traits).toEqual({ email: ' Zhang@QQ.com ', plan: 'pro' });
    expect(plan.identities.map((i) => `${i.type}:${i.value}`).sort()).toEqual(['anonymousId:a1', 'email:zhang@qq.com', 'userId:u1']);
    expect(plan.events.map((e) => e.profileId)).toEqual(['p1', 'p1']);
  });

  it('on a merge a value a source gave beats one cleaning derived, however recent', () => {
    const given: ProfileState = { id: 'g', traits: { country: 'US', plan: 'free' }, provenance: {}, createdAt: new Date('2024-01-01'), updatedAt: new Date('2024-01-01'), lastSeenAt: null };
    const derivedOnly: ProfileState = { id: 'd', traits: { country: 'CN', plan: 'pro' }, provenance: { country: { s: 'web', m: 'x', t: '2025-06-01T00:00:00.000Z', d: 1 } }, createdAt: new Date('2025-01-01'), updatedAt: new Date('2025-06-01'), lastSeenAt: null };
    const snapshot: GraphSnapshot = { owners: new Map([['userId:u1', 'g'], ['anonymousId:a1', 'd']]), profiles: new Map([['g', given], ['d', derivedOnly]]), identityCounts: new Map() };
    const plan = planBatch([msg({ type: 'identify', userId: 'u1', anonymousId: 'a1' })], snapshot, junk, now, ids());
    const merged = plan.profiles.get('g')!;
    expect(merged.traits).toEqual({ country: 'US', plan: 'pro' });
    expect(derivedKeys(merged.provenance)).toEqual([]);
  });

  it('fills derived values only into gaps, and a later given value replaces a derived one', () => {
    const first = msg({ type: 'identify', userId: 'u9', traits: { phone: '+8613800138000' } });
    const plan = planBatch(
      [
        { ...first, derived: { country: 'CN' } },
        { ...msg({ type: 'identify', userId: 'u9', traits: { plan: 'pro' } }), derived: { country: 'US' } },
        msg({ type: 'identify', userId: 'u9', traits: { country: 'SG' } }),
      ],
      empty, junk, now, ids(),
    );
    const profile = plan.profiles.get('p1')!;
    expect(profile.traits.country).toBe('SG');
    expect(derivedKeys(profile.provenance)).toEqual([]);
    const onlyDerived = planBatch([{ ...msg({ type: 'identify', userId: 'u8', traits: {} }), derived: { country: 'CN' } }], empty, junk, now, ids());
    expect(derivedKeys(onlyDerived.profiles.get('p1')!.provenance)).toEqual(['country']);
  });

  it('merges two existing profiles into the older when one message names both', () => {
    const older: ProfileState = { id: 'old', traits: { city: '上海', plan: 'free' }, provenance: {}, createdAt: new Date('2024-01-01'), updatedAt: new Date('2024-01-01'), lastSeenAt: null };
    const newer: ProfileState = { id: 'new', traits: { plan: 'pro' }, provenance: {}, createdAt: new Date('2025-01-01'), updatedAt: new Date('2025-06-01'), lastSeenAt: null };
    const snapshot: GraphSnapshot = {
      owners: new Map([['userId:u1', 'new'], ['anonymousId:a1', 'old']]),
      profiles: new Map([['old', older], ['new', newer]]),
      identityCounts: new Map(),
    };
    const plan = planBatch([msg({ type: 'identify', userId: 'u1', anonymousId: 'a1' })], snapshot, junk, now, ids());
    expect(plan.merges).toEqual([{ from: 'new', into: 'old', reason: 'shared_identifier', messageId: expect.any(String) }]);
    expect(plan.profiles.get('old')!.traits).toEqual({ city: '上海', plan: 'pro' });
    expect(plan.profiles.has('new')).toBe(false);
  });

  it('alias joins the previous anonymous id to the user', () => {
    const plan = planBatch(
      [msg({ type: 'track', anonymousId: 'anon-9', event: 'A' }), msg({ type: 'track', userId: 'u9', event: 'B' }), msg({ type: 'alias', userId: 'u9', previousId: 'anon-9' })],
      empty, junk, now, ids(),
    );
    // Both profiles were born in this batch, so the merge leaves no record and one profile.
    expect(plan.profiles.size).toBe(1);
    expect(new Set(plan.events.map((e) => e.profileId)).size).toBe(1);
    expect(plan.merges).toEqual([]);
  });

  it('a message with only junk identifiers creates no profile', () => {
    const plan = planBatch([msg({ type: 'identify', traits: { email: 'null', phone: '' } })], empty, junk, now, ids());
    expect(plan.profiles.size).toBe(0);
    expect(plan.events[0]!.profileId).toBeNull();
  });

  it('context.traits on a track call reach the profile', () => {
    const plan = planBatch([msg({ type: 'track', userId: 'u2', event: 'X', context: { traits: { email: 'a@b.co', city: 'Paris' } } })], empty, junk, now, ids());
    expect(plan.profiles.get('p1')!.traits).toEqual({ email: 'a@b.co', city: 'Paris' });
    expect(plan.identities.map((i) => i.type).sort()).toEqual(['email', 'userId']);
  });

  it('source records named in context.externalIds become record identities and link rows of one person', () => {
    const record = (id: string) => ({ externalIds: [{ type: 'record', collection: 'crm', id }] });
    const plan = planBatch(
      [msg({ type: 'identify', anonymousId: 'x', context: record('C-1'), traits: { email: 'a@b.co' } }), msg({ type: 'track', event: 'Order Completed', anonymousId: 'y', context: record('C-1') })],
      empty, junk, now, ids(),
    );
    expect(plan.profiles.size).toBe(1);
    expect(plan.identities.map((i) => `${i.type}:${i.value}`)).toContain('record:crm:C-1');
  });

  describe('identity limits and blocklist', () => {
    const profile = (id: string, created: string): ProfileState => ({ id, traits: {}, provenance: {}, createdAt: new Date(created), updatedAt: new Date(created), lastSeenAt: null });

    it('does not merge two profiles that each have a userId: the lower-priority email is dropped and the conflict recorded', () => {
      const snapshot: GraphSnapshot = {
        owners: new Map([['userId:u1', 'a'], ['email:shared@example.com', 'b']]),
        profiles: new Map([['a', profile('a', '2024-01-01')], ['b', profile('b', '2024-02-01')]]),
        identityCounts: new Map([['a', new Map([['userId', 1]])], ['b', new Map([['userId', 1], ['email', 1]])]]),
      };
      const plan = planBatch([msg({ type: 'identify', userId: 'u1', traits: { email: 'shared@example.com' } })], snapshot, junk, now, ids());
      expect(plan.merges).toEqual([]);
      expect(plan.events[0]!.profileId).toBe('a');
      expect(plan.conflicts).toEqual([{ messageId: expect.any(String), identity: { type: 'email', value: 'shared@example.com' }, reason: 'limit', limitType: 'userId', profiles: ['a', 'b'] }]);
    });

    it('one junk phone shared by many customers links only as many as its limit allows', () => {
      const messages = Array.from({ length: 10 }, (_, i) => msg({ type: 'identify', userId: `till-${i}`, traits: { phone: '+8613800000000' } }));
      const plan = planBatch(messages, empty, junk, now, ids());
      // Each customer keeps their own profile: a second userId may never join one.
      expect(plan.profiles.size).toBe(10);
      expect(plan.merges).toEqual([]);
      expect(plan.conflicts).toHaveLength(9);
      expect(plan.conflicts.every((c) => c.limitType === 'userId' && c.identity.type === 'phone')).toBe(true);
    });

    it('a profile holds at most `limit` identities of a type; the rest are left unlinked', () => {
      const policy = policyWith({ types: { email: { priority: 3, limit: 2 } } });
      const plan = planBatch(
        ['a@x.com', 'b@x.com', 'c@x.com'].map((email) => msg({ type: 'identify', userId: 'u1', traits: { email } })),
        empty, policy, now, ids(),
      );
      expect(plan.identities.filter((i) => i.type === 'email').map((i) => i.value)).toEqual(['a@x.com', 'b@x.com']);
      expect(plan.conflicts.map((c) => [c.identity.value, c.limitType])).toEqual([['c@x.com', 'email']]);
      expect(plan.events.every((e) => e.profileId === 'p1')).toBe(true);
    });

    it('blocklisted values never link, in any spelling', () => {
      const policy = policyWith({ blocklist: ['test@test.com', '13800000000'] });
      const plan = planBatch(
        [msg({ type: 'identify', userId: 'u1', traits: { email: 'TEST@test.com', phone: '+86 138 0000 0000' } }), msg({ type: 'identify', userId: 'u2', traits: { email: 'test@test.com' } })],
        empty, policy, now, ids(),
      );
      expect(plan.profiles.size).toBe(2);
      expect(plan.identities.map((i) => i.type).sort()).toEqual(['userId', 'userId']);
      expect(plan.blocked).toBe(3);
    });

    it('custom identity types from context.externalIds link profiles and obey their own limit', () => {
      const wechat = (id: string) => ({ externalIds: [{ type: 'wechat_openid', id, collection: 'users' }] });
      const plan = planBatch(
        [msg({ type: 'track', event: 'A', anonymousId: 'x1', context: wechat('o-1') }), msg({ type: 'track', event: 'B', anonymousId: 'x2', context: wechat('o-1') })],
        empty, junk, now, ids(),
      );
      expect(plan.profiles.size).toBe(1);
      expect(plan.identities.map((i) => `${i.type}:${i.value}`)).toContain('wechat_openid:o-1');
    });
  });

  describe('survivorship', () => {
    const at = (iso: string) => ({ timestamp: iso, receivedAt: iso });
    it('recent: the newest message wins, whatever order the messages arrive in', () => {
      const plan = planBatch(
        [msg({ type: 'identify', userId: 'u1', traits: { city: 'Paris' }, ...at('2025-05-01T00:00:00Z') }), msg({ type: 'identify', userId: 'u1', traits: { city: 'Lyon' }, ...at('2024-01-01T00:00:00Z') })],
        empty, junk, now, ids(),
      );
      expect(plan.profiles.get('p1')!.traits.city).toBe('Paris');
      expect(plan.profiles.get('p1')!.provenance.city).toMatchObject({ r: 'recent', t: '2025-05-01T00:00:00.000Z' });
    });

    it('source: a more trusted source wins over a newer value from a less trusted one', () => {
      const policy = policyWith({ survivorship: { sourceOrder: ['crm'], fields: { name: 'source' } } });
      const plan = planBatch(
        [{ ...msg({ type: 'identify', userId: 'u1', traits: { name: 'Robert Smith' } }), sourceId: 'crm' }, { ...msg({ type: 'identify', userId: 'u1', traits: { name: 'Bob S' } }), sourceId: 'web' }],
        empty, policy, now, ids(),
      );
      expect(plan.profiles.get('p1')!.traits.name).toBe('Robert Smith');
      expect(plan.profiles.get('p1')!.provenance.name).toMatchObject({ s: 'crm', r: 'source' });
    });

    it('complete: the fuller address wins over a newer partial one', () => {
      const policy = policyWith({ survivorship: { fields: { address: 'complete' } } });
      const full = { city: '上海市', district: '浦东新区', street: '世纪大道100号' };
      const plan = planBatch(
        [msg({ type: 'identify', userId: 'u1', traits: { address: full } }), msg({ type: 'identify', userId: 'u1', traits: { address: { city: '上海市' } } })],
        empty, policy, now, ids(),
      );
      expect(plan.profiles.get('p1')!.traits.address).toEqual(full);
    });

    it('frequent: the value most messages agree on wins over a newer one-off', () => {
      const policy = policyWith({ survivorship: { default: 'frequent' } });
      const plan = planBatch(
        ['Beijing', 'Shanghai', 'Beijing', 'Beijing', 'Shenzhen'].map((city) => msg({ type: 'identify', userId: 'u1', traits: { city } })),
        empty, policy, now, ids(),
      );
      expect(plan.profiles.get('p1')!.traits.city).toBe('Beijing');
    });
  });
});
