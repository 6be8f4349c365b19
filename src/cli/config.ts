import { resolve } from 'node:path';

/** Settings for serve / worker / export, validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  demo: boolean;
  worker: boolean;
  writeKey?: string;
  adminToken?: string;
  masterKey?: string;
  idBlocklist: string[];
  logLevel: string;
}

/** An error the user can act on: printed as one line, without a stack. */
export class CliError extends Error {}

export class ConfigError extends CliError {}

export interface Flags {
  port?: string;
  data?: string;
  'database-url'?: string;
  'no-demo'?: boolean;
  'no-worker'?: boolean;
}

export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv): Config {
  const portText = flags.port ?? env.PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port/PORT: ${JSON.stringify(portText)} is not a port number (0-65535)`);
  const databaseUrl = flags['database-url'] ?? env.DATABASE_URL ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('--database-url/DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const config: Config = {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(flags.data ?? env.CUSTODIAN_DATA ?? './data'),
    databaseUrl,
    demo: !flags['no-demo'],
    worker: !flags['no-worker'],
    idBlocklist: (env.CUSTODIAN_ID_BLOCKLIST ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
  if (env.CUSTODIAN_WRITE_KEY) config.writeKey = env.CUSTODIAN_WRITE_KEY;
  if (env.CUSTODIAN_ADMIN_TOKEN) config.adminToken = env.CUSTODIAN_ADMIN_TOKEN;
  if (env.CUSTODIAN_MASTER_KEY) config.masterKey = env.CUSTODIAN_MASTER_KEY;
  return config;
}
