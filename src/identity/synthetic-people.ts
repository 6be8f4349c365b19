/**
 * Synthetic customers with ground truth, for the probabilistic matcher's
 * tests and benchmark: Chinese and American people as four systems record
 * them (a CRM, a store till, a web shop, a survey), each system with its own
 * fields, formats and mistakes.
 *
 * The noise model is meant to look like real customer data, not to suit any
 * matcher, and is not to be adjusted to make a matcher's scores look better.
 * What it contains:
 * - names: Chinese surnames and given names with census-like skew, so that
 *   namesakes (王伟, 李娜) occur on their own; American first names with their
 *   nicknames, middle names and a long tail of surnames. Chinese people are
 *   written in Han characters, in pinyin in either order, in passport style
 *   (`WANG Wei`), or by an English name (`Kevin Wang`); Americans as
 *   `First M. Last`, `Last, First`, by nickname, with a Jr./Sr. suffix, now
 *   and then by a maiden name. Typos: one edit in Latin script, a homophone
 *   in Han (the usual input-method slip).
 * - phones: +86 mobiles, city landlines, US numbers, in every common layout;
 *   some people have two numbers; households share a landline; tills key in
 *   a placeholder number now and then.
 * - emails: one or two per person, unique, with case, spaces, Gmail dots and
 *   tags, domain slips and placeholders.
 * - birth dates in each source's own format; day and month swapped now and
 *   then (an American filling in a day-first survey most of all), a digit off.
 * - addresses in real Chinese provinces, cities and districts (路, 号, 栋,
 *   室) and US cities (USPS and spelled-out forms, units, ZIP+4); some people
 *   moved, and a source may still hold the old address.
 * - fields a source does not collect, or a person left blank.
 * - hard negatives: households (one address, often one landline, different
 *   people: spouses, children, a parent, twins, a Jr. named after his
 *   father), namesakes who take an earlier person's full name, half of them
 *   in the same city.
 *
 * Deterministic for a seed (own PRNG), one pass, no per-record regex work:
 * a million records take a few seconds.
 */
import type { DateOrder } from '../clean/date.js';

export type SyntheticSourceId = 'crm' | 'pos' | 'web' | 'survey';

/** One source system's record of one person: raw traits as the system sends them. */
export interface SyntheticRecord {
  /** ground truth: records with the same entity are the same person */
  entity: number;
  source: SyntheticSourceId;
  traits: Record<string, unknown>;
}

/** What a source's data looks like, as its cleaning settings would say. */
export interface SyntheticSource {
  id: SyntheticSourceId;
  dateOrder?: DateOrder;
  countries?: string[];
}

export interface PeopleOptions {
  /** how many distinct people; each appears in 1–4 sources */
  entities: number;
  seed?: number;
  /** share of people who are Chinese (the rest American); default 0.55 */
  chineseShare?: number;
  /** chance that a new group of people is a household of 2–4 rather than one person; default 0.08 */
  householdRate?: number;
  /** chance that a person has the full name of an earlier person (half of them in the same city); default 0.03 */
  namesakeRate?: number;
  /** chance that a person (or household) has moved, so sources may disagree on the address; default 0.12 */
  movedRate?: number;
  /** multiplies every per-record noise rate (typos, swaps, junk, format slips); default 1, 0 for clean records */
  noise?: number;
}

/** How many of each hard case the generator made: the tests check they are there. */
export interface PeopleStats {
  households: number;
  householdMembers: number;
  twins: number;
  juniors: number;
  namesakes: number;
  namesakesSameCity: number;
  moved: number;
}

export interface SyntheticPeople {
  sources: SyntheticSource[];
  records: SyntheticRecord[];
  stats: PeopleStats;
}

/** The day ages are counted to; clean with a `now` on or after it, or birth dates may look like the future. */
export const SYNTHETIC_AS_OF = new Date('2026-01-01T00:00:00Z');

export const SYNTHETIC_SOURCES: readonly SyntheticSource[] = Object.freeze([
  // The company CRM: staff-entered, global, US date order.
  { id: 'crm', dateOrder: 'mdy', countries: ['US', 'CN'] },
  // The tills of the China stores: loyalty by phone number.
  { id: 'pos', dateOrder: 'dmy', countries: ['CN'] },
  // The web shop: self-entered, email is the login, a US-style form.
  { id: 'web', dateOrder: 'mdy', countries: ['US'] },
  // A marketing survey tool set to day-first dates; no country setting.
  { id: 'survey', dateOrder: 'dmy' },
] satisfies SyntheticSource[]);

/** Expected records per person, for sizing a run by records: the mean of SOURCE_COUNT_WEIGHTS. */
export const MEAN_SOURCES_PER_ENTITY = 2.18;
// P(1..4 sources): most people are known to one or two systems.
const SOURCE_COUNT_WEIGHTS = [0.3, 0.35, 0.22, 0.13];

// ---------------------------------------------------------------------------
// Randomness

/** mulberry32: small, fast, and plenty for shaping synthetic fields. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Weighted<T> {
  items: readonly T[];
  cumulative: Float64Array;
}

function weighted<T>(rows: ReadonlyArray<readonly [T, number]>): Weighted<T> {
  const cumulative = new Float64Array(rows.length);
  let sum = 0;
  rows.forEach(([, w], i) => {
    sum += w;
    cumulative[i] = sum;
  });
  for (let i = 0; i < cumulative.length; i++) cumulative[i]! /= sum;
  return { items: rows.map(([item]) => item), cumulative };
}

class Draw {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** lo..hi inclusive */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }
  from<T>(table: Weighted<T>): T {
    const x = this.next();
    const c = table.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return table.items[lo]!;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(48 + this.int(10));
    return s;
  }
}

// ---------------------------------------------------------------------------
// Chinese names

// Surname|pinyin|share of the population in %, after the 2020 census ranking.
const CN_SURNAMES = weighted(
  `王 Wang 7.1|李 Li 7.1|张 Zhang 6.6|刘 Liu 5.4|陈 Chen 4.5|杨 Yang 3.1|黄 Huang 2.3|赵 Zhao 2.3|吴 Wu 2.1|周 Zhou 2.0|徐 Xu 1.7|孙 Sun 1.5|马 Ma 1.3|朱 Zhu 1.3|胡 Hu 1.2|郭 Guo 1.1|何 He 1.1|林 Lin 1.0|高 Gao 1.0|罗 Luo 0.9|郑 Zheng 0.8|梁 Liang 0.8|谢 Xie 0.7|宋 Song 0.7|唐 Tang 0.6|许 Xu 0.6|韩 Han 0.6|冯 Feng 0.6|邓 Deng 0.6|曹 Cao 0.5|彭 Peng 0.5|曾 Zeng 0.5|肖 Xiao 0.5|田 Tian 0.5|董 Dong 0.5|袁 Yuan 0.4|潘 Pan 0.4|于 Yu 0.4|蒋 Jiang 0.4|蔡 Cai 0.4|余 Yu 0.4|杜 Du 0.4|叶 Ye 0.4|程 Cheng 0.4|苏 Su 0.3|魏 Wei 0.3|吕 Lv 0.3|丁 Ding 0.3|任 Ren 0.3|沈 Shen 0.3|姚 Yao 0.3|卢 Lu 0.3|姜 Jiang 0.3|崔 Cui 0.3|钟 Zhong 0.3|谭 Tan 0.3|陆 Lu 0.3|汪 Wang 0.3|范 Fan 0.3|金 Jin 0.3|石 Shi 0.2|廖 Liao 0.2|贾 Jia 0.2|夏 Xia 0.2|韦 Wei 0.2|付 Fu 0.2|方 Fang 0.2|白 Bai 0.2|邹 Zou 0.2|孟 Meng 0.2|熊 Xiong 0.2|秦 Qin 0.2|邱 Qiu 0.2|江 Jiang 0.2|尹 Yin 0.2|薛 Xue 0.2|闫 Yan 0.2|段 Duan 0.2|雷 Lei 0.2|侯 Hou 0.2|龙 Long 0.2|史 Shi 0.2|陶 Tao 0.1|黎 Li 0.1|贺 He 0.1|顾 Gu 0.1|毛 Mao 0.1|郝 Hao 0.1|龚 Gong 0.1|邵 Shao 0.1|万 Wan 0.1|钱 Qian 0.1|严 Yan 0.1|覃 Qin 0.1|武 Wu 0.1|戴 Dai 0.1|莫 Mo 0.1|孔 Kong 0.1|向 Xiang 0.1|汤 Tang 0.1|欧阳 Ouyang 0.02|司马 Sima 0.005|诸葛 Zhuge 0.003|上官 Shangguan 0.003`
    .split('|')
    .map((row) => {
      const [han, latin, share] = row.split(' ') as [string, string, string];
      return [[han, latin] as const, Number(share)] as const;
    }),
);

