/**
 * bench/churn: hold-out AUC and fit time of our churn / propensity models
 * (src/analytics/logistic.ts, gbdt.ts) against scikit-learn's
 * LogisticRegression (standardized, C=1) and HistGradientBoostingClassifier
 * (lr 0.1, 100 iterations, 31 leaves, early stopping off), on the same rows.
 *
 * Data sets:
 * - IBM Telco churn, built as SOURCES.md says (customerID dropped,
 *   categoricals one-hot, blank TotalCharges 0), split 80/20 by our
 *   stratifiedSplit with seed 42 — which the Python side checks is the very
 *   split sklearn's train_test_split(stratify=y, random_state=42) makes.
 *   Ours runs GBDT twice: with sklearn's settings and with GBDT_DEFAULTS.
 * - a scale run: --scale training rows (default 1,000,000) × 20 synthetic
 *   features (a logistic signal with an interaction), 25 % more rows as the
 *   hold-out.
 *
 * Ours runs on one thread. sklearn is timed twice: with its default thread
 * count and held to one thread (threadpoolctl), the like-for-like figure;
 * on a machine shared with other work its OpenMP threads can spin far longer
 * than the work takes, so the default-thread time alone would mislead.
 *
 * Both sides read one temporary copy of the data (raw binary files written
 * here, read by bench/churn-sklearn.py, removed afterwards). Results go to
 * bench/results/churn-YYYY-MM-DD.json.
 *
 *   npx tsx bench/churn.ts [--scale 1000000] [--python /usr/bin/python3]
 *
 * Data sets come from ${CUSTODIAN_DATASETS ?? '../shared/datasets'}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GBDT_DEFAULTS, predictGbdt, trainGbdt, type GbdtOptions } from '../src/analytics/gbdt.js';
import { predictLogistic, trainLogistic } from '../src/analytics/logistic.js';
import { auc, type Design } from '../src/analytics/metrics.js';
import { seededRandom } from '../src/analytics/random.js';
import { stratifiedSplit } from '../src/analytics/split.js';
import { readTelco } from '../test/helpers/telco.js';

const { values: args } = parseArgs({ options: { scale: { type: 'string' }, python: { type: 'string' } } });
const SCALE_ROWS = Number(args.scale ?? 1_000_000);
const SEED = 42;
const TEST_SHARE = 0.2;
const SCALE_GOAL_SECONDS = 60;

/** sklearn's HistGradientBoostingClassifier defaults, with the round count the comparison uses. */
const SKLEARN_GBDT = { learningRate: 0.1, iterations: 100, maxLeafNodes: 31, minSamplesLeaf: 20, l2: 0 } as const;

interface ModelSpec {
  name: string;
  kind: 'logistic' | 'gbdt';
  /** ours only: GBDT options (sklearn gets its own fixed settings) */
  ours?: GbdtOptions;
  /** run on the sklearn side too */
  sklearn: boolean;
  singleThread?: boolean;
  /** sklearn GBDT refits with shuffled column orders, to show its tie-breaking spread */
  columnOrders?: number;
}

interface Dataset {
  name: string;
  x: Design;
  y: Uint8Array;
  train: Int32Array;
  test: Int32Array;
  models: ModelSpec[];
  checkSplit: boolean;
}

const notes: string[] = [];

function loadTelco(): Omit<Dataset, 'train' | 'test' | 'models' | 'checkSplit'> | string {
  const file = join(resolve(process.env.CUSTODIAN_DATASETS ?? '../shared/datasets', 'telco'), 'WA_Fn-UseC_-Telco-Customer-Churn.csv');
  if (!existsSync(file)) return `telco file not found at ${file}`;
  return { name: 'telco churn', ...readTelco(file) };
}

/**
 * 20 features, half uniform and half small counts; the log-odds are linear
 * in four of them plus an interaction of two others, so GBDT has something
 * over LR and both have noise to fit.
 */
function scaleSet(trainRows: number): Dataset {
  const rows = Math.round(trainRows * 1.25);
  const cols = 20;
  const random = seededRandom(SEED);
  const data = new Float64Array(rows * cols);
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const at = i * cols;
    for (let j = 0; j < cols; j++) data[at + j] = j % 2 === 0 ? random() : Math.floor(random() * 30);
    const z = 3 * (data[at]! - 0.5) + 0.1 * (data[at + 1]! - 15) - 2 * (data[at + 6]! - 0.5) + 0.05 * (data[at + 3]! - 15) + (data[at + 2]! > 0.5 && data[at + 4]! > 0.5 ? 1.5 : -0.5);
    y[i] = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  const train = Int32Array.from({ length: trainRows }, (_, i) => i);
  const test = Int32Array.from({ length: rows - trainRows }, (_, i) => trainRows + i);
  return {
    name: `scale ${trainRows.toLocaleString('en')} × ${cols}`,
    x: { rows, cols, data, names: Array.from({ length: cols }, (_, j) => `x${j}`) },
    y,
    train,
    test,
    models: [
      { name: 'logistic', kind: 'logistic', sklearn: true, singleThread: true },
      { name: 'gbdt lr 0.1 / 31 leaves', kind: 'gbdt', ours: SKLEARN_GBDT, sklearn: true, singleThread: true },
    ],
    checkSplit: false,
  };
}

