import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { maskFields, maskProfile, type Viewer } from '../privacy/mask.js';
import type { ProfileStore, Profile } from '../profiles/store.js';
import { describeRule } from '../segments/describe.js';
import type { Rule } from '../segments/rule.js';
import { createSegmentStore, createTagStore, SegmentError, type Segment, type Tag } from '../segments/store.js';
import { TagDefinitionSchema, type TagDefinition } from '../segments/tag-definition.js';
import type { Database } from '../storage/database.js';
import { can } from '../privacy/access.js';
import { auditCall } from './audit-routes.js';
import { ApiError, refusalGuard } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const RuleRef = Type.Ref('SegmentRule');
const Text = Type.Object({ en: Type.String(), 'zh-CN': Type.String() }, { description: 'the rule as a sentence' });

const SegmentBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  rule: RuleRef,
  text: Text,
  size: Type.Integer({ description: 'members now' }),
  timeRelative: Type.Boolean({ description: 'members can leave as time passes; refreshed on a schedule' }),
  refreshedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'last full refresh' }),
  refreshMs: Type.Union([Type.Integer(), Type.Null()], { description: 'how long the last full refresh took' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const TagBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('manual'), Type.Literal('rule'), Type.Literal('cases'), Type.Literal('top')]),
  definition: TagDefinitionSchema,
  profiles: Type.Integer({ description: 'profiles carrying the tag' }),
  refreshedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const SampleProfile = Type.Object({
  id: Type.String(),
  traits: Type.Record(Type.String(), Type.Unknown()),
  tags: Type.Array(Type.String()),
  segments: Type.Array(Type.String()),
  lastSeenAt: Type.Union([Type.String(), Type.Null()]),
});
const Change = Type.Object({
  id: Type.String({ description: 'increasing; pass the last one back as `after`' }),
  kind: Type.Union([Type.Literal('segment'), Type.Literal('tag')]),
  setId: Type.String(),
  profileId: Type.String(),
  change: Type.Union([Type.Literal('enter'), Type.Literal('exit')]),
  value: Type.Union([Type.String(), Type.Null()], { description: "a tag's value" }),
  cause: Type.String({ description: 'event, refresh, manual, merge' }),
  at: Type.String({ format: 'date-time' }),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Targets = Type.Object(
  {
    profileIds: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100_000 })),
    segment: Type.Optional(Type.String({ description: 'every current member of this segment' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export interface SegmentsRoutesDeps {
  database: Database;
  profiles: ProfileStore;
}

const guarded = refusalGuard(SegmentError);

function textOf(rule: Rule, segmentNames: ReadonlyMap<string, string>) {
  return { en: describeRule(rule, 'en', { segmentNames }), 'zh-CN': describeRule(rule, 'zh-CN', { segmentNames }) };
}

function sampleOf(p: Profile, viewer: Viewer) {
  return { id: p.id, traits: maskFields(p.traits, viewer), tags: p.tags, segments: p.segments, lastSeenAt: p.lastSeenAt };
}

const CSV_FIELDS = ['id', 'userId', 'email', 'phone', 'name', 'city', 'country', 'gender', 'tags', 'segments', 'createdAt', 'lastSeenAt'] as const;

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = Array.isArray(value) ? value.join('|') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A leading =, +, - or @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvRow(p: Profile, fields: readonly string[]): string {
  const identity = (type: string) => p.identities.find((i) => i.type === type)?.value;
  const cell = (field: string): unknown => {
    switch (field) {
      case 'id':
        return p.id;
      case 'userId':
      case 'email':
      case 'phone':
        return identity(field) ?? p.traits[field];
      case 'tags':
        return p.tags;
      case 'segments':
        return p.segments;
      case 'createdAt':
        return p.createdAt;
      case 'lastSeenAt':
        return p.lastSeenAt;
      default:
        return p.traits[field] ?? p.scores[field];
    }
  };
  return fields.map((f) => csvCell(cell(f))).join(',');
}

/** Segments, tags and membership changes. Bearer token. */
export const segmentsRoutes: FastifyPluginAsync<SegmentsRoutesDeps> = async (app, { database, profiles }) => {
  const segments = createSegmentStore(database.db);
  const tags = createTagStore(database.db);
  // Only the CSV upload of ids takes a body that is not JSON.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 8 * 1024 * 1024 }, (_request, body, done) => done(null, body));

  async function withText(workspaceId: string, segment: Segment) {
    const names = new Map((await segments.list(workspaceId)).map((s) => [s.id, s.name]));
    return { ...segment, text: textOf(segment.rule, names) };
  }

  app.get('/api/segments', {
    config: { access: 'segments.read' },
    schema: { tags: ['segments'], summary: 'Every segment of the workspace with its size', security, response: { 200: Type.Object({ segments: Type.Array(SegmentBody) }), ...errors } },
  }, async (request) => {
    const ws = request.caller.workspaceId;
    const list = await segments.list(ws);
    const names = new Map(list.map((s) => [s.id, s.name]));
    return { segments: list.map((s) => ({ ...s, text: textOf(s.rule, names) })) };
  });

  app.post('/api/segments', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['segments'],
      summary: 'Save a segment; it is filled before the answer and kept current as events arrive',
      security,
      body: Type.Object({ name: Name, description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])), rule: RuleRef }, { additionalProperties: false }),
      response: { 201: SegmentBody, ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string; description?: string | null; rule: Rule };
    const ws = request.caller.workspaceId;
    const created = await guarded(segments.create(ws, { name: body.name.trim(), description: body.description ?? null, rule: body.rule }, request.caller.actor));
    return reply.code(201).send(await withText(ws, created));
  });

  app.post('/api/segments/preview', {
    config: { access: 'segments.read' },
    schema: {
      tags: ['segments'],
      summary: 'Count a rule and show 20 of the profiles it names, without saving it',
      description: 'The sample is empty for roles without profiles.list.',
      security,
      body: Type.Object({ rule: RuleRef }, { additionalProperties: false }),
      response: { 200: Type.Object({ count: Type.Integer(), sample: Type.Array(SampleProfile), text: Text, ms: Type.Integer({ description: 'time the count took' }) }), ...errors },
    },
  }, async (request) => {
    const { rule } = request.body as { rule: Rule };
    const ws = request.caller.workspaceId;
    const preview = await guarded(segments.preview(ws, rule));
    const names = new Map((await segments.list(ws)).map((s) => [s.id, s.name]));
    // The sample lists people: only for those who may list them, and recorded like an export.
    const listsPeople = can(request.caller.role, 'profiles.list');
    const sample = listsPeople ? await profiles.many(ws, preview.sample) : [];
    if (sample.length > 0) await auditCall(database.db, request.caller, { action: 'segment.preview', details: { sample: sample.length } });
    return {
      count: preview.count,
      sample: sample.map((p) => sampleOf(p, request.caller.role)),
      text: textOf(rule, names),
      ms: preview.ms,
    };
  });

  app.post('/api/segments/refresh', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['segments'],
      summary: 'Refresh every segment and computed tag of the workspace now, in dependency order',
      security,
      response: { 200: Type.Object({ sets: Type.Integer(), entered: Type.Integer(), exited: Type.Integer() }), ...errors },
    },
  }, async (request) => segments.refreshAll(request.caller.workspaceId));

  app.get('/api/segments/:id', {
    config: { access: 'segments.read' },
    schema: { tags: ['segments'], summary: 'A segment: rule, readable text, size, last refresh', security, params: IdParams, response: { 200: SegmentBody, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const ws = request.caller.workspaceId;
    const segment = await segments.get(ws, id);
    if (!segment) throw new ApiError('CUSTODIAN_NOT_FOUND', `no segment ${id}`, 'id');
    return withText(ws, segment);
  });

  app.patch('/api/segments/:id', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['segments'],
      summary: "Rename a segment or change its rule (then it is refilled at once)",
      security,
      params: IdParams,
      body: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])), rule: Type.Optional(RuleRef) }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: SegmentBody, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { name?: string; description?: string | null; rule?: Rule };
    const ws = request.caller.workspaceId;
    return withText(ws, await guarded(segments.update(ws, id, { ...body, ...(body.name ? { name: body.name.trim() } : {}) })));
  });

  app.delete('/api/segments/:id', {
    config: { access: 'segments.write' },
    schema: { tags: ['segments'], summary: 'Delete a segment (refused while another segment or tag reads it)', security, params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await guarded(segments.remove(request.caller.workspaceId, id));
    return reply.code(204).send();
  });

  app.post('/api/segments/:id/refresh', {
    config: { access: 'segments.write' },
    schema: { tags: ['segments'], summary: 'Recompute one segment from scratch now', security, params: IdParams, response: { 200: SegmentBody, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const ws = request.caller.workspaceId;
    return withText(ws, await guarded(segments.refresh(ws, id)));
  });

  app.get('/api/segments/:id/members', {
    config: { access: 'profiles.list' },
    schema: {
      tags: ['segments'],
      summary: 'Every member, streamed: one unified profile per line (ndjson) or a CSV with chosen fields',
      description:
        'CSV columns default to id, userId, email, phone, name, city, country, gender, tags, segments, createdAt, lastSeenAt; `fields` picks others (any trait or score name). Lists in a cell are joined with |. ' +
        "Fields of a class the caller's role does not see in the clear are masked (138****8000, z***@qq.com, 张*).",
      security,
      params: IdParams,
      querystring: Type.Object({
        format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { default: 'ndjson' })),
        fields: Type.Optional(Type.String({ maxLength: 2000, description: 'comma-separated CSV columns' })),
      }),
      response: { ...errors },
    },
  }, async (request, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const { format = 'ndjson', fields } = request.query as { format?: 'ndjson' | 'csv'; fields?: string };
    const ws = request.caller.workspaceId;
    const segment = await segments.get(ws, id);
    if (!segment) throw new ApiError('CUSTODIAN_NOT_FOUND', `no segment ${id}`, 'id');
    const columns = fields ? fields.split(',').map((f) => f.trim()).filter((f) => f !== '') : [...CSV_FIELDS];
    const role = request.caller.role;
    // Recorded before the first line leaves: a stream cannot fail once it has begun.
    await auditCall(database.db, request.caller, { action: 'segment.export', target: id, details: format === 'csv' ? { format, fields: columns } : { format } });
    async function* lines(): AsyncGenerator<string> {
      if (format === 'csv') yield `\ufeff${columns.map(csvCell).join(',')}\r\n`;
      let after: string | null = null;
      for (;;) {
        const ids = await segments.members(ws, id, after, 500);
        if (ids.length === 0) return;
        for (const p of await profiles.many(ws, ids)) {
          // Masked before a CSV cell is picked, so every column, chosen or default, follows the role.
          const shown = maskProfile(p, role);
          yield format === 'csv' ? `${csvRow(shown, columns)}\r\n` : `${JSON.stringify(shown)}\n`;
        }
        after = ids[ids.length - 1]!;
        if (ids.length < 500) return;
      }
    }
    const safeName = segment.name.replace(/[^\p{L}\p{N}_-]+/gu, '_');
    reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(`${safeName}.${format}`)}`);
    return reply.send(Readable.from(lines()));
  });

  app.get('/api/membership-changes', {
    config: { access: 'segments.read' },
    schema: {
      tags: ['segments'],
      summary: 'Entries into and exits from segments and tags, in order (what activation triggers read)',
      security,
      querystring: Type.Object({
        after: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'the last id already read' })),
        set: Type.Optional(Type.String({ maxLength: 100, description: 'a segment or tag id' })),
        profile: Type.Optional(Type.String({ format: 'uuid' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }),
      response: { 200: Type.Object({ changes: Type.Array(Change) }), ...errors },
    },
  }, async (request) => {
    const q = request.query as { after?: string; set?: string; profile?: string; limit?: number };
    return {
      changes: await segments.changes(request.caller.workspaceId, {
        limit: q.limit ?? 100,
        ...(q.after ? { after: q.after } : {}),
        ...(q.set ? { setId: q.set } : {}),
        ...(q.profile ? { profileId: q.profile } : {}),
      }),
    };
  });

  // ---------------------------------------------------------------- tags

  app.get('/api/tags', {
    config: { access: 'segments.read' },
    schema: { tags: ['tags'], summary: 'Every tag with how many profiles carry it', security, response: { 200: Type.Object({ tags: Type.Array(TagBody) }), ...errors } },
  }, async (request) => ({ tags: await tags.list(request.caller.workspaceId) }));

  app.post('/api/tags', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['tags'],
      summary: 'Create a tag: manual, or computed from a rule, cases (value of the first matching rule) or the top value of an event property',
      security,
      body: Type.Object({ name: Name, definition: TagDefinitionSchema }, { additionalProperties: false }),
      response: { 201: TagBody, ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string; definition: TagDefinition };
    const created: Tag = await guarded(tags.create(request.caller.workspaceId, { name: body.name.trim(), definition: body.definition }));
    return reply.code(201).send(created);
  });

  app.get('/api/tags/:id', {
    config: { access: 'segments.read' },
    schema: { tags: ['tags'], summary: 'A tag', security, params: IdParams, response: { 200: TagBody, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const tag = await tags.get(request.caller.workspaceId, id);
    if (!tag) throw new ApiError('CUSTODIAN_NOT_FOUND', `no tag ${id}`, 'id');
    return tag;
  });

  app.patch('/api/tags/:id', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['tags'],
      summary: 'Rename a tag or change its definition (a computed one is recomputed at once)',
      security,
      params: IdParams,
      body: Type.Object({ name: Type.Optional(Name), definition: Type.Optional(TagDefinitionSchema) }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: TagBody, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { name?: string; definition?: TagDefinition };
    return guarded(tags.update(request.caller.workspaceId, id, { ...body, ...(body.name ? { name: body.name.trim() } : {}) }));
  });

  app.delete('/api/tags/:id', {
    config: { access: 'segments.write' },
    schema: { tags: ['tags'], summary: 'Delete a tag and take it off every profile', security, params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await guarded(tags.remove(request.caller.workspaceId, id));
    return reply.code(204).send();
  });

  const Bulk = Type.Object({ changed: Type.Integer(), unknown: Type.Array(Type.String(), { description: 'ids that name no profile: nothing was done with them' }) });

  app.post('/api/tags/:id/profiles', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['tags'],
      summary: 'Put a manual tag on profiles: by id or every member of a segment; merged-away ids count as the profile they became',
      security,
      params: IdParams,
      body: Targets,
      response: { 200: Bulk, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const outcome = await guarded(tags.add(request.caller.workspaceId, id, request.body as { profileIds?: string[]; segment?: string }, request.caller.actor));
    return { changed: outcome.added, unknown: outcome.unknown };
  });

  app.post('/api/tags/:id/profiles/remove', {
    config: { access: 'segments.write' },
    schema: { tags: ['tags'], summary: 'Take a manual tag off profiles (by id or a segment)', security, params: IdParams, body: Targets, response: { 200: Bulk, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const outcome = await guarded(tags.removeFrom(request.caller.workspaceId, id, request.body as { profileIds?: string[]; segment?: string }));
    return { changed: outcome.removed, unknown: outcome.unknown };
  });

  app.post('/api/tags/:id/profiles/csv', {
    config: { access: 'segments.write' },
    schema: {
      tags: ['tags'],
      summary: 'Put a manual tag on the profiles listed in a CSV (text/csv body; the first column holds profile ids, a header row is skipped)',
      security,
      params: IdParams,
      consumes: ['text/csv'],
      response: { 200: Bulk, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    if (typeof request.body !== 'string') throw new ApiError('CUSTODIAN_INVALID_BODY', 'send the CSV as the body with content-type text/csv', 'body');
    const ids = csvFirstColumn(request.body);
    if (ids.length > 100_000) throw new ApiError('CUSTODIAN_INVALID_BODY', `the CSV lists ${ids.length} ids; send at most 100000 per request`, 'body');
    const outcome = await guarded(tags.add(request.caller.workspaceId, id, { profileIds: ids }, request.caller.actor));
    return { changed: outcome.added, unknown: outcome.unknown };
  });
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first cell of every line; a first line that is not an id is a header. */
export function csvFirstColumn(text: string): string[] {
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  const cells = lines.map((line) => line.split(',')[0]!.trim().replace(/^"(.*)"$/, '$1').trim()).filter((c) => c !== '');
  if (cells.length > 0 && !UUID.test(cells[0]!)) cells.shift();
  return cells;
}
