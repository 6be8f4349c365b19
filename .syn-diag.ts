import { cleanContext } from './src/clean/settings.js';
import { cleanTraits } from './src/clean/traits.js';
import { clusterIds } from './src/identity/cluster.js';
import { pairwiseScores } from './src/identity/evaluate.js';
import { matchRecordOf } from './src/identity/match-record.js';
import { DEFAULT_THRESHOLDS, explainPair, findMatches, fitModel } from './src/identity/matcher.js';
import { generatePeople } from './src/identity/synthetic-people.js';
const N = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? 20261124);
const people = generatePeople({ entities: N, seed });
const now = new Date('2026-11-24T00:00:00Z');
const ctx = new Map(people.sources.map((s) => [s.id, cleanContext({}, s, now)]));
const recs = people.records.map((r, i) => { const o = cleanTraits(r.traits, ctx.get(r.source)!); return matchRecordOf(String(i), { ...o.derived, ...o.traits }); });
const truth = Int32Array.from(people.records, (r) => r.entity);
const model = fitModel(recs, { seed: 1 });
const { pairs, compared } = findMatches(model, recs, { threshold: DEFAULT_THRESHOLDS.auto });
const cl = clusterIds(recs.length, pairs);
const s = pairwiseScores(cl, truth);
console.log(`N=${N} records=${recs.length} compared=${compared} linked=${pairs.length} P=${s.precision.toFixed(4)} R=${s.recall.toFixed(4)} F1=${s.f1.toFixed(4)} prior=${model.prior.toFixed(3)}`);
console.log('model:', model.fields.map((f) => `${f.name}[${f.levels.map((l) => `${l.name}:${Math.log2(l.m / l.u).toFixed(1)}`).join(' ')}]`).join('\n  '));
const JUNK_E = new Set(['no@email.com', 'noemail@qq.com', 'test@test.com', 'na@na.com']);
const JUNK_P = new Set(['+8613800000000', '+8613888888888']);
const sizeOf = new Map<number, number>(); for (const c of cl) sizeOf.set(c, (sizeOf.get(c) ?? 0) + 1);
const wrongKinds = new Map<string, number>(); const ex = new Map<string, string[]>();
const add = (m: Map<string, number>, k: string, e: string) => { m.set(k, (m.get(k) ?? 0) + 1); const l = ex.get(k) ?? []; if (l.length < 3) l.push(e); ex.set(k, l); };
const show = (i: number) => `${people.records[i]!.source}#${people.records[i]!.entity} ${JSON.stringify(people.records[i]!.traits)}`;
for (const p of pairs) {
  const a = recs[p.a]!, b = recs[p.b]!;
  if (truth[p.a] === truth[p.b]) continue;
  const e = explainPair(model, a, b);
  const agree = e.fields.filter((f) => f.level !== 'different').map((f) => `${f.field}:${f.level}`);
  let kind: string;
  if ((a.email && a.email === b.email && JUNK_E.has(a.email)) || (a.phone && a.phone === b.phone && JUNK_P.has(a.phone))) kind = 'shared junk email/phone';
  else if (a.email && b.email && a.email !== b.email && a.email.split('@')[0] === b.email.split('@')[0]) kind = 'same email local part, other domain';
  else if (a.street && a.street === b.street && a.streetNumber === b.streetNumber && a.family === b.family) kind = 'household (same street+number, same family)';
  else if (a.street && a.street === b.street && a.streetNumber === b.streetNumber) kind = 'same street+number (household/compound)';
  else if (a.phone && a.phone === b.phone) kind = 'same phone (household landline)';
  else if (a.given && a.given === b.given && a.family === b.family) kind = 'namesake (same given+family)';
  else if (!agree.some((x) => /^(given|family|fullName|birth|email|phone|nationalId|street|streetNumber)/.test(x))) kind = 'only location/gender/country agree';
  else kind = 'other';
  add(wrongKinds, kind, `p=${p.probability.toFixed(4)} [${agree.join(' ')}]\n      ${show(p.a)}\n      ${show(p.b)}`);
}
// wrong-merged pairs in clusters (transitive), not only direct
let wrongDirect = 0; for (const p of pairs) if (truth[p.a] !== truth[p.b]) wrongDirect++;
console.log(`\nwrong direct links ${wrongDirect}; biggest clusters:`, [...sizeOf.values()].sort((x, y) => y - x).slice(0, 8).join(','));
for (const [k, v] of [...wrongKinds].sort((x, y) => y[1] - x[1])) { console.log(`  ${v}  ${k}`); for (const e of ex.get(k)!.slice(0, 2)) console.log('    ' + e); }
// misses
const byE = new Map<number, number[]>(); people.records.forEach((r, i) => byE.set(r.entity, [...(byE.get(r.entity) ?? []), i]));
const direct = new Set(pairs.map((p) => `${p.a},${p.b}`));
const missKinds = new Map<string, number>(); ex.clear();
let missed = 0;
for (const m of byE.values()) for (let x = 0; x < m.length; x++) for (let y = x + 1; y < m.length; y++) {
  const i = Math.min(m[x]!, m[y]!), j = Math.max(m[x]!, m[y]!);
  if (cl[i] === cl[j]) continue;
  missed++;
  const e = explainPair(model, recs[i]!, recs[j]!);
  const agree = e.fields.filter((f) => f.level !== 'different').map((f) => `${f.field}:${f.level}`);
  const kind = e.probability >= DEFAULT_THRESHOLDS.auto ? 'scores ≥ auto but never compared (blocking)' : agree.length <= 1 ? 'below: almost nothing in common' : agree.some((a) => /^(given|family|fullName)/.test(a)) ? 'below: name agrees in some form' : 'below: no name agreement';
  add(missKinds, kind, `p=${e.probability.toFixed(4)} [${agree.join(' ')}]\n      ${show(i)}\n      ${show(j)}`);
}
console.log(`\nmissed true pairs (different clusters): ${missed}`);
for (const [k, v] of [...missKinds].sort((x, y) => y[1] - x[1])) { console.log(`  ${v}  ${k}`); for (const e of ex.get(k)!.slice(0, 3)) console.log('    ' + e); }
