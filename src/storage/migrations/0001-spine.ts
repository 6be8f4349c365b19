/** The spine: workspaces, sources, tokens, the event log, profiles, identities, events, merges. */
export const spine: readonly string[] = [
  `create table custodian_meta (
    key text primary key,
    value text not null
  )`,
  `create table workspaces (
    id text primary key,
    name text not null,
    settings jsonb not null default '{}',
    created_at timestamptz not null default now()
  )`,
  `create table sources (
    workspace_id text not null references workspaces(id),
    id text not null,
    name text not null,
    write_key_hash bytea unique,
    created_at timestamptz not null default now(),
    primary key (workspace_id, id)
  )`,
  `create table api_tokens (
    workspace_id text not null references workspaces(id),
    id text not null,
    name text not null,
    token_hash bytea not null unique,
    scopes text[] not null,
    created_at timestamptz not null default now(),
    primary key (workspace_id, id)
  )`,
  `create table event_log (
    workspace_id text not null,
    seq bigint generated always as identity,
    message_id text not null,
    source_id text not null,
    type text not null,
    payload bytea not null,
    received_at timestamptz not null,
    processed_at timestamptz,
    error text,
    primary key (workspace_id, message_id)
  )`,
  `create index event_log_pending on event_log (seq) where processed_at is null`,
  `create table profiles (
    workspace_id text not null,
    id uuid not null,
    traits jsonb not null default '{}',
    secret_traits bytea,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    last_seen_at timestamptz,
    merged_into uuid,
    primary key (workspace_id, id)
  )`,
  `create table identities (
    workspace_id text not null,
    type text not null,
    value_index bytea not null,
    value_enc bytea not null,
    profile_id uuid not null,
    source_id text not null,
    first_seen_at timestamptz not null,
    primary key (workspace_id, value_index)
  )`,
  `create index identities_profile on identities (workspace_id, profile_id)`,
  `create table events (
    workspace_id text not null,
    message_id text not null,
    profile_id uuid,
    source_id text not null,
    type text not null,
    event text,
    timestamp timestamptz not null,
    received_at timestamptz not null,
    properties jsonb not null default '{}',
    secret bytea not null,
    primary key (workspace_id, message_id)
  )`,
  `create index events_profile_time on events (workspace_id, profile_id, timestamp desc, message_id desc)`,
  `create table profile_merges (
    workspace_id text not null,
    id bigint generated always as identity,
    from_profile uuid not null,
    into_profile uuid not null,
    reason text not null,
    message_id text,
    created_at timestamptz not null,
    primary key (workspace_id, id)
  )`,
];

