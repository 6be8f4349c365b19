/**
 * What a destination adapter is given and answers: the one interface every
 * way out of Custodian (webhook, file, NATS, and any email or SMS provider
 * someone adds) implements. docs/destinations.md describes it for authors.
 */

/** One personalized message, rendered, ready to leave. */
export interface OutgoingMessage {
  /** `<campaignId>:<profileId>`: the same on every attempt, so a receiver can drop repeats */
  idempotencyKey: string;
  workspaceId: string;
  campaignId: string;
  profileId: string;
  channel: Channel;
  /** where it goes: the profile's address for the channel (absent for webhook and ads) */
  to: { email?: string; phone?: string; wechatOpenId?: string };
  subject: string | null;
  body: string;
  /** the template's WeChat template id and its filled data, for wechat */
  wechat?: { templateId: string; data: Record<string, string> };
  /** SHA-256 of the normalized e-mail and phone, for ad audiences (the form Google and Meta customer match take) */
  hashed?: { email?: string; phone?: string };
  coupon: string | null;
  /** 1 on the first try */
  attempt: number;
}

export interface DeliveryResult {
  ok: boolean;
  /** a failure worth retrying (timeouts, 429, 5xx); false for ones that will not get better (4xx) */
  retryable: boolean;
  statusCode?: number;
  error?: string;
}

/** A segment entry or exit, as segment syncs push it. */
export interface MembershipEvent {
  type: 'segment.entered' | 'segment.exited';
  workspaceId: string;
  segmentId: string;
  segmentName: string;
  profileId: string;
  at: string;
  /** membership_changes id: increasing within a workspace */
  sequence: string;
}

/**
 * A destination, opened. `deliver` answers one result per message, in order,
 * and never throws for a message's own failure (only for a broken adapter).
 */
export interface DestinationAdapter {
  readonly kind: DestinationKind;
  deliver(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<DeliveryResult[]>;
  /** push segment entries and exits (realtime syncs); all or nothing */
  publish(events: readonly MembershipEvent[], signal?: AbortSignal): Promise<void>;
  /** write a full member export (scheduled syncs): rows of one segment, as the format says */
  exportMembers?(name: string, format: 'ndjson' | 'csv', rows: AsyncIterable<Record<string, unknown>>, signal?: AbortSignal): Promise<{ location: string; rows: number }>;
  close(): Promise<void>;
}

export const CHANNELS = ['email', 'sms', 'wechat', 'webhook', 'ads'] as const;
export type Channel = (typeof CHANNELS)[number];

export const DESTINATION_KINDS = ['webhook', 'file', 'nats'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];
