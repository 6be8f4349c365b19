import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Keyring } from '../privacy/crypto.js';
import { ActivationError, refuse, type Issue } from './activation-error.js';
import type { DestinationTable, Schema } from '../storage/schema.js';
import { DESTINATION_KINDS, type DestinationAdapter, type DestinationKind } from './adapter.js';
import { openAdapter } from './adapters/open.js';
import { RESERVED_HEADERS } from './adapters/webhook.js';

/*
 * Destinations: where activation sends (docs/destinations.md). A destination
 * may name any address this server can reach, internal ones included, which is
 * why only settings.write may create or change one.
 */

/** Where file destinations write unless the server is told otherwise. */
export const DEFAULT_ACTIVATION_DIR = './data/exports';

export interface WebhookConfig {
  url: string;
  /** sent with every request; values of credential-like names are never shown back (see redactedConfig) */
  headers: Record<string, string>;
  /** messages per request: 1 sends each message as the body, more send {messages: [...]} */
  batchSize: number;
  /** requests in flight at once */
  concurrency: number;
  timeoutMs: number;
}

export interface FileConfig {
  /** relative to the workspace's folder of the activation directory */
  directory: string;
}

export interface NatsConfig {
  /** nats://host:port, several separated by commas */
  servers: string;
  subject: string;
  jetstream: boolean;
}

export type DestinationSpec =
  | { kind: 'webhook'; config: WebhookConfig }
  | { kind: 'file'; config: FileConfig }
  | { kind: 'nats'; config: NatsConfig };

export type Destination = DestinationSpec & {
  id: string;
  workspaceId: string;
  name: string;
  hasSecret: boolean;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
};

export const WEBHOOK_LIMITS = {
  batchSize: { min: 1, max: 1000, default: 1 },
  concurrency: { min: 1, max: 256, default: 32 },
  timeoutMs: { min: 100, max: 120_000, default: 10_000 },
  headers: 50,
} as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// NATS subjects: dot-separated tokens without spaces; wildcards only subscribe, never publish.
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function integerIn(value: unknown, field: string, limits: { min: number; max: number; default: number }, issues: Issue[]): number {
  if (value === undefined) return limits.default;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < limits.min || value > limits.max) {
    issues.push({ field, message: `${field} must be a whole number from ${limits.min} to ${limits.max}` });
    return limits.default;
  }
  return value;
}

function webhookConfig(raw: Record<string, unknown>, issues: Issue[]): WebhookConfig {
  const url = raw.url;
  if (typeof url !== 'string' || url.trim() === '') {
    issues.push({ field: 'config.url', message: 'config.url is required: the http:// or https:// address to POST to' });
  } else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      issues.push({ field: 'config.url', message: `config.url is not a URL: ${url.slice(0, 100)}` });
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') issues.push({ field: 'config.url', message: `config.url must be http:// or https://, not ${parsed.protocol}` });
    if (url.length > 2000) issues.push({ field: 'config.url', message: 'config.url is longer than 2,000 characters' });
  }
  const headers: Record<string, string> = {};
  if (raw.headers !== undefined) {
    if (!isRecord(raw.headers)) {
      issues.push({ field: 'config.headers', message: 'config.headers must be an object of header names to text values' });
    } else {
      const entries = Object.entries(raw.headers);
      if (entries.length > WEBHOOK_LIMITS.headers) issues.push({ field: 'config.headers', message: `config.headers has more than ${WEBHOOK_LIMITS.headers} headers` });
      for (const [name, value] of entries) {
        const field = `config.headers.${name}`;
        if (!HEADER_NAME.test(name)) issues.push({ field, message: `${JSON.stringify(name.slice(0, 100))} is not a valid header name` });
        else if (RESERVED_HEADERS.has(name.toLowerCase())) issues.push({ field, message: `${name} is set by Custodian itself and cannot be given` });
        else if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > 4000) issues.push({ field, message: `${name} must be text of at most 4,000 characters without line breaks` });
        else headers[name] = value;
      }
    }
  }
  return {
    url: typeof url === 'string' ? url.trim() : '',
    headers,
    batchSize: integerIn(raw.batchSize, 'config.batchSize', WEBHOOK_LIMITS.batchSize, issues),
    concurrency: integerIn(raw.concurrency, 'config.concurrency', WEBHOOK_LIMITS.concurrency, issues),
    timeoutMs: integerIn(raw.timeoutMs, 'config.timeoutMs', WEBHOOK_LIMITS.timeoutMs, issues),
  };
}

