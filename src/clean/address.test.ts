import { describe, expect, it } from 'vitest';
import { standardizeAddress, standardizeCity, standardizeProvince, standardizeUsState, type StandardAddress } from './address.js';
import { CN_CITIES, CN_PROVINCES } from './cn-regions.js';
import { normalizeUsStreet } from './us-address.js';

const CN_FIRST = { countries: ['CN', 'US'] } as const;
const US_FIRST = { countries: ['US', 'CN'] } as const;
const NONE = { countries: [] } as const;

function value(raw: unknown, options: { countries: readonly string[] } = CN_FIRST): StandardAddress | string {
  const result = standardizeAddress(raw, options);
  return result.ok ? result.value : result.issue;
}

function rulesOf(raw: unknown, options: { countries: readonly string[] } = CN_FIRST): readonly string[] {
  const result = standardizeAddress(raw, options);
  return result.ok ? result.rules : [];
}

function flagsOf(raw: unknown, options: { countries: readonly string[] } = CN_FIRST): string[] {
  const result = standardizeAddress(raw, options);
  return result.ok ? result.flags.map((f) => f.code) : [];
}

// ─── Provinces ────────────────────────────────────────────────────────────

// full name, short forms, abbreviations, Latin names — written here independently of the table.
const PROVINCES: readonly [string, string[], string[], string[]][] = [
  ['北京市', ['北京'], ['京'], ['Beijing', 'BEIJING', 'Peking', 'Beijing Shi', 'Beijing Municipality']],
  ['天津市', ['天津'], ['津'], ['Tianjin', 'Tianjin City']],
  ['上海市', ['上海'], ['沪', '申'], ['Shanghai', 'shanghai', 'Shanghai Shi']],
  ['重庆市', ['重庆'], ['渝'], ['Chongqing', 'Chungking']],
  ['河北省', ['河北'], ['冀'], ['Hebei', 'Hebei Province', 'Hebei Sheng']],
  ['山西省', ['山西'], ['晋'], ['Shanxi']],
  ['内蒙古自治区', ['内蒙古', '内蒙', '内蒙古省'], ['蒙'], ['Inner Mongolia', 'Nei Mongol', 'Neimenggu', 'Inner Mongolia Autonomous Region']],
  ['辽宁省', ['辽宁'], ['辽'], ['Liaoning']],
  ['吉林省', ['吉林'], ['吉'], ['Jilin', 'Jilin Province']],
  ['黑龙江省', ['黑龙江'], ['黑'], ['Heilongjiang']],
  ['江苏省', ['江苏'], ['苏'], ['Jiangsu', 'JIANGSU']],
  ['浙江省', ['浙江'], ['浙'], ['Zhejiang']],
  ['安徽省', ['安徽'], ['皖'], ['Anhui']],
  ['福建省', ['福建'], ['闽'], ['Fujian']],
  ['江西省', ['江西'], ['赣'], ['Jiangxi']],
  ['山东省', ['山东'], ['鲁'], ['Shandong']],
  ['河南省', ['河南'], ['豫'], ['Henan']],
  ['湖北省', ['湖北'], ['鄂'], ['Hubei']],
  ['湖南省', ['湖南'], ['湘'], ['Hunan']],
  ['广东省', ['广东', '廣東', '廣東省'], ['粤'], ['Guangdong', 'guangdong province', 'Guang Dong']],
  ['广西壮族自治区', ['广西', '广西省', '广西自治区'], ['桂'], ['Guangxi', 'Guangxi Zhuang Autonomous Region']],
  ['海南省', ['海南'], ['琼'], ['Hainan']],
  ['四川省', ['四川'], ['川', '蜀'], ['Sichuan', 'Szechuan']],
  ['贵州省', ['贵州', '貴州'], ['贵', '黔'], ['Guizhou']],
  ['云南省', ['云南', '雲南'], ['云', '滇'], ['Yunnan']],
  ['西藏自治区', ['西藏', '西藏省'], ['藏'], ['Tibet', 'Xizang', 'Tibet Autonomous Region']],
  ['陕西省', ['陕西', '陝西'], ['陕', '秦'], ['Shaanxi']],
  ['甘肃省', ['甘肃', '甘肅'], ['甘', '陇'], ['Gansu']],
  ['青海省', ['青海'], ['青'], ['Qinghai']],
  ['宁夏回族自治区', ['宁夏', '宁夏自治区', '寧夏'], ['宁'], ['Ningxia', 'Ningxia Hui Autonomous Region']],
  ['新疆维吾尔自治区', ['新疆', '新疆省', '新疆自治区'], ['新'], ['Xinjiang', 'Xinjiang Uygur Autonomous Region']],
  ['香港特别行政区', ['香港', '香港特區'], ['港'], ['Hong Kong', 'Hongkong', 'Hong Kong SAR']],
  ['澳门特别行政区', ['澳门', '澳門'], ['澳'], ['Macau', 'Macao']],
  ['台湾省', ['台湾', '臺灣', '台灣'], ['台'], ['Taiwan']],
];

const ISO_3166_2: readonly [string, string][] = [
  ['CN-BJ', '北京市'], ['CN-TJ', '天津市'], ['CN-SH', '上海市'], ['CN-CQ', '重庆市'], ['CN-HE', '河北省'], ['CN-SX', '山西省'],
  ['CN-NM', '内蒙古自治区'], ['CN-LN', '辽宁省'], ['CN-JL', '吉林省'], ['CN-HL', '黑龙江省'], ['CN-JS', '江苏省'], ['CN-ZJ', '浙江省'],
  ['CN-AH', '安徽省'], ['CN-FJ', '福建省'], ['CN-JX', '江西省'], ['CN-SD', '山东省'], ['CN-HA', '河南省'], ['CN-HB', '湖北省'],
  ['CN-HN', '湖南省'], ['CN-GD', '广东省'], ['CN-GX', '广西壮族自治区'], ['CN-HI', '海南省'], ['CN-SC', '四川省'], ['CN-GZ', '贵州省'],
  ['CN-YN', '云南省'], ['CN-XZ', '西藏自治区'], ['CN-SN', '陕西省'], ['CN-GS', '甘肃省'], ['CN-QH', '青海省'], ['CN-NX', '宁夏回族自治区'],
  ['CN-XJ', '新疆维吾尔自治区'], ['CN-HK', '香港特别行政区'], ['CN-MO', '澳门特别行政区'], ['CN-TW', '台湾省'], ['cn-gd', '广东省'], ['CN GD', '广东省'],
];

describe('standardizeProvince', () => {
  it('has all 34 provincial-level divisions', () => {
    expect(CN_PROVINCES.map((p) => p.name).sort()).toEqual(PROVINCES.map(([full]) => full).sort());
  });

  const cases = PROVINCES.flatMap(([full, shorts, abbrs, latins]) => [full, ...shorts, ...abbrs, ...latins].map((input) => [input, full] as const));
  it.each(cases)('%s → %s', (input, full) => {
    const result = standardizeProvince(input);
    expect(result.ok && result.value).toBe(full);
  });

  it.each(ISO_3166_2)('%s → %s', (input, full) => {
    const result = standardizeProvince(input);
    expect(result.ok && result.value).toBe(full);
  });

  it.each([
    ['上海市', []],
    ['上海', ['province.full_name']],
    ['沪', ['province.full_name']],
    ['Shanghai', ['province.from_latin']],
    ['CN-SH', ['province.from_code']],
    [' 上海市 ', ['province.whitespace']],
  ])('%j records %j', (input, rules) => {
    expect(standardizeProvince(input)).toEqual({ ok: true, value: '上海市', rules, flags: [] });
  });

  it.each([
    ['', 'province.empty'],
    ['  ', 'province.empty'],
    [null, 'province.empty'],
    [undefined, 'province.empty'],
    [{}, 'province.unknown'],
    ['火星', 'province.unknown'],
    ['火星省', 'province.unknown'],
    ['Illinois', 'province.unknown'],
    ['Ontario', 'province.unknown'],
    ['GD', 'province.unknown'],
    ['asdf', 'province.unknown'],
    ['广', 'province.unknown'],
  ])('%j → %s', (input, issue) => {
    const result = standardizeProvince(input);
    expect(result.ok ? 'ok' : result.issue).toBe(issue);
  });
});

// ─── Cities ───────────────────────────────────────────────────────────────

