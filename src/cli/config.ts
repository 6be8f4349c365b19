import { resolve } from 'node:path';
import { STREAM_DEFAULTS, streamConfigProblem } from '../collect/stream-consumer.js';

/** Settings for serve / worker / export, validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  /** demo data at serve start: auto (first start of an embedded database), on (--demo), off (--no-demo) */
  demo: 'auto' | 'on' | 'off';
  /** --customers, --seed: the demo data set (`custodian demo`, and serve's) */
  demoCustomers: number | null;
  demoSeed: string | null;
  worker: boolean;
  /** --consume: a NATS JetStream stream that feeds the event log (serve) */
  consume?: ConsumeConfig;
  writeKey?: string;
  adminToken?: string;
  masterKey?: string;
  idBlocklist: string[];
  logLevel: string;
  /** scheduled backups by the worker (CUSTODIAN_BACKUP_DIR and companions); absent: none */
  backup?: { dir: string; everyHours: number; keep: number };
}

/** An error the user can act on: printed as one line, without a stack. */
export class CliError extends Error {}

export class ConfigError extends CliError {}

export interface Flags {
  port?: string;
  data?: string;
  'database-url'?: string;
  'no-demo'?: boolean;
  demo?: boolean;
  customers?: string;
  seed?: string;
  'no-worker'?: boolean;
  consume?: string;
  'consume-stream'?: string;
  'consume-subject'?: string;
  'consume-durable'?: string;
  'consume-dead-letter'?: string;
}

export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv): Config {
  const portText = flags.port ?? env.PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port/PORT: ${JSON.stringify(portText)} is not a port number (0-65535)`);
  const databaseUrl = flags['database-url'] ?? env.DATABASE_URL ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('--database-url/DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (flags.demo && flags['no-demo']) throw new ConfigError('--demo and --no-demo contradict each other: give one');
  let demoCustomers: number | null = null;
  if (flags.customers !== undefined) {
    demoCustomers = Number(flags.customers);
    if (!Number.isInteger(demoCustomers) || demoCustomers < 1 || demoCustomers > 1_000_000) throw new ConfigError(`--customers: ${JSON.stringify(flags.customers)} is not a whole number from 1 to 1,000,000`);
  }
  if (flags.seed !== undefined && (flags.seed === '' || flags.seed.length > 200)) throw new ConfigError('--seed: give 1 to 200 characters');
  const config: Config = {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(flags.data ?? env.CUSTODIAN_DATA ?? './data'),
    databaseUrl,
    demo: flags['no-demo'] ? 'off' : flags.demo ? 'on' : 'auto',
    demoCustomers,
    demoSeed: flags.seed ?? null,
    worker: !flags['no-worker'],
    idBlocklist: (env.CUSTODIAN_ID_BLOCKLIST ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
  if (env.CUSTODIAN_WRITE_KEY) config.writeKey = env.CUSTODIAN_WRITE_KEY;
  if (env.CUSTODIAN_ADMIN_TOKEN) config.adminToken = env.CUSTODIAN_ADMIN_TOKEN;
  if (env.CUSTODIAN_MASTER_KEY) config.masterKey = env.CUSTODIAN_MASTER_KEY;
  const consume = consumeConfig(flags, env);
  if (consume) config.consume = consume;
  if (env.CUSTODIAN_BACKUP_DIR) {
    const everyHours = Number(env.CUSTODIAN_BACKUP_EVERY_HOURS ?? 24);
    const keep = Number(env.CUSTODIAN_BACKUP_KEEP ?? 7);
    // A timer cannot wait longer than 2^31 ms (about 596 hours).
    if (!(everyHours > 0 && everyHours <= 596)) throw new ConfigError(`CUSTODIAN_BACKUP_EVERY_HOURS: give a number of hours above 0 and at most 596 (got ${env.CUSTODIAN_BACKUP_EVERY_HOURS})`);
    if (!(Number.isInteger(keep) && keep >= 1)) throw new ConfigError(`CUSTODIAN_BACKUP_KEEP: give a whole number of at least 1 (got ${env.CUSTODIAN_BACKUP_KEEP})`);
    config.backup = { dir: resolve(env.CUSTODIAN_BACKUP_DIR), everyHours, keep };
  }
  return config;
}

export interface ConsumeConfig {
  url: string;
  stream: string;
  subject: string;
  durable: string;
  deadLetter: string;
}

/** --consume nats://… and its companions (flags, or CUSTODIAN_CONSUME* in the environment). */
function consumeConfig(flags: Flags, env: NodeJS.ProcessEnv): ConsumeConfig | null {
  const url = flags.consume ?? env.CUSTODIAN_CONSUME ?? null;
  const given = {
    stream: flags['consume-stream'] ?? env.CUSTODIAN_CONSUME_STREAM,
    subject: flags['consume-subject'] ?? env.CUSTODIAN_CONSUME_SUBJECT,
    durable: flags['consume-durable'] ?? env.CUSTODIAN_CONSUME_DURABLE,
    deadLetter: flags['consume-dead-letter'] ?? env.CUSTODIAN_CONSUME_DEAD_LETTER,
  };
  if (url === null || url === '') {
    if (flags['consume-stream'] ?? flags['consume-subject'] ?? flags['consume-durable'] ?? flags['consume-dead-letter']) {
      throw new ConfigError('--consume-stream/-subject/-durable/-dead-letter need --consume nats://HOST:4222');
    }
    return null;
  }
  if (!/^(nats|tls):\/\/[^/\s]+\/?$/.test(url)) throw new ConfigError(`--consume/CUSTODIAN_CONSUME: ${JSON.stringify(url)} must be a nats:// (or tls://) URL such as nats://127.0.0.1:4222`);
  const consume: ConsumeConfig = {
    url,
    stream: given.stream || STREAM_DEFAULTS.stream,
    subject: given.subject || STREAM_DEFAULTS.subject,
    durable: given.durable || STREAM_DEFAULTS.durable,
    deadLetter: given.deadLetter || STREAM_DEFAULTS.deadLetter,
  };
  const problem = streamConfigProblem(consume);
  if (problem) throw new ConfigError(`--consume: ${problem}`);
  return consume;
}
