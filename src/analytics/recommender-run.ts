import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { associationRules, basketsFrom, minimumCount, mineRules, TooManyItemsets, type AssociationRule, type Baskets } from './fpgrowth.js';
import { AnalyticsInputError, recorded } from './jobs.js';
import { liveProfileId } from '../storage/live-profile.js';
import { isRestricted, restrictedLiveIds } from '../storage/restricted-profiles.js';
import { loadBaskets, loadManyProfileItems, loadProfileItems, type BasketLevel, type BasketHistory } from './queries.js';
import { evaluateHitRate, recommend, trainRecommender, type HitRateResult, type PurchaseHistory, type RecommendationReason, type RecommenderModel } from './recommend.js';

/**
 * Association rules over the workspace's order baskets, and the recommender
 * built from them plus item-to-item co-purchases, kept as the workspace's
 * `recommendations` model and evaluated offline (hit rate @10 on each
 * customer's last order, against recommending the most popular items).
 */

const DAY = 86_400_000;
export const RECOMMENDER_NAME = 'recommendations';

/** Frequent itemsets one request may hold (a trie node each): beyond it the thresholds are too loose to mean much. */
const MAX_ITEMSETS = 200_000;

export interface RulesQuery {
  minSupport: number;
  minConfidence: number;
  minLift?: number;
  maxLength?: number;
  level: BasketLevel;
  sinceDays: number;
  limit: number;
}

export interface RulesAnswer {
  level: BasketLevel;
  since: string;
  baskets: number;
  items: number;
  itemsets: number;
  /** rules that passed the thresholds; `rules` holds the first `limit` by lift */
  matched: number;
  rules: AssociationRule[];
  tookMs: number;
}

function checkSupport(minSupport: number, baskets: number, field: string): void {
  // Below two baskets every pair anyone ever bought together is "frequent": the rules would explode and mean nothing.
  if (baskets > 0 && minimumCount(minSupport, baskets) < 2) throw new AnalyticsInputError(field, `with ${baskets} baskets, support ${minSupport} is less than 2 baskets; use at least ${(2 / baskets).toPrecision(2)}`);
}

export async function findAssociationRules(db: Kysely<Schema>, workspaceId: string, q: RulesQuery, now = new Date()): Promise<RulesAnswer> {
  // A query string such as 1e400 arrives as Infinity, which no schema bound refuses.
  for (const field of ['minSupport', 'minConfidence', 'minLift'] as const) {
    const v = q[field];
    if (v !== undefined && !Number.isFinite(v)) throw new AnalyticsInputError(field, `${String(v)} is not a finite number`);
  }
  const since = new Date(now.getTime() - q.sinceDays * DAY);
  const history = await loadBaskets(db, workspaceId, since, q.level);
  const started = performance.now();
  const baskets = basketsFrom(history.baskets);
  checkSupport(q.minSupport, history.baskets.length, 'minSupport');
  let found: { rules: AssociationRule[]; itemsets: number; matched: number } = { rules: [], itemsets: 0, matched: 0 };
  try {
    if (history.baskets.length > 0) found = associationRules(baskets, { minSupport: q.minSupport, minConfidence: q.minConfidence, minLift: q.minLift, maxLength: q.maxLength, maxRules: q.limit, maxItemsets: MAX_ITEMSETS });
  } catch (error) {
    if (error instanceof TooManyItemsets) throw new AnalyticsInputError('minSupport', error.message.replace(/^minSupport: /, ''));
    throw error;
  }
  return { level: q.level, since: since.toISOString(), baskets: history.baskets.length, items: baskets.items.length, itemsets: found.itemsets, matched: found.matched, rules: found.rules, tookMs: Math.round(performance.now() - started) };
}

function purchaseHistory(history: BasketHistory, baskets: Baskets): PurchaseHistory {
  const customers = history.profileIds.length;
  const customerOffsets = new Int32Array(customers + 1);
  for (const c of history.customer) customerOffsets[c + 1]! += 1;
  for (let c = 0; c < customers; c++) customerOffsets[c + 1]! += customerOffsets[c]!;
  return { customers, itemCount: baskets.items.length, customerOffsets, basketOffsets: baskets.offsets, items: baskets.members };
}

export interface RecommenderParams {
  level?: BasketLevel;
  sinceDays?: number;
}

export interface RecommenderReport {
  level: BasketLevel;
  since: string;
  customers: number;
  baskets: number;
  items: number;
  rules: number;
  /** hit rate @10 on each customer's last order held out, ours and the popularity baseline */
  evaluation: HitRateResult;
}

interface Artefact {
  level: BasketLevel;
  items: string[];
  model: RecommenderModel;
}

