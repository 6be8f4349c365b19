/**
 * Data for email standardization: the mailbox providers whose misspellings are
 * worth flagging, real domains that merely look like misspellings, and the
 * top-level-domain slips seen in hand-typed addresses.
 */

/**
 * Consumer mailbox providers common in CN, US and EU customer data. A domain
 * one or two keystrokes away from one of these is far more often a typo than
 * a real domain.
 */
export const POPULAR_DOMAINS: readonly string[] = [
  // China
  'qq.com', 'vip.qq.com', 'foxmail.com', '163.com', 'vip.163.com', '126.com', 'vip.126.com', 'yeah.net',
  'sina.com', 'sina.cn', 'vip.sina.com', 'sohu.com', 'vip.sohu.com', 'aliyun.com', '139.com', '189.cn', 'wo.cn',
  '21cn.com', 'tom.com', '263.net', 'outlook.cn',
  // Google, Microsoft, Apple, Yahoo, AOL
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'hotmail.co.uk',
  'live.co.uk', 'outlook.fr', 'hotmail.fr', 'live.fr', 'outlook.de', 'hotmail.de', 'hotmail.it', 'hotmail.es',
  'icloud.com', 'me.com', 'mac.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.co.jp',
  'yahoo.com.hk', 'yahoo.com.tw', 'ymail.com', 'aol.com',
  // Europe and elsewhere
  'protonmail.com', 'proton.me', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 't-online.de', 'freenet.de',
  'orange.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'wanadoo.fr', 'libero.it', 'virgilio.it', 'btinternet.com',
  'mail.ru', 'yandex.ru', 'yandex.com', 'naver.com', 'daum.net', 'fastmail.com', 'zoho.com',
  // US internet service providers
  'comcast.net', 'verizon.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'cox.net', 'charter.net',
];

/**
 * Real domains within an edit or two of a popular provider: never "corrected".
 * Popular providers themselves are implicitly included.
 */
export const LOOKALIKE_REAL_DOMAINS: readonly string[] = [
  'mail.com', 'email.com', 'gmx.us', 'cloud.com', 'hotmail.ca', 'outlook.jp', 'yahoo.ca', 'yahoo.in',
  'rocketmail.com', 'googlegroups.com', 'google.com', 'outlook.es', 'live.ca', 'live.it', 'aim.com',
  'sina.com.cn', 'sohu.net', '163.net', '126.net', 'qq.cn', 'tom.cn', 'yeah.com', 'orange.com', 'free.com',
];

/**
 * Endings that are not top-level domains at all, so the address cannot be
 * delivered as typed: corrected towards the TLD they were meant to be.
 */
export const NONEXISTENT_TLD_FIXES: Readonly<Record<string, string>> = {
  con: 'com', cmo: 'com', comm: 'com', c0m: 'com', cpm: 'com', xom: 'com', vom: 'com', ocm: 'com',
  coom: 'com', cim: 'com', clm: 'com', conm: 'com', comn: 'com', ccom: 'com',
  nte: 'net', nett: 'net', neet: 'net',
  ogr: 'org', orgg: 'org',
};

/**
 * Real TLDs (Cameroon, Colombia, Oman) that are also the commonest slips for
 * `.com`: corrected only when the result is a popular provider, since
 * `acme.cm` may well be real while `163.cm` is not.
 */
export const SLIP_TLD_FIXES: Readonly<Record<string, string>> = {
  cm: 'com',
  co: 'com',
  om: 'com',
};

/**
 * Misspellings the general rules cannot reach safely: short provider names
 * (one edit from `qq` or `163` lands on other real domains) and endings that
 * are not a TLD at all (a one-letter `.c`).
 */
export const KNOWN_DOMAIN_TYPOS: Readonly<Record<string, string>> = {
  'qq.c': 'qq.com',
  '163.c': '163.com',
  '126.c': '126.com',
  'sina.c': 'sina.com',
  'gmail.c': 'gmail.com',
  'hotmail.c': 'hotmail.com',
  'outlook.c': 'outlook.com',
  'yahoo.c': 'yahoo.com',
  'yeah.ne': 'yeah.net',
};

/**
 * Providers whose mailboxes ignore a `+tag` (documented sub-addressing). For
 * Gmail dots are ignored as well and googlemail.com is the same mailbox.
 */
export const PLUS_ADDRESSING_DOMAINS: readonly string[] = [
  'gmail.com', 'googlemail.com',
  'outlook.com', 'hotmail.com', 'live.com', 'msn.com',
  'fastmail.com', 'fastmail.fm',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me',
];
