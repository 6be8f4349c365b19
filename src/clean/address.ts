/**
 * Postal addresses → structured parts. Chinese addresses (one line, written
 * from the largest division down: 省 市 区 street) and US addresses (street,
 * city, state ZIP) are structured; an address neither parser can split is
 * still kept, whole, in `street` with an `address.unstructured` flag — an
 * address is never dropped for being odd.
 *
 * Which country: a country named in the input wins; else Chinese script means
 * China; else a trailing US state + ZIP means the US; else the source's default
 * countries are tried in order.
 */
import { standardizeCountry } from './country.js';
import { findCnCity, findCnProvince, matchCnCityAt, matchCnProvinceAt, simplifyPlaceChars, type CnCity, type CnProvince } from './cn-regions.js';
import { asText, cleanIssue, cleanValue, type CleanFlag, type Cleaned } from './result.js';
import {
  findUsState,
  isStrongUsSuffix,
  normalizeUsStreet,
  parseUsZip,
  properCasePlace,
  usDirectional,
  usUnitDesignator,
  zipFitsState,
  zipStartsWithZero,
} from './us-address.js';

export type AddressIssue = 'address.empty' | 'address.unparseable';

/** Flags an address can carry; the value stands, but a data steward may want to look. */
export type AddressFlagCode =
  | 'address.unstructured'
  | 'address.postal_code_invalid'
  | 'address.zip_state_mismatch'
  | 'address.province_city_mismatch'
  | 'address.province_unknown'
  | 'address.city_unknown'
  | 'address.state_unknown'
  | 'address.country_unknown';

export interface StandardAddress {
  /** ISO 3166-1 alpha-2 */
  country?: string;
  /** CN: full official name (上海市, 广东省, 内蒙古自治区); US: state code (IL) */
  province?: string;
  /** CN: full name (广州市; for municipalities 上海市); elsewhere: proper-case city */
  city?: string;
  /** CN: 区 / 县 / 旗 / county-level 市 (浦东新区); CN in Latin script: as written */
  district?: string;
  /** street and number: 世纪大道100号 / 123 N Main St Apt 4 */
  street?: string;
  postalCode?: string;
}

export interface AddressOptions {
  /** the source's or workspace's default countries (ISO alpha-2), in order */
  countries: readonly string[];
}

interface Draft {
  address: StandardAddress;
  rules: Set<string>;
  flags: CleanFlag[];
}

function newDraft(): Draft {
  return { address: {}, rules: new Set(), flags: [] };
}

function flag(draft: Draft, code: AddressFlagCode, message: string, suggestion?: string): void {
  draft.flags.push(suggestion === undefined ? { code, message } : { code, message, suggestion });
}

function finish(draft: Draft): Cleaned<StandardAddress, AddressIssue> {
  const a = draft.address;
  // A fixed key order keeps stored JSON and test output stable.
  const value: StandardAddress = {};
  if (a.country) value.country = a.country;
  if (a.province) value.province = a.province;
  if (a.city) value.city = a.city;
  if (a.district) value.district = a.district;
  if (a.street) value.street = a.street;
  if (a.postalCode) value.postalCode = a.postalCode;
  if (Object.keys(value).length === 0) return cleanIssue('address.empty', 'The address has no content.');
  return cleanValue(value, [...draft.rules], draft.flags);
}

const HAN = /\p{Script=Han}/u;
/** China and the three regions with their own ISO code, whose addresses the Chinese parser reads. */
const CN_REGIONS = new Set(['CN', 'HK', 'MO', 'TW']);
/** Spaces between Chinese characters, or between them and digits (文三路 478 号); not those around Latin words. */
const HAN_GAP = /(?<=\p{Script=Han})\s+(?=[\p{Script=Han}\d])|(?<=\d)\s+(?=\p{Script=Han})/gu;
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** What forms and SDKs send for "no address". */
const PLACEHOLDERS = new Set(['na', 'n/a', 'none', 'null', 'undefined', 'nil', 'unknown', '[object object]', '无', '暂无', '不详', '未知', '空', '没有']);

/** NFKC (full-width digits and commas), one space, newlines and semicolons as commas, no dangling separators. */
function tidy(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\r\n\t;]+/g, ',')
    .replace(/\s+/g, ' ')
    .replace(/\s*,[\s,]*/g, ', ')
    .replace(/^[\s,]+|[\s,]+$/g, '');
}

function isBlank(text: string): boolean {
  return text === '' || !HAS_LETTER_OR_DIGIT.test(text) || PLACEHOLDERS.has(text.toLowerCase());
}

// ─── China, Chinese script ────────────────────────────────────────────────

const SEPARATOR_CHARS = new Set([' ', ',', '、', '-', '/', '·', '|', '_']);
/** After a place name, these start a road: 中山路, 南京东路, 广州大道 are streets, not cities. */
const STREET_AFTER = /^(?:[东西南北中]?(?:路|街|道|巷|弄|胡同|大道|大街|里))/;
/**
 * After a short place name, these make it part of an institution's name
 * (浙江大学, 北京饭店, 深圳机场): taking the place out would leave 大学 as the street.
 */
const NAME_AFTER = /^(?:大学|学院|师范|理工|工业大|科技大|医科|财经|外国语|中学|小学|大厦|饭店|酒店|宾馆|银行|医院|机场|火车站|日报|电视台|公司|集团|图书馆|博物馆|体育|公园|动物园)/;

