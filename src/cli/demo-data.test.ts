import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from '../clean/junk-ids.js';
import { checkAgainstCatalog } from '../collect/event-catalog.js';
import { LIMITS, validateMessage } from '../collect/messages.js';
import { identitiesOf } from '../identity/identifiers.js';
import { DEMO_SOURCES, demoMessages, generateDemo, seasonalWeight, type DemoMessage } from './demo-data.js';

const now = new Date('2026-11-24T10:00:00.000Z');
const DAY = 86_400_000;
const junk = createJunkIdFilter();
const { messages, summary } = generateDemo({ customers: 400, seed: 'test-seed', now });

const tracks = (event: string) => messages.filter((m) => m.message.type === 'track' && m.message.event === event);
const identifies = messages.filter((m) => m.message.type === 'identify');
const CJK = /[\u4e00-\u9fff]/;
const localDate = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 10);

describe('demo data generator', () => {
  it('is deterministic: the same seed and date give the same messages; another seed others', () => {
    const again = [...demoMessages({ customers: 400, seed: 'test-seed', now })];
    expect(again).toEqual(messages);
    const other = [...demoMessages({ customers: 400, seed: 'another-seed', now })];
    expect(other.map((m) => m.message.messageId)).not.toEqual(messages.map((m) => m.message.messageId));
    expect(JSON.stringify(other)).not.toEqual(JSON.stringify(messages));
  });

  it('keeps each customer whatever the count and day: a bigger or later load only adds', () => {
    const first = [...demoMessages({ customers: 50, seed: 'test-seed', now })];
    expect(first).toEqual(messages.filter((m) => m.person < 50));
    const later = [...demoMessages({ customers: 50, seed: 'test-seed', now: new Date(now.getTime() + 3 * DAY) })];
    const ids = new Set(first.map((m) => m.message.messageId));
    const overlap = later.filter((m) => ids.has(m.message.messageId)).length;
    expect(overlap / later.length).toBeGreaterThan(0.9);
  });

  it('every message passes validation, within Segment limits, with a unique messageId and a timestamp in the past year', () => {
    const receivedAt = new Date(now.getTime() + 1000);
    for (const { message } of messages) {
      const result = validateMessage(message, { receivedAt, type: null, junk });
      expect(result.ok, JSON.stringify(message)).toBe(true);
      if (result.ok) {
        expect(result.ignoredIds).toEqual([]);
        expect(result.repairedText).toEqual([]);
      }
      expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(LIMITS.messageBytes);
      const at = Date.parse(message.timestamp);
      expect(at).toBeLessThan(now.getTime());
      expect(at).toBeGreaterThan(now.getTime() - 366 * DAY);
      expect(message.messageId.startsWith('demo-')).toBe(true);
    }
    expect(new Set(messages.map((m) => m.message.messageId)).size).toBe(messages.length);
    expect(summary.messages).toBe(messages.length);
  });

  it('comes from every source, and every message names a person the identity graph can link', () => {
    for (const source of DEMO_SOURCES) expect(summary.bySource[source], source).toBeGreaterThan(0);
    for (const { message } of messages) {
      const validated = validateMessage(message, { receivedAt: now, type: null, junk });
      if (validated.ok) expect(identitiesOf(validated.message, junk).length).toBeGreaterThan(0);
    }
    const crm = identifies.filter((m) => m.source === 'crm');
    expect(crm.every((m) => JSON.stringify(m.message.context?.externalIds).includes('"collection":"crm"'))).toBe(true);
  });

  it('has Chinese and Western names, and one person written differently in different systems', () => {
    const names = identifies.map((m) => m.message.traits?.name).filter((n): n is string => typeof n === 'string');
    expect(names.filter((n) => CJK.test(n)).length).toBeGreaterThan(names.length * 0.4);
    expect(names.filter((n) => /^[A-Za-zÀ-ÿ' ,.-]+$/.test(n.trim())).length).toBeGreaterThan(names.length * 0.1);
    const byPerson = new Map<number, DemoMessage[]>();
    for (const m of messages) byPerson.set(m.person, [...(byPerson.get(m.person) ?? []), m]);
    const sourcesOf = (list: DemoMessage[]) => new Set(list.map((m) => m.source));
    expect([...byPerson.values()].filter((list) => sourcesOf(list).size >= 3).length).toBeGreaterThan(40);
    // The same phone, written several ways for one person.
    const phoneSpellings = [...byPerson.values()].map((list) => {
      const phones = list.flatMap((m) => [m.message.traits?.phone, (m.message.context?.traits as Record<string, unknown> | undefined)?.phone]).filter((p): p is string => typeof p === 'string');
      return new Set(phones).size;
    });
    expect(phoneSpellings.filter((n) => n >= 2).length).toBeGreaterThan(40);
    // Duplicate records inside the CRM.
    expect(messages.some((m) => m.message.messageId.endsWith('-crm-dup'))).toBe(true);
  });

  it('writes phones, birthdays, genders and cities in many notations', () => {
    const traitValues = (key: string) => new Set(identifies.map((m) => m.message.traits?.[key]).filter((v): v is string => typeof v === 'string'));
    const phones = [...traitValues('phone')];
    expect(phones.some((p) => /^\+86 1\d\d \d{4} \d{4}$/.test(p))).toBe(true);
    expect(phones.some((p) => /^1\d{10}$/.test(p))).toBe(true);
    expect(phones.some((p) => /[０-９]/.test(p))).toBe(true);
    expect(phones.some((p) => /^\(\d{3}\) 555-\d{4}$/.test(p))).toBe(true);
    const birthdays = [...traitValues('birthday')];
    expect(birthdays.some((b) => /^\d{4}-\d\d-\d\d$/.test(b))).toBe(true);
    expect(birthdays.some((b) => /年/.test(b))).toBe(true);
    expect(birthdays.some((b) => /^\d\d\/\d\d\/\d{4}$/.test(b))).toBe(true);
    expect([...traitValues('gender')]).toEqual(expect.arrayContaining(['男', '女', 'M', 'F']));
    const cities = traitValues('city');
    expect([...cities].filter((c) => ['上海', '上海市', 'Shanghai', 'SH', 'shanghai', 'Shang Hai', 'SHANGHAI'].includes(c)).length).toBeGreaterThanOrEqual(3);
    const emails = [...traitValues('email')];
    expect(emails.some((e) => e !== e.trim() || e !== e.toLowerCase())).toBe(true);
  });

  it('has a year of orders with seasonality: November above the average month, 11.11 the busiest day', () => {
    const orders = tracks('Order Completed');
    expect(orders.length).toBe(summary.orders);
    const byMonth = new Array<number>(12).fill(0);
    const byDay = new Map<string, number>();
    for (const { message } of orders) {
      const day = localDate(message.timestamp);
      byMonth[Number(day.slice(5, 7)) - 1]! += 1;
      byDay.set(day, (byDay.get(day) ?? 0) + 1);
    }
    const average = orders.length / 12;
    expect(byMonth[10]!).toBeGreaterThan(average * 1.4);
    const busiest = [...byDay].sort((a, b) => b[1] - a[1])[0]!;
    expect(busiest[0]).toBe('2026-11-11');
    expect(seasonalWeight({ y: 2026, m: 11, d: 11, weekday: 3 })).toBeGreaterThan(seasonalWeight({ y: 2026, m: 3, d: 11, weekday: 3 }) * 5);
    // CNY: the shops close for the holiday.
    expect(seasonalWeight({ y: 2026, m: 2, d: 18, weekday: 3 })).toBeLessThan(seasonalWeight({ y: 2026, m: 3, d: 18, weekday: 3 }));
    for (const { message } of orders) {
      const p = message.properties!;
      expect(['CNY', 'USD']).toContain(p.currency);
      expect(typeof p.revenue).toBe('number');
      expect((p.products as unknown[]).length).toBeGreaterThan(0);
    }
    expect(orders.some((o) => o.message.properties?.currency === 'USD')).toBe(true);
    expect(new Set(orders.flatMap((o) => (o.message.properties?.products as Array<{ category: string }>).map((x) => x.category))).size).toBeGreaterThanOrEqual(6);
    expect(orders.filter((o) => o.source === 'pos').every((o) => typeof o.message.properties?.store_id === 'string')).toBe(true);
  });

  it('most buyers buy once, a few often; some stopped buying months ago', () => {
    const perPerson = new Map<number, number[]>();
    for (const { person, message } of tracks('Order Completed')) perPerson.set(person, [...(perPerson.get(person) ?? []), Date.parse(message.timestamp)]);
    const counts = [...perPerson.values()].map((list) => list.length);
    expect(counts.filter((c) => c === 1).length).toBeGreaterThan(counts.length * 0.35);
    expect(counts.filter((c) => c >= 10).length).toBeGreaterThan(0);
    const lapsed = [...perPerson.values()].filter((list) => list.length >= 2 && Math.max(...list) < now.getTime() - 150 * DAY);
    expect(lapsed.length).toBeGreaterThan(0);
  });

  it('has feedback with NPS 0–10 and CSAT 1–5, bilingual comments, and complaints', () => {
    const responses = tracks('Survey Responded');
    expect(responses.length).toBeGreaterThan(20);
    const nps = responses.map((r) => r.message.properties?.nps as number);
    expect(nps.every((n) => Number.isInteger(n) && n >= 0 && n <= 10)).toBe(true);
    expect(nps.some((n) => n >= 9) && nps.some((n) => n <= 6)).toBe(true);
    const csat = responses.map((r) => r.message.properties?.csat).filter((c) => c !== undefined) as number[];
    expect(csat.every((c) => Number.isInteger(c) && c >= 1 && c <= 5)).toBe(true);
    const comments = responses.map((r) => r.message.properties?.comment).filter((c): c is string => typeof c === 'string');
    expect(comments.some((c) => CJK.test(c)) && comments.some((c) => !CJK.test(c))).toBe(true);
    expect(tracks('Feedback Submitted').length).toBeGreaterThan(0);
  });

  it('carries consents as traits and campaign touches as events with a campaign_id', () => {
    const consenting = identifies.filter((m) => typeof m.message.traits?.consent_marketing_email === 'boolean');
    expect(consenting.length).toBeGreaterThan(50);
    expect(consenting.every((m) => !Number.isNaN(Date.parse(String(m.message.traits?.consent_marketing_email_at))))).toBe(true);
    for (const event of ['Email Opened', 'Email Link Clicked', 'SMS Delivered']) {
      const touches = tracks(event);
      expect(touches.length, event).toBeGreaterThan(0);
      expect(touches.every((t) => typeof t.message.properties?.campaign_id === 'string')).toBe(true);
    }
  });

  it('names events and properties as the standard catalogue does (docs/events.md)', () => {
    for (const { message } of messages) {
      const issues = checkAgainstCatalog({ type: message.type, event: message.event, properties: message.properties });
      if (message.type === 'track') expect(issues, `${message.event} is not a catalogue event`).not.toBeNull();
      expect(issues ?? [], JSON.stringify(message)).toEqual([]);
    }
    expect(tracks('Order Completed').find((o) => o.source === 'pos')?.message.properties?.channel).toBe('store');
  });

  it('refuses a customer count it cannot make', () => {
    expect(() => [...demoMessages({ customers: -1, now })]).toThrow(RangeError);
    expect(() => [...demoMessages({ customers: 1.5, now })]).toThrow(RangeError);
  });
});
