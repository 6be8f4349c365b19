/**
 * Keywords and themes over a batch of feedback texts.
 *
 * Keywords are TF-IDF over content tokens (jieba for Chinese, stop words
 * and most single Han characters removed). Themes come from a built-in
 * topic map (delivery, price, quality …) so that 物流, 快递 and shipping
 * land in one bucket whatever the language; keywords the map does not know
 * join the theme they co-occur with most, or "other".
 * Everything is sorted with explicit tie-breaks, so output is stable.
 */
import { lexiconFor } from './lexicon.js';
import { scoreSentiment } from './sentiment.js';
import { addChineseTerms, contentTokens, detectLanguage, stemEnglish, type Language } from './tokenize.js';

export interface ThemeDocument {
  text: string;
  /** E.g. order value or respondent weight; defaults to 1. */
  weight?: number;
}

export interface ThemeOptions {
  /** Keywords to return (default 20). */
  topKeywords?: number;
  /** Themes to return, "other" included (default 8). */
  themes?: number;
  /** Language of theme names; default: the language of most documents. */
  language?: Language;
  /** Minimum documents for a keyword; default 2 once there are 20 documents, else 1. */
  minDocuments?: number;
}

export interface Keyword {
  term: string;
  score: number;
  documents: number;
}

export interface Theme {
  /** Stable identifier (delivery, price, …, other). */
  key: string;
  name: string;
  names: { en: string; zh: string };
  /** Highest-scoring terms of the theme, best first (at most 10). */
  terms: string[];
  documents: number;
  /** Weighted share of non-empty documents that mention the theme. */
  share: number;
  /** Weighted mean sentiment score (−1..1) of those documents. */
  sentiment: number;
}

export interface ThemeResult {
  keywords: Keyword[];
  themes: Theme[];
}

export interface Topic {
  key: string;
  en: string;
  zh: string;
  /** Chinese terms match inside longer tokens (快递员 ⊃ 快递); English ones after stemming. */
  terms: readonly string[];
}

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** Order matters: a term that fits two topics goes to the first. */
export const TOPICS: readonly Topic[] = [
  {
    key: 'returns',
    en: 'Refunds & returns',
    zh: '退款退货',
    terms: words('退款 退货 退钱 换货 退换 退回 退费 refund refunds return returns returned exchange replacement money-back'),
  },
  {
    key: 'delivery',
    en: 'Delivery',
    zh: '物流配送',
    terms: words(
      '物流 快递 配送 送货 发货 到货 派送 运输 运费 邮费 包邮 快递员 快递小哥 骑手 外卖员 包裹 签收 收货 取件 快递柜 顺丰 京东物流 送达 ' +
        'delivery deliver delivered shipping ship shipped shipment dispatch dispatched courier parcel tracking arrive arrived arrival postage driver',
    ),
  },
  {
    key: 'price',
    en: 'Price',
    zh: '价格',
    terms: words(
      '价格 价钱 价位 贵 便宜 实惠 划算 性价比 优惠 折扣 打折 涨价 费用 资费 收费 话费 月租 扣费 钱 ' +
        'price pricing cost expensive cheap overpriced pricey affordable discount bargain fee charge charged bill billing value money',
    ),
  },
  {
    key: 'quality',
    en: 'Product quality',
    zh: '产品质量',
    terms: words(
      '质量 品质 做工 材质 面料 用料 耐用 结实 瑕疵 次品 掉漆 开线 起球 褪色 缩水 正品 假货 ' +
        'quality build material fabric durable sturdy flimsy stitching defect defective faulty broken genuine fake',
    ),
  },
  {
    key: 'service',
    en: 'Customer service',
    zh: '客服服务',
    terms: words(
      '客服 服务 售后 态度 服务员 店员 工作人员 师傅 导购 前台 老板 卖家 商家 营业厅 ' +
        'service support staff agent waiter waitress helpline hotline seller technician engineer installer after-sales',
    ),
  },
  {
    key: 'packaging',
    en: 'Packaging',
    zh: '包装',
    terms: words('包装 外包装 纸箱 盒子 箱子 泡沫 packaging packed box wrapping wrapped'),
  },
  {
    key: 'app',
    en: 'App & website',
    zh: '应用与网站',
    terms: words(
      'app 软件 应用 系统 网站 网页 页面 登录 注册 界面 闪退 更新 版本 卡顿 小程序 密码 ' +
        'website site page login log-in sign-up signup interface update version crash crashing bug password',
    ),
  },
  {
    key: 'network',
    en: 'Network & signal',
    zh: '网络信号',
    terms: words('信号 网速 网络 宽带 流量 wifi 5g 4g 通话 断网 掉线 signal coverage network broadband internet wifi data call'),
  },
  {
    key: 'taste',
    en: 'Taste & food',
    zh: '口味菜品',
    terms: words(
      '味道 口味 口感 好吃 难吃 菜 菜品 饭 汤 肉 面 咸 甜 辣 新鲜 分量 taste flavour flavor delicious bland salty sweet spicy food dish meal portion fresh',
    ),
  },
  {
    key: 'size',
    en: 'Size & fit',
    zh: '尺码',
    terms: words('尺码 尺寸 码数 大小 偏大 偏小 合身 size sizing fit tight loose'),
  },
  {
    key: 'environment',
    en: 'Store & environment',
    zh: '环境卫生',
    terms: words('环境 卫生 装修 氛围 噪音 atmosphere decor hygiene noise noisy dirty'),
  },
  {
    key: 'battery',
    en: 'Battery & charging',
    zh: '电池续航',
    terms: words('电池 续航 充电 充电器 耗电 battery charger charging'),
  },
];

