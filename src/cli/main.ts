#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=512
// The shebang's flags. A 2 MB young generation: long imports and the pipeline
// make garbage at a steady rate; with V8's default (16 MB semi-spaces) a
// 1,000,000-row import peaked at 425 MB, with 2 MB at 333 MB, and ingest
// throughput did not change (bench/import, bench/ingest). A 512 MB old
// generation: without a limit V8 sizes the heap for the machine (GBs here) and
// lets it grow long before collecting; with cleaning in the pipeline a
// 300,000-row import peaked at 395 MB unlimited, 285 MB with 512, and took as
// long. The live heap stays far below it. npm start and npm run custodian pass both.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { lastFullMonth } from '../analytics/report-data.js';
import { KeyringError, MasterKeyError } from '../privacy/crypto.js';
import { DataDirInUseError, readLock } from '../storage/data-dir-lock.js';
import { backupCommand, restoreCommand } from './backup.js';
import { keysReencryptCommand, keysRotateCommand, keysStatusCommand } from './keys.js';
import { verifyAudit, type AuditVerification } from '../privacy/audit-log.js';
import { CliError, ConfigError, loadConfig, type Config } from './config.js';
import { openRuntime } from './runtime.js';
import { demoCommand } from './demo.js';
import { dsarCommand } from './dsar.js';
import { tokenCommand, userCommand } from './user.js';
import { exportProfiles } from './export.js';
import { importFile } from './import.js';
import { qualityCommand } from './quality.js';
import { reportCommand, reportOptions } from './report.js';
import { resolveCommand } from './resolve.js';
import { runWorker, serve } from './serve.js';

const USAGE = `custodian — customer data platform

usage:
  custodian serve  [--port N] [--data DIR] [--database-url URL] [--no-demo | --demo] [--customers N] [--seed S] [--no-worker]
                   [--tls-cert FILE --tls-key FILE]   serve HTTPS with this PEM certificate chain and private key (docs/security.md)
                   [--consume nats://HOST:4222 [--consume-stream NAME] [--consume-subject PREFIX.>] [--consume-durable NAME] [--consume-dead-letter PREFIX]]
  custodian worker [--data DIR] [--database-url URL]
  custodian demo   [--customers N] [--seed S] [--data DIR] [--database-url URL]
  custodian export profiles --format ndjson [-o FILE] [--data DIR] [--database-url URL]
  custodian import FILE --source NAME [--kind customers|orders|feedback] [--format csv|tsv|ndjson|json|xlsx]
                   [--map column=field …] [--id-column COLUMN] [--no-resolve] [--data DIR] [--database-url URL]
  custodian quality [--format table|json] [--data DIR] [--database-url URL]
  custodian resolve [--full] [--refit] [--data DIR] [--database-url URL]
                   probabilistic matching: merge likely duplicates, queue uncertain pairs for review
  custodian report [--month YYYY-MM] [-o FILE] [--format html|csv] [--lang en|zh-CN] [--data DIR] [--database-url URL]
                   the monthly management report (default: last month; format from the file name, else html)
  custodian dsar access|erase|rectify|restrict --email ADDRESS | --phone N | --user-id ID | --profile-id UUID
                   [--verified-by NAME --method METHOD [--note TEXT]] [--set key=value …] [-o FILE] [--data DIR] [--database-url URL]
                   a data-subject request (docs/dsar.md); access and erase need --verified-by and --method
  custodian audit verify [--data DIR] [--database-url URL]
                   check the audit log's hash chain; exits 1 when an entry was edited or deleted
  custodian user add EMAIL --role ROLE [--name NAME] [--password-stdin] | list | role EMAIL ROLE | password EMAIL [--password-stdin]
                   | disable EMAIL | enable EMAIL | unlock EMAIL   [--workspace W]   staff accounts (docs/access.md)
  custodian token add NAME --role ROLE [--expires-days N] | list | revoke ID   [--workspace W]   API tokens
  custodian backup FILE [--data DIR] [--database-url URL]          encrypted, checksummed snapshot (docs/backup.md)
  custodian restore FILE --yes [--data DIR] [--database-url URL]   verify the backup, then replace every row with it
  custodian keys status [--format table|json] | rotate [--workspace ID] | rotate --master FILE | reencrypt   [--data DIR] [--database-url URL]
                   data keys and the master key that wraps them: rotate, re-encrypt now, see what each key still seals (docs/keys.md)

environment: PORT, CUSTODIAN_DATA, DATABASE_URL, CUSTODIAN_WRITE_KEY, CUSTODIAN_ADMIN_TOKEN,
             CUSTODIAN_MASTER_KEY, CUSTODIAN_ID_BLOCKLIST (comma-separated), HOST, LOG_LEVEL,
             CUSTODIAN_CONSUME, CUSTODIAN_CONSUME_STREAM, _SUBJECT, _DURABLE, _DEAD_LETTER (see docs/streams.md),
             CUSTODIAN_TLS_CERT, CUSTODIAN_TLS_KEY, CUSTODIAN_RATE_LIMIT, CUSTODIAN_TRUST_PROXY (see docs/security.md)`;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** `custodian audit verify`: through the server holding the data directory (its workspace), else every workspace here. */
