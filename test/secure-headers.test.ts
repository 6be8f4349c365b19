import type { OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPreferences, signUnsubscribe } from '../src/privacy/consent.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/** The directives of a Content-Security-Policy header, by name. */
function csp(headers: OutgoingHttpHeaders): Map<string, string[]> {
  const value = headers['content-security-policy'];
  expect(typeof value, 'content-security-policy header').toBe('string');
  return new Map(
    String(value)
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name = '', ...sources] = d.split(/\s+/);
        return [name, sources] as const;
      }),
  );
}

/** What helmet puts on every response, whatever the route. */
function expectSecureHeaders(headers: OutgoingHttpHeaders, what: string) {
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  expect(headers['x-frame-options'], what).toMatch(/^(SAMEORIGIN|DENY)$/);
  expect(headers['referrer-policy'], what).toBe('no-referrer');
  expect(headers['cross-origin-opener-policy'], what).toBe('same-origin');
  expect(headers['cross-origin-resource-policy'], what).toBe('same-origin');
  expect(headers['x-permitted-cross-domain-policies'], what).toBe('none');
  expect(headers['x-dns-prefetch-control'], what).toBe('off');
  // Plain HTTP here: no HSTS, and no upgrade of /docs' own assets to an https:// nobody answers.
  expect(headers['strict-transport-security'], what).toBeUndefined();
  expect(csp(headers).has('upgrade-insecure-requests'), what).toBe(false);
}

/** The app's own policy (the consent pages replace it with theirs). */
function expectAppPolicy(headers: OutgoingHttpHeaders, what: string) {
  const policy = csp(headers);
  expect(policy.get('default-src'), what).toEqual(["'self'"]);
  expect(policy.get('script-src'), what).toEqual(["'self'"]);
  expect(policy.get('script-src-attr'), what).toEqual(["'none'"]);
  expect(policy.get('object-src'), what).toEqual(["'none'"]);
  expect(policy.get('base-uri'), what).toEqual(["'self'"]);
  expect(policy.get('form-action'), what).toEqual(["'self'"]);
  // No page of ours may be framed by another site.
  expect(policy.get('frame-ancestors'), what).toEqual(["'self'"]);
  // Nothing is loaded from other sites, not even styles or fonts.
  for (const directive of policy.values()) expect(directive, what).not.toContain('https:');
}

describe('secure headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backends[0]!);
  });
  afterAll(async () => t?.close());

  it('are on /health, /metrics, the collection API, the management API (answered or refused) and a 404', async () => {
    const answers = {
      '/health': await t.app.inject({ method: 'GET', url: '/health' }),
      '/metrics': await t.app.inject({ method: 'GET', url: '/metrics' }),
      'POST /v1/identify': await t.send('/v1/identify', { userId: 'headers-1', traits: { city: 'Berlin' } }),
      'POST /v1/batch refused': await t.send('/v1/batch', { batch: 'no' }),
      '/api/catalog/events': await t.get('/api/catalog/events'),
      '/api/catalog/events without a token': await t.app.inject({ method: 'GET', url: '/api/catalog/events' }),
      '404': await t.app.inject({ method: 'GET', url: '/no/such/route' }),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([what, r]) => [what, r.statusCode]))).toEqual({
      '/health': 200,
      '/metrics': 200,
      'POST /v1/identify': 200,
      'POST /v1/batch refused': 400,
      '/api/catalog/events': 200,
      '/api/catalog/events without a token': 401,
      '404': 404,
    });
    for (const [what, response] of Object.entries(answers)) {
      expectSecureHeaders(response.headers, what);
      expectAppPolicy(response.headers, what);
    }
  });

  it('let Swagger UI at /docs load: no inline script, every script and style it names is served from here', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expectSecureHeaders(page.headers, '/docs');
    expectAppPolicy(page.headers, '/docs');
    const policy = csp(page.headers);
    // React sets style attributes; Swagger UI's icons are data: URLs.
    expect(policy.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(policy.get('img-src')).toEqual(["'self'", 'data:']);

    const html = page.body;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = '', body = ''] of scripts) {
      // script-src 'self' forbids inline code: every script must come from a file.
      expect(attributes).toMatch(/\bsrc="/);
      expect(body.trim()).toBe('');
    }
    const assets = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      // Relative to /docs: same origin, which 'self' allows.
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const url = new URL(asset, 'http://localhost/docs').pathname;
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expectSecureHeaders(response.headers, url);
    }
    // The UI fetches the document from the same origin (connect-src falls back to default-src 'self').
    const initializer = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain("resolveUrl('./json')");
    const document = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(document.statusCode).toBe(200);
    expectSecureHeaders(document.headers, '/docs/json');
  });

  it('leave the consent pages their own stricter policy, and the pages and their forms work', async () => {
    expect((await t.send('/v1/identify', { userId: 'headers-page', traits: { email: 'page@example.com' } })).statusCode).toBe(200);
    await t.drain();
    const found = (await t.get('/api/profiles?userId=headers-page')).json() as { profiles: Array<{ id: string }> };
    const profileId = found.profiles[0]!.id;
    const preferences = signPreferences(t.keyring, { workspaceId: 'default', profileId });
    const unsubscribe = signUnsubscribe(t.keyring, { workspaceId: 'default', profileId, purpose: 'email_marketing' });

    const pages = {
      'GET /preferences': await t.app.inject({ method: 'GET', url: `/preferences/${preferences}` }),
      'POST /preferences': await t.app.inject({ method: 'POST', url: `/preferences/${preferences}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'shown=1&purpose=analytics' }),
      'GET /u': await t.app.inject({ method: 'GET', url: `/u/${unsubscribe}` }),
      'POST /u': await t.app.inject({ method: 'POST', url: `/u/${unsubscribe}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' }),
      'GET /preferences with a broken link': await t.app.inject({ method: 'GET', url: '/preferences/not-a-token' }),
    };
    expect(Object.fromEntries(Object.entries(pages).map(([what, r]) => [what, r.statusCode]))).toEqual({
      'GET /preferences': 200,
      'POST /preferences': 200,
      'GET /u': 200,
      'POST /u': 200,
      'GET /preferences with a broken link': 400,
    });
    for (const [what, page] of Object.entries(pages)) {
      expectSecureHeaders(page.headers, what);
      const policy = csp(page.headers);
      // The page's own policy, not the app's: nothing but its inline <style>, forms back to here, no framing.
      expect(policy.get('default-src'), what).toEqual(["'none'"]);
      expect(policy.get('style-src'), what).toEqual(["'unsafe-inline'"]);
      expect(policy.get('form-action'), what).toEqual(["'self'"]);
      expect(policy.get('frame-ancestors'), what).toEqual(["'none'"]);
      expect(page.headers['x-frame-options'], what).toBe('DENY');
      expect(page.headers['cache-control'], what).toBe('no-store');
      expect(page.body, what).not.toMatch(/<script/i);
    }
    // Forms post to a relative address on this server: form-action 'self' lets them.
    expect(pages['GET /preferences'].body).toMatch(/<form method="post" action="\/preferences\//);
    expect(pages['GET /u'].body).toMatch(/<form method="post" action="\/u\//);
    const consents = (await t.get(`/api/profiles/${profileId}/consents`)).json() as { current: Record<string, { granted: boolean }> };
    expect(consents.current.analytics?.granted).toBe(true);
    expect(consents.current.email_marketing?.granted).toBe(false);
  });
});