const OTHER = { key: 'other', en: 'Other', zh: '其他' } as const;
const MAX_THEME_TERMS = 10;
/** A keyword outside the map joins a theme only if at least this share of its documents are in it. */
const ATTACH_SHARE = 0.5;

// At load time, before jieba is first built, so segmentation never depends on call order.
addChineseTerms(TOPICS.flatMap((t) => t.terms.filter((term) => /\p{Script=Han}/u.test(term))));

interface TopicIndex {
  exact: Map<string, number>;
  hanInfixes: Array<{ term: string; topic: number }>;
}

let topicIndex: TopicIndex | undefined;

function getTopicIndex(): TopicIndex {
  if (!topicIndex) {
    const exact = new Map<string, number>();
    const hanInfixes: Array<{ term: string; topic: number }> = [];
    TOPICS.forEach((topic, t) => {
      for (const term of topic.terms) {
        const han = /\p{Script=Han}/u.test(term);
        const key = han ? term : stemEnglish(term.toLowerCase());
        if (!exact.has(key)) exact.set(key, t);
        // Single characters (贵, 菜) only as whole tokens: inside words they mean too much else.
        if (han && [...term].length > 1) hanInfixes.push({ term, topic: t });
      }
    });
    topicIndex = { exact, hanInfixes };
  }
  return topicIndex;
}

/** Index into TOPICS for a content token, or -1. */
export function topicOf(token: string): number {
  const index = getTopicIndex();
  const hit = index.exact.get(token);
  if (hit !== undefined) return hit;
  if (/\p{Script=Han}/u.test(token)) {
    let best = -1;
    for (const { term, topic } of index.hanInfixes) if (token.includes(term) && (best < 0 || topic < best)) best = topic;
    return best;
  }
  return -1;
}

/** Pure praise/blame words say how, not what: they are left out of keywords unless the map claims them. */
function isGenericEvaluation(token: string): boolean {
  const zh = lexiconFor('zh').words.get(token);
  const en = lexiconFor('en').words.get(token);
  return (zh !== undefined && zh !== 0) || (en !== undefined && en !== 0);
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
};

