import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/*
 * "A real client: @segment/analytics-node pointed at the server (host, path options)
 * sends identify + track; the profile shows up with its traits and events."
 * The SDK is unchanged: it speaks real HTTP to a listening app.
 */

interface TimelineEvent {
  messageId: string;
  type: string;
  event: string | null;
  userId: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown> | null;
  timestamp: string;
}

interface Profile {
  id: string;
  traits: Record<string, unknown>;
  identities: Array<{ type: string; value: string; source: string }>;
  records: Array<{ source: string; id: string }>;
}

interface SentRequest {
  url: string;
  authorization: string | undefined;
  batchSize: number;
}

interface Answer {
  status: number;
  body: string;
}

describe.each(backends)('@segment/analytics-node against the server on $name', (backend) => {
  let t: TestApp;
  let host: string;

  beforeAll(async () => {
    t = await startTestApp(backend);
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    host = `http://127.0.0.1:${new URL(address).port}`;
  });

  afterAll(async () => {
    await t?.close();
  });

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${host}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await response.text();
    expect(response.status, `GET ${path}: ${text}`).toBe(200);
    return JSON.parse(text) as T;
  }

  it('identify + track through the SDK: the profile has the traits and the events', async () => {
    const userId = `sdk-user-${backend.name}`;
    const anonymousId = `sdk-anon-${backend.name}`;
    const analytics = new Analytics({ writeKey: WRITE_KEY, host, path: '/v1/batch', flushAt: 2, flushInterval: 200, maxRetries: 2, httpRequestTimeout: 10_000 });
    const requests: SentRequest[] = [];
    const answers: Answer[] = [];
    const errors: unknown[] = [];
    analytics.on('http_request', (request) => {
      const body = JSON.parse(request.body) as { batch?: unknown[] };
      requests.push({ url: request.url, authorization: request.headers.Authorization ?? request.headers.authorization, batchSize: body.batch?.length ?? 0 });
    });
    analytics.on('http_response', (response) => answers.push({ status: response.status, body: response.body }));
    analytics.on('error', (error) => errors.push(error));

    // Each call's callback reports whether its batch was delivered.
    const delivered: Array<Promise<void>> = [];
    const call = (send: (callback: (err?: unknown) => void) => void) =>
      delivered.push(new Promise<void>((resolve, reject) => send((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()))));

    call((cb) =>
      analytics.identify(
        {
          userId,
          anonymousId,
          traits: { email: 'Ada.Lovelace@Example.com', name: 'Ada Lovelace', plan: 'enterprise', role: 'mathematician' },
          messageId: `sdk-identify-${backend.name}`,
          context: { ip: '203.0.113.7' },
        },
        cb,
      ),
    );
    call((cb) => analytics.track({ userId, event: 'Order Completed', properties: { orderId: 'o-1', revenue: 42.5, currency: 'EUR' }, messageId: `sdk-track-1-${backend.name}` }, cb));
    call((cb) => analytics.track({ userId, event: 'Product Viewed', properties: { sku: 'sku-9' }, messageId: `sdk-track-2-${backend.name}` }, cb));
    await analytics.closeAndFlush({ timeout: 15_000 });
    await Promise.all(delivered);

    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(request.url).toBe(`${host}/v1/batch`);
      expect(request.authorization).toBe('Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64'));
    }
    expect(requests.reduce((n, r) => n + r.batchSize, 0)).toBe(3);
    expect(answers.map((a) => a.status)).toEqual(requests.map(() => 200));

    expect(await t.drain()).toBe(3);

    const { profiles } = await api<{ profiles: Profile[] }>(`/api/profiles?userId=${encodeURIComponent(userId)}`);
    expect(profiles).toHaveLength(1);
    const profile = profiles[0]!;
    expect(profile.traits).toMatchObject({ name: 'Ada Lovelace', plan: 'enterprise', role: 'mathematician' });
    expect(String(profile.traits.email).toLowerCase()).toBe('ada.lovelace@example.com');
    expect(profile.records).toContainEqual({ source: 'default', id: userId });
    expect(profile.identities.map((i) => i.type)).toEqual(expect.arrayContaining(['userId', 'anonymousId']));

    // The same person is found by the SDK's anonymousId and by email.
    const byAnon = await api<{ profiles: Profile[] }>(`/api/profiles?anonymousId=${encodeURIComponent(anonymousId)}`);
    expect(byAnon.profiles.map((p) => p.id)).toEqual([profile.id]);
    const byEmail = await api<{ profiles: Profile[] }>(`/api/profiles?email=${encodeURIComponent('ada.lovelace@example.com')}`);
    expect(byEmail.profiles.map((p) => p.id)).toEqual([profile.id]);

    const page = await api<{ total: number; events: TimelineEvent[]; nextCursor: string | null }>(`/api/profiles/${profile.id}/events`);
    expect(page.total).toBe(3);
    expect(page.nextCursor).toBeNull();
    const byId = new Map(page.events.map((e) => [e.messageId, e]));
    expect(byId.get(`sdk-identify-${backend.name}`)).toMatchObject({ type: 'identify', userId, anonymousId });
    expect(byId.get(`sdk-track-1-${backend.name}`)).toMatchObject({ type: 'track', event: 'Order Completed', userId, properties: { orderId: 'o-1', revenue: 42.5, currency: 'EUR' } });
    expect(byId.get(`sdk-track-2-${backend.name}`)).toMatchObject({ type: 'track', event: 'Product Viewed', properties: { sku: 'sku-9' } });
    // The SDK's own context (library name and version) is kept with the event.
    const library = byId.get(`sdk-track-1-${backend.name}`)?.context?.library as { name?: string } | undefined;
    expect(library?.name).toBe('@segment/analytics-node');
  });

  it('a retried SDK send (same messageId) is stored once', async () => {
    const userId = `sdk-retry-${backend.name}`;
    for (let round = 0; round < 2; round++) {
      const analytics = new Analytics({ writeKey: WRITE_KEY, host, path: '/v1/batch', flushAt: 1, maxRetries: 0 });
      const statuses: number[] = [];
      analytics.on('http_response', (response) => statuses.push(response.status));
      analytics.track({ userId, event: 'Signed Up', messageId: `sdk-dup-${backend.name}` });
      await analytics.closeAndFlush({ timeout: 10_000 });
      expect(statuses).toEqual([200]);
    }
    await t.drain();
    const { profiles } = await api<{ profiles: Profile[] }>(`/api/profiles?userId=${encodeURIComponent(userId)}`);
    expect(profiles).toHaveLength(1);
    const page = await api<{ total: number; events: TimelineEvent[] }>(`/api/profiles/${profiles[0]!.id}/events`);
    expect(page.total).toBe(1);
    expect(page.events.map((e) => e.messageId)).toEqual([`sdk-dup-${backend.name}`]);
  });

  it('a wrong write key is refused, and the SDK reports it', async () => {
    const analytics = new Analytics({ writeKey: 'wk_not_a_key', host, path: '/v1/batch', flushAt: 1, maxRetries: 0 });
    const statuses: number[] = [];
    analytics.on('http_response', (response) => statuses.push(response.status));
    const outcome = new Promise<unknown>((resolve) => analytics.track({ userId: 'intruder', event: 'Nope' }, (err) => resolve(err)));
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(statuses).toEqual([401]);
    expect(await outcome).toBeTruthy();
    expect(await t.drain()).toBe(0);
    const { profiles } = await api<{ profiles: Profile[] }>(`/api/profiles?userId=intruder`);
    expect(profiles).toEqual([]);
  });
});
