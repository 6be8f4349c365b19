import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { createEventLogWriter } from '../src/collect/event-log.js';
import { loadConfig } from '../src/cli/config.js';
import { demoAtStart, loadDemo, readDemoState, writeDemo, type DemoOutcome } from '../src/cli/demo.js';
import { createKeyring } from '../src/privacy/crypto.js';
import { demoRoutes } from '../src/server/demo-routes.js';
import type { Database } from '../src/storage/database.js';
import { backends } from './helpers/backends.js';
import { ADMIN_TOKEN, startTestApp, TEST_MASTER_KEY, type TestApp } from './helpers/app.js';
import { freePort, killAll, runCli, startServe, stop, waitFor } from './helpers/process.js';

/*
 * The demo data set loaded through the real paths: the event log writer and the
 * pipeline on every backend, the management route, and the CLI as a user runs it.
 */

const NOW = new Date('2026-11-24T10:00:00.000Z');

async function count(database: Database, query: string): Promise<number> {
  const result = await sql<{ n: string }>`${sql.raw(query)}`.execute(database.db);
  return Number(result.rows[0]!.n);
}

async function tally(database: Database) {
  return {
    log: await count(database, `select count(*) as n from event_log where workspace_id = 'default'`),
    events: await count(database, `select count(*) as n from events where workspace_id = 'default'`),
    profiles: await count(database, `select count(*) as n from profiles where workspace_id = 'default' and merged_into is null`),
    orders: await count(database, `select count(*) as n from events where workspace_id = 'default' and event = 'Order Completed' and profile_id is not null`),
    surveys: await count(database, `select count(*) as n from events where workspace_id = 'default' and event = 'Survey Responded' and profile_id is not null`),
  };
}

