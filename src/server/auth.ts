import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../storage/database.js';
import { ApiError } from './errors.js';

export function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export interface SourceIdentity {
  workspaceId: string;
  sourceId: string;
}

export interface TokenIdentity {
  workspaceId: string;
  tokenId: string;
  scopes: readonly string[];
}

const CACHE_MS = 10_000;

/**
 * Resolves credentials to who is calling. Look-ups are cached briefly: the
 * collection API checks a write key on every request.
 */
export function createAuthenticator(database: Database, localToken: string | null) {
  const sources = new Map<string, { value: SourceIdentity | null; until: number }>();
  const tokens = new Map<string, { value: TokenIdentity | null; until: number }>();
  const localHash = localToken ? secretHash(localToken) : null;

  async function source(writeKey: string): Promise<SourceIdentity | null> {
    const hash = secretHash(writeKey);
    const key = hash.toString('hex');
    const cached = sources.get(key);
    if (cached && cached.until > Date.now()) return cached.value;
    const row = await database.db.selectFrom('sources').select(['workspace_id', 'id']).where('write_key_hash', '=', hash).executeTakeFirst();
    const value = row ? { workspaceId: row.workspace_id, sourceId: row.id } : null;
    sources.set(key, { value, until: Date.now() + CACHE_MS });
    return value;
  }

  async function token(bearer: string): Promise<TokenIdentity | null> {
    const hash = secretHash(bearer);
    if (localHash && timingSafeEqual(hash, localHash)) return { workspaceId: 'default', tokenId: 'local-cli', scopes: ['admin'] };
    const key = hash.toString('hex');
    const cached = tokens.get(key);
    if (cached && cached.until > Date.now()) return cached.value;
    const row = await database.db.selectFrom('api_tokens').select(['workspace_id', 'id', 'scopes']).where('token_hash', '=', hash).executeTakeFirst();
    const value = row ? { workspaceId: row.workspace_id, tokenId: row.id, scopes: row.scopes } : null;
    tokens.set(key, { value, until: Date.now() + CACHE_MS });
    return value;
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
    async token(request: FastifyRequest): Promise<TokenIdentity> {
      const header = request.headers.authorization;
      if (!header?.startsWith('Bearer ')) {
        throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'an API token is required: Authorization: Bearer <token>', 'authorization');
      }
      const found = await token(header.slice(7).trim());
      if (!found) throw new ApiError('CUSTODIAN_UNAUTHORIZED', 'the API token is not valid', 'authorization');
      return found;
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
