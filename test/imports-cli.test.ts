import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killAll, runCli, startServe, stop } from './helpers/process.js';

const fixtures = new URL('./fixtures/', import.meta.url);

describe('custodian import (PGlite)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'custodian-import-cli-'));
    for (const name of ['customers-messy.csv', 'orders.ndjson']) copyFileSync(new URL(name, fixtures), join(root, name));
  });
  afterAll(async () => {
    await killAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('opens the database itself when no server runs: summary, reject file, profiles built', async () => {
    const data = join(root, 'local');
    const file = join(root, 'customers-messy.csv');
    const run = await runCli(['import', file, '--source', 'crm', '--data', data, '--no-demo'], {}, 90_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/9 rows read \(utf-8\): 5 imported, 1 already there, 3 rejected/);
    // The import ends with probabilistic matching of the new records.
    expect(run.stdout).toMatch(/^profiles 5 \(5 changed\), pairs compared \d+, merges 0, sent to review \d+, kept apart 0, model fitted$/m);
    const rejects = readFileSync(`${file}.rejects.csv`, 'utf8').trim().split('\n');
    expect(rejects[0]).toBe('line,column,reason');
    expect(rejects.slice(1).map((l) => l.split(',')[0])).toEqual(['7', '8', '9']);
    rmSync(`${file}.rejects.csv`);
    const exported = await runCli(['export', 'profiles', '--data', data], {}, 60_000);
    const profiles = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(profiles).toHaveLength(5);
    expect(profiles.flatMap((p) => p.records.map((r: { id: string }) => r.id)).sort()).toEqual(['C001', 'C002', 'C003', 'C004', 'C008']);

    const quality = await runCli(['quality', '--data', data], {}, 60_000);
    expect(quality.code, quality.stderr).toBe(0);
    expect(quality.stdout).toMatch(/^Data quality score \d+(\.\d)? \/ 100 over 5 profiles/);
    // one row per standard field the file had, e.g. the phone column: 4 of the 5 customers have one
    expect(quality.stdout).toMatch(/^phone\s+4\s+80\.0%/m);
    expect(quality.stdout).toMatch(/^crm\/email\s+\d+/m);

    const resolve = await runCli(['resolve', '--full', '--data', data], {}, 60_000);
    expect(resolve.code, resolve.stderr).toBe(0);
    expect(resolve.stdout).toMatch(/^profiles 5 \(5 changed\), pairs compared \d+, merges 0/m);
  });

  it('goes through the running server’s API when one holds the data directory', async () => {
    const data = join(root, 'served');
    const port = await freePort();
    const server = await startServe({ port, args: ['--data', data, '--no-demo'] });
    try {
      const file = join(root, 'orders.ndjson');
      const run = await runCli(['import', file, '--source', 'shop', '--kind', 'orders', '--data', data], {}, 60_000);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/7 rows read \(utf-8\): 3 imported, 0 already there, 4 rejected/);
      expect(existsSync(`${file}.rejects.csv`)).toBe(true);
      const bad = await runCli(['import', file, '--source', 'shop', '--kind', 'orders', '--map', 'nope=amount', '--data', data], {}, 60_000);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^custodian: .*no column "nope"/);
      // While the server holds the directory, the report comes from its API.
      const quality = await runCli(['quality', '--format', 'json', '--data', data], {}, 60_000);
      expect(quality.code, quality.stderr).toBe(0);
      expect(JSON.parse(quality.stdout)).toMatchObject({ report: { score: expect.any(Number) }, issues: expect.any(Array), alerts: [] });
      const resolve = await runCli(['resolve', '--data', data], {}, 60_000);
      expect(resolve.code, resolve.stderr).toBe(0);
      expect(resolve.stdout).toMatch(/^profiles \d+ \(\d+ changed\), pairs compared \d+, merges \d+/m);
    } finally {
      await stop(server);
    }
  });
});
