import type { ColumnType, Generated } from 'kysely';

/** Timestamps are written as Date and read back as Date on both drivers. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;
/** A timestamp the database fills in when the insert leaves it out. */
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** Installation-wide facts, such as the master key's check value. */
export interface MetaTable {
  key: string;
  value: string;
}

export interface WorkspaceTable {
  id: string;
  name: string;
  settings: Json<Record<string, unknown>>;
  created_at: Generated<Timestamp>;
}

export interface SourceTable {
  workspace_id: string;
  id: string;
  name: string;
  /** sha-256 of the write key: the key itself is shown once and never stored. Null: a source fed only by imports. */
  write_key_hash: Uint8Array | null;
  /** cleaning settings (clean/settings.ts SourceCleaning): default countries, date order */
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Timestamp>;
}

export interface ApiTokenTable {
  workspace_id: string;
  id: string;
  name: string;
  token_hash: Uint8Array;
  /** permissions narrowing the role (privacy/access.ts); empty: all of the role's */
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  /** a built-in role (admin, analyst, marketer, support, auditor) or a custom one in roles */
  role: ColumnType<string, string | undefined, string>;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_by: ColumnType<string | null, string | null | undefined, string | null>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: DefaultedTimestamp;
}

/** A staff account: signs in to the dashboard with a password (argon2id). */
export interface UserTable {
  workspace_id: string;
  id: string;
  /** the sign-in name, lower-cased */
  email: string;
  name: Generated<string>;
  password_hash: string;
  role: string;
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined, 'active' | 'disabled'>;
  failed_logins: Generated<number>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_login_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

/** A signed-in dashboard session, by the sha-256 of its cookie value. */
export interface SessionTable {
  token_hash: Uint8Array;
  workspace_id: string;
  user_id: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  last_seen_at: DefaultedTimestamp;
}

/** A custom role: permissions, the field classes it sees unmasked, and optionally the profiles it may see. */
export interface RoleTable {
  workspace_id: string;
  name: string;
  description: Generated<string>;
  permissions: string[];
  unmasked: ColumnType<string[], string[] | undefined, string[]>;
  scope: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

/** Durable inbox: a message is here, committed, before the API answers 2xx. */
export interface EventLogTable {
  workspace_id: string;
  seq: Generated<string>;
  message_id: string;
  source_id: string;
  type: string;
  /** The whole message, AES-256-GCM encrypted: it carries identifiers. */
  payload: Uint8Array;
  received_at: Timestamp;
  processed_at: Timestamp | null;
  /** set when the message could not be processed and was set aside (dead letter) */
  error: string | null;
}

export interface ProfileTable {
  workspace_id: string;
  id: string;
  /** quasi and behavioral traits, plaintext for segmentation */
  traits: Json<Record<string, unknown>>;
  /** identifier-class traits, encrypted JSON object */
  secret_traits: Uint8Array | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_seen_at: Timestamp | null;
  merged_into: string | null;
  /** trait keys cleaning filled from evidence rather than a source giving them */
  derived_traits: ColumnType<string[], string[] | undefined, string[]>;
  /** where each trait came from: see identity/survivorship.ts */
  provenance: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface IdentityTable {
  workspace_id: string;
  type: string;
  /** HMAC blind index of the standardized value: equality look-up without the plaintext */
  value_index: Uint8Array;
  value_enc: Uint8Array;
  profile_id: string;
  source_id: string;
  first_seen_at: Timestamp;
}

export interface EventTable {
  workspace_id: string;
  message_id: string;
  profile_id: string | null;
  source_id: string;
  type: string;
  event: string | null;
  timestamp: Timestamp;
  received_at: Timestamp;
  /** behavioral properties, plaintext */
  properties: Json<Record<string, unknown>>;
  /** identifiers, identifier-class properties and context, encrypted */
  secret: Uint8Array;
}

export interface ProfileMergeTable {
  workspace_id: string;
  id: Generated<string>;
  from_profile: string;
  into_profile: string;
  reason: string;
  message_id: string | null;
  created_at: Timestamp;
  /** blind indexes of the identities the merge moved, to undo it */
  moved_identities: ColumnType<Uint8Array[], Uint8Array[] | undefined, Uint8Array[]>;
  score: number | null;
  detail: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  actor: string | null;
  undone_at: Timestamp | null;
}

export interface IdentityConflictTable {
  workspace_id: string;
  id: Generated<string>;
  message_id: string;
  type: string;
  value_index: Uint8Array;
  reason: string;
  limit_type: string | null;
  profiles: string[];
  created_at: Timestamp;
}

export interface IdentityModelTable {
  workspace_id: string;
  /** encrypted JSON of the fitted MatchModel */
  model: Uint8Array;
  records: number;
  fitted_at: Timestamp;
}

export interface IdentityRunTable {
  workspace_id: string;
  id: Generated<string>;
  status: string;
  full_run: boolean;
  stage: string | null;
  done: ColumnType<string, number | undefined, number>;
  total: ColumnType<string, number | undefined, number>;
  counts: Json<Record<string, number>>;
  error: string | null;
  started_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface IdentityReviewTable {
  workspace_id: string;
  id: Generated<string>;
  profile_a: string;
  profile_b: string;
  probability: number;
  weight: number;
  status: string;
  created_at: Timestamp;
  decided_at: Timestamp | null;
  decided_by: string | null;
}

export interface IdentityExclusionTable {
  workspace_id: string;
  profile_a: string;
  profile_b: string;
  reason: string;
  created_at: Timestamp;
}

export interface ImportTable {
  workspace_id: string;
  id: string;
  source_id: string;
  kind: string;
  format: string;
  filename: string | null;
  encoding: string | null;
  /** running → completed | failed; running with no live process: interrupted (re-run it: imports are idempotent) */
  status: string;
  rows: Generated<number>;
  imported: Generated<number>;
  duplicates: Generated<number>;
  rejected: Generated<number>;
  warnings: Json<string[]>;
  error: string | null;
  started_at: Timestamp;
  finished_at: Timestamp | null;
}

/** A refused row: where and why, never the row's values (they may be personal data). */
export interface ImportRejectTable {
  workspace_id: string;
  import_id: string;
  line: number;
  column_name: string;
  reason: string;
}

/** Per source: how a webhook body becomes messages (see collect/webhook-mapping.ts), and its webhook secret. */
export interface WebhookMappingTable {
  workspace_id: string;
  source_id: string;
  /** the mapping document as the user wrote it */
  mapping: Json<Record<string, unknown>>;
  /** sha-256 of the webhook secret, for `?token=` look-ups */
  secret_hash: Uint8Array | null;
  /** the secret itself, encrypted: HMAC signatures need it */
  secret_enc: Uint8Array | null;
  /** has a default (now()); selected as a Date */
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: Timestamp;
}

/** Per source: the events and properties it may send (collect/tracking-plan.ts). */
export interface TrackingPlanTable {
  workspace_id: string;
  source_id: string;
  /** the plan as validated by TrackingPlanSchema */
  plan: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

/** How often a source broke its plan, by event, property and kind: names and counts, never values. */
export interface TrackingPlanViolationTable {
  workspace_id: string;
  source_id: string;
  event: string;
  /** '' for an undeclared event */
  property: string;
  kind: string;
  /** bigint: text when read */
  count: ColumnType<string, number, number>;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  example_message_id: string;
}

/** What cleaning did to one message: field names and codes in the clear, originals and values sealed. */
export interface FieldLineageTable {
  workspace_id: string;
  message_id: string;
  profile_id: string | null;
  source_id: string;
  fields: string[];
  /** rule, issue and flag ids (`phone.e164`, `email.invalid`, `derived:birthday`) */
  codes: string[];
  /** encrypted JSON: LineageEntry[] */
  detail: Uint8Array;
  at: Timestamp;
}

/** The latest value a source gave a profile for each standard field, as blind indexes. */
export interface FieldObservationTable {
  workspace_id: string;
  profile_id: string;
  source_id: string;
  /** field → [hex blind index of the standardized value or null when refused, Unix seconds seen] */
  fields: Json<Record<string, [string | null, number]>>;
  seen_at: Timestamp;
}

type Counter = ColumnType<string, number, number>;

export interface QualityDailyTable {
  workspace_id: string;
  source_id: string;
  field: string;
  /** YYYY-MM-DD (UTC) */
  day: ColumnType<string, string, string>;
  seen: Counter;
  invalid: Counter;
  changed: Counter;
}

export interface QualityIssueTable {
  workspace_id: string;
  source_id: string;
  field: string;
  code: string;
  /** error: the value was refused; warning: kept, but worth a look */
  severity: string;
  count: Counter;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  /** encrypted JSON array of up to five example values */
  examples: Uint8Array | null;
}

export interface QualityAlertTable {
  workspace_id: string;
  id: string;
  source_id: string;
  field: string;
  kind: string;
  day: ColumnType<string, string, string>;
  value: number;
  median: number;
  mad: number;
  score: number;
  direction: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A saved segment: its rule (segments/rule.ts) and its last full refresh. */
export interface SegmentTable {
  workspace_id: string;
  id: string;
  name: string;
  description: string | null;
  rule: Json<unknown>;
  /** segments and tags (by id) the rule reads, refreshed before it */
  depends_on: ColumnType<string[], string[] | undefined, string[]>;
  /** members can leave with time alone, so a scheduled refresh is needed */
  time_relative: boolean;
  size: ColumnType<number, number | undefined, number>;
  refreshed_at: Timestamp | null;
  refresh_ms: number | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SegmentMemberTable {
  workspace_id: string;
  segment_id: string;
  profile_id: string;
  entered_at: Timestamp;
}

/** Every entry into and exit from a segment or a tag, in order: what activation triggers read. */
export interface MembershipChangeTable {
  workspace_id: string;
  id: Generated<string>;
  kind: string;
  set_id: string;
  profile_id: string;
  change: string;
  value: string | null;
  /** event (the pipeline), refresh (scheduled or on demand), manual, merge */
  cause: string;
  at: Timestamp;
}

export interface TagTable {
  workspace_id: string;
  id: string;
  name: string;
  kind: string;
  definition: ColumnType<unknown, string | null, string | null>;
  depends_on: ColumnType<string[], string[] | undefined, string[]>;
  time_relative: boolean;
  refreshed_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProfileTagTable {
  workspace_id: string;
  tag_id: string;
  profile_id: string;
  /** '' for a tag without values */
  value: string;
  added_at: Timestamp;
  added_by: string | null;
}

/** What a consent is asked for (docs/consent.md); the consent tables' checks hold the same list. */
export const CONSENT_PURPOSES = ['email_marketing', 'sms_marketing', 'personalization', 'analytics', 'third_party_sharing'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
/** The GDPR Art. 6 bases a processing may rest on. */
export const LEGAL_BASES = ['consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** The consent ledger: append-only; a merge moves a row to the surviving profile, nothing else changes it. */
export interface ConsentEventTable {
  workspace_id: string;
  id: string;
  profile_id: string;
  purpose: ConsentPurpose;
  granted: boolean;
  legal_basis: LegalBasis;
  /** a source id (ingest), api, unsubscribe_link, preference_centre */
  source: string;
  /** the version of the text the person was shown */
  text_version: string | null;
  /** when the person gave or withdrew it */
  at: Timestamp;
  recorded_at: Timestamp;
  message_id: string | null;
  details: Json<Record<string, unknown>>;
}

/** The current consent per profile and purpose: the ledger's latest entry by `at`. */
export interface ProfileConsentTable {
  workspace_id: string;
  profile_id: string;
  purpose: ConsentPurpose;
  granted: boolean;
  legal_basis: LegalBasis;
  source: string;
  text_version: string | null;
  at: Timestamp;
  event_id: string;
  updated_at: Timestamp;
}

export interface ProfileScoreTable {
  workspace_id: string;
  profile_id: string;
  name: string;
  value: number | null;
  label: string | null;
  computed_at: Timestamp;
}

export interface AnalyticsRunTable {
  workspace_id: string;
  id: string;
  /** rfm | clusters | tree | clv | model | recommender | feedback | report */
  kind: string;
  status: string;
  params: Json<Record<string, unknown>>;
  progress: ColumnType<Record<string, unknown>, string | undefined, string>;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  started_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface RetentionPolicyTable {
  workspace_id: string;
  id: string;
  /** event | trait */
  kind: string;
  /** the event name ('*' for every event) or the trait key */
  name: string;
  days: number;
  /** delete | anonymize */
  action: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RetentionRunTable {
  workspace_id: string;
  id: string;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  status: string;
  results: ColumnType<unknown, string | undefined, string>;
  error: string | null;
}

export interface FieldGovernanceTable {
  workspace_id: string;
  field: string;
  owner: string | null;
  purpose: string | null;
  quality_rule: string | null;
  updated_at: Timestamp;
}

export interface AnalyticsModelTable {
  workspace_id: string;
  id: string;
  /** also the name of the score it writes on each profile */
  name: string;
  /** classifier | recommender */
  kind: string;
  definition: Json<Record<string, unknown>>;
  /** new | training | ready | failed */
  status: string;
  artefact: ColumnType<unknown, string | null | undefined, string | null>;
  report: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  created_at: Timestamp;
  trained_at: Timestamp | null;
  scored_at: Timestamp | null;
}

/** One entry of a workspace's hash chain (privacy/audit-log.ts): ids and field names only, never personal data. */
export interface AuditLogTable {
  workspace_id: string;
  /** bigint: text when read */
  seq: ColumnType<string, number, number>;
  at: Timestamp;
  actor: string;
  action: string;
  profile_id: string | null;
  target: string | null;
  details: Json<Record<string, unknown>>;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

/** The last entry of each chain, so a deleted tail shows. */
export interface AuditHeadTable {
  workspace_id: string;
  seq: ColumnType<string, number, number>;
  hash: Uint8Array;
  updated_at: Timestamp;
}

/** A data-subject request (privacy/dsar.ts): the person by identifier type and blind index only, never the value. */
export interface DsarRequestTable {
  workspace_id: string;
  id: string;
  /** access | erase | rectify | restrict */
  type: string;
  /** received | in_progress | done | rejected */
  status: string;
  identifier_type: string;
  identifier_index: Uint8Array;
  profile_ids: ColumnType<string[], string[] | undefined, string[]>;
  received_at: Timestamp;
  /** received_at + 30 days (GDPR Art. 12(3)) */
  due_at: Timestamp;
  completed_at: Timestamp | null;
  /** how the requester was verified: method, by, at, note */
  verification: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** counts per table or section, archive size */
  result: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  error: string | null;
  created_by: string | null;
  /** done, and its audit entry not yet appended (privacy/dsar.ts appendPendingAudits) */
  audit_pending: ColumnType<boolean, boolean | undefined, boolean>;
}

/** An erased person's identifier, as its blind index: messages naming it are dropped at ingest. */
export interface SuppressionTable {
  workspace_id: string;
  type: string;
  value_index: Uint8Array;
  created_at: Timestamp;
  request_id: string | null;
  /** messages dropped because of this entry; bigint: text when read */
  hits: ColumnType<string, number | undefined, number>;
  last_hit_at: Timestamp | null;
}

/** A profile whose processing is restricted (GDPR Art. 18) by a DSAR. */
export interface RestrictedProfileTable {
  workspace_id: string;
  profile_id: string;
  request_id: string;
  created_at: Timestamp;
}

/** A data key, wrapped by the master key or a KMS (privacy/data-keys.ts). */
export interface DataKeyTable {
  /** in the header of every ciphertext it seals; 0 is the pre-envelope key of version-1 ciphertexts */
  key_id: number;
  /** null: the database's own (the blind-index key, and the data key of workspaces without one yet) */
  workspace_id: string | null;
  purpose: 'data' | 'index';
  /** null once destroyed */
  wrapped: Uint8Array | null;
  /** the KeyProvider keyId that wrapped it */
  wrapped_by: string;
  created_at: DefaultedTimestamp;
  /** from when it seals its workspace's new data */
  active_from: Timestamp;
  /** from when a successor seals instead; its rows are re-encrypted in the background */
  retired_at: Timestamp | null;
  destroyed_at: Timestamp | null;
}

/** How often a profile's consent links were revoked: a link signed at an older generation no longer works. */
export interface ConsentLinkGenerationTable {
  workspace_id: string;
  profile_id: string;
  generation: number;
  revoked_at: Timestamp;
}

/** Where activation sends: a webhook, a directory of files, a NATS subject (activate/destinations.ts). */
export interface DestinationTable {
  workspace_id: string;
  id: string;
  name: string;
  kind: string;
  config: Json<Record<string, unknown>>;
  /** the webhook signing secret, sealed */
  secret: Uint8Array | null;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface CouponPoolTable {
  workspace_id: string;
  id: string;
  name: string;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface CouponTable {
  workspace_id: string;
  pool_id: string;
  code: string;
  /** who holds it; null while free, and after the holder's erasure */
  profile_id: string | null;
  /** what claimed it: `campaign:<id>`, `form:<id>` */
  issued_for: string | null;
  /** null while the code is free */
  issued_at: Timestamp | null;
}

export interface CampaignTable {
  workspace_id: string;
  id: string;
  name: string;
  status: string;
  channel: string;
  purpose: string;
  segment_id: ColumnType<string | null, string | null | undefined, string | null>;
  destination_id: string;
  control_percent: ColumnType<number, number | undefined, number>;
  template: Json<Record<string, unknown>>;
  coupon_pool_id: ColumnType<string | null, string | null | undefined, string | null>;
  schedule: Json<Record<string, unknown>>;
  frequency_cap: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  quiet_hours: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  attribution_days: ColumnType<number, number | undefined, number>;
  cost_per_message: ColumnType<number, number | undefined, number>;
  fixed_cost: ColumnType<number, number | undefined, number>;
  currency: ColumnType<string, string | undefined, string>;
  next_run_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_run_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_by: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

/** The outbox: one row per campaign and person (activate/outbox.ts). */
export interface CampaignSendTable {
  workspace_id: string;
  campaign_id: string;
  profile_id: string;
  arm: 'treatment' | 'control';
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'skipped' | 'control';
  reason: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  lease_until: Timestamp | null;
  coupon_code: string | null;
  queued_at: Timestamp;
  sent_at: Timestamp | null;
  last_error: string | null;
}

export interface SendAttemptTable {
  workspace_id: string;
  campaign_id: string;
  profile_id: string;
  attempt: number;
  at: Timestamp;
  outcome: 'sent' | 'retry' | 'failed' | 'deferred';
  status_code: number | null;
  error: string | null;
  ms: number | null;
}

export interface JourneyEntryTable {
  workspace_id: string;
  campaign_id: string;
  profile_id: string;
  triggered_at: Timestamp;
  wake_at: Timestamp;
  trigger: Json<Record<string, unknown>>;
  status: 'waiting' | 'done';
}

export interface JourneyStepTable {
  workspace_id: string;
  id: Generated<string>;
  campaign_id: string;
  profile_id: string;
  step: 'triggered' | 'condition_met' | 'condition_failed' | 'queued' | 'skipped';
  at: Timestamp;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface TriggerCursorTable {
  workspace_id: string;
  campaign_id: string;
  /** bigint: text when read */
  last_change_id: ColumnType<string, string | number, string | number>;
}

export interface SegmentSyncTable {
  workspace_id: string;
  id: string;
  segment_id: string;
  destination_id: string;
  mode: 'realtime' | 'scheduled';
  format: 'ndjson' | 'csv' | null;
  /** trait keys exported with each member (scheduled syncs); never identifiers */
  fields: ColumnType<string[], string | undefined, string>;
  every_hours: number | null;
  /** the last membership_changes id pushed; bigint: text when read */
  cursor: ColumnType<string, string | number | undefined, string | number>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  next_run_at: Timestamp | null;
  last_run_at: Timestamp | null;
  last_error: string | null;
  sent: ColumnType<number, number | undefined, number>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface Schema {
  custodian_meta: MetaTable;
  workspaces: WorkspaceTable;
  sources: SourceTable;
  api_tokens: ApiTokenTable;
  users: UserTable;
  sessions: SessionTable;
  roles: RoleTable;
  event_log: EventLogTable;
  profiles: ProfileTable;
  identities: IdentityTable;
  events: EventTable;
  profile_merges: ProfileMergeTable;
  imports: ImportTable;
  import_rejects: ImportRejectTable;
  webhook_mappings: WebhookMappingTable;
  tracking_plans: TrackingPlanTable;
  tracking_plan_violations: TrackingPlanViolationTable;
  field_lineage: FieldLineageTable;
  field_observations: FieldObservationTable;
  quality_daily: QualityDailyTable;
  quality_issues: QualityIssueTable;
  quality_alerts: QualityAlertTable;
  identity_conflicts: IdentityConflictTable;
  identity_models: IdentityModelTable;
  identity_runs: IdentityRunTable;
  identity_reviews: IdentityReviewTable;
  identity_exclusions: IdentityExclusionTable;
  segments: SegmentTable;
  segment_members: SegmentMemberTable;
  membership_changes: MembershipChangeTable;
  tags: TagTable;
  profile_tags: ProfileTagTable;
  profile_scores: ProfileScoreTable;
  consent_events: ConsentEventTable;
  profile_consents: ProfileConsentTable;
  analytics_runs: AnalyticsRunTable;
  analytics_models: AnalyticsModelTable;
  audit_log: AuditLogTable;
  audit_heads: AuditHeadTable;
  retention_policies: RetentionPolicyTable;
  retention_runs: RetentionRunTable;
  field_governance: FieldGovernanceTable;
  dsar_requests: DsarRequestTable;
  suppressions: SuppressionTable;
  restricted_profiles: RestrictedProfileTable;
  consent_link_generations: ConsentLinkGenerationTable;
  data_keys: DataKeyTable;
  destinations: DestinationTable;
  coupon_pools: CouponPoolTable;
  coupons: CouponTable;
  campaigns: CampaignTable;
  campaign_sends: CampaignSendTable;
  send_attempts: SendAttemptTable;
  journey_entries: JourneyEntryTable;
  journey_steps: JourneyStepTable;
  trigger_cursors: TriggerCursorTable;
  segment_syncs: SegmentSyncTable;
}