// The most common given names (older generations, mostly one character). Even
// the commonest is rare: 张伟, the most frequent full name, is ~290,000 of the
// ~92 million 张 (0.3%), so 伟 is ~0.6% of men. These carry 8% of people; the
// rest get a name built from the pools below.
const CN_GIVEN_TOP = {
  male: weighted(
    `伟 Wei 3.0|强 Qiang 1.2|磊 Lei 1.2|军 Jun 1.1|洋 Yang 1.0|勇 Yong 1.0|杰 Jie 1.0|涛 Tao 0.9|明 Ming 0.8|超 Chao 0.8|刚 Gang 0.7|平 Ping 0.6|辉 Hui 0.6|鹏 Peng 0.6|华 Hua 0.5|飞 Fei 0.5|斌 Bin 0.5|波 Bo 0.5|宇 Yu 0.5|浩 Hao 0.5|凯 Kai 0.4|健 Jian 0.4|俊 Jun 0.4|帆 Fan 0.4|帅 Shuai 0.4|旭 Xu 0.3|宁 Ning 0.3|龙 Long 0.3|林 Lin 0.3|阳 Yang 0.3|建华 Jianhua 0.5|建国 Jianguo 0.4|建军 Jianjun 0.4|志强 Zhiqiang 0.4|志明 Zhiming 0.3|俊杰 Junjie 0.3|子轩 Zixuan 0.3|浩然 Haoran 0.3|宇轩 Yuxuan 0.3|晓东 Xiaodong 0.3|文博 Wenbo 0.2|国强 Guoqiang 0.3|海涛 Haitao 0.3`
      .split('|')
      .map(givenRow),
  ),
  female: weighted(
    `芳 Fang 2.0|娜 Na 1.8|秀英 Xiuying 1.5|敏 Min 1.5|静 Jing 1.5|丽 Li 1.3|艳 Yan 1.0|娟 Juan 0.9|霞 Xia 0.8|秀兰 Xiulan 0.8|燕 Yan 0.7|玲 Ling 0.6|桂英 Guiying 0.6|丹 Dan 0.6|萍 Ping 0.5|红 Hong 0.5|玉兰 Yulan 0.4|桂兰 Guilan 0.4|婷 Ting 0.5|雪 Xue 0.4|琳 Lin 0.4|颖 Ying 0.4|倩 Qian 0.4|晶 Jing 0.3|慧 Hui 0.3|佳 Jia 0.3|欣怡 Xinyi 0.3|梓涵 Zihan 0.3|雨涵 Yuhan 0.3|诗涵 Shihan 0.2|子涵 Zihan 0.2|海燕 Haiyan 0.3|晓燕 Xiaoyan 0.3|小红 Xiaohong 0.3|春梅 Chunmei 0.3|淑珍 Shuzhen 0.3|丽娟 Lijuan 0.3`
      .split('|')
      .map(givenRow),
  ),
};
const CN_GIVEN_TOP_SHARE = 0.08;

function givenRow(row: string): readonly [readonly [string, string], number] {
  const [han, latin, share] = row.split(' ') as [string, string, string];
  return [[han, latin], Number(share)];
}

// Characters of two-character given names, with pinyin.
const CN_POOL = {
  male: charPool('志Zhi 建Jian 文Wen 国Guo 明Ming 俊Jun 家Jia 子Zi 浩Hao 天Tian 宇Yu 博Bo 泽Ze 晨Chen 鑫Xin 嘉Jia 振Zhen 永Yong 海Hai 德De 立Li 世Shi 成Cheng 晓Xiao 思Si 睿Rui 承Cheng 一Yi 凯Kai 鹏Peng 然Ran 轩Xuan 涛Tao 杰Jie 辉Hui 峰Feng 斌Bin 磊Lei 伟Wei 强Qiang 军Jun 豪Hao 瑞Rui 阳Yang 林Lin 华Hua 平Ping 东Dong 新Xin 安An'),
  female: charPool('雨Yu 欣Xin 梓Zi 诗Shi 思Si 佳Jia 可Ke 婉Wan 晓Xiao 雅Ya 静Jing 怡Yi 涵Han 琪Qi 萱Xuan 悦Yue 彤Tong 妍Yan 馨Xin 慧Hui 丽Li 美Mei 玉Yu 秀Xiu 春Chun 红Hong 燕Yan 霞Xia 芳Fang 婷Ting 倩Qian 颖Ying 洁Jie 敏Min 琳Lin 月Yue 雪Xue 冰Bing 丹Dan 璐Lu 蕾Lei 瑶Yao 菲Fei 梦Meng 晴Qing 文Wen 心Xin 子Zi 嘉Jia 若Ruo'),
};

function charPool(text: string): ReadonlyArray<readonly [string, string]> {
  return text.split(' ').map((t) => [t.slice(0, 1), t.slice(1)] as const);
}

// Pinyin of the single characters we know, for names built from a sibling's first character.
const HAN_PINYIN = new Map<string, string>();
for (const [han, latin] of [...CN_POOL.male, ...CN_POOL.female, ...CN_GIVEN_TOP.male.items, ...CN_GIVEN_TOP.female.items]) if (han.length === 1) HAN_PINYIN.set(han, latin);

// English names Chinese customers use at work and online.
const CN_ENGLISH = {
  male: ['Kevin', 'Jack', 'Tony', 'Eric', 'Jason', 'David', 'Michael', 'Leo', 'Peter', 'Frank', 'Alex', 'Vincent', 'Allen', 'Steven', 'Andy', 'Ken', 'Jerry', 'Sam'],
  female: ['Amy', 'Lily', 'Linda', 'Vivian', 'Cindy', 'Grace', 'Emily', 'Coco', 'Cherry', 'Tina', 'Helen', 'Sophia', 'Jessica', 'Wendy', 'Sunny', 'Angela', 'Echo', 'Fiona'],
};

// Homophones and look-alikes an input method offers first: the usual slip in a typed Han name.
const HAN_SLIPS = new Map<string, string>();
for (const group of '伟玮炜 丽莉俐 静婧晶 娜纳 敏闵民 明铭鸣 军君钧 杰洁捷 涛滔 磊垒 芳方芬 华桦骅 燕艳雁 霞侠 玲铃琳 婷亭庭 琳林霖 辉晖慧 鹏朋 峰锋丰 斌彬滨 宇雨羽 浩皓昊 晨辰 欣昕心 怡仪宜 涵晗含 萱宣轩 彤桐 馨欣鑫 瑶遥 梦蒙 雪学 颖莹 倩茜 佳嘉 俊骏 强墙 勇永 凯恺 健建 旭煦 帆凡 丹单 萍平 红虹 娟涓 晶京 慧惠 兰岚 英莺 梅玫 珍真 张章 王汪 李黎 刘柳 徐许 杨阳 周舟 吴武 程成 路陆 道到 园圆 中忠 华化 新心 东冬 南楠 西希'.split(' ')) {
  const chars = [...group];
  HAN_SLIPS.set(chars[0]!, chars.slice(1).join(''));
}

// ---------------------------------------------------------------------------
// Chinese places: province|city|area code|postcode prefix|resident-ID region|weight|district:road,road;…

interface CnCity {
  province: string;
  provinceShort: string;
  city: string;
  cityShort: string;
  cityLatin: string;
  municipality: boolean;
  areaCode: string;
  postPrefix: string;
  regionCode: string;
  districts: ReadonlyArray<{ name: string; roads: readonly string[] }>;
}

const CN_CITY_ROWS = `
上海市|上海市|Shanghai|021|200|310115|9|浦东新区:世纪大道,张杨路,浦东南路,东方路,杨高中路,锦绣路,川沙路;徐汇区:漕溪北路,衡山路,肇嘉浜路,虹桥路,田林路,宜山路;静安区:南京西路,延安中路,江宁路,西康路,共和新路;黄浦区:西藏中路,淮海中路,河南南路,中山南路;闵行区:七莘路,都市路,莲花南路,沪闵路;杨浦区:国定路,四平路,黄兴路,控江路;长宁区:天山路,延安西路,仙霞路;普陀区:真北路,曹杨路,武宁路
北京市|北京市|Beijing|010|100|110105|8|朝阳区:建国路,朝阳路,东三环中路,望京街,工体北路,安立路;海淀区:中关村大街,学院路,知春路,西三环北路,清河中街;东城区:东长安街,东直门内大街,和平里西街,崇文门外大街;西城区:西直门外大街,金融大街,广安门内大街;丰台区:丰台路,南三环西路,方庄路;昌平区:回龙观西大街,北清路
天津市|天津市|Tianjin|022|300|120101|3|和平区:南京路,营口道,贵州路;南开区:鞍山西道,红旗南路,白堤路;河西区:友谊路,解放南路,围堤道
重庆市|重庆市|Chongqing|023|400|500103|4|渝中区:民族路,解放东路,中山三路,大坪正街;江北区:建新北路,洋河路;南岸区:南坪西路,江南大道;渝北区:金开大道,新南路
广东省|广州市|Guangzhou|020|510|440106|6|天河区:天河路,体育西路,中山大道,黄埔大道,天河北路;越秀区:环市东路,北京路,东风中路,中山五路;海珠区:新港中路,工业大道,江南大道中;白云区:白云大道,机场路,广园中路;番禺区:市桥路,兴业大道
广东省|深圳市|Shenzhen|0755|518|440305|6|南山区:科苑路,深南大道,南海大道,后海大道,高新南一道;福田区:福华路,益田路,深南中路,彩田路,福中路;罗湖区:人民南路,东门中路,深南东路;宝安区:宝安大道,新湖路,创业一路;龙岗区:龙岗大道,龙翔大道
广东省|佛山市|Foshan|0757|528|440604|2|禅城区:季华路,汾江中路,祖庙路;南海区:南海大道,海八路,桂城路
浙江省|杭州市|Hangzhou|0571|310|330106|4|西湖区:文三路,天目山路,教工路,古墩路;上城区:解放路,延安路,清泰街;拱墅区:湖墅南路,莫干山路,大关路;滨江区:江南大道,滨盛路,长河路;余杭区:文一西路,五常大道
浙江省|宁波市|Ningbo|0574|315|330203|2|海曙区:中山西路,解放南路,药行街;鄞州区:天童南路,钱湖北路,四明中路;江北区:人民路,洪塘中路
江苏省|南京市|Nanjing|025|210|320106|3.5|鼓楼区:中山路,北京西路,湖南路,中央路;玄武区:中山东路,珠江路,龙蟠路;秦淮区:太平南路,中华路,建康路;建邺区:江东中路,应天大街
江苏省|苏州市|Suzhou|0512|215|320508|3|姑苏区:人民路,干将路,十全街,平江路;吴中区:东吴北路,宝带西路;虎丘区:狮山路,长江路
江苏省|无锡市|Wuxi|0510|214|320213|1.5|梁溪区:中山路,人民中路,解放南路;滨湖区:蠡湖大道,太湖大道
四川省|成都市|Chengdu|028|610|510107|5|武侯区:人民南路四段,科华北路,武侯祠大街,高升桥路;锦江区:春熙路,东大街,红星路三段;青羊区:蜀都大道,青羊大道,长顺上街;成华区:建设路,二环路东二段;金牛区:一环路北一段,蜀汉路
湖北省|武汉市|Wuhan|027|430|420106|4|武昌区:中南路,中北路,武珞路,徐东大街;江汉区:解放大道,建设大道,江汉路;洪山区:珞喻路,光谷大道,雄楚大道;江岸区:沿江大道,台北路,黄浦大街
陕西省|西安市|Xi'an|029|710|610113|3.5|雁塔区:长安南路,小寨东路,科技路,高新路;碑林区:东大街,南大街,友谊西路,和平路;新城区:解放路,东五路,长乐西路;未央区:凤城八路,未央路
河南省|郑州市|Zhengzhou|0371|450|410105|3|金水区:金水路,花园路,农业路,经三路;中原区:建设西路,中原西路,桐柏路;二七区:大学路,航海中路
湖南省|长沙市|Changsha|0731|410|430104|3|岳麓区:麓山南路,枫林一路,桐梓坡路;芙蓉区:五一大道,八一路,韶山北路;天心区:芙蓉中路,劳动西路;开福区:湘江中路,芙蓉北路
山东省|青岛市|Qingdao|0532|266|370202|2.5|市南区:香港中路,山东路,东海西路;市北区:辽宁路,台东一路,延安三路;崂山区:海尔路,松岭路
山东省|济南市|Jinan|0531|250|370102|2|历下区:泉城路,经十路,解放路;市中区:经四路,英雄山路;槐荫区:经十西路,营市街
辽宁省|沈阳市|Shenyang|024|110|210102|2.5|和平区:中华路,南京北街,太原北街;沈河区:青年大街,北京街;大东区:东北大马路,小北关街;皇姑区:黄河南大街,长江街
安徽省|合肥市|Hefei|0551|230|340104|2|蜀山区:长江西路,黄山路,潜山路;庐阳区:阜阳路,长江中路;包河区:马鞍山路,徽州大道
福建省|厦门市|Xiamen|0592|361|350203|1.5|思明区:厦禾路,湖滨南路,中山路,莲前西路;湖里区:仙岳路,湖里大道,枋湖路
云南省|昆明市|Kunming|0871|650|530102|2|五华区:人民中路,青年路,一二一大街;盘龙区:北京路,白塔路,东风东路;官渡区:春城路,关上中路
黑龙江省|哈尔滨市|Harbin|0451|150|230103|2|南岗区:西大直街,红军街,学府路;道里区:中央大街,友谊路,经纬街;香坊区:中山路,香坊大街
`;

