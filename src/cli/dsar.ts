import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { buildArchive, DsarInputError, DSAR_TYPES, eventsCsv, submitRequest, traitsCsv, type Archive, type DsarIdentifier, type DsarRequest, type DsarType } from '../privacy/dsar.js';
import { appendAudit } from '../privacy/audit-log.js';
import { readLock } from '../storage/data-dir-lock.js';
import { CliError, type Config } from './config.js';
import { openRuntime } from './runtime.js';

export interface DsarCliOptions {
  type: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  userId?: string | undefined;
  profileId?: string | undefined;
  verifiedBy?: string | undefined;
  method?: string | undefined;
  note?: string | undefined;
  /** rectify: key=value pairs */
  traits: string[];
  output: string | null;
}

/** The request body the options describe; a mistake names the flag to fix. */
export function dsarBody(options: DsarCliOptions): { type: DsarType; identifier: DsarIdentifier; verification?: { method: string; by: string; note?: string }; traits?: Record<string, unknown> } {
  if (!options.type || !(DSAR_TYPES as readonly string[]).includes(options.type)) throw new CliError(`dsar: say which request: custodian dsar ${DSAR_TYPES.join('|')} --email ADDRESS …`);
  const type = options.type as DsarType;
  const given: DsarIdentifier[] = [];
  if (options.email !== undefined) given.push({ type: 'email', value: options.email });
  if (options.phone !== undefined) given.push({ type: 'phone', value: options.phone });
  if (options.userId !== undefined) given.push({ type: 'userId', value: options.userId });
  if (options.profileId !== undefined) given.push({ type: 'profileId', value: options.profileId });
  if (given.length !== 1) throw new CliError('dsar: name the person with exactly one of --email, --phone, --user-id, --profile-id');
  const body: ReturnType<typeof dsarBody> = { type, identifier: given[0]! };
  if (options.verifiedBy !== undefined || options.method !== undefined) {
    if (!options.verifiedBy || !options.method) throw new CliError('dsar: give both --verified-by NAME and --method METHOD (how the requester was verified)');
    body.verification = { method: options.method, by: options.verifiedBy, ...(options.note ? { note: options.note } : {}) };
  } else if (type === 'access' || type === 'erase') {
    throw new CliError(`dsar ${type}: record how the requester was verified: --verified-by NAME --method METHOD (email_link, account_login, id_document…)`);
  }
  if (type === 'rectify') {
    if (options.traits.length === 0) throw new CliError('dsar rectify: give the corrections as --set key=value (--set key= removes a trait)');
    body.traits = Object.fromEntries(
      options.traits.map((pair) => {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new CliError(`dsar rectify: --set ${pair} is not key=value`);
        const value = pair.slice(eq + 1);
        return [pair.slice(0, eq), value === '' ? null : value];
      }),
    );
  }
  return body;
}

function writeAtomically(path: string, text: string): void {
  // Written aside and renamed: a failed write never leaves a file that looks whole.
  const partial = `${path}.partial`;
  try {
    writeFileSync(partial, text, { mode: 0o600 });
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function archiveText(archive: Archive, output: string | null): string {
  if (output?.endsWith('.traits.csv')) return traitsCsv(archive);
  if (output?.endsWith('.csv')) return eventsCsv(archive);
  return JSON.stringify(archive, null, 2) + '\n';
}

function summary(request: DsarRequest): string {
  return `dsar ${request.type} ${request.id}: ${request.status}, received ${request.receivedAt}, due ${request.dueAt}\n${JSON.stringify(request.result ?? {})}\n`;
}

/**
 * `custodian dsar access|erase|rectify|restrict`: through the running server's
 * API when one holds the data directory, else on the database directly. An
 * access archive goes to -o FILE (mode 0600; `.csv` for the events,
 * `.traits.csv` for the traits, JSON otherwise) or to stdout.
 */
export async function dsarCommand(config: Config, options: DsarCliOptions): Promise<void> {
  const body = dsarBody(options);
  const deliver = (archive: string) => {
    if (options.output) writeAtomically(options.output, archive);
    else process.stdout.write(archive);
  };
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    const call = async (method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Response> => {
      try {
        return await fetch(`${holder.url}${path}`, { method, headers: { authorization: `Bearer ${holder.localToken}`, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { body: JSON.stringify(payload) } : {}) });
      } catch (error) {
        throw new CliError(`the server at ${holder.url} did not answer: ${(error as Error).message}`);
      }
    };
    const response = await call('POST', '/api/dsar', body);
    const answer = (await response.json()) as DsarRequest & { message?: string };
    if (!response.ok) throw new CliError(`the server refused: ${answer.message ?? response.status}`);
    process.stderr.write(summary(answer));
    if (answer.type === 'access') {
      const csv = options.output?.endsWith('.csv');
      const part = options.output?.endsWith('.traits.csv') ? 'traits' : 'events';
      const archive = await call('GET', csv ? `/api/dsar/${answer.id}/archive.csv?part=${part}` : `/api/dsar/${answer.id}/archive`);
      if (!archive.ok) throw new CliError(`the server refused the archive: ${archive.status}`);
      deliver(csv ? await archive.text() : JSON.stringify(await archive.json(), null, 2) + '\n');
    }
    return;
  }
  const runtime = await openRuntime(config, 'dsar');
  try {
    const request = await submitRequest(runtime.database, runtime.keyring, 'default', { ...body, actor: 'cli' });
    process.stderr.write(summary(request));
    if (request.type === 'access') {
      const archive = await buildArchive(runtime.database, runtime.keyring, 'default', request.id);
      const text = archiveText(archive, options.output);
      // Recorded before it is written, as the API records its archive downloads: an archive that cannot be recorded is not handed out.
      const format = options.output?.endsWith('.csv') ? { format: 'csv', part: options.output.endsWith('.traits.csv') ? 'traits' : 'events' } : { format: 'json', events: archive.events.length };
      await appendAudit(runtime.database.db, { workspaceId: 'default', actor: 'cli', action: 'dsar.archive', target: request.id, profileId: archive.profile.id, details: format });
      deliver(text);
    }
  } catch (error) {
    if (error instanceof DsarInputError) throw new CliError(`dsar: ${error.message}`);
    throw error;
  } finally {
    await runtime.database.close();
  }
}
