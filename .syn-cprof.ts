import { cleanContext } from './src/clean/settings.js';
import { cleanTraits } from './src/clean/traits.js';
import { generatePeople } from './src/identity/synthetic-people.js';
const people = generatePeople({ entities: 46000, seed: 1 });
const now = new Date('2026-11-24T00:00:00Z');
const ctx = new Map(people.sources.map((s) => [s.id, cleanContext({}, s, now)]));
for (const pass of [0, 1]) {
  const by = new Map<string, number>();
  const t0 = performance.now();
  for (const r of people.records) { const t = performance.now(); cleanTraits(r.traits, ctx.get(r.source)!); by.set(r.source, (by.get(r.source) ?? 0) + performance.now() - t); }
  console.log(`pass ${pass}: ${(performance.now() - t0).toFixed(0)} ms for ${people.records.length}`, [...by].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' '));
}
// per field
const fields = ['name', 'firstName', 'email', 'phone', 'mobile', 'birthday', 'dob', 'gender', 'address', 'city', 'nationalId'];
for (const f of fields) {
  const rs = people.records.filter((r) => f in r.traits);
  const t = performance.now();
  for (const r of rs) cleanTraits({ [f]: r.traits[f], ...(f === 'firstName' ? { lastName: r.traits.lastName } : {}) }, ctx.get(r.source)!);
  const ms = performance.now() - t;
  console.log(f.padEnd(12), String(rs.length).padStart(7), `${ms.toFixed(0)} ms`, `${(rs.length / ms * 1000).toFixed(0)}/s`);
}