const POPULARITY_WEIGHTS = [0, 0.25, 1, 4];

/** Rules for the recommender: loose enough to cover many customers, at least 5 baskets behind each. */
function ruleSettings(baskets: number) {
  return { minSupport: Math.max(0.001, 5 / Math.max(1, baskets)), minConfidence: 0.1, maxLength: 3 };
}

export async function runRecommender(db: Kysely<Schema>, workspaceId: string, params: RecommenderParams, now = new Date(), onStarted?: (id: string) => void): Promise<{ runId: string; result: RecommenderReport }> {
  const level = params.level ?? 'item';
  const sinceDays = params.sinceDays ?? 365;
  return recorded(db, workspaceId, 'recommender', { level, sinceDays }, async (report) => {
    await report({ stage: 'load' }, true);
    const since = new Date(now.getTime() - sinceDays * DAY);
    const history = await loadBaskets(db, workspaceId, since, level);
    if (history.baskets.length < 10) throw new AnalyticsInputError('orders', `only ${history.baskets.length} orders name their products since ${since.toISOString().slice(0, 10)}; recommendations need at least 10`);
    const baskets = basketsFrom(history.baskets);
    const h = purchaseHistory(history, baskets);
    await report({ stage: 'rules' }, true);
    const settings = ruleSettings(history.baskets.length);
    const mined = mineRules(baskets, settings);
    // The blend of evidence and popularity is chosen on the hold-out: in shops where most of a basket is staples,
    // popularity carries more of the answer than in shops where customers build on what they bought.
    await report({ stage: 'evaluate' }, true);
    const evaluation = evaluateHitRate(h, 10, { rules: settings, popularityWeights: POPULARITY_WEIGHTS });
    await report({ stage: 'train' }, true);
    const model = trainRecommender(h, { rules: mined.rules, popularityWeight: evaluation.popularityWeight });
    const result: RecommenderReport = { level, since: since.toISOString(), customers: h.customers, baskets: history.baskets.length, items: baskets.items.length, rules: mined.rules.length, evaluation };
    const artefact: Artefact = { level, items: baskets.items, model };
    await db
      .insertInto('analytics_models')
      .values({ workspace_id: workspaceId, id: randomUUID(), name: RECOMMENDER_NAME, kind: 'recommender', definition: JSON.stringify({ level, sinceDays }), status: 'ready', artefact: JSON.stringify(artefact), report: JSON.stringify(result), created_at: now, trained_at: now, scored_at: now })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet((eb) => ({ definition: eb.ref('excluded.definition'), status: 'ready', artefact: eb.ref('excluded.artefact'), report: eb.ref('excluded.report'), trained_at: now, error: null })))
      .execute();
    return result;
  }, onStarted);
}

export async function latestRecommender(db: Kysely<Schema>, workspaceId: string): Promise<{ report: RecommenderReport; trainedAt: Date } | null> {
  const row = await db.selectFrom('analytics_models').select(['report', 'trained_at']).where('workspace_id', '=', workspaceId).where('name', '=', RECOMMENDER_NAME).where('kind', '=', 'recommender').executeTakeFirst();
  return row?.trained_at ? { report: row.report as RecommenderReport, trainedAt: row.trained_at } : null;
}

// A model is read once per training, not once per request: the artefact can be megabytes.
const cache = new Map<string, { trainedAt: number; artefact: Artefact; index: Map<string, number> }>();

async function loadArtefact(db: Kysely<Schema>, workspaceId: string): Promise<{ artefact: Artefact; index: Map<string, number> } | null> {
  const head = await db.selectFrom('analytics_models').select('trained_at').where('workspace_id', '=', workspaceId).where('name', '=', RECOMMENDER_NAME).where('kind', '=', 'recommender').executeTakeFirst();
  if (!head?.trained_at) return null;
  const cached = cache.get(workspaceId);
  if (cached && cached.trainedAt === head.trained_at.getTime()) return cached;
  const row = await db.selectFrom('analytics_models').select(['artefact', 'trained_at']).where('workspace_id', '=', workspaceId).where('name', '=', RECOMMENDER_NAME).where('kind', '=', 'recommender').executeTakeFirstOrThrow();
  const artefact = row.artefact as Artefact;
  const entry = { trainedAt: row.trained_at!.getTime(), artefact, index: new Map(artefact.items.map((item, i) => [item, i])) };
  cache.set(workspaceId, entry);
  return entry;
}

export interface ProfileRecommendations {
  profileId: string;
  level: BasketLevel;
  /** items the profile has bought, which are never recommended */
  owned: number;
  recommendations: Array<{ item: string; score: number; reason: RecommendationReason }>;
}

