import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { cleanContext, type CleanContext, type WorkspaceCleaning } from '../clean/settings.js';
import { cleanTraits, standardFieldOf } from '../clean/traits.js';
import { cleanContextFor } from '../collect/cleaning-settings.js';
import type { TrackingMessage } from '../collect/messages.js';
import { keysOfBatch } from '../identity/graph.js';
import { standardizeIdentity } from '../identity/identifiers.js';
import { identityIndex, profileStateOf, upsertProfiles } from '../identity/graph-store.js';
import { createProfileStore, type FieldHistoryEntry, type Profile, type TimelineEvent } from '../profiles/store.js';
import { refreshWorkspace } from '../segments/membership.js';
import { cleanMessage } from '../worker/clean-message.js';
import type { Database } from '../storage/database.js';
import type { Schema } from '../storage/schema.js';
import { scrubIds } from '../storage/erased-profiles.js';
import { liveProfileId, mergedProfileIds as withMerged } from '../storage/live-profile.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import { appendAudit } from './audit-log.js';
import type { Keyring } from './crypto.js';
import { addSuppressions, isSuppressed, type SuppressionEntry } from './suppression.js';

/**
 * Data-subject requests: access (GDPR Art. 15, CCPA right to know, PIPL
 * Art. 45), erasure (Art. 17, CCPA deletion, PIPL Art. 47), rectification
 * (Art. 16) and restriction (Art. 18). A request is recorded by the blind
 * index of the identifier it named, never the value, with its due date and
 * how the requester was verified. docs/dsar.md is the user-facing account.
 */

export const DSAR_TYPES = ['access', 'erase', 'rectify', 'restrict'] as const;
export type DsarType = (typeof DSAR_TYPES)[number];
export type DsarStatus = 'received' | 'in_progress' | 'done' | 'rejected';
export const IDENTIFIER_TYPES = ['email', 'phone', 'userId', 'anonymousId', 'profileId'] as const;
export type DsarIdentifierType = (typeof IDENTIFIER_TYPES)[number];

export interface DsarIdentifier {
  type: DsarIdentifierType;
  value: string;
}

export interface Verification {
  /** how the requester proved who they are: email_link, account_login, id_document… */
  method: string;
  /** who checked it */
  by: string;
  /** when; ISO */
  at: string;
  note?: string;
}

export interface DsarInput {
  type: DsarType;
  identifier: DsarIdentifier;
  verification?: Partial<Verification> | undefined;
  /** rectify: corrected trait values; null removes a trait */
  traits?: Record<string, unknown> | undefined;
  /** when the request reached the organisation, if before it was logged here; ISO */
  receivedAt?: string | undefined;
  actor: string;
}

export interface DsarRequest {
  id: string;
  type: DsarType;
  status: DsarStatus;
  identifierType: string;
  profileIds: string[];
  receivedAt: string;
  dueAt: string;
  completedAt: string | null;
  overdue: boolean;
  verification: Verification | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

/** Bad input, naming the field; status 404 when the identifier names nobody, 409 when the request's data is gone. */
export class DsarInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
  }
}

const DAY = 86_400_000;
/** GDPR Art. 12(3): one month; CCPA allows 45 days, PIPL sets none: the strictest wins. */
export const DUE_DAYS = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Identity types resolution owns: rectifying them would leave the identity graph linking the old value.
const IDENTITY_FIELDS = new Set(['email', 'phone']);

type Db = Kysely<Schema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A verification as given, checked; null when none was given. */
function checkVerification(v: Partial<Verification> | undefined, now: Date): Verification | null {
  if (v === undefined) return null;
  if (typeof v.method !== 'string' || v.method.trim() === '') throw new DsarInputError('verification.method', 'verification.method: say how the requester was verified (email_link, account_login, id_document…)');
  if (typeof v.by !== 'string' || v.by.trim() === '') throw new DsarInputError('verification.by', 'verification.by: name who verified the requester');
  let at = now.toISOString();
  if (v.at !== undefined) {
    const parsed = new Date(v.at);
    if (typeof v.at !== 'string' || Number.isNaN(parsed.getTime())) throw new DsarInputError('verification.at', 'verification.at is not a date-time');
    if (parsed.getTime() > now.getTime() + 60_000) throw new DsarInputError('verification.at', 'verification.at is in the future');
    at = parsed.toISOString();
  }
  return { method: v.method.trim(), by: v.by.trim(), at, ...(typeof v.note === 'string' && v.note !== '' ? { note: v.note } : {}) };
}

/** The person a request is about: the live profile and every profile merged into it. */
export interface Person {
  live: string;
  all: string[];
}

async function countriesOf(db: Db, workspaceId: string, now: Date): Promise<readonly string[]> {
  const row = await db.selectFrom('workspaces').select('settings').where('id', '=', workspaceId).executeTakeFirst();
  return cleanContext(((row?.settings as Record<string, unknown> | undefined)?.cleaning ?? {}) as WorkspaceCleaning, {}, now).countries;
}

/** The identifier's blind index as requests and suppressions store it: the one identities use. */
async function indexOf(db: Db, keyring: Keyring, workspaceId: string, identifier: DsarIdentifier, now: Date): Promise<Buffer> {
  if (identifier.type === 'profileId') {
    if (!UUID.test(identifier.value)) throw new DsarInputError('identifier.value', 'identifier.value is not a profile id (a UUID)');
    return keyring.blindIndex(workspaceId, 'profileId', identifier.value.toLowerCase());
  }
  // Standardized as cleaning does, so `ADA@Example.com ` finds the profile `ada@example.com` made.
  const value = standardizeIdentity(identifier.type, identifier.value, await countriesOf(db, workspaceId, now));
  if (value === null || value === '') throw new DsarInputError('identifier.value', `identifier.value is not a valid ${identifier.type}: it cannot be anyone's identifier`);
  return identityIndex(keyring, workspaceId, { type: identifier.type, value });
}

