import type { FastifyInstance, FastifyRequest } from 'fastify';
import { can, inScope, type Permission } from '../privacy/access.js';
import type { Database } from '../storage/database.js';
import { liveProfileId } from '../storage/live-profile.js';
import type { Authenticator, Caller } from './auth.js';
import { ApiError } from './errors.js';

/**
 * Who may call a route: a permission, any signed-in caller, or anyone.
 * Every /api route states one; the app refuses to start with one that does not.
 */
export type RouteAccess = Permission | 'signed-in' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** who is calling, on /api routes that are not public */
    caller: Caller;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// A session cookie rides along on any request the browser makes, so a state
// change must come from our own pages: SameSite=Strict stops most forgeries,
// this stops the rest (and browsers too old for SameSite).
function crossSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (!origin) return false;
  try {
    // Through URL on both sides, so default ports compare equal (http://x and x:80).
    return new URL(origin).host !== new URL(`${request.protocol}://${request.headers.host ?? ''}`).host;
  } catch {
    return true;
  }
}

/**
 * A role with a profile scope sees only the profiles inside it; one outside
 * answers as if it did not exist, so its existence does not leak either.
 */
export async function assertInScope(database: Database, caller: Caller, profileIds: readonly string[]): Promise<void> {
  const scope = caller.role.scope;
  if (!scope) return;
  for (const id of profileIds) {
    const live = await liveProfileId(database.db, caller.workspaceId, id);
    const row = live ? await database.db.selectFrom('profiles').select('traits').where('workspace_id', '=', caller.workspaceId).where('id', '=', live).executeTakeFirst() : undefined;
    if (!row || !inScope(scope, row.traits)) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
  }
}

/** The routes that name their profiles where the scope check below (or the lookup itself) can see them. */
function scopeCheckable(url: string): boolean {
  return url === '/api/profiles' || url === '/api/profiles/merge' || url === '/api/profiles/:id' || url.startsWith('/api/profiles/:id/');
}

/** Authentication and authorization for every /api route, in one place. */
export function installAccessControl(app: FastifyInstance, auth: Authenticator, database: Database): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const access = route.config?.access;
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} does not say who may call it (config.access)`);
    if (route.schema) {
      const who = access === 'public' ? 'no authentication' : access === 'signed-in' ? 'any API token or signed-in user' : `permission \`${access}\``;
      route.schema = { ...route.schema, description: [route.schema.description, `Access: ${who}.`].filter(Boolean).join('\n\n') };
    }
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access) return;
    // Signing in and out from another site would plant the attacker's session in a staff member's browser.
    if (access === 'public') {
      if (request.url.startsWith('/api/') && !SAFE_METHODS.has(request.method) && crossSite(request)) {
        throw new ApiError('CUSTODIAN_FORBIDDEN', 'signing in or out must happen on this server’s own pages', 'origin');
      }
      return;
    }
    request.caller = await auth.caller(request);
    if (request.caller.session && !SAFE_METHODS.has(request.method) && crossSite(request)) {
      throw new ApiError('CUSTODIAN_FORBIDDEN', 'a change through a signed-in session must come from this server’s own pages', 'origin');
    }
    if (access !== 'signed-in' && !can(request.caller.role, access)) {
      throw new ApiError('CUSTODIAN_FORBIDDEN', `this needs the ${access} permission, which the ${request.caller.role.name} role does not have`, 'authorization');
    }
    // Fail closed: a scoped role reaches only routes whose profiles can be checked against its scope.
    if (request.caller.role.scope && access !== 'signed-in' && !scopeCheckable(request.routeOptions.url ?? '')) {
      throw new ApiError('CUSTODIAN_FORBIDDEN', `the ${request.caller.role.name} role is limited to some profiles, and this route is not about one profile`, 'authorization');
    }
  });
  // The routes a scoped role can reach (profiles.read, profiles.write) name
  // their profiles in the path, or, for a merge, in the body.
  app.addHook('preHandler', async (request) => {
    if (!request.caller?.role.scope) return;
    const url = request.routeOptions.url ?? '';
    if (url.startsWith('/api/profiles/:id')) await assertInScope(database, request.caller, [(request.params as { id: string }).id]);
    if (url === '/api/profiles/merge') {
      const body = request.body as { into: string; from: string[] };
      await assertInScope(database, request.caller, [body.into, ...body.from]);
    }
  });
}
