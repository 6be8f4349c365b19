import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { TrackingMessage } from '../collect/messages.js';
import { identitiesOf, identityKey, traitsOf, type IdentityKey } from './identifiers.js';

/** A profile as the planner sees it: traits joined (plain and identifier classes). */
export interface ProfileState {
  id: string;
  traits: Record<string, unknown>;
  /** traits filled from evidence (cleaning's derived values), not given by any source: a given value beats them */
  derived?: ReadonlySet<string>;
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

export interface PlannedMerge {
  from: string;
  into: string;
  reason: 'shared_identifier' | 'alias';
  messageId: string;
}

export interface BatchPlan {
  /** profiles to insert or update, keyed by id, in their final state */
  profiles: Map<string, ProfileState & { isNew: boolean }>;
  /** identities not seen before */
  identities: PlannedIdentity[];
  /** every message, with the profile it belongs to (null: it carried no usable identifier) */
  events: Array<IncomingMessage & { profileId: string | null }>;
  merges: PlannedMerge[];
}

export interface GraphSnapshot {
  /** identityKey → profile id, for the identities this batch mentions that already exist */
  owners: ReadonlyMap<string, string>;
  /** the current state of every profile in `owners` */
  profiles: ReadonlyMap<string, ProfileState>;
}

/**
 * Survivorship for now (the identity issue owns the real rules): per trait,
 * the most recently updated profile's value wins, except that a value some
 * source gave beats one cleaning derived.
 */
function survivingTraits(oldestUpdateFirst: readonly ProfileState[]): { traits: Record<string, unknown>; derived: Set<string> } {
  const traits: Record<string, unknown> = {};
  const derived = new Set<string>();
  for (const state of oldestUpdateFirst) {
    for (const [key, value] of Object.entries(state.traits)) {
      const isDerived = state.derived?.has(key) === true;
      if (isDerived && key in traits && !derived.has(key)) continue;
      traits[key] = value;
      if (isDerived) derived.add(key);
      else derived.delete(key);
    }
  }
  return { traits, derived };
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

/**
 * Plan what a batch does to the identity graph and profiles, without touching
 * the database: the caller loads the snapshot and applies the plan in one
 * transaction. Messages are taken in log order; a message whose identifiers
 * belong to several profiles merges them into the oldest.
 */
export function planBatch(
  messages: readonly IncomingMessage[],
  snapshot: GraphSnapshot,
  junk: JunkIdFilter,
  now: Date,
  newId: () => string,
): BatchPlan {
  const owners = new Map(snapshot.owners);
  const redirect = new Map<string, string>();
  const resolve = (id: string): string => {
    let current = id;
    for (let next = redirect.get(current); next !== undefined; next = redirect.get(current)) current = next;
    return current;
  };
  const profiles = new Map<string, ProfileState & { isNew: boolean }>();
  const stateOf = (id: string): ProfileState & { isNew: boolean } => {
    let state = profiles.get(id);
    if (!state) {
      const existing = snapshot.profiles.get(id);
      if (!existing) throw new Error(`profile ${id} is owned by an identity but was not loaded`);
      state = { ...existing, traits: { ...existing.traits }, derived: new Set(existing.derived), isNew: false };
      profiles.set(id, state);
    }
    return state;
  };
  const plan: BatchPlan = { profiles, identities: [], events: [], merges: [] };

  for (const incoming of messages) {
    const { message, sourceId } = incoming;
    const keys = identitiesOf(message, junk);
    const linked = [...keys, ...previousIdKeys(message, junk)];
    const owning = [...new Set(linked.map((k) => owners.get(identityKey(k))).filter((p): p is string => p !== undefined).map(resolve))];
    if (keys.length === 0 && owning.length === 0) {
      plan.events.push({ ...incoming, profileId: null });
      continue;
    }
    const seenAt = new Date(message.timestamp);
    let profileId: string;
    if (owning.length === 0) {
      profileId = newId();
      profiles.set(profileId, { id: profileId, traits: {}, derived: new Set(), createdAt: now, updatedAt: now, lastSeenAt: null, isNew: true });
    } else {
      const states = owning.map(stateOf).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
      const winner = states[0]!;
      profileId = winner.id;
      if (states.length > 1) {
        const merged = survivingTraits([...states].sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime()));
        winner.traits = merged.traits;
        winner.derived = merged.derived;
        for (const loser of states.slice(1)) {
          redirect.set(loser.id, winner.id);
          // A profile born earlier in this batch never reached the database: nothing to record.
          if (!loser.isNew) plan.merges.push({ from: loser.id, into: winner.id, reason: message.type === 'alias' ? 'alias' : 'shared_identifier', messageId: message.messageId });
          profiles.delete(loser.id);
          if (loser.lastSeenAt && (!winner.lastSeenAt || loser.lastSeenAt > winner.lastSeenAt)) winner.lastSeenAt = loser.lastSeenAt;
        }
        winner.updatedAt = now;
      }
    }
    const profile = stateOf(profileId);
    for (const key of keys) {
      const k = identityKey(key);
      if (!owners.has(k)) {
        owners.set(k, profileId);
        plan.identities.push({ ...key, profileId, sourceId, firstSeenAt: seenAt });
      }
    }
    if (message.type === 'alias' && message.previousId !== undefined && previousIdKeys(message, junk).every((k) => !owners.has(identityKey(k)))) {
      // An alias's previous id seen for the first time is almost always the anonymous one.
      const key: IdentityKey = { type: 'anonymousId', value: message.previousId };
      owners.set(identityKey(key), profileId);
      plan.identities.push({ ...key, profileId, sourceId, firstSeenAt: seenAt });
    }
    const traits = traitsOf(message);
    const derived = profile.derived as Set<string>;
    if (Object.keys(traits).length > 0) {
      Object.assign(profile.traits, traits);
      for (const key of Object.keys(traits)) derived.delete(key);
      profile.updatedAt = now;
    }
    for (const [key, value] of Object.entries(incoming.derived ?? {})) {
      if (profile.traits[key] === undefined || profile.traits[key] === null) {
        profile.traits[key] = value;
        derived.add(key);
        profile.updatedAt = now;
      }
    }
    if (!profile.lastSeenAt || seenAt > profile.lastSeenAt) profile.lastSeenAt = seenAt;
    plan.events.push({ ...incoming, profileId });
  }
  // Events planned before a later merge in the same batch follow their profile.
  for (const event of plan.events) if (event.profileId) event.profileId = resolve(event.profileId);
  for (const identity of plan.identities) identity.profileId = resolve(identity.profileId);
  return plan;
}
