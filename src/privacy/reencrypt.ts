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

/** A row the job could not open: left where it is, under its key, which is then never destroyed. */
export interface UnreadableRow {
  table: string;
  column: string;
  /** its primary key, column by column (bytea as hex) */
  key: Record<string, string>;
  keyId: number | null;
  reason: string;
}

/** Where the rows of the last runs that could not be opened are kept (custodian_meta), for `keys status`. */
export const UNREADABLE_META_KEY = 'keys_unreadable_rows';
/** Rows named one by one in the record; beyond, only counted. */
const UNREADABLE_LISTED = 200;

export interface UnreadableRecord {
  /** when the run that found them ended */
  at: string;
  count: number;
  rows: UnreadableRow[];
}

export interface ReencryptResult {
  rewritten: number;
  /** rows that do not open under the key they name (changed, or their key destroyed): skipped, their keys kept */
  unreadable: UnreadableRow[];
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
  unreadable: UnreadableRow[],
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
      let plain: Buffer;
      try {
        plain = keyring.decrypt(row.sealed as Uint8Array);
      } catch (error) {
        // A key this process has not loaded yet: the whole run waits for the reload (the caller retries).
        if (error instanceof KeyringError && error.kind === 'unavailable') throw error;
        // One row that does not open must not hold up the others: it is recorded and stays as it is.
        unreadable.push({
          table: c.table,
          column: c.column,
          key: Object.fromEntries(c.key.map(([name, kind]) => [name, valueOf(kind, row[name])])),
          keyId: keyIdOf(row.sealed as Uint8Array),
          reason: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      const fresh = keyring.encrypt(workspaceId, plain);
      const sealedWith = keyIdOf(fresh);
      if (sealedWith !== null && retired.has(sealedWith)) {
        throw new KeyringError(`this process seals workspace "${workspaceId}" with data key ${sealedWith}, which is retired: it has not loaded the key that replaced it yet; the next run goes on`, 'unavailable', sealedWith);
      }
      c.key.forEach(([name, kind], i) => columns[i]!.push(valueOf(kind, row[name])));
      values.push(fresh.toString('hex'));
    }
    const lastRow = found.rows[found.rows.length - 1]!;
    const last = c.key.map(([name, kind]) => valueOf(kind, lastRow[name]));
    if (values.length === 0) return { rewritten: 0, last };
    const names = c.key.map((_, i) => `k${i}`);
    const match = sql.join(
      c.key.map(([name, kind], i) => sql`t.${sql.ref(name)} = ${param(kind, sql.ref(`u.${names[i]}`))}`),
      sql` and `,
    );
    await sql`
      update ${sql.table(c.table)} as t set ${col} = decode(u.v, 'hex')
      from unnest(${sql.join([...columns, values].map((list) => sql`${list}::text[]`))}) as u(${sql.raw([...names, 'v'].join(', '))})
      where ${match}`.execute(tx);
    return { rewritten: values.length, last };
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
  const result: ReencryptResult = { rewritten: 0, unreadable: [], destroyed: [], remaining: [], stopped: false };
  if (retiredRows.length === 0) {
    await recordUnreadable(database, result, now);
    return result;
  }
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
        await recordUnreadable(database, result, now);
        return result;
      }
      const batch = await reencryptBatch(database, keyring, c, retired, cursors.get(name), limit, result.unreadable);
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
  await recordUnreadable(database, result, now);
  const cutoff = new Date(now.getTime() - (options.destroyAfterMs ?? DESTROY_AFTER_MS));
  // A key with rows that did not open keeps them (destroyRetiredKey sees them too): they may be repaired, or restored.
  const holding = new Set(result.unreadable.map((r) => r.keyId));
  for (const key of retiredRows) {
    const destroyed = !holding.has(key.key_id) && key.retired_at! <= cutoff && (await destroyRetiredKey(database, key.key_id, { actor: options.actor ?? 'worker', now }));
    if (destroyed) result.destroyed.push(key.key_id);
    else result.remaining.push(key.key_id);
  }
  return result;
}

/**
 * Keep the unreadable rows of this run for `keys status`: a complete run
 * replaces the record (what it did not meet has been repaired or deleted), a
 * stopped one adds to it.
 */
async function recordUnreadable(database: Database, result: ReencryptResult, now: Date): Promise<void> {
  const previous = result.stopped ? await readUnreadable(database) : null;
  if (!previous && result.unreadable.length === 0) {
    await database.db.deleteFrom('custodian_meta').where('key', '=', UNREADABLE_META_KEY).execute();
    return;
  }
  const seen = new Set<string>();
  const rows: UnreadableRow[] = [];
  for (const r of [...(previous?.rows ?? []), ...result.unreadable]) {
    const id = JSON.stringify([r.table, r.column, r.key]);
    if (seen.has(id)) continue;
    seen.add(id);
    rows.push(r);
  }
  const count = Math.max(rows.length, previous?.count ?? 0);
  const record: UnreadableRecord = { at: now.toISOString(), count, rows: rows.slice(0, UNREADABLE_LISTED) };
  await database.db
    .insertInto('custodian_meta')
    .values({ key: UNREADABLE_META_KEY, value: JSON.stringify(record) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(record) }))
    .execute();
}

/** The unreadable rows the last re-encryption runs met (null: none). */
export async function readUnreadable(database: Database): Promise<UnreadableRecord | null> {
  const row = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', UNREADABLE_META_KEY).executeTakeFirst();
  return row ? (JSON.parse(row.value) as UnreadableRecord) : null;
}
