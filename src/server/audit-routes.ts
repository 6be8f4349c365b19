import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import { appendAudit, queryAudit, verifyAudit, type AuditEntry, type AuditInput } from '../privacy/audit-log.js';
import { maskFieldFor, seesAll, type Viewer } from '../privacy/mask.js';
import type { Database } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';
import type { Caller } from './auth.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];

const Entry = Type.Object({
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String({ description: 'token:<id> for API calls, cli or worker' }),
  action: Type.String({ description: 'area.verb; docs/audit.md lists them' }),
  profileId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()], { description: 'what was acted on when not a profile: a segment id, a source id' }),
  details: Type.Record(Type.String(), Type.Unknown(), { description: "ids, counts and field names, never a customer's values; a staff email or a caller's IP is masked for roles without identifiers" }),
  prevHash: Type.String({ description: 'hex SHA-256 of the previous entry' }),
  hash: Type.String({ description: 'hex SHA-256 over this entry and prevHash' }),
});
const Verification = Type.Object({
  workspaceId: Type.String(),
  ok: Type.Boolean(),
  entries: Type.Integer(),
  head: Type.Union([Type.Object({ seq: Type.Integer(), hash: Type.String() }), Type.Null()], {
    description: 'the last entry as recorded beside the chain; keep a copy elsewhere to detect a rewritten chain',
  }),
  firstBad: Type.Optional(
    Type.Object({
      seq: Type.Integer(),
      reason: Type.Union([Type.Literal('edited'), Type.Literal('missing'), Type.Literal('chain')], {
        description: 'edited: the entry does not match its hash; missing: an entry is gone; chain: the link to the previous entry is broken',
      }),
    }),
  ),
});

/**
 * Record what an API call did, as its caller (token or signed-in user). Awaited before the answer goes
 * out: when the entry cannot be written the request fails rather than going
 * unrecorded.
 */
export function auditCall(db: Kysely<Schema>, caller: Caller, entry: Omit<AuditInput, 'workspaceId' | 'actor'>): Promise<AuditEntry> {
  return appendAudit(db, { ...entry, workspaceId: caller.workspaceId, actor: caller.actor });
}

/**
 * Details never hold a customer's values, but some hold a staff member's or a
 * caller's (the email of an account, the IP of a sign-in): personal data too,
 * masked by class like any other for roles that do not see it. `name` is a
 * person's only on user actions; elsewhere it names a token or a policy.
 * Masking changes only the answer: the chain is verified on what was stored.
 */
function detailsFor(entry: AuditEntry, viewer: Viewer): Record<string, unknown> {
  if (seesAll(viewer)) return entry.details;
  const personal = entry.action.startsWith('user.');
  return Object.fromEntries(Object.entries(entry.details).map(([key, value]) => [key, key.toLowerCase() === 'name' && !personal ? value : maskFieldFor(key, value, viewer)]));
}

const view = (e: AuditEntry, viewer: Viewer) => ({
  seq: e.seq,
  at: e.at.toISOString(),
  actor: e.actor,
  action: e.action,
  profileId: e.profileId,
  target: e.target,
  details: detailsFor(e, viewer),
  prevHash: e.prevHash.toString('hex'),
  hash: e.hash.toString('hex'),
});

function instant(text: string | undefined, field: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new ApiError('CUSTODIAN_INVALID_FIELD', `${field} is not a date-time this server can read`, field);
  return date;
}

export interface AuditRoutesDeps {
  database: Database;
}

/** The audit log: read it, filtered, and check its chain. Admin token. */
export const auditRoutes: FastifyPluginAsync<AuditRoutesDeps> = async (app, { database }) => {

  app.get('/api/audit', {
    config: { access: 'audit.read' },
    schema: {
      tags: ['privacy'],
      summary: 'Audit log entries, newest first, filtered; page with before=nextBefore',
      description: 'Reads of personal data, exports, merges and splits, configuration changes. See docs/audit.md.',
      security,
      querystring: Type.Object({
        actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'token:<id>, cli or worker' })),
        action: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z_]+(\\.[a-z_]+)+$', description: 'area.verb, e.g. profile.read' })),
        profile: Type.Optional(Type.String({ format: 'uuid' })),
        from: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after' })),
        to: Type.Optional(Type.String({ format: 'date-time', description: 'entries before' })),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'entries with a smaller seq: the previous page’s nextBefore' })),
      }),
      response: { 200: Type.Object({ entries: Type.Array(Entry), nextBefore: Type.Union([Type.Integer(), Type.Null()]) }), ...errors },
    },
  }, async (request) => {
    const query = request.query as { actor?: string; action?: string; profile?: string; from?: string; to?: string; limit: number; before?: number };
    const from = instant(query.from, 'from');
    const to = instant(query.to, 'to');
    if (from && to && from > to) throw new ApiError('CUSTODIAN_INVALID_FIELD', 'from is after to', 'from');
    const page = await queryAudit(database.db, {
      workspaceId: request.caller.workspaceId,
      limit: query.limit,
      ...(query.actor !== undefined ? { actor: query.actor } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.profile !== undefined ? { profileId: query.profile } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
    });
    return { entries: page.entries.map((e) => view(e, request.caller.role)), nextBefore: page.nextBefore };
  });

  app.get('/api/audit/verify', {
    config: { access: 'audit.read' },
    schema: {
      tags: ['privacy'],
      summary: "Check the workspace's audit chain: every hash, every link, no gap, the recorded head",
      security,
      response: { 200: Verification, ...errors },
    },
  }, async (request) => verifyAudit(database.db, request.caller.workspaceId));
};
