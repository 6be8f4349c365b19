import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditLogTable, Schema } from '../storage/schema.js';

/**
 * The audit log: who read or changed what, as one hash chain per workspace.
 * Each entry's hash covers its own fields and the previous entry's hash, so
 * editing or deleting an entry breaks every link after it. A chain alone
 * cannot show that its last entries were deleted (what is left is still a
 * valid chain), so the head — last seq and hash — is also kept in
 * `audit_heads`, written in the same transaction as the entry.
 *
 * What this does not defend against: someone who can write to the database
 * can rewrite the whole chain and its head consistently. Recording the head
 * (GET /api/audit/verify) somewhere they cannot reach makes that visible.
 *
 * Entries carry ids and field names, never personal data: the log is kept
 * longer than the data it describes, and an erased person stays erased.
 */

export interface AuditInput {
  workspaceId: string;
  /** `token:<id>` for API calls, `cli` or `worker` otherwise */
  actor: string;
  /** `area.verb`, e.g. `profile.read` (docs/audit.md lists them) */
  action: string;
  profileId?: string | null;
  /** what was acted on when it is not a profile: a segment id, a source id */
  target?: string | null;
  /** ids, counts and field names only */
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  workspaceId: string;
  seq: number;
  at: Date;
  actor: string;
  action: string;
  profileId: string | null;
  target: string | null;
  details: Record<string, unknown>;
  prevHash: Buffer;
  hash: Buffer;
}

export type AuditProblem = 'edited' | 'missing' | 'chain';

export interface AuditVerification {
  workspaceId: string;
  ok: boolean;
  entries: number;
  /** the head as recorded in audit_heads; null before the first entry */
  head: { seq: number; hash: string } | null;
  firstBad?: { seq: number; reason: AuditProblem };
}

export interface AuditFilters {
  workspaceId: string;
  actor?: string;
  action?: string;
  profileId?: string;
  /** inclusive */
  from?: Date;
  /** exclusive */
  to?: Date;
  /** only entries with a smaller seq: the previous page's nextBefore */
  before?: number;
  limit?: number;
}

/** The first entry links to this. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

// Changing what is hashed needs a new tag, so old entries still verify under the old one.
const FORMAT = 'custodian.audit.v1';
const NULL_LENGTH = 0xffffffff;
const PAGE = 1000;

/**
 * JSON with object keys sorted at every level: the same value always gives the
 * same text, whatever order jsonb hands keys back in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined && typeof record[key] !== 'function' && typeof record[key] !== 'symbol')
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** PostgreSQL text and jsonb refuse NUL and lone surrogates; replace them so what is hashed is what is stored. */
function storable(text: string): string {
  return text.toWellFormed().replace(/\0/g, '\ufffd');
}

function storableDeep(value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (Array.isArray(value)) return value.map(storableDeep);
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storable(key), storableDeep(item)]));
  }
  return value;
}

/**
 * The bytes an entry's hash covers: every field length-prefixed (4 bytes, big
 * endian; all ones for null), so no two different entries encode alike however
 * their texts are split.
 */
export function canonicalEncoding(entry: Omit<AuditEntry, 'hash'>): Buffer {
  const parts: Buffer[] = [];
  const put = (value: string | Buffer | null) => {
    const length = Buffer.alloc(4);
    if (value === null) {
      length.writeUInt32BE(NULL_LENGTH);
      parts.push(length);
      return;
    }
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  put(FORMAT);
  put(entry.workspaceId);
  put(String(entry.seq));
  put(entry.at.toISOString());
  put(entry.actor);
  put(entry.action);
  put(entry.profileId);
  put(entry.target);
  put(canonicalJson(entry.details));
  put(entry.prevHash);
  return Buffer.concat(parts);
}

export function entryHash(entry: Omit<AuditEntry, 'hash'>): Buffer {
  return createHash('sha256').update(canonicalEncoding(entry)).digest();
}

function fromRow(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    workspaceId: row.workspace_id,
    seq: Number(row.seq),
    at: row.at,
    actor: row.actor,
    action: row.action,
    profileId: row.profile_id,
    target: row.target,
    details: row.details,
    prevHash: Buffer.from(row.prev_hash),
    hash: Buffer.from(row.hash),
  };
}

