import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { DeliveryResult, DestinationAdapter, MembershipEvent, OutgoingMessage } from '../adapter.js';
import type { FileConfig } from '../destinations.js';

/*
 * File destination: what leaves is appended to files in a folder, and made
 * durable (fsync) before the caller hears "ok", so a message is never marked
 * sent while it could still be lost in a page cache.
 *   messages        <dir>/<campaignId>.ndjson, one JSON object a line
 *   ads audiences   <dir>/<campaignId>-audience.csv: email_sha256,phone_sha256
 *   segment changes <dir>/segment-<segmentId>-changes.ndjson
 *   member exports  <dir>/<name>-<UTC time>.<ndjson|csv>, written aside and renamed when complete
 */

/**
 * One CSV cell: RFC 4180 quoting, objects as JSON, and a leading =, +, - or @
 * prefixed with an apostrophe so a spreadsheet does not run it as a formula
 * (the rule the other CSV exports of the project follow).
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Member rows, optionally with their columns named up front: a CSV export of
 * an empty segment still gets its header row.
 */
export type ExportRows = AsyncIterable<Record<string, unknown>> & { columns?: readonly string[] };

// File names come from ids and names we were given: keep them to one safe path segment.
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 150) || '_';
}

/** 2026-11-25T05:15:00.123Z as 20261125T051500123Z: sortable, and legal in every file system. */
function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace('.', '');
}

const FLUSH_BYTES = 256 * 1024;

async function append(file: string, text: string, header?: string): Promise<void> {
  const handle = await open(file, 'a');
  try {
    const fresh = header !== undefined && (await handle.stat()).size === 0;
    await handle.write(fresh ? header + text : text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Make a rename durable: the directory entry is data too. Not every platform can open a directory; that is fine. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** `root` is the workspace's folder of the activation directory; the destination's directory resolves below it. */
export function openFileAdapter(config: FileConfig, root: string): DestinationAdapter {
  const dir = path.resolve(root, config.directory);
  // Validation refuses `..` and absolute paths; this holds even for a row written some other way.
  if (dir !== root && !dir.startsWith(root + path.sep)) throw new Error(`file destination directory ${config.directory} is outside the activation directory`);
  let made: Promise<unknown> | null = null;
  const ready = () => (made ??= mkdir(dir, { recursive: true }).catch((error: unknown) => {
    made = null;
    throw error;
  }));
  // One write at a time per adapter: the audience header check and append must not interleave.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };

  return {
    kind: 'file',

    deliver(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<DeliveryResult[]> {
      return serial(async () => {
        if (signal?.aborted) return messages.map(() => ({ ok: false, retryable: true, error: 'aborted before writing' }));
        const files = new Map<string, { text: string; header?: string; indexes: number[] }>();
        messages.forEach((m, i) => {
          const ads = m.channel === 'ads';
          const file = path.join(dir, ads ? `${safeName(m.campaignId)}-audience.csv` : `${safeName(m.campaignId)}.ndjson`);
          let entry = files.get(file);
          if (!entry) files.set(file, (entry = { text: '', ...(ads ? { header: 'email_sha256,phone_sha256\r\n' } : {}), indexes: [] }));
          entry.text += ads ? `${csvCell(m.hashed?.email)},${csvCell(m.hashed?.phone)}\r\n` : `${JSON.stringify(m)}\n`;
          entry.indexes.push(i);
        });
        const results = new Array<DeliveryResult>(messages.length);
        try {
          await ready();
        } catch (error) {
          return messages.map(() => ({ ok: false, retryable: true, error: `cannot make ${dir}: ${(error as Error).message}` }));
        }
        for (const [file, entry] of files) {
          let result: DeliveryResult = { ok: true, retryable: false };
          try {
            await append(file, entry.text, entry.header);
          } catch (error) {
            // A full disk or a permission gets better once someone fixes it: retry rather than give up on the people.
            result = { ok: false, retryable: true, error: `cannot write ${path.basename(file)}: ${(error as Error).message}` };
          }
          for (const i of entry.indexes) results[i] = result;
        }
        return results;
      });
    },

    publish(events: readonly MembershipEvent[]): Promise<void> {
      return serial(async () => {
        if (events.length === 0) return;
        await ready();
        const bySegment = new Map<string, string>();
        for (const e of events) bySegment.set(e.segmentId, (bySegment.get(e.segmentId) ?? '') + `${JSON.stringify(e)}\n`);
        for (const [segmentId, text] of bySegment) await append(path.join(dir, `segment-${safeName(segmentId)}-changes.ndjson`), text);
      });
    },

    async exportMembers(name: string, format: 'ndjson' | 'csv', rows: ExportRows, signal?: AbortSignal): Promise<{ location: string; rows: number }> {
      await ready();
      const base = safeName(name);
      // A name of its own per run: a manual run and a scheduled one at the same moment must not share a file.
      const temporary = path.join(dir, `${base}.${randomBytes(4).toString('hex')}.tmp`);
      const handle = await open(temporary, 'w');
      let count = 0;
      try {
        let columns: readonly string[] | null = rows.columns ?? null;
        let buffer = '';
        if (format === 'csv' && columns) buffer = `${columns.map(csvCell).join(',')}\r\n`;
        for await (const row of rows) {
          signal?.throwIfAborted();
          if (format === 'csv') {
            if (!columns) {
              columns = Object.keys(row);
              buffer += `${columns.map(csvCell).join(',')}\r\n`;
            }
            let line = '';
            for (let c = 0; c < columns.length; c += 1) line += (c === 0 ? '' : ',') + csvCell(row[columns[c]!]);
            buffer += `${line}\r\n`;
          } else {
            buffer += `${JSON.stringify(row)}\n`;
          }
          count += 1;
          if (buffer.length >= FLUSH_BYTES) {
            await handle.write(buffer);
            buffer = '';
          }
        }
        if (buffer) await handle.write(buffer);
        await handle.sync();
        await handle.close();
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(temporary, { force: true });
        throw error;
      }
      const final = path.join(dir, `${base}-${stamp(new Date())}.${format}`);
      await rename(temporary, final);
      await syncDirectory(dir);
      return { location: final, rows: count };
    },

    async close(): Promise<void> {
      await tail;
    },
  };
}
