import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, fsyncSync, mkdirSync, openSync, closeSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import type { Schema } from './schema.js';

/*
 * A logical backup: every table's rows as NDJSON, gzip-compressed, sealed in
 * AES-256-GCM chunks. Logical rather than a copy of PGlite's files or a
 * pg_dump, so one file restores on either backend and needs no binaries.
 *
 * File: header (magic, format, salt, nonce base, key check), then frames
 * `type u8 | length u32be | ciphertext | tag(16)`. Every frame's additional
 * data is the header, its index and its type, so frames cannot be edited,
 * reordered or moved between files; the last frame (type 1) carries the
 * SHA-256 and length of the NDJSON, and a file without it was cut short.
 *
 * NDJSON: a header line (format, createdAt, migrations, every table with its
 * columns and row count), then each table's rows in primary-key order, then a
 * trailer line with each table's SHA-256 over its row lines.
 */

/** The NDJSON and file format this code writes; it reads this one and older ones. */
export const BACKUP_FORMAT = 1;

const MAGIC = Buffer.from('CUSTBKUP', 'latin1');
const SALT_BYTES = 32;
const NONCE_BYTES = 12;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 2 + SALT_BYTES + NONCE_BYTES + CHECK_BYTES;
const FRAME_HEAD_BYTES = 5;
const CHUNK_BYTES = 1 << 20;
// A damaged length field must not make the reader allocate gigabytes.
const MAX_CHUNK_BYTES = 16 << 20;
const FRAME_DATA = 0;
const FRAME_FINAL = 1;
// A label of its own: a backup key must never equal the key that seals rows.
const KDF_INFO = 'custodian backup v1';

/** Kysely's bookkeeping: the restored database keeps its own, and the header's migration list must match it. */
const MIGRATION_TABLES = new Set(['custodian_migrations', 'custodian_migrations_lock']);

const PAGE_ROWS = 1_000;
const INSERT_BATCH_BYTES = 1 << 20;

export type BackupErrorReason = 'not-a-backup' | 'newer-format' | 'wrong-key' | 'damaged' | 'truncated' | 'schema-mismatch' | 'verify-failed';

