import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createJunkIdFilter } from '../../src/clean/junk-ids.js';
import { openKeyring, type EnvelopeKeyring } from '../../src/privacy/data-keys.js';
import { localKeyProvider } from '../../src/privacy/key-provider.js';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { bootstrap } from '../../src/server/bootstrap.js';
import type { Database } from '../../src/storage/database.js';
import { processBatch } from '../../src/worker/pipeline.js';
import type { Backend } from './backends.js';

export const WRITE_KEY = 'wk_test_write_key';
export const ADMIN_TOKEN = 'ct_test_admin_token';
export const TEST_MASTER_KEY = Buffer.alloc(32, 7);

export interface TestApp {
  app: FastifyInstance;
  database: Database;
  /** the database's own keyring (data_keys), as the CLI opens it */
  keyring: EnvelopeKeyring;
  /** run the pipeline until the event log is empty */
  drain(): Promise<number>;
  /** inject with the write key (Basic auth) */
  send(path: string, body: unknown): Promise<LightMyRequestResponse>;
  /** inject GET with the admin token */
  get(path: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestApp(backend: Backend, options: { blocklist?: string[]; app?: Pick<AppOptions, 'rateLimit' | 'tls' | 'trustProxy'> } = {}): Promise<TestApp> {
  const database = await backend.open();
  const junk = createJunkIdFilter(options.blocklist ?? []);
  await bootstrap(database, { writeKey: WRITE_KEY, adminToken: ADMIN_TOKEN, dataDir: null });
  // Keys made after bootstrap, so the default workspace has its own; active at once on both backends.
  const keyring = await openKeyring(database, localKeyProvider(TEST_MASTER_KEY, 'TEST_MASTER_KEY'), { activateAfterMs: 0 });
  const app = await buildApp({ database, keyring, junk, ...options.app });
  const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
  return {
    app,
    database,
    keyring,
    async drain() {
      let total = 0;
      for (let n = (await processBatch({ database, keyring, junk })).processed; n > 0; n = (await processBatch({ database, keyring, junk })).processed) total += n;
      return total;
    },
    send: (path, body) => app.inject({ method: 'POST', url: path, headers: { authorization: basic, 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    get: (path) => app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    async close() {
      await app.close();
      await keyring.close();
      await database.close();
    },
  };
}
