/**
 * Identity resolution: where each trait came from (survivorship), what every
 * merge moved (so it can be undone), the conflicts the identity limits
 * stopped, the matcher's fitted model, its runs, the review queue and the
 * pairs people said are different.
 */
export const identity: readonly string[] = [
  // Per trait key: {s: source, m: messageId, t: message time (ISO), r: rule, d: derived, n: value counts for the
  // "most frequent" rule}. Source and message ids only: no personal data in the clear.
  `alter table profiles add column provenance jsonb not null default '{}'`,
  `alter table profile_merges add column moved_identities bytea[] not null default '{}'`,
  `alter table profile_merges add column score double precision`,
  `alter table profile_merges add column detail jsonb`,
  `alter table profile_merges add column actor text`,
  `alter table profile_merges add column undone_at timestamptz`,
  `create index profile_merges_into on profile_merges (workspace_id, into_profile)`,
  `create index profile_merges_from on profile_merges (workspace_id, from_profile)`,
  `create table identity_conflicts (
    workspace_id text not null,
    id bigint generated always as identity,
    message_id text not null,
    type text not null,
    value_index bytea not null,
    reason text not null,
    limit_type text,
    profiles uuid[] not null,
    created_at timestamptz not null,
    primary key (workspace_id, id)
  )`,
  // Encrypted: its term-frequency tables hold the workspace's most common names.
  `create table identity_models (
    workspace_id text primary key,
    model bytea not null,
    records integer not null,
    fitted_at timestamptz not null
  )`,
  `create table identity_runs (
    workspace_id text not null,
    id bigint generated always as identity,
    status text not null,
    full_run boolean not null,
    stage text,
    done bigint not null default 0,
    total bigint not null default 0,
    counts jsonb not null default '{}',
    error text,
    started_at timestamptz not null,
    finished_at timestamptz,
    primary key (workspace_id, id)
  )`,
  `create table identity_reviews (
    workspace_id text not null,
    id bigint generated always as identity,
    profile_a uuid not null,
    profile_b uuid not null,
    probability double precision not null,
    weight double precision not null,
    status text not null,
    created_at timestamptz not null,
    decided_at timestamptz,
    decided_by text,
    primary key (workspace_id, id)
  )`,
  `create unique index identity_reviews_pair on identity_reviews (workspace_id, profile_a, profile_b)`,
  // Pairs that must not be merged automatically: a rejected review, the two sides of a split.
  `create table identity_exclusions (
    workspace_id text not null,
    profile_a uuid not null,
    profile_b uuid not null,
    reason text not null,
    created_at timestamptz not null,
    primary key (workspace_id, profile_a, profile_b)
  )`,
];
