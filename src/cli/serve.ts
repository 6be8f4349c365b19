import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEventLogWriter } from '../collect/event-log.js';
import { createTrackingPlans } from '../collect/tracking-plans-store.js';
import { redactUrl, startStreamConsumer, StreamConsumerError, type StreamConsumer } from '../collect/stream-consumer.js';
import { redactToken } from '../collect/webhook-api.js';
import { buildApp } from '../server/app.js';
import { demoRoutes } from '../server/demo-routes.js';
import { countIngest, createMetrics } from '../server/metrics.js';
import { startWorker, type WorkerHandle } from '../worker/runner.js';
import { startSchedule, workerJobs, type ScheduledJob } from '../worker/schedule.js';
import { scheduledBackup } from '../storage/backup.js';
import { CliError, type Config } from './config.js';
import { demoAtStart, loadDemo, startDemoInBackground, type BackgroundDemo } from './demo.js';
import { DEFAULT_DEMO_CUSTOMERS, DEFAULT_DEMO_SEED, MAX_DEMO_CUSTOMERS } from './demo-data.js';
import { openRuntime, type Runtime } from './runtime.js';

/** `custodian serve`: the API, and the pipeline worker in the same process unless --no-worker. */
export async function serve(config: Config, version: string): Promise<void> {
  const runtime = await openRuntime(config, 'serve');
  const { database } = runtime;
  const created = runtime.bootstrap;
  const metrics = createMetrics();
  // Webhook senders may put their secret in the URL (?token=): keep it out of request logs.
  const logger = {
    level: config.logLevel,
    serializers: { req: (req: { method: string; url: string; host?: string; ip?: string }) => ({ method: req.method, url: redactToken(req.url), host: req.host, remoteAddress: req.ip }) },
  };
  let worker: WorkerHandle | null = null;
  const localToken = `local_${randomBytes(24).toString('base64url')}`;
  // One event log writer for the HTTP API and the stream consumer: their rows share group commits.
  const eventLog = createEventLogWriter(database, runtime.keyring);
  const app = await buildApp({ ...runtime, logger, localToken, metrics, version, eventLog, onAppended: () => worker?.wake(), rateLimit: config.rateLimit, activationDir: config.activationDir, ...(config.tls ? { tls: config.tls } : {}), ...(config.trustProxy !== undefined ? { trustProxy: config.trustProxy } : {}) });
  // Demo data: one load at a time (the first-start one, then any `custodian demo`).
  const demoDeps = { database, junk: runtime.junk, eventLog: createEventLogWriter(database, runtime.keyring) };
  let demoQueue: Promise<unknown> = Promise.resolve();
  await app.register(demoRoutes, {
    maxCustomers: MAX_DEMO_CUSTOMERS,
    defaults: { customers: config.demoCustomers ?? DEFAULT_DEMO_CUSTOMERS, seed: config.demoSeed ?? DEFAULT_DEMO_SEED },
    load(workspaceId, run, onProgress, signal) {
      const task = demoQueue.then(() => loadDemo(demoDeps, workspaceId, run, { onProgress, signal, onAppended: () => worker?.wake() }));
      demoQueue = task.catch(() => undefined);
      return task;
    },
  });
  const demoRun = await demoAtStart(config, runtime);
  if (config.worker) {
    worker = startWorker(runtime, {
      logger: app.log,
      onBatch(outcome, ms) {
        metrics.processed.inc(outcome.processed);
        metrics.merges.inc(outcome.merges);
        metrics.batchSeconds.observe(ms / 1000);
      },
      onDeadLetter(messageId) {
        metrics.deadLetters.inc();
        app.log.warn({ messageId }, 'message set aside after repeated failures; see event_log.error');
      },
    });
  }
  const schedule = config.worker ? startSchedule(scheduledJobs(config, runtime), app.log) : null;
  let consumer: StreamConsumer | null = null;
  if (config.consume) {
    try {
      consumer = await startStreamConsumer(
        {
          database,
          eventLog,
          junk: runtime.junk,
          trackingPlans: createTrackingPlans(database),
          logger: app.log,
          onAccepted(counts) {
            countIngest(metrics, counts);
            if (counts.types.length > 0) worker?.wake();
          },
        },
        { ...config.consume, workspaceId: 'default' },
      );
    } catch (error) {
      await worker?.stop();
      await app.close();
      await database.close();
      throw error instanceof StreamConsumerError ? new CliError(`--consume: ${error.message}`) : error;
    }
  }
  const address = await app.listen({ port: config.port, host: config.host });
  const listening = new URL(address);
  // localhost reaches a wildcard bind; a server bound to one address (HOST=::1,
  // a LAN IP) is reached only there, and CLI commands use this URL from the lock.
  const wildcard = ['0.0.0.0', '::', ''].includes(config.host);
  const url = wildcard ? `${listening.protocol}//localhost:${listening.port}` : `${listening.protocol}//${listening.host}`;
  database.lock?.annotate({ url, localToken });

  const lines = [
    '',
    `Custodian ${version} is running (${database.kind === 'pglite' ? `embedded PostgreSQL in ${join(config.dataDir, 'pgdata')}` : 'PostgreSQL'})`,
    `  API            ${url}`,
    `  API reference  ${url}/docs`,
    `  health         ${url}/health`,
  ];
  if (created.created) {
    lines.push(`  write key      ${created.writeKey}   (source "default")`, `  admin token    ${created.adminToken}`);
    if (created.file) lines.push(`  generated secrets were written to ${created.file}; they are not shown again`);
  } else {
    const file = join(config.dataDir, 'bootstrap.json');
    lines.push(`  write key and admin token: ${existsSync(file) ? file : 'as set by CUSTODIAN_WRITE_KEY / CUSTODIAN_ADMIN_TOKEN at first start'}`);
    for (const name of created.ignored ?? []) {
      lines.push(`  warning: ${name} is not a secret of this database (they are taken from the environment on the first start only); it will be refused`);
    }
  }
  if (demoRun) lines.push(`  demo data      loading ${demoRun.customers.toLocaleString('en')} customers in the background (sources crm, pos, web, miniprogram, survey); --no-demo skips it`);
  if (consumer) {
    const c = consumer.config;
    lines.push(`  consuming      ${redactUrl(c.url)} stream ${c.stream}, subjects ${c.subject.slice(0, -1)}<source> (durable ${c.durable}); rejects on ${c.deadLetter}.<source>`);
  }
  lines.push(`  try: curl -u <write key>: ${url}/v1/identify -H 'content-type: application/json' -d '{"userId":"u1","traits":{"email":"ada@example.com"}}'`, '');
  process.stdout.write(lines.join('\n') + '\n');

  // After listen: the server answers at once, the demo fills in behind it.
  let demo: BackgroundDemo | null = null;
  if (demoRun) {
    demo = startDemoInBackground(demoDeps, demoRun, { log: app.log, onAppended: () => worker?.wake(), worker: config.worker });
    demoQueue = demo.done;
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await demo?.stop();
    // Stop taking stream messages and ack those taken before the database goes.
    await consumer?.stop();
    await app.close();
    await schedule?.stop();
    await worker?.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** The worker's jobs, with scheduled backups when CUSTODIAN_BACKUP_DIR asks for them. */
function scheduledJobs(config: Config, runtime: Runtime): ScheduledJob[] {
  const jobs = workerJobs(runtime, { activationDir: config.activationDir, publicUrl: config.publicUrl, sendLeaseMs: config.sendLeaseMs });
  if (!config.backup) return jobs;
  const { dir, everyHours, keep } = config.backup;
  return [...jobs, scheduledBackup({ database: runtime.database, masterKey: runtime.masterKey, dir, keep, everyMs: everyHours * 3_600_000 })];
}

/** `custodian worker`: the pipeline alone (several can share one PostgreSQL). */
export async function runWorker(config: Config): Promise<void> {
  const runtime = await openRuntime(config, 'worker');
  const worker = startWorker(runtime, { pollMs: 250 });
  const schedule = startSchedule(scheduledJobs(config, runtime), { error: (details, message) => process.stderr.write(`${message}: ${String((details as { err?: unknown }).err)}\n`) });
  process.stdout.write(`Custodian worker running on ${runtime.database.kind}\n`);
  const shutdown = async () => {
    await schedule.stop();
    await worker.stop();
    await runtime.database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}
