/**
 * Synthetic customers for bench/segments, loaded with COPY straight into
 * `profiles`, `identities` and `events` of a migrated database. Seeded, so a
 * given (profiles, events, seed) always yields the same rows; times are
 * relative to the load's `now`.
 *
 * - profiles: uuid ids (random leading digits, the profile's index in the last
 *   12, so the bench can map a stored id back to its userId), traits in the
 *   standardized form cleaning stores: city (上海市, 北京市…: a skewed list,
 *   12% without one), age, gender;
 * - identities: one userId (`u<index>`) per profile, blind-indexed and
 *   encrypted with the bench's keyring, so the pipeline resolves messages that
 *   name these customers to these profiles;
 * - events: `track` events over the last two years in time order (as the
 *   pipeline appends them), Pareto-distributed activity per profile (most have
 *   a handful, a few thousands), each profile active from its first visit to
 *   its last (45% still active), ~20% Order Completed with a per-customer
 *   buying propensity, properties (total, category, price…) as plain JSON,
 *   a small opaque `secret`.
 */
import { seededRandom } from '../src/analytics/random.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Keyring } from '../src/privacy/crypto.js';

export interface DataSettings {
  profiles: number;
  events: number;
  seed: number;
  /** the instant "now" for the generated history */
  now: Date;
  workspaceId: string;
  sourceId: string;
}

export interface LoadTimes {
  generateSeconds: number;
  copySeconds: Record<'profiles' | 'identities' | 'events', number>;
  indexSeconds: number;
  vacuumSeconds: number;
}

const DAY = 86_400_000;
const HISTORY_DAYS = 730;

/** Standardized city names, weighted roughly by online-retail population. */
export const CITIES: ReadonlyArray<readonly [string, number]> = [
  ['上海市', 12], ['北京市', 11], ['广州市', 8], ['深圳市', 8], ['成都市', 6], ['杭州市', 6], ['重庆市', 5], ['武汉市', 4.5],
  ['西安市', 4], ['南京市', 4], ['天津市', 3.5], ['苏州市', 3.5], ['长沙市', 3], ['郑州市', 3], ['东莞市', 2.5], ['青岛市', 2.5],
  ['沈阳市', 2], ['宁波市', 2], ['昆明市', 2], ['合肥市', 2], ['佛山市', 1], ['厦门市', 1], ['大连市', 1], ['福州市', 1],
  ['济南市', 1], ['哈尔滨市', 1], ['无锡市', 1], ['温州市', 1], ['石家庄市', 1], ['南宁市', 1],
];

/** Event names and their share of the non-order events. */
const BROWSING: ReadonlyArray<readonly [string, number]> = [
  ['Page Viewed', 0.4], ['Product Viewed', 0.32], ['Added to Cart', 0.15], ['Checkout Started', 0.08], ['Signed In', 0.05],
];
export const ORDER = 'Order Completed';
/** Share of events that are orders, on average over customers. */
const ORDER_SHARE = 0.2;
export const CATEGORIES: ReadonlyArray<readonly [string, number]> = [
  ['apparel', 22], ['electronics', 16], ['beauty', 14], ['home', 12], ['food', 12], ['baby', 8], ['sports', 8], ['books', 8],
];
const PATHS = ['/', '/search', '/cart', '/account', '/promo/618', '/promo/double11', '/category/', '/products/'];
const SIGN_IN = ['wechat', 'sms', 'password', 'alipay'];

function weighted<T>(items: ReadonlyArray<readonly [T, number]>): (u: number) => T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const [, w] of items) cumulative.push((sum += w / total));
  return (u) => {
    for (let i = 0; i < cumulative.length; i++) if (u < cumulative[i]!) return items[i]![0];
    return items[items.length - 1]![0];
  };
}

const pickCity = weighted(CITIES);
const pickBrowsing = weighted(BROWSING);
export const pickCategory = weighted(CATEGORIES);

