import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../src/privacy/audit-log.js';
import { installAccessControl } from '../src/server/access-hook.js';
import { createAuthenticator } from '../src/server/auth.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

const PASSWORD = 'correct horse battery staple';

/**
 * Accounts, sessions and roles: sign-in with lock-out, sessions that end when
 * their terms change, tokens with roles and scopes, no granting beyond one's
 * own role, and roles scoped to some profiles.
 */
describe.each(backends)('access control on $name', (backend) => {
  let t: TestApp;
  type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  const call = (method: Method, url: string, auth: { token?: string; cookie?: string; origin?: string }, body?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: {
        ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
        ...(auth.cookie ? { cookie: auth.cookie } : {}),
        ...(auth.origin ? { origin: auth.origin } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  const admin = (method: Method, url: string, body?: unknown) => call(method, url, { token: ADMIN_TOKEN }, body);
  // Each sign-in from its own address: one address gets 10 attempts a minute, tested apart.
  let address = 0;
  const signIn = async (email: string, password = PASSWORD, workspace = 'default', remoteAddress = `10.0.${Math.floor(++address / 250)}.${address % 250}`) => {
    const answer = await t.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ workspace, email, password }) });
    const cookie = [answer.headers['set-cookie']].flat().find((c) => c?.startsWith('custodian_session='));
    return { answer, cookie: cookie?.split(';')[0] };
  };
  const newToken = async (role: string, scopes?: string[], as = ADMIN_TOKEN) => {
    const made = await call('POST', '/api/tokens', { token: as }, { name: `${role} token`, role, ...(scopes ? { scopes } : {}) });
    expect(made.statusCode, made.body).toBe(201);
    return (made.json() as { secret: string; token: { id: string } });
  };

  beforeAll(async () => {
    t = await startTestApp(backend);
    const batch = [
      { type: 'identify', userId: 'east-1', traits: { email: 'li@example.cn', region: '华东', city: '上海' } },
      { type: 'identify', userId: 'north-1', traits: { email: 'wang@example.cn', region: '华北', city: '北京' } },
    ];
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.drain();
  });
  afterAll(async () => t?.close());

  it('signs a user in with a session cookie that only works from our own pages, and signs out', async () => {
    const created = await admin('POST', '/api/users', { email: 'Ana@Example.com', name: 'Ana', role: 'analyst', password: PASSWORD });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ email: 'ana@example.com', role: 'analyst', status: 'active' });
    expect(created.body).not.toContain('argon2');

    const { answer, cookie } = await signIn('ana@example.com');
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ user: { email: 'ana@example.com' }, role: { name: 'analyst', unmasked: ['quasi'] } });
    const setCookie = String([answer.headers['set-cookie']].flat()[0]);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);

    const me = await call('GET', '/api/auth/me', { cookie: cookie! });
    expect(me.json()).toMatchObject({ workspace: 'default', role: { name: 'analyst' }, user: { email: 'ana@example.com' }, tokenId: null });
    expect((await call('GET', '/api/segments', { cookie: cookie! })).statusCode).toBe(200);
    expect((await call('GET', '/api/audit', { cookie: cookie! })).statusCode).toBe(403);
    const forged = await call('POST', '/api/segments', { cookie: cookie!, origin: 'https://evil.example' }, { name: 'x', rule: { trait: 'city', op: 'eq', value: '上海' } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ field: 'origin' });
    const own = await call('POST', '/api/segments', { cookie: cookie!, origin: 'http://localhost:80' }, { name: 'shanghai', rule: { trait: 'city', op: 'eq', value: '上海' } });
    expect(own.statusCode, own.body).toBe(201);

    expect((await call('POST', '/api/auth/logout', { cookie: cookie! })).statusCode).toBe(204);
    const after = await call('GET', '/api/auth/me', { cookie: cookie! });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'CUSTODIAN_UNAUTHORIZED' });

    const { entries } = await queryAudit(t.database.db, { workspaceId: 'default', action: 'auth.login', limit: 10 });
    expect(entries.some((e) => e.actor === `user:${(created.json() as { id: string }).id}`)).toBe(true);
  });

  it('refuses sign-in and sign-out posted from another site', async () => {
    const forged = await t.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '10.9.9.9', headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, payload: JSON.stringify({ email: 'ana@example.com', password: PASSWORD }) });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['set-cookie']).toBeUndefined();
  });

  it('answers an unknown e-mail like a wrong password, refuses weak passwords, and locks after 5 failures', async () => {
    const unknown = await signIn('nobody@example.com', 'whatever whatever');
    const wrong = await signIn('ana@example.com', 'not the password');
    expect(unknown.answer.statusCode).toBe(401);
    expect(wrong.answer.statusCode).toBe(401);
    expect(unknown.answer.json().message).toBe(wrong.answer.json().message);

    const weak = await admin('POST', '/api/users', { email: 'weak@example.com', role: 'analyst', password: 'short' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({ field: 'password' });

    const made = await admin('POST', '/api/users', { email: 'bob@example.com', role: 'support', password: PASSWORD });
    const bob = made.json() as { id: string };
    for (let i = 0; i < 5; i += 1) expect((await signIn('bob@example.com', `guess number ${i}`)).answer.statusCode).toBe(401);
    // Locked: even the right password is refused until the lock ends.
    const locked = await signIn('bob@example.com');
    expect(locked.answer.statusCode).toBe(429);
    expect(Number(locked.answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.answer.json()).toMatchObject({ code: 'CUSTODIAN_RATE_LIMITED', field: 'password' });
    expect((await admin('GET', '/api/users')).json().users.find((u: { id: string }) => u.id === bob.id).lockedUntil).not.toBeNull();
    const failures = (await queryAudit(t.database.db, { workspaceId: 'default', action: 'auth.login_failed', limit: 50 })).entries;
    expect(failures.filter((e) => e.actor === `user:${bob.id}`)).toHaveLength(5);

    expect((await admin('PATCH', `/api/users/${bob.id}`, { unlock: true })).statusCode).toBe(200);

    // Guesses sent all at once are counted one by one: the fifth locks the rest out unchecked.
    await admin('POST', '/api/users', { email: 'dan@example.com', role: 'support', password: PASSWORD });
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn('dan@example.com', `parallel guess ${i}`)));
    const codes = burst.map((b) => b.answer.statusCode).sort();
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(15);
    const dan = await t.database.db.selectFrom('users').select('failed_logins').where('email', '=', 'dan@example.com').executeTakeFirstOrThrow();
    expect(dan.failed_logins).toBe(5);
    expect((await signIn('bob@example.com')).answer.statusCode).toBe(200);
  });

  it('limits sign-in attempts per address, whoever they are for', async () => {
    const from = '192.0.2.7';
    for (let i = 0; i < 10; i += 1) expect((await signIn(`someone${i}@example.com`, 'wrong password', 'default', from)).answer.statusCode).toBe(401);
    const limited = await signIn('ana@example.com', PASSWORD, 'default', from);
    expect(limited.answer.statusCode).toBe(429);
    expect(Number(limited.answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.answer.json()).toMatchObject({ code: 'CUSTODIAN_RATE_LIMITED' });
    expect((await signIn('ana@example.com')).answer.statusCode).toBe(200);
  });

  it('ends sessions when a user is given a new role, a new password, or is disabled', async () => {
    const made = await admin('POST', '/api/users', { email: 'carol@example.com', role: 'marketer', password: PASSWORD });
    const carol = made.json() as { id: string };
    const steps: Array<[Record<string, string>, string]> = [
      [{ role: 'analyst' }, PASSWORD],
      [{ password: `${PASSWORD}!` }, PASSWORD],
      [{ status: 'disabled' }, `${PASSWORD}!`],
    ];
    for (const [change, password] of steps) {
      const { cookie } = await signIn('carol@example.com', password);
      expect(cookie).toBeDefined();
      expect((await call('GET', '/api/auth/me', { cookie: cookie! })).statusCode).toBe(200);
      expect((await admin('PATCH', `/api/users/${carol.id}`, change)).statusCode).toBe(200);
      expect((await call('GET', '/api/auth/me', { cookie: cookie! })).statusCode).toBe(401);
    }
    expect((await signIn('carol@example.com', `${PASSWORD}!`)).answer.statusCode).toBe(401);
  });

  it('gives tokens a role, narrows them by scopes, and stops revoked and expired ones at once', async () => {
    const analyst = await newToken('analyst');
    expect((await call('GET', '/api/segments', { token: analyst.secret })).statusCode).toBe(200);
    expect((await call('GET', '/api/analytics/rfm', { token: analyst.secret })).statusCode).toBe(200);
    for (const url of ['/api/audit', '/api/users', '/api/dsar', '/api/profiles/export']) {
      const refused = await call('GET', url, { token: analyst.secret });
      expect(refused.statusCode, url).toBe(403);
      expect(refused.json().message).toContain('analyst');
    }
    const narrow = await newToken('analyst', ['segments.read']);
    expect((await call('GET', '/api/segments', { token: narrow.secret })).statusCode).toBe(200);
    expect((await call('GET', '/api/analytics/rfm', { token: narrow.secret })).statusCode).toBe(403);

    expect((await admin('DELETE', `/api/tokens/${analyst.token.id}`)).statusCode).toBe(204);
    expect((await call('GET', '/api/segments', { token: analyst.secret })).statusCode).toBe(401);

    const expired = await newToken('auditor');
    await t.database.db.updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', expired.token.id).execute();
    expect((await call('GET', '/api/audit', { token: expired.secret })).statusCode).toBe(401);
    const made = await admin('POST', '/api/tokens', { name: 'short-lived', role: 'auditor', expiresInDays: 1 });
    const shortLived = made.json() as { secret: string; token: { id: string; expiresAt: string } };
    expect(new Date(shortLived.token.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const listed = (await admin('GET', '/api/tokens')).json() as { tokens: Array<{ id: string; role: string }> };
    expect(listed.tokens.find((x) => x.id === shortLived.token.id)?.role).toBe('auditor');
    expect(JSON.stringify(listed)).not.toContain(shortLived.secret);

    // A disabled user's tokens go with them.
    await admin('POST', '/api/users', { email: 'frank@example.com', role: 'admin', password: PASSWORD });
    const { cookie: frank } = await signIn('frank@example.com');
    const minted = await call('POST', '/api/tokens', { cookie: frank! }, { name: "frank's", role: 'analyst' });
    expect(minted.statusCode, minted.body).toBe(201);
    const frankToken = (minted.json() as { secret: string }).secret;
    expect((await call('GET', '/api/segments', { token: frankToken })).statusCode).toBe(200);
    const frankId = ((await admin('GET', '/api/users')).json() as { users: Array<{ id: string; email: string }> }).users.find((u) => u.email === 'frank@example.com')!.id;
    expect((await admin('PATCH', `/api/users/${frankId}`, { status: 'disabled' })).statusCode).toBe(200);
    expect((await call('GET', '/api/segments', { token: frankToken })).statusCode).toBe(401);

    const writeKeyOnApi = await t.app.inject({ method: 'GET', url: '/api/segments', headers: { authorization: `Basic ${Buffer.from('wk_test_write_key:').toString('base64')}` } });
    expect(writeKeyOnApi.statusCode).toBe(401);
  });

  it('lets nobody grant more than they hold', async () => {
    const defined = await admin('PUT', '/api/roles/user-admin', { description: 'manages accounts', permissions: ['access.manage', 'segments.read'] });
    expect(defined.statusCode, defined.body).toBe(201);
    const manager = await newToken('user-admin');
    const asAdmin = await call('POST', '/api/users', { token: manager.secret }, { email: 'eve@example.com', role: 'admin', password: PASSWORD });
    expect(asAdmin.statusCode).toBe(403);
    expect(asAdmin.json()).toMatchObject({ field: 'role' });
    expect((await call('POST', '/api/tokens', { token: manager.secret }, { name: 'x', role: 'analyst' })).statusCode).toBe(403);
    const wider = await call('PUT', '/api/roles/sneaky', { token: manager.secret }, { permissions: ['access.manage', 'audit.read'] });
    expect(wider.statusCode).toBe(403);
    expect((await call('POST', '/api/users', { token: manager.secret }, { email: 'eve@example.com', role: 'user-admin', password: PASSWORD })).statusCode).toBe(201);
    // Nor take over an account above them.
    const ana = ((await admin('GET', '/api/users')).json() as { users: Array<{ id: string; email: string }> }).users.find((u) => u.email === 'ana@example.com')!;
    expect((await call('PATCH', `/api/users/${ana.id}`, { token: manager.secret }, { password: 'a new password for ana' })).statusCode).toBe(403);

    expect((await admin('DELETE', '/api/roles/user-admin')).statusCode).toBe(409);
    expect((await admin('DELETE', '/api/roles/admin')).statusCode).toBe(400);
    const roles = (await admin('GET', '/api/roles')).json() as { roles: Array<{ name: string; builtIn: boolean }> };
    expect(roles.roles.map((r) => r.name)).toEqual(expect.arrayContaining(['admin', 'analyst', 'marketer', 'support', 'auditor', 'user-admin']));
    const actions = (await queryAudit(t.database.db, { workspaceId: 'default', limit: 500 })).entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['role.put', 'token.create', 'token.revoke', 'user.create', 'user.update']));
  });

  it('refuses role definitions that cannot work, naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ permissions: ['profiles.read', 'segments.read'], scope: { trait: 'region', op: 'eq', value: '华东' } }, 'permissions.1'],
      [{ permissions: ['profiles.read'], scope: { trait: 'region', op: 'like', value: '华东' } }, 'scope.op'],
      [{ permissions: ['profiles.read'], scope: { trait: 'region', op: 'in', value: [] } }, 'scope.value'],
      [{ permissions: ['profiles.read'], scope: { trait: 'email', op: 'eq', value: 'x@y.z' } }, 'scope.trait'],
    ];
    for (const [body, field] of cases) {
      const refused = await admin('PUT', '/api/roles/bad', body);
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
      expect(refused.json().field).toBe(field);
    }
    expect((await admin('PUT', '/api/roles/Bad Name', { permissions: [] })).statusCode).toBe(400);
    expect((await admin('PUT', '/api/roles/analyst', { permissions: [] })).json()).toMatchObject({ field: 'name' });
  });

  it('shows a scoped role only the profiles inside its scope, as if the others did not exist', async () => {
    const defined = await admin('PUT', '/api/roles/east-support', { permissions: ['profiles.read', 'profiles.write'], unmasked: ['identifier', 'quasi'], scope: { trait: 'region', op: 'eq', value: '华东' } });
    expect(defined.statusCode, defined.body).toBe(201);
    const east = await newToken('east-support');
    const idOf = async (userId: string) => ((await admin('GET', `/api/profiles?userId=${userId}`)).json() as { profiles: Array<{ id: string }> }).profiles[0]!.id;
    const inside = await idOf('east-1');
    const outside = await idOf('north-1');
    expect((await call('GET', `/api/profiles/${inside}`, { token: east.secret })).statusCode).toBe(200);
    const hidden = await call('GET', `/api/profiles/${outside}`, { token: east.secret });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.body).not.toContain('wang');
    expect((await call('GET', `/api/profiles/${outside}/events`, { token: east.secret })).statusCode).toBe(404);
    expect((await call('POST', `/api/profiles/${outside}/consents`, { token: east.secret }, { purpose: 'email_marketing', granted: false, legalBasis: 'consent' })).statusCode).toBe(404);
    expect((await call('POST', '/api/profiles/merge', { token: east.secret }, { into: inside, from: [outside] })).statusCode).toBe(404);
    // Routes that are not about one profile are closed to a scoped role, whatever its permissions.
    const review = await call('POST', '/api/identity/reviews/1/approve', { token: east.secret });
    expect(review.statusCode).toBe(403);
    expect(review.json().message).toContain('limited to some profiles');
    const lookup = await call('GET', '/api/profiles?userId=north-1', { token: east.secret });
    expect(lookup.statusCode).toBe(200);
    expect(lookup.json().profiles).toEqual([]);
    expect((await call('GET', '/api/profiles?userId=east-1', { token: east.secret })).json().profiles).toHaveLength(1);
  });
});

