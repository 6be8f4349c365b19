import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadMasterKey, MasterKeyError } from '../privacy/crypto.js';
import { openKeyring, verifyKeyProvider } from '../privacy/data-keys.js';
import { erasuresOnRecord, reapplyErasures } from '../privacy/dsar.js';
import { localKeyProvider } from '../privacy/key-provider.js';
import { BackupError, restoreBackup, writeBackup, type BackupProgress, type BackupSummary } from '../storage/backup.js';
import { readLock } from '../storage/data-dir-lock.js';
import { createStorage, type Database } from '../storage/database.js';
import { CliError, type Config } from './config.js';

/*
 * `custodian backup FILE` and `custodian restore FILE`. Both open the database
 * themselves: a backup of an embedded database through a running server would
 * hold its only connection for the whole backup anyway, so the server is
 * stopped first (on PostgreSQL both run beside a live server).
 */

/** Commands that open the embedded database themselves, with no way through a running server, stop before the lock would. */
export function refuseBusyDataDir(config: Config, command: string): void {
  if (config.databaseUrl) return;
  const holder = readLock(config.dataDir);
  if (!holder) return;
  const who = holder.pid === 0 ? 'a process that is opening it right now' : `process ${holder.pid} (custodian ${holder.command}${holder.url ? `, serving ${holder.url}` : ''})`;
  throw new CliError(
    `${command} opens the embedded database itself, and data directory ${config.dataDir} is held by ${who}: stop that process, run ${command}, then start it again`,
  );
}

async function open(config: Config, command: 'backup' | 'restore'): Promise<Database> {
  return createStorage(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl, poolSize: 2 } : { kind: 'pglite', dataDir: config.dataDir, command });
}

/** A progress line on a terminal (rewritten in place); nothing in between when stderr is a log. */
function progressReporter(stream: NodeJS.WriteStream = process.stderr) {
  let last = 0;
  let shown = false;
  return {
    update(p: BackupProgress) {
      if (!stream.isTTY || Date.now() - last < 200) return;
      last = Date.now();
      shown = true;
      const total = p.totalRows ? ` of ${p.totalRows.toLocaleString('en')}` : '';
      stream.write(`\r${p.phase}: ${p.rows.toLocaleString('en')}${total} rows, table ${p.table} (${p.tableRows.toLocaleString('en')})\u001b[K`);
    },
    done() {
      if (shown) stream.write('\r\u001b[K');
      shown = false;
    },
  };
}

function describe(summary: BackupSummary): string {
  return `${summary.tables.length} tables, ${summary.rows.toLocaleString('en')} rows`;
}

function asCliError(error: unknown): unknown {
  return error instanceof BackupError ? new CliError(error.message) : error;
}

/** `custodian backup FILE`: a consistent, encrypted, checksummed snapshot of every table. */
export async function backupCommand(config: Config, file: string): Promise<void> {
  const target = resolve(file);
  if (!existsSync(dirname(target)) || !statSync(dirname(target)).isDirectory()) throw new CliError(`backup: directory ${dirname(target)} does not exist`);
  refuseBusyDataDir(config, 'backup');
  if (!config.databaseUrl && !existsSync(join(config.dataDir, 'pgdata'))) throw new CliError(`backup: there is no database in ${config.dataDir} to back up`);
  const givenKey = config.masterKey ? loadMasterKey(config.dataDir, config.masterKey) : null;
  const database = await open(config, 'backup');
  const progress = progressReporter();
  try {
    const master = givenKey ?? loadMasterKey(config.dataDir, undefined, false);
    const masterKey = master.key;
    // A backup sealed with a key other than the one that wraps the database's keys could not be opened and restored with one key.
    await verifyKeyProvider(database, localKeyProvider(masterKey, master.path ?? 'CUSTODIAN_MASTER_KEY'));
    const started = Date.now();
    const summary = await writeBackup(database, target, { masterKey, onProgress: (p) => progress.update(p) });
    progress.done();
    process.stderr.write(`backup: ${describe(summary)}, ${(summary.bytes / 1024).toFixed(0)} KiB in ${((Date.now() - started) / 1000).toFixed(1)} s → ${target}\n`);
  } catch (error) {
    progress.done();
    throw asCliError(error);
  } finally {
    await database.close();
  }
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `custodian restore FILE [--yes]`: verify the whole backup, then replace every table's rows with it. */
export async function restoreCommand(config: Config, file: string, options: { yes: boolean }): Promise<void> {
  const source = resolve(file);
  if (!existsSync(source)) throw new CliError(`restore: ${source} does not exist`);
  // Refused before anything is opened: a job without a terminal cannot be asked.
  if (!options.yes && !process.stdin.isTTY) {
    throw new CliError('restore replaces every row of the database with the backup\'s: add --yes to confirm (stdin is not a terminal, so it cannot ask)');
  }
  refuseBusyDataDir(config, 'restore');
  let masterKey: Buffer;
  try {
    masterKey = loadMasterKey(config.dataDir, config.masterKey, false).key;
  } catch (error) {
    if (!(error instanceof MasterKeyError) || config.masterKey) throw error;
    throw new CliError(`restore needs the master key the backup was made with: set CUSTODIAN_MASTER_KEY or put its master.key in ${config.dataDir}`);
  }
  const database = await open(config, 'restore');
  const progress = progressReporter();
  const where = config.databaseUrl ? 'the PostgreSQL database' : `the database in ${config.dataDir}`;
  try {
    const started = Date.now();
    // Erasures are kept across the restore: an older backup must not bring erased people back.
    const erasures = await erasuresOnRecord(database.db);
    const summary = await restoreBackup(database, source, {
      masterKey,
      onProgress: (p) => progress.update(p),
      confirm: async (verified) => {
        progress.done();
        process.stderr.write(`restore: ${source} is intact: ${describe(verified)}, made ${verified.createdAt}\n`);
        return options.yes || ask(`replace every row of ${where} with it? [y/N] `);
      },
    });
    progress.done();
    if (summary === null) {
      process.stderr.write('restore: nothing changed\n');
      return;
    }
    process.stderr.write(`restore: ${describe(summary)} restored into ${where} and checked, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    // The restored keys are wrapped by the master key the backup was made with: the one given here.
    const keyring = await openKeyring(database, localKeyProvider(masterKey, config.masterKey ? 'CUSTODIAN_MASTER_KEY' : join(config.dataDir, 'master.key')));
    let erasedAgain: number;
    try {
      erasedAgain = await reapplyErasures(database, keyring, erasures);
    } finally {
      await keyring.close();
    }
    if (erasedAgain > 0) process.stderr.write(`restore: ${erasedAgain} ${erasedAgain === 1 ? 'person' : 'people'} erased since the backup erased again\n`);
  } catch (error) {
    progress.done();
    throw asCliError(error);
  } finally {
    await database.close();
  }
}
