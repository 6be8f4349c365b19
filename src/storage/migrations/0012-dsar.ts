/**
 * Data-subject requests (GDPR Art. 15–18, CCPA, PIPL) and what they leave
 * behind. A request names its person by identifier type and blind index
 * only: the request log outlives the erasure it records, so it must not
 * become the one place the plaintext survives. Suppressions hold blind
 * indexes only, for the same reason, and stop an erased person being
 * recreated by later events or imports (worker/pipeline.ts checks them).
 */
export const dsar: readonly string[] = [
  `create table dsar_requests (
    workspace_id text not null,
    id uuid not null,
    type text not null check (type in ('access', 'erase', 'rectify', 'restrict')),
    status text not null check (status in ('received', 'in_progress', 'done', 'rejected')),
    identifier_type text not null,
    identifier_index bytea not null,
    profile_ids text[] not null default '{}',
    received_at timestamptz not null,
    due_at timestamptz not null,
    completed_at timestamptz,
    verification jsonb,
    result jsonb,
    error text,
    created_by text,
    primary key (workspace_id, id)
  )`,
  // The queue view: open requests by how soon they are due.
  `create index dsar_requests_due on dsar_requests (workspace_id, status, due_at)`,
  `create table suppressions (
    workspace_id text not null,
    type text not null,
    value_index bytea not null,
    created_at timestamptz not null,
    request_id uuid,
    hits bigint not null default 0,
    last_hit_at timestamptz,
    primary key (workspace_id, type, value_index)
  )`,
  // Art. 18: kept, but not to be used for segments, exports or campaigns until lifted.
  `create table restricted_profiles (
    workspace_id text not null,
    profile_id uuid not null,
    request_id uuid not null,
    created_at timestamptz not null,
    primary key (workspace_id, profile_id)
  )`,
];
