/**
 * Cleaning: per-source cleaning settings, each message's lineage (what the
 * standardizers changed, refused or derived), and the data-quality tables the
 * pipeline keeps as it goes, so a quality report is a few aggregates rather
 * than a scan of every profile.
 */
export const cleaning: readonly string[] = [
  `alter table sources add column settings jsonb not null default '{}'`,
  // Which traits cleaning derived (a country from a phone…): on a merge a value a source gave beats them.
  `alter table profiles add column derived_traits text[] not null default '{}'`,
  // One row per message that had anything changed, refused, flagged or
  // derived; the originals are personal data, so the detail is encrypted and
  // only field names and rule/issue ids stay in the clear.
  `create table field_lineage (
    workspace_id text not null,
    message_id text not null,
    profile_id uuid,
    source_id text not null,
    fields text[] not null,
    codes text[] not null,
    detail bytea not null,
    at timestamptz not null,
    primary key (workspace_id, message_id)
  )`,
  `create index field_lineage_profile on field_lineage (workspace_id, profile_id)`,
  // The latest value each source gave each profile for each standard field,
  // as a blind index: completeness, validity, uniqueness, consistency and
  // freshness per field and source without decrypting anything. One row per
  // (profile, source), the fields in a map ({"email": ["<index hex>", <unix
  // seconds>], "phone": [null, …]} for a refused one): a row per field made the
  // pipeline twice as slow.
  `create table field_observations (
    workspace_id text not null,
    profile_id uuid not null,
    source_id text not null,
    fields jsonb not null,
    seen_at timestamptz not null,
    primary key (workspace_id, profile_id, source_id)
  )`,
  // Daily counters per source and field for the anomaly audit. field '*':
  // every message; '#traits': messages that carried traits.
  `create table quality_daily (
    workspace_id text not null,
    source_id text not null,
    field text not null,
    day date not null,
    seen bigint not null default 0,
    invalid bigint not null default 0,
    changed bigint not null default 0,
    primary key (workspace_id, source_id, field, day)
  )`,
  `create table quality_issues (
    workspace_id text not null,
    source_id text not null,
    field text not null,
    code text not null,
    severity text not null,
    count bigint not null default 0,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    examples bytea,
    primary key (workspace_id, source_id, field, code)
  )`,
  `create table quality_alerts (
    workspace_id text not null,
    id text not null,
    source_id text not null,
    field text not null,
    kind text not null,
    day date not null,
    value double precision not null,
    median double precision not null,
    mad double precision not null,
    score double precision not null,
    direction text not null,
    created_at timestamptz not null default now(),
    primary key (workspace_id, id),
    unique (workspace_id, source_id, field, kind, day)
  )`,
];
