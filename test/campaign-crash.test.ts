import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { armOf } from '../src/activate/holdout.js';
import { PARALLEL_ROUNDS, RECORD_EVERY } from '../src/activate/sender.js';
import { freshPostgresUrl } from './helpers/backends.js';
import { freePort, killAll, sleep, startServe, waitFor, type ServeProcess } from './helpers/process.js';

/*
 * "Crash the sender mid-campaign and restart: no profile gets the message
 * twice, none is skipped." A real `custodian serve` sends a campaign to a
 * slow local webhook receiver; it is SIGKILLed while messages are going out,
 * restarted on the same data, and left to finish. The receiver keeps
 * idempotency keys, as docs/destinations.md asks of receivers: every
 * consented treatment member must be accepted exactly once, and a message
 * sent again after the crash must carry the key it had the first time.
 */

const WRITE_KEY = 'wk_campaign_crash_write_key';
const ADMIN_TOKEN = 'ct_campaign_crash_admin_token';
const PEOPLE = 1500;
const CONTROL = 10;
const KILL_AFTER = 300;

interface Receiver {
  server: Server;
  url: string;
  /** idempotency key → times it arrived */
  arrivals: Map<string, number>;
  /** accepted messages' profile ids, once per key */
  accepted: string[];
}

function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const accepted: string[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      // Slow enough that the kill lands while the campaign is going out.
      setTimeout(() => {
        const body = JSON.parse(raw) as { idempotencyKey: string; profileId: string };
        const seen = arrivals.get(body.idempotencyKey) ?? 0;
        arrivals.set(body.idempotencyKey, seen + 1);
        if (seen === 0) accepted.push(body.profileId);
        res.end('ok');
      }, 5);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, arrivals, accepted })));
}

const cases = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

describe.each(cases)('campaign sender crash on %s', (name) => {
  const dataDir = mkdtempSync(join(tmpdir(), `custodian-campaign-crash-${name}-`));
  const cleanups: Array<() => Promise<void>> = [];

  afterAll(async () => {
    await killAll();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('kill -9 mid-campaign and restart: each consented member accepted once, none skipped', { timeout: 240_000 }, async () => {
    const receiver = await startReceiver();
    cleanups.push(async () => void receiver.server.close());
    // A short lease, so the restarted sender takes over the dead one's messages within seconds.
    const env: Record<string, string> = { CUSTODIAN_WRITE_KEY: WRITE_KEY, CUSTODIAN_ADMIN_TOKEN: ADMIN_TOKEN, CUSTODIAN_SEND_LEASE_SECONDS: '3' };
    if (name === 'postgres') {
      const fresh = await freshPostgresUrl(process.env.TEST_DATABASE_URL!);
      cleanups.push(() => fresh.drop());
      env.DATABASE_URL = fresh.url;
    }
    const port = await freePort();
    const args = ['--data', dataDir];
    let server: ServeProcess = await startServe({ port, args, env });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };

    // People: all in the segment, one in ten without consent.
    const basic = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
    for (let start = 0; start < PEOPLE; start += 500) {
      const batch = Array.from({ length: 500 }, (_, k) => {
        const i = start + k;
        return { type: 'identify', userId: `crash-${i}`, traits: { name: `Crash ${i}`, plan: 'crash-test' }, context: { consent: { categoryPreferences: { personalization: i % 10 !== 0 } } } };
      });
      const res = await fetch(`${server.url}/v1/batch`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
      expect(res.status).toBe(200);
    }
    const segment = await waitFor('every profile in the segment', async () => {
      const s = (await call('POST', '/api/segments/preview', { rule: { trait: 'plan', op: 'eq', value: 'crash-test' } })) as { count: number };
      return s.count === PEOPLE ? s : false;
    }, 60_000, 250);
    expect(segment.count).toBe(PEOPLE);
    const { id: segmentId } = (await call('POST', '/api/segments', { name: 'crash people', rule: { trait: 'plan', op: 'eq', value: 'crash-test' } })) as { id: string };
    const { id: destinationId } = (await call('POST', '/api/destinations', { name: 'slow receiver', kind: 'webhook', config: { url: receiver.url, concurrency: 8 } })) as { id: string };
    const { id: campaignId } = (await call('POST', '/api/campaigns', {
      name: 'crash campaign',
      channel: 'webhook',
      segmentId,
      destinationId,
      controlPercent: CONTROL,
      template: { body: 'Hello {{traits.name}}' },
      schedule: { kind: 'once' },
    })) as { id: string };
    await call('POST', `/api/campaigns/${campaignId}/launch`);

    await waitFor('the first messages to arrive', () => receiver.accepted.length >= KILL_AFTER, 60_000, 10);
    const killed = server;
    killed.child.kill('SIGKILL');
    const exit = await killed.exited;
    expect(exit.signal).toBe('SIGKILL');
    const atKill = receiver.accepted.length;

    server = await startServe({ port, args, env, timeoutMs: 60_000 });
    // Who must get it: consented, in the treatment arm.
    const expected = new Set<string>();
    const exported = await fetch(`${server.url}/api/profiles/export`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    for (const line of (await exported.text()).split('\n').filter(Boolean)) {
      const profile = JSON.parse(line) as { id: string; identities: Array<{ type: string; value: string }> };
      const user = profile.identities.find((i) => i.type === 'userId')?.value ?? '';
      const i = Number(user.replace('crash-', ''));
      if (i % 10 !== 0 && armOf(campaignId, profile.id, CONTROL) === 'treatment') expected.add(profile.id);
    }
    expect(expected.size).toBeGreaterThan(1000);
    expect(atKill).toBeLessThan(expected.size);
    await waitFor('every expected member to be accepted', () => receiver.accepted.length >= expected.size, 120_000, 100);
    // Anything still to come would be a message too many.
    await sleep(5_000);
    const campaign = (await call('GET', `/api/campaigns/${campaignId}`)) as { sends: Record<string, number> };

    expect(receiver.accepted).toHaveLength(expected.size);
    expect(new Set(receiver.accepted)).toEqual(expected);
    expect(campaign.sends.sent).toBe(expected.size);
    expect(campaign.sends.pending ?? 0).toBe(0);
    expect(campaign.sends.sending ?? 0).toBe(0);
    expect(campaign.sends.failed ?? 0).toBe(0);
    // Sent again after the crash: only what was in flight (a slice per round), and always under its first key.
    const repeated = [...receiver.arrivals.values()].filter((n) => n > 1).length;
    expect(repeated).toBeLessThanOrEqual(PARALLEL_ROUNDS * RECORD_EVERY);
    expect([...receiver.arrivals.values()].every((n) => n <= 2)).toBe(true);
    console.log(`[${name}] ${expected.size} members, ${atKill} accepted before the kill, ${repeated} sent twice on the wire (same key, dropped by the receiver)`);
  });
});
