/**
 * Country names and codes → ISO 3166-1 alpha-2. The bulk of the names comes
 * from ICU (`Intl.DisplayNames`, in English, Chinese and each country's own
 * main language), so it follows CLDR without a table to maintain here; the
 * codes and the names ICU does not give (old names, abbreviations, ISO's
 * "Korea, Republic of" style) are written below.
 */
import { asText, cleanIssue, cleanValue, type Cleaned } from './result.js';

export type CountryIssue = 'country.empty' | 'country.unknown';

/**
 * The officially assigned ISO 3166-1 codes as `alpha2 alpha3 numeric`. ICU
 * also names withdrawn codes (SU, YU, AN…), exceptional reservations (IC, EA…)
 * and pseudo-regions (EU, ZZ…); only the codes listed here are answered.
 */
const ISO_3166 = `
AD AND 020|AE ARE 784|AF AFG 004|AG ATG 028|AI AIA 660|AL ALB 008|AM ARM 051|AO AGO 024|AQ ATA 010|AR ARG 032
AS ASM 016|AT AUT 040|AU AUS 036|AW ABW 533|AX ALA 248|AZ AZE 031|BA BIH 070|BB BRB 052|BD BGD 050|BE BEL 056
BF BFA 854|BG BGR 100|BH BHR 048|BI BDI 108|BJ BEN 204|BL BLM 652|BM BMU 060|BN BRN 096|BO BOL 068|BQ BES 535
BR BRA 076|BS BHS 044|BT BTN 064|BV BVT 074|BW BWA 072|BY BLR 112|BZ BLZ 084|CA CAN 124|CC CCK 166|CD COD 180
CF CAF 140|CG COG 178|CH CHE 756|CI CIV 384|CK COK 184|CL CHL 152|CM CMR 120|CN CHN 156|CO COL 170|CR CRI 188
CU CUB 192|CV CPV 132|CW CUW 531|CX CXR 162|CY CYP 196|CZ CZE 203|DE DEU 276|DJ DJI 262|DK DNK 208|DM DMA 212
DO DOM 214|DZ DZA 012|EC ECU 218|EE EST 233|EG EGY 818|EH ESH 732|ER ERI 232|ES ESP 724|ET ETH 231|FI FIN 246
FJ FJI 242|FK FLK 238|FM FSM 583|FO FRO 234|FR FRA 250|GA GAB 266|GB GBR 826|GD GRD 308|GE GEO 268|GF GUF 254
GG GGY 831|GH GHA 288|GI GIB 292|GL GRL 304|GM GMB 270|GN GIN 324|GP GLP 312|GQ GNQ 226|GR GRC 300|GS SGS 239
GT GTM 320|GU GUM 316|GW GNB 624|GY GUY 328|HK HKG 344|HM HMD 334|HN HND 340|HR HRV 191|HT HTI 332|HU HUN 348
ID IDN 360|IE IRL 372|IL ISR 376|IM IMN 833|IN IND 356|IO IOT 086|IQ IRQ 368|IR IRN 364|IS ISL 352|IT ITA 380
JE JEY 832|JM JAM 388|JO JOR 400|JP JPN 392|KE KEN 404|KG KGZ 417|KH KHM 116|KI KIR 296|KM COM 174|KN KNA 659
KP PRK 408|KR KOR 410|KW KWT 414|KY CYM 136|KZ KAZ 398|LA LAO 418|LB LBN 422|LC LCA 662|LI LIE 438|LK LKA 144
LR LBR 430|LS LSO 426|LT LTU 440|LU LUX 442|LV LVA 428|LY LBY 434|MA MAR 504|MC MCO 492|MD MDA 498|ME MNE 499
MF MAF 663|MG MDG 450|MH MHL 584|MK MKD 807|ML MLI 466|MM MMR 104|MN MNG 496|MO MAC 446|MP MNP 580|MQ MTQ 474
MR MRT 478|MS MSR 500|MT MLT 470|MU MUS 480|MV MDV 462|MW MWI 454|MX MEX 484|MY MYS 458|MZ MOZ 508|NA NAM 516
NC NCL 540|NE NER 562|NF NFK 574|NG NGA 566|NI NIC 558|NL NLD 528|NO NOR 578|NP NPL 524|NR NRU 520|NU NIU 570
NZ NZL 554|OM OMN 512|PA PAN 591|PE PER 604|PF PYF 258|PG PNG 598|PH PHL 608|PK PAK 586|PL POL 616|PM SPM 666
PN PCN 612|PR PRI 630|PS PSE 275|PT PRT 620|PW PLW 585|PY PRY 600|QA QAT 634|RE REU 638|RO ROU 642|RS SRB 688
RU RUS 643|RW RWA 646|SA SAU 682|SB SLB 090|SC SYC 690|SD SDN 729|SE SWE 752|SG SGP 702|SH SHN 654|SI SVN 705
SJ SJM 744|SK SVK 703|SL SLE 694|SM SMR 674|SN SEN 686|SO SOM 706|SR SUR 740|SS SSD 728|ST STP 678|SV SLV 222
SX SXM 534|SY SYR 760|SZ SWZ 748|TC TCA 796|TD TCD 148|TF ATF 260|TG TGO 768|TH THA 764|TJ TJK 762|TK TKL 772
TL TLS 626|TM TKM 795|TN TUN 788|TO TON 776|TR TUR 792|TT TTO 780|TV TUV 798|TW TWN 158|TZ TZA 834|UA UKR 804
UG UGA 800|UM UMI 581|US USA 840|UY URY 858|UZ UZB 860|VA VAT 336|VC VCT 670|VE VEN 862|VG VGB 092|VI VIR 850
VN VNM 704|VU VUT 548|WF WLF 876|WS WSM 882|YE YEM 887|YT MYT 175|ZA ZAF 710|ZM ZMB 894|ZW ZWE 716`;

