import type { Survivorship, SurvivorshipRule } from './settings.js';

/**
 * Where one trait's value came from. Stored in the clear beside the profile,
 * so it holds ids and times only, never a value.
 */
export interface TraitOrigin {
  /** source id */
  s: string;
  /** message id */
  m: string;
  /** the message's time, ISO */
  t: string;
  /** the rule that kept this value when another competed */
  r?: SurvivorshipRule;
  /** 1: cleaning derived it from other evidence; any value a source gave beats it */
  d?: 1;
  /**
   * `frequent` rule: a majority-vote counter (Boyer–Moore). Repeating the
   * value adds one, a different value takes one away and replaces it at zero.
   * It finds the value most messages agree on without keeping a fingerprint
   * of every value a person ever had.
   */
  c?: number;
}

export type Provenance = Record<string, TraitOrigin>;

export interface TraitState {
  traits: Record<string, unknown>;
  provenance: Provenance;
}

export interface Offer {
  sourceId: string;
  messageId: string;
  at: Date;
  derived: boolean;
}

export const NO_SURVIVORSHIP: Survivorship = { default: 'recent', sourceOrder: [], fields: {} };

function ruleOf(rules: Survivorship, key: string): SurvivorshipRule {
  return rules.fields[key] ?? rules.default;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How much a value says: filled parts of an address, characters of a name. */
export function completeness(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return value.trim().length;
  if (typeof value === 'number' || typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + completeness(v), 0);
  if (typeof value === 'object') {
    let parts = 0;
    let length = 0;
    for (const v of Object.values(value)) {
      const c = completeness(v);
      if (c > 0) parts++;
      length += c;
    }
    // More parts beats longer parts: {city, district, street} over a long street alone.
    return parts * 10_000 + length;
  }
  return 0;
}

function sourceRank(rules: Survivorship, sourceId: string): number {
  const i = rules.sourceOrder.indexOf(sourceId);
  return i === -1 ? rules.sourceOrder.length : i;
}

/**
 * Whether a challenger value replaces the current one under the trait's rule.
 * A value a source gave always beats a derived one; then the rule; then the
 * more recent message (a tie goes to the challenger, which came later).
 */
function challengerWins(rules: Survivorship, key: string, current: unknown, currentOrigin: TraitOrigin | undefined, value: unknown, origin: TraitOrigin): boolean {
  if (current === undefined || current === null) return true;
  // A trait from before provenance was kept: the old rule was "the latest write wins".
  if (!currentOrigin) return origin.d !== 1;
  if (origin.d === 1 && currentOrigin.d !== 1) return false;
  if (origin.d !== 1 && currentOrigin.d === 1) return true;
  switch (ruleOf(rules, key)) {
    case 'source': {
      const diff = sourceRank(rules, origin.s) - sourceRank(rules, currentOrigin.s);
      if (diff !== 0) return diff < 0;
      break;
    }
    case 'complete': {
      const diff = completeness(value) - completeness(current);
      if (diff !== 0) return diff > 0;
      break;
    }
    case 'frequent':
      // Settled by the counter in offerTrait / mergeStates.
      break;
    case 'recent':
      break;
  }
  return origin.t >= currentOrigin.t;
}

/**
 * Offer one message's value for one trait to a profile; the survivorship rule
 * decides whether it replaces the current one. Mutates `state`; returns
 * whether the profile changed.
 */
export function offerTrait(state: TraitState, key: string, value: unknown, offer: Offer, rules: Survivorship): boolean {
  const rule = ruleOf(rules, key);
  const origin: TraitOrigin = { s: offer.sourceId, m: offer.messageId, t: offer.at.toISOString(), r: rule };
  if (offer.derived) origin.d = 1;
  const current = state.traits[key];
  const currentOrigin = state.provenance[key];
  if (rule === 'frequent' && current !== undefined && current !== null && currentOrigin && (currentOrigin.d === 1) === offer.derived) {
    const count = currentOrigin.c ?? 1;
    if (sameValue(current, value)) {
      state.provenance[key] = { ...origin, c: count + 1 };
      return true;
    }
    if (count > 1) {
      state.provenance[key] = { ...currentOrigin, c: count - 1 };
      return true;
    }
    state.traits[key] = value;
    state.provenance[key] = { ...origin, c: 1 };
    return true;
  }
  if (!challengerWins(rules, key, current, currentOrigin, value, origin)) return false;
  if (rule === 'frequent') origin.c = 1;
  state.traits[key] = value;
  state.provenance[key] = origin;
  return true;
}

/**
 * The golden traits of profiles merged into one: per trait, the value the
 * rules prefer among the profiles' current values. Pure: merging the same
 * states in the same order gives the same result.
 */
export function mergeStates(states: readonly TraitState[], rules: Survivorship): TraitState {
  const merged: TraitState = { traits: {}, provenance: {} };
  for (const state of states) {
    for (const [key, value] of Object.entries(state.traits)) {
      const origin = state.provenance[key];
      const current = merged.traits[key];
      const currentOrigin = merged.provenance[key];
      if (current === undefined || current === null) {
        merged.traits[key] = value;
        if (origin) merged.provenance[key] = { ...origin };
        else delete merged.provenance[key];
        continue;
      }
      if (origin && currentOrigin && ruleOf(rules, key) === 'frequent' && (origin.d === 1) === (currentOrigin.d === 1)) {
        const a = currentOrigin.c ?? 1;
        const b = origin.c ?? 1;
        if (sameValue(current, value)) merged.provenance[key] = { ...(origin.t >= currentOrigin.t ? origin : currentOrigin), c: a + b };
        else if (b > a || (b === a && origin.t >= currentOrigin.t)) {
          merged.traits[key] = value;
          merged.provenance[key] = { ...origin, c: b - a || 1 };
        } else merged.provenance[key] = { ...currentOrigin, c: a - b || 1 };
        continue;
      }
      const challenger = origin ?? { s: '', m: '', t: '' };
      if (challengerWins(rules, key, current, currentOrigin, value, challenger)) {
        merged.traits[key] = value;
        if (origin) merged.provenance[key] = { ...origin };
        else delete merged.provenance[key];
      }
    }
  }
  return merged;
}

/** Trait keys whose value cleaning derived rather than a source giving it. */
export function derivedKeys(provenance: Provenance): string[] {
  return Object.keys(provenance).filter((k) => provenance[k]!.d === 1);
}