const CN_CITIES = weighted(
  CN_CITY_ROWS.trim()
    .split('\n')
    .map((line) => {
      const [province, city, cityLatin, areaCode, postPrefix, regionCode, weight, districts] = line.split('|') as [string, string, string, string, string, string, string, string];
      const municipality = province === city;
      const row: CnCity = {
        province,
        provinceShort: province.replace(/省$|市$/, ''),
        city,
        cityShort: city.replace(/市$/, ''),
        cityLatin,
        municipality,
        areaCode,
        postPrefix,
        regionCode,
        districts: districts.split(';').map((d) => {
          const [name, roads] = d.split(':') as [string, string];
          return { name, roads: roads.split(',') };
        }),
      };
      return [row, Number(weight)] as const;
    }),
);

// Residential compounds: many unrelated households share a road number, only the flat differs.
const CN_COMPOUNDS = ['阳光花园', '世纪花园', '翠苑小区', '锦绣家园', '金色家园', '万科城', '碧桂园', '幸福里', '华府', '中海国际社区', '绿地公馆', '保利花园', '东方明珠苑', '和平小区', '新村'];

const CN_MOBILE_PREFIXES = ['130', '131', '132', '133', '134', '135', '136', '137', '138', '139', '145', '147', '150', '151', '152', '153', '155', '156', '157', '158', '159', '166', '173', '175', '176', '177', '178', '180', '181', '182', '183', '184', '185', '186', '187', '188', '189', '191', '198', '199'];

// ---------------------------------------------------------------------------
// American names

// Canonical:nickname,… in rough order of frequency; weights fall off with rank.
const US_FIRST_ROWS = {
  male: 'James:Jim,Jimmy,Jamie|Robert:Bob,Rob,Bobby|John:Jack,Johnny|Michael:Mike|David:Dave|William:Bill,Will,Billy|Richard:Rick,Rich,Dick|Joseph:Joe,Joey|Thomas:Tom,Tommy|Christopher:Chris|Charles:Charlie,Chuck|Daniel:Dan,Danny|Matthew:Matt|Anthony:Tony|Mark|Donald:Don|Steven:Steve|Andrew:Andy,Drew|Paul|Joshua:Josh|Kenneth:Ken,Kenny|Kevin|Brian|George|Timothy:Tim|Ronald:Ron|Jason|Edward:Ed,Eddie,Ted|Jeffrey:Jeff|Ryan|Jacob:Jake|Gary|Nicholas:Nick|Eric|Jonathan:Jon|Stephen:Steve|Larry|Justin|Scott|Brandon|Benjamin:Ben|Samuel:Sam|Gregory:Greg|Alexander:Alex|Patrick:Pat|Frank|Raymond:Ray|Jack|Dennis|Jerry|Tyler|Aaron|Jose|Adam|Nathan:Nate|Henry:Hank|Zachary:Zach|Douglas:Doug|Peter:Pete|Kyle|Noah|Ethan|Jeremy|Walter:Walt|Keith|Austin|Roger|Sean|Gerald:Jerry|Carl|Dylan|Harold:Harry|Jordan|Jesse|Bryan|Lawrence:Larry|Arthur:Art|Gabriel:Gabe|Bruce|Logan|Alan|Juan|Albert:Al|Wayne|Randy|Mason|Vincent:Vince|Liam|Roy|Caleb|Bradley:Brad|Russell:Russ|Lucas|Luis|Carlos|Kyung|Minh|Raj',
  female: 'Mary|Patricia:Pat,Patty,Trish|Jennifer:Jen,Jenny|Linda|Elizabeth:Liz,Beth,Betsy,Lizzie|Barbara:Barb|Susan:Sue,Susie|Jessica:Jess|Sarah|Karen|Lisa|Nancy|Betty|Sandra:Sandy|Margaret:Maggie,Peggy,Meg|Ashley|Kimberly:Kim|Emily|Donna|Michelle|Carol|Amanda:Mandy|Melissa:Missy|Deborah:Deb,Debbie|Stephanie:Steph|Dorothy:Dot|Rebecca:Becky|Sharon|Laura|Cynthia:Cindy|Amy|Kathleen:Kathy|Angela:Angie|Shirley|Brenda|Emma|Anna|Pamela:Pam|Nicole:Nikki|Samantha:Sam|Katherine:Kate,Katie,Kathy|Christine:Chris|Helen|Debra:Deb|Rachel|Carolyn|Janet|Maria|Catherine:Cathy,Kate|Heather|Diane|Olivia|Julie|Joyce|Victoria:Vicky,Tori|Ruth|Virginia:Ginny|Lauren|Kelly|Christina:Tina|Joan|Evelyn|Judith:Judy|Andrea|Hannah|Megan:Meg|Cheryl|Jacqueline:Jackie|Martha|Madison|Teresa:Terry|Gloria|Sara|Janice|Ann:Annie|Abigail:Abby|Sophia:Sophie|Frances:Fran|Jean|Alice|Isabella:Bella|Julia|Grace|Amber|Denise|Danielle|Marilyn|Beverly:Bev|Charlotte|Natalie|Diana|Brittany|Doris|Kayla|Alexis|Lori|Rosa|Priya|Mei',
};

interface UsFirst {
  name: string;
  nicknames: readonly string[];
}

function usFirstTable(rows: string): Weighted<UsFirst> {
  return weighted(
    rows.split('|').map((row, rank) => {
      const [name, nicks] = row.split(':') as [string, string | undefined];
      return [{ name, nicknames: nicks ? nicks.split(',') : [] }, 1 / (rank + 8)] as const;
    }),
  );
}

const US_FIRST = { male: usFirstTable(US_FIRST_ROWS.male), female: usFirstTable(US_FIRST_ROWS.female) };

// Census 2010 counts per 100,000 people for the most common surnames...
const US_SURNAME_HEAD: ReadonlyArray<readonly [string, number]> = `Smith 828|Johnson 655|Williams 551|Brown 487|Jones 483|Garcia 394|Miller 382|Davis 370|Rodriguez 350|Martinez 339|Hernandez 339|Lopez 263|Gonzalez 255|Wilson 242|Anderson 240|Thomas 236|Taylor 233|Moore 216|Jackson 211|Martin 207|Lee 203|Perez 193|Thompson 183|White 181|Harris 167|Sanchez 164|Clark 149|Ramirez 145|Lewis 143|Robinson 142|Walker 140|Young 131|Allen 129|King 127|Wright 126|Scott 118|Torres 117|Nguyen 116|Hill 116|Flores 116|Green 116|Adams 114|Nelson 113|Baker 111|Hall 111|Rivera 104|Campbell 102|Mitchell 102|Carter 100|Roberts 99|Gomez 88|Phillips 88|Evans 87|Turner 87|Diaz 86|Parker 84|Cruz 83|Edwards 83|Collins 83|Reyes 82|Stewart 82|Morris 78|Morales 77|Murphy 76|Cook 75|Rogers 75|Gutierrez 73|Ortiz 72|Morgan 72|Cooper 71|Peterson 71|Bailey 70|Reed 69|Kelly 67|Howard 66|Ramos 66|Kim 66|Cox 65|Ward 65|Richardson 64|Watson 63|Brooks 63|Chavez 63|Wood 62|James 62|Bennett 61|Gray 61|Mendoza 61|Ruiz 60|Hughes 59|Price 59|Alvarez 59|Castillo 58|Sanders 58|Patel 58|Myers 57|Long 57|Ross 57|Foster 57|McDonald 30|O'Brien 25|McCarthy 20|O'Connor 20|MacDonald 10|De La Cruz 8|Van Dyke 5|St. John 3`
  .split('|')
  .map((row) => {
    const at = row.lastIndexOf(' ');
    return [row.slice(0, at), Number(row.slice(at + 1))] as const;
  });
