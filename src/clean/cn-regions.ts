/**
 * China's provincial-level divisions and prefecture-level divisions, with the
 * short forms, one-character abbreviations and Latin (pinyin, postal and
 * English) names people write them with. Districts and counties are not
 * listed: address parsing recognises them by their suffix instead, which
 * keeps this table small enough to check by eye.
 */

export type CnProvinceKind = 'municipality' | 'province' | 'autonomous_region' | 'sar';

export interface CnProvince {
  /** official full name: 上海市, 广东省, 内蒙古自治区 */
  name: string;
  /** short forms: 上海; 内蒙古, 内蒙 */
  short: readonly string[];
  /** one-character abbreviations: 沪, 申 */
  abbr: readonly string[];
  /** Latin names: Shanghai; Inner Mongolia, Nei Mongol */
  latin: readonly string[];
  /** ISO 3166-2 subdivision code: CN-SH */
  iso: string;
  kind: CnProvinceKind;
  /** the ISO 3166-1 code addresses here are filed under: CN, or HK / MO / TW */
  country: string;
}

export interface CnCity {
  /** official full name: 广州市, 延边朝鲜族自治州, 兴安盟 */
  name: string;
  short: readonly string[];
  latin: readonly string[];
  province: CnProvince;
}

// full|short forms|abbreviations|Latin names|ISO 3166-2|kind
const PROVINCE_ROWS = `
北京市|北京|京|Beijing/Peking|BJ|municipality
天津市|天津|津|Tianjin/Tientsin|TJ|municipality
上海市|上海|沪/申|Shanghai|SH|municipality
重庆市|重庆|渝|Chongqing/Chungking|CQ|municipality
河北省|河北|冀|Hebei|HE|province
山西省|山西|晋|Shanxi|SX|province
内蒙古自治区|内蒙古/内蒙|蒙|Inner Mongolia/Nei Mongol/Neimenggu/Nei Menggu|NM|autonomous_region
辽宁省|辽宁|辽|Liaoning|LN|province
吉林省|吉林|吉|Jilin|JL|province
黑龙江省|黑龙江|黑|Heilongjiang|HL|province
江苏省|江苏|苏|Jiangsu|JS|province
浙江省|浙江|浙|Zhejiang|ZJ|province
安徽省|安徽|皖|Anhui|AH|province
福建省|福建|闽|Fujian|FJ|province
江西省|江西|赣|Jiangxi|JX|province
山东省|山东|鲁|Shandong|SD|province
河南省|河南|豫|Henan|HA|province
湖北省|湖北|鄂|Hubei|HB|province
湖南省|湖南|湘|Hunan|HN|province
广东省|广东|粤|Guangdong|GD|province
广西壮族自治区|广西|桂|Guangxi/Guangxi Zhuang|GX|autonomous_region
海南省|海南|琼|Hainan|HI|province
四川省|四川|川/蜀|Sichuan/Szechuan/Szechwan|SC|province
贵州省|贵州|贵/黔|Guizhou|GZ|province
云南省|云南|云/滇|Yunnan|YN|province
西藏自治区|西藏|藏|Tibet/Xizang|XZ|autonomous_region
陕西省|陕西|陕/秦|Shaanxi|SN|province
甘肃省|甘肃|甘/陇|Gansu|GS|province
青海省|青海|青|Qinghai|QH|province
宁夏回族自治区|宁夏|宁|Ningxia/Ningxia Hui|NX|autonomous_region
新疆维吾尔自治区|新疆|新|Xinjiang/Xinjiang Uygur/Xinjiang Uyghur/Xinjiang Uighur|XJ|autonomous_region
香港特别行政区|香港|港|Hong Kong/Hongkong/Xianggang|HK|sar
澳门特别行政区|澳门|澳|Macau/Macao/Aomen|MO|sar
台湾省|台湾|台|Taiwan|TW|province
`;

/**
 * Prefecture-level divisions by province short name. A bare name is a
 * prefecture-level city (`广州` → 广州市, short form 广州); `full=short/short`
 * spells out the rest (autonomous prefectures 州, leagues 盟, prefectures 地区).
 * After `:` come the Latin names, `/`-separated, `_` for a space. The province-administered
 * county-level cities and districts (济源, 仙桃, 神农架林区, 五指山…) and the
 * XPCC cities of Xinjiang are listed too: addresses treat them as cities.
 */
