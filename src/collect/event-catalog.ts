import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TrackingMessage } from './messages.js';

/**
 * The standard events: one name and one property schema per thing that happens
 * on a channel, so analytics, segments and tracking plans read the same names.
 * Names follow Segment's specs where Segment has one (ecommerce, email, page,
 * screen); docs/events.md is the readable form of this file.
 */

/** Where an event comes from: the channels the product collects from. */
export const CHANNELS = ['forms', 'surveys', 'feedback', 'orders', 'store', 'social', 'email', 'sms', 'web', 'app'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The Segment call that carries the event: page and screen views are `page` and `screen` calls, the rest `track`. */
export type CatalogMessageType = 'track' | 'page' | 'screen';

export interface CatalogEvent {
  /** the `event` of a track call; for page and screen calls the name the catalogue (and tracking plans) give them */
  name: string;
  type: CatalogMessageType;
  channel: Channel;
  description: { en: string; 'zh-CN': string };
  /** JSON schema of `properties`; undeclared properties are allowed here (a tracking plan may forbid them) */
  properties: TObject;
}

/** The name page and screen calls go by in the catalogue and in tracking plans. */
export const PAGE_EVENT = 'Page Viewed';
export const SCREEN_EVENT = 'Screen Viewed';

const open = <T extends TProperties>(properties: T) => Type.Object(properties, { additionalProperties: true });
const text = (description: string, maxLength = 1024) => Type.String({ maxLength, description });
const id = (description: string) => Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Number()], { description: `${description} (string, or a number)` });
const money = (description: string) => Type.Number({ description });
const currency = Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 currency code, e.g. CNY, EUR, USD' });
const url = (description: string) => Type.String({ maxLength: 4096, description });

const Item = Type.Object(
  {
    product_id: id('the product'),
    sku: Type.Optional(text('stock keeping unit')),
    name: Type.Optional(text('product name')),
    category: Type.Optional(text('product category, e.g. "Dairy" or "Shoes > Running"')),
    brand: Type.Optional(text('brand')),
    price: Type.Optional(Type.Number({ minimum: 0, description: 'unit price, in the order currency' })),
    quantity: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'units; may be fractional (weighed goods)' })),
  },
  { additionalProperties: true, description: 'one order line' },
);
const Items = (description: string) => Type.Array(Item, { maxItems: 1000, description });
const salesChannel = text('where it was sold: web, app, store, marketplace, phone, social…', 64);

const campaign = {
  campaign_id: Type.Optional(id('the campaign the message belongs to')),
  campaign_name: Type.Optional(text('campaign name')),
};
const emailMessage = {
  ...campaign,
  email_id: Type.Optional(id('the email sent (the send, not the address)')),
  email_subject: Type.Optional(text('subject line')),
};
const smsMessage = {
  ...campaign,
  sms_id: Type.Optional(id('the SMS sent (the send, not the number)')),
};

