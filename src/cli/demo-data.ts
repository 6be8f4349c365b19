/**
 * The demo data set: a seeded, pure generator of Segment messages that look like
 * what a Chinese omnichannel retailer's systems send — a CRM, shop tills (POS),
 * the web shop, a WeChat mini-program and a survey tool — with the mess real
 * data has: one person in several systems under differently written names,
 * phones and e-mail addresses, duplicate CRM records, typos, mixed languages,
 * dates and genders in many notations.
 *
 * Deterministic: the same seed, customer count and `now` give the same
 * messages. Each person is generated from a stream of their own (seed, index)
 * and split again per aspect (identity, web, orders…), so person 17 is the same
 * whether 300 or 10,000 are generated, and messageIds name what a message is
 * (`demo-<seed>-<person>-o3` is that person's third order) rather than where it
 * fell in a sequence: loading again, with more customers or on a later day,
 * adds only what is new (the event log de-duplicates messageIds).
 *
 * No I/O, no clock: the caller passes `now`, the end of the year of history.
 */
import { seededRandom } from '../analytics/random.js';
import type { MessageType } from '../collect/messages.js';

export const DEMO_SOURCES = ['crm', 'pos', 'web', 'miniprogram', 'survey'] as const;
export type DemoSource = (typeof DEMO_SOURCES)[number];

export const DEFAULT_DEMO_SEED = 'custodian';
/** `serve` loads this many on first start; `custodian demo` too unless --customers says otherwise */
export const DEFAULT_DEMO_CUSTOMERS = 2000;
export const MAX_DEMO_CUSTOMERS = 1_000_000;

/** A Segment message as a source would send it (before the server's validation). */
export interface SegmentMessage {
  type: MessageType;
  messageId: string;
  timestamp: string;
  userId?: string;
  anonymousId?: string;
  event?: string;
  name?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

export interface DemoMessage {
  source: DemoSource;
  /** the generated person it belongs to (not part of the message: for summaries and tests) */
  person: number;
  message: SegmentMessage;
}

export interface DemoOptions {
  customers: number;
  seed?: string | number;
  /** the end of the history: every timestamp is before it */
  now: Date;
}

// ---------------------------------------------------------------------------
// Randomness: mulberry32, seeded through a small integer hash.

function hash32(text: string): number {
  // FNV-1a, then a final avalanche so close seeds give unrelated streams.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  /** uniform in [0, 1) */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  /** integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** pick by weight: [[value, weight], …] */
  weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let u = this.next() * total;
    for (const [value, w] of pairs) {
      u -= w;
      if (u < 0) return value;
    }
    return pairs[pairs.length - 1]![0];
  }
  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
  digits(length: number): string {
    return this.chars('0123456789', length);
  }
}

/** An independent stream for one aspect of one person. */
function streamOf(seed: number, person: number, aspect: string): Rng {
  return new Rng(mix32(seed ^ mix32(person + 0x9e3779b9) ^ hash32(aspect)));
}

export function seedNumber(seed: string | number): number {
  return hash32(String(seed));
}

// ---------------------------------------------------------------------------
// Reference data.

/** surname, pinyin, traditional form where it differs */
const ZH_SURNAMES: ReadonlyArray<readonly [string, string, number, string?]> = [
  ['王', 'Wang', 7.1], ['李', 'Li', 7.0], ['张', 'Zhang', 6.7, '張'], ['刘', 'Liu', 5.4, '劉'], ['陈', 'Chen', 4.5, '陳'],
  ['杨', 'Yang', 3.1, '楊'], ['黄', 'Huang', 2.2, '黃'], ['赵', 'Zhao', 2.0, '趙'], ['吴', 'Wu', 2.0, '吳'], ['周', 'Zhou', 1.9],
  ['徐', 'Xu', 1.3], ['孙', 'Sun', 1.2, '孫'], ['马', 'Ma', 1.2, '馬'], ['朱', 'Zhu', 1.1], ['胡', 'Hu', 1.1], ['郭', 'Guo', 1.0],
  ['何', 'He', 0.9], ['高', 'Gao', 0.9], ['林', 'Lin', 0.9], ['罗', 'Luo', 0.8, '羅'], ['郑', 'Zheng', 0.8, '鄭'], ['梁', 'Liang', 0.7],
  ['谢', 'Xie', 0.6, '謝'], ['宋', 'Song', 0.5], ['唐', 'Tang', 0.5], ['许', 'Xu', 0.5, '許'], ['韩', 'Han', 0.5, '韓'], ['冯', 'Feng', 0.4, '馮'],
  ['邓', 'Deng', 0.4, '鄧'], ['曹', 'Cao', 0.4], ['彭', 'Peng', 0.4], ['曾', 'Zeng', 0.4], ['肖', 'Xiao', 0.4], ['田', 'Tian', 0.3],
  ['董', 'Dong', 0.3], ['潘', 'Pan', 0.3], ['蒋', 'Jiang', 0.3, '蔣'], ['蔡', 'Cai', 0.3], ['叶', 'Ye', 0.3, '葉'], ['苏', 'Su', 0.3, '蘇'],
  ['欧阳', 'Ouyang', 0.1, '歐陽'], ['司马', 'Sima', 0.03, '司馬'],
];

/** given-name characters: char, pinyin, homophone typo, traditional form */
type GivenChar = readonly [string, string, string?, string?];
const ZH_GIVEN_F: readonly GivenChar[] = [
  ['芳', 'fang', '方'], ['娜', 'na'], ['敏', 'min', '民'], ['静', 'jing', '婧', '靜'], ['丽', 'li', '莉', '麗'], ['婷', 'ting', '亭'],
  ['雪', 'xue'], ['琳', 'lin', '林'], ['欣', 'xin', '昕'], ['怡', 'yi'], ['佳', 'jia'], ['颖', 'ying', '莹', '穎'], ['慧', 'hui', '惠'],
  ['倩', 'qian'], ['璐', 'lu', '露'], ['晶', 'jing', '静'], ['梦', 'meng', '萌', '夢'], ['瑶', 'yao', '遥', '瑤'], ['思', 'si'],
  ['雨', 'yu'], ['萱', 'xuan', '璇'], ['诗', 'shi', '诗', '詩'], ['涵', 'han', '寒'], ['悦', 'yue', '月', '悅'], ['可', 'ke'], ['馨', 'xin', '欣'],
];
const ZH_GIVEN_M: readonly GivenChar[] = [
  ['伟', 'wei', '玮', '偉'], ['强', 'qiang', '强', '強'], ['磊', 'lei', '雷'], ['军', 'jun', '俊', '軍'], ['洋', 'yang', '阳'], ['勇', 'yong', '永'],
  ['杰', 'jie', '洁', '傑'], ['涛', 'tao', '韬', '濤'], ['明', 'ming', '铭'], ['超', 'chao'], ['鹏', 'peng', '朋', '鵬'], ['浩', 'hao', '皓'],
  ['宇', 'yu', '雨'], ['俊', 'jun', '骏'], ['博', 'bo'], ['文', 'wen', '雯'], ['斌', 'bin', '彬'], ['辉', 'hui', '晖', '輝'], ['刚', 'gang', '钢', '剛'],
  ['健', 'jian', '建'], ['子', 'zi'], ['轩', 'xuan', '宣', '軒'], ['睿', 'rui', '瑞'], ['泽', 'ze', '则', '澤'], ['晨', 'chen', '辰'], ['一', 'yi'],
];

const EN_FIRST_F = ['Emma', 'Olivia', 'Sophia', 'Emily', 'Grace', 'Chloe', 'Hannah', 'Sarah', 'Laura', 'Anna', 'Claire', 'Julia', 'Zoë', 'Amélie', 'Vivian', 'Cindy', 'Crystal', 'Angela'];
const EN_FIRST_M = ['James', 'Michael', 'David', 'Daniel', 'Thomas', 'Lucas', 'Oliver', 'William', 'Alexander', 'Benjamin', 'Ethan', 'Ryan', 'José', 'Kevin', 'Jason', 'Eric', 'Leo', 'Tony'];
const EN_LAST = ['Smith', 'Johnson', 'Brown', 'Taylor', 'Miller', 'Wilson', 'Moore', 'Anderson', 'Martin', 'Thompson', 'García', 'Müller', 'Schmidt', 'Dubois', 'Rossi', "O'Brien", 'Nguyen', 'Tanaka', 'Kim', 'Lee', 'Evans', 'Clarke'];
/** English names Chinese customers use at work and on foreign sites */
const ZH_ENGLISH_F = ['Vivian', 'Cindy', 'Crystal', 'Angela', 'Grace', 'Emily', 'Iris', 'Fiona', 'Coco', 'Amy', 'Cherry', 'Sunny'];
const ZH_ENGLISH_M = ['Kevin', 'Jason', 'Eric', 'Leo', 'Tony', 'Jack', 'Frank', 'Peter', 'Allen', 'Vincent', 'Steven', 'Ray'];
const WECHAT_NICKNAMES = ['小鱼儿🐟', 'Sunny', '微信用户', '快乐每一天', 'A. 王小姐', '🌸花开', 'momo', '静待花开', '阿杰', 'Lucky', '一只猫', '风一样的男子', '~晴天~', 'K', '追梦人'];

