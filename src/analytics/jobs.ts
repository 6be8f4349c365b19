import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { withoutErasedProfiles } from '../storage/erased-profiles.js';
import type { Schema } from '../storage/schema.js';
import { shareWorkspaceProfiles } from '../storage/workspace-lock.js';
import { chooseK, describeClusters, silhouette, standardize, type ClusterDescription, type KChoice, type Matrix } from './kmeans.js';
import { kmeansParallel } from './kmeans-parallel.js';
import { BEHAVIOUR_FEATURES, loadFeatures, loadRfmInputs, replaceScores, segmentMemberSet, type FeatureSet } from './queries.js';
import { RFM_SEGMENT_NAMES_ZH, RFM_SEGMENTS, scoreRfm, summarizeRfm, type RfmSummary } from './rfm.js';
import { accuracy, holdOutSplit, ruleText, trainTree, treeRules, type FeatureColumn, type TreeOptions } from './tree.js';

/**
 * Analytics runs: read (queries.ts), compute (the pure modules), write the
 * per-profile scores, and keep the outcome and progress in analytics_runs
 * so the API and the dashboard can show a run while it goes and after.
 */

export type RunKind = 'rfm' | 'clusters' | 'tree' | 'clv' | 'model' | 'recommender' | 'feedback' | 'report';