/** Kosovo has no ISO code, but XK is what the EU, SWIFT and CLDR all use. */
const EXTRA_CODES: Readonly<Record<string, string>> = { XK: 'XKX' };

/**
 * Names ICU does not give, or gives only in a form people rarely type. Keys
 * are folded with `fold` when the table is built, so spacing and punctuation
 * here are for the reader.
 */
const ALIASES: Readonly<Record<string, string>> = {
  // China
  PRC: 'CN', 'P.R. China': 'CN', 'P.R.C.': 'CN', "People's Republic of China": 'CN', 'China, People’s Republic of': 'CN',
  'Mainland China': 'CN', 'China Mainland': 'CN', 'China (Mainland)': 'CN', 'Chinese Mainland': 'CN',
  中华人民共和国: 'CN', 中國: 'CN', 中国大陆: 'CN', 中國大陸: 'CN', 大陆: 'CN', 内地: 'CN', 中国内地: 'CN',
  'Hong Kong SAR': 'HK', 'HKSAR': 'HK', 'Hong Kong, China': 'HK', Hongkong: 'HK', 香港特别行政区: 'HK', 香港特別行政區: 'HK', 中国香港: 'HK', 中國香港: 'HK',
  Macau: 'MO', 'Macao SAR': 'MO', 'Macau SAR': 'MO', 'Macao, China': 'MO', 澳门特别行政区: 'MO', 澳門: 'MO', 澳門特別行政區: 'MO', 中国澳门: 'MO', 中國澳門: 'MO',
  'Taiwan, Province of China': 'TW', 'Taiwan, China': 'TW', 'Chinese Taipei': 'TW', 'Republic of China': 'TW', 'Taiwan ROC': 'TW', 台灣: 'TW', 臺灣: 'TW', 中国台湾: 'TW', 中國台灣: 'TW', 台湾省: 'TW',
  // United States and United Kingdom
  'U.S.': 'US', 'U.S.A.': 'US', 'United States of America': 'US', America: 'US', 'The States': 'US', 'US of A': 'US',
  美國: 'US', 美利坚合众国: 'US', 美利堅合眾國: 'US',
  UK: 'GB', 'U.K.': 'GB', 'Great Britain': 'GB', Britain: 'GB', England: 'GB', Scotland: 'GB', Wales: 'GB', 'Northern Ireland': 'GB',
  'United Kingdom of Great Britain and Northern Ireland': 'GB', 英國: 'GB', 大不列颠: 'GB', 英格兰: 'GB', 苏格兰: 'GB',
  // ISO's "X, Republic of" style and other official or older names
  'Korea, Republic of': 'KR', 'Republic of Korea': 'KR', Korea: 'KR', ROK: 'KR', 南韩: 'KR', 南韓: 'KR', 韓國: 'KR', 大韩民国: 'KR', 大韓民國: 'KR', 南朝鲜: 'KR',
  "Korea, Democratic People's Republic of": 'KP', "Democratic People's Republic of Korea": 'KP', DPRK: 'KP', 北韩: 'KP', 北朝鲜: 'KP', 朝鲜民主主义人民共和国: 'KP',
  'Russian Federation': 'RU', 俄国: 'RU', 俄羅斯: 'RU',
  'Viet Nam': 'VN', 'Lao PDR': 'LA', "Lao People's Democratic Republic": 'LA',
  'Iran, Islamic Republic of': 'IR', 'Islamic Republic of Iran': 'IR', Persia: 'IR',
  'Syrian Arab Republic': 'SY', 'Moldova, Republic of': 'MD', 'Tanzania, United Republic of': 'TZ', 'United Republic of Tanzania': 'TZ',
  'Bolivia, Plurinational State of': 'BO', 'Venezuela, Bolivarian Republic of': 'VE', 'Micronesia, Federated States of': 'FM',
  'Brunei Darussalam': 'BN', 'Holy See': 'VA', Vatican: 'VA', 'Czech Republic': 'CZ', Turkey: 'TR', Türkiye: 'TR',
  'Ivory Coast': 'CI', "Cote d'Ivoire": 'CI', Burma: 'MM', Swaziland: 'SZ', Macedonia: 'MK', 'Republic of North Macedonia': 'MK', 'FYROM': 'MK',
  'Cape Verde': 'CV', 'East Timor': 'TL', 'Palestine, State of': 'PS', 'State of Palestine': 'PS', Palestine: 'PS',
  'Congo, Democratic Republic of the': 'CD', 'Democratic Republic of the Congo': 'CD', DRC: 'CD', 'DR Congo': 'CD', Zaire: 'CD',
  'Republic of the Congo': 'CG', 'Congo Republic': 'CG', Congo: 'CG',
  UAE: 'AE', 'U.A.E.': 'AE', Emirates: 'AE', KSA: 'SA', 'Kingdom of Saudi Arabia': 'SA', Saudi: 'SA',
  Holland: 'NL', 'The Netherlands': 'NL', 'Kingdom of the Netherlands': 'NL', 荷蘭: 'NL',
  'Republic of Ireland': 'IE', Eire: 'IE', 'Federal Republic of Germany': 'DE', BRD: 'DE', 德國: 'DE',
  'Slovak Republic': 'SK', 'Kyrgyz Republic': 'KG', 'Bahamas, The': 'BS', 'The Bahamas': 'BS', 'Gambia, The': 'GM', 'The Gambia': 'GM',
  'Falkland Islands (Malvinas)': 'FK', Malvinas: 'FK', 'Virgin Islands, U.S.': 'VI', 'US Virgin Islands': 'VI', 'Virgin Islands, British': 'VG', BVI: 'VG',
  'Saint Helena, Ascension and Tristan da Cunha': 'SH', 'Saint Martin (French part)': 'MF', 'Sint Maarten (Dutch part)': 'SX',
  'Bonaire, Sint Eustatius and Saba': 'BQ', 'Caribbean Netherlands': 'BQ', 'Reunion': 'RE', 'Curacao': 'CW',
  'Svalbard and Jan Mayen': 'SJ', 'Heard Island and McDonald Islands': 'HM', 'United States Minor Outlying Islands': 'UM',
  'Timor Leste': 'TL', 'Sao Tome and Principe': 'ST', 'Saint Kitts': 'KN', 'St Kitts and Nevis': 'KN', 'St Lucia': 'LC', 'St Vincent': 'VC',
  // ICU's exceptional reservations belong, for addresses, to the country that runs them.
  'Canary Islands': 'ES', Canarias: 'ES', 'Ceuta and Melilla': 'ES', Ceuta: 'ES', Melilla: 'ES', 'Ascension Island': 'SH',
  'Tristan da Cunha': 'SH', 'Diego Garcia': 'IO', Sark: 'GG', 'Clipperton Island': 'FR',
  // Common Chinese forms beyond ICU's
  Nippon: 'JP', Nihon: 'JP', 日本国: 'JP', 德意志联邦共和国: 'DE', 法兰西共和国: 'FR', 加拿大: 'CA', 澳洲: 'AU', 紐西蘭: 'NZ', 新西兰: 'NZ', 星加坡: 'SG', 狮城: 'SG',
  阿联酋: 'AE', 沙特: 'SA', 大马: 'MY', ประเทศไทย: 'TH', 馬來西亞: 'MY', 泰國: 'TH', 越南社会主义共和国: 'VN', 印度尼西亚共和国: 'ID', 菲律賓: 'PH',
};

