import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { recommendationsFor } from '../analytics/recommender-run.js';
import { consentState, DEFAULT_LINK_DAYS, signPreferences, signUnsubscribe } from '../privacy/consent.js';
import type { Keyring } from '../privacy/crypto.js';
import { joinClasses } from '../privacy/field-catalog.js';
import type { Database } from '../storage/database.js';
import { restrictedLiveIds } from '../storage/restricted-profiles.js';
import type { Schema } from '../storage/schema.js';
import type { DeliveryResult, DestinationAdapter, OutgoingMessage } from './adapter.js';
import type { Campaign, SkipReason } from './campaign.js';
import { campaignOf } from './campaigns-store.js';
import { claimCoupons } from './coupons.js';
import { openDestination } from './destinations.js';
import { quietUntil } from './quiet-hours.js';
import { compileTemplate, renderTemplate, usesPreferences, usesRecommendations, usesUnsubscribe, type CompiledTemplate, type TemplateVars } from './template.js';

/**
 * The campaign sender: takes due rows from the outbox, checks each person
 * again at send time (consent, restriction, erasure, frequency cap, quiet
 * hours, an address to send to), renders their message and hands it to the
 * campaign's destination, then records the outcome.
 *
 * Delivery is at least once on the wire and at most once per receiver that
 * keeps idempotency keys: a row is marked `sending` with a lease, committed,
 * before anything leaves. A sender killed mid-batch leaves its rows leased;
 * when the lease passes they are sent again with the same key, so nobody is
 * skipped, and a receiver that remembers keys (docs/destinations.md) sees
 * each person once.
 */

export interface SenderDeps {
  database: Database;
  keyring: Keyring;
  /** where file destinations write (default: `<data dir>/exports`) */
  activationDir: string;
  /** the address people reach this server at, for unsubscribe and preference links */
  publicUrl: string;
}

export interface SenderOptions {
  /** rows taken per round */
  batchSize?: number;
  /** how long a taken row is this sender's; after that another sender retries it */
  leaseMs?: number;
  /** attempts before a message that keeps failing is given up as failed */
  maxAttempts?: number;
  /** rounds drain runs at once (PARALLEL_ROUNDS) */
  parallel?: number;
}

export interface SendOutcome {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  deferred: number;
  skipped: Partial<Record<SkipReason, number>>;
}

export interface Sender {
  /** one round: take up to batchSize due rows and deal with them */
  runOnce(now?: Date): Promise<SendOutcome>;
  /** rounds until nothing is due (or the signal stops it) */
  drain(options?: { signal?: AbortSignal; now?: () => Date }): Promise<SendOutcome>;
  close(): Promise<void>;
}

interface Claimed {
  workspace_id: string;
  campaign_id: string;
  profile_id: string;
  attempts: number;
  coupon_code: string | null;
}

interface ProfileRow {
  id: string;
  merged_into: string | null;
  traits: Record<string, unknown>;
  secret_traits: Uint8Array | null;
}

/** What happens to one claimed row. */
type Outcome =
  | { kind: 'sent'; attempt: number; result: DeliveryResult; ms: number }
  | { kind: 'retry'; attempt: number; result: DeliveryResult; ms: number; at: Date }
  | { kind: 'failed'; attempt: number; result: DeliveryResult; ms: number }
  | { kind: 'skipped'; reason: SkipReason }
  | { kind: 'deferred'; until: Date };

/**
 * Messages delivered between two records of their outcome. With PARALLEL_ROUNDS,
 * this bounds what a sender killed mid-send has sent without recording it, and
 * so what goes out a second time (same idempotency keys) after its lease.
 */
export const RECORD_EVERY = 100;

/** Rounds drain runs at once: one prepares (database) while others wait on their destinations (network). */
export const PARALLEL_ROUNDS = 4;

const emptyOutcome = (): SendOutcome => ({ claimed: 0, sent: 0, retried: 0, failed: 0, deferred: 0, skipped: {} });

