/**
 * bench/identity: probabilistic identity resolution end to end on synthetic
 * bilingual customers with ground truth (src/identity/synthetic-people.ts):
 * raw source records → cleanTraits (each record with its source's settings)
 * → matchRecordOf → fitModel → findMatches at the automatic-merge threshold
 * → clusterIds → pairwiseScores against the truth. Reports each stage's time,
 * pairs compared, the process's peak RSS (VmHWM) and precision / recall / F1.
 *
 * Goal: 1,000,000 records resolved end to end (cleaning to clusters) in
 * ≤ 120 s on the 2-core bench machine, with precision ≥ 0.99. Generating the
 * records is timed but not part of the goal.
 *
 * Cleaning is per record and independent, so with `--threads` > 1 it runs
 * (with matchRecordOf) on the main thread and worker threads at once, as one
 * stage; `--threads 1` times the two stages apart. The matcher's stages are
 * single-threaded either way.
 *
 *   npx tsx bench/identity.ts [--records 1000000] [--seed 1] [--threads 2]
 */
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { cleanContext, type CleanContext } from '../src/clean/settings.js';
import { cleanTraits } from '../src/clean/traits.js';
import { clusterIds } from '../src/identity/cluster.js';
import { pairwiseScores } from '../src/identity/evaluate.js';
import { DEFAULT_THRESHOLDS } from '../src/identity/settings.js';
import { matchRecordOf, type MatchRecord } from '../src/identity/match-record.js';
import { findMatches, fitModel } from '../src/identity/matcher.js';
import { entitiesForRecords, generatePeople, type SyntheticRecord, type SyntheticSource } from '../src/identity/synthetic-people.js';

const now = new Date('2026-11-24T00:00:00Z');
const GOAL_SECONDS = 120;
const GOAL_PRECISION = 0.99;
/** Records per message to a worker: big enough that messaging is cheap, small enough to start at once. */
const CHUNK = 20_000;

const log = (line: string) => process.stdout.write(line + '\n');
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

