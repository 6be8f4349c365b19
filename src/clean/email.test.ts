import { describe, expect, it } from 'vitest';
import { emailMatchKey, standardizeEmail, type EmailIssue } from './email.js';
import { LOOKALIKE_REAL_DOMAINS, POPULAR_DOMAINS } from './email-domains.js';

function value(input: unknown, fixTypos = false): string {
  const result = standardizeEmail(input, { fixTypos });
  expect(result.ok, result.ok ? '' : `${result.issue}: ${result.reason}`).toBe(true);
  return result.ok ? result.value : '';
}

function flagCodes(input: unknown): string[] {
  const result = standardizeEmail(input);
  return result.ok ? result.flags.map((f) => f.code) : [`not ok: ${result.issue}`];
}

// ---------------------------------------------------------------------------

describe('standardizeEmail: one standard form', () => {
  it.each<[unknown, string, readonly string[]]>([
    ['zhang@qq.com', 'zhang@qq.com', []],
    [' zhang@qq.com ', 'zhang@qq.com', ['email.trimmed']],
    ['\tzhang@qq.com\n', 'zhang@qq.com', ['email.trimmed']],
    ['\u3000zhang@qq.com\u3000', 'zhang@qq.com', ['email.trimmed', 'email.nfkc']],
    ['\u00a0zhang@qq.com', 'zhang@qq.com', ['email.trimmed', 'email.nfkc']],
    ['Zhang@QQ.com', 'zhang@qq.com', ['email.lowercased']],
    [' ZHANG@QQ.COM ', 'zhang@qq.com', ['email.trimmed', 'email.lowercased']],
    ['ｚｈａｎｇ＠ｑｑ．ｃｏｍ', 'zhang@qq.com', ['email.nfkc']],
    ['ＺＨＡＮＧ＠ＱＱ．ＣＯＭ', 'zhang@qq.com', ['email.nfkc', 'email.lowercased']],
    ['zhang＠163.com', 'zhang@163.com', ['email.nfkc']],
    ['zhang@qq。com', 'zhang@qq.com', ['email.ideographic_full_stop']],
    ['zhang@qq｡com', 'zhang@qq.com', ['email.nfkc', 'email.ideographic_full_stop']],
    ['zhang﹫qq.com', 'zhang@qq.com', ['email.nfkc']],
    ['mailto:zhang@qq.com', 'zhang@qq.com', ['email.mailto_removed']],
    ['MAILTO:Zhang@QQ.com', 'zhang@qq.com', ['email.lowercased', 'email.mailto_removed']],
    ['mailto:zhang@qq.com?subject=hello', 'zhang@qq.com', ['email.mailto_removed']],
    ['<zhang@qq.com>', 'zhang@qq.com', ['email.unwrapped']],
    ['"zhang@qq.com"', 'zhang@qq.com', ['email.unwrapped']],
    ["'zhang@qq.com'", 'zhang@qq.com', ['email.unwrapped']],
    ['“zhang@qq.com”', 'zhang@qq.com', ['email.unwrapped']],
    ['「zhang@qq.com」', 'zhang@qq.com', ['email.unwrapped']],
    ['张三 <zhang@qq.com>', 'zhang@qq.com', ['email.unwrapped']],
    ['"Zhang San" <Zhang.San@163.com>', 'zhang.san@163.com', ['email.lowercased', 'email.unwrapped']],
    ['John Smith <john.smith@gmail.com>', 'john.smith@gmail.com', ['email.lowercased', 'email.unwrapped']],
    ['"<zhang@qq.com>"', 'zhang@qq.com', ['email.unwrapped']],
    ['<mailto:zhang@qq.com>', 'zhang@qq.com', ['email.mailto_removed', 'email.unwrapped']],
    ['zhang@qq.com.', 'zhang@qq.com', ['email.trailing_dot_removed']],
    ['user@例子.中国', 'user@xn--fsqu00a.xn--fiqs8s', ['email.idn_ascii']],
    ['user@münchen.de', 'user@xn--mnchen-3ya.de', ['email.idn_ascii']],
    ['User@MÜNCHEN.DE', 'user@xn--mnchen-3ya.de', ['email.lowercased', 'email.idn_ascii']],
    ['user@xn--mnchen-3ya.de', 'user@xn--mnchen-3ya.de', []],
    ['info@公司.cn', 'info@xn--55qx5d.cn', ['email.idn_ascii']],
  ])('%j → %j', (input, expected, rules) => {
    const result = standardizeEmail(input);
    expect(result.ok, result.ok ? '' : result.reason).toBe(true);
    if (result.ok) {
      expect(result.value).toBe(expected);
      expect(result.rules).toStrictEqual(rules);
    }
  });
});

