import { randomBytes, randomUUID } from 'node:crypto';
import { ActivationError } from './activation-error.js';
import { sql, type Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';

export interface CouponPool {
  id: string;
  name: string;
  createdBy: string | null;
  createdAt: Date;
  /** codes in the pool */
  total: number;
  /** codes not yet given to anyone */
  free: number;
  issued: number;
}

export interface AddCodesResult {
  added: number;
  /** codes already in the pool, or given twice in this call */
  duplicates: number;
  invalid: Array<{ index: number; reason: string }>;
}

export const MAX_CODES_PER_CALL = 100_000;
export const MAX_CODE_LENGTH = 64;
export const MAX_PREFIX_LENGTH = 20;
/** Random characters in a generated code: 12 × 5 bits = 60 bits, so guessing a live code is hopeless. */
export const GENERATED_LENGTH = 12;
// No 0/O or 1/I: codes get read aloud and typed from paper. 32 symbols, so a byte's low 5 bits pick one without bias.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
// Rows per insert statement: a text[] parameter each, far below any protocol limit.
const INSERT_CHUNK = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Printable: no whitespace, no control, format, unassigned or private-use characters.
const PRINTABLE = /^[^\s\p{C}]+$/u;

function countsOf(r: { total: number | string; free: number | string }): { total: number; free: number; issued: number } {
  const total = Number(r.total);
  const free = Number(r.free);
  return { total, free, issued: total - free };
}

function poolQuery(db: Kysely<Schema>, workspaceId: string) {
  return db
    .selectFrom('coupon_pools as p')
    .leftJoin('coupons as c', (j) => j.onRef('c.workspace_id', '=', 'p.workspace_id').onRef('c.pool_id', '=', 'p.id'))
    .select(['p.id', 'p.name', 'p.created_by', 'p.created_at'])
    .select((eb) => [eb.fn.count<string>('c.code').as('total'), sql<string>`count(c.code) filter (where c.issued_at is null)`.as('free')])
    .where('p.workspace_id', '=', workspaceId)
    .groupBy(['p.id', 'p.name', 'p.created_by', 'p.created_at']);
}

function toPool(r: { id: string; name: string; created_by: string | null; created_at: Date; total: string; free: string }): CouponPool {
  return { id: r.id, name: r.name, createdBy: r.created_by, createdAt: r.created_at, ...countsOf(r) };
}

export async function listPools(db: Kysely<Schema>, workspaceId: string): Promise<CouponPool[]> {
  return (await poolQuery(db, workspaceId).orderBy('p.created_at').orderBy('p.id').execute()).map(toPool);
}

export async function getPool(db: Kysely<Schema>, workspaceId: string, poolId: string): Promise<CouponPool | null> {
  const row = await poolQuery(db, workspaceId).where('p.id', '=', poolId).executeTakeFirst();
  return row ? toPool(row) : null;
}

export async function createPool(db: Kysely<Schema>, workspaceId: string, name: string, actor: string | null): Promise<CouponPool> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200) throw new ActivationError('invalid', 'name', 'name must be 1 to 200 characters');
  const id = randomUUID();
  const row = await db
    .insertInto('coupon_pools')
    .values({ workspace_id: workspaceId, id, name: trimmed, created_by: actor })
    // The unique index is on lower(name): a pool named like another in any case is the same pool to a marketer.
    .onConflict((oc) => oc.expression(sql`workspace_id, lower(name)`).doNothing())
    .returning(['id', 'created_at'])
    .executeTakeFirst();
  if (!row) throw new ActivationError('conflict', 'name', `a coupon pool named ${trimmed} already exists`);
  return { id, name: trimmed, createdBy: actor, createdAt: row.created_at, total: 0, free: 0, issued: 0 };
}

async function requirePool(db: Kysely<Schema>, workspaceId: string, poolId: string): Promise<void> {
  const row = await db.selectFrom('coupon_pools').select('id').where('workspace_id', '=', workspaceId).where('id', '=', poolId).executeTakeFirst();
  if (!row) throw new ActivationError('not_found', 'id', `no coupon pool ${poolId}`);
}

/**
 * Insert codes, skipping those the pool holds; answers how many were new. Chunks commit on their own:
 * an upload cut short can simply be sent again, as the codes already in count as duplicates.
 */