interface City {
  key: string;
  /** how systems write it: canonical first */
  spellings: readonly string[];
  province: string;
  country: 'CN' | 'HK' | 'TW' | 'US' | 'GB' | 'SG';
  weight: number;
}
const CITIES: readonly City[] = [
  { key: 'shanghai', spellings: ['上海', '上海市', 'Shanghai', 'SH', 'shanghai', 'Shang Hai', 'SHANGHAI'], province: '上海', country: 'CN', weight: 22 },
  { key: 'beijing', spellings: ['北京', '北京市', 'Beijing', 'BJ', 'Peking', 'beijing'], province: '北京', country: 'CN', weight: 15 },
  { key: 'guangzhou', spellings: ['广州', '广州市', 'Guangzhou', 'GZ', 'Canton'], province: '广东', country: 'CN', weight: 9 },
  { key: 'shenzhen', spellings: ['深圳', '深圳市', 'Shenzhen', 'SZ', 'shen zhen'], province: '广东', country: 'CN', weight: 9 },
  { key: 'hangzhou', spellings: ['杭州', '杭州市', 'Hangzhou', 'HZ'], province: '浙江', country: 'CN', weight: 7 },
  { key: 'chengdu', spellings: ['成都', '成都市', 'Chengdu', 'chengdu'], province: '四川', country: 'CN', weight: 6 },
  { key: 'nanjing', spellings: ['南京', '南京市', 'Nanjing'], province: '江苏', country: 'CN', weight: 4 },
  { key: 'suzhou', spellings: ['苏州', '苏州市', 'Suzhou', 'SuZhou'], province: '江苏', country: 'CN', weight: 4 },
  { key: 'wuhan', spellings: ['武汉', '武汉市', 'Wuhan'], province: '湖北', country: 'CN', weight: 4 },
  { key: 'xian', spellings: ['西安', '西安市', "Xi'an", 'Xian'], province: '陕西', country: 'CN', weight: 3 },
  { key: 'chongqing', spellings: ['重庆', '重庆市', 'Chongqing', '重慶'], province: '重庆', country: 'CN', weight: 3 },
  { key: 'hongkong', spellings: ['香港', 'Hong Kong', 'HK', 'HongKong'], province: '香港', country: 'HK', weight: 2 },
  { key: 'taipei', spellings: ['台北', '臺北', 'Taipei'], province: '台湾', country: 'TW', weight: 1 },
];
const ABROAD: readonly City[] = [
  { key: 'newyork', spellings: ['New York', 'NYC', 'new york, ny', 'New York City'], province: 'NY', country: 'US', weight: 3 },
  { key: 'sanfrancisco', spellings: ['San Francisco', 'SF', 'san francisco, ca'], province: 'CA', country: 'US', weight: 2 },
  { key: 'london', spellings: ['London', 'LONDON', 'london'], province: 'England', country: 'GB', weight: 2 },
  { key: 'singapore', spellings: ['Singapore', 'SG', '新加坡'], province: 'Singapore', country: 'SG', weight: 1 },
];
const COUNTRY_SPELLINGS: Record<City['country'], readonly string[]> = {
  CN: ['CN', 'China', '中国', 'PRC', '中华人民共和国', 'china'],
  HK: ['HK', 'Hong Kong SAR', '中国香港', 'Hong Kong'],
  TW: ['TW', 'Taiwan', '中国台湾'],
  US: ['US', 'USA', 'United States', 'U.S.'],
  GB: ['GB', 'UK', 'United Kingdom', 'England'],
  SG: ['SG', 'Singapore'],
};

interface Store {
  id: string;
  name: string;
  city: string;
}
const STORES: readonly Store[] = [
  { id: 'SH-001', name: '上海南京西路店', city: 'shanghai' },
  { id: 'SH-002', name: '上海徐家汇店', city: 'shanghai' },
  { id: 'SH-003', name: '上海正大广场店', city: 'shanghai' },
  { id: 'BJ-001', name: '北京三里屯店', city: 'beijing' },
  { id: 'BJ-002', name: '北京国贸店', city: 'beijing' },
  { id: 'GZ-001', name: '广州天河城店', city: 'guangzhou' },
  { id: 'SZ-001', name: '深圳万象城店', city: 'shenzhen' },
  { id: 'HZ-001', name: '杭州湖滨银泰店', city: 'hangzhou' },
  { id: 'CD-001', name: '成都太古里店', city: 'chengdu' },
  { id: 'NJ-001', name: '南京新街口店', city: 'nanjing' },
  { id: 'WH-001', name: '武汉楚河汉街店', city: 'wuhan' },
  { id: 'HK-001', name: '香港铜锣湾店', city: 'hongkong' },
];

type Category = 'Apparel' | 'Beauty' | 'Baby' | 'Food' | 'Electronics' | 'Home' | 'Sports';
type Season = 'winter' | 'summer' | 'midautumn' | 'gift';
interface Product {
  id: string;
  zh: string;
  en: string;
  category: Category;
  /** CNY */
  price: number;
  season?: Season;
  weight: number;
}
const PRODUCTS: readonly Product[] = [
  { id: 'AP-1001', zh: '羊毛双面大衣', en: 'Double-faced Wool Coat', category: 'Apparel', price: 1299, season: 'winter', weight: 2 },
  { id: 'AP-1002', zh: '纯棉圆领T恤', en: 'Cotton Crew T-Shirt', category: 'Apparel', price: 99, season: 'summer', weight: 6 },
  { id: 'AP-1003', zh: '修身牛仔裤', en: 'Slim Fit Jeans', category: 'Apparel', price: 299, weight: 4 },
  { id: 'AP-1004', zh: '真丝围巾', en: 'Silk Scarf', category: 'Apparel', price: 399, season: 'gift', weight: 2 },
  { id: 'AP-1005', zh: '轻薄羽绒服', en: 'Light Down Jacket', category: 'Apparel', price: 899, season: 'winter', weight: 3 },
  { id: 'AP-1006', zh: '碎花连衣裙', en: 'Floral Summer Dress', category: 'Apparel', price: 459, season: 'summer', weight: 3 },
  { id: 'BT-2001', zh: '修护精华液 30ml', en: 'Repair Serum 30ml', category: 'Beauty', price: 760, season: 'gift', weight: 4 },
  { id: 'BT-2002', zh: '哑光口红', en: 'Matte Lipstick', category: 'Beauty', price: 320, season: 'gift', weight: 5 },
  { id: 'BT-2003', zh: '保湿面霜 50g', en: 'Hydrating Cream 50g', category: 'Beauty', price: 580, weight: 4 },
  { id: 'BT-2004', zh: '清透防晒霜 SPF50', en: 'Sunscreen SPF50', category: 'Beauty', price: 198, season: 'summer', weight: 4 },
  { id: 'BT-2005', zh: '补水面膜 10片装', en: 'Hydrating Sheet Masks x10', category: 'Beauty', price: 129, weight: 6 },
  { id: 'BT-2006', zh: '淡香水 50ml', en: 'Eau de Toilette 50ml', category: 'Beauty', price: 980, season: 'gift', weight: 2 },
  { id: 'BB-3001', zh: '婴幼儿配方奶粉 800g', en: 'Infant Formula 800g', category: 'Baby', price: 368, weight: 4 },
  { id: 'BB-3002', zh: '纸尿裤 L码 54片', en: 'Diapers L x54', category: 'Baby', price: 199, weight: 4 },
  { id: 'BB-3003', zh: '轻便婴儿推车', en: 'Compact Stroller', category: 'Baby', price: 2680, weight: 1 },
  { id: 'FD-4001', zh: '每日坚果礼盒', en: 'Daily Nuts Gift Box', category: 'Food', price: 168, season: 'gift', weight: 5 },
  { id: 'FD-4002', zh: '明前龙井 250g', en: 'Longjing Green Tea 250g', category: 'Food', price: 258, season: 'gift', weight: 3 },
  { id: 'FD-4003', zh: '流心奶黄月饼礼盒', en: 'Custard Mooncake Gift Box', category: 'Food', price: 288, season: 'midautumn', weight: 3 },
  { id: 'FD-4004', zh: '波尔多红葡萄酒', en: 'Bordeaux Red Wine', category: 'Food', price: 399, season: 'gift', weight: 2 },
  { id: 'FD-4005', zh: '云南咖啡豆 1kg', en: 'Yunnan Coffee Beans 1kg', category: 'Food', price: 158, weight: 4 },
  { id: 'EL-5001', zh: '降噪蓝牙耳机', en: 'Noise-cancelling Earbuds', category: 'Electronics', price: 899, weight: 3 },
  { id: 'EL-5002', zh: '智能手表', en: 'Smart Watch', category: 'Electronics', price: 1999, season: 'gift', weight: 2 },
  { id: 'EL-5003', zh: '20000mAh 充电宝', en: 'Power Bank 20000mAh', category: 'Electronics', price: 199, weight: 4 },
  { id: 'EL-5004', zh: '10英寸平板电脑', en: '10-inch Tablet', category: 'Electronics', price: 3299, weight: 1 },
  { id: 'EL-5005', zh: '机械键盘', en: 'Mechanical Keyboard', category: 'Electronics', price: 599, weight: 2 },
  { id: 'HM-6001', zh: '全棉四件套', en: 'Cotton Bedding Set', category: 'Home', price: 699, weight: 2 },
  { id: 'HM-6002', zh: '香薰蜡烛', en: 'Scented Candle', category: 'Home', price: 128, season: 'gift', weight: 4 },
  { id: 'HM-6003', zh: '空气净化器', en: 'Air Purifier', category: 'Home', price: 1899, season: 'winter', weight: 1 },
  { id: 'HM-6004', zh: '保温杯 500ml', en: 'Thermos Bottle 500ml', category: 'Home', price: 149, weight: 5 },
  { id: 'SP-7001', zh: '缓震跑鞋', en: 'Cushioned Running Shoes', category: 'Sports', price: 699, weight: 3 },
  { id: 'SP-7002', zh: '瑜伽垫', en: 'Yoga Mat', category: 'Sports', price: 169, season: 'summer', weight: 3 },
  { id: 'SP-7003', zh: '运动双肩包', en: 'Sports Backpack', category: 'Sports', price: 299, weight: 2 },
];
const CATEGORY_ZH: Record<Category, string> = { Apparel: '服饰', Beauty: '美妆个护', Baby: '母婴', Food: '食品饮料', Electronics: '数码', Home: '家居', Sports: '运动户外' };

