import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { maskFreeText } from '../../privacy/mask.js';
import type { DeliveryResult, DestinationAdapter, MembershipEvent, OutgoingMessage } from '../adapter.js';
import type { WebhookConfig } from '../destinations.js';

/*
 * Webhook destination: messages and segment changes POSTed as JSON, signed
 * Stripe-style so a receiver can tell they come from us and are fresh:
 *   x-custodian-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 */

export const SIGNATURE_HEADER = 'x-custodian-signature';
export const ATTEMPT_HEADER = 'x-custodian-attempt';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The headers the adapter sets itself; a destination's own headers may not replace them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'content-type', 'content-length', 'user-agent', 'host', 'connection', 'transfer-encoding', 'keep-alive', 'expect', 'te', 'upgrade',
  IDEMPOTENCY_HEADER, ATTEMPT_HEADER, SIGNATURE_HEADER,
]);

/** The signature header for a body sent at `nowMs`. */
export function signatureHeader(secret: string, rawBody: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex')}`;
}

/**
 * Whether `header` is a valid signature of `rawBody` (the bytes as received,
 * before any JSON parsing) made within `toleranceSeconds` of `nowMs`. Several
 * v1 values are accepted, so a sender may sign with an old and a new secret
 * while a rotation settles.
 */
export function verifySignature(secret: string, header: string | undefined | null, rawBody: string | Uint8Array, toleranceSeconds = 300, nowMs = Date.now()): boolean {
  if (!header) return false;
  let t: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (t === null || candidates.length === 0) return false;
  // Both directions: a receiver's clock may be ahead of ours or behind it.
  if (Math.abs(nowMs / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
}

/** What a status answers for each message: 2xx sent; 408, 429 and 5xx worth another try; the rest will not get better. */
export function classifyStatus(statusCode: number): DeliveryResult {
  if (statusCode >= 200 && statusCode < 300) return { ok: true, retryable: false, statusCode };
  const retryable = statusCode === 408 || statusCode === 429 || statusCode >= 500;
  const hint = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed: give the final URL)' : '';
  return { ok: false, retryable, statusCode, error: `the receiver answered ${statusCode}${hint}` };
}

/** A batch's idempotency key: the same for the same messages whatever their order. */
export function batchIdempotencyKey(keys: readonly string[]): string {
  const hash = createHash('sha256');
  for (const key of [...keys].sort()) hash.update(key).update('\n');
  return hash.digest('hex');
}

interface Answer {
  statusCode: number | null;
  /** the start of a failed answer's body, for last_error */
  excerpt: string;
  error: string | null;
}

const EXCERPT_BYTES = 300;

export interface WebhookAdapterOptions {
  /** for tests: the clock signatures use */
  now?: () => number;
}

/**
 * Open a webhook destination. One keep-alive agent per adapter, with as many
 * sockets as the destination's concurrency, so a campaign run reuses
 * connections instead of paying a handshake per message.
 */
export function openWebhookAdapter(config: WebhookConfig, secret: string, options: WebhookAdapterOptions = {}): DestinationAdapter {
  const url = new URL(config.url);
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: config.concurrency, maxFreeSockets: config.concurrency })
    : new http.Agent({ keepAlive: true, maxSockets: config.concurrency, maxFreeSockets: config.concurrency });
  const now = options.now ?? Date.now;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port) || (secure ? 443 : 80);
  const target = `${url.pathname}${url.search}`;
  const baseHeaders: Record<string, string> = { ...config.headers, 'content-type': 'application/json', 'user-agent': 'Custodian' };

  function post(body: string, idempotencyKey: string, attempt: number, signal: AbortSignal | undefined): Promise<Answer> {
    return new Promise<Answer>((resolve) => {
      if (signal?.aborted) return resolve({ statusCode: null, excerpt: '', error: 'aborted before sending' });
      let settled = false;
      const finish = (answer: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      const request = transport.request({
        hostname,
        port,
        path: target,
        method: 'POST',
        agent,
        headers: {
          ...baseHeaders,
          'content-length': Buffer.byteLength(body),
          [IDEMPOTENCY_HEADER]: idempotencyKey,
          [ATTEMPT_HEADER]: String(attempt),
          [SIGNATURE_HEADER]: signatureHeader(secret, body, now()),
        },
      }, (response) => {
        const statusCode = response.statusCode ?? 0;
        if (statusCode >= 200 && statusCode < 300) {
          // The body is not read, but must be drained for the socket to go back to the pool.
          response.resume();
          response.on('end', () => finish({ statusCode, excerpt: '', error: null }));
        } else {
          let excerpt = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            if (excerpt.length < EXCERPT_BYTES) excerpt += chunk.slice(0, EXCERPT_BYTES - excerpt.length);
          });
          response.on('end', () => finish({ statusCode, excerpt, error: null }));
        }
        response.on('error', (error) => finish({ statusCode, excerpt: '', error: error.message }));
      });
      // The whole exchange, not idle time between bytes: a receiver trickling its answer must not hold a sender.
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${config.timeoutMs} ms`)), config.timeoutMs);
      const onAbort = () => request.destroy(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error: NodeJS.ErrnoException) => finish({ statusCode: null, excerpt: '', error: error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message }));
      request.end(body);
    });
  }

  function resultOf(answer: Answer): DeliveryResult {
    if (answer.statusCode === null || answer.error !== null) {
      return { ok: false, retryable: true, ...(answer.statusCode !== null ? { statusCode: answer.statusCode } : {}), error: answer.error ?? 'no answer' };
    }
    const result = classifyStatus(answer.statusCode);
    // The excerpt is kept with the attempt and shown to campaign readers: a receiver echoing the request back would
    // put addresses there, so identifiers in it are masked.
    if (!result.ok && answer.excerpt) result.error = `${result.error}: ${maskFreeText(answer.excerpt.replace(/\s+/g, ' ').trim(), { unmasked: [] })}`;
    return result;
  }

  return {
    kind: 'webhook',

    async deliver(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<DeliveryResult[]> {
      const results = new Array<DeliveryResult>(messages.length);
      const size = config.batchSize;
      const chunks = Math.ceil(messages.length / size);
      let next = 0;
      // Each lane takes the next chunk when its request is done: at most `concurrency` requests in flight.
      const lane = async () => {
        for (let c = next++; c < chunks; c = next++) {
          const start = c * size;
          const end = Math.min(start + size, messages.length);
          let answer: Answer;
          if (size === 1) {
            const m = messages[start]!;
            answer = await post(JSON.stringify(m), m.idempotencyKey, m.attempt, signal);
          } else {
            const slice = messages.slice(start, end);
            const attempt = slice.reduce((max, m) => Math.max(max, m.attempt), 1);
            answer = await post(JSON.stringify({ messages: slice }), batchIdempotencyKey(slice.map((m) => m.idempotencyKey)), attempt, signal);
          }
          const result = resultOf(answer);
          for (let i = start; i < end; i += 1) results[i] = i === start ? result : { ...result };
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, chunks) }, lane));
      return results;
    },

    async publish(events: readonly MembershipEvent[], signal?: AbortSignal): Promise<void> {
      if (events.length === 0) return;
      const key = batchIdempotencyKey(events.map((e) => `${e.workspaceId}:${e.segmentId}:${e.sequence}`));
      const result = resultOf(await post(JSON.stringify({ events }), key, 1, signal));
      if (!result.ok) throw new Error(`webhook ${url.host}: ${result.error ?? 'failed'}`);
    },

    async close(): Promise<void> {
      agent.destroy();
    },
  };
}
