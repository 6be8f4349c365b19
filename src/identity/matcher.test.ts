import { DEFAULT_THRESHOLDS } from './settings.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanContext } from '../clean/settings.js';
import { cleanTraits } from '../clean/traits.js';
import { matchRecordOf, type MatchRecord } from './match-record.js';
import { explainPair, findMatches, fitModel, type MatchModel, type PairExplanation } from './matcher.js';
import { generatePeople } from './synthetic-people.js';

/**
 * The matcher's behaviour on cases a person would judge at a glance, with a
 * model fitted (unsupervised) on synthetic bilingual customers: what a
 * workspace's own data would teach it.
 */

const now = new Date('2026-11-24T00:00:00Z');
const context = cleanContext({}, {}, now);

/** A match record from raw traits, cleaned as the pipeline cleans them. */
function record(id: string, traits: Record<string, unknown>): MatchRecord {
  const out = cleanTraits(traits, context);
  return matchRecordOf(id, { ...out.derived, ...out.traits });
}

function level(explanation: PairExplanation, field: string): string | undefined {
  return explanation.fields.find((f) => f.field === field)?.level;
}

function weight(explanation: PairExplanation, field: string): number {
  return explanation.fields.find((f) => f.field === field)?.weight ?? 0;
}

let records: MatchRecord[];
let truth: number[];
let model: MatchModel;

beforeAll(() => {
  const people = generatePeople({ entities: 1200, seed: 11 });
  const contexts = new Map(people.sources.map((s) => [s.id, cleanContext({}, s, now)]));
  records = people.records.map((r, i) => {
    const out = cleanTraits(r.traits, contexts.get(r.source)!);
    return matchRecordOf(String(i), { ...out.derived, ...out.traits });
  });
  truth = people.records.map((r) => r.entity);
  model = fitModel(records, { seed: 1, maxRandomPairs: 300_000 });
});

describe('explainPair on cases a person would judge at a glance', () => {
  it('agrees 张伟 with Wei Zhang (pinyin) and with Zhang Wei written family-first (swapped)', () => {
    const han = record('a', { name: '张伟', birthday: '1990-05-03' });
    const western = explainPair(model, han, record('b', { firstName: 'Wei', lastName: 'Zhang', birthday: '1990-05-03' }));
    expect(level(western, 'given')).toBe('pinyin');
    expect(level(western, 'family')).toBe('pinyin');
    expect(weight(western, 'given')).toBeGreaterThan(0);
    expect(western.probability).toBeGreaterThan(DEFAULT_THRESHOLDS.review);
    const familyFirst = explainPair(model, han, record('c', { name: 'Zhang Wei', birthday: '1990-05-03' }));
    expect(level(familyFirst, 'given')).toBe('swapped');
    expect(weight(familyFirst, 'family')).toBeGreaterThan(0);
  });

  it('agrees Bob with Robert as a nickname', () => {
    const e = explainPair(model, record('a', { name: 'Bob Harlow', email: 'bob@example.com' }), record('b', { name: 'Robert Harlow', email: 'bob@example.com' }));
    expect(level(e, 'given')).toBe('nickname');
    expect(weight(e, 'given')).toBeGreaterThan(0);
    expect(e.probability).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.auto);
  });

  it('weighs agreeing on a common family name (王) less than on a rare one', () => {
    const common = explainPair(model, record('a', { name: '王芳' }), record('b', { name: '王芳' }));
    const rare = explainPair(model, record('a', { name: '禤芳' }), record('b', { name: '禤芳' }));
    expect(weight(common, 'family')).toBeLessThan(weight(rare, 'family'));
    expect(common.fields.find((f) => f.field === 'family')!.tfAdjustment).toBeLessThan(0);
  });

  it('keeps namesakes apart when their birth dates and phones differ', () => {
    // Same name in the same city: different birth dates and phones keep them from an automatic merge; a person may look.
    const a = record('a', { name: '王伟', birthday: '1980-01-12', phone: '13800138001', city: '北京' });
    const b = record('b', { name: '王伟', birthday: '1992-07-15', phone: '13912345678', city: '北京' });
    const e = explainPair(model, a, b);
    expect(e.probability).toBeLessThan(DEFAULT_THRESHOLDS.auto);
    expect(weight(e, 'birth')).toBeLessThan(0);
    expect(weight(e, 'phone')).toBeLessThan(0);
    const us = explainPair(model, record('c', { name: 'James Smith', dob: '1975-03-02', email: 'jsmith@example.com' }), record('d', { name: 'James Smith', dob: '1988-11-30', email: 'james.smith88@example.org' }));
    expect(us.probability).toBeLessThan(DEFAULT_THRESHOLDS.review);
  });

  it('keeps family members apart: one address and family name, different given names and birth dates', () => {
    const home = '123 N Main St Apt 4, Springfield, IL 62701';
    const father = record('a', { name: 'Michael Osterman', birthday: '1961-04-09', address: home, gender: 'M' });
    const daughter = record('b', { name: 'Emily Osterman', birthday: '1994-10-21', address: home, gender: 'F' });
    const e = explainPair(model, father, daughter);
    expect(e.probability).toBeLessThan(0.01);
    // A shared home may take a pair to even odds, no further: the cap shows as its own line.
    expect(e.fields.some((f) => f.field === 'household' && f.weight < 0)).toBe(true);
    // A shared landline is not enough to merge them automatically either.
    const landline = '(217) 555-0148';
    const withPhone = explainPair(model, { ...father, phone: '+12175550148' }, { ...daughter, phone: '+12175550148' });
    expect(record('x', { phone: landline }).phone).toBe('+12175550148');
    expect(withPhone.probability).toBeLessThan(DEFAULT_THRESHOLDS.auto);
  });

  it('puts the prior and every compared field in the explanation, and nothing else', () => {
    const e = explainPair(model, record('a', { name: 'Ann Lee', email: 'ann@example.com' }), record('b', { name: 'Ann Lee', birthday: '1990-01-01' }));
    expect(e.fields.map((f) => f.field).sort()).toEqual(['family', 'given']);
    expect(e.priorWeight).toBeCloseTo(Math.log2(model.prior / (1 - model.prior)), 10);
    expect(e.weight).toBeCloseTo(e.priorWeight + e.fields.reduce((s, f) => s + f.weight, 0), 10);
    expect(e.probability).toBeCloseTo(1 / (1 + 2 ** -e.weight), 12);
  });
});

