import { sql } from 'kysely';
import type { IdentityDeps } from '../identity/merge.js';
import { resolveWorkspace } from '../identity/resolve.js';
import { auditQuality } from '../quality/audit.js';
import { runRfm } from '../analytics/jobs.js';
import { refreshWorkspace } from '../segments/membership.js';
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

/**
 * Probabilistic matching after imports: each workspace with an import
 * finished since its last resolve run, once the pipeline has built the
 * imported profiles, gets an incremental run.
 */
export async function resolveAfterImports(deps: IdentityDeps): Promise<number> {
  const { db } = deps.database;
  const due = await db
    .selectFrom('imports as i')
    .select('i.workspace_id')
    .distinct()
    .where('i.status', '=', 'done')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('identity_runs as r')
            .select('r.id')
            .whereRef('r.workspace_id', '=', 'i.workspace_id')
            .where(sql<boolean>`r.started_at >= i.finished_at`),
        ),
      ),
    )
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('event_log as l').select('l.seq').whereRef('l.workspace_id', '=', 'i.workspace_id').where('l.processed_at', 'is', null))))
    .execute();
  for (const { workspace_id } of due) {
    const { counts } = await resolveWorkspace(deps, workspace_id);
    if (counts.merges > 0) await refreshWorkspace(deps.database.db, workspace_id, { now: new Date(), cause: 'merge' });
  }
  return due.length;
}

/**
 * Refresh segments and computed tags without waiting for events: the ones
 * that depend on time (members leave when a window passes) often, and all
 * of them now and then, which also catches up after merges the resolver made.
 */
export async function refreshSegments(db: Database['db'], timeRelativeOnly: boolean): Promise<number> {
  const workspaces = await db
    .selectFrom('segments')
    .select('workspace_id')
    .union(db.selectFrom('tags').select('workspace_id').where('kind', '<>', 'manual'))
    .execute();
  for (const { workspace_id } of workspaces) await refreshWorkspace(db, workspace_id, { now: new Date(), cause: 'refresh', timeRelativeOnly });
  return workspaces.length;
}

/** RFM for every workspace with orders, then the segments that read its scores. */
export async function refreshRfm(db: Database['db']): Promise<number> {
  const workspaces = await db
    .selectFrom('workspaces as w')
    .select('w.id as workspace_id')
    .where(({ exists, selectFrom }) => exists(selectFrom('events as e').select('e.message_id').whereRef('e.workspace_id', '=', 'w.id').where('e.event', '=', 'Order Completed')))
    .execute();
  for (const { workspace_id } of workspaces) {
    await runRfm(db, workspace_id);
    await refreshWorkspace(db, workspace_id, { now: new Date(), cause: 'refresh' });
  }
  return workspaces.length;
}

/** The jobs a worker process runs besides the pipeline. */
export function workerJobs(deps: IdentityDeps): ScheduledJob[] {
  return [
    // The audit looks at whole days; hourly is often enough to raise yesterday's alerts soon after midnight UTC.
    { name: 'quality-audit', everyMs: 3_600_000, firstAfterMs: 60_000, run: () => auditQuality(deps.database) },
    { name: 'resolve-after-imports', everyMs: 30_000, firstAfterMs: 30_000, run: () => resolveAfterImports(deps) },
    // Windows are in hours and days: a member of "ordered in the last 14 days" leaves within five minutes of the
    // window passing, and a big workspace is not recomputed every minute.
    { name: 'segments-time', everyMs: 300_000, firstAfterMs: 20_000, run: () => refreshSegments(deps.database.db, true) },
    { name: 'segments-all', everyMs: 3_600_000, firstAfterMs: 120_000, run: () => refreshSegments(deps.database.db, false) },
    // Recency moves a day at a time; four runs a day keep R scores and the segments that read them current.
    { name: 'rfm', everyMs: 6 * 3_600_000, firstAfterMs: 300_000, run: () => refreshRfm(deps.database.db) },
  ];
}