const EMAIL_DOMAINS_ZH: ReadonlyArray<readonly [string, number]> = [['qq.com', 30], ['163.com', 20], ['126.com', 8], ['gmail.com', 8], ['outlook.com', 7], ['foxmail.com', 5], ['sina.com', 4], ['hotmail.com', 5], ['icloud.com', 6], ['139.com', 3], ['yahoo.com.hk', 1]];
const EMAIL_DOMAINS_EN: ReadonlyArray<readonly [string, number]> = [['gmail.com', 45], ['outlook.com', 15], ['hotmail.com', 10], ['yahoo.com', 8], ['icloud.com', 12], ['protonmail.com', 3], ['qq.com', 2]];
const EMAIL_TYPOS: Record<string, string> = { 'gmail.com': 'gmial.com', 'qq.com': 'qq.con', '163.com': '163.co', 'hotmail.com': 'hotmial.com', 'outlook.com': 'outlok.com', 'icloud.com': 'iclould.com', 'yahoo.com': 'yaho.com', '126.com': '126.cm' };
const CN_MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '156', '157', '158', '159', '166', '176', '177', '180', '181', '182', '183', '185', '186', '187', '188', '189', '191', '198', '199'];

interface Campaign {
  id: string;
  key: string;
  name: string;
  /** local calendar day the sends go out (relative to its year) */
  month: number;
  day: number;
  channels: ReadonlyArray<'email' | 'sms'>;
  coupon: string;
  /** winback: only to customers who stopped buying */
  audience: 'all' | 'lapsed';
}
const CAMPAIGN_TEMPLATES: readonly Omit<Campaign, 'id'>[] = [
  { key: 'cny', name: '新春焕新季 Spring Festival Sale', month: 0, day: 0, channels: ['email', 'sms'], coupon: 'CNY88', audience: 'all' },
  { key: 'womensday', name: '女神节 Women’s Day', month: 3, day: 1, channels: ['email'], coupon: 'WD38', audience: 'all' },
  { key: '618', name: '618 年中大促 Mid-year Sale', month: 6, day: 1, channels: ['email', 'sms'], coupon: '618OFF50', audience: 'all' },
  { key: 'double11', name: '双11 狂欢节 Singles’ Day', month: 10, day: 28, channels: ['email', 'sms'], coupon: 'D11-100', audience: 'all' },
  { key: 'xmas', name: '圣诞礼遇 Christmas Gifts', month: 12, day: 15, channels: ['email'], coupon: 'XMAS20', audience: 'all' },
  { key: 'winback', name: '好久不见 We Miss You', month: -1, day: -1, channels: ['email'], coupon: 'BACK30', audience: 'lapsed' },
];

/** Chinese New Year's day (local), by year: the holiday moves with the lunar calendar. */
const CHINESE_NEW_YEAR: Record<number, readonly [number, number]> = {
  2023: [1, 22], 2024: [2, 10], 2025: [1, 29], 2026: [2, 17], 2027: [2, 6], 2028: [1, 26], 2029: [2, 13], 2030: [2, 3], 2031: [1, 23], 2032: [2, 11], 2033: [1, 31], 2034: [2, 19], 2035: [2, 8],
};
/** Mid-Autumn festival (local), by year */
const MID_AUTUMN: Record<number, readonly [number, number]> = {
  2023: [9, 29], 2024: [9, 17], 2025: [10, 6], 2026: [9, 25], 2027: [9, 15], 2028: [10, 3], 2029: [9, 22], 2030: [9, 12], 2031: [10, 1], 2032: [9, 19], 2033: [9, 8], 2034: [9, 27], 2035: [9, 16],
};

const COMMENTS = {
  positive: [
    '物流很快，包装也很用心', '质量很好，会回购', '客服态度很好，耐心解答', '性价比高，已经推荐给朋友了', '门店导购很专业，试用体验很好', '小程序下单很方便', '双11价格很划算！', '东西和图片一样，满意👍',
    'Fast delivery and lovely packaging.', 'Love the quality, will buy again!', 'Staff at the store were super helpful.', 'Great value for money.', 'Smooth checkout, arrived next day.', 'Quality 很好, will recommend 👍',
  ],
  neutral: [
    '还可以，就是发货有点慢', '东西不错，价格偏贵', '一般般吧', '尺码偏小，建议拍大一码', '包装可以再环保一点', '会员积分规则有点复杂',
    'OK overall, delivery was a bit slow.', 'Decent product but pricey.', 'Size runs small.', 'Fine, nothing special.', '还行 but the app is slow',
  ],
  negative: [
    '快递太慢了，等了一个星期', '收到的商品有破损', '客服一直不回复', '退款流程太复杂了', '和描述不符，很失望', '会员积分没有到账', '门店排队太久😡',
    'Package arrived damaged.', 'Customer service never replied.', 'Refund took three weeks.', 'Not as described, disappointed.', 'App kept crashing at checkout.', '质量 terrible, 不会再买了',
  ],
} as const;

type ComplaintType = 'delivery' | 'quality' | 'service' | 'refund' | 'billing' | 'app';
const COMPLAINTS: Record<ComplaintType, readonly string[]> = {
  delivery: ['订单显示已签收但没收到货', '快递员态度恶劣，放在门口就走了', 'Order says delivered but nothing arrived.', '发货比承诺晚了五天'],
  quality: ['衣服洗了一次就起球', '面霜开封就有异味', 'Earbuds stopped charging after a week.', '推车轮子有异响'],
  service: ['400电话打了三次都没人接', '门店店员不让退换', 'Chat agent closed the conversation without helping.'],
  refund: ['退货寄回两周了还没退款', 'Refund was for the wrong amount.', '申请退款被无故驳回'],
  billing: ['优惠券没有抵扣成功', 'I was charged twice for one order.', '发票开错了抬头'],
  app: ['小程序支付时一直转圈', 'The website logs me out at checkout.', 'App 闪退，无法查看订单'],
};

// ---------------------------------------------------------------------------
// Time: a year of local (China, UTC+8) days ending today, with the retail calendar.

const DAY_MS = 86_400_000;
const LOCAL_OFFSET_MS = 8 * 3_600_000;

interface Calendar {
  /** UTC instant of local midnight of day 0 */
  startMs: number;
  nowMs: number;
  days: number;
  /** local date of day k */
  date(k: number): { y: number; m: number; d: number; weekday: number };
  /** cumulative seasonal order weight: cdf[k] = Σ weight(0..k-1) */
  cdf: Float64Array;
  weight: Float64Array;
  /** month (1-12) of day k */
  monthOf(k: number): number;
  /** day index of a local date, or null outside the year */
  indexOf(y: number, m: number, d: number): number | null;
}

function buildCalendar(now: Date): Calendar {
  const nowMs = now.getTime();
  const localToday = Math.floor((nowMs + LOCAL_OFFSET_MS) / DAY_MS) * DAY_MS; // local midnight, as if UTC
  const days = 365;
  const startLocal = localToday - (days - 1) * DAY_MS;
  const date = (k: number) => {
    const t = new Date(startLocal + k * DAY_MS);
    return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), weekday: t.getUTCDay() };
  };
  const indexOf = (y: number, m: number, d: number) => {
    const k = Math.round((Date.UTC(y, m - 1, d) - startLocal) / DAY_MS);
    return k >= 0 && k < days ? k : null;
  };
  const weight = new Float64Array(days);
  for (let k = 0; k < days; k++) weight[k] = seasonalWeight(date(k));
  const cdf = new Float64Array(days + 1);
  for (let k = 0; k < days; k++) cdf[k + 1] = cdf[k]! + weight[k]!;
  return { startMs: startLocal - LOCAL_OFFSET_MS, nowMs, days, date, cdf, weight, monthOf: (k) => date(k).m, indexOf };
}

function daysFrom(y: number, m: number, d: number, ref: readonly [number, number] | undefined, refYear: number): number | null {
  if (!ref) return null;
  return Math.round((Date.UTC(y, m - 1, d) - Date.UTC(refYear, ref[0] - 1, ref[1])) / DAY_MS);
}

/** How busy a day is for orders, relative to an ordinary weekday. */
export function seasonalWeight({ y, m, d, weekday }: { y: number; m: number; d: number; weekday: number }): number {
  let w = weekday === 0 || weekday === 6 ? 1.25 : 1;
  if (m === 11 && d <= 10) w *= 1.4 + d * 0.12; // pre-sales build up to Singles' Day
  if (m === 11 && d === 11) w *= 9;
  if (m === 11 && d === 12) w *= 1.8;
  if (m === 6 && d < 18) w *= 1.5;
  if (m === 6 && d === 18) w *= 5;
  if (m === 12 && d === 12) w *= 2.5;
  if (m === 12 && d >= 18 && d <= 24) w *= 2.2;
  if (m === 12 && d === 25) w *= 1.4;
  if (m === 3 && d === 8) w *= 2;
  if (m === 5 && d === 20) w *= 1.8;
  if (m === 2 && d === 14) w *= 1.6;
  if (m === 7 || m === 8) w *= 0.9;
  // Chinese New Year: three weeks of gift shopping, then the shops close and couriers stop.
  for (const year of [y, y + 1]) {
    const off = daysFrom(y, m, d, CHINESE_NEW_YEAR[year], year);
    if (off === null) continue;
    if (off >= -21 && off <= -2) w *= 1.7;
    if (off >= -1 && off <= 6) w *= 0.35;
  }
  const moon = daysFrom(y, m, d, MID_AUTUMN[y], y);
  if (moon !== null && moon >= -14 && moon <= 0) w *= 1.3;
  return w;
}

/** Product pick weight in a given month: coats sell in winter, mooncakes before Mid-Autumn. */
function productWeight(p: Product, month: number, k: number, cal: Calendar): number {
  let w = p.weight;
  if (p.season === 'winter') w *= month >= 11 || month <= 2 ? 3 : month >= 5 && month <= 8 ? 0.15 : 1;
  if (p.season === 'summer') w *= month >= 5 && month <= 8 ? 2.5 : month >= 11 || month <= 2 ? 0.3 : 1;
  if (p.season === 'gift') w *= month === 12 || month === 1 || month === 2 ? 2 : 1;
  if (p.season === 'midautumn') {
    const { y, m, d } = cal.date(k);
    const off = daysFrom(y, m, d, MID_AUTUMN[y], y);
    w *= off !== null && off >= -30 && off <= 0 ? 12 : 0.02;
  }
  if (p.category === 'Electronics' && month === 6) w *= 2.5;
  if (p.category === 'Beauty' && month === 11) w *= 1.8;
  return w;
}

