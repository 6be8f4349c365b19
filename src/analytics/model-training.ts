import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { predictGbdt, trainGbdt, gbdtImportance, GBDT_DEFAULTS, type GbdtModel } from './gbdt.js';
import { AnalyticsInputError, recorded } from './jobs.js';
import { logisticImportance, predictLogistic, trainLogistic, type LogisticModel } from './logistic.js';
import { auc, brier, calibrationTable, logLoss, type Design } from './metrics.js';
import { availableFeatures, BEHAVIOUR_FEATURES, loadFeatures, profilesWithEvent, replaceScores, segmentMemberSet, type FeatureSet } from './queries.js';
import { stratifiedSplit } from './split.js';
import type { FeatureColumn } from './tree.js';

/**
 * Binary models per question: will this customer stop buying (churn), buy
 * (purchase propensity), do some event such as answering a campaign, or
 * have a trait / be in a segment. Questions about the future are checked on
 * the future: trained on a snapshot 2N days ago labelled by the N days that
 * followed, validated on the snapshot N days ago labelled by the last N days,
 * then refitted on that latest snapshot to score everyone as of now. Both a
 * logistic baseline and gradient-boosted trees are fitted; the better on
 * hold-out AUC scores the profiles (score name = the model's name).
 */

const DAY = 86_400_000;

export type ModelTarget =
  | { kind: 'churn'; days: number }
  | { kind: 'purchase'; days: number }
  | { kind: 'event'; event: string; days: number }
  | { kind: 'trait'; trait: string; value?: string }
  | { kind: 'segment'; segment: string };

export interface ModelDefinition {
  name: string;
  target: ModelTarget;
  features?: string[];
  algorithm?: 'auto' | 'gbdt' | 'logistic';
}

export interface Model {
  id: string;
  name: string;
  definition: ModelDefinition;
  status: 'new' | 'training' | 'ready' | 'failed';
  report: ModelReport | null;
  error: string | null;
  createdAt: string;
  trainedAt: string | null;
  scoredAt: string | null;
}

export interface ModelReport {
  validation: 'time' | 'random';
  /** the snapshot dates of a time-based check */
  trainedAsOf: string | null;
  validatedAsOf: string | null;
  train: { rows: number; positives: number };
  test: { rows: number; positives: number };
  features: string[];
  auc: { logistic: number | null; gbdt: number | null };
  chosen: 'logistic' | 'gbdt';
  /** the chosen model's hold-out log-loss and Brier score (lower is better); null without hold-out rows */
  logLoss: number | null;
  brier: number | null;
  /** predicted against observed rate by decile of the chosen model's hold-out scores */
  calibration: Array<{ lower: number; upper: number; predicted: number; observed: number; count: number }>;
  importance: Array<{ feature: string; importance: number }>;
  scored: number;
  meanScore: number;
  baseRate: number;
  warnings: string[];
}

interface Artefact {
  algorithm: 'logistic' | 'gbdt';
  encoding: Encoding;
  model: LogisticModel | GbdtModel;
  asOf: string;
}

// ------------------------------------------------------------ definitions

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const RESERVED = new Set(['rfm_r', 'rfm_f', 'rfm_m', 'rfm_segment', 'cluster', 'clv', 'p_alive', 'expected_purchases', 'sentiment', 'complaint', 'recommendations']);

export function checkDefinition(d: ModelDefinition): void {
  if (!NAME.test(d.name)) throw new AnalyticsInputError('name', 'must be lower-case letters, digits and _ starting with a letter (it becomes the score name), e.g. churn_risk');
  if (RESERVED.has(d.name)) throw new AnalyticsInputError('name', `${d.name} is a score Custodian computes itself; choose another name`);
  const t = d.target;
  if ('days' in t && !(Number.isInteger(t.days) && t.days >= 1 && t.days <= 730)) throw new AnalyticsInputError('target.days', 'must be a whole number of days from 1 to 730');
  if (d.features !== undefined) {
    if (d.features.length === 0) throw new AnalyticsInputError('features', 'give at least one feature, or leave features out for the default set');
    const allowed = (f: string) =>
      (BEHAVIOUR_FEATURES as readonly string[]).includes(f) || (f.startsWith('category_share:') && f.length > 15) || (f.startsWith('source_share:') && f.length > 13) || (f.startsWith('trait:') && f.length > 6);
    const bad = d.features.find((f) => !allowed(f));
    if (bad) throw new AnalyticsInputError('features', `${bad} is not a feature; use ${BEHAVIOUR_FEATURES.join(', ')}, category_share:<category>, source_share:<source> or trait:<name>`);
    if (t.kind === 'trait' && d.features.includes(`trait:${t.trait}`)) throw new AnalyticsInputError('features', `trait:${t.trait} is the target; a model cannot use it to predict itself`);
  }
}

