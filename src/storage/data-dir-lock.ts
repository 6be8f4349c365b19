import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
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
    const who = holder.pid === 0 ? 'another process that is opening it right now' : `process ${holder.pid} (custodian ${holder.command}${holder.url ? `, serving ${holder.url}` : ''})`;
    super(
      `data directory ${dataDir} is in use by ${who}. Embedded PostgreSQL (PGlite) lets one process hold a data directory: stop that process, ` +
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

// A lock file that does not parse is being written right now, or its writer was
// killed mid-write; only in the second case, after a while, is it stale.
const TORN_LOCK_GRACE_MS = 10_000;

type LockState = { kind: 'free' } | { kind: 'held'; info: LockInfo } | { kind: 'stale'; pid: number | null };

function inspect(path: string): LockState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { kind: 'free' };
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid !== 'number') return { kind: 'stale', pid: null };
    const alive = info.pid === process.pid ? heldHere.has(path) : processAlive(info.pid);
    return alive ? { kind: 'held', info } : { kind: 'stale', pid: info.pid };
  } catch {
    try {
      if (Date.now() - statSync(path).mtimeMs < TORN_LOCK_GRACE_MS) {
        return { kind: 'held', info: { pid: 0, command: 'starting', startedAt: '' } };
      }
    } catch {
      return { kind: 'free' };
    }
    return { kind: 'stale', pid: null };
  }
}

/** The live holder of a data directory, or null when it is free (or its holder died). */
export function readLock(dataDir: string): LockInfo | null {
  const state = inspect(lockPath(dataDir));
  return state.kind === 'held' && state.info.pid !== process.pid ? state.info : null;
}

/**
 * Move a stale lock out of the way. rename is atomic, so of two processes
 * taking over at once only one moves the file; if what it moved turns out to
 * be a fresh lock (the other won in between), it is put back.
 */
function clearStale(path: string, stalePid: number | null): void {
  const grave = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, grave);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let moved: LockInfo | null = null;
  try {
    moved = JSON.parse(readFileSync(grave, 'utf8')) as LockInfo;
  } catch {
    // torn: it was the stale one
  }
  if (moved && moved.pid !== stalePid && processAlive(moved.pid)) {
    try {
      linkSync(grave, path);
    } catch {
      // a third process locked meanwhile; the live holder's own file is gone
      // either way, and it still holds its open database
    }
  }
  rmSync(grave, { force: true });
}

/**
 * Take the data directory for this process. PGlite itself takes no lock, and two
 * processes writing one directory corrupt it, so every opener goes through here.
 */
export function acquireDataDirLock(dataDir: string, command: string): DataDirLock {
  const path = lockPath(dataDir);
  const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
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
          // Write aside and rename: a reader never sees a half-written lock.
          const next = `${path}.next-${process.pid}`;
          writeFileSync(next, JSON.stringify(info), { mode: 0o600 });
          renameSync(next, path);
        },
        release,
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const state = inspect(path);
      if (state.kind === 'held') throw new DataDirInUseError(dataDir, state.info);
      // Stale: its process is gone (killed, crashed). Take it over.
      if (state.kind === 'stale') clearStale(path, state.pid);
    }
  }
  throw new Error(`could not lock data directory ${dataDir}`);
}