function pickDay(rng: Rng, cal: Calendar, from: number, to: number): number {
  const lo = cal.cdf[from]!;
  const hi = cal.cdf[to + 1]!;
  const u = lo + rng.next() * (hi - lo);
  let a = from;
  let b = to;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (cal.cdf[mid + 1]! <= u) a = mid + 1;
    else b = mid;
  }
  return a;
}

type Rhythm = 'store' | 'online' | 'office' | 'evening';
const HOURS: Record<Rhythm, ReadonlyArray<readonly [number, number]>> = {
  store: [[10, 4], [11, 6], [12, 7], [13, 7], [14, 6], [15, 6], [16, 6], [17, 7], [18, 8], [19, 9], [20, 8], [21, 4]],
  online: [[0, 3], [1, 1.5], [2, 0.6], [6, 0.5], [7, 1.5], [8, 2.5], [9, 3], [10, 4], [11, 4], [12, 5.5], [13, 5], [14, 4], [15, 4], [16, 4], [17, 4], [18, 4.5], [19, 5.5], [20, 7], [21, 8], [22, 8], [23, 6]],
  office: [[9, 5], [10, 8], [11, 7], [13, 5], [14, 8], [15, 8], [16, 7], [17, 4]],
  evening: [[12, 3], [18, 4], [19, 6], [20, 8], [21, 8], [22, 6], [23, 3]],
};

/** An instant on local day k: hour by rhythm; 11.11 online orders pile up right after midnight. */
function instant(rng: Rng, cal: Calendar, k: number, rhythm: Rhythm): number {
  const { m, d } = cal.date(k);
  const hour = rhythm === 'online' && m === 11 && d === 11 && rng.chance(0.35) ? rng.int(0, 1) : rng.weighted(HOURS[rhythm]);
  const ms = cal.startMs + k * DAY_MS + hour * 3_600_000 + rng.int(0, 3_599_999);
  // Today: squeeze into the part of the day that has passed.
  if (ms >= cal.nowMs) return cal.startMs + k * DAY_MS + Math.floor(((ms - cal.startMs - k * DAY_MS) / DAY_MS) * (cal.nowMs - cal.startMs - k * DAY_MS));
  return ms;
}

// ---------------------------------------------------------------------------
// People.

type Culture = 'zh' | 'en';
type Gender = 'F' | 'M';
type Channel = 'crm' | 'pos' | 'web' | 'miniprogram' | 'survey';

interface Person {
  index: number;
  culture: Culture;
  gender: Gender;
  /** Chinese: surname and given characters; Western: last and first name */
  family: string;
  given: string;
  familyPinyin: string;
  givenPinyin: string;
  /** the typo'd / traditional variants systems may hold */
  givenTypo: string;
  traditional: string | null;
  englishName: string | null;
  birth: { y: number; m: number; d: number } | null;
  city: City;
  /** primary e-mail (canonical), and a second one some systems have */
  email: string | null;
  altEmail: string | null;
  phone: Phone | null;
  channels: Set<Channel>;
  /** member since: may be years before the window */
  memberSinceMs: number;
  /** active window in calendar days */
  firstDay: number;
  lastDay: number;
  churned: boolean;
  orders: number;
  /** -1…1: how happy they are; drives scores and comments */
  mood: number;
  consentEmail: boolean;
  consentSms: boolean;
  tier: 'basic' | 'silver' | 'gold' | 'diamond';
}

interface Phone {
  country: 'CN' | 'US' | 'GB' | 'HK' | 'SG';
  /** national digits */
  digits: string;
}

function scramble(i: number, modulus: number): number {
  // i ↦ i·a + b (mod m) is one-to-one when a is coprime with m (odd, not a multiple of 5, m a power of ten).
  return (i * 2_654_435_761 + 12_345_679) % modulus;
}

function makePerson(seed: number, index: number, cal: Calendar): Person {
  const rng = streamOf(seed, index, 'person');
  const culture: Culture = rng.chance(0.82) ? 'zh' : 'en';
  const gender: Gender = rng.chance(0.58) ? 'F' : 'M';
  let family: string;
  let given: string;
  let familyPinyin: string;
  let givenPinyin: string;
  let givenTypo: string;
  let traditional: string | null = null;
  let englishName: string | null = null;
  let city: City;
  if (culture === 'zh') {
    const [sur, surPinyin, , surTrad] = rng.weighted(ZH_SURNAMES.map((s) => [s, s[2]] as const));
    const pool = gender === 'F' ? ZH_GIVEN_F : ZH_GIVEN_M;
    const chars = rng.chance(0.7) ? [rng.pick(pool), rng.pick(pool)] : [rng.pick(pool)];
    if (chars.length === 2 && chars[0]![0] === chars[1]![0] && rng.chance(0.5)) chars.pop();
    family = sur;
    familyPinyin = surPinyin;
    given = chars.map((c) => c[0]).join('');
    givenPinyin = chars.map((c, i) => (i === 0 ? c[1][0]!.toUpperCase() + c[1].slice(1) : c[1])).join('');
    const typoAt = rng.int(0, chars.length - 1);
    givenTypo = chars.map((c, i) => (i === typoAt && c[2] ? c[2] : c[0])).join('');
    city = rng.weighted(CITIES.map((c) => [c, c.weight] as const));
    if (city.country === 'HK' || city.country === 'TW' || rng.chance(0.02)) traditional = (surTrad ?? sur) + chars.map((c) => c[3] ?? c[0]).join('');
    if (rng.chance(0.3)) englishName = rng.pick(gender === 'F' ? ZH_ENGLISH_F : ZH_ENGLISH_M);
  } else {
    given = rng.pick(gender === 'F' ? EN_FIRST_F : EN_FIRST_M);
    family = rng.pick(EN_LAST);
    givenPinyin = given;
    familyPinyin = family;
    const at = rng.int(1, given.length - 2);
    givenTypo = given.slice(0, at) + given[at + 1] + given[at] + given.slice(at + 2); // Micheal, Sarha
    city = rng.chance(0.55) ? rng.weighted(CITIES.slice(0, 6).map((c) => [c, c.weight] as const)) : rng.weighted(ABROAD.map((c) => [c, c.weight] as const));
  }

  const age = Math.round(Math.min(68, Math.max(18, 33 + (rng.next() + rng.next() + rng.next() - 1.5) * 16)));
  const nowYear = cal.date(cal.days - 1).y;
  const birth = rng.chance(0.85) ? { y: nowYear - age, m: rng.int(1, 12), d: rng.int(1, 28) } : null;

  const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
  let email: string | null = null;
  if (rng.chance(culture === 'zh' ? 0.82 : 0.95)) {
    const domain = rng.weighted(culture === 'zh' ? EMAIL_DOMAINS_ZH : EMAIL_DOMAINS_EN);
    const g = ascii(givenPinyin);
    const f = ascii(familyPinyin);
    const local =
      domain === 'qq.com' || domain === 'foxmail.com'
        ? rng.chance(0.7) ? String(rng.int(10_000, 3_999_999_999)) : `${f}${g}${rng.digits(3)}`
        : rng.weighted<string>([
            [`${f}${g}${birth ? String(birth.y).slice(2) : rng.digits(2)}`, 4],
            [`${g}.${f}`, 3],
            [`${englishName ? ascii(englishName) : g}.${f}${rng.digits(2)}`, 2],
            [`${g[0] ?? 'x'}${f}${rng.digits(4)}`, 2],
            [`${f}_${g}_${rng.digits(3)}`, 1],
          ]);
    email = `${local}@${domain}`;
  }
  const altEmail = email && rng.chance(0.12) ? `${ascii(englishName ?? givenPinyin)}.${ascii(familyPinyin)}@${rng.pick(['company.cn', 'corp.example.com', 'agency.cn', 'bank.com.cn'])}` : null;

  let phone: Phone | null = null;
  if (rng.chance(0.9)) {
    const country: Phone['country'] = city.country === 'US' ? 'US' : city.country === 'GB' ? 'GB' : city.country === 'HK' ? 'HK' : city.country === 'SG' ? 'SG' : 'CN';
    const digits =
      country === 'CN' || (country === 'HK' && rng.chance(0.3)) ? rng.pick(CN_MOBILE_PREFIXES) + rng.digits(8)
      : country === 'US' ? `${rng.pick(['415', '212', '646', '628', '917', '310'])}55501${rng.digits(2)}` // 555-01xx: reserved for fiction
      : country === 'GB' ? `7700900${rng.digits(3)}` // Ofcom's drama range
      : `${rng.pick(['9', '6', '5'])}${rng.digits(7)}`;
    phone = { country: country === 'HK' && digits.length === 11 ? 'CN' : country, digits };
  }

  // Channels: a mini-program is a mainland thing; the tills only where there are shops.
  const hasStore = STORES.some((s) => s.city === city.key);
  const channels = new Set<Channel>();
  if (rng.chance(hasStore ? 0.5 : 0.05)) channels.add('pos');
  if (rng.chance(0.55)) channels.add('web');
  if (rng.chance(culture === 'zh' && city.country === 'CN' ? 0.45 : 0.05)) channels.add('miniprogram');
  if (rng.chance(channels.has('pos') ? 0.85 : 0.35)) channels.add('crm');
  if (channels.size === 0) channels.add(rng.chance(0.7) ? 'web' : 'crm');

  // Orders: most buy once, a few buy often; browsers buy nothing.
  const buys = channels.has('pos') || channels.has('miniprogram') || (channels.has('web') && rng.chance(0.75)) || (channels.has('crm') && rng.chance(0.5));
  const orders = !buys ? 0 : rng.weighted<number>([[1, 50], [2, 18], [3, 10], [4, 6], [5, 4], [rng.int(6, 10), 7], [rng.int(11, 20), 4], [rng.int(21, 45), 1]]);
  if (orders > 0 && rng.chance(0.3)) channels.add('survey');
  if (!channels.has('pos') && !channels.has('web') && !channels.has('miniprogram') && orders > 0) channels.add(rng.chance(0.5) ? 'web' : 'miniprogram');

  // Tenure: half were customers before the window; a quarter of buyers stopped buying months ago.
  const existing = rng.chance(0.5);
  const firstDay = existing ? 0 : rng.int(0, cal.days - 30);
  const churned = orders > 0 && rng.chance(0.25) && firstDay < cal.days - 200;
  const lastDay = churned ? rng.int(firstDay + 20, cal.days - 150) : cal.days - 1;
  const memberSinceMs = existing ? cal.startMs - rng.int(1, 6 * 365) * DAY_MS + rng.int(0, DAY_MS - 1) : cal.startMs + firstDay * DAY_MS + rng.int(9, 21) * 3_600_000;
  const mood = Math.max(-1, Math.min(1, (rng.next() + rng.next()) - 0.75 - (churned ? 0.6 : 0) + Math.min(orders, 10) * 0.04));
  const tier = orders >= 15 ? 'diamond' : orders >= 6 ? 'gold' : orders >= 3 ? 'silver' : 'basic';
  return {
    index, culture, gender, family, given, familyPinyin, givenPinyin, givenTypo, traditional, englishName, birth, city, email, altEmail, phone, channels,
    memberSinceMs, firstDay, lastDay, churned, orders, mood, tier,
    consentEmail: email !== null && rng.chance(0.62), consentSms: phone !== null && rng.chance(0.48),
  };
}

