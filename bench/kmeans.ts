/**
 * bench/kmeans: our k-means (src/analytics/kmeans.ts, and kmeans-parallel.ts
 * on worker threads) against scikit-learn's KMeans on the same data, k,
 * number of k-means++ starts, max_iter and tol. It measures the fit alone
 * (not making or loading the data) and the inertia each finds. Each side runs
 * --runs times (seeds seed, seed+1, …), the sides taking turns round by round,
 * and the medians are compared. The load average is printed beside each fit:
 * on a machine shared with other work the times mean little.
 *
 * The data: Gaussian blobs with uneven sizes and a different spread on each
 * feature of each blob, plus a share of uniform noise points, as customer
 * features look once standardized. It is written as raw little-endian
 * float64 to a temporary file that bench/kmeans-sklearn.py reads with numpy.
 *
 * Goal, on 1,000,000 × 8 with k = 8: inertia ≤ 1.01 × scikit-learn's and
 * wall time ≤ 1.0 × scikit-learn's (its faster algorithm, on both cores).
 *
 *   npx tsx bench/kmeans.ts [--n 1000000] [--d 8] [--k 8] [--restarts 4]
 *     [--seed 1] [--runs 3] [--threads 2] [--noise 0.02] [--box 10]
 *
 * A smaller --box brings the blobs closer together: they overlap more and the
 * fits take more iterations.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kmeansParallel } from '../src/analytics/kmeans-parallel.js';
import { kmeans, type KMeansResult, type Matrix } from '../src/analytics/kmeans.js';
import { seededRandom } from '../src/analytics/random.js';

const INERTIA_BAR = 1.01;
const TIME_BAR = 1.0;
const MAX_ITER = 300;
const TOL = 1e-4;
const PYTHON = '/usr/bin/python3';

const log = (line: string) => process.stdout.write(line + '\n');

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '8' },
    k: { type: 'string', default: '8' },
    restarts: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    noise: { type: 'string', default: '0.02' },
    box: { type: 'string', default: '10' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const k = Number(values.k);
const restarts = Number(values.restarts);
const seed = Number(values.seed);
const runs = Number(values.runs);
const threads = Number(values.threads);
const noise = Number(values.noise);
const box = Number(values.box);

/** Blobs as described at the top; the true centres are k points in [-box, box]^d (make_blobs draws them in [-10, 10]^d). */
function blobs(): Matrix {
  const random = seededRandom(seed * 7919 + 17);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Float64Array.from({ length: k * d }, () => -box + 2 * box * random());
  const spreads = Float64Array.from({ length: k * d }, () => 0.5 + 2 * random());
  const weights = Array.from({ length: k }, () => 0.3 + random());
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  weights.reduce((sum, w) => (cumulative.push((sum + w) / total), sum + w), 0);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    if (random() < noise) {
      for (let f = 0; f < d; f++) data[row + f] = (-1.5 + 3 * random()) * box;
      continue;
    }
    const u = random();
    let c = cumulative.findIndex((edge) => u < edge);
    if (c < 0) c = k - 1;
    for (let f = 0; f < d; f++) data[row + f] = centres[c * d + f]! + spreads[c * d + f]! * normal();
  }
  return { data, n, d };
}

