import type { Keyring } from '../privacy/crypto.js';
import { joinClasses } from '../privacy/field-catalog.js';
import type { Database } from '../storage/database.js';
import { matchRecordOf, type MatchRecord } from './match-record.js';
import { fitModel, findMatches, type MatchModel, type MatchProgress, type ScoredPair } from './matcher.js';
import { mergeProfiles, type IdentityDeps } from './merge.js';
import { IdentityOperationError } from './operation-error.js';
import { identitySettingsFor } from './settings-store.js';

export interface ResolveOptions {
  /** compare every profile with every other through the blocks, not only those changed since the last run */
  full?: boolean;
  /** estimate the model again even if a stored one fits the data */
  refit?: boolean;
  onProgress?: (p: ResolveProgress) => void;
  /** called once the run is recorded, with its id: an API can answer before the run ends */
  onStarted?: (runId: string) => void;
}

export interface ResolveProgress {
  stage: 'load' | MatchProgress['stage'] | 'merge';
  done: number;
  total: number;
}

export interface ResolveCounts {
  profiles: number;
  /** profiles changed since the last run: the only ones compared, unless the run is full */
  changed: number;
  compared: number;
  /** pairs at or above the review threshold */
  candidates: number;
  merges: number;
  reviews: number;
  /** pairs a person said are different (a rejected review, a split) */
  excluded: number;
  /** auto-merges refused by an identity limit: sent to review instead */
  limited: number;
  fitted: number;
}

export interface ResolveResult {
  runId: string;
  counts: ResolveCounts;
  model: MatchModel;
}

/** A stored model is fitted again when the workspace has grown this much since. */
const REFIT_GROWTH = 2;

