import { CompiledQuery } from 'kysely';
import type { Keyring } from '../privacy/crypto.js';
import { encodeCopyBinary } from '../storage/copy-binary.js';
import type { Database } from '../storage/database.js';
import type { TrackingMessage } from './messages.js';

export interface AppendOutcome {
  /** messageIds written now */
  stored: Set<string>;
  /** messages not written: already in the log (a retry), or repeated within this append */
  duplicates: number;
}

interface LogRow {
  workspaceId: string;
  messageId: string;
  sourceId: string;
  type: string;
  payload: Buffer;
  receivedAt: string;
}

interface Pending {
  rows: LogRow[];
  /** per row: written now */
  resolve(written: boolean[]): void;
  reject(error: unknown): void;
}

/** Rows written together at most: bounds one statement's size and one group's latency. */
const MAX_GROUP_ROWS = 5000;
/** Concurrent group writes on PostgreSQL (each takes a pooled connection). */
const WRITERS_ON_SERVER = 4;

export interface EventLogWriter {
  /**
   * Write validated messages to the durable event log. When the promise
   * resolves they are committed: this is what a 2xx promises. The whole
   * message is encrypted: it carries identifiers.
   */
  append(workspaceId: string, sourceId: string, messages: readonly TrackingMessage[]): Promise<AppendOutcome>;
}

/**
 * Group commit: requests that arrive while a write is in progress are written
 * together by the next one, in one transaction. Nothing waits on a timer, so
 * a lone request is written at once; under load, statements and commits are
 * shared by many requests.
 */
export function createEventLogWriter(database: Database, keyring: Keyring): EventLogWriter {
  const queue: Pending[] = [];
  // The embedded engine runs one statement at a time anyway; a server runs
  // several at once, and its own WAL group commit shares the flushes.
  const maxWriters = database.pglite ? 1 : WRITERS_ON_SERVER;
  let writers = 0;
  const write = database.pglite ? copyIntoPglite(database) : insertIntoPostgres(database);

  async function drain(): Promise<void> {
    writers += 1;
    try {
      while (queue.length > 0) {
        const group: Pending[] = [];
        let rows = 0;
        while (queue.length > 0 && (group.length === 0 || rows + queue[0]!.rows.length <= MAX_GROUP_ROWS)) {
          const next = queue.shift()!;
          group.push(next);
          rows += next.rows.length;
        }
        try {
          const stored = await write(group.flatMap((p) => p.rows));
          // A messageId twice in one group is stored for the first request only.
          for (const pending of group) pending.resolve(pending.rows.map((row) => stored.delete(keyOf(row.workspaceId, row.messageId))));
        } catch (error) {
          for (const pending of group) pending.reject(error);
        }
      }
    } finally {
      writers -= 1;
    }
  }

  return {
    async append(workspaceId, sourceId, messages) {
      if (messages.length === 0) return { stored: new Set(), duplicates: 0 };
      const rows = messages.map((m) => ({ workspaceId, messageId: m.messageId, sourceId, type: m.type, payload: keyring.encryptJson(workspaceId, m), receivedAt: m.receivedAt }));
      const written = await new Promise<boolean[]>((resolve, reject) => {
        queue.push({ rows, resolve, reject });
        if (writers < maxWriters) void drain();
      });
      const stored = new Set(messages.filter((_, i) => written[i]).map((m) => m.messageId));
      return { stored, duplicates: messages.length - stored.size };
    },
  };
}

type GroupWrite = (rows: LogRow[]) => Promise<Set<string>>;

const keyOf = (workspaceId: string, messageId: string) => `${workspaceId}\u0000${messageId}`;

/**
 * Embedded engine: one exclusive transaction finds which messageIds are new,
 * then COPYs them in. Nothing else can write in between (PGlite runs one
 * transaction at a time), so no duplicate can slip past the check.
 */
function copyIntoPglite(database: Database): GroupWrite {
  const pglite = database.pglite!;
  return (rows) =>
    pglite.transaction(async (tx) => {
      const existing = new Set<string>();
      for (const workspaceId of new Set(rows.map((r) => r.workspaceId))) {
        const ids = rows.filter((r) => r.workspaceId === workspaceId).map((r) => r.messageId);
        const found = await tx.query<{ message_id: string }>('select message_id from event_log where workspace_id = $1 and message_id = any($2::text[])', [workspaceId, ids]);
        for (const row of found.rows) existing.add(keyOf(workspaceId, row.message_id));
      }
      const fresh: LogRow[] = [];
      const stored = new Set<string>();
      for (const row of rows) {
        const key = keyOf(row.workspaceId, row.messageId);
        if (existing.has(key) || stored.has(key)) continue;
        stored.add(key);
        fresh.push(row);
      }
      if (fresh.length > 0) {
        const blob = new Blob([encodeCopyBinary(fresh.map((r) => [r.workspaceId, r.messageId, r.sourceId, r.type, r.payload, new Date(r.receivedAt)]))]);
        await tx.query(`copy event_log (workspace_id, message_id, source_id, type, payload, received_at) from '/dev/blob' with (format binary)`, [], { blob });
      }
      return stored;
    });
}

/** PostgreSQL: one INSERT … ON CONFLICT DO NOTHING per group: one statement and one commit for many requests. */
function insertIntoPostgres(database: Database): GroupWrite {
  return async (rows) => {
    const params: unknown[] = [];
    for (const r of rows) params.push(r.workspaceId, r.messageId, r.sourceId, r.type, r.payload, r.receivedAt);
    const result = await database.db.executeQuery<{ workspace_id: string; message_id: string }>(CompiledQuery.raw(insertSql(rows.length), params));
    return new Set(result.rows.map((r) => keyOf(r.workspace_id, r.message_id)));
  };
}

const COLUMNS = ['workspace_id', 'message_id', 'source_id', 'type', 'payload', 'received_at'] as const;
const sqlByRows = new Map<number, string>();

// Statement text per row count, cached: parameters bound as plain values are
// cheaper for the driver than arrays of bytea.
function insertSql(rows: number): string {
  let text = sqlByRows.get(rows);
  if (!text) {
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) tuples.push(`(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`);
    text = `insert into event_log (${COLUMNS.join(', ')}) values ${tuples.join(', ')} on conflict (workspace_id, message_id) do nothing returning workspace_id, message_id`;
    // Bounded: groups come in a few common sizes, but many are possible.
    if (sqlByRows.size >= 64) sqlByRows.delete(sqlByRows.keys().next().value!);
    sqlByRows.set(rows, text);
  }
  return text;
}