/** The catalogue, in the order docs/events.md lists it. */
export const EVENT_CATALOG: readonly CatalogEvent[] = [
  {
    name: 'Signed Up',
    type: 'track',
    channel: 'forms',
    description: {
      en: 'A person registered: created an account or joined the membership programme. Their identifiers and traits come in an identify call.',
      'zh-CN': '用户完成注册：创建账户或加入会员计划。其标识和属性通过 identify 调用上报。',
    },
    properties: open({
      method: Type.Optional(text('how they registered: email, phone, wechat, store, …', 64)),
      form_id: Type.Optional(id('the registration form')),
      plan: Type.Optional(text('membership plan or tier chosen', 128)),
    }),
  },
  {
    name: 'Form Submitted',
    type: 'track',
    channel: 'forms',
    description: {
      en: 'A web, app or paper form was submitted (registration, contact, newsletter, lead). The answers that describe the person go in an identify call, not here.',
      'zh-CN': '提交了网页、应用或纸质表单（注册、联系、订阅、线索）。描述用户本人的填写内容应通过 identify 调用上报，而不是放在这里。',
    },
    properties: open({
      form_id: id('the form'),
      form_name: Type.Optional(text('form name')),
      form_type: Type.Optional(text('registration, contact, newsletter, lead, other', 64)),
      fields: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 200, description: 'names of the fields filled in (names only, never the answers)' })),
    }),
  },
  {
    name: 'Survey Responded',
    type: 'track',
    channel: 'surveys',
    description: {
      en: 'A survey was answered: a Net Promoter score (0–10), a satisfaction score (1–5) and/or a free-text comment.',
      'zh-CN': '用户回答了问卷：净推荐值（NPS，0–10）、满意度（CSAT，1–5）和/或自由文本评论。',
    },
    properties: open({
      survey_id: Type.Optional(id('the survey')),
      survey_name: Type.Optional(text('survey name')),
      nps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'how likely to recommend, 0–10 (Net Promoter Score)' })),
      csat: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'satisfaction, 1 (very unsatisfied) to 5 (very satisfied)' })),
      comment: Type.Optional(text('free-text answer', 10_000)),
      question: Type.Optional(text('the question answered, when one event is sent per question')),
    }),
  },
  {
    name: 'Feedback Submitted',
    type: 'track',
    channel: 'feedback',
    description: {
      en: 'Unprompted feedback: a complaint, suggestion, praise or question, from any channel (web form, hotline, store, social).',
      'zh-CN': '用户主动反馈：投诉、建议、表扬或咨询，来自任意渠道（网页表单、客服热线、门店、社交媒体）。',
    },
    properties: open({
      comment: text('what the customer said', 10_000),
      feedback_type: Type.Optional(Type.Union([Type.Literal('complaint'), Type.Literal('suggestion'), Type.Literal('praise'), Type.Literal('question'), Type.Literal('other')], { description: 'complaint, suggestion, praise, question or other' })),
      topic: Type.Optional(text('what it is about: delivery, product, staff, price, …', 128)),
      rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'optional rating, 1–5' })),
      order_id: Type.Optional(id('the order it concerns')),
      feedback_channel: Type.Optional(text('where it was given: web, app, phone, store, email, social', 64)),
    }),
  },
  {
    name: 'Order Completed',
    type: 'track',
    channel: 'orders',
    description: {
      en: 'An order was paid, online or at a till: one event per order. Purchases at a store POS are Order Completed with channel "store" and store_id.',
      'zh-CN': '订单完成支付（线上或门店收银）：每个订单一个事件。门店 POS 交易也用 Order Completed，channel 为 "store" 并带上 store_id。',
    },
    properties: open({
      order_id: id('the order'),
      revenue: Type.Optional(money('revenue of the order: total minus shipping and tax')),
      total: Type.Optional(money('amount paid, including shipping and tax')),
      discount: Type.Optional(money('discount given')),
      shipping: Type.Optional(money('shipping cost')),
      tax: Type.Optional(money('tax')),
      coupon: Type.Optional(text('coupon code used', 128)),
      currency: Type.Optional(currency),
      items: Type.Optional(Items('the order lines')),
      products: Type.Optional(Items("Segment's name for items, accepted from Segment SDKs")),
      store_id: Type.Optional(id('the store, for store and POS sales')),
      pos_id: Type.Optional(id('the till (POS terminal)')),
      channel: Type.Optional(salesChannel),
    }),
  },
  {
    name: 'Order Refunded',
    type: 'track',
    channel: 'orders',
    description: {
      en: 'An order was refunded, wholly or in part. revenue is the amount refunded, as a positive number.',
      'zh-CN': '订单全部或部分退款。revenue 为退款金额（正数）。',
    },
    properties: open({
      order_id: id('the order refunded'),
      revenue: Type.Optional(money('amount refunded, positive')),
      total: Type.Optional(money('amount refunded including shipping and tax, positive')),
      currency: Type.Optional(currency),
      items: Type.Optional(Items('the lines refunded; absent when the whole order was')),
      products: Type.Optional(Items("Segment's name for items, accepted from Segment SDKs")),
      reason: Type.Optional(text('why, e.g. damaged, late, changed mind', 256)),
      store_id: Type.Optional(id('the store that refunded it')),
      channel: Type.Optional(salesChannel),
    }),
  },
  {
    name: 'Store Visited',
    type: 'track',
    channel: 'store',
    description: {
      en: 'A known customer was in a physical store: checked in, scanned a member card, joined the store Wi-Fi or was served by staff.',
      'zh-CN': '已识别的顾客到访实体门店：签到、扫描会员卡、连接门店 Wi-Fi 或由店员接待。',
    },
    properties: open({
      store_id: id('the store'),
      store_name: Type.Optional(text('store name')),
      city: Type.Optional(text('city of the store', 128)),
      method: Type.Optional(text('how the visit was noticed: checkin, member_card, wifi, beacon, staff', 64)),
      duration_minutes: Type.Optional(Type.Number({ minimum: 0, description: 'length of the visit, when known' })),
    }),
  },
  {
    name: 'Social Interaction',
    type: 'track',
    channel: 'social',
    description: {
      en: 'A customer interacted with the brand on a social platform: liked, commented on or shared a post, or followed the account.',
      'zh-CN': '顾客在社交平台上与品牌互动：点赞、评论、转发帖子或关注账号。',
    },
    properties: open({
      platform: text('wechat, weibo, douyin, xiaohongshu, instagram, facebook, x, tiktok, …', 64),
      action: Type.Union([Type.Literal('like'), Type.Literal('comment'), Type.Literal('share'), Type.Literal('follow')], { description: 'like, comment, share or follow' }),
      text: Type.Optional(text('the comment or share text', 10_000)),
      post_id: Type.Optional(id('the post interacted with')),
      post_url: Type.Optional(url('link to the post')),
      account: Type.Optional(text("the brand's account on the platform", 256)),
    }),
  },
  {
    name: 'Email Delivered',
    type: 'track',
    channel: 'email',
    description: { en: 'An email reached the recipient’s mail server.', 'zh-CN': '邮件已送达收件人的邮件服务器。' },
    properties: open({ ...emailMessage }),
  },
  {
    name: 'Email Opened',
    type: 'track',
    channel: 'email',
    description: { en: 'An email was opened (as far as the tracking pixel can tell).', 'zh-CN': '邮件被打开（以跟踪像素可判断的为准）。' },
    properties: open({ ...emailMessage }),
  },
  {
    name: 'Email Link Clicked',
    type: 'track',
    channel: 'email',
    description: { en: 'A link in an email was clicked.', 'zh-CN': '邮件中的链接被点击。' },
    properties: open({ ...emailMessage, link_url: url('the link clicked'), link_id: Type.Optional(id('the link, when links are numbered')) }),
  },
  {
    name: 'Email Bounced',
    type: 'track',
    channel: 'email',
    description: { en: 'An email could not be delivered.', 'zh-CN': '邮件无法投递（退信）。' },
    properties: open({ ...emailMessage, bounce_type: Type.Optional(Type.Union([Type.Literal('hard'), Type.Literal('soft')], { description: 'hard (address invalid) or soft (temporary)' })) }),
  },
  {
    name: 'Email Unsubscribed',
    type: 'track',
    channel: 'email',
    description: {
      en: 'The recipient unsubscribed from email (Segment calls this "Unsubscribed"; the channel is in the name here so SMS can have its own).',
      'zh-CN': '收件人退订邮件（Segment 称为 "Unsubscribed"；这里名称中带上渠道，以便与短信退订区分）。',
    },
    properties: open({ ...emailMessage, list_id: Type.Optional(id('the mailing list left')) }),
  },
  {
    name: 'SMS Delivered',
    type: 'track',
    channel: 'sms',
    description: { en: 'An SMS reached the recipient’s phone (carrier delivery receipt).', 'zh-CN': '短信已送达收件人手机（运营商回执）。' },
    properties: open({ ...smsMessage }),
  },
  {
    name: 'SMS Link Clicked',
    type: 'track',
    channel: 'sms',
    description: { en: 'A link in an SMS was clicked.', 'zh-CN': '短信中的链接被点击。' },
    properties: open({ ...smsMessage, link_url: url('the link clicked') }),
  },
  {
    name: 'SMS Replied',
    type: 'track',
    channel: 'sms',
    description: { en: 'The recipient replied to an SMS.', 'zh-CN': '收件人回复了短信。' },
    properties: open({ ...smsMessage, text: Type.Optional(text('the reply', 2_000)) }),
  },
  {
    name: 'SMS Unsubscribed',
    type: 'track',
    channel: 'sms',
    description: { en: 'The recipient opted out of SMS (replied STOP or equivalent).', 'zh-CN': '收件人退订短信（回复 TD/STOP 等）。' },
    properties: open({ ...smsMessage }),
  },
  {
    name: PAGE_EVENT,
    type: 'page',
    channel: 'web',
    description: {
      en: 'A web page was viewed: a Segment page call. The page name is the call’s name; these are its properties.',
      'zh-CN': '浏览了网页：即 Segment 的 page 调用。页面名称在调用的 name 字段中，以下为其属性。',
    },
    properties: open({
      url: Type.Optional(url('full URL')),
      path: Type.Optional(url('path of the URL')),
      title: Type.Optional(text('document title')),
      referrer: Type.Optional(url('the referring URL')),
      search: Type.Optional(url('query string of the URL')),
      name: Type.Optional(text('page name')),
      category: Type.Optional(text('page category')),
    }),
  },
  {
    name: SCREEN_EVENT,
    type: 'screen',
    channel: 'app',
    description: {
      en: 'An app screen was viewed: a Segment screen call. The screen name is the call’s name; these are its properties.',
      'zh-CN': '浏览了应用界面：即 Segment 的 screen 调用。界面名称在调用的 name 字段中，以下为其属性。',
    },
    properties: open({
      name: Type.Optional(text('screen name')),
      category: Type.Optional(text('screen category')),
    }),
  },
];