function toModel(r: { id: string; name: string; definition: Record<string, unknown>; status: string; report: unknown; error: string | null; created_at: Date; trained_at: Date | null; scored_at: Date | null }): Model {
  return {
    id: r.id,
    name: r.name,
    definition: r.definition as unknown as ModelDefinition,
    status: r.status as Model['status'],
    report: (r.report ?? null) as ModelReport | null,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    trainedAt: r.trained_at?.toISOString() ?? null,
    scoredAt: r.scored_at?.toISOString() ?? null,
  };
}

export async function createModel(db: Kysely<Schema>, workspaceId: string, definition: ModelDefinition, now = new Date()): Promise<Model> {
  checkDefinition(definition);
  if (definition.target.kind === 'segment') await requireSegment(db, workspaceId, definition.target.segment);
  const taken = await db.selectFrom('analytics_models').select('id').where('workspace_id', '=', workspaceId).where('name', '=', definition.name).executeTakeFirst();
  if (taken) throw new AnalyticsInputError('name', `a model named ${definition.name} exists already (id ${taken.id})`);
  const id = randomUUID();
  await db
    .insertInto('analytics_models')
    .values({ workspace_id: workspaceId, id, name: definition.name, kind: 'classifier', definition: JSON.stringify(definition), status: 'new', created_at: now })
    .execute();
  return (await getModel(db, workspaceId, id))!;
}

export async function getModel(db: Kysely<Schema>, workspaceId: string, id: string): Promise<Model | null> {
  const r = await db.selectFrom('analytics_models').select(['id', 'name', 'definition', 'status', 'report', 'error', 'created_at', 'trained_at', 'scored_at']).where('workspace_id', '=', workspaceId).where('kind', '=', 'classifier').where('id', '=', id).executeTakeFirst();
  return r ? toModel(r) : null;
}

export async function listModels(db: Kysely<Schema>, workspaceId: string): Promise<Model[]> {
  const rows = await db.selectFrom('analytics_models').select(['id', 'name', 'definition', 'status', 'report', 'error', 'created_at', 'trained_at', 'scored_at']).where('workspace_id', '=', workspaceId).where('kind', '=', 'classifier').orderBy('created_at').execute();
  return rows.map(toModel);
}

/** Delete a model and the score it wrote. */
export async function deleteModel(db: Kysely<Schema>, workspaceId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const gone = await tx.deleteFrom('analytics_models').where('workspace_id', '=', workspaceId).where('kind', '=', 'classifier').where('id', '=', id).returning('name').executeTakeFirst();
    if (!gone) return false;
    await tx.deleteFrom('profile_scores').where('workspace_id', '=', workspaceId).where('name', '=', gone.name).execute();
    return true;
  });
}

async function requireSegment(db: Kysely<Schema>, workspaceId: string, segment: string): Promise<void> {
  const exists = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('id', '=', segment).executeTakeFirst();
  if (!exists) throw new AnalyticsInputError('target.segment', `no segment ${segment}`);
}

// ------------------------------------------------------------ design matrix

/** How feature columns became numbers: numeric as they are, each categorical level one 0/1 column. */
interface Encoding {
  features: string[];
  columns: Array<{ feature: string; level: string | null }>;
}

function encodingOf(columns: readonly FeatureColumn[]): Encoding {
  const out: Encoding['columns'] = [];
  for (const c of columns) {
    if (c.kind === 'numeric') out.push({ feature: c.name, level: null });
    else for (const level of c.levels) out.push({ feature: c.name, level });
  }
  return { features: columns.map((c) => c.name), columns: out };
}

