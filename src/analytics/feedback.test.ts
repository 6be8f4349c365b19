import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findComplaintSignals, isComplaint, scoreSentiment, type SentimentLabel } from './sentiment.js';
import { extractThemes, topicOf, TOPICS } from './themes.js';
import { contentTokens, detectLanguage, EN_STOP_WORDS, tokenize, ZH_STOP_WORDS } from './tokenize.js';

type Labelled = { label: SentimentLabel; text: string };

function readSet(lang: 'zh' | 'en'): Labelled[] {
  const path = fileURLToPath(new URL(`../../test/fixtures/sentiment-${lang}.tsv`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const [label, text, ...rest] = line.split('\t');
      if (rest.length > 0 || !text || !['positive', 'negative', 'neutral'].includes(label ?? '')) throw new Error(`bad fixture line: ${line}`);
      return { label: label as SentimentLabel, text };
    });
}

// ─── Labelled evaluation ──────────────────────────────────────────────────

describe('full-width Latin', () => {
  it('reads Ｇｏｏｄ as good, as Chinese input methods type it', () => {
    expect(scoreSentiment('Ｇｏｏｄ ＧＯＯＤ').label).toBe('positive');
    expect(scoreSentiment('Ｖｅｒｙ ｂａｄ').label).toBe('negative');
  });
});

describe('accuracy on the labelled sets', () => {
  for (const lang of ['zh', 'en'] as const) {
    it(`${lang}: 3-class accuracy ≥ 0.75`, () => {
      const set = readSet(lang);
      expect(set.length).toBeGreaterThanOrEqual(300);
      const counts = new Map<SentimentLabel, number>();
      let correct = 0;
      for (const { label, text } of set) {
        counts.set(label, (counts.get(label) ?? 0) + 1);
        const result = scoreSentiment(text);
        expect(result.language).toBe(lang);
        if (result.label === label) correct += 1;
      }
      const accuracy = correct / set.length;
      const baseline = Math.max(...counts.values()) / set.length;
      console.log(`sentiment ${lang}: accuracy ${accuracy.toFixed(3)} on ${set.length} sentences (majority baseline ${baseline.toFixed(3)})`);
      expect(accuracy).toBeGreaterThanOrEqual(0.75);
    });
  }

  it('the sets are roughly balanced and about a fifth neutral', () => {
    for (const lang of ['zh', 'en'] as const) {
      const set = readSet(lang);
      const share = (l: SentimentLabel): number => set.filter((s) => s.label === l).length / set.length;
      expect(share('neutral')).toBeGreaterThan(0.15);
      expect(share('neutral')).toBeLessThan(0.3);
      expect(Math.abs(share('positive') - share('negative'))).toBeLessThan(0.05);
    }
  });
});

// ─── Sentiment rules ──────────────────────────────────────────────────────