async function insertCodes(db: Kysely<Schema>, workspaceId: string, poolId: string, codes: readonly string[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < codes.length; i += INSERT_CHUNK) {
    const chunk = codes.slice(i, i + INSERT_CHUNK);
    const { rows } = await sql<{ n: string }>`
      with added as (
        insert into coupons (workspace_id, pool_id, code)
        select ${workspaceId}, ${poolId}, code from unnest(${chunk}::text[]) as u(code)
        on conflict do nothing
        returning 1)
      select count(*)::text as n from added`.execute(db);
    added += Number(rows[0]!.n);
  }
  return added;
}

function reasonAgainst(code: unknown): string | null {
  if (typeof code !== 'string') return 'not text';
  if (code === '') return 'empty';
  if ([...code].length > MAX_CODE_LENGTH) return `longer than ${MAX_CODE_LENGTH} characters`;
  if (!PRINTABLE.test(code)) return 'holds a space or an unprintable character';
  return null;
}

/** Upload codes into a pool: bad ones are listed by index and the rest are kept; codes the pool has already are counted, not added twice. */
export async function addCodes(db: Kysely<Schema>, workspaceId: string, poolId: string, codes: readonly string[]): Promise<AddCodesResult> {
  if (codes.length > MAX_CODES_PER_CALL) throw new ActivationError('invalid', 'codes', `${codes.length} codes; send at most ${MAX_CODES_PER_CALL} per request`);
  await requirePool(db, workspaceId, poolId);
  const invalid: AddCodesResult['invalid'] = [];
  const valid: string[] = [];
  codes.forEach((code, index) => {
    const reason = reasonAgainst(code);
    if (reason) invalid.push({ index, reason });
    else valid.push(code);
  });
  const added = await insertCodes(db, workspaceId, poolId, valid);
  await freshStatistics(db, added);
  return { added, duplicates: valid.length - added, invalid };
}

/**
 * After a big fill, planner statistics for coupons. Without them (PGlite has no
 * autovacuum to gather them) a claim's update believed the pool held one row and
 * joined 1,000 people to 100,000 codes by scanning: 48 s for a claim that takes
 * milliseconds with them.
 */
async function freshStatistics(db: Kysely<Schema>, added: number): Promise<void> {
  if (added >= 1000 && !db.isTransaction) await sql`analyze coupons`.execute(db);
}

function randomCode(prefix: string, bytes: Buffer, at: number): string {
  let code = prefix;
  for (let i = 0; i < GENERATED_LENGTH; i++) code += ALPHABET[bytes[at + i]! & 31];
  return code;
}

/** Make `count` new random codes in a pool; a collision with a code already there is replaced, so exactly `count` are added. */
export async function generateCodes(db: Kysely<Schema>, workspaceId: string, poolId: string, options: { count: number; prefix?: string }): Promise<{ added: number }> {
  const { count, prefix = '' } = options;
  if (!Number.isInteger(count) || count < 1 || count > MAX_CODES_PER_CALL) throw new ActivationError('invalid', 'generate.count', `generate.count must be a whole number from 1 to ${MAX_CODES_PER_CALL}`);
  if (prefix !== '' && (prefix.length > MAX_PREFIX_LENGTH || !PRINTABLE.test(prefix))) throw new ActivationError('invalid', 'generate.prefix', `generate.prefix must be up to ${MAX_PREFIX_LENGTH} printable characters without spaces`);
  await requirePool(db, workspaceId, poolId);
  let added = 0;
  // Collisions at 60 bits are all but impossible; the bound only keeps a broken random source from looping forever.
  for (let round = 0; added < count && round < 10; round++) {
    const want = count - added;
    const bytes = randomBytes(want * GENERATED_LENGTH);
    const batch = new Set<string>();
    for (let i = 0; i < want; i++) batch.add(randomCode(prefix, bytes, i * GENERATED_LENGTH));
    added += await insertCodes(db, workspaceId, poolId, [...batch]);
  }
  if (added < count) throw new Error(`generated only ${added} of ${count} distinct coupon codes`);
  await freshStatistics(db, added);
  return { added };
}

function isRetryable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  // 23505: someone else gave this person a code first; 40P01: two claims each waited on the other's new holders.
  return code === '23505' || code === '40P01';
}

async function holders(db: Kysely<Schema>, workspaceId: string, poolId: string, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('coupons')
    .select(['profile_id', 'code'])
    .where('workspace_id', '=', workspaceId)
    .where('pool_id', '=', poolId)
    .where('profile_id', '=', sql<string>`any(${ids}::uuid[])`)
    .execute();
  return new Map(rows.map((r) => [r.profile_id!, r.code]));
}

/**
 * Give each person the first free codes, one each, in the order given, in one statement. Rows another
 * claim has locked are skipped, not waited for, so concurrent senders take disjoint codes.
 */
