import { createRequire } from 'node:module';
import { type CleanFlag, type Cleaned, asText, cleanIssue, cleanValue, ruleMasks } from './result.js';

export { canonicalGivenName } from './nicknames.js';

/**
 * Personal names → a display form and, where the name's shape tells, given
 * and family name.
 *
 * Every name: NFKC (only when the text has characters NFKC could change),
 * trimmed, inner whitespace collapsed, zero-width characters removed,
 * typographic apostrophes made `'`.
 *
 * Chinese (Han) names: inner spaces removed (`张 伟` → `张伟`); the dots of
 * transliterated names (`阿卜杜·热合曼`) kept and unified to `·`; honorific
 * suffixes removed (`张伟先生` → `张伟`; `王先生` → family 王, given unknown);
 * family name = a compound surname from the list below, else the first
 * character, unless one typed space said otherwise (`单 雄信`). A single
 * character is not split: it may be either. Dotted names are in the order of
 * their language: given·family (约翰·史密斯).
 *
 * Western (Latin-script) names: `Last, First` reordered; titles (`Mr.`,
 * `Dr.`) and trailing credentials (`PhD`) removed; generational suffixes kept
 * at the end of the display form, outside `family`, and written `Jr.`, `Sr.`,
 * `III`. Case is changed only when the input is all lower or all upper case
 * (`DeShawn` is kept as typed). Family name = the last word with the
 * particles before it (`Jan van der Berg` → `van der Berg`); given name =
 * the words before it, middle names included. A single word is a given name,
 * unless a title came before it (`Mr. Smith` → family Smith).
 * Particles (van, de, la, von…) are lower case inside a name; as the first
 * word they are kept capitalized (`Van Morrison`, `Al Pacino`, `Le Duc Tho`
 * use them as given or family names) unless another particle follows
 * (`van der berg` → `van der Berg`). In a family-name field they are always
 * lower case. Vietnamese names written family-first (`Nguyen Van An`) are
 * recognized by the surname and the `Van`/`Thi` middle name.
 *
 * Other scripts (Cyrillic, Hangul, kana, mixed) are trimmed only: their
 * order and case rules are not guessed.
 *
 * Rules: `name.trim`, `name.nfkc`, `name.punctuation` (apostrophes, stray
 * punctuation around the name), `name.cjk_spaces`, `name.middle_dot`,
 * `name.honorific`, `name.reordered`, `name.proper_case`, `name.suffix`.
 */
export type NameIssue = 'name.empty' | 'name.invalid';

export interface StandardName {
  /** display form */
  full: string;
  /** 名 / first name (with middle names) */
  given?: string;
  /** 姓 / last name, with its particles, without a generational suffix */
  family?: string;
  script: 'han' | 'latin' | 'other';
}

// Longer text is a note or an address pasted into the name field.
const MAX_LENGTH = 100;

const R_TRIM = 1;
const R_NFKC = 2;
const R_PUNCTUATION = 4;
const R_CJK_SPACES = 8;
const R_MIDDLE_DOT = 16;
const R_HONORIFIC = 32;
const R_REORDERED = 64;
const R_PROPER_CASE = 128;
const R_SUFFIX = 256;
const RULE_IDS: readonly [number, string][] = [
  [R_TRIM, 'name.trim'],
  [R_NFKC, 'name.nfkc'],
  [R_PUNCTUATION, 'name.punctuation'],
  [R_CJK_SPACES, 'name.cjk_spaces'],
  [R_MIDDLE_DOT, 'name.middle_dot'],
  [R_HONORIFIC, 'name.honorific'],
  [R_REORDERED, 'name.reordered'],
  [R_PROPER_CASE, 'name.proper_case'],
  [R_SUFFIX, 'name.suffix'],
];
const rulesOf = ruleMasks(RULE_IDS);

/** Where a step leaves its rule bits; standardizers are synchronous, so one scratch value is safe. */
let rules = 0;

// Shared, so frozen: a caller that mutates a result must not change the next one.
const EMPTY = Object.freeze(cleanIssue<NameIssue>('name.empty', 'no name was given'));

