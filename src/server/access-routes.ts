import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { appendAudit } from '../privacy/audit-log.js';
import { checkPassword, createToken, createUser, endSession, findUser, listTokens, listUsers, login, passwordProblem, removeUser, revokeToken, updateUser, type AccountProblem, type UserChange } from '../privacy/accounts.js';
import { PERMISSIONS, MASKABLE_CLASSES, type Role } from '../privacy/access.js';
import { findRole, listRoles, putRole, removeRole } from '../privacy/roles-store.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { SESSION_COOKIE, type Authenticator, type Caller } from './auth.js';
import { ApiError } from './errors.js';
import { loginRateLimit } from './rate-limits.js';

export interface AccessRoutesDeps {
  auth: Authenticator;
  database: Database;
}

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const UserView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  role: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'set after too many failed sign-ins' }),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
const RoleView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  builtIn: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  unmasked: Type.Array(Type.String(), { description: 'field classes shown in the clear; the others are masked (138****8000, z***@qq.com, 张*)' }),
  scope: Type.Union([Type.Unknown(), Type.Null()], { description: 'trait conditions limiting the profiles the role sees; null: all' }),
});
const TokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  scopes: Type.Array(Type.String(), { description: 'permissions narrowing the role; empty: all of the role' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Permission = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)));
const FieldClass = Type.Union(MASKABLE_CLASSES.map((c) => Type.Literal(c)));

const roleView = (role: Role) => ({ ...role, permissions: [...role.permissions], unmasked: [...role.unmasked] });

