import { emailMatchKey, standardizeEmail } from '../clean/email.js';
import { canonicalGivenName, namePinyin, standardizeName, type StandardName } from '../clean/name.js';
import { standardFieldOf } from '../clean/traits.js';
import { dateDigits, foldLatin } from './compare.js';

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
      case 'email': {
        const standard = standardizeEmail(value);
        if (standard.ok) set('email', emailMatchKey(standard.value));
        break;
      }
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

// ---------------------------------------------------------------------------
// Prepared records: the matcher's columnar view

/** One field over all records: each record's value as an index into the distinct normalized values. */
export interface ValueColumn {
  /** per record: index into `values`, -1 when missing */
  ids: Int32Array;
  values: string[];
}

export interface NameColumn extends ValueColumn {
  /** per value: letters a–z only; Han names in pinyin (张 → zhang), so scripts compare */
  folded: string[];
  /** per value: an id shared by nickname and name (Bob, Robert), -1 when the table does not know it */
  canonical: Int32Array;
}

/**
 * Records as columns, computed once per matching run: each distinct value is
 * normalized, folded and romanized once however many records share it, and
 * the comparisons read integers and shared strings.
 */
export interface PreparedRecords {
  size: number;
  given: NameColumn;
  family: NameColumn;
  /** every record's whole name (given + family when split), used only when one side has no parts */
  fullName: NameColumn;
  /** 1 when the record has a given or family name */
  hasParts: Uint8Array;
  /** values: date digits (YYYYMMDD) */
  birth: ValueColumn;
  gender: ValueColumn;
  email: ValueColumn;
  phone: ValueColumn;
  nationalId: ValueColumn;
  streetNumber: ValueColumn;
  street: ValueColumn;
  addressLine2: ValueColumn;
  city: ValueColumn;
  district: ValueColumn;
  postcode: ValueColumn;
  state: ValueColumn;
  country: ValueColumn;
}

/** Interns raw values: normalization runs once per distinct raw text; raw spellings that normalize alike share one id. */
class ColumnBuilder {
  readonly ids: Int32Array;
  readonly values: string[] = [];
  private readonly byRaw = new Map<string, number>();
  private readonly byValue = new Map<string, number>();
  constructor(size: number, private readonly normalize: (raw: string) => string) {
    this.ids = new Int32Array(size).fill(-1);
  }
  set(index: number, raw: string | undefined): void {
    if (raw === undefined) return;
    let id = this.byRaw.get(raw);
    if (id === undefined) {
      const value = this.normalize(raw);
      if (value === '') id = -1;
      else {
        id = this.byValue.get(value);
        if (id === undefined) {
          id = this.values.length;
          this.values.push(value);
          this.byValue.set(value, id);
        }
      }
      this.byRaw.set(raw, id);
    }
    this.ids[index] = id;
  }
  column(): ValueColumn {
    return { ids: this.ids, values: this.values };
  }
}

const SPACES = /\s+/g;
const lowerText = (raw: string) => raw.trim().replace(SPACES, ' ').toLowerCase();
const compactUpper = (raw: string) => raw.replace(/[\s\-./]/g, '').toUpperCase();
const phoneText = (raw: string) => (raw.trim().startsWith('+') ? '+' : '') + raw.replace(/\D/g, '');

const HAN = /\p{Script=Han}/u;

// Pinyin is the slow step of preparing Chinese names: remembered across runs (fit, then find) per distinct part.
const PINYIN_MEMO_LIMIT = 200_000;
const pinyinMemo = new Map<string, string>();
function memoPinyin(key: string, compute: () => string | undefined): string {
  let v = pinyinMemo.get(key);
  if (v === undefined) {
    v = (compute() ?? '').replace(/[^a-z_]/g, '');
    if (pinyinMemo.size >= PINYIN_MEMO_LIMIT) pinyinMemo.clear();
    pinyinMemo.set(key, v);
  }
  return v;
}

type NameRole = 'given' | 'family' | 'full';

