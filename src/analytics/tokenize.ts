/**
 * Language detection and tokenization for customer feedback.
 *
 * Chinese goes through jieba (@node-rs/jieba), loaded lazily because
 * building the dictionary takes ~200 ms, and extended once with the
 * lexicon's multi-character terms so 性价比高 or 爱答不理 come out whole.
 * English is lowercased and split on anything that is not a letter, digit
 * or in-word apostrophe/hyphen, so negations like don't survive as one token.
 */
import { createRequire } from 'node:module';
import type { Jieba } from '@node-rs/jieba';
import { zhDictionaryTerms } from './lexicon-zh.js';

export type Language = 'zh' | 'en';

const HAN = /\p{Script=Han}/gu;
const LATIN = /[A-Za-z]/g;

/**
 * 'zh' when Han characters make up at least a fifth of the letters: mixed
 * Chinese text routinely carries Latin brand names and "app", and each Han
 * character carries about as much as an English word does.
 * Text with neither (empty, digits, emoji only) is reported as 'en'.
 */
export function detectLanguage(text: string): Language {
  const han = text.match(HAN)?.length ?? 0;
  if (han === 0) return 'en';
  const latin = text.match(LATIN)?.length ?? 0;
  return han / (han + latin) >= 0.2 ? 'zh' : 'en';
}

// ─── jieba ────────────────────────────────────────────────────────────────

let jieba: Jieba | undefined;
const extraTerms = new Set<string>();

/** High enough that jieba prefers our terms over splitting them into common words. */
const CUSTOM_FREQUENCY = 20000;

function dictionaryLines(terms: Iterable<string>): Buffer {
  let out = '';
  for (const term of terms) {
    if (/\s/.test(term)) continue;
    out += `${term} ${CUSTOM_FREQUENCY}\n`;
  }
  return Buffer.from(out, 'utf8');
}

/** The shared segmenter; first call pays the dictionary load. */
export function getJieba(): Jieba {
  if (!jieba) {
    // Required on first use, not at import: a platform without jieba's prebuilt binary loses Chinese
    // segmentation with a clear error, not the whole server at start.
    const require = createRequire(import.meta.url);
    let loaded: { Jieba: typeof Jieba; dict: Buffer };
    try {
      loaded = { Jieba: (require('@node-rs/jieba') as { Jieba: typeof Jieba }).Jieba, dict: (require('@node-rs/jieba/dict.js') as { dict: Buffer }).dict };
    } catch (error) {
      throw new Error(`Chinese word segmentation is unavailable: @node-rs/jieba has no build for ${process.platform}-${process.arch} (${error instanceof Error ? error.message : String(error)})`);
    }
    const instance = loaded.Jieba.withDict(loaded.dict);
    instance.loadDict(dictionaryLines([...zhDictionaryTerms(), ...extraTerms]));
    jieba = instance;
  }
  return jieba;
}

/** Adds domain terms (product names, topic words) so they segment as one token. */
export function addChineseTerms(terms: Iterable<string>): void {
  const fresh = [...terms].filter((t) => t.length > 1 && !extraTerms.has(t));
  for (const t of fresh) extraTerms.add(t);
  if (jieba && fresh.length > 0) jieba.loadDict(dictionaryLines(fresh));
}

// ─── Stop words ───────────────────────────────────────────────────────────

/**
 * Function words that carry no topic. Negators and degree words are listed
 * here too: themes do not need them, sentiment does not use this list.
 */
export const ZH_STOP_WORDS: ReadonlySet<string> = new Set(
  `的 了 着 过 地 得 之 和 与 及 跟 同 或 或者 而 而且 并且 并 也 都 还 又 再 就 才 只 只是 仅 就是 即 便 则 却 但 但是 不过 可是 然而 虽然 虽 尽管 因为 所以 因此 于是 如果 要是 假如 即使 哪怕 既然 那么 这么 这样 那样 怎么 怎样 怎么样 什么 为什么 哪 哪里 哪儿 哪个 谁 几 多少
   我 我们 你 你们 您 他 他们 她 她们 它 它们 咱 咱们 大家 自己 别人 人家 这 那 这个 那个 这些 那些 这里 那里 这儿 那儿 这次 那次 此 其 其他 其它 每 各 某 本 该
   是 有 在 到 去 来 给 把 被 让 叫 对 对于 关于 向 从 自 往 为 为了 以 用 由 比 像 按 按照 根据 通过 经过 随着 除了 之后 以后 之前 以前 后来 然后 时候 的时候 时 中 里 上 下 前 后 内 外 间
   吗 呢 吧 啊 呀 哦 哈 嘛 啦 哎 唉 嗯 喔 噢 哇 呗 么 罢了 而已 一下 一点 一些 一个 一种 一次 一样 一直 一般 个 些 种 次 件 位 点 下 们 者 所 等 等等 之类
   很 非常 太 特别 极其 十分 挺 蛮 比较 有点 有些 稍微 更 最 越来越 真 真的 确实 实在 简直 完全 根本 已经 已 曾经 正在 在 刚 刚刚 马上 立刻 终于 总是 老是 经常 常常 一直 又 还是 仍然 依然 也许 可能 应该 能 能够 会 可以 要 想 需要 得 必须
   不 没 没有 别 未 无 非 莫 勿 不要 不会 不能 不是 不用 好像 似乎 其实 当然 而已 今天 昨天 明天 现在 目前 当时 以来 左右 感觉 觉得 认为 知道 说 表示 看 看到 发现 东西 下次 这家 那家 开始 以后 之前 一样 还是 有点 挺 最后 第一次 一次 两次 几次 一天 两天 三天 一个月`.split(/\s+/).filter(Boolean),
);

