/**
 * bench/ingest: events/s through POST /v1/batch (100-event batches, several
 * concurrent HTTP clients, 200 only once the batch is durable in event_log),
 * next to the same database's own bulk load of the same rows, in the same run.
 * Goal: ≥ 0.4× the PGlite bulk rate, ≥ 0.3× the PostgreSQL COPY rate.
 *
 *   npm run bench [-- --events=100000 --clients=8 --repeat=3 --backends=pglite,postgres]
 *
 * PostgreSQL runs when BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL
 * is set; each run gets a database of its own, dropped afterwards.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { validateMessage } from '../src/collect/messages.js';
import { createKeyring } from '../src/privacy/crypto.js';
import { buildApp } from '../src/server/app.js';
import { bootstrap } from '../src/server/bootstrap.js';
import { createStorage, type Database } from '../src/storage/database.js';
import { freshPostgresUrl } from '../test/helpers/backends.js';
import { openPgliteForBulk, pgliteBulk, postgresBulk, type BulkMethod, type CopyMethod, type LogRow } from './ingest-bulk.js';
import type { ClientSetup, FromClient, RunResult, ToClient } from './ingest-client.js';
import { generateEvents } from './ingest-data.js';

type Backend = 'pglite' | 'postgres';

const GOAL: Record<Backend, number> = { pglite: 0.4, postgres: 0.3 };
const PGLITE_METHODS: readonly BulkMethod[] = ['copy-binary', 'copy-text', 'insert-1000'];
const POSTGRES_METHODS: readonly CopyMethod[] = ['copy-binary', 'copy-text'];
const WRITE_KEY = 'wk_bench_write_key';
const SEED = 20_250_101;

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string' },
    warmup: { type: 'string' },
    clients: { type: 'string' },
    batch: { type: 'string' },
    repeat: { type: 'string' },
    backends: { type: 'string' },
  },
});

function count(flag: 'events' | 'warmup' | 'clients' | 'batch' | 'repeat', env: string, fallback: number): number {
  const text = flags[flag] ?? process.env[env];
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${flag} / ${env}: ${JSON.stringify(text)} is not a positive integer`);
  return value;
}

const settings = {
  events: count('events', 'BENCH_EVENTS', 100_000),
  warmupEvents: count('warmup', 'BENCH_WARMUP', 2_000),
  clients: count('clients', 'BENCH_CLIENTS', 8),
  batchSize: count('batch', 'BENCH_BATCH', 100),
  repeat: count('repeat', 'BENCH_REPEAT', 3),
};
const wanted = new Set((flags.backends ?? process.env.BENCH_BACKENDS ?? 'pglite,postgres').split(',').map((s) => s.trim()));
for (const name of wanted) if (name !== 'pglite' && name !== 'postgres') throw new Error(`--backends / BENCH_BACKENDS: unknown backend ${JSON.stringify(name)} (pglite, postgres)`);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? null;

const log = (line: string) => process.stdout.write(line + '\n');
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

// --- the load generator (a child process) ---------------------------------

class LoadClient {
  private constructor(private readonly child: ChildProcess) {}

  static async start(setup: ClientSetup): Promise<{ client: LoadClient; ready: Extract<FromClient, { kind: 'ready' }> }> {
    const child = fork(fileURLToPath(new URL('./ingest-client.ts', import.meta.url)), [], {
      env: { ...process.env, BENCH_CLIENT_SETUP: JSON.stringify(setup) },
    });
    const client = new LoadClient(child);
    const ready = await client.next();
    if (ready.kind !== 'ready') throw new Error(`load generator: ${ready.kind === 'error' ? ready.message : 'unexpected reply'}`);
    return { client, ready };
  }

  private next(): Promise<FromClient> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (message: FromClient) => {
        this.child.off('exit', onExit);
        resolve(message);
      });
    });
  }

  async run(url: string, clients: number): Promise<RunResult> {
    const reply = this.next();
    this.child.send({ kind: 'run', url, writeKey: WRITE_KEY, clients } satisfies ToClient);
    const message = await reply;
    if (message.kind !== 'result') throw new Error(`load generator: ${message.kind === 'error' ? message.message : 'unexpected reply'}`);
    return message.result;
  }

  stop(): void {
    if (this.child.connected) this.child.send({ kind: 'exit' } satisfies ToClient);
  }
}

// --- fresh databases -------------------------------------------------------

interface Fresh {
  /** open it through the real storage layer (migrations included) */
  open(): Promise<Database>;
  /** where the bulk baseline connects: a PGlite data directory or a PostgreSQL URL */
  target: string;
  drop(): Promise<void>;
}

