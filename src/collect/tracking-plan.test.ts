import { describe, expect, it } from 'vitest';
import type { TrackingMessage } from './messages.js';
import { applyTrackingPlan, MAX_VIOLATIONS_PER_MESSAGE, safeName, validateTrackingPlan, WITHHELD_NAME, type PlanMode, type TrackingPlan } from './tracking-plan.js';

const at = '2026-03-01T12:00:00.000Z';
const track = (event: string, properties?: Record<string, unknown>, messageId = 'm-1'): TrackingMessage => ({ type: 'track', messageId, userId: 'u', event, timestamp: at, receivedAt: at, ...(properties ? { properties } : {}) });
const identify = (traits: Record<string, unknown>): TrackingMessage => ({ type: 'identify', messageId: 'm-id', userId: 'u', traits, timestamp: at, receivedAt: at });

const plan = (mode: PlanMode, extra: Partial<TrackingPlan> = {}): TrackingPlan => ({
  mode,
  events: [
    { event: 'Signed Up', properties: { plan: { type: 'string', required: true }, trial_days: { type: 'number' }, tags: { type: 'array' }, meta: { type: 'object' }, promo: { type: 'boolean' }, note: { type: 'any' } } },
    { event: 'Order Completed', fromCatalog: true, properties: { gift_wrap: { type: 'boolean' } } },
  ],
  ...extra,
});

describe('validateTrackingPlan', () => {
  it('accepts a plan with catalogue references, traits and every property type', () => {
    const result = validateTrackingPlan(plan('block', { traits: { city: { type: 'string' }, age: { type: 'number', required: false } } }));
    expect(result.ok).toBe(true);
  });

  it.each([
    [{ events: [] }, 'mode', 'missing_field'],
    [{ mode: 'strict', events: [] }, 'mode', 'invalid_field'],
    [{ mode: 'block' }, 'events', 'missing_field'],
    [{ mode: 'block', events: {} }, 'events', 'invalid_field'],
    [{ mode: 'block', events: [], extra: 1 }, 'extra', 'invalid_field'],
    [{ mode: 'block', events: [{ name: 'A' }] }, 'events[0].event', 'missing_field'],
    [{ mode: 'block', events: [{ event: '' }] }, 'events[0].event', 'invalid_field'],
    [{ mode: 'block', events: [{ event: 'A' }, { event: 'B', properties: { price: { type: 'float' } } }] }, 'events[1].properties.price.type', 'invalid_field'],
    [{ mode: 'block', events: [{ event: 'A', properties: { price: { type: 'number', requird: true } } }] }, 'events[0].properties.price.requird', 'invalid_field'],
    [{ mode: 'block', events: [], traits: { age: 'number' } }, 'traits.age', 'invalid_field'],
    [{ mode: 'block', events: [{ event: 'A' }, { event: 'A' }] }, 'events[1].event', 'invalid_field'],
    [{ mode: 'block', events: [{ event: 'Made Up', fromCatalog: true }] }, 'events[0].event', 'invalid_field'],
    [{ mode: 'block', events: [{ event: 'Order Completed', fromCatalog: true, properties: { revenue: { type: 'string' } } }] }, 'events[0].properties.revenue', 'invalid_field'],
    [{ mode: 'block', events: [{ event: 'A', properties: { '': { type: 'string' } } }] }, 'events[0].properties', 'invalid_field'],
    [[], 'body', 'invalid_field'],
  ])('%j → %s (%s)', (input, field, reason) => {
    const result = validateTrackingPlan(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issue).toMatchObject({ field, reason });
      expect(result.issue.message.startsWith(field)).toBe(true);
    }
  });

  it('says what a mode may be', () => {
    const result = validateTrackingPlan({ mode: 'strict', events: [] });
    expect(!result.ok && result.issue.message).toBe('mode: expected one of allow, drop-properties, block');
  });
});

