/**
 * Shared shape of the sentiment lexicons plus the language-neutral bits
 * (emoji, emoticons). The word lists themselves live in lexicon-zh.ts and
 * lexicon-en.ts; every entry there was written for this project.
 *
 * Weights are on a −3..+3 scale (3 = unambiguous and strong, 1 = mild or
 * context-dependent). A weight of 0 marks an idiom that must not be split
 * into its parts (不好说 "hard to say" is not 不 + 好).
 */
import { EN_LEXICON } from './lexicon-en.js';
import { ZH_LEXICON } from './lexicon-zh.js';

export interface Lexicon {
  /** Sentiment words and multi-word phrases (en phrases space-separated). */
  readonly words: ReadonlyMap<string, number>;
  readonly negators: ReadonlySet<string>;
  /** Negators that only soften (hardly, 不太): the flipped weight is damped further. */
  readonly weakNegators: ReadonlySet<string>;
  /** Degree adverbs; multiplier applied to the next sentiment word. */
  readonly intensifiers: ReadonlyMap<string, number>;
  /** Degree complements that strengthen the word before them (好极了, 烫得厉害). */
  readonly postIntensifiers: ReadonlyMap<string, number>;
  /** "but" words: what follows outweighs what came before. */
  readonly contrast: ReadonlySet<string>;
  /** "although" words: their own clause is discounted. */
  readonly concessive: ReadonlySet<string>;
  /**
   * Neutral verbs/nouns that customers expect to happen (reply, arrive,
   * work). Plain they carry nothing; negated ("never arrived", 没人理) they
   * are a clear negative.
   */
  readonly expected: ReadonlySet<string>;
  /** Aspects whose polarity decides what "high"/"low" means near them. */
  readonly aspects: ReadonlyMap<string, 1 | -1>;
  readonly high: ReadonlySet<string>;
  readonly low: ReadonlySet<string>;
  /** Words that, in a negative text, mark it as a complaint to follow up. */
  readonly complaintSignals: readonly string[];
}

/** Parses the compact `word:weight` notation used by the language files. */
export function parseWeighted(source: string, separator: RegExp = /\s+/): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of source.split(separator)) {
    const item = entry.trim();
    if (!item) continue;
    const at = item.lastIndexOf(':');
    if (at <= 0) throw new Error(`lexicon entry without weight: ${item}`);
    const weight = Number(item.slice(at + 1));
    if (!Number.isFinite(weight)) throw new Error(`lexicon entry with bad weight: ${item}`);
    out.set(item.slice(0, at), weight);
  }
  return out;
}

export function parseList(source: string, separator: RegExp = /\s+/): string[] {
  return source.split(separator).map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Emoji and emoticons, matched on the raw text before tokenizing because
 * neither tokenizer keeps them reliably.
 */
export const EMOJI_WEIGHTS: ReadonlyMap<string, number> = parseWeighted(`
  😀:2 😃:2 😄:2 😁:2 😊:2 🙂:1 😍:2.5 🥰:2.5 😘:1.5 🤩:2.5 👍:2 👏:2 💯:2 ❤️:2 ❤:2 💕:2 🎉:1.5 🌟:1.5 ⭐:1 ✨:1 🙏:1 😋:2 🥳:2 🤗:1.5
  😞:-2 😟:-1.5 😠:-2.5 😡:-3 🤬:-3 😤:-2 😢:-2 😭:-2 💔:-2 👎:-2 🤮:-3 🤢:-2.5 🙄:-1.5 😒:-1.5 😩:-2 😫:-2 😓:-1 😰:-1.5 😱:-1.5 💩:-2.5 😑:-1 😐:-0.5
`);

/** ASCII emoticons; checked with surrounding whitespace or text edges so URLs and times don't match. */
export const EMOTICON_WEIGHTS: ReadonlyMap<string, number> = new Map([
  ...[':)', ':-)', ':]', '=)', ':D', ':-D', 'xD', 'XD', ';)', ';-)', '^_^', '^^', '<3'].map((e) => [e, 1.5] as const),
  ...[':(', ':-(', ':[', '=(', ":'(", 'D:', '>:(', ':/', ':-/', 'T_T', '-_-', '</3'].map((e) => [e, -1.5] as const),
]);

export function lexiconFor(language: 'zh' | 'en'): Lexicon {
  return language === 'zh' ? ZH_LEXICON : EN_LEXICON;
}

export { EN_LEXICON, ZH_LEXICON };