async function auditVerify(config: Config): Promise<void> {
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  let results: AuditVerification[];
  if (holder?.url && holder.localToken) {
    const response = await fetch(`${holder.url}/api/audit/verify`, { headers: { authorization: `Bearer ${holder.localToken}` } }).catch((error: unknown) => {
      throw new CliError(`the server at ${holder.url} did not answer: ${(error as Error).message}`);
    });
    if (!response.ok) throw new CliError(`the server at ${holder.url} answered ${response.status}: ${await response.text()}`);
    results = [(await response.json()) as AuditVerification];
  } else {
    const runtime = await openRuntime(config, 'audit');
    try {
      results = await verifyAudit(runtime.database.db);
    } finally {
      await runtime.database.close();
    }
  }
  for (const r of results) {
    const head = r.head ? `, head ${r.head.seq} ${r.head.hash}` : '';
    process.stdout.write(r.firstBad ? `${r.workspaceId}: BROKEN at seq ${r.firstBad.seq} (${r.firstBad.reason}), ${r.entries} entries\n` : `${r.workspaceId}: ok, ${r.entries} entries${head}\n`);
  }
  const broken = results.filter((r) => !r.ok).map((r) => r.workspaceId);
  if (broken.length > 0) throw new CliError(`the audit log of ${broken.join(', ')} was tampered with: see above`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      data: { type: 'string' },
      'database-url': { type: 'string' },
      'no-demo': { type: 'boolean' },
      demo: { type: 'boolean' },
      customers: { type: 'string' },
      seed: { type: 'string' },
      'no-worker': { type: 'boolean' },
      consume: { type: 'string' },
      'consume-stream': { type: 'string' },
      'consume-subject': { type: 'string' },
      'consume-durable': { type: 'string' },
      'consume-dead-letter': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      source: { type: 'string' },
      kind: { type: 'string' },
      map: { type: 'string', multiple: true },
      'id-column': { type: 'string' },
      full: { type: 'boolean' },
      refit: { type: 'boolean' },
      'no-resolve': { type: 'boolean' },
      month: { type: 'string' },
      lang: { type: 'string' },
      email: { type: 'string' },
      phone: { type: 'string' },
      'user-id': { type: 'string' },
      'profile-id': { type: 'string' },
      'verified-by': { type: 'string' },
      method: { type: 'string' },
      note: { type: 'string' },
      set: { type: 'string', multiple: true },
      master: { type: 'string' },
      workspace: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      'expires-days': { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, subject] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const config = loadConfig(values, process.env);
  switch (command) {
    case 'serve':
      return serve(config, version());
    case 'demo':
      return demoCommand(config);
    case 'worker':
      return runWorker(config);
    case 'export': {
      if (subject !== 'profiles') throw new ConfigError('export: say what to export: `custodian export profiles`');
      const format = values.format ?? 'ndjson';
      if (format !== 'ndjson') throw new ConfigError(`--format ${format} is not supported: use ndjson`);
      return exportProfiles(config, { format, output: values.output ?? null });
    }
    case 'import': {
      if (!subject) throw new ConfigError('import: name the file: `custodian import FILE --source NAME`');
      if (!values.source) throw new ConfigError('import: --source NAME is required (the system the file comes from, e.g. crm or pos)');
      return importFile(config, {
        file: subject,
        source: values.source,
        kind: values.kind ?? 'customers',
        map: values.map ?? [],
        ...(values.format ? { format: values.format } : {}),
        ...(values['id-column'] ? { idColumn: values['id-column'] } : {}),
        resolve: values['no-resolve'] !== true,
      });
    }
    case 'resolve':
      return resolveCommand(config, { full: values.full === true, refit: values.refit === true });
    case 'quality': {
      const format = values.format ?? 'table';
      if (format !== 'table' && format !== 'json') throw new ConfigError(`--format ${format} is not supported for quality: use table or json`);
      return qualityCommand(config, format);
    }
    case 'backup':
      if (!subject) throw new ConfigError('backup: name the file: `custodian backup FILE`');
      return backupCommand(config, subject);
    case 'restore':
      if (!subject) throw new ConfigError('restore: name the file: `custodian restore FILE --yes`');
      return restoreCommand(config, subject, { yes: values.yes === true });
    case 'dsar':
      return dsarCommand(config, {
        type: subject,
        email: values.email,
        phone: values.phone,
        userId: values['user-id'],
        profileId: values['profile-id'],
        verifiedBy: values['verified-by'],
        method: values.method,
        note: values.note,
        traits: values.set ?? [],
        output: values.output ?? null,
      });
    case 'report':
      return reportCommand(config, reportOptions(values, lastFullMonth()));
    case 'user':
    case 'token': {
      const accessOptions = { workspace: values.workspace ?? 'default', role: values.role, name: values.name, passwordStdin: values['password-stdin'] === true, expiresDays: values['expires-days'] };
      const rest = positionals.slice(2);
      return command === 'user' ? userCommand(config, subject, rest, accessOptions) : tokenCommand(config, subject, rest, accessOptions);
    }
    case 'keys': {
      const format = values.format ?? 'table';
      if (format !== 'table' && format !== 'json') throw new ConfigError(`--format ${format} is not supported for keys status: use table or json`);
      if (values.master !== undefined && values.workspace !== undefined) throw new ConfigError('keys rotate: --master re-wraps every key of the database; it takes no --workspace');
      const keysOptions = { format, ...(values.workspace !== undefined ? { workspace: values.workspace } : {}), ...(values.master !== undefined ? { master: values.master } : {}) } as const;
      if (subject === 'status') return keysStatusCommand(config, keysOptions);
      if (subject === 'rotate') return keysRotateCommand(config, keysOptions);
      if (subject === 'reencrypt') return keysReencryptCommand(config);
      throw new ConfigError('keys: say what to do: `custodian keys status`, `custodian keys rotate [--workspace ID | --master FILE]` or `custodian keys reencrypt`');
    }
    case 'audit':
      if (subject !== 'verify') throw new ConfigError('audit: say what to do: `custodian audit verify`');
      return auditVerify(config);
    default:
      throw new ConfigError(`unknown command ${command}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError || error instanceof DataDirInUseError || error instanceof MasterKeyError || error instanceof KeyringError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`custodian: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(`custodian: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