/** Up to k items for one profile (merged-away ids answer for the profile they became); null for an unknown profile; refused for a restricted one. Trains the recommender first if the workspace has none. */
export async function recommendFor(db: Kysely<Schema>, workspaceId: string, profileId: string, k: number): Promise<ProfileRecommendations | null> {
  const id = await liveProfileId(db, workspaceId, profileId);
  if (id === null) return null;
  // Offering products is using the person's data for marketing, which Art. 18 stops.
  if (await isRestricted(db, workspaceId, id)) throw new AnalyticsInputError('id', `profile ${profileId} is restricted (GDPR Art. 18): its data is not used for recommendations until the restriction is lifted`);
  let loaded = await loadArtefact(db, workspaceId);
  if (!loaded) {
    try {
      await runRecommender(db, workspaceId, {});
    } catch (error) {
      // A shop with too few orders to learn from has nothing to recommend yet: an empty list, not an error.
      if (error instanceof AnalyticsInputError) return { profileId: id, level: 'item', owned: 0, recommendations: [] };
      throw error;
    }
    loaded = await loadArtefact(db, workspaceId);
  }
  const { artefact, index } = loaded!;
  const owned = (await loadProfileItems(db, workspaceId, id, artefact.level)).map((item) => index.get(item)).filter((i): i is number => i !== undefined);
  const picked = recommend(artefact.model, Int32Array.from(owned), k);
  return { profileId: id, level: artefact.level, owned: owned.length, recommendations: picked.map((r) => ({ item: artefact.items[r.item]!, score: r.score, reason: r.reason })) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// After a training that found too few orders, batches do not try again for a while: a campaign asks once per
// thousand people, and each try would load every basket and leave a failed run behind.
const RETRAIN_AFTER_MS = 10 * 60_000;
const untrainable = new Map<string, number>();
const training = new Map<string, Promise<void>>();

async function trainedArtefact(db: Kysely<Schema>, workspaceId: string): Promise<{ artefact: Artefact; index: Map<string, number> } | null> {
  const loaded = await loadArtefact(db, workspaceId);
  if (loaded) return loaded;
  if ((untrainable.get(workspaceId) ?? 0) > Date.now()) return null;
  // Concurrent batches of one workspace share one training instead of each starting its own.
  let pending = training.get(workspaceId);
  if (!pending) {
    pending = runRecommender(db, workspaceId, {})
      .then(() => undefined)
      .catch((error: unknown) => {
        if (!(error instanceof AnalyticsInputError)) throw error;
        untrainable.set(workspaceId, Date.now() + RETRAIN_AFTER_MS);
      })
      .finally(() => training.delete(workspaceId));
    training.set(workspaceId, pending);
  }
  await pending;
  return loadArtefact(db, workspaceId);
}

/**
 * Up to k recommended item names for each of many live profiles (a campaign's batch), best first, from the
 * workspace's trained recommender, with two queries for the whole batch. The ids are taken as live profile ids,
 * as given (merged-away ids are not followed). Restricted profiles (GDPR Art. 18), ids that are not UUIDs, and
 * every profile of a workspace with too few orders to learn from get an empty list. Trains the recommender first
 * if the workspace has none, like recommendFor.
 */
export async function recommendationsFor(db: Kysely<Schema>, workspaceId: string, profileIds: readonly string[], k: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(profileIds.map((id) => [id, []]));
  if (!Number.isInteger(k) || k <= 0) return out;
  // Keyed in lower case, as PostgreSQL answers UUIDs; the answer keeps the caller's spelling.
  const ids = [...new Set(profileIds.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))];
  if (ids.length === 0) return out;
  const loaded = await trainedArtefact(db, workspaceId);
  if (!loaded) return out;
  const { artefact, index } = loaded;
  const { rows: restricted } = await sql<{ id: string }>`
    select g.id::text as id from unnest(${ids}::uuid[]) as g(id) where g.id in (${restrictedLiveIds(workspaceId)})`.execute(db);
  const skip = new Set(restricted.map((r) => r.id));
  const allowed = ids.filter((id) => !skip.has(id));
  const owned = allowed.length > 0 ? await loadManyProfileItems(db, workspaceId, allowed, artefact.level) : new Map<string, string[]>();
  const lists = new Map<string, string[]>();
  for (const id of allowed) {
    const mine = (owned.get(id) ?? []).map((item) => index.get(item)).filter((i): i is number => i !== undefined);
    lists.set(id, recommend(artefact.model, Int32Array.from(mine).sort(), k).map((r) => artefact.items[r.item]!));
  }
  for (const id of profileIds) {
    const list = lists.get(id.toLowerCase());
    if (list) out.set(id, [...list]);
  }
  return out;
}