describe('scoreSentiment', () => {
  const label = (text: string): SentimentLabel => scoreSentiment(text).label;

  it('handles Chinese negation, including words that contain 不', () => {
    expect(label('质量不好')).toBe('negative');
    expect(label('不错')).toBe('positive');
    expect(label('不太满意')).toBe('negative');
    expect(label('价格不贵')).toBe('positive');
    expect(label('没有想象中好')).toBe('negative');
    expect(label('一点也不好吃')).toBe('negative');
    expect(label('客服没人理')).toBe('negative');
  });

  it('handles English negation', () => {
    expect(label('not good')).toBe('negative');
    expect(label('not bad at all')).toBe('positive');
    expect(label("it doesn't work")).toBe('negative');
    expect(label('never had a problem')).toBe('positive');
    expect(label("isn't very good")).toBe('negative');
  });

  it('damps "not very good" compared with "not good"', () => {
    expect(scoreSentiment('not very good').score).toBeGreaterThan(scoreSentiment('not good').score);
    expect(scoreSentiment('不是很好').score).toBeGreaterThan(scoreSentiment('不好').score);
  });

  it('intensifiers scale and softeners damp', () => {
    expect(scoreSentiment('非常好').score).toBeGreaterThan(scoreSentiment('好').score);
    expect(scoreSentiment('有点慢').score).toBeGreaterThan(scoreSentiment('很慢').score);
    expect(scoreSentiment('extremely slow').score).toBeLessThan(scoreSentiment('slow').score);
    expect(scoreSentiment('slightly slow').score).toBeGreaterThan(scoreSentiment('slow').score);
  });

  it('lets the clause after a contrast word decide', () => {
    expect(label('价格贵但是质量好')).toBe('positive');
    expect(label('质量好，但是价格太贵了')).toBe('negative');
    expect(label('虽然便宜，质量太差')).toBe('negative');
    expect(label('Expensive but the quality is excellent')).toBe('positive');
    expect(label('Looks nice, however it broke in a week')).toBe('negative');
    expect(label('Although delivery was slow, the product is great')).toBe('positive');
  });

  it('reads high and low by the aspect they describe', () => {
    expect(label('价格高')).toBe('negative');
    expect(label('性价比很高')).toBe('positive');
    expect(label('噪音不大')).toBe('positive');
    expect(label('high quality')).toBe('positive');
    expect(label('prices are too high')).toBe('negative');
  });

  it('does not read 一般 (usually), 麻烦 (please) or A-not-A questions as sentiment', () => {
    expect(label('我一般都是晚上下单')).toBe('neutral');
    expect(label('麻烦备注一下不要放香菜')).toBe('neutral');
    expect(label('能不能合并发货')).toBe('neutral');
    expect(label('味道很一般')).toBe('negative');
  });

  it('amplifies with exclamation marks and reads emoji', () => {
    expect(Math.abs(scoreSentiment('太棒了！！').score)).toBeGreaterThan(Math.abs(scoreSentiment('太棒了').score));
    expect(label('👍')).toBe('positive');
    expect(label('收到了 😡')).toBe('negative');
    expect(label('arrived today :(')).toBe('negative');
    expect(label('meeting at 10:30')).toBe('neutral');
  });

  it('reports the words it used', () => {
    const result = scoreSentiment('物流太慢了');
    expect(result.hits.map((h) => h.token)).toContain('太慢');
    expect(result.hits.every((h) => h.weight < 0)).toBe(true);
  });

  it('copes with empty and odd input', () => {
    for (const text of ['', '   ', '12345', '？？？', '🙂🙂'.slice(0, 1)]) {
      const result = scoreSentiment(text);
      expect(['zh', 'en']).toContain(result.language);
      expect(result.score).toBeGreaterThanOrEqual(-1);
      expect(result.score).toBeLessThanOrEqual(1);
    }
    expect(scoreSentiment('')).toMatchObject({ score: 0, label: 'neutral', hits: [], complaint: false });
    expect(detectLanguage('')).toBe('en');
    expect(detectLanguage('这个app很好用')).toBe('zh');
    expect(detectLanguage('The 客服 was fine')).toBe('en');
  });

  it('keeps the score in −1..1 for long rants', () => {
    const rant = '太差了！'.repeat(200);
    expect(scoreSentiment(rant).score).toBeGreaterThanOrEqual(-1);
    expect(scoreSentiment('great '.repeat(500)).score).toBeLessThanOrEqual(1);
  });
});

// ─── Complaints ───────────────────────────────────────────────────────────

describe('complaints', () => {
  it('flags negative feedback that names a complaint signal', () => {
    expect(isComplaint('收到的东西是坏的，要求退款')).toBe(true);
    expect(isComplaint('客服不理人，我要投诉')).toBe(true);
    expect(isComplaint('The item arrived broken and I want a refund')).toBe(true);
    expect(isComplaint('Scam seller, never received my order')).toBe(true);
  });

  it('does not flag praise that mentions refunds, nor negative text without a signal', () => {
    expect(isComplaint('退款很快，客服态度也好')).toBe(false);
    expect(isComplaint('Refund arrived quickly, great service')).toBe(false);
    expect(isComplaint('味道很一般')).toBe(false);
    expect(scoreSentiment('Refund arrived quickly, great service').signals).toContain('refund');
  });

  it('finds English signals inside Chinese text', () => {
    expect(findComplaintSignals('我要 refund，太差了', 'zh')).toContain('refund');
  });
});

// ─── Tokenizing ───────────────────────────────────────────────────────────

describe('tokenize', () => {
  it('segments Chinese with jieba and drops punctuation', () => {
    const tokens = tokenize('这个产品质量很好，但是物流太慢了');
    expect(tokens).toContain('物流');
    expect(tokens).not.toContain('，');
  });

  it('keeps English negations whole', () => {
    expect(tokenize("Don't buy, it isn't worth it", 'en')).toEqual(["don't", 'buy', "it", "isn't", 'worth', 'it']);
  });

  it('content tokens drop stop words and most single characters', () => {
    expect(contentTokens('这个东西的质量很好', 'zh')).toEqual(['质量']);
    expect(contentTokens('太贵了', 'zh')).toContain('贵');
    expect(contentTokens('The deliveries were late', 'en')).toEqual(['delivery', 'late']);
    expect(ZH_STOP_WORDS.has('的')).toBe(true);
    expect(EN_STOP_WORDS.has('the')).toBe(true);
  });
});

