import { describe, expect, it } from 'vitest';
import { lockSeconds } from './accounts.js';
import { builtInRole, inScope, narrowRole, validateRole, type ProfileScope } from './access.js';

describe('validateRole', () => {
  it('accepts a scoped single-profile role and names the field of each mistake', () => {
    expect(validateRole({ name: 'east-desk', permissions: ['profiles.read'], unmasked: ['identifier'], scope: { trait: 'address.city', op: 'in', value: ['上海', '杭州'] } })).toEqual([]);
    const fields = (input: Parameters<typeof validateRole>[0]) => validateRole(input).map((i) => i.field);
    expect(fields({ name: 'x', permissions: ['profiles.fly'] })).toEqual(['permissions.0']);
    expect(fields({ name: 'x', permissions: [], unmasked: ['behavioral'] })).toEqual(['unmasked.0']);
    expect(fields({ name: 'support', permissions: [] })).toEqual(['name']);
    expect(fields({ name: '9lives', permissions: [] })).toEqual(['name']);
    for (const trait of ['email', 'address.street', 'address', 'name.first']) {
      expect(fields({ name: 'x', permissions: ['profiles.read'], scope: { trait, op: 'exists' } }), trait).toEqual(['scope.trait']);
    }
    expect(fields({ name: 'x', permissions: ['profiles.read'], scope: { all: [{ trait: 'region', op: 'eq' }] } })).toEqual(['scope.all.0.value']);
    expect(fields({ name: 'x', permissions: ['profiles.read'], scope: { any: [] } })).toEqual(['scope.any']);
    expect(fields({ name: 'x', permissions: ['profiles.read', 'analytics.read'], scope: { trait: 'region', op: 'eq', value: '华东' } })).toEqual(['permissions.1']);
  });
});

describe('inScope', () => {
  const east: ProfileScope = { trait: 'region', op: 'eq', value: '华东' };
  it('compares text case-insensitively and trimmed, reaches into objects, and combines', () => {
    expect(inScope(east, { region: ' 华东 ' })).toBe(true);
    expect(inScope(east, { region: '华北' })).toBe(false);
    expect(inScope(east, {})).toBe(false);
    expect(inScope({ trait: 'address.city', op: 'in', value: ['Shanghai'] }, { address: { city: 'SHANGHAI' } })).toBe(true);
    expect(inScope({ not: east }, {})).toBe(true);
    expect(inScope({ trait: 'region', op: 'neq', value: '华东' }, {})).toBe(true);
    expect(inScope({ trait: 'region', op: 'missing' }, { region: '' })).toBe(true);
    expect(inScope({ any: [east, { trait: 'vip', op: 'eq', value: true }] }, { vip: true })).toBe(true);
    expect(inScope({ all: [east, { trait: 'vip', op: 'eq', value: true }] }, { region: '华东' })).toBe(false);
  });
});

describe('roles and lock-out', () => {
  it('narrows a role by token scopes, never widens it', () => {
    const analyst = builtInRole('analyst')!;
    expect(narrowRole(analyst, []).permissions).toEqual(analyst.permissions);
    expect(narrowRole(analyst, ['segments.read', 'access.manage']).permissions).toEqual(['segments.read']);
  });

  it('locks from the fifth failure, doubling from a minute to at most an hour', () => {
    expect([4, 5, 6, 7, 11, 12, 40].map(lockSeconds)).toEqual([0, 60, 120, 240, 3600, 3600, 3600]);
  });
});
