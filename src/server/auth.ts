import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { sessionHolder, secretHash } from '../privacy/accounts.js';
import { builtInRole, narrowRole, type Role } from '../privacy/access.js';
import { findRole } from '../privacy/roles-store.js';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

export interface SourceIdentity {
  workspaceId: string;
  sourceId: string;
}

/** Who is calling a management route, and with which role. */
export interface Caller {
  workspaceId: string;
  /** how the audit log names the caller: token:<id>, user:<id> */
  actor: string;
  tokenId: string | null;
  userId: string | null;
  /** signed in with a session cookie rather than a bearer token */
  session: boolean;
  role: Role;
}

export const SESSION_COOKIE = 'custodian_session';

const CACHE_MS = 10_000;

/**
 * Resolves credentials to who is calling. Look-ups are cached briefly (the
 * collection API checks a write key on every request); `forget` drops the
 * cache when this process changes a token or role, other processes catch up
 * within CACHE_MS.
 */
export function createAuthenticator(database: Database, localToken: string | null) {
  const sources = new Map<string, { value: SourceIdentity | null; until: number }>();
  const tokens = new Map<string, { value: { caller: Caller; expiresAt: Date | null } | null; until: number }>();
  const localHash = localToken ? secretHash(localToken) : null;
  const db = database.db;

  async function source(writeKey: string): Promise<SourceIdentity | null> {
    const hash = secretHash(writeKey);
    const key = hash.toString('hex');
    const cached = sources.get(key);
    if (cached && cached.until > Date.now()) return cached.value;
    const row = await db.selectFrom('sources').select(['workspace_id', 'id']).where('write_key_hash', '=', hash).executeTakeFirst();
    const value = row ? { workspaceId: row.workspace_id, sourceId: row.id } : null;
    sources.set(key, { value, until: Date.now() + CACHE_MS });
    return value;
  }

  async function token(bearer: string): Promise<Caller | null> {
    const hash = secretHash(bearer);
    if (localHash && timingSafeEqual(hash, localHash)) {
      return { workspaceId: 'default', actor: 'token:local-cli', tokenId: 'local-cli', userId: null, session: false, role: builtInRole('admin')! };
    }
    const key = hash.toString('hex');
    let cached = tokens.get(key);
    if (!cached || cached.until <= Date.now()) {
      const row = await db.selectFrom('api_tokens').select(['workspace_id', 'id', 'role', 'scopes', 'expires_at', 'last_used_at']).where('token_hash', '=', hash).executeTakeFirst();
      const role = row ? await findRole(db, row.workspace_id, row.role) : null;
      const value =
        row && role
          ? {
              caller: { workspaceId: row.workspace_id, actor: `token:${row.id}`, tokenId: row.id, userId: null, session: false, role: narrowRole(role, row.scopes) },
              expiresAt: row.expires_at,
            }
          : null;
      if (row && (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000)) {
        await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('workspace_id', '=', row.workspace_id).where('id', '=', row.id).execute();
      }
      cached = { value, until: Date.now() + CACHE_MS };
      tokens.set(key, cached);
    }
    if (!cached.value || (cached.value.expiresAt && cached.value.expiresAt <= new Date())) return null;
    return cached.value.caller;
  }

  async function session(secret: string): Promise<Caller | null> {
    const holder = await sessionHolder(db, secret);
    if (!holder) return null;
    const role = await findRole(db, holder.workspaceId, holder.role);
    if (!role) return null;
    return { workspaceId: holder.workspaceId, actor: `user:${holder.userId}`, tokenId: null, userId: holder.userId, session: true, role };
  }

  return {
    /** Segment's rule: HTTP Basic with the write key as user name, or `writeKey` in the body. */
    async source(request: FastifyRequest): Promise<SourceIdentity> {
      const header = request.headers.authorization;
      let writeKey: string | undefined;
      if (header?.startsWith('Basic ')) {
        const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        writeKey = colon === -1 ? decoded : decoded.slice(0, colon);
      } else {
        const body = request.body as { writeKey?: unknown } | undefined;
        if (typeof body === 'object' && body !== null && typeof body.writeKey === 'string') writeKey = body.writeKey;
      }
      if (!writeKey) throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'a write key is required: HTTP Basic auth with the write key as user name, or writeKey in the body', 'authorization');
      const found = await source(writeKey);
      if (!found) throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'the write key is not valid', 'authorization');
      return found;
    },
    /** A bearer API token, else the dashboard's session cookie. */
    async caller(request: FastifyRequest): Promise<Caller> {
      const header = request.headers.authorization;
      if (header?.startsWith('Bearer ')) {
        const found = await token(header.slice(7).trim());
        if (!found) throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'the API token is not valid (or has expired or been revoked)', 'authorization');
        return found;
      }
      const cookie = request.cookies?.[SESSION_COOKIE];
      if (cookie) {
        const found = await session(cookie);
        if (!found) throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'the session has ended: sign in again', 'authorization');
        return found;
      }
      if (header?.startsWith('Basic ')) {
        throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'a source write key can only send data to /v1; the management API needs an API token (Authorization: Bearer <token>)', 'authorization');
      }
      throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'an API token is required: Authorization: Bearer <token>, or sign in', 'authorization');
    },
    forget(): void {
      tokens.clear();
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
