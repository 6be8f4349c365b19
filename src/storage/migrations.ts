import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { spine } from './migrations/0001-spine.js';
import { imports } from './migrations/0002-imports.js';
import { trackingPlans } from './migrations/0003-tracking-plans.js';
import { webhookMappings } from './migrations/0004-webhook-mappings.js';
import { cleaning } from './migrations/0005-cleaning.js';
import { identity } from './migrations/0006-identity.js';
import { segments } from './migrations/0007-segments.js';
import { models } from './migrations/0008-models.js';
import { audit } from './migrations/0009-audit.js';
import { consent } from './migrations/0010-consent.js';
import { governance } from './migrations/0011-governance.js';
import { dsar } from './migrations/0012-dsar.js';
import { access } from './migrations/0013-access.js';
import { dataKeys } from './migrations/0014-data-keys.js';
import { privacyGaps } from './migrations/0015-privacy-gaps.js';
import { activation } from './migrations/0016-activation.js';

/**
 * Migrations live in code so the built binary carries them; each is a list of
 * plain SQL statements (PGlite runs one statement per query) that PGlite and
 * PostgreSQL 15+ both run unchanged. Every big table leads its key with
 * workspace_id so it can be distributed (Citus) without a schema change.
 * A new migration is a file in migrations/ and one line here, in order.
 */
const ordered: ReadonlyArray<[name: string, statements: readonly string[]]> = [
  ['0001_spine', spine],
  ['0002_imports', imports],
  ['0003_tracking_plans', trackingPlans],
  ['0004_webhook_mappings', webhookMappings],
  ['0005_cleaning', cleaning],
  ['0006_identity', identity],
  ['0007_segments', segments],
  ['0008_models', models],
  ['0009_audit', audit],
  ['0010_consent', consent],
  ['0011_governance', governance],
  ['0012_dsar', dsar],
  ['0013_access', access],
  ['0014_data_keys', dataKeys],
  ['0015_privacy_gaps', privacyGaps],
  ['0016_activation', activation],
];

function fromStatements(statements: readonly string[]): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const statement of statements) await sql.raw(statement).execute(db);
    },
  };
}

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return Object.fromEntries(ordered.map(([name, statements]) => [name, fromStatements(statements)]));
  },
};
