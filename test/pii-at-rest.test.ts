import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { createKeyring } from '../src/privacy/crypto.js';
import { buildApp } from '../src/server/app.js';
import { bootstrap } from '../src/server/bootstrap.js';
import { createStorage, type Database, type StorageConfig } from '../src/storage/database.js';
import { processBatch } from '../src/worker/pipeline.js';
import { resolveWorkspace } from '../src/identity/resolve.js';
import { ADMIN_TOKEN, TEST_MASTER_KEY, WRITE_KEY } from './helpers/app.js';
import { freshPostgresUrl } from './helpers/backends.js';

// Distinctive values: finding any of them in raw storage means a leak.
const EMAIL = 'quixote.zelda.7731@example.org';
const PHONE = '+14155552671';
const NAME = 'Zelda Quixotevich';
const USER_ID = 'user-zq-55190';
// The family name alone too: the match model's term-frequency tables hold names.
const NEEDLES = [EMAIL, PHONE.slice(1), NAME, USER_ID, 'quixote.zelda', 'Quixotevich', 'quixotevich'];

async function writeKnownPerson(config: StorageConfig): Promise<void> {
  const database = await createStorage(config);
  try {
    const keyring = createKeyring(TEST_MASTER_KEY);
    const junk = createJunkIdFilter();
    await bootstrap(database, { writeKey: WRITE_KEY, adminToken: ADMIN_TOKEN, dataDir: null });
    const app = await buildApp({ database, keyring, junk });
    const auth = { authorization: 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64') };
    const sent = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: auth,
      payload: {
        batch: [
          { type: 'identify', userId: USER_ID, traits: { email: EMAIL, phone: PHONE, name: NAME, city: 'Springfield' } },
          { type: 'track', userId: USER_ID, event: 'Newsletter Signup', properties: { email: EMAIL }, context: { traits: { email: EMAIL } } },
          { type: 'track', userId: 'someone-else', event: 'Still Queued' },
        ],
      },
    });
    expect(sent.statusCode).toBe(200);
    // Leave one message unprocessed so the event log's own copy is checked too.
    await processBatch({ database, keyring, junk }, 2);
    // A stored match model and a resolve run are in the files too.
    await resolveWorkspace({ database, keyring, junk }, 'default');
    await app.close();
  } finally {
    await database.close();
  }
}

async function lookUp(config: StorageConfig): Promise<void> {
  const database: Database = await createStorage(config);
  try {
    const app = await buildApp({ database, keyring: createKeyring(TEST_MASTER_KEY), junk: createJunkIdFilter() });
    const res = await app.inject({ method: 'GET', url: `/api/profiles?email=${encodeURIComponent(EMAIL.toUpperCase())}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const profiles = res.json().profiles;
    expect(profiles).toHaveLength(1);
    expect(profiles[0].traits).toMatchObject({ email: EMAIL, phone: PHONE, name: NAME, city: 'Springfield' });
    await app.close();
  } finally {
    await database.close();
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('identifiers are encrypted at rest', () => {
  it('PGlite: no raw database file holds the email, phone, name or userId, yet look-up by email works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custodian-pii-'));
    try {
      const config: StorageConfig = { kind: 'pglite', dataDir: dir };
      await writeKnownPerson(config);
      const files = filesUnder(join(dir, 'pgdata'));
      expect(files.length).toBeGreaterThan(100);
      // The probe must be able to see plaintext: a non-identifier trait is stored in the clear.
      expect(files.some((f) => readFileSync(f).includes('Springfield'))).toBe(true);
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const needle of NEEDLES) expect(bytes.includes(needle), `${needle} found in ${file}`).toBe(false);
      }
      await lookUp(config);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)('PostgreSQL: a pg_dump holds none of them, yet look-up by email works', async () => {
    const fresh = await freshPostgresUrl(process.env.TEST_DATABASE_URL!);
    try {
      const config: StorageConfig = { kind: 'postgres', url: fresh.url };
      await writeKnownPerson(config);
      const dump = execFileSync('pg_dump', ['--data-only', fresh.url], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
      expect(dump).toContain('Springfield');
      for (const needle of NEEDLES) expect(dump.includes(needle), `${needle} found in pg_dump`).toBe(false);
      await lookUp(config);
    } finally {
      await fresh.drop();
    }
  });
});
