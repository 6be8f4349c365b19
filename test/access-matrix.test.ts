import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES, can, type MaskableClass, type Permission, type Role } from '../src/privacy/access.js';
import { maskValue } from '../src/privacy/mask.js';
import { ADMIN_TOKEN, startTestApp, WRITE_KEY, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

/**
 * Who sees what: every role × every route that reads people. A role without a
 * route's permission gets 403; with it, identifier and quasi fields are masked
 * unless the role is granted their class, and behavioral fields never are.
 */

// Two custom roles cover what the built-in ones cannot: quasi fields masked on
// routes that show people (the auditor sees no people at all), and a DSAR
// handler who sees nothing else in the clear.
const CUSTOM_ROLES: Role[] = [
  {
    name: 'viewer',
    description: 'reads people, sees no personal field in the clear',
    builtIn: false,
    permissions: ['profiles.read', 'profiles.list', 'profiles.export', 'segments.read', 'analytics.read'],
    unmasked: [],
    scope: null,
  },
  { name: 'steward', description: 'answers data-subject requests', builtIn: false, permissions: ['dsar.manage'], unmasked: [], scope: null },
];
const ROLES: Role[] = [...BUILT_IN_ROLES, ...CUSTOM_ROLES];

// The person, as the API shows them in the clear once cleaning has standardized them.
const CLEAR = { email: 'zhang@qq.com', phone: '+8613812348000', name: '张三', city: '上海市', street: '世纪大道100号', userId: 'zhang-001', ip: '203.0.113.7' };
// Strings that must not appear anywhere in an answer to a role that does not see their class.
const SECRET: Record<MaskableClass, string[]> = {
  identifier: ['zhang@qq.com', 'Zhang@QQ.com', '13812348000', '1381234', '张三', '世纪大道', 'zhang-001', 'anon-zhang', '203.0.113.7', 'li@example.com', 'li.si@example.com', '李四'],
  quasi: ['上海', '1990-02-30', '200120'],
};
const COMPLAINT = '太差了，要退款！请回电 138 1234 8000 或邮件 zhang@qq.com';

type Sees = Record<MaskableClass, boolean>;
const shown = (sees: boolean, clear: unknown) => (sees ? clear : maskValue(clear));

interface Ids {
  zhang: string;
  li: string;
  segment: string;
  dsar: string;
}

interface ReadRoute {
  /** as the OpenAPI document names it: `GET /api/profiles/{id}` */
  route: string;
  /** a second entry for the same route says how this one differs (csv) */
  variant?: string;
  permission: Permission;
  request(ids: Ids): { method: 'GET' | 'POST'; url: string; payload?: unknown };
  /**
   * values: the answer carries personal values, masked by role.
   * ids: it names people by profile id only, whoever asks.
   * clear: it is never masked (the DSAR archive is the person's own copy).
   */
  carries: 'values' | 'ids' | 'clear';
  check?(body: string, sees: Sees, ids: Ids): void;
}

function checkProfile(p: { traits: Record<string, unknown>; identities: Array<{ type: string; value: string }>; records: Array<{ source: string; id: string }> }, sees: Sees): void {
  expect(p.traits.email).toBe(shown(sees.identifier, CLEAR.email));
  expect(p.traits.phone).toBe(shown(sees.identifier, CLEAR.phone));
  expect(p.traits.name).toBe(shown(sees.identifier, CLEAR.name));
  expect(p.traits.city).toBe(shown(sees.quasi, CLEAR.city));
  expect(p.traits.address).toMatchObject({ street: shown(sees.identifier, CLEAR.street), city: shown(sees.quasi, CLEAR.city) });
  expect(p.traits.plan).toBe('gold');
  expect(p.traits.orders_count).toBe(7);
  expect(p.identities.find((i) => i.type === 'email')?.value).toBe(shown(sees.identifier, CLEAR.email));
  expect(p.records).toContainEqual({ source: 'default', id: shown(sees.identifier, CLEAR.userId) });
}

function checkOrder(e: { userId: string | null; properties: Record<string, unknown>; context: Record<string, unknown> | null }, sees: Sees): void {
  expect(e.userId).toBe(shown(sees.identifier, CLEAR.userId));
  expect(e.properties).toMatchObject({ email: shown(sees.identifier, CLEAR.email), revenue: 99, order_id: 'o-1' });
  expect(e.context?.ip).toBe(shown(sees.identifier, CLEAR.ip));
}

const ndjson = (body: string) => body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { id: string } & Parameters<typeof checkProfile>[0]);