function placeNameContinues(m: string, end: number): boolean {
  const after = m.slice(end, end + 4);
  return STREET_AFTER.test(after) || NAME_AFTER.test(after);
}

/**
 * City short names that are also common words or street names (东方红路,
 * 朝阳门, 阿里巴巴): without a province before them they count as the city
 * only when a district follows.
 */
const AMBIGUOUS_CITY_SHORT = new Set(['东方', '新星', '双河', '北屯', '昆玉', '胡杨河', '铁门关', '阿拉尔', '朝阳', '中山', '阿里', '中卫', '白山', '海东', '新北', '吉安', '三明', '黄山', '大理', '和田', '兴安', '白杨']);
const DISTRICT_SUFFIX = new Set(['区', '县', '旗', '市']);
/** 区 and 市 that end ordinary words, not district names: 小区, 校区, 超市, 城市… */
const NOT_DISTRICT_ENDINGS = new Set(['小区', '社区', '校区', '园区', '景区', '街区', '厂区', '片区', '院区', '超市', '菜市', '城市', '门市', '夜市', '集市', '花市', '股市']);
/** Characters that end the search for a district: the street has begun. Not 楼: 鼓楼区 is a district in four cities. */
const STREET_CHARS = new Set(['路', '街', '巷', '弄', '号', '栋', '幢', '室', '层', '座', '院']);
const TOWN_CHARS = new Set(['镇', '乡', '村']);
const LONGEST_DISTRICT = 16;

function skipSeparators(text: string, pos: number): number {
  while (pos < text.length && SEPARATOR_CHARS.has(text[pos] as string)) pos++;
  return pos;
}

/**
 * The length of a district name (…区, …县, …旗, county-level …市) starting at
 * `pos`, or 0. No district table: the name is the shortest run ending in one
 * of those suffixes before the street begins.
 */
function matchDistrictAt(m: string, pos: number): number {
  const end = Math.min(m.length, pos + LONGEST_DISTRICT);
  for (let i = pos; i < end; i++) {
    const ch = m[i] as string;
    if (!HAN.test(ch)) return 0;
    const next = m[i + 1] ?? '';
    if (i > pos && STREET_CHARS.has(ch)) return 0;
    // 道里区 is a district, 世纪大道 a road.
    if (i > pos && ch === '道') return 0;
    // 虎门镇 ends the search; 西乡县, 宁乡市 and the 东乡族 of an autonomous county do not.
    if (i > pos && TOWN_CHARS.has(ch) && !DISTRICT_SUFFIX.has(next) && next !== '族') return 0;
    if (i > pos && DISTRICT_SUFFIX.has(ch)) {
      if (NOT_DISTRICT_ENDINGS.has(m.slice(i - 1, i + 1)) || (ch === '市' && next === '场')) return 0;
      return i + 1 - pos;
    }
  }
  return 0;
}

interface CnParse {
  country?: string;
  province?: CnProvince;
  provinceText?: string;
  city?: CnCity;
  cityText?: string;
  cityMismatch?: boolean;
  district?: string;
  street?: string;
  postalCode?: string;
}

/** A short city name at `pos` counts only if it is not the start of a road or a same-named district (朝阳区 of Beijing). */
function acceptShortCity(m: string, pos: number, length: number, hasProvince: boolean, name: string): boolean {
  const after = m.slice(pos + length, pos + length + 3);
  if (placeNameContinues(m, pos + length)) return false;
  if (DISTRICT_SUFFIX.has(after.charAt(0)) && after.charAt(0) !== '市') return false;
  if (!hasProvince && AMBIGUOUS_CITY_SHORT.has(name)) return matchDistrictAt(m, skipSeparators(m, pos + length)) > 0;
  return true;
}

