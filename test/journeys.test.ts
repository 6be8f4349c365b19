import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceJourneys, enrollFromSegmentChanges } from '../src/activate/journeys.js';
import type { Schedule } from '../src/activate/campaign.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

const WS = 'default';
const MINUTE = 60_000;

interface StepBody {
  id: string;
  profileId: string;
  step: string;
  at: string;
  details: Record<string, unknown>;
}
interface JourneyBody {
  steps: StepBody[];
  counts: Record<string, number>;
  nextCursor: string | null;
}

describe.each(backends)('trigger journeys on $name', (backend) => {
  let t: TestApp;
  const db = () => t.database.db;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const campaign = (id: string, schedule: Schedule, extra: { segmentId?: string; status?: string; controlPercent?: number } = {}) =>
    db()
      .insertInto('campaigns')
      .values({
        workspace_id: WS,
        id,
        name: `journey test ${id}`,
        status: extra.status ?? 'active',
        channel: 'webhook',
        purpose: 'personalization',
        destination_id: 'dest-test',
        template: JSON.stringify({ body: 'hi' }),
        schedule: JSON.stringify(schedule),
        control_percent: extra.controlPercent ?? 0,
        segment_id: extra.segmentId ?? null,
      })
      .execute();
  const track = (who: { userId?: string; anonymousId?: string }, event: string, properties: Record<string, unknown> = {}, timestamp?: Date) =>
    ({ type: 'track', ...who, event, properties, ...(timestamp ? { timestamp: timestamp.toISOString() } : {}) });
  const send = async (batch: unknown[]) => {
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
  };
  const profileOf = async (query: string) => {
    const res = await t.get(`/api/profiles?${query}`);
    return (res.json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;
  };
  const entries = (campaignId: string) =>
    db().selectFrom('journey_entries').select(['profile_id', 'status', 'wake_at', 'trigger']).where('workspace_id', '=', WS).where('campaign_id', '=', campaignId).orderBy('triggered_at').execute();
  const sends = (campaignId: string) =>
    db().selectFrom('campaign_sends').select(['profile_id', 'status', 'arm']).where('workspace_id', '=', WS).where('campaign_id', '=', campaignId).execute();
  const stepsOf = async (campaignId: string, profileId: string) =>
    (await db().selectFrom('journey_steps').select(['step', 'details']).where('workspace_id', '=', WS).where('campaign_id', '=', campaignId).where('profile_id', '=', profileId).orderBy('id').execute());
  const journey = async (campaignId: string, query = '') => {
    const res = await admin('GET', `/api/campaigns/${campaignId}/journey${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as JourneyBody;
  };

  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t.close());

  it('enters a detractor, not a promoter nor a late-arriving old answer, and a person only once', async () => {
    await campaign('nps', { kind: 'triggered', trigger: { on: 'event', event: 'Survey Responded', where: [{ property: 'nps', op: 'lte', value: 6 }] }, waitMinutes: 30 });
    const before = Date.now();
    await send([
      track({ userId: 'ann' }, 'Survey Responded', { nps: 4 }),
      track({ userId: 'bob' }, 'Survey Responded', { nps: '9' }),
      track({ userId: 'cai' }, 'Survey Responded', { comment: 'no score' }),
      track({ userId: 'dot' }, 'Survey Responded', { nps: 1 }, new Date(Date.now() - 3 * 24 * 60 * MINUTE)),
    ]);
    const ann = await profileOf('userId=ann');
    let rows = await entries('nps');
    expect(rows.map((r) => [r.profile_id, r.status])).toEqual([[ann, 'waiting']]);
    expect(rows[0]!.trigger).toMatchObject({ event: 'Survey Responded' });
    expect(new Date(rows[0]!.wake_at).getTime()).toBeGreaterThanOrEqual(before + 30 * MINUTE);

    // Ann answers again: still one journey, and one triggered step.
    await send([track({ userId: 'ann' }, 'Survey Responded', { nps: '2' })]);
    rows = await entries('nps');
    expect(rows).toHaveLength(1);
    expect((await stepsOf('nps', ann)).map((s) => s.step)).toEqual(['triggered']);
  });

  it('waits: nothing before wake_at; after it, the person is queued once', async () => {
    await campaign('welcome', { kind: 'triggered', trigger: { on: 'event', event: 'Signed Up' }, waitMinutes: 60 });
    await send([track({ userId: 'eli' }, 'Signed Up', { plan: 'free' })]);
    const eli = await profileOf('userId=eli');
    const now = new Date();
    await advanceJourneys(db(), new Date(now.getTime() + 59 * MINUTE));
    expect((await entries('welcome')).map((r) => r.status)).toEqual(['waiting']);
    expect(await sends('welcome')).toEqual([]);

    const outcome = await advanceJourneys(db(), new Date(now.getTime() + 61 * MINUTE));
    expect(outcome.queued).toBeGreaterThanOrEqual(1);
    expect((await entries('welcome')).map((r) => r.status)).toEqual(['done']);
    expect(await sends('welcome')).toEqual([{ profile_id: eli, status: 'pending', arm: 'treatment' }]);
    expect((await stepsOf('welcome', eli)).map((s) => [s.step, s.details])).toEqual([
      ['triggered', expect.objectContaining({ event: 'Signed Up' })],
      ['condition_met', { checked: [] }],
      ['queued', { arm: 'treatment' }],
    ]);
    // Taken once: a second run finds nothing due.
    expect(await advanceJourneys(db(), new Date(now.getTime() + 120 * MINUTE))).toEqual({ taken: 0, queued: 0, failed: 0 });
  });

  it('cart abandoned: an order after the cart fails the notPerformed condition and nothing is queued', async () => {
    await campaign('cart', { kind: 'triggered', trigger: { on: 'event', event: 'Cart Abandoned' }, waitMinutes: 60, condition: { notPerformed: 'Order Completed' } });
    const start = Date.now();
    await send([
      track({ userId: 'fay' }, 'Cart Abandoned', { value: 120 }, new Date(start - 5 * MINUTE)),
      // An order before the cart does not count: it is not "since the trigger".
      track({ userId: 'gus' }, 'Order Completed', { total: 80 }, new Date(start - 10 * MINUTE)),
      track({ userId: 'gus' }, 'Cart Abandoned', { value: 30 }, new Date(start - 5 * MINUTE)),
    ]);
    // Fay orders after all, later, in another batch.
    await send([track({ userId: 'fay' }, 'Order Completed', { total: 120 }, new Date(start - 1 * MINUTE))]);
    const fay = await profileOf('userId=fay');
    const gus = await profileOf('userId=gus');
    expect((await entries('cart')).map((r) => r.profile_id).sort()).toEqual([fay, gus].sort());

    await advanceJourneys(db(), new Date(start + 61 * MINUTE));
    expect(await sends('cart')).toEqual([{ profile_id: gus, status: 'pending', arm: 'treatment' }]);
    expect((await stepsOf('cart', fay)).map((s) => [s.step, s.details])).toEqual([
      ['triggered', expect.objectContaining({ event: 'Cart Abandoned' })],
      ['condition_failed', { failed: ['not_performed'], event: 'Order Completed' }],
    ]);
    expect((await stepsOf('cart', gus)).map((s) => s.step)).toEqual(['triggered', 'condition_met', 'queued']);
  });

  it('segment entered: from launch on; people already in the segment do not fire, a later entrant does; a pause skips entrants', async () => {
    const res = await admin('POST', '/api/segments', { name: 'Gold members', rule: { trait: 'tier', op: 'eq', value: 'gold' } });
    expect(res.statusCode).toBe(201);
    const gold = (res.json() as { id: string }).id;
    await send([{ type: 'identify', userId: 'hal', traits: { tier: 'gold' } }]);
    const hal = await profileOf('userId=hal');
    expect(await db().selectFrom('segment_members').select('profile_id').where('segment_id', '=', gold).execute()).toEqual([{ profile_id: hal }]);

    await campaign('gold-welcome', { kind: 'triggered', trigger: { on: 'segment_entered', segmentId: gold }, waitMinutes: 0 });
    expect(await enrollFromSegmentChanges(db(), new Date())).toBe(0);
    expect(await entries('gold-welcome')).toEqual([]);

    await send([{ type: 'identify', userId: 'ida', traits: { tier: 'gold' } }]);
    const ida = await profileOf('userId=ida');
    expect(await enrollFromSegmentChanges(db(), new Date())).toBe(1);
    // Read once: the cursor moved past Ida.
    expect(await enrollFromSegmentChanges(db(), new Date())).toBe(0);
    expect((await entries('gold-welcome')).map((r) => [r.profile_id, r.trigger])).toEqual([[ida, expect.objectContaining({ segmentId: gold })]]);
    await advanceJourneys(db(), new Date(Date.now() + 1000));
    expect(await sends('gold-welcome')).toEqual([{ profile_id: ida, status: 'pending', arm: 'treatment' }]);

    // Paused: Jo enters meanwhile; resuming does not fire for her.
    await db().updateTable('campaigns').set({ status: 'paused' }).where('workspace_id', '=', WS).where('id', '=', 'gold-welcome').execute();
    await send([{ type: 'identify', userId: 'jo', traits: { tier: 'gold' } }]);
    expect(await enrollFromSegmentChanges(db(), new Date())).toBe(0);
    await db().updateTable('campaigns').set({ status: 'active' }).where('workspace_id', '=', WS).where('id', '=', 'gold-welcome').execute();
    expect(await enrollFromSegmentChanges(db(), new Date())).toBe(0);
    expect(await entries('gold-welcome')).toHaveLength(1);
  });

  it('checks the audience and the rule at wake time, one query each for the batch', async () => {
    const gold = (await db().selectFrom('segments').select('id').where('name', '=', 'Gold members').executeTakeFirstOrThrow()).id;
    await campaign('gold-coupon', { kind: 'triggered', trigger: { on: 'event', event: 'Coupon Viewed' }, waitMinutes: 5, condition: { rule: { trait: 'plan', op: 'eq', value: 'pro' } } }, { segmentId: gold });
    await send([
      { type: 'identify', userId: 'kay', traits: { tier: 'gold', plan: 'pro' } },
      { type: 'identify', userId: 'lee', traits: { tier: 'silver', plan: 'pro' } },
      { type: 'identify', userId: 'max', traits: { tier: 'gold', plan: 'free' } },
    ]);
    await send(['kay', 'lee', 'max'].map((u) => track({ userId: u }, 'Coupon Viewed')));
    const [kay, lee, max] = [await profileOf('userId=kay'), await profileOf('userId=lee'), await profileOf('userId=max')];
    await advanceJourneys(db(), new Date(Date.now() + 6 * MINUTE));
    expect(await sends('gold-coupon')).toEqual([{ profile_id: kay, status: 'pending', arm: 'treatment' }]);
    expect((await stepsOf('gold-coupon', kay)).map((s) => [s.step, s.details]).slice(1)).toEqual([['condition_met', { checked: ['audience', 'rule'] }], ['queued', { arm: 'treatment' }]]);
    expect((await stepsOf('gold-coupon', lee)).map((s) => [s.step, s.details]).slice(1)).toEqual([['condition_failed', { failed: ['audience'] }]]);
    expect((await stepsOf('gold-coupon', max)).map((s) => [s.step, s.details]).slice(1)).toEqual([['condition_failed', { failed: ['rule'] }]]);
  });

  it('closes the journeys of a stopped campaign and keeps those of a paused one waiting', async () => {
    await campaign('stopped', { kind: 'triggered', trigger: { on: 'event', event: 'Wishlist Added' }, waitMinutes: 1 });
    await campaign('paused', { kind: 'triggered', trigger: { on: 'event', event: 'Wishlist Added' }, waitMinutes: 1 });
    await send([track({ userId: 'ned' }, 'Wishlist Added')]);
    const ned = await profileOf('userId=ned');
    await db().updateTable('campaigns').set({ status: 'done' }).where('workspace_id', '=', WS).where('id', '=', 'stopped').execute();
    await db().updateTable('campaigns').set({ status: 'paused' }).where('workspace_id', '=', WS).where('id', '=', 'paused').execute();
    await advanceJourneys(db(), new Date(Date.now() + 2 * MINUTE));
    expect((await stepsOf('stopped', ned)).map((s) => [s.step, s.details])).toEqual([['triggered', expect.anything()], ['skipped', { reason: 'campaign_stopped' }]]);
    expect((await entries('stopped')).map((r) => r.status)).toEqual(['done']);
    expect((await entries('paused')).map((r) => r.status)).toEqual(['waiting']);
    expect(await sends('stopped')).toEqual([]);

    await db().updateTable('campaigns').set({ status: 'active' }).where('workspace_id', '=', WS).where('id', '=', 'paused').execute();
    await advanceJourneys(db(), new Date(Date.now() + 2 * MINUTE));
    expect(await sends('paused')).toEqual([{ profile_id: ned, status: 'pending', arm: 'treatment' }]);
  });

  it('logs the arm each person was queued in, as the outbox has it, with a control group', async () => {
    await campaign('split', { kind: 'triggered', trigger: { on: 'event', event: 'App Opened' }, waitMinutes: 0 }, { controlPercent: 50 });
    const users = Array.from({ length: 16 }, (_, i) => `split-${i}`);
    await send(users.map((u) => track({ userId: u }, 'App Opened')));
    const outcome = await advanceJourneys(db(), new Date(Date.now() + 1000));
    expect(outcome.queued).toBeGreaterThanOrEqual(16);
    const rows = await sends('split');
    expect(rows).toHaveLength(16);
    // Sixteen people at 50%: both arms all but surely have someone (a 1 in 32,768 chance otherwise).
    expect(new Set(rows.map((r) => r.arm))).toEqual(new Set(['treatment', 'control']));
    for (const r of rows) {
      const queued = (await stepsOf('split', r.profile_id)).find((s) => s.step === 'queued');
      expect(queued?.details).toEqual({ arm: r.arm });
    }
  });

  it('queues a person merged after triggering once, as the live profile', async () => {
    await campaign('trial', { kind: 'triggered', trigger: { on: 'event', event: 'Trial Started' }, waitMinutes: 10 });
    await send([track({ userId: 'oli' }, 'Trial Started'), track({ anonymousId: 'anon-oli' }, 'Trial Started')]);
    const oli = await profileOf('userId=oli');
    const anon = await profileOf('anonymousId=anon-oli');
    expect(anon).not.toBe(oli);
    expect(await entries('trial')).toHaveLength(2);
    const merged = await admin('POST', '/api/profiles/merge', { into: oli, from: [anon] });
    expect(merged.statusCode).toBe(200);

    await advanceJourneys(db(), new Date(Date.now() + 11 * MINUTE));
    expect(await sends('trial')).toEqual([{ profile_id: oli, status: 'pending', arm: 'treatment' }]);
    const steps = [...(await stepsOf('trial', oli)), ...(await stepsOf('trial', anon))].map((s) => s.step).sort();
    expect(steps).toEqual(['condition_met', 'condition_met', 'queued', 'skipped', 'triggered', 'triggered']);
    expect((await stepsOf('trial', anon)).find((s) => s.step !== 'triggered')?.details).toMatchObject({ profileId: oli });

    // The route, asked about the live profile, shows the steps of both.
    const body = await journey('trial', `?profileId=${oli}`);
    expect(body.steps).toHaveLength(6);
    expect(body.counts).toEqual({ triggered: 2, condition_met: 2, condition_failed: 0, queued: 1, skipped: 1 });
  });

  it('lists steps in order, a page at a time, with counts; 404 for an unknown campaign', async () => {
    const all = await journey('cart');
    expect(all.counts).toEqual({ triggered: 2, condition_met: 1, condition_failed: 1, queued: 1, skipped: 0 });
    expect(all.steps.map((s) => Number(s.id))).toEqual(all.steps.map((s) => Number(s.id)).sort((a, b) => a - b));
    expect(all.steps.slice(0, 2).map((s) => s.step)).toEqual(['triggered', 'triggered']);
    expect(all.nextCursor).toBeNull();

    const gus = await profileOf('userId=gus');
    const own = await journey('cart', `?profileId=${gus}`);
    expect(own.steps.map((s) => s.step)).toEqual(['triggered', 'condition_met', 'queued']);

    const first = await journey('cart', '?limit=2');
    expect(first.steps).toHaveLength(2);
    expect(first.nextCursor).toBe(first.steps[1]!.id);
    const rest = await journey('cart', `?limit=10&cursor=${first.nextCursor}`);
    expect([...first.steps, ...rest.steps].map((s) => s.id)).toEqual(all.steps.map((s) => s.id));

    expect((await admin('GET', '/api/campaigns/no-such-campaign/journey')).statusCode).toBe(404);
  });
});
