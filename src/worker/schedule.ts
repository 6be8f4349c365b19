import { sql } from 'kysely';
import type { IdentityDeps } from '../identity/merge.js';
import { resolveWorkspace } from '../identity/resolve.js';
import { auditQuality } from '../quality/audit.js';
import { runClv } from '../analytics/clv-run.js';
import { runFeedback } from '../analytics/feedback-run.js';
import { AnalyticsInputError, runRfm } from '../analytics/jobs.js';
import { retrainModels } from '../analytics/model-training.js';
import { FEEDBACK_EVENTS } from '../analytics/queries.js';
import { runRecommender } from '../analytics/recommender-run.js';
import { lastFullMonth, storedMonthlyReport, storeMonthlyReport } from '../analytics/report-data.js';
import { appendAudit } from '../privacy/audit-log.js';
import { reencryptRetired } from '../privacy/reencrypt.js';
import { appendPendingAudits } from '../privacy/dsar.js';
import { applyRetention } from '../privacy/retention.js';
import { createQualityReporter } from '../quality/report.js';
import { refreshWorkspace } from '../segments/membership.js';
import type { Database } from '../storage/database.js';
import { campaignRoiSource } from '../activate/attribution.js';
import { campaignMonthSource } from '../activate/monthly-campaigns.js';
import { advanceJourneys, enrollFromSegmentChanges } from '../activate/journeys.js';
import { finishCampaigns, runDueCampaigns } from '../activate/scheduler.js';
import { runRealtimeSyncs, runScheduledSyncs } from '../activate/segment-sync.js';
import { createSender } from '../activate/sender.js';
import type { WorkerLogger } from './runner.js';

export interface ScheduledJob {
  name: string;
  everyMs: number;
  /** the first run, after start */
  firstAfterMs: number;
  /** `signal` aborts when the schedule stops: a long job ends its current step rather than holding up shutdown */
  run(signal: AbortSignal): Promise<unknown>;
}

