/**
 * United States address pieces: state and territory codes, USPS street
 * suffixes, directionals and secondary-unit designators, ZIP codes, and the
 * normalization of a street line to USPS style in proper case
 * (`123 north main street apt 4` → `123 N Main St Apt 4`).
 */

// code|names, the first being the official one; folded on load, so `N.H.` = `NH` = `nh`.
const STATE_ROWS = `
AL|Alabama|Ala
AK|Alaska
AZ|Arizona|Ariz
AR|Arkansas|Ark
CA|California|Calif|Cal
CO|Colorado|Colo
CT|Connecticut|Conn
DE|Delaware|Del
DC|District of Columbia|Washington DC|Wash DC
FL|Florida|Fla
GA|Georgia
HI|Hawaii
ID|Idaho
IL|Illinois|Ill|Ills
IN|Indiana|Ind
IA|Iowa
KS|Kansas|Kan|Kans
KY|Kentucky|Ken|Kent
LA|Louisiana
ME|Maine
MD|Maryland
MA|Massachusetts|Mass
MI|Michigan|Mich
MN|Minnesota|Minn
MS|Mississippi|Miss
MO|Missouri
MT|Montana|Mont
NE|Nebraska|Neb|Nebr
NV|Nevada|Nev
NH|New Hampshire
NJ|New Jersey
NM|New Mexico|N Mex
NY|New York
NC|North Carolina
ND|North Dakota|N Dak
OH|Ohio
OK|Oklahoma|Okla
OR|Oregon|Ore|Oreg
PA|Pennsylvania|Penn|Penna
RI|Rhode Island
SC|South Carolina
SD|South Dakota|S Dak
TN|Tennessee|Tenn
TX|Texas|Tex
UT|Utah
VT|Vermont
VA|Virginia
WA|Washington|Wash
WV|West Virginia|W Va
WI|Wisconsin|Wis|Wisc
WY|Wyoming|Wyo
AS|American Samoa
GU|Guam
MP|Northern Mariana Islands|CNMI
PR|Puerto Rico
VI|US Virgin Islands|Virgin Islands|USVI
UM|US Minor Outlying Islands|United States Minor Outlying Islands
AA|Armed Forces Americas
AE|Armed Forces Europe|Armed Forces Africa|Armed Forces Canada|Armed Forces Middle East
AP|Armed Forces Pacific
FM|Federated States of Micronesia|Micronesia
MH|Marshall Islands
PW|Palau
`;

/**
 * First digits a state's ZIP codes start with (the national areas of the ZIP
 * system). NY also owns 005 and 063, TX the 885 block of El Paso, DC the 569
 * block of federal agencies: hence their second digit.
 */
const ZIP_AREAS: Readonly<Record<string, string>> = {
  CT: '0', MA: '0', ME: '0', NH: '0', NJ: '0', PR: '0', RI: '0', VT: '0', VI: '0', AE: '0',
  DE: '1', NY: '01', PA: '1',
  DC: '25', MD: '2', NC: '2', SC: '2', VA: '2', WV: '2',
  AL: '3', FL: '3', GA: '3', MS: '3', TN: '3', AA: '3',
  IN: '4', KY: '4', MI: '4', OH: '4',
  IA: '5', MN: '5', MT: '5', ND: '5', SD: '5', WI: '5',
  IL: '6', KS: '6', MO: '6', NE: '6',
  AR: '7', LA: '7', OK: '7', TX: '78',
  AZ: '8', CO: '8', ID: '8', NM: '8', NV: '8', UT: '8', WY: '8',
  AK: '9', AS: '9', CA: '9', GU: '9', HI: '9', MH: '9', FM: '9', MP: '9', OR: '9', PW: '9', WA: '9', AP: '9',
};

