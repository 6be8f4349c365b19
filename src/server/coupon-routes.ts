import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { addCodes, createPool, generateCodes, getPool, listPools, MAX_CODES_PER_CALL, MAX_PREFIX_LENGTH, type AddCodesResult } from '../activate/coupons.js';
import type { Database } from '../storage/database.js';
import { auditCall } from './audit-routes.js';
import { ActivationError } from '../activate/activation-error.js';
import { ApiError, refusalGuard } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
// The answer lists this many refused codes; the count says how many there were in all.
const MAX_INVALID_LISTED = 1_000;

// Counts only: which person holds which code never leaves through this API.
const PoolBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  total: Type.Integer({ description: 'codes in the pool' }),
  free: Type.Integer({ description: 'codes not given to anyone yet' }),
  issued: Type.Integer({ description: 'codes given out (they stay given out after their holder is erased)' }),
});

const CodesBody = Type.Object(
  {
    codes: Type.Optional(Type.Array(Type.String(), { maxItems: MAX_CODES_PER_CALL, description: `codes to add, at most ${MAX_CODES_PER_CALL}: 1–64 printable characters, no spaces` })),
    generate: Type.Optional(
      Type.Object(
        {
          count: Type.Integer({ minimum: 1, maximum: MAX_CODES_PER_CALL }),
          prefix: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_PREFIX_LENGTH, pattern: '^\\S+$' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'exactly one of codes and generate' },
);

const CodesAnswer = Type.Object({
  added: Type.Integer(),
  duplicates: Type.Integer({ description: 'codes the pool already had, or sent twice' }),
  invalid: Type.Array(Type.Object({ index: Type.Integer(), reason: Type.String() }), { description: `refused codes by their index in codes (the first ${MAX_INVALID_LISTED})` }),
  invalidCount: Type.Integer(),
  pool: PoolBody,
});

export interface CouponRoutesDeps {
  database: Database;
}

const guarded = refusalGuard(ActivationError);

/** Coupon pools: create them, fill them with uploaded or generated codes, and watch how many are left. */
export const couponRoutes: FastifyPluginAsync<CouponRoutesDeps> = async (app, { database }) => {
  const db = database.db;

  app.get('/api/coupon-pools', {
    config: { access: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'Every coupon pool with how many codes it has, free and given out', security, response: { 200: Type.Object({ pools: Type.Array(PoolBody) }), ...errors } },
  }, async (request) => ({ pools: await listPools(db, request.caller.workspaceId) }));

  app.post('/api/coupon-pools', {
    config: { access: 'campaigns.write' },
    schema: {
      tags: ['campaigns'],
      summary: 'Create an empty coupon pool',
      security,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }) }, { additionalProperties: false }),
      response: { 201: PoolBody, ...errors },
    },
  }, async (request, reply) => {
    const { name } = request.body as { name: string };
    const pool = await guarded(createPool(db, request.caller.workspaceId, name, request.caller.actor));
    await auditCall(db, request.caller, { action: 'coupon_pool.create', target: pool.id, details: { name: pool.name } });
    return reply.code(201).send(pool);
  });

  app.get('/api/coupon-pools/:id', {
    config: { access: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'A coupon pool and its counts (never the codes people hold)', security, params: IdParams, response: { 200: PoolBody, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const pool = await getPool(db, request.caller.workspaceId, id);
    if (!pool) throw new ApiError('CUSTODIAN_NOT_FOUND', `no coupon pool ${id}`, 'id');
    return pool;
  });

  app.post('/api/coupon-pools/:id/codes', {
    config: { access: 'campaigns.write' },
    // 100,000 codes of 64 characters, quoted and comma-separated, come to about 6.7 MB of JSON.
    bodyLimit: 12 * 1024 * 1024,
    schema: {
      tags: ['campaigns'],
      summary: 'Add codes to a pool: a list of your own, or `generate` random ones (12 characters without 0, O, 1 or I, after an optional prefix)',
      description: 'Codes the pool already has are counted as duplicates and not added again; refused codes are listed by index and the rest are added.',
      security,
      params: IdParams,
      body: CodesBody,
      response: { 200: CodesAnswer, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as { codes?: string[]; generate?: { count: number; prefix?: string } };
    const ws = request.caller.workspaceId;
    if (body.codes !== undefined && body.generate !== undefined) throw new ApiError('CUSTODIAN_INVALID_FIELD', 'send either codes or generate, not both', 'generate');
    if (body.codes === undefined && body.generate === undefined) throw new ApiError('CUSTODIAN_MISSING_FIELD', 'send codes (a list of codes) or generate ({count, prefix?})', 'codes');
    let result: AddCodesResult;
    if (body.generate) {
      const { added } = await guarded(generateCodes(db, ws, id, body.generate));
      result = { added, duplicates: 0, invalid: [] };
    } else {
      result = await guarded(addCodes(db, ws, id, body.codes!));
    }
    await auditCall(db, request.caller, {
      action: 'coupon_pool.codes',
      target: id,
      details: { added: result.added, duplicates: result.duplicates, invalid: result.invalid.length, generated: body.generate !== undefined },
    });
    const pool = await getPool(db, ws, id);
    if (!pool) throw new ApiError('CUSTODIAN_NOT_FOUND', `no coupon pool ${id}`, 'id');
    return { added: result.added, duplicates: result.duplicates, invalid: result.invalid.slice(0, MAX_INVALID_LISTED), invalidCount: result.invalid.length, pool };
  });
};