describe('fitModel and findMatches', () => {
  it('fits the same model from the same records and seed, and the model survives JSON', () => {
    const again = fitModel(records, { seed: 1, maxRandomPairs: 300_000 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(model));
    const stored = JSON.parse(JSON.stringify(model)) as MatchModel;
    const direct = findMatches(model, records, { threshold: 0.5 });
    const restored = findMatches(stored, records, { threshold: 0.5 });
    expect(restored).toEqual(direct);
  });

  it('estimates the prior near the true share of matching pairs', () => {
    const n = records.length;
    const counts = new Map<number, number>();
    for (const e of truth) counts.set(e, (counts.get(e) ?? 0) + 1);
    let matches = 0;
    for (const c of counts.values()) matches += (c * (c - 1)) / 2;
    const share = matches / ((n * (n - 1)) / 2);
    expect(model.prior).toBeGreaterThan(share * 0.7);
    expect(model.prior).toBeLessThan(share * 1.3);
  });

  it('reports pairs once, a < b, at or above the threshold, most of them right', () => {
    const { pairs, compared } = findMatches(model, records, { threshold: DEFAULT_THRESHOLDS.auto });
    expect(compared).toBeGreaterThan(pairs.length);
    const seen = new Set<string>();
    let right = 0;
    for (const p of pairs) {
      expect(p.a).toBeLessThan(p.b);
      expect(p.probability).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.auto);
      expect(seen.has(`${p.a},${p.b}`)).toBe(false);
      seen.add(`${p.a},${p.b}`);
      if (truth[p.a] === truth[p.b]) right++;
    }
    expect(right / pairs.length).toBeGreaterThan(0.99);
  });

  it('compares, when told which records are new, only pairs with a new one', () => {
    const isNew = (i: number) => i % 10 === 0;
    const all = findMatches(model, records, { threshold: 0.5 });
    const some = findMatches(model, records, { threshold: 0.5, isNew });
    expect(some.compared).toBeLessThan(all.compared);
    const expected = all.pairs.filter((p) => isNew(p.a) || isNew(p.b));
    expect(some.pairs).toEqual(expected);
  });

  it('reports progress through every stage', () => {
    const stages = new Set<string>();
    const small = records.slice(0, 300);
    const m = fitModel(small, { maxRandomPairs: 10_000, onProgress: (p) => stages.add(p.stage) });
    findMatches(m, small, { threshold: 0.5, onProgress: (p) => stages.add(p.stage) });
    expect([...stages].sort()).toEqual(['compare', 'em', 'prepare', 'u']);
  });

  it('copes with nothing to match, and with a model from another version', () => {
    const empty = fitModel([]);
    expect(findMatches(empty, [], { threshold: 0.5 })).toEqual({ pairs: [], compared: 0 });
    const one = fitModel([{ id: 'a', given: 'Ann' }]);
    expect(Number.isFinite(one.prior)).toBe(true);
    expect(findMatches(one, [{ id: 'a', given: 'Ann' }], { threshold: 0.5 }).pairs).toEqual([]);
    const older = { ...model, fields: model.fields.filter((f) => f.name !== 'email').map((f) => (f.name === 'given' ? { ...f, levels: f.levels.slice(1) } : f)) };
    const e = explainPair(older, { id: 'a', given: 'Ann', family: 'Lee', email: 'a@b.c' }, { id: 'b', given: 'Ann', family: 'Lee', email: 'a@b.c' });
    expect(e.fields.map((f) => f.field)).toEqual(['family']);
  });
});
