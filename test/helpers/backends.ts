import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createStorage, type Database } from '../../src/storage/database.js';

/** A database backend every storage test runs against. */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** a fresh, empty, migrated database */
  open(): Promise<Database>;
}

const pglite: Backend = { name: 'pglite', open: () => createStorage({ kind: 'pglite', dataDir: null }) };

/** A PostgreSQL database of its own for one test, dropped on close. */
export async function freshPostgresUrl(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `custodian_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

function postgres(baseUrl: string): Backend {
  return {
    name: 'postgres',
    async open() {
      const fresh = await freshPostgresUrl(baseUrl);
      const database = await createStorage({ kind: 'postgres', url: fresh.url, poolSize: 4 });
      return {
        ...database,
        async close() {
          await database.close();
          await fresh.drop();
        },
      };
    },
  };
}

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export const backends: Backend[] = process.env.TEST_DATABASE_URL ? [pglite, postgres(process.env.TEST_DATABASE_URL)] : [pglite];