// ---------------------------------------------------------------------------
// How each system writes a person down.

const FULLWIDTH = (s: string) => s.replace(/[0-9+()-]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

function phoneText(rng: Rng, phone: Phone, style: 'crm' | 'pos' | 'web' | 'mini' | 'survey'): string {
  const g = phone.digits;
  if (phone.country === 'CN') {
    const spaced = `${g.slice(0, 3)} ${g.slice(3, 7)} ${g.slice(7)}`;
    const pairs: Array<readonly [string, number]> =
      style === 'pos' ? [[g, 12], [`${g.slice(0, 3)}-${g.slice(3, 7)}-${g.slice(7)}`, 1], [`${g.slice(0, 3)}${g.slice(3, 7)}${g.slice(7, 10)}`, 0.3]] // a digit lost at the till
      : style === 'mini' ? [[`+86 ${g}`, 3], [g, 2], [`+86${g}`, 1]]
      : [
          [`+86 ${spaced}`, 4], [g, 5], [`+86${g}`, 2], [`86-${g.slice(0, 3)}-${g.slice(3, 7)}-${g.slice(7)}`, 1], [`${g.slice(0, 3)}-${g.slice(3, 7)}-${g.slice(7)}`, 2],
          [spaced, 2], [`0086 ${g}`, 1], [`(+86)${spaced}`, 1], [`+86-${g}`, 1], [FULLWIDTH(g), style === 'survey' ? 2 : 0.6], [`${g.slice(0, 3)} ${g.slice(3, 6)} ${g.slice(6)}`, 0.5],
        ];
    return rng.weighted(pairs);
  }
  if (phone.country === 'US') {
    const [a, b, c] = [g.slice(0, 3), g.slice(3, 6), g.slice(6)];
    return rng.weighted<string>([[`(${a}) ${b}-${c}`, 4], [`${a}-${b}-${c}`, 3], [`+1 ${a} ${b} ${c}`, 2], [g, 1], [`+1 (${a}) ${b}-${c}`, 1], [`${a}.${b}.${c}`, 1]]);
  }
  if (phone.country === 'GB') return rng.weighted<string>([[`+44 ${g.slice(0, 4)} ${g.slice(4)}`, 3], [`0${g.slice(0, 4)} ${g.slice(4)}`, 3], [`+44${g}`, 1], [`0044 ${g}`, 1]]);
  if (phone.country === 'HK') return rng.weighted<string>([[`+852 ${g.slice(0, 4)} ${g.slice(4)}`, 3], [g, 2], [`(852) ${g}`, 1]]);
  return rng.weighted<string>([[`+65 ${g.slice(0, 4)} ${g.slice(4)}`, 3], [g, 1]]);
}

function emailText(rng: Rng, email: string, typoRate: number): string {
  const [local, domain] = email.split('@') as [string, string];
  if (rng.chance(typoRate)) {
    const typo = EMAIL_TYPOS[domain];
    if (typo && rng.chance(0.6)) return `${local}@${typo}`;
    if (local.length > 4) return `${local.slice(0, 2)}${local[3]}${local[2]}${local.slice(4)}@${domain}`;
  }
  return rng.weighted<string>([[email, 14], [email.toUpperCase(), 0.6], [`${local[0]!.toUpperCase()}${local.slice(1)}@${domain}`, 1], [` ${email} `, 0.6], [`${email}\t`, 0.2]]);
}

function birthdayText(rng: Rng, b: { y: number; m: number; d: number }): string {
  const mm = String(b.m).padStart(2, '0');
  const dd = String(b.d).padStart(2, '0');
  const month = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][b.m - 1]!;
  return rng.weighted<string>([
    [`${b.y}-${mm}-${dd}`, 6], [`${b.y}/${b.m}/${b.d}`, 3], [`${b.y}/${mm}/${dd}`, 2], [`${dd}/${mm}/${b.y}`, 1.5], [`${mm}/${dd}/${b.y}`, 1.5],
    [`${b.y}年${b.m}月${b.d}日`, 2], [`${b.y}${mm}${dd}`, 1.5], [`${b.d} ${month.slice(0, 3)} ${b.y}`, 0.7], [`${month} ${b.d}, ${b.y}`, 0.7],
    [`${b.y}-${mm}-${dd}T00:00:00.000Z`, 0.7], [`${String(b.y).slice(2)}-${b.m}-${b.d}`, 0.4], ['1900-01-01', 0.3], ['0000-00-00', 0.2],
  ]);
}

function genderText(rng: Rng, g: Gender, culture: Culture): string {
  const f: Array<readonly [string, number]> = culture === 'zh' ? [['女', 6], ['F', 2], ['female', 1], ['女性', 1], ['女士', 1], ['2', 0.5], ['f', 0.4]] : [['F', 3], ['female', 3], ['Female', 2], ['f', 1], ['woman', 0.3]];
  const m: Array<readonly [string, number]> = culture === 'zh' ? [['男', 6], ['M', 2], ['male', 1], ['男性', 1], ['先生', 1], ['1', 0.5], ['m', 0.4]] : [['M', 3], ['male', 3], ['Male', 2], ['m', 1], ['man', 0.3]];
  if (rng.chance(0.04)) return rng.pick(['unknown', '未知', 'U', '保密']);
  return rng.weighted(g === 'F' ? f : m);
}

/** The name as one system writes it: characters, pinyin in either order, English name, typos. */
function nameText(rng: Rng, p: Person, style: 'native' | 'latin' | 'any'): string {
  if (p.culture === 'en') {
    return rng.weighted<string>([
      [`${p.given} ${p.family}`, 10], [`${p.family.toUpperCase()}, ${p.given}`, 1], [`${p.given.toLowerCase()} ${p.family.toLowerCase()}`, 1], [`${p.givenTypo} ${p.family}`, 0.8], [`${p.given} ${p.family} `, 0.5],
    ]);
  }
  const native = p.traditional && rng.chance(0.8) ? p.traditional : rng.chance(0.06) ? p.family + p.givenTypo : p.family + p.given;
  const latin = rng.weighted<string>([
    [`${p.givenPinyin} ${p.familyPinyin}`, 3], [`${p.familyPinyin} ${p.givenPinyin}`, 3], [`${p.familyPinyin.toUpperCase()} ${p.givenPinyin}`, 1], [`${p.familyPinyin.toLowerCase()}${p.givenPinyin.toLowerCase()}`, 1],
    ...(p.englishName ? ([[`${p.englishName} ${p.familyPinyin}`, 5]] as const) : []),
  ]);
  if (style === 'native') return rng.chance(0.04) ? `${native} ` : native;
  if (style === 'latin') return latin;
  return rng.chance(0.6) ? native : rng.chance(0.15) ? `${native} ${latin}` : latin;
}

function cityText(rng: Rng, city: City, englishFirst: boolean): string {
  if (englishFirst) return rng.weighted(city.spellings.map((s, i) => [s, /[A-Za-z]/.test(s) ? (i === 2 ? 6 : 1.5) : 0.5] as const));
  return rng.weighted(city.spellings.map((s, i) => [s, i === 0 ? 8 : i === 1 ? 3 : 1] as const));
}

// ---------------------------------------------------------------------------
// Messages.

interface Builder {
  out: DemoMessage[];
  prefix: string;
  person: number;
  nowMs: number;
}

const LIBRARY = { name: 'custodian-demo', version: '1' } as const;

function push(b: Builder, source: DemoSource, local: string, atMs: number, body: Omit<SegmentMessage, 'messageId' | 'timestamp'>): void {
  // context.library says which program sent a message (Segment's convention): every demo message is findable.
  const context = { ...body.context, library: LIBRARY };
  const at = Math.min(atMs, b.nowMs - 1000);
  b.out.push({ source, person: b.person, message: { ...body, context, messageId: `${b.prefix}-${local}`, timestamp: new Date(at).toISOString() } });
}

const record = (collection: DemoSource, id: string) => ({ externalIds: [{ type: 'record', collection, id, encoding: 'none' }] });

function crmId(p: number, copy: number): string {
  return `C${String(1_000_000 + scramble(p * 2 + copy, 10_000_000)).padStart(8, '0')}`;
}
function posMemberId(p: number): string {
  return `M${String(scramble(p, 100_000_000)).padStart(8, '0')}`;
}
function webUserId(p: number): string {
  return `u_${(scramble(p, 1_000_000_000) + 1_000_000_000).toString(36)}`;
}
function uuidOf(rng: Rng, p: number): string {
  const hex = rng.chars('0123456789abcdef', 20);
  const tail = p.toString(16).padStart(6, '0') + rng.chars('0123456789abcdef', 6); // the person's own: never two alike
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[p % 4]}${hex.slice(17, 20)}-${tail}`;
}
function openIdOf(rng: Rng, p: number): string {
  // One mini-program's openids share their first characters.
  return `oXk3v${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-', 15)}${p.toString(36).padStart(8, '0')}`;
}