/** ICU gives one likely language per country; these countries are as often named in another. */
const MORE_OFFICIAL_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  CH: ['fr', 'it'], BE: ['fr', 'de'], CA: ['fr'], LU: ['fr', 'de'], IN: ['en'], SG: ['zh', 'ms'], MY: ['zh'],
  FI: ['sv'], IE: ['ga'], PH: ['fil'], PK: ['ur'], ZA: ['af'], IL: ['ar'], ES: ['ca', 'eu', 'gl'],
};

/** Case, width, accents, spaces and punctuation do not tell two country names apart. */
export function foldCountryName(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}\p{Z}\s]+/gu, '');
}

interface CountryTables {
  alpha2: ReadonlySet<string>;
  alpha3: ReadonlyMap<string, string>;
  numeric: ReadonlyMap<string, string>;
  names: ReadonlyMap<string, string>;
}

function buildTables(): CountryTables {
  const alpha2 = new Set<string>();
  const alpha3 = new Map<string, string>();
  const numeric = new Map<string, string>();
  for (const row of ISO_3166.split(/[|\n]/)) {
    const [a2, a3, num] = row.trim().split(' ');
    if (!a2 || !a3 || !num) continue;
    alpha2.add(a2);
    alpha3.set(a3, a2);
    numeric.set(num, a2);
  }
  for (const [a2, a3] of Object.entries(EXTRA_CODES)) {
    alpha2.add(a2);
    alpha3.set(a3, a2);
  }

  const names = new Map<string, string>();
  // First writer wins: the written aliases, then English, then Chinese, then
  // endonyms, so a rare clash between languages cannot override a common name.
  const add = (name: string | undefined, code: string): void => {
    if (!name) return;
    const key = foldCountryName(name);
    if (key.length > 0 && !names.has(key)) names.set(key, code);
  };
  for (const [name, code] of Object.entries(ALIASES)) add(name, code);
  const displays = ['en', 'zh', 'zh-Hant'].flatMap((locale) =>
    (['long', 'short'] as const).map((style) => new Intl.DisplayNames([locale], { type: 'region', style, fallback: 'none' })),
  );
  for (const display of displays) for (const code of alpha2) add(display.of(code), code);
  for (const code of alpha2) {
    const languages = [new Intl.Locale(`und-${code}`).maximize().baseName, ...(MORE_OFFICIAL_LANGUAGES[code] ?? [])];
    for (const language of languages) {
      for (const style of ['long', 'short'] as const) add(new Intl.DisplayNames([language], { type: 'region', style, fallback: 'none' }).of(code), code);
    }
  }
  return { alpha2, alpha3, numeric, names };
}

