import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogAsJson, catalogNameOf, catalogProperties, checkAgainstCatalog, checkEventProperties, EVENT_CATALOG, findCatalogEvent, type CatalogEvent } from './event-catalog.js';

const entry = (name: string): CatalogEvent => {
  const found = findCatalogEvent(name);
  if (!found) throw new Error(`no catalogue event ${name}`);
  return found;
};

describe('the event catalogue', () => {
  it('has one entry per name, each described in English and Chinese', () => {
    const names = EVENT_CATALOG.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of EVENT_CATALOG) {
      expect(e.description.en.length, e.name).toBeGreaterThan(10);
      expect(e.description['zh-CN'], e.name).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('covers every channel the product collects from', () => {
    const channels = new Set(EVENT_CATALOG.map((e) => e.channel));
    for (const channel of ['forms', 'surveys', 'feedback', 'orders', 'store', 'social', 'email', 'sms', 'web', 'app']) expect(channels).toContain(channel);
    for (const name of ['Form Submitted', 'Survey Responded', 'Feedback Submitted', 'Order Completed', 'Order Refunded', 'Store Visited', 'Social Interaction', 'Email Opened', 'Email Link Clicked', 'SMS Delivered', 'Page Viewed', 'Screen Viewed']) {
      expect(findCatalogEvent(name), name).toBeDefined();
    }
  });

  it('declares the order schema other parts of the product read', () => {
    const order = entry('Order Completed');
    expect(catalogProperties(order).required).toEqual(['order_id']);
    expect(catalogProperties(order).names).toEqual(expect.arrayContaining(['order_id', 'revenue', 'currency', 'items', 'store_id', 'channel']));
    const item = (catalogAsJson().find((e) => e.name === 'Order Completed')!.properties as { properties: { items: { items: { properties: Record<string, unknown>; required: string[] } } } }).properties.items.items;
    expect(Object.keys(item.properties)).toEqual(expect.arrayContaining(['product_id', 'category', 'price', 'quantity']));
    expect(item.required).toEqual(['product_id']);
  });

  it('names page and screen calls, and only those and track calls', () => {
    expect(catalogNameOf({ type: 'track', event: 'Order Completed' })).toBe('Order Completed');
    expect(catalogNameOf({ type: 'page' })).toBe('Page Viewed');
    expect(catalogNameOf({ type: 'screen' })).toBe('Screen Viewed');
    expect(catalogNameOf({ type: 'identify' })).toBeNull();
    expect(findCatalogEvent('Page Viewed')?.type).toBe('page');
  });

  it('serves plain JSON schemas', () => {
    const json = catalogAsJson();
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    const survey = json.find((e) => e.name === 'Survey Responded')!.properties as { properties: Record<string, { minimum?: number; maximum?: number }> };
    expect(survey.properties.nps).toMatchObject({ type: 'integer', minimum: 0, maximum: 10 });
    expect(survey.properties.csat).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 });
  });
});

describe('checkEventProperties', () => {
  it.each([
    ['Order Completed', { order_id: 'o-1', revenue: 42.5, currency: 'CNY', items: [{ product_id: 'p1', category: 'Tea', price: 21.25, quantity: 2 }], channel: 'store', store_id: 7 }],
    ['Order Completed', { order_id: 991, coupon: 'X', something_else: true }],
    ['Survey Responded', { nps: 0, csat: 5, comment: '很好' }],
    ['Survey Responded', {}],
    ['Social Interaction', { platform: 'weibo', action: 'share', text: 'look' }],
    ['Feedback Submitted', { comment: 'late delivery', feedback_type: 'complaint' }],
    ['Page Viewed', { url: 'https://example.com/a', path: '/a' }],
  ])('%s %j passes', (name, properties) => {
    expect(checkEventProperties(entry(name), properties)).toEqual([]);
  });

  it.each([
    ['Order Completed', { revenue: 1 }, 'order_id', 'missing_required'],
    ['Order Completed', { order_id: 'o', revenue: '42' }, 'revenue', 'wrong_type'],
    ['Order Completed', { order_id: 'o', currency: 'dollars' }, 'currency', 'invalid_value'],
    ['Order Completed', { order_id: 'o', items: [{ product_id: 'a', price: 1 }, { product_id: 'b', price: 'free' }] }, 'items[].price', 'wrong_type'],
    ['Order Completed', { order_id: 'o', items: [{ price: 1 }] }, 'items[].product_id', 'missing_required'],
    ['Order Completed', { order_id: true }, 'order_id', 'wrong_type'],
    ['Survey Responded', { nps: 11 }, 'nps', 'invalid_value'],
    ['Survey Responded', { csat: 0 }, 'csat', 'invalid_value'],
    ['Survey Responded', { nps: 7.5 }, 'nps', 'wrong_type'],
    ['Social Interaction', { platform: 'x', action: 'poke' }, 'action', 'invalid_value'],
    ['Social Interaction', { action: 'like' }, 'platform', 'missing_required'],
    ['Feedback Submitted', {}, 'comment', 'missing_required'],
    ['Email Link Clicked', { campaign_id: 'c' }, 'link_url', 'missing_required'],
  ])('%s %j → %s %s', (name, properties, property, kind) => {
    expect(checkEventProperties(entry(name), properties)).toEqual([expect.objectContaining({ property, kind })]);
  });

  it('reports a property once however many items share the problem', () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ product_id: `p${i}`, price: 'n/a' }));
    expect(checkEventProperties(entry('Order Completed'), { order_id: 'o', items })).toHaveLength(1);
  });

  it('names the property and the expectation, never the value', () => {
    const issues = checkEventProperties(entry('Social Interaction'), { platform: 'ada@example.com-secret', action: 'secret-action-value' });
    expect(issues[0]!.message).toBe('action: expected one of like, comment, share, follow (Social Interaction)');
    expect(JSON.stringify(issues)).not.toContain('secret');
  });

  it('checks a message by its catalogue name, or not at all', () => {
    expect(checkAgainstCatalog({ type: 'track', event: 'Order Completed', properties: {} })).toEqual([expect.objectContaining({ property: 'order_id' })]);
    expect(checkAgainstCatalog({ type: 'page', properties: { url: 5 } })).toEqual([expect.objectContaining({ property: 'url', kind: 'wrong_type' })]);
    expect(checkAgainstCatalog({ type: 'track', event: 'Something Custom', properties: {} })).toBeNull();
  });
});

describe('docs/events.md', () => {
  const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
  it.each(EVENT_CATALOG.map((e) => [e.name, e] as const))('documents %s and each of its properties', (name, e) => {
    expect(doc).toContain(`### ${name}`);
    const section = doc.slice(doc.indexOf(`### ${name}`)).split(/\n### /)[0]!;
    for (const property of catalogProperties(e).names) expect(section, `${name}.${property}`).toContain(`\`${property}\``);
  });
});
