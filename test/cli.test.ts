import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgresUrl } from './helpers/backends.js';
import { freePort, killAll, runCli, startServe, stop, waitFor, type ServeProcess } from './helpers/process.js';

/*
 * The user-facing CLI, as a user runs it: `custodian serve` and `custodian export`
 * as child processes on a temporary data directory (PGlite unless said otherwise).
 */

interface Banner {
  api: string;
  docs: string;
  writeKey: string | null;
  adminToken: string | null;
}

interface ExportedProfile {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ type: string; value: string; source: string }>;
  records: Array<{ source: string; id: string }>;
  tags: string[];
  segments: string[];
  scores: Record<string, number>;
}

const STACK_LINE = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

/** Read the start-up banner `serve` prints (waits for it: it follows listen()). */
async function bannerOf(server: ServeProcess): Promise<Banner> {
  const text = await waitFor('the serve banner', () => (/API reference\s+\S+/.test(server.stdout()) && /try: curl/.test(server.stdout()) ? server.stdout() : undefined), 15_000);
  const api = /^\s+API\s+(http:\/\/\S+)$/m.exec(text)?.[1];
  const docs = /^\s+API reference\s+(http:\/\/\S+)$/m.exec(text)?.[1];
  if (!api || !docs) throw new Error(`no API / API reference URL in:\n${text}`);
  return {
    api,
    docs,
    writeKey: /^\s+write key\s{2,}(\S+)/m.exec(text)?.[1] ?? null,
    adminToken: /^\s+admin token\s{2,}(\S+)/m.exec(text)?.[1] ?? null,
  };
}

function basic(writeKey: string): string {
  return 'Basic ' + Buffer.from(`${writeKey}:`).toString('base64');
}

async function post(url: string, path: string, writeKey: string, body: unknown): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: basic(writeKey), 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  return { status: response.status, body: await response.text() };
}

async function get(url: string, path: string, token: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  return { status: response.status, body: await response.text() };
}

/** Wait until the server's worker has processed this userId into a profile. */
async function profileOf(url: string, token: string, userId: string): Promise<ExportedProfile> {
  return waitFor(`the profile of ${userId}`, async () => {
    const answer = await get(url, `/api/profiles?userId=${encodeURIComponent(userId)}`, token);
    if (answer.status !== 200) throw new Error(`${answer.status} ${answer.body}`);
    return (JSON.parse(answer.body) as { profiles: ExportedProfile[] }).profiles[0];
  }, 30_000, 200);
}

function parseNdjson(text: string): ExportedProfile[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ExportedProfile);
}