export function extractThemes(docs: ReadonlyArray<ThemeDocument>, options: ThemeOptions = {}): ThemeResult {
  const topK = Math.max(0, options.topKeywords ?? 20);
  const maxThemes = Math.max(0, options.themes ?? 8);

  // Per-document token counts; empty texts count for nothing.
  const prepared: Array<{ weight: number; counts: Map<string, number>; length: number; text: string; language: Language }> = [];
  let zhWeight = 0;
  let enWeight = 0;
  for (const doc of docs) {
    const text = typeof doc.text === 'string' ? doc.text : '';
    const weight = doc.weight !== undefined && Number.isFinite(doc.weight) && doc.weight > 0 ? doc.weight : doc.weight === undefined ? 1 : 0;
    if (!text.trim() || weight === 0) continue;
    const language = detectLanguage(text);
    if (language === 'zh') zhWeight += weight;
    else enWeight += weight;
    const counts = new Map<string, number>();
    let length = 0;
    for (const token of contentTokens(text, language)) {
      counts.set(token, (counts.get(token) ?? 0) + 1);
      length += 1;
    }
    prepared.push({ weight, counts, length, text, language });
  }
  const nameLanguage: Language = options.language ?? (zhWeight > enWeight ? 'zh' : 'en');
  const totalWeight = prepared.reduce((s, d) => s + d.weight, 0);
  if (prepared.length === 0 || totalWeight === 0) return { keywords: [], themes: [] };

  // Document frequency and weighted TF-IDF.
  const docsOf = new Map<string, number[]>();
  prepared.forEach((d, i) => {
    for (const term of d.counts.keys()) {
      let list = docsOf.get(term);
      if (!list) docsOf.set(term, (list = []));
      list.push(i);
    }
  });
  const n = prepared.length;
  const minDocs = options.minDocuments ?? (n >= 20 ? 2 : 1);
  const termScore = new Map<string, number>();
  for (const [term, list] of docsOf) {
    const idf = Math.log((1 + n) / (1 + list.length)) + 1;
    let score = 0;
    for (const i of list) {
      const d = prepared[i]!;
      score += (d.weight * (d.counts.get(term) ?? 0)) / Math.max(1, d.length);
    }
    termScore.set(term, (score / totalWeight) * idf);
  }

  const byScore = (a: string, b: string): number =>
    termScore.get(b)! - termScore.get(a)! || docsOf.get(b)!.length - docsOf.get(a)!.length || compareText(a, b);

  const topicTerms = new Map<string, number>();
  for (const term of docsOf.keys()) {
    const t = topicOf(term);
    if (t >= 0) topicTerms.set(term, t);
  }
  const candidates = [...docsOf.keys()]
    .filter((term) => docsOf.get(term)!.length >= minDocs && (topicTerms.has(term) || !isGenericEvaluation(term)))
    .sort(byScore);
  const keywords: Keyword[] = candidates.slice(0, topK).map((term) => ({
    term,
    score: round(termScore.get(term)!, 4),
    documents: docsOf.get(term)!.length,
  }));

  // Theme membership: every token the topic map claims, then keywords by co-occurrence.
  const themeTerms: string[][] = TOPICS.map(() => []);
  const themeDocs: Array<Set<number>> = TOPICS.map(() => new Set());
  for (const [term, t] of topicTerms) {
    themeTerms[t]!.push(term);
    for (const i of docsOf.get(term)!) themeDocs[t]!.add(i);
  }
  const otherTerms: string[] = [];
  for (const { term } of keywords) {
    if (topicTerms.has(term)) continue;
    const list = docsOf.get(term)!;
    let best = -1;
    let bestCount = 0;
    themeDocs.forEach((set, t) => {
      let count = 0;
      for (const i of list) if (set.has(i)) count += 1;
      if (count > bestCount) {
        best = t;
        bestCount = count;
      }
    });
    if (best >= 0 && bestCount >= ATTACH_SHARE * list.length) themeTerms[best]!.push(term);
    else otherTerms.push(term);
  }
  // Attached keywords widen their theme only after all attachments are decided, so order of keywords cannot matter.
  themeTerms.forEach((terms, t) => {
    for (const term of terms) for (const i of docsOf.get(term)!) themeDocs[t]!.add(i);
  });

  const sentiments = new Map<number, number>();
  const sentimentOf = (i: number): number => {
    let s = sentiments.get(i);
    if (s === undefined) {
      const d = prepared[i]!;
      s = scoreSentiment(d.text, { language: d.language }).score;
      sentiments.set(i, s);
    }
    return s;
  };

  const summarize = (key: string, names: { en: string; zh: string }, terms: string[], members: Iterable<number>): Theme => {
    let weight = 0;
    let sentiment = 0;
    let count = 0;
    for (const i of members) {
      const d = prepared[i]!;
      weight += d.weight;
      sentiment += d.weight * sentimentOf(i);
      count += 1;
    }
    return {
      key,
      name: names[nameLanguage],
      names,
      terms: [...terms].sort(byScore).slice(0, MAX_THEME_TERMS),
      documents: count,
      share: round(weight / totalWeight, 4),
      sentiment: weight > 0 ? round(sentiment / weight, 3) : 0,
    };
  };

  const named = TOPICS.map((topic, t) => ({ topic, t }))
    .filter(({ t }) => themeDocs[t]!.size > 0)
    .map(({ topic, t }) => summarize(topic.key, { en: topic.en, zh: topic.zh }, themeTerms[t]!, [...themeDocs[t]!].sort((a, b) => a - b)))
    .sort((a, b) => b.documents - a.documents || b.share - a.share || compareText(a.key, b.key));

  // "other": documents no named theme reaches, described by the unattached keywords.
  const covered = new Set<number>();
  for (const set of themeDocs) for (const i of set) covered.add(i);
  const uncovered = prepared.map((_, i) => i).filter((i) => !covered.has(i) && prepared[i]!.length > 0);
  const themes: Theme[] = [];
  const reserveOther = uncovered.length > 0 ? 1 : 0;
  themes.push(...named.slice(0, Math.max(0, maxThemes - reserveOther)));
  if (reserveOther && themes.length < maxThemes) themes.push(summarize(OTHER.key, { en: OTHER.en, zh: OTHER.zh }, otherTerms, uncovered));
  return { keywords, themes };
}
