import { describe, expect, it } from 'vitest';
import { canonicalGivenName } from '../clean/name.js';
import { cleanContext, type CleanContext } from '../clean/settings.js';
import { cleanTraits } from '../clean/traits.js';
import { generatePeople, MEAN_SOURCES_PER_ENTITY, SYNTHETIC_AS_OF, type SyntheticPeople, type SyntheticRecord } from './synthetic-people.js';

const now = new Date('2026-11-24T00:00:00Z');

interface Cleaned {
  record: SyntheticRecord;
  traits: Record<string, unknown>;
}

/** Raw traits through cleaning with the record's own source settings, derived values filling the gaps as on a profile. */
function cleanAll(people: SyntheticPeople): Cleaned[] {
  const contexts = new Map<string, CleanContext>(people.sources.map((s) => [s.id, cleanContext({}, s, now)]));
  return people.records.map((record) => {
    const out = cleanTraits(record.traits, contexts.get(record.source)!);
    return { record, traits: { ...out.derived, ...out.traits } };
  });
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const address = (t: Record<string, unknown>): Record<string, string> | undefined => (typeof t.address === 'object' && t.address !== null ? (t.address as Record<string, string>) : undefined);
const fullName = (t: Record<string, unknown>): string | undefined => text(t.name);
const familyName = (t: Record<string, unknown>): string | undefined => text(t.lastName)?.toLowerCase();
const streetKey = (t: Record<string, unknown>): string | undefined => {
  const a = address(t);
  return a?.street !== undefined && a.city !== undefined ? `${a.city}|${a.street}`.toLowerCase() : undefined;
};

/** Groups of records by a key, as [key, records]; records without the key are left out. */
function groupBy(rows: readonly Cleaned[], key: (c: Cleaned) => string | undefined): Map<string, Cleaned[]> {
  const out = new Map<string, Cleaned[]>();
  for (const c of rows) {
    const k = key(c);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(c);
    else out.set(k, [c]);
  }
  return out;
}

const entitiesIn = (rows: readonly Cleaned[]): Set<number> => new Set(rows.map((c) => c.record.entity));

describe('generatePeople', () => {
  it('is deterministic for a seed, and a different seed gives different people', () => {
    const a = generatePeople({ entities: 500, seed: 42 });
    const b = generatePeople({ entities: 500, seed: 42 });
    const c = generatePeople({ entities: 500, seed: 43 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c.records)).not.toBe(JSON.stringify(a.records));
  });

  it.each([1, 2, 7, 1000, 4321])('makes exactly %i people, each in one to four sources, at most once per source', (entities) => {
    const { records } = generatePeople({ entities, seed: entities });
    const bySource = new Map<number, string[]>();
    for (const r of records) bySource.set(r.entity, [...(bySource.get(r.entity) ?? []), r.source]);
    expect([...bySource.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: entities }, (_, i) => i));
    for (const sources of bySource.values()) {
      expect(sources.length).toBeGreaterThanOrEqual(1);
      expect(sources.length).toBeLessThanOrEqual(4);
      expect(new Set(sources).size).toBe(sources.length);
    }
    if (entities >= 1000) expect(records.length / entities).toBeCloseTo(MEAN_SOURCES_PER_ENTITY, 1);
  });

  it('makes nobody for zero entities', () => {
    expect(generatePeople({ entities: 0 }).records).toEqual([]);
  });

  it('declares a date order for every source, so ambiguous dates are read, not refused', () => {
    const { sources } = generatePeople({ entities: 1 });
    expect(sources.map((s) => s.id).sort()).toEqual(['crm', 'pos', 'survey', 'web']);
    for (const s of sources) expect(s.dateOrder === 'dmy' || s.dateOrder === 'mdy').toBe(true);
  });
});