// ---------------------------------------------------------------------------
// Real-world shapes of local parts at the providers customers actually use.

const LOCALS: [written: string, standard: string][] = [
  ['zhangsan', 'zhangsan'],
  ['ZhangSan', 'zhangsan'],
  ['zhang.san', 'zhang.san'],
  ['zhang_san', 'zhang_san'],
  ['zhang-san', 'zhang-san'],
  ['zs1990', 'zs1990'],
  ['1234567890', '1234567890'],
  ['Li.Na+shop', 'li.na+shop'],
  ["o'brien", "o'brien"],
  ['j.smith.2024', 'j.smith.2024'],
  ['a', 'a'],
  ['x_y.z-1', 'x_y.z-1'],
];

const DOMAINS = [
  'qq.com', 'vip.qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', 'sina.com', 'sina.cn', 'sohu.com', 'aliyun.com', '139.com', '189.cn',
  'gmail.com', 'outlook.com', 'hotmail.com', 'live.com', 'yahoo.com', 'icloud.com', 'me.com', 'aol.com', 'protonmail.com', 'gmx.de', 'web.de',
  'orange.fr', 'hotmail.co.uk', 'yahoo.co.jp', 'naver.com',
  'alibaba-inc.com', 'tencent.com', 'huawei.com', 'pku.edu.cn', 'company.com.cn', 'acme.co.uk', 'example.org', 'startup.io', 'shop.xyz', 'mail.gov.cn', 'bund.de',
];

const providerCases: [string, string][] = [];
for (const domain of DOMAINS) {
  for (const [written, standard] of LOCALS) providerCases.push([`${written}@${domain}`, `${standard}@${domain}`]);
}

describe('standardizeEmail: addresses at CN, US and EU providers and companies', () => {
  it.each(providerCases)('%j → %j', (input, expected) => {
    expect(value(input)).toBe(expected);
    expect(flagCodes(input)).toStrictEqual([]);
  });

  it('is idempotent: a standard address standardizes to itself with no rules', () => {
    for (const [input] of providerCases) {
      const once = value(input);
      const again = standardizeEmail(once);
      expect(again).toStrictEqual({ ok: true, value: once, rules: [], flags: [] });
    }
  });
});

// ---------------------------------------------------------------------------

