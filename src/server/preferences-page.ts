import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CONSENT_PURPOSES, currentConsents, isLinkRevoked, verifyLink, type ConsentInput, type ConsentPurpose, type LinkClaims, type LinkKind } from '../privacy/consent.js';
import type { Keyring } from '../privacy/crypto.js';
import type { Database } from '../storage/database.js';
import { liveProfileId } from '../storage/live-profile.js';
import { applyConsents } from './consent-routes.js';

/**
 * The public consent pages: one-click unsubscribe (`/u/:token`, RFC 8058) and
 * the preference centre (`/preferences/:token`). No login: the signed token is
 * the capability, and forms post back to the same tokened address, so a page
 * elsewhere cannot forge a change without the token (no cookies, nothing
 * ambient to ride on). Plain server-rendered HTML, every value escaped, no
 * scripts at all.
 */

export type PageLocale = 'en' | 'zh-CN';

/** The version of the purpose texts below; recorded with every choice made on these pages. Change it when the texts change. */
export const PAGE_TEXT_VERSION = 'pages-1';

interface Words {
  title: string;
  purposes: Record<ConsentPurpose, { name: string; text: string }>;
  unsubscribeTitle: string;
  unsubscribeAsk: (purpose: string) => string;
  unsubscribeButton: string;
  unsubscribed: (purpose: string) => string;
  preferencesTitle: (workspace: string) => string;
  preferencesIntro: string;
  save: string;
  saved: string;
  on: string;
  off: string;
  badTitle: string;
  bad: Record<'malformed' | 'signature' | 'expired' | 'revoked' | 'kind' | 'gone' | 'body', string>;
}

const EN: Words = {
  title: 'Your preferences',
  purposes: {
    email_marketing: { name: 'Marketing email', text: 'News, offers and recommendations by email.' },
    sms_marketing: { name: 'Marketing text messages', text: 'Offers and reminders by SMS.' },
    personalization: { name: 'Personalization', text: 'Use what you browse and buy to tailor what we show you.' },
    analytics: { name: 'Analytics', text: 'Measure how our sites and apps are used, to improve them.' },
    third_party_sharing: { name: 'Sharing with partners', text: 'Share your data with selected partners for their own marketing.' },
  },
  unsubscribeTitle: 'Unsubscribe',
  unsubscribeAsk: (p) => `Stop ${p}?`,
  unsubscribeButton: 'Unsubscribe',
  unsubscribed: (p) => `Done: you will no longer receive ${p}.`,
  preferencesTitle: (w) => `Your preferences with ${w}`,
  preferencesIntro: 'Choose what you agree to. You can change this at any time.',
  save: 'Save',
  saved: 'Your choices are saved.',
  on: 'On',
  off: 'Off',
  badTitle: 'This link does not work',
  bad: {
    malformed: 'This link is incomplete or damaged. Please use the link from your message exactly as it was sent.',
    signature: 'This link is not valid. Please use the link from your message exactly as it was sent.',
    expired: 'This link has expired. Please use the link in a more recent message.',
    revoked: 'This link has been withdrawn. Please use the link in a more recent message.',
    kind: 'This link is meant for another page.',
    gone: 'This link no longer points to anyone.',
    body: 'The form could not be read. Please try again.',
  },
};