/** The standard form of a full name written in one field; see the module comment for what changes. */
export function standardizeName(raw: unknown): Cleaned<StandardName, NameIssue> {
  if (raw === undefined || raw === null) return EMPTY;
  const text = asText(raw);
  if (text === undefined) return cleanIssue('name.invalid', `a value of type ${typeof raw} is not a name`);
  rules = 0;
  const s = tidy(text);
  if (s === '') return (rules & R_PUNCTUATION) === 0 ? EMPTY : cleanIssue('name.invalid', 'there are no letters');
  const junk = junkReason(s);
  if (junk !== undefined) return cleanIssue('name.invalid', junk);
  let name: StandardName | string;
  switch (scriptOf(s)) {
    case 'han':
      name = hanName(s);
      break;
    case 'latin':
      name = latinName(s);
      break;
    default:
      name = { full: s, script: 'other' };
  }
  if (typeof name === 'string') return cleanIssue('name.invalid', name);
  return cleanValue(name, rulesOf(rules), isPlaceholder(name) ? PLACEHOLDER_FLAGS : undefined);
}

/**
 * The standard form of a name given as separate given (first) and family
 * (last) fields. A part that is a placeholder (`N/A`, `未知`) is dropped with
 * a `name.part_dropped` flag when the other part is a real name.
 */
export function standardizeNameParts(given: unknown, family: unknown): Cleaned<StandardName, NameIssue> {
  rules = 0;
  const g = part(given);
  const f = part(family);
  if (g.text === undefined && f.text === undefined) {
    const junk = g.junk ?? f.junk;
    return junk === undefined ? EMPTY : cleanIssue('name.invalid', junk);
  }
  const flags: CleanFlag[] = [];
  if (g.junk !== undefined) flags.push({ code: 'name.part_dropped', message: `the given name was dropped: ${g.junk}` });
  if (f.junk !== undefined) flags.push({ code: 'name.part_dropped', message: `the family name was dropped: ${f.junk}` });
  const gs = g.text === undefined ? undefined : scriptOf(g.text);
  const fs = f.text === undefined ? undefined : scriptOf(f.text);
  let name: StandardName | string;
  if ((gs ?? fs) === 'han' && (fs ?? gs) === 'han') name = hanParts(g.text, f.text);
  else if ((gs ?? fs) === 'latin' && (fs ?? gs) === 'latin') name = latinParts(g.text, f.text);
  else name = otherParts(g.text, f.text);
  if (typeof name === 'string') return cleanIssue('name.invalid', name);
  if (isPlaceholder(name)) flags.push(...PLACEHOLDER_FLAGS);
  return cleanValue(name, rulesOf(rules), flags.length === 0 ? undefined : flags);
}

function part(raw: unknown): { text?: string; junk?: string } {
  if (raw === undefined || raw === null) return {};
  const text = asText(raw);
  if (text === undefined) return { junk: `a value of type ${typeof raw} is not a name` };
  const before = rules;
  const s = tidy(text);
  const junk = s === '' ? ((rules & R_PUNCTUATION) === 0 ? undefined : 'there are no letters') : junkReason(s);
  // A part that is dropped changed nothing in the name.
  if (s === '' || junk !== undefined) rules = before;
  if (junk !== undefined) return { junk };
  return s === '' ? {} : { text: s };
}

const PLACEHOLDER_FLAGS: readonly CleanFlag[] = Object.freeze([{ code: 'name.placeholder', message: 'John/Jane Doe is the usual stand-in for an unknown person' }]);
function isPlaceholder(name: StandardName): boolean {
  return name.family === 'Doe' && (name.given === 'John' || name.given === 'Jane');
}

// ---------------------------------------------------------------------------
// Text hygiene shared by every script

