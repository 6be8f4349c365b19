import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recommendationsFor, recommendFor } from '../src/analytics/recommender-run.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/**
 * Recommendations for a campaign's batch of people: the same lists one
 * profile's recommendations give, for many profiles at once.
 */

const DAY = 86_400_000;
const GOODS = ['茶壶', 'Teacup', 'Kettle', 'Saucer', 'Tea tray', 'Strainer', 'Honey', 'Green tea', 'Black tea', 'Oolong'];

describe.each(backends)('batch recommendations on $name', (backend) => {
  let t: TestApp;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestApp(backend);
    // 40 shoppers, 2–4 orders each, with goods that go together (a pot with cups, a tea with its strainer).
    const batch: unknown[] = [];
    for (let i = 0; i < 40; i++) {
      const orders = 2 + (i % 3);
      for (let n = 0; n < orders; n++) {
        const a = (i + n * 3) % GOODS.length;
        const names = [GOODS[a]!, GOODS[(a + 1) % GOODS.length]!, ...(i % 4 === 0 ? [GOODS[(a + 5) % GOODS.length]!] : [])];
        batch.push({
          type: 'track',
          userId: `shopper-${i}`,
          event: 'Order Completed',
          timestamp: new Date(Date.now() - (100 - i - n * 20) * DAY).toISOString(),
          properties: { order_id: `o-${i}-${n}`, revenue: 20 + n, products: names.map((name) => ({ name, category: name.length > 6 ? 'long' : 'short' })) },
        });
      }
    }
    // One person who never ordered.
    batch.push({ type: 'identify', userId: 'browser-1', traits: { city: '上海' } });
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
    for (const user of ['shopper-0', 'shopper-1', 'shopper-2', 'shopper-7', 'shopper-13', 'shopper-38', 'browser-1', 'shopper-39']) {
      const res = await t.get(`/api/profiles?userId=${user}`);
      ids.set(user, (res.json() as { profiles: Array<{ id: string }> }).profiles[0]!.id);
    }
  });
  afterAll(async () => t?.close());

  it('gives empty lists, without failing, when the workspace has too few orders to learn from', async () => {
    await t.database.db.insertInto('workspaces').values({ id: 'tiny-shop', name: 'Tiny', settings: '{}' }).execute();
    const who = [randomUUID(), randomUUID()];
    const lists = await recommendationsFor(t.database.db, 'tiny-shop', who, 3);
    expect([...lists.entries()]).toEqual(who.map((id) => [id, []]));
  });

  it('gives each profile the list recommendFor gives it', async () => {
    const who = ['shopper-0', 'shopper-1', 'shopper-2', 'shopper-7', 'shopper-13', 'shopper-38', 'browser-1'].map((u) => ids.get(u)!);
    const lists = await recommendationsFor(t.database.db, 'default', who, 4);
    expect([...lists.keys()]).toEqual(who);
    let nonEmpty = 0;
    for (const id of who) {
      const one = await recommendFor(t.database.db, 'default', id, 4);
      expect(lists.get(id), id).toEqual(one!.recommendations.map((r) => r.item));
      if (lists.get(id)!.length > 0) nonEmpty += 1;
    }
    expect(nonEmpty).toBe(who.length);
    // Nothing anyone already bought is offered again.
    const owned = await recommendFor(t.database.db, 'default', ids.get('shopper-0')!, 10);
    expect(owned!.owned).toBeGreaterThan(0);
    expect(new Set((await recommendationsFor(t.database.db, 'default', [ids.get('shopper-0')!], 10)).get(ids.get('shopper-0')!)).size).toBe(owned!.recommendations.length);
  });

  it('answers every id given: unknown, malformed and upper-case ids, repeats, and k of 0', async () => {
    const known = ids.get('shopper-1')!;
    const unknown = randomUUID();
    const lists = await recommendationsFor(t.database.db, 'default', [known, unknown, 'not-a-uuid', known.toUpperCase(), known], 3);
    expect(lists.size).toBe(4);
    expect(lists.get(known)).toHaveLength(3);
    expect(lists.get(known.toUpperCase())).toEqual(lists.get(known));
    // An id with no orders gets what a person who bought nothing gets: the popular items.
    expect(lists.get(unknown)).toHaveLength(3);
    expect(lists.get('not-a-uuid')).toEqual([]);
    expect([...(await recommendationsFor(t.database.db, 'default', [known], 0)).values()]).toEqual([[]]);
    expect((await recommendationsFor(t.database.db, 'default', [], 3)).size).toBe(0);
  });

  it('gives a restricted person an empty list', async () => {
    const restricted = ids.get('shopper-39')!;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/dsar',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'restrict', identifier: { type: 'userId', value: 'shopper-39' } }),
    });
    expect(res.statusCode, res.body).toBe(201);
    const lists = await recommendationsFor(t.database.db, 'default', [restricted, ids.get('shopper-2')!], 3);
    expect(lists.get(restricted)).toEqual([]);
    expect(lists.get(ids.get('shopper-2')!)).toHaveLength(3);
  });
});
