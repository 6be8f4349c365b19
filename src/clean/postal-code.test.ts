import { describe, expect, it } from 'vitest';
import { standardizePostalCode } from './postal-code.js';

describe('standardizePostalCode', () => {
  it.each([
    ['200120', 'CN', '200120', []],
    [' 518057 ', 'CN', '518057', ['postal_code.trim']],
    ['１００００１', 'CN', '100001', ['postal_code.trim']],
    [200120, 'CN', '200120', []],
    ['62704', 'US', '62704', []],
    ['62704-1234', 'US', '62704-1234', []],
    ['2138', 'US', '02138', ['postal_code.leading_zero']],
    [2138, 'US', '02138', ['postal_code.leading_zero']],
    ['sw1a 1aa', undefined, 'SW1A 1AA', ['postal_code.trim']],
    ['75008', undefined, '75008', []],
    ['10115', 'DE', '10115', []],
  ])('%s (%s) → %s', (raw, country, value, rules) => {
    expect(standardizePostalCode(raw, country)).toEqual({ ok: true, value, rules, flags: [] });
  });

  it.each([
    ['20012', 'CN', 'postal_code.invalid'],
    ['2001200', 'CN', 'postal_code.invalid'],
    ['6270', 'CN', 'postal_code.invalid'],
    ['627045', 'US', 'postal_code.invalid'],
    ['ABCDE', 'US', 'postal_code.invalid'],
    ['12345678901234', undefined, 'postal_code.invalid'],
    ['#123', undefined, 'postal_code.invalid'],
    ['   ', undefined, 'postal_code.empty'],
    [{}, undefined, 'postal_code.invalid'],
  ])('%s (%s) → %s', (raw, country, issue) => {
    const result = standardizePostalCode(raw, country);
    expect(result.ok ? 'ok' : result.issue).toBe(issue);
  });
});
