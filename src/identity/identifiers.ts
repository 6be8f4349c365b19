import { emailMatchKey, standardizeEmail } from '../clean/email.js';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { standardizePhone } from '../clean/phone.js';
import { DEFAULT_COUNTRIES } from '../clean/result.js';
import { standardFieldOf } from '../clean/traits.js';
import type { TrackingMessage } from '../collect/messages.js';

/**
 * Identity types the deterministic graph links on. `record` is a source
 * system's own id; any other name is a custom type a source declares in
 * `context.externalIds` (a WeChat openid, a loyalty card number).
 */
export type BuiltInIdentityType = 'userId' | 'anonymousId' | 'email' | 'phone' | 'record';
export type IdentityType = BuiltInIdentityType | (string & {});

const BUILT_IN: ReadonlySet<string> = new Set<BuiltInIdentityType>(['userId', 'anonymousId', 'email', 'phone', 'record']);
const CUSTOM_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

export interface IdentityKey {
  type: IdentityType;
  /** standardized: equal people give equal values */
  value: string;
}

/** `type:value`, the key of an identity inside one workspace. */
export function identityKey(id: IdentityKey): string {
  return `${id.type}:${id.value}`;
}

/**
 * The form an identity is stored and looked up in: an email's matching key,
 * a phone in E.164. Null when the value cannot be that identifier: an invalid
 * email or phone links nobody (the pipeline has already recorded it as an issue).
 */
export function standardizeIdentity(type: IdentityType, value: string, countries: readonly string[] = DEFAULT_COUNTRIES): string | null {
  if (type === 'email') {
    const email = standardizeEmail(value);
    return email.ok ? emailMatchKey(email.value) : null;
  }
  if (type === 'phone') {
    const phone = standardizePhone(value, { countries });
    return phone.ok ? phone.value.e164 : null;
  }
  return value;
}

/** Every email or phone a trait object holds, under any of the keys cleaning knows them by (`mobile`, `tel`, `emailAddress`…). */
function traitTexts(traits: Record<string, unknown> | undefined, field: 'email' | 'phone'): string[] {
  if (!traits) return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(traits)) {
    if ((typeof value === 'string' || typeof value === 'number') && standardFieldOf(key) === field) found.push(String(value));
  }
  return found;
}

/**
 * The identities a message carries, in priority order. `previousId` of an
 * alias is returned separately: it may be a userId or an anonymousId.
 */
export function identitiesOf(message: TrackingMessage, junk: JunkIdFilter): IdentityKey[] {
  const found: IdentityKey[] = [];
  const add = (type: IdentityType, raw: string | undefined) => {
    if (raw === undefined || junk.isJunk(raw)) return;
    const value = standardizeIdentity(type, raw);
    if (value === null || value === '' || junk.isJunk(value)) return;
    if (!found.some((f) => f.type === type && f.value === value)) found.push({ type, value });
  };
  add('userId', message.userId);
  for (const record of sourceRecordsOf(message)) add('record', `${record.source}:${record.id}`);
  for (const custom of customIdsOf(message)) add(custom.type, custom.id);
  const contextTraits = message.context?.traits as Record<string, unknown> | undefined;
  for (const traits of [message.type === 'identify' ? message.traits : undefined, contextTraits]) {
    for (const email of traitTexts(traits, 'email')) add('email', email);
    for (const phone of traitTexts(traits, 'phone')) add('phone', phone);
  }
  add('anonymousId', message.anonymousId);
  return found;
}

/**
 * Source-system records a message names, as Segment-style external ids:
 * `context.externalIds: [{ type: 'record', collection: <source>, id: <record id> }]`.
 * File imports set them; an SDK may too.
 */
export function sourceRecordsOf(message: TrackingMessage): Array<{ source: string; id: string }> {
  const list = message.context?.externalIds;
  if (!Array.isArray(list)) return [];
  const records: Array<{ source: string; id: string }> = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { type, collection, id } = item as Record<string, unknown>;
    if (type !== 'record' || typeof collection !== 'string' || collection === '') continue;
    if ((typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isFinite(id))) records.push({ source: collection, id: String(id) });
  }
  return records;
}

/**
 * Other external ids a message names (`{type: 'wechat_openid', id: 'o…'}`):
 * each type is an identity type of its own. A built-in type name given this
 * way is that identity (`{type: 'email', id: …}` is an email).
 */
export function customIdsOf(message: TrackingMessage): Array<{ type: string; id: string }> {
  const list = message.context?.externalIds;
  if (!Array.isArray(list)) return [];
  const ids: Array<{ type: string; id: string }> = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { type, id } = item as Record<string, unknown>;
    if (typeof type !== 'string' || type === 'record' || !CUSTOM_TYPE.test(type)) continue;
    if ((typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isFinite(id))) ids.push({ type: BUILT_IN.has(type) ? type : type.toLowerCase(), id: String(id).trim() });
  }
  return ids;
}

/** The traits a message sets on its profile: identify traits, and context.traits on any call. */
export function traitsOf(message: TrackingMessage): Record<string, unknown> {
  const contextTraits = message.context?.traits;
  const fromContext = typeof contextTraits === 'object' && contextTraits !== null && !Array.isArray(contextTraits) ? contextTraits : {};
  return message.type === 'identify' ? { ...fromContext, ...message.traits } : { ...fromContext };
}
