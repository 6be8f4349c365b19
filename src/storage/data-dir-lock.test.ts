import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirInUseError, lockPath, readLock } from './data-dir-lock.js';

describe('data directory lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodian-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder in the same process, and frees on release', () => {
    const lock = acquireDataDirLock(dir, 'serve');
    expect(() => acquireDataDirLock(dir, 'export')).toThrow(DataDirInUseError);
    lock.release();
    acquireDataDirLock(dir, 'export').release();
  });

  it('takes over the lock of a process that died', () => {
    // A pid that certainly is not running: a child that has already exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lockPath(dir), JSON.stringify({ pid: dead, command: 'serve', startedAt: '' }));
    expect(readLock(dir)).toBeNull();
    const lock = acquireDataDirLock(dir, 'serve');
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('treats a fresh torn lock as held, and an old torn one as stale', () => {
    writeFileSync(lockPath(dir), '{"pid": 12');
    expect(() => acquireDataDirLock(dir, 'serve')).toThrow(/opening it right now/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath(dir), old, old);
    acquireDataDirLock(dir, 'serve').release();
  });

  it('annotates atomically: readers see the URL the holder published', () => {
    const lock = acquireDataDirLock(dir, 'serve');
    lock.annotate({ url: 'http://localhost:1234' });
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8'))).toMatchObject({ pid: process.pid, url: 'http://localhost:1234' });
    lock.release();
  });
});
