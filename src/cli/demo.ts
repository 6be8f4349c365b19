import { sql } from 'kysely';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { createEventLogWriter, type EventLogWriter } from '../collect/event-log.js';
import { validateMessage, type TrackingMessage } from '../collect/messages.js';
import { ensureSource } from '../collect/sources.js';
import { readLock } from '../storage/data-dir-lock.js';
import type { Database } from '../storage/database.js';
import { startWorker } from '../worker/runner.js';
import { CliError, type Config } from './config.js';
import {
  countMessage,
  DEFAULT_DEMO_CUSTOMERS,
  DEFAULT_DEMO_SEED,
  DEMO_SOURCES,
  demoMessages,
  demoPrefix,
  emptySummary,
  type DemoMessage,
  type DemoSource,
  type DemoSummary,
} from './demo-data.js';
import { openRuntime, type Runtime } from './runtime.js';

/** Which demo data set: how many customers, from which seed. */
export interface DemoRun {
  customers: number;
  seed: string;
}

export interface DemoProgress {
  /** customers written so far, of `total` */
  customers: number;
  total: number;
  messages: number;
}

export interface DemoOutcome {
  summary: DemoSummary;
  /** messages written to the event log now */
  stored: number;
  /** messages already there (an earlier load with this seed) */
  duplicates: number;
  /** messages validation refused: none, unless the generator has a bug */
  rejected: number;
  seconds: number;
}

export interface DemoWriteDeps {
  database: Database;
  junk: JunkIdFilter;
  /** the event log writer: the server's own when it runs in a server */
  eventLog: EventLogWriter;
}

export interface DemoHooks {
  onProgress?: (progress: DemoProgress) => void;
  /** after each chunk is durable: wake an in-process worker */
  onAppended?: () => void;
  signal?: AbortSignal;
  /** the end of the generated history; default: now */
  now?: Date;
}

/** Messages written per round: each source's share is one append (one transaction). */
const CHUNK_MESSAGES = 1000;

export function demoRunOf(config: Config): DemoRun {
  return { customers: config.demoCustomers ?? DEFAULT_DEMO_CUSTOMERS, seed: config.demoSeed ?? DEFAULT_DEMO_SEED };
}

/**
 * Write the demo data set into a workspace's event log: each message is
 * validated like a /v1 call and appended through the event log writer, so it
 * takes the same durable path as the API. The pipeline worker does the rest.
 * Deterministic messageIds make a second load with the same seed add nothing.
 */