export const EN_STOP_WORDS: ReadonlySet<string> = new Set(
  `a an the and or but nor so yet if then else than that this these those there here where when while what which who whom whose why how
   i me my mine myself we us our ours you your yours he him his she her hers it its itself they them their theirs one ones
   am is are was were be been being have has had having do does did doing done will would shall should can could may might must ought
   to of in on at by for from with without about above below over under into onto out up down off through during before after again further once
   all any both each few more most other some such only own same too very just also even still already ever really quite rather much many lot lots
   not no never don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't couldn't haven't hasn't hadn't i'm i've i'd i'll you're it's that's there's we're they're
   get got gets getting go goes went going make made makes come came comes take took put say said says tell told let know think thought see seen look looks looked want wanted need needed use used using try tried
   as because since until unless though although please thanks one two three four five six seven ten first second last
   thing things stuff something anything everything nothing someone anyone everyone bit little way well back now today yesterday tomorrow time times day days week weeks month months year years`.split(/\s+/).filter(Boolean),
);

export function isStopWord(token: string, lang: Language): boolean {
  return (lang === 'zh' ? ZH_STOP_WORDS : EN_STOP_WORDS).has(token) || EN_STOP_WORDS.has(token);
}

// ─── Tokenizing ───────────────────────────────────────────────────────────

const WORDISH = /[\p{L}\p{N}]/u;
const EN_TOKEN = /[\p{L}\p{N}]+(?:['\-][\p{L}\p{N}]+)*/gu;

function normalizeQuotes(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc\uff07]/g, "'");
}

/** English tokens, lowercased; apostrophes inside words kept (don't, it's). */
export function tokenizeEnglish(text: string): string[] {
  return normalizeQuotes(text.toLowerCase()).match(EN_TOKEN) ?? [];
}

/**
 * Chinese via jieba. HMM is on by default because feedback is full of
 * product names and slang the dictionary lacks (冷链, 绝绝子); sentiment
 * turns it off, since HMM also glues modifiers onto neighbours (中好).
 * Latin runs inside Chinese text are lowercased and
 * split like English so "APP" and "app" agree.
 */
export function tokenizeChinese(text: string, keepPunctuation = false, hmm = true): string[] {
  const out: string[] = [];
  for (const raw of getJieba().cut(normalizeQuotes(text), hmm)) {
    const piece = raw.trim();
    if (!piece) continue;
    if (!WORDISH.test(piece)) {
      if (keepPunctuation) out.push(piece);
      continue;
    }
    if (/^[A-Za-z0-9'\-]+$/.test(piece)) out.push(...tokenizeEnglish(piece));
    else out.push(piece.toLowerCase());
  }
  return out;
}

/**
 * Full-width Latin letters and digits (Ｇｏｏｄ, ５星) as their ASCII forms:
 * Chinese input methods type them, and the lexicon knows the ASCII words.
 * Full-width punctuation stays, since it marks Chinese clauses.
 */
export function narrowLatin(text: string): string {
  return text.replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** Word tokens without punctuation; language detected when not given. */
export function tokenize(input: string, lang: Language = detectLanguage(input)): string[] {
  if (!input) return [];
  const text = narrowLatin(input);
  return lang === 'zh' ? tokenizeChinese(text) : tokenizeEnglish(text);
}

/** Light English normalisation for grouping: plurals and -ing/-ed forms of regular words. */
export function stemEnglish(token: string): string {
  if (token.length <= 3 || token.includes("'")) return token;
  if (token.endsWith('ies') && token.length > 4) return `${token.slice(0, -3)}y`;
  if (/(?:ss|us|is)$/.test(token)) return token;
  if (/(?:ches|shes|xes|sses)$/.test(token)) return token.slice(0, -2);
  if (token.endsWith('s')) return token.slice(0, -1);
  return token;
}

/**
 * Tokens for keyword/theme work: stop words, numbers and punctuation
 * removed, single Han characters dropped unless they name a topic or a
 * quality on their own (贵, 慢, 味 …), English lightly stemmed.
 */
export function contentTokens(text: string, lang: Language = detectLanguage(text)): string[] {
  const out: string[] = [];
  for (const token of tokenize(text, lang)) {
    if (/^[\p{N}.,:%\-]+$/u.test(token)) continue;
    if (isStopWord(token, lang)) continue;
    const han = /^\p{Script=Han}+$/u.test(token);
    if (han) {
      const chars = [...token];
      // 太贵 / 很慢 / 不贵 are about price and speed: keep the meaningful character.
      const last = chars.at(-1)!;
      if (chars.length === 2 && DEGREE_PREFIXES.has(chars[0]!) && MEANINGFUL_SINGLE_HAN.has(last)) {
        out.push(last);
        continue;
      }
      if (chars.length === 1 && !MEANINGFUL_SINGLE_HAN.has(token)) continue;
      out.push(token);
    } else {
      if (token.length < 2) continue;
      out.push(stemEnglish(token));
    }
  }
  return out;
}

const DEGREE_PREFIXES: ReadonlySet<string> = new Set('太 很 超 真 挺 巨 贼 偏 好 不 没 较 更 最'.split(' '));

/** Single characters that stand for a topic or a judgement by themselves. */
export const MEANINGFUL_SINGLE_HAN: ReadonlySet<string> = new Set(
  '贵 慢 快 甜 咸 辣 酸 苦 香 臭 脏 吵 卡 烂 差 坑 骗 假 碎 漏 冷 凉 热 烫 硬 软 大 小 长 短 肥 瘦 油 味 菜 饭 面 肉 鱼 汤 茶 酒 鞋 包 码 钱 价 网 电 屏 车 店 房 床'.split(' '),
);
