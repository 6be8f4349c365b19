import { describe, expect, it } from 'vitest';
import { makeStorable } from './storable-text.js';

describe('makeStorable', () => {
  it('leaves clean data untouched', () => {
    const input = { a: '张伟 😀', b: [1, 'x', { c: null }] };
    expect(makeStorable(input)).toEqual({ value: input, repaired: [] });
  });
  it('removes NUL and replaces lone surrogates, in keys and values, naming each path', () => {
    const result = makeStorable({ event: 'E\u0000', properties: { ['k\u0000']: 'v', list: ['ok', '\ud800x'] } });
    expect(result.value).toEqual({ event: 'E', properties: { k: 'v', list: ['ok', '\ufffdx'] } });
    expect(result.repaired).toEqual(['event', 'properties.k', 'properties.list[1]']);
  });
});