const BY_NAME = new Map(EVENT_CATALOG.map((entry) => [entry.name, entry]));
const CHECKERS = new Map<string, TypeCheck<TObject>>(EVENT_CATALOG.map((entry) => [entry.name, TypeCompiler.Compile(entry.properties)]));

/** The catalogue entry with this name, if any. */
export function findCatalogEvent(name: string): CatalogEvent | undefined {
  return BY_NAME.get(name);
}

/** The catalogue name a message goes by: a track call's event, `Page Viewed` for page calls, `Screen Viewed` for screen calls; null for other calls. */
export function catalogNameOf(message: Pick<TrackingMessage, 'type' | 'event'>): string | null {
  if (message.type === 'track') return message.event ?? null;
  if (message.type === 'page') return PAGE_EVENT;
  if (message.type === 'screen') return SCREEN_EVENT;
  return null;
}

/** The properties an entry declares and which of them are required. */
export function catalogProperties(entry: CatalogEvent): { names: readonly string[]; required: readonly string[] } {
  return { names: Object.keys(entry.properties.properties), required: entry.properties.required ?? [] };
}

export type CatalogIssueKind = 'missing_required' | 'wrong_type' | 'invalid_value';

export interface CatalogIssue {
  /** path inside properties; array elements collapse to `[]`: `items[].price` */
  property: string;
  kind: CatalogIssueKind;
  /** names the property and what was expected; never quotes the value */
  message: string;
}