const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff\u00ad]/g;
const TYPOGRAPHIC_APOSTROPHES = /[\u2018\u2019\u02bc\u0060\u00b4\u2032]/g;
const WHITESPACE_RUN = /\s+/g;
const NEEDS_COLLAPSE = /\s\s|[^\S ]/;
// Wrapping quotes and stray punctuation that are never part of a name at its ends (a final `.` can be `Jr.`).
const EDGE_PUNCTUATION = /^[."“”«»「」『』《》。、*#_,;:!?\-/\\|]+|["“”«»「」『』《》。、*#_,;:!?\-/\\|]+$/g;
const EDGE_CHARS = new Set(Array.from('."“”«»「」『』《》。、*#_,;:!?-/\\|', (c) => c.charCodeAt(0)));

/** NFKC, apostrophes, whitespace and edge punctuation; sets the rule bits it applies. */
function tidy(text: string): string {
  let s = text;
  if (needsNfkc(s)) {
    // Before NFKC, which would turn ´ into a space and a combining accent.
    const apostrophes = s.replace(TYPOGRAPHIC_APOSTROPHES, "'");
    if (apostrophes !== s) rules |= R_PUNCTUATION;
    const zeroWidth = apostrophes.replace(ZERO_WIDTH, '');
    if (zeroWidth !== apostrophes) rules |= R_TRIM;
    s = zeroWidth.normalize('NFKC');
    if (s !== zeroWidth) rules |= R_NFKC;
  } else if (s.indexOf('`') !== -1) {
    s = s.replace(TYPOGRAPHIC_APOSTROPHES, "'");
    rules |= R_PUNCTUATION;
  }
  const trimmed = s.trim();
  let collapsed = trimmed;
  if (NEEDS_COLLAPSE.test(trimmed)) collapsed = trimmed.replace(WHITESPACE_RUN, ' ');
  if (collapsed !== s) rules |= R_TRIM;
  const first = collapsed.charCodeAt(0);
  const last = collapsed.charCodeAt(collapsed.length - 1);
  // An apostrophe starts names ('t Hooft) and ends none but quoted ones: strip only a pair.
  const quoted = first === 39 && last === 39 && collapsed.length > 2;
  if (collapsed !== '' && (quoted || EDGE_CHARS.has(first) || (last !== 46 && EDGE_CHARS.has(last)))) {
    const stripped = (quoted ? collapsed.slice(1, -1) : collapsed).replace(EDGE_PUNCTUATION, '').trim();
    if (stripped !== collapsed) {
      rules |= R_PUNCTUATION;
      return stripped;
    }
  }
  return collapsed;
}

/** Whether NFKC could change the text: anything beyond ASCII, Latin-1 letters and the common Han blocks. */
function needsNfkc(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 || (c >= 0x4e00 && c <= 0x9fff) || c === 0xb7) continue;
    if (c >= 0xc0 && c <= 0xff && c !== 0xd7 && c !== 0xf7) continue;
    if (c >= 0x3400 && c <= 0x4dbf) continue;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Placeholders and junk

/**
 * Values that say "no name" or are test data, compared lower case with
 * spaces, dots, dashes, slashes and underscores removed (`N/A` → `na`).
 */
const JUNK = new Set(
  [
    'na nan nil null none undefined unknown unk void empty blank',
    'test testing tester testuser testtest testname testaccount testcustomer',
    'asdf asdfg asdfgh asdfghjkl qwer qwert qwerty qwe zxc zxcv zxcvb jkl sdf sdfsdf asd abc abcd abcde abcdef xyz',
    'anonymous anon guest customer client user username member visitor admin administrator root nobody',
    'noname name fullname firstname lastname firstlast firstnamelastname yourname myname',
    'notprovided notavailable notgiven notapplicable refused declined tbd tba self me',
    'dearcustomer valuedcustomer occupant resident currentresident fake dummy sample demo example blah foo bar foobar',
    '未知 无 无名 无名氏 匿名 不详 暂无 空 测试 测试用户 测试账号 某 某某 某人 客户 顾客 用户 会员 游客 访客 本人 姓名 名字 佚名',
    '未填 未填写 没有 不知道 保密 先生 女士 小姐 老板 同学 亲 亲爱的 管理员 无姓名',
    '無 無名 匿名 不詳 暫無 測試 客戶 用戶 會員 遊客 訪客 先生 女士 小姐',
  ]
    .join(' ')
    .split(' '),
);
const JUNK_KEY_STRIP = /[\s._\-/\\]+/g;

/** Why the text cannot be a name, or undefined when it may be one. */
function junkReason(s: string): string | undefined {
  if (s.length > MAX_LENGTH) return `${s.length} characters is too long for a name`;
  let letters = 0;
  let digits = 0;
  let firstLetter = -1;
  let sameLetter = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 64) return 'an email address is not a name';
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      const lower = c | 32;
      if (firstLetter === -1) firstLetter = lower;
      else if (lower !== firstLetter) sameLetter = false;
      letters++;
    } else if (c > 127 && !isPunctuationOrSpace(c)) {
      sameLetter = false;
      letters++;
    }
  }
  if (letters === 0) return digits > 0 ? 'a number is not a name' : 'there are no letters';
  if (digits > 0 && !ORDINAL_SUFFIX.test(s)) return 'names do not contain digits';
  if (s.indexOf('://') !== -1 || s.startsWith('www.')) return 'a web address is not a name';
  if (letters === 1 && firstLetter !== -1) return 'a single letter is not a name';
  if (sameLetter && firstLetter !== -1) return 'a repeated letter is not a name';
  if (s.length <= 24) {
    const key = s.toLowerCase().replace(JUNK_KEY_STRIP, '');
    if (JUNK.has(key)) return `"${s}" is a placeholder, not a name`;
  }
  return undefined;
}

