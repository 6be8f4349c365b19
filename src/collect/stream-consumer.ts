import { applyTrackingPlan, type PlanBlock, type PlanOutcome, type PlanViolation } from './tracking-plan.js';
import type { TrackingPlanEnforcer } from './tracking-plans-store.js';
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers as natsHeaders,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import sjson from 'secure-json-parse';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import type { Database } from '../storage/database.js';
import type { EventLogWriter } from './event-log.js';
import { LIMITS, validateMessage, type MessageType, type RejectReason, type TrackingMessage } from './messages.js';
import { sourceNameProblem } from './sources.js';

/*
 * Contract (docs/streams.md):
 * - A stream message's subject is `<prefix>.<source>`: with the default subject
 *   filter `custodian.events.>`, `custodian.events.crm` feeds source `crm`. The
 *   source must exist. Whoever may publish on the subject may write to the source:
 *   access is NATS's business (accounts, permissions), not a write key's.
 * - Its data is one Segment message (with `type`) or a batch
 *   ({"batch": [...], "context"?, "integrations"?, "sentAt"?}), as on /v1/batch.
 * - It is acked only once what it carries is committed to the event log. One
 *   that can never be valid is acked, counted, logged, and re-published on
 *   `<deadLetter>.<source>` with the reason in headers. On a database error it
 *   is not acked (nak with back-off): it comes again.
 * - A message without messageId gets one from its Nats-Msg-Id header or else its
 *   place in the stream, so a redelivery is stored once.
 */

export interface StreamConsumerConfig {
  /** nats://host:port (user:password@ allowed) */
  url: string;
  stream: string;
  /** a filter ending in `.>`: the token after its prefix names the source */
  subject: string;
  durable: string;
  /** subject prefix of dead letters: `<deadLetter>.<source>` */
  deadLetter: string;
  workspaceId: string;
  /** how long the server waits for an ack before redelivering (ms) */
  ackWaitMs?: number;
}

export const STREAM_DEFAULTS = {
  stream: 'CUSTODIAN',
  subject: 'custodian.events.>',
  durable: 'custodian',
  deadLetter: 'custodian.rejected',
  workspaceId: 'default',
} as const;

/** Why a stream message (or one item of a batch) was set aside. */
export type StreamRejectReason = RejectReason | 'invalid_subject' | 'unknown_source' | PlanBlock['reason'];

export interface StreamReject {
  /** batch item index, or null for the whole stream message */
  index: number | null;
  reason: StreamRejectReason;
  field: string;
  message: string;
  /** what is re-published as the dead letter */
  data: Uint8Array;
}

export interface DecodedStreamMessage {
  /** the source the subject names (null when the subject names none) */
  source: string | null;
  messages: TrackingMessage[];
  rejected: StreamReject[];
  junkFields: string[];
}

const STREAM_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const SUBJECT_TOKEN = /^[^\s.*>]+$/;

/** A problem with the stream settings, in words a user can act on; null when they are fine. */
export function streamConfigProblem(config: Pick<StreamConsumerConfig, 'stream' | 'subject' | 'durable' | 'deadLetter'>): string | null {
  if (!STREAM_NAME.test(config.stream)) return `stream ${JSON.stringify(config.stream)} must be letters, digits, - or _`;
  if (!STREAM_NAME.test(config.durable)) return `durable consumer name ${JSON.stringify(config.durable)} must be letters, digits, - or _`;
  const tokens = config.subject.split('.');
  if (tokens.length < 2 || tokens[tokens.length - 1] !== '>' || !tokens.slice(0, -1).every((t) => SUBJECT_TOKEN.test(t))) {
    return `subject ${JSON.stringify(config.subject)} must be a prefix followed by .> (e.g. custodian.events.>): the token after the prefix names the source`;
  }
  if (!config.deadLetter.split('.').every((t) => SUBJECT_TOKEN.test(t))) return `dead-letter subject ${JSON.stringify(config.deadLetter)} must be plain tokens separated by dots (no wildcards)`;
  if (`${config.deadLetter}.`.startsWith(config.subject.slice(0, -1))) return `dead-letter subject ${config.deadLetter} must not be under ${config.subject}: dead letters would be consumed again`;
  return null;
}