const ZH: Words = {
  title: '偏好设置',
  purposes: {
    email_marketing: { name: '营销邮件', text: '通过邮件接收资讯、优惠和推荐。' },
    sms_marketing: { name: '营销短信', text: '通过短信接收优惠和提醒。' },
    personalization: { name: '个性化推荐', text: '根据您的浏览和购买记录，为您推荐内容。' },
    analytics: { name: '数据分析', text: '统计网站和应用的使用情况，用于改进服务。' },
    third_party_sharing: { name: '向第三方共享数据', text: '将您的数据共享给经过挑选的合作伙伴，用于其自身的营销。' },
  },
  unsubscribeTitle: '退订',
  unsubscribeAsk: (p) => `确定不再接收${p}吗？`,
  unsubscribeButton: '退订',
  unsubscribed: (p) => `已退订：您将不再收到${p}。`,
  preferencesTitle: (w) => `您在 ${w} 的偏好设置`,
  preferencesIntro: '请选择您同意的内容，您可以随时修改。',
  save: '保存',
  saved: '您的选择已保存。',
  on: '开',
  off: '关',
  badTitle: '此链接无法使用',
  bad: {
    malformed: '此链接不完整或已损坏，请使用消息中原样提供的链接。',
    signature: '此链接无效，请使用消息中原样提供的链接。',
    expired: '此链接已过期，请使用较新消息中的链接。',
    revoked: '此链接已被撤销，请使用较新消息中的链接。',
    kind: '此链接用于其他页面。',
    gone: '此链接已不再指向任何人。',
    body: '无法读取表单，请重试。',
  },
};

const WORDS: Record<PageLocale, Words> = { en: EN, 'zh-CN': ZH };

/**
 * The page language: `?lang=` if it names one, else the Accept-Language
 * entry with the highest weight that we have (any zh is zh-CN), else English.
 */
