import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStorage, type Database } from '../storage/database.js';
import { appendAudit, canonicalEncoding, canonicalJson, entryHash, GENESIS_HASH, queryAudit, verifyAudit, type AuditEntry } from './audit-log.js';

describe('canonical encoding', () => {
  it('sorts keys at every level and drops what JSON drops', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ n: Number.NaN, t: new Date('2024-01-02T03:04:05.000Z') })).toBe('{"n":null,"t":"2024-01-02T03:04:05.000Z"}');
  });

  const base: Omit<AuditEntry, 'hash'> = {
    workspaceId: 'w',
    seq: 1,
    at: new Date('2024-01-01T00:00:00.000Z'),
    actor: 'token:admin',
    action: 'profile.read',
    profileId: null,
    target: 'ab',
    details: {},
    prevHash: GENESIS_HASH,
  };

  it('length-prefixes fields, so moving text between fields changes the bytes', () => {
    const moved = { ...base, actor: 'token:adminprofile.', action: 'read' };
    expect(canonicalEncoding(moved).equals(canonicalEncoding(base))).toBe(false);
    expect(entryHash(moved).equals(entryHash(base))).toBe(false);
  });

  it('tells null from the empty string, and key order does not matter', () => {
    expect(entryHash({ ...base, target: null }).equals(entryHash({ ...base, target: '' }))).toBe(false);
    expect(entryHash({ ...base, details: { a: 1, b: 2 } }).equals(entryHash({ ...base, details: { b: 2, a: 1 } }))).toBe(true);
    expect(entryHash(base)).toHaveLength(32);
  });
});

