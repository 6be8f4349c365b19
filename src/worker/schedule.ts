import { auditQuality } from '../quality/audit.js';
import type { Database } from '../storage/database.js';
import type { WorkerLogger } from './runner.js';

export interface ScheduledJob {
  name: string;
  everyMs: number;
  /** the first run, after start */
  firstAfterMs: number;
  run(): Promise<unknown>;
}

/** Run jobs on fixed intervals, one run of a job at a time; a failure is logged and the next run goes ahead. */
export function startSchedule(jobs: readonly ScheduledJob[], logger: WorkerLogger): { stop(): Promise<void> } {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  for (const job of jobs) {
    let busy = false;
    const tick = () => {
      if (stopped || busy) return;
      busy = true;
      const run = job.run().catch((error: unknown) => logger.error({ err: error, job: job.name }, 'scheduled job failed; it runs again at its next time'));
      running.add(run);
      void run.finally(() => {
        busy = false;
        running.delete(run);
      });
    };
    const first = setTimeout(() => {
      tick();
      const every = setInterval(tick, job.everyMs);
      every.unref();
      timers.push(every);
    }, job.firstAfterMs);
    first.unref();
    timers.push(first);
  }
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(running);
    },
  };
}

/** The jobs a worker process runs besides the pipeline. */
export function workerJobs(database: Database): ScheduledJob[] {
  // The audit looks at whole days; hourly is often enough to raise yesterday's alerts soon after midnight UTC.
  return [{ name: 'quality-audit', everyMs: 3_600_000, firstAfterMs: 60_000, run: () => auditQuality(database) }];
}
