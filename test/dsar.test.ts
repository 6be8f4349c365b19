import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recorded } from '../src/analytics/jobs.js';
import { identityIndex } from '../src/identity/graph-store.js';
import { keyIdOf } from '../src/privacy/crypto.js';
import { secretHash } from '../src/privacy/accounts.js';
import { verifyAudit } from '../src/privacy/audit-log.js';
import { appendPendingAudits } from '../src/privacy/dsar.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

// Distinctive values: any of them found anywhere after the erasure is a leak.
const EMAIL = 'ophelia.quandt.4471@example.net';
const PHONE = '+14155550193';
const NAME = 'Ophelia Quandtworth';
const USER_ID = 'user-oq-88213';
const POS_ID = 'pos-oq-5521';
const ANON_ID = 'anon-oq-90210';
const NEEDLES = [EMAIL, 'ophelia.quandt', PHONE, PHONE.slice(1), '4155550193', NAME, 'Quandtworth', USER_ID, POS_ID, ANON_ID];
const OTHER_EMAIL = 'bystander.kim@example.com';
const POS_KEY = 'wk_test_pos_key';
const DAY = 86_400_000;
const VERIFIED = { method: 'email_link', by: 'privacy-desk' };

describe.each(backends)('data-subject requests ($name)', (backend) => {
  let t: TestApp;
  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) });
  const fromPos = (path: string, body: unknown) =>
    t.app.inject({ method: 'POST', url: path, headers: { authorization: 'Basic ' + Buffer.from(`${POS_KEY}:`).toString('base64'), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const lookUp = async (query: string) => (await t.get(`/api/profiles?${query}`)).json().profiles as Array<{ id: string; traits: Record<string, unknown> }>;

  // What the person sends: the same messages are sent again after the erasure.
  const webBatch = (suffix: string) => ({
    batch: [
      { type: 'identify', messageId: `w1${suffix}`, userId: USER_ID, traits: { email: EMAIL, name: NAME, city: 'Lisbon', emailAddress: 'ophelia.quandt@@example' }, context: { consent: { categoryPreferences: { email: true } } } },
      { type: 'track', messageId: `w2${suffix}`, userId: USER_ID, event: 'Order Completed', properties: { revenue: 42, order_id: `o-${suffix}` } },
    ],
  });
  const posBatch = (suffix: string) => ({
    batch: [
      // The till knows its own customer record and the loyalty app's device id, not the web login.
      { type: 'identify', messageId: `p1${suffix}`, anonymousId: ANON_ID, traits: { phone: PHONE, firstName: 'Ophelia' }, context: { externalIds: [{ type: 'record', collection: 'pos', id: POS_ID }] } },
      { type: 'track', messageId: `p2${suffix}`, anonymousId: ANON_ID, event: 'Store Visit', properties: { store: 'Baixa' } },
    ],
  });
  let personIds: string[] = [];
  let indexes: string[] = [];
  let otherId = '';

  beforeAll(async () => {
    t = await startTestApp(backend);
    await t.database.db.insertInto('sources').values({ workspace_id: 'default', id: 'pos', name: 'pos', write_key_hash: secretHash(POS_KEY) }).execute();
    expect((await t.send('/v1/batch', webBatch(''))).statusCode).toBe(200);
    await t.drain();
    expect((await fromPos('/v1/batch', posBatch(''))).statusCode).toBe(200);
    await t.drain();
    // Logging in on the device the till knows makes the two profiles one.
    expect((await t.send('/v1/identify', { messageId: 'w3', userId: USER_ID, anonymousId: ANON_ID, traits: { phone: '(415) 555-0193' } })).statusCode).toBe(200);
    expect((await t.send('/v1/batch', { batch: [{ type: 'identify', messageId: 'x1', userId: 'bystander', traits: { email: OTHER_EMAIL, city: 'Lisbon' } }, { type: 'track', messageId: 'x2', userId: 'bystander', event: 'Order Completed', properties: { revenue: 7 } }] })).statusCode).toBe(200);
    await t.drain();
    const [person] = await lookUp(`email=${encodeURIComponent(EMAIL)}`);
    const [other] = await lookUp(`email=${OTHER_EMAIL}`);
    expect(person && other).toBeTruthy();
    otherId = other!.id;
    expect((await lookUp(`phone=${encodeURIComponent(PHONE)}`))[0]?.id).toBe(person!.id);
    expect(((await admin('POST', '/api/segments', { name: 'Lisbon', rule: { trait: 'city', op: 'eq', value: 'Lisbon' } })).json() as { size: number }).size).toBe(2);
    const now = new Date();
    await t.database.db
      .insertInto('profile_scores')
      .values([
        { workspace_id: 'default', profile_id: person!.id, name: 'clv', value: 123.5, label: null, computed_at: now },
        { workspace_id: 'default', profile_id: otherId, name: 'clv', value: 9, label: null, computed_at: now },
      ])
      .execute();
    await t.database.db.insertInto('tags').values({ workspace_id: 'default', id: 'vip', name: 'vip', kind: 'manual', definition: null, time_relative: false, refreshed_at: null, created_at: now, updated_at: now }).execute();
    await t.database.db.insertInto('profile_tags').values({ workspace_id: 'default', tag_id: 'vip', profile_id: person!.id, value: '', added_at: now, added_by: 'test' }).execute();
    // A stored feedback report quotes complaints by profile id: the person's must go, the bystander's stay.
    const report = { complaints: 2, recentComplaints: [{ profileId: person!.id, at: now.toISOString(), text: `${NAME} is unhappy`, score: -1, signals: [] }, { profileId: otherId, at: now.toISOString(), text: 'late delivery', score: -1, signals: [] }] };
    await t.database.db
      .insertInto('analytics_runs')
      .values({ workspace_id: 'default', id: 'run-feedback-1', kind: 'feedback', status: 'done', params: '{}', result: JSON.stringify(report), started_at: now, finished_at: now })
      .execute();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses bad requests with the field at fault', async () => {
    const noVerification = await admin('POST', '/api/dsar', { type: 'erase', identifier: { type: 'email', value: EMAIL } });
    expect(noVerification.statusCode).toBe(400);
    expect(noVerification.json().field).toBe('verification');
    const unknown = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: 'nobody.here@example.com' }, verification: VERIFIED });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().field).toBe('identifier');
    const invalid = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: 'not an email' }, verification: VERIFIED });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().field).toBe('identifier.value');
    const badType = await admin('POST', '/api/dsar', { type: 'forget', identifier: { type: 'email', value: EMAIL }, verification: VERIFIED });
    expect(badType.statusCode).toBe(400);
    expect(badType.json().field).toBe('type');
    const badProfile = await admin('POST', '/api/dsar', { type: 'restrict', identifier: { type: 'profileId', value: 'x' } });
    expect(badProfile.statusCode).toBe(400);
    expect(badProfile.json().field).toBe('identifier.value');
    const badTrait = await admin('POST', '/api/dsar', { type: 'rectify', identifier: { type: 'email', value: EMAIL }, traits: { email: 'new@example.com' } });
    expect(badTrait.statusCode).toBe(400);
    expect(badTrait.json().field).toBe('traits.email');
    const noBy = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: EMAIL }, verification: { method: 'email_link' } });
    expect(noBy.statusCode).toBe(400);
    expect(noBy.json().field).toBe('verification.by');
    expect((await admin('GET', '/api/dsar/not-a-uuid')).statusCode).toBe(400);
  });

  it('access: an archive of everything held, decrypted, with a due date 30 days out', async () => {
    const receivedAt = new Date(Date.now() - 2 * DAY).toISOString();
    const res = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: ` ${EMAIL.toUpperCase()} ` }, verification: VERIFIED, receivedAt });
    expect(res.statusCode).toBe(201);
    const request = res.json();
    expect(request).toMatchObject({ type: 'access', status: 'done', identifierType: 'email', overdue: false, verification: { method: 'email_link', by: 'privacy-desk' } });
    expect(Date.parse(request.dueAt) - Date.parse(request.receivedAt)).toBe(30 * DAY);
    expect(request.receivedAt).toBe(receivedAt);
    expect(request.profileIds).toHaveLength(2);
    personIds = request.profileIds;
    // The request itself keeps no plaintext: only the identifier's type and blind index.
    expect(JSON.stringify(request)).not.toContain(EMAIL);

    const archive = (await admin('GET', `/api/dsar/${request.id}/archive`)).json();
    expect(archive.profile.traits).toMatchObject({ email: EMAIL, name: NAME, phone: PHONE, city: 'Lisbon' });
    expect(archive.identities.map((i: { type: string; value: string }) => `${i.type}:${i.value}`)).toEqual(expect.arrayContaining([`userId:${USER_ID}`, `record:pos:${POS_ID}`, `anonymousId:${ANON_ID}`, `email:${EMAIL}`, `phone:${PHONE}`]));
    expect(archive.sourceRecords).toEqual(expect.arrayContaining([{ source: 'default', id: USER_ID }, { source: 'pos', id: POS_ID }]));
    expect(new Set(archive.events.map((e: { source: string }) => e.source))).toEqual(new Set(['default', 'pos']));
    expect(archive.events.find((e: { event: string | null }) => e.event === 'Order Completed').properties).toMatchObject({ revenue: 42 });
    expect(archive.events.find((e: { messageId: string }) => e.messageId === 'w1').userId).toBe(USER_ID);
    expect(archive.segments.map((s: { name: string }) => s.name)).toEqual(['Lisbon']);
    expect(archive.scores).toEqual([expect.objectContaining({ name: 'clv', value: 123.5 })]);
    expect(archive.tags).toEqual([expect.objectContaining({ name: 'vip' })]);
    expect(archive.merges).toHaveLength(1);
    expect(archive.consents.current).toEqual([expect.objectContaining({ purpose: 'email_marketing', granted: true })]);
    expect(archive.lineage.length).toBeGreaterThan(0);

    const events = await admin('GET', `/api/dsar/${request.id}/archive.csv`);
    expect(events.statusCode).toBe(200);
    expect(events.headers['content-type']).toContain('text/csv');
    expect(events.body.split('\r\n')[0]).toBe('\ufeffmessageId,type,event,source,timestamp,receivedAt,userId,anonymousId,properties,context');
    expect(events.body).toContain('Store Visit');
    const traits = await admin('GET', `/api/dsar/${request.id}/archive.csv?part=traits`);
    expect(traits.body).toContain(NAME);

    const queue = (await admin('GET', '/api/dsar')).json();
    expect(queue.requests.map((r: { id: string }) => r.id)).toContain(request.id);
    expect(queue.overdue).toBe(0);
  });

  it('rectify and restrict act on the live profile and are recorded', async () => {
    const fixed = await admin('POST', '/api/dsar', { type: 'rectify', identifier: { type: 'anonymousId', value: ANON_ID }, traits: { company: 'Quinta Lda', birthday: '1990-03-05' } });
    expect(fixed.statusCode).toBe(201);
    expect(fixed.json().result).toEqual({ traitsSet: 2, traitsRemoved: 0 });
    const [p] = await lookUp(`userId=${USER_ID}`);
    expect(p!.traits).toMatchObject({ company: 'Quinta Lda', birthday: '1990-03-05', email: EMAIL, city: 'Lisbon' });
    const refused = await admin('POST', '/api/dsar', { type: 'rectify', identifier: { type: 'anonymousId', value: ANON_ID }, traits: { birthday: '1990-02-31' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().field).toBe('traits.birthday');
    const restricted = await admin('POST', '/api/dsar', { type: 'restrict', identifier: { type: 'profileId', value: personIds[0] } });
    expect(restricted.statusCode).toBe(201);
    expect(restricted.json().result).toEqual({ restricted: 1 });
  });

  it('erase: nothing of the person is left in any table, and their events do not bring them back', async () => {
    const db = t.database.db;
    indexes = (await db.selectFrom('identities').select(sql<string>`encode(value_index, 'hex')`.as('hex')).where('profile_id', 'in', personIds).execute()).map((r) => r.hex);
    expect(indexes.length).toBeGreaterThanOrEqual(5);
    // The probe sees the person everywhere before: plaintext traits, sealed copies, ids and indexes.
    // Messages that never became events: one the worker set aside after it kept failing (its phone as typed, found only
    // once standardized), one not processed yet, and a bystander's dead letter, which stays.
    const deadLetters = [
      { type: 'identify', messageId: 'dead-1', anonymousId: 'kiosk-7', traits: { phone: '(415) 555-0193', name: NAME } },
      { type: 'identify', messageId: 'dead-2', anonymousId: 'kiosk-8', traits: { email: OTHER_EMAIL } },
    ];
    expect((await t.send('/v1/batch', { batch: deadLetters })).statusCode).toBe(200);
    await db.updateTable('event_log').set({ processed_at: new Date(), error: 'set aside after repeated failures' }).where('message_id', 'in', ['dead-1', 'dead-2']).execute();
    expect((await t.send('/v1/track', { messageId: 'pending-1', userId: USER_ID, event: 'Cart Viewed', properties: { note: `for ${NAME}` } })).statusCode).toBe(200);
    // A feedback run that read the person before the erasure and stores its result after it.
    let computed!: () => void;
    const readBefore = new Promise<void>((resolve) => (computed = resolve));
    const lateRun = recorded(db, 'default', 'feedback', { days: 90 }, async () => {
      await readBefore;
      const at = new Date().toISOString();
      return { complaints: 2, recentComplaints: [{ profileId: personIds[1], at, text: `${NAME} wants a refund`, score: -0.8, signals: ['refund'] }, { profileId: otherId, at, text: 'parcel lost', score: -0.6, signals: [] }] };
    });
    const before = (await findTraces()).join('\n');
    for (const expected of [`${EMAIL} sealed in event_log.payload`, `${NAME} sealed in event_log.payload`, `${USER_ID} sealed in event_log.payload`, `${NAME} sealed in profiles.secret_traits`, `${NAME} in analytics_runs`, 'ophelia.quandt sealed in quality_issues.examples', ' in events\n', ' in identities\n', 'email identity']) {
      expect(before).toContain(expected);
    }
    const res = await admin('POST', '/api/dsar', { type: 'erase', identifier: { type: 'phone', value: '415 555 0193' }, verification: { ...VERIFIED, note: 'ticket 881' } });
    expect(res.statusCode).toBe(201);
    const request = res.json();
    expect(request.status).toBe('done');
    expect(request.profileIds.sort()).toEqual([...personIds].sort());
    // No segment membership to remove: the restriction above took the person out of their segment.
    expect(request.result).toMatchObject({ profiles: 2, events: 5, identities: indexes.length, suppressions: indexes.length, segment_members: 0, profile_scores: 1, profile_tags: 1, profile_merges: 1, analytics_runs: 1 });
    // The 5 messages that became events, the dead letter and the message not processed yet.
    expect(request.result.event_log).toBe(7);
    computed();
    const late = await lateRun;
    expect(late.result.recentComplaints.map((c) => c.profileId)).toEqual([otherId]);
    expect((await db.selectFrom('event_log').select('message_id').where('error', 'is not', null).execute()).map((r) => r.message_id)).toEqual(['dead-2']);
    // Recorded once, after the erasure committed, in a transaction of its own.
    const entries = await db.selectFrom('audit_log').select(['action', 'actor', 'profile_id', 'details']).where('target', '=', request.id).execute();
    expect(entries).toEqual([{ action: 'dsar.erase', actor: 'token:admin', profile_id: null, details: { counts: request.result } }]);
    expect((await db.selectFrom('dsar_requests').select('audit_pending').where('id', '=', request.id).executeTakeFirstOrThrow()).audit_pending).toBe(false);
    // The refused second email was kept, sealed, as an example in the quality issue list.
    expect(request.result.quality_issues).toBe(1);
    expect(request.result.consent_events).toBeGreaterThan(0);

    expect(await findTraces(), 'after the erasure').toEqual([]);

    // The person sends again, as before, new messageIds and old: every message is dropped at ingest.
    expect((await t.send('/v1/batch', webBatch('-again'))).statusCode).toBe(200);
    expect((await t.send('/v1/batch', webBatch(''))).statusCode).toBe(200);
    expect((await fromPos('/v1/batch', posBatch('-again'))).statusCode).toBe(200);
    expect((await t.send('/v1/track', { messageId: 'x3', userId: 'bystander', event: 'Order Completed', properties: { revenue: 8 } })).statusCode).toBe(200);
    await t.drain();
    expect(await lookUp(`email=${encodeURIComponent(EMAIL)}`)).toEqual([]);
    expect(await lookUp(`phone=${encodeURIComponent(PHONE)}`)).toEqual([]);
    expect(await lookUp(`userId=${USER_ID}`)).toEqual([]);
    const hits = await db.selectFrom('suppressions').select(sql<string>`sum(hits)`.as('n')).executeTakeFirstOrThrow();
    expect(Number(hits.n)).toBeGreaterThanOrEqual(6);
    expect(await findTraces(), 'after the person sent again').toEqual([]);

    // The bystander is untouched: profile, events, segment, score and their complaint in the report.
    const [other] = await lookUp(`email=${OTHER_EMAIL}`);
    expect(other?.id).toBe(otherId);
    const events = (await t.get(`/api/profiles/${otherId}/events`)).json();
    expect(events.total).toBe(3);
    expect((await db.selectFrom('segment_members').select('profile_id').execute()).map((r) => r.profile_id)).toEqual([otherId]);
    expect((await db.selectFrom('segments').select('size').executeTakeFirstOrThrow()).size).toBe(1);
    const runs = await db.selectFrom('analytics_runs').select('result').where('kind', '=', 'feedback').execute();
    expect(runs).toHaveLength(2);
    for (const run of runs) expect((run.result as { recentComplaints: Array<{ profileId: string }> }).recentComplaints.map((c) => c.profileId)).toEqual([otherId]);

    // Asked again, the request says the person is gone.
    const again = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: EMAIL }, verification: VERIFIED });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ field: 'identifier' });
    expect(again.json().message).toContain('erased');
    // The access archive made before the erasure cannot be regenerated.
    const access = (await admin('GET', '/api/dsar?limit=10')).json().requests.find((r: { type: string }) => r.type === 'access');
    expect((await admin('GET', `/api/dsar/${access.id}/archive`)).statusCode).toBe(409);
  });

  it('a done request whose audit entry was lost with its process is recorded by the next sweep, once', async () => {
    const db = t.database.db;
    const id = randomUUID();
    const completed = new Date(Date.now() - 5 * 60_000);
    await db
      .insertInto('dsar_requests')
      .values({ workspace_id: 'default', id, type: 'restrict', status: 'done', identifier_type: 'profileId', identifier_index: Buffer.alloc(32), profile_ids: [otherId], received_at: completed, due_at: new Date(completed.getTime() + 30 * DAY), completed_at: completed, result: JSON.stringify({ restricted: 1 }), created_by: 'token:admin', audit_pending: true })
      .execute();
    // Two workers sweeping at once (on PostgreSQL, really at once): one appends.
    const appended = await Promise.all([appendPendingAudits(db), appendPendingAudits(db, { workspaceId: 'default' })]);
    expect(appended[0] + appended[1]).toBe(1);
    const entries = await db.selectFrom('audit_log').select(['action', 'actor', 'profile_id', 'details']).where('target', '=', id).execute();
    expect(entries).toEqual([{ action: 'dsar.restrict', actor: 'token:admin', profile_id: otherId, details: { counts: { restricted: 1 }, completedAt: completed.toISOString() } }]);
    expect(await appendPendingAudits(db)).toBe(0);
    expect(await verifyAudit(db, 'default')).toMatchObject({ ok: true });
  });

  /**
   * Every table, every column cast to text, and every sealed column decrypted:
   * what of the person's identifiers, profile ids and identity blind indexes
   * is found where. Exceptions, by design: suppressions and the request's own
   * identifier index hold blind indexes; the request log and the audit chain
   * name the (by then empty) profile ids as the record of what was done.
   */
  async function findTraces(): Promise<string[]> {
    const db = t.database.db;
    const found: string[] = [];
    const { rows: tables } = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`.execute(db);
    expect(tables.length).toBeGreaterThan(30);
    const { rows: sealedColumns } = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns where table_schema = 'public' and data_type = 'bytea'`.execute(db);
    for (const { table_name: table } of tables) {
      const { rows } = await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(db);
      const text = rows.map((r) => r.row).join('\n');
      for (const needle of NEEDLES) if (text.includes(needle)) found.push(`${needle} in ${table}`);
      if (table !== 'dsar_requests' && table !== 'audit_log') {
        for (const id of personIds) if (text.includes(id)) found.push(`profile ${id} in ${table}`);
      }
      if (table !== 'suppressions' && table !== 'dsar_requests') {
        for (const hex of indexes) if (text.includes(hex)) found.push(`blind index ${hex.slice(0, 8)}… in ${table}`);
      }
    }
    for (const { table_name: table, column_name: column } of sealedColumns) {
      const { rows } = await sql<{ v: Uint8Array | null }>`select ${sql.ref(column)} as v from ${sql.table(table)}`.execute(db);
      for (const { v } of rows) {
        // Any ciphertext of ours, whichever version and key sealed it.
        if (!v || keyIdOf(v) === null) continue;
        let plain: string;
        try {
          plain = t.keyring.decrypt(v).toString('utf8');
        } catch {
          continue;
        }
        for (const needle of NEEDLES) if (plain.includes(needle)) found.push(`${needle} sealed in ${table}.${column}`);
        for (const id of personIds) if (plain.includes(id)) found.push(`profile ${id} sealed in ${table}.${column}`);
      }
    }
    // And the blind indexes resolution would compute for their values find nothing.
    for (const [type, value] of [['email', EMAIL], ['phone', PHONE], ['userId', USER_ID]] as const) {
      const index = identityIndex(t.keyring, 'default', { type, value });
      if (await db.selectFrom('identities').select('profile_id').where('value_index', '=', index).executeTakeFirst()) found.push(`${type} identity`);
    }
    return [...new Set(found)];
  }
});