function consentTraits(rng: Rng, p: Person, atMs: number, source: string): Record<string, unknown> {
  // Consent as traits until the consent ledger exists; then these become ledger entries (with source and time).
  const at = new Date(atMs).toISOString();
  const traits: Record<string, unknown> = {};
  if (p.email) Object.assign(traits, { consent_marketing_email: p.consentEmail, consent_marketing_email_at: at });
  if (p.phone) Object.assign(traits, { consent_sms: p.consentSms, consent_sms_at: at });
  if (rng.chance(0.5)) traits.consent_source = source;
  return traits;
}

interface Order {
  n: number;
  day: number;
  atMs: number;
  channel: 'pos' | 'web' | 'miniprogram';
  id: string;
  revenue: number;
  currency: 'CNY' | 'USD';
  categories: Category[];
}

function generatePerson(seed: number, prefix: string, index: number, cal: Calendar, campaigns: readonly (Campaign & { dayIndex: number })[]): DemoMessage[] {
  const p = makePerson(seed, index, cal);
  const b: Builder = { out: [], prefix: `${prefix}-${index.toString(36)}`, person: index, nowMs: cal.nowMs };
  const ids = streamOf(seed, index, 'ids');
  const anonymousId = uuidOf(ids, index);
  const openId = openIdOf(ids, index);
  const userId = webUserId(index);
  const abroad = p.city.country === 'US' || p.city.country === 'GB' || p.city.country === 'SG';
  const startAt = (day: number) => cal.startMs + day * DAY_MS;
  const sinceMs = Math.max(p.memberSinceMs, cal.startMs + 3_600_000);
  const crmIdentity = { anonymousId: `crm:${crmId(index, 0)}`, context: record('crm', crmId(index, 0)) };
  const posIdentity = { anonymousId: `pos:${posMemberId(index)}`, context: record('pos', posMemberId(index)) };

  // --- CRM: the customer master, written by shop staff and imports over the years.
  if (p.channels.has('crm')) {
    const rng = streamOf(seed, index, 'crm');
    const traits: Record<string, unknown> = {};
    if (p.culture === 'zh' && rng.chance(0.35)) {
      traits.lastName = p.traditional ? p.traditional.slice(0, p.family.length) : p.family;
      traits.firstName = p.traditional ? p.traditional.slice(p.family.length) : p.given;
    } else traits.name = nameText(rng, p, p.culture === 'zh' && rng.chance(0.85) ? 'native' : 'any');
    if (p.email && rng.chance(0.85)) traits.email = emailText(rng, p.email, 0.04);
    if (p.phone && rng.chance(0.9)) traits.phone = phoneText(rng, p.phone, 'crm');
    if (p.birth && rng.chance(0.8)) traits.birthday = birthdayText(rng, p.birth);
    if (rng.chance(0.85)) traits.gender = genderText(rng, p.gender, p.culture);
    if (rng.chance(0.6)) traits.city = cityText(rng, p.city, p.culture === 'en');
    else traits.address = { city: cityText(rng, p.city, p.culture === 'en'), province: p.city.province, country: rng.pick(COUNTRY_SPELLINGS[p.city.country]) };
    traits.member_tier = rng.chance(0.5) ? p.tier : { basic: '普通会员', silver: '银卡会员', gold: '金卡会员', diamond: '钻石会员' }[p.tier];
    traits.createdAt = new Date(p.memberSinceMs).toISOString();
    traits.preferred_language = p.culture === 'zh' ? rng.pick(['zh-CN', 'zh_CN', 'zh', '中文']) : rng.pick(['en', 'en-US', 'English']);
    Object.assign(traits, consentTraits(rng, p, sinceMs, 'crm'));
    push(b, 'crm', 'crm', sinceMs, { type: 'identify', ...crmIdentity, traits });

    // The same person keyed in again: another record, written differently.
    if (rng.chance(0.06)) {
      const copyId = crmId(index, 1);
      const dup: Record<string, unknown> = { name: p.culture === 'zh' && rng.chance(0.5) ? p.family + p.givenTypo : nameText(rng, p, 'any') };
      if (p.phone && rng.chance(0.8)) dup.phone = phoneText(rng, p.phone, 'crm');
      if (p.email && rng.chance(0.4)) dup.email = emailText(rng, p.email, 0.3);
      if (rng.chance(0.5)) dup.city = cityText(rng, p.city, true);
      dup.source_note = rng.pick(['门店手工录入', 'imported from legacy CRM 2019', 'Excel 导入', 'trade show lead']);
      const at = Math.min(cal.nowMs - 3_600_000, sinceMs + rng.int(20, 200) * DAY_MS);
      push(b, 'crm', 'crm-dup', at, { type: 'identify', anonymousId: `crm:${copyId}`, context: record('crm', copyId), traits: dup });
    }
    // A few withdraw marketing consent later in the year.
    if (p.consentEmail && rng.chance(0.07)) {
      const at = Math.min(cal.nowMs - 3_600_000, sinceMs + rng.int(30, 300) * DAY_MS);
      push(b, 'crm', 'crm-optout', at, { type: 'identify', ...crmIdentity, traits: { consent_marketing_email: false, consent_marketing_email_at: new Date(at).toISOString(), consent_source: 'unsubscribe_link' } });
      push(b, 'crm', 'crm-unsubscribed', at + 1000, { type: 'track', event: 'Email Unsubscribed', ...crmIdentity, properties: {} });
    }
  }

  // --- POS: member sign-up at the till, then store orders (below).
  const store = STORES.find((s) => s.city === p.city.key) ? streamOf(seed, index, 'store').pick(STORES.filter((s) => s.city === p.city.key)) : STORES[0]!;
  if (p.channels.has('pos')) {
    const rng = streamOf(seed, index, 'pos');
    const traits: Record<string, unknown> = { name: p.culture === 'zh' ? nameText(rng, p, 'native') : nameText(rng, p, 'latin'), store_id: store.id };
    if (p.phone) traits.phone = phoneText(rng, p.phone, 'pos');
    if (rng.chance(0.3) && p.birth) traits.birthday = `${String(p.birth.m).padStart(2, '0')}-${String(p.birth.d).padStart(2, '0')}`; // tills ask for the day only, for birthday coupons
    if (rng.chance(0.5)) traits.gender = genderText(rng, p.gender, p.culture);
    Object.assign(traits, consentTraits(rng, p, sinceMs, 'pos_signup'));
    push(b, 'pos', 'pos', Math.max(sinceMs, cal.startMs + p.firstDay * DAY_MS), { type: 'identify', ...posIdentity, traits });
  }

  // --- Web: anonymous browsing, sign-up, more browsing.
  const webRng = streamOf(seed, index, 'web');
  const signsUp = p.channels.has('web') && (p.orders > 0 || webRng.chance(0.35));
  const webSignupMs = instant(webRng, cal, Math.min(cal.days - 1, p.firstDay + webRng.int(0, 20)), 'online');
  const webIds = (atMs: number) => (signsUp && atMs >= webSignupMs ? { userId, anonymousId } : { anonymousId });
  let pageViews = 0;
  const englishSite = p.culture === 'en' || abroad || webRng.chance(0.1);
  const page = (atMs: number, kind: 'home' | 'category' | 'product' | 'cart' | 'checkout' | 'signup' | 'account', product?: Product, campaign?: Record<string, string>) => {
    const paths = { home: '/', category: `/c/${(product?.category ?? 'Beauty').toLowerCase()}`, product: `/p/${product?.id ?? 'BT-2005'}`, cart: '/cart', checkout: '/checkout', signup: '/signup', account: '/account' };
    const names = { home: 'Home', category: 'Category', product: 'Product', cart: 'Cart', checkout: 'Checkout', signup: 'Sign Up', account: 'Account' };
    const zhTitles = { home: '首页', category: CATEGORY_ZH[product?.category ?? 'Beauty'], product: product?.zh ?? '商品', cart: '购物车', checkout: '结算', signup: '注册', account: '我的账户' };
    const path = paths[kind];
    const host = englishSite ? 'https://shop.example.com' : 'https://shop.example.cn';
    const properties: Record<string, unknown> = { path, url: host + path, title: englishSite ? `${kind === 'product' ? product?.en : names[kind]} | Custodian Shop` : `${zhTitles[kind]} - 好物商城` };
    if (kind === 'product' && product) Object.assign(properties, { product_id: product.id, category: product.category });
    const context: Record<string, unknown> = { locale: englishSite ? 'en-US' : 'zh-CN' };
    if (campaign) context.campaign = campaign;
    push(b, 'web', `pv${pageViews++}`, atMs, { type: 'page', name: names[kind], ...webIds(atMs), properties, context });
  };
  if (p.channels.has('web')) {
    const sessions = Math.min(12, 1 + webRng.int(0, 2) + Math.round(p.orders * 0.6));
    for (let s = 0; s < sessions; s++) {
      const day = s === 0 ? Math.max(p.firstDay, Math.floor((webSignupMs - cal.startMs) / DAY_MS) - webRng.int(0, 3)) : pickDay(webRng, cal, p.firstDay, p.lastDay);
      let at = s === 0 ? Math.min(webSignupMs - 600_000, instant(webRng, cal, day, 'online')) : instant(webRng, cal, day, 'online');
      at = Math.max(cal.startMs + 60_000, at);
      const referrer = webRng.weighted<Record<string, string> | undefined>([[undefined, 5], [{ source: 'baidu', medium: 'cpc', name: 'brand' }, 1.5], [{ source: 'xiaohongshu', medium: 'social', name: 'kol' }, 1.5], [{ source: 'wechat', medium: 'social', name: 'article' }, 1], [{ source: 'google', medium: 'organic', name: '' }, englishSite ? 2 : 0.2]]);
      const product = webRng.weighted(PRODUCTS.map((x) => [x, productWeight(x, cal.monthOf(day), day, cal)] as const));
      page(at, 'home', undefined, referrer);
      const depth = webRng.int(0, 3);
      if (depth >= 1) page((at += webRng.int(5, 90) * 1000), 'category', product);
      if (depth >= 2) page((at += webRng.int(5, 120) * 1000), 'product', product);
      if (depth >= 3) page((at += webRng.int(5, 60) * 1000), 'cart', product);
    }
    if (signsUp) {
      page(webSignupMs - 90_000, 'signup');
      const traits: Record<string, unknown> = { name: nameText(webRng, p, p.culture === 'zh' && !englishSite ? 'any' : 'latin') };
      if (p.email) traits.email = emailText(webRng, webRng.chance(0.15) && p.altEmail ? p.altEmail : p.email, 0.03);
      if (p.phone && (p.culture === 'zh' || webRng.chance(0.4))) traits.phone = phoneText(webRng, p.phone, 'web');
      if (webRng.chance(0.5)) traits.address = { city: cityText(webRng, p.city, englishSite), country: webRng.pick(COUNTRY_SPELLINGS[p.city.country]) };
      if (p.birth && webRng.chance(0.3)) traits.birthday = birthdayText(webRng, p.birth);
      traits.createdAt = new Date(webSignupMs).toISOString();
      Object.assign(traits, consentTraits(webRng, p, webSignupMs, 'web_signup'));
      push(b, 'web', 'signup-identify', webSignupMs, { type: 'identify', userId, anonymousId, traits, context: { locale: englishSite ? 'en-US' : 'zh-CN' } });
      push(b, 'web', 'signup', webSignupMs + 1000, { type: 'track', event: 'Signed Up', userId, anonymousId, properties: { method: p.email ? 'email' : 'phone' } });
    }
  }

  // --- Mini-program: screens under a WeChat openid; the phone number once the user allows it.
  const miniRng = streamOf(seed, index, 'miniprogram');
  let screens = 0;
  const miniContext = { app: { name: '好物商城小程序', version: miniRng.pick(['3.2.0', '3.2.1', '3.3.0']) }, device: { type: 'wechat-miniprogram', model: miniRng.pick(['iPhone 14', 'iPhone 15 Pro', 'HUAWEI Mate 60', 'Xiaomi 14', 'OPPO Reno11', 'vivo X100']) }, locale: 'zh_CN' };
  if (p.channels.has('miniprogram')) {
    const boundMs = instant(miniRng, cal, Math.min(cal.days - 1, p.firstDay + miniRng.int(0, 10)), 'evening');
    const sessions = Math.min(10, 1 + miniRng.int(0, 2) + Math.round(p.orders * 0.5));
    for (let s = 0; s < sessions; s++) {
      const day = s === 0 ? Math.floor((boundMs - cal.startMs) / DAY_MS) : pickDay(miniRng, cal, p.firstDay, p.lastDay);
      let at = s === 0 ? boundMs - 120_000 : instant(miniRng, cal, day, 'evening');
      const product = miniRng.weighted(PRODUCTS.map((x) => [x, productWeight(x, cal.monthOf(day), day, cal)] as const));
      const path: Array<readonly [string, Record<string, unknown>]> = [['首页', { path: 'pages/index/index' }]];
      if (miniRng.chance(0.7)) path.push(['商品详情', { path: 'pages/goods/detail', product_id: product.id, product_name: product.zh, category: product.category }]);
      if (miniRng.chance(0.3)) path.push([miniRng.pick(['购物车', '会员中心', '优惠券', '我的订单']), { path: 'pages/user/center' }]);
      for (const [name, properties] of path) {
        push(b, 'miniprogram', `s${screens++}`, at, { type: 'screen', name, userId: openId, properties: { ...properties, scene: miniRng.pick([1001, 1007, 1011, 1047, 1089]) }, context: miniContext });
        at += miniRng.int(4, 80) * 1000;
      }
    }
    const traits: Record<string, unknown> = { nickname: miniRng.chance(0.6) ? miniRng.pick(WECHAT_NICKNAMES) : p.englishName ?? p.given, unionid: `o6_bm${miniRng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 23)}` };
    if (p.phone && miniRng.chance(0.75)) traits.phone = phoneText(miniRng, p.phone, 'mini');
    if (miniRng.chance(0.3)) traits.gender = miniRng.pick(p.gender === 'F' ? ['2', 'female', '女'] : ['1', 'male', '男']);
    if (miniRng.chance(0.4)) traits.city = cityText(miniRng, p.city, false);
    push(b, 'miniprogram', 'bind', boundMs, { type: 'identify', userId: openId, traits, context: miniContext });
  }

  // --- Orders: spread over the active window by the retail calendar.
  const orderRng = streamOf(seed, index, 'orders');
  const orderChannels: Array<readonly [Order['channel'], number]> = [];
  if (p.channels.has('pos')) orderChannels.push(['pos', 5]);
  if (p.channels.has('web') && signsUp) orderChannels.push(['web', 4]);
  if (p.channels.has('miniprogram')) orderChannels.push(['miniprogram', 4]);
  const orders: Order[] = [];
  if (orderChannels.length > 0) {
    for (let n = 0; n < p.orders; n++) {
      const channel = orderRng.weighted(orderChannels);
      const earliest = channel === 'web' ? Math.min(cal.days - 1, Math.floor((webSignupMs - cal.startMs) / DAY_MS)) : p.firstDay;
      const day = pickDay(orderRng, cal, Math.min(earliest, p.lastDay), Math.max(earliest, p.lastDay));
      let atMs = instant(orderRng, cal, day, channel === 'pos' ? 'store' : 'online');
      if (channel === 'web' && atMs < webSignupMs) atMs = webSignupMs + orderRng.int(60, 3600) * 1000;
      if (atMs >= cal.nowMs) atMs = cal.nowMs - orderRng.int(1, 3600) * 1000;
      const month = cal.monthOf(day);
      const lines = orderRng.weighted<number>([[1, 55], [2, 25], [3, 12], [4, 8]]);
      const usd = channel === 'web' && abroad && orderRng.chance(0.85);
      const rate = 7.2;
      const products: Array<Record<string, unknown>> = [];
      const categories: Category[] = [];
      let subtotal = 0;
      for (let l = 0; l < lines; l++) {
        const product = orderRng.weighted(PRODUCTS.map((x) => [x, productWeight(x, month, day, cal)] as const));
        const quantity = orderRng.weighted<number>([[1, 80], [2, 14], [3, 4], [6, 2]]);
        const price = usd ? Math.round((product.price / rate) * 100 - 1) / 100 : product.price;
        subtotal += price * quantity;
        categories.push(product.category);
        products.push({ product_id: product.id, sku: `${product.id}-${orderRng.pick(['S', 'M', 'L', 'STD'])}`, name: channel === 'pos' || (channel !== 'web') || !englishSite ? product.zh : product.en, category: product.category, price, quantity });
      }
      const { m, d } = cal.date(day);
      const promo = (m === 11 && d <= 11) || (m === 6 && d <= 18) || (m === 12 && d === 12);
      const campaignHit = campaigns.find((c) => day >= c.dayIndex && day <= c.dayIndex + 10);
      let discount = promo ? Math.round(subtotal * orderRng.pick([0.1, 0.15, 0.2, 0.3]) * 100) / 100 : 0;
      let coupon: string | undefined;
      if (campaignHit && p.channels.has('crm') && orderRng.chance(0.35)) {
        coupon = campaignHit.coupon;
        discount += usd ? 5 : 30;
      }
      discount = Math.min(discount, Math.round(subtotal * 0.5 * 100) / 100);
      const shipping = channel === 'pos' ? 0 : subtotal - discount >= (usd ? 49 : 99) ? 0 : usd ? 6.99 : 10;
      const revenue = Math.round((subtotal - discount) * 100) / 100;
      const id = channel === 'pos' ? `${store.id}-${String(scramble(index * 64 + n, 100_000_000)).padStart(8, '0')}` : `${channel === 'web' ? 'W' : 'MP'}${String(scramble(index * 64 + n, 1_000_000_000)).padStart(10, '0')}`;
      const properties: Record<string, unknown> = {
        order_id: id, channel: channel === 'pos' ? 'store' : channel, revenue, total: Math.round((revenue + shipping) * 100) / 100, currency: usd ? 'USD' : 'CNY', products,
        ...(discount > 0 ? { discount } : {}), ...(coupon ? { coupon, campaign_id: campaignHit!.id } : {}), ...(shipping > 0 ? { shipping } : {}),
      };
      if (channel === 'pos') Object.assign(properties, { store_id: store.id, store_name: store.name, payment_method: orderRng.weighted<string>([['wechat_pay', 45], ['alipay', 35], ['unionpay_card', 12], ['cash', 5], ['credit_card', 3]]) });
      else properties.payment_method = usd ? orderRng.pick(['credit_card', 'paypal', 'apple_pay']) : orderRng.weighted<string>([['wechat_pay', 50], ['alipay', 45], ['unionpay_card', 5]]);
      orders.push({ n, day, atMs, channel, id, revenue, currency: usd ? 'USD' : 'CNY', categories });
      if (channel === 'pos') push(b, 'pos', `o${n}`, atMs, { type: 'track', event: 'Order Completed', ...posIdentity, properties });
      else if (channel === 'web') {
        page(atMs - 120_000, 'checkout');
        push(b, 'web', `o${n}`, atMs, { type: 'track', event: 'Order Completed', userId, anonymousId, properties });
      } else push(b, 'miniprogram', `o${n}`, atMs, { type: 'track', event: 'Order Completed', userId: openId, properties, context: miniContext });
      // Returns: online more than in store.
      if (orderRng.chance(channel === 'pos' ? 0.015 : 0.05)) {
        const refundAt = Math.min(cal.nowMs - 60_000, atMs + orderRng.int(2, 14) * DAY_MS);
        const refund = { order_id: id, revenue, currency: properties.currency, channel: properties.channel, ...(channel === 'pos' ? { store_id: store.id } : {}), reason: orderRng.pick(['尺码不合适', 'damaged', '七天无理由退货', 'changed my mind', '质量问题']) };
        if (channel === 'pos') push(b, 'pos', `r${n}`, refundAt, { type: 'track', event: 'Order Refunded', ...posIdentity, properties: refund });
        else if (channel === 'web') push(b, 'web', `r${n}`, refundAt, { type: 'track', event: 'Order Refunded', userId, anonymousId, properties: refund });
        else push(b, 'miniprogram', `r${n}`, refundAt, { type: 'track', event: 'Order Refunded', userId: openId, properties: refund, context: miniContext });
      }
    }
  }

  // --- Survey tool: post-purchase NPS/CSAT, and complaints; the respondent typed their contact details.
  if (p.channels.has('survey') && orders.length > 0) {
    const rng = streamOf(seed, index, 'survey');
    let responses = 0;
    let complaints = 0;
    for (const order of orders) {
      const contact: Record<string, unknown> = {};
      if (p.email && rng.chance(0.7)) contact.email = emailText(rng, rng.chance(0.1) && p.altEmail ? p.altEmail : p.email, 0.05);
      else if (p.phone) contact.phone = phoneText(rng, p.phone, 'survey');
      else continue;
      if (rng.chance(0.35)) {
        const r = responses++;
        const responseId = `R_${(scramble(index * 64 + r, 1_000_000_000) + 2_000_000_000).toString(36)}${rng.chars('ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789', 6)}`;
        // Satisfaction: the person's mood, plus how this order went.
        const felt = Math.max(-1, Math.min(1, p.mood + (rng.next() - 0.5) * 0.9));
        const nps = Math.max(0, Math.min(10, Math.round(7.2 + felt * 4.2 + (rng.next() - 0.5) * 1.5)));
        const csat = Math.max(1, Math.min(5, Math.round(3.7 + felt * 1.6 + (rng.next() - 0.5))));
        const zh = p.culture === 'zh' && rng.chance(0.85);
        const properties: Record<string, unknown> = { survey_id: 'post-purchase', survey_name: zh ? '购物满意度调查' : 'How did we do?', response_id: responseId, nps, order_id: order.id, order_channel: order.channel, language: zh ? 'zh-CN' : 'en' };
        if (rng.chance(0.85)) properties.csat = csat;
        if (rng.chance(0.6)) {
          const bank = nps >= 9 ? COMMENTS.positive : nps >= 7 ? COMMENTS.neutral : COMMENTS.negative;
          const fitting = bank.filter((c) => /[\u4e00-\u9fff]/.test(c) === zh || rng.chance(0.1));
          properties.comment = rng.pick(fitting.length > 0 ? fitting : bank);
        }
        const at = Math.min(cal.nowMs - 60_000, order.atMs + rng.int(1, 4) * DAY_MS + rng.int(0, 36_000_000));
        push(b, 'survey', `sv${r}`, at, { type: 'track', event: 'Survey Responded', anonymousId: `survey:${responseId}`, properties, context: { ...record('survey', responseId), traits: contact } });
      }
      if (rng.chance(p.mood < -0.2 ? 0.2 : 0.04)) {
        const c = complaints++;
        const ticket = `T${String(scramble(index * 64 + c, 10_000_000)).padStart(7, '0')}`;
        const type = rng.weighted<ComplaintType>([['delivery', 4], ['quality', 3], ['service', 2], ['refund', 2], ['billing', 1], ['app', 1]]);
        const at = Math.min(cal.nowMs - 60_000, order.atMs + rng.int(1, 10) * DAY_MS);
        push(b, 'survey', `fb${c}`, at, {
          type: 'track', event: 'Feedback Submitted', anonymousId: `survey:${ticket}`,
          properties: {
            ticket_id: ticket, feedback_type: 'complaint', topic: type, comment: rng.pick(COMPLAINTS[type]), severity: rng.weighted<string>([['low', 3], ['medium', 4], ['high', 2]]), order_id: order.id,
            feedback_channel: rng.weighted<string>([['phone', 3], ['web', 2], ['wechat', 3], ['email', 1], ['store', order.channel === 'pos' ? 2 : 0]]),
          },
          context: { ...record('survey', ticket), traits: contact },
        });
      }
    }
  }

  // --- Campaign touches, sent from the CRM, named as docs/events.md names them (Segment's email
  // spec). Until campaigns exist as objects these are plain events carrying campaign_id; they move
  // to the campaigns' delivery records when those exist.
  if (p.channels.has('crm')) {
    const rng = streamOf(seed, index, 'campaigns');
    for (const campaign of campaigns) {
      const lapsed = p.churned || (p.orders === 0 && campaign.dayIndex > p.firstDay + 60);
      if (campaign.audience === 'lapsed' ? !lapsed : campaign.dayIndex < Math.floor((p.memberSinceMs - cal.startMs) / DAY_MS)) continue;
      const sentMs = cal.startMs + campaign.dayIndex * DAY_MS + 2 * 3_600_000 + rng.int(0, 7_200_000);
      if (sentMs >= cal.nowMs) continue;
      const base = { campaign_id: campaign.id, campaign_name: campaign.name };
      if (campaign.channels.includes('email') && p.consentEmail && rng.chance(0.9)) {
        if (rng.chance(p.mood > 0 ? 0.35 : 0.18)) {
          const openedMs = Math.min(cal.nowMs - 1000, sentMs + rng.int(5, 2880) * 60_000);
          push(b, 'crm', `c-${campaign.id}-open`, openedMs, { type: 'track', event: 'Email Opened', ...crmIdentity, properties: { ...base, email_subject: campaign.name } });
          if (rng.chance(0.3)) push(b, 'crm', `c-${campaign.id}-click`, Math.min(cal.nowMs - 1000, openedMs + rng.int(5, 600) * 1000), { type: 'track', event: 'Email Link Clicked', ...crmIdentity, properties: { ...base, link_url: `https://shop.example.cn/promo/${campaign.id}?utm_source=email&utm_campaign=${campaign.id}` } });
        }
      }
      if (campaign.channels.includes('sms') && p.consentSms && rng.chance(0.95)) {
        push(b, 'crm', `c-${campaign.id}-sms`, sentMs + rng.int(1, 300) * 1000, { type: 'track', event: 'SMS Delivered', ...crmIdentity, properties: { ...base, carrier: p.phone?.country === 'CN' ? rng.pick(['中国移动', '中国联通', '中国电信']) : 'intl' } });
      }
    }
  }

  b.out.sort((x, y) => (x.message.timestamp < y.message.timestamp ? -1 : x.message.timestamp > y.message.timestamp ? 1 : 0));
  return b.out;
}