/** A backup that cannot be used, with the reason in words a user can act on. */
export class BackupError extends Error {
  constructor(
    readonly reason: BackupErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface BackupProgress {
  phase: 'backup' | 'verify' | 'restore' | 'check';
  table: string;
  /** rows of this table so far */
  tableRows: number;
  /** rows of every table so far, in this phase */
  rows: number;
  /** rows in the whole backup, when known */
  totalRows: number | null;
}

export interface TableSummary {
  name: string;
  rows: number;
  sha256: string;
}

export interface BackupSummary {
  format: number;
  createdAt: string;
  migrations: string[];
  tables: TableSummary[];
  rows: number;
  /** size of the backup file (writeBackup) */
  bytes: number;
}

interface BackupOptions {
  masterKey: Buffer;
  onProgress?: (progress: BackupProgress) => void;
  /** rows per fetch (default 1,000); tests make it small to cross page boundaries */
  pageRows?: number;
}

interface Column {
  name: string;
  type: string;
  bytea: boolean;
  int8: boolean;
  collatable: boolean;
  generated: boolean;
  identity: boolean;
  sequence: string | null;
  keyPosition: number | null;
}

interface Table {
  name: string;
  columns: Column[];
  key: Column[];
}

interface HeaderLine {
  format: number;
  createdAt: string;
  backend: string;
  migrations: string[];
  tables: Array<{ name: string; rows: number; columns: Array<{ name: string; type: string }> }>;
}

interface TrailerLine {
  trailer: true;
  tables: Record<string, string>;
}

// ---------------------------------------------------------------- the schema

async function listTables(db: Kysely<Schema>): Promise<Table[]> {
  const names = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name collate "C"`.execute(db);
  const columns = await sql<{
    table_name: string;
    column_name: string;
    type: string;
    is_bytea: boolean;
    is_int8: boolean;
    collatable: boolean;
    generated: boolean;
    identity: boolean;
    sequence: string | null;
    key_position: number | null;
  }>`
    select c.relname as table_name, a.attname as column_name, format_type(a.atttypid, a.atttypmod) as type,
      a.atttypid = 'bytea'::regtype as is_bytea, a.atttypid = 'int8'::regtype as is_int8,
      t.typcollation <> 0 as collatable, a.attgenerated <> '' as generated, a.attidentity <> '' as identity,
      pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) as sequence,
      array_position((select i.indkey::int2[] from pg_index i where i.indrelid = c.oid and i.indisprimary), a.attnum) as key_position
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid
    join pg_type t on t.oid = a.atttypid
    where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
    order by c.relname, a.attnum`.execute(db);
  const byTable = new Map<string, Column[]>();
  for (const row of columns.rows) {
    const list = byTable.get(row.table_name) ?? [];
    list.push({
      name: row.column_name,
      type: row.type,
      bytea: row.is_bytea,
      int8: row.is_int8,
      collatable: row.collatable,
      generated: row.generated,
      identity: row.identity,
      sequence: row.sequence,
      keyPosition: row.key_position === null ? null : Number(row.key_position),
    });
    byTable.set(row.table_name, list);
  }
  const tables: Table[] = [];
  for (const { table_name: name } of names.rows) {
    if (MIGRATION_TABLES.has(name)) continue;
    const cols = byTable.get(name) ?? [];
    const key = cols.filter((c) => c.keyPosition !== null).sort((a, b) => (a.keyPosition ?? 0) - (b.keyPosition ?? 0));
    // Pages and checksums follow the primary key; without one neither is stable.
    if (key.length === 0) throw new Error(`table ${name} has no primary key: a backup reads every table in key order`);
    tables.push({ name, columns: cols, key });
  }
  return orderByForeignKeys(db, tables);
}

/** Parents before children, so rows load with every foreign key checked as they go. */
async function orderByForeignKeys(db: Kysely<Schema>, tables: Table[]): Promise<Table[]> {
  const edges = await sql<{ child: string; parent: string }>`
    select c.relname as child, p.relname as parent from pg_constraint k
    join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
    join pg_namespace n on n.oid = c.relnamespace
    where k.contype = 'f' and n.nspname = 'public' and k.conrelid <> k.confrelid`.execute(db);
  const parents = new Map<string, Set<string>>();
  for (const { child, parent } of edges.rows) (parents.get(child) ?? parents.set(child, new Set()).get(child)!).add(parent);
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: Table[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: Table) => {
    const seen = state.get(table.name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new Error(`tables ${table.name} and others reference each other in a cycle: cannot order them for restore`);
    state.set(table.name, 'visiting');
    for (const parent of parents.get(table.name) ?? []) {
      const t = byName.get(parent);
      if (t) visit(t);
    }
    state.set(table.name, 'done');
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}

async function appliedMigrations(db: Kysely<Schema>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from custodian_migrations order by name collate "C"`.execute(db);
  return rows.rows.map((r) => r.name);
}

const ident = (name: string) => sql.id(name);

/** The row as canonical JSON text: keys sorted by jsonb, bytea as base64, int8 as a string (no 2^53 limit in readers). */
function rowExpression(table: Table) {
  const overrides = table.columns.filter((c) => c.bytea || c.int8);
  if (overrides.length === 0) return sql`to_jsonb(t)::text`;
  const pairs = overrides.map((c) =>
    c.bytea ? sql`${sql.lit(c.name)}, translate(encode(t.${ident(c.name)}, 'base64'), E'\n', '')` : sql`${sql.lit(c.name)}, t.${ident(c.name)}::text`,
  );
  return sql`(to_jsonb(t) || jsonb_build_object(${sql.join(pairs)}))::text`;
}

// Text keys compare byte-wise: PGlite and a PostgreSQL server with another
// collation must list the rows in one order, or the checksums would differ.
const keyTerm = (c: Column) => (c.collatable ? sql`t.${ident(c.name)} collate "C"` : sql`t.${ident(c.name)}`);

let cursors = 0;

/**
 * Every row of a table in key order, a page at a time, through a cursor: the
 * table is sorted once (byte-wise keys rarely match an index's collation, and
 * keyset pages would then sort the rest of the table for every page).
 * Runs inside a transaction, as cursors do.
 */
async function* tableRows(db: Kysely<Schema>, table: Table, pageRows = PAGE_ROWS): AsyncGenerator<string> {
  const cursor = ident(`custodian_backup_${++cursors}`);
  await sql`declare ${cursor} no scroll cursor for
    select ${rowExpression(table)} as row from public.${ident(table.name)} t order by ${sql.join(table.key.map(keyTerm))}`.execute(db);
  let open = true;
  try {
    for (;;) {
      const page = await sql<{ row: string }>`fetch forward ${sql.raw(String(Math.max(1, Math.floor(pageRows))))} from ${cursor}`.execute(db);
      for (const row of page.rows) yield row.row;
      if (page.rows.length < pageRows) break;
    }
    open = false;
    await sql`close ${cursor}`.execute(db);
  } finally {
    // Left early (the reader failed): the transaction may be aborted already, and ends with the cursor anyway.
    if (open) await sql`close ${cursor}`.execute(db).catch(() => {});
  }
}

// Output that depends on settings is pinned, so a backup's text (and its
// checksums) is the same whatever the server's defaults are.
async function pinSettings(trx: Kysely<Schema>): Promise<void> {
  await sql`set local timezone = 'UTC'`.execute(trx);
  await sql`set local extra_float_digits = 1`.execute(trx);
  await sql`set local bytea_output = 'hex'`.execute(trx);
}

/** Row count and SHA-256 of every table as a backup would record them, from one snapshot. */
export async function tableChecksums(database: Database, pageRows = PAGE_ROWS): Promise<TableSummary[]> {
  return database.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      await pinSettings(trx);
      return checksumTables(trx, await listTables(trx), pageRows);
    });
}