// The one place digits belong in a name: `John Smith 3rd`.
const ORDINAL_SUFFIX = /^[^0-9]+ [2-9](?:nd|rd|th)\.?$/i;

function isPunctuationOrSpace(c: number): boolean {
  return (c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xff0f) || c === 0xb7 || c === 0x30fb || c === 0xa0;
}

// ---------------------------------------------------------------------------
// Script

function isHan(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff) || c === 0x3007;
}

// Separators of transliterated names: 阿卜杜·热合曼, also typed as • ・ ‧ ∙ ⋅ . -
function isNameDot(c: number): boolean {
  return c === 0xb7 || c === 0x2022 || c === 0x30fb || c === 0x2027 || c === 0x2219 || c === 0x22c5 || c === 46 || c === 45;
}

function isLatinLetter(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) ||
    (c >= 0x1e00 && c <= 0x1eff) ||
    (c >= 0x300 && c <= 0x36f)
  );
}

function scriptOf(s: string): 'han' | 'latin' | 'other' {
  let han = 0;
  let latin = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHan(c)) han++;
    else if (c >= 0xd840 && c <= 0xd8bf) {
      // Han extensions B–H live in planes 2 and 3: count the pair once.
      han++;
      i++;
    } else if (isLatinLetter(c)) latin++;
    // Digits get here only as an ordinal suffix (John Smith 3rd): junkReason refused the rest.
    else if (c === 32 || c === 44 || c === 39 || isNameDot(c) || (c >= 48 && c <= 57)) continue;
    else return 'other';
  }
  if (han > 0) return latin === 0 ? 'han' : 'other';
  return latin > 0 ? 'latin' : 'other';
}

// ---------------------------------------------------------------------------
// Chinese names

/**
 * Two-character surnames (复姓), simplified and traditional, from the
 * Hundred Family Surnames and common use. Pairs that are merely printed
 * together there (岳帅, 况后) are single surnames and left out.
 */
const COMPOUND_SURNAMES = new Set(
  [
    '欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 南宫 西门 百里 呼延 闻人 澹台 公冶 太叔 申屠 钟离',
    '宗政 濮阳 淳于 单于 赫连 万俟 司空 仲孙 亓官 司寇 子车 颛孙 壤驷 公良 漆雕 乐正 拓跋 第五 梁丘 左丘 东郭 南门 羊舌 微生 公羊',
    '公西 巫马 谷梁 夹谷 段干 东门 闾丘 公户 公玉 公仪 公山 公坚 归海 鲜于',
    '歐陽 司馬 諸葛 東方 尉遲 公孫 長孫 軒轅 南宮 西門 聞人 澹臺 鍾離 鐘離 濮陽 單于 赫連 萬俟 仲孫 顓孫 壤駟 樂正 東郭 南門 巫馬',
    '穀梁 夾谷 東門 閭丘 鮮于 公戶',
  ]
    .join(' ')
    .split(' '),
);

const HAN_HONORIFIC_SUFFIXES = ['先生', '女士', '小姐', '太太', '夫人', '老师', '老師', '教授', '博士', '医生', '醫生', '大夫', '律师', '律師', '同学', '同學', '同志', '经理', '經理', '总监', '總監', '主任', '老板', '老闆', '阿姨', '师傅', '師傅'];
const HAN_HONORIFIC_PREFIXES = ['尊敬的', '亲爱的', '親愛的'];
// 王总 (Boss Wang): only after a bare surname, since 总 alone is too short to strip from a longer name.
const HAN_BOSS = ['总', '總'];

function hanName(s: string): StandardName | string {
  // A single space (or comma) inside the name is where the writer separated family from given name.
  let hint = -1;
  let separators = 0;
  let dotsChanged = false;
  let compact = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 44) {
      if (separators === 0) hint = compact.length;
      separators++;
    } else if (isNameDot(c)) {
      if (c !== 0xb7) dotsChanged = true;
      compact += '·';
    } else {
      compact += s[i];
    }
  }
  if (separators > 0) rules |= R_CJK_SPACES;
  if (compact.indexOf('·') !== -1) {
    const cleaned = compact.replace(/·{2,}/g, '·').replace(/^·|·$/g, '');
    if (cleaned !== compact) dotsChanged = true;
    compact = cleaned;
    if (dotsChanged) rules |= R_MIDDLE_DOT;
    if (compact.indexOf('·') !== -1) return dottedName(compact);
  }
  return splitHan(compact, separators === 1 ? hint : -1);
}

