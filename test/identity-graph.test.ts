import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { processBatch } from '../src/worker/pipeline.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';

for (const backend of backends) {
  describe(`identity graph on '${backend.name}'`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(backend);
    });
    afterAll(async () => {
      await t.close();
    });
    const api = (method: 'POST' | 'PUT' | 'GET', url: string, body?: unknown) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
    const profileBy = async (query: string) => {
      const res = await t.get(`/api/profiles?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().profiles[0];
    };
    const eventsOf = async (id: string) => (await t.get(`/api/profiles/${id}/events?limit=100`)).json() as { total: number; events: Array<{ messageId: string }> };
    /** What a user sees of a profile, minus the times a split or merge rightly changes. */
    const snapshot = async (id: string) => {
      const p = (await t.get(`/api/profiles/${id}`)).json();
      const events = await eventsOf(id);
      return {
        id: p.id,
        traits: p.traits,
        provenance: p.provenance,
        identities: p.identities.map((i: { type: string; value: string }) => `${i.type}:${i.value}`).sort(),
        createdAt: p.createdAt,
        lastSeenAt: p.lastSeenAt,
        events: events.events.map((e) => e.messageId).sort(),
      };
    };

    it('a second userId never joins a profile: the shared email is left unlinked and the conflict listed', async () => {
      await t.send('/v1/identify', { userId: 'lim-1', traits: { email: 'family@example.com' } });
      await t.drain();
      await t.send('/v1/identify', { userId: 'lim-2', traits: { email: 'Family@Example.com', name: 'Second Person' } });
      await t.drain();
      const first = await profileBy('userId=lim-1');
      const second = await profileBy('userId=lim-2');
      expect(second.id).not.toBe(first.id);
      expect(second.traits.name).toBe('Second Person');
      expect((await profileBy('email=family@example.com')).id).toBe(first.id);
      const conflicts = (await api('GET', '/api/identity/conflicts')).json().conflicts;
      expect(conflicts[0]).toMatchObject({ type: 'email', reason: 'limit', limitType: 'userId' });
      expect([...conflicts[0].profiles].sort()).toEqual([first.id, second.id].sort());
    });

    it('settings: blocklisted values link nobody, and bad settings are refused naming the field', async () => {
      const bad = await api('PUT', '/api/settings/identity', { thresholds: { auto: 0.5, review: 0.9 } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().field).toBe('thresholds.review');
      const unknownRule = await api('PUT', '/api/settings/identity', { survivorship: { default: 'loudest' } });
      expect(unknownRule.statusCode).toBe(400);
      expect(unknownRule.json().message).toContain('survivorship');
      const ok = await api('PUT', '/api/settings/identity', { blocklist: ['noemail@shop.cn'] });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json().types.userId).toEqual({ priority: 1, limit: 1 });
      await t.send('/v1/identify', { anonymousId: 'till-a', traits: { email: 'NoEmail@Shop.cn' } });
      await t.send('/v1/identify', { anonymousId: 'till-b', traits: { email: 'noemail@shop.cn' } });
      await t.drain();
      expect((await profileBy('anonymousId=till-a')).id).not.toBe((await profileBy('anonymousId=till-b')).id);
      expect((await t.get('/api/profiles?email=noemail@shop.cn')).json().profiles).toEqual([]);
      await api('PUT', '/api/settings/identity', {});
    });

    it('a merge by a shared identifier and its undo leave both profiles exactly as before', async () => {
      await t.send('/v1/identify', { anonymousId: 'rt-anon', timestamp: '2025-01-01T00:00:00Z', traits: { email: 'rt-a@example.com', city: 'Hangzhou', plan: 'free' } });
      await t.send('/v1/track', { anonymousId: 'rt-anon', event: 'Viewed', timestamp: '2025-01-02T00:00:00Z' });
      await t.drain();
      await t.send('/v1/identify', { userId: 'rt-user', timestamp: '2025-02-01T00:00:00Z', traits: { phone: '13812345678', city: 'Shanghai', birthday: '1990-03-04' } });
      await t.send('/v1/track', { userId: 'rt-user', event: 'Order Completed', timestamp: '2025-02-02T00:00:00Z', properties: { revenue: 10 } });
      await t.drain();
      const a = await profileBy('anonymousId=rt-anon');
      const b = await profileBy('userId=rt-user');
      const beforeA = await snapshot(a.id);
      const beforeB = await snapshot(b.id);

      await t.send('/v1/identify', { userId: 'rt-user', anonymousId: 'rt-anon', timestamp: '2025-03-01T00:00:00Z' });
      await t.drain();
      const merged = await profileBy('userId=rt-user');
      expect(merged.id).toBe(a.id);
      // Nothing lost: every event, and the most recent value of each trait.
      expect((await eventsOf(a.id)).total).toBe(beforeA.events.length + beforeB.events.length + 1);
      expect(merged.traits).toMatchObject({ email: 'rt-a@example.com', phone: '+8613812345678', city: 'Shanghai', plan: 'free', birthday: '1990-03-04' });
      expect(merged.provenance.city).toMatchObject({ rule: 'recent', at: '2025-02-01T00:00:00.000Z' });
      const history = (await api('GET', `/api/profiles/${a.id}/merges`)).json().merges;
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ from: b.id, into: a.id, reason: 'shared_identifier', identities: 2, undoneAt: null });

      const split = await api('POST', `/api/profiles/${a.id}/split`, { merge: history[0].id });
      expect(split.statusCode, split.body).toBe(200);
      expect(split.json()).toMatchObject({ survivor: a.id, split: b.id, identities: 2, events: 2 });
      const afterA = await snapshot(a.id);
      const afterB = await snapshot(b.id);
      // The message that named both stays with the survivor, which also keeps its anonymousId.
      expect(afterA.events.filter((m) => !beforeA.events.includes(m))).toHaveLength(1);
      expect({ ...afterA, events: beforeA.events, lastSeenAt: beforeA.lastSeenAt }).toEqual(beforeA);
      expect(afterA.lastSeenAt).toBe('2025-03-01T00:00:00.000Z');
      expect(afterB).toEqual(beforeB);
      const again = await api('POST', `/api/profiles/${a.id}/split`, { merge: history[0].id });
      expect(again.statusCode).toBe(409);
      expect(again.json().field).toBe('merge');
    });

    it('manual merge moves everything, refuses what would break a limit, and split-off records take their events along', async () => {
      const record = (source: string, id: string) => ({ externalIds: [{ type: 'record', collection: source, id }] });
      await t.send('/v1/identify', { anonymousId: 'mm-1', context: record('crm', 'C-77'), traits: { name: '李娜', city: '北京' } });
      await t.send('/v1/track', { anonymousId: 'mm-1', event: 'Order Completed', context: record('crm', 'C-77') });
      await t.drain();
      await t.send('/v1/identify', { anonymousId: 'mm-2', context: record('pos', 'P-9'), traits: { name: '李娜', phone: '13900001111' } });
      await t.send('/v1/track', { anonymousId: 'mm-2', event: 'Order Completed', context: record('pos', 'P-9') });
      await t.send('/v1/track', { anonymousId: 'mm-2', event: 'Order Refunded', context: record('pos', 'P-9') });
      await t.drain();
      const x = await profileBy('anonymousId=mm-1');
      const y = await profileBy('anonymousId=mm-2');

      const notFound = await api('POST', '/api/profiles/merge', { into: x.id, from: ['00000000-0000-4000-8000-000000000000'] });
      expect(notFound.statusCode).toBe(404);
      expect(notFound.json().field).toBe('from');
      const res = await api('POST', '/api/profiles/merge', { into: x.id, from: [y.id] });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ into: x.id, merged: [y.id] });
      const merged = (await t.get(`/api/profiles/${y.id}`)).json();
      expect(merged.id).toBe(x.id);
      expect(merged.records).toEqual(expect.arrayContaining([{ source: 'crm', id: 'C-77' }, { source: 'pos', id: 'P-9' }]));
      expect((await eventsOf(x.id)).total).toBe(5);
      expect((await api('GET', `/api/profiles/${x.id}/merges`)).json().merges.at(-1)).toMatchObject({ reason: 'manual', actor: expect.stringMatching(/^token:/) });

      // A userId each: a manual merge is held to the same limits as a message.
      await t.send('/v1/identify', { userId: 'mm-u1' });
      await t.send('/v1/identify', { userId: 'mm-u2' });
      await t.drain();
      const u1 = await profileBy('userId=mm-u1');
      const u2 = await profileBy('userId=mm-u2');
      const refused = await api('POST', '/api/profiles/merge', { into: u1.id, from: [u2.id] });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().message).toContain('userId');

      const split = await api('POST', `/api/profiles/${x.id}/split`, { identities: [{ type: 'record', value: 'pos:P-9' }, { type: 'anonymousId', value: 'mm-2' }, { type: 'phone', value: '139 0000 1111' }] });
      expect(split.statusCode, split.body).toBe(200);
      const { split: newId, events } = split.json();
      expect(events).toBe(3);
      const off = (await t.get(`/api/profiles/${newId}`)).json();
      expect(off.records).toEqual([{ source: 'pos', id: 'P-9' }]);
      expect(off.traits).toMatchObject({ name: '李娜', phone: '+8613900001111' });
      expect(off.traits.city).toBeUndefined();
      const kept = (await t.get(`/api/profiles/${x.id}`)).json();
      expect(kept.traits.phone).toBeUndefined();
      expect((await eventsOf(x.id)).total + (await eventsOf(newId)).total).toBe(5);
      const nothing = await api('POST', `/api/profiles/${x.id}/split`, { identities: [{ type: 'email', value: 'nobody@example.com' }] });
      expect(nothing.statusCode).toBe(409);
      expect(nothing.json().field).toBe('identities');
    });

    it('messages for one new person from two sources, taken by concurrent workers, make one profile', async () => {
      const people = 40;
      for (let i = 0; i < people; i++) {
        await t.send('/v1/identify', { anonymousId: `web-${i}`, traits: { email: `same-${i}@example.com` } });
        await t.send('/v1/identify', { userId: `crm-${i}`, traits: { email: ` Same-${i}@Example.com` } });
      }
      const deps = { database: t.database, keyring: t.keyring, junk: createJunkIdFilter() };
      const worker = async () => {
        while ((await processBatch(deps, 3)).processed > 0);
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      for (let i = 0; i < people; i++) {
        const web = await profileBy(`anonymousId=web-${i}`);
        expect((await profileBy(`userId=crm-${i}`)).id).toBe(web.id);
      }
    });
  });
}
