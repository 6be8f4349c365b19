import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventLogWriter } from '../src/collect/event-log.js';
import type { TrackingMessage } from '../src/collect/messages.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

// A resident ID whose check character is X (Beijing Dongcheng, born 1949-12-31, female).
const NATIONAL_ID = '11010519491231002X';

describe.each(backends)('cleaning in the pipeline on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  const admin = (method: 'POST' | 'PUT', url: string, body: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const upload = (query: string, csv: string) =>
    t.app.inject({ method: 'POST', url: `/api/imports?${query}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' }, payload: Buffer.from(csv) });
  const profileBy = async (query: string) => (await t.get(`/api/profiles?${query}`)).json().profiles[0];

  it('standardizes traits before they reach the profile, and fills gaps only from evidence', async () => {
    const res = await t.send('/v1/identify', {
      userId: 'clean-u1',
      traits: { email: ' Zhang.Wei@QQ.com ', phone: '138 0013 8000', name: '张 伟', birthday: '1990年3月5日', gender: '男', city: '上海', plan: 'gold' },
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.drain();
    const profile = await profileBy('userId=clean-u1');
    expect(profile.traits).toMatchObject({
      email: 'zhang.wei@qq.com',
      phone: '+8613800138000',
      name: '张伟',
      birthday: '1990-03-05',
      gender: 'male',
      city: '上海市',
      plan: 'gold',
      // derived: the name's parts and the phone's country
      lastName: '张',
      firstName: '伟',
      country: 'CN',
    });
    const row = await t.database.db.selectFrom('profiles').select('derived_traits').where('id', '=', profile.id).executeTakeFirstOrThrow();
    expect([...row.derived_traits].sort()).toEqual(['country', 'firstName', 'lastName']);
  });

  it('links records on standardized values: a till export writing the phone another way joins the same profile', async () => {
    const res = await upload('source=pos&kind=customers&filename=pos.csv', 'member_no,name,mobile\nP-77,张伟,0086 13800138000\n');
    expect(res.statusCode, res.body).toBe(201);
    await t.drain();
    const byPhone = await profileBy(`phone=${encodeURIComponent('+86 138-0013-8000')}`);
    const byUser = await profileBy('userId=clean-u1');
    expect(byPhone.id).toBe(byUser.id);
    expect(byPhone.records).toEqual(expect.arrayContaining([{ source: 'pos', id: 'P-77' }]));
  });

  it('an import refuses, by line and column, a row it could link to nobody, and reads dates in the source’s order', async () => {
    const customers = await upload('source=kiosk&kind=customers&filename=kiosk.csv', 'name,phone,email\n王芳,12345,\n李雷,12345,lilei@example.com\n韩梅梅,,not-an-email\n');
    expect(customers.statusCode, customers.body).toBe(201);
    expect(customers.json()).toMatchObject({ imported: 1, rejected: 2 });
    expect(customers.json().rejects).toEqual([
      { line: 2, column: 'phone', reason: expect.stringMatching(/no id and no other usable email or phone/) },
      { line: 4, column: 'email', reason: expect.stringMatching(/no id and no other usable email or phone/) },
    ]);

    const orders = 'order_id,phone,date,amount\nK1,13800138000,03/05/2026,10\n';
    const ambiguous = await upload('source=kiosk&kind=orders&filename=o1.csv', orders);
    expect(ambiguous.json().rejects).toEqual([{ line: 2, column: 'date', reason: expect.stringMatching(/ambiguous.*date order/) }]);
    expect((await admin('PUT', '/api/sources/kiosk/cleaning', { dateOrder: 'dmy' })).statusCode).toBe(200);
    const read = await upload('source=kiosk&kind=orders&filename=o2.csv', orders);
    expect(read.json()).toMatchObject({ imported: 1, rejected: 0 });
    await t.drain();
    const buyer = await profileBy('phone=13800138000');
    const events = (await t.get(`/api/profiles/${buyer.id}/events`)).json().events;
    expect(events.find((e: { event: string }) => e.event === 'Order Completed')).toMatchObject({ timestamp: '2026-05-03T00:00:00.000Z', properties: { order_id: 'K1' } });
  });

  it('refuses an impossible value without losing it: the profile keeps its good value, the lineage keeps the original', async () => {
    await t.send('/v1/identify', { userId: 'clean-u1', traits: { phone: '12345', birthday: '1990-02-30', nationalId: NATIONAL_ID } });
    await t.drain();
    const profile = await profileBy('userId=clean-u1');
    expect(profile.traits.phone).toBe('+8613800138000');
    // The ID's birth date fills gaps only: the profile already has a birthday.
    expect(profile.traits.birthday).toBe('1990-03-05');
    expect(profile.traits.nationalId).toBe(NATIONAL_ID);

    const lineage = (await t.get(`/api/profiles/${profile.id}/lineage`)).json().entries as Array<Record<string, unknown>>;
    expect(lineage).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'phone', kind: 'refused', original: '12345', issue: expect.stringMatching(/^phone\./) }),
        expect.objectContaining({ field: 'birthday', kind: 'refused', original: '1990-02-30', issue: 'date.impossible' }),
        expect.objectContaining({ field: 'email', kind: 'standardized', original: ' Zhang.Wei@QQ.com ', value: 'zhang.wei@qq.com' }),
        expect.objectContaining({ field: 'birthday', kind: 'derived', value: '1949-12-31', derivedFrom: 'nationalId' }),
      ]),
    );
    const phoneOnly = (await t.get(`/api/profiles/${profile.id}/lineage?field=phone`)).json().entries as Array<{ field: string }>;
    expect(phoneOnly.length).toBeGreaterThan(0);
    expect(phoneOnly.every((e) => e.field.endsWith('phone'))).toBe(true);
  });

  it('lists issues by field with masked examples, and reports quality per field and source', async () => {
    await t.send('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'clean-u2', traits: { email: 'li.na@gmial.com', phone: '13900139000' } },
        { type: 'identify', userId: 'clean-u3', traits: { email: 'not-an-email', phone: '13700137000' } },
      ],
    });
    await t.drain();
    const issues = (await t.get('/api/quality/issues?field=phone&source=default')).json().issues;
    expect(issues).toEqual([expect.objectContaining({ source: 'default', field: 'phone', severity: 'error', count: 1, code: 'phone.too_short', examples: [expect.objectContaining({ value: '1***5' })] })]);
    const typo = (await t.get('/api/quality/issues?type=email.domain_typo')).json().issues;
    expect(typo).toEqual([expect.objectContaining({ field: 'email', severity: 'warning', examples: [expect.objectContaining({ value: 'l***@gmial.com', suggestion: 'l***@gmail.com' })] })]);
    const errors = (await t.get('/api/quality/issues?type=error')).json().issues as Array<{ severity: string }>;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((i) => i.severity === 'error')).toBe(true);

    const report = (await t.get('/api/quality')).json();
    expect(report.score).toBeGreaterThan(0);
    expect(report.score).toBeLessThanOrEqual(100);
    const email = report.fields.find((f: { field: string }) => f.field === 'email');
    // four profiles gave an email (clean-u1, the kiosk's 李雷, clean-u2, clean-u3); one was not an email at all
    expect(email).toMatchObject({ source: null, profiles: 4, validity: 3 / 4 });
    const posName = report.bySource.find((f: { source: string; field: string }) => f.source === 'pos' && f.field === 'name');
    expect(posName).toMatchObject({ profiles: 1, completeness: 1, validity: 1 });
    const name = report.fields.find((f: { field: string }) => f.field === 'name');
    // default and pos both gave clean-u1's name, and they agree
    expect(name.consistency).toBe(1);
    // default's latest phone for clean-u1 was the refused one: the source's phone validity shows it
    const defaultPhone = report.bySource.find((f: { source: string; field: string }) => f.source === 'default' && f.field === 'phone');
    expect(defaultPhone).toMatchObject({ profiles: 3, validity: 2 / 3 });
  });

  it('a merge moves lineage and observations to the surviving profile', async () => {
    // Two batches, so merge-a is the older profile and survives.
    await t.send('/v1/identify', { userId: 'merge-a', traits: { email: ' Merge.A@Example.com ', gender: 'F' } });
    await t.drain();
    // An anonymous visitor: two userIds would never merge (one per profile).
    await t.send('/v1/identify', { anonymousId: 'merge-b', traits: { phone: '139 1234 5678', gender: '女' } });
    await t.drain();
    const before = (await t.get('/api/quality')).json().profiles;
    const a = await profileBy('userId=merge-a');
    const b = await profileBy('anonymousId=merge-b');
    expect(a.id).not.toBe(b.id);
    // One message names both: the profiles become one.
    await t.send('/v1/identify', { userId: 'merge-a', traits: { phone: '+86 139-1234-5678' } });
    await t.drain();
    const merged = await profileBy('anonymousId=merge-b');
    expect(merged.id).toBe(a.id);
    expect(merged.traits).toMatchObject({ email: 'merge.a@example.com', phone: '+8613912345678', gender: 'female' });
    const lineage = (await t.get(`/api/profiles/${merged.id}/lineage`)).json().entries as Array<{ field: string; original: unknown }>;
    expect(lineage).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'email', original: ' Merge.A@Example.com ' }), expect.objectContaining({ field: 'phone', original: '139 1234 5678' })]));
    const report = (await t.get('/api/quality')).json();
    expect(report.profiles).toBe(before - 1);
    const rows = await t.database.db.selectFrom('field_observations').select(['profile_id', 'fields']).where('profile_id', 'in', [a.id, b.id]).execute();
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!.fields).sort()).toEqual(['email', 'gender', 'phone']);
  });

  it('uniqueness shows identifying values held by more than one profile; fields that need not be unique are not scored on it', async () => {
    await t.send('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'dup-1', traits: { nationalId: '310115199003051238', gender: 'male' } },
        { type: 'identify', userId: 'dup-2', traits: { nationalId: '310115199003051238', gender: 'male' } },
        { type: 'identify', userId: 'dup-3', traits: { nationalId: '11010519491231002X', gender: 'male' } },
      ],
    });
    await t.drain();
    const report = (await t.get('/api/quality')).json();
    const id = report.fields.find((f: { field: string }) => f.field === 'nationalId');
    // dup-1 and dup-2 share one number; clean-u1 and dup-3 share the other
    expect(id).toMatchObject({ profiles: 4, uniqueness: 0 });
    expect(report.fields.find((f: { field: string }) => f.field === 'gender').uniqueness).toBeNull();
  });

  it('two workspaces sending the same messageId in one batch keep their own events, lineage and issues', async () => {
    await t.database.db.insertInto('workspaces').values({ id: 'other', name: 'other', settings: '{}' }).execute();
    await t.database.db.insertInto('sources').values({ workspace_id: 'other', id: 'default', name: 'default', write_key_hash: null }).execute();
    const at = new Date().toISOString();
    const message = (userId: string, traits: Record<string, unknown>): TrackingMessage => ({ type: 'identify', messageId: 'same-id', userId, traits, timestamp: at, receivedAt: at });
    const log = createEventLogWriter(t.database, t.keyring);
    await log.append('default', 'default', [message('tenant-a', { email: ' Alice@A.example ' })]);
    await log.append('other', 'default', [message('tenant-b', { email: 'Bob@B.example', phone: 'bad-phone' })]);
    await t.drain();
    const alice = await profileBy('userId=tenant-a');
    expect(alice.traits).toEqual({ email: 'alice@a.example' });
    const events = (await t.get(`/api/profiles/${alice.id}/events`)).json().events;
    expect(events).toEqual([expect.objectContaining({ messageId: 'same-id', userId: 'tenant-a' })]);
    const lineage = (await t.get(`/api/profiles/${alice.id}/lineage`)).json().entries;
    expect(lineage).toEqual([expect.objectContaining({ field: 'email', original: ' Alice@A.example ' })]);
    const issues = (await t.get('/api/quality/issues?limit=1000')).json().issues as Array<{ examples: Array<{ messageId: string }> }>;
    expect(issues.flatMap((i) => i.examples).some((e) => e.messageId === 'same-id')).toBe(false);
  });

  it('freshness is the age of the field’s newest value, not of the profile’s latest activity', async () => {
    await t.database.db.insertInto('sources').values({ workspace_id: 'default', id: 'legacy', name: 'legacy', write_key_hash: null }).execute();
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const now = new Date().toISOString();
    const log = createEventLogWriter(t.database, t.keyring);
    await log.append('default', 'legacy', [
      { type: 'identify', messageId: 'legacy-1', userId: 'legacy-u', traits: { email: 'old@example.com', plan: 'basic' }, timestamp: old, receivedAt: old },
      { type: 'track', messageId: 'legacy-2', userId: 'legacy-u', event: 'Page Viewed', properties: {}, context: { traits: { plan: 'pro' } }, timestamp: now, receivedAt: now },
    ]);
    await t.drain();
    const report = (await t.get('/api/quality')).json();
    const email = report.bySource.find((f: { source: string; field: string }) => f.source === 'legacy' && f.field === 'email');
    expect(email).toMatchObject({ profiles: 1, freshness: 0 });
    expect(Math.abs(Date.parse(email.lastSeenAt) - Date.parse(old))).toBeLessThan(1000);
  });

  it('raises an alert when a source goes quiet, against its own 28-day history', async () => {
    const day = '2026-03-01';
    const history = Array.from({ length: 28 }, (_, i) => ({
      workspace_id: 'default',
      source_id: 'default',
      field: '*',
      day: new Date(Date.parse(`${day}T00:00:00Z`) - (28 - i) * 86_400_000).toISOString().slice(0, 10),
      seen: 1000 + ((i * 37) % 60),
      invalid: 0,
      changed: 0,
    }));
    await t.database.db.insertInto('quality_daily').values([...history, { workspace_id: 'default', source_id: 'default', field: '*', day, seen: 120, invalid: 0, changed: 0 }]).execute();
    const audit = await admin('POST', '/api/quality/audit', { day });
    expect(audit.statusCode, audit.body).toBe(200);
    expect(audit.json().alerts).toEqual([expect.objectContaining({ source: 'default', field: '*', kind: 'volume', day, value: 120, direction: 'low' })]);
    // Run again: the same alert, not a second one.
    await admin('POST', '/api/quality/audit', { day });
    const alerts = (await t.get(`/api/quality/alerts?since=${day}`)).json().alerts;
    expect(alerts.filter((a: { day: string }) => a.day === day)).toHaveLength(1);
  });

  it("cleans on demand with a source's countries and date order, and validates settings", async () => {
    const bad = await admin('PUT', '/api/sources/us-shop/cleaning', { countries: ['USA'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'CUSTODIAN_INVALID_FIELD', field: expect.stringMatching(/^countries/) });
    const unknown = await admin('PUT', '/api/settings/cleaning', { countries: ['CN', 'ZZ'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'CUSTODIAN_INVALID_FIELD', field: 'countries.1', message: expect.stringContaining('ZZ') });
    const set = await admin('PUT', '/api/sources/us-shop/cleaning', { countries: ['us'], dateOrder: 'mdy' });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({ countries: ['US'], dateOrder: 'mdy' });

    const traits = { phone: '(415) 555-2671', birthday: '03/05/1990', address: '123 main street apt 4, springfield, illinois 62704' };
    const shop = (await admin('POST', '/api/clean', { source: 'us-shop', traits })).json();
    expect(shop.traits).toMatchObject({ phone: '+14155552671', birthday: '1990-03-05' });
    expect(shop.traits.address).toMatchObject({ state: 'IL', postalCode: '62704', country: 'US' });
    const plain = (await admin('POST', '/api/clean', { traits })).json();
    expect(plain.traits.birthday).toBeUndefined();
    expect(plain.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'birthday', kind: 'refused', issue: 'date.ambiguous' })]));
    const missing = await admin('POST', '/api/clean', { source: 'nope', traits });
    expect(missing.statusCode).toBe(404);
  });

  it('looks a profile up by a phone written any way, and refuses one that cannot be a phone', async () => {
    expect((await profileBy('phone=13800138000')).traits.name).toBe('张伟');
    const res = await t.get('/api/profiles?phone=abc');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'CUSTODIAN_INVALID_FIELD', field: 'phone' });
  });
});
