/**
 * Trained models: a binary classifier per question (churn, purchase
 * propensity, campaign response, a trait or a segment) and the workspace's
 * recommender. The definition is what the user asked for; the artefact is
 * the last trained model, kept so scores can be refreshed without training
 * again; the report holds its hold-out figures.
 */
export const models: readonly string[] = [
  `create table analytics_models (
    workspace_id text not null,
    id text not null,
    name text not null,
    kind text not null,
    definition jsonb not null,
    status text not null,
    artefact jsonb,
    report jsonb,
    error text,
    created_at timestamptz not null,
    trained_at timestamptz,
    scored_at timestamptz,
    primary key (workspace_id, id),
    unique (workspace_id, name)
  )`,
];
