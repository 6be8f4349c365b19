import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { recommendationsFor } from '../analytics/recommender-run.js';
import { CHANNELS } from '../activate/adapter.js';
import { CAMPAIGN_STATUSES, type Campaign, type CampaignStatus } from '../activate/campaign.js';
import {
  archiveCampaign,
  createCampaign,
  deleteCampaign,
  getCampaign,
  launchCampaign,
  listCampaigns,
  pauseCampaign,
  sendCounts,
  stopCampaign,
  updateCampaign,
  type CampaignInput,
} from '../activate/campaigns-store.js';
import { compileTemplate, renderTemplate } from '../activate/template.js';
import { can } from '../privacy/access.js';
import { CONSENT_PURPOSES, consentState } from '../privacy/consent.js';
import type { Keyring } from '../privacy/crypto.js';
import { joinClasses } from '../privacy/field-catalog.js';
import { maskFields } from '../privacy/mask.js';
import type { Database } from '../storage/database.js';
import { liveProfileId, mergedProfileIds } from '../storage/live-profile.js';
import { auditCall } from './audit-routes.js';
import { ActivationError } from '../activate/activation-error.js';
import { ApiError, refusalGuard } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));

const PropertyCondition = Type.Object(
  {
    property: Type.String({ minLength: 1, maxLength: 200 }),
    op: literals(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains']),
    value: Type.Optional(Type.Unknown({ description: 'a string, number or boolean' })),
  },
  { additionalProperties: false },
);
const Trigger = Type.Union([
  Type.Object({ on: Type.Literal('segment_entered'), segmentId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
  Type.Object({ on: Type.Literal('event'), event: Type.String({ minLength: 1, maxLength: 200 }), where: Type.Optional(Type.Array(PropertyCondition, { maxItems: 20 })) }, { additionalProperties: false }),
]);
const Schedule = Type.Union(
  [
    Type.Object({ kind: Type.Literal('once'), at: Type.Optional(Type.String({ format: 'date-time', description: 'when to take the audience; now if absent' })) }, { additionalProperties: false }),
    Type.Object({ kind: Type.Literal('recurring'), everyHours: Type.Number({ minimum: 1, maximum: 8760 }), until: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false }),
    Type.Object(
      {
        kind: Type.Literal('triggered'),
        trigger: Trigger,
        waitMinutes: Type.Integer({ minimum: 0, maximum: 525_600 }),
        condition: Type.Optional(
          Type.Object(
            {
              rule: Type.Optional(Type.Ref('SegmentRule', { description: 'the person matches this rule when the wait is over' })),
              notPerformed: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the person has not done this event since the trigger' })),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'once: the segment at `at`; recurring: every `everyHours`, new members only; triggered: see docs/triggers.md' },
);
const Template = Type.Object(
  {
    subject: Type.Optional(Type.String({ maxLength: 1000 })),
    body: Type.String({ maxLength: 20_000, description: 'text with {{traits.first_name | fallback}}, {{coupon}}, {{recommendations}}, {{unsubscribe_url}} placeholders' }),
    wechatTemplateId: Type.Optional(Type.String({ maxLength: 200 })),
    wechatData: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 2000 }))),
    recommendations: Type.Optional(Type.Integer({ minimum: 1, maximum: 9, description: 'how many products {{recommendations}} lists (3)' })),
  },
  { additionalProperties: false },
);
const FrequencyCap = Type.Object({ max: Type.Integer({ minimum: 1, maximum: 1000 }), days: Type.Number({ exclusiveMinimum: 0, maximum: 365 }) }, { additionalProperties: false, description: 'at most `max` messages per person within `days`, across all campaigns' });
const QuietHours = Type.Object(
  {
    start: Type.String({ pattern: '^\\d{2}:\\d{2}$' }),
    end: Type.String({ pattern: '^\\d{2}:\\d{2}$' }),
    timezone: Type.String({ minLength: 1, maxLength: 64, description: "IANA zone for people without a valid `timezone` trait, e.g. Asia/Shanghai" }),
  },
  { additionalProperties: false, description: 'messages due in this window wait until it ends, in the person’s local time' },
);
const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  channel: literals(CHANNELS),
  purpose: Type.Optional(literals(CONSENT_PURPOSES)),
  segmentId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  destinationId: Type.String({ minLength: 1, maxLength: 100 }),
  controlPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 50, description: 'share of the audience held out as the control group' })),
  template: Template,
  couponPoolId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  schedule: Schedule,
  frequencyCap: Type.Optional(Nullable(FrequencyCap)),
  quietHours: Type.Optional(Nullable(QuietHours)),
  attributionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })),
  costPerMessage: Type.Optional(Type.Number({ minimum: 0 })),
  fixedCost: Type.Optional(Type.Number({ minimum: 0 })),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
};
const CampaignCreate = Type.Object(fields, { additionalProperties: false });
const CampaignPatch = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });
const CampaignBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: literals(CAMPAIGN_STATUSES),
  channel: literals(CHANNELS),
  purpose: Type.String({ description: 'the consent each person must have granted' }),
  segmentId: Nullable(Type.String()),
  destinationId: Type.String(),
  controlPercent: Type.Number(),
  template: Template,
  couponPoolId: Nullable(Type.String()),
  schedule: Schedule,
  frequencyCap: Nullable(FrequencyCap),
  quietHours: Nullable(QuietHours),
  attributionDays: Type.Integer(),
  costPerMessage: Type.Number(),
  fixedCost: Type.Number(),
  currency: Type.String(),
  nextRunAt: Nullable(Type.String({ format: 'date-time' })),
  lastRunAt: Nullable(Type.String({ format: 'date-time' })),
  sends: Type.Record(Type.String(), Type.Integer(), { description: 'outbox rows per status: pending, sending, sent, failed, skipped, control' }),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Send = Type.Object({
  profileId: Type.String(),
  arm: literals(['treatment', 'control']),
  status: Type.String(),
  reason: Nullable(Type.String()),
  attempts: Type.Integer(),
  couponCode: Nullable(Type.String()),
  queuedAt: Type.String({ format: 'date-time' }),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  lastError: Nullable(Type.String()),
});

