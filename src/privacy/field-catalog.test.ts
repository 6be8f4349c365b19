import { describe, expect, it } from 'vitest';
import { classifyField, joinClasses, splitByClass } from './field-catalog.js';

describe('field catalog', () => {
  it.each([
    ['email', 'identifier'], ['Phone', 'identifier'], ['first_name', 'identifier'], ['lastName', 'identifier'],
    ['name', 'identifier'], ['national_id', 'identifier'], ['city', 'quasi'], ['gender', 'quasi'],
    ['birthday', 'quasi'], ['plan', 'behavioral'], ['revenue', 'behavioral'],
  ])('%s is %s', (key, cls) => expect(classifyField(key)).toBe(cls));

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