/** The campaigns of the year before `now`, each on the local day it went out. */
function campaignsOf(cal: Calendar): Array<Campaign & { dayIndex: number }> {
  const out: Array<Campaign & { dayIndex: number }> = [];
  const lastYear = cal.date(cal.days - 1).y;
  for (const template of CAMPAIGN_TEMPLATES) {
    if (template.month === -1) {
      // The win-back goes out two months before today.
      const dayIndex = cal.days - 60;
      const { y, m } = cal.date(dayIndex);
      out.push({ ...template, id: `winback-${y}-${String(m).padStart(2, '0')}`, dayIndex });
      continue;
    }
    for (const year of [lastYear - 1, lastYear]) {
      let dayIndex: number | null;
      if (template.month === 0) {
        const cny = CHINESE_NEW_YEAR[year];
        dayIndex = cny ? cal.indexOf(year, cny[0], cny[1]) : null;
        if (dayIndex !== null) dayIndex = Math.max(0, dayIndex - 18);
      } else dayIndex = cal.indexOf(year, template.month, template.day);
      if (dayIndex !== null && dayIndex < cal.days - 1) out.push({ ...template, id: `${template.key}-${year}`, dayIndex });
    }
  }
  return out.sort((a, b) => a.dayIndex - b.dayIndex);
}

