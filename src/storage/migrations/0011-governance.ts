/**
 * Governance: what each field is for and who answers for it, and how long
 * data is kept. Retention policies name an event type or a trait and a number
 * of days; each scheduled run is logged with what it removed.
 */
export const governance: readonly string[] = [
  `create table retention_policies (
    workspace_id text not null,
    id text not null,
    kind text not null check (kind in ('event', 'trait')),
    name text not null,
    days integer not null check (days > 0),
    action text not null check (action in ('delete', 'anonymize')),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (workspace_id, id),
    unique (workspace_id, kind, name)
  )`,
  `create table retention_runs (
    workspace_id text not null,
    id text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    results jsonb not null default '[]',
    error text,
    primary key (workspace_id, id)
  )`,
  `create index retention_runs_recent on retention_runs (workspace_id, started_at desc)`,
  `create table field_governance (
    workspace_id text not null,
    field text not null,
    owner text,
    purpose text,
    quality_rule text,
    updated_at timestamptz not null,
    primary key (workspace_id, field)
  )`,
];
