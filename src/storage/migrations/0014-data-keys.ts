/**
 * Envelope encryption (privacy/data-keys.ts): the data keys, each wrapped by
 * the master key or a KMS. Keyed by key_id alone, not workspace first like the
 * big tables: a ciphertext's header names its key id and nothing else, and the
 * table holds a few rows per workspace, read whole when a process opens.
 * Rows are kept after a key is destroyed (wrapped set to null), so the key's
 * history and the ids still in old backups stay explainable.
 */
export const dataKeys: readonly string[] = [
  `create table data_keys (
    key_id integer primary key check (key_id >= 0),
    workspace_id text,
    purpose text not null check (purpose in ('data', 'index')),
    wrapped bytea,
    wrapped_by text not null,
    created_at timestamptz not null default now(),
    active_from timestamptz not null,
    retired_at timestamptz,
    destroyed_at timestamptz,
    check ((wrapped is null) = (destroyed_at is not null)),
    check (purpose = 'data' or (workspace_id is null and retired_at is null))
  )`,
  `create index data_keys_workspace on data_keys (workspace_id, active_from)`,
];