async function checksumTables(db: Kysely<Schema>, tables: Table[], pageRows: number, onTable?: (name: string, rows: number) => void): Promise<TableSummary[]> {
  const out: TableSummary[] = [];
  for (const table of tables) {
    const hash = createHash('sha256');
    let rows = 0;
    for await (const row of tableRows(db, table, pageRows)) {
      hash.update(row).update('\n');
      rows++;
    }
    onTable?.(table.name, rows);
    out.push({ name: table.name, rows, sha256: hash.digest('hex') });
  }
  return out;
}

// ---------------------------------------------------------------- the sealed container

function deriveKeys(masterKey: Buffer, salt: Buffer): { key: Buffer; check: Buffer } {
  if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  const material = Buffer.from(hkdfSync('sha256', masterKey, salt, KDF_INFO, 32 + CHECK_BYTES));
  return { key: material.subarray(0, 32), check: material.subarray(32) };
}

function frameNonce(base: Buffer, index: number): Buffer {
  // The key is new for every file (random salt), so a counter cannot repeat a nonce under one key.
  const nonce = Buffer.from(base);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ index) >>> 0, 8);
  return nonce;
}

function frameAad(header: Buffer, index: number, type: number): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail[4] = type;
  return Buffer.concat([header, tail]);
}

/**
 * Seals a byte stream into the backup container. `final()` gives what the last
 * frame carries (the plaintext checksum), asked for once the input has ended.
 */