/** The live profiles of a workspace as match records, read a page at a time. */
async function loadRecords(database: Database, keyring: Keyring, workspaceId: string, onPage: (n: number) => void) {
  const records: MatchRecord[] = [];
  const updatedAt: number[] = [];
  const createdAt: number[] = [];
  let after: string | null = null;
  for (;;) {
    let query = database.db
      .selectFrom('profiles')
      .select(['id', 'traits', 'secret_traits', 'created_at', 'updated_at'])
      .where('workspace_id', '=', workspaceId)
      .where('merged_into', 'is', null)
      .orderBy('id')
      .limit(5000);
    if (after !== null) query = query.where('id', '>', after);
    const rows = await query.execute();
    for (const row of rows) {
      const secret = row.secret_traits ? keyring.decryptJson<Record<string, unknown>>(row.secret_traits) : null;
      records.push(matchRecordOf(row.id, joinClasses(row.traits, secret)));
      updatedAt.push(row.updated_at.getTime());
      createdAt.push(row.created_at.getTime());
    }
    onPage(records.length);
    if (rows.length < 5000) break;
    after = rows[rows.length - 1]!.id;
  }
  return { records, updatedAt, createdAt };
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * Probabilistic matching over a workspace: profiles that share no strong
 * identifier but are the same person by name, birth date, address and the
 * rest. Above the `auto` threshold they merge; between `review` and `auto`
 * they wait for a person in the review queue. Incremental by default: only
 * pairs with a profile changed since the last finished run are compared.
 */
export async function resolveWorkspace(deps: IdentityDeps, workspaceId: string, options: ResolveOptions = {}): Promise<ResolveResult> {
  const { database, keyring } = deps;
  const { db } = database;
  const startedAt = new Date();
  const previous = await db
    .selectFrom('identity_runs')
    .select(['started_at'])
    .where('workspace_id', '=', workspaceId)
    .where('status', '=', 'done')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const full = options.full === true || previous === undefined;
  const run = await db
    .insertInto('identity_runs')
    .values({ workspace_id: workspaceId, status: 'running', full_run: full, stage: 'load', started_at: startedAt, counts: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  options.onStarted?.(String(run.id));
  let lastWrite = 0;
  const progress = (p: ResolveProgress) => {
    options.onProgress?.(p);
    const now = Date.now();
    if (now - lastWrite < 1000 && p.done !== p.total) return;
    lastWrite = now;
    void db.updateTable('identity_runs').set({ stage: p.stage, done: p.done, total: p.total }).where('workspace_id', '=', workspaceId).where('id', '=', run.id).execute().catch(() => undefined);
  };
  try {
    const result = await resolveRun(deps, workspaceId, full, previous?.started_at ?? null, options, progress);
    await db
      .updateTable('identity_runs')
      .set({ status: 'done', stage: null, counts: JSON.stringify(result.counts), finished_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', run.id)
      .execute();
    return { runId: run.id, ...result };
  } catch (error) {
    await db
      .updateTable('identity_runs')
      .set({ status: 'failed', error: error instanceof Error ? error.message : String(error), finished_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', run.id)
      .execute();
    throw error;
  }
}

async function resolveRun(
  deps: IdentityDeps,
  workspaceId: string,
  full: boolean,
  since: Date | null,
  options: ResolveOptions,
  progress: (p: ResolveProgress) => void,
): Promise<{ counts: ResolveCounts; model: MatchModel }> {
  const { database, keyring } = deps;
  const { db } = database;
  const settings = await identitySettingsFor(db, workspaceId);
  const { records, updatedAt, createdAt } = await loadRecords(database, keyring, workspaceId, (n) => progress({ stage: 'load', done: n, total: n }));
  const counts: ResolveCounts = { profiles: records.length, changed: 0, compared: 0, candidates: 0, merges: 0, reviews: 0, excluded: 0, limited: 0, fitted: 0 };

  const stored = await db.selectFrom('identity_models').select(['model', 'records']).where('workspace_id', '=', workspaceId).executeTakeFirst();
  let model: MatchModel;
  if (stored && options.refit !== true && records.length <= stored.records * REFIT_GROWTH) model = keyring.decryptJson<MatchModel>(stored.model);
  else {
    model = fitModel(records, { onProgress: progress });
    counts.fitted = 1;
    const row = { workspace_id: workspaceId, model: keyring.encryptJson(workspaceId, model), records: records.length, fitted_at: new Date() };
    await db
      .insertInto('identity_models')
      .values(row)
      .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ model: row.model, records: row.records, fitted_at: row.fitted_at }))
      .execute();
  }

  const sinceMs = full || since === null ? null : since.getTime();
  for (const t of updatedAt) if (sinceMs === null || t > sinceMs) counts.changed++;
  const { pairs, compared } = findMatches(model, records, {
    threshold: settings.thresholds.review,
    ...(sinceMs === null ? {} : { isNew: (i: number) => updatedAt[i]! > sinceMs }),
    onProgress: progress,
  });
  counts.compared = compared;
  counts.candidates = pairs.length;

  const excluded = new Set<string>();
  for (const e of await db.selectFrom('identity_exclusions').select(['profile_a', 'profile_b']).where('workspace_id', '=', workspaceId).execute()) excluded.add(pairKey(e.profile_a, e.profile_b));

  // Strongest evidence first, so a chain of weaker links cannot pull in what a strong one would have kept apart.
  const ordered = [...pairs].sort((x, y) => y.weight - x.weight);
  const survivorOf = new Map<string, string>();
  const find = (id: string): string => {
    let current = id;
    for (let next = survivorOf.get(current); next !== undefined; next = survivorOf.get(current)) current = next;
    return current;
  };
  const reviews: ScoredPair[] = [];
  let done = 0;
  for (const pair of ordered) {
    progress({ stage: 'merge', done: ++done, total: ordered.length });
    const a = records[pair.a]!.id;
    const b = records[pair.b]!.id;
    if (excluded.has(pairKey(a, b)) || excluded.has(pairKey(find(a), find(b)))) {
      counts.excluded++;
      continue;
    }
    if (pair.probability < settings.thresholds.auto) {
      reviews.push(pair);
      continue;
    }
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) continue;
    const [into, from] = createdAt[pair.a]! <= createdAt[pair.b]! ? [ra, rb] : [rb, ra];
    try {
      const outcome = await mergeProfiles(deps, workspaceId, into, [from], {
        reason: 'probabilistic',
        score: pair.probability,
        detail: { weight: pair.weight, profiles: [a, b] },
        actor: 'resolver',
      });
      for (const m of outcome.merged) survivorOf.set(m, outcome.into);
      if (outcome.into !== into) survivorOf.set(into, outcome.into);
      counts.merges += outcome.merged.length;
    } catch (error) {
      if (!(error instanceof IdentityOperationError)) throw error;
      counts.limited++;
      reviews.push(pair);
    }
  }
  for (const pair of reviews) {
    const a = find(records[pair.a]!.id);
    const b = find(records[pair.b]!.id);
    if (a === b) continue;
    const [x, y] = a < b ? [a, b] : [b, a];
    const inserted = await db
      .insertInto('identity_reviews')
      .values({ workspace_id: workspaceId, profile_a: x, profile_b: y, probability: pair.probability, weight: pair.weight, status: 'pending', created_at: new Date() })
      .onConflict((oc) => oc.columns(['workspace_id', 'profile_a', 'profile_b']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) counts.reviews++;
  }
  return { counts, model };
}
