/**
 * The baseline of bench/ingest: each database's own bulk load of the rows the
 * API would write, into the real `event_log` table (created by the real
 * migrations, so types, identity column and indexes are the same). Rows come
 * pre-encrypted and pre-encoded: only the database's side is timed, which is
 * the strictest baseline to compare the API against.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One `event_log` row as appendToEventLog writes it (workspace and source are the bootstrap's `default`). */
export interface LogRow {
  messageId: string;
  type: string;
  payload: Buffer;
  receivedAt: Date;
}

export type CopyMethod = 'copy-binary' | 'copy-text';
export type BulkMethod = CopyMethod | 'insert-1000';

const COLUMNS = 'workspace_id, message_id, source_id, type, payload, received_at';
const CHUNK_ROWS = 1000;

// --- COPY encodings -------------------------------------------------------

function escapeText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** COPY text format; bytea as `\\x<hex>` (the backslash itself escaped). */
function textChunk(rows: readonly LogRow[]): Buffer {
  let out = '';
  for (const r of rows) out += `default\t${escapeText(r.messageId)}\tdefault\t${escapeText(r.type)}\t\\\\x${r.payload.toString('hex')}\t${r.receivedAt.toISOString()}\n`;
  return Buffer.from(out, 'utf8');
}

const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const BINARY_TRAILER = Buffer.from([0xff, 0xff]);
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const DEFAULT = Buffer.from('default', 'utf8');

/** COPY binary format: bytea as raw bytes, timestamptz as int64 µs since 2000-01-01. */
function binaryChunk(rows: readonly LogRow[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of rows) {
    const id = Buffer.from(r.messageId, 'utf8');
    const type = Buffer.from(r.type, 'utf8');
    const row = Buffer.alloc(2 + 6 * 4 + DEFAULT.length * 2 + id.length + type.length + r.payload.length + 8);
    let at = row.writeInt16BE(6, 0);
    for (const field of [DEFAULT, id, DEFAULT, type, r.payload]) {
      at = row.writeInt32BE(field.length, at);
      at += field.copy(row, at);
    }
    at = row.writeInt32BE(8, at);
    row.writeBigInt64BE(BigInt(r.receivedAt.getTime() - PG_EPOCH_MS) * 1000n, at);
    parts.push(row);
  }
  return Buffer.concat(parts);
}

/** The whole COPY stream, in chunks of CHUNK_ROWS rows. */
function copyData(rows: readonly LogRow[], format: 'binary' | 'text'): Buffer[] {
  const chunks: Buffer[] = format === 'binary' ? [BINARY_HEADER] : [];
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const slice = rows.slice(i, i + CHUNK_ROWS);
    chunks.push(format === 'binary' ? binaryChunk(slice) : textChunk(slice));
  }
  if (format === 'binary') chunks.push(BINARY_TRAILER);
  return chunks;
}

function copySql(format: 'binary' | 'text', source: string): string {
  return `copy event_log (${COLUMNS}) from ${source}${format === 'binary' ? ' with (format binary)' : ''}`;
}

// --- PostgreSQL -----------------------------------------------------------

/**
 * COPY through pg-copy-streams into a migrated, empty database: the warm-up
 * rows untimed, then the measured rows in one COPY (one transaction).
 * Returns the seconds the measured COPY took, commit included.
 */
export async function postgresBulk(url: string, method: CopyMethod, warmup: readonly LogRow[], rows: readonly LogRow[]): Promise<number> {
  const format = method === 'copy-binary' ? 'binary' : 'text';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('truncate event_log restart identity');
    await pipeline(Readable.from(copyData(warmup, format)), client.query(copyFrom(copySql(format, 'stdin'))));
    const data = copyData(rows, format);
    const started = performance.now();
    await pipeline(Readable.from(data), client.query(copyFrom(copySql(format, 'stdin'))));
    const seconds = (performance.now() - started) / 1000;
    await expectRows(client, warmup.length + rows.length);
    return seconds;
  } finally {
    await client.end();
  }
}

// --- PGlite ---------------------------------------------------------------

// PGlite's built-in bytea serializer formats hex one byte at a time in JS; a
// bulk loader would not accept that, so the baseline uses Buffer's hex codec.
const fastBytea = (value: unknown): string => {
  if (!(value instanceof Uint8Array)) throw new Error('bytea parameter must be a Uint8Array');
  return '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
};

/** Open the data directory the real storage layer created and migrated. */
export function openPgliteForBulk(pgdata: string): Promise<PGlite> {
  return PGlite.create({ dataDir: pgdata, serializers: { 17: fastBytea } });
}

async function pgliteLoad(db: PGlite, method: BulkMethod, prepared: Blob | Array<{ sql: string; params: unknown[] }>): Promise<void> {
  if (prepared instanceof Blob) {
    await db.query(copySql(method === 'copy-binary' ? 'binary' : 'text', `'/dev/blob'`), [], { blob: prepared });
    return;
  }
  await db.query('begin');
  for (const statement of prepared) await db.query(statement.sql, statement.params);
  await db.query('commit');
}

/** Multi-row INSERTs of up to 1,000 rows (6,000 parameters), like the API's own statement but bigger. */
function insertStatements(rows: readonly LogRow[]): Array<{ sql: string; params: unknown[] }> {
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const slice = rows.slice(i, i + CHUNK_ROWS);
    const tuples = slice.map((_, j) => `($${j * 6 + 1}, $${j * 6 + 2}, $${j * 6 + 3}, $${j * 6 + 4}, $${j * 6 + 5}, $${j * 6 + 6})`);
    const params = slice.flatMap((r) => ['default', r.messageId, 'default', r.type, r.payload, r.receivedAt.toISOString()]);
    statements.push({ sql: `insert into event_log (${COLUMNS}) values ${tuples.join(', ')}`, params });
  }
  return statements;
}

function prepare(method: BulkMethod, rows: readonly LogRow[]): Blob | Array<{ sql: string; params: unknown[] }> {
  if (method === 'insert-1000') return insertStatements(rows);
  // PGlite reads COPY FROM '/dev/blob' out of the Blob passed with the query.
  return new Blob(copyData(rows, method === 'copy-binary' ? 'binary' : 'text'));
}

/** Same shape as postgresBulk, on an open PGlite. */
export async function pgliteBulk(db: PGlite, method: BulkMethod, warmup: readonly LogRow[], rows: readonly LogRow[]): Promise<number> {
  await db.query('truncate event_log restart identity');
  await pgliteLoad(db, method, prepare(method, warmup));
  const prepared = prepare(method, rows);
  const started = performance.now();
  await pgliteLoad(db, method, prepared);
  const seconds = (performance.now() - started) / 1000;
  const { rows: counted } = await db.query<{ n: number }>('select count(*)::int as n from event_log');
  if (counted[0]?.n !== warmup.length + rows.length) throw new Error(`bulk load (${method}) left ${counted[0]?.n} rows, expected ${warmup.length + rows.length}`);
  return seconds;
}

async function expectRows(client: pg.Client, expected: number): Promise<void> {
  const { rows } = await client.query<{ n: number }>('select count(*)::int as n from event_log');
  if (rows[0]?.n !== expected) throw new Error(`bulk load left ${rows[0]?.n} rows, expected ${expected}`);
}
