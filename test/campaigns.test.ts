import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/activate/adapters/webhook.js';
import { armOf } from '../src/activate/holdout.js';
import { finishCampaigns, runDueCampaigns } from '../src/activate/scheduler.js';
import { createSender, type Sender } from '../src/activate/sender.js';
import { secretHash } from '../src/privacy/accounts.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/**
 * Segment → campaign → a real local webhook receiver: exactly the consented
 * members of the treatment arm get the message, once, personalized, with a
 * coupon of their own; the control group gets nothing; the rest are skipped
 * with their reason; a later order is attributed to the campaign.
 */

const DAY = 86_400_000;
const CITY = 'Campaignville';
// Names cleaning keeps (no digits): a surname and a given name, distinct for the first 50.
const nameOf = (i: number) => `${'王李张刘陈杨赵黄周吴'[i % 10]}${'伟芳娜敏静'[Math.floor(i / 10) % 5]}`;

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { idempotencyKey: string; profileId: string; body: string; subject: string | null; coupon: string | null; campaignId: string };
}

/** A webhook receiver that keeps every request, and answers 500 to the keys it is told to fail once. */
function startReceiver(): Promise<{ server: Server; url: string; got: Received[]; failOnce: Set<string> }> {
  const got: Received[] = [];
  const failOnce = new Set<string>();
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      if (failOnce.delete(body.idempotencyKey)) {
        res.statusCode = 500;
        res.end('try later');
        return;
      }
      got.push({ headers: req.headers, raw, body });
      res.end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, failOnce })));
}