// USPS standard abbreviation: the names and common misspellings that map to it.
const SUFFIX_ROWS = `
ALY alley allee ally|ANX annex anex annx|ARC arcade|AVE avenue av aven avenu avn avnue|BYU bayou bayoo|BCH beach|BND bend
BLF bluff bluf|BLFS bluffs|BTM bottom bot bottm|BLVD boulevard boul boulv|BR branch brnch|BRG bridge brdge|BRK brook|BRKS brooks
BG burg|BYP bypass bypa bypas byps|CP camp cmp|CYN canyon canyn cnyn|CPE cape|CSWY causeway causwa|CTR center cen cent centr centre cnter cntr
CIR circle circ circl crcl crcle|CLF cliff|CLFS cliffs|CLB club|CMN common|COR corner|CORS corners|CRSE course|CT court|CTS courts|CV cove
CRK creek|CRES crescent crsent crsnt|CRST crest|XING crossing crssng|CURV curve|DL dale|DM dam|DV divide div dvd|DR drive driv drv|DRS drives
EST estate|ESTS estates|EXPY expressway exp expr express expw|EXT extension extn extnsn|FLS falls|FRY ferry frry|FLD field|FLDS fields
FLT flat|FLTS flats|FRD ford|FRST forest forests|FRG forge forg|FRK fork|FRKS forks|FT fort frt|FWY freeway freewy frway frwy
GDN garden gardn grden grdn|GDNS gardens grdns|GTWY gateway gatewy gatway gtway|GLN glen|GRN green|GRV grove grov|HBR harbor harb harbr hrbor
HVN haven|HTS heights|HWY highway highwy hiway hiwy hway|HL hill|HLS hills|HOLW hollow hllw hollows holws|INLT inlet|IS island islnd
ISS islands islnds|JCT junction jction jctn junctn juncton|KY key|KYS keys|KNL knoll knol|LK lake|LKS lakes|LNDG landing lndng|LN lane
LGT light|LCK lock|LCKS locks|LDG lodge ldge lodg|LOOP loops|MALL|MNR manor|MDW meadow|MDWS meadows medows|ML mill|MLS mills
MSN mission missn mssn|MTWY motorway|MT mount mnt|MTN mountain mntain mntn mountin mtin|NCK neck|ORCH orchard orchrd|OPAS overpass
PARK parks|PKWY parkway parkwy pkway pky parkways pkwys|PASS|PSGE passage|PATH paths|PIKE pikes|PNE pine|PNES pines|PL place|PLN plain
PLNS plains|PLZ plaza plza|PT point|PTS points|PRT port|PRTS ports|PR prairie prr|RADL radial rad radiel|RNCH ranch ranches rnchs|RPD rapid
RPDS rapids|RST rest|RDG ridge rdge|RIV river rvr rivr|RD road|RDS roads|RTE route|ROW|RUN|SHL shoal|SHLS shoals|SHR shore shoar|SHRS shores
SKWY skyway|SPG spring spng sprng|SPGS springs spngs sprngs|SQ square sqr sqre squ|STA station statn stn|STRA stravenue|STRM stream streme
ST street str strt|STS streets|SMT summit sumit sumitt|TER terrace terr|TRCE trace traces|TRAK track tracks trk trks|TRL trail trails trls
TUNL tunnel tunel tunls tunnels tunnl|TPKE turnpike trnpk turnpk|UPAS underpass|UN union|VLY valley vally vlly|VIA viaduct vdct viadct|VW view
VLG village vill villag villg villiage|VL ville|VIS vista vist vst vsta|WALK walks|WALL|WAY wy|WL well|WLS wells`;

/**
 * Suffixes that end a street name and rarely start or end a city name: where
 * a one-line address has no comma, the street is taken to end at the first of
 * these (Park, Lake, Springs… would cut "Palm Springs" in two).
 */
const STRONG_SUFFIXES = new Set(['ST', 'AVE', 'RD', 'DR', 'BLVD', 'LN', 'CT', 'WAY', 'PL', 'CIR', 'PKWY', 'HWY', 'TER', 'TRL', 'SQ', 'PLZ', 'EXPY', 'FWY', 'TPKE', 'ALY', 'XING']);

const DIRECTIONAL_ROWS = 'N north|S south|E east|W west|NE northeast|NW northwest|SE southeast|SW southwest';

