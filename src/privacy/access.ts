import { classifyField, type FieldClass } from './field-catalog.js';

/**
 * What a caller may do. Every management route names exactly one of these
 * (server/access-hook.ts refuses to start a route that does not), so the
 * table below is the whole access policy.
 */
export const PERMISSIONS = [
  'profiles.read', // one profile at a time: by id or by one exact identifier
  'profiles.list', // many people at once: segment members, match reviews, conflicts
  'profiles.export', // every profile, in bulk
  'profiles.write', // consent on someone's behalf, merges, splits, tagging people
  'segments.read',
  'segments.write',
  'campaigns.read', // campaigns, their reports, coupon pools and segment syncs
  'campaigns.write', // create, launch and pause campaigns; coupon pools, segment syncs
  'analytics.read', // aggregates: RFM, CLV, models, KPIs, quality, reports
  'analytics.run',
  'data.import', // files and demo data
  'settings.read', // sources, tracking plans, cleaning and identity settings, field catalog
  'settings.write',
  'audit.read',
  'dsar.manage',
  'access.manage', // users, roles, tokens
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Field classes a role can see in the clear; behavioral fields are always shown. */
export const MASKABLE_CLASSES = ['identifier', 'quasi'] as const satisfies readonly FieldClass[];
export type MaskableClass = (typeof MASKABLE_CLASSES)[number];

/**
 * A trait-only rule that limits the profiles a role may see (ABAC): staff of
 * one region see that region's customers. Trait conditions only, so the check
 * per request is one indexed row read, not an event scan.
 */
export type ProfileScope =
  | { all: ProfileScope[] }
  | { any: ProfileScope[] }
  | { not: ProfileScope }
  | { trait: string; op: 'eq' | 'neq' | 'in' | 'not_in' | 'exists' | 'missing'; value?: string | number | boolean | Array<string | number> };

export interface Role {
  name: string;
  description: string;
  builtIn: boolean;
  permissions: readonly Permission[];
  unmasked: readonly MaskableClass[];
  scope: ProfileScope | null;
}

const READ_CONFIG: Permission[] = ['settings.read'];

export const BUILT_IN_ROLES: readonly Role[] = [
  { name: 'admin', description: 'everything, personal data in the clear', builtIn: true, permissions: [...PERMISSIONS], unmasked: ['identifier', 'quasi'], scope: null },
  {
    name: 'analyst',
    description: 'aggregates, segments and models; identifiers masked',
    builtIn: true,
    permissions: ['profiles.read', 'profiles.list', 'segments.read', 'segments.write', 'campaigns.read', 'analytics.read', 'analytics.run', ...READ_CONFIG],
    unmasked: ['quasi'],
    scope: null,
  },
  {
    name: 'marketer',
    description: 'segments and campaigns; identifiers masked',
    builtIn: true,
    permissions: ['profiles.read', 'profiles.list', 'segments.read', 'segments.write', 'campaigns.read', 'campaigns.write', 'analytics.read'],
    unmasked: ['quasi'],
    scope: null,
  },
  {
    name: 'support',
    description: 'one customer at a time, by id or exact identifier, in the clear; every view audited',
    builtIn: true,
    permissions: ['profiles.read', 'profiles.write'],
    unmasked: ['identifier', 'quasi'],
    scope: null,
  },
  { name: 'auditor', description: 'the audit log and the field catalog, read-only', builtIn: true, permissions: ['audit.read', ...READ_CONFIG], unmasked: [], scope: null },
];

const BUILT_IN = new Map(BUILT_IN_ROLES.map((r) => [r.name, r]));

export function builtInRole(name: string): Role | undefined {
  return BUILT_IN.get(name);
}

/** A role with a profile scope may only act on single profiles: anything wider would show people outside it. */
export const SCOPED_PERMISSIONS: readonly Permission[] = ['profiles.read', 'profiles.write'];

export interface RoleIssue {
  field: string;
  message: string;
}

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const SCOPE_OPS = new Set(['eq', 'neq', 'in', 'not_in', 'exists', 'missing']);

function scopeIssues(scope: unknown, at: string, depth: number, issues: RoleIssue[]): void {
  if (depth > 6) {
    issues.push({ field: at, message: 'the scope nests deeper than 6 levels' });
    return;
  }
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) {
    issues.push({ field: at, message: 'a scope is an object: {trait, op, value}, {all: [...]}, {any: [...]} or {not: ...}' });
    return;
  }
  const node = scope as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (key in node) {
      const list = node[key];
      if (!Array.isArray(list) || list.length === 0) issues.push({ field: `${at}.${key}`, message: 'a non-empty list of scope conditions is expected' });
      else list.forEach((inner, i) => scopeIssues(inner, `${at}.${key}.${i}`, depth + 1, issues));
      return;
    }
  }
  if ('not' in node) return scopeIssues(node.not, `${at}.not`, depth + 1, issues);
  if (typeof node.trait !== 'string' || node.trait.length === 0) {
    issues.push({ field: `${at}.trait`, message: 'a scope condition names a trait (only trait conditions can scope a role)' });
    return;
  }
  // Identifiers are encrypted, so a scope could not be checked against them; address.city is plain, address.street is not.
  const parts = node.trait.split('.');
  if (classifyField(parts[parts.length - 1]!) === 'identifier' || (parts.length > 1 && classifyField(parts[0]!) === 'identifier' && !/^address$/i.test(parts[0]!))) {
    issues.push({ field: `${at}.trait`, message: `${node.trait} is an identifier, kept encrypted: scope on a plaintext trait such as region, city or store` });
    return;
  }
  if (typeof node.op !== 'string' || !SCOPE_OPS.has(node.op)) {
    issues.push({ field: `${at}.op`, message: `the operator must be one of ${[...SCOPE_OPS].join(', ')}` });
    return;
  }
  const list = node.op === 'in' || node.op === 'not_in';
  const none = node.op === 'exists' || node.op === 'missing';
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (none && node.value !== undefined) issues.push({ field: `${at}.value`, message: `${node.op} takes no value` });
  if (list && !(Array.isArray(node.value) && node.value.length > 0 && node.value.every((v) => typeof v === 'string' || typeof v === 'number'))) {
    issues.push({ field: `${at}.value`, message: `${node.op} needs a non-empty list of strings or numbers` });
  }
  if (!none && !list && !scalar(node.value)) issues.push({ field: `${at}.value`, message: `${node.op} needs one string, number or boolean` });
}

