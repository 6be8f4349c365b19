import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createJunkIdFilter } from '../../src/clean/junk-ids.js';
import { createKeyring, type Keyring } from '../../src/privacy/crypto.js';
import { buildApp } from '../../src/server/app.js';
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
  keyring: Keyring;
  /** run the pipeline until the event log is empty */
  drain(): Promise<number>;
  /** inject with the write key (Basic auth) */
  send(path: string, body: unknown): Promise<LightMyRequestResponse>;
  /** inject GET with the admin token */
  get(path: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestApp(backend: Backend, options: { blocklist?: string[] } = {}): Promise<TestApp> {
  const database = await backend.open();
  const keyring = createKeyring(TEST_MASTER_KEY);
  const junk = createJunkIdFilter(options.blocklist ?? []);
  await bootstrap(database, { writeKey: WRITE_KEY, adminToken: ADMIN_TOKEN, dataDir: null });
  const app = await buildApp({ database, keyring, junk });
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
      await database.close();
    },
  };
}