export function createSealer(masterKey: Buffer, final: () => Buffer): Transform & { bytes(): number } {
  const salt = randomBytes(SALT_BYTES);
  const nonceBase = randomBytes(NONCE_BYTES);
  const { key, check } = deriveKeys(masterKey, salt);
  const version = Buffer.alloc(2);
  version.writeUInt16BE(BACKUP_FORMAT);
  const header = Buffer.concat([MAGIC, version, salt, nonceBase, check]);
  let index = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let written = 0;
  let headerSent = false;
  const seal = (stream: Transform, type: number, plain: Buffer) => {
    if (!headerSent) {
      stream.push(header);
      written += header.length;
      headerSent = true;
    }
    const cipher = createCipheriv('aes-256-gcm', key, frameNonce(nonceBase, index));
    cipher.setAAD(frameAad(header, index, type));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const head = Buffer.alloc(FRAME_HEAD_BYTES);
    head[0] = type;
    head.writeUInt32BE(body.length, 1);
    const frame = Buffer.concat([head, body, cipher.getAuthTag()]);
    stream.push(frame);
    written += frame.length;
    index++;
  };
  const sealer = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= CHUNK_BYTES) {
        const all = Buffer.concat(pending);
        seal(this, FRAME_DATA, all.subarray(0, CHUNK_BYTES));
        pending = [all.subarray(CHUNK_BYTES)];
        pendingBytes = all.length - CHUNK_BYTES;
      }
      done();
    },
    flush(done: TransformCallback) {
      try {
        if (pendingBytes > 0) seal(this, FRAME_DATA, Buffer.concat(pending));
        seal(this, FRAME_FINAL, final());
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  return Object.assign(sealer, { bytes: () => written });
}

/** Reads exactly `n` bytes from an async byte source, or fewer at its end. */
function byteReader(source: AsyncIterable<Buffer>) {
  const iterator = source[Symbol.asyncIterator]();
  let buffered: Buffer = Buffer.alloc(0);
  let ended = false;
  let offset = 0;
  return {
    get offset() {
      return offset;
    },
    async read(n: number): Promise<Buffer> {
      // Gathered, then joined once: a 1 MiB frame arrives in many small reads.
      const parts = [buffered];
      let have = buffered.length;
      while (have < n && !ended) {
        const next = await iterator.next();
        if (next.done) ended = true;
        else {
          parts.push(next.value);
          have += next.value.length;
        }
      }
      if (parts.length > 1) buffered = Buffer.concat(parts);
      const out = buffered.subarray(0, n);
      buffered = buffered.subarray(out.length);
      offset += out.length;
      return out;
    },
  };
}

const DAMAGED = 'the backup was made with another master key or is damaged';

/**
 * Opens the container: yields each frame's plaintext after checking its tag;
 * resolves `final` with the last frame's contents. Throws BackupError for a
 * file that is not a backup, is newer, was sealed under another key, was
 * edited, or was cut short.
 */
export async function* unseal(source: AsyncIterable<Buffer>, masterKey: Buffer, final: (contents: Buffer) => void): AsyncGenerator<Buffer> {
  const reader = byteReader(source);
  const header = await reader.read(HEADER_BYTES);
  if (header.length < MAGIC.length || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupError('not-a-backup', 'this is not a Custodian backup file (its first bytes are not a backup header)');
  }
  if (header.length < HEADER_BYTES) throw new BackupError('truncated', 'the backup file is truncated: it ends inside its header');
  const format = header.readUInt16BE(MAGIC.length);
  if (format > BACKUP_FORMAT) {
    throw new BackupError('newer-format', `the backup is in format ${format}, written by a newer Custodian; this version reads format ${BACKUP_FORMAT} and older: restore with a newer Custodian (if none wrote format ${format}, the file is damaged)`);
  }
  let at = MAGIC.length + 2;
  const salt = header.subarray(at, (at += SALT_BYTES));
  const nonceBase = header.subarray(at, (at += NONCE_BYTES));
  const check = header.subarray(at, (at += CHECK_BYTES));
  const { key, check: expected } = deriveKeys(masterKey, salt);
  if (!timingSafeEqual(check, expected)) {
    throw new BackupError('wrong-key', `${DAMAGED}: its key check does not match this master key (CUSTODIAN_MASTER_KEY or master.key)`);
  }
  for (let index = 0; ; index++) {
    const start = reader.offset;
    const head = await reader.read(FRAME_HEAD_BYTES);
    if (head.length === 0) throw new BackupError('truncated', `the backup file is truncated: it ends after ${start} bytes, before its final checksum`);
    if (head.length < FRAME_HEAD_BYTES) throw new BackupError('truncated', `the backup file is truncated: it ends inside a chunk header at byte ${start}`);
    const type = head[0]!;
    const length = head.readUInt32BE(1);
    if ((type !== FRAME_DATA && type !== FRAME_FINAL) || length > MAX_CHUNK_BYTES) {
      throw new BackupError('damaged', `${DAMAGED}: chunk ${index} at byte ${start} has an impossible header`);
    }
    const body = await reader.read(length + TAG_BYTES);
    if (body.length < length + TAG_BYTES) throw new BackupError('truncated', `the backup file is truncated: it ends inside chunk ${index} (byte ${start})`);
    const decipher = createDecipheriv('aes-256-gcm', key, frameNonce(nonceBase, index));
    decipher.setAAD(frameAad(header, index, type));
    decipher.setAuthTag(body.subarray(length));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(body.subarray(0, length)), decipher.final()]);
    } catch {
      throw new BackupError('damaged', `${DAMAGED}: chunk ${index} at byte ${start} fails its authentication check`);
    }
    if (type === FRAME_FINAL) {
      if ((await reader.read(1)).length > 0) throw new BackupError('damaged', `${DAMAGED}: there are bytes after its final checksum`);
      final(plain);
      return;
    }
    yield plain;
  }
}