async function freshDatabase(backend: Backend): Promise<Fresh> {
  if (backend === 'pglite') {
    // On disk, as in production: an in-memory PGlite would flatter both sides.
    const dataDir = mkdtempSync(join(tmpdir(), 'custodian-bench-'));
    return {
      open: () => createStorage({ kind: 'pglite', dataDir, command: 'bench' }),
      target: join(dataDir, 'pgdata'),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const fresh = await freshPostgresUrl(postgresUrl!);
  return { open: () => createStorage({ kind: 'postgres', url: fresh.url }), target: fresh.url, drop: fresh.drop };
}

async function rowsInLog(database: Database): Promise<number> {
  const row = await database.db.selectFrom('event_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

// --- the two measurements ---------------------------------------------------

interface ApiRun extends RunResult {
  /** the server process's CPU (all threads) per event, warm-up included: less noisy than wall time on a shared machine */
  serverCpuMicrosPerEvent: number;
}

/** The real app on a real socket; the pipeline worker is not started, so only ingest is measured. */
async function apiRun(backend: Backend, client: LoadClient): Promise<ApiRun> {
  const fresh = await freshDatabase(backend);
  try {
    const database = await fresh.open();
    try {
      await bootstrap(database, { writeKey: WRITE_KEY, dataDir: null });
      const app = await buildApp({ database, keyring: createKeyring(randomBytes(32)), junk: createJunkIdFilter() });
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      let result: RunResult;
      const cpu = process.cpuUsage();
      try {
        result = await client.run(address, settings.clients);
      } finally {
        await app.close();
      }
      const { user, system } = process.cpuUsage(cpu);
      const stored = await rowsInLog(database);
      if (stored !== settings.warmupEvents + settings.events) throw new Error(`event_log holds ${stored} rows after the API run, expected ${settings.warmupEvents + settings.events}`);
      return { ...result, serverCpuMicrosPerEvent: (user + system) / stored };
    } finally {
      await database.close();
    }
  } finally {
    await fresh.drop();
  }
}

/** Seconds of every bulk method, each into the emptied event_log of one fresh database. */
async function bulkRun(backend: Backend, warmup: readonly LogRow[], rows: readonly LogRow[]): Promise<Record<string, number>> {
  const fresh = await freshDatabase(backend);
  const seconds: Record<string, number> = {};
  try {
    await (await fresh.open()).close();
    if (backend === 'pglite') {
      const db = await openPgliteForBulk(fresh.target);
      try {
        for (const method of PGLITE_METHODS) seconds[method] = await pgliteBulk(db, method, warmup, rows);
      } finally {
        await db.close();
      }
    } else {
      for (const method of POSTGRES_METHODS) seconds[method] = await postgresBulk(fresh.target, method, warmup, rows);
    }
  } finally {
    await fresh.drop();
  }
  return seconds;
}

// --- main ------------------------------------------------------------------

interface BackendReport {
  backend: Backend;
  api: { runs: ApiRun[]; eventsPerSecond: number; latencyMs: { p50: number; p99: number }; serverCpuMicrosPerEvent: number };
  bulk: { runsSeconds: Array<Record<string, number>>; rowsPerSecondByMethod: Record<string, number>; method: string; rowsPerSecond: number };
  ratio: number;
  goal: number;
  pass: boolean;
}

/** The stored form of each message, as the API would write it, encrypted once up front (not timed). */
function logRows(count: number): { warmup: LogRow[]; rows: LogRow[]; encryptMicros: number } {
  const keyring = createKeyring(randomBytes(32));
  const junk = createJunkIdFilter();
  const receivedAt = new Date();
  const messages = generateEvents(SEED, settings.warmupEvents + count).map((raw) => {
    const result = validateMessage(raw, { receivedAt, type: null, junk });
    if (!result.ok) throw new Error(`generated message rejected: ${result.issue.message}`);
    return result.message;
  });
  const started = performance.now();
  const all = messages.map((m) => ({ messageId: m.messageId, type: m.type, payload: keyring.encryptJson('default', m), receivedAt }));
  const encryptMicros = ((performance.now() - started) * 1000) / all.length;
  return { warmup: all.slice(0, settings.warmupEvents), rows: all.slice(settings.warmupEvents), encryptMicros };
}

/** What the PostgreSQL figures depend on: version and whether each commit waits for its WAL flush. */
async function postgresInfo(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>("select name, setting from pg_settings where name in ('server_version', 'fsync', 'synchronous_commit')");
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  log(`bench/ingest: ${fmt(settings.events)} events (+${fmt(settings.warmupEvents)} warm-up) per run, ${settings.batchSize}-event batches, ${settings.clients} clients, ${settings.repeat} runs per figure, ${cpus().length} CPUs, Node ${process.version}`);
  const backends: Backend[] = [];
  if (wanted.has('pglite')) backends.push('pglite');
  if (wanted.has('postgres')) {
    if (postgresUrl) backends.push('postgres');
    else log('PostgreSQL: skipped, no server given: set BENCH_DATABASE_URL (or TEST_DATABASE_URL / DATABASE_URL) to one where this user may CREATE DATABASE.');
  }

  log('preparing: generating messages and the bulk rows (validated and encrypted, untimed)…');
  const { warmup, rows, encryptMicros } = logRows(settings.events);
  const meanPayload = rows.reduce((sum, r) => sum + r.payload.length, 0) / rows.length;
  const { client, ready } = await LoadClient.start({ seed: SEED, warmupEvents: settings.warmupEvents, events: settings.events, batchSize: settings.batchSize });
  log(`  ${fmt(ready.bodies)} request bodies of ~${fmt(ready.meanBodyBytes / 1024, 1)} KB; payload ~${fmt(meanPayload)} bytes encrypted; encryption alone costs ~${fmt(encryptMicros, 1)} µs/event`);

  const reports: BackendReport[] = [];
  try {
    for (const backend of backends) {
      const apiRuns: ApiRun[] = [];
      const bulkRuns: Array<Record<string, number>> = [];
      for (let i = 1; i <= settings.repeat; i++) {
        // API and bulk alternate so drift on a shared machine hits both alike.
        const api = await apiRun(backend, client);
        apiRuns.push(api);
        log(`[${backend} ${i}/${settings.repeat}] API  ${fmt(api.events / api.seconds)} events/s (${fmt(api.events)} in ${fmt(api.seconds, 2)} s; p50 ${fmt(api.latencyMs.p50, 1)} ms, p99 ${fmt(api.latencyMs.p99, 1)} ms; CPU/event: server ${fmt(api.serverCpuMicrosPerEvent)} µs, load generator ${fmt(api.clientCpuMicrosPerEvent)} µs)`);
        const bulk = await bulkRun(backend, warmup, rows);
        bulkRuns.push(bulk);
        log(`[${backend} ${i}/${settings.repeat}] bulk ${Object.entries(bulk).map(([m, s]) => `${m} ${fmt(rows.length / s)} rows/s`).join(', ')}`);
      }
      const methods = backend === 'pglite' ? PGLITE_METHODS : POSTGRES_METHODS;
      const byMethod = Object.fromEntries(methods.map((m) => [m, median(bulkRuns.map((r) => rows.length / r[m]!))]));
      const [method, bulkRate] = Object.entries(byMethod).sort((a, b) => b[1] - a[1])[0]!;
      const apiRate = median(apiRuns.map((r) => r.events / r.seconds));
      const ratio = apiRate / bulkRate;
      reports.push({
        backend,
        api: { runs: apiRuns, eventsPerSecond: apiRate, latencyMs: { p50: median(apiRuns.map((r) => r.latencyMs.p50)), p99: median(apiRuns.map((r) => r.latencyMs.p99)) }, serverCpuMicrosPerEvent: median(apiRuns.map((r) => r.serverCpuMicrosPerEvent)) },
        bulk: { runsSeconds: bulkRuns, rowsPerSecondByMethod: byMethod, method, rowsPerSecond: bulkRate },
        ratio,
        goal: GOAL[backend],
        pass: ratio >= GOAL[backend],
      });
    }
  } finally {
    client.stop();
  }

  printTable(reports);
  const file = await writeResults(reports, { encryptMicros, meanPayload, meanBodyBytes: ready.meanBodyBytes });
  log(`\nresults written to ${file}`);
}

function printTable(reports: readonly BackendReport[]): void {
  const header = ['backend', 'ingest ev/s', 'bulk rows/s', 'bulk method', 'ratio', 'goal', 'result', 'p50 ms', 'p99 ms', 'server CPU µs/ev'];
  const lines = reports.map((r) => [r.backend, fmt(r.api.eventsPerSecond), fmt(r.bulk.rowsPerSecond), r.bulk.method, fmt(r.ratio, 2), `≥ ${r.goal}`, r.pass ? 'PASS' : 'FAIL', fmt(r.api.latencyMs.p50, 1), fmt(r.api.latencyMs.p99, 1), fmt(r.api.serverCpuMicrosPerEvent)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: readonly string[]) => cells.map((c, i) => (i === 0 || i === 3 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(`\nmedians of ${settings.repeat} runs (ingest: HTTP /v1/batch, ${settings.batchSize}/batch, ${settings.clients} clients, encryption included; bulk: same rows pre-encrypted, encryption not timed)`);
  log(row(header));
  for (const l of lines) log(row(l));
  // The goal is judged against the strongest bulk method; the others show where ingest stands against ordinary bulk writes.
  for (const r of reports) {
    log(`${r.backend} ingest ÷ each bulk method: ${Object.entries(r.bulk.rowsPerSecondByMethod).map(([m, rate]) => `${m} ${fmt(r.api.eventsPerSecond / rate, 2)}`).join(', ')}`);
  }
}

async function writeResults(reports: readonly BackendReport[], extra: { encryptMicros: number; meanPayload: number; meanBodyBytes: number }): Promise<string> {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const now = new Date();
  const file = join(dir, `ingest-${now.toISOString().slice(0, 10)}.json`);
  const pglite = JSON.parse(readFileSync(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as { version: string };
  const report = {
    at: now.toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, pglite: pglite.version, postgres: postgresUrl ? await postgresInfo(postgresUrl) : null },
    settings,
    notes: [
      'ingest: events acknowledged 200 per second over HTTP /v1/batch (real app, real socket, load generator in a child process), pipeline worker not running',
      'ingest includes validation and per-message encryption; bulk rows are validated and encrypted beforehand and only the load is timed',
      'PGlite on a temporary on-disk data directory (PGlite starts its backend with -F: no fsync, on both sides); PostgreSQL a fresh database per run',
      'bulk rate: median per method, best method reported',
    ],
    encryptMicrosPerEvent: extra.encryptMicros,
    meanPayloadBytes: extra.meanPayload,
    meanBodyBytes: extra.meanBodyBytes,
    backends: reports,
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/ingest failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
