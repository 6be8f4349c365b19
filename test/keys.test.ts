import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { createDestination } from '../src/activate/destinations.js';
import { createWebhookStore } from '../src/collect/webhook-store.js';
import { resolveWorkspace } from '../src/identity/resolve.js';
import { signUnsubscribe, verifyLink } from '../src/privacy/consent.js';
import { createKeyring, keyIdOf, KeyringError, LEGACY_KEY_ID, MasterKeyError, type Keyring } from '../src/privacy/crypto.js';
import { destroyRetiredKey, keyStatus, openKeyring, rotateDataKeys, rotateMasterKey, verifyKeyProvider, type EnvelopeKeyring } from '../src/privacy/data-keys.js';
import { countRowsByKey, ENCRYPTED_COLUMNS } from '../src/privacy/encrypted-columns.js';
import { verifyMasterKey } from '../src/privacy/key-check.js';
import { localKeyProvider } from '../src/privacy/key-provider.js';
import { readUnreadable, reencryptRetired, type ReencryptResult } from '../src/privacy/reencrypt.js';
import { buildApp } from '../src/server/app.js';
import { bootstrap } from '../src/server/bootstrap.js';
import { createStorage, type Database } from '../src/storage/database.js';
import { processBatch } from '../src/worker/pipeline.js';
import { startWorker } from '../src/worker/runner.js';
import { workerJobs } from '../src/worker/schedule.js';
import { ADMIN_TOKEN, startTestApp, TEST_MASTER_KEY, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';
import { runCli } from './helpers/process.js';

/*
 * Envelope encryption against real databases: data-key rotation with lazy
 * re-encryption, master-key rotation, and databases from before envelope
 * encryption (version-1 ciphertexts). What must hold throughout: every sealed
 * value reads back byte for byte, and blind-index look-ups keep finding people.
 */

const junk = createJunkIdFilter();
const OLD_MASTER = localKeyProvider(TEST_MASTER_KEY, 'TEST_MASTER_KEY');
const NEW_MASTER = localKeyProvider(Buffer.alloc(32, 8), 'new.key');

/** Every sealed value of the database, opened: `table.column:primary key` → plaintext (hex) and the key that sealed it. */
async function sealedValues(database: Database, keyring: Keyring): Promise<Map<string, { keyId: number | null; plain: string }>> {
  const values = new Map<string, { keyId: number | null; plain: string }>();
  for (const c of ENCRYPTED_COLUMNS) {
    const { rows } = await sql<Record<string, unknown>>`select ${sql.join(c.key.map(([k]) => sql.ref(k)))}, ${sql.ref(c.column)} as sealed from ${sql.table(c.table)}`.execute(database.db);
    for (const row of rows) {
      if (row.sealed === null) continue;
      const id = c.key.map(([k, kind]) => (kind === 'bytea' ? Buffer.from(row[k] as Uint8Array).toString('hex') : String(row[k]))).join('/');
      const sealed = row.sealed as Uint8Array;
      values.set(`${c.table}.${c.column}:${id}`, { keyId: keyIdOf(sealed), plain: keyring.decrypt(sealed).toString('hex') });
    }
  }
  return values;
}

function plaintexts(values: Map<string, { plain: string }>): Map<string, string> {
  return new Map([...values].map(([k, v]) => [k, v.plain]));
}

function keyIdsIn(values: Map<string, { keyId: number | null }>): Set<number | null> {
  return new Set([...values.values()].map((v) => v.keyId));
}

const people = [
  { userId: 'u-ada', email: 'ada@example.com', sent: ' Ada@Example.com ', phone: '+44 20 7946 0958', name: 'Ada Lovelace' },
  { userId: 'u-grace', email: 'grace@example.org', sent: 'grace@example.org', phone: '+1 415 555 0101', name: 'Grace Hopper' },
];

/** Messages that fill every encrypted column: identifiers, cleaned fields (lineage), a refused phone (quality example), events. */
async function sendPeople(t: { send: TestApp['send']; drain(): Promise<number> }, suffix: string): Promise<void> {
  for (const p of people) {
    const identify = await t.send('/v1/identify', { messageId: `id-${p.userId}${suffix}`, userId: `${p.userId}${suffix}`, traits: { email: p.sent.replace('@', `${suffix}@`), phone: p.phone, name: p.name, city: 'London' } });
    expect(identify.statusCode, identify.body).toBe(200);
    const order = await t.send('/v1/track', { messageId: `order-${p.userId}${suffix}`, userId: `${p.userId}${suffix}`, event: 'Order Completed', properties: { revenue: 42 } });
    expect(order.statusCode, order.body).toBe(200);
  }
  expect((await t.send('/v1/identify', { messageId: `bad${suffix}`, userId: `u-bad${suffix}`, traits: { phone: 'call me maybe' } })).statusCode).toBe(200);
  await t.drain();
}

async function lookUp(get: (path: string) => Promise<{ statusCode: number; json(): unknown }>, email: string): Promise<string | null> {
  const res = await get(`/api/profiles?email=${encodeURIComponent(email)}`);
  if (res.statusCode === 404) return null;
  expect(res.statusCode).toBe(200);
  const body = res.json() as { id?: string; profiles?: Array<{ id: string }> };
  return body.id ?? body.profiles?.[0]?.id ?? null;
}

describe.each(backends)('envelope encryption on $name', (backend) => {
  let t: TestApp;
  let before: Map<string, string>;
  const ids = new Map<string, string>();
  let unsubscribe: string;

  beforeAll(async () => {
    t = await startTestApp(backend);
    await sendPeople(t, '');
    await createWebhookStore(t.database, t.keyring).save('default', 'forms', { messages: [] }, true);
    await createDestination(t.database.db, t.keyring, 'default', { name: 'signed hook', kind: 'webhook', config: { url: 'https://hooks.example.com/in' } }, null);
    await resolveWorkspace({ database: t.database, keyring: t.keyring, junk }, 'default');
    for (const p of people) {
      const id = await lookUp(t.get, p.email);
      expect(id, p.email).not.toBeNull();
      ids.set(p.email, id!);
    }
    unsubscribe = signUnsubscribe(t.keyring, { workspaceId: 'default', profileId: ids.get(people[0]!.email)!, purpose: 'email_marketing' });
  });
  afterAll(async () => t?.close());

  it('seals every column with the workspace key, named in each ciphertext', async () => {
    const values = await sealedValues(t.database, t.keyring);
    for (const c of ENCRYPTED_COLUMNS) expect([...values.keys()].some((k) => k.startsWith(`${c.table}.${c.column}:`)), `${c.table}.${c.column} has rows`).toBe(true);
    const status = await keyStatus(t.database);
    const own = status.keys.find((k) => k.workspaceId === 'default' && k.state === 'active')!;
    expect(own).toBeDefined();
    expect(keyIdsIn(values)).toEqual(new Set([own.keyId]));
    expect(own.rows).toBe(values.size);
    expect(status.keys.find((k) => k.purpose === 'index')).toMatchObject({ workspaceId: null, state: 'index', wrappedBy: OLD_MASTER.keyId });
    before = plaintexts(values);
  });

  it('rotate: old rows open under the retired key, new ones seal under the new key, look-ups find everyone', async () => {
    const oldKeys = keyIdsIn(await sealedValues(t.database, t.keyring));
    const rotation = await rotateDataKeys(t.database, OLD_MASTER, { activateAfterMs: 0, actor: 'cli' });
    expect(rotation.keys.map((k) => k.workspaceId)).toEqual([null, 'default']);
    await t.keyring.refresh();
    const newKey = rotation.keys.find((k) => k.workspaceId === 'default')!.keyId;
    expect([...oldKeys]).toEqual(rotation.keys.find((k) => k.workspaceId === 'default')!.retired);

    const after = await sealedValues(t.database, t.keyring);
    expect(plaintexts(after)).toEqual(before);
    expect(keyIdsIn(after)).toEqual(oldKeys);

    await sendPeople(t, '-2');
    const grown = await sealedValues(t.database, t.keyring);
    const added = [...grown].filter(([k]) => !after.has(k));
    expect(added.length).toBeGreaterThan(5);
    for (const [k, v] of added) expect(v.keyId, k).toBe(newKey);
    for (const p of people) {
      expect(await lookUp(t.get, p.email)).toBe(ids.get(p.email));
      expect(await lookUp(t.get, p.email.replace('@', '-2@'))).not.toBeNull();
    }
    before = plaintexts(grown);

    const audit = await t.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'keys.rotate').execute();
    expect(audit).toEqual([expect.objectContaining({ workspace_id: 'default', actor: 'cli', target: String(newKey) })]);
    expect(audit[0]!.details).toMatchObject({ kind: 'data', retired: [...oldKeys] });
  });

  it('lazy re-encryption: stopped and resumed, it leaves no row on a retired key, every value identical, and destroys the key', async () => {
    const retired = (await keyStatus(t.database)).keys.filter((k) => k.state === 'retired');
    expect(retired.length).toBeGreaterThan(0);
    expect(retired.reduce((n, k) => n + k.rows, 0)).toBeGreaterThan(0);
    const oldSealed = (await t.database.db.selectFrom('event_log').select('payload').orderBy('seq').limit(1).executeTakeFirstOrThrow()).payload;

    // Stopped after its first batch: what it did stays done, nothing is lost, the key is kept.
    const stop = new AbortController();
    const cursors = new Map<string, string[]>();
    const first = await reencryptRetired(t.database, t.keyring, { batchRows: 3, destroyAfterMs: 0, signal: stop.signal, cursors, onProgress: () => stop.abort() });
    expect(first).toMatchObject({ rewritten: 3, stopped: true, destroyed: [] });
    expect(plaintexts(await sealedValues(t.database, t.keyring))).toEqual(before);

    // Within the grace period emptied keys are kept; then they go.
    const kept = await reencryptRetired(t.database, t.keyring, { batchRows: 4, cursors });
    expect(kept.rewritten).toBe(retired.reduce((n, k) => n + k.rows, 0) - 3);
    expect(kept.destroyed).toEqual([]);
    expect(kept.remaining.sort()).toEqual(retired.map((k) => k.keyId).sort());
    const done = await reencryptRetired(t.database, t.keyring, { destroyAfterMs: 0, actor: 'cli' });
    expect(done).toMatchObject({ rewritten: 0, remaining: [], stopped: false });
    expect(done.destroyed.sort()).toEqual(retired.map((k) => k.keyId).sort());

    const counts = await countRowsByKey(t.database.db);
    for (const k of retired) expect(counts.get(k.keyId), `rows under key ${k.keyId}`).toBeUndefined();
    const values = await sealedValues(t.database, t.keyring);
    expect(plaintexts(values)).toEqual(before);
    const status = await keyStatus(t.database);
    for (const k of retired) expect(status.keys.find((s) => s.keyId === k.keyId)).toMatchObject({ state: 'destroyed', rows: 0 });
    const wrapped = await t.database.db.selectFrom('data_keys').select(['key_id', 'wrapped']).where('key_id', 'in', retired.map((k) => k.keyId)).execute();
    expect(wrapped.every((w) => w.wrapped === null)).toBe(true);
    // A copy of a value from before (an old backup's, say) cannot be opened once its key is gone.
    await t.keyring.refresh();
    expect(() => t.keyring.decrypt(oldSealed)).toThrow(/data key \d+ was destroyed on/);
    const destroyedAudit = await t.database.db.selectFrom('audit_log').select(['target', 'actor']).where('action', '=', 'keys.destroy').execute();
    // The database key's destruction is recorded in every workspace's log, the workspace key's in its own.
    expect(destroyedAudit.map((a) => a.target).sort()).toEqual(retired.map((k) => String(k.keyId)).sort());
    expect(new Set(destroyedAudit.map((a) => a.actor))).toEqual(new Set(['cli']));
    for (const p of people) expect(await lookUp(t.get, p.email)).toBe(ids.get(p.email));
  });

  it('master-key rotation: the new key opens everything, the old one is refused by name, look-ups and signed links still work', async () => {
    const { rewrapped } = await rotateMasterKey(t.database, OLD_MASTER, NEW_MASTER, { actor: 'cli' });
    const live = (await keyStatus(t.database)).keys.filter((k) => k.state !== 'destroyed');
    expect(rewrapped).toBe(live.length);
    expect(new Set(live.map((k) => k.wrappedBy))).toEqual(new Set([NEW_MASTER.keyId]));
    const audit = await t.database.db.selectFrom('audit_log').select('details').where('action', '=', 'keys.rotate').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(audit.details).toEqual({ kind: 'master', from: OLD_MASTER.keyId, to: NEW_MASTER.keyId, rewrapped });

    const refused = await openKeyring(t.database, OLD_MASTER).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MasterKeyError);
    expect((refused as Error).message).toContain(`the master key from TEST_MASTER_KEY (${OLD_MASTER.keyId}) is not the one this database was set up with: its keys are wrapped with ${NEW_MASTER.keyId}. Start with that key`);
    await expect(verifyKeyProvider(t.database, OLD_MASTER)).rejects.toThrow(MasterKeyError);
    await expect(rotateMasterKey(t.database, NEW_MASTER, NEW_MASTER, { actor: 'cli' })).rejects.toThrow(/is the current one/);

    const reopened = await openKeyring(t.database, NEW_MASTER, { activateAfterMs: 0 });
    try {
      await verifyKeyProvider(t.database, NEW_MASTER);
      expect(plaintexts(await sealedValues(t.database, reopened))).toEqual(before);
      expect(verifyLink(reopened, unsubscribe, 'unsubscribe')).toMatchObject({ ok: true, claims: { profileId: ids.get(people[0]!.email) } });
      const app = await buildApp({ database: t.database, keyring: reopened, junk });
      try {
        const get = (path: string) => app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        for (const p of people) expect(await lookUp(get, p.email)).toBe(ids.get(p.email));
        // And what the reopened keyring seals, the one from before the rotation (still in memory) opens.
        const sealed = reopened.encrypt('default', Buffer.from('after'));
        expect(t.keyring.decrypt(sealed).toString()).toBe('after');
      } finally {
        await app.close();
      }
    } finally {
      await reopened.close();
    }
  });

  it('a rotation of one workspace leaves the others and the database key alone; an unknown workspace is refused by name', async () => {
    await t.database.db.insertInto('workspaces').values({ id: 'second', name: 'second', settings: '{}' }).execute();
    // A process still on the replaced master key adds no key only it could open; it seals under the database key meanwhile.
    await t.keyring.refresh();
    expect(await t.database.db.selectFrom('data_keys').select('key_id').where('workspace_id', '=', 'second').execute()).toEqual([]);
    const databaseKey = (await keyStatus(t.database)).keys.find((k) => k.workspaceId === null && k.purpose === 'data' && k.state === 'active')!;
    expect(keyIdOf(t.keyring.encrypt('second', Buffer.from('x')))).toBe(databaseKey.keyId);
    const current = await openKeyring(t.database, NEW_MASTER, { activateAfterMs: 0 });
    await current.close();
    const beforeKeys = (await keyStatus(t.database)).keys.filter((k) => k.state === 'active');
    const secondKey = beforeKeys.find((k) => k.workspaceId === 'second')!;
    expect(secondKey).toBeDefined();
    const rotation = await rotateDataKeys(t.database, NEW_MASTER, { workspaceId: 'second', activateAfterMs: 0, actor: 'cli' });
    expect(rotation.keys).toEqual([{ workspaceId: 'second', keyId: expect.any(Number), retired: [secondKey.keyId] }]);
    const afterKeys = (await keyStatus(t.database)).keys.filter((k) => k.state === 'active');
    expect(afterKeys.filter((k) => k.workspaceId !== 'second')).toEqual(beforeKeys.filter((k) => k.workspaceId !== 'second'));
    await expect(rotateDataKeys(t.database, NEW_MASTER, { workspaceId: 'nowhere', activateAfterMs: 0, actor: 'cli' })).rejects.toThrow(/workspace "nowhere" does not exist/);
  });

  it('every bytea column is either sealed by the keyring (and so re-encrypted) or a hash, index or wrapped key', async () => {
    const { rows } = await sql<{ name: string }>`
      select table_name || '.' || column_name as name from information_schema.columns
      where table_schema = 'public' and data_type in ('bytea', 'ARRAY') and (data_type = 'bytea' or udt_name = '_bytea') order by 1`.execute(t.database.db);
    const sealed = new Set(ENCRYPTED_COLUMNS.map((c) => `${c.table}.${c.column}`));
    const notSealed = new Set([
      'sources.write_key_hash',
      'api_tokens.token_hash',
      'sessions.token_hash',
      'identities.value_index',
      'identity_conflicts.value_index',
      'profile_merges.moved_identities',
      'webhook_mappings.secret_hash',
      'audit_log.prev_hash',
      'audit_log.hash',
      'audit_heads.hash',
      'dsar_requests.identifier_index',
      'suppressions.value_index',
      'data_keys.wrapped',
    ]);
    const unlisted = rows.map((r) => r.name).filter((name) => !sealed.has(name) && !notSealed.has(name));
    expect(unlisted, 'add new sealed columns to ENCRYPTED_COLUMNS (src/privacy/encrypted-columns.ts), hashes and indexes to this list').toEqual([]);
  });
});