function fail(problem: AccountProblem): never {
  const code = problem.status === 404 ? 'CUSTODIAN_NOT_FOUND' : problem.status === 409 ? 'CUSTODIAN_CONFLICT' : 'CUSTODIAN_INVALID_FIELD';
  throw new ApiError(code, `${problem.field}: ${problem.message}`, problem.field);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Nobody hands out more than they hold: a role given to a user or token, or
 * defined, must fit inside the caller's own, or access.manage would be a way
 * to become admin.
 */
function assertGrantable(caller: Caller, role: Pick<Role, 'name' | 'permissions' | 'unmasked' | 'scope'>, field: string): void {
  const missing = role.permissions.filter((p) => !caller.role.permissions.includes(p));
  const unmasked = role.unmasked.filter((c) => !caller.role.unmasked.includes(c));
  if (missing.length > 0 || unmasked.length > 0 || (caller.role.scope !== null && !sameJson(caller.role.scope, role.scope))) {
    const what = [missing.length > 0 ? `permissions ${missing.join(', ')}` : '', unmasked.length > 0 ? `unmasked ${unmasked.join(', ')}` : '', caller.role.scope !== null ? 'a different scope' : ''].filter(Boolean).join(' and ');
    throw new ApiError('CUSTODIAN_FORBIDDEN', `${field}: ${role.name} grants ${what}, more than your own role (${caller.role.name}) holds`, field);
  }
}

async function grantableRole(database: Database, caller: Caller, name: string, field: string): Promise<void> {
  const role = await findRole(database.db, caller.workspaceId, name);
  if (!role) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${field}: no role ${name} in this workspace`, field);
  assertGrantable(caller, role, field);
}

/** Sign-in and sessions for the dashboard; users, roles and API tokens for admins. */
export const accessRoutes: FastifyPluginAsync<AccessRoutesDeps> = async (app, { auth, database }) => {
  const db = database.db;

  app.post('/api/auth/login', {
    config: { access: 'public', rateLimit: loginRateLimit },
    schema: {
      tags: ['access'],
      summary: 'Sign in with e-mail and password; sets the session cookie',
      description: 'After 5 wrong passwords in a row the account is locked for a minute, doubling with each further failure up to an hour (429 with Retry-After). At most 10 attempts a minute from one address.',
      body: Type.Object(
        { workspace: Type.String({ minLength: 1, maxLength: 200, default: 'default' }), email: Type.String({ minLength: 1, maxLength: 320 }), password: Password },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ user: UserView, role: RoleView, expiresAt: Type.String({ format: 'date-time' }) }), ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as { workspace: string; email: string; password: string };
    const outcome = await login(db, body.workspace, body.email, body.password);
    if (outcome.kind === 'locked') {
      await appendAudit(db, { workspaceId: body.workspace, actor: `user:${outcome.userId}`, action: 'auth.locked', details: { ip: request.ip } });
      reply.header('retry-after', String(outcome.retryAfterSeconds));
      throw new ApiError('CUSTODIAN_RATE_LIMITED', `too many failed sign-ins: the account is locked for ${outcome.retryAfterSeconds} more seconds`, 'password', { retryAfterSeconds: outcome.retryAfterSeconds });
    }
    if (outcome.kind === 'invalid') {
      // Failures against unknown workspaces have no chain to go in.
      const known = await db.selectFrom('workspaces').select('id').where('id', '=', body.workspace).executeTakeFirst();
      if (known) await appendAudit(db, { workspaceId: body.workspace, actor: outcome.userId ? `user:${outcome.userId}` : 'anonymous', action: 'auth.login_failed', details: { email: body.email.trim().toLowerCase().slice(0, 320), ip: request.ip } });
      throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'the e-mail or the password is wrong (or the account is disabled)', 'password');
    }
    const role = await findRole(db, body.workspace, outcome.user.role);
    if (!role) throw new ApiError('CUSTODIAN_FORBIDDEN', `the account's role ${outcome.user.role} no longer exists: ask an admin`, 'role');
    await appendAudit(db, { workspaceId: body.workspace, actor: `user:${outcome.user.id}`, action: 'auth.login', details: { ip: request.ip } });
    reply.setCookie(SESSION_COOKIE, outcome.session, { httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https', path: '/', expires: outcome.expiresAt });
    return { user: outcome.user, role: roleView(role), expiresAt: outcome.expiresAt.toISOString() };
  });

  app.post('/api/auth/logout', {
    config: { access: 'public' },
    schema: { tags: ['access'], summary: 'End the session and clear its cookie', response: { 204: Type.Null() } },
  }, async (request, reply) => {
    const session = request.cookies[SESSION_COOKIE];
    if (session) await endSession(db, session);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', {
    config: { access: 'signed-in' },
    schema: {
      tags: ['access'],
      summary: 'Who the caller is and what their role allows',
      security,
      response: {
        200: Type.Object({ workspace: Type.String(), actor: Type.String(), user: Type.Union([UserView, Type.Null()]), tokenId: Type.Union([Type.String(), Type.Null()]), role: RoleView }),
        ...errors,
      },
    },
  }, async (request) => {
    const { caller } = request;
    const user = caller.userId ? await findUser(db, caller.workspaceId, caller.userId) : null;
    return { workspace: caller.workspaceId, actor: caller.actor, user, tokenId: caller.tokenId, role: roleView(caller.role) };
  });

  app.post('/api/auth/password', {
    config: { access: 'signed-in', rateLimit: loginRateLimit },
    schema: {
      tags: ['access'],
      summary: 'Change your own password (signed-in users); ends all your sessions, this one too',
      description: 'A wrong current password counts towards the lock-out like a failed sign-in.',
      body: Type.Object({ current: Password, password: Password }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errors },
    },
  }, async (request, reply) => {
    const { caller } = request;
    const body = request.body as { current: string; password: string };
    if (!caller.userId) throw new ApiError('CUSTODIAN_FORBIDDEN', 'an API token has no password: sign in as a user', 'authorization');
    const weak = passwordProblem(body.password);
    if (weak) throw new ApiError('CUSTODIAN_INVALID_FIELD', `password: ${weak}`, 'password');
    const user = await findUser(db, caller.workspaceId, caller.userId);
    const checked = user ? await checkPassword(db, caller.workspaceId, user.email, body.current) : null;
    if (checked?.kind === 'locked') {
      reply.header('retry-after', String(checked.retryAfterSeconds));
      throw new ApiError('CUSTODIAN_RATE_LIMITED', `too many wrong passwords: the account is locked for ${checked.retryAfterSeconds} more seconds`, 'current', { retryAfterSeconds: checked.retryAfterSeconds });
    }
    if (checked?.kind !== 'ok') {
      await auditCall(db, caller, { action: 'auth.login_failed', target: caller.userId, details: { during: 'password change', ip: request.ip } });
      throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'current: the current password is wrong', 'current');
    }
    const changed = await updateUser(db, caller.workspaceId, caller.userId, { password: body.password });
    if ('problem' in changed) fail(changed.problem);
    await auditCall(db, caller, { action: 'user.password', target: caller.userId });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/users', {
    config: { access: 'access.manage' },
    schema: { tags: ['access'], summary: 'Staff accounts of the workspace', security, response: { 200: Type.Object({ users: Type.Array(UserView) }), ...errors } },
  }, async (request) => ({ users: await listUsers(db, request.caller.workspaceId) }));

  app.post('/api/users', {
    config: { access: 'access.manage' },
    schema: {
      tags: ['access'],
      summary: 'Create a staff account',
      security,
      body: Type.Object(
        { email: Type.String({ minLength: 3, maxLength: 320 }), name: Type.Optional(Type.String({ maxLength: 200 })), role: Type.String({ minLength: 1, maxLength: 40 }), password: Password },
        { additionalProperties: false },
      ),
      response: { 201: UserView, ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as { email: string; name?: string; role: string; password: string };
    await grantableRole(database, request.caller, body.role, 'role');
    const created = await createUser(db, request.caller.workspaceId, body);
    if ('problem' in created) fail(created.problem);
    await auditCall(db, request.caller, { action: 'user.create', target: created.user.id, details: { email: created.user.email, role: created.user.role } });
    return reply.code(201).send(created.user);
  });

  app.patch('/api/users/:id', {
    config: { access: 'access.manage' },
    schema: {
      tags: ['access'],
      summary: 'Change a staff account: name, role, status, password, or clear a lock-out',
      description: 'A new password, a new role or disabling ends the account’s sessions; disabling also revokes the API tokens the account issued.',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      body: Type.Object(
        {
          name: Type.Optional(Type.String({ maxLength: 200 })),
          role: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
          password: Type.Optional(Password),
          unlock: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: UserView, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as UserChange;
    const current = await findUser(db, request.caller.workspaceId, id);
    if (!current) throw new ApiError('CUSTODIAN_NOT_FOUND', `no user ${id}`, 'id');
    await grantableRole(database, request.caller, current.role, 'id');
    if (body.role !== undefined) await grantableRole(database, request.caller, body.role, 'role');
    const changed = await updateUser(db, request.caller.workspaceId, id, body);
    if ('problem' in changed) fail(changed.problem);
    if (body.status === 'disabled') auth.forget();
    const { password, ...shown } = body;
    await auditCall(db, request.caller, { action: 'user.update', target: id, details: { ...shown, ...(password !== undefined ? { password: 'changed' } : {}) } });
    return changed.user;
  });

  app.delete('/api/users/:id', {
    config: { access: 'access.manage' },
    schema: { tags: ['access'], summary: 'Delete a staff account, its sessions and the API tokens it issued', security, params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const current = await findUser(db, request.caller.workspaceId, id);
    if (!current) throw new ApiError('CUSTODIAN_NOT_FOUND', `no user ${id}`, 'id');
    await grantableRole(database, request.caller, current.role, 'id');
    await removeUser(db, request.caller.workspaceId, id);
    auth.forget();
    await auditCall(db, request.caller, { action: 'user.delete', target: id, details: { email: current.email } });
    return reply.code(204).send();
  });

  app.get('/api/roles', {
    config: { access: 'access.manage' },
    schema: { tags: ['access'], summary: 'Built-in and custom roles', security, response: { 200: Type.Object({ roles: Type.Array(RoleView) }), ...errors } },
  }, async (request) => ({ roles: (await listRoles(db, request.caller.workspaceId)).map(roleView) }));

  app.put('/api/roles/:name', {
    config: { access: 'access.manage' },
    schema: {
      tags: ['access'],
      summary: 'Create or replace a custom role',
      description:
        'permissions × field classes, optionally limited to the profiles matching trait conditions (`scope`, e.g. {"trait":"region","op":"eq","value":"华东"}). ' +
        'A scoped role may hold only profiles.read and profiles.write. Holders see the change within 10 seconds.',
      security,
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 40 }) }),
      body: Type.Object(
        {
          description: Type.Optional(Type.String({ maxLength: 500 })),
          permissions: Type.Array(Permission, { maxItems: PERMISSIONS.length }),
          unmasked: Type.Optional(Type.Array(FieldClass, { maxItems: MASKABLE_CLASSES.length })),
          scope: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: false },
      ),
      response: { 200: RoleView, 201: RoleView, ...errors },
    },
  }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const body = request.body as { description?: string; permissions: string[]; unmasked?: string[]; scope?: unknown };
    // Only roles the caller could grant: defining one is granting it to whoever later gets it.
    assertGrantable(request.caller, { name, permissions: body.permissions as Role['permissions'], unmasked: (body.unmasked ?? []) as Role['unmasked'], scope: (body.scope ?? null) as Role['scope'] }, 'permissions');
    const existing = await findRole(db, request.caller.workspaceId, name);
    if (existing && !existing.builtIn) assertGrantable(request.caller, existing, 'name');
    const changed = await putRole(db, request.caller.workspaceId, { name, ...body });
    if (!changed.ok) {
      const first = changed.issues[0]!;
      throw new ApiError('CUSTODIAN_INVALID_FIELD', changed.issues.map((i) => `${i.field}: ${i.message}`).join('; '), first.field, { issues: changed.issues });
    }
    auth.forget();
    await auditCall(db, request.caller, { action: 'role.put', target: name, details: { permissions: changed.role.permissions, unmasked: changed.role.unmasked, scope: changed.role.scope } });
    return reply.code(changed.created ? 201 : 200).send(roleView(changed.role));
  });
  app.delete('/api/roles/:name', {
    config: { access: 'access.manage' },
    schema: { tags: ['access'], summary: 'Delete a custom role no user or token holds', security, params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 40 }) }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const existing = await findRole(db, request.caller.workspaceId, name);
    if (existing && !existing.builtIn) assertGrantable(request.caller, existing, 'name');
    const outcome = await removeRole(db, request.caller.workspaceId, name);
    if (outcome === 'built-in') throw new ApiError('CUSTODIAN_INVALID_FIELD', `name: ${name} is a built-in role`, 'name');
    if (outcome === 'missing') throw new ApiError('CUSTODIAN_NOT_FOUND', `no custom role ${name}`, 'name');
    if (typeof outcome === 'object') throw new ApiError('CUSTODIAN_CONFLICT', `name: ${outcome.inUseBy} users or tokens hold ${name}: give them another role first`, 'name');
    auth.forget();
    await auditCall(db, request.caller, { action: 'role.delete', target: name });
    return reply.code(204).send();
  });

  app.get('/api/tokens', {
    config: { access: 'access.manage' },
    schema: { tags: ['access'], summary: 'API tokens of the workspace (never their secrets)', security, response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...errors } },
  }, async (request) => ({ tokens: await listTokens(db, request.caller.workspaceId) }));

  app.post('/api/tokens', {
    config: { access: 'access.manage' },
    schema: {
      tags: ['access'],
      summary: 'Issue an API token; its secret is in this answer only',
      security,
      body: Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 200 }),
          role: Type.String({ minLength: 1, maxLength: 40 }),
          scopes: Type.Optional(Type.Array(Permission, { maxItems: PERMISSIONS.length, description: 'narrow the token below its role' })),
          expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ token: TokenView, secret: Type.String({ description: 'shown once: Authorization: Bearer <secret>' }) }), ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string; role: string; scopes?: string[]; expiresInDays?: number };
    await grantableRole(database, request.caller, body.role, 'role');
    const created = await createToken(db, request.caller.workspaceId, {
      name: body.name,
      role: body.role,
      ...(body.scopes ? { scopes: [...new Set(body.scopes)] } : {}),
      expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
      createdBy: request.caller.actor,
    });
    if ('problem' in created) fail(created.problem);
    await auditCall(db, request.caller, { action: 'token.create', target: created.token.id, details: { name: body.name, role: body.role, scopes: created.token.scopes, expiresAt: created.token.expiresAt } });
    return reply.code(201).send(created);
  });

  app.delete('/api/tokens/:id', {
    config: { access: 'access.manage' },
    schema: { tags: ['access'], summary: 'Revoke an API token (other servers stop accepting it within 10 seconds)', security, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }), response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const token = (await listTokens(db, request.caller.workspaceId)).find((t) => t.id === id);
    if (!token) throw new ApiError('CUSTODIAN_NOT_FOUND', `no token ${id}`, 'id');
    await grantableRole(database, request.caller, token.role, 'id');
    await revokeToken(db, request.caller.workspaceId, id);
    auth.forget();
    await auditCall(db, request.caller, { action: 'token.revoke', target: id, details: { name: token.name } });
    return reply.code(204).send();
  });
};
