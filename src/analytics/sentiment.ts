/**
 * Lexicon-based sentiment for short customer feedback in Chinese or English,
 * plus complaint flagging.
 *
 * The score is built token by token: a sentiment word contributes its
 * lexicon weight, scaled by a preceding degree word (很, very), flipped and
 * damped by a preceding negator within a short window (不, never), and
 * re-weighted by its position relative to contrast words (但是, but:
 * the part after the turn is what the customer means). The sum is squashed
 * into −1..1. No training data is involved, so results are explainable
 * through `hits`.
 */
import { EMOJI_WEIGHTS, EMOTICON_WEIGHTS, lexiconFor, type Lexicon } from './lexicon.js';
import { detectLanguage, narrowLatin, stemEnglish, tokenizeChinese, type Language } from './tokenize.js';

export type SentimentLabel = 'positive' | 'negative' | 'neutral';

export interface SentimentHit {
  token: string;
  /** Contribution after negation, intensity and contrast; sums to the raw score. */
  weight: number;
}

export interface SentimentResult {
  /** −1 (very negative) .. 1 (very positive). */
  score: number;
  label: SentimentLabel;
  language: Language;
  hits: SentimentHit[];
  /** Negative and mentions a complaint signal: worth a follow-up. */
  complaint: boolean;
  /** Complaint signals found in the text (present even when not negative). */
  signals: string[];
}

export interface SentimentOptions {
  /** Skip detection when the caller already knows. */
  language?: Language;
}

/** |score| below this is neutral. Half a mild word ("a bit slow") still counts. */
export const NEUTRAL_BAND = 0.1;

/** How many tokens a negator reaches forward ("not at all good", "没有想象中好"). */
const NEGATION_WINDOW = 3;
/** Negated positive: "not good" is clearly negative, a bit weaker than "bad". */
const FLIP_POSITIVE = -0.8;
/** Negated negative: "not bad" is faint praise, not the opposite of bad. */
const FLIP_NEGATIVE = -0.6;
/** Weak negators (不太, hardly) and negated intensified words ("not very good"). */
const FLIP_WEAK = -0.5;
/** Weight of a negated expectation (没人理, never arrived). */
const UNMET_EXPECTATION = -1.5;
/** What high/low contribute next to a polar aspect (价格高, high quality). */
const ASPECT_LEVEL = 1.5;
const BEFORE_CONTRAST = 0.5;
const AFTER_CONTRAST = 1.3;
const CONCESSIVE_CLAUSE = 0.5;
/** Squash constant: a single ordinary word (weight 2) lands near ±0.7. */
const SQUASH = 4;

