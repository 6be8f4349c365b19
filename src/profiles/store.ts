import { sql } from 'kysely';
import { standardFieldOf, type LineageEntry } from '../clean/traits.js';
import type { Keyring } from '../privacy/crypto.js';
import { joinClasses } from '../privacy/field-catalog.js';
import { currentConsents, type ConsentPurpose, type LegalBasis } from '../privacy/consent.js';
import type { Database } from '../storage/database.js';
import { notRestricted } from '../storage/restricted-profiles.js';

export interface ProfileIdentity {
  type: string;
  value: string;
  source: string;
  firstSeenAt: string;
}

/** The unified profile, as the API and `custodian export` give it (DESIGN.md contract). */
export interface Profile {
  id: string;
  traits: Record<string, unknown>;
  identities: ProfileIdentity[];
  /** every source record merged into this profile */
  records: Array<{ source: string; id: string }>;
  tags: string[];
  segments: string[];
  /** computed scores: numbers (rfm_r, clv) and labels (rfm_segment: Champions) */
  scores: Record<string, number | string>;
  /** the current consent per purpose; a purpose with no recorded choice is absent (docs/consent.md) */
  consents: Partial<Record<ConsentPurpose, ProfileConsent>>;
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string | null;
  /** ids of profiles merged into this one: they still resolve here */
  mergedFrom: string[];
  /** per trait: the source and message its value came from, and the survivorship rule that kept it */
  provenance: Record<string, TraitProvenance>;
}

export interface ProfileConsent {
  granted: boolean;
  at: string;
  legalBasis: LegalBasis;
}

export interface TraitProvenance {
  source: string | null;
  messageId: string | null;
  at: string | null;
  rule: string | null;
  /** cleaning derived the value from other evidence (a birthday from an ID number) */
  derived: boolean;
}

function provenanceOf(stored: Record<string, unknown>, traits: Record<string, unknown>, derived: readonly string[]): Record<string, TraitProvenance> {
  const out: Record<string, TraitProvenance> = {};
  for (const key of Object.keys(traits)) {
    const o = stored[key] as { s?: string; m?: string; t?: string; r?: string; d?: number } | undefined;
    // Traits kept before provenance was recorded have none to show.
    out[key] = { source: o?.s || null, messageId: o?.m || null, at: o?.t || null, rule: o?.r ?? null, derived: o ? o.d === 1 : derived.includes(key) };
  }
  return out;
}

/** One lineage entry of a profile's field history, with the message it came from. */
export type FieldHistoryEntry = LineageEntry & { messageId: string; source: string; at: string };

export interface TimelineEvent {
  messageId: string;
  type: string;
  event: string | null;
  source: string;
  timestamp: string;
  receivedAt: string;
  userId: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown> | null;
}

export interface EventPage {
  total: number;
  events: TimelineEvent[];
  /** pass back as `cursor` for the next page; null on the last */
  nextCursor: string | null;
}

type ProfileRow = {
  id: string;
  traits: Record<string, unknown>;
  secret_traits: Uint8Array | null;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date | null;
  provenance: Record<string, unknown>;
  derived_traits: string[];
};

// Record identities name a source system's own row (`source:id`); userIds are the tracking sources' records.
const RECORD_TYPES = new Set(['userId', 'record']);

function recordOf(identity: ProfileIdentity): { source: string; id: string } {
  if (identity.type !== 'record') return { source: identity.source, id: identity.value };
  const colon = identity.value.indexOf(':');
  return { source: identity.value.slice(0, colon), id: identity.value.slice(colon + 1) };
}