interface Run {
  inertia: number;
  seconds: number;
  iterations: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/** The run with the median time, and the median inertia over the runs. */
function summary(all: readonly Run[]): Run {
  return { inertia: median(all.map((r) => r.inertia)), seconds: median(all.map((r) => r.seconds)), iterations: median(all.map((r) => r.iterations)) };
}

async function ours(x: Matrix, useThreads: number, run: number): Promise<Run> {
  const options = { k, restarts, maxIterations: MAX_ITER, tolerance: TOL, seed: seed + run };
  const start = process.hrtime.bigint();
  const result: KMeansResult = useThreads > 1 ? await kmeansParallel(x, { ...options, threads: useThreads }) : kmeans(x, options);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  log(`  ours, ${useThreads} thread${useThreads === 1 ? ', ' : 's,'} seed ${seed + run}: ${seconds.toFixed(3)} s, inertia ${result.inertia.toFixed(1)}, ${result.iterations} iterations  (load ${loadavg()[0]!.toFixed(2)})`);
  return { inertia: result.inertia, seconds, iterations: result.iterations };
}

function sklearnAvailable(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/** One fit per process, so runs of both sides can alternate; the script times the fit alone. */
function sklearn(file: string, algorithm: 'lloyd' | 'elkan', run: number): Run {
  const script = fileURLToPath(new URL('./kmeans-sklearn.py', import.meta.url));
  const args = [script, file, '--n', String(n), '--d', String(d), '--k', String(k), '--n-init', String(restarts), '--max-iter', String(MAX_ITER), '--tol', String(TOL), '--seed', String(seed + run), '--algorithm', algorithm, '--repeat', '1'];
  const child = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`kmeans-sklearn.py failed (${child.status}): ${child.stdout}${child.stderr}`);
  const r = JSON.parse(child.stdout.trim()) as { inertia: number; seconds: number; n_iter: number };
  log(`  sklearn ${algorithm}, seed ${seed + run}: ${r.seconds.toFixed(3)} s, inertia ${r.inertia.toFixed(1)}, ${r.n_iter} iterations  (load ${loadavg()[0]!.toFixed(2)})`);
  return { inertia: r.inertia, seconds: r.seconds, iterations: r.n_iter };
}

async function main(): Promise<void> {
  log(`k-means bench: n = ${n.toLocaleString('en')}, d = ${d}, k = ${k}, box ±${box}, noise ${noise}, restarts (n_init) = ${restarts}, max_iter = ${MAX_ITER}, tol = ${TOL}, ${runs} runs each, ${availableParallelism()} cores`);
  const x = blobs();
  const file = join(tmpdir(), `custodian-kmeans-${process.pid}.f64`);
  writeFileSync(file, new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
  try {
    const version = sklearnAvailable();
    const fits: Array<{ name: string; ours: boolean; fit: (run: number) => Promise<Run> | Run; runs: Run[] }> = [];
    if (threads > 1) fits.push({ name: `ours, ${threads} threads`, ours: true, fit: (run) => ours(x, threads, run), runs: [] });
    fits.push({ name: 'ours, 1 thread', ours: true, fit: (run) => ours(x, 1, run), runs: [] });
    if (version) {
      fits.push({ name: `sklearn ${version} lloyd`, ours: false, fit: (run) => sklearn(file, 'lloyd', run), runs: [] });
      fits.push({ name: `sklearn ${version} elkan`, ours: false, fit: (run) => sklearn(file, 'elkan', run), runs: [] });
    }
    // Round by round, so a machine that is busier at one moment slows every side alike.
    for (let run = 0; run < runs; run++) for (const f of fits) f.runs.push(await f.fit(run));
    const rows: Array<[string, Run]> = fits.filter((f) => f.ours).map((f) => [f.name, summary(f.runs)]);
    const sk: Array<[string, Run]> = fits.filter((f) => !f.ours).map((f) => [f.name, summary(f.runs)]);
    log('');
    log(`${'fit'.padEnd(24)} ${'inertia'.padStart(16)} ${'seconds'.padStart(9)} ${'iter'.padStart(5)}`);
    for (const [name, r] of [...rows, ...sk]) log(`${name.padEnd(24)} ${r.inertia.toFixed(1).padStart(16)} ${r.seconds.toFixed(3).padStart(9)} ${String(r.iterations).padStart(5)}`);
    if (!version) {
      log('');
      log(`scikit-learn is not importable by ${PYTHON}, so there is nothing to compare with. Install it with`);
      log('  apt-get install -y python3-sklearn');
      log('and run the bench again.');
      return;
    }
    const bestTime = Math.min(...sk.map(([, r]) => r.seconds));
    const bestInertia = Math.min(...sk.map(([, r]) => r.inertia));
    log('');
    log(`against scikit-learn's best: ${bestTime.toFixed(3)} s, inertia ${bestInertia.toFixed(1)}`);
    for (const [name, r] of rows) {
      const inertiaRatio = r.inertia / bestInertia;
      const timeRatio = r.seconds / bestTime;
      log(
        `${name.padEnd(24)} inertia × ${inertiaRatio.toFixed(4)} (bar ≤ ${INERTIA_BAR}: ${inertiaRatio <= INERTIA_BAR ? 'met' : 'NOT met'})   ` +
          `time × ${timeRatio.toFixed(3)} (bar ≤ ${TIME_BAR}: ${timeRatio <= TIME_BAR ? 'met' : 'NOT met'})`,
      );
    }
  } finally {
    rmSync(file, { force: true });
  }
}

await main();