const CITY_ROWS: Readonly<Record<string, string>> = {
  河北: '石家庄:Shijiazhuang 唐山:Tangshan 秦皇岛:Qinhuangdao 邯郸:Handan 邢台:Xingtai 保定:Baoding 张家口:Zhangjiakou 承德:Chengde 沧州:Cangzhou 廊坊:Langfang 衡水:Hengshui',
  山西: '太原:Taiyuan 大同:Datong 阳泉:Yangquan 长治:Changzhi 晋城:Jincheng 朔州:Shuozhou 晋中:Jinzhong 运城:Yuncheng 忻州:Xinzhou 临汾:Linfen 吕梁:Lvliang/Luliang',
  内蒙古:
    '呼和浩特:Hohhot/Huhehaote 包头:Baotou 乌海:Wuhai 赤峰:Chifeng 通辽:Tongliao 鄂尔多斯:Ordos/Eerduosi 呼伦贝尔:Hulunbuir/Hulunbeier 巴彦淖尔:Bayannur/Bayannaoer ' +
    '乌兰察布:Ulanqab/Wulanchabu 兴安盟=兴安:Hinggan/Xingan 锡林郭勒盟=锡林郭勒:Xilingol/Xilinguole 阿拉善盟=阿拉善:Alxa/Alashan',
  辽宁: '沈阳:Shenyang 大连:Dalian 鞍山:Anshan 抚顺:Fushun 本溪:Benxi 丹东:Dandong 锦州:Jinzhou 营口:Yingkou 阜新:Fuxin 辽阳:Liaoyang 盘锦:Panjin 铁岭:Tieling 朝阳:Chaoyang 葫芦岛:Huludao',
  吉林: '长春:Changchun 吉林:Jilin 四平:Siping 辽源:Liaoyuan 通化:Tonghua 白山:Baishan 松原:Songyuan 白城:Baicheng 延边朝鲜族自治州=延边/延边州:Yanbian',
  黑龙江:
    '哈尔滨:Harbin/Haerbin 齐齐哈尔:Qiqihar/Qiqihaer 鸡西:Jixi 鹤岗:Hegang 双鸭山:Shuangyashan 大庆:Daqing 伊春:Yichun 佳木斯:Jiamusi 七台河:Qitaihe ' +
    '牡丹江:Mudanjiang 黑河:Heihe 绥化:Suihua 大兴安岭地区=大兴安岭:Daxinganling/Da_Hinggan_Ling',
  江苏: '南京:Nanjing 无锡:Wuxi 徐州:Xuzhou 常州:Changzhou 苏州:Suzhou 南通:Nantong 连云港:Lianyungang 淮安:Huaian 盐城:Yancheng 扬州:Yangzhou 镇江:Zhenjiang 泰州:Taizhou 宿迁:Suqian',
  浙江: '杭州:Hangzhou 宁波:Ningbo 温州:Wenzhou 嘉兴:Jiaxing 湖州:Huzhou 绍兴:Shaoxing 金华:Jinhua 衢州:Quzhou 舟山:Zhoushan 台州:Taizhou 丽水:Lishui',
  安徽:
    '合肥:Hefei 芜湖:Wuhu 蚌埠:Bengbu 淮南:Huainan 马鞍山:Maanshan 淮北:Huaibei 铜陵:Tongling 安庆:Anqing 黄山:Huangshan 滁州:Chuzhou 阜阳:Fuyang ' +
    '宿州:Suzhou 六安:Luan 亳州:Bozhou 池州:Chizhou 宣城:Xuancheng',
  福建: '福州:Fuzhou 厦门:Xiamen/Amoy 莆田:Putian 三明:Sanming 泉州:Quanzhou 漳州:Zhangzhou 南平:Nanping 龙岩:Longyan 宁德:Ningde',
  江西: '南昌:Nanchang 景德镇:Jingdezhen 萍乡:Pingxiang 九江:Jiujiang 新余:Xinyu 鹰潭:Yingtan 赣州:Ganzhou 吉安:Jian 宜春:Yichun 抚州:Fuzhou 上饶:Shangrao',
  山东:
    '济南:Jinan 青岛:Qingdao/Tsingtao 淄博:Zibo 枣庄:Zaozhuang 东营:Dongying 烟台:Yantai 潍坊:Weifang 济宁:Jining 泰安:Taian 威海:Weihai 日照:Rizhao ' +
    '临沂:Linyi 德州:Dezhou 聊城:Liaocheng 滨州:Binzhou 菏泽:Heze',
  河南:
    '郑州:Zhengzhou 开封:Kaifeng 洛阳:Luoyang 平顶山:Pingdingshan 安阳:Anyang 鹤壁:Hebi 新乡:Xinxiang 焦作:Jiaozuo 濮阳:Puyang 许昌:Xuchang 漯河:Luohe ' +
    '三门峡:Sanmenxia 南阳:Nanyang 商丘:Shangqiu 信阳:Xinyang 周口:Zhoukou 驻马店:Zhumadian 济源:Jiyuan',
  湖北:
    '武汉:Wuhan 黄石:Huangshi 十堰:Shiyan 宜昌:Yichang 襄阳:Xiangyang 鄂州:Ezhou 荆门:Jingmen 孝感:Xiaogan 荆州:Jingzhou 黄冈:Huanggang 咸宁:Xianning ' +
    '随州:Suizhou 恩施土家族苗族自治州=恩施/恩施州:Enshi 仙桃:Xiantao 潜江:Qianjiang 天门:Tianmen 神农架林区=神农架:Shennongjia',
  湖南:
    '长沙:Changsha 株洲:Zhuzhou 湘潭:Xiangtan 衡阳:Hengyang 邵阳:Shaoyang 岳阳:Yueyang 常德:Changde 张家界:Zhangjiajie 益阳:Yiyang 郴州:Chenzhou ' +
    '永州:Yongzhou 怀化:Huaihua 娄底:Loudi 湘西土家族苗族自治州=湘西/湘西州:Xiangxi',
  广东:
    '广州:Guangzhou 韶关:Shaoguan 深圳:Shenzhen 珠海:Zhuhai 汕头:Shantou 佛山:Foshan 江门:Jiangmen 湛江:Zhanjiang 茂名:Maoming 肇庆:Zhaoqing 惠州:Huizhou ' +
    '梅州:Meizhou 汕尾:Shanwei 河源:Heyuan 阳江:Yangjiang 清远:Qingyuan 东莞:Dongguan 中山:Zhongshan 潮州:Chaozhou 揭阳:Jieyang 云浮:Yunfu',
  广西: '南宁:Nanning 柳州:Liuzhou 桂林:Guilin 梧州:Wuzhou 北海:Beihai 防城港:Fangchenggang 钦州:Qinzhou 贵港:Guigang 玉林:Yulin 百色:Baise 贺州:Hezhou 河池:Hechi 来宾:Laibin 崇左:Chongzuo',
  海南: '海口:Haikou 三亚:Sanya 三沙:Sansha 儋州:Danzhou 五指山:Wuzhishan 琼海:Qionghai 文昌:Wenchang 万宁:Wanning 东方:Dongfang',
  四川:
    '成都:Chengdu 自贡:Zigong 攀枝花:Panzhihua 泸州:Luzhou 德阳:Deyang 绵阳:Mianyang 广元:Guangyuan 遂宁:Suining 内江:Neijiang 乐山:Leshan 南充:Nanchong ' +
    '眉山:Meishan 宜宾:Yibin 广安:Guangan 达州:Dazhou 雅安:Yaan 巴中:Bazhong 资阳:Ziyang 阿坝藏族羌族自治州=阿坝/阿坝州:Aba/Ngawa ' +
    '甘孜藏族自治州=甘孜/甘孜州:Ganzi/Garze 凉山彝族自治州=凉山/凉山州:Liangshan',
  贵州:
    '贵阳:Guiyang 六盘水:Liupanshui 遵义:Zunyi 安顺:Anshun 毕节:Bijie 铜仁:Tongren 黔西南布依族苗族自治州=黔西南/黔西南州:Qianxinan ' +
    '黔东南苗族侗族自治州=黔东南/黔东南州:Qiandongnan 黔南布依族苗族自治州=黔南/黔南州:Qiannan',
  云南:
    '昆明:Kunming 曲靖:Qujing 玉溪:Yuxi 保山:Baoshan 昭通:Zhaotong 丽江:Lijiang 普洱:Puer 临沧:Lincang 楚雄彝族自治州=楚雄/楚雄州:Chuxiong ' +
    '红河哈尼族彝族自治州=红河/红河州:Honghe 文山壮族苗族自治州=文山/文山州:Wenshan 西双版纳傣族自治州=西双版纳/西双版纳州/版纳:Xishuangbanna ' +
    '大理白族自治州=大理/大理州:Dali 德宏傣族景颇族自治州=德宏/德宏州:Dehong 怒江傈僳族自治州=怒江/怒江州:Nujiang 迪庆藏族自治州=迪庆/迪庆州:Diqing/Dechen',
  西藏: '拉萨:Lhasa/Lasa 日喀则:Shigatse/Rikaze 昌都:Qamdo/Chamdo/Changdu 林芝:Nyingchi/Linzhi 山南:Shannan/Lhoka 那曲:Nagqu/Naqu 阿里地区=阿里:Ngari/Ali',
  陕西: '西安:Xian 铜川:Tongchuan 宝鸡:Baoji 咸阳:Xianyang 渭南:Weinan 延安:Yanan 汉中:Hanzhong 榆林:Yulin 安康:Ankang 商洛:Shangluo',
  甘肃:
    '兰州:Lanzhou 嘉峪关:Jiayuguan 金昌:Jinchang 白银:Baiyin 天水:Tianshui 武威:Wuwei 张掖:Zhangye 平凉:Pingliang 酒泉:Jiuquan 庆阳:Qingyang 定西:Dingxi ' +
    '陇南:Longnan 临夏回族自治州=临夏/临夏州:Linxia 甘南藏族自治州=甘南/甘南州:Gannan',
  青海:
    '西宁:Xining 海东:Haidong 海北藏族自治州=海北/海北州:Haibei 黄南藏族自治州=黄南/黄南州:Huangnan 海南藏族自治州=海南州:Hainanzhou ' +
    '果洛藏族自治州=果洛/果洛州:Golog/Guoluo 玉树藏族自治州=玉树/玉树州:Yushu 海西蒙古族藏族自治州=海西/海西州:Haixi',
  宁夏: '银川:Yinchuan 石嘴山:Shizuishan 吴忠:Wuzhong 固原:Guyuan 中卫:Zhongwei',
  新疆:
    '乌鲁木齐:Urumqi/Wulumuqi 克拉玛依:Karamay/Kelamayi 吐鲁番:Turpan/Tulufan 哈密:Hami/Kumul 昌吉回族自治州=昌吉/昌吉州:Changji ' +
    '博尔塔拉蒙古自治州=博尔塔拉/博州:Bortala/Boertala 巴音郭楞蒙古自治州=巴音郭楞/巴州:Bayingolin/Bayinguoleng ' +
    '克孜勒苏柯尔克孜自治州=克孜勒苏/克州:Kizilsu/Kezilesu 伊犁哈萨克自治州=伊犁/伊犁州:Ili/Yili 阿克苏地区=阿克苏:Aksu/Akesu 喀什地区=喀什:Kashgar/Kashi ' +
    '和田地区=和田:Hotan/Hetian 塔城地区=塔城:Tacheng 阿勒泰地区=阿勒泰:Altay/Aletai 石河子:Shihezi 阿拉尔:Aral/Alaer 图木舒克:Tumxuk/Tumushuke ' +
    '五家渠:Wujiaqu 北屯:Beitun 铁门关:Tiemenguan 双河:Shuanghe 可克达拉:Kokdala/Kekedala 昆玉:Kunyu 胡杨河:Huyanghe 新星:Xinxing 白杨:Baiyang',
  台湾: '台北:Taipei/Taibei 新北:New_Taipei/Xinbei 桃园:Taoyuan 台中:Taichung/Taizhong 台南:Tainan 高雄:Kaohsiung/Gaoxiong 基隆:Keelung/Jilong 新竹:Hsinchu/Xinzhu 嘉义:Chiayi/Jiayi',
};

