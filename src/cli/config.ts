import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STREAM_DEFAULTS, streamConfigProblem } from '../collect/stream-consumer.js';
import { DEFAULT_COLLECT_RATE_LIMIT } from '../server/rate-limits.js';

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
  /** --tls-cert/--tls-key: serve HTTPS; absent: plain HTTP */
  tls?: TlsConfig;
  /** CUSTODIAN_RATE_LIMIT: /v1 requests per second per source; 0: no limit */
  rateLimit: number;
  /** CUSTODIAN_TRUST_PROXY: the reverse proxies whose X-Forwarded-For/-Proto to believe; absent: none */
  trustProxy?: number | string[];
  /** CUSTODIAN_EXPORT_DIR: where file destinations and segment exports write (default <data>/exports) */
  activationDir: string;
  /** CUSTODIAN_PUBLIC_URL: the address people reach this server at, for links in messages */
  publicUrl: string;
  /** CUSTODIAN_SEND_LEASE_SECONDS: how long a sender holds a message it took before another may send it */
  sendLeaseMs: number;
}

/** A certificate chain and its private key, read and checked at start-up. */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
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
  'tls-cert'?: string;
  'tls-key'?: string;
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
  const dataDir = resolve(flags.data ?? env.CUSTODIAN_DATA ?? './data');
  const tls = tlsConfig(flags, env);
  const config: Config = {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir,
    databaseUrl,
    demo: flags['no-demo'] ? 'off' : flags.demo ? 'on' : 'auto',
    demoCustomers,
    demoSeed: flags.seed ?? null,
    worker: !flags['no-worker'],
    idBlocklist: (env.CUSTODIAN_ID_BLOCKLIST ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: env.LOG_LEVEL ?? 'info',
    rateLimit: rateLimitConfig(env.CUSTODIAN_RATE_LIMIT),
    activationDir: resolve(env.CUSTODIAN_EXPORT_DIR ?? join(dataDir, 'exports')),
    publicUrl: publicUrlConfig(env.CUSTODIAN_PUBLIC_URL, port, tls !== null),
    sendLeaseMs: sendLeaseConfig(env.CUSTODIAN_SEND_LEASE_SECONDS),
  };
  if (env.CUSTODIAN_WRITE_KEY) config.writeKey = env.CUSTODIAN_WRITE_KEY;
  if (env.CUSTODIAN_ADMIN_TOKEN) config.adminToken = env.CUSTODIAN_ADMIN_TOKEN;
  if (env.CUSTODIAN_MASTER_KEY) config.masterKey = env.CUSTODIAN_MASTER_KEY;
  const consume = consumeConfig(flags, env);
  if (consume) config.consume = consume;
  if (tls) config.tls = tls;
  const trustProxy = trustProxyConfig(env.CUSTODIAN_TRUST_PROXY);
  if (trustProxy !== null) config.trustProxy = trustProxy;
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

/** Links in messages must reach this server from people's inboxes: an absolute http(s) URL, no query. */
function publicUrlConfig(given: string | undefined, port: number, tls: boolean): string {
  if (given === undefined || given === '') return `${tls ? 'https' : 'http'}://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new ConfigError(`CUSTODIAN_PUBLIC_URL: ${JSON.stringify(given)} is not a URL; give the address people reach this server at, such as https://cdp.example.com`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`CUSTODIAN_PUBLIC_URL: ${JSON.stringify(given)} must be an http or https address without a query or fragment`);
  }
  return given.replace(/\/+$/, '');
}

/**
 * A lease shorter than a slow destination takes to answer a round would let a
 * second sender send the same messages meanwhile; a long one delays resending
 * after a crash. Two minutes covers a round at the webhook timeout.
 */
function sendLeaseConfig(given: string | undefined): number {
  if (given === undefined || given === '') return 120_000;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) throw new ConfigError(`CUSTODIAN_SEND_LEASE_SECONDS: give a number of seconds from 1 to 3600 (got ${JSON.stringify(given)})`);
  return Math.round(seconds * 1000);
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

