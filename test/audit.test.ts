import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAudit } from '../src/privacy/audit-log.js';
import { secretHash } from '../src/privacy/accounts.js';
import { createStorage } from '../src/storage/database.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends, freshPostgresUrl } from './helpers/backends.js';
import { killAll, runCli } from './helpers/process.js';

interface Entry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  profileId: string | null;
  target: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}
interface Page {
  entries: Entry[];
  nextBefore: number | null;
}

describe.each(backends)('audit log API on $name', (backend) => {
  let t: TestApp;
  let ann: string;
  let bob: string;
  let cat: string;
  const admin = (method: 'POST' | 'GET', url: string, body?: unknown, token = ADMIN_TOKEN) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const audit = async (query: string): Promise<Page> => {
    const res = await admin('GET', `/api/audit${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Page;
  };

  beforeAll(async () => {
    t = await startTestApp(backend);
    const batch = [
      { type: 'identify', userId: 'ann', traits: { email: 'ann.secret@example.com', city: '上海' } },
      { type: 'identify', userId: 'bob', traits: { email: 'bob.secret@example.com', city: '北京' } },
      // No userId: merging it into ann breaks no one-userId limit.
      { type: 'identify', anonymousId: 'anon-cat', traits: { email: 'cat.secret@example.com' } },
      { type: 'track', userId: 'ann', event: 'Order Completed', properties: { order_id: 'o1', total: 10 } },
    ];
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
    const idOf = async (query: string) => ((await t.get(`/api/profiles?${query}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;
    ann = await idOf('userId=ann');
    bob = await idOf('userId=bob');
    cat = await idOf('anonymousId=anon-cat');
  });
  afterAll(async () => t.close());

  it('records profile reads and exports with the token as actor, and never the personal data', async () => {
    expect((await admin('GET', `/api/profiles/${ann}`)).statusCode).toBe(200);
    expect((await admin('GET', '/api/profiles/export')).statusCode).toBe(200);
    const page = await audit('');
    expect(page.entries[0]).toMatchObject({ actor: 'token:admin', action: 'profiles.export', profileId: null });
    expect(page.entries[1]).toMatchObject({ actor: 'token:admin', action: 'profile.read', profileId: ann, details: { part: 'profile' } });
    // The look-ups by userId in beforeAll are reads of the profile too: by which identifier, not its value.
    expect(page.entries.filter((e) => e.action === 'profile.read' && e.details.part === 'lookup').map((e) => e.details.by)).toEqual(['anonymousId', 'userId', 'userId']);
    expect(JSON.stringify(page)).not.toMatch(/secret@example\.com|"ann"|"bob"|anon-cat/);
    // Newest first, one chain.
    const seqs = page.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(page.entries[0]!.prevHash).toBe(page.entries[1]!.hash);
  });

  it('records segment exports, merges and configuration changes', async () => {
    const seg = (await admin('POST', '/api/segments', { name: 'Buyers', rule: { event: 'Order Completed', count: { gte: 1 } } })).json() as { id: string };
    expect((await admin('GET', `/api/segments/${seg.id}/members?format=csv&fields=id,email`)).statusCode).toBe(200);
    const merged = await admin('POST', '/api/profiles/merge', { into: ann, from: [cat] });
    expect(merged.statusCode, merged.body).toBe(200);
    expect((await admin('GET', '/api/settings/identity')).statusCode).toBe(200);
    const settings = (await admin('GET', '/api/settings/identity')).json() as Record<string, unknown>;
    expect((await t.app.inject({ method: 'PUT', url: '/api/settings/identity', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(settings) })).statusCode).toBe(200);
    const entries = (await audit('?limit=3')).entries;
    expect(entries.map((e) => e.action)).toEqual(['settings.update', 'profile.merge', 'segment.export']);
    expect(entries[1]).toMatchObject({ profileId: ann, details: { merged: [cat] } });
    expect(entries[2]).toMatchObject({ target: seg.id, details: { format: 'csv', fields: ['id', 'email'] } });
    // A consent set through the API names the profile and the choice, by its token.
    expect((await admin('POST', `/api/profiles/${bob}/consents`, { purpose: 'email_marketing', granted: false, legalBasis: 'consent' })).statusCode).toBe(200);
    expect((await audit('?limit=1')).entries[0]).toMatchObject({ action: 'consent.set', actor: 'token:admin', profileId: bob, details: { purpose: 'email_marketing', granted: false } });
  });

  it('filters by actor, action, profile and time, and pages by seq', async () => {
    await appendAudit(t.database.db, { workspaceId: 'default', actor: 'cli', action: 'profiles.export' });
    expect((await audit('?actor=cli')).entries.map((e) => e.actor)).toEqual(['cli']);
    expect((await audit('?action=profiles.export')).entries.map((e) => e.actor)).toEqual(['cli', 'token:admin']);
    const forAnn = await audit(`?profile=${ann}`);
    expect(forAnn.entries.length).toBeGreaterThanOrEqual(3);
    expect(forAnn.entries.every((e) => e.profileId === ann)).toBe(true);
    expect((await audit(`?profile=${ann}&action=profile.merge`)).entries).toHaveLength(1);
    const all = await audit('?limit=1000');
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await audit(`?from=${encodeURIComponent(later)}`)).entries).toEqual([]);
    expect((await audit(`?to=${encodeURIComponent(later)}&limit=1000`)).entries).toHaveLength(all.entries.length);
    const first = await audit('?limit=2');
    expect(first.entries.map((e) => e.seq)).toEqual(all.entries.slice(0, 2).map((e) => e.seq));
    const second = await audit(`?limit=2&before=${first.nextBefore}`);
    expect(second.entries.map((e) => e.seq)).toEqual(all.entries.slice(2, 4).map((e) => e.seq));
    expect(all.nextBefore).toBeNull();
  });

  it('refuses bad filters with 400 naming the field, and tokens without admin with 403', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=abc', 'limit'],
      ['?before=-1', 'before'],
      ['?profile=not-a-uuid', 'profile'],
      ['?from=yesterday', 'from'],
      ['?to=2024-13-45T00:00:00Z', 'to'],
      ['?action=Profile%20Read', 'action'],
      ['?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z', 'from'],
    ] as const) {
      const res = await admin('GET', `/api/audit${query}`);
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400);
      expect((res.json() as { field: string }).field, query).toBe(field);
    }
    await t.database.db.insertInto('api_tokens').values({ workspace_id: 'default', id: 'reader', name: 'reader', token_hash: secretHash('ct_reader'), role: 'analyst' }).execute();
    expect((await admin('GET', '/api/audit', undefined, 'ct_reader')).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/audit/verify' })).statusCode).toBe(401);
  });

  it('keeps one unbroken chain under 50 concurrent appends, from the API and directly', async () => {
    const before = (await audit('?limit=1')).entries[0]!.seq;
    const work = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? admin('GET', `/api/profiles/${ann}`).then((r) => expect(r.statusCode).toBe(200)) : appendAudit(t.database.db, { workspaceId: 'default', actor: 'worker', action: 'profile.read', profileId: ann, details: { i } }),
    );
    await Promise.all(work);
    const verify = (await admin('GET', '/api/audit/verify')).json() as { ok: boolean; entries: number; head: { seq: number } };
    expect(verify).toMatchObject({ ok: true, entries: before + 50, head: { seq: before + 50 } });
  });

  it('reports a row tampered with through SQL, with its seq', async () => {
    const victim = (await audit('?action=profile.merge')).entries[0]!;
    await sql`update audit_log set details = ${JSON.stringify({ merged: [] })}::jsonb where workspace_id = 'default' and seq = ${victim.seq}`.execute(t.database.db);
    const res = await admin('GET', '/api/audit/verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ workspaceId: 'default', ok: false, firstBad: { seq: victim.seq, reason: 'edited' } });
  });
});

