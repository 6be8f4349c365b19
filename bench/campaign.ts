/**
 * bench/campaign: a 100,000-member campaign rendered and delivered to a local
 * webhook (issue 8 asks for at least 5,000 messages/s).
 *
 * Per backend: N profiles (name and e-mail sealed as identifiers, 95 % with
 * consent), a segment of all of them, a webhook destination pointing at a
 * receiver in another process (bench/webhook-sink.ts), a coupon pool, and a
 * campaign with a 10 % control group whose template uses a trait, the coupon
 * and a signed unsubscribe link. Timed: queueing the audience, then the sender
 * draining the outbox (consent, restriction and frequency checks, coupon
 * claims, rendering, HMAC-signed POSTs, outcomes recorded). The baseline,
 * in the same run, is the webhook adapter alone posting as many pre-rendered
 * messages to the same receiver: what the wire costs without the database.
 *
 *   npx tsx bench/campaign.ts [--members 100000] [--postgres postgres://root@127.0.0.1:5432/test]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { OutgoingMessage } from '../src/activate/adapter.js';
import { openDestination } from '../src/activate/destinations.js';
import { finishCampaigns, runDueCampaigns } from '../src/activate/scheduler.js';
import { createSender } from '../src/activate/sender.js';
import { createJunkIdFilter } from '../src/clean/junk-ids.js';
import { openKeyring } from '../src/privacy/data-keys.js';
import { localKeyProvider } from '../src/privacy/key-provider.js';
import { buildApp } from '../src/server/app.js';
import { bootstrap } from '../src/server/bootstrap.js';
import { createStorage, type Database, type StorageConfig } from '../src/storage/database.js';

const { values } = parseArgs({ options: { members: { type: 'string', default: '100000' }, postgres: { type: 'string' }, 'postgres-only': { type: 'boolean', default: false } } });
const MEMBERS = Number(values.members);
const ADMIN = 'ct_bench_campaign_admin';
const WS = 'default';
const CITY = 'Benchville';
const root = fileURLToPath(new URL('../', import.meta.url));

async function startSink(): Promise<{ url: string; count(): Promise<{ requests: number; distinct: number }>; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/webhook-sink.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
    child.once('exit', (code) => reject(new Error(`webhook sink exited (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hook`,
    count: async () => (await (await fetch(base)).json()) as { requests: number; distinct: number },
    stop: () => child.kill('SIGTERM'),
  };
}

interface Result {
  backend: string;
  members: number;
  /** messages per webhook request */
  batchSize: number;
  queued: number;
  sent: number;
  skipped: number;
  queueMs: number;
  sendMs: number;
  messagesPerSecond: number;
  baselineMessagesPerSecond: number;
  ratioToBaseline: number;
  /** idempotency keys the receiver saw during the send: must equal `sent` */
  receiverDistinct: number;
  receiverRequests: number;
  /** the same campaign again through a webhook taking 100 messages a request (coupons already held are given back) */
  batched?: Omit<Result, 'backend' | 'members' | 'baselineMessagesPerSecond' | 'ratioToBaseline' | 'batched'>;
}

async function fill(database: Database, keyring: Awaited<ReturnType<typeof openKeyring>>): Promise<void> {
  const now = new Date();
  for (let start = 0; start < MEMBERS; start += 5000) {
    const ids = Array.from({ length: Math.min(5000, MEMBERS - start) }, () => randomUUID());
    await database.db
      .insertInto('profiles')
      .values(
        ids.map((id, i) => ({
          workspace_id: WS,
          id,
          traits: JSON.stringify({ city: CITY, tier: ['gold', 'silver', 'bronze'][(start + i) % 3] }),
          secret_traits: keyring.encryptJson(WS, { name: `会员${start + i}`, email: `member${start + i}@example.cn` }),
          created_at: now,
          updated_at: now,
          last_seen_at: now,
          merged_into: null,
        })),
      )
      .execute();
    const consenting = ids.filter((_, i) => (start + i) % 20 !== 0);
    await database.db
      .insertInto('profile_consents')
      .values(consenting.map((id) => ({ workspace_id: WS, profile_id: id, purpose: 'personalization' as const, granted: true, legal_basis: 'consent' as const, source: 'bench', text_version: null, at: now, event_id: randomUUID(), updated_at: now })))
      .execute();
  }
}

