/** Webhook mappings: per source, how an arbitrary JSON body becomes Segment messages, and the secret that may post it. */
export const webhookMappings: readonly string[] = [
  `create table webhook_mappings (
    workspace_id text not null,
    source_id text not null,
    mapping jsonb not null,
    secret_hash bytea unique,
    secret_enc bytea,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, source_id),
    foreign key (workspace_id, source_id) references sources (workspace_id, id) on delete cascade
  )`,
  `create index webhook_mappings_source on webhook_mappings (source_id)`,
];