describe('generatePeople through cleaning', () => {
  // Big enough that the rarer hard cases (twins aside) occur at realistic rates.
  const people = generatePeople({ entities: 15_000, seed: 2026 });
  const cleaned = cleanAll(people);
  const byEntity = groupBy(cleaned, (c) => String(c.record.entity));

  it('every record cleans without throwing, and what it says is mostly well-formed', () => {
    const fields = ['email', 'phone', 'birthday'] as const;
    const contexts = new Map(people.sources.map((s) => [s.id, cleanContext({}, s, now)]));
    const seen = { email: 0, phone: 0, birthday: 0, name: 0 };
    const valid = { email: 0, phone: 0, birthday: 0, name: 0 };
    for (const record of people.records) {
      const out = cleanTraits(record.traits, contexts.get(record.source)!);
      for (const o of out.observations) {
        const field = o.field === 'firstName' || o.field === 'lastName' ? 'name' : o.field;
        if (field !== 'name' && !(fields as readonly string[]).includes(field)) continue;
        seen[field as keyof typeof seen]++;
        if (o.valid) valid[field as keyof typeof valid]++;
      }
    }
    // Junk, typos and impossible dates are a few percent; the formats themselves must all be readable.
    for (const field of ['email', 'phone', 'birthday', 'name'] as const) {
      expect(seen[field], field).toBeGreaterThan(1000);
      expect(valid[field] / seen[field], field).toBeGreaterThan(0.94);
    }
  });

  it('births are of adults, and none after the as-of date', () => {
    for (const c of cleaned) {
      const birthday = text(c.traits.birthday);
      if (birthday === undefined || birthday.startsWith('1900')) continue;
      expect(birthday < SYNTHETIC_AS_OF.toISOString().slice(0, 10)).toBe(true);
      expect(Number(birthday.slice(0, 4))).toBeGreaterThan(1930);
    }
  });

  it('records of one person often share no email or phone: matching must weigh the rest', () => {
    let pairs = 0;
    let sharing = 0;
    for (const rows of byEntity.values()) {
      for (let i = 0; i < rows.length; i++) {
        for (let j = i + 1; j < rows.length; j++) {
          const a = rows[i]!.traits;
          const b = rows[j]!.traits;
          pairs++;
          if ((text(a.email) && a.email === b.email) || (text(a.phone) && a.phone === b.phone)) sharing++;
        }
      }
    }
    expect(pairs).toBeGreaterThan(3000);
    expect(sharing / pairs).toBeGreaterThan(0.25);
    expect(sharing / pairs).toBeLessThan(0.75);
  });

  it('one person: Han name in one source, pinyin in another', () => {
    const han = /\p{Script=Han}/u;
    const mixed = [...byEntity.values()].filter((rows) => {
      const names = rows.map((r) => fullName(r.traits)).filter((n): n is string => n !== undefined);
      return names.some((n) => han.test(n)) && names.some((n) => /^[A-Za-z]/.test(n));
    });
    expect(mixed.length).toBeGreaterThan(50);
  });

  it('one person: a nickname in one source, the full given name in another', () => {
    const found = [...byEntity.values()].filter((rows) => {
      const givens = new Set(rows.map((r) => text(r.traits.firstName)?.split(' ')[0]).filter((g): g is string => g !== undefined));
      const canon = new Set([...givens].map((g) => canonicalGivenName(g) ?? g));
      return givens.size > 1 && canon.size === 1;
    });
    expect(found.length).toBeGreaterThan(20);
  });

  it('one person: day and month swapped between sources, and a moved address', () => {
    let swapped = 0;
    let moved = 0;
    for (const rows of byEntity.values()) {
      const dates = new Set(rows.map((r) => text(r.traits.birthday)).filter((d): d is string => d !== undefined));
      for (const d of dates) if (d.slice(5, 7) !== d.slice(8, 10) && dates.has(`${d.slice(0, 4)}-${d.slice(8, 10)}-${d.slice(5, 7)}`)) swapped++;
      const cities = new Set(rows.map((r) => address(r.traits)?.city).filter((c): c is string => c !== undefined));
      if (cities.size > 1) moved++;
    }
    expect(swapped).toBeGreaterThan(5);
    expect(moved).toBeGreaterThan(20);
  });

  it('hard negatives: namesakes, also in the same city', () => {
    expect(people.stats.namesakes).toBeGreaterThan(50);
    expect(people.stats.namesakesSameCity).toBeGreaterThan(20);
    const byName = groupBy(cleaned, (c) => fullName(c.traits));
    // 王伟, 李娜… are shared by many people without any injection.
    const commonHan = [...byName.entries()].filter(([name, rows]) => /^\p{Script=Han}{2,3}$/u.test(name) && entitiesIn(rows).size >= 3);
    expect(commonHan.length).toBeGreaterThan(10);
    const byNameCity = groupBy(cleaned, (c) => {
      const name = fullName(c.traits);
      const city = address(c.traits)?.city ?? text(c.traits.city);
      return name !== undefined && city !== undefined ? `${name}|${city}` : undefined;
    });
    const sameCity = [...byNameCity.values()].filter((rows) => entitiesIn(rows).size >= 2);
    expect(sameCity.length).toBeGreaterThan(20);
  });

  it('hard negatives: households share an address and family name, sometimes a landline, not a person', () => {
    expect(people.stats.households).toBeGreaterThan(100);
    const byStreet = groupBy(cleaned, (c) => streetKey(c.traits));
    let shared = 0;
    for (const rows of byStreet.values()) {
      const families = groupBy(rows, (c) => familyName(c.traits));
      for (const same of families.values()) if (entitiesIn(same).size >= 2) shared++;
    }
    expect(shared).toBeGreaterThan(30);
    // The till calls it `mobile`.
    const byPhone = groupBy(cleaned, (c) => text(c.traits.phone) ?? text(c.traits.mobile));
    const landlines = [...byPhone.entries()].filter(([phone, rows]) => !/^\+861[3-9]/.test(phone) && entitiesIn(rows).size >= 2 && entitiesIn(rows).size <= 4);
    expect(landlines.length).toBeGreaterThan(3);
  });

  it('hard negatives: twins (one birthday, one address) and a Jr. named after his father', () => {
    const many = generatePeople({ entities: 40_000, seed: 7, householdRate: 0.3 });
    expect(many.stats.twins).toBeGreaterThan(10);
    expect(many.stats.juniors).toBeGreaterThan(10);
    const juniors = many.records.filter((r) => /\bJr\.?$/.test(String(r.traits.name ?? r.traits.lastName ?? '')));
    expect(juniors.length).toBeGreaterThan(3);
  });

  it('noise 0: no junk or slipped emails', () => {
    const clean = generatePeople({ entities: 2000, seed: 5, noise: 0 });
    const contexts = new Map(clean.sources.map((s) => [s.id, cleanContext({}, s, now)]));
    for (const record of clean.records) {
      const out = cleanTraits(record.traits, contexts.get(record.source)!);
      const email = out.observations.find((o) => o.field === 'email');
      if (email && record.traits.email !== '') expect(email.valid, JSON.stringify(record.traits)).toBe(true);
      expect(out.lineage.filter((l) => l.flag === 'email.domain_typo')).toEqual([]);
    }
  });
});
