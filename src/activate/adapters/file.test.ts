import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MembershipEvent, OutgoingMessage } from '../adapter.js';
import { csvCell, openFileAdapter, type ExportRows } from './file.js';

const message = (n: number, channel: OutgoingMessage['channel'] = 'email'): OutgoingMessage => ({
  idempotencyKey: `camp-1:p${n}`,
  workspaceId: 'default',
  campaignId: 'camp-1',
  profileId: `p${n}`,
  channel,
  to: channel === 'email' ? { email: `p${n}@example.com` } : {},
  subject: 'Hi',
  body: `hello ${n}`,
  ...(channel === 'ads' ? { hashed: { email: `e${n}`.padEnd(64, '0'), ...(n % 2 === 0 ? { phone: `f${n}`.padEnd(64, '0') } : {}) } } : {}),
  coupon: null,
  attempt: 1,
});

function rowsOf(rows: Array<Record<string, unknown>>, columns?: string[]): ExportRows {
  return {
    ...(columns ? { columns } : {}),
    async *[Symbol.asyncIterator]() {
      yield* rows;
    },
  };
}

describe('csvCell', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    [42, '42'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=SUM(A1)', "'=SUM(A1)"],
    ['-3', "'-3"],
    [{ a: 1 }, '"{""a"":1}"'],
  ])('%j → %s', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});

describe('file adapter', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'custodian-file-adapter-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('appends messages as NDJSON and ad audiences as CSV with one header', async () => {
    const adapter = openFileAdapter({ directory: 'out' }, root);
    expect(await adapter.deliver([message(1), message(2)])).toEqual([{ ok: true, retryable: false }, { ok: true, retryable: false }]);
    expect(await adapter.deliver([message(3, 'ads'), message(4, 'ads')])).toHaveLength(2);
    await adapter.deliver([message(5, 'ads')]);
    await adapter.close();
    const lines = (await readFile(path.join(root, 'out', 'camp-1.ndjson'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as OutgoingMessage).profileId)).toEqual(['p1', 'p2']);
    const audience = await readFile(path.join(root, 'out', 'camp-1-audience.csv'), 'utf8');
    const rows = audience.trim().split('\r\n');
    expect(rows[0]).toBe('email_sha256,phone_sha256');
    expect(rows).toHaveLength(4);
    expect(rows[1]).toBe(`${'e3'.padEnd(64, '0')},`);
    expect(rows[2]).toBe(`${'e4'.padEnd(64, '0')},${'f4'.padEnd(64, '0')}`);
  });

  it('appends segment changes per segment', async () => {
    const adapter = openFileAdapter({ directory: 'syncs' }, root);
    const event = (segmentId: string, sequence: string): MembershipEvent => ({ type: 'segment.entered', workspaceId: 'default', segmentId, segmentName: 'S', profileId: 'p', at: new Date().toISOString(), sequence });
    await adapter.publish([event('s1', '1'), event('s2', '2'), event('s1', '3')]);
    await adapter.close();
    const s1 = (await readFile(path.join(root, 'syncs', 'segment-s1-changes.ndjson'), 'utf8')).trim().split('\n');
    expect(s1.map((l) => (JSON.parse(l) as MembershipEvent).sequence)).toEqual(['1', '3']);
  });

  it('exports through a temporary file renamed when complete, CSV quoted, header even when empty', async () => {
    const adapter = openFileAdapter({ directory: 'exports' }, root);
    const csv = await adapter.exportMembers!('segment-a', 'csv', rowsOf([{ profile_id: 'p1', note: 'a, "b"' }, { profile_id: 'p2', note: '=cmd' }]));
    expect(csv.rows).toBe(2);
    expect(path.basename(csv.location)).toMatch(/^segment-a-\d{8}T\d{9}Z\.csv$/);
    const parsed = parseCsv(await readFile(csv.location, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(parsed).toEqual([{ profile_id: 'p1', note: 'a, "b"' }, { profile_id: 'p2', note: "'=cmd" }]);
    const empty = await adapter.exportMembers!('segment-b', 'csv', rowsOf([], ['profile_id', 'entered_at']));
    expect(empty.rows).toBe(0);
    expect(await readFile(empty.location, 'utf8')).toBe('profile_id,entered_at\r\n');
    const nd = await adapter.exportMembers!('../../escape', 'ndjson', rowsOf([{ profile_id: 'p1' }]));
    expect(path.dirname(nd.location)).toBe(path.join(root, 'exports'));
    await expect(adapter.exportMembers!('segment-c', 'ndjson', {
      async *[Symbol.asyncIterator]() {
        yield { profile_id: 'p1' };
        throw new Error('database went away');
      },
    })).rejects.toThrow('database went away');
    await adapter.close();
    const files = await readdir(path.join(root, 'exports'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('segment-c'))).toEqual([]);
  });

  it('refuses a directory outside its root', () => {
    expect(() => openFileAdapter({ directory: '../x' }, root)).toThrow(/outside/);
  });
});
