import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { makeStorable } from '../clean/storable-text.js';

export const MESSAGE_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Segment's limits, so an SDK that respects them is never refused. */
export const LIMITS = { messageBytes: 32 * 1024, batchBytes: 500 * 1024, batchItems: 2500 } as const;

const Id = Type.Union([Type.String({ maxLength: 1024 }), Type.Number()], { description: 'string, or a number (kept as its decimal text)' });
const DateText = Type.String({ description: 'ISO-8601 date-time', maxLength: 64 });
const Bag = Type.Record(Type.String(), Type.Unknown());

const common = {
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'de-duplication key; assigned by the server when missing' })),
  userId: Type.Optional(Type.Union([Id, Type.Null()])),
  anonymousId: Type.Optional(Type.Union([Id, Type.Null()])),
  context: Type.Optional(Bag),
  integrations: Type.Optional(Bag),
  timestamp: Type.Optional(DateText),
  originalTimestamp: Type.Optional(DateText),
  sentAt: Type.Optional(DateText),
  writeKey: Type.Optional(Type.String()),
};

/** One Segment message of any type: the JSON schema the collection API documents and checks. */
export const MessageSchema = Type.Object(
  {
    type: Type.Optional(Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t)))),
    ...common,
    event: Type.Optional(Type.String({ maxLength: 1024 })),
    name: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    category: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    groupId: Type.Optional(Id),
    previousId: Type.Optional(Id),
    properties: Type.Optional(Bag),
    traits: Type.Optional(Bag),
  },
  { additionalProperties: true },
);
export type RawMessage = Static<typeof MessageSchema>;

