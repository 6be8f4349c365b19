import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupError, createSealer, rotateBackups, scheduledBackupName, unseal } from './backup.js';

/* The sealed container and rotation, without a database (test/backup.test.ts has the rest). */

const KEY = Buffer.alloc(32, 3);
const FINAL = Buffer.from('final frame contents');

async function seal(plain: Buffer, key = KEY): Promise<Buffer> {
  const sealer = createSealer(key, () => FINAL);
  const out: Buffer[] = [];
  sealer.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => sealer.on('end', resolve));
  // Uneven writes: frames are cut by size, not by how the input arrives.
  for (let at = 0; at < plain.length; at += 300_001) sealer.write(plain.subarray(at, at + 300_001));
  sealer.end();
  await ended;
  expect(sealer.bytes()).toBe(Buffer.concat(out).length);
  return Buffer.concat(out);
}

async function open(file: Buffer, key = KEY): Promise<{ plain: Buffer; final: Buffer | null }> {
  let final: Buffer | null = null;
  const parts: Buffer[] = [];
  // Fed in small pieces, as a file stream would.
  const pieces = Readable.from((function* () {
    for (let at = 0; at < file.length; at += 65_536) yield file.subarray(at, at + 65_536);
  })());
  for await (const part of unseal(pieces, key, (c) => (final = c))) parts.push(part);
  return { plain: Buffer.concat(parts), final };
}

async function refusal(file: Buffer, key = KEY): Promise<BackupError> {
  const error = await open(file, key).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BackupError);
  return error as BackupError;
}

describe('sealed backup container', () => {
  const plain = randomBytes(2_500_000);

  it('round-trips several frames and hands over the final frame', async () => {
    const file = await seal(plain);
    const opened = await open(file);
    expect(opened.plain.equals(plain)).toBe(true);
    expect(opened.final?.equals(FINAL)).toBe(true);
  });

  it('an empty input still has a final frame', async () => {
    const opened = await open(await seal(Buffer.alloc(0)));
    expect(opened.plain.length).toBe(0);
    expect(opened.final?.equals(FINAL)).toBe(true);
  });

  it('refuses any one changed byte, in the header or in a frame', async () => {
    const file = await seal(plain);
    for (const at of [8, 20, 60, 70, 75, 1_000, Math.floor(file.length / 2), file.length - 1]) {
      const bad = Buffer.from(file);
      bad[at] = bad[at]! ^ 0x40;
      const error = await refusal(bad);
      expect(error.message).toMatch(/another master key or is damaged|truncated|not a Custodian backup|the file is damaged/);
    }
  });

  it('refuses a file cut short anywhere, saying it is truncated', async () => {
    const file = await seal(plain);
    for (const length of [40, 100, 1_048_000, file.length - 60, file.length - 1]) {
      const error = await refusal(file.subarray(0, length));
      expect(error.reason).toBe('truncated');
      expect(error.message).toMatch(/^the backup file is truncated/);
    }
  });

  it('refuses frames swapped or dropped, and bytes after the end', async () => {
    const file = await seal(plain);
    const frames: Buffer[] = [];
    for (let at = 70; at < file.length; ) {
      const length = 5 + file.readUInt32BE(at + 1) + 16;
      frames.push(file.subarray(at, at + length));
      at += length;
    }
    expect(frames.length).toBeGreaterThanOrEqual(4);
    const header = file.subarray(0, 70);
    const swapped = Buffer.concat([header, frames[1]!, frames[0]!, ...frames.slice(2)]);
    expect((await refusal(swapped)).reason).toBe('damaged');
    const dropped = Buffer.concat([header, frames[0]!, ...frames.slice(2)]);
    expect((await refusal(dropped)).reason).toBe('damaged');
    expect((await refusal(Buffer.concat([file, Buffer.from([0])]))).reason).toBe('damaged');
  });

  it('refuses a frame from another backup made with the same key', async () => {
    const [a, b] = [await seal(plain), await seal(plain)];
    const mixed = Buffer.concat([a.subarray(0, 70), b.subarray(70)]);
    expect((await refusal(mixed)).reason).toBe('damaged');
  });

  it('names another master key, a newer format, and a file that is no backup', async () => {
    const file = await seal(plain);
    const wrongKey = await refusal(file, Buffer.alloc(32, 4));
    expect(wrongKey.reason).toBe('wrong-key');
    expect(wrongKey.message).toMatch(/^the backup was made with another master key or is damaged/);
    const newer = Buffer.from(file);
    newer.writeUInt16BE(2, 8);
    const error = await refusal(newer);
    expect(error.reason).toBe('newer-format');
    expect(error.message).toMatch(/format 2, written by a newer Custodian/);
    expect((await refusal(Buffer.from('{"not":"a backup"}\n'))).reason).toBe('not-a-backup');
  });
});

describe('rotateBackups', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-rotate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the newest N scheduled backups and touches nothing else', () => {
    const names = [0, 1, 2, 3, 4].map((day) => scheduledBackupName(new Date(Date.UTC(2026, 10, 20 + day, 3, 0, 0, 7))));
    // Created out of order: age comes from the name, not the file's time.
    for (const name of [...names].reverse()) writeFileSync(join(dir, name), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    writeFileSync(join(dir, 'custodian-manual.backup'), 'keep me');
    expect(rotateBackups(dir, 2)).toEqual(names.slice(0, 3));
    expect(readdirSync(dir).sort()).toEqual([...names.slice(3), 'custodian-manual.backup', 'notes.txt'].sort());
    expect(rotateBackups(dir, 2)).toEqual([]);
    expect(() => rotateBackups(dir, 0)).toThrow(/at least 1/);
  });

  it('names sort by time', () => {
    expect(scheduledBackupName(new Date('2026-11-25T01:02:03.004Z'))).toBe('custodian-20261125T010203004Z.backup');
  });
});
