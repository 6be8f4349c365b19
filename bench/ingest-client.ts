/**
 * Load generator for bench/ingest, run as a child process: the HTTP clients'
 * own work (sockets, reading responses) must not share the server's event
 * loop, as it would not in production. It builds the request bodies once,
 * then answers each `run` with the figures of one pass.
 */
import { Agent, request } from 'node:http';
import { batchBodies, generateEvents } from './ingest-data.js';

export interface ClientSetup {
  seed: number;
  warmupEvents: number;
  events: number;
  batchSize: number;
}

export type ToClient = { kind: 'run'; url: string; writeKey: string; clients: number } | { kind: 'exit' };

export interface RunResult {
  /** events acknowledged with 200 (accepted, not duplicates) in the timed part */
  events: number;
  requests: number;
  seconds: number;
  /** per-request time to a complete 200 response, milliseconds */
  latencyMs: { p50: number; p99: number; max: number };
  /** this process's CPU per event: on a small machine the load generator competes with the server */
  clientCpuMicrosPerEvent: number;
}

export type FromClient =
  | { kind: 'ready'; bodies: number; meanBodyBytes: number }
  | { kind: 'result'; result: RunResult }
  | { kind: 'error'; message: string };

interface Batch {
  body: Buffer;
  size: number;
}

function post(agent: Agent, url: URL, authorization: string, batch: Batch): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': batch.body.length, authorization },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        // A 200 must mean every message of the batch is durable and new: anything less would flatter the rate.
        const body = JSON.parse(text) as { accepted?: unknown; duplicates?: unknown };
        if (body.accepted !== batch.size || body.duplicates !== 0) return reject(new Error(`batch not fully accepted: ${text.slice(0, 300)}`));
        resolve();
      });
    });
    req.on('error', reject);
    req.end(batch.body);
  });
}

/** `clients` loops, each sending its next batch as soon as the previous one is acknowledged. */
async function drive(agent: Agent, url: URL, authorization: string, batches: readonly Batch[], clients: number, latencies: number[]): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const started = performance.now();
      await post(agent, url, authorization, batch);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(warmup: readonly Batch[], measured: readonly Batch[], message: Extract<ToClient, { kind: 'run' }>): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: message.clients });
  const url = new URL('/v1/batch', message.url);
  const authorization = 'Basic ' + Buffer.from(`${message.writeKey}:`).toString('base64');
  try {
    await drive(agent, url, authorization, warmup, message.clients, []);
    const latencies: number[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    await drive(agent, url, authorization, measured, message.clients, latencies);
    const seconds = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    latencies.sort((a, b) => a - b);
    const events = measured.reduce((sum, b) => sum + b.size, 0);
    return {
      events,
      requests: measured.length,
      seconds,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? Number.NaN },
      clientCpuMicrosPerEvent: (user + system) / events,
    };
  } finally {
    agent.destroy();
  }
}

function toBatches(seed: number, offset: number, count: number, batchSize: number): Batch[] {
  // Warm-up and measured events come from one stream, so their messageIds never collide.
  const events = generateEvents(seed, offset + count).slice(offset);
  return batchBodies(events, batchSize).map((body, i) => ({ body, size: Math.min(batchSize, count - i * batchSize) }));
}

function send(message: FromClient): void {
  process.send?.(message);
}

if (process.env.BENCH_CLIENT_SETUP) {
  const setup = JSON.parse(process.env.BENCH_CLIENT_SETUP) as ClientSetup;
  const warmup = toBatches(setup.seed, 0, setup.warmupEvents, setup.batchSize);
  const measured = toBatches(setup.seed, setup.warmupEvents, setup.events, setup.batchSize);
  send({ kind: 'ready', bodies: measured.length, meanBodyBytes: Math.round(measured.reduce((s, b) => s + b.body.length, 0) / measured.length) });
  process.on('message', (message: ToClient) => {
    if (message.kind === 'exit') return process.disconnect();
    run(warmup, measured, message).then(
      (result) => send({ kind: 'result', result }),
      (error: unknown) => send({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The parent going away (crash, Ctrl-C) must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
}
