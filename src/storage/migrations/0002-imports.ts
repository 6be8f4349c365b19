/** File imports: one row per import with its counts, and the rows it refused. */
export const imports: readonly string[] = [
  `create table imports (
    workspace_id text not null,
    id uuid not null,
    source_id text not null,
    kind text not null,
    format text not null,
    filename text,
    encoding text,
    status text not null,
    rows integer not null default 0,
    imported integer not null default 0,
    duplicates integer not null default 0,
    rejected integer not null default 0,
    warnings jsonb not null default '[]',
    error text,
    started_at timestamptz not null,
    finished_at timestamptz,
    primary key (workspace_id, id)
  )`,
  `create index imports_recent on imports (workspace_id, started_at desc)`,
  `create table import_rejects (
    workspace_id text not null,
    import_id uuid not null,
    line integer not null,
    column_name text not null,
    reason text not null,
    primary key (workspace_id, import_id, line, column_name)
  )`,
];
