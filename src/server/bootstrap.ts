import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../storage/database.js';
import { generateSecret, secretHash } from '../privacy/accounts.js';

export interface BootstrapResult {
  /** false when the database already had its workspace */
  created: boolean;
  /** secrets given in the environment that this (older) database does not know: they were set after the first start */
  ignored?: Array<'CUSTODIAN_WRITE_KEY' | 'CUSTODIAN_ADMIN_TOKEN'>;
  /** the secrets, only when this call created them */
  writeKey?: string;
  adminToken?: string;
  /** where generated secrets were written */
  file?: string;
}

export interface BootstrapInput {
  writeKey?: string;
  adminToken?: string;
  /** where to write generated secrets (bootstrap.json); null: do not write */
  dataDir: string | null;
}

/**
 * First start on an empty database: workspace `default`, source `default` and
 * an admin token. Secrets from the environment are used as given; generated
 * ones are written to <data>/bootstrap.json (0600) since they are shown once.
 */
export async function bootstrap(database: Database, input: BootstrapInput): Promise<BootstrapResult> {
  return database.db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('workspaces')
      .values({ id: 'default', name: 'Default workspace', settings: '{}' })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    if (inserted.length === 0) {
      const ignored: NonNullable<BootstrapResult['ignored']> = [];
      if (input.writeKey && !(await tx.selectFrom('sources').select('id').where('write_key_hash', '=', secretHash(input.writeKey)).executeTakeFirst())) {
        ignored.push('CUSTODIAN_WRITE_KEY');
      }
      if (input.adminToken && !(await tx.selectFrom('api_tokens').select('id').where('token_hash', '=', secretHash(input.adminToken)).executeTakeFirst())) {
        ignored.push('CUSTODIAN_ADMIN_TOKEN');
      }
      return { created: false, ...(ignored.length > 0 ? { ignored } : {}) };
    }
    const writeKey = input.writeKey ?? generateSecret('wk');
    const adminToken = input.adminToken ?? generateSecret('ct');
    await tx.insertInto('sources').values({ workspace_id: 'default', id: 'default', name: 'default', write_key_hash: secretHash(writeKey) }).execute();
    await tx.insertInto('api_tokens').values({ workspace_id: 'default', id: 'admin', name: 'admin', token_hash: secretHash(adminToken), role: 'admin', created_by: 'bootstrap' }).execute();
    let file: string | undefined;
    const generated = { ...(input.writeKey ? {} : { writeKey }), ...(input.adminToken ? {} : { adminToken }) };
    if (input.dataDir && Object.keys(generated).length > 0) {
      file = join(input.dataDir, 'bootstrap.json');
      writeFileSync(file, JSON.stringify({ workspace: 'default', source: 'default', ...generated }, null, 2) + '\n', { mode: 0o600 });
    }
    return { created: true, writeKey, adminToken, ...(file ? { file } : {}) };
  });
}
