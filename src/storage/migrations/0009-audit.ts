/**
 * The audit log (privacy/audit-log.ts): one hash chain per workspace, and its
 * head kept beside it so a truncated tail, which a chain alone cannot show, is
 * detected too. Entries carry ids and field names, never personal data.
 */
export const audit: readonly string[] = [
  `create table audit_log (
    workspace_id text not null,
    seq bigint not null,
    at timestamptz not null,
    actor text not null,
    action text not null,
    profile_id uuid,
    target text,
    details jsonb not null default '{}',
    prev_hash bytea not null,
    hash bytea not null,
    primary key (workspace_id, seq)
  )`,
  // The API's filters, each newest first by seq (its keyset).
  `create index audit_log_actor on audit_log (workspace_id, actor, seq)`,
  `create index audit_log_action on audit_log (workspace_id, action, seq)`,
  `create index audit_log_profile on audit_log (workspace_id, profile_id, seq) where profile_id is not null`,
  `create index audit_log_at on audit_log (workspace_id, at)`,
  `create table audit_heads (
    workspace_id text primary key,
    seq bigint not null,
    hash bytea not null,
    updated_at timestamptz not null
  )`,
];