// ...and a long tail made of common English surname parts, so that full-name
// collisions are about as rare as among real Americans rather than everywhere.
const US_SURNAME_TAIL: ReadonlyArray<readonly [string, number]> = (() => {
  const heads = 'Ash Bar Bel Black Brad Brook Burn Car Chad Chester Craw Dal Dun Ell Fair Fen Gar Gold Green Hal Hart Hay Hol Kings Lang Lind Mar Mel New Nor Pen Red Ros Rut Shel Stan Stock Thorn Wal West Whit Wood Win Cald Hamp Pres Rad Sel Trow'.split(' ');
  const tails = 'ford ley ton man er field well wood by son dale more ham ridge stone worth wick low shaw combe'.split(' ');
  const out: Array<readonly [string, number]> = [];
  // The top hundred cover ~13,300 per 100,000 Americans (2010 census); the other 87% share the tail.
  const each = (100_000 - 13_300) / (heads.length * tails.length);
  for (const h of heads) for (const t of tails) out.push([h + t, each]);
  return out;
})();
const US_SURNAMES = weighted([...US_SURNAME_HEAD, ...US_SURNAME_TAIL]);

// ---------------------------------------------------------------------------
// American places: city|state|ZIP prefixes|area codes|weight

interface UsCity {
  city: string;
  state: string;
  zip3: readonly string[];
  areas: readonly string[];
}

const US_CITIES = weighted(
  `New York|NY|100,101,102,103,104|212,646,718,917|8.3
Los Angeles|CA|900,901,902,910|213,310,323,818|3.9
Chicago|IL|606,607|312,773|2.7
Houston|TX|770,772|713,832,281|2.3
Phoenix|AZ|850|602,480|1.6
Philadelphia|PA|191|215,267|1.6
San Antonio|TX|782|210|1.4
San Diego|CA|921|619,858|1.4
Dallas|TX|752|214,469,972|1.3
San Jose|CA|951|408|1.0
Austin|TX|787|512|1.0
Jacksonville|FL|322|904|0.9
Columbus|OH|432|614|0.9
Charlotte|NC|282|704|0.9
San Francisco|CA|941|415,628|0.9
Indianapolis|IN|462|317|0.9
Seattle|WA|981|206|0.7
Denver|CO|802|303,720|0.7
Boston|MA|021|617,857|0.7
Nashville|TN|372|615|0.7
Portland|OR|972|503,971|0.6
Las Vegas|NV|891|702|0.6
Detroit|MI|482|313|0.6
Atlanta|GA|303|404,678|0.5
Miami|FL|331|305,786|0.4
Minneapolis|MN|554|612|0.4
Springfield|IL|627|217|0.1
Springfield|MA|011|413|0.15
Springfield|MO|658|417|0.15
Portland|ME|041|207|0.07`
    .split('\n')
    .map((line) => {
      const [city, state, zips, areas, weight] = line.split('|') as [string, string, string, string, string];
      return [{ city, state, zip3: zips.split(','), areas: areas.split(',') }, Number(weight)] as const;
    }),
);

const US_STATE_NAMES: Readonly<Record<string, string>> = {
  NY: 'New York', CA: 'California', IL: 'Illinois', TX: 'Texas', AZ: 'Arizona', PA: 'Pennsylvania', FL: 'Florida', OH: 'Ohio', NC: 'North Carolina', IN: 'Indiana',
  WA: 'Washington', CO: 'Colorado', MA: 'Massachusetts', TN: 'Tennessee', OR: 'Oregon', NV: 'Nevada', MI: 'Michigan', GA: 'Georgia', MN: 'Minnesota', MO: 'Missouri', ME: 'Maine',
};

const US_STREETS = 'Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Walnut Sunset Lincoln Jackson Church River Spring Highland Jefferson Madison Franklin Ridge Willow Chestnut Center Forest Meadow Adams Broadway Mill Union Cherry Lakeview Valley Dogwood Sycamore Hickory Magnolia Birch Laurel Prospect Grand Market Front Water Bay Harbor Woodland Orchard Colonial'.split(' ');
const US_ORDINALS = Array.from({ length: 40 }, (_, i) => ordinal(i + 1));
// [full, USPS abbreviation]
const US_SUFFIXES: ReadonlyArray<readonly [string, string]> = [['Street', 'St'], ['Avenue', 'Ave'], ['Road', 'Rd'], ['Drive', 'Dr'], ['Lane', 'Ln'], ['Boulevard', 'Blvd'], ['Court', 'Ct'], ['Place', 'Pl'], ['Way', 'Way'], ['Circle', 'Cir'], ['Terrace', 'Ter'], ['Parkway', 'Pkwy']];
const US_SUFFIX_WEIGHTS = weighted(US_SUFFIXES.map((_, i) => [i, [30, 22, 14, 12, 8, 4, 4, 2, 2, 1, 0.5, 0.5][i]!] as const));
const US_DIRECTIONS: ReadonlyArray<readonly [string, string]> = [['North', 'N'], ['South', 'S'], ['East', 'E'], ['West', 'W']];

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const last = n % 10;
  return `${n}${teen ? 'th' : last === 1 ? 'st' : last === 2 ? 'nd' : last === 3 ? 'rd' : 'th'}`;
}

// ---------------------------------------------------------------------------
// Email

const CN_EMAIL_DOMAINS = weighted([['qq.com', 40], ['163.com', 20], ['126.com', 8], ['sina.com', 5], ['foxmail.com', 4], ['gmail.com', 6], ['hotmail.com', 4], ['outlook.com', 4], ['139.com', 3], ['yeah.net', 2], ['sohu.com', 2], ['icloud.com', 2]] as const);
const US_EMAIL_DOMAINS = weighted([['gmail.com', 45], ['yahoo.com', 15], ['hotmail.com', 10], ['outlook.com', 8], ['icloud.com', 7], ['aol.com', 5], ['comcast.net', 3], ['msn.com', 2], ['live.com', 2], ['sbcglobal.net', 2], ['verizon.net', 1]] as const);
const WORK_DOMAINS = ['contoso.com', 'fabrikam.com', 'northwindtraders.com', 'tailspintoys.com', 'adventure-works.com', 'litwareinc.com', 'wingtiptoys.com', 'proseware.com', 'blueyonderairlines.com', 'cohowinery.com', 'fourthcoffee.com', 'lucernepublishing.com', 'margiestravel.com', 'treyresearch.net', 'woodgrovebank.com', 'alpineskihouse.com', 'humongousinsurance.com', 'relecloud.com', 'wideworldimporters.com', 'tailwindtraders.com'];
const DOMAIN_SLIPS: Readonly<Record<string, string>> = { 'gmail.com': 'gmial.com', 'hotmail.com': 'hotmial.com', 'yahoo.com': 'yahooo.com', 'qq.com': 'qq.con', '163.com': '163.cm', 'outlook.com': 'outlok.com', 'icloud.com': 'icloud.co', '126.com': '126.con' };

// What clerks and forms put in a field they must fill and cannot: junk that
// cleaning may or may not catch, and that many unrelated people then share.
const JUNK = {
  name: ['N/A', '-', 'test', '无', '顾客', 'customer', '.'],
  phone: ['', '-', '00000000000', '13800000000', '13888888888', '1234567890', 'N/A', '0'],
  email: ['', 'none', 'n/a', 'no@email.com', 'noemail@qq.com', 'test@test.com', 'na@na.com'],
  date: ['', '1900-01-01', '01/01/1900', 'unknown', '0'],
  address: ['', '-', '无', 'N/A', 'same'],
};

// ---------------------------------------------------------------------------
// People

type Culture = 'cn' | 'us';
type Gender = 'male' | 'female';

interface CnPlace {
  kind: 'cn';
  city: CnCity;
  district: string;
  road: string;
  number: number;
  /** compound and flat (阳光花园3栋502室), when the address has one */
  unit: string | undefined;
  postcode: string;
}

interface UsPlace {
  kind: 'us';
  city: UsCity;
  number: number;
  direction: number; // index into US_DIRECTIONS, -1: none
  street: string;
  suffix: number; // index into US_SUFFIXES
  unit: string | undefined; // '4B'
  zip: string;
}

type Place = CnPlace | UsPlace;

interface Person {
  entity: number;
  culture: Culture;
  gender: Gender;
  /** Han (CN) or Latin (US) */
  family: string;
  given: string;
  /** pinyin for Chinese people; the same as family/given for Americans */
  familyLatin: string;
  givenLatin: string;
  middle: string | undefined;
  nicknames: readonly string[];
  /** the nickname the person goes by, when they go by one */
  goesBy: string | undefined;
  english: string | undefined;
  suffix: string | undefined;
  maiden: string | undefined;
  year: number;
  month: number;
  day: number;
  emails: string[];
  /** national numbers: 11 digits (CN mobile) or 10 (US) */
  phones: string[];
  landline: string | undefined;
  home: Place;
  previous: Place | undefined;
  nationalId: string | undefined;
}

/** The name and city of a recent person, for namesakes. */
interface NameSeed {
  family: string;
  given: string;
  familyLatin: string;
  givenLatin: string;
  gender: Gender;
  nicknames: readonly string[];
  city: CnCity | UsCity;
}

const RECENT = 512;

const AS_OF_YEAR = SYNTHETIC_AS_OF.getUTCFullYear();

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!;
}

/**
 * Messy bilingual customer records with ground truth. Deterministic for a
 * seed; records come shuffled, as systems deliver them, not grouped by person.
 */
