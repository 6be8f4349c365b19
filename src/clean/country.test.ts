import { describe, expect, it } from 'vitest';
import { foldCountryName, isCountryCode, standardizeCountry } from './country.js';

describe('standardizeCountry', () => {
  it.each([
    // China, every way it is written
    ['中国', 'CN'],
    ['中华人民共和国', 'CN'],
    ['中國', 'CN'],
    ['中国大陆', 'CN'],
    ['China', 'CN'],
    ['CHINA', 'CN'],
    ['china', 'CN'],
    [' China ', 'CN'],
    ['PRC', 'CN'],
    ['P.R.C.', 'CN'],
    ['P.R. China', 'CN'],
    ['PR China', 'CN'],
    ["People's Republic of China", 'CN'],
    ['Mainland China', 'CN'],
    ['China (Mainland)', 'CN'],
    ['CN', 'CN'],
    ['cn', 'CN'],
    ['CHN', 'CN'],
    ['chn', 'CN'],
    ['156', 'CN'],
    [156, 'CN'],
    ['ＣＮ', 'CN'],
    // United States
    ['USA', 'US'],
    ['U.S.A.', 'US'],
    ['U.S.', 'US'],
    ['US', 'US'],
    ['us', 'US'],
    ['United States', 'US'],
    ['United States of America', 'US'],
    ['united states of america', 'US'],
    ['UnitedStates', 'US'],
    ['America', 'US'],
    ['美国', 'US'],
    ['美國', 'US'],
    ['840', 'US'],
    // United Kingdom
    ['UK', 'GB'],
    ['U.K.', 'GB'],
    ['GB', 'GB'],
    ['GBR', 'GB'],
    ['United Kingdom', 'GB'],
    ['Great Britain', 'GB'],
    ['Britain', 'GB'],
    ['England', 'GB'],
    ['Scotland', 'GB'],
    ['英国', 'GB'],
    ['英國', 'GB'],
    ['826', 'GB'],
    // Hong Kong, Macao, Taiwan
    ['香港', 'HK'],
    ['Hong Kong', 'HK'],
    ['HongKong', 'HK'],
    ['Hong Kong SAR', 'HK'],
    ['Hong Kong SAR China', 'HK'],
    ['中国香港', 'HK'],
    ['香港特别行政区', 'HK'],
    ['HKG', 'HK'],
    ['澳门', 'MO'],
    ['澳門', 'MO'],
    ['Macau', 'MO'],
    ['Macao', 'MO'],
    ['MAC', 'MO'],
    ['台湾', 'TW'],
    ['台灣', 'TW'],
    ['Taiwan', 'TW'],
    ['Chinese Taipei', 'TW'],
    ['TWN', 'TW'],
    // Endonyms
    ['Deutschland', 'DE'],
    ['Germany', 'DE'],
    ['德国', 'DE'],
    ['DEU', 'DE'],
    ['France', 'FR'],
    ['法国', 'FR'],
    ['España', 'ES'],
    ['Espana', 'ES'],
    ['Spain', 'ES'],
    ['Italia', 'IT'],
    ['Nederland', 'NL'],
    ['Holland', 'NL'],
    ['The Netherlands', 'NL'],
    ['Schweiz', 'CH'],
    ['Suisse', 'CH'],
    ['Svizzera', 'CH'],
    ['Österreich', 'AT'],
    ['Osterreich', 'AT'],
    ['Belgique', 'BE'],
    ['België', 'BE'],
    ['日本', 'JP'],
    ['Japan', 'JP'],
    ['Nippon', 'JP'],
    ['JPN', 'JP'],
    ['대한민국', 'KR'],
    ['한국', 'KR'],
    ['韩国', 'KR'],
    ['South Korea', 'KR'],
    ['Korea', 'KR'],
    ['Republic of Korea', 'KR'],
    ['Korea, Republic of', 'KR'],
    ['North Korea', 'KP'],
    ['朝鲜', 'KP'],
    ['DPRK', 'KP'],
    ['Россия', 'RU'],
    ['Russia', 'RU'],
    ['Russian Federation', 'RU'],
    ['俄罗斯', 'RU'],
    ['Brasil', 'BR'],
    ['Brazil', 'BR'],
    ['México', 'MX'],
    ['Mexico', 'MX'],
    ['Sverige', 'SE'],
    ['Norge', 'NO'],
    ['Danmark', 'DK'],
    ['Suomi', 'FI'],
    ['Polska', 'PL'],
    ['Ελλάδα', 'GR'],
    ['Türkiye', 'TR'],
    ['Turkey', 'TR'],
    ['भारत', 'IN'],
    ['India', 'IN'],
    ['印度', 'IN'],
    ['Việt Nam', 'VN'],
    ['Viet Nam', 'VN'],
    ['Vietnam', 'VN'],
    ['越南', 'VN'],
    ['ประเทศไทย', 'TH'],
    ['Thailand', 'TH'],
    ['新加坡', 'SG'],
    ['Singapore', 'SG'],
    ['Malaysia', 'MY'],
    ['马来西亚', 'MY'],
    ['Australia', 'AU'],
    ['澳大利亚', 'AU'],
    ['澳洲', 'AU'],
    ['New Zealand', 'NZ'],
    ['新西兰', 'NZ'],
    ['Canada', 'CA'],
    ['加拿大', 'CA'],
    ['CAN', 'CA'],
    // Old, official and ISO-style names
    ['Czech Republic', 'CZ'],
    ['Czechia', 'CZ'],
    ['Ivory Coast', 'CI'],
    ["Côte d'Ivoire", 'CI'],
    ['Cote d’Ivoire', 'CI'],
    ['Burma', 'MM'],
    ['Myanmar', 'MM'],
    ['Swaziland', 'SZ'],
    ['Eswatini', 'SZ'],
    ['Macedonia', 'MK'],
    ['North Macedonia', 'MK'],
    ['Cape Verde', 'CV'],
    ['East Timor', 'TL'],
    ['Iran, Islamic Republic of', 'IR'],
    ['Iran', 'IR'],
    ['Syrian Arab Republic', 'SY'],
    ['Lao PDR', 'LA'],
    ['Tanzania, United Republic of', 'TZ'],
    ['Democratic Republic of the Congo', 'CD'],
    ['DRC', 'CD'],
    ['UAE', 'AE'],
    ['United Arab Emirates', 'AE'],
    ['阿联酋', 'AE'],
    ['KSA', 'SA'],
    ['Saudi Arabia', 'SA'],
    ['the Gambia', 'GM'],
    ['The Bahamas', 'BS'],
    ['Bahamas', 'BS'],
    ['Vatican', 'VA'],
    ['Holy See', 'VA'],
    ['Palestine', 'PS'],
    ['Kosovo', 'XK'],
    ['XK', 'XK'],
    ['Canary Islands', 'ES'],
    ['Georgia', 'GE'],
    ['Curacao', 'CW'],
    ['Curaçao', 'CW'],
    ['Réunion', 'RE'],
    ['Reunion', 'RE'],
    // Numeric codes, with and without leading zeros
    ['004', 'AF'],
    ['4', 'AF'],
    [4, 'AF'],
    ['276', 'DE'],
    ['392', 'JP'],
    ['410', 'KR'],
    ['344', 'HK'],
    ['446', 'MO'],
    ['158', 'TW'],
    ['643', 'RU'],
    ['250', 'FR'],
    ['036', 'AU'],
    ['124', 'CA'],
    ['702', 'SG'],
    // Alpha-3
    ['FRA', 'FR'],
    ['ESP', 'ES'],
    ['ITA', 'IT'],
    ['KOR', 'KR'],
    ['PRK', 'KP'],
    ['RUS', 'RU'],
    ['BRA', 'BR'],
    ['MEX', 'MX'],
    ['AUS', 'AU'],
    ['NZL', 'NZ'],
    ['SGP', 'SG'],
    ['MYS', 'MY'],
    ['IND', 'IN'],
    ['ZAF', 'ZA'],
    ['ARE', 'AE'],
    ['CHE', 'CH'],
    ['AUT', 'AT'],
    ['NLD', 'NL'],
    ['SWE', 'SE'],
    ['IRL', 'IE'],
  ])('%j → %s', (raw, code) => {
    const result = standardizeCountry(raw);
    expect(result.ok && result.value).toBe(code);
  });

  it.each([
    ['CN', []],
    ['cn', ['country.alpha2']],
    ['CHN', ['country.alpha3_to_alpha2']],
    ['156', ['country.numeric_to_alpha2']],
    ['China', ['country.name_to_alpha2']],
    ['中国', ['country.name_to_alpha2']],
  ])('%s records %j', (raw, rules) => {
    expect(standardizeCountry(raw)).toEqual({ ok: true, value: 'CN', rules, flags: [] });
  });

  it.each([
    ['', 'country.empty'],
    ['   ', 'country.empty'],
    [null, 'country.empty'],
    [undefined, 'country.empty'],
    [{}, 'country.unknown'],
    [['CN'], 'country.unknown'],
    [true, 'country.unknown'],
    ['Atlantis', 'country.unknown'],
    ['Narnia', 'country.unknown'],
    ['火星', 'country.unknown'],
    ['XX', 'country.unknown'],
    ['ZZ', 'country.unknown'],
    ['EU', 'country.unknown'],
    ['UN', 'country.unknown'],
    ['SU', 'country.unknown'],
    ['YU', 'country.unknown'],
    ['XYZ', 'country.unknown'],
    ['999', 'country.unknown'],
    ['000', 'country.unknown'],
    ['1234', 'country.unknown'],
    ['asdfgh', 'country.unknown'],
  ])('%j → %s', (raw, issue) => {
    const result = standardizeCountry(raw);
    expect(result.ok ? 'ok' : result.issue).toBe(issue);
  });

  it('answers the 249 ISO 3166-1 codes and Kosovo, and nothing else that ICU names', () => {
    const answered: string[] = [];
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const code = String.fromCharCode(a, b);
        if (isCountryCode(code)) answered.push(code);
      }
    }
    expect(answered).toHaveLength(250);
    expect(answered).toContain('XK');
    expect(answered).not.toContain('UK');
    expect(answered).not.toContain('EU');
  });

  // Every code's own English and Chinese names, as ICU spells them, lead back to it.
  const english = new Intl.DisplayNames(['en'], { type: 'region' });
  const chinese = new Intl.DisplayNames(['zh'], { type: 'region' });
  const codes: string[] = [];
  for (let a = 65; a <= 90; a++) for (let b = 65; b <= 90; b++) if (isCountryCode(String.fromCharCode(a, b))) codes.push(String.fromCharCode(a, b));
  it.each(codes)('%s by its English and Chinese names', (code) => {
    const en = standardizeCountry(english.of(code));
    const zh = standardizeCountry(chinese.of(code));
    expect([en.ok && en.value, zh.ok && zh.value]).toEqual([code, code]);
  });
});

describe('foldCountryName', () => {
  it.each([
    ['P.R. China', 'prchina'],
    ['Côte d’Ivoire', 'cotedivoire'],
    ['ＵＳＡ', 'usa'],
    ['  United   States ', 'unitedstates'],
    ['中华人民共和国', '中华人民共和国'],
  ])('%s → %s', (raw, folded) => {
    expect(foldCountryName(raw)).toBe(folded);
  });
});
