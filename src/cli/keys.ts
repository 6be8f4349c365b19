import { randomBytes } from 'node:crypto';
import { chmodSync, constants, copyFileSync, existsSync, fsyncSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { KeyringError, MasterKeyError, parseMasterKey } from '../privacy/crypto.js';
import { ACTIVATION_DELAY_MS, keyStatus, rotateDataKeys, rotateMasterKey, verifyKeyProvider, type KeyStatus } from '../privacy/data-keys.js';
import { localKeyProvider } from '../privacy/key-provider.js';
import { DESTROY_AFTER_MS, readUnreadable, reencryptRetired } from '../privacy/reencrypt.js';
import { refuseBusyDataDir } from './backup.js';
import { CliError, type Config } from './config.js';
import { openRuntime, type Runtime } from './runtime.js';

/*
 * `custodian keys status | rotate | reencrypt` (docs/keys.md). They open the
 * database themselves: on the embedded database the server is stopped first;
 * on PostgreSQL they run beside live servers and workers, which pick new keys
 * up within a minute.
 */

export interface KeysOptions {
  workspace?: string;
  master?: string;
  format: 'table' | 'json';
}

const MASTER_KEY_ENV = 'CUSTODIAN_MASTER_KEY';

async function withRuntime<T>(config: Config, command: string, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  refuseBusyDataDir(config, `keys ${command}`);
  const runtime = await openRuntime(config, `keys ${command}`);
  try {
    return await work(runtime);
  } catch (error) {
    throw error instanceof KeyringError ? new CliError(`keys ${command}: ${error.message}`) : error;
  } finally {
    await runtime.database.close();
  }
}

function masterOrigin(config: Config): string {
  return config.masterKey ? MASTER_KEY_ENV : join(config.dataDir, 'master.key');
}

const when = (d: Date | null): string => (d === null ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

function describeState(k: KeyStatus): string {
  if (k.purpose === 'index') return 'in use (blind indexes, signed links; kept)';
  if (k.state === 'pending') return `active from ${when(k.activeFrom)}`;
  if (k.state === 'retired') return `retired ${when(k.retiredAt)}`;
  if (k.state === 'destroyed') return `destroyed ${when(k.destroyedAt)}`;
  return k.retiredAt ? `active until ${when(k.retiredAt)}` : 'active';
}

/** `custodian keys status`: every key, its state, and how many rows it still seals. */
export async function keysStatusCommand(config: Config, options: KeysOptions): Promise<void> {
  await withRuntime(config, 'status', async (runtime) => {
    const status = await keyStatus(runtime.database);
    const unreadable = await readUnreadable(runtime.database);
    if (options.format === 'json') {
      process.stdout.write(JSON.stringify({ ...status, unreadable }, null, 2) + '\n');
      return;
    }
    const rows = status.keys.map((k) => [
      String(k.keyId),
      k.workspaceId ?? '(database)',
      k.purpose,
      describeState(k),
      k.purpose === 'index' ? '–' : k.rows.toLocaleString('en'),
    ]);
    const head = ['key', 'workspace', 'purpose', 'state', 'rows'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
    const out = [line(head), ...rows.map(line)];
    const wrappers = [...new Set(status.keys.filter((k) => k.state !== 'destroyed').map((k) => k.wrappedBy))];
    out.push('', `wrapped by ${wrappers.join(', ')}`);
    const retired = status.keys.filter((k) => k.state === 'retired');
    const waiting = retired.reduce((n, k) => n + k.rows, 0);
    if (retired.length > 0) {
      out.push(
        `${waiting.toLocaleString('en')} rows still under retired keys: the worker re-encrypts them in the background and destroys each key ` +
          `once it holds none (${DESTROY_AFTER_MS / 60_000} minutes after its retirement at the earliest); \`custodian keys reencrypt\` does it now`,
      );
    }
    for (const [id, columns] of Object.entries(status.unknownRows)) {
      out.push(`warning: ${Object.values(columns).reduce((n, c) => n + c, 0)} rows name key ${id}, which data_keys does not have (${Object.keys(columns).join(', ')}): they cannot be decrypted`);
    }
    if (unreadable && unreadable.count > 0) {
      const byKey = new Map<string, number>();
      for (const r of unreadable.rows) byKey.set(String(r.keyId), (byKey.get(String(r.keyId)) ?? 0) + 1);
      out.push(
        `warning: ${unreadable.count} rows under retired keys do not open (re-encryption run of ${unreadable.at}); ` +
          `they are left as they are, and their keys (${[...byKey.keys()].join(', ')}) are kept until they are repaired, restored or deleted:`,
      );
      for (const r of unreadable.rows) out.push(`  ${r.table}.${r.column} ${JSON.stringify(r.key)} key ${r.keyId ?? '?'}: ${r.reason}`);
      if (unreadable.count > unreadable.rows.length) out.push(`  … and ${unreadable.count - unreadable.rows.length} more`);
    }
    process.stdout.write(out.join('\n') + '\n');
  });
}

/** `custodian keys rotate [--workspace ID]`: new data keys; the ones they replace are retired and emptied in the background. */
export async function keysRotateCommand(config: Config, options: KeysOptions): Promise<void> {
  if (options.master !== undefined) return rotateMaster(config, options.master);
  await withRuntime(config, 'rotate', async (runtime) => {
    // On PostgreSQL other processes hold the keys in memory: new keys seal only once every one has loaded them.
    const activateAfterMs = runtime.database.kind === 'postgres' ? ACTIVATION_DELAY_MS : 0;
    const provider = localKeyProvider(runtime.masterKey, masterOrigin(config));
    const rotation = await rotateDataKeys(runtime.database, provider, { ...(options.workspace !== undefined ? { workspaceId: options.workspace } : {}), activateAfterMs, actor: 'cli' });
    const made = rotation.keys.map((k) => `${k.keyId} (${k.workspaceId ?? 'database'})`).join(', ');
    const retired = rotation.keys.flatMap((k) => k.retired);
    const from = activateAfterMs === 0 ? 'from now' : `from ${when(rotation.activeFrom)} (in ${activateAfterMs / 1000} s, once every running process has loaded them)`;
    process.stderr.write(`keys rotate: new data keys ${made} seal new data ${from}\n`);
    if (retired.length > 0) {
      process.stderr.write(
        `keys rotate: retired ${retired.join(', ')}: they still open their rows, which the worker re-encrypts in the background; ` +
          '`custodian keys status` shows what is left, `custodian keys reencrypt` does it now\n',
      );
    }
  });
}

/** Write a key file the way master.key is written: mode 0600, synced, never over an existing file. */
function writeKeyFile(path: string, key: Buffer): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('base64') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Make a rename (or a new file) in `dir` durable: the directory entry itself is synced. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A retired copy of master.key already in the data directory holding exactly this key, if a run before made one. */
function retiredCopyOf(keyFile: string, text: string): string | null {
  const dir = dirname(keyFile);
  const prefix = `${basename(keyFile)}.retired-`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dir, name);
    if (readFileSync(path, 'utf8') === text) return path;
  }
  return null;
}

/**
 * `custodian keys rotate --master FILE`: every key re-wrapped under the master
 * key in FILE (made when FILE does not exist), in one transaction. When the
 * current key is the data directory's master.key, FILE's key takes its place
 * and the old one is kept beside it for the backups it sealed.
 *
 * Order, so that no crash leaves the database without its key on disk: the
 * incoming key file and the retired copy of the old one are written and synced
 * first; then the database is re-wrapped (one transaction); then one atomic
 * rename puts the new key in place, and the directory is synced. A run that
 * stopped after the commit and before the rename is completed by running the
 * same command again: the database is then wrapped by FILE's key, and only the
 * files are swapped.
 */
async function rotateMaster(config: Config, file: string): Promise<void> {
  const target = resolve(file);
  let made = false;
  if (!existsSync(target)) {
    try {
      writeKeyFile(target, randomBytes(32));
      fsyncDir(dirname(target));
    } catch (error) {
      throw new CliError(`keys rotate --master: cannot write a new key to ${target}: ${(error as Error).message}`);
    }
    made = true;
  }
  const next = parseMasterKey(readFileSync(target, 'utf8'), target);
  const keyFile = join(config.dataDir, 'master.key');
  // The files are swapped only when the current key is master.key (not CUSTODIAN_MASTER_KEY) and FILE is not master.key itself.
  const swapFiles = !config.masterKey && resolve(keyFile) !== target;
  refuseBusyDataDir(config, 'keys rotate');

  let runtime: Runtime;
  try {
    runtime = await openRuntime(config, 'keys rotate');
  } catch (error) {
    if (!(error instanceof MasterKeyError)) throw error;
    // Refused with the current key: perhaps a run before re-wrapped everything under FILE's key and stopped short of the swap.
    const finished = await openRuntime({ ...config, masterKey: next.toString('base64') }, 'keys rotate').catch(() => null);
    if (!finished) throw error;
    try {
      const to = localKeyProvider(next, target);
      await verifyKeyProvider(finished.database, to);
      process.stderr.write(`keys rotate --master: the database is already wrapped by ${to.keyId} (${target}): a run before stopped after re-wrapping; completing it\n`);
    } finally {
      await finished.database.close();
    }
    if (!swapFiles) {
      process.stderr.write(`keys rotate --master: set ${MASTER_KEY_ENV} to the key in ${target} for every server, worker and command from now on\n`);
      return;
    }
    const oldText = readFileSync(keyFile, 'utf8');
    const kept = retiredCopyOf(keyFile, oldText) ?? writeRetiredCopy(keyFile);
    const incoming = writeIncoming(keyFile, next);
    renameSync(incoming, keyFile);
    fsyncDir(dirname(keyFile));
    reportSwap(keyFile, kept);
    return;
  }

  try {
    const from = localKeyProvider(runtime.masterKey, masterOrigin(config));
    const to = localKeyProvider(next, target);
    // Both files exist and are synced before the database changes: after the commit only a rename is left.
    let kept: string | null = null;
    let keptIsNew = false;
    let incoming: string | null = null;
    if (swapFiles) {
      kept = retiredCopyOf(keyFile, readFileSync(keyFile, 'utf8'));
      if (!kept) {
        kept = writeRetiredCopy(keyFile);
        keptIsNew = true;
      }
      incoming = writeIncoming(keyFile, next);
    }
    let rewrapped: number;
    try {
      ({ rewrapped } = await rotateMasterKey(runtime.database, from, to, { actor: 'cli' }));
    } catch (error) {
      // Nothing changed in the database: master.key still holds the key in use; the files made for the swap go.
      if (incoming) rmSync(incoming, { force: true });
      if (kept && keptIsNew) rmSync(kept, { force: true });
      throw error instanceof KeyringError ? new CliError(`keys rotate: ${error.message}`) : error;
    }
    process.stderr.write(`keys rotate --master: ${rewrapped} keys re-wrapped under ${to.keyId} (${target}${made ? ', made now' : ''}); the database no longer opens with ${from.keyId}\n`);
    if (config.masterKey) {
      process.stderr.write(
        `keys rotate --master: set ${MASTER_KEY_ENV} to the key in ${target} for every server, worker and command from now on. ` +
          'The old key opens only backups made before now: keep it with them, offline, until they expire\n',
      );
      return;
    }
    if (!incoming || !kept) return;
    // master.key holds a working key at every step: the old one until the rename, the new one after it.
    renameSync(incoming, keyFile);
    fsyncDir(dirname(keyFile));
    reportSwap(keyFile, kept);
  } finally {
    await runtime.database.close();
  }
}

/** A copy of master.key beside it under a name no other run takes (time and random suffix), synced. */
function writeRetiredCopy(keyFile: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const kept = `${keyFile}.retired-${stamp}-${randomBytes(4).toString('hex')}`;
  copyFileSync(keyFile, kept, constants.COPYFILE_EXCL);
  chmodSync(kept, 0o600);
  const fd = openSync(kept, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dirname(keyFile));
  return kept;
}

/** The new key beside master.key, synced, ready to be renamed over it. */
function writeIncoming(keyFile: string, key: Buffer): string {
  const incoming = `${keyFile}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeKeyFile(incoming, key);
  fsyncDir(dirname(keyFile));
  return incoming;
}

function reportSwap(keyFile: string, kept: string): void {
  process.stderr.write(
    `keys rotate --master: ${keyFile} now holds the new key. The old one is in ${kept}: backups made before now are sealed with it, ` +
      'so keep it with them, offline, and delete it when they expire. Restart every server and worker with the new key\n',
  );
}

/** `custodian keys reencrypt`: what the worker does in the background, now, with progress; Ctrl-C stops after the current batch. */
export async function keysReencryptCommand(config: Config): Promise<void> {
  await withRuntime(config, 'reencrypt', async (runtime) => {
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    const tty = process.stderr.isTTY === true;
    let last = 0;
    try {
      const result = await reencryptRetired(runtime.database, runtime.keyring, {
        signal: stop.signal,
        actor: 'cli',
        // Embedded, this process alone holds the database: nothing else can still be sealing under a retired key.
        ...(runtime.database.kind === 'pglite' ? { destroyAfterMs: 0 } : {}),
        onProgress(p) {
          if (!tty || Date.now() - last < 200) return;
          last = Date.now();
          process.stderr.write(`\rkeys reencrypt: ${p.total.toLocaleString('en')} rows, now ${p.column} (${p.rewritten.toLocaleString('en')})\u001b[K`);
        },
      });
      if (tty) process.stderr.write('\r\u001b[K');
      const parts = [`${result.rewritten.toLocaleString('en')} rows re-encrypted`];
      if (result.unreadable.length > 0) {
        parts.push(`${result.unreadable.length} rows do not open and were left as they were (keys ${[...new Set(result.unreadable.map((r) => r.keyId))].join(', ')} kept; \`custodian keys status\` lists them)`);
      }
      if (result.destroyed.length > 0) parts.push(`keys ${result.destroyed.join(', ')} destroyed`);
      if (result.remaining.length > 0) {
        parts.push(
          result.stopped
            ? `stopped: keys ${result.remaining.join(', ')} still hold rows; run it again to go on`
            : `keys ${result.remaining.join(', ')} kept: rows written or locked meanwhile, or retired less than ${DESTROY_AFTER_MS / 60_000} minutes ago`,
        );
      }
      if (result.rewritten === 0 && result.destroyed.length === 0 && result.remaining.length === 0) parts.push('no retired keys');
      process.stderr.write(`keys reencrypt: ${parts.join('; ')}\n`);
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}