export function generatePeople(options: PeopleOptions): SyntheticPeople {
  const total = Math.max(0, Math.floor(options.entities));
  const d = new Draw(mulberry32(options.seed ?? 1));
  const chineseShare = options.chineseShare ?? 0.55;
  const householdRate = options.householdRate ?? 0.08;
  const namesakeRate = options.namesakeRate ?? 0.03;
  const movedRate = options.movedRate ?? 0.12;
  const noise = options.noise ?? 1;
  const stats: PeopleStats = { households: 0, householdMembers: 0, twins: 0, juniors: 0, namesakes: 0, namesakesSameCity: 0, moved: 0 };
  const usedEmails = new Set<number>();
  const recent: Record<Culture, NameSeed[]> = { cn: [], us: [] };
  const records: SyntheticRecord[] = [];
  const render = new Renderer(d, noise);

  let entity = 0;
  const newPerson = (culture: Culture, gender: Gender, age: number, home: Place): Person => {
    const year = AS_OF_YEAR - age - (d.chance(0.5) ? 1 : 0);
    const month = d.range(1, 12);
    const p: Person = {
      entity: entity++,
      culture,
      gender,
      family: '',
      given: '',
      familyLatin: '',
      givenLatin: '',
      middle: undefined,
      nicknames: [],
      goesBy: undefined,
      english: undefined,
      suffix: undefined,
      maiden: undefined,
      year,
      month,
      day: d.range(1, daysIn(year, month)),
      emails: [],
      phones: [],
      landline: undefined,
      home,
      previous: undefined,
      nationalId: undefined,
    };
    if (culture === 'cn') {
      const [family, familyLatin] = d.from(CN_SURNAMES);
      p.family = family;
      p.familyLatin = familyLatin;
      [p.given, p.givenLatin] = cnGiven(d, gender);
      if (d.chance(0.15)) p.english = d.pick(CN_ENGLISH[gender]);
    } else {
      p.family = p.familyLatin = d.from(US_SURNAMES);
      setUsGiven(d, p, d.from(US_FIRST[gender]));
      if (d.chance(0.7)) p.middle = d.from(US_FIRST[d.chance(0.85) ? gender : gender === 'male' ? 'female' : 'male']).name;
    }
    return p;
  };

  /** Phones, emails and ID: after the name is final, since emails are made from it. */
  const finish = (p: Person): void => {
    // Americans keep the number they got where they first lived: the area code need not be the home's.
    const usCity = (): UsCity => (p.home.kind === 'us' && d.chance(0.7) ? p.home.city : d.from(US_CITIES));
    p.phones.push(p.culture === 'cn' ? cnMobile(d) : usNumber(d, usCity()));
    if (d.chance(0.18)) p.phones.push(p.culture === 'cn' ? cnMobile(d) : usNumber(d, usCity()));
    p.emails.push(makeEmail(d, p, usedEmails, false));
    if (d.chance(0.25)) p.emails.push(makeEmail(d, p, usedEmails, d.chance(0.5)));
    if (p.culture === 'cn' && d.chance(0.3)) p.nationalId = residentId(d, p);
    const seeds = recent[p.culture];
    const seed: NameSeed = { family: p.family, given: p.given, familyLatin: p.familyLatin, givenLatin: p.givenLatin, gender: p.gender, nicknames: p.nicknames, city: p.home.city };
    if (seeds.length < RECENT) seeds.push(seed);
    else seeds[d.int(RECENT)] = seed;
  };

  const emit = (p: Person): void => {
    const k = 1 + d.from(SOURCE_COUNTS);
    const affinity = SOURCE_AFFINITY[p.culture];
    const taken = [false, false, false, false];
    for (let n = 0; n < k; n++) {
      let sum = 0;
      for (let i = 0; i < 4; i++) if (!taken[i]) sum += affinity[i]!;
      let x = d.next() * sum;
      let chosen = 0;
      for (let i = 0; i < 4; i++) {
        if (taken[i]) continue;
        chosen = i;
        x -= affinity[i]!;
        if (x < 0) break;
      }
      taken[chosen] = true;
      records.push({ entity: p.entity, source: SOURCE_IDS[chosen]!, traits: render.record(p, SOURCE_IDS[chosen]!) });
    }
  };

  while (entity < total) {
    const culture: Culture = d.chance(chineseShare) ? 'cn' : 'us';
    const left = total - entity;
    if (left >= 2 && d.chance(householdRate)) {
      const members = household(d, culture, Math.min(left, 2 + d.from(HOUSEHOLD_EXTRA)), newPerson, stats);
      if (d.chance(movedRate)) {
        const previous = newPlace(d, culture, d.chance(0.6) ? members[0]!.home.city : undefined);
        for (const m of members) m.previous = previous;
        stats.moved += members.length;
      }
      for (const m of members) finish(m);
      for (const m of members) emit(m);
      continue;
    }
    const gender: Gender = d.chance(0.5) ? 'male' : 'female';
    const seeds = recent[culture];
    const namesake = seeds.length > 0 && d.chance(namesakeRate) ? d.pick(seeds) : undefined;
    const sameCity = namesake !== undefined && d.chance(0.5);
    const home = newPlace(d, culture, sameCity ? namesake.city : undefined);
    const p = newPerson(culture, namesake?.gender ?? gender, adultAge(d), home);
    if (namesake) {
      p.family = namesake.family;
      p.given = namesake.given;
      p.familyLatin = namesake.familyLatin;
      p.givenLatin = namesake.givenLatin;
      p.nicknames = namesake.nicknames;
      p.goesBy = p.nicknames.length > 0 && d.chance(0.35) ? d.pick(p.nicknames) : undefined;
      stats.namesakes++;
      if (sameCity) stats.namesakesSameCity++;
    }
    if (culture === 'us' && p.gender === 'female' && adultMarried(p) && d.chance(0.05)) p.maiden = d.from(US_SURNAMES);
    if (d.chance(movedRate)) {
      p.previous = newPlace(d, culture, d.chance(0.6) ? home.city : undefined);
      stats.moved++;
    }
    finish(p);
    emit(p);
  }

  // Systems deliver records in their own order, not one person at a time.
  for (let i = records.length - 1; i > 0; i--) {
    const j = d.int(i + 1);
    const t = records[i]!;
    records[i] = records[j]!;
    records[j] = t;
  }
  return { sources: SYNTHETIC_SOURCES.map((s) => ({ ...s, ...(s.countries ? { countries: [...s.countries] } : {}) })), records, stats };
}

/** How many people to ask for to get about `records` records. */
export function entitiesForRecords(records: number): number {
  return Math.max(1, Math.round(records / MEAN_SOURCES_PER_ENTITY));
}

const SOURCE_IDS: readonly SyntheticSourceId[] = ['crm', 'pos', 'web', 'survey'];
const SOURCE_COUNTS = weighted(SOURCE_COUNT_WEIGHTS.map((w, i) => [i, w] as const));
// How likely each source (crm, pos, web, survey) is to know a person: the tills are in China.
const SOURCE_AFFINITY: Record<Culture, readonly number[]> = { cn: [0.8, 0.7, 0.6, 0.35], us: [0.85, 0.15, 0.75, 0.4] };
// Household size beyond two.
const HOUSEHOLD_EXTRA = weighted([[0, 0.55], [1, 0.3], [2, 0.15]] as const);

// Adult customers by age band, as retail customer bases look (and adult
// populations roughly do): few under 25, most 25 to 54, a long tail of seniors.
const AGE_BANDS = weighted([[[18, 24], 12], [[25, 34], 22], [[35, 44], 20], [[45, 54], 17], [[55, 64], 15], [[65, 85], 14]] as const);

function adultAge(d: Draw): number {
  const [lo, hi] = d.from(AGE_BANDS);
  return d.range(lo, hi);
}

function adultMarried(p: Person): boolean {
  return AS_OF_YEAR - p.year >= 25;
}

function cnGiven(d: Draw, gender: Gender): [string, string] {
  if (d.chance(CN_GIVEN_TOP_SHARE)) {
    const [han, latin] = d.from(CN_GIVEN_TOP[gender]);
    return [han, latin];
  }
  const pool = CN_POOL[gender];
  const [a, al] = d.pick(pool);
  // A tenth of the rest have a one-character name from the pool.
  if (d.chance(0.1)) return [a, al];
  let [b, bl] = d.pick(pool);
  while (b === a) [b, bl] = d.pick(pool);
  return [a + b, al + bl.toLowerCase()];
}

function setUsGiven(d: Draw, p: Person, first: UsFirst): void {
  p.given = p.givenLatin = first.name;
  p.nicknames = first.nicknames;
  p.goesBy = first.nicknames.length > 0 && d.chance(0.35) ? d.pick(first.nicknames) : undefined;
}

/**
 * Two to four people at one address: a couple, then children or a parent.
 * Chinese wives keep their surname; American ones mostly take their husband's.
 */
function household(d: Draw, culture: Culture, size: number, newPerson: (c: Culture, g: Gender, age: number, home: Place) => Person, stats: PeopleStats): Person[] {
  const home = newPlace(d, culture, undefined);
  const landline = d.chance(culture === 'cn' ? 0.35 : 0.4) ? landlineOf(d, home) : undefined;
  const headGender: Gender = d.chance(0.75) ? 'male' : 'female';
  const headAge = d.range(30, 70);
  const head = newPerson(culture, headGender, headAge, home);
  const spouse = newPerson(culture, headGender === 'male' ? 'female' : 'male', Math.max(20, headAge + d.range(-6, 6)), home);
  const husband = headGender === 'male' ? head : spouse;
  if (culture === 'us' && d.chance(0.72)) {
    const wife = husband === head ? spouse : head;
    wife.maiden = d.chance(0.3) ? wife.family : undefined;
    wife.family = wife.familyLatin = husband.family;
  }
  const members = [head, spouse];
  let lastChild: Person | undefined;
  while (members.length < size) {
    const childAge = headAge - d.range(22, 38);
    if (childAge >= 16) {
      const twin = lastChild !== undefined && d.chance(0.2);
      const child = newPerson(culture, d.chance(0.5) ? 'male' : 'female', twin ? AS_OF_YEAR - lastChild!.year : childAge, home);
      child.family = husband.family;
      child.familyLatin = husband.familyLatin;
      if (culture === 'cn' && d.chance(0.08)) {
        child.family = (husband === head ? spouse : head).family;
        child.familyLatin = (husband === head ? spouse : head).familyLatin;
      }
      if (twin && lastChild) {
        child.year = lastChild.year;
        child.month = lastChild.month;
        child.day = lastChild.day;
        stats.twins++;
        // Chinese twins often share the first character of their names (浩然, 浩宇).
        const first = lastChild.given[0]!;
        const firstLatin = HAN_PINYIN.get(first);
        if (culture === 'cn' && lastChild.given.length === 2 && firstLatin !== undefined && d.chance(0.5)) {
          const pool = CN_POOL[child.gender];
          let [c, cl] = d.pick(pool);
          while (c === lastChild.given[1]) [c, cl] = d.pick(pool);
          child.given = first + c;
          child.givenLatin = firstLatin + cl.toLowerCase();
        }
      }
      if (culture === 'us' && child.gender === 'male' && head.gender === 'male' && !twin && d.chance(0.12)) {
        child.given = child.givenLatin = head.given;
        child.nicknames = head.nicknames;
        child.goesBy = head.goesBy === undefined ? undefined : d.chance(0.5) ? head.goesBy : undefined;
        child.middle = head.middle;
        child.suffix = 'Jr.';
        head.suffix = 'Sr.';
        stats.juniors++;
      }
      lastChild = child;
      members.push(child);
    } else {
      // Too young to have adult children: a parent of the head lives with them.
      const parent = newPerson(culture, d.chance(0.6) ? 'female' : 'male', Math.min(92, headAge + d.range(24, 34)), home);
      if (parent.gender === 'male' || culture === 'us') {
        parent.family = head.family;
        parent.familyLatin = head.familyLatin;
      }
      members.push(parent);
    }
  }
  for (const m of members) m.landline = landline;
  stats.households++;
  stats.householdMembers += members.length;
  return members;
}

