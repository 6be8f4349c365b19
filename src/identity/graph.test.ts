import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../clean/junk-ids.js';
import type { TrackingMessage } from '../collect/messages.js';
import { planBatch, type GraphSnapshot, type IncomingMessage, type ProfileState } from './graph.js';

const junk = createJunkIdFilter();
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
const empty: GraphSnapshot = { owners: new Map(), profiles: new Map() };

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
    const given: ProfileState = { id: 'g', traits: { country: 'US', plan: 'free' }, createdAt: new Date('2024-01-01'), updatedAt: new Date('2024-01-01'), lastSeenAt: null };
    const derivedOnly: ProfileState = { id: 'd', traits: { country: 'CN', plan: 'pro' }, derived: new Set(['country']), createdAt: new Date('2025-01-01'), updatedAt: new Date('2025-06-01'), lastSeenAt: null };
    const snapshot: GraphSnapshot = { owners: new Map([['userId:u1', 'g'], ['anonymousId:a1', 'd']]), profiles: new Map([['g', given], ['d', derivedOnly]]) };
    const plan = planBatch([msg({ type: 'identify', userId: 'u1', anonymousId: 'a1' })], snapshot, junk, now, ids());
    const merged = plan.profiles.get('g')!;
    expect(merged.traits).toEqual({ country: 'US', plan: 'pro' });
    expect([...merged.derived!]).toEqual([]);
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
    expect([...profile.derived!]).toEqual([]);
    const onlyDerived = planBatch([{ ...msg({ type: 'identify', userId: 'u8', traits: {} }), derived: { country: 'CN' } }], empty, junk, now, ids());
    expect([...onlyDerived.profiles.get('p1')!.derived!]).toEqual(['country']);
  });

  it('merges two existing profiles into the older when one message names both', () => {
    const older: ProfileState = { id: 'old', traits: { city: '上海', plan: 'free' }, createdAt: new Date('2024-01-01'), updatedAt: new Date('2024-01-01'), lastSeenAt: null };
    const newer: ProfileState = { id: 'new', traits: { plan: 'pro' }, createdAt: new Date('2025-01-01'), updatedAt: new Date('2025-06-01'), lastSeenAt: null };
    const snapshot: GraphSnapshot = {
      owners: new Map([['userId:u1', 'new'], ['anonymousId:a1', 'old']]),
      profiles: new Map([['old', older], ['new', newer]]),
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
});