describe('standardizeCity', () => {
  it('knows the prefecture-level divisions (333) plus municipalities and province-administered cities', () => {
    const prefectures = CN_CITIES.filter((c) => c.province.country === 'CN' && c.province.kind !== 'municipality');
    // 293 cities, 30 autonomous prefectures, 7 prefectures, 3 leagues + 济源, 仙桃, 潜江, 天门, 神农架, 5 of Hainan, 12 of the XPCC.
    expect(prefectures).toHaveLength(333 + 22);
    expect(CN_CITIES.filter((c) => c.name.endsWith('自治州'))).toHaveLength(30);
    expect(CN_CITIES.filter((c) => c.name.endsWith('盟'))).toHaveLength(3);
    expect(CN_CITIES.filter((c) => c.name.endsWith('地区'))).toHaveLength(7);
    expect(new Set(CN_CITIES.map((c) => c.name)).size).toBe(CN_CITIES.length);
  });

  // At least one city per province, by short name, full name, and Latin name within its province.
  it.each([
    ['北京', undefined, '北京市'],
    ['天津', undefined, '天津市'],
    ['上海', undefined, '上海市'],
    ['重庆', undefined, '重庆市'],
    ['石家庄', undefined, '石家庄市'],
    ['唐山市', undefined, '唐山市'],
    ['保定', '河北', '保定市'],
    ['太原', undefined, '太原市'],
    ['大同', '山西省', '大同市'],
    ['吕梁', undefined, '吕梁市'],
    ['呼和浩特', undefined, '呼和浩特市'],
    ['包头', undefined, '包头市'],
    ['鄂尔多斯', undefined, '鄂尔多斯市'],
    ['锡林郭勒盟', undefined, '锡林郭勒盟'],
    ['兴安盟', undefined, '兴安盟'],
    ['阿拉善', undefined, '阿拉善盟'],
    ['沈阳', undefined, '沈阳市'],
    ['大连', undefined, '大连市'],
    ['朝阳', '辽宁', '朝阳市'],
    ['长春', undefined, '长春市'],
    ['吉林', undefined, '吉林市'],
    ['延边', undefined, '延边朝鲜族自治州'],
    ['延边州', undefined, '延边朝鲜族自治州'],
    ['哈尔滨', undefined, '哈尔滨市'],
    ['齐齐哈尔', undefined, '齐齐哈尔市'],
    ['大兴安岭', undefined, '大兴安岭地区'],
    ['南京', undefined, '南京市'],
    ['苏州', undefined, '苏州市'],
    ['泰州', undefined, '泰州市'],
    ['杭州', undefined, '杭州市'],
    ['宁波市', undefined, '宁波市'],
    ['台州', undefined, '台州市'],
    ['合肥', undefined, '合肥市'],
    ['六安', undefined, '六安市'],
    ['亳州', undefined, '亳州市'],
    ['福州', undefined, '福州市'],
    ['厦门', undefined, '厦门市'],
    ['南昌', undefined, '南昌市'],
    ['景德镇', undefined, '景德镇市'],
    ['济南', undefined, '济南市'],
    ['青岛', undefined, '青岛市'],
    ['郑州', undefined, '郑州市'],
    ['济源', undefined, '济源市'],
    ['武汉', undefined, '武汉市'],
    ['恩施州', undefined, '恩施土家族苗族自治州'],
    ['神农架', undefined, '神农架林区'],
    ['仙桃', undefined, '仙桃市'],
    ['长沙', undefined, '长沙市'],
    ['湘西', undefined, '湘西土家族苗族自治州'],
    ['广州', undefined, '广州市'],
    ['深圳', undefined, '深圳市'],
    ['东莞', undefined, '东莞市'],
    ['中山', undefined, '中山市'],
    ['南宁', undefined, '南宁市'],
    ['桂林', undefined, '桂林市'],
    ['海口', undefined, '海口市'],
    ['三亚', undefined, '三亚市'],
    ['琼海', undefined, '琼海市'],
    ['成都', undefined, '成都市'],
    ['凉山', undefined, '凉山彝族自治州'],
    ['甘孜州', undefined, '甘孜藏族自治州'],
    ['贵阳', undefined, '贵阳市'],
    ['黔东南', undefined, '黔东南苗族侗族自治州'],
    ['昆明', undefined, '昆明市'],
    ['大理', undefined, '大理白族自治州'],
    ['西双版纳', undefined, '西双版纳傣族自治州'],
    ['拉萨', undefined, '拉萨市'],
    ['日喀则', undefined, '日喀则市'],
    ['阿里', undefined, '阿里地区'],
    ['西安', undefined, '西安市'],
    ['榆林', undefined, '榆林市'],
    ['兰州', undefined, '兰州市'],
    ['嘉峪关', undefined, '嘉峪关市'],
    ['临夏州', undefined, '临夏回族自治州'],
    ['西宁', undefined, '西宁市'],
    ['海东', undefined, '海东市'],
    ['海南州', undefined, '海南藏族自治州'],
    ['玉树', undefined, '玉树藏族自治州'],
    ['银川', undefined, '银川市'],
    ['中卫', undefined, '中卫市'],
    ['乌鲁木齐', undefined, '乌鲁木齐市'],
    ['喀什', undefined, '喀什地区'],
    ['伊犁', undefined, '伊犁哈萨克自治州'],
    ['巴州', undefined, '巴音郭楞蒙古自治州'],
    ['石河子', undefined, '石河子市'],
    ['台北', undefined, '台北市'],
    ['高雄', undefined, '高雄市'],
    ['廣州', undefined, '广州市'],
    ['瀋陽', undefined, '沈阳市'],
    [' 广州 ', undefined, '广州市'],
    // Latin names, given a Chinese province
    ['Guangzhou', '广东', '广州市'],
    ['Shenzhen', 'Guangdong', '深圳市'],
    ['shenzhen shi', '广东省', '深圳市'],
    ['Hangzhou', '浙江省', '杭州市'],
    ['Taizhou', '浙江', '台州市'],
    ['Taizhou', '江苏', '泰州市'],
    ['Suzhou', '江苏', '苏州市'],
    ['Suzhou', '安徽', '宿州市'],
    ["Xi'an", '陕西', '西安市'],
    ['Urumqi', '新疆', '乌鲁木齐市'],
    ['Hohhot', '内蒙古', '呼和浩特市'],
    ['Lhasa', 'Tibet', '拉萨市'],
    ['Harbin', '黑龙江', '哈尔滨市'],
    ['Shanghai', '上海', '上海市'],
    ['上海', '上海市', '上海市'],
    // Western cities
    ['new york', undefined, 'New York'],
    ['NEW YORK', 'NY', 'New York'],
    ['San Francisco', undefined, 'San Francisco'],
    ['SAN FRANCISCO', undefined, 'San Francisco'],
    ['los angeles', 'CA', 'Los Angeles'],
    ['st. louis', undefined, 'St. Louis'],
    ['winston-salem', undefined, 'Winston-Salem'],
    ["o'fallon", undefined, "O'Fallon"],
    ['mcallen', undefined, 'McAllen'],
    ['McAllen', undefined, 'McAllen'],
    ['DeKalb', undefined, 'DeKalb'],
    ['coeur d alene', undefined, "Coeur D Alene"],
    ['  springfield  ', undefined, 'Springfield'],
    ['münchen', undefined, 'München'],
    ['LONDON', undefined, 'London'],
    ['Kunshan', '江苏', 'Kunshan'],
  ] as const)('%j (%s) → %s', (input, province, expected) => {
    const result = standardizeCity(input, province);
    expect(result.ok && result.value).toBe(expected);
  });

  it.each([
    ['广州', undefined, ['city.full_name']],
    ['广州市', undefined, []],
    ['Guangzhou', '广东', ['city.from_latin']],
    ['new york', undefined, ['city.proper_case']],
    ['New York', undefined, []],
    [' New York', undefined, ['city.whitespace']],
  ] as const)('%j records %j', (input, province, rules) => {
    const result = standardizeCity(input, province);
    expect(result.ok && result.rules).toEqual(rules);
  });

  it.each([
    ['', undefined, 'city.empty'],
    ['   ', undefined, 'city.empty'],
    [null, undefined, 'city.empty'],
    ['N/A', undefined, 'city.empty'],
    [{}, undefined, 'city.unknown'],
    ['火星市', undefined, 'city.unknown'],
    ['昆山市', undefined, 'city.unknown'],
    ['杭州', '广东', 'city.unknown'],
    ['不存在', undefined, 'city.unknown'],
    ['12345', undefined, 'city.unknown'],
  ] as const)('%j (%s) → %s', (input, province, issue) => {
    const result = standardizeCity(input, province);
    expect(result.ok ? 'ok' : result.issue).toBe(issue);
  });
});

// ─── US states ────────────────────────────────────────────────────────────