function newPlace(d: Draw, culture: Culture, city: CnCity | UsCity | undefined): Place {
  if (culture === 'cn') {
    const c = (city as CnCity | undefined) ?? d.from(CN_CITIES);
    const district = d.pick(c.districts);
    const n = d.next();
    // Most homes are flats in a compound; the flat number tells households apart.
    const unit = d.chance(0.75)
      ? `${d.chance(0.4) ? d.pick(CN_COMPOUNDS) : ''}${d.range(1, 30)}${d.chance(0.6) ? '栋' : '号楼'}${d.chance(0.4) ? `${d.range(1, 4)}单元` : ''}${d.range(1, 33)}${String(d.range(1, 8)).padStart(2, '0')}室`
      : undefined;
    return { kind: 'cn', city: c, district: district.name, road: d.pick(district.roads), number: n < 0.6 ? d.range(1, 300) : d.range(301, 1999), unit, postcode: c.postPrefix + d.digits(3) };
  }
  const c = (city as UsCity | undefined) ?? d.from(US_CITIES);
  const big = c.city === 'New York' || c.city === 'Chicago' || c.city === 'San Francisco' || c.city === 'Boston';
  return {
    kind: 'us',
    city: c,
    number: d.chance(0.15) ? d.range(1, 99) : d.chance(0.5) ? d.range(100, 999) : d.range(1000, 9999),
    direction: d.chance(0.2) ? d.int(4) : -1,
    street: d.chance(0.2) ? d.pick(US_ORDINALS) : d.pick(US_STREETS),
    suffix: d.from(US_SUFFIX_WEIGHTS),
    unit: d.chance(big ? 0.6 : 0.25) ? `${d.range(1, 30)}${d.chance(0.3) ? String.fromCharCode(65 + d.int(6)) : ''}` : undefined,
    zip: d.pick(c.zip3) + d.digits(2),
  };
}

function cnMobile(d: Draw): string {
  return d.pick(CN_MOBILE_PREFIXES) + d.digits(8);
}

function usNumber(d: Draw, city: UsCity): string {
  // Exchange codes start 2–9 and are not N11 or the fictional 555.
  let exchange = '';
  do exchange = String(d.range(2, 9)) + d.digits(2);
  while (exchange === '555' || exchange.endsWith('11'));
  return d.pick(city.areas) + exchange + d.digits(4);
}

function landlineOf(d: Draw, home: Place): string {
  if (home.kind === 'us') return usNumber(d, home.city);
  // Area code without the trunk 0, then an eight-digit local number (two to nine first).
  return home.city.areaCode.slice(1) + String(d.range(2, 8)) + d.digits(7);
}

function makeEmail(d: Draw, p: Person, used: Set<number>, work: boolean): string {
  const f = asciiLower(p.familyLatin);
  const g = asciiLower(p.givenLatin);
  const yy = String(p.year).slice(2);
  let local: string;
  let domain: string;
  if (work) {
    domain = d.pick(WORK_DOMAINS);
    local = d.chance(0.6) ? `${g}.${f}` : `${g.slice(0, 1)}${f}`;
  } else if (p.culture === 'cn') {
    domain = d.from(CN_EMAIL_DOMAINS);
    const english = p.english === undefined ? undefined : asciiLower(p.english);
    const r = d.next();
    if (domain === 'qq.com' && r < 0.7) local = String(d.range(1, 9)) + d.digits(d.range(5, 9));
    else if (r < 0.25) local = f + g;
    else if (r < 0.4) local = `${g}.${f}`;
    else if (r < 0.55) local = f + g + yy;
    else if (r < 0.65) local = f + g + String(p.year);
    else if (r < 0.75) local = `${f.slice(0, 1)}${g.slice(0, 1)}${d.digits(d.range(3, 6))}`;
    else if (r < 0.85 && english) local = `${english}.${f}`;
    else if (r < 0.92) local = `${f}_${g}`;
    else local = `${g}${f}${d.digits(2)}`;
  } else {
    domain = d.from(US_EMAIL_DOMAINS);
    const nick = p.goesBy === undefined ? g : asciiLower(p.goesBy);
    const r = d.next();
    if (r < 0.25) local = `${g}.${f}`;
    else if (r < 0.4) local = g + f;
    else if (r < 0.5) local = g.slice(0, 1) + f;
    else if (r < 0.6) local = `${g}.${f}${d.range(1, 99)}`;
    else if (r < 0.7) local = nick + f;
    else if (r < 0.78) local = g + yy;
    else if (r < 0.84) local = `${g}_${f}`;
    else if (r < 0.9 && p.middle) local = g + asciiLower(p.middle).slice(0, 1) + f;
    else local = `${nick}${f.slice(0, 1)}${d.digits(d.range(2, 4))}`;
  }
  // An address belongs to one person: a taken one gets digits, as a sign-up form would insist.
  // Gmail ignores dots, so j.smith and jsmith are one mailbox and cannot go to two people.
  const mailbox = (l: string) => fingerprint(domain === 'gmail.com' ? `${l.replaceAll('.', '')}@gmail.com` : `${l}@${domain}`);
  let candidate = local;
  for (let tries = 0; used.has(mailbox(candidate)); tries++) candidate = local + d.digits(1 + (tries >> 1));
  used.add(mailbox(candidate));
  return `${candidate}@${domain}`;
}

/**
 * FNV-1a, 31 bits: a set of small integers is several times faster than a set
 * of strings; a false "taken" only costs a free address a few digits.
 */
function fingerprint(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 1;
}

/** Letters and digits only, lower case: what an email's local part keeps of a name (O'Brien → obrien). */
function asciiLower(s: string): string {
  const lower = s.toLowerCase();
  let out = '';
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) out += lower[i];
  }
  return out;
}