function parseCnHan(line: string): CnParse {
  const out: CnParse = {};
  let s = line.replace(HAN_GAP, '');
  const lead = /^(?:邮编|邮政编码)?:?\s*(\d{6})(?!\d)[\s,]*/.exec(s);
  if (lead && s.length > lead[0].length) {
    out.postalCode = lead[1];
    s = s.slice(lead[0].length);
  }
  // Anchored on the digits alone, then a bounded look back for "(邮编:": a leading
  // [\s,(]* in the pattern would rescan long runs of separators (quadratic).
  const tail = /(?<!\d)(\d{6})\)?$/.exec(s);
  if (tail && tail.index > 0) {
    const before = s.slice(Math.max(0, tail.index - 10), tail.index);
    const label = /[\s,(]*(?:邮编|邮政编码)?:?\s*$/.exec(before);
    const cut = tail.index - (label ? label[0].length : 0);
    if (cut > 0) {
      out.postalCode ??= tail[1];
      s = s.slice(0, cut);
    }
  }
  const m = simplifyPlaceChars(s);
  let pos = skipSeparators(m, 0);

  // A country named first: 中国, 中华人民共和国, 美国… Hong Kong, Macao and Taiwan
  // (中国香港, 台湾省) are left for the province table, which knows their names.
  for (let len = Math.min(10, m.length - pos); len >= 2; len--) {
    const head = m.slice(pos, pos + len);
    if (!/^\p{Script=Han}+$/u.test(head)) continue;
    const country = standardizeCountry(head);
    if (!country.ok) continue;
    out.country = country.value;
    const china = /^(?:中华人民共和国|中国大陆|中国|中國)/.exec(head);
    if (country.value === 'CN' || !CN_REGIONS.has(country.value)) pos = skipSeparators(m, pos + len);
    else if (china) pos = skipSeparators(m, pos + china[0].length);
    break;
  }
  if (out.country && !CN_REGIONS.has(out.country)) {
    out.street = s.slice(pos);
    return out;
  }
  let context: CnProvince | undefined;
  const province = matchCnProvinceAt(m, pos);
  const city = matchCnCityAt(m, pos);
  const provinceFirst =
    province !== undefined &&
    province.form !== 'abbr' &&
    // 吉林市 is the city, 吉林省 the province: the longer name wins, the province on a tie.
    (city === undefined || province.length >= city.length) &&
    !(province.form === 'short' && placeNameContinues(m, pos + province.length));
  if (provinceFirst) {
    context = province.province;
    out.province = province.province;
    out.provinceText = s.slice(pos, pos + province.length);
    pos = skipSeparators(m, pos + province.length);
  } else if (city && (city.form === 'full' || acceptShortCity(m, pos, city.length, false, m.slice(pos, pos + city.length)))) {
    out.city = city.city;
    out.cityText = s.slice(pos, pos + city.length);
    pos = skipSeparators(m, pos + city.length);
  } else if (province?.form === 'abbr') {
    // 沪, 粤, 京: one character is a province only when a city or district of it follows.
    const next = skipSeparators(m, pos + province.length);
    const cityAfter = matchCnCityAt(m, next, province.province);
    // 渝北区, 渝中区, 津南区 are districts whose names start with the abbreviation: a district
    // after a municipality's abbreviation must be three characters or more to be read apart.
    const follows =
      province.province.kind === 'municipality' ? matchDistrictAt(m, next) >= 3 : cityAfter !== undefined && cityAfter.city.province.kind !== 'municipality';
    if (follows) {
      context = province.province;
      out.province = province.province;
      out.provinceText = s.slice(pos, pos + province.length);
      pos = next;
    }
  }

  if (context && !out.city) {
    if (context.kind === 'municipality') {
      out.city = findCnCity(context.name)?.city;
      // 上海市上海市浦东新区, 北京市市辖区东城区: repeats that official exports carry.
      const again = matchCnProvinceAt(m, pos);
      if (again?.province === context && again.form !== 'abbr') pos = skipSeparators(m, pos + again.length);
      if (m.startsWith('市辖区', pos)) pos = skipSeparators(m, pos + 3);
    } else {
      const city = matchCnCityAt(m, pos, context);
      if (city && (city.form === 'full' || acceptShortCity(m, pos, city.length, true, m.slice(pos, pos + city.length)))) {
        out.city = city.city;
        out.cityText = s.slice(pos, pos + city.length);
        pos = skipSeparators(m, pos + city.length);
      } else {
        // 广东省杭州市: a full city name of another province is kept, and flagged.
        const elsewhere = matchCnCityAt(m, pos);
        if (elsewhere && elsewhere.form === 'full' && elsewhere.city.province !== context) {
          out.city = elsewhere.city;
          out.cityText = s.slice(pos, pos + elsewhere.length);
          out.cityMismatch = true;
          pos = skipSeparators(m, pos + elsewhere.length);
        }
      }
    }
  }

  const districtLength = matchDistrictAt(m, pos);
  if (districtLength > 0) {
    out.district = s.slice(pos, pos + districtLength);
    pos = skipSeparators(m, pos + districtLength);
  }
  const street = s.slice(pos).replace(/^[\s,]+|[\s,]+$/g, '');
  if (street) out.street = street;
  return out;
}

function applyCn(draft: Draft, cn: CnParse, explicitCountry: string | undefined): void {
  const a = draft.address;
  const province = cn.province ?? cn.city?.province;
  const region = province?.country ?? cn.country ?? 'CN';
  // "China" given for a Hong Kong, Macao or Taiwan address: their own ISO code is the more useful answer.
  a.country = explicitCountry && !(explicitCountry === 'CN' && region !== 'CN') ? explicitCountry : region;
  if (cn.country && !explicitCountry) draft.rules.add('address.country_code');
  if (!explicitCountry && !cn.country) draft.rules.add('address.country_inferred');
  // Hong Kong, Macao and Taiwan have their own ISO code; the code says it all.
  if (province && province.country === 'CN') {
    a.province = province.name;
    if (cn.province && cn.provinceText !== province.name) draft.rules.add('address.province_normalized');
    if (!cn.province) draft.rules.add('address.province_from_city');
  }
  if (cn.city) {
    a.city = cn.city.name;
    if (cn.cityText !== undefined && cn.cityText !== cn.city.name) draft.rules.add('address.city_normalized');
  }
  if (cn.cityMismatch && cn.province && cn.city) {
    flag(draft, 'address.province_city_mismatch', `${cn.city.name} is in ${cn.city.province.name}, not ${cn.province.name}.`, cn.city.province.name);
  }
  if (cn.district) a.district = cn.district;
  if (cn.street) a.street = cn.street;
  if (cn.postalCode) a.postalCode = cn.postalCode;
}

// ─── China, Latin script ──────────────────────────────────────────────────

const LATIN_DISTRICT = /\b(?:district|county|qu|xian|banner|qi|new area|new district)$/i;

interface LatinCnParse {
  province?: CnProvince;
  city?: CnCity;
  district?: string;
  street?: string;
  postalCode?: string;
}

