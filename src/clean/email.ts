import { createRequire } from 'node:module';
import { domainToASCII } from 'node:url';
import {
  KNOWN_DOMAIN_TYPOS,
  LOOKALIKE_REAL_DOMAINS,
  NONEXISTENT_TLD_FIXES,
  PLUS_ADDRESSING_DOMAINS,
  POPULAR_DOMAINS,
  SLIP_TLD_FIXES,
} from './email-domains.js';
import { asText, cleanIssue, cleanValue, ruleMasks, type CleanFlag, type Cleaned } from './result.js';

export type EmailIssue = 'email.empty' | 'email.no_at' | 'email.invalid' | 'email.bad_domain';

export interface EmailOptions {
  /** apply the suggested fix for an obvious domain typo (`gmial.com` → `gmail.com`) instead of only flagging it */
  fixTypos?: boolean;
}

/**
 * An email address in standard form: trimmed, NFKC-normalized, lower-cased,
 * unwrapped from `mailto:`, `<…>`, quotes or a display name, with the domain
 * in its ASCII (IDNA) form. Syntax follows a practical subset of RFC 5321
 * (dot-atom local part, no quoted strings or address literals). Typos of
 * popular providers' domains and disposable domains are flagged, not rejected.
 */
export function standardizeEmail(raw: unknown, options?: EmailOptions): Cleaned<string, EmailIssue> {
  const text = asText(raw);
  if (text === undefined) {
    return raw === undefined || raw === null ? EMPTY : cleanIssue('email.invalid', `A ${typeof raw} is not an email address.`);
  }
  if (text.length > MAX_TEXT_LENGTH) {
    return cleanIssue('email.invalid', `Text of ${text.length} characters is too long to be an email address.`);
  }

  let s = text;
  let mask = 0;
  let upper = false;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) {
      ascii = false;
      break;
    }
    if (c >= 65 && c <= 90) upper = true;
  }
  if (!ascii) {
    // Full-width forms (ｚｈａｎｇ＠ｑｑ．ｃｏｍ) come from CJK input methods;
    // NFKC folds them, and the ideographic full stop is what IDNA reads as a dot.
    const folded = s.normalize('NFKC');
    if (folded !== s) mask |= R_NFKC;
    s = folded;
    if (s.includes('\u3002')) {
      s = s.replaceAll('\u3002', '.');
      mask |= R_FULL_STOP;
    }
    upper = true;
  }
  if (s.length > 0 && (isSpace(s.charCodeAt(0)) || isSpace(s.charCodeAt(s.length - 1)))) {
    s = s.trim();
    mask |= R_TRIMMED;
  }
  if (s === '') return EMPTY;
  if (upper) {
    const lower = s.toLowerCase();
    if (lower !== s) {
      s = lower;
      mask |= R_LOWERCASED;
    }
  }
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if (first === 109 /* m */ || last === 62 /* > */ || QUOTE_PAIRS.has(first)) {
    const unwrapped = unwrap(s);
    if (unwrapped !== undefined) {
      mask |= unwrapped.mask;
      s = unwrapped.value;
      if (s === '') return EMPTY;
    }
  }

  const at = s.indexOf('@');
  if (at < 0) return cleanIssue('email.no_at', `${show(text)} has no @.`);
  if (s.indexOf('@', at + 1) >= 0) return cleanIssue('email.invalid', `${show(text)} has more than one @.`);
  const local = s.slice(0, at);
  let domain = s.slice(at + 1);

  const localProblem = checkLocal(local);
  if (localProblem !== undefined) return cleanIssue('email.invalid', `${show(text)}: ${localProblem}.`);
  const nonAsciiLocal = !ascii && !isAscii(local);

  if (domain === '') return cleanIssue('email.bad_domain', `${show(text)} has nothing after the @.`);
  if (domain.charCodeAt(domain.length - 1) === 46 && domain.length > 1 && domain.charCodeAt(domain.length - 2) !== 46) {
    // `zhang@qq.com.` is the fully qualified spelling of the same domain.
    domain = domain.slice(0, -1);
    mask |= R_TRAILING_DOT;
  }
  if (domain.charCodeAt(0) === 91 /* [ */) {
    return cleanIssue('email.bad_domain', `${show(text)} uses an address literal; only domain names are accepted.`);
  }
  if (!ascii && !isAscii(domain)) {
    const idna = domainToASCII(domain);
    if (idna === '') return cleanIssue('email.bad_domain', `${show(text)}: ${JSON.stringify(domain)} is not a valid internationalized domain name.`);
    domain = idna;
    mask |= R_IDN;
  }
  const domainProblem = checkDomain(domain);
  let suggestion: string | undefined;
  if (domainProblem === BAD_TLD) {
    // `.c0m`, `.c`: not a TLD, but a typo with an obvious fix is flagged rather than rejected.
    suggestion = domainSuggestion(domain);
    if (suggestion === undefined) {
      return cleanIssue('email.bad_domain', `${show(text)}: ${JSON.stringify(domain.slice(domain.lastIndexOf('.') + 1))} is not a top-level domain.`);
    }
  } else if (domainProblem !== undefined) {
    return cleanIssue('email.bad_domain', `${show(text)}: ${domainProblem}.`);
  } else {
    suggestion = domainSuggestion(domain);
  }
  if (local.length + 1 + domain.length > MAX_ADDRESS_LENGTH) {
    return cleanIssue('email.invalid', `${show(text)} is longer than the ${MAX_ADDRESS_LENGTH} characters an address may have.`);
  }

  let flags: CleanFlag[] | undefined;
  if (suggestion !== undefined) {
    if (options?.fixTypos === true) {
      domain = suggestion;
      mask |= R_TYPO_FIXED;
    } else {
      flags = [{ code: 'email.domain_typo', message: `${JSON.stringify(domain)} looks like a typo of ${suggestion}.`, suggestion: `${local}@${suggestion}` }];
    }
  }
  if (isDisposable(domain)) (flags ??= []).push(DISPOSABLE_FLAG);
  if (nonAsciiLocal) (flags ??= []).push(NON_ASCII_LOCAL_FLAG);

  const value = (mask & DOMAIN_CHANGES) === 0 ? s : `${local}@${domain}`;
  return cleanValue(value, rulesFor(mask), flags ?? NO_FLAGS);
}