const READ_ROUTES: ReadRoute[] = [
  {
    route: 'GET /api/profiles',
    permission: 'profiles.read',
    request: () => ({ method: 'GET', url: `/api/profiles?email=${encodeURIComponent(CLEAR.email)}` }),
    carries: 'values',
    check: (body, sees) => checkProfile(JSON.parse(body).profiles[0], sees),
  },
  {
    route: 'GET /api/profiles/{id}',
    permission: 'profiles.read',
    request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}` }),
    carries: 'values',
    check: (body, sees) => {
      const p = JSON.parse(body);
      checkProfile(p, sees);
      checkOrder(p.recentEvents.find((e: { event: string }) => e.event === 'Order Completed'), sees);
    },
  },
  {
    route: 'GET /api/profiles/{id}/events',
    permission: 'profiles.read',
    request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}/events` }),
    carries: 'values',
    check: (body, sees) => {
      const { events } = JSON.parse(body) as { events: Array<Parameters<typeof checkOrder>[0] & { event: string | null }> };
      checkOrder(events.find((e) => e.event === 'Order Completed')!, sees);
      // Behavioral, shown; the phone and email typed into it are identifiers all the same.
      const comment = events.find((e) => e.event === 'Feedback Submitted')!.properties.comment as string;
      expect(comment.startsWith('太差了，要退款！')).toBe(true);
      expect(comment.includes('138 1234 8000')).toBe(sees.identifier);
    },
  },
  {
    route: 'GET /api/profiles/{id}/lineage',
    permission: 'profiles.read',
    request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}/lineage` }),
    carries: 'values',
    check: (body, sees) => {
      const { entries } = JSON.parse(body) as { entries: Array<{ field: string; original?: unknown; value?: unknown }> };
      expect(entries.find((e) => e.field === 'email')).toMatchObject({ original: shown(sees.identifier, ' Zhang@QQ.com '), value: shown(sees.identifier, CLEAR.email) });
      expect(entries.find((e) => e.field === 'city')).toMatchObject({ original: shown(sees.quasi, '上海'), value: shown(sees.quasi, CLEAR.city) });
    },
  },
  { route: 'GET /api/profiles/{id}/merges', permission: 'profiles.read', request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}/merges` }), carries: 'ids' },
  { route: 'GET /api/profiles/{id}/consents', permission: 'profiles.read', request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}/consents` }), carries: 'ids' },
  { route: 'GET /api/profiles/{id}/recommendations', permission: 'profiles.read', request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}/recommendations` }), carries: 'ids' },
  { route: 'GET /api/profiles/{id}/campaigns', permission: 'profiles.read', request: (ids) => ({ method: 'GET', url: `/api/profiles/${ids.zhang}/campaigns` }), carries: 'ids' },
  {
    route: 'GET /api/profiles/export',
    permission: 'profiles.export',
    request: () => ({ method: 'GET', url: '/api/profiles/export' }),
    carries: 'values',
    check: (body, sees, ids) => checkProfile(ndjson(body).find((p) => p.id === ids.zhang)!, sees),
  },
  {
    route: 'GET /api/segments/{id}/members',
    permission: 'profiles.list',
    request: (ids) => ({ method: 'GET', url: `/api/segments/${ids.segment}/members` }),
    carries: 'values',
    check: (body, sees, ids) => checkProfile(ndjson(body).find((p) => p.id === ids.zhang)!, sees),
  },
  {
    route: 'GET /api/segments/{id}/members',
    variant: 'csv',
    permission: 'profiles.list',
    request: (ids) => ({ method: 'GET', url: `/api/segments/${ids.segment}/members?format=csv&fields=id,email,phone,name,city,plan` }),
    carries: 'values',
    check: (body, sees, ids) => {
      const row = body.split('\r\n').find((line) => line.startsWith(ids.zhang))!;
      expect(row.split(',')).toEqual([ids.zhang, shown(sees.identifier, CLEAR.email), `'${String(shown(sees.identifier, CLEAR.phone))}`, shown(sees.identifier, CLEAR.name), shown(sees.quasi, CLEAR.city), 'gold']);
    },
  },
  {
    route: 'POST /api/segments/preview',
    permission: 'segments.read',
    request: () => ({ method: 'POST', url: '/api/segments/preview', payload: { rule: { trait: 'plan', op: 'eq', value: 'gold' } } }),
    carries: 'values',
    check: (body, sees) => {
      const { traits } = JSON.parse(body).sample[0] as { traits: Record<string, unknown> };
      expect(traits).toMatchObject({ email: shown(sees.identifier, CLEAR.email), city: shown(sees.quasi, CLEAR.city), plan: 'gold' });
    },
  },
  { route: 'GET /api/identity/reviews', permission: 'profiles.list', request: () => ({ method: 'GET', url: '/api/identity/reviews' }), carries: 'ids' },
  { route: 'GET /api/identity/explain', permission: 'profiles.list', request: (ids) => ({ method: 'GET', url: `/api/identity/explain?a=${ids.zhang}&b=${ids.li}` }), carries: 'ids' },
  { route: 'GET /api/identity/conflicts', permission: 'profiles.list', request: () => ({ method: 'GET', url: '/api/identity/conflicts' }), carries: 'ids' },
  {
    route: 'GET /api/quality/issues',
    permission: 'analytics.read',
    request: () => ({ method: 'GET', url: '/api/quality/issues' }),
    carries: 'values',
    check: (body, sees) => {
      const { issues } = JSON.parse(body) as { issues: Array<{ field: string; examples: Array<{ value: unknown }> }> };
      // Identifier examples are masked for every role: a data steward needs the shape, not the value.
      expect(issues.find((i) => i.field === 'email')!.examples[0]!.value).toBe(maskValue('li@@example.com'));
      expect(issues.find((i) => i.field === 'birthday')!.examples[0]!.value).toBe(shown(sees.quasi, '1990-02-30'));
    },
  },
  {
    route: 'GET /api/analytics/feedback',
    permission: 'analytics.read',
    request: () => ({ method: 'GET', url: '/api/analytics/feedback' }),
    carries: 'values',
    check: (body, sees, ids) => {
      const complaint = (JSON.parse(body) as { recentComplaints: Array<{ profileId: string; text: string }> }).recentComplaints[0]!;
      expect(complaint.profileId).toBe(ids.zhang);
      expect(complaint.text).toBe(sees.identifier ? COMPLAINT : '太差了，要退款！请回电 138****8000 或邮件 z***@qq.com');
    },
  },
  {
    route: 'GET /api/analytics/runs',
    permission: 'analytics.read',
    request: () => ({ method: 'GET', url: '/api/analytics/runs?kind=feedback' }),
    carries: 'values',
    check: (body, sees) => {
      const run = (JSON.parse(body) as { runs: Array<{ result: { recentComplaints: Array<{ text: string }> } }> }).runs[0]!;
      expect(run.result.recentComplaints[0]!.text.includes('zhang@qq.com')).toBe(sees.identifier);
    },
  },
  {
    route: 'GET /api/audit',
    permission: 'audit.read',
    request: () => ({ method: 'GET', url: '/api/audit?action=user.create' }),
    carries: 'values',
    check: (body, sees) => {
      const entry = (JSON.parse(body) as { entries: Array<{ details: Record<string, unknown> }> }).entries[0]!;
      expect(entry.details).toEqual({ email: shown(sees.identifier, 'li.si@example.com'), role: 'analyst' });
    },
  },
  { route: 'GET /api/dsar', permission: 'dsar.manage', request: () => ({ method: 'GET', url: '/api/dsar' }), carries: 'ids' },
  {
    route: 'GET /api/dsar/{id}/archive',
    permission: 'dsar.manage',
    request: (ids) => ({ method: 'GET', url: `/api/dsar/${ids.dsar}/archive` }),
    carries: 'clear',
    check: (body) => {
      const archive = JSON.parse(body) as { profile: { traits: Record<string, unknown> }; identities: Array<Record<string, unknown>> };
      expect(archive.profile.traits).toMatchObject({ email: CLEAR.email, name: CLEAR.name, city: CLEAR.city });
      expect(body).toContain(CLEAR.street);
    },
  },
  {
    route: 'GET /api/dsar/{id}/archive.csv',
    permission: 'dsar.manage',
    request: (ids) => ({ method: 'GET', url: `/api/dsar/${ids.dsar}/archive.csv?part=traits` }),
    carries: 'clear',
    check: (body) => {
      expect(body).toContain(CLEAR.email);
      expect(body).toContain(CLEAR.name);
    },
  },
];

