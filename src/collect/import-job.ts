import { randomUUID } from 'node:crypto';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { Database } from '../storage/database.js';
import type { EventLogWriter } from './event-log.js';
import { mapColumns, type ColumnMapping, type ImportField, type ImportKind } from './import-columns.js';
import { cleanContextFor } from './cleaning-settings.js';
import { readRows, type ImportFormat } from './import-reader.js';
import { rowToMessage, type ImportRow } from './import-rows.js';
import { validateMessage, type TrackingMessage } from './messages.js';
import { ensureSource } from './sources.js';
import { applyTrackingPlan, type PlanViolation } from './tracking-plan.js';
import type { TrackingPlanEnforcer } from './tracking-plans-store.js';

export interface ImportRequest {
  workspaceId: string;
  source: string;
  kind: ImportKind;
  format: ImportFormat;
  /** --map col=field; an empty field keeps the column custom */
  overrides?: Record<string, string>;
  idColumn?: string;
  filename?: string;
}

export interface ImportReject {
  line: number;
  column: string;
  reason: string;
}

export interface ImportSummary {
  id: string;
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  source: string;
  kind: ImportKind;
  format: ImportFormat;
  filename: string | null;
  encoding: string | null;
  /** data rows read (rejected ones included) */
  rows: number;
  /** rows written to the event log now (durable) */
  imported: number;
  /** rows already in the log (same source, record and content): an earlier import, or a repeat in this file */
  duplicates: number;
  rejected: number;
  warnings: string[];
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface ImportProgress {
  rows: number;
  rejected: number;
  bytes: number;
}

export interface ImportDeps {
  database: Database;
  eventLog: EventLogWriter;
  junk: JunkIdFilter;
  /** ids of the imports this process is running (an import "running" elsewhere was interrupted) */
  running?: Set<string>;
  /** the source's tracking plan applies to imported rows as to API calls */
  trackingPlans?: TrackingPlanEnforcer;
}

const CHUNK = 500;
/** Rejects listed in the database at most; the count goes on beyond it. */
const MAX_STORED_REJECTS = 100_000;

class RowRouter {
  private byHeader = new Map<string, ImportField | null>();
  private headerOfField = new Map<string, string>();
  constructor(
    columns: readonly ColumnMapping[],
    private readonly request: ImportRequest,
  ) {
    for (const c of columns) {
      this.byHeader.set(c.header, c.field);
      if (c.field) this.headerOfField.set(c.field, c.header);
    }
  }
  /** The file's own header for a standard field, so a reject names the column the user sees. */
  headerFor(field: string): string {
    return this.headerOfField.get(field) ?? field;
  }
  private fieldOf(key: string): ImportField | null {
    let field = this.byHeader.get(key);
    if (field === undefined) {
      // JSON rows can bring keys the first row did not have: map them the same way.
      field = mapColumns([key], this.request.kind, {}).columns[0]?.field ?? null;
      this.byHeader.set(key, field);
      if (field && !this.headerOfField.has(field)) this.headerOfField.set(field, key);
    }
    return field;
  }
  route(values: Record<string, unknown>): ImportRow {
    const row: ImportRow = { fields: {}, custom: {} };
    for (const [key, value] of Object.entries(values)) {
      const field = this.fieldOf(key);
      if (field && row.fields[field] === undefined) row.fields[field] = value;
      else row.custom[key] = value;
    }
    return row;
  }
}

/**
 * Stream a file into the event log: every good row becomes a message, every
 * bad one a reject with its line, column and reason; a bad row never stops
 * the import. Counts and rejects are kept in `imports` / `import_rejects`.
 */
export async function runImport(deps: ImportDeps, request: ImportRequest, input: AsyncIterable<Buffer>, onProgress?: (progress: ImportProgress) => void): Promise<ImportSummary> {
  const { database, eventLog, junk } = deps;
  const { workspaceId, source, kind, format } = request;
  await ensureSource(database, workspaceId, source);
  // The pipeline cleans the rows; the import only needs the source's countries
  // and date order to refuse, with their line, rows it could never use.
  const cleaning = await cleanContextFor(database.db, workspaceId, source, new Date());
  const summary: ImportSummary = {
    id: randomUUID(),
    status: 'running',
    source,
    kind,
    format,
    filename: request.filename ?? null,
    encoding: null,
    rows: 0,
    imported: 0,
    duplicates: 0,
    rejected: 0,
    warnings: [],
    error: null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };
  await database.db
    .insertInto('imports')
    .values({ workspace_id: workspaceId, id: summary.id, source_id: source, kind, format, filename: summary.filename, status: 'running', warnings: '[]', started_at: summary.startedAt })
    .execute();
  deps.running?.add(summary.id);

  let bytes = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      bytes += chunk.length;
      yield chunk;
    }
  }

  const plan = deps.trackingPlans ? await deps.trackingPlans.forSource(workspaceId, source) : null;
  let violations: PlanViolation[] = [];
  let droppedByPlan = 0;
  let pending: TrackingMessage[] = [];
  let rejects: Array<ImportReject> = [];
  let storedRejects = 0;
  const flushMessages = async () => {
    if (pending.length === 0) return;
    const outcome = await eventLog.append(workspaceId, source, pending);
    summary.imported += outcome.stored.size;
    summary.duplicates += outcome.duplicates;
    pending = [];
    if (violations.length > 0 && deps.trackingPlans) {
      await deps.trackingPlans.record(workspaceId, source, violations);
      violations = [];
    }
  };
  const flushRejects = async () => {
    const room = Math.max(0, MAX_STORED_REJECTS - storedRejects);
    const batch = rejects.slice(0, room);
    rejects = [];
    if (batch.length === 0) return;
    storedRejects += batch.length;
    await database.db
      .insertInto('import_rejects')
      .values(batch.map((r) => ({ workspace_id: workspaceId, import_id: summary.id, line: r.line, column_name: r.column, reason: r.reason })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  };
  const reject = (line: number, column: string, reason: string) => {
    summary.rejected += 1;
    rejects.push({ line, column, reason });
  };

  let setupError: ImportSetupError | null = null;
  try {
    let router: RowRouter | null = null;
    for await (const item of readRows(counted(), format, (encoding) => (summary.encoding = encoding))) {
      if (item.kind === 'header') {
        const mapping = mapColumns(item.headers, kind, request.overrides, request.idColumn);
        if (mapping.error) throw new ImportSetupError(mapping.error);
        summary.warnings.push(...mapping.warnings);
        router = new RowRouter(mapping.columns, request);
        continue;
      }
      summary.rows += 1;
      if (item.kind === 'bad') {
        reject(item.line, item.column, item.reason);
      } else {
        if (!router) {
          // JSON and NDJSON have no header row: the first object's keys stand in for it.
          const mapping = mapColumns(Object.keys(item.values), kind, request.overrides, request.idColumn);
          if (mapping.error) throw new ImportSetupError(mapping.error);
          summary.warnings.push(...mapping.warnings);
          router = new RowRouter(mapping.columns, request);
        }
        const row = router.route(item.values);
        const built = rowToMessage(kind, source, row, cleaning);
        if (!built.ok) {
          reject(item.line, router.headerFor(built.column), built.reason);
        } else {
          const checked = validateMessage(built.message, { receivedAt: new Date(), type: null, junk, requireUserOrAnonymousId: false });
          if (!checked.ok) reject(item.line, checked.issue.field, checked.issue.message);
          else if (!plan) pending.push(checked.message);
          else {
            const planned = applyTrackingPlan(plan, checked.message);
            violations.push(...planned.violations);
            droppedByPlan += planned.dropped.length;
            if (planned.outcome === 'block') reject(item.line, planned.issue.field, planned.issue.message);
            else pending.push(planned.message);
          }
        }
      }
      if (pending.length >= CHUNK) await flushMessages();
      if (rejects.length >= CHUNK) await flushRejects();
      if (summary.rows % CHUNK === 0) onProgress?.({ rows: summary.rows, rejected: summary.rejected, bytes });
    }
    await flushMessages();
    await flushRejects();
    if (droppedByPlan > 0) summary.warnings.push(`${droppedByPlan} properties not declared in the source's tracking plan were removed`);
    summary.status = 'completed';
  } catch (error) {
    summary.status = 'failed';
    summary.error = error instanceof Error ? error.message : String(error);
    setupError = error instanceof ImportSetupError ? error : null;
    // What was appended before the failure is durable; re-running the import adds only the rest.
    await flushRejects().catch(() => undefined);
  }
  onProgress?.({ rows: summary.rows, rejected: summary.rejected, bytes });
  deps.running?.delete(summary.id);
  summary.finishedAt = new Date().toISOString();
  await database.db
    .updateTable('imports')
    .set({
      status: summary.status,
      encoding: summary.encoding,
      rows: summary.rows,
      imported: summary.imported,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
      warnings: JSON.stringify(summary.warnings),
      error: summary.error,
      finished_at: summary.finishedAt,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', summary.id)
    .execute();
  if (setupError) throw setupError;
  return summary;
}

/** A problem with the request as a whole (a --map naming no column): nothing is imported. */
export class ImportSetupError extends Error {}