function statusKb(field: 'VmHWM' | 'VmRSS'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

interface Stage {
  stage: string;
  seconds: number;
  /** resident set size when the stage ended */
  rssBytes: number;
}
const stages: Stage[] = [];

function timed<T>(stage: string, run: () => T): T {
  const start = process.hrtime.bigint();
  const out = run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  stages.push({ stage, seconds, rssBytes: statusKb('VmRSS') });
  log(`  ${stage.padEnd(16)} ${seconds.toFixed(2).padStart(8)} s   RSS ${mb(statusKb('VmRSS'))} MB`);
  return out;
}

/** Progress of the long stages on stderr, at most every few seconds, so a slow run shows where it is. */
function progress(): (p: { stage: string; done: number; total: number }) => void {
  let last = 0;
  return (p) => {
    const t = Date.now();
    if (t - last < 5000) return;
    last = t;
    process.stderr.write(`    … ${p.stage} ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')}\n`);
  };
}

/** A profile's traits: the cleaned ones, with derived values filling the gaps, as the profile store keeps them. */
function profileTraits(record: Pick<SyntheticRecord, 'source' | 'traits'>, contexts: ReadonlyMap<string, CleanContext>): Record<string, unknown> {
  const out = cleanTraits(record.traits, contexts.get(record.source)!);
  return { ...out.derived, ...out.traits };
}

function contextsOf(sources: readonly SyntheticSource[]): Map<string, CleanContext> {
  return new Map(sources.map((s) => [s.id, cleanContext({}, s, now)]));
}

interface ChunkMessage {
  start: number;
  records: Array<Pick<SyntheticRecord, 'source' | 'traits'>>;
}

/** Worker side: clean and flatten each chunk it is sent, send the match records back. */
function serveChunks(): void {
  const contexts = contextsOf(workerData as SyntheticSource[]);
  parentPort!.on('message', (chunk: ChunkMessage | null) => {
    if (chunk === null) {
      parentPort!.close();
      return;
    }
    const out = chunk.records.map((r, k) => matchRecordOf(String(chunk.start + k), profileTraits(r, contexts)));
    parentPort!.postMessage({ start: chunk.start, records: out });
  });
}

/**
 * tsx's loader does not reach worker threads on Node 20 (privatenumber/tsx#354),
 * so a worker starts from a line of plain JavaScript that registers it first.
 */
function startWorker(sources: readonly SyntheticSource[]): Worker {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(boot, { eval: true, workerData: sources });
}

/**
 * Clean + matchRecordOf over `threads` threads: chunks go round-robin to the
 * workers and the main thread, which works on its own share meanwhile.
 */
async function cleanInParallel(raw: readonly SyntheticRecord[], sources: readonly SyntheticSource[], threads: number): Promise<MatchRecord[]> {
  const contexts = contextsOf(sources);
  const out: MatchRecord[] = new Array<MatchRecord>(raw.length);
  const workers = Array.from({ length: threads - 1 }, () => startWorker(sources));
  let pending = 0;
  const finished = workers.map((w) => {
    w.on('message', (m: { start: number; records: MatchRecord[] }) => {
      for (let k = 0; k < m.records.length; k++) out[m.start + k] = m.records[k]!;
      pending--;
    });
    return once(w, 'exit');
  });
  const mine: number[] = [];
  for (let start = 0, k = 0; start < raw.length; start += CHUNK, k++) {
    const owner = k % threads;
    if (owner === threads - 1) mine.push(start);
    else {
      pending++;
      workers[owner]!.postMessage({ start, records: raw.slice(start, start + CHUNK).map((r) => ({ source: r.source, traits: r.traits })) } satisfies ChunkMessage);
    }
  }
  for (const w of workers) w.postMessage(null);
  for (const start of mine) {
    const end = Math.min(raw.length, start + CHUNK);
    for (let i = start; i < end; i++) out[i] = matchRecordOf(String(i), profileTraits(raw[i]!, contexts));
  }
  await Promise.all(finished);
  if (pending !== 0) throw new Error(`identity bench: ${pending} chunks never came back from the workers`);
  return out;
}

async function timedAsync<T>(stage: string, run: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const out = await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  stages.push({ stage, seconds, rssBytes: statusKb('VmRSS') });
  log(`  ${stage.padEnd(16)} ${seconds.toFixed(2).padStart(8)} s   RSS ${mb(statusKb('VmRSS'))} MB`);
  return out;
}

if (isMainThread) await main();
else serveChunks();

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { records: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' } } });
  const RECORDS = Number(args.records ?? 1_000_000);
  const SEED = Number(args.seed ?? 1);
  const THREADS = Math.max(1, Number(args.threads ?? Math.min(2, cpus().length)));

  log(`identity bench: about ${RECORDS.toLocaleString('en')} records, seed ${SEED}, ${THREADS} thread${THREADS === 1 ? '' : 's'} for cleaning, ${cpus().length} cores, node ${process.version}`);

  const people = timed('generate', () => generatePeople({ entities: entitiesForRecords(RECORDS), seed: SEED }));
  const raw = people.records;
  const n = raw.length;
  const truth = Int32Array.from(raw, (r) => r.entity);

  let records: MatchRecord[];
  if (THREADS === 1) {
    const contexts = contextsOf(people.sources);
    let profiles: Array<Record<string, unknown>> = timed('clean', () => raw.map((r) => profileTraits(r, contexts)));
    raw.length = 0;
    records = timed('matchRecordOf', () => profiles.map((traits, i) => matchRecordOf(String(i), traits)));
    profiles = [];
  } else {
    records = await timedAsync(`clean+matchRec×${THREADS}`, () => cleanInParallel(raw, people.sources, THREADS));
  }
  // The raw traits are not needed any more; let them go before the matcher's stages.
  raw.length = 0;

  const model = timed('fitModel', () => fitModel(records, { seed: 1, onProgress: progress() }));
  const found = timed('findMatches', () => findMatches(model, records, { threshold: DEFAULT_THRESHOLDS.auto, onProgress: progress() }));
  const clusters = timed('clusterIds', () => clusterIds(n, found.pairs));
  const scores = timed('pairwiseScores', () => pairwiseScores(clusters, truth));

  const resolveSeconds = stages.filter((s) => s.stage !== 'generate').reduce((sum, s) => sum + s.seconds, 0);
  const peakRssBytes = statusKb('VmHWM');
  const sizes = new Map<number, number>();
  for (const c of clusters) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  // A loop, not Math.max(...): there are as many clusters as people.
  let largestCluster = 0;
  for (const size of sizes.values()) if (size > largestCluster) largestCluster = size;

  const row = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(10))).join('  ');
  log('');
  log(row(['stage', 'seconds', 'share', 'RSS MB']));
  for (const s of stages) log(row([s.stage, s.seconds.toFixed(2), s.stage === 'generate' ? '' : `${((100 * s.seconds) / resolveSeconds).toFixed(1)}%`, String(mb(s.rssBytes))]));
  log(row(['resolve total', resolveSeconds.toFixed(2), '100%', '']));
  log('');
  log(`records ${n.toLocaleString('en')} of ${entitiesForRecords(RECORDS).toLocaleString('en')} people; pairs compared ${found.compared.toLocaleString('en')}; linked ${found.pairs.length.toLocaleString('en')}; clusters ${sizes.size.toLocaleString('en')} (largest ${largestCluster.toLocaleString('en')})`);
  // The model's counts are the matcher's own business and change with it: shown as they come.
  log(`model: λ ${model.prior.toPrecision(4)}, counts ${JSON.stringify(model.counts)}`);
  log(`precision ${scores.precision.toFixed(4)}  recall ${scores.recall.toFixed(4)}  F1 ${scores.f1.toFixed(4)}  (true pairs ${scores.truePairs.toLocaleString('en')}, predicted ${scores.predictedPairs.toLocaleString('en')}, correct ${scores.truePositives.toLocaleString('en')})`);
  log(`peak RSS ${mb(peakRssBytes)} MB`);

  const passTime = resolveSeconds <= GOAL_SECONDS;
  const passPrecision = scores.precision >= GOAL_PRECISION;
  log(`${passTime ? 'PASS' : 'FAIL'}  resolve ${n.toLocaleString('en')} records in ≤ ${GOAL_SECONDS} s: ${resolveSeconds.toFixed(1)} s`);
  log(`${passPrecision ? 'PASS' : 'FAIL'}  precision ≥ ${GOAL_PRECISION}: ${scores.precision.toFixed(4)}`);

  const report = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version },
    settings: { records: RECORDS, seed: SEED, threshold: DEFAULT_THRESHOLDS.auto, cleaningThreads: THREADS },
    notes: [
      'one process; cleaning + matchRecordOf on `cleaningThreads` threads (main + workers), every matcher stage single-threaded; each stage timed once (hrtime), RSS read from /proc/self/status after each stage',
      'records: src/identity/synthetic-people.ts, CN and US people in 1–4 of four sources with realistic noise and hard negatives (households, namesakes)',
      'resolve total = clean + matchRecordOf + fitModel + findMatches + clusterIds + pairwiseScores; generation is not counted',
      'precision / recall / F1 are pairwise over records, clusters against the generator’s entities',
    ],
    records: n,
    entities: entitiesForRecords(RECORDS),
    stats: people.stats,
    stages: Object.fromEntries(stages.map((s) => [s.stage, { seconds: s.seconds, rssBytes: s.rssBytes }])),
    resolveSeconds,
    compared: found.compared,
    linkedPairs: found.pairs.length,
    clusters: sizes.size,
    largestCluster,
    model: { prior: model.prior, counts: model.counts },
    scores,
    peakRssBytes,
    goals: {
      time: { goal: `≤ ${GOAL_SECONDS} s for clean → clusters`, seconds: resolveSeconds, pass: passTime },
      precision: { goal: `≥ ${GOAL_PRECISION}`, precision: scores.precision, pass: passPrecision },
    },
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}identity-${report.at.slice(0, 10)}.json`;
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  log(`\nresults written to ${file}`);
}