/**
 * Secondary-unit designators that take a number. `strong` ones mark a unit
 * wherever they stand; the others (Lot, Pier…) also name streets, so they
 * count only right after a suffix or directional.
 */
const UNIT_ROWS = 'APT apartment apt:strong|BLDG building bldg:strong|FL floor fl flr:strong|RM room rm:strong|STE suite ste:strong|UNIT unit:strong|' +
  'DEPT department dept|HNGR hangar hngr|LOT lot|PIER pier|SLIP slip|SPC space spc|STOP stop|TRLR trailer trlr|PH penthouse ph:strong';

/** A unit designator's USPS abbreviation (Apt, Ste…) and whether it marks a unit wherever it stands. */
export interface UnitDesignator {
  abbr: string;
  strong: boolean;
}

/** A state or territory: USPS code and official name. */
export interface UsStateInfo {
  code: string;
  name: string;
}

/** Letters only, lower case: `N.H.` → `nh`, `Washington, D.C.` → `washingtondc`. */
export function foldUsWord(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9#]+/g, '');
}

const STATE_BY_KEY = new Map<string, UsStateInfo>();
const STATE_BY_CODE = new Map<string, UsStateInfo>();
for (const line of STATE_ROWS.trim().split('\n')) {
  const [code, ...names] = line.split('|');
  if (!code || !names[0]) continue;
  const info = { code, name: names[0] };
  STATE_BY_CODE.set(code, info);
  STATE_BY_KEY.set(code.toLowerCase(), info);
  for (const name of names) STATE_BY_KEY.set(foldUsWord(name), info);
}

const SUFFIX_BY_KEY = new Map<string, string>();
for (const row of SUFFIX_ROWS.trim().split(/[|\n]/)) {
  const [abbr, ...names] = row.trim().split(' ');
  if (!abbr) continue;
  const proper = properCaseAbbr(abbr);
  SUFFIX_BY_KEY.set(abbr.toLowerCase(), proper);
  for (const name of names) SUFFIX_BY_KEY.set(name, proper);
}

const DIRECTIONAL_BY_KEY = new Map<string, string>();
for (const row of DIRECTIONAL_ROWS.split('|')) {
  const [abbr = '', name = ''] = row.split(' ');
  DIRECTIONAL_BY_KEY.set(abbr.toLowerCase(), abbr);
  DIRECTIONAL_BY_KEY.set(name, abbr);
}

const UNIT_BY_KEY = new Map<string, UnitDesignator>();
for (const row of UNIT_ROWS.split('|')) {
  const [words = '', kind] = row.split(':');
  const [abbr = '', ...names] = words.split(' ');
  const unit = { abbr: properCaseAbbr(abbr), strong: kind === 'strong' };
  UNIT_BY_KEY.set(abbr.toLowerCase(), unit);
  for (const name of names) UNIT_BY_KEY.set(name, unit);
}

function properCaseAbbr(abbr: string): string {
  return abbr.charAt(0) + abbr.slice(1).toLowerCase();
}

/** All 50 states, DC, the territories, the freely associated states and the military "states", by code. */
export const US_STATES: ReadonlyMap<string, UsStateInfo> = STATE_BY_CODE;

/** A state by its code, name or a traditional abbreviation (`Ill.`, `Calif.`, `N.Y.`). */
export function findUsState(text: string): UsStateInfo | undefined {
  const key = foldUsWord(text);
  return key.length > 0 && key.length <= 40 ? STATE_BY_KEY.get(key) : undefined;
}

/** The USPS abbreviation of a street suffix word (`Avenue`, `Ave.`, `av` → `Ave`). */
export function usStreetSuffix(word: string): string | undefined {
  return SUFFIX_BY_KEY.get(foldUsWord(word));
}

/** Whether the word is a suffix that safely ends a street in an address without commas. */
export function isStrongUsSuffix(word: string): boolean {
  const abbr = usStreetSuffix(word);
  return abbr !== undefined && STRONG_SUFFIXES.has(abbr.toUpperCase());
}