/**
 * For matching only, never for display or sending: the key under which
 * addresses reaching the same mailbox coincide. Gmail ignores dots and a
 * `+tag` and treats googlemail.com as gmail.com; providers with documented
 * sub-addressing (Outlook.com, Fastmail, Proton) ignore a `+tag`. Any other
 * address is its own key. Takes a standardized address.
 */
export function emailMatchKey(standardEmail: string): string {
  const email = standardEmail.toLowerCase();
  const at = email.lastIndexOf('@');
  if (at <= 0) return email;
  let domain = email.slice(at + 1);
  if (!PLUS_ADDRESSING.has(domain)) return email;
  let local = email.slice(0, at);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (domain === 'gmail.com' || domain === 'googlemail.com') {
    local = local.replaceAll('.', '');
    domain = 'gmail.com';
  }
  return local === '' ? email : `${local}@${domain}`;
}

// ---------------------------------------------------------------------------

/** RFC 5321: a path is at most 256 octets including the angle brackets. */
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;
const MAX_DOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
/** room for a display name around a maximal address */
const MAX_TEXT_LENGTH = 512;

const EMPTY = Object.freeze(cleanIssue<EmailIssue>('email.empty', 'The email address is empty.'));

function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0x3000 || c === 0xfeff || (c >= 0x2000 && c <= 0x200b);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return false;
  return true;
}

