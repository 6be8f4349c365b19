import { standardizeAddress, standardizeCity, standardizeProvince, standardizeUsState, type StandardAddress } from './address.js';
import { standardizeCountry } from './country.js';
import { parseDate, standardizeDate } from './date.js';
import { emailMatchKey, standardizeEmail } from './email.js';
import { standardizeGender, standardizeNumber } from './enums.js';
import { standardizeName, standardizeNameParts, type StandardName } from './name.js';
import { standardizeChinaResidentId } from './national-id.js';
import { standardizePhone } from './phone.js';
import { standardizePostalCode } from './postal-code.js';
import { asText, cleanValue, type Cleaned, type CleanFlag } from './result.js';
import type { CleanContext } from './settings.js';

/** The standard fields cleaning knows, by their canonical trait name. */
export const STANDARD_FIELDS = [
  'email', 'phone', 'name', 'firstName', 'lastName', 'birthday', 'gender', 'age', 'country', 'province', 'city',
  'address', 'postalCode', 'nationalId', 'createdAt',
] as const;
export type StandardField = (typeof STANDARD_FIELDS)[number];

/** Fields that identify one person: two profiles sharing a value are probably one person. */
export const IDENTIFYING_FIELDS: ReadonlySet<StandardField> = new Set(['email', 'phone', 'nationalId']);

/** Fields a person has one value of: sources disagreeing about them is an inconsistency (emails, phones and addresses may rightly be several). */
export const SINGLE_VALUED_FIELDS: ReadonlySet<StandardField> = new Set(['name', 'firstName', 'lastName', 'birthday', 'gender', 'nationalId']);

// Trait keys are compared folded (lower case, no separators), as in the field catalog.
const KEYS: Record<StandardField, readonly string[]> = {
  email: ['email', 'emailaddress'],
  phone: ['phone', 'mobile', 'mobilephone', 'cellphone', 'phonenumber', 'mobilenumber', 'telephone', 'tel'],
  name: ['name', 'fullname'],
  firstName: ['firstname', 'givenname'],
  lastName: ['lastname', 'familyname', 'surname'],
  birthday: ['birthday', 'birthdate', 'dateofbirth', 'dob'],
  gender: ['gender', 'sex'],
  age: ['age'],
  country: ['country', 'countrycode'],
  province: ['province', 'state'],
  city: ['city'],
  address: ['address'],
  postalCode: ['postalcode', 'postcode', 'zip', 'zipcode'],
  nationalId: ['nationalid', 'idnumber', 'idcard', 'idcardnumber', 'residentid'],
  createdAt: ['createdat'],
};
const FIELD_OF_KEY = new Map<string, StandardField>();
for (const field of STANDARD_FIELDS) for (const key of KEYS[field]) FIELD_OF_KEY.set(key, field);

function fold(key: string): string {
  return key.toLowerCase().replace(/[\s_\-.]/g, '');
}

/** The trait keys (folded: lower case, no separators) a standard field is recognised by. */
export function keysOfStandardField(field: StandardField): readonly string[] {
  return KEYS[field];
}

/** The standard field a trait key stands for, if any. */
export function standardFieldOf(key: string): StandardField | undefined {
  return FIELD_OF_KEY.get(fold(key));
}

/** One thing cleaning did to one field of one message: the lineage a profile's field history shows. */
export interface LineageEntry {
  field: string;
  kind: 'standardized' | 'refused' | 'flagged' | 'derived';
  original?: unknown;
  value?: unknown;
  rules?: readonly string[];
  /** refused: the issue id and why */
  issue?: string;
  reason?: string;
  /** flagged */
  flag?: string;
  suggestion?: string;
  /** derived: the field the value came from */
  derivedFrom?: string;
}

/** What a source said about a standard field, for the quality tables. */
export interface FieldObservation {
  field: StandardField;
  valid: boolean;
  /** the standardized value as text (email: its matching key), when valid */
  value?: string;
}

export interface CleanedTraits {
  /** the standardized traits; refused values are left out (the raw message keeps them) */
  traits: Record<string, unknown>;
  /** values filled from evidence in the same message; they fill a profile's gaps, never overwrite */
  derived: Record<string, unknown>;
  lineage: LineageEntry[];
  observations: FieldObservation[];
}

type Outcome = Cleaned<unknown>;

const EMPTY_ISSUE = /\.empty$/;

/**
 * Standardize a trait object: every standard field through its standardizer,
 * everything else untouched. Pure; the pipeline runs it on every identify and
 * every context.traits before identity resolution.
 */
