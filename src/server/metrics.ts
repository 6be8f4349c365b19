import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app, so tests can build many apps in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'custodian_' });
  return {
    registry,
    accepted: new Counter({ name: 'custodian_messages_accepted_total', help: 'messages written to the event log', labelNames: ['type'], registers: [registry] }),
    duplicates: new Counter({ name: 'custodian_messages_duplicate_total', help: 'messages already in the log (retries), accepted but not stored again', registers: [registry] }),
    rejected: new Counter({ name: 'custodian_messages_rejected_total', help: 'messages refused, by reason', labelNames: ['reason'], registers: [registry] }),
    junkIds: new Counter({ name: 'custodian_identifiers_rejected_total', help: 'junk identifiers ignored on accepted messages, by field', labelNames: ['field'], registers: [registry] }),
    processed: new Counter({ name: 'custodian_pipeline_processed_total', help: 'messages run through the pipeline', registers: [registry] }),
    deadLetters: new Counter({ name: 'custodian_pipeline_dead_letter_total', help: 'messages set aside after failing on their own repeatedly (event_log.error says why)', registers: [registry] }),
    merges: new Counter({ name: 'custodian_profile_merges_total', help: 'profiles merged by the identity graph', registers: [registry] }),
    batchSeconds: new Histogram({ name: 'custodian_pipeline_batch_seconds', help: 'time to process one pipeline batch', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
    pending: new Gauge({ name: 'custodian_event_log_pending', help: 'messages in the event log not yet processed', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** What an ingest path reports after each request or group: the counters every path shares. */
export interface IngestCounts {
  types: readonly string[];
  duplicates: number;
  junkFields: readonly string[];
  rejected: readonly string[];
}

export function countIngest(metrics: Metrics, { types, duplicates, junkFields, rejected }: IngestCounts): void {
  for (const type of types) metrics.accepted.inc({ type });
  if (duplicates) metrics.duplicates.inc(duplicates);
  for (const field of junkFields) metrics.junkIds.inc({ field });
  for (const reason of rejected) metrics.rejected.inc({ reason });
}
