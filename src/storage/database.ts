import { once } from 'node:events';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { migrationProvider } from './migrations.js';
import type { Schema } from './schema.js';

export type StorageConfig =
  /** dataDir null: in memory, for tests */
  | { kind: 'pglite'; dataDir: string | null; command?: string }
  | { kind: 'postgres'; url: string; poolSize?: number };

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Kysely<Schema>;
  /** held while an embedded database is open on a directory */
  readonly lock: DataDirLock | null;
  /** the embedded engine itself, for what Kysely does not expose (COPY from a blob) */
  readonly pglite: PGlite | null;
  close(): Promise<void>;
}

// int8 comes back as text from both drivers: sequence numbers can exceed 2^53.
const INT8_OID = 20;
const BYTEA_OID = 17;

// PGlite's own bytea codec walks the bytes one at a time in JavaScript; every
// identifier and event payload is bytea, so Node's native hex codec is used.
const pgliteCodecs = {
  parsers: {
    [INT8_OID]: (value: string) => value,
    [BYTEA_OID]: (value: string) => Buffer.from(value.slice(2), 'hex'),
  },
  serializers: {
    [BYTEA_OID]: (value: Uint8Array) => '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex'),
  },
};

// initdb peaks near 900 MB and WebAssembly memory is never given back, so it
// runs in a worker thread whose memory goes when the worker ends; the server
// then holds only what opening an existing cluster takes (about a third).
const INITDB_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.url)
  .then(async ({ PGlite }) => { const db = await PGlite.create({ dataDir: workerData.dir }); await db.close(); parentPort.postMessage('ok'); })
  .catch((error) => parentPort.postMessage(String((error && error.stack) || error)));
`;

async function initdbIsolated(dir: string): Promise<void> {
  let url: string | null = null;
  try {
    url = import.meta.resolve('@electric-sql/pglite');
  } catch {
    // A module runner without import.meta.resolve (test transforms): initdb in this thread.
  }
  if (url === null) {
    await (await PGlite.create({ dataDir: dir })).close();
    return;
  }
  const worker = new Worker(INITDB_WORKER, { eval: true, workerData: { url, dir } });
  try {
    const [answer] = (await once(worker, 'message')) as [string];
    if (answer !== 'ok') throw new Error(`creating the embedded database in ${dir} failed: ${answer}`);
  } finally {
    await worker.terminate();
  }
}

async function openPglite(dataDir: string | null): Promise<PGlite> {
  if (dataDir === null) return PGlite.create(pgliteCodecs);
  const pgdata = join(dataDir, 'pgdata');
  if (!existsSync(pgdata)) {
    // initdb into a side directory and rename when complete: a process killed
    // during the first start must not leave a half-made cluster behind.
    const staging = join(dataDir, 'pgdata.initializing');
    rmSync(staging, { recursive: true, force: true });
    await initdbIsolated(staging);
    renameSync(staging, pgdata);
  }
  // 16 MB of shared buffers (PostgreSQL's default is 128 MB): the operating
  // system caches the files anyway, and an embedded database should leave
  // memory to the process it lives in.
  return PGlite.create({ dataDir: pgdata, ...pgliteCodecs, postgresqlconf: ['shared_buffers = 16MB'] });
}

/** Open the configured database and bring its schema up to date. */
export async function createStorage(config: StorageConfig): Promise<Database> {
  let db: Kysely<Schema>;
  let lock: DataDirLock | null = null;
  let pglite: PGlite | null = null;
  if (config.kind === 'pglite') {
    if (config.dataDir !== null) {
      mkdirSync(config.dataDir, { recursive: true });
      lock = acquireDataDirLock(config.dataDir, config.command ?? 'serve');
    }
    try {
      pglite = await openPglite(config.dataDir);
      db = new Kysely<Schema>({ dialect: new PGliteDialect({ pglite }) });
    } catch (error) {
      lock?.release();
      throw error;
    }
  } else {
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 10 });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it on next use.
    });
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  }
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    lock?.release();
    throw error;
  }
  return {
    kind: config.kind,
    db,
    lock,
    pglite,
    async close() {
      await db.destroy();
      lock?.release();
    },
  };
}

async function migrate(db: Kysely<Schema>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'custodian_migrations', migrationLockTableName: 'custodian_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