const CLAUSE_BREAK = /^[，,。.!！?？；;:：~～…、\n\r—]+$/u;
const EN_SCAN = /[\p{L}\p{N}]+(?:['\-][\p{L}\p{N}]+)*|[.,!?;:…—]+/gu;
const ZH_PARTICLES = new Set(['了', '吧', '啊', '呀', '的', '呢', '哦', '嘛', '啦', '哈', '喔']);
/** Only evaluative at the end of a clause: 一般 also means "usually". */
const ZH_CLAUSE_FINAL_ONLY = new Set(['一般', '还行', '凑合', '一般般']);
/** 卡 is "laggy" only after a degree word or before 了/死/住 (有点卡, 卡了); otherwise it is a card. */
const ZH_LAG = '卡';
/** Polite "could you" when it opens a clause (麻烦备注一下), "hassle" elsewhere. */
const ZH_POLITE_OPENERS = new Set(['麻烦']);

/** Words saying a problem went away; they cancel the problem word before them. */
const RESOLUTIONS = new Set(['修复', '修好', '解决', '解决了', '搞定', '处理好', 'fixed', 'resolved', 'solved', 'sorted']);

interface Pending {
  negation: number; // tokens left in the window, 0 = none
  weak: boolean;
  intensity: number;
  intensifiedAfterNegation: boolean;
}

function freshPending(): Pending {
  return { negation: 0, weak: false, intensity: 1, intensifiedAfterNegation: false };
}

// ─── Token preparation ────────────────────────────────────────────────────

function lookup(lex: Lexicon, token: string, lang: Language): number | undefined {
  const direct = lex.words.get(token);
  if (direct !== undefined || lang === 'zh') return direct;
  for (const candidate of englishForms(token)) {
    const w = lex.words.get(candidate);
    if (w !== undefined) return w;
  }
  return undefined;
}

function englishForms(token: string): string[] {
  const forms = [stemEnglish(token)];
  if (token.endsWith('ed') && token.length > 4) forms.push(token.slice(0, -2), token.slice(0, -1));
  if (token.endsWith('ing') && token.length > 5) forms.push(token.slice(0, -3), `${token.slice(0, -3)}e`);
  if (token.endsWith('ly') && token.length > 5) forms.push(token.slice(0, -2));
  // Comparatives: ruder, dustier, slower.
  if (token.endsWith('ier') && token.length > 5) forms.push(`${token.slice(0, -3)}y`);
  if (token.endsWith('er') && token.length > 4) forms.push(token.slice(0, -2), token.slice(0, -1));
  return forms.filter((f) => f !== token);
}

function isSentimentWord(lex: Lexicon, piece: string): boolean {
  const w = lex.words.get(piece);
  return w !== undefined && w !== 0;
}

function isPiece(lex: Lexicon, piece: string, previous: string | undefined): boolean {
  if (isSentimentWord(lex, piece) || lex.negators.has(piece) || lex.intensifiers.has(piece) || lex.postIntensifiers.has(piece)) return true;
  if (lex.high.has(piece) || lex.low.has(piece)) return true;
  // 没处理 / 没人理 / 没来 yes, 不到 (also "less than") no: a one-character
  // expectation only after a two-character negator or the past-tense 没/未.
  if (lex.expected.has(piece) && previous !== undefined && lex.negators.has(previous)) {
    return [...piece].length > 1 || [...previous].length > 1 || previous === '没' || previous === '未';
  }
  return false;
}

/** Fewest known pieces covering `chars` exactly, or undefined. */
function coverWithPieces(lex: Lexicon, chars: string[]): string[] | undefined {
  const n = chars.length;
  const best: Array<string[] | undefined> = new Array(n + 1).fill(undefined);
  best[0] = [];
  for (let end = 1; end <= n; end++) {
    for (let start = Math.max(0, end - 4); start < end; start++) {
      const prefix = best[start];
      if (!prefix) continue;
      const piece = chars.slice(start, end).join('');
      if (!isPiece(lex, piece, prefix.at(-1))) continue;
      const current = best[end];
      if (!current || prefix.length + 1 < current.length) best[end] = [...prefix, piece];
    }
  }
  return best[n];
}

/**
 * jieba keeps many modifier+word compounds whole (太慢, 不贵, 超好, 没处理,
 * 态度恶劣). When a token is unknown but splits completely into known
 * pieces, use the pieces; a token with an unknown part (好像 = 好 + 像) is
 * left alone, except for an unknown leading noun of two or more characters
 * followed by an evaluation (态度 + 恶劣, 价格 + 偏高), which is kept as a
 * token of its own so aspects still work.
 */
function splitCompound(lex: Lexicon, token: string): string[] | undefined {
  const chars = [...token];
  const n = chars.length;
  if (n < 2 || n > 8 || !/^\p{Script=Han}+$/u.test(token)) return undefined;
  const whole = coverWithPieces(lex, chars);
  if (whole && whole.length > 1) return whole;
  for (let cut = 2; cut <= n - 1; cut++) {
    const rest = coverWithPieces(lex, chars.slice(cut));
    if (rest && rest.some((p) => isSentimentWord(lex, p) || lex.high.has(p) || lex.low.has(p) || lex.expected.has(p))) {
      return [chars.slice(0, cut).join(''), ...rest];
    }
  }
  return undefined;
}

function chineseTokens(lex: Lexicon, text: string): string[] {
  const out: string[] = [];
  for (const token of tokenizeChinese(text, true, false)) {
    const known = lex.words.has(token) || lex.negators.has(token) || lex.intensifiers.has(token) || lex.contrast.has(token);
    if (known) {
      out.push(token);
      continue;
    }
    // jieba glues sentence-final particles on (太棒了); split them off first.
    const chars = [...token];
    const particle = chars.length > 2 && ZH_PARTICLES.has(chars.at(-1)!) ? chars.pop()! : undefined;
    const stem = chars.join('');
    let parts = particle && (lex.words.has(stem) || lex.negators.has(stem)) ? [stem] : splitCompound(lex, stem);
    // 没让 / 没给 / 未说: jieba fuses the past-tense negator with a verb; the negation must still reach what follows.
    if (!parts && chars.length === 2 && (chars[0] === '没' || chars[0] === '未')) parts = [chars[0], chars[1]!];
    if (parts) out.push(...parts, ...(particle ? [particle] : []));
    else out.push(token);
  }
  return out;
}

function englishTokens(text: string): string[] {
  const tokens = text.toLowerCase().replace(/[\u2018\u2019\u02bc]/g, "'").match(EN_SCAN) ?? [];
  // nobody's / it's / they've: the clitic only hides the word from the lexicon; n't stays, it is the negation.
  // 'd is left on: "i'd like" is a request, not a liking.
  return tokens.map((t) => t.replace(/'(?:s|ve|ll|re|m)$/, ''));
}

function emojiHits(text: string): SentimentHit[] {
  const hits: SentimentHit[] = [];
  for (const [emoji, weight] of EMOJI_WEIGHTS) {
    const count = text.split(emoji).length - 1;
    for (let i = 0; i < count; i++) hits.push({ token: emoji, weight });
  }
  for (const [emoticon, weight] of EMOTICON_WEIGHTS) {
    let from = 0;
    for (;;) {
      const at = text.indexOf(emoticon, from);
      if (at < 0) break;
      from = at + emoticon.length;
      const before = at === 0 ? ' ' : text[at - 1]!;
      const after = from >= text.length ? ' ' : text[from]!;
      // Standalone only: "10:30" or "http://" must not read as a face.
      if (/[\s\p{Script=Han}，。！？]/u.test(before) && /[\s\p{Script=Han}，。！？.,!?]/u.test(after)) hits.push({ token: emoticon, weight });
    }
  }
  return hits;
}

// ─── Scoring ──────────────────────────────────────────────────────────────

interface RawHit {
  token: string;
  weight: number;
  clause: number;
}

function scoreTokens(lex: Lexicon, tokens: string[], lang: Language): RawHit[] {
  const hits: RawHit[] = [];
  let pending = freshPending();
  let clause = 0;
  let clauseStart = 0;
  let concessiveClause = -1;
  let contrastSeen = false;
  let resolvedClause = -1;
  const maxPhrase = lang === 'en' ? 5 : 1;

  const isBreak = (t: string | undefined): boolean => t === undefined || CLAUSE_BREAK.test(t);

  const sentimentAhead = (from: number): boolean => {
    for (let j = from; j < Math.min(tokens.length, from + 2); j++) {
      const t = tokens[j]!;
      if (isBreak(t)) return false;
      const w = lookup(lex, t, lang);
      if (w !== undefined && w !== 0) return true;
      if (!lex.intensifiers.has(t)) return false;
    }
    return false;
  };

  const push = (token: string, base: number): void => {
    let weight = base * pending.intensity;
    if (pending.negation > 0) {
      if (pending.weak || pending.intensifiedAfterNegation) weight = base * FLIP_WEAK * (base < 0 ? 0.8 : 1);
      else weight = weight * (weight > 0 ? FLIP_POSITIVE : FLIP_NEGATIVE);
    }
    if (concessiveClause === clause) weight *= CONCESSIVE_CLAUSE;
    else if (contrastSeen) weight *= AFTER_CONTRAST;
    if (weight > 0 && RESOLUTIONS.has(token)) {
      // "the bug is fixed": the problem named earlier in the clause is history.
      for (let k = hits.length - 1; k >= 0 && hits[k]!.clause === clause; k--) if (hits[k]!.weight < 0) hits.splice(k, 1);
      resolvedClause = clause;
    } else if (weight < 0 && resolvedClause === clause && lookup(lex, token, lang) === base) {
      // "fixed the leak": likewise for the problem named right after.
      pending = freshPending();
      return;
    }
    hits.push({ token, weight, clause });
    pending = freshPending();
  };

  const aspectNear = (i: number): { sign: 1 | -1; token: string } | undefined => {
    for (let j = i - 1; j >= Math.max(clauseStart, i - 3); j--) {
      const sign = lex.aspects.get(tokens[j]!);
      if (sign) return { sign, token: tokens[j]! };
    }
    for (let j = i + 1; j < Math.min(tokens.length, i + 3); j++) {
      if (isBreak(tokens[j])) break;
      const sign = lex.aspects.get(tokens[j]!);
      if (sign) return { sign, token: tokens[j]! };
    }
    return undefined;
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;

    if (isBreak(token)) {
      clause += 1;
      clauseStart = i + 1;
      pending = freshPending();
      if (concessiveClause === clause - 1 && !contrastSeen) contrastSeen = true;
      continue;
    }

    if (lex.contrast.has(token)) {
      for (const h of hits) h.weight *= BEFORE_CONTRAST;
      contrastSeen = true;
      pending = freshPending();
      continue;
    }
    if (lex.concessive.has(token)) {
      concessiveClause = clause;
      continue;
    }

    // Longest phrase first, so "never again" or "not worth" win over their parts.
    let matched = false;
    for (let n = Math.min(maxPhrase, tokens.length - i); n >= 2; n--) {
      const phrase = tokens.slice(i, i + n).join(' ');
      const w = lex.words.get(phrase);
      if (w === undefined) continue;
      if (w !== 0) push(phrase, w);
      i += n - 1;
      matched = true;
      break;
    }
    if (matched) continue;

    const post = lex.postIntensifiers.get(token);
    const last = hits.at(-1);
    if (post !== undefined && last && last.clause === clause) {
      last.weight *= post;
      continue;
    }

    if (lex.negators.has(token)) {
      const intensityBefore = pending.negation > 0 ? 1 : pending.intensity;
      pending = { negation: NEGATION_WINDOW, weak: lex.weakNegators.has(token), intensity: intensityBefore, intensifiedAfterNegation: false };
      continue;
    }

    const intensity = lex.intensifiers.get(token);
    if (intensity !== undefined && (lookup(lex, token, lang) === undefined || sentimentAhead(i + 1))) {
      if (pending.negation > 0) pending.intensifiedAfterNegation = true;
      else pending.intensity *= intensity;
      continue;
    }

    if (lex.high.has(token) || lex.low.has(token)) {
      const aspect = aspectNear(i);
      if (aspect) {
        // 噪音 alone reads negative, but 噪音不大 is praise: the level decides.
        const last = hits.at(-1);
        if (last && last.token === aspect.token && last.clause === clause) hits.pop();
        push(token, (lex.high.has(token) ? ASPECT_LEVEL : -ASPECT_LEVEL) * aspect.sign);
        continue;
      }
    }

    const weight = lookup(lex, token, lang);
    if (weight !== undefined && weight !== 0) {
      const clauseFinal = isBreak(tokens[i + 1]) || ZH_PARTICLES.has(tokens[i + 1] ?? '');
      const skip =
        lang === 'zh' &&
        ((ZH_CLAUSE_FINAL_ONLY.has(token) && !clauseFinal) ||
          (token === '快' && /^[\d一二两三四五六七八九十半几]/u.test(tokens[i + 1] ?? '')) ||
          (token === ZH_LAG && !(lex.intensifiers.has(tokens[i - 1] ?? '') || lex.negators.has(tokens[i - 1] ?? '') || /^[了死住]/.test(tokens[i + 1] ?? ''))) ||
          (ZH_POLITE_OPENERS.has(token) && i === clauseStart && !clauseFinal && !lex.postIntensifiers.has(tokens[i + 1] ?? '')));
      if (!skip) {
        push(token, weight);
        continue;
      }
    }

    if (pending.negation > 0 && (lex.expected.has(token) || (lang === 'en' && englishForms(token).some((f) => lex.expected.has(f))))) {
      const weak = pending.weak;
      pending = freshPending();
      hits.push({ token, weight: UNMET_EXPECTATION * (weak ? 0.6 : 1) * (concessiveClause === clause ? CONCESSIVE_CLAUSE : contrastSeen ? AFTER_CONTRAST : 1), clause });
      continue;
    }

    if (pending.negation > 0) pending.negation -= 1;
  }
  return hits;
}

/** Maps a raw weight sum onto −1..1; saturates smoothly instead of clipping. */
function squash(sum: number): number {
  return sum / Math.sqrt(sum * sum + SQUASH);
}

export function scoreSentiment(text: string, options: SentimentOptions = {}): SentimentResult {
  const source = typeof text === 'string' ? narrowLatin(text) : '';
  const language = options.language ?? detectLanguage(source);
  const lex = lexiconFor(language);
  if (!source.trim()) return { score: 0, label: 'neutral', language, hits: [], complaint: false, signals: [] };

  const tokens = language === 'zh' ? chineseTokens(lex, source) : englishTokens(source);
  const raw = scoreTokens(lex, tokens, language);
  const hits: SentimentHit[] = [...raw.map((h) => ({ token: h.token, weight: h.weight })), ...emojiHits(source)];

  let sum = 0;
  for (const h of hits) sum += h.weight;
  // Exclamation marks amplify whatever the text already says, never create it.
  const bangs = Math.min(3, (source.match(/[!！]/g) ?? []).length);
  sum *= 1 + 0.1 * bangs;

  const score = Math.max(-1, Math.min(1, squash(sum)));
  const label: SentimentLabel = score >= NEUTRAL_BAND ? 'positive' : score <= -NEUTRAL_BAND ? 'negative' : 'neutral';
  const signals = findComplaintSignals(source, language);
  return {
    score: round(score),
    label,
    language,
    hits: hits.map((h) => ({ token: h.token, weight: round(h.weight) })),
    complaint: label === 'negative' && signals.length > 0,
    signals,
  };
}

function round(x: number): number {
  const r = Math.round(x * 1000) / 1000;
  return Object.is(r, -0) ? 0 : r;
}

// ─── Complaints ───────────────────────────────────────────────────────────

const signalPatterns = new Map<string, RegExp>();

function signalPattern(signal: string): RegExp {
  let re = signalPatterns.get(signal);
  if (!re) {
    const escaped = signal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, "[\\s']+");
    // Prefix match on word starts: "refund" also finds refunded/refunds.
    re = new RegExp(`(?:^|[^\\p{L}])${escaped}`, 'u');
    signalPatterns.set(signal, re);
  }
  return re;
}

/** Complaint signals mentioned in the text, in lexicon order. */
export function findComplaintSignals(text: string, language: Language = detectLanguage(text)): string[] {
  const lower = text.toLowerCase().replace(/[\u2018\u2019]/g, "'");
  const found: string[] = [];
  // Chinese text often mixes in English words (退款 and "refund"), so check both lists there.
  const lists = language === 'zh' ? [lexiconFor('zh').complaintSignals, lexiconFor('en').complaintSignals] : [lexiconFor('en').complaintSignals];
  for (const list of lists) {
    for (const signal of list) {
      const hit = /\p{Script=Han}/u.test(signal) || /^\d+$/.test(signal) ? lower.includes(signal) : signalPattern(signal).test(lower);
      if (hit && !found.includes(signal)) found.push(signal);
    }
  }
  // "broke" is found inside "broken": keep the longer, more specific signal only.
  return found.filter((s) => !found.some((other) => other !== s && other.startsWith(s)));
}

/** True when the feedback is negative and names a complaint signal (refund, 投诉, broken …). */
export function isComplaint(text: string): boolean {
  return scoreSentiment(text).complaint;
}