describe('standardizeEmail: syntax (a practical RFC 5321 subset)', () => {
  it.each<[unknown, EmailIssue]>([
    [undefined, 'email.empty'],
    [null, 'email.empty'],
    ['', 'email.empty'],
    ['   ', 'email.empty'],
    ['\u3000', 'email.empty'],
    ['<>', 'email.empty'],
    ['""', 'email.empty'],
    ['mailto:', 'email.empty'],
    [{}, 'email.invalid'],
    [true, 'email.invalid'],
    [12345, 'email.no_at'],
    ['zhang', 'email.no_at'],
    ['zhang.qq.com', 'email.no_at'],
    ['zhang#qq.com', 'email.no_at'],
    ['zhang at qq.com', 'email.no_at'],
    ['zhang(at)qq.com', 'email.no_at'],
    ['foo@', 'email.bad_domain'],
    ['@qq.com', 'email.invalid'],
    ['@', 'email.invalid'],
    ['a b@x.com', 'email.invalid'],
    ['zhang san@qq.com', 'email.invalid'],
    ['a@b@c.com', 'email.invalid'],
    ['zhang@@qq.com', 'email.invalid'],
    ['a..b@x.com', 'email.invalid'],
    ['.a@x.com', 'email.invalid'],
    ['a.@x.com', 'email.invalid'],
    ['"john doe"@x.com', 'email.invalid'],
    ['a,b@x.com', 'email.invalid'],
    ['a;b@x.com', 'email.invalid'],
    ['a(b)@x.com', 'email.invalid'],
    ['a[b]@x.com', 'email.invalid'],
    ['a\\b@x.com', 'email.invalid'],
    ['a:b@x.com', 'email.invalid'],
    ['a<b@x.com', 'email.invalid'],
    ['张三，@qq.com', 'email.invalid'],
    [`${'a'.repeat(65)}@x.com`, 'email.invalid'],
    [`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`, 'email.invalid'],
    ['x'.repeat(600), 'email.invalid'],
    ['x@localhost', 'email.bad_domain'],
    ['x@qq', 'email.bad_domain'],
    ['x@.qq.com', 'email.bad_domain'],
    ['x@qq..com', 'email.bad_domain'],
    ['x@qq.com..', 'email.bad_domain'],
    ['x@-qq.com', 'email.bad_domain'],
    ['x@qq-.com', 'email.bad_domain'],
    ['x@q_q.com', 'email.bad_domain'],
    ['x@qq com', 'email.bad_domain'],
    ['x@qq.com/', 'email.bad_domain'],
    ['x@[127.0.0.1]', 'email.bad_domain'],
    ['x@127.0.0.1', 'email.bad_domain'],
    ['x@acme.c', 'email.bad_domain'],
    ['x@acme.123', 'email.bad_domain'],
    ['x@acme.c_m', 'email.bad_domain'],
    [`x@${'a'.repeat(64)}.com`, 'email.bad_domain'],
    [`x@${'abcdefghi.'.repeat(26)}com`, 'email.bad_domain'],
    ['x@xn--zz.com\u00e9', 'email.bad_domain'],
  ])('%j → %s', (input, issue) => {
    const result = standardizeEmail(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issue).toBe(issue);
      expect(result.reason.length).toBeGreaterThan(10);
    }
  });

  it.each([
    "!#$%&'*+-/=?^_`{|}~@x.com",
    'a.b.c.d@x.com',
    `${'a'.repeat(64)}@x.com`,
    `a@${'b'.repeat(63)}.com`,
    'a@b.co',
    'a@x.museum',
    'a@x.xn--fiqs8s',
    'a@sub.sub.sub.example.com',
    'a@1.example.com',
    'a@123.com',
    'a@x-y.com',
  ])('%j is valid as it is', (input) => {
    expect(standardizeEmail(input)).toStrictEqual({ ok: true, value: input, rules: [], flags: [] });
  });

  it('accepts an internationalized (RFC 6531) local part, flagged', () => {
    const result = standardizeEmail('张三@qq.com');
    expect(result).toMatchObject({ ok: true, value: '张三@qq.com' });
    expect(flagCodes('张三@qq.com')).toStrictEqual(['email.non_ascii_local_part']);
    expect(flagCodes('josé@gmail.com')).toStrictEqual(['email.non_ascii_local_part']);
  });
});

// ---------------------------------------------------------------------------

