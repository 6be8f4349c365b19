import type { Role } from './access.js';
import { classifyField, foldKey, type FieldClass } from './field-catalog.js';

// The parts of an address object that say where, not who: shown as they are.
const PLACE_KEYS = new Set(['city', 'province', 'state', 'region', 'district', 'country', 'postalcode', 'postcode', 'zip', 'zipcode']);

/**
 * Show the shape of a personal value without the value: `138****8000`,
 * `z***@qq.com`, `张*`. Enough for a data steward to see what is wrong with a
 * phone or an email, not enough to contact the person.
 */
export function maskValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'number') return maskValue(String(value));
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, PLACE_KEYS.has(foldKey(k)) ? v : maskValue(v)]));
  }
  if (typeof value !== 'string') return '***';
  const chars = [...value];
  const at = value.lastIndexOf('@');
  if (at > 0) return `${[...value.slice(0, at)][0]}***${value.slice(at)}`;
  const digits = value.replace(/\D/g, '').length;
  // The usual Chinese masking of a mobile number; shorter numbers would give too much of themselves away.
  if (digits >= 11 && digits >= chars.length * 0.6) return `${value.slice(0, 3)}****${value.slice(-4)}`;
  if (chars.length <= 3) return `${chars.length > 1 ? chars[0] : ''}${'*'.repeat(Math.max(1, chars.length - 1))}`;
  return `${chars[0]}${'*'.repeat(Math.min(chars.length - 2, 6))}${chars[chars.length - 1]}`;
}

/** Mask a field's value when the field catalog classes it as an identifier. */
export function maskField(field: string, value: unknown): unknown {
  return classifyField(field) === 'identifier' ? maskValue(value) : value;
}

/** Who is looking: a role, or just the field classes it sees in the clear. */
export type Viewer = Pick<Role, 'unmasked'>;

// Tracking payloads name a person by keys the trait catalog has no reason to list.
const PAYLOAD_IDENTIFIER_KEYS = new Set(['userid', 'anonymousid', 'ip', 'ipaddress', 'deviceid', 'advertisingid', 'latitude', 'longitude']);

/** The class of a key anywhere in a profile, event or lineage entry: the field catalog's, plus the ids tracking payloads carry. */
export function classOfKey(key: string): FieldClass {
  return PAYLOAD_IDENTIFIER_KEYS.has(foldKey(key)) ? 'identifier' : classifyField(key);
}

/** Behavioral fields are seen by everyone; identifier and quasi fields by the roles granted them. */
export function viewerSees(viewer: Viewer, fieldClass: FieldClass): boolean {
  return fieldClass === 'behavioral' || (viewer.unmasked as readonly string[]).includes(fieldClass);
}

// The common case (admin, support) costs nothing: the value goes out as it is.
export function seesAll(viewer: Viewer): boolean {
  return viewerSees(viewer, 'identifier') && viewerSees(viewer, 'quasi');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Mask a whole value of one class: every element of a list, every part of an object. */
function maskAs(fieldClass: FieldClass, value: unknown, viewer: Viewer): unknown {
  if (value === null || value === undefined || viewerSees(viewer, fieldClass)) return value;
  if (Array.isArray(value)) return value.map((v) => maskAs(fieldClass, v, viewer));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAs(fieldClass, v, viewer)]));
  return maskValue(value);
}

// shippingAddress, billing_address: an address by any name says where (quasi) and who (the rest).
const isAddressKey = (key: string) => foldKey(key).endsWith('address');

// A behavioral value is shown as it is, but a person may have typed their phone or email into it (a comment, a note).
function maskBehavioral(value: unknown, viewer: Viewer): unknown {
  if (typeof value === 'string') return maskFreeText(value, viewer);
  // A mainland mobile sent as a JSON number is still a mobile number; other
  // long integers (millisecond timestamps, amounts in cents) are left alone.
  if (typeof value === 'number' && !viewerSees(viewer, 'identifier') && /^1[3-9]\d{9}$/.test(String(value))) return maskValue(String(value));
  if (Array.isArray(value)) return value.map((v) => maskBehavioral(v, viewer));
  if (isPlainObject(value)) return maskFields(value, viewer);
  return value;
}

/**
 * One field as this viewer may see it, by its key's class. Objects under a
 * behavioral key (event properties, context, nested payloads) are masked key
 * by key; an address keeps its place parts as quasi and the rest as identifier.
 */
export function maskFieldFor(key: string, value: unknown, viewer: Viewer): unknown {
  const fieldClass = classOfKey(key);
  if (isPlainObject(value) && isAddressKey(key)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAs(PLACE_KEYS.has(foldKey(k)) ? 'quasi' : 'identifier', v, viewer)]));
  }
  return fieldClass === 'behavioral' ? maskBehavioral(value, viewer) : maskAs(fieldClass, value, viewer);
}

/** A trait, property or context object with every field masked the viewer may not see; behavioral fields stay as they are. */
export function maskFields(fields: Record<string, unknown>, viewer: Viewer): Record<string, unknown> {
  if (seesAll(viewer)) return fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, maskFieldFor(k, v, viewer)]));
}

