/** The logger calls the worker makes; pino and Fastify's logger both fit. */
export interface WorkerLogger {
  error(details: object, message: string): void;
}
import { KeyringError } from '../privacy/crypto.js';
import { deadLetterOldest, processBatch, type BatchOutcome, type PipelineDeps } from './pipeline.js';

/** A message that fails this many times on its own is set aside (dead-lettered). */
const DEAD_LETTER_AFTER = 3;

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
  onDeadLetter?: (messageId: string | null) => void;
}

/** The KeyringError behind a failure (thrown as is, or as the cause of another error), if one is. */
function keyringErrorOf(error: unknown): KeyringError | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) if (e instanceof KeyringError) return e;
  return null;
}

/** Run the pipeline in a loop: batches back to back while there is work, then wait. */
export function startWorker(deps: PipelineDeps, options: WorkerOptions = {}): WorkerHandle {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1000;
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  // A wake that comes while a batch runs (no one parked yet) must not be lost: the batch may have
  // looked at the log before that message was stored, and the loop would then sleep a full poll.
  let woken = false;
  let running: Promise<void> = Promise.resolve();

  const runOnce = async (limit: number): Promise<number> => {
    const started = performance.now();
    const outcome = await processBatch(deps, limit);
    if (outcome.processed > 0) options.onBatch?.(outcome, performance.now() - started);
    return outcome.processed;
  };

  const loop = async () => {
    let failures = 0;
    // After a failed batch, go one message at a time through what it held, to
    // find the message at fault without holding up the others.
    let isolating = 0;
    // Batches in a row that failed for want of a key: they back off like failures, and set nothing aside.
    let keyWaits = 0;
    while (!stopped) {
      let processed = 0;
      try {
        woken = false;
        processed = await runOnce(isolating > 0 ? 1 : batchSize);
        failures = 0;
        keyWaits = 0;
        isolating = Math.max(0, isolating - processed);
      } catch (error) {
        const keyError = keyringErrorOf(error);
        // A key this process has not loaded, or has no current one of: not the message's fault. Reload the keys and
        // try again (backing off), without counting toward setting the message aside. A key destroyed, or a
        // ciphertext that does not open, is the message's: reloading does not change that, so it counts.
        if (keyError) {
          const reload = (deps.keyring as { refresh?: () => Promise<void> }).refresh;
          await reload?.call(deps.keyring).catch((reloadError: unknown) => options.logger?.error({ err: reloadError }, 'reloading the data keys failed'));
        }
        if (keyError?.kind === 'unavailable') {
          keyWaits += 1;
          options.logger?.error({ err: error, keyId: keyError.keyId }, 'pipeline batch needs a data key this process does not have; keys reloaded, it will be retried');
        } else {
          failures += 1;
          isolating = batchSize;
          options.logger?.error({ err: error }, 'pipeline batch failed; it stays in the log and will be retried');
        }
        if (failures > DEAD_LETTER_AFTER) {
          try {
            const messageId = await deadLetterOldest(deps, error instanceof Error ? error.message : String(error));
            // null: nothing was set aside (the log was empty, or the message named an erased person and was dropped).
            if (messageId !== null) options.onDeadLetter?.(messageId);
            failures = 0;
          } catch (deadLetterError) {
            // The database itself is failing: nothing to set aside, keep backing off.
            options.logger?.error({ err: deadLetterError }, 'could not set the failing message aside');
          }
        }
      }
      if (processed > 0 && failures === 0 && keyWaits === 0) {
        // Embedded PostgreSQL runs in this thread and answers without a trip
        // through the event loop: back-to-back batches would keep the API
        // from even accepting a connection. Let I/O in between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const backoff = Math.max(failures, keyWaits);
      const waitMs = backoff > 0 ? Math.min(30_000, pollMs * 2 ** backoff) : pollMs;
      if (woken && backoff === 0) continue;
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
    wake: () => {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async drain() {
      let total = 0;
      for (let n = await runOnce(batchSize); n > 0; n = await runOnce(batchSize)) total += n;
      return total;
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}