describe('applyTrackingPlan', () => {
  describe('allow', () => {
    it('accepts everything unchanged and lists the violations', () => {
      const message = track('Signed Up', { plan: 5, trial_days: 14, coupon: 'X' });
      const result = applyTrackingPlan(plan('allow'), message);
      expect(result.outcome).toBe('accept');
      expect(result.message).toBe(message);
      expect(result.dropped).toEqual([]);
      expect(result.violations).toEqual([
        { event: 'Signed Up', property: 'plan', kind: 'wrong_type', messageId: 'm-1' },
        { event: 'Signed Up', property: 'coupon', kind: 'undeclared_property', messageId: 'm-1' },
      ]);
    });

    it('accepts an undeclared event with one violation', () => {
      const result = applyTrackingPlan(plan('allow'), track('Mystery', { a: 1 }));
      expect(result).toMatchObject({ outcome: 'accept', violations: [{ event: 'Mystery', property: null, kind: 'undeclared_event' }] });
    });

    it('a message that keeps its plan has no violations', () => {
      const result = applyTrackingPlan(plan('allow'), track('Signed Up', { plan: 'pro', tags: ['a'], meta: { x: 1 }, promo: false, note: null }));
      expect(result.violations).toEqual([]);
    });

    it.each([
      [{}, 'missing_required'],
      [{ plan: null }, 'missing_required'],
      [{ plan: 'pro', trial_days: '14' }, 'wrong_type'],
      [{ plan: 'pro', tags: 'a,b' }, 'wrong_type'],
      [{ plan: 'pro', meta: [1] }, 'wrong_type'],
      [{ plan: 'pro', promo: 'yes' }, 'wrong_type'],
    ])('%j → %s', (properties, kind) => {
      expect(applyTrackingPlan(plan('allow'), track('Signed Up', properties)).violations).toEqual([expect.objectContaining({ kind })]);
    });
  });

  describe('drop-properties', () => {
    it('removes undeclared properties from a copy and keeps declared ones', () => {
      const message = track('Signed Up', { plan: 'pro', coupon: 'X', email: 'ada@example.com' });
      const result = applyTrackingPlan(plan('drop-properties'), message);
      expect(result.outcome).toBe('accept');
      expect(result.message.properties).toEqual({ plan: 'pro' });
      expect(result.dropped).toEqual(['properties.coupon', 'properties.email']);
      expect(message.properties).toEqual({ plan: 'pro', coupon: 'X', email: 'ada@example.com' });
      expect(result.violations.map((v) => v.kind)).toEqual(['undeclared_property', 'undeclared_property']);
    });

    it('leaves an undeclared event as it is, recording it', () => {
      const message = track('Mystery', { a: 1 });
      const result = applyTrackingPlan(plan('drop-properties'), message);
      expect(result).toMatchObject({ outcome: 'accept', dropped: [], violations: [{ kind: 'undeclared_event' }] });
      expect(result.message).toBe(message);
    });

    it('keeps the catalogue properties of a catalogue event, and the ones the plan adds', () => {
      const properties = { order_id: 'o-1', revenue: 10, currency: 'EUR', items: [{ product_id: 'p', price: 10, quantity: 1, colour: 'red' }], gift_wrap: true, note: 'hi' };
      const result = applyTrackingPlan(plan('drop-properties'), track('Order Completed', properties));
      const { note: _note, ...kept } = properties;
      expect(result.message.properties).toEqual(kept);
      expect(result.dropped).toEqual(['properties.note']);
    });

    it('checks catalogue properties against the catalogue schema, inside arrays too', () => {
      const result = applyTrackingPlan(plan('drop-properties'), track('Order Completed', { revenue: 'ten', items: [{ product_id: 'p', price: 'free' }], gift_wrap: 'yes' }));
      expect(result.violations.map((v) => `${v.kind}:${v.property}`).sort()).toEqual(['missing_required:order_id', 'wrong_type:gift_wrap', 'wrong_type:items[].price', 'wrong_type:revenue']);
      expect(result.dropped).toEqual([]);
    });

    it('strips undeclared identify traits when the plan declares traits', () => {
      const result = applyTrackingPlan(plan('drop-properties', { traits: { city: { type: 'string' } } }), identify({ city: 'Lyon', shoe_size: 42 }));
      expect(result.message.traits).toEqual({ city: 'Lyon' });
      expect(result.dropped).toEqual(['traits.shoe_size']);
      expect(result.violations).toEqual([{ event: 'identify', property: 'shoe_size', kind: 'undeclared_property', messageId: 'm-id' }]);
    });

    it('leaves identify calls alone when the plan declares no traits', () => {
      const message = identify({ anything: 1 });
      expect(applyTrackingPlan(plan('drop-properties'), message)).toEqual({ outcome: 'accept', message, violations: [], dropped: [] });
    });
  });

  describe('block', () => {
    it('refuses an undeclared track event, naming the event field', () => {
      const result = applyTrackingPlan(plan('block'), track('Mystery'));
      expect(result.outcome).toBe('block');
      if (result.outcome === 'block') expect(result.issue).toMatchObject({ reason: 'blocked_by_tracking_plan', field: 'event', message: expect.stringContaining('"Mystery"') });
      expect(result.violations).toEqual([{ event: 'Mystery', property: null, kind: 'undeclared_event', messageId: 'm-1' }]);
    });

    it('refuses page and screen calls unless Page Viewed / Screen Viewed are declared', () => {
      const page: TrackingMessage = { type: 'page', messageId: 'p-1', anonymousId: 'a', name: 'Home', properties: { path: '/' }, timestamp: at, receivedAt: at };
      const blocked = applyTrackingPlan(plan('block'), page);
      expect(blocked.outcome).toBe('block');
      if (blocked.outcome === 'block') expect(blocked.issue).toMatchObject({ field: 'type', message: expect.stringContaining('Page Viewed') });
      const declared = plan('block', { events: [{ event: 'Page Viewed', fromCatalog: true }] });
      expect(applyTrackingPlan(declared, page)).toMatchObject({ outcome: 'accept', violations: [] });
      expect(applyTrackingPlan(declared, { ...page, type: 'screen' }).outcome).toBe('block');
    });

    it('strips undeclared properties of declared events as drop-properties does', () => {
      const result = applyTrackingPlan(plan('block'), track('Signed Up', { plan: 'pro', x: 1 }));
      expect(result).toMatchObject({ outcome: 'accept', dropped: ['properties.x'], message: { properties: { plan: 'pro' } } });
    });

    it('never blocks identify, group or alias calls', () => {
      const strict = plan('block', { traits: {} });
      expect(applyTrackingPlan(strict, identify({ a: 1 })).outcome).toBe('accept');
      const group: TrackingMessage = { type: 'group', messageId: 'g', userId: 'u', groupId: 'acme', traits: { a: 1 }, timestamp: at, receivedAt: at };
      expect(applyTrackingPlan(strict, group)).toEqual({ outcome: 'accept', message: group, violations: [], dropped: [] });
      const alias: TrackingMessage = { type: 'alias', messageId: 'al', userId: 'u', previousId: 'a', timestamp: at, receivedAt: at };
      expect(applyTrackingPlan(strict, alias).outcome).toBe('accept');
    });
  });

  it('stores names only: values never reach a violation, and names that look like personal data are withheld', () => {
    const result = applyTrackingPlan(plan('drop-properties'), track('Signed Up', { plan: 42, 'ada@example.com': 'secret-1', '+44 20 7946 0958': 'secret-2', trial_days: 'secret-3' }));
    const text = JSON.stringify(result.violations);
    expect(text).not.toMatch(/secret|ada@|7946/);
    // Two withheld names are one violation: a count is of messages.
    expect(result.violations.filter((v) => v.property === WITHHELD_NAME)).toHaveLength(1);
    expect(result.dropped).toHaveLength(2);
    expect(applyTrackingPlan(plan('allow'), track('Sent to ada@example.com')).violations[0]!.event).toBe(WITHHELD_NAME);
  });

  it('records at most a bounded number of violations per message, and still strips them all', () => {
    const properties = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, i]));
    const result = applyTrackingPlan(plan('drop-properties'), track('Signed Up', { plan: 'pro', ...properties }));
    expect(result.violations).toHaveLength(MAX_VIOLATIONS_PER_MESSAGE);
    expect(result.dropped).toHaveLength(300);
    expect(result.message.properties).toEqual({ plan: 'pro' });
  });

  it('lets everything through for a catalogue event this version does not know (a plan stored by another version)', () => {
    const stored = { mode: 'block', events: [{ event: 'Gone Event', fromCatalog: true }] } as TrackingPlan;
    expect(applyTrackingPlan(stored, track('Gone Event', { a: 1 }))).toMatchObject({ outcome: 'accept', violations: [], dropped: [] });
  });
});

describe('safeName', () => {
  it.each([
    ['coupon', 'coupon'],
    ['', '(empty)'],
    ['ada@example.com', WITHHELD_NAME],
    ['13800138000', WITHHELD_NAME],
    ['user_1234567', WITHHELD_NAME],
    ['sku_123', 'sku_123'],
  ])('%j → %j', (name, expected) => expect(safeName(name)).toBe(expected));
  it('shortens long names', () => expect(safeName('x'.repeat(500))).toHaveLength(201));
});
