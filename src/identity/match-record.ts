import { emailMatchKey, standardizeEmail } from '../clean/email.js';
import { standardizeName } from '../clean/name.js';
import { standardFieldOf } from '../clean/traits.js';

/** What the probabilistic matcher compares of one profile: its cleaned traits, flattened. */
export interface MatchRecord {
  id: string;
  /** as cleaning stores them (proper case Latin, or Han) */
  given?: string;
  family?: string;
  /** when the name could not be split into parts */
  fullName?: string;
  /** YYYY-MM-DD (or the raw digits of a date that did not parse) */
  birth?: string;
  /** 'male' | 'female' | other */
  gender?: string;
  /** the matching key (lower case, gmail dots removed…) */
  email?: string;
  /** E.164 */
  phone?: string;
  /** a national id or social-security number */
  nationalId?: string;
  streetNumber?: string;
  street?: string;
  addressLine2?: string;
  city?: string;
  district?: string;
  postcode?: string;
  state?: string;
  country?: string;
}

type Slot = Exclude<keyof MatchRecord, 'id'>;

// Keys cleaning has no standard field for but import files use (folded: lower case, no separators).
const EXTRA_KEYS: Record<string, Slot> = {
  ssn: 'nationalId',
  socialsecuritynumber: 'nationalId',
  socialsecurityno: 'nationalId',
  socsecid: 'nationalId',
  nationalinsurancenumber: 'nationalId',
  street: 'street',
  streetaddress: 'street',
  address1: 'street',
  addressline1: 'street',
  address2: 'addressLine2',
  addressline2: 'addressLine2',
  streetnumber: 'streetNumber',
  housenumber: 'streetNumber',
  district: 'district',
  county: 'district',
};

function foldKey(key: string): string {
  return key.toLowerCase().replace(/[\s_\-.]/g, '');
}

/** A usable text value: a non-empty trimmed string or a finite number; for lists (emails, phones), the first usable one. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? undefined : t;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const t = textOf(item);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

/** The matching key of the first valid address in a value or list, with the domain slip cleaning would suggest fixed (gmial.com and gmail.com reach one mailbox). */
function emailKeyOf(value: unknown): string | undefined {
  for (const item of Array.isArray(value) ? value : [value]) {
    if (typeof item !== 'string') continue;
    const standard = standardizeEmail(item, { fixTypos: true });
    if (standard.ok) return emailMatchKey(standard.value);
  }
  return undefined;
}

const LATIN_HOUSE_NUMBER = /^(\d+[A-Za-z]?)(?:\s*[-/,]\s*|\s+)(.+)$/;
const HAN_HOUSE_NUMBER = /(\d+)号/;
const UNIT = /^(.*?\S)\s*,?\s+((?:apt|apartment|unit|suite|ste|flat|room|rm|fl|floor|#)\b.*|#\s*\d.*)$/i;

/** `123 N Main St Apt 4` → number 123, street `N Main St`, line 2 `Apt 4`; `世纪大道100号` → number 100, street 世纪大道. */
function splitStreet(street: string): { number?: string; street: string; line2?: string } {
  const han = HAN_HOUSE_NUMBER.exec(street);
  if (han) {
    const rest = (street.slice(0, han.index) + street.slice(han.index + han[0].length)).trim();
    return rest === '' ? { number: han[1]!, street } : { number: han[1]!, street: rest };
  }
  let number: string | undefined;
  let rest = street;
  const latin = LATIN_HOUSE_NUMBER.exec(street);
  if (latin) {
    number = latin[1]!;
    rest = latin[2]!;
  }
  const unit = UNIT.exec(rest);
  const out: { number?: string; street: string; line2?: string } = { street: unit ? unit[1]! : rest };
  if (number !== undefined) out.number = number;
  if (unit) out.line2 = unit[2]!;
  return out;
}

/**
 * The match record of a profile from its cleaned traits. Keys may be any
 * spelling cleaning recognises (`dob`, `zip`, `mobile`…); `address` may be
 * cleaning's address object or plain text. Explicit name parts win over a
 * split of `name`; the first usable value of a field wins. Never throws:
 * whatever is not usable text is skipped.
 */
export function matchRecordOf(id: string, traits: Record<string, unknown>): MatchRecord {
  const record: MatchRecord = { id };
  const set = (slot: Slot, value: string | undefined) => {
    if (value !== undefined && value !== '' && record[slot] === undefined) record[slot] = value;
  };
  let name: string | undefined;
  let address: unknown;
  for (const [key, raw] of Object.entries(traits)) {
    const field = standardFieldOf(key);
    if (field === 'address') {
      address ??= raw;
      continue;
    }
    const value = textOf(raw);
    if (value === undefined) continue;
    switch (field) {
      case 'name':
        name ??= value;
        break;
      case 'firstName':
        set('given', value);
        break;
      case 'lastName':
        set('family', value);
        break;
      case 'birthday':
        set('birth', /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : value);
        break;
      case 'gender':
        set('gender', value.toLowerCase());
        break;
      case 'email':
        set('email', emailKeyOf(raw));
        break;
      case 'phone':
        set('phone', value);
        break;
      case 'nationalId':
        set('nationalId', value);
        break;
      case 'country':
        set('country', value);
        break;
      case 'province':
        set('state', value);
        break;
      case 'city':
        set('city', value);
        break;
      case 'postalCode':
        set('postcode', value);
        break;
      case undefined: {
        const slot = EXTRA_KEYS[foldKey(key)];
        if (slot !== undefined) set(slot, value);
        break;
      }
      default:
        break;
    }
  }
  if (address !== undefined) addAddress(record, address, set);
  if (record.street !== undefined && record.streetNumber === undefined) {
    const parts = splitStreet(record.street);
    if (parts.number !== undefined) {
      record.streetNumber = parts.number;
      record.street = parts.street;
    }
    if (parts.line2 !== undefined && record.addressLine2 === undefined) {
      record.street = parts.street;
      record.addressLine2 = parts.line2;
    }
  }
  if (name !== undefined && record.given === undefined && record.family === undefined) {
    const standard = standardizeName(name);
    if (standard.ok) {
      const { given, family, full } = standard.value;
      if (given === undefined && family === undefined) record.fullName = full;
      else {
        set('given', given);
        set('family', family);
      }
    }
  }
  return record;
}

function addAddress(record: MatchRecord, address: unknown, set: (slot: Slot, value: string | undefined) => void): void {
  if (typeof address === 'string') {
    set('street', textOf(address));
    return;
  }
  if (typeof address !== 'object' || address === null || Array.isArray(address)) return;
  const a = address as Record<string, unknown>;
  set('street', textOf(a.street) ?? textOf(a.line1));
  set('addressLine2', textOf(a.line2));
  set('city', textOf(a.city));
  set('district', textOf(a.district));
  set('postcode', textOf(a.postalCode) ?? textOf(a.postcode) ?? textOf(a.zip));
  set('state', textOf(a.state) ?? textOf(a.province));
  set('country', textOf(a.country));
}