/** "88 Jianguo Road, Chaoyang District, Beijing 100022": read from the end, largest division last. */
function parseCnLatin(line: string): LatinCnParse | undefined {
  const segments = line.split(', ');
  const out: LatinCnParse = {};
  let i = segments.length - 1;
  for (; i >= 0; i--) {
    let segment = segments[i] as string;
    const postal = /(?:^|\s)(\d{6})(?:\s|$)/.exec(segment);
    if (postal && !out.postalCode) {
      out.postalCode = postal[1];
      segment = segment.replace(postal[0], ' ').trim();
      if (segment === '') continue;
    }
    if (!out.province && !out.city) {
      const province = findCnProvince(segment);
      if (province && province.form !== 'abbr') {
        out.province = province.province;
        continue;
      }
    }
    if (!out.city) {
      const city = findCnCity(segment, out.province);
      if (city && city.form === 'latin') {
        out.city = city.city;
        continue;
      }
    }
    if ((out.province || out.city) && !out.district && LATIN_DISTRICT.test(segment)) {
      out.district = properCasePlace(segment);
      continue;
    }
    break;
  }
  if (!out.province && !out.city) return undefined;
  const street = segments.slice(0, i + 1).join(', ');
  if (street) out.street = properCasePlace(street);
  return out;
}

function applyCnLatin(draft: Draft, cn: LatinCnParse, explicitCountry: string | undefined): void {
  const a = draft.address;
  const province = cn.province ?? cn.city?.province;
  a.country = explicitCountry ?? province?.country ?? 'CN';
  if (!explicitCountry) draft.rules.add('address.country_inferred');
  if (province && province.country === 'CN') {
    a.province = province.name;
    draft.rules.add(cn.province ? 'address.province_normalized' : 'address.province_from_city');
  }
  const city = cn.city ?? (province?.kind === 'municipality' ? findCnCity(province.name)?.city : undefined);
  if (city) {
    a.city = city.name;
    draft.rules.add('address.city_normalized');
  }
  if (cn.district) a.district = cn.district;
  if (cn.street) a.street = cn.street;
  if (cn.postalCode) a.postalCode = cn.postalCode;
}

// ─── United States ────────────────────────────────────────────────────────

const ZIPISH = /^\d{3,10}(?:-\d{1,5})?$/;

interface UsParse {
  state: string;
  stateText: string;
  city?: string;
  street?: string;
  zipText?: string;
}

/**
 * Where a one-line address without commas ("123 Main St Apt 4 Springfield")
 * stops being the street: after the first strong suffix (with its
 * directional and units), or after a unit.
 */
function splitStreetCity(tokens: readonly string[]): number {
  const first = /^\d/.test(tokens[0] ?? '') ? 1 : 0;
  let end = -1;
  for (let i = first + 1; i < tokens.length - 1; i++) {
    if (isStrongUsSuffix(tokens[i] as string)) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) {
    for (let i = first + 1; i < tokens.length - 2; i++) {
      if (usUnitDesignator(tokens[i] as string)?.strong) {
        end = i;
        break;
      }
    }
  }
  if (end < 0) return -1;
  if (end < tokens.length - 1 && usDirectional(tokens[end] as string)) end++;
  for (;;) {
    const token = tokens[end] ?? '';
    if (end + 2 < tokens.length && usUnitDesignator(token)) end += 2;
    else if (end + 1 < tokens.length && token.startsWith('#')) end += 1;
    else break;
  }
  return end;
}

function isUnitOnly(segment: string): boolean {
  const tokens = segment.split(' ');
  if (tokens.length === 1) return /^#\w+$/.test(tokens[0] as string);
  return tokens.length === 2 && usUnitDesignator(tokens[0] as string) !== undefined && /\d/.test(tokens[1] as string);
}

function parseUsLine(line: string, strict: boolean): UsParse | undefined {
  const segments = line.split(', ').filter((s) => s !== '');
  if (segments.length === 0) return undefined;
  let last = (segments[segments.length - 1] as string).split(' ');
  let zipText: string | undefined;
  if (segments.length >= 2 && last.length <= 2 && last.every((t) => /^[\d-]+$/.test(t))) {
    zipText = last.join(last.length === 2 ? '-' : '');
    segments.pop();
    last = (segments[segments.length - 1] as string).split(' ');
  } else if (ZIPISH.test(last[last.length - 1] ?? '')) {
    zipText = last.pop();
    // "62704 1234": ZIP+4 with a space for a dash.
    if (/^\d{4}$/.test(zipText ?? '') && /^\d{5}$/.test(last[last.length - 1] ?? '')) zipText = `${last.pop() as string}-${zipText as string}`;
  }

  let state: string | undefined;
  let stateLength = 0;
  for (let n = Math.min(4, last.length); n >= 1; n--) {
    const found = findUsState(last.slice(last.length - n).join(' '));
    if (found) {
      state = found.code;
      stateLength = n;
      break;
    }
  }
  if (!state) return undefined;
  if (strict && (zipText === undefined || !parseUsZip(zipText).ok)) return undefined;
  // Without a ZIP, a state word needs a comma before it to be told from a street's last word.
  if (zipText === undefined && segments.length < 2) return undefined;

  // "Washington DC" names the state and, in a line, usually ends the city too.
  if (state === 'DC' && stateLength >= 2 && /^wash/i.test(last[last.length - stateLength] ?? '')) stateLength--;
  const stateText = last.slice(last.length - stateLength).join(' ');
  const cityTokens = last.slice(0, last.length - stateLength);
  segments.pop();
  const out: UsParse = { state, stateText };
  if (zipText !== undefined) out.zipText = zipText;
  let streetTokens: string[];
  let cityWords: string[];
  if (cityTokens.length > 0) {
    cityWords = cityTokens;
    streetTokens = segments.join(' ').split(' ').filter(Boolean);
  } else {
    cityWords = (segments.pop() ?? '').split(' ').filter(Boolean);
    // "Apt 4, 123 Main St": USPS puts the unit after the street.
    if (segments.length >= 2 && isUnitOnly(segments[0] as string)) segments.push(segments.shift() as string);
    streetTokens = segments.join(' ').split(' ').filter(Boolean);
  }
  // Street and city in one stretch with no comma between: find the seam.
  if (streetTokens.length === 0 && cityWords.length > 1 && /^\d/.test(cityWords[0] as string)) {
    const seam = splitStreetCity(cityWords);
    if (seam > 0) {
      streetTokens = cityWords.slice(0, seam);
      cityWords = cityWords.slice(seam);
    } else {
      streetTokens = cityWords;
      cityWords = [];
    }
  }
  if (cityWords.length > 0) out.city = cityWords.join(' ');
  if (streetTokens.length > 0) out.street = streetTokens.join(' ');
  return out;
}

