import { describe, expect, it } from 'vitest';
import { keysOfStandardField, STANDARD_FIELDS } from '../clean/traits.js';
import { classifyField, joinClasses, splitByClass } from './field-catalog.js';

// What cleaning recognises as a phone or a name must be sealed at rest under every spelling.
const IDENTIFIER_FIELDS = new Set(['email', 'phone', 'name', 'firstName', 'lastName', 'address', 'nationalId']);
const NOT_CLASSED = new Set(['createdAt']);
const cleaningKeys = STANDARD_FIELDS.filter((f) => !NOT_CLASSED.has(f)).flatMap((field) => keysOfStandardField(field).map((key) => [key, field, IDENTIFIER_FIELDS.has(field) ? 'identifier' : 'quasi'] as const));

describe('field catalog', () => {
  it.each([
    ['email', 'identifier'], ['Phone', 'identifier'], ['first_name', 'identifier'], ['lastName', 'identifier'],
    ['name', 'identifier'], ['national_id', 'identifier'], ['city', 'quasi'], ['gender', 'quasi'],
    ['birthday', 'quasi'], ['plan', 'behavioral'], ['revenue', 'behavioral'],
  ])('%s is %s', (key, cls) => expect(classifyField(key)).toBe(cls));

  it.each(cleaningKeys)('cleaning key %s (%s) is %s', (key, _field, cls) => expect(classifyField(key)).toBe(cls));

  it('splits identifiers out, keeping an address’s city in the clear, and joins back', () => {
    const traits = { email: 'a@b.co', plan: 'pro', address: { street: '1 Main St', city: 'Paris' } };
    const split = splitByClass(traits);
    expect(split.plain).toEqual({ plan: 'pro', address: { city: 'Paris' } });
    expect(split.secret).toEqual({ email: 'a@b.co', address: { street: '1 Main St' } });
    expect(joinClasses(split.plain, split.secret)).toEqual(traits);
  });

  it('has no secret when there are no identifiers', () => {
    expect(splitByClass({ plan: 'pro' }).secret).toBeNull();
  });
});