function rateLimitConfig(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_COLLECT_RATE_LIMIT;
  const perSecond = Number(text);
  if (!Number.isInteger(perSecond) || perSecond < 0) {
    throw new ConfigError(`CUSTODIAN_RATE_LIMIT: give a whole number of requests per second per source, or 0 for no limit (got ${JSON.stringify(text)})`);
  }
  return perSecond;
}

/**
 * Behind a reverse proxy every request comes from the proxy: client addresses
 * (rate limits, the audit log) and https (Secure cookies) must be read from its
 * headers, but only from proxies named here, or any client could claim any address.
 */
function trustProxyConfig(text: string | undefined): number | string[] | null {
  if (text === undefined || text.trim() === '') return null;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    if (hops < 1 || hops > 10) throw new ConfigError(`CUSTODIAN_TRUST_PROXY: a number of proxy hops is 1 to 10 (got ${trimmed})`);
    return hops;
  }
  const addresses = trimmed.split(',').map((a) => a.trim()).filter(Boolean);
  const bad = addresses.find((a) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a));
  if (bad !== undefined) throw new ConfigError(`CUSTODIAN_TRUST_PROXY: ${JSON.stringify(bad)} is not an IP address or CIDR range; give the proxies' addresses (10.0.0.5,10.1.0.0/16) or a number of hops`);
  return addresses;
}

const CERT_NAME = '--tls-cert/CUSTODIAN_TLS_CERT';
const KEY_NAME = '--tls-key/CUSTODIAN_TLS_KEY';

function readTlsFile(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${name}: there is no file ${path}`);
    if (code === 'EISDIR') throw new ConfigError(`${name}: ${path} is a directory; give the PEM file`);
    if (code === 'EACCES' || code === 'EPERM') throw new ConfigError(`${name}: ${path} cannot be read by this user (permission denied)`);
    throw new ConfigError(`${name}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * --tls-cert and --tls-key (or CUSTODIAN_TLS_CERT / _KEY), both or neither.
 * Everything HTTPS would trip over later is refused here, naming the flag:
 * a file that is missing or unreadable, not PEM, a key with a passphrase, a
 * key that does not belong to the certificate.
 */
function tlsConfig(flags: Flags, env: NodeJS.ProcessEnv): TlsConfig | null {
  const certGiven = flags['tls-cert'] ?? env.CUSTODIAN_TLS_CERT ?? '';
  const keyGiven = flags['tls-key'] ?? env.CUSTODIAN_TLS_KEY ?? '';
  if (certGiven === '' && keyGiven === '') return null;
  if (certGiven === '') throw new ConfigError(`${KEY_NAME} is given without ${CERT_NAME}: HTTPS needs both the certificate and its private key`);
  if (keyGiven === '') throw new ConfigError(`${CERT_NAME} is given without ${KEY_NAME}: HTTPS needs both the certificate and its private key`);
  const certFile = resolve(certGiven);
  const keyFile = resolve(keyGiven);
  const cert = readTlsFile(CERT_NAME, certFile);
  const key = readTlsFile(KEY_NAME, keyFile);
  // Node's TLS takes PEM only; X509Certificate alone would also accept DER.
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${CERT_NAME}: ${certFile} is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError(`${CERT_NAME}: ${certFile} does not hold a valid certificate: ${(error as Error).message}`);
  }
  // OpenSSL 3 reports a key with a passphrase as "interrupted or cancelled": read the PEM headers instead.
  if (key.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || key.includes('Proc-Type: 4,ENCRYPTED')) {
    throw new ConfigError(`${KEY_NAME}: ${keyFile} is encrypted with a passphrase; give the key without one (openssl pkey -in ${keyFile} -out key.pem)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key, format: 'pem' });
  } catch (error) {
    throw new ConfigError(`${KEY_NAME}: ${keyFile} is not a PEM private key: ${(error as Error).message}`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${KEY_NAME}: ${keyFile} is not the private key of the certificate in ${certFile} (${CERT_NAME})`);
  }
  return { certFile, keyFile, cert, key };
}