// ---------------------------------------------------------------- NDJSON over the container

async function* splitLines(source: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of source) {
    const text = rest + decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      yield text.slice(from, nl);
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  rest += decoder.end();
  if (rest !== '') throw new BackupError('damaged', `${DAMAGED}: its last line is incomplete`);
}

type Input = string | (() => Readable);

const openInput = (input: Input): Readable => (typeof input === 'string' ? createReadStream(input) : input());

interface ReadHandlers {
  onHeader(header: HeaderLine): Promise<void> | void;
  onRow(table: string, row: string): Promise<void> | void;
  onTableEnd(table: string): Promise<void> | void;
}

/** Decrypt, decompress and check a whole backup, handing its lines on as they pass every check so far. */
async function readBackup(input: Input, masterKey: Buffer, handlers: ReadHandlers): Promise<{ header: HeaderLine; tables: TableSummary[] }> {
  let finalContents: Buffer | null = null;
  const plainHash = createHash('sha256');
  let plainBytes = 0;
  // Filled in by the pipeline's callbacks (held in an object: TypeScript does not follow assignments in closures).
  const got: { header: HeaderLine | null; trailer: TrailerLine | null } = { header: null, trailer: null };
  const tables: TableSummary[] = [];
  const gunzip = createGunzip();
  const counted = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      plainHash.update(chunk);
      plainBytes += chunk.length;
      yield chunk;
    }
  };
  try {
    await pipeline(
      Readable.from(unseal(openInput(input), masterKey, (c) => (finalContents = c))),
      gunzip,
      async (source: AsyncIterable<Buffer>) => {
        const open: { current: { name: string; rows: number; left: number; hash: Hash } | null } = { current: null };
        let next = 0;
        // Ends every finished table and starts the next; tables without rows end as soon as they start.
        const settle = async () => {
          for (let header = got.header; header; ) {
            const current = open.current;
            if (current && current.left > 0) return;
            if (current) {
              tables.push({ name: current.name, rows: current.rows, sha256: current.hash.digest('hex') });
              await handlers.onTableEnd(current.name);
              open.current = null;
            }
            const table = header.tables[next++];
            if (!table) return;
            open.current = { name: table.name, rows: table.rows, left: table.rows, hash: createHash('sha256') };
          }
        };
        for await (const line of splitLines(counted(source))) {
          if (got.header === null) {
            const parsed = JSON.parse(line) as HeaderLine;
            if (typeof parsed.format !== 'number' || !Array.isArray(parsed.tables) || !Array.isArray(parsed.migrations) || !parsed.tables.every((t) => Number.isInteger(t.rows) && t.rows >= 0)) {
              throw new BackupError('damaged', `${DAMAGED}: its first line is not a backup header`);
            }
            if (parsed.format > BACKUP_FORMAT) throw new BackupError('newer-format', `the backup is in format ${parsed.format}, written by a newer Custodian: restore with a newer Custodian`);
            got.header = parsed;
            await handlers.onHeader(parsed);
            await settle();
            continue;
          }
          const current = open.current;
          if (current && current.left > 0) {
            current.hash.update(line).update('\n');
            current.left--;
            await handlers.onRow(current.name, line);
            await settle();
            continue;
          }
          if (got.trailer !== null) throw new BackupError('damaged', `${DAMAGED}: it has lines after its trailer`);
          got.trailer = JSON.parse(line) as TrailerLine;
          if (got.trailer.trailer !== true) throw new BackupError('damaged', `${DAMAGED}: a line where its trailer should be is something else`);
        }
      },
    );
  } catch (error) {
    if (error instanceof BackupError) throw error;
    // Authenticated bytes that do not decompress or parse: written wrong, not damaged in transit.
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_') || error instanceof SyntaxError) {
      throw new BackupError('damaged', `${DAMAGED}: its contents do not decode (${(error as Error).message})`);
    }
    throw error;
  }
  const { header, trailer } = got;
  if (header === null || trailer === null || finalContents === null) throw new BackupError('truncated', 'the backup file is truncated: its trailer is missing');
  const final: Buffer = finalContents;
  if (final.length !== 40 || !final.subarray(0, 32).equals(plainHash.digest()) || Number(final.readBigUInt64BE(32)) !== plainBytes) {
    throw new BackupError('damaged', `${DAMAGED}: the SHA-256 of its contents does not match the one recorded in it`);
  }
  for (const table of tables) {
    if (trailer.tables[table.name] !== table.sha256) throw new BackupError('damaged', `${DAMAGED}: the rows of table ${table.name} do not match their recorded SHA-256`);
  }
  if (tables.length !== header.tables.length || Object.keys(trailer.tables).length !== tables.length) {
    throw new BackupError('damaged', `${DAMAGED}: its tables do not match its header`);
  }
  return { header, tables };
}

