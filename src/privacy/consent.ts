import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { CONSENT_PURPOSES, LEGAL_BASES, type ConsentPurpose, type LegalBasis, type Schema } from '../storage/schema.js';
import type { Database } from '../storage/database.js';
import { mergedProfileIds } from '../storage/live-profile.js';
import { lockWorkspaceProfiles } from '../storage/workspace-lock.js';
import type { Keyring } from './crypto.js';

/**
 * The consent ledger (consent_events) and the current state it implies
 * (profile_consents), kept in step in the same statement order everywhere:
 * append to the ledger, then let an entry replace the current state only if
 * it is newer. docs/consent.md is the user-facing description.
 */

export { CONSENT_PURPOSES, LEGAL_BASES, type ConsentPurpose, type LegalBasis };

export function isConsentPurpose(value: unknown): value is ConsentPurpose {
  return typeof value === 'string' && (CONSENT_PURPOSES as readonly string[]).includes(value);
}

export function isLegalBasis(value: unknown): value is LegalBasis {
  return typeof value === 'string' && (LEGAL_BASES as readonly string[]).includes(value);
}

/** One consent given or withdrawn, as any path (ingest, API, link, page) hands it in. */
export interface ConsentInput {
  profileId: string;
  purpose: ConsentPurpose;
  granted: boolean;
  legalBasis: LegalBasis;
  source: string;
  textVersion?: string | null;
  /** when the person gave or withdrew it */
  at: Date;
  messageId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Does `a` replace `b` as the current state? The later one does; at the same
 * instant a withdrawal beats a grant, so a tie can never lose an opt-out.
 */
export function supersedes(a: { at: Date; granted: boolean }, b: { at: Date; granted: boolean }): boolean {
  const d = a.at.getTime() - b.at.getTime();
  return d > 0 || (d === 0 && !a.granted && b.granted);
}

// The same rule in SQL, for upserts where `excluded` is the incoming row.
const NEWER = sql<boolean>`excluded.at > profile_consents.at or (excluded.at = profile_consents.at and profile_consents.granted and not excluded.granted)`;

// ---------------------------------------------------------------- Segment's Consent Management

/**
 * Category names consent managers put in `context.consent.categoryPreferences`,
 * compared lower-cased with everything but letters and digits dropped
 * ("Email Marketing", "email-marketing" and "email_marketing" are one key).
 * C0002–C0004 are OneTrust's default category ids. Strictly necessary and
 * social-media categories name no purpose of ours and are ignored.
 */
const CATEGORY_PURPOSES: ReadonlyMap<string, ConsentPurpose> = new Map([
  ...CONSENT_PURPOSES.map((p): [string, ConsentPurpose] => [categoryKey(p), p]),
  ['email', 'email_marketing'],
  ['emails', 'email_marketing'],
  ['newsletter', 'email_marketing'],
  ['sms', 'sms_marketing'],
  ['textmessages', 'sms_marketing'],
  ['personalisation', 'personalization'],
  ['functional', 'personalization'],
  ['preferences', 'personalization'],
  ['c0003', 'personalization'],
  ['performance', 'analytics'],
  ['statistics', 'analytics'],
  ['measurement', 'analytics'],
  ['c0002', 'analytics'],
  ['advertising', 'third_party_sharing'],
  ['targeting', 'third_party_sharing'],
  ['saleofinfo', 'third_party_sharing'],
  ['datasharing', 'third_party_sharing'],
  ['c0004', 'third_party_sharing'],
]);

function categoryKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The purpose a consent-manager category stands for, or null when it names none of ours. */
export function purposeOfCategory(category: string): ConsentPurpose | null {
  return CATEGORY_PURPOSES.get(categoryKey(category)) ?? null;
}

/**
 * The purposes a `categoryPreferences` object speaks for. Two categories of
 * one purpose that disagree (advertising: true, targeting: false) count as a
 * withdrawal: an opt-out anywhere is an opt-out. Non-boolean values say nothing.
 */
export function purposesOfCategoryPreferences(preferences: unknown): Array<{ purpose: ConsentPurpose; granted: boolean; categories: string[] }> {
  if (typeof preferences !== 'object' || preferences === null || Array.isArray(preferences)) return [];
  const out = new Map<ConsentPurpose, { purpose: ConsentPurpose; granted: boolean; categories: string[] }>();
  for (const [category, value] of Object.entries(preferences)) {
    if (typeof value !== 'boolean') continue;
    const purpose = purposeOfCategory(category);
    if (!purpose) continue;
    const seen = out.get(purpose);
    if (seen) {
      seen.granted = seen.granted && value;
      seen.categories.push(category);
    } else out.set(purpose, { purpose, granted: value, categories: [category] });
  }
  return [...out.values()];
}

/** What a tracking message says about consent, for its profile: legal basis consent, at the message's time. */
export function consentsOfMessage(message: { messageId: string; timestamp: string; receivedAt?: string; context?: Record<string, unknown> }, profileId: string, sourceId: string): ConsentInput[] {
  const consent = message.context?.consent;
  if (typeof consent !== 'object' || consent === null) return [];
  const stated = new Date(message.timestamp);
  if (Number.isNaN(stated.getTime())) return [];
  // A client may date a message in the future; a choice dated there would outrank every later withdrawal,
  // so it counts from no later than its arrival.
  const arrived = message.receivedAt ? new Date(message.receivedAt).getTime() : Number.NaN;
  const at = Number.isNaN(arrived) ? stated : new Date(Math.min(stated.getTime(), arrived + FUTURE_SLACK_MS));
  return purposesOfCategoryPreferences((consent as { categoryPreferences?: unknown }).categoryPreferences).map((p) => ({
    profileId,
    purpose: p.purpose,
    granted: p.granted,
    legalBasis: 'consent',
    source: sourceId,
    at,
    messageId: message.messageId,
    details: { categories: p.categories },
  }));
}

/** Clock differences a message time may show beyond its arrival. */
const FUTURE_SLACK_MS = 5 * 60_000;

// ---------------------------------------------------------------- the ledger

type Db = Kysely<Schema>;

export interface RecordOutcome {
  /** ledger entries written (a message seen before writes none) */
  recorded: number;
  /** the live profiles the entries went to: their segment membership may have changed */
  profileIds: string[];
  /** profile ids of the input that name no profile of the workspace */
  unknownProfiles: string[];
}

/**
 * Append consents to the ledger and bring the current state up to date. A
 * merged-away profile id records on the profile it became. Call inside the
 * transaction that holds the workspace's profile lock, so a merge cannot move
 * the profile between the look-up and the write.
 */
export async function recordConsents(db: Db, workspaceId: string, inputs: readonly ConsentInput[], now = new Date()): Promise<RecordOutcome> {
  if (inputs.length === 0) return { recorded: 0, profileIds: [], unknownProfiles: [] };
  const ids = [...new Set(inputs.map((i) => i.profileId))];
  const rows = await db.selectFrom('profiles').select(['id', 'merged_into']).where('workspace_id', '=', workspaceId).where('id', 'in', ids).execute();
  const live = new Map(rows.map((r) => [r.id, r.merged_into ?? r.id]));
  const entries = inputs
    .filter((i) => live.has(i.profileId))
    .map((i) => ({
      workspace_id: workspaceId,
      id: randomUUID(),
      profile_id: live.get(i.profileId)!,
      purpose: i.purpose,
      granted: i.granted,
      legal_basis: i.legalBasis,
      source: i.source,
      text_version: i.textVersion ?? null,
      at: i.at,
      recorded_at: now,
      message_id: i.messageId ?? null,
      details: JSON.stringify(i.details ?? {}),
    }));
  const unknownProfiles = ids.filter((id) => !live.has(id));
  if (entries.length === 0) return { recorded: 0, profileIds: [], unknownProfiles };
  const written = await db.insertInto('consent_events').values(entries).onConflict((oc) => oc.doNothing()).returning(['id']).execute();
  const kept = new Set(written.map((w) => w.id));
  // One row per (profile, purpose) in the upsert: a statement cannot touch a row twice.
  const winners = new Map<string, (typeof entries)[number]>();
  for (const e of entries) {
    if (!kept.has(e.id)) continue;
    const key = `${e.profile_id}\u0000${e.purpose}`;
    const seen = winners.get(key);
    if (!seen || supersedes(e, seen)) winners.set(key, e);
  }
  if (winners.size > 0) {
    await db
      .insertInto('profile_consents')
      .values(
        [...winners.values()].map((e) => ({
          workspace_id: workspaceId,
          profile_id: e.profile_id,
          purpose: e.purpose,
          granted: e.granted,
          legal_basis: e.legal_basis,
          source: e.source,
          text_version: e.text_version,
          at: e.at,
          event_id: e.id,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['workspace_id', 'profile_id', 'purpose']).doUpdateSet(upsertColumns).where(NEWER))
      .execute();
  }
  return { recorded: kept.size, profileIds: [...new Set([...winners.values()].map((e) => e.profile_id))], unknownProfiles };
}

const upsertColumns = {
  granted: sql<boolean>`excluded.granted`,
  legal_basis: sql<LegalBasis>`excluded.legal_basis`,
  source: sql<string>`excluded.source`,
  text_version: sql<string | null>`excluded.text_version`,
  at: sql<Date>`excluded.at`,
  event_id: sql<string>`excluded.event_id`,
  updated_at: sql<Date>`excluded.updated_at`,
};

/**
 * A merge: the loser's ledger entries and current state go to the survivor.
 * Where both had a state for a purpose the newer one stays, a withdrawal
 * winning a tie; every entry of both histories is kept.
 */
export async function moveConsents(tx: Transaction<Schema>, workspaceId: string, from: string, into: string): Promise<void> {
  await tx.updateTable('consent_events').set({ profile_id: into }).where('workspace_id', '=', workspaceId).where('profile_id', '=', from).execute();
  await sql`
    insert into profile_consents (workspace_id, profile_id, purpose, granted, legal_basis, source, text_version, at, event_id, updated_at)
    select workspace_id, ${into}::uuid, purpose, granted, legal_basis, source, text_version, at, event_id, ${new Date()}::timestamptz
    from profile_consents where workspace_id = ${workspaceId} and profile_id = ${from}::uuid
    on conflict (workspace_id, profile_id, purpose) do update set
      granted = excluded.granted, legal_basis = excluded.legal_basis, source = excluded.source, text_version = excluded.text_version,
      at = excluded.at, event_id = excluded.event_id, updated_at = excluded.updated_at
    where ${NEWER}`.execute(tx);
  await tx.deleteFrom('profile_consents').where('workspace_id', '=', workspaceId).where('profile_id', '=', from).execute();
}

export interface CurrentConsent {
  granted: boolean;
  at: Date;
  legalBasis: LegalBasis;
  source: string;
  textVersion: string | null;
}

/** The current state of each given profile, purpose by purpose; purposes never recorded are absent. */
export async function currentConsents(db: Db, workspaceId: string, profileIds: readonly string[]): Promise<Map<string, Partial<Record<ConsentPurpose, CurrentConsent>>>> {
  const out = new Map<string, Partial<Record<ConsentPurpose, CurrentConsent>>>();
  if (profileIds.length === 0) return out;
  const rows = await db
    .selectFrom('profile_consents')
    .select(['profile_id', 'purpose', 'granted', 'at', 'legal_basis', 'source', 'text_version'])
    .where('workspace_id', '=', workspaceId)
    .where('profile_id', 'in', [...profileIds])
    .orderBy('purpose')
    .execute();
  for (const r of rows) {
    const byPurpose = out.get(r.profile_id) ?? {};
    byPurpose[r.purpose] = { granted: r.granted, at: r.at, legalBasis: r.legal_basis, source: r.source, textVersion: r.text_version };
    out.set(r.profile_id, byPurpose);
  }
  return out;
}

export interface ConsentHistoryEntry {
  id: string;
  purpose: ConsentPurpose;
  granted: boolean;
  legalBasis: LegalBasis;
  source: string;
  textVersion: string | null;
  at: Date;
  recordedAt: Date;
  messageId: string | null;
}

/** A profile's ledger, newest first (by when the person acted, then by when it was recorded). */
export async function consentHistory(db: Db, workspaceId: string, profileId: string, limit = 1000): Promise<ConsentHistoryEntry[]> {
  const rows = await db
    .selectFrom('consent_events')
    .select(['id', 'purpose', 'granted', 'legal_basis', 'source', 'text_version', 'at', 'recorded_at', 'message_id'])
    .where('workspace_id', '=', workspaceId)
    .where('profile_id', '=', profileId)
    .orderBy('at', 'desc')
    .orderBy('recorded_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, purpose: r.purpose, granted: r.granted, legalBasis: r.legal_basis, source: r.source, textVersion: r.text_version, at: r.at, recordedAt: r.recorded_at, messageId: r.message_id }));
}

export type ConsentStatus = 'granted' | 'withdrawn' | 'unknown';

export interface ConsentState {
  state: ConsentStatus;
  at: Date | null;
  legalBasis: LegalBasis | null;
}

/**
 * What activation asks before it contacts or shares: the state of one purpose
 * for each given profile id (a merged-away id answers for the profile it
 * became; an id of no profile is unknown). Only `granted` permits sending.
 */
export async function consentState(db: Db, workspaceId: string, profileIds: readonly string[], purpose: ConsentPurpose): Promise<Map<string, ConsentState>> {
  const out = new Map<string, ConsentState>(profileIds.map((id) => [id, { state: 'unknown', at: null, legalBasis: null }]));
  if (profileIds.length === 0) return out;
  const ids = [...new Set(profileIds)].filter((id) => UUID.test(id));
  if (ids.length === 0) return out;
  // From the id list outward, so each id is two index probes: a campaign asks for 1,000 people at a time.
  const { rows } = await sql<{ id: string; granted: boolean | null; at: Date | null; legal_basis: LegalBasis | null }>`
    select q.id::text as id, c.granted, c.at, c.legal_basis
    from unnest(${ids}::uuid[]) as q(id)
    join profiles p on p.workspace_id = ${workspaceId} and p.id = q.id
    left join profile_consents c on c.workspace_id = ${workspaceId} and c.purpose = ${purpose} and c.profile_id = coalesce(p.merged_into, p.id)`.execute(db);
  for (const r of rows) {
    if (r.granted === null || r.at === null) continue;
    out.set(r.id, { state: r.granted ? 'granted' : 'withdrawn', at: r.at, legalBasis: r.legal_basis });
  }
  return out;
}

// ---------------------------------------------------------------- signed links

export type LinkKind = 'unsubscribe' | 'preferences';

export interface LinkClaims {
  kind: LinkKind;
  workspaceId: string;
  profileId: string;
  /** the purpose an unsubscribe link withdraws; none on a preference-centre link */
  purpose: ConsentPurpose | null;
  expires: Date | null;
  /** the profile's link generation when signed (0 for links signed before revocation existed): revoking moves it on */
  generation: number;
}

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'kind' };

// Version 1 links (no generation) are still in people's mailboxes: they are read as generation 0.
const LINK_VERSION = 2;
const KIND_CODES: Record<LinkKind, number> = { unsubscribe: 1, preferences: 2 };
const NO_PURPOSE = 255;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// version, kind, purpose, expiry (u32 seconds), profile uuid, then (version 2) the generation (u32); the workspace id follows.
const V1_HEAD_BYTES = 1 + 1 + 1 + 4 + 16;
const HEAD_BYTES = V1_HEAD_BYTES + 4;
const MAC_BYTES = 32;
/** The longest token accepted: room for a workspace id of some 1,400 bytes. The router's parameter limit follows it (server/app.ts). */
export const MAX_LINK_TOKEN_LENGTH = 2048;
/** How long a link works unless the request says otherwise: a one-click unsubscribe in an old e-mail must still work; the preference centre shows the person's choices, so its links are short-lived. */
export const DEFAULT_LINK_DAYS: Readonly<Record<LinkKind, number>> = { unsubscribe: 365, preferences: 30 };

/**
 * The link key, derived from the blind-index key under its own label: a leaked
 * link key forges links and nothing else. The index key is kept through data-
 * and master-key rotations (data-keys.ts), so links already sent keep working.
 */
function linkKey(keyring: Keyring): Buffer {
  return keyring.blindIndex('custodian', 'signed-link v1');
}

function sign(keyring: Keyring, claims: LinkClaims): string {
  if (!UUID.test(claims.profileId)) throw new RangeError(`not a profile id: ${claims.profileId}`);
  const expires = claims.expires === null ? 0 : Math.ceil(claims.expires.getTime() / 1000);
  if (!Number.isInteger(expires) || expires < 0 || expires > 0xffffffff) throw new RangeError('expires is out of range');
  if (!Number.isInteger(claims.generation) || claims.generation < 0 || claims.generation > 0xffffffff) throw new RangeError('generation is out of range');
  const workspace = Buffer.from(claims.workspaceId, 'utf8');
  const payload = Buffer.alloc(HEAD_BYTES + workspace.length);
  payload[0] = LINK_VERSION;
  payload[1] = KIND_CODES[claims.kind];
  payload[2] = claims.purpose === null ? NO_PURPOSE : CONSENT_PURPOSES.indexOf(claims.purpose);
  payload.writeUInt32BE(expires, 3);
  Buffer.from(claims.profileId.replace(/-/g, ''), 'hex').copy(payload, 7);
  payload.writeUInt32BE(claims.generation, V1_HEAD_BYTES);
  workspace.copy(payload, HEAD_BYTES);
  const mac = createHmac('sha256', linkKey(keyring)).update(payload).digest();
  return `${payload.toString('base64url')}.${mac.toString('base64url')}`;
}

/** A one-click unsubscribe link's token: it withdraws one purpose for one profile, and nothing else. */
export function signUnsubscribe(keyring: Keyring, claims: { workspaceId: string; profileId: string; purpose: ConsentPurpose; expires?: Date; generation?: number }): string {
  return sign(keyring, { kind: 'unsubscribe', workspaceId: claims.workspaceId, profileId: claims.profileId, purpose: claims.purpose, expires: claims.expires ?? null, generation: claims.generation ?? 0 });
}

/** A preference-centre link's token: it reads and changes every purpose of one profile. */
export function signPreferences(keyring: Keyring, claims: { workspaceId: string; profileId: string; expires?: Date; generation?: number }): string {
  return sign(keyring, { kind: 'preferences', workspaceId: claims.workspaceId, profileId: claims.profileId, purpose: null, expires: claims.expires ?? null, generation: claims.generation ?? 0 });
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Check a token: its signature first, so nothing of a forged token is read; then its kind and expiry. */
export function verifyLink(keyring: Keyring, token: string, kind: LinkKind, now = new Date()): LinkCheck {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > MAX_LINK_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const [body, tag] = [token.slice(0, dot), token.slice(dot + 1)];
  if (!BASE64URL.test(body) || !BASE64URL.test(tag)) return { ok: false, reason: 'malformed' };
  const payload = Buffer.from(body, 'base64url');
  const mac = Buffer.from(tag, 'base64url');
  if (payload.length < V1_HEAD_BYTES + 1 || mac.length !== MAC_BYTES) return { ok: false, reason: 'malformed' };
  const expected = createHmac('sha256', linkKey(keyring)).update(payload).digest();
  if (!timingSafeEqual(mac, expected)) return { ok: false, reason: 'signature' };
  const head = payload[0] === LINK_VERSION ? HEAD_BYTES : payload[0] === 1 ? V1_HEAD_BYTES : null;
  if (head === null || payload.length < head + 1) return { ok: false, reason: 'malformed' };
  const kindCode = payload[1];
  const linkKind = (Object.keys(KIND_CODES) as LinkKind[]).find((k) => KIND_CODES[k] === kindCode);
  if (linkKind !== kind) return { ok: false, reason: 'kind' };
  const purposeCode = payload[2]!;
  const purpose = purposeCode === NO_PURPOSE ? null : (CONSENT_PURPOSES[purposeCode] ?? null);
  if (linkKind === 'unsubscribe' && purpose === null) return { ok: false, reason: 'malformed' };
  const seconds = payload.readUInt32BE(3);
  const expires = seconds === 0 ? null : new Date(seconds * 1000);
  if (expires !== null && expires.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  const hex = payload.subarray(7, 23).toString('hex');
  const profileId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const generation = head === HEAD_BYTES ? payload.readUInt32BE(V1_HEAD_BYTES) : 0;
  return { ok: true, claims: { kind: linkKind, workspaceId: payload.subarray(head).toString('utf8'), profileId, purpose, expires, generation } };
}

/** A profile's link generation: 0 until its links are first revoked. */
export async function linkGeneration(db: Db, workspaceId: string, profileId: string): Promise<number> {
  const row = await db.selectFrom('consent_link_generations').select('generation').where('workspace_id', '=', workspaceId).where('profile_id', '=', profileId).executeTakeFirst();
  return row?.generation ?? 0;
}

/**
 * Has the link been revoked? Its generation is compared with that of the
 * profile it was signed for, which may since have been merged away: revoking
 * moves on every profile merged into the person, so their old links go too.
 */
export async function isLinkRevoked(db: Db, claims: Pick<LinkClaims, 'workspaceId' | 'profileId' | 'generation'>): Promise<boolean> {
  return claims.generation < (await linkGeneration(db, claims.workspaceId, claims.profileId));
}

export interface IssuedLinks {
  profileId: string;
  generation: number;
  unsubscribe: { token: string; expires: Date };
  preferences: { token: string; expires: Date };
}

/** Sign both links for a live profile at its current generation, each expiring after its days (DEFAULT_LINK_DAYS unless given). */
export async function issueConsentLinks(
  db: Db,
  keyring: Keyring,
  link: { workspaceId: string; profileId: string; purpose: ConsentPurpose; unsubscribeDays?: number; preferencesDays?: number },
  now = new Date(),
): Promise<IssuedLinks> {
  const generation = await linkGeneration(db, link.workspaceId, link.profileId);
  const after = (days: number) => new Date(now.getTime() + days * 86_400_000);
  const unsubscribe = after(link.unsubscribeDays ?? DEFAULT_LINK_DAYS.unsubscribe);
  const preferences = after(link.preferencesDays ?? DEFAULT_LINK_DAYS.preferences);
  return {
    profileId: link.profileId,
    generation,
    unsubscribe: { token: signUnsubscribe(keyring, { workspaceId: link.workspaceId, profileId: link.profileId, purpose: link.purpose, expires: unsubscribe, generation }), expires: unsubscribe },
    preferences: { token: signPreferences(keyring, { workspaceId: link.workspaceId, profileId: link.profileId, expires: preferences, generation }), expires: preferences },
  };
}

/**
 * Revoke every link signed so far for a live profile and every profile merged
 * into it (a merged-away id's links act on the survivor). Under the profile
 * lock, so a merge cannot slip a profile in between. Returns the live
 * profile's new generation: links signed from now on carry it.
 */
export async function revokeConsentLinks(database: Database, workspaceId: string, profileId: string, now = new Date()): Promise<number> {
  return database.db.transaction().execute(async (tx) => {
    await lockWorkspaceProfiles(tx, workspaceId);
    const ids = await mergedProfileIds(tx, workspaceId, profileId);
    const rows = await tx
      .insertInto('consent_link_generations')
      .values(ids.map((id) => ({ workspace_id: workspaceId, profile_id: id, generation: 1, revoked_at: now })))
      .onConflict((oc) => oc.columns(['workspace_id', 'profile_id']).doUpdateSet({ generation: sql<number>`consent_link_generations.generation + 1`, revoked_at: now }))
      .returning(['profile_id', 'generation'])
      .execute();
    return rows.find((r) => r.profile_id === profileId)?.generation ?? 0;
  });
}
