/**
 * Consent: an append-only ledger of every consent given or withdrawn, per
 * profile and purpose, and the current state derived from it. The state is a
 * table, not a view over the ledger, so segment conditions and activation
 * read one row per (profile, purpose) by key however long the history grows.
 * The purposes and legal bases are closed sets (docs/consent.md); the checks
 * keep a bug from writing a purpose no rule or page knows about.
 */
export const consent: readonly string[] = [
  `create table consent_events (
    workspace_id text not null,
    id uuid not null,
    profile_id uuid not null,
    purpose text not null check (purpose in ('email_marketing', 'sms_marketing', 'personalization', 'analytics', 'third_party_sharing')),
    granted boolean not null,
    legal_basis text not null check (legal_basis in ('consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests')),
    source text not null,
    text_version text,
    at timestamptz not null,
    recorded_at timestamptz not null,
    message_id text,
    details jsonb not null default '{}',
    primary key (workspace_id, id)
  )`,
  `create index consent_events_profile on consent_events (workspace_id, profile_id, at)`,
  // One message records each purpose once, however often the pipeline replays it.
  `create unique index consent_events_message on consent_events (workspace_id, message_id, purpose) where message_id is not null`,
  `create table profile_consents (
    workspace_id text not null,
    profile_id uuid not null,
    purpose text not null,
    granted boolean not null,
    legal_basis text not null,
    source text not null,
    text_version text,
    at timestamptz not null,
    event_id uuid not null,
    updated_at timestamptz not null,
    primary key (workspace_id, profile_id, purpose)
  )`,
  // Activation asks "who of the workspace may be emailed": by purpose, not by profile.
  `create index profile_consents_purpose on profile_consents (workspace_id, purpose, granted)`,
];