function summaryOf(header: HeaderLine, tables: TableSummary[], bytes: number): BackupSummary {
  return { format: header.format, createdAt: header.createdAt, migrations: header.migrations, tables, rows: tables.reduce((n, t) => n + t.rows, 0), bytes };
}

// ---------------------------------------------------------------- backup

/**
 * Write a backup of every table, from one consistent snapshot. To a path, the
 * file is written aside and renamed once complete (and synced): a failed
 * backup never leaves something that looks like a backup.
 */
export async function writeBackup(database: Database, out: Writable | string, options: BackupOptions): Promise<BackupSummary> {
  if (typeof out === 'string') {
    const partial = `${out}.partial-${process.pid}`;
    try {
      const summary = await writeBackup(database, createWriteStream(partial, { mode: 0o600 }), options);
      const fd = openSync(partial, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(partial, out);
      return summary;
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
  }
  const plainHash = createHash('sha256');
  let plainBytes = 0;
  const sealer = createSealer(options.masterKey, () => {
    const final = Buffer.alloc(40);
    plainHash.digest().copy(final, 0);
    final.writeBigUInt64BE(BigInt(plainBytes), 32);
    return final;
  });
  // Repeatable read: every page of every table sees the database as it was at the first query.
  return database.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      await pinSettings(trx);
      const tables = await listTables(trx);
      const counts: number[] = [];
      for (const table of tables) {
        const row = await sql<{ n: string }>`select count(*)::text as n from public.${ident(table.name)}`.execute(trx);
        counts.push(Number(row.rows[0]?.n ?? 0));
      }
      const totalRows = counts.reduce((a, b) => a + b, 0);
      // The transaction's start: the instant the snapshot shows, not when the file was begun.
      const snapshotAt = await sql<{ at: Date | string }>`select now() as at`.execute(trx);
      const header: HeaderLine = {
        format: BACKUP_FORMAT,
        createdAt: new Date(snapshotAt.rows[0]!.at).toISOString(),
        backend: database.kind,
        migrations: await appliedMigrations(trx),
        tables: tables.map((t, i) => ({ name: t.name, rows: counts[i]!, columns: t.columns.map((c) => ({ name: c.name, type: c.type })) })),
      };
      const summaries: TableSummary[] = [];
      async function* lines(): AsyncGenerator<Buffer> {
        const emit = (text: string) => {
          const bytes = Buffer.from(text, 'utf8');
          plainHash.update(bytes);
          plainBytes += bytes.length;
          return bytes;
        };
        yield emit(JSON.stringify(header) + '\n');
        let rows = 0;
        for (const [i, table] of tables.entries()) {
          const hash = createHash('sha256');
          let tableRowCount = 0;
          let batch: string[] = [];
          let batchBytes = 0;
          for await (const row of tableRows(trx, table, options.pageRows)) {
            hash.update(row).update('\n');
            tableRowCount++;
            rows++;
            batch.push(row);
            batchBytes += row.length;
            if (batchBytes >= 256 * 1024) {
              yield emit(batch.join('\n') + '\n');
              batch = [];
              batchBytes = 0;
              options.onProgress?.({ phase: 'backup', table: table.name, tableRows: tableRowCount, rows, totalRows });
            }
          }
          if (batch.length > 0) yield emit(batch.join('\n') + '\n');
          // The snapshot makes this impossible unless the engine misbehaves; a backup that disagrees with itself is worse than none.
          if (tableRowCount !== counts[i]) throw new Error(`table ${table.name} gave ${tableRowCount} rows where count(*) said ${counts[i]}`);
          summaries.push({ name: table.name, rows: tableRowCount, sha256: hash.digest('hex') });
          options.onProgress?.({ phase: 'backup', table: table.name, tableRows: tableRowCount, rows, totalRows });
        }
        const trailer: TrailerLine = { trailer: true, tables: Object.fromEntries(summaries.map((s) => [s.name, s.sha256])) };
        yield emit(JSON.stringify(trailer) + '\n');
      }
      await pipeline(Readable.from(lines()), createGzip({ level: 6 }), sealer, out);
      return summaryOf(header, summaries, sealer.bytes());
    });
}