export async function writeDemo(deps: DemoWriteDeps, workspaceId: string, run: DemoRun, hooks: DemoHooks = {}): Promise<DemoOutcome> {
  const started = performance.now();
  for (const source of DEMO_SOURCES) await ensureSource(deps.database, workspaceId, source);
  const summary = emptySummary(run.customers);
  let stored = 0;
  let duplicates = 0;
  let rejected = 0;
  let pending: DemoMessage[] = [];
  let customersDone = 0;

  const flush = async () => {
    hooks.signal?.throwIfAborted();
    const receivedAt = new Date();
    const bySource = new Map<DemoSource, TrackingMessage[]>();
    for (const item of pending) {
      const checked = validateMessage(item.message, { receivedAt, type: null, junk: deps.junk });
      if (!checked.ok) {
        rejected += 1;
        continue;
      }
      const list = bySource.get(item.source) ?? [];
      list.push(checked.message);
      bySource.set(item.source, list);
    }
    pending = [];
    // Appended together, the writer commits them in one group.
    const outcomes = await Promise.all([...bySource].map(([source, messages]) => deps.eventLog.append(workspaceId, source, messages)));
    for (const outcome of outcomes) {
      stored += outcome.stored.size;
      duplicates += outcome.duplicates;
    }
    if (outcomes.some((o) => o.stored.size > 0)) hooks.onAppended?.();
    hooks.onProgress?.({ customers: customersDone, total: run.customers, messages: summary.messages });
    // Let the server answer between chunks: embedded PostgreSQL runs in this
    // thread, and its promises alone never let the event loop reach I/O.
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  let lastPerson = -1;
  for (const item of demoMessages({ customers: run.customers, seed: run.seed, now: hooks.now ?? new Date() })) {
    // Cut between people, so a progress count names customers wholly written.
    if (item.person !== lastPerson) {
      if (pending.length >= CHUNK_MESSAGES) await flush();
      customersDone = item.person;
      lastPerson = item.person;
    }
    countMessage(summary, item);
    pending.push(item);
  }
  customersDone = run.customers;
  await flush();
  return { summary, stored, duplicates, rejected, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------
// The workspace remembers a demo load in progress, so one cut short (the
// server stopped or killed) is finished on the next start.

type DemoState = DemoRun & { status: 'loading' | 'loaded'; at: string };

export async function readDemoState(database: Database, workspaceId: string): Promise<DemoState | null> {
  const row = await database.db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirst();
  const demo = (row?.settings as Record<string, unknown> | undefined)?.demo;
  if (typeof demo !== 'object' || demo === null) return null;
  const { status, customers, seed, at } = demo as Record<string, unknown>;
  if ((status !== 'loading' && status !== 'loaded') || typeof customers !== 'number' || typeof seed !== 'string') return null;
  return { status, customers, seed, at: typeof at === 'string' ? at : '' };
}

async function writeDemoState(database: Database, workspaceId: string, state: DemoState): Promise<void> {
  await database.db
    .updateTable('workspaces')
    .set({ settings: sql`settings || ${JSON.stringify({ demo: state })}::jsonb` })
    .where('id', '=', workspaceId)
    .execute();
}

/** writeDemo, with the workspace's note of it kept up to date. */
export async function loadDemo(deps: DemoWriteDeps, workspaceId: string, run: DemoRun, hooks: DemoHooks = {}): Promise<DemoOutcome> {
  await writeDemoState(deps.database, workspaceId, { ...run, status: 'loading', at: new Date().toISOString() });
  const outcome = await writeDemo(deps, workspaceId, run, hooks);
  await writeDemoState(deps.database, workspaceId, { ...run, status: 'loaded', at: new Date().toISOString() });
  return outcome;
}

/**
 * What `serve` loads at start: on the first start of an embedded database
 * (nothing in it yet) unless --no-demo; on any database with --demo; and a
 * load an earlier start did not finish. null: nothing to load.
 */
export async function demoAtStart(config: Config, runtime: Runtime, workspaceId = 'default'): Promise<DemoRun | null> {
  if (config.demo === 'off') return null;
  if (config.demo === 'on') return demoRunOf(config);
  if (runtime.database.kind !== 'pglite') return null;
  if (runtime.bootstrap.created) return demoRunOf(config);
  const state = await readDemoState(runtime.database, workspaceId);
  return state?.status === 'loading' ? { customers: state.customers, seed: state.seed } : null;
}

export interface BackgroundDemo {
  readonly done: Promise<DemoOutcome | null>;
  /** stop between chunks (what is written stays; the next start finishes the rest) */
  stop(): Promise<void>;
}

export interface DemoLogger {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

async function countPending(database: Database, workspaceId: string): Promise<number> {
  const row = await database.db
    .selectFrom('event_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('processed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function countProfiles(database: Database, workspaceId: string): Promise<number> {
  const row = await database.db
    .selectFrom('profiles')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('merged_into', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * `serve`: load the demo in the background after listen, logging progress now
 * and then, and once more when the in-process worker has built the profiles.
 */
export function startDemoInBackground(
  deps: DemoWriteDeps,
  run: DemoRun,
  options: { log: DemoLogger; onAppended?: () => void; workspaceId?: string; worker: boolean },
): BackgroundDemo {
  const abort = new AbortController();
  const workspaceId = options.workspaceId ?? 'default';
  const started = performance.now();
  let nextLog = 0.25;
  options.log.info({ customers: run.customers, seed: run.seed }, `demo data: loading ${run.customers} customers in the background`);
  const done = loadDemo(deps, workspaceId, run, {
    signal: abort.signal,
    ...(options.onAppended ? { onAppended: options.onAppended } : {}),
    onProgress(p) {
      if (p.total === 0 || p.customers / p.total < nextLog || p.customers === p.total) return;
      options.log.info({ customers: p.customers, messages: p.messages }, `demo data: ${Math.floor((p.customers / p.total) * 100)}% written`);
      while (nextLog <= p.customers / p.total) nextLog += 0.25;
    },
  }).then(
    (outcome) => {
      options.log.info(
        { ...outcome.summary, stored: outcome.stored, duplicates: outcome.duplicates, seconds: Math.round(outcome.seconds * 10) / 10 },
        `demo data: ${outcome.summary.customers} customers, ${outcome.summary.messages} messages in the event log; ${options.worker ? 'the worker is building profiles' : 'run `custodian worker` to build profiles'}`,
      );
      if (options.worker) void reportWhenProcessed();
      return outcome;
    },
    (error: unknown) => {
      if (abort.signal.aborted) return null;
      options.log.error({ err: error }, 'demo data: loading failed; run `custodian demo` to finish it');
      return null;
    },
  );
  // Not awaited by stop(): it only watches, a second at a time.
  async function reportWhenProcessed(): Promise<void> {
    try {
      while (!abort.signal.aborted) {
        if ((await countPending(deps.database, workspaceId)) === 0) {
          const profiles = await countProfiles(deps.database, workspaceId);
          options.log.info({ profiles, seconds: Math.round((performance.now() - started) / 100) / 10 }, `demo data: ready, ${profiles} profiles`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    } catch {
      // the database closed under us: the server is stopping
    }
  }
  return {
    done,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

// ---------------------------------------------------------------------------
// `custodian demo`

/** Progress on stderr: one updating line on a terminal, a line per quarter otherwise. */
function progressLine(label: string) {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let quarter = 0;
  return {
    update(done: number, total: number, detail: string) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (tty) {
        if (Date.now() - last < 150 && fraction < 1) return;
        last = Date.now();
        process.stderr.write(`\r${label} [${'#'.repeat(Math.round(fraction * 20)).padEnd(20, '.')}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${detail}   `);
      } else if (fraction >= (quarter + 1) / 4) {
        while (fraction >= (quarter + 1) / 4) quarter += 1;
        process.stderr.write(`${label} ${Math.round(fraction * 100)}%  ${detail}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

const n = (value: number) => value.toLocaleString('en');

function summaryLines(run: DemoRun, outcome: DemoOutcome): string[] {
  const s = outcome.summary;
  const revenue = Object.entries(s.revenue)
    .sort(([a], [b]) => (a === 'CNY' ? -1 : b === 'CNY' ? 1 : a.localeCompare(b)))
    .map(([currency, amount]) => `${currency} ${amount.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`)
    .join(' + ');
  return [
    `demo data set: ${n(s.customers)} customers, seed ${JSON.stringify(run.seed)} (messageIds ${demoPrefix(run.seed)}-…)`,
    `  messages      ${n(s.messages)}: ${DEMO_SOURCES.map((source) => `${source} ${n(s.bySource[source])}`).join(', ')}`,
    `  orders        ${n(s.orders)} (${revenue || 'no revenue'}); survey responses ${n(s.surveyResponses)}; complaints ${n(s.complaints)}; campaign touches ${n(s.campaignTouches)}`,
    `  event log     ${n(outcome.stored)} written, ${n(outcome.duplicates)} already there${outcome.rejected > 0 ? `, ${n(outcome.rejected)} refused` : ''} (${outcome.seconds.toFixed(1)} s)`,
  ];
}

/**
 * `custodian demo`: through the running server's API when one holds the
 * embedded data directory; otherwise into the database directly, and then the
 * pipeline is run to the end so the profiles exist when the command returns.
 */
export async function demoCommand(config: Config): Promise<void> {
  const run = demoRunOf(config);
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) return demoThroughServer(holder.url, holder.localToken, run);

  const runtime = await openRuntime(config, 'demo');
  try {
    if (runtime.bootstrap.created) {
      process.stderr.write(`created workspace "default"${runtime.bootstrap.file ? `; its write key and admin token are in ${runtime.bootstrap.file}` : ''}\n`);
    }
    const progress = progressLine('writing demo data');
    const outcome = await loadDemo({ database: runtime.database, junk: runtime.junk, eventLog: createEventLogWriter(runtime.database, runtime.keyring) }, 'default', run, {
      onProgress: (p) => progress.update(p.customers, p.total, `${n(p.customers)} customers, ${n(p.messages)} messages`),
    });
    progress.done();
    process.stdout.write(summaryLines(run, outcome).join('\n') + '\n');

    // The pipeline, to the end: the worker's own loop and drain() share the work.
    const database = runtime.database;
    const pending = await countPending(database, 'default');
    const pipeline = progressLine('building profiles');
    let processed = 0;
    const started = performance.now();
    const worker = startWorker(runtime, {
      batchSize: 1000,
      pollMs: 60_000,
      onBatch(outcome) {
        processed += outcome.processed;
        pipeline.update(processed, pending, `${n(processed)} of ${n(pending)} messages`);
      },
    });
    try {
      await worker.drain();
    } finally {
      await worker.stop();
    }
    pipeline.done();
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`  pipeline      ${n(processed)} messages processed (${seconds.toFixed(1)} s); the workspace has ${n(await countProfiles(database, 'default'))} profiles\n`);
  } finally {
    await runtime.database.close();
  }
}

interface DemoLine {
  phase: 'progress' | 'done' | 'error';
  customers?: number;
  total?: number;
  messages?: number;
  message?: string;
  outcome?: DemoOutcome;
}

async function demoThroughServer(url: string, token: string, run: DemoRun): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${url}/api/demo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(run),
    });
  } catch (error) {
    throw new CliError(`the server at ${url} did not answer: ${(error as Error).message}`);
  }
  if (!response.ok || !response.body) throw new CliError(`the server at ${url} answered ${response.status}: ${await response.text()}`);
  const progress = progressLine('writing demo data');
  const result: { outcome: DemoOutcome | null } = { outcome: null };
  let buffered = '';
  const decoder = new TextDecoder();
  const handle = (text: string) => {
    if (text.trim() === '') return;
    const line = JSON.parse(text) as DemoLine;
    if (line.phase === 'progress') progress.update(line.customers ?? 0, line.total ?? run.customers, `${n(line.customers ?? 0)} customers, ${n(line.messages ?? 0)} messages`);
    else if (line.phase === 'done' && line.outcome) result.outcome = line.outcome;
    else if (line.phase === 'error') throw new CliError(`the server could not load the demo data: ${line.message ?? 'unknown error'}`);
  };
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      handle(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
  handle(buffered);
  progress.done();
  if (!result.outcome) throw new CliError(`the server at ${url} ended the demo load without a result`);
  process.stdout.write(summaryLines(run, result.outcome).join('\n') + '\n');
  await waitForServerWorker(url);
}

/** Follow the server's worker through /metrics until the log is empty, or it stops making progress. */
async function waitForServerWorker(url: string): Promise<void> {
  const pendingNow = async () => {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const match = /^custodian_event_log_pending (\d+)/m.exec(text);
    return match ? Number(match[1]) : null;
  };
  const started = performance.now();
  const first = await pendingNow();
  if (first === null) return;
  const progress = progressLine('building profiles');
  let pending = first;
  let lastChange = Date.now();
  while (pending > 0) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await pendingNow();
    if (now === null) break;
    if (now < pending) lastChange = Date.now();
    pending = now;
    progress.update(first - pending, first, `${n(pending)} messages waiting`);
    if (Date.now() - lastChange > 30_000) {
      progress.done();
      process.stdout.write(`  pipeline      the server's worker has not taken messages for 30 s (${n(pending)} waiting; is it running with --no-worker?): they are processed when a worker runs\n`);
      return;
    }
  }
  progress.done();
  process.stdout.write(`  pipeline      processed by the server's worker (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