describe('route access declarations', () => {
  it('refuses to start an /api route that does not say who may call it', async () => {
    const app = Fastify();
    installAccessControl(app, createAuthenticator({ db: null } as never, null), { db: null } as never);
    expect(() => app.get('/api/forgotten', async () => ({ secret: true }))).toThrow(/GET \/api\/forgotten does not say who may call it/);
    const open = Fastify();
    installAccessControl(open, createAuthenticator({ db: null } as never, null), { db: null } as never);
    open.get('/health', async () => ({ ok: true }));
    await expect(open.ready()).resolves.toBeDefined();
    await open.close();
  });
});

describe('behind a reverse proxy (CUSTODIAN_TRUST_PROXY)', () => {
  it('reads the client address and https from the trusted proxy, for sign-in limits and Secure cookies', async () => {
    const t = await startTestApp(backends[0]!, { app: { trustProxy: 1 } });
    try {
      await t.app.inject({ method: 'POST', url: '/api/users', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'px@example.com', role: 'analyst', password: PASSWORD }) });
      const signIn = (client: string, password: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json', 'x-forwarded-for': client, 'x-forwarded-proto': 'https' }, payload: JSON.stringify({ email: `nobody@example.com`, password }) });
      // One client uses up its budget; another behind the same proxy still signs in.
      for (let i = 0; i < 10; i += 1) expect((await signIn('203.0.113.1', `wrong ${i}`)).statusCode).toBe(401);
      expect((await signIn('203.0.113.1', 'wrong again')).statusCode).toBe(429);
      const other = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.2', 'x-forwarded-proto': 'https' }, payload: JSON.stringify({ email: 'px@example.com', password: PASSWORD }) });
      expect(other.statusCode).toBe(200);
      expect(String([other.headers['set-cookie']].flat()[0])).toMatch(/;\s*Secure/i);
    } finally {
      await t.close();
    }
  });
});
