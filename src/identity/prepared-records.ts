import { canonicalGivenName, namePinyin, standardizeName, type StandardName } from '../clean/name.js';
import { dateDigits, foldLatin } from './compare.js';
import type { MatchRecord } from './match-record.js';

/**
 * The matcher's view of a list of match records, prepared once per run:
 * distinct values normalized, folded and romanized once however many
 * records share them, and each record a row of integers.
 */

/** The fields of a prepared record, in the order of their slots in `PreparedRecords.codes`. */
export const PREPARED_FIELDS = [
  'given', 'family', 'fullName', 'birth', 'gender', 'email', 'phone', 'nationalId',
  'streetNumber', 'street', 'addressLine2', 'city', 'district', 'postcode', 'state', 'country',
] as const;
export type PreparedField = (typeof PREPARED_FIELDS)[number];

/**
 * One field's distinct values. Most columns are interned (equal values share
 * one index); unique identifiers (e-mail, phone, national id) are not, since
 * interning a million distinct strings costs more than it saves: compare
 * their values.
 */
export interface ValueColumn {
  /** where the field's value index sits in each record's row of `codes` */
  slot: number;
  values: string[];
  /** equal values share one index */
  interned: boolean;
}

export interface NameColumn extends ValueColumn {
  /** per value: letters a–z only; Han names in pinyin (张 → zhang), so scripts compare */
  folded: string[];
  /** per value: an id shared by nickname and name (Bob, Robert), -1 when the table does not know it */
  canonical: Int32Array;
  /** per value: what blocking uses, folded: the canonical name of the first word (Tim, Timothy S. → timothy), or the folded value */
  blockingForm: string[];
}

/** A place (city, district, state): its values folded to a–z, Chinese ones in pinyin without the 市/区/省 suffix, so 合肥市 and Hefei agree. */
export interface PlaceColumn extends ValueColumn {
  folded: string[];
}

/**
 * Records prepared once per matching run. Each distinct value is normalized,
 * folded and romanized once however many records share it. A record is one
 * row of `codes`, its value index for every field side by side (-1 when
 * missing): a pair comparison touches two rows, a cache line or two each,
 * instead of one array per field.
 */
export interface PreparedRecords {
  size: number;
  /** = PREPARED_FIELDS.length */
  width: number;
  /** row-major: record i, field slot s at i * width + s */
  codes: Int32Array;
  /** per record: bit s set when it has a value in slot s that is compared (the whole name only when it is not split) */
  presence: Uint32Array;
  given: NameColumn;
  family: NameColumn;
  /** every record's whole name (given + family when split), used only when one side has no parts */
  fullName: NameColumn;
  /** values: date digits (YYYYMMDD) */
  birth: ValueColumn;
  gender: ValueColumn;
  email: ValueColumn;
  phone: ValueColumn;
  nationalId: ValueColumn;
  streetNumber: ValueColumn;
  street: ValueColumn;
  addressLine2: ValueColumn;
  city: PlaceColumn;
  district: PlaceColumn;
  postcode: ValueColumn;
  state: PlaceColumn;
  country: ValueColumn;
}

/** Interns raw values: normalization runs once per distinct raw text; raw spellings that normalize alike share one index. */
class ColumnBuilder {
  readonly values: string[] = [];
  private readonly byRaw = new Map<string, number>();
  private readonly byValue = new Map<string, number>();
  constructor(
    private readonly codes: Int32Array,
    private readonly width: number,
    readonly slot: number,
    private readonly normalize: (raw: string) => string,
    private readonly intern = true,
  ) {}
  set(index: number, raw: string | undefined): void {
    if (raw === undefined) return;
    if (!this.intern) {
      const value = this.normalize(raw);
      if (value === '') return;
      this.codes[index * this.width + this.slot] = this.values.length;
      this.values.push(value);
      return;
    }
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
    this.codes[index * this.width + this.slot] = id;
  }
  column(): ValueColumn {
    return { slot: this.slot, values: this.values, interned: this.intern };
  }
}