// Manchu clan names are written first, like Chinese surnames: 爱新觉罗·溥仪.
const CLAN_NAMES_FIRST = new Set(['爱新觉罗', '愛新覺羅', '叶赫那拉', '葉赫那拉', '钮祜禄', '鈕祜祿', '瓜尔佳', '瓜爾佳', '乌拉那拉', '烏拉那拉', '富察', '他他拉']);

/** Transliterated names are given·family, like the languages they come from. */
function dottedName(full: string): StandardName {
  const first = full.indexOf('·');
  if (CLAN_NAMES_FIRST.has(full.slice(0, first))) return { full, given: full.slice(first + 1), family: full.slice(0, first), script: 'han' };
  const last = full.lastIndexOf('·');
  return { full, given: full.slice(0, last), family: full.slice(last + 1), script: 'han' };
}

function stripHanHonorifics(name: string): { rest: string; stripped: boolean } {
  let rest = name;
  let stripped = false;
  for (const prefix of HAN_HONORIFIC_PREFIXES) {
    if (rest.length > prefix.length && rest.startsWith(prefix)) {
      rest = rest.slice(prefix.length);
      stripped = true;
      break;
    }
  }
  for (const suffix of HAN_HONORIFIC_SUFFIXES) {
    if (rest.length > suffix.length && rest.endsWith(suffix)) {
      rest = rest.slice(0, -suffix.length);
      stripped = true;
      break;
    }
  }
  if (!stripped && rest.length >= 2 && rest.length <= 3 && HAN_BOSS.includes(rest.slice(-1))) {
    const surname = rest.slice(0, -1);
    if (surname.length === 1 || COMPOUND_SURNAMES.has(surname)) {
      rest = surname;
      stripped = true;
    }
  }
  return { rest, stripped };
}

function splitHan(name: string, hint: number): StandardName | string {
  const { rest, stripped } = stripHanHonorifics(name);
  if (stripped) {
    if (JUNK.has(rest)) return `"${name}" is a placeholder, not a name`;
    rules |= R_HONORIFIC;
    // After a title, a bare surname is all there is: 王先生 is Mr Wang, given name unknown.
    if (charCount(rest) === 1 || COMPOUND_SURNAMES.has(rest)) return { full: rest, family: rest, script: 'han' };
  }
  const familyLength = hanFamilyLength(rest, stripped ? -1 : hint);
  if (familyLength === 0) return { full: rest, script: 'han' };
  return { full: rest, given: rest.slice(familyLength), family: rest.slice(0, familyLength), script: 'han' };
}

/** UTF-16 length of the family name at the start of a Han name; 0 when it cannot be told. */
function hanFamilyLength(name: string, hint: number): number {
  const chars = charCount(name);
  if (chars < 2) return 0;
  if (hint > 0 && hint < name.length && charCount(name.slice(0, hint)) <= 2) return hint;
  const firstLength = name.charCodeAt(0) >= 0xd800 && name.charCodeAt(0) <= 0xdbff ? 2 : 1;
  if (chars >= 3 && COMPOUND_SURNAMES.has(name.slice(0, 2))) return 2;
  return firstLength;
}

function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function hanParts(given: string | undefined, family: string | undefined): StandardName | string {
  const g = given === undefined ? undefined : hanPart(given);
  let f = family === undefined ? undefined : hanPart(family);
  if (f !== undefined) {
    const { rest, stripped } = stripHanHonorifics(f);
    if (stripped) {
      rules |= R_HONORIFIC;
      f = rest;
    }
  }
  if (g !== undefined && f !== undefined) {
    const dotted = g.indexOf('·') !== -1 || f.indexOf('·') !== -1;
    return { full: dotted ? `${g}·${f}` : f + g, given: g, family: f, script: 'han' };
  }
  if (f !== undefined) return { full: f, family: f, script: 'han' };
  return g === undefined ? 'there is no name' : { full: g, given: g, script: 'han' };
}