// Routes needing a profiles.* permission that answer no one's values: writes, answering ids and counts.
// A route added with a profiles.* permission must go in READ_ROUTES or here.
const PROFILE_WRITES = new Set([
  'POST /api/profiles/{id}/consents',
  'POST /api/profiles/{id}/consent-links',
  'POST /api/profiles/{id}/consent-links/revoke',
  'POST /api/profiles/merge',
  'POST /api/profiles/{id}/split',
  'POST /api/identity/reviews/{id}/approve',
  'POST /api/identity/reviews/{id}/reject',
]);

describe.each(backends)('access matrix on $name', (backend) => {
  let t: TestApp;
  let ids: Ids;
  const tokens = new Map<string, { id: string; secret: string }>();

  function call(token: string | null, method: string, url: string, payload?: unknown, basic = false): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (basic) headers.authorization = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
    else if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return t.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) });
  }
  const admin = (method: string, url: string, payload?: unknown) => call(ADMIN_TOKEN, method, url, payload);
  const as = (role: string, method: string, url: string, payload?: unknown) => call(tokens.get(role)!.secret, method, url, payload);

  beforeAll(async () => {
    t = await startTestApp(backend);
    const now = Date.now();
    const at = (minutes: number) => new Date(now - 60 * 60_000 + minutes * 60_000).toISOString();
    const batch = [
      { type: 'page', anonymousId: 'anon-zhang', name: 'Home', messageId: 'm-page', timestamp: at(0) },
      // A second device, merged into the person below: their merge history is not empty.
      { type: 'page', anonymousId: 'anon-zhang-tablet', name: 'Home', messageId: 'm-tablet', timestamp: at(0) },
      {
        type: 'identify',
        anonymousId: 'anon-zhang',
        userId: CLEAR.userId,
        traits: { email: ' Zhang@QQ.com ', phone: '13812348000', name: '张三', city: '上海', address: { street: CLEAR.street, city: '上海', postal_code: '200120' }, plan: 'gold', orders_count: 7 },
        context: { ip: CLEAR.ip },
        messageId: 'm-identify',
        timestamp: at(1),
      },
      { type: 'track', userId: CLEAR.userId, event: 'Order Completed', properties: { order_id: 'o-1', revenue: 99, email: CLEAR.email }, context: { ip: CLEAR.ip }, messageId: 'm-order', timestamp: at(2) },
      { type: 'track', userId: CLEAR.userId, event: 'Feedback Submitted', properties: { comment: COMPLAINT, feedback_type: 'complaint' }, messageId: 'm-feedback', timestamp: at(3) },
      { type: 'identify', userId: 'li', traits: { email: 'li@example.com', plan: 'free' }, messageId: 'm-li', timestamp: at(4) },
      // Refused: a quality issue with an identifier example and one with a quasi example.
      { type: 'identify', userId: 'li', traits: { email: 'li@@example.com', birthday: '1990-02-30' }, messageId: 'm-li-bad', timestamp: at(5) },
    ];
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
    const lookup = async (userId: string) => ((await admin('GET', `/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;
    const tablet = ((await admin('GET', '/api/profiles?anonymousId=anon-zhang-tablet')).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;
    expect((await admin('POST', '/api/profiles/merge', { into: await lookup(CLEAR.userId), from: [tablet] })).statusCode).toBe(200);
    const segment = await admin('POST', '/api/segments', { name: 'Gold plan', rule: { trait: 'plan', op: 'eq', value: 'gold' } });
    expect(segment.statusCode).toBe(201);
    // A match model, so explain answers; a feedback run, so the runs list has one.
    expect((await admin('POST', '/api/identity/resolve', { full: true, wait: true })).statusCode).toBe(200);
    expect((await admin('GET', '/api/analytics/feedback')).statusCode).toBe(200);
    for (const role of CUSTOM_ROLES) {
      expect((await admin('PUT', `/api/roles/${role.name}`, { description: role.description, permissions: role.permissions, unmasked: role.unmasked })).statusCode).toBe(201);
    }
    for (const role of ROLES) {
      const made = await admin('POST', '/api/tokens', { name: `${role.name} token`, role: role.name });
      expect(made.statusCode).toBe(201);
      const { token, secret } = made.json() as { token: { id: string }; secret: string };
      tokens.set(role.name, { id: token.id, secret });
    }
    // A staff account: its email is in the audit log's details.
    expect((await admin('POST', '/api/users', { email: 'li.si@example.com', name: '李四', role: 'analyst', password: 'correct horse battery staple' })).statusCode).toBe(201);
    const dsar = await admin('POST', '/api/dsar', { type: 'access', identifier: { type: 'email', value: CLEAR.email }, verification: { method: 'email_link', by: 'privacy desk' } });
    expect(dsar.statusCode).toBe(201);
    ids = { zhang: await lookup(CLEAR.userId), li: await lookup('li'), segment: (segment.json() as { id: string }).id, dsar: (dsar.json() as { id: string }).id };
  });
  afterAll(async () => t?.close());

  const cases = ROLES.flatMap((role) => READ_ROUTES.map((route) => [role.name, `${route.route}${route.variant ? ` (${route.variant})` : ''}`, role, route] as const));

  it.each(cases)('%s × %s', async (_name, _route, role, route) => {
    const { method, url, payload } = route.request(ids);
    const res = await as(role.name, method, url, payload);
    if (!can(role, route.permission)) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toMatchObject({ code: 'CUSTODIAN_FORBIDDEN' });
      return;
    }
    expect(res.statusCode, res.body).toBe(200);
    const sees: Sees = { identifier: role.unmasked.includes('identifier'), quasi: role.unmasked.includes('quasi') };
    for (const fieldClass of ['identifier', 'quasi'] as const) {
      const hidden = route.carries === 'ids' || (route.carries === 'values' && !sees[fieldClass]);
      if (hidden) for (const secret of SECRET[fieldClass]) expect(res.body, `${fieldClass} ${secret}`).not.toContain(secret);
    }
    route.check?.(res.body, sees, ids);
  });

  it('shows everything to admin and support, identifiers masked to analysts and marketers, and quasi fields only to roles granted them', () => {
    // The matrix above rests on these grants; a change to them should be a decision, not a surprise.
    expect(Object.fromEntries(ROLES.map((r) => [r.name, [...r.unmasked].sort()]))).toEqual({
      admin: ['identifier', 'quasi'],
      support: ['identifier', 'quasi'],
      analyst: ['quasi'],
      marketer: ['quasi'],
      auditor: [],
      viewer: [],
      steward: [],
    });
  });

  it.each(READ_ROUTES.map((r) => [`${r.route}${r.variant ? ` (${r.variant})` : ''}`, r] as const))('a source write key cannot read %s', async (_name, route) => {
    const { method, url, payload } = route.request(ids);
    const res = await call(null, method, url, payload, true);
    expect([401, 403]).toContain(res.statusCode);
  });

  it.each([
    ['GET', '/api/users'],
    ['GET', '/api/roles'],
    ['GET', '/api/tokens'],
    ['GET', '/api/dsar'],
    ['GET', '/api/audit'],
    ['GET', '/api/audit/verify'],
  ])('an analyst gets 403 on the admin route %s %s', async (method, url) => {
    expect((await as('analyst', method, url)).statusCode).toBe(403);
  });

  it("audits every read of one person's data, by every role that can read it", async () => {
    const single = READ_ROUTES.filter((r) => r.permission === 'profiles.read');
    for (const role of ['support', 'analyst']) {
      for (const route of single) {
        const { method, url } = route.request(ids);
        expect((await as(role, method, url)).statusCode).toBe(200);
      }
      const audit = await admin('GET', `/api/audit?actor=token:${tokens.get(role)!.id}&action=profile.read&limit=1000`);
      const entries = (audit.json() as { entries: Array<{ profileId: string | null; details: { part: string } }> }).entries;
      expect(entries.every((e) => e.profileId === ids.zhang)).toBe(true);
      expect(new Set(entries.map((e) => e.details.part))).toEqual(new Set(['lookup', 'profile', 'events', 'lineage', 'merges', 'consents', 'recommendations', 'campaigns']));
    }
  });

  it('has every route that needs a profiles.* permission in the matrix, or among the writes that answer no values', async () => {
    const docs = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { description?: string }>> };
    const covered = new Set([...READ_ROUTES.map((r) => r.route), ...PROFILE_WRITES]);
    const profileRoutes: string[] = [];
    for (const [path, methods] of Object.entries(docs.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (/Access: permission `profiles\.[a-z]+`/.test(operation.description ?? '')) profileRoutes.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(profileRoutes.length).toBeGreaterThan(10);
    expect(profileRoutes.filter((r) => !covered.has(r))).toEqual([]);
    // And the table names only routes that exist.
    const documented = new Set(Object.entries(docs.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)));
    expect(READ_ROUTES.map((r) => r.route).filter((r) => !documented.has(r))).toEqual([]);
  });
});
