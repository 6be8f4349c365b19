import { describe, expect, it } from 'vitest';
import { createJunkIdFilter } from './junk-ids.js';

describe('junk identifiers', () => {
  const filter = createJunkIdFilter(['test-user', ' Guest ']);
  it.each(['', '  ', 'null', 'NULL', 'undefined', 'anonymous', 'Anonymous', '0', '-1', '[object Object]', 'test-user', 'guest'])(
    '%j is junk',
    (value) => expect(filter.isJunk(value)).toBe(true),
  );
  it.each(['u1', '00', '10', 'anon-1', 'null-user', 'zhang@qq.com'])('%j is a real identifier', (value) => {
    expect(filter.isJunk(value)).toBe(false);
  });
});