export interface DecodeContext {
  /** the subject filter without its final `>` (`custodian.events.`) */
  prefix: string;
  receivedAt: Date;
  junk: JunkIdFilter;
  /** messageId base for messages that carry none: Nats-Msg-Id, or the stream position */
  idBase: string;
}

const encoder = new TextEncoder();

/**
 * Decode one stream message into validated messages and rejects. Pure: the
 * same bytes give the same messageIds, which is what makes redelivery safe.
 */
export function decodeStreamMessage(subject: string, data: Uint8Array, ctx: DecodeContext): DecodedStreamMessage {
  const whole = (reason: StreamRejectReason, field: string, message: string, source: string | null = null): DecodedStreamMessage => ({
    source,
    messages: [],
    rejected: [{ index: null, reason, field, message, data }],
    junkFields: [],
  });
  const source = subject.startsWith(ctx.prefix) ? subject.slice(ctx.prefix.length) : '';
  if (source === '' || source.includes('.')) return whole('invalid_subject', 'subject', `subject ${subject} must be ${ctx.prefix}<source>: one token naming the source`);
  const nameProblem = sourceNameProblem(source);
  if (nameProblem) return whole('invalid_subject', 'subject', nameProblem);
  if (data.length > LIMITS.batchBytes) return whole('batch_too_large', 'body', `the message is ${data.length} bytes; the limit is ${LIMITS.batchBytes} bytes (500 KB)`, source);
  let body: unknown;
  try {
    body = sjson.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'), undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch (error) {
    return whole('invalid_json', 'body', `the message is not valid JSON: ${(error as Error).message}`, source);
  }
  const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'batch' in body;
  let items: unknown[];
  let defaults: { context?: Record<string, unknown>; integrations?: Record<string, unknown>; sentAt?: string } | undefined;
  if (isBatch) {
    const b = body as { batch: unknown; context?: unknown; integrations?: unknown; sentAt?: unknown };
    if (!Array.isArray(b.batch)) return whole('missing_field', 'batch', 'batch must be an array of messages', source);
    if (b.batch.length === 0) return whole('invalid_field', 'batch', 'batch is empty', source);
    if (b.batch.length > LIMITS.batchItems) return whole('batch_too_many', 'batch', `batch has ${b.batch.length} messages; the limit is ${LIMITS.batchItems}`, source);
    const bag = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
    defaults = {};
    const context = bag(b.context);
    const integrations = bag(b.integrations);
    if (context) defaults.context = context;
    if (integrations) defaults.integrations = integrations;
    if (typeof b.sentAt === 'string') defaults.sentAt = b.sentAt;
    items = b.batch;
  } else {
    items = [body];
  }
  const out: DecodedStreamMessage = { source, messages: [], rejected: [], junkFields: [] };
  items.forEach((item, index) => {
    // A retried publish must map to the same ids: derive them from the message's identity.
    let raw = item;
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && (item as { messageId?: unknown }).messageId === undefined) {
      raw = { ...item, messageId: isBatch ? `${ctx.idBase}.${index}` : ctx.idBase };
    }
    const result = validateMessage(raw, { receivedAt: ctx.receivedAt, type: null, junk: ctx.junk, ...(defaults ? { defaults } : {}) });
    if (!result.ok) {
      out.rejected.push({ index: isBatch ? index : null, ...result.issue, field: isBatch ? `batch[${index}].${result.issue.field}` : result.issue.field, data: isBatch ? encoder.encode(JSON.stringify(item) ?? 'null') : data });
      return;
    }
    out.messages.push(result.message);
    out.junkFields.push(...result.ignoredIds);
  });
  return out;
}

// ── the consumer ──────────────────────────────────────────────────────────

