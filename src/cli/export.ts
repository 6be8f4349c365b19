import { createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createProfileStore } from '../profiles/store.js';
import { readLock } from '../storage/data-dir-lock.js';
import type { Config } from './config.js';
import { openRuntime } from './runtime.js';

export interface ExportOptions {
  format: 'ndjson';
  output: string | null;
}

/**
 * `custodian export profiles`. While a server holds an embedded data directory,
 * the export goes through its API; otherwise the command opens the database.
 */
export async function exportProfiles(config: Config, options: ExportOptions): Promise<void> {
  const out: Writable = options.output ? createWriteStream(options.output) : process.stdout;
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    const response = await fetch(`${holder.url}/api/profiles/export?format=${options.format}`, { headers: { authorization: `Bearer ${holder.localToken}` } });
    if (!response.ok || !response.body) throw new Error(`the server at ${holder.url} answered ${response.status}: ${await response.text()}`);
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), out);
    return;
  }
  // No live server: open the database ourselves (the lock refuses clearly if another command holds it).
  const runtime = await openRuntime(config, 'export');
  try {
    const store = createProfileStore(runtime.database, runtime.keyring);
    async function* lines() {
      for await (const profile of store.all('default')) yield JSON.stringify(profile) + '\n';
    }
    await pipeline(Readable.from(lines()), out, { end: options.output !== null });
  } finally {
    await runtime.database.close();
  }
}
