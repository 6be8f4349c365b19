import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** What the holder of a data directory tells other processes about itself. */
export interface LockInfo {
  pid: number;
  command: string;
  startedAt: string;
  /** set by `serve` once it listens: CLI commands then go through this API */
  url?: string;
  /** a token the holding server accepts for local CLI calls, valid while it runs */
  localToken?: string;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `data directory ${dataDir} is in use by process ${holder.pid} (custodian ${holder.command}` +
        (holder.url ? `, serving ${holder.url}` : '') +
        `). Embedded PostgreSQL (PGlite) lets one process hold a data directory: stop that process, ` +
        `or use --data to choose another directory.`,
    );
  }
}

export interface DataDirLock {
  readonly path: string;
  readonly info: LockInfo;
  /** rewrite the lock with extra facts (the server URL) */
  annotate(extra: Partial<LockInfo>): void;
  release(): void;
}

const LOCK_FILE = 'custodian.lock';

// Directories this process holds: a lock file naming our own pid is ours only if
// listed here (after a container restart, a stale lock can carry our pid).
const heldHere = new Set<string>();

export function lockPath(dataDir: string): string {
  return join(dataDir, LOCK_FILE);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of a data directory, or null when it is free (or its holder died). */
export function readLock(dataDir: string): LockInfo | null {
  let text: string;
  try {
    text = readFileSync(lockPath(dataDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid === 'number' && info.pid !== process.pid && processAlive(info.pid)) return info;
  } catch {
    // A torn lock file (holder killed while writing) is as good as no lock.
  }
  return null;
}

/**
 * Take the data directory for this process. PGlite itself takes no lock, and two
 * processes writing one directory corrupt it, so every opener goes through here.
 */
export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  const path = lockPath(dataDir);
  if (heldHere.has(path)) {
    throw new DataDirInUseError(dataDir, JSON.parse(readFileSync(path, 'utf8')) as LockInfo);
  }
  const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      heldHere.add(path);
      let released = false;
      const onExit = () => release();
      const release = () => {
        if (released) return;
        released = true;
        heldHere.delete(path);
        process.off('exit', onExit);
        try {
          const current = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
          if (current.pid === process.pid) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
      process.on('exit', onExit);
      return {
        path,
        info,
        annotate(extra) {
          Object.assign(info, extra);
          writeFileSync(path, JSON.stringify(info), { mode: 0o600 });
        },
        release,
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(dataDir);
      if (holder) throw new DataDirInUseError(dataDir, holder);
      // Stale: its process is gone (killed, crashed). Take it over.
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock data directory ${dataDir}`);
}
