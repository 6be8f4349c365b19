import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { createEventLogWriter } from '../src/collect/event-log.js';
import type { TrackingMessage } from '../src/collect/messages.js';
import { createKeyring, type Keyring } from '../src/privacy/crypto.js';
import { createStorage, type Database } from '../src/storage/database.js';
import { DataDirInUseError } from '../src/storage/data-dir-lock.js';
import { processBatch } from '../src/worker/pipeline.js';
import { startWorker } from '../src/worker/runner.js';
import { TEST_MASTER_KEY } from './helpers/app.js';
import { backends, freshPostgresUrl } from './helpers/backends.js';

const junk = createJunkIdFilter();
const keyring = createKeyring(TEST_MASTER_KEY);

function messages(prefix: string, people: number, perPerson: number): TrackingMessage[] {
  const out: TrackingMessage[] = [];
  const at = new Date('2026-02-01T00:00:00Z').toISOString();
  for (let p = 0; p < people; p++) {
    out.push({ type: 'identify', messageId: `${prefix}-id-${p}`, userId: `${prefix}-u${p}`, anonymousId: `${prefix}-a${p}`, traits: { email: `${prefix}${p}@example.com`, tier: p % 3 }, timestamp: at, receivedAt: at });
    for (let e = 0; e < perPerson; e++) {
      out.push({ type: 'track', messageId: `${prefix}-ev-${p}-${e}`, anonymousId: `${prefix}-a${p}`, event: 'Viewed', properties: { n: e }, timestamp: at, receivedAt: at });
    }
  }
  return out;
}