function applyUsZip(draft: Draft, zipText: string, state: string | undefined): void {
  let zip = parseUsZip(zipText);
  // Spreadsheets drop the leading zero of New England and New Jersey ZIPs.
  if (!zip.ok && state && zipStartsWithZero(state) && /^\d{4}(?:-\d{4})?$/.test(zipText)) {
    zip = parseUsZip(`0${zipText}`);
    if (zip.ok) zip = { ...zip, changed: true };
  }
  if (!zip.ok) {
    flag(draft, 'address.postal_code_invalid', `"${zipText}" is not a US ZIP code (12345 or 12345-6789); it was left out.`);
    return;
  }
  draft.address.postalCode = zip.zip;
  if (zip.changed) draft.rules.add('address.postal_code_normalized');
  if (state && !zipFitsState(zip.zip, state)) flag(draft, 'address.zip_state_mismatch', `ZIP ${zip.zip} is not in the range of ${state}.`);
}

function applyUs(draft: Draft, us: UsParse, explicitCountry: string | undefined): void {
  const a = draft.address;
  a.country = explicitCountry ?? 'US';
  if (!explicitCountry) draft.rules.add('address.country_inferred');
  a.province = us.state;
  if (us.stateText !== us.state) draft.rules.add('address.state_code');
  if (us.city) {
    a.city = properCasePlace(us.city);
    if (a.city !== us.city) draft.rules.add('address.city_normalized');
  }
  if (us.street) applyUsStreet(draft, us.street);
  if (us.zipText !== undefined) applyUsZip(draft, us.zipText, us.state);
}

function applyUsStreet(draft: Draft, text: string): void {
  const street = normalizeUsStreet(text);
  if (street.street) draft.address.street = street.street;
  for (const rule of street.rules) draft.rules.add(rule);
}

// ─── One line ─────────────────────────────────────────────────────────────

/** A country named at the end: its own last segment ("…, USA"), or a last word after a ZIP or state ("IL 62704 USA"). */
function takeTrailingCountry(line: string): { country?: string; rest: string } {
  const segments = line.split(', ');
  const last = segments[segments.length - 1] ?? '';
  if (segments.length >= 2 && !findUsState(last) && !/\d/.test(last)) {
    const country = standardizeCountry(last);
    if (country.ok) return { country: country.value, rest: segments.slice(0, -1).join(', ') };
  }
  if (HAN.test(last)) {
    // "上海市浦东新区世纪大道100号 中国": a country word set off by a space.
    const space = last.lastIndexOf(' ');
    const country = space > 0 ? standardizeCountry(last.slice(space + 1)) : undefined;
    if (country?.ok) return { country: country.value, rest: [...segments.slice(0, -1), last.slice(0, space)].join(', ') };
    return { rest: line };
  }
  const words = last.split(' ');
  for (let n = Math.min(4, words.length - 1); n >= 1; n--) {
    const tail = words.slice(words.length - n).join(' ');
    if (findUsState(tail)) break;
    const country = standardizeCountry(tail);
    if (!country.ok || (n === 1 && tail.length < 3 && tail.toUpperCase() !== 'US')) continue;
    const before = words.slice(0, words.length - n);
    const prev = before[before.length - 1] ?? '';
    if (/\d/.test(prev) || findUsState(prev) || findUsState(before.slice(-2).join(' ')) || findCnProvince(prev)) {
      const rest = [...segments.slice(0, -1), before.join(' ')].filter(Boolean).join(', ');
      return { country: country.value, rest };
    }
  }
  return { rest: line };
}