async function runOn(backend: string, config: StorageConfig, sink: Awaited<ReturnType<typeof startSink>>): Promise<Result> {
  const database = await createStorage(config);
  try {
    await bootstrap(database, { adminToken: ADMIN, dataDir: null });
    const keyring = await openKeyring(database, localKeyProvider(Buffer.alloc(32, 9), 'bench key'), { activateAfterMs: 0 });
    const app = await buildApp({ database, keyring, junk: createJunkIdFilter([]), rateLimit: 0 });
    const api = async (method: 'POST' | 'GET', url: string, body?: unknown) => {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json() as Record<string, unknown> & { id: string };
    };
    process.stdout.write(`[${backend}] filling ${MEMBERS.toLocaleString('en')} profiles…\n`);
    let mark = performance.now();
    const step = (what: string) => {
      const at = performance.now();
      process.stdout.write(`[${backend}] ${what}: ${Math.round(at - mark)} ms\n`);
      mark = at;
    };
    await fill(database, keyring);
    step('profiles filled');
    const segment = await api('POST', '/api/segments', { name: 'bench members', rule: { trait: 'city', op: 'eq', value: CITY } });
    step('segment filled');
    const pool = await api('POST', '/api/coupon-pools', { name: 'bench coupons' });
    await api('POST', `/api/coupon-pools/${pool.id}/codes`, { generate: { count: MEMBERS, prefix: 'B-' } });
    step('coupon codes generated');
    const exportsDir = join(tmpdir(), 'custodian-bench-exports');

    /** One campaign to the whole segment through a webhook posting `batchSize` messages a request. */
    const sendCampaign = async (batchSize: number): Promise<Omit<Result, 'backend' | 'members' | 'baselineMessagesPerSecond' | 'ratioToBaseline'> & { destinationId: string }> => {
      const destination = await api('POST', '/api/destinations', { name: `bench sink ${batchSize}`, kind: 'webhook', config: { url: sink.url, concurrency: 64, batchSize } });
      const campaign = await api('POST', '/api/campaigns', {
        name: `bench campaign ${batchSize}`,
        channel: 'webhook',
        segmentId: segment.id,
        destinationId: destination.id,
        controlPercent: 10,
        couponPoolId: pool.id,
        template: { body: '{{traits.name | 朋友}}，您好！{{traits.tier}} 会员专享优惠码 {{coupon}}。退订：{{unsubscribe_url}}' },
        schedule: { kind: 'once' },
      });
      await api('POST', `/api/campaigns/${campaign.id}/launch`);
      const before = await sink.count();
      const t0 = performance.now();
      const queued = await runDueCampaigns(database.db);
      const t1 = performance.now();
      const sender = createSender({ database, keyring, activationDir: exportsDir, publicUrl: 'https://cdp.example.cn' });
      const outcome = await sender.drain();
      const t2 = performance.now();
      if (outcome.retried + outcome.failed > 0) {
        const errors = await database.db.selectFrom('campaign_sends').select(['last_error']).where('campaign_id', '=', campaign.id).where('last_error', 'is not', null).limit(3).execute();
        throw new Error(`${outcome.retried} retried and ${outcome.failed} failed: ${errors.map((e) => e.last_error).join(' | ')}`);
      }
      await sender.close();
      await finishCampaigns(database.db);
      const after = await sink.count();
      if (after.distinct - before.distinct !== outcome.sent) throw new Error(`the receiver saw ${after.distinct - before.distinct} distinct messages, the sender counted ${outcome.sent} sent`);
      return {
        batchSize,
        queued,
        sent: outcome.sent,
        skipped: Object.values(outcome.skipped).reduce((a, b) => a + (b ?? 0), 0),
        queueMs: Math.round(t1 - t0),
        sendMs: Math.round(t2 - t1),
        messagesPerSecond: Math.round(outcome.sent / ((t2 - t1) / 1000)),
        receiverDistinct: after.distinct - before.distinct,
        receiverRequests: after.requests - before.requests,
        destinationId: destination.id,
      };
    };

    const single = await sendCampaign(1);
    step('campaign sent, one message a request');
    // Baseline: the same destination's adapter posting as many pre-rendered messages, no database.
    const adapter = await openDestination(database.db, keyring, WS, single.destinationId, { activationDir: exportsDir });
    const sample = (i: number): OutgoingMessage => ({
      idempotencyKey: `baseline:${i}`,
      workspaceId: WS,
      campaignId: 'baseline',
      profileId: randomUUID(),
      channel: 'webhook',
      to: {},
      subject: null,
      body: `会员${i}，您好！gold 会员专享优惠码 B-XXXXXXXXXX。退订：https://cdp.example.cn/u/${'x'.repeat(180)}`,
      coupon: 'B-XXXXXXXXXX',
      attempt: 1,
    });
    const b0 = performance.now();
    for (let i = 0; i < single.sent; i += 250) await adapter.deliver(Array.from({ length: Math.min(250, single.sent - i) }, (_, k) => sample(i + k)));
    const b1 = performance.now();
    await adapter.close();
    const baseline = single.sent / ((b1 - b0) / 1000);
    const batched = await sendCampaign(100);
    step('campaign sent, 100 messages a request');
    const { destinationId: _single, ...singleResult } = single;
    const { destinationId: _batched, ...batchedResult } = batched;
    const result: Result = {
      backend,
      members: MEMBERS,
      ...singleResult,
      baselineMessagesPerSecond: Math.round(baseline),
      ratioToBaseline: Number((single.messagesPerSecond / baseline).toFixed(3)),
      batched: batchedResult,
    };
    await app.close();
    await keyring.close();
    return result;
  } finally {
    await database.close();
  }
}

async function freshPostgres(url: string): Promise<string> {
  const name = `custodian_bench_campaign_${Date.now()}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

const sink = await startSink();
const results: Result[] = [];
const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-campaign-'));
try {
  if (!values['postgres-only']) results.push(await runOn('pglite', { kind: 'pglite', dataDir: dir, command: 'bench' }, sink));
  if (values.postgres) results.push(await runOn('postgres', { kind: 'postgres', url: await freshPostgres(values.postgres) }, sink));
} finally {
  sink.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const r of results) {
  process.stdout.write(
    `[${r.backend}] ${r.sent.toLocaleString('en')} sent (${r.skipped.toLocaleString('en')} skipped, ${(r.queued - r.sent - r.skipped).toLocaleString('en')} control) of ${r.members.toLocaleString('en')}: ` +
      `queue ${r.queueMs} ms, send ${r.sendMs} ms = ${r.messagesPerSecond.toLocaleString('en')} messages/s one a request; adapter alone ${r.baselineMessagesPerSecond.toLocaleString('en')}/s (ratio ${r.ratioToBaseline}); ` +
      `100 a request: ${r.batched?.messagesPerSecond.toLocaleString('en')} messages/s (${r.batched?.receiverRequests.toLocaleString('en')} requests)\n`,
  );
}
const out = join(root, 'bench/results');
mkdirSync(out, { recursive: true });
const file = join(out, `campaign-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), results }, null, 2) + '\n');
process.stdout.write(`written to ${file}\n`);