function add(into: SendOutcome, from: SendOutcome): void {
  into.claimed += from.claimed;
  into.sent += from.sent;
  into.retried += from.retried;
  into.failed += from.failed;
  into.deferred += from.deferred;
  for (const [reason, n] of Object.entries(from.skipped)) into.skipped[reason as SkipReason] = (into.skipped[reason as SkipReason] ?? 0) + n;
}

/** 30 s, 1 min, 2 min … capped at an hour, with jitter so a receiver coming back is not hit by every retry at once. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + 0.5 * random()));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function stringTrait(traits: Record<string, unknown>, key: string): string | null {
  const v = traits[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null;
}

interface CampaignPlan {
  campaign: Campaign;
  body: CompiledTemplate;
  subject: CompiledTemplate | null;
  wechat: Array<[string, CompiledTemplate]>;
  recommendations: number;
  unsubscribe: boolean;
  preferences: boolean;
}

function planOf(campaign: Campaign): CampaignPlan {
  const compile = (text: string) => {
    const c = compileTemplate(text);
    // Templates are checked when the campaign is saved and launched; one that fails here was stored by something else.
    if (!c.ok) throw new Error(`campaign ${campaign.id}: its template does not compile: ${c.issues.map((i) => i.message).join('; ')}`);
    return c.template;
  };
  const body = compile(campaign.template.body);
  const subject = campaign.template.subject ? compile(campaign.template.subject) : null;
  const wechat = Object.entries(campaign.template.wechatData ?? {}).map(([k, v]): [string, CompiledTemplate] => [k, compile(v)]);
  const all = [body, ...(subject ? [subject] : []), ...wechat.map(([, c]) => c)];
  return {
    campaign,
    body,
    subject,
    wechat,
    recommendations: all.some(usesRecommendations) ? Math.max(1, Math.min(9, campaign.template.recommendations ?? 3)) : 0,
    unsubscribe: all.some(usesUnsubscribe),
    preferences: all.some(usesPreferences),
  };
}

export function createSender(deps: SenderDeps, options: SenderOptions = {}): Sender {
  const db = deps.database.db;
  const batchSize = options.batchSize ?? 1000;
  const leaseMs = options.leaseMs ?? 120_000;
  const maxAttempts = options.maxAttempts ?? 6;
  const parallel = options.parallel ?? PARALLEL_ROUNDS;
  // Promises, so rounds running at once open a destination once between them.
  const adapters = new Map<string, Promise<DestinationAdapter>>();
  const plans = new Map<string, { updatedAt: number; plan: CampaignPlan }>();

  async function adapterFor(workspaceId: string, destinationId: string): Promise<DestinationAdapter> {
    const key = `${workspaceId}\u0000${destinationId}`;
    let adapter = adapters.get(key);
    if (!adapter) {
      adapter = openDestination(db, deps.keyring, workspaceId, destinationId, { activationDir: deps.activationDir });
      adapters.set(key, adapter);
      // A destination that failed to open is tried again next time, not remembered as broken.
      adapter.catch(() => adapters.delete(key));
    }
    return adapter;
  }

  async function claim(now: Date, leaseUntil: Date): Promise<Claimed[]> {
    // Rows whose sender died (lease passed) first, then due pending rows; both only of active campaigns.
    const take = async (which: 'expired' | 'due', limit: number) => {
      const condition = which === 'expired' ? sql`s2.status = 'sending' and s2.lease_until < ${now}` : sql`s2.status = 'pending' and s2.next_attempt_at <= ${now}`;
      const order = which === 'expired' ? sql`s2.lease_until` : sql`s2.next_attempt_at`;
      const { rows } = await sql<Claimed>`
        update campaign_sends s set status = 'sending', attempts = s.attempts + 1, lease_until = ${leaseUntil}
        from (
          select s2.workspace_id, s2.campaign_id, s2.profile_id from campaign_sends s2
          join campaigns c on c.workspace_id = s2.workspace_id and c.id = s2.campaign_id and c.status = 'active'
          where ${condition}
          order by ${order}
          limit ${limit}
          for update of s2 skip locked) d
        where s.workspace_id = d.workspace_id and s.campaign_id = d.campaign_id and s.profile_id = d.profile_id
        returning s.workspace_id, s.campaign_id, s.profile_id, s.attempts, s.coupon_code`.execute(db);
      return rows;
    };
    const expired = await take('expired', batchSize);
    return expired.length >= batchSize ? expired : [...expired, ...(await take('due', batchSize - expired.length))];
  }

  async function planFor(workspaceId: string, campaignId: string): Promise<CampaignPlan | null> {
    const row = await db.selectFrom('campaigns').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', campaignId).executeTakeFirst();
    if (!row) return null;
    const key = `${workspaceId}\u0000${campaignId}`;
    const cached = plans.get(key);
    if (cached && cached.updatedAt === row.updated_at.getTime()) return cached.plan;
    const plan = planOf(campaignOf(row));
    plans.set(key, { updatedAt: row.updated_at.getTime(), plan });
    return plan;
  }

  async function loadProfiles(workspaceId: string, ids: readonly string[]): Promise<Map<string, ProfileRow>> {
    const rows = ids.length === 0 ? [] : await db.selectFrom('profiles').select(['id', 'merged_into', 'traits', 'secret_traits']).where('workspace_id', '=', workspaceId).where('id', '=', sql<string>`any(${[...ids]}::uuid[])`).execute();
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * Per person (through merges): messages sent within the cap's period, and other campaigns' messages being
   * sent right now by other rounds (leased, not by this round).
   */
  async function capCounts(workspaceId: string, campaignId: string, personIds: readonly string[], since: Date, ownLease: Date, now: Date): Promise<Map<string, { sent: number; inFlight: number }>> {
    const { rows } = await sql<{ person: string; sent: string | number; in_flight: string | number }>`
      select coalesce(m.merged_into, m.id)::text as person,
        count(*) filter (where s.status = 'sent' and s.sent_at > ${since}) as sent,
        count(*) filter (where s.status = 'sending' and s.campaign_id <> ${campaignId} and s.lease_until > ${now} and s.lease_until <> ${ownLease}) as in_flight
      from profiles m
      join campaign_sends s on s.workspace_id = m.workspace_id and s.profile_id = m.id
      where m.workspace_id = ${workspaceId} and (m.id = any(${[...personIds]}::uuid[]) or m.merged_into = any(${[...personIds]}::uuid[]))
        and (s.status = 'sent' and s.sent_at > ${since} or s.status = 'sending')
      group by 1`.execute(db);
    return new Map(rows.map((r) => [r.person, { sent: Number(r.sent), inFlight: Number(r.in_flight) }]));
  }

  /** Decide and render one campaign's share of a round: who is skipped or deferred, and the messages of the rest. */
  async function prepare(plan: CampaignPlan, rows: readonly Claimed[], now: Date, leaseUntil: Date): Promise<{ outcomes: Map<string, Outcome>; deliveries: Array<{ row: Claimed; message: OutgoingMessage }> }> {
    const { campaign } = plan;
    const ws = campaign.workspaceId;
    const outcomes = new Map<string, Outcome>();
    const skip = (row: Claimed, reason: SkipReason) => outcomes.set(row.profile_id, { kind: 'skipped', reason });

    // Who each row is now: erased people have no profile; merged-away ids answer for the profile they became.
    const profiles = await loadProfiles(ws, rows.map((r) => r.profile_id));
    const mergedInto = [...new Set([...profiles.values()].map((p) => p.merged_into).filter((id): id is string => id !== null))];
    const survivors = await loadProfiles(ws, mergedInto.filter((id) => !profiles.has(id)));
    const profileOf = (id: string) => profiles.get(id) ?? survivors.get(id);
    // The person's other rows in this campaign (profiles since merged into them, or theirs when this row's was merged
    // away): one that was sent, held out, or is going out under a smaller profile id wins, and this row is skipped.
    const people = [...new Set([...profiles.values()].map((p) => p.merged_into ?? p.id))];
    const ownIds = rows.map((r) => r.profile_id);
    const others = people.length === 0 ? [] : (
      await sql<{ person: string; profile_id: string; status: string }>`
        select coalesce(m.merged_into, m.id)::text as person, s.profile_id::text as profile_id, s.status
        from profiles m
        join campaign_sends s on s.workspace_id = m.workspace_id and s.campaign_id = ${campaign.id} and s.profile_id = m.id
        where m.workspace_id = ${ws} and (m.id = any(${people}::uuid[]) or m.merged_into = any(${people}::uuid[]))
          and s.status in ('sent', 'sending', 'control') and not (s.profile_id = any(${ownIds}::uuid[]))`.execute(db)
    ).rows;
    const covered = (person: string, profileId: string) => others.some((o) => o.person === person && (o.status !== 'sending' || o.profile_id < profileId));
    const live = new Map<string, ProfileRow>();
    const taken = new Set<string>();
    for (const row of rows) {
      const own = profiles.get(row.profile_id);
      if (!own) {
        skip(row, 'erased');
        continue;
      }
      const person = own.merged_into === null ? own : profileOf(own.merged_into);
      if (!person) {
        skip(row, 'erased');
        continue;
      }
      if (taken.has(person.id) || covered(person.id, row.profile_id)) {
        skip(row, 'merged');
        continue;
      }
      taken.add(person.id);
      live.set(row.profile_id, person);
    }

    const liveIds = [...new Set([...live.values()].map((p) => p.id))];
    const [restricted, consents, recent] = await Promise.all([
      liveIds.length === 0 ? new Set<string>() : sql<{ id: string }>`select r.id from (${restrictedLiveIds(ws)}) as r(id)`.execute(db).then((r) => new Set(r.rows.map((x) => x.id))),
      consentState(db, ws, liveIds, campaign.purpose),
      campaign.frequencyCap && liveIds.length > 0 ? capCounts(ws, campaign.id, liveIds, new Date(now.getTime() - campaign.frequencyCap.days * 86_400_000), leaseUntil, now) : null,
    ]);

    const wechatIds = campaign.channel === 'wechat' ? await wechatOpenIds(db, deps.keyring, ws, liveIds) : new Map<string, string>();
    const ready: Array<{ row: Claimed; person: ProfileRow; traits: Record<string, unknown>; to: OutgoingMessage['to']; hashed?: OutgoingMessage['hashed'] }> = [];
    const sentInRound = new Map<string, number>();
    for (const row of rows) {
      if (outcomes.has(row.profile_id)) continue;
      const person = live.get(row.profile_id)!;
      if (restricted.has(person.id)) {
        skip(row, 'restricted');
        continue;
      }
      const consent = consents.get(person.id)?.state ?? 'unknown';
      if (consent !== 'granted') {
        skip(row, consent === 'withdrawn' ? 'consent_withdrawn' : 'no_consent');
        continue;
      }
      if (campaign.frequencyCap && recent) {
        const counts = recent.get(person.id);
        const already = (counts?.sent ?? 0) + (sentInRound.get(person.id) ?? 0);
        if (already >= campaign.frequencyCap.max) {
          skip(row, 'frequency_cap');
          continue;
        }
        // Another campaign's message to them is going out now: whether this one fits under the cap is known once it
        // is recorded. Wait for that rather than let two senders both count zero.
        if (counts && counts.inFlight > 0 && already + counts.inFlight >= campaign.frequencyCap.max) {
          outcomes.set(row.profile_id, { kind: 'deferred', until: new Date(now.getTime() + 30_000 + Math.round(Math.random() * 60_000)) });
          continue;
        }
      }
      const traits = joinClasses(person.traits, person.secret_traits ? deps.keyring.decryptJson<Record<string, unknown>>(person.secret_traits) : null);
      if (campaign.quietHours) {
        const until = quietUntil(now, campaign.quietHours, traits.timezone);
        if (until) {
          outcomes.set(row.profile_id, { kind: 'deferred', until });
          continue;
        }
      }
      const email = stringTrait(traits, 'email');
      const phone = stringTrait(traits, 'phone');
      let to: OutgoingMessage['to'] = {};
      let hashed: OutgoingMessage['hashed'];
      if (campaign.channel === 'email') {
        if (!email) {
          skip(row, 'no_address');
          continue;
        }
        to = { email };
      } else if (campaign.channel === 'sms') {
        if (!phone) {
          skip(row, 'no_address');
          continue;
        }
        to = { phone };
      } else if (campaign.channel === 'wechat') {
        const openId = wechatIds.get(person.id);
        if (!openId) {
          skip(row, 'no_address');
          continue;
        }
        to = { wechatOpenId: openId };
      } else if (campaign.channel === 'ads') {
        // Ad platforms match on hashes of the normalized e-mail and phone; neither in the clear leaves.
        if (!email && !phone) {
          skip(row, 'no_address');
          continue;
        }
        hashed = { ...(email ? { email: sha256(email.toLowerCase()) } : {}), ...(phone ? { phone: sha256(phone) } : {}) };
      }
      sentInRound.set(person.id, (sentInRound.get(person.id) ?? 0) + 1);
      ready.push({ row, person, traits, to, ...(hashed ? { hashed } : {}) });
    }

    // Coupons: one per person per pool, claimed (and kept on the row) before sending, so a resend carries the same code.
    const coupons = new Map<string, string | null>();
    if (campaign.couponPoolId && ready.length > 0) {
      const needing = ready.filter((r) => r.row.coupon_code === null);
      const claimed = needing.length === 0 ? new Map<string, string | null>() : await claimCoupons(db, ws, campaign.couponPoolId, [...new Set(needing.map((r) => r.person.id))], `campaign:${campaign.id}`, now);
      const kept: Array<{ profile: string; code: string }> = [];
      for (const r of ready) {
        const code = r.row.coupon_code ?? claimed.get(r.person.id) ?? null;
        coupons.set(r.row.profile_id, code);
        if (code !== null && r.row.coupon_code === null) kept.push({ profile: r.row.profile_id, code });
      }
      if (kept.length > 0) {
        await sql`update campaign_sends s set coupon_code = v.code
          from unnest(${kept.map((k) => k.profile)}::uuid[], ${kept.map((k) => k.code)}::text[]) as v(profile_id, code)
          where s.workspace_id = ${ws} and s.campaign_id = ${campaign.id} and s.profile_id = v.profile_id`.execute(db);
      }
    }
    const sendable = campaign.couponPoolId
      ? ready.filter((r) => {
          if (coupons.get(r.row.profile_id)) return true;
          // A message promising a coupon is not sent without one.
          skip(r.row, 'coupons_exhausted');
          return false;
        })
      : ready;
    if (sendable.length === 0) return { outcomes, deliveries: [] };

    const personIds = [...new Set(sendable.map((r) => r.person.id))];
    const [recommended, generations] = await Promise.all([
      plan.recommendations > 0 ? recommendationsFor(db, ws, personIds, plan.recommendations) : Promise.resolve(new Map<string, string[]>()),
      plan.unsubscribe || plan.preferences
        ? db
            .selectFrom('consent_link_generations')
            .select(['profile_id', 'generation'])
            .where('workspace_id', '=', ws)
            .where('profile_id', '=', sql<string>`any(${personIds}::uuid[])`)
            .execute()
            .then((r) => new Map(r.map((x) => [x.profile_id, x.generation])))
        : Promise.resolve(new Map<string, number>()),
    ]);
    const base = deps.publicUrl.replace(/\/+$/, '');
    const unsubscribeExpires = new Date(now.getTime() + DEFAULT_LINK_DAYS.unsubscribe * 86_400_000);
    const preferencesExpires = new Date(now.getTime() + DEFAULT_LINK_DAYS.preferences * 86_400_000);
    const messages: OutgoingMessage[] = sendable.map(({ row, person, traits, to, hashed }) => {
      const generation = generations.get(person.id) ?? 0;
      const vars: TemplateVars = {
        traits,
        profileId: person.id,
        coupon: coupons.get(row.profile_id) ?? null,
        recommendations: recommended.get(person.id) ?? [],
        unsubscribeUrl: plan.unsubscribe ? `${base}/u/${signUnsubscribe(deps.keyring, { workspaceId: ws, profileId: person.id, purpose: campaign.purpose, expires: unsubscribeExpires, generation })}` : null,
        preferencesUrl: plan.preferences ? `${base}/preferences/${signPreferences(deps.keyring, { workspaceId: ws, profileId: person.id, expires: preferencesExpires, generation })}` : null,
        campaignName: campaign.name,
      };
      return {
        idempotencyKey: `${campaign.id}:${row.profile_id}`,
        workspaceId: ws,
        campaignId: campaign.id,
        profileId: person.id,
        channel: campaign.channel,
        to,
        subject: plan.subject ? renderTemplate(plan.subject, vars) : null,
        body: renderTemplate(plan.body, vars),
        ...(campaign.channel === 'wechat' && campaign.template.wechatTemplateId
          ? { wechat: { templateId: campaign.template.wechatTemplateId, data: Object.fromEntries(plan.wechat.map(([k, c]) => [k, renderTemplate(c, vars)])) } }
          : {}),
        ...(hashed ? { hashed } : {}),
        coupon: vars.coupon,
        attempt: row.attempts,
      };
    });

    return { outcomes, deliveries: sendable.map(({ row }, i) => ({ row, message: messages[i]! })) };
  }

  /** Hand messages to the campaign's destination and judge each result. */
  async function deliver(plan: CampaignPlan, deliveries: ReadonlyArray<{ row: Claimed; message: OutgoingMessage }>, now: Date): Promise<Map<string, Outcome>> {
    const outcomes = new Map<string, Outcome>();
    const started = performance.now();
    let results: DeliveryResult[];
    try {
      const adapter = await adapterFor(plan.campaign.workspaceId, plan.campaign.destinationId);
      results = await adapter.deliver(deliveries.map((d) => d.message));
    } catch (error) {
      // A destination that cannot be opened (deleted, bad secret) fails every message of the round, retryably.
      const message = error instanceof Error ? error.message : String(error);
      results = deliveries.map(() => ({ ok: false, retryable: true, error: message }));
    }
    const ms = (performance.now() - started) / Math.max(1, deliveries.length);
    deliveries.forEach(({ row }, i) => {
      const result = results[i] ?? { ok: false, retryable: true, error: 'the destination gave no result for this message' };
      if (result.ok) outcomes.set(row.profile_id, { kind: 'sent', attempt: row.attempts, result, ms });
      else if (result.retryable && row.attempts < maxAttempts) outcomes.set(row.profile_id, { kind: 'retry', attempt: row.attempts, result, ms, at: new Date(now.getTime() + backoffMs(row.attempts)) });
      else outcomes.set(row.profile_id, { kind: 'failed', attempt: row.attempts, result, ms });
    });
    return outcomes;
  }

  /** Move the lease of rows still to send from `from` to `to`; those whose lease was still `from` are this sender's to send. */
  async function stillHeld<T extends { row: Claimed }>(workspaceId: string, campaignId: string, slice: readonly T[], from: Date, to: Date): Promise<T[]> {
    const { rows } = await sql<{ profile_id: string }>`
      update campaign_sends set lease_until = ${to}
      where workspace_id = ${workspaceId} and campaign_id = ${campaignId} and profile_id = any(${slice.map((d) => d.row.profile_id)}::uuid[])
        and status = 'sending' and lease_until = ${from}
      returning profile_id::text as profile_id`.execute(db);
    const held = new Set(rows.map((r) => r.profile_id));
    return slice.filter((d) => held.has(d.row.profile_id));
  }

  /** Write every outcome of a round in two statements; only rows still leased to this round are touched. */
  async function record(workspaceId: string, campaignId: string, outcomes: Map<string, Outcome>, leaseUntil: Date, now: Date, into: SendOutcome): Promise<void> {
    const ids: string[] = [];
    const statuses: string[] = [];
    const reasons: Array<string | null> = [];
    const next: string[] = [];
    const errors: Array<string | null> = [];
    const sentAt: Array<string | null> = [];
    const undo: number[] = [];
    const attempts: Array<{ profile: string; attempt: number; outcome: string; code: number | null; error: string | null; ms: number }> = [];
    for (const [profileId, o] of outcomes) {
      ids.push(profileId);
      let status = 'pending';
      let reason: string | null = null;
      let at = now;
      let error: string | null = null;
      let sent: string | null = null;
      let back = 0;
      if (o.kind === 'sent') {
        status = 'sent';
        sent = now.toISOString();
        into.sent += 1;
      } else if (o.kind === 'retry') {
        at = o.at;
        error = o.result.error ?? `status ${o.result.statusCode ?? '?'}`;
        into.retried += 1;
      } else if (o.kind === 'failed') {
        status = 'failed';
        error = o.result.error ?? `status ${o.result.statusCode ?? '?'}`;
        into.failed += 1;
      } else if (o.kind === 'skipped') {
        status = 'skipped';
        reason = o.reason;
        into.skipped[o.reason] = (into.skipped[o.reason] ?? 0) + 1;
      } else {
        // Waiting out quiet hours is not an attempt.
        at = o.until;
        back = 1;
        into.deferred += 1;
      }
      statuses.push(status);
      reasons.push(reason);
      next.push(at.toISOString());
      errors.push(error ? error.slice(0, 1000) : null);
      sentAt.push(sent);
      undo.push(back);
      if (o.kind === 'sent' || o.kind === 'retry' || o.kind === 'failed') {
        attempts.push({ profile: profileId, attempt: o.attempt, outcome: o.kind, code: o.result.statusCode ?? null, error: o.kind === 'sent' ? null : error, ms: o.ms });
      }
    }
    if (ids.length === 0) return;
    await db.transaction().execute(async (tx) => {
      await sql`update campaign_sends s set status = v.status, reason = v.reason, next_attempt_at = v.next, last_error = v.error,
          sent_at = coalesce(v.sent_at, s.sent_at), attempts = s.attempts - v.undo, lease_until = null
        from unnest(${ids}::uuid[], ${statuses}::text[], ${reasons}::text[], ${next}::timestamptz[], ${errors}::text[], ${sentAt}::timestamptz[], ${undo}::int[])
          as v(profile_id, status, reason, next, error, sent_at, undo)
        where s.workspace_id = ${workspaceId} and s.campaign_id = ${campaignId} and s.profile_id = v.profile_id
          and s.status = 'sending' and s.lease_until = ${leaseUntil}`.execute(tx);
      if (attempts.length > 0) {
        await sql`insert into send_attempts (workspace_id, campaign_id, profile_id, attempt, at, outcome, status_code, error, ms)
          select ${workspaceId}, ${campaignId}, v.profile_id, v.attempt, ${now}::timestamptz, v.outcome, v.code, v.error, v.ms
          from unnest(${attempts.map((a) => a.profile)}::uuid[], ${attempts.map((a) => a.attempt)}::int[], ${attempts.map((a) => a.outcome)}::text[],
            ${attempts.map((a) => a.code)}::int[], ${attempts.map((a) => a.error)}::text[], ${attempts.map((a) => a.ms)}::real[]) as v(profile_id, attempt, outcome, code, error, ms)
          on conflict do nothing`.execute(tx);
      }
    });
  }

  async function runOnce(now = new Date()): Promise<SendOutcome> {
    const started = performance.now();
    const outcome = emptyOutcome();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const rows = await claim(now, leaseUntil);
    outcome.claimed = rows.length;
    const groups = new Map<string, Claimed[]>();
    for (const row of rows) {
      const key = `${row.workspace_id}\u0000${row.campaign_id}`;
      const list = groups.get(key) ?? [];
      list.push(row);
      groups.set(key, list);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const plan = await planFor(first.workspace_id, first.campaign_id);
      // Deleted between queueing and now: nothing to send; the rows went with the campaign.
      if (!plan) continue;
      let prepared: Awaited<ReturnType<typeof prepare>>;
      try {
        prepared = await prepare(plan, group, now, leaseUntil);
      } catch (error) {
        // Something about the campaign or its people cannot be prepared (a template stored broken, a trait that will
        // not decrypt): the rows are retried with backoff like a failed delivery, and fail after maxAttempts, rather
        // than stay leased and be taken again every lease.
        const result: DeliveryResult = { ok: false, retryable: true, error: `could not prepare the message: ${error instanceof Error ? error.message : String(error)}` };
        const failed = new Map<string, Outcome>(group.map((row) => [row.profile_id, row.attempts < maxAttempts ? { kind: 'retry', attempt: row.attempts, result, ms: 0, at: new Date(now.getTime() + backoffMs(row.attempts)) } : { kind: 'failed', attempt: row.attempts, result, ms: 0 }]));
        await record(first.workspace_id, first.campaign_id, failed, leaseUntil, now, outcome);
        continue;
      }
      await record(first.workspace_id, first.campaign_id, prepared.outcomes, leaseUntil, now, outcome);
      // Recorded a slice at a time: a sender killed mid-round has sent at most one slice per round it was running
      // that it did not record, and only those go out again (with their idempotency keys) after the lease.
      let lease = leaseUntil;
      let leasedAt = started;
      let pending = prepared.deliveries;
      while (pending.length > 0) {
        // Once half the lease has gone by, the rows still to send get a fresh one (on the round's clock: `now` plus
        // time elapsed), so a slow destination never lets another sender take rows this one is about to send. Rows
        // whose lease another sender took over meanwhile are left to it.
        if (performance.now() - leasedAt > leaseMs / 2) {
          const renewed = new Date(now.getTime() + (performance.now() - started) + leaseMs);
          pending = await stillHeld(first.workspace_id, first.campaign_id, pending, lease, renewed);
          lease = renewed;
          leasedAt = performance.now();
        }
        const slice = pending.slice(0, RECORD_EVERY);
        pending = pending.slice(RECORD_EVERY);
        if (slice.length > 0) await record(first.workspace_id, first.campaign_id, await deliver(plan, slice, now), lease, now, outcome);
      }
    }
    return outcome;
  }

  return {
    runOnce,
    async drain(options = {}) {
      const total = emptyOutcome();
      // Rounds take disjoint rows (SKIP LOCKED); each goes on until it finds nothing due.
      const loop = async () => {
        while (!options.signal?.aborted) {
          const round = await runOnce(options.now?.() ?? new Date());
          add(total, round);
          if (round.claimed === 0) break;
        }
      };
      await Promise.all(Array.from({ length: parallel }, loop));
      return total;
    },
    async close() {
      const open = [...adapters.values()];
      adapters.clear();
      const opened = await Promise.allSettled(open);
      await Promise.all(opened.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
    },
  };
}

/** Each profile's WeChat openid (an identity of type wechat_openid), the first one seen. */
async function wechatOpenIds(db: Kysely<Schema>, keyring: Keyring, workspaceId: string, profileIds: readonly string[]): Promise<Map<string, string>> {
  if (profileIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('identities')
    .select(['profile_id', 'value_enc'])
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', 'wechat_openid')
    .where('profile_id', '=', sql<string>`any(${[...profileIds]}::uuid[])`)
    .orderBy('first_seen_at')
    .execute();
  const out = new Map<string, string>();
  for (const r of rows) if (!out.has(r.profile_id)) out.set(r.profile_id, keyring.decrypt(r.value_enc).toString('utf8'));
  return out;
}