/** `given`: a country the caller already knows (an object's country field); it wins over one named in the line. */
function parseLine(text: string, options: AddressOptions, draft: Draft, given?: string): Cleaned<StandardAddress, AddressIssue> {
  const line = tidy(text);
  if (isBlank(line)) return cleanIssue('address.empty', 'The address is empty or a placeholder.');
  const trailing = takeTrailingCountry(line);
  const rest = trailing.rest;
  const explicit = given ?? trailing.country;
  if (trailing.country && trailing.country === explicit) draft.rules.add('address.country_code');
  draft.rules.add('address.parsed');

  if (HAN.test(rest) && (!explicit || CN_REGIONS.has(explicit))) {
    // "Room 1201, 上海市浦东新区…": Latin-script parts written first belong at the end of the street.
    const segments = rest.split(', ');
    let lead = 0;
    while (lead < segments.length - 1 && !HAN.test(segments[lead] as string)) lead++;
    const cn = parseCnHan(segments.slice(lead).join(', '));
    if (lead > 0) cn.street = [cn.street, ...segments.slice(0, lead)].filter(Boolean).join(' ');
    if (cn.country && !CN_REGIONS.has(cn.country)) {
      // 美国加州…: a foreign address in Chinese script is kept whole under its country.
      if (!explicit) draft.rules.add('address.country_code');
      return unstructured(draft, cn.street ?? rest, explicit ?? cn.country, cn.postalCode, false);
    }
    if (cn.province || cn.city || cn.district || (cn.country && cn.country !== 'CN')) {
      applyCn(draft, cn, explicit);
      return finish(draft);
    }
    // Hong Kong and Macao addresses have no province or city level here: country and street are all there is.
    if (explicit === 'HK' || explicit === 'MO') {
      draft.rules.delete('address.parsed');
      applyCn(draft, cn, explicit);
      return finish(draft);
    }
    if (cn.country && !explicit) draft.rules.add('address.country_code');
    // Nothing found: the line as written, not reordered.
    return unstructured(draft, lead > 0 ? rest : (cn.street ?? rest), explicit ?? cn.country ?? 'CN', cn.postalCode, !explicit && !cn.country);
  }

  const tryCountry = (country: string, strict: boolean): boolean => {
    if (country === 'US') {
      const us = parseUsLine(rest, strict);
      if (us) applyUs(draft, us, explicit);
      return us !== undefined;
    }
    if (country === 'CN') {
      const cn = parseCnLatin(rest);
      if (cn) applyCnLatin(draft, cn, explicit);
      return cn !== undefined;
    }
    return false;
  };
  if (explicit) {
    if (tryCountry(explicit, false)) return finish(draft);
    return unstructured(draft, rest, explicit, undefined, false);
  }
  if (tryCountry('US', true)) return finish(draft);
  for (const country of options.countries) if (tryCountry(country, false)) return finish(draft);
  return unstructured(draft, rest, undefined, undefined, false);
}

function unstructured(draft: Draft, street: string, country: string | undefined, postalCode: string | undefined, inferred: boolean): Cleaned<StandardAddress, AddressIssue> {
  draft.rules.delete('address.parsed');
  if (country) draft.address.country = country;
  if (inferred) draft.rules.add('address.country_inferred');
  if (postalCode) draft.address.postalCode = postalCode;
  draft.address.street = street;
  flag(draft, 'address.unstructured', 'The address could not be split into parts; it is kept whole as the street.');
  return finish(draft);
}

// ─── Object form ──────────────────────────────────────────────────────────

const FIELD_NAMES = {
  street: ['street', 'street1', 'line1', 'address1', 'addressLine1', 'address_line1', 'address_line_1', 'streetAddress', 'street_address', 'address'],
  street2: ['street2', 'line2', 'address2', 'addressLine2', 'address_line2', 'address_line_2'],
  city: ['city', 'town', 'locality'],
  state: ['state', 'province', 'region', 'stateCode', 'state_code'],
  district: ['district', 'county'],
  postalCode: ['postalCode', 'postal_code', 'postcode', 'zip', 'zipCode', 'zip_code', 'zipcode'],
  country: ['country', 'countryCode', 'country_code'],
} as const;

type FieldName = keyof typeof FIELD_NAMES;

function readFields(obj: Record<string, unknown>): Partial<Record<FieldName, string>> & { whitespace: boolean } {
  const out: Partial<Record<FieldName, string>> & { whitespace: boolean } = { whitespace: false };
  for (const field of Object.keys(FIELD_NAMES) as FieldName[]) {
    for (const key of FIELD_NAMES[field]) {
      const raw = asText(obj[key]);
      if (raw === undefined) continue;
      const text = tidy(raw);
      if (isBlank(text)) continue;
      if (text !== raw) out.whitespace = true;
      out[field] = text;
      break;
    }
  }
  return out;
}