function design(columns: readonly FeatureColumn[], encoding: Encoding): Design {
  const n = columns[0]?.values.length ?? 0;
  const d = encoding.columns.length;
  const data = new Float64Array(n * d);
  const byName = new Map(columns.map((c) => [c.name, c]));
  encoding.columns.forEach((spec, j) => {
    const c = byName.get(spec.feature);
    if (!c) {
      for (let i = 0; i < n; i++) data[i * d + j] = Number.NaN;
      return;
    }
    if (c.kind === 'numeric') for (let i = 0; i < n; i++) data[i * d + j] = c.values[i]!;
    else {
      // A level unseen at training time is simply none of the known ones.
      const index = c.levels.indexOf(spec.level!);
      for (let i = 0; i < n; i++) data[i * d + j] = c.values[i]! < 0 ? Number.NaN : c.values[i] === index ? 1 : 0;
    }
  });
  return { data, rows: n, cols: d, names: encoding.columns.map(columnName) };
}

const columnName = (c: Encoding['columns'][number]) => (c.level === null ? c.feature : `${c.feature}=${c.level}`);

// ------------------------------------------------------------ examples

interface Examples {
  set: FeatureSet;
  /** rows that belong to the question's population, and their labels */
  rows: Int32Array;
  y: Uint8Array;
}

async function defaultFeatures(db: Kysely<Schema>, workspaceId: string): Promise<string[]> {
  const available = await availableFeatures(db, workspaceId);
  return [...BEHAVIOUR_FEATURES, ...available.categories.slice(0, 10), ...available.sources.slice(0, 5)];
}

/** Features as of `asOf` and, for questions about the future, what happened in the `days` after it. */
async function examples(db: Kysely<Schema>, workspaceId: string, d: ModelDefinition, features: string[], asOf: Date, labelled: boolean): Promise<Examples> {
  const t = d.target;
  // Churn needs each profile's order count to know who was a customer; a trait target is read like a feature.
  const extra = t.kind === 'trait' ? [`trait:${t.trait}`] : t.kind === 'churn' && !features.includes('frequency') ? ['frequency'] : [];
  const set = await loadFeatures(db, workspaceId, [...features, ...extra], asOf);
  const n = set.profileIds.length;
  const y = new Uint8Array(n);
  const rows: number[] = [];
  if (t.kind === 'churn' || t.kind === 'purchase' || t.kind === 'event') {
    const frequency = t.kind === 'churn' ? set.columns[features.includes('frequency') ? features.indexOf('frequency') : features.length] : undefined;
    const until = new Date(asOf.getTime() + t.days * DAY);
    const did = labelled ? await profilesWithEvent(db, workspaceId, set.profileIds, t.kind === 'event' ? t.event : 'Order Completed', asOf, until) : new Set<string>();
    for (let i = 0; i < n; i++) {
      if (!set.seen[i]) continue;
      // Churn is a question about customers: only those who had bought by then can stop.
      if (t.kind === 'churn' && !(frequency && frequency.kind === 'numeric' && frequency.values[i]! > 0)) continue;
      const happened = did.has(set.profileIds[i]!);
      y[i] = (t.kind === 'churn' ? !happened : happened) ? 1 : 0;
      rows.push(i);
    }
  } else if (t.kind === 'segment') {
    const members = await segmentMemberSet(db, workspaceId, t.segment);
    for (let i = 0; i < n; i++) (y[i] = members.has(set.profileIds[i]!) ? 1 : 0), rows.push(i);
  } else {
    const column = set.columns[set.columns.length - 1]!;
    for (let i = 0; i < n; i++) {
      const value = column.kind === 'categorical' ? (column.values[i]! >= 0 ? column.levels[column.values[i]!]! : null) : Number.isNaN(column.values[i]!) ? null : String(column.values[i]);
      if (value === null) continue;
      const positive = t.value !== undefined ? value === t.value : isTrue(value);
      y[i] = positive ? 1 : 0;
      rows.push(i);
    }
  }
  return { set: { ...set, columns: set.columns.slice(0, features.length) }, rows: Int32Array.from(rows), y };
}

function isTrue(value: string): boolean {
  return ['true', '1', 'yes', 'y', '是', 'churned'].includes(value.trim().toLowerCase());
}

function positives(y: Uint8Array, rows: Int32Array): number {
  let p = 0;
  for (const r of rows) p += y[r]!;
  return p;
}

// ------------------------------------------------------------ training

function fit(algorithm: 'logistic' | 'gbdt', x: Design, y: Uint8Array, rows: Int32Array, onProgress?: (i: number, total: number) => void): LogisticModel | GbdtModel {
  return algorithm === 'logistic' ? trainLogistic(x, y, { rows }) : trainGbdt(x, y, { ...GBDT_DEFAULTS, rows, onProgress });
}