/** Why a file destination's directory cannot be used, or null. */
export function directoryProblem(directory: string): string | null {
  if (directory.trim() === '') return 'config.directory is required: a folder relative to the activation directory';
  if (directory.length > 200) return 'config.directory is longer than 200 characters';
  if (directory.includes('\0')) return 'config.directory may not contain NUL';
  if (path.isAbsolute(directory) || path.win32.isAbsolute(directory)) return 'config.directory must be relative to the activation directory, not absolute';
  if (directory.split(/[\\/]/).includes('..')) return 'config.directory may not contain `..`: it must stay inside the activation directory';
  return null;
}

function fileConfig(raw: Record<string, unknown>, issues: Issue[]): FileConfig {
  const directory = raw.directory;
  if (typeof directory !== 'string') {
    issues.push({ field: 'config.directory', message: 'config.directory is required: a folder relative to the activation directory' });
    return { directory: '' };
  }
  const problem = directoryProblem(directory);
  if (problem) issues.push({ field: 'config.directory', message: problem });
  return { directory: directory.trim() };
}

function natsConfig(raw: Record<string, unknown>, issues: Issue[]): NatsConfig {
  const servers = raw.servers;
  if (typeof servers !== 'string' || servers.trim() === '') {
    issues.push({ field: 'config.servers', message: 'config.servers is required: nats://host:4222 (several separated by commas)' });
  } else {
    for (const server of servers.split(',').map((s) => s.trim())) {
      let parsed: URL | null = null;
      try {
        parsed = new URL(server);
      } catch {
        issues.push({ field: 'config.servers', message: `${server.slice(0, 100)} is not a URL: use nats://host:4222` });
        continue;
      }
      if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') issues.push({ field: 'config.servers', message: `${parsed.protocol} is not supported: use nats:// or tls://` });
    }
  }
  const subject = raw.subject;
  if (typeof subject !== 'string' || !SUBJECT.test(subject) || subject.length > 200) {
    issues.push({ field: 'config.subject', message: 'config.subject is required: dot-separated tokens without spaces or wildcards, e.g. custodian.segments' });
  }
  if (raw.jetstream !== undefined && typeof raw.jetstream !== 'boolean') issues.push({ field: 'config.jetstream', message: 'config.jetstream must be true or false' });
  return { servers: typeof servers === 'string' ? servers.trim() : '', subject: typeof subject === 'string' ? subject : '', jetstream: raw.jetstream === true };
}

const KNOWN_CONFIG: Record<DestinationKind, readonly string[]> = {
  webhook: ['url', 'headers', 'batchSize', 'concurrency', 'timeoutMs'],
  file: ['directory'],
  nats: ['servers', 'subject', 'jetstream'],
};

/**
 * Check a destination's name, kind and config; fill the config's defaults.
 * Pure: the name's uniqueness is the store's to check.
 */
export function validateDestination(input: { name?: unknown; kind?: unknown; config?: unknown }): { ok: true; value: DestinationSpec & { name: string } } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > 200) issues.push({ field: 'name', message: 'name is required: 1 to 200 characters' });
  const kind = input.kind;
  if (typeof kind !== 'string' || !(DESTINATION_KINDS as readonly string[]).includes(kind)) {
    issues.push({ field: 'kind', message: `kind must be one of ${DESTINATION_KINDS.join(', ')}` });
    return { ok: false, issues };
  }
  const k = kind as DestinationKind;
  const raw = input.config === undefined ? {} : input.config;
  if (!isRecord(raw)) {
    issues.push({ field: 'config', message: 'config must be an object' });
    return { ok: false, issues };
  }
  for (const key of Object.keys(raw)) {
    if (!KNOWN_CONFIG[k].includes(key)) issues.push({ field: `config.${key}`, message: `a ${k} destination has no setting ${key} (it has ${KNOWN_CONFIG[k].join(', ')})` });
  }
  let spec: DestinationSpec;
  if (k === 'webhook') spec = { kind: k, config: webhookConfig(raw, issues) };
  else if (k === 'file') spec = { kind: k, config: fileConfig(raw, issues) };
  else spec = { kind: k, config: natsConfig(raw, issues) };
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { ...spec, name } };
}