export const BatchSchema = Type.Object(
  {
    batch: Type.Array(MessageSchema, { maxItems: LIMITS.batchItems }),
    context: Type.Optional(Bag),
    integrations: Type.Optional(Bag),
    sentAt: Type.Optional(DateText),
    writeKey: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const checkMessage = TypeCompiler.Compile(MessageSchema);

/** A validated message as the event log keeps it. */
export interface TrackingMessage {
  type: MessageType;
  messageId: string;
  userId?: string;
  anonymousId?: string;
  event?: string;
  name?: string;
  category?: string;
  groupId?: string;
  previousId?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  /** when it happened (ISO) */
  timestamp: string;
  originalTimestamp?: string;
  sentAt?: string;
  /** when the server received it (ISO) */
  receivedAt: string;
}

export type RejectReason =
  | 'invalid_json'
  | 'invalid_body'
  | 'message_too_large'
  | 'batch_too_large'
  | 'batch_too_many'
  | 'invalid_type'
  | 'invalid_field'
  | 'missing_field'
  | 'no_user_anon_id';

export interface MessageIssue {
  reason: RejectReason;
  field: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; message: TrackingMessage; ignoredIds: string[]; repairedText: string[] }
  | { ok: false; issue: MessageIssue };

export interface ValidationContext {
  receivedAt: Date;
  /** from the URL (/v1/track) or the batch item's own `type` */
  type: MessageType | null;
  /** batch-level context and integrations, merged under each item's own */
  defaults?: { context?: Record<string, unknown>; integrations?: Record<string, unknown>; sentAt?: string };
  junk: JunkIdFilter;
  /**
   * Segment's rule is that every message names userId or anonymousId. File
   * imports identify rows by source record ids instead, and check that themselves.
   */
  requireUserOrAnonymousId?: boolean;
}

function fail(reason: RejectReason, field: string, message: string): ValidationResult {
  return { ok: false, issue: { reason, field, message } };
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'string' ? value : undefined;
}

function parseDate(value: string | undefined): Date | null | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function schemaIssue(raw: unknown): MessageIssue | null {
  // Check() is several times cheaper than collecting errors; most messages pass.
  if (checkMessage.Check(raw)) return null;
  const first = checkMessage.Errors(raw).First();
  if (!first) return null;
  const field = first.path.replace(/^\//, '').replace(/\//g, '.') || 'body';
  return { reason: 'invalid_field', field, message: `${field}: ${first.message}` };
}

/**
 * Check one Segment message and bring it to the stored form. Pure: the caller
 * supplies the clock and the junk-id filter.
 */
export function validateMessage(raw: unknown, ctx: ValidationContext): ValidationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('invalid_body', 'body', 'a message must be a JSON object');
  }
  const bytes = Buffer.byteLength(JSON.stringify(raw), 'utf8');
  if (bytes > LIMITS.messageBytes) {
    return fail('message_too_large', 'body', `message is ${bytes} bytes; the limit is ${LIMITS.messageBytes} bytes (32 KB)`);
  }
  const storable = makeStorable(raw as Record<string, unknown>);
  if (storable.repaired.includes('messageId')) {
    // Repairing a de-duplication key would make two messages one: refuse instead.
    return fail('invalid_field', 'messageId', 'messageId contains a NUL character or an unpaired surrogate');
  }
  raw = storable.value;
  const rawType = (raw as { type?: unknown }).type;
  const type = ctx.type ?? (typeof rawType === 'string' ? rawType : undefined);
  if (type === undefined) return fail('missing_field', 'type', `type is required: one of ${MESSAGE_TYPES.join(', ')}`);
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail('invalid_type', 'type', `type ${JSON.stringify(type).slice(0, 40)} is not one of ${MESSAGE_TYPES.join(', ')}`);
  }
  const schemaProblem = schemaIssue(raw);
  if (schemaProblem) return { ok: false, issue: schemaProblem };
  const m = raw as RawMessage;
  const messageType = type as MessageType;

  const userId = idText(m.userId);
  const anonymousId = idText(m.anonymousId);
  if (messageType === 'alias') {
    if (userId === undefined) return fail('missing_field', 'userId', 'alias needs userId (the new id)');
    if (idText(m.previousId) === undefined) return fail('missing_field', 'previousId', 'alias needs previousId (the old id)');
  } else if (userId === undefined && anonymousId === undefined && ctx.requireUserOrAnonymousId !== false) {
    return fail('no_user_anon_id', 'userId', 'every message needs userId or anonymousId');
  }
  if (messageType === 'track' && (m.event === undefined || m.event.trim() === '')) {
    return fail('missing_field', 'event', 'track needs a non-empty event name');
  }
  if (messageType === 'group' && idText(m.groupId) === undefined) return fail('missing_field', 'groupId', 'group needs groupId');

  const timestamp = parseDate(m.timestamp);
  const originalTimestamp = parseDate(m.originalTimestamp);
  const sentAt = parseDate(m.sentAt ?? ctx.defaults?.sentAt);
  const badDate = (field: string) => fail('invalid_field', field, `${field} is not a valid ISO-8601 date-time`);
  if (timestamp === null) return badDate('timestamp');
  if (originalTimestamp === null) return badDate('originalTimestamp');
  if (sentAt === null) return badDate('sentAt');

  const ignoredIds: string[] = [];
  const keep = (field: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    if (ctx.junk.isJunk(value)) {
      ignoredIds.push(field);
      return undefined;
    }
    return value;
  };

  const message: TrackingMessage = {
    type: messageType,
    messageId: m.messageId ?? randomUUID(),
    timestamp: eventTime(ctx.receivedAt, timestamp, originalTimestamp, sentAt).toISOString(),
    receivedAt: ctx.receivedAt.toISOString(),
  };
  const kept = {
    userId: keep('userId', userId),
    anonymousId: keep('anonymousId', anonymousId),
    previousId: keep('previousId', idText(m.previousId)),
  };
  for (const [key, value] of Object.entries(kept)) if (value !== undefined) (message as unknown as Record<string, unknown>)[key] = value;
  if (m.event !== undefined) message.event = m.event;
  if (typeof m.name === 'string') message.name = m.name;
  if (typeof m.category === 'string') message.category = m.category;
  const groupId = idText(m.groupId);
  if (groupId !== undefined) message.groupId = groupId;
  if (m.properties) message.properties = m.properties;
  if (m.traits) message.traits = m.traits;
  const context = m.context || ctx.defaults?.context ? { ...ctx.defaults?.context, ...m.context } : undefined;
  if (context) message.context = context;
  const integrations = m.integrations || ctx.defaults?.integrations ? { ...ctx.defaults?.integrations, ...m.integrations } : undefined;
  if (integrations) message.integrations = integrations;
  if (originalTimestamp) message.originalTimestamp = originalTimestamp.toISOString();
  if (sentAt) message.sentAt = sentAt.toISOString();
  return { ok: true, message, ignoredIds, repairedText: storable.repaired };
}

/** Years 1 to 9999: what an ISO timestamp writes, and well inside PostgreSQL's range. */
const EARLIEST_TIME = Date.parse('0001-01-01T00:00:00Z');
const LATEST_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * A client `timestamp` is kept (historical imports). Otherwise the client's
 * clock skew is removed: receivedAt − (sentAt − originalTimestamp).
 */
export function eventTime(receivedAt: Date, timestamp?: Date, originalTimestamp?: Date, sentAt?: Date): Date {
  if (timestamp) return timestamp;
  if (originalTimestamp && sentAt) {
    const corrected = new Date(receivedAt.getTime() - (sentAt.getTime() - originalTimestamp.getTime()));
    // Two far-apart clocks can push the correction outside any calendar a database stores: the device's own time is then the best there is.
    if (corrected.getTime() >= EARLIEST_TIME && corrected.getTime() <= LATEST_TIME) return corrected;
  }
  return originalTimestamp ?? receivedAt;
}