export function cleanTraits(input: Record<string, unknown>, context: CleanContext): CleanedTraits {
  const traits: Record<string, unknown> = {};
  const derived: Record<string, unknown> = {};
  const lineage: LineageEntry[] = [];
  const observations: FieldObservation[] = [];
  const present = new Map<StandardField, string>();
  for (const key of Object.keys(input)) {
    const field = standardFieldOf(key);
    if (field && !present.has(field)) present.set(field, key);
  }

  const validFields = new Set<StandardField>();

  /** Record a standardizer's outcome under `key`; the standardized value, or undefined when refused or empty. */
  const apply = <T>(key: string, field: StandardField, original: unknown, outcome: Cleaned<T>, shown: (v: T) => unknown, index: (v: T) => string): T | undefined => {
    // A field given under two keys (`phone` and `mobile`) is cleaned under both, observed once.
    const observed = present.get(field) === key;
    if (!outcome.ok) {
      if (EMPTY_ISSUE.test(outcome.issue)) return undefined;
      lineage.push({ field: key, kind: 'refused', original, issue: outcome.issue, reason: outcome.reason });
      if (observed) observations.push({ field, valid: false });
      return undefined;
    }
    const value = shown(outcome.value);
    setOwn(traits, key, value);
    validFields.add(field);
    if (outcome.rules.length > 0) lineage.push({ field: key, kind: 'standardized', original, value, rules: outcome.rules });
    for (const flag of outcome.flags) lineage.push(flagEntry(key, original, flag));
    if (observed) observations.push({ field, valid: true, value: index(outcome.value) });
    return outcome.value;
  };
  const derive = (field: StandardField, value: unknown, from: string) => {
    // A field the message gave validly is not derived; one it gave but we refused may be.
    if (validFields.has(field) || value === undefined || value === '' || field in derived) return;
    derived[field] = value;
    lineage.push({ field, kind: 'derived', value, derivedFrom: from });
  };

  const results: Partial<Record<StandardField, unknown>> = {};
  for (const [key, original] of Object.entries(input)) {
    const field = standardFieldOf(key);
    // Nulls pass through: Segment uses them to clear a trait.
    if (!field || original === null) {
      setOwn(traits, key, original);
      continue;
    }
    const result = cleanField(field, key, original, input, present, context, apply);
    if (present.get(field) === key) results[field] = result;
  }

  // Fill from evidence in the same message, recording where each value came from.
  const id = results.nationalId as { birthday: string; gender: string } | undefined;
  if (id) {
    derive('birthday', id.birthday, 'nationalId');
    derive('gender', id.gender, 'nationalId');
    const birthday = results.birthday;
    if (typeof birthday === 'string' && birthday !== id.birthday) {
      lineage.push({ field: present.get('birthday')!, kind: 'flagged', original: input[present.get('birthday')!], flag: 'birthday.conflicts_national_id', suggestion: id.birthday });
    }
  }
  const phone = results.phone as { country: string | undefined } | undefined;
  if (phone?.country) derive('country', phone.country, 'phone');
  const name = results.name as StandardName | undefined;
  if (name) {
    derive('firstName', name.given, 'name');
    derive('lastName', name.family, 'name');
  }
  const parts = results.firstName as StandardName | undefined;
  if (parts) derive('name', parts.full, 'firstName');
  const address = results.address as StandardAddress | undefined;
  if (address) {
    derive('country', address.country, 'address');
    derive('province', address.province, 'address');
    derive('city', address.city, 'address');
    derive('postalCode', address.postalCode, 'address');
  }
  return { traits, derived, lineage, observations };
}

/** Assign an own property, even `__proto__` (a CSV header can be anything). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function flagEntry(field: string, original: unknown, flag: CleanFlag): LineageEntry {
  return { field, kind: 'flagged', original, flag: flag.code, ...(flag.suggestion !== undefined ? { suggestion: flag.suggestion } : {}) };
}

/** A Unix time in seconds (10 digits) or milliseconds (13), as systems export sign-up times, → ISO 8601; else undefined. */
function epochOf(raw: unknown): string | undefined {
  const text = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d{10}(\d{3})?$/.test(text)) return undefined;
  return new Date(text.length === 10 ? Number(text) * 1000 : Number(text)).toISOString();
}

/**
 * Places outside the built-in tables (a county-level city, a foreign
 * province) are still places: kept as typed, flagged for a look, not refused.
 */