/** Find the person an identifier names; throws a 404 naming `identifier` when nobody holds it. */
export async function findPerson(db: Db, keyring: Keyring, workspaceId: string, identifier: DsarIdentifier, now = new Date()): Promise<{ person: Person; index: Buffer }> {
  const index = await indexOf(db, keyring, workspaceId, identifier, now);
  let holder: string | null = null;
  if (identifier.type === 'profileId') holder = identifier.value.toLowerCase();
  else {
    const row = await db.selectFrom('identities').select('profile_id').where('workspace_id', '=', workspaceId).where('value_index', '=', index).executeTakeFirst();
    holder = row?.profile_id ?? null;
  }
  const live = holder ? await liveProfileId(db, workspaceId, holder) : null;
  if (!live) {
    const erased = identifier.type !== 'profileId' && (await isSuppressed(db, workspaceId, identifier.type, index));
    throw new DsarInputError('identifier', erased ? 'identifier: this person was erased by an earlier request; nothing is held on them' : `identifier: no profile holds this ${identifier.type}`, 404);
  }
  return { person: { live, all: await withMerged(db, workspaceId, live) }, index };
}

function toRequest(r: { id: string; type: string; status: string; identifier_type: string; profile_ids: string[]; received_at: Date; due_at: Date; completed_at: Date | null; verification: Record<string, unknown> | null; result: Record<string, unknown> | null; error: string | null }, now: Date): DsarRequest {
  const open = r.status === 'received' || r.status === 'in_progress';
  return {
    id: r.id,
    type: r.type as DsarType,
    status: r.status as DsarStatus,
    identifierType: r.identifier_type,
    profileIds: r.profile_ids,
    receivedAt: r.received_at.toISOString(),
    dueAt: r.due_at.toISOString(),
    completedAt: r.completed_at?.toISOString() ?? null,
    overdue: open && r.due_at.getTime() < now.getTime(),
    verification: r.verification as Verification | null,
    result: r.result,
    error: r.error,
  };
}

export async function getRequest(db: Db, workspaceId: string, id: string, now = new Date()): Promise<DsarRequest | null> {
  if (!UUID.test(id)) return null;
  const row = await db.selectFrom('dsar_requests').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? toRequest(row, now) : null;
}

/** The queue: open requests first, soonest due first, then the rest newest first. */
export async function listRequests(db: Db, workspaceId: string, options: { status?: DsarStatus; limit: number }, now = new Date()): Promise<DsarRequest[]> {
  let q = db.selectFrom('dsar_requests').selectAll().where('workspace_id', '=', workspaceId);
  if (options.status) q = q.where('status', '=', options.status);
  const rows = await q
    .orderBy(sql`case when status in ('received', 'in_progress') then 0 else 1 end`)
    .orderBy(sql`case when status in ('received', 'in_progress') then due_at end`)
    .orderBy('received_at', 'desc')
    .limit(options.limit)
    .execute();
  return rows.map((r) => toRequest(r, now));
}

/**
 * Check, record and carry out a request. Access, erase, rectify and restrict
 * all finish in the call; the row records the outcome. If the work itself
 * fails (the database, not the input), the request is kept as `received`
 * with the error, so it stays in the queue with its due date.
 */
export async function submitRequest(database: Database, keyring: Keyring, workspaceId: string, input: DsarInput, now = new Date()): Promise<DsarRequest> {
  const { db } = database;
  if (!(DSAR_TYPES as readonly string[]).includes(input.type)) throw new DsarInputError('type', `type must be one of ${DSAR_TYPES.join(', ')}`);
  if (!isRecord(input.identifier) || !(IDENTIFIER_TYPES as readonly string[]).includes(input.identifier.type)) throw new DsarInputError('identifier.type', `identifier.type must be one of ${IDENTIFIER_TYPES.join(', ')}`);
  if (typeof input.identifier.value !== 'string' || input.identifier.value.trim() === '') throw new DsarInputError('identifier.value', 'identifier.value is required');
  const verification = checkVerification(input.verification, now);
  // Handing over or destroying someone's data on an unverified request is itself a breach.
  if (!verification && (input.type === 'access' || input.type === 'erase')) throw new DsarInputError('verification', `verification is required for ${input.type}: how the requester was verified (method), by whom (by), when (at)`);
  let receivedAt = now;
  if (input.receivedAt !== undefined) {
    receivedAt = new Date(input.receivedAt);
    if (Number.isNaN(receivedAt.getTime())) throw new DsarInputError('receivedAt', 'receivedAt is not a date-time');
    if (receivedAt.getTime() > now.getTime() + 60_000) throw new DsarInputError('receivedAt', 'receivedAt is in the future');
  }
  if (input.type === 'rectify') checkRectifyShape(input.traits);
  else if (input.traits !== undefined) throw new DsarInputError('traits', 'traits are given with rectify only');

  const { person, index } = await findPerson(db, keyring, workspaceId, input.identifier, now);
  const id = randomUUID();
  const row = {
    workspace_id: workspaceId,
    id,
    type: input.type,
    status: 'in_progress' as DsarStatus,
    identifier_type: input.identifier.type,
    identifier_index: index,
    profile_ids: person.all,
    received_at: receivedAt,
    due_at: new Date(receivedAt.getTime() + DUE_DAYS * DAY),
    verification: verification ? JSON.stringify(verification) : null,
    created_by: input.actor,
  };
  try {
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('dsar_requests').values(row).execute();
      const result = await carryOut(tx, keyring, workspaceId, id, input, now);
      await tx
        .updateTable('dsar_requests')
        .set({ status: 'done', completed_at: new Date(), result: JSON.stringify(result.counts), profile_ids: result.profileIds, audit_pending: true })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .execute();
    });
  } catch (error) {
    if (error instanceof DsarInputError) throw error;
    await db
      .insertInto('dsar_requests')
      .values({ ...row, status: 'received', error: (error instanceof Error ? error.message : String(error)).slice(0, 2000) })
      .onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing())
      .execute();
    throw error;
  }
  // Not in the request's transaction: appending holds the workspace's audit lock until commit, and an erasure
  // is long. The request committed as done with audit_pending set; this (or, after a crash here, the worker's
  // next sweep or the workspace's next request) appends its entry and clears the flag in one transaction.
  // A failure here must not answer 500 for a request that is done: the sweep records it within a minute.
  await appendPendingAudits(db, { workspaceId }).catch(() => 0);
  return (await getRequest(db, workspaceId, id, now))!;
}