describe.each(backends)('campaigns end to end on $name', (backend) => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sender: Sender;
  let secret: string;
  let destinationId: string;
  let segmentId: string;
  let poolId: string;
  const ids = new Map<string, string>();
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = ADMIN_TOKEN) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  // 30 consenting people, 4 who withdrew, 4 who never said, 2 restricted, 2 without the city (outside the segment).
  const people = [
    ...Array.from({ length: 30 }, (_, i) => ({ user: `yes-${i}`, consent: true as boolean | null, city: CITY })),
    ...Array.from({ length: 4 }, (_, i) => ({ user: `no-${i}`, consent: false as boolean | null, city: CITY })),
    ...Array.from({ length: 4 }, (_, i) => ({ user: `silent-${i}`, consent: null as boolean | null, city: CITY })),
    ...Array.from({ length: 2 }, (_, i) => ({ user: `restricted-${i}`, consent: true as boolean | null, city: CITY })),
    ...Array.from({ length: 2 }, (_, i) => ({ user: `elsewhere-${i}`, consent: true as boolean | null, city: 'Othertown' })),
  ];

  beforeAll(async () => {
    t = await startTestApp(backend);
    receiver = await startReceiver();
    const batch = people.map((p, i) => ({
      type: 'identify',
      userId: p.user,
      traits: { name: nameOf(i), email: `${p.user}@example.com`, city: p.city },
      ...(p.consent === null ? {} : { context: { consent: { categoryPreferences: { personalization: p.consent } } } }),
      timestamp: new Date(Date.now() - 10 * DAY).toISOString(),
    }));
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
    for (const p of people) {
      const res = await t.get(`/api/profiles?userId=${p.user}`);
      ids.set(p.user, (res.json() as { profiles: Array<{ id: string }> }).profiles[0]!.id);
    }
    const segment = await api('POST', '/api/segments', { name: 'Campaignville people', rule: { trait: 'city', op: 'eq', value: CITY } });
    expect(segment.statusCode).toBe(201);
    segmentId = (segment.json() as { id: string }).id;
    const destination = await api('POST', '/api/destinations', { name: 'test receiver', kind: 'webhook', config: { url: receiver.url, concurrency: 8 } });
    expect(destination.statusCode, destination.body).toBe(201);
    ({ id: destinationId, secret } = destination.json() as { id: string; secret: string });
    const pool = await api('POST', '/api/coupon-pools', { name: 'welcome codes' });
    expect(pool.statusCode, pool.body).toBe(201);
    poolId = (pool.json() as { id: string }).id;
    expect((await api('POST', `/api/coupon-pools/${poolId}/codes`, { generate: { count: 100, prefix: 'HELLO-' } })).statusCode).toBe(200);
    sender = createSender({ database: t.database, keyring: t.keyring, activationDir: '/tmp/custodian-test-unused', publicUrl: 'https://cdp.example.com' });
  });

  afterAll(async () => {
    await sender?.close();
    receiver?.server.close();
    await t?.close();
  });

  const campaignBody = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    channel: 'webhook',
    segmentId,
    destinationId,
    controlPercent: 20,
    template: { subject: '给{{traits.name}}的礼物', body: '你好 {{traits.name | 朋友}}，你的优惠码是 {{coupon}}。退订：{{unsubscribe_url}}' },
    couponPoolId: poolId,
    schedule: { kind: 'once' },
    costPerMessage: 0.5,
    fixedCost: 10,
    attributionDays: 7,
    ...extra,
  });

  let campaignId: string;
  const expectedTreatment = () => people.filter((p) => p.city === CITY && p.consent === true && !p.user.startsWith('restricted')).map((p) => ids.get(p.user)!).filter((id) => armOf(campaignId, id, 20) === 'treatment');

  it('refuses a campaign whose template, schedule or references are wrong, naming the field', async () => {
    const bad = await api('POST', '/api/campaigns', campaignBody('bad template', { template: { body: 'Hi {{nonsense.thing}}' } }));
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { field: string }).field).toMatch(/^template/);
    const noSegment = await api('POST', '/api/campaigns', campaignBody('no segment', { segmentId: 'no-such-segment' }));
    expect(noSegment.statusCode).toBe(400);
    expect((noSegment.json() as { field: string }).field).toBe('segmentId');
    const wrongPurpose = await api('POST', '/api/campaigns', campaignBody('wrong purpose', { channel: 'email', purpose: 'analytics' }));
    expect(wrongPurpose.statusCode).toBe(400);
    expect((wrongPurpose.json() as { field: string }).field).toBe('purpose');
  });

  it('sends exactly the consented treatment members once, personalized and signed, each with a coupon of their own', async () => {
    const created = await api('POST', '/api/campaigns', campaignBody('Welcome'));
    expect(created.statusCode, created.body).toBe(201);
    campaignId = (created.json() as { id: string; status: string }).id;
    expect((created.json() as { status: string }).status).toBe('draft');
    // A draft sends nothing.
    await runDueCampaigns(t.database.db);
    expect((await sender.drain()).claimed).toBe(0);

    const launched = await api('POST', `/api/campaigns/${campaignId}/launch`);
    expect(launched.statusCode, launched.body).toBe(200);
    expect(await runDueCampaigns(t.database.db)).toBe(people.filter((p) => p.city === CITY).length);
    // Restricted (GDPR Art. 18) after being queued: the sender must still leave them out.
    for (const user of ['restricted-0', 'restricted-1']) {
      await t.database.db.insertInto('restricted_profiles').values({ workspace_id: 'default', profile_id: ids.get(user)!, request_id: randomUUID(), created_at: new Date() }).execute();
    }
    const outcome = await sender.drain();
    const expected = expectedTreatment();
    expect(expected.length).toBeGreaterThan(15);
    expect(outcome.sent).toBe(expected.length);

    const keys = receiver.got.map((r) => r.body.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(receiver.got.map((r) => r.body.profileId))).toEqual(new Set(expected));
    const coupons = receiver.got.map((r) => r.body.coupon);
    expect(coupons.every((c) => typeof c === 'string' && c.startsWith('HELLO-'))).toBe(true);
    expect(new Set(coupons).size).toBe(coupons.length);
    for (const r of receiver.got) {
      expect(verifySignature(secret, String(r.headers['x-custodian-signature']), r.raw)).toBe(true);
      expect(r.body.body).toMatch(/^你好 \p{Script=Han}{2}，你的优惠码是 HELLO-\S+。退订：https:\/\/cdp\.example\.com\/u\/\S+$/u);
      expect(r.body.body).toContain(r.body.coupon!);
    }

    // Nobody outside the segment, nobody in control, nobody without consent or restricted.
    const sentTo = new Set(receiver.got.map((r) => r.body.profileId));
    for (const p of people) {
      const id = ids.get(p.user)!;
      if (p.city !== CITY || p.consent !== true || p.user.startsWith('restricted') || armOf(campaignId, id, 20) === 'control') expect(sentTo.has(id)).toBe(false);
    }
    const byReason = await t.database.db.selectFrom('campaign_sends').select(['reason', sql<string>`count(*)`.as('n')]).where('campaign_id', '=', campaignId).groupBy('reason').execute();
    const reasons = Object.fromEntries(byReason.map((r) => [r.reason ?? 'sent', Number(r.n)]));
    const inSegment = people.filter((p) => p.city === CITY);
    const treated = (user: string) => armOf(campaignId, ids.get(user)!, 20) === 'treatment';
    expect(reasons).toEqual(
      Object.fromEntries(
        Object.entries({
          sent: expected.length,
          control: inSegment.filter((p) => !treated(p.user)).length,
          consent_withdrawn: inSegment.filter((p) => p.consent === false && treated(p.user)).length,
          no_consent: inSegment.filter((p) => p.consent === null && treated(p.user)).length,
          restricted: inSegment.filter((p) => p.user.startsWith('restricted') && treated(p.user)).length,
        }).filter(([, n]) => n > 0),
      ),
    );

    // Running again sends nothing more; the campaign is done once its outbox is empty.
    await runDueCampaigns(t.database.db);
    expect((await sender.drain()).claimed).toBe(0);
    expect(await finishCampaigns(t.database.db)).toBe(1);
    const after = (await api('GET', `/api/campaigns/${campaignId}`)).json() as { status: string; sends: Record<string, number> };
    expect(after.status).toBe('done');
    expect(after.sends.sent).toBe(expected.length);
  });

  it('attributes a later order to the campaign and reports uplift and ROI', async () => {
    const sentTo = receiver.got.find((r) => r.body.campaignId === campaignId)!.body.profileId;
    const user = [...ids.entries()].find(([, id]) => id === sentTo)![0];
    const order = { type: 'track', userId: user, event: 'Order Completed', properties: { revenue: 88, order_id: 'o-1' }, timestamp: new Date().toISOString() };
    expect((await t.send('/v1/track', order)).statusCode).toBe(200);
    await t.drain();
    const report = await api('GET', `/api/campaigns/${campaignId}/report`);
    expect(report.statusCode, report.body).toBe(200);
    const r = report.json() as { counts: { sent: number }; attribution: { orders: number; revenue: number }; cost: number; roi: number | null };
    expect(r.attribution.orders).toBe(1);
    expect(r.attribution.revenue).toBe(88);
    expect(r.cost).toBeCloseTo(10 + 0.5 * r.counts.sent, 6);
    expect(r.roi).toBeCloseTo((88 - r.cost) / r.cost, 6);
  });

  it('checks consent again at send time, retries a failed delivery with backoff, and caps how often a person is contacted', async () => {
    receiver.got.length = 0;
    const created = await api('POST', '/api/campaigns', campaignBody('Second touch', { controlPercent: 0, couponPoolId: null, template: { body: 'Hi again {{traits.name}}' }, frequencyCap: { max: 1, days: 7 } }));
    expect(created.statusCode, created.body).toBe(201);
    const second = (created.json() as { id: string }).id;
    expect((await api('POST', `/api/campaigns/${second}/launch`)).statusCode).toBe(200);
    await runDueCampaigns(t.database.db);
    // Queued with consent; withdrawn before the send.
    const withdrawn = ids.get('yes-0')!;
    const w = await api('POST', `/api/profiles/${withdrawn}/consents`, { purpose: 'personalization', granted: false, legalBasis: 'consent' });
    expect(w.statusCode, w.body).toBe(200);
    // Someone not contacted by the first campaign (held out there) fails once here.
    const fresh = people.map((p) => ids.get(p.user)!).find((id) => id !== withdrawn && armOf(campaignId, id, 20) === 'control' && people.find((p) => ids.get(p.user) === id)!.consent === true && !people.find((p) => ids.get(p.user) === id)!.user.startsWith('restricted'));
    expect(fresh).toBeDefined();
    receiver.failOnce.add(`${second}:${fresh}`);

    const first = await sender.drain();
    expect(first.retried).toBe(1);
    expect(receiver.got.map((r) => r.body.profileId)).not.toContain(fresh);
    // Everyone the first campaign reached is capped; the withdrawn person is skipped for that.
    const rows = await t.database.db.selectFrom('campaign_sends').select(['profile_id', 'status', 'reason', 'attempts', 'next_attempt_at']).where('campaign_id', '=', second).execute();
    const of = (id: string) => rows.find((r) => r.profile_id === id)!;
    expect(of(withdrawn).reason).toBe('consent_withdrawn');
    for (const id of expectedTreatment().filter((x) => x !== withdrawn)) expect(of(id).reason).toBe('frequency_cap');
    expect(of(fresh!).status).toBe('pending');
    expect(of(fresh!).next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 10_000);

    // Later, the retry goes out, and both attempts are on record.
    const later = await sender.drain({ now: () => new Date(Date.now() + 2 * 3_600_000) });
    expect(later.sent).toBe(1);
    expect(receiver.got.filter((r) => r.body.profileId === fresh)).toHaveLength(1);
    const attempts = await t.database.db.selectFrom('send_attempts').select(['attempt', 'outcome', 'status_code']).where('campaign_id', '=', second).where('profile_id', '=', fresh!).orderBy('attempt').execute();
    expect(attempts).toEqual([
      { attempt: 1, outcome: 'retry', status_code: 500 },
      { attempt: 2, outcome: 'sent', status_code: 200 },
    ]);
  });

  it('sends a round bigger than one slice in full, each slice recorded as it goes', async () => {
    receiver.got.length = 0;
    const bulk = Array.from({ length: 230 }, (_, i) => ({
      type: 'identify',
      userId: `bulk-${i}`,
      traits: { city: 'Bulkville' },
      context: { consent: { categoryPreferences: { personalization: true } } },
    }));
    expect((await t.send('/v1/batch', { batch: bulk })).statusCode).toBe(200);
    await t.drain();
    const segment = await api('POST', '/api/segments', { name: 'Bulkville people', rule: { trait: 'city', op: 'eq', value: 'Bulkville' } });
    const created = await api('POST', '/api/campaigns', campaignBody('Bulk', { segmentId: (segment.json() as { id: string }).id, controlPercent: 0, couponPoolId: null, template: { body: 'Hello from Bulkville' } }));
    expect(created.statusCode, created.body).toBe(201);
    const id = (created.json() as { id: string }).id;
    await api('POST', `/api/campaigns/${id}/launch`);
    expect(await runDueCampaigns(t.database.db)).toBe(230);
    // One round takes all 230 (up to 1,000): every slice of it must go out in that round, not wait for a lease to pass.
    const round = await sender.runOnce();
    expect(round.claimed).toBe(230);
    expect(round.sent).toBe(230);
    expect(new Set(receiver.got.map((r) => r.body.profileId)).size).toBe(230);
    const left = await t.database.db.selectFrom('campaign_sends').select('status').where('campaign_id', '=', id).where('status', '<>', 'sent').execute();
    expect(left).toEqual([]);
  });

  it('waits out quiet hours in the person’s time zone instead of skipping them', async () => {
    receiver.got.length = 0;
    // Quiet all day but one minute: whatever the time now, it is quiet.
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const quietHours = { start: hhmm(new Date(now.getTime() - 60_000)), end: hhmm(new Date(now.getTime() - 120_000)), timezone: 'UTC' };
    const created = await api('POST', '/api/campaigns', campaignBody('Night owls', { controlPercent: 0, couponPoolId: null, template: { body: 'Shh {{traits.name}}' }, quietHours }));
    expect(created.statusCode, created.body).toBe(201);
    const id = (created.json() as { id: string }).id;
    await api('POST', `/api/campaigns/${id}/launch`);
    await runDueCampaigns(t.database.db);
    const round = await sender.drain();
    expect(round.sent).toBe(0);
    expect(round.deferred).toBeGreaterThan(0);
    const pending = await t.database.db.selectFrom('campaign_sends').select(['status', 'attempts', 'next_attempt_at']).where('campaign_id', '=', id).where('status', '=', 'pending').execute();
    expect(pending.length).toBe(round.deferred);
    for (const p of pending) {
      expect(p.attempts).toBe(0);
      expect(p.next_attempt_at.getTime()).toBeGreaterThan(now.getTime() + 22 * 3_600_000);
    }
  });

  it('lets a marketer run campaigns, an analyst only read them, and lists a person’s campaign history', async () => {
    const token = async (role: string) => {
      const secretValue = `ct_${role}_campaign_token_secret`;
      await t.database.db.insertInto('api_tokens').values({ workspace_id: 'default', id: `tok-${role}`, name: `${role} token`, token_hash: secretHash(secretValue), role }).execute();
      return secretValue;
    };
    const analyst = await token('analyst');
    const marketer = await token('marketer');
    expect((await api('GET', '/api/campaigns', undefined, analyst)).statusCode).toBe(200);
    expect((await api('POST', '/api/campaigns', campaignBody('analyst try'), analyst)).statusCode).toBe(403);
    const byMarketer = await api('POST', '/api/campaigns', campaignBody('marketer made'), marketer);
    expect(byMarketer.statusCode, byMarketer.body).toBe(201);
    // The preview shows people, masked for the marketer (identifiers hidden).
    const preview = await api('POST', `/api/campaigns/${(byMarketer.json() as { id: string }).id}/preview`, { profileIds: [ids.get('yes-1')!] }, marketer);
    expect(preview.statusCode, preview.body).toBe(200);
    const shown = (preview.json() as { previews: Array<{ body: string; consent: string }> }).previews[0]!;
    expect(shown.body).not.toContain(`${nameOf(1)}，`);
    expect(shown.body).toContain(`你好 ${nameOf(1)[0]}*，`);
    expect(shown.consent).toBe('granted');

    const history = await api('GET', `/api/profiles/${ids.get('yes-1')}/campaigns`);
    expect(history.statusCode).toBe(200);
    const names = (history.json() as { campaigns: Array<{ name: string }> }).campaigns.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['Welcome', 'Second touch']));
  });

  it('erasure removes the person from every outbox and attempt, and their coupon is never given again', async () => {
    const sent = (await t.database.db.selectFrom('campaign_sends').select(['profile_id', 'coupon_code']).where('campaign_id', '=', campaignId).where('status', '=', 'sent').execute())[0]!;
    const user = [...ids.entries()].find(([, id]) => id === sent.profile_id)![0];
    const erase = await api('POST', '/api/dsar', { type: 'erase', identifier: { type: 'email', value: `${user}@example.com` }, verification: { method: 'email_link', by: 'privacy-desk' } });
    expect(erase.statusCode, erase.body).toBe(201);
    for (const table of ['campaign_sends', 'send_attempts', 'journey_entries', 'journey_steps'] as const) {
      const left = await t.database.db.selectFrom(table).select('profile_id').where('profile_id', '=', sent.profile_id).execute();
      expect(left, table).toHaveLength(0);
    }
    const coupon = await t.database.db.selectFrom('coupons').select(['profile_id', 'issued_at']).where('code', '=', sent.coupon_code!).executeTakeFirstOrThrow();
    expect(coupon.profile_id).toBeNull();
    expect(coupon.issued_at).not.toBeNull();
    const history = await api('GET', `/api/profiles/${sent.profile_id}/campaigns`);
    expect(history.statusCode).toBe(404);
  });
});