export interface AnalyticsRun {
  id: string;
  kind: RunKind;
  status: 'running' | 'done' | 'failed';
  params: Record<string, unknown>;
  progress: { stage?: string; done?: number; total?: number };
  result: unknown;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** A refusal of the run's parameters, naming the field. */
export class AnalyticsInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

async function startRun(db: Kysely<Schema>, workspaceId: string, kind: RunKind, params: Record<string, unknown>, now: Date): Promise<string> {
  const id = randomUUID();
  await db.insertInto('analytics_runs').values({ workspace_id: workspaceId, id, kind, status: 'running', params: JSON.stringify(params), started_at: now }).execute();
  return id;
}

export function progressWriter(db: Kysely<Schema>, workspaceId: string, id: string) {
  let last = 0;
  return async (progress: AnalyticsRun['progress'], force = false) => {
    // Progress is for people watching: a write a second is plenty.
    if (!force && Date.now() - last < 1000) return;
    last = Date.now();
    // Best effort, and often not awaited: a lost progress write must not become an unhandled rejection.
    await db
      .updateTable('analytics_runs')
      .set({ progress: JSON.stringify(progress) })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .execute()
      .catch(() => undefined);
  };
}

async function fail(db: Kysely<Schema>, workspaceId: string, id: string, error: string) {
  await db.updateTable('analytics_runs').set({ status: 'failed', error: error.slice(0, 2000), finished_at: new Date() }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

/**
 * Store a run's result, less any profile an erasure removed while the run
 * computed (a feedback run quotes complaints by profile id). Under the shared
 * profile lock an erasure takes exclusively: a result stored first is scrubbed
 * by the erasure, one stored after sees the erasure done. Returns what was stored.
 */
async function finish<T>(db: Kysely<Schema>, workspaceId: string, id: string, result: T): Promise<T> {
  return db.transaction().execute(async (tx) => {
    await shareWorkspaceProfiles(tx, workspaceId);
    const stored = await withoutErasedProfiles(tx, workspaceId, result);
    await tx.updateTable('analytics_runs').set({ status: 'done', result: JSON.stringify(stored), finished_at: new Date() }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
    return stored;
  });
}

/**
 * Record a run, do it, and keep its outcome. `onStarted` hands out the run
 * id at once so an API call can answer 202 while a long run goes on.
 */
export async function recorded<T>(db: Kysely<Schema>, workspaceId: string, kind: RunKind, params: Record<string, unknown>, work: (report: ReturnType<typeof progressWriter>) => Promise<T>, onStarted?: (id: string) => void): Promise<{ runId: string; result: T }> {
  const id = await startRun(db, workspaceId, kind, params, new Date());
  onStarted?.(id);
  try {
    const result = await finish(db, workspaceId, id, await work(progressWriter(db, workspaceId, id)));
    return { runId: id, result };
  } catch (error) {
    await fail(db, workspaceId, id, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

export async function getRun(db: Kysely<Schema>, workspaceId: string, id: string): Promise<AnalyticsRun | null> {
  const r = await db.selectFrom('analytics_runs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return r ? toRun(r) : null;
}

export async function latestRun(db: Kysely<Schema>, workspaceId: string, kind: RunKind): Promise<AnalyticsRun | null> {
  const r = await db.selectFrom('analytics_runs').selectAll().where('workspace_id', '=', workspaceId).where('kind', '=', kind).where('status', '=', 'done').orderBy('started_at', 'desc').limit(1).executeTakeFirst();
  return r ? toRun(r) : null;
}

export async function listRuns(db: Kysely<Schema>, workspaceId: string, kind: RunKind | undefined, limit: number): Promise<AnalyticsRun[]> {
  let q = db.selectFrom('analytics_runs').selectAll().where('workspace_id', '=', workspaceId);
  if (kind) q = q.where('kind', '=', kind);
  return (await q.orderBy('started_at', 'desc').limit(limit).execute()).map(toRun);
}

function toRun(r: { id: string; kind: string; status: string; params: Record<string, unknown>; progress: Record<string, unknown>; result: unknown; error: string | null; started_at: Date; finished_at: Date | null }): AnalyticsRun {
  return {
    id: r.id,
    kind: r.kind as RunKind,
    status: r.status as AnalyticsRun['status'],
    params: r.params,
    progress: r.progress as AnalyticsRun['progress'],
    result: r.result ?? null,
    error: r.error,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
  };
}

// ---------------------------------------------------------------- RFM

export interface RfmReport extends RfmSummary {
  computedAt: string;
  /** the segment names in Chinese, in RFM_SEGMENTS order */
  segmentNamesZh: string[];
  /** quintile boundaries in original units: R=5 means fewer days than cuts.recency[3] */
  cuts: { recency: number[]; frequency: number[]; monetary: number[] };
}

/** Score every customer with orders; scores rfm_r, rfm_f, rfm_m (1–5) and rfm_segment (a label) go on the profiles. */
export async function runRfm(db: Kysely<Schema>, workspaceId: string, now = new Date(), onStarted?: (id: string) => void): Promise<{ runId: string; result: RfmReport }> {
  return recorded(db, workspaceId, 'rfm', { now: now.toISOString() }, async (report) => {
    await report({ stage: 'load' }, true);
    const { profileIds, input } = await loadRfmInputs(db, workspaceId, now);
    await report({ stage: 'score', total: profileIds.length }, true);
    const scores = scoreRfm(input);
    const summary = summarizeRfm(input, scores);
    await report({ stage: 'write', total: profileIds.length }, true);
    const rows = (pick: (i: number) => { value: number | null; label: string | null }) => profileIds.map((profileId, i) => ({ profileId, ...pick(i) }));
    await replaceScores(db, workspaceId, [
      { name: 'rfm_r', rows: rows((i) => ({ value: scores.r[i]!, label: null })) },
      { name: 'rfm_f', rows: rows((i) => ({ value: scores.f[i]!, label: null })) },
      { name: 'rfm_m', rows: rows((i) => ({ value: scores.m[i]!, label: null })) },
      { name: 'rfm_segment', rows: rows((i) => ({ value: scores.segment[i]!, label: RFM_SEGMENTS[scores.segment[i]!]! })) },
    ], now);
    return { ...summary, computedAt: now.toISOString(), segmentNamesZh: RFM_SEGMENTS.map((s) => RFM_SEGMENT_NAMES_ZH[s]), cuts: scores.cuts };
  }, onStarted);
}

// ---------------------------------------------------------------- clusters

export const DEFAULT_CLUSTER_FEATURES = ['recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days', 'events_30d'] as const;

export interface ClusterParams {
  k?: number;
  kRange?: { min: number; max: number };
  features?: string[];
  restarts?: number;
  seed?: number;
}

export interface ClusterReport {
  k: number;
  features: string[];
  profiles: number;
  inertia: number;
  silhouette: number;
  /** every k tried, with inertia (elbow) and silhouette, when a range was given */
  choices: KChoice[];
  suggestedK: number | null;
  elbowK: number | null;
  clusters: Array<ClusterDescription & { name: string }>;
}

/** The names must be well formed; what a workspace holds is not asked here (listing it scans every order). */
function checkFeatures(features: readonly string[]): void {
  const allowed = (f: string) =>
    (BEHAVIOUR_FEATURES as readonly string[]).includes(f) || (f.startsWith('category_share:') && f.length > 15) || (f.startsWith('source_share:') && f.length > 13) || (f.startsWith('trait:') && f.length > 6);
  const bad = features.find((f) => !allowed(f));
  if (bad) throw new AnalyticsInputError('features', `${bad} is not a feature; use ${BEHAVIOUR_FEATURES.join(', ')}, category_share:<category>, source_share:<source> or trait:<name>`);
  if (new Set(features).size !== features.length) throw new AnalyticsInputError('features', 'a feature is listed twice');
}

/** Cluster name from what sets it apart, e.g. "C2 · high monetary, low recency_days". */
function clusterName(c: ClusterDescription): string {
  const parts = c.distinctive.slice(0, 2).map((d) => `${d.direction} ${d.feature}`);
  return `C${c.cluster + 1}${parts.length > 0 ? ` · ${parts.join(', ')}` : ''}`;
}

/** k-means over standardized features; each profile gets the score `cluster` (value: index from 0, label: name). */
export async function runClusters(db: Kysely<Schema>, workspaceId: string, params: ClusterParams, now = new Date(), onStarted?: (id: string) => void): Promise<{ runId: string; result: ClusterReport }> {
  const features = params.features ?? [...DEFAULT_CLUSTER_FEATURES];
  checkFeatures(features);
  return recorded(db, workspaceId, 'clusters', { ...params, features }, async (report) => {
    await report({ stage: 'load', done: 0 }, true);
    const set = await loadFeatures(db, workspaceId, features, now, (done) => void report({ stage: 'load', done }));
    const numeric = set.columns.map((c) => {
      if (c.kind !== 'numeric') throw new AnalyticsInputError('features', `${c.name} holds text values; clusters need numeric features`);
      return c.values;
    });
    const n = set.profileIds.length;
    const k = params.k ?? params.kRange?.min ?? 4;
    if (n < Math.max(k, params.kRange?.max ?? 0)) throw new AnalyticsInputError('k', `there are ${n} profiles; k must not exceed that`);
    const x = toMatrix(numeric, n);
    const { z, mean, std } = standardize(x);
    let choices: KChoice[] = [];
    let suggestedK: number | null = null;
    let elbowK: number | null = null;
    let chosen = k;
    if (params.kRange) {
      await report({ stage: 'choose_k', done: 0, total: params.kRange.max - params.kRange.min + 1 }, true);
      // Choosing k on a sample keeps a range of fits quick on a million profiles; the final fit uses everyone.
      const sample = sampleRows(z, Math.min(n, 50_000), params.seed ?? 1);
      const picked = chooseK(sample, params.kRange, { restarts: Math.min(params.restarts ?? 2, 2), seed: params.seed ?? 1, sampleSize: 1000 });
      choices = picked.choices;
      suggestedK = picked.suggested;
      elbowK = picked.elbow;
      chosen = params.k ?? picked.suggested;
    }
    await report({ stage: 'fit', done: 0, total: params.restarts ?? 4 }, true);
    const restarts = params.restarts ?? 4;
    // Restarts run side by side on threads; how many have begun is the progress worth showing.
    const fit = await kmeansParallel(z, { k: chosen, restarts, seed: params.seed ?? 1, onProgress: (restart) => void report({ stage: 'fit', done: restart + 1, total: restarts }) });
    const described = describeClusters(fit, features, mean, std).map((c) => ({ ...c, name: clusterName(c) }));
    await report({ stage: 'write', total: n }, true);
    await replaceScores(db, workspaceId, [{ name: 'cluster', rows: set.profileIds.map((profileId, i) => ({ profileId, value: fit.assignments[i]!, label: described[fit.assignments[i]!]!.name })) }], now);
    return { k: chosen, features, profiles: n, inertia: fit.inertia, silhouette: silhouette(z, fit.assignments, chosen, 2000, params.seed ?? 1), choices, suggestedK, elbowK, clusters: described };
  }, onStarted);
}

function toMatrix(columns: Float64Array[], n: number): Matrix {
  const d = columns.length;
  const data = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    const col = columns[j]!;
    // A missing number sits at the column mean, so it pulls no cluster either way.
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) if (Number.isFinite(col[i]!)) (sum += col[i]!), count++;
    const mean = count > 0 ? sum / count : 0;
    for (let i = 0; i < n; i++) data[i * d + j] = Number.isFinite(col[i]!) ? col[i]! : mean;
  }
  return { data, n, d };
}

function sampleRows(x: Matrix, size: number, seed: number): Matrix {
  if (size >= x.n) return x;
  // Every (n/size)-th row from a seeded offset: spread over the id order, repeatable.
  const step = x.n / size;
  const offset = (seed * 0.6180339887) % 1;
  const data = new Float64Array(size * x.d);
  for (let i = 0; i < size; i++) {
    const row = Math.min(x.n - 1, Math.floor((i + offset) * step));
    data.set(x.data.subarray(row * x.d, row * x.d + x.d), i * x.d);
  }
  return { data, n: size, d: x.d };
}

// ---------------------------------------------------------------- tree

export interface TreeParams {
  target: { segment: string } | { trait: string; value?: string };
  features: string[];
  maxDepth?: number;
  minSamplesLeaf?: number;
  ccpAlpha?: number;
  testShare?: number;
  seed?: number;
}

export interface TreeReport {
  classes: string[];
  profiles: number;
  train: number;
  test: number;
  /** hold-out accuracy, and what always guessing the largest class would score */
  accuracy: number;
  baselineAccuracy: number;
  trainAccuracy: number;
  importance: Array<{ feature: string; importance: number }>;
  rules: Array<{ en: string; zh: string; prediction: string; confidence: number; samples: number }>;
  leaves: number;
  depth: number;
}

/** A CART tree that explains a segment's membership (or a trait's value) from features, as readable rules. */
export async function runTree(db: Kysely<Schema>, workspaceId: string, params: TreeParams, now = new Date(), onStarted?: (id: string) => void): Promise<{ runId: string; result: TreeReport }> {
  checkFeatures(params.features);
  if ('segment' in params.target) {
    const exists = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('id', '=', params.target.segment).executeTakeFirst();
    if (!exists) throw new AnalyticsInputError('target.segment', `no segment ${params.target.segment}`);
  }
  return recorded(db, workspaceId, 'tree', { ...params }, async (report) => {
    await report({ stage: 'load', done: 0 }, true);
    const targetTrait = 'trait' in params.target ? params.target.trait : null;
    const loaded: FeatureSet = await loadFeatures(db, workspaceId, targetTrait ? [...params.features, `trait:${targetTrait}`] : params.features, now, (done) => void report({ stage: 'load', done }));
    const columns: FeatureColumn[] = loaded.columns.slice(0, params.features.length).map((c) => ({ ...c, name: c.name.startsWith('trait:') ? c.name.slice(6) : c.name }));
    const { classes, y, rows } = await targetOf(db, workspaceId, params, loaded);
    if (rows.length < 20) throw new AnalyticsInputError('target', `only ${rows.length} profiles have a value for the target; a tree needs at least 20`);
    if (classes.length < 2) throw new AnalyticsInputError('target', 'every profile has the same target value; there is nothing to explain');
    const split = holdOutSplit(Int32Array.from(rows, (r) => y[r]!), params.testShare ?? 0.2, params.seed ?? 42);
    const train = split.train.map((i) => rows[i]!);
    const test = split.test.map((i) => rows[i]!);
    await report({ stage: 'fit', done: 0, total: train.length }, true);
    const options: TreeOptions = { maxDepth: params.maxDepth ?? 5, minSamplesLeaf: params.minSamplesLeaf ?? 20, ccpAlpha: params.ccpAlpha ?? 0 };
    const tree = trainTree(columns, y, classes, options, train);
    const counts = new Array<number>(classes.length).fill(0);
    for (const r of test) counts[y[r]!]! += 1;
    const largest = counts.indexOf(Math.max(...counts));
    let leaves = 0;
    let depth = 0;
    const walk = (node: typeof tree.root, level: number) => {
      depth = Math.max(depth, level);
      if (node.kind === 'leaf') leaves += 1;
      else (walk(node.left, level + 1), walk(node.right, level + 1));
    };
    walk(tree.root, 0);
    return {
      classes: [...classes],
      profiles: rows.length,
      train: train.length,
      test: test.length,
      accuracy: accuracy(tree, columns, y, test),
      baselineAccuracy: test.length > 0 ? counts[largest]! / test.length : 0,
      trainAccuracy: accuracy(tree, columns, y, train),
      importance: columns.map((c, i) => ({ feature: c.name, importance: tree.importance[i] ?? 0 })).sort((a, b) => b.importance - a.importance),
      rules: treeRules(tree).map((r) => ({ en: ruleText(r, 'en'), zh: ruleText(r, 'zh-CN'), prediction: r.prediction, confidence: r.confidence, samples: r.samples })),
      leaves,
      depth,
    };
  }, onStarted);
}

async function targetOf(db: Kysely<Schema>, workspaceId: string, params: TreeParams, loaded: FeatureSet): Promise<{ classes: string[]; y: Int32Array; rows: Int32Array }> {
  const n = loaded.profileIds.length;
  const y = new Int32Array(n);
  if ('segment' in params.target) {
    const members = await segmentMemberSet(db, workspaceId, params.target.segment);
    loaded.profileIds.forEach((id, i) => (y[i] = members.has(id) ? 1 : 0));
    return { classes: ['not in segment', 'in segment'], y, rows: Int32Array.from({ length: n }, (_, i) => i) };
  }
  const column = loaded.columns[loaded.columns.length - 1]!;
  const rows: number[] = [];
  if (params.target.value !== undefined) {
    // One value against the rest: "who buys on WeChat" rather than a many-way split.
    const wanted = params.target.value;
    for (let i = 0; i < n; i++) {
      const v = column.kind === 'categorical' ? (column.values[i]! >= 0 ? column.levels[column.values[i]!] : undefined) : Number.isNaN(column.values[i]!) ? undefined : String(column.values[i]);
      if (v === undefined) continue;
      y[i] = v === wanted ? 1 : 0;
      rows.push(i);
    }
    return { classes: [`not ${wanted}`, wanted], y, rows: Int32Array.from(rows) };
  }
  if (column.kind !== 'categorical') throw new AnalyticsInputError('target.trait', `${params.target.trait} is numeric; name a value to predict (target.value) or use a segment`);
  for (let i = 0; i < n; i++) {
    if (column.values[i]! < 0) continue;
    y[i] = column.values[i]!;
    rows.push(i);
  }
  return { classes: [...column.levels], y, rows: Int32Array.from(rows) };
}