describe('standardizeUsState', () => {
  it.each([
    ['Alabama', 'AL'], ['Alaska', 'AK'], ['Arizona', 'AZ'], ['Arkansas', 'AR'], ['California', 'CA'], ['Colorado', 'CO'],
    ['Connecticut', 'CT'], ['Delaware', 'DE'], ['Florida', 'FL'], ['Georgia', 'GA'], ['Hawaii', 'HI'], ['Idaho', 'ID'],
    ['Illinois', 'IL'], ['Indiana', 'IN'], ['Iowa', 'IA'], ['Kansas', 'KS'], ['Kentucky', 'KY'], ['Louisiana', 'LA'],
    ['Maine', 'ME'], ['Maryland', 'MD'], ['Massachusetts', 'MA'], ['Michigan', 'MI'], ['Minnesota', 'MN'], ['Mississippi', 'MS'],
    ['Missouri', 'MO'], ['Montana', 'MT'], ['Nebraska', 'NE'], ['Nevada', 'NV'], ['New Hampshire', 'NH'], ['New Jersey', 'NJ'],
    ['New Mexico', 'NM'], ['New York', 'NY'], ['North Carolina', 'NC'], ['North Dakota', 'ND'], ['Ohio', 'OH'], ['Oklahoma', 'OK'],
    ['Oregon', 'OR'], ['Pennsylvania', 'PA'], ['Rhode Island', 'RI'], ['South Carolina', 'SC'], ['South Dakota', 'SD'], ['Tennessee', 'TN'],
    ['Texas', 'TX'], ['Utah', 'UT'], ['Vermont', 'VT'], ['Virginia', 'VA'], ['Washington', 'WA'], ['West Virginia', 'WV'],
    ['Wisconsin', 'WI'], ['Wyoming', 'WY'], ['District of Columbia', 'DC'], ['Washington DC', 'DC'], ['Washington, D.C.', 'DC'],
    ['American Samoa', 'AS'], ['Guam', 'GU'], ['Northern Mariana Islands', 'MP'], ['Puerto Rico', 'PR'], ['U.S. Virgin Islands', 'VI'],
    ['Virgin Islands', 'VI'], ['Armed Forces Europe', 'AE'], ['Armed Forces Pacific', 'AP'], ['Armed Forces Americas', 'AA'],
    ['Marshall Islands', 'MH'], ['Palau', 'PW'],
    // codes, case, traditional abbreviations
    ['IL', 'IL'], ['il', 'IL'], ['Il', 'IL'], [' IL ', 'IL'], ['Ill.', 'IL'], ['ill.', 'IL'], ['ILLINOIS', 'IL'], ['illinois', 'IL'],
    ['Calif.', 'CA'], ['Cal.', 'CA'], ['Ariz.', 'AZ'], ['Ala.', 'AL'], ['Ark.', 'AR'], ['Colo.', 'CO'], ['Conn.', 'CT'], ['Del.', 'DE'],
    ['Fla.', 'FL'], ['Ind.', 'IN'], ['Kans.', 'KS'], ['Kan.', 'KS'], ['Mass.', 'MA'], ['Mich.', 'MI'], ['Minn.', 'MN'], ['Miss.', 'MS'],
    ['Mont.', 'MT'], ['Nebr.', 'NE'], ['Nev.', 'NV'], ['N.H.', 'NH'], ['N.J.', 'NJ'], ['N.Mex.', 'NM'], ['N.Y.', 'NY'], ['N.C.', 'NC'],
    ['N. Dak.', 'ND'], ['Okla.', 'OK'], ['Ore.', 'OR'], ['Oreg.', 'OR'], ['Pa.', 'PA'], ['Penn.', 'PA'], ['R.I.', 'RI'], ['S.C.', 'SC'],
    ['S. Dak.', 'SD'], ['Tenn.', 'TN'], ['Tex.', 'TX'], ['Va.', 'VA'], ['Vt.', 'VT'], ['Wash.', 'WA'], ['W. Va.', 'WV'], ['Wis.', 'WI'],
    ['Wisc.', 'WI'], ['Wyo.', 'WY'], ['D.C.', 'DC'], ['DC', 'DC'], ['ny', 'NY'], ['tx', 'TX'], ['PR', 'PR'], ['GU', 'GU'],
  ])('%s → %s', (input, code) => {
    const result = standardizeUsState(input);
    expect(result.ok && result.value).toBe(code);
  });

  it.each([
    ['IL', []],
    ['Illinois', ['state.code']],
    ['il', ['state.code']],
  ])('%s records %j', (input, rules) => {
    expect(standardizeUsState(input)).toEqual({ ok: true, value: 'IL', rules, flags: [] });
  });

  it.each([
    ['', 'state.empty'],
    [' ', 'state.empty'],
    [null, 'state.empty'],
    [{}, 'state.unknown'],
    ['Ontario', 'state.unknown'],
    ['ON', 'state.unknown'],
    ['British Columbia', 'state.unknown'],
    ['广东', 'state.unknown'],
    ['XX', 'state.unknown'],
    ['Illinoi', 'state.unknown'],
    ['New', 'state.unknown'],
  ])('%j → %s', (input, issue) => {
    const result = standardizeUsState(input);
    expect(result.ok ? 'ok' : result.issue).toBe(issue);
  });
});

// ─── Chinese addresses in one line ────────────────────────────────────────

const cn = (province: string | undefined, city: string | undefined, district: string | undefined, street: string | undefined, extra: Partial<StandardAddress> = {}): StandardAddress => {
  const out: StandardAddress = { country: 'CN' };
  if (province) out.province = province;
  if (city) out.city = city;
  if (district) out.district = district;
  if (street) out.street = street;
  return { ...out, ...extra };
};

