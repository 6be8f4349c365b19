import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { TrackingMessage } from '../collect/messages.js';
import { identitiesOf, identityKey, standardizeIdentity, traitsOf, type IdentityKey } from './identifiers.js';
import { typeRule, type IdentitySettings } from './settings.js';
import { mergeStates, offerTrait, type Provenance } from './survivorship.js';

/** A profile as the planner sees it: traits joined (plain and identifier classes), with where each came from. */
export interface ProfileState {
  id: string;
  traits: Record<string, unknown>;
  provenance: Provenance;
  createdAt: Date;
  updatedAt: Date;
  lastSeenAt: Date | null;
}

export interface IncomingMessage {
  message: TrackingMessage;
  sourceId: string;
  /** traits cleaning filled from evidence (a birthday from an ID number…): they fill gaps, never overwrite */
  derived?: Record<string, unknown>;
}

export interface PlannedIdentity extends IdentityKey {
  profileId: string;
  sourceId: string;
  firstSeenAt: Date;
}

export type MergeReason = 'shared_identifier' | 'alias' | 'probabilistic' | 'review' | 'manual';

export interface PlannedMerge {
  from: string;
  into: string;
  reason: MergeReason;
  messageId: string | null;
}

/** An identifier a message carried that was not linked, and why. */
export interface IdentityConflict {
  messageId: string;
  identity: IdentityKey;
  /** `limit`: linking it would give one profile more identities of `limitType` than allowed */
  reason: 'limit';
  limitType: string;
  /** the profiles it would have joined */
  profiles: string[];
}

export interface BatchPlan {
  /** profiles to insert or update, keyed by id, in their final state */
  profiles: Map<string, ProfileState & { isNew: boolean }>;
  /** identities not seen before */
  identities: PlannedIdentity[];
  /** every message, with the profile it belongs to (null: it carried no usable identifier) */
  events: Array<IncomingMessage & { profileId: string | null }>;
  merges: PlannedMerge[];
  conflicts: IdentityConflict[];
  /** identifiers ignored because the workspace's blocklist names them */
  blocked: number;
}

