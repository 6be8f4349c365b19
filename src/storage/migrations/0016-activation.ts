/**
 * Activation: destinations, coupon pools, campaigns with their outbox and
 * attempts, trigger journeys, and segment syncs (src/activate/).
 */
export const activation: readonly string[] = [
  // kind: webhook | file | nats. config holds what is not secret (url, directory, subject, format, batch size);
  // secret is the webhook signing key, sealed by the keyring.
  `create table destinations (
    workspace_id text not null,
    id text not null,
    name text not null,
    kind text not null,
    config jsonb not null default '{}',
    secret bytea,
    created_by text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, id)
  )`,
  `create unique index destinations_name on destinations (workspace_id, lower(name))`,
  `create table coupon_pools (
    workspace_id text not null,
    id text not null,
    name text not null,
    created_by text,
    created_at timestamptz not null default now(),
    primary key (workspace_id, id)
  )`,
  `create unique index coupon_pools_name on coupon_pools (workspace_id, lower(name))`,
  // A code is free while issued_at is null; a person holds at most one code of a pool, whatever asks for it
  // (a campaign, a form's incentive), so a second claim gives back the first code. Erasure clears profile_id and
  // keeps issued_at: the code was given out and must not be given again.
  `create table coupons (
    workspace_id text not null,
    pool_id text not null,
    code text not null,
    profile_id uuid,
    issued_for text,
    issued_at timestamptz,
    primary key (workspace_id, pool_id, code)
  )`,
  `create unique index coupons_holder on coupons (workspace_id, pool_id, profile_id) where profile_id is not null`,
  `create index coupons_free on coupons (workspace_id, pool_id, code) where issued_at is null`,
  // status: draft | active | paused | done | archived. schedule: {kind: once, at} | {kind: recurring, everyHours, until}
  // | {kind: triggered, trigger, waitMinutes, condition}. next_run_at: when the audience is next taken (once, recurring).
  `create table campaigns (
    workspace_id text not null,
    id text not null,
    name text not null,
    status text not null,
    channel text not null,
    purpose text not null,
    segment_id text,
    destination_id text not null,
    control_percent real not null default 0,
    template jsonb not null,
    coupon_pool_id text,
    schedule jsonb not null,
    frequency_cap jsonb,
    quiet_hours jsonb,
    attribution_days integer not null default 7,
    cost_per_message double precision not null default 0,
    fixed_cost double precision not null default 0,
    currency text not null default 'CNY',
    next_run_at timestamptz,
    last_run_at timestamptz,
    created_by text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, id)
  )`,
  `create unique index campaigns_name on campaigns (workspace_id, lower(name))`,
  // The sender and the report find a person's rows through merges: the profiles merged into each person.
  `create index profiles_merged_into on profiles (workspace_id, merged_into) where merged_into is not null`,
  `create index campaigns_due on campaigns (next_run_at) where status = 'active'`,
  // The outbox: one row per (campaign, person), so a person is queued once per campaign however often the audience
  // is taken. arm: treatment | control. status: pending | sending | sent | failed | skipped | control.
  // A row in sending whose lease has passed belonged to a sender that died: it is sent again, with the same
  // idempotency key, so a receiver that keeps keys drops the repeat.
  `create table campaign_sends (
    workspace_id text not null,
    campaign_id text not null,
    profile_id uuid not null,
    arm text not null,
    status text not null,
    reason text,
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    lease_until timestamptz,
    coupon_code text,
    queued_at timestamptz not null,
    sent_at timestamptz,
    last_error text,
    primary key (workspace_id, campaign_id, profile_id)
  )`,
  `create index campaign_sends_due on campaign_sends (next_attempt_at) where status = 'pending'`,
  `create index campaign_sends_leased on campaign_sends (lease_until) where status = 'sending'`,
  `create index campaign_sends_profile on campaign_sends (workspace_id, profile_id, sent_at)`,
  // Every delivery attempt. outcome: sent | retry | failed | deferred.
  `create table send_attempts (
    workspace_id text not null,
    campaign_id text not null,
    profile_id uuid not null,
    attempt integer not null,
    at timestamptz not null,
    outcome text not null,
    status_code integer,
    error text,
    ms real,
    primary key (workspace_id, campaign_id, profile_id, attempt)
  )`,
  // A triggered campaign's person between the trigger and the send. status: waiting | done.
  `create table journey_entries (
    workspace_id text not null,
    campaign_id text not null,
    profile_id uuid not null,
    triggered_at timestamptz not null,
    wake_at timestamptz not null,
    trigger jsonb not null,
    status text not null,
    primary key (workspace_id, campaign_id, profile_id)
  )`,
  `create index journey_entries_due on journey_entries (wake_at) where status = 'waiting'`,
  // Each step a person takes through a triggered campaign. step: triggered | condition_met | condition_failed | queued | skipped.
  `create table journey_steps (
    workspace_id text not null,
    id bigint generated always as identity,
    campaign_id text not null,
    profile_id uuid not null,
    step text not null,
    at timestamptz not null,
    details jsonb not null default '{}',
    primary key (workspace_id, id)
  )`,
  `create index journey_steps_profile on journey_steps (workspace_id, campaign_id, profile_id)`,
  // Where each segment-enter trigger has read membership_changes up to (ids are in commit order within a workspace:
  // every writer of membership_changes holds the workspace's profile lock).
  `create table trigger_cursors (
    workspace_id text not null,
    campaign_id text not null,
    last_change_id bigint not null,
    primary key (workspace_id, campaign_id)
  )`,
  // mode: realtime (enter/exit changes pushed as they happen, from cursor) | scheduled (the full member list every
  // every_hours). format: ndjson | csv, for scheduled exports; fields: the non-identifier traits exported with each id.
  `create table segment_syncs (
    workspace_id text not null,
    id text not null,
    segment_id text not null,
    destination_id text not null,
    mode text not null,
    format text,
    fields jsonb not null default '[]',
    every_hours real,
    cursor bigint not null default 0,
    enabled boolean not null default true,
    next_run_at timestamptz,
    last_run_at timestamptz,
    last_error text,
    sent integer not null default 0,
    created_by text,
    created_at timestamptz not null default now(),
    primary key (workspace_id, id)
  )`,
];
