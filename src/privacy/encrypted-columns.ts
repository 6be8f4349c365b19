import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Schema } from '../storage/schema.js';

/** How a key column is passed back to SQL: its values travel as text (bytea as hex). */
export type KeyColumnKind = 'text' | 'uuid' | 'bytea';

export interface EncryptedColumn {
  table: keyof Schema & string;
  column: string;
  /** the primary key, in index order: re-encryption walks the table by it */
  key: ReadonlyArray<readonly [name: string, kind: KeyColumnKind]>;
}

/**
 * Every column that holds ciphertext sealed by the keyring. Rotation leaves
 * rows where they are; the re-encryption job walks these, and a retired key is
 * destroyed only when none of them holds a row under it, so a column missing
 * here would be lost with its key. test/keys.test.ts fails when a bytea column
 * appears that is neither here nor on its list of hashes and indexes.
 */
export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'event_log', column: 'payload', key: [['workspace_id', 'text'], ['message_id', 'text']] },
  { table: 'events', column: 'secret', key: [['workspace_id', 'text'], ['message_id', 'text']] },
  { table: 'profiles', column: 'secret_traits', key: [['workspace_id', 'text'], ['id', 'uuid']] },
  { table: 'identities', column: 'value_enc', key: [['workspace_id', 'text'], ['value_index', 'bytea']] },
  { table: 'field_lineage', column: 'detail', key: [['workspace_id', 'text'], ['message_id', 'text']] },
  { table: 'quality_issues', column: 'examples', key: [['workspace_id', 'text'], ['source_id', 'text'], ['field', 'text'], ['code', 'text']] },
  { table: 'identity_models', column: 'model', key: [['workspace_id', 'text']] },
  { table: 'webhook_mappings', column: 'secret_enc', key: [['workspace_id', 'text'], ['source_id', 'text']] },
  { table: 'destinations', column: 'secret', key: [['workspace_id', 'text'], ['id', 'text']] },
];

/**
 * The key id a stored ciphertext names, in SQL (crypto.ts keyIdOf): 0 for
 * version 1, the header's u32 for version 2, -1 for anything else. CASE keeps
 * get_byte off values too short to have the byte.
 */
export function keyIdSql(column: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`(case
    when length(${column}) < 29 then -1
    when get_byte(${column}, 0) = 1 then 0
    when get_byte(${column}, 0) = 2 and length(${column}) >= 33
      then get_byte(${column}, 1)::bigint * 16777216 + get_byte(${column}, 2) * 65536 + get_byte(${column}, 3) * 256 + get_byte(${column}, 4)
    else -1 end)`;
}

/** Rows per key id, per encrypted column; a full scan of each table. */
export async function countRowsByKey(db: Kysely<Schema>): Promise<Map<number, Record<string, number>>> {
  const counts = new Map<number, Record<string, number>>();
  for (const c of ENCRYPTED_COLUMNS) {
    const col = sql.ref(c.column);
    const rows = await sql<{ key_id: string; n: string }>`
      select ${keyIdSql(col)} as key_id, count(*) as n from ${sql.table(c.table)} where ${col} is not null group by 1`.execute(db);
    for (const r of rows.rows) {
      const id = Number(r.key_id);
      const perColumn = counts.get(id) ?? {};
      perColumn[`${c.table}.${c.column}`] = Number(r.n);
      counts.set(id, perColumn);
    }
  }
  return counts;
}

/** Whether any encrypted column still holds a row under one of these keys. */
export async function anyRowUnder(db: Kysely<Schema>, keyId: number): Promise<string | null> {
  for (const c of ENCRYPTED_COLUMNS) {
    const col = sql.ref(c.column);
    const found = await sql`select 1 from ${sql.table(c.table)} where ${col} is not null and ${keyIdSql(col)} = ${keyId} limit 1`.execute(db);
    if (found.rows.length > 0) return `${c.table}.${c.column}`;
  }
  return null;
}

/** One stored ciphertext under this key, and its column; null when none is left. */
export async function sampleRowUnder(db: Kysely<Schema>, keyId: number): Promise<{ column: string; sealed: Uint8Array } | null> {
  for (const c of ENCRYPTED_COLUMNS) {
    const col = sql.ref(c.column);
    const found = await sql<{ sealed: Uint8Array }>`select ${col} as sealed from ${sql.table(c.table)} where ${col} is not null and ${keyIdSql(col)} = ${keyId} limit 1`.execute(db);
    if (found.rows[0]) return { column: `${c.table}.${c.column}`, sealed: found.rows[0].sealed };
  }
  return null;
}