const TYPE_ERRORS = new Set<ValueErrorType>([
  ValueErrorType.Array, ValueErrorType.Boolean, ValueErrorType.Integer, ValueErrorType.Number,
  ValueErrorType.Object, ValueErrorType.String, ValueErrorType.Null,
]);

function pathOf(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += '[]';
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

function isLiteralUnion(schema: TSchema): boolean {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  return Array.isArray(anyOf) && anyOf.every((s) => 'const' in s);
}

/** What a TypeBox error expected, in words that never quote the value: `expected one of like, comment`. */
export function describeValueError(error: Pick<ValueError, 'type' | 'schema' | 'message'>): string {
  const anyOf = (error.schema as { anyOf?: Array<{ const?: unknown; type?: unknown }> }).anyOf;
  if (error.type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  if (error.type === ValueErrorType.Union && Array.isArray(anyOf)) {
    return isLiteralUnion(error.schema) ? `expected one of ${anyOf.map((s) => String(s.const)).join(', ')}` : `expected ${anyOf.map((s) => String(s.type)).join(' or ')}`;
  }
  return error.message.replace(/^Expected /, 'expected ');
}

function kindOf(type: ValueErrorType, schema: TSchema, value: unknown): CatalogIssueKind {
  if (type === ValueErrorType.ObjectRequiredProperty) return 'missing_required';
  if (TYPE_ERRORS.has(type)) return 'wrong_type';
  // A string outside an enumeration is the right type with a wrong value.
  if (type === ValueErrorType.Union) return isLiteralUnion(schema) && typeof value === 'string' ? 'invalid_value' : 'wrong_type';
  return 'invalid_value';
}

/**
 * Check a message's properties against its catalogue entry: required
 * properties present, types and ranges as declared (also inside `items`).
 * Undeclared properties are not issues here. Pure; one issue per property and
 * kind, however many array elements share it.
 */
export function checkEventProperties(entry: CatalogEvent, properties: Record<string, unknown> | undefined): CatalogIssue[] {
  const checker = CHECKERS.get(entry.name) ?? TypeCompiler.Compile(entry.properties);
  const value = properties ?? {};
  if (checker.Check(value)) return [];
  const issues = new Map<string, CatalogIssue>();
  for (const error of checker.Errors(value)) {
    // A missing required property is reported once, not also as a value of the wrong type.
    if (error.value === undefined && error.type !== ValueErrorType.ObjectRequiredProperty) continue;
    const kind = kindOf(error.type, error.schema, error.value);
    const property = pathOf(error.path) || '(properties)';
    const key = `${kind}\u0000${property}`;
    if (issues.has(key)) continue;
    const message = kind === 'missing_required'
      ? `${property} is required by ${entry.name}`
      : `${property}: ${describeValueError(error)} (${entry.name})`;
    issues.set(key, { property, kind, message });
  }
  return [...issues.values()];
}

/** Check a message against the catalogue: null when its name is not a catalogue event. */
export function checkAgainstCatalog(message: Pick<TrackingMessage, 'type' | 'event' | 'properties'>): CatalogIssue[] | null {
  const name = catalogNameOf(message);
  const entry = name === null ? undefined : findCatalogEvent(name);
  return entry ? checkEventProperties(entry, message.properties) : null;
}

/** The catalogue as plain JSON (what GET /api/catalog/events answers), schemas included. */
export function catalogAsJson(): Array<{ name: string; type: CatalogMessageType; channel: Channel; description: { en: string; 'zh-CN': string }; properties: Record<string, unknown> }> {
  return EVENT_CATALOG.map((entry) => ({
    name: entry.name,
    type: entry.type,
    channel: entry.channel,
    description: entry.description,
    // JSON round trip: TypeBox keeps its bookkeeping under symbol keys, which are not part of the schema.
    properties: JSON.parse(JSON.stringify(entry.properties)) as Record<string, unknown>,
  }));
}
