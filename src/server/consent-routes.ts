import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import {
  CONSENT_PURPOSES,
  LEGAL_BASES,
  consentHistory,
  currentConsents,
  isConsentPurpose,
  isLegalBasis,
  recordConsents,
  DEFAULT_LINK_DAYS,
  issueConsentLinks,
  revokeConsentLinks,
  type ConsentInput,
  type RecordOutcome,
} from '../privacy/consent.js';
import { appendAudit, type AuditInput } from '../privacy/audit-log.js';
import type { Keyring } from '../privacy/crypto.js';
import { refreshWorkspace, type Cause } from '../segments/membership.js';
import type { Database } from '../storage/database.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import { auditCall } from './audit-routes.js';
import { liveProfileId } from '../storage/live-profile.js';
import { ApiError } from './errors.js';

const errors = { '4xx': { $ref: 'Error#' } };
const security = [{ bearer: [] }];
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
// Grace for clocks a little ahead of ours; a choice further in the future would outrank every real one.
const FUTURE_SLACK_MS = 5 * 60_000;

const Current = Type.Object({
  granted: Type.Boolean(),
  at: Type.String({ format: 'date-time' }),
  legalBasis: Type.String(),
  source: Type.String(),
  textVersion: Type.Union([Type.String(), Type.Null()]),
});
const HistoryEntry = Type.Object({
  id: Type.String(),
  purpose: Type.String(),
  granted: Type.Boolean(),
  legalBasis: Type.String(),
  source: Type.String(),
  textVersion: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: 'date-time', description: 'when the person made the choice' }),
  recordedAt: Type.String({ format: 'date-time' }),
  messageId: Type.Union([Type.String(), Type.Null()], { description: 'the tracking message that carried it (context.consent)' }),
});
const ConsentsBody = Type.Object({
  profileId: Type.String({ description: 'the live profile (a merged-away id answers for the profile it became)' }),
  current: Type.Record(Type.String(), Current, { description: 'per purpose; no entry: no choice recorded' }),
  history: Type.Array(HistoryEntry, { description: 'the ledger, newest first (at most 1,000 entries)' }),
});

/**
 * Record consents and move the segment membership of the profiles concerned,
 * in one transaction under the workspace's profile lock: the same order the
 * pipeline follows, so a merge cannot slip between the two. `audit`, when
 * given, is appended in the same transaction if anything was recorded: a
 * change with no one to answer for it (a public page) is then never left
 * unrecorded.
 */
export async function applyConsents(database: Database, workspaceId: string, inputs: readonly ConsentInput[], cause: Cause, now = new Date(), audit?: Omit<AuditInput, 'workspaceId'>): Promise<RecordOutcome> {
  return database.db.transaction().execute(async (tx) => {
    await lockWorkspaceProfiles(tx, workspaceId);
    const outcome = await recordConsents(tx, workspaceId, inputs, now);
    if (outcome.profileIds.length > 0) await refreshWorkspace(tx, workspaceId, { now, profileIds: outcome.profileIds, cause });
    // Last, so the workspace's audit lock is held only until the commit.
    if (audit && outcome.recorded > 0) await appendAudit(tx, { ...audit, workspaceId });
    return outcome;
  });
}

export interface ConsentRoutesDeps {
  database: Database;
  keyring: Keyring;
}