/** `North`, `n.`, `N` → `N`; `Northwest`, `N.W.` → `NW`. */
export function usDirectional(word: string): string | undefined {
  return DIRECTIONAL_BY_KEY.get(foldUsWord(word));
}

/** The designator of a secondary unit (`Apartment` → Apt, `Suite` → Ste). */
export function usUnitDesignator(word: string): UnitDesignator | undefined {
  return UNIT_BY_KEY.get(foldUsWord(word));
}

export type ZipCheck = { ok: true; zip: string; changed: boolean } | { ok: false };

/** A ZIP or ZIP+4 as `12345` or `12345-6789`; nine bare digits get their dash. */
export function parseUsZip(text: string): ZipCheck {
  const trimmed = text.trim();
  const m = /^(\d{5})(?:\s*[-–]?\s*(\d{4}))?$/.exec(trimmed);
  if (!m || m[1] === '00000') return { ok: false };
  const zip = m[2] ? `${m[1]}-${m[2]}` : (m[1] as string);
  return { ok: true, zip, changed: zip !== trimmed };
}

/** Whether a ZIP's first digit belongs to the state (unknown states and codes pass). */
export function zipFitsState(zip: string, state: string): boolean {
  const areas = ZIP_AREAS[state];
  return areas === undefined || areas.includes(zip.charAt(0));
}

/** States whose ZIPs start with 0, whose leading zero spreadsheets drop (2134 for 02134). */
export function zipStartsWithZero(state: string): boolean {
  return ZIP_AREAS[state] === '0';
}

const SMALL_WORDS = new Set(['of', 'the', 'and', 'on', 'upon', 'at']);

/**
 * Proper case for one all-lower or all-upper word: `MAIN` → Main, `o'fallon`
 * → O'Fallon, `wilkes-barre` → Wilkes-Barre, `mcallen` → McAllen, `42ND` →
 * 42nd, `4b` → 4B. `inner` words (not first) keep of/the/and lower case.
 */