function expectProfileShape(profile: ExportedProfile): void {
  expect(Object.keys(profile)).toEqual(expect.arrayContaining(['id', 'traits', 'identities', 'records', 'tags', 'segments', 'scores']));
  expect(profile.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(typeof profile.traits).toBe('object');
  expect(Array.isArray(profile.identities)).toBe(true);
  expect(Array.isArray(profile.records)).toBe(true);
  expect(Array.isArray(profile.tags)).toBe(true);
  expect(Array.isArray(profile.segments)).toBe(true);
  expect(typeof profile.scores).toBe('object');
}

/** Whether this machine has an IPv6 loopback to bind. */
const ipv6Loopback = await freePort('::1').then(
  () => true,
  () => false,
);

const byRecord = (profiles: ExportedProfile[], userId: string) => profiles.find((p) => p.records.some((r) => r.source === 'default' && r.id === userId));

describe('custodian CLI on PGlite', () => {
  const root = mkdtempSync(join(tmpdir(), 'custodian-cli-'));
  const cleanups: Array<() => Promise<void>> = [];

  afterAll(async () => {
    await killAll();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  describe('one data directory: first serve, a second serve, export live and offline', () => {
    const dataDir = join(root, 'main-data');
    let server: ServeProcess;
    let banner: Banner;
    let writeKey: string;
    let adminToken: string;
    let liveExport: ExportedProfile[];

    it('(a, d) first serve on an empty directory (--data, --port) prints the API and /docs URLs and generated secrets, and writes them to bootstrap.json (0600)', async () => {
      expect(existsSync(dataDir)).toBe(false);
      const port = await freePort();
      // PORT is left unset: --port alone must decide. Request logs on, to see what the export calls.
      server = await startServe({ port, args: ['--data', dataDir, '--port', String(port)], env: { PORT: undefined, LOG_LEVEL: 'info' } });
      banner = await bannerOf(server);

      expect(new URL(banner.api).port).toBe(String(port));
      expect(banner.docs).toBe(`${banner.api}/docs`);
      expect(banner.writeKey).toMatch(/^wk_\S{16,}$/);
      expect(banner.adminToken).toMatch(/^ct_\S{16,}$/);
      writeKey = banner.writeKey!;
      adminToken = banner.adminToken!;
      expect(server.stdout()).toContain(join(dataDir, 'bootstrap.json'));

      // The printed URLs answer.
      expect((await fetch(`${banner.api}/health`)).status).toBe(200);
      const docs = await fetch(banner.docs);
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toContain('text/html');
      const openapi = (await (await fetch(`${banner.docs}/json`)).json()) as { openapi?: string; paths?: Record<string, unknown> };
      expect(openapi.openapi).toMatch(/^3\./);
      expect(Object.keys(openapi.paths ?? {})).toContain('/v1/batch');

      // bootstrap.json: owner-only, holding exactly what was printed.
      const file = join(dataDir, 'bootstrap.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(saved).toMatchObject({ writeKey, adminToken });
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(true);

      // The printed secrets work; others do not.
      const accepted = await post(server.url, '/v1/identify', writeKey, { userId: 'cli-u1', traits: { email: 'grace@example.com', firstName: 'Grace', plan: 'pro' } });
      expect(accepted.status, accepted.body).toBe(200);
      expect((await post(server.url, '/v1/identify', 'wk_wrong', { userId: 'x' })).status).toBe(401);
      expect((await get(server.url, '/api/profiles?userId=cli-u1', adminToken)).status).toBe(200);
      expect((await get(server.url, '/api/profiles?userId=cli-u1', 'ct_wrong')).status).toBe(401);
    });

    it('(b) a second serve on the same directory exits non-zero, naming the process that holds it; the first keeps working', async () => {
      const before = Object.fromEntries(['bootstrap.json', 'master.key', 'custodian.lock'].map((f) => [f, readFileSync(join(dataDir, f), 'utf8')]));
      const otherPort = await freePort();
      const second = await runCli(['serve', '--data', dataDir, '--port', String(otherPort)], {}, 30_000);

      expect(second.code).not.toBe(0);
      expect(second.code).not.toBeNull();
      expect(second.stderr).toContain(`data directory ${dataDir} is in use by process ${server.pid}`);
      expect(second.stderr).toContain('custodian serve');
      expect(second.stderr).toContain(`serving ${banner.api}`);
      expect(second.stderr).not.toMatch(STACK_LINE);
      expect(second.stdout).not.toContain('is running');
      // Nothing listened on the other port.
      await expect(fetch(`http://127.0.0.1:${otherPort}/health`)).rejects.toThrow();

      // The directory is as it was, and the first server still works.
      for (const [f, content] of Object.entries(before)) expect(readFileSync(join(dataDir, f), 'utf8'), f).toBe(content);
      expect(server.exit()).toBeNull();
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const accepted = await post(server.url, '/v1/batch', writeKey, {
        batch: [
          { type: 'track', anonymousId: 'anon-2', event: 'Viewed Pricing', properties: { page: '/pricing' } },
          { type: 'identify', userId: 'cli-u2', anonymousId: 'anon-2', traits: { email: 'alan@example.com', lastName: 'Turing' } },
          { type: 'identify', userId: 'cli-u3', traits: { phone: '+44 20 7946 0958', city: 'London' } },
          { type: 'track', userId: 'cli-u1', event: 'Order Completed', properties: { revenue: 12 } },
        ],
      });
      expect(accepted.status, accepted.body).toBe(200);
      await profileOf(server.url, adminToken, 'cli-u3');
    });

    it('(c) export profiles while the server runs goes through its API: one profile per line', async () => {
      // Every message processed before exporting.
      await waitFor('an empty event log', async () => /^custodian_event_log_pending 0$/m.test(await (await fetch(`${server.url}/metrics`)).text()), 30_000, 200);
      const out = join(root, 'live.ndjson');
      const run = await runCli(['export', 'profiles', '--format', 'ndjson', '-o', out, '--data', dataDir], {}, 60_000);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      // It could not have opened the database itself (the server holds it): the server answered it.
      expect(server.stdout()).toContain('/api/profiles/export?format=ndjson');

      liveExport = parseNdjson(readFileSync(out, 'utf8'));
      expect(liveExport).toHaveLength(3);
      for (const profile of liveExport) expectProfileShape(profile);
      expect(new Set(liveExport.map((p) => p.id)).size).toBe(3);

      const u1 = byRecord(liveExport, 'cli-u1');
      expect(u1?.traits).toMatchObject({ firstName: 'Grace', plan: 'pro' });
      expect(u1?.identities.map((i) => i.type)).toEqual(expect.arrayContaining(['userId', 'email']));
      // The anonymous visitor and the identified user are one person: one profile, both records.
      const u2 = byRecord(liveExport, 'cli-u2');
      expect(u2?.traits).toMatchObject({ lastName: 'Turing' });
      expect(u2?.identities).toContainEqual(expect.objectContaining({ type: 'anonymousId', value: 'anon-2' }));
      expect(byRecord(liveExport, 'cli-u3')?.traits).toMatchObject({ city: 'London' });
      // The API's own look-up agrees with the export.
      expect((await profileOf(server.url, adminToken, 'cli-u2')).id).toBe(u2?.id);

      // Without -o, the same lines go to stdout.
      const toStdout = await runCli(['export', 'profiles', '--format', 'ndjson', '--data', dataDir], {}, 60_000);
      expect(toStdout.code, toStdout.stderr).toBe(0);
      expect(parseNdjson(toStdout.stdout)).toEqual(liveExport);
    });

    it('(c) after SIGTERM, export opens the database directly and gives the same profiles', async () => {
      const exit = await stop(server, 'SIGTERM');
      expect(exit.code).toBe(0);
      expect(existsSync(join(dataDir, 'custodian.lock'))).toBe(false);

      const out = join(root, 'offline.ndjson');
      const run = await runCli(['export', 'profiles', '--format', 'ndjson', '-o', out, '--data', dataDir], {}, 60_000);
      expect(run.code, run.stderr).toBe(0);
      expect(parseNdjson(readFileSync(out, 'utf8'))).toEqual(liveExport);
      // The export let go of the directory.
      expect(existsSync(join(dataDir, 'custodian.lock'))).toBe(false);

      const toStdout = await runCli(['export', 'profiles', '--data', dataDir], {}, 60_000);
      expect(toStdout.code, toStdout.stderr).toBe(0);
      expect(parseNdjson(toStdout.stdout)).toEqual(liveExport);
    });

    it('(a) a restart keeps the data and does not show the secrets again; they still work', async () => {
      const port = await freePort();
      server = await startServe({ port, args: ['--data', dataDir] });
      const again = await bannerOf(server);
      expect(again.writeKey).toBeNull();
      expect(again.adminToken).toBeNull();
      expect(server.stdout()).not.toContain(writeKey);
      expect(server.stdout()).not.toContain(adminToken);
      expect(server.stdout()).toContain(`write key and admin token: ${join(dataDir, 'bootstrap.json')}`);
      expect((await post(server.url, '/v1/track', writeKey, { userId: 'cli-u1', event: 'Came Back' })).status).toBe(200);
      expect((await profileOf(server.url, adminToken, 'cli-u1')).id).toBe(byRecord(liveExport, 'cli-u1')?.id);
      expect((await stop(server, 'SIGTERM')).code).toBe(0);
    });
  });

  it('(a, d, f) CUSTODIAN_WRITE_KEY / CUSTODIAN_ADMIN_TOKEN / CUSTODIAN_MASTER_KEY are used as given; --port and --data win over PORT and CUSTODIAN_DATA; --no-demo is accepted', async () => {
    const dataDir = join(root, 'flag-data');
    const envDir = join(root, 'env-data');
    const [port, envPort] = [await freePort(), await freePort()];
    const writeKey = 'wk_given_by_the_operator_0123456789';
    const adminToken = 'ct_given_by_the_operator_0123456789';
    const server = await startServe({
      port,
      args: ['--no-demo', '--port', String(port), '--data', dataDir],
      env: { PORT: String(envPort), CUSTODIAN_DATA: envDir, CUSTODIAN_WRITE_KEY: writeKey, CUSTODIAN_ADMIN_TOKEN: adminToken, CUSTODIAN_MASTER_KEY: 'ab'.repeat(32) },
    });
    try {
      const banner = await bannerOf(server);
      expect(new URL(banner.api).port).toBe(String(port));
      expect((await fetch(`${banner.api}/health`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${envPort}/health`)).rejects.toThrow();
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(true);
      expect(existsSync(envDir)).toBe(false);
      // Nothing was generated, so there is nothing to write down.
      expect(existsSync(join(dataDir, 'bootstrap.json'))).toBe(false);
      expect(existsSync(join(dataDir, 'master.key'))).toBe(false);

      const accepted = await post(server.url, '/v1/track', writeKey, { userId: 'env-user', event: 'Signed Up', properties: { plan: 'team' } });
      expect(accepted.status, accepted.body).toBe(200);
      expect((JSON.parse(accepted.body) as { accepted: number }).accepted).toBe(1);
      expect((await post(server.url, '/v1/track', 'wk_something_else', { userId: 'env-user', event: 'Signed Up' })).status).toBe(401);
      const profile = await profileOf(server.url, adminToken, 'env-user');
      const events = await get(server.url, `/api/profiles/${profile.id}/events`, adminToken);
      expect(events.status).toBe(200);
      expect((JSON.parse(events.body) as { events: Array<{ event: string | null }> }).events.map((e) => e.event)).toEqual(['Signed Up']);

      // A second serve without the key is refused, and leaves the held directory alone:
      // no master.key of its own that a later start would silently use instead.
      const second = await runCli(['serve', '--data', dataDir, '--port', String(await freePort())], {}, 30_000);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`in use by process ${server.pid}`);
      expect(readdirSync(dataDir).sort()).toEqual(['custodian.lock', 'pgdata']);
    } finally {
      expect((await stop(server, 'SIGTERM')).code).toBe(0);
    }
  });

  it.skipIf(!ipv6Loopback)('(d) HOST=::1: the printed URL, and the one CLI commands use, reach the server; export goes through its API', async () => {
    const dataDir = join(root, 'ipv6-data');
    const port = await freePort('::1');
    const server = await startServe({ port, host: '::1', args: ['--data', dataDir] });
    try {
      const banner = await bannerOf(server);
      expect((await fetch(`${banner.api}/health`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
      const accepted = await post(server.url, '/v1/identify', banner.writeKey!, { userId: 'v6-user', traits: { plan: 'v6' } });
      expect(accepted.status, accepted.body).toBe(200);
      const profile = await profileOf(server.url, banner.adminToken!, 'v6-user');

      const out = join(root, 'ipv6.ndjson');
      const run = await runCli(['export', 'profiles', '--format', 'ndjson', '-o', out, '--data', dataDir], {}, 60_000);
      expect(run.code, run.stderr).toBe(0);
      expect(parseNdjson(readFileSync(out, 'utf8')).map((p) => p.id)).toEqual([profile.id]);
    } finally {
      expect((await stop(server, 'SIGTERM')).code).toBe(0);
    }
  });

  it('bad arguments are refused with a one-line message, no stack trace', async () => {
    const unknown = await runCli(['serve', '--bogus'], {}, 30_000);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^custodian: .*--bogus/);
    expect(unknown.stderr).not.toMatch(STACK_LINE);

    const port = await runCli(['serve', '--port', 'eighty', '--data', join(root, 'never-made')], {}, 30_000);
    expect(port.code).toBe(1);
    expect(port.stderr).toContain('--port/PORT: "eighty" is not a port number');
    expect(port.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(join(root, 'never-made'))).toBe(false);

    const key = await runCli(['serve', '--data', join(root, 'never-made')], { CUSTODIAN_MASTER_KEY: 'too-short' }, 30_000);
    expect(key.code).toBe(1);
    expect(key.stderr).toMatch(/^custodian: CUSTODIAN_MASTER_KEY must be 32 bytes/);
    expect(key.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(join(root, 'never-made', 'pgdata'))).toBe(false);

    const what = await runCli(['export', 'segments', '--data', join(root, 'never-made')], {}, 30_000);
    expect(what.code).toBe(1);
    expect(what.stderr).toContain('export: say what to export');
    expect(what.stderr).not.toMatch(STACK_LINE);
  });

  it('refuses a missing or different master key by name instead of sealing data it could not read', async () => {
    const dataDir = join(root, 'key-check');
    const first = await runCli(['export', 'profiles', '--data', dataDir], {}, 60_000);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
    rmSync(join(dataDir, 'master.key'));
    const missing = await runCli(['export', 'profiles', '--data', dataDir], {}, 60_000);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^custodian: .*restore .*master\.key or set CUSTODIAN_MASTER_KEY/);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    const wrong = await runCli(['export', 'profiles', '--data', dataDir], { CUSTODIAN_MASTER_KEY: 'ab'.repeat(32) }, 60_000);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^custodian: the master key .* is not the one this database was set up with/);
    expect(wrong.stderr).not.toMatch(STACK_LINE);
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('(e) DATABASE_URL: serve runs on PostgreSQL, and export reads it', async () => {
    const fresh = await freshPostgresUrl(process.env.TEST_DATABASE_URL!);
    cleanups.push(() => fresh.drop());
    const dataDir = join(root, 'pg-data');
    mkdirSync(dataDir);
    const port = await freePort();
    const server = await startServe({ port, args: ['--data', dataDir], env: { DATABASE_URL: fresh.url } });
    try {
      const banner = await bannerOf(server);
      expect(server.stdout()).toContain('(PostgreSQL)');
      const health = (await (await fetch(`${server.url}/health`)).json()) as { database: string };
      expect(health.database).toBe('postgres');
      // No embedded cluster and no lock in the data directory: PostgreSQL holds the data.
      expect(readdirSync(dataDir).filter((f) => f === 'pgdata' || f === 'custodian.lock')).toEqual([]);

      const accepted = await post(server.url, '/v1/identify', banner.writeKey!, { userId: 'pg-user', traits: { email: 'pg@example.com', plan: 'pro' } });
      expect(accepted.status, accepted.body).toBe(200);
      const profile = await profileOf(server.url, banner.adminToken!, 'pg-user');
      expect(profile.traits).toMatchObject({ plan: 'pro' });

      const out = join(root, 'pg.ndjson');
      const run = await runCli(['export', 'profiles', '--format', 'ndjson', '-o', out, '--data', dataDir], { DATABASE_URL: fresh.url }, 60_000);
      expect(run.code, run.stderr).toBe(0);
      const exported = parseNdjson(readFileSync(out, 'utf8'));
      expect(exported.map((p) => p.id)).toEqual([profile.id]);
      expectProfileShape(exported[0]!);
      expect(exported[0]!.records).toEqual([{ source: 'default', id: 'pg-user' }]);
    } finally {
      expect((await stop(server, 'SIGTERM')).code).toBe(0);
    }
  });
});