describe('custodian audit verify', () => {
  const root = mkdtempSync(join(tmpdir(), 'custodian-audit-'));
  afterAll(async () => {
    await killAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('prints each workspace and exits 1 once an entry is edited', async () => {
    const dataDir = join(root, 'data');
    const empty = await runCli(['audit', 'verify', '--data', dataDir], {}, 120_000);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('default: ok, 0 entries');

    let database = await createStorage({ kind: 'pglite', dataDir });
    for (let i = 0; i < 3; i++) await appendAudit(database.db, { workspaceId: 'default', actor: 'cli', action: 'profiles.export' });
    await database.close();
    const good = await runCli(['audit', 'verify', '--data', dataDir], {}, 120_000);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/default: ok, 3 entries, head 3 [0-9a-f]{64}/);

    // An export by the CLI on its own is recorded too, as the API's is.
    const exported = await runCli(['export', 'profiles', '--data', dataDir, '-o', join(root, 'profiles.ndjson')], {}, 120_000);
    expect(exported.code, exported.stderr).toBe(0);
    const after = await runCli(['audit', 'verify', '--data', dataDir], {}, 120_000);
    expect(after.stdout).toMatch(/default: ok, 4 entries/);

    database = await createStorage({ kind: 'pglite', dataDir });
    await database.db.updateTable('audit_log').set({ actor: 'someone' }).where('seq', '=', '2').execute();
    await database.close();
    const bad = await runCli(['audit', 'verify', '--data', dataDir], {}, 120_000);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('default: BROKEN at seq 2 (edited), 4 entries');
    expect(bad.stderr).toContain('tampered');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.each(backends)('custodian dsar on its own database ($name)', (backend) => {
  const root = mkdtempSync(join(tmpdir(), 'custodian-dsar-cli-'));
  let dropDatabase: (() => Promise<void>) | null = null;
  afterAll(async () => {
    await killAll();
    await dropDatabase?.();
    rmSync(root, { recursive: true, force: true });
  });

  it('records the request and the access archive it writes, with the cli as actor', async () => {
    const dataDir = join(root, 'data');
    const env: Record<string, string> = {};
    if (backend.name === 'postgres') {
      const fresh = await freshPostgresUrl(process.env.TEST_DATABASE_URL!);
      dropDatabase = fresh.drop;
      env.DATABASE_URL = fresh.url;
    }
    const people = join(root, 'people.csv');
    writeFileSync(people, 'id,email,name\nP1,ada.archive@example.com,Ada Archive\n');
    const imported = await runCli(['import', people, '--source', 'crm', '--data', dataDir, '--no-demo'], env, 120_000);
    expect(imported.code, imported.stderr).toBe(0);
    const output = join(root, 'archive.json');
    const run = await runCli(['dsar', 'access', '--email', 'ada.archive@example.com', '--verified-by', 'privacy-desk', '--method', 'email_link', '--data', dataDir, '-o', output], env, 120_000);
    expect(run.code, run.stderr).toBe(0);
    const archive = JSON.parse(readFileSync(output, 'utf8')) as { request: { id: string }; profile: { id: string }; events: unknown[] };

    const database = await createStorage(env.DATABASE_URL ? { kind: 'postgres', url: env.DATABASE_URL } : { kind: 'pglite', dataDir });
    try {
      const entries = await database.db.selectFrom('audit_log').select(['action', 'actor', 'target', 'profile_id', 'details']).where('action', 'like', 'dsar.%').orderBy('seq').execute();
      expect(entries).toEqual([
        expect.objectContaining({ action: 'dsar.access', actor: 'cli', target: archive.request.id, profile_id: archive.profile.id }),
        { action: 'dsar.archive', actor: 'cli', target: archive.request.id, profile_id: archive.profile.id, details: { format: 'json', events: archive.events.length } },
      ]);
      expect(JSON.stringify(entries)).not.toContain('ada.archive');
      expect(await verifyAudit(database.db, 'default')).toMatchObject({ ok: true });
    } finally {
      await database.close();
    }
  });
});