async function takeFree(db: Kysely<Schema>, workspaceId: string, poolId: string, ids: readonly string[], issuedFor: string, now: Date): Promise<Map<string, string>> {
  const { rows } = await sql<{ profile_id: string; code: string }>`
    with free as (
      select code from coupons
      where workspace_id = ${workspaceId} and pool_id = ${poolId} and issued_at is null
      order by code
      limit ${ids.length}
      for update skip locked),
    numbered as (select code, row_number() over (order by code) as n from free),
    wanted as (select id, n from unnest(${ids}::uuid[]) with ordinality as w(id, n))
    update coupons c set profile_id = wanted.id, issued_for = ${issuedFor}, issued_at = ${now}
    from numbered join wanted on wanted.n = numbered.n
    where c.workspace_id = ${workspaceId} and c.pool_id = ${poolId} and c.code = numbered.code
    returning c.profile_id::text as profile_id, c.code`.execute(db);
  return new Map(rows.map((r) => [r.profile_id, r.code]));
}

async function claimOnce(db: Kysely<Schema>, workspaceId: string, poolId: string, ids: readonly string[], issuedFor: string, now: Date): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const held = await holders(db, workspaceId, poolId, ids);
  let need = ids.filter((id) => !held.has(id));
  for (const [id, code] of held) out.set(id, code);
  // A row that another claim issued after this statement's snapshot drops out of `free` on re-check,
  // so a round can come back short while codes remain: another round takes them, until one finds none.
  while (need.length > 0) {
    const got = await takeFree(db, workspaceId, poolId, need, issuedFor, now);
    for (const [id, code] of got) out.set(id, code);
    if (got.size === 0) break;
    need = need.filter((id) => !got.has(id));
  }
  return out;
}

const MAX_ATTEMPTS = 8;

async function lockPool(db: Kysely<Schema>, workspaceId: string, poolId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`coupon_pool:${workspaceId}:${poolId}`}, 0))`.execute(db);
}

/**
 * One code of the pool for each person: the code they hold already, else a
 * free one, else null when the pool has run dry. A few statements for the
 * whole list, whatever its length. Safe under concurrency: two claims never
 * hand out one code (free rows another claim has locked are skipped), and two
 * claims for the same person give them one code: the later one meets the
 * person on the holder index, starts over, and from then on waits its turn
 * for the pool until the claims ahead of it have committed. Run it in the
 * transaction that records the sends (READ COMMITTED), so a rollback gives
 * the codes back.
 */
export async function claimCoupons(db: Kysely<Schema>, workspaceId: string, poolId: string, profileIds: readonly string[], issuedFor: string, now: Date): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  // PostgreSQL answers UUIDs in lower case; the caller's spelling is kept for the answer's keys.
  const spelled = new Map<string, string[]>();
  for (const id of profileIds) {
    if (out.has(id)) continue;
    out.set(id, null);
    // Anything but a UUID names no profile; it gets no code rather than failing everyone's cast.
    if (!UUID.test(id)) continue;
    const key = id.toLowerCase();
    const names = spelled.get(key);
    if (names) names.push(id);
    else spelled.set(key, [id]);
  }
  const ids = [...spelled.keys()];
  if (ids.length === 0) return out;
  for (let attempt = 1; ; attempt++) {
    // The first attempt takes no lock. Claims that met in a person and lost go on one at a time, or two of them
    // could keep deadlocking each other on the holder index, retry after retry.
    const serial = attempt > 1;
    try {
      let claimed: Map<string, string | null>;
      if (db.isTransaction) {
        // Taken before the savepoint, so it holds until the caller's transaction ends, when its holders are visible.
        if (serial) await lockPool(db, workspaceId, poolId);
        // The caller's transaction survives a failed attempt: only what this attempt did is undone.
        await sql`savepoint coupon_claim`.execute(db);
        try {
          claimed = await claimOnce(db, workspaceId, poolId, ids, issuedFor, now);
        } catch (error) {
          await sql`rollback to savepoint coupon_claim`.execute(db);
          throw error;
        }
        await sql`release savepoint coupon_claim`.execute(db);
      } else {
        claimed = await db.transaction().execute(async (trx) => {
          if (serial) await lockPool(trx, workspaceId, poolId);
          return claimOnce(trx, workspaceId, poolId, ids, issuedFor, now);
        });
      }
      for (const [id, code] of claimed) for (const name of spelled.get(id) ?? []) out.set(name, code);
      return out;
    } catch (error) {
      if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