/** Run jobs on fixed intervals, one run of a job at a time; a failure is logged and the next run goes ahead. */
export function startSchedule(jobs: readonly ScheduledJob[], logger: WorkerLogger): { stop(): Promise<void> } {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  const stopping = new AbortController();
  let stopped = false;
  for (const job of jobs) {
    let busy = false;
    const tick = () => {
      if (stopped || busy) return;
      busy = true;
      const run = job.run(stopping.signal).catch((error: unknown) => logger.error({ err: error, job: job.name }, 'scheduled job failed; it runs again at its next time'));
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
      stopping.abort();
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

/** Workspaces with at least one event of these names. */
async function workspacesWith(db: Database['db'], events: readonly string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('workspaces as w')
    .select('w.id as workspace_id')
    .where(({ exists, selectFrom }) => exists(selectFrom('events as e').select('e.message_id').whereRef('e.workspace_id', '=', 'w.id').where('e.event', 'in', [...events])))
    .execute();
  return rows.map((r) => r.workspace_id);
}

/**
 * Run an analytics job for each workspace, then refresh the segments that
 * read its scores. A workspace whose data cannot support the job (too few
 * customers, no baskets) is skipped quietly: that is not a failure.
 */
async function eachWorkspace(db: Database['db'], workspaces: readonly string[], job: (workspaceId: string) => Promise<unknown>): Promise<number> {
  let done = 0;
  let failure: unknown = null;
  for (const workspaceId of workspaces) {
    try {
      await job(workspaceId);
      done += 1;
    } catch (error) {
      // One workspace's failure must not cost the others their run; it is reported once all have had theirs.
      if (!(error instanceof AnalyticsInputError)) failure ??= error;
      continue;
    }
    await refreshWorkspace(db, workspaceId, { now: new Date(), cause: 'refresh' });
  }
  if (failure !== null) throw failure;
  return done;
}

/** Lifetime value and the recommender for every workspace with orders; every trained model again. */
export async function refreshPredictions(db: Database['db']): Promise<number> {
  const buyers = await workspacesWith(db, ['Order Completed']);
  const modelled = (await db.selectFrom('analytics_models').select('workspace_id').distinct().where('kind', '=', 'classifier').execute()).map((r) => r.workspace_id);
  const steps = [
    () => eachWorkspace(db, buyers, (ws) => runClv(db, ws, {})),
    () => eachWorkspace(db, buyers, (ws) => runRecommender(db, ws, {})),
    () => eachWorkspace(db, modelled, (ws) => retrainModels(db, ws)),
  ];
  let done = 0;
  let failure: unknown = null;
  for (const step of steps) done += await step().catch((error: unknown) => ((failure ??= error), 0));
  if (failure !== null) throw failure;
  return done;
}

/** Feedback analysis for every workspace with survey answers or feedback. */
export async function refreshFeedback(db: Database['db']): Promise<number> {
  return eachWorkspace(db, await workspacesWith(db, FEEDBACK_EVENTS), (ws) => runFeedback(db, ws, {}));
}

/** Every workspace's retention policies, applied; segments refreshed where something was removed. */
export async function enforceRetention(db: Database['db']): Promise<number> {
  const workspaces = (await db.selectFrom('retention_policies').select('workspace_id').distinct().execute()).map((r) => r.workspace_id);
  let failure: unknown = null;
  let removed = 0;
  for (const workspaceId of workspaces) {
    try {
      const run = await applyRetention(db, workspaceId);
      const affected = run.results.reduce((n, r) => n + r.affected, 0);
      await appendAudit(db, { workspaceId, actor: 'worker', action: 'retention.run', target: run.id, details: { affected } });
      if (affected > 0) await refreshWorkspace(db, workspaceId, { now: new Date(), cause: 'refresh' });
      removed += affected;
    } catch (error) {
      // Logged on the workspace's run; the other workspaces still get theirs.
      failure ??= error;
    }
  }
  if (failure !== null) throw failure;
  return removed;
}

/** Keep last month's report for each workspace with data, once. */
export async function keepMonthlyReports(deps: IdentityDeps, now = new Date()): Promise<number> {
  const { db } = deps.database;
  const month = lastFullMonth(now);
  const workspaces = await db.selectFrom('workspaces as w').select('w.id').where(({ exists, selectFrom }) => exists(selectFrom('events as e').select('e.message_id').whereRef('e.workspace_id', '=', 'w.id'))).execute();
  let kept = 0;
  for (const { id } of workspaces) {
    if (await storedMonthlyReport(deps.database, id, month)) continue;
    await storeMonthlyReport(deps.database, { workspaceId: id, month, quality: createQualityReporter(deps.database, deps.keyring), campaignRoi: campaignRoiSource(db, id, { now }), campaigns: campaignMonthSource(db, id), now });
    kept += 1;
  }
  return kept;
}

/** Where activation writes files and what address its links carry (config CUSTODIAN_EXPORT_DIR, CUSTODIAN_PUBLIC_URL). */
export interface ActivationSettings {
  activationDir: string;
  publicUrl: string;
  /** how long the sender holds a message it took (CUSTODIAN_SEND_LEASE_SECONDS) */
  sendLeaseMs?: number;
}


/** The jobs a worker process runs besides the pipeline; activation's only when told where it writes and links to. */
export function workerJobs(deps: IdentityDeps, activation?: ActivationSettings): ScheduledJob[] {
  // Where re-encryption stopped (shutdown, a failure): the next run goes on from there.
  const reencryptCursors = new Map<string, string[]>();
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
    // Lifetime value, recommendations and models learn from weeks of behaviour: daily keeps them current.
    { name: 'predictions', everyMs: 24 * 3_600_000, firstAfterMs: 600_000, run: () => refreshPredictions(deps.database.db) },
    { name: 'feedback', everyMs: 6 * 3_600_000, firstAfterMs: 420_000, run: () => refreshFeedback(deps.database.db) },
    // Checked hourly, kept once: the report of a month is made in the first hour after it closes.
    { name: 'monthly-report', everyMs: 3_600_000, firstAfterMs: 900_000, run: () => keepMonthlyReports(deps) },
    // Policies are in days: once a day removes what expired, within a day of its expiry.
    { name: 'retention', everyMs: 24 * 3_600_000, firstAfterMs: 1_200_000, run: () => enforceRetention(deps.database.db) },
    // A data-subject request is audited just after it commits; one whose process died in between is recorded here.
    { name: 'dsar-audit', everyMs: 60_000, firstAfterMs: 10_000, run: () => appendPendingAudits(deps.database.db) },
    // After `custodian keys rotate`: rows under retired keys move to the new ones, and emptied keys are destroyed.
    // A run with nothing retired is one small query; one that has work goes on until done or stopped.
    { name: 'keys-reencrypt', everyMs: 300_000, firstAfterMs: 60_000, run: (signal) => reencryptRetired(deps.database, deps.keyring, { signal, cursors: reencryptCursors }) },
    ...(activation ? activationJobs(deps, activation) : []),
  ];
}

function activationJobs(deps: IdentityDeps, activation: ActivationSettings): ScheduledJob[] {
  // One sender per process, kept across runs: destinations stay open (keep-alive sockets, a NATS connection).
  const sender = createSender({ database: deps.database, keyring: deps.keyring, activationDir: activation.activationDir, publicUrl: activation.publicUrl }, activation.sendLeaseMs ? { leaseMs: activation.sendLeaseMs } : {});
  return [
    // Audiences are taken when due and finished campaigns closed, in a job of their own: a million-message send
    // running meanwhile must not hold up the 09:00 campaign.
    { name: 'campaigns-queue', everyMs: 5_000, firstAfterMs: 5_000, run: async () => (await runDueCampaigns(deps.database.db)) + (await finishCampaigns(deps.database.db)) },
    // Messages go out within seconds of being due; a run goes on while anything is due, so a big campaign is one run.
    { name: 'campaigns-send', everyMs: 2_000, firstAfterMs: 6_000, run: async (signal) => (await sender.drain({ signal })).claimed },
    // Segment triggers: a new member starts their journey within seconds of entering; a run with nothing new is a couple of index probes.
    { name: 'journeys-enroll', everyMs: 5_000, firstAfterMs: 5_000, run: () => enrollFromSegmentChanges(deps.database.db, new Date()) },
    // Waits are in minutes: a 5 s tick ends one within seconds of its wake_at; a backlog is taken 1,000 entries a transaction until none is due.
    {
      name: 'journeys-advance',
      everyMs: 5_000,
      firstAfterMs: 6_000,
      run: async (signal) => {
        for (let taken = 1000; taken === 1000 && !signal.aborted; ) taken = (await advanceJourneys(deps.database.db, new Date())).taken;
      },
    },
    // Realtime syncs: entries and exits reach destinations within seconds; a run with nothing new is one query per sync.
    { name: 'segment-syncs-realtime', everyMs: 10_000, firstAfterMs: 15_000, run: (signal) => runRealtimeSyncs(deps.database.db, deps.keyring, { activationDir: activation.activationDir, signal }) },
    // Scheduled exports have their own interval (at least 15 minutes); checking every minute starts each within a minute of due.
    { name: 'segment-syncs-scheduled', everyMs: 60_000, firstAfterMs: 45_000, run: (signal) => runScheduledSyncs(deps.database.db, deps.keyring, { activationDir: activation.activationDir, signal }) },
  ];
}