/** A standard normal draw (Box–Muller, one of the pair). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function hex(random: () => number, digits: number): string {
  let out = '';
  while (out.length < digits) out += Math.floor(random() * 4294967296).toString(16).padStart(8, '0');
  return out.slice(0, digits);
}

/** A version-4 uuid whose last 12 hex digits are `index`: random where the index orders it, recoverable by profileIndexOf. */
export function indexedUuid(random: () => number, index: number): string {
  const variant = '89ab'[Math.floor(random() * 4)]!;
  return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${variant}${hex(random, 3)}-${index.toString(16).padStart(12, '0')}`;
}

/** The generated profile's index (and so its userId u<index>), or null for a profile the pipeline made. */
export function profileIndexOf(id: string, profiles: number): number | null {
  const index = parseInt(id.slice(24), 16);
  return Number.isInteger(index) && index < profiles ? index : null;
}

export const userIdOf = (index: number) => `u${index}`;

/** COPY text format: backslash, tab and line breaks escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Per-profile facts the events pass needs, held in typed arrays (1M profiles: ~30 MB). */
interface Population {
  ids: string[];
  firstSeen: Float64Array;
  lastActive: Float64Array;
  /** relative buying propensity, mean ~1 */
  buyer: Float32Array;
  /** cumulative activity weights, for drawing an event's profile */
  cumulative: Float64Array;
}

function population(settings: DataSettings): Population {
  const random = seededRandom(settings.seed);
  const n = settings.profiles;
  const now = settings.now.getTime();
  const ids: string[] = new Array<string>(n);
  const firstSeen = new Float64Array(n);
  const lastActive = new Float64Array(n);
  const buyer = new Float32Array(n);
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = indexedUuid(random, i);
    // More customers arrived recently than two years ago (a growing shop).
    const age = HISTORY_DAYS * DAY * Math.pow(random(), 1.4);
    firstSeen[i] = now - age;
    // 45% are still active; the others stopped somewhere between their first visit and now.
    lastActive[i] = random() < 0.45 ? now : firstSeen[i]! + age * random();
    buyer[i] = Math.exp(0.6 * normal(random) - 0.18);
    // Pareto activity (α 1.3), capped so one customer cannot take a noticeable share of all events.
    const weight = Math.min(Math.pow(1 - random(), -1 / 1.3), 2000);
    total += weight;
    cumulative[i] = total;
  }
  return { ids, firstSeen, lastActive, buyer, cumulative };
}

/** Index of the first cumulative weight above x. */
function drawProfile(cumulative: Float64Array, x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

interface EventSkeleton {
  profile: Int32Array;
  time: Float64Array;
  /** event indexes in time order (day by day) */
  order: Uint32Array;
  lastSeen: Float64Array;
}

/** Who and when for every event, ordered by day as the pipeline would have appended them. */
function skeleton(settings: DataSettings, pop: Population): EventSkeleton {
  const random = seededRandom(settings.seed + 1);
  const n = settings.events;
  const profile = new Int32Array(n);
  const time = new Float64Array(n);
  const lastSeen = new Float64Array(settings.profiles);
  const total = pop.cumulative[pop.cumulative.length - 1]!;
  const start = settings.now.getTime() - HISTORY_DAYS * DAY;
  const perDay = new Uint32Array(HISTORY_DAYS + 1);
  for (let e = 0; e < n; e++) {
    const p = drawProfile(pop.cumulative, random() * total);
    const from = pop.firstSeen[p]!;
    const t = from + (pop.lastActive[p]! - from) * random();
    profile[e] = p;
    time[e] = t;
    if (t > lastSeen[p]!) lastSeen[p] = t;
    perDay[Math.min(HISTORY_DAYS, Math.max(0, Math.floor((t - start) / DAY)))]! += 1;
  }
  // Counting sort by day: within a day the order is as drawn.
  const offsets = new Uint32Array(HISTORY_DAYS + 1);
  for (let d = 1; d <= HISTORY_DAYS; d++) offsets[d] = offsets[d - 1]! + perDay[d - 1]!;
  const order = new Uint32Array(n);
  for (let e = 0; e < n; e++) {
    const d = Math.min(HISTORY_DAYS, Math.max(0, Math.floor((time[e]! - start) / DAY)));
    order[offsets[d]!++] = e;
  }
  return { profile, time, order, lastSeen };
}

function traitsOf(random: () => number): string {
  const traits: Record<string, unknown> = {};
  if (random() < 0.88) traits.city = pickCity(random());
  if (random() < 0.9) traits.age = Math.min(75, 18 + Math.round(Math.abs(normal(random) * 9 + 12)));
  const g = random();
  if (g < 0.52) traits.gender = 'female';
  else if (g < 0.95) traits.gender = 'male';
  return JSON.stringify(traits);
}

function propertiesOf(name: string, random: () => number): string {
  switch (name) {
    case ORDER: {
      const total = Math.round(Math.exp(Math.log(199) + 0.9 * normal(random)) * 100) / 100;
      return JSON.stringify({ total, currency: 'CNY', category: pickCategory(random()), items: 1 + Math.floor(random() * random() * 6) });
    }
    case 'Product Viewed':
      return JSON.stringify({ category: pickCategory(random()), price: Math.round(Math.exp(Math.log(129) + 0.8 * normal(random))) });
    case 'Added to Cart':
      return JSON.stringify({ category: pickCategory(random()), price: Math.round(Math.exp(Math.log(129) + 0.8 * normal(random))), quantity: 1 + Math.floor(random() * random() * 4) });
    case 'Checkout Started':
      return JSON.stringify({ total: Math.round(Math.exp(Math.log(229) + 0.9 * normal(random))) });
    case 'Page Viewed': {
      const path = PATHS[Math.floor(random() * PATHS.length)]!;
      return JSON.stringify({ path: path.endsWith('/') && path.length > 1 ? `${path}${Math.floor(random() * 5000)}` : path });
    }
    default:
      return JSON.stringify({ method: SIGN_IN[Math.floor(random() * SIGN_IN.length)]! });
  }
}

const ROWS_PER_CHUNK = 2000;

async function copyRows(client: pg.Client, statement: string, rows: Iterable<string>): Promise<number> {
  const started = performance.now();
  async function* chunks() {
    let batch: string[] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length === ROWS_PER_CHUNK) {
        yield batch.join('');
        batch = [];
      }
    }
    if (batch.length > 0) yield batch.join('');
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(statement)));
  return (performance.now() - started) / 1000;
}

/** Progress on stderr, at most every few seconds. */
function progress(label: string, total: number): (done: number) => void {
  let last = performance.now();
  return (done) => {
    const t = performance.now();
    if (t - last < 10_000) return;
    last = t;
    process.stderr.write(`    … ${label} ${done.toLocaleString('en')} / ${total.toLocaleString('en')}\n`);
  };
}

/** Primary keys and indexes of the loaded tables: dropped for the load, rebuilt after (far faster than maintaining them row by row). */
async function dropIndexes(client: pg.Client, tables: readonly string[]): Promise<string[]> {
  const rebuild: string[] = [];
  const { rows: constraints } = await client.query<{ tbl: string; name: string; def: string }>(
    `select conrelid::regclass::text as tbl, conname as name, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = any($1::regclass[]) and contype in ('p', 'u')`,
    [tables],
  );
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `select indexname as name, indexdef as def from pg_indexes where schemaname = current_schema() and tablename = any($1::text[]) and indexname <> all($2::text[])`,
    [tables, constraints.map((c) => c.name)],
  );
  for (const i of indexes) {
    await client.query(`drop index ${i.name}`);
    rebuild.push(i.def);
  }
  for (const c of constraints) {
    await client.query(`alter table ${c.tbl} drop constraint ${c.name}`);
    rebuild.unshift(`alter table ${c.tbl} add constraint ${c.name} ${c.def}`);
  }
  return rebuild;
}

/** Share of a table's pages the visibility map marks all-visible (what index-only scans need). */
export async function visibleShare(query: (text: string, values: unknown[]) => Promise<unknown[]>, table: string): Promise<number> {
  const rows = (await query('select relpages as pages, relallvisible as visible from pg_class where oid = $1::regclass', [table])) as Array<{ pages: number; visible: number }>;
  const row = rows[0];
  return row && row.pages > 0 ? row.visible / row.pages : 1;
}

/**
 * VACUUM (ANALYZE), again if it could not mark the freshly loaded pages
 * all-visible: a transaction open elsewhere at that moment holds the horizon
 * back (seen on a shared server), and index-only scans would then visit the heap.
 */
async function vacuumUntilVisible(client: pg.Client, table: string, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await client.query(`vacuum (analyze) ${table}`);
    const share = await visibleShare(async (text, values) => (await client.query(text, values)).rows, table);
    if (share >= 0.99) return;
    if (attempt === 5) {
      log(`  warning: after ${attempt} VACUUMs only ${(share * 100).toFixed(1)}% of ${table}'s pages are all-visible`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
  }
}