function tolerate(original: unknown, outcome: Cleaned<string>): Cleaned<string> {
  if (outcome.ok || EMPTY_ISSUE.test(outcome.issue)) return outcome;
  const typed = asText(original)?.normalize('NFKC').trim().replace(/\s+/g, ' ');
  if (!typed) return outcome;
  return cleanValue(typed, typed === original ? [] : ['text.trim'], [{ code: outcome.issue, message: outcome.reason }]);
}

/** Segment's address trait names the US state `state`; Chinese addresses keep `province`. */
function addressTrait(address: StandardAddress): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(address)) if (v !== undefined && v !== '') out[k === 'province' && address.country === 'US' ? 'state' : k] = v;
  return out;
}

type Apply = <T>(key: string, field: StandardField, original: unknown, outcome: Cleaned<T>, shown: (v: T) => unknown, index: (v: T) => string) => T | undefined;

const same = <T>(v: T): T => v;
const text = (v: unknown): string => String(v);

/** `present`: the first key each standard field has in `input`, for fields cleaned with another (first with last name, city with province). */
function cleanField(field: StandardField, key: string, original: unknown, input: Record<string, unknown>, present: ReadonlyMap<StandardField, string>, context: CleanContext, apply: Apply): unknown {
  const other = (f: StandardField): unknown => {
    const k = present.get(f);
    return k === undefined ? undefined : input[k];
  };
  switch (field) {
    case 'email':
      return apply(key, field, original, standardizeEmail(original, { fixTypos: context.fixEmailTypos }), same, emailMatchKey);
    case 'phone':
      return apply(key, field, original, standardizePhone(original, { countries: context.countries }), (p) => p.e164, (p) => p.e164);
    case 'name':
      return apply(key, field, original, standardizeName(original), (n) => n.full, (n) => n.full);
    case 'firstName': {
      // Given and family name are standardized together: the pair decides the case and order.
      const outcome = standardizeNameParts(original, other('lastName'));
      return apply(key, field, original, outcome, (n) => n.given ?? n.full, (n) => n.given ?? n.full);
    }
    case 'lastName': {
      const outcome = standardizeNameParts(other('firstName'), original);
      return apply(key, field, original, outcome, (n) => n.family ?? n.full, (n) => n.family ?? n.full);
    }
    case 'birthday':
      return apply(key, field, original, standardizeDate(original, { order: context.dateOrder, kind: 'birthday', now: context.now }), same, same);
    case 'createdAt': {
      const epoch = epochOf(original);
      if (epoch !== undefined) return apply(key, field, original, cleanValue(epoch, ['date.epoch']), same, same);
      if (original instanceof Date || typeof original === 'string') {
        const parsed = parseDate(original, context.dateOrder);
        const outcome: Cleaned<string> = parsed.ok
          ? { ok: true, value: parsed.value.toISOString(), rules: parsed.value.toISOString() === original ? [] : ['date.iso'], flags: [] }
          : { ok: false, issue: parsed.issue, reason: `createdAt is not a date (${parsed.issue})` };
        return apply(key, field, original, outcome, same, same);
      }
      return apply(key, field, original, standardizeDate(original, { order: context.dateOrder, kind: 'date', now: context.now }), same, same);
    }
    case 'gender':
      return apply(key, field, original, standardizeGender(original), same, same);
    case 'age': {
      const n = standardizeNumber(original);
      const outcome: Cleaned<number> = n.ok && (!Number.isInteger(n.value) || n.value < 0 || n.value > 150) ? { ok: false, issue: 'age.out_of_range', reason: 'age must be a whole number from 0 to 150' } : n;
      return apply(key, field, original, outcome, same, text);
    }
    case 'country':
      return apply(key, field, original, standardizeCountry(original), same, same);
    case 'province': {
      const province = standardizeProvince(original);
      const us = province.ok ? province : standardizeUsState(original);
      return apply(key, field, original, us.ok ? us : tolerate(original, province), same, same);
    }
    case 'city': {
      const given = other('province');
      const province = given === undefined ? undefined : standardizeProvince(given);
      return apply(key, field, original, tolerate(original, standardizeCity(original, province?.ok ? province.value : undefined)), same, same);
    }
    case 'address':
      return apply(key, field, original, standardizeAddress(original, { countries: context.countries }), addressTrait, (a) => JSON.stringify(addressTrait(a)));
    case 'postalCode': {
      const given = other('country');
      const country = given === undefined ? undefined : standardizeCountry(given);
      return apply(key, field, original, standardizePostalCode(original, country?.ok ? country.value : undefined), same, same);
    }
    case 'nationalId':
      return apply(key, field, original, standardizeChinaResidentId(original, { now: context.now }), (id) => id.id, (id) => id.id);
  }
}
