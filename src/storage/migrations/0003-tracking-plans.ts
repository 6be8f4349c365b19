/**
 * Tracking plans: per source, the events and properties it may send; and the
 * violations seen, counted per (event, property, kind). Violations hold names
 * and counts, never property values: those may be personal data.
 */
export const trackingPlans: readonly string[] = [
  `create table tracking_plans (
    workspace_id text not null,
    source_id text not null,
    plan jsonb not null,
    updated_at timestamptz not null default now(),
    primary key (workspace_id, source_id),
    foreign key (workspace_id, source_id) references sources (workspace_id, id) on delete cascade
  )`,
  // property '' stands for "none" (an undeclared event): key columns cannot be null.
  `create table tracking_plan_violations (
    workspace_id text not null,
    source_id text not null,
    event text not null,
    property text not null,
    kind text not null,
    count bigint not null,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    example_message_id text not null,
    primary key (workspace_id, source_id, event, property, kind)
  )`,
];