/**
 * Generate and COPY the data into an empty, migrated database whose workspace
 * and source exist; then rebuild indexes and VACUUM ANALYZE (so index-only
 * scans need no heap visits, as on a table autovacuum has been through).
 */
export async function loadData(url: string, keyring: Keyring, settings: DataSettings, log: (line: string) => void): Promise<LoadTimes> {
  const generateStarted = performance.now();
  const pop = population(settings);
  const skel = skeleton(settings, pop);
  const generateSeconds = (performance.now() - generateStarted) / 1000;
  log(`  generated who/when of ${settings.events.toLocaleString('en')} events in ${generateSeconds.toFixed(1)} s (names, properties and rows are generated while copying)`);

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`set maintenance_work_mem = '1GB'`);
    await client.query('set synchronous_commit = off');
    const tables = ['profiles', 'identities', 'events'];
    const rebuild = await dropIndexes(client, tables);
    const ws = copyText(settings.workspaceId);
    const source = copyText(settings.sourceId);
    const now = settings.now.getTime();

    const profileRows = function* (): Generator<string> {
      const random = seededRandom(settings.seed + 2);
      const tick = progress('profiles', settings.profiles);
      for (let i = 0; i < settings.profiles; i++) {
        const created = pop.firstSeen[i]!;
        const seen = Math.max(created, skel.lastSeen[i]!);
        yield `${ws}\t${pop.ids[i]!}\t${copyText(traitsOf(random))}\t\\N\t${iso(created)}\t${iso(seen)}\t${iso(seen)}\n`;
        tick(i);
      }
    };
    const profilesSeconds = await copyRows(client, `copy profiles (workspace_id, id, traits, secret_traits, created_at, updated_at, last_seen_at) from stdin`, profileRows());
    log(`  profiles    ${settings.profiles.toLocaleString('en').padStart(12)} rows  ${profilesSeconds.toFixed(1).padStart(6)} s`);

    const identityRows = function* (): Generator<string> {
      for (let i = 0; i < settings.profiles; i++) {
        const userId = userIdOf(i);
        const index = keyring.blindIndex(settings.workspaceId, 'userId', userId).toString('hex');
        const sealed = keyring.encrypt(settings.workspaceId, Buffer.from(userId, 'utf8')).toString('hex');
        yield `${ws}\tuserId\t\\\\x${index}\t\\\\x${sealed}\t${pop.ids[i]!}\t${source}\t${iso(pop.firstSeen[i]!)}\n`;
      }
    };
    const identitiesSeconds = await copyRows(client, `copy identities (workspace_id, type, value_index, value_enc, profile_id, source_id, first_seen_at) from stdin`, identityRows());
    log(`  identities  ${settings.profiles.toLocaleString('en').padStart(12)} rows  ${identitiesSeconds.toFixed(1).padStart(6)} s`);

    // The encrypted part of a real event (identifiers, context) is opaque here: a few dozen random bytes, from a small pool.
    const secretPool = Array.from({ length: 256 }, (_, k) => {
      const r = seededRandom(settings.seed * 7919 + k);
      return `\\\\x${hex(r, 2 * (48 + (k % 32)))}`;
    });
    const eventRows = function* (): Generator<string> {
      const random = seededRandom(settings.seed + 3);
      const tick = progress('events', settings.events);
      for (let k = 0; k < settings.events; k++) {
        const e = skel.order[k]!;
        const p = skel.profile[e]!;
        const t = Math.min(now, skel.time[e]!);
        const name = random() < ORDER_SHARE * pop.buyer[p]! ? ORDER : pickBrowsing(random());
        const messageId = indexedUuid(random, k);
        const received = t + Math.floor(random() * 3000);
        yield `${ws}\t${messageId}\t${pop.ids[p]!}\t${source}\ttrack\t${copyText(name)}\t${iso(t)}\t${iso(received)}\t${copyText(propertiesOf(name, random))}\t${secretPool[k & 255]!}\n`;
        tick(k);
      }
    };
    const eventsSeconds = await copyRows(client, `copy events (workspace_id, message_id, profile_id, source_id, type, event, timestamp, received_at, properties, secret) from stdin`, eventRows());
    log(`  events      ${settings.events.toLocaleString('en').padStart(12)} rows  ${eventsSeconds.toFixed(1).padStart(6)} s`);

    const indexStarted = performance.now();
    for (const statement of rebuild) {
      const started = performance.now();
      await client.query(statement);
      log(`  ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${statement.length > 110 ? statement.slice(0, 107) + '…' : statement}`);
    }
    const indexSeconds = (performance.now() - indexStarted) / 1000;

    const vacuumStarted = performance.now();
    for (const table of tables) await vacuumUntilVisible(client, table, log);
    const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
    log(`  vacuum analyze ${vacuumSeconds.toFixed(1)} s`);
    return { generateSeconds, copySeconds: { profiles: profilesSeconds, identities: identitiesSeconds, events: eventsSeconds }, indexSeconds, vacuumSeconds };
  } finally {
    await client.end();
  }
}