describe.each(backends)('demo data on $name', (backend) => {
  let t: TestApp;
  afterAll(async () => t?.close());

  it('loads into a fresh database, the pipeline builds profiles with orders and feedback, and loading again adds nothing', async () => {
    t = await startTestApp(backend);
    const deps = { database: t.database, junk: createJunkIdFilter(), eventLog: createEventLogWriter(t.database, t.keyring) };
    const progress: number[] = [];
    const first = await loadDemo(deps, 'default', { customers: 150, seed: 'test' }, { now: NOW, onProgress: (p) => progress.push(p.customers) });
    expect(first.rejected).toBe(0);
    expect(first.stored).toBe(first.summary.messages);
    expect(first.duplicates).toBe(0);
    expect(progress.at(-1)).toBe(150);
    expect(await readDemoState(t.database, 'default')).toMatchObject({ status: 'loaded', customers: 150, seed: 'test' });
    const sources = await t.database.db.selectFrom('sources').select('id').orderBy('id').execute();
    expect(sources.map((s) => s.id)).toEqual(['crm', 'default', 'miniprogram', 'pos', 'survey', 'web']);

    expect(await t.drain()).toBe(first.summary.messages);
    const after = await tally(t.database);
    expect(after.log).toBe(first.summary.messages);
    expect(after.events).toBe(first.summary.messages);
    expect(after.orders).toBe(first.summary.orders);
    expect(after.surveys).toBe(first.summary.surveyResponses);
    // Messy on purpose: more profiles than people until cleaning merges them, never fewer than half.
    expect(after.profiles).toBeGreaterThan(75);
    expect(after.profiles).toBeLessThan(150 * 3);

    // Through the API: a CRM customer's unified profile, with records and an order on the timeline.
    const exported = await t.get('/api/profiles/export');
    expect(exported.statusCode).toBe(200);
    const profiles = exported.body.trim().split('\n').map((line) => JSON.parse(line) as { id: string; records: Array<{ source: string }>; traits: Record<string, unknown> });
    expect(profiles).toHaveLength(after.profiles);
    let crmBuyer: (typeof profiles)[number] | undefined;
    for (const profile of profiles.filter((p) => p.records.some((r) => r.source === 'crm') && p.records.some((r) => r.source === 'pos'))) {
      const events = JSON.parse((await t.get(`/api/profiles/${profile.id}/events?limit=1000`)).body) as { events: Array<{ event: string | null }> };
      if (events.events.some((e) => e.event === 'Order Completed')) {
        crmBuyer = profile;
        break;
      }
    }
    expect(crmBuyer?.traits).toHaveProperty('member_tier');

    // The same seed again: everything is already in the log.
    const second = await writeDemo(deps, 'default', { customers: 150, seed: 'test' }, { now: NOW });
    expect(second.stored).toBe(0);
    expect(second.duplicates).toBe(first.summary.messages);
    expect(await t.drain()).toBe(0);
    expect(await tally(t.database)).toEqual(after);
  });

  it('POST /api/demo loads in the server process, answering with progress lines; admin only', async () => {
    const app = await startTestApp(backend);
    try {
      const deps = { database: app.database, junk: createJunkIdFilter(), eventLog: createEventLogWriter(app.database, app.keyring) };
      await app.app.register(demoRoutes, {
        maxCustomers: 1000,
        defaults: { customers: 40, seed: 'route' },
        load: (workspaceId, run, onProgress, signal) => loadDemo(deps, workspaceId, run, { onProgress, signal, now: NOW }),
      });
      const refused = await app.app.inject({ method: 'POST', url: '/api/demo', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, payload: '{}' });
      expect(refused.statusCode).toBe(401);
      const tooMany = await app.app.inject({ method: 'POST', url: '/api/demo', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify({ customers: 5000 }) });
      expect(tooMany.statusCode).toBe(400);

      const answer = await app.app.inject({ method: 'POST', url: '/api/demo', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: '{}' });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['content-type']).toContain('application/x-ndjson');
      const lines = answer.body.trim().split('\n').map((l) => JSON.parse(l) as { phase: string; outcome?: DemoOutcome });
      expect(lines.some((l) => l.phase === 'progress')).toBe(true);
      const done = lines.at(-1)!;
      expect(done.phase).toBe('done');
      expect(done.outcome?.summary.customers).toBe(40);
      expect(done.outcome?.stored).toBe(done.outcome?.summary.messages);
      expect(await app.drain()).toBe(done.outcome?.summary.messages);
      expect((await tally(app.database)).profiles).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('serve loads the demo on the first start of an embedded database only, unless told otherwise', async () => {
    const database = await backend.open();
    try {
      const config = (flags: Record<string, string | boolean>) => loadConfig(flags, {});
      const runtime = (created: boolean, kind: 'pglite' | 'postgres') => ({
        database: { ...database, kind },
        keyring: createKeyring(TEST_MASTER_KEY),
        junk: createJunkIdFilter(),
        masterKey: TEST_MASTER_KEY,
        bootstrap: { created },
      });
      expect(await demoAtStart(config({}), runtime(true, 'pglite'))).toEqual({ customers: 2000, seed: 'custodian' });
      expect(await demoAtStart(config({ customers: '50', seed: 's' }), runtime(true, 'pglite'))).toEqual({ customers: 50, seed: 's' });
      expect(await demoAtStart(config({ 'no-demo': true }), runtime(true, 'pglite'))).toBeNull();
      expect(await demoAtStart(config({}), runtime(true, 'postgres'))).toBeNull();
      expect(await demoAtStart(config({ demo: true }), runtime(true, 'postgres'))).toEqual({ customers: 2000, seed: 'custodian' });
      expect(await demoAtStart(config({}), runtime(false, 'pglite'))).toBeNull();
      expect(() => config({ demo: true, 'no-demo': true })).toThrow(/contradict/);
      expect(() => config({ customers: 'many' })).toThrow(/--customers/);
    } finally {
      await database.close();
    }
  });
});

describe('custodian demo (CLI, PGlite)', () => {
  const root = mkdtempSync(join(tmpdir(), 'custodian-demo-'));
  afterAll(async () => {
    await killAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('fills a fresh data directory and builds the profiles before exiting; a second run adds nothing', async () => {
    const data = join(root, 'cli');
    const run = await runCli(['demo', '--customers', '300', '--data', data], {}, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/demo data set: 300 customers, seed "custodian"/);
    expect(run.stdout).toMatch(/crm [\d,]+, pos [\d,]+, web [\d,]+, miniprogram [\d,]+, survey [\d,]+/);
    const written = /event log\s+([\d,]+) written, 0 already there/.exec(run.stdout);
    expect(written, run.stdout).not.toBeNull();
    const processed = /pipeline\s+([\d,]+) messages processed .* the workspace has ([\d,]+) profiles/.exec(run.stdout);
    expect(processed?.[1]).toBe(written?.[1]);
    expect(Number(processed?.[2]?.replace(/,/g, ''))).toBeGreaterThan(150);
    expect(run.stderr).toContain('building profiles 100%');

    const again = await runCli(['demo', '--customers', '300', '--data', data], {}, 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`event log\\s+0 written, ${written![1]} already there`));
    expect(again.stdout).toMatch(new RegExp(`the workspace has ${processed![2]} profiles`));
  });

  it('serve --demo loads in the background after listen; `custodian demo` goes through the running server', async () => {
    const data = join(root, 'served');
    const port = await freePort();
    const server = await startServe({ port, args: ['--data', data, '--demo', '--customers', '120'] });
    try {
      expect(server.stdout()).toMatch(/demo data\s+loading 120 customers in the background/);
      const pending = async () => Number(/^custodian_event_log_pending (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
      await waitFor('the first-start demo to be processed', async () => (await pending()) === 0 && (await fetch(`${server.url}/health`)).ok, 60_000, 250);
      const run = await runCli(['demo', '--customers', '150', '--data', data], {}, 60_000);
      expect(run.code, run.stderr).toBe(0);
      // The first 120 customers are the same people: only the other 30 are new.
      const stored = /event log\s+([\d,]+) written, ([\d,]+) already there/.exec(run.stdout);
      expect(Number(stored?.[1]?.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(Number(stored?.[2]?.replace(/,/g, ''))).toBeGreaterThan(Number(stored?.[1]?.replace(/,/g, '')));
      expect(run.stdout).toMatch(/pipeline\s+processed by the server's worker/);
      expect(await pending()).toBe(0);
    } finally {
      expect((await stop(server, 'SIGTERM')).code).toBe(0);
    }
  });
});