export interface RoleInput {
  name: string;
  description?: string;
  permissions: readonly string[];
  unmasked?: readonly string[];
  scope?: unknown;
}

/** Check a custom role; returns its issues, each naming the field. */
export function validateRole(input: RoleInput): RoleIssue[] {
  const issues: RoleIssue[] = [];
  if (!ROLE_NAME.test(input.name)) issues.push({ field: 'name', message: 'a role name is 1–40 lower-case letters, digits, - or _, starting with a letter' });
  else if (BUILT_IN.has(input.name)) issues.push({ field: 'name', message: `${input.name} is a built-in role and cannot be redefined` });
  const known = new Set<string>(PERMISSIONS);
  input.permissions.forEach((p, i) => {
    if (!known.has(p)) issues.push({ field: `permissions.${i}`, message: `unknown permission ${p}; the permissions are ${PERMISSIONS.join(', ')}` });
  });
  const classes = new Set<string>(MASKABLE_CLASSES);
  (input.unmasked ?? []).forEach((c, i) => {
    if (!classes.has(c)) issues.push({ field: `unmasked.${i}`, message: `unknown field class ${c}; it is one of ${MASKABLE_CLASSES.join(', ')} (behavioral fields are never masked)` });
  });
  if (input.scope !== undefined && input.scope !== null) {
    scopeIssues(input.scope, 'scope', 0, issues);
    input.permissions.forEach((p, i) => {
      if (known.has(p) && !SCOPED_PERMISSIONS.includes(p as Permission)) {
        issues.push({ field: `permissions.${i}`, message: `a role with a scope may hold only ${SCOPED_PERMISSIONS.join(' and ')}: ${p} would show people outside the scope` });
      }
    });
  }
  return issues;
}

/** The role a caller acts with: its role, narrowed by the token's scopes when it has some. */
export function narrowRole(role: Role, scopes: readonly string[]): Role {
  if (scopes.length === 0) return role;
  const allowed = new Set(scopes);
  return { ...role, permissions: role.permissions.filter((p) => allowed.has(p)) };
}

export function can(role: Role, permission: Permission): boolean {
  return role.permissions.includes(permission);
}


/** Does a profile's trait set fall inside a scope? Values compare as strings, case-insensitively, like segment trait conditions on text. */
export function inScope(scope: ProfileScope, traits: Record<string, unknown>): boolean {
  if ('all' in scope) return scope.all.every((s) => inScope(s, traits));
  if ('any' in scope) return scope.any.some((s) => inScope(s, traits));
  if ('not' in scope) return !inScope(scope.not, traits);
  const held = traitValue(traits, scope.trait);
  const present = held !== undefined && held !== null && held !== '';
  const norm = (v: unknown) => String(v).trim().toLowerCase();
  switch (scope.op) {
    case 'exists':
      return present;
    case 'missing':
      return !present;
    case 'eq':
      return present && norm(held) === norm(scope.value);
    case 'neq':
      return !present || norm(held) !== norm(scope.value);
    case 'in':
      return present && (Array.isArray(scope.value) ? scope.value : []).some((v) => norm(v) === norm(held));
    case 'not_in':
      return !present || !(Array.isArray(scope.value) ? scope.value : []).some((v) => norm(v) === norm(held));
  }
}

// Dotted paths reach into objects (address.city), as segment trait conditions do.
function traitValue(traits: Record<string, unknown>, path: string): unknown {
  let at: unknown = traits;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}