async function counts(database: Database) {
  const n = async (table: 'events' | 'profiles' | 'identities') =>
    Number((await database.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const pending = Number((await database.db.selectFrom('event_log').select((eb) => eb.fn.countAll<string>().as('n')).where('processed_at', 'is', null).executeTakeFirstOrThrow()).n);
  return { events: await n('events'), profiles: await n('profiles'), identities: await n('identities'), pending };
}

/** A keyring that fails on its nth encryption: a crash in the middle of a batch. */
function failingKeyring(inner: Keyring, failAt: number): Keyring {
  let calls = 0;
  return {
    ...inner,
    encrypt(workspaceId, plain) {
      calls += 1;
      if (calls === failAt) throw new Error('simulated crash mid-batch');
      return inner.encrypt(workspaceId, plain);
    },
    encryptJson(workspaceId, value) {
      return this.encrypt(workspaceId, Buffer.from(JSON.stringify(value)));
    },
  };
}

describe.each(backends)('pipeline and storage contract on $name', (backend) => {
  let database: Database;
  beforeAll(async () => {
    database = await backend.open();
    await database.db.insertInto('workspaces').values({ id: 'default', name: 'd', settings: '{}' }).execute();
  });
  afterAll(async () => database?.close());

  it('group commit: concurrent appends share writes, and a messageId sent by several requests is stored once', async () => {
    const writer = createEventLogWriter(database, keyring);
    const at = new Date().toISOString();
    const request = (r: number) =>
      Array.from({ length: 50 }, (_, i): TrackingMessage => ({ type: 'track', messageId: i < 10 ? `group-shared-${i}` : `group-${r}-${i}`, userId: `g${r}`, event: 'E', timestamp: at, receivedAt: at }));
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, r) => writer.append('default', 'web', request(r))));
    const storedShared = outcomes.flatMap((o) => [...o.stored].filter((id) => id.startsWith('group-shared-')));
    expect(storedShared.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `group-shared-${i}`).sort());
    expect(outcomes.reduce((n, o) => n + o.duplicates, 0)).toBe(11 * 10);
    const rows = await database.db.selectFrom('event_log').select('message_id').where('message_id', 'like', 'group-%').execute();
    expect(rows).toHaveLength(12 * 40 + 10);
    // Already in the log: a later append of the same ids stores nothing.
    const again = await writer.append('default', 'web', request(0));
    expect(again.stored.size).toBe(0);
    expect(again.duplicates).toBe(50);
    await processBatch({ database, keyring, junk }, 1000);
  });

  it('a write made while another caller holds a transaction is not swept into it (PGlite has one connection; Kysely lends it to one caller at a time)', async () => {
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const failing = database.db.transaction().execute(async (tx) => {
      await tx.insertInto('workspaces').values({ id: 'rolled-back', name: 'x', settings: '{}' }).execute();
      inside();
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error('roll back');
    });
    await started;
    // Issued while the transaction is open; it must neither join nor be lost with it.
    const outside = database.db.insertInto('workspaces').values({ id: 'kept-outside', name: 'y', settings: '{}' }).execute();
    await expect(failing).rejects.toThrow('roll back');
    await outside;
    const ids = (await database.db.selectFrom('workspaces').select('id').where('id', 'in', ['rolled-back', 'kept-outside']).execute()).map((r) => r.id);
    expect(ids).toEqual(['kept-outside']);
  });

  it('a batch that fails half-way leaves nothing behind, and the rerun gives the full result', async () => {
    const input = messages('crash', 20, 4);
    await createEventLogWriter(database, keyring).append('default', 'web', input);
    const before = await counts(database);
    await expect(processBatch({ database, keyring: failingKeyring(keyring, 30), junk }, 1000)).rejects.toThrow('simulated crash');
    expect(await counts(database)).toEqual(before);
    const outcome = await processBatch({ database, keyring, junk }, 1000);
    expect(outcome.processed).toBe(100);
    const after = await counts(database);
    expect(after.events - before.events).toBe(100);
    expect(after.profiles - before.profiles).toBe(20);
    expect(after.identities - before.identities).toBe(60);
    expect(after.pending).toBe(0);
  });

  it('processes every message once even with two workers at the same log', async () => {
    const input = messages('pair', 50, 9);
    await createEventLogWriter(database, keyring).append('default', 'web', input);
    const before = await counts(database);
    const drain = async () => {
      let total = 0;
      for (let n = (await processBatch({ database, keyring, junk }, 50)).processed; n > 0; n = (await processBatch({ database, keyring, junk }, 50)).processed) total += n;
      return total;
    };
    const [a, b] = await Promise.all([drain(), drain()]);
    expect(a + b).toBe(500);
    const after = await counts(database);
    expect(after.events - before.events).toBe(500);
    expect(after.pending).toBe(0);
  });

  it('sets a poisonous message aside and goes on with the rest', async () => {
    await createEventLogWriter(database, keyring).append('default', 'web', messages('before-poison', 2, 1));
    await database.db.insertInto('event_log').values({ workspace_id: 'default', message_id: 'poison-1', source_id: 'web', type: 'track', payload: Buffer.from('not a ciphertext'), received_at: new Date() }).execute();
    await createEventLogWriter(database, keyring).append('default', 'web', messages('after-poison', 2, 1));
    const deadLettered: Array<string | null> = [];
    const worker = startWorker({ database, keyring, junk }, { pollMs: 5, onDeadLetter: (id) => deadLettered.push(id) });
    try {
      const deadline = Date.now() + 20_000;
      while ((await counts(database)).pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.stop();
    }
    expect(deadLettered).toEqual(['poison-1']);
    const poison = await database.db.selectFrom('event_log').select(['error', 'processed_at']).where('message_id', '=', 'poison-1').executeTakeFirstOrThrow();
    expect(poison.error).toMatch(/ciphertext/);
    const processed = await database.db.selectFrom('events').select('message_id').where('message_id', 'like', 'after-poison%').execute();
    expect(processed).toHaveLength(4);
  });

  it('keeps identifiers out of the clear in every table', async () => {
    const row = await database.db.selectFrom('profiles').selectAll().where(sql<boolean>`traits @> ${JSON.stringify({ tier: 1 })}::jsonb`).limit(1).executeTakeFirstOrThrow();
    expect(JSON.stringify(row.traits)).not.toContain('@example.com');
    expect(Object.keys(row.traits)).toEqual(['tier']);
    const identity = await database.db.selectFrom('identities').selectAll().limit(1).executeTakeFirstOrThrow();
    expect(Buffer.from(identity.value_enc).toString('latin1')).not.toMatch(/crash|pair|example/);
  });
});

describe('reopening a database', () => {
  it('PGlite: data persists, migrations are idempotent, and a second opener is refused by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custodian-reopen-'));
    try {
      const first = await createStorage({ kind: 'pglite', dataDir: dir });
      await first.db.insertInto('workspaces').values({ id: 'w1', name: 'kept', settings: '{}' }).execute();
      await expect(createStorage({ kind: 'pglite', dataDir: dir, command: 'export' })).rejects.toThrow(DataDirInUseError);
      await first.close();
      const second = await createStorage({ kind: 'pglite', dataDir: dir });
      expect((await second.db.selectFrom('workspaces').select('name').where('id', '=', 'w1').executeTakeFirstOrThrow()).name).toBe('kept');
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL: data persists and migrations are idempotent; several processes may open it', async () => {
    const fresh = await freshPostgresUrl(process.env.TEST_DATABASE_URL!);
    try {
      const [a, b] = await Promise.all([createStorage({ kind: 'postgres', url: fresh.url }), createStorage({ kind: 'postgres', url: fresh.url })]);
      await a.db.insertInto('workspaces').values({ id: 'w1', name: 'kept', settings: '{}' }).execute();
      expect((await b.db.selectFrom('workspaces').select('name').executeTakeFirstOrThrow()).name).toBe('kept');
      await a.close();
      await b.close();
    } finally {
      await fresh.drop();
    }
  });
});
