import { randomUUID } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimCoupons } from '../src/activate/coupons.js';
import { secretHash } from '../src/privacy/accounts.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

const WS = 'default';
const ANALYST_TOKEN = 'ct_coupon_analyst_token';
const GENERATED = /^SPRING-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{12}$/;

interface Pool { id: string; name: string; total: number; free: number; issued: number }
interface CodesAnswer { added: number; duplicates: number; invalid: Array<{ index: number; reason: string }>; invalidCount: number; pool: Pool }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const people = (n: number) => Array.from({ length: n }, () => randomUUID());

describe.each(backends)('coupon pools on $name', (backend) => {
  let t: TestApp;
  const call = (method: 'GET' | 'POST', url: string, body?: unknown, token = ADMIN_TOKEN) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  const newPool = async (name: string): Promise<Pool> => {
    const res = await call('POST', '/api/coupon-pools', { name });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Pool;
  };
  const addCodes = async (poolId: string, body: unknown): Promise<CodesAnswer> => {
    const res = await call('POST', `/api/coupon-pools/${poolId}/codes`, body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as CodesAnswer;
  };
  const codesOf = async (poolId: string) =>
    t.database.db.selectFrom('coupons').select(['code', 'profile_id', 'issued_for', 'issued_at']).where('workspace_id', '=', WS).where('pool_id', '=', poolId).orderBy('code').execute();

  beforeAll(async () => {
    t = await startTestApp(backend);
    await t.database.db.insertInto('api_tokens').values({ workspace_id: WS, id: 'coupon-analyst', name: 'coupon-analyst', token_hash: secretHash(ANALYST_TOKEN), role: 'analyst', created_by: 'test' }).execute();
  });
  afterAll(async () => t?.close());

  it('creates pools, refuses a second of the same name in any case, and lists them with counts', async () => {
    const pool = await newPool('Spring Sale');
    expect(pool).toMatchObject({ name: 'Spring Sale', total: 0, free: 0, issued: 0 });
    const again = await call('POST', '/api/coupon-pools', { name: 'spring sale' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CUSTODIAN_CONFLICT', field: 'name' });
    expect((await call('POST', '/api/coupon-pools', { name: '  ' })).json()).toMatchObject({ code: 'CUSTODIAN_INVALID_FIELD', field: 'name' });
    const list = (await call('GET', '/api/coupon-pools')).json() as { pools: Pool[] };
    expect(list.pools.map((p) => p.name)).toContain('Spring Sale');
    expect((await call('GET', `/api/coupon-pools/${pool.id}`)).json()).toMatchObject({ id: pool.id, total: 0 });
    expect((await call('GET', '/api/coupon-pools/no-such-pool')).statusCode).toBe(404);
    const audit = await t.database.db.selectFrom('audit_log').select(['action', 'target']).where('workspace_id', '=', WS).where('action', '=', 'coupon_pool.create').execute();
    expect(audit.map((a) => a.target)).toContain(pool.id);
  });

  it('adds uploaded codes, counting duplicates and listing invalid ones by index', async () => {
    const pool = await newPool('Upload');
    const first = await addCodes(pool.id, { codes: ['A1', 'A2', 'A1', ' bad', '', 'x'.repeat(65), 'ok-3', 'tab\tx', '券码-八八'] });
    expect(first).toMatchObject({ added: 4, duplicates: 1, invalidCount: 4, pool: { total: 4, free: 4, issued: 0 } });
    expect(first.invalid.map((i) => i.index)).toEqual([3, 4, 5, 7]);
    expect(first.invalid[2]!.reason).toMatch(/64/);
    const second = await addCodes(pool.id, { codes: ['A1', 'NEW', 'x'.repeat(64)] });
    expect(second).toMatchObject({ added: 2, duplicates: 1, invalidCount: 0, pool: { total: 6 } });
    expect((await codesOf(pool.id)).map((c) => c.code)).toEqual(expect.arrayContaining(['A1', 'A2', 'NEW', 'ok-3', '券码-八八']));
  });

  it('generates random codes from the unambiguous alphabet', async () => {
    const pool = await newPool('Generated');
    const answer = await addCodes(pool.id, { generate: { count: 5000, prefix: 'SPRING-' } });
    expect(answer).toMatchObject({ added: 5000, duplicates: 0, pool: { total: 5000, free: 5000 } });
    const codes = (await codesOf(pool.id)).map((c) => c.code);
    expect(codes).toHaveLength(5000);
    for (const code of codes) expect(code).toMatch(GENERATED);
    expect((await addCodes(pool.id, { generate: { count: 10 } })).pool.total).toBe(5010);
  });

  it('takes 100,000 codes in one request', async () => {
    const pool = await newPool('Big upload');
    const codes = Array.from({ length: 100_000 }, (_, i) => `BIG-${String(i).padStart(6, '0')}-${'Z'.repeat(53)}`);
    expect(codes[0]).toHaveLength(64);
    const answer = await addCodes(pool.id, { codes });
    expect(answer).toMatchObject({ added: 100_000, duplicates: 0, pool: { total: 100_000 } });
    const tooMany = await call('POST', `/api/coupon-pools/${pool.id}/codes`, { codes: [...codes, 'one-more'] });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ field: 'codes' });
  }, 120_000);

  it('answers 400 naming the field for a body that is not exactly one of codes and generate', async () => {
    const pool = await newPool('Bad bodies');
    const cases: Array<[unknown, string]> = [
      [{}, 'codes'],
      [{ codes: ['A'], generate: { count: 1 } }, 'generate'],
      [{ generate: { count: 0 } }, 'generate.count'],
      [{ generate: { count: 100_001 } }, 'generate.count'],
      [{ generate: { count: 1, prefix: 'has space' } }, 'generate.prefix'],
      [{ codes: ['A', { code: 'B' }] }, 'codes.1'],
      [{ codes: { A: 1 } }, 'codes'],
      // The app's validation handler names the body for a property it does not know.
      [{ code: ['A'] }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', `/api/coupon-pools/${pool.id}/codes`, body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(400);
      expect((res.json() as { field?: string }).field, JSON.stringify(body)).toBe(field);
    }
    expect((await call('POST', '/api/coupon-pools/no-such-pool/codes', { codes: ['A'] })).statusCode).toBe(404);
    expect((await call('POST', '/api/coupon-pools/no-such-pool/codes', { generate: { count: 3 } })).statusCode).toBe(404);
  });

  it('lets an analyst read pools but not change them', async () => {
    const pool = await newPool('Analyst view');
    expect((await call('GET', '/api/coupon-pools', undefined, ANALYST_TOKEN)).statusCode).toBe(200);
    expect((await call('GET', `/api/coupon-pools/${pool.id}`, undefined, ANALYST_TOKEN)).statusCode).toBe(200);
    const create = await call('POST', '/api/coupon-pools', { name: 'Analyst pool' }, ANALYST_TOKEN);
    expect(create.statusCode).toBe(403);
    expect(create.json()).toMatchObject({ code: 'CUSTODIAN_FORBIDDEN' });
    expect((await call('POST', `/api/coupon-pools/${pool.id}/codes`, { codes: ['X'] }, ANALYST_TOKEN)).statusCode).toBe(403);
    expect((await call('GET', `/api/coupon-pools/${pool.id}`)).json()).toMatchObject({ total: 0 });
  });

  it('gives each person one code per pool: a second claim gets the same code back', async () => {
    const pool = await newPool('Once each');
    await addCodes(pool.id, { generate: { count: 20 } });
    const [p1, p2, p3, p4] = people(4) as [string, string, string, string];
    const now = new Date('2026-05-01T10:00:00Z');
    const first = await claimCoupons(t.database.db, WS, pool.id, [p1, p2, p3, p1], 'campaign:c1', now);
    expect([...first.keys()]).toEqual([p1, p2, p3]);
    expect(new Set(first.values()).size).toBe(3);
    for (const code of first.values()) expect(code).toMatch(/^[A-Z2-9]{12}$/);
    const second = await claimCoupons(t.database.db, WS, pool.id, [p2, p4, p1.toUpperCase()], 'form:f1', new Date('2026-05-02T10:00:00Z'));
    expect(second.get(p2)).toBe(first.get(p2));
    expect(second.get(p1.toUpperCase())).toBe(first.get(p1));
    expect(second.get(p4)).toBeTruthy();
    expect([...first.values()]).not.toContain(second.get(p4));
    const rows = await codesOf(pool.id);
    const p2Row = rows.find((r) => r.profile_id === p2)!;
    expect(p2Row).toMatchObject({ issued_for: 'campaign:c1', code: first.get(p2) });
    expect(p2Row.issued_at?.toISOString()).toBe(now.toISOString());
    expect(rows.find((r) => r.profile_id === p4)?.issued_for).toBe('form:f1');
    expect((await call('GET', `/api/coupon-pools/${pool.id}`)).json()).toMatchObject({ total: 20, free: 16, issued: 4 });
    // The pool's answer never names holders or codes.
    const body = (await call('GET', `/api/coupon-pools/${pool.id}`)).body;
    expect(body).not.toContain(p1);
    expect(body).not.toContain(first.get(p1)!);
    // Ids that are not UUIDs name nobody: no code, no failure for the rest.
    const odd = await claimCoupons(t.database.db, WS, pool.id, ['not-a-uuid', p3], 'campaign:c1', now);
    expect(odd.get('not-a-uuid')).toBeNull();
    expect(odd.get(p3)).toBe(first.get(p3));
  });

  it('answers null for the people after the pool runs dry, in the order given', async () => {
    const pool = await newPool('Dry');
    await addCodes(pool.id, { codes: ['D1', 'D2', 'D3'] });
    const who = people(5);
    const claimed = await claimCoupons(t.database.db, WS, pool.id, who, 'campaign:dry', new Date());
    expect(who.map((p) => claimed.get(p))).toEqual(['D1', 'D2', 'D3', null, null]);
    expect([...(await claimCoupons(t.database.db, WS, pool.id, [randomUUID()], 'campaign:dry', new Date())).values()]).toEqual([null]);
    expect((await call('GET', `/api/coupon-pools/${pool.id}`)).json()).toMatchObject({ total: 3, free: 0, issued: 3 });
    expect((await claimCoupons(t.database.db, WS, pool.id, [], 'campaign:dry', new Date())).size).toBe(0);
  });

  it('claims for 1,000 people in a handful of statements', async () => {
    const pool = await newPool('Thousand');
    await addCodes(pool.id, { generate: { count: 1500 } });
    let statements = 0;
    const counter: KyselyPlugin = {
      transformQuery: (args) => ((statements += 1), args.node),
      transformResult: async (args) => args.result,
    };
    const db = t.database.db.withPlugin(counter);
    const who = people(1000);
    const claimed = await db.transaction().execute((trx) => claimCoupons(trx, WS, pool.id, who, 'campaign:k', new Date()));
    expect(new Set(claimed.values()).size).toBe(1000);
    expect(statements).toBeLessThanOrEqual(6);
    statements = 0;
    const again = await claimCoupons(db, WS, pool.id, who, 'campaign:k', new Date());
    expect(who.every((p) => again.get(p) === claimed.get(p))).toBe(true);
    expect(statements).toBeLessThanOrEqual(6);
  });

  it('gives codes back when the transaction that claimed them rolls back', async () => {
    const pool = await newPool('Rollback');
    await addCodes(pool.id, { codes: ['R1', 'R2'] });
    const who = people(2);
    await expect(
      t.database.db.transaction().execute(async (trx) => {
        expect((await claimCoupons(trx, WS, pool.id, who, 'campaign:r', new Date())).get(who[0]!)).toBe('R1');
        throw new Error('the send failed');
      }),
    ).rejects.toThrow('the send failed');
    expect((await call('GET', `/api/coupon-pools/${pool.id}`)).json()).toMatchObject({ free: 2, issued: 0 });
  });

  it.skipIf(backend.name !== 'postgres')('never gives one code twice when claims for different people run at once', async () => {
    const pool = await newPool('Concurrent disjoint');
    await addCodes(pool.id, { generate: { count: 3000 } });
    const groups = [people(700), people(700), people(700), people(700)];
    const results = await Promise.all(
      groups.map((who, i) =>
        i % 2 === 0
          ? t.database.db.transaction().execute(async (trx) => {
              const m = await claimCoupons(trx, WS, pool.id, who, `campaign:${i}`, new Date());
              // Held open so the other claims run while these codes are locked and not yet committed.
              await sleep(150);
              return m;
            })
          : claimCoupons(t.database.db, WS, pool.id, who, `campaign:${i}`, new Date()),
      ),
    );
    const codes = results.flatMap((m) => [...m.values()]);
    expect(codes.every((c) => c !== null)).toBe(true);
    expect(new Set(codes).size).toBe(2800);
    expect((await call('GET', `/api/coupon-pools/${pool.id}`)).json()).toMatchObject({ free: 200, issued: 2800 });
  });

  it.skipIf(backend.name !== 'postgres')('gives a person one code when claims naming them run at once', async () => {
    const pool = await newPool('Concurrent overlap');
    await addCodes(pool.id, { generate: { count: 2000 } });
    const everyone = people(900);
    // Each claim overlaps the next; the first and last overlap in reverse order, so waits can cross.
    const groups = [everyone.slice(0, 500), everyone.slice(250, 750), everyone.slice(500, 900), [...everyone.slice(0, 200), ...everyone.slice(700, 900)].reverse()];
    const results = await Promise.all(
      groups.map((who, i) =>
        t.database.db.transaction().execute(async (trx) => {
          const m = await claimCoupons(trx, WS, pool.id, who, `campaign:o${i}`, new Date());
          await sleep(100);
          return m;
        }),
      ),
    );
    const held = new Map<string, string>();
    for (const m of results) {
      for (const [person, code] of m) {
        expect(code).not.toBeNull();
        if (held.has(person)) expect(code, person).toBe(held.get(person));
        else held.set(person, code!);
      }
    }
    expect(held.size).toBe(900);
    expect(new Set(held.values()).size).toBe(900);
    const rows = (await codesOf(pool.id)).filter((r) => r.issued_at !== null);
    expect(rows).toHaveLength(900);
    expect(new Set(rows.map((r) => r.profile_id)).size).toBe(900);
    for (const r of rows) expect(held.get(r.profile_id!)).toBe(r.code);
  });
});
