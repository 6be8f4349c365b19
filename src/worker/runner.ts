/** The logger calls the worker makes; pino and Fastify's logger both fit. */
export interface WorkerLogger {
  error(details: object, message: string): void;
}
import { processBatch, type BatchOutcome, type PipelineDeps } from './pipeline.js';

export interface WorkerHandle {
  /** a hint that new messages are in the log (same process); others are found by polling */
  wake(): void;
  /** process until the log is empty: for tests and the CLI */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  batchSize?: number;
  pollMs?: number;
  logger?: WorkerLogger;
  onBatch?: (outcome: BatchOutcome, ms: number) => void;
}

/** Run the pipeline in a loop: batches back to back while there is work, then wait. */
export function startWorker(deps: PipelineDeps, options: WorkerOptions = {}): WorkerHandle {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1000;
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  let running: Promise<void> = Promise.resolve();

  const runOnce = async (): Promise<number> => {
    const started = performance.now();
    const outcome = await processBatch(deps, batchSize);
    if (outcome.processed > 0) options.onBatch?.(outcome, performance.now() - started);
    return outcome.processed;
  };

  const loop = async () => {
    let failures = 0;
    while (!stopped) {
      let processed = 0;
      try {
        processed = await runOnce();
        failures = 0;
      } catch (error) {
        // The batch rolled back and stays in the log; back off and retry it.
        failures += 1;
        options.logger?.error({ err: error }, 'pipeline batch failed; it will be retried');
      }
      if (processed > 0 && failures === 0) continue;
      const waitMs = failures > 0 ? Math.min(30_000, pollMs * 2 ** failures) : pollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    }
  };
  running = loop();

  return {
    wake: () => wakeUp?.(),
    async drain() {
      let total = 0;
      for (let n = await runOnce(); n > 0; n = await runOnce()) total += n;
      return total;
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}