/**
 * Traditional characters that occur in the names above, each mapped to its
 * simplified form one to one, so a traditional-script address matches the
 * table while positions in the text stay the same.
 */
const TRADITIONAL =
  '東东廣广遼辽龍龙蘇苏貴贵雲云陝陕肅肃寧宁臺台灣湾門门內内慶庆區区縣县陽阳連连島岛鄭郑漢汉瀋沈長长華华興兴豐丰義义紹绍溫温麗丽濟济濱滨烏乌魯鲁齊齐' +
  '爾尔倫伦蘭兰嶺岭寶宝雞鸡銀银銅铜錦锦鎮镇廈厦巖岩贛赣許许衛卫開开黃黄荊荆隨随張张婁娄懷怀撫抚饒饶鷹鹰樂乐瀘泸綿绵畢毕崗岗雙双鴨鸭鹽盐揚扬蕪芜' +
  '馬马潛潜關关頭头鄉乡莊庄濰潍臨临澤泽鶴鹤駐驻鄲郸滄沧運运涼凉賓宾來来欽钦賀贺號号樓楼園园壯壮維维團团鹹咸陰阴';
const SIMPLIFY = new Map<string, string>();
for (let i = 0; i + 1 < TRADITIONAL.length; i += 2) SIMPLIFY.set(TRADITIONAL[i] as string, TRADITIONAL[i + 1] as string);

