import type { Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { BUILT_IN_ROLES, builtInRole, validateRole, type MaskableClass, type Permission, type ProfileScope, type Role, type RoleInput, type RoleIssue } from './access.js';

type Db = Kysely<Schema>;

function fromRow(row: { name: string; description: string; permissions: string[]; unmasked: string[]; scope: unknown }): Role {
  return {
    name: row.name,
    description: row.description,
    builtIn: false,
    permissions: row.permissions as Permission[],
    unmasked: row.unmasked as MaskableClass[],
    scope: (row.scope ?? null) as ProfileScope | null,
  };
}

/** A role by name: built-in, else the workspace's custom role; null when there is none. */
export async function findRole(db: Db, workspaceId: string, name: string): Promise<Role | null> {
  const builtIn = builtInRole(name);
  if (builtIn) return builtIn;
  const row = await db.selectFrom('roles').select(['name', 'description', 'permissions', 'unmasked', 'scope']).where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst();
  return row ? fromRow(row) : null;
}

export async function listRoles(db: Db, workspaceId: string): Promise<Role[]> {
  const rows = await db.selectFrom('roles').select(['name', 'description', 'permissions', 'unmasked', 'scope']).where('workspace_id', '=', workspaceId).orderBy('name').execute();
  return [...BUILT_IN_ROLES, ...rows.map(fromRow)];
}

export type RoleChange = { ok: true; role: Role; created: boolean } | { ok: false; issues: RoleIssue[] };

/** Create or replace a custom role. */
export async function putRole(db: Db, workspaceId: string, input: RoleInput): Promise<RoleChange> {
  const issues = validateRole(input);
  if (issues.length > 0) return { ok: false, issues };
  const values = {
    description: input.description ?? '',
    permissions: [...new Set(input.permissions)],
    unmasked: [...new Set(input.unmasked ?? [])],
    scope: input.scope === undefined || input.scope === null ? null : JSON.stringify(input.scope),
  };
  const existed = await db.selectFrom('roles').select('name').where('workspace_id', '=', workspaceId).where('name', '=', input.name).executeTakeFirst();
  await db
    .insertInto('roles')
    .values({ workspace_id: workspaceId, name: input.name, ...values })
    .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ ...values, updated_at: new Date() }))
    .execute();
  const role = await findRole(db, workspaceId, input.name);
  return { ok: true, role: role!, created: !existed };
}

export type RoleRemoval = 'removed' | 'missing' | 'built-in' | { inUseBy: number };

/** Remove a custom role that no user or token holds: a holder would be left with no role at all. */
export async function removeRole(db: Db, workspaceId: string, name: string): Promise<RoleRemoval> {
  if (builtInRole(name)) return 'built-in';
  return db.transaction().execute(async (tx) => {
    const users = await tx.selectFrom('users').select((eb) => eb.fn.countAll<string | number>().as('n')).where('workspace_id', '=', workspaceId).where('role', '=', name).executeTakeFirstOrThrow();
    const tokens = await tx.selectFrom('api_tokens').select((eb) => eb.fn.countAll<string | number>().as('n')).where('workspace_id', '=', workspaceId).where('role', '=', name).executeTakeFirstOrThrow();
    const holders = Number(users.n) + Number(tokens.n);
    if (holders > 0) return { inUseBy: holders };
    const gone = await tx.deleteFrom('roles').where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst();
    return Number(gone.numDeletedRows) > 0 ? 'removed' : 'missing';
  });
}
