import { sql } from 'kysely';
import type { Database } from '../storage/database.js';
import { isTrackingPlan, type PlanViolation, type TrackingPlan, type ViolationKind } from './tracking-plan.js';

export interface StoredPlan {
  plan: TrackingPlan;
  updatedAt: Date;
}

export interface ViolationSummary {
  event: string;
  /** null for an undeclared event */
  property: string | null;
  kind: ViolationKind;
  /** messages that had it */
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** the latest message that had it, to look it up in the event log */
  exampleMessageId: string;
}

export interface ViolationQuery {
  limit: number;
  event?: string;
  kind?: ViolationKind;
}

/** What an ingest path (tracking API, file import, webhooks) needs: the plan, and a place to count violations. */
export interface TrackingPlanEnforcer {
  /** The source's plan, or null; cached for a few seconds, so a change takes effect within that time. */
  forSource(workspaceId: string, sourceId: string): Promise<TrackingPlan | null>;
  /**
   * Count violations. Concurrent calls are written together, one upsert per
   * (event, property, kind); the promise resolves once they are committed.
   */
  record(workspaceId: string, sourceId: string, violations: readonly PlanViolation[], at?: Date): Promise<void>;
}

export interface TrackingPlans extends TrackingPlanEnforcer {
  /** The stored plan, read now (not cached). */
  get(workspaceId: string, sourceId: string): Promise<StoredPlan | null>;
  /** Store a validated plan, creating the source (without a write key) when it does not exist. */
  put(workspaceId: string, sourceId: string, plan: TrackingPlan): Promise<StoredPlan>;
  /** Remove the plan: the source is unchecked again. False when it had none. */
  remove(workspaceId: string, sourceId: string): Promise<boolean>;
  sourceExists(workspaceId: string, sourceId: string): Promise<boolean>;
  /** Violations, most frequent first, with the totals over all of them. */
  violations(workspaceId: string, sourceId: string, query: ViolationQuery): Promise<{ total: number; distinct: number; violations: ViolationSummary[] }>;
}

/** How long a process keeps using a plan it read: the longest a change takes to apply everywhere. */
export const PLAN_CACHE_MS = 5_000;
/** Rows in one upsert statement at most. */
const MAX_UPSERT_ROWS = 500;

interface ViolationRow {
  workspace_id: string;
  source_id: string;
  event: string;
  property: string;
  kind: ViolationKind;
  count: number;
  first_seen_at: Date;
  last_seen_at: Date;
  example_message_id: string;
}

interface PendingRecord {
  workspaceId: string;
  sourceId: string;
  violations: readonly PlanViolation[];
  at: Date;
  resolve(): void;
  reject(error: unknown): void;
}

function storedPlan(value: unknown, workspaceId: string, sourceId: string): TrackingPlan {
  const plan = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  // Only what passed validation is stored; anything else is a damaged row, and
  // guessing would either let data in that the plan forbids or refuse data it allows.
  if (!isTrackingPlan(plan)) throw new Error(`the tracking plan of source ${workspaceId}/${sourceId} does not match its schema`);
  return plan;
}