// Header values that are credentials go out to the receiver but never back to a reader of the settings.
const CREDENTIAL_HEADER = /auth|token|secret|key|password|cookie|signature|session/i;
/** What GET answers show for a credential-like header value; sent back in a PATCH, it keeps the stored value. */
export const REDACTED = '<redacted>';

/** The config as answers show it. */
export function redactedConfig(spec: DestinationSpec): Record<string, unknown> {
  if (spec.kind !== 'webhook') return { ...spec.config };
  const headers = Object.fromEntries(Object.entries(spec.config.headers).map(([name, value]) => [name, CREDENTIAL_HEADER.test(name) ? REDACTED : value]));
  return { ...spec.config, headers };
}

function toDestination(row: Selectable<DestinationTable>): Destination {
  // PGlite and pg both parse jsonb; a string means a driver that did not.
  const config = typeof row.config === 'string' ? (JSON.parse(row.config) as Record<string, unknown>) : row.config;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    kind: row.kind as DestinationKind,
    config,
    hasSecret: row.secret !== null,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  } as unknown as Destination;
}

const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

async function refuseTakenName(db: Kysely<Schema>, workspaceId: string, name: string, except: string | null): Promise<void> {
  let q = db.selectFrom('destinations').select('id').where('workspace_id', '=', workspaceId).where(sql<boolean>`lower(name) = lower(${name})`);
  if (except) q = q.where('id', '<>', except);
  const taken = await q.executeTakeFirst();
  if (taken) throw new ActivationError('conflict', 'name', `a destination named ${name} exists already (${taken.id})`);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/**
 * Save a destination. A webhook gets a signing secret, returned here only:
 * it is sealed by the keyring and cannot be read back.
 */
export async function createDestination(db: Kysely<Schema>, keyring: Keyring, workspaceId: string, input: { name?: unknown; kind?: unknown; config?: unknown }, actor: string | null, now = new Date()): Promise<{ destination: Destination; secret: string | null }> {
  const checked = validateDestination(input);
  if (!checked.ok) refuse(checked.issues);
  const { name, kind, config } = checked.value;
  await refuseTakenName(db, workspaceId, name, null);
  const secret = kind === 'webhook' ? newSecret() : null;
  try {
    const row = await db
      .insertInto('destinations')
      .values({
        workspace_id: workspaceId,
        id: randomUUID(),
        name,
        kind,
        config: JSON.stringify(config),
        secret: secret ? keyring.encrypt(workspaceId, Buffer.from(secret, 'utf8')) : null,
        created_by: actor,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { destination: toDestination(row), secret };
  } catch (error) {
    // Two saves of one name at once: the index decides, and the loser hears it as the check above would have said.
    if (isUniqueViolation(error)) throw new ActivationError('conflict', 'name', `a destination named ${name} exists already`);
    throw error;
  }
}

export async function listDestinations(db: Kysely<Schema>, workspaceId: string): Promise<Destination[]> {
  const rows = await db.selectFrom('destinations').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').orderBy('id').execute();
  return rows.map(toDestination);
}

export async function getDestination(db: Kysely<Schema>, workspaceId: string, id: string): Promise<Destination | null> {
  const row = await db.selectFrom('destinations').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? toDestination(row) : null;
}

async function existing(db: Kysely<Schema>, workspaceId: string, id: string): Promise<Destination> {
  const found = await getDestination(db, workspaceId, id);
  if (!found) throw new ActivationError('not_found', 'id', `no destination ${id}`);
  return found;
}

/**
 * Rename a destination or change its config. The config given is merged over
 * the stored one (a PATCH names only what changes); a header sent back as
 * REDACTED keeps its stored value. The kind cannot change.
 */
export async function updateDestination(db: Kysely<Schema>, workspaceId: string, id: string, patch: { name?: unknown; kind?: unknown; config?: unknown }, now = new Date()): Promise<Destination> {
  const current = await existing(db, workspaceId, id);
  if (patch.kind !== undefined && patch.kind !== current.kind) throw new ActivationError('invalid', 'kind', `the kind of a destination cannot change (it is ${current.kind}): make a new destination`);
  if (patch.config !== undefined && !isRecord(patch.config)) refuse([{ field: 'config', message: 'config must be an object' }]);
  const given: Record<string, unknown> = patch.config ?? {};
  const merged: Record<string, unknown> = { ...current.config, ...given };
  if (current.kind === 'webhook' && isRecord(given.headers)) {
    const stored = current.config.headers;
    merged.headers = Object.fromEntries(Object.entries(given.headers).map(([k, v]) => [k, v === REDACTED && stored[k] !== undefined ? stored[k] : v]));
  }
  const checked = validateDestination({ name: patch.name ?? current.name, kind: current.kind, config: merged });
  if (!checked.ok) refuse(checked.issues);
  if (checked.value.name.toLowerCase() !== current.name.toLowerCase()) await refuseTakenName(db, workspaceId, checked.value.name, id);
  try {
    const row = await db
      .updateTable('destinations')
      .set({ name: checked.value.name, config: JSON.stringify(checked.value.config), updated_at: now })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ActivationError('not_found', 'id', `no destination ${id}`);
    return toDestination(row);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ActivationError('conflict', 'name', `a destination named ${checked.value.name} exists already`);
    throw error;
  }
}

/** Delete a destination no campaign and no segment sync uses. */
export async function deleteDestination(db: Kysely<Schema>, workspaceId: string, id: string): Promise<Destination> {
  const current = await existing(db, workspaceId, id);
  const [campaigns, syncs] = await Promise.all([
    db.selectFrom('campaigns').select(['id', 'name']).where('workspace_id', '=', workspaceId).where('destination_id', '=', id).limit(10).execute(),
    db.selectFrom('segment_syncs').select('id').where('workspace_id', '=', workspaceId).where('destination_id', '=', id).limit(10).execute(),
  ]);
  if (campaigns.length > 0 || syncs.length > 0) {
    const users = [...campaigns.map((c) => `campaign ${c.name}`), ...syncs.map((s) => `segment sync ${s.id}`)];
    throw new ActivationError('conflict', 'id', `destination ${current.name} is used by ${users.join(', ')}: delete or move them first`);
  }
  await db.deleteFrom('destinations').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  return current;
}

/** A new signing secret for a webhook destination; the old one stops working at once. */
export async function rotateDestinationSecret(db: Kysely<Schema>, keyring: Keyring, workspaceId: string, id: string, now = new Date()): Promise<{ destination: Destination; secret: string }> {
  const current = await existing(db, workspaceId, id);
  if (current.kind !== 'webhook') throw new ActivationError('conflict', 'id', `destination ${current.name} is a ${current.kind} destination: only webhook destinations sign with a secret`);
  const secret = newSecret();
  const row = await db
    .updateTable('destinations')
    .set({ secret: keyring.encrypt(workspaceId, Buffer.from(secret, 'utf8')), updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { destination: toDestination(row), secret };
}

export interface OpenOptions {
  /** the root of file destinations; each workspace writes below its own folder of it */
  activationDir: string;
}

/** Where a workspace's file destinations live: its own folder, so one tenant cannot write over another's files. */
export function workspaceDir(activationDir: string, workspaceId: string): string {
  return path.resolve(activationDir, encodeURIComponent(workspaceId));
}

/** Open a destination (its adapter) as the sender and the syncs use it: loaded, its secret decrypted. */
export async function openDestination(db: Kysely<Schema>, keyring: Keyring, workspaceId: string, destinationId: string, options: OpenOptions): Promise<DestinationAdapter> {
  const row = await db.selectFrom('destinations').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', destinationId).executeTakeFirst();
  if (!row) throw new ActivationError('not_found', 'destinationId', `no destination ${destinationId}`);
  const secret = row.secret ? keyring.decrypt(row.secret).toString('utf8') : null;
  return openAdapter(toDestination(row), secret, options);
}