const TYPOS: [domain: string, suggestion: string][] = [
  ['gmial.com', 'gmail.com'], ['gamil.com', 'gmail.com'], ['gmai.com', 'gmail.com'], ['gmaill.com', 'gmail.com'], ['gnail.com', 'gmail.com'],
  ['gmail.con', 'gmail.com'], ['gmail.cmo', 'gmail.com'], ['gmail.co', 'gmail.com'], ['gmail.cm', 'gmail.com'], ['gmail.om', 'gmail.com'],
  ['gmail.comm', 'gmail.com'], ['gmail.c0m', 'gmail.com'], ['gmail.c', 'gmail.com'], ['gmial.con', 'gmail.com'], ['googlemial.com', 'googlemail.com'],
  ['qq.con', 'qq.com'], ['qq.cm', 'qq.com'], ['qq.co', 'qq.com'], ['qq.cmo', 'qq.com'], ['qq.comm', 'qq.com'], ['qq.c0m', 'qq.com'], ['qq.c', 'qq.com'],
  ['vip.qq.con', 'vip.qq.com'], ['163.cm', '163.com'], ['163.con', '163.com'], ['163.co', '163.com'], ['163.cpm', '163.com'], ['126.con', '126.com'],
  ['126.cm', '126.com'], ['sina.con', 'sina.com'], ['sina.cm', 'sina.com'], ['sohu.con', 'sohu.com'], ['foxmial.com', 'foxmail.com'],
  ['foxmail.con', 'foxmail.com'], ['yeah.ne', 'yeah.net'], ['yeah.nte', 'yeah.net'], ['aliyun.con', 'aliyun.com'],
  ['hotmial.com', 'hotmail.com'], ['hotmil.com', 'hotmail.com'], ['hotmai.com', 'hotmail.com'], ['hotnail.com', 'hotmail.com'], ['hotmail.co', 'hotmail.com'],
  ['hotmial.co.uk', 'hotmail.co.uk'], ['outlok.com', 'outlook.com'], ['outloo.com', 'outlook.com'], ['outlook.con', 'outlook.com'], ['otulook.com', 'outlook.com'],
  ['yaho.com', 'yahoo.com'], ['yahooo.com', 'yahoo.com'], ['yhaoo.com', 'yahoo.com'], ['yahoo.cm', 'yahoo.com'], ['iclod.com', 'icloud.com'],
  ['icluod.com', 'icloud.com'], ['protonmial.com', 'protonmail.com'], ['protonmal.com', 'protonmail.com'], ['comcats.net', 'comcast.net'],
  ['acme.con', 'acme.com'], ['acme.cmo', 'acme.com'], ['example.ogr', 'example.org'], ['example.nett', 'example.net'],
];

const NOT_TYPOS: readonly string[] = [
  'gmx.com', 'gmx.net', 'gmx.de', 'mail.com', 'email.com', 'ymail.com', 'me.com', 'mac.com', 'live.com', 'msn.com', 'cloud.com',
  'qq.com.cn', 'qq.cn', '163.net', '126.net', 'sina.com.cn', 'sohu.net', 'yeah.com', 'hotmail.de', 'hotmail.fr', 'outlook.fr', 'yahoo.ca',
  'acme.cm', 'acme.co', 'company.om', 'startup.io', 'example.com', 'tencent.com', 'alibaba-inc.com', 'gmail.com', 'googlemail.com',
  'q.com', '168.com', '263.net', 'tom.com', '21cn.com', 'aim.com', 'love.com', 'sina.com', 'sohu.com',
];

