import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../storage/database.js';
import { keyIdOf, KeyringError, type Keyring } from './crypto.js';
import { destroyRetiredKey } from './data-keys.js';
import { ENCRYPTED_COLUMNS, keyIdSql, type EncryptedColumn, type KeyColumnKind } from './encrypted-columns.js';

/**
 * A retired key is destroyed this long after its retirement at the earliest,
 * once no row uses it: a process that missed the rotation (its reloads
 * failing) could still seal under it until then.
 */
export const DESTROY_AFTER_MS = 10 * 60_000;
const BATCH_ROWS = 500;

export interface ReencryptProgress {
  /** `table.column` */
  column: string;
  /** rows of this column moved so far in this run */
  rewritten: number;
  /** all columns together */
  total: number;
}

export interface ReencryptOptions {
  batchRows?: number;
  destroyAfterMs?: number;
  /** who destroys keys, in the audit log */
  actor?: string;
  /** stop after the batch under way: the next run goes on from there */
  signal?: AbortSignal;
  onProgress?: (progress: ReencryptProgress) => void;
  now?: () => Date;
  /**
   * Where each column's walk goes on from, kept by the caller between runs (the
   * worker job keeps one): a stopped run does not walk the rows it has passed again.
   */
  cursors?: Map<string, string[]>;
}

export interface ReencryptResult {
  rewritten: number;
  /** keys destroyed in this run */
  destroyed: number[];
  /** retired keys left: rows still under them (locked by a writer, or the run stopped), or still within DESTROY_AFTER_MS */
  remaining: number[];
  stopped: boolean;
}

function valueOf(kind: KeyColumnKind, value: unknown): string {
  if (kind === 'bytea') return Buffer.from(value as Uint8Array).toString('hex');
  return String(value);
}

function param(kind: KeyColumnKind, value: RawBuilder<unknown>): RawBuilder<unknown> {
  if (kind === 'uuid') return sql`${value}::uuid`;
  if (kind === 'bytea') return sql`decode(${value}, 'hex')`;
  return value;
}

/**
 * One batch of one column, in one transaction: the next rows (by primary key,
 * after the cursor) still sealed under a retired key are opened and sealed
 * again under their workspace's active key. Rows a writer holds are skipped
 * (skip locked) and found again by a later run. Idempotent: a moved row no
 * longer matches.
 */
async function reencryptBatch(
  database: Database,
  keyring: Keyring,
  c: EncryptedColumn,
  retired: ReadonlySet<number>,
  cursor: string[] | undefined,
  limit: number,
): Promise<{ rewritten: number; last: string[] | null }> {
  const keys = sql.join(c.key.map(([name]) => sql.ref(name)));
  const col = sql.ref(c.column);
  const after = cursor ? sql`and (${keys}) > (${sql.join(c.key.map(([, kind], i) => param(kind, sql`${cursor[i]}`)))})` : sql``;
  return database.db.transaction().execute(async (tx) => {
    const found = await sql<Record<string, unknown>>`
      select ${keys}, ${col} as sealed from ${sql.table(c.table)}
      where ${col} is not null and ${keyIdSql(col)} = any(${[...retired].map(String)}::bigint[]) ${after}
      order by ${keys} limit ${limit} for update skip locked`.execute(tx);
    if (found.rows.length === 0) return { rewritten: 0, last: null };
    const columns: string[][] = c.key.map(() => []);
    const values: string[] = [];
    for (const row of found.rows) {
      const workspaceId = String(row.workspace_id);
      const fresh = keyring.encrypt(workspaceId, keyring.decrypt(row.sealed as Uint8Array));
      const sealedWith = keyIdOf(fresh);
      if (sealedWith !== null && retired.has(sealedWith)) {
        throw new KeyringError(`this process seals workspace "${workspaceId}" with data key ${sealedWith}, which is retired: it has not loaded the key that replaced it yet; the next run goes on`);
      }
      c.key.forEach(([name, kind], i) => columns[i]!.push(valueOf(kind, row[name])));
      values.push(fresh.toString('hex'));
    }
    const names = c.key.map((_, i) => `k${i}`);
    const match = sql.join(
      c.key.map(([name, kind], i) => sql`t.${sql.ref(name)} = ${param(kind, sql.ref(`u.${names[i]}`))}`),
      sql` and `,
    );
    await sql`
      update ${sql.table(c.table)} as t set ${col} = decode(u.v, 'hex')
      from unnest(${sql.join([...columns, values].map((list) => sql`${list}::text[]`))}) as u(${sql.raw([...names, 'v'].join(', '))})
      where ${match}`.execute(tx);
    const lastRow = found.rows[found.rows.length - 1]!;
    return { rewritten: found.rows.length, last: c.key.map(([name, kind]) => valueOf(kind, lastRow[name])) };
  });
}

/**
 * Move every row still sealed under a retired data key to its workspace's
 * active key, in batches, then destroy the retired keys no row uses any more
 * (after DESTROY_AFTER_MS). Safe to stop at any point and to run in several
 * processes at once; what it has not reached stays readable under the retired key.
 */
export async function reencryptRetired(database: Database, keyring: Keyring, options: ReencryptOptions = {}): Promise<ReencryptResult> {
  const now = options.now?.() ?? new Date();
  const retiredRows = await database.db
    .selectFrom('data_keys')
    .select(['key_id', 'retired_at'])
    .where('purpose', '=', 'data')
    .where('destroyed_at', 'is', null)
    .where('retired_at', '<=', now)
    .orderBy('key_id')
    .execute();
  const result: ReencryptResult = { rewritten: 0, destroyed: [], remaining: [], stopped: false };
  if (retiredRows.length === 0) return result;
  const retired = new Set(retiredRows.map((r) => r.key_id));
  const cursors = options.cursors ?? new Map<string, string[]>();
  const limit = options.batchRows ?? BATCH_ROWS;
  for (const c of ENCRYPTED_COLUMNS) {
    const name = `${c.table}.${c.column}`;
    let rewritten = 0;
    for (;;) {
      if (options.signal?.aborted) {
        result.stopped = true;
        result.remaining = [...retired];
        return result;
      }
      const batch = await reencryptBatch(database, keyring, c, retired, cursors.get(name), limit);
      if (batch.last === null) break;
      cursors.set(name, batch.last);
      rewritten += batch.rewritten;
      result.rewritten += batch.rewritten;
      options.onProgress?.({ column: name, rewritten, total: result.rewritten });
      // The embedded database answers in this thread: let requests in between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Done with this column: the next run walks it from the start, for rows written or locked meanwhile.
    cursors.delete(name);
  }
  const cutoff = new Date(now.getTime() - (options.destroyAfterMs ?? DESTROY_AFTER_MS));
  for (const key of retiredRows) {
    const destroyed = key.retired_at! <= cutoff && (await destroyRetiredKey(database, key.key_id, { actor: options.actor ?? 'worker', now }));
    if (destroyed) result.destroyed.push(key.key_id);
    else result.remaining.push(key.key_id);
  }
  return result;
}