function fromObject(obj: Record<string, unknown>, options: AddressOptions): Cleaned<StandardAddress, AddressIssue> {
  const f = readFields(obj);
  const draft = newDraft();
  if (!f.street && !f.street2 && !f.city && !f.state && !f.district && !f.postalCode && !f.country) {
    return cleanIssue('address.empty', 'The address object has no street, city, state, postal code or country.');
  }

  let explicit: string | undefined;
  if (f.country) {
    const country = standardizeCountry(f.country);
    if (country.ok) {
      explicit = country.value;
      if (country.value !== f.country) draft.rules.add('address.country_code');
    } else {
      flag(draft, 'address.country_unknown', `"${f.country}" is not a country we know; the country was left out.`);
    }
  }

  // Only a street, holding a whole address: parse it as one line.
  if (f.street && !f.city && !f.state && !f.district && !f.postalCode && !f.street2) {
    if (f.whitespace) draft.rules.add('address.whitespace');
    return parseLine(f.street, options, draft, explicit);
  }

  const anyHan = [f.street, f.street2, f.city, f.state, f.district].some((t) => t !== undefined && HAN.test(t));
  const state = f.state ? findUsState(f.state) : undefined;
  const cnProvince = f.state ? findCnProvince(f.state) : undefined;
  let country = explicit;
  if (!country) {
    if (anyHan) country = 'CN';
    else if (state) country = 'US';
    else if (cnProvince && cnProvince.form !== 'abbr') country = 'CN';
    else if (f.city && findCnCity(f.city)) country = options.countries.includes('CN') ? 'CN' : undefined;
    else country = options.countries[0];
    if (country) draft.rules.add('address.country_inferred');
  }
  if (f.whitespace) draft.rules.add('address.whitespace');

  if (country === 'CN' || country === 'HK' || country === 'MO' || country === 'TW') cnObject(draft, f, country, explicit !== undefined);
  else if (country === 'US') usObject(draft, f);
  else otherObject(draft, f, country);
  return finish(draft);
}

function cnObject(draft: Draft, f: Partial<Record<FieldName, string>>, country: string, explicit: boolean): void {
  const a = draft.address;
  // The street field often carries the whole address (广东省深圳市南山区…): parse it and let the named fields win.
  const street = [f.street, f.street2].filter(Boolean).join(HAN.test(f.street ?? '') ? '' : ', ');
  const parsed = street && HAN.test(street) ? parseCnHan(tidy(street)) : undefined;

  let province: CnProvince | undefined;
  let unknownProvince: string | undefined;
  if (f.state) {
    const found = findCnProvince(f.state);
    if (found) {
      province = found.province;
      if (found.province.name !== f.state) draft.rules.add('address.province_normalized');
    } else {
      unknownProvince = f.state;
    }
  }
  province ??= parsed?.province;

  let city: CnCity | undefined;
  if (f.city) {
    const found = findCnCity(f.city, province) ?? (province ? undefined : findCnCity(f.city));
    if (found) {
      city = found.city;
      if (found.city.name !== f.city) draft.rules.add('address.city_normalized');
    } else if (province?.kind === 'municipality' && findCnProvince(f.city)?.province === province) {
      city = findCnCity(province.name)?.city;
      draft.rules.add('address.city_normalized');
    } else {
      const elsewhere = province ? findCnCity(f.city) : undefined;
      if (elsewhere && elsewhere.form !== 'latin') {
        city = elsewhere.city;
        flag(draft, 'address.province_city_mismatch', `${elsewhere.city.name} is in ${elsewhere.city.province.name}, not ${province?.name ?? ''}.`, elsewhere.city.province.name);
      } else {
        a.city = HAN.test(f.city) ? f.city : properCasePlace(f.city);
        flag(draft, 'address.city_unknown', `"${f.city}" is not a prefecture-level city we know; it was kept as written.`);
      }
    }
  }
  city ??= parsed?.city;
  if (!city && province?.kind === 'municipality') city = findCnCity(province.name)?.city;
  if (!province && city) {
    province = city.province;
    if (province.country === 'CN') draft.rules.add('address.province_from_city');
  }
  if (unknownProvince !== undefined) {
    if (!province) a.province = unknownProvince;
    const outcome = province ? `the city's province, ${province.name}, was used` : 'it was kept as written';
    flag(draft, 'address.province_unknown', `"${unknownProvince}" is not a Chinese province we know; ${outcome}.`);
  }

  const region = province?.country ?? city?.province.country;
  a.country = explicit ? country : region && region !== 'CN' ? region : country;
  if (province && province.country === 'CN') a.province = province.name;
  if (city) a.city = city.name;
  const district = f.district ?? parsed?.district;
  if (district) a.district = HAN.test(district) ? district.replace(HAN_GAP, '') : properCasePlace(district);
  if (parsed) {
    if (parsed.street) a.street = parsed.street;
    if (parsed.province || parsed.city || parsed.district) draft.rules.add('address.parsed');
    else if (parsed.street !== street) draft.rules.add('address.whitespace');
  } else if (street) {
    a.street = properCasePlace(street);
  }

  const postal = f.postalCode ?? parsed?.postalCode;
  if (postal !== undefined) {
    const digits = postal.replace(/\s+/g, '');
    if (country === 'CN' && !/^\d{6}$/.test(digits)) {
      flag(draft, 'address.postal_code_invalid', `"${postal}" is not a Chinese postcode (6 digits); it was left out.`);
    } else {
      a.postalCode = digits;
      if (digits !== postal) draft.rules.add('address.postal_code_normalized');
    }
  }
}

function usObject(draft: Draft, f: Partial<Record<FieldName, string>>): void {
  const a = draft.address;
  a.country = 'US';
  let state: string | undefined;
  if (f.state) {
    const found = findUsState(f.state);
    if (found) {
      state = found.code;
      a.province = found.code;
      if (found.code !== f.state) draft.rules.add('address.state_code');
    } else {
      a.province = f.state;
      flag(draft, 'address.state_unknown', `"${f.state}" is not a US state or territory we know; it was kept as written.`);
    }
  }
  if (f.city) {
    a.city = properCasePlace(f.city);
    if (a.city !== f.city) draft.rules.add('address.city_normalized');
  }
  if (f.district) a.district = properCasePlace(f.district);
  const street = [f.street, f.street2].filter(Boolean).join(' ');
  if (street) applyUsStreet(draft, street);
  if (f.postalCode) applyUsZip(draft, f.postalCode, state);
}

