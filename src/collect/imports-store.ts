import type { Selectable } from 'kysely';
import type { Database } from '../storage/database.js';
import type { ImportTable } from '../storage/schema.js';
import type { ImportReject, ImportSummary } from './import-job.js';
import type { ImportKind } from './import-columns.js';
import type { ImportFormat } from './import-reader.js';

type ImportRowRecord = Omit<Selectable<ImportTable>, 'workspace_id'>;

function toSummary(row: ImportRowRecord, live: ReadonlySet<string>): ImportSummary {
  // A "running" import that no process is running any more was cut off (the process died).
  const status = row.status === 'running' && !live.has(row.id) ? 'interrupted' : (row.status as ImportSummary['status']);
  return {
    id: row.id,
    status,
    source: row.source_id,
    kind: row.kind as ImportKind,
    format: row.format as ImportFormat,
    filename: row.filename,
    encoding: row.encoding,
    rows: row.rows,
    imported: row.imported,
    duplicates: row.duplicates,
    rejected: row.rejected,
    warnings: row.warnings,
    error: status === 'interrupted' ? 'the process running this import stopped before it finished: run the same import again (rows already imported are not duplicated)' : row.error,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

/** Reading imports back: their summaries and reject lists. `live` names the imports running in this process. */
export function createImportsStore(database: Database, live: ReadonlySet<string>) {
  const columns = ['id', 'source_id', 'kind', 'format', 'filename', 'encoding', 'status', 'rows', 'imported', 'duplicates', 'rejected', 'warnings', 'error', 'started_at', 'finished_at'] as const;
  return {
    async get(workspaceId: string, id: string): Promise<ImportSummary | null> {
      const row = await database.db.selectFrom('imports').select(columns).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return row ? toSummary(row, live) : null;
    },
    async recent(workspaceId: string, limit: number): Promise<ImportSummary[]> {
      const rows = await database.db.selectFrom('imports').select(columns).where('workspace_id', '=', workspaceId).orderBy('started_at', 'desc').limit(limit).execute();
      return rows.map((r) => toSummary(r, live));
    },
    async rejects(workspaceId: string, id: string, limit: number, offset: number): Promise<{ total: number; rejects: ImportReject[] }> {
      const [rows, count] = await Promise.all([
        database.db.selectFrom('import_rejects').select(['line', 'column_name', 'reason']).where('workspace_id', '=', workspaceId).where('import_id', '=', id).orderBy('line').orderBy('column_name').limit(limit).offset(offset).execute(),
        database.db.selectFrom('import_rejects').select((eb) => eb.fn.countAll<string>().as('n')).where('workspace_id', '=', workspaceId).where('import_id', '=', id).executeTakeFirstOrThrow(),
      ]);
      return { total: Number(count.n), rejects: rows.map((r) => ({ line: r.line, column: r.column_name, reason: r.reason })) };
    },
  };
}

export type ImportsStore = ReturnType<typeof createImportsStore>;