const CN_LINES: readonly [string, StandardAddress][] = [
    // the brief's shapes
    ['上海市浦东新区世纪大道100号', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['广东省深圳市南山区科技园科苑路15号', cn('广东省', '深圳市', '南山区', '科技园科苑路15号')],
    ['北京朝阳区建国路88号SOHO现代城', cn('北京市', '北京市', '朝阳区', '建国路88号SOHO现代城')],
    ['浙江杭州西湖区文三路 478 号', cn('浙江省', '杭州市', '西湖区', '文三路478号')],
    ['内蒙古呼和浩特市赛罕区大学西街235号', cn('内蒙古自治区', '呼和浩特市', '赛罕区', '大学西街235号')],
    ['新疆乌鲁木齐市天山区解放北路100号', cn('新疆维吾尔自治区', '乌鲁木齐市', '天山区', '解放北路100号')],
    // municipalities
    ['北京市东城区东长安街1号', cn('北京市', '北京市', '东城区', '东长安街1号')],
    ['北京市海淀区中关村大街27号', cn('北京市', '北京市', '海淀区', '中关村大街27号')],
    ['北京市西城区金融大街35号', cn('北京市', '北京市', '西城区', '金融大街35号')],
    ['北京市密云区鼓楼东大街', cn('北京市', '北京市', '密云区', '鼓楼东大街')],
    ['天津市和平区南京路189号', cn('天津市', '天津市', '和平区', '南京路189号')],
    ['天津滨海新区第二大街57号', cn('天津市', '天津市', '滨海新区', '第二大街57号')],
    ['重庆市渝中区解放碑民族路188号', cn('重庆市', '重庆市', '渝中区', '解放碑民族路188号')],
    ['重庆市巫山县广东路100号', cn('重庆市', '重庆市', '巫山县', '广东路100号')],
    ['上海市黄浦区南京东路300号', cn('上海市', '上海市', '黄浦区', '南京东路300号')],
    ['上海市徐汇区漕溪北路88号', cn('上海市', '上海市', '徐汇区', '漕溪北路88号')],
    ['上海崇明区城桥镇八一路', cn('上海市', '上海市', '崇明区', '城桥镇八一路')],
    // every province, with and without 省/市
    ['河北省石家庄市长安区中山东路39号', cn('河北省', '石家庄市', '长安区', '中山东路39号')],
    ['河北廊坊市三河市燕郊镇迎宾路', cn('河北省', '廊坊市', '三河市', '燕郊镇迎宾路')],
    ['山西省太原市小店区长治路111号', cn('山西省', '太原市', '小店区', '长治路111号')],
    ['山西大同市平城区', cn('山西省', '大同市', '平城区', undefined)],
    ['内蒙古自治区包头市昆都仑区钢铁大街', cn('内蒙古自治区', '包头市', '昆都仑区', '钢铁大街')],
    ['内蒙古鄂尔多斯市东胜区', cn('内蒙古自治区', '鄂尔多斯市', '东胜区', undefined)],
    ['内蒙古锡林郭勒盟锡林浩特市', cn('内蒙古自治区', '锡林郭勒盟', '锡林浩特市', undefined)],
    ['内蒙古呼伦贝尔市鄂伦春自治旗', cn('内蒙古自治区', '呼伦贝尔市', '鄂伦春自治旗', undefined)],
    ['辽宁省沈阳市和平区中华路', cn('辽宁省', '沈阳市', '和平区', '中华路')],
    ['辽宁大连市中山区人民路', cn('辽宁省', '大连市', '中山区', '人民路')],
    ['吉林省长春市朝阳区人民大街', cn('吉林省', '长春市', '朝阳区', '人民大街')],
    ['吉林省吉林市船营区', cn('吉林省', '吉林市', '船营区', undefined)],
    ['吉林延边州延吉市', cn('吉林省', '延边朝鲜族自治州', '延吉市', undefined)],
    ['黑龙江省哈尔滨市道里区中央大街', cn('黑龙江省', '哈尔滨市', '道里区', '中央大街')],
    ['黑龙江大庆市萨尔图区', cn('黑龙江省', '大庆市', '萨尔图区', undefined)],
    ['黑龙江大兴安岭地区加格达奇区', cn('黑龙江省', '大兴安岭地区', '加格达奇区', undefined)],
    ['江苏省南京市玄武区中山路1号', cn('江苏省', '南京市', '玄武区', '中山路1号')],
    ['江苏省南京市鼓楼区汉中路', cn('江苏省', '南京市', '鼓楼区', '汉中路')],
    ['江苏苏州工业园区星湖街328号', cn('江苏省', '苏州市', undefined, '工业园区星湖街328号')],
    ['江苏省苏州市昆山市前进路100号', cn('江苏省', '苏州市', '昆山市', '前进路100号')],
    ['浙江省宁波市鄞州区天童南路', cn('浙江省', '宁波市', '鄞州区', '天童南路')],
    ['浙江省金华市义乌市稠城街道', cn('浙江省', '金华市', '义乌市', '稠城街道')],
    ['浙江温州市鹿城区', cn('浙江省', '温州市', '鹿城区', undefined)],
    ['安徽省合肥市蜀山区长江西路', cn('安徽省', '合肥市', '蜀山区', '长江西路')],
    ['安徽六安市金安区', cn('安徽省', '六安市', '金安区', undefined)],
    ['福建省厦门市思明区鹭江道8号', cn('福建省', '厦门市', '思明区', '鹭江道8号')],
    ['福建福州市鼓楼区五四路', cn('福建省', '福州市', '鼓楼区', '五四路')],
    ['江西省南昌市东湖区八一大道', cn('江西省', '南昌市', '东湖区', '八一大道')],
    ['江西赣州市章贡区', cn('江西省', '赣州市', '章贡区', undefined)],
    ['山东省青岛市市南区香港中路', cn('山东省', '青岛市', '市南区', '香港中路')],
    ['山东济南市历下区泉城路', cn('山东省', '济南市', '历下区', '泉城路')],
    ['河南省郑州市金水区花园路', cn('河南省', '郑州市', '金水区', '花园路')],
    ['河南洛阳市老城区', cn('河南省', '洛阳市', '老城区', undefined)],
    ['河南省济源市济水大街', cn('河南省', '济源市', undefined, '济水大街')],
    ['湖北省武汉市洪山区珞喻路1037号', cn('湖北省', '武汉市', '洪山区', '珞喻路1037号')],
    ['湖北省恩施土家族苗族自治州恩施市舞阳大街', cn('湖北省', '恩施土家族苗族自治州', '恩施市', '舞阳大街')],
    ['湖北省神农架林区松柏镇', cn('湖北省', '神农架林区', undefined, '松柏镇')],
    ['湖南省长沙市岳麓区麓山南路', cn('湖南省', '长沙市', '岳麓区', '麓山南路')],
    ['湖南湘西州吉首市人民路', cn('湖南省', '湘西土家族苗族自治州', '吉首市', '人民路')],
    ['广东省广州市天河区天河路385号', cn('广东省', '广州市', '天河区', '天河路385号')],
    ['广东东莞市长安镇振安路', cn('广东省', '东莞市', undefined, '长安镇振安路')],
    ['广东省中山市石岐区孙文中路', cn('广东省', '中山市', '石岐区', '孙文中路')],
    ['广东省佛山市顺德区北滘镇', cn('广东省', '佛山市', '顺德区', '北滘镇')],
    ['广西壮族自治区南宁市青秀区民族大道100号', cn('广西壮族自治区', '南宁市', '青秀区', '民族大道100号')],
    ['广西桂林市秀峰区', cn('广西壮族自治区', '桂林市', '秀峰区', undefined)],
    ['海南省海口市龙华区滨海大道', cn('海南省', '海口市', '龙华区', '滨海大道')],
    ['海南三亚市天涯区', cn('海南省', '三亚市', '天涯区', undefined)],
    ['海南省琼海市嘉积镇', cn('海南省', '琼海市', undefined, '嘉积镇')],
    ['四川省成都市武侯区人民南路四段', cn('四川省', '成都市', '武侯区', '人民南路四段')],
    ['四川凉山州西昌市', cn('四川省', '凉山彝族自治州', '西昌市', undefined)],
    ['贵州省贵阳市南明区中华南路', cn('贵州省', '贵阳市', '南明区', '中华南路')],
    ['贵州黔东南州凯里市', cn('贵州省', '黔东南苗族侗族自治州', '凯里市', undefined)],
    ['云南省昆明市五华区东风西路', cn('云南省', '昆明市', '五华区', '东风西路')],
    ['云南大理州大理市下关镇', cn('云南省', '大理白族自治州', '大理市', '下关镇')],
    ['云南西双版纳州景洪市', cn('云南省', '西双版纳傣族自治州', '景洪市', undefined)],
    ['西藏自治区拉萨市城关区北京中路', cn('西藏自治区', '拉萨市', '城关区', '北京中路')],
    ['西藏日喀则市桑珠孜区', cn('西藏自治区', '日喀则市', '桑珠孜区', undefined)],
    ['陕西省西安市雁塔区长安南路', cn('陕西省', '西安市', '雁塔区', '长安南路')],
    ['陕西榆林市榆阳区', cn('陕西省', '榆林市', '榆阳区', undefined)],
    ['甘肃省兰州市城关区东岗西路', cn('甘肃省', '兰州市', '城关区', '东岗西路')],
    ['甘肃临夏州临夏市', cn('甘肃省', '临夏回族自治州', '临夏市', undefined)],
    ['甘肃省临夏回族自治州积石山保安族东乡族撒拉族自治县', cn('甘肃省', '临夏回族自治州', '积石山保安族东乡族撒拉族自治县', undefined)],
    ['青海省西宁市城西区五四大街', cn('青海省', '西宁市', '城西区', '五四大街')],
    ['青海海西州格尔木市', cn('青海省', '海西蒙古族藏族自治州', '格尔木市', undefined)],
    ['青海省海南藏族自治州共和县', cn('青海省', '海南藏族自治州', '共和县', undefined)],
    ['宁夏回族自治区银川市兴庆区解放西街', cn('宁夏回族自治区', '银川市', '兴庆区', '解放西街')],
    ['宁夏中卫市沙坡头区', cn('宁夏回族自治区', '中卫市', '沙坡头区', undefined)],
    ['新疆维吾尔自治区喀什地区喀什市', cn('新疆维吾尔自治区', '喀什地区', '喀什市', undefined)],
    ['新疆伊犁州伊宁市', cn('新疆维吾尔自治区', '伊犁哈萨克自治州', '伊宁市', undefined)],
    ['新疆石河子市北四路', cn('新疆维吾尔自治区', '石河子市', undefined, '北四路')],
    // one-character abbreviations
    ['沪闵行区莘庄镇', cn('上海市', '上海市', '闵行区', '莘庄镇')],
    ['沪浦东新区世纪大道100号', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['京海淀区中关村', cn('北京市', '北京市', '海淀区', '中关村')],
    ['京朝阳区建国路88号', cn('北京市', '北京市', '朝阳区', '建国路88号')],
    ['粤广州市越秀区', cn('广东省', '广州市', '越秀区', undefined)],
    ['粤深圳市南山区科苑路15号', cn('广东省', '深圳市', '南山区', '科苑路15号')],
    ['川成都市锦江区', cn('四川省', '成都市', '锦江区', undefined)],
    ['浙杭州市上城区', cn('浙江省', '杭州市', '上城区', undefined)],
    ['苏南京市鼓楼区', cn('江苏省', '南京市', '鼓楼区', undefined)],
    ['鄂武汉市江汉区', cn('湖北省', '武汉市', '江汉区', undefined)],
    ['渝北区龙溪街道', cn(undefined, undefined, '渝北区', '龙溪街道')],
    ['津南区咸水沽镇', cn(undefined, undefined, '津南区', '咸水沽镇')],
    // no province: filled from the city
    ['广州天河区天河路385号', cn('广东省', '广州市', '天河区', '天河路385号')],
    ['深圳南山区科技园', cn('广东省', '深圳市', '南山区', '科技园')],
    ['杭州市西湖区', cn('浙江省', '杭州市', '西湖区', undefined)],
    ['吉林市船营区解放路1号', cn('吉林省', '吉林市', '船营区', '解放路1号')],
    ['延边州延吉市', cn('吉林省', '延边朝鲜族自治州', '延吉市', undefined)],
    ['成都市高新区天府大道', cn('四川省', '成都市', '高新区', '天府大道')],
    ['中山石岐区孙文中路', cn('广东省', '中山市', '石岐区', '孙文中路')],
    ['海南州共和县', cn('青海省', '海南藏族自治州', '共和县', undefined)],
    ['广州天河', cn('广东省', '广州市', undefined, '天河')],
    // district only
    ['浦东新区世纪大道100号', cn(undefined, undefined, '浦东新区', '世纪大道100号')],
    // country and postcode
    ['中国上海市浦东新区世纪大道100号', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['中国广东省深圳市福田区深南大道', cn('广东省', '深圳市', '福田区', '深南大道')],
    ['中华人民共和国北京市西城区', cn('北京市', '北京市', '西城区', undefined)],
    ['中国 浙江省 杭州市 余杭区 文一西路969号', cn('浙江省', '杭州市', '余杭区', '文一西路969号')],
    ['200120 上海市浦东新区世纪大道100号', cn('上海市', '上海市', '浦东新区', '世纪大道100号', { postalCode: '200120' })],
    ['518000 广东省深圳市南山区', cn('广东省', '深圳市', '南山区', undefined, { postalCode: '518000' })],
    ['广东省深圳市南山区粤海街道 518057', cn('广东省', '深圳市', '南山区', '粤海街道', { postalCode: '518057' })],
    ['上海市浦东新区世纪大道100号，邮编：200120', cn('上海市', '上海市', '浦东新区', '世纪大道100号', { postalCode: '200120' })],
    ['上海市黄浦区南京东路300号(邮编200001)', cn('上海市', '上海市', '黄浦区', '南京东路300号', { postalCode: '200001' })],
    ['上海市浦东新区世纪大道100号, China', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['上海市浦东新区世纪大道100号，中国', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['100022 中国北京市朝阳区建国路88号', cn('北京市', '北京市', '朝阳区', '建国路88号', { postalCode: '100022' })],
    // repeated and padded forms from official exports and forms
    ['上海市上海市浦东新区张江路', cn('上海市', '上海市', '浦东新区', '张江路')],
    ['北京市市辖区东城区', cn('北京市', '北京市', '东城区', undefined)],
    ['上海 浦东新区 世纪大道 100号', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['广东省，深圳市，南山区，科苑路15号', cn('广东省', '深圳市', '南山区', '科苑路15号')],
    ['广东省-深圳市-南山区-科苑路15号', cn('广东省', '深圳市', '南山区', '科苑路15号')],
    ['广东省深圳市南山区科苑路１５号', cn('广东省', '深圳市', '南山区', '科苑路15号')],
    ['  上海市浦东新区世纪大道100号  ', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    ['广西省南宁市青秀区', cn('广西壮族自治区', '南宁市', '青秀区', undefined)],
    // traditional script: names matched, the rest kept as written
    ['廣東省深圳市南山區科苑路15號', cn('广东省', '深圳市', '南山區', '科苑路15號')],
    // street names that are city names
    ['上海市静安区北京西路1号', cn('上海市', '上海市', '静安区', '北京西路1号')],
    ['广州市越秀区中山五路', cn('广东省', '广州市', '越秀区', '中山五路')],
    ['广州市天河区广州大道中', cn('广东省', '广州市', '天河区', '广州大道中')],
    // Hong Kong, Macao, Taiwan: their own country code
    ['香港九龙尖沙咀弥敦道100号', { country: 'HK', street: '九龙尖沙咀弥敦道100号' }],
    ['中国香港特别行政区中环皇后大道中', { country: 'HK', street: '中环皇后大道中' }],
    ['澳门特别行政区新马路', { country: 'MO', street: '新马路' }],
    ['台湾台北市大安区', { country: 'TW', city: '台北市', district: '大安区' }],
    ['台北市信义区信义路五段7号', { country: 'TW', city: '台北市', district: '信义区', street: '信义路五段7号' }],
    // Latin parts written first, a country word at the end
    ['Room 1201, 上海市浦东新区世纪大道100号', cn('上海市', '上海市', '浦东新区', '世纪大道100号 Room 1201')],
    ['上海市浦东新区世纪大道100号 中国', cn('上海市', '上海市', '浦东新区', '世纪大道100号')],
    // institutions named after their place keep the name whole
    ['北京市海淀区北京大学', cn('北京市', '北京市', '海淀区', '北京大学')],
    ['浙江省杭州市西湖区浙江大学玉泉校区', cn('浙江省', '杭州市', '西湖区', '浙江大学玉泉校区')],
    ['广东省深圳市宝安区西乡街道', cn('广东省', '深圳市', '宝安区', '西乡街道')],
    ['四川省成都市天府新区', cn('四川省', '成都市', '天府新区', undefined)],
    ['陕西省西安市长安区', cn('陕西省', '西安市', '长安区', undefined)],
    ['湖南省长沙市宁乡市', cn('湖南省', '长沙市', '宁乡市', undefined)],
    ['陕西省汉中市西乡县', cn('陕西省', '汉中市', '西乡县', undefined)],
    ['山西省阳泉市矿区', cn('山西省', '阳泉市', '矿区', undefined)],
    ['河北省唐山市路南区', cn('河北省', '唐山市', '路南区', undefined)],
    ['广东省广州市番禺区市桥街道', cn('广东省', '广州市', '番禺区', '市桥街道')],
    ['上海市', cn('上海市', '上海市', undefined, undefined)],
    ['广东省广州市', cn('广东省', '广州市', undefined, undefined)],
    ['深圳', cn('广东省', '深圳市', undefined, undefined)],
    ['内蒙古', cn('内蒙古自治区', undefined, undefined, undefined)],
    ['中国台湾省台北市', { country: 'TW', city: '台北市' }],
    // a province and a city that do not agree: both kept, flagged
    ['广东省杭州市西湖区', cn('广东省', '杭州市', '西湖区', undefined)],
];

describe('standardizeAddress: China, one line', () => {
  it.each(CN_LINES)('%s', (line, expected) => {
    expect(value(line)).toEqual(expected);
  });

  it.each([
    ['上海市浦东新区世纪大道100号', ['address.parsed', 'address.country_inferred']],
    ['北京朝阳区建国路88号', ['address.parsed', 'address.country_inferred', 'address.province_normalized']],
    ['浙江杭州西湖区文三路478号', ['address.parsed', 'address.country_inferred', 'address.province_normalized', 'address.city_normalized']],
    ['广州天河区天河路385号', ['address.parsed', 'address.country_inferred', 'address.province_from_city', 'address.city_normalized']],
    ['中国上海市浦东新区世纪大道100号', ['address.parsed', 'address.country_code']],
    ['沪浦东新区世纪大道100号', ['address.parsed', 'address.country_inferred', 'address.province_normalized']],
  ])('%s records %j', (line, rules) => {
    expect([...rulesOf(line)].sort()).toEqual([...rules].sort());
  });

  it.each([
    ['广东省杭州市西湖区', ['address.province_city_mismatch']],
    ['上海市浦东新区世纪大道100号', []],
    ['世纪大道100号', ['address.unstructured']],
  ])('%s flags %j', (line, flags) => {
    expect(flagsOf(line)).toEqual(flags);
  });

  it.each([
    // road names that start with a place name are streets, not places
    ['中山路100号', cn(undefined, undefined, undefined, '中山路100号')],
    ['南京东路300号', cn(undefined, undefined, undefined, '南京东路300号')],
    ['北京路12号', cn(undefined, undefined, undefined, '北京路12号')],
    ['东方红路8号', cn(undefined, undefined, undefined, '东方红路8号')],
    ['浙江大学玉泉校区', cn(undefined, undefined, undefined, '浙江大学玉泉校区')],
    ['北京饭店', cn(undefined, undefined, undefined, '北京饭店')],
    ['阿里巴巴西溪园区', cn(undefined, undefined, undefined, '阿里巴巴西溪园区')],
    ['中山公园', cn(undefined, undefined, undefined, '中山公园')],
    ['朝阳门外大街', cn(undefined, undefined, undefined, '朝阳门外大街')],
    ['世纪大道100号', cn(undefined, undefined, undefined, '世纪大道100号')],
    ['某某小区3栋201室', cn(undefined, undefined, undefined, '某某小区3栋201室')],
  ])('%s is kept whole as the street, flagged', (line, expected) => {
    expect(value(line)).toEqual(expected);
    expect(flagsOf(line)).toEqual(['address.unstructured']);
  });

  it('keeps a foreign address in Chinese script whole under its country', () => {
    expect(value('美国加利福尼亚州旧金山市市场街1号')).toEqual({ country: 'US', street: '加利福尼亚州旧金山市市场街1号' });
    expect(flagsOf('美国加利福尼亚州旧金山市市场街1号')).toEqual(['address.unstructured']);
  });
});

// ─── Chinese addresses in Latin script ────────────────────────────────────

describe('standardizeAddress: China, Latin script', () => {
  it.each([
    ['88 Jianguo Road, Chaoyang District, Beijing 100022, China', cn('北京市', '北京市', 'Chaoyang District', '88 Jianguo Road', { postalCode: '100022' })],
    ['Room 1201, 88 Jianguo Road, Chaoyang District, Beijing, China', cn('北京市', '北京市', 'Chaoyang District', 'Room 1201, 88 Jianguo Road')],
    ['15 Keyuan Road, Nanshan District, Shenzhen, Guangdong, China', cn('广东省', '深圳市', 'Nanshan District', '15 Keyuan Road')],
    ['100 Century Avenue, Pudong New Area, Shanghai 200120, PRC', cn('上海市', '上海市', 'Pudong New Area', '100 Century Avenue', { postalCode: '200120' })],
    ['478 wensan road, xihu district, hangzhou, zhejiang', cn('浙江省', '杭州市', 'Xihu District', '478 Wensan Road')],
    ['1 Tianfu Avenue, Chengdu, Sichuan Province, P.R. China', cn('四川省', '成都市', undefined, '1 Tianfu Avenue')],
    ['Tianhe District, Guangzhou', cn('广东省', '广州市', 'Tianhe District', undefined)],
  ])('%s', (line, expected) => {
    expect(value(line)).toEqual(expected);
  });
});

// ─── US addresses in one line ─────────────────────────────────────────────

const us = (state: string, city: string | undefined, street: string | undefined, postalCode?: string): StandardAddress => {
  const out: StandardAddress = { country: 'US', province: state };
  if (city) out.city = city;
  if (street) out.street = street;
  if (postalCode) out.postalCode = postalCode;
  return out;
};

const US_LINES: readonly [string, StandardAddress][] = [
    ['1600 Pennsylvania Avenue NW, Washington, DC 20500', us('DC', 'Washington', '1600 Pennsylvania Ave NW', '20500')],
    ['123 main street apt 4, springfield, illinois 62704', us('IL', 'Springfield', '123 Main St Apt 4', '62704')],
    ['123 Main St Springfield IL 62704', us('IL', 'Springfield', '123 Main St', '62704')],
    ['350 Fifth Avenue, New York, NY 10118', us('NY', 'New York', '350 Fifth Ave', '10118')],
    ['350 5th Ave, New York, NY 10118-0110', us('NY', 'New York', '350 5th Ave', '10118-0110')],
    ['1 Infinite Loop, Cupertino, CA 95014', us('CA', 'Cupertino', '1 Infinite Loop', '95014')],
    ['233 S. Wacker Drive, Suite 3300, Chicago, IL 60606', us('IL', 'Chicago', '233 S Wacker Dr Ste 3300', '60606')],
    ['500 West Madison Street, Chicago, Illinois 60661', us('IL', 'Chicago', '500 W Madison St', '60661')],
    ['1 Microsoft Way, Redmond, WA 98052', us('WA', 'Redmond', '1 Microsoft Way', '98052')],
    ['410 Terry Ave N, Seattle, WA 98109', us('WA', 'Seattle', '410 Terry Ave N', '98109')],
    ['410 Terry Avenue North, Seattle, Washington 98109', us('WA', 'Seattle', '410 Terry Ave N', '98109')],
    ['1 Apple Park Way, Cupertino, California 95014', us('CA', 'Cupertino', '1 Apple Park Way', '95014')],
    ['4059 Mt Lee Dr, Hollywood, CA 90068', us('CA', 'Hollywood', '4059 Mt Lee Dr', '90068')],
    ['200 Central Park West, New York, NY 10024', us('NY', 'New York', '200 Central Park W', '10024')],
    ['30 Rockefeller Plaza, New York, NY 10112', us('NY', 'New York', '30 Rockefeller Plz', '10112')],
    ['2 Lincoln Memorial Circle NW, Washington, DC 20037', us('DC', 'Washington', '2 Lincoln Memorial Cir NW', '20037')],
    ['1060 W Addison St, Chicago, IL 60613', us('IL', 'Chicago', '1060 W Addison St', '60613')],
    ['600 Montgomery Street, San Francisco, CA 94111', us('CA', 'San Francisco', '600 Montgomery St', '94111')],
    ['11 Wall Street, New York, NY 10005', us('NY', 'New York', '11 Wall St', '10005')],
    ['123 Main St., Apt. 5B, Boston, MA 02108', us('MA', 'Boston', '123 Main St Apt 5B', '02108')],
    ['9 OAK LANE, GREENWICH, CT 06830', us('CT', 'Greenwich', '9 Oak Ln', '06830')],
    ['701 Brazos St, Austin, Tex. 78701', us('TX', 'Austin', '701 Brazos St', '78701')],
    ['PO Box 1234, Anchorage, AK 99501', us('AK', 'Anchorage', 'PO Box 1234', '99501')],
    ['P.O. Box 55, Juneau, Alaska 99801', us('AK', 'Juneau', 'PO Box 55', '99801')],
    ['123 Main St\nSpringfield, IL 62704', us('IL', 'Springfield', '123 Main St', '62704')],
    ['1234 N. Lake Shore Drive Apartment 12B, Chicago, IL 60610', us('IL', 'Chicago', '1234 N Lake Shore Dr Apt 12B', '60610')],
    ['10 Ocean Boulevard, Miami Beach, FL 33139', us('FL', 'Miami Beach', '10 Ocean Blvd', '33139')],
    ['55 Palm Canyon Dr Palm Springs CA 92262', us('CA', 'Palm Springs', '55 Palm Canyon Dr', '92262')],
    ['1 Main St Saint Louis MO 63101', us('MO', 'Saint Louis', '1 Main St', '63101')],
    ['2500 Sand Hill Road, Menlo Park, CA 94025', us('CA', 'Menlo Park', '2500 Sand Hill Rd', '94025')],
    ['123 North Main Street Suite 200 Chicago IL 60601', us('IL', 'Chicago', '123 N Main St Ste 200', '60601')],
    ['1600 Pennsylvania Avenue NW Washington DC 20500', us('DC', 'Washington', '1600 Pennsylvania Ave NW', '20500')],
    ['100 Main Street, Springfield, IL 62701-1234', us('IL', 'Springfield', '100 Main St', '62701-1234')],
    ['100 Main Street, Springfield, IL 627011234', us('IL', 'Springfield', '100 Main St', '62701-1234')],
    ['100 Main Street, Springfield, IL 62701 1234', us('IL', 'Springfield', '100 Main St', '62701-1234')],
    ['100 Main Street, Springfield, IL, 62701', us('IL', 'Springfield', '100 Main St', '62701')],
    ['45 Elm St, Hartford, CT 6103', us('CT', 'Hartford', '45 Elm St', '06103')],
    ['123 Main St, San Juan, PR 00901', us('PR', 'San Juan', '123 Main St', '00901')],
    ['742 evergreen terrace, springfield, or 97477', us('OR', 'Springfield', '742 Evergreen Ter', '97477')],
    ['4 Privet Drive, Little Whinging, New Hampshire 03101', us('NH', 'Little Whinging', '4 Privet Dr', '03101')],
    ['1 Main St, Charleston, West Virginia 25301', us('WV', 'Charleston', '1 Main St', '25301')],
    ['1 Main St, Charleston, W. Va. 25301', us('WV', 'Charleston', '1 Main St', '25301')],
    ['Springfield, IL 62704', us('IL', 'Springfield', undefined, '62704')],
    ['100 Avenue of the Americas, New York, NY 10013', us('NY', 'New York', '100 Avenue of the Americas', '10013')],
    ['123 North Ave, Atlanta, GA 30308', us('GA', 'Atlanta', '123 North Ave', '30308')],
    ['123 Court Street, Brooklyn, NY 11201', us('NY', 'Brooklyn', '123 Court St', '11201')],
    ['12 Parkway, Denver, CO 80202', us('CO', 'Denver', '12 Parkway', '80202')],
    ['77 Massachusetts Ave, Cambridge, MA 02139, USA', us('MA', 'Cambridge', '77 Massachusetts Ave', '02139')],
    ['1 Main St, Springfield, IL 62704, United States', us('IL', 'Springfield', '1 Main St', '62704')],
    ['1 Main St, Springfield, IL 62704 USA', us('IL', 'Springfield', '1 Main St', '62704')],
    ['1 Main St, Springfield, IL 62704, U.S.A.', us('IL', 'Springfield', '1 Main St', '62704')],
    ['500 S Buena Vista St #12, Burbank, CA 91521', us('CA', 'Burbank', '500 S Buena Vista St #12', '91521')],
    ['500 S Buena Vista St Apt #12, Burbank, CA 91521', us('CA', 'Burbank', '500 S Buena Vista St Apt 12', '91521')],
    ['36 Northeast Second Street Floor 3, Miami, FL 33132', us('FL', 'Miami', '36 NE Second St Fl 3', '33132')],
    ['1 Hacker Way Bldg 10, Menlo Park, CA 94025', us('CA', 'Menlo Park', '1 Hacker Way Bldg 10', '94025')],
    ['42ND STREET 100, NEW YORK, NY 10036', us('NY', 'New York', '42nd Street 100', '10036')],
    ['8 Old Town Sq, Alexandria, Va 22314', us('VA', 'Alexandria', '8 Old Town Sq', '22314')],
    ['Apt 4, 123 Main St, Springfield, IL 62704', us('IL', 'Springfield', '123 Main St Apt 4', '62704')],
    ['Suite 100, 1 Market St, San Francisco, CA 94105', us('CA', 'San Francisco', '1 Market St Ste 100', '94105')],
    ['123 Main St Apt 4 Springfield IL 62704-1234', us('IL', 'Springfield', '123 Main St Apt 4', '62704-1234')],
    ['1600 Pennsylvania Ave NW, Washington DC 20500', us('DC', 'Washington', '1600 Pennsylvania Ave NW', '20500')],
    ['New York, NY', us('NY', 'New York', undefined)],
    ['Springfield, IL', us('IL', 'Springfield', undefined)],
    ['1 Main St, Springfield, Georgia 30301', us('GA', 'Springfield', '1 Main St', '30301')],
    ['1 Main St, Trenton, New Jersey 08608', us('NJ', 'Trenton', '1 Main St', '08608')],
    ['1 Main St, Santa Fe, New Mexico 87501', us('NM', 'Santa Fe', '1 Main St', '87501')],
    ['1 Main St, Kansas City, MO 64105', us('MO', 'Kansas City', '1 Main St', '64105')],
    ['1 Main St, Virginia Beach, VA 23451', us('VA', 'Virginia Beach', '1 Main St', '23451')],
    ['1 Main St, Carson City, NV 89701', us('NV', 'Carson City', '1 Main St', '89701')],
    ['1 Main St, Hagatna, Guam 96910', us('GU', 'Hagatna', '1 Main St', '96910')],
    ['Unit 2050 Box 4190, APO, AP 96278', us('AP', 'APO', 'Unit 2050 Box 4190', '96278')],
];

describe('standardizeAddress: US, one line', () => {
  it.each(US_LINES)('%s', (line, expected) => {
    expect(value(line)).toEqual(expected);
  });

  it.each([
    ['1600 Pennsylvania Avenue NW, Washington, DC 20500', ['address.parsed', 'address.country_inferred', 'address.suffix_abbreviated']],
    ['123 main street apt 4, springfield, illinois 62704', ['address.parsed', 'address.country_inferred', 'address.state_code', 'address.city_normalized', 'address.suffix_abbreviated', 'address.proper_case']],
    ['123 Main St, Springfield, IL 62704', ['address.parsed', 'address.country_inferred']],
    ['123 Main St, Springfield, IL 62704, USA', ['address.parsed', 'address.country_code']],
    ['500 West Madison St, Chicago, IL 60661', ['address.parsed', 'address.country_inferred', 'address.directional_abbreviated']],
    ['1 Main St Suite 4, Chicago, IL 60601', ['address.parsed', 'address.country_inferred', 'address.unit_abbreviated']],
    ['P.O. Box 55, Juneau, AK 99801', ['address.parsed', 'address.country_inferred', 'address.po_box']],
    ['45 Elm St, Hartford, CT 6103', ['address.parsed', 'address.country_inferred', 'address.postal_code_normalized']],
  ])('%s records %j', (line, rules) => {
    expect([...rulesOf(line)].sort()).toEqual([...rules].sort());
  });

  it.each([
    ['123 Main St, Springfield, IL 627', us('IL', 'Springfield', '123 Main St'), ['address.postal_code_invalid']],
    ['123 Main St, Springfield, IL 6270', us('IL', 'Springfield', '123 Main St'), ['address.postal_code_invalid']],
    ['123 Main St, Springfield, IL 00000', us('IL', 'Springfield', '123 Main St'), ['address.postal_code_invalid']],
    ['123 Main St, Springfield, IL 6270412', us('IL', 'Springfield', '123 Main St'), ['address.postal_code_invalid']],
    ['123 Main St, Springfield, IL 99999', us('IL', 'Springfield', '123 Main St', '99999'), ['address.zip_state_mismatch']],
    ['1 Main St, Boston, MA 90210', us('MA', 'Boston', '1 Main St', '90210'), ['address.zip_state_mismatch']],
    ['1 Main St, El Paso, TX 88510', us('TX', 'El Paso', '1 Main St', '88510'), []],
    ['1 Main St, Holtsville, NY 00501', us('NY', 'Holtsville', '1 Main St', '00501'), []],
  ])('%s: a bad ZIP is flagged, the rest kept', (line, expected, flags) => {
    expect(value(line, US_FIRST)).toEqual(expected);
    expect(flagsOf(line, US_FIRST)).toEqual(flags);
  });

  it.each([
    // a state without ZIP is US only when the source's countries say so
    ['742 Evergreen Terrace, Springfield, Oregon', US_FIRST, us('OR', 'Springfield', '742 Evergreen Ter')],
    ['742 Evergreen Terrace, Springfield, Oregon', CN_FIRST, us('OR', 'Springfield', '742 Evergreen Ter')],
    ['742 Evergreen Terrace, Springfield, Oregon', NONE, { street: '742 Evergreen Terrace, Springfield, Oregon' }],
    ['1 Main St, Springfield, IL', { countries: ['US'] }, us('IL', 'Springfield', '1 Main St')],
  ] as const)('%s with %j', (line, options, expected) => {
    expect(value(line, options)).toEqual(expected);
  });
});

// ─── Objects ──────────────────────────────────────────────────────────────

describe('standardizeAddress: objects', () => {
  it.each<[Record<string, unknown>, StandardAddress]>([
    [{ street: '123 main street', city: 'springfield', state: 'Illinois', postalCode: '62704' }, us('IL', 'Springfield', '123 Main St', '62704')],
    [{ street: '1600 Pennsylvania Avenue NW', city: 'Washington', state: 'DC', postalCode: '20500', country: 'US' }, us('DC', 'Washington', '1600 Pennsylvania Ave NW', '20500')],
    [{ street: '233 S Wacker Dr', street2: 'Suite 3300', city: 'Chicago', state: 'IL', zip: '60606' }, us('IL', 'Chicago', '233 S Wacker Dr Ste 3300', '60606')],
    [{ address1: '1 Main Street', address2: 'Apt 2', city: 'Boston', province: 'Massachusetts', zip: '02108', country: 'United States' }, us('MA', 'Boston', '1 Main St Apt 2', '02108')],
    [{ line1: '350 Fifth Avenue', city: 'New York', state: 'ny', postal_code: 10118 }, us('NY', 'New York', '350 Fifth Ave', '10118')],
    [{ street: '1 Main St', city: 'Boston', state: 'MA', postalCode: '2108' }, us('MA', 'Boston', '1 Main St', '02108')],
    [{ street: '1 Main St', city: 'Boston', state: 'MA', postalCode: 'ABCDE' }, us('MA', 'Boston', '1 Main St')],
    [{ country: 'United States', state: 'ny', city: 'new york' }, us('NY', 'New York', undefined)],
    [{ street: '1600 Amphitheatre Parkway, Mountain View, CA 94043' }, us('CA', 'Mountain View', '1600 Amphitheatre Pkwy', '94043')],
    [{ street: '  1 Main St  ', city: ' Boston ', state: 'MA', postalCode: '02108' }, us('MA', 'Boston', '1 Main St', '02108')],
    [{ city: 'Toronto', state: 'Ontario', country: 'US' }, { country: 'US', province: 'Ontario', city: 'Toronto' }],
    [{ street: '科苑路15号', city: '深圳', province: '广东' }, cn('广东省', '深圳市', undefined, '科苑路15号')],
    [{ city: 'Shenzhen', state: 'Guangdong', country: 'China' }, cn('广东省', '深圳市', undefined, undefined)],
    [{ street: '广东省深圳市南山区科技园科苑路15号', country: 'CN' }, cn('广东省', '深圳市', '南山区', '科技园科苑路15号')],
    [{ province: '沪', city: '上海', district: '浦东新区', street: '世纪大道100号', postalCode: '200120' }, cn('上海市', '上海市', '浦东新区', '世纪大道100号', { postalCode: '200120' })],
    [{ province: '上海市', city: '上海市', district: '浦东新区', street: '世纪大道100号', postalCode: '200120', country: 'CN' }, cn('上海市', '上海市', '浦东新区', '世纪大道100号', { postalCode: '200120' })],
    [{ city: '广州' }, cn('广东省', '广州市', undefined, undefined)],
    [{ city: '上海' }, cn('上海市', '上海市', undefined, undefined)],
    [{ province: '北京' }, cn('北京市', '北京市', undefined, undefined)],
    [{ province: '浙江', street: '杭州市西湖区文三路478号' }, cn('浙江省', '杭州市', '西湖区', '文三路478号')],
    [{ province: '江苏省', city: '昆山市', street: '前进路100号' }, cn('江苏省', '昆山市', undefined, '前进路100号')],
    [{ province: '火星', city: '广州' }, cn('广东省', '广州市', undefined, undefined)],
    [{ province: '火星', street: '某路1号', country: 'CN' }, cn('火星', undefined, undefined, '某路1号')],
    [{ street: '世纪大道100号', city: '上海', postalCode: '20012' }, cn('上海市', '上海市', undefined, '世纪大道100号')],
    [{ city: 'Beijing', country: 'CN' }, cn('北京市', '北京市', undefined, undefined)],
    [{ street: 'Room 1201, 88 Jianguo Road', district: 'Chaoyang District', city: 'Beijing', postalCode: '100022', country: 'China' }, cn('北京市', '北京市', 'Chaoyang District', 'Room 1201, 88 Jianguo Road', { postalCode: '100022' })],
    [{ province: '广东省', city: '杭州市' }, cn('广东省', '杭州市', undefined, undefined)],
    [{ street: '香港九龙弥敦道100号' }, { country: 'HK', street: '九龙弥敦道100号' }],
    [{ street: '10 Downing Street', city: 'LONDON', postalCode: 'sw1a 2aa', country: 'UK' }, { country: 'GB', city: 'London', street: '10 Downing Street', postalCode: 'SW1A 2AA' }],
    [{ street: 'Unter den Linden 77', city: 'Berlin', postalCode: '10117', country: 'Deutschland' }, { country: 'DE', city: 'Berlin', street: 'Unter den Linden 77', postalCode: '10117' }],
    [{ street: '1 Rue de Rivoli', city: 'Paris', country: 'Atlantis' }, { street: '1 Rue de Rivoli', city: 'Paris' }],
  ])('%j', (input, expected) => {
    expect(value(input, input['country'] === 'Atlantis' ? NONE : CN_FIRST)).toEqual(expected);
  });

  it.each([
    [{ street: '1600 Pennsylvania Ave NW', city: 'Washington', state: 'DC', postalCode: '20500', country: 'US' }, []],
    [{ province: '上海市', city: '上海市', district: '浦东新区', street: '世纪大道100号', country: 'CN' }, []],
    [{ street: '1 Main St', city: 'Boston', state: 'MA', postalCode: '02108' }, ['address.country_inferred']],
    [{ street: '1 Main St', city: ' Boston', state: 'MA', postalCode: '02108', country: 'US' }, ['address.whitespace']],
    [{ city: '广州' }, ['address.country_inferred', 'address.province_from_city', 'address.city_normalized']],
    [{ province: 'Guangdong', city: 'Shenzhen', country: 'China' }, ['address.country_code', 'address.province_normalized', 'address.city_normalized']],
  ])('%j records %j', (input, rules) => {
    expect([...rulesOf(input)].sort()).toEqual([...rules].sort());
  });

  it.each([
    [{ street: '1 Main St', city: 'Boston', state: 'MA', postalCode: 'ABCDE' }, ['address.postal_code_invalid']],
    [{ city: 'Toronto', state: 'Ontario', country: 'US' }, ['address.state_unknown']],
    [{ province: '江苏省', city: '昆山市' }, ['address.city_unknown']],
    [{ province: '火星', city: '广州' }, ['address.province_unknown']],
    [{ street: '世纪大道100号', city: '上海', postalCode: '20012' }, ['address.postal_code_invalid']],
    [{ province: '广东省', city: '杭州市' }, ['address.province_city_mismatch']],
    [{ street: '1 Rue de Rivoli', city: 'Paris', country: 'Atlantis' }, ['address.country_unknown']],
  ])('%j flags %j', (input, flags) => {
    expect(flagsOf(input, NONE)).toEqual(flags);
  });
});

// ─── Already standard ─────────────────────────────────────────────────────

describe('standardizeAddress: a standard address is left alone', () => {
  // The structured output of every line above, fed back as an object, comes back unchanged with no rules.
  const mismatched = new Set(['广东省杭州市西湖区']);
  it.each([...CN_LINES, ...US_LINES].filter(([line]) => !mismatched.has(line)))('%s', (_line, expected) => {
    const result = standardizeAddress(expected, NONE);
    expect(result).toEqual({ ok: true, value: expected, rules: [], flags: [] });
  });
});

// ─── Bad input ────────────────────────────────────────────────────────────

describe('standardizeAddress: bad input', () => {
  it.each([
    ['', 'address.empty'],
    ['   ', 'address.empty'],
    ['\n\t', 'address.empty'],
    [null, 'address.empty'],
    [undefined, 'address.empty'],
    ['N/A', 'address.empty'],
    ['n/a', 'address.empty'],
    ['null', 'address.empty'],
    ['undefined', 'address.empty'],
    ['none', 'address.empty'],
    ['Unknown', 'address.empty'],
    ['无', 'address.empty'],
    ['不详', 'address.empty'],
    ['暂无', 'address.empty'],
    ['---', 'address.empty'],
    ['???', 'address.empty'],
    [', , ,', 'address.empty'],
    [{}, 'address.empty'],
    [{ street: '' }, 'address.empty'],
    [{ street: '   ', city: null }, 'address.empty'],
    [{ foo: 'bar' }, 'address.empty'],
    [{ street: 'N/A', city: 'null' }, 'address.empty'],
    [true, 'address.unparseable'],
    [[], 'address.unparseable'],
    [['1 Main St'], 'address.unparseable'],
    [() => 1, 'address.unparseable'],
  ])('%j → %s', (input, issue) => {
    expect(value(input)).toBe(issue);
  });

  it.each([
    ['asdfgh qwerty', { street: 'asdfgh qwerty' }],
    ['lorem ipsum dolor', { street: 'lorem ipsum dolor' }],
    ['12345', { street: '12345' }],
    [42, { street: '42' }],
    ['123 Main St', { street: '123 Main St' }],
    ['1 Main St, Springfield', { street: '1 Main St, Springfield' }],
    ['123 Main St, Springfield, ZZ 62704', { street: '123 Main St, Springfield, ZZ 62704' }],
    ['10 Downing Street, London SW1A 2AA, United Kingdom', { country: 'GB', street: '10 Downing Street, London SW1A 2AA' }],
    ['Calle Mayor 1, 28013 Madrid, España', { country: 'ES', street: 'Calle Mayor 1, 28013 Madrid' }],
    ['世纪大道100号', cn(undefined, undefined, undefined, '世纪大道100号')],
    ['火星基地一号', cn(undefined, undefined, undefined, '火星基地一号')],
  ])('%j is kept whole, flagged unstructured', (input, expected) => {
    expect(value(input)).toEqual(expected);
    expect(flagsOf(input)).toContain('address.unstructured');
  });
});

// ─── Linear time ──────────────────────────────────────────────────────────

describe('standardizeAddress: long and hostile input stays linear', () => {
  it.each([
    ['parentheses', '上' + '('.repeat(100_000)],
    ['separators', '上' + ',('.repeat(50_000) + 'x'],
    ['digits', '上' + '1'.repeat(100_000) + '号'],
    ['spaces', 'a' + ' '.repeat(100_000) + 'b'],
    ['commas', 'x' + ' , '.repeat(50_000) + 'x'],
    ['province names', '广东省'.repeat(50_000)],
    ['street words', 'Main St '.repeat(20_000) + 'IL 62704'],
  ])('%s', (_name, text) => {
    const started = performance.now();
    standardizeAddress(text, CN_FIRST);
    standardizeAddress({ street: text, city: text, state: text, postalCode: text }, CN_FIRST);
    standardizeCity(text, text);
    standardizeProvince(text);
    // Linear work is tens of milliseconds here; a quadratic pattern takes many seconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

// ─── USPS street normalization ────────────────────────────────────────────

describe('normalizeUsStreet', () => {
  it.each([
    ['123 Main Street', '123 Main St'],
    ['123 Main Avenue', '123 Main Ave'],
    ['123 Main Av', '123 Main Ave'],
    ['123 Main Boulevard', '123 Main Blvd'],
    ['123 Main Road', '123 Main Rd'],
    ['123 Main Drive', '123 Main Dr'],
    ['123 Main Lane', '123 Main Ln'],
    ['123 Main Court', '123 Main Ct'],
    ['123 Main Place', '123 Main Pl'],
    ['123 Main Circle', '123 Main Cir'],
    ['123 Main Parkway', '123 Main Pkwy'],
    ['123 Main Highway', '123 Main Hwy'],
    ['123 Main Terrace', '123 Main Ter'],
    ['123 Main Trail', '123 Main Trl'],
    ['123 Main Square', '123 Main Sq'],
    ['123 Main Plaza', '123 Main Plz'],
    ['123 Main Expressway', '123 Main Expy'],
    ['123 Main Freeway', '123 Main Fwy'],
    ['123 Main Turnpike', '123 Main Tpke'],
    ['123 Main Crossing', '123 Main Xing'],
    ['123 Main Alley', '123 Main Aly'],
    ['123 Main Center', '123 Main Ctr'],
    ['123 Main Centre', '123 Main Ctr'],
    ['123 Main Heights', '123 Main Hts'],
    ['123 Main Junction', '123 Main Jct'],
    ['123 Main Mountain', '123 Main Mtn'],
    ['123 Main Point', '123 Main Pt'],
    ['123 Main Ridge', '123 Main Rdg'],
    ['123 Main Springs', '123 Main Spgs'],
    ['123 Main Station', '123 Main Sta'],
    ['123 Main Valley', '123 Main Vly'],
    ['123 Main Village', '123 Main Vlg'],
    ['123 Main Causeway', '123 Main Cswy'],
    ['123 Main Crescent', '123 Main Cres'],
    ['123 Main Estates', '123 Main Ests'],
    ['123 Main Gardens', '123 Main Gdns'],
    ['123 Main Harbor', '123 Main Hbr'],
    ['123 Main Hollow', '123 Main Holw'],
    ['123 Main Landing', '123 Main Lndg'],
    ['123 Main Meadows', '123 Main Mdws'],
    ['123 Main Orchard', '123 Main Orch'],
    ['123 Main Route', '123 Main Rte'],
    ['123 Main Way', '123 Main Way'],
    ['123 Main St.', '123 Main St'],
    ['123 Main Str', '123 Main St'],
    ['123 North Main Street', '123 N Main St'],
    ['123 South Main Street', '123 S Main St'],
    ['123 East Main Street', '123 E Main St'],
    ['123 West Main Street', '123 W Main St'],
    ['123 Main Street Northwest', '123 Main St NW'],
    ['123 Main Street Southeast', '123 Main St SE'],
    ['123 Main Street N.W.', '123 Main St NW'],
    ['123 North Street', '123 North St'],
    ['123 West Broadway', '123 W Broadway'],
    ['123 Main Street Apartment 4', '123 Main St Apt 4'],
    ['123 Main Street Suite 200', '123 Main St Ste 200'],
    ['123 Main Street Building 2 Floor 3', '123 Main St Bldg 2 Fl 3'],
    ['123 Main Street Room 12', '123 Main St Rm 12'],
    ['123 Main Street Unit 7a', '123 Main St Unit 7A'],
    ['123 Main Street Apt # 4', '123 Main St Apt 4'],
    ['123 Main Street Lot 12', '123 Main St Lot 12'],
    ['123 main street', '123 Main St'],
    ['123 MAIN STREET', '123 Main St'],
    ['123 JFK Boulevard', '123 JFK Blvd'],
    ['123 McDonald Avenue', '123 McDonald Ave'],
    ['123 mcdonald avenue', '123 McDonald Ave'],
    ["123 o'hare drive", "123 O'Hare Dr"],
    ['123 Court Street', '123 Court St'],
    ['123 Street', '123 Street'],
    ['post office box 9', 'PO Box 9'],
    ['P O Box 9', 'PO Box 9'],
    ['PO Box 9', 'PO Box 9'],
    ['1 avenue of the americas', '1 Avenue of the Americas'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeUsStreet(input).street).toBe(expected);
  });
});