/** A valid 18-digit resident ID: region, birth date, sequence (odd for men), ISO 7064 MOD 11-2 check. */
function residentId(d: Draw, p: Person): string {
  // Born elsewhere, often: the region is the birthplace, not the home.
  const region = p.home.kind === 'cn' && d.chance(0.5) ? p.home.city.regionCode : d.from(CN_CITIES).regionCode;
  let seq = d.range(0, 499) * 2 + (p.gender === 'male' ? 1 : 0);
  seq %= 1000;
  const body = `${region}${p.year}${pad2(p.month)}${pad2(p.day)}${String(seq).padStart(3, '0')}`;
  return body + idCheck(body);
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function idCheck(body17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (body17.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
  return '10X98765432'[sum % 11]!;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// ---------------------------------------------------------------------------
// Rendering: one person as one source records them

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const KEYBOARD: Readonly<Record<string, string>> = {
  a: 'qsz', b: 'vgn', c: 'xvd', d: 'sfe', e: 'wrd', f: 'dgr', g: 'fht', h: 'gjy', i: 'uok', j: 'hku', k: 'jli', l: 'kop', m: 'nj', n: 'bmh', o: 'ipl', p: 'ol', q: 'wa', r: 'etf', s: 'adw', t: 'ryg', u: 'yij', v: 'cbf', w: 'qes', x: 'zcs', y: 'tuh', z: 'xa',
};

class Renderer {
  constructor(
    private readonly d: Draw,
    private readonly noise: number,
  ) {}

  private slip(p: number): boolean {
    return this.d.next() < p * this.noise;
  }

  record(p: Person, source: SyntheticSourceId): Record<string, unknown> {
    switch (source) {
      case 'crm':
        return this.crm(p);
      case 'pos':
        return this.pos(p);
      case 'web':
        return this.web(p);
      case 'survey':
        return this.survey(p);
    }
  }

  /** Staff-entered: a full name, often an email and phone, sometimes the ID card. */
  private crm(p: Person): Record<string, unknown> {
    const d = this.d;
    const t: Record<string, unknown> = {};
    if (d.chance(0.97)) t.name = this.junk('name') ?? this.fullName(p, 'crm');
    if (d.chance(0.7)) t.email = this.junk('email') ?? this.email(p);
    if (d.chance(0.8)) t.phone = this.junk('phone') ?? this.phone(p, 'crm');
    if (d.chance(0.55)) t.birthday = this.junk('date') ?? this.date(p, 'crm');
    if (d.chance(0.6)) t.gender = this.gender(p, p.culture === 'cn' && d.chance(0.3) ? ['男', '女'] : ['M', 'F']);
    if (d.chance(0.55)) t.address = this.junk('address') ?? this.addressLine(this.place(p));
    if (p.nationalId && d.chance(0.4)) t.nationalId = this.slip(0.01) ? digitSlip(d, p.nationalId) : p.nationalId;
    return t;
  }

  /** The till: a phone number is the loyalty card; the rest is what the cashier bothered to type. */
  private pos(p: Person): Record<string, unknown> {
    const d = this.d;
    const t: Record<string, unknown> = {};
    if (d.chance(0.85)) t.name = this.junk('name') ?? this.fullName(p, 'pos');
    if (d.chance(0.95)) t.mobile = this.slip(0.02) ? d.pick(JUNK.phone) : this.phone(p, 'pos');
    if (d.chance(0.45)) t.birthday = this.junk('date') ?? this.date(p, 'pos');
    if (d.chance(0.7)) t.gender = this.gender(p, p.culture === 'cn' ? ['男', '女'] : ['M', 'F']);
    if (d.chance(0.1)) t.email = this.junk('email') ?? this.email(p);
    if (d.chance(0.15)) t.address = this.junk('address') ?? this.addressLine(this.place(p));
    else if (d.chance(0.4)) t.city = this.city(this.place(p));
    return t;
  }

  /** Self-entered web account: first and last name fields, email login, a structured address. */
  private web(p: Person): Record<string, unknown> {
    const d = this.d;
    const t: Record<string, unknown> = {};
    if (d.chance(0.95)) {
      const [first, last] = this.nameParts(p);
      t.firstName = first;
      t.lastName = last;
    }
    t.email = d.chance(0.98) ? this.email(p) : '';
    if (d.chance(0.6)) t.phone = this.phone(p, 'web');
    else if (d.chance(0.2)) t.phone = '';
    if (d.chance(0.25)) t.birthday = this.date(p, 'web');
    if (d.chance(0.3)) t.gender = this.gender(p, ['male', 'female']);
    if (d.chance(0.65)) t.address = this.addressObject(this.place(p));
    return t;
  }

  /** A survey: free-text name, day-first dates, a city rather than an address. */
  private survey(p: Person): Record<string, unknown> {
    const d = this.d;
    const t: Record<string, unknown> = {};
    if (d.chance(0.9)) t.name = this.junk('name') ?? this.fullName(p, 'survey');
    if (d.chance(0.75)) t.email = this.junk('email') ?? this.email(p);
    if (d.chance(0.35)) t.phone = this.junk('phone') ?? this.phone(p, 'survey');
    if (d.chance(0.5)) t.dob = this.junk('date') ?? this.date(p, 'survey');
    if (d.chance(0.7)) t.gender = this.gender(p, p.culture === 'cn' && d.chance(0.5) ? ['男', '女'] : ['Male', 'Female']);
    if (d.chance(0.6)) {
      const place = this.place(p);
      t.city = this.city(place);
      if (d.chance(0.3)) {
        if (place.kind === 'us') t.state = d.chance(0.6) ? place.city.state : US_STATE_NAMES[place.city.state];
        else t.province = d.chance(0.5) ? place.city.provinceShort : place.city.province;
      }
    }
    return t;
  }

  private junk(kind: keyof typeof JUNK): string | undefined {
    return this.slip(0.01) ? this.d.pick(JUNK[kind]) : undefined;
  }

  /** The address a source holds: after a move, some still have the old one. */
  private place(p: Person): Place {
    return p.previous !== undefined && this.d.chance(0.4) ? p.previous : p.home;
  }

  // --- names

  private familyFor(p: Person): string {
    // A maiden name survives in a fifth of the records of a woman who changed hers.
    return p.maiden !== undefined && this.d.chance(0.2) ? p.maiden : p.family;
  }

  private usGiven(p: Person, source: SyntheticSourceId): string {
    const d = this.d;
    if (p.goesBy !== undefined) {
      const informal = source === 'crm' ? 0.3 : source === 'web' ? 0.6 : 0.8;
      if (d.chance(informal)) return p.goesBy;
    } else if (p.nicknames.length > 0 && d.chance(0.05)) {
      return d.pick(p.nicknames);
    }
    return p.given;
  }

  private latinSlip(s: string): string {
    return this.slip(0.03) ? typo(this.d, s) : s;
  }

  private hanSlip(s: string): string {
    if (!this.slip(0.015)) return s;
    const chars = [...s];
    const i = this.d.int(chars.length);
    const alt = HAN_SLIPS.get(chars[i]!);
    if (alt === undefined) return s;
    chars[i] = [...alt][this.d.int([...alt].length)]!;
    return chars.join('');
  }

  private fullName(p: Person, source: SyntheticSourceId): string {
    const d = this.d;
    if (p.culture === 'cn') {
      const r = d.next();
      const han = source === 'survey' ? 0.45 : source === 'crm' ? 0.88 : 0.92;
      if (r < han) {
        if (source === 'pos' && d.chance(0.05)) return this.hanSlip(p.family) + (p.gender === 'male' ? '先生' : '女士');
        const name = this.hanSlip(p.family + p.given);
        return d.chance(0.03) ? `${name.slice(0, p.family.length)} ${name.slice(p.family.length)}` : name;
      }
      const fam = this.latinSlip(p.familyLatin);
      const giv = this.latinSlip(p.givenLatin);
      if (p.english !== undefined && d.chance(0.3)) return `${p.english} ${fam}`;
      if (source === 'crm') return d.chance(0.6) ? `${fam} ${giv}`.toUpperCase() : `${fam} ${giv}`;
      const s = d.next();
      if (s < 0.45) return `${fam} ${giv}`;
      if (s < 0.8) return `${giv} ${fam}`;
      if (s < 0.92) return `${fam.toUpperCase()} ${giv}`;
      return `${fam} ${giv}`.toLowerCase();
    }
    const first = this.latinSlip(this.usGiven(p, source));
    const last = this.latinSlip(this.familyFor(p));
    const mid = p.middle === undefined ? undefined : d.chance(0.3) ? `${p.middle[0]}.` : d.chance(0.05) ? p.middle : d.chance(0.05) ? p.middle[0] : undefined;
    const suffix = p.suffix !== undefined && d.chance(0.4) ? ` ${p.suffix}` : '';
    let name: string;
    const r = d.next();
    if (source === 'crm' && r < 0.2) name = `${last}${suffix}, ${first}${mid ? ` ${mid}` : ''}`;
    else name = `${first}${mid ? ` ${mid}` : ''} ${last}${suffix}`;
    const c = d.next();
    const lower = source === 'survey' ? 0.2 : source === 'pos' ? 0.1 : 0.03;
    if (c < lower) return name.toLowerCase();
    if (c < lower + (source === 'crm' || source === 'pos' ? 0.1 : 0.02)) return name.toUpperCase();
    return name;
  }

  private nameParts(p: Person): [string, string] {
    const d = this.d;
    if (p.culture === 'cn') {
      if (d.chance(0.6)) return [this.hanSlip(p.given), this.hanSlip(p.family)];
      const first = p.english !== undefined && d.chance(0.3) ? p.english : this.latinSlip(p.givenLatin);
      const last = this.latinSlip(p.familyLatin);
      // Pinyin in the wrong boxes: the family name first, as it is said.
      if (d.chance(0.25)) return [last, first];
      return d.chance(0.1) ? [first.toLowerCase(), last.toUpperCase()] : [first, last];
    }
    let first = this.latinSlip(this.usGiven(p, 'web'));
    if (p.middle !== undefined && d.chance(0.1)) first += ` ${p.middle[0]}.`;
    let last = this.latinSlip(this.familyFor(p));
    if (p.suffix !== undefined && d.chance(0.2)) last += ` ${p.suffix}`;
    return d.chance(0.08) ? [first.toLowerCase(), last.toLowerCase()] : [first, last];
  }

  // --- contact

  private email(p: Person): string {
    const d = this.d;
    let email = p.emails.length > 1 && d.chance(0.35) ? p.emails[1]! : p.emails[0]!;
    const at = email.indexOf('@');
    let local = email.slice(0, at);
    let domain = email.slice(at + 1);
    if (domain === 'gmail.com') {
      // Gmail ignores dots and +tags, so people write them as they like.
      if (d.chance(0.1)) local = local.includes('.') ? local.replace(/\./g, '') : insertDot(d, local);
      if (d.chance(0.05)) local += `+${d.pick(['shop', 'promo', 'news', 'store'])}`;
      if (d.chance(0.02)) domain = 'googlemail.com';
    }
    if (this.slip(0.01)) local = typo(d, local);
    if (this.slip(0.01)) domain = DOMAIN_SLIPS[domain] ?? domain;
    email = `${local}@${domain}`;
    const c = d.next();
    if (c < 0.12) email = email[0]!.toUpperCase() + email.slice(1);
    else if (c < 0.15) email = email.toUpperCase();
    if (d.chance(0.06)) email = ` ${email} `;
    return email;
  }

  private phone(p: Person, source: SyntheticSourceId): string {
    const d = this.d;
    const landline = p.landline !== undefined && d.chance(source === 'crm' ? 0.15 : source === 'pos' ? 0.08 : 0.05);
    if (landline) return p.culture === 'cn' ? this.cnLandline(p.landline!) : this.usPhone(p.landline!, source);
    const number = p.phones.length > 1 && d.chance(0.35) ? p.phones[1]! : p.phones[0]!;
    const n = this.slip(0.01) ? digitSlip(d, number) : number;
    return p.culture === 'cn' ? this.cnMobile(n, source) : this.usPhone(n, source);
  }

  private cnMobile(n: string, source: SyntheticSourceId): string {
    const d = this.d;
    const a = n.slice(0, 3);
    const b = n.slice(3, 7);
    const c = n.slice(7);
    const r = d.next();
    switch (source) {
      case 'pos':
        return r < 0.85 ? n : r < 0.95 ? `${a} ${b} ${c}` : `${a}-${b}-${c}`;
      case 'web':
        return r < 0.4 ? `+86 ${a} ${b} ${c}` : r < 0.7 ? `+86${n}` : r < 0.85 ? n : `0086-${a}-${b}-${c}`;
      default:
        if (r < 0.35) return n;
        if (r < 0.55) return `${a} ${b} ${c}`;
        if (r < 0.65) return `${a}-${b}-${c}`;
        if (r < 0.78) return `+86 ${a} ${b} ${c}`;
        if (r < 0.85) return `+86${n}`;
        if (r < 0.9) return `0086${n}`;
        if (r < 0.95) return `(+86)${n}`;
        return d.chance(0.5) ? fullWidth(n) : `86-${n}`;
    }
  }

  private cnLandline(n: string): string {
    const d = this.d;
    // n: area code without 0, then the local number.
    const local = n.slice(-8);
    const area = `0${n.slice(0, n.length - 8)}`;
    const r = d.next();
    if (r < 0.4) return `${area}-${local}`;
    if (r < 0.55) return `${area} ${local.slice(0, 4)} ${local.slice(4)}`;
    if (r < 0.7) return `(${area})${local}`;
    if (r < 0.8) return `+86 ${area.slice(1)} ${local}`;
    if (r < 0.9) return `${area}${local}`;
    // People give their home number without the area code.
    return local;
  }

  private usPhone(n: string, source: SyntheticSourceId): string {
    const d = this.d;
    const a = n.slice(0, 3);
    const b = n.slice(3, 6);
    const c = n.slice(6);
    // A till in China needs the +1 to know it is foreign.
    if (source === 'pos') return d.chance(0.7) ? `+1 ${a} ${b} ${c}` : `001${n}`;
    const r = d.next();
    if (r < 0.3) return `(${a}) ${b}-${c}`;
    if (r < 0.5) return `${a}-${b}-${c}`;
    if (r < 0.6) return `${a}.${b}.${c}`;
    if (r < 0.72) return n;
    if (r < 0.82) return `+1 ${a} ${b} ${c}`;
    if (r < 0.9) return `1-${a}-${b}-${c}`;
    if (r < 0.95) return `+1${n}`;
    return `${a} ${b} ${c}`;
  }

  // --- dates

  private date(p: Person, source: SyntheticSourceId): string {
    const d = this.d;
    let { year, month, day } = p;
    // Keyed in day-first where month-first was meant, or the other way round.
    if (this.slip(0.01) && day <= 12 && day !== month) [month, day] = [day, month];
    else if (this.slip(0.01)) {
      if (d.chance(0.5)) year += d.chance(0.5) ? 1 : -1;
      else day = Math.min(daysIn(year, month), Math.max(1, day + (d.chance(0.5) ? 1 : -1)));
    }
    const r = d.next();
    switch (source) {
      case 'crm':
        if (r < 0.5) return `${year}-${pad2(month)}-${pad2(day)}`;
        if (r < 0.85) return `${pad2(month)}/${pad2(day)}/${year}`;
        return `${month}/${day}/${year}`;
      case 'pos':
        if (r < 0.3) return `${year}年${month}月${day}日`;
        if (r < 0.6) return `${year}/${month}/${day}`;
        if (r < 0.8) return `${year}${pad2(month)}${pad2(day)}`;
        if (r < 0.9) return `${year}-${pad2(month)}-${pad2(day)}`;
        return `${pad2(day)}/${pad2(month)}/${year}`;
      case 'web':
        if (r < 0.7) return `${pad2(month)}/${pad2(day)}/${year}`;
        if (r < 0.9) return `${year}-${pad2(month)}-${pad2(day)}`;
        return `${MONTHS[month - 1]!.slice(0, 3)} ${day}, ${year}`;
      case 'survey':
        // Americans answer a day-first form the way they write dates at home.
        if (p.culture === 'us' && d.chance(0.1)) return `${pad2(month)}/${pad2(day)}/${year}`;
        if (r < 0.5) return `${pad2(day)}/${pad2(month)}/${year}`;
        if (r < 0.75) return `${pad2(day)}.${pad2(month)}.${year}`;
        if (r < 0.9) return `${day} ${MONTHS[month - 1]} ${year}`;
        return `${year}-${pad2(month)}-${pad2(day)}`;
    }
  }

  private gender(p: Person, forms: readonly [string, string]): string {
    const male = this.slip(0.005) ? p.gender !== 'male' : p.gender === 'male';
    return male ? forms[0] : forms[1];
  }

  // --- addresses

  private addressLine(place: Place): string {
    return place.kind === 'cn' ? this.cnLine(place) : this.usLine(place);
  }

  private cnStreet(a: CnPlace, withUnit: boolean): string {
    const d = this.d;
    let road = a.road;
    if (this.slip(0.03)) {
      const chars = [...road];
      const i = d.int(chars.length);
      const alt = HAN_SLIPS.get(chars[i]!);
      if (alt !== undefined) chars[i] = alt[0]!;
      road = chars.join('');
    }
    const number = d.chance(0.03) ? fullWidth(String(a.number)) : String(a.number);
    return `${road}${number}号${withUnit && a.unit !== undefined ? a.unit : ''}`;
  }

  private cnLine(a: CnPlace): string {
    const d = this.d;
    const c = a.city;
    const street = this.cnStreet(a, d.chance(0.7));
    const r = d.next();
    if (r < 0.45) return `${c.municipality ? '' : c.province}${c.city}${a.district}${street}`;
    if (r < 0.65) return `${c.municipality ? '' : c.provinceShort}${c.cityShort}${a.district}${street}`;
    if (r < 0.8) return `${c.city}${a.district}${street}`;
    if (r < 0.92) return [c.municipality ? undefined : c.provinceShort, c.cityShort, a.district, street].filter(Boolean).join(' ');
    // The district left out.
    return `${c.municipality ? '' : c.province}${c.city}${street}`;
  }

  private usStreetLine(a: UsPlace): string {
    const d = this.d;
    const abbreviated = d.chance(0.65);
    const [suffixFull, suffixShort] = US_SUFFIXES[a.suffix]!;
    const direction = a.direction < 0 ? '' : `${d.chance(0.7) ? US_DIRECTIONS[a.direction]![1] : US_DIRECTIONS[a.direction]![0]} `;
    const street = this.slip(0.03) ? typo(d, a.street) : a.street;
    let line = `${a.number} ${direction}${street} ${abbreviated ? suffixShort : suffixFull}`;
    if (a.unit !== undefined && d.chance(0.75)) {
      const r = d.next();
      line += r < 0.5 ? ` Apt ${a.unit}` : r < 0.7 ? ` #${a.unit}` : r < 0.85 ? ` Apt. ${a.unit}` : ` Unit ${a.unit}`;
    }
    return line;
  }

  private usLine(a: UsPlace): string {
    const d = this.d;
    const line = this.usStreetLine(a);
    const state = d.chance(0.1) ? US_STATE_NAMES[a.city.state]! : a.city.state;
    const zip = d.chance(0.15) ? '' : d.chance(0.06) ? ` ${a.zip}-${d.digits(4)}` : ` ${a.zip}`;
    const city = this.slip(0.01) ? typo(d, a.city.city) : a.city.city;
    let text = d.chance(0.85) ? `${line}, ${city}, ${state}${zip}` : `${line} ${city} ${state}${zip}`;
    const c = d.next();
    if (c < 0.08) text = text.toLowerCase();
    else if (c < 0.12) text = text.toUpperCase();
    return text;
  }

  private addressObject(place: Place): Record<string, string> {
    const d = this.d;
    if (place.kind === 'cn') {
      const c = place.city;
      const out: Record<string, string> = { street: `${d.chance(0.85) ? place.district : ''}${this.cnStreet(place, d.chance(0.8))}`, city: d.chance(0.6) ? c.city : c.cityShort };
      if (!c.municipality || d.chance(0.5)) out.state = d.chance(0.6) ? c.province : c.provinceShort;
      if (d.chance(0.5)) out.postalCode = place.postcode;
      const country = d.next();
      out.country = country < 0.6 ? 'CN' : country < 0.8 ? 'China' : '中国';
      return out;
    }
    const out: Record<string, string> = { street: this.usStreetLine(place), city: place.city.city, state: d.chance(0.85) ? place.city.state : US_STATE_NAMES[place.city.state]! };
    if (d.chance(0.9)) out.postalCode = place.zip;
    if (d.chance(0.7)) out.country = d.chance(0.7) ? 'US' : 'United States';
    return out;
  }

  private city(place: Place): string {
    const d = this.d;
    if (place.kind === 'us') return d.chance(0.1) ? place.city.city.toLowerCase() : place.city.city;
    const r = d.next();
    return r < 0.4 ? place.city.cityShort : r < 0.7 ? place.city.city : r < 0.9 ? place.city.cityLatin : place.city.cityLatin.toLowerCase();
  }
}

/** One keyboard slip: a neighbouring key, a dropped, doubled or swapped letter; rarely the first letter. */
function typo(d: Draw, s: string): string {
  if (s.length < 3) return s;
  const i = d.chance(0.9) ? 1 + d.int(s.length - 1) : 0;
  const c = s[i]!;
  const r = d.next();
  if (r < 0.35) {
    const near = KEYBOARD[c.toLowerCase()];
    if (near === undefined) return s;
    let n = near[d.int(near.length)]!;
    if (c !== c.toLowerCase()) n = n.toUpperCase();
    return s.slice(0, i) + n + s.slice(i + 1);
  }
  if (r < 0.6) return s.slice(0, i) + s.slice(i + 1);
  if (r < 0.8) return s.slice(0, i) + c + s.slice(i);
  if (i + 1 >= s.length) return s.slice(0, i - 1) + c + s[i - 1]!;
  return s.slice(0, i) + s[i + 1]! + c + s.slice(i + 2);
}

/** One digit mistyped, not the first (a phone's network prefix, an ID's region, are rarely wrong). */
function digitSlip(d: Draw, s: string): string {
  const i = 3 + d.int(s.length - 3);
  const c = s.charCodeAt(i);
  if (c < 48 || c > 57) return s;
  return s.slice(0, i) + String((c - 48 + 1 + d.int(9)) % 10) + s.slice(i + 1);
}

function insertDot(d: Draw, local: string): string {
  if (local.length < 4) return local;
  const i = 1 + d.int(local.length - 2);
  return `${local.slice(0, i)}.${local.slice(i)}`;
}

function fullWidth(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 48 && c <= 57 ? String.fromCharCode(c + 0xfee0) : s[i];
  }
  return out;
}