export const consentRoutes: FastifyPluginAsync<ConsentRoutesDeps> = async (app, { database, keyring }) => {

  async function stateOf(workspaceId: string, profileId: string) {
    const [current, history] = await Promise.all([currentConsents(database.db, workspaceId, [profileId]), consentHistory(database.db, workspaceId, profileId)]);
    return {
      profileId,
      current: Object.fromEntries(
        Object.entries(current.get(profileId) ?? {}).map(([purpose, c]) => [purpose, { granted: c.granted, at: c.at.toISOString(), legalBasis: c.legalBasis, source: c.source, textVersion: c.textVersion }]),
      ),
      history: history.map((h) => ({ ...h, at: h.at.toISOString(), recordedAt: h.recordedAt.toISOString() })),
    };
  }

  async function profileOr404(workspaceId: string, id: string): Promise<string> {
    const live = await liveProfileId(database.db, workspaceId, id);
    if (!live) throw new ApiError('CUSTODIAN_NOT_FOUND', `no profile ${id}`, 'id');
    return live;
  }

  app.get('/api/profiles/:id/consents', {
    config: { access: 'profiles.read' },
    schema: {
      tags: ['consent'],
      summary: "A profile's consents: the current state per purpose and the whole ledger",
      security,
      params: IdParams,
      response: { 200: ConsentsBody, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const live = await profileOr404(request.caller.workspaceId, id);
    await auditCall(database.db, request.caller, { action: 'profile.read', profileId: live, details: live === id ? { part: 'consents' } : { part: 'consents', requested: id } });
    return stateOf(request.caller.workspaceId, live);
  });

  app.post('/api/profiles/:id/consents', {
    config: { access: 'profiles.write' },
    schema: {
      tags: ['consent'],
      summary: 'Record a consent given or withdrawn',
      description:
        'Appends to the ledger. It becomes the current state unless a choice made later (by `at`) is already recorded; at the same instant a withdrawal wins. ' +
        `Purposes: ${CONSENT_PURPOSES.join(', ')}. Legal bases: ${LEGAL_BASES.join(', ')}.`,
      security,
      params: IdParams,
      body: Type.Object(
        {
          purpose: Type.String({ description: CONSENT_PURPOSES.join(' | ') }),
          granted: Type.Boolean(),
          legalBasis: Type.String({ description: LEGAL_BASES.join(' | ') }),
          source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'where the choice was made (default api)' })),
          textVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the version of the consent text the person was shown' })),
          at: Type.Optional(Type.String({ format: 'date-time', description: 'when the person made the choice (default now)' })),
        },
        { additionalProperties: false },
      ),
      response: { 200: ConsentsBody, ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { purpose: string; granted: boolean; legalBasis: string; source?: string; textVersion?: string; at?: string };
    if (!isConsentPurpose(body.purpose)) throw new ApiError('CUSTODIAN_INVALID_FIELD', `purpose: ${body.purpose} is not a consent purpose; the purposes are ${CONSENT_PURPOSES.join(', ')}`, 'purpose');
    if (!isLegalBasis(body.legalBasis)) throw new ApiError('CUSTODIAN_INVALID_FIELD', `legalBasis: ${body.legalBasis} is not a legal basis; the bases are ${LEGAL_BASES.join(', ')}`, 'legalBasis');
    const now = new Date();
    const at = body.at === undefined ? now : new Date(body.at);
    if (Number.isNaN(at.getTime())) throw new ApiError('CUSTODIAN_INVALID_FIELD', 'at: not a date-time', 'at');
    if (at.getTime() > now.getTime() + FUTURE_SLACK_MS) throw new ApiError('CUSTODIAN_INVALID_FIELD', 'at: a choice cannot be made in the future', 'at');
    const workspaceId = request.caller.workspaceId;
    const profileId = await profileOr404(workspaceId, id);
    await applyConsents(database, workspaceId, [{ profileId, purpose: body.purpose, granted: body.granted, legalBasis: body.legalBasis, source: body.source ?? 'api', textVersion: body.textVersion ?? null, at, details: { actor: request.caller.actor } }], 'manual', now);
    await auditCall(database.db, request.caller, { action: 'consent.set', profileId, details: { purpose: body.purpose, granted: body.granted, legalBasis: body.legalBasis } });
    return stateOf(workspaceId, profileId);
  });

  app.post('/api/profiles/:id/consent-links', {
    config: { access: 'profiles.write' },
    schema: {
      tags: ['consent'],
      summary: 'Signed links for a profile: one-click unsubscribe from a purpose, and the preference centre',
      description: 'Paths to put in messages (prefix them with the public address of this server). The unsubscribe path also serves as the RFC 8058 List-Unsubscribe target.',
      security,
      params: IdParams,
      body: Type.Object(
        {
          purpose: Type.Optional(Type.String({ description: 'for the unsubscribe link (default email_marketing)' })),
          expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'both links; each kind\'s own setting below wins' })),
          unsubscribeExpiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: `default ${DEFAULT_LINK_DAYS.unsubscribe}: a one-click unsubscribe in an old message must still work` })),
          preferencesExpiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: `default ${DEFAULT_LINK_DAYS.preferences}` })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          profileId: Type.String(),
          unsubscribe: Type.String(),
          preferences: Type.String(),
          unsubscribeExpiresAt: Type.String({ format: 'date-time' }),
          preferencesExpiresAt: Type.String({ format: 'date-time' }),
          generation: Type.Integer({ description: 'revoking the profile\'s links moves it on; links of an older generation stop working' }),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as { purpose?: string; expiresInDays?: number; unsubscribeExpiresInDays?: number; preferencesExpiresInDays?: number };
    const purpose = body.purpose ?? 'email_marketing';
    if (!isConsentPurpose(purpose)) throw new ApiError('CUSTODIAN_INVALID_FIELD', `purpose: ${purpose} is not a consent purpose; the purposes are ${CONSENT_PURPOSES.join(', ')}`, 'purpose');
    const workspaceId = request.caller.workspaceId;
    const profileId = await profileOr404(workspaceId, id);
    const unsubscribeDays = body.unsubscribeExpiresInDays ?? body.expiresInDays;
    const preferencesDays = body.preferencesExpiresInDays ?? body.expiresInDays;
    const links = await issueConsentLinks(database.db, keyring, { workspaceId, profileId, purpose, ...(unsubscribeDays !== undefined ? { unsubscribeDays } : {}), ...(preferencesDays !== undefined ? { preferencesDays } : {}) });
    return {
      profileId,
      unsubscribe: `/u/${links.unsubscribe.token}`,
      preferences: `/preferences/${links.preferences.token}`,
      unsubscribeExpiresAt: links.unsubscribe.expires.toISOString(),
      preferencesExpiresAt: links.preferences.expires.toISOString(),
      generation: links.generation,
    };
  });

  app.post('/api/profiles/:id/consent-links/revoke', {
    config: { access: 'profiles.write' },
    schema: {
      tags: ['consent'],
      summary: "Revoke every consent link issued so far for a profile (and the profiles merged into it)",
      description: 'Unsubscribe and preference-centre links signed before this call answer with a page saying the link no longer works; links requested afterwards work. Nothing the person already chose is undone.',
      security,
      params: IdParams,
      response: { 200: Type.Object({ profileId: Type.String(), generation: Type.Integer({ description: 'the generation new links carry' }), revokedAt: Type.String({ format: 'date-time' }) }), ...errors },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const workspaceId = request.caller.workspaceId;
    const profileId = await profileOr404(workspaceId, id);
    const now = new Date();
    const generation = await revokeConsentLinks(database, workspaceId, profileId, now);
    await auditCall(database.db, request.caller, { action: 'consent.links_revoke', profileId, details: { generation } });
    return { profileId, generation, revokedAt: now.toISOString() };
  });
};
