import { cleanTraits, type FieldObservation, type LineageEntry } from '../clean/traits.js';
import type { CleanContext } from '../clean/settings.js';
import type { TrackingMessage } from '../collect/messages.js';

/** A message after cleaning, with what cleaning did to it. */
export interface CleanedMessage {
  /** the message with standardized traits; the caller keeps the raw one for the event store */
  message: TrackingMessage;
  /** values filled from evidence: they fill a profile's gaps and never overwrite */
  derived: Record<string, unknown>;
  lineage: LineageEntry[];
  observations: FieldObservation[];
  /** the message carried traits at all (the denominator of a field's null rate) */
  hasTraits: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Standardize the traits a message sets: an identify's traits and any call's
 * context.traits (orders and feedback carry the customer's contact there).
 * Identity resolution then links on standardized values.
 */
export function cleanMessage(message: TrackingMessage, context: CleanContext): CleanedMessage {
  const out: CleanedMessage = { message, derived: {}, lineage: [], observations: [], hasTraits: false };
  const seen = new Set<string>();
  const take = (traits: Record<string, unknown>, prefix: string) => {
    const cleaned = cleanTraits(traits, context);
    for (const entry of cleaned.lineage) out.lineage.push(prefix ? { ...entry, field: `${prefix}${entry.field}` } : entry);
    // One observation per field per message: identify traits win over context.traits, as they do on the profile.
    for (const o of cleaned.observations) if (!seen.has(o.field)) (seen.add(o.field), out.observations.push(o));
    for (const [k, v] of Object.entries(cleaned.derived)) if (!(k in out.derived)) out.derived[k] = v;
    out.hasTraits = true;
    return cleaned.traits;
  };
  let cleanedMessage: TrackingMessage = message;
  if (message.type === 'identify' && isObject(message.traits) && Object.keys(message.traits).length > 0) {
    cleanedMessage = { ...cleanedMessage, traits: take(message.traits, '') };
  }
  const contextTraits = message.context?.traits;
  if (isObject(contextTraits) && Object.keys(contextTraits).length > 0) {
    cleanedMessage = { ...cleanedMessage, context: { ...cleanedMessage.context, traits: take(contextTraits, 'context.traits.') } };
  }
  out.message = cleanedMessage;
  return out;
}
