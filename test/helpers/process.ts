import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root: children run `src/cli/main.ts` from source with tsx. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_ENTRY = 'src/cli/main.ts';

/** Environment variables the CLI reads; children get only the ones a test sets. */
const CLI_VARIABLES = ['PORT', 'HOST', 'CUSTODIAN_DATA', 'DATABASE_URL', 'CUSTODIAN_WRITE_KEY', 'CUSTODIAN_ADMIN_TOKEN', 'CUSTODIAN_MASTER_KEY', 'CUSTODIAN_ID_BLOCKLIST', 'LOG_LEVEL', 'CUSTODIAN_CONSUME', 'CUSTODIAN_CONSUME_STREAM', 'CUSTODIAN_CONSUME_SUBJECT', 'CUSTODIAN_CONSUME_DURABLE', 'CUSTODIAN_CONSUME_DEAD_LETTER', 'CUSTODIAN_TLS_CERT', 'CUSTODIAN_TLS_KEY', 'CUSTODIAN_RATE_LIMIT', 'CUSTODIAN_TRUST_PROXY'];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** everything written so far */
  stdout(): string;
  stderr(): string;
  /** resolves once the process has exited (never rejects) */
  readonly exited: Promise<Exit>;
  /** null while running */
  exit(): Exit | null;
}

export interface ServeProcess extends CliProcess {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
}

const live = new Set<ChildProcess>();

/** An unused TCP port on `host` (free when asked; a test uses it right away). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLI_VARIABLES) delete base[name];
  // Loopback only, and quiet request logs unless a test asks for them.
  const merged: NodeJS.ProcessEnv = { ...base, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

/**
 * Start `custodian <args>` from source. The child is node itself (tsx is loaded
 * with --import), so its pid is the server's pid: a SIGKILL hits the server.
 */
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start custodian ${args.join(' ')}`);
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let result: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      result = { code, signal };
      live.delete(child);
      resolve(result);
    });
    child.on('error', () => {
      result ??= { code: null, signal: null };
      live.delete(child);
      resolve(result);
    });
  });
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, exited, exit: () => result };
}

/** Run a one-shot CLI command to its end (killed after timeoutMs). */
export async function runCli(args: readonly string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const proc = startCli(args, env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  // let the pipes drain their last chunks
  await new Promise((resolve) => setImmediate(resolve));
  return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
}

/**
 * Start `custodian serve` on `port` (PORT is set too; `host` is HOST, 127.0.0.1
 * by default) and wait until /health answers. Without demo data (`--no-demo`)
 * unless the args say `--demo` or `--no-demo` themselves: tests count profiles.
 */
export async function startServe(options: { port: number; host?: string; args?: readonly string[]; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<ServeProcess> {
  const host = options.host ?? '127.0.0.1';
  const args = options.args ?? [];
  const demoChosen = args.includes('--demo') || args.includes('--no-demo');
  const proc = startCli(['serve', ...args, ...(demoChosen ? [] : ['--no-demo'])], { PORT: String(options.port), HOST: host, ...options.env });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  const server: ServeProcess = { ...proc, port: options.port, url };
  try {
    await waitForHealth(server, options.timeoutMs ?? 60_000);
  } catch (error) {
    await stop(server, 'SIGKILL');
    throw error;
  }
  return server;
}

/** Poll GET /health until it answers 200; fails early if the process exits. */
export async function waitForHealth(server: ServeProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const exit = server.exit();
    if (exit) throw new Error(`custodian serve exited (${exit.code ?? exit.signal}) before it was healthy\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
    try {
      const response = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`custodian serve not healthy on ${server.url} after ${timeoutMs} ms (${last})\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}

/** Signal a process and wait for it to exit; escalates to SIGKILL after timeoutMs. */
export async function stop(proc: CliProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<Exit> {
  const done = proc.exit();
  if (done) return done;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  return exit;
}

/** SIGKILL every child still running: for afterAll, whatever a test left behind. */
export async function killAll(): Promise<void> {
  const waiting = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waiting);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Poll until `check` returns a value other than undefined/false; fails with `what` after timeoutMs. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}