const R_TRIMMED = 1;
const R_NFKC = 2;
const R_FULL_STOP = 4;
const R_LOWERCASED = 8;
const R_MAILTO = 16;
const R_UNWRAPPED = 32;
const R_TRAILING_DOT = 64;
const R_IDN = 128;
const R_TYPO_FIXED = 256;
/** rules after which the value must be rebuilt from its parts */
const DOMAIN_CHANGES = R_TRAILING_DOT | R_IDN | R_TYPO_FIXED;

const RULE_NAMES: readonly [number, string][] = [
  [R_TRIMMED, 'email.trimmed'],
  [R_NFKC, 'email.nfkc'],
  [R_FULL_STOP, 'email.ideographic_full_stop'],
  [R_LOWERCASED, 'email.lowercased'],
  [R_MAILTO, 'email.mailto_removed'],
  [R_UNWRAPPED, 'email.unwrapped'],
  [R_TRAILING_DOT, 'email.trailing_dot_removed'],
  [R_IDN, 'email.idn_ascii'],
  [R_TYPO_FIXED, 'email.domain_typo_fixed'],
];

const rulesFor = ruleMasks(RULE_NAMES);

const NO_FLAGS: readonly CleanFlag[] = Object.freeze([]);
const DISPOSABLE_FLAG: CleanFlag = Object.freeze({ code: 'email.disposable', message: 'The domain hands out throw-away addresses.' });
const NON_ASCII_LOCAL_FLAG: CleanFlag = Object.freeze({
  code: 'email.non_ascii_local_part',
  message: 'The part before the @ is not ASCII (RFC 6531); many mail systems cannot deliver to it.',
});

// ---------------------------------------------------------------------------
// Unwrapping

/** opening quote → its closing quote */
const QUOTE_PAIRS = new Map<number, number>([
  [34, 34], // "
  [39, 39], // '
  [96, 96], // `
  [0x201c, 0x201d], // “ ”
  [0x2018, 0x2019], // ‘ ’
  [0x300c, 0x300d], // 「 」
]);

/** Strips `mailto:`, a display name with `<…>`, or surrounding quotes, as many layers as there are; undefined if none. */
function unwrap(input: string): { value: string; mask: number } | undefined {
  let s = input;
  let mask = 0;
  for (let round = 0; round < 4; round++) {
    const before = s;
    if (s.startsWith('mailto:')) {
      s = s.slice(7);
      // In a mailto URI `?` starts the header fields (`?subject=…`).
      const query = s.indexOf('?');
      if (query >= 0) s = s.slice(0, query);
      mask |= R_MAILTO;
    } else if (s.charCodeAt(s.length - 1) === 62 /* > */) {
      // `张三 <zhang@qq.com>`, `"Zhang San" <zhang@qq.com>`, `<zhang@qq.com>`
      const open = s.lastIndexOf('<');
      if (open >= 0) {
        s = s.slice(open + 1, -1);
        mask |= R_UNWRAPPED;
      }
    } else if (s.length >= 2 && QUOTE_PAIRS.get(s.charCodeAt(0)) === s.charCodeAt(s.length - 1)) {
      s = s.slice(1, -1);
      mask |= R_UNWRAPPED;
    }
    s = s.trim();
    if (s === before) break;
  }
  return s === input ? undefined : { value: s, mask };
}

// ---------------------------------------------------------------------------
// Syntax

/** printable ASCII allowed unquoted in a dot-atom local part (RFC 5322 atext), as a lookup table */
const ATEXT = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~") ATEXT[ch.charCodeAt(0)] = 1;

const LETTER_OR_DIGIT = /^[\p{L}\p{M}\p{N}]$/u;

