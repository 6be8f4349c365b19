/**
 * bench/import: `custodian import` of a 1,000,000-row customer CSV into an
 * embedded (PGlite) data directory, file to profiles: time, rows/s and the
 * process's peak RSS (VmHWM). Goal: peak RSS < 400 MB, i.e. streamed.
 *
 *   npm run bench:import [-- --rows=1000000]
 *
 * It runs the built CLI (`npm run build` first, the script does it), as a user
 * would, on a data directory set up beforehand as `serve` does on first start.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rows: { type: 'string' } } });
const ROWS = Number(values.rows ?? 1_000_000);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** Node flags from the CLI's shebang: the bench runs it as the installed `custodian` runs. */
const NODE_FLAGS = (readFileSync(CLI, 'utf8').split('\n')[0] ?? '').split(/\s+/).filter((arg) => arg.startsWith('--'));
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', 'Smith', 'Garcia', 'Müller', 'Tanaka'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '磊', '洋', 'John', 'Maria', 'Anna', 'Yuki', 'Omar'];
const CITIES = ['上海', '北京', '广州', '深圳', '杭州', 'Shanghai', 'New York', 'Berlin'];

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('客户编号,姓名,手机号,邮箱,生日,性别,城市,会员等级\n');
  for (let i = 0; i < ROWS; i++) {
    const name = SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 7) % GIVEN.length]!;
    const line = `C${i},${name},1${String(3_000_000_000 + i).padStart(10, '0')},user${i}@example.com,19${60 + (i % 40)}-0${1 + (i % 9)}-1${i % 10},${i % 2 ? '男' : '女'},${CITIES[i % CITIES.length]},${['普通', '银卡', '金卡'][i % 3]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Peak resident memory of a running process, from /proc (Linux). */
function highWaterMark(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  statSync(CLI);
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-import-'));
  try {
    const csv = join(dir, 'customers.csv');
    const data = join(dir, 'data');
    mkdirSync(data);
    process.stderr.write(`generating ${ROWS.toLocaleString('en')} rows…\n`);
    await writeCsv(csv);
    // First use of the directory (create the cluster, bootstrap) in a process of its own.
    const setup = spawnSync(process.execPath, [...NODE_FLAGS, CLI, 'export', 'profiles', '--data', data, '-o', join(dir, 'empty.ndjson')], { encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`setting up the data directory failed: ${setup.stderr}`);

    const started = performance.now();
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, 'import', csv, '--source', 'crm', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, highWaterMark(child.pid!) ?? 0)), 100);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`custodian import exited with ${code}:\n${stdout}`);
    const result = {
      at: new Date().toISOString(),
      rows: ROWS,
      csvBytes: statSync(csv).size,
      seconds,
      rowsPerSecond: ROWS / seconds,
      peakRssBytes: peak,
      goalBytes: 400 * 1024 * 1024,
      pass: peak > 0 && peak < 400 * 1024 * 1024,
      nodeFlags: NODE_FLAGS,
      note: 'file to profiles: parsing, mapping, validation, encryption, event log, then the pipeline (identity graph, profiles, events), in one `custodian import` process',
    };
    process.stdout.write(stdout);
    process.stdout.write(
      `bench/import: ${ROWS.toLocaleString('en')} rows (${mb(result.csvBytes)} CSV) file to profiles in ${seconds.toFixed(1)} s = ${Math.round(result.rowsPerSecond).toLocaleString('en')} rows/s; ` +
        `peak RSS ${mb(peak)} (goal < 400 MB: ${result.pass ? 'PASS' : 'FAIL'})\n`,
    );
    const out = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `import-${result.at.slice(0, 10)}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
