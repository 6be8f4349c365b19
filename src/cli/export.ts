import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { appendAudit } from '../privacy/audit-log.js';
import { createProfileStore } from '../profiles/store.js';
import { readLock } from '../storage/data-dir-lock.js';
import { CliError, type Config } from './config.js';
import { openRuntime } from './runtime.js';

export interface ExportOptions {
  format: 'ndjson';
  output: string | null;
}

/** Lines of the export: from the running server's API, or straight from the database. */
async function exportSource(config: Config, options: ExportOptions): Promise<{ lines: Readable; done(): Promise<void> }> {
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    let response: Response;
    try {
      response = await fetch(`${holder.url}/api/profiles/export?format=${options.format}`, { headers: { authorization: `Bearer ${holder.localToken}` } });
    } catch (error) {
      throw new CliError(`the server holding ${config.dataDir} (${holder.url}, pid ${holder.pid}) did not answer: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) throw new CliError(`the server at ${holder.url} answered ${response.status}: ${await response.text()}`);
    return { lines: Readable.fromWeb(response.body as ReadableStream<Uint8Array>), done: async () => {} };
  }
  // No live server: open the database ourselves (the lock refuses clearly if another command holds it).
  const runtime = await openRuntime(config, 'export');
  // Recorded before the first line is written, as the API does: an export that cannot be recorded does not happen.
  await appendAudit(runtime.database.db, { workspaceId: 'default', actor: 'cli', action: 'profiles.export', details: { format: options.format } }).catch(async (error: unknown) => {
    await runtime.database.close();
    throw error;
  });
  const store = createProfileStore(runtime.database, runtime.keyring);
  async function* lines() {
    for await (const profile of store.all('default')) yield JSON.stringify(profile) + '\n';
  }
  return { lines: Readable.from(lines()), done: () => runtime.database.close() };
}

/**
 * `custodian export profiles`. While a server holds an embedded data directory,
 * the export goes through its API; otherwise the command opens the database.
 * A file output is written aside and renamed when complete: a failed export
 * never leaves a file that looks whole.
 */
export async function exportProfiles(config: Config, options: ExportOptions): Promise<void> {
  const source = await exportSource(config, options);
  try {
    if (!options.output) {
      await pipeline(source.lines, process.stdout as Writable, { end: false });
      return;
    }
    const partial = `${options.output}.partial`;
    try {
      await pipeline(source.lines, createWriteStream(partial));
      renameSync(partial, options.output);
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
  } finally {
    await source.done();
  }
}