/** Aggregate into one row per key, in key order: concurrent upserts then lock rows in the same order and cannot deadlock. */
function aggregate(pending: readonly PendingRecord[]): ViolationRow[] {
  const rows = new Map<string, ViolationRow>();
  for (const { workspaceId, sourceId, violations, at } of pending) {
    for (const v of violations) {
      const property = v.property ?? '';
      const key = [workspaceId, sourceId, v.event, property, v.kind].join('\u0000');
      const row = rows.get(key);
      if (row) {
        row.count += 1;
        if (at >= row.last_seen_at) [row.last_seen_at, row.example_message_id] = [at, v.messageId];
        if (at < row.first_seen_at) row.first_seen_at = at;
      } else {
        rows.set(key, { workspace_id: workspaceId, source_id: sourceId, event: v.event, property, kind: v.kind, count: 1, first_seen_at: at, last_seen_at: at, example_message_id: v.messageId });
      }
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** Tracking plans and their violations, in the database. */
export function createTrackingPlans(database: Database, options: { cacheMs?: number } = {}): TrackingPlans {
  const cacheMs = options.cacheMs ?? PLAN_CACHE_MS;
  const cache = new Map<string, { until: number; plan: Promise<TrackingPlan | null> }>();
  const keyOf = (workspaceId: string, sourceId: string) => `${workspaceId}\u0000${sourceId}`;

  async function load(workspaceId: string, sourceId: string): Promise<TrackingPlan | null> {
    const row = await database.db.selectFrom('tracking_plans').select('plan').where('workspace_id', '=', workspaceId).where('source_id', '=', sourceId).executeTakeFirst();
    return row ? storedPlan(row.plan, workspaceId, sourceId) : null;
  }

  // Group write, as the event log does it: calls that arrive while a write is
  // in progress are written together by the next one.
  const queue: PendingRecord[] = [];
  let writing = false;

  async function upsert(rows: readonly ViolationRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += MAX_UPSERT_ROWS) {
      await database.db
        .insertInto('tracking_plan_violations')
        .values(rows.slice(start, start + MAX_UPSERT_ROWS))
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'source_id', 'event', 'property', 'kind']).doUpdateSet({
            count: sql<number>`tracking_plan_violations.count + excluded.count`,
            first_seen_at: sql<Date>`least(tracking_plan_violations.first_seen_at, excluded.first_seen_at)`,
            last_seen_at: sql<Date>`greatest(tracking_plan_violations.last_seen_at, excluded.last_seen_at)`,
            example_message_id: sql<string>`case when excluded.last_seen_at >= tracking_plan_violations.last_seen_at then excluded.example_message_id else tracking_plan_violations.example_message_id end`,
          }),
        )
        .execute();
    }
  }

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, queue.length);
        try {
          await upsert(aggregate(group));
          for (const pending of group) pending.resolve();
        } catch (error) {
          for (const pending of group) pending.reject(error);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    forSource(workspaceId, sourceId) {
      const key = keyOf(workspaceId, sourceId);
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && cached.until > now) return cached.plan;
      const plan = load(workspaceId, sourceId);
      cache.set(key, { until: now + cacheMs, plan });
      // A failed read is not remembered: the next request tries again.
      plan.catch(() => {
        if (cache.get(key)?.plan === plan) cache.delete(key);
      });
      return plan;
    },

    record(workspaceId, sourceId, violations, at = new Date()) {
      if (violations.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ workspaceId, sourceId, violations, at, resolve, reject });
        if (!writing) void drain();
      });
    },

    async get(workspaceId, sourceId) {
      const row = await database.db.selectFrom('tracking_plans').select(['plan', 'updated_at']).where('workspace_id', '=', workspaceId).where('source_id', '=', sourceId).executeTakeFirst();
      return row ? { plan: storedPlan(row.plan, workspaceId, sourceId), updatedAt: new Date(row.updated_at) } : null;
    },

    async put(workspaceId, sourceId, plan) {
      const updatedAt = new Date();
      await database.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('sources')
          .values({ workspace_id: workspaceId, id: sourceId, name: sourceId, write_key_hash: null })
          .onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing())
          .execute();
        await tx
          .insertInto('tracking_plans')
          .values({ workspace_id: workspaceId, source_id: sourceId, plan: JSON.stringify(plan), updated_at: updatedAt })
          .onConflict((oc) => oc.columns(['workspace_id', 'source_id']).doUpdateSet({ plan: JSON.stringify(plan), updated_at: updatedAt }))
          .execute();
      });
      // This process applies the new plan at once; others within cacheMs.
      cache.set(keyOf(workspaceId, sourceId), { until: Date.now() + cacheMs, plan: Promise.resolve(plan) });
      return { plan, updatedAt };
    },

    async remove(workspaceId, sourceId) {
      const result = await database.db.deleteFrom('tracking_plans').where('workspace_id', '=', workspaceId).where('source_id', '=', sourceId).executeTakeFirst();
      cache.delete(keyOf(workspaceId, sourceId));
      return Number(result.numDeletedRows) > 0;
    },

    async sourceExists(workspaceId, sourceId) {
      const row = await database.db.selectFrom('sources').select('id').where('workspace_id', '=', workspaceId).where('id', '=', sourceId).executeTakeFirst();
      return row !== undefined;
    },

    async violations(workspaceId, sourceId, query) {
      let rows = database.db.selectFrom('tracking_plan_violations').where('workspace_id', '=', workspaceId).where('source_id', '=', sourceId);
      if (query.event !== undefined) rows = rows.where('event', '=', query.event);
      if (query.kind !== undefined) rows = rows.where('kind', '=', query.kind);
      const [totals, listed] = await Promise.all([
        rows.select((eb) => [eb.fn.coalesce(eb.fn.sum<string>('count'), sql<string>`0`).as('total'), eb.fn.countAll<string>().as('distinct')]).executeTakeFirstOrThrow(),
        rows
          .select(['event', 'property', 'kind', 'count', 'first_seen_at', 'last_seen_at', 'example_message_id'])
          .orderBy('count', 'desc')
          .orderBy('last_seen_at', 'desc')
          .orderBy('event')
          .orderBy('property')
          .orderBy('kind')
          .limit(query.limit)
          .execute(),
      ]);
      return {
        total: Number(totals.total),
        distinct: Number(totals.distinct),
        violations: listed.map((r) => ({
          event: r.event,
          property: r.property === '' ? null : r.property,
          kind: r.kind as ViolationKind,
          count: Number(r.count),
          firstSeenAt: new Date(r.first_seen_at),
          lastSeenAt: new Date(r.last_seen_at),
          exampleMessageId: r.example_message_id,
        })),
      };
    },
  };
}