describe.each(backends)('a database from before envelope encryption on $name', (backend) => {
  let database: Database;
  let keyring: EnvelopeKeyring | null = null;
  const MASTER = TEST_MASTER_KEY;
  afterAll(async () => {
    await keyring?.close();
    await database?.close();
  });

  it('keeps its version-1 rows and indexes, seals new data per workspace, and rotation moves the old rows off the legacy key', async () => {
    database = await backend.open();
    // As the pre-envelope runtime set a database up: keys derived from the master key, a check value in custodian_meta.
    const legacy = createKeyring(MASTER);
    await verifyMasterKey(database, legacy);
    await bootstrap(database, { writeKey: WRITE_KEY, adminToken: ADMIN_TOKEN, dataDir: null });
    const oldApp = await buildApp({ database, keyring: legacy, junk });
    const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
    const send = (path: string, body: unknown) => oldApp.inject({ method: 'POST', url: path, headers: { authorization: basic, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    const drain = async () => {
      let n = 0;
      for (let k = (await processBatch({ database, keyring: legacy, junk })).processed; k > 0; k = (await processBatch({ database, keyring: legacy, junk })).processed) n += k;
      return n;
    };
    await sendPeople({ send, drain }, '');
    await oldApp.close();
    const legacyValues = await sealedValues(database, legacy);
    expect(keyIdsIn(legacyValues)).toEqual(new Set([LEGACY_KEY_ID]));

    // Opened with another master key: refused before anything is written.
    const wrong = await openKeyring(database, NEW_MASTER).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(MasterKeyError);
    expect((wrong as Error).message).toMatch(/the master key from new\.key is not the one this database was set up with/);
    expect(await database.db.selectFrom('data_keys').selectAll().execute()).toEqual([]);

    keyring = await openKeyring(database, localKeyProvider(MASTER, 'master.key'), { activateAfterMs: 0 });
    const keys = await database.db.selectFrom('data_keys').select(['key_id', 'workspace_id', 'purpose']).orderBy('key_id').execute();
    expect(keys).toEqual([
      { key_id: LEGACY_KEY_ID, workspace_id: null, purpose: 'data' },
      { key_id: 1, workspace_id: null, purpose: 'index' },
      { key_id: 2, workspace_id: 'default', purpose: 'data' },
    ]);
    const opened = await sealedValues(database, keyring);
    expect(plaintexts(opened)).toEqual(plaintexts(legacyValues));
    expect(keyring.blindIndex('default', 'email', 'ada@example.com').equals(legacy.blindIndex('default', 'email', 'ada@example.com'))).toBe(true);

    const app = await buildApp({ database, keyring, junk });
    try {
      const get = (path: string) => app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const sendNew = (path: string, body: unknown) => app.inject({ method: 'POST', url: path, headers: { authorization: basic, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      const ada = await lookUp(get, 'ada@example.com');
      expect(ada).not.toBeNull();
      const drainNew = async () => {
        let n = 0;
        for (let k = (await processBatch({ database, keyring: keyring!, junk })).processed; k > 0; k = (await processBatch({ database, keyring: keyring!, junk })).processed) n += k;
        return n;
      };
      await sendPeople({ send: sendNew, drain: drainNew }, '-new');
      const mixed = await sealedValues(database, keyring);
      expect(keyIdsIn(mixed)).toEqual(new Set([LEGACY_KEY_ID, 2]));

      await rotateDataKeys(database, keyring.provider, { activateAfterMs: 0, actor: 'cli' });
      await keyring.refresh();
      // The worker's job moves the rows; the emptied keys wait out their grace period, then go.
      const job = workerJobs({ database, keyring, junk }).find((j) => j.name === 'keys-reencrypt')!;
      const background = (await job.run(new AbortController().signal)) as ReencryptResult;
      expect(background.rewritten).toBe(mixed.size);
      expect(background.remaining.sort()).toEqual([LEGACY_KEY_ID, 2]);
      const result = await reencryptRetired(database, keyring, { destroyAfterMs: 0 });
      expect(result.rewritten).toBe(0);
      expect(result.destroyed.sort()).toEqual([LEGACY_KEY_ID, 2]);
      const moved = await sealedValues(database, keyring);
      expect(plaintexts(moved)).toEqual(plaintexts(mixed));
      expect([...keyIdsIn(moved)]).toEqual([(await keyStatus(database)).keys.find((k) => k.workspaceId === 'default' && k.state === 'active')!.keyId]);
      expect(await lookUp(get, 'ada@example.com')).toBe(ada);
      expect(await lookUp(get, 'ada-new@example.com')).not.toBeNull();
    } finally {
      await app.close();
    }
  });
});

describe('custodian keys, as a user runs it (embedded database)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodian-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('status, rotate, reencrypt and rotate --master, then the old key is refused and the new one reads everything', async () => {
    const data = join(dir, 'data');
    const csv = join(dir, 'customers.csv');
    writeFileSync(csv, 'id,email,phone,name\nc1,ada@example.com,+44 20 7946 0958,Ada Lovelace\nc2,grace@example.org,+1 415 555 0101,Grace Hopper\n');
    const env = { CUSTODIAN_DATA: data };
    const imported = await runCli(['import', csv, '--source', 'crm', '--no-resolve'], env);
    expect(imported.code, imported.stderr).toBe(0);

    const status = await runCli(['keys', 'status', '--format', 'json'], env);
    expect(status.code, status.stderr).toBe(0);
    const before = JSON.parse(status.stdout) as Awaited<ReturnType<typeof keyStatus>>;
    const own = before.keys.find((k) => k.workspaceId === 'default')!;
    expect(own).toMatchObject({ state: 'active', purpose: 'data' });
    expect(own.rows).toBeGreaterThan(0);

    const rotated = await runCli(['keys', 'rotate'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/new data keys \d+ \(database\), \d+ \(default\) seal new data from now/);
    expect(rotated.stderr).toContain(`retired `);
    const table = await runCli(['keys', 'status'], env);
    expect(table.stdout).toMatch(new RegExp(`^${own.keyId}\\s+default\\s+data\\s+retired `, 'm'));
    expect(table.stdout).toContain('rows still under retired keys');

    const reencrypted = await runCli(['keys', 'reencrypt'], env);
    expect(reencrypted.code, reencrypted.stderr).toBe(0);
    expect(reencrypted.stderr).toMatch(new RegExp(`keys reencrypt: ${own.rows} rows re-encrypted; keys [\\d, ]*${own.keyId}[\\d, ]* destroyed`));

    const oldKey = readFileSync(join(data, 'master.key'), 'utf8');
    const master = await runCli(['keys', 'rotate', '--master', join(dir, 'next.key')], env);
    expect(master.code, master.stderr).toBe(0);
    expect(master.stderr).toMatch(/keys re-wrapped under local:[0-9a-f]{16} \(.*next\.key, made now\)/);
    expect(readFileSync(join(data, 'master.key'), 'utf8')).toBe(readFileSync(join(dir, 'next.key'), 'utf8'));
    const retiredFile = readdirSync(data).find((f) => f.startsWith('master.key.retired-'));
    expect(retiredFile).toBeDefined();
    expect(readFileSync(join(data, retiredFile!), 'utf8')).toBe(oldKey);

    const refused = await runCli(['keys', 'status'], { ...env, CUSTODIAN_MASTER_KEY: oldKey.trim() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^custodian: the master key from CUSTODIAN_MASTER_KEY \(local:[0-9a-f]{16}\) is not the one this database was set up with: its keys are wrapped with local:[0-9a-f]{16}\. Start with that key: after `custodian keys rotate --master FILE` it is the key in FILE/);

    const exported = await runCli(['export', 'profiles', '--format', 'ndjson'], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('ada@example.com');
    expect(exported.stdout).toContain('+14155550101');
    expect(existsSync(join(data, 'master.key'))).toBe(true);
  });
});

describe.each(backends)('keys under failure on $name', (backend) => {
  let t: TestApp;
  const opened: EnvelopeKeyring[] = [];
  beforeAll(async () => {
    t = await startTestApp(backend);
    await sendPeople(t, '');
  });
  afterAll(async () => {
    for (const k of opened) await k.close();
    await t?.close();
  });

  it('a process left on the old master key refuses to seal under its retired key (and the API answers 503), rather than sealing data the key destruction would lose', async () => {
    const problems: string[] = [];
    const stale = await openKeyring(t.database, OLD_MASTER, { activateAfterMs: 0, onRefreshError: (e) => problems.push(e.message) });
    opened.push(stale);
    const early = stale.encrypt('default', Buffer.from('before'));
    const held = keyIdOf(early)!;
    await rotateMasterKey(t.database, OLD_MASTER, NEW_MASTER, { actor: 'cli' });
    const current = await openKeyring(t.database, NEW_MASTER, { activateAfterMs: 0 });
    opened.push(current);
    await rotateDataKeys(t.database, NEW_MASTER, { activateAfterMs: 0, actor: 'cli' });
    await stale.refresh();
    await current.refresh();
    expect(problems.join('\n')).toMatch(/restart it with the current master key/);

    let refused: unknown;
    try {
      stale.encrypt('default', Buffer.from('after'));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(KeyringError);
    expect((refused as KeyringError).message).toMatch(/this process has no current data key for workspace "default".*old master key.*restart it/);
    expect((refused as KeyringError).kind).toBe('unavailable');
    expect((refused as KeyringError).keyId).toBe(held);
    // The database key was rotated too: a workspace without keys of its own is refused as well.
    expect(() => stale.encrypt('nowhere-yet', Buffer.from('x'))).toThrow(KeyringError);
    // What it can still do: open what it has keys for; what it cannot, it says is not loaded (503 in the API, a reload in the worker).
    expect(stale.decrypt(early).toString()).toBe('before');
    expect(() => stale.decrypt(current.encrypt('default', Buffer.from('x')))).toThrow(/is not loaded in this process/);
    expect(keyIdOf(current.encrypt('default', Buffer.from('x')))).not.toBe(held);

    const app = await buildApp({ database: t.database, keyring: stale, junk });
    try {
      const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
      const res = await app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: basic, 'content-type': 'application/json' }, payload: JSON.stringify({ messageId: 'stale-1', userId: 'u-stale', event: 'Seen' }) });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_UNAVAILABLE', keyId: held });
    } finally {
      await app.close();
    }
  });

  it('a worker that meets a key it cannot load reloads its keys and retries, without setting the message aside', async () => {
    const [stale, current] = opened as [EnvelopeKeyring, EnvelopeKeyring];
    const app = await buildApp({ database: t.database, keyring: current, junk });
    try {
      const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
      const res = await app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: basic, 'content-type': 'application/json' }, payload: JSON.stringify({ messageId: 'fresh-1', userId: 'u-fresh', event: 'Seen' }) });
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      await app.close();
    }
    let refreshes = 0;
    const deadLettered: Array<string | null> = [];
    const errors: string[] = [];
    const worker = startWorker(
      { database: t.database, keyring: { ...stale, refresh: async () => { refreshes += 1; await stale.refresh(); } } as EnvelopeKeyring, junk },
      { pollMs: 5, onDeadLetter: (id) => deadLettered.push(id), logger: { error: (_details, message) => errors.push(message) } },
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    await worker.stop();
    expect(errors.length).toBeGreaterThan(3);
    expect(refreshes).toBeGreaterThan(3);
    expect(deadLettered).toEqual([]);
    const row = await t.database.db.selectFrom('event_log').select(['processed_at', 'error']).where('message_id', '=', 'fresh-1').executeTakeFirstOrThrow();
    expect(row).toEqual({ processed_at: null, error: null });
    // A process with the current keys takes it.
    expect((await processBatch({ database: t.database, keyring: current, junk })).processed).toBeGreaterThan(0);
  });

  it('re-encryption skips a row that does not open, reports it by table, column, primary key and key id, and keeps its key', async () => {
    const keyring = opened[1]!;
    const retired = (await keyStatus(t.database)).keys.filter((k) => k.state === 'retired' && k.rows > 0);
    const workspaceKey = retired.find((k) => k.workspaceId === 'default')!;
    expect(workspaceKey).toBeDefined();
    // One stored value changed behind Custodian's back: its tag no longer matches.
    const victim = await t.database.db.selectFrom('events').select(['workspace_id', 'message_id', 'secret']).where('secret', 'is not', null).orderBy('message_id').limit(1).executeTakeFirstOrThrow();
    const broken = Buffer.from(victim.secret!);
    broken[broken.length - 1] = broken[broken.length - 1]! ^ 0xff;
    await t.database.db.updateTable('events').set({ secret: broken }).where('workspace_id', '=', victim.workspace_id).where('message_id', '=', victim.message_id).execute();
    let thrown: unknown;
    try {
      keyring.decrypt(broken);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KeyringError);
    expect(thrown).toMatchObject({ kind: 'unreadable', keyId: workspaceKey.keyId });
    expect((thrown as Error).message).toContain(`data key ${workspaceKey.keyId}`);

    const result = await reencryptRetired(t.database, keyring, { destroyAfterMs: 0, batchRows: 2 });
    expect(result.rewritten).toBe(retired.reduce((n, k) => n + k.rows, 0) - 1);
    expect(result.unreadable).toEqual([
      { table: 'events', column: 'secret', key: { workspace_id: victim.workspace_id, message_id: victim.message_id }, keyId: workspaceKey.keyId, reason: expect.stringContaining('does not authenticate') },
    ]);
    expect(result.destroyed).not.toContain(workspaceKey.keyId);
    expect(result.remaining).toContain(workspaceKey.keyId);
    expect((await readUnreadable(t.database))?.rows).toEqual(result.unreadable);
    expect(await destroyRetiredKey(t.database, workspaceKey.keyId, { actor: 'test' })).toBe(false);
    // The database key held no broken row: it goes.
    for (const k of retired.filter((k) => k.keyId !== workspaceKey.keyId)) expect(result.destroyed).toContain(k.keyId);

    // Repaired (here: deleted), the next run empties the key and destroys it, and the record is cleared.
    await t.database.db.deleteFrom('events').where('workspace_id', '=', victim.workspace_id).where('message_id', '=', victim.message_id).execute();
    const again = await reencryptRetired(t.database, keyring, { destroyAfterMs: 0 });
    expect(again.unreadable).toEqual([]);
    expect(again.destroyed).toContain(workspaceKey.keyId);
    expect(await readUnreadable(t.database)).toBeNull();
  });

  it('a value that does not open answers 409 naming its key, not 500', async () => {
    const current = opened[1]!;
    const identity = await t.database.db.selectFrom('identities').select(['workspace_id', 'value_index', 'value_enc', 'profile_id']).where('profile_id', 'is not', null).limit(1).executeTakeFirstOrThrow();
    const keyId = keyIdOf(identity.value_enc)!;
    const broken = Buffer.from(identity.value_enc);
    broken[broken.length - 1] = broken[broken.length - 1]! ^ 0xff;
    await t.database.db.updateTable('identities').set({ value_enc: broken }).where('workspace_id', '=', identity.workspace_id).where('value_index', '=', identity.value_index).execute();
    const app = await buildApp({ database: t.database, keyring: current, junk });
    try {
      const res = await app.inject({ method: 'GET', url: `/api/profiles/${identity.profile_id}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_CONFLICT', keyId, message: expect.stringContaining(`data key ${keyId}`) });
    } finally {
      await app.close();
      await t.database.db.updateTable('identities').set({ value_enc: identity.value_enc }).where('workspace_id', '=', identity.workspace_id).where('value_index', '=', identity.value_index).execute();
    }
  });

  it.runIf(backend.name === 'postgres')('a retired key is not destroyed while another session has a transaction open from before its retirement', async () => {
    const keyring = opened[1]!;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let began!: () => void;
    const begun = new Promise<void>((resolve) => (began = resolve));
    const open = t.database.db.transaction().execute(async (tx) => {
      await sql`select 1`.execute(tx);
      began();
      await held;
    });
    await begun;
    try {
      const rotation = await rotateDataKeys(t.database, NEW_MASTER, { workspaceId: 'default', activateAfterMs: 0, actor: 'cli' });
      await keyring.refresh();
      const old = rotation.keys[0]!.retired[0]!;
      const result = await reencryptRetired(t.database, keyring, { destroyAfterMs: 0 });
      expect(result.remaining).toContain(old);
      expect(await destroyRetiredKey(t.database, old, { actor: 'test' })).toBe(false);
      release();
      await open;
      expect(await destroyRetiredKey(t.database, old, { actor: 'test' })).toBe(true);
    } finally {
      release();
      await open;
    }
  });
});

describe.each(backends)('version-1 ciphertexts without a check value on $name', (backend) => {
  let database: Database;
  let keyring: EnvelopeKeyring | null = null;
  afterAll(async () => {
    await keyring?.close();
    await database?.close();
  });

  it('are taken as a pre-envelope database: the wrong master key is refused, the right one adopts the legacy key', async () => {
    database = await backend.open();
    await bootstrap(database, { writeKey: WRITE_KEY, adminToken: ADMIN_TOKEN, dataDir: null });
    const legacy = createKeyring(TEST_MASTER_KEY);
    const sealed = legacy.encrypt('default', Buffer.from('old'));
    // Sealed by the pre-envelope keyring, and no check value recorded (lost, or never written).
    await createWebhookStore(database, legacy).save('default', 'forms', { messages: [] }, true);
    expect((await countRowsByKey(database.db)).get(LEGACY_KEY_ID)).toBeDefined();
    const wrong = await openKeyring(database, NEW_MASTER).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(MasterKeyError);
    expect((wrong as Error).message).toMatch(/version-1 ciphertexts \(webhook_mappings\.secret_enc\).*does not open them/);
    await expect(verifyKeyProvider(database, NEW_MASTER)).rejects.toThrow(MasterKeyError);
    await verifyKeyProvider(database, localKeyProvider(TEST_MASTER_KEY, 'master.key'));
    expect(await database.db.selectFrom('data_keys').selectAll().execute()).toEqual([]);
    keyring = await openKeyring(database, localKeyProvider(TEST_MASTER_KEY, 'master.key'), { activateAfterMs: 0 });
    expect(keyring.decrypt(sealed).toString()).toBe('old');
    expect(keyring.blindIndex('a').equals(legacy.blindIndex('a'))).toBe(true);
  });
});

describe('custodian keys rotate --master, completed by a rerun (embedded database)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodian-keys-rerun-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a rerun that finds the database wrapped by FILE\'s key swaps the files instead of refusing', async () => {
    const data = join(dir, 'data');
    const csv = join(dir, 'customers.csv');
    writeFileSync(csv, 'id,email\nc1,ada@example.com\n');
    const env = { CUSTODIAN_DATA: data };
    const imported = await runCli(['import', csv, '--source', 'crm', '--no-resolve'], env);
    expect(imported.code, imported.stderr).toBe(0);
    const oldText = readFileSync(join(data, 'master.key'), 'utf8');
    const next = join(dir, 'next.key');
    writeFileSync(next, Buffer.alloc(32, 9).toString('base64') + '\n', { mode: 0o600 });
    // As if a run had committed the re-wrap and stopped before the rename.
    const database = await createStorage({ kind: 'pglite', dataDir: data, command: 'test' });
    try {
      await rotateMasterKey(database, localKeyProvider(Buffer.from(oldText.trim(), 'base64'), 'master.key'), localKeyProvider(Buffer.alloc(32, 9), next), { actor: 'cli' });
    } finally {
      await database.close();
    }
    const rerun = await runCli(['keys', 'rotate', '--master', next], env);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('completing it');
    expect(readFileSync(join(data, 'master.key'), 'utf8')).toBe(readFileSync(next, 'utf8'));
    const retired = readdirSync(data).filter((f) => f.startsWith('master.key.retired-'));
    expect(retired).toHaveLength(1);
    expect(readFileSync(join(data, retired[0]!), 'utf8')).toBe(oldText);
    expect(readdirSync(data).filter((f) => f.startsWith('master.key.new-'))).toEqual([]);
    const status = await runCli(['keys', 'status'], env);
    expect(status.code, status.stderr).toBe(0);
  });
});