/**
 * Append the audit entry of every done request still waiting for one
 * (audit_pending), oldest first, each in a short transaction of its own that
 * also clears the flag: a done request is recorded exactly once, however many
 * processes sweep at once. Returns how many were appended. Entries appended
 * late, after a failure, say when the request was completed.
 */
export async function appendPendingAudits(db: Db, scope: { workspaceId?: string } = {}): Promise<number> {
  let pending = db.selectFrom('dsar_requests').select(['workspace_id', 'id']).where('audit_pending', '=', true);
  if (scope.workspaceId !== undefined) pending = pending.where('workspace_id', '=', scope.workspaceId);
  let appended = 0;
  for (const { workspace_id: workspaceId, id } of await pending.orderBy('completed_at').execute()) {
    const done = await db.transaction().execute(async (tx) => {
      // The row lock, taken before the audit lock, lets one sweep append; another finds the flag cleared.
      const row = await tx
        .selectFrom('dsar_requests')
        .select(['type', 'profile_ids', 'result', 'created_by', 'completed_at'])
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .where('audit_pending', '=', true)
        .forUpdate()
        .executeTakeFirst();
      if (!row) return false;
      const first = row.profile_ids[0];
      const profileId = row.type === 'erase' || first === undefined ? null : await liveProfileId(tx, workspaceId, first);
      const late = row.completed_at !== null && Date.now() - row.completed_at.getTime() > 60_000;
      await appendAudit(tx, {
        workspaceId,
        actor: row.created_by ?? 'system',
        action: `dsar.${row.type}`,
        target: id,
        profileId,
        details: { counts: row.result ?? {}, ...(late ? { completedAt: row.completed_at!.toISOString() } : {}) },
      });
      await tx.updateTable('dsar_requests').set({ audit_pending: false }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
      return true;
    });
    if (done) appended += 1;
  }
  return appended;
}

async function carryOut(tx: Transaction<Schema>, keyring: Keyring, workspaceId: string, requestId: string, input: DsarInput, now: Date): Promise<{ counts: Record<string, number>; profileIds: string[] }> {
  // Merges, splits and the pipeline take this lock too: the person cannot change shape while we act on them.
  await lockWorkspaceProfiles(tx, workspaceId);
  const { person } = await findPerson(tx, keyring, workspaceId, input.identifier, now);
  switch (input.type) {
    case 'access':
      return { counts: await accessCounts(tx, workspaceId, person), profileIds: person.all };
    case 'erase':
      return { counts: await erasePerson(tx, keyring, workspaceId, person, requestId, now), profileIds: person.all };
    case 'rectify':
      return { counts: await rectify(tx, keyring, workspaceId, person, requestId, input.traits ?? {}, now), profileIds: person.all };
    case 'restrict':
      return { counts: await restrict(tx, workspaceId, person, requestId, now), profileIds: person.all };
  }
}

// ---------------------------------------------------------------- access

async function count(db: Db, table: 'events' | 'identities' | 'segment_members' | 'profile_tags' | 'profile_scores' | 'consent_events' | 'field_lineage', workspaceId: string, ids: readonly string[]): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('workspace_id', '=', workspaceId).where('profile_id', '=', sql<string>`any(${ids}::uuid[])`).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function accessCounts(tx: Db, workspaceId: string, person: Person): Promise<Record<string, number>> {
  const ids = person.all;
  return {
    profiles: ids.length,
    identities: await count(tx, 'identities', workspaceId, ids),
    events: await count(tx, 'events', workspaceId, ids),
    segments: await count(tx, 'segment_members', workspaceId, ids),
    tags: await count(tx, 'profile_tags', workspaceId, ids),
    scores: await count(tx, 'profile_scores', workspaceId, ids),
    consentEvents: await count(tx, 'consent_events', workspaceId, ids),
    lineage: await count(tx, 'field_lineage', workspaceId, ids),
  };
}

export interface Archive {
  request: { id: string; type: DsarType; receivedAt: string; dueAt: string; completedAt: string | null; generatedAt: string };
  profile: Omit<Profile, 'identities' | 'records'>;
  identities: Profile['identities'];
  sourceRecords: Profile['records'];
  events: TimelineEvent[];
  consents: {
    current: Array<{ purpose: string; granted: boolean; legalBasis: string; source: string; textVersion: string | null; at: string }>;
    history: Array<{ purpose: string; granted: boolean; legalBasis: string; source: string; textVersion: string | null; at: string; recordedAt: string; messageId: string | null }>;
  };
  segments: Array<{ id: string; name: string; enteredAt: string }>;
  membershipChanges: Array<{ kind: string; setId: string; change: string; value: string | null; cause: string; at: string }>;
  tags: Array<{ name: string; value: string; addedAt: string; addedBy: string | null }>;
  scores: Array<{ name: string; value: number | null; label: string | null; computedAt: string }>;
  merges: Array<{ from: string; into: string; reason: string; at: string; score: number | null; actor: string | null; undoneAt: string | null }>;
  lineage: FieldHistoryEntry[];
  /** every campaign that queued the person, and what happened to its message */
  campaigns: Array<{ campaignId: string; name: string; channel: string; arm: string; status: string; reason: string | null; couponCode: string | null; queuedAt: string; sentAt: string | null }>;
  coupons: Array<{ pool: string; code: string; issuedFor: string | null; issuedAt: string | null }>;
  restricted: boolean;
}

/**
 * Everything held on the person of an access request, decrypted, read now.
 * Generated on each download rather than stored: a stored archive would be
 * one more full copy of the person's data to encrypt, expire and erase, and
 * would go stale as soon as they send another event.
 */
export async function buildArchive(database: Database, keyring: Keyring, workspaceId: string, requestId: string, now = new Date()): Promise<Archive> {
  const { db } = database;
  const request = await getRequest(db, workspaceId, requestId, now);
  if (!request) throw new DsarInputError('id', `no request ${requestId}`, 404);
  if (request.type !== 'access') throw new DsarInputError('id', `request ${requestId} is ${request.type}, not access: only access requests have an archive`, 409);
  let live: string | null = null;
  for (const id of request.profileIds) if ((live = await liveProfileId(db, workspaceId, id))) break;
  if (!live) throw new DsarInputError('id', `the person of request ${requestId} is no longer held (erased or deleted since)`, 409);
  const ids = await withMerged(db, workspaceId, live);
  const store = createProfileStore(database, keyring);
  const profile = await store.get(workspaceId, live);
  if (!profile) throw new DsarInputError('id', `the person of request ${requestId} is no longer held`, 409);
  const events: TimelineEvent[] = [];
  for (let cursor: string | null = null; ; ) {
    const page = await store.events(workspaceId, live, 1000, cursor);
    events.push(...page.events);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const any = sql<string>`any(${ids}::uuid[])`;
  const [current, history, segments, changes, tags, scores, merges, restricted, campaigns, coupons] = await Promise.all([
    db.selectFrom('profile_consents').selectAll().where('workspace_id', '=', workspaceId).where('profile_id', '=', any).orderBy('purpose').execute(),
    db.selectFrom('consent_events').selectAll().where('workspace_id', '=', workspaceId).where('profile_id', '=', any).orderBy('at').execute(),
    db
      .selectFrom('segment_members as m')
      .innerJoin('segments as s', (j) => j.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'))
      .select(['s.id', 's.name', 'm.entered_at'])
      .where('m.workspace_id', '=', workspaceId)
      .where('m.profile_id', '=', any)
      .orderBy('s.name')
      .execute(),
    db.selectFrom('membership_changes').selectAll().where('workspace_id', '=', workspaceId).where('profile_id', '=', any).orderBy('at').execute(),
    db
      .selectFrom('profile_tags as pt')
      .innerJoin('tags as t', (j) => j.onRef('t.workspace_id', '=', 'pt.workspace_id').onRef('t.id', '=', 'pt.tag_id'))
      .select(['t.name', 'pt.value', 'pt.added_at', 'pt.added_by'])
      .where('pt.workspace_id', '=', workspaceId)
      .where('pt.profile_id', '=', any)
      .orderBy('t.name')
      .execute(),
    db.selectFrom('profile_scores').selectAll().where('workspace_id', '=', workspaceId).where('profile_id', '=', any).orderBy('name').execute(),
    db
      .selectFrom('profile_merges')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or([eb('from_profile', '=', any), eb('into_profile', '=', any)]))
      .orderBy('created_at')
      .execute(),
    db.selectFrom('restricted_profiles').select('profile_id').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst(),
    db
      .selectFrom('campaign_sends as s')
      .innerJoin('campaigns as c', (j) => j.onRef('c.workspace_id', '=', 's.workspace_id').onRef('c.id', '=', 's.campaign_id'))
      .select(['s.campaign_id', 'c.name', 'c.channel', 's.arm', 's.status', 's.reason', 's.coupon_code', 's.queued_at', 's.sent_at'])
      .where('s.workspace_id', '=', workspaceId)
      .where('s.profile_id', '=', any)
      .orderBy('s.queued_at')
      .execute(),
    db
      .selectFrom('coupons as k')
      .innerJoin('coupon_pools as p', (j) => j.onRef('p.workspace_id', '=', 'k.workspace_id').onRef('p.id', '=', 'k.pool_id'))
      .select(['p.name', 'k.code', 'k.issued_for', 'k.issued_at'])
      .where('k.workspace_id', '=', workspaceId)
      .where('k.profile_id', '=', any)
      .orderBy('k.issued_at')
      .execute(),
  ]);
  const { identities, records, ...rest } = profile;
  return {
    request: { id: request.id, type: request.type, receivedAt: request.receivedAt, dueAt: request.dueAt, completedAt: request.completedAt, generatedAt: now.toISOString() },
    profile: rest,
    identities,
    sourceRecords: records,
    events,
    consents: {
      current: current.map((c) => ({ purpose: c.purpose, granted: c.granted, legalBasis: c.legal_basis, source: c.source, textVersion: c.text_version, at: c.at.toISOString() })),
      history: history.map((c) => ({ purpose: c.purpose, granted: c.granted, legalBasis: c.legal_basis, source: c.source, textVersion: c.text_version, at: c.at.toISOString(), recordedAt: c.recorded_at.toISOString(), messageId: c.message_id })),
    },
    segments: segments.map((s) => ({ id: s.id, name: s.name, enteredAt: s.entered_at.toISOString() })),
    membershipChanges: changes.map((c) => ({ kind: c.kind, setId: c.set_id, change: c.change, value: c.value, cause: c.cause, at: c.at.toISOString() })),
    tags: tags.map((t) => ({ name: t.name, value: t.value, addedAt: t.added_at.toISOString(), addedBy: t.added_by })),
    scores: scores.map((s) => ({ name: s.name, value: s.value, label: s.label, computedAt: s.computed_at.toISOString() })),
    merges: merges.map((m) => ({ from: m.from_profile, into: m.into_profile, reason: m.reason, at: m.created_at.toISOString(), score: m.score, actor: m.actor, undoneAt: m.undone_at?.toISOString() ?? null })),
    lineage: await store.lineage(workspaceId, live, undefined, 100_000),
    campaigns: campaigns.map((c) => ({ campaignId: c.campaign_id, name: c.name, channel: c.channel, arm: c.arm, status: c.status, reason: c.reason, couponCode: c.coupon_code, queuedAt: c.queued_at.toISOString(), sentAt: c.sent_at?.toISOString() ?? null })),
    coupons: coupons.map((k) => ({ pool: k.name, code: k.code, issuedFor: k.issued_for, issuedAt: k.issued_at?.toISOString() ?? null })),
    restricted: restricted !== undefined,
  };
}

/** RFC 4180 quoting; text a spreadsheet would run as a formula (=, +, -, @) gets a leading apostrophe, as the other CSV exports do. */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csv(rows: readonly unknown[][]): string {
  // The BOM lets Excel read UTF-8 (Chinese names) without an import dialog.
  return '\ufeff' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** The archive's events as CSV: one row per event, properties and context as JSON cells. */
export function eventsCsv(archive: Archive): string {
  return csv([
    ['messageId', 'type', 'event', 'source', 'timestamp', 'receivedAt', 'userId', 'anonymousId', 'properties', 'context'],
    ...archive.events.map((e) => [e.messageId, e.type, e.event, e.source, e.timestamp, e.receivedAt, e.userId, e.anonymousId, e.properties, e.context]),
  ]);
}

/** The archive's traits as CSV, each with where its value came from. */
export function traitsCsv(archive: Archive): string {
  const p = archive.profile;
  return csv([
    ['trait', 'value', 'source', 'messageId', 'at', 'rule', 'derived'],
    ...Object.entries(p.traits).map(([key, value]) => {
      const o = p.provenance[key];
      return [key, value, o?.source, o?.messageId, o?.at, o?.rule, o?.derived ? 'true' : 'false'];
    }),
  ]);
}

// ---------------------------------------------------------------- erase

/**
 * Remove the person: everything keyed by their profile ids, every message they
 * sent (stored event, raw log copy, cleaning lineage; and those still in the
 * log unprocessed or set aside as dead letters), their examples in the
 * quality issue list and their entries in analytics reports; then suppress
 * each identifier they had. One transaction: all of it or none.
 */
async function erasePerson(tx: Transaction<Schema>, keyring: Keyring, workspaceId: string, person: Person, requestId: string, now: Date): Promise<Record<string, number>> {
  const ids = person.all;
  const any = sql<string>`any(${ids}::uuid[])`;
  const counts: Record<string, number> = {};
  const n = (r: { numDeletedRows?: bigint; numUpdatedRows?: bigint }) => Number(r.numDeletedRows ?? r.numUpdatedRows ?? 0n);
  const del = async (table: string, q: Promise<{ numDeletedRows: bigint }>) => {
    counts[table] = (counts[table] ?? 0) + n(await q);
  };

  const identities = await tx.selectFrom('identities').select(['type', 'value_index']).where('workspace_id', '=', workspaceId).where('profile_id', '=', any).execute();
  const suppress: SuppressionEntry[] = identities.map((i) => ({ type: i.type, valueIndex: i.value_index }));
  const messages = (await tx.selectFrom('events').select('message_id').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).execute()).map((r) => r.message_id);
  const anyMessage = sql<string>`any(${messages}::text[])`;
  const hexes = suppress.map((s) => Buffer.from(s.valueIndex).toString('hex'));

  await del('event_log', tx.deleteFrom('event_log').where('workspace_id', '=', workspaceId).where('message_id', '=', anyMessage).executeTakeFirst());
  const unprocessed = await unprocessedMessagesOf(tx, keyring, workspaceId, new Set(suppress.map((s) => `${s.type}:${Buffer.from(s.valueIndex).toString('hex')}`)), now);
  if (unprocessed.length > 0) await del('event_log', tx.deleteFrom('event_log').where('workspace_id', '=', workspaceId).where('message_id', 'in', unprocessed).executeTakeFirst());
  await del('events', tx.deleteFrom('events').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del(
    'field_lineage',
    tx
      .deleteFrom('field_lineage')
      .where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or([eb('profile_id', '=', any), eb('message_id', '=', anyMessage)]))
      .executeTakeFirst(),
  );
  await del('field_observations', tx.deleteFrom('field_observations').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('identities', tx.deleteFrom('identities').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del(
    'identity_conflicts',
    tx
      .deleteFrom('identity_conflicts')
      .where('workspace_id', '=', workspaceId)
      .where((eb) =>
        eb.or([
          sql<boolean>`profiles && ${ids}::uuid[]`,
          eb('message_id', '=', anyMessage),
          eb('value_index', 'in', sql<Uint8Array>`(select decode(h, 'hex') from unnest(${hexes}::text[]) as h)`),
        ]),
      )
      .executeTakeFirst(),
  );
  await del('profile_merges', tx.deleteFrom('profile_merges').where('workspace_id', '=', workspaceId).where((eb) => eb.or([eb('from_profile', '=', any), eb('into_profile', '=', any)])).executeTakeFirst());
  await del('identity_reviews', tx.deleteFrom('identity_reviews').where('workspace_id', '=', workspaceId).where((eb) => eb.or([eb('profile_a', '=', any), eb('profile_b', '=', any)])).executeTakeFirst());
  await del('identity_exclusions', tx.deleteFrom('identity_exclusions').where('workspace_id', '=', workspaceId).where((eb) => eb.or([eb('profile_a', '=', any), eb('profile_b', '=', any)])).executeTakeFirst());
  const segmentIds = (await tx.selectFrom('segment_members').select('segment_id').distinct().where('workspace_id', '=', workspaceId).where('profile_id', '=', any).execute()).map((r) => r.segment_id);
  await del('segment_members', tx.deleteFrom('segment_members').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  if (segmentIds.length > 0) {
    // The size is kept alongside membership: a member removed here would otherwise still be counted.
    await tx
      .updateTable('segments')
      .set({ size: sql<number>`(select count(*) from segment_members m where m.workspace_id = segments.workspace_id and m.segment_id = segments.id)` })
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', segmentIds)
      .execute();
  }
  await del('membership_changes', tx.deleteFrom('membership_changes').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('profile_tags', tx.deleteFrom('profile_tags').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('profile_scores', tx.deleteFrom('profile_scores').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('consent_events', tx.deleteFrom('consent_events').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('profile_consents', tx.deleteFrom('profile_consents').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('restricted_profiles', tx.deleteFrom('restricted_profiles').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('consent_link_generations', tx.deleteFrom('consent_link_generations').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  // Activation: what was (or was to be) sent to them goes, and nothing queued is sent after this commits.
  await del('campaign_sends', tx.deleteFrom('campaign_sends').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('send_attempts', tx.deleteFrom('send_attempts').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('journey_entries', tx.deleteFrom('journey_entries').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('journey_steps', tx.deleteFrom('journey_steps').where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  // A coupon given out stays used (issued_at kept), but no longer names its holder.
  counts.coupons = n(await tx.updateTable('coupons').set({ profile_id: null }).where('workspace_id', '=', workspaceId).where('profile_id', '=', any).executeTakeFirst());
  await del('profiles', tx.deleteFrom('profiles').where('workspace_id', '=', workspaceId).where('id', '=', any).executeTakeFirst());
  counts.quality_issues = await scrubQualityExamples(tx, keyring, workspaceId, new Set(messages));
  counts.analytics_runs = await scrubAnalytics(tx, workspaceId, ids);
  counts.suppressions = await addSuppressions(tx, workspaceId, suppress, requestId, now);
  return counts;
}

const LOG_PAGE = 500;

/**
 * The person's messages still in the log that never became events: set aside
 * by the worker after failing (dead letters) or not processed yet. Each is
 * decrypted and its identifiers standardized as the pipeline would (cleaned
 * with its source's settings, and as sent, in case cleaning is what fails on
 * it), then matched by blind index against `indexes` (`type:hex`). Rows a
 * pipeline batch has locked are skipped rather than waited for: that batch
 * waits for this erasure's profile lock and then drops them as suppressed
 * (waiting here would deadlock with it); dead-lettering checks suppressions
 * under the same lock, so none of them can be set aside unerased either.
 */
async function unprocessedMessagesOf(tx: Transaction<Schema>, keyring: Keyring, workspaceId: string, indexes: ReadonlySet<string>, now: Date): Promise<string[]> {
  if (indexes.size === 0) return [];
  // Matching, not resolving: a value the blocklist ignores cannot be among the person's identities anyway.
  const everything: JunkIdFilter = { isJunk: () => false };
  const contexts = new Map<string, CleanContext>();
  const found: string[] = [];
  for (const unprocessed of [sql<boolean>`processed_at is null`, sql<boolean>`error is not null`]) {
    for (let after = '0'; ; ) {
      const rows = await tx
        .selectFrom('event_log')
        .select(['seq', 'message_id', 'source_id', 'payload'])
        .where('workspace_id', '=', workspaceId)
        .where(unprocessed)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(LOG_PAGE)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        let message: TrackingMessage;
        try {
          message = keyring.decryptJson<TrackingMessage>(row.payload);
        } catch {
          continue;
        }
        const keys = keysOfBatch([{ message, sourceId: row.source_id }], everything);
        try {
          let context = contexts.get(row.source_id);
          if (!context) contexts.set(row.source_id, (context = await cleanContextFor(tx, workspaceId, row.source_id, now)));
          keys.push(...keysOfBatch([{ message: cleanMessage(message, context).message, sourceId: row.source_id }], everything));
        } catch {
          // Unreadable to cleaning (perhaps why it was set aside): the identifiers as sent must do.
        }
        if (keys.some((k) => indexes.has(`${k.type}:${identityIndex(keyring, workspaceId, k).toString('hex')}`))) found.push(row.message_id);
      }
      if (rows.length < LOG_PAGE) break;
      after = rows[rows.length - 1]!.seq;
    }
  }
  return found;
}

/** Drop the person's values from the issue list's examples (sealed copies of refused values). Returns the rows changed. */
async function scrubQualityExamples(tx: Transaction<Schema>, keyring: Keyring, workspaceId: string, messages: ReadonlySet<string>): Promise<number> {
  if (messages.size === 0) return 0;
  // Decrypted here rather than in SQL: the examples are sealed. The list is a few rows per source and field.
  const rows = await tx.selectFrom('quality_issues').select(['source_id', 'field', 'code', 'examples']).where('workspace_id', '=', workspaceId).where('examples', 'is not', null).execute();
  let changed = 0;
  for (const row of rows) {
    const examples = keyring.decryptJson<Array<{ messageId?: string }>>(row.examples!);
    const kept = examples.filter((e) => !(e.messageId && messages.has(e.messageId)));
    if (kept.length === examples.length) continue;
    await tx
      .updateTable('quality_issues')
      .set({ examples: kept.length > 0 ? keyring.encryptJson(workspaceId, kept) : null })
      .where('workspace_id', '=', workspaceId)
      .where('source_id', '=', row.source_id)
      .where('field', '=', row.field)
      .where('code', '=', row.code)
      .execute();
    changed += 1;
  }
  return changed;
}

async function scrubAnalytics(tx: Transaction<Schema>, workspaceId: string, ids: readonly string[]): Promise<number> {
  const idSet = new Set(ids);
  const patterns = ids.map((id) => `%${id}%`);
  let changed = 0;
  const runs = await tx.selectFrom('analytics_runs').select(['id', 'result']).where('workspace_id', '=', workspaceId).where(sql<boolean>`result::text like any(${patterns}::text[])`).execute();
  for (const run of runs) {
    await tx.updateTable('analytics_runs').set({ result: JSON.stringify(scrubIds(run.result, idSet).value) }).where('workspace_id', '=', workspaceId).where('id', '=', run.id).execute();
    changed += 1;
  }
  const models = await tx
    .selectFrom('analytics_models')
    .select(['id', 'artefact', 'report'])
    .where('workspace_id', '=', workspaceId)
    .where(sql<boolean>`(artefact::text like any(${patterns}::text[]) or report::text like any(${patterns}::text[]))`)
    .execute();
  for (const model of models) {
    await tx
      .updateTable('analytics_models')
      .set({ artefact: JSON.stringify(scrubIds(model.artefact, idSet).value), report: JSON.stringify(scrubIds(model.report, idSet).value) })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', model.id)
      .execute();
    changed += 1;
  }
  return changed;
}

// ---------------------------------------------------------------- rectify and restrict

function checkRectifyShape(traits: unknown): asserts traits is Record<string, unknown> {
  if (!isRecord(traits) || Object.keys(traits).length === 0) throw new DsarInputError('traits', 'traits: give the corrected values, e.g. {"name": "Ada Lovelace"} (null removes a trait)');
  for (const key of Object.keys(traits)) {
    if (key.trim() === '' || key.length > 200) throw new DsarInputError(`traits.${key}`, `traits.${key}: not a trait name`);
    const field = standardFieldOf(key);
    if (field && IDENTITY_FIELDS.has(field)) {
      throw new DsarInputError(`traits.${key}`, `traits.${key}: ${field} is an identifier that links profiles; send the corrected value from its source (identify), and erase the old one if it must go`);
    }
  }
}

/**
 * Correct traits on the live profile, cleaned as any source's values are, with
 * provenance naming the request. A later message from a source still wins
 * under the workspace's survivorship rules: the source must be corrected too.
 */
async function rectify(tx: Transaction<Schema>, keyring: Keyring, workspaceId: string, person: Person, requestId: string, traits: Record<string, unknown>, now: Date): Promise<Record<string, number>> {
  const row = await tx.selectFrom('profiles').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', person.live).executeTakeFirstOrThrow();
  const state = profileStateOf(keyring, row);
  const given = Object.fromEntries(Object.entries(traits).filter(([, v]) => v !== null));
  const cleaned = cleanTraits(given, cleanContext({ countries: [...(await countriesOf(tx, workspaceId, now))] }, {}, now));
  const refused = cleaned.lineage.find((l) => l.kind === 'refused');
  if (refused) throw new DsarInputError(`traits.${refused.field}`, `traits.${refused.field}: ${refused.reason ?? refused.issue ?? 'refused by cleaning'}`);
  let removed = 0;
  for (const [key, value] of Object.entries(traits)) {
    if (value !== null) continue;
    if (key in state.traits) removed += 1;
    delete state.traits[key];
    delete state.provenance[key];
  }
  const origin = { s: 'dsar', m: `dsar:${requestId}`, t: now.toISOString() };
  for (const [key, value] of Object.entries(cleaned.traits)) {
    state.traits[key] = value;
    state.provenance[key] = origin;
  }
  state.updatedAt = now;
  await upsertProfiles(tx, keyring, workspaceId, [state]);
  await refreshWorkspace(tx, workspaceId, { now, profileIds: [person.live], cause: 'manual' });
  return { traitsSet: Object.keys(cleaned.traits).length, traitsRemoved: removed };
}

/**
 * Mark the person restricted (Art. 18): their data stays, but segments, computed tags, the profile
 * export and per-person analytics leave them out (storage/restricted-profiles.ts). They leave their
 * segments and computed tags now, not at the next refresh.
 */
async function restrict(tx: Transaction<Schema>, workspaceId: string, person: Person, requestId: string, now: Date): Promise<Record<string, number>> {
  const result = await tx
    .insertInto('restricted_profiles')
    .values({ workspace_id: workspaceId, profile_id: person.live, request_id: requestId, created_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'profile_id']).doNothing())
    .executeTakeFirst();
  await refreshWorkspace(tx, workspaceId, { now, profileIds: [person.live], cause: 'manual' });
  return { restricted: Number(result.numInsertedOrUpdatedRows ?? 0) };
}

export { isRestricted } from '../storage/restricted-profiles.js';

export interface LiftInput {
  /** why the restriction ends (the accuracy was verified, the objection decided…); kept with the request and in the audit log */
  reason: string;
  /** Art. 18(3): the person was told before the restriction is lifted */
  informed: boolean;
  actor: string;
}

/**
 * Lift the restriction a restrict request made: the person (followed through merges since) is used
 * again, and re-enters the segments and computed tags they now match. The request keeps its result,
 * with `lifted`, `liftedAt` and the reason added; the audit log records `dsar.lift`.
 */
export async function liftRestriction(database: Database, workspaceId: string, requestId: string, input: LiftInput, now = new Date()): Promise<DsarRequest> {
  const { db } = database;
  if (typeof input.reason !== 'string' || input.reason.trim() === '') throw new DsarInputError('reason', 'reason: say why the restriction ends (the accuracy was verified, the objection was decided…)');
  if (input.informed !== true) throw new DsarInputError('informed', 'informed: the person must be told before their restriction is lifted (GDPR Art. 18(3)); send informed: true once they have been');
  const request = await getRequest(db, workspaceId, requestId, now);
  if (!request) throw new DsarInputError('id', `no request ${requestId}`, 404);
  if (request.type !== 'restrict') throw new DsarInputError('id', `request ${requestId} is ${request.type}, not restrict: only a restriction can be lifted`, 409);
  await db.transaction().execute(async (tx) => {
    // The pipeline and merges take this lock too: the person cannot change shape while they go back into segments.
    await lockWorkspaceProfiles(tx, workspaceId);
    let live: string | null = null;
    for (const id of request.profileIds) if ((live = await liveProfileId(tx, workspaceId, id))) break;
    if (!live) throw new DsarInputError('id', `the person of request ${requestId} is no longer held (erased or deleted since)`, 409);
    const ids = await withMerged(tx, workspaceId, live);
    const gone = await tx.deleteFrom('restricted_profiles').where('workspace_id', '=', workspaceId).where('profile_id', '=', sql<string>`any(${ids}::uuid[])`).executeTakeFirst();
    const lifted = Number(gone.numDeletedRows);
    if (lifted === 0) throw new DsarInputError('id', `the person of request ${requestId} is not restricted now (lifted already)`, 409);
    const reason = input.reason.trim().slice(0, 500);
    await tx
      .updateTable('dsar_requests')
      .set({ result: JSON.stringify({ ...(request.result ?? {}), lifted, liftedAt: now.toISOString(), liftReason: reason }) })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', requestId)
      .execute();
    const moved = await refreshWorkspace(tx, workspaceId, { now, profileIds: [live], cause: 'manual' });
    // In the transaction, after the profile lock as reapplyErasures does: a lift is short, and one unrecorded cannot happen.
    await appendAudit(tx, { workspaceId, actor: input.actor, action: 'dsar.lift', target: requestId, profileId: live, details: { lifted, membershipEntries: moved.entered, reason } });
  });
  return (await getRequest(db, workspaceId, requestId, now))!;
}

// ---------------------------------------------------------------- after a restore

/** The erasures on record, every workspace's: what restoring an older backup must not undo. Small: a row per erased identifier and per request. */
export interface ErasureRecord {
  suppressions: unknown;
  requests: unknown;
}

export async function erasuresOnRecord(db: Db): Promise<ErasureRecord> {
  const { rows } = await sql<{ suppressions: unknown; requests: unknown }>`
    select (select coalesce(jsonb_agg(to_jsonb(s)), '[]'::jsonb) from suppressions s) as suppressions,
      (select coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) from dsar_requests r) as requests`.execute(db);
  return rows[0]!;
}

/**
 * Put the erasures back after a restore: the requests and suppression
 * entries the backup lacks return, and everyone the restored data holds
 * under a suppressed identifier is erased again. Returns how many people.
 */
export async function reapplyErasures(database: Database, keyring: Keyring, record: ErasureRecord, now = new Date()): Promise<number> {
  const { db } = database;
  await sql`insert into dsar_requests select * from jsonb_populate_recordset(null::dsar_requests, ${JSON.stringify(record.requests)}::jsonb) on conflict do nothing`.execute(db);
  await sql`insert into suppressions select * from jsonb_populate_recordset(null::suppressions, ${JSON.stringify(record.suppressions)}::jsonb) on conflict do nothing`.execute(db);
  const { rows } = await sql<{ workspace_id: string; profile_id: string; request_id: string }>`
    select distinct i.workspace_id, i.profile_id::text as profile_id, s.request_id
    from identities i join suppressions s on s.workspace_id = i.workspace_id and s.type = i.type and s.value_index = i.value_index`.execute(db);
  let erased = 0;
  for (const row of rows) {
    await db.transaction().execute(async (tx) => {
      await lockWorkspaceProfiles(tx, row.workspace_id);
      const live = await liveProfileId(tx, row.workspace_id, row.profile_id);
      // An earlier row of this loop may have erased the same person already.
      if (live === null) return;
      await erasePerson(tx, keyring, row.workspace_id, { live, all: await withMerged(tx, row.workspace_id, live) }, row.request_id, now);
      await appendAudit(tx, { workspaceId: row.workspace_id, actor: 'cli', action: 'dsar.erase', target: row.request_id, details: { reapplied: 'after restore' } });
      erased += 1;
    });
  }
  return erased;
}