// ---------------------------------------------------------------- verify and restore

/** Check a whole backup (every chunk, every checksum and count) without touching any database. */
export async function verifyBackup(input: Input, options: BackupOptions): Promise<BackupSummary> {
  return (await verify(input, options)).summary;
}

async function verify(input: Input, options: BackupOptions): Promise<{ header: HeaderLine; summary: BackupSummary }> {
  let rows = 0;
  let totalRows: number | null = null;
  let tableRows = 0;
  const { header, tables } = await readBackup(input, options.masterKey, {
    onHeader: (h) => void (totalRows = h.tables.reduce((n, t) => n + t.rows, 0)),
    onRow: (table) => {
      rows++;
      tableRows++;
      if (rows % 10_000 === 0) options.onProgress?.({ phase: 'verify', table, tableRows, rows, totalRows });
    },
    onTableEnd: (table) => {
      options.onProgress?.({ phase: 'verify', table, tableRows, rows, totalRows });
      tableRows = 0;
    },
  });
  return { header, summary: summaryOf(header, tables, 0) };
}

function sameSchema(backup: HeaderLine, tables: Table[], migrations: string[]): string | null {
  if (backup.migrations.join('\n') !== migrations.join('\n')) {
    return `the backup was made at schema migration ${backup.migrations.at(-1) ?? '(none)'}, this database is at ${migrations.at(-1) ?? '(none)'}: restore it with the Custodian version that made it`;
  }
  const inBackup = new Map(backup.tables.map((t) => [t.name, t]));
  for (const table of tables) {
    const saved = inBackup.get(table.name);
    if (!saved) return `table ${table.name} is not in the backup`;
    const a = table.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const b = saved.columns.map((c) => `${c.name} ${c.type}`).join(', ');
    if (a !== b) return `table ${table.name} has columns (${a}) here and (${b}) in the backup`;
  }
  for (const name of inBackup.keys()) if (!tables.some((t) => t.name === name)) return `table ${name} of the backup does not exist here`;
  return null;
}

/** Rows of one table from their JSON lines: jsonb_populate_record casts each field with the column's own input function. */
async function insertRows(db: Kysely<Schema>, table: Table, lines: string[]): Promise<void> {
  const writable = table.columns.filter((c) => !c.generated);
  const bytea = writable.filter((c) => c.bytea);
  const values = writable.map((c) => (c.bytea ? sql`decode(x.r->>${sql.lit(c.name)}, 'base64')` : sql`p.${ident(c.name)}`));
  const record = bytea.length === 0 ? sql`x.r` : sql`x.r - ${sql.lit(`{${bytea.map((c) => `"${c.name}"`).join(',')}}`)}::text[]`;
  const overriding = table.columns.some((c) => c.identity) ? sql`overriding system value` : sql``;
  await sql`
    insert into public.${ident(table.name)} (${sql.join(writable.map((c) => ident(c.name)))}) ${overriding}
    select ${sql.join(values)} from jsonb_array_elements(${'[' + lines.join(',') + ']'}::jsonb) as x(r)
    cross join lateral jsonb_populate_record(null::public.${ident(table.name)}, ${record}) as p`.execute(db);
}

export interface RestoreOptions extends BackupOptions {
  /** asked once the file is verified, before the database is touched; false stops the restore */
  confirm?: (summary: BackupSummary) => Promise<boolean>;
}

/**
 * Replace every table's rows with a backup's. The whole file is verified first,
 * without touching the database; then, in one transaction, the tables are
 * emptied, loaded in foreign-key order, their sequences moved past the
 * restored keys, and every table's count and SHA-256 checked against the
 * backup: any failure rolls it all back. Returns null if `confirm` said no.
 */