const SPACES = /\s+/g;
const UPPER_OR_SPACING = /[A-Z\s]|[^\x00-\x7f]/;
// Cleaned values are mostly normal already: test before building new strings.
const lowerText = (raw: string) => (UPPER_OR_SPACING.test(raw) ? raw.trim().replace(SPACES, ' ').toLowerCase() : raw);
const SEPARATORS = /[\s\-./]|[a-z]/;
const compactUpper = (raw: string) => (SEPARATORS.test(raw) ? raw.replace(/[\s\-./]/g, '').toUpperCase() : raw);
const E164 = /^\+?\d+$/;
const phoneText = (raw: string) => (E164.test(raw) ? raw : (raw.trim().startsWith('+') ? '+' : '') + raw.replace(/\D/g, ''));

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
    return memoPinyin(`n:${value}`, () => {
      const standard = standardizeName(value);
      const name: StandardName = standard.ok ? standard.value : { full: value, script: 'han' };
      return namePinyin(name)?.split(' ').sort().join('_');
    });
  }
  if (role !== 'full') return foldLatin(value);
  return value.replace(/['’\-.]/g, '').split(/[\s,]+/).map(foldLatin).filter((w) => w !== '').sort().join('_');
}

// Administrative suffixes, longest first: 内蒙古自治区 → 内蒙古, 合肥市 → 合肥.
const PLACE_SUFFIX = /(?:特别行政区|自治区|自治州|自治县|地区|省|市|区|县|州|盟|旗)$/u;

function placeColumn(builder: ColumnBuilder): PlaceColumn {
  const column = builder.column();
  const folded = column.values.map((v) => {
    if (!HAN.test(v)) return foldLatin(v);
    const stem = v.length > 2 ? v.replace(PLACE_SUFFIX, '') : v;
    return memoPinyin(`p:${stem}`, () => namePinyin({ full: stem, script: 'han' }));
  });
  return { ...column, folded };
}

function nameColumn(builder: ColumnBuilder, role: NameRole): NameColumn {
  const { slot, values, interned } = builder.column();
  const folded = values.map((v) => foldName(v, role));
  const canonical = new Int32Array(values.length).fill(-1);
  const blockingForm = [...folded];
  if (role === 'given') {
    const canonicalIds = new Map<string, number>();
    for (let k = 0; k < values.length; k++) {
      if (HAN.test(values[k]!)) continue;
      // Middle names and initials say little and are often left out: the first word is the name.
      const first = values[k]!.split(' ')[0]!;
      const name = canonicalGivenName(first);
      blockingForm[k] = foldLatin(name ?? first) || folded[k]!;
      if (name === undefined) continue;
      let id = canonicalIds.get(name);
      if (id === undefined) {
        id = canonicalIds.size;
        canonicalIds.set(name, id);
      }
      canonical[k] = id;
    }
  }
  return { slot, values, interned, folded, canonical, blockingForm };
}

/** Records → prepared records. `onProgress` is called now and then with how many records are done. */
export function prepareRecords(records: readonly MatchRecord[], onProgress?: (done: number) => void): PreparedRecords {
  const n = records.length;
  const width = PREPARED_FIELDS.length;
  const codes = new Int32Array(n * width).fill(-1);
  const slot = (field: PreparedField) => PREPARED_FIELDS.indexOf(field);
  const column = (field: PreparedField, normalize: (raw: string) => string, intern = true) => new ColumnBuilder(codes, width, slot(field), normalize, intern);
  const given = column('given', lowerText);
  const family = column('family', lowerText);
  const fullName = column('fullName', lowerText);
  const birth = column('birth', (raw) => dateDigits(raw.trim()));
  const gender = column('gender', lowerText);
  const email = column('email', lowerText, false);
  const phone = column('phone', phoneText, false);
  const nationalId = column('nationalId', compactUpper, false);
  const streetNumber = column('streetNumber', compactUpper);
  const street = column('street', lowerText);
  const addressLine2 = column('addressLine2', lowerText);
  const city = column('city', lowerText);
  const district = column('district', lowerText);
  const postcode = column('postcode', compactUpper);
  const state = column('state', lowerText);
  const country = column('country', lowerText);
  // Column by column: one field's map stays in cache, and each property read sees one field.
  const fill = (builder: ColumnBuilder, read: (r: MatchRecord) => unknown) => {
    for (let i = 0; i < n; i++) builder.set(i, str(read(records[i]!)));
  };
  fill(given, (r) => r.given);
  onProgress?.(n >> 3);
  fill(family, (r) => r.family);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const g = str(r.given);
    const f = str(r.family);
    // Han names are written family first, with no space: the order cleaning's name splitter expects.
    if (g !== undefined && f !== undefined) fullName.set(i, HAN.test(f) ? `${f}${g}` : `${g} ${f}`);
    else fullName.set(i, g ?? f ?? str(r.fullName));
  }
  onProgress?.(n >> 2);
  fill(birth, (r) => r.birth);
  fill(gender, (r) => r.gender);
  fill(email, (r) => r.email);
  fill(phone, (r) => r.phone);
  fill(nationalId, (r) => r.nationalId);
  onProgress?.(n >> 1);
  fill(streetNumber, (r) => r.streetNumber);
  fill(street, (r) => r.street);
  fill(addressLine2, (r) => r.addressLine2);
  fill(city, (r) => r.city);
  fill(district, (r) => r.district);
  fill(postcode, (r) => r.postcode);
  fill(state, (r) => r.state);
  fill(country, (r) => r.country);
  const presence = new Uint32Array(n);
  const parts = (1 << given.slot) | (1 << family.slot);
  for (let i = 0; i < n; i++) {
    let mask = 0;
    for (let s = 0; s < width; s++) if (codes[i * width + s]! >= 0) mask |= 1 << s;
    if ((mask & parts) !== 0) mask &= ~(1 << fullName.slot);
    presence[i] = mask;
  }
  onProgress?.(n);
  return {
    size: n,
    width,
    codes,
    presence,
    given: nameColumn(given, 'given'),
    family: nameColumn(family, 'family'),
    fullName: nameColumn(fullName, 'full'),
    birth: birth.column(),
    gender: gender.column(),
    email: email.column(),
    phone: phone.column(),
    nationalId: nationalId.column(),
    streetNumber: streetNumber.column(),
    street: street.column(),
    addressLine2: addressLine2.column(),
    city: placeColumn(city),
    district: placeColumn(district),
    postcode: postcode.column(),
    state: placeColumn(state),
    country: country.column(),
  };
}

/** Records built by hand (or parsed from JSON) may hold anything: only strings count. */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