/** Why the local part is not a dot-atom, or undefined when it is. */
function checkLocal(local: string): string | undefined {
  if (local === '') return 'nothing before the @';
  const n = local.length;
  if (local.charCodeAt(0) === 46 || local.charCodeAt(n - 1) === 46) return 'the part before the @ starts or ends with a dot';
  let prevDot = false;
  let nonAscii = false;
  for (let i = 0; i < n; i++) {
    const c = local.charCodeAt(i);
    if (c === 46) {
      if (prevDot) return 'two dots in a row before the @';
      prevDot = true;
      continue;
    }
    prevDot = false;
    if (c < 128) {
      if (ATEXT[c] === 1) continue;
      if (c === 32) return 'a space before the @';
      return `${JSON.stringify(local[i])} is not allowed before the @ (quoted local parts are not accepted)`;
    }
    // RFC 6531 mailboxes: letters, marks and digits of any script.
    const cp = local.codePointAt(i) ?? c;
    const ch = String.fromCodePoint(cp);
    if (!LETTER_OR_DIGIT.test(ch)) return `${JSON.stringify(ch)} is not allowed before the @`;
    if (cp > 0xffff) i++;
    nonAscii = true;
  }
  const octets = nonAscii ? Buffer.byteLength(local, 'utf8') : n;
  if (octets > MAX_LOCAL_LENGTH) return `the part before the @ is longer than ${MAX_LOCAL_LENGTH} characters`;
  return undefined;
}

const BAD_TLD = 'bad top-level domain';

/** Why an ASCII domain is not a valid host name with a TLD, BAD_TLD for only the TLD, or undefined. */
function checkDomain(domain: string): string | undefined {
  const n = domain.length;
  if (n > MAX_DOMAIN_LENGTH) return `the domain is longer than ${MAX_DOMAIN_LENGTH} characters`;
  let labelStart = 0;
  let labels = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? domain.charCodeAt(i) : 46;
    if (c === 46) {
      const length = i - labelStart;
      if (length === 0) return i === n && labels > 0 ? 'the domain ends with a dot' : 'the domain has an empty label (two dots in a row, or a leading dot)';
      if (length > MAX_LABEL_LENGTH) return `a domain label is longer than ${MAX_LABEL_LENGTH} characters`;
      if (domain.charCodeAt(labelStart) === 45 || domain.charCodeAt(i - 1) === 45) return 'a domain label starts or ends with a hyphen';
      labels++;
      labelStart = i + 1;
      continue;
    }
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45) continue;
    if (c === 32) return 'a space in the domain';
    return `${JSON.stringify(domain[i])} is not allowed in a domain`;
  }
  if (labels < 2) return `${JSON.stringify(domain)} has no top-level domain`;
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  if (tld.startsWith('xn--')) return undefined;
  if (tld.length < 2) return BAD_TLD;
  for (let i = 0; i < tld.length; i++) {
    const c = tld.charCodeAt(i);
    if (c < 97 || c > 122) return BAD_TLD;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Typos

const POPULAR = new Set(POPULAR_DOMAINS);
const REAL = new Set([...POPULAR_DOMAINS, ...LOOKALIKE_REAL_DOMAINS]);

interface Candidate {
  name: string;
  domain: string;
  maxDistance: number;
}

/**
 * Popular domains by TLD, with how many edits away a typo may be: names under
 * five characters (qq, 163, sina) have too many real neighbours for any, long
 * ones (googlemail, protonmail) tolerate two.
 */
const CANDIDATES_BY_TLD = new Map<string, Candidate[]>();
for (const domain of POPULAR_DOMAINS) {
  const dot = domain.lastIndexOf('.');
  const name = domain.slice(0, dot);
  const tld = domain.slice(dot + 1);
  const maxDistance = name.length >= 8 ? 2 : name.length >= 5 ? 1 : 0;
  if (maxDistance === 0) continue;
  let list = CANDIDATES_BY_TLD.get(tld);
  if (list === undefined) CANDIDATES_BY_TLD.set(tld, (list = []));
  list.push({ name, domain, maxDistance });
}

function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

// Domains repeat heavily across a customer base; the answer for each is
// cached, and the cache is dropped whole when it grows past its bound.
const suggestionCache = new Map<string, string | null>();
const SUGGESTION_CACHE_LIMIT = 20_000;

/** The popular domain (or the real TLD) a domain is an obvious typo of, if any. */
function domainSuggestion(domain: string): string | undefined {
  const cached = suggestionCache.get(domain);
  if (cached !== undefined) return cached ?? undefined;
  const found = computeSuggestion(domain);
  if (suggestionCache.size >= SUGGESTION_CACHE_LIMIT) suggestionCache.clear();
  suggestionCache.set(domain, found ?? null);
  return found;
}

function computeSuggestion(domain: string): string | undefined {
  if (REAL.has(domain)) return undefined;
  const known = own(KNOWN_DOMAIN_TYPOS, domain);
  if (known !== undefined) return known;
  const dot = domain.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const name = domain.slice(0, dot);
  const tld = domain.slice(dot + 1);
  const fixedTld = own(NONEXISTENT_TLD_FIXES, tld);
  if (fixedTld !== undefined) return nearestPopular(name, fixedTld) ?? `${name}.${fixedTld}`;
  const slip = own(SLIP_TLD_FIXES, tld);
  if (slip !== undefined && POPULAR.has(`${name}.${slip}`)) return `${name}.${slip}`;
  return nearestPopular(name, tld);
}

/** The one popular domain with this TLD whose name is within its edit allowance; none if two tie. */
function nearestPopular(name: string, tld: string): string | undefined {
  const exact = `${name}.${tld}`;
  if (REAL.has(exact)) return exact;
  const candidates = CANDIDATES_BY_TLD.get(tld);
  if (candidates === undefined) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const candidate of candidates) {
    if (Math.abs(candidate.name.length - name.length) > candidate.maxDistance) continue;
    const distance = editDistance(name, candidate.name, candidate.maxDistance);
    if (distance > candidate.maxDistance) continue;
    if (distance < bestDistance) {
      best = candidate.domain;
      bestDistance = distance;
      tie = false;
    } else if (distance === bestDistance) {
      tie = true;
    }
  }
  return tie ? undefined : best;
}