/** The logger calls the consumer makes; pino and Fastify's logger both fit. */
export interface StreamLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface StreamConsumerDeps {
  database: Database;
  eventLog: EventLogWriter;
  junk: JunkIdFilter;
  logger?: StreamLogger;
  /** the source's tracking plan applies to stream messages as to API calls */
  trackingPlans?: TrackingPlanEnforcer;
  /** after each group: what was stored and rejected (metrics; waking the worker) */
  onAccepted?(counts: { types: MessageType[]; duplicates: number; junkFields: string[]; rejected: StreamRejectReason[] }): void;
}

export interface StreamConsumerStats {
  /** stream messages taken */
  received: number;
  /** Segment messages written to the event log */
  stored: number;
  /** Segment messages already in the log (redeliveries, retried publishes) */
  duplicates: number;
  /** stream messages or batch items set aside (acked, dead-lettered) */
  rejected: number;
  /** stream messages not acked because the event log could not be written (they come again) */
  retried: number;
}

export interface StreamConsumer {
  readonly stats: Readonly<StreamConsumerStats>;
  readonly config: Readonly<StreamConsumerConfig>;
  /** whether dead letters land in a stream (kept) or only on core NATS */
  readonly deadLettersKept: boolean;
  /** stop taking messages, finish (and ack) those taken, drain the connection */
  stop(): Promise<void>;
}

/** A NATS or JetStream failure at start-up, in words a user can act on. */
export class StreamConsumerError extends Error {}

const PULL_BATCH = 256;
const MAX_ACK_PENDING = 2048;
/** Stream messages handled together: one event-log append per source per group. */
const GROUP_MESSAGES = 512;
const SOURCE_CACHE_MS = 10_000;

function apiErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
}
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