export function properCaseWord(word: string, inner = false): string {
  if (/\d/.test(word)) {
    const ordinal = /^(\d+)(st|nd|rd|th)$/i.exec(word);
    return ordinal ? `${ordinal[1]}${(ordinal[2] as string).toLowerCase()}` : word.toUpperCase();
  }
  const lower = word.toLowerCase();
  if (inner && SMALL_WORDS.has(lower)) return lower;
  return lower.replace(/(^|[-'’.\s/])(\p{L})/gu, (_, sep: string, ch: string) => sep + ch.toUpperCase()).replace(/^Mc(\p{Ll})/u, (_, ch: string) => `Mc${ch.toUpperCase()}`);
}

/** Whether a text was typed in one case only (all lower or all upper), so proper-casing cannot destroy intent. */
export function isSingleCase(text: string): boolean {
  return text === text.toLowerCase() || text === text.toUpperCase();
}

/** A place or city name in proper case when it was typed in one case; mixed case (McAllen, DeKalb) is kept. */
export function properCasePlace(text: string): string {
  const words = text.trim().split(/\s+/);
  // The military post offices are written in capitals: APO AE 09012.
  if (words.length === 1 && /^(?:apo|fpo|dpo)$/i.test(text.trim())) return text.trim().toUpperCase();
  if (!isSingleCase(text)) return words.join(' ');
  return words.map((w, i) => properCaseWord(w, i > 0)).join(' ');
}

export interface UsStreet {
  street: string;
  rules: string[];
}

function isHouseNumber(token: string): boolean {
  return /^\d/.test(token) || /^[A-Za-z]?\d+[A-Za-z]?(?:-\d+[A-Za-z]?)?$/.test(token);
}

/**
 * A street line in USPS style: the suffix abbreviated (only the last word of
 * the street name: `123 Court Street` → 123 Court St), directionals and unit
 * designators abbreviated, `P.O. Box` → PO Box, proper case when the line was
 * typed in one case.
 */
export function normalizeUsStreet(text: string): UsStreet {
  const rules = new Set<string>();
  const cleaned = text.normalize('NFKC').replace(/[,;]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned === '') return { street: '', rules: [] };
  const recase = isSingleCase(cleaned);
  let tokens = cleaned.split(' ');

  const box = /^(?:p\.?\s?o\.?|post\s+office)\s*box$/i;
  const out: string[] = [];
  let start = 0;
  for (const n of [3, 2, 1]) {
    if (tokens.length > n && box.test(tokens.slice(0, n).join(' '))) {
      out.push('PO', 'Box');
      if (tokens.slice(0, n).join(' ') !== 'PO Box') rules.add('address.po_box');
      start = n;
      break;
    }
  }
  tokens = tokens.slice(start);

  // Where the unit part starts: a designator followed by its value, or #value.
  let unitAt = tokens.length;
  for (let i = start > 0 ? 1 : 2; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token.startsWith('#')) {
      unitAt = i;
      break;
    }
    const unit = usUnitDesignator(token);
    if (!unit || i + 1 >= tokens.length) continue;
    const before = tokens[i - 1] as string;
    if (unit.strong || usStreetSuffix(before) !== undefined || usDirectional(before) !== undefined) {
      unitAt = i;
      break;
    }
  }

  const recaseToken = (token: string, inner: boolean): string => {
    const value = recase ? properCaseWord(stripDots(token), inner) : stripDots(token);
    if (value !== token) rules.add(recase ? 'address.proper_case' : 'address.punctuation');
    return value;
  };
  const main = tokens.slice(0, unitAt);
  // Abbreviations replace their word outright; every other word is only recased.
  const replaced = new Map<number, string>();
  const replace = (i: number, value: string, rule: string): void => {
    replaced.set(i, value);
    const original = main[i] as string;
    if (original !== value) rules.add(foldUsWord(original) === foldUsWord(value) ? 'address.proper_case' : rule);
  };
  if (start === 0 && main.length >= 2) {
    let end = main.length - 1;
    const post = usDirectional(main[end] as string);
    if (post && end >= 2) {
      replace(end, post, 'address.directional_abbreviated');
      end--;
    }
    let suffixAt = -1;
    const suffix = usStreetSuffix(main[end] as string);
    // The suffix needs a name before it: "123 Street" keeps its word.
    if (suffix && end >= 1 && main.slice(0, end).some((t) => !isHouseNumber(t))) {
      replace(end, suffix, 'address.suffix_abbreviated');
      suffixAt = end;
    }
    const pre = isHouseNumber(main[0] as string) ? 1 : 0;
    const nameEnd = suffixAt >= 0 ? suffixAt : end + 1;
    const preDir = pre < main.length ? usDirectional(main[pre] as string) : undefined;
    // "123 North Ave": North is the name itself, not a direction.
    if (preDir && pre + 1 < nameEnd) replace(pre, preDir, 'address.directional_abbreviated');
  }
  main.forEach((token, i) => out.push(replaced.get(i) ?? recaseToken(token, i > 0 || start > 0)));

  const rest = tokens.slice(unitAt);
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] as string;
    const unit = usUnitDesignator(token);
    if (unit && i + 1 < rest.length) {
      if (unit.abbr !== token) rules.add(foldUsWord(token) === foldUsWord(unit.abbr) ? 'address.proper_case' : 'address.unit_abbreviated');
      out.push(unit.abbr);
      let value = rest[i + 1] as string;
      // "Apt # 4" and "Apt #4" are both "Apt 4" once the designator is known.
      if (value === '#' && i + 2 < rest.length) {
        value = rest[i + 2] as string;
        i++;
        rules.add('address.unit_abbreviated');
      } else if (value.startsWith('#') && value.length > 1) {
        value = value.slice(1);
        rules.add('address.unit_abbreviated');
      }
      out.push(value.toUpperCase());
      i++;
      continue;
    }
    out.push(recaseToken(token, true));
  }
  return { street: out.join(' '), rules: [...rules] };
}

function stripDots(token: string): string {
  // "St." and "N.W." lose their dots; "St. Louis"-style names keep none either, as USPS writes them.
  return token.length > 1 && token.endsWith('.') ? token.slice(0, -1) : token;
}
