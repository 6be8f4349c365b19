/**
 * bench/access: what access control costs on the read paths, on the embedded
 * database, in one process (Fastify inject, no sockets).
 *
 * For GET /api/profiles/{id} and GET /api/profiles/{id}/events (the support
 * desk's and the dashboard's most frequent reads) it times, in rotating order
 * after a warm-up, the same request as:
 *   - admin: the baseline (sees everything; masking takes its fast path),
 *   - analyst: identifiers masked,
 *   - auditor-like custom role: identifiers and quasi-identifiers masked,
 *   - a scoped custom role: masked as the analyst, plus the scope check.
 * Every request also writes its profile.read audit entry, as in production.
 * Medians and their ratio to the admin baseline are printed and written to
 * bench/results/access-<date>.json. The argon2id verify time of a sign-in is
 * timed too.
 *
 *   npx tsx bench/access.ts [--profiles 200] [--requests 400] [--warmup 50]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { checkPassword, createUser, secretHash } from '../src/privacy/accounts.js';
import { openKeyring } from '../src/privacy/data-keys.js';
import { localKeyProvider } from '../src/privacy/key-provider.js';
import { putRole } from '../src/privacy/roles-store.js';
import { buildApp } from '../src/server/app.js';
import { bootstrap } from '../src/server/bootstrap.js';
import { createStorage } from '../src/storage/database.js';
import { processBatch } from '../src/worker/pipeline.js';

const { values } = parseArgs({ options: { profiles: { type: 'string', default: '200' }, requests: { type: 'string', default: '400' }, warmup: { type: 'string', default: '50' } } });
const PROFILES = Number(values.profiles);
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);
const WRITE_KEY = 'wk_bench_access';
const ADMIN = 'ct_bench_admin';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const dataDir = mkdtempSync(join(tmpdir(), 'custodian-bench-access-'));
const database = await createStorage({ kind: 'pglite', dataDir, command: 'bench' });
try {
  await bootstrap(database, { writeKey: WRITE_KEY, adminToken: ADMIN, dataDir: null });
  const keyring = await openKeyring(database, localKeyProvider(Buffer.alloc(32, 7), 'bench key'), { activateAfterMs: 0 });
  const junk = createJunkIdFilter([]);
  const app = await buildApp({ database, keyring, junk, rateLimit: 0 });
  const regions = ['华东', '华北', '华南'];
  const batch = [];
  for (let i = 0; i < PROFILES; i += 1) {
    batch.push({ type: 'identify', userId: `u${i}`, traits: { email: `user${i}@example.cn`, phone: `1380013${String(i).padStart(4, '0')}`, name: `张${i}`, city: '上海', region: regions[i % 3], address: { street: `世纪大道${i}号`, city: '上海' }, plan: 'gold' } });
    for (let e = 0; e < 5; e += 1) batch.push({ type: 'track', userId: `u${i}`, event: 'Order Completed', properties: { order_id: `o${i}-${e}`, total: 10 + e, contact_phone: `1390013${String(i).padStart(4, '0')}` } });
  }
  const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
  for (let i = 0; i < batch.length; i += 500) {
    const answer = await app.inject({ method: 'POST', url: '/v1/batch', headers: { authorization: basic, 'content-type': 'application/json' }, payload: JSON.stringify({ batch: batch.slice(i, i + 500) }) });
    if (answer.statusCode !== 200) throw new Error(`ingest failed: ${answer.body}`);
  }
  while ((await processBatch({ database, keyring, junk })).processed > 0);

  await putRole(database.db, 'default', { name: 'blind', permissions: ['profiles.read'], unmasked: [] });
  await putRole(database.db, 'default', { name: 'east', permissions: ['profiles.read'], unmasked: ['quasi'], scope: { trait: 'region', op: 'in', value: regions } });
  const tokens: Record<string, string> = { admin: ADMIN };
  for (const role of ['analyst', 'blind', 'east']) {
    tokens[role] = `ct_bench_${role}`;
    await database.db.insertInto('api_tokens').values({ workspace_id: 'default', id: role, name: role, token_hash: secretHash(tokens[role]!), role }).execute();
  }
  const ids = (await database.db.selectFrom('profiles').select('id').where('merged_into', 'is', null).execute()).map((r) => r.id);

  const results: Record<string, Record<string, { medianMs: number; ratio: number }>> = {};
  for (const path of ['/api/profiles/{id}', '/api/profiles/{id}/events']) {
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(tokens).map((r) => [r, []]));
    const order = Object.keys(tokens);
    for (let i = 0; i < WARMUP + REQUESTS; i += 1) {
      const id = ids[i % ids.length]!;
      for (let k = 0; k < order.length; k += 1) {
        const role = order[(i + k) % order.length]!;
        const started = performance.now();
        const answer = await app.inject({ method: 'GET', url: path.replace('{id}', id), headers: { authorization: `Bearer ${tokens[role]}` } });
        const ms = performance.now() - started;
        if (answer.statusCode !== 200) throw new Error(`${role} ${path}: ${answer.statusCode} ${answer.body}`);
        if (role !== 'admin' && /user\d+@/.test(answer.body)) throw new Error(`${role} saw an unmasked e-mail on ${path}`);
        if (i >= WARMUP) times[role]!.push(ms);
      }
    }
    const base = median(times.admin!);
    results[path] = Object.fromEntries(Object.entries(times).map(([role, xs]) => [role, { medianMs: Number(median(xs).toFixed(3)), ratio: Number((median(xs) / base).toFixed(3)) }]));
    console.log(`${path}  (load ${loadavg()[0]!.toFixed(2)})`);
    for (const [role, r] of Object.entries(results[path]!)) console.log(`  ${role.padEnd(8)} median ${r.medianMs.toFixed(2)} ms  ×${r.ratio.toFixed(2)} of admin`);
  }

  await createUser(database.db, 'default', { email: 'bench@example.com', role: 'analyst', password: 'a long enough password' });
  const verify: number[] = [];
  for (let i = 0; i < 15; i += 1) {
    const started = performance.now();
    await checkPassword(database.db, 'default', 'bench@example.com', i % 2 === 0 ? 'a long enough password' : 'a wrong password here');
    verify.push(performance.now() - started);
  }
  console.log(`sign-in password check (argon2id 19 MiB, t=2, plus its two statements): median ${median(verify).toFixed(1)} ms`);

  const out = { date: new Date().toISOString(), profiles: PROFILES, requests: REQUESTS, load: loadavg(), reads: results, signInCheckMedianMs: Number(median(verify).toFixed(2)) };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `access-${out.date.slice(0, 10)}.json`), JSON.stringify(out, null, 2) + '\n');
  await app.close();
  await keyring.close();
} finally {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
}