export function pageLocale(acceptLanguage: string | undefined, lang?: unknown): PageLocale {
  if (lang === 'en' || lang === 'zh-CN') return lang;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((l) => l.tag !== '' && Number.isFinite(l.q) && l.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;background:#f6f7f9;color:#1d2430}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.4rem;margin:0 0 1rem}
.card{background:#fff;border-radius:10px;padding:1rem 1.1rem;margin:0 0 .75rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.row{display:flex;gap:1rem;align-items:flex-start;justify-content:space-between}
.row p{margin:.2rem 0 0;color:#5b6472;font-size:.92rem}
label.t{position:relative;flex:none;width:3.2rem;height:1.8rem}
label.t input{opacity:0;width:100%;height:100%;margin:0;position:absolute;cursor:pointer}
label.t span{position:absolute;inset:0;border-radius:1rem;background:#c5cad3;pointer-events:none;transition:background .15s}
label.t span:after{content:"";position:absolute;top:.2rem;left:.2rem;width:1.4rem;height:1.4rem;border-radius:50%;background:#fff;transition:left .15s}
label.t input:checked+span{background:#2f7d4f}
label.t input:checked+span:after{left:1.6rem}
label.t input:focus-visible+span{outline:3px solid #7aa7ff}
button{font:inherit;width:100%;padding:.8rem;border:0;border-radius:8px;background:#1f4fd1;color:#fff;cursor:pointer}
.note{background:#e7f5ec;color:#1e5a36;border-radius:8px;padding:.7rem 1rem;margin:0 0 1rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
`;

function page(locale: PageLocale, title: string, body: string): string {
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function badLinkPage(locale: PageLocale, reason: keyof Words['bad']): string {
  const w = WORDS[locale];
  return page(locale, w.badTitle, `<h1>${escapeHtml(w.badTitle)}</h1><div class="card"><p>${escapeHtml(w.bad[reason])}</p></div>`);
}

export function unsubscribePage(locale: PageLocale, token: string, purpose: ConsentPurpose, done: boolean): string {
  const w = WORDS[locale];
  const name = w.purposes[purpose].name;
  if (done) return page(locale, w.unsubscribeTitle, `<h1>${escapeHtml(w.unsubscribeTitle)}</h1><p class="note" role="status">${escapeHtml(w.unsubscribed(name))}</p>`);
  return page(
    locale,
    w.unsubscribeTitle,
    `<h1>${escapeHtml(w.unsubscribeTitle)}</h1><form method="post" action="/u/${escapeHtml(encodeURIComponent(token))}?lang=${locale}"><div class="card"><p>${escapeHtml(w.unsubscribeAsk(name))}</p></div>` +
      `<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${escapeHtml(w.unsubscribeButton)}</button></form>`,
  );
}

export function preferencesPage(locale: PageLocale, token: string, workspace: string, granted: ReadonlySet<ConsentPurpose>, saved: boolean): string {
  const w = WORDS[locale];
  const rows = CONSENT_PURPOSES.map((p) => {
    const { name, text } = w.purposes[p];
    const id = `p-${p}`;
    return (
      `<div class="card row"><div><label for="${id}"><strong>${escapeHtml(name)}</strong></label><p>${escapeHtml(text)}</p></div>` +
      `<label class="t"><input type="checkbox" role="switch" id="${id}" name="purpose" value="${p}"${granted.has(p) ? ' checked' : ''}><span></span><span class="sr">${escapeHtml(granted.has(p) ? w.on : w.off)}</span></label></div>`
    );
  }).join('');
  return page(
    locale,
    w.title,
    `<h1>${escapeHtml(w.preferencesTitle(workspace))}</h1>${saved ? `<p class="note" role="status">${escapeHtml(w.saved)}</p>` : ''}<p>${escapeHtml(w.preferencesIntro)}</p>` +
      `<form method="post" action="/preferences/${escapeHtml(encodeURIComponent(token))}?lang=${locale}"><input type="hidden" name="shown" value="1">${rows}<button type="submit">${escapeHtml(w.save)}</button></form>`,
  );
}

/** The purposes a submitted preference form turned on; null when the form is not ours. */
export function grantedInForm(body: string): Set<ConsentPurpose> | null {
  const form = new URLSearchParams(body);
  if (form.get('shown') !== '1') return null;
  return new Set(form.getAll('purpose').filter((p): p is ConsentPurpose => (CONSENT_PURPOSES as readonly string[]).includes(p)));
}

/** Who the audit log names for a change made on these pages: the person holding the signed link, not a user of ours. */
const LINK_ACTOR = 'subject:link';

export interface PreferencePagesDeps {
  database: Database;
  keyring: Keyring;
}

const HEADERS = {
  // Nothing but our own inline style; forms post only back here; the page cannot be framed (clickjacking a toggle).
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  // The token is in the address: no Referer may carry it elsewhere, no cache may keep it.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export const preferencePages: FastifyPluginAsync<PreferencePagesDeps> = async (app, { database, keyring }) => {
  // Mail clients post RFC 8058's form body, browsers post forms: read every body as text here (the rest of the API reads JSON).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => done(null, typeof body === 'string' ? body : body.toString('utf8')));

  const localeOf = (request: FastifyRequest) => pageLocale(request.headers['accept-language'], (request.query as { lang?: unknown } | undefined)?.lang);
  const send = (reply: FastifyReply, status: number, html: string) => reply.code(status).headers(HEADERS).type('text/html; charset=utf-8').send(html);

  // A page, never JSON: whatever goes wrong with a body or address reads as a page the person can understand.
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'consent page failed');
      return send(reply, 500, badLinkPage(localeOf(request), 'body'));
    }
    return send(reply, 400, badLinkPage(localeOf(request), 'body'));
  });

  /** The link's claims and the live profile, or the 400/404 page already sent. */
  async function checked(request: FastifyRequest, reply: FastifyReply, kind: LinkKind): Promise<{ claims: LinkClaims; profileId: string } | null> {
    const { token } = request.params as { token: string };
    const check = verifyLink(keyring, token, kind);
    if (!check.ok) {
      await send(reply, 400, badLinkPage(localeOf(request), check.reason));
      return null;
    }
    if (await isLinkRevoked(database.db, check.claims)) {
      await send(reply, 400, badLinkPage(localeOf(request), 'revoked'));
      return null;
    }
    const profileId = await liveProfileId(database.db, check.claims.workspaceId, check.claims.profileId);
    if (!profileId) {
      await send(reply, 404, badLinkPage(localeOf(request), 'gone'));
      return null;
    }
    return { claims: check.claims, profileId };
  }

  const hidden = { hide: true };

  app.get('/u/:token', { schema: hidden }, async (request, reply) => {
    const link = await checked(request, reply, 'unsubscribe');
    if (!link) return reply;
    // GET never changes anything: mail scanners open links before people do.
    return send(reply, 200, unsubscribePage(localeOf(request), (request.params as { token: string }).token, link.claims.purpose!, false));
  });

  app.post('/u/:token', { schema: hidden }, async (request, reply) => {
    const link = await checked(request, reply, 'unsubscribe');
    if (!link) return reply;
    const purpose = link.claims.purpose!;
    const locale = localeOf(request);
    const current = (await currentConsents(database.db, link.claims.workspaceId, [link.profileId])).get(link.profileId)?.[purpose];
    // Mail providers may post a one-click request more than once; the ledger needs the first.
    if (current?.granted !== false) {
      const details = { oneClick: /List-Unsubscribe=One-Click/i.test(String(request.body ?? '')) };
      await applyConsents(database, link.claims.workspaceId, [{ profileId: link.profileId, purpose, granted: false, legalBasis: 'consent', source: 'unsubscribe_link', textVersion: `${PAGE_TEXT_VERSION}/${locale}`, at: new Date(), details }], 'event', new Date(), {
        actor: LINK_ACTOR,
        action: 'consent.unsubscribe',
        profileId: link.profileId,
        details: { purpose, ...details },
      });
    }
    return send(reply, 200, unsubscribePage(locale, (request.params as { token: string }).token, purpose, true));
  });

  async function renderPreferences(request: FastifyRequest, reply: FastifyReply, link: { claims: LinkClaims; profileId: string }, saved: boolean) {
    const [current, workspace] = await Promise.all([
      currentConsents(database.db, link.claims.workspaceId, [link.profileId]),
      database.db.selectFrom('workspaces').select('name').where('id', '=', link.claims.workspaceId).executeTakeFirst(),
    ]);
    const state = current.get(link.profileId) ?? {};
    const granted = new Set(CONSENT_PURPOSES.filter((p) => state[p]?.granted === true));
    return send(reply, 200, preferencesPage(localeOf(request), (request.params as { token: string }).token, workspace?.name ?? link.claims.workspaceId, granted, saved));
  }

  app.get('/preferences/:token', { schema: hidden }, async (request, reply) => {
    const link = await checked(request, reply, 'preferences');
    if (!link) return reply;
    return renderPreferences(request, reply, link, false);
  });

  app.post('/preferences/:token', { schema: hidden }, async (request, reply) => {
    const link = await checked(request, reply, 'preferences');
    if (!link) return reply;
    const wanted = grantedInForm(typeof request.body === 'string' ? request.body : '');
    if (!wanted) return send(reply, 400, badLinkPage(localeOf(request), 'body'));
    const locale = localeOf(request);
    const current = (await currentConsents(database.db, link.claims.workspaceId, [link.profileId])).get(link.profileId) ?? {};
    const now = new Date();
    // Only what the person changed is recorded: a purpose never decided and left off stays undecided.
    const changes: ConsentInput[] = CONSENT_PURPOSES.filter((p) => (current[p]?.granted ?? false) !== wanted.has(p)).map((purpose) => ({
      profileId: link.profileId,
      purpose,
      granted: wanted.has(purpose),
      legalBasis: 'consent',
      source: 'preference_centre',
      textVersion: `${PAGE_TEXT_VERSION}/${locale}`,
      at: now,
    }));
    if (changes.length > 0) {
      await applyConsents(database, link.claims.workspaceId, changes, 'event', now, {
        actor: LINK_ACTOR,
        action: 'consent.preferences',
        profileId: link.profileId,
        details: { granted: changes.filter((c) => c.granted).map((c) => c.purpose), withdrawn: changes.filter((c) => !c.granted).map((c) => c.purpose) },
      });
    }
    return renderPreferences(request, reply, link, true);
  });
};