export async function restoreBackup(database: Database, input: Input, options: RestoreOptions): Promise<BackupSummary | null> {
  const { header, summary: verified } = await verify(input, options);
  // Checked before anything is deleted: rows of another schema cannot load faithfully.
  const schemaProblem = sameSchema(header, await listTables(database.db), await appliedMigrations(database.db));
  if (schemaProblem) throw new BackupError('schema-mismatch', `the backup does not fit this database: ${schemaProblem}`);
  if (options.confirm && !(await options.confirm(verified))) return null;
  const expected = new Map(verified.tables.map((t) => [t.name, t]));
  await database.db.transaction().execute(async (trx) => {
    await pinSettings(trx);
    const tables = await listTables(trx);
    const byName = new Map(tables.map((t) => [t.name, t]));
    // One statement for all tables: truncating a referenced table alone is refused.
    await sql`truncate ${sql.join(tables.map((t) => sql`public.${ident(t.name)}`))} restart identity`.execute(trx);
    let batch: string[] = [];
    let batchBytes = 0;
    let rows = 0;
    let tableRowCount = 0;
    const totalRows = verified.rows;
    const flush = async (name: string) => {
      if (batch.length === 0) return;
      await insertRows(trx, byName.get(name)!, batch);
      batch = [];
      batchBytes = 0;
      options.onProgress?.({ phase: 'restore', table: name, tableRows: tableRowCount, rows, totalRows });
    };
    // The header lists parents before children (writeBackup's order), so rows load in an order every foreign key accepts.
    await readBackup(input, options.masterKey, {
      onHeader: () => {},
      onRow: async (name, line) => {
        batch.push(line);
        batchBytes += line.length;
        rows++;
        tableRowCount++;
        if (batchBytes >= INSERT_BATCH_BYTES || batch.length >= 5_000) await flush(name);
      },
      onTableEnd: async (name) => {
        await flush(name);
        tableRowCount = 0;
      },
    });
    for (const table of tables) {
      for (const column of table.columns) {
        if (!column.sequence) continue;
        await sql`select setval(${column.sequence}, coalesce((select max(${ident(column.name)}) from public.${ident(table.name)}), 0) + 1, false)`.execute(trx);
      }
    }
    const after = await checksumTables(trx, tables, options.pageRows ?? PAGE_ROWS, (name, n) => options.onProgress?.({ phase: 'check', table: name, tableRows: n, rows: n, totalRows }));
    for (const table of after) {
      const want = expected.get(table.name);
      if (!want || want.rows !== table.rows || want.sha256 !== table.sha256) {
        throw new BackupError('verify-failed', `after loading, table ${table.name} has ${table.rows} rows (SHA-256 ${table.sha256.slice(0, 12)}…) where the backup has ${want?.rows ?? 0} (${want?.sha256.slice(0, 12) ?? '-'}…): nothing was restored`);
      }
    }
  });
  return verified;
}

// ---------------------------------------------------------------- scheduled backups

const SCHEDULED_NAME = /^custodian-(\d{8}T\d{9}Z)\.backup$/;

/** The file name of a scheduled backup made at `at`: names sort by time. */
export function scheduledBackupName(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `custodian-${stamp}.backup`;
}

/** Delete all but the newest `keep` scheduled backups in `dir`; other files are never touched. Returns the deleted names. */
export function rotateBackups(dir: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a whole number of at least 1 (got ${keep})`);
  const names = readdirSync(dir)
    .filter((name) => SCHEDULED_NAME.test(name))
    .sort();
  const doomed = names.slice(0, Math.max(0, names.length - keep));
  for (const name of doomed) rmSync(join(dir, name), { force: true });
  return doomed;
}

/** The shape of worker/schedule.ts ScheduledJob (storage imports nothing of ours). */
export interface BackupJob {
  name: string;
  everyMs: number;
  firstAfterMs: number;
  run(): Promise<unknown>;
}

/** A worker job: a backup into `dir` every `everyMs`, keeping the newest `keep`. */
export function scheduledBackup(options: { database: Database; masterKey: Buffer; dir: string; keep: number; everyMs: number; firstAfterMs?: number; now?: () => Date }): BackupJob {
  const now = options.now ?? (() => new Date());
  return {
    name: 'backup',
    everyMs: options.everyMs,
    // Not at start-up: a restart loop must not fill the disk with backups.
    firstAfterMs: options.firstAfterMs ?? options.everyMs,
    async run() {
      mkdirSync(options.dir, { recursive: true });
      const file = join(options.dir, scheduledBackupName(now()));
      const summary = await writeBackup(options.database, file, { masterKey: options.masterKey });
      const removed = rotateBackups(options.dir, options.keep);
      return { file, rows: summary.rows, bytes: summary.bytes, removed };
    },
  };
}