export interface GraphSnapshot {
  /** identityKey → profile id, for the identities this batch mentions that already exist */
  owners: ReadonlyMap<string, string>;
  /** the current state of every profile in `owners` */
  profiles: ReadonlyMap<string, ProfileState>;
  /** how many identities of each type each of those profiles holds */
  identityCounts: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** What the planner needs of a workspace's identity settings, prepared once per batch. */
export interface IdentityPolicy {
  junk: JunkIdFilter;
  settings: IdentitySettings;
  /** blocklisted values, as written (lower case) and in each identity type's standard form */
  blocked: ReadonlySet<string>;
}

export function identityPolicy(junk: JunkIdFilter, settings: IdentitySettings): IdentityPolicy {
  const blocked = new Set<string>();
  for (const entry of settings.blocklist) {
    const text = entry.trim();
    blocked.add(text.toLowerCase());
    for (const type of ['email', 'phone'] as const) {
      const standard = standardizeIdentity(type, text);
      if (standard !== null) blocked.add(standard.toLowerCase());
    }
  }
  return { junk, settings, blocked };
}

function isBlocked(policy: IdentityPolicy, key: IdentityKey): boolean {
  if (policy.blocked.size === 0) return false;
  const value = key.value.toLowerCase();
  // A record id is `source:id`; the blocklist names the id.
  return policy.blocked.has(value) || (key.type === 'record' && policy.blocked.has(value.slice(value.indexOf(':') + 1)));
}

/** Every identity key a batch mentions, to load its owners before planning. */
export function keysOfBatch(messages: readonly IncomingMessage[], junk: JunkIdFilter): IdentityKey[] {
  const keys = new Map<string, IdentityKey>();
  for (const { message } of messages) {
    for (const id of [...identitiesOf(message, junk), ...previousIdKeys(message, junk)]) keys.set(identityKey(id), id);
  }
  return [...keys.values()];
}

function previousIdKeys(message: TrackingMessage, junk: JunkIdFilter): IdentityKey[] {
  if (message.type !== 'alias' || message.previousId === undefined || junk.isJunk(message.previousId)) return [];
  return [
    { type: 'userId', value: message.previousId },
    { type: 'anonymousId', value: message.previousId },
  ];
}

/** An identifier of a message, and whether it may create an identity or only link to an existing one. */
interface Candidate {
  key: IdentityKey;
  linkOnly: boolean;
}

/**
 * Plan what a batch does to the identity graph and profiles, without touching
 * the database: the caller loads the snapshot and applies the plan in one
 * transaction. Messages are taken in log order. A message's identifiers are
 * taken in priority order; each one that belongs to another profile merges
 * it in, unless the merged profile would then hold more identities of some
 * type than the workspace allows: that identifier is left out of the
 * message and the conflict recorded, so one shared junk id cannot swallow
 * thousands of profiles. Merges go into the oldest profile.
 */
export function planBatch(
  messages: readonly IncomingMessage[],
  snapshot: GraphSnapshot,
  policy: IdentityPolicy,
  now: Date,
  newId: () => string,
): BatchPlan {
  const { junk, settings } = policy;
  const owners = new Map(snapshot.owners);
  const redirect = new Map<string, string>();
  const resolve = (id: string): string => {
    let current = id;
    for (let next = redirect.get(current); next !== undefined; next = redirect.get(current)) current = next;
    return current;
  };
  const counts = new Map<string, Map<string, number>>();
  for (const [id, byType] of snapshot.identityCounts) counts.set(id, new Map(byType));
  const countOf = (profileId: string, type: string) => counts.get(profileId)?.get(type) ?? 0;
  const profiles = new Map<string, ProfileState & { isNew: boolean }>();
  const stateOf = (id: string): ProfileState & { isNew: boolean } => {
    let state = profiles.get(id);
    if (!state) {
      const existing = snapshot.profiles.get(id);
      if (!existing) throw new Error(`profile ${id} is owned by an identity but was not loaded`);
      state = { ...existing, traits: { ...existing.traits }, provenance: { ...existing.provenance }, isNew: false };
      profiles.set(id, state);
    }
    return state;
  };
  const plan: BatchPlan = { profiles, identities: [], events: [], merges: [], conflicts: [], blocked: 0 };
  const priority = (type: string) => typeRule(settings, type).priority;

  for (const incoming of messages) {
    const { message, sourceId } = incoming;
    const candidates: Candidate[] = [];
    const conflictsBefore = plan.conflicts.length;
    for (const key of identitiesOf(message, junk)) {
      if (isBlocked(policy, key)) plan.blocked++;
      else candidates.push({ key, linkOnly: false });
    }
    for (const key of previousIdKeys(message, junk)) if (!isBlocked(policy, key)) candidates.push({ key, linkOnly: true });
    // Stable: equal priorities keep the message's own order.
    candidates.sort((a, b) => priority(a.key.type) - priority(b.key.type));

    // Choose the identifiers this message links, and the profiles they bring.
    const group: string[] = [];
    const fresh: IdentityKey[] = [];
    const freshCount = new Map<string, number>();
    const wouldExceed = (extraProfile: string | null, extraType: string | null): string | null => {
      const members = extraProfile ? [...group, extraProfile] : group;
      const types = new Set<string>(freshCount.keys());
      if (extraType) types.add(extraType);
      for (const m of members) for (const type of counts.get(m)?.keys() ?? []) types.add(type);
      for (const type of types) {
        let total = (freshCount.get(type) ?? 0) + (type === extraType ? 1 : 0);
        for (const m of members) total += countOf(m, type);
        if (total > typeRule(settings, type).limit) return type;
      }
      return null;
    };
    for (const { key, linkOnly } of candidates) {
      const owned = owners.get(identityKey(key));
      if (owned === undefined) {
        if (linkOnly || fresh.some((f) => f.type === key.type && f.value === key.value)) continue;
        const exceeded = wouldExceed(null, key.type);
        if (exceeded) {
          plan.conflicts.push({ messageId: message.messageId, identity: key, reason: 'limit', limitType: exceeded, profiles: [...group] });
          continue;
        }
        fresh.push(key);
        freshCount.set(key.type, (freshCount.get(key.type) ?? 0) + 1);
        continue;
      }
      const owner = resolve(owned);
      if (group.includes(owner)) continue;
      const exceeded = wouldExceed(owner, null);
      if (exceeded) {
        plan.conflicts.push({ messageId: message.messageId, identity: key, reason: 'limit', limitType: exceeded, profiles: [...group, owner] });
        continue;
      }
      group.push(owner);
    }
    if (group.length === 0 && fresh.length === 0) {
      plan.events.push({ ...incoming, profileId: null });
      continue;
    }

    const seenAt = new Date(message.timestamp);
    let profileId: string;
    if (group.length === 0) {
      profileId = newId();
      profiles.set(profileId, { id: profileId, traits: {}, provenance: {}, createdAt: now, updatedAt: now, lastSeenAt: null, isNew: true });
    } else {
      const states = group.map(stateOf).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
      const winner = states[0]!;
      profileId = winner.id;
      if (states.length > 1) {
        const merged = mergeStates(states, settings.survivorship);
        winner.traits = merged.traits;
        winner.provenance = merged.provenance;
        const winnerCounts = counts.get(winner.id) ?? new Map<string, number>();
        for (const loser of states.slice(1)) {
          redirect.set(loser.id, winner.id);
          for (const [type, n] of counts.get(loser.id) ?? []) winnerCounts.set(type, (winnerCounts.get(type) ?? 0) + n);
          counts.delete(loser.id);
          // A profile born earlier in this batch never reached the database: nothing to record.
          if (!loser.isNew) plan.merges.push({ from: loser.id, into: winner.id, reason: message.type === 'alias' ? 'alias' : 'shared_identifier', messageId: message.messageId });
          profiles.delete(loser.id);
          if (loser.lastSeenAt && (!winner.lastSeenAt || loser.lastSeenAt > winner.lastSeenAt)) winner.lastSeenAt = loser.lastSeenAt;
        }
        counts.set(winner.id, winnerCounts);
        winner.updatedAt = now;
      }
    }
    // The message's own profile is a party to its conflicts too (it may have been born just now).
    for (const conflict of plan.conflicts.slice(conflictsBefore)) if (!conflict.profiles.includes(profileId)) conflict.profiles.unshift(profileId);
    const profile = stateOf(profileId);
    const profileCounts = counts.get(profileId) ?? new Map<string, number>();
    counts.set(profileId, profileCounts);
    for (const key of fresh) {
      owners.set(identityKey(key), profileId);
      profileCounts.set(key.type, (profileCounts.get(key.type) ?? 0) + 1);
      plan.identities.push({ ...key, profileId, sourceId, firstSeenAt: seenAt });
    }
    if (message.type === 'alias' && message.previousId !== undefined && group.length <= 1 && previousIdKeys(message, junk).every((k) => !owners.has(identityKey(k)))) {
      // An alias's previous id seen for the first time is almost always the anonymous one.
      const key: IdentityKey = { type: 'anonymousId', value: message.previousId };
      if (!isBlocked(policy, key) && countOf(profileId, 'anonymousId') < typeRule(settings, 'anonymousId').limit) {
        owners.set(identityKey(key), profileId);
        profileCounts.set('anonymousId', countOf(profileId, 'anonymousId') + 1);
        plan.identities.push({ ...key, profileId, sourceId, firstSeenAt: seenAt });
      }
    }
    const offer = { sourceId, messageId: message.messageId, at: seenAt };
    let changed = false;
    for (const [key, value] of Object.entries(traitsOf(message))) {
      if (offerTrait(profile, key, value, { ...offer, derived: false }, settings.survivorship)) changed = true;
    }
    for (const [key, value] of Object.entries(incoming.derived ?? {})) {
      if (offerTrait(profile, key, value, { ...offer, derived: true }, settings.survivorship)) changed = true;
    }
    if (changed) profile.updatedAt = now;
    if (!profile.lastSeenAt || seenAt > profile.lastSeenAt) profile.lastSeenAt = seenAt;
    plan.events.push({ ...incoming, profileId });
  }
  // Events planned before a later merge in the same batch follow their profile.
  for (const event of plan.events) if (event.profileId) event.profileId = resolve(event.profileId);
  for (const identity of plan.identities) identity.profileId = resolve(identity.profileId);
  for (const conflict of plan.conflicts) conflict.profiles = [...new Set(conflict.profiles.map(resolve))];
  return plan;
}
