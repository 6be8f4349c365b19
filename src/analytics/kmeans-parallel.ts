/**
 * k-means with its restarts spread over worker threads. Restarts are
 * independent and each draws from its own seeded stream, so handing them out
 * to threads from a shared counter gives exactly the result `kmeans` gives,
 * in about 1/threads of the time when there are at least as many restarts as
 * threads. The data is shared with the workers through one SharedArrayBuffer,
 * not copied to each.
 *
 * Workers are kept between fits (unreferenced, so they never hold the process
 * open): starting one costs more than a small fit, and a kept one has its
 * code compiled already. This file is also the workers' entry point.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fitRestarts, isBetter, kmeansSettings, type KMeansOptions, type KMeansResult, type KMeansSettings, type Matrix } from './kmeans.js';

const ROLE = 'custodian-kmeans-restarts';

interface Job {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  n: number;
  d: number;
  settings: Omit<KMeansSettings, 'onProgress'>;
  /** an Int32Array's buffer: the next restart to run */
  counter: SharedArrayBuffer;
  progress: boolean;
}

type Reply =
  | { kind: 'progress'; restart: number; iteration: number }
  | { kind: 'done'; result: (KMeansResult & { restart: number }) | null }
  | { kind: 'failed'; message: string };

export interface KMeansParallelOptions extends KMeansOptions {
  /** threads to use, this one included; default: the machine's cores. Never more than there are restarts. */
  threads?: number;
}

/**
 * `kmeans` with its restarts run on `threads` threads at once; the result is
 * identical to `kmeans(x, options)`. Data not already in a SharedArrayBuffer
 * is copied into one. Progress from other threads reaches `onProgress` when
 * this thread is between its own restarts' work, so it may come late.
 */
export async function kmeansParallel(x: Matrix, options: KMeansParallelOptions): Promise<KMeansResult> {
  const { threads: wanted, ...rest } = options;
  if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1)) throw new RangeError(`threads must be an integer ≥ 1 (got ${wanted})`);
  const settings = kmeansSettings(x, rest);
  const threads = Math.min(wanted ?? availableParallelism(), settings.restarts);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const claim = () => Atomics.add(counter, 0, 1);
  if (threads <= 1) return withoutRestart(fitRestarts(x, settings, claim)!);

  const shared = sharedCopy(x.data);
  const { onProgress, ...plain } = settings;
  const job: Job = { buffer: shared.buffer as SharedArrayBuffer, byteOffset: shared.byteOffset, n: x.n, d: x.d, settings: plain, counter: counter.buffer as SharedArrayBuffer, progress: onProgress !== undefined };
  const answers = take(threads - 1).map((worker) => runOn(worker, job, onProgress));
  // Awaited below, or only settled if this thread's share throws.
  for (const answer of answers) answer.catch(() => undefined);
  let mine: (KMeansResult & { restart: number }) | null;
  try {
    mine = fitRestarts(x, settings, claim);
  } catch (error) {
    // No restart is left to claim, so the workers stop after the one they are on.
    Atomics.store(counter, 0, settings.restarts);
    await Promise.allSettled(answers);
    throw error;
  }
  let best = mine;
  for (const other of await Promise.all(answers)) {
    if (other !== null && (best === null || isBetter(other, best))) best = other;
  }
  return withoutRestart(best!);
}

/** Stops the kept worker threads (they are started again when needed). */
export async function closeKMeansWorkers(): Promise<void> {
  const all = idle.splice(0);
  await Promise.all(all.map((w) => w.terminate()));
}

function withoutRestart(result: KMeansResult & { restart: number }): KMeansResult {
  const { restart: _, ...rest } = result;
  return rest;
}

function sharedCopy(data: Float64Array): Float64Array {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const copy = new Float64Array(new SharedArrayBuffer(data.byteLength));
  copy.set(data);
  return copy;
}

const idle: Worker[] = [];

function take(count: number): Worker[] {
  const out = idle.splice(0, count);
  while (out.length < count) out.push(startWorker());
  return out;
}

function runOn(worker: Worker, job: Job, onProgress: KMeansOptions['onProgress']): Promise<(KMeansResult & { restart: number }) | null> {
  worker.ref();
  return new Promise((resolve, reject) => {
    const finish = (keep: boolean) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (keep) {
        worker.unref();
        idle.push(worker);
      }
    };
    const onMessage = (reply: Reply) => {
      if (reply.kind === 'progress') {
        onProgress?.(reply.restart, reply.iteration);
        return;
      }
      finish(true);
      if (reply.kind === 'done') resolve(reply.result);
      else reject(new Error(`k-means worker failed: ${reply.message}`));
    };
    const onError = (error: Error) => {
      finish(false);
      reject(error);
    };
    const onExit = (code: number) => {
      finish(false);
      reject(new Error(`k-means worker stopped (exit code ${code}) before answering`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  });
}

/**
 * From TypeScript source (tsx, vitest) the worker cannot load this file by
 * itself: tsx's loader does not reach worker threads on Node 20
 * (privatenumber/tsx#354), so the worker starts from a line of plain
 * JavaScript that registers tsx first. From dist/ it loads the .js directly.
 */
function startWorker(): Worker {
  const self = import.meta.url;
  const options = { workerData: { role: ROLE } };
  const worker = self.endsWith('.ts')
    ? new Worker(`import(${JSON.stringify(tsxApi())}).then(({ register }) => { register(); return import(${JSON.stringify(self)}); })`, { ...options, eval: true })
    : new Worker(new URL(self), options);
  worker.unref();
  worker.on('exit', () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  // An idle worker's failure is reported by the exit above; this keeps it from being thrown.
  worker.on('error', () => undefined);
  return worker;
}

function tsxApi(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    // Module runners that transform this file (vitest) may lack import.meta.resolve.
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  }
}

function serve(): void {
  const port = parentPort!;
  port.on('message', (job: Job) => {
    try {
      const x: Matrix = { data: new Float64Array(job.buffer, job.byteOffset, job.n * job.d), n: job.n, d: job.d };
      const counter = new Int32Array(job.counter);
      const onProgress = job.progress ? (restart: number, iteration: number) => port.postMessage({ kind: 'progress', restart, iteration } satisfies Reply) : undefined;
      const result = fitRestarts(x, { ...job.settings, onProgress }, () => Atomics.add(counter, 0, 1));
      // fitRestarts copies its answer into fresh arrays, so handing their buffers over takes nothing from this thread.
      const owned = result ? [result.centroids.buffer, result.assignments.buffer, result.sizes.buffer] : [];
      port.postMessage({ kind: 'done', result } satisfies Reply, owned as ArrayBuffer[]);
    } catch (error) {
      port.postMessage({ kind: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies Reply);
    }
  });
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE) serve();