async function appendLocked(tx: Kysely<Schema>, input: AuditInput): Promise<AuditEntry> {
  const workspaceId = storable(input.workspaceId);
  // One appender per workspace at a time, across processes: without it two
  // appenders read the same last entry and fork the chain.
  await sql`select pg_advisory_xact_lock(hashtext('custodian.audit'), hashtext(${workspaceId}))`.execute(tx);
  // The head, not the last row, decides the next seq: appending after a
  // deleted tail must leave the gap visible rather than paper over it.
  const [head, last] = await Promise.all([
    tx.selectFrom('audit_heads').select(['seq', 'hash']).where('workspace_id', '=', workspaceId).executeTakeFirst(),
    tx.selectFrom('audit_log').select(['seq', 'hash']).where('workspace_id', '=', workspaceId).orderBy('seq', 'desc').limit(1).executeTakeFirst(),
  ]);
  const previous = head && (!last || Number(head.seq) >= Number(last.seq)) ? head : last;
  const unhashed: Omit<AuditEntry, 'hash'> = {
    workspaceId,
    seq: previous ? Number(previous.seq) + 1 : 1,
    // Taken under the lock, so time follows seq within one clock.
    at: new Date(),
    actor: storable(input.actor),
    action: storable(input.action),
    // uuid columns read back in lower case; the hash must match what is read.
    profileId: input.profileId ? input.profileId.toLowerCase() : null,
    target: input.target === undefined || input.target === null ? null : storable(input.target),
    details: JSON.parse(canonicalJson(storableDeep(input.details ?? {}))) as Record<string, unknown>,
    prevHash: previous ? Buffer.from(previous.hash) : GENESIS_HASH,
  };
  const entry: AuditEntry = { ...unhashed, hash: entryHash(unhashed) };
  await tx
    .insertInto('audit_log')
    .values({
      workspace_id: entry.workspaceId,
      seq: entry.seq,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      profile_id: entry.profileId,
      target: entry.target,
      details: canonicalJson(entry.details),
      prev_hash: entry.prevHash,
      hash: entry.hash,
    })
    .execute();
  await tx
    .insertInto('audit_heads')
    .values({ workspace_id: workspaceId, seq: entry.seq, hash: entry.hash, updated_at: entry.at })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ seq: entry.seq, hash: entry.hash, updated_at: entry.at }))
    .execute();
  return entry;
}

/**
 * Append one entry. Given a transaction, the entry commits or rolls back with
 * the caller's work (and the workspace's chain stays locked until then); given
 * the database, it runs in a transaction of its own. Throws when the entry
 * cannot be written: the action it records must then fail too.
 */
export async function appendAudit(db: Kysely<Schema>, input: AuditInput): Promise<AuditEntry> {
  if (db.isTransaction) return appendLocked(db, input);
  return db.transaction().execute((tx) => appendLocked(tx, input));
}