// Built on first use: the ICU names cost ~16 MB of memory, and a pipeline
// whose sources never send a country should not carry them.
let built: CountryTables | undefined;
function tables(): CountryTables {
  return (built ??= buildTables());
}

/** Whether `code` is an ISO 3166-1 alpha-2 code this module answers (plus XK). */
export function isCountryCode(code: string): boolean {
  return tables().alpha2.has(code);
}

/**
 * A country name (English, Chinese, the country's own language), ISO 3166-1
 * alpha-2, alpha-3 or numeric code → alpha-2.
 */
export function standardizeCountry(raw: unknown): Cleaned<string, CountryIssue> {
  const text = asText(raw);
  if (text === undefined) {
    return raw === null || raw === undefined ? cleanIssue('country.empty', 'The country is empty.') : cleanIssue('country.unknown', 'The country is not text.');
  }
  const trimmed = text.normalize('NFKC').trim();
  if (trimmed === '') return cleanIssue('country.empty', 'The country is empty.');

  const upper = trimmed.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && tables().alpha2.has(upper)) return cleanValue(upper, upper === trimmed ? [] : ['country.alpha2']);
  if (/^[A-Z]{3}$/.test(upper)) {
    const code = tables().alpha3.get(upper);
    if (code) return cleanValue(code, ['country.alpha3_to_alpha2']);
  }
  if (/^\d{1,3}$/.test(trimmed)) {
    const code = tables().numeric.get(trimmed.padStart(3, '0'));
    return code ? cleanValue(code, ['country.numeric_to_alpha2']) : cleanIssue('country.unknown', `No country has the ISO numeric code ${trimmed}.`);
  }
  const folded = foldCountryName(trimmed);
  // "The Gambia" and "Gambia" alike: ICU uses neither form consistently.
  const code = tables().names.get(folded) ?? (/^the\s/i.test(trimmed) ? tables().names.get(folded.slice(3)) : undefined);
  if (code) return cleanValue(code, ['country.name_to_alpha2']);
  return cleanIssue('country.unknown', `"${trimmed.slice(0, 60)}" is not a country name or code we know.`);
}
