import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../server/app.js';
import { bootstrap } from '../server/bootstrap.js';
import { createMetrics } from '../server/metrics.js';
import { startWorker, type WorkerHandle } from '../worker/runner.js';
import type { Config } from './config.js';
import { openRuntime } from './runtime.js';

/** `custodian serve`: the API, and the pipeline worker in the same process unless --no-worker. */
export async function serve(config: Config, version: string): Promise<void> {
  const runtime = await openRuntime(config, 'serve');
  const { database } = runtime;
  const created = await bootstrap(database, { dataDir: config.dataDir, ...(config.writeKey ? { writeKey: config.writeKey } : {}), ...(config.adminToken ? { adminToken: config.adminToken } : {}) });
  const metrics = createMetrics();
  const logger = { level: config.logLevel };
  let worker: WorkerHandle | null = null;
  const localToken = `local_${randomBytes(24).toString('base64url')}`;
  const app = await buildApp({ ...runtime, logger, localToken, metrics, version, onAppended: () => worker?.wake() });
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
  const address = await app.listen({ port: config.port, host: config.host });
  const listening = new URL(address);
  // localhost reaches a wildcard bind; a server bound to one address (HOST=::1,
  // a LAN IP) is reached only there, and CLI commands use this URL from the lock.
  const wildcard = ['0.0.0.0', '::', ''].includes(config.host);
  const url = wildcard ? `http://localhost:${listening.port}` : `http://${listening.host}`;
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
  lines.push(`  try: curl -u <write key>: ${url}/v1/identify -H 'content-type: application/json' -d '{"userId":"u1","traits":{"email":"ada@example.com"}}'`, '');
  process.stdout.write(lines.join('\n') + '\n');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await worker?.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** `custodian worker`: the pipeline alone (several can share one PostgreSQL). */
export async function runWorker(config: Config): Promise<void> {
  const runtime = await openRuntime(config, 'worker');
  const worker = startWorker(runtime, { pollMs: 250 });
  process.stdout.write(`Custodian worker running on ${runtime.database.kind}\n`);
  const shutdown = async () => {
    await worker.stop();
    await runtime.database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}
