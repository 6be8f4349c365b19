import { once } from 'node:events';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { cleanContext } from './src/clean/settings.js';
import { cleanTraits } from './src/clean/traits.js';
import { matchRecordOf, type MatchRecord } from './src/identity/match-record.js';
import { entitiesForRecords, generatePeople, type SyntheticSource } from './src/identity/synthetic-people.js';
const now = new Date('2026-11-24T00:00:00Z');
const ctxOf = (s: readonly SyntheticSource[]) => new Map(s.map((x) => [x.id, cleanContext({}, x, now)]));
if (!isMainThread) {
  const ctx = ctxOf(workerData);
  let busy = 0;
  parentPort!.on('message', (c: any) => {
    if (c === null) { console.log('worker busy', busy.toFixed(0), 'ms'); parentPort!.close(); return; }
    const t = performance.now();
    const out = c.records.map((r: any, k: number) => { const o = cleanTraits(r.traits, ctx.get(r.source)!); return matchRecordOf(String(c.start + k), { ...o.derived, ...o.traits }); });
    busy += performance.now() - t;
    parentPort!.postMessage({ start: c.start, records: out });
  });
} else {
  const N = Number(process.argv[2] ?? 100000); const CH = Number(process.argv[3] ?? 20000);
  const people = generatePeople({ entities: entitiesForRecords(N), seed: 1 });
  const raw = people.records; const ctx = ctxOf(people.sources);
  const T = () => performance.now(); const t0 = T();
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const w = new Worker(boot, { eval: true, workerData: people.sources });
  const out: MatchRecord[] = new Array(raw.length); let recv = 0;
  w.on('message', (m: any) => { const t = T(); for (let k = 0; k < m.records.length; k++) out[m.start + k] = m.records[k]; recv += T() - t; });
  const fin = once(w, 'exit');
  const mine: number[] = []; let post = 0;
  for (let s = 0, k = 0; s < raw.length; s += CH, k++) { if (k % 2 === 1) mine.push(s); else { const t = T(); w.postMessage({ start: s, records: raw.slice(s, s + CH).map((r) => ({ source: r.source, traits: r.traits })) }); post += T() - t; } }
  w.postMessage(null);
  const t1 = T();
  for (const s of mine) for (let i = s; i < Math.min(raw.length, s + CH); i++) { const o = cleanTraits(raw[i]!.traits, ctx.get(raw[i]!.source)!); out[i] = matchRecordOf(String(i), { ...o.derived, ...o.traits }); }
  const t2 = T();
  await fin;
  console.log(`post ${post.toFixed(0)} ms, main share ${(t2 - t1).toFixed(0)} ms, waited ${(T() - t2).toFixed(0)} ms (recv handlers ${recv.toFixed(0)} ms), total ${(T() - t0).toFixed(0)} ms`);
  const t3 = T();
  for (let i = 0; i < raw.length; i++) { const o = cleanTraits(raw[i]!.traits, ctx.get(raw[i]!.source)!); out[i] = matchRecordOf(String(i), { ...o.derived, ...o.traits }); }
  console.log(`single-thread warm pass ${(T() - t3).toFixed(0)} ms`);
}