describe('standardizeEmail: domain typos of popular providers are flagged with the fix', () => {
  it.each(TYPOS)('%s → %s', (domain, suggestion) => {
    const result = standardizeEmail(`zhang.san@${domain}`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toBe(`zhang.san@${domain}`);
    // Some typo domains (gmai.com, hotmil.com) are also registered as throw-away services.
    expect(result.flags.filter((f) => f.code !== 'email.disposable')).toStrictEqual([
      { code: 'email.domain_typo', message: `${JSON.stringify(domain)} looks like a typo of ${suggestion}.`, suggestion: `zhang.san@${suggestion}` },
    ]);
  });

  it.each(TYPOS)('with fixTypos, %s becomes %s', (domain, suggestion) => {
    const result = standardizeEmail(`Zhang.San@${domain.toUpperCase()}`, { fixTypos: true });
    expect(result).toStrictEqual({ ok: true, value: `zhang.san@${suggestion}`, rules: ['email.lowercased', 'email.domain_typo_fixed'], flags: [] });
  });

  it('flags a typo domain that is also a throw-away service twice', () => {
    expect(flagCodes('zhang@gmai.com')).toStrictEqual(['email.domain_typo', 'email.disposable']);
  });

  it.each(NOT_TYPOS)('%s is a real domain: not flagged, never changed', (domain) => {
    expect(flagCodes(`zhang@${domain}`)).toStrictEqual([]);
    expect(value(`zhang@${domain}`, true)).toBe(`zhang@${domain}`);
  });

  it('never flags a popular or known look-alike domain', () => {
    for (const domain of [...POPULAR_DOMAINS, ...LOOKALIKE_REAL_DOMAINS]) {
      expect(flagCodes(`someone@${domain}`), domain).toStrictEqual([]);
    }
  });

  it('keeps the typo flag and the suggestion readable for people', () => {
    const result = standardizeEmail('Li.Na@GMIAL.COM');
    expect(result).toStrictEqual({
      ok: true,
      value: 'li.na@gmial.com',
      rules: ['email.lowercased'],
      flags: [{ code: 'email.domain_typo', message: '"gmial.com" looks like a typo of gmail.com.', suggestion: 'li.na@gmail.com' }],
    });
  });
});

// ---------------------------------------------------------------------------

describe('standardizeEmail: disposable domains are flagged', () => {
  it.each(['mailinator.com', 'guerrillamail.com', '10minutemail.com', 'yopmail.com', 'sharklasers.com', 'temp-mail.org', 'anything.33mail.com', 'a.b.33mail.com'])('%s', (domain) => {
    const result = standardizeEmail(`someone@${domain}`);
    expect(result).toMatchObject({ ok: true, value: `someone@${domain}` });
    expect(flagCodes(`someone@${domain}`)).toStrictEqual(['email.disposable']);
  });

  it.each(['qq.com', '163.com', 'gmail.com', 'outlook.com', 'company.com.cn', 'com.mailinator.example.org'])('%s is not', (domain) => {
    expect(flagCodes(`someone@${domain}`)).toStrictEqual([]);
  });

  it('checks the fixed domain when fixing a typo', () => {
    expect(standardizeEmail('someone@mailinator.con', { fixTypos: true })).toMatchObject({
      ok: true,
      value: 'someone@mailinator.com',
      flags: [{ code: 'email.disposable' }],
    });
  });
});

// ---------------------------------------------------------------------------

describe('emailMatchKey', () => {
  it.each<[string, string]>([
    ['firstlast@gmail.com', 'firstlast@gmail.com'],
    ['first.last@gmail.com', 'firstlast@gmail.com'],
    ['f.i.r.s.t.l.a.s.t@gmail.com', 'firstlast@gmail.com'],
    ['first.last+promo@gmail.com', 'firstlast@gmail.com'],
    ['firstlast+a+b@gmail.com', 'firstlast@gmail.com'],
    ['first.last@googlemail.com', 'firstlast@gmail.com'],
    ['first.last+x@googlemail.com', 'firstlast@gmail.com'],
    ['First.Last@Gmail.com', 'firstlast@gmail.com'],
    ['+promo@gmail.com', '+promo@gmail.com'],
    ['zhang.san+shop@outlook.com', 'zhang.san@outlook.com'],
    ['zhang.san+shop@hotmail.com', 'zhang.san@hotmail.com'],
    ['zhang+x@live.com', 'zhang@live.com'],
    ['zhang+x@msn.com', 'zhang@msn.com'],
    ['zhang+x@fastmail.com', 'zhang@fastmail.com'],
    ['zhang+x@proton.me', 'zhang@proton.me'],
    ['zhang+x@protonmail.com', 'zhang@protonmail.com'],
    ['zhang.san@outlook.com', 'zhang.san@outlook.com'],
    ['zhang.san+shop@qq.com', 'zhang.san+shop@qq.com'],
    ['12345@qq.com', '12345@qq.com'],
    ['zhang@foxmail.com', 'zhang@foxmail.com'],
    ['zhang.san+x@163.com', 'zhang.san+x@163.com'],
    ['zhang.san-x@yahoo.com', 'zhang.san-x@yahoo.com'],
    ['zhang+x@yahoo.com', 'zhang+x@yahoo.com'],
    ['zhang+x@icloud.com', 'zhang+x@icloud.com'],
    ['zhang.san+x@company.com', 'zhang.san+x@company.com'],
    ['first.last+promo@gmail.com.cn', 'first.last+promo@gmail.com.cn'],
    ['not-an-email', 'not-an-email'],
  ])('%s → %s', (email, key) => {
    expect(emailMatchKey(email)).toBe(key);
  });

  it('makes the standard forms of one Gmail mailbox match', () => {
    const keys = new Set(['First.Last@Gmail.com', ' firstlast+news@GOOGLEMAIL.COM ', 'ｆｉｒｓｔ．ｌａｓｔ＠ｇｍａｉｌ．ｃｏｍ'].map((raw) => emailMatchKey(value(raw))));
    expect([...keys]).toStrictEqual(['firstlast@gmail.com']);
  });
});