describe('audit log on PGlite', () => {
  let database: Database;
  const ws = 'w1';

  beforeAll(async () => {
    database = await createStorage({ kind: 'pglite', dataDir: null });
  });
  afterAll(async () => database.close());
  beforeEach(async () => {
    await database.db.deleteFrom('audit_log').execute();
    await database.db.deleteFrom('audit_heads').execute();
  });

  async function appendSome(n: number, workspaceId = ws): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (let i = 0; i < n; i++) out.push(await appendAudit(database.db, { workspaceId, actor: 'token:admin', action: 'profile.read', profileId: '00000000-0000-4000-8000-00000000000' + (i % 10), details: { i, fields: ['email'] } }));
    return out;
  }

  it('chains entries: seq from 1, each links the previous hash, the head follows', async () => {
    const entries = await appendSome(5);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]!.prevHash.equals(GENESIS_HASH)).toBe(true);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash.equals(entries[i - 1]!.hash)).toBe(true);
    const result = await verifyAudit(database.db, ws);
    expect(result).toEqual({ workspaceId: ws, ok: true, entries: 5, head: { seq: 5, hash: entries[4]!.hash.toString('hex') } });
    // Another workspace has a chain of its own.
    const other = await appendSome(1, 'w2');
    expect(other[0]!.seq).toBe(1);
  });

  it('verifies what it reads back: jsonb reorders keys, uuids come back in lower case', async () => {
    await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'profiles.export', profileId: 'ABCDEF00-0000-4000-8000-000000000000', details: { zeta: 1, alpha: { b: [1, 2.5], a: 'x' }, nul: 'a\0b' } });
    expect((await verifyAudit(database.db, ws)).ok).toBe(true);
  });

  it('appends inside a caller transaction: rolled back with it', async () => {
    await appendSome(1);
    await expect(
      database.db.transaction().execute(async (tx) => {
        await appendAudit(tx, { workspaceId: ws, actor: 'worker', action: 'profile.merge' });
        throw new Error('the main action failed');
      }),
    ).rejects.toThrow('the main action failed');
    const committed = await database.db.transaction().execute((tx) => appendAudit(tx, { workspaceId: ws, actor: 'worker', action: 'profile.split' }));
    expect(committed.seq).toBe(2);
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: true, entries: 2 });
  });

  it('detects an edited entry by its hash', async () => {
    await appendSome(5);
    await database.db.updateTable('audit_log').set({ actor: 'token:someone-else' }).where('workspace_id', '=', ws).where('seq', '=', '3').execute();
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, entries: 5, firstBad: { seq: 3, reason: 'edited' } });
  });

  it('detects an edit whose hash was recomputed: the next link breaks', async () => {
    await appendSome(5);
    const row = await database.db.selectFrom('audit_log').selectAll().where('workspace_id', '=', ws).where('seq', '=', '2').executeTakeFirstOrThrow();
    const forged = { workspaceId: ws, seq: 2, at: row.at, actor: 'token:other', action: row.action, profileId: row.profile_id, target: row.target, details: row.details, prevHash: Buffer.from(row.prev_hash) };
    await database.db.updateTable('audit_log').set({ actor: 'token:other', hash: entryHash(forged) }).where('workspace_id', '=', ws).where('seq', '=', '2').execute();
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'chain' } });
  });

  it('detects an entry deleted in the middle: a gap in seq', async () => {
    await appendSome(5);
    await database.db.deleteFrom('audit_log').where('workspace_id', '=', ws).where('seq', '=', '2').execute();
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, entries: 4, firstBad: { seq: 2, reason: 'missing' } });
  });

  it('detects a deletion with the seqs renumbered: the link breaks', async () => {
    await appendSome(5);
    await database.db.deleteFrom('audit_log').where('workspace_id', '=', ws).where('seq', '=', '2').execute();
    await sql`update audit_log set seq = seq - 1 where workspace_id = ${ws} and seq > 2`.execute(database.db);
    const result = await verifyAudit(database.db, ws);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.seq).toBe(2);
  });

  it('detects a deleted tail through the head, and a later append keeps the gap visible', async () => {
    await appendSome(5);
    await database.db.deleteFrom('audit_log').where('workspace_id', '=', ws).where('seq', '>=', '4').execute();
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, entries: 3, firstBad: { seq: 4, reason: 'missing' } });
    const next = await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'profiles.export' });
    expect(next.seq).toBe(6);
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, firstBad: { seq: 4, reason: 'missing' } });
  });

  it('detects a deleted head row', async () => {
    await appendSome(3);
    await database.db.deleteFrom('audit_heads').execute();
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'chain' } });
  });

  it('detects reordered entries', async () => {
    await appendSome(4);
    // Swap entries 2 and 3 by exchanging their seqs (through a free number: the key is unique).
    await sql`update audit_log set seq = 100 where workspace_id = ${ws} and seq = 2`.execute(database.db);
    await sql`update audit_log set seq = 2 where workspace_id = ${ws} and seq = 3`.execute(database.db);
    await sql`update audit_log set seq = 3 where workspace_id = ${ws} and seq = 100`.execute(database.db);
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: false, firstBad: { seq: 2, reason: 'edited' } });
  });

  it('verifies every workspace when none is named', async () => {
    await appendSome(2, 'w1');
    await appendSome(3, 'w2');
    await database.db.deleteFrom('audit_log').where('workspace_id', '=', 'w2').where('seq', '=', '1').execute();
    const all = await verifyAudit(database.db);
    expect(all.find((r) => r.workspaceId === 'w1')).toMatchObject({ ok: true, entries: 2 });
    expect(all.find((r) => r.workspaceId === 'w2')).toMatchObject({ ok: false, firstBad: { seq: 1, reason: 'missing' } });
  });

  it('serializes concurrent appends into one chain', async () => {
    const entries = await Promise.all(Array.from({ length: 30 }, (_, i) => appendAudit(database.db, { workspaceId: ws, actor: 'worker', action: 'profile.read', details: { i } })));
    expect(new Set(entries.map((e) => e.seq)).size).toBe(30);
    expect(await verifyAudit(database.db, ws)).toMatchObject({ ok: true, entries: 30 });
  });

  it('queries newest first with filters and keyset pages', async () => {
    await appendSome(12);
    await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'profiles.export' });
    const exports = await queryAudit(database.db, { workspaceId: ws, action: 'profiles.export' });
    expect(exports.entries.map((e) => e.seq)).toEqual([13]);
    const byProfile = await queryAudit(database.db, { workspaceId: ws, profileId: '00000000-0000-4000-8000-000000000001' });
    expect(byProfile.entries.map((e) => e.seq)).toEqual([12, 2]);
    const first = await queryAudit(database.db, { workspaceId: ws, actor: 'token:admin', limit: 5 });
    expect(first.entries.map((e) => e.seq)).toEqual([12, 11, 10, 9, 8]);
    expect(first.nextBefore).toBe(8);
    const rest = await queryAudit(database.db, { workspaceId: ws, actor: 'token:admin', limit: 10, before: 8 });
    expect(rest.entries.map((e) => e.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(rest.nextBefore).toBeNull();
    expect((await queryAudit(database.db, { workspaceId: ws, from: new Date(Date.now() + 60_000) })).entries).toEqual([]);
    expect((await queryAudit(database.db, { workspaceId: ws, to: new Date(Date.now() + 60_000), limit: 1000 })).entries).toHaveLength(13);
  });
});