function predict(algorithm: 'logistic' | 'gbdt', model: LogisticModel | GbdtModel, x: Design, rows?: Int32Array): Float64Array {
  return algorithm === 'logistic' ? predictLogistic(model as LogisticModel, x, rows) : predictGbdt(model as GbdtModel, x, rows);
}

/** Train, check on hold-out, refit on the latest data and score every profile of the question's population. */
export async function trainModel(db: Kysely<Schema>, workspaceId: string, id: string, now = new Date(), onStarted?: (runId: string) => void): Promise<{ runId: string; result: ModelReport }> {
  const model = await getModel(db, workspaceId, id);
  if (!model) throw new AnalyticsInputError('id', `no model ${id}`);
  const d = model.definition;
  if (d.target.kind === 'segment') await requireSegment(db, workspaceId, d.target.segment);
  await db.updateTable('analytics_models').set({ status: 'training', error: null }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  try {
    const outcome = await recorded(db, workspaceId, 'model', { model: id, name: d.name }, async (report) => {
      const features = d.features ?? (await defaultFeatures(db, workspaceId));
      const t = d.target;
      await report({ stage: 'load' }, true);
      let validation: ModelReport['validation'] = 'random';
      let trainSet: Examples;
      let testSet: Examples;
      let trainRows: Int32Array;
      let testRows: Int32Array;
      let latest: Examples;
      let trainedAsOf: Date | null = null;
      let validatedAsOf: Date | null = null;
      if ('days' in t) {
        validatedAsOf = new Date(now.getTime() - t.days * DAY);
        trainedAsOf = new Date(now.getTime() - 2 * t.days * DAY);
        const older = await examples(db, workspaceId, d, features, trainedAsOf, true);
        const newer = await examples(db, workspaceId, d, features, validatedAsOf, true);
        latest = newer;
        const olderYes = positives(older.y, older.rows);
        const newerYes = positives(newer.y, newer.rows);
        const enough = (yes: number, rows: number) => Math.min(yes, rows - yes) >= 5;
        if (older.rows.length >= 50 && enough(olderYes, older.rows.length) && enough(newerYes, newer.rows.length)) {
          validation = 'time';
          (trainSet = older), (trainRows = older.rows);
          (testSet = newer), (testRows = newer.rows);
        } else {
          // Too little history for two snapshots: hold out a random share of the latest one instead.
          ({ trainSet, testSet, trainRows, testRows } = randomHoldOut(newer));
          trainedAsOf = validatedAsOf;
        }
      } else {
        latest = await examples(db, workspaceId, d, features, now, true);
        ({ trainSet, testSet, trainRows, testRows } = randomHoldOut(latest));
      }
      const trainPositives = positives(trainSet.y, trainRows);
      if (trainRows.length < 20) throw new AnalyticsInputError('target', `only ${trainRows.length} profiles can be used to train; a model needs at least 20`);
      if (trainPositives === 0 || trainPositives === trainRows.length) throw new AnalyticsInputError('target', 'every training profile has the same answer; there is nothing to learn');

      const encoding = encodingOf(trainSet.set.columns);
      const xTrain = design(trainSet.set.columns, encoding);
      const xTest = testSet === trainSet ? xTrain : design(testSet.set.columns, encoding);
      const testLabels = Uint8Array.from(testRows, (r) => testSet.y[r]!);
      const algorithms: Array<'logistic' | 'gbdt'> = d.algorithm === 'logistic' ? ['logistic'] : d.algorithm === 'gbdt' ? ['gbdt'] : ['logistic', 'gbdt'];
      const aucs: ModelReport['auc'] = { logistic: null, gbdt: null };
      const held = new Map<'logistic' | 'gbdt', Float64Array>();
      for (const algorithm of algorithms) {
        await report({ stage: `fit ${algorithm}` }, true);
        const m = fit(algorithm, xTrain, trainSet.y, trainRows, (i, total) => void report({ stage: `fit ${algorithm}`, done: i, total }));
        const scores = predict(algorithm, m, xTest, testRows);
        held.set(algorithm, scores);
        // AUC needs both answers among the hold-out profiles.
        const held1 = positives(testSet.y, testRows);
        aucs[algorithm] = held1 > 0 && held1 < testRows.length ? auc(scores, testLabels) : null;
      }
      const warnings: string[] = [];
      if (validation === 'time' && features.some((f) => f.startsWith('trait:')))
        warnings.push('traits are read as they are now, also for the past snapshots: a trait that changed since (or that records the outcome) makes the hold-out AUC look better than it is');
      const chosen: 'logistic' | 'gbdt' = algorithms.length === 1 ? algorithms[0]! : (aucs.gbdt ?? 0) > (aucs.logistic ?? 0) ? 'gbdt' : 'logistic';

      // The model that scores is fitted on the latest labelled snapshot: the freshest behaviour.
      await report({ stage: 'refit' }, true);
      const latestEncoding = encodingOf(latest.set.columns);
      const xLatest = design(latest.set.columns, latestEncoding);
      const final = fit(chosen, xLatest, latest.y, latest.rows);
      const importance = chosen === 'logistic' ? logisticImportance(final as LogisticModel) : gbdtImportance(final as GbdtModel);

      await report({ stage: 'score' }, true);
      const current = 'days' in t ? await examples(db, workspaceId, d, features, now, false) : latest;
      const xNow = current === latest ? xLatest : design(current.set.columns, latestEncoding);
      const scores = predict(chosen, final, xNow, current.rows);
      const rows = Array.from(current.rows, (r, i) => ({ profileId: current.set.profileIds[r]!, value: Math.round(scores[i]! * 10_000) / 10_000, label: null }));
      await replaceScores(db, workspaceId, [{ name: d.name, rows }], now);
      const artefact: Artefact = { algorithm: chosen, encoding: latestEncoding, model: final, asOf: now.toISOString() };
      let sum = 0;
      for (const s of scores) sum += s;
      const result: ModelReport = {
        validation,
        trainedAsOf: trainedAsOf?.toISOString() ?? null,
        validatedAsOf: validatedAsOf?.toISOString() ?? null,
        train: { rows: trainRows.length, positives: trainPositives },
        test: { rows: testRows.length, positives: positives(testSet.y, testRows) },
        features,
        auc: aucs,
        chosen,
        logLoss: testRows.length > 0 ? logLoss(held.get(chosen)!, testLabels) : null,
        brier: testRows.length > 0 ? brier(held.get(chosen)!, testLabels) : null,
        calibration: testRows.length > 0 ? calibrationTable(held.get(chosen)!, testLabels, 10) : [],
        importance: latestEncoding.columns.map((c, j) => ({ feature: columnName(c), importance: importance[j] ?? 0 })).sort((a, b) => b.importance - a.importance).slice(0, 30),
        scored: rows.length,
        meanScore: rows.length > 0 ? sum / rows.length : 0,
        baseRate: latest.rows.length > 0 ? positives(latest.y, latest.rows) / latest.rows.length : 0,
        warnings,
      };
      await db
        .updateTable('analytics_models')
        .set({ status: 'ready', artefact: JSON.stringify(artefact), report: JSON.stringify(result), trained_at: now, scored_at: now, error: null })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .execute();
      return result;
    }, onStarted);
    return outcome;
  } catch (error) {
    await db
      .updateTable('analytics_models')
      .set({ status: 'failed', error: (error instanceof Error ? error.message : String(error)).slice(0, 2000) })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .execute();
    throw error;
  }
}

function randomHoldOut(e: Examples): { trainSet: Examples; testSet: Examples; trainRows: Int32Array; testRows: Int32Array } {
  if (e.rows.length < 25) throw new AnalyticsInputError('target', `only ${e.rows.length} profiles have an answer to this question; a model needs at least 25`);
  const yes = positives(e.y, e.rows);
  // Both answers must reach both sides of the split, and a handful of either teaches nothing.
  if (Math.min(yes, e.rows.length - yes) < 5) throw new AnalyticsInputError('target', `${yes} of ${e.rows.length} profiles answer yes; a model needs at least 5 of each answer`);
  const labels = Uint8Array.from(e.rows, (r) => e.y[r]!);
  const split = stratifiedSplit(labels, 0.2, 42);
  return { trainSet: e, testSet: e, trainRows: Int32Array.from(split.train, (i) => e.rows[i]!), testRows: Int32Array.from(split.test, (i) => e.rows[i]!) };
}

/** Retrain every model of the workspace (the schedule keeps scores current). */
export async function retrainModels(db: Kysely<Schema>, workspaceId: string, now = new Date()): Promise<number> {
  let trained = 0;
  for (const m of await listModels(db, workspaceId)) {
    try {
      await trainModel(db, workspaceId, m.id, now);
      trained += 1;
    } catch {
      // Recorded on the model (status failed, with the error); the others still go ahead.
    }
  }
  return trained;
}