/** The folded form of a name value; for whole names the words are sorted, so `Wei Zhang`, `Zhang Wei` and 张伟 agree. */
function foldName(value: string, role: NameRole): string {
  if (HAN.test(value)) {
    if (role === 'family') return memoPinyin(`f:${value}`, () => namePinyin({ full: value, family: value, script: 'han' }));
    if (role === 'given') return memoPinyin(`g:${value}`, () => namePinyin({ full: value, script: 'han' }));
    const words = memoPinyin(`n:${value}`, () => {
      const standard = standardizeName(value);
      const name: StandardName = standard.ok ? standard.value : { full: value, script: 'han' };
      return namePinyin(name)?.split(' ').sort().join('_');
    });
    return words;
  }
  if (role !== 'full') return foldLatin(value);
  return value.replace(/['’\-.]/g, '').split(/[\s,]+/).map(foldLatin).filter((w) => w !== '').sort().join('_');
}

function nameColumn(builder: ColumnBuilder, role: NameRole): NameColumn {
  const { ids, values } = builder.column();
  const folded = values.map((v) => foldName(v, role));
  const canonical = new Int32Array(values.length).fill(-1);
  if (role === 'given') {
    const canonicalIds = new Map<string, number>();
    for (let k = 0; k < values.length; k++) {
      const first = values[k]!.split(' ')[0]!;
      const name = canonicalGivenName(first);
      if (name === undefined) continue;
      let id = canonicalIds.get(name);
      if (id === undefined) {
        id = canonicalIds.size;
        canonicalIds.set(name, id);
      }
      canonical[k] = id;
    }
  }
  return { ids, values, folded, canonical };
}

/** Records → columns. `onProgress` is called now and then with how many records are done. */
export function prepareRecords(records: readonly MatchRecord[], onProgress?: (done: number) => void): PreparedRecords {
  const n = records.length;
  const given = new ColumnBuilder(n, lowerText);
  const family = new ColumnBuilder(n, lowerText);
  const fullName = new ColumnBuilder(n, lowerText);
  const hasParts = new Uint8Array(n);
  const birth = new ColumnBuilder(n, (raw) => dateDigits(raw.trim()));
  const gender = new ColumnBuilder(n, lowerText);
  const email = new ColumnBuilder(n, lowerText);
  const phone = new ColumnBuilder(n, phoneText);
  const nationalId = new ColumnBuilder(n, compactUpper);
  const streetNumber = new ColumnBuilder(n, compactUpper);
  const street = new ColumnBuilder(n, lowerText);
  const addressLine2 = new ColumnBuilder(n, lowerText);
  const city = new ColumnBuilder(n, lowerText);
  const district = new ColumnBuilder(n, lowerText);
  const postcode = new ColumnBuilder(n, compactUpper);
  const state = new ColumnBuilder(n, lowerText);
  const country = new ColumnBuilder(n, lowerText);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const g = str(r.given);
    const f = str(r.family);
    given.set(i, g);
    family.set(i, f);
    if (g !== undefined || f !== undefined) {
      hasParts[i] = 1;
      // Han names are written family first, with no space: the order cleaning's name splitter expects.
      if (g === undefined || f === undefined) fullName.set(i, g ?? f);
      else fullName.set(i, HAN.test(f) ? `${f}${g}` : `${g} ${f}`);
    } else fullName.set(i, str(r.fullName));
    birth.set(i, str(r.birth));
    gender.set(i, str(r.gender));
    email.set(i, str(r.email));
    phone.set(i, str(r.phone));
    nationalId.set(i, str(r.nationalId));
    streetNumber.set(i, str(r.streetNumber));
    street.set(i, str(r.street));
    addressLine2.set(i, str(r.addressLine2));
    city.set(i, str(r.city));
    district.set(i, str(r.district));
    postcode.set(i, str(r.postcode));
    state.set(i, str(r.state));
    country.set(i, str(r.country));
    if (onProgress !== undefined && (i & 0xffff) === 0xffff) onProgress(i + 1);
  }
  const prepared: PreparedRecords = {
    size: n,
    given: nameColumn(given, 'given'),
    family: nameColumn(family, 'family'),
    fullName: nameColumn(fullName, 'full'),
    hasParts,
    birth: birth.column(),
    gender: gender.column(),
    email: email.column(),
    phone: phone.column(),
    nationalId: nationalId.column(),
    streetNumber: streetNumber.column(),
    street: street.column(),
    addressLine2: addressLine2.column(),
    city: city.column(),
    district: district.column(),
    postcode: postcode.column(),
    state: state.column(),
    country: country.column(),
  };
  onProgress?.(n);
  return prepared;
}

/** Records built by hand (or parsed from JSON) may hold anything: only strings count. */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