export interface CampaignRoutesDeps {
  database: Database;
  keyring: Keyring;
}

const guarded = refusalGuard(ActivationError);

function bodyOf(c: Campaign, sends: Record<string, number> = {}) {
  const { workspaceId: _ws, nextRunAt, lastRunAt, createdAt, updatedAt, ...rest } = c;
  return { ...rest, nextRunAt: nextRunAt?.toISOString() ?? null, lastRunAt: lastRunAt?.toISOString() ?? null, sends, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() };
}

export const campaignRoutes: FastifyPluginAsync<CampaignRoutesDeps> = async (app, { database, keyring }) => {
  const db = database.db;
  const withCounts = async (ws: string, c: Campaign) => bodyOf(c, (await sendCounts(db, ws, [c.id])).get(c.id) ?? {});

  app.get('/api/campaigns', {
    config: { access: 'campaigns.read' },
    schema: {
      tags: ['campaigns'],
      summary: 'Campaigns, newest first (archived ones only when asked for by status)',
      security,
      querystring: Type.Object({ status: Type.Optional(literals(CAMPAIGN_STATUSES)), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ campaigns: Type.Array(CampaignBody) }), ...errors },
    },
  }, async (request) => {
    const q = request.query as { status?: CampaignStatus; limit?: number };
    const ws = request.caller.workspaceId;
    const list = await listCampaigns(db, ws, { ...(q.status ? { status: q.status } : {}), limit: q.limit ?? 100 });
    const counts = await sendCounts(db, ws, list.map((c) => c.id));
    return { campaigns: list.map((c) => bodyOf(c, counts.get(c.id) ?? {})) };
  });

  app.post('/api/campaigns', {
    config: { access: 'campaigns.write' },
    schema: {
      tags: ['campaigns'],
      summary: 'Create a campaign as a draft (POST /api/campaigns/{id}/launch starts it)',
      description: 'The template, schedule, segment, destination and coupon pool are checked here and again at launch. See docs/campaigns.md.',
      security,
      body: CampaignCreate,
      response: { 201: CampaignBody, ...errors },
    },
  }, async (request, reply) => {
    const ws = request.caller.workspaceId;
    const created = await guarded(createCampaign(db, ws, request.body as CampaignInput, request.caller.actor));
    await auditCall(db, request.caller, { action: 'campaign.create', target: created.id, details: { name: created.name, channel: created.channel } });
    return reply.code(201).send(bodyOf(created));
  });

  app.get('/api/campaigns/:id', {
    config: { access: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'One campaign, with its outbox counts', security, params: IdParams, response: { 200: CampaignBody, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const ws = request.caller.workspaceId;
    const campaign = await getCampaign(db, ws, id);
    if (!campaign) throw new ApiError('CUSTODIAN_NOT_FOUND', `no campaign ${id}`, 'id');
    return withCounts(ws, campaign);
  });

  app.patch('/api/campaigns/:id', {
    config: { access: 'campaigns.write' },
    schema: { tags: ['campaigns'], summary: 'Change a draft or paused campaign', security, params: IdParams, body: CampaignPatch, response: { 200: CampaignBody, ...errors } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const ws = request.caller.workspaceId;
    const patch = request.body as Partial<CampaignInput>;
    const updated = await guarded(updateCampaign(db, ws, id, patch));
    await auditCall(db, request.caller, { action: 'campaign.update', target: id, details: { fields: Object.keys(patch) } });
    return withCounts(ws, updated);
  });

  app.delete('/api/campaigns/:id', {
    config: { access: 'campaigns.write' },
    schema: { tags: ['campaigns'], summary: 'Delete a draft (a campaign that ran is archived instead)', security, params: IdParams, response: { 204: Type.Null(), ...errors } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await guarded(deleteCampaign(db, request.caller.workspaceId, id));
    await auditCall(db, request.caller, { action: 'campaign.delete', target: id });
    return reply.code(204).send();
  });

  const transitions = [
    ['launch', launchCampaign, 'Launch a draft or resume a paused campaign: checked again in full; a once campaign takes its audience at `schedule.at` or now'],
    ['pause', pauseCampaign, 'Pause: nothing more is sent until it is launched again; what is queued stays queued'],
    ['stop', stopCampaign, 'Stop for good: what is still queued is skipped (campaign_stopped) and the campaign is done'],
    ['archive', archiveCampaign, 'Archive a done campaign (or a draft): hidden from the list, its report kept'],
  ] as const;
  for (const [verb, apply, summary] of transitions) {
    app.post(`/api/campaigns/:id/${verb}`, {
      config: { access: 'campaigns.write' },
      schema: { tags: ['campaigns'], summary, security, params: IdParams, response: { 200: CampaignBody, ...errors } },
    }, async (request) => {
      const { id } = request.params as { id: string };
      const ws = request.caller.workspaceId;
      const changed = await guarded(apply(db, ws, id));
      await auditCall(db, request.caller, { action: `campaign.${verb}`, target: id });
      return withCounts(ws, changed);
    });
  }

  app.get('/api/campaigns/:id/sends', {
    config: { access: 'campaigns.read' },
    schema: {
      tags: ['campaigns'],
      summary: "A campaign's outbox: who was queued, sent, skipped (and why) or failed",
      description: 'Pseudonymous profile ids only. Page with `after` (the last profileId of the previous page).',
      security,
      params: IdParams,
      querystring: Type.Object(
        {
          status: Type.Optional(literals(['pending', 'sending', 'sent', 'failed', 'skipped', 'control'])),
          after: Type.Optional(Type.String({ format: 'uuid' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ sends: Type.Array(Send), next: Nullable(Type.String()) }), ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as { status?: string; after?: string; limit?: number };
    const ws = request.caller.workspaceId;
    if (!(await getCampaign(db, ws, id))) throw new ApiError('CUSTODIAN_NOT_FOUND', `no campaign ${id}`, 'id');
    const limit = q.limit ?? 100;
    let query = db.selectFrom('campaign_sends').selectAll().where('workspace_id', '=', ws).where('campaign_id', '=', id);
    if (q.status) query = query.where('status', '=', q.status as 'sent');
    if (q.after) query = query.where('profile_id', '>', q.after);
    const rows = await query.orderBy('profile_id').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    return {
      sends: page.map((r) => ({
        profileId: r.profile_id,
        arm: r.arm,
        status: r.status,
        reason: r.reason,
        attempts: r.attempts,
        couponCode: r.coupon_code,
        queuedAt: r.queued_at.toISOString(),
        sentAt: r.sent_at?.toISOString() ?? null,
        lastError: r.last_error,
      })),
      next: rows.length > limit ? page[page.length - 1]!.profile_id : null,
    };
  });

  app.post('/api/campaigns/:id/preview', {
    config: { access: 'campaigns.read' },
    schema: {
      tags: ['campaigns'],
      summary: 'Render the message for a few people of the audience (or the given profiles), without sending',
      description:
        'Needs profiles.list as well, since it shows people. Traits are masked as the caller’s role requires; the coupon shows as a placeholder (none is given out) and links as placeholders. `consent` says whether the person could be sent it now.',
      security,
      params: IdParams,
      body: Type.Object({ profileIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 20 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          previews: Type.Array(
            Type.Object({
              profileId: Type.String(),
              subject: Nullable(Type.String()),
              body: Type.String(),
              consent: literals(['granted', 'withdrawn', 'unknown']),
            }),
          ),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as { profileIds?: string[]; limit?: number };
    const ws = request.caller.workspaceId;
    if (!can(request.caller.role, 'profiles.list')) throw new ApiError('CUSTODIAN_FORBIDDEN', 'a preview shows people: it needs the profiles.list permission as well');
    const campaign = await getCampaign(db, ws, id);
    if (!campaign) throw new ApiError('CUSTODIAN_NOT_FOUND', `no campaign ${id}`, 'id');
    let ids: string[];
    if (body.profileIds && body.profileIds.length > 0) {
      ids = [];
      for (const given of body.profileIds) {
        const live = await liveProfileId(db, ws, given);
        if (live) ids.push(live);
      }
    } else if (campaign.segmentId) {
      ids = (await db.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', ws).where('segment_id', '=', campaign.segmentId).orderBy('profile_id').limit(body.limit ?? 5).execute()).map((r) => r.profile_id);
    } else ids = [];
    ids = [...new Set(ids)];
    if (ids.length === 0) return { previews: [] };
    const compile = (text: string) => {
      const c = compileTemplate(text);
      if (!c.ok) throw new ApiError('CUSTODIAN_INVALID_FIELD', c.issues.map((i) => i.message).join('; '), 'template');
      return c.template;
    };
    const bodyTemplate = compile(campaign.template.body);
    const subjectTemplate = campaign.template.subject ? compile(campaign.template.subject) : null;
    const [profiles, consents, recommended] = await Promise.all([
      db.selectFrom('profiles').select(['id', 'traits', 'secret_traits']).where('workspace_id', '=', ws).where('id', '=', sql<string>`any(${ids}::uuid[])`).execute(),
      consentState(db, ws, ids, campaign.purpose),
      recommendationsFor(db, ws, ids, Math.max(1, Math.min(9, campaign.template.recommendations ?? 3))),
    ]);
    const previews = profiles.map((p) => {
      const traits = maskFields(joinClasses(p.traits, p.secret_traits ? keyring.decryptJson<Record<string, unknown>>(p.secret_traits) : null), request.caller.role);
      const vars = {
        traits,
        profileId: p.id,
        coupon: campaign.couponPoolId ? '[coupon]' : null,
        recommendations: recommended.get(p.id) ?? [],
        unsubscribeUrl: '[unsubscribe link]',
        preferencesUrl: '[preferences link]',
        campaignName: campaign.name,
      };
      return { profileId: p.id, subject: subjectTemplate ? renderTemplate(subjectTemplate, vars) : null, body: renderTemplate(bodyTemplate, vars), consent: consents.get(p.id)?.state ?? 'unknown' };
    });
    await auditCall(db, request.caller, { action: 'campaign.preview', target: id, details: { people: previews.length } });
    return { previews };
  });

  app.get('/api/profiles/:id/campaigns', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['campaigns', 'profiles'],
      summary: "A person's campaign history: every campaign that queued them (or a profile merged into them), and what happened",
      security,
      params: IdParams,
      response: {
        200: Type.Object({
          profileId: Type.String(),
          campaigns: Type.Array(
            Type.Object({
              campaignId: Type.String(),
              name: Type.String(),
              channel: Type.String(),
              arm: Type.String(),
              status: Type.String(),
              reason: Nullable(Type.String()),
              couponCode: Nullable(Type.String()),
              queuedAt: Type.String({ format: 'date-time' }),
              sentAt: Nullable(Type.String({ format: 'date-time' })),
            }),
          ),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const ws = request.caller.workspaceId;
    const live = /^[0-9a-f-]{36}$/i.test(id) ? await liveProfileId(db, ws, id) : null;
    if (!live) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    const all = await mergedProfileIds(db, ws, live);
    const rows = await db
      .selectFrom('campaign_sends as s')
      .innerJoin('campaigns as c', (j) => j.onRef('c.workspace_id', '=', 's.workspace_id').onRef('c.id', '=', 's.campaign_id'))
      .select(['s.campaign_id', 'c.name', 'c.channel', 's.arm', 's.status', 's.reason', 's.coupon_code', 's.queued_at', 's.sent_at'])
      .where('s.workspace_id', '=', ws)
      .where('s.profile_id', '=', sql<string>`any(${all}::uuid[])`)
      .orderBy('s.queued_at', 'desc')
      .limit(500)
      .execute();
    await auditCall(db, request.caller, { action: 'profile.read', profileId: live, details: { part: 'campaigns' } });
    return {
      profileId: live,
      campaigns: rows.map((r) => ({
        campaignId: r.campaign_id,
        name: r.name,
        channel: r.channel,
        arm: r.arm,
        status: r.status,
        reason: r.reason,
        couponCode: r.coupon_code,
        queuedAt: r.queued_at.toISOString(),
        sentAt: r.sent_at?.toISOString() ?? null,
      })),
    };
  });
};