/** The text with the traditional characters used in place names simplified, character for character. */
export function simplifyPlaceChars(text: string): string {
  let out = '';
  for (const ch of text) out += SIMPLIFY.get(ch) ?? ch;
  return out;
}

/** Latin place names compare without case, accents, spaces, apostrophes or hyphens (Xi'an = xian). */
export function foldLatinPlace(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

/** How a name was written: official full name, short form, one-character abbreviation, or a common variant (广西省). */
export type CnNameForm = 'full' | 'short' | 'abbr' | 'variant';

/** A province found by name, with the form the name had. */
export interface ProvinceHit {
  province: CnProvince;
  form: CnNameForm;
}

interface CityHit {
  cities: CnCity[];
  form: CnNameForm;
}

function parseProvinces(): CnProvince[] {
  const out: CnProvince[] = [];
  for (const line of PROVINCE_ROWS.trim().split('\n')) {
    const [name, short, abbr, latin, iso, kind] = line.split('|');
    if (!name || !short || !abbr || !latin || !iso || !kind) throw new Error(`cn-regions: bad province row ${line}`);
    out.push({
      name,
      short: short.split('/'),
      abbr: abbr.split('/'),
      latin: latin.split('/'),
      iso: `CN-${iso}`,
      kind: kind as CnProvinceKind,
      country: iso === 'HK' || iso === 'MO' || iso === 'TW' ? iso : 'CN',
    });
  }
  return out;
}

/** The 34 provincial-level divisions, in the order of the national statistical code. */
export const CN_PROVINCES: readonly CnProvince[] = Object.freeze(parseProvinces());

function parseCities(): CnCity[] {
  const out: CnCity[] = [];
  for (const province of CN_PROVINCES) {
    // A municipality is its own prefecture-level city: 上海 the province, 上海 the city.
    if (province.kind === 'municipality') out.push({ name: province.name, short: province.short, latin: province.latin, province });
    const row = CITY_ROWS[province.short[0] ?? ''];
    if (!row) continue;
    for (const entry of row.split(' ')) {
      const [names = '', latin = ''] = entry.split(':');
      const [full = '', shorts] = names.split('=');
      const name = shorts === undefined ? `${full}市` : full;
      out.push({ name, short: shorts === undefined ? [full] : shorts.split('/'), latin: latin.split('/').map((l) => l.replace(/_/g, ' ')), province });
    }
  }
  return out;
}

/** The prefecture-level divisions (and the municipalities as their own city), each with its province. */
export const CN_CITIES: readonly CnCity[] = Object.freeze(parseCities());

const PROVINCE_BY_NAME = new Map<string, ProvinceHit>();
const PROVINCE_BY_LATIN = new Map<string, CnProvince>();
const CITY_BY_NAME = new Map<string, CityHit>();
const CITY_BY_LATIN = new Map<string, CnCity[]>();
let longestName = 0;

function addProvinceName(name: string, hit: ProvinceHit): void {
  if (!PROVINCE_BY_NAME.has(name)) PROVINCE_BY_NAME.set(name, hit);
  longestName = Math.max(longestName, name.length);
}

function addCityName(name: string, city: CnCity, form: CnNameForm): void {
  const hit = CITY_BY_NAME.get(name);
  if (!hit) CITY_BY_NAME.set(name, { cities: [city], form });
  else if (!hit.cities.includes(city)) hit.cities.push(city);
  longestName = Math.max(longestName, name.length);
}

for (const province of CN_PROVINCES) {
  addProvinceName(province.name, { province, form: 'full' });
  for (const short of province.short) addProvinceName(short, { province, form: 'short' });
  for (const abbr of province.abbr) addProvinceName(abbr, { province, form: 'abbr' });
  // People write 广西省 and 新疆自治区 as often as the official names.
  if (province.kind === 'autonomous_region') {
    for (const short of province.short) {
      addProvinceName(`${short}省`, { province, form: 'variant' });
      addProvinceName(`${short}自治区`, { province, form: 'variant' });
    }
  }
  if (province.kind === 'sar') addProvinceName(`${province.short[0] ?? ''}特区`, { province, form: 'variant' });
  for (const latin of province.latin) PROVINCE_BY_LATIN.set(foldLatinPlace(latin), province);
  PROVINCE_BY_LATIN.set(foldLatinPlace(province.iso), province);
}
for (const city of CN_CITIES) {
  addCityName(city.name, city, 'full');
  for (const short of city.short) addCityName(short, city, 'short');
  for (const latin of city.latin) {
    const key = foldLatinPlace(latin);
    const list = CITY_BY_LATIN.get(key);
    if (!list) CITY_BY_LATIN.set(key, [city]);
    else if (!list.includes(city)) list.push(city);
  }
}

/** Words that say "province" or "city" after a Latin name: Guangdong Sheng, Shanghai Municipality. */
const LATIN_PROVINCE_SUFFIX = /(?:province|sheng|municipality|shi|city|autonomousregion|zizhiqu|specialadministrativeregion|sar|region|prc|china)+$/;
const LATIN_CITY_SUFFIX = /(?:city|shi|prefecture|autonomousprefecture|zizhizhou|league|meng|diqu|municipality)+$/;

/** One province by any of its names (Chinese full/short/abbreviation, traditional script, Latin, ISO 3166-2). */
export function findCnProvince(name: string): { province: CnProvince; form: CnNameForm | 'latin' | 'iso' } | undefined {
  const text = simplifyPlaceChars(name.normalize('NFKC').replace(/\s+/g, ''));
  const hit = PROVINCE_BY_NAME.get(text);
  if (hit) return hit;
  const folded = foldLatinPlace(name);
  if (folded === '') return undefined;
  if (/^cn[a-z]{2}$/.test(folded)) {
    const province = PROVINCE_BY_LATIN.get(folded);
    return province ? { province, form: 'iso' } : undefined;
  }
  if (folded.length > 60) return undefined;
  const province = PROVINCE_BY_LATIN.get(folded) ?? PROVINCE_BY_LATIN.get(folded.replace(LATIN_PROVINCE_SUFFIX, ''));
  return province ? { province, form: 'latin' } : undefined;
}

/**
 * One city by its Chinese full or short name or a Latin name. A name shared by
 * two cities (Taizhou, Suzhou, Yulin…) answers only within `province`.
 */
export function findCnCity(name: string, province?: CnProvince): { city: CnCity; form: CnNameForm | 'latin' } | undefined {
  const text = simplifyPlaceChars(name.normalize('NFKC').replace(/\s+/g, ''));
  const hit = CITY_BY_NAME.get(text);
  if (hit) {
    const city = pickCity(hit.cities, province);
    return city ? { city, form: hit.form } : undefined;
  }
  const folded = foldLatinPlace(name);
  if (folded === '' || folded.length > 60) return undefined;
  const list = CITY_BY_LATIN.get(folded) ?? CITY_BY_LATIN.get(folded.replace(LATIN_CITY_SUFFIX, ''));
  const city = list && pickCity(list, province);
  return city ? { city, form: 'latin' } : undefined;
}

function pickCity(cities: readonly CnCity[], province: CnProvince | undefined): CnCity | undefined {
  if (province) return cities.find((c) => c.province === province);
  return cities.length === 1 ? cities[0] : undefined;
}

/** The longest province name (any Chinese form) that starts at `pos` of simplified `text`. */
export function matchCnProvinceAt(text: string, pos: number): (ProvinceHit & { length: number }) | undefined {
  for (let len = Math.min(longestName, text.length - pos); len >= 1; len--) {
    const hit = PROVINCE_BY_NAME.get(text.slice(pos, pos + len));
    if (hit) return { ...hit, length: len };
  }
  return undefined;
}

/** The longest city name (full or short) that starts at `pos` of simplified `text`, within `province` when given. */
export function matchCnCityAt(text: string, pos: number, province?: CnProvince): { city: CnCity; form: CnNameForm; length: number } | undefined {
  for (let len = Math.min(longestName, text.length - pos); len >= 2; len--) {
    const hit = CITY_BY_NAME.get(text.slice(pos, pos + len));
    if (!hit) continue;
    const city = pickCity(hit.cities, province);
    if (city) return { city, form: hit.form, length: len };
  }
  return undefined;
}
