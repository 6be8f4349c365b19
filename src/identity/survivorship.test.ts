import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Survivorship } from './settings.js';
import { completeness, mergeStates, NO_SURVIVORSHIP, offerTrait, type TraitState } from './survivorship.js';

const offer = (sourceId: string, iso: string, derived = false) => ({ sourceId, messageId: `${sourceId}-${iso}`, at: new Date(iso), derived });
const fresh = (): TraitState => ({ traits: {}, provenance: {} });

describe('offerTrait', () => {
  it('recent keeps the value of the newest message, and says so', () => {
    const s = fresh();
    offerTrait(s, 'city', 'Lyon', offer('crm', '2025-01-01T00:00:00Z'), NO_SURVIVORSHIP);
    expect(offerTrait(s, 'city', 'Nice', offer('pos', '2024-01-01T00:00:00Z'), NO_SURVIVORSHIP)).toBe(false);
    offerTrait(s, 'city', 'Paris', offer('web', '2025-06-01T00:00:00Z'), NO_SURVIVORSHIP);
    expect(s.traits.city).toBe('Paris');
    expect(s.provenance.city).toEqual({ s: 'web', m: 'web-2025-06-01T00:00:00Z', t: '2025-06-01T00:00:00.000Z', r: 'recent' });
  });

  it('a given value beats a derived one, even an older given one', () => {
    const s = fresh();
    offerTrait(s, 'country', 'CN', offer('web', '2025-06-01T00:00:00Z', true), NO_SURVIVORSHIP);
    offerTrait(s, 'country', 'US', offer('crm', '2020-01-01T00:00:00Z'), NO_SURVIVORSHIP);
    expect(offerTrait(s, 'country', 'SG', offer('web', '2026-01-01T00:00:00Z', true), NO_SURVIVORSHIP)).toBe(false);
    expect(s.traits.country).toBe('US');
    expect(s.provenance.country!.d).toBeUndefined();
  });

  it('source ranks listed sources first; unlisted sources tie and fall back to recency', () => {
    const rules: Survivorship = { default: 'source', sourceOrder: ['crm', 'pos'], fields: {} };
    const s = fresh();
    offerTrait(s, 'name', 'From Web', offer('web', '2025-01-01T00:00:00Z'), rules);
    offerTrait(s, 'name', 'From POS', offer('pos', '2024-01-01T00:00:00Z'), rules);
    offerTrait(s, 'name', 'From App', offer('app', '2026-01-01T00:00:00Z'), rules);
    expect(s.traits.name).toBe('From POS');
    offerTrait(s, 'name', 'From CRM', offer('crm', '2020-01-01T00:00:00Z'), rules);
    expect(s.traits.name).toBe('From CRM');
  });

  it('completeness counts filled parts before length', () => {
    expect(completeness({ city: 'A', district: 'B' })).toBeGreaterThan(completeness({ street: 'a very long street name indeed' }));
    expect(completeness('Robert')).toBeGreaterThan(completeness('Bob'));
    expect(completeness(null)).toBe(0);
  });
});

describe('mergeStates', () => {
  const at = fc.integer({ min: 0, max: 10_000 }).map((n) => new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString());
  const state = fc.dictionary(fc.constantFrom('city', 'name', 'plan'), fc.tuple(fc.string({ maxLength: 4 }), at, fc.constantFrom('crm', 'web')), { minKeys: 0, maxKeys: 3 }).map((d) => {
    const s = fresh();
    for (const [key, [value, t, source]] of Object.entries(d)) offerTrait(s, key, value, offer(source, t), NO_SURVIVORSHIP);
    return s;
  });

  it('recent: merging keeps, per trait, the value of the latest message whichever profile holds it, and loses no trait', () => {
    fc.assert(
      fc.property(state, state, (a, b) => {
        const merged = mergeStates([a, b], NO_SURVIVORSHIP);
        for (const key of new Set([...Object.keys(a.traits), ...Object.keys(b.traits)])) {
          const ta = a.provenance[key]?.t;
          const tb = b.provenance[key]?.t;
          expect(key in merged.traits).toBe(true);
          if (ta !== undefined && tb !== undefined && ta !== tb) expect(merged.traits[key]).toBe(ta > tb ? a.traits[key] : b.traits[key]);
        }
      }),
    );
  });

  it('frequent: counts add up across the profiles merged', () => {
    const rules: Survivorship = { default: 'frequent', sourceOrder: [], fields: {} };
    const a = fresh();
    const b = fresh();
    for (const [i, city] of ['Beijing', 'Beijing', 'Beijing'].entries()) offerTrait(a, 'city', city, offer('crm', `2024-01-0${i + 1}T00:00:00Z`), rules);
    for (const [i, city] of ['Shanghai', 'Shanghai'].entries()) offerTrait(b, 'city', city, offer('web', `2025-01-0${i + 1}T00:00:00Z`), rules);
    const merged = mergeStates([a, b], rules);
    expect(merged.traits.city).toBe('Beijing');
    expect(merged.provenance.city!.c).toBe(1);
  });
});
