import type { ConsentPurpose } from '../privacy/consent.js';
import type { Rule } from '../segments/rule.js';
import type { Channel } from './adapter.js';

/**
 * A campaign: who (a segment, minus a random control group), how (a channel
 * through a destination), what (a template), when (once, recurring, or on a
 * trigger), and the limits on contacting people (frequency caps, quiet hours).
 */
export interface Campaign {
  id: string;
  workspaceId: string;
  name: string;
  status: CampaignStatus;
  channel: Channel;
  /** the consent purpose a person must have granted to be sent this */
  purpose: ConsentPurpose;
  /** the audience; a triggered campaign may have none (everyone the trigger fires for) */
  segmentId: string | null;
  destinationId: string;
  /** 0–50: this share of the audience is held out (sent nothing) to measure uplift */
  controlPercent: number;
  template: MessageTemplate;
  couponPoolId: string | null;
  schedule: Schedule;
  frequencyCap: FrequencyCap | null;
  quietHours: QuietHours | null;
  attributionDays: number;
  costPerMessage: number;
  fixedCost: number;
  currency: string;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'done', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/**
 * Text with `{{ … }}` placeholders (activate/template.ts): `{{traits.first_name | 朋友}}`,
 * `{{coupon}}`, `{{recommendations}}`, `{{unsubscribe_url}}`.
 */
export interface MessageTemplate {
  subject?: string;
  body: string;
  /** wechat: the template id registered with WeChat, and its data fields as templates */
  wechatTemplateId?: string;
  wechatData?: Record<string, string>;
  /** how many recommended products `{{recommendations}}` lists (default 3) */
  recommendations?: number;
}

export type Schedule =
  | { kind: 'once'; at?: string }
  | { kind: 'recurring'; everyHours: number; until?: string }
  | { kind: 'triggered'; trigger: Trigger; waitMinutes: number; condition?: TriggerCondition };

/** What starts a person's journey through a triggered campaign. */
export type Trigger =
  | { on: 'segment_entered'; segmentId: string }
  | { on: 'event'; event: string; where?: PropertyCondition[] };

export interface PropertyCondition {
  property: string;
  op: 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists' | 'contains';
  value?: string | number | boolean;
}

/** Checked when the wait is over; the person is sent the message only if it holds. */
export interface TriggerCondition {
  /** the profile matches this segment rule now */
  rule?: Rule;
  /** the profile has not performed this event since the trigger (e.g. no `Order Completed` after `Cart Abandoned`) */
  notPerformed?: string;
}

/** At most `max` messages per person within `days`, counting every campaign's sends. */
export interface FrequencyCap {
  max: number;
  days: number;
}

/** No sending between start and end (HH:MM, local time of the person, else of `timezone`). */
export interface QuietHours {
  start: string;
  end: string;
  /** IANA zone used when the profile has no `timezone` trait */
  timezone: string;
}

/** The purpose each channel needs granted; webhook and wechat campaigns may name another. */
export const CHANNEL_PURPOSE: Readonly<Record<Channel, ConsentPurpose>> = {
  email: 'email_marketing',
  sms: 'sms_marketing',
  wechat: 'personalization',
  webhook: 'personalization',
  ads: 'third_party_sharing',
};

/** Why a queued person was not sent the message: counted per campaign in its report. */
export const SKIP_REASONS = ['no_consent', 'consent_withdrawn', 'restricted', 'erased', 'frequency_cap', 'no_address', 'merged', 'coupons_exhausted', 'campaign_stopped'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