/**
 * Optimal string alignment distance (insertions, deletions, substitutions and
 * adjacent transpositions, the four slips of typing), giving up above `limit`.
 */
function editDistance(a: string, b: string, limit: number): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > limit) return limit + 1;
  let before = new Array<number>(n + 1).fill(0);
  let previous = Array.from({ length: n + 1 }, (_, j) => j);
  let current = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        d = Math.min(d, (before[j - 2] ?? 0) + 1);
      }
      current[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[n] ?? limit + 1;
}

// ---------------------------------------------------------------------------
// Disposable domains

const PLUS_ADDRESSING = new Set(PLUS_ADDRESSING_DOMAINS);

let disposableDomains: ReadonlySet<string> | undefined;
let disposableParents: ReadonlySet<string> | undefined;

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TypeError(`${what} is not a list of domains`);
  return value as string[];
}

/**
 * The disposable-email-domains lists (~120,000 exact domains, a few hundred
 * whose subdomains all count), read on first use: the package is CommonJS JSON.
 */
function loadDisposable(): void {
  const require = createRequire(import.meta.url);
  disposableDomains = new Set(stringList(require('disposable-email-domains'), 'disposable-email-domains'));
  disposableParents = new Set(stringList(require('disposable-email-domains/wildcard.json'), 'disposable-email-domains/wildcard.json'));
}

function isDisposable(domain: string): boolean {
  // The list is community-kept and has caught real providers (21cn.com, China
  // Telecom's mail); a known provider is never called throw-away.
  if (REAL.has(domain)) return false;
  if (disposableDomains === undefined || disposableParents === undefined) loadDisposable();
  if (disposableDomains?.has(domain) === true || disposableParents?.has(domain) === true) return true;
  // `anything.33mail.com`: a wildcard entry has a dot, so only parents that still contain one can match.
  let dot = domain.indexOf('.');
  while (dot >= 0 && domain.indexOf('.', dot + 1) >= 0) {
    if (disposableParents?.has(domain.slice(dot + 1)) === true) return true;
    dot = domain.indexOf('.', dot + 1);
  }
  return false;
}
