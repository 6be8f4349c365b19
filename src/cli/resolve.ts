import { refreshWorkspace } from '../segments/membership.js';
import { resolveWorkspace, type ResolveCounts, type ResolveProgress } from '../identity/resolve.js';
import type { IdentityDeps } from '../identity/merge.js';
import { readLock } from '../storage/data-dir-lock.js';
import { CliError, type Config } from './config.js';
import { openRuntime } from './runtime.js';

const STAGE_NAMES: Record<ResolveProgress['stage'], string> = {
  load: 'loading profiles',
  prepare: 'preparing records',
  u: 'sampling random pairs',
  em: 'estimating the model',
  compare: 'comparing candidate pairs',
  merge: 'merging',
};

/** One line per stage on a terminal, redrawn in place; silent when piped. */
function stageProgress(stream: NodeJS.WriteStream = process.stderr) {
  let stage: string | null = null;
  let last = 0;
  const show = stream.isTTY === true;
  return (p: ResolveProgress) => {
    if (!show) return;
    if (p.stage !== stage) {
      if (stage !== null) stream.write('\n');
      stage = p.stage;
      last = 0;
    }
    if (Date.now() - last < 200 && p.done !== p.total) return;
    last = Date.now();
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    stream.write(`\r${STAGE_NAMES[p.stage].padEnd(26)} [${'#'.repeat(Math.round(fraction * 20)).padEnd(20, '.')}] ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')}   `);
  };
}

export function printCounts(counts: ResolveCounts, out: NodeJS.WritableStream = process.stdout): void {
  out.write(
    `profiles ${counts.profiles.toLocaleString('en')} (${counts.changed.toLocaleString('en')} changed), pairs compared ${counts.compared.toLocaleString('en')}, ` +
      `merges ${counts.merges}, sent to review ${counts.reviews}, kept apart ${counts.excluded + counts.limited}${counts.fitted ? ', model fitted' : ''}\n`,
  );
}

/** Resolve in this process, with progress (the import command calls it after building profiles). */
export async function resolveLocally(deps: IdentityDeps, options: { full: boolean; refit: boolean }): Promise<ResolveCounts> {
  const progress = stageProgress();
  const { counts } = await resolveWorkspace(deps, 'default', { ...options, onProgress: progress });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (counts.merges > 0) await refreshWorkspace(deps.database.db, 'default', { now: new Date(), cause: 'merge' });
  return counts;
}

/** `custodian resolve`: through the running server when one holds the data directory, else here. */
export async function resolveCommand(config: Config, options: { full: boolean; refit: boolean }): Promise<void> {
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    let response: Response;
    try {
      response = await fetch(`${holder.url}/api/identity/resolve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${holder.localToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...options, wait: true }),
      });
    } catch (error) {
      throw new CliError(`the server at ${holder.url} did not answer: ${(error as Error).message}`);
    }
    const body = (await response.json()) as { counts?: ResolveCounts; status?: string; error?: string | null; message?: string };
    if (!response.ok || !body.counts) throw new CliError(`the server refused: ${body.message ?? response.status}`);
    if (body.status === 'failed') throw new CliError(`the resolve run failed: ${body.error ?? 'unknown error'}`);
    printCounts(body.counts);
    return;
  }
  const runtime = await openRuntime(config, 'resolve');
  try {
    printCounts(await resolveLocally(runtime, options));
  } finally {
    await runtime.database.close();
  }
}
