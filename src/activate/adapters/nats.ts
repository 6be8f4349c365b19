import { connect, headers as natsHeaders, type ConnectionOptions, type JetStreamClient, type NatsConnection } from 'nats';
import type { DeliveryResult, DestinationAdapter, MembershipEvent, OutgoingMessage } from '../adapter.js';
import type { NatsConfig } from '../destinations.js';

/*
 * NATS destination: segment changes on `<subject>`, messages on
 * `<subject>.messages`, one JSON document each. With JetStream every publish
 * waits for the stream's ack and carries a Nats-Msg-Id (the idempotency key),
 * so a repeat inside the stream's duplicate window is dropped by the server.
 */

/** Connection options from `nats://[user:pass@]host:port` entries separated by commas. */
export function natsConnectionOptions(servers: string): ConnectionOptions {
  let user: string | undefined;
  let pass: string | undefined;
  const list = servers.split(',').map((entry) => {
    const url = new URL(entry.trim());
    if (url.username) {
      user = decodeURIComponent(url.username);
      pass = decodeURIComponent(url.password);
    }
    const host = url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname;
    return `${url.protocol}//${host}:${url.port || '4222'}`;
  });
  return {
    servers: list,
    name: 'custodian-activation',
    ...(user !== undefined ? { user, pass: pass ?? '' } : {}),
    // A send that cannot connect fails now and is retried by its caller, rather than hanging in a reconnect loop.
    timeout: 5_000,
    maxReconnectAttempts: 10,
    reconnectTimeWait: 1_000,
  };
}

const encoder = new TextEncoder();

export function openNatsAdapter(config: NatsConfig): DestinationAdapter {
  let connecting: Promise<{ nc: NatsConnection; js: JetStreamClient | null }> | null = null;
  const messagesSubject = `${config.subject}.messages`;

  // Lazily: a destination opened only to be validated or closed never connects.
  function connection() {
    connecting ??= (async () => {
      const nc = await connect(natsConnectionOptions(config.servers));
      return { nc, js: config.jetstream ? nc.jetstream() : null };
    })().catch((error: unknown) => {
      connecting = null;
      throw error;
    });
    return connecting;
  }

  async function send(subject: string, payloads: ReadonlyArray<{ data: Uint8Array; id: string }>): Promise<Array<string | null>> {
    const { nc, js } = await connection();
    if (js) {
      // Published side by side: acks come back pipelined instead of one round trip per message.
      return Promise.all(payloads.map(async (p) => {
        try {
          await js.publish(subject, p.data, { msgID: p.id });
          return null;
        } catch (error) {
          return (error as Error).message || 'JetStream did not acknowledge';
        }
      }));
    }
    for (const p of payloads) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', p.id);
      nc.publish(subject, p.data, { headers: h });
    }
    // Core NATS has no ack: a flush at least proves the server took every byte.
    await nc.flush();
    return payloads.map(() => null);
  }

  return {
    kind: 'nats',

    async deliver(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<DeliveryResult[]> {
      if (signal?.aborted) return messages.map(() => ({ ok: false, retryable: true, error: 'aborted before sending' }));
      try {
        const errors = await send(messagesSubject, messages.map((m) => ({ data: encoder.encode(JSON.stringify(m)), id: m.idempotencyKey })));
        // NATS has no notion of a permanent refusal of one message: every failure is worth another try.
        return errors.map((error) => (error === null ? { ok: true, retryable: false } : { ok: false, retryable: true, error }));
      } catch (error) {
        return messages.map(() => ({ ok: false, retryable: true, error: `NATS: ${(error as Error).message}` }));
      }
    },

    async publish(events: readonly MembershipEvent[]): Promise<void> {
      if (events.length === 0) return;
      const errors = await send(config.subject, events.map((e) => ({ data: encoder.encode(JSON.stringify(e)), id: `${e.workspaceId}:${e.segmentId}:${e.sequence}` })));
      const failed = errors.filter((e) => e !== null);
      if (failed.length > 0) throw new Error(`NATS: ${failed.length} of ${events.length} events not acknowledged: ${failed[0]}`);
    },

    async close(): Promise<void> {
      const open = connecting;
      connecting = null;
      if (!open) return;
      const { nc } = await open.catch(() => ({ nc: null }));
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}