function findPython(): string | undefined {
  const candidates = [args.python, process.env.PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => c !== undefined);
  for (const c of candidates) {
    const probe = spawnSync(c, ['-c', 'import sklearn'], { stdio: 'ignore' });
    if (probe.status === 0) return c;
  }
  return undefined;
}

const datasets: Dataset[] = [];
const telco = loadTelco();
if (typeof telco === 'string') notes.push(`${telco}: skipped (set CUSTODIAN_DATASETS to the folder holding telco/)`);
else {
  const split = stratifiedSplit(telco.y, TEST_SHARE, SEED);
  datasets.push({
    ...telco,
    ...split,
    models: [
      { name: 'logistic', kind: 'logistic', sklearn: true, singleThread: true },
      { name: 'gbdt lr 0.1 / 31 leaves', kind: 'gbdt', ours: SKLEARN_GBDT, sklearn: true, singleThread: true, columnOrders: 9 },
      { name: `gbdt GBDT_DEFAULTS (lr ${GBDT_DEFAULTS.learningRate} / ${GBDT_DEFAULTS.maxLeafNodes} leaves)`, kind: 'gbdt', ours: {}, sklearn: true, singleThread: true, columnOrders: 9 },
    ],
    checkSplit: true,
  });
}
if (SCALE_ROWS > 0) datasets.push(scaleSet(SCALE_ROWS));

interface SkModel { name: string; threads: string; auc: number; seconds: number; columnOrderAucs?: number[] }
interface SkResult { dataset: string; splitIdentical?: boolean; models: SkModel[] }