// ─── Themes ───────────────────────────────────────────────────────────────

const CORPUS = [
  { text: '物流太慢了，等了一周' },
  { text: '快递很快，第二天就到' },
  { text: '配送员态度很好' },
  { text: '价格有点贵' },
  { text: '这个价格很实惠' },
  { text: '质量不错，做工精细' },
  { text: 'Shipping was slow' },
  { text: 'The courier was friendly' },
  { text: '客服回复很及时' },
  { text: '物流信息一直不更新' },
];

describe('extractThemes', () => {
  it('groups 物流, 快递, 配送 and shipping into one delivery theme', () => {
    const { themes } = extractThemes(CORPUS);
    const delivery = themes.find((t) => t.key === 'delivery');
    expect(delivery).toBeDefined();
    expect(delivery!.terms).toEqual(expect.arrayContaining(['物流', '快递', 'shipping']));
    expect(delivery!.terms.some((t) => t.includes('配送'))).toBe(true);
    expect(delivery!.documents).toBe(6);
    expect(delivery!.share).toBeCloseTo(0.6, 5);
    expect(delivery!.name).toBe('物流配送');
    expect(delivery!.names.en).toBe('Delivery');
    expect(themes[0]!.key).toBe('delivery');
    expect(themes.find((t) => t.key === 'price')!.documents).toBe(2);
  });

  it('produces keywords with TF-IDF scores and document counts', () => {
    const { keywords } = extractThemes(CORPUS, { topKeywords: 5 });
    expect(keywords.length).toBe(5);
    for (let i = 1; i < keywords.length; i++) expect(keywords[i - 1]!.score).toBeGreaterThanOrEqual(keywords[i]!.score);
    expect(keywords.find((k) => k.term === '物流')?.documents).toBe(2);
    // Pure praise words are not topics.
    expect(keywords.map((k) => k.term)).not.toContain('不错');
  });

  it('theme sentiment is the mean document score', () => {
    const { themes } = extractThemes([
      { text: '物流太慢了' },
      { text: '快递太慢，包装也破了' },
      { text: '价格很实惠' },
    ]);
    expect(themes.find((t) => t.key === 'delivery')!.sentiment).toBeLessThan(0);
    expect(themes.find((t) => t.key === 'price')!.sentiment).toBeGreaterThan(0);
  });

  it('attaches unknown keywords to the theme they co-occur with, else other', () => {
    const docs = [
      { text: '仓库发货很慢' },
      { text: '仓库在外地，物流要三天' },
      { text: '快递从仓库出来就没动过' },
      { text: '会员积分规则复杂' },
      { text: '积分规则经常改' },
    ];
    const { themes } = extractThemes(docs, { topKeywords: 20, minDocuments: 2 });
    const delivery = themes.find((t) => t.key === 'delivery')!;
    expect(delivery.terms).toContain('仓库');
    const other = themes.find((t) => t.key === 'other');
    expect(other?.terms).toEqual(expect.arrayContaining(['积分', '规则']));
  });

  it('is deterministic and independent of input order', () => {
    const a = extractThemes(CORPUS);
    const b = extractThemes([...CORPUS].reverse());
    expect(b).toEqual(a);
    expect(extractThemes(CORPUS)).toEqual(a);
  });

  it('weights documents and respects limits', () => {
    const weighted = extractThemes([{ text: '物流太慢', weight: 3 }, { text: '价格太贵' }], { themes: 1 });
    expect(weighted.themes).toHaveLength(1);
    expect(weighted.themes[0]!.key).toBe('delivery');
    expect(weighted.themes[0]!.share).toBeCloseTo(0.75, 5);
  });

  it('handles empty input', () => {
    expect(extractThemes([])).toEqual({ keywords: [], themes: [] });
    expect(extractThemes([{ text: '' }, { text: '   ' }])).toEqual({ keywords: [], themes: [] });
  });

  it('every topic has names in both languages and maps its own terms', () => {
    for (const [i, topic] of TOPICS.entries()) {
      expect(topic.en.length).toBeGreaterThan(0);
      expect(topic.zh.length).toBeGreaterThan(0);
      expect(topicOf(topic.terms[0]!)).toBeLessThanOrEqual(i);
    }
  });
});