function hanPart(s: string): string {
  let out = '';
  let changedDots = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 44) rules |= R_CJK_SPACES;
    else if (isNameDot(c)) {
      if (c !== 0xb7) changedDots = true;
      out += '·';
    } else out += s[i];
  }
  if (changedDots) rules |= R_MIDDLE_DOT;
  return out;
}

// ---------------------------------------------------------------------------
// Western names

const HONORIFICS = new Set('mr mrs ms miss mx dr prof sir dame madam madame rev revd hon mme mlle herr frau sra srta capt col lt sgt maj messrs'.split(' '));
// Degrees and post-nominals: dropped like titles. `md`, `rn`, `jd` are only dropped after a comma or as the last of 3+ words, since they can be initials.
const CREDENTIALS = new Set('phd ph.d dphil md m.d dds dmd dvm esq cpa mba rn jd obe mbe cbe kbe frs pe'.split(' '));
const SUFFIXES = new Map<string, string>([
  ['jr', 'Jr.'],
  ['sr', 'Sr.'],
  ['ii', 'II'],
  ['iii', 'III'],
  ['iv', 'IV'],
  ['v', 'V'],
  ['vi', 'VI'],
  ['2nd', '2nd'],
  ['3rd', '3rd'],
  ['4th', '4th'],
  ['5th', '5th'],
]);
const PARTICLES = new Set('van von der den de del della delle dei degli di da du des la le lo dos das do ter ten zu zum zur af av bin binti bint ibn al el'.split(' '));
const VIETNAMESE_SURNAMES = new Set(
  'nguyen nguyễn tran trần le lê pham phạm hoang hoàng huynh huỳnh phan vu vũ vo võ dang đặng bui bùi do đỗ ho hồ ngo ngô duong dương ly lý truong trương dinh đinh lam lâm trinh trịnh dao đào luong lương'.split(' '),
);
const VIETNAMESE_MIDDLE = new Set(['van', 'văn', 'thi', 'thị']);
// Stems after which Mac starts a Gaelic patronymic with a capital (MacDonald); elsewhere Mac is just letters (Mack, Macy, Machado).
const MAC_STEMS = new Set(
  'arthur donald dougall dowell duff ewan farlane gregor intyre iver kay kenzie kinnon lachlan laren lean leod mahon millan namara neil pherson queen rae ritchie tavish allister alister bride callum cormack dermott donnell gillivray innes kinlay master naughton nab phail lennan guire manus carthy crae gowan'.split(
    ' ',
  ),
);

