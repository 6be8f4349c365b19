import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage, type StorageConfig } from '../src/storage/database.js';
import { freshPostgresUrl } from './helpers/backends.js';
import { freePort, killAll, processAlive, sleep, startServe, stop, type ServeProcess } from './helpers/process.js';

/*
 * "kill -9 the server while a client sends 20,000 events with retries, restart:
 * every acknowledged messageId is present exactly once."
 *
 * A real `custodian serve` child, real HTTP, a client that retries a batch on
 * connection errors and 5xx until it is acknowledged. The server is SIGKILLed
 * mid-run (requests in flight, the worker possibly mid-transaction), restarted on
 * the same data directory and port, and the client finishes. Then the API and the
 * database itself must hold every acknowledged messageId once, all processed.
 */

const WRITE_KEY = 'wk_crash_recovery_write_key';
const ADMIN_TOKEN = 'ct_crash_recovery_admin_token';
const TOTAL = 20_000;
const BATCH_SIZE = 100;
const CONCURRENCY = 4;
const USERS = 100;
const KILL_AFTER_ACKED = 5_000;
/** the whole send, retries and restart included */
const CLIENT_BUDGET_MS = 100_000;

interface Message {
  type: 'identify' | 'track';
  messageId: string;
  userId: string;
  event?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  timestamp: string;
}

const userOf = (n: number) => `crash-user-${n % USERS}`;
const messageIdOf = (n: number) => `crash-msg-${n}`;

function buildBatches(): Message[][] {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const batches: Message[][] = [];
  for (let b = 0; b < TOTAL / BATCH_SIZE; b++) {
    const batch: Message[] = [];
    for (let i = 0; i < BATCH_SIZE; i++) {
      const n = b * BATCH_SIZE + i;
      const common = { messageId: messageIdOf(n), userId: userOf(n), timestamp: new Date(start + n * 1000).toISOString() };
      batch.push(n % 10 === 0 ? { type: 'identify', ...common, traits: { plan: 'pro', lastSeq: n } } : { type: 'track', ...common, event: 'Order Completed', properties: { seq: n, total: n % 97 } });
    }
    batches.push(batch);
  }
  return batches;
}

interface ClientStats {
  acked: Set<string>;
  ackedBatches: number;
  connectionErrors: number;
  serverErrors: number;
  /** messages the server reported as already in the log (retries of committed sends) */
  duplicates: number;
  /** requests sent and not yet answered */
  inFlight: number;
}

interface BatchAnswer {
  success: boolean;
  messageIds: string[];
  accepted: number;
  duplicates: number;
  rejected: unknown[];
}

/**
 * Send every batch, CONCURRENCY at a time; a batch is retried on a network error
 * or 5xx until it is acknowledged (2xx). A 4xx is a test failure: the messages are valid.
 */
async function sendAll(url: string, batches: Message[][], onAck: (stats: ClientStats) => void): Promise<ClientStats> {
  const stats: ClientStats = { acked: new Set(), ackedBatches: 0, connectionErrors: 0, serverErrors: 0, duplicates: 0, inFlight: 0 };
  const deadline = Date.now() + CLIENT_BUDGET_MS;
  const authorization = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
  let next = 0;

  async function sendOne(batch: Message[]): Promise<void> {
    const body = JSON.stringify({ batch, sentAt: new Date().toISOString() });
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > deadline) throw new Error(`batch ${batch[0]?.messageId} not acknowledged within ${CLIENT_BUDGET_MS} ms (${attempt} attempts)`);
      let response: Response;
      let text: string;
      stats.inFlight += 1;
      try {
        response = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(15_000) });
        text = await response.text();
      } catch {
        stats.connectionErrors += 1;
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)));
        continue;
      } finally {
        stats.inFlight -= 1;
      }
      if (response.status >= 500) {
        stats.serverErrors += 1;
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)));
        continue;
      }
      if (response.status < 200 || response.status >= 300) throw new Error(`batch ${batch[0]?.messageId} refused: ${response.status} ${text}`);
      const answer = JSON.parse(text) as BatchAnswer;
      // An acknowledgement must cover the whole batch: nothing rejected, every id echoed.
      expect(answer.accepted).toBe(batch.length);
      expect(answer.rejected).toEqual([]);
      expect(answer.messageIds).toEqual(batch.map((m) => m.messageId));
      stats.duplicates += answer.duplicates;
      for (const m of batch) stats.acked.add(m.messageId);
      stats.ackedBatches += 1;
      onAck(stats);
      return;
    }
  }

  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let b = next++; b < batches.length; b = next++) await sendOne(batches[b]!);
    }),
  );
  return stats;
}

