/**
 * Consent-link revocation, erasure of messages that never reached `events`,
 * and DSAR audit entries written after the work commits.
 */
export const privacyGaps: readonly string[] = [
  // A signed link carries the generation of its profile at signing; revoking
  // bumps it, so every link signed before stops working. No row: generation 0.
  `create table consent_link_generations (
    workspace_id text not null,
    profile_id uuid not null,
    generation integer not null check (generation > 0),
    revoked_at timestamptz not null,
    primary key (workspace_id, profile_id)
  )`,
  // An erasure reads a workspace's dead letters (decrypting each): without this it would scan the whole log.
  `create index event_log_dead on event_log (workspace_id, seq) where error is not null`,
  // Done, with its audit entry still to write: set in the request's own transaction, cleared in the one that appends the entry.
  `alter table dsar_requests add column audit_pending boolean not null default false`,
  `create index dsar_requests_audit_pending on dsar_requests (workspace_id) where audit_pending`,
];