// sklearn first, so its run overlaps nothing of ours.
const python = findPython();
let sklearnVersion: string | undefined;
let sklearnResults: SkResult[] = [];
if (python === undefined) {
  notes.push('scikit-learn not found: install it (Debian: `apt-get install python3-sklearn`, or `pip install scikit-learn`) or pass --python; ours only below');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-churn-'));
  try {
    const manifest = {
      datasets: datasets.map((d, i) => {
        writeFileSync(join(dir, `${i}.x`), d.x.data);
        writeFileSync(join(dir, `${i}.y`), d.y);
        writeFileSync(join(dir, `${i}.train`), d.train);
        writeFileSync(join(dir, `${i}.test`), d.test);
        return {
          name: d.name,
          rows: d.x.rows,
          cols: d.x.cols,
          x: `${i}.x`,
          y: `${i}.y`,
          train: `${i}.train`,
          test: `${i}.test`,
          checkSplit: d.checkSplit,
          testShare: TEST_SHARE,
          seed: SEED,
          models: d.models
            .filter((m) => m.sklearn)
            .map((m) => {
              const o = { ...GBDT_DEFAULTS, ...m.ours };
              return { name: m.name, kind: m.kind, singleThread: m.singleThread ?? false, columnOrders: m.columnOrders ?? 0, learningRate: o.learningRate, iterations: o.iterations, maxLeafNodes: o.maxLeafNodes, minSamplesLeaf: o.minSamplesLeaf, l2: o.l2 };
            }),
        };
      }),
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const script = fileURLToPath(new URL('./churn-sklearn.py', import.meta.url));
    const run = spawnSync(python, [script, join(dir, 'manifest.json')], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (run.status !== 0) {
      notes.push(`bench/churn-sklearn.py failed (${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    } else {
      const parsed = JSON.parse(run.stdout) as { sklearn: string; results: SkResult[] };
      sklearnVersion = parsed.sklearn;
      sklearnResults = parsed.results;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// One untimed fit of each kind first, so the first timed fit does not carry
// V8's compilation of the hot loops (sklearn's are compiled ahead of time).
{
  const warm = datasets[0]!;
  const rowsToWarm = warm.train.subarray(0, 5000);
  trainLogistic(warm.x, warm.y, { rows: rowsToWarm });
  trainGbdt(warm.x, warm.y, { rows: rowsToWarm, iterations: 20 });
}

interface Row { dataset: string; model: string; auc: number; seconds: number; sklearn: SkModel[] }
const rows: Row[] = [];
const splitChecks: Array<{ dataset: string; identical: boolean | null }> = [];
for (const d of datasets) {
  const sk = sklearnResults.find((r) => r.dataset === d.name);
  if (d.checkSplit) splitChecks.push({ dataset: d.name, identical: sk?.splitIdentical ?? null });
  const yTest = Uint8Array.from(d.test, (r) => d.y[r]!);
  for (const m of d.models) {
    const started = performance.now();
    if (m.kind === 'logistic') {
      const model = trainLogistic(d.x, d.y, { rows: d.train });
      const seconds = (performance.now() - started) / 1000;
      const scores = predictLogistic(model, d.x, d.test);
      rows.push({ dataset: d.name, model: m.name, auc: auc(scores, yTest), seconds, sklearn: sk?.models.filter((s) => s.name === m.name) ?? [] });
    } else {
      const model = trainGbdt(d.x, d.y, { ...m.ours, rows: d.train });
      const seconds = (performance.now() - started) / 1000;
      const scores = predictGbdt(model, d.x, d.test);
      rows.push({ dataset: d.name, model: m.name, auc: auc(scores, yTest), seconds, sklearn: sk?.models.filter((s) => s.name === m.name) ?? [] });
    }
  }
}

const table = [
  ['data set', 'model', 'AUC ours', 'AUC sklearn', 'diff', 'sklearn AUC over column orders', 'fit s ours', 'fit s sklearn', 'time ratio ours/sk'],
  ...rows.map((r) => {
    const all = r.sklearn.find((s) => s.threads === 'default');
    const one = r.sklearn.find((s) => s.threads === '1 thread');
    const skTime = all === undefined ? '—' : `${all.seconds.toFixed(2)}${one === undefined ? '' : ` (1 thread ${one.seconds.toFixed(2)})`}`;
    const ratio = all === undefined ? '—' : `${(r.seconds / all.seconds).toFixed(2)}×${one === undefined ? '' : ` (${(r.seconds / one.seconds).toFixed(2)}×)`}`;
    return [
      r.dataset,
      r.model,
      r.auc.toFixed(4),
      all === undefined ? '—' : all.auc.toFixed(4),
      all === undefined ? '—' : `${r.auc - all.auc >= 0 ? '+' : ''}${(r.auc - all.auc).toFixed(4)}`,
      all?.columnOrderAucs === undefined ? '—' : `${Math.min(...all.columnOrderAucs).toFixed(4)}–${Math.max(...all.columnOrderAucs).toFixed(4)} (${all.columnOrderAucs.length})`,
      r.seconds.toFixed(2),
      skTime,
      ratio,
    ];
  }),
];
const widths = table[0]!.map((_, j) => Math.max(...table.map((row) => [...row[j]!].length)));
const load = `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} CPUs`;
console.log(`churn models vs scikit-learn ${sklearnVersion ?? '(not run)'}: hold-out AUC, fit time (one run each; ${load})`);
for (const row of table) console.log(row.map((cell, j) => cell + ' '.repeat(widths[j]! - [...cell].length)).join('  '));
for (const c of splitChecks) {
  console.log(`${c.dataset}: our stratifiedSplit(y, ${TEST_SHARE}, ${SEED}) ${c.identical === null ? 'not checked (sklearn not run)' : c.identical ? 'is identical to' : 'DIFFERS from'} sklearn's train_test_split(stratify=y, random_state=${SEED})`);
}
const scale = rows.find((r) => r.dataset.startsWith('scale') && r.model.startsWith('gbdt'));
if (scale !== undefined) console.log(`${scale.dataset}: GBDT fit in ${scale.seconds.toFixed(2)} s (goal < ${SCALE_GOAL_SECONDS} s on one thread: ${scale.seconds < SCALE_GOAL_SECONDS ? 'met' : 'MISSED'})`);
console.log('sklearn AUC over column orders: lowest–highest hold-out AUC of sklearn refitted with the columns shuffled (the first is the given order); only ties between equally good splits differ');
for (const n of notes) console.log(`note: ${n}`);

const report = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), node: process.version, loadAverage: loadavg() },
  settings: { seed: SEED, testShare: TEST_SHARE, scaleRows: SCALE_ROWS, sklearnGbdt: SKLEARN_GBDT, gbdtDefaults: GBDT_DEFAULTS },
  sklearn: sklearnVersion ?? null,
  splitChecks,
  results: rows,
  notes: [
    'fit time only (prediction excluded), one run each; ours is single-threaded, sklearn uses its default thread count unless marked 1 thread',
    'sklearn: make_pipeline(StandardScaler(), LogisticRegression(C=1, max_iter=1000)); HistGradientBoostingClassifier(early_stopping=False, random_state=0)',
    ...notes,
  ],
};
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}churn-${report.at.slice(0, 10)}.json`;
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
console.log(`results written to ${file}`);