/** Identities hold identifiers whatever their type; a record keeps its source visible (`crm:1******5`). */
export function maskIdentities<T extends { type: string; value: string }>(identities: readonly T[], viewer: Viewer): T[] {
  if (viewerSees(viewer, 'identifier')) return [...identities];
  return identities.map((i) => {
    const colon = i.type === 'record' ? i.value.indexOf(':') : -1;
    const value = colon > 0 ? `${i.value.slice(0, colon + 1)}${String(maskValue(i.value.slice(colon + 1)))}` : String(maskValue(i.value));
    return { ...i, value };
  });
}

/** Source records (`{source, id}`): the id is the person's key in that system. */
export function maskRecords<T extends { source: string; id: string }>(records: readonly T[], viewer: Viewer): T[] {
  if (viewerSees(viewer, 'identifier')) return [...records];
  return records.map((r) => ({ ...r, id: String(maskValue(r.id)) }));
}

/** A unified profile: traits, identities and records; ids, tags, segments and scores are not about who the person is. */
export function maskProfile<T extends { traits: Record<string, unknown>; identities: Array<{ type: string; value: string }>; records: Array<{ source: string; id: string }> }>(
  profile: T,
  viewer: Viewer,
): T {
  if (seesAll(viewer)) return profile;
  return { ...profile, traits: maskFields(profile.traits, viewer), identities: maskIdentities(profile.identities, viewer), records: maskRecords(profile.records, viewer) };
}

/** A timeline event: its ids, and properties and context key by key (context.traits like traits, context.ip an identifier). */
export function maskEvent<T extends { userId: string | null; anonymousId: string | null; properties: Record<string, unknown>; context: Record<string, unknown> | null }>(
  event: T,
  viewer: Viewer,
): T {
  if (seesAll(viewer)) return event;
  const id = (v: string | null) => (v === null || viewerSees(viewer, 'identifier') ? v : String(maskValue(v)));
  return {
    ...event,
    userId: id(event.userId),
    anonymousId: id(event.anonymousId),
    properties: maskFields(event.properties, viewer),
    context: event.context === null ? null : maskFields(event.context, viewer),
  };
}

// Cleaning quotes the value it refused ("zhang@@qq.com" has more than one @.).
const QUOTED = /"(?:[^"\\]|\\.)*"/g;

function maskQuoted(text: string, fieldClass: FieldClass, viewer: Viewer): string {
  return text.replace(QUOTED, (quoted) => {
    try {
      return JSON.stringify(String(maskAs(fieldClass, JSON.parse(quoted), viewer)));
    } catch {
      return '"***"';
    }
  });
}

/**
 * A lineage entry: the value as sent, as stored and as suggested, by the
 * field's class (`context.traits.email` is an email), and the refusal reason,
 * which quotes the value.
 */
export function maskLineageEntry<T extends { field: string; original?: unknown; value?: unknown; suggestion?: string; reason?: string }>(entry: T, viewer: Viewer): T {
  if (seesAll(viewer)) return entry;
  const key = entry.field.slice(entry.field.lastIndexOf('.') + 1);
  const fieldClass = classOfKey(key);
  const masked: T = { ...entry };
  if ('original' in entry) masked.original = maskFieldFor(key, entry.original, viewer);
  if ('value' in entry) masked.value = maskFieldFor(key, entry.value, viewer);
  if (entry.suggestion !== undefined) masked.suggestion = String(maskFieldFor(key, entry.suggestion, viewer));
  if (entry.reason !== undefined && !viewerSees(viewer, fieldClass)) {
    const text = typeof entry.original === 'string' ? entry.original.trim() : '';
    let reason = maskQuoted(entry.reason, fieldClass, viewer);
    if (text.length > 1) reason = reason.split(text).join(String(maskValue(text)));
    masked.reason = reason;
  }
  return masked;
}

const EMAIL_IN_TEXT = /[^\s@<>()[\]"',;:]+@[^\s@<>()[\]"',;:]+\.[^\s@<>()[\]"',;:]+/gu;
// Digits as people type them, spaced or dashed; an ID number may end in X. Not
// inside a token of Latin letters and digits: a UUID or an order code is no phone.
const NUMBER_IN_TEXT = /(?<![A-Za-z0-9-])\+?\d(?:[ -]?\d)+[Xx]?(?![A-Za-z0-9-])/g;

// Eleven digits and up are phones (138 1234 8000, 021-5555-1234), ID and card
// numbers; shorter runs are dates, prices and order numbers, left alone unless
// written as an international number.
function personalNumber(text: string): boolean {
  const digits = text.replace(/\D/g, '').length;
  return digits >= 11 || (text.startsWith('+') && digits >= 8);
}

/**
 * Free text (feedback, a comment property) with the contact details a person
 * wrote into it masked. Names cannot be told from other words reliably;
 * emails and phone or ID numbers can.
 */
export function maskFreeText(text: string, viewer: Viewer): string {
  if (viewerSees(viewer, 'identifier')) return text;
  return text
    .replace(EMAIL_IN_TEXT, (email) => String(maskValue(email)))
    .replace(NUMBER_IN_TEXT, (number) => (personalNumber(number) ? String(maskValue(number.replace(/[ -]/g, ''))) : number));
}
