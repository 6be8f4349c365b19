import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { IMPORT_KINDS, type ImportKind } from '../collect/import-columns.js';
import { ImportSetupError, runImport, type ImportReject, type ImportSummary } from '../collect/import-job.js';
import { createEventLogWriter } from '../collect/event-log.js';
import { formatFromName, IMPORT_FORMATS, type ImportFormat } from '../collect/import-reader.js';
import { createImportsStore } from '../collect/imports-store.js';
import { sourceNameProblem } from '../collect/sources.js';
import { createTrackingPlans } from '../collect/tracking-plans-store.js';
import { readLock } from '../storage/data-dir-lock.js';
import { processBatch } from '../worker/pipeline.js';
import { CliError, type Config } from './config.js';
import { createProgress } from './progress.js';
import { printCounts, resolveLocally } from './resolve.js';
import { openRuntime } from './runtime.js';

export interface ImportOptions {
  file: string;
  source: string;
  kind: string;
  format?: string;
  map: string[];
  idColumn?: string;
  /** run incremental identity resolution after building the profiles (default true) */
  resolve?: boolean;
}

function check(options: ImportOptions): { kind: ImportKind; format: ImportFormat; overrides: Record<string, string>; size: number } {
  const problem = sourceNameProblem(options.source);
  if (problem) throw new CliError(`--source: ${problem}`);
  if (!(IMPORT_KINDS as readonly string[]).includes(options.kind)) throw new CliError(`--kind ${options.kind}: use one of ${IMPORT_KINDS.join(', ')}`);
  const format = options.format ?? formatFromName(options.file);
  if (!format) throw new CliError(`cannot tell the format of ${options.file} from its name: give --format (${IMPORT_FORMATS.join(', ')})`);
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) throw new CliError(`--format ${format}: use one of ${IMPORT_FORMATS.join(', ')}`);
  const overrides: Record<string, string> = {};
  for (const pair of options.map) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--map ${pair}: write it as column=field`);
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let size: number;
  try {
    size = statSync(options.file).size;
  } catch {
    throw new CliError(`${options.file}: no such file`);
  }
  return { kind: options.kind as ImportKind, format: format as ImportFormat, overrides, size };
}

function writeRejectFile(file: string, rejects: readonly ImportReject[]): string {
  const path = `${file}.rejects.csv`;
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  writeFileSync(path, ['line,column,reason', ...rejects.map((r) => [String(r.line), quote(r.column), quote(r.reason)].join(','))].join('\n') + '\n');
  return path;
}

function report(summary: ImportSummary, rejectFile: string | null): void {
  const lines = [
    `import ${summary.id}: ${summary.status}`,
    `  ${summary.rows.toLocaleString('en')} rows read (${summary.encoding ?? '?'}): ${summary.imported.toLocaleString('en')} imported, ${summary.duplicates.toLocaleString('en')} already there, ${summary.rejected.toLocaleString('en')} rejected`,
    ...summary.warnings.map((w) => `  warning: ${w}`),
  ];
  if (rejectFile) lines.push(`  rejected rows (line, column, reason): ${rejectFile}`);
  if (summary.error) lines.push(`  error: ${summary.error}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * `custodian import FILE --source NAME`: through the running server's API when
 * one holds the data directory, else straight into the database, then the
 * pipeline is run so the rows are in profiles when the command returns.
 */
export async function importFile(config: Config, options: ImportOptions): Promise<void> {
  const { kind, format, overrides, size } = check(options);
  const progress = createProgress(`importing ${basename(options.file)}`, size);
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  let summary: ImportSummary;
  let rejects: ImportReject[];
  if (holder?.url && holder.localToken) {
    let bytes = 0;
    const file = createReadStream(options.file);
    file.on('data', (chunk) => {
      bytes += chunk.length;
      progress.update(0, bytes, 0);
    });
    const query = new URLSearchParams({ source: options.source, kind, format, filename: basename(options.file) });
    for (const [column, field] of Object.entries(overrides)) query.append('map', `${column}=${field}`);
    if (options.idColumn) query.set('idColumn', options.idColumn);
    let response: Response;
    try {
      response = await fetch(`${holder.url}/api/imports?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${holder.localToken}`, 'content-type': 'application/octet-stream' },
        body: Readable.toWeb(file) as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit);
    } catch (error) {
      throw new CliError(`the server holding ${config.dataDir} (${holder.url}) did not answer: ${(error as Error).message}`);
    }
    progress.done();
    const body = (await response.json()) as (ImportSummary & { rejectsTotal: number }) | { message: string };
    if (!response.ok || !('id' in body)) throw new CliError(`the server refused the import: ${'message' in body ? body.message : response.status}`);
    summary = body;
    const all = await fetch(`${holder.url}/api/imports/${summary.id}?limit=100000`, { headers: { authorization: `Bearer ${holder.localToken}` } });
    rejects = ((await all.json()) as { rejects: ImportReject[] }).rejects;
  } else {
    const runtime = await openRuntime(config, 'import');
    try {
      const running = new Set<string>();
      const eventLog = createEventLogWriter(runtime.database, runtime.keyring);
      try {
        summary = await runImport(
          { database: runtime.database, eventLog, junk: runtime.junk, running, trackingPlans: createTrackingPlans(runtime.database) },
          { workspaceId: 'default', source: options.source, kind, format, overrides, ...(options.idColumn ? { idColumn: options.idColumn } : {}), filename: basename(options.file) },
          createReadStream(options.file),
          (p) => progress.update(p.rows, p.bytes, p.rejected),
        );
      } catch (error) {
        if (error instanceof ImportSetupError) throw new CliError(error.message);
        throw error;
      }
      progress.done();
      rejects = (await createImportsStore(runtime.database, running).rejects('default', summary.id, 100_000, 0)).rejects;
      // Run the pipeline now: nothing else will while this command holds the database.
      const pipeline = createProgress('building profiles', summary.imported);
      let done = 0;
      for (let n = (await processBatch(runtime, 500)).processed; n > 0; n = (await processBatch(runtime, 500)).processed) {
        done += n;
        pipeline.update(done, done, 0);
      }
      pipeline.done();
      // New records meet the existing profiles through the blocks: duplicates the file brought in merge now.
      if (options.resolve !== false && summary.imported > 0) printCounts(await resolveLocally(runtime, { full: false, refit: false }));
    } finally {
      await runtime.database.close();
    }
  }
  report(summary, summary.rejected > 0 ? writeRejectFile(options.file, rejects) : null);
  if (summary.status === 'failed') process.exitCode = 1;
}