function bare(word: string): string {
  const lower = word.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function latinName(s: string): StandardName | string {
  let segments = s.indexOf(',') === -1 ? [s] : s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  // Trailing `, Jr.` / `, PhD` segments belong to the name, not to a `Last, First` order.
  const suffixes: string[] = [];
  while (segments.length > 1) {
    const words = (segments[segments.length - 1] ?? '').split(' ');
    if (!words.every((w) => SUFFIXES.has(bare(w)) || CREDENTIALS.has(bare(w)))) break;
    const kept = words.filter((w) => SUFFIXES.has(bare(w)));
    if (kept.length < words.length) rules |= R_HONORIFIC;
    suffixes.unshift(...kept);
    segments = segments.slice(0, -1);
  }
  if (segments.length > 2) return { full: segments.join(', '), script: 'latin' };
  if (segments.length === 2) {
    rules |= R_REORDERED;
    const family = takeSuffixes(stripTitles((segments[0] ?? '').split(' ')), suffixes, true);
    const given = takeSuffixes(stripTitles((segments[1] ?? '').split(' ')), suffixes, false);
    if (family.length === 0 && given.length === 0) return 'only a title is left';
    const proper = isSingleCase([...given, ...family, ...suffixes]);
    return assemble(given, family, suffixes, proper, proper);
  }
  const all = (segments[0] ?? '').split(' ');
  const untitled = stripTitles(all);
  const words = takeSuffixes(untitled, suffixes, false);
  if (words.length === 0) return 'only a title is left';
  const proper = isSingleCase(suffixes.length === 0 ? words : [...words, ...suffixes]);
  if (words.length === 1) return untitled.length < all.length ? assemble([], words, suffixes, proper, proper) : assemble(words, [], suffixes, proper, proper);
  if (words.length >= 3 && VIETNAMESE_SURNAMES.has((words[0] ?? '').toLowerCase()) && VIETNAMESE_MIDDLE.has((words[1] ?? '').toLowerCase())) {
    return vietnamese(words, suffixes, proper);
  }
  let familyStart = words.length - 1;
  while (familyStart > 1 && PARTICLES.has(bare(words[familyStart - 1] ?? ''))) familyStart--;
  if (familyStart === 1 && PARTICLES.has(bare(words[0] ?? '')) && PARTICLES.has(bare(words[1] ?? '')) && words.length > 2) familyStart = 0;
  return assemble(words.slice(0, familyStart), words.slice(familyStart), suffixes, proper, proper);
}

/** Family name first, as written: Nguyen Van An. */
function vietnamese(words: string[], suffixes: string[], proper: boolean): StandardName {
  const cased = proper ? words.map((w) => properWord(w)) : words;
  if (proper) rules |= R_PROPER_CASE;
  const given = cased.slice(1).join(' ');
  const family = cased[0] ?? '';
  const tail = suffixes.map(normalSuffix);
  return { full: [family, given, ...tail].join(' '), given, family, script: 'latin' };
}

function stripTitles(words: string[]): string[] {
  let start = 0;
  while (start < words.length && HONORIFICS.has(bare(words[start] ?? ''))) start++;
  if (start > 0) rules |= R_HONORIFIC;
  return start === 0 ? words : words.slice(start);
}

/**
 * Moves generational suffixes and drops credentials at the end of `words`.
 * `certain`: the words end a family name or follow a comma, so a `V` or `MD`
 * there cannot be an initial.
 */
function takeSuffixes(words: string[], suffixes: string[], certain: boolean): string[] {
  let end = words.length;
  const found: string[] = [];
  while (end > 1) {
    const w = bare(words[end - 1] ?? '');
    const suffix = SUFFIXES.get(w);
    // A lone V or II after a single word is more likely an initial than a suffix.
    if (suffix !== undefined && (w === 'jr' || w === 'sr' || end > 2 || certain)) {
      found.unshift(words[end - 1] ?? '');
      end--;
    } else if (CREDENTIALS.has(w) && (certain || end > 2)) {
      rules |= R_HONORIFIC;
      end--;
    } else break;
  }
  if (found.length > 0) suffixes.unshift(...found);
  return end === words.length ? words : words.slice(0, end);
}

function isSingleCase(words: readonly string[]): boolean {
  const joined = words.join(' ');
  const lower = joined.toLowerCase();
  const upper = joined.toUpperCase();
  return lower !== upper && (joined === lower || joined === upper);
}

function normalSuffix(word: string): string {
  const normal = SUFFIXES.get(bare(word)) ?? word;
  if (normal !== word) rules |= R_SUFFIX;
  return normal;
}

/** Joins given, family and suffix words, proper-casing each part whose input was single-case. */
function assemble(given: string[], family: string[], suffixes: string[], properGiven: boolean, properFamily: boolean): StandardName {
  const g = properGiven ? caseWords(given, false) : given;
  const f = properFamily ? caseWords(family, true) : family;
  if ((properGiven && g.some((w, i) => w !== given[i])) || (properFamily && f.some((w, i) => w !== family[i]))) rules |= R_PROPER_CASE;
  const givenText = g.join(' ');
  const familyText = f.join(' ');
  let full = givenText === '' ? familyText : familyText === '' ? givenText : `${givenText} ${familyText}`;
  for (const suffix of suffixes) full += ` ${normalSuffix(suffix)}`;
  const name: StandardName = { full, script: 'latin' };
  if (givenText !== '') name.given = givenText;
  if (familyText !== '') name.family = familyText;
  return name;
}

/**
 * Proper case for a run of words. In a family name every particle before the
 * last word is lower case (van der Berg, and van Gogh from a family-name
 * field); in a given name only particles after the first word (Maria de
 * Jesus), so a leading `Van` or `Al` stays a name.
 */
function caseWords(words: string[], family: boolean): string[] {
  const last = words.length - 1;
  return words.map((w, i) => (i < last && (family || i > 0) && PARTICLES.has(bare(w)) ? w.toLowerCase() : properWord(w)));
}

/** One word in proper case: McDonald, MacArthur, O'Brien, Jean-Luc, J.R.R. */
function properWord(word: string): string {
  const lower = word.toLowerCase();
  let out = '';
  let start = 0;
  for (let i = 0; i <= lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (i === lower.length || c === 45 || c === 46) {
      out += properPiece(lower.slice(start, i));
      if (i < lower.length) out += lower[i];
      start = i + 1;
    }
  }
  return out;
}

function properPiece(piece: string): string {
  if (piece === '') return piece;
  let out = (piece[0] ?? '').toUpperCase() + piece.slice(1);
  const apostrophe = out.indexOf("'");
  // O'Brien, D'Angelo, N'Dour: a one-letter prefix before the apostrophe.
  if (apostrophe === 1 && out.length > 2) out = out.slice(0, 2) + (out[2] ?? '').toUpperCase() + out.slice(3);
  if (out.length > 2 && out.startsWith('Mc')) out = 'Mc' + (out[2] ?? '').toUpperCase() + out.slice(3);
  else if (out.length > 3 && out.startsWith('Mac') && MAC_STEMS.has(out.slice(3))) out = 'Mac' + (out[3] ?? '').toUpperCase() + out.slice(4);
  return out;
}

function latinParts(given: string | undefined, family: string | undefined): StandardName | string {
  const suffixes: string[] = [];
  const g = given === undefined ? [] : takeSuffixes(stripTitles(given.split(' ')), suffixes, false);
  const f = family === undefined ? [] : takeSuffixes(family.split(' '), suffixes, true);
  if (g.length === 0 && f.length === 0) return 'only a title is left';
  return assemble(g, f, suffixes, isSingleCase([...g, ...suffixes]), isSingleCase([...f, ...suffixes]));
}

function otherParts(given: string | undefined, family: string | undefined): StandardName {
  const full = given === undefined ? (family ?? '') : family === undefined ? given : `${given} ${family}`;
  const name: StandardName = { full, script: 'other' };
  if (given !== undefined) name.given = given;
  if (family !== undefined) name.family = family;
  return name;
}

// ---------------------------------------------------------------------------
// Pinyin

const PINYIN_FAMILY = { toneType: 'none', type: 'array', v: true, mode: 'surname', surname: 'all', nonZh: 'removed' } as const;
// pinyin-pro's surname readings know simplified characters only; these traditional ones read differently as surnames.
const TRADITIONAL_SURNAME_CHARS: Readonly<Record<string, string>> = { 單: '单', 區: '区', 樂: '乐', 繆: '缪', 蓋: '盖', 華: '华', 種: '种', 員: '员', 遲: '迟', 長: '长', 萬: '万', 樸: '朴', 賁: '贲' };
const TRADITIONAL_SURNAME = new RegExp(`[${Object.keys(TRADITIONAL_SURNAME_CHARS).join('')}]`, 'g');
const PINYIN_GIVEN = { toneType: 'none', type: 'array', v: true, nonZh: 'removed' } as const;

// pinyin-pro's dictionary costs ~13 MB: loaded on the first name that needs pinyin, not by every process that cleans names.
type PinyinOptions = typeof PINYIN_GIVEN | typeof PINYIN_FAMILY;
let loadedPinyin: ((text: string, options: PinyinOptions) => string[]) | undefined;
function pinyin(text: string, options: PinyinOptions): string[] {
  loadedPinyin ??= (createRequire(import.meta.url)('pinyin-pro') as { pinyin: (text: string, options: PinyinOptions) => string[] }).pinyin;
  return loadedPinyin(text, options);
}

/**
 * A Chinese name in pinyin for matching against romanized records: lower
 * case, no tones, ü as v, family name first and each part written as one
 * word (张伟 → `zhang wei`, 欧阳修 → `ouyang xiu`, 单雄信 → `shan xiongxin`,
 * with surname readings). Dotted names keep their written order
 * (阿卜杜·热合曼 → `abudu rehemen`). Undefined for names not in Han script.
 */
export function namePinyin(name: StandardName): string | undefined {
  if (name.script !== 'han') return undefined;
  let words: string[];
  if (name.full.indexOf('·') !== -1) words = name.full.split('·').map((w) => pinyin(w, PINYIN_GIVEN).join(''));
  else if (name.family !== undefined) {
    const family = name.family.replace(TRADITIONAL_SURNAME, (c) => TRADITIONAL_SURNAME_CHARS[c] ?? c);
    words = [pinyin(family, PINYIN_FAMILY).join(''), name.given === undefined ? '' : pinyin(name.given, PINYIN_GIVEN).join('')];
  }
  else words = [pinyin(name.full, PINYIN_GIVEN).join('')];
  const text = words.filter((w) => w !== '').join(' ').toLowerCase();
  return text === '' ? undefined : text;
}