export function createProfileStore(database: Database, keyring: Keyring) {
  const { db } = database;

  async function assemble(workspaceId: string, rows: ProfileRow[]): Promise<Profile[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [identities, merged, tags, segments, scores, consents] = await Promise.all([
      db.selectFrom('identities').select(['profile_id', 'type', 'value_enc', 'source_id', 'first_seen_at']).where('workspace_id', '=', workspaceId).where('profile_id', 'in', ids).orderBy('first_seen_at').execute(),
      db.selectFrom('profiles').select(['id', 'merged_into']).where('workspace_id', '=', workspaceId).where('merged_into', 'in', ids).orderBy('id').execute(),
      db
        .selectFrom('profile_tags as pt')
        .innerJoin('tags as t', (j) => j.onRef('t.workspace_id', '=', 'pt.workspace_id').onRef('t.id', '=', 'pt.tag_id'))
        .select(['pt.profile_id', 't.name', 'pt.value'])
        .where('pt.workspace_id', '=', workspaceId)
        .where('pt.profile_id', 'in', ids)
        .orderBy('t.name')
        .execute(),
      db
        .selectFrom('segment_members as m')
        .innerJoin('segments as s', (j) => j.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'))
        .select(['m.profile_id', 's.name'])
        .where('m.workspace_id', '=', workspaceId)
        .where('m.profile_id', 'in', ids)
        .orderBy('s.name')
        .execute(),
      db.selectFrom('profile_scores').select(['profile_id', 'name', 'value', 'label']).where('workspace_id', '=', workspaceId).where('profile_id', 'in', ids).orderBy('name').execute(),
      currentConsents(db, workspaceId, ids),
    ]);
    return rows.map((row) => {
      const own = identities
        .filter((i) => i.profile_id === row.id)
        .map((i) => ({ type: i.type, value: keyring.decrypt(i.value_enc).toString('utf8'), source: i.source_id, firstSeenAt: i.first_seen_at.toISOString() }));
      const secret = row.secret_traits ? keyring.decryptJson<Record<string, unknown>>(row.secret_traits) : null;
      const traits = joinClasses(row.traits, secret);
      return {
        id: row.id,
        traits,
        identities: own,
        records: own.filter((i) => RECORD_TYPES.has(i.type)).map((i) => recordOf(i)),
        // A tag with values reads name:value (age group:25-34), so one list carries both kinds.
        tags: tags.filter((t) => t.profile_id === row.id).map((t) => (t.value === '' ? t.name : `${t.name}:${t.value}`)),
        segments: segments.filter((m) => m.profile_id === row.id).map((m) => m.name),
        scores: Object.fromEntries(scores.filter((x) => x.profile_id === row.id).map((x) => [x.name, x.label ?? x.value ?? 0])),
        consents: Object.fromEntries(Object.entries(consents.get(row.id) ?? {}).map(([purpose, c]) => [purpose, { granted: c.granted, at: c.at.toISOString(), legalBasis: c.legalBasis }])),
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
        lastSeenAt: row.last_seen_at?.toISOString() ?? null,
        mergedFrom: merged.filter((m) => m.merged_into === row.id).map((m) => m.id),
        provenance: provenanceOf(row.provenance, traits, row.derived_traits),
      };
    });
  }

  const columns = ['id', 'traits', 'secret_traits', 'created_at', 'updated_at', 'last_seen_at', 'provenance', 'derived_traits'] as const;

  return {
    /** The profile with this id; a merged-away id resolves to the profile it became. */
    async get(workspaceId: string, id: string): Promise<Profile | null> {
      const row = await db
        .selectFrom('profiles')
        .select([...columns, 'merged_into'])
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return null;
      if (row.merged_into) return this.get(workspaceId, row.merged_into);
      return (await assemble(workspaceId, [row]))[0] ?? null;
    },

    /** The live profile owning an identity, found by its blind index. */
    async findByIdentityIndex(workspaceId: string, valueIndex: Uint8Array): Promise<Profile | null> {
      const row = await db.selectFrom('identities').select('profile_id').where('workspace_id', '=', workspaceId).where('value_index', '=', valueIndex).executeTakeFirst();
      return row ? this.get(workspaceId, row.profile_id) : null;
    },

    /** What cleaning did to this profile's fields, newest first: originals, standardized values, rules, refusals and derivations. */
    async lineage(workspaceId: string, profileId: string, field: string | undefined, limit: number): Promise<FieldHistoryEntry[]> {
      let query = db
        .selectFrom('field_lineage')
        .select(['message_id', 'source_id', 'at', 'detail'])
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .orderBy('at', 'desc')
        .orderBy('message_id', 'desc')
        .limit(limit);
      if (field !== undefined) query = query.where(sql<boolean>`${field} = any(fields)`);
      const rows = await query.execute();
      return rows.flatMap((row) =>
        keyring
          .decryptJson<LineageEntry[]>(row.detail)
          .filter((entry) => field === undefined || standardFieldOf(entry.field.replace(/^context\.traits\./, '')) === field || entry.field === field)
          .map((entry) => ({ ...entry, messageId: row.message_id, source: row.source_id, at: row.at.toISOString() })),
      );
    },

    /** A profile's whole timeline, newest first, in keyset pages. */
    async events(workspaceId: string, profileId: string, limit: number, cursor: string | null): Promise<EventPage> {
      const after = cursor ? decodeCursor(cursor) : null;
      let query = db
        .selectFrom('events')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .orderBy('timestamp', 'desc')
        .orderBy('message_id', 'desc')
        .limit(limit + 1);
      if (after) {
        query = query.where(sql<boolean>`(timestamp, message_id) < (${after.timestamp}::timestamptz, ${after.messageId})`);
      }
      const [rows, count] = await Promise.all([
        query.execute(),
        db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).where('workspace_id', '=', workspaceId).where('profile_id', '=', profileId).executeTakeFirstOrThrow(),
      ]);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        total: Number(count.n),
        events: page.map((r) => {
          const sealed = keyring.decryptJson<{ userId?: string; anonymousId?: string; context?: Record<string, unknown>; fields: Record<string, unknown> | null }>(r.secret);
          return {
            messageId: r.message_id,
            type: r.type,
            event: r.event,
            source: r.source_id,
            timestamp: r.timestamp.toISOString(),
            receivedAt: r.received_at.toISOString(),
            userId: sealed.userId ?? null,
            anonymousId: sealed.anonymousId ?? null,
            properties: joinClasses(r.properties, sealed.fields),
            context: sealed.context ?? null,
          };
        }),
        nextCursor: rows.length > limit && last ? encodeCursor(last.timestamp, last.message_id) : null,
      };
    },

    /** These live profiles, in the order given; unknown and merged-away ids are left out. */
    async many(workspaceId: string, ids: readonly string[]): Promise<Profile[]> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('profiles').select([...columns]).where('workspace_id', '=', workspaceId).where('merged_into', 'is', null).where('id', 'in', [...ids]).execute();
      const byId = new Map((await assemble(workspaceId, rows)).map((p) => [p.id, p]));
      return ids.map((id) => byId.get(id)).filter((p): p is Profile => p !== undefined);
    },

    /**
     * Every live profile that may leave in an export, in id order, a page at a time: memory stays
     * flat on any size. Restricted people (GDPR Art. 18) are left out until their restriction is lifted.
     */
    async *all(workspaceId: string, pageSize = 500): AsyncGenerator<Profile> {
      let after: string | null = null;
      for (;;) {
        let query = db
          .selectFrom('profiles')
          .select([...columns])
          .where('workspace_id', '=', workspaceId)
          .where('merged_into', 'is', null)
          .where(notRestricted(sql`profiles.id`, workspaceId))
          .orderBy('id')
          .limit(pageSize);
        if (after) query = query.where('id', '>', after);
        const rows = await query.execute();
        if (rows.length === 0) return;
        yield* await assemble(workspaceId, rows);
        after = rows[rows.length - 1]!.id;
        if (rows.length < pageSize) return;
      }
    },
  };
}

export type ProfileStore = ReturnType<typeof createProfileStore>;

function encodeCursor(timestamp: Date, messageId: string): string {
  return Buffer.from(JSON.stringify([timestamp.toISOString(), messageId])).toString('base64url');
}

/** null when the cursor is not one we made */
export function decodeCursor(cursor: string): { timestamp: string; messageId: string } | null {
  try {
    const [timestamp, messageId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof timestamp === 'string' && typeof messageId === 'string' && !Number.isNaN(Date.parse(timestamp)) && !messageId.includes('\u0000') && messageId.isWellFormed()) {
      return { timestamp, messageId };
    }
  } catch {
    // fall through
  }
  return null;
}