/** The messageId prefix of a seed's data set: `demo-<8 hex>`. */
export function demoPrefix(seed: string | number = DEFAULT_DEMO_SEED): string {
  return `demo-${seedNumber(seed).toString(16).padStart(8, '0')}`;
}

/**
 * The demo data set, person by person (each person's messages in time order):
 * a stream, so 100,000 customers need no more memory than one.
 */
export function* demoMessages(options: DemoOptions): Generator<DemoMessage, void, undefined> {
  if (!Number.isInteger(options.customers) || options.customers < 0 || options.customers > MAX_DEMO_CUSTOMERS) {
    throw new RangeError(`customers must be an integer from 0 to ${MAX_DEMO_CUSTOMERS}`);
  }
  const seed = seedNumber(options.seed ?? DEFAULT_DEMO_SEED);
  const prefix = demoPrefix(options.seed ?? DEFAULT_DEMO_SEED);
  const cal = buildCalendar(options.now);
  const campaigns = campaignsOf(cal);
  for (let i = 0; i < options.customers; i++) yield* generatePerson(seed, prefix, i, cal, campaigns);
}

/** What a demo load holds, counted as the messages go by. */
export interface DemoSummary {
  customers: number;
  messages: number;
  bySource: Record<DemoSource, number>;
  orders: number;
  /** by currency */
  revenue: Record<string, number>;
  surveyResponses: number;
  complaints: number;
  campaignTouches: number;
}

export function emptySummary(customers: number): DemoSummary {
  return { customers, messages: 0, bySource: { crm: 0, pos: 0, web: 0, miniprogram: 0, survey: 0 }, orders: 0, revenue: {}, surveyResponses: 0, complaints: 0, campaignTouches: 0 };
}

export function countMessage(summary: DemoSummary, { source, message }: DemoMessage): void {
  summary.messages += 1;
  summary.bySource[source] += 1;
  if (message.type !== 'track') return;
  if (message.event === 'Order Completed') {
    summary.orders += 1;
    const currency = String(message.properties?.currency ?? 'CNY');
    summary.revenue[currency] = Math.round(((summary.revenue[currency] ?? 0) + Number(message.properties?.revenue ?? 0)) * 100) / 100;
  } else if (message.event === 'Survey Responded') summary.surveyResponses += 1;
  else if (message.event === 'Feedback Submitted') summary.complaints += 1;
  else if (message.event === 'Email Opened' || message.event === 'Email Link Clicked' || message.event === 'SMS Delivered') summary.campaignTouches += 1;
}

/** The whole data set in memory, with its summary: for tests and small loads. */
export function generateDemo(options: DemoOptions): { messages: DemoMessage[]; summary: DemoSummary } {
  const messages = [...demoMessages(options)];
  const summary = emptySummary(options.customers);
  for (const m of messages) countMessage(summary, m);
  return { messages, summary };
}
