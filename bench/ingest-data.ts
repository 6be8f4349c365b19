/**
 * Synthetic Segment traffic for bench/ingest. Deterministic (seeded), so the
 * load-generator process and the bulk-load baseline build the very same
 * messages without shipping 100k of them between processes.
 */
import { seededRandom } from '../src/analytics/random.js';

/** One message as an SDK sends it: plain JSON. */
export type RawEvent = Record<string, unknown>;

const EVENTS = ['Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed', 'Page Scrolled', 'Coupon Applied', 'Search Performed'];
const CATEGORIES = ['shoes', 'outerwear', 'accessories', 'kitchen', 'books', 'toys'];
const PATHS = ['/', '/products/', '/cart', '/checkout', '/search', '/account', '/blog/'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
];
const FIRST = ['Ada', 'Grace', 'Alan', 'Wei', 'Mei', 'Ravi', 'Sofia', 'Lukas'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Zhang', 'Chen', 'Patel', 'Rossi', 'Novak'];
const LOCALES = ['en-US', 'zh-CN', 'de-DE', 'fr-FR'];
const ZONES = ['America/New_York', 'Asia/Shanghai', 'Europe/Berlin', 'Europe/Paris'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function hex(random: () => number, digits: number): string {
  let out = '';
  while (out.length < digits) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, digits);
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

/**
 * `count` messages: ~80% track, ~20% identify, every one with a unique
 * messageId, a userId or anonymousId, properties or traits and a browser
 * context, ~0.8 KB of JSON each (a typical analytics.js message).
 */
export function generateEvents(seed: number, count: number): RawEvent[] {
  const random = seededRandom(seed);
  const base = Date.UTC(2025, 0, 1);
  const events: RawEvent[] = [];
  for (let i = 0; i < count; i++) {
    const user = Math.floor(random() * 20_000);
    const known = random() < 0.7;
    const path = pick(random, PATHS) + (random() < 0.5 ? hex(random, 6) : '');
    const at = new Date(base + i * 1000 + Math.floor(random() * 1000)).toISOString();
    const context = {
      library: { name: 'analytics.js', version: '5.2.1' },
      ip: `10.${user % 256}.${(user >> 8) % 256}.${Math.floor(random() * 256)}`,
      userAgent: pick(random, AGENTS),
      locale: pick(random, LOCALES),
      timezone: pick(random, ZONES),
      page: { path, url: `https://shop.example.com${path}`, referrer: 'https://www.google.com/', title: 'Example Shop', search: '' },
      ...(random() < 0.3 ? { campaign: { name: 'spring-sale', source: 'newsletter', medium: 'email' } } : {}),
    };
    const ids = { ...(known ? { userId: `user-${user}` } : {}), anonymousId: uuid(random) };
    if (random() < 0.2) {
      const first = pick(random, FIRST);
      const last = pick(random, LAST);
      events.push({
        type: 'identify',
        messageId: uuid(random),
        ...ids,
        traits: { email: `${first}.${last}.${user}@example.com`.toLowerCase(), firstName: first, lastName: last, phone: `+1 415 555 ${String(user % 10_000).padStart(4, '0')}`, plan: random() < 0.5 ? 'free' : 'pro', city: 'San Francisco' },
        context,
        originalTimestamp: at,
      });
    } else {
      events.push({
        type: 'track',
        messageId: uuid(random),
        ...ids,
        event: pick(random, EVENTS),
        properties: { product_id: `sku-${hex(random, 6)}`, category: pick(random, CATEGORIES), price: Math.round(random() * 20_000) / 100, currency: 'USD', quantity: 1 + Math.floor(random() * 3) },
        context,
        originalTimestamp: at,
      });
    }
  }
  return events;
}

/** Segment-style /v1/batch bodies of `size` messages, serialized once up front. */
export function batchBodies(events: readonly RawEvent[], size: number): Buffer[] {
  const bodies: Buffer[] = [];
  const sentAt = new Date(Date.UTC(2025, 0, 2)).toISOString();
  for (let i = 0; i < events.length; i += size) {
    bodies.push(Buffer.from(JSON.stringify({ batch: events.slice(i, i + size), sentAt }), 'utf8'));
  }
  return bodies;
}
