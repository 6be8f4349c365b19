import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError, restoreBackup, scheduledBackup, tableChecksums, verifyBackup, writeBackup, type TableSummary } from '../src/storage/backup.js';
import { acquireDataDirLock } from '../src/storage/data-dir-lock.js';
import { createStorage, type Database } from '../src/storage/database.js';
import { erasuresOnRecord, reapplyErasures } from '../src/privacy/dsar.js';
import { ADMIN_TOKEN, startTestApp, TEST_MASTER_KEY, type TestApp } from './helpers/app.js';
import { backends, type Backend } from './helpers/backends.js';
import { killAll, runCli } from './helpers/process.js';

/*
 * Backup and restore as an operator relies on them: what comes back is what
 * went in, row for row, and a damaged or foreign file is refused before the
 * database is touched.
 */

const root = mkdtempSync(join(tmpdir(), 'custodian-backup-'));
afterAll(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

async function loadCustomers(t: TestApp, customers = 40): Promise<void> {
  const batch = Array.from({ length: customers }, (_, i) => [
    { type: 'identify', userId: `u${i}`, traits: { email: `customer${i}@example.com`, phone: `+86 138 0013 ${String(8000 + i)}`, name: `客户 ${i}`, city: i % 2 ? 'London' : '上海' }, messageId: `id-${i}` },
    { type: 'track', userId: `u${i}`, event: 'Order Completed', properties: { revenue: i * 1.5, order_id: `o${i}`, items: [{ sku: 'a', n: 2 }] }, messageId: `tr-${i}`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() },
  ]).flat();
  expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
  await t.drain();
}

async function wipe(database: Database): Promise<void> {
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'custodian_migrations%'`.execute(database.db);
  await sql`truncate ${sql.join(tables.rows.map((r) => sql.id(r.table_name)))} restart identity`.execute(database.db);
}

// The profile API lists identities in storage order, which a reload may change.
function sortedIdentities(answer: unknown): unknown {
  const { profiles } = answer as { profiles: Array<{ identities: Array<{ type: string }> }> };
  return profiles.map((p) => ({ ...p, identities: [...p.identities].sort((a, b) => a.type.localeCompare(b.type)) }));
}

const nonEmpty = (tables: TableSummary[]) => tables.filter((t) => t.rows > 0).map((t) => t.name);

describe.each(backends)('backup and restore on $name', (backend) => {
  let t: TestApp;
  let before: TableSummary[];
  let profile: unknown;
  const file = join(root, `${backend.name}.backup`);

  beforeAll(async () => {
    t = await startTestApp(backend);
    await loadCustomers(t);
    // Read first: reads may be audited, and `before` must be the state the backup records.
    profile = (await t.get('/api/profiles?userId=u7')).json();
    before = await tableChecksums(t.database);
  });
  afterAll(async () => t?.close());

  it('pages by key: small pages and the default give the same checksums', async () => {
    expect(await tableChecksums(t.database, 7)).toEqual(before);
    expect(Math.max(...before.map((x) => x.rows))).toBeGreaterThan(7 * 3);
  });

  it('backup → wipe → restore gives identical row counts and checksums, and the API reads the same profile', async () => {
    expect(nonEmpty(before)).toEqual(expect.arrayContaining(['event_log', 'events', 'identities', 'profiles', 'workspaces', 'sources', 'api_tokens']));
    const t0 = Date.now();
    // Small pages: every key type (text, uuid, bytea, int8, timestamptz) is crossed as a page boundary.
    const written = await writeBackup(t.database, file, { masterKey: TEST_MASTER_KEY, pageRows: 7 });
    const backupMs = Date.now() - t0;
    expect(written.tables).toEqual(before);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(root).filter((n) => n.includes('.partial'))).toEqual([]);

    await wipe(t.database);
    expect(nonEmpty(await tableChecksums(t.database))).toEqual([]);

    const phases = new Set<string>();
    const t1 = Date.now();
    const restored = await restoreBackup(t.database, file, { masterKey: TEST_MASTER_KEY, pageRows: 7, onProgress: (p) => phases.add(p.phase) });
    const restoreMs = Date.now() - t1;
    expect(restored?.tables).toEqual(before);
    expect(await tableChecksums(t.database)).toEqual(before);
    expect(sortedIdentities((await t.get('/api/profiles?userId=u7')).json())).toEqual(sortedIdentities(profile));
    expect([...phases]).toEqual(['verify', 'restore', 'check']);
    // Sequences sit past the restored keys: new messages get new sequence numbers.
    expect((await t.send('/v1/identify', { userId: 'after-restore', traits: { email: 'new@example.com' } })).statusCode).toBe(200);
    await t.drain();
    expect((await t.get('/api/profiles?userId=after-restore')).json().profiles).toHaveLength(1);
    process.stderr.write(`[backup ${backend.name}] ${written.rows} rows, ${written.bytes} bytes, backup ${backupMs} ms, restore ${restoreMs} ms\n`);
    // Put the database back as the backup has it, for the refusal tests below.
    await restoreBackup(t.database, file, { masterKey: TEST_MASTER_KEY });
  });

  it('restores into a fresh database as well', async () => {
    const fresh = await backend.open();
    try {
      await restoreBackup(fresh, file, { masterKey: TEST_MASTER_KEY });
      expect(await tableChecksums(fresh)).toEqual(before);
    } finally {
      await fresh.close();
    }
  });

  async function expectRefused(bad: string, reason: BackupError['reason'], message: RegExp): Promise<void> {
    const unchanged = await tableChecksums(t.database);
    const error = await restoreBackup(t.database, bad, { masterKey: TEST_MASTER_KEY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as BackupError).reason).toBe(reason);
    expect((error as BackupError).message).toMatch(message);
    expect(await tableChecksums(t.database)).toEqual(unchanged);
  }

  it('a backup with one byte changed in the middle is refused with a clear message, the database unchanged', async () => {
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0x01;
    const bad = join(root, `${backend.name}-flipped.backup`);
    writeFileSync(bad, bytes);
    await expectRefused(bad, 'damaged', /the backup was made with another master key or is damaged: chunk \d+ at byte \d+ fails its authentication check/);
  });

  it('a truncated backup is refused', async () => {
    const bytes = readFileSync(file);
    const bad = join(root, `${backend.name}-cut.backup`);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    await expectRefused(bad, 'truncated', /the backup file is truncated/);
    writeFileSync(bad, bytes.subarray(0, bytes.length - 1));
    await expectRefused(bad, 'truncated', /the backup file is truncated/);
  });

  it('a backup made with another master key is refused', async () => {
    const unchanged = await tableChecksums(t.database);
    const error = await restoreBackup(t.database, file, { masterKey: Buffer.alloc(32, 9) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as BackupError).reason).toBe('wrong-key');
    expect((error as Error).message).toMatch(/the backup was made with another master key or is damaged/);
    expect(await tableChecksums(t.database)).toEqual(unchanged);
  });

  it('scheduled backups write a new file each run and keep the newest N', async () => {
    const dir = join(root, `${backend.name}-scheduled`);
    let clock = Date.UTC(2026, 10, 25, 3, 0, 0);
    const job = scheduledBackup({ database: t.database, masterKey: TEST_MASTER_KEY, dir, keep: 2, everyMs: 86_400_000, now: () => new Date((clock += 60_000)) });
    expect(job).toMatchObject({ name: 'backup', everyMs: 86_400_000, firstAfterMs: 86_400_000 });
    for (let i = 0; i < 3; i++) await job.run();
    const kept = readdirSync(dir).sort();
    expect(kept).toEqual(['custodian-20261125T030200000Z.backup', 'custodian-20261125T030300000Z.backup']);
    expect((await verifyBackup(join(dir, kept[1]!), { masterKey: TEST_MASTER_KEY })).tables).toEqual(await tableChecksums(t.database));
  });

  it('restoring a backup older than an erasure erases the person again', async () => {
    const person = () => t.get('/api/profiles?userId=u3');
    expect((await person()).json().profiles).toHaveLength(1);
    const erase = await t.app.inject({
      method: 'POST',
      url: '/api/dsar',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'erase', identifier: { type: 'email', value: 'customer3@example.com' }, verification: { method: 'email_link', by: 'privacy desk' } }),
    });
    expect(erase.statusCode, erase.body).toBe(201);
    expect((await person()).json().profiles).toHaveLength(0);

    // What the CLI's restore does: note the erasures, load the older backup, put them back.
    const record = await erasuresOnRecord(t.database.db);
    await restoreBackup(t.database, file, { masterKey: TEST_MASTER_KEY });
    expect((await person()).json().profiles).toHaveLength(1);
    expect(await reapplyErasures(t.database, t.keyring, record)).toBe(1);
    expect((await person()).json().profiles).toHaveLength(0);
    expect((await person()).json().profiles).toHaveLength(0);
    const requests = (await t.app.inject({ method: 'GET', url: '/api/dsar', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as { requests: Array<{ type: string }> };
    expect(requests.requests.map((r) => r.type)).toContain('erase');
    // Their messages sent again stay out.
    expect((await t.send('/v1/identify', { userId: 'u3', traits: { email: 'customer3@example.com' } })).statusCode).toBe(200);
    await t.drain();
    expect((await person()).json().profiles).toHaveLength(0);
    await restoreBackup(t.database, file, { masterKey: TEST_MASTER_KEY });
  });

  it('a confirmation that says no leaves the database as it was', async () => {
    await wipe(t.database);
    const answer = await restoreBackup(t.database, file, { masterKey: TEST_MASTER_KEY, confirm: async () => false });
    expect(answer).toBeNull();
    expect(nonEmpty(await tableChecksums(t.database))).toEqual([]);
    await restoreBackup(t.database, file, { masterKey: TEST_MASTER_KEY });
    expect(await tableChecksums(t.database)).toEqual(before);
  });
});

const postgres = backends.find((b) => b.name === 'postgres');
describe.runIf(postgres)('a PGlite backup restores on PostgreSQL', () => {
  it('with the same checksums', async () => {
    const pglite = backends.find((b) => b.name === 'pglite')!;
    const t = await startTestApp(pglite);
    const target = await (postgres as Backend).open();
    try {
      await loadCustomers(t, 15);
      const before = await tableChecksums(t.database);
      const file = join(root, 'cross.backup');
      await writeBackup(t.database, file, { masterKey: TEST_MASTER_KEY });
      await restoreBackup(target, file, { masterKey: TEST_MASTER_KEY });
      expect(await tableChecksums(target)).toEqual(before);
    } finally {
      await target.close();
      await t.close();
    }
  });
});

describe('custodian backup / restore on a PGlite data directory', () => {
  const dataDir = join(root, 'data');
  const env = { CUSTODIAN_MASTER_KEY: TEST_MASTER_KEY.toString('hex') };
  const file = join(root, 'cli.backup');
  let before: TableSummary[];

  beforeAll(async () => {
    const onDisk: Backend = { name: 'pglite', open: () => createStorage({ kind: 'pglite', dataDir, command: 'test' }) };
    const t = await startTestApp(onDisk);
    await loadCustomers(t, 10);
    before = await tableChecksums(t.database);
    await t.close();
  });

  async function checksumsOnDisk(): Promise<TableSummary[]> {
    const database = await createStorage({ kind: 'pglite', dataDir, command: 'test' });
    try {
      return await tableChecksums(database);
    } finally {
      await database.close();
    }
  }

  it('backs up, refuses to restore without --yes when stdin is not a terminal, and restores with it', async () => {
    const backup = await runCli(['backup', file, '--data', dataDir], env);
    expect(backup.stderr).toMatch(/backup: \d+ tables, [\d,]+ rows, \d+ KiB in [\d.]+ s/);
    expect(backup.code).toBe(0);
    expect(existsSync(file)).toBe(true);

    const database = await createStorage({ kind: 'pglite', dataDir, command: 'test' });
    await wipe(database);
    await database.close();

    const refused = await runCli(['restore', file, '--data', dataDir], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/add --yes to confirm \(stdin is not a terminal/);
    expect(nonEmpty(await checksumsOnDisk())).toEqual([]);

    const restored = await runCli(['restore', file, '--data', dataDir, '--yes'], env);
    expect(restored.stderr).toMatch(/restored into the database in .* and checked/);
    expect(restored.code).toBe(0);
    expect(await checksumsOnDisk()).toEqual(before);
  });

  it('refuses a damaged file with one clear line and no stack trace', async () => {
    const bytes = readFileSync(file);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
    const bad = join(root, 'cli-bad.backup');
    writeFileSync(bad, bytes);
    const answer = await runCli(['restore', bad, '--data', dataDir, '--yes'], env);
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(/^custodian: the backup was made with another master key or is damaged: chunk \d+ at byte \d+ fails its authentication check\n$/);
    expect(await checksumsOnDisk()).toEqual(before);
  });

  it('refuses while another process holds the data directory, naming it, and leaves no half file', async () => {
    const lock = acquireDataDirLock(dataDir, 'serve');
    try {
      const target = join(root, 'busy.backup');
      const answer = await runCli(['backup', target, '--data', dataDir], env);
      expect(answer.code).toBe(1);
      expect(answer.stderr).toContain(`held by process ${process.pid} (custodian serve)`);
      expect(readdirSync(root).filter((n) => n.startsWith('busy.backup'))).toEqual([]);
    } finally {
      lock.release();
    }
  });
});