async function ensureStream(jsm: JetStreamManager, config: StreamConsumerConfig, logger?: StreamLogger): Promise<{ created: string }> {
  try {
    const info = await jsm.streams.info(config.stream);
    if (!info.config.subjects?.some((s) => s === config.subject || s === '>' || (s.endsWith('.>') && config.subject.startsWith(s.slice(0, -1))))) {
      throw new StreamConsumerError(`stream ${config.stream} exists but does not capture ${config.subject} (its subjects: ${(info.config.subjects ?? []).join(', ') || 'none'})`);
    }
    return { created: info.created };
  } catch (error) {
    if (apiErrorCode(error) !== STREAM_NOT_FOUND) throw error;
  }
  // Work-queue retention: a message is removed once acked (the event log is now
  // its durable home), and kept as long as it is not. Dead letters are kept in
  // the same stream until someone reads them.
  try {
    const info = await jsm.streams.add({ name: config.stream, subjects: [config.subject, `${config.deadLetter}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    logger?.info({ stream: config.stream, subjects: info.config.subjects }, 'created JetStream stream');
    return { created: info.created };
  } catch (error) {
    throw new StreamConsumerError(`could not create stream ${config.stream} for ${config.subject} and ${config.deadLetter}.>: ${(error as Error).message}`);
  }
}

async function ensureConsumer(jsm: JetStreamManager, config: StreamConsumerConfig): Promise<void> {
  try {
    const info = await jsm.consumers.info(config.stream, config.durable);
    if (info.config.filter_subject !== config.subject) {
      throw new StreamConsumerError(`consumer ${config.durable} on stream ${config.stream} exists with filter ${info.config.filter_subject ?? '(none)'}, not ${config.subject}: choose another durable name or delete it`);
    }
    if (info.config.ack_policy !== AckPolicy.Explicit) throw new StreamConsumerError(`consumer ${config.durable} on stream ${config.stream} does not use explicit acks`);
    return;
  } catch (error) {
    if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) throw error;
  }
  await jsm.consumers.add(config.stream, {
    durable_name: config.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: config.subject,
    ack_wait: nanos(config.ackWaitMs ?? 30_000),
    max_ack_pending: MAX_ACK_PENDING,
    // Never give up on a message: only this consumer decides one is hopeless.
    max_deliver: -1,
  });
}

async function deadLettersStream(jsm: JetStreamManager, deadLetter: string): Promise<string | null> {
  try {
    return await jsm.streams.find(`${deadLetter}.any`);
  } catch {
    return null;
  }
}

function connectionOptions(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StreamConsumerError(`${url} is not a URL: use nats://host:4222`);
  }
  if (!['nats:', 'tls:'].includes(parsed.protocol)) throw new StreamConsumerError(`${url}: only nats:// and tls:// URLs are supported`);
  const server = `${parsed.protocol}//${parsed.hostname.includes(':') ? `[${parsed.hostname}]` : parsed.hostname}:${parsed.port || '4222'}`;
  return {
    servers: server,
    name: 'custodian',
    ...(parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : {}),
    // Keep trying after the first connection: a NATS restart must not stop ingestion.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
  };
}

/** The URL without its password, for logs and banners. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connect, make sure the stream and the durable consumer exist, and consume
 * until stop(). Throws StreamConsumerError when NATS cannot be reached or the
 * stream cannot be used.
 */
export async function startStreamConsumer(deps: StreamConsumerDeps, config: StreamConsumerConfig): Promise<StreamConsumer> {
  const problem = streamConfigProblem(config);
  if (problem) throw new StreamConsumerError(problem);
  const { logger } = deps;
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(config.url));
  } catch (error) {
    if (error instanceof StreamConsumerError) throw error;
    throw new StreamConsumerError(`could not connect to NATS at ${redactUrl(config.url)}: ${(error as Error).message}`);
  }
  // State first: the consume callback may fire as soon as consume() has begun.
  const stats: StreamConsumerStats = { received: 0, stored: 0, duplicates: 0, rejected: 0, retried: 0 };
  const prefix = config.subject.slice(0, -1);
  const queue: JsMsg[] = [];
  let flushing: Promise<void> | null = null;
  let stopping = false;
  const sources = new Map<string, { exists: boolean; until: number }>();
  let streamEpoch = '';
  let messages: ConsumerMessages;
  let js: JetStreamClient;
  let keptIn: string | null;
  try {
    const jsm = await nc.jetstreamManager();
    // The stream's creation time goes into derived messageIds: a stream deleted
    // and made again restarts its sequence, and must not reuse old ids.
    streamEpoch = Date.parse((await ensureStream(jsm, config, logger)).created).toString(36);
    await ensureConsumer(jsm, config);
    keptIn = await deadLettersStream(jsm, config.deadLetter);
    if (!keptIn) logger?.warn({ subject: `${config.deadLetter}.>` }, 'no JetStream stream captures the dead-letter subject: rejected messages are published on core NATS only, and kept nowhere but the logs');
    js = nc.jetstream();
    const consumer = await js.consumers.get(config.stream, config.durable);
    messages = await consumer.consume({ max_messages: PULL_BATCH, callback: (m) => take(m) });
  } catch (error) {
    await nc.close().catch(() => undefined);
    if (error instanceof StreamConsumerError) throw error;
    const jetstreamOff = /jetstream not enabled|503/i.test((error as Error).message);
    throw new StreamConsumerError(`NATS at ${redactUrl(config.url)}: ${jetstreamOff ? 'JetStream is not enabled on the server (start nats-server with -js)' : (error as Error).message}`);
  }

  function take(m: JsMsg): void {
    queue.push(m);
    kick();
  }

  function kick(): void {
    if (flushing || queue.length === 0) return;
    flushing = (async () => {
      // Whatever arrives while a group is handled forms the next group: no timers.
      while (queue.length > 0) await handle(queue.splice(0, GROUP_MESSAGES));
    })()
      .catch((error: unknown) => logger?.error({ err: error }, 'stream consumer failed on a group; its messages were not acked and will come again'))
      .finally(() => {
        flushing = null;
        kick();
      });
  }

  async function existingSources(names: string[]): Promise<Set<string>> {
    const now = Date.now();
    const unknown = names.filter((n) => {
      const cached = sources.get(n);
      return !cached || cached.until <= now;
    });
    if (unknown.length > 0) {
      const rows = await deps.database.db.selectFrom('sources').select('id').where('workspace_id', '=', config.workspaceId).where('id', 'in', unknown).execute();
      const found = new Set(rows.map((r) => r.id));
      // A source created a moment ago is seen within a second; a known one is not asked for again for a while.
      for (const name of unknown) sources.set(name, { exists: found.has(name), until: now + (found.has(name) ? SOURCE_CACHE_MS : 1_000) });
    }
    return new Set(names.filter((n) => sources.get(n)?.exists));
  }

  async function deadLetter(m: JsMsg, source: string | null, reject: StreamReject): Promise<void> {
    const h = natsHeaders();
    h.set('Custodian-Reason', reject.reason);
    h.set('Custodian-Field', reject.field);
    h.set('Custodian-Message', reject.message.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set('Custodian-Subject', m.subject);
    h.set('Custodian-Stream-Sequence', String(m.seq));
    if (reject.index !== null) h.set('Custodian-Batch-Index', String(reject.index));
    const subject = `${config.deadLetter}.${source ?? '_'}`;
    try {
      if (keptIn) await js.publish(subject, reject.data, { headers: h });
      else nc.publish(subject, reject.data, { headers: h });
    } catch (error) {
      logger?.error({ err: error, subject }, 'could not publish a dead letter; the reject is in this log only');
    }
  }

  async function handle(group: JsMsg[]): Promise<void> {
    stats.received += group.length;
    const receivedAt = new Date();
    const decoded = group.map((m) => {
      const msgId = m.headers?.get('Nats-Msg-Id');
      const idBase = msgId ? `nats-${config.stream}-id-${msgId}` : `nats-${config.stream}-${streamEpoch}-${m.seq}`;
      return decodeStreamMessage(m.subject, m.data, { prefix, receivedAt, junk: deps.junk, idBase });
    });
    const named = [...new Set(decoded.filter((d) => d.messages.length > 0).map((d) => d.source).filter((s): s is string => s !== null))];
    let existing: Set<string>;
    try {
      existing = await existingSources(named);
    } catch (error) {
      return retryLater(group, error);
    }
    decoded.forEach((d, i) => {
      if (d.source === null || existing.has(d.source) || d.messages.length === 0) return;
      // The whole stream message is refused: none of its messages is stored.
      d.rejected = [{ index: null, reason: 'unknown_source', field: 'subject', message: `source ${d.source} does not exist in workspace ${config.workspaceId}: create it, or publish on ${prefix}<an existing source>`, data: group[i]!.data }];
      d.messages = [];
    });
    // Tracking plans: a stream message with a blocked event is refused whole, like a webhook delivery.
    const violations = new Map<string, PlanViolation[]>();
    if (deps.trackingPlans) {
      try {
        for (const [i, d] of decoded.entries()) {
          if (d.source === null || d.messages.length === 0) continue;
          const plan = await deps.trackingPlans.forSource(config.workspaceId, d.source);
          if (!plan) continue;
          const planned = d.messages.map((message) => applyTrackingPlan(plan, message));
          const blocked = planned.findIndex((p) => p.outcome === 'block');
          violations.set(d.source, [...(violations.get(d.source) ?? []), ...planned.flatMap((p) => p.violations)]);
          if (blocked !== -1) {
            const issue = (planned[blocked] as Extract<PlanOutcome, { outcome: 'block' }>).issue;
            d.rejected = [...d.rejected, { index: blocked, reason: issue.reason, field: issue.field, message: issue.message, data: group[i]!.data }];
            d.messages = [];
          } else {
            d.messages = planned.map((p) => p.message);
          }
        }
      } catch (error) {
        return retryLater(group, error);
      }
    }
    // One append per source for the whole group: the writer commits them together.
    const bySource = new Map<string, TrackingMessage[]>();
    for (const d of decoded) if (d.source !== null && d.messages.length > 0) bySource.set(d.source, [...(bySource.get(d.source) ?? []), ...d.messages]);
    const outcomes = new Map<string, PromiseSettledResult<Awaited<ReturnType<EventLogWriter['append']>>>>();
    const settled = await Promise.allSettled([...bySource].map(([source, list]) => deps.eventLog.append(config.workspaceId, source, list)));
    [...bySource.keys()].forEach((source, i) => outcomes.set(source, settled[i]!));
    for (const [source, list] of violations) {
      if (list.length === 0 || outcomes.get(source)?.status === 'rejected') continue;
      await deps.trackingPlans?.record(config.workspaceId, source, list).catch((error: unknown) => logger?.error({ err: error, source }, 'could not count tracking plan violations'));
    }

    const types: MessageType[] = [];
    const rejectedReasons: StreamRejectReason[] = [];
    const junkFields: string[] = [];
    let duplicates = 0;
    for (const [source, outcome] of outcomes) {
      if (outcome.status === 'rejected') continue;
      const sent = bySource.get(source)!;
      const stored = new Set(outcome.value.stored);
      stats.stored += stored.size;
      stats.duplicates += sent.length - stored.size;
      duplicates += sent.length - stored.size;
      for (const m of sent) if (stored.delete(m.messageId)) types.push(m.type);
    }
    const failed: JsMsg[] = [];
    let firstError: unknown = null;
    await Promise.all(
      group.map(async (m, i) => {
        const d = decoded[i]!;
        const outcome = d.source !== null && d.messages.length > 0 ? outcomes.get(d.source) : undefined;
        if (outcome?.status === 'rejected') {
          // Not acked: the event log did not take it. It comes again after the back-off.
          failed.push(m);
          firstError ??= outcome.reason;
          return;
        }
        junkFields.push(...d.junkFields);
        for (const reject of d.rejected) {
          stats.rejected += 1;
          rejectedReasons.push(reject.reason);
          logger?.warn({ subject: m.subject, seq: m.seq, index: reject.index, reason: reject.reason, field: reject.field }, `stream message rejected: ${reject.message}`);
          await deadLetter(m, d.source, reject);
        }
        m.ack();
      }),
    );
    if (failed.length > 0) retryLater(failed, firstError);
    deps.onAccepted?.({ types, duplicates, junkFields, rejected: rejectedReasons });
  }

  function retryLater(group: JsMsg[], error: unknown): void {
    stats.retried += group.length;
    logger?.error({ err: error, messages: group.length }, 'could not write stream messages to the event log; not acked, they will be redelivered');
    for (const m of group) {
      // Back off per message: 1 s, 2 s, 4 s … up to 30 s between deliveries.
      m.nak(Math.min(30_000, 1_000 * 2 ** Math.min(5, Math.max(0, m.info.deliveryCount - 1))));
    }
  }

  // Informational status events: a deleted consumer or stream is worth a loud line.
  void (async () => {
    for await (const status of await messages.status()) {
      if (['consumer_deleted', 'consumer_not_found', 'stream_not_found', 'heartbeats_missed'].includes(String(status.type))) {
        logger?.warn({ status: status.type, data: status.data, stream: config.stream, durable: config.durable }, 'JetStream consumer status');
      }
    }
  })().catch(() => undefined);

  logger?.info({ url: redactUrl(config.url), stream: config.stream, subject: config.subject, durable: config.durable, deadLetters: keptIn ?? 'core NATS only' }, 'consuming from NATS JetStream');

  return {
    stats,
    config,
    deadLettersKept: keptIn !== null,
    async stop() {
      if (stopping) return;
      stopping = true;
      // Stop pulling first; then finish (and ack) what was taken; then drain.
      await messages.close().catch(() => undefined);
      while (flushing) await flushing;
      await nc.drain().catch(() => undefined);
    },
  };
}