async function verifyWorkspace(db: Kysely<Schema>, workspaceId: string): Promise<AuditVerification> {
  // One snapshot for the rows and the head, so appends running meanwhile are not mistaken for tampering.
  return db.transaction().execute(async (tx) => {
    await sql`set transaction isolation level repeatable read, read only`.execute(tx);
    const head = await tx.selectFrom('audit_heads').select(['seq', 'hash']).where('workspace_id', '=', workspaceId).executeTakeFirst();
    let firstBad: AuditVerification['firstBad'];
    let entries = 0;
    let expected = 1;
    let previous: Buffer = GENESIS_HASH;
    for (let after = 0; ; ) {
      const rows = await tx.selectFrom('audit_log').selectAll().where('workspace_id', '=', workspaceId).where('seq', '>', String(after)).orderBy('seq').limit(PAGE).execute();
      for (const row of rows) {
        const entry = fromRow(row);
        entries++;
        // Checked in this order so the reason names the likeliest cause: a gap
        // is a deletion; a bad own hash an edit; a bad link a deletion with the
        // seqs renumbered, a reordering, or an edit whose hash was recomputed.
        if (!firstBad) {
          if (entry.seq !== expected) firstBad = { seq: expected, reason: 'missing' };
          else if (!entryHash(entry).equals(entry.hash)) firstBad = { seq: entry.seq, reason: 'edited' };
          else if (!entry.prevHash.equals(previous)) firstBad = { seq: entry.seq, reason: 'chain' };
        }
        expected = entry.seq + 1;
        previous = entry.hash;
        after = entry.seq;
      }
      if (rows.length < PAGE) break;
    }
    const lastSeq = expected - 1;
    if (!firstBad) {
      if (!head) {
        // Entries without a head: the anchor that shows a truncated tail is gone.
        if (entries > 0) firstBad = { seq: lastSeq, reason: 'chain' };
      } else if (Number(head.seq) > lastSeq) firstBad = { seq: lastSeq + 1, reason: 'missing' };
      else if (Number(head.seq) < lastSeq) firstBad = { seq: Number(head.seq) + 1, reason: 'chain' };
      else if (!Buffer.from(head.hash).equals(previous)) firstBad = { seq: lastSeq, reason: 'edited' };
    }
    return {
      workspaceId,
      ok: firstBad === undefined,
      entries,
      head: head ? { seq: Number(head.seq), hash: Buffer.from(head.hash).toString('hex') } : null,
      ...(firstBad ? { firstBad } : {}),
    };
  });
}

/**
 * Check a workspace's chain (or every workspace's): each entry's hash, each
 * link, no gap in seq, and the recorded head. Reports the first problem only:
 * everything after it is suspect anyway.
 */
export async function verifyAudit(db: Kysely<Schema>, workspaceId: string): Promise<AuditVerification>;
export async function verifyAudit(db: Kysely<Schema>): Promise<AuditVerification[]>;
export async function verifyAudit(db: Kysely<Schema>, workspaceId?: string): Promise<AuditVerification | AuditVerification[]> {
  if (workspaceId !== undefined) return verifyWorkspace(db, workspaceId);
  const rows = await db
    .selectFrom('workspaces')
    .select('id as workspace_id')
    .union(db.selectFrom('audit_log').select('workspace_id'))
    .union(db.selectFrom('audit_heads').select('workspace_id'))
    .orderBy('workspace_id')
    .execute();
  const results: AuditVerification[] = [];
  for (const row of rows) results.push(await verifyWorkspace(db, row.workspace_id));
  return results;
}

/** Entries newest first, filtered; `nextBefore` continues where the page ended (null: no more). */
export async function queryAudit(db: Kysely<Schema>, filters: AuditFilters): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> {
  const limit = filters.limit ?? 100;
  let query = db.selectFrom('audit_log').selectAll().where('workspace_id', '=', filters.workspaceId);
  if (filters.actor !== undefined) query = query.where('actor', '=', filters.actor);
  if (filters.action !== undefined) query = query.where('action', '=', filters.action);
  if (filters.profileId !== undefined) query = query.where('profile_id', '=', filters.profileId.toLowerCase());
  if (filters.from !== undefined) query = query.where('at', '>=', filters.from);
  if (filters.to !== undefined) query = query.where('at', '<', filters.to);
  if (filters.before !== undefined) query = query.where('seq', '<', String(filters.before));
  // One more than asked tells whether another page exists.
  const rows = await query.orderBy('seq', 'desc').limit(limit + 1).execute();
  const entries = rows.slice(0, limit).map(fromRow);
  return { entries, nextBefore: rows.length > limit ? (entries[entries.length - 1]?.seq ?? null) : null };
}
