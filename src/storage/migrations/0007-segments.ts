/**
 * Segments, tags and scores: the saved rules, who is in each (kept current by
 * the pipeline), every entry and exit (activation reads them in order), the
 * computed per-profile scores (RFM, cluster, later CLV and churn risk), and
 * the analytics runs that computed them.
 */
export const segments: readonly string[] = [
  // Rules compare trait values that may be of any JSON type; these read a number or an instant or nothing, never an error,
  // so one odd value cannot fail a whole segment refresh.
  // Numbers beyond ±1e150 are not read as numbers: float8 sums and averages square them on the way and would
  // overflow; no customer figure is that large. Text without a zone is UTC, whatever the session's zone.
  `create function custodian_numeric(v jsonb) returns numeric language sql immutable as $$
    select case jsonb_typeof(v)
      when 'number' then (v)::numeric
      when 'string' then case when (v #>> '{}') ~ '^\\s*-?[0-9]{1,40}(\\.[0-9]{1,40})?([eE][-+]?[0-9]{1,3})?\\s*$' then (v #>> '{}')::numeric end
    end $$`,
  // Plain SQL (no exception block) so the planner inlines it: it runs on every event of a sum.
  `create function custodian_number(v jsonb) returns double precision language sql immutable as $$
    select case
      when abs(custodian_numeric(v)) > 1e150 then null
      when abs(custodian_numeric(v)) < 1e-300 then 0
      else custodian_numeric(v)::double precision
    end $$`,
  `create function custodian_time(v jsonb) returns timestamptz language plpgsql stable as $$
    declare t text;
    begin
      if jsonb_typeof(v) <> 'string' then return null; end if;
      t := v #>> '{}';
      if t !~ '^\\d{4}-\\d{2}-\\d{2}' then return null; end if;
      if t ~ '(Z|z|[+-]\\d{2}(:?\\d{2})?)$' and length(t) > 10 then return t::timestamptz; end if;
      return t::timestamp at time zone 'UTC';
    exception when others then return null;
    end $$`,
  `create table segments (
    workspace_id text not null,
    id text not null,
    name text not null,
    description text,
    rule jsonb not null,
    depends_on text[] not null default '{}',
    time_relative boolean not null default false,
    size integer not null default 0,
    refreshed_at timestamptz,
    refresh_ms integer,
    created_by text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (workspace_id, id)
  )`,
  `create unique index segments_name on segments (workspace_id, lower(name))`,
  `create table segment_members (
    workspace_id text not null,
    segment_id text not null,
    profile_id uuid not null,
    entered_at timestamptz not null,
    primary key (workspace_id, segment_id, profile_id)
  )`,
  `create index segment_members_profile on segment_members (workspace_id, profile_id)`,
  // kind: segment | tag; change: enter | exit (a tag whose value changes exits the old value and enters the new one).
  `create table membership_changes (
    workspace_id text not null,
    id bigint generated always as identity,
    kind text not null,
    set_id text not null,
    profile_id uuid not null,
    change text not null,
    value text,
    cause text not null,
    at timestamptz not null,
    primary key (workspace_id, id)
  )`,
  `create index membership_changes_profile on membership_changes (workspace_id, profile_id)`,
  `create index membership_changes_set on membership_changes (workspace_id, set_id, id)`,
  // kind: manual (people add and remove) | rule (a segment rule) | cases (first matching rule gives the value) | top (most frequent event property)
  `create table tags (
    workspace_id text not null,
    id text not null,
    name text not null,
    kind text not null,
    definition jsonb,
    depends_on text[] not null default '{}',
    time_relative boolean not null default false,
    refreshed_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (workspace_id, id)
  )`,
  `create unique index tags_name on tags (workspace_id, lower(name))`,
  `create table profile_tags (
    workspace_id text not null,
    tag_id text not null,
    profile_id uuid not null,
    value text not null default '',
    added_at timestamptz not null,
    added_by text,
    primary key (workspace_id, tag_id, profile_id)
  )`,
  `create index profile_tags_profile on profile_tags (workspace_id, profile_id)`,
  // value for numeric scores, label for named ones (rfm_segment: Champions); both for a cluster (index and name).
  `create table profile_scores (
    workspace_id text not null,
    profile_id uuid not null,
    name text not null,
    value double precision,
    label text,
    computed_at timestamptz not null,
    primary key (workspace_id, profile_id, name)
  )`,
  `create index profile_scores_name on profile_scores (workspace_id, name, label)`,
  `create table analytics_runs (
    workspace_id text not null,
    id text not null,
    kind text not null,
    status text not null,
    params jsonb not null,
    progress jsonb not null default '{}',
    result jsonb,
    error text,
    started_at timestamptz not null,
    finished_at timestamptz,
    primary key (workspace_id, id)
  )`,
  `create index analytics_runs_recent on analytics_runs (workspace_id, kind, started_at desc)`,
  // Event conditions ask "who did X since T": by name and time, with the profile in the index so no table visit is needed.
  `create index events_name_time on events (workspace_id, event, timestamp) include (profile_id)`,
  // Trait equality compiles to containment (traits @> {"city":"上海市"}), which this index answers.
  `create index profiles_traits on profiles using gin (traits jsonb_path_ops)`,
];