/** Countries without a parser here: each field tidied, nothing guessed. */
function otherObject(draft: Draft, f: Partial<Record<FieldName, string>>, country: string | undefined): void {
  const a = draft.address;
  if (country) a.country = country;
  if (f.state) a.province = f.state;
  if (f.city) {
    a.city = properCasePlace(f.city);
    if (a.city !== f.city) draft.rules.add('address.city_normalized');
  }
  if (f.district) a.district = f.district;
  const street = [f.street, f.street2].filter(Boolean).join(', ');
  if (street) a.street = street;
  if (f.postalCode) a.postalCode = f.postalCode.toUpperCase();
}

// ─── Public API ───────────────────────────────────────────────────────────

/** One line or a Segment-style object {street, city, state, province, postalCode, country, district} → structured parts. */
export function standardizeAddress(raw: unknown, options: AddressOptions): Cleaned<StandardAddress, AddressIssue> {
  if (raw === null || raw === undefined) return cleanIssue('address.empty', 'The address is empty.');
  const text = asText(raw);
  if (text !== undefined) return parseLine(text, options, newDraft());
  if (typeof raw === 'object' && !Array.isArray(raw)) return fromObject(raw as Record<string, unknown>, options);
  return cleanIssue('address.unparseable', 'The address is neither text nor an object of address fields.');
}

/** A Chinese province, region, municipality or SAR by any name (沪, 上海, Shanghai, CN-SH) → its full official name (上海市). */
export function standardizeProvince(raw: unknown): Cleaned<string, 'province.unknown' | 'province.empty'> {
  const text = asText(raw);
  if (text === undefined) return raw === null || raw === undefined ? cleanIssue('province.empty', 'The province is empty.') : cleanIssue('province.unknown', 'The province is not text.');
  const trimmed = text.normalize('NFKC').trim();
  if (isBlank(trimmed)) return cleanIssue('province.empty', 'The province is empty.');
  const found = findCnProvince(trimmed);
  if (!found) return cleanIssue('province.unknown', `"${trimmed.slice(0, 60)}" is not a Chinese province, region or municipality we know.`);
  const name = found.province.name;
  if (name === text) return cleanValue(name);
  const rule = found.form === 'latin' ? 'province.from_latin' : found.form === 'iso' ? 'province.from_code' : name === trimmed ? 'province.whitespace' : 'province.full_name';
  return cleanValue(name, [rule]);
}

/**
 * A city → standard form. Chinese (or, with a Chinese province, pinyin) names
 * → the full name from the table (广州 → 广州市, 上海 → 上海市); an unknown
 * Chinese name is an issue. Other cities → proper case.
 */
export function standardizeCity(raw: unknown, province?: string): Cleaned<string, 'city.unknown' | 'city.empty'> {
  const text = asText(raw);
  if (text === undefined) return raw === null || raw === undefined ? cleanIssue('city.empty', 'The city is empty.') : cleanIssue('city.unknown', 'The city is not text.');
  const trimmed = tidy(text);
  if (isBlank(trimmed)) return cleanIssue('city.empty', 'The city is empty.');
  const cnProvince = province === undefined ? undefined : findCnProvince(province)?.province;
  if (HAN.test(trimmed) || cnProvince) {
    const found = findCnCity(trimmed, cnProvince);
    const municipal = !found && cnProvince?.kind === 'municipality' && findCnProvince(trimmed)?.province === cnProvince ? findCnCity(cnProvince.name) : undefined;
    const hit = found ?? municipal;
    if (hit) {
      const name = hit.city.name;
      if (name === text) return cleanValue(name);
      return cleanValue(name, [hit.form === 'latin' ? 'city.from_latin' : name === trimmed ? 'city.whitespace' : 'city.full_name']);
    }
    if (HAN.test(trimmed)) {
      return cleanIssue('city.unknown', `"${trimmed.slice(0, 60)}" is not a prefecture-level city we know${cnProvince ? ` in ${cnProvince.name}` : ''}.`);
    }
  }
  if (!/\p{L}/u.test(trimmed)) return cleanIssue('city.unknown', `"${trimmed.slice(0, 60)}" has no letters; it is not a city name.`);
  const value = properCasePlace(trimmed);
  if (value === text) return cleanValue(value);
  return cleanValue(value, [value === trimmed ? 'city.whitespace' : 'city.proper_case']);
}

/** A US state, DC or territory by name, code or traditional abbreviation (Illinois, Ill., IL) → its USPS code. */
export function standardizeUsState(raw: unknown): Cleaned<string, 'state.unknown' | 'state.empty'> {
  const text = asText(raw);
  if (text === undefined) return raw === null || raw === undefined ? cleanIssue('state.empty', 'The state is empty.') : cleanIssue('state.unknown', 'The state is not text.');
  const trimmed = text.normalize('NFKC').trim();
  if (isBlank(trimmed)) return cleanIssue('state.empty', 'The state is empty.');
  const found = findUsState(trimmed);
  if (!found) return cleanIssue('state.unknown', `"${trimmed.slice(0, 60)}" is not a US state or territory we know.`);
  return cleanValue(found.code, found.code === text ? [] : ['state.code']);
}
