/**
 * Staff accounts, their sessions, custom roles, and roles on API tokens
 * (privacy/access.ts holds the built-in roles). Passwords are argon2id
 * hashes; sessions and tokens are stored as sha-256 of the secret, which is
 * shown once and never kept.
 */
export const access: readonly string[] = [
  `create table users (
    workspace_id text not null references workspaces(id),
    id uuid not null,
    email text not null,
    name text not null default '',
    password_hash text not null,
    role text not null,
    status text not null default 'active' check (status in ('active', 'disabled')),
    failed_logins integer not null default 0,
    locked_until timestamptz,
    last_login_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, id),
    unique (workspace_id, email)
  )`,
  `create table sessions (
    token_hash bytea primary key,
    workspace_id text not null,
    user_id uuid not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    last_seen_at timestamptz not null default now(),
    foreign key (workspace_id, user_id) references users (workspace_id, id) on delete cascade
  )`,
  `create index sessions_user on sessions (workspace_id, user_id)`,
  `create table roles (
    workspace_id text not null references workspaces(id),
    name text not null,
    description text not null default '',
    permissions text[] not null,
    unmasked text[] not null default '{}',
    scope jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, name)
  )`,
  // Until now a token was either admin or read-only; the role says which from here on,
  // and scopes narrow a token below its role (empty: the whole role).
  `alter table api_tokens alter column scopes set default '{}'`,
  `alter table api_tokens add column role text not null default 'admin'`,
  `alter table api_tokens add column expires_at timestamptz`,
  `alter table api_tokens add column created_by text`,
  `alter table api_tokens add column last_used_at timestamptz`,
  `update api_tokens set role = case when 'admin' = any(scopes) then 'admin' else 'analyst' end, scopes = '{}'`,
];
