import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/**
 * GDPR Art. 18: a restricted person is kept but not used — out of segments
 * and computed tags (real time and full refresh, across merges), out of the
 * profile export, out of per-person analytics (their scores frozen) — until
 * the restriction is lifted through POST /api/dsar/:id/lift.
 */

const EMAIL = 'rhea.restricta@example.com';
const COMPLAINT = 'rhea says the parcel was soaked';
const DAY = 86_400_000;

describe.each(backends)('restriction of processing ($name)', (backend) => {
  let t: TestApp;
  let person = '';
  let bystander = '';
  let segmentId = '';
  let ruleTagId = '';
  let topTagId = '';
  let requestId = '';
  let accessId = '';
  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) });
  const body = (res: LightMyRequestResponse) => res.json() as Record<string, unknown>;
  const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
  const members = async () => (await admin('GET', `/api/segments/${segmentId}/members`)).body.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
  const exported = async () => (await admin('GET', '/api/profiles/export')).body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; traits: Record<string, unknown> });
  const tagged = async (tagId: string) => (await t.database.db.selectFrom('profile_tags').select('profile_id').where('workspace_id', '=', 'default').where('tag_id', '=', tagId).execute()).map((r) => r.profile_id).sort();
  const scoresOf = (id: string) => t.database.db.selectFrom('profile_scores').select(['name', 'value', 'label', 'computed_at']).where('workspace_id', '=', 'default').where('profile_id', '=', id).orderBy('name').execute();
  const lookUp = async (query: string) => ((await admin('GET', `/api/profiles?${query}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;

  beforeAll(async () => {
    t = await startTestApp(backend);
    const order = (userId: string, n: number, days: number, product: string) => ({ type: 'track', userId, event: 'Order Completed', timestamp: ago(days), properties: { revenue: 20 + n, order_id: `${userId}-${n}`, category: product, products: [{ name: product }] } });
    const res = await t.send('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'rhea', traits: { email: EMAIL, name: 'Rhea Restricta', city: 'Oslo' } },
        order('rhea', 1, 20, 'kettle'),
        order('rhea', 2, 5, 'kettle'),
        { type: 'track', userId: 'rhea', event: 'Feedback Submitted', timestamp: ago(3), properties: { feedback_type: 'complaint', comment: COMPLAINT } },
        { type: 'identify', userId: 'quinn', traits: { email: 'quinn.bystander@example.com', city: 'Oslo' } },
        order('quinn', 1, 12, 'mug'),
        { type: 'identify', userId: 'sven', traits: { email: 'sven.elsewhere@example.com', city: 'Bergen' } },
        order('sven', 1, 40, 'mug'),
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.drain();
    person = await lookUp(`email=${EMAIL}`);
    bystander = await lookUp('userId=quinn');
    const segment = await admin('POST', '/api/segments', { name: 'Oslo', rule: { trait: 'city', op: 'eq', value: 'Oslo' } });
    expect(body(segment).size).toBe(2);
    segmentId = String(body(segment).id);
    ruleTagId = String(body(await admin('POST', '/api/tags', { name: 'oslo buyer', definition: { kind: 'rule', rule: { all: [{ trait: 'city', op: 'eq', value: 'Oslo' }, { event: 'Order Completed' }] } } })).id);
    topTagId = String(body(await admin('POST', '/api/tags', { name: 'favourite', definition: { kind: 'top', event: 'Order Completed', property: 'category' } })).id);
    expect(await tagged(ruleTagId)).toEqual([person, bystander].sort());
    expect(await tagged(topTagId)).toContain(person);
    expect((await admin('POST', '/api/analytics/rfm/refresh', { wait: true })).statusCode).toBe(200);
    expect((await scoresOf(person)).map((s) => s.name)).toContain('rfm_segment');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('restrict takes the person out of segments and computed tags at once', async () => {
    const res = await admin('POST', '/api/dsar', { type: 'restrict', identifier: { type: 'email', value: EMAIL } });
    expect(res.statusCode, res.body).toBe(201);
    requestId = String(body(res).id);
    expect(body(res).result).toEqual({ restricted: 1 });
    expect(await members()).toEqual([bystander]);
    expect(body(await admin('GET', `/api/segments/${segmentId}`)).size).toBe(1);
    expect(await tagged(ruleTagId)).toEqual([bystander]);
    expect(await tagged(topTagId)).not.toContain(person);
    const exits = body(await admin('GET', `/api/membership-changes?profile=${person}`)).changes as Array<{ change: string; cause: string; setId: string }>;
    expect(exits.filter((c) => c.change === 'exit').map((c) => c.setId).sort()).toEqual([segmentId, ruleTagId, topTagId].sort());
    expect(body(await admin('POST', '/api/segments/preview', { rule: { trait: 'city', op: 'eq', value: 'Oslo' } })).count).toBe(1);
    // The data stays: the profile is still there to look up.
    expect((await admin('GET', `/api/profiles/${person}`)).statusCode).toBe(200);
  });

  it('keeps them out through new events, full refreshes, new segments and a merge', async () => {
    expect((await t.send('/v1/batch', { batch: [lateOrder('rhea'), { type: 'identify', anonymousId: 'rhea-phone', traits: { city: 'Oslo' } }] })).statusCode).toBe(200);
    await t.drain();
    // The anonymous visitor is someone else until they sign in: in the segment.
    const visitor = await lookUp('anonymousId=rhea-phone');
    expect((await members()).sort()).toEqual([bystander, visitor].sort());
    expect((await t.send('/v1/identify', { userId: 'rhea', anonymousId: 'rhea-phone' })).statusCode).toBe(200);
    await t.drain();
    // Signing in merged the visitor into the person: the restriction follows them.
    expect(await members()).toEqual([bystander]);
    expect((await admin('POST', '/api/segments/refresh')).statusCode).toBe(200);
    expect(await members()).toEqual([bystander]);
    expect(await tagged(ruleTagId)).toEqual([bystander]);
    const everyone = await admin('POST', '/api/segments', { name: 'everyone with an email', rule: { trait: 'email', op: 'exists' } });
    expect(body(everyone).size).toBe(2);

    function lateOrder(userId: string) {
      return { type: 'track', userId, event: 'Order Completed', timestamp: ago(1), properties: { revenue: 30, order_id: `${userId}-late`, category: 'kettle' } };
    }
  });

  it('leaves them out of the profile export', async () => {
    const ids = (await exported()).map((p) => p.id);
    expect(ids).toContain(bystander);
    expect(ids).not.toContain(person);
    expect(ids).toHaveLength(2);
  });

  it('leaves them out of per-person analytics and freezes the scores they had', async () => {
    const before = await scoresOf(person);
    const rfm = await admin('POST', '/api/analytics/rfm/refresh', { wait: true });
    expect(rfm.statusCode).toBe(200);
    expect((body(rfm).result as { customers: number }).customers).toBe(2);
    expect(await scoresOf(person)).toEqual(before);
    expect((await scoresOf(bystander)).length).toBeGreaterThan(0);
    const feedback = await admin('POST', '/api/analytics/feedback', { days: 365, wait: true });
    expect(feedback.statusCode).toBe(200);
    expect(JSON.stringify(body(feedback).result)).not.toContain(COMPLAINT);
    const recommended = await admin('GET', `/api/profiles/${person}/recommendations`);
    expect(recommended.statusCode).toBe(400);
    expect(body(recommended).field).toBe('id');
  });

  it('lifting needs a restrict request, a reason and the person told', async () => {
    const access = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: EMAIL }, verification: { method: 'email_link', by: 'desk' } });
    accessId = String(body(access).id);
    expect(body(await admin('GET', `/api/dsar/${accessId}/archive`)).restricted).toBe(true);
    const notTold = await admin('POST', `/api/dsar/${requestId}/lift`, { reason: 'accuracy verified', informed: false });
    expect(notTold.statusCode).toBe(400);
    expect(body(notTold).field).toBe('informed');
    expect((await admin('POST', `/api/dsar/${requestId}/lift`, { informed: true })).statusCode).toBe(400);
    const wrongKind = await admin('POST', `/api/dsar/${accessId}/lift`, { reason: 'x', informed: true });
    expect(wrongKind.statusCode).toBe(409);
    expect((await admin('POST', '/api/dsar/00000000-0000-4000-8000-000000000000/lift', { reason: 'x', informed: true })).statusCode).toBe(404);
    expect(await members()).toEqual([bystander]);
  });

  it('lift: the person is used again at once, and the lift is on record', async () => {
    const res = await admin('POST', `/api/dsar/${requestId}/lift`, { reason: 'accuracy verified', informed: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(body(res).result).toMatchObject({ restricted: 1, lifted: 1, liftReason: 'accuracy verified', liftedAt: expect.any(String) });
    expect((await members()).sort()).toEqual([person, bystander].sort());
    expect(await tagged(ruleTagId)).toEqual([person, bystander].sort());
    expect(await tagged(topTagId)).toContain(person);
    expect((await exported()).map((p) => p.id)).toContain(person);
    expect(body(await admin('GET', `/api/dsar/${accessId}/archive`)).restricted).toBe(false);
    const audit = body(await admin('GET', '/api/audit?action=dsar.lift')).entries as Array<{ target: string; profileId: string; details: Record<string, unknown> }>;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target: requestId, profileId: person, details: { lifted: 1, reason: 'accuracy verified' } });
    const before = await scoresOf(person);
    expect((await admin('POST', '/api/analytics/rfm/refresh', { wait: true })).statusCode).toBe(200);
    expect((await scoresOf(person)).map((s) => s.computed_at.getTime())).not.toEqual(before.map((s) => s.computed_at.getTime()));
    // Once is enough.
    expect((await admin('POST', `/api/dsar/${requestId}/lift`, { reason: 'again', informed: true })).statusCode).toBe(409);
  });

  it('follows a restricted profile merged into an unrestricted one, and lifts it there', async () => {
    expect((await t.send('/v1/identify', { userId: 'vera', traits: { email: 'vera.varga@example.com', city: 'Oslo' } })).statusCode).toBe(200);
    await t.drain();
    expect((await t.send('/v1/identify', { anonymousId: 'vera-phone', traits: { city: 'Oslo' } })).statusCode).toBe(200);
    await t.drain();
    const vera = await lookUp('userId=vera');
    const phone = await lookUp('anonymousId=vera-phone');
    const restricted = await admin('POST', '/api/dsar', { type: 'restrict', identifier: { type: 'anonymousId', value: 'vera-phone' } });
    expect(restricted.statusCode, restricted.body).toBe(201);
    expect(await members()).toContain(vera);
    expect(await members()).not.toContain(phone);
    // The older profile survives the sign-in; the restriction on the visitor now covers it.
    expect((await t.send('/v1/identify', { userId: 'vera', anonymousId: 'vera-phone' })).statusCode).toBe(200);
    await t.drain();
    expect(await lookUp('anonymousId=vera-phone')).toBe(vera);
    expect(await members()).not.toContain(vera);
    expect((await exported()).map((p) => p.id)).not.toContain(vera);
    const lifted = await admin('POST', `/api/dsar/${String(body(restricted).id)}/lift`, { reason: 'objection decided', informed: true });
    expect(lifted.statusCode, lifted.body).toBe(200);
    expect(await members()).toContain(vera);
  });
});