async function pendingInLog(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const match = /^custodian_event_log_pending (\d+)/m.exec(text);
  if (!response.ok || !match) throw new Error(`no pending gauge in /metrics (${response.status})`);
  return Number(match[1]);
}

async function waitUntilProcessed(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = -1;
  while (Date.now() < deadline) {
    pending = await pendingInLog(url);
    if (pending === 0) return;
    await sleep(250);
  }
  throw new Error(`the worker left ${pending} messages pending after ${timeoutMs} ms`);
}

async function api<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every event messageId of every user's profile, read through the management API. */
async function eventIdsThroughApi(url: string): Promise<{ ids: string[]; totals: Map<string, number> }> {
  const ids: string[] = [];
  const totals = new Map<string, number>();
  for (let u = 0; u < USERS; u++) {
    const userId = userOf(u);
    const { profiles } = await api<{ profiles: Array<{ id: string; traits: Record<string, unknown> }> }>(url, `/api/profiles?userId=${encodeURIComponent(userId)}`);
    expect(profiles, `profile of ${userId}`).toHaveLength(1);
    const profileId = profiles[0]!.id;
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const query: string = `/api/profiles/${profileId}/events?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const result = await api<{ total: number; events: Array<{ messageId: string }>; nextCursor: string | null }>(url, query);
      totals.set(userId, result.total);
      ids.push(...result.events.map((e) => e.messageId));
      cursor = result.nextCursor;
      if (cursor === null) break;
    }
  }
  return { ids, totals };
}

interface BackendCase {
  name: 'pglite' | 'postgres';
}

const cases: BackendCase[] = process.env.TEST_DATABASE_URL ? [{ name: 'pglite' }, { name: 'postgres' }] : [{ name: 'pglite' }];

describe.each(cases)('crash recovery on $name', ({ name }) => {
  const dataDir = mkdtempSync(join(tmpdir(), `custodian-crash-${name}-`));
  const cleanups: Array<() => Promise<void>> = [];

  afterAll(async () => {
    await killAll();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('kill -9 mid-run and restart: every acknowledged messageId is stored and processed exactly once', { timeout: 180_000 }, async () => {
    const started = Date.now();
    let storage: StorageConfig = { kind: 'pglite', dataDir, command: 'crash-test-verify' };
    const env: Record<string, string> = { CUSTODIAN_WRITE_KEY: WRITE_KEY, CUSTODIAN_ADMIN_TOKEN: ADMIN_TOKEN };
    if (name === 'postgres') {
      const fresh = await freshPostgresUrl(process.env.TEST_DATABASE_URL!);
      cleanups.push(() => fresh.drop());
      env.DATABASE_URL = fresh.url;
      storage = { kind: 'postgres', url: fresh.url, poolSize: 2 };
    }
    const port = await freePort();
    const args = ['--data', dataDir];

    let server: ServeProcess = await startServe({ port, args, env });
    const firstPid = server.pid;
    const killed = server;
    let killedAt = -1;
    let inFlightAtKill = 0;

    const batches = buildBatches();
    const client = sendAll(server.url, batches, (stats) => {
      if (killedAt < 0 && stats.acked.size >= KILL_AFTER_ACKED) {
        killedAt = stats.acked.size;
        inFlightAtKill = stats.inFlight;
        killed.child.kill('SIGKILL');
      }
    });
    // Fail fast (instead of hanging on the restart) if the client dies first.
    const clientFailed = client.then(
      () => null,
      (error: unknown) => error,
    );

    const killedExit = await Promise.race([killed.exited, clientFailed.then((error) => Promise.reject(error ?? new Error('the client finished before the server was killed')))]);
    expect(killedExit.signal).toBe('SIGKILL');
    expect(processAlive(firstPid)).toBe(false);
    if (name === 'pglite') {
      // The dead server's lock is left behind: the restart has to take it over.
      const stale = JSON.parse(readFileSync(join(dataDir, 'custodian.lock'), 'utf8')) as { pid: number };
      expect(stale.pid).toBe(firstPid);
    }

    server = await startServe({ port, args, env, timeoutMs: 60_000 });
    if (name === 'pglite') {
      const lock = JSON.parse(readFileSync(join(dataDir, 'custodian.lock'), 'utf8')) as { pid: number };
      expect(lock.pid).toBe(server.pid);
    }

    const stats = await client;
    const sendMs = Date.now() - started;

    // The kill really happened mid-run: past the kill point, before the end, and it cost retries.
    expect(killedAt).toBeGreaterThanOrEqual(KILL_AFTER_ACKED);
    expect(killedAt).toBeLessThan(TOTAL);
    expect(stats.connectionErrors + stats.serverErrors).toBeGreaterThan(0);
    expect(stats.ackedBatches).toBe(TOTAL / BATCH_SIZE);
    expect(stats.acked.size).toBe(TOTAL);

    // Through the API: the worker drains the log, and each user's timeline holds its events once.
    await waitUntilProcessed(server.url, 60_000);
    const { ids, totals } = await eventIdsThroughApi(server.url);
    for (let u = 0; u < USERS; u++) expect(totals.get(userOf(u)), userOf(u)).toBe(TOTAL / USERS);
    expect(ids).toHaveLength(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
    const apiIds = new Set(ids);
    expect([...stats.acked].filter((id) => !apiIds.has(id))).toEqual([]);

    // A clean stop, then the database itself.
    const stopped = await stop(server, 'SIGTERM');
    expect(stopped.code).toBe(0);
    if (name === 'pglite') expect(existsSync(join(dataDir, 'custodian.lock'))).toBe(false);

    const database = await createStorage(storage);
    try {
      const { db } = database;
      const log = await db
        .selectFrom('event_log')
        .select([
          sql<string>`count(*)`.as('rows'),
          sql<string>`count(distinct message_id)`.as('distinct_ids'),
          sql<string>`count(*) filter (where processed_at is null)`.as('pending'),
          sql<string>`count(*) filter (where error is not null)`.as('dead_lettered'),
        ])
        .executeTakeFirstOrThrow();
      expect(Number(log.rows)).toBe(TOTAL);
      expect(Number(log.distinct_ids)).toBe(TOTAL);
      expect(Number(log.pending)).toBe(0);
      expect(Number(log.dead_lettered)).toBe(0);

      const events = await db
        .selectFrom('events')
        .select([sql<string>`count(*)`.as('rows'), sql<string>`count(distinct message_id)`.as('distinct_ids'), sql<string>`count(*) filter (where profile_id is null)`.as('orphans')])
        .executeTakeFirstOrThrow();
      expect(Number(events.rows)).toBe(TOTAL);
      expect(Number(events.distinct_ids)).toBe(TOTAL);
      expect(Number(events.orphans)).toBe(0);

      const logIds = new Set((await db.selectFrom('event_log').select('message_id').execute()).map((r) => r.message_id));
      const eventIds = new Set((await db.selectFrom('events').select('message_id').execute()).map((r) => r.message_id));
      const missingFromLog = [...stats.acked].filter((id) => !logIds.has(id));
      const missingFromEvents = [...stats.acked].filter((id) => !eventIds.has(id));
      expect(missingFromLog).toEqual([]);
      expect(missingFromEvents).toEqual([]);

      // Re-processing after the crash must not have made a second profile for anyone.
      const profiles = await db.selectFrom('profiles').select(sql<string>`count(*)`.as('n')).where('merged_into', 'is', null).executeTakeFirstOrThrow();
      expect(Number(profiles.n)).toBe(USERS);
      const userIdentities = await db.selectFrom('identities').select(sql<string>`count(*)`.as('n')).where('type', '=', 'userId').executeTakeFirstOrThrow();
      expect(Number(userIdentities.n)).toBe(USERS);
    } finally {
      await database.close();
    }

    const totalMs = Date.now() - started;
    process.stdout.write(
      `[crash-recovery ${name}] killed after ${killedAt} acked (${inFlightAtKill} batches in flight); ` +
        `${stats.connectionErrors} connection errors, ${stats.serverErrors} 5xx, ${stats.duplicates} duplicates re-acknowledged; ` +
        `send ${(sendMs / 1000).toFixed(1)} s, total ${(totalMs / 1000).toFixed(1)} s\n`,
    );
  });
});
